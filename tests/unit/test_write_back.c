/* Unit tests: write-back of a VHD's metadata (format/vhd_write_back.c).
 * Writes with write-back on read back at once; the file gets their bitmap
 * bits and BAT entries only at the next flush (a copy of the file bytes
 * taken before it reads the old data and passes check); more dirty blocks
 * than the bitmap cache holds commit on their own; a failed commit makes
 * every later write and flush fail; fixed disks and read-only layers
 * ignore it; a range placed with vb_layer_place reads as before until
 * vb_layer_mark; crash consistency at every write is in test_crash.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/vhd.h"
#include "memsource.h"

#define KIB 1024u
static const uint8_t top_uuid[16] = { 0xAB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t base_uuid[16] = { 0xBA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* Deterministic fill. */
static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
}

/* A new image of `size` bytes in blocks of `block` bytes. */
static memsource *new_image(enum vb_disk_type type, uint64_t size, uint32_t block)
{
    memsource *ms = memsource_new(NULL, 0);
    vb_vhd_info parent = { 0 };
    parent.disk_size = size;
    memcpy(parent.uuid, base_uuid, 16);
    vb_create_params p = { 0 };
    p.type = type;
    p.size = size;
    p.block_size = block;
    p.uuid = top_uuid;
    p.timestamp = 5;
    p.parent = &parent;
    p.parent_abs = "\\vm\\base.vhd";
    p.parent_rel = ".\\base.vhd";
    vb_diag d = { 0 };
    if (vb_vhd_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    return ms;
}

/* Opens a layer over src (parent attached when given). */
static vb_layer *open_layer(vb_source *src, unsigned flags, vb_source *parent)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    if (vb_layer_open(src, "\\vm\\top.vhd", flags, &l, &d) != VB_OK)
        fail_msg("open: %s", d.text);
    if (parent)
        vb_layer_set_parent(l, parent);
    return l;
}

/* Fails unless the layer reads as want over its whole disk. */
static void expect_disk(vb_layer *l, const uint8_t *want, size_t size, const char *what)
{
    uint8_t *got = malloc(size);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, got, size), VB_OK);
    for (size_t i = 0; i < size; i++)
        if (got[i] != want[i])
            fail_msg("%s: byte %zu differs", what, i);
    free(got);
}

static void count_problem(void *ctx, const char *line)
{
    print_message("# check: %s\n", line);
    (*(unsigned *)ctx)++;
}

/* Opens a snapshot of the file's bytes read-only: it must pass check and
 * read as want. */
static void expect_file_reads(const memsource *ms, vb_source *parent, const uint8_t *want, size_t size,
                              const char *what)
{
    memsource *copy = memsource_new(ms->data, ms->size);
    vb_layer *l = open_layer(&copy->src, 0, parent);
    unsigned problems = 0;
    if (vb_layer_check(l, count_problem, &problems) != VB_OK)
        fail_msg("%s: check reports %u problem(s)", what, problems);
    expect_disk(l, want, size, what);
    vb_layer_close(l);
    memsource_free(copy);
}

/* Dynamic disk: new blocks and their bits reach the file at the flush,
 * not before, and the flush count does not grow with the blocks. */
static void test_dynamic_metadata_waits_for_flush(void **state)
{
    (void)state;
    const size_t size = 64 * 4 * KIB;
    memsource *ms = new_image(VB_DISK_DYNAMIC, size, 4 * KIB);
    uint8_t *old = calloc(1, size), *want = malloc(size);
    memcpy(want, old, size);
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, NULL);
    assert_int_equal(vb_layer_set_write_back(l, true), VB_OK);
    memsource_reset_counters(ms);
    uint8_t data[6 * KIB];
    for (unsigned i = 0; i < 20; i++) {
        size_t off = (size_t)i * 12 * KIB + 512 * (i % 5);
        fill(data, sizeof data, i + 1);
        assert_int_equal(vb_source_write(vb_layer_source(l), off, data, sizeof data), VB_OK);
        memcpy(want + off, data, sizeof data);
    }
    assert_int_equal(ms->flushes, 0);
    expect_disk(l, want, size, "before the flush, through the layer");
    expect_file_reads(ms, NULL, old, size, "before the flush, the file");
    assert_int_equal(vb_source_flush(vb_layer_source(l)), VB_OK);
    assert_true(ms->flushes <= 3);
    expect_file_reads(ms, NULL, want, size, "after the flush, the file");
    vb_layer_close(l);
    free(old);
    free(want);
    memsource_free(ms);
}

