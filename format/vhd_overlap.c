/* vhdboot: where the allocated blocks of a dynamic/differencing layer
 * overlap each other or the file's metadata (footer copy, dynamic header,
 * block table, parent locator data).
 *
 * Used by open (which refuses the first overlap: a write to one block would
 * corrupt the other) and by the full check (which reports them all). The
 * sector numbers of the allocated BAT entries are copied into one array
 * (4 bytes per allocated block, bounded by the BAT size open accepted) and
 * heap-sorted: every block has the same length, so after sorting two blocks
 * overlap exactly when some pair of neighbours does, and the blocks over a
 * metadata area are the ones just before the area's end. O(n log n) time,
 * no recursion, no libc. Block indices are looked up again only for the
 * overlaps reported. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhd_layer_internal.h"

unsigned vb_layer_meta_areas(const vb_layer *layer, vb_area out[VB_MAX_META_AREAS])
{
    const vb_vhd_info *info = &layer->info;
    unsigned n = 0;
    uint64_t bat_region = ((uint64_t)info->bat_entries * 4 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
    out[n++] = (vb_area){ 0, VB_FOOTER_SIZE, "the footer copy" };
    out[n++] = (vb_area){ info->header_offset, VB_HEADER_SIZE, "the dynamic header" };
    out[n++] = (vb_area){ info->bat_offset, bat_region, "the block table" };
    /* a dynamic disk never uses its locators: blocks may lie over their data
     * (which may not even be decoded, when it lies past the data) */
    unsigned locators = info->type == VB_DISK_DIFF ? layer->locator_count : 0;
    for (unsigned i = 0; i < locators && n < VB_MAX_META_AREAS; i++) {
        const vb_locator *l = &layer->locators[i];
        if (l->space_bytes != 0)
            out[n++] = (vb_area){ l->data_offset, l->space_bytes, "parent locator data" };
    }
    return n;
}

/* Restores the max-heap order below node i of s[0..n). */
static void sift_down(uint32_t *s, size_t i, size_t n)
{
    for (;;) {
        size_t big = i, left = 2 * i + 1, right = left + 1;
        if (left < n && s[left] > s[big])
            big = left;
        if (right < n && s[right] > s[big])
            big = right;
        if (big == i)
            return;
        uint32_t t = s[i];
        s[i] = s[big];
        s[big] = t;
        i = big;
    }
}

/* Sorts s[0..n) ascending in place (heap sort). */
static void sort_sectors(uint32_t *s, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(s, i, n);
    for (size_t end = n; end > 1; end--) {
        uint32_t t = s[0];
        s[0] = s[end - 1];
        s[end - 1] = t;
        sift_down(s, 0, end - 1);
    }
}

/* Returns the nth (0-based) block, in BAT order, whose entry is `sector`
 * (sorted equal entries are told apart this way); UINT32_MAX if none. */
static uint32_t block_at(const vb_layer *layer, uint32_t sector, size_t nth)
{
    for (uint32_t b = 0; b < layer->block_count; b++)
        if (vb_bat_get(layer, b) == sector && nth-- == 0)
            return b;
    return UINT32_MAX;
}

/* How many entries before s[i] equal it (s sorted). */
static size_t equal_before(const uint32_t *s, size_t i)
{
    size_t k = 0;
    while (k < i && s[i - k - 1] == s[i])
        k++;
    return k;
}

/* Number of entries of the sorted s[0..n) whose byte offset is below `end`. */
static size_t count_below(const uint32_t *s, size_t n, uint64_t end)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)s[mid] * VB_SECTOR < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Reports the blocks over one metadata area, nearest the area's end first.
 * Returns false when fn asked to stop. */
static bool blocks_over_area(const vb_layer *layer, const uint32_t *s, size_t n, uint64_t block_bytes,
                             const vb_area *area, vb_overlap_fn fn, void *ctx)
{
    /* areas start inside the file (checked at open) and are at most 4 GiB long: saturate anyway */
    uint64_t area_end = area->start + area->len;
    if (area_end < area->start)
        area_end = UINT64_MAX;
    for (size_t j = count_below(s, n, area_end); j-- > 0;) {
        uint64_t start = (uint64_t)s[j] * VB_SECTOR;
        if (start + block_bytes <= area->start)
            break; /* this and every earlier block end before the area */
        vb_overlap o = { block_at(layer, s[j], equal_before(s, j)), start, UINT32_MAX, area->start, area->what };
        if (!fn(ctx, &o))
            return false;
    }
    return true;
}

vb_status vb_layer_find_overlaps(const vb_layer *layer, vb_overlap_fn fn, void *ctx)
{
    const vb_vhd_info *info = &layer->info;
    if (info->type == VB_DISK_FIXED || !layer->bat)
        return VB_OK;
    size_t n = 0;
    for (uint32_t b = 0; b < layer->block_count; b++)
        if (vb_bat_get(layer, b) != VB_BAT_UNUSED)
            n++;
    if (n == 0)
        return VB_OK;
    uint32_t *s = vb_alloc(n * sizeof(*s)); /* n <= block_count <= VB_MAX_BAT_ENTRIES: no overflow */
    if (!s)
        return VB_ERR_NO_MEMORY;
    size_t k = 0;
    for (uint32_t b = 0; b < layer->block_count && k < n; b++) {
        uint32_t e = vb_bat_get(layer, b);
        if (e != VB_BAT_UNUSED)
            s[k++] = e;
    }
    sort_sectors(s, n);

    uint64_t block_bytes = (uint64_t)info->bitmap_size + info->block_size;
    vb_area areas[VB_MAX_META_AREAS];
    unsigned area_count = vb_layer_meta_areas(layer, areas);
    bool more = true;
    for (unsigned a = 0; a < area_count && more; a++)
        more = blocks_over_area(layer, s, n, block_bytes, &areas[a], fn, ctx);

    /* Equal lengths: a block overlaps an earlier one iff it overlaps its neighbour. */
    size_t run = 0; /* how many entries before s[i] equal it */
    for (size_t i = 1; i < n && more; i++) {
        size_t run_before = run;
        run = s[i] == s[i - 1] ? run + 1 : 0;
        uint64_t start = (uint64_t)s[i] * VB_SECTOR, before = (uint64_t)s[i - 1] * VB_SECTOR;
        if (start >= before + block_bytes)
            continue;
        vb_overlap o = { block_at(layer, s[i], run), start, block_at(layer, s[i - 1], run_before), before, NULL };
        more = fn(ctx, &o);
    }
    vb_free(s);
    return VB_OK;
}

const char *vb_overlap_other_name(const vb_overlap *o, char *buf, int cap)
{
    if (o->other_block == UINT32_MAX)
        return o->area;
    vb_format(buf, cap, "block %u", o->other_block);
    return buf;
}
