/* blicheck: a test EFI app started by vhdboot (from inside a VHD) that
 * prints the Boot Loader Interface variables the loader published, one
 * "BLI: Name=value" line each ("BLI: Name absent" when missing), then
 * "BLI: DONE" and powers the machine off. tests/integration/test_menu.sh
 * checks the lines. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_text.h"
#include "format/bytes.h"
#include "format/diag.h"

static EFI_GUID bli_guid = { 0x4a67b082, 0x0a4c, 0x41cf, { 0xb6, 0xc7, 0x44, 0x0b, 0x29, 0xbb, 0x8c, 0x4f } };

/* Prints variable name as text: each NUL-terminated UTF-16 string of its
 * value, joined with '|' (so a list like LoaderEntries shows every item),
 * with its attributes. */
static void show(const CHAR16 *name, const char *label)
{
    static CHAR16 data[2048];
    char text[1024], out[2200];
    UINTN size = sizeof data - sizeof(CHAR16);
    UINT32 attrs = 0;
    EFI_STATUS st = RT->GetVariable((CHAR16 *)name, &bli_guid, &attrs, &size, data);
    if (st != EFI_SUCCESS) {
        efi_say("BLI: %s absent\n", label);
        return;
    }
    UINTN units = size / sizeof(CHAR16), start = 0;
    bool terminated = units && data[units - 1] == 0;
    data[units] = 0;
    out[0] = '\0';
    size_t used = 0;
    while (start < units) {
        UINTN end = start;
        while (end < units && data[end])
            end++;
        data[end] = 0;
        if (efi_char16_to_utf8(data + start, text, sizeof text) != VB_OK)
            vb_strlcpy(text, "?", sizeof text);
        used += (size_t)vb_format(out + used, (int)(sizeof out - used), "%s%s", used ? "|" : "", text);
        start = end + 1;
    }
    efi_say("BLI: %s=%s (attributes 0x%x, %s-terminated)\n", label, out, (unsigned)attrs,
            terminated ? "NUL" : "not");
}

/* Prints a 64-bit little-endian variable (LoaderFeatures) in hex. */
static void show_u64(const CHAR16 *name, const char *label)
{
    uint8_t data[8];
    UINTN size = sizeof data;
    UINT32 attrs = 0;
    if (RT->GetVariable((CHAR16 *)name, &bli_guid, &attrs, &size, data) != EFI_SUCCESS || size != sizeof data) {
        efi_say("BLI: %s absent\n", label);
        return;
    }
    efi_say("BLI: %s=0x%llx (attributes 0x%x)\n", label, (unsigned long long)vb_le64(data), (unsigned)attrs);
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    InitializeLib(image, systab);
    show(L"LoaderInfo", "LoaderInfo");
    show(L"LoaderEntrySelected", "LoaderEntrySelected");
    show(L"LoaderEntries", "LoaderEntries");
    show(L"LoaderDevicePartUUID", "LoaderDevicePartUUID");
    show(L"LoaderTimeInitUSec", "LoaderTimeInitUSec");
    show(L"LoaderTimeExecUSec", "LoaderTimeExecUSec");
    show(L"LoaderFirmwareType", "LoaderFirmwareType");
    show_u64(L"LoaderFeatures", "LoaderFeatures");
    show(L"LoaderEntryOneShot", "LoaderEntryOneShot");
    efi_say("BLI: DONE\n");
    RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
    return EFI_SUCCESS;
}
