/* vhdboot: VHD footer and dynamic header: checksum, size rule, parsing. */
#include "bytes.h"
#include "utf.h"
#include "vhd_layer_internal.h"

uint32_t vb_vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_offset)
{
    /* Ones' complement of the byte sum, with the 4 checksum bytes counted as 0. */
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        if (i >= checksum_offset && i < checksum_offset + 4)
            continue;
        sum += buf[i];
    }
    return ~sum;
}

/* Whether the 4-byte creator application equals app. */
static bool creator_is(const vb_raw_footer *f, const char app[4])
{
    return vb_memcmp(f->creator_app, app, 4) == 0;
}

uint64_t vb_footer_disk_size(const uint8_t footer[512])
{
    /* QEMU's rule (since 10.0): images made by Virtual PC or old QEMU expose
     * the CHS product, unless the geometry is the maximum (then the CHS cannot
     * express it); every other creator, vhdboot's own "vhdb" included, the
     * current size. What vhd_create.c writes reads the same by QEMU 7.2's
     * rule too (see vb_chs_to_store). */
    const vb_raw_footer *f = (const vb_raw_footer *)footer;
    uint16_t c = vb_be16(f->cylinders);
    bool max_chs = c == 65535 && f->heads == 16 && f->sectors_per_track == 255;
    if ((creator_is(f, "vpc ") || creator_is(f, "qemu")) && !max_chs)
        return (uint64_t)c * f->heads * f->sectors_per_track * VB_SECTOR;
    return vb_be64(f->current_size);
}

vb_status vb_footer_parse(const uint8_t footer[512], const char *name, vb_vhd_info *info, vb_diag *diag)
{
    /* Validates the footer (cookie, checksum, version, type, size) and fills
     * the footer fields of info. Returns VB_OK or the specific error. */
    const vb_raw_footer *f = (const vb_raw_footer *)footer;
    if (vb_memcmp(f->cookie, "conectix", 8) != 0)
        return vb_fail(diag, VB_ERR_BAD_COOKIE, "%s: not a VHD file (no 'conectix' footer)", name);
    uint32_t stored = vb_be32(f->checksum);
    uint32_t computed = vb_vhd_checksum(footer, VB_FOOTER_SIZE, VB_FOOTER_CHECKSUM_OFFSET);
    if (stored != computed)
        return vb_fail(diag, VB_ERR_FOOTER_CHECKSUM, "%s: footer checksum mismatch (stored 0x%08x, computed 0x%08x)",
                       name, stored, computed);
    uint32_t version = vb_be32(f->version);
    if (version >> 16 != 1)
        return vb_fail(diag, VB_ERR_BAD_VERSION, "%s: unsupported footer version 0x%08x", name, version);
    uint32_t type = vb_be32(f->disk_type);
    if (type != VB_DISK_FIXED && type != VB_DISK_DYNAMIC && type != VB_DISK_DIFF)
        return vb_fail(diag, VB_ERR_BAD_DISK_TYPE, "%s: unknown disk type %u", name, type);
    uint64_t size = vb_footer_disk_size(footer);
    if (size == 0 || size % VB_SECTOR != 0 || size > VB_MAX_DISK_SIZE)
        return vb_fail(diag, VB_ERR_BAD_DISK_SIZE,
                       "%s: invalid disk size %llu bytes (must be a non-zero multiple of 512, at most 2040 GiB)",
                       name, (unsigned long long)size);

    vb_memset(info, 0, sizeof(*info));
    info->type = (enum vb_disk_type)type;
    info->disk_size = size;
    info->current_size = vb_be64(f->current_size);
    info->original_size = vb_be64(f->original_size);
    info->geometry.cylinders = vb_be16(f->cylinders);
    info->geometry.heads = f->heads;
    info->geometry.sectors = f->sectors_per_track;
    vb_memcpy(info->creator_app, f->creator_app, 4);
    info->creator_app[4] = '\0';
    info->creator_version = vb_be32(f->creator_version);
    info->creator_host_os = vb_be32(f->creator_host_os);
    info->timestamp = vb_be32(f->timestamp);
    vb_memcpy(info->uuid, f->uuid, 16);
    info->saved_state = f->saved_state;
    info->header_offset = type == VB_DISK_FIXED ? 0 : vb_be64(f->data_offset);
    return VB_OK;
}

/* Decodes the UTF-16BE parent name (256 units, terminator optional) into
 * info->parent_name; returns false (name left empty) when it is not valid UTF-16. */
static bool decode_parent_name(const vb_raw_header *h, vb_vhd_info *info)
{
    size_t units = sizeof(h->parent_name) / 2;
    if (vb_utf16_to_utf8(h->parent_name, units, true, info->parent_name, sizeof(info->parent_name)) != VB_OK) {
        info->parent_name[0] = '\0';
        return false;
    }
    return true;
}

vb_status vb_header_parse(const uint8_t header[VB_HEADER_SIZE], const char *name,
                          vb_vhd_info *info, bool *name_bad, vb_diag *diag)
{
    const vb_raw_header *h = (const vb_raw_header *)header;
    if (vb_memcmp(h->cookie, "cxsparse", 8) != 0)
        return vb_fail(diag, VB_ERR_BAD_HEADER_COOKIE, "%s: no 'cxsparse' dynamic header at offset %llu",
                       name, (unsigned long long)info->header_offset);
    uint32_t stored = vb_be32(h->checksum);
    uint32_t computed = vb_vhd_checksum(header, VB_HEADER_SIZE, VB_HEADER_CHECKSUM_OFFSET);
    if (stored != computed)
        return vb_fail(diag, VB_ERR_HEADER_CHECKSUM,
                       "%s: dynamic header checksum mismatch (stored 0x%08x, computed 0x%08x)", name, stored, computed);
    uint32_t version = vb_be32(h->header_version);
    if (version >> 16 != 1)
        return vb_fail(diag, VB_ERR_BAD_VERSION, "%s: unsupported dynamic header version 0x%08x", name, version);
    uint32_t block_size = vb_be32(h->block_size);
    if (block_size < VB_MIN_BLOCK_SIZE || block_size > VB_MAX_BLOCK_SIZE || (block_size & (block_size - 1)) != 0)
        return vb_fail(diag, VB_ERR_BAD_BLOCK_SIZE,
                       "%s: invalid block size %u (must be a power of two from 4 KiB to 256 MiB)", name, block_size);
    uint32_t entries = vb_be32(h->max_table_entries);
    uint64_t needed = (info->disk_size + block_size - 1) / block_size;
    if (entries < needed)
        return vb_fail(diag, VB_ERR_BAD_TABLE,
                       "%s: block table has %u entries, a disk of %llu bytes needs %llu", name, entries,
                       (unsigned long long)info->disk_size, (unsigned long long)needed);
    if (needed > VB_MAX_BAT_ENTRIES)
        return vb_fail(diag, VB_ERR_BAD_TABLE, "%s: %llu blocks of %u bytes is more than the supported %u",
                       name, (unsigned long long)needed, block_size, VB_MAX_BAT_ENTRIES);
    uint32_t sectors = block_size / VB_SECTOR;
    info->bat_offset = vb_be64(h->table_offset);
    info->bat_entries = entries;
    info->block_size = block_size;
    info->bitmap_size = ((sectors + 7) / 8 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
    vb_memcpy(info->parent_uuid, h->parent_uuid, 16);
    info->parent_timestamp = vb_be32(h->parent_timestamp);
    bool ok = decode_parent_name(h, info);
    if (name_bad)
        *name_bad = !ok;
    return VB_OK;
}
