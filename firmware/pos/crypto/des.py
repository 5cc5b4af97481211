# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from micropython import const
from array import array

from pos.crypto.args import CryptoError, as_bytes, check_iv, whole_blocks


_M32 = const(0xFFFFFFFF)


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; SP boxes (S-box then P) and the
# nibble tables for IP/FP are computed once at import from them.
# ---------------------------------------------------------------------------
# The FIPS 46-3 tables (IP, P, PC-1, PC-2, shifts, S1..S8) as byte strings: a bytes
# literal costs one byte per entry on the heap, a tuple of ints eight.
_IP = (b"\x3a\x32\x2a\x22\x1a\x12\x0a\x02\x3c\x34\x2c\x24\x1c\x14\x0c\x04"
       b"\x3e\x36\x2e\x26\x1e\x16\x0e\x06\x40\x38\x30\x28\x20\x18\x10\x08"
       b"\x39\x31\x29\x21\x19\x11\x09\x01\x3b\x33\x2b\x23\x1b\x13\x0b\x03"
       b"\x3d\x35\x2d\x25\x1d\x15\x0d\x05\x3f\x37\x2f\x27\x1f\x17\x0f\x07")
_P = (b"\x10\x07\x14\x15\x1d\x0c\x1c\x11\x01\x0f\x17\x1a\x05\x12\x1f\x0a"
      b"\x02\x08\x18\x0e\x20\x1b\x03\x09\x13\x0d\x1e\x06\x16\x0b\x04\x19")
_PC1 = (b"\x39\x31\x29\x21\x19\x11\x09\x01\x3a\x32\x2a\x22\x1a\x12\x0a\x02"
        b"\x3b\x33\x2b\x23\x1b\x13\x0b\x03\x3c\x34\x2c\x24\x3f\x37\x2f\x27"
        b"\x1f\x17\x0f\x07\x3e\x36\x2e\x26\x1e\x16\x0e\x06\x3d\x35\x2d\x25"
        b"\x1d\x15\x0d\x05\x1c\x14\x0c\x04")
_PC2 = (b"\x0e\x11\x0b\x18\x01\x05\x03\x1c\x0f\x06\x15\x0a\x17\x13\x0c\x04"
        b"\x1a\x08\x10\x07\x1b\x14\x0d\x02\x29\x34\x1f\x25\x2f\x37\x1e\x28"
        b"\x33\x2d\x21\x30\x2c\x31\x27\x38\x22\x35\x2e\x2a\x32\x24\x1d\x20")
