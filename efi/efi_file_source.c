/* vhdboot: EFI_FILE_PROTOCOL as a vb_source (SetPosition + Read/Write). */
#include <efi.h>
#include <efilib.h>
#include "efi_file_source.h"
#include "efi_text.h"
#include "format/platform.h"

struct efi_file {
    EFI_FILE_HANDLE file;
    vb_source *src;     /* to keep src->size current when a write grows the file */
};

/* Reads len bytes at offset; a short read is VB_ERR_TRUNCATED. */
static vb_status file_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct efi_file *f = ctx;
    UINT8 *out = buf;
    if (f->file->SetPosition(f->file, offset) != EFI_SUCCESS)
        return VB_ERR_IO;
    while (len) {
        UINTN n = len;
        if (f->file->Read(f->file, &n, out) != EFI_SUCCESS)
            return VB_ERR_IO;
        if (n == 0)
            return VB_ERR_TRUNCATED;
        out += n;
        len -= n;
    }
    return VB_OK;
}

/* Writes len bytes at offset, growing the file when needed; updates the size. */
static vb_status file_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct efi_file *f = ctx;
    const UINT8 *in = buf;
    uint64_t end = offset + len;
    if (f->file->SetPosition(f->file, offset) != EFI_SUCCESS)
        return VB_ERR_IO;
    while (len) {
        UINTN n = len;
        EFI_STATUS st = f->file->Write(f->file, &n, (void *)in);
        if (st == EFI_VOLUME_FULL)
            return VB_ERR_NO_SPACE;
        if (st == EFI_WRITE_PROTECTED || st == EFI_ACCESS_DENIED)
            return VB_ERR_WRITE_PROTECTED;
        if (st != EFI_SUCCESS || n == 0)
            return VB_ERR_IO;
        in += n;
        len -= n;
    }
    if (end > f->src->size)
        f->src->size = end;
    return VB_OK;
}

static vb_status file_flush(void *ctx)
{
    struct efi_file *f = ctx;
    return f->file->Flush(f->file) == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

static void file_close(void *ctx)
{
    struct efi_file *f = ctx;
    f->file->Close(f->file);
    vb_free(f);
}

vb_status efi_file_source_open(EFI_FILE_HANDLE root, const CHAR16 *path, bool writable, vb_source *out)
{
    EFI_FILE_HANDLE file;
    UINT64 mode = EFI_FILE_MODE_READ | (writable ? EFI_FILE_MODE_WRITE : 0);
    EFI_STATUS st = root->Open(root, &file, (CHAR16 *)path, mode, 0);
    if (st == EFI_NOT_FOUND)
        return VB_ERR_NOT_FOUND;
    if (st == EFI_WRITE_PROTECTED || st == EFI_ACCESS_DENIED)
        return VB_ERR_WRITE_PROTECTED;
    if (st != EFI_SUCCESS)
        return VB_ERR_IO;

    EFI_FILE_INFO *info = LibFileInfo(file);
    if (!info) {
        file->Close(file);
        return VB_ERR_IO;
    }
    bool directory = (info->Attribute & EFI_FILE_DIRECTORY) != 0;
    uint64_t size = info->FileSize;
    FreePool(info);
    if (directory) {
        file->Close(file);
        return VB_ERR_NOT_FOUND;
    }
    struct efi_file *f = vb_alloc(sizeof *f);
    if (!f) {
        file->Close(file);
        return VB_ERR_NO_MEMORY;
    }
    f->file = file;
    f->src = out;
    out->size = size;
    out->ctx = f;
    out->read = file_read;
    out->write = writable ? file_write : NULL;
    out->flush = writable ? file_flush : NULL;
    out->close = file_close;
    return VB_OK;
}

/* vb_opener.open: converts the UTF-8 core path and opens it under the root. */
static vb_status opener_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    efi_file_opener *o = ctx;
    CHAR16 wide[VB_PATH_MAX];
    if (efi_utf8_to_char16(path, wide, VB_PATH_MAX) != VB_OK)
        return VB_ERR_NOT_FOUND;
    return efi_file_source_open(o->root, wide, writable, out);
}

void efi_file_opener_init(efi_file_opener *o, EFI_FILE_HANDLE root)
{
    o->root = root;
    o->opener.ctx = o;
    o->opener.open = opener_open;
}
