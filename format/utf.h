/* vhdboot: UTF-16 <-> UTF-8 conversion for parent names and locators. */
#ifndef VB_UTF_H
#define VB_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* Converts `units` UTF-16 code units at src (big- or little-endian bytes) to
 * NUL-terminated UTF-8 in out (capacity cap). Stops at the first NUL unit.
 * Returns VB_ERR_INVALID_ARG on an unpaired surrogate or when out is too small. */
vb_status vb_utf16_to_utf8(const uint8_t *src, size_t units, bool big_endian, char *out, size_t cap);
/* Converts NUL-terminated UTF-8 to UTF-16 code units written as bytes into out
 * (capacity cap bytes). *units_out = code units written (no terminator added).
 * Returns VB_ERR_INVALID_ARG on malformed UTF-8 or when out is too small. */
vb_status vb_utf8_to_utf16(const char *src, bool big_endian, uint8_t *out, size_t cap, size_t *units_out);

/* Appends the UTF-8 encoding of code point cp at out[*len] (capacity cap,
 * keeping room for a terminator) and advances *len. Returns false when it does
 * not fit. */
bool vb_utf8_put(char *out, size_t cap, size_t *len, uint32_t cp);

#endif
