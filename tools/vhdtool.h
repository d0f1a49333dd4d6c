/* vhdtool: shared declarations of the subcommands and their small helpers.
 *
 * One subcommand per file (vhdtool_<name>.c), each described by one
 * vt_command (name, summary, usage, option table, run); helpers by concern:
 *   vhdtool_options.c   the option parser shared by every subcommand
 *   vhdtool_util.c      exit codes, messages, numbers, UUIDs, timestamps
 *   vhdtool_progress.c  the "(42.00/100%)" progress line on stderr
 *   vhdtool_io.c        byte-granular reads/writes over sector-granular sources
 *   vhdtool_image.c     opening an input (VHD chain or raw file)
 *   vhdtool_extent.c    where an input may hold data (chain allocation, file holes)
 *   vhdtool_paths.c     Windows spellings of parent paths (W2ku, W2ru)
 *   vhdtool_pipeline.c  overlapping reads with writes on a writer thread
 *   vhdtool_output.c    writing the raw / fixed (in place) / dynamic output, sparsely
 */
#ifndef VHDTOOL_H
#define VHDTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "format/uuid.h"
#include "format/vhd.h"

/* Exit codes of every subcommand. */
enum { VT_EXIT_OK = 0, VT_EXIT_FAIL = 1, VT_EXIT_USAGE = 2 };

/* ---- subcommands and their options (vhdtool_options.c) ---- */

/* One option of a subcommand (as iPXE's option descriptors): its long name
 * ("block-size", NULL for none), short letter (0 for none), whether it takes
 * a value, where it is stored in the subcommand's options struct and how its
 * text is turned into that field. what names the value in "bad WHAT 'TEXT'". */
typedef struct vt_option {
    const char *name;
    char letter;
    bool takes_value;
    size_t offset;
    bool (*parse)(const char *text, void *field);
    const char *what;
} vt_option;

/* Describes a flag NAME/LETTER setting bool FIELD of struct TYPE, and an
 * option taking a value that PARSE stores in FIELD. */
#define VT_FLAG(NAME, LETTER, TYPE, FIELD) { NAME, LETTER, false, offsetof(TYPE, FIELD), vt_opt_flag, NULL }
#define VT_VALUE(NAME, LETTER, TYPE, FIELD, PARSE, WHAT) { NAME, LETTER, true, offsetof(TYPE, FIELD), PARSE, WHAT }

/* Option parsers: a flag sets a bool (takes no value); a string stores the
 * text (const char *); a size stores vt_parse_size's uint64_t; a block size
 * is a uint64_t that also fits 32 bits; a nonzero block size excludes 0.
 * Each returns false when the text is not acceptable. */
bool vt_opt_flag(const char *text, void *field);
bool vt_opt_string(const char *text, void *field);
bool vt_opt_size(const char *text, void *field);
bool vt_opt_size32(const char *text, void *field);
bool vt_opt_size32_nonzero(const char *text, void *field);

/* A subcommand: -h/--help (printing usage) is implied. The options struct
 * (opts_size bytes) starts as a copy of defaults (zeros when NULL); after
 * the options, between min_args and max_args (VT_ARGS_ANY: no limit)
 * arguments must remain, else args_error is the usage error (NULL:
 * "unexpected argument 'X'"). run gets the filled options and the
 * remaining arguments; it returns an exit code. */
#define VT_ARGS_ANY (-1)
typedef struct vt_command {
    const char *name;
    const char *summary;
    const char *usage;
    const vt_option *options;
    size_t option_count;
    size_t opts_size;
    const void *defaults;
    int min_args, max_args;
    const char *args_error;
    int (*run)(const struct vt_command *cmd, void *opts, int argc, char **argv);
    /* set by the few commands whose options the table cannot describe
     * (attach's --volatile with an optional value): run gets argv as given */
    int (*run_argv)(int argc, char **argv);
} vt_command;

/* Number of entries of a static array. */
#define VT_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Parses argv (argv[0] is the subcommand name) against cmd's options and
 * argument counts, then calls cmd->run. Returns the exit code. */
