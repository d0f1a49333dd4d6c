/* vhdboot: EFI_BLOCK_IO_PROTOCOL over a block source (see efi_vdisk.h). */
#include <efi.h>
#include <efilib.h>
#include <stddef.h>
#include "efi_vdisk.h"
#include "efi_status.h"
#include "efi_trace.h"
#include "format/platform.h"

#define VDISK_BLOCK 512u
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct efi_vdisk {
    EFI_BLOCK_IO_PROTOCOL block_io;
    EFI_BLOCK_IO_MEDIA media;
    EFI_DEVICE_PATH *path;     /* pool memory */
    EFI_HANDLE handle;
    vb_source *disk;
    efi_trace *trace;          /* NULL unless the requests are traced */
};

/* Vendor hardware node + end node appended to the host partition's path. */
typedef struct {
    VENDOR_DEVICE_PATH vendor;
    UINT8 uuid[16];
    EFI_DEVICE_PATH end;
} __attribute__((packed)) vdisk_path_tail;
_Static_assert(offsetof(vdisk_path_tail, uuid) == 20, "vendor data follows the GUID");
_Static_assert(sizeof(vdisk_path_tail) == 40, "vendor node is 36 bytes + end node");

static EFI_GUID vdisk_guid = VB_VDISK_GUID;

/* Checks a request against the spec's rules; returns EFI_SUCCESS when it is valid. */
static EFI_STATUS check_request(struct efi_vdisk *d, UINT32 media_id, EFI_LBA lba, UINTN size, const void *buf)
{
    if (media_id != d->media.MediaId)
        return EFI_MEDIA_CHANGED;
    if (!buf)
        return EFI_INVALID_PARAMETER;
    if (size % d->media.BlockSize != 0)
        return EFI_BAD_BUFFER_SIZE;
    if (lba > d->media.LastBlock)
        return EFI_INVALID_PARAMETER;
    if (size / d->media.BlockSize > d->media.LastBlock - lba + 1)
        return EFI_INVALID_PARAMETER;
    return EFI_SUCCESS;
}

/* Traces one request (when tracing) and returns its status. */
static EFI_STATUS traced(struct efi_vdisk *d, const char *op, EFI_LBA lba, UINTN size, EFI_STATUS st)
{
    if (d->trace) {
        if (size % VDISK_BLOCK == 0)
            efi_trace_say(d->trace, "%s lba %llu blocks %llu: %s", op, (unsigned long long)lba,
                          (unsigned long long)(size / VDISK_BLOCK), efi_status_text(st));
        else
            efi_trace_say(d->trace, "%s lba %llu bytes %llu: %s", op, (unsigned long long)lba,
                          (unsigned long long)size, efi_status_text(st));
    }
    return st;
}

static EFI_STATUS EFIAPI vdisk_reset(EFI_BLOCK_IO_PROTOCOL *this, BOOLEAN extended)
{
    (void)this;
    (void)extended;
    return EFI_SUCCESS;
}

/* BlockIO ReadBlocks: reads whole blocks from the source. */
static EFI_STATUS EFIAPI vdisk_read(EFI_BLOCK_IO_PROTOCOL *this, UINT32 media_id, EFI_LBA lba, UINTN size,
                                    VOID *buf)
{
    if (!this)
        return EFI_INVALID_PARAMETER;
    struct efi_vdisk *d = container_of(this, struct efi_vdisk, block_io);
    EFI_STATUS st = check_request(d, media_id, lba, size, buf);
    if (st == EFI_SUCCESS && size != 0)
        st = efi_block_io_status(vb_source_read(d->disk, lba * d->media.BlockSize, buf, size));
    return traced(d, "read", lba, size, st);
}

/* BlockIO WriteBlocks: writes whole blocks unless the disk is read-only. */
static EFI_STATUS EFIAPI vdisk_write(EFI_BLOCK_IO_PROTOCOL *this, UINT32 media_id, EFI_LBA lba, UINTN size,
                                     VOID *buf)
{
    if (!this)
        return EFI_INVALID_PARAMETER;
    struct efi_vdisk *d = container_of(this, struct efi_vdisk, block_io);
    if (media_id == d->media.MediaId && d->media.ReadOnly)
        return traced(d, "write", lba, size, EFI_WRITE_PROTECTED);
    EFI_STATUS st = check_request(d, media_id, lba, size, buf);
    if (st == EFI_SUCCESS && size != 0)
        st = efi_block_io_status(vb_source_write(d->disk, lba * d->media.BlockSize, buf, size));
    return traced(d, "write", lba, size, st);
}

/* BlockIO FlushBlocks: makes written data durable in the host file. */
static EFI_STATUS EFIAPI vdisk_flush(EFI_BLOCK_IO_PROTOCOL *this)
{
    if (!this)
        return EFI_INVALID_PARAMETER;
    struct efi_vdisk *d = container_of(this, struct efi_vdisk, block_io);
    EFI_STATUS st = d->media.ReadOnly ? EFI_SUCCESS : efi_block_io_status(vb_source_flush(d->disk));
    if (d->trace)
        efi_trace_say(d->trace, "flush: %s", efi_status_text(st));
    return st;
}

