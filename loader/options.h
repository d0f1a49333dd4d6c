/* vhdboot: the VHD path given in the loader's load options.
 *
 * Portable (no <efi.h>): the options arrive as UTF-16 code units, either a
 * shell command line ("vhdboot.efi \images\disk.vhd") or a boot entry's
 * optional data ("\images\disk.vhd"), or binary data that is not text. */
#ifndef VB_LOADER_OPTIONS_H
#define VB_LOADER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds the first argument after the program name that looks like a VHD path
 * (contains '\' or '/', or ends in ".vhd"/".vhdx") in `count` UTF-16 code
 * units (host byte order). A first argument ending in ".efi" is the program
 * name and is skipped. Writes it as UTF-8 to out (capacity cap).
 * Returns false when there is none, or the data is not printable text. */
bool vb_options_vhd_path(const uint16_t *units, size_t count, char *out, size_t cap);

#endif