int vt_command_run(const vt_command *cmd, int argc, char **argv);

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
 * (512- or 511-byte form) or in the footer copy at offset 0, or a VHDX
 * ("vhdxfile" at offset 0). Sets *is_vhd.
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
/* Whether the disk may hold data at offset: returns false for a run that
 * certainly reads as zeros (no layer of a chain allocates it, or a hole in a
 * raw or fixed file), true for one that may hold data (reading decides).
 * *len gets the run's length, at most max and never past the disk's end
 * (at least 1 byte when offset is inside the disk). */
bool vt_disk_extent(vt_disk *disk, uint64_t offset, uint64_t max, uint64_t *len);
/* Human name of a disk type ("fixed", "dynamic", "differencing"). */
const char *vt_type_name(enum vb_disk_type type);

/* ---- pipeline (vhdtool_pipeline.c) ---- */

/* Stores len bytes of buf at disk offset, or (buf NULL) makes len bytes at
 * offset read as zeros; returns the status. */
typedef vb_status (*vt_sink_fn)(void *ctx, uint64_t offset, const uint8_t *buf, uint64_t len);
typedef struct vt_pipeline vt_pipeline;

/* Starts a writer thread calling sink for each submitted chunk, in order,
 * with depth buffers of chunk bytes. Returns NULL when out of resources. */
vt_pipeline *vt_pipeline_start(size_t chunk, unsigned depth, vt_sink_fn sink, void *ctx);
/* Waits for an empty buffer; returns NULL once a write has failed. */
uint8_t *vt_pipeline_acquire(vt_pipeline *p);
/* Queues buf (from acquire) for writing at offset; buf NULL queues a run of
 * len zeros (no buffer needed). Waits while the queue is full. */
void vt_pipeline_submit(vt_pipeline *p, uint8_t *buf, uint64_t offset, uint64_t len);
/* Gives back a buffer from acquire without writing it. */
void vt_pipeline_release(vt_pipeline *p, uint8_t *buf);
/* Writes what is queued, stops the thread, frees everything. Returns the
 * first write error (and its offset in *fail_offset) or VB_OK. */
vb_status vt_pipeline_finish(vt_pipeline *p, uint64_t *fail_offset);

/* ---- outputs (vhdtool_output.c) ---- */

enum vt_out_format { VT_OUT_RAW, VT_OUT_FIXED, VT_OUT_DYNAMIC, VT_OUT_VHDX, VT_OUT_VHDX_FIXED };

/* The output disk while it is being written. Set format, name, size and
 * (dynamic) block_size (0 = the input's or 2 MiB) before vt_output_create. */
typedef struct vt_output {
    enum vt_out_format format;
    const char *name;
    uint64_t size;
    int fd;                 /* raw, fixed: the disk's bytes (in place) */
    bool regular;           /* raw, fixed: a regular file (holes, a size) */
    bool reused;            /* raw, fixed: old data may be left where zeros belong */
    uint64_t hole_from, hole_to; /* raw, fixed: a range known to be a hole */
    vb_source file;         /* fixed (footer), dynamic (must stay at this address) */
    vb_layer *layer;        /* dynamic */
    uint32_t block_size;    /* dynamic */
} vt_output;

/* Opens the output: a raw or fixed OUT that exists is reused in place (not
 * truncated) and gets the new size; a dynamic OUT is replaced. VHD outputs
 * get a fresh UUID and their metadata now, in_info (may be NULL) supplies a
 * default block size. Returns an exit code (message printed). */
int vt_output_create(vt_output *out, const vb_vhd_info *in_info);
/* Stores len bytes of buf at disk offset, or (buf NULL) makes them read as
 * zeros (a vt_sink_fn; ctx is the vt_output): all-zero runs become holes in
 * raw/fixed files (punched only where the old file has data) and stay
 * unallocated blocks in dynamic ones. */
vb_status vt_output_store(void *ctx, uint64_t offset, const uint8_t *buf, uint64_t len);
/* Closes the output. Returns the status. */
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
