/* libFuzzer harness: ISO 9564-1 PIN blocks, formats 0, 1, 3 and 4, built and parsed on
 * arbitrary PINs, PANs, fills and blocks.  Errors must be pn_status codes; a block that was
 * built parses back to the same PIN; a parsed PIN is 4..12 digits and nothing is written past
 * the 12-byte PIN buffer. */
#include "posnative.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void check_status(int r)
{
    if (r < PN_ERR_RANGE) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key16[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                      0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
    uint8_t block[8], block4[16], pin[13], pin4[13];
    const uint8_t *p, *pan, *fill, *rest;
    size_t plen, panlen, flen, rlen, klen, i;
    int fmt, r, n;
    if (size < 4) return 0;
    fmt = data[0] % 5;                      /* 0, 1, 3 valid; 2 invalid; 4 = AES format 4 */
    plen = data[1] % 16;
    panlen = data[2] % 24;
    flen = data[3] % 12;
    data += 4;
    size -= 4;
    if (plen > size) plen = size;
    p = data;
    data += plen; size -= plen;
    if (panlen > size) panlen = size;
    pan = data;
    data += panlen; size -= panlen;
    if (flen > size) flen = size;
    fill = data;
    rest = data + flen;
    rlen = size - flen;

    memset(pin, 0xEE, sizeof pin);
    if (fmt == 4) {
        uint8_t f8[8] = {0};
        memcpy(f8, fill, flen < 8 ? flen : 8);
        klen = rlen >= 32 ? 32 : rlen >= 24 ? 24 : 16;
        r = pn_pinblock4_encipher(key16, 16, p, plen, pan, panlen, f8, block4);
        check_status(r);
        if (r == 16) {
            memset(pin4, 0xEE, sizeof pin4);
            n = pn_pinblock4_decipher(key16, 16, block4, pan, panlen, pin4);
            if (n != (int)plen || memcmp(pin4, p, plen) || pin4[12] != 0xEE) __builtin_trap();
        }
        if (rlen >= 16) {                   /* an arbitrary enciphered block, maybe another key */
            r = pn_pinblock4_decipher(rlen >= 16 + klen ? rest + 16 : key16, rlen >= 16 + klen ? klen : 16,
                                      rest, pan, panlen, pin);
            check_status(r);
        }
    } else {
        r = pn_pinblock_build(fmt, p, plen, pan, panlen, fill, flen, block);
        check_status(r);
        if (r == 8) {
            n = pn_pinblock_parse(fmt, block, pan, panlen, pin);
            if (n != (int)plen || memcmp(pin, p, plen)) __builtin_trap();
        }
        if (rlen >= 8) {                    /* an arbitrary block from the wire */
            memset(pin, 0xEE, sizeof pin);
            n = pn_pinblock_parse(fmt, rest, pan, panlen, pin);
            check_status(n);
            if (n > 0) {
                if (n < 4 || n > 12) __builtin_trap();
                for (i = 0; i < (size_t)n; i++)
                    if (pin[i] < '0' || pin[i] > '9') __builtin_trap();
            }
        }
    }
    if (pin[12] != 0xEE) __builtin_trap();      /* the PIN buffer is 12 bytes */
    return 0;
}
