/* vhdboot: NTFS directory indexes ($I30) — validated access to $INDEX_ROOT,
 * $INDEX_ALLOCATION blocks and their entries (shared by lookup and listing),
 * and the B-tree descent of a lookup, comparing names through $UpCase. */
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

vb_status ntfs_index_node_bounds(uint64_t dir_recno, const uint8_t *node, size_t avail, uint32_t *first, uint32_t *used,
                                 vb_diag *diag)
{
    const ntfs_index_node_header *h = (const ntfs_index_node_header *)node;
    if (avail < sizeof(*h))
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index node header out of bounds (no room for it)",
                       (unsigned long long)dir_recno);
    *first = vb_le32(h->entries_offset);
    *used = vb_le32(h->index_length);
    if (*used > avail || *first < sizeof(*h) || *first > *used)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index node header out of bounds (entries at %u, length %u)",
                       (unsigned long long)dir_recno, *first, *used);
    return VB_OK;
}

vb_status ntfs_index_entry_at(uint64_t dir_recno, const uint8_t *node, uint32_t used, uint32_t pos, ntfs_index_item *item,
                              vb_diag *diag)
{
    if (pos > used || used - pos < NTFS_INDEX_ENTRY_HEADER_SIZE)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entries run past the node (no last entry)",
                       (unsigned long long)dir_recno);
    const ntfs_index_entry *e = (const ntfs_index_entry *)(node + pos);
    uint32_t elen = vb_le16(e->length), flags = vb_le16(e->flags);
    bool sub = flags & NTFS_INDEX_ENTRY_SUBNODE;
    uint32_t tail = sub ? 8 : 0;
    if (elen < NTFS_INDEX_ENTRY_HEADER_SIZE + tail || elen > used - pos || (elen & 7))
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entry at offset %u has invalid length %u",
                       (unsigned long long)dir_recno, pos, elen);
    vb_memset(item, 0, sizeof(*item));
    item->length = elen;
    item->has_child = sub;
    item->child_vcn = sub ? vb_le64(node + pos + elen - 8) : 0;
    item->last = flags & NTFS_INDEX_ENTRY_LAST;
    if (item->last)
        return VB_OK;
    uint32_t klen = vb_le16(e->key_length);
    const uint8_t *key = node + pos + NTFS_INDEX_ENTRY_HEADER_SIZE;
    if (klen < NTFS_FILE_NAME_HEADER_SIZE || klen > elen - NTFS_INDEX_ENTRY_HEADER_SIZE - tail ||
        2u * ((const ntfs_file_name *)key)->name_length > klen - NTFS_FILE_NAME_HEADER_SIZE)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index entry at offset %u has an out-of-bounds key",
                       (unsigned long long)dir_recno, pos);
    const ntfs_file_name *fn = (const ntfs_file_name *)key;
    item->file_ref = vb_le64(e->file_ref);
    item->key = key;
    item->name = key + NTFS_FILE_NAME_HEADER_SIZE;
    item->name_len = fn->name_length;
    item->name_space = fn->name_space;
    item->data_size = vb_le64(fn->data_size);
    item->file_attributes = vb_le32(fn->file_attributes);
    return VB_OK;
}

vb_status ntfs_index_open(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, ntfs_index *ix, vb_diag *diag)
{
    vb_memset(ix, 0, sizeof(*ix));
    ix->dir_recno = dir_recno;
    ix->dir_rec = dir_rec;
    vb_status st = ntfs_get_attr(vol, dir_recno, dir_rec, NTFS_AT_INDEX_ROOT, i30_name, &ix->root, diag);
    if (st == VB_ERR_NOT_FOUND)
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu has no $I30 index root", (unsigned long long)dir_recno);
    if (st != VB_OK)
        return st;
    const ntfs_index_root *ir = (const ntfs_index_root *)ix->root.value;
    if (!ix->root.resident || ix->root.value_len < sizeof(ntfs_index_root))
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: $INDEX_ROOT is too small or not resident", (unsigned long long)dir_recno);
    else if (vb_le32(ir->indexed_type) != NTFS_AT_FILE_NAME || vb_le32(ir->collation_rule) != NTFS_COLLATION_FILE_NAME)
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: $I30 is not a file-name index", (unsigned long long)dir_recno);
    else {
        ix->block_size = vb_le32(ir->block_size);
        if (ix->block_size < 512 || ix->block_size > NTFS_MAX_RECORD_SIZE || (ix->block_size & (ix->block_size - 1)))
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: invalid index block size %u", (unsigned long long)dir_recno,
                         ix->block_size);
    }
    if (st != VB_OK) {
        ntfs_index_close(ix);
        return st;
    }
    ix->root_node = ix->root.value + offsetof(ntfs_index_root, node);
    ix->root_avail = ix->root.value_len - offsetof(ntfs_index_root, node);
    return VB_OK;
}

