/* vhdtool convert: raw images <-> fixed/dynamic VHDs, and any chain flattened
 * to raw or to a new VHD. Large chunks, zero ranges skipped (left as holes in
 * raw/fixed output, left unallocated in dynamic output). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

static const char usage[] =
    "usage: vhdtool convert IN OUT [-O raw|fixed|dynamic|vhdx|vhdx-fixed] [--block-size N] [-p]\n"
    "\n"
    "Copies the disk IN into OUT.\n"
    "IN is a VHD or VHDX (its whole parent chain is read, i.e. flattened) when it\n"
    "has a VHD footer or the VHDX identifier, otherwise a raw image. OUT's format\n"
    "comes from -O, else from its name: *.vhd -> dynamic, *.vhdx -> dynamic VHDX\n"
    "(2 MiB blocks unless --block-size), anything else -> raw.\n"
    "What reads as zeros is not written: raw and fixed outputs keep it as holes\n"
    "(sparse files), dynamic outputs leave all-zero blocks unallocated. Runs\n"
    "no layer of IN's chain allocates, and holes of a raw IN, are not even read.\n"
    "An OUT that exists is overwritten in place, not truncated first (a raw or\n"
    "fixed OUT gets holes punched where it held data that must now read as\n"
    "zeros; a dynamic OUT is rewritten from its start and its old tail cut).\n"
    "A raw IN whose size is not a multiple of 512 is padded with zeros.\n"
    "Like qemu-img convert's default, OUT is not fsync'ed at the end.\n"
    "\n"
    "options:\n"
    "  -O FORMAT          raw, fixed, dynamic (also: vhd = dynamic), vhdx (dynamic)\n"
    "                     or vhdx-fixed\n"
    "  --block-size N     block size of a dynamic OUT (default: IN's, else 2M)\n"
    "  -p, --progress     show progress on stderr\n"
    "  -h, --help         this text\n"
    "exit status: 0 converted, 1 failed, 2 usage error\n";

#define CHUNK (2u << 20)        /* read size, as qemu-img's requests */
#define PIPELINE_DEPTH 4        /* chunks in flight between reader and writer */

/* How many bytes at off (a multiple of chunk) certainly read as zeros, in
 * whole chunks (or up to the end of out): 0 when the chunk at off may hold
 * data and must be read. */
static uint64_t zero_chunks(vt_disk *in, const vt_output *out, uint64_t off, uint64_t chunk)
{
    uint64_t src_size = in->src->size, n, more;
    if (off >= src_size)
        return out->size - off; /* the padding of a partial last sector */
    uint64_t first = chunk < src_size - off ? chunk : src_size - off;
    if (vt_disk_extent(in, off, first, &n) || n < first)
        return 0;
    /* the zeros go on: how far (asked only now, so data is never walked) */
    if (off + n < src_size && !vt_disk_extent(in, off + n, src_size - off - n, &more))
        n += more;
    if (off + n >= src_size)
        return out->size - off;
    return n - n % chunk;
}

/* Copies the whole disk in into out, chunk by chunk on a grid of chunks:
 * this thread reads the chunks that may hold data while a writer thread
 * stores the previous ones; runs of whole chunks that certainly read as
 * zeros (unallocated through the whole chain, holes of raw and fixed files)
 * are passed on without reading. A dynamic output's chunks are whole blocks,
 * so each new block is written at once. Returns the status; *where gets the
 * disk offset of a failure. */
