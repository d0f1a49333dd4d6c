/* vhdtool: shared declarations of the subcommands and their small helpers.
 *
 * One subcommand per file (vhdtool_<name>.c); helpers by concern:
 *   vhdtool_util.c      exit codes, messages, numbers, UUIDs, timestamps
 *   vhdtool_progress.c  the "(42.00/100%)" progress line on stderr
 *   vhdtool_io.c        byte-granular reads/writes over sector-granular sources
 *   vhdtool_image.c     opening an input (VHD chain or raw file)
 *   vhdtool_paths.c     Windows spellings of parent paths (W2ku, W2ru)
 *   vhdtool_pipeline.c  overlapping reads with writes on a writer thread
 *   vhdtool_output.c    writing a new raw / fixed / dynamic output, sparsely
 */
#ifndef VHDTOOL_H
#define VHDTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "format/vhd.h"

/* Exit codes of every subcommand. */
enum { VT_EXIT_OK = 0, VT_EXIT_FAIL = 1, VT_EXIT_USAGE = 2 };

/* Subcommands: argv[0] is the subcommand name; each returns an exit code. */
int vt_cmd_create(int argc, char **argv);
int vt_cmd_info(int argc, char **argv);
int vt_cmd_check(int argc, char **argv);
int vt_cmd_convert(int argc, char **argv);
int vt_cmd_merge(int argc, char **argv);
int vt_cmd_set_parent(int argc, char **argv);
int vt_cmd_read(int argc, char **argv);
int vt_cmd_write(int argc, char **argv);
int vt_cmd_boot_next(int argc, char **argv);
int vt_cmd_boot_default(int argc, char **argv);
int vt_cmd_install(int argc, char **argv);
int vt_cmd_handoff(int argc, char **argv);

/* ---- messages (vhdtool_util.c) ---- */

/* Prints "vhdtool CMD: message" and a hint to use --help on stderr; returns VT_EXIT_USAGE. */
int vt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "vhdtool: message" on stderr; returns VT_EXIT_FAIL. */
int vt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the core's diagnostic on stderr, prefixed by file when the text
 * does not already name it (or "FILE: <status message>" when the core left
 * no text); returns VT_EXIT_FAIL. */
int vt_diag_error(const vb_diag *diag, vb_status status, const char *file);
/* Resets a diagnostic to "no error". */
void vt_diag_clear(vb_diag *diag);

/* ---- numbers, UUIDs, time (vhdtool_util.c) ---- */

/* Parses a byte count: decimal or 0x hex, optional suffix K, M, G, T (binary
 * multiples; "KiB"/"KB" style also accepted) or S (512-byte sectors).
 * Returns false on junk or overflow. */
bool vt_parse_size(const char *text, uint64_t *out);
/* Formats a byte count as "4194304 (4.00 MiB)" into out; returns out. */
const char *vt_human_size(uint64_t bytes, char *out, size_t cap);
/* Fills uuid with 16 random bytes from /dev/urandom, marked as a version-4
 * GUID in Microsoft byte order. Returns false when /dev/urandom fails. */
bool vt_random_uuid(uint8_t uuid[16]);
/* Formats 16 stored bytes in stored order, grouped 8-4-4-4-12 like GUID
 * text (as vhdiinfo and QEMU print them) into out (at least 37 bytes). */
void vt_format_uuid(const uint8_t uuid[16], char *out);
/* Formats 16 stored bytes as Windows displays the GUID: the first three
 * fields read little-endian (out at least 37 bytes). */
void vt_format_guid_windows(const uint8_t uuid[16], char *out);
/* Seconds since 2000-01-01 00:00 UTC, the VHD timestamp of now. */
uint32_t vt_vhd_timestamp_now(void);
/* Whether a buffer holds only zero bytes. */
bool vt_all_zero(const void *buf, size_t len);
/* Allocates a 4 KiB-aligned buffer (NULL on failure); release with free(). */
void *vt_alloc_buffer(size_t len);

/* ---- progress (vhdtool_progress.c) ---- */

typedef struct vt_progress {
    bool enabled;
    uint64_t total;
    int last_hundredths; /* last value printed, in 1/100 percent */
} vt_progress;

/* Starts a progress line for total units (prints 0% when enabled). */
void vt_progress_start(vt_progress *p, bool enabled, uint64_t total);
/* Reports done units out of total; prints only when the value changed. */
void vt_progress_update(vt_progress *p, uint64_t done);
/* Prints 100% and ends the line. */
void vt_progress_end(vt_progress *p);

/* ---- I/O at any byte offset (vhdtool_io.c) ---- */

/* Reads len bytes at any offset from a source whose reads must be
 * sector-aligned, bouncing the partial head/tail sectors. Returns the status. */
vb_status vt_read_at(vb_source *src, uint64_t offset, void *buf, size_t len);
/* Writes len bytes at any offset; partial head/tail sectors are
 * read-modified-written. Returns the status. */
