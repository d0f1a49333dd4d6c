/* vhdboot: host volumes found on the firmware's partitions (see efi_host_volumes.h). */
#include <efi.h>
#include <efilib.h>
#include <stddef.h>
#include "efi_host_volumes.h"
#include "efi_devpath.h"
#include "efi_partitions.h"
#include "format/bytes.h"
#include "format/platform.h"

static efi_host_volume *volumes;
static unsigned volume_count;

/* A partition that looked like NTFS or FAT but could not be mounted. */
#define UNREADABLE_MAX 8u
static struct unreadable {
    char where[48];  /* "partition 3 of disk 2 (NTFS)" */
    char why[160];   /* the reader's message, cut */
} unreadable[UNREADABLE_MAX];
static unsigned unreadable_count;

/* Writes the MBR form of a partition's id, as Linux shows it ("1a2b3c4d-02":
 * disk signature, partition number), from the last MBR hard-drive node of
 * path into out. Returns false when there is none. */
static bool mbr_partuuid(const EFI_DEVICE_PATH *path, char out[37])
{
    const UINT8 *node_bytes = NULL;
    UINT32 number = 0;
    for (const EFI_DEVICE_PATH *node = path; !IsDevicePathEnd(node); node = NextDevicePathNode(node))
        if (DevicePathType(node) == MEDIA_DEVICE_PATH && DevicePathSubType(node) == MEDIA_HARDDRIVE_DP &&
            (UINTN)DevicePathNodeLength(node) >= offsetof(HARDDRIVE_DEVICE_PATH, SignatureType) + 1 &&
            ((const HARDDRIVE_DEVICE_PATH *)node)->SignatureType == SIGNATURE_TYPE_MBR) {
            node_bytes = ((const HARDDRIVE_DEVICE_PATH *)node)->Signature;
            number = ((const HARDDRIVE_DEVICE_PATH *)node)->PartitionNumber;
        }
    if (!node_bytes || number > 255)
        return false;
    vb_format(out, 37, "%08x-%02x", (unsigned)vb_le32(node_bytes), (unsigned)number);
    return true;
}

/* Byte length of the disk part of a partition's device path (up to its
 * last hard-drive node; the whole path for a disk without partitions), with
 * the partition number in *number (0 when none). */
static UINTN disk_path_length(const EFI_DEVICE_PATH *path, UINT32 *number)
{
    UINTN length = 0, disk = 0;
    *number = 0;
    for (const EFI_DEVICE_PATH *node = path; !IsDevicePathEnd(node); node = NextDevicePathNode(node)) {
        if (DevicePathType(node) == MEDIA_DEVICE_PATH && DevicePathSubType(node) == MEDIA_HARDDRIVE_DP &&
            (UINTN)DevicePathNodeLength(node) >= offsetof(HARDDRIVE_DEVICE_PATH, PartitionStart)) {
            disk = length;
            *number = ((const HARDDRIVE_DEVICE_PATH *)node)->PartitionNumber;
        }
        length += DevicePathNodeLength(node);
    }
    return *number ? disk : length;
}

/* Numbers the disk of handles[i] (1-based, in the order disks first appear
 * in handles[0..i]). Returns 0 when a handle has no device path. */
static unsigned disk_number(EFI_HANDLE *handles, UINTN i, UINT32 *partition)
{
    const EFI_DEVICE_PATH *mine = DevicePathFromHandle(handles[i]);
    if (!mine)
        return 0;
    UINTN mine_len = disk_path_length(mine, partition);
    unsigned disks = 0;
    for (UINTN j = 0; j <= i; j++) {
        UINT32 ignored;
        const EFI_DEVICE_PATH *path = DevicePathFromHandle(handles[j]);
        if (!path)
            continue;
        UINTN len = disk_path_length(path, &ignored);
        bool seen = false; /* the same disk as an earlier handle's */
        for (UINTN k = 0; k < j && !seen; k++) {
            const EFI_DEVICE_PATH *earlier = DevicePathFromHandle(handles[k]);
            seen = earlier && disk_path_length(earlier, &ignored) == len && vb_memcmp(earlier, path, len) == 0;
        }
        if (!seen)
            disks++;
        if (len == mine_len && vb_memcmp(path, mine, len) == 0)
            return disks;
    }
    return disks;
}

/* Guesses from the boot sector of part which file system it was meant to
 * hold: "NTFS", "FAT", or NULL when it looks like neither (or cannot be read). */
static const char *boot_sector_kind(vb_source *part)
{
    uint8_t boot[512];
    if (part->size < sizeof boot || vb_source_read(part, 0, boot, sizeof boot) != VB_OK)
        return NULL;
    if (vb_memcmp(boot + 3, "NTFS    ", 8) == 0)
        return "NTFS";
    if (boot[510] == 0x55 && boot[511] == 0xAA &&
        (vb_memcmp(boot + 0x36, "FAT", 3) == 0 || vb_memcmp(boot + 0x52, "FAT32", 5) == 0))
        return "FAT";
    return NULL;
}

/* Remembers partition handles[i] as unreadable: the reader's diag says why. */
static void note_unreadable(EFI_HANDLE *handles, UINTN i, const char *kind, const vb_diag *why)
{
    if (unreadable_count == UNREADABLE_MAX)
        return;
    struct unreadable *u = &unreadable[unreadable_count++];
    UINT32 partition = 0;
    unsigned disk = disk_number(handles, i, &partition);
    if (partition)
        vb_format(u->where, sizeof u->where, "partition %u of disk %u (%s)", (unsigned)partition, disk, kind);
    else
        vb_format(u->where, sizeof u->where, "disk %u (%s)", disk, kind);
    vb_strlcpy(u->why, why->text[0] ? why->text : vb_status_message(why->status), sizeof u->why);
}

