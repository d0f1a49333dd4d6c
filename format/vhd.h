/* vhdboot: public API of the VHD core — layers, chains, creation.
 *
 * Layout of format/ (one concern per file; tests/host/layout.sh checks that
 * this list names exactly the files there):
 *   vhd.h                  this API
 *   vhd_struct.h           packed on-disk structs with offset asserts
 *   vhd_internal.h         helpers shared by the vhd_*.c files (checksum, header parse)
 *   vhd_layer_internal.h   the layer object, BAT and bitmap helpers, block spans
 *   vhd_footer.c           footer parse/validate/checksum/size rule, header parse
 *   vhd_chs.c              CHS geometry (the VHD specification's algorithm)
 *   vhd_layer.c            one VHD file as a block source (read coalescing, BAT, bitmaps)
 *   vhd_write.c            writes and crash-consistent block allocation
 *   vhd_write_back.c       write-back: bitmap and BAT writes kept until the next flush
 *   vhd_check.c            structural validation of one layer (vhdtool check)
 *   vhd_overlap.c          metadata and block areas that must not overlap
 *   vhd_locator.c          parent locator decoding, lexical path resolution
 *   vhd_chain_candidates.c which parent files a differencing layer tries, in order
 *   vhd_chain.c            opening a file and its whole parent chain
 *   win_locator.c          whether Windows' own VHD driver finds a parent by its locators
 *   vhd_create.c           creating fixed/dynamic/differencing images
 *   overlay.h, overlay.c   the volatile mode's RAM overlay over a block source
 *   source.h, source.c     the block source interface every layer implements
 *   bytes.h, bytes.c       endian access, memory and ASCII string helpers
 *   diag.h, diag.c         the diagnostic and its printf-subset formatter
 *   status.h, status.c     the status enum and its messages
 *   utf.h, utf.c           UTF-8 / UTF-16 conversion
 *   uuid.h, uuid.c         UUIDs as text
 *   platform.h             hooks the platform provides (allocation)
 *   vhdx.h                 VHDX (MS-VHDX) API beside VHD's
 *   vhdx_struct.h          packed VHDX on-disk structs with offset asserts
 *   vhdx_internal.h        helpers shared by the vhdx_*.c files
 *   vhdx_crc.c             CRC-32C, GUID text, the file identifier
 *   vhdx_header.c          the two headers and region tables (reading)
 *   vhdx_header_write.c    header updates (sequence, write GUIDs)
 *   vhdx_meta.c            metadata region items and parent locator
 *   vhdx_log.c             log replay (in memory, or on disk before a write)
 *   vhdx_layer.c           one VHDX file as a block source (BAT, sector bitmaps)
 *   vhdx_write.c           VHDX writes and crash-consistent block allocation
 *   vhdx_check.c           structural validation of one VHDX (vhdtool check)
 *   vhdx_create.c          creating fixed/dynamic/differencing VHDX
 *   vhdx_locator_write.c   rewriting a VHDX parent locator (set-parent)
 *   data_walk.h, data_walk.c the ranges of a chain that hold data (RAM-disk loading)
 *   progress.h, progress.c percent, MiB/s and time left of a long load
 *   zero_fill.h, zero_fill.c making memory zero, writing only what is not (RAM-disk holes)
 *   handoff.h, handoff.c   the VhdbootDisk record and vhdboot.disk= text (loader -> OS)
 *   regf.h, regf_struct.h  registry hive (regf) API and on-disk cells
 *   regf_read.c            hostile-input-safe hive reader
 *   regf_write.c           hive writer
 *   bcd.h                  BCD store API (Windows' boot configuration)
 *   bcd_build.c            the BCD vhdboot generates for Windows in a VHD
 *   bcd_device.c           BCD device element encodings (VHD, partition)
 *   bcd_read.c             decoding a BCD store's objects and elements
 *   bcd_text.c             BCD element names and values as text
 *   disk_id.h, disk_id.c   a host partition's identity (GPT GUIDs or MBR signature)
 *
 * Paths inside the core are UTF-8, volume-absolute, with '\' separators,
 * e.g. "\vms\lab\child.vhd". The platform's opener maps them to real files. */
#ifndef VB_VHD_H
#define VB_VHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"
#include "source.h"

#define VB_SECTOR 512u
#define VB_MAX_DISK_SIZE (2040ULL << 30)   /* 2040 GiB */
#define VB_MAX_CHAIN_DEPTH 32u
#define VB_PATH_MAX 1024u

