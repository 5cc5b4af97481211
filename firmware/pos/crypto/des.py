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
    # For S-box i (0-7) and its 6-bit input v: S_i(v) placed at the box's output nibble,
    # through P, then through the expansion E of the next round (FIPS 46-3 E: chunk c of
    # six bits takes bits 4c-1 .. 4c+4 of the 32, 1-based, wrapping), as two 24-bit
    # halves (chunks 0-3 and 4-7).  L and R are held expanded from IP to FP: E is a bit
    # copy, so E(L xor f) = E(L) xor E(f), and a round is the round key XORed onto R,
    # eight 6-bit indices and sixteen look-ups.  Returns (hi S1..S8, lo S1..S8).
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    his = []
    los = []
    for i in range(8):
        box = i * 64
        hi = array("I", bytes(4 * 64))
        lo = array("I", bytes(4 * 64))
        for v in range(64):
            s = _S[box + ((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
            h = w = 0
            for b in range(4):
                if s & (8 >> b):
                    d = dest[4 * i + b]    # bit d (0-based) of f
                    for m in range(48):    # every expanded position that copies bit d
                        if (4 * (m // 6) + m % 6 - 1) % 32 == d:
                            if m < 24:
                                h |= 1 << (23 - m)
                            else:
                                w |= 1 << (47 - m)
            hi[v] = h
            lo[v] = w
        his.append(hi)
        los.append(lo)
    return tuple(his + los)


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


_SP = _build_sp()
_IP_G, _IP_SHIFT = _build_byte_perm(_IP)
_FP_G, _FP_SHIFT = _build_byte_perm(_inverse(_IP))
del _build_sp, _build_byte_perm, _inverse, _S, _P, _IP  # needed only to build the tables


def _key_schedule(key8):
    # The 16 round keys (FIPS 46-3 key schedule), each as two 24-bit halves (PC-2 entries
    # 1-24 and 25-48, S-boxes 1-4 and 5-8), in enciphering order and in deciphering order:
    # (enc, dec), each an array of 32 values.  C and D are kept as 28-bit values (small
    # integers on a 32-bit port).
    c = d = 0
    for k in range(56):                    # PC-1: C from its first 28 entries, D the rest
        t = _PC1[k] - 1
        bit = (key8[t >> 3] >> (7 - (t & 7))) & 1
        if k < 28:
            c = (c << 1) | bit
        else:
            d = (d << 1) | bit
    enc = array("I", bytes(4 * 32))
    dec = array("I", bytes(4 * 32))
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
        enc[2 * r] = dec[30 - 2 * r] = hi
        enc[2 * r + 1] = dec[31 - 2 * r] = lo
    return enc, dec


# key -> (passes enciphering, passes deciphering), computed once per key: each a tuple of
# round-key arrays in the order they run (triple DES: E(K1) D(K2) E(K3), and D(K3) E(K2) D(K1)).
_passes_cache = {}


def _passes(key):
    key = as_bytes(key, "key")
    p = _passes_cache.get(key)
    if p is not None:
        return p
    n = len(key)
    if n == 8:
        e1, d1 = _key_schedule(key)
        p = ((e1,), (d1,))
    elif n == 16 or n == 24:
        e1, d1 = _key_schedule(key[:8])
        e2, d2 = _key_schedule(key[8:16])
        e3, d3 = _key_schedule(key[16:]) if n == 24 else (e1, d1)
        p = ((e1, d2, e3), (d3, e2, d1))
    else:
        raise CryptoError("bad key length %d (want 8, 16 or 24)" % n)
    if len(_passes_cache) >= 8:
        _passes_cache.clear()
    _passes_cache[bytes(key)] = p
    return p


def _load(src, i, st):
    """st ^= IP(src[i:i+8]), st holding the block after IP as expanded halves [L hi, L lo,
    R hi, R lo] (24 bits each)."""
    g = _IP_G
    sh = _IP_SHIFT
    lh = ll = rh = rl = 0
    for j in range(8):
        v = src[i + j]
        b = sh[j]
        lh |= g[v] << b
        ll |= g[256 + v] << b
        rh |= g[512 + v] << b
        rl |= g[768 + v] << b
    # E of the 32 bits lh:ll (r1 = bit 15 of lh, r32 = bit 0 of ll), chunks 0-3 and 4-7
    st[0] ^= (((ll & 1) << 23) | ((lh >> 11) << 18) | (((lh >> 7) & 63) << 12)
              | (((lh >> 3) & 63) << 6) | ((lh & 31) << 1) | (ll >> 15))
    st[1] ^= (((lh & 1) << 23) | ((ll >> 11) << 18) | (((ll >> 7) & 63) << 12)
              | (((ll >> 3) & 63) << 6) | ((ll & 31) << 1) | (lh >> 15))
    st[2] ^= (((rl & 1) << 23) | ((rh >> 11) << 18) | (((rh >> 7) & 63) << 12)
              | (((rh >> 3) & 63) << 6) | ((rh & 31) << 1) | (rl >> 15))
    st[3] ^= (((rh & 1) << 23) | ((rl >> 11) << 18) | (((rl >> 7) & 63) << 12)
              | (((rl >> 3) & 63) << 6) | ((rl & 31) << 1) | (rh >> 15))


def _rounds(passes, st):
    """The block in st through the DES passes (16 rounds each, L and R swapped after the
    16th: the pre-output R16 L16).  Between the passes of triple DES the FP of one and the
    IP of the next cancel, so the block stays expanded throughout."""
    s1, s2, s3, s4, s5, s6, s7, s8, t1, t2, t3, t4, t5, t6, t7, t8 = _SP
    lh = st[0]
    ll = st[1]
    rh = st[2]
    rl = st[3]
    for ks in passes:
        for k in range(0, 32, 4):          # two rounds: L ^= f(R, K), then R ^= f(L, K')
            x = rh ^ ks[k]
            y = rl ^ ks[k + 1]
            a = x >> 18
            b = (x >> 12) & 63
            c = (x >> 6) & 63
            x &= 63
            e = y >> 18
            f = (y >> 12) & 63
            g = (y >> 6) & 63
            y &= 63
            lh ^= s1[a] ^ s2[b] ^ s3[c] ^ s4[x] ^ s5[e] ^ s6[f] ^ s7[g] ^ s8[y]
            ll ^= t1[a] ^ t2[b] ^ t3[c] ^ t4[x] ^ t5[e] ^ t6[f] ^ t7[g] ^ t8[y]
            x = lh ^ ks[k + 2]
            y = ll ^ ks[k + 3]
            a = x >> 18
            b = (x >> 12) & 63
            c = (x >> 6) & 63
            x &= 63
            e = y >> 18
            f = (y >> 12) & 63
            g = (y >> 6) & 63
            y &= 63
            rh ^= s1[a] ^ s2[b] ^ s3[c] ^ s4[x] ^ s5[e] ^ s6[f] ^ s7[g] ^ s8[y]
            rl ^= t1[a] ^ t2[b] ^ t3[c] ^ t4[x] ^ t5[e] ^ t6[f] ^ t7[g] ^ t8[y]
        lh, rh = rh, lh
        ll, rl = rl, ll
    st[0] = lh
    st[1] = ll
    st[2] = rh
    st[3] = rl


def _store(st, out, o):
    """out[o:o+8] = FP of the block in st (expanded halves back to 32 bits: the middle
    four bits of every chunk)."""
    g = _FP_G
    sh = _FP_SHIFT
    lh = ll = rh = rl = 0
    for j in range(8):
        e = st[j >> 1]
        if j & 1:
            v = (((e >> 3) & 0xF0) | ((e >> 1) & 0x0F))
        else:
            v = (((e >> 15) & 0xF0) | ((e >> 13) & 0x0F))
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
    passes = _passes(key)[1 if decrypt else 0]
    data = whole_blocks(data, 8)
    out = bytearray(len(data))
    st = [0, 0, 0, 0]
    for o in range(0, len(data), 8):
        st[0] = st[1] = st[2] = st[3] = 0
        _load(data, o, st)
        _rounds(passes, st)
        _store(st, out, o)
    return bytes(out)


def des_encrypt(key, data):
    return _ecb(key, data, False)


def des_decrypt(key, data):
    return _ecb(key, data, True)


def des_cbc_encrypt(key, iv, data):
    passes = _passes(key)[0]
    data = whole_blocks(data, 8)
    st = [0, 0, 0, 0]
    _load(check_iv(iv, 8), 0, st)          # the chain stays after IP: IP(FP(c) ^ d) = c ^ IP(d)
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _load(data, o, st)
        _rounds(passes, st)
        _store(st, out, o)
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    passes = _passes(key)[1]
    data = whole_blocks(data, 8)
    prev = check_iv(iv, 8)
    out = bytearray(len(data))
    st = [0, 0, 0, 0]
    for o in range(0, len(data), 8):
        st[0] = st[1] = st[2] = st[3] = 0
        _load(data, o, st)
        _rounds(passes, st)
        _store(st, out, o)
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
    enc = _passes(key)[0]
    if alg == 1:
        passes = enc
    elif alg == 3:
        if len(key) != 16:
            raise CryptoError("MAC algorithm 3 needs a 16-byte key, not %d" % len(key))
        passes = enc[:1]                   # (K1, K2, K1): single DES with K1 over the blocks
    else:
        raise CryptoError("bad MAC algorithm %r (want 1 or 3)" % (alg,))
    st = [0, 0, 0, 0]                      # the chain, after IP (see des_cbc_encrypt)
    for o in range(0, len(data), 8):
        _load(data, o, st)
        _rounds(passes, st)
    if alg == 3:                          # output transformation 3: D(K2), E(K1)
        _rounds(enc[1:], st)
    out = bytearray(8)
    _store(st, out, 0)
    return bytes(out)
