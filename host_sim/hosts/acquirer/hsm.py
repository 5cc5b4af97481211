"""HSM functions of the acquirer host simulator (TEST keys only).

Key exchange (working keys under the terminal master key), X9.19 MAC,
PIN block translate/verify (ISO 9564-1 format 0, Visa PVV), ARQC verify and
ARPC generate (EMV Book 2 Annex A1), all through pyemv, psec and cryptography.
"""
import json
import os
import warnings

from cryptography.utils import CryptographyDeprecationWarning

# psec/pyemv still use TDES from cryptography's main namespace; the simulator
# uses double-length TDES on purpose (that is what POS key management uses).
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)

from psec import des as pdes
from psec import pin as ppin
from psec import pinblock as ppb
from pyemv import ac as pac
from pyemv import kd as pkd
from pyemv import mac as pmac

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "test_keys.json")
with open(_DATA) as _f:
    _K = json.load(_f)

TEST_TMK = {k: bytes.fromhex(v) for k, v in _K["tmk"].items()}   # TEST
TEST_DEK = bytes.fromhex(_K["dek"])                               # TEST
TEST_PVK = bytes.fromhex(_K["pvk"])                               # TEST
TEST_IMK_AC = bytes.fromhex(_K["imk_ac"])                         # TEST
TEST_PAN_HASH_KEY = bytes.fromhex(_K["pan_hash"])                 # TEST


class HsmError(ValueError):
    pass


def kcv(key):
    """First 3 bytes of TDES(key, zeros) (ANSI X9.24)."""
    return pdes.generate_kcv(key, 3)


def wrap(kek, key):
    """(cryptogram, kcv): `key` enciphered under `kek` (TDES-ECB), with key's check value."""
    return pdes.encrypt_tdes_ecb(kek, key), kcv(key)


def unwrap(kek, cryptogram):
    return pdes.decrypt_tdes_ecb(kek, cryptogram)


def new_key():
    """A random double-length TDES key with odd parity."""
    return pdes.adjust_key_parity(os.urandom(16))


def mac_x919(key, data):
    return pmac.mac_iso9797_3(key[:8], key[8:], bytes(data), 1)


def mac_verify(key, data, mac):
    if mac_x919(key, data) != bytes(mac):
        raise HsmError("MAC verification failed")


def pin_from_block(tpk, pan, block):
    """Clear PIN from an ISO 9564-1 format 0 block enciphered under `tpk`."""
    clear = pdes.decrypt_tdes_ecb(tpk, bytes(block))
    try:
        return ppb.decode_pinblock_iso_0(clear, pan)
    except ValueError as e:
        raise HsmError("PIN block does not decode: %s" % e) from None


def pin_translate(tpk_in, zpk_out, pan, block):
    """PIN block translate TPK -> ZPK (format 0 to format 0), as an HSM's CA/CC command."""
    pin = pin_from_block(tpk_in, pan, block)
    return pdes.encrypt_tdes_ecb(zpk_out, ppb.encode_pinblock_iso_0(pin, pan))


def pan_token(pan, key=TEST_PAN_HASH_KEY):
    """Keyed hash of a PAN (hex HMAC-SHA256 under a key that stays in the HSM): the host's
    database matches cards by it and keeps only the masked PAN beside it (PCI DSS 3.4:
    a PAN at rest is unreadable; an unkeyed hash of a 16-digit PAN is brute-forced)."""
    import hashlib
    import hmac
    return hmac.new(key, pan.encode(), hashlib.sha256).hexdigest()


def pvv(pan, pin, pvki="1"):
    return ppin.generate_visa_pvv(TEST_PVK, pvki, pin, pan)


def pin_verify(tpk, pan, block, stored_pvv, pvki="1"):
    """The PIN in the block against the card's PVV.  The issuer's PINs are four digits (the
    Visa PVV takes four): a PIN of another length is simply wrong, never an HSM fault."""
    pin = pin_from_block(tpk, pan, block)
    if len(pin) != 4:
        return False
    return pvv(pan, pin, pvki) == stored_pvv