/* Probes partition handles[i] into *vol; returns true when it holds NTFS or
 * FAT. One whose boot sector claims NTFS/FAT but that does not mount is
 * remembered (note_unreadable). */
static bool probe(EFI_HANDLE *handles, UINTN i, efi_host_volume *vol)
{
    EFI_HANDLE handle = handles[i];
    vb_memset(vol, 0, sizeof *vol);
    if (efi_partition_source_open(handle, true, &vol->part) != VB_OK)
        return false;
    vb_diag *why = vb_alloc(sizeof *why);
    vb_status st = vb_fs_probe(&vol->part, &vol->fs, why);
    if (st != VB_OK) {
        const char *kind = st == VB_ERR_FS_NOT_RECOGNISED ? NULL : boot_sector_kind(&vol->part);
        if (kind && why)
            note_unreadable(handles, i, kind, why);
        vb_free(why);
        vb_source_close(&vol->part);
        return false;
    }
    vb_free(why);
    void *sfs = NULL;
    vol->handle = handle;
    vol->device_path = DevicePathFromHandle(handle);
    vol->type = vb_fs_type_of(vol->fs);
    vol->size = vol->part.size;
    vb_strlcpy(vol->label, vb_fs_label(vol->fs), sizeof vol->label);
    if (!vol->device_path ||
        (!efi_devpath_partuuid(vol->device_path, vol->partuuid) && !mbr_partuuid(vol->device_path, vol->partuuid)))
        vol->partuuid[0] = '\0';
    vol->can_grow_files = vol->type != VB_FS_NTFS &&
                          BS->HandleProtocol(handle, &FileSystemProtocol, &sfs) == EFI_SUCCESS && sfs;
    return true;
}

void efi_host_volumes_release(void)
{
    for (unsigned i = 0; i < volume_count; i++) {
        vb_fs_close(volumes[i].fs); /* NULL after a failed refresh */
        vb_source_close(&volumes[i].part);
    }
    vb_free(volumes);
    volumes = NULL;
    volume_count = 0;
    unreadable_count = 0;
}

unsigned efi_host_volumes_scan(void)
{
    EFI_HANDLE *handles = NULL;
    efi_host_volumes_release();
    UINTN n = efi_partitions_list(&handles);
    if (n == 0)
        return 0;
    volumes = vb_alloc(n * sizeof *volumes);
    if (volumes) {
        for (UINTN i = 0; i < n; i++)
            if (probe(handles, i, &volumes[volume_count]))
                volume_count++;
    }
    FreePool(handles);
    return volume_count;
}

unsigned efi_host_unreadable_note(char *text, int cap)
{
    int len = 0;
    text[0] = '\0';
    for (unsigned i = 0; i < unreadable_count && len < cap; i++)
        len += vb_format(text + len, cap - len, "%s%s: %s", i ? ", " : "", unreadable[i].where, unreadable[i].why);
    return unreadable_count;
}

unsigned efi_host_volume_count(void)
{
    return volume_count;
}

efi_host_volume *efi_host_volume_at(unsigned i)
{
    return i < volume_count ? &volumes[i] : NULL;
}

efi_host_volume *efi_host_volume_of_handle(EFI_HANDLE handle)
{
    for (unsigned i = 0; i < volume_count; i++)
        if (volumes[i].handle == handle)
            return &volumes[i];
    return NULL;
}

efi_host_volume *efi_host_volume_find(enum efi_volume_match how, const char *name)
{
    for (unsigned i = 0; i < volume_count; i++) {
        const char *have = how == EFI_VOLUME_BY_LABEL ? volumes[i].label : volumes[i].partuuid;
        if (have[0] && vb_ascii_caseeq(have, name))
            return &volumes[i];
    }
    return NULL;
}

const char *efi_host_volume_name(const efi_host_volume *vol)
{
    static char text[EFI_HOST_LABEL_MAX + 64];
    const char *type = vb_fs_type_name(vol->type);
    if (vol->label[0])
        vb_format(text, sizeof text, "%s volume '%s'", type, vol->label);
    else if (vol->partuuid[0])
        vb_format(text, sizeof text, "%s volume %s", type, vol->partuuid);
    else
        vb_format(text, sizeof text, "%s volume #%u", type, (unsigned)(vol - volumes) + 1);
    return text;
}

vb_status efi_host_volume_refresh(efi_host_volume *vol)
{
    vb_fs_close(vol->fs);
    vol->fs = NULL;
    return vb_fs_probe(&vol->part, &vol->fs, NULL);
}

vb_status efi_host_volume_lookup(efi_host_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag)
{
    vb_extent_map scratch = { 0 };
    if (!vol->fs)
        return vb_fail(diag, VB_ERR_IO, "%s: the %s could not be mounted again", path, efi_host_volume_name(vol));
    vb_status st = vb_fs_lookup(vol->fs, path, map ? map : &scratch, diag);
    vb_extent_map_free(&scratch);
    return st;
}

vb_status efi_host_volume_open_file(efi_host_volume *vol, const char *path, bool writable, vb_source *out,
                                    vb_diag *diag)
{
    vb_extent_map map = { 0 };
    vb_status st = efi_host_volume_lookup(vol, path, &map, diag);
    if (st != VB_OK)
        return st;
    st = vb_extent_source_open(&vol->part, &map, out);
    if (st != VB_OK) {
        vb_extent_map_free(&map);
        if (st == VB_ERR_INVALID_ARG)
            st = VB_ERR_FS_CORRUPT; /* runs past the partition */
        return vb_fail(diag, st, "%s: cannot open the file on the %s: %s", path, efi_host_volume_name(vol),
                       vb_status_message(st));
    }
    if (!writable) {
        out->write = NULL;
        out->flush = NULL;
    }
    return VB_OK;
}
