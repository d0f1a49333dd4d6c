/* vhdboot: the ranges of a VHD chain's disk that hold data.
 *
 * A sector of the flattened disk holds data when some layer of the chain has
 * it: a fixed layer has every sector, a dynamic layer every sector of its
 * allocated blocks, a differencing layer the sectors whose bitmap bit is set
 * in its allocated blocks (exactly what the layer's reads use). Every other
 * sector reads as zeros, so copying the disk into zeroed memory needs only
 * these ranges (the RAM-disk load of `write ram`). */
#ifndef VB_DATA_WALK_H
#define VB_DATA_WALK_H

#include <stdint.h>
#include "status.h"
#include "vhd.h"

/* Called once per range: byte offset and length, both inside the disk. A
 * status other than VB_OK stops the walk and is returned by it. */
typedef vb_status (*vb_data_fn)(void *ctx, uint64_t offset, uint64_t length);

/* Walks layers[0..count-1] (top first; layer i's absent sectors come from
 * layer i+1), calling fn for each maximal range of data in ascending order:
 * ranges never overlap or touch, start on a sector and end on a sector or at
 * the disk's end (layers[0]'s size). Returns VB_OK, the status of a failed
 * bitmap read, or the first status of fn other than VB_OK. */
vb_status vb_data_walk(vb_layer *const *layers, unsigned count, vb_data_fn fn, void *ctx);

/* vb_data_walk over every layer of chain. */
vb_status vb_chain_data_walk(vb_chain *chain, vb_data_fn fn, void *ctx);

/* Sets *bytes to the total length of chain's data ranges. Returns the walk's status. */
vb_status vb_chain_data_bytes(vb_chain *chain, uint64_t *bytes);

#endif
