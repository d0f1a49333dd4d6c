/* Unit tests: CHS geometry (vb_chs_for_sectors) at every branch boundary of
 * the VHD specification's algorithm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include "format/vhd.h"

#define MAX_SECTORS (65535ull * 16 * 255)
#define BIG_DISK (65535ull * 16 * 63)

static void expect_chs(uint64_t sectors, unsigned c, unsigned h, unsigned s)
{
    vb_geometry g = vb_chs_for_sectors(sectors);
    if (g.cylinders != c || g.heads != h || g.sectors != s)
        fail_msg("%llu sectors: got %u/%u/%u, expected %u/%u/%u", (unsigned long long)sectors, g.cylinders, g.heads,
                 g.sectors, c, h, s);
}

static void test_cap_at_maximum(void **state)
{
    (void)state;
    expect_chs(MAX_SECTORS, 65535, 16, 255);
    expect_chs(MAX_SECTORS + 1, 65535, 16, 255);
    expect_chs((2040ull << 30) / 512, 65535, 16, 255);
    expect_chs(UINT64_MAX, 65535, 16, 255);
    /* just below the cap: one cylinder*head fewer */
    expect_chs(MAX_SECTORS - 255 * 16, 65534, 16, 255);
}

static void test_255_sector_branch_boundary(void **state)
{
    (void)state;
    /* At 65535*16*63 sectors the 255-sectors-per-track rule starts. */
    expect_chs(BIG_DISK, (unsigned)(BIG_DISK / 255 / 16), 16, 255);
    /* One sector less: 63 sectors per track, 16 heads. */
    expect_chs(BIG_DISK - 1, 65534, 16, 63);
}

static void test_17_sector_branch(void **state)
{
    (void)state;
    /* 3 MB (the smallest Windows disk): 6144/17 = 361 cyl*heads, 4 heads min. */
    expect_chs(6144, 90, 4, 17);
    /* tiny disk: heads clamp to 4 */
    expect_chs(100, 1, 4, 17);
    expect_chs(0, 0, 4, 17);
    /* largest 17-sector disk: cyl*heads 16383 -> 16 heads, 1023 cylinders */
    expect_chs(16383ull * 17 + 16, 1023, 16, 17);
    /* cyl*heads 4095 -> 4 heads, 1023 cylinders */
    expect_chs(4095ull * 17 + 16, 1023, 4, 17);
}

static void test_17_to_31_boundary(void **state)
{
    (void)state;
    /* cyl*heads reaching heads*1024 leaves the 17-sector branch: 16384*17 sectors. */
    uint64_t n = 16384ull * 17;
    expect_chs(n, (unsigned)(n / 31 / 16), 16, 31);
    /* an exact multiple of 1024 cyl*heads also leaves it (4096*17: heads = 4) */
    n = 4096ull * 17;
    expect_chs(n, (unsigned)(n / 31 / 16), 16, 31);
    expect_chs(n - 1, 1023, 4, 17);
}

static void test_31_to_63_boundary(void **state)
{
    (void)state;
    uint64_t n = 16384ull * 31;
    expect_chs(n, (unsigned)(n / 63 / 16), 16, 63);
    expect_chs(n - 1, 1023, 16, 31);
}

static void test_geometry_never_exceeds_disk(void **state)
{
    (void)state;
    /* For a sweep of sizes, the CHS product never exceeds the disk and stays
     * within one track*heads of it below the cap. */
    for (uint64_t n = 1; n < BIG_DISK * 2; n = n * 3 / 2 + 7) {
        vb_geometry g = vb_chs_for_sectors(n);
        uint64_t product = (uint64_t)g.cylinders * g.heads * g.sectors;
        assert_true(product <= n);
        assert_true(g.heads >= 4 && g.heads <= 16);
        assert_true(g.sectors == 17 || g.sectors == 31 || g.sectors == 63 || g.sectors == 255);
        assert_true(n - product < (uint64_t)g.heads * g.sectors * 2 + 1024ull * 17);
    }
}

/* Whether a disk of n sectors is exactly its CHS product. */
static int chs_exact(uint64_t n)
{
    vb_geometry g = vb_chs_for_sectors(n);
    return (uint64_t)g.cylinders * g.heads * g.sectors == n;
}