enum vb_disk_type { VB_DISK_FIXED = 2, VB_DISK_DYNAMIC = 3, VB_DISK_DIFF = 4 };
/* Container format of a layer (vb_layer_open tells them apart by content). */
enum vb_image_format { VB_FORMAT_VHD = 0, VB_FORMAT_VHDX = 1 };

typedef struct vb_geometry {
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
} vb_geometry;

/* Everything parsed from a footer (+ header for dynamic/differencing). */
typedef struct vb_vhd_info {
    enum vb_disk_type type;
    enum vb_image_format format;
    uint32_t sector_size;          /* logical sector: 512 for VHD, 512 or 4096 for VHDX */
    uint32_t physical_sector_size; /* 512 for VHD */
    uint64_t disk_size;        /* bytes the disk exposes (after the creator size rule) */
    uint64_t current_size;     /* footer field */
    uint64_t original_size;    /* footer field */
    vb_geometry geometry;
    char creator_app[5];       /* NUL-terminated, raw 4 bytes */
    uint32_t creator_version;
    uint32_t creator_host_os;
    uint32_t timestamp;
    uint8_t uuid[16];          /* raw footer bytes, never reformatted */
    uint8_t saved_state;
    bool short_footer;         /* old 511-byte footer */
    bool footer_from_copy;     /* trailing footer damaged, copy at 0 used (read-only open) */
    bool footer_repaired;      /* writable open: the damaged trailing footer was rewritten from the copy */
    uint64_t footer_offset;    /* where the trailing footer lives */
    /* dynamic / differencing only */
    uint64_t header_offset;
    uint64_t bat_offset;
    uint32_t bat_entries;      /* max table entries */
    uint32_t block_size;       /* bytes */
    uint32_t bitmap_size;      /* bytes, rounded to 512 */
    uint32_t allocated_blocks;
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    char parent_name[VB_PATH_MAX]; /* UTF-8 of the header's UTF-16BE name */
} vb_vhd_info;

/* One decoded parent locator. */
typedef struct vb_locator {
    char code[5];              /* "W2ru", "W2ku", "MacX", ... */
    uint32_t data_space;       /* as stored */
    uint64_t space_bytes;      /* data_space in bytes (vb_locator_space_bytes) */
    uint32_t data_length;
    uint64_t data_offset;
    char path[VB_PATH_MAX];    /* decoded, UTF-8; empty when undecodable */
} vb_locator;

typedef struct vb_layer vb_layer;

enum vb_open_flags {
    VB_OPEN_WRITABLE = 1u << 0,   /* allow writes to this layer (top layer only) */
    VB_OPEN_USE_FOOTER_COPY = 1u << 1, /* read-only opens: accept a damaged trailing footer if the copy at 0
                                        * is intact (a writable open does so only for a footer missing
                                        * altogether, and rewrites it) */
};

/* Opens one VHD file over its file source. name is used in messages only.
 * Does not resolve the parent. On success *out owns nothing of file: the
 * caller keeps file alive and closes it after vb_layer_close. */
vb_status vb_layer_open(vb_source *file, const char *name, unsigned flags, vb_layer **out, vb_diag *diag);
/* Sets the source that reads of absent sectors of a differencing layer go to
 * (without one, such reads fail with VB_ERR_PARENT_NOT_FOUND). */
void vb_layer_set_parent(vb_layer *layer, vb_source *parent);
/* The layer as a block source (size = disk size). Valid until vb_layer_close.
 * Reads and writes accept any byte offset and length (partial sectors are
 * read-modify-written); write is NULL unless opened VB_OPEN_WRITABLE. */
vb_source *vb_layer_source(vb_layer *layer);
const vb_vhd_info *vb_layer_info(const vb_layer *layer);
/* The file source the layer was opened over (as given to vb_layer_open). */
vb_source *vb_layer_file(vb_layer *layer);
/* Number of parent locators, and the i-th decoded one. */
unsigned vb_layer_locator_count(const vb_layer *layer);
const vb_locator *vb_layer_locator(const vb_layer *layer, unsigned i);
/* The bytes a locator's data-space field reserves: values below 512 count
 * sectors (Virtual PC), others are byte counts and must be multiples of 512
 * (Hyper-V). Returns false for a byte count that is not. */
bool vb_locator_space_bytes(uint32_t space, uint64_t *bytes);
/* Full structural check beyond what open enforces (block overlaps, slack,
 * locators, bitmap vs data). Writes one line per problem through report,
 * returns VB_OK when nothing is wrong. */
