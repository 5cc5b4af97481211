/* Minimal Cortex-M4 startup for qemu mps2-an386: vector table, then newlib's _start (rdimon crt0). */
#include <stdint.h>
extern void _start(void);
extern uint32_t __stack_top;
static void fault(void) { for (;;) {} }
__attribute__((section(".vectors"), used))
const void *const vectors[16] = {
    &__stack_top, (const void *)_start, (const void *)fault, (const void *)fault,
    (const void *)fault, (const void *)fault, (const void *)fault, 0, 0, 0, 0,
    (const void *)fault, (const void *)fault, 0, (const void *)fault, (const void *)fault,
};
