/* vhdboot: small device-path helpers. */
#ifndef VB_EFI_DEVPATH_H
#define VB_EFI_DEVPATH_H

#include <efi.h>
#include <stdbool.h>

/* Size in bytes of a device path without its end node. */
UINTN efi_devpath_body_size(const EFI_DEVICE_PATH *path);
/* Whether path starts with every node of prefix (compared byte for byte,
 * end node excluded) and is strictly longer. */
bool efi_devpath_has_prefix(const EFI_DEVICE_PATH *path, const EFI_DEVICE_PATH *prefix);
/* Returns a pool copy of path without its last node (NULL if path has no
 * node, or no memory); the caller frees it with FreePool. */
EFI_DEVICE_PATH *efi_devpath_parent(const EFI_DEVICE_PATH *path);
/* Finds the last GPT hard-drive node of path and writes its partition GUID
 * as text ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase) into out
 * (37 bytes). Returns false when the path has no GPT partition node. */
bool efi_devpath_partuuid(const EFI_DEVICE_PATH *path, char out[37]);

/* Joins the file-path nodes of path (e.g. a loaded image's FilePath) into
 * one UTF-8 path like "\EFI\BOOT\BOOTX64.EFI" in out (capacity cap).
 * Returns false when there is no file-path node or it does not fit. */
bool efi_devpath_file_path(const EFI_DEVICE_PATH *path, char *out, UINTN cap);

#endif
