/* vhdboot: VHDX metadata region (MS-VHDX 2.6): the table, the known items,
 * the parent locator, and the block geometry derived from them. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "utf.h"
#include "vhdx_internal.h"

/* A known item: where it is and how long it must be (0 = variable). */
struct item {
    const uint8_t *guid;
    uint32_t want_len;
    bool required;
    bool found;
    uint32_t offset, length;
};

enum { IT_PARAMS, IT_SIZE, IT_PAGE83, IT_LOGICAL, IT_PHYSICAL, IT_LOCATOR, IT_COUNT };

static const char *const item_names[IT_COUNT] = {
    "File Parameters", "Virtual Disk Size", "Page 83 Data", "Logical Sector Size", "Physical Sector Size",
    "Parent Locator",
};

/* Reads len bytes of an item at offset inside the metadata region. */
static vb_status read_item(struct vb_vhdx *x, const struct item *it, void *buf, uint32_t len)
{
    return vb_source_read(x->io, x->info.meta_offset + it->offset, buf, len);
}

/* Decodes one UTF-16LE key or value of the locator into out. Returns the status. */
static vb_status locator_string(const uint8_t *item, uint32_t item_len, uint32_t off, uint16_t len, char *out,
                                size_t cap)
{
    if (len == 0 || len % 2 || off > item_len || len > item_len - off)
        return VB_ERR_BAD_LOCATOR;
    return vb_utf16_to_utf8(item + off, len / 2, false, out, cap);
}

/* Volume-absolute form of a locator path for the parent search: a
 * "\\?\Volume{...}" prefix names the volume, so it is dropped. */
static void strip_volume_guid(const char *in, char *out, size_t cap)
{
    const char *p = in;
    if (p[0] == '\\' && p[1] == '\\' && (p[2] == '?' || p[2] == '.') && p[3] == '\\' &&
        (p[4] == 'V' || p[4] == 'v') && (p[5] == 'o' || p[5] == 'O')) {
        const char *close = p;
        while (*close && *close != '}')
            close++;
        if (*close == '}')
            p = close + 1;
    }
    vb_strlcpy(out, p, cap);
}

/* Parses the parent locator item (MS-VHDX 2.6.2.6). Returns VB_OK or
 * VB_ERR_BAD_LOCATOR with why filled. */
static vb_status parse_locator(struct vb_vhdx *x, const uint8_t *item, uint32_t len, char *why, int cap)
{
    vb_vhdx_parent *p = &x->info.parent;
    const vb_vhdx_raw_locator_header *h = (const void *)item;
    if (len < sizeof(*h)) {
        vb_format(why, cap, "parent locator of %u bytes is too short", len);
        return VB_ERR_BAD_LOCATOR;
    }
    if (vb_memcmp(h->locator_type, vb_vhdx_guid_locator_type, 16) != 0) {
        vb_format(why, cap, "parent locator type is not the VHDX type");
        return VB_ERR_BAD_LOCATOR;
    }
    uint32_t count = vb_le16(h->key_value_count);
    if ((uint64_t)count * sizeof(vb_vhdx_raw_locator_entry) > len - sizeof(*h)) {
        vb_format(why, cap, "parent locator has %u entries, more than its %u bytes hold", count, len);
        return VB_ERR_BAD_LOCATOR;
    }
    char key[64];
    char *value = vb_alloc(VB_PATH_MAX);
    if (!value)
        return VB_ERR_NO_MEMORY;
    vb_status st = VB_OK;
    for (uint32_t i = 0; i < count && st == VB_OK; i++) {
        const vb_vhdx_raw_locator_entry *e = (const void *)(item + sizeof(*h) + (size_t)i * sizeof(*e));
        uint32_t koff = vb_le32(e->key_offset), voff = vb_le32(e->value_offset);
        uint16_t klen = vb_le16(e->key_length), vlen = vb_le16(e->value_length);
        if (locator_string(item, len, koff, klen, key, sizeof(key)) != VB_OK) {
            /* a key this long is none of the known ones; it must still be in range */
            if (klen == 0 || klen % 2 || koff > len || klen > len - koff) {
                vb_format(why, cap, "parent locator entry %u: key outside the item", i);
                st = VB_ERR_BAD_LOCATOR;
            }
            continue;
        }
        if (locator_string(item, len, voff, vlen, value, VB_PATH_MAX) != VB_OK) {
            vb_format(why, cap, "parent locator entry %u (%s): value outside the item or undecodable", i, key);
            st = VB_ERR_BAD_LOCATOR;
            continue;
        }
        if (vb_ascii_caseeq(key, "parent_linkage")) {
            if (!vb_guid_parse(value, p->linkage)) {
                vb_format(why, cap, "parent_linkage '%s' is not a GUID", value);
                st = VB_ERR_BAD_LOCATOR;
            }
            p->has_linkage = true;
        } else if (vb_ascii_caseeq(key, "parent_linkage2")) {
            if (!vb_guid_parse(value, p->linkage2)) {
                vb_format(why, cap, "parent_linkage2 '%s' is not a GUID", value);
                st = VB_ERR_BAD_LOCATOR;
            }
            p->has_linkage2 = true;
        } else if (vb_ascii_caseeq(key, "relative_path")) {
            vb_strlcpy(p->relative_path, value, sizeof(p->relative_path));
        } else if (vb_ascii_caseeq(key, "volume_path")) {
            vb_strlcpy(p->volume_path, value, sizeof(p->volume_path));
        } else if (vb_ascii_caseeq(key, "absolute_win32_path")) {
            vb_strlcpy(p->absolute_win32_path, value, sizeof(p->absolute_win32_path));
        }
    }
    vb_free(value);
    if (st == VB_OK && !p->has_linkage) {
        vb_format(why, cap, "parent locator has no parent_linkage");
        st = VB_ERR_BAD_LOCATOR;
    }
    return st;
}

