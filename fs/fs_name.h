/* vhdboot: file names as fs/ compares them — core-path components in UTF-16,
 * and a built-in case folding for file systems without an upcase table (FAT). */
#ifndef VB_FS_NAME_H
#define VB_FS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/diag.h"

#define VB_FS_NAME_MAX 255u /* UTF-16 units in one name (NTFS and FAT LFN limit) */

typedef struct vb_fs_name {
    uint16_t units[VB_FS_NAME_MAX];
    size_t len;
} vb_fs_name;

/* Takes the next component of a core path ("\dir\file.vhd"; '/' also
 * separates) starting at *pos, skipping empty and "." components, and
 * converts it to UTF-16 in name. Sets *done when no component is left.
 * Returns VB_ERR_INVALID_ARG (diag names the path) for bad UTF-8, a name
 * longer than VB_FS_NAME_MAX units, or "..". */
vb_status vb_fs_path_next(const char *path, size_t *pos, vb_fs_name *name, bool *done, vb_diag *diag);

/* Upper-cases one UTF-16 unit with simple rules covering ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic; other units are returned unchanged. */
uint16_t vb_fs_simple_upcase(uint16_t c);

/* Converts a little-endian UTF-16 name of `units` units to UTF-8 in out
 * (capacity cap); replaces what cannot be converted with '?'. Always terminates. */
void vb_fs_name_to_utf8(const uint8_t *le_units, size_t units, char *out, size_t cap);

#endif
