/* vhdtool create: new fixed, dynamic or differencing images. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

static const char usage[] =
    "usage: vhdtool create fixed|dynamic SIZE FILE [--block-size N] [--exact-size]\n"
    "       vhdtool create fixed|dynamic SIZE FILE --format vhdx [--block-size N] [--sector-size 512|4096]\n"
    "       vhdtool create diff --parent PARENT FILE\n"
    "\n"
    "Creates a new VHD (an existing FILE is refused).\n"
    "  fixed     SIZE bytes of data (sparse zeros) followed by the footer\n"
    "  dynamic   an empty sparse image; blocks are allocated on first write\n"
    "  diff      a differencing child of PARENT: same size and block size, parent\n"
    "            UUID from PARENT's footer, locators W2ku (absolute path, '\\'\n"
    "            separated, no drive letter) and W2ru (relative to FILE's folder);\n"
    "            a VHDX PARENT gets a VHDX child (parent_linkage = its DataWriteGuid,\n"
    "            relative_path and absolute_win32_path)\n"
    "With --format vhdx (or a FILE named *.vhdx) a VHDX is made: SIZE is rounded\n"
    "up to the sector size only; blocks default to 32M; a fixed VHDX has every\n"
    "block allocated.\n"
    "SIZE and N take K, M, G, T suffixes (binary) or S (512-byte sectors).\n"
    "SIZE is rounded up to the next size CHS geometry represents exactly (as\n"
    "Virtual PC and qemu-img do), so the geometry describes the whole disk.\n"
    "Every size reads the same in QEMU, libvhdi and Windows: a size the\n"
    "geometry cannot represent gets the maximum geometry 65535/16/255, which\n"
    "tells geometry-based readers to use the footer's size.\n"
    "\n"
    "options:\n"
    "  --block-size N   dynamic block size (default 2M; a power of two)\n"
    "  --exact-size     keep SIZE as given (only a whole number of sectors)\n"
    "  --parent PARENT  parent image of a differencing disk\n"
    "  --format F       vhd (default) or vhdx\n"
    "  --sector-size N  VHDX logical sector size, 512 (default) or 4096\n"
    "  -h, --help       this text\n"
    "exit status: 0 created, 1 failed, 2 usage error\n";

/* Creates FILE from params (fills the UUID and timestamp); for fixed images
 * extends the data area with a sparse ftruncate first. Returns an exit code. */
static int create_file(const char *file, vb_create_params *params)
{
    uint8_t uuid[16];
    if (!vt_random_uuid(uuid))
        return vt_error("cannot read random bytes from /dev/urandom for the UUID");
    params->uuid = uuid;
    params->timestamp = vt_vhd_timestamp_now();

    if (access(file, F_OK) == 0)
        return vt_error("%s: already exists (remove it first)", file);
    vb_source dst;
    vb_status st = host_file_create(file, &dst);
    if (st != VB_OK)
        return vt_error("%s: cannot create: %s", file, vb_status_message(st));
    vb_diag diag;
    vt_diag_clear(&diag);
    st = vb_vhd_create(&dst, params, &diag);
    if (st == VB_OK)
        st = vb_source_flush(&dst);
    vb_source_close(&dst);
    if (st != VB_OK) {
        unlink(file);
        return vt_diag_error(&diag, st, file);
    }
    return VT_EXIT_OK;
}

/* Creates a differencing child of parent_path at file. Returns an exit code. */
static int create_diff(const char *parent_path, const char *file)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_chain *chain;
    vb_status st = host_chain_open(parent_path, 0, &chain, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, parent_path);
    vb_vhd_info parent = *vb_layer_info(vb_chain_layer(chain, 0));
    vb_chain_close(chain);

    char abs_path[VB_PATH_MAX], rel_path[VB_PATH_MAX];
    if (!vt_windows_absolute(parent_path, abs_path, sizeof(abs_path)) ||
        !vt_windows_relative(file, parent_path, rel_path, sizeof(rel_path)))
        return vt_error("%s: path too long or not resolvable for a locator", parent_path);

    vb_create_params params;
    memset(&params, 0, sizeof(params));
    params.type = VB_DISK_DIFF;
    params.size = parent.disk_size;
    params.block_size = parent.type == VB_DISK_FIXED ? 0 : parent.block_size;
    params.parent = &parent;
    params.parent_abs = abs_path;
    params.parent_rel = rel_path;
    int rc = create_file(file, &params);
    if (rc == VT_EXIT_OK)
        printf("created %s: differencing, parent %s (%s)\n", file, abs_path, rel_path);
    return rc;
}

struct create_opts {
    uint64_t block_size;
    const char *parent;
    bool exact_size;
    const char *format;
    uint64_t sector_size;
};

static const vt_option create_options[] = {
    VT_VALUE("block-size", 0, struct create_opts, block_size, vt_opt_size32, "block size"),
    VT_VALUE("parent", 0, struct create_opts, parent, vt_opt_string, "parent"),
    VT_FLAG("exact-size", 0, struct create_opts, exact_size),
    VT_VALUE("format", 0, struct create_opts, format, vt_opt_string, "format"),
    VT_VALUE("sector-size", 0, struct create_opts, sector_size, vt_opt_size, "sector size"),
};

