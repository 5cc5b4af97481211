# DES, triple DES and ISO/IEC 9797-1 MACs in pure MicroPython (FIPS 46-3).
from array import array

from micropython import const

from pos.crypto.args import CryptoError, as_bytes, check_iv, whole_blocks


# ---------------------------------------------------------------------------
# DES (FIPS 46-3).  Tables are the standard's; the round function's tables (S-box, P and
# E in one, _build_spe) and the byte tables for IP/FP are computed once at import from
# them.  Every value the block and key schedule code holds fits 28 bits, so a 32-bit port
# (30-bit small integers) allocates nothing per block: words are carried as 16-bit halves
# through IP and FP and as 24-bit halves of their expansion through the rounds.
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


def _build_spe():
    # The round function in "E form": R and L are carried expanded (E), 48 bits as two
    # 24-bit halves, eight 6-bit chunks that line up with the round key's.  E is linear, so
    # L ^ P(S(E(R) ^ K)) in E form is E(L) ^ E(P(S(...))): one table per S-box and half,
    # _SPE[2i][v] and _SPE[2i+1][v] = E(P(S_i(v) at S-box i's output nibble)), hi and lo.
    # A round is then the key's two XORs, eight chunks cut out and sixteen look-ups, with no
    # expansion; every value fits 24 bits (small integers on a 32-bit port).
    dest = bytearray(32)                   # P: input bit p (0-based) goes to output bit dest[p]
    for k in range(32):
        dest[_P[k] - 1] = k
    spe = []
    zeros = bytes(4 * 64)
    hi4 = [0] * 16                         # E form of each nibble S-box i can put out
    lo4 = [0] * 16
    for i in range(8):
        for b in range(4):                 # S-box i's output bit b (8 >> b) through P and E
            d = dest[4 * i + b]
            # R's bit d (0-based) is chunk d//4's bit d%4 + 1 (of 0-5), and also the last
            # bit of the chunk before when d%4 is 0, the first of the chunk after when 3
            h = w = 0
            for m in (6 * (d >> 2) + (d & 3) + 1,
                      (6 * ((d >> 2) - 1) + 5) % 48 if d & 3 == 0 else -1,
                      (6 * ((d >> 2) + 1)) % 48 if d & 3 == 3 else -1):
                if m < 0:
                    continue
                if m < 24:
                    h |= 1 << (23 - m)
                else:
                    w |= 1 << (47 - m)
            for s in range(16):
                if s & (8 >> b):
                    hi4[s] |= h
                    lo4[s] |= w
        box = i * 64
        hi = array("i", zeros)
        lo = array("i", zeros)
        for v in range(64):
            s = _S[box + ((v >> 4) & 2 | (v & 1)) * 16 + ((v >> 1) & 15)]
            hi[v] = hi4[s]
            lo[v] = lo4[s]
        spe.append(hi)
        spe.append(lo)
        for s in range(16):
            hi4[s] = lo4[s] = 0
    return spe


def _byte_perm_shape(table):
    # IP and its inverse take, for output byte i, one bit from every input byte j, at the
    # same offset a[i] of each input byte, and put input byte j's bit at the same place b[j]
    # of every output byte.  (a, b) of `table`.
    a = bytearray(8)
    b = bytearray(8)
    for k in range(64):
        t = table[k] - 1
        a[k >> 3] = t & 7
        b[t >> 3] = 7 - (k & 7)
    return a, b


def _build_ip(a):
    # IP as 8 table look-ups per 16-bit output half: half h = OR over j of G[h][in[j]] << j
    # (IP's b[j] is j), G[h][v] holding v's bits at the offsets of output bytes 2h and 2h+1
    # (at bits 8 and 0).
    g = []
    for h in range(4):
        t = array("H", bytes(2 * 256))
        for v in range(256):
            t[v] = (((v >> (7 - a[2 * h])) & 1) << 8) | ((v >> (7 - a[2 * h + 1])) & 1)
        g.append(t)
    return g


