/* vhdtool merge: fold a differencing disk into its immediate parent — the
 * only operation that writes a parent, and only because the user asked. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"

static const char usage[] =
    "usage: vhdtool merge CHILD [--delete-child] [-p]\n"
    "\n"
    "Copies every sector present in the differencing disk CHILD into its\n"
    "immediate parent (found and verified through CHILD's locators), then reads\n"
    "each copied range back from the parent to verify it. Afterwards the\n"
    "parent holds the merged disk and CHILD is no longer needed; CHILD is only\n"
    "deleted with --delete-child. Grandparents are never written.\n"
    "\n"
    "options:\n"
    "  --delete-child   delete CHILD after a verified merge\n"
    "  -p, --progress   show progress on stderr\n"
    "  -h, --help       this text\n"
    "exit status: 0 merged, 1 failed, 2 usage error\n";

#define MAX_RUN (4u << 20) /* bytes copied per call */

/* Copies (verify=false) or compares (verify=true) every run of sectors present
 * in child to parent. *bytes gets the byte count; *bad the first mismatching
 * offset when verifying (UINT64_MAX when none). Returns the status
 * (VB_ERR_IO on a mismatch). */
static vb_status walk_present(vb_layer *child, vb_source *parent, bool verify, bool progress, uint64_t *bytes,
                              uint64_t *bad)
{
    vb_source *src = vb_layer_source(child);
    uint64_t sectors = src->size / VB_SECTOR;
    uint64_t spb = vb_layer_info(child)->block_size / VB_SECTOR;
    uint8_t *buf = vt_alloc_buffer(MAX_RUN), *check = verify ? vt_alloc_buffer(MAX_RUN) : NULL;
    if (!buf || (verify && !check)) {
        free(buf);
        free(check);
        return VB_ERR_NO_MEMORY;
    }
    vt_progress bar;
    vt_progress_start(&bar, progress, sectors);
    vb_status st = VB_OK;
    *bytes = 0;
    *bad = UINT64_MAX;
    for (uint64_t s = 0; s < sectors && st == VB_OK;) {
        if (!vb_layer_block_allocated(child, s)) {
            /* nothing of an unallocated block is present: skip it whole */
            s = (s / spb + 1) * spb;
            vt_progress_update(&bar, s < sectors ? s : sectors);
            continue;
        }
        if (!vb_layer_sector_present(child, s)) {
            s++;
            if ((s & 0xffff) == 0)
                vt_progress_update(&bar, s);
            continue;
        }
        uint64_t start = s;
        while (s < sectors && s - start < MAX_RUN / VB_SECTOR && vb_layer_sector_present(child, s))
            s++;
        size_t len = (size_t)(s - start) * VB_SECTOR;
        uint64_t off = start * VB_SECTOR;
        st = vb_source_read(src, off, buf, len);
        if (st == VB_OK && !verify)
            st = vb_source_write(parent, off, buf, len);
        if (st == VB_OK && verify) {
            st = vb_source_read(parent, off, check, len);
            if (st == VB_OK && memcmp(buf, check, len) != 0) {
                *bad = off;
                st = VB_ERR_IO;
            }
        }
        *bytes += len;
        vt_progress_update(&bar, s);
    }
    if (st == VB_OK)
        vt_progress_end(&bar);
    else if (progress)
        fputc('\n', stderr);
    free(buf);
    free(check);
    return st;
}

/* Finds CHILD's immediate parent (host path) through the chain opener and
 * checks CHILD is a differencing disk. Returns an exit code. */
static int find_parent(const char *child, char *parent, size_t cap)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_chain *chain;
    vb_status st = host_chain_open(child, 0, &chain, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child);
    int rc = VT_EXIT_OK;
    if (vb_chain_depth(chain) < 2)
        rc = vt_error("%s: %s; nothing to merge", child, vb_status_message(VB_ERR_NOT_DIFFERENCING));
    else if (!core_to_host_path(vb_chain_path(chain, 1), parent, cap))
        rc = vt_error("%s: parent path too long", child);
    vb_chain_close(chain);
    return rc;
}

struct merge_opts {
    bool delete_child;
    bool progress;
};

static const vt_option merge_options[] = {
    VT_FLAG("delete-child", 0, struct merge_opts, delete_child),
    VT_FLAG("progress", 'p', struct merge_opts, progress),
};

/* Runs "vhdtool merge": folds CHILD into its parent and verifies it.
 * Returns VT_EXIT_OK or VT_EXIT_FAIL. */
static int run_merge(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)cmd;
    (void)argc;
    const struct merge_opts *opts = o;
    bool delete_child = opts->delete_child, progress = opts->progress;
    const char *child_name = argv[0];
    char parent_name[PATH_MAX];
    int rc = find_parent(child_name, parent_name, sizeof(parent_name));
    if (rc != VT_EXIT_OK)
        return rc;

    /* The child alone (read-only) and the parent's own chain, parent writable. */
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source child_file;
    vb_layer *child;
    vb_status st = vt_layer_open(child_name, 0, &child_file, &child, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child_name);
    vb_chain *parent;
    st = host_chain_open(parent_name, VB_OPEN_WRITABLE, &parent, &diag);
    if (st != VB_OK) {
        vb_layer_close(child);
        vb_source_close(&child_file);
        return vt_diag_error(&diag, st, parent_name);
    }
    printf("merging %s into its parent %s\n", child_name, parent_name);
    fflush(stdout);
    uint64_t bytes = 0, bad = 0;
    vb_source *dst = vb_chain_source(parent);
    st = walk_present(child, dst, false, progress, &bytes, &bad);
    if (st == VB_OK)
        st = vb_source_flush(dst);
    if (st != VB_OK) {
        rc = vt_error("%s: merge failed: %s (the parent may be partly updated)", parent_name, vb_status_message(st));
    } else {
        st = walk_present(child, dst, true, false, &bytes, &bad);
        if (st == VB_OK) {
            char human[64];
            printf("merged %s from %s into %s (verified)\n", vt_human_size(bytes, human, sizeof(human)),
                   child_name, parent_name);
        } else if (bad != UINT64_MAX) {
            rc = vt_error("%s: verification failed at disk offset %llu", parent_name, (unsigned long long)bad);
        } else {
            rc = vt_error("%s: verification read failed: %s", parent_name, vb_status_message(st));
        }
    }
    vb_chain_close(parent);
    vb_layer_close(child);
    vb_source_close(&child_file);
    if (rc != VT_EXIT_OK)
        return rc;
    if (delete_child) {
        if (unlink(child_name) != 0)
            return vt_error("%s: cannot delete: merged, but the child is still there", child_name);
        printf("deleted %s\n", child_name);
    } else {
        printf("%s can now be deleted (its data is in %s)\n", child_name, parent_name);
    }
    return VT_EXIT_OK;
}

const vt_command vt_cmd_merge = {
    .name = "merge",
    .summary = "fold a differencing disk into its parent",
    .usage = usage,
    .options = merge_options,
    .option_count = VT_COUNT(merge_options),
    .opts_size = sizeof(struct merge_opts),
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected exactly one CHILD",
    .run = run_merge,
};
