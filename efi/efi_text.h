/* vhdboot: UTF-8 <-> CHAR16 for file paths and console text. */
#ifndef VB_EFI_TEXT_H
#define VB_EFI_TEXT_H

#include <efi.h>
#include "format/status.h"

/* Converts NUL-terminated UTF-8 to a NUL-terminated CHAR16 string in out
 * (capacity cap characters). Returns VB_ERR_INVALID_ARG when malformed or too long. */
vb_status efi_utf8_to_char16(const char *utf8, CHAR16 *out, UINTN cap);
/* Converts a NUL-terminated CHAR16 string to UTF-8 in out (capacity cap bytes).
 * Returns VB_ERR_INVALID_ARG when malformed or too long. */
vb_status efi_char16_to_utf8(const CHAR16 *s, char *out, UINTN cap);

#endif
