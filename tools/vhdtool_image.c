/* vhdtool: opening inputs — a VHD with its parent chain, one VHD layer
 * alone, or a raw image — and telling VHDs from raw files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"

static const char cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };

/* Whether the 8 bytes at offset of fd are the footer cookie. */
static bool cookie_at(int fd, off_t offset)
{
    char buf[8];
    return offset >= 0 && pread(fd, buf, 8, offset) == 8 && memcmp(buf, cookie, 8) == 0;
}

vb_status vt_probe_vhd(const char *host_path, bool *is_vhd)
{
    *is_vhd = false;
    int fd = open(host_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? VB_ERR_NOT_FOUND : VB_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return VB_ERR_IO;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    char id[8];
    if (size >= 8 && pread(fd, id, 8, 0) == 8 && memcmp(id, "vhdxfile", 8) == 0)
        *is_vhd = true; /* a VHDX: the core tells the formats apart by content */
    else if (size >= 511)
        *is_vhd = cookie_at(fd, size - 512) || cookie_at(fd, size - 511) || cookie_at(fd, 0);
    close(fd);
    return VB_OK;
}

/* Puts "FILE: <message for status>" into diag; returns status. */
static vb_status file_error(vb_diag *diag, vb_status status, const char *host_path)
{
    if (status == VB_ERR_NOT_FOUND)
        return vb_fail(diag, status, "%s: no such file", host_path);
    return vb_fail(diag, status, "%s: %s", host_path, vb_status_message(status));
}

vb_status vt_disk_open(const char *host_path, unsigned flags, bool allow_raw, vt_disk *disk, vb_diag *diag)
{
    memset(disk, 0, sizeof(*disk));
    bool is_vhd;
    vb_status st = vt_probe_vhd(host_path, &is_vhd);
    if (st != VB_OK)
        return file_error(diag, st, host_path);
    if (!is_vhd) {
        if (!allow_raw)
            return vb_fail(diag, VB_ERR_BAD_COOKIE, "%s: %s", host_path, vb_status_message(VB_ERR_BAD_COOKIE));
        st = host_file_open(host_path, (flags & VB_OPEN_WRITABLE) != 0, &disk->raw);
        if (st != VB_OK)
            return file_error(diag, st, host_path);
        disk->src = &disk->raw;
        return VB_OK;
    }
    st = host_chain_open(host_path, flags, &disk->chain, diag);
    if (st != VB_OK)
        return st;
    if (vb_layer_info(vb_chain_layer(disk->chain, 0))->footer_repaired)
        fprintf(stderr, "vhdtool: %s: the trailing footer was damaged (a power loss while the file grew); "
                        "rewritten from the copy at offset 0\n", host_path);
    disk->is_vhd = true;
    disk->src = vb_chain_source(disk->chain);
    return VB_OK;
}

void vt_disk_close(vt_disk *disk)
{
    if (disk->chain)
        vb_chain_close(disk->chain);
    else if (disk->src)
        vb_source_close(&disk->raw);
    memset(disk, 0, sizeof(*disk));
}

vb_status vt_layer_open(const char *host_path, unsigned flags, vb_source *file, vb_layer **layer, vb_diag *diag)
{
    *layer = NULL;
    vb_status st = host_file_open(host_path, (flags & VB_OPEN_WRITABLE) != 0, file);
    if (st != VB_OK)
        return file_error(diag, st, host_path);
    st = vb_layer_open(file, host_path, flags, layer, diag);
    if (st != VB_OK) {
        vb_source_close(file);
        *layer = NULL;
    }
    return st;
}

const char *vt_type_name(enum vb_disk_type type)
{
    switch (type) {
    case VB_DISK_FIXED: return "fixed";
    case VB_DISK_DYNAMIC: return "dynamic";
    case VB_DISK_DIFF: return "differencing";
    }
    return "unknown";
}
