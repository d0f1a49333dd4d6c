/* vhdboot: console output with the core's formatter (UTF-8 text, %s = UTF-8). */
#ifndef VB_EFI_CONSOLE_H
#define VB_EFI_CONSOLE_H

#include <stdarg.h>

/* Formats (vb_format syntax) and writes to the console; '\n' becomes CRLF. */
void efi_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void efi_vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
