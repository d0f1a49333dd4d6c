/* vhdboot fuzzing: shared helpers (see support.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"

unsigned fuzz_split(const uint8_t *data, size_t size, fuzz_piece *out, unsigned max)
{
    unsigned n = 0;
    size_t start = 0;
    for (size_t i = 0; n + 1 < max && i + FUZZ_SEPARATOR_LEN <= size; i++) {
        if (memcmp(data + i, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN) == 0) {
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

memsource *fuzz_sparse_volume(const uint8_t *data, size_t size)
{
    if (size < 2)
        return NULL;
    size_t kib = (size_t)data[0] | (size_t)data[1] << 8;
    kib = kib < 1 ? 1 : kib;
    size_t vol_size = kib * 1024;
    memsource *ms = memsource_new_readonly(NULL, vol_size);
    size_t pos = 2;
    while (pos + 6 <= size) {
        uint32_t off = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 | (uint32_t)data[pos + 2] << 16 |
                       (uint32_t)data[pos + 3] << 24;
        size_t len = (size_t)data[pos + 4] | (size_t)data[pos + 5] << 8;
        pos += 6;
        off %= (uint32_t)vol_size;
        if (len > size - pos)
            len = size - pos;
        size_t copy = len < vol_size - off ? len : vol_size - off;
        memcpy(ms->data + off, data + pos, copy);
        pos += len;
    }
    return ms;
}

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz property violated: %s\n", what);
    abort();
}
