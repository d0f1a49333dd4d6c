/* vhdboot: the boot configuration (vhdboot.conf and load options).
 *
 * Portable: no <efi.h>, so tests/unit/test_config.c runs it on the host.
 *
 * File format (UTF-8, optional BOM, LF or CRLF, '#' starts a comment):
 *   timeout N            seconds before the default entry boots (0 = at once)
 *   default ID           the entry booted when the countdown ends
 *   trace MODE           off | console | file | on: log every BlockIO request
 *                        to the virtual disk (read/write/flush, LBA, blocks,
 *                        status) on the console, in trace.log next to the
 *                        loader (appended, flushed line by line), or both
 *                        (on). Before the first entry: every entry's
 *                        default (off when absent); inside an entry: that
 *                        entry's.
 *   entry ID             starts an entry; the lines after it belong to it
 *     title TEXT         what the menu shows (default: the ID)
 *     vhd PATH           the VHD: \path on the loader's volume (a path
 *                        without a leading '\' is relative to the loader's
 *                        folder), or NAME:\path on the volume whose label is
 *                        NAME, or GUID:\path on the partition whose GPT
 *                        PARTUUID is GUID (LABEL=NAME:\path and
 *                        PARTUUID=GUID:\path force the meaning; an MBR
 *                        partition's PARTUUID is written as Linux shows it,
 *                        PARTUUID=1a2b3c4d-01:\path: disk signature, number)
 *     efi PATH           inner boot file (default: the usual removable path,
 *                        then the Windows boot manager)
 *     write MODE         persistent | volatile | readonly | persistent-or-volatile
 *                        | ram (default persistent)
 *
 * Volumes are the NTFS and FAT partitions of every disk (GPT or MBR); the VHD
 * and its parents are read straight from the disk through their extent maps.
 * A vhd PATH without a volume is looked for on the loader's own volume
 * first, then on every other volume; a parent on its child's volume first,
 * then on every other volume. persistent-or-volatile: persistent, unless the
 * top VHD may need new blocks and its volume cannot grow the file (NTFS),
 * then volatile. ram: the whole disk is read into memory that the firmware
 * publishes as a RAM disk (ACPI NFIT, seen by the OS as persistent memory);
 * writes stay in that memory, the VHD files are only read. */
#ifndef VB_LOADER_CONFIG_H
#define VB_LOADER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/diag.h"

#define VB_CONFIG_MAX_ENTRIES 32u
#define VB_CONFIG_ID_MAX 128u
#define VB_CONFIG_TITLE_MAX 128u
#define VB_CONFIG_VOLUME_MAX 80u
#define VB_CONFIG_PATH_MAX 512u
#define VB_CONFIG_DEFAULT_TIMEOUT 5u
#define VB_CONFIG_MAX_TIMEOUT 86400u
#define VB_CONFIG_DISCOVER_PATHS_MAX 8u
#define VB_CONFIG_DISCOVER_PATH_LEN 128u
#define VB_CONFIG_DETAIL_MAX 80u

/* PERSISTENT_OR_VOLATILE: persistent, unless the top VHD may need new blocks
 * and sits where the file cannot grow (NTFS): then volatile, said at boot. */
enum vb_write_mode {
    VB_WRITE_PERSISTENT,
    VB_WRITE_VOLATILE,
    VB_WRITE_READONLY,
    VB_WRITE_PERSISTENT_OR_VOLATILE,
    VB_WRITE_RAM,                        /* the disk copied into a RAM disk (efi/ramdisk_load.h) */
};

/* `trace`: where the virtual disk's requests are logged. INHERIT: an
 * entry without its own `trace` (the configuration's value applies). */
enum vb_trace_mode { VB_TRACE_INHERIT, VB_TRACE_OFF, VB_TRACE_CONSOLE, VB_TRACE_FILE, VB_TRACE_ON };

/* Which volume holds the VHD. */
enum vb_volume_kind { VB_VOLUME_SELF, VB_VOLUME_LABEL, VB_VOLUME_PARTUUID };

typedef struct vb_boot_entry {
    char id[VB_CONFIG_ID_MAX];
    char title[VB_CONFIG_TITLE_MAX];
    enum vb_volume_kind volume_kind;
    char volume[VB_CONFIG_VOLUME_MAX];   /* label or PARTUUID text; empty for SELF */
    char vhd[VB_CONFIG_PATH_MAX];        /* '\' separated; relative = from the loader's folder */
    char efi[VB_CONFIG_PATH_MAX];        /* empty = the defaults */
    enum vb_write_mode write;
    enum vb_trace_mode trace;            /* INHERIT unless the entry says `trace` */
    unsigned line;                       /* line of the `entry` keyword (0 for load options) */
    /* discovered entries only */
    char detail[VB_CONFIG_DETAIL_MAX];   /* e.g. "16 MiB dynamic, 2 layers"; shown after the title */
    bool base;                           /* a parent of another found VHD: hidden unless asked for */
} vb_boot_entry;

typedef struct vb_config {
    unsigned timeout;                    /* seconds */
    unsigned default_index;
    unsigned count;
    vb_boot_entry entries[VB_CONFIG_MAX_ENTRIES];
    bool discover;                       /* `discover on` */
    enum vb_trace_mode trace;            /* `trace` before the first entry (OFF by default) */
    char default_id[VB_CONFIG_ID_MAX];   /* the `default` value ("" when none) */
    unsigned discover_path_count;        /* 0 = the default folders */
    char discover_paths[VB_CONFIG_DISCOVER_PATHS_MAX][VB_CONFIG_DISCOVER_PATH_LEN];
} vb_config;

/* Parses a configuration file (with `discover on`, it may have no entries
 * and `default` may name an entry discovery will add: the index is then
 * resolved by vb_config_find after discovery) of len bytes (need not be NUL-terminated).
 * name is the file name used in messages. On error diag says e.g.
 * "\EFI\vhdboot\vhdboot.conf: line 7: unknown keyword 'foo'" and the status
 * is VB_ERR_CONFIG. Returns VB_OK with *cfg filled otherwise. */
vb_status vb_config_parse(const char *text, size_t len, const char *name, vb_config *cfg, vb_diag *diag);

/* Fills *cfg with one entry that boots spec (a `vhd` value) at once, as
 * given in the load options. Returns VB_ERR_CONFIG (diag set) if spec is bad. */
vb_status vb_config_single(const char *spec, vb_config *cfg, vb_diag *diag);

/* Splits a `vhd` value into volume kind, volume name and path into entry.
 * Returns VB_ERR_CONFIG with a reason in *why when the value is malformed. */
vb_status vb_config_set_vhd(vb_boot_entry *entry, const char *value, const char **why);

/* Index of the entry whose id is id, or -1. */
int vb_config_find(const vb_config *cfg, const char *id);

/* The trace mode in effect for entry: its own, else the configuration's. */
enum vb_trace_mode vb_config_trace(const vb_config *cfg, const vb_boot_entry *entry);

/* The text of a trace mode: "off", "console", "file" or "on" ("inherit"
 * for VB_TRACE_INHERIT). */
const char *vb_trace_mode_name(enum vb_trace_mode mode);

/* The text of a write mode: "persistent", "volatile", "readonly",
 * "persistent-or-volatile" or "ram". */
const char *vb_write_mode_name(enum vb_write_mode mode);

#endif
