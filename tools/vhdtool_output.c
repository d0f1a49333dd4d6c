/* vhdtool: writing the output disk of a conversion — raw, fixed or dynamic
 * VHD — sparsely: runs that read as zeros become holes in raw and fixed
 * files and stay unallocated blocks in dynamic ones.
 *
 * An existing output is converted in place: it is not truncated first
 * (freeing and reallocating a large file's blocks and page cache costs more
 * than the copy itself). Raw and fixed: data is written over the old bytes,
 * and where the disk reads as zeros a hole is punched only where the old
 * file has data; the file gets the new size first. Dynamic: the new image is
 * written from the file's start (every byte of it: metadata, whole blocks,
 * footer) and the old tail is cut off at the end. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

#define ZERO_GRAIN 4096u  /* zero detection unit for raw/fixed output (a file system block) */
#define FALLOCATE_MIN (64u << 10) /* data runs from this size are allocated before they are written */

/* Writes len bytes at offset straight to the fd. Returns the status. */
static vb_status fd_write(int fd, uint64_t offset, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno == ENOSPC ? VB_ERR_NO_SPACE : VB_ERR_IO;
        buf += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return VB_OK;
}

/* Writes len zero bytes at offset (where no hole can be punched). */
static vb_status fd_write_zeros(int fd, uint64_t offset, uint64_t len)
{
    static const uint8_t zeros[64 << 10];
    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        vb_status st = fd_write(fd, offset, zeros, n);
        if (st != VB_OK)
            return st;
        offset += n;
        len -= n;
    }
    return VB_OK;
}

/* Opens (creating, never truncating) a raw or fixed output of total bytes
 * and gives it that size. Returns an exit code (message printed). */