vb_status vb_layer_check(vb_layer *layer, void (*report)(void *ctx, const char *line), void *ctx);
/* Whether the block of a sector is allocated / whether a sector is present in this file. */
bool vb_layer_block_allocated(vb_layer *layer, uint64_t sector);
bool vb_layer_sector_present(vb_layer *layer, uint64_t sector);
/* Where one layer keeps a run of disk bytes (vb_layer_map). */
enum vb_map_kind {
    VB_MAP_FILE,   /* in the layer's file, at file_offset */
    VB_MAP_ZERO,   /* nowhere: reads as zeros (unallocated block of a dynamic disk) */
    VB_MAP_PARENT, /* in the parent (differencing disk: block or sectors absent) */
};
typedef struct vb_map {
    enum vb_map_kind kind;
    uint64_t file_offset; /* VB_MAP_FILE: where the run starts in the file */
    uint64_t len;         /* bytes of the run (> 0) */
    bool marked;          /* VB_MAP_FILE with VB_MAP_BITMAP (or fixed): every sector's bitmap bit is
                           * set, so a write of the run changes the file's data and nothing else */
} vb_map;
/* vb_layer_map flag: consult a dynamic disk's sector bitmap too (runs end
 * where its bits change) and fill `marked`; without it a dynamic disk's
 * runs follow the block table only, as its reads do. */
#define VB_MAP_BITMAP 1u
/* Maps the run of disk bytes at offset (at most len > 0 bytes, inside the
 * disk) of a VHD layer, exactly as its reads resolve them: a fixed disk is
 * its file at the same offset; a run of a dynamic or differencing disk ends
 * at its block's end, in a differencing disk also at the first sector whose
 * bitmap bit differs. Returns VB_OK, VB_ERR_OUT_OF_RANGE, a bitmap read's
 * status, or VB_ERR_UNSUPPORTED for a VHDX layer. */
vb_status vb_layer_map(vb_layer *layer, uint64_t offset, uint64_t len, unsigned flags, vb_map *out);
/* Write-back for a writable dynamic or differencing VHD (ignored for others):
 * a write that sets bitmap bits or allocates a block puts its data in the
 * file and keeps the metadata in memory until the next flush of the layer's
 * source, which writes it in crash-consistent order (vhd_write_back.c).
 * Meant for a server whose client sends flush requests (vhdtool attach).
 * Turning it off flushes. Returns VB_OK or the flush's status. */
vb_status vb_layer_set_write_back(vb_layer *layer, bool on);
/* Write-back only, for a server that moves a write's data into the file
 * itself (vhdtool attach's splice path): makes sure the block holding
 * [offset, offset+len) (whole sectors, inside one block) is allocated and
 * gives the range's file offset: a new dynamic block is written as zeros
 * and all marked, as usual; a new differencing block gets no data and no
 * bits (its sectors read the parent). The caller writes the data there,
 * then calls vb_layer_mark: until then a differencing range reads as
 * before, a dynamic one reads what is in the file (zeros, then the caller's
 * data). Returns VB_OK, VB_ERR_UNSUPPORTED without write-back,
 * VB_ERR_OUT_OF_RANGE, or the allocation's status. */
vb_status vb_layer_place(vb_layer *layer, uint64_t offset, uint64_t len, uint64_t *file_offset);
/* Write-back only: sets the bitmap bits of [offset, offset+len) (whole
 * sectors of allocated blocks) once their data is in the file; written at
 * the next flush. Returns VB_OK or the error. */
vb_status vb_layer_mark(vb_layer *layer, uint64_t offset, uint64_t len);
/* Closes a layer (with write-back, first commits what is pending, best effort). */
void vb_layer_close(vb_layer *layer);

/* Footer/header primitives (also used by tests and vhdtool). */
uint32_t vb_vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_offset);
vb_geometry vb_chs_for_sectors(uint64_t total_sectors);
/* Geometry a new footer stores for a disk of size bytes: the spec's geometry
 * when it covers the size exactly, else the maximum 65535/16/255 (so that
 * readers sizing by geometry fall back to the current size). */
vb_geometry vb_chs_to_store(uint64_t size);
/* Smallest size >= size (bytes) that CHS geometry represents exactly (sizes at
 * or past the CHS maximum are only rounded to a sector). vhdtool creates disks
 * of such sizes by default so that geometry-based readers agree on the size. */
