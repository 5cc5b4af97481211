/* QR Code encoder (ISO/IEC 18004): byte mode, versions 1-10, error correction level M.
 * The same symbol, mask and penalty score as the firmware's pure encoder (pos.qr.encoder):
 * the smallest version that holds the data, the eight masks scored with the same N1-N4
 * rules, the first lowest score chosen.  No malloc: the symbol is kept as packed bits in
 * the caller's buffer (bit y*size+x, least significant first), the function-module map
 * and the codewords on the stack (about 1.3 KB). */
#include <string.h>

#include "posnative.h"

#define QR_MAX_VERSION 10
#define QR_MAX_SIZE 57
#define QR_MAX_BITS_BYTES ((QR_MAX_SIZE * QR_MAX_SIZE + 7) / 8)
#define QR_MAX_CODEWORDS 346
#define N3_AFTER 0x5D0  /* 1011101 then 4 light modules */
#define N3_BEFORE 0x05D /* 4 light modules then 1011101 */

/* level M, ISO/IEC 18004 Table 9: EC codewords per block, then (blocks, data codewords) x 2 */
static const uint8_t BLOCKS[QR_MAX_VERSION + 1][5] = {
    {0, 0, 0, 0, 0},
    {10, 1, 16, 0, 0}, {16, 1, 28, 0, 0}, {26, 1, 44, 0, 0}, {18, 2, 32, 0, 0}, {24, 2, 43, 0, 0},
    {16, 4, 27, 0, 0}, {18, 4, 31, 0, 0}, {22, 2, 38, 2, 39}, {22, 3, 36, 2, 37}, {26, 4, 43, 1, 44},
};
/* alignment pattern centres (Annex E), 0-terminated */
static const uint8_t ALIGN[QR_MAX_VERSION + 1][4] = {
    {0}, {0}, {6, 18, 0}, {6, 22, 0}, {6, 26, 0}, {6, 30, 0}, {6, 34, 0},
    {6, 22, 38, 0}, {6, 24, 42, 0}, {6, 26, 46, 0}, {6, 28, 50, 0},
};

typedef struct {
    int size;
    uint8_t *bits;                          /* module values, packed */
    uint8_t fixed[QR_MAX_BITS_BYTES];       /* 1 = function module (not data, never masked) */
} qr_sym;

static int capacity(int v)
{
    return BLOCKS[v][1] * BLOCKS[v][2] + BLOCKS[v][3] * BLOCKS[v][4];
}

/* GF(256) with x^8 + x^4 + x^3 + x^2 + 1 (0x11D) */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    unsigned r = 0, x = a;
    while (b) {
        if (b & 1)
            r ^= x;
        x <<= 1;
        if (x & 0x100)
            x ^= 0x11D;
        b >>= 1;
    }
    return (uint8_t)r;
}

/* generator prod(x - alpha^i), i < n: g[0..n-1] = coefficients of x^(n-1)..x^0 (monic) */
static void rs_generator(int n, uint8_t *g)
{
    uint8_t c[32];
    uint8_t root = 1;
    memset(c, 0, sizeof c);
    c[0] = 1;                               /* c[j]: coefficient of x^j */
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j > 0; j--)
            c[j] = c[j - 1] ^ gf_mul(c[j], root);
        c[0] = gf_mul(c[0], root);
        root = gf_mul(root, 2);
    }
    for (int j = 0; j < n; j++)
        g[j] = c[n - 1 - j];
}

static void rs_remainder(const uint8_t *data, int count, const uint8_t *g, int n, uint8_t *rem)
{
    memset(rem, 0, (size_t)n);
    for (int p = 0; p < count; p++) {
        uint8_t f = data[p] ^ rem[0];
        memmove(rem, rem + 1, (size_t)(n - 1));
        rem[n - 1] = 0;
        if (f)
            for (int k = 0; k < n; k++)
                rem[k] ^= gf_mul(g[k], f);
    }
}

static int get_bit(const uint8_t *b, int i) { return (b[i >> 3] >> (i & 7)) & 1; }

