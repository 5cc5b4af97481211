# Pure-MicroPython implementations of the crypto API (docs/crypto-api.md).
#
# Used where the _posnative C module is not built into the firmware (the
# virtual board, boards built without it).  pos.crypto picks per function.
# Bad input raises CryptoError (a ValueError) naming the problem.
from micropython import const
from array import array

try:
    import cryptolib
except ImportError:          # pragma: no cover - every MicroPython port we build has it
    cryptolib = None
try:
    import hashlib
except ImportError:          # pragma: no cover
    hashlib = None


class CryptoError(ValueError):
    pass


_M32 = const(0xFFFFFFFF)


def _bytes(data, what="data"):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CryptoError("%s must be bytes, not %s" % (what, type(data).__name__))
    return data


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; SP boxes (S-box then P) and the
# nibble tables for IP/FP are computed once at import from them.
# ---------------------------------------------------------------------------
_IP = bytes((58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
             62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
             57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
             61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7))
_P = bytes((16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
            2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25))
_PC1 = bytes((57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
              10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
              63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
              14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4))
_PC2 = bytes((14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
              23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
              41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
              44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32))
_SHIFTS = bytes((1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1))
_S = (
    bytes((14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
           0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
           4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
           15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13)),
    bytes((15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
           3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
           0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
           13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9)),
    bytes((10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
           13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
           13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
           1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12)),
    bytes((7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
           13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
           10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
           3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14)),
    bytes((2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
           14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
           4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
           11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3)),
    bytes((12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
           10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
           9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
           4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13)),
    bytes((4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
           13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
           1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
           6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12)),
    bytes((13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
           1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
           7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
           2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11)),
)


def _build_sp():
    # SP[i*64 + v]: P(S_i(v) placed at S-box i's output nibble), 32 bits, bit 1 = MSB.
    sp = array("I", bytes(4 * 512))
    for i in range(8):
        box = _S[i]
        for v in range(64):
            row = ((v >> 4) & 2) | (v & 1)
            col = (v >> 1) & 15
            s = box[row * 16 + col] << (28 - 4 * i)
            out = 0
            for k in range(32):
                if s & (1 << (31 - (_P[k] - 1))):
                    out |= 1 << (31 - k)
            sp[i * 64 + v] = out
    return sp


def _build_perm64(table):
    # Nibble tables: for input nibble position j (0..15, MSB first) and value v,
    # the (high 32, low 32) output bits contributed.
    hi = array("I", bytes(4 * 256))
    lo = array("I", bytes(4 * 256))
    for j in range(16):
        for v in range(16):
            h = l = 0
            for b in range(4):
                if v & (8 >> b):
                    src = j * 4 + b + 1          # 1-based input bit
                    for k in range(64):
                        if table[k] == src:
                            if k < 32:
                                h |= 1 << (31 - k)
                            else:
                                l |= 1 << (63 - k)
            hi[j * 16 + v] = h
            lo[j * 16 + v] = l
    return hi, lo


def _inverse(table):
    inv = bytearray(64)
    for k in range(64):
        inv[table[k] - 1] = k + 1
    return bytes(inv)


_SP = _build_sp()
_IP_HI, _IP_LO = _build_perm64(_IP)
_FP_HI, _FP_LO = _build_perm64(_inverse(_IP))


def _perm(block, hi_t, lo_t):
    h = l = 0
    for i in range(8):
        b = block[i]
        j = i * 32
        n = b >> 4
        h |= hi_t[j + n]
        l |= lo_t[j + n]
        n = b & 15
        h |= hi_t[j + 16 + n]
        l |= lo_t[j + 16 + n]
    return h, l


