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
    PN_ERR_ARG = -7
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

#endif
