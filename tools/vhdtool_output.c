/* vhdtool: writing a new output disk — raw, fixed or dynamic VHD — with
 * all-zero ranges skipped (holes in raw/fixed files, unallocated blocks in
 * dynamic ones). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

#define ZERO_GRAIN (64u << 10)  /* zero detection unit for raw/fixed output */

/* Writes len bytes at offset straight to the raw fd. Returns the status. */
static vb_status raw_write(int fd, uint64_t offset, const uint8_t *buf, size_t len)
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

/* Creates OUT for a disk of out->size bytes. VHD outputs get a fresh UUID
 * and their metadata now. Returns an exit code (message printed). */
int vt_output_create(vt_output *out, const vb_vhd_info *in_info)
{
    if (out->format == VT_OUT_RAW) {
        out->fd = open(out->name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out->fd < 0)
            return vt_error("%s: cannot create: %s", out->name, strerror(errno));
        /* Full size first: writes inside the file are cheaper than appends. */
        if (ftruncate(out->fd, (off_t)out->size) != 0) {
            int err = errno;
            close(out->fd);
            unlink(out->name);
            return vt_error("%s: cannot set the size: %s", out->name, strerror(err));
        }
        return VT_EXIT_OK;
    }
    out->fd = -1;
    if (out->format == VT_OUT_VHDX || out->format == VT_OUT_VHDX_FIXED)
        return vt_vhdx_output_create(out, in_info);
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
    vb_status st = host_file_create(out->name, &out->file);
    if (st != VB_OK)
        return vt_error("%s: cannot create: %s", out->name, vb_status_message(st));
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

/* Writes the non-zero ZERO_GRAIN pieces of buf (disk offset offset) to a raw
 * or fixed output, coalescing neighbours. Returns the status. */
static vb_status write_sparse(vt_output *out, uint64_t offset, const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        size_t n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN;
        if (vt_all_zero(buf + pos, n)) {
            pos += n;
            continue;
        }
        size_t start = pos;
        while (pos < len) {
            n = len - pos < ZERO_GRAIN ? len - pos : ZERO_GRAIN;
            if (vt_all_zero(buf + pos, n))
                break;
            pos += n;
        }
        vb_status st = out->format == VT_OUT_RAW
                           ? raw_write(out->fd, offset + start, buf + start, pos - start)
                           : vb_source_write(&out->file, offset + start, buf + start, pos - start);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Writes the non-zero blocks of buf (which starts on a block boundary) into
 * the dynamic output, one call per run of neighbouring blocks. */
static vb_status write_blocks(vt_output *out, uint64_t offset, const uint8_t *buf, size_t len)
{
    vb_source *dst = vb_layer_source(out->layer);
    size_t bs = out->block_size, pos = 0;
    while (pos < len) {
        size_t n = len - pos < bs ? len - pos : bs;
        if (vt_all_zero(buf + pos, n)) {
            pos += n;
            continue;
        }
        size_t start = pos;
        while (pos < len) {
            n = len - pos < bs ? len - pos : bs;
            if (vt_all_zero(buf + pos, n))
                break;
            pos += n;
        }
        vb_status st = vb_source_write(dst, offset + start, buf + start, pos - start);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Finishes the output: raw gets its final size, VHD layers are closed.
 * Returns the status. */
vb_status vt_output_finish(vt_output *out)
{
    vb_status st = VB_OK;
    if (out->format == VT_OUT_RAW) {
        if (ftruncate(out->fd, (off_t)out->size) != 0)
            st = VB_ERR_IO;
        if (close(out->fd) != 0 && st == VB_OK)
            st = VB_ERR_IO;
        out->fd = -1;
        return st;
    }
    if (out->layer)
        vb_layer_close(out->layer);
    out->layer = NULL;
    vb_source_close(&out->file);
    return st;
}


vb_status vt_output_store(void *ctx, uint64_t offset, const uint8_t *buf, size_t len)
{
    vt_output *out = ctx;
    return out->format == VT_OUT_DYNAMIC || out->format == VT_OUT_VHDX || out->format == VT_OUT_VHDX_FIXED
               ? write_blocks(out, offset, buf, len) : write_sparse(out, offset, buf, len);
}
