# Argument checks shared by every crypto family: one error class, one message per
# kind of bad input (docs/crypto-api.md "Bad input").


class CryptoError(ValueError):
    pass


def as_bytes(data, what="data"):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CryptoError("%s must be bytes, not %s" % (what, type(data).__name__))
    return data


def whole_blocks(data, size):
    data = as_bytes(data)
    if len(data) % size:
        raise CryptoError("data length %d is not a multiple of %d (pad it first)" % (len(data), size))
    return data


def check_iv(iv, n):
    iv = as_bytes(iv, "iv")
    if len(iv) != n:
        raise CryptoError("bad iv length %d (want %d)" % (len(iv), n))
    return iv


def ascii_digits(s, what):
    s = as_bytes(s, what)
    for c in s:
        if not 0x30 <= c <= 0x39:
            raise CryptoError("%s must be ASCII digits" % what)
    return bytes(s)
