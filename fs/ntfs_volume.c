/* vhdboot: NTFS volume — mount ($MFT, $UpCase, label) and path lookup to an
 * extent map. */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

static const ntfs_attr_name unnamed = { NULL, 0 };

/* Reads record 0 straight from the boot sector's $MFT cluster and sets up
 * vol->mft_runs from it: first from its own base extent (enough to reach its
 * extension records), then from all extents through $ATTRIBUTE_LIST. */
static vb_status load_mft(ntfs_volume *vol, uint8_t *rec, vb_diag *diag)
{
    vb_status st = vb_source_read(vol->dev, vol->mft_lcn * vol->cluster_size, rec, vol->record_size);
    if (st == VB_ERR_OUT_OF_RANGE)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "$MFT record 0 lies past the end of the volume");
    if (st != VB_OK)
        return vb_fail(diag, st, "cannot read $MFT record 0: %s", vb_status_message(st));
    st = ntfs_apply_fixup(rec, vol->record_size, "FILE", "MFT record 0 ($MFT)", diag);
    if (st == VB_OK)
        st = ntfs_check_record(rec, vol->record_size, 0, diag);
    if (st != VB_OK)
        return st;
    ntfs_attr a;
    uint32_t cursor = 0;
    for (;;) {
        st = ntfs_next_attr(rec, vol->record_size, 0, &cursor, &a, diag);
        if (st == VB_ERR_NOT_FOUND)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "$MFT has no non-resident $DATA in record 0");
        if (st != VB_OK)
            return st;
        if (ntfs_attr_matches(&a, NTFS_AT_DATA, unnamed) && a.non_resident && a.lowest_vcn == 0)
            break;
    }
    st = ntfs_decode_runs(vol, &a, 0, &vol->mft_runs, diag);
    if (st != VB_OK)
        return st;
    vol->mft_valid = a.initialized_size;
    ntfs_attr_data data;
    st = ntfs_get_attr(vol, 0, rec, NTFS_AT_DATA, unnamed, &data, diag);
    if (st != VB_OK)
        return st == VB_ERR_NOT_FOUND ? vb_fail(diag, VB_ERR_FS_CORRUPT, "$MFT has no $DATA") : st;
    ntfs_runs_free(&vol->mft_runs);
    if (data.resident || (data.flags & (NTFS_ATTR_COMPRESSED | NTFS_ATTR_ENCRYPTED | NTFS_ATTR_SPARSE))) {
        ntfs_attr_data_free(&data);
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "$MFT data is resident, compressed, encrypted or sparse");
    }
    vol->mft_runs = data.runs;
    vol->mft_valid = data.initialized_size;
    data.runs = (ntfs_runs){ 0 };
    ntfs_attr_data_free(&data);
    if (vol->mft_valid / vol->record_size <= NTFS_MFT_RECORD_UPCASE)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "$MFT is too small (%llu bytes)", (unsigned long long)vol->mft_valid);
    return VB_OK;
}

/* Reads record recno and checks that it is an in-use base record whose
 * sequence number matches seq (0 = do not check). */
static vb_status read_base_record(ntfs_volume *vol, uint64_t recno, uint16_t seq, uint8_t *rec, vb_diag *diag)
{
    vb_status st = ntfs_read_record(vol, recno, rec, diag);
    if (st != VB_OK)
        return st;
    const ntfs_record_header *h = (const ntfs_record_header *)rec;
    if (!(vb_le16(h->flags) & NTFS_RECORD_IN_USE))
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu is referenced but not in use", (unsigned long long)recno);
    if (seq && vb_le16(h->sequence) != seq)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: sequence number %u, reference expects %u (stale entry)",
                       (unsigned long long)recno, vb_le16(h->sequence), seq);
    if (vb_le64(h->base_record) != 0)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu is an extension record, not a file", (unsigned long long)recno);
    return VB_OK;
}

/* Loads the 64 Ki-entry upcase table from $UpCase (record 10); entries
 * missing from a short table map to themselves. */
