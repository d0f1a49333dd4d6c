/* vhdboot: in-memory copy-on-write overlay (see overlay.h). */
#include "overlay.h"
#include "bytes.h"
#include "platform.h"

/* Chunk pointers live in a two-level table so a 2 TiB disk needs only a
 * small top level: top[i] is an array of LEAF_ENTRIES chunk pointers. */
#define LEAF_ENTRIES 4096u

struct overlay {
    vb_source *base;
    uint64_t size;
    uint64_t top_count;
    uint8_t ***top;
    uint64_t chunks_used;
};

/* Returns the chunk holding index, or NULL if it was never written. */
static uint8_t *chunk_at(struct overlay *o, uint64_t index)
{
    uint8_t **leaf = o->top[index / LEAF_ENTRIES];
    return leaf ? leaf[index % LEAF_ENTRIES] : NULL;
}

/* Returns the chunk holding index, creating it (filled from the base) if
 * needed; NULL with *status set on failure. */
static uint8_t *chunk_for_write(struct overlay *o, uint64_t index, vb_status *status)
{
    uint8_t ***slot = &o->top[index / LEAF_ENTRIES];
    if (!*slot) {
        *slot = vb_alloc(LEAF_ENTRIES * sizeof(uint8_t *));
        if (!*slot) {
            *status = VB_ERR_NO_MEMORY;
            return NULL;
        }
    }
    uint8_t **chunk = &(*slot)[index % LEAF_ENTRIES];
    if (*chunk)
        return *chunk;
    uint8_t *data = vb_alloc(VB_OVERLAY_CHUNK);
    if (!data) {
        *status = VB_ERR_NO_MEMORY;
        return NULL;
    }
    uint64_t start = index * VB_OVERLAY_CHUNK;
    uint64_t len = o->size - start < VB_OVERLAY_CHUNK ? o->size - start : VB_OVERLAY_CHUNK;
    *status = vb_source_read(o->base, start, data, (size_t)len);
    if (*status != VB_OK) {
        vb_free(data);
        return NULL;
    }
    *chunk = data;
    o->chunks_used++;
    return data;
}

/* Reads len bytes at offset, chunk by chunk, from memory or the base. */
static vb_status overlay_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct overlay *o = ctx;
    uint8_t *out = buf;
    if (offset > o->size || len > o->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    while (len) {
        uint64_t index = offset / VB_OVERLAY_CHUNK;
        size_t within = (size_t)(offset % VB_OVERLAY_CHUNK);
        size_t n = VB_OVERLAY_CHUNK - within < len ? VB_OVERLAY_CHUNK - within : len;
        uint8_t *chunk = chunk_at(o, index);
        if (chunk) {
            vb_memcpy(out, chunk + within, n);
        } else {
            /* merge a run of unwritten chunks into one base read */
            while (n < len && !chunk_at(o, (offset + n) / VB_OVERLAY_CHUNK))
                n = len - n < VB_OVERLAY_CHUNK ? len : n + VB_OVERLAY_CHUNK;
            vb_status st = vb_source_read(o->base, offset, out, n);
            if (st != VB_OK)
                return st;
        }
        out += n;
        offset += n;
        len -= n;
    }
    return VB_OK;
}

/* Copies len bytes at offset into memory chunks; the base is not touched. */
static vb_status overlay_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct overlay *o = ctx;
    const uint8_t *in = buf;
    if (offset > o->size || len > o->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    while (len) {
        uint64_t index = offset / VB_OVERLAY_CHUNK;
        size_t within = (size_t)(offset % VB_OVERLAY_CHUNK);
        size_t n = VB_OVERLAY_CHUNK - within < len ? VB_OVERLAY_CHUNK - within : len;
        vb_status st = VB_OK;
        uint8_t *chunk = chunk_for_write(o, index, &st);
        if (!chunk)
            return st;
        vb_memcpy(chunk + within, in, n);
        in += n;
        offset += n;
        len -= n;
    }
    return VB_OK;
}

/* Frees every chunk, the table and the overlay itself. */
static void overlay_close(void *ctx)
{
    struct overlay *o = ctx;
    if (!o)
        return;
    for (uint64_t i = 0; i < o->top_count; i++) {
        if (!o->top[i])
            continue;
        for (unsigned j = 0; j < LEAF_ENTRIES; j++)
            vb_free(o->top[i][j]);
        vb_free(o->top[i]);
    }
    vb_free(o->top);
    vb_free(o);
}

vb_status vb_overlay_open(vb_source *base, vb_source *out)
{
    struct overlay *o = vb_alloc(sizeof *o);
    if (!o)
        return VB_ERR_NO_MEMORY;
    o->base = base;
    o->size = base->size;
    uint64_t chunks = o->size / VB_OVERLAY_CHUNK + (o->size % VB_OVERLAY_CHUNK != 0);
    o->top_count = chunks / LEAF_ENTRIES + (chunks % LEAF_ENTRIES != 0);
    if (o->top_count == 0)
        o->top_count = 1;
    if (o->top_count > SIZE_MAX / sizeof(uint8_t **)) {
        vb_free(o);
        return VB_ERR_NO_MEMORY;
    }
    o->top = vb_alloc((size_t)o->top_count * sizeof(uint8_t **));
    if (!o->top) {
        vb_free(o);
        return VB_ERR_NO_MEMORY;
    }
    vb_memset(out, 0, sizeof *out);
    out->size = o->size;
    out->ctx = o;
    out->read = overlay_read;
    out->write = overlay_write;
    out->flush = NULL;
    out->close = overlay_close;
    return VB_OK;
}

uint64_t vb_overlay_bytes_used(const vb_source *overlay)
{
    const struct overlay *o = overlay->ctx;
    return o ? o->chunks_used * VB_OVERLAY_CHUNK : 0;
}

uint64_t vb_overlay_bytes_needed(const vb_source *overlay, uint64_t offset, uint64_t len)
{
    struct overlay *o = overlay->ctx;
    if (!o || len == 0 || offset >= o->size)
        return 0;
    if (len > o->size - offset)
        len = o->size - offset;
    uint64_t needed = 0;
    for (uint64_t i = offset / VB_OVERLAY_CHUNK; i <= (offset + len - 1) / VB_OVERLAY_CHUNK; i++)
        if (!chunk_at(o, i))
            needed += VB_OVERLAY_CHUNK;
    return needed;
}
