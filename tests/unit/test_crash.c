/* Unit tests: crash-consistent writes of dynamic and differencing layers.
 *
 * For each kind of write (one that allocates a block, one into an allocated
 * block, one spanning two new blocks, an unaligned one into a new block) the
 * file stops accepting writes after N of them, for every N up to the count
 * the write needs (a simulated power loss), and also tears the N-th write
 * (its first sectors land, the rest not), and also loses each write not yet
 * followed by a flush at the cut while the later ones land (a disk or file
 * cache may reorder writes between flushes). The image is then reopened from
 * the bytes left and must:
 *   - open, and pass vb_layer_check; the one accepted exception is the window
 *     where the new block already covers the old trailing footer but the
 *     footer has not been rewritten after it: the image then opens read-only
 *     through the intact footer copy at offset 0, check reports only the
 *     damaged trailing footer, and rewriting it from the copy (what
 *     `vhdtool check --repair` does) gives an image that opens and passes
 *     check. Unreferenced space left by an interrupted allocation (a block
 *     written but not yet in the BAT) is slack that check does not report
 *     and the next allocation reuses;
 *   - read, in every sector, either the old or the new data (the new data
 *     when the write completed and nothing was lost);
 *   - accept the same write again and then read exactly the new data;
 *   - never have written the parent.
 * Each case also runs with write-back on (vb_layer_set_write_back): the
 * write and then a flush, which writes the metadata kept back; a cut, torn
 * or lost write anywhere in both must leave the same guarantees. */
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

#define KIB 1024u
#define BLOCK (16u * KIB)
#define DISK (8u * BLOCK)

