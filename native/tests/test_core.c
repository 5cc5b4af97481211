/* C unit tests for the posnative core (host and semihosted Cortex-M4). */
#include "posnative.h"
#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); } } while (0)

static void test_crc(void)
{
    /* CRC-16/CCITT-FALSE check value over "123456789" is 0x29B1 */
    CHECK(pn_crc16_ccitt_false((const uint8_t *)"123456789", 9) == 0x29B1);
    CHECK(pn_crc16_ccitt_false(NULL, 0) == 0xFFFF);
}

static void test_luhn(void)
{
    CHECK(pn_luhn_valid("4111111111111111", 16) == 1);
    CHECK(pn_luhn_valid("4111111111111112", 16) == 0);
    CHECK(pn_luhn_valid("79927398713", 11) == 1);
    CHECK(pn_luhn_valid("4111a11111111111", 16) == PN_ERR_ARG);
    CHECK(pn_luhn_valid("4", 1) == PN_ERR_ARG);
}

static void test_tlv(void)
{
    /* 70 { 57 (2) ; 5F20 (3) } with a 00 pad byte, then 9F02 */
    static const uint8_t rec[] = {0x70, 0x0B, 0x57, 0x02, 0x41, 0x11, 0x00, 0x5F, 0x20, 0x03, 'A', 'B', 'C',
                                  0x9F, 0x02, 0x06, 0, 0, 0, 0, 0x10, 0x00};
    pn_tlv t;
    pn_tlv_iter it;
    uint8_t out[300], big[200];
    int n;
    CHECK(pn_tlv_find(rec, sizeof rec, 0x5F20, &t) == PN_OK);
    CHECK(t.length == 3 && memcmp(t.value, "ABC", 3) == 0);
    CHECK(pn_tlv_find(rec, sizeof rec, 0x9F02, &t) == PN_OK && t.length == 6 && t.value[4] == 0x10);
    CHECK(pn_tlv_find(rec, sizeof rec, 0x9F03, &t) == PN_ERR_NOT_FOUND);
    pn_tlv_iter_init(&it, rec, sizeof rec);
    CHECK(pn_tlv_next(&it, &t) == 1 && t.tag == 0x70 && t.constructed && t.length == 11);
    CHECK(pn_tlv_next(&it, &t) == 1 && t.tag == 0x9F02);
    CHECK(pn_tlv_next(&it, &t) == 0);
    /* truncated value, truncated tag, too-long tag, 4 length bytes */
    {
        static const uint8_t a[] = {0x57, 0x05, 1, 2};
        static const uint8_t b[] = {0x9F};
        static const uint8_t c[] = {0x9F, 0x81, 0x81, 0x81, 0x01, 0x00};
        static const uint8_t d[] = {0x57, 0x84, 0, 0, 0, 1, 0};
        static const uint8_t e[] = {0x57, 0x80};
        pn_tlv_iter_init(&it, a, sizeof a); CHECK(pn_tlv_next(&it, &t) == PN_ERR_TRUNCATED);
        pn_tlv_iter_init(&it, b, sizeof b); CHECK(pn_tlv_next(&it, &t) == PN_ERR_TRUNCATED);
        pn_tlv_iter_init(&it, c, sizeof c); CHECK(pn_tlv_next(&it, &t) == PN_ERR_TAG_TOO_LONG);
        pn_tlv_iter_init(&it, d, sizeof d); CHECK(pn_tlv_next(&it, &t) == PN_ERR_LENGTH_FORM);
        pn_tlv_iter_init(&it, e, sizeof e); CHECK(pn_tlv_next(&it, &t) == PN_ERR_LENGTH_FORM);
    }
    /* nesting deeper than 8 */
    {
        uint8_t deep[20];
        int i;
        for (i = 0; i < 9; i++) { deep[2 * i] = 0xE1; deep[2 * i + 1] = (uint8_t)(16 - 2 * i); }
        deep[18] = 0x57; deep[19] = 0x00;
        CHECK(pn_tlv_find(deep, sizeof deep, 0x5A, &t) == PN_ERR_DEPTH);
    }
    /* encode round trip, long form length */
    memset(big, 0xAB, sizeof big);
    n = pn_tlv_encode(0x9F4B, big, sizeof big, out, sizeof out);
    CHECK(n == 2 + 2 + 200 && out[0] == 0x9F && out[1] == 0x4B && out[2] == 0x81 && out[3] == 200);
    CHECK(pn_tlv_find(out, (size_t)n, 0x9F4B, &t) == PN_OK && t.length == 200);
    CHECK(pn_tlv_encode(0x57, big, 200, out, 10) == PN_ERR_BUFFER);
    CHECK(pn_tlv_encode(0x8A, (const uint8_t *)"00", 2, out, sizeof out) == 4 && out[0] == 0x8A && out[1] == 2);
    CHECK(strcmp(pn_status_name(PN_ERR_DEPTH), "PN_ERR_DEPTH") == 0);
}

