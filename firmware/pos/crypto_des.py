# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from micropython import const
from array import array


_M32 = const(0xFFFFFFFF)


class CryptoError(ValueError):
    pass


def _bytes(data, what="data"):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CryptoError("%s must be bytes, not %s" % (what, type(data).__name__))
    return data


def _check_blocks(data, size):
    data = _bytes(data)
    if len(data) % size:
        raise CryptoError("data length %d is not a multiple of %d (pad it first)" % (len(data), size))
    return data


def _iv(iv, n):
    iv = _bytes(iv, "iv")
    if len(iv) != n:
        raise CryptoError("bad iv length %d (want %d)" % (len(iv), n))
    return iv


def _digits(s, what):
    s = _bytes(s, what)
    for c in s:
        if not 0x30 <= c <= 0x39:
            raise CryptoError("%s must be ASCII digits" % what)
    return bytes(s)


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
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    sp = array("I", bytes(4 * 512))
    for i in range(8):
        box = _S[i]
        for v in range(64):
            s = box[((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
            out = 0
            for b in range(4):
                if s & (8 >> b):
                    out |= 1 << (31 - dest[4 * i + b])
            sp[i * 64 + v] = out
    return sp


def _inverse(table):
    inv = bytearray(64)
    for k in range(64):
        inv[table[k] - 1] = k + 1
    return bytes(inv)


_SP = _build_sp()
_FP = _inverse(_IP)
del _build_sp, _inverse, _S, _P        # needed only to build the tables: free their heap


def _perm(block, table):
    # 64-bit permutation (IP or FP) -> (left 32 bits, right 32 bits)
    bits = 0
    for b in block:
        bits = (bits << 8) | b
    h = l = 0
    for k in range(32):
        h = (h << 1) | ((bits >> (64 - table[k])) & 1)
    for k in range(32, 64):
        l = (l << 1) | ((bits >> (64 - table[k])) & 1)
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
    l, r = _perm(block, _IP)
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
    h, lo = _perm(pre, _FP)
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