static vb_status load_upcase(ntfs_volume *vol, uint8_t *rec, vb_diag *diag)
{
    vb_status st = read_base_record(vol, NTFS_MFT_RECORD_UPCASE, 0, rec, diag);
    if (st != VB_OK)
        return st;
    ntfs_attr_data data;
    st = ntfs_get_attr(vol, NTFS_MFT_RECORD_UPCASE, rec, NTFS_AT_DATA, unnamed, &data, diag);
    if (st != VB_OK)
        return st == VB_ERR_NOT_FOUND ? vb_fail(diag, VB_ERR_FS_CORRUPT, "$UpCase has no data") : st;
    uint8_t *raw = NULL;
    size_t len = 0;
    st = ntfs_load_attr_value(vol, &data, NTFS_UPCASE_UNITS * 2, &raw, &len, diag);
    ntfs_attr_data_free(&data);
    if (st != VB_OK)
        return st;
    vol->upcase = vb_alloc(NTFS_UPCASE_UNITS * sizeof(uint16_t));
    if (!vol->upcase) {
        vb_free(raw);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for $UpCase");
    }
    for (size_t i = 0; i < NTFS_UPCASE_UNITS; i++)
        vol->upcase[i] = 2 * i + 1 < len ? vb_le16(raw + 2 * i) : (uint16_t)i;
    vb_free(raw);
    return VB_OK;
}

/* Reads the volume label from $Volume's $VOLUME_NAME (empty when absent). */
static vb_status load_label(ntfs_volume *vol, uint8_t *rec, vb_diag *diag)
{
    vb_status st = read_base_record(vol, NTFS_MFT_RECORD_VOLUME, 0, rec, diag);
    if (st != VB_OK)
        return st;
    ntfs_attr_data data;
    st = ntfs_get_attr(vol, NTFS_MFT_RECORD_VOLUME, rec, NTFS_AT_VOLUME_NAME, unnamed, &data, diag);
    if (st == VB_ERR_NOT_FOUND)
        return VB_OK;
    if (st != VB_OK)
        return st;
    if (!data.resident || data.value_len > 2 * VB_FS_NAME_MAX || (data.value_len & 1))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "$Volume: invalid $VOLUME_NAME");
    else
        vb_fs_name_to_utf8(data.value, data.value_len / 2, vol->label, sizeof(vol->label));
    ntfs_attr_data_free(&data);
    return st;
}

vb_status ntfs_mount(ntfs_volume *vol, vb_source *dev, const uint8_t *sector, vb_diag *diag)
{
    vb_memset(vol, 0, sizeof(*vol));
    vol->dev = dev;
    vb_status st = ntfs_parse_boot(vol, sector, diag);
    if (st != VB_OK)
        return st;
    uint8_t *rec = vb_alloc(vol->record_size);
    if (!rec)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for an MFT record");
    st = load_mft(vol, rec, diag);
    if (st == VB_OK)
        st = load_upcase(vol, rec, diag);
    if (st == VB_OK)
        st = load_label(vol, rec, diag);
    vb_free(rec);
    if (st != VB_OK)
        ntfs_unmount(vol);
    return st;
}

/* Refuses data the loader cannot read in place; returns VB_OK when plain. */
static vb_status check_plain_data(const ntfs_attr_data *data, const char *path, vb_diag *diag)
{
    if (data->flags & NTFS_ATTR_COMPRESSED)
        return vb_fail(diag, VB_ERR_FS_UNSUPPORTED, "%s: file is NTFS-compressed; decompress it (compact /u) to boot from it", path);
    if (data->flags & NTFS_ATTR_ENCRYPTED)
        return vb_fail(diag, VB_ERR_FS_UNSUPPORTED, "%s: file is encrypted (EFS); decrypt it to boot from it", path);
    if (data->flags & NTFS_ATTR_SPARSE)
        return vb_fail(diag, VB_ERR_FS_UNSUPPORTED, "%s: file is sparse; make it fully allocated to boot from it", path);
    if (data->resident)
        return vb_fail(diag, VB_ERR_FS_UNSUPPORTED, "%s: file data is stored inside its MFT record (too small to be a disk image)", path);
    for (size_t i = 0; i < data->runs.count; i++)
        if (data->runs.v[i].hole)
            return vb_fail(diag, VB_ERR_FS_UNSUPPORTED, "%s: file has unallocated (sparse) ranges", path);
    return VB_OK;
}

