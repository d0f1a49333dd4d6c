/* vhdboot: NTFS directory listing — an in-order walk of the $I30 B-tree
 * ($INDEX_ROOT, then the INDX blocks each entry points to before it), with
 * the entry checks of ntfs_index.c, a depth cap and caps on the blocks read
 * and the entries reported. */
#include "ntfs.h"
#include "ntfs_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

#define FILE_ATTR_DIRECTORY_INDEX 0x10000000u /* $FILE_NAME flag: the file has an $I30 index */
#define NTFS_FIRST_USER_RECORD 16u            /* records below are volume metadata ($MFT, ..., the root's ".") */
#define NAME_SPACE_DOS 2u
#define ENTRY_VISIT_CAP (2u * VB_FS_LIST_MAX_ENTRIES) /* long and DOS names of every entry */

/* One node on the walk's path from the root: where the walk is in it. */
struct level {
    const uint8_t *node;
    uint32_t used;
    uint32_t pos;
    bool child_done;  /* the subnode left of the entry at pos was walked */
    uint8_t *block;   /* this level's block buffer (NULL for the root) */
};

/* The state of one listing. */
struct walk {
    ntfs_volume *vol;
    ntfs_index ix;
    struct level levels[NTFS_MAX_INDEX_DEPTH + 1];
    unsigned depth;       /* levels in use */
    unsigned blocks_read;
    unsigned visited;     /* entries with a key */
    unsigned reported;
    char name[VB_FS_NAME_MAX * 3 + 1];
};

/* Makes node (avail bytes to the end of its buffer) the new deepest level. */
static vb_status push_node(struct walk *w, const uint8_t *node, size_t avail, vb_diag *diag)
{
    struct level *l = &w->levels[w->depth];
    uint32_t first;
    vb_status st = ntfs_index_node_bounds(w->ix.dir_recno, node, avail, &first, &l->used, diag);
    if (st != VB_OK)
        return st;
    l->node = node;
    l->pos = first;
    l->child_done = false;
    w->depth++;
    return VB_OK;
}

/* Reads the subnode vcn into the next level's buffer and descends into it. */
static vb_status descend(struct walk *w, uint64_t vcn, vb_diag *diag)
{
    uint64_t recno = w->ix.dir_recno;
    if (w->depth > NTFS_MAX_INDEX_DEPTH)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: index deeper than %u levels (loop?)",
                       (unsigned long long)recno, NTFS_MAX_INDEX_DEPTH);
    if (++w->blocks_read > NTFS_MAX_LIST_BLOCKS)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: listing needs more than %u index blocks (loop?)",
                       (unsigned long long)recno, NTFS_MAX_LIST_BLOCKS);
    struct level *l = &w->levels[w->depth];
    if (!l->block && !(l->block = vb_alloc(w->ix.block_size)))
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for an index block");
    vb_status st = ntfs_index_read_block(w->vol, &w->ix, vcn, l->block, diag);
    if (st != VB_OK)
        return st;
    const uint8_t *node;
    size_t avail;
    ntfs_index_block_node(&w->ix, l->block, &node, &avail);
    return push_node(w, node, avail, diag);
}

/* Reports one keyed entry unless it is a DOS-only name or metadata; sets
 * *stop when the callback asks to stop. */
static vb_status report(struct walk *w, const ntfs_index_item *item, vb_fs_list_fn fn, void *ctx, bool *stop, vb_diag *diag)
{
    if (++w->visited > ENTRY_VISIT_CAP)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: more than %u index entries (loop?)",
                       (unsigned long long)w->ix.dir_recno, ENTRY_VISIT_CAP);
    if (item->name_space == NAME_SPACE_DOS || (item->file_ref & 0xFFFFFFFFFFFFull) < NTFS_FIRST_USER_RECORD ||
        item->name_len == 0)
        return VB_OK;
    if (++w->reported > VB_FS_LIST_MAX_ENTRIES)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "directory record %llu: more than %u entries",
                       (unsigned long long)w->ix.dir_recno, VB_FS_LIST_MAX_ENTRIES);
    vb_fs_name_to_utf8(item->name, item->name_len, w->name, sizeof(w->name));
    bool is_dir = item->file_attributes & FILE_ATTR_DIRECTORY_INDEX;
    vb_fs_dirent e = { .name = w->name, .is_dir = is_dir, .size = is_dir ? 0 : item->data_size };
    *stop = fn(ctx, &e);
    return VB_OK;
}

/* Walks the whole tree in order, calling fn for each entry. */
static vb_status walk_tree(struct walk *w, vb_fs_list_fn fn, void *ctx, vb_diag *diag)
{
    vb_status st = push_node(w, w->ix.root_node, w->ix.root_avail, diag);
    bool stop = false;
    while (st == VB_OK && w->depth > 0 && !stop) {
        struct level *l = &w->levels[w->depth - 1];
        ntfs_index_item item;
        st = ntfs_index_entry_at(w->ix.dir_recno, l->node, l->used, l->pos, &item, diag);
        if (st != VB_OK)
            break;
        if (item.has_child && !l->child_done) {
            l->child_done = true;
            st = descend(w, item.child_vcn, diag);
            continue;
        }
        if (item.last) {
            w->depth--;
            continue;
        }
        st = report(w, &item, fn, ctx, &stop, diag);
        l->pos += item.length;
        l->child_done = false;
    }
    return st;
}

vb_status ntfs_list_dir(ntfs_volume *vol, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag)
{
    uint8_t *rec = vb_alloc(vol->record_size);
    struct walk *w = vb_alloc(sizeof(*w));
    vb_status st = VB_OK;
    if (!rec || !w) {
        vb_free(rec);
        vb_free(w);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to list the directory", path);
    }
    vb_memset(w, 0, sizeof(*w));
    w->vol = vol;
    uint64_t recno = 0;
    bool is_dir = false;
    st = ntfs_walk(vol, path, rec, &recno, &is_dir, diag);
    if (st == VB_OK && !is_dir)
        st = vb_fail(diag, VB_ERR_INVALID_ARG, "%s: is a file, not a directory", path);
    if (st == VB_OK) {
        st = ntfs_index_open(vol, recno, rec, &w->ix, diag);
        if (st == VB_OK) {
            st = walk_tree(w, fn, ctx, diag);
            ntfs_index_close(&w->ix);
        }
        if (st != VB_OK && diag && st == diag->status) { /* name the directory once */
            char inner[VB_DIAG_TEXT_MAX];
            vb_strlcpy(inner, diag->text, sizeof(inner));
            vb_fail(diag, st, "%s: %s", path, inner);
        }
    }
    for (unsigned i = 0; i <= NTFS_MAX_INDEX_DEPTH; i++)
        vb_free(w->levels[i].block);
    vb_free(w);
    vb_free(rec);
    return st;
}
