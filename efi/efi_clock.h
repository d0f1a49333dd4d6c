/* vhdboot: a microsecond clock for timing loads (the CPU's time-stamp
 * counter, calibrated once against the firmware's Stall). */
#ifndef VB_EFI_CLOCK_H
#define VB_EFI_CLOCK_H

#include <stdint.h>

/* Microseconds on a steady clock (calibrated on the first call, which
 * stalls for 1 ms); 0 when the counter does not advance. */
uint64_t efi_clock_usec(void);

#endif
