/* vhdboot: a volatile write overlay over a block source.
 *
 * Writes land in memory (64 KiB chunks, allocated on first write and filled
 * from the base); reads take written chunks from memory and the rest from the
 * base. The base is never written. Used for `write volatile` boot entries. */
#ifndef VB_OVERLAY_H
#define VB_OVERLAY_H

#include <stddef.h>
#include <stdint.h>
#include "source.h"

#define VB_OVERLAY_CHUNK (64u * 1024u)

/* Builds in *out a source of base->size bytes that reads base and keeps
 * writes in memory. base must outlive the overlay; closing the overlay frees
 * its memory only. Returns VB_ERR_NO_MEMORY if the chunk table cannot be made. */
vb_status vb_overlay_open(vb_source *base, vb_source *out);
/* Bytes of memory the overlay's written chunks use (for messages and tests). */
uint64_t vb_overlay_bytes_used(const vb_source *overlay);
/* Bytes of new chunks a write of len bytes at offset would allocate (chunks
 * of the range not written before), so a caller can cap the overlay. */
uint64_t vb_overlay_bytes_needed(const vb_source *overlay, uint64_t offset, uint64_t len);

#endif
