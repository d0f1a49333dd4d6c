/* libFuzzer target: writes into the top layer of a VHD chain.
 *
 * Input: one control byte (bits 0-1: number of writes - 1, bit 5: with
 * write-back, committed by a flush before closing; bit 6: keep checksums
 * as they are), then up to three files separated by
 * FUZZ_SEPARATOR (top writable, parents read-only and refusing writes).
 * When the chain opens writable, 1-4 pseudo-random writes (aligned or not,
 * possibly spanning blocks) go into a window of the disk that is mirrored in
 * memory. Properties: each write reads back at once; after closing, the top
 * reopens, the window reads back as the mirror (bytes of a failed write may
 * be old or new); a top that passed vb_layer_check before still passes it;
 * parents are never modified. */
#include <stdlib.h>
#include <string.h>
#include "support.h"

#define WINDOW_MAX (256u << 10)
#define WRITE_MAX (40u << 10)

/* vb_layer_check report callback: discards the line. */
static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

/* Opens the chain (flags), runs vb_layer_check on the top; returns the chain
 * or NULL. *check_ok tells whether the top passed. */
static vb_chain *open_chain(fuzz_files *files, vb_opener *opener, unsigned flags, bool *check_ok)
{
    vb_chain *chain = NULL;
    files->assigned = 1; /* a fresh path-to-file mapping for each open */
    if (vb_chain_open(opener, FUZZ_TOP_PATH, flags, &chain, NULL) != VB_OK)
        return NULL;
    *check_ok = vb_layer_check(vb_chain_layer(chain, 0), ignore_line, NULL) == VB_OK;
    return chain;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_piece pieces[FUZZ_MAX_FILES];
    unsigned count = fuzz_split(data + 1, size - 1, pieces, FUZZ_MAX_FILES);
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data, size);
    fuzz_files files;
    vb_opener opener = fuzz_files_init(&files, pieces, count, false);
    if (!(data[0] & 0x40)) /* usually: valid checksums, so mutations reach deeper checks */
        for (unsigned i = 0; i < count; i++) {
            fuzz_fix_vhd_checksums(files.files[i]);
        }
    uint8_t *before[FUZZ_MAX_FILES] = { 0 }; /* parents as they were, to prove they are not written */
    for (unsigned i = 1; i < count; i++)
        before[i] = memsource_copy(files.files[i]);
    for (unsigned i = 1; i < count; i++)
        memsource_fail_after_writes(files.files[i], 0); /* a parent write is refused (and counted) */

    bool was_ok = false, now_ok = false;
    vb_chain *chain = open_chain(&files, &opener, 0, &was_ok);
    if (!chain)
        goto out;
    vb_chain_close(chain);
    chain = open_chain(&files, &opener, VB_OPEN_WRITABLE, &now_ok);
    if (!chain)
        goto out;
    vb_source *disk = vb_chain_source(chain);
    bool write_back = (data[0] & 0x20) != 0;
    if (write_back)
        vb_layer_set_write_back(vb_chain_layer(chain, 0), true);
    uint64_t window = disk->size < WINDOW_MAX ? disk->size : WINDOW_MAX;
    uint64_t base = fuzz_rng_below(&rng, disk->size - window + 1) & ~(uint64_t)(VB_SECTOR - 1);
    uint8_t *mirror = malloc(window), *dont_care = calloc(1, window), *buf = malloc(WRITE_MAX);
    bool mirror_ok = vb_source_read(disk, base, mirror, window) == VB_OK;
    bool all_written = true;
    unsigned writes = 1 + (data[0] & 3);
    for (unsigned w = 0; w < writes && window > 0; w++) {
        uint64_t off = fuzz_rng_below(&rng, window);
        size_t len = 1 + (size_t)fuzz_rng_below(&rng, window - off < WRITE_MAX ? window - off : WRITE_MAX);
        if (fuzz_rng_next(&rng) & 1) {
            off &= ~(uint64_t)(VB_SECTOR - 1);
            len = (len + VB_SECTOR - 1) & ~(size_t)(VB_SECTOR - 1);
            if (len > window - off)
                len = (size_t)(window - off);
        }
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)fuzz_rng_next(&rng);
        if (vb_source_write(disk, base + off, buf, len) != VB_OK) {
            all_written = false;
            memset(dont_care + off, 1, len);
            continue;
        }
        memcpy(mirror + off, buf, len);
        uint8_t *back = malloc(len);
        if (vb_source_read(disk, base + off, back, len) == VB_OK && !fuzz_same(back, buf, len))
            fuzz_fail("written bytes do not read back");
        free(back);
    }
    if (write_back && vb_source_flush(disk) != VB_OK) {
        all_written = false; /* the commit failed: the file keeps what it had */
        memset(dont_care, 1, window);
    }
    vb_chain_close(chain);
    for (unsigned i = 1; i < count; i++)
        if (files.files[i]->writes != 0 || files.files[i]->failed_writes != 0 ||
            !fuzz_same(files.files[i]->data, before[i], files.files[i]->size))
            fuzz_fail("a parent was written");

    bool after_ok = false;
    chain = open_chain(&files, &opener, 0, &after_ok);
    if (!chain) {
        if (all_written)
            fuzz_fail("the image no longer opens after successful writes");
    } else {
        if (was_ok && all_written && !after_ok)
            fuzz_fail("a clean image fails vb_layer_check after writes");
        uint8_t *now = malloc(window);
        if (mirror_ok && vb_source_read(vb_chain_source(chain), base, now, window) == VB_OK) {
            for (uint64_t i = 0; i < window; i++)
                if (!dont_care[i] && now[i] != mirror[i])
                    fuzz_fail("after reopening, the disk differs from what was written");
        }
        free(now);
        vb_chain_close(chain);
    }
    free(mirror);
    free(dont_care);
    free(buf);
out:
    for (unsigned i = 1; i < count; i++)
        free(before[i]);
    fuzz_files_free(&files);
    return 0;
}
