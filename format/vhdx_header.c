/* vhdboot: VHDX file identifier, headers and region tables (MS-VHDX 2.1, 2.2).
 *
 * Both headers are read; a header counts only when its signature, CRC-32C and
 * fields are right, and the valid one with the higher sequence number is the
 * current one (Disk2vhd writes both with sequence number 1: the first wins a
 * tie). Both region tables are checked; the first valid one is used. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "utf.h"
#include "vhdx_internal.h"

vb_status vb_vhdx_header_check(const uint8_t raw[VB_VHDX_HEADER_SIZE], uint64_t file_size, char *why, int cap)
{
    const vb_vhdx_raw_header *h = (const void *)raw;
    if (vb_memcmp(h->signature, "head", 4) != 0) {
        vb_format(why, cap, "no 'head' signature");
        return VB_ERR_VHDX_HEADER;
    }
    uint32_t stored = vb_le32(h->checksum), computed = vb_crc32c(raw, VB_VHDX_HEADER_SIZE, 4);
    if (stored != computed) {
        vb_format(why, cap, "CRC-32C mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
        return VB_ERR_VHDX_HEADER;
    }
    if (vb_le16(h->version) != 1 || vb_le16(h->log_version) != 0) {
        vb_format(why, cap, "version %u, log version %u (only 1 and 0 are defined)", vb_le16(h->version),
                  vb_le16(h->log_version));
        return VB_ERR_VHDX_VERSION;
    }
    uint32_t log_len = vb_le32(h->log_length);
    uint64_t log_off = vb_le64(h->log_offset);
    if (log_len % VB_VHDX_MIB || log_off % VB_VHDX_MIB || (log_len && log_off < VB_VHDX_MIB) ||
        (log_len && (log_off > file_size || log_len > file_size - log_off))) {
        vb_format(why, cap, "log at %llu (%u bytes) is not 1 MiB aligned or not inside the file of %llu bytes",
                  (unsigned long long)log_off, log_len, (unsigned long long)file_size);
        return VB_ERR_VHDX_LOG;
    }
    if (!vb_guid_is_zero(h->log_guid) && log_len == 0) {
        vb_format(why, cap, "log GUID set but the log is empty");
        return VB_ERR_VHDX_LOG;
    }
    return VB_OK;
}

/* Decodes the creator string of the file identifier (best effort). */
static void read_creator(const uint8_t *id, char *out, size_t cap)
{
    const vb_vhdx_raw_file_id *f = (const void *)id;
    if (vb_utf16_to_utf8(f->creator, sizeof(f->creator) / 2, false, out, cap) != VB_OK)
        vb_strlcpy(out, "(undecodable)", cap);
}

vb_status vb_vhdx_read_headers(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag)
{
    vb_vhdx_info *info = &x->info;
    uint8_t id[sizeof(vb_vhdx_raw_file_id)];
    if (file->size < VB_VHDX_MIB)
        return vb_fail(diag, VB_ERR_TRUNCATED, "%s: file is %llu bytes, too small for the VHDX headers", name,
                       (unsigned long long)file->size);
    vb_status st = vb_source_read(file, 0, id, sizeof(id));
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the file identifier", name);
    if (!vb_vhdx_sniff(id))
        return vb_fail(diag, VB_ERR_VHDX_FILE_ID, "%s: no 'vhdxfile' identifier at offset 0", name);
    read_creator(id, info->creator, sizeof(info->creator));

    char why[2][160];
    vb_status hs[2];
    static const uint64_t at[2] = { VB_VHDX_HEADER1_OFFSET, VB_VHDX_HEADER2_OFFSET };
    for (unsigned i = 0; i < 2; i++) {
        st = vb_source_read(file, at[i], x->headers[i], VB_VHDX_HEADER_SIZE);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot read header %u", name, i + 1);
        hs[i] = vb_vhdx_header_check(x->headers[i], file->size, why[i], sizeof(why[i]));
        info->header_valid[i] = hs[i] == VB_OK;
        info->header_seq[i] = vb_le64(((const vb_vhdx_raw_header *)x->headers[i])->sequence_number);
    }
    if (!info->header_valid[0] && !info->header_valid[1]) {
        vb_status which = hs[0] != VB_ERR_VHDX_HEADER ? hs[0] : hs[1];
        return vb_fail(diag, which, "%s: both VHDX headers are unusable: header 1: %s; header 2: %s", name, why[0],
                       why[1]);
    }
    unsigned cur = !info->header_valid[0] ? 1
                 : !info->header_valid[1] ? 0
                 : info->header_seq[1] > info->header_seq[0] ? 1 : 0;
    info->current_header = cur;
    const vb_vhdx_raw_header *h = (const void *)x->headers[cur];
    vb_memcpy(info->file_write_guid, h->file_write_guid, 16);
    vb_memcpy(info->data_write_guid, h->data_write_guid, 16);
    vb_memcpy(info->log_guid, h->log_guid, 16);
    info->version = vb_le16(h->version);
    info->log_version = vb_le16(h->log_version);
    info->log_length = vb_le32(h->log_length);
    info->log_offset = vb_le64(h->log_offset);
    info->log_dirty = !vb_guid_is_zero(h->log_guid);
    return VB_OK;
}

/* Region found in a table. */
struct region {
    uint64_t offset;
    uint32_t length;
    bool found;
};

