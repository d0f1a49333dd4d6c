/* vhdboot: making memory zero while writing as little of it as possible.
 *
 * `write ram` must hand the OS zeros wherever the chain has no data. Memory
 * the firmware gives out is often zero already (a virtual machine's memory
 * never touched since power-on, a server's memory scrubbed at start), and a
 * first write to such memory can cost far more than reading it (the host
 * must back the page; under QEMU's TCG the first store to a page takes a
 * slow path). So each 512-byte sector is read first and written only when
 * it holds a nonzero byte: the reading is the proof, nothing is assumed. */
#ifndef VB_ZERO_FILL_H
#define VB_ZERO_FILL_H

#include <stdbool.h>
#include <stdint.h>

#define VB_ZERO_FILL_UNIT 512u

/* Makes the n bytes at p zero (p 8-byte aligned), storing only into the
 * VB_ZERO_FILL_UNIT-byte sectors that are not zero already (and, in a
 * shorter tail, only into nonzero bytes). Returns the number of bytes it
 * stored (0 when all were zero). */
uint64_t vb_zero_fill(uint8_t *p, uint64_t n);

/* A byte range of a disk (or of its memory image). */
typedef struct vb_span {
    uint64_t offset, length;
} vb_span;

/* Writes to out (room for max) the gaps between the n data ranges (sorted,
 * disjoint, inside [0, size)) and after the last one, up to size, each cut
 * into pieces of at most piece bytes (piece a multiple of
 * VB_ZERO_FILL_UNIT). Returns the number of pieces, or max + 1 when they
 * do not fit (out then holds the first max). */
uint64_t vb_holes_split(const vb_span *ranges, uint64_t n, uint64_t size, uint64_t piece, vb_span *out, uint64_t max);

/* Holes to make zero, shared by several processors: each claims the next
 * piece with an atomic add, so every piece is done exactly once. */
typedef struct vb_zero_job {
    uint8_t *mem;            /* the memory image the pieces' offsets are in */
    const vb_span *pieces;
    uint64_t count;
    uint64_t next;           /* shared: the next piece to claim */
    uint64_t stored;         /* shared: bytes written (vb_zero_fill's counts) */
    uint64_t done;           /* shared: bytes of the pieces finished */
    uint32_t stop;           /* shared: nonzero makes every worker stop */
} vb_zero_job;

/* Claims one piece of job and makes it zero. Returns true when it did one
 * (call again), false when none is left or stop is set. Any number of
 * processors may call it at once. */
bool vb_zero_job_step(vb_zero_job *job);

#endif
