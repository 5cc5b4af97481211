/* posnative crypto: DES/TDES, AES, ISO 9797-1 MACs, AES-CMAC, ISO 9564-1 PIN blocks, EMV key
 * derivation and ARPC, SHA-1, SHA-256.  Portable C99, no allocation, no global mutable state,
 * every length checked.  Semantics match firmware/pos/crypto*.py (docs/crypto-api.md). */
#include "posnative.h"
#include <string.h>
#include "pn_tables.h"

/* ------------------------------------------------------------------ DES (FIPS 46-3) */
static uint64_t load64(const uint8_t *b)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++) v = (v << 8) | b[i];
    return v;
}

static void store64(uint64_t v, uint8_t *b)
{
    int i;
    for (i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}

static uint64_t permute(uint64_t in, const uint8_t *tab, int n, int inbits)
{
    uint64_t out = 0;
    int i;
    for (i = 0; i < n; i++) out = (out << 1) | ((in >> (inbits - tab[i])) & 1u);
    return out;
}

typedef struct { uint64_t k[16]; } des_ks;   /* 48-bit round keys */

static void des_schedule(const uint8_t key[8], des_ks *ks)
{
    uint64_t cd = permute(load64(key), DES_PC1, 56, 64);
    uint32_t c = (uint32_t)(cd >> 28) & 0xFFFFFFFu, d = (uint32_t)cd & 0xFFFFFFFu;
    int r;
    for (r = 0; r < 16; r++) {
        int s = DES_SHIFTS[r];
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFFu;
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFFu;
        ks->k[r] = permute(((uint64_t)c << 28) | d, DES_PC2, 48, 56);
    }
}

static uint32_t rotl32(uint32_t v, int n) { n &= 31; return n ? (v << n) | (v >> (32 - n)) : v; }

/* f(R, K): E expansion as eight 6-bit windows of R rotated (group i = bits 4i..4i+5, bit 0 =
 * bit 32), XOR the round key, then the S-box + P lookups (DES_SP). */
static uint32_t des_f(uint32_t r, uint64_t k)
{
    uint32_t out = 0;
    int i;
    for (i = 0; i < 8; i++) {
        unsigned v = (rotl32(r, 4 * i + 5) & 0x3Fu) ^ ((unsigned)(k >> (42 - 6 * i)) & 0x3Fu);
        out |= DES_SP[i * 64 + v];
    }
    return out;
}

static void des_block(const des_ks *ks, int decrypt, uint8_t blk[8])
{
    uint64_t v = permute(load64(blk), DES_IP, 64, 64);
    uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v, t;
    int i;
    for (i = 0; i < 16; i++) {
        t = r;
        r = l ^ des_f(r, ks->k[decrypt ? 15 - i : i]);
        l = t;
    }
    store64(permute(((uint64_t)r << 32) | l, DES_FP, 64, 64), blk);
}

typedef struct { des_ks k1, k2, k3; int single; } tdes_ctx;

static int tdes_init(tdes_ctx *c, const uint8_t *key, size_t klen)
{
    if (klen != 8 && klen != 16 && klen != 24) return PN_ERR_KEY_LENGTH;
    des_schedule(key, &c->k1);
    c->single = klen == 8;
    if (klen >= 16) des_schedule(key + 8, &c->k2);
    des_schedule(klen == 24 ? key + 16 : key, &c->k3);
    return PN_OK;
}

static void tdes_block(const tdes_ctx *c, int decrypt, uint8_t b[8])
{
    if (c->single) { des_block(&c->k1, decrypt, b); return; }
    if (!decrypt) { des_block(&c->k1, 0, b); des_block(&c->k2, 1, b); des_block(&c->k3, 0, b); }
    else { des_block(&c->k3, 1, b); des_block(&c->k2, 0, b); des_block(&c->k1, 1, b); }
}

int pn_des_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out)
{
    tdes_ctx c;
    size_t i;
    int st = tdes_init(&c, key, klen);
    if (st) return st;
    if (len % 8) return PN_ERR_DATA_LENGTH;
    for (i = 0; i < len; i += 8) {
        memmove(out + i, in + i, 8);
        tdes_block(&c, decrypt, out + i);
    }
    return (int)len;
}

