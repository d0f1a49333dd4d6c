/* vhdtool check: structural validation of a VHD and its whole chain, with an
 * optional repair of a damaged trailing footer from the copy at offset 0. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

static const char usage[] =
    "usage: vhdtool check FILE [--repair]\n"
    "\n"
    "Validates FILE (footer, header, BAT, blocks, locators, bitmaps) and the\n"
    "parent chain (locators resolve, parent UUIDs and sizes match), then checks\n"
    "every parent the same way. Prints one line per problem, naming the file.\n"
    "\n"
    "options:\n"
    "  --repair     if the trailing footer is damaged but the copy at offset 0 is\n"
    "               intact (dynamic and differencing disks), rewrite the trailing\n"
    "               footer from that copy. Nothing else is ever changed.\n"
    "               A VHDX whose log is not empty: replay the log into the file\n"
    "               and mark it empty (without --repair the log is only replayed\n"
    "               in memory, and reported).\n"
    "  -h, --help   this text\n"
    "exit status: 0 no problems, 1 problems found (or repair failed), 2 usage error\n";

struct report_ctx {
    const char *file;
    unsigned problems;
};

/* vb_layer_check callback: prints one problem line, prefixed by the file
 * name unless the core already put it there. */
static void report_line(void *ctx, const char *line)
{
    struct report_ctx *r = ctx;
    r->problems++;
    size_t n = strlen(r->file);
    if (!strncmp(line, r->file, n))
        printf("%s\n", line);
    else
        printf("%s: %s\n", r->file, line);
}

/* Runs vb_layer_check on one layer; returns the number of problems found. */
static unsigned check_layer(vb_layer *layer, const char *file)
{
    struct report_ctx r = { file, 0 };
    vb_status st = vb_layer_check(layer, report_line, &r);
    if (st != VB_OK && r.problems == 0) {
        printf("%s: %s\n", file, vb_status_message(st));
        r.problems = 1;
    }
    return r.problems;
}

/* Rewrites the trailing footer of file from its copy at offset 0, after
 * saying so. Returns VT_EXIT_OK when the file then opens normally. */
static int repair_footer(const char *file)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source src;
    vb_layer *layer;
    vb_status st = vt_layer_open(file, VB_OPEN_USE_FOOTER_COPY, &src, &layer, &diag);
    if (st != VB_OK) {
        printf("%s: cannot repair: the footer copy at offset 0 is not usable either (%s)\n", file,
               diag.text[0] ? diag.text : vb_status_message(st));
        return VT_EXIT_FAIL;
    }
    const vb_vhd_info *info = vb_layer_info(layer);
    bool from_copy = info->footer_from_copy;
    uint64_t footer_offset = info->footer_offset;
    vb_layer_close(layer);
    vb_source_close(&src);
    if (!from_copy) {
        printf("%s: cannot repair: the problem is not a damaged trailing footer\n", file);
        return VT_EXIT_FAIL;
    }
    printf("%s: repairing: rewriting the trailing footer at offset %llu from the intact copy at offset 0\n",
           file, (unsigned long long)footer_offset);
    fflush(stdout);
    uint8_t footer[512];
    st = host_file_open(file, true, &src);
    if (st == VB_OK) {
        st = vb_source_read(&src, 0, footer, sizeof(footer));
        if (st == VB_OK)
            st = vb_source_write(&src, footer_offset, footer, sizeof(footer));
        if (st == VB_OK)
            st = vb_source_flush(&src);
        vb_source_close(&src);
    }
    if (st != VB_OK) {
        printf("%s: repair failed: %s\n", file, vb_status_message(st));
        return VT_EXIT_FAIL;
    }
    vt_diag_clear(&diag);
    st = vt_layer_open(file, 0, &src, &layer, &diag);
    if (st != VB_OK) {
        printf("%s: still damaged after repair: %s\n", file, diag.text[0] ? diag.text : vb_status_message(st));
        return VT_EXIT_FAIL;
    }
    vb_layer_close(layer);
    vb_source_close(&src);
    printf("%s: footer repaired\n", file);
    return VT_EXIT_OK;
}

/* Checks file alone and then its resolved chain. Returns the problem count. */
static unsigned check_file_and_chain(const char *file)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source src;
    vb_layer *layer;
    vb_status st = vt_layer_open(file, 0, &src, &layer, &diag);
    unsigned problems = 0, flags = 0;
    if (st != VB_OK) {
        printf("%s\n", diag.text[0] ? diag.text : vb_status_message(st));
        /* Go on with the footer copy when it is intact, to report the rest. */
        vt_diag_clear(&diag);
        if (vt_layer_open(file, VB_OPEN_USE_FOOTER_COPY, &src, &layer, &diag) != VB_OK)
            return 1;
        printf("%s: the footer copy at offset 0 is intact; --repair rewrites the trailing footer from it\n", file);
        flags = VB_OPEN_USE_FOOTER_COPY;
    }
    problems += check_layer(layer, file);
    if (flags && problems == 0)
        problems = 1;
    vb_layer_close(layer);
    vb_source_close(&src);

    vb_chain *chain;
    vt_diag_clear(&diag);
    st = host_chain_open(file, flags, &chain, &diag);
    if (st != VB_OK) {
        printf("%s\n", diag.text[0] ? diag.text : vb_status_message(st));
        return problems + 1;
    }
    for (unsigned i = 1; i < vb_chain_depth(chain); i++) {
        char host[PATH_MAX];
        if (!core_to_host_path(vb_chain_path(chain, i), host, sizeof(host)))
            snprintf(host, sizeof(host), "%s", vb_chain_path(chain, i));
        problems += check_layer(vb_chain_layer(chain, i), host);
    }
    vb_chain_close(chain);
    return problems;
}

struct check_opts {
    bool repair;
};

static const vt_option check_options[] = {
    VT_FLAG("repair", 0, struct check_opts, repair),
};

/* Runs "vhdtool check": validates the file and its chain, optionally repairs the footer.
 * Returns VT_EXIT_OK or VT_EXIT_FAIL. */
static int run_check(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)cmd;
    (void)argc;
    bool repair = ((const struct check_opts *)o)->repair;
    const char *file = argv[0];

    unsigned problems = check_file_and_chain(file);
    if (problems && repair) {
        bool vhdx;
        int rc = vt_vhdx_repair(file, &vhdx);
        if (!vhdx)
            rc = repair_footer(file);
        if (rc != VT_EXIT_OK)
            return VT_EXIT_FAIL;
        problems = check_file_and_chain(file);
    }
    if (problems) {
        printf("%s: %u problem%s found\n", file, problems, problems == 1 ? "" : "s");
        return VT_EXIT_FAIL;
    }
    printf("%s: no problems found\n", file);
    return VT_EXIT_OK;
}

const vt_command vt_cmd_check = {
    .name = "check",
    .summary = "validate a VHD or VHDX and its chain (--repair: footer, VHDX log)",
    .usage = usage,
    .options = check_options,
    .option_count = VT_COUNT(check_options),
    .opts_size = sizeof(struct check_opts),
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected exactly one FILE",
    .run = run_check,
};
