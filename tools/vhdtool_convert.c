/* vhdtool convert: raw images <-> fixed/dynamic VHDs, and any chain flattened
 * to raw or to a new VHD. Large chunks, zero ranges skipped (left as holes in
 * raw/fixed output, left unallocated in dynamic output). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"

static const char usage[] =
    "usage: vhdtool convert IN OUT [-O raw|fixed|dynamic] [--block-size N] [-p]\n"
    "\n"
    "Copies the disk IN into a new file OUT (replaced if it exists).\n"
    "IN is a VHD (its whole parent chain is read, i.e. flattened) when it has a\n"
    "VHD footer, otherwise a raw image. OUT's format comes from -O, else from\n"
    "its name: *.vhd -> dynamic, anything else -> raw.\n"
    "All-zero ranges are not written: raw and fixed outputs keep them as holes\n"
    "(sparse files), dynamic outputs leave all-zero blocks unallocated.\n"
    "A raw IN whose size is not a multiple of 512 is padded with zeros.\n"
    "Like qemu-img convert's default, OUT is not fsync'ed at the end.\n"
    "\n"
    "options:\n"
    "  -O FORMAT          raw, fixed or dynamic (also: vhd = dynamic)\n"
    "  --block-size N     block size of a dynamic OUT (default: IN's, else 2M)\n"
    "  -p, --progress     show progress on stderr\n"
    "  -h, --help         this text\n"
    "exit status: 0 converted, 1 failed, 2 usage error\n";

enum out_format { OUT_RAW, OUT_FIXED, OUT_DYNAMIC };

#define CHUNK (4u << 20)        /* read size */
#define ZERO_GRAIN (64u << 10)  /* zero detection unit for raw/fixed output */
#define PIPELINE_DEPTH 4        /* chunks in flight between reader and writer */

