/* vhdboot: text conversions over the core's UTF-16 helpers (x86 is little-endian). */
#include "efi_text.h"
#include "format/utf.h"

vb_status efi_utf8_to_char16(const char *utf8, CHAR16 *out, UINTN cap)
{
    size_t units = 0;
    if (cap == 0)
        return VB_ERR_INVALID_ARG;
    vb_status st = vb_utf8_to_utf16(utf8, false, (uint8_t *)out, (cap - 1) * sizeof(CHAR16), &units);
    if (st != VB_OK)
        return st;
    out[units] = 0;
    return VB_OK;
}

vb_status efi_char16_to_utf8(const CHAR16 *s, char *out, UINTN cap)
{
    UINTN units = 0;
    while (s[units])
        units++;
    return vb_utf16_to_utf8((const uint8_t *)s, units, false, out, cap);
}
