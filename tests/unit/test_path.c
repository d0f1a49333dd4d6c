/* Unit tests: lexical parent path resolution (vb_path_resolve). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/vhd.h"

/* Resolves rel against child and checks the status and (on success) the result. */
static void expect(const char *child, const char *rel, vb_status want, const char *want_path)
{
    char out[VB_PATH_MAX];
    memset(out, 'Z', sizeof(out));
    vb_status st = vb_path_resolve(child, rel, out, sizeof(out));
    if (st != want)
        fail_msg("resolve(%s, %s): status %d (%s), expected %d", child, rel, st, vb_status_message(st), want);
    if (want == VB_OK && strcmp(out, want_path) != 0)
        fail_msg("resolve(%s, %s) = %s, expected %s", child, rel, out, want_path);
}

static void test_relative_forms(void **state)
{
    (void)state;
    expect("\\vms\\child.vhd", ".\\base.vhd", VB_OK, "\\vms\\base.vhd");
    expect("\\vms\\child.vhd", "base.vhd", VB_OK, "\\vms\\base.vhd");
    expect("\\vms\\child.vhd", "sub\\base.vhd", VB_OK, "\\vms\\sub\\base.vhd");
    expect("\\vms\\child.vhd", ".\\.\\sub\\.\\base.vhd", VB_OK, "\\vms\\sub\\base.vhd");
    expect("\\vms\\child.vhd", "sub\\\\base.vhd", VB_OK, "\\vms\\sub\\base.vhd");
    expect("\\child.vhd", ".\\base.vhd", VB_OK, "\\base.vhd");
}

static void test_dot_dot(void **state)
{
    (void)state;
    expect("\\vms\\lab\\child.vhd", "..\\base\\base.vhd", VB_OK, "\\vms\\base\\base.vhd");
    expect("\\vms\\lab\\child.vhd", "..\\..\\base.vhd", VB_OK, "\\base.vhd");
    expect("\\vms\\lab\\child.vhd", ".\\x\\..\\base.vhd", VB_OK, "\\vms\\lab\\base.vhd");
    expect("\\vms\\lab\\child.vhd", "a\\b\\..\\..\\..\\base.vhd", VB_OK, "\\vms\\base.vhd");
}

static void test_escape_above_root(void **state)
{
    (void)state;
    expect("\\vms\\lab\\child.vhd", "..\\..\\..\\base.vhd", VB_ERR_PATH_ESCAPES_ROOT, NULL);
    expect("\\child.vhd", "..\\base.vhd", VB_ERR_PATH_ESCAPES_ROOT, NULL);
    expect("\\vms\\child.vhd", "C:\\..\\base.vhd", VB_ERR_PATH_ESCAPES_ROOT, NULL);
    expect("\\vms\\child.vhd", "\\a\\..\\..\\base.vhd", VB_ERR_PATH_ESCAPES_ROOT, NULL);
    /* climbing back down after touching the root is fine */
    expect("\\vms\\child.vhd", "..\\vms\\base.vhd", VB_OK, "\\vms\\base.vhd");
}

static void test_absolute_forms(void **state)
{
    (void)state;
    expect("\\vms\\child.vhd", "C:\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "d:/images/base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\\\?\\C:\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\\\.\\C:\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\\\?\\UNC\\server\\share\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\\\server\\share\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "\\\\?\\Volume{1234}\\images\\base.vhd", VB_OK, "\\images\\base.vhd");
    expect("\\vms\\child.vhd", "C:base.vhd", VB_OK, "\\base.vhd");
}

static void test_forward_slashes(void **state)
{
    (void)state;
    expect("\\vms\\child.vhd", "./base.vhd", VB_OK, "\\vms\\base.vhd");
    expect("\\vms\\lab\\child.vhd", "../base/base.vhd", VB_OK, "\\vms\\base\\base.vhd");
    expect("/vms/child.vhd", "/Users/x/base.vhd", VB_OK, "\\Users\\x\\base.vhd");
    expect("/vms/child.vhd", "base.vhd", VB_OK, "\\vms\\base.vhd");
}

static void test_degenerate(void **state)
{
    (void)state;
    expect("\\vms\\child.vhd", "", VB_ERR_INVALID_ARG, NULL);
    expect("\\vms\\child.vhd", "C:\\", VB_ERR_INVALID_ARG, NULL);
    expect("\\vms\\child.vhd", "..", VB_ERR_INVALID_ARG, NULL);
    expect("\\vms\\child.vhd", "\\\\server\\share", VB_ERR_INVALID_ARG, NULL);
    /* a child given without a leading separator still resolves from the root */
    expect("child.vhd", "base.vhd", VB_OK, "\\base.vhd");
}

static void test_capacity(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(vb_path_resolve("\\vms\\child.vhd", "base.vhd", out, sizeof(out)), VB_OK);
    assert_string_equal(out, "\\vms\\base.vhd");
    assert_int_equal(vb_path_resolve("\\vms\\child.vhd", "base.vhd", out, 13), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_path_resolve("\\vms\\child.vhd", "base.vhd", out, 14), VB_OK);
    /* a very long relative path never overflows */
    char rel[3000];
    for (size_t i = 0; i < sizeof(rel) - 1; i++)
        rel[i] = i % 10 == 9 ? '\\' : 'a';
    rel[sizeof(rel) - 1] = '\0';
    char big[VB_PATH_MAX];
    assert_int_equal(vb_path_resolve("\\vms\\child.vhd", rel, big, sizeof(big)), VB_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_forms),
        cmocka_unit_test(test_dot_dot),
        cmocka_unit_test(test_escape_above_root),
        cmocka_unit_test(test_absolute_forms),
        cmocka_unit_test(test_forward_slashes),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_capacity),
    };
    return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
