/* posnative: portable C99 core for smartpos (no malloc, no global mutable state). */
#ifndef POSNATIVE_H
#define POSNATIVE_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PN_OK = 0,
    PN_ERR_TRUNCATED = -1,      /* input ends inside a tag, length or value */
    PN_ERR_TAG_TOO_LONG = -2,   /* tag longer than 4 bytes */
    PN_ERR_LENGTH_FORM = -3,    /* indefinite or > 3 length bytes (EMV Book 3 B1) */
    PN_ERR_DEPTH = -4,          /* constructed nesting deeper than PN_TLV_MAX_DEPTH */
    PN_ERR_NOT_FOUND = -5,
    PN_ERR_BUFFER = -6,         /* output buffer too small */
    PN_ERR_ARG = -7,
    PN_ERR_KEY_LENGTH = -8,     /* key not 8/16/24 (DES) or 16/24/32 (AES) bytes, or RSA modulus size */
    PN_ERR_DATA_LENGTH = -9,    /* data not a whole number of blocks, or of the wrong size */
    PN_ERR_PADDING = -10,       /* filler of a PIN block not as its format says */
    PN_ERR_FORMAT = -11,        /* not digits / bad PIN length / wrong control field */
    PN_ERR_RANGE = -12          /* RSA input not below the modulus */
} pn_status;

const char *pn_status_name(int status);

#define PN_TLV_MAX_DEPTH 8

typedef struct {
    uint32_t tag;          /* tag bytes big-endian, up to 4 */
    int constructed;
    const uint8_t *value;
    size_t length;
} pn_tlv;

/* Cursor over one level of BER-TLV data (ISO/IEC 8825-1 as profiled by EMV Book 3 Annex B). */
typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
} pn_tlv_iter;

void pn_tlv_iter_init(pn_tlv_iter *it, const uint8_t *data, size_t len);
/* 1 = item produced, 0 = end, <0 = pn_status error. Skips 0x00/0xFF padding between objects. */
int pn_tlv_next(pn_tlv_iter *it, pn_tlv *out);
/* Depth-first search for tag (descends into constructed objects, max depth 8). */
int pn_tlv_find(const uint8_t *data, size_t len, uint32_t tag, pn_tlv *out);
/* Encode one TLV into out; returns bytes written or <0. */
int pn_tlv_encode(uint32_t tag, const uint8_t *value, size_t vlen, uint8_t *out, size_t cap);

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout. */
uint16_t pn_crc16_ccitt_false(const uint8_t *data, size_t len);
/* Luhn (ISO/IEC 7812-1 Annex B) check over ASCII digits: 1 valid, 0 invalid, <0 error. */
int pn_luhn_valid(const char *digits, size_t len);

/* ---- crypto (pn_crypto.c); results: bytes written (>0) or <0 pn_status ---- */
int pn_des_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out);
int pn_des_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t iv[8], const uint8_t *in,
               size_t len, uint8_t *out);
int pn_mac_iso9797_1(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, int alg, int pad,
                     uint8_t mac[8]);
int pn_aes_ecb(const uint8_t *key, size_t klen, int decrypt, const uint8_t *in, size_t len, uint8_t *out);
int pn_aes_cbc(const uint8_t *key, size_t klen, int decrypt, const uint8_t iv[16], const uint8_t *in,
               size_t len, uint8_t *out);
int pn_aes_cmac(const uint8_t *key, size_t klen, const uint8_t *data, size_t len, uint8_t mac[16]);
/* ISO 9564-1 formats 0, 1, 3: pin/pan ASCII digits, fill 0 or >= 8 random bytes */
int pn_pinblock_build(int fmt, const uint8_t *pin, size_t plen, const uint8_t *pan, size_t panlen,
                      const uint8_t *fill, size_t flen, uint8_t out[8]);
/* returns the PIN length, digits written to pin_out (12 bytes) */
int pn_pinblock_parse(int fmt, const uint8_t block[8], const uint8_t *pan, size_t panlen, uint8_t *pin_out);
/* ISO 9564-1 format 4 (AES key 16/24/32): 16-byte enciphered block; fill = 8 random bytes */
int pn_pinblock4_encipher(const uint8_t *key, size_t klen, const uint8_t *pin, size_t plen, const uint8_t *pan,
                          size_t panlen, const uint8_t fill[8], uint8_t out[16]);
int pn_pinblock4_decipher(const uint8_t *key, size_t klen, const uint8_t block[16], const uint8_t *pan,
                          size_t panlen, uint8_t *pin_out);
/* depth-first search along a path of tags (each found inside the previous one's value) */
int pn_tlv_find_path(const uint8_t *data, size_t len, const uint32_t *path, size_t n, pn_tlv *out);
int pn_emv_icc_mk(const uint8_t imk[16], const uint8_t *pan, size_t panlen, const uint8_t *psn, size_t psnlen,
                  uint8_t out[16]);
int pn_emv_session_key(const uint8_t mk[16], const uint8_t atc[2], uint8_t out[16]);
int pn_emv_arpc1(const uint8_t key[16], const uint8_t arqc[8], const uint8_t arc[2], uint8_t out[8]);
int pn_emv_arpc2(const uint8_t key[16], const uint8_t arqc[8], const uint8_t csu[4], const uint8_t *prop,
                 size_t plen, uint8_t out[4]);
void pn_sha1(const uint8_t *data, size_t len, uint8_t out[20]);
void pn_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* ---- RSA public operation and DOL (pn_rsa.c) ---- */
#define PN_RSA_MAX_BYTES 256
int pn_rsa_public(const uint8_t *mod, size_t mlen, const uint8_t *exp, size_t elen, const uint8_t *data,
                  size_t dlen, uint8_t *out);
#define PN_FMT_OTHER 0
#define PN_FMT_N 1
#define PN_FMT_CN 2
/* 1 = (tag, length) produced, 0 = end, <0 error; *pos advances */
int pn_dol_next(const uint8_t *dol, size_t len, size_t *pos, uint32_t *tag, size_t *dlen);
int pn_dol_fit(const uint8_t *value, size_t vlen, int fmt, uint8_t *out, size_t outlen);

/* ---- QR Code (pn_qr.c): byte mode, versions 1-10, level M (ISO/IEC 18004) ----
 * The symbol as packed bits in out (bit y*size+x, least significant first; size = 17 + 4 *
 * version); returns the bytes written, PN_ERR_DATA_LENGTH when the data does not fit a
 * version-10 symbol, PN_ERR_BUFFER when out is shorter than the symbol. */
#define PN_QR_MAX_BYTES 407
int pn_qr_encode(const uint8_t *data, size_t len, int min_version, uint8_t *out, size_t cap,
                 int *version, int *mask, long *score);

#endif
