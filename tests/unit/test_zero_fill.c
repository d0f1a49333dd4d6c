/* Unit tests: zero fill that stores only into nonzero sectors, holes cut
 * into pieces, and a job shared by threads (format/zero_fill.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include "format/zero_fill.h"

#define UNIT VB_ZERO_FILL_UNIT
#define SECTORS 64u

/* A SECTORS-sector buffer, 8-byte aligned, filled with byte v. */
static uint8_t *buffer(int v)
{
    uint64_t *words = malloc(SECTORS * UNIT);
    assert_non_null(words);
    memset(words, v, SECTORS * UNIT);
    return (uint8_t *)words;
}

/* Whether the n bytes at p are all zero. */
static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void stale_data_is_cleared(void **state)
{
    (void)state;
    uint8_t *p = buffer(0);
    srand(7);
    for (size_t i = 0; i < SECTORS * UNIT; i++)
        p[i] = (uint8_t)(rand() | 1);
    assert_int_equal(vb_zero_fill(p, SECTORS * UNIT), SECTORS * UNIT);
    assert_true(all_zero(p, SECTORS * UNIT));
    free(p);
}

static void zero_memory_is_not_written(void **state)
{
    (void)state;
    uint8_t *p = buffer(0);
    assert_int_equal(vb_zero_fill(p, SECTORS * UNIT), 0);
    assert_true(all_zero(p, SECTORS * UNIT));
    free(p);
}

/* One nonzero byte anywhere in a sector (first word, a middle word, the
 * very last byte) makes that sector, and only it, be written. */
static void one_byte_per_sector(void **state)
{
    (void)state;
    static const size_t where[] = { 0, 1, 7, 8, 127, 128, 255, 256, 300, 504, 510, 511 };
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        uint8_t *p = buffer(0);
        size_t sector = (w * 5) % SECTORS;
        p[sector * UNIT + where[w]] = 0x80;
        assert_int_equal(vb_zero_fill(p, SECTORS * UNIT), UNIT);
        assert_true(all_zero(p, SECTORS * UNIT));
        free(p);
    }
}

/* A mix of zero and dirty sectors: the count is the dirty ones; bytes past
 * n are left alone. */
static void mixed_and_bounded(void **state)
{
    (void)state;
    uint8_t *p = buffer(0);
    uint64_t dirty = 0;
    for (size_t s = 0; s < SECTORS; s++)
        if (s % 3 == 1) {
            p[s * UNIT + (s * 37) % UNIT] = (uint8_t)s | 1;
            if (s < SECTORS - 4)
                dirty += UNIT;
        }
    /* the last four sectors are outside the range */
    assert_int_equal(vb_zero_fill(p, (SECTORS - 4) * UNIT), dirty);
    assert_true(all_zero(p, (SECTORS - 4) * UNIT));
    for (size_t s = SECTORS - 4; s < SECTORS; s++)
        if (s % 3 == 1)
            assert_int_equal(p[s * UNIT + (s * 37) % UNIT], (uint8_t)s | 1);
    assert_int_equal(vb_zero_fill(p, 0), 0);
    free(p);
}

/* A length that is not a whole number of sectors: the tail is made zero
 * too, byte by byte, and the byte after it is kept. */
static void tail_shorter_than_a_sector(void **state)
{
    (void)state;
    uint8_t *p = buffer(0x5a);
    p[2 * UNIT + 99] = 0; /* one tail byte zero already: not counted */
    assert_int_equal(vb_zero_fill(p, 2 * UNIT + 100), 2 * UNIT + 99);
    assert_true(all_zero(p, 2 * UNIT + 100));
    assert_int_equal(p[2 * UNIT + 100], 0x5a);
    assert_int_equal(vb_zero_fill(p + 8, 17), 0);
    free(p);
}

/* Holes between ranges, after the last one, cut into pieces; none when
 * the ranges cover everything; the overflow answer. */
