/* vhdboot: a byte-addressed window over a device that only takes whole,
 * aligned blocks (a firmware BlockIO): the host disk read and written
 * straight, below the firmware's partition and DiskIO layers.
 *
 * Reads and writes may start at any byte and have any length. Parts that
 * are whole blocks at a buffer the device can take go to the device as one
 * request; the rest goes through an aligned bounce buffer (a partial block
 * is read, patched and written back). The device gets requests as large as
 * the caller's: firmware block drivers split them as their hardware needs
 * (the UEFI BlockIO has no transfer limit; edk2's DiskIO passes aligned
 * requests through whole, too). */
#ifndef VB_FS_DISK_WINDOW_H
#define VB_FS_DISK_WINDOW_H

#include <stdint.h>
#include "format/source.h"

typedef struct vb_block_device {
    void *ctx;
    uint32_t block_size;    /* bytes per block (> 0) */
    uint32_t io_align;      /* buffer alignment the device needs: 0 or 1 = any, else a power of two */
    uint64_t first_block;   /* the window's first block on the device */
    /* Reads len bytes (whole blocks) at block lba into buf (io_align-aligned). */
    vb_status (*read_blocks)(void *ctx, uint64_t lba, void *buf, size_t len);
    /* Writes likewise; NULL when the device is read-only. */
    vb_status (*write_blocks)(void *ctx, uint64_t lba, const void *buf, size_t len);
    /* Makes written blocks durable; NULL when there is nothing to do. */
    vb_status (*flush)(void *ctx);
    /* Releases ctx when the window is closed; NULL when the owner does. */
    void (*close)(void *ctx);
} vb_block_device;

/* Bytes of the bounce buffer (rounded up to whole blocks). */
#define VB_DISK_WINDOW_BOUNCE (64u * 1024u)

/* Opens the size bytes of dev from its block first_block on as a block
 * source (*dev is copied; its close runs when the source is closed, also
 * when this fails). Returns VB_ERR_INVALID_ARG for a block size of 0, an
 * io_align that is not a power of two, or a window past 2^64 bytes;
 * VB_ERR_NO_MEMORY. */
vb_status vb_disk_window_open(const vb_block_device *dev, uint64_t size, vb_source *out);

#endif
