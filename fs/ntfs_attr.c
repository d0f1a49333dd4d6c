/* vhdboot: NTFS attributes gathered across extension records ($ATTRIBUTE_LIST). */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

#define NTFS_REF_RECORD(ref) ((ref) & 0xFFFFFFFFFFFFull)
#define NTFS_REF_SEQUENCE(ref) ((uint16_t)((ref) >> 48))

/* Progress while gathering the extents of one attribute. */
struct gather {
    ntfs_attr_data *out;
    uint64_t next_vcn;
    unsigned extents;
};

/* Adds one attribute extent found in record recno: a resident value (only as
 * the single extent) or a run of VCNs that must continue the previous one. */
static vb_status add_extent(ntfs_volume *vol, uint64_t recno, const ntfs_attr *a, struct gather *g, vb_diag *diag)
{
    ntfs_attr_data *out = g->out;
    if (g->extents > 0 && (!a->non_resident || out->resident))
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x mixes resident and non-resident extents",
                       (unsigned long long)recno, a->type);
    g->extents++;
    if (!a->non_resident) {
        out->resident = true;
        out->flags = a->flags;
        out->value = vb_alloc(a->value_len ? a->value_len : 1);
        if (!out->value)
            return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for attribute 0x%x", a->type);
        vb_memcpy(out->value, a->value, a->value_len);
        out->value_len = a->value_len;
        out->data_size = out->initialized_size = out->allocated_size = a->value_len;
        return VB_OK;
    }
    if (a->lowest_vcn != g->next_vcn)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x extent starts at VCN %llu, expected %llu (gap, overlap or loop)",
                       (unsigned long long)recno, a->type, (unsigned long long)a->lowest_vcn, (unsigned long long)g->next_vcn);
    if (g->extents > 1 && a->highest_vcn + 1 <= a->lowest_vcn)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x has an empty extension extent", (unsigned long long)recno, a->type);
    if (a->lowest_vcn == 0) {
        out->flags = a->flags;
        out->allocated_size = a->allocated_size;
        out->data_size = a->data_size;
        out->initialized_size = a->initialized_size;
    }
    vb_status st = ntfs_decode_runs(vol, a, recno, &out->runs, diag);
    if (st != VB_OK)
        return st;
    g->next_vcn = a->highest_vcn + 1;
    return VB_OK;
}

/* Finds the extent of (type, name) starting at VCN vcn in record rec.
 * Returns VB_OK with *found set accordingly, or a corruption status. */
static vb_status find_in_record(const uint8_t *rec, uint32_t size, uint64_t recno, uint32_t type, ntfs_attr_name name,
                                uint64_t vcn, ntfs_attr *found, bool *ok, vb_diag *diag)
{
    uint32_t cursor = 0;
    *ok = false;
    for (;;) {
        vb_status st = ntfs_next_attr(rec, size, recno, &cursor, found, diag);
        if (st == VB_ERR_NOT_FOUND)
            return VB_OK;
        if (st != VB_OK)
            return st;
        if (ntfs_attr_matches(found, type, name) && (found->non_resident ? found->lowest_vcn == vcn : vcn == 0)) {
            *ok = true;
            return VB_OK;
        }
    }
}

/* Loads the value of the $ATTRIBUTE_LIST attribute a (resident or not) into a
 * new buffer, refusing sizes above NTFS_MAX_ATTR_LIST_SIZE. */
static vb_status load_list(ntfs_volume *vol, uint64_t recno, const ntfs_attr *a, uint8_t **list, size_t *len, vb_diag *diag)
{
    ntfs_attr_data data = { 0 };
    struct gather g = { .out = &data };
    vb_status st = add_extent(vol, recno, a, &g, diag);
    if (st == VB_OK && a->non_resident && (a->lowest_vcn != 0 || g.next_vcn * vol->cluster_size < data.initialized_size))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list runlist does not cover its size", (unsigned long long)recno);
    if (st == VB_OK && (data.flags & (NTFS_ATTR_COMPRESSED | NTFS_ATTR_ENCRYPTED)))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list is compressed or encrypted", (unsigned long long)recno);
    if (st == VB_OK)
        st = ntfs_load_attr_value(vol, &data, NTFS_MAX_ATTR_LIST_SIZE, list, len, diag);
    ntfs_attr_data_free(&data);
    return st;
}

