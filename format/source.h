/* vhdboot: the block-source interface every layer speaks.
 *
 * A block source is a byte-addressed device: a host disk, a partition, a file
 * on a host volume, one VHD layer or a whole chain. Offsets and lengths are in
 * bytes; layers that need sector alignment check it themselves. */
#ifndef VB_SOURCE_H
#define VB_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct vb_source vb_source;
struct vb_source {
    uint64_t size; /* current size in bytes; a growable file updates it on write */
    void *ctx;
    /* Read len bytes at offset; a read past size is VB_ERR_OUT_OF_RANGE. */
    vb_status (*read)(void *ctx, uint64_t offset, void *buf, size_t len);
    /* Write len bytes at offset; NULL when the source is read-only.
     * Growable sources (host files) accept writes past size and extend. */
    vb_status (*write)(void *ctx, uint64_t offset, const void *buf, size_t len);
    /* Make written data durable; NULL means nothing to do. */
    vb_status (*flush)(void *ctx);
    /* Release ctx; NULL when the owner releases it some other way. */
    void (*close)(void *ctx);
};

/* Reads through a source, range-checked against its size. Returns the status. */
vb_status vb_source_read(vb_source *src, uint64_t offset, void *buf, size_t len);
/* Writes through a source; VB_ERR_WRITE_PROTECTED if it has no write. */
vb_status vb_source_write(vb_source *src, uint64_t offset, const void *buf, size_t len);
/* Flushes a source if it can be flushed. */
vb_status vb_source_flush(vb_source *src);
/* Closes a source (calls close if set) and clears it. */
void vb_source_close(vb_source *src);

#endif
