/* vhdboot: byte window over a whole-block device (see disk_window.h). */
#include <stdbool.h>
#include "disk_window.h"
#include "format/bytes.h"
#include "format/platform.h"

struct disk_window {
    vb_block_device dev;
    uint64_t size;          /* bytes in the window */
    uint8_t *bounce;        /* bounce_len bytes aligned to dev.io_align */
    size_t bounce_len;      /* a whole number of blocks */
    void *bounce_alloc;     /* what vb_alloc returned (bounce may point inside) */
};

/* Whether buf sits where the device can take it. */
static bool buf_aligned(const struct disk_window *w, const void *buf)
{
    return w->dev.io_align <= 1 || ((uintptr_t)buf & (w->dev.io_align - 1)) == 0;
}

/* Whether [offset, offset+len) lies in the window (no overflow). */
static bool in_window(const struct disk_window *w, uint64_t offset, size_t len)
{
    return offset <= w->size && len <= w->size - offset;
}

/* Reads len bytes at offset (any alignment); returns the device's status. */
static vb_status window_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct disk_window *w = ctx;
    uint32_t bs = w->dev.block_size;
    uint8_t *out = buf;
    if (!in_window(w, offset, len))
        return VB_ERR_OUT_OF_RANGE;
    while (len) {
        uint64_t lba = w->dev.first_block + offset / bs;
        size_t skip = (size_t)(offset % bs);
        vb_status st;
        if (skip == 0 && len >= bs && buf_aligned(w, out)) {
            size_t n = len - len % bs; /* straight into the caller's buffer */
            if ((st = w->dev.read_blocks(w->dev.ctx, lba, out, n)) != VB_OK)
                return st;
            out += n;
            offset += n;
            len -= n;
            continue;
        }
        /* through the bounce buffer: as many blocks as the rest spans, at most a bufferful */
        uint64_t span = ((uint64_t)skip + len + bs - 1) / bs * bs;
        size_t n = span < w->bounce_len ? (size_t)span : w->bounce_len;
        if ((st = w->dev.read_blocks(w->dev.ctx, lba, w->bounce, n)) != VB_OK)
            return st;
        size_t take = n - skip < len ? n - skip : len;
        vb_memcpy(out, w->bounce + skip, take);
        out += take;
        offset += take;
        len -= take;
    }
    return VB_OK;
}

/* Writes len bytes at offset (any alignment): whole blocks straight or
 * through the bounce buffer, a partial block by reading, patching and
 * writing it back. Returns the device's status. */
static vb_status window_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct disk_window *w = ctx;
    uint32_t bs = w->dev.block_size;
    const uint8_t *in = buf;
    if (!in_window(w, offset, len))
        return VB_ERR_OUT_OF_RANGE;
    while (len) {
        uint64_t lba = w->dev.first_block + offset / bs;
        size_t skip = (size_t)(offset % bs);
        size_t n;
        vb_status st;
        if (skip == 0 && len >= bs && buf_aligned(w, in)) {
            n = len - len % bs;
            st = w->dev.write_blocks(w->dev.ctx, lba, in, n);
        } else if (skip == 0 && len >= bs) {
            size_t whole = len - len % bs;
            n = whole < w->bounce_len ? whole : w->bounce_len;
            vb_memcpy(w->bounce, in, n);
            st = w->dev.write_blocks(w->dev.ctx, lba, w->bounce, n);
        } else {
            n = bs - skip < len ? bs - skip : len; /* one partial block */
            st = w->dev.read_blocks(w->dev.ctx, lba, w->bounce, bs);
            if (st == VB_OK) {
                vb_memcpy(w->bounce + skip, in, n);
                st = w->dev.write_blocks(w->dev.ctx, lba, w->bounce, bs);
            }
        }
        if (st != VB_OK)
            return st;
        in += n;
        offset += n;
        len -= n;
    }
    return VB_OK;
}

static vb_status window_flush(void *ctx)
{
    struct disk_window *w = ctx;
    return w->dev.flush ? w->dev.flush(w->dev.ctx) : VB_OK;
}

/* Releases the window and, through its close, the device's context. */
static void window_close(void *ctx)
{
    struct disk_window *w = ctx;
    if (w->dev.close)
        w->dev.close(w->dev.ctx);
    vb_free(w->bounce_alloc);
    vb_free(w);
}

vb_status vb_disk_window_open(const vb_block_device *dev, uint64_t size, vb_source *out)
{
    uint32_t bs = dev->block_size, align = dev->io_align > 1 ? dev->io_align : 1;
    if (bs == 0 || (align & (align - 1)) != 0 || dev->first_block > UINT64_MAX / bs ||
        size > UINT64_MAX - dev->first_block * bs) {
        if (dev->close)
            dev->close(dev->ctx);
        return VB_ERR_INVALID_ARG;
    }
    struct disk_window *w = vb_alloc(sizeof *w);
    size_t bounce_len = (VB_DISK_WINDOW_BOUNCE + bs - 1) / bs * bs;
    void *bounce = w ? vb_alloc(bounce_len + align - 1) : NULL;
    if (!bounce) {
        vb_free(w);
        if (dev->close)
            dev->close(dev->ctx);
        return VB_ERR_NO_MEMORY;
    }
    w->dev = *dev;
    w->size = size;
    w->bounce_alloc = bounce;
    w->bounce = (uint8_t *)(((uintptr_t)bounce + align - 1) & ~(uintptr_t)(align - 1));
    w->bounce_len = bounce_len;
    *out = (vb_source){
        .size = size,
        .ctx = w,
        .read = window_read,
        .write = dev->write_blocks ? window_write : NULL,
        .flush = dev->write_blocks ? window_flush : NULL,
        .close = window_close,
    };
    return VB_OK;
}