static vb_status copy_disk(vt_disk *in, vt_output *out, bool progress, uint64_t *where)
{
    uint64_t chunk = CHUNK;
    if ((out->format == VT_OUT_DYNAMIC || out->format == VT_OUT_VHDX || out->format == VT_OUT_VHDX_FIXED) &&
        out->block_size > chunk)
        chunk = out->block_size;
    vt_pipeline *pipe = vt_pipeline_start((size_t)chunk, chunk <= 4 * CHUNK ? PIPELINE_DEPTH : 2, vt_output_store, out);
    if (!pipe)
        return VB_ERR_NO_MEMORY;
    vt_progress bar;
    vt_progress_start(&bar, progress, out->size);
    vb_status st = VB_OK;
    uint64_t src_size = in->src->size, len;
    for (uint64_t off = 0; off < out->size; off += len) {
        len = zero_chunks(in, out, off, chunk);
        if (len) {
            vt_pipeline_submit(pipe, NULL, off, len);
            vt_progress_update(&bar, off + len);
            continue;
        }
        len = out->size - off < chunk ? out->size - off : chunk;
        size_t have = off >= src_size ? 0 : src_size - off < len ? (size_t)(src_size - off) : (size_t)len;
        uint8_t *buf = vt_pipeline_acquire(pipe);
        if (!buf)
            break; /* the writer failed; finish reports it */
        if (have && (st = vb_source_read(in->src, off, buf, have)) != VB_OK) {
            *where = off;
            vt_pipeline_release(pipe, buf);
            break;
        }
        memset(buf + have, 0, (size_t)len - have);
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
static bool pick_format(const char *opt, const char *name, enum vt_out_format *fmt)
{
    if (opt) {
        if (!strcmp(opt, "raw"))
            *fmt = VT_OUT_RAW;
        else if (!strcmp(opt, "fixed"))
            *fmt = VT_OUT_FIXED;
        else if (!strcmp(opt, "dynamic") || !strcmp(opt, "vhd") || !strcmp(opt, "vpc"))
            *fmt = VT_OUT_DYNAMIC;
        else if (!strcmp(opt, "vhdx"))
            *fmt = VT_OUT_VHDX;
        else if (!strcmp(opt, "vhdx-fixed"))
            *fmt = VT_OUT_VHDX_FIXED;
        else
            return false;
        return true;
    }
    size_t n = strlen(name);
    *fmt = n >= 4 && !strcasecmp(name + n - 4, ".vhd") ? VT_OUT_DYNAMIC : vt_vhdx_name(name) ? VT_OUT_VHDX : VT_OUT_RAW;
    return true;
}

/* Whether a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

struct convert_opts {
    const char *format;
    uint64_t block_size;
    bool progress;
};

static const vt_option convert_options[] = {
    VT_VALUE(NULL, 'O', struct convert_opts, format, vt_opt_string, "format"),
    VT_VALUE("block-size", 0, struct convert_opts, block_size, vt_opt_size32_nonzero, "block size"),
    VT_FLAG("progress", 'p', struct convert_opts, progress),
};

/* Runs "vhdtool convert": copies IN into a new OUT of the chosen format.
 * Returns VT_EXIT_OK, VT_EXIT_FAIL or VT_EXIT_USAGE. */
static int run_convert(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)argc;
    const struct convert_opts *opts = o;
    const char *format_opt = opts->format;
    uint64_t block_size = opts->block_size;
    bool progress = opts->progress;
    const char *in_name = argv[0], *out_name = argv[1];
    vt_output out;
    memset(&out, 0, sizeof(out));
    out.fd = -1;
    out.name = out_name;
    out.block_size = (uint32_t)block_size;
    if (!pick_format(format_opt, out_name, &out.format))
        return vt_usage_error(cmd->name, "unknown output format '%s' (raw, fixed, dynamic, vhdx or vhdx-fixed)", format_opt);
    if (block_size && out.format != VT_OUT_DYNAMIC && out.format != VT_OUT_VHDX && out.format != VT_OUT_VHDX_FIXED)
        return vt_usage_error(cmd->name, "--block-size applies to dynamic output only");
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
    out.size = in.src->size;
    /* Unlike vhdtool create, convert keeps the exact size (like qemu-img's
     * force_size): padding would move the disk's end away from a GPT backup
     * header. Only a partial last sector is padded. */
    if (out.format != VT_OUT_RAW && out.size % VB_SECTOR)
        out.size += VB_SECTOR - out.size % VB_SECTOR;

    int rc = vt_output_create(&out, in_info);
    if (rc != VT_EXIT_OK) {
        vt_disk_close(&in);
        return rc;
    }
    uint64_t where = 0;
    st = copy_disk(&in, &out, progress, &where);
    vb_status fin = vt_output_finish(&out);
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

const vt_command vt_cmd_convert = {
    .name = "convert",
    .summary = "convert between raw images, VHD and VHDX (flattens chains)",
    .usage = usage,
    .options = convert_options,
    .option_count = VT_COUNT(convert_options),
    .opts_size = sizeof(struct convert_opts),
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected IN and OUT",
    .run = run_convert,
};
