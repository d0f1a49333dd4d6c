/* vhdboot: FAT directory listing — every live entry of a directory with its
 * long name (or its 8.3 name when it has none), through fat_walk_dir. */
#include "fat.h"
#include "fat_struct.h"
#include "format/bytes.h"
#include "format/platform.h"

#define NT_CASE_LOWER_BASE 0x08u /* Windows NT: 8.3 base stored upper, shown lower */
#define NT_CASE_LOWER_EXT 0x10u

/* The state of one listing. */
struct list_ctx {
    vb_fs_list_fn fn;
    void *ctx;
    unsigned reported;
    bool too_many;
    char name[VB_FS_NAME_MAX * 3 + 1];
};

/* Appends n characters of an 8.3 field (trailing spaces dropped) to out at
 * *len, lower-cased when lower; non-ASCII bytes become '?'. */
static void add_short_part(char *out, size_t *len, const char *field, size_t n, bool lower)
{
    while (n && field[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)field[i];
        if (c >= 0x80)
            c = '?';
        else if (lower)
            c = (uint8_t)vb_ascii_lower((char)c);
        out[(*len)++] = (char)c;
    }
}

/* Writes the 8.3 name of e as "BASE.EXT" (no dot without an extension). */
static void short_name(const fat_dirent *e, char out[13])
{
    char raw[11];
    vb_memcpy(raw, e->name, 11);
    if ((uint8_t)raw[0] == 0x05)
        raw[0] = (char)0xE5; /* a name really starting with 0xE5 */
    size_t len = 0;
    add_short_part(out, &len, raw, 8, e->nt_case & NT_CASE_LOWER_BASE);
    size_t dot = len;
    out[len++] = '.';
    add_short_part(out, &len, raw + 8, 3, e->nt_case & NT_CASE_LOWER_EXT);
    if (len == dot + 1)
        len = dot;
    out[len] = '\0';
}

/* Visitor: reports one entry unless it is the label, "." or "..". */
static bool list_entry(void *ctx, const struct fat_dirent *e, const uint16_t *lfn, size_t lfn_len)
{
    struct list_ctx *l = ctx;
    if (e->attr & FAT_ATTR_VOLUME_ID)
        return false;
    if (e->name[0] == '.' && (e->name[1] == ' ' || (e->name[1] == '.' && e->name[2] == ' ')))
        return false;
    if (++l->reported > VB_FS_LIST_MAX_ENTRIES) {
        l->too_many = true;
        return true;
    }
    if (lfn_len) {
        uint8_t le[VB_FS_NAME_MAX * 2];
        size_t n = lfn_len < VB_FS_NAME_MAX ? lfn_len : VB_FS_NAME_MAX;
        for (size_t i = 0; i < n; i++)
            vb_put_le16(le + 2 * i, lfn[i]);
        vb_fs_name_to_utf8(le, n, l->name, sizeof(l->name));
    } else {
        short_name(e, l->name);
    }
    bool is_dir = e->attr & FAT_ATTR_DIRECTORY;
    vb_fs_dirent d = { .name = l->name, .is_dir = is_dir, .size = is_dir ? 0 : vb_le32(e->size) };
    return l->fn(l->ctx, &d);
}

vb_status fat_list_dir(fat_volume *vol, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag)
{
    fat_entry dir;
    vb_status st = fat_resolve(vol, path, &dir, diag);
    if (st != VB_OK)
        return st;
    if (!(dir.attr & FAT_ATTR_DIRECTORY))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: is a file, not a directory", path);
    struct list_ctx *l = vb_alloc(sizeof(*l));
    if (!l)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to list the directory", path);
    vb_memset(l, 0, sizeof(*l));
    l->fn = fn;
    l->ctx = ctx;
    st = fat_walk_dir(vol, dir.first_cluster, list_entry, l, diag);
    if (st == VB_OK && l->too_many)
        st = vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: more than %u directory entries", path, VB_FS_LIST_MAX_ENTRIES);
    else if (st != VB_OK && diag && st == diag->status) {
        char inner[VB_DIAG_TEXT_MAX];
        vb_strlcpy(inner, diag->text, sizeof(inner));
        vb_fail(diag, st, "%s: %s", path, inner);
    }
    vb_free(l);
    return st;
}
