/* vhdtool: serves a block source to the kernel's NBD driver over one end of
 * a socket pair (the classic transmission phase: 28-byte requests, 16-byte
 * replies). Requests are taken in the order the kernel queued them (it keeps
 * several in flight on the socket); one buffer of VT_NBD_MAX_REQUEST bytes,
 * allocated up front, serves every request that is not spliced (see
 * nbd_splice.h), so the I/O path allocates nothing of its own. */
#ifndef VT_NBD_SERVER_H
#define VT_NBD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include "format/source.h"
#include "tools/nbd_splice.h"

/* The kernel's largest request: 65536 sectors (drivers/block/nbd.c). */
#define VT_NBD_MAX_REQUEST (32u << 20)

typedef struct vt_nbd_server {
    int fd;                   /* our end of the socket pair */
    vb_source *disk;          /* what is served */
    bool read_only;           /* writes answered EPERM */
    vb_source *overlay;       /* volatile mode: the overlay (for the cap), else NULL */
    uint64_t overlay_cap;     /* bytes; 0 = no cap */
    uint8_t *buffer;          /* VT_NBD_MAX_REQUEST bytes */
    vt_splice *splice;        /* payloads spliced where possible, or NULL */
    /* counters, for the exit line */
    uint64_t reads, writes, flushes, errors;
    bool told_full;           /* the "overlay full" line was logged */
} vt_nbd_server;

/* Serves requests until the kernel disconnects (NBD_CMD_DISC or end of
 * file). Returns 0 after a clean disconnect, -errno on a socket error or a
 * request the protocol does not allow (bad magic, oversized request). */
int vt_nbd_serve(vt_nbd_server *s);

#endif
