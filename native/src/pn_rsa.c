/* posnative: RSA public operation (data^e mod n, moduli up to 2048 bits) by Montgomery
 * multiplication on 32-bit limbs, and EMV DOL parsing/fitting.  No allocation: the
 * working numbers live on the stack (about 1.6 KB at 2048 bits). */
#include "posnative.h"
#include <string.h>

#define LIMBS (PN_RSA_MAX_BYTES / 4)

typedef struct { uint32_t v[LIMBS + 2]; } bn;

static void bn_from_bytes(bn *a, const uint8_t *b, size_t len, int limbs)
{
    size_t i;
    memset(a, 0, sizeof *a);
    for (i = 0; i < len; i++) {
        size_t bit = (len - 1 - i) * 8;
        a->v[bit / 32] |= (uint32_t)b[i] << (bit % 32);
    }
    (void)limbs;
}

static void bn_to_bytes(const bn *a, uint8_t *b, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        size_t bit = (len - 1 - i) * 8;
        b[i] = (uint8_t)(a->v[bit / 32] >> (bit % 32));
    }
}

/* a >= b over n limbs */
static int bn_ge(const uint32_t *a, const uint32_t *b, int n)
{
    int i;
    for (i = n - 1; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] > b[i];
    }
    return 1;
}

static void bn_sub(uint32_t *a, const uint32_t *b, int n)
{
    uint64_t borrow = 0;
    int i;
    for (i = 0; i < n; i++) {
        uint64_t d = (uint64_t)a[i] - b[i] - borrow;
        a[i] = (uint32_t)d;
        borrow = (d >> 63) & 1;
    }
}

/* -n[0]^-1 mod 2^32 (n odd) */
static uint32_t mont_n0(uint32_t n0)
{
    uint32_t x = 1;
    int i;
    for (i = 0; i < 5; i++) x *= 2 - n0 * x;   /* Newton: doubles correct bits */
    return (uint32_t)(0u - x);
}

/* r = a*b*R^-1 mod n (CIOS), n limbs */
static void mont_mul(uint32_t *r, const uint32_t *a, const uint32_t *b, const uint32_t *n, uint32_t n0inv, int k)
{
    uint32_t t[LIMBS + 2];
    int i, j;
    memset(t, 0, sizeof(uint32_t) * (size_t)(k + 2));
    for (i = 0; i < k; i++) {
        uint64_t c = 0, m;
        for (j = 0; j < k; j++) {
            uint64_t s = (uint64_t)t[j] + (uint64_t)a[j] * b[i] + c;
            t[j] = (uint32_t)s;
            c = s >> 32;
        }
        c = (uint64_t)t[k] + c;
        t[k] = (uint32_t)c;
        t[k + 1] = (uint32_t)(c >> 32);
        m = (uint32_t)(t[0] * n0inv);
        c = ((uint64_t)t[0] + m * n[0]) >> 32;
        for (j = 1; j < k; j++) {
            uint64_t s = (uint64_t)t[j] + m * n[j] + c;
            t[j - 1] = (uint32_t)s;
            c = s >> 32;
        }
        c = (uint64_t)t[k] + c;
        t[k - 1] = (uint32_t)c;
        t[k] = t[k + 1] + (uint32_t)(c >> 32);
    }
    if (t[k] || bn_ge(t, n, k)) bn_sub(t, n, k);
    memcpy(r, t, sizeof(uint32_t) * (size_t)k);
}

/* x = 2x mod n (x < n), k limbs */
static void mod_double(uint32_t *x, const uint32_t *n, int k)
{
    uint32_t carry = 0;
    int j;
    for (j = 0; j < k; j++) {
        uint32_t nc = x[j] >> 31;
        x[j] = (x[j] << 1) | carry;
        carry = nc;
    }
    if (carry || bn_ge(x, n, k)) bn_sub(x, n, k);
}

/* R^2 mod n (R = 2^(32k)): R mod n from the top bit of n up (at most 32 doublings), then
 * R*2^e for e = 32k by square-and-double in the Montgomery domain, where
 * mont_mul(R*2^a, R*2^b) = R*2^(a+b): about log2(32k) Montgomery products. */