/* Checks one 64 KiB region table and extracts the BAT and metadata regions.
 * Returns VB_OK, VB_ERR_VHDX_REGION_TABLE (signature/CRC) or the content
 * error, with why filled. */
static vb_status parse_region_table(const uint8_t *t, uint64_t file_end, uint64_t log_off, uint32_t log_len,
                                    struct region *bat, struct region *meta, char *why, int cap)
{
    const vb_vhdx_raw_region_header *h = (const void *)t;
    if (vb_memcmp(h->signature, "regi", 4) != 0) {
        vb_format(why, cap, "no 'regi' signature");
        return VB_ERR_VHDX_REGION_TABLE;
    }
    uint32_t stored = vb_le32(h->checksum), computed = vb_crc32c(t, VB_VHDX_REGION_TABLE_SIZE, 4);
    if (stored != computed) {
        vb_format(why, cap, "CRC-32C mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
        return VB_ERR_VHDX_REGION_TABLE;
    }
    uint32_t count = vb_le32(h->entry_count);
    if (count > VB_VHDX_REGION_MAX_ENTRIES) {
        vb_format(why, cap, "%u entries (at most %u)", count, VB_VHDX_REGION_MAX_ENTRIES);
        return VB_ERR_VHDX_REGION_TABLE;
    }
    bat->found = meta->found = false;
    for (uint32_t i = 0; i < count; i++) {
        const vb_vhdx_raw_region_entry *e = (const void *)(t + sizeof(*h) + (size_t)i * sizeof(*e));
        struct region *r = vb_memcmp(e->guid, vb_vhdx_guid_bat, 16) == 0        ? bat
                         : vb_memcmp(e->guid, vb_vhdx_guid_metadata, 16) == 0 ? meta
                                                                              : NULL;
        if (!r) {
            if (vb_le32(e->required) & 1) {
                char g[37];
                vb_guid_format(e->guid, g);
                vb_format(why, cap, "unknown required region %s", g);
                return VB_ERR_VHDX_REGION_UNKNOWN;
            }
            continue;
        }
        const char *what = r == bat ? "BAT" : "metadata";
        if (r->found) {
            vb_format(why, cap, "two %s regions", what);
            return VB_ERR_VHDX_REGION;
        }
        r->offset = vb_le64(e->file_offset);
        r->length = vb_le32(e->length);
        r->found = true;
        if (r->offset % VB_VHDX_MIB || r->length % VB_VHDX_MIB || r->offset < VB_VHDX_MIB || r->length == 0 ||
            r->offset > file_end || r->length > file_end - r->offset) {
            vb_format(why, cap, "%s region at %llu (%u bytes) is not 1 MiB aligned or not inside the file of %llu bytes",
                      what, (unsigned long long)r->offset, r->length, (unsigned long long)file_end);
            return VB_ERR_VHDX_REGION;
        }
        if (log_len && vb_vhdx_overlap(r->offset, r->length, log_off, log_len)) {
            vb_format(why, cap, "%s region at %llu overlaps the log at %llu", what, (unsigned long long)r->offset,
                      (unsigned long long)log_off);
            return VB_ERR_VHDX_REGION_OVERLAP;
        }
    }
    if (!bat->found || !meta->found) {
        vb_format(why, cap, "no %s region", !bat->found ? "BAT" : "metadata");
        return VB_ERR_VHDX_REGION;
    }
    if (vb_vhdx_overlap(bat->offset, bat->length, meta->offset, meta->length)) {
        vb_format(why, cap, "BAT region at %llu (%u bytes) overlaps the metadata region at %llu (%u bytes)",
                  (unsigned long long)bat->offset, bat->length, (unsigned long long)meta->offset, meta->length);
        return VB_ERR_VHDX_REGION_OVERLAP;
    }
    return VB_OK;
}

vb_status vb_vhdx_read_regions(struct vb_vhdx *x, vb_source *src, const char *name, vb_diag *diag)
{
    vb_vhdx_info *info = &x->info;
    uint8_t *t = vb_alloc(VB_VHDX_REGION_TABLE_SIZE);
    if (!t)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the region table", name);
    static const uint64_t at[2] = { VB_VHDX_REGION1_OFFSET, VB_VHDX_REGION2_OFFSET };
    struct region bat[2], meta[2];
    char why[2][200];
    vb_status rs[2];
    vb_status st = VB_OK;
    for (unsigned i = 0; i < 2; i++) {
        st = vb_source_read(src, at[i], t, VB_VHDX_REGION_TABLE_SIZE);
        if (st != VB_OK) {
            vb_free(t);
            return vb_fail(diag, st, "%s: cannot read region table %u", name, i + 1);
        }
        rs[i] = parse_region_table(t, x->file_end, info->log_offset, info->log_length, &bat[i], &meta[i], why[i],
                                   sizeof(why[i]));
        info->region_valid[i] = rs[i] == VB_OK;
    }
    vb_free(t);
    unsigned use = rs[0] == VB_OK ? 0 : 1;
    if (rs[use] != VB_OK) {
        /* a table with a good CRC but bad content says more than a damaged one */
        vb_status which = rs[0] != VB_ERR_VHDX_REGION_TABLE ? rs[0] : rs[1];
        return vb_fail(diag, which, "%s: no usable region table: table 1: %s; table 2: %s", name, why[0], why[1]);
    }
    info->bat_offset = bat[use].offset;
    info->bat_length = bat[use].length;
    info->meta_offset = meta[use].offset;
    info->meta_length = meta[use].length;
    return VB_OK;
}
