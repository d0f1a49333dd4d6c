/* vhdboot fuzzing: shared helpers (see support.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"

/* Whether the separator starts at p (no libc memcmp: see fuzz_same). */
static bool separator_at(const uint8_t *p)
{
    return fuzz_same(p, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN);
}

unsigned fuzz_split(const uint8_t *data, size_t size, fuzz_piece *out, unsigned max)
{
    unsigned n = 0;
    size_t start = 0;
    for (size_t i = 0; n + 1 < max && i + FUZZ_SEPARATOR_LEN <= size; i++) {
        const uint8_t *hash = memchr(data + i, '#', size - FUZZ_SEPARATOR_LEN + 1 - i);
        if (!hash)
            break;
        i = (size_t)(hash - data);
        if (separator_at(hash)) {
            out[n++] = (fuzz_piece){ data + start, i - start };
            i += FUZZ_SEPARATOR_LEN - 1;
            start = i + 1;
        }
    }
    out[n++] = (fuzz_piece){ data + start, size - start };
    return n;
}

void fuzz_rng_seed(fuzz_rng *rng, const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    rng->state = h | 1;
}

uint32_t fuzz_rng_next(fuzz_rng *rng)
{
    rng->state ^= rng->state << 13; /* xorshift64 */
    rng->state ^= rng->state >> 7;
    rng->state ^= rng->state << 17;
    return (uint32_t)(rng->state >> 16);
}

uint64_t fuzz_rng_below(fuzz_rng *rng, uint64_t bound)
{
    if (bound == 0)
        return 0;
    uint64_t x = ((uint64_t)fuzz_rng_next(rng) << 32) | fuzz_rng_next(rng);
    return x % bound;
}

/* vb_opener open: maps a path to a file as described in support.h. */
static vb_status fuzz_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    fuzz_files *f = ctx;
    unsigned index = f->count;
    if (strcmp(path, FUZZ_TOP_PATH) == 0) {
        index = 0;
    } else {
        for (unsigned i = 1; i < f->assigned; i++)
            if (strcmp(f->paths[i], path) == 0)
                index = i;
        if (index == f->count && f->assigned < f->count) {
            index = f->assigned++;
            snprintf(f->paths[index], sizeof(f->paths[index]), "%s", path);
        }
    }
    if (index >= f->count)
        return VB_ERR_NOT_FOUND;
    if (writable && !f->files[index]->src.write)
        return VB_ERR_WRITE_PROTECTED;
    *out = f->files[index]->src;
    if (!writable)
        out->write = NULL;
    out->close = NULL; /* the memsource outlives the chain */
    return VB_OK;
}

vb_opener fuzz_files_init(fuzz_files *files, const fuzz_piece *pieces, unsigned count, bool readonly)
{
    memset(files, 0, sizeof(*files));
    if (count > FUZZ_MAX_FILES)
        count = FUZZ_MAX_FILES;
    for (unsigned i = 0; i < count; i++)
        files->files[i] = readonly ? memsource_new_readonly(pieces[i].data, pieces[i].size)
                                   : memsource_new(pieces[i].data, pieces[i].size);
    files->count = count;
    files->assigned = 1;
    return (vb_opener){ files, fuzz_open };
}

void fuzz_files_free(fuzz_files *files)
{
    for (unsigned i = 0; i < files->count; i++)
        memsource_free(files->files[i]);
    files->count = 0;
}

/* Rewrites the big-endian checksum at buf+at over len bytes, if it was a footer/header. */
static void fix_checksum(uint8_t *buf, size_t len, size_t at)
{
    uint32_t sum = vb_vhd_checksum(buf, len, at);
    buf[at] = (uint8_t)(sum >> 24);
    buf[at + 1] = (uint8_t)(sum >> 16);
    buf[at + 2] = (uint8_t)(sum >> 8);
    buf[at + 3] = (uint8_t)sum;
}

void fuzz_fix_vhd_checksums(memsource *ms)
{
    if (ms->size < VB_SECTOR)
        return;
    uint8_t *footer = ms->data + ms->size - VB_SECTOR;
    fix_checksum(footer, VB_SECTOR, 64);
    if (ms->size >= 2 * VB_SECTOR && memcmp(ms->data, "conectix", 8) == 0)
        fix_checksum(ms->data, VB_SECTOR, 64);
    uint64_t hdr = 0;
    for (int i = 0; i < 8; i++)
        hdr = hdr << 8 | footer[16 + i];
    if (hdr < ms->size && ms->size - hdr >= 1024)
        fix_checksum(ms->data + hdr, 1024, 36);
}

/* vb_source read of a fuzz volume: zeros, then every record over the range. */
static vb_status volume_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    fuzz_volume *vol = ctx;
    if (offset > vol->src.size || len > vol->src.size - offset)
        return VB_ERR_OUT_OF_RANGE;
    memset(buf, 0, len);
    for (size_t i = 0; i < vol->count; i++) {
        const fuzz_record *r = &vol->records[i];
        uint64_t lo = r->offset > offset ? r->offset : offset;
        uint64_t hi = r->offset + r->len < offset + len ? r->offset + r->len : offset + len;
        if (lo < hi)
            memcpy((uint8_t *)buf + (lo - offset), r->data + (lo - r->offset), (size_t)(hi - lo));
    }
    return VB_OK;
}

bool fuzz_volume_init(fuzz_volume *vol, const uint8_t *data, size_t size)
{
    memset(vol, 0, sizeof(*vol));
    if (size < 2)
        return false;
    size_t kib = (size_t)data[0] | (size_t)data[1] << 8;
    uint64_t vol_size = (uint64_t)(kib ? kib : 1) * 1024;
    vol->records = malloc((size / 6 + 1) * sizeof(fuzz_record));
    size_t pos = 2;
    while (pos + 6 <= size) {
        uint32_t off = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 | (uint32_t)data[pos + 2] << 16 |
                       (uint32_t)data[pos + 3] << 24;
        size_t len = (size_t)data[pos + 4] | (size_t)data[pos + 5] << 8;
        pos += 6;
        off %= (uint32_t)vol_size;
        if (len > size - pos)
            len = size - pos;
        size_t keep = len < vol_size - off ? len : (size_t)(vol_size - off);
        vol->records[vol->count++] = (fuzz_record){ off, keep, data + pos };
        pos += len;
    }
    vol->src.size = vol_size;
    vol->src.ctx = vol;
    vol->src.read = volume_read;
    return true;
}

void fuzz_volume_free(fuzz_volume *vol)
{
    free(vol->records);
    vol->records = NULL;
    vol->count = 0;
}

__attribute__((no_sanitize("coverage"))) bool fuzz_same(const void *a, const void *b, size_t len)
{
    const uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz property violated: %s\n", what);
    abort();
}
