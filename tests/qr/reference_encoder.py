# The QR encoder as it was before the allocation-free rewrite (one QRCode per mask, the
# penalty read module by module through get()): kept as the differential reference that
# tests/qr/test_qr_encoder_equivalence.py holds the firmware encoder to, symbol for symbol.
from micropython import const

EC_M = const(0)          # format bits for level M are 00

# Version -> (EC codewords per block, [(blocks, data codewords per block), ...]) for level M
# (ISO/IEC 18004 Table 9)
_BLOCKS = {
    1: (10, ((1, 16),)), 2: (16, ((1, 28),)), 3: (26, ((1, 44),)), 4: (18, ((2, 32),)),
    5: (24, ((2, 43),)), 6: (16, ((4, 27),)), 7: (18, ((4, 31),)), 8: (22, ((2, 38), (2, 39))),
    9: (22, ((3, 36), (2, 37))), 10: (26, ((4, 43), (1, 44))),
}
# alignment pattern centre coordinates (Annex E)
_ALIGN = {2: (6, 18), 3: (6, 22), 4: (6, 26), 5: (6, 30), 6: (6, 34), 7: (6, 22, 38),
          8: (6, 24, 42), 9: (6, 26, 46), 10: (6, 28, 50)}
MAX_VERSION = const(10)
_N3_AFTER = const(0b10111010000)     # 1011101 then 4 light modules
_N3_BEFORE = const(0b00001011101)    # 4 light modules then 1011101

# GF(256), primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D)
_EXP = bytearray(512)
_LOG = bytearray(256)


def _init_gf():
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


_init_gf()


class QRError(ValueError):
    pass


def _capacity(version):
    ec, groups = _BLOCKS[version]
    return sum(n * k for n, k in groups)


def _rs_generator(n):
    g = bytearray(n + 1)
    g[0] = 1
    for i in range(n):                       # multiply by (x - a^i)
        for j in range(i + 1, 0, -1):
            g[j] = g[j - 1] ^ (_EXP[_LOG[g[j]] + i] if g[j] else 0)
        g[0] = _EXP[_LOG[g[0]] + i] if g[0] else 0
    return g                                 # g[0] is the constant term; g[n] = 1


def _rs_remainder(data, gen, n):
    rem = bytearray(n)
    for b in data:
        f = b ^ rem[0]
        for i in range(n - 1):
            rem[i] = rem[i + 1] ^ (_EXP[_LOG[gen[n - 1 - i]] + _LOG[f]] if f and gen[n - 1 - i] else 0)
        rem[n - 1] = _EXP[_LOG[gen[0]] + _LOG[f]] if f and gen[0] else 0
    return rem


