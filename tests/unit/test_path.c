/* Unit tests: lexical parent path resolution (vb_path_resolve). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "format/vhd.h"
#include "tools/host_file.h"

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


/* Random mixes of components and prefixes: a result is always volume-absolute
 * with no ".", ".." or empty components and no '/', or a clean refusal. */
static void test_random_paths(void **state)
{
    (void)state;
    static const char *const parts[] = { "a", "bb", ".", "..", "", "C:", "\\\\?\\", "/", "UNC", "x.vhd" };
    uint32_t seed = 99;
    for (unsigned round = 0; round < 20000; round++) {
        char rel[256] = "", child[256] = "\\";
        seed = seed * 1103515245u + 12345u;
        unsigned n = 1 + (seed >> 16) % 8;
        for (unsigned i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            strcat(rel, parts[(seed >> 16) % 10]);
            if ((seed >> 8) % 3)
                strcat(rel, (seed >> 4) % 2 ? "\\" : "/");
        }
        seed = seed * 1103515245u + 12345u;
        for (unsigned i = 0; i < (seed >> 16) % 4; i++)
            strcat(child, "d\\");
        strcat(child, "c.vhd");
        char out[VB_PATH_MAX];
        vb_status st = vb_path_resolve(child, rel, out, sizeof(out));
        if (st != VB_OK) {
            assert_true(st == VB_ERR_PATH_ESCAPES_ROOT || st == VB_ERR_INVALID_ARG);
            continue;
        }
        assert_int_equal(out[0], '\\');
        assert_null(strchr(out, '/'));
        assert_null(strstr(out, "\\\\"));
        assert_null(strstr(out, "\\..\\"));
        assert_null(strstr(out, "\\.\\"));
        size_t len = strlen(out);
        assert_true(len > 1 && out[len - 1] != '\\');
        assert_false(len >= 3 && strcmp(out + len - 3, "\\..") == 0);
        assert_false(len >= 2 && strcmp(out + len - 2, "\\.") == 0);
    }
}

/* ---- host path mapping and host files (tools/host_file.c) ---- */

/* A scratch folder (realpath'd) for host tests; removed by the caller. */
static void make_scratch(char *dir, size_t cap)
{
    char tmpl[] = "/tmp/vhdboot-path.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, dir));
    assert_true(strlen(dir) < cap);
}

static void test_host_core_mapping(void **state)
{
    (void)state;
    char core[VB_PATH_MAX], host[VB_PATH_MAX];
    /* a file that does not exist: normalised lexically */
    assert_true(host_to_core_path("/nonexistent-vhdboot/a/./b/../c//new.vhd", core, sizeof(core)));
    assert_string_equal(core, "\\nonexistent-vhdboot\\a\\c\\new.vhd");
    assert_true(host_to_core_path("/..", core, sizeof(core)));
    assert_string_equal(core, "\\");
    assert_true(core_to_host_path("\\vms\\lab\\child.vhd", host, sizeof(host)));
    assert_string_equal(host, "/vms/lab/child.vhd");
    /* capacity and unmappable names */
    assert_false(host_to_core_path("/nonexistent-vhdboot/a.vhd", core, 10));
    assert_false(core_to_host_path("\\vms\\lab\\child.vhd", host, 5));
    assert_false(host_to_core_path("/nonexistent-vhdboot/a\\b.vhd", core, sizeof(core)));
    assert_false(host_to_core_path("", core, sizeof(core)));
}

/* Relative paths are taken from the cwd; existing files are realpath'd. */
static void test_host_relative_and_symlink(void **state)
{
    (void)state;
    char dir[4096], cwd[4096], core[VB_PATH_MAX], want[4200], path[4200];
    make_scratch(dir, sizeof(dir));
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/sub/real.vhd", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/link.vhd", dir);
    assert_int_equal(symlink("sub/real.vhd", path), 0);
    assert_int_equal(chdir(dir), 0);

    assert_true(host_to_core_path("sub/../new.vhd", core, sizeof(core)));
    snprintf(want, sizeof(want), "%s/new.vhd", dir);
    assert_true(core_to_host_path(core, path, sizeof(path)));
    assert_string_equal(path, want);
    assert_true(host_to_core_path("link.vhd", core, sizeof(core)));
    snprintf(want, sizeof(want), "%s/sub/real.vhd", dir);
    assert_true(core_to_host_path(core, path, sizeof(path)));
    assert_string_equal(path, want);
    assert_int_equal(core[0], '\\');

    assert_int_equal(chdir(cwd), 0);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* A host file is a growable source: writes past the end extend it. */