/* Runs "vhdtool create": checks the type and size, creates the image.
 * Returns VT_EXIT_OK, VT_EXIT_FAIL or VT_EXIT_USAGE. */
static int run_create(const vt_command *cmd, void *o, int argc, char **argv)
{
    const struct create_opts *opts = o;
    uint64_t block_size = opts->block_size;
    const char *parent = opts->parent;
    const char *format = opts->format;
    uint64_t sector_size = opts->sector_size;
    if (format && strcmp(format, "vhd") && strcmp(format, "vhdx"))
        return vt_usage_error(cmd->name, "unknown format '%s' (vhd or vhdx)", format);
    if (sector_size && sector_size != 512 && sector_size != 4096)
        return vt_usage_error(cmd->name, "sector size must be 512 or 4096");
    if (argc < 1)
        return vt_usage_error(cmd->name, "missing type (fixed, dynamic or diff)");
    const char *type = argv[0];
    if (!strcmp(type, "diff") || !strcmp(type, "differencing")) {
        if (!parent)
            return vt_usage_error(cmd->name, "diff needs --parent PARENT");
        if (argc != 2)
            return vt_usage_error(cmd->name, "diff takes exactly one FILE");
        if (block_size)
            return vt_usage_error(cmd->name, "diff uses the parent's block size; --block-size not allowed");
        if (sector_size)
            return vt_usage_error(cmd->name, "diff uses the parent's sector size; --sector-size not allowed");
        bool parent_vhdx = false;
        char id[8];
        FILE *pf = fopen(parent, "rb");
        if (pf) {
            parent_vhdx = fread(id, 1, 8, pf) == 8 && !memcmp(id, "vhdxfile", 8);
            fclose(pf);
        }
        if (parent_vhdx)
            return vt_vhdx_create_diff(parent, argv[1]);
        if (format && !strcmp(format, "vhdx"))
            return vt_usage_error(cmd->name, "a VHDX child needs a VHDX parent (VHD and VHDX do not mix in a chain)");
        return create_diff(parent, argv[1]);
    }
    vb_create_params params;
    memset(&params, 0, sizeof(params));
    if (!strcmp(type, "fixed"))
        params.type = VB_DISK_FIXED;
    else if (!strcmp(type, "dynamic"))
        params.type = VB_DISK_DYNAMIC;
    else
        return vt_usage_error(cmd->name, "unknown type '%s' (fixed, dynamic or diff)", type);
    if (parent)
        return vt_usage_error(cmd->name, "--parent only applies to diff");
    if (argc != 3)
        return vt_usage_error(cmd->name, "%s needs SIZE and FILE", type);
    if (!vt_parse_size(argv[1], &params.size) || params.size == 0)
        return vt_usage_error(cmd->name, "bad size '%s'", argv[1]);
    if ((format && !strcmp(format, "vhdx")) || (!format && vt_vhdx_name(argv[2]))) {
        uint64_t ss = sector_size ? sector_size : 512;
        uint64_t size = (params.size + ss - 1) / ss * ss;
        int rc = vt_vhdx_create(argv[2], params.type, size, (uint32_t)block_size, (uint32_t)ss);
        if (rc == VT_EXIT_OK) {
            char human[64];
            printf("created %s: %s VHDX, %s, %llu-byte sectors\n", argv[2], type,
                   vt_human_size(size, human, sizeof(human)), (unsigned long long)ss);
        }
        return rc;
    }
    if (sector_size)
        return vt_usage_error(cmd->name, "--sector-size applies to VHDX only");
    if (params.size % VB_SECTOR)
        return vt_usage_error(cmd->name, "size %llu is not a multiple of 512", (unsigned long long)params.size);
    if (params.type == VB_DISK_FIXED && block_size)
        return vt_usage_error(cmd->name, "--block-size applies to dynamic images only");
    params.block_size = (uint32_t)block_size;
    if (!opts->exact_size) {
        uint64_t rounded = vb_chs_round_up(params.size);
        if (rounded != params.size)
            fprintf(stderr, "vhdtool: size rounded up from %llu to %llu bytes to match CHS geometry "
                    "(--exact-size keeps it)\n", (unsigned long long)params.size, (unsigned long long)rounded);
        params.size = rounded;
    }
    const char *file = argv[2];
    int rc = create_file(file, &params);
    if (rc == VT_EXIT_OK) {
        char human[64];
        printf("created %s: %s, %s\n", file, type, vt_human_size(params.size, human, sizeof(human)));
    }
    return rc;
}

const vt_command vt_cmd_create = {
    .name = "create",
    .summary = "create a fixed, dynamic or differencing VHD or VHDX",
    .usage = usage,
    .options = create_options,
    .option_count = VT_COUNT(create_options),
    .opts_size = sizeof(struct create_opts),
    .min_args = 0,
    .max_args = VT_ARGS_ANY,
    .run = run_create,
};
