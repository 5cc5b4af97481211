/* posnative core: BER-TLV, CRC-16, Luhn.  Portable C99, bounds-checked, no allocation. */
#include "posnative.h"
#include <string.h>

const char *pn_status_name(int s)
{
    switch (s) {
    case PN_OK: return "PN_OK";
    case PN_ERR_TRUNCATED: return "PN_ERR_TRUNCATED";
    case PN_ERR_TAG_TOO_LONG: return "PN_ERR_TAG_TOO_LONG";
    case PN_ERR_LENGTH_FORM: return "PN_ERR_LENGTH_FORM";
    case PN_ERR_DEPTH: return "PN_ERR_DEPTH";
    case PN_ERR_NOT_FOUND: return "PN_ERR_NOT_FOUND";
    case PN_ERR_BUFFER: return "PN_ERR_BUFFER";
    case PN_ERR_ARG: return "PN_ERR_ARG";
    case PN_ERR_KEY_LENGTH: return "PN_ERR_KEY_LENGTH";
    case PN_ERR_DATA_LENGTH: return "PN_ERR_DATA_LENGTH";
    case PN_ERR_PADDING: return "PN_ERR_PADDING";
    case PN_ERR_FORMAT: return "PN_ERR_FORMAT";
    case PN_ERR_RANGE: return "PN_ERR_RANGE";
    default: return "PN_ERR_UNKNOWN";
    }
}

void pn_tlv_iter_init(pn_tlv_iter *it, const uint8_t *data, size_t len)
{
    it->data = data;
    it->len = data ? len : 0;
    it->pos = 0;
}

int pn_tlv_next(pn_tlv_iter *it, pn_tlv *out)
{
    const uint8_t *d = it->data;
    size_t n = it->len, p = it->pos;
    uint32_t tag;
    size_t length, i;
    /* EMV Book 3 B1: 0x00 and 0xFF may pad between objects. */
    while (p < n && (d[p] == 0x00 || d[p] == 0xFF))
        p++;
    if (p >= n) {
        it->pos = p;
        return 0;
    }
    tag = d[p];
    out->constructed = (d[p] & 0x20) != 0;
    if ((d[p++] & 0x1F) == 0x1F) {
        /* subsequent tag bytes: b8 set means another follows */
        for (i = 1;; i++) {
            if (p >= n) return PN_ERR_TRUNCATED;
            if (i >= 4) return PN_ERR_TAG_TOO_LONG;
            tag = (tag << 8) | d[p];
            if (!(d[p++] & 0x80)) break;
        }
    }
    if (p >= n) return PN_ERR_TRUNCATED;
    if (d[p] < 0x80) {
        length = d[p++];
    } else {
        size_t nb = d[p++] & 0x7F;
        if (nb == 0 || nb > 3) return PN_ERR_LENGTH_FORM;
        if (n - p < nb) return PN_ERR_TRUNCATED;
        length = 0;
        for (i = 0; i < nb; i++) length = (length << 8) | d[p++];
    }
    if (n - p < length) return PN_ERR_TRUNCATED;
    out->tag = tag;
    out->value = d + p;
    out->length = length;
    it->pos = p + length;
    return 1;
}

int pn_tlv_find(const uint8_t *data, size_t len, uint32_t tag, pn_tlv *out)
{
    pn_tlv_iter stack[PN_TLV_MAX_DEPTH];
    int depth = 0, r;
    pn_tlv t;
    pn_tlv_iter_init(&stack[0], data, len);
    for (;;) {
        r = pn_tlv_next(&stack[depth], &t);
        if (r < 0) return r;
        if (r == 0) {
            if (depth == 0) return PN_ERR_NOT_FOUND;
            depth--;
            continue;
        }
        if (t.tag == tag) {
            *out = t;
            return PN_OK;
        }
        if (t.constructed) {
            if (depth + 1 >= PN_TLV_MAX_DEPTH) return PN_ERR_DEPTH;
            depth++;
            pn_tlv_iter_init(&stack[depth], t.value, t.length);
        }
    }
}

int pn_tlv_encode(uint32_t tag, const uint8_t *value, size_t vlen, uint8_t *out, size_t cap)
{
    uint8_t hdr[8];
    size_t h = 0;
    int i, started = 0;
    if (tag == 0 || (vlen && !value) || vlen > 0xFFFFFFu) return PN_ERR_ARG;
    for (i = 3; i >= 0; i--) {
        uint8_t b = (uint8_t)(tag >> (8 * i));
        if (b || started) { hdr[h++] = b; started = 1; }
    }
    if (vlen < 0x80) hdr[h++] = (uint8_t)vlen;
    else if (vlen <= 0xFF) { hdr[h++] = 0x81; hdr[h++] = (uint8_t)vlen; }
    else if (vlen <= 0xFFFF) { hdr[h++] = 0x82; hdr[h++] = (uint8_t)(vlen >> 8); hdr[h++] = (uint8_t)vlen; }
    else { hdr[h++] = 0x83; hdr[h++] = (uint8_t)(vlen >> 16); hdr[h++] = (uint8_t)(vlen >> 8); hdr[h++] = (uint8_t)vlen; }
    if (cap < h || cap - h < vlen) return PN_ERR_BUFFER;
    memcpy(out, hdr, h);
    if (vlen) memcpy(out + h, value, vlen);
    return (int)(h + vlen);
}

uint16_t pn_crc16_ccitt_false(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFF;
    size_t i;
    int b;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int pn_luhn_valid(const char *digits, size_t len)
{
    unsigned sum = 0;
    size_t i;
    if (!digits || len < 2) return PN_ERR_ARG;
    for (i = 0; i < len; i++) {
        int c = digits[len - 1 - i];
        int v;
        if (c < '0' || c > '9') return PN_ERR_ARG;
        v = c - '0';
        if (i & 1) { v *= 2; if (v > 9) v -= 9; }
        sum += (unsigned)v;
    }
    return sum % 10 == 0;
}

int pn_tlv_find_path(const uint8_t *data, size_t len, const uint32_t *path, size_t n, pn_tlv *out)
{
    size_t i;
    int st;
    if (n == 0 || n > PN_TLV_MAX_DEPTH) return PN_ERR_ARG;
    for (i = 0; i < n; i++) {
        pn_tlv_iter it;
        pn_tlv t;
        int found = 0;
        pn_tlv_iter_init(&it, data, len);
        while ((st = pn_tlv_next(&it, &t)) == 1) {
            if (t.tag == path[i]) {
                found = 1;
                break;
            }
        }
        if (st < 0) return st;
        if (!found) return PN_ERR_NOT_FOUND;
        if (i + 1 < n && !t.constructed) return PN_ERR_NOT_FOUND;
        *out = t;
        data = t.value;
        len = t.length;
    }
    return PN_OK;
}
