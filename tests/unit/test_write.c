/* Unit tests: writes to a VHD layer — round trips through reopen (dynamic,
 * differencing, partial blocks, cross-block, unaligned), allocation order,
 * bitmap bits, parents never written, crash consistency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd.h"
#include "memsource.h"

#define MIB (1024u * 1024u)
static const uint8_t child_uuid[16] = { 0xC1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t parent_uuid[16] = { 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF };

/* Deterministic pseudo-random numbers (seeded per test). */
static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static memsource *new_image(enum vb_disk_type type, uint64_t size, uint32_t block_size)
{
    memsource *ms = memsource_new(NULL, 0);
    vb_vhd_info parent = { 0 };
    parent.disk_size = size;
    memcpy(parent.uuid, parent_uuid, 16);
    vb_create_params p = { 0 };
    p.type = type;
    p.size = size;
    p.block_size = block_size;
    p.uuid = child_uuid;
    p.timestamp = 99;
    p.parent = &parent;
    p.parent_abs = "\\vms\\base.vhd";
    p.parent_rel = ".\\base.vhd";
    vb_diag d = { 0 };
    if (vb_vhd_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    return ms;
}

/* A parent of random bytes whose every write fails; its contents go to mirror. */
static memsource *new_parent(uint64_t size, uint8_t *mirror)
{
    for (uint64_t i = 0; i < size; i++)
        mirror[i] = (uint8_t)rng();
    memsource *ms = memsource_new(mirror, size);
    memsource_fail_after_writes(ms, 0);
    return ms;
}

static vb_layer *open_layer(memsource *ms, unsigned flags)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    if (vb_layer_open(&ms->src, "\\t\\w.vhd", flags, &l, &d) != VB_OK)
        fail_msg("open: %s", d.text);
    return l;
}

/* Reads the whole disk through the layer and compares with mirror. */
static void expect_disk(vb_layer *l, const uint8_t *mirror, uint64_t size)
{
    uint8_t *buf = malloc(size);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, size), VB_OK);
    for (uint64_t i = 0; i < size; i++)
        if (buf[i] != mirror[i])
            fail_msg("byte %llu: got 0x%02x, expected 0x%02x", (unsigned long long)i, buf[i], mirror[i]);
    free(buf);
}

/* Does `count` random writes (aligned and not, some spanning blocks) to the
 * layer and the mirror. */
static void random_writes(vb_layer *l, uint8_t *mirror, uint64_t size, unsigned count, bool aligned_only)
{
    uint8_t *data = malloc(3 * MIB);
    for (unsigned n = 0; n < count; n++) {
        uint64_t len = 1 + rng() % (n % 4 == 0 ? 3 * MIB / 2 : 20000);
        uint64_t off = ((uint64_t)rng() * 977) % size;
        if (aligned_only || n % 3 == 0) {
            off &= ~511ull;
            len = (len + 511) & ~511ull;
        }
        if (off + len > size)
            len = size - off;
        for (uint64_t i = 0; i < len; i++)
            data[i] = (uint8_t)rng();
        vb_status st = vb_source_write(vb_layer_source(l), off, data, len);
        if (st != VB_OK)
            fail_msg("write %u at %llu len %llu: %s", n, (unsigned long long)off, (unsigned long long)len,
                     vb_status_message(st));
        memcpy(mirror + off, data, len);
    }
    free(data);
}

static void count_problems(void *ctx, const char *line)
{
    print_message("# check: %s\n", line);
    (*(int *)ctx)++;
}