def _key_schedule(key8):
    # 16 round keys, each as 8 six-bit chunks (FIPS 46-3 key schedule).
    bits = 0
    for b in key8:
        bits = (bits << 8) | b
    cd = 0
    for k in range(56):
        if bits & (1 << (64 - _PC1[k])):
            cd |= 1 << (55 - k)
    c, d = cd >> 28, cd & 0xFFFFFFF
    ks = bytearray(128)
    for r in range(16):
        s = _SHIFTS[r]
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        cd = (c << 28) | d
        k48 = 0
        for k in range(48):
            if cd & (1 << (56 - _PC2[k])):
                k48 |= 1 << (47 - k)
        for i in range(8):
            ks[r * 8 + i] = (k48 >> (42 - 6 * i)) & 0x3F
    return ks


_ks_cache = {}


def _schedule(key8):
    key8 = bytes(key8)
    ks = _ks_cache.get(key8)
    if ks is None:
        if len(_ks_cache) >= 8:
            _ks_cache.clear()
        ks = _key_schedule(key8)
        _ks_cache[key8] = ks
    return ks


def _des_block(ks, block, decrypt, out, o):
    sp = _SP
    l, r = _perm(block, _IP_HI, _IP_LO)
    for n in range(16):
        k = (15 - n if decrypt else n) * 8
        rr = ((r >> 1) | ((r & 1) << 31)) & _M32     # E expansion by rotating right 1
        f = (sp[(((rr >> 26) & 0x3F) ^ ks[k])]
             | sp[64 + (((rr >> 22) & 0x3F) ^ ks[k + 1])]
             | sp[128 + (((rr >> 18) & 0x3F) ^ ks[k + 2])]
             | sp[192 + (((rr >> 14) & 0x3F) ^ ks[k + 3])]
             | sp[256 + (((rr >> 10) & 0x3F) ^ ks[k + 4])]
             | sp[320 + (((rr >> 6) & 0x3F) ^ ks[k + 5])]
             | sp[384 + (((rr >> 2) & 0x3F) ^ ks[k + 6])]
             | sp[448 + ((((rr & 0xF) << 2) | (rr >> 30)) ^ ks[k + 7])])
        l, r = r, l ^ f
    pre = bytearray(8)
    for i in range(4):                              # pre-output R16 L16
        pre[i] = (r >> (24 - 8 * i)) & 0xFF
        pre[4 + i] = (l >> (24 - 8 * i)) & 0xFF
    h, lo = _perm(pre, _FP_HI, _FP_LO)
    for i in range(4):
        out[o + i] = (h >> (24 - 8 * i)) & 0xFF
        out[o + 4 + i] = (lo >> (24 - 8 * i)) & 0xFF


def _tdes_keys(key):
    key = _bytes(key, "key")
    n = len(key)
    if n == 8:
        return (_schedule(key),)
    if n == 16:
        return (_schedule(key[:8]), _schedule(key[8:]), _schedule(key[:8]))
    if n == 24:
        return (_schedule(key[:8]), _schedule(key[8:16]), _schedule(key[16:]))
    raise CryptoError("bad key length %d (want 8, 16 or 24)" % n)


def _tdes_block(keys, block, decrypt, out, o):
    if len(keys) == 1:
        _des_block(keys[0], block, decrypt, out, o)
        return
    tmp = bytearray(8)
    if decrypt:
        _des_block(keys[2], block, True, tmp, 0)
        _des_block(keys[1], tmp, False, tmp, 0)
        _des_block(keys[0], tmp, True, out, o)
    else:
        _des_block(keys[0], block, False, tmp, 0)
        _des_block(keys[1], tmp, True, tmp, 0)
        _des_block(keys[2], tmp, False, out, o)


def _check_blocks(data, size):
    data = _bytes(data)
    if len(data) % size:
        raise CryptoError("data length %d is not a multiple of %d (pad it first)" % (len(data), size))
    return data


