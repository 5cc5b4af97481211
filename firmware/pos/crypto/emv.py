# EMV key derivation and cryptogram helpers (EMV 4.4 Book 2, Annex A1).
from pos.crypto.args import CryptoError, as_bytes, ascii_digits
from pos.crypto.des import des_encrypt, mac_iso9797_1


# ---------------------------------------------------------------------------
# EMV cryptography (EMV 4.4 Book 2, Annex A1)
# ---------------------------------------------------------------------------
def _odd_parity(key):
    out = bytearray(key)
    for i in range(len(out)):
        b = out[i] & 0xFE
        ones = 0
        v = b
        while v:
            ones += v & 1
            v >>= 1
        out[i] = b | (0 if ones % 2 else 1)
    return bytes(out)


def _bcd(digits):
    out = bytearray(len(digits) // 2)
    for i in range(len(out)):
        out[i] = ((digits[2 * i] - 48) << 4) | (digits[2 * i + 1] - 48)
    return out


def emv_derive_icc_mk(imk, pan, psn=b"00"):
    """ICC master key, option A (A1.4.1): Y = rightmost 16 digits of PAN || PSN."""
    if len(as_bytes(imk, "imk")) != 16:
        raise CryptoError("issuer master key must be 16 bytes")
    pan = ascii_digits(pan, "PAN")
    psn = ascii_digits(psn or b"00", "PSN")
    if len(psn) != 2:
        raise CryptoError("PSN must be 2 digits")
    y = pan + psn
    y = (b"0" * (16 - len(y)) + y) if len(y) < 16 else y[-16:]
    y = _bcd(y)
    zl = des_encrypt(imk, y)
    for i in range(8):
        y[i] ^= 0xFF
    zr = des_encrypt(imk, y)
    return _odd_parity(zl + zr)


def emv_session_key(mk, atc):
    """Common session key derivation (A1.3) from the 2-byte ATC; DES odd parity set."""
    if len(as_bytes(mk, "mk")) != 16:
        raise CryptoError("master key must be 16 bytes")
    atc = as_bytes(atc, "atc")
    if len(atc) != 2:
        raise CryptoError("ATC must be 2 bytes")
    left = bytes(atc) + b"\xf0" + bytes(5)
    right = bytes(atc) + b"\x0f" + bytes(5)
    return _odd_parity(des_encrypt(mk, left) + des_encrypt(mk, right))


def emv_mac(key, data):
    return mac_iso9797_1(key, data, 3, 2)


def emv_arpc1(key, arqc, arc):
    """ARPC method 1 (A1.2.1): 3DES(SK, ARQC XOR (ARC || 00..00))."""
    arqc = as_bytes(arqc, "arqc")
    arc = as_bytes(arc, "arc")
    if len(arqc) != 8 or len(arc) != 2:
        raise CryptoError("ARQC must be 8 bytes and ARC 2 bytes")
    x = bytearray(arqc)
    x[0] ^= arc[0]
    x[1] ^= arc[1]
    return des_encrypt(key, x)


def emv_arpc2(key, arqc, csu, prop_auth_data=b""):
    """ARPC method 2 (A1.2.2): leftmost 4 bytes of MAC(SK, ARQC || CSU || PAD)."""
    arqc = as_bytes(arqc, "arqc")
    csu = as_bytes(csu, "csu")
    if len(arqc) != 8 or len(csu) != 4:
        raise CryptoError("ARQC must be 8 bytes and CSU 4 bytes")
    if len(prop_auth_data) > 8:
        raise CryptoError("proprietary authentication data is at most 8 bytes")
    return mac_iso9797_1(key, bytes(arqc) + bytes(csu) + bytes(prop_auth_data), 3, 2)[:4]


