/* Unit tests: UTF-16 <-> UTF-8 conversion (format/utf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/utf.h"

/* ASCII in both byte orders; conversion stops at the first NUL unit. */
static void test_ascii_both_orders(void **state)
{
    (void)state;
    const uint8_t le[] = { 'a', 0, '\\', 0, 'b', 0, 0, 0, 'x', 0 };
    const uint8_t be[] = { 0, 'a', 0, '\\', 0, 'b', 0, 0, 0, 'x' };
    char out[16];
    assert_int_equal(vb_utf16_to_utf8(le, 5, false, out, sizeof(out)), VB_OK);
    assert_string_equal(out, "a\\b");
    assert_int_equal(vb_utf16_to_utf8(be, 5, true, out, sizeof(out)), VB_OK);
    assert_string_equal(out, "a\\b");
    /* the wrong byte order yields different code points, not the same text */
    assert_int_equal(vb_utf16_to_utf8(le, 3, true, out, sizeof(out)), VB_OK);
    assert_string_not_equal(out, "a\\b");
}

/* Two- and three-byte UTF-8 sequences (é U+00E9, € U+20AC). */
static void test_bmp_characters(void **state)
{
    (void)state;
    const uint8_t le[] = { 0xE9, 0x00, 0xAC, 0x20 };
    char out[16];
    assert_int_equal(vb_utf16_to_utf8(le, 2, false, out, sizeof(out)), VB_OK);
    assert_string_equal(out, "\xC3\xA9\xE2\x82\xAC");
}

/* A surrogate pair becomes one four-byte sequence (U+1F600). */
static void test_surrogate_pair(void **state)
{
    (void)state;
    const uint8_t be[] = { 0xD8, 0x3D, 0xDE, 0x00 };
    char out[8];
    assert_int_equal(vb_utf16_to_utf8(be, 2, true, out, sizeof(out)), VB_OK);
    assert_string_equal(out, "\xF0\x9F\x98\x80");
}

/* Unpaired surrogates are refused wherever they appear. */
static void test_unpaired_surrogates(void **state)
{
    (void)state;
    char out[16];
    const uint8_t lone_high_end[] = { 'a', 0, 0x3D, 0xD8 };
    const uint8_t lone_high_mid[] = { 0x3D, 0xD8, 'a', 0 };
    const uint8_t lone_low[] = { 0x00, 0xDE, 'a', 0 };
    const uint8_t high_high[] = { 0x3D, 0xD8, 0x3D, 0xD8 };
    assert_int_equal(vb_utf16_to_utf8(lone_high_end, 2, false, out, sizeof(out)), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf16_to_utf8(lone_high_mid, 2, false, out, sizeof(out)), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf16_to_utf8(lone_low, 2, false, out, sizeof(out)), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf16_to_utf8(high_high, 2, false, out, sizeof(out)), VB_ERR_INVALID_ARG);
}

/* Output capacity is enforced, including room for the terminator. */
static void test_utf8_output_too_small(void **state)
{
    (void)state;
    const uint8_t le[] = { 'a', 0, 'b', 0, 'c', 0 };
    char out[4];
    assert_int_equal(vb_utf16_to_utf8(le, 3, false, out, 4), VB_OK);
    assert_string_equal(out, "abc");
    assert_int_equal(vb_utf16_to_utf8(le, 3, false, out, 3), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf16_to_utf8(le, 3, false, out, 0), VB_ERR_INVALID_ARG);
    const uint8_t euro[] = { 0xAC, 0x20 };
    assert_int_equal(vb_utf16_to_utf8(euro, 1, false, out, 3), VB_ERR_INVALID_ARG);
}

/* UTF-8 -> UTF-16 in both byte orders, with a supplementary character. */
static void test_utf8_to_utf16(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t units = 99;
    assert_int_equal(vb_utf8_to_utf16("a\xC3\xA9\xF0\x9F\x98\x80", false, out, sizeof(out), &units), VB_OK);
    assert_int_equal(units, 4);
    const uint8_t want_le[] = { 'a', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE };
    assert_memory_equal(out, want_le, sizeof(want_le));
    assert_int_equal(vb_utf8_to_utf16("a\xC3\xA9\xF0\x9F\x98\x80", true, out, sizeof(out), &units), VB_OK);
    const uint8_t want_be[] = { 0, 'a', 0, 0xE9, 0xD8, 0x3D, 0xDE, 0x00 };
    assert_memory_equal(out, want_be, sizeof(want_be));
    assert_int_equal(vb_utf8_to_utf16("", true, out, sizeof(out), &units), VB_OK);
    assert_int_equal(units, 0);
}

/* Malformed UTF-8: stray continuation, truncated sequence, overlong forms,
 * encoded surrogate, beyond U+10FFFF, invalid lead bytes. */
static void test_malformed_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80", "a\xC3", "\xE2\x82", "\xC0\xAF", "\xE0\x80\xAF", "\xF0\x80\x80\xAF",
        "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xF8\x88\x80\x80\x80",
    };
    uint8_t out[32];
    size_t units;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vb_utf8_to_utf16(bad[i], false, out, sizeof(out), &units), VB_ERR_INVALID_ARG);
}

/* UTF-16 output capacity: a surrogate pair needs two free units. */
static void test_utf16_output_too_small(void **state)
{
    (void)state;
    uint8_t out[4];
    size_t units;
    assert_int_equal(vb_utf8_to_utf16("ab", false, out, 4, &units), VB_OK);
    assert_int_equal(vb_utf8_to_utf16("abc", false, out, 4, &units), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf8_to_utf16("a\xF0\x9F\x98\x80", false, out, 4, &units), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_utf8_to_utf16("\xF0\x9F\x98\x80", false, out, 4, &units), VB_OK);
    assert_int_equal(units, 2);
}

/* Every code point survives a UTF-8 -> UTF-16 -> UTF-8 round trip. */
static void test_round_trip_all_code_points(void **state)
{
    (void)state;
    for (uint32_t cp = 1; cp <= 0x10FFFF; cp += (cp < 0x1000 ? 1 : 97)) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char text[8];
        size_t n = 0;
        if (cp < 0x80) {
            text[n++] = (char)cp;
        } else if (cp < 0x800) {
            text[n++] = (char)(0xC0 | cp >> 6);
            text[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            text[n++] = (char)(0xE0 | cp >> 12);
            text[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
            text[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            text[n++] = (char)(0xF0 | cp >> 18);
            text[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
            text[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
            text[n++] = (char)(0x80 | (cp & 0x3F));
        }
        text[n] = '\0';
        uint8_t wide[8];
        size_t units;
        char back[8];
        assert_int_equal(vb_utf8_to_utf16(text, cp & 1, wide, sizeof(wide), &units), VB_OK);
        assert_int_equal(units, cp >= 0x10000 ? 2 : 1);
        assert_int_equal(vb_utf16_to_utf8(wide, units, cp & 1, back, sizeof(back)), VB_OK);
        assert_string_equal(back, text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_both_orders),
        cmocka_unit_test(test_bmp_characters),
        cmocka_unit_test(test_surrogate_pair),
        cmocka_unit_test(test_unpaired_surrogates),
        cmocka_unit_test(test_utf8_output_too_small),
        cmocka_unit_test(test_utf8_to_utf16),
        cmocka_unit_test(test_malformed_utf8),
        cmocka_unit_test(test_utf16_output_too_small),
        cmocka_unit_test(test_round_trip_all_code_points),
    };
    return cmocka_run_group_tests_name("utf", tests, NULL, NULL);
}
