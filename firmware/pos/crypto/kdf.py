# Keyed hashing and key derivation on SHA-256: HMAC (RFC 2104), HKDF (RFC 5869) and
# PBKDF2 (RFC 8018 5.2).  Pure MicroPython around hashlib's SHA-256 (C in every port);
# reached through pos.crypto like every other family.
#
#     from pos import crypto
#     tag = crypto.hmac_sha256(key, data)
#     dk = crypto.pbkdf2_hmac_sha256(pin, salt, 2000, 32)
import hashlib

from pos.crypto.args import CryptoError, as_bytes

_BLOCK = 64                  # SHA-256 block size (FIPS 180-4)


def _pads(key):
    key = bytes(as_bytes(key, "key"))
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    k = bytearray(_BLOCK)
    k[:len(key)] = key
    ipad = bytes(b ^ 0x36 for b in k)
    opad = bytes(b ^ 0x5C for b in k)
    return ipad, opad


def _hmac(ipad, opad, data):
    h = hashlib.sha256(ipad)
    h.update(data)
    o = hashlib.sha256(opad)
    o.update(h.digest())
    return o.digest()


def hmac_sha256(key, data):
    """HMAC-SHA256 (RFC 2104): 32 bytes."""
    ipad, opad = _pads(key)
    return _hmac(ipad, opad, bytes(as_bytes(data)))


def hkdf_sha256(ikm, salt, info, length):
    """HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes."""
    if not 0 < length <= 255 * 32:
        raise CryptoError("HKDF length %d out of range (1 to 8160)" % length)
    prk = hmac_sha256(salt or bytes(32), ikm)
    ipad, opad = _pads(prk)
    info = bytes(as_bytes(info, "info"))
    out = bytearray()
    t = b""
    i = 1
    while len(out) < length:
        t = _hmac(ipad, opad, t + info + bytes((i,)))
        out.extend(t)
        i += 1
    return bytes(out[:length])


def pbkdf2_hmac_sha256(password, salt, iterations, length=32):
    """PBKDF2 with HMAC-SHA256 as PRF (RFC 8018 5.2): `length` bytes."""
    if iterations < 1:
        raise CryptoError("PBKDF2 needs at least 1 iteration")
    if not 0 < length <= 1024:
        raise CryptoError("PBKDF2 length %d out of range (1 to 1024)" % length)
    ipad, opad = _pads(password)
    salt = bytes(as_bytes(salt, "salt"))
    out = bytearray()
    block = 1
    while len(out) < length:
        u = _hmac(ipad, opad, salt + block.to_bytes(4, "big"))
        acc = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = _hmac(ipad, opad, u)
            acc ^= int.from_bytes(u, "big")
        out.extend(acc.to_bytes(32, "big"))
        block += 1
    return bytes(out[:length])
