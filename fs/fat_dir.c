/* vhdboot: FAT directories — walking entries, long names, 8.3 names, label. */
#include "fat.h"
#include "fat_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

/* Long-name slots collected before a short entry. */
struct lfn_state {
    uint16_t units[FAT_LFN_MAX_SLOTS * FAT_LFN_UNITS];
    unsigned expect;   /* order number of the next slot, 0 = no name in progress */
    unsigned slots;
    uint8_t checksum;
};

/* Checksum of an 8.3 name, as stored in its long-name slots. */
static uint8_t short_checksum(const char name[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + (uint8_t)name[i]);
    return sum;
}

/* Adds one long-name slot to the state (restarting or discarding on any
 * inconsistency: such names are simply not used). */
static void take_lfn_slot(struct lfn_state *s, const fat_lfn *l)
{
    unsigned order = l->order & 0x1F;
    if (l->order & FAT_LFN_LAST) {
        if (order == 0 || order > FAT_LFN_MAX_SLOTS) {
            s->expect = 0;
            return;
        }
        s->slots = order;
        s->checksum = l->checksum;
        for (size_t i = 0; i < order * FAT_LFN_UNITS; i++)
            s->units[i] = 0xFFFF;
    } else if (s->expect == 0 || order != s->expect - 1 || l->checksum != s->checksum) {
        s->expect = 0;
        return;
    }
    uint16_t *dst = s->units + (order - 1) * FAT_LFN_UNITS;
    for (int i = 0; i < 5; i++)
        dst[i] = vb_le16(l->name1 + 2 * i);
    for (int i = 0; i < 6; i++)
        dst[5 + i] = vb_le16(l->name2 + 2 * i);
    for (int i = 0; i < 2; i++)
        dst[11 + i] = vb_le16(l->name3 + 2 * i);
    s->expect = order;
}

/* Processes the entries of one buffer; *end is set at the end-of-directory
 * marker, *stop when the visitor is done. */
static void process_entries(const uint8_t *buf, size_t len, struct lfn_state *s, fat_dir_visit visit, void *ctx, bool *end, bool *stop)
{
    for (size_t pos = 0; pos + FAT_DIRENT_SIZE <= len; pos += FAT_DIRENT_SIZE) {
        const fat_dirent *e = (const fat_dirent *)(buf + pos);
        uint8_t first = (uint8_t)e->name[0];
        if (first == FAT_DIRENT_END) {
            *end = true;
            return;
        }
        if (first == FAT_DIRENT_DELETED) {
            s->expect = 0;
            continue;
        }
        if ((e->attr & 0x3F) == FAT_ATTR_LONG_NAME) {
            take_lfn_slot(s, (const fat_lfn *)e);
            continue;
        }
        size_t lfn_len = 0;
        if (s->expect == 1 && s->checksum == short_checksum(e->name)) {
            while (lfn_len < s->slots * FAT_LFN_UNITS && s->units[lfn_len] != 0 && s->units[lfn_len] != 0xFFFF)
                lfn_len++;
        }
        s->expect = 0;
        if (visit(ctx, e, s->units, lfn_len)) {
            *stop = true;
            return;
        }
    }
}

vb_status fat_walk_dir(fat_volume *vol, uint32_t dir, fat_dir_visit visit, void *ctx, vb_diag *diag)
{
    uint8_t *buf = vb_alloc(vol->cluster_size);
    if (!buf)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for a directory cluster");
    struct lfn_state *s = vb_alloc(sizeof(*s));
    if (!s) {
        vb_free(buf);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for a long name");
    }
    bool end = false, stop = false;
    vb_status st = VB_OK;
    if (dir == 0 && vol->bits != 32) {
        uint64_t left = (uint64_t)vol->root_entries * FAT_DIRENT_SIZE, off = vol->root_offset;
        while (st == VB_OK && left && !end && !stop) {
            size_t n = left < vol->cluster_size ? (size_t)left : vol->cluster_size;
            st = vb_source_read(vol->dev, off, buf, n);
            if (st != VB_OK)
                st = vb_fail(diag, st, "cannot read the root directory: %s", vb_status_message(st));
            else
                process_entries(buf, n, s, visit, ctx, &end, &stop);
            off += n;
            left -= n;
        }
    } else {
        uint32_t cluster = dir ? dir : vol->root_cluster;
        uint32_t max_steps = FAT_MAX_DIR_BYTES / vol->cluster_size + 1;
        for (uint32_t step = 0; st == VB_OK && !end && !stop; step++) {
            if (!fat_is_data_cluster(vol, cluster) || step >= max_steps) {
                st = vb_fail(diag, VB_ERR_FS_CORRUPT, "directory at cluster %u: chain is broken or loops (cluster %u, step %u)",
                             dir, cluster, step);
                break;
            }
            st = vb_source_read(vol->dev, fat_cluster_offset(vol, cluster), buf, vol->cluster_size);
            if (st != VB_OK) {
                st = vb_fail(diag, st, "cannot read directory cluster %u: %s", cluster, vb_status_message(st));
                break;
            }
            process_entries(buf, vol->cluster_size, s, visit, ctx, &end, &stop);
            if (end || stop)
                break;
            uint32_t next;
            st = fat_next_cluster(vol, cluster, &next, diag);
            if (st == VB_OK && fat_is_end(vol, next))
                break;
            cluster = next;
        }
    }
    vb_free(s);
    vb_free(buf);
    return st;
}