/* The output file while it is being written. */
struct output {
    enum out_format format;
    const char *name;
    uint64_t size;
    int fd;                 /* raw */
    vb_source file;         /* fixed, dynamic (fixed at this address) */
    vb_layer *layer;        /* dynamic */
    uint32_t block_size;    /* dynamic */
};

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
static int output_create(struct output *out, const vb_vhd_info *in_info)
{
    if (out->format == OUT_RAW) {
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
    uint8_t uuid[16];
    if (!vt_random_uuid(uuid))
        return vt_error("cannot read random bytes from /dev/urandom for the UUID");
    vb_create_params params;
    memset(&params, 0, sizeof(params));
    params.type = out->format == OUT_FIXED ? VB_DISK_FIXED : VB_DISK_DYNAMIC;
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
    if (st == VB_OK && out->format == OUT_DYNAMIC)
        st = vb_layer_open(&out->file, out->name, VB_OPEN_WRITABLE, &out->layer, &diag);
    if (st != VB_OK) {
        vb_source_close(&out->file);
        return vt_diag_error(&diag, st, out->name);
    }
    if (out->layer)
        out->block_size = vb_layer_info(out->layer)->block_size;
    return VT_EXIT_OK;
}

/* Writes the non-zero ZERO_GRAIN pieces of buf (disk offset offset) to a raw
 * or fixed output, coalescing neighbours. Returns the status. */
static vb_status write_sparse(struct output *out, uint64_t offset, const uint8_t *buf, size_t len)
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
        vb_status st = out->format == OUT_RAW
                           ? raw_write(out->fd, offset + start, buf + start, pos - start)
                           : vb_source_write(&out->file, offset + start, buf + start, pos - start);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Writes the non-zero blocks of buf (which starts on a block boundary) into
 * the dynamic output, one call per run of neighbouring blocks. */
static vb_status write_blocks(struct output *out, uint64_t offset, const uint8_t *buf, size_t len)
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
static vb_status output_finish(struct output *out)
{
    vb_status st = VB_OK;
    if (out->format == OUT_RAW) {
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

/* Pipeline sink: stores one chunk in the output, skipping zero ranges. */
static vb_status store_chunk(void *ctx, uint64_t offset, const uint8_t *buf, size_t len)
{
    struct output *out = ctx;
    return out->format == OUT_DYNAMIC ? write_blocks(out, offset, buf, len) : write_sparse(out, offset, buf, len);
}

/* Copies the whole disk from src into out: this thread reads chunks while a
 * writer thread stores the previous ones. Returns the status; *where gets
 * the disk offset of a failure. */
static vb_status copy_disk(vb_source *src, uint64_t src_size, struct output *out, bool progress, uint64_t *where)
{
    size_t chunk = CHUNK;
    if (out->format == OUT_DYNAMIC && out->block_size > chunk)
        chunk = out->block_size;
    vt_pipeline *pipe = vt_pipeline_start(chunk, PIPELINE_DEPTH, store_chunk, out);
    if (!pipe)
        return VB_ERR_NO_MEMORY;
    vt_progress bar;
    vt_progress_start(&bar, progress, out->size);
    vb_status st = VB_OK;
    for (uint64_t off = 0; off < out->size; off += chunk) {
        size_t len = out->size - off < chunk ? (size_t)(out->size - off) : chunk;
        size_t have = off >= src_size ? 0 : src_size - off < len ? (size_t)(src_size - off) : len;
        uint8_t *buf = vt_pipeline_acquire(pipe);
        if (!buf)
            break; /* the writer failed; finish reports it */
        if (have && (st = vb_source_read(src, off, buf, have)) != VB_OK) {
            *where = off;
            vt_pipeline_release(pipe, buf);
            break;
        }
        memset(buf + have, 0, len - have);
        vt_pipeline_submit(pipe, buf, off, len);
        vt_progress_update(&bar, off + len);
    }
    vb_status wst = vt_pipeline_finish(pipe, st == VB_OK ? where : NULL);
    if (st == VB_OK)
        st = wst;
    if (st == VB_OK)
        vt_progress_end(&bar);
    else if (progress)
        fputc('\n', stderr);
    return st;
}

/* Chooses the output format from -O text or OUT's name; false on a bad -O. */
static bool pick_format(const char *opt, const char *name, enum out_format *fmt)
{
    if (opt) {
        if (!strcmp(opt, "raw"))
            *fmt = OUT_RAW;
        else if (!strcmp(opt, "fixed"))
            *fmt = OUT_FIXED;
        else if (!strcmp(opt, "dynamic") || !strcmp(opt, "vhd") || !strcmp(opt, "vpc"))
            *fmt = OUT_DYNAMIC;
        else
            return false;
        return true;
    }
    size_t n = strlen(name);
    *fmt = n >= 4 && !strcasecmp(name + n - 4, ".vhd") ? OUT_DYNAMIC : OUT_RAW;
    return true;
}

/* Whether a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int vt_cmd_convert(int argc, char **argv)
{
    static const struct option options[] = {
        { "block-size", required_argument, NULL, 'b' },
        { "progress", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format_opt = NULL;
    uint64_t block_size = 0;
    bool progress = false;
    int c;
    while ((c = getopt_long(argc, argv, "O:ph", options, NULL)) != -1) {
        switch (c) {
        case 'O': format_opt = optarg; break;
        case 'b':
            if (!vt_parse_size(optarg, &block_size) || block_size == 0 || block_size > UINT32_MAX)
                return vt_usage_error("convert", "bad block size '%s'", optarg);
            break;
        case 'p': progress = true; break;
        case 'h': fputs(usage, stdout); return VT_EXIT_OK;
        default: return vt_usage_error("convert", "unknown option");
        }
    }
    if (argc - optind != 2)
        return vt_usage_error("convert", "expected IN and OUT");
    const char *in_name = argv[optind], *out_name = argv[optind + 1];
    struct output out;
    memset(&out, 0, sizeof(out));
    out.fd = -1;
    out.name = out_name;
    out.block_size = (uint32_t)block_size;
    if (!pick_format(format_opt, out_name, &out.format))
        return vt_usage_error("convert", "unknown output format '%s' (raw, fixed or dynamic)", format_opt);
    if (block_size && out.format != OUT_DYNAMIC)
        return vt_usage_error("convert", "--block-size applies to dynamic output only");
    if (same_file(in_name, out_name))
        return vt_error("%s: input and output are the same file", out_name);

    vt_disk in;
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_status st = vt_disk_open(in_name, 0, true, &in, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, in_name);
    for (unsigned i = 0; in.is_vhd && i < vb_chain_depth(in.chain); i++) {
        char layer_path[PATH_MAX];
        if (core_to_host_path(vb_chain_path(in.chain, i), layer_path, sizeof(layer_path)) &&
            same_file(layer_path, out_name)) {
            vt_disk_close(&in);
            return vt_error("%s: is a layer of %s's chain; refusing to overwrite it", out_name, in_name);
        }
    }
    const vb_vhd_info *in_info = in.is_vhd ? vb_layer_info(vb_chain_layer(in.chain, 0)) : NULL;
    uint64_t src_size = in.src->size;
    out.size = src_size;
    if (out.format != OUT_RAW && out.size % VB_SECTOR)
        out.size += VB_SECTOR - out.size % VB_SECTOR;

    int rc = output_create(&out, in_info);
    if (rc != VT_EXIT_OK) {
        vt_disk_close(&in);
        return rc;
    }
    uint64_t where = 0;
    st = copy_disk(in.src, src_size, &out, progress, &where);
    vb_status fin = output_finish(&out);
    vt_disk_close(&in);
    if (st == VB_OK)
        st = fin;
    if (st != VB_OK) {
        unlink(out_name);
        return vt_error("converting %s to %s failed near offset %llu: %s", in_name, out_name,
                        (unsigned long long)where, vb_status_message(st));
    }
    return VT_EXIT_OK;
}
