/* vhdboot: running work on the other processors (see efi_mp.h). */
#include <efi.h>
#include <efilib.h>
#include "efi_mp.h"

static EFI_GUID mp_services_guid = { 0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } };

/* EFI_MP_SERVICES_PROTOCOL (UEFI PI specification, volume 2), the members used. */
typedef VOID(EFIAPI *mp_procedure)(VOID *arg);
typedef struct mp_services mp_services;
struct mp_services {
    EFI_STATUS(EFIAPI *GetNumberOfProcessors)(mp_services *self, UINTN *count, UINTN *enabled);
    VOID *GetProcessorInfo;
    EFI_STATUS(EFIAPI *StartupAllAPs)(mp_services *self, mp_procedure procedure, BOOLEAN single_thread,
                                      EFI_EVENT wait_event, UINTN timeout_us, VOID *arg, UINTN **failed);
    VOID *StartupThisAP;
    VOID *SwitchBSP;
    VOID *EnableDisableAP;
    VOID *WhoAmI;
};

/* What every AP runs: the caller's function (the firmware calls it with the
 * Microsoft convention). */
static VOID EFIAPI trampoline(VOID *arg)
{
    efi_mp_run *run = arg;
    run->fn(run->arg);
}

unsigned long efi_mp_start(efi_mp_run *run, void (*fn)(void *), void *arg)
{
    mp_services *mp = NULL;
    UINTN count = 0, enabled = 0;
    run->mp = NULL;
    run->done = NULL;
    run->fn = fn;
    run->arg = arg;
    run->aps = 0;
    if (BS->LocateProtocol(&mp_services_guid, NULL, (VOID **)&mp) != EFI_SUCCESS || !mp ||
        mp->GetNumberOfProcessors(mp, &count, &enabled) != EFI_SUCCESS || enabled < 2)
        return 0;
    if (BS->CreateEvent(0, 0, NULL, NULL, &run->done) != EFI_SUCCESS)
        return 0;
    if (mp->StartupAllAPs(mp, trampoline, FALSE, run->done, 0, run, NULL) != EFI_SUCCESS) {
        BS->CloseEvent(run->done);
        run->done = NULL;
        return 0;
    }
    run->mp = mp;
    run->aps = (unsigned long)(enabled - 1);
    return run->aps;
}

bool efi_mp_finished(efi_mp_run *run)
{
    if (!run->mp)
        return true;
    if (BS->CheckEvent(run->done) != EFI_SUCCESS)
        return false;
    BS->CloseEvent(run->done);
    run->mp = NULL;
    run->done = NULL;
    return true;
}
