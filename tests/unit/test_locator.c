/* Unit tests: parent locator decoding (vb_locators_decode) against hostile entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd_internal.h"
#include "memsource.h"

#define FILE_SIZE 8192u
#define NAME "\\vms\\child.vhd"

/* A fake dynamic header plus the file its locators point into. */
struct fixture {
    uint8_t header[1024];
    memsource *file;
    vb_locator out[VB_MAX_LOCATORS];
    unsigned count;
    vb_diag diag;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->file = memsource_new(NULL, FILE_SIZE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    memsource_free(f->file);
    free(f);
    return 0;
}

/* Writes locator entry i: code, data space, length, offset. */
static void put_entry(struct fixture *f, unsigned i, const char *code, uint32_t space, uint32_t length, uint64_t offset)
{
    uint8_t *e = f->header + 576 + 24 * i;
    memcpy(e, code, 4);
    vb_put_be32(e + 4, space);
    vb_put_be32(e + 8, length);
    vb_put_be32(e + 12, 0);
    vb_put_be64(e + 16, offset);
}

/* Stores ASCII text as UTF-16LE at offset in the file; returns its byte length. */
static uint32_t put_utf16le(struct fixture *f, uint64_t offset, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        f->file->data[offset + 2 * i] = (uint8_t)text[i];
        f->file->data[offset + 2 * i + 1] = 0;
    }
    return (uint32_t)(2 * n);
}

/* Stores raw bytes at offset in the file; returns the length. */
static uint32_t put_bytes(struct fixture *f, uint64_t offset, const char *text)
{
    size_t n = strlen(text);
    memcpy(f->file->data + offset, text, n);
    return (uint32_t)n;
}

static vb_status decode(struct fixture *f, uint64_t limit)
{
    memset(&f->diag, 0, sizeof(f->diag));
    return vb_locators_decode(&f->file->src, NAME, f->header, limit, f->out, &f->count, &f->diag);
}

/* Decodes and expects VB_ERR_BAD_LOCATOR with a message naming the file, the entry index and code. */
static void expect_bad(struct fixture *f, unsigned index, const char *code)
{
    assert_int_equal(decode(f, FILE_SIZE), VB_ERR_BAD_LOCATOR);
    assert_int_equal(f->diag.status, VB_ERR_BAD_LOCATOR);
    char want[64];
    snprintf(want, sizeof(want), "locator %u (%s)", index, code);
    assert_non_null(strstr(f->diag.text, NAME));
    if (!strstr(f->diag.text, want))
        fail_msg("message [%s] lacks [%s]", f->diag.text, want);
}

static void test_no_locators(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 0);
}

/* Windows style: data space in bytes (512), W2ru relative and W2ku absolute. */
static void test_windows_bytes_space(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 0, "W2ru", 512, put_utf16le(f, 2048, ".\\base.vhd"), 2048);
    put_entry(f, 1, "W2ku", 512, put_utf16le(f, 2560, "C:\\vms\\base.vhd"), 2560);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 2);
    assert_string_equal(f->out[0].code, "W2ru");
    assert_string_equal(f->out[0].path, ".\\base.vhd");
    assert_int_equal(f->out[0].data_space, 512);
    assert_int_equal(f->out[0].data_offset, 2048);
    assert_string_equal(f->out[1].code, "W2ku");
    assert_string_equal(f->out[1].path, "C:\\vms\\base.vhd");

    char resolved[VB_PATH_MAX];
    assert_int_equal(vb_path_resolve(NAME, f->out[0].path, resolved, sizeof(resolved)), VB_OK);
    assert_string_equal(resolved, "\\vms\\base.vhd");
    assert_int_equal(vb_path_resolve(NAME, f->out[1].path, resolved, sizeof(resolved)), VB_OK);
    assert_string_equal(resolved, "\\vms\\base.vhd");
}

/* Spec style: data space in sectors (1 = 512 bytes); a payload of exactly
 * 512 bytes fits, one of 514 does not. */
static void test_sector_space(void **state)
{
    struct fixture *f = *state;
    char text[257];
    memset(text, 'a', 256);
    text[256] = '\0';
    put_entry(f, 0, "W2ru", 1, put_utf16le(f, 1024, text), 1024);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 1);
    assert_int_equal(strlen(f->out[0].path), 256);
    put_entry(f, 0, "W2ru", 1, 514, 1024);
    expect_bad(f, 0, "W2ru");
    put_entry(f, 0, "W2ru", 2, 514, 1024); /* two sectors */
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
}

/* Locator paths with "..", "\\?\" and drive letters decode verbatim and
 * resolve on the child's volume. */