static void test_round_up_is_smallest_exact_size(void **state)
{
    (void)state;
    static const uint64_t sizes[] = { 512, 3 << 20, 30 << 20, (30 << 20) + 512, 64 << 20,
                                      1ull << 30, 65535ull * 16 * 63 * 512 - 512, 100ull << 30 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t r = vb_chs_round_up(sizes[i]);
        assert_true(r >= sizes[i]);
        assert_int_equal(r % 512, 0);
        assert_true(chs_exact(r / 512));
        for (uint64_t n = sizes[i] / 512; n < r / 512; n++)
            assert_false(chs_exact(n));
    }
}

static void test_round_up_past_chs_maximum_keeps_size(void **state)
{
    (void)state;
    uint64_t big = 65535ull * 16 * 255 * 512 + (1 << 20);
    assert_int_equal(vb_chs_round_up(big), big);
    assert_int_equal(vb_chs_round_up(big + 100), big + 512);
}

/* The size QEMU 7.2's vpc driver gives a footer (block/vpc.c, modelled here
 * independently): the CHS product, unless the creator is one it trusts or the
 * geometry is the maximum; then the current size. */
static uint64_t qemu72_size(const char app[4], vb_geometry g, uint64_t current)
{
    static const char trusted[][4] = { "win ", "qem2", "d2v ", "CTXS", { 't', 'a', 'p', 0 } };
    uint64_t product = (uint64_t)g.cylinders * g.heads * g.sectors;
    bool use_chs = true;
    for (size_t i = 0; i < sizeof(trusted) / sizeof(trusted[0]); i++)
        use_chs &= memcmp(app, trusted[i], 4) != 0;
    return !use_chs || product == MAX_SECTORS ? current : product * 512;
}

/* Sizes (in sectors) around every branch boundary of the spec's algorithm. */
static const uint64_t boundary_sectors[] = {
    1, 6144, 4095ull * 17, 4096ull * 17, 4096ull * 17 + 1, 8192ull * 17, 16383ull * 17 + 16, 16384ull * 17,
    16385ull * 17, 16384ull * 31 - 1, 16384ull * 31, 16384ull * 31 + 1, 24ull * 2048, BIG_DISK - 1, BIG_DISK,
    BIG_DISK + 1, MAX_SECTORS - 1, MAX_SECTORS, MAX_SECTORS + 1, (2040ull << 30) / 512,
};

static void test_stored_geometry_reads_exact_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(boundary_sectors) / sizeof(boundary_sectors[0]); i++) {
        for (int exact = 0; exact < 2; exact++) {
            uint64_t size = exact ? vb_chs_round_up(boundary_sectors[i] * 512) : boundary_sectors[i] * 512;
            vb_geometry g = vb_chs_to_store(size), spec = vb_chs_for_sectors(size / 512);
            uint64_t product = (uint64_t)spec.cylinders * spec.heads * spec.sectors;
            if (product * 512 == size)
                assert_true(g.cylinders == spec.cylinders && g.heads == spec.heads && g.sectors == spec.sectors);
            else
                assert_true(g.cylinders == 65535 && g.heads == 16 && g.sectors == 255);
            if (qemu72_size("vhdb", g, size) != size)
                fail_msg("%llu bytes: QEMU 7.2 would read %llu", (unsigned long long)size,
                         (unsigned long long)qemu72_size("vhdb", g, size));
        }
    }
    /* 24 MiB is not a CHS size (its spec geometry covers 25,137,152 bytes); its rounded-up size is */
    vb_geometry g = vb_chs_to_store(24ull << 20);
    assert_int_equal(g.cylinders, 65535);
    assert_int_not_equal(vb_chs_to_store(vb_chs_round_up(24ull << 20)).cylinders, 65535);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_at_maximum),
        cmocka_unit_test(test_255_sector_branch_boundary),
        cmocka_unit_test(test_17_sector_branch),
        cmocka_unit_test(test_17_to_31_boundary),
        cmocka_unit_test(test_31_to_63_boundary),
        cmocka_unit_test(test_geometry_never_exceeds_disk),
        cmocka_unit_test(test_round_up_is_smallest_exact_size),
        cmocka_unit_test(test_round_up_past_chs_maximum_keeps_size),
        cmocka_unit_test(test_stored_geometry_reads_exact_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
