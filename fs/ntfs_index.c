/* vhdboot: NTFS directory lookup — B-tree descent through $INDEX_ROOT and
 * $INDEX_ALLOCATION ($I30), comparing names through $UpCase. */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

static const uint16_t i30_units[] = { '$', 'I', '3', '0' };
static const ntfs_attr_name i30_name = { i30_units, 4 };

int ntfs_collate_names(const ntfs_volume *vol, const uint16_t *a, size_t alen, const uint8_t *b_le, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        uint16_t ua = vol->upcase[a[i]], ub = vol->upcase[vb_le16(b_le + 2 * i)];
        if (ua != ub)
            return ua < ub ? -1 : 1;
    }
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

enum node_outcome { NODE_FOUND, NODE_DESCEND, NODE_ABSENT };

/* Searches one index node (its header at node, avail bytes to the end of the
 * buffer holding it). Sets *outcome, and *ref or *child accordingly. */
static vb_status search_node(const ntfs_volume *vol, uint64_t dir_recno, const uint8_t *node, size_t avail,
                             const vb_fs_name *name, uint64_t *ref, uint64_t *child, enum node_outcome *outcome, vb_diag *diag)
{
    const ntfs_index_node_header *h = (const ntfs_index_node_header *)node;
    uint32_t first = vb_le32(h->entries_offset), used = vb_le32(h->index_length);
    if (avail < sizeof(*h) || used > avail || first < sizeof(*h) || first > used)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index node header out of bounds (entries at %u, length %u)",
                       (unsigned long long)dir_recno, first, used);
    for (uint32_t pos = first;;) {
        if (used - pos < NTFS_INDEX_ENTRY_HEADER_SIZE)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entries run past the node (no last entry)",
                           (unsigned long long)dir_recno);
        const ntfs_index_entry *e = (const ntfs_index_entry *)(node + pos);
        uint32_t elen = vb_le16(e->length), flags = vb_le16(e->flags);
        bool sub = flags & NTFS_INDEX_ENTRY_SUBNODE;
        uint32_t tail = sub ? 8 : 0;
        if (elen < NTFS_INDEX_ENTRY_HEADER_SIZE + tail || elen > used - pos || (elen & 7))
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entry at offset %u has invalid length %u",
                           (unsigned long long)dir_recno, pos, elen);
        if (sub)
            *child = vb_le64(node + pos + elen - 8);
        if (flags & NTFS_INDEX_ENTRY_LAST) {
            *outcome = sub ? NODE_DESCEND : NODE_ABSENT;
            return VB_OK;
        }
        uint32_t klen = vb_le16(e->key_length);
        const uint8_t *key = node + pos + NTFS_INDEX_ENTRY_HEADER_SIZE;
        if (klen < NTFS_FILE_NAME_HEADER_SIZE || klen > elen - NTFS_INDEX_ENTRY_HEADER_SIZE - tail ||
            2u * ((const ntfs_file_name *)key)->name_length > klen - NTFS_FILE_NAME_HEADER_SIZE)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entry at offset %u has an out-of-bounds key",
                           (unsigned long long)dir_recno, pos);
        const ntfs_file_name *fn = (const ntfs_file_name *)key;
        int cmp = ntfs_collate_names(vol, name->units, name->len, key + NTFS_FILE_NAME_HEADER_SIZE, fn->name_length);
        if (cmp == 0) {
            *ref = vb_le64(e->file_ref);
            *outcome = NODE_FOUND;
            return VB_OK;
        }
        if (cmp < 0) {
            *outcome = sub ? NODE_DESCEND : NODE_ABSENT;
            return VB_OK;
        }
        pos += elen;
    }
}

/* Reads index block vcn of a directory into block (block_size bytes), applies
 * its fixup and checks that it says it is that block. */
