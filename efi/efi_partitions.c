/* vhdboot: partitions as block sources, read through the whole disk's
 * BlockIO where possible, else through the partition's DiskIO (see efi_partitions.h). */
#include <efi.h>
#include <efilib.h>
#include <stddef.h>
#include "efi_partitions.h"
#include "efi_devpath.h"
#include "efi_vdisk.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "fs/disk_window.h"

struct partition {
    EFI_BLOCK_IO *block_io;
    EFI_DISK_IO *disk_io;
    UINT32 media_id;
};

/* The whole disk under a partition, as the disk window's device. */
struct disk_blocks {
    EFI_BLOCK_IO *disk;
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

/* The core status of a DiskIO or BlockIO transfer's result. */
static vb_status transfer_status(EFI_STATUS st)
{
    if (st == EFI_WRITE_PROTECTED)
        return VB_ERR_WRITE_PROTECTED;
    return st == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

/* Reads len bytes at a byte offset of the partition. */
static vb_status partition_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct partition *p = ctx;
    return transfer_status(p->disk_io->ReadDisk(p->disk_io, p->media_id, offset, len, buf));
}

/* Writes len bytes at a byte offset of the partition. */
static vb_status partition_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct partition *p = ctx;
    return transfer_status(p->disk_io->WriteDisk(p->disk_io, p->media_id, offset, len, (void *)buf));
}

/* Flushes the disk's write cache. */
static vb_status partition_flush(void *ctx)
{
    struct partition *p = ctx;
    return transfer_status(p->block_io->FlushBlocks(p->block_io));
}

static void partition_close(void *ctx)
{
    vb_free(ctx);
}

/* vb_block_device.read_blocks over the disk's BlockIO. */
static vb_status disk_read_blocks(void *ctx, uint64_t lba, void *buf, size_t len)
{
    struct disk_blocks *d = ctx;
    return transfer_status(d->disk->ReadBlocks(d->disk, d->media_id, lba, len, buf));
}

/* vb_block_device.write_blocks over the disk's BlockIO. */
static vb_status disk_write_blocks(void *ctx, uint64_t lba, const void *buf, size_t len)
{
    struct disk_blocks *d = ctx;
    return transfer_status(d->disk->WriteBlocks(d->disk, d->media_id, lba, len, (void *)buf));
}

/* vb_block_device.flush: flushes the disk's write cache. */
static vb_status disk_flush(void *ctx)
{
    struct disk_blocks *d = ctx;
    return transfer_status(d->disk->FlushBlocks(d->disk));
}

/* Finds the BlockIO of the whole disk that partition path lies on and the
 * partition's first block on it: the path's last node must be a hard-drive
 * node (GPT or MBR) and the rest of the path a disk's (not a partition's:
 * nested partitions keep the DiskIO path). For a disk without partitions,
 * the disk itself at block 0. The node's start counts the disk's blocks;
 * the partition's own BlockSize may be smaller (edk2 gives MBR partitions
 * 512-byte blocks on a 4 KiB disk). Returns NULL when there is no such disk
 * or the partition would not fit on it. */