def _inverse(table):
    inv = bytearray(64)
    for k in range(64):
        inv[table[k] - 1] = k + 1
    return bytes(inv)


_SPE = _build_spe()
_IP_G = _build_ip(_byte_perm_shape(_IP)[0])
_FP_SHIFT = bytes(_byte_perm_shape(_inverse(_IP))[1])   # FP's a is 7 6 5 4 3 2 1 0 (_fp)
del _build_spe, _byte_perm_shape, _build_ip, _inverse, _S, _P, _IP  # needed only to build the tables


def _key_schedule(key8, decrypt):
    # The 16 round keys (FIPS 46-3 key schedule), each as two 24-bit halves: C and D are
    # kept as 28-bit values (small integers on a 32-bit port).  In enciphering order, or
    # deciphering order (K16 first); two rounds' keys to a tuple:
    # ((K1 hi, K1 lo, K2 hi, K2 lo), (K3 hi, ...), ...).
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
        j = 2 * (15 - r) if decrypt else 2 * r
        ks[j] = hi
        ks[j + 1] = lo
    return tuple(tuple(ks[r:r + 4]) for r in range(0, 32, 4))


# key -> the DES passes that encipher (or decipher) with it, each direction computed on
# its first use (a key is mostly used one way: a MAC or PIN key enciphers, a key-encrypting
# key deciphers), a few keys at a time.
_enc_cache = {}
_dec_cache = {}


def _passes(key, decrypt):
    """The DES passes (round keys, one schedule per pass) that encipher or decipher with
    `key` (8, 16 or 24 bytes): E D E, or D E D, for triple DES."""
    key = as_bytes(key, "key")
    cache = _dec_cache if decrypt else _enc_cache
    p = cache.get(key)
    if p is not None:
        return p
    n = len(key)
    if n == 8:
        p = (_key_schedule(key, decrypt),)
    elif n == 16:
        k1 = _key_schedule(key[:8], decrypt)
        p = (k1, _key_schedule(key[8:], not decrypt), k1)
    elif n == 24:
        k1 = _key_schedule(key[:8], decrypt)
        k2 = _key_schedule(key[8:16], not decrypt)
        k3 = _key_schedule(key[16:], decrypt)
        p = (k3, k2, k1) if decrypt else (k1, k2, k3)
    else:
        raise CryptoError("bad key length %d (want 8, 16 or 24)" % n)
    if len(cache) >= 4:
        cache.clear()
    cache[bytes(key)] = p
    return p


_ECB = const(0)      # each block alone
_CBC = const(1)      # each block XORed with the previous output first (the caller XORs the IV in)
_MAC = const(2)      # as _CBC, only the last output kept


