/* vhdboot: the time-stamp counter as a microsecond clock (see clock.h). */
#include <efi.h>
#include <efilib.h>
#include "efi_clock.h"

static uint64_t ticks_per_ms;   /* 0 until calibrated */

uint64_t efi_clock_usec(void)
{
    if (ticks_per_ms == 0) {
        uint64_t before = __builtin_ia32_rdtsc();
        BS->Stall(1000);
        uint64_t after = __builtin_ia32_rdtsc();
        if (after <= before)
            return 0;
        ticks_per_ms = after - before;
    }
    uint64_t t = __builtin_ia32_rdtsc();
    return t / ticks_per_ms * 1000 + t % ticks_per_ms * 1000 / ticks_per_ms;
}
