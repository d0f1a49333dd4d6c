/* vhdboot: reading vhdboot.conf from the loader's own folder. */
#ifndef VB_LOADER_CONF_FILE_H
#define VB_LOADER_CONF_FILE_H

#include <efi.h>
#include "config.h"

#define VB_CONF_NAME "vhdboot.conf"
#define VB_CONF_MAX_BYTES (64u * 1024u)

/* Reads and parses <folder of loader_path>\vhdboot.conf on the volume
 * loader_device. Returns the status, with diag naming the file on failure. */
vb_status vb_conf_file_load(EFI_HANDLE loader_device, const char *loader_path, vb_config *cfg, vb_diag *diag);

#endif
