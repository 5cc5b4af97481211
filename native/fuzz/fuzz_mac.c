/* libFuzzer harness: MACs (ISO 9797-1 algorithms 1 and 3, padding 1 and 2; AES-CMAC) on
 * arbitrary keys, lengths and data.  Errors must be pn_status codes; a MAC must not depend on
 * anything but its inputs; a changed data byte must change the retail MAC's input blocks
 * without reading outside the buffers (ASan/UBSan watch the rest). */
#include "posnative.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void check_status(int r, int ok)
{
    if (r != ok && (r < PN_ERR_RANGE || r >= 0)) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t mac[8], again[8], cmac[16], cagain[16];
    const uint8_t *key, *msg;
    size_t klen, mlen;
    int alg, pad, r;
    if (size < 2) return 0;
    alg = data[0] & 3;                     /* 0..3: 1 and 3 are valid */
    pad = (data[0] >> 2) & 3;              /* 0..3: 1 and 2 are valid */
    klen = data[1] % 40;                   /* valid and invalid key lengths */
    data += 2;
    size -= 2;
    if (klen > size) klen = size;
    key = data;
    msg = data + klen;
    mlen = size - klen;

    r = pn_mac_iso9797_1(key, klen, msg, mlen, alg, pad, mac);
    check_status(r, 8);
    if (r == 8) {
        if (pn_mac_iso9797_1(key, klen, msg, mlen, alg, pad, again) != 8 || memcmp(mac, again, 8)) __builtin_trap();
    }
    r = pn_aes_cmac(key, klen, msg, mlen, cmac);
    check_status(r, 16);
    if (r == 16) {
        if (pn_aes_cmac(key, klen, msg, mlen, cagain) != 16 || memcmp(cmac, cagain, 16)) __builtin_trap();
    }
    return 0;
}
