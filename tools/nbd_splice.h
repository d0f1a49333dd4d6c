/* vhdtool: NBD payloads moved with splice() instead of copied through a
 * buffer. A read reply's data goes from the layer files' page cache into a
 * pipe as page references, then into the socket (an AF_UNIX socket takes
 * page references too), so the only copy left is the kernel's into the
 * bio, as with a loop device; zeros come from one zero page set mapped with
 * vmsplice. A write's data goes from the socket through the pipe into the
 * top layer's file when every byte of it lands in already allocated, marked
 * sectors (the core would write exactly those file bytes and nothing else),
 * or, with write-back on the top layer, into blocks the core allocates for
 * it before and sectors it marks after (vt_splice_place_write); through an
 * O_DIRECT descriptor where the file system allows one. Everything else
 * (VHDX layers, the volatile overlay, a write that needs a new block or
 * bitmap bits without write-back, a request larger than half the pipe,
 * reads below 64 KiB, writes below 64 KiB, and every read when the thread
 * may not use SCHED_FIFO, see vt_splice_send_head) goes through the core
 * and the buffer as before. */
#ifndef VT_NBD_SPLICE_H
#define VT_NBD_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/vhd.h"

/* Largest number of file/zero pieces a spliced request may consist of. */
#define VT_SPLICE_MAX_SEGS 64u

/* One piece of a request: fd < 0 means zeros. */
typedef struct vt_splice_seg {
    int fd;
    uint64_t at;  /* file offset */
    uint64_t len;
} vt_splice_seg;

/* The splice state of a server: the chain top to base with each layer's
 * file descriptor, and one pipe. */
typedef struct vt_splice {
    unsigned depth;                        /* 0: splice is off */
    vb_layer *layers[VB_MAX_CHAIN_DEPTH];
    int fds[VB_MAX_CHAIN_DEPTH];
    int direct_fd;                         /* the top layer's file opened O_DIRECT, or -1 */
    bool top_writable;                     /* writes may be spliced into layers[0] */
    int pipe_r, pipe_w;
    size_t max;                            /* largest request spliced (half the pipe) */
    size_t min;                            /* smallest read spliced (below it a copy is cheaper;
                                            * SIZE_MAX when SCHED_FIFO is refused) */
    size_t wmin;                           /* smallest write spliced */
    uint64_t reads, writes;                /* requests that took the splice path */
    uint64_t next;                         /* where the last read ended */
    uint64_t ahead;                        /* prefetch started up to here (0: none) */
    unsigned streak;                       /* sequential reads in a row (at most 4) */
} vt_splice;

/* Sets sp up for the layers (top first; each must have a host file): makes
 * the pipe and grows it. Returns 0, or -errno (splice stays off). */
int vt_splice_init(vt_splice *sp, vb_layer *const *layers, unsigned depth, bool top_writable);
/* Closes the pipe. */
void vt_splice_close(vt_splice *sp);
/* Maps a read of len bytes at from through the chain into segs (at most
 * VT_SPLICE_MAX_SEGS, neighbours merged). Returns the count, 0 when the
 * request cannot be spliced (too many pieces, a VHDX layer, an error: the
 * core's read will report it). */
unsigned vt_splice_map_read(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs);
/* Maps a write into the top layer's file when all of it lands in marked
 * sectors of allocated blocks. Returns the count, 0 when it cannot. */
unsigned vt_splice_map_write(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs);
/* With write-back on the top layer: maps a write into the top layer's file
 * where it lands in unallocated blocks or unmarked sectors, allocating
 * blocks as needed (vb_layer_place); after the data is in the file the
 * caller marks the range (vb_layer_mark). Returns the count, 0 when it
 * cannot (the core writes the request then). */
unsigned vt_splice_place_write(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs);
/* Fills the pipe with a read's segments. Returns 0; a positive errno for
 * the reply; or -1 when the pipe is too small for them (the core should
 * copy the request instead). On failure the pipe is drained again. */
int vt_splice_fill(vt_splice *sp, const vt_splice_seg *segs, unsigned count);
/* Sends a read reply's 16-byte header, the calling thread raised to
 * SCHED_FIFO until vt_splice_to_socket has queued the data: AF_UNIX wakes
 * the reader for every page a splice appends, and the kernel's NBD receive
 * worker (a high-priority kworker) would otherwise preempt the server after
 * each page. Returns 0 or -errno (priority restored then). */
int vt_splice_send_head(vt_splice *sp, int sock, const uint8_t head[16]);
/* Moves len bytes from the pipe into the socket, then restores the normal
 * priority. Returns 0 or -errno (the connection is broken then). */
int vt_splice_to_socket(vt_splice *sp, int sock, uint64_t len);
/* Moves a write's payload from the socket into the file segments. Returns
 * 0, a positive errno for the reply when a file write failed (the rest of
 * the payload is consumed), or -errno when the socket broke. */
int vt_splice_from_socket(vt_splice *sp, int sock, const vt_splice_seg *segs, unsigned count);
/* After a read of len bytes at from (any path): when it continued the
 * previous read and is at least 64 KiB, starts the page-cache reads of the
 * next len bytes in the layer files, up to 4 x len as the sequential run
 * goes on, less what an earlier call started
 * (readahead(), which does not wait), so
 * that the disk works while the reply travels and the next request comes:
 * a file's own readahead window (128 KiB by default) is far smaller than a
 * 1 MiB request, and a chain's reads alternate between files. */
void vt_splice_prefetch(vt_splice *sp, uint64_t from, uint64_t len, uint64_t disk_size);

#endif
