/* vhdboot: structural check of a VHDX layer (vhdtool check) and the search
 * for allocated areas that overlap each other (also refused at open).
 *
 * Open already refuses what makes reads unsafe; the check also reports what
 * a reader can live with: a damaged second header or region table, a log
 * that needed replaying. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhdx_internal.h"

/* One allocated area: a payload block or a sector bitmap. */
struct area {
    uint64_t off, len, index;
    bool bitmap;
};

/* Sifts element i of a max-heap of n areas (ordered by offset) down. */
static void sift(struct area *a, size_t i, size_t n)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && a[l].off > a[big].off)
            big = l;
        if (r < n && a[r].off > a[big].off)
            big = r;
        if (big == i)
            return;
        struct area t = a[i];
        a[i] = a[big];
        a[big] = t;
        i = big;
    }
}

/* Sorts areas by offset (heap sort: no recursion, no extra memory). */
static void sort_areas(struct area *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        struct area t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

/* Finds allocated areas that overlap each other; reports each through
 * line (up to max) and returns how many were found, or -1 without memory. */
long vb_vhdx_find_overlaps(const struct vb_vhdx *x, void (*line)(void *ctx, const char *text), void *ctx,
                           unsigned max)
{
    const vb_vhdx_info *i = &x->info;
    size_t n = 0, cap = (size_t)(i->payload_states[VB_VHDX_PAYLOAD_FULLY_PRESENT] +
                                 i->payload_states[VB_VHDX_PAYLOAD_PARTIALLY_PRESENT] + i->bitmaps_present);
    if (cap == 0)
        return 0;
    struct area *a = vb_alloc(cap * sizeof(*a));
    if (!a)
        return -1;
    for (uint64_t b = 0; b < i->data_blocks && n < cap; b++) {
        uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b));
        unsigned s = VB_VHDX_BAT_STATE(e);
        if (s == VB_VHDX_PAYLOAD_FULLY_PRESENT || s == VB_VHDX_PAYLOAD_PARTIALLY_PRESENT) {
            uint64_t covered = i->virtual_size - b * i->block_size;
            a[n++] = (struct area){ VB_VHDX_BAT_OFFSET(e), covered < i->block_size ? covered : i->block_size, b, false };
        }
    }
    if (i->has_parent)
        for (uint64_t c = 0; c < i->bitmap_blocks && n < cap; c++) {
            uint64_t e = vb_vhdx_bat_get(x, c * ((uint64_t)i->chunk_ratio + 1) + i->chunk_ratio);
            if (VB_VHDX_BAT_STATE(e) == VB_VHDX_SB_PRESENT)
                a[n++] = (struct area){ VB_VHDX_BAT_OFFSET(e), VB_VHDX_SECTOR_BITMAP_SIZE, c, true };
        }
    sort_areas(a, n);
    long found = 0;
    for (size_t k = 1; k < n; k++)
        if (a[k].off < a[k - 1].off + a[k - 1].len) {
            if (line && (unsigned long)found < max) {
                char text[VB_DIAG_TEXT_MAX];
                vb_format(text, sizeof(text), "%s %llu at offset %llu overlaps %s %llu at offset %llu",
                          a[k].bitmap ? "sector bitmap" : "block", (unsigned long long)a[k].index,
                          (unsigned long long)a[k].off, a[k - 1].bitmap ? "sector bitmap" : "block",
                          (unsigned long long)a[k - 1].index, (unsigned long long)a[k - 1].off);
                line(ctx, text);
            }
            found++;
        }
    vb_free(a);
    return found;
}

typedef struct check_ctx {
    vb_layer *layer;
    void (*report)(void *ctx, const char *line);
    void *report_ctx;
    vb_status first;
} check_ctx;

/* Reports one problem line prefixed with the file name; keeps the first status. */
static void problem(check_ctx *c, vb_status status, const char *text)
{
    char line[VB_DIAG_TEXT_MAX];
    vb_format(line, sizeof(line), "%s: %s", c->layer->name, text);
    if (c->first == VB_OK)
        c->first = status;
    if (c->report)
        c->report(c->report_ctx, line);
}

/* vb_vhdx_find_overlaps line callback of the check. */
static void overlap_line(void *ctx, const char *text)
{
    problem(ctx, VB_ERR_BAD_BAT_ENTRY, text);
}

vb_status vb_vhdx_check(vb_layer *layer, void (*report)(void *ctx, const char *line), void *ctx)
{
    check_ctx c = { layer, report, ctx, VB_OK };
    const vb_vhdx_info *i = &layer->vhdx->info;
    char text[VB_DIAG_TEXT_MAX];
    for (unsigned h = 0; h < 2; h++)
        if (!i->header_valid[h]) {
            vb_format(text, sizeof(text), "header %u is damaged (the other one is used)", h + 1);
            problem(&c, VB_ERR_VHDX_HEADER, text);
        }
    for (unsigned r = 0; r < 2; r++)
        if (!i->region_valid[r]) {
            vb_format(text, sizeof(text), "region table %u is damaged (the other one is used)", r + 1);
            problem(&c, VB_ERR_VHDX_REGION_TABLE, text);
        }
    if (i->log_dirty && !i->log_replayed_on_disk) {
        vb_format(text, sizeof(text),
                  "the log is not empty (%u entries up to sequence %llu, replayed in memory only; "
                  "'vhdtool check --repair' replays it into the file)",
                  i->log_entries_replayed, (unsigned long long)i->log_head_seq);
        problem(&c, VB_ERR_VHDX_LOG, text);
    }
    long n = vb_vhdx_find_overlaps(layer->vhdx, overlap_line, &c, 32);
    if (n < 0)
        problem(&c, VB_ERR_NO_MEMORY, "no memory to look for overlapping blocks");
    return c.first;
}