# ---------------------------------------------------------------- EMV
# ARQC input: the recommended minimum data set of EMV Book 2 8.1.1 in CDOL1
# order: 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36, then the IAD's CVR
# (CVN 10 style) or the whole IAD (CVN 18 style, common session key).
ARQC_TAGS = (0x9F02, 0x9F03, 0x9F1A, 0x95, 0x5F2A, 0x9A, 0x9C, 0x9F37, 0x82, 0x9F36)
DEFAULT_LEN = {0x9F02: 6, 0x9F03: 6, 0x9F1A: 2, 0x95: 5, 0x5F2A: 2, 0x9A: 3, 0x9C: 1, 0x9F37: 4,
               0x82: 2, 0x9F36: 2}


def cvn(iad):
    """(scheme family, cryptogram version) from the Issuer Application Data (9F10).

    Formats of the TEST cards (host_sim/cards): Visa-like  len|DKI|CVN|CVR(4)[...]  CVN 0x0A (10)
    or 0x12 (18); UnionPay-like the same layout with CVN 0x01; Mastercard-like (M/Chip)
    DKI|CVN|CVR(6)|DAC(2)|counters(8) with CVN 0x10 (16) or 0x11 (17)."""
    if len(iad) == 18 and iad[1] in (0x10, 0x11):
        return "mastercard", iad[1]
    if len(iad) >= 7:
        return ("unionpay" if iad[2] == 0x01 else "visa"), iad[2]
    return "visa", 0x12


def arqc_data(tags):
    out = bytearray()
    for t in ARQC_TAGS:
        out += tags.get(t, bytes(DEFAULT_LEN[t]))
    iad = tags.get(0x9F10, b"")
    fam, v = cvn(iad)
    if fam == "mastercard":
        out += iad[2:8]                        # CVR
        if v == 0x10:
            out += iad[10:18]                  # CVN 16 also covers the counters
    elif v in (0x0A, 0x01):
        out += iad[3:7]                        # Visa CVN 10 / UnionPay: the CVR
    else:
        out += iad                             # Visa CVN 18: the whole IAD
    return bytes(out)


def _session_key(imk, pan, psn, atc, iad):
    mk = pkd.derive_icc_mk_a(imk, pan, psn)
    fam, v = cvn(iad)
    if fam == "visa" and v == 0x0A:            # CVN 10 uses the ICC master key directly
        return mk, 1
    r = atc + b"\x00" * 6
    return pkd.derive_common_sk(mk, r), 2


def arqc_generate(imk, pan, psn, tags):
    """What a TEST card computes (tests and the card-side of demos)."""
    sk, pad = _session_key(imk, pan, psn, tags.get(0x9F36, b"\0\0"), tags.get(0x9F10, b""))
    return pac.generate_ac(sk, arqc_data(tags), pac.PaddingType.VISA if pad == 1 else pac.PaddingType.EMV)


# Card Status Update for ARPC method 2 (Visa CVN 18): byte 2 bit 8 = issuer approves
CSU_APPROVE = bytes.fromhex("00800000")


def arqc_verify_arpc(imk, pan, psn, tags, arc):
    """(ok, arpc): verify the ARQC (9F26) and make the ARPC for `arc` (2 ASCII bytes).
    Method 1 (CVN 10, 16, 17, UnionPay): 8-byte ARPC; issuer authentication data 91 is
    ARPC || ARC.  Method 2 (CVN 18): ARPC(4) || CSU(4), and 91 is that || ARC as the
    proprietary authentication data."""
    arqc = tags.get(0x9F26)
    if arqc is None:
        raise HsmError("no ARQC (9F26) in field 55")
    want = arqc_generate(imk, pan, psn, tags)
    iad = tags.get(0x9F10, b"")
    sk, _ = _session_key(imk, pan, psn, tags.get(0x9F36, b"\0\0"), iad)
    if want != arqc:
        return False, b""
    if cvn(iad) == ("visa", 0x12):
        return True, pac.generate_arpc_2(sk, arqc, CSU_APPROVE, arc) + CSU_APPROVE
    return True, pac.generate_arpc_1(sk, arqc, arc)
