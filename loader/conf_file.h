/* vhdboot: the loader's own folder: reading vhdboot.conf there, and the
 * path of other files kept next to it (the trace log). */
#ifndef VB_LOADER_CONF_FILE_H
#define VB_LOADER_CONF_FILE_H

#include <efi.h>
#include "config.h"

#define VB_CONF_NAME "vhdboot.conf"
#define VB_CONF_MAX_BYTES (64u * 1024u)
#define VB_TRACE_NAME "trace.log"

/* Writes <folder of loader_path>\name into out (capacity cap); returns
 * false when it does not fit. */
bool vb_loader_folder_file(const char *loader_path, const char *name, char *out, size_t cap);

/* Reads and parses <folder of loader_path>\vhdboot.conf on the volume
 * loader_device. Returns the status, with diag naming the file on failure. */
vb_status vb_conf_file_load(EFI_HANDLE loader_device, const char *loader_path, vb_config *cfg, vb_diag *diag);

#endif
