# RSA public operation, hashes, CRC-16 and Luhn.
try:
    import hashlib
except ImportError:          # pragma: no cover
    hashlib = None

from pos.crypto.args import CryptoError, as_bytes, ascii_digits


# ---------------------------------------------------------------------------
# RSA public operation and hashes
# ---------------------------------------------------------------------------
def rsa_public(modulus, exponent, data):
    modulus = as_bytes(modulus, "modulus")
    data = as_bytes(data)
    k = len(modulus)
    if not 1 <= k <= 256:
        raise CryptoError("modulus of %d bytes unsupported (1 to 256)" % k)
    if len(data) != k:
        raise CryptoError("data is %d bytes, modulus %d" % (len(data), k))
    # the names reused for the numbers: few names keep the interpreter's frame off the heap
    modulus = int.from_bytes(bytes(modulus), "big")
    exponent = int.from_bytes(bytes(as_bytes(exponent, "exponent")), "big")
    data = int.from_bytes(bytes(data), "big")
    if modulus < 3 or not modulus & 1:
        raise CryptoError("modulus is not an odd number > 2")
    if exponent < 1:
        raise CryptoError("exponent must be positive")
    if data >= modulus:
        raise CryptoError("data is not smaller than the modulus")
    return pow(data, exponent, modulus).to_bytes(k, "big")


def sha1(data):
    return hashlib.sha1(bytes(as_bytes(data))).digest()


def sha1_of(parts):
    """SHA-1 of the concatenation of `parts` (bytes-like; memoryview slices are hashed in
    place, nothing is joined)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(p)
    return h.digest()


def sha256(data):
    return hashlib.sha256(bytes(as_bytes(data))).digest()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def crc16_ccitt_false(data):
    crc = 0xFFFF
    for b in as_bytes(data):
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _luhn_sum(digits, double_first):
    total = 0
    dbl = double_first
    for i in range(len(digits) - 1, -1, -1):
        d = digits[i] - 48
        if dbl:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        dbl = not dbl
    return total


def luhn_valid(digits):
    digits = ascii_digits(digits, "digits")
    if len(digits) < 2:
        raise CryptoError("need at least 2 digits")
    return _luhn_sum(digits, False) % 10 == 0


def luhn_digit(digits):
    digits = ascii_digits(digits, "digits")
    if not digits:
        raise CryptoError("need at least 1 digit")
    return (10 - _luhn_sum(digits, True) % 10) % 10
