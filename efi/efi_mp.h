/* vhdboot: work on the firmware's other processors (EFI_MP_SERVICES_PROTOCOL).
 *
 * efi_mp_start runs a function on every enabled application processor (AP)
 * while the boot processor goes on; the function must be self-contained:
 * no firmware call, no console, only memory and atomics. Where the
 * protocol is absent (some firmware, a one-processor machine) nothing runs
 * on another processor and the caller does the work itself. */
#ifndef VB_EFI_MP_H
#define VB_EFI_MP_H

#include <efi.h>
#include <stdbool.h>

typedef struct efi_mp_run {
    void *mp;              /* the protocol, NULL when nothing was started */
    EFI_EVENT done;        /* signalled by the firmware when every AP returned */
    void (*fn)(void *);
    void *arg;
    unsigned long aps;     /* processors started */
} efi_mp_run;

/* Starts fn(arg) on every enabled AP without waiting (run must live until
 * efi_mp_finished returns true). Returns the number of APs started; 0 when
 * none could be (no protocol, no AP, or the firmware refused). */
unsigned long efi_mp_start(efi_mp_run *run, void (*fn)(void *), void *arg);

/* Returns true once every AP that efi_mp_start started has returned from
 * fn (at once when none was started); the firmware notices within its AP
 * status interval (10 ms in edk2). */
bool efi_mp_finished(efi_mp_run *run);

#endif