int pn_des_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t iv[8], const uint8_t *in,
               size_t len, uint8_t *out)
{
    tdes_ctx c;
    uint8_t chain[8], save[8];
    size_t i;
    int j, st = tdes_init(&c, key, klen);
    if (st) return st;
    if (len % 8) return PN_ERR_DATA_LENGTH;
    memcpy(chain, iv, 8);
    for (i = 0; i < len; i += 8) {
        if (!decrypt) {
            for (j = 0; j < 8; j++) out[i + j] = (uint8_t)(in[i + j] ^ chain[j]);
            tdes_block(&c, 0, out + i);
            memcpy(chain, out + i, 8);
        } else {
            memcpy(save, in + i, 8);
            memmove(out + i, in + i, 8);
            tdes_block(&c, 1, out + i);
            for (j = 0; j < 8; j++) out[i + j] ^= chain[j];
            memcpy(chain, save, 8);
        }
    }
    return (int)len;
}

/* ISO/IEC 9797-1 MAC algorithm 1 (key 8/16/24: CBC-MAC with that cipher) or 3 (key 16:
 * single-DES CBC with K1, last block TDES), padding method 1 or 2.  8 bytes out. */
int pn_mac_iso9797_1(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, int alg, int pad,
                     uint8_t mac[8])
{
    tdes_ctx full, k1;
    uint8_t blk[8], chain[8];
    size_t nblocks, b, i;
    int st;
    if (alg != 1 && alg != 3) return PN_ERR_ARG;
    if (pad != 1 && pad != 2) return PN_ERR_ARG;
    if (alg == 3 && klen != 16) return PN_ERR_KEY_LENGTH;
    if ((st = tdes_init(&full, key, klen))) return st;
    tdes_init(&k1, key, 8);
    if (pad == 2) nblocks = len / 8 + 1;
    else nblocks = len ? (len + 7) / 8 : 1;
    memset(chain, 0, 8);
    for (b = 0; b < nblocks; b++) {
        for (i = 0; i < 8; i++) {
            size_t p = b * 8 + i;
            uint8_t v = p < len ? data[p] : (uint8_t)((pad == 2 && p == len) ? 0x80 : 0x00);
            blk[i] = (uint8_t)(v ^ chain[i]);
        }
        if (alg == 1 || b + 1 == nblocks) tdes_block(&full, 0, blk);
        else tdes_block(&k1, 0, blk);
        memcpy(chain, blk, 8);
    }
    memcpy(mac, chain, 8);
    return 8;
}

/* ------------------------------------------------------------------ AES (FIPS-197) */
static uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x & 0x80) ? 0x1B : 0)); }

static uint8_t gmul(uint8_t a, uint8_t b)
{
    uint8_t p = 0;
    while (b) { if (b & 1) p ^= a; a = xtime(a); b >>= 1; }
    return p;
}

typedef struct { uint8_t rk[240]; int rounds; } aes_ctx;

static int aes_init(aes_ctx *c, const uint8_t *key, size_t klen)
{
    int nk, i, total;
    uint8_t t[4], rcon = 1, tmp;
    if (klen != 16 && klen != 24 && klen != 32) return PN_ERR_KEY_LENGTH;
    nk = (int)klen / 4;
    c->rounds = nk + 6;
    total = 16 * (c->rounds + 1);
    memcpy(c->rk, key, klen);
    for (i = (int)klen; i < total; i += 4) {
        memcpy(t, c->rk + i - 4, 4);
        if ((i / 4) % nk == 0) {
            tmp = t[0]; t[0] = t[1]; t[1] = t[2]; t[2] = t[3]; t[3] = tmp;
            t[0] = AES_SBOX[t[0]]; t[1] = AES_SBOX[t[1]]; t[2] = AES_SBOX[t[2]]; t[3] = AES_SBOX[t[3]];
            t[0] ^= rcon;
            rcon = xtime(rcon);
        } else if (nk > 6 && (i / 4) % nk == 4) {
            t[0] = AES_SBOX[t[0]]; t[1] = AES_SBOX[t[1]]; t[2] = AES_SBOX[t[2]]; t[3] = AES_SBOX[t[3]];
        }
        c->rk[i] = c->rk[i - klen] ^ t[0];
        c->rk[i + 1] = c->rk[i + 1 - klen] ^ t[1];
        c->rk[i + 2] = c->rk[i + 2 - klen] ^ t[2];
        c->rk[i + 3] = c->rk[i + 3 - klen] ^ t[3];
    }
    return PN_OK;
}

