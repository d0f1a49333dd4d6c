/* vhdboot: turning the VHD files found by discovery into menu entries.
 *
 * Portable (no <efi.h>): loader/discover.c walks the volumes and fills one
 * vb_found_vhd per *.vhd file; this part decides which are bases, names and
 * orders them, and adds them to the configuration. Unit-tested on the host.
 *
 * Entry ids of discovered VHDs (usable in `default` and in the VhdbootNext /
 * VhdbootDefault variables): the path with '/' separators and no leading
 * one, e.g. "vms/win10.vhd" on the loader's own volume, prefixed with the
 * volume and ':' elsewhere: "DATA:vms/win10.vhd" (label) or
 * "0f2a6e1b-...:vms/win10.vhd" (PARTUUID, when the volume has no label). */
#ifndef VB_LOADER_DISCOVER_LIST_H
#define VB_LOADER_DISCOVER_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

/* The folders searched when the configuration names none. */
#define VB_DISCOVER_DEFAULT_PATHS { "\\", "\\vms", "\\VHD", "\\images" }
#define VB_DISCOVER_DEFAULT_PATH_COUNT 4u

/* One VHD file found on a volume. */
typedef struct vb_found_vhd {
    enum vb_volume_kind volume_kind;     /* SELF: the loader's volume */
    char volume[VB_CONFIG_VOLUME_MAX];   /* label or PARTUUID; "" for SELF */
    char path[VB_CONFIG_PATH_MAX];       /* volume-absolute, '\' separated */
    bool opened;                         /* footer (and header) read */
    int type;                            /* enum vb_disk_type when opened */
    uint64_t size;                       /* disk size in bytes when opened */
    uint8_t uuid[16];
    uint8_t parent_uuid[16];             /* differencing only */
    unsigned depth;                      /* layers in its chain; 0 = chain did not open */
    char problem[64];                    /* why it did not open (short) */
} vb_found_vhd;

/* Whether a file name ends in ".vhd", ".vhdx" or ".avhdx" (any case) and has something before it. */
bool vb_discover_is_vhd_name(const char *name);
/* Marks which found VHDs are only bases (a found differencing disk names
 * their UUID as its parent): sets base[i]. */
void vb_discover_mark_bases(const vb_found_vhd *found, unsigned count, bool *base);
/* Writes the entry id of f into out (capacity cap); returns false if it does not fit. */
bool vb_discover_entry_id(const vb_found_vhd *f, char *out, size_t cap);
/* Writes the menu detail of f ("16 MiB dynamic, 2 layers", "base, 8 MiB
 * dynamic, 1 layer", "cannot open: <problem>") into out. */
void vb_discover_detail(const vb_found_vhd *f, bool base, char *out, size_t cap);
/* Adds an entry for each found VHD to cfg, ordered by volume then path
 * (case-insensitive), after the configured entries. A VHD whose id is
 * already an entry's id is skipped. Bases get write mode volatile (writing
 * into a parent would break its children), the others persistent. Returns
 * the number added (stops when cfg is full). */
unsigned vb_discover_add(vb_config *cfg, const vb_found_vhd *found, unsigned count);

#endif
