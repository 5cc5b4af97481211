# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from array import array

from micropython import const

from pos.crypto.args import CryptoError, as_bytes, check_iv, whole_blocks


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; SPE boxes (S-box, then P, then E) and
# the byte tables for IP/FP are computed once at import from them.  Every value the block
# and key schedule code holds fits 28 bits, so a 32-bit port (30-bit small integers)
# allocates nothing per block: 32-bit words are carried as 16-bit halves, and their
# E-expanded 48 bits as 24-bit halves.
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


def _expand(h, w):
    # E (FIPS 46-3) of the 32-bit value held as halves h (bits 1-16) and w (bits 17-32): 48
    # bits as two 24-bit halves, S-boxes 1-4's six-bit inputs and 5-8's.
    return ((((w & 1) << 5) | (h >> 11)) << 18 | ((h >> 7) & 0x3F) << 12
            | ((h >> 3) & 0x3F) << 6 | (((h & 0x1F) << 1) | (w >> 15)),
            (((h & 1) << 5) | (w >> 11)) << 18 | ((w >> 7) & 0x3F) << 12
            | ((w >> 3) & 0x3F) << 6 | (((w & 0x1F) << 1) | (h >> 15)))


def _build_spe():
    # For S-box i (0-7), two lists of 64: E(P(S_i(v) at S-box i's output nibble)) as two
    # 24-bit halves: list i holds the half of E that feeds S-boxes 1-4, list 8 + i the half
    # that feeds 5-8.  The block is held from IP to FP in the form E gives it, and E is a
    # bit copy, so E(L xor f) = E(L) xor E(f): a round is the round key XORed onto E(R),
    # eight six-bit indices and sixteen look-ups, every value under 2^24; a list per S-box
    # spares the index its box's offset.
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    boxes = []
    for half in range(2):
        for i in range(8):
            boxes.append([0] * 64)
    for i in range(8):
        for v in range(64):
            s = _S[i * 64 + ((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
            h = w = 0
            for b in range(4):
                if s & (8 >> b):
                    d = dest[4 * i + b]
                    if d < 16:
                        h |= 1 << (15 - d)
                    else:
                        w |= 1 << (31 - d)
            boxes[i][v], boxes[8 + i][v] = _expand(h, w)
    return tuple(boxes)


def _build_byte_perm(table):
    # IP and its inverse take, for output byte i, one bit from every input byte j, at the
    # same offset a[i] of each input byte, and put input byte j's bit at the same place b[j]
    # of every output byte.  The permutation is then 8 table look-ups per 16-bit output
    # half: half h = OR over j of G[h][in[j]] << b[j], G[h][v] holding v's bits at the
    # offsets of output bytes 2h and 2h+1 (at bits 8 and 0).  Returns G[0..3] and b.
    a = bytearray(8)
    b = bytearray(8)
    for k in range(64):
        t = table[k] - 1
        a[k >> 3] = t & 7
        b[t >> 3] = 7 - (k & 7)
    gs = []
    for h in range(4):
        g = array("H", bytes(2 * 256))
        for v in range(256):
            g[v] = (((v >> (7 - a[2 * h])) & 1) << 8) | ((v >> (7 - a[2 * h + 1])) & 1)
        gs.append(g)
    return gs[0], gs[1], gs[2], gs[3], bytes(b)


def _inverse(table):
    inv = bytearray(64)
    for k in range(64):
        inv[table[k] - 1] = k + 1
    return bytes(inv)


_SPE = _build_spe()
_FP = _build_byte_perm(_inverse(_IP))
_IP = _build_byte_perm(_IP)     # from here on, IP's tables
del _build_spe, _build_byte_perm, _inverse, _S, _P  # needed only to build the tables


def _key_schedule(key8):
    # 16 round keys (FIPS 46-3 key schedule), each as two 24-bit halves (S-boxes 1-4 and 5-8),
    # in turns of two rounds.  C and D are kept as 28-bit values
    # (small integers on a 32-bit port).
    c = d = 0
    for k in range(56):                    # PC-1: C from its first 28 entries, D the rest
        t = _PC1[k] - 1
        bit = (key8[t >> 3] >> (7 - (t & 7))) & 1
        if k < 28:
            c = (c << 1) | bit
        else:
            d = (d << 1) | bit
    ks = [0] * 32
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
        ks[2 * r] = hi
        ks[2 * r + 1] = lo
    # the rounds run two at a time, each turn taking its two round keys as one 4-tuple:
    # [enciphering turns, deciphering turns (made at the first use, by _deciphering)]
    return [tuple(tuple(ks[4 * t:4 * t + 4]) for t in range(8)), None]


def _deciphering(schedule):
    # the turns in reverse, each turn's two rounds swapped
    t = schedule[0]
    schedule[1] = tuple((t[i][2], t[i][3], t[i][0], t[i][1]) for i in range(7, -1, -1))
    return schedule[1]


# key -> its passes' schedules, computed once per key.  A schedule is about 0.5 KB per
# direction on a 32-bit build (0.9 KB on the 64-bit port): the cache keeps the few keys a
# transaction uses (PIN, MAC, the data key at rest) and starts again when a fifth comes.
_passes_cache = {}
_CACHED_KEYS = const(4)


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
    if len(_passes_cache) >= _CACHED_KEYS:
        _passes_cache.clear()
    _passes_cache[bytes(key)] = p
    return p


def _block(schedules, first, n, decrypt, block, i, out, o, count=1):
    """out[o:o+8] = block[i:i+8] through DES with schedules[first] (n = 1) or triple DES
    with schedules[first:first+3] (n = 3: E D E, or D E D in reverse to decipher); n = 2
    deciphering is D with schedules[first+1], then E with schedules[first].
    L and R are carried as E gives them (two 24-bit halves each) from IP to FP; between the
    passes of triple DES the FP of one pass and the IP of the next cancel and are skipped.
    With count > 1, out[o:o+8] is the CBC-MAC of `count` blocks from block[i] (zero IV):
    the chain stays in IP's domain between blocks, IP(FP(c) xor d) = c xor IP(d), so FP
    runs once."""
    g0, g1, g2, g3, sh = _IP
    h0, h1, h2, h3, h4, h5, h6, h7, q0, q1, q2, q3, q4, q5, q6, q7 = _SPE
    lh = ll = rh = rl = 0                  # the chain, as E(L) and E(R) of its IP
    for _blk in range(count):
        xh = xl = yh = yl = 0
        for b in sh:                       # IP of the next block, as four 16-bit halves
            v = block[i]
            i += 1
            xh |= g0[v] << b
            xl |= g1[v] << b
            yh |= g2[v] << b
            yl |= g3[v] << b
        # E of its L and R, XORed onto the chain (written out: a function returning a pair
        # would allocate per block)
        lh ^= (((xl & 1) << 5) | (xh >> 11)) << 18 | ((xh >> 7) & 0x3F) << 12 \
            | ((xh >> 3) & 0x3F) << 6 | (((xh & 0x1F) << 1) | (xl >> 15))
        ll ^= (((xh & 1) << 5) | (xl >> 11)) << 18 | ((xl >> 7) & 0x3F) << 12 \
            | ((xl >> 3) & 0x3F) << 6 | (((xl & 0x1F) << 1) | (xh >> 15))
        rh ^= (((yl & 1) << 5) | (yh >> 11)) << 18 | ((yh >> 7) & 0x3F) << 12 \
            | ((yh >> 3) & 0x3F) << 6 | (((yh & 0x1F) << 1) | (yl >> 15))
        rl ^= (((yh & 1) << 5) | (yl >> 11)) << 18 | ((yl >> 7) & 0x3F) << 12 \
            | ((yl >> 3) & 0x3F) << 6 | (((yl & 0x1F) << 1) | (yh >> 15))
        for p in range(n):
            # encipher: E(k1) D(k2) E(k3); decipher: D(k3) E(k2) D(k1)
            ks = schedules[first + (n - 1 - p if decrypt else p)]
            if decrypt ^ (p & 1):
                ks = ks[1] or _deciphering(ks)
            else:
                ks = ks[0]
            # two rounds a turn, L from R then R from L, so nothing is swapped
            for k0, k1, k2, k3 in ks:
                a = rh ^ k0
                b = rl ^ k1
                v = a >> 18
                xh = (a >> 12) & 0x3F
                xl = (a >> 6) & 0x3F
                a &= 0x3F
                yh = b >> 18
                yl = (b >> 12) & 0x3F
                c = (b >> 6) & 0x3F
                b &= 0x3F
                lh ^= h0[v] ^ h1[xh] ^ h2[xl] ^ h3[a] ^ h4[yh] ^ h5[yl] ^ h6[c] ^ h7[b]
                ll ^= q0[v] ^ q1[xh] ^ q2[xl] ^ q3[a] ^ q4[yh] ^ q5[yl] ^ q6[c] ^ q7[b]
                a = lh ^ k2
                b = ll ^ k3
                v = a >> 18
                xh = (a >> 12) & 0x3F
                xl = (a >> 6) & 0x3F
                a &= 0x3F
                yh = b >> 18
                yl = (b >> 12) & 0x3F
                c = (b >> 6) & 0x3F
                b &= 0x3F
                rh ^= h0[v] ^ h1[xh] ^ h2[xl] ^ h3[a] ^ h4[yh] ^ h5[yl] ^ h6[c] ^ h7[b]
                rl ^= q0[v] ^ q1[xh] ^ q2[xl] ^ q3[a] ^ q4[yh] ^ q5[yl] ^ q6[c] ^ q7[b]
            a = lh                         # the pre-output is R16 L16
            lh = rh
            rh = a
            a = ll
            ll = rl
            rl = a
    # back from E: the middle four bits of each six-bit chunk
    lh = ((lh >> 7) & 0xF000) | ((lh >> 5) & 0xF00) | ((lh >> 3) & 0xF0) | ((lh >> 1) & 0xF)
    ll = ((ll >> 7) & 0xF000) | ((ll >> 5) & 0xF00) | ((ll >> 3) & 0xF0) | ((ll >> 1) & 0xF)
    rh = ((rh >> 7) & 0xF000) | ((rh >> 5) & 0xF00) | ((rh >> 3) & 0xF0) | ((rh >> 1) & 0xF)
    rl = ((rl >> 7) & 0xF000) | ((rl >> 5) & 0xF00) | ((rl >> 3) & 0xF0) | ((rl >> 1) & 0xF)
    out[o] = lh >> 8                       # the pre-output, R16 L16, through FP in place
    out[o + 1] = lh & 0xFF
    out[o + 2] = ll >> 8
    out[o + 3] = ll & 0xFF
    out[o + 4] = rh >> 8
    out[o + 5] = rh & 0xFF
    out[o + 6] = rl >> 8
    out[o + 7] = rl & 0xFF
    g0, g1, g2, g3, sh = _FP
    lh = ll = rh = rl = 0
    j = o
    for b in sh:
        v = out[j]
        j += 1
        lh |= g0[v] << b
        ll |= g1[v] << b
        rh |= g2[v] << b
        rl |= g3[v] << b
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
    _block(keys, 0, n, False, data, 0, chain, 0, len(data) >> 3)
    if alg == 3:                          # output transformation 3: D(K2), then E(K1)
        _block(keys, 0, 2, True, chain, 0, chain, 0)
    return bytes(chain)