_SHIFTS = (b"\x01\x01\x02\x02\x02\x02\x02\x02\x01\x02\x02\x02\x02\x02\x02\x01")
# S-boxes S1..S8, 64 entries each (row-major: row = b1 b6, column = b2..b5)
_S = (b"\x0e\x04\x0d\x01\x02\x0f\x0b\x08\x03\x0a\x06\x0c\x05\x09\x00\x07"
      b"\x00\x0f\x07\x04\x0e\x02\x0d\x01\x0a\x06\x0c\x0b\x09\x05\x03\x08"
      b"\x04\x01\x0e\x08\x0d\x06\x02\x0b\x0f\x0c\x09\x07\x03\x0a\x05\x00"
      b"\x0f\x0c\x08\x02\x04\x09\x01\x07\x05\x0b\x03\x0e\x0a\x00\x06\x0d"
      b"\x0f\x01\x08\x0e\x06\x0b\x03\x04\x09\x07\x02\x0d\x0c\x00\x05\x0a"
      b"\x03\x0d\x04\x07\x0f\x02\x08\x0e\x0c\x00\x01\x0a\x06\x09\x0b\x05"
      b"\x00\x0e\x07\x0b\x0a\x04\x0d\x01\x05\x08\x0c\x06\x09\x03\x02\x0f"
      b"\x0d\x08\x0a\x01\x03\x0f\x04\x02\x0b\x06\x07\x0c\x00\x05\x0e\x09"
      b"\x0a\x00\x09\x0e\x06\x03\x0f\x05\x01\x0d\x0c\x07\x0b\x04\x02\x08"
      b"\x0d\x07\x00\x09\x03\x04\x06\x0a\x02\x08\x05\x0e\x0c\x0b\x0f\x01"
      b"\x0d\x06\x04\x09\x08\x0f\x03\x00\x0b\x01\x02\x0c\x05\x0a\x0e\x07"
      b"\x01\x0a\x0d\x00\x06\x09\x08\x07\x04\x0f\x0e\x03\x0b\x05\x02\x0c"
      b"\x07\x0d\x0e\x03\x00\x06\x09\x0a\x01\x02\x08\x05\x0b\x0c\x04\x0f"
      b"\x0d\x08\x0b\x05\x06\x0f\x00\x03\x04\x07\x02\x0c\x01\x0a\x0e\x09"
      b"\x0a\x06\x09\x00\x0c\x0b\x07\x0d\x0f\x01\x03\x0e\x05\x02\x08\x04"
      b"\x03\x0f\x00\x06\x0a\x01\x0d\x08\x09\x04\x05\x0b\x0c\x07\x02\x0e"
      b"\x02\x0c\x04\x01\x07\x0a\x0b\x06\x08\x05\x03\x0f\x0d\x00\x0e\x09"
      b"\x0e\x0b\x02\x0c\x04\x07\x0d\x01\x05\x00\x0f\x0a\x03\x09\x08\x06"
      b"\x04\x02\x01\x0b\x0a\x0d\x07\x08\x0f\x09\x0c\x05\x06\x03\x00\x0e"
      b"\x0b\x08\x0c\x07\x01\x0e\x02\x0d\x06\x0f\x00\x09\x0a\x04\x05\x03"
      b"\x0c\x01\x0a\x0f\x09\x02\x06\x08\x00\x0d\x03\x04\x0e\x07\x05\x0b"
      b"\x0a\x0f\x04\x02\x07\x0c\x09\x05\x06\x01\x0d\x0e\x00\x0b\x03\x08"
      b"\x09\x0e\x0f\x05\x02\x08\x0c\x03\x07\x00\x04\x0a\x01\x0d\x0b\x06"
      b"\x04\x03\x02\x0c\x09\x05\x0f\x0a\x0b\x0e\x01\x07\x06\x00\x08\x0d"
      b"\x04\x0b\x02\x0e\x0f\x00\x08\x0d\x03\x0c\x09\x07\x05\x0a\x06\x01"
      b"\x0d\x00\x0b\x07\x04\x09\x01\x0a\x0e\x03\x05\x0c\x02\x0f\x08\x06"
      b"\x01\x04\x0b\x0d\x0c\x03\x07\x0e\x0a\x0f\x06\x08\x00\x05\x09\x02"
      b"\x06\x0b\x0d\x08\x01\x04\x0a\x07\x09\x05\x00\x0f\x0e\x02\x03\x0c"
      b"\x0d\x02\x08\x04\x06\x0f\x0b\x01\x0a\x09\x03\x0e\x05\x00\x0c\x07"
      b"\x01\x0f\x0d\x08\x0a\x03\x07\x04\x0c\x05\x06\x0b\x00\x0e\x09\x02"
      b"\x07\x0b\x04\x01\x09\x0c\x0e\x02\x00\x06\x0a\x0d\x0f\x03\x05\x08"
      b"\x02\x01\x0e\x07\x04\x0a\x08\x0d\x0f\x0c\x09\x00\x03\x05\x06\x0b")


def _build_sp():
    # SP[i*64 + v]: P(S_i(v) placed at S-box i's output nibble), 32 bits, bit 1 = MSB.
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    sp = array("I", bytes(4 * 512))
    for i in range(8):
        box = i * 64
        for v in range(64):
            s = _S[box + ((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
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
    key = as_bytes(key, "key")
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


def _ecb(key, data, decrypt):
    keys = _tdes_keys(key)
    data = memoryview(whole_blocks(data, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _tdes_block(keys, data[o:o + 8], decrypt, out, o)
    return bytes(out)


def des_encrypt(key, data):
    return _ecb(key, data, False)


def des_decrypt(key, data):
    return _ecb(key, data, True)


def des_cbc_encrypt(key, iv, data):
    keys = _tdes_keys(key)
    data = whole_blocks(data, 8)
    chain = bytearray(check_iv(iv, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        for i in range(8):
            chain[i] ^= data[o + i]
        _tdes_block(keys, chain, False, out, o)
        chain[:] = out[o:o + 8]
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    keys = _tdes_keys(key)
    data = whole_blocks(data, 8)
    prev = bytes(check_iv(iv, 8))
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
    key = as_bytes(key, "key")
    data = _pad(as_bytes(data), pad)
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