static void mont_r2(uint32_t *r2, const uint32_t *n, uint32_t n0inv, int k)
{
    uint32_t x[LIMBS + 1];
    int top, i, e = 32 * k, bit;
    memset(x, 0, sizeof x);
    for (top = k * 32 - 1; top >= 0 && !((n[top / 32] >> (top % 32)) & 1); top--) {
    }
    x[top / 32] = 1u << (top % 32);            /* 2^top < n */
    for (i = top; i < k * 32; i++) mod_double(x, n, k);    /* R mod n */
    /* x = R*2^0; walk e's bits from the top: square (double the exponent), double (+1) */
    for (bit = 30; bit >= 0 && !((e >> bit) & 1); bit--) {
    }
    mod_double(x, n, k);                       /* leading 1: R*2^1 */
    for (bit--; bit >= 0; bit--) {
        mont_mul(x, x, x, n, n0inv, k);
        if ((e >> bit) & 1) mod_double(x, n, k);
    }
    memcpy(r2, x, sizeof(uint32_t) * (size_t)k);
}

int pn_rsa_public(const uint8_t *mod, size_t mlen, const uint8_t *exp, size_t elen, const uint8_t *data,
                  size_t dlen, uint8_t *out)
{
    bn n, a, r2, x, one;
    uint32_t n0inv;
    int k, started = 0;
    size_t i;
    int bit;
    if (mlen < 8 || mlen > PN_RSA_MAX_BYTES) return PN_ERR_KEY_LENGTH;
    if (elen < 1 || elen > 4) return PN_ERR_ARG;
    if (dlen != mlen) return PN_ERR_DATA_LENGTH;
    if (mod[0] == 0 || !(mod[mlen - 1] & 1)) return PN_ERR_ARG;        /* leading zero / even modulus */
    k = (int)((mlen + 3) / 4);
    bn_from_bytes(&n, mod, mlen, k);
    bn_from_bytes(&a, data, dlen, k);
    if (bn_ge(a.v, n.v, k)) return PN_ERR_RANGE;                       /* data >= modulus */
    n0inv = mont_n0(n.v[0]);
    mont_r2(r2.v, n.v, n0inv, k);
    memset(&one, 0, sizeof one);
    one.v[0] = 1;
    mont_mul(a.v, a.v, r2.v, n.v, n0inv, k);         /* a in Montgomery form */
    memcpy(x.v, a.v, sizeof(uint32_t) * (size_t)k);
    for (i = 0; i < elen; i++) {
        for (bit = 7; bit >= 0; bit--) {
            int set = (exp[i] >> bit) & 1;
            if (!started) {
                if (set) started = 1;       /* x = a for the leading one */
                continue;
            }
            mont_mul(x.v, x.v, x.v, n.v, n0inv, k);
            if (set) mont_mul(x.v, x.v, a.v, n.v, n0inv, k);
        }
    }
    if (!started) {                          /* e == 0: result 1 */
        memset(out, 0, mlen);
        out[mlen - 1] = 1;
        return (int)mlen;
    }
    mont_mul(x.v, x.v, one.v, n.v, n0inv, k);        /* out of Montgomery form */
    bn_to_bytes(&x, out, mlen);
    return (int)mlen;
}

/* ------------------------------------------------------------------ DOL (EMV Book 3 5.4) */
int pn_dol_next(const uint8_t *dol, size_t len, size_t *pos, uint32_t *tag, size_t *dlen)
{
    size_t p = *pos;
    uint32_t t;
    int i;
    if (p >= len) return 0;
    t = dol[p];
    if ((dol[p++] & 0x1F) == 0x1F) {
        for (i = 1;; i++) {
            if (p >= len) return PN_ERR_TRUNCATED;
            if (i >= 4) return PN_ERR_TAG_TOO_LONG;
            t = (t << 8) | dol[p];
            if (!(dol[p++] & 0x80)) break;
        }
    }
    if (p >= len) return PN_ERR_TRUNCATED;
    if (dol[p] & 0x80) return PN_ERR_LENGTH_FORM;           /* DOL lengths are one byte < 128 */
    *dlen = dol[p++];
    *tag = t;
    *pos = p;
    return 1;
}

/* Fit a value to a DOL length (Book 3 5.4): format 'n' pads/truncates on the left with 00,
 * 'cn' pads right with FF (truncates right), anything else pads right with 00; an absent
 * value (NULL) gives zeros. */
int pn_dol_fit(const uint8_t *value, size_t vlen, int fmt, uint8_t *out, size_t outlen)
{
    if (value == NULL) {
        memset(out, 0, outlen);
        return (int)outlen;
    }
    if (fmt == PN_FMT_N) {
        if (vlen >= outlen) memcpy(out, value + (vlen - outlen), outlen);
        else {
            memset(out, 0, outlen - vlen);
            memcpy(out + (outlen - vlen), value, vlen);
        }
    } else {
        if (vlen >= outlen) memcpy(out, value, outlen);
        else {
            memcpy(out, value, vlen);
            memset(out + vlen, fmt == PN_FMT_CN ? 0xFF : 0x00, outlen - vlen);
        }
    }
    return (int)outlen;
}