/* Builds the 11-byte 8.3 form of name; false when it has no such form
 * (non-ASCII, too long, several dots, forbidden characters). */
static bool to_short_name(const vb_fs_name *name, char out[11])
{
    size_t dot = name->len;
    for (size_t i = 0; i < name->len; i++)
        if (name->units[i] == '.')
            dot = i;
    if (dot == 0 || dot > 8 || (dot < name->len && name->len - dot - 1 > 3) || (dot == name->len && name->len > 8))
        return false;
    vb_memset(out, ' ', 11);
    for (size_t i = 0; i < name->len; i++) {
        if (i == dot)
            continue;
        uint16_t c = name->units[i];
        if (c <= 0x20 || c >= 0x7F || c == '.' || c == '"' || c == '*' || c == '+' || c == ',' || c == '/' || c == ':' ||
            c == ';' || c == '<' || c == '=' || c == '>' || c == '?' || c == '[' || c == '\\' || c == ']' || c == '|')
            return false;
        out[i < dot ? i : 8 + (i - dot - 1)] = (char)vb_fs_simple_upcase(c);
    }
    return true;
}

struct find_ctx {
    const vb_fs_name *name;
    bool has_short;
    char short_name[11];
    fat_entry *out;
    bool found;
};

/* Visitor: matches an entry by long name (case-insensitive) or 8.3 name. */
static bool match_entry(void *ctx, const fat_dirent *e, const uint16_t *lfn, size_t lfn_len)
{
    struct find_ctx *f = ctx;
    if (e->attr & FAT_ATTR_VOLUME_ID)
        return false;
    bool hit = false;
    if (lfn_len == f->name->len) {
        hit = true;
        for (size_t i = 0; i < lfn_len && hit; i++)
            hit = vb_fs_simple_upcase(lfn[i]) == vb_fs_simple_upcase(f->name->units[i]);
    }
    if (!hit && f->has_short) {
        char stored[11];
        vb_memcpy(stored, e->name, 11);
        if ((uint8_t)stored[0] == 0x05)
            stored[0] = (char)0xE5;
        hit = vb_memcmp(stored, f->short_name, 11) == 0;
    }
    if (!hit)
        return false;
    f->out->attr = e->attr;
    f->out->first_cluster = (uint32_t)vb_le16(e->cluster_high) << 16 | vb_le16(e->cluster_low);
    f->out->size = vb_le32(e->size);
    f->found = true;
    return true;
}

vb_status fat_dir_find(fat_volume *vol, uint32_t dir, const vb_fs_name *name, fat_entry *out, vb_diag *diag)
{
    struct find_ctx f = { .name = name, .out = out };
    f.has_short = to_short_name(name, f.short_name);
    vb_status st = fat_walk_dir(vol, dir, match_entry, &f, diag);
    if (st != VB_OK)
        return st;
    if (f.found) /* the high half is reserved on FAT12/16 */
        out->first_cluster &= vol->bits == 32 ? 0x0FFFFFFFu : 0xFFFFu;
    return f.found ? VB_OK : VB_ERR_NOT_FOUND;
}

struct label_ctx {
    fat_volume *vol;
};

/* Visitor: takes the first volume-label entry of the root directory. */
static bool take_label(void *ctx, const fat_dirent *e, const uint16_t *lfn, size_t lfn_len)
{
    (void)lfn;
    (void)lfn_len;
    struct label_ctx *l = ctx;
    if ((e->attr & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIRECTORY)) != FAT_ATTR_VOLUME_ID)
        return false;
    fat_set_label(l->vol, e->name);
    return true;
}

vb_status fat_read_label(fat_volume *vol, vb_diag *diag)
{
    struct label_ctx l = { vol };
    return fat_walk_dir(vol, 0, take_label, &l, diag);
}