vb_status ntfs_index_read_block(ntfs_volume *vol, ntfs_index *ix, uint64_t vcn, uint8_t *block, vb_diag *diag)
{
    uint64_t dir_recno = ix->dir_recno;
    uint32_t block_size = ix->block_size;
    if (!ix->have_alloc) {
        vb_status st = ntfs_get_attr(vol, dir_recno, ix->dir_rec, NTFS_AT_INDEX_ALLOCATION, i30_name, &ix->alloc, diag);
        if (st == VB_ERR_NOT_FOUND || (st == VB_OK && ix->alloc.resident))
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index points to a subnode but has no usable $INDEX_ALLOCATION",
                         (unsigned long long)dir_recno);
        if (st != VB_OK)
            return st;
        ix->have_alloc = true;
    }
    const ntfs_attr_data *alloc = &ix->alloc;
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

void ntfs_index_block_node(const ntfs_index *ix, const uint8_t *block, const uint8_t **node, size_t *avail)
{
    *node = block + offsetof(ntfs_index_block_header, node);
    *avail = ix->block_size - offsetof(ntfs_index_block_header, node);
}

void ntfs_index_close(ntfs_index *ix)
{
    ntfs_attr_data_free(&ix->alloc);
    ntfs_attr_data_free(&ix->root);
    ix->have_alloc = false;
}

enum node_outcome { NODE_FOUND, NODE_DESCEND, NODE_ABSENT };

/* Searches one index node (its header at node, avail bytes to the end of the
 * buffer holding it). Sets *outcome, and *ref or *child accordingly. */
static vb_status search_node(const ntfs_volume *vol, uint64_t dir_recno, const uint8_t *node, size_t avail,
                             const vb_fs_name *name, uint64_t *ref, uint64_t *child, enum node_outcome *outcome, vb_diag *diag)
{
    uint32_t first, used;
    vb_status st = ntfs_index_node_bounds(dir_recno, node, avail, &first, &used, diag);
    if (st != VB_OK)
        return st;
    for (uint32_t pos = first;;) {
        ntfs_index_item item;
        st = ntfs_index_entry_at(dir_recno, node, used, pos, &item, diag);
        if (st != VB_OK)
            return st;
        if (item.has_child)
            *child = item.child_vcn;
        if (item.last) {
            *outcome = item.has_child ? NODE_DESCEND : NODE_ABSENT;
            return VB_OK;
        }
        int cmp = ntfs_collate_names(vol, name->units, name->len, item.name, item.name_len);
        if (cmp == 0) {
            *ref = item.file_ref;
            *outcome = NODE_FOUND;
            return VB_OK;
        }
        if (cmp < 0) {
            *outcome = item.has_child ? NODE_DESCEND : NODE_ABSENT;
            return VB_OK;
        }
        pos += item.length;
    }
}

vb_status ntfs_dir_lookup(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, const vb_fs_name *name,
                          uint64_t *file_ref, vb_diag *diag)
{
    ntfs_index ix;
    uint8_t *block = NULL;
    vb_status st = ntfs_index_open(vol, dir_recno, dir_rec, &ix, diag);
    if (st != VB_OK)
        return st;
    const uint8_t *node = ix.root_node;
    size_t avail = ix.root_avail;
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
        if (!block && !(block = vb_alloc(ix.block_size))) {
            st = vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for an index block");
            break;
        }
        st = ntfs_index_read_block(vol, &ix, child, block, diag);
        ntfs_index_block_node(&ix, block, &node, &avail);
    }
    vb_free(block);
    ntfs_index_close(&ix);
    return st;
}