def des_encrypt(key, data):
    keys = _tdes_keys(key)
    data = memoryview(_check_blocks(data, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _tdes_block(keys, data[o:o + 8], False, out, o)
    return bytes(out)


def des_decrypt(key, data):
    keys = _tdes_keys(key)
    data = memoryview(_check_blocks(data, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _tdes_block(keys, data[o:o + 8], True, out, o)
    return bytes(out)


def _iv(iv, n):
    iv = _bytes(iv, "iv")
    if len(iv) != n:
        raise CryptoError("bad iv length %d (want %d)" % (len(iv), n))
    return iv


def des_cbc_encrypt(key, iv, data):
    keys = _tdes_keys(key)
    data = _check_blocks(data, 8)
    chain = bytearray(_iv(iv, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        for i in range(8):
            chain[i] ^= data[o + i]
        _tdes_block(keys, chain, False, out, o)
        chain[:] = out[o:o + 8]
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    keys = _tdes_keys(key)
    data = _check_blocks(data, 8)
    prev = bytes(_iv(iv, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        blk = bytes(data[o:o + 8])
        _tdes_block(keys, blk, True, out, o)
        for i in range(8):
            out[o + i] ^= prev[i]
        prev = blk
    return bytes(out)


# ---------------------------------------------------------------------------
# AES through the port's cryptolib (FIPS 197 in C on every MicroPython port).
# ---------------------------------------------------------------------------
def _aes_key(key):
    key = _bytes(key, "key")
    if len(key) not in (16, 24, 32):
        raise CryptoError("bad AES key length %d (want 16, 24 or 32)" % len(key))
    if len(key) == 24:
        # MicroPython's cryptolib implements AES-128 and AES-256 only
        raise CryptoError("AES-192 needs the _posnative module (cryptolib has AES-128/256 only)")
    return bytes(key)


def aes_encrypt(key, data):
    data = _check_blocks(data, 16)
    return bytes(cryptolib.aes(_aes_key(key), 1).encrypt(bytes(data))) if data else b""


def aes_decrypt(key, data):
    data = _check_blocks(data, 16)
    return bytes(cryptolib.aes(_aes_key(key), 1).decrypt(bytes(data))) if data else b""


def aes_cbc_encrypt(key, iv, data):
    data = _check_blocks(data, 16)
    iv = bytes(_iv(iv, 16))
    return bytes(cryptolib.aes(_aes_key(key), 2, iv).encrypt(bytes(data))) if data else b""


def aes_cbc_decrypt(key, iv, data):
    data = _check_blocks(data, 16)
    iv = bytes(_iv(iv, 16))
    return bytes(cryptolib.aes(_aes_key(key), 2, iv).decrypt(bytes(data))) if data else b""


# ---------------------------------------------------------------------------
# MACs
# ---------------------------------------------------------------------------
def _pad(data, pad, size=8):
    n = len(data)
    if pad == 1:
        if n and n % size == 0:
            return bytes(data)
        return bytes(data) + bytes(size - n % size if n else size)
    if pad == 2:
        return bytes(data) + b"\x80" + bytes((size - (n + 1) % size) % size)
    raise CryptoError("bad padding method %r (want 1 or 2)" % (pad,))


def mac_iso9797_1(key, data, alg, pad):
    """ISO/IEC 9797-1 MAC algorithm 1 or 3 with padding method 1 or 2 (8 bytes)."""
    key = _bytes(key, "key")
    data = _pad(_bytes(data), pad)
    if alg == 1:
        keys = _tdes_keys(key)
    elif alg == 3:
        if len(key) != 16:
            raise CryptoError("MAC algorithm 3 needs a 16-byte key, not %d" % len(key))
        keys = (_schedule(key[:8]),)
    else:
        raise CryptoError("bad MAC algorithm %r (want 1 or 3)" % (alg,))
    chain = bytearray(8)
    for o in range(0, len(data), 8):
        for i in range(8):
            chain[i] ^= data[o + i]
        _tdes_block(keys, chain, False, chain, 0)
    if alg == 3:                          # output transformation 3: D(K2), E(K1)
        _des_block(_schedule(key[8:16]), chain, True, chain, 0)
        _des_block(_schedule(key[:8]), chain, False, chain, 0)
    return bytes(chain)


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
    data = _bytes(data)
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


# ---------------------------------------------------------------------------
# PIN blocks (ISO 9564-1)
# ---------------------------------------------------------------------------
def _digits(s, what):
    s = _bytes(s, what)
    for c in s:
        if not 0x30 <= c <= 0x39:
            raise CryptoError("%s must be ASCII digits" % what)
    return bytes(s)


def _pin_digits(pin):
    pin = _digits(pin, "PIN")
    if not 4 <= len(pin) <= 12:
        raise CryptoError("PIN length %d out of range (4 to 12)" % len(pin))
    return pin


def _pan_field(pan):
    # 0000 then the 12 rightmost PAN digits excluding the check digit
    pan = _digits(pan, "PAN")
    if len(pan) < 2:
        raise CryptoError("PAN too short for a PIN block")
    d = pan[:-1][-12:]
    d = b"0" * (12 - len(d)) + d
    out = bytearray(8)
    for i in range(6):
        out[2 + i] = ((d[2 * i] - 48) << 4) | (d[2 * i + 1] - 48)
    return out


def _fill_nibble(fmt, fill, k):
    if not fill:
        return 0xA if fmt == 3 else (0xF if fmt == 0 else 0)
    b = fill[k // 2]
    n = (b >> 4) if k % 2 == 0 else (b & 15)
    if fmt == 3:
        return 0xA + n % 6
    return n


def pinblock_build(fmt, pin, pan=b"", fill=b""):
    """Clear ISO 9564-1 PIN block, format 0, 1 or 3 (8 bytes)."""
    if fmt not in (0, 1, 3):
        raise CryptoError("PIN block format %r not built here (0, 1, 3; 4 is pinblock4_encipher)" % (fmt,))
    pin = _pin_digits(pin)
    fill = _bytes(fill, "fill")
    if fill and len(fill) < 8:
        raise CryptoError("fill must be 8 bytes")
    nib = bytearray(16)
    nib[0] = fmt
    nib[1] = len(pin)
    for i, c in enumerate(pin):
        nib[2 + i] = c - 48
    for k in range(2 + len(pin), 16):
        nib[k] = 0xF if fmt == 0 else _fill_nibble(fmt, fill, k)
    out = bytearray(8)
    for i in range(8):
        out[i] = (nib[2 * i] << 4) | nib[2 * i + 1]
    if fmt in (0, 3):
        pf = _pan_field(pan)
        for i in range(8):
            out[i] ^= pf[i]
    return bytes(out)


def pinblock_parse(fmt, block, pan=b""):
    """The PIN (ASCII digits) from a clear format 0, 1 or 3 block."""
    block = _bytes(block, "block")
    if len(block) != 8:
        raise CryptoError("PIN block must be 8 bytes, not %d" % len(block))
    if fmt not in (0, 1, 3):
        raise CryptoError("PIN block format %r not parsed here" % (fmt,))
    b = bytearray(block)
    if fmt in (0, 3):
        pf = _pan_field(pan)
        for i in range(8):
            b[i] ^= pf[i]
    nib = bytearray(16)
    for i in range(8):
        nib[2 * i] = b[i] >> 4
        nib[2 * i + 1] = b[i] & 15
    if nib[0] != fmt:
        raise CryptoError("control field %X is not format %d (wrong PAN or key?)" % (nib[0], fmt))
    n = nib[1]
    if not 4 <= n <= 12:
        raise CryptoError("PIN length %d out of range (wrong PAN or key?)" % n)
    pin = bytearray(n)
    for i in range(n):
        d = nib[2 + i]
        if d > 9:
            raise CryptoError("PIN digit is not decimal (wrong PAN or key?)")
        pin[i] = 48 + d
    for k in range(2 + n, 16):
        f = nib[k]
        if (fmt == 0 and f != 0xF) or (fmt == 3 and f < 0xA):
            raise CryptoError("bad fill in format %d PIN block (wrong PAN or key?)" % fmt)
    return bytes(pin)


def _pin_field4(pin, fill):
    pin = _pin_digits(pin)
    fill = _bytes(fill, "fill")
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
    pan = _digits(pan, "PAN")
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
    block = _bytes(block, "block")
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
    if len(_bytes(imk, "imk")) != 16:
        raise CryptoError("issuer master key must be 16 bytes")
    pan = _digits(pan, "PAN")
    psn = _digits(psn or b"00", "PSN")
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
    if len(_bytes(mk, "mk")) != 16:
        raise CryptoError("master key must be 16 bytes")
    atc = _bytes(atc, "atc")
    if len(atc) != 2:
        raise CryptoError("ATC must be 2 bytes")
    left = bytes(atc) + b"\xf0" + bytes(5)
    right = bytes(atc) + b"\x0f" + bytes(5)
    return _odd_parity(des_encrypt(mk, left) + des_encrypt(mk, right))


def emv_mac(key, data):
    return mac_iso9797_1(key, data, 3, 2)


def emv_arpc1(key, arqc, arc):
    """ARPC method 1 (A1.2.1): 3DES(SK, ARQC XOR (ARC || 00..00))."""
    arqc = _bytes(arqc, "arqc")
    arc = _bytes(arc, "arc")
    if len(arqc) != 8 or len(arc) != 2:
        raise CryptoError("ARQC must be 8 bytes and ARC 2 bytes")
    x = bytearray(arqc)
    x[0] ^= arc[0]
    x[1] ^= arc[1]
    return des_encrypt(key, x)


def emv_arpc2(key, arqc, csu, prop_auth_data=b""):
    """ARPC method 2 (A1.2.2): leftmost 4 bytes of MAC(SK, ARQC || CSU || PAD)."""
    arqc = _bytes(arqc, "arqc")
    csu = _bytes(csu, "csu")
    if len(arqc) != 8 or len(csu) != 4:
        raise CryptoError("ARQC must be 8 bytes and CSU 4 bytes")
    if len(prop_auth_data) > 8:
        raise CryptoError("proprietary authentication data is at most 8 bytes")
    return mac_iso9797_1(key, bytes(arqc) + bytes(csu) + bytes(prop_auth_data), 3, 2)[:4]


# ---------------------------------------------------------------------------
# RSA public operation and hashes
# ---------------------------------------------------------------------------
def rsa_public(modulus, exponent, data):
    modulus = _bytes(modulus, "modulus")
    data = _bytes(data)
    k = len(modulus)
    if not 1 <= k <= 256:
        raise CryptoError("modulus of %d bytes unsupported (1 to 256)" % k)
    if len(data) != k:
        raise CryptoError("data is %d bytes, modulus %d" % (len(data), k))
    n = int.from_bytes(bytes(modulus), "big")
    e = int.from_bytes(bytes(_bytes(exponent, "exponent")), "big")
    x = int.from_bytes(bytes(data), "big")
    if n < 3 or not n & 1:
        raise CryptoError("modulus is not an odd number > 2")
    if e < 1:
        raise CryptoError("exponent must be positive")
    if x >= n:
        raise CryptoError("data is not smaller than the modulus")
    return pow(x, e, n).to_bytes(k, "big")


def sha1(data):
    return hashlib.sha1(bytes(_bytes(data))).digest()


def sha256(data):
    return hashlib.sha256(bytes(_bytes(data))).digest()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def crc16_ccitt_false(data):
    crc = 0xFFFF
    for b in _bytes(data):
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
    digits = _digits(digits, "digits")
    if len(digits) < 2:
        raise CryptoError("need at least 2 digits")
    return _luhn_sum(digits, False) % 10 == 0


def luhn_digit(digits):
    digits = _digits(digits, "digits")
    if not digits:
        raise CryptoError("need at least 1 digit")
    return (10 - _luhn_sum(digits, True) % 10) % 10
