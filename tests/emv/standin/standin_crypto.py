# TEST stand-in for pos.crypto (RSA, SHA, PIN block format 0), used only when absent.
import hashlib


class CryptoError(ValueError):
    pass


def rsa_public(modulus, exponent, data):
    if len(data) != len(modulus):
        raise CryptoError("data length differs from modulus length")
    n = int.from_bytes(bytes(modulus), "big")
    m = int.from_bytes(bytes(data), "big")
    if m >= n:
        raise CryptoError("data not below modulus")
    return pow(m, int.from_bytes(bytes(exponent), "big"), n).to_bytes(len(modulus), "big")


def sha1(data):
    return hashlib.sha1(bytes(data)).digest()


def sha256(data):
    return hashlib.sha256(bytes(data)).digest()


def pinblock_build(fmt, pin, pan=b"", fill=b""):
    if fmt != 0:
        raise CryptoError("stand-in supports format 0 only")
    p = bytearray(b"\xff" * 8)
    h = "0%d%s" % (len(pin), pin.decode()) + "F" * (14 - len(pin))
    p = bytes.fromhex(h)
    digits = pan.decode()[:-1][-12:]
    q = bytes.fromhex("0000" + digits)
    return bytes(a ^ b for a, b in zip(p, q))


def des_encrypt(key, data):
    raise CryptoError("stand-in has no DES (wait for pos.crypto)")