static int open_in_place(vt_output *out, uint64_t total)
{
    int fd = open(out->name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return vt_error("%s: cannot create: %s", out->name, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return vt_error("%s: %s", out->name, strerror(err));
    }
    out->regular = S_ISREG(st.st_mode);
    /* An empty file already reads as zeros everywhere (in any other one,
     * SEEK_DATA tells where old data is: st_blocks misses inline data). */
    out->reused = !out->regular || st.st_size > 0;
    out->hole_from = out->hole_to = 0;
    if (out->regular && (uint64_t)st.st_size != total && ftruncate(fd, (off_t)total) != 0) {
        int err = errno;
        close(fd);
        return vt_error("%s: cannot set the size: %s", out->name, strerror(err));
    }
    out->fd = fd;
    return VT_EXIT_OK;
}

/* Writes the metadata of the fixed or dynamic VHD out, with a fresh UUID
 * (a dynamic OUT's old file is reused from its start).
 * Returns an exit code (message printed). */
static int create_vhd(vt_output *out, const vb_vhd_info *in_info)
{
    uint8_t uuid[16];
    if (!vt_random_uuid(uuid))
        return vt_error("cannot read random bytes from /dev/urandom for the UUID");
    vb_create_params params;
    memset(&params, 0, sizeof(params));
    params.type = out->format == VT_OUT_FIXED ? VB_DISK_FIXED : VB_DISK_DYNAMIC;
    params.size = out->size;
    params.block_size = out->block_size;
    if (!params.block_size && in_info && in_info->type != VB_DISK_FIXED)
        params.block_size = in_info->block_size;
    params.uuid = uuid;
    params.timestamp = vt_vhd_timestamp_now();
    /* fixed: open_in_place made the file; dynamic: an existing file is
     * reused as if empty (written from its start, its old tail cut off at
     * the end), which spares freeing and reallocating its blocks */
    vb_status st = host_file_open(out->name, true, &out->file);
    if (st == VB_ERR_NOT_FOUND && out->format == VT_OUT_DYNAMIC)
        st = host_file_create(out->name, &out->file);
    else if (st == VB_OK && out->format == VT_OUT_DYNAMIC)
        out->file.size = 0;
    if (st != VB_OK)
        return vt_error("%s: cannot create: %s", out->name, vb_status_message(st));
    /* Nothing of a conversion's output is fsync'ed (as qemu-img convert): a
     * crash leaves an incomplete output either way, so the flushes that order
     * block allocation for power loss would only cost time here. */
    out->file.flush = NULL;
    host_file_preallocate(&out->file, true);
    vb_diag diag;
    vt_diag_clear(&diag);
    st = vb_vhd_create(&out->file, &params, &diag);
    if (st == VB_OK && out->format == VT_OUT_DYNAMIC)
        st = vb_layer_open(&out->file, out->name, VB_OPEN_WRITABLE, &out->layer, &diag);
    if (st != VB_OK) {
        vb_source_close(&out->file);
        unlink(out->name);
        return vt_diag_error(&diag, st, out->name);
    }
    if (out->layer)
        out->block_size = vb_layer_info(out->layer)->block_size;
    return VT_EXIT_OK;
}

int vt_output_create(vt_output *out, const vb_vhd_info *in_info)
{
    out->fd = -1;
    if (out->format == VT_OUT_VHDX || out->format == VT_OUT_VHDX_FIXED)
        return vt_vhdx_output_create(out, in_info);
    if (out->format == VT_OUT_DYNAMIC)
        return create_vhd(out, in_info);
    /* raw: the disk; fixed: the disk, then the footer (written by create) */
    int rc = open_in_place(out, out->size + (out->format == VT_OUT_FIXED ? 512u : 0) /* footer */);
    if (rc != VT_EXIT_OK || out->format == VT_OUT_RAW)
        return rc;
    rc = create_vhd(out, in_info);
    if (rc != VT_EXIT_OK) {
        close(out->fd);
        out->fd = -1;
    }
    return rc;
}

/* Makes [offset, offset+len) of a raw or fixed output read as zeros:
 * nothing to do in a new file or over a hole of the old one; elsewhere a
 * hole is punched (zeros written where holes are not supported). */
static vb_status zero_range(vt_output *out, uint64_t offset, uint64_t len)
{
    if (!out->reused || (offset >= out->hole_from && offset + len <= out->hole_to))
        return VB_OK;
    if (!out->regular)
        return fd_write_zeros(out->fd, offset, len);
    uint64_t from = offset, end = offset + len;
    off_t data = lseek(out->fd, (off_t)offset, SEEK_DATA);
    if (data < 0 && errno == ENXIO) { /* no data from offset to the end */
        out->hole_from = offset;
        out->hole_to = UINT64_MAX;
        return VB_OK;
    }
    if (data >= 0 && (uint64_t)data >= end) {
        out->hole_from = offset;
        out->hole_to = (uint64_t)data;
        return VB_OK;
    }
    if (data > 0 && (uint64_t)data > from)
        from = (uint64_t)data;
    if (fallocate(out->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(end - from)) != 0) {
        if (errno != EOPNOTSUPP)
            return errno == ENOSPC ? VB_ERR_NO_SPACE : VB_ERR_IO;
        vb_status st = fd_write_zeros(out->fd, from, end - from);
        if (st != VB_OK)
            return st;
    }
    out->hole_from = offset;
    out->hole_to = end;
    return VB_OK;
}

/* Length of the piece of buf at pos: up to the next multiple of unit on the
 * disk (offset + pos), at most what is left of len. */
static size_t piece_len(uint64_t offset, size_t pos, size_t len, size_t unit)
{
    size_t n = unit - (size_t)((offset + pos) % unit);
    return n < len - pos ? n : len - pos;
}

/* Splits buf (disk offset offset) into runs of whole pieces of unit bytes
 * (on the disk's unit grid) that are all zeros or not, and calls store for
 * each run. Returns the first failing status. */
static vb_status for_each_run(vt_output *out, uint64_t offset, const uint8_t *buf, size_t len, size_t unit,
                              vb_status (*store)(vt_output *out, uint64_t offset, const uint8_t *data, size_t len))
{
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos, n = piece_len(offset, pos, len, unit);
        bool zero = vt_all_zero(buf + pos, n);
        for (pos += n; pos < len; pos += n) {
            n = piece_len(offset, pos, len, unit);
            if (vt_all_zero(buf + pos, n) != zero)
                break;
        }
        vb_status st = store(out, offset + start, zero ? NULL : buf + start, pos - start);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Stores a run into a raw or fixed output: written, or (data NULL) made to
 * read as zeros. */
static vb_status store_file(vt_output *out, uint64_t offset, const uint8_t *data, size_t len)
{
    if (!data)
        return zero_range(out, offset, len);
    /* Allocating the run's blocks in one call first spares ext4 reserving
     * them page by page (delayed allocation): about a quarter less system
     * time for a new file. Where it is not supported, the write allocates. */
    if (out->regular && len >= FALLOCATE_MIN)
        (void)fallocate(out->fd, 0, (off_t)offset, (off_t)len);
    return fd_write(out->fd, offset, data, len);
}

/* Stores a run into a dynamic output: written (allocating its blocks), or
 * (data NULL: all-zero blocks) left unallocated. */
static vb_status store_blocks(vt_output *out, uint64_t offset, const uint8_t *data, size_t len)
{
    return data ? vb_source_write(vb_layer_source(out->layer), offset, data, len) : VB_OK;
}

/* Cuts a reused dynamic output's old tail: the file ends with the new footer. */
static vb_status cut_tail(vt_output *out)
{
    int fd = host_file_fd(&out->file);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return VB_ERR_IO;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size <= out->file.size)
        return VB_OK;
    return ftruncate(fd, (off_t)out->file.size) == 0 ? VB_OK : VB_ERR_IO;
}

vb_status vt_output_finish(vt_output *out)
{
    vb_status st = VB_OK;
    if (out->fd >= 0 && close(out->fd) != 0)
        st = VB_ERR_IO;
    out->fd = -1;
    if (out->layer) {
        vb_layer_close(out->layer);
        out->layer = NULL;
        vb_status cut = cut_tail(out);
        if (st == VB_OK)
            st = cut;
    }
    if (out->format != VT_OUT_RAW)
        vb_source_close(&out->file);
    return st;
}

/* Whether out stores whole blocks through a layer (dynamic VHD, VHDX) rather
 * than bytes into a file. */
static bool is_block_output(const vt_output *out)
{
    return out->format == VT_OUT_DYNAMIC || out->format == VT_OUT_VHDX || out->format == VT_OUT_VHDX_FIXED;
}

vb_status vt_output_store(void *ctx, uint64_t offset, const uint8_t *buf, uint64_t len)
{
    vt_output *out = ctx;
    if (!buf) /* a run that reads as zeros */
        return is_block_output(out) ? VB_OK : zero_range(out, offset, len);
    /* raw/fixed: zero runs of file system blocks become holes; dynamic:
     * all-zero blocks stay unallocated */
    return is_block_output(out) ? for_each_run(out, offset, buf, (size_t)len, out->block_size, store_blocks)
                                         : for_each_run(out, offset, buf, (size_t)len, ZERO_GRAIN, store_file);
}
