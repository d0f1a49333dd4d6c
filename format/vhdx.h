/* vhdboot: VHDX (MS-VHDX) beside VHD, behind the same layer and chain API.
 *
 * vb_layer_open recognises a VHDX by its "vhdxfile" identifier and hands it to
 * the VHDX code; the layer then answers vb_layer_source / vb_layer_info like a
 * VHD layer (type from the File Parameters flags, disk_size = VirtualDiskSize,
 * uuid = DataWriteGuid, parent_uuid = parent_linkage, sector_size = logical
 * sector size). What only a VHDX has is in vb_vhdx_info (vb_layer_vhdx).
 *
 * Layout of the VHDX part of format/ (one concern per file):
 *   vhdx_struct.h  packed on-disk structs with offset asserts
 *   vhdx_crc.c     CRC-32C (Castagnoli), GUID helpers
 *   vhdx_header.c  file identifier, the two headers, the two region tables
 *   vhdx_header_write.c  updating both headers in a crash-safe order
 *   vhdx_meta.c    metadata table, known items, parent locator
 *   vhdx_log.c     log search, in-memory replay view, on-disk replay
 *   vhdx_layer.c   open, BAT validation, coalesced reads, presence queries
 *   vhdx_check.c   structural check, overlapping blocks
 *   vhdx_write.c   writes: block allocation order, first-write GUIDs
 *   vhdx_locator_write.c  set-parent: a new parent locator item
 *   vhdx_create.c  creating fixed/dynamic/differencing VHDX */
#ifndef VB_VHDX_H
#define VB_VHDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vhd.h"

/* 16 stored GUID bytes from the textual fields a-b-c-d: the first three
 * fields little-endian, the last 8 bytes as written. */
#define VB_GUID_BYTES(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                            \
    { (uint8_t)(a), (uint8_t)((a) >> 8), (uint8_t)((a) >> 16), (uint8_t)((a) >> 24), (uint8_t)(b),         \
      (uint8_t)((b) >> 8), (uint8_t)(c), (uint8_t)((c) >> 8), d0, d1, d2, d3, d4, d5, d6, d7 }

/* Payload BAT states counted at open (index = state 0..7). */
#define VB_VHDX_STATES 8u

/* Parent locator keys of a differencing VHDX (empty strings when absent). */
typedef struct vb_vhdx_parent {
    bool has_linkage, has_linkage2;
    uint8_t linkage[16];          /* parent_linkage as stored GUID bytes */
    uint8_t linkage2[16];
    char relative_path[VB_PATH_MAX];
    char volume_path[VB_PATH_MAX];
    char absolute_win32_path[VB_PATH_MAX];
} vb_vhdx_parent;

/* What open found in a VHDX file (after any in-memory log replay). */
typedef struct vb_vhdx_info {
    char creator[256];            /* file identifier creator, UTF-8 */
    bool header_valid[2];
    uint64_t header_seq[2];
    unsigned current_header;      /* 0 or 1 */
    uint8_t file_write_guid[16];
    uint8_t data_write_guid[16];
    uint8_t log_guid[16];         /* of the header as found (before replay) */
    uint16_t version, log_version;
    uint32_t log_length;
    uint64_t log_offset;
    bool region_valid[2];
    uint64_t bat_offset;
    uint32_t bat_length;
    uint64_t meta_offset;
    uint32_t meta_length;
    uint32_t block_size;
    bool leave_block_allocated, has_parent;
    uint64_t virtual_size;
    uint32_t logical_sector_size, physical_sector_size;
    uint8_t page83[16];           /* Virtual Disk ID */
    uint32_t chunk_ratio;
    uint64_t data_blocks, bitmap_blocks, bat_entries;
    uint64_t payload_states[VB_VHDX_STATES];
    uint64_t bitmaps_present;
    /* log */
    bool log_dirty;               /* LogGuid was not zero */
    bool log_replayed_in_memory;  /* read-only open: reads see the replayed file */
    bool log_replayed_on_disk;    /* writable open: replayed and the log cleared */
    unsigned log_entries_replayed;
    uint64_t log_head_seq;
    vb_vhdx_parent parent;
} vb_vhdx_info;