static void test_dynamic_round_trip(void **state)
{
    (void)state;
    rng_state = 1;
    uint64_t size = 10 * MIB;
    memsource *ms = new_image(VB_DISK_DYNAMIC, size, 512 * 1024);
    uint8_t *mirror = calloc(1, size);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    random_writes(l, mirror, size, 40, false);
    expect_disk(l, mirror, size);
    uint32_t allocated = vb_layer_info(l)->allocated_blocks;
    assert_true(allocated > 0 && allocated <= 20);
    assert_int_equal(vb_source_flush(vb_layer_source(l)), VB_OK);
    assert_true(ms->flushes >= 1);
    vb_layer_close(l);

    l = open_layer(ms, 0);
    assert_int_equal(vb_layer_info(l)->allocated_blocks, allocated);
    expect_disk(l, mirror, size);
    int problems = 0;
    assert_int_equal(vb_layer_check(l, count_problems, &problems), VB_OK);
    assert_int_equal(problems, 0);
    /* written sectors have their bitmap bits set in a dynamic disk too */
    for (uint64_t s = 0; s < size / 512; s += 7) {
        bool nonzero = false;
        for (unsigned j = 0; j < 512; j++)
            nonzero |= mirror[s * 512 + j] != 0;
        if (nonzero)
            assert_true(vb_layer_sector_present(l, s));
    }
    vb_layer_close(l);
    free(mirror);
    memsource_free(ms);
}

