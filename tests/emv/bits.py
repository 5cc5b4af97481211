"""TVR/TSI bit names for assertions (EMV 4.4 Book 3 Annex C5/C6), independent of the firmware's table."""
ODA_NOT_PERFORMED = (0, 0x80)
SDA_FAILED = (0, 0x40)
ICC_DATA_MISSING = (0, 0x20)
DDA_FAILED = (0, 0x08)
CDA_FAILED = (0, 0x04)
SDA_SELECTED = (0, 0x02)
VERSIONS_DIFFER = (1, 0x80)
EXPIRED = (1, 0x40)
NOT_EFFECTIVE = (1, 0x20)
SERVICE_NOT_ALLOWED = (1, 0x10)
NEW_CARD = (1, 0x08)
CV_FAILED = (2, 0x80)
UNRECOGNISED_CVM = (2, 0x40)
PIN_LIMIT = (2, 0x20)
PIN_PAD_MISSING = (2, 0x10)
PIN_NOT_ENTERED = (2, 0x08)
ONLINE_PIN = (2, 0x04)
FLOOR_LIMIT = (3, 0x80)
LOWER_LIMIT = (3, 0x40)
UPPER_LIMIT = (3, 0x20)
RANDOM_ONLINE = (3, 0x10)
FORCED_ONLINE = (3, 0x08)
ISSUER_AUTH_FAILED = (4, 0x40)
SCRIPT_FAILED_BEFORE = (4, 0x20)
SCRIPT_FAILED_AFTER = (4, 0x10)

TSI_ODA = (0, 0x80)
TSI_CVM = (0, 0x40)
TSI_CRM = (0, 0x20)
TSI_ISSUER_AUTH = (0, 0x10)
TSI_TRM = (0, 0x08)
TSI_SCRIPT = (0, 0x04)


def tvr(result, bit):
    return bool(bytes.fromhex(result.outcome["tvr"])[bit[0]] & bit[1])


def tsi(result, bit):
    return bool(bytes.fromhex(result.outcome["tsi"])[bit[0]] & bit[1])


def tvr_set(result):
    """Names of the TVR bits that are set."""
    return {n for n, v in globals().items() if n.isupper() and not n.startswith("TSI") and tvr(result, v)}
