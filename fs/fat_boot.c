/* vhdboot: FAT boot sector — type and geometry of the volume. */
#include "fat.h"
#include "fat_struct.h"
#include "format/bytes.h"

/* True when v is a power of two. */
static bool is_pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

vb_status fat_parse_boot(fat_volume *vol, const uint8_t *sector, vb_diag *diag)
{
    const fat_bpb *b = (const fat_bpb *)sector;
    uint32_t bps = vb_le16(b->bytes_per_sector), spc = b->sectors_per_cluster;
    uint32_t reserved = vb_le16(b->reserved_sectors), fats = b->fat_count, root_entries = vb_le16(b->root_entries);
    uint32_t total = vb_le16(b->total_sectors16) ? vb_le16(b->total_sectors16) : vb_le32(b->total_sectors32);
    const fat32_ebpb *e32 = (const fat32_ebpb *)(sector + sizeof(fat_bpb));
    const fat16_ebpb *e16 = (const fat16_ebpb *)(sector + sizeof(fat_bpb));
    uint32_t fat_size = vb_le16(b->fat_size16) ? vb_le16(b->fat_size16) : vb_le32(e32->fat_size32);
    bool jump_ok = b->jump[0] == 0xEB || b->jump[0] == 0xE9;
    if (!jump_ok || !is_pow2(bps) || bps < 512 || bps > 4096 || !is_pow2(spc) || reserved == 0 || fats == 0 || fats > 4 ||
        total == 0 || fat_size == 0 || (b->media < 0xF0 && b->media != 0))
        return vb_fail(diag, VB_ERR_FS_NOT_RECOGNISED, "no FAT boot sector");
    uint64_t root_bytes = (uint64_t)root_entries * 32;
    uint64_t root_sectors = (root_bytes + bps - 1) / bps;
    uint64_t meta = (uint64_t)reserved + (uint64_t)fats * fat_size + root_sectors;
    if (meta >= total)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT boot sector: metadata (%llu sectors) fills the whole volume (%u sectors)",
                       (unsigned long long)meta, total);
    if ((uint64_t)total * bps > vol->dev->size)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT volume claims %llu bytes but its device holds only %llu",
                       (unsigned long long)total * bps, (unsigned long long)vol->dev->size);
    vol->sector_size = bps;
    vol->cluster_size = bps * spc;
    vol->cluster_count = (uint32_t)((total - meta) / spc);
    vol->bits = vol->cluster_count < 4085 ? 12 : vol->cluster_count < 65525 ? 16 : 32;
    vol->fat_offset = (uint64_t)reserved * bps;
    vol->fat_bytes = (uint64_t)fat_size * bps;
    vol->root_offset = (uint64_t)(reserved + (uint64_t)fats * fat_size) * bps;
    vol->root_entries = root_entries;
    vol->data_offset = meta * bps;
    if (vol->cluster_count == 0 || vol->cluster_count > 0x0FFFFFF4u)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT boot sector: invalid cluster count %u", vol->cluster_count);
    uint64_t entries_needed = (uint64_t)vol->cluster_count + 2;
    if (vol->fat_bytes * 8 / vol->bits < entries_needed)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT boot sector: the FAT (%llu bytes) cannot describe %u clusters",
                       (unsigned long long)vol->fat_bytes, vol->cluster_count);
    if (vol->bits == 32) {
        vol->root_cluster = vb_le32(e32->root_cluster) & 0x0FFFFFFF;
        if (root_entries != 0 || !fat_is_data_cluster(vol, vol->root_cluster))
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT32 boot sector: invalid root directory cluster %u", vol->root_cluster);
        fat_set_label(vol, e32->signature == 0x29 ? e32->label : NULL);
    } else {
        if (root_entries == 0)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "FAT%u boot sector: no root directory entries", vol->bits);
        fat_set_label(vol, e16->signature == 0x29 ? e16->label : NULL);
    }
    return VB_OK;
}

void fat_set_label(fat_volume *vol, const char *raw11)
{
    vol->label[0] = '\0';
    if (!raw11 || vb_memcmp(raw11, "NO NAME    ", 11) == 0)
        return;
    size_t n = 11;
    while (n && (raw11[n - 1] == ' ' || raw11[n - 1] == '\0'))
        n--;
    for (size_t i = 0; i < n; i++) /* OEM code page: keep ASCII, mark the rest */
        vol->label[i] = (uint8_t)raw11[i] < 0x80 && (uint8_t)raw11[i] >= 0x20 ? raw11[i] : '?';
    vol->label[n] = '\0';
}
