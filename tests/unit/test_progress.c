/* Unit tests: progress figures and line (format/progress.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/progress.h"

#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)

static void halfway(void **state)
{
    (void)state;
    /* 256 of 512 MiB in 2 s: 128 MiB/s, 2 s left */
    vb_progress p = vb_progress_compute(256 * MIB, 512 * MIB, 2000000);
    assert_int_equal(p.percent, 50);
    assert_int_equal(p.tenths_mib_s, 1280);
    assert_true(p.eta_known);
    assert_int_equal(p.eta_seconds, 2);
    char line[160];
    vb_progress_line(line, sizeof line, &p, 256 * MIB, 512 * MIB, 10);
    assert_string_equal(line, "[#####-----]  50%  128.0 MiB/s  0:02 left  256/512 MiB");
}

static void rounding(void **state)
{
    (void)state;
    /* 1 of 3 bytes: 33 %, never rounded up; 2.5 s left rounds up to 3 */
    vb_progress p = vb_progress_compute(1, 3, 1250000);
    assert_int_equal(p.percent, 33);
    assert_int_equal(p.eta_seconds, 3);
    /* almost done is 99 %, not 100 */
    p = vb_progress_compute(999999, 1000000, 1000000);
    assert_int_equal(p.percent, 99);
    /* 1.05 MiB/s shows 1.0 */
    p = vb_progress_compute(MIB + MIB / 20, 10 * MIB, 1000000);
    assert_int_equal(p.tenths_mib_s, 10);
}

static void edges(void **state)
{
    (void)state;
    /* nothing yet: no rate, no time left */
    vb_progress p = vb_progress_compute(0, GIB, 0);
    assert_int_equal(p.percent, 0);
    assert_int_equal(p.tenths_mib_s, 0);
    assert_false(p.eta_known);
    char line[160];
    vb_progress_line(line, sizeof line, &p, 0, GIB, 0);
    assert_string_equal(line, "  0%  0.0 MiB/s  ? left  0/1024 MiB");
    /* time but no bytes: still unknown */
    p = vb_progress_compute(0, GIB, 5000000);
    assert_false(p.eta_known);
    /* done (and more than done, clamped) */
    p = vb_progress_compute(2 * GIB, GIB, 4000000);
    assert_int_equal(p.percent, 100);
    assert_true(p.eta_known);
    assert_int_equal(p.eta_seconds, 0);
    assert_int_equal(p.tenths_mib_s, 2560);
    /* an empty disk is done */
    p = vb_progress_compute(0, 0, 0);
    assert_int_equal(p.percent, 100);
}

static void huge_values_do_not_overflow(void **state)
{
    (void)state;
    /* 2040 GiB at 1 byte per microsecond: months left, figures still right */
    uint64_t total = 2040 * GIB, done = GIB;
    vb_progress p = vb_progress_compute(done, total, done);
    assert_int_equal(p.percent, 0);
    assert_int_equal(p.tenths_mib_s, 9); /* 0.95 MiB/s */
    uint64_t left = (total - done) / 1000000u;
    assert_true(p.eta_seconds >= left - left / 1000 && p.eta_seconds <= left + left / 1000 + 1);
    char line[160];
    vb_progress_line(line, sizeof line, &p, done, total, 0);
    assert_non_null(strstr(line, "608:09:20 left")); /* 2,189,360 s */
    /* 2040 GiB in a microsecond, and a century of elapsed time */
    p = vb_progress_compute(total / 2, total, 1);
    assert_int_equal(p.percent, 50);
    assert_true(p.tenths_mib_s > 0);
    p = vb_progress_compute(total / 4, total, 3155760000000000ull);
    assert_int_equal(p.percent, 25);
    assert_true(p.eta_seconds >= 3 * 3155760000ull - 3155760ull && p.eta_seconds <= 3 * 3155760000ull + 3155760ull);
}

static void hours_format(void **state)
{
    (void)state;
    /* 1 of 100 GiB in 40 s: 3960 s = 1:06:00 left */
    vb_progress p = vb_progress_compute(GIB, 100 * GIB, 40000000);
    assert_int_equal(p.eta_seconds, 3960);
    char line[160];
    vb_progress_line(line, sizeof line, &p, GIB, 100 * GIB, 4);
    assert_string_equal(line, "[----]   1%  25.6 MiB/s  1:06:00 left  1024/102400 MiB");
    /* a small buffer is cut, always terminated */
    char small[8];
    vb_progress_line(small, sizeof small, &p, GIB, 100 * GIB, 4);
    assert_int_equal(strlen(small), 7);
}

static void when_to_draw(void **state)
{
    (void)state;
    assert_false(vb_progress_due(0, 0));
    assert_false(vb_progress_due(999999, 0));        /* a load under a second shows nothing */
    assert_true(vb_progress_due(1000000, 0));        /* first drawing */
    assert_false(vb_progress_due(1100000, 1000000)); /* too soon */
    assert_true(vb_progress_due(1250000, 1000000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(halfway),
        cmocka_unit_test(rounding),
        cmocka_unit_test(edges),
        cmocka_unit_test(huge_values_do_not_overflow),
        cmocka_unit_test(hours_format),
        cmocka_unit_test(when_to_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
