/* vhdtool set-parent: point a differencing disk at its moved parent by
 * rewriting its W2ru / W2ku (and MacX) locators and the header parent name. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/bytes.h"
#include "format/utf.h"
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

static const char usage[] =
    "usage: vhdtool set-parent CHILD NEWPARENT\n"
    "\n"
    "After moving a parent image, records its new place in the differencing\n"
    "disk CHILD: the W2ku locator (absolute path, '\\' separated, no drive\n"
    "letter), the W2ru locator (relative to CHILD's folder), a MacX locator if\n"
    "present (file:// URL) and the header's parent name; the header checksum is\n"
    "recomputed. Refused when NEWPARENT's UUID differs from the parent UUID\n"
    "stored in CHILD (both are printed) or its size differs.\n"
    "The locators are rewritten in place: when a new path does not fit the space\n"
    "CHILD reserved for that locator, nothing is changed and the command fails\n"
    "(locators are not relocated).\n"
    "A differencing VHDX CHILD gets a new parent locator (relative_path and\n"
    "absolute_win32_path; parent_linkage kept) when NEWPARENT's DataWriteGuid is\n"
    "its parent_linkage (or parent_linkage2) and the sizes match.\n"
    "\n"
    "options:\n"
    "  -h, --help   this text\n"
    "exit status: 0 updated, 1 refused or failed, 2 usage error\n";

#define HEADER_SIZE 1024u
#define LOC_BASE 576u
#define LOC_SIZE 24u
#define LOC_COUNT 8u
#define NAME_OFFSET 64u
#define NAME_BYTES 512u
#define CHECKSUM_OFFSET 36u

/* New contents of one locator entry. */
struct new_locator {
    unsigned index;
    uint8_t data[VB_PATH_MAX * 2];
    size_t length;
    uint32_t space_bytes;
    uint64_t offset;
};

/* Encodes the new data for the locator with this code; false for codes we
 * leave alone. *ok is false when encoding failed. */
static bool encode_locator(const char code[4], const char *abs_path, const char *rel_path, const char *host_abs,
                           struct new_locator *loc, bool *ok)
{
    *ok = true;
    size_t units = 0;
    if (!memcmp(code, "W2ku", 4) || !memcmp(code, "W2ru", 4)) {
        const char *path = code[2] == 'k' ? abs_path : rel_path;
        *ok = vb_utf8_to_utf16(path, false, loc->data, sizeof(loc->data), &units) == VB_OK;
        loc->length = units * 2;
        return true;
    }
    if (!memcmp(code, "MacX", 4)) {
        int n = snprintf((char *)loc->data, sizeof(loc->data), "file://%s", host_abs);
        *ok = n > 0 && (size_t)n < sizeof(loc->data);
        loc->length = *ok ? (size_t)n : 0;
        return true;
    }
    return false;
}

/* Reads CHILD's raw dynamic header into hdr and checks NEWPARENT matches.
 * Returns an exit code (messages printed). */
static int load_and_match(const char *child, const char *parent, uint8_t hdr[HEADER_SIZE], uint64_t *hdr_offset)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source cfile, pfile;
    vb_layer *cl, *pl;
    vb_status st = vt_layer_open(child, 0, &cfile, &cl, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child);
    vb_vhd_info ci = *vb_layer_info(cl);
    *hdr_offset = ci.header_offset;
    if (ci.type == VB_DISK_DIFF)
        st = vb_source_read(&cfile, ci.header_offset, hdr, HEADER_SIZE);
    vb_layer_close(cl);
    vb_source_close(&cfile);
    if (ci.type != VB_DISK_DIFF)
        return vt_error("%s: %s", child, vb_status_message(VB_ERR_NOT_DIFFERENCING));
    if (st != VB_OK)
        return vt_error("%s: cannot read the dynamic header: %s", child, vb_status_message(st));

    vt_diag_clear(&diag);
    st = vt_layer_open(parent, 0, &pfile, &pl, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, parent);
    vb_vhd_info pi = *vb_layer_info(pl);
    vb_layer_close(pl);
    vb_source_close(&pfile);
    if (memcmp(pi.uuid, ci.parent_uuid, 16) != 0) {
        char want[40], have[40];
        vb_uuid_text(ci.parent_uuid, VB_UUID_STORED, want);
        vb_uuid_text(pi.uuid, VB_UUID_STORED, have);
        return vt_error("%s: refused: %s has UUID %s but %s expects parent UUID %s", child, parent, have,
                        child, want);
    }
    if (pi.disk_size != ci.disk_size)
        return vt_error("%s: refused: %s (%llu bytes): %s (%llu bytes)", child, parent,
                        (unsigned long long)pi.disk_size, vb_status_message(VB_ERR_PARENT_SIZE),
                        (unsigned long long)ci.disk_size);
    return VT_EXIT_OK;
}

/* Writes every new locator (zero-padded to its space), then the header.
 * Returns the status. */
static vb_status write_all(const char *child, const struct new_locator *locs, unsigned n, const uint8_t *hdr,
                           uint64_t hdr_offset)
{
    vb_source f;
    vb_status st = host_file_open(child, true, &f);
    if (st != VB_OK)
        return st;
    for (unsigned i = 0; i < n && st == VB_OK; i++) {
        uint8_t *area = calloc(1, locs[i].space_bytes);
        if (!area) {
            st = VB_ERR_NO_MEMORY;
            break;
        }
        memcpy(area, locs[i].data, locs[i].length);
        st = vb_source_write(&f, locs[i].offset, area, locs[i].space_bytes);
        free(area);
    }
    if (st == VB_OK)
        st = vb_source_flush(&f);
    if (st == VB_OK)
        st = vb_source_write(&f, hdr_offset, hdr, HEADER_SIZE);
    if (st == VB_OK)
        st = vb_source_flush(&f);
    vb_source_close(&f);
    return st;
}