def _crypt(passes, src, dst, mode):
    """The 8-byte blocks of src through `passes` (round keys, one schedule per DES pass):
    each written to dst (_ECB, _CBC), or only the last to dst[0:8] (_MAC).

    A block is carried from IP to FP as L and R in E form (_build_spe), four 24-bit values.
    Between the passes of triple DES the FP of one and the IP of the next cancel and are
    skipped.  Chaining is done on the permuted side: IP(C ^ P) = IP(C) ^ IP(P), and IP(C)
    is the last pass's pre-output, so a MAC runs IP once per block and FP once in all."""
    # the names the rounds use most come first: the interpreter's first 16 local slots
    # take the short form of its load and store
    x = y = lh = ll = rh = rl = a = b = c = d = t = v = 0
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 = _SPE
    g0, g1, g2, g3 = _IP_G
    ch = cl = dh = dl = 0                  # IP of the previous output (chaining), E form
    i = o = 0
    end = len(src)
    while i < end:
        # IP into 16-bit halves, L = lh ll, R = rh rl: input byte j's bits land at bit j
        # of each output byte (_build_ip)
        x = src[i]
        y = src[i + 1]
        t = src[i + 2]
        v = src[i + 3]
        a = src[i + 4]
        b = src[i + 5]
        c = src[i + 6]
        d = src[i + 7]
        i += 8
        lh = (g0[x] | g0[y] << 1 | g0[t] << 2 | g0[v] << 3 | g0[a] << 4 | g0[b] << 5
              | g0[c] << 6 | g0[d] << 7)
        ll = (g1[x] | g1[y] << 1 | g1[t] << 2 | g1[v] << 3 | g1[a] << 4 | g1[b] << 5
              | g1[c] << 6 | g1[d] << 7)
        rh = (g2[x] | g2[y] << 1 | g2[t] << 2 | g2[v] << 3 | g2[a] << 4 | g2[b] << 5
              | g2[c] << 6 | g2[d] << 7)
        rl = (g3[x] | g3[y] << 1 | g3[t] << 2 | g3[v] << 3 | g3[a] << 4 | g3[b] << 5
              | g3[c] << 6 | g3[d] << 7)
        # E: chunks b32 b1-b5, b4-b9, b8-b13, b12-b17 | b16-b21, b20-b25, b24-b29, b28-b32 b1
        x = lh
        y = ll
        lh = ch ^ (((y & 1) << 23) | ((x >> 11) << 18) | (((x >> 7) & 0x3F) << 12)
                   | (((x >> 3) & 0x3F) << 6) | ((x & 0x1F) << 1) | (y >> 15))
        ll = cl ^ (((x & 1) << 23) | ((y >> 11) << 18) | (((y >> 7) & 0x3F) << 12)
                   | (((y >> 3) & 0x3F) << 6) | ((y & 0x1F) << 1) | (x >> 15))
        x = rh
        y = rl
        rh = dh ^ (((y & 1) << 23) | ((x >> 11) << 18) | (((x >> 7) & 0x3F) << 12)
                   | (((x >> 3) & 0x3F) << 6) | ((x & 0x1F) << 1) | (y >> 15))
        rl = dl ^ (((x & 1) << 23) | ((y >> 11) << 18) | (((y >> 7) & 0x3F) << 12)
                   | (((y >> 3) & 0x3F) << 6) | ((y & 0x1F) << 1) | (x >> 15))
        for ks in passes:
            for k0, k1, k2, k3 in ks:
                # L ^= f(R, K), then R ^= f(L, K'): two rounds, no swap
                x = rh ^ k0
                y = rl ^ k1
                a = x >> 18
                b = (x >> 12) & 0x3F
                c = (x >> 6) & 0x3F
                x &= 0x3F
                d = y >> 18
                t = (y >> 12) & 0x3F
                v = (y >> 6) & 0x3F
                y &= 0x3F
                lh ^= s0[a] ^ s2[b] ^ s4[c] ^ s6[x] ^ s8[d] ^ s10[t] ^ s12[v] ^ s14[y]
                ll ^= s1[a] ^ s3[b] ^ s5[c] ^ s7[x] ^ s9[d] ^ s11[t] ^ s13[v] ^ s15[y]
                x = lh ^ k2
                y = ll ^ k3
                a = x >> 18
                b = (x >> 12) & 0x3F
                c = (x >> 6) & 0x3F
                x &= 0x3F
                d = y >> 18
                t = (y >> 12) & 0x3F
                v = (y >> 6) & 0x3F
                y &= 0x3F
                rh ^= s0[a] ^ s2[b] ^ s4[c] ^ s6[x] ^ s8[d] ^ s10[t] ^ s12[v] ^ s14[y]
                rl ^= s1[a] ^ s3[b] ^ s5[c] ^ s7[x] ^ s9[d] ^ s11[t] ^ s13[v] ^ s15[y]
            t = lh                         # the pre-output is R16 L16: the next pass's L R
            lh = rh
            rh = t
            t = ll
            ll = rl
            rl = t
        if mode:
            ch = lh
            cl = ll
            dh = rh
            dl = rl
            if mode == _MAC and i < end:
                continue
        # out of E form (each chunk's middle four bits are the word's own), then FP
        _fp(dst, o,
            (((lh >> 19) & 15) << 12) | (((lh >> 13) & 15) << 8) | (((lh >> 7) & 15) << 4) | ((lh >> 1) & 15),
            (((ll >> 19) & 15) << 12) | (((ll >> 13) & 15) << 8) | (((ll >> 7) & 15) << 4) | ((ll >> 1) & 15),
            (((rh >> 19) & 15) << 12) | (((rh >> 13) & 15) << 8) | (((rh >> 7) & 15) << 4) | ((rh >> 1) & 15),
            (((rl >> 19) & 15) << 12) | (((rl >> 13) & 15) << 8) | (((rl >> 7) & 15) << 4) | ((rl >> 1) & 15))
        o += 8