static void test_host_file_source(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    make_scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/f.img", dir);
    vb_source src;
    assert_int_equal(host_file_open(path, false, &src), VB_ERR_NOT_FOUND);
    assert_int_equal(host_file_create(path, &src), VB_OK);
    assert_int_equal(src.size, 0);
    uint8_t buf[1000], got[1000];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(vb_source_write(&src, 5000, buf, sizeof(buf)), VB_OK);
    assert_int_equal(src.size, 6000);
    assert_int_equal(vb_source_write(&src, 100, buf, 10), VB_OK);
    assert_int_equal(src.size, 6000);
    assert_int_equal(vb_source_read(&src, 5000, got, sizeof(got)), VB_OK);
    assert_memory_equal(got, buf, sizeof(buf));
    assert_int_equal(vb_source_read(&src, 200, got, 10), VB_OK); /* the gap reads as zeros */
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(got[i], 0);
    assert_int_equal(vb_source_read(&src, 5001, got, sizeof(got)), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_source_flush(&src), VB_OK);
    vb_source_close(&src);

    /* reopened read-only: same size and bytes, writes refused */
    assert_int_equal(host_file_open(path, false, &src), VB_OK);
    assert_int_equal(src.size, 6000);
    assert_int_equal(vb_source_read(&src, 100, got, 10), VB_OK);
    assert_memory_equal(got, buf, 10);
    assert_int_equal(vb_source_write(&src, 0, buf, 10), VB_ERR_WRITE_PROTECTED);
    vb_source_close(&src);
    /* a folder is not a file */
    assert_int_equal(host_file_open(dir, false, &src), VB_ERR_NOT_FOUND);
    assert_int_equal(host_file_open(dir, true, &src), VB_ERR_NOT_FOUND);

    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* host_chain_open on a missing file names it; on a dynamic disk it opens. */
static void test_host_chain_open(void **state)
{
    (void)state;
    vb_chain *chain = (vb_chain *)&chain;
    vb_diag diag = { 0 };
    assert_int_equal(host_chain_open("/nonexistent-vhdboot/x.vhd", 0, &chain, &diag), VB_ERR_NOT_FOUND);
    assert_null(chain);
    assert_non_null(strstr(diag.text, "\\nonexistent-vhdboot\\x.vhd"));

    char dir[4096], path[4200];
    make_scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/d.vhd", dir);
    vb_source dst;
    assert_int_equal(host_file_create(path, &dst), VB_OK);
    uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = 4u << 20, .uuid = uuid, .timestamp = 1 };
    assert_int_equal(vb_vhd_create(&dst, &p, &diag), VB_OK);
    vb_source_close(&dst);
    assert_int_equal(host_chain_open(path, VB_OPEN_WRITABLE, &chain, &diag), VB_OK);
    assert_int_equal(vb_chain_depth(chain), 1);
    uint8_t sector[512];
    memset(sector, 0xA7, sizeof(sector));
    assert_int_equal(vb_source_write(vb_chain_source(chain), 512 * 100, sector, sizeof(sector)), VB_OK);
    vb_chain_close(chain);
    assert_int_equal(host_chain_open(path, 0, &chain, &diag), VB_OK);
    uint8_t got[512];
    assert_int_equal(vb_source_read(vb_chain_source(chain), 512 * 100, got, sizeof(got)), VB_OK);
    assert_memory_equal(got, sector, sizeof(sector));
    vb_chain_close(chain);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
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
        cmocka_unit_test(test_random_paths),
        cmocka_unit_test(test_host_core_mapping),
        cmocka_unit_test(test_host_relative_and_symlink),
        cmocka_unit_test(test_host_file_source),
        cmocka_unit_test(test_host_chain_open),
    };
    return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
