"""The C core (native/) on CPython through cffi: the API of docs/crypto-api.md.

Bad input raises NativeError (a ValueError) naming the C status, e.g.
``NativeError: PN_ERR_KEY_LENGTH: des_encrypt: key must be 8, 16 or 24 bytes``.
"""
from posnative._native import ffi, lib

__all__ = ["NativeError", "des_encrypt", "des_decrypt", "des_cbc_encrypt", "des_cbc_decrypt",
           "aes_encrypt", "aes_decrypt", "aes_cbc_encrypt", "aes_cbc_decrypt", "aes_cmac",
           "mac_iso9797_1", "pinblock_build", "pinblock_parse", "emv_derive_icc_mk",
           "emv_session_key", "emv_mac", "emv_arpc1", "emv_arpc2", "rsa_public", "sha1", "sha256",
           "crc16_ccitt_false", "luhn_valid", "luhn_digit", "tlv_iter", "tlv_find", "tlv_encode",
           "dol_parse", "dol_build", "pinblock4_encipher", "pinblock4_decipher", "tlv_find_path", "qr_encode"]


class NativeError(ValueError):
    def __init__(self, status, what):
        self.status = ffi.string(lib.pn_status_name(status)).decode()
        super().__init__("%s: %s" % (self.status, what))


def _b(v, what="data"):
    if isinstance(v, str):
        v = v.encode()
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise NativeError(lib.PN_ERR_ARG if hasattr(lib, "PN_ERR_ARG") else -7, "%s must be bytes" % what)
    return bytes(v)


def _check(rc, what):
    if rc < 0:
        raise NativeError(rc, what)
    return rc


def _cipher(fn, key, data, decrypt, what, iv=None, ivlen=0):
    key, data = _b(key, "key"), _b(data)
    out = ffi.new("uint8_t[]", max(len(data), 1))
    if iv is not None:
        iv = _b(iv, "iv")
        if len(iv) != ivlen:
            raise NativeError(-9, "%s: iv must be %d bytes" % (what, ivlen))
        rc = fn(key, len(key), decrypt, iv, data, len(data), out)
    else:
        rc = fn(key, len(key), decrypt, data, len(data), out)
    _check(rc, what)
    return bytes(ffi.buffer(out, len(data)))


def des_encrypt(key, data):
    return _cipher(lib.pn_des_ecb, key, data, 0, "des_encrypt")


def des_decrypt(key, data):
    return _cipher(lib.pn_des_ecb, key, data, 1, "des_decrypt")


def des_cbc_encrypt(key, iv, data):
    return _cipher(lib.pn_des_cbc, key, data, 0, "des_cbc_encrypt", iv, 8)


def des_cbc_decrypt(key, iv, data):
    return _cipher(lib.pn_des_cbc, key, data, 1, "des_cbc_decrypt", iv, 8)


def aes_encrypt(key, data):
    return _cipher(lib.pn_aes_ecb, key, data, 0, "aes_encrypt")


def aes_decrypt(key, data):
    return _cipher(lib.pn_aes_ecb, key, data, 1, "aes_decrypt")


def aes_cbc_encrypt(key, iv, data):
    return _cipher(lib.pn_aes_cbc, key, data, 0, "aes_cbc_encrypt", iv, 16)


def aes_cbc_decrypt(key, iv, data):
    return _cipher(lib.pn_aes_cbc, key, data, 1, "aes_cbc_decrypt", iv, 16)


def aes_cmac(key, data):
    key, data = _b(key, "key"), _b(data)
    out = ffi.new("uint8_t[16]")
    _check(lib.pn_aes_cmac(key, len(key), data, len(data), out), "aes_cmac")
    return bytes(out)


def mac_iso9797_1(key, data, alg=1, pad=1):
    key, data = _b(key, "key"), _b(data)
    out = ffi.new("uint8_t[8]")
    _check(lib.pn_mac_iso9797_1(key, len(key), data, len(data), alg, pad, out), "mac_iso9797_1")
    return bytes(out)


def pinblock_build(fmt, pin, pan=b"", fill=b""):
    pin, pan, fill = _b(pin, "pin"), _b(pan, "pan"), _b(fill, "fill")
    out = ffi.new("uint8_t[8]")
    _check(lib.pn_pinblock_build(fmt, pin, len(pin), pan, len(pan), fill, len(fill), out), "pinblock_build")
    return bytes(out)