static int hexeq(const uint8_t *b, const char *hex)
{
    size_t i;
    for (i = 0; hex[2 * i]; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || b[i] != v) return 0;
    }
    return 1;
}

static void test_crypto(void)
{
    static const uint8_t k[8] = {0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1};
    static const uint8_t pt[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
    uint8_t out[32], key[32], blk[16], pin[12];
    int i;
    CHECK(pn_des_ecb(k, 8, 0, pt, 8, out) == 8 && hexeq(out, "85e813540f0ab405"));   /* FIPS 46 example */
    CHECK(pn_des_ecb(k, 8, 1, out, 8, out) == 8 && memcmp(out, pt, 8) == 0);
    CHECK(pn_des_ecb(k, 7, 0, pt, 8, out) == PN_ERR_KEY_LENGTH);
    CHECK(pn_des_ecb(k, 8, 0, pt, 7, out) == PN_ERR_DATA_LENGTH);
    for (i = 0; i < 32; i++) key[i] = (uint8_t)i;
    for (i = 0; i < 16; i++) blk[i] = (uint8_t)(i * 0x11);
    CHECK(pn_aes_ecb(key, 16, 0, blk, 16, out) == 16 && hexeq(out, "69c4e0d86a7b0430d8cdb78070b4c55a"));
    CHECK(pn_aes_ecb(key, 32, 0, blk, 16, out) == 16 && hexeq(out, "8ea2b7ca516745bfeafc49904b496089"));
    CHECK(pn_aes_ecb(key, 32, 1, out, 16, out) == 16 && memcmp(out, blk, 16) == 0);
    pn_sha256((const uint8_t *)"abc", 3, out);
    CHECK(hexeq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    pn_sha1((const uint8_t *)"abc", 3, out);
    CHECK(hexeq(out, "a9993e364706816aba3e25717850c26c9cd0d89d"));
    CHECK(pn_pinblock_build(0, (const uint8_t *)"1234", 4, (const uint8_t *)"4111111111111111", 16, NULL, 0, out) == 8
          && hexeq(out, "041225eeeeeeeeee"));
    CHECK(pn_pinblock_parse(0, out, (const uint8_t *)"4111111111111111", 16, pin) == 4 && memcmp(pin, "1234", 4) == 0);
    /* RSA: 3^3 mod 0x...(odd) small check against a known product: 2^3 mod 1000003-ish */
    {
        uint8_t m[8] = {0, 0, 0, 0, 0, 0x0F, 0x42, 0x43}, x[8] = {0, 0, 0, 0, 0, 0, 0, 2}, e = 3;
        m[0] = 0x80;                                   /* modulus 0x8000000000 0F4243 */
        CHECK(pn_rsa_public(m, 8, &e, 1, x, 8, out) == 8 && hexeq(out, "0000000000000008"));
        CHECK(pn_rsa_public(m, 8, &e, 1, m, 8, out) == PN_ERR_RANGE);
    }
}

int main(void)
{
    test_crc();
    test_luhn();
    test_tlv();
    test_crypto();
    printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
    return failures != 0;
}