static vb_status read_index_block(ntfs_volume *vol, uint64_t dir_recno, const ntfs_attr_data *alloc, uint32_t block_size,
                                  uint64_t vcn, uint8_t *block, vb_diag *diag)
{
    uint64_t unit = block_size >= vol->cluster_size ? vol->cluster_size : 512;
    if (alloc->initialized_size < block_size || vcn > (alloc->initialized_size - block_size) / unit)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index block VCN %llu is outside $INDEX_ALLOCATION",
                       (unsigned long long)dir_recno, (unsigned long long)vcn);
    vb_status st = ntfs_read_runs(vol, &alloc->runs, vcn * unit, block, block_size, diag);
    if (st != VB_OK)
        return st;
    char what[64];
    vb_format(what, sizeof(what), "directory record %llu index block %llu", (unsigned long long)dir_recno, (unsigned long long)vcn);
    st = ntfs_apply_fixup(block, block_size, "INDX", what, diag);
    if (st != VB_OK)
        return st;
    if (vb_le64(((const ntfs_index_block_header *)block)->vcn) != vcn)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: block says it is VCN %llu", what,
                       (unsigned long long)vb_le64(((const ntfs_index_block_header *)block)->vcn));
    return VB_OK;
}

vb_status ntfs_dir_lookup(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, const vb_fs_name *name,
                          uint64_t *file_ref, vb_diag *diag)
{
    ntfs_attr_data root = { 0 }, alloc = { 0 };
    uint8_t *block = NULL;
    vb_status st = ntfs_get_attr(vol, dir_recno, dir_rec, NTFS_AT_INDEX_ROOT, i30_name, &root, diag);
    if (st == VB_ERR_NOT_FOUND)
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu has no $I30 index root", (unsigned long long)dir_recno);
    if (st != VB_OK)
        return st;
    const ntfs_index_root *ir = (const ntfs_index_root *)root.value;
    uint32_t block_size = 0;
    if (!root.resident || root.value_len < sizeof(ntfs_index_root))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: $INDEX_ROOT is too small or not resident", (unsigned long long)dir_recno);
    else if (vb_le32(ir->indexed_type) != NTFS_AT_FILE_NAME || vb_le32(ir->collation_rule) != NTFS_COLLATION_FILE_NAME)
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: $I30 is not a file-name index", (unsigned long long)dir_recno);
    else {
        block_size = vb_le32(ir->block_size);
        if (block_size < 512 || block_size > NTFS_MAX_RECORD_SIZE || (block_size & (block_size - 1)))
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: invalid index block size %u", (unsigned long long)dir_recno, block_size);
    }
    const uint8_t *node = root.value + offsetof(ntfs_index_root, node);
    size_t avail = st == VB_OK ? root.value_len - offsetof(ntfs_index_root, node) : 0;
    for (unsigned depth = 0; st == VB_OK; depth++) {
        enum node_outcome outcome = NODE_ABSENT;
        uint64_t child = 0;
        st = search_node(vol, dir_recno, node, avail, name, file_ref, &child, &outcome, diag);
        if (st != VB_OK)
            break;
        if (outcome == NODE_FOUND)
            break;
        if (outcome == NODE_ABSENT) {
            st = VB_ERR_NOT_FOUND;
            break;
        }
        if (depth >= NTFS_MAX_INDEX_DEPTH) {
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index deeper than %u levels (loop?)",
                         (unsigned long long)dir_recno, NTFS_MAX_INDEX_DEPTH);
            break;
        }
        if (!block) {
            st = ntfs_get_attr(vol, dir_recno, dir_rec, NTFS_AT_INDEX_ALLOCATION, i30_name, &alloc, diag);
            if (st == VB_ERR_NOT_FOUND || (st == VB_OK && alloc.resident))
                st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index points to a subnode but has no usable $INDEX_ALLOCATION",
                             (unsigned long long)dir_recno);
            if (st == VB_OK && !(block = vb_alloc(block_size)))
                st = vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for an index block");
            if (st != VB_OK)
                break;
        }
        st = read_index_block(vol, dir_recno, &alloc, block_size, child, block, diag);
        node = block + offsetof(ntfs_index_block_header, node);
        avail = block_size - offsetof(ntfs_index_block_header, node);
    }
    vb_free(block);
    ntfs_attr_data_free(&alloc);
    ntfs_attr_data_free(&root);
    return st;
}
