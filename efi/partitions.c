/* vhdboot: partitions as block sources over DiskIO (see partitions.h). */
#include <efi.h>
#include <efilib.h>
#include "partitions.h"
#include "devpath.h"
#include "vdisk.h"
#include "format/platform.h"

struct partition {
    EFI_BLOCK_IO *block_io;
    EFI_DISK_IO *disk_io;
    UINT32 media_id;
};

static EFI_GUID vdisk_guid = VB_VDISK_GUID;

/* Whether path carries vhdboot's vendor node (a virtual disk of ours or one
 * of its partitions): those must never be taken for host volumes. */
static bool is_our_vdisk(const EFI_DEVICE_PATH *path)
{
    for (const EFI_DEVICE_PATH *node = path; !IsDevicePathEnd(node); node = NextDevicePathNode(node))
        if (DevicePathType(node) == HARDWARE_DEVICE_PATH && DevicePathSubType(node) == HW_VENDOR_DP &&
            (UINTN)DevicePathNodeLength(node) >= sizeof(VENDOR_DEVICE_PATH) &&
            CompareMem(&((const VENDOR_DEVICE_PATH *)node)->Guid, &vdisk_guid, sizeof vdisk_guid) == 0)
            return true;
    return false;
}

/* Whether some partition handle's path starts with the whole disk's path. */
static bool disk_has_partitions(const EFI_DEVICE_PATH *disk, EFI_HANDLE *all, UINTN count)
{
    for (UINTN i = 0; i < count; i++) {
        EFI_BLOCK_IO *bio = NULL;
        EFI_DEVICE_PATH *path = DevicePathFromHandle(all[i]);
        if (path && BS->HandleProtocol(all[i], &BlockIoProtocol, (void **)&bio) == EFI_SUCCESS && bio &&
            bio->Media->LogicalPartition && efi_devpath_has_prefix(path, disk))
            return true;
    }
    return false;
}

/* Connects every driver to every controller, recursively (once per boot):
 * the firmware may have connected only the boot disk, so a second disk
 * would otherwise have no BlockIO at all. */
static void connect_all(void)
{
    static bool done;
    EFI_HANDLE *all = NULL;
    UINTN count = 0;
    if (done)
        return;
    done = true;
    if (BS->LocateHandleBuffer(AllHandles, NULL, NULL, &count, &all) != EFI_SUCCESS)
        return;
    for (UINTN i = 0; i < count; i++)
        BS->ConnectController(all[i], NULL, NULL, TRUE);
    FreePool(all);
}

UINTN efi_partitions_list(EFI_HANDLE **handles)
{
    EFI_HANDLE *all = NULL;
    UINTN count = 0, kept = 0;
    *handles = NULL;
    connect_all();
    if (BS->LocateHandleBuffer(ByProtocol, &BlockIoProtocol, NULL, &count, &all) != EFI_SUCCESS)
        return 0;
    for (UINTN i = 0; i < count; i++) {
        EFI_BLOCK_IO *bio = NULL;
        EFI_DEVICE_PATH *path = DevicePathFromHandle(all[i]);
        if (!path || is_our_vdisk(path))
            continue;
        if (BS->HandleProtocol(all[i], &BlockIoProtocol, (void **)&bio) != EFI_SUCCESS || !bio ||
            !bio->Media->MediaPresent)
            continue;
        if (!bio->Media->LogicalPartition && disk_has_partitions(path, all, count))
            continue;
        all[kept++] = all[i]; /* kept <= i: compacting in place is safe */
    }
    if (kept == 0) {
        FreePool(all);
        return 0;
    }
    *handles = all;
    return kept;
}

/* Reads len bytes at a byte offset of the partition. */
static vb_status partition_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct partition *p = ctx;
    EFI_STATUS st = p->disk_io->ReadDisk(p->disk_io, p->media_id, offset, len, buf);
    return st == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

/* Writes len bytes at a byte offset of the partition. */
static vb_status partition_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct partition *p = ctx;
    EFI_STATUS st = p->disk_io->WriteDisk(p->disk_io, p->media_id, offset, len, (void *)buf);
    if (st == EFI_WRITE_PROTECTED)
        return VB_ERR_WRITE_PROTECTED;
    return st == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

/* Flushes the disk's write cache. */
static vb_status partition_flush(void *ctx)
{
    struct partition *p = ctx;
    return p->block_io->FlushBlocks(p->block_io) == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

static void partition_close(void *ctx)
{
    vb_free(ctx);
}

vb_status efi_partition_source_open(EFI_HANDLE handle, bool writable, vb_source *out)
{
    EFI_BLOCK_IO *bio = NULL;
    EFI_DISK_IO *dio = NULL;
    if (BS->HandleProtocol(handle, &BlockIoProtocol, (void **)&bio) != EFI_SUCCESS || !bio ||
        BS->HandleProtocol(handle, &DiskIoProtocol, (void **)&dio) != EFI_SUCCESS || !dio)
        return VB_ERR_NOT_FOUND;
    EFI_BLOCK_IO_MEDIA *media = bio->Media;
    if (!media->MediaPresent || media->BlockSize == 0 ||
        media->LastBlock >= UINT64_MAX / media->BlockSize) /* (LastBlock + 1) * BlockSize must fit */
        return VB_ERR_NOT_FOUND;
    struct partition *p = vb_alloc(sizeof *p);
    if (!p)
        return VB_ERR_NO_MEMORY;
    p->block_io = bio;
    p->disk_io = dio;
    p->media_id = media->MediaId;
    *out = (vb_source){
        .size = (media->LastBlock + 1) * media->BlockSize,
        .ctx = p,
        .read = partition_read,
        .write = writable && !media->ReadOnly ? partition_write : NULL,
        .flush = writable && !media->ReadOnly ? partition_flush : NULL,
        .close = partition_close,
    };
    return VB_OK;
}