static void aes_enc_block(const aes_ctx *c, uint8_t s[16])
{
    int r, i;
    uint8_t t[16];
    for (i = 0; i < 16; i++) s[i] ^= c->rk[i];
    for (r = 1; r <= c->rounds; r++) {
        for (i = 0; i < 16; i++) t[i] = AES_SBOX[s[(i + 4 * (i % 4)) % 16]];   /* SubBytes + ShiftRows */
        if (r != c->rounds) {
            for (i = 0; i < 4; i++) {
                uint8_t *col = t + 4 * i, a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
                col[0] = (uint8_t)(xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3);
                col[1] = (uint8_t)(a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3);
                col[2] = (uint8_t)(a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3);
                col[3] = (uint8_t)(xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3));
            }
        }
        for (i = 0; i < 16; i++) s[i] = t[i] ^ c->rk[16 * r + i];
    }
}

static void aes_dec_block(const aes_ctx *c, uint8_t s[16])
{
    int r, i;
    uint8_t t[16];
    for (i = 0; i < 16; i++) s[i] ^= c->rk[16 * c->rounds + i];
    for (r = c->rounds - 1; r >= 0; r--) {
        for (i = 0; i < 16; i++) t[(i + 4 * (i % 4)) % 16] = AES_ISBOX[s[i]];  /* inverse ShiftRows+SubBytes */
        for (i = 0; i < 16; i++) t[i] ^= c->rk[16 * r + i];
        if (r) {
            for (i = 0; i < 4; i++) {
                uint8_t *col = t + 4 * i, a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
                col[0] = (uint8_t)(gmul(a0, 14) ^ gmul(a1, 11) ^ gmul(a2, 13) ^ gmul(a3, 9));
                col[1] = (uint8_t)(gmul(a0, 9) ^ gmul(a1, 14) ^ gmul(a2, 11) ^ gmul(a3, 13));
                col[2] = (uint8_t)(gmul(a0, 13) ^ gmul(a1, 9) ^ gmul(a2, 14) ^ gmul(a3, 11));
                col[3] = (uint8_t)(gmul(a0, 11) ^ gmul(a1, 13) ^ gmul(a2, 9) ^ gmul(a3, 14));
            }
        }
        memcpy(s, t, 16);
    }
}

int pn_aes_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out)
{
    aes_ctx c;
    size_t i;
    int st = aes_init(&c, key, klen);
    if (st) return st;
    if (len % 16) return PN_ERR_DATA_LENGTH;
    for (i = 0; i < len; i += 16) {
        memmove(out + i, in + i, 16);
        if (decrypt) aes_dec_block(&c, out + i); else aes_enc_block(&c, out + i);
    }
    return (int)len;
}

int pn_aes_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t iv[16], const uint8_t *in,
               size_t len, uint8_t *out)
{
    aes_ctx c;
    uint8_t chain[16], save[16];
    size_t i;
    int j, st = aes_init(&c, key, klen);
    if (st) return st;
    if (len % 16) return PN_ERR_DATA_LENGTH;
    memcpy(chain, iv, 16);
    for (i = 0; i < len; i += 16) {
        if (!decrypt) {
            for (j = 0; j < 16; j++) out[i + j] = (uint8_t)(in[i + j] ^ chain[j]);
            aes_enc_block(&c, out + i);
            memcpy(chain, out + i, 16);
        } else {
            memcpy(save, in + i, 16);
            memmove(out + i, in + i, 16);
            aes_dec_block(&c, out + i);
            for (j = 0; j < 16; j++) out[i + j] ^= chain[j];
            memcpy(chain, save, 16);
        }
    }
    return (int)len;
}

/* NIST SP 800-38B */
int pn_aes_cmac(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, uint8_t mac[16])
{
    aes_ctx c;
    uint8_t l[16] = {0}, k1[16], k2[16], x[16] = {0}, last[16];
    size_t n, i, b;
    int j, st = aes_init(&c, key, klen);
    if (st) return st;
    aes_enc_block(&c, l);
    for (j = 0; j < 16; j++) k1[j] = (uint8_t)((l[j] << 1) | (j < 15 ? l[j + 1] >> 7 : 0));
    if (l[0] & 0x80) k1[15] ^= 0x87;
    for (j = 0; j < 16; j++) k2[j] = (uint8_t)((k1[j] << 1) | (j < 15 ? k1[j + 1] >> 7 : 0));
    if (k1[0] & 0x80) k2[15] ^= 0x87;
    n = len ? (len + 15) / 16 : 1;
    for (b = 0; b + 1 < n; b++) {
        for (j = 0; j < 16; j++) x[j] ^= data[b * 16 + j];
        aes_enc_block(&c, x);
    }
    if (len && len % 16 == 0) {
        for (j = 0; j < 16; j++) last[j] = (uint8_t)(data[(n - 1) * 16 + j] ^ k1[j]);
    } else {
        size_t rem = len - (n - 1) * 16;
        for (i = 0; i < 16; i++)
            last[i] = (uint8_t)((i < rem ? data[(n - 1) * 16 + i] : (i == rem ? 0x80 : 0)) ^ k2[i]);
    }
    for (j = 0; j < 16; j++) x[j] ^= last[j];
    aes_enc_block(&c, x);
    memcpy(mac, x, 16);
    return 16;
}