static void put_bit(uint8_t *b, int i, int v)
{
    if (v)
        b[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        b[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static void set_fn(qr_sym *q, int x, int y, int v)
{
    int i = y * q->size + x;
    put_bit(q->bits, i, v);
    put_bit(q->fixed, i, 1);
}

static int imax(int a, int b) { return a > b ? a : b; }
static int iabs(int a) { return a < 0 ? -a : a; }

static uint32_t bch(uint32_t value, uint32_t poly, int bits)
{
    uint32_t v = value << bits;
    for (int shift = 15; shift >= 0; shift--)
        if (v & ((1u << bits) << shift))
            v ^= poly << shift;
    return (value << bits) | v;
}

static void draw_format(qr_sym *q, int mask)
{
    int s = q->size;
    uint32_t bits = bch((uint32_t)mask, 0x537, 10) ^ 0x5412;  /* level M: 00 (6.9) */
    for (int i = 0; i < 6; i++)
        set_fn(q, 8, i, (bits >> i) & 1);
    set_fn(q, 8, 7, (bits >> 6) & 1);
    set_fn(q, 8, 8, (bits >> 7) & 1);
    set_fn(q, 7, 8, (bits >> 8) & 1);
    for (int i = 9; i < 15; i++)
        set_fn(q, 14 - i, 8, (bits >> i) & 1);
    for (int i = 0; i < 8; i++)
        set_fn(q, s - 1 - i, 8, (bits >> i) & 1);
    for (int i = 8; i < 15; i++)
        set_fn(q, 8, s - 15 + i, (bits >> i) & 1);
    set_fn(q, 8, s - 8, 1);                  /* the dark module */
}

static void function_patterns(qr_sym *q, int version)
{
    int s = q->size;
    for (int i = 0; i < s; i++) {           /* timing patterns */
        set_fn(q, 6, i, i % 2 == 0);
        set_fn(q, i, 6, i % 2 == 0);
    }
    const int finders[3][2] = {{3, 3}, {s - 4, 3}, {3, s - 4}};
    for (int f = 0; f < 3; f++)
        for (int dy = -4; dy <= 4; dy++)
            for (int dx = -4; dx <= 4; dx++) {
                int x = finders[f][0] + dx, y = finders[f][1] + dy;
                if (x >= 0 && x < s && y >= 0 && y < s) {
                    int d = imax(iabs(dx), iabs(dy));
                    set_fn(q, x, y, d != 2 && d != 4);
                }
            }
    const uint8_t *pos = ALIGN[version];
    int n = 0;
    while (n < 4 && pos[n])
        n++;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int a = pos[i], b = pos[j], last = pos[n - 1];
            if ((a == 6 && b == 6) || (a == 6 && b == last) || (a == last && b == 6))
                continue;
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++)
                    set_fn(q, a + dx, b + dy, imax(iabs(dx), iabs(dy)) != 1);
        }
    draw_format(q, 0);                       /* reserve the format areas */
    if (version >= 7) {                      /* version information (6.10) */
        uint32_t bits = bch((uint32_t)version, 0x1F25, 12);
        for (int i = 0; i < 18; i++) {
            int b = (bits >> i) & 1, a = s - 11 + i % 3, c = i / 3;
            set_fn(q, a, c, b);
            set_fn(q, c, a, b);
        }
    }
}

static int mask_bit(int m, int x, int y)
{
    switch (m) {
    case 0: return (x + y) % 2 == 0;
    case 1: return y % 2 == 0;
    case 2: return x % 3 == 0;
    case 3: return (x + y) % 3 == 0;
    case 4: return (x / 3 + y / 2) % 2 == 0;
    case 5: return x * y % 2 + x * y % 3 == 0;
    case 6: return (x * y % 2 + x * y % 3) % 2 == 0;
    default: return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

static void apply_mask(qr_sym *q, int m)
{
    int s = q->size;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            int i = y * s + x;
            if (!get_bit(q->fixed, i) && mask_bit(m, x, y))
                q->bits[i >> 3] ^= (uint8_t)(1u << (i & 7));
        }
}

/* N1 and N3 along one line of s modules, `step` apart from `first` (7.8.3) */
static long line_penalty(const uint8_t *b, int first, int step, int s)
{
    long score = 0;
    int prev = get_bit(b, first), run = 1;
    unsigned win = (unsigned)prev;
    for (int k = 1; k < s; k++) {
        int v = get_bit(b, first + k * step);
        win = ((win << 1) | (unsigned)v) & 0x7FF;
        if (v == prev) {
            run++;
        } else {
            if (run >= 5)
                score += run - 2;
            run = 1;
            prev = v;
        }
        if (k >= 10 && (win == N3_AFTER || win == N3_BEFORE))
            score += 40;
    }
    if (run >= 5)
        score += run - 2;
    return score;
}

static long penalty(const qr_sym *q)
{
    int s = q->size;
    const uint8_t *b = q->bits;
    long score = 0, dark = 0;
    for (int i = 0; i < s * s; i++)
        dark += get_bit(b, i);
    for (int y = 0; y < s; y++)
        score += line_penalty(b, y * s, 1, s);
    for (int x = 0; x < s; x++)
        score += line_penalty(b, x, s, s);
    for (int y = 0; y < s - 1; y++)          /* N2 */
        for (int x = 0; x < s - 1; x++) {
            int i = y * s + x, v = get_bit(b, i);
            if (v == get_bit(b, i + 1) && v == get_bit(b, i + s) && v == get_bit(b, i + s + 1))
                score += 3;
        }
    long k = (dark * 20 - (long)s * s * 10);  /* N4: each 5 % from 50 % costs 10 */
    k = (k < 0 ? -k : k) / ((long)s * s);
    return score + k * 10;
}

int pn_qr_encode(const uint8_t *data, size_t len, int min_version, uint8_t *out, size_t cap,
                 int *version_out, int *mask_out, long *score_out)
{
    if (!data && len)
        return PN_ERR_ARG;
    int version = 0;
    if (min_version < 1)
        min_version = 1;
    for (int v = min_version; v <= QR_MAX_VERSION; v++) {
        long head = 4 + (v < 10 ? 8 : 16);
        if (len <= 0xFFFF && head + 8 * (long)len <= capacity(v) * 8L) {
            version = v;
            break;
        }
    }
    if (!version)
        return PN_ERR_DATA_LENGTH;
    int s = 17 + 4 * version, nbits = s * s, nbytes = (nbits + 7) / 8;
    if (!out || cap < (size_t)nbytes)
        return PN_ERR_BUFFER;

    /* data codewords: mode 0100, count (8 bits, 16 from version 10), bytes, terminator, pad */
    uint8_t cw[QR_MAX_CODEWORDS], stream[QR_MAX_CODEWORDS], ec[5 * 26], gen[26];
    int ncap = capacity(version), k = 0;
    unsigned prev;
    if (version < 10) {
        cw[k++] = (uint8_t)(0x40 | (len >> 4));
    } else {
        cw[k++] = (uint8_t)(0x40 | (len >> 12));
        cw[k++] = (uint8_t)((len >> 4) & 0xFF);
    }
    prev = (unsigned)(len & 0x0F);
    for (size_t i = 0; i < len; i++) {
        cw[k++] = (uint8_t)((prev << 4) | (data[i] >> 4));
        prev = data[i] & 0x0F;
    }
    cw[k++] = (uint8_t)(prev << 4);
    for (uint8_t pad = 0xEC; k < ncap; pad ^= 0xEC ^ 0x11)
        cw[k++] = pad;

    int necc = BLOCKS[version][0], nblocks = BLOCKS[version][1] + BLOCKS[version][3];
    int sizes[5], starts[5], longest = 0;
    rs_generator(necc, gen);
    for (int b = 0, at = 0; b < nblocks; b++) {
        sizes[b] = b < BLOCKS[version][1] ? BLOCKS[version][2] : BLOCKS[version][4];
        starts[b] = at;
        rs_remainder(cw + at, sizes[b], gen, necc, ec + b * necc);
        at += sizes[b];
        longest = imax(longest, sizes[b]);
    }
    int p = 0;
    for (int i = 0; i < longest; i++)        /* interleave (7.6) */
        for (int b = 0; b < nblocks; b++)
            if (i < sizes[b])
                stream[p++] = cw[starts[b] + i];
    for (int i = 0; i < necc; i++)
        for (int b = 0; b < nblocks; b++)
            stream[p++] = ec[b * necc + i];

    qr_sym q;
    q.size = s;
    q.bits = out;
    memset(out, 0, (size_t)nbytes);
    memset(q.fixed, 0, sizeof q.fixed);
    function_patterns(&q, version);

    /* place the bits two columns at a time, from the bottom right (6.7.3) */
    int i = 0, total = p * 8;
    for (int right = s - 1; right >= 1; right -= 2) {
        if (right == 6)
            right = 5;
        int upward = ((right + 1) & 2) == 0;
        for (int vert = 0; vert < s; vert++)
            for (int j = 0; j < 2; j++) {
                int x = right - j, y = upward ? s - 1 - vert : vert, m = y * s + x;
                if (!get_bit(q.fixed, m)) {
                    int v = i < total ? (stream[i >> 3] >> (7 - (i & 7))) & 1 : 0;
                    put_bit(out, m, v);
                    i++;
                }
            }
    }

    int best = 0;
    long best_score = -1;
    for (int m = 0; m < 8; m++) {
        apply_mask(&q, m);
        draw_format(&q, m);
        long sc = penalty(&q);
        if (best_score < 0 || sc < best_score) {
            best = m;
            best_score = sc;
        }
        apply_mask(&q, m);                   /* masks are their own inverse */
    }
    apply_mask(&q, best);
    draw_format(&q, best);
    if (version_out)
        *version_out = version;
    if (mask_out)
        *mask_out = best;
    if (score_out)
        *score_out = best_score;
    return nbytes;
}