/* Differencing disk: more dirty blocks than the bitmap cache holds, with
 * bits set in blocks allocated earlier; every write reads back at once,
 * the parent is never written, and close commits what is left. */
static void test_differencing_many_dirty_blocks(void **state)
{
    (void)state;
    const uint32_t block = 4 * KIB; /* 8 sectors: one bitmap sector each, 128 cache slots */
    const size_t size = 400 * (size_t)block;
    uint8_t *base = malloc(size), *want = malloc(size), *base_copy = malloc(size);
    fill(base, size, 77);
    memcpy(base_copy, base, size);
    memcpy(want, base, size);
    memsource *parent = memsource_new(base, size);
    memsource_fail_after_writes(parent, 0);
    memsource *ms = new_image(VB_DISK_DIFF, size, block);
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, &parent->src);
    vb_layer_set_write_back(l, true);
    uint8_t data[KIB];
    for (unsigned round = 0; round < 2; round++) {
        for (size_t b = 0; b < size / block; b++) {
            size_t off = b * block + (round ? 2 * KIB : 512);
            fill(data, sizeof data, (uint32_t)(b * 3 + round));
            assert_int_equal(vb_source_write(vb_layer_source(l), off, data, sizeof data), VB_OK);
            memcpy(want + off, data, sizeof data);
        }
        expect_disk(l, want, size, "through the layer");
    }
    vb_layer_close(l); /* commits and flushes */
    expect_file_reads(ms, &parent->src, want, size, "after close");
    assert_int_equal(parent->writes + parent->failed_writes, 0);
    assert_memory_equal(parent->data, base_copy, size);
    memsource_free(parent);
    memsource_free(ms);
    free(base);
    free(base_copy);
    free(want);
}

/* A commit that fails leaves the layer refusing writes and flushes with
 * the same error, and the file as it was at the last good flush. */
static void test_failed_commit_is_sticky(void **state)
{
    (void)state;
    const size_t size = 16 * 4 * KIB;
    memsource *ms = new_image(VB_DISK_DYNAMIC, size, 4 * KIB);
    uint8_t *old = calloc(1, size);
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, NULL);
    vb_layer_set_write_back(l, true);
    uint8_t data[4 * KIB];
    fill(data, sizeof data, 9);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, data, sizeof data), VB_OK);
    memsource_fail_after_writes(ms, 0); /* the disk goes away */
    assert_int_equal(vb_source_flush(vb_layer_source(l)), VB_ERR_IO);
    assert_int_equal(vb_source_write(vb_layer_source(l), 8 * KIB, data, sizeof data), VB_ERR_IO);
    assert_int_equal(vb_source_flush(vb_layer_source(l)), VB_ERR_IO);
    vb_layer_close(l);
    expect_file_reads(ms, NULL, old, size, "after the failed commit");
    free(old);
    memsource_free(ms);
}

/* Fixed disks and read-only layers take no write-back: a fixed disk's write
 * is in the file at once. */
static void test_ignored_where_it_does_not_apply(void **state)
{
    (void)state;
    const size_t size = 64 * KIB;
    memsource *ms = new_image(VB_DISK_FIXED, size, 0);
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, NULL);
    assert_int_equal(vb_layer_set_write_back(l, true), VB_OK);
    uint8_t data[KIB];
    fill(data, sizeof data, 3);
    assert_int_equal(vb_source_write(vb_layer_source(l), 4 * KIB, data, sizeof data), VB_OK);
    assert_memory_equal(ms->data + 4 * KIB, data, sizeof data);
    vb_layer_close(l);
    memsource_free(ms);

    ms = new_image(VB_DISK_DYNAMIC, size, 4 * KIB);
    l = open_layer(&ms->src, 0, NULL);
    assert_int_equal(vb_layer_set_write_back(l, true), VB_OK);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, data, sizeof data), VB_ERR_WRITE_PROTECTED);
    vb_layer_close(l);
    memsource_free(ms);
}

