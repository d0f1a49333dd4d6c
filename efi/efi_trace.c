/* vhdboot: the virtual disk's request trace (see efi_trace.h). */
#include <efi.h>
#include <efilib.h>
#include "efi_trace.h"
#include "efi_console.h"
#include "efi_status.h"
#include "efi_text.h"
#include "efi_volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

#define LINE_BYTES 160u
#define PENDING_BYTES (64u << 10) /* lines held while the TPL is raised */

struct efi_trace {
    bool to_console;
    EFI_FILE_HANDLE file;       /* NULL: console only (or the file failed) */
    char *pending;              /* PENDING_BYTES */
    UINTN pending_len;
    unsigned long long dropped; /* lines that did not fit in pending */
};

/* Whether the caller runs at TPL_APPLICATION (no firmware driver below us
 * holds a lock, so a file system may be called). */
static bool at_application_level(void)
{
    EFI_TPL old = BS->RaiseTPL(TPL_HIGH_LEVEL);
    BS->RestoreTPL(old);
    return old == TPL_APPLICATION;
}

/* Appends len bytes to the file and flushes it; on failure stops writing the
 * file and says so once on the console. */
static void file_write(efi_trace *t, const char *text, UINTN len)
{
    if (!t->file || len == 0)
        return;
    UINTN n = len;
    EFI_STATUS st = t->file->Write(t->file, &n, (void *)text);
    if (st == EFI_SUCCESS && n == len)
        st = t->file->Flush(t->file);
    if (st != EFI_SUCCESS || n != len) {
        efi_say("vhdboot: trace: cannot write the trace file (%s); tracing to it stops\n", efi_status_text(st));
        t->file->Close(t->file);
        t->file = NULL;
    }
}

/* Writes the lines held in memory (and a note of any that were lost). */
static void write_pending(efi_trace *t)
{
    file_write(t, t->pending, t->pending_len);
    t->pending_len = 0;
    if (t->dropped) {
        char note[LINE_BYTES];
        int n = vb_format(note, sizeof note, "(%llu lines lost: too many while the firmware's drivers ran)\n",
                          t->dropped);
        file_write(t, note, (UINTN)n);
        t->dropped = 0;
    }
}

vb_status efi_trace_start(bool to_console, EFI_HANDLE volume, const char *path, efi_trace **out, vb_diag *diag)
{
    efi_trace *t = vb_alloc(sizeof *t);
    if (!t)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "out of memory for the trace");
    vb_memset(t, 0, sizeof *t);
    t->to_console = to_console;
    if (path) {
        CHAR16 wide[VB_PATH_MAX];
        EFI_FILE_HANDLE root = NULL;
        vb_status st = efi_utf8_to_char16(path, wide, VB_PATH_MAX);
        if (st != VB_OK || (st = efi_volume_open_root(volume, &root, diag)) != VB_OK) {
            vb_free(t);
            return vb_fail(diag, st, "%s: cannot open the trace file's volume", path);
        }
        EFI_STATUS est = root->Open(root, &t->file, wide, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE |
                                    EFI_FILE_MODE_CREATE, 0);
        root->Close(root);
        /* appending: position -1 is the end of the file */
        if (est == EFI_SUCCESS && (est = t->file->SetPosition(t->file, 0xFFFFFFFFFFFFFFFFULL)) != EFI_SUCCESS)
            t->file->Close(t->file);
        t->pending = est == EFI_SUCCESS ? vb_alloc(PENDING_BYTES) : NULL;
        if (est != EFI_SUCCESS || !t->pending) {
            if (est == EFI_SUCCESS)
                t->file->Close(t->file);
            vb_free(t);
            return vb_fail(diag, est == EFI_SUCCESS ? VB_ERR_NO_MEMORY : VB_ERR_IO,
                           "%s: cannot open the trace file for writing: %s", path, efi_status_text(est));
        }
    }
    *out = t;
    return VB_OK;
}

void efi_trace_say(efi_trace *t, const char *fmt, ...)
{
    char line[LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vb_vformat(line, (int)sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    line[n] = '\0';
    if (t->to_console)
        efi_say("vhdboot trace: %s", line);
    if (!t->file)
        return;
    if (at_application_level()) {
        write_pending(t);
        file_write(t, line, (UINTN)n);
    } else if (t->pending_len + (UINTN)n <= PENDING_BYTES) {
        vb_memcpy(t->pending + t->pending_len, line, (size_t)n);
        t->pending_len += (UINTN)n;
    } else {
        t->dropped++;
    }
}

void efi_trace_stop(efi_trace *t)
{
    if (!t)
        return;
    if (t->file) {
        write_pending(t);
        if (t->file)
            t->file->Close(t->file);
    }
    vb_free(t->pending);
    vb_free(t);
}
