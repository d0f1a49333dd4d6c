/* vhdboot: functions shared between format/ files, not part of the public API. */
#ifndef VB_VHD_INTERNAL_H
#define VB_VHD_INTERNAL_H

#include "vhd.h"

#define VB_MAX_LOCATORS 8u

/* Decodes the 8 parent locator entries of a 1024-byte dynamic header.
 * Validates each entry against the file (offset/length inside [0, limit),
 * length <= space with the bytes-vs-sectors data-space rule, UTF-16 even
 * length). Unused entries (code 0) are skipped. Writes up to VB_MAX_LOCATORS
 * decoded locators to out and their count to *count. name is for messages. */
vb_status vb_locators_decode(vb_source *file, const char *name, const uint8_t header[1024],
                             uint64_t limit, vb_locator out[VB_MAX_LOCATORS], unsigned *count,
                             vb_diag *diag);

#endif
