/* libFuzzer target: VHD parsing and chain reads.
 *
 * Input: one control byte (bit 0: allow the footer copy, bit 1: read
 * differencing layers alone, bit 6: keep checksums as they are), then up to three files separated by
 * FUZZ_SEPARATOR (top, then the files parent locators resolve to). Opens each
 * file alone and the whole chain read-only, runs vb_layer_check on every
 * layer, lists parent candidates and reads pseudo-random ranges. Properties
 * checked: a read past the end is refused, reading a range in one call or in
 * two pieces gives the same bytes, and the chain has the top layer's size. */
#include <stdlib.h>
#include <string.h>
#include "support.h"

#define MAX_READ (64u << 10)

/* vb_layer_check report callback: discards the line. */
static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

/* Exercises one opened layer: info, locators, candidates, check, presence. */
static void exercise_layer(vb_layer *layer, const char *path, fuzz_rng *rng)
{
    const vb_vhd_info *info = vb_layer_info(layer);
    unsigned n = vb_layer_locator_count(layer);
    for (unsigned i = 0; i < n + 1; i++)
        (void)vb_layer_locator(layer, i);
    static char candidates[8][VB_PATH_MAX];
    (void)vb_parent_candidates(layer, path, candidates, 8);
    (void)vb_layer_check(layer, ignore_line, NULL);
    uint64_t sectors = info->disk_size / VB_SECTOR;
    for (int i = 0; i < 4; i++)
        (void)vb_layer_sector_present(layer, fuzz_rng_below(rng, sectors));
}

/* Reads random ranges of src and checks that a split read matches a whole one. */
static void read_ranges(vb_source *src, fuzz_rng *rng)
{
    uint8_t *whole = malloc(MAX_READ), *split = malloc(MAX_READ);
    uint8_t byte;
    if (vb_source_read(src, src->size, &byte, 1) == VB_OK)
        fuzz_fail("a read past the end of the disk succeeded");
    for (int i = 0; i < 6 && src->size > 0; i++) {
        uint64_t off = fuzz_rng_below(rng, src->size);
        uint64_t room = src->size - off;
        size_t len = 1 + (size_t)fuzz_rng_below(rng, room < MAX_READ ? room : MAX_READ);
        if (fuzz_rng_next(rng) & 1) { /* sector aligned */
            off &= ~(uint64_t)(VB_SECTOR - 1);
            len = (len + VB_SECTOR - 1) & ~(size_t)(VB_SECTOR - 1);
            if (len > src->size - off)
                len = (size_t)(src->size - off);
        }
        if (vb_source_read(src, off, whole, len) != VB_OK)
            continue;
        size_t cut = (size_t)fuzz_rng_below(rng, len + 1);
        if (vb_source_read(src, off, split, cut) != VB_OK || vb_source_read(src, off + cut, split + cut, len - cut) != VB_OK)
            fuzz_fail("a piece of a readable range could not be read");
        if (!fuzz_same(whole, split, len))
            fuzz_fail("reading a range in two pieces gave other bytes than in one");
    }
    free(whole);
    free(split);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    fuzz_piece pieces[FUZZ_MAX_FILES];
    unsigned count = fuzz_split(data + 1, size - 1, pieces, FUZZ_MAX_FILES);
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data, size);
    fuzz_files files;
    vb_opener opener = fuzz_files_init(&files, pieces, count, true);
    if (!(control & 0x40)) /* usually: valid checksums, so mutations reach deeper checks */
        for (unsigned i = 0; i < count; i++)
            fuzz_fix_vhd_checksums(files.files[i]);
    unsigned flags = (control & 1) ? VB_OPEN_USE_FOOTER_COPY : 0;

    /* every file alone */
    for (unsigned i = 0; i < count; i++) {
        vb_layer *layer = NULL;
        vb_diag diag = { 0 };
        if (vb_layer_open(&files.files[i]->src, "\\vm\\alone.vhd", flags, &layer, &diag) == VB_OK) {
            exercise_layer(layer, "\\vm\\alone.vhd", &rng);
            if (vb_layer_info(layer)->type != VB_DISK_DIFF || (control & 2))
                read_ranges(vb_layer_source(layer), &rng);
            vb_layer_close(layer);
        }
    }
    if (count >= 1 && files.files[0]->size >= VB_SECTOR) {
        vb_vhd_info info;
        (void)vb_footer_parse(files.files[0]->data + files.files[0]->size - VB_SECTOR, "footer", &info, NULL);
        (void)vb_footer_disk_size(files.files[0]->data + files.files[0]->size - VB_SECTOR);
    }

    /* the chain */
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    if (vb_chain_open(&opener, FUZZ_TOP_PATH, flags, &chain, &diag) == VB_OK) {
        vb_source *src = vb_chain_source(chain);
        if (src->size != vb_layer_info(vb_chain_layer(chain, 0))->disk_size)
            fuzz_fail("chain size differs from the top layer's disk size");
        for (unsigned i = 0; i < vb_chain_depth(chain); i++)
            exercise_layer(vb_chain_layer(chain, i), vb_chain_path(chain, i), &rng);
        read_ranges(src, &rng);
        vb_chain_close(chain);
    } else if (diag.text[0] == '\0') {
        fuzz_fail("chain open failed without a message");
    }
    fuzz_files_free(&files);
    return 0;
}