uint64_t vb_chs_round_up(uint64_t size);
/* Disk size from a footer by the creator rule (QEMU's since 10.0): images
 * whose creator is Virtual PC ("vpc ") or QEMU ("qemu") expose the CHS
 * product cylinders x heads x sectors x 512, unless the geometry is the
 * maximum 65535/16/255; every other creator (Hyper-V, Disk2vhd, vhdboot's
 * "vhdb", ...) exposes the footer's current size. */
uint64_t vb_footer_disk_size(const uint8_t footer[512]);
/* Parses and validates a 512-byte footer; name for messages. */
vb_status vb_footer_parse(const uint8_t footer[512], const char *name, vb_vhd_info *info, vb_diag *diag);

/* ---- Chains ---- */

/* How the platform opens files. path is volume-absolute ("\a\b.vhd").
 * Returns VB_ERR_NOT_FOUND when the file does not exist. */
typedef struct vb_opener {
    void *ctx;
    vb_status (*open)(void *ctx, const char *path, bool writable, vb_source *out);
} vb_opener;

typedef struct vb_chain vb_chain;

/* Opens path and all its parents. Only the top layer is opened writable (when
 * flags has VB_OPEN_WRITABLE); parents are always read-only. On failure diag
 * names the file, the paths tried and why. */
vb_status vb_chain_open(const vb_opener *opener, const char *path, unsigned flags, vb_chain **out, vb_diag *diag);
/* The chain as one block source (the top layer). */
vb_source *vb_chain_source(vb_chain *chain);
unsigned vb_chain_depth(const vb_chain *chain);
/* Layer i (0 = top) and its volume-absolute path. */
vb_layer *vb_chain_layer(vb_chain *chain, unsigned i);
const char *vb_chain_path(const vb_chain *chain, unsigned i);
void vb_chain_close(vb_chain *chain);

/* Resolves rel (a locator path, '\' or '/' separated, may start with ".\" or
 * contain "..") against the folder of child_path, lexically. Drive letters,
 * "\\?\X:" / "\\.\X:" prefixes and UNC "\\server\share" / "\\?\UNC\server\share"
 * parts are stripped from absolute paths, which then name a path on the
 * child's volume. Result is volume-absolute. VB_ERR_PATH_ESCAPES_ROOT if ".."
 * climbs above the root; VB_ERR_INVALID_ARG if rel names no file or out
 * (capacity cap) is too small. */
vb_status vb_path_resolve(const char *child_path, const char *rel, char *out, size_t cap);
/* Parent candidates in the order they should be tried (W2ru, W2ku, MacX,
 * header name's last component), de-duplicated. Returns the count. */
unsigned vb_parent_candidates(const vb_layer *layer, const char *child_path, char out[][VB_PATH_MAX], unsigned max);
/* Whether Windows' native VHD boot, which reads only the locators (W2ru and
 * W2ku of a VHD; relative_path, volume_path and absolute_win32_path of a
 * VHDX), would find parent_path as the parent of child (at child_path);
 * false when only vhdboot's own fallback search finds it (win_locator.c). */
bool vb_windows_finds_parent(const vb_layer *child, const char *child_path, const char *parent_path);
/* The names of the locators Windows reads for child's format, for messages
 * ("W2ru/W2ku" or "relative_path/volume_path/absolute_win32_path"). */
const char *vb_windows_locator_names(const vb_layer *child);

/* ---- Creation ---- */

typedef struct vb_create_params {
    enum vb_disk_type type;
    uint64_t size;              /* bytes, exact (sector multiple); differencing: 0 or the parent's size.
                                 * Creator "vhdb": vhdboot reads current size; QEMU reads the CHS size
                                 * (it only trusts current size for creators it knows). */
    uint32_t block_size;        /* dynamic/diff; 0 = 2 MiB */
    const uint8_t *uuid;        /* 16 bytes; NULL = caller must fill later (tests pass one) */
    uint32_t timestamp;         /* seconds since 2000-01-01 */
    /* differencing only: */
    const vb_vhd_info *parent;  /* the parent's info (UUID, size, timestamp) */
    const char *parent_abs;     /* W2ku and header name, '\' separated, e.g. "C:\vms\base.vhd" or "\vms\base.vhd" */
    const char *parent_rel;     /* W2ru, e.g. ".\base.vhd" */
} vb_create_params;

/* Writes a new empty image into dst (an empty, writable, growable source).
 * Fixed images: writes only the footer at size (the caller zero-fills data). */
vb_status vb_vhd_create(vb_source *dst, const vb_create_params *params, vb_diag *diag);

#endif