static void test_diff_round_trip_parent_untouched(void **state)
{
    (void)state;
    rng_state = 2;
    uint64_t size = 6 * MIB;
    uint8_t *mirror = malloc(size);
    memsource *parent = new_parent(size, mirror);
    uint8_t *parent_before = memsource_copy(parent);
    memsource *ms = new_image(VB_DISK_DIFF, size, MIB);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    vb_layer_set_parent(l, &parent->src);
    expect_disk(l, mirror, size);
    random_writes(l, mirror, size, 30, false);
    expect_disk(l, mirror, size);
    vb_layer_close(l);

    l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    expect_disk(l, mirror, size);
    int problems = 0;
    assert_int_equal(vb_layer_check(l, count_problems, &problems), VB_OK);
    assert_int_equal(problems, 0);
    vb_layer_close(l);
    /* the parent was never written, not even attempted */
    assert_int_equal(parent->writes, 0);
    assert_int_equal(parent->failed_writes, 0);
    assert_memory_equal(parent->data, parent_before, size);
    free(parent_before);
    free(mirror);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_allocation_order_and_bits(void **state)
{
    (void)state;
    rng_state = 3;
    uint64_t size = 4 * MIB;
    uint8_t *mirror = malloc(size);
    memsource *parent = new_parent(size, mirror);
    memsource *ms = new_image(VB_DISK_DIFF, size, MIB);
    uint64_t old_footer = ms->size - 512;
    uint64_t bat_offset = vb_be64(ms->data + 512 + 16);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    vb_layer_set_parent(l, &parent->src);
    uint32_t bitmap = vb_layer_info(l)->bitmap_size;
    uint8_t data[4096];
    memset(data, 0x5A, sizeof(data));
    /* the new block goes at the old footer, or just past it so that its
     * data starts on a 4 KiB boundary of the file */
    uint64_t at = (old_footer + bitmap + 4095) / 4096 * 4096 - bitmap;
    assert_true(at >= old_footer && at < old_footer + 4096);

    /* sectors 16..23 of block 2 */
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB + 8192, data, sizeof(data)), VB_OK);
    assert_int_equal(ms->writes, 4);
    assert_int_equal(ms->write_log[0].offset, at + 512);               /* 1: the block but its first sector */
    assert_int_equal(ms->write_log[0].len, bitmap + MIB - 512);
    assert_int_equal(ms->write_log[1].offset, at + bitmap + MIB);      /* 2: the footer */
    assert_int_equal(ms->write_log[1].len, 512);
    assert_int_equal(ms->write_log[2].offset, at);                     /* 3: first sector (over the old footer when there) */
    assert_int_equal(ms->write_log[2].len, 512);
    assert_int_equal(ms->write_log[3].offset, bat_offset);            /* 4: one BAT sector */
    assert_int_equal(ms->write_log[3].len, 512);
    assert_int_equal(ms->flushes, 2); /* after the footer and after the first sector */
    assert_int_equal(ms->size, at + bitmap + MIB + 512);
    assert_int_equal(vb_be32(ms->data + bat_offset + 8), at / 512);
    /* only the written sectors' bits, MSB first: byte 2 = sectors 16..23 */
    for (unsigned i = 0; i < bitmap; i++)
        assert_int_equal(ms->data[at + i], i == 2 ? 0xFF : 0x00);
    /* the rest of the new block is zeros (no stale footer bytes) */
    for (uint64_t i = 0; i < MIB; i++) {
        uint8_t want = (i >= 8192 && i < 8192 + 4096) ? 0x5A : 0;
        if (ms->data[at + bitmap + i] != want)
            fail_msg("block byte %llu", (unsigned long long)i);
    }
    /* the footer moved intact and the copy at 0 still equals it */
    assert_memory_equal(ms->data + ms->size - 512, ms->data, 512);

    /* a write inside the allocated block: data first, then the bitmap sector */
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB + 512 * 3, data, 512), VB_OK);
    assert_int_equal(ms->writes, 2);
    assert_int_equal(ms->write_log[0].offset, at + bitmap + 512 * 3);
    assert_int_equal(ms->write_log[1].offset, at);
    assert_int_equal(ms->write_log[1].len, 512);
    assert_int_equal(ms->data[at], 0x10);
    /* rewriting present sectors needs no bitmap write */
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB + 512 * 3, data, 512), VB_OK);
    assert_int_equal(ms->writes, 1);

    memcpy(mirror + 2 * MIB + 8192, data, 4096);
    memcpy(mirror + 2 * MIB + 512 * 3, data, 512);
    expect_disk(l, mirror, size);
    assert_int_equal(parent->writes + parent->failed_writes, 0);
    vb_layer_close(l);
    free(mirror);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_unaligned_write_keeps_parent_bytes(void **state)
{
    (void)state;
    rng_state = 4;
    uint64_t size = 2 * MIB;
    uint8_t *mirror = malloc(size);
    memsource *parent = new_parent(size, mirror);
    memsource *ms = new_image(VB_DISK_DIFF, size, MIB);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    vb_layer_set_parent(l, &parent->src);
    uint8_t data[700];
    memset(data, 0xEE, sizeof(data));
    /* crosses the block boundary at 1 MiB, starts and ends mid-sector */
    uint64_t at = MIB - 300;
    assert_int_equal(vb_source_write(vb_layer_source(l), at, data, sizeof(data)), VB_OK);
    memcpy(mirror + at, data, sizeof(data));
    /* one byte inside a present sector, then one inside an absent one */
    assert_int_equal(vb_source_write(vb_layer_source(l), MIB + 10, data, 1), VB_OK);
    assert_int_equal(vb_source_write(vb_layer_source(l), 4000, data, 1), VB_OK);
    mirror[MIB + 10] = 0xEE;
    mirror[4000] = 0xEE;
    expect_disk(l, mirror, size);
    vb_layer_close(l);
    l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    expect_disk(l, mirror, size);
    vb_layer_close(l);
    free(mirror);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_fixed_write_in_place(void **state)
{
    (void)state;
    rng_state = 5;
    uint64_t size = 2 * MIB;
    memsource *ms = new_image(VB_DISK_FIXED, size, 0);
    uint8_t *mirror = calloc(1, size);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    random_writes(l, mirror, size, 10, false);
    assert_int_equal(ms->size, size + 512);
    vb_layer_close(l);
    l = open_layer(ms, 0);
    expect_disk(l, mirror, size);
    assert_memory_equal(ms->data, mirror, size);
    vb_layer_close(l);
    free(mirror);
    memsource_free(ms);
}

static void test_write_refusals(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 2 * MIB, MIB);
    uint8_t data[512] = { 1 };
    vb_layer *l = open_layer(ms, 0);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, data, 512), VB_ERR_WRITE_PROTECTED);
    vb_layer_close(l);
    l = open_layer(ms, VB_OPEN_WRITABLE);
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB - 256, data, 512), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB, data, 1), VB_ERR_OUT_OF_RANGE);
    vb_layer_close(l);
    /* a read-only file cannot be opened writable */
    memsource *ro = memsource_new_readonly(ms->data, ms->size);
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ro->src, "ro.vhd", VB_OPEN_WRITABLE, &l, &d), VB_ERR_WRITE_PROTECTED);
    memsource_free(ro);
    memsource_free(ms);
}

