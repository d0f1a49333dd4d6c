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

#include <stdint.h>

#define VB_ZERO_FILL_UNIT 512u

/* Makes the n bytes at p zero (p 8-byte aligned), storing only into the
 * VB_ZERO_FILL_UNIT-byte sectors that are not zero already (and, in a
 * shorter tail, only into nonzero bytes). Returns the number of bytes it
 * stored (0 when all were zero). */
uint64_t vb_zero_fill(uint8_t *p, uint64_t n);

#endif
