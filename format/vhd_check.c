/* vhdboot: full structural check of one opened VHD layer (vhdtool check).
 *
 * Open already refuses what would make reads or writes unsafe (including the
 * first overlapping block, vhd_overlap.c); this reports every problem, with
 * what needs extra reads: metadata areas overlapping each other, the footer
 * copy, BAT entries beyond the disk, undecodable parent fields. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhd_layer_internal.h"
#include "vhdx_internal.h"

typedef struct check_ctx {
    vb_layer *layer;
    void (*report)(void *ctx, const char *line);
    void *report_ctx;
    vb_status first;          /* first problem found (VB_OK when none) */
    unsigned overlaps;        /* overlapping blocks reported so far */
} check_ctx;

/* Overlaps reported one by one; beyond this many a single summary line. */
#define CHECK_MAX_OVERLAPS 32u

/* Reports one problem line (prefixed with the file name) and remembers the first status. */
__attribute__((format(printf, 3, 4))) static void problem(check_ctx *c, vb_status status, const char *fmt, ...)
{
    char line[VB_DIAG_TEXT_MAX];
    char msg[VB_DIAG_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vb_vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vb_format(line, sizeof(line), "%s: %s", c->layer->name, msg);
    if (c->first == VB_OK)
        c->first = status;
    if (c->report)
        c->report(c->report_ctx, line);
}

/* vb_overlap_fn of the check: reports the overlap as a problem; after
 * CHECK_MAX_OVERLAPS of them says so once and stops (returns false). */
static bool report_overlap(void *ctx, const vb_overlap *o)
{
    check_ctx *c = ctx;
    char other[32];
    if (c->overlaps++ == CHECK_MAX_OVERLAPS) {
        problem(c, VB_ERR_BAD_BAT_ENTRY, "more overlapping blocks not listed (first %u shown)", CHECK_MAX_OVERLAPS);
        return false;
    }
    problem(c, VB_ERR_BAD_BAT_ENTRY, "block %u at offset %llu overlaps %s at offset %llu", o->block,
            (unsigned long long)o->at, vb_overlap_other_name(o, other, sizeof(other)),
            (unsigned long long)o->other_at);
    return true;
}

/* Reports metadata areas that overlap each other (a handful: pairwise; only
 * locator data can, open refuses the rest). */
static void check_meta_overlaps(check_ctx *c)
{
    vb_area a[VB_MAX_META_AREAS];
    unsigned n = vb_layer_meta_areas(c->layer, a);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++) {
            /* name the one starting later first */
            const vb_area *late = a[j].start >= a[i].start ? &a[j] : &a[i];
            const vb_area *early = late == &a[j] ? &a[i] : &a[j];
            if (late->start - early->start < early->len)
                problem(c, VB_ERR_BAD_LOCATOR, "%s at offset %llu overlaps %s at offset %llu", late->what,
                        (unsigned long long)late->start, early->what, (unsigned long long)early->start);
        }
}

/* Checks the footer copy at offset 0 against the trailing footer. */
static void check_footer_copy(check_ctx *c)
{
    vb_layer *layer = c->layer;
    uint8_t copy[VB_FOOTER_SIZE];
    if (layer->info.footer_from_copy) {
        problem(c, VB_ERR_FOOTER_CHECKSUM, "trailing footer is damaged; the copy at offset 0 was used");
        return;
    }
    if (vb_source_read(layer->file, 0, copy, sizeof(copy)) != VB_OK) {
        problem(c, VB_ERR_IO, "cannot read the footer copy at offset 0");
        return;
    }
    vb_diag d;
    vb_vhd_info parsed;
    if (vb_footer_parse(copy, layer->name, &parsed, &d) != VB_OK)
        problem(c, d.status, "footer copy at offset 0 is invalid: %s", d.text);
    else if (vb_memcmp(copy, layer->footer, VB_FOOTER_SIZE) != 0)
        problem(c, VB_ERR_FOOTER_CHECKSUM, "footer copy at offset 0 differs from the footer");
}

/* Checks blocks and metadata areas for overlaps, and that entries past the
 * disk end are unused. Returns VB_ERR_NO_MEMORY if the block sort cannot be done. */
static vb_status check_layout(check_ctx *c)
{
    vb_layer *layer = c->layer;
    const vb_vhd_info *info = &layer->info;
    check_meta_overlaps(c);
    vb_status st = vb_layer_find_overlaps(layer, report_overlap, c);

    /* Entries between the disk's last block and max table entries should be unused. */
    uint8_t sector[VB_SECTOR];
    for (uint64_t i = layer->block_count; i < info->bat_entries; i++) {
        if (i == layer->block_count || (i * 4) % VB_SECTOR == 0) {
            uint64_t sector_at = info->bat_offset + (i * 4) / VB_SECTOR * VB_SECTOR;
            if (vb_source_read(layer->file, sector_at, sector, VB_SECTOR) != VB_OK)
                break;
        }
        uint32_t e = vb_be32(sector + (i * 4) % VB_SECTOR);
        if (e != VB_BAT_UNUSED) {
            problem(c, VB_ERR_BAD_TABLE, "block table entry %llu is beyond the end of the disk but allocated (0x%08x)",
                    (unsigned long long)i, e);
            break;
        }
    }
    return st;
}

/* Checks the parent fields of a differencing disk. */
static void check_parent_fields(check_ctx *c)
{
    vb_layer *layer = c->layer;
    static const uint8_t zero[16];
    if (layer->parent_name_bad)
        problem(c, VB_ERR_BAD_PARENT_NAME, "parent name in the dynamic header is not valid UTF-16");
    if (vb_memcmp(layer->info.parent_uuid, zero, 16) == 0)
        problem(c, VB_ERR_PARENT_UUID, "differencing disk has an all-zero parent UUID");
    if (layer->locator_count == 0 && layer->info.parent_name[0] == '\0')
        problem(c, VB_ERR_BAD_LOCATOR, "differencing disk names no parent (no locator, empty header name)");
}

vb_status vb_layer_check(vb_layer *layer, void (*report)(void *ctx, const char *line), void *ctx)
{
    if (layer->vhdx)
        return vb_vhdx_check(layer, report, ctx);
    check_ctx c = { layer, report, ctx, VB_OK, 0 };
    const vb_vhd_info *info = &layer->info;
    const vb_raw_footer *f = (const vb_raw_footer *)layer->footer;
    if (!(vb_be32(f->features) & VB_FEATURES_RESERVED))
        problem(&c, VB_ERR_BAD_VERSION, "footer features field 0x%08x lacks the always-set bit 0x2", vb_be32(f->features));
    if (info->type == VB_DISK_FIXED) {
        if (info->footer_offset != info->disk_size)
            problem(&c, VB_ERR_TRUNCATED, "fixed disk of %llu bytes but the footer is at offset %llu",
                    (unsigned long long)info->disk_size, (unsigned long long)info->footer_offset);
        return c.first;
    }
    check_footer_copy(&c);
    if (layer->locator_status != VB_OK)
        problem(&c, layer->locator_status, "%s", layer->locator_error);
    if (check_layout(&c) != VB_OK)
        problem(&c, VB_ERR_NO_MEMORY, "no memory to check block overlaps");
    if (info->type == VB_DISK_DIFF)
        check_parent_fields(&c);
    return c.first;
}