def _fp(out, o, a, b, c, d):
    # out[o:o+8] = FP of the pre-output whose 16-bit halves are a b c d.  FP (IP's inverse)
    # takes bits 0-1, 2-3, 4-5 and 6-7 of every input byte j for the output's four halves
    # and puts them at bit _FP_SHIFT[j] of its two bytes (_byte_perm_shape): once per block
    # deciphered, once per MAC, so computed here instead of from tables.
    out[o] = a >> 8
    out[o + 1] = a & 0xFF
    out[o + 2] = b >> 8
    out[o + 3] = b & 0xFF
    out[o + 4] = c >> 8
    out[o + 5] = c & 0xFF
    out[o + 6] = d >> 8
    out[o + 7] = d & 0xFF
    sh = _FP_SHIFT
    a = b = c = d = 0
    for j in range(8):
        v = out[o + j]
        t = sh[j]
        a |= ((v & 1) << 8 | (v >> 1) & 1) << t
        b |= ((v >> 2) & 1) << (8 + t) | ((v >> 3) & 1) << t
        c |= ((v >> 4) & 1) << (8 + t) | ((v >> 5) & 1) << t
        d |= ((v >> 6) & 1) << (8 + t) | (v >> 7) << t
    out[o] = a >> 8
    out[o + 1] = a & 0xFF
    out[o + 2] = b >> 8
    out[o + 3] = b & 0xFF
    out[o + 4] = c >> 8
    out[o + 5] = c & 0xFF
    out[o + 6] = d >> 8
    out[o + 7] = d & 0xFF


def _ecb(key, data, decrypt):
    passes = _passes(key, decrypt)
    data = whole_blocks(data, 8)
    out = bytearray(len(data))
    _crypt(passes, data, out, _ECB)
    return bytes(out)


def des_encrypt(key, data):
    return _ecb(key, data, False)


def des_decrypt(key, data):
    return _ecb(key, data, True)


def des_cbc_encrypt(key, iv, data):
    passes = _passes(key, False)
    data = whole_blocks(data, 8)
    iv = check_iv(iv, 8)
    out = bytearray(data)                  # enciphered in place, the IV XORed into the first block
    if out:
        for i in range(8):
            out[i] ^= iv[i]
    _crypt(passes, out, out, _CBC)
    return bytes(out)


def des_cbc_decrypt(key, iv, data):
    passes = _passes(key, True)
    data = whole_blocks(data, 8)
    prev = check_iv(iv, 8)
    out = bytearray(len(data))
    _crypt(passes, data, out, _ECB)
    for o in range(len(data) - 1, 7, -1):
        out[o] ^= data[o - 8]
    if out:
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
        enc = _passes(key, False)
    elif alg == 3:
        if len(key) != 16:
            raise CryptoError("MAC algorithm 3 needs a 16-byte key, not %d" % len(key))
        full = _passes(key, False)             # E(K1) D(K2) E(K1)
        enc = full[:1]                     # single DES with K1 over the blocks
    else:
        raise CryptoError("bad MAC algorithm %r (want 1 or 3)" % (alg,))
    mac = bytearray(8)
    _crypt(enc, data, mac, _MAC)
    if alg == 3:                          # output transformation 3: D(K2), E(K1), one block
        _crypt(full[1:], mac, mac, _ECB)
    return bytes(mac)
