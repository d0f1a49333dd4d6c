/* vhdboot: host volumes found on the firmware's partitions (see host_volumes.h). */
#include <efi.h>
#include <efilib.h>
#include <stddef.h>
#include "host_volumes.h"
#include "devpath.h"
#include "partitions.h"
#include "format/bytes.h"
#include "format/platform.h"

static efi_host_volume *volumes;
static unsigned volume_count;

/* ASCII case-insensitive equality of two UTF-8 strings. */
static bool same_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return *a == *b;
}

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

/* Probes the partition on handle into *vol; returns true when it holds NTFS or FAT. */
static bool probe(EFI_HANDLE handle, efi_host_volume *vol)
{
    vb_memset(vol, 0, sizeof *vol);
    if (efi_partition_source_open(handle, true, &vol->part) != VB_OK)
        return false;
    if (vb_fs_probe(&vol->part, &vol->fs, NULL) != VB_OK) {
        vb_source_close(&vol->part);
        return false;
    }
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
            if (probe(handles[i], &volumes[volume_count]))
                volume_count++;
    }
    FreePool(handles);
    return volume_count;
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
        if (have[0] && same_nocase(have, name))
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