static const uint8_t top_uuid[16] = { 0xC7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t base_uuid[16] = { 0xB5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

typedef struct write_case {
    const char *name;
    uint64_t offset;
    size_t len;
} write_case;

static const write_case cases[] = {
    { "new block", 2 * BLOCK + 1024, 2048 },
    { "allocated block", 8 * KIB, 1024 },        /* block 0 holds [0, 4 KiB) already */
    { "two new blocks", 4 * BLOCK - 1024, 3072 },
    { "unaligned into a new block", 5 * BLOCK + 100, 700 },
    { "whole new block", 6 * BLOCK, BLOCK },     /* bitmap and data written without composing */
};

/* One image under test: its file bytes and (differencing) its parent. */
typedef struct fixture {
    uint8_t *file;
    size_t file_size;
    memsource *parent;        /* raw parent disk refusing writes; NULL for dynamic */
    uint8_t *parent_bytes;    /* the parent's original contents */
} fixture;

/* Deterministic fill. */
static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

/* Opens the layer over src with flags; attaches the parent. Fails the test on error. */
static vb_layer *open_layer(fixture *fx, vb_source *src, unsigned flags)
{
    vb_layer *layer = NULL;
    vb_diag diag = { 0 };
    if (vb_layer_open(src, "\\vm\\top.vhd", flags, &layer, &diag) != VB_OK)
        fail_msg("open: %s", diag.text);
    if (fx->parent)
        vb_layer_set_parent(layer, &fx->parent->src);
    return layer;
}

/* Builds a dynamic or differencing image of DISK bytes whose [0, 4 KiB) is written. */
static void make_fixture(fixture *fx, enum vb_disk_type type)
{
    memset(fx, 0, sizeof(*fx));
    memsource *ms = memsource_new(NULL, 0);
    vb_vhd_info parent_info = { 0 };
    parent_info.disk_size = DISK;
    memcpy(parent_info.uuid, base_uuid, 16);
    vb_create_params p = { 0 };
    p.type = type;
    p.size = DISK;
    p.block_size = BLOCK;
    p.uuid = top_uuid;
    p.timestamp = 7;
    p.parent = &parent_info;
    p.parent_abs = "\\vm\\base.vhd";
    p.parent_rel = ".\\base.vhd";
    vb_diag diag = { 0 };
    if (vb_vhd_create(&ms->src, &p, &diag) != VB_OK)
        fail_msg("create: %s", diag.text);
    if (type == VB_DISK_DIFF) {
        fx->parent_bytes = malloc(DISK);
        fill(fx->parent_bytes, DISK, 99);
        fx->parent = memsource_new(fx->parent_bytes, DISK);
        memsource_fail_after_writes(fx->parent, 0);
    }
    vb_layer *layer = open_layer(fx, &ms->src, VB_OPEN_WRITABLE);
    uint8_t first[4 * KIB];
    fill(first, sizeof(first), 5);
    assert_int_equal(vb_source_write(vb_layer_source(layer), 0, first, sizeof(first)), VB_OK);
    vb_layer_close(layer);
    /* the footer moves on to end one sector before a 4 KiB boundary (slack
     * before it, as in files of other tools): the next block then starts
     * over it, so its first sector displaces the old footer */
    size_t footer = ms->size - VB_SECTOR, moved = (footer + VB_SECTOR + 4095) / 4096 * 4096 - VB_SECTOR;
    uint8_t copy[VB_SECTOR];
    memcpy(copy, ms->data + footer, VB_SECTOR);
    memset(ms->data + footer, 0, VB_SECTOR);
    assert_int_equal(vb_source_write(&ms->src, moved, copy, VB_SECTOR), VB_OK);
    fx->file = memsource_copy(ms);
    fx->file_size = ms->size;
    memsource_free(ms);
}

static void free_fixture(fixture *fx)
{
    free(fx->file);
    free(fx->parent_bytes);
    memsource_free(fx->parent);
}

/* Reads the whole disk of a layer into a new buffer. */
static uint8_t *read_disk(vb_layer *layer)
{
    uint8_t *disk = malloc(DISK);
    assert_int_equal(vb_source_read(vb_layer_source(layer), 0, disk, DISK), VB_OK);
    return disk;
}

/* vb_layer_check report: remembers the count and whether every line was the damaged-footer one. */
typedef struct problems {
    unsigned count;
    unsigned other;
} problems;

static void note_problem(void *ctx, const char *line)
{
    problems *p = ctx;
    p->count++;
    if (!strstr(line, "trailing footer is damaged"))
        p->other++;
}

/* Fails unless every sector of disk equals the same sector of old or of new. */
static void expect_old_or_new(const uint8_t *disk, const uint8_t *old, const uint8_t *new_, const char *what)
{
    for (size_t s = 0; s < DISK; s += VB_SECTOR)
        if (memcmp(disk + s, old + s, VB_SECTOR) != 0 && memcmp(disk + s, new_ + s, VB_SECTOR) != 0)
            fail_msg("%s: sector %zu is neither the old nor the new data", what, s / VB_SECTOR);
}

/* Opens the bytes left by a crash; repairs the trailing footer from the copy
 * if (and only if) that is the one problem. Returns the memsource holding
 * the openable image (caller frees). */
static memsource *reopen_after_crash(fixture *fx, const uint8_t *bytes, size_t size, const char *what)
{
    memsource *img = memsource_new(bytes, size);
    vb_layer *layer = NULL;
    vb_diag diag = { 0 };
    problems found = { 0 };
    if (vb_layer_open(&img->src, "\\vm\\top.vhd", 0, &layer, &diag) != VB_OK) {
        /* a writable open (the loader's, vhdtool attach's) repairs it itself */
        memsource *rw = memsource_new(bytes, size);
        layer = open_layer(fx, &rw->src, VB_OPEN_WRITABLE);
        if (!vb_layer_info(layer)->footer_repaired)
            fail_msg("%s: a writable open did not repair the trailing footer", what);
        vb_layer_close(layer);
        layer = open_layer(fx, &rw->src, 0);
        problems after_repair = { 0 };
        if (vb_layer_check(layer, note_problem, &after_repair) != VB_OK)
            fail_msg("%s: %u problem(s) after the writable open's repair", what, after_repair.count);
        vb_layer_close(layer);
        memsource_free(rw);
        layer = open_layer(fx, &img->src, VB_OPEN_USE_FOOTER_COPY);
        if (!vb_layer_info(layer)->footer_from_copy)
            fail_msg("%s: plain open failed (%s) but the footer copy was not used", what, diag.text);
        vb_layer_check(layer, note_problem, &found);
        if (found.other != 0 || found.count != 1)
            fail_msg("%s: %u problem(s) besides the damaged trailing footer", what, found.other);
        uint64_t at = vb_layer_info(layer)->footer_offset;
        vb_layer_close(layer);
        assert_int_equal(vb_source_write(&img->src, at, img->data, VB_SECTOR), VB_OK); /* the repair */
        if (vb_layer_open(&img->src, "\\vm\\top.vhd", 0, &layer, &diag) != VB_OK)
            fail_msg("%s: still does not open after the footer repair: %s", what, diag.text);
    }
    vb_layer_close(layer);
    layer = open_layer(fx, &img->src, 0);
    found = (problems){ 0 };
    if (vb_layer_check(layer, note_problem, &found) != VB_OK)
        fail_msg("%s: vb_layer_check reports %u problem(s)", what, found.count);
    vb_layer_close(layer);
    return img;
}

/* One simulated power loss: the file takes `landed` writes, then refuses
 * the rest; the first refused one stores its first `tear` bytes; the write
 * with index `lost` (-1: none) is acknowledged but never stored. */
typedef struct crash_t {
    unsigned landed;
    size_t tear;
    long lost;
} crash_t;

/* Tells whether a flush came after at least `from` writes and at most
 * `to` writes (the writes before it were then durable). */
static bool flushed_between(const unsigned *flush_after, unsigned flushes, unsigned from, unsigned to)
{
    for (unsigned i = 0; i < flushes; i++)
        if (flush_after[i] >= from && flush_after[i] <= to)
            return true;
    return false;
}

/* The write under test: with write-back on, the write and the flush that
 * commits it. Returns the first failing status. */
static vb_status do_write(vb_layer *layer, const write_case *wc, const uint8_t *data, bool write_back)
{
    vb_source *src = vb_layer_source(layer);
    if (!write_back)
        return vb_source_write(src, wc->offset, data, wc->len);
    vb_status st = vb_layer_set_write_back(layer, true);
    if (st == VB_OK)
        st = vb_source_write(src, wc->offset, data, wc->len);
    return st != VB_OK ? st : vb_source_flush(src);
}

/* Runs the write of wc under crash c, reopens what is left and checks it
 * (old or new data in every sector; the completed write reads back when
 * nothing was lost; the same write then goes through and reads back). */
static void crash_variant(fixture *fx, const write_case *wc, const uint8_t *data, const uint8_t *old,
                          const uint8_t *want, const crash_t *c, bool write_back, const char *what)
{
    memsource *ms = memsource_new(fx->file, fx->file_size);
    vb_layer *layer = open_layer(fx, &ms->src, VB_OPEN_WRITABLE);
    memsource_reset_counters(ms);
    memsource_fail_after_writes(ms, (long)c->landed);
    ms->torn_bytes = c->tear;
    ms->drop_write = c->lost;
    vb_status st = do_write(layer, wc, data, write_back);
    bool completed = ms->failed_writes == 0;
    if (!completed && st == VB_OK)
        fail_msg("%s: the write succeeded without all its file writes", what);
    if (completed && st != VB_OK)
        fail_msg("%s: the write failed", what);
    vb_layer_close(layer);

    memsource *img = reopen_after_crash(fx, ms->data, ms->size, what);
    layer = open_layer(fx, &img->src, 0);
    uint8_t *disk = read_disk(layer);
    expect_old_or_new(disk, old, want, what);
    if (completed && c->lost < 0 && memcmp(disk, want, DISK) != 0)
        fail_msg("%s: the completed write does not read back", what);
    vb_layer_close(layer);
    free(disk);

    /* after the reboot the same write goes through */
    layer = open_layer(fx, &img->src, VB_OPEN_WRITABLE);
    assert_int_equal(vb_source_write(vb_layer_source(layer), wc->offset, data, wc->len), VB_OK);
    vb_layer_close(layer);
    layer = open_layer(fx, &img->src, 0);
    disk = read_disk(layer);
    if (memcmp(disk, want, DISK) != 0)
        fail_msg("%s: rewriting after the crash does not give the new data", what);
    problems found = { 0 };
    if (vb_layer_check(layer, note_problem, &found) != VB_OK)
        fail_msg("%s: check fails after rewriting (%u problems)", what, found.count);
    vb_layer_close(layer);
    free(disk);
    memsource_free(img);
    memsource_free(ms);
}

/* Runs one write case on one fixture: a full run to count the file writes,
 * then a cut (and a torn cut) at every step. */
static void crash_case(enum vb_disk_type type, const write_case *wc, bool write_back)
{
    fixture fx;
    make_fixture(&fx, type);
    uint8_t *data = malloc(wc->len);
    fill(data, wc->len, 1234);

    /* old and new contents of the disk */
    memsource *ms = memsource_new(fx.file, fx.file_size);
    vb_layer *layer = open_layer(&fx, &ms->src, VB_OPEN_WRITABLE);
    uint8_t *old = read_disk(layer);
    uint8_t *want = malloc(DISK);
    memcpy(want, old, DISK);
    memcpy(want + wc->offset, data, wc->len);
    memsource_reset_counters(ms);
    assert_int_equal(do_write(layer, wc, data, write_back), VB_OK);
    unsigned steps = ms->writes;
    memsource_io log[16];
    assert_true(steps >= 1 && steps <= 16);
    memcpy(log, ms->write_log, steps * sizeof(log[0]));
    unsigned flush_after[MEMSOURCE_FLUSH_LOG], flushes = ms->flush_logged;
    memcpy(flush_after, ms->flush_after, sizeof(flush_after));
    vb_layer_close(layer);
    memsource_free(ms);

    char what[160];
    const char *kind = type == VB_DISK_DIFF ? (write_back ? "differencing, write-back" : "differencing")
                                            : (write_back ? "dynamic, write-back" : "dynamic");
    for (unsigned n = 0; n <= steps; n++) {
        crash_t plain = { n, 0, -1 };
        snprintf(what, sizeof(what), "%s, %s, cut after %u of %u writes", kind, wc->name, n, steps);
        crash_variant(&fx, wc, data, old, want, &plain, write_back, what);
        if (n < steps && log[n].len > VB_SECTOR) { /* sector writes are atomic: nothing to tear */
            crash_t torn = { n, (log[n].len / 2 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR, -1 };
            snprintf(what, sizeof(what), "%s, %s, cut after %u of %u writes (next one torn)", kind, wc->name, n,
                     steps);
            crash_variant(&fx, wc, data, old, want, &torn, write_back, what);
        }
        for (unsigned k = 0; k < n; k++) {
            /* write k was durable when a flush completed after it; the one
             * issued right after the n-th write may not have completed */
            if (flushed_between(flush_after, flushes, k + 1, n - 1))
                continue;
            crash_t lost = { n, 0, (long)k };
            snprintf(what, sizeof(what), "%s, %s, cut after %u of %u writes, unflushed write %u lost", kind,
                     wc->name, n, steps, k + 1);
            crash_variant(&fx, wc, data, old, want, &lost, write_back, what);
        }
    }
    if (fx.parent) {
        assert_int_equal(fx.parent->writes + fx.parent->failed_writes, 0);
        assert_memory_equal(fx.parent->data, fx.parent_bytes, DISK);
    }
    free(old);
    free(want);
    free(data);
    free_fixture(&fx);
}

/* Runs every write case on one image type. */
static void crash_all_cases(enum vb_disk_type type)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        crash_case(type, &cases[i], false);
        crash_case(type, &cases[i], true);
    }
}

static void test_dynamic_crash_at_every_step(void **state)
{
    (void)state;
    crash_all_cases(VB_DISK_DYNAMIC);
}

static void test_differencing_crash_at_every_step(void **state)
{
    (void)state;
    crash_all_cases(VB_DISK_DIFF);
}

/* The knob itself: a torn write stores its first bytes and still fails. */
static void test_torn_write_knob(void **state)
{
    (void)state;
    memsource *ms = memsource_new(NULL, 0);
    uint8_t buf[2048];
    memset(buf, 0xAB, sizeof(buf));
    memsource_fail_after_writes(ms, 1);
    ms->torn_bytes = 512;
    assert_int_equal(vb_source_write(&ms->src, 0, buf, 1024), VB_OK);
    assert_int_equal(vb_source_write(&ms->src, 1024, buf, 1024), VB_ERR_IO);
    assert_int_equal(ms->size, 1536);
    assert_int_equal(ms->data[1535], 0xAB);
    assert_int_equal(vb_source_write(&ms->src, 4096, buf, 1024), VB_ERR_IO); /* only the first is torn */
    assert_int_equal(ms->size, 1536);
    assert_int_equal(ms->writes, 1);
    assert_int_equal(ms->failed_writes, 2);
    memsource_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torn_write_knob),
        cmocka_unit_test(test_dynamic_crash_at_every_step),
        cmocka_unit_test(test_differencing_crash_at_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
