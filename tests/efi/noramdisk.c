/* vhdboot test helper: firmware without EFI_RAM_DISK_PROTOCOL. Runs as
 * \EFI\BOOT\BOOTX64.EFI, removes the RAM disk protocol from every handle
 * that carries it (OVMF's RamDiskDxe), prints "NORAMDISK: removed the RAM
 * disk protocol from N handle(s)", then starts \EFI\BOOT\VHDBOOT.EFI from its
 * own volume (which reads \EFI\BOOT\vhdboot.conf next to it), as a PC whose
 * firmware lacks the protocol would. tests/integration/test_ramdisk.sh uses
 * it for `write ram`'s offer of volatile writes. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_status.h"

static EFI_GUID ram_disk_guid = { 0xab38a0df, 0x6873, 0x44a9, { 0x87, 0xe6, 0xd4, 0xeb, 0x56, 0x14, 0x84, 0x49 } };

/* Uninstalls the RAM disk protocol wherever it is; returns how many handles lost it. */
static UINTN remove_ram_disk_protocol(void)
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0, removed = 0;
    if (BS->LocateHandleBuffer(ByProtocol, &ram_disk_guid, NULL, &count, &handles) != EFI_SUCCESS)
        return 0;
    for (UINTN i = 0; i < count; i++) {
        void *iface = NULL;
        if (BS->HandleProtocol(handles[i], &ram_disk_guid, &iface) == EFI_SUCCESS &&
            BS->UninstallProtocolInterface(handles[i], &ram_disk_guid, iface) == EFI_SUCCESS)
            removed++;
    }
    FreePool(handles);
    return removed;
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    EFI_HANDLE child = NULL;
    InitializeLib(image, systab);
    efi_say("NORAMDISK: removed the RAM disk protocol from %llu handle(s)\n",
            (unsigned long long)remove_ram_disk_protocol());
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded) {
        efi_say("NORAMDISK: error: cannot find the app's own image\n");
        return EFI_LOAD_ERROR;
    }
    EFI_DEVICE_PATH *path = FileDevicePath(loaded->DeviceHandle, L"\\EFI\\BOOT\\VHDBOOT.EFI");
    EFI_STATUS st = path ? BS->LoadImage(FALSE, image, path, NULL, 0, &child) : EFI_OUT_OF_RESOURCES;
    if (path)
        FreePool(path);
    if (st == EFI_SUCCESS)
        st = BS->StartImage(child, NULL, NULL);
    efi_say("NORAMDISK: vhdboot returned: %s\n", efi_status_text(st));
    return st;
}
