/* vhdboot: NTFS boot sector — geometry of the volume. */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"

/* True when v is a power of two. */
static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Decodes a "clusters per record" byte (signed: negative v means 2^-v bytes).
 * Returns the size in bytes or 0 when it is not a sane power of two. */
static uint32_t record_bytes(int8_t v, uint32_t cluster_size)
{
    uint64_t size;
    if (v < 0) {
        if (-v < 9 || -v > 16)
            return 0;
        size = 1ull << -v;
    } else {
        size = (uint64_t)(uint8_t)v * cluster_size;
    }
    if (!is_pow2(size) || size < NTFS_FIXUP_STRIDE || size > NTFS_MAX_RECORD_SIZE)
        return 0;
    return (uint32_t)size;
}

vb_status ntfs_parse_boot(ntfs_volume *vol, const uint8_t *sector, vb_diag *diag)
{
    const ntfs_boot_sector *bs = (const ntfs_boot_sector *)sector;
    if (vb_memcmp(bs->oem_id, "NTFS    ", 8) != 0)
        return vb_fail(diag, VB_ERR_FS_NOT_RECOGNISED, "no NTFS signature in the boot sector");
    uint32_t bps = vb_le16(bs->bytes_per_sector);
    if (!is_pow2(bps) || bps < 512 || bps > 4096)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS boot sector: invalid bytes per sector %u", bps);
    uint8_t spc_raw = bs->sectors_per_cluster;
    uint32_t spc;
    if (spc_raw >= 1 && spc_raw <= 0x80)
        spc = spc_raw;
    else if (spc_raw >= 0xF4)
        spc = 1u << (256 - spc_raw);
    else
        spc = 0;
    if (!is_pow2(spc) || (uint64_t)spc * bps > NTFS_MAX_CLUSTER_SIZE)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS boot sector: invalid sectors per cluster 0x%x", spc_raw);
    vol->sector_size = bps;
    vol->cluster_size = spc * bps;
    vol->record_size = record_bytes(bs->clusters_per_record, vol->cluster_size);
    vol->index_block_size = record_bytes(bs->clusters_per_index, vol->cluster_size);
    if (!vol->record_size || !vol->index_block_size)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS boot sector: invalid MFT record (0x%x) or index block (0x%x) size",
                       (unsigned)(uint8_t)bs->clusters_per_record, (unsigned)(uint8_t)bs->clusters_per_index);
    uint64_t total_sectors = vb_le64(bs->total_sectors);
    vol->total_clusters = total_sectors / spc;
    if (vol->total_clusters == 0 || vol->total_clusters > UINT64_MAX / vol->cluster_size)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS boot sector: invalid total sectors %llu", (unsigned long long)total_sectors);
    if (vol->total_clusters * vol->cluster_size > vol->dev->size)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS volume claims %llu bytes but its device holds only %llu",
                       (unsigned long long)(vol->total_clusters * vol->cluster_size), (unsigned long long)vol->dev->size);
    vol->mft_lcn = vb_le64(bs->mft_lcn);
    if (vol->mft_lcn >= vol->total_clusters)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "NTFS boot sector: $MFT cluster %llu is past the end of the volume",
                       (unsigned long long)vol->mft_lcn);
    return VB_OK;
}
