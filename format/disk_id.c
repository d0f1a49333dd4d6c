/* vhdboot: host partition identity from an MBR or GPT partition table.
 * MBR: signature at byte 440, four 16-byte entries from byte 446 (type at +4,
 * start LBA at +8). GPT (UEFI 2.10 section 5.3): header at LBA 1 ("EFI PART",
 * disk GUID at 56, entry array LBA at 72, count at 80, entry size at 84);
 * an entry holds its unique partition GUID at 16 and starting LBA at 32. */
#include "disk_id.h"
#include "bytes.h"
#include "platform.h"

void vb_guid_format_braced(const uint8_t g[16], char out[39])
{
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '{';
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[g[order[i]] >> 4];
        out[n++] = hex[g[order[i]] & 15];
    }
    out[n++] = '}';
    out[n] = 0;
}

/* Identity of a GPT partition: header at LBA 1, entry `number` of its array. */
static vb_status read_gpt(vb_source *disk, uint32_t block_size, uint32_t number, vb_disk_id *out)
{
    uint8_t hdr[92];
    vb_status st = vb_source_read(disk, block_size, hdr, sizeof(hdr));
    if (st != VB_OK)
        return st;
    if (vb_memcmp(hdr, "EFI PART", 8) != 0)
        return VB_ERR_FS_CORRUPT;
    uint64_t array_lba = vb_le64(hdr + 72);
    uint32_t count = vb_le32(hdr + 80), entry_size = vb_le32(hdr + 84);
    if (entry_size < 128 || entry_size > 4096 || array_lba == 0 || array_lba > UINT64_MAX / block_size)
        return VB_ERR_FS_CORRUPT;
    if (number == 0 || number > count)
        return VB_ERR_NOT_FOUND;
    uint64_t at = array_lba * block_size;
    if ((uint64_t)(number - 1) * entry_size > UINT64_MAX - at)
        return VB_ERR_FS_CORRUPT;
    uint8_t entry[128];
    if ((st = vb_source_read(disk, at + (uint64_t)(number - 1) * entry_size, entry, sizeof(entry))) != VB_OK)
        return st;
    static const uint8_t zero[16];
    if (vb_memcmp(entry, zero, 16) == 0)           /* unused type GUID */
        return VB_ERR_NOT_FOUND;
    out->style = VB_DISK_GPT;
    vb_memcpy(out->disk_guid, hdr + 56, 16);
    vb_memcpy(out->part_guid, entry + 16, 16);
    uint64_t first = vb_le64(entry + 32), last = vb_le64(entry + 40);
    if (last < first || last - first >= UINT64_MAX / block_size || first > UINT64_MAX / block_size)
        return VB_ERR_FS_CORRUPT;
    out->part_offset = first * block_size;
    out->part_size = (last - first + 1) * block_size;
    return VB_OK;
}

vb_status vb_disk_id_read(vb_source *disk, uint32_t block_size, uint32_t number, vb_disk_id *out)
{
    if (!disk || !out || block_size < 512 || (block_size & (block_size - 1)))
        return VB_ERR_INVALID_ARG;
    uint8_t mbr[512];
    vb_status st = vb_source_read(disk, 0, mbr, sizeof(mbr));
    if (st != VB_OK)
        return st;
    if (mbr[510] != 0x55 || mbr[511] != 0xAA)
        return VB_ERR_FS_CORRUPT;
    vb_memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < 4; i++)
        if (mbr[446 + 16 * i + 4] == 0xEE)
            return read_gpt(disk, block_size, number, out);
    if (number < 1 || number > 4)
        return VB_ERR_NOT_FOUND;
    const uint8_t *e = mbr + 446 + 16 * (number - 1);
    if (e[4] == 0 || vb_le32(e + 8) == 0)
        return VB_ERR_NOT_FOUND;
    out->style = VB_DISK_MBR;
    out->mbr_signature = vb_le32(mbr + 440);
    out->part_offset = (uint64_t)vb_le32(e + 8) * block_size;
    out->part_size = (uint64_t)vb_le32(e + 12) * block_size;
    return VB_OK;
}
