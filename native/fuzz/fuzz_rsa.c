/* libFuzzer harness: RSA public operation (EMV Book 2 certificate recovery) on arbitrary
 * moduli, exponents and data.  Errors must be pn_status codes; with a valid odd modulus the
 * result is below the modulus, e = 1 gives the data back, and (x^3)^3 = x^9. */
#include "posnative.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void check_status(int r, size_t ok)
{
    if (r != (int)ok && (r < PN_ERR_RANGE || r >= 0)) __builtin_trap();
}

static int below(const uint8_t *a, const uint8_t *n, size_t len)
{
    return memcmp(a, n, len) < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[PN_RSA_MAX_BYTES], y[PN_RSA_MAX_BYTES], z[PN_RSA_MAX_BYTES];
    static const uint8_t e1[1] = {1}, e3[1] = {3}, e9[1] = {9};
    uint8_t mod[PN_RSA_MAX_BYTES + 8];
    const uint8_t *x, *exp;
    size_t mlen, elen;
    int r, flags;
    if (size < 3) return 0;
    flags = data[0];
    elen = data[1] % 6;                       /* 1..4 valid */
    data += 2;
    size -= 2;
    if (elen > size) elen = size;
    exp = data;
    data += elen;
    size -= elen;
    mlen = size / 2;
    if (mlen > PN_RSA_MAX_BYTES + 8) mlen = PN_RSA_MAX_BYTES + 8;
    memcpy(mod, data, mlen);
    x = data + mlen;
    if (mlen && (flags & 1)) {                /* most of the time: a modulus the function takes */
        mod[0] |= 0x80;
        mod[mlen - 1] |= 1;
    }
    r = pn_rsa_public(mod, mlen, exp, elen, x, mlen, mlen <= PN_RSA_MAX_BYTES ? out : z);
    check_status(r, mlen);
    if (r != (int)mlen) return 0;
    if (!below(out, mod, mlen)) __builtin_trap();
    if (pn_rsa_public(mod, mlen, e1, 1, x, mlen, y) != (int)mlen || memcmp(x, y, mlen)) __builtin_trap();
    if (flags & 2) {                          /* (x^3)^3 = x^9 mod n: the costlier check, half the time */
        if (pn_rsa_public(mod, mlen, e3, 1, x, mlen, y) != (int)mlen) __builtin_trap();
        if (pn_rsa_public(mod, mlen, e3, 1, y, mlen, z) != (int)mlen) __builtin_trap();
        if (pn_rsa_public(mod, mlen, e9, 1, x, mlen, y) != (int)mlen || memcmp(y, z, mlen)) __builtin_trap();
    }
    return 0;
}
