/* vhdboot test helper: free memory that is not zero. Runs as
 * \EFI\BOOT\BOOTX64.EFI, fills every free (EfiConventionalMemory) range of
 * the firmware's memory map with the byte 0xA5, gives it back, prints
 * "DIRTYMEM: filled N MiB of free memory with 0xA5", then starts
 * \EFI\BOOT\VHDBOOT.EFI from its own volume. A freshly started virtual
 * machine's memory is all zeros, so a `write ram` load that forgot to zero
 * a hole would still pass there; after this app the RAM disk lands on
 * dirty memory, and the guest's sha256 of /dev/pmem0 shows every hole was
 * made zero (tests/integration/test_ramdisk.sh). */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_status.h"

/* Allocates each free range at its address, fills it, frees it; returns the bytes filled. */
static UINT64 dirty_free_memory(void)
{
    UINTN size = 0, key, desc_size = 0;
    UINT32 version;
    EFI_MEMORY_DESCRIPTOR *map = NULL;
    EFI_STATUS st = BS->GetMemoryMap(&size, NULL, &key, &desc_size, &version);
    while (st == EFI_BUFFER_TOO_SMALL) {
        if (map)
            FreePool(map);
        size += 16 * desc_size;
        map = AllocatePool(size);
        if (!map)
            return 0;
        st = BS->GetMemoryMap(&size, map, &key, &desc_size, &version);
    }
    UINT64 filled = 0;
    for (UINTN off = 0; st == EFI_SUCCESS && off + desc_size <= size; off += desc_size) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + off);
        EFI_PHYSICAL_ADDRESS at = d->PhysicalStart;
        UINT64 pages = d->NumberOfPages;
        if (d->Type != EfiConventionalMemory)
            continue;
        if (at == 0) { /* keep page 0 out of it */
            at += EFI_PAGE_SIZE;
            pages--;
        }
        if (!pages || BS->AllocatePages(AllocateAddress, EfiLoaderData, pages, &at) != EFI_SUCCESS)
            continue; /* taken meanwhile (by the map buffer): skip it */
        volatile UINT64 *q = (volatile UINT64 *)(UINTN)at;
        for (UINT64 i = 0; i < pages * (EFI_PAGE_SIZE / 8); i++)
            q[i] = 0xA5A5A5A5A5A5A5A5ull;
        BS->FreePages(at, pages);
        filled += pages * EFI_PAGE_SIZE;
    }
    if (map)
        FreePool(map);
    return filled;
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    EFI_HANDLE child = NULL;
    InitializeLib(image, systab);
    efi_say("DIRTYMEM: filled %llu MiB of free memory with 0xA5\n", (unsigned long long)(dirty_free_memory() >> 20));
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded) {
        efi_say("DIRTYMEM: error: cannot find the app's own image\n");
        return EFI_LOAD_ERROR;
    }
    EFI_DEVICE_PATH *path = FileDevicePath(loaded->DeviceHandle, L"\\EFI\\BOOT\\VHDBOOT.EFI");
    EFI_STATUS st = path ? BS->LoadImage(FALSE, image, path, NULL, 0, &child) : EFI_OUT_OF_RESOURCES;
    if (path)
        FreePool(path);
    if (st == EFI_SUCCESS)
        st = BS->StartImage(child, NULL, NULL);
    efi_say("DIRTYMEM: vhdboot returned: %s\n", efi_status_text(st));
    return st;
}