def pinblock_parse(fmt, block, pan=b""):
    block, pan = _b(block, "block"), _b(pan, "pan")
    if len(block) != 8:
        raise NativeError(-9, "pinblock_parse: block must be 8 bytes")
    out = ffi.new("uint8_t[12]")
    n = _check(lib.pn_pinblock_parse(fmt, block, pan, len(pan), out), "pinblock_parse")
    return bytes(ffi.buffer(out, n))


def pinblock4_encipher(key, pin, pan, fill):
    key, pin, pan, fill = _b(key, "key"), _b(pin, "pin"), _b(pan, "pan"), _b(fill, "fill")
    if len(fill) != 8:
        raise NativeError(-9, "pinblock4_encipher: format 4 needs 8 random fill bytes")
    out = ffi.new("uint8_t[16]")
    _check(lib.pn_pinblock4_encipher(key, len(key), pin, len(pin), pan, len(pan), fill, out), "pinblock4_encipher")
    return bytes(out)


def pinblock4_decipher(key, block, pan):
    key, block, pan = _b(key, "key"), _b(block, "block"), _b(pan, "pan")
    if len(block) != 16:
        raise NativeError(-9, "pinblock4_decipher: block must be 16 bytes")
    out = ffi.new("uint8_t[12]")
    n = _check(lib.pn_pinblock4_decipher(key, len(key), block, pan, len(pan), out), "pinblock4_decipher")
    return bytes(ffi.buffer(out, n))


def tlv_find_path(buf, path):
    buf = _b(buf, "buf")
    cbuf = ffi.from_buffer(buf)
    p = ffi.new("uint32_t[]", list(path))
    t = ffi.new("pn_tlv *")
    rc = lib.pn_tlv_find_path(cbuf, len(buf), p, len(path), t)
    if rc == -5:
        return None
    _check(rc, "tlv_find_path")
    start = int(ffi.cast("uintptr_t", t.value)) - int(ffi.cast("uintptr_t", cbuf))
    return buf[start:start + t.length]


def emv_derive_icc_mk(imk, pan, psn=b"00"):
    imk, pan, psn = _b(imk, "imk"), _b(pan, "pan"), _b(psn or b"00", "psn")
    if len(imk) != 16:
        raise NativeError(-8, "emv_derive_icc_mk: issuer master key must be 16 bytes")
    out = ffi.new("uint8_t[16]")
    _check(lib.pn_emv_icc_mk(imk, pan, len(pan), psn, len(psn), out), "emv_derive_icc_mk")
    return bytes(out)


def emv_session_key(mk, atc):
    mk, atc = _b(mk, "mk"), _b(atc, "atc")
    if len(mk) != 16 or len(atc) != 2:
        raise NativeError(-9, "emv_session_key: master key 16 bytes and ATC 2 bytes")
    out = ffi.new("uint8_t[16]")
    lib.pn_emv_session_key(mk, atc, out)
    return bytes(out)


def emv_mac(key, data):
    return mac_iso9797_1(key, data, 3, 2)


def emv_arpc1(key, arqc, arc):
    key, arqc, arc = _b(key, "key"), _b(arqc, "arqc"), _b(arc, "arc")
    if len(key) != 16 or len(arqc) != 8 or len(arc) != 2:
        raise NativeError(-9, "emv_arpc1: key 16, ARQC 8 and ARC 2 bytes")
    out = ffi.new("uint8_t[8]")
    lib.pn_emv_arpc1(key, arqc, arc, out)
    return bytes(out)


def emv_arpc2(key, arqc, csu, prop_auth_data=b""):
    key, arqc, csu, prop = _b(key, "key"), _b(arqc, "arqc"), _b(csu, "csu"), _b(prop_auth_data, "prop")
    if len(key) != 16 or len(arqc) != 8 or len(csu) != 4:
        raise NativeError(-9, "emv_arpc2: key 16, ARQC 8 and CSU 4 bytes")
    out = ffi.new("uint8_t[4]")
    _check(lib.pn_emv_arpc2(key, arqc, csu, prop, len(prop), out), "emv_arpc2")
    return bytes(out)


def rsa_public(modulus, exponent, data):
    m, e, d = _b(modulus, "modulus"), _b(exponent, "exponent"), _b(data)
    out = ffi.new("uint8_t[]", max(len(m), 1))
    _check(lib.pn_rsa_public(m, len(m), e, len(e), d, len(d), out), "rsa_public")
    return bytes(ffi.buffer(out, len(m)))


def sha1(data):
    data = _b(data)
    out = ffi.new("uint8_t[20]")
    lib.pn_sha1(data, len(data), out)
    return bytes(out)


