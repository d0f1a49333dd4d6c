/* vhdboot: FAT cluster chains — reading entries and turning a chain into an
 * extent map. */
#include "fat.h"
#include "format/bytes.h"

bool fat_is_data_cluster(const fat_volume *vol, uint32_t cluster)
{
    return cluster >= 2 && cluster - 2 < vol->cluster_count;
}

bool fat_is_end(const fat_volume *vol, uint32_t value)
{
    switch (vol->bits) {
    case 12:
        return value >= 0xFF8;
    case 16:
        return value >= 0xFFF8;
    default:
        return value >= 0x0FFFFFF8;
    }
}

uint64_t fat_cluster_offset(const fat_volume *vol, uint32_t cluster)
{
    return vol->data_offset + (uint64_t)(cluster - 2) * vol->cluster_size;
}

/* Returns the FAT byte at offset off (relative to the first FAT) through the
 * one-window cache. */
static vb_status fat_byte(fat_volume *vol, uint64_t off, uint8_t *out, vb_diag *diag)
{
    if (!vol->cache_valid || off < vol->cache_offset || off - vol->cache_offset >= FAT_CACHE_SIZE) {
        uint64_t start = off - off % FAT_CACHE_SIZE;
        uint64_t len = vol->fat_bytes - start < FAT_CACHE_SIZE ? vol->fat_bytes - start : FAT_CACHE_SIZE;
        vb_status st = vb_source_read(vol->dev, vol->fat_offset + start, vol->cache, (size_t)len);
        if (st != VB_OK) {
            vol->cache_valid = false;
            return vb_fail(diag, st, "cannot read the FAT at byte %llu: %s", (unsigned long long)(vol->fat_offset + start),
                           vb_status_message(st));
        }
        vol->cache_offset = start;
        vol->cache_valid = true;
    }
    *out = vol->cache[off - vol->cache_offset];
    return VB_OK;
}

vb_status fat_next_cluster(fat_volume *vol, uint32_t cluster, uint32_t *next, vb_diag *diag)
{
    uint64_t off;
    unsigned bytes = vol->bits == 12 ? 2 : vol->bits / 8;
    if (vol->bits == 12)
        off = (uint64_t)cluster + cluster / 2;
    else
        off = (uint64_t)cluster * bytes;
    if (off + bytes > vol->fat_bytes)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "cluster %u lies beyond the FAT", cluster);
    uint8_t b[4] = { 0 };
    for (unsigned i = 0; i < bytes; i++) {
        vb_status st = fat_byte(vol, off + i, &b[i], diag);
        if (st != VB_OK)
            return st;
    }
    uint32_t v = vb_le32(b);
    if (vol->bits == 12)
        v = (cluster & 1) ? (v >> 4) & 0xFFF : v & 0xFFF;
    else if (vol->bits == 32)
        v &= 0x0FFFFFFF;
    *next = v;
    return VB_OK;
}

vb_status fat_chain_map(fat_volume *vol, uint32_t first, uint32_t size, vb_extent_map *map, const char *what, vb_diag *diag)
{
    vb_memset(map, 0, sizeof(*map));
    if (size == 0)
        return VB_OK;
    uint32_t needed = (uint32_t)(((uint64_t)size + vol->cluster_size - 1) / vol->cluster_size);
    if (!fat_is_data_cluster(vol, first) || needed > vol->cluster_count)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: first cluster %u or size %u out of range", what, first, size);
    uint32_t cluster = first, next = 0;
    vb_status st = VB_OK;
    for (uint32_t i = 0; i < needed; i++) {
        if (vb_extent_map_append(map, fat_cluster_offset(vol, cluster), vol->cluster_size) != VB_OK) {
            st = vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the extent map", what);
            break;
        }
        st = fat_next_cluster(vol, cluster, &next, diag);
        if (st != VB_OK)
            break;
        if (i + 1 < needed && !fat_is_data_cluster(vol, next)) {
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: cluster chain breaks at cluster %u (entry 0x%x) after %u of %u clusters",
                         what, cluster, next, i + 1, needed);
            break;
        }
        cluster = next;
    }
    if (st == VB_OK) { /* a loop shows up as clusters used twice */
        vb_extent_map_truncate(map, size);
        map->valid_size = size;
        st = vb_extent_map_check(map, vol->data_offset + (uint64_t)vol->cluster_count * vol->cluster_size, what, diag);
    }
    if (st == VB_OK && !fat_is_end(vol, next))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: cluster chain is longer than the file size %u", what, size);
    if (st != VB_OK)
        vb_extent_map_free(map);
    return st;
}