static void test_path_forms(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 0, "W2ru", 512, put_utf16le(f, 1024, "..\\base\\base.vhd"), 1024);
    put_entry(f, 1, "W2ku", 512, put_utf16le(f, 1536, "\\\\?\\D:\\store\\base.vhd"), 1536);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 2);
    char resolved[VB_PATH_MAX];
    assert_int_equal(vb_path_resolve("\\vms\\lab\\child.vhd", f->out[0].path, resolved, sizeof(resolved)), VB_OK);
    assert_string_equal(resolved, "\\vms\\base\\base.vhd");
    assert_int_equal(vb_path_resolve("\\vms\\lab\\child.vhd", f->out[1].path, resolved, sizeof(resolved)), VB_OK);
    assert_string_equal(resolved, "\\store\\base.vhd");
    assert_int_equal(vb_path_resolve("\\child.vhd", f->out[0].path, resolved, sizeof(resolved)),
                     VB_ERR_PATH_ESCAPES_ROOT);
}

/* A trailing NUL unit inside the data length is not part of the path. */
static void test_utf16_terminator(void **state)
{
    struct fixture *f = *state;
    uint32_t len = put_utf16le(f, 1024, "base.vhd");
    put_entry(f, 0, "W2ru", 512, len + 2, 1024);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_string_equal(f->out[0].path, "base.vhd");
}

/* MacX: a UTF-8 file URL; scheme and host stripped, percent escapes decoded. */
static void test_macx_url(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 0, "MacX", 512, put_bytes(f, 1024, "file://localhost/Users/me/My%20Disks/b%C3%A4se.vhd"), 1024);
    put_entry(f, 1, "MacX", 512, put_bytes(f, 1536, "file:///vms/base.vhd"), 1536);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 2);
    assert_string_equal(f->out[0].path, "/Users/me/My Disks/b\xC3\xA4se.vhd");
    assert_string_equal(f->out[1].path, "/vms/base.vhd");
    char resolved[VB_PATH_MAX];
    assert_int_equal(vb_path_resolve(NAME, f->out[1].path, resolved, sizeof(resolved)), VB_OK);
    assert_string_equal(resolved, "\\vms\\base.vhd");
}

static void test_macx_bad_escapes(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = { "file:///a%G0.vhd", "file:///a%2", "file:///a%00b.vhd", "file:///a%FF.vhd" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(f->file->data + 1024, 0, 512);
        put_entry(f, 2, "MacX", 512, put_bytes(f, 1024, bad[i]), 1024);
        expect_bad(f, 2, "MacX");
    }
}

/* Unused entries are skipped; decoded entries keep their table order. */
static void test_sparse_table(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 2, "W2ku", 512, put_utf16le(f, 1024, "C:\\a.vhd"), 1024);
    put_entry(f, 5, "W2ru", 512, put_utf16le(f, 1536, ".\\a.vhd"), 1536);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 2);
    assert_string_equal(f->out[0].code, "W2ku");
    assert_string_equal(f->out[1].code, "W2ru");
}

/* Deprecated codes are range-checked but not decoded. */
static void test_deprecated_undecoded(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 0, "Wi2r", 512, put_bytes(f, 1024, ".\\a.vhd"), 1024);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
    assert_int_equal(f->count, 1);
    assert_string_equal(f->out[0].code, "Wi2r");
    assert_string_equal(f->out[0].path, "");
    put_entry(f, 0, "Wi2k", 512, 16, FILE_SIZE - 8);
    expect_bad(f, 0, "Wi2k");
}

static void test_offset_out_of_range(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 3, "W2ru", 512, 16, FILE_SIZE - 8);
    expect_bad(f, 3, "W2ru");
    put_entry(f, 3, "W2ru", 512, 16, FILE_SIZE);
    expect_bad(f, 3, "W2ru");
    put_entry(f, 3, "W2ru", 512, 16, UINT64_MAX - 4); /* offset + length overflows */
    expect_bad(f, 3, "W2ru");
    /* inside the file but past the limit (e.g. the footer) */
    put_entry(f, 3, "W2ru", 512, put_utf16le(f, 4096, "a.vhd"), 4096);
    assert_int_equal(decode(f, 4096), VB_ERR_BAD_LOCATOR);
    assert_int_equal(decode(f, 4106), VB_OK);
    assert_int_equal(decode(f, 4105), VB_ERR_BAD_LOCATOR);
}

static void test_odd_utf16_length(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 1, "W2ku", 512, put_utf16le(f, 1024, "C:\\a.vhd") - 1, 1024);
    expect_bad(f, 1, "W2ku");
    assert_non_null(strstr(f->diag.text, "odd"));
}