/* Writes after `good` successful file writes fail; the image must stay
 * openable with the old contents (using the footer copy if needed). */
static void crash_during_allocation(long good, bool needs_copy)
{
    rng_state = 6;
    uint64_t size = 3 * MIB;
    memsource *ms = new_image(VB_DISK_DYNAMIC, size, MIB);
    uint8_t *mirror = calloc(1, size);
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    random_writes(l, mirror, MIB, 5, true); /* block 0 allocated and filled */
    memsource_fail_after_writes(ms, good);
    uint8_t data[1024];
    memset(data, 0x77, sizeof(data));
    assert_int_equal(vb_source_write(vb_layer_source(l), 2 * MIB, data, sizeof(data)), VB_ERR_IO);
    vb_layer_close(l);
    memsource_fail_after_writes(ms, -1);

    vb_diag d = { 0 };
    vb_status plain = vb_layer_open(&ms->src, "crash.vhd", 0, &l, &d);
    if (needs_copy) {
        assert_int_not_equal(plain, VB_OK);
        assert_int_equal(vb_layer_open(&ms->src, "crash.vhd", VB_OPEN_USE_FOOTER_COPY, &l, &d), VB_OK);
        assert_true(vb_layer_info(l)->footer_from_copy);
    } else {
        assert_int_equal(plain, VB_OK);
    }
    assert_int_equal(vb_layer_info(l)->allocated_blocks, 1);
    expect_disk(l, mirror, size);
    vb_layer_close(l);
    free(mirror);
    memsource_free(ms);
}

static void test_crash_after_block_write(void **state)
{
    (void)state;
    crash_during_allocation(1, true); /* block written, footer (and its restore) not */
}

static void test_crash_before_bat_write(void **state)
{
    (void)state;
    crash_during_allocation(2, false); /* block and footer written, BAT not */
}

static void test_stale_footer_copy_resynced(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 2 * MIB, MIB);
    ms->data[100] ^= 0xFF; /* the copy at 0 differs from the footer */
    vb_layer *l = open_layer(ms, VB_OPEN_WRITABLE);
    int problems = 0;
    assert_int_not_equal(vb_layer_check(l, count_problems, &problems), VB_OK);
    assert_true(problems >= 1);
    uint8_t data[512] = { 9 };
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, data, 512), VB_OK);
    assert_int_equal(ms->writes, 5);
    assert_int_equal(ms->write_log[4].offset, 0);
    assert_memory_equal(ms->data, ms->data + ms->size - 512, 512);
    problems = 0;
    assert_int_equal(vb_layer_check(l, count_problems, &problems), VB_OK);
    assert_int_equal(problems, 0);
    vb_layer_close(l);
    memsource_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamic_round_trip),
        cmocka_unit_test(test_diff_round_trip_parent_untouched),
        cmocka_unit_test(test_allocation_order_and_bits),
        cmocka_unit_test(test_unaligned_write_keeps_parent_bytes),
        cmocka_unit_test(test_fixed_write_in_place),
        cmocka_unit_test(test_write_refusals),
        cmocka_unit_test(test_crash_after_block_write),
        cmocka_unit_test(test_crash_before_bat_write),
        cmocka_unit_test(test_stale_footer_copy_resynced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
