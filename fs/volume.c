/* vhdboot: host volumes — dispatch between the NTFS and FAT readers. */
#include "volume.h"
#include "fat.h"
#include "ntfs.h"
#include "format/platform.h"

struct vb_fs {
    vb_fs_type type;
    vb_source *dev;
    union {
        ntfs_volume ntfs;
        fat_volume fat;
    } u;
};

vb_status vb_fs_probe(vb_source *vol, vb_fs **out, vb_diag *diag)
{
    *out = NULL;
    vb_fs *fs = vb_alloc(sizeof(*fs));
    if (!fs)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory to mount a volume");
    fs->dev = vol;
    /* Both readers start from the boot sector: read it once. */
    uint8_t sector[512];
    vb_status st;
    if (vol->size < sizeof(sector)) {
        st = vb_fail(diag, VB_ERR_FS_NOT_RECOGNISED, "the volume is neither NTFS nor FAT (smaller than one sector)");
    } else if ((st = vb_source_read(vol, 0, sector, sizeof(sector))) != VB_OK) {
        vb_fail(diag, st, "cannot read the boot sector: %s", vb_status_message(st));
    } else if ((st = ntfs_mount(&fs->u.ntfs, vol, sector, diag)) == VB_OK) {
        fs->type = VB_FS_NTFS;
    } else if (st == VB_ERR_FS_NOT_RECOGNISED) {
        st = fat_mount(&fs->u.fat, vol, sector, diag);
        if (st == VB_OK)
            fs->type = fs->u.fat.bits == 12 ? VB_FS_FAT12 : fs->u.fat.bits == 16 ? VB_FS_FAT16 : VB_FS_FAT32;
        else if (st == VB_ERR_FS_NOT_RECOGNISED)
            vb_fail(diag, st, "the volume is neither NTFS nor FAT");
    }
    if (st != VB_OK) {
        vb_free(fs);
        return st;
    }
    *out = fs;
    return VB_OK;
}

vb_fs_type vb_fs_type_of(const vb_fs *fs)
{
    return fs->type;
}

const char *vb_fs_type_name(vb_fs_type type)
{
    switch (type) {
    case VB_FS_FAT12:
        return "FAT12";
    case VB_FS_FAT16:
        return "FAT16";
    case VB_FS_FAT32:
        return "FAT32";
    case VB_FS_NTFS:
        return "NTFS";
    default:
        return "unknown";
    }
}

const char *vb_fs_label(const vb_fs *fs)
{
    return fs->type == VB_FS_NTFS ? fs->u.ntfs.label : fs->u.fat.label;
}

vb_status vb_fs_lookup(vb_fs *fs, const char *path, vb_extent_map *map, vb_diag *diag)
{
    if (fs->type == VB_FS_NTFS)
        return ntfs_lookup(&fs->u.ntfs, path, map, diag);
    return fat_lookup(&fs->u.fat, path, map, diag);
}

vb_status vb_fs_open_file(vb_fs *fs, const char *path, vb_source *out, vb_diag *diag)
{
    vb_extent_map map;
    vb_status st = vb_fs_lookup(fs, path, &map, diag);
    if (st != VB_OK)
        return st;
    st = vb_extent_source_open(fs->dev, &map, out);
    if (st != VB_OK) {
        vb_extent_map_free(&map);
        return vb_fail(diag, st, "%s: cannot open the file: %s", path, vb_status_message(st));
    }
    return VB_OK;
}

vb_status vb_fs_list_dir(vb_fs *fs, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag)
{
    if (fs->type == VB_FS_NTFS)
        return ntfs_list_dir(&fs->u.ntfs, path, fn, ctx, diag);
    return fat_list_dir(&fs->u.fat, path, fn, ctx, diag);
}

void vb_fs_close(vb_fs *fs)
{
    if (!fs)
        return;
    if (fs->type == VB_FS_NTFS)
        ntfs_unmount(&fs->u.ntfs);
    vb_free(fs);
}
