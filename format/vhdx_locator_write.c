/* vhdboot: rewriting the parent locator of a differencing VHDX (vhdtool
 * set-parent).
 *
 * Order (crash-consistent, no log): both headers get a new FileWriteGuid
 * first (the file is about to change; the virtual disk does not, so the
 * DataWriteGuid stays); the new locator item is written into free space of
 * the metadata region after every existing item, and flushed; only then is
 * the one 32-byte metadata table entry pointed at it, and flushed. A crash
 * before that last write leaves the old locator in force. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "utf.h"
#include "vhdx_internal.h"

/* Appends key=value (UTF-16LE) as entry i of the locator being built in loc. */
static vb_status put_pair(uint8_t *loc, size_t cap, unsigned i, size_t *end, const char *key, const char *value)
{
    vb_vhdx_raw_locator_entry *e = (void *)(loc + sizeof(vb_vhdx_raw_locator_header) + (size_t)i * sizeof(*e));
    size_t units;
    if (vb_utf8_to_utf16(key, false, loc + *end, cap - *end, &units) != VB_OK || units == 0)
        return VB_ERR_INVALID_ARG;
    vb_put_le32(e->key_offset, (uint32_t)*end);
    vb_put_le16(e->key_length, (uint16_t)(units * 2));
    *end += units * 2;
    if (vb_utf8_to_utf16(value, false, loc + *end, cap - *end, &units) != VB_OK || units == 0 || units > 0x7FFF)
        return VB_ERR_INVALID_ARG;
    vb_put_le32(e->value_offset, (uint32_t)*end);
    vb_put_le16(e->value_length, (uint16_t)(units * 2));
    *end += units * 2;
    return VB_OK;
}

vb_status vb_vhdx_set_parent_paths(vb_source *file, const char *name, const char *relative, const char *absolute,
                                   const uint8_t new_file_write_guid[16], vb_diag *diag)
{
    vb_layer *layer = NULL;
    vb_status st = vb_layer_open(file, name, 0, &layer, diag);
    if (st != VB_OK)
        return st;
    struct vb_vhdx *x = layer->vhdx;
    vb_status result = VB_OK;
    uint8_t *table = NULL, *loc = NULL;
    vb_vhdx_info *i = NULL;
    if (!x || !x->info.has_parent) {
        result = vb_fail(diag, VB_ERR_NOT_DIFFERENCING, "%s: not a differencing VHDX", name);
        goto done;
    }
    if (x->info.log_dirty) {
        result = vb_fail(diag, VB_ERR_VHDX_LOG, "%s: the log is not empty; replay it first (vhdtool check --repair)", name);
        goto done;
    }
    table = vb_alloc(VB_VHDX_META_TABLE_SIZE);
    size_t cap = 4u * VB_PATH_MAX * 2 + 256;
    loc = vb_alloc(cap);
    i = vb_alloc(sizeof(*i));
    if (!table || !loc || !i) {
        result = vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory", name);
        goto done;
    }
    *i = x->info; /* the layer is closed before the file is written */
    if ((st = vb_source_read(file, i->meta_offset, table, VB_VHDX_META_TABLE_SIZE)) != VB_OK) {
        result = vb_fail(diag, st, "%s: cannot read the metadata table", name);
        goto done;
    }
    /* where the items end, and which entry is the locator */
    uint32_t count = vb_le16(((const vb_vhdx_raw_meta_header *)table)->entry_count);
    uint64_t used = VB_VHDX_META_TABLE_SIZE;
    int locator = -1;
    for (uint32_t n = 0; n < count; n++) {
        const vb_vhdx_raw_meta_entry *e = (const void *)(table + 32 + (size_t)n * 32);
        uint64_t end = (uint64_t)vb_le32(e->offset) + vb_le32(e->length);
        if (end > used)
            used = end;
        if (vb_memcmp(e->item_id, vb_vhdx_guid_parent_locator, 16) == 0)
            locator = (int)n;
    }
    if (locator < 0) {
        result = vb_fail(diag, VB_ERR_VHDX_META_MISSING, "%s: no parent locator item", name);
        goto done;
    }
    /* the new item: linkage keys kept, paths replaced */
    vb_memset(loc, 0, cap);
    vb_vhdx_raw_locator_header *h = (void *)loc;
    vb_memcpy(h->locator_type, vb_vhdx_guid_locator_type, 16);
    char g[37], text[40];
    unsigned pairs = 0;
    size_t end = sizeof(*h) + 4 * sizeof(vb_vhdx_raw_locator_entry);
    vb_guid_format(i->parent.linkage, g);
    vb_format(text, sizeof(text), "{%s}", g);
    st = put_pair(loc, cap, pairs++, &end, "parent_linkage", text);
    if (st == VB_OK && i->parent.has_linkage2) {
        vb_guid_format(i->parent.linkage2, g);
        vb_format(text, sizeof(text), "{%s}", g);
        st = put_pair(loc, cap, pairs++, &end, "parent_linkage2", text);
    }
    if (st == VB_OK && relative && relative[0])
        st = put_pair(loc, cap, pairs++, &end, "relative_path", relative);
    if (st == VB_OK && absolute && absolute[0])
        st = put_pair(loc, cap, pairs++, &end, "absolute_win32_path", absolute);
    if (st != VB_OK) {
        result = vb_fail(diag, st, "%s: the new parent paths cannot be encoded", name);
        goto done;
    }
    vb_put_le16(h->key_value_count, (uint16_t)pairs);
    uint64_t at = (used + 4095) / 4096 * 4096;
    if (at + end > i->meta_length) {
        result = vb_fail(diag, VB_ERR_NO_SPACE, "%s: no room left in the metadata region for a new parent locator",
                         name);
        goto done;
    }
    /* 1. new FileWriteGuid; 2. the item; 3. the table entry */
    vb_layer_close(layer);
    layer = NULL;
    struct vb_vhdx *hx = vb_alloc(sizeof(*hx));
    if (!hx) {
        result = vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory", name);
        goto done;
    }
    st = vb_vhdx_read_headers(hx, file, name, diag);
    if (st == VB_OK)
        st = vb_vhdx_write_headers(hx, file, new_file_write_guid, NULL, false);
    vb_free(hx);
    if (st == VB_OK)
        st = vb_source_write(file, i->meta_offset + at, loc, end);
    if (st == VB_OK)
        st = vb_source_flush(file);
    if (st == VB_OK) {
        uint8_t entry[32];
        vb_memcpy(entry, table + 32 + (size_t)locator * 32, 32);
        vb_put_le32(entry + 16, (uint32_t)at);
        vb_put_le32(entry + 20, (uint32_t)end);
        st = vb_source_write(file, i->meta_offset + 32 + (uint64_t)locator * 32, entry, 32);
    }
    if (st == VB_OK)
        st = vb_source_flush(file);
    if (st != VB_OK)
        result = vb_fail(diag, st, "%s: writing the new parent locator failed: %s", name, vb_status_message(st));
done:
    if (layer)
        vb_layer_close(layer);
    vb_free(table);
    vb_free(loc);
    vb_free(i);
    return result;
}
