/* vhdboot: partition identity from the hard-drive node (UEFI 2.10 section
 * 10.3.5.1: PartitionNumber at 4, PartitionStart at 8 in the disk's blocks,
 * Signature at 24, SignatureType at 41: 1 MBR, 2 GPT) and the disk's GPT
 * header (disk GUID at byte 56 of LBA 1). */
#include <efi.h>
#include <efilib.h>
#include "efi_partition_id.h"
#include "efi_devpath.h"
#include "format/bytes.h"

#define HD_NODE_BYTES 42u

/* Copies the last node of path into node when it is a hard-drive node. */
static bool last_hd_node(const EFI_DEVICE_PATH *path, uint8_t node[HD_NODE_BYTES])
{
    const EFI_DEVICE_PATH *last = NULL;
    for (const EFI_DEVICE_PATH *n = path; !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        last = n;
    if (!last || DevicePathType(last) != MEDIA_DEVICE_PATH || DevicePathSubType(last) != MEDIA_HARDDRIVE_DP ||
        (UINTN)DevicePathNodeLength(last) < HD_NODE_BYTES)
        return false;
    vb_memcpy(node, last, HD_NODE_BYTES);   /* the node may sit unaligned */
    return true;
}

/* The BlockIO of the whole disk under a partition's device path, or NULL. */
static EFI_BLOCK_IO *disk_below(const EFI_DEVICE_PATH *path)
{
    EFI_DEVICE_PATH *disk_path = efi_devpath_parent(path), *rest = disk_path;
    EFI_HANDLE handle = NULL;
    EFI_BLOCK_IO *disk = NULL;
    if (disk_path && BS->LocateDevicePath(&BlockIoProtocol, &rest, &handle) == EFI_SUCCESS && rest &&
        IsDevicePathEnd(rest) && BS->HandleProtocol(handle, &BlockIoProtocol, (void **)&disk) != EFI_SUCCESS)
        disk = NULL;
    if (disk_path)
        FreePool(disk_path);
    if (disk && (disk->Media->LogicalPartition || !disk->Media->MediaPresent || disk->Media->BlockSize < 512 ||
                 disk->Media->BlockSize > 65536))
        disk = NULL;
    return disk;
}

/* Reads the disk GUID from the GPT header at LBA 1 of disk. */
static vb_status read_disk_guid(EFI_BLOCK_IO *disk, uint8_t guid[16])
{
    UINTN bytes = disk->Media->BlockSize, pages = (bytes + 4095) / 4096;
    EFI_PHYSICAL_ADDRESS at = 0;
    /* whole pages: aligned for any IoAlign up to 4 KiB */
    if (BS->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &at) != EFI_SUCCESS)
        return VB_ERR_NO_MEMORY;
    uint8_t *buf = (uint8_t *)(UINTN)at;
    vb_status st = VB_ERR_IO;
    if (disk->ReadBlocks(disk, disk->Media->MediaId, 1, bytes, buf) == EFI_SUCCESS) {
        st = vb_memcmp(buf, "EFI PART", 8) == 0 ? VB_OK : VB_ERR_FS_CORRUPT;
        if (st == VB_OK)
            vb_memcpy(guid, buf + 56, 16);
    }
    BS->FreePages(at, pages);
    return st;
}

vb_status efi_partition_identity(EFI_HANDLE handle, vb_disk_id *out, vb_diag *diag)
{
    EFI_DEVICE_PATH *path = DevicePathFromHandle(handle);
    uint8_t node[HD_NODE_BYTES];
    vb_memset(out, 0, sizeof(*out));
    if (!path || !last_hd_node(path, node))
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "the host volume is not a GPT or MBR partition");
    EFI_BLOCK_IO *disk = disk_below(path);
    if (!disk)
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "the disk under the host volume has no BlockIO");
    uint64_t start = vb_le64(node + 8);
    if (node[41] == 2) {
        out->style = VB_DISK_GPT;
        vb_memcpy(out->part_guid, node + 24, 16);
        vb_status st = read_disk_guid(disk, out->disk_guid);
        if (st != VB_OK)
            return vb_fail(diag, st, "cannot read the GPT header of the host disk: %s", vb_status_message(st));
    } else if (node[41] == 1) {
        out->style = VB_DISK_MBR;
        out->mbr_signature = vb_le32(node + 24);
    } else {
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "the host partition has no GPT or MBR signature");
    }
    out->part_offset = start * disk->Media->BlockSize;
    out->part_size = vb_le64(node + 16) * disk->Media->BlockSize;
    return VB_OK;
}