/* Copies the locator paths into the layer's generic locator list (in the
 * spec's order) and the header-name slot, so the chain code can search them. */
void vb_vhdx_fill_locators(vb_layer *layer)
{
    const vb_vhdx_parent *p = &layer->vhdx->info.parent;
    const char *paths[3] = { p->relative_path, p->volume_path, p->absolute_win32_path };
    static const char *const codes[3] = { "rel ", "vol ", "abs " };
    layer->locator_count = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (!paths[i][0])
            continue;
        vb_locator *l = &layer->locators[layer->locator_count++];
        vb_memset(l, 0, sizeof(*l));
        vb_memcpy(l->code, codes[i], 5);
        l->data_length = (uint32_t)vb_strlen(paths[i]);
        if (i == 1)
            strip_volume_guid(paths[i], l->path, sizeof(l->path));
        else
            vb_strlcpy(l->path, paths[i], sizeof(l->path));
    }
    vb_strlcpy(layer->info.parent_name, p->absolute_win32_path[0] ? p->absolute_win32_path : p->relative_path,
               sizeof(layer->info.parent_name));
}

/* Derives the block geometry and checks the BAT region can hold it. */
static vb_status derive_geometry(struct vb_vhdx *x, const char *name, vb_diag *diag)
{
    vb_vhdx_info *i = &x->info;
    x->sectors_per_block = i->block_size / i->logical_sector_size;
    x->bitmap_bytes = x->sectors_per_block / 8;
    i->chunk_ratio = (uint32_t)(((uint64_t)1 << 23) * i->logical_sector_size / i->block_size);
    /* block size and sector size were checked to be powers of two, so is the ratio */
    for (x->block_shift = 0; ((uint64_t)1 << x->block_shift) < i->block_size; x->block_shift++)
        ;
    for (x->chunk_shift = 0; ((uint64_t)1 << x->chunk_shift) < i->chunk_ratio; x->chunk_shift++)
        ;
    i->data_blocks = (i->virtual_size + i->block_size - 1) / i->block_size;
    i->bitmap_blocks = (i->data_blocks + i->chunk_ratio - 1) / i->chunk_ratio;
    if (i->has_parent)
        i->bat_entries = i->bitmap_blocks * ((uint64_t)i->chunk_ratio + 1);
    else
        i->bat_entries = i->data_blocks + (i->data_blocks - 1) / i->chunk_ratio;
    if (i->bat_entries > (uint64_t)i->bat_length / 8)
        return vb_fail(diag, VB_ERR_VHDX_BAT_SIZE,
                       "%s: %llu blocks of %u bytes (chunk ratio %u) need %llu BAT entries, the BAT region holds %u",
                       name, (unsigned long long)i->data_blocks, i->block_size, i->chunk_ratio,
                       (unsigned long long)i->bat_entries, i->bat_length / 8);
    if (i->bat_entries > VB_VHDX_MAX_BAT_ENTRIES)
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "%s: %llu BAT entries, more than the %u this reader loads", name,
                       (unsigned long long)i->bat_entries, VB_VHDX_MAX_BAT_ENTRIES);
    return VB_OK;
}

