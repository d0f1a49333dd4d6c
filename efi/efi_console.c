/* vhdboot: formatted console output (see efi_console.h). */
#include <efi.h>
#include <efilib.h>
#include "efi_console.h"
#include "format/diag.h"

#define LINE_MAX_BYTES 1024

/* Decodes one UTF-8 sequence at *p into a code point, advancing *p;
 * a malformed byte becomes '?'. */
static UINT32 next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    UINT32 cp;
    int extra;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        extra = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        extra = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        extra = 3;
    } else {
        *p = s + 1;
        return '?';
    }
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return '?';
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *p = s + extra + 1;
    return cp > 0xffff ? '?' : cp;
}

void efi_vsay(const char *fmt, va_list ap)
{
    char text[LINE_MAX_BYTES];
    CHAR16 wide[2 * LINE_MAX_BYTES + 1];
    UINTN n = 0;
    vb_vformat(text, sizeof text, fmt, ap);
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        UINT32 cp = next_code_point(&p);
        if (cp == '\n')
            wide[n++] = L'\r';
        wide[n++] = (CHAR16)cp;
    }
    wide[n] = 0;
    ST->ConOut->OutputString(ST->ConOut, wide);
}

void efi_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    efi_vsay(fmt, ap);
    va_end(ap);
}
