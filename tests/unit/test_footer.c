/* Unit tests: footer parsing (every field), checksum rules and the
 * creator-dependent disk size rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd.h"
#include "format/vhd_struct.h"

/* Stores a footer checksum computed independently of vb_vhd_checksum. */
static void seal(uint8_t *f)
{
    uint32_t sum = 0;
    memset(f + 64, 0, 4);
    for (int i = 0; i < 512; i++)
        sum += f[i];
    vb_put_be32(f + 64, ~sum);
}

/* A footer with every field set to a distinct value. */
static void make_footer(uint8_t f[512], const char *creator, uint64_t current, uint16_t c, uint8_t h, uint8_t s)
{
    memset(f, 0, 512);
    memcpy(f, "conectix", 8);
    vb_put_be32(f + 8, 2);
    vb_put_be32(f + 12, 0x00010000);
    vb_put_be64(f + 16, 512);
    vb_put_be32(f + 24, 0x2a3b4c5d);
    memcpy(f + 28, creator, 4);
    vb_put_be32(f + 32, 0x000a0002);
    vb_put_be32(f + 36, 0x5769326b);
    vb_put_be64(f + 40, 0x123456000ull);
    vb_put_be64(f + 48, current);
    vb_put_be16(f + 56, c);
    f[58] = h;
    f[59] = s;
    vb_put_be32(f + 60, 3);
    for (int i = 0; i < 16; i++)
        f[68 + i] = (uint8_t)(0xA0 + i);
    f[84] = 1;
    seal(f);
}

static void test_every_field_parsed(void **state)
{
    (void)state;
    uint8_t f[512];
    vb_vhd_info info;
    vb_diag d = { 0 };
    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    assert_int_equal(vb_footer_parse(f, "x.vhd", &info, &d), VB_OK);
    assert_int_equal(info.type, VB_DISK_DYNAMIC);
    assert_int_equal(info.timestamp, 0x2a3b4c5d);
    assert_string_equal(info.creator_app, "win ");
    assert_int_equal(info.creator_version, 0x000a0002);
    assert_int_equal(info.creator_host_os, 0x5769326b);
    assert_int_equal(info.original_size, 0x123456000ull);
    assert_int_equal(info.current_size, 64ull << 20);
    assert_int_equal(info.disk_size, 64ull << 20);
    assert_int_equal(info.geometry.cylinders, 1000);
    assert_int_equal(info.geometry.heads, 12);
    assert_int_equal(info.geometry.sectors, 33);
    for (int i = 0; i < 16; i++)
        assert_int_equal(info.uuid[i], 0xA0 + i);
    assert_int_equal(info.saved_state, 1);
    assert_int_equal(info.header_offset, 512);
    assert_false(info.short_footer);
    assert_false(info.footer_from_copy);
}

static void test_checksum_rules(void **state)
{
    (void)state;
    uint8_t f[512];
    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    uint32_t stored = vb_be32(f + 64);
    assert_int_equal(vb_vhd_checksum(f, 512, 64), stored);
    /* the checksum field itself does not count */
    f[64] ^= 0xFF;
    assert_int_equal(vb_vhd_checksum(f, 512, 64), stored);
    f[64] ^= 0xFF;
    /* a flipped byte anywhere else is detected, with file name and the word checksum */
    for (int i = 0; i < 512; i += 37) {
        if (i >= 64 && i < 68)
            continue;
        uint8_t g[512];
        memcpy(g, f, 512);
        g[i] ^= 0x10;
        if (i < 8)
            continue; /* the cookie is checked first */
        vb_vhd_info info;
        vb_diag d = { 0 };
        assert_int_equal(vb_footer_parse(g, "\\vms\\flip.vhd", &info, &d), VB_ERR_FOOTER_CHECKSUM);
        assert_int_equal(d.status, VB_ERR_FOOTER_CHECKSUM);
        assert_non_null(strstr(d.text, "checksum"));
        assert_non_null(strstr(d.text, "\\vms\\flip.vhd"));
    }
    /* a wrong stored value */
    vb_put_be32(f + 64, stored + 1);
    vb_vhd_info info;
    assert_int_equal(vb_footer_parse(f, "x", &info, NULL), VB_ERR_FOOTER_CHECKSUM);
}