static void holes_between_ranges(void **state)
{
    (void)state;
    vb_span out[16];
    const vb_span ranges[] = { { 1024, 512 }, { 4096, 1024 }, { 5120 + 512, 512 } };
    /* gaps: [0,1024) [1536,4096) [5120,5632) [6144,10000) with pieces of 2048 */
    uint64_t n = vb_holes_split(ranges, 3, 10000, 2048, out, 16);
    const vb_span want[] = { { 0, 1024 }, { 1536, 2048 }, { 3584, 512 }, { 5120, 512 }, { 6144, 2048 }, { 8192, 1808 } };
    assert_int_equal(n, 6);
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(out[i].offset, want[i].offset);
        assert_int_equal(out[i].length, want[i].length);
    }
    /* a range at 0 and one reaching the end: only the middle gap */
    const vb_span edges[] = { { 0, 512 }, { 1024, 1000 } };
    assert_int_equal(vb_holes_split(edges, 2, 2024, 4096, out, 16), 1);
    assert_int_equal(out[0].offset, 512);
    assert_int_equal(out[0].length, 512);
    /* no ranges: the whole disk; nothing at all for an empty disk */
    assert_int_equal(vb_holes_split(NULL, 0, 5000, 2048, out, 16), 3);
    assert_int_equal(out[2].offset, 4096);
    assert_int_equal(out[2].length, 904);
    assert_int_equal(vb_holes_split(NULL, 0, 0, 2048, out, 16), 0);
    /* more pieces than room: max + 1 */
    assert_int_equal(vb_holes_split(NULL, 0, 512 * 20, 512, out, 16), 17);
}

/* Runs job steps until none is left (a worker thread). */
static void *worker(void *arg)
{
    while (vb_zero_job_step(arg))
        ;
    return NULL;
}

/* Four threads share one job over a dirty buffer with data ranges: every
 * hole ends up zero, every data byte untouched, every piece done once. */
static void job_on_four_threads(void **state)
{
    (void)state;
    enum { SIZE = SECTORS * UNIT * 16 };
    uint8_t *p = malloc(SIZE);
    assert_non_null(p);
    memset(p, 0x33, SIZE);
    const vb_span ranges[] = { { 3 * UNIT, 5 * UNIT }, { 100 * UNIT, UNIT }, { 700 * UNIT, 40 * UNIT } };
    vb_span pieces[4096];
    uint64_t n = vb_holes_split(ranges, 3, SIZE, 2 * UNIT, pieces, 4096);
    assert_true(n > 100 && n <= 4096);
    vb_zero_job job = { .mem = p, .pieces = pieces, .count = n };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &job), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    uint64_t data = 46 * UNIT;
    assert_int_equal(job.done, SIZE - data);
    assert_int_equal(job.stored, SIZE - data);
    for (size_t i = 0; i < SIZE; i++) {
        int in_data = (i >= 3 * UNIT && i < 8 * UNIT) || (i >= 100 * UNIT && i < 101 * UNIT) ||
                      (i >= 700 * UNIT && i < 740 * UNIT);
        if (p[i] != (in_data ? 0x33 : 0))
            fail_msg("byte %zu is %d", i, p[i]);
    }
    assert_false(vb_zero_job_step(&job));
    free(p);
}

/* stop set: no piece is taken. */
static void job_stopped(void **state)
{
    (void)state;
    uint8_t *p = buffer(0x11);
    vb_span piece = { 0, UNIT };
    vb_zero_job job = { .mem = p, .pieces = &piece, .count = 1, .stop = 1 };
    assert_false(vb_zero_job_step(&job));
    assert_int_equal(p[0], 0x11);
    job.stop = 0;
    assert_true(vb_zero_job_step(&job));
    assert_int_equal(p[0], 0);
    assert_int_equal(job.stored, UNIT);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_data_is_cleared),
        cmocka_unit_test(zero_memory_is_not_written),
        cmocka_unit_test(one_byte_per_sector),
        cmocka_unit_test(mixed_and_bounded),
        cmocka_unit_test(tail_shorter_than_a_sector),
        cmocka_unit_test(holes_between_ranges),
        cmocka_unit_test(job_on_four_threads),
        cmocka_unit_test(job_stopped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