/* ------------------------------------------------------------------ ISO 9564-1 PIN blocks */
static int digits_ok(const uint8_t *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* the 12 rightmost PAN digits excluding the check digit, as 6 packed bytes */
static int pan_field(const uint8_t *pan, size_t plen, uint8_t out[6])
{
    uint8_t d[12];
    size_t i, take;
    if (plen < 2 || !digits_ok(pan, plen)) return PN_ERR_FORMAT;
    take = plen - 1 < 12 ? plen - 1 : 12;
    memset(d, 0, 12);
    for (i = 0; i < take; i++) d[12 - take + i] = (uint8_t)(pan[plen - 1 - take + i] - '0');
    for (i = 0; i < 6; i++) out[i] = (uint8_t)((d[2 * i] << 4) | d[2 * i + 1]);
    return PN_OK;
}

int pn_pinblock_build(int fmt, const uint8_t *pin, size_t plen, const uint8_t *pan, size_t panlen,
                      const uint8_t *fill, size_t flen, uint8_t out[8])
{
    uint8_t nib[16], p[6];
    size_t i;
    int st;
    if (fmt != 0 && fmt != 1 && fmt != 3) return PN_ERR_ARG;
    if (plen < 4 || plen > 12 || !digits_ok(pin, plen)) return PN_ERR_FORMAT;
    if (flen != 0 && flen < 8) return PN_ERR_DATA_LENGTH;
    nib[0] = (uint8_t)fmt;
    nib[1] = (uint8_t)plen;
    for (i = 0; i < plen; i++) nib[2 + i] = (uint8_t)(pin[i] - '0');
    for (i = 2 + plen; i < 16; i++) {
        uint8_t r;
        if (fmt == 0) { nib[i] = 0xF; continue; }
        if (!flen) { nib[i] = fmt == 3 ? 0xA : 0; continue; }
        r = (uint8_t)((i % 2 == 0) ? fill[i / 2] >> 4 : fill[i / 2] & 0xF);
        nib[i] = fmt == 3 ? (uint8_t)(0xA + r % 6) : r;
    }
    for (i = 0; i < 8; i++) out[i] = (uint8_t)((nib[2 * i] << 4) | nib[2 * i + 1]);
    if (fmt != 1) {
        if ((st = pan_field(pan, panlen, p))) return st;
        for (i = 0; i < 6; i++) out[2 + i] ^= p[i];
    }
    return 8;
}

int pn_pinblock_parse(int fmt, const uint8_t block[8], const uint8_t *pan, size_t panlen, uint8_t *pin_out)
{
    uint8_t b[8], p[6], n;
    size_t i;
    int st;
    if (fmt != 0 && fmt != 1 && fmt != 3) return PN_ERR_ARG;
    memcpy(b, block, 8);
    if (fmt != 1) {
        if ((st = pan_field(pan, panlen, p))) return st;
        for (i = 0; i < 6; i++) b[2 + i] ^= p[i];
    }
    if ((b[0] >> 4) != fmt) return PN_ERR_FORMAT;
    n = b[0] & 0xF;
    if (n < 4 || n > 12) return PN_ERR_FORMAT;
    for (i = 2; i < 16; i++) {
        uint8_t v = (uint8_t)((i % 2 == 0) ? b[i / 2] >> 4 : b[i / 2] & 0xF);
        if (i < 2u + n) {
            if (v > 9) return PN_ERR_FORMAT;
            pin_out[i - 2] = (uint8_t)('0' + v);
        } else if ((fmt == 0 && v != 0xF) || (fmt == 3 && v < 10)) {
            return PN_ERR_PADDING;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ EMV (Book 2 A1) */
static void odd_parity(uint8_t *k, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t v = k[i] & 0xFE, x = v;
        x ^= x >> 4; x ^= x >> 2; x ^= x >> 1;
        k[i] = (uint8_t)(v | ((x & 1) ^ 1));
    }
}

/* ICC master key, option A: Y = rightmost 16 digits of PAN || PSN (left-padded with 0) */
int pn_emv_icc_mk(const uint8_t imk[16], const uint8_t *pan, size_t panlen, const uint8_t *psn, size_t psnlen,
                  uint8_t out[16])
{
    uint8_t d[16], y[8];
    size_t i, n;
    tdes_ctx c;
    if (!digits_ok(pan, panlen) || panlen < 1 || psnlen != 2 || !digits_ok(psn, 2)) return PN_ERR_FORMAT;
    n = panlen + 2;
    memset(d, 0, 16);
    for (i = 0; i < 16 && i < n; i++) {
        size_t src = n - 1 - i;     /* from the right of PAN || PSN */
        d[15 - i] = (uint8_t)((src < panlen ? pan[src] : psn[src - panlen]) - '0');
    }
    for (i = 0; i < 8; i++) y[i] = (uint8_t)((d[2 * i] << 4) | d[2 * i + 1]);
    tdes_init(&c, imk, 16);
    memcpy(out, y, 8);
    tdes_block(&c, 0, out);
    for (i = 0; i < 8; i++) out[8 + i] = (uint8_t)(y[i] ^ 0xFF);
    tdes_block(&c, 0, out + 8);
    odd_parity(out, 16);
    return 16;
}

/* common session key derivation: R = ATC || F0 00.. (left), ATC || 0F 00.. (right) */
int pn_emv_session_key(const uint8_t mk[16], const uint8_t atc[2], uint8_t out[16])
{
    tdes_ctx c;
    tdes_init(&c, mk, 16);
    memset(out, 0, 16);
    out[0] = atc[0]; out[1] = atc[1]; out[2] = 0xF0;
    out[8] = atc[0]; out[9] = atc[1]; out[10] = 0x0F;
    tdes_block(&c, 0, out);
    tdes_block(&c, 0, out + 8);
    odd_parity(out, 16);
    return 16;
}

int pn_emv_arpc1(const uint8_t key[16], const uint8_t arqc[8], const uint8_t arc[2], uint8_t out[8])
{
    tdes_ctx c;
    memcpy(out, arqc, 8);
    out[0] ^= arc[0];
    out[1] ^= arc[1];
    tdes_init(&c, key, 16);
    tdes_block(&c, 0, out);
    return 8;
}

int pn_emv_arpc2(const uint8_t key[16], const uint8_t arqc[8], const uint8_t csu[4], const uint8_t *prop,
                 size_t plen, uint8_t out[4])
{
    uint8_t buf[20], mac[8];
    if (plen > 8) return PN_ERR_DATA_LENGTH;
    memcpy(buf, arqc, 8);
    memcpy(buf + 8, csu, 4);
    if (plen) memcpy(buf + 12, prop, plen);
    pn_mac_iso9797_1(key, 16, buf, 12 + plen, 3, 2, mac);
    memcpy(out, mac, 4);
    return 4;
}

/* ------------------------------------------------------------------ SHA-1 / SHA-256 (FIPS 180-4) */
static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha_pad_block(const uint8_t *data, size_t len, size_t b, uint8_t blk[64], size_t nblocks)
{
    size_t i;
    uint64_t bits = (uint64_t)len * 8;
    for (i = 0; i < 64; i++) {
        size_t p = b * 64 + i;
        blk[i] = p < len ? data[p] : (uint8_t)(p == len ? 0x80 : 0);
    }
    if (b + 1 == nblocks)
        for (i = 0; i < 8; i++) blk[63 - i] = (uint8_t)(bits >> (8 * i));
}

static size_t sha_blocks(size_t len) { return (len + 9 + 63) / 64; }

void pn_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    uint32_t w[80], a, b, c, d, e, f, k, t;
    uint8_t blk[64];
    size_t n = sha_blocks(len), bi;
    int i;
    for (bi = 0; bi < n; bi++) {
        sha_pad_block(data, len, bi, blk, n);
        for (i = 0; i < 16; i++)
            w[i] = ((uint32_t)blk[4 * i] << 24) | ((uint32_t)blk[4 * i + 1] << 16) | ((uint32_t)blk[4 * i + 2] << 8) | blk[4 * i + 3];
        for (i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
        for (i = 0; i < 80; i++) {
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
            t = rol(a, 5) + f + e + k + w[i];
            e = d; d = c; c = rol(b, 30); b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    for (i = 0; i < 20; i++) out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static const uint32_t K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

void pn_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                     0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    uint32_t w[64], s[8], t1, t2;
    uint8_t blk[64];
    size_t n = sha_blocks(len), bi;
    int i;
    for (bi = 0; bi < n; bi++) {
        sha_pad_block(data, len, bi, blk, n);
        for (i = 0; i < 16; i++)
            w[i] = ((uint32_t)blk[4 * i] << 24) | ((uint32_t)blk[4 * i + 1] << 16) | ((uint32_t)blk[4 * i + 2] << 8) | blk[4 * i + 3];
        for (i = 16; i < 64; i++)
            w[i] = (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7]
                 + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
        memcpy(s, h, sizeof s);
        for (i = 0; i < 64; i++) {
            t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) + ((s[4] & s[5]) ^ (~s[4] & s[6])) + K256[i] + w[i];
            t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) + ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
            s[7] = s[6]; s[6] = s[5]; s[5] = s[4]; s[4] = s[3] + t1;
            s[3] = s[2]; s[2] = s[1]; s[1] = s[0]; s[0] = t1 + t2;
        }
        for (i = 0; i < 8; i++) h[i] += s[i];
    }
    for (i = 0; i < 32; i++) out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ------------------------------------------------------------------ ISO 9564-1 format 4 (AES) */
static int pan_field4(const uint8_t *pan, size_t plen, uint8_t out[16])
{
    uint8_t nib[32];
    size_t i, pad;
    if (plen > 19 || !digits_ok(pan, plen)) return PN_ERR_FORMAT;
    memset(nib, 0, sizeof nib);
    pad = plen < 12 ? 12 - plen : 0;          /* shorter PANs: zeros on the left, to 12 digits */
    nib[0] = (uint8_t)(plen + pad - 12);
    for (i = 0; i < plen; i++) nib[1 + pad + i] = (uint8_t)(pan[i] - '0');
    for (i = 0; i < 16; i++) out[i] = (uint8_t)((nib[2 * i] << 4) | nib[2 * i + 1]);
    return PN_OK;
}

int pn_pinblock4_encipher(const uint8_t *key, size_t klen, const uint8_t *pin, size_t plen, const uint8_t *pan,
                          size_t panlen, const uint8_t fill[8], uint8_t out[16])
{
    aes_ctx c;
    uint8_t nib[16], pf[16];
    size_t i;
    int st = aes_init(&c, key, klen);
    if (st) return st;
    if (plen < 4 || plen > 12 || !digits_ok(pin, plen)) return PN_ERR_FORMAT;
    if ((st = pan_field4(pan, panlen, pf))) return st;
    nib[0] = 4;
    nib[1] = (uint8_t)plen;
    for (i = 0; i < 14; i++) nib[2 + i] = i < plen ? (uint8_t)(pin[i] - '0') : 0xA;
    for (i = 0; i < 8; i++) out[i] = (uint8_t)((nib[2 * i] << 4) | nib[2 * i + 1]);
    memcpy(out + 8, fill, 8);
    aes_enc_block(&c, out);
    for (i = 0; i < 16; i++) out[i] ^= pf[i];
    aes_enc_block(&c, out);
    return 16;
}

int pn_pinblock4_decipher(const uint8_t *key, size_t klen, const uint8_t block[16], const uint8_t *pan,
                          size_t panlen, uint8_t *pin_out)
{
    aes_ctx c;
    uint8_t f[16], pf[16], n;
    size_t i;
    int st = aes_init(&c, key, klen);
    if (st) return st;
    if ((st = pan_field4(pan, panlen, pf))) return st;
    memcpy(f, block, 16);
    aes_dec_block(&c, f);
    for (i = 0; i < 16; i++) f[i] ^= pf[i];
    aes_dec_block(&c, f);
    if ((f[0] >> 4) != 4) return PN_ERR_FORMAT;
    n = f[0] & 0xF;
    if (n < 4 || n > 12) return PN_ERR_FORMAT;
    for (i = 2; i < 16; i++) {
        uint8_t v = (uint8_t)((i % 2 == 0) ? f[i / 2] >> 4 : f[i / 2] & 0xF);
        if (i < 2u + n) {
            if (v > 9) return PN_ERR_FORMAT;
            pin_out[i - 2] = (uint8_t)('0' + v);
        } else if (v != 0xA) {
            return PN_ERR_PADDING;
        }
    }
    return n;
}
