/* handoffcheck: a test EFI app started by vhdboot (from inside a VHD) that
 * prints the VhdbootDisk variable the loader set before starting it:
 *   "HANDOFF: attributes 0xA bytes N hex <record in hex>"  or  "HANDOFF: absent"
 * then "HANDOFF: DONE". With load options... none: it then returns
 * EFI_ABORTED, so the loader treats the boot as failed and returns to its
 * menu (tests/integration/test_handoff_var.sh). */
#include <efi.h>
#include <efilib.h>
#include "efi/console.h"
#include "efi/vdisk.h"
#include "format/handoff.h"

static EFI_GUID vendor = VB_VDISK_GUID;

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    static uint8_t data[VB_HANDOFF_MAX_BYTES];
    static char hex[64 + 1];
    InitializeLib(image, systab);
    UINTN size = sizeof data;
    UINT32 attrs = 0;
    EFI_STATUS st = RT->GetVariable(L"VhdbootDisk", &vendor, &attrs, &size, data);
    if (st != EFI_SUCCESS) {
        efi_say("HANDOFF: absent\n");
    } else {
        efi_say("HANDOFF: attributes 0x%x bytes %u\n", (unsigned)attrs, (unsigned)size);
        /* in lines of 32 bytes, so no console line gets too long */
        for (UINTN off = 0; off < size; off += 32) {
            UINTN n = size - off < 32 ? size - off : 32;
            for (UINTN i = 0; i < n; i++) {
                hex[2 * i] = "0123456789abcdef"[data[off + i] >> 4];
                hex[2 * i + 1] = "0123456789abcdef"[data[off + i] & 15];
            }
            hex[2 * n] = '\0';
            efi_say("HANDOFF-HEX: %s\n", hex);
        }
    }
    efi_say("HANDOFF: DONE\n");
    return EFI_ABORTED;
}
