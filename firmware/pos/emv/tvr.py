# Terminal Verification Results (95) and Transaction Status Information (9B).
# Bit positions from EMV 4.4 Book 3 Annex C5 (TVR) and C6 (TSI).  A bit is
# named by one int: byte_index << 8 | mask, byte_index counting from 0.
from micropython import const

# TVR byte 1: offline data authentication
ODA_NOT_PERFORMED = const(0 << 8 | 0x80)
SDA_FAILED = const(0 << 8 | 0x40)
ICC_DATA_MISSING = const(0 << 8 | 0x20)
CARD_ON_EXCEPTION_FILE = const(0 << 8 | 0x10)
DDA_FAILED = const(0 << 8 | 0x08)
CDA_FAILED = const(0 << 8 | 0x04)
SDA_SELECTED = const(0 << 8 | 0x02)
# TVR byte 2: processing restrictions
VERSIONS_DIFFER = const(1 << 8 | 0x80)
EXPIRED_APPLICATION = const(1 << 8 | 0x40)
NOT_YET_EFFECTIVE = const(1 << 8 | 0x20)
SERVICE_NOT_ALLOWED = const(1 << 8 | 0x10)
NEW_CARD = const(1 << 8 | 0x08)
# TVR byte 3: cardholder verification
CV_NOT_SUCCESSFUL = const(2 << 8 | 0x80)
UNRECOGNISED_CVM = const(2 << 8 | 0x40)
PIN_TRY_LIMIT_EXCEEDED = const(2 << 8 | 0x20)
PIN_PAD_MISSING = const(2 << 8 | 0x10)
PIN_NOT_ENTERED = const(2 << 8 | 0x08)
ONLINE_PIN_ENTERED = const(2 << 8 | 0x04)
# TVR byte 4: terminal risk management
FLOOR_LIMIT_EXCEEDED = const(3 << 8 | 0x80)
LOWER_OFFLINE_LIMIT_EXCEEDED = const(3 << 8 | 0x40)
UPPER_OFFLINE_LIMIT_EXCEEDED = const(3 << 8 | 0x20)
RANDOMLY_SELECTED_ONLINE = const(3 << 8 | 0x10)
MERCHANT_FORCED_ONLINE = const(3 << 8 | 0x08)
# TVR byte 5: issuer authentication and scripts
DEFAULT_TDOL_USED = const(4 << 8 | 0x80)
ISSUER_AUTH_FAILED = const(4 << 8 | 0x40)
SCRIPT_FAILED_BEFORE_FINAL_AC = const(4 << 8 | 0x20)
SCRIPT_FAILED_AFTER_FINAL_AC = const(4 << 8 | 0x10)

# TSI byte 1
TSI_ODA_PERFORMED = const(0 << 8 | 0x80)
TSI_CV_PERFORMED = const(0 << 8 | 0x40)
TSI_CARD_RISK_MANAGEMENT = const(0 << 8 | 0x20)
TSI_ISSUER_AUTH_PERFORMED = const(0 << 8 | 0x10)
TSI_TERMINAL_RISK_MANAGEMENT = const(0 << 8 | 0x08)
TSI_SCRIPT_PROCESSING = const(0 << 8 | 0x04)

TVR_LEN = const(5)
TSI_LEN = const(2)


class Bits:
    """A small fixed-size bit field (TVR or TSI) that names its bits."""

    def __init__(self, n):
        self.b = bytearray(n)

    def set(self, bit):
        self.b[bit >> 8] |= bit & 0xFF

    def clear(self, bit):
        self.b[bit >> 8] &= ~bit & 0xFF

    def test(self, bit):
        return bool(self.b[bit >> 8] & bit & 0xFF)

    def matches(self, mask):
        """True when any set bit is also set in `mask` (Book 3 10.7 TAC/IAC test)."""
        for i in range(len(self.b)):
            if self.b[i] & mask[i]:
                return True
        return False

    def bytes(self):
        return bytes(self.b)

    def hex(self):
        return bytes(self.b).hex().upper()