static void test_size_rule_by_creator(void **state)
{
    (void)state;
    uint8_t f[512];
    uint64_t current = 100ull << 20;
    uint64_t chs = 1000ull * 12 * 33 * 512;
    struct {
        const char *creator;
        bool uses_chs;
    } cases[] = {
        { "vpc ", true }, { "qemu", true }, { "qem2", false }, { "win ", false },
        { "d2v ", false }, { "d2v\0", false }, { "tap\0", false }, { "CTXS", false }, { "wa\0\0", false }, { "vhdb", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make_footer(f, cases[i].creator, current, 1000, 12, 33);
        assert_int_equal(vb_footer_disk_size(f), cases[i].uses_chs ? chs : current);
        vb_vhd_info info;
        assert_int_equal(vb_footer_parse(f, "x", &info, NULL), VB_OK);
        assert_int_equal(info.disk_size, cases[i].uses_chs ? chs : current);
        assert_int_equal(info.current_size, current);
    }
    /* maximum CHS: current size even for vpc/qemu */
    make_footer(f, "vpc ", 2000ull << 30, 65535, 16, 255);
    assert_int_equal(vb_footer_disk_size(f), 2000ull << 30);
    make_footer(f, "qemu", 2000ull << 30, 65535, 16, 254);
    assert_int_equal(vb_footer_disk_size(f), 65535ull * 16 * 254 * 512);
}

static void expect_refused(uint8_t *f, vb_status want, const char *word)
{
    seal(f);
    vb_vhd_info info;
    vb_diag d = { 0 };
    assert_int_equal(vb_footer_parse(f, "bad.vhd", &info, &d), want);
    assert_non_null(strstr(d.text, "bad.vhd"));
    if (word && !strstr(d.text, word))
        fail_msg("message '%s' lacks '%s'", d.text, word);
}

static void test_invalid_fields(void **state)
{
    (void)state;
    uint8_t f[512];
    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    memcpy(f, "conectiy", 8);
    expect_refused(f, VB_ERR_BAD_COOKIE, "conectix");

    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    vb_put_be32(f + 12, 0x00020000);
    expect_refused(f, VB_ERR_BAD_VERSION, "version");

    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    vb_put_be32(f + 60, 5);
    expect_refused(f, VB_ERR_BAD_DISK_TYPE, "type");
    vb_put_be32(f + 60, 1);
    expect_refused(f, VB_ERR_BAD_DISK_TYPE, "type");

    make_footer(f, "win ", 0, 1000, 12, 33);
    expect_refused(f, VB_ERR_BAD_DISK_SIZE, "size");
    make_footer(f, "win ", (64ull << 20) + 100, 1000, 12, 33);
    expect_refused(f, VB_ERR_BAD_DISK_SIZE, "size");
    make_footer(f, "win ", (2040ull << 30) + 512, 1000, 12, 33);
    expect_refused(f, VB_ERR_BAD_DISK_SIZE, "size");
    make_footer(f, "win ", 2040ull << 30, 1000, 12, 33);
    vb_vhd_info info;
    assert_int_equal(vb_footer_parse(f, "max.vhd", &info, NULL), VB_OK);
    /* vpc with a zero geometry has size 0 */
    make_footer(f, "vpc ", 64ull << 20, 0, 16, 63);
    expect_refused(f, VB_ERR_BAD_DISK_SIZE, "size");
}

static void test_fixed_data_offset_ignored(void **state)
{
    (void)state;
    uint8_t f[512];
    make_footer(f, "win ", 64ull << 20, 1000, 12, 33);
    vb_put_be32(f + 60, VB_DISK_FIXED);
    vb_put_be64(f + 16, ~0ull);
    seal(f);
    vb_vhd_info info;
    assert_int_equal(vb_footer_parse(f, "x", &info, NULL), VB_OK);
    assert_int_equal(info.type, VB_DISK_FIXED);
    assert_int_equal(info.header_offset, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_parsed),
        cmocka_unit_test(test_checksum_rules),
        cmocka_unit_test(test_size_rule_by_creator),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_fixed_data_offset_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
