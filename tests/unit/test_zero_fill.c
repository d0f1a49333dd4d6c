/* Unit tests: zero fill that stores only into nonzero sectors (format/zero_fill.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_data_is_cleared),
        cmocka_unit_test(zero_memory_is_not_written),
        cmocka_unit_test(one_byte_per_sector),
        cmocka_unit_test(mixed_and_bounded),
        cmocka_unit_test(tail_shorter_than_a_sector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
