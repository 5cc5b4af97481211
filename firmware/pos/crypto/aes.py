# AES (through the port's cryptolib), AES-CMAC and ISO 9564-1 format 4 PIN blocks.
import cryptolib

from pos.crypto.args import CryptoError, as_bytes, ascii_digits, check_iv, whole_blocks
from pos.crypto.pin import pin_digits


# ---------------------------------------------------------------------------
# AES through the port's cryptolib (FIPS 197 in C on every MicroPython port).
# ---------------------------------------------------------------------------
def _aes_key(key):
    key = as_bytes(key, "key")
    if len(key) not in (16, 24, 32):
        raise CryptoError("bad AES key length %d (want 16, 24 or 32)" % len(key))
    if len(key) == 24:
        # MicroPython's cryptolib implements AES-128 and AES-256 only
        raise CryptoError("AES-192 needs the _posnative module (cryptolib has AES-128/256 only)")
    return bytes(key)


def aes_encrypt(key, data):
    data = whole_blocks(data, 16)
    return bytes(cryptolib.aes(_aes_key(key), 1).encrypt(bytes(data))) if data else b""


def aes_decrypt(key, data):
    data = whole_blocks(data, 16)
    return bytes(cryptolib.aes(_aes_key(key), 1).decrypt(bytes(data))) if data else b""


def aes_cbc_encrypt(key, iv, data):
    data = whole_blocks(data, 16)
    iv = bytes(check_iv(iv, 16))
    return bytes(cryptolib.aes(_aes_key(key), 2, iv).encrypt(bytes(data))) if data else b""


def aes_cbc_decrypt(key, iv, data):
    data = whole_blocks(data, 16)
    iv = bytes(check_iv(iv, 16))
    return bytes(cryptolib.aes(_aes_key(key), 2, iv).decrypt(bytes(data))) if data else b""



def _dbl(block):
    # doubling in GF(2^128) (SP 800-38B subkey generation)
    out = bytearray(16)
    carry = 0
    for i in range(15, -1, -1):
        b = block[i]
        out[i] = ((b << 1) | carry) & 0xFF
        carry = b >> 7
    if block[0] & 0x80:
        out[15] ^= 0x87
    return out


def aes_cmac(key, data):
    key = _aes_key(key)
    data = as_bytes(data)
    ecb = cryptolib.aes(key, 1)
    l = ecb.encrypt(bytes(16))
    k1 = _dbl(l)
    k2 = _dbl(k1)
    n = len(data)
    if n and n % 16 == 0:
        last = bytearray(data[n - 16:])
        for i in range(16):
            last[i] ^= k1[i]
        head = n - 16
    else:
        head = n - (n % 16)
        last = bytearray(16)
        rem = data[head:]
        last[:len(rem)] = rem
        last[len(rem)] = 0x80
        for i in range(16):
            last[i] ^= k2[i]
    chain = bytearray(16)
    for o in range(0, head, 16):
        for i in range(16):
            chain[i] ^= data[o + i]
        chain = bytearray(ecb.encrypt(bytes(chain)))
    for i in range(16):
        chain[i] ^= last[i]
    return bytes(ecb.encrypt(bytes(chain)))


def _pin_field4(pin, fill):
    pin = pin_digits(pin)
    fill = as_bytes(fill, "fill")
    if len(fill) != 8:
        raise CryptoError("format 4 needs 8 random fill bytes, not %d" % len(fill))
    nib = bytearray(16)
    nib[0] = 4
    nib[1] = len(pin)
    for i, c in enumerate(pin):
        nib[2 + i] = c - 48
    for k in range(2 + len(pin), 16):
        nib[k] = 0xA
    out = bytearray(16)
    for i in range(8):
        out[i] = (nib[2 * i] << 4) | nib[2 * i + 1]
    out[8:] = fill
    return out


def _pan_field4(pan):
    pan = ascii_digits(pan, "PAN")
    if len(pan) > 19:
        raise CryptoError("PAN longer than 19 digits")
    if len(pan) < 12:
        pan = b"0" * (12 - len(pan)) + pan
    nib = bytearray(32)
    nib[0] = len(pan) - 12
    for i, c in enumerate(pan):
        nib[1 + i] = c - 48
    out = bytearray(16)
    for i in range(16):
        out[i] = (nib[2 * i] << 4) | nib[2 * i + 1]
    return out


def pinblock4_encipher(key, pin, pan, fill):
    """ISO 9564-1 format 4 (AES): E(K, E(K, PIN field) XOR PAN field)."""
    key = _aes_key(key)
    ecb = cryptolib.aes(key, 1)
    a = bytearray(ecb.encrypt(bytes(_pin_field4(pin, fill))))
    pf = _pan_field4(pan)
    for i in range(16):
        a[i] ^= pf[i]
    return bytes(ecb.encrypt(bytes(a)))


def pinblock4_decipher(key, block, pan):
    key = _aes_key(key)
    block = as_bytes(block, "block")
    if len(block) != 16:
        raise CryptoError("format 4 PIN block must be 16 bytes, not %d" % len(block))
    ecb = cryptolib.aes(key, 1)
    b = bytearray(ecb.decrypt(bytes(block)))
    pf = _pan_field4(pan)
    for i in range(16):
        b[i] ^= pf[i]
    f = cryptolib.aes(key, 1).decrypt(bytes(b))
    if f[0] >> 4 != 4:
        raise CryptoError("control field %X is not format 4 (wrong PAN or key?)" % (f[0] >> 4))
    n = f[0] & 15
    if not 4 <= n <= 12:
        raise CryptoError("PIN length %d out of range (wrong PAN or key?)" % n)
    pin = bytearray(n)
    for i in range(n):
        k = 2 + i
        d = (f[k // 2] >> 4) if k % 2 == 0 else (f[k // 2] & 15)
        if d > 9:
            raise CryptoError("PIN digit is not decimal (wrong PAN or key?)")
        pin[i] = 48 + d
    for k in range(2 + n, 16):
        v = (f[k // 2] >> 4) if k % 2 == 0 else (f[k // 2] & 15)
        if v != 0xA:
            raise CryptoError("bad fill in format 4 PIN block (wrong PAN or key?)")
    return bytes(pin)