vb_status vt_write_at(vb_source *src, uint64_t offset, const void *buf, size_t len);

/* ---- inputs (vhdtool_image.c) ---- */

/* An opened disk: a VHD with its whole chain, or a raw file. */
typedef struct vt_disk {
    bool is_vhd;
    vb_chain *chain;   /* VHD only */
    vb_source raw;     /* raw only (must stay at this address while open) */
    vb_source *src;    /* what to read: the chain or the raw file */
} vt_disk;

/* Whether host_path looks like a VHD: "conectix" in its trailing footer
 * (512- or 511-byte form) or in the footer copy at offset 0. Sets *is_vhd.
 * Returns VB_ERR_NOT_FOUND / VB_ERR_IO when the file cannot be read. */
vb_status vt_probe_vhd(const char *host_path, bool *is_vhd);
/* Opens host_path as a VHD chain (flags as vb_chain_open) or, when it has no
 * VHD footer and allow_raw, as a raw file. Fills diag (naming the file) on
 * failure. disk must not move while open. */
vb_status vt_disk_open(const char *host_path, unsigned flags, bool allow_raw, vt_disk *disk, vb_diag *diag);
/* Closes what vt_disk_open opened. */
void vt_disk_close(vt_disk *disk);
/* Opens one VHD file alone (no parent resolution): *file gets the host file
 * (caller keeps it at a fixed address), *layer the layer. Fills diag. */
vb_status vt_layer_open(const char *host_path, unsigned flags, vb_source *file, vb_layer **layer, vb_diag *diag);
/* Human name of a disk type ("fixed", "dynamic", "differencing"). */
const char *vt_type_name(enum vb_disk_type type);

/* ---- pipeline (vhdtool_pipeline.c) ---- */

/* Stores len bytes of buf at disk offset; returns the status. */
typedef vb_status (*vt_sink_fn)(void *ctx, uint64_t offset, const uint8_t *buf, size_t len);
typedef struct vt_pipeline vt_pipeline;

/* Starts a writer thread calling sink for each submitted chunk, in order,
 * with depth buffers of chunk bytes. Returns NULL when out of resources. */
vt_pipeline *vt_pipeline_start(size_t chunk, unsigned depth, vt_sink_fn sink, void *ctx);
/* Waits for an empty buffer; returns NULL once a write has failed. */
uint8_t *vt_pipeline_acquire(vt_pipeline *p);
/* Queues buf (from acquire) for writing at offset. */
void vt_pipeline_submit(vt_pipeline *p, uint8_t *buf, uint64_t offset, size_t len);
/* Gives back a buffer from acquire without writing it. */
void vt_pipeline_release(vt_pipeline *p, uint8_t *buf);
/* Writes what is queued, stops the thread, frees everything. Returns the
 * first write error (and its offset in *fail_offset) or VB_OK. */
vb_status vt_pipeline_finish(vt_pipeline *p, uint64_t *fail_offset);

/* ---- outputs (vhdtool_output.c) ---- */

enum vt_out_format { VT_OUT_RAW, VT_OUT_FIXED, VT_OUT_DYNAMIC };

/* A new output disk while it is being written. Set format, name, size and
 * (dynamic) block_size (0 = the input's or 2 MiB) before vt_output_create. */
typedef struct vt_output {
    enum vt_out_format format;
    const char *name;
    uint64_t size;
    int fd;                 /* raw */
    vb_source file;         /* fixed, dynamic (must stay at this address) */
    vb_layer *layer;        /* dynamic */
    uint32_t block_size;    /* dynamic */
} vt_output;

/* Creates the output file (replacing it); VHD outputs get a fresh UUID and
 * their metadata now, in_info (may be NULL) supplies a default block size.
 * Returns an exit code (message printed). */
int vt_output_create(vt_output *out, const vb_vhd_info *in_info);
/* Stores len bytes at disk offset, skipping all-zero ranges (a vt_sink_fn;
 * ctx is the vt_output). Dynamic: offset must be block-aligned. */
vb_status vt_output_store(void *ctx, uint64_t offset, const uint8_t *buf, size_t len);
/* Gives a raw output its final size and closes the output. Returns the status. */
vb_status vt_output_finish(vt_output *out);

/* ---- parent paths (vhdtool_paths.c) ---- */

/* The Windows spelling of a host file's absolute path, without a drive
 * letter: /vms/base.vhd -> \vms\base.vhd. Returns false when too long. */
bool vt_windows_absolute(const char *host_path, char *out, size_t cap);
/* The Windows relative path from the folder holding child_host_path to
 * target_host_path: ".\base.vhd" or "..\base\base.vhd". Returns false when
 * a path cannot be made absolute or the result does not fit. */
bool vt_windows_relative(const char *child_host_path, const char *target_host_path, char *out, size_t cap);

#endif