/* Builds host_path + vendor node; returns pool memory or NULL. */
static EFI_DEVICE_PATH *build_path(const EFI_DEVICE_PATH *host_path, const uint8_t uuid[16])
{
    vdisk_path_tail tail;
    SetMem(&tail, sizeof tail, 0);
    tail.vendor.Header.Type = HARDWARE_DEVICE_PATH;
    tail.vendor.Header.SubType = HW_VENDOR_DP;
    SetDevicePathNodeLength(&tail.vendor.Header, sizeof tail.vendor + sizeof tail.uuid);
    CopyMem(&tail.vendor.Guid, &vdisk_guid, sizeof(EFI_GUID));
    CopyMem(tail.uuid, (void *)uuid, sizeof tail.uuid);
    SetDevicePathEndNode(&tail.end);
    if (!host_path)
        return DuplicateDevicePath((EFI_DEVICE_PATH *)&tail);
    return AppendDevicePath((EFI_DEVICE_PATH *)host_path, (EFI_DEVICE_PATH *)&tail);
}

vb_status efi_vdisk_install(vb_source *disk, const uint8_t uuid[16], const EFI_DEVICE_PATH *host_path,
                            bool read_only, efi_trace *trace, efi_vdisk **out, vb_diag *diag)
{
    return efi_vdisk_install_sized(disk, VDISK_BLOCK, uuid, host_path, read_only, trace, out, diag);
}

vb_status efi_vdisk_install_sized(vb_source *disk, uint32_t block_size, const uint8_t uuid[16],
                                  const EFI_DEVICE_PATH *host_path, bool read_only, efi_trace *trace,
                                  efi_vdisk **out, vb_diag *diag)
{
    static UINT32 next_media_id = 0x76680001; /* distinct per install */
    if (block_size != 512 && block_size != 4096)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "block size %u: 512 or 4096 only", block_size);
    if (disk->size < block_size || disk->size % block_size != 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "disk size %llu is not a whole number of %u-byte sectors",
                       (unsigned long long)disk->size, block_size);
    struct efi_vdisk *d = vb_alloc(sizeof *d);
    if (!d)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "out of memory for the virtual disk");
    d->disk = disk;
    d->trace = trace;
    d->media.MediaId = next_media_id++;
    d->media.RemovableMedia = FALSE;
    d->media.MediaPresent = TRUE;
    d->media.LogicalPartition = FALSE;
    d->media.ReadOnly = read_only ? TRUE : FALSE;
    d->media.WriteCaching = FALSE;
    d->media.BlockSize = block_size;
    d->media.IoAlign = 0;
    d->media.LastBlock = disk->size / block_size - 1;
    d->media.LowestAlignedLba = 0;
    d->media.LogicalBlocksPerPhysicalBlock = 1;
    d->media.OptimalTransferLengthGranularity = 0;
    d->block_io.Revision = EFI_BLOCK_IO_PROTOCOL_REVISION3;
    d->block_io.Media = &d->media;
    d->block_io.Reset = vdisk_reset;
    d->block_io.ReadBlocks = vdisk_read;
    d->block_io.WriteBlocks = vdisk_write;
    d->block_io.FlushBlocks = vdisk_flush;
    d->path = build_path(host_path, uuid);
    if (!d->path) {
        vb_free(d);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "out of memory for the virtual disk's device path");
    }
    EFI_STATUS st = BS->InstallMultipleProtocolInterfaces(&d->handle, &BlockIoProtocol, &d->block_io,
                                                          &DevicePathProtocol, d->path, NULL);
    if (st != EFI_SUCCESS) {
        FreePool(d->path);
        vb_free(d);
        return vb_fail(diag, VB_ERR_IO, "cannot install the virtual disk: %s", efi_status_text(st));
    }
    /* Failure to connect only means no driver bound (e.g. unknown partitioning). */
    BS->ConnectController(d->handle, NULL, NULL, TRUE);
    *out = d;
    return VB_OK;
}

EFI_HANDLE efi_vdisk_handle(const efi_vdisk *vdisk)
{
    return vdisk->handle;
}

EFI_DEVICE_PATH *efi_vdisk_device_path(const efi_vdisk *vdisk)
{
    return vdisk->path;
}

void efi_vdisk_stop_trace(efi_vdisk *vdisk)
{
    vdisk->trace = NULL;
}

bool efi_vdisk_uninstall(efi_vdisk *vdisk)
{
    BS->DisconnectController(vdisk->handle, NULL, NULL);
    EFI_STATUS st = BS->UninstallMultipleProtocolInterfaces(vdisk->handle, &BlockIoProtocol, &vdisk->block_io,
                                                            &DevicePathProtocol, vdisk->path, NULL);
    if (st != EFI_SUCCESS)
        return false;
    FreePool(vdisk->path);
    vb_free(vdisk);
    return true;
}