/* Walks the attribute list and gathers every extent of (type, name). */
static vb_status gather_from_list(ntfs_volume *vol, uint64_t recno, const uint8_t *rec, const uint8_t *list, size_t size,
                                  uint32_t type, ntfs_attr_name name, struct gather *g, vb_diag *diag)
{
    uint8_t *ext = NULL;
    uint64_t ext_recno = UINT64_MAX; /* record now in ext (consecutive entries often share one) */
    unsigned visited = 0;
    vb_status st = VB_OK;
    for (size_t pos = 0; st == VB_OK && size - pos >= NTFS_ATTR_LIST_ENTRY_MIN;) {
        const ntfs_attr_list_entry *e = (const ntfs_attr_list_entry *)(list + pos);
        size_t elen = vb_le16(e->length);
        if (elen < NTFS_ATTR_LIST_ENTRY_MIN || elen > size - pos || e->name_offset > elen ||
            2u * e->name_length > elen - e->name_offset) {
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list entry at offset %zu is out of bounds",
                         (unsigned long long)recno, pos);
            break;
        }
        pos += elen;
        ntfs_attr probe = { .type = vb_le32(e->type), .name = (const uint8_t *)e + e->name_offset, .name_len = e->name_length };
        if (!ntfs_attr_matches(&probe, type, name))
            continue;
        if (++visited > NTFS_MAX_LIST_RECORDS) {
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list names more than %u extents (loop?)",
                         (unsigned long long)recno, NTFS_MAX_LIST_RECORDS);
            break;
        }
        uint64_t ref = vb_le64(e->record), where = NTFS_REF_RECORD(ref), vcn = vb_le64(e->lowest_vcn);
        const uint8_t *holder = rec;
        if (where != recno) {
            if (where != ext_recno) {
                if (!ext && !(ext = vb_alloc(vol->record_size))) {
                    st = vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for an MFT record");
                    break;
                }
                ext_recno = UINT64_MAX;
                st = ntfs_read_record(vol, where, ext, diag);
                if (st != VB_OK)
                    break;
                ext_recno = where;
            }
            const ntfs_record_header *h = (const ntfs_record_header *)ext;
            if (!(vb_le16(h->flags) & NTFS_RECORD_IN_USE) || NTFS_REF_RECORD(vb_le64(h->base_record)) != recno ||
                (NTFS_REF_SEQUENCE(ref) && NTFS_REF_SEQUENCE(ref) != vb_le16(h->sequence))) {
                st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list points at record %llu, which is not one of its extension records",
                             (unsigned long long)recno, (unsigned long long)where);
                break;
            }
            holder = ext;
        }
        ntfs_attr a;
        bool ok;
        st = find_in_record(holder, vol->record_size, where, type, name, vcn, &a, &ok, diag);
        if (st == VB_OK && !ok)
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute list entry for 0x%x at VCN %llu has no matching attribute in record %llu",
                         (unsigned long long)recno, type, (unsigned long long)vcn, (unsigned long long)where);
        if (st == VB_OK)
            st = add_extent(vol, where, &a, g, diag);
    }
    vb_free(ext);
    if (st == VB_OK && g->extents == 0)
        st = VB_ERR_NOT_FOUND;
    return st;
}

/* Gathers (type, name) from the base record alone (no attribute list). */
static vb_status gather_from_record(ntfs_volume *vol, uint64_t recno, const uint8_t *rec, uint32_t type, ntfs_attr_name name,
                                    struct gather *g, vb_diag *diag)
{
    ntfs_attr a;
    bool ok;
    vb_status st = find_in_record(rec, vol->record_size, recno, type, name, 0, &a, &ok, diag);
    if (st != VB_OK)
        return st;
    if (!ok)
        return VB_ERR_NOT_FOUND;
    return add_extent(vol, recno, &a, g, diag);
}

vb_status ntfs_get_attr(ntfs_volume *vol, uint64_t recno, const uint8_t *rec, uint32_t type, ntfs_attr_name name,
                        ntfs_attr_data *out, vb_diag *diag)
{
    vb_memset(out, 0, sizeof(*out));
    struct gather g = { .out = out };
    ntfs_attr a;
    uint32_t cursor = 0;
    bool have_list = false;
    vb_status st;
    while ((st = ntfs_next_attr(rec, vol->record_size, recno, &cursor, &a, diag)) == VB_OK) {
        if (a.type == NTFS_AT_ATTRIBUTE_LIST) {
            have_list = true;
            break;
        }
    }
    if (st != VB_OK && st != VB_ERR_NOT_FOUND)
        return st;
    if (have_list && type != NTFS_AT_ATTRIBUTE_LIST) {
        uint8_t *list = NULL;
        size_t size = 0;
        st = load_list(vol, recno, &a, &list, &size, diag);
        if (st == VB_OK)
            st = gather_from_list(vol, recno, rec, list, size, type, name, &g, diag);
        vb_free(list);
    } else {
        st = gather_from_record(vol, recno, rec, type, name, &g, diag);
    }
    if (st == VB_OK && !out->resident) {
        bool packed = out->flags & (NTFS_ATTR_COMPRESSED | NTFS_ATTR_SPARSE);
        if (out->data_size > out->allocated_size || out->initialized_size > out->data_size ||
            (!packed && g.next_vcn * vol->cluster_size != out->allocated_size))
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x sizes (allocated %llu, data %llu, initialized %llu) disagree with its %llu clusters",
                         (unsigned long long)recno, type, (unsigned long long)out->allocated_size,
                         (unsigned long long)out->data_size, (unsigned long long)out->initialized_size,
                         (unsigned long long)g.next_vcn);
    }
    if (st != VB_OK)
        ntfs_attr_data_free(out);
    return st;
}

vb_status ntfs_load_attr_value(ntfs_volume *vol, const ntfs_attr_data *data, uint32_t max, uint8_t **value, size_t *len,
                               vb_diag *diag)
{
    *value = NULL;
    *len = 0;
    if (data->data_size > max)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "metadata attribute of %llu bytes exceeds the %u-byte limit",
                       (unsigned long long)data->data_size, max);
    size_t size = (size_t)data->data_size;
    uint8_t *buf = vb_alloc(size ? size : 1);
    if (!buf)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for a %zu-byte attribute", size);
    vb_status st = VB_OK;
    if (data->resident)
        vb_memcpy(buf, data->value, size);
    else
        st = ntfs_read_runs(vol, &data->runs, 0, buf, (size_t)data->initialized_size, diag);
    if (st != VB_OK) {
        vb_free(buf);
        return st;
    }
    *value = buf;
    *len = size;
    return VB_OK;
}

void ntfs_attr_data_free(ntfs_attr_data *data)
{
    vb_free(data->value);
    ntfs_runs_free(&data->runs);
    vb_memset(data, 0, sizeof(*data));
}
