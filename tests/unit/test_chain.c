/* Unit tests: parent candidates and chain opening (format/vhd_chain.c) over an
 * in-memory "volume" (path -> memsource) with a test opener. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/vhd.h"
#include "memsource.h"

#define MiB (1024u * 1024u)
#define MAX_FILES 40u

/* ---- an in-memory volume and its opener ---- */

struct volume_file {
    char path[VB_PATH_MAX];
    memsource *ms;
};

struct volume {
    struct volume_file files[MAX_FILES];
    unsigned count;
    unsigned opens, writable_opens, open_handles;
    char opened[64][VB_PATH_MAX]; /* every path the opener was asked for */
    unsigned asked;
    vb_status fail_status;        /* when set, opening fail_path fails with it */
    char fail_path[VB_PATH_MAX];
};

/* What a vb_source opened from the volume points at. */
struct handle {
    struct volume *vol;
    memsource *ms;
    vb_source *self;
};

static vb_status h_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct handle *h = ctx;
    return h->ms->src.read(h->ms, offset, buf, len);
}

static vb_status h_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct handle *h = ctx;
    vb_status st = h->ms->src.write(h->ms, offset, buf, len);
    h->self->size = h->ms->size;
    return st;
}

static vb_status h_flush(void *ctx)
{
    struct handle *h = ctx;
    return h->ms->src.flush(h->ms);
}

static void h_close(void *ctx)
{
    struct handle *h = ctx;
    h->vol->open_handles--;
    free(h);
}

static vb_status volume_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    struct volume *vol = ctx;
    if (vol->asked < 64)
        snprintf(vol->opened[vol->asked++], VB_PATH_MAX, "%s", path);
    if (vol->fail_status != VB_OK && strcmp(path, vol->fail_path) == 0)
        return vol->fail_status;
    for (unsigned i = 0; i < vol->count; i++) {
        if (strcmp(vol->files[i].path, path) != 0)
            continue;
        struct handle *h = calloc(1, sizeof(*h));
        h->vol = vol;
        h->ms = vol->files[i].ms;
        h->self = out;
        memset(out, 0, sizeof(*out));
        out->size = h->ms->size;
        out->ctx = h;
        out->read = h_read;
        out->write = writable ? h_write : NULL;
        out->flush = h_flush;
        out->close = h_close;
        vol->opens++;
        vol->open_handles++;
        if (writable)
            vol->writable_opens++;
        return VB_OK;
    }
    return VB_ERR_NOT_FOUND;
}

static vb_opener opener_for(struct volume *vol)
{
    vb_opener o = { vol, volume_open };
    return o;
}

/* Adds a file to the volume (the volume owns ms). */
static memsource *add_file(struct volume *vol, const char *path, memsource *ms)
{
    assert_true(vol->count < MAX_FILES);
    snprintf(vol->files[vol->count].path, VB_PATH_MAX, "%s", path);
    vol->files[vol->count].ms = ms;
    vol->count++;
    return ms;
}

static memsource *find_file(struct volume *vol, const char *path)
{
    for (unsigned i = 0; i < vol->count; i++)
        if (strcmp(vol->files[i].path, path) == 0)
            return vol->files[i].ms;
    return NULL;
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct volume));
    return 0;
}

static int teardown(void **state)
{
    struct volume *vol = *state;
    assert_int_equal(vol->open_handles, 0); /* every error path closed its files */
    for (unsigned i = 0; i < vol->count; i++)
        memsource_free(vol->files[i].ms);
    free(vol);
    return 0;
}

/* ---- image builders ---- */

static void make_uuid(uint8_t uuid[16], unsigned seed)
{
    for (unsigned i = 0; i < 16; i++)
        uuid[i] = (uint8_t)(seed * 37u + i * 11u + 1u);
}

