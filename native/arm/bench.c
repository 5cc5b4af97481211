/* Instruction counts of the C core on an emulated Cortex-M4 (qemu mps2-an386, -icount shift=0:
 * one instruction = 1 ns of virtual time).  SysTick runs from the 25 MHz system clock, so one
 * tick = 40 instructions; each operation runs N times and the mean is printed. */
#include "posnative.h"
#include <stdio.h>
#include <string.h>

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define INSN_PER_TICK 40u

static uint32_t now(void) { return SYST_CVR; }
static uint32_t insns(uint32_t t0, uint32_t t1, unsigned n)
{
    return (uint32_t)(((t0 - t1) & 0xFFFFFFu) * INSN_PER_TICK / n);
}

static uint8_t record[253], out[256], modulus[248], data[248];

int main(void)
{
    uint32_t t0, t1;
    unsigned i, n;
    pn_tlv t;
    pn_tlv_iter it;
    static const uint8_t key16[16] = {1, 35, 69, 103, 137, 171, 205, 239, 254, 220, 186, 152, 118, 84, 50, 16};
    static const uint8_t e3[1] = {3}, e65537[3] = {1, 0, 1};
    int found = 0;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5;                          /* enable, processor clock, no interrupt */

    /* a 250-byte READ RECORD response: 70 81 F7 { 20 x 9F1x 0A value ... 5A 08 .. } + SW */
    record[0] = 0x70; record[1] = 0x81; record[2] = 248;
    for (i = 0, n = 3; n + 13 <= 251; i++) {
        record[n++] = 0x9F; record[n++] = (uint8_t)(0x10 + (i % 0x20)); record[n++] = 10;
        memset(record + n, (int)i, 10); n += 10;
    }
    while (n < 251) record[n++] = 0x00;    /* padding */
    record[251] = 0x90; record[252] = 0x00;
    n = 50;
    t0 = now();
    for (i = 0; i < n; i++) {
        pn_tlv_iter_init(&it, record + 3, 248);
        while (pn_tlv_next(&it, &t) == 1) found++;
        found += pn_tlv_find(record, 251, 0x9F2F, &t) == PN_OK;
    }
    t1 = now();
    printf("icount parse 250-byte READ RECORD response (iterate + find): %lu\n", (unsigned long)insns(t0, t1, n));

    n = 200;
    t0 = now();
    for (i = 0; i < n; i++) pn_des_ecb(key16, 16, 0, out, 8, out);
    t1 = now();
    printf("icount one 3DES block (2-key, ECB): %lu\n", (unsigned long)insns(t0, t1, n));

    for (i = 0; i < 256; i++) out[i] = (uint8_t)i;
    n = 20;
    t0 = now();
    for (i = 0; i < n; i++) pn_mac_iso9797_1(key16, 16, out, 256, 3, 2, out);
    t1 = now();
    printf("icount retail MAC (ISO 9797-1 alg 3) over 256 bytes: %lu\n", (unsigned long)insns(t0, t1, n));

    for (i = 0; i < 248; i++) { modulus[i] = (uint8_t)(0xC5 ^ (i * 7)); data[i] = (uint8_t)(i * 13); }
    modulus[0] = 0xE1; modulus[247] |= 1; data[0] = 0x12;
    n = 4;
    t0 = now();
    for (i = 0; i < n; i++) pn_rsa_public(modulus, 248, e3, 1, data, 248, out);
    t1 = now();
    printf("icount RSA public op 1984-bit, e=3: %lu\n", (unsigned long)insns(t0, t1, n));
    n = 1;
    t0 = now();
    for (i = 0; i < n; i++) pn_rsa_public(modulus, 248, e65537, 3, data, 248, out);
    t1 = now();
    printf("icount RSA public op 1984-bit, e=65537: %lu\n", (unsigned long)insns(t0, t1, n));

    {
        /* the qr-merchant payload (EMVCo MPM, 159 characters: a version-9 symbol) */
        static const char merchant[] =
            "00020101021226420019com.smartpos.wallet0115MERCHANT0000001520458125303840540512.50"
            "5802US5919SMARTPOS DEMO STORE6009SAN DIEGO62230107W0001230708TERM00016304C45D";
        static uint8_t qr[PN_QR_MAX_BYTES];
        int version = 0, mask = 0;
        long score = 0;
        n = 2;
        t0 = now();
        for (i = 0; i < n; i++)
            found += pn_qr_encode((const uint8_t *)merchant, sizeof merchant - 1, 1, qr, sizeof qr,
                                  &version, &mask, &score) > 0;
        t1 = now();
        printf("icount QR encode, qr-merchant payload (version %d, mask %d): %lu\n", version, mask,
               (unsigned long)insns(t0, t1, n));
    }
    printf("bench done (%d)\n", found > 0);
    return 0;
}