vb_status ntfs_walk(ntfs_volume *vol, const char *path, uint8_t *rec, uint64_t *recno_out, bool *is_dir, vb_diag *diag)
{
    uint64_t recno = NTFS_MFT_RECORD_ROOT;
    vb_status st = read_base_record(vol, recno, 0, rec, diag);
    size_t pos = 0;
    while (st == VB_OK) {
        vb_fs_name name;
        bool done;
        st = vb_fs_path_next(path, &pos, &name, &done, diag);
        if (st != VB_OK || done)
            break;
        if (!(vb_le16(((const ntfs_record_header *)rec)->flags) & NTFS_RECORD_DIRECTORY))
            return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: a component before the last is not a directory", path);
        uint64_t ref;
        st = ntfs_dir_lookup(vol, recno, rec, &name, &ref, diag);
        if (st == VB_ERR_NOT_FOUND)
            return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: not found", path);
        if (st != VB_OK)
            break;
        recno = ref & 0xFFFFFFFFFFFFull;
        st = read_base_record(vol, recno, (uint16_t)(ref >> 48), rec, diag);
    }
    if (st != VB_OK) {
        if (diag && st == diag->status && st != VB_ERR_INVALID_ARG) { /* prefix the path once */
            char inner[VB_DIAG_TEXT_MAX];
            vb_strlcpy(inner, diag->text, sizeof(inner));
            vb_fail(diag, st, "%s: %s", path, inner);
        }
        return st;
    }
    *recno_out = recno;
    *is_dir = vb_le16(((const ntfs_record_header *)rec)->flags) & NTFS_RECORD_DIRECTORY;
    return VB_OK;
}

/* Walks the path from the root directory; leaves the file's record in rec. */
static vb_status walk_path(ntfs_volume *vol, const char *path, uint8_t *rec, uint64_t *recno_out, vb_diag *diag)
{
    bool is_dir = false;
    vb_status st = ntfs_walk(vol, path, rec, recno_out, &is_dir, diag);
    if (st == VB_OK && is_dir)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: is a directory, not a file", path);
    return st;
}

vb_status ntfs_lookup(ntfs_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag)
{
    vb_memset(map, 0, sizeof(*map));
    uint8_t *rec = vb_alloc(vol->record_size);
    if (!rec)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for an MFT record", path);
    uint64_t recno = 0;
    ntfs_attr_data data = { 0 };
    vb_status st = walk_path(vol, path, rec, &recno, diag);
    if (st == VB_OK) {
        st = ntfs_get_attr(vol, recno, rec, NTFS_AT_DATA, unnamed, &data, diag);
        if (st == VB_ERR_NOT_FOUND)
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: file record %llu has no data attribute", path, (unsigned long long)recno);
        else if (st != VB_OK && diag && st == diag->status) {
            char inner[VB_DIAG_TEXT_MAX];
            vb_strlcpy(inner, diag->text, sizeof(inner));
            vb_fail(diag, st, "%s: %s", path, inner);
        }
    }
    if (st == VB_OK)
        st = check_plain_data(&data, path, diag);
    uint64_t cs = vol->cluster_size;
    for (size_t i = 0; st == VB_OK && i < data.runs.count; i++)
        if (vb_extent_map_append(map, data.runs.v[i].lcn * cs, data.runs.v[i].len * cs) != VB_OK)
            st = vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the extent map", path);
    if (st == VB_OK) {
        vb_extent_map_truncate(map, data.data_size);
        map->valid_size = data.initialized_size;
        st = vb_extent_map_check(map, vol->total_clusters * cs, path, diag);
    }
    ntfs_attr_data_free(&data);
    vb_free(rec);
    if (st != VB_OK)
        vb_extent_map_free(map);
    return st;
}

void ntfs_unmount(ntfs_volume *vol)
{
    ntfs_runs_free(&vol->mft_runs);
    vb_free(vol->upcase);
    vol->upcase = NULL;
}
