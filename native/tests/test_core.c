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

int main(void)
{
    test_crc();
    test_luhn();
    test_tlv();
    printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
    return failures != 0;
}
