/* vhdboot: full structural check of one opened VHD layer (vhdtool check).
 *
 * Open already refuses what would make reads unsafe; this adds what needs a
 * sort or extra reads: blocks overlapping each other or locator data, the
 * footer copy, BAT entries beyond the disk, undecodable parent fields. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhd_layer_internal.h"

typedef struct check_ctx {
    vb_layer *layer;
    void (*report)(void *ctx, const char *line);
    void *report_ctx;
    vb_status first;          /* first problem found (VB_OK when none) */
} check_ctx;

/* One region of the file: [start, end), labelled for messages. */
typedef struct region {
    uint64_t start, end;
    uint32_t block;           /* block index, or UINT32_MAX for metadata */
    const char *what;
} region;

/* Reports one problem line (prefixed with the file name) and remembers the first status. */
static void problem(check_ctx *c, vb_status status, const char *fmt, ...)
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

/* Restores the heap order below node i of regions[0..n) (by start offset). */
static void sift_down(region *r, size_t i, size_t n)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, rr = l + 1;
        if (l < n && r[l].start > r[big].start)
            big = l;
        if (rr < n && r[rr].start > r[big].start)
            big = rr;
        if (big == i)
            return;
        region t = r[i];
        r[i] = r[big];
        r[big] = t;
        i = big;
    }
}

/* Sorts regions by start offset (heap sort: no recursion, no libc). */
static void sort_regions(region *r, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(r, i, n);
    for (size_t end = n; end > 1; end--) {
        region t = r[0];
        r[0] = r[end - 1];
        r[end - 1] = t;
        sift_down(r, 0, end - 1);
    }
}

/* Names a region for a message into buf. */
static const char *region_name(const region *r, char *buf, int cap)
{
    if (r->block == UINT32_MAX)
        return r->what;
    vb_format(buf, cap, "block %u", r->block);
    return buf;
}

/* Reports every pair of overlapping regions (after sorting by start). */
static void check_overlaps(check_ctx *c, region *r, size_t n)
{
    sort_regions(r, n);
    char a[32], b[32];
    size_t reach = 0; /* index of the region reaching furthest so far */
    for (size_t i = 1; i < n; i++) {
        if (r[i].start < r[reach].end)
            problem(c, VB_ERR_BAD_BAT_ENTRY, "%s at offset %llu overlaps %s at offset %llu",
                    region_name(&r[i], a, sizeof(a)), (unsigned long long)r[i].start,
                    region_name(&r[reach], b, sizeof(b)), (unsigned long long)r[reach].start);
        if (r[i].end > r[reach].end)
            reach = i;
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

/* Checks BAT entries, blocks and locator data for overlaps; entries past the
 * disk end that are allocated. Returns VB_ERR_NO_MEMORY if the list cannot be built. */
static vb_status check_layout(check_ctx *c)
{
    vb_layer *layer = c->layer;
    const vb_vhd_info *info = &layer->info;
    size_t n = 3 + layer->locator_count + info->allocated_blocks;
    region *r = vb_alloc(n * sizeof(region));
    if (!r)
        return VB_ERR_NO_MEMORY;
    size_t k = 0;
    uint64_t bat_region = ((uint64_t)info->bat_entries * 4 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
    r[k++] = (region){ 0, VB_FOOTER_SIZE, UINT32_MAX, "footer copy" };
    r[k++] = (region){ info->header_offset, info->header_offset + VB_HEADER_SIZE, UINT32_MAX, "dynamic header" };
    r[k++] = (region){ info->bat_offset, info->bat_offset + bat_region, UINT32_MAX, "block table" };
    for (unsigned i = 0; i < layer->locator_count; i++) {
        const vb_locator *l = &layer->locators[i];
        uint64_t space = l->data_space < VB_SECTOR ? (uint64_t)l->data_space * VB_SECTOR : l->data_space;
        if (space == 0)
            continue;
        r[k++] = (region){ l->data_offset, l->data_offset + space, UINT32_MAX, "parent locator data" };
    }
    uint64_t block_bytes = (uint64_t)info->bitmap_size + info->block_size;
    for (uint32_t b = 0; b < layer->block_count && k < n; b++) {
        uint32_t e = vb_bat_get(layer, b);
        if (e != VB_BAT_UNUSED)
            r[k++] = (region){ (uint64_t)e * VB_SECTOR, (uint64_t)e * VB_SECTOR + block_bytes, b, NULL };
    }
    check_overlaps(c, r, k);
    vb_free(r);

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
    return VB_OK;
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
    check_ctx c = { layer, report, ctx, VB_OK };
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
