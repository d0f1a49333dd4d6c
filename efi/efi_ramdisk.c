/* vhdboot: RAM disk memory and EFI_RAM_DISK_PROTOCOL (see ramdisk.h).
 *
 * gnu-efi has no header for the protocol (UEFI 2.6, section "RAM Disk
 * Protocol"), so its two functions and GUIDs are declared here. edk2's
 * RamDiskDxe installs BlockIO, BlockIO2 and the device path on a new handle
 * and connects drivers itself; Unregister removes them without disconnecting
 * first and frees the device path it returned, so drivers are disconnected
 * here before it is called, and the path is never used afterwards. */
#include <efi.h>
#include <efilib.h>
#include "efi_ramdisk.h"
#include "efi_status.h"
#include "format/platform.h"

#define RAM_DISK_PROTOCOL_GUID \
    { 0xab38a0df, 0x6873, 0x44a9, { 0x87, 0xe6, 0xd4, 0xeb, 0x56, 0x14, 0x84, 0x49 } }
/* EFI_VIRTUAL_DISK_GUID: a volatile virtual disk (an NFIT SPA range type). */
#define VIRTUAL_DISK_GUID \
    { 0x77ab535a, 0x45fc, 0x624b, { 0x55, 0x60, 0xf7, 0xb2, 0x81, 0xd1, 0xf9, 0x6e } }

typedef struct ram_disk_protocol {
    EFI_STATUS(EFIAPI *Register)(UINT64 base, UINT64 size, EFI_GUID *type, EFI_DEVICE_PATH *parent,
                                 EFI_DEVICE_PATH **path);
    EFI_STATUS(EFIAPI *Unregister)(EFI_DEVICE_PATH *path);
} ram_disk_protocol;

struct efi_ramdisk {
    EFI_PHYSICAL_ADDRESS base;
    UINTN pages;
    uint64_t size;
    EFI_DEVICE_PATH *path;     /* owned by the firmware once registered */
};

static EFI_GUID ram_disk_guid = RAM_DISK_PROTOCOL_GUID;
static EFI_GUID virtual_disk_guid = VIRTUAL_DISK_GUID;

/* Returns the firmware's RAM disk protocol, or NULL. */
static ram_disk_protocol *protocol(void)
{
    ram_disk_protocol *p = NULL;
    if (BS->LocateProtocol(&ram_disk_guid, NULL, (void **)&p) != EFI_SUCCESS)
        return NULL;
    return p;
}

bool efi_ramdisk_available(void)
{
    return protocol() != NULL;
}

vb_status efi_memory_free(uint64_t *largest, uint64_t *total)
{
    UINTN size = 0, key, desc_size = 0;
    UINT32 version;
    EFI_MEMORY_DESCRIPTOR *map = NULL;
    EFI_STATUS st = BS->GetMemoryMap(&size, NULL, &key, &desc_size, &version);
    /* the pool allocation below may add descriptors: a few spare */
    while (st == EFI_BUFFER_TOO_SMALL) {
        vb_free(map);
        size += 8 * desc_size;
        map = vb_alloc(size);
        if (!map)
            return VB_ERR_NO_MEMORY;
        st = BS->GetMemoryMap(&size, map, &key, &desc_size, &version);
    }
    if (st != EFI_SUCCESS || desc_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
        vb_free(map);
        return VB_ERR_IO;
    }
    /* edk2 sorts its map by address: free runs split only by attribute
     * changes are neighbours and are joined */
    uint64_t run = 0, run_end = 0;
    *largest = *total = 0;
    for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)((const UINT8 *)map + off);
        if (d->Type != EfiConventionalMemory)
            continue;
        uint64_t bytes = d->NumberOfPages << EFI_PAGE_SHIFT;
        *total += bytes;
        run = run && d->PhysicalStart == run_end ? run + bytes : bytes;
        run_end = d->PhysicalStart + bytes;
        if (run > *largest)
            *largest = run;
    }
    vb_free(map);
    return VB_OK;
}

vb_status efi_ramdisk_alloc(uint64_t size, efi_ramdisk **out, vb_diag *diag)
{
    if (size == 0 || size % 512 != 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "RAM disk size %llu is not a whole number of sectors",
                       (unsigned long long)size);
    efi_ramdisk *rd = vb_alloc(sizeof *rd);
    if (!rd)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "out of memory for the RAM disk");
    rd->size = size;
    rd->pages = (UINTN)((size + EFI_PAGE_SIZE - 1) >> EFI_PAGE_SHIFT);
    EFI_STATUS st = BS->AllocatePages(AllocateAnyPages, EfiReservedMemoryType, rd->pages, &rd->base);
    if (st != EFI_SUCCESS) {
        vb_free(rd);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "the firmware cannot give %llu MiB of memory for the RAM disk: %s",
                       (unsigned long long)(size >> 20), efi_status_text(st));
    }
    *out = rd;
    return VB_OK;
}

uint8_t *efi_ramdisk_memory(const efi_ramdisk *rd)
{
    return (uint8_t *)(UINTN)rd->base;
}

vb_status efi_ramdisk_register(efi_ramdisk *rd, vb_diag *diag)
{
    ram_disk_protocol *p = protocol();
    if (!p)
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "the firmware has no RAM disk protocol");
    EFI_DEVICE_PATH *path = NULL;
    EFI_STATUS st = p->Register(rd->base, rd->size, &virtual_disk_guid, NULL, &path);
    if (st != EFI_SUCCESS || !path)
        return vb_fail(diag, VB_ERR_IO, "the firmware refused to register the RAM disk: %s", efi_status_text(st));
    rd->path = path;
    return VB_OK;
}

EFI_DEVICE_PATH *efi_ramdisk_device_path(const efi_ramdisk *rd)
{
    return rd->path;
}

bool efi_ramdisk_free(efi_ramdisk *rd)
{
    if (rd->path) {
        ram_disk_protocol *p = protocol();
        EFI_DEVICE_PATH *rest = rd->path;
        EFI_HANDLE handle = NULL;
        if (!p)
            return false;
        /* the disk's own handle: its whole path matched */
        if (BS->LocateDevicePath(&BlockIoProtocol, &rest, &handle) == EFI_SUCCESS && IsDevicePathEnd(rest) &&
            BS->DisconnectController(handle, NULL, NULL) != EFI_SUCCESS)
            return false;
        if (p->Unregister(rd->path) != EFI_SUCCESS)
            return false;
        rd->path = NULL;
    }
    BS->FreePages(rd->base, rd->pages);
    vb_free(rd);
    return true;
}
