# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from array import array

from pos.crypto.args import CryptoError, as_bytes, check_iv, whole_blocks


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; SP boxes (S-box then P) and the
# byte tables for IP/FP are computed once at import from them.  Every value the block
# and key schedule code holds fits 28 bits, so a 32-bit port (30-bit small integers)
# allocates nothing per block: 32-bit words are carried as 16-bit halves.
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
    # SP[i*64 + v]: P(S_i(v) placed at S-box i's output nibble), 32 bits (bit 1 = MSB) kept
    # as two 16-bit halves, _SP_HI and _SP_LO.
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    hi = array("H", bytes(2 * 512))
    lo = array("H", bytes(2 * 512))
    for i in range(8):
        box = i * 64
        for v in range(64):
            s = _S[box + ((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
            h = w = 0
            for b in range(4):
                if s & (8 >> b):
                    d = dest[4 * i + b]
                    if d < 16:
                        h |= 1 << (15 - d)
                    else:
                        w |= 1 << (31 - d)
            hi[box + v] = h
            lo[box + v] = w
    return hi, lo


def _build_byte_perm(table):
    # IP and its inverse take, for output byte i, one bit from every input byte j, at the
    # same offset a[i] of each input byte, and put input byte j's bit at the same place b[j]
    # of every output byte.  The permutation is then 8 table look-ups per 16-bit output
    # half: half h = OR over j of G[h][in[j]] << b[j], G[h][v] holding v's bits at the
    # offsets of output bytes 2h and 2h+1 (at bits 8 and 0).
    a = bytearray(8)
    b = bytearray(8)
    for k in range(64):
        t = table[k] - 1
        a[k >> 3] = t & 7
        b[t >> 3] = 7 - (k & 7)
    g = array("H", bytes(2 * 1024))
    for h in range(4):
        for v in range(256):
            g[h * 256 + v] = (((v >> (7 - a[2 * h])) & 1) << 8) | ((v >> (7 - a[2 * h + 1])) & 1)
    return g, bytes(b)


def _inverse(table):
    inv = bytearray(64)
    for k in range(64):
        inv[table[k] - 1] = k + 1
    return bytes(inv)


_SP_HI, _SP_LO = _build_sp()
_IP_G, _IP_SHIFT = _build_byte_perm(_IP)
_FP_G, _FP_SHIFT = _build_byte_perm(_inverse(_IP))
del _build_sp, _build_byte_perm, _inverse, _S, _P, _IP  # needed only to build the tables


def _key_schedule(key8):
    # 16 round keys, each as 8 six-bit chunks (FIPS 46-3 key schedule); C and D are kept
    # as 28-bit values and the round key as two 24-bit halves (small integers on a
    # 32-bit port).
    c = d = 0
    for k in range(56):                    # PC-1: C from its first 28 entries, D the rest
        t = _PC1[k] - 1
        bit = (key8[t >> 3] >> (7 - (t & 7))) & 1
        if k < 28:
            c = (c << 1) | bit
        else:
            d = (d << 1) | bit
    ks = bytearray(128)
    for r in range(16):
        s = _SHIFTS[r]
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        hi = lo = 0
        for k in range(48):                # PC-2: entries 1-28 come from C, 29-56 from D
            t = _PC2[k]
            bit = (c >> (28 - t)) & 1 if t <= 28 else (d >> (56 - t)) & 1
            if k < 24:
                hi = (hi << 1) | bit
            else:
                lo = (lo << 1) | bit
        for i in range(4):
            ks[r * 8 + i] = (hi >> (18 - 6 * i)) & 0x3F
            ks[r * 8 + 4 + i] = (lo >> (18 - 6 * i)) & 0x3F
    return ks


# key -> its passes: ((schedule, decrypt), ...) for encryption, computed once per key.
_passes_cache = {}


def _passes(key):
    """The DES passes (schedule, direction) enciphering with `key` (8, 16 or 24 bytes);
    deciphering runs them in reverse order, each reversed."""
    key = as_bytes(key, "key")
    p = _passes_cache.get(key)
    if p is not None:
        return p
    n = len(key)
    if n == 8:
        p = (_key_schedule(key),)
    elif n == 16:
        k1 = _key_schedule(key[:8])
        p = (k1, _key_schedule(key[8:]), k1)
    elif n == 24:
        p = (_key_schedule(key[:8]), _key_schedule(key[8:16]), _key_schedule(key[16:]))
    else:
        raise CryptoError("bad key length %d (want 8, 16 or 24)" % n)
    if len(_passes_cache) >= 8:
        _passes_cache.clear()
    _passes_cache[bytes(key)] = p
    return p


def _block(schedules, first, n, decrypt, block, i, out, o):
    """out[o:o+8] = block[i:i+8] through DES with schedules[first] (n = 1) or triple DES
    with schedules[first:first+3] (n = 3: E D E, or D E D in reverse to decipher).
    The block is carried as four 16-bit halves from IP to FP; between the passes of
    triple DES the FP of one pass and the IP of the next cancel and are skipped."""
    g = _IP_G
    sh = _IP_SHIFT
    lh = ll = rh = rl = 0
    for j in range(8):                     # IP
        v = block[i + j]
        b = sh[j]
        lh |= g[v] << b
        ll |= g[256 + v] << b
        rh |= g[512 + v] << b
        rl |= g[768 + v] << b
    sph = _SP_HI
    spl = _SP_LO
    for p in range(n):
        # encipher: E(k1) D(k2) E(k3); decipher: D(k3) E(k2) D(k1)
        ks = schedules[first + (n - 1 - p if decrypt else p)]
        dec = decrypt ^ (p & 1)
        k = 120 if dec else 0
        step = -8 if dec else 8
        for _ in range(16):
            # E expansion of R (rotated right by one bit) in eight 6-bit chunks, XOR the round key
            i0 = (((rl & 1) << 5) | (rh >> 11)) ^ ks[k]
            i1 = 64 + (((rh >> 7) & 0x3F) ^ ks[k + 1])
            i2 = 128 + (((rh >> 3) & 0x3F) ^ ks[k + 2])
            i3 = 192 + ((((rh & 0x1F) << 1) | (rl >> 15)) ^ ks[k + 3])
            i4 = 256 + ((((rh & 1) << 5) | (rl >> 11)) ^ ks[k + 4])
            i5 = 320 + (((rl >> 7) & 0x3F) ^ ks[k + 5])
            i6 = 384 + (((rl >> 3) & 0x3F) ^ ks[k + 6])
            i7 = 448 + ((((rl & 0x1F) << 1) | (rh >> 15)) ^ ks[k + 7])
            t = lh ^ sph[i0] ^ sph[i1] ^ sph[i2] ^ sph[i3] ^ sph[i4] ^ sph[i5] ^ sph[i6] ^ sph[i7]
            lh = rh
            rh = t
            t = ll ^ spl[i0] ^ spl[i1] ^ spl[i2] ^ spl[i3] ^ spl[i4] ^ spl[i5] ^ spl[i6] ^ spl[i7]
            ll = rl
            rl = t
            k += step
        t = lh                             # the pre-output is R16 L16
        lh = rh
        rh = t
        t = ll
        ll = rl
        rl = t
    out[o] = lh >> 8                       # the pre-output, R16 L16, through FP in place
    out[o + 1] = lh & 0xFF
    out[o + 2] = ll >> 8
    out[o + 3] = ll & 0xFF
    out[o + 4] = rh >> 8
    out[o + 5] = rh & 0xFF
    out[o + 6] = rl >> 8
    out[o + 7] = rl & 0xFF
    g = _FP_G
    sh = _FP_SHIFT
    lh = ll = rh = rl = 0
    for j in range(8):
        v = out[o + j]
        b = sh[j]
        lh |= g[v] << b
        ll |= g[256 + v] << b
        rh |= g[512 + v] << b
        rl |= g[768 + v] << b
    out[o] = lh >> 8
    out[o + 1] = lh & 0xFF
    out[o + 2] = ll >> 8
    out[o + 3] = ll & 0xFF
    out[o + 4] = rh >> 8
    out[o + 5] = rh & 0xFF
    out[o + 6] = rl >> 8
    out[o + 7] = rl & 0xFF


def _ecb(key, data, decrypt):
    keys = _passes(key)
    n = len(keys)
    data = whole_blocks(data, 8)
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _block(keys, 0, n, decrypt, data, o, out, o)
    return bytes(out)


def des_encrypt(key, data):
    return _ecb(key, data, False)


def des_decrypt(key, data):
    return _ecb(key, data, True)


def des_cbc_encrypt(key, iv, data):
    keys = _passes(key)
    n = len(keys)
    data = whole_blocks(data, 8)
    chain = bytearray(check_iv(iv, 8))
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        for i in range(8):
            chain[i] ^= data[o + i]
        _block(keys, 0, n, False, chain, 0, chain, 0)
        out[o:o + 8] = chain
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    keys = _passes(key)
    n = len(keys)
    data = whole_blocks(data, 8)
    prev = check_iv(iv, 8)
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _block(keys, 0, n, True, data, o, out, o)
        if o:
            for i in range(8):
                out[o + i] ^= data[o - 8 + i]
        else:
            for i in range(8):
                out[i] ^= prev[i]
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
        keys = _passes(key)
        n = len(keys)
    elif alg == 3:
        if len(key) != 16:
            raise CryptoError("MAC algorithm 3 needs a 16-byte key, not %d" % len(key))
        keys = _passes(key)                # (K1, K2, K1): single DES with K1 over the blocks
        n = 1
    else:
        raise CryptoError("bad MAC algorithm %r (want 1 or 3)" % (alg,))
    chain = bytearray(8)
    for o in range(0, len(data), 8):
        for i in range(8):
            chain[i] ^= data[o + i]
        _block(keys, 0, n, False, chain, 0, chain, 0)
    if alg == 3:                          # output transformation 3: D(K2), E(K1)
        _block(keys, 1, 1, True, chain, 0, chain, 0)
        _block(keys, 0, 1, False, chain, 0, chain, 0)
    return bytes(chain)