def sha256(data):
    data = _b(data)
    out = ffi.new("uint8_t[32]")
    lib.pn_sha256(data, len(data), out)
    return bytes(out)


def crc16_ccitt_false(data):
    data = _b(data)
    return lib.pn_crc16_ccitt_false(data, len(data))


def luhn_valid(digits):
    d = _b(digits, "digits")
    rc = lib.pn_luhn_valid(d, len(d))
    _check(rc, "luhn_valid: digits only, at least 2")
    return rc == 1


def luhn_digit(digits):
    d = _b(digits, "digits")
    for c in range(10):
        if luhn_valid(d + bytes([48 + c])):
            return c
    raise NativeError(-7, "luhn_digit")


def tlv_iter(buf):
    """(tag, value_start, value_end, constructed) per top-level object."""
    buf = _b(buf, "buf")
    cbuf = ffi.from_buffer(buf)
    it = ffi.new("pn_tlv_iter *")
    t = ffi.new("pn_tlv *")
    lib.pn_tlv_iter_init(it, cbuf, len(buf))
    out = []
    base = int(ffi.cast("uintptr_t", cbuf))
    while True:
        rc = lib.pn_tlv_next(it, t)
        if rc == 0:
            return out
        _check(rc, "tlv_iter")
        start = int(ffi.cast("uintptr_t", t.value)) - base
        out.append((t.tag, start, start + t.length, bool(t.constructed)))


def tlv_find(buf, tag):
    buf = _b(buf, "buf")
    cbuf = ffi.from_buffer(buf)
    t = ffi.new("pn_tlv *")
    rc = lib.pn_tlv_find(cbuf, len(buf), tag, t)
    if rc == -5:
        return None
    _check(rc, "tlv_find")
    start = int(ffi.cast("uintptr_t", t.value)) - int(ffi.cast("uintptr_t", cbuf))
    return buf[start:start + t.length]


def tlv_encode(tag, value):
    value = _b(value, "value")
    out = ffi.new("uint8_t[]", len(value) + 8)
    n = _check(lib.pn_tlv_encode(tag, value, len(value), out, len(value) + 8), "tlv_encode")
    return bytes(ffi.buffer(out, n))


def dol_parse(dol):
    dol = _b(dol, "dol")
    pos = ffi.new("size_t *", 0)
    tag = ffi.new("uint32_t *")
    n = ffi.new("size_t *")
    out = []
    while True:
        rc = lib.pn_dol_next(dol, len(dol), pos, tag, n)
        if rc == 0:
            return out
        _check(rc, "dol_parse")
        out.append((tag[0], n[0]))


_FMT = {"n": 1, "cn": 2}


def dol_build(dol, source, formats=None):
    """Concatenated DOL data from {tag: bytes}; formats {tag: 'n'|'cn'|...} (default: the
    firmware's data dictionary, pos.emv.tags.FORMAT, when importable)."""
    if formats is None:
        formats = _firmware_formats()
    parts = []
    for tag, n in dol_parse(dol):
        v = source.get(tag)
        out = ffi.new("uint8_t[]", max(n, 1))
        if v is None:
            lib.pn_dol_fit(ffi.NULL, 0, 0, out, n)
        else:
            v = _b(v)
            lib.pn_dol_fit(v, len(v), _FMT.get(formats.get(tag, ""), 0), out, n)
        parts.append(bytes(ffi.buffer(out, n)))
    return b"".join(parts)


_formats = None


def _firmware_formats():
    global _formats
    if _formats is None:
        import os
        import runpy
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))), "firmware", "pos", "emv", "tags.py")
        try:
            _formats = runpy.run_path(path).get("FORMAT", {})
        except Exception:
            _formats = {}
    return _formats


def qr_encode(data, min_version=1):
    """QR Code of `data` (byte mode, level M, versions 1-10): (version, mask, penalty score,
    the modules as packed bits: bit y*size+x, least significant first)."""
    data = _b(data)
    out = ffi.new("uint8_t[]", lib.PN_QR_MAX_BYTES)
    version, mask, score = ffi.new("int *"), ffi.new("int *"), ffi.new("long *")
    n = _check(lib.pn_qr_encode(data, len(data), min_version, out, lib.PN_QR_MAX_BYTES, version, mask, score),
               "qr_encode: %d bytes do not fit a version-10 QR code at level M" % len(data))
    return version[0], mask[0], score[0], bytes(ffi.buffer(out, n))
