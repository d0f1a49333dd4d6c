/* vhdboot tests: the NTFS reader against real volumes made by mkntfs and
 * libntfs-3g at run time (512 and 4096-byte sectors; 512 B, 4 KiB, 64 KiB and
 * 2 MiB clusters), checked against ntfsinfo's runlists and ntfscat's bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "fs/volume.h"
#include "tests/tools/fs_test_util.h"

static fs_images images = { .rc = -1 };

static int build_images(void **state)
{
    (void)state;
    fs_images_build(&images, "ntfs");
    return 0;
}

static int remove_images(void **state)
{
    (void)state;
    fs_images_remove(&images);
    return 0;
}

/* Fails the test when the images could not be built. */
static void need_images(void)
{
    assert_true(fs_images_ready(&images));
}

/* Opens IMG.img of the image directory and mounts it (asserting success). */
static vb_fs *mount_image(const char *img, fs_file_source *f)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.img", images.dir, img);
    assert_true(fs_file_source_open(f, path));
    vb_fs *fs = NULL;
    vb_diag diag = { 0 };
    vb_status st = vb_fs_probe(&f->src, &fs, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# probe %s: %s\n", img, diag.text);
    assert_int_equal(st, VB_OK);
    assert_int_equal(vb_fs_type_of(fs), VB_FS_NTFS);
    return fs;
}

/* Builds the expected extent map from ORACLE.runs (ntfsinfo rows). */
static void load_expected(const char *oracle, uint64_t cluster, uint64_t size, vb_extent_map *want)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.runs", images.dir, oracle);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    memset(want, 0, sizeof(*want));
    unsigned long long vcn, lcn, len, next_vcn = 0;
    while (fscanf(fp, "%llx %llx %llx", &vcn, &lcn, &len) == 3) {
        assert_int_equal(vcn, next_vcn); /* rows come in VCN order, gap-free */
        fs_expect_add(want, lcn * cluster, len * cluster);
        next_vcn = vcn + len;
    }
    fclose(fp);
    assert_true(want->count > 0);
    fs_expect_clip(want, size);
}

/* Looks path up on image img and checks its map against the oracle and its
 * bytes (read through the extent source) against ntfscat's. Returns the
 * number of extents. */