/* CRC-32C (Castagnoli, reflected, init and final xor 0xFFFFFFFF) of len
 * bytes, with the 4 bytes at skip (if skip < len) counted as zero. */
uint32_t vb_crc32c(const uint8_t *buf, size_t len, size_t skip);
/* Continues a CRC-32C: crc is a previous result (0 to start). */
uint32_t vb_crc32c_update(uint32_t crc, const uint8_t *buf, size_t len);
/* Formats 16 stored GUID bytes as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with NUL). */
void vb_guid_format(const uint8_t guid[16], char out[37]);
/* Parses a GUID text (braces optional) into stored bytes; false if malformed. */
bool vb_guid_parse(const char *text, uint8_t out[16]);
bool vb_guid_is_zero(const uint8_t guid[16]);

/* Whether the first 8 bytes of a file are the VHDX identifier. */
bool vb_vhdx_sniff(const uint8_t first8[8]);
/* The VHDX facts of a layer, or NULL when the layer is a VHD. */
const vb_vhdx_info *vb_layer_vhdx(const vb_layer *layer);

/* Gives a writable VHDX layer the FileWriteGuid and DataWriteGuid (32
 * bytes) its first write puts into the headers (without them, new values
 * are derived from the old ones). No effect on a VHD layer. */
void vb_vhdx_set_write_guids(vb_layer *layer, const uint8_t guids[32]);

/* Whether layer is a VHDX whose whole virtual disk is one run of its file
 * (no parent, every block FULLY_PRESENT and back to back, no log replayed
 * in memory: the file's bytes are the disk's), and where in the file that
 * run starts (*offset). False for a VHD. */
bool vb_vhdx_linear_data(const vb_layer *layer, uint64_t *offset);

/* Points a differencing VHDX at its moved parent: a new parent locator
 * (parent_linkage/parent_linkage2 kept, relative_path and absolute_win32_path
 * replaced, volume_path dropped) in free metadata space, then the table
 * entry; a new FileWriteGuid first. file must be writable and the log empty. */
vb_status vb_vhdx_set_parent_paths(vb_source *file, const char *name, const char *relative, const char *absolute,
                                   const uint8_t new_file_write_guid[16], vb_diag *diag);

/* ---- creation ---- */
typedef struct vb_vhdx_create_params {
    enum vb_disk_type type;       /* fixed, dynamic or differencing */
    uint64_t size;                /* bytes, multiple of the logical sector size (diff: the parent's) */
    uint32_t block_size;          /* 0 = 32 MiB (fixed/dynamic), 2 MiB (differencing) */
    uint32_t logical_sector_size; /* 512 or 4096 (0 = 512) */
    uint32_t physical_sector_size;/* 512 or 4096 (0 = 4096) */
    uint32_t log_size;            /* bytes, multiple of 1 MiB (0 = 1 MiB) */
    const uint8_t *guids;         /* 5 x 16 bytes: file write, data write, page 83, creator seed, spare.
                                   * NULL = caller filled nothing: creation fails (the core has no randomness) */
    /* differencing only */
    const vb_vhdx_info *parent;   /* the parent's VHDX facts (data write GUID, sizes) */
    const char *parent_relative;  /* relative_path, e.g. ".\base.vhdx" */
    const char *parent_absolute;  /* absolute_win32_path, e.g. "C:\vms\base.vhdx" (may be NULL) */
} vb_vhdx_create_params;

/* Writes a new VHDX into dst (an empty, writable, growable source). Fixed
 * images get every block allocated; the caller's source must read zeros where
 * nothing was written. Returns the status with diag filled. */
vb_status vb_vhdx_create(vb_source *dst, const vb_vhdx_create_params *params, vb_diag *diag);

/* Replays a dirty log onto the file and clears the log GUID (vhdtool check
 * --repair). file must be writable. *replayed = entries applied (0 when the
 * log was clean). */
vb_status vb_vhdx_repair_log(vb_source *file, const char *name, unsigned *replayed, vb_diag *diag);

#endif