/* Finds the known items in the table; refuses unknown required ones,
 * duplicates and items outside the region. */
static vb_status scan_table(struct vb_vhdx *x, const uint8_t *t, struct item *items, const char *name, vb_diag *diag)
{
    const vb_vhdx_raw_meta_header *h = (const void *)t;
    if (vb_memcmp(h->signature, "metadata", 8) != 0)
        return vb_fail(diag, VB_ERR_VHDX_METADATA, "%s: no 'metadata' signature at the metadata region (%llu)", name,
                       (unsigned long long)x->info.meta_offset);
    uint32_t count = vb_le16(h->entry_count);
    if (count > VB_VHDX_META_MAX_ENTRIES)
        return vb_fail(diag, VB_ERR_VHDX_METADATA, "%s: metadata table has %u entries (at most %u)", name, count,
                       VB_VHDX_META_MAX_ENTRIES);
    for (uint32_t n = 0; n < count; n++) {
        const vb_vhdx_raw_meta_entry *e = (const void *)(t + sizeof(*h) + (size_t)n * sizeof(*e));
        uint32_t off = vb_le32(e->offset), len = vb_le32(e->length), flags = vb_le32(e->flags);
        char g[37];
        vb_guid_format(e->item_id, g);
        if (len && (off < VB_VHDX_META_TABLE_SIZE || len > VB_VHDX_META_ITEM_MAX || off > x->info.meta_length ||
                    len > x->info.meta_length - off))
            return vb_fail(diag, VB_ERR_VHDX_METADATA,
                           "%s: metadata item %s at %u (%u bytes) is not inside the %u-byte metadata region", name, g,
                           off, len, x->info.meta_length);
        struct item *it = NULL;
        for (unsigned k = 0; k < IT_COUNT; k++)
            if (!(flags & VB_VHDX_META_IS_USER) && vb_memcmp(e->item_id, items[k].guid, 16) == 0)
                it = &items[k];
        if (!it) {
            if (flags & VB_VHDX_META_IS_REQUIRED)
                return vb_fail(diag, VB_ERR_VHDX_META_UNKNOWN, "%s: unknown required metadata item %s", name, g);
            continue;
        }
        const char *what = item_names[it - items];
        if (it->found)
            return vb_fail(diag, VB_ERR_VHDX_METADATA, "%s: metadata item %s appears twice", name, what);
        if ((it->want_len && len != it->want_len) || (!it->want_len && len == 0))
            return vb_fail(diag, VB_ERR_VHDX_METADATA, "%s: metadata item %s is %u bytes (expected %u)", name, what,
                           len, it->want_len);
        it->found = true;
        it->offset = off;
        it->length = len;
    }
    return VB_OK;
}