static void test_length_exceeds_space(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 0, "W2ru", 512, 600, 1024);
    expect_bad(f, 0, "W2ru");
    put_entry(f, 0, "W2ru", 0, 2, 1024); /* no space at all */
    expect_bad(f, 0, "W2ru");
    put_entry(f, 0, "W2ru", 700, 8, 1024); /* neither sectors nor a multiple of 512 */
    expect_bad(f, 0, "W2ru");
}

static void test_invalid_utf16(void **state)
{
    struct fixture *f = *state;
    uint8_t lone[] = { 'a', 0, 0x00, 0xD8, 'b', 0 };
    memcpy(f->file->data + 1024, lone, sizeof(lone));
    put_entry(f, 4, "W2ru", 512, sizeof(lone), 1024);
    expect_bad(f, 4, "W2ru");
}

/* A path longer than VB_PATH_MAX is refused, not truncated. */
static void test_path_too_long(void **state)
{
    struct fixture *f = *state;
    char text[VB_PATH_MAX + 1];
    memset(text, 'x', VB_PATH_MAX);
    text[VB_PATH_MAX] = '\0';
    put_entry(f, 0, "W2ru", 4096, put_utf16le(f, 2048, text), 2048);
    expect_bad(f, 0, "W2ru");
    text[VB_PATH_MAX - 1] = '\0'; /* longest that fits */
    put_entry(f, 0, "W2ru", 4096, put_utf16le(f, 2048, text), 2048);
    assert_int_equal(decode(f, FILE_SIZE), VB_OK);
}

/* Odd code bytes are printed safely in the message. */
static void test_unprintable_code(void **state)
{
    struct fixture *f = *state;
    put_entry(f, 7, "\x01\xffzz", 512, 16, FILE_SIZE);
    expect_bad(f, 7, "??zz");
}


/* Random entries (codes, spaces, lengths, offsets near the limit, payload
 * bytes): decoding either succeeds with terminated, bounded paths or refuses
 * with VB_ERR_BAD_LOCATOR; the sanitizer build checks every access. */
static void test_random_entries(void **state)
{
    struct fixture *f = *state;
    static const char *const codes[] = { "W2ru", "W2ku", "MacX", "Wi2r", "Wi2k", "Mac ", "\0\0\0\0", "zzzz" };
    static const uint32_t spaces[] = { 0, 1, 2, 8, 511, 512, 513, 1024, 4096, 65536, 0xFFFFFFFFu };
    uint32_t seed = 12345;
    unsigned ok = 0, bad = 0;
    for (unsigned round = 0; round < 3000; round++) {
        memset(f->header, 0, sizeof(f->header));
        for (size_t k = 0; k < FILE_SIZE; k++) {
            seed = seed * 1103515245u + 12345u;
            f->file->data[k] = (uint8_t)(seed >> 16);
            if ((seed >> 8) % 4 == 0)
                f->file->data[k] &= 0x7f; /* plenty of ASCII */
        }
        for (unsigned i = 0; i < VB_MAX_LOCATORS; i++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t r = seed >> 8;
            uint32_t len = r % 3 == 0 ? r % 64 : r % 3000;
            uint64_t off = r % 5 == 0 ? FILE_SIZE - (r % 100) : r % FILE_SIZE;
            if ((r >> 12) % 4 != 0)
                continue; /* most entries unused, so whole tables also decode */
            put_entry(f, i, codes[r % 8], spaces[(r >> 4) % 11], len, off);
        }
        vb_status st = decode(f, FILE_SIZE - (seed % 700));
        if (st == VB_OK) {
            ok++;
            assert_true(f->count <= VB_MAX_LOCATORS);
            for (unsigned i = 0; i < f->count; i++)
                assert_true(strlen(f->out[i].path) < VB_PATH_MAX);
        } else {
            assert_int_equal(st, VB_ERR_BAD_LOCATOR);
            assert_non_null(strstr(f->diag.text, NAME));
            bad++;
        }
    }
    assert_true(bad > 0);
    assert_true(ok > 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_no_locators),
        T(test_windows_bytes_space),
        T(test_sector_space),
        T(test_path_forms),
        T(test_utf16_terminator),
        T(test_macx_url),
        T(test_macx_bad_escapes),
        T(test_sparse_table),
        T(test_deprecated_undecoded),
        T(test_offset_out_of_range),
        T(test_odd_utf16_length),
        T(test_length_exceeds_space),
        T(test_invalid_utf16),
        T(test_path_too_long),
        T(test_unprintable_code),
        T(test_random_entries),
    };
    return cmocka_run_group_tests_name("locator", tests, NULL, NULL);
}