static size_t check_file(const char *img, const char *path, const char *oracle, uint64_t cluster, uint64_t valid)
{
    need_images();
    fs_file_source f;
    vb_fs *fs = mount_image(img, &f);
    char data_path[512];
    snprintf(data_path, sizeof(data_path), "%s/%s.data", images.dir, oracle);
    size_t size = 0;
    uint8_t *want_data = fs_load_file(data_path, &size);
    assert_non_null(want_data);

    vb_extent_map want, got;
    load_expected(oracle, cluster, size, &want);
    vb_diag diag = { 0 };
    vb_status st = vb_fs_lookup(fs, path, &got, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# lookup %s: %s\n", path, diag.text);
    assert_int_equal(st, VB_OK);
    assert_true(fs_maps_equal(&want, &got));
    assert_int_equal(got.valid_size, valid ? valid : size);
    size_t count = got.count;
    vb_extent_map_free(&got);
    free(want.extents);

    vb_source file;
    assert_int_equal(vb_fs_open_file(fs, path, &file, &diag), VB_OK);
    assert_int_equal(file.size, size);
    uint8_t *buf = malloc(size);
    assert_int_equal(vb_source_read(&file, 0, buf, size), VB_OK);
    assert_memory_equal(buf, want_data, size);
    free(buf);
    free(want_data);
    vb_source_close(&file);
    vb_fs_close(fs);
    fs_file_source_close(&f);
    return count;
}

static void expect_refusal(const char *img, const char *path, vb_status status, const char *needle);

static void test_labels_and_geometry(void **state)
{
    (void)state;
    need_images();
    static const struct { const char *img, *label; } cases[] = {
        { "n512", "Vol512 Ä" }, { "n4k", "Vol4Kn" }, { "n64k", "Vol64K" }, { "n2m", "Vol2M" }, { "ncomp", "Comp" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fs_file_source f;
        vb_fs *fs = mount_image(cases[i].img, &f);
        assert_string_equal(vb_fs_label(fs), cases[i].label);
        assert_string_equal(vb_fs_type_name(vb_fs_type_of(fs)), "NTFS");
        vb_fs_close(fs);
        fs_file_source_close(&f);
    }
}

static void test_deep_directories_512(void **state)
{
    (void)state;
    check_file("n512", "\\Dir\\Sub\\Deep\\a.vhd", "n512_a", 512, 0);
}

static void test_upcase_names(void **state)
{
    (void)state;
    /* Ä/ä and Greek with accents through $UpCase, typed in the other case. */
    check_file("n512", "\\äPFEL\\ΣΊΣΥΦΟς.VHD", "n512_sisyphus", 512, 0);
    check_file("n512", "/ÄPFEL/σίσυφος.vhd", "n512_sisyphus", 512, 0);
    check_file("n512", "\\dir\\SUB\\.\\deep\\A.Vhd", "n512_a", 512, 0);
    /* The volume's table (like Windows') does not fold final sigma: the
     * name ending in ς is not found when typed with σ or Σ. */
    expect_refusal("n512", "\\Äpfel\\σίσυφοσ.vhd", VB_ERR_NOT_FOUND, "not found");
}

static void test_thousands_of_runs_attribute_list(void **state)
{
    (void)state;
    size_t extents = check_file("n512", "\\frag.vhd", "n512_frag", 512, 0);
    assert_true(extents > 3000);
}

static void test_uninitialized_tail_reads_zero(void **state)
{
    (void)state;
    check_file("n512", "\\uninit.bin", "n512_uninit", 512, 100000);
}

static void test_sector_4096(void **state)
{
    (void)state;
    check_file("n4k", "\\Dir\\a.vhd", "n4k_a", 4096, 0);
    assert_true(check_file("n4k", "\\frag.vhd", "n4k_frag", 4096, 0) > 500);
}

static void test_cluster_64k(void **state)
{
    (void)state;
    check_file("n64k", "\\dir\\B.VHD", "n64k_b", 65536, 0);
    assert_true(check_file("n64k", "\\frag.vhd", "n64k_frag", 65536, 0) > 5);
}

static void test_cluster_2m(void **state)
{
    (void)state;
    check_file("n2m", "\\big.vhd", "n2m_big", 2u * 1024 * 1024, 0);
}

/* A directory of 2000 entries: lookups descend the B-tree and read only a
 * few index blocks, never the whole $INDEX_ALLOCATION (118 blocks). */
static void test_large_directory_btree(void **state)
{
    (void)state;
    check_file("n512", "\\many\\zeta.vhd", "n512_zeta", 512, 0);
    fs_file_source f;
    vb_fs *fs = mount_image("n512", &f);
    static const char *const present[] = { "\\many\\file-0000.vhd", "\\many\\FILE-1234.VHD", "\\many\\file-1999.vhd" };
    static const char *const absent[] = { "\\many\\file-2000.vhd", "\\many\\file-0000.vhd.x", "\\many\\a", "\\many\\zz" };
    vb_diag diag = { 0 };
    for (size_t i = 0; i < 3; i++) {
        vb_extent_map map;
        unsigned before = f.reads;
        /* 1-byte files are resident: found, then refused as not a disk image */
        assert_int_equal(vb_fs_lookup(fs, present[i], &map, &diag), VB_ERR_FS_UNSUPPORTED);
        assert_non_null(strstr(diag.text, "inside its MFT record"));
        assert_true(f.reads - before < 30);
    }
    for (size_t i = 0; i < 4; i++) {
        vb_extent_map map;
        unsigned before = f.reads;
        assert_int_equal(vb_fs_lookup(fs, absent[i], &map, &diag), VB_ERR_NOT_FOUND);
        assert_non_null(strstr(diag.text, absent[i]));
        assert_true(f.reads - before < 30);
    }
    vb_fs_close(fs);
    fs_file_source_close(&f);
}

/* Expects lookup of path on img to fail with status and a message containing needle. */
static void expect_refusal(const char *img, const char *path, vb_status status, const char *needle)
{
    need_images();
    fs_file_source f;
    vb_fs *fs = mount_image(img, &f);
    vb_extent_map map;
    vb_diag diag = { 0 };
    vb_status st = vb_fs_lookup(fs, path, &map, &diag);
    if (st != status || !strstr(diag.text, needle))
        fprintf(stderr, "# %s: got %d '%s'\n", path, st, diag.text);
    assert_int_equal(st, status);
    assert_non_null(strstr(diag.text, needle));
    assert_non_null(strstr(diag.text, path));
    vb_fs_close(fs);
    fs_file_source_close(&f);
}

static void test_refuses_compressed_sparse_resident(void **state)
{
    (void)state;
    expect_refusal("ncomp", "\\comp.vhd", VB_ERR_FS_UNSUPPORTED, "compressed");
    expect_refusal("n512", "\\sparse.bin", VB_ERR_FS_UNSUPPORTED, "sparse");
    expect_refusal("n512", "\\tiny.txt", VB_ERR_FS_UNSUPPORTED, "MFT record");
}

static void test_path_errors(void **state)
{
    (void)state;
    expect_refusal("n512", "\\nope.vhd", VB_ERR_NOT_FOUND, "not found");
    expect_refusal("n512", "\\Dir\\Sub", VB_ERR_INVALID_ARG, "directory");
    expect_refusal("n512", "\\", VB_ERR_INVALID_ARG, "directory");
    expect_refusal("n512", "\\tiny.txt\\x", VB_ERR_NOT_FOUND, "not a directory");
    expect_refusal("n512", "\\Dir\\..\\tiny.txt", VB_ERR_INVALID_ARG, "..");
    expect_refusal("n512", "\\Dir\\\xC3(", VB_ERR_INVALID_ARG, "UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_and_geometry),
        cmocka_unit_test(test_deep_directories_512),
        cmocka_unit_test(test_upcase_names),
        cmocka_unit_test(test_thousands_of_runs_attribute_list),
        cmocka_unit_test(test_uninitialized_tail_reads_zero),
        cmocka_unit_test(test_sector_4096),
        cmocka_unit_test(test_cluster_64k),
        cmocka_unit_test(test_cluster_2m),
        cmocka_unit_test(test_large_directory_btree),
        cmocka_unit_test(test_refuses_compressed_sparse_resident),
        cmocka_unit_test(test_path_errors),
    };
    return cmocka_run_group_tests(tests, build_images, remove_images);
}
