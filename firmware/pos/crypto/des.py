# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from array import array

from pos.crypto.args import CryptoError, as_bytes, check_iv, whole_blocks


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; SP boxes (S-box, P, then the next round's
# E) and the byte tables for IP/FP are computed once at import from them.  From IP to FP
# the block is held as L and R expanded by E, each two 24-bit halves, so every value the
# block and key schedule code holds fits 28 bits and a 32-bit port (30-bit small
# integers) allocates nothing per block.
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
    zero = bytes(4 * 64)                   # one initialiser for all: no garbage between the tables
    for i in range(8):
        box = i * 64
        hi = array("I", zero)
        lo = array("I", zero)
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


def _build_ip_expanded():
    # IP straight into the expanded halves.  IP takes output byte i from one bit of every
    # input byte, at the same offset a[i] of each (FIPS 46-3 IP: output bit k is input bit
    # IP[k]), and puts input byte j's bit at bit j (from the LSB) of every output byte.  With
    # L's bytes 0-3 called L0-L3 (R's 4-7 likewise), E places bit j of L byte i at 36 - 12i + (j + 3) when j >= 3 and at
    # 36 - 12i + (j + 1) when j <= 4 (48-bit positions, 0 = the LSB of the low half), and
    # bit 0 also at 35 - 12i, bit 7 also at 48 - 12i (mod 48).  So each half is a sum of
    # tables with two bits 12 apart, shifted:
    #   hi = sum_j U[d_j] << s_j | W(d_0) << 11 | X(d_7),  U = L0:L1, W = L3:L0, X = L1:L2
    #   lo = sum_j V[d_j] << s_j | X(d_0) << 11 | W(d_7),  V = L2:L3
    # W and X are taken from U and V.  Returns (U, V) for L then for R, arrays of 256.
    a = bytearray(8)
    for k in range(0, 64, 8):
        a[k >> 3] = (_IP[k] - 1) & 7
    out = []
    zero = bytes(512)
    for h in range(4):
        hi = 7 - a[2 * h]
        lo = 7 - a[2 * h + 1]
        t = array("H", zero)
        for v in range(256):
            t[v] = (((v >> hi) & 1) << 12) | ((v >> lo) & 1)
        out.append(t)
    return tuple(out)


_SP = _build_sp()
_IP_X = _build_ip_expanded()
del _build_sp, _build_ip_expanded, _S, _P, _IP  # needed only to build the tables


_ROUND_KEYS_ZERO = bytes(4 * 32)


def _round_keys(key8):
    # The 16 round keys (FIPS 46-3 key schedule), each as two 24-bit halves (PC-2 entries
    # 1-24 and 25-48, S-boxes 1-4 and 5-8): 32 values.  C and D are kept as 28-bit values
    # (small integers on a 32-bit port).
    c = d = 0
    for k in range(56):                    # PC-1: C from its first 28 entries, D the rest
        t = _PC1[k] - 1
        bit = (key8[t >> 3] >> (7 - (t & 7))) & 1
        if k < 28:
            c = (c << 1) | bit
        else:
            d = (d << 1) | bit
    keys = array("I", _ROUND_KEYS_ZERO)   # a shared initialiser: no garbage beside the keys
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
        keys[2 * r] = hi
        keys[2 * r + 1] = lo
    return keys


def _schedule(key8, decrypt):
    """One DES pass's round keys in the order it uses them: 32 values (hi, lo per round)."""
    k = _round_keys(key8)
    if decrypt:
        for r in range(8):                 # round r's keys trade places with round 15 - r's
            a = 2 * r
            b = 30 - 2 * r
            k[a], k[b] = k[b], k[a]
            k[a + 1], k[b + 1] = k[b + 1], k[a + 1]
    return k


# key -> [passes enciphering, passes deciphering, the first pass, the passes after it], each
# made on first use and kept (a key used one way only costs the schedules of that way): a
# tuple of schedules in the order they run (triple DES: E(K1) D(K2) E(K3), and D(K3) E(K2)
# D(K1)); the last two serve MAC algorithm 3.
_passes_cache = {}


def _passes(key, which):
    key = as_bytes(key, "key")
    e = _passes_cache.get(key)
    if e is None:
        if len(key) not in (8, 16, 24):
            raise CryptoError("bad key length %d (want 8, 16 or 24)" % len(key))
        if len(_passes_cache) >= 8:
            _passes_cache.clear()
        e = [None, None, None, None]
        _passes_cache[bytes(key)] = e
    p = e[which]
    if p is None:
        if which >= 2:
            enc = _passes(key, 0)
            e[2] = enc[:1]
            e[3] = enc[1:]
        elif len(key) == 8:
            e[which] = (_schedule(key, which),)
        else:
            k1 = key[:8]
            k2 = key[8:16]
            k3 = key[16:] if len(key) == 24 else k1
            if which:
                e[1] = (_schedule(k3, True), _schedule(k2, False), _schedule(k1, True))
            else:
                e[0] = (_schedule(k1, False), _schedule(k2, True), _schedule(k3, False))
        p = e[which]
    return p


def _cipher(passes, st, src, i, end):
    """The block in st (after IP, as expanded halves [L hi, L lo, R hi, R lo], 24 bits
    each), XORed with IP(src[i:i+8]) when src is given, through the DES passes (16 rounds
    each, L and R swapped after the 16th: the pre-output R16 L16).  Between the passes of
    triple DES the FP of one and the IP of the next cancel, so the block stays expanded.
    With src, every block of src[i:end] in turn (CBC: XORed onto the result of the last)."""
    lh = st[0]
    ll = st[1]
    rh = st[2]
    rl = st[3]
    lu, lv, ru, rv = _IP_X
    s1, s2, s3, s4, s5, s6, s7, s8, t1, t2, t3, t4, t5, t6, t7, t8 = _SP
    while True:
        if src is not None:
            d = src[i]
            lh ^= lu[d] << 1
            ll ^= lv[d] << 1
            rh ^= ru[d] << 1
            rl ^= rv[d] << 1
            a = lu[d]                      # the edge copies: W << 11 and X << 11
            b = lv[d]
            lh ^= ((b & 1) << 23) | ((a >> 1) & 0x800)
            ll ^= ((a & 1) << 23) | ((b >> 1) & 0x800)
            a = ru[d]
            b = rv[d]
            rh ^= ((b & 1) << 23) | ((a >> 1) & 0x800)
            rl ^= ((a & 1) << 23) | ((b >> 1) & 0x800)
            d = src[i + 1]
            lh ^= lu[d] << 2
            ll ^= lv[d] << 2
            rh ^= ru[d] << 2
            rl ^= rv[d] << 2
            d = src[i + 2]
            lh ^= lu[d] << 3
            ll ^= lv[d] << 3
            rh ^= ru[d] << 3
            rl ^= rv[d] << 3
            d = src[i + 3]
            lh ^= (lu[d] * 5) << 4
            ll ^= (lv[d] * 5) << 4
            rh ^= (ru[d] * 5) << 4
            rl ^= (rv[d] * 5) << 4
            d = src[i + 4]
            lh ^= (lu[d] * 5) << 5
            ll ^= (lv[d] * 5) << 5
            rh ^= (ru[d] * 5) << 5
            rl ^= (rv[d] * 5) << 5
            d = src[i + 5]
            lh ^= lu[d] << 8
            ll ^= lv[d] << 8
            rh ^= ru[d] << 8
            rl ^= rv[d] << 8
            d = src[i + 6]
            lh ^= lu[d] << 9
            ll ^= lv[d] << 9
            rh ^= ru[d] << 9
            rl ^= rv[d] << 9
            d = src[i + 7]
            lh ^= lu[d] << 10
            ll ^= lv[d] << 10
            rh ^= ru[d] << 10
            rl ^= rv[d] << 10
            a = lu[d]                      # the edge copies: X and W
            b = lv[d]
            lh ^= ((a & 1) << 12) | (b >> 12)
            ll ^= ((b & 1) << 12) | (a >> 12)
            a = ru[d]
            b = rv[d]
            rh ^= ((a & 1) << 12) | (b >> 12)
            rl ^= ((b & 1) << 12) | (a >> 12)
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
        i += 8
        if i >= end:
            break
    st[0] = lh
    st[1] = ll
    st[2] = rh
    st[3] = rl


def _store(st, out, o):
    """out[o:o+8] = FP of the block in st (expanded halves back to 32 bits: the middle
    four bits of every chunk).  FP (IP's inverse, FIPS 46-3) makes output byte k of bit k
    (from the LSB) of every input byte, MSB first in the order R0 L0 R1 L1 R2 L2 R3 L3 (L0-L3
    and R0-R3 the bytes of L and R)."""
    lh = st[0]
    ll = st[1]
    rh = st[2]
    rl = st[3]
    l0 = ((lh >> 15) & 0xF0) | ((lh >> 13) & 0x0F)
    l1 = ((lh >> 3) & 0xF0) | ((lh >> 1) & 0x0F)
    l2 = ((ll >> 15) & 0xF0) | ((ll >> 13) & 0x0F)
    l3 = ((ll >> 3) & 0xF0) | ((ll >> 1) & 0x0F)
    r0 = ((rh >> 15) & 0xF0) | ((rh >> 13) & 0x0F)
    r1 = ((rh >> 3) & 0xF0) | ((rh >> 1) & 0x0F)
    r2 = ((rl >> 15) & 0xF0) | ((rl >> 13) & 0x0F)
    r3 = ((rl >> 3) & 0xF0) | ((rl >> 1) & 0x0F)
    for k in range(8):
        out[o + k] = ((((r0 >> k) & 1) << 7) | (((l0 >> k) & 1) << 6) | (((r1 >> k) & 1) << 5)
                      | (((l1 >> k) & 1) << 4) | (((r2 >> k) & 1) << 3) | (((l2 >> k) & 1) << 2)
                      | (((r3 >> k) & 1) << 1) | ((l3 >> k) & 1))


def _ecb(key, data, decrypt):
    passes = _passes(key, 1 if decrypt else 0)
    data = whole_blocks(data, 8)
    out = bytearray(len(data))
    st = [0, 0, 0, 0]
    for o in range(0, len(data), 8):
        st[0] = st[1] = st[2] = st[3] = 0
        _cipher(passes, st, data, o, o + 8)
        _store(st, out, o)
    return bytes(out)


def des_encrypt(key, data):
    return _ecb(key, data, False)


def des_decrypt(key, data):
    return _ecb(key, data, True)


def des_cbc_encrypt(key, iv, data):
    passes = _passes(key, 0)
    data = whole_blocks(data, 8)
    st = [0, 0, 0, 0]
    _cipher((), st, check_iv(iv, 8), 0, 8)    # the chain stays after IP: IP(FP(c) ^ d) = c ^ IP(d)
    out = bytearray(len(data))
    for o in range(0, len(data), 8):
        _cipher(passes, st, data, o, o + 8)
        _store(st, out, o)
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    passes = _passes(key, 1)
    data = whole_blocks(data, 8)
    prev = check_iv(iv, 8)
    out = bytearray(len(data))
    st = [0, 0, 0, 0]
    for o in range(0, len(data), 8):
        st[0] = st[1] = st[2] = st[3] = 0
        _cipher(passes, st, data, o, o + 8)
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
    if alg == 1:
        passes = _passes(key, 0)
    elif alg == 3:
        if len(key) != 16:
            raise CryptoError("MAC algorithm 3 needs a 16-byte key, not %d" % len(key))
        passes = _passes(key, 2)           # (K1, K2, K1): single DES with K1 over the blocks
    else:
        raise CryptoError("bad MAC algorithm %r (want 1 or 3)" % (alg,))
    st = [0, 0, 0, 0]                      # the chain, after IP (see des_cbc_encrypt)
    _cipher(passes, st, data, 0, len(data))
    if alg == 3:                          # output transformation 3: D(K2), E(K1)
        _cipher(_passes(key, 3), st, None, 0, 0)
    out = bytearray(8)
    _store(st, out, 0)
    return bytes(out)
