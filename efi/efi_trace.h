/* vhdboot: an opt-in trace of a virtual disk's requests (iPXE-style debug
 * output, switched on per boot entry): one line per BlockIO call, on the
 * console, in a file on a firmware volume, or both.
 *
 * The file is opened for appending and flushed after each line, so the
 * trace survives a boot manager that hangs or resets the machine. Lines
 * that arrive while a firmware driver runs at raised TPL (the FAT driver
 * reading the virtual disk, the partition driver probing it) cannot go to
 * a file (the FAT driver is not reentrant): they are kept in memory and
 * written before the next line that arrives at application level, or when
 * the trace stops. */
#ifndef VB_EFI_TRACE_H
#define VB_EFI_TRACE_H

#include <efi.h>
#include <stdbool.h>
#include "format/diag.h"

typedef struct efi_trace efi_trace;

/* Starts a trace on the console (to_console) and/or appended to the file
 * path (UTF-8, volume-absolute, '\' separated) on the file system of
 * volume (when path is not NULL). Returns VB_OK and *out, or the status
 * (diag names the file) when the file cannot be opened for writing. */
vb_status efi_trace_start(bool to_console, EFI_HANDLE volume, const char *path, efi_trace **out, vb_diag *diag);
/* Adds one line (no '\n' needed) to the trace. */
void efi_trace_say(efi_trace *trace, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes what is pending, closes the file and frees the trace (NULL allowed). */
void efi_trace_stop(efi_trace *trace);

#endif