/* Creates a dynamic disk of size bytes at path; returns its info via *info. */
static void create_dynamic(struct volume *vol, const char *path, uint64_t size, unsigned seed, vb_vhd_info *info)
{
    memsource *ms = add_file(vol, path, memsource_new(NULL, 0));
    uint8_t uuid[16];
    make_uuid(uuid, seed);
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = size, .block_size = 0, .uuid = uuid, .timestamp = 1000 + seed };
    vb_diag diag = { 0 };
    vb_status st = vb_vhd_create(&ms->src, &p, &diag);
    if (st != VB_OK)
        fail_msg("create %s: %s", path, diag.text);
    if (info) {
        vb_layer *layer;
        assert_int_equal(vb_layer_open(&ms->src, path, 0, &layer, &diag), VB_OK);
        *info = *vb_layer_info(layer);
        vb_layer_close(layer);
    }
}

/* Creates a differencing disk at path whose parent is described by parent
 * (UUID, size), with the given W2ku/header name and W2ru locator text. */
static void create_diff(struct volume *vol, const char *path, const vb_vhd_info *parent, unsigned seed,
                        const char *parent_abs, const char *parent_rel, vb_vhd_info *info)
{
    memsource *ms = add_file(vol, path, memsource_new(NULL, 0));
    uint8_t uuid[16];
    make_uuid(uuid, seed);
    vb_create_params p = { .type = VB_DISK_DIFF, .size = parent->disk_size, .block_size = 0, .uuid = uuid,
                           .timestamp = 1000 + seed, .parent = parent, .parent_abs = parent_abs,
                           .parent_rel = parent_rel };
    vb_diag diag = { 0 };
    vb_status st = vb_vhd_create(&ms->src, &p, &diag);
    if (st != VB_OK)
        fail_msg("create %s: %s", path, diag.text);
    if (info) {
        vb_layer *layer;
        assert_int_equal(vb_layer_open(&ms->src, path, 0, &layer, &diag), VB_OK);
        *info = *vb_layer_info(layer);
        vb_layer_close(layer);
    }
}

/* A parent description with only what creation needs (UUID and size). */
static vb_vhd_info fake_parent(unsigned seed, uint64_t size)
{
    vb_vhd_info info;
    memset(&info, 0, sizeof(info));
    info.type = VB_DISK_DYNAMIC;
    info.disk_size = size;
    info.current_size = size;
    make_uuid(info.uuid, seed);
    return info;
}

static vb_status open_chain(struct volume *vol, const char *path, unsigned flags, vb_chain **chain, vb_diag *diag)
{
    vb_opener o = opener_for(vol);
    memset(diag, 0, sizeof(*diag));
    return vb_chain_open(&o, path, flags, chain, diag);
}

/* Fails unless text contains needle. */
static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("[%s] does not contain [%s]", text, needle);
}

/* ---- tests ---- */

/* Candidates come in W2ru, W2ku, header-name order, resolved and de-duplicated. */
static void test_candidates_order(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    create_diff(vol, "\\vms\\lab\\child.vhd", &parent, 2, "C:\\store\\base.vhd", "..\\base\\base.vhd", NULL);
    memsource *ms = find_file(vol, "\\vms\\lab\\child.vhd");
    vb_layer *layer;
    vb_diag diag = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\lab\\child.vhd", 0, &layer, &diag), VB_OK);
    char c[9][VB_PATH_MAX];
    unsigned n = vb_parent_candidates(layer, "\\vms\\lab\\child.vhd", c, 9);
    assert_int_equal(n, 3);
    assert_string_equal(c[0], "\\vms\\base\\base.vhd");
    assert_string_equal(c[1], "\\store\\base.vhd");
    assert_string_equal(c[2], "\\vms\\lab\\base.vhd");
    /* max limits the count */
    assert_int_equal(vb_parent_candidates(layer, "\\vms\\lab\\child.vhd", c, 1), 1);
    assert_string_equal(c[0], "\\vms\\base\\base.vhd");
    vb_layer_close(layer);
}