def _codewords(data, version):
    cap = _capacity(version)
    count_bits = 8 if version < 10 else 16
    out = bytearray(cap)                     # the bit stream is written straight into the codewords
    pos = 0

    def put(v, n):
        nonlocal pos
        for i in range(n - 1, -1, -1):
            if (v >> i) & 1:
                out[pos >> 3] |= 0x80 >> (pos & 7)
            pos += 1
    put(0b0100, 4)                           # byte mode
    put(len(data), count_bits)
    for b in data:
        put(b, 8)
    put(0, min(4, cap * 8 - pos))            # terminator
    pos = (pos + 7) & ~7
    pad = 0xEC
    for i in range(pos // 8, cap):
        out[i] = pad
        pad ^= 0xEC ^ 0x11
    # split into blocks, add EC, interleave
    ec, groups = _BLOCKS[version]
    gen = _rs_generator(ec)
    blocks = []
    k = 0
    for n, size in groups:
        for _ in range(n):
            blocks.append((out[k:k + size], _rs_remainder(out[k:k + size], gen, ec)))
            k += size
    total = cap + ec * len(blocks)
    res = bytearray(total)
    p = 0
    longest = max(len(d) for d, _ in blocks)
    for i in range(longest):
        for d, _ in blocks:
            if i < len(d):
                res[p] = d[i]
                p += 1
    for i in range(ec):
        for _, e in blocks:
            res[p] = e[i]
            p += 1
    return res


def _bitlen(v):
    n = 0
    while v:
        v >>= 1
        n += 1
    return n


def _bch(value, poly, bits):
    """value followed by its BCH remainder (`bits` bits) for generator `poly`."""
    v = value << bits
    top = _bitlen(poly) - 1
    while _bitlen(v) > top:
        v ^= poly << (_bitlen(v) - 1 - top)
    return (value << bits) | v


class QRCode:
    def __init__(self, version):
        self.version = version
        self.size = 17 + 4 * version
        n = self.size * self.size
        self.bits = bytearray((n + 7) // 8)
        self.fixed = bytearray((n + 7) // 8)     # function patterns (not data, not masked)

    def _idx(self, x, y):
        return y * self.size + x

    def get(self, x, y):
        i = self._idx(x, y)
        return (self.bits[i >> 3] >> (i & 7)) & 1

    def _set(self, x, y, v, fixed=True):
        i = self._idx(x, y)
        if v:
            self.bits[i >> 3] |= 1 << (i & 7)
        else:
            self.bits[i >> 3] &= ~(1 << (i & 7))
        if fixed:
            self.fixed[i >> 3] |= 1 << (i & 7)

    def _is_fixed(self, x, y):
        i = self._idx(x, y)
        return (self.fixed[i >> 3] >> (i & 7)) & 1

    # -- function patterns --------------------------------------------------
    def _finder(self, cx, cy):
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < self.size and 0 <= y < self.size:
                    d = max(abs(dx), abs(dy))
                    self._set(x, y, d != 2 and d != 4)

    def _alignment(self, cx, cy):
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                self._set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)

    def _function_patterns(self):
        s = self.size
        for i in range(s):
            self._set(6, i, i % 2 == 0)
            self._set(i, 6, i % 2 == 0)
        self._finder(3, 3)
        self._finder(s - 4, 3)
        self._finder(3, s - 4)
        pos = _ALIGN.get(self.version, ())
        for a in pos:
            for b in pos:
                if (a == 6 and b == 6) or (a == 6 and b == pos[-1]) or (a == pos[-1] and b == 6):
                    continue
                self._alignment(a, b)
        self._format(0)                      # reserve the format areas
        self._version_info()

    def _format(self, mask):
        bits = _bch((EC_M << 3) | mask, 0x537, 10) ^ 0x5412
        s = self.size
        for i in range(6):
            self._set(8, i, (bits >> i) & 1)
        self._set(8, 7, (bits >> 6) & 1)
        self._set(8, 8, (bits >> 7) & 1)
        self._set(7, 8, (bits >> 8) & 1)
        for i in range(9, 15):
            self._set(14 - i, 8, (bits >> i) & 1)
        for i in range(8):
            self._set(s - 1 - i, 8, (bits >> i) & 1)
        for i in range(8, 15):
            self._set(8, s - 15 + i, (bits >> i) & 1)
        self._set(8, s - 8, 1)               # the dark module

    def _version_info(self):
        if self.version < 7:
            return
        bits = _bch(self.version, 0x1F25, 12)
        s = self.size
        for i in range(18):
            b = (bits >> i) & 1
            a, c = s - 11 + i % 3, i // 3
            self._set(a, c, b)
            self._set(c, a, b)

    # -- data ----------------------------------------------------------------
    def _place(self, cw):
        s = self.size
        i = 0
        total = len(cw) * 8
        right = s - 1
        while right >= 1:
            if right == 6:
                right = 5
            for vert in range(s):
                for j in range(2):
                    x = right - j
                    upward = ((right + 1) & 2) == 0
                    y = s - 1 - vert if upward else vert
                    if not self._is_fixed(x, y):
                        v = (cw[i >> 3] >> (7 - (i & 7))) & 1 if i < total else 0
                        self._set(x, y, v, fixed=False)
                        i += 1
            right -= 2

    def _apply_mask(self, m):
        s = self.size
        for y in range(s):
            for x in range(s):
                if self._is_fixed(x, y):
                    continue
                if m == 0:
                    inv = (x + y) % 2 == 0
                elif m == 1:
                    inv = y % 2 == 0
                elif m == 2:
                    inv = x % 3 == 0
                elif m == 3:
                    inv = (x + y) % 3 == 0
                elif m == 4:
                    inv = (x // 3 + y // 2) % 2 == 0
                elif m == 5:
                    inv = x * y % 2 + x * y % 3 == 0
                elif m == 6:
                    inv = (x * y % 2 + x * y % 3) % 2 == 0
                else:
                    inv = ((x + y) % 2 + x * y % 3) % 2 == 0
                if inv:
                    i = self._idx(x, y)
                    self.bits[i >> 3] ^= 1 << (i & 7)

    def _penalty(self):
        s = self.size
        get = self.get
        score = 0
        dark = 0
        for y in range(s):                   # N1 rows + N3 rows, dark count
            run = 1
            prev = get(0, y)
            dark += prev
            for x in range(1, s):
                v = get(x, y)
                dark += v
                if v == prev:
                    run += 1
                else:
                    if run >= 5:
                        score += run - 2
                    run = 1
                    prev = v
            if run >= 5:
                score += run - 2
        for x in range(s):                   # N1 columns
            run = 1
            prev = get(x, 0)
            for y in range(1, s):
                v = get(x, y)
                if v == prev:
                    run += 1
                else:
                    if run >= 5:
                        score += run - 2
                    run = 1
                    prev = v
            if run >= 5:
                score += run - 2
        for y in range(s - 1):               # N2 2x2 blocks
            for x in range(s - 1):
                v = get(x, y)
                if v == get(x + 1, y) and v == get(x, y + 1) and v == get(x + 1, y + 1):
                    score += 3
        # N3 finder-like 1011101 with 4 light modules on a side: the last 11 modules of the
        # row (column) as an 11-bit window, compared with the two patterns (no tuples made)
        for y in range(s):
            w = 0
            for x in range(s):
                w = ((w << 1) | get(x, y)) & 0x7FF
                if x >= 10 and (w == _N3_AFTER or w == _N3_BEFORE):
                    score += 40
        for x in range(s):
            w = 0
            for y in range(s):
                w = ((w << 1) | get(x, y)) & 0x7FF
                if y >= 10 and (w == _N3_AFTER or w == _N3_BEFORE):
                    score += 40
        k = abs(dark * 20 - s * s * 10) // (s * s)  # N4: each 5 % from 50 % costs 10
        score += k * 10
        return score


def encode(data, min_version=1):
    """The QRCode of `data` (bytes or str) in byte mode, level M, smallest version >= min_version."""
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    version = 0
    for v in range(max(1, min_version), MAX_VERSION + 1):
        head = 4 + (8 if v < 10 else 16)
        if head + 8 * n <= _capacity(v) * 8:
            version = v
            break
    if not version:
        raise QRError("%d bytes do not fit a version-%d QR code at level M (at most %d)"
                      % (n, MAX_VERSION, _capacity(MAX_VERSION) - 3))
    cw = _codewords(data, version)
    best = None
    best_score = None
    for m in range(8):
        q = QRCode(version)
        q._function_patterns()
        q._place(cw)
        q._apply_mask(m)
        q._format(m)
        sc = q._penalty()
        if best is None or sc < best_score:
            best, best_score = q, sc
        q = None
    best.mask_score = best_score
    return best


def draw(qr, fb, x0, y0, scale, ink=1, paper=0, quiet=4):
    """Draw on a framebuf: `quiet` modules of light margin, each module scale x scale pixels."""
    total = (qr.size + 2 * quiet) * scale
    fb.fill_rect(x0, y0, total, total, paper)
    s = qr.size
    for y in range(s):
        for x in range(s):
            if qr.get(x, y):
                fb.fill_rect(x0 + (quiet + x) * scale, y0 + (quiet + y) * scale, scale, scale, ink)
    return total