vb_status vb_vhdx_read_metadata(struct vb_vhdx *x, const char *name, vb_diag *diag)
{
    vb_vhdx_info *info = &x->info;
    struct item items[IT_COUNT] = {
        [IT_PARAMS] = { vb_vhdx_guid_file_params, 8, true, false, 0, 0 },
        [IT_SIZE] = { vb_vhdx_guid_disk_size, 8, true, false, 0, 0 },
        [IT_PAGE83] = { vb_vhdx_guid_page83, 16, true, false, 0, 0 },
        [IT_LOGICAL] = { vb_vhdx_guid_logical_sector, 4, true, false, 0, 0 },
        [IT_PHYSICAL] = { vb_vhdx_guid_physical_sector, 4, true, false, 0, 0 },
        [IT_LOCATOR] = { vb_vhdx_guid_parent_locator, 0, false, false, 0, 0 },
    };
    uint8_t *t = vb_alloc(VB_VHDX_META_TABLE_SIZE);
    if (!t)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the metadata table", name);
    vb_status st = vb_source_read(x->io, info->meta_offset, t, VB_VHDX_META_TABLE_SIZE);
    if (st != VB_OK) {
        vb_free(t);
        return vb_fail(diag, st, "%s: cannot read the metadata table", name);
    }
    st = scan_table(x, t, items, name, diag);
    vb_free(t);
    if (st != VB_OK)
        return st;
    for (unsigned k = 0; k < IT_LOCATOR; k++)
        if (!items[k].found)
            return vb_fail(diag, VB_ERR_VHDX_META_MISSING, "%s: required metadata item %s is missing", name,
                           item_names[k]);

    uint8_t v[16];
    if ((st = read_item(x, &items[IT_PARAMS], v, 8)) != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the file parameters", name);
    info->block_size = vb_le32(v);
    uint32_t flags = vb_le32(v + 4);
    info->leave_block_allocated = (flags & VB_VHDX_PARAM_LEAVE_ALLOCATED) != 0;
    info->has_parent = (flags & VB_VHDX_PARAM_HAS_PARENT) != 0;
    if (info->block_size < VB_VHDX_MIN_BLOCK || info->block_size > VB_VHDX_MAX_BLOCK ||
        (info->block_size & (info->block_size - 1)))
        return vb_fail(diag, VB_ERR_BAD_BLOCK_SIZE, "%s: block size %u is not a power of two from 1 MiB to 256 MiB",
                       name, info->block_size);
    if ((st = read_item(x, &items[IT_LOGICAL], v, 4)) != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the logical sector size", name);
    info->logical_sector_size = vb_le32(v);
    if ((st = read_item(x, &items[IT_PHYSICAL], v, 4)) != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the physical sector size", name);
    info->physical_sector_size = vb_le32(v);
    if ((info->logical_sector_size != 512 && info->logical_sector_size != 4096) ||
        (info->physical_sector_size != 512 && info->physical_sector_size != 4096))
        return vb_fail(diag, VB_ERR_VHDX_SECTOR_SIZE, "%s: logical/physical sector size %u/%u (512 or 4096 allowed)",
                       name, info->logical_sector_size, info->physical_sector_size);
    if ((st = read_item(x, &items[IT_SIZE], v, 8)) != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the virtual disk size", name);
    info->virtual_size = vb_le64(v);
    if (info->virtual_size == 0 || info->virtual_size % info->logical_sector_size ||
        info->virtual_size > VB_VHDX_MAX_DISK_SIZE)
        return vb_fail(diag, VB_ERR_BAD_DISK_SIZE,
                       "%s: virtual disk size %llu is zero, not a multiple of the %u-byte sector or above 64 TiB", name,
                       (unsigned long long)info->virtual_size, info->logical_sector_size);
    if ((st = read_item(x, &items[IT_PAGE83], info->page83, 16)) != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the page 83 data", name);

    if (info->has_parent) {
        if (!items[IT_LOCATOR].found)
            return vb_fail(diag, VB_ERR_VHDX_META_MISSING, "%s: differencing VHDX without a parent locator", name);
        uint32_t len = items[IT_LOCATOR].length;
        uint8_t *loc = vb_alloc(len);
        char why[VB_DIAG_TEXT_MAX - 64];
        if (!loc)
            return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the parent locator", name);
        st = read_item(x, &items[IT_LOCATOR], loc, len);
        if (st != VB_OK) {
            vb_free(loc);
            return vb_fail(diag, st, "%s: cannot read the parent locator", name);
        }
        st = parse_locator(x, loc, len, why, sizeof(why));
        vb_free(loc);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: %s", name, st == VB_ERR_NO_MEMORY ? "out of memory" : why);
    }
    return derive_geometry(x, name, diag);
}