/* Re-opens CHILD's chain and checks its parent is now NEWPARENT. Returns an exit code. */
static int verify(const char *child, const char *parent)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_chain *chain;
    vb_status st = host_chain_open(child, 0, &chain, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child);
    char want[VB_PATH_MAX];
    int rc = VT_EXIT_OK;
    if (!host_to_core_path(parent, want, sizeof(want)) || vb_chain_depth(chain) < 2 ||
        strcmp(vb_chain_path(chain, 1), want) != 0)
        rc = vt_error("%s: after the update the chain resolves to %s, not %s", child,
                      vb_chain_depth(chain) > 1 ? vb_chain_path(chain, 1) : "(no parent)", parent);
    vb_chain_close(chain);
    return rc;
}

/* Runs "vhdtool set-parent": rewrites CHILD's locators and parent name to
 * point at NEWPARENT, after checking it is the right parent. Returns an exit code. */
static int run_set_parent(const vt_command *cmd, void *opts, int argc, char **argv)
{
    (void)cmd;
    (void)opts;
    (void)argc;
    const char *child = argv[0], *parent = argv[1];
    bool is_vhdx = false;
    int vrc = vt_vhdx_set_parent(child, parent, &is_vhdx);
    if (is_vhdx)
        return vrc;
    uint8_t hdr[HEADER_SIZE];
    uint64_t hdr_offset = 0;
    int rc = load_and_match(child, parent, hdr, &hdr_offset);
    if (rc != VT_EXIT_OK)
        return rc;

    char abs_path[VB_PATH_MAX], rel_path[VB_PATH_MAX], host_abs[PATH_MAX];
    if (!vt_windows_absolute(parent, abs_path, sizeof(abs_path)) ||
        !vt_windows_relative(child, parent, rel_path, sizeof(rel_path)) ||
        !core_to_host_path(abs_path, host_abs, sizeof(host_abs)))
        return vt_error("%s: path too long or not resolvable", parent);

    struct new_locator *locs = calloc(LOC_COUNT, sizeof(*locs));
    if (!locs)
        return vt_error("out of memory");
    unsigned n = 0;
    for (unsigned i = 0; i < LOC_COUNT && rc == VT_EXIT_OK; i++) {
        uint8_t *e = hdr + LOC_BASE + i * LOC_SIZE;
        char code[5] = { (char)e[0], (char)e[1], (char)e[2], (char)e[3], 0 };
        bool ok;
        struct new_locator *l = &locs[n];
        if (!encode_locator(code, abs_path, rel_path, host_abs, l, &ok))
            continue;
        l->index = i;
        uint64_t space = 0;
        vb_locator_space_bytes(vb_be32(e + 4), &space); /* valid: the child opened */
        l->space_bytes = (uint32_t)space;
        l->offset = vb_be64(e + 16);
        if (!ok)
            rc = vt_error("%s: cannot encode the %s path for %s", child, code, parent);
        else if (l->length > l->space_bytes)
            rc = vt_error("%s: the new %s path needs %zu bytes but the file reserves only %u; nothing changed "
                          "(locators are not relocated)", child, code, l->length, l->space_bytes);
        n++;
    }
    if (rc == VT_EXIT_OK && n == 0)
        rc = vt_error("%s: has no W2ku, W2ru or MacX locator to rewrite; nothing changed", child);

    /* Header parent name: UTF-16 big-endian, zero-padded. */
    uint8_t name[NAME_BYTES];
    size_t units = 0;
    memset(name, 0, sizeof(name));
    if (rc == VT_EXIT_OK && vb_utf8_to_utf16(abs_path, true, name, sizeof(name), &units) != VB_OK)
        rc = vt_error("%s: the new parent name does not fit the header's %u bytes; nothing changed", child,
                      NAME_BYTES);
    if (rc != VT_EXIT_OK) {
        free(locs);
        return rc;
    }
    memcpy(hdr + NAME_OFFSET, name, NAME_BYTES);
    for (unsigned i = 0; i < n; i++)
        vb_put_be32(hdr + LOC_BASE + locs[i].index * LOC_SIZE + 8, (uint32_t)locs[i].length);
    vb_put_be32(hdr + CHECKSUM_OFFSET, 0);
    vb_put_be32(hdr + CHECKSUM_OFFSET, vb_vhd_checksum(hdr, HEADER_SIZE, CHECKSUM_OFFSET));

    vb_status st = write_all(child, locs, n, hdr, hdr_offset);
    free(locs);
    if (st != VB_OK)
        return vt_error("%s: writing the new locators failed: %s", child, vb_status_message(st));
    rc = verify(child, parent);
    if (rc == VT_EXIT_OK)
        printf("%s: parent is now %s (W2ku %s, W2ru %s)\n", child, parent, abs_path, rel_path);
    return rc;
}

const vt_command vt_cmd_set_parent = {
    .name = "set-parent",
    .summary = "point a differencing disk at its moved parent",
    .usage = usage,
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected CHILD NEWPARENT",
    .run = run_set_parent,
};