/* Turning write-back off commits and flushes; later writes are synchronous. */
static void test_turning_off_commits(void **state)
{
    (void)state;
    const size_t size = 16 * 4 * KIB;
    memsource *ms = new_image(VB_DISK_DYNAMIC, size, 4 * KIB);
    uint8_t *want = calloc(1, size);
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, NULL);
    vb_layer_set_write_back(l, true);
    uint8_t data[2 * KIB];
    fill(data, sizeof data, 4);
    assert_int_equal(vb_source_write(vb_layer_source(l), KIB, data, sizeof data), VB_OK);
    memcpy(want + KIB, data, sizeof data);
    assert_int_equal(vb_layer_set_write_back(l, false), VB_OK);
    expect_file_reads(ms, NULL, want, size, "after turning it off");
    fill(data, sizeof data, 5);
    assert_int_equal(vb_source_write(vb_layer_source(l), 20 * KIB, data, sizeof data), VB_OK);
    memcpy(want + 20 * KIB, data, sizeof data);
    expect_file_reads(ms, NULL, want, size, "a synchronous write after it");
    vb_layer_close(l);
    free(want);
    memsource_free(ms);
}

/* vb_layer_place + vb_layer_mark on a dynamic or differencing layer: a
 * placed range reads as before (a differencing one until marked, also when
 * its bytes are in the file; a dynamic one until its bytes are in the
 * file); marked, it reads the new bytes, and so does the file after the
 * flush; the rest of a new block reads as before. */
static void place_and_mark(enum vb_disk_type type)
{
    const uint32_t block = 16 * KIB;
    const size_t size = 8 * (size_t)block;
    uint8_t *old = calloc(1, size), *want = malloc(size);
    memsource *parent = NULL;
    if (type == VB_DISK_DIFF) {
        fill(old, size, 31);
        parent = memsource_new(old, size);
        memsource_fail_after_writes(parent, 0);
    }
    memcpy(want, old, size);
    memsource *ms = new_image(type, size, block);
    vb_source *psrc = parent ? &parent->src : NULL;
    vb_layer *l = open_layer(&ms->src, VB_OPEN_WRITABLE, psrc);
    uint64_t at = 0;
    assert_int_equal(vb_layer_place(l, block + 2 * KIB, 4 * KIB, &at), VB_ERR_UNSUPPORTED);
    vb_layer_set_write_back(l, true);
    assert_int_equal(vb_layer_place(l, block - KIB, 2 * KIB, &at), VB_ERR_OUT_OF_RANGE); /* two blocks */
    assert_int_equal(vb_layer_place(l, block + 100, 512, &at), VB_ERR_OUT_OF_RANGE);    /* unaligned */
    /* a new block, then a second range in the same block */
    uint8_t data[4 * KIB];
    const uint64_t offs[2] = { block + 2 * KIB, block + 10 * KIB };
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(vb_layer_place(l, offs[i], sizeof data, &at), VB_OK);
        assert_int_equal(vb_layer_info(l)->allocated_blocks, 1);
        expect_disk(l, want, size, "placed, before its data");
        fill(data, sizeof data, 40 + i);
        assert_int_equal(vb_source_write(&ms->src, at, data, sizeof data), VB_OK);
        if (type == VB_DISK_DYNAMIC) /* its reads follow the block table only */
            memcpy(want + offs[i], data, sizeof data);
        expect_disk(l, want, size, "data in the file, not marked");
        assert_int_equal(vb_layer_mark(l, offs[i], sizeof data), VB_OK);
        memcpy(want + offs[i], data, sizeof data);
        expect_disk(l, want, size, "marked");
    }
    assert_int_equal(vb_layer_mark(l, 5 * (uint64_t)block, 512), VB_ERR_OUT_OF_RANGE); /* not allocated */
    assert_int_equal(vb_source_flush(vb_layer_source(l)), VB_OK);
    expect_file_reads(ms, psrc, want, size, "after the flush");
    vb_layer_close(l);
    if (parent) {
        assert_int_equal(parent->writes + parent->failed_writes, 0);
        memsource_free(parent);
    }
    memsource_free(ms);
    free(old);
    free(want);
}

static void test_dynamic_place_and_mark(void **state)
{
    (void)state;
    place_and_mark(VB_DISK_DYNAMIC);
}

static void test_differencing_place_and_mark(void **state)
{
    (void)state;
    place_and_mark(VB_DISK_DIFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_metadata_waits_for_flush),
        cmocka_unit_test(test_differencing_many_dirty_blocks),
        cmocka_unit_test(test_failed_commit_is_sticky),
        cmocka_unit_test(test_ignored_where_it_does_not_apply),
        cmocka_unit_test(test_turning_off_commits),
        cmocka_unit_test(test_dynamic_place_and_mark),
        cmocka_unit_test(test_differencing_place_and_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
