/* vhdboot: EFI variables — the lab-control variables under the project's
 * vendor GUID, and small generic helpers (also used by bli.c).
 *
 * Lab control (documented for tools on any OS):
 *   VhdbootNext-8af2f81d-2f26-4a6a-a987-2576bc46e791     one-shot next boot
 *   VhdbootDefault-8af2f81d-2f26-4a6a-a987-2576bc46e791  persistent default
 * Attributes NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS (0x7); the
 * value is the entry id (the `entry ID` of vhdboot.conf, or a discovered
 * VHD's id) as UTF-16LE code units WITHOUT a terminating NUL (a trailing NUL
 * is tolerated). The loader deletes VhdbootNext as soon as it has read it. */
#ifndef VB_LOADER_VARS_H
#define VB_LOADER_VARS_H

#include <efi.h>
#include <stdbool.h>
#include <stddef.h>
#include "format/status.h"

#define VB_VAR_NEXT L"VhdbootNext"
#define VB_VAR_DEFAULT L"VhdbootDefault"
/* At most this many UTF-16 units are accepted in an id variable. */
#define VB_VAR_ID_UNITS_MAX 256u

#define VB_VAR_ATTR_PERSISTENT \
    (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)
#define VB_VAR_ATTR_VOLATILE (EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)

/* The project's vendor GUID (the same as the virtual disk's device path node). */
extern EFI_GUID vb_vendor_guid;

/* Reads the id stored in variable name of guid (a lab-control variable, or
 * the Boot Loader Interface's LoaderEntryOneShot) into out (UTF-8, capacity
 * cap). Returns VB_ERR_NOT_FOUND when the variable is absent,
 * VB_ERR_INVALID_ARG when its value is empty, too long or not valid UTF-16. */
vb_status vb_var_get_id_of(EFI_GUID *guid, const CHAR16 *name, char *out, size_t cap);
/* Stores id (UTF-8) in the project variable name, non-volatile.
 * Returns VB_OK, VB_ERR_INVALID_ARG for a bad id, VB_ERR_IO when the firmware refuses. */
vb_status vb_var_set_id(const CHAR16 *name, const char *id);
/* Deletes variable name of guid; returns VB_OK also when it was absent. */
vb_status vb_var_delete_of(EFI_GUID *guid, const CHAR16 *name);

/* Stores utf8 as a NUL-terminated UTF-16 string in variable name of guid
 * with attributes attrs. Returns VB_OK or VB_ERR_IO / VB_ERR_INVALID_ARG. */
vb_status vb_var_set_string(EFI_GUID *guid, const CHAR16 *name, const char *utf8, UINT32 attrs);
/* Stores size bytes of data in variable name of guid; returns VB_OK or VB_ERR_IO. */
vb_status vb_var_set_raw(EFI_GUID *guid, const CHAR16 *name, const void *data, UINTN size, UINT32 attrs);

#endif
