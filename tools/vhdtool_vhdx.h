/* vhdtool: VHDX parts of the commands (info, check --repair, create, convert output). */
#ifndef VT_VHDTOOL_VHDX_H
#define VT_VHDTOOL_VHDX_H

#include <stdbool.h>
#include <stdint.h>
#include "format/vhdx.h"
#include "tools/vhdtool.h"

/* Prints the VHDX facts of a layer as text (after the "file:" line). */
void vt_vhdx_print_text(vb_layer *layer);
/* Prints "format" (and for a VHDX a "vhdx" object) as JSON members, each
 * followed by ",\n". */
void vt_vhdx_print_json(vb_layer *layer);
/* Replays the dirty log of a VHDX into the file. Returns an exit code;
 * prints what it did. *was_vhdx tells whether file is a VHDX at all. */
int vt_vhdx_repair(const char *file, bool *was_vhdx);
/* Creates a fixed or dynamic VHDX. size is rounded to the sector size by the
 * caller. block_size/sector_size 0 = defaults. Returns an exit code. */
int vt_vhdx_create(const char *file, enum vb_disk_type type, uint64_t size, uint32_t block_size,
                   uint32_t sector_size);
/* Creates a differencing VHDX child of the VHDX parent_path. Returns an exit code. */
int vt_vhdx_create_diff(const char *parent_path, const char *file);
/* Creates a dynamic (VT_OUT_VHDX) or fixed (VT_OUT_VHDX_FIXED) VHDX output for convert and opens it writable in out
 * (out->file, out->layer, out->block_size). Returns an exit code. */
int vt_vhdx_output_create(vt_output *out, const vb_vhd_info *in_info);
/* set-parent for a VHDX CHILD: checks NEWPARENT's DataWriteGuid and size,
 * rewrites the parent locator, verifies the chain. *is_vhdx is false (and
 * nothing done) when CHILD is not a VHDX. Returns an exit code. */
int vt_vhdx_set_parent(const char *child, const char *parent, bool *is_vhdx);
/* Whether a path names a VHDX by its extension (.vhdx / .avhdx). */
bool vt_vhdx_name(const char *path);

#endif
