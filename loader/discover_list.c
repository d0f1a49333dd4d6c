/* vhdboot: discovered VHDs as menu entries (see discover_list.h). */
#include "discover_list.h"
#include "format/bytes.h"
#include "format/diag.h"
#include "format/platform.h"
#include "format/vhd.h"

/* Whether name ends in ext (lowercase, with its dot) in any case, with something before it. */
static bool ends_with_ext(const char *name, const char *ext)
{
    size_t n = vb_strlen(name), e = vb_strlen(ext);
    if (n <= e)
        return false;
    for (size_t i = 0; i < e; i++)
        if (vb_ascii_lower(name[n - e + i]) != ext[i])
            return false;
    return true;
}

bool vb_discover_is_vhd_name(const char *name)
{
    return ends_with_ext(name, ".vhd") || ends_with_ext(name, ".vhdx") || ends_with_ext(name, ".avhdx");
}

void vb_discover_mark_bases(const vb_found_vhd *found, unsigned count, bool *base)
{
    for (unsigned i = 0; i < count; i++) {
        base[i] = false;
        if (!found[i].opened)
            continue;
        for (unsigned j = 0; j < count && !base[i]; j++)
            base[i] = j != i && found[j].opened && found[j].type == VB_DISK_DIFF &&
                      vb_memcmp(found[j].parent_uuid, found[i].uuid, 16) == 0;
    }
}

bool vb_discover_entry_id(const vb_found_vhd *f, char *out, size_t cap)
{
    int n = 0;
    if (f->volume_kind != VB_VOLUME_SELF)
        n = vb_format(out, (int)cap, "%s:", f->volume);
    const char *p = f->path;
    while (*p == '\\')
        p++;
    if ((size_t)n + vb_strlen(p) + 1 > cap)
        return false;
    vb_strlcpy(out + n, p, cap - (size_t)n);
    for (char *c = out + n; *c; c++)
        if (*c == '\\')
            *c = '/';
    return true;
}

/* Writes a size as "512 MiB" or "40 GiB" into out. */
static void format_size(uint64_t bytes, char *out, size_t cap)
{
    if (bytes >= (10ULL << 30))
        vb_format(out, (int)cap, "%llu GiB", (unsigned long long)(bytes >> 30));
    else
        vb_format(out, (int)cap, "%llu MiB", (unsigned long long)(bytes >> 20));
}

void vb_discover_detail(const vb_found_vhd *f, bool base, char *out, size_t cap)
{
    char size[32];
    if (!f->opened) {
        vb_format(out, (int)cap, "cannot open: %s", f->problem);
        return;
    }
    format_size(f->size, size, sizeof size);
    const char *type = f->type == VB_DISK_FIXED ? "fixed" : f->type == VB_DISK_DYNAMIC ? "dynamic" : "differencing";
    if (f->depth == 0)
        vb_format(out, (int)cap, "%s%s %s, chain broken: %s", base ? "base, " : "", size, type, f->problem);
    else
        vb_format(out, (int)cap, "%s%s %s, %u layer%s", base ? "base, " : "", size, type, f->depth,
                  f->depth == 1 ? "" : "s");
}

/* Whether found VHD a sorts before b (volume, then path). */
static bool sorts_before(const vb_found_vhd *a, const vb_found_vhd *b)
{
    if (a->volume_kind != b->volume_kind)
        return a->volume_kind == VB_VOLUME_SELF;
    int c = vb_ascii_casecmp(a->volume, b->volume);
    return c != 0 ? c < 0 : vb_ascii_casecmp(a->path, b->path) < 0;
}

unsigned vb_discover_add(vb_config *cfg, const vb_found_vhd *found, unsigned count)
{
    bool *base = vb_alloc(count ? count * sizeof *base : 1);
    unsigned *order = vb_alloc(count ? count * sizeof *order : 1);
    unsigned added = 0;
    if (!base || !order)
        goto out;
    vb_discover_mark_bases(found, count, base);
    for (unsigned i = 0; i < count; i++) { /* insertion sort: tens of files at most */
        unsigned j = i;
        while (j > 0 && sorts_before(&found[i], &found[order[j - 1]])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (unsigned k = 0; k < count && cfg->count < VB_CONFIG_MAX_ENTRIES; k++) {
        const vb_found_vhd *f = &found[order[k]];
        vb_boot_entry *e = &cfg->entries[cfg->count];
        vb_memset(e, 0, sizeof *e);
        if (!vb_discover_entry_id(f, e->id, sizeof e->id) || vb_config_find(cfg, e->id) >= 0)
            continue;
        if (f->volume_kind == VB_VOLUME_SELF)
            vb_strlcpy(e->title, f->path, sizeof e->title);
        else
            vb_format(e->title, (int)sizeof e->title, "%s:%s", f->volume, f->path);
        e->volume_kind = f->volume_kind;
        vb_strlcpy(e->volume, f->volume, sizeof e->volume);
        vb_strlcpy(e->vhd, f->path, sizeof e->vhd);
        e->base = base[order[k]];
        e->write = e->base ? VB_WRITE_VOLATILE : VB_WRITE_PERSISTENT;
        vb_discover_detail(f, e->base, e->detail, sizeof e->detail);
        cfg->count++;
        added++;
    }
out:
    vb_free(base);
    vb_free(order);
    return added;
}
