/* libFuzzer target: VHDX parsing, log replay, chains and writes.
 *
 * Input: one control byte (bit 0: open the top writable and write into it,
 * bit 6: keep CRCs as they are), then up to three files separated by
 * FUZZ_SEPARATOR, each in the sparse volume encoding of fuzz_volume_init
 * (a VHDX is at least a few MiB, mostly zeros). Each file is seen through an
 * in-memory copy-on-write overlay, so CRC fixes and writes never touch the
 * input. Opens each file alone and the chain read-only, runs vb_layer_check,
 * reads pseudo-random ranges; with bit 0 writes into the top layer and reads
 * the bytes back. Properties: a read past the end is refused, a split read
 * equals a whole one, data written reads back, every refusal has a message. */
#include <stdlib.h>
#include <string.h>
#include "format/bytes.h"
#include "format/overlay.h"
#include "format/vhdx.h"
#include "support.h"

#define MAX_READ (64u << 10)

struct file {
    fuzz_volume vol;
    vb_source view;           /* overlay over vol.src */
    bool ok;
};

struct files {
    struct file f[FUZZ_MAX_FILES];
    unsigned count;
    char paths[FUZZ_MAX_FILES][VB_PATH_MAX];
    unsigned assigned;
};

static vb_status view_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    vb_source *v = ctx;
    return vb_source_read(v, off, buf, len);
}

static vb_status view_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    vb_source *v = ctx;
    if (off > v->size || len > v->size - off)
        return VB_ERR_NO_SPACE; /* the overlay cannot grow */
    return vb_source_write(v, off, buf, len);
}

/* Opener: the top path is file 0, other paths get the next files in order. */
static vb_status files_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    struct files *fs = ctx;
    unsigned i;
    for (i = 0; i < fs->assigned; i++)
        if (!strcmp(fs->paths[i], path))
            break;
    if (i == fs->assigned) {
        if (fs->assigned >= fs->count)
            return VB_ERR_NOT_FOUND;
        strncpy(fs->paths[fs->assigned], path, VB_PATH_MAX - 1);
        fs->assigned++;
    }
    if (!fs->f[i].ok)
        return VB_ERR_NOT_FOUND;
    memset(out, 0, sizeof(*out));
    out->size = fs->f[i].view.size;
    out->ctx = &fs->f[i].view;
    out->read = view_read;
    out->write = writable ? view_write : NULL;
    return VB_OK;
}

/* Recomputes the CRC of a structure at off (len bytes) when its signature is there. */
static void fix_crc(vb_source *v, uint64_t off, size_t len, const char *sig)
{
    if (v->size < off + len)
        return;
    uint8_t *buf = malloc(len);
    if (vb_source_read(v, off, buf, len) == VB_OK && !memcmp(buf, sig, 4)) {
        uint8_t crc[4];
        vb_put_le32(crc, vb_crc32c(buf, len, 4));
        vb_source_write(v, off + 4, crc, 4);
    }
    free(buf);
}

static void ignore_line(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

/* Reads random ranges and checks that a split read matches a whole one. */
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

/* Writes a pseudo-random range of the top layer and reads it back. */
static void write_back(vb_source *src, fuzz_rng *rng)
{
    if (!src->write || src->size == 0)
        return;
    uint64_t off = fuzz_rng_below(rng, src->size);
    uint64_t room = src->size - off;
    size_t len = 1 + (size_t)fuzz_rng_below(rng, room < 9000 ? room : 9000);
    uint8_t *data = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)fuzz_rng_next(rng);
    if (vb_source_write(src, off, data, len) == VB_OK) {
        if (vb_source_read(src, off, back, len) != VB_OK)
            fuzz_fail("written range cannot be read back");
        if (!fuzz_same(data, back, len))
            fuzz_fail("written range reads back other bytes");
    }
    free(data);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    fuzz_piece pieces[FUZZ_MAX_FILES];
    static struct files fs;
    memset(&fs, 0, sizeof(fs));
    fs.count = fuzz_split(data + 1, size - 1, pieces, FUZZ_MAX_FILES);
    fuzz_rng rng;
    fuzz_rng_seed(&rng, data, size);
    for (unsigned i = 0; i < fs.count; i++) {
        struct file *f = &fs.f[i];
        if (!fuzz_volume_init(&f->vol, pieces[i].data, pieces[i].size))
            continue;
        if (vb_overlay_open(&f->vol.src, &f->view) != VB_OK) {
            fuzz_volume_free(&f->vol);
            continue;
        }
        f->ok = true;
        if (!(control & 0x40)) {
            fix_crc(&f->view, 64u << 10, 4096, "head");
            fix_crc(&f->view, 128u << 10, 4096, "head");
            fix_crc(&f->view, 192u << 10, 64u << 10, "regi");
            fix_crc(&f->view, 256u << 10, 64u << 10, "regi");
        }
    }
    vb_opener opener = { &fs, files_open };

    /* every file alone */
    for (unsigned i = 0; i < fs.count; i++) {
        if (!fs.f[i].ok)
            continue;
        vb_source file;
        memset(&file, 0, sizeof(file));
        file.size = fs.f[i].view.size;
        file.ctx = &fs.f[i].view;
        file.read = view_read;
        vb_layer *layer = NULL;
        vb_diag diag = { 0 };
        vb_status st = vb_layer_open(&file, "\\vm\\alone.vhdx", 0, &layer, &diag);
        if (st == VB_OK) {
            (void)vb_layer_check(layer, ignore_line, NULL);
            static char cand[8][VB_PATH_MAX];
            (void)vb_parent_candidates(layer, "\\vm\\alone.vhdx", cand, 8);
            uint64_t sectors = vb_layer_info(layer)->disk_size / VB_SECTOR;
            for (int k = 0; k < 4; k++) {
                (void)vb_layer_sector_present(layer, fuzz_rng_below(&rng, sectors));
                (void)vb_layer_block_allocated(layer, fuzz_rng_below(&rng, sectors));
            }
            if (vb_layer_info(layer)->type != VB_DISK_DIFF)
                read_ranges(vb_layer_source(layer), &rng);
            vb_layer_close(layer);
        } else if (diag.text[0] == '\0') {
            fuzz_fail("open failed without a message");
        }
    }
    /* the chain, read-only; then writable when asked */
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    if (vb_chain_open(&opener, FUZZ_TOP_PATH, 0, &chain, &diag) == VB_OK) {
        read_ranges(vb_chain_source(chain), &rng);
        vb_chain_close(chain);
    } else if (diag.text[0] == '\0') {
        fuzz_fail("chain open failed without a message");
    }
    if (control & 1) {
        fs.assigned = 0;
        if (vb_chain_open(&opener, FUZZ_TOP_PATH, VB_OPEN_WRITABLE, &chain, &diag) == VB_OK) {
            write_back(vb_chain_source(chain), &rng);
            write_back(vb_chain_source(chain), &rng);
            vb_chain_close(chain);
        }
    }
    for (unsigned i = 0; i < fs.count; i++)
        if (fs.f[i].ok) {
            vb_source_close(&fs.f[i].view);
            fuzz_volume_free(&fs.f[i].vol);
        }
    return 0;
}