static EFI_BLOCK_IO *whole_disk_of(EFI_HANDLE handle, EFI_BLOCK_IO *part, UINT64 *first_block)
{
    EFI_DEVICE_PATH *path = DevicePathFromHandle(handle);
    if (!part->Media->LogicalPartition) {
        *first_block = 0;
        return part;
    }
    if (!path)
        return NULL;
    const EFI_DEVICE_PATH *last = NULL;
    for (const EFI_DEVICE_PATH *n = path; !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        last = n;
    /* gnu-efi's struct is padded past the node's 42 bytes: copy only those */
    const UINTN node_bytes = offsetof(HARDDRIVE_DEVICE_PATH, SignatureType) + 1;
    if (!last || DevicePathType(last) != MEDIA_DEVICE_PATH || DevicePathSubType(last) != MEDIA_HARDDRIVE_DP ||
        (UINTN)DevicePathNodeLength(last) < node_bytes)
        return NULL;
    HARDDRIVE_DEVICE_PATH node;
    vb_memcpy(&node, last, node_bytes); /* the node may sit unaligned */
    EFI_DEVICE_PATH *disk_path = efi_devpath_parent(path), *rest = disk_path;
    EFI_HANDLE disk_handle = NULL;
    EFI_BLOCK_IO *disk = NULL;
    if (disk_path && BS->LocateDevicePath(&BlockIoProtocol, &rest, &disk_handle) == EFI_SUCCESS && rest &&
        IsDevicePathEnd(rest) &&
        BS->HandleProtocol(disk_handle, &BlockIoProtocol, (void **)&disk) != EFI_SUCCESS)
        disk = NULL;
    if (disk_path)
        FreePool(disk_path);
    if (!disk || disk->Media->LogicalPartition || !disk->Media->MediaPresent || disk->Media->BlockSize == 0 ||
        node.PartitionStart > disk->Media->LastBlock ||
        disk->Media->LastBlock - node.PartitionStart >= UINT64_MAX / disk->Media->BlockSize ||
        (part->Media->LastBlock + 1) * part->Media->BlockSize >
            (disk->Media->LastBlock - node.PartitionStart + 1) * disk->Media->BlockSize)
        return NULL;
    *first_block = node.PartitionStart;
    return disk;
}

/* Whether the partition's first block reads the same through its own
 * BlockIO and through the disk at first_block (a check that the start was
 * found right, made once when the partition is opened). */
static bool same_first_block(EFI_BLOCK_IO *part, EFI_BLOCK_IO *disk, UINT64 first_block)
{
    UINT32 pbs = part->Media->BlockSize, dbs = disk->Media->BlockSize;
    UINT32 align = part->Media->IoAlign > disk->Media->IoAlign ? part->Media->IoAlign : disk->Media->IoAlign;
    align = align > 1 ? align : 1;
    UINTN span = ((UINTN)(pbs > dbs ? pbs : dbs) + align - 1) / align * align; /* each buffer, aligned */
    UINT8 *space = vb_alloc(2 * span + align), *a, *b;
    bool same = false;
    if (!space)
        return false;
    a = (UINT8 *)(((UINTN)space + align - 1) & ~(UINTN)(align - 1));
    b = a + span;
    if (part->ReadBlocks(part, part->Media->MediaId, 0, pbs, a) == EFI_SUCCESS &&
        disk->ReadBlocks(disk, disk->Media->MediaId, first_block, dbs, b) == EFI_SUCCESS)
        same = vb_memcmp(a, b, pbs < dbs ? pbs : dbs) == 0;
    vb_free(space);
    return same;
}

/* Opens the partition as a window on its whole disk's BlockIO (the
 * partition's start added, requests aligned to the disk's block size and
 * IoAlign). Returns VB_ERR_NOT_FOUND when the disk cannot be used so. */
static vb_status open_on_disk(EFI_HANDLE handle, EFI_BLOCK_IO *part, bool writable, vb_source *out)
{
    UINT64 first_block = 0;
    EFI_BLOCK_IO *disk = whole_disk_of(handle, part, &first_block);
    if (!disk || (disk != part && !same_first_block(part, disk, first_block)))
        return VB_ERR_NOT_FOUND;
    struct disk_blocks *d = vb_alloc(sizeof *d);
    if (!d)
        return VB_ERR_NO_MEMORY;
    d->disk = disk;
    d->media_id = disk->Media->MediaId;
    bool can_write = writable && !part->Media->ReadOnly && !disk->Media->ReadOnly;
    vb_block_device dev = {
        .ctx = d,
        .block_size = disk->Media->BlockSize,
        .io_align = disk->Media->IoAlign,
        .first_block = first_block,
        .read_blocks = disk_read_blocks,
        .write_blocks = can_write ? disk_write_blocks : NULL,
        .flush = can_write ? disk_flush : NULL,
        .close = vb_free,
    };
    return vb_disk_window_open(&dev, (part->Media->LastBlock + 1) * part->Media->BlockSize, out);
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
    vb_status st = open_on_disk(handle, bio, writable, out);
    if (st == VB_OK || st == VB_ERR_NO_MEMORY)
        return st;
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
