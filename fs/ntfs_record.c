/* vhdboot: NTFS multi-sector fixups, MFT records and attribute headers. */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"

vb_status ntfs_apply_fixup(uint8_t *buf, uint32_t size, const char *magic, const char *what, vb_diag *diag)
{
    const ntfs_multi_sector_header *h = (const ntfs_multi_sector_header *)buf;
    if (vb_memcmp(h->magic, magic, 4) != 0)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: no '%s' signature", what, magic);
    uint32_t usa_off = vb_le16(h->usa_offset), usa_count = vb_le16(h->usa_count);
    uint32_t sectors = size / NTFS_FIXUP_STRIDE;
    if (usa_count != sectors + 1 || usa_off < sizeof(*h) || (usa_off & 1) || usa_off + 2u * usa_count > size)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: update sequence array (offset %u, count %u) does not fit a %u-byte record",
                       what, usa_off, usa_count, size);
    const uint8_t *usa = buf + usa_off;
    for (uint32_t i = 1; i <= sectors; i++) {
        uint8_t *tail = buf + i * NTFS_FIXUP_STRIDE - 2;
        if (tail[0] != usa[0] || tail[1] != usa[1])
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: fixup mismatch in sector %u (torn or corrupt write)", what, i - 1);
    }
    for (uint32_t i = 1; i <= sectors; i++) {
        uint8_t *tail = buf + i * NTFS_FIXUP_STRIDE - 2;
        tail[0] = usa[2 * i];
        tail[1] = usa[2 * i + 1];
    }
    return VB_OK;
}

vb_status ntfs_check_record(const uint8_t *buf, uint32_t size, uint64_t recno, vb_diag *diag)
{
    const ntfs_record_header *r = (const ntfs_record_header *)buf;
    uint32_t first = vb_le16(r->attrs_offset), used = vb_le32(r->bytes_in_use);
    if (used > size || first < sizeof(*r) || (first & 7) || first > used || used - first < 4)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: bytes in use %u / first attribute %u out of bounds",
                       (unsigned long long)recno, used, first);
    return VB_OK;
}

vb_status ntfs_read_record(ntfs_volume *vol, uint64_t recno, uint8_t *buf, vb_diag *diag)
{
    uint64_t records = vol->mft_valid / vol->record_size;
    if (recno >= records)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu is past the end of $MFT (%llu records)",
                       (unsigned long long)recno, (unsigned long long)records);
    vb_status st = ntfs_read_runs(vol, &vol->mft_runs, recno * vol->record_size, buf, vol->record_size, diag);
    if (st != VB_OK)
        return st;
    char what[48];
    vb_format(what, sizeof(what), "MFT record %llu", (unsigned long long)recno);
    st = ntfs_apply_fixup(buf, vol->record_size, "FILE", what, diag);
    if (st != VB_OK)
        return st;
    return ntfs_check_record(buf, vol->record_size, recno, diag);
}

vb_status ntfs_next_attr(const uint8_t *rec, uint32_t size, uint64_t recno, uint32_t *cursor, ntfs_attr *attr, vb_diag *diag)
{
    const ntfs_record_header *r = (const ntfs_record_header *)rec;
    uint32_t used = vb_le32(r->bytes_in_use);
    if (used > size)
        used = size;
    uint32_t pos = *cursor ? *cursor : vb_le16(r->attrs_offset);
    if (pos > used || used - pos < 4)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attributes run past the bytes in use (no end marker)",
                       (unsigned long long)recno);
    const ntfs_attr_header *a = (const ntfs_attr_header *)(rec + pos);
    uint32_t type = vb_le32(a->type);
    if (type == NTFS_ATTR_END)
        return VB_ERR_NOT_FOUND;
    uint32_t room = used - pos;
    uint32_t len = room >= NTFS_RESIDENT_HEADER_SIZE ? vb_le32(a->length) : 0;
    bool nonres = len && a->non_resident;
    uint32_t min = nonres ? NTFS_NONRESIDENT_HEADER_SIZE : NTFS_RESIDENT_HEADER_SIZE;
    if (len < min || len > room || (len & 7))
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x at offset %u has invalid length %u",
                       (unsigned long long)recno, type, pos, len);
    uint32_t name_off = vb_le16(a->name_offset);
    if (name_off > len || 2u * a->name_length > len - name_off)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x name out of bounds", (unsigned long long)recno, type);
    *attr = (ntfs_attr){
        .type = type,
        .non_resident = nonres,
        .flags = vb_le16(a->flags),
        .name = (const uint8_t *)a + name_off,
        .name_len = a->name_length,
    };
    if (!nonres) {
        uint32_t voff = vb_le16(a->u.resident.value_offset), vlen = vb_le32(a->u.resident.value_length);
        if (voff > len || vlen > len - voff)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: resident attribute 0x%x value (offset %u, length %u) out of bounds",
                           (unsigned long long)recno, type, voff, vlen);
        attr->value = (const uint8_t *)a + voff;
        attr->value_len = vlen;
    } else {
        uint32_t poff = vb_le16(a->u.nonresident.pairs_offset);
        attr->lowest_vcn = vb_le64(a->u.nonresident.lowest_vcn);
        attr->highest_vcn = vb_le64(a->u.nonresident.highest_vcn);
        attr->compression_unit = a->u.nonresident.compression_unit;
        attr->allocated_size = vb_le64(a->u.nonresident.allocated_size);
        attr->data_size = vb_le64(a->u.nonresident.data_size);
        attr->initialized_size = vb_le64(a->u.nonresident.initialized_size);
        if (poff < NTFS_NONRESIDENT_HEADER_SIZE || poff > len || attr->lowest_vcn > INT64_MAX ||
            (attr->highest_vcn > INT64_MAX && attr->highest_vcn != UINT64_MAX) ||
            attr->highest_vcn + 1 < attr->lowest_vcn)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: non-resident attribute 0x%x has invalid VCN range or mapping pairs offset",
                           (unsigned long long)recno, type);
        attr->pairs = (const uint8_t *)a + poff;
        attr->pairs_len = len - poff;
    }
    *cursor = pos + len;
    return VB_OK;
}

bool ntfs_attr_matches(const ntfs_attr *attr, uint32_t type, ntfs_attr_name name)
{
    if (attr->type != type || attr->name_len != name.len)
        return false;
    for (size_t i = 0; i < name.len; i++)
        if (vb_le16(attr->name + 2 * i) != name.units[i])
            return false;
    return true;
}
