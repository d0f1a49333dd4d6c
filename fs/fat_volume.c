/* vhdboot: FAT volume — mount and path lookup to an extent map. */
#include "fat.h"
#include "fat_struct.h"
#include "format/bytes.h"

vb_status fat_mount(fat_volume *vol, vb_source *dev, const uint8_t *sector, vb_diag *diag)
{
    vb_memset(vol, 0, sizeof(*vol));
    vol->dev = dev;
    vb_status st = fat_parse_boot(vol, sector, diag);
    if (st != VB_OK)
        return st;
    return fat_read_label(vol, diag);
}

vb_status fat_resolve(fat_volume *vol, const char *path, fat_entry *entry, vb_diag *diag)
{
    *entry = (fat_entry){ .attr = FAT_ATTR_DIRECTORY, .first_cluster = 0 };
    size_t pos = 0;
    for (;;) {
        vb_fs_name name;
        bool done;
        vb_status st = vb_fs_path_next(path, &pos, &name, &done, diag);
        if (st != VB_OK)
            return st;
        if (done)
            return VB_OK;
        if (!(entry->attr & FAT_ATTR_DIRECTORY))
            return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: a component before the last is not a directory", path);
        uint32_t dir = entry->first_cluster;
        st = fat_dir_find(vol, dir, &name, entry, diag);
        if (st == VB_ERR_NOT_FOUND)
            return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: not found", path);
        if (st != VB_OK) {
            if (diag) {
                char inner[VB_DIAG_TEXT_MAX];
                vb_strlcpy(inner, diag->text, sizeof(inner));
                vb_fail(diag, st, "%s: %s", path, inner);
            }
            return st;
        }
        if ((entry->attr & FAT_ATTR_DIRECTORY) && entry->first_cluster == 0 && vol->bits == 32)
            entry->first_cluster = vol->root_cluster; /* ".." style pointer to the root */
    }
}

vb_status fat_lookup(fat_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag)
{
    vb_memset(map, 0, sizeof(*map));
    fat_entry entry;
    vb_status st = fat_resolve(vol, path, &entry, diag);
    if (st != VB_OK)
        return st;
    if (entry.attr & FAT_ATTR_DIRECTORY)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: is a directory, not a file", path);
    return fat_chain_map(vol, entry.first_cluster, entry.size, map, path, diag);
}