static void test_candidates_dedup(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    create_diff(vol, "\\vms\\child.vhd", &parent, 2, "C:\\VMS\\Base.vhd", ".\\base.vhd", NULL);
    memsource *ms = find_file(vol, "\\vms\\child.vhd");
    vb_layer *layer;
    vb_diag diag = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\child.vhd", 0, &layer, &diag), VB_OK);
    char c[9][VB_PATH_MAX];
    /* W2ku and the header name both name \vms\base.vhd, the same file as W2ru */
    assert_int_equal(vb_parent_candidates(layer, "\\vms\\child.vhd", c, 9), 1);
    assert_string_equal(c[0], "\\vms\\base.vhd");
    vb_layer_close(layer);
}

/* base <- mid <- top in three folders; data of each layer shows through. */
static void test_three_layer_chain(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base, mid;
    create_dynamic(vol, "\\img\\base.vhd", 8 * MiB, 1, &base);
    create_diff(vol, "\\img\\mid\\mid.vhd", &base, 2, "C:\\img\\base.vhd", "..\\base.vhd", &mid);
    create_diff(vol, "\\img\\mid\\top\\top.vhd", &mid, 3, "C:\\img\\mid\\mid.vhd", "..\\mid.vhd", NULL);

    /* put distinct data into base and mid through their own layers */
    uint8_t sector[512];
    vb_diag diag;
    vb_chain *chain;
    memset(sector, 0xB5, sizeof(sector));
    assert_int_equal(open_chain(vol, "\\img\\base.vhd", VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    assert_int_equal(vb_chain_depth(chain), 1);
    assert_int_equal(vb_source_write(vb_chain_source(chain), 10 * 512, sector, 512), VB_OK);
    assert_int_equal(vb_source_write(vb_chain_source(chain), 11 * 512, sector, 512), VB_OK);
    vb_chain_close(chain);
    memset(sector, 0x3D, sizeof(sector));
    assert_int_equal(open_chain(vol, "\\img\\mid\\mid.vhd", VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    assert_int_equal(vb_chain_depth(chain), 2);
    assert_int_equal(vb_source_write(vb_chain_source(chain), 11 * 512, sector, 512), VB_OK);
    vb_chain_close(chain);

    vol->writable_opens = 0;
    if (open_chain(vol, "\\img\\mid\\top\\top.vhd", 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_int_equal(vb_chain_depth(chain), 3);
    assert_int_equal(vol->writable_opens, 0);
    assert_string_equal(vb_chain_path(chain, 0), "\\img\\mid\\top\\top.vhd");
    assert_string_equal(vb_chain_path(chain, 1), "\\img\\mid\\mid.vhd");
    assert_string_equal(vb_chain_path(chain, 2), "\\img\\base.vhd");
    assert_null(vb_chain_path(chain, 3));
    assert_null(vb_chain_layer(chain, 3));
    assert_int_equal(vb_layer_info(vb_chain_layer(chain, 2))->type, VB_DISK_DYNAMIC);
    assert_int_equal(vb_chain_source(chain)->size, 8 * MiB);
    uint8_t got[3 * 512];
    assert_int_equal(vb_source_read(vb_chain_source(chain), 9 * 512, got, sizeof(got)), VB_OK);
    for (unsigned i = 0; i < 512; i++) {
        assert_int_equal(got[i], 0);            /* sector 9: nowhere -> zeros */
        assert_int_equal(got[512 + i], 0xB5);   /* sector 10: base */
        assert_int_equal(got[1024 + i], 0x3D);  /* sector 11: mid over base */
    }
    /* a read-only chain refuses writes */
    assert_int_equal(vb_source_write(vb_chain_source(chain), 0, got, 512), VB_ERR_WRITE_PROTECTED);
    vb_chain_close(chain);

    /* writable: only the top file is opened for writing */
    vol->writable_opens = 0;
    assert_int_equal(open_chain(vol, "\\img\\mid\\top\\top.vhd", VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    assert_int_equal(vol->writable_opens, 1);
    vb_chain_close(chain);
}

/* The first candidate is missing, the second exists: the second is used. */
static void test_falls_back_to_w2ku(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base;
    create_dynamic(vol, "\\store\\base.vhd", 4 * MiB, 1, &base);
    create_diff(vol, "\\vms\\child.vhd", &base, 2, "E:\\store\\base.vhd", ".\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    if (open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_string_equal(vb_chain_path(chain, 1), "\\store\\base.vhd");
    assert_string_equal(vol->opened[1], "\\vms\\base.vhd");
    assert_string_equal(vol->opened[2], "\\store\\base.vhd");
    vb_chain_close(chain);
}

/* The header name's last component in the child's folder is the last resort. */
static void test_falls_back_to_header_name(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base;
    create_dynamic(vol, "\\vms\\base.vhd", 4 * MiB, 1, &base);
    create_diff(vol, "\\vms\\child.vhd", &base, 2, "C:\\elsewhere\\base.vhd", "..\\gone\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    if (open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_string_equal(vb_chain_path(chain, 1), "\\vms\\base.vhd");
    vb_chain_close(chain);
}

/* Windows' view of a VHD chain: a parent reached by W2ru or W2ku is one
 * Windows finds; one found only by the header name beside the child is not
 * (the loader warns, naming W2ru/W2ku). */
static void test_windows_finds_parent(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base;
    create_dynamic(vol, "\\vms\\base.vhd", 4 * MiB, 1, &base);
    create_diff(vol, "\\vms\\by-rel.vhd", &base, 2, "C:\\elsewhere\\base.vhd", ".\\base.vhd", NULL);
    create_diff(vol, "\\vms\\by-abs.vhd", &base, 3, "D:\\vms\\base.vhd", "..\\gone\\base.vhd", NULL);
    create_diff(vol, "\\vms\\by-name.vhd", &base, 4, "C:\\elsewhere\\base.vhd", "..\\gone\\base.vhd", NULL);
    const char *children[3] = { "\\vms\\by-rel.vhd", "\\vms\\by-abs.vhd", "\\vms\\by-name.vhd" };
    for (unsigned i = 0; i < 3; i++) {
        vb_chain *chain;
        vb_diag diag;
        if (open_chain(vol, children[i], 0, &chain, &diag) != VB_OK)
            fail_msg("%s: %s", children[i], diag.text);
        assert_string_equal(vb_chain_path(chain, 1), "\\vms\\base.vhd");
        vb_layer *child = vb_chain_layer(chain, 0);
        if (vb_windows_finds_parent(child, vb_chain_path(chain, 0), vb_chain_path(chain, 1)) != (i < 2))
            fail_msg("%s: Windows %s find the parent", children[i], i < 2 ? "should" : "should not");
        assert_string_equal(vb_windows_locator_names(child), "W2ru/W2ku");
        /* the base has no parent to find */
        assert_false(vb_windows_finds_parent(vb_chain_layer(chain, 1), vb_chain_path(chain, 1), "\\vms\\base.vhd"));
        vb_chain_close(chain);
    }
}

static void test_missing_parent_message(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    create_diff(vol, "\\vms\\lab\\child.vhd", &parent, 2, "C:\\base.vhd", "..\\base\\base.vhd", NULL);
    vb_chain *chain = (vb_chain *)&chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\lab\\child.vhd", 0, &chain, &diag), VB_ERR_PARENT_NOT_FOUND);
    assert_null(chain);
    assert_int_equal(diag.status, VB_ERR_PARENT_NOT_FOUND);
    assert_contains(diag.text, "\\vms\\lab\\child.vhd: parent not found: ..\\base\\base.vhd");
    assert_contains(diag.text, "tried \\vms\\base\\base.vhd, \\base.vhd, \\vms\\lab\\base.vhd");
}

/* A locator that climbs above the root is not tried, and the message says why. */
static void test_locator_escaping_root(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    create_diff(vol, "\\vms\\child.vhd", &parent, 2, "C:\\base.vhd", "..\\..\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag), VB_ERR_PARENT_NOT_FOUND);
    assert_contains(diag.text, "..\\..\\base.vhd: parent path climbs above the volume root");
    assert_contains(diag.text, "\\base.vhd, \\vms\\base.vhd");
    for (unsigned i = 0; i < vol->asked; i++)
        assert_null(strstr(vol->opened[i], ".."));
}

static void test_missing_top(void **state)
{
    struct volume *vol = *state;
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\nothing.vhd", 0, &chain, &diag), VB_ERR_NOT_FOUND);
    assert_contains(diag.text, "\\nothing.vhd");
    assert_null(chain);
}

/* A file at the parent path with another UUID is refused, naming both files. */
static void test_wrong_uuid(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info expected = fake_parent(1, 4 * MiB);
    create_dynamic(vol, "\\vms\\base.vhd", 4 * MiB, 9, NULL); /* an impostor */
    create_diff(vol, "\\vms\\child.vhd", &expected, 2, "C:\\vms\\base.vhd", ".\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag), VB_ERR_PARENT_UUID);
    assert_null(chain);
    assert_contains(diag.text, "\\vms\\child.vhd");
    assert_contains(diag.text, "\\vms\\base.vhd has UUID");
}

/* An impostor at the first candidate does not hide the right file at the second. */
static void test_wrong_uuid_then_right_one(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base;
    create_dynamic(vol, "\\vms\\base.vhd", 4 * MiB, 9, NULL); /* impostor, W2ru target */
    create_dynamic(vol, "\\store\\base.vhd", 4 * MiB, 1, &base);
    create_diff(vol, "\\vms\\child.vhd", &base, 2, "C:\\store\\base.vhd", ".\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    if (open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_string_equal(vb_chain_path(chain, 1), "\\store\\base.vhd");
    vb_chain_close(chain);
}

/* A broken file at the only candidate: its own error is reported with the paths tried. */
static void test_broken_parent(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    add_file(vol, "\\vms\\base.vhd", memsource_new(NULL, 4096)); /* zeros: no footer */
    create_diff(vol, "\\vms\\child.vhd", &parent, 2, "C:\\vms\\base.vhd", ".\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag), VB_ERR_BAD_COOKIE);
    assert_contains(diag.text, "\\vms\\base.vhd");
    assert_contains(diag.text, "tried");
}

/* An I/O error opening the parent is reported, not taken for "not found". */
static void test_parent_io_error(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info parent = fake_parent(1, 4 * MiB);
    create_diff(vol, "\\vms\\child.vhd", &parent, 2, "C:\\vms\\base.vhd", ".\\base.vhd", NULL);
    vol->fail_status = VB_ERR_IO;
    strcpy(vol->fail_path, "\\vms\\base.vhd");
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag), VB_ERR_IO);
    assert_contains(diag.text, "\\vms\\base.vhd");
    assert_contains(diag.text, vb_status_message(VB_ERR_IO));
}

/* A -> B -> A is detected as a cycle. */
static void test_cycle(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info a_desc = fake_parent(10, 4 * MiB), b_desc = fake_parent(11, 4 * MiB);
    create_diff(vol, "\\vms\\a.vhd", &b_desc, 10, "C:\\vms\\b.vhd", ".\\b.vhd", NULL);
    create_diff(vol, "\\vms\\b.vhd", &a_desc, 11, "C:\\vms\\a.vhd", ".\\a.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\a.vhd", 0, &chain, &diag), VB_ERR_CHAIN_CYCLE);
    assert_null(chain);
    assert_contains(diag.text, "\\vms\\b.vhd");
    assert_contains(diag.text, "\\vms\\a.vhd");
}

/* A differencing disk that names itself as parent. */
static void test_self_cycle(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info self = fake_parent(12, 4 * MiB);
    create_diff(vol, "\\vms\\self.vhd", &self, 12, "C:\\vms\\self.vhd", ".\\self.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\self.vhd", 0, &chain, &diag), VB_ERR_CHAIN_CYCLE);
}

/* Builds base + n differencing layers: \d\l0.vhd (dynamic) ... \d\l<n>.vhd. */
static void build_deep_chain(struct volume *vol, unsigned n)
{
    vb_vhd_info info;
    char path[64], abs[64], rel[64];
    create_dynamic(vol, "\\d\\l0.vhd", 4 * MiB, 100, &info);
    for (unsigned i = 1; i <= n; i++) {
        snprintf(path, sizeof(path), "\\d\\l%u.vhd", i);
        snprintf(abs, sizeof(abs), "C:\\d\\l%u.vhd", i - 1);
        snprintf(rel, sizeof(rel), ".\\l%u.vhd", i - 1);
        vb_vhd_info next;
        create_diff(vol, path, &info, 100 + i, abs, rel, &next);
        info = next;
    }
}

static void test_depth_limit(void **state)
{
    struct volume *vol = *state;
    build_deep_chain(vol, VB_MAX_CHAIN_DEPTH); /* 33 files */
    vb_chain *chain;
    vb_diag diag;
    char top[64];
    snprintf(top, sizeof(top), "\\d\\l%u.vhd", VB_MAX_CHAIN_DEPTH - 1); /* 32 layers: allowed */
    if (open_chain(vol, top, 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_int_equal(vb_chain_depth(chain), VB_MAX_CHAIN_DEPTH);
    vb_chain_close(chain);
    snprintf(top, sizeof(top), "\\d\\l%u.vhd", VB_MAX_CHAIN_DEPTH); /* 33 layers: refused */
    assert_int_equal(open_chain(vol, top, 0, &chain, &diag), VB_ERR_CHAIN_TOO_DEEP);
    assert_null(chain);
    assert_contains(diag.text, top);
}

static void test_size_mismatch(void **state)
{
    struct volume *vol = *state;
    vb_vhd_info base;
    create_dynamic(vol, "\\vms\\base.vhd", 4 * MiB, 1, &base);
    vb_vhd_info bigger = base;
    bigger.disk_size = 8 * MiB;
    bigger.current_size = 8 * MiB;
    create_diff(vol, "\\vms\\child.vhd", &bigger, 2, "C:\\vms\\base.vhd", ".\\base.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;
    assert_int_equal(open_chain(vol, "\\vms\\child.vhd", 0, &chain, &diag), VB_ERR_PARENT_SIZE);
    assert_contains(diag.text, "\\vms\\child.vhd");
    assert_contains(diag.text, "\\vms\\base.vhd");
}

/* ---- random writes into the top of a 3-layer chain vs a raw mirror ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Writes count random runs of random bytes into src and the same bytes into
 * mirror: sector-aligned runs of 1..max_sectors sectors, or (unaligned) runs
 * at any byte offset of 1..max_sectors*512 bytes, which makes the layer
 * merge partial sectors with what lies below. */
static void random_writes(vb_source *src, uint8_t *mirror, uint64_t disk, unsigned count, unsigned max_sectors,
                          bool unaligned)
{
    size_t max = (size_t)max_sectors * 512;
    uint8_t *buf = malloc(max);
    for (unsigned i = 0; i < count; i++) {
        uint64_t off, n;
        if (unaligned) {
            off = rnd() % disk;
            n = 1 + rnd() % max;
        } else {
            off = (uint64_t)(rnd() % (disk / 512)) * 512;
            n = (uint64_t)(1 + rnd() % max_sectors) * 512;
        }
        if (n > disk - off)
            n = disk - off;
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)rnd();
        vb_status st = vb_source_write(src, off, buf, (size_t)n);
        if (st != VB_OK)
            fail_msg("write %u at %llu (+%llu): %s", i, (unsigned long long)off, (unsigned long long)n,
                     vb_status_message(st));
        memcpy(mirror + off, buf, (size_t)n);
    }
    free(buf);
}

/* Compares every sector of src with mirror. */
static void compare_all(vb_source *src, const uint8_t *mirror, uint64_t disk)
{
    uint8_t *got = malloc(64 * 512);
    for (uint64_t off = 0; off < disk; off += 64 * 512) {
        assert_int_equal(vb_source_read(src, off, got, 64 * 512), VB_OK);
        for (unsigned s = 0; s < 64; s++)
            if (memcmp(got + s * 512, mirror + off + s * 512, 512) != 0)
                fail_msg("sector %llu differs from the mirror", (unsigned long long)(off / 512 + s));
    }
    free(got);
}

static void test_random_writes_top_of_chain(void **state)
{
    struct volume *vol = *state;
    const uint64_t disk = 6 * MiB; /* three 2 MiB blocks */
    uint8_t *mirror = calloc(1, disk);
    vb_vhd_info base, mid;
    create_dynamic(vol, "\\r\\base.vhd", disk, 1, &base);
    create_diff(vol, "\\r\\mid.vhd", &base, 2, "C:\\r\\base.vhd", ".\\base.vhd", &mid);
    create_diff(vol, "\\r\\top.vhd", &mid, 3, "C:\\r\\mid.vhd", ".\\mid.vhd", NULL);
    vb_chain *chain;
    vb_diag diag;

    /* fill base, then mid (through its 2-layer chain), tracking the mirror */
    assert_int_equal(open_chain(vol, "\\r\\base.vhd", VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    random_writes(vb_chain_source(chain), mirror, disk, 60, 48, false);
    vb_chain_close(chain);
    assert_int_equal(open_chain(vol, "\\r\\mid.vhd", VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    random_writes(vb_chain_source(chain), mirror, disk, 60, 48, false);
    compare_all(vb_chain_source(chain), mirror, disk);
    vb_chain_close(chain);

    memsource *base_ms = find_file(vol, "\\r\\base.vhd"), *mid_ms = find_file(vol, "\\r\\mid.vhd");
    uint8_t *base_before = memsource_copy(base_ms), *mid_before = memsource_copy(mid_ms);
    size_t base_size = base_ms->size, mid_size = mid_ms->size;
    base_ms->writes = mid_ms->writes = 0;

    if (open_chain(vol, "\\r\\top.vhd", VB_OPEN_WRITABLE, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_int_equal(vb_chain_depth(chain), 3);
    compare_all(vb_chain_source(chain), mirror, disk);
    random_writes(vb_chain_source(chain), mirror, disk, 300, 40, false);
    compare_all(vb_chain_source(chain), mirror, disk);
    random_writes(vb_chain_source(chain), mirror, disk, 300, 40, true);
    compare_all(vb_chain_source(chain), mirror, disk);
    vb_chain_close(chain);

    /* reopened read-only from the files alone, the data is still there */
    assert_int_equal(open_chain(vol, "\\r\\top.vhd", 0, &chain, &diag), VB_OK);
    compare_all(vb_chain_source(chain), mirror, disk);
    vb_chain_close(chain);

    /* the parents were never touched */
    assert_int_equal(base_ms->writes, 0);
    assert_int_equal(mid_ms->writes, 0);
    assert_int_equal(base_ms->size, base_size);
    assert_int_equal(mid_ms->size, mid_size);
    assert_memory_equal(base_ms->data, base_before, base_size);
    assert_memory_equal(mid_ms->data, mid_before, mid_size);
    free(base_before);
    free(mid_before);
    free(mirror);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_candidates_order),
        T(test_candidates_dedup),
        T(test_three_layer_chain),
        T(test_falls_back_to_w2ku),
        T(test_falls_back_to_header_name),
        T(test_windows_finds_parent),
        T(test_missing_parent_message),
        T(test_locator_escaping_root),
        T(test_missing_top),
        T(test_wrong_uuid),
        T(test_wrong_uuid_then_right_one),
        T(test_broken_parent),
        T(test_parent_io_error),
        T(test_cycle),
        T(test_self_cycle),
        T(test_depth_limit),
        T(test_size_mismatch),
        T(test_random_writes_top_of_chain),
    };
    return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
