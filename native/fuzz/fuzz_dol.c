/* libFuzzer harness: DOL parsing and fitting (EMV Book 3 5.4) on arbitrary bytes. */
#include "posnative.h"
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0, dlen, total = 0;
    uint32_t tag;
    uint8_t out[128];
    int rc;
    while ((rc = pn_dol_next(data, size, &pos, &tag, &dlen)) == 1) {
        if (dlen > sizeof out) dlen = sizeof out;
        pn_dol_fit(data, size < 16 ? size : 16, (int)(tag % 3), out, dlen);
        total += dlen;
        if (pos > size) __builtin_trap();
    }
    (void)total;
    return 0;
}
