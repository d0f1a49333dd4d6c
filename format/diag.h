/* vhdboot: a diagnostic — a status plus a sentence naming the file and the problem.
 *
 * Every core function that can refuse input takes an optional vb_diag and
 * fills it with e.g. "\vms\x.vhd: footer checksum mismatch (stored 0x.., computed 0x..)".
 * The caller prints diag.text; tests compare diag.status. */
#ifndef VB_DIAG_H
#define VB_DIAG_H

#include <stdarg.h>
#include <stdint.h>
#include "status.h"

#define VB_DIAG_TEXT_MAX 512

typedef struct vb_diag {
    vb_status status;
    char text[VB_DIAG_TEXT_MAX];
} vb_diag;

/* Records status and a message built from fmt (vb_vformat's printf subset)
 * in diag (if diag is not NULL). Returns status, so a call site can be
 * `return vb_fail(...)`. */
vb_status vb_fail(vb_diag *diag, vb_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats into buf (capacity cap, always terminated; cut where it does not
 * fit) as C's printf does for this subset: flags - + space # 0, width and
 * precision (digits or *), lengths hh h l ll z j t, conversions d i u x X c
 * s and %% (tests/unit/test_format.c compares it with the host's vsnprintf).
 * Returns the length written. */
int vb_vformat(char *buf, int cap, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int vb_format(char *buf, int cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
