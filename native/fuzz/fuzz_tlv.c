/* libFuzzer harness: BER-TLV iterate, find and re-encode must never read out of bounds. */
#include "posnative.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pn_tlv_iter it;
    pn_tlv t, f;
    uint8_t out[1024];
    int r, n = 0;
    pn_tlv_iter_init(&it, data, size);
    while ((r = pn_tlv_next(&it, &t)) == 1 && n++ < 4096) {
        if (t.length <= 1000) {
            int w = pn_tlv_encode(t.tag, t.value, t.length, out, sizeof out);
            if (w > 0 && (pn_tlv_find(out, (size_t)w, t.tag, &f) != PN_OK || f.length != t.length))
                __builtin_trap();
        }
        (void)pn_tlv_find(data, size, t.tag, &f);
    }
    (void)pn_tlv_find(data, size, 0x9F4B, &f);
    return 0;
}
