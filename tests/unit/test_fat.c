/* vhdboot tests: the FAT12/16/32 reader against volumes made by mkfs.vfat and
 * mtools at run time, checked against mshowfat's chains and mcopy's bytes,
 * and against damaged copies (loops, broken chains, bad boot sectors). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "fs/volume.h"
#include "format/bytes.h"
#include "tests/tools/fs_test_util.h"
#include "tests/unit/memsource.h"

static fs_images images = { .rc = -1 };

static int build_images(void **state)
{
    (void)state;
    fs_images_build(&images, "fat");
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

/* Geometry computed here from the BPB, independently of fs/. */
struct geometry {
    uint32_t bps, cluster, fat_offset, fat_bytes;
    uint64_t data_offset;
};

static struct geometry geometry_of(const uint8_t *bs)
{
    struct geometry g;
    g.bps = vb_le16(bs + 11);
    g.cluster = g.bps * bs[13];
    uint32_t fatsz = vb_le16(bs + 22) ? vb_le16(bs + 22) : vb_le32(bs + 36);
    uint32_t root_sectors = (vb_le16(bs + 17) * 32 + g.bps - 1) / g.bps;
    g.fat_offset = vb_le16(bs + 14) * g.bps;
    g.fat_bytes = fatsz * g.bps;
    g.data_offset = (uint64_t)(vb_le16(bs + 14) + bs[16] * fatsz + root_sectors) * g.bps;
    return g;
}

/* Loads IMG.img into memory (caller frees). */
static uint8_t *load_image(const char *img, size_t *size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.img", images.dir, img);
    uint8_t *data = fs_load_file(path, size);
    assert_non_null(data);
    return data;
}

/* Parses ORACLE.chain ("::/path <a-b> <c> ...") into an expected map; stores
 * the first cluster in *first. */
static void load_chain(const char *oracle, const struct geometry *g, uint64_t size, vb_extent_map *want, uint32_t *first)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.chain", images.dir, oracle);
    size_t len;
    char *text = (char *)fs_load_file(path, &len);
    assert_non_null(text);
    text = realloc(text, len + 1);
    text[len] = '\0';
    memset(want, 0, sizeof(*want));
    *first = 0;
    for (char *p = strchr(text, '<'); p; p = strchr(p + 1, '<')) {
        unsigned long a, b;
        int n = sscanf(p, "<%lu-%lu>", &a, &b);
        if (n == 1)
            b = a;
        assert_true(n >= 1 && b >= a);
        if (!*first)
            *first = (uint32_t)a;
        fs_expect_add(want, g->data_offset + (a - 2) * g->cluster, (b - a + 1) * g->cluster);
    }
    free(text);
    fs_expect_clip(want, size);
}

/* Checks path on img: type, extent map against mshowfat, bytes against mcopy. */
static size_t check_file(const char *img, vb_fs_type type, const char *path, const char *oracle)
{
    need_images();
    size_t img_size, size;
    uint8_t *image = load_image(img, &img_size);
    struct geometry g = geometry_of(image);
    char data_path[512];
    snprintf(data_path, sizeof(data_path), "%s/%s.data", images.dir, oracle);
    uint8_t *want_data = fs_load_file(data_path, &size);
    assert_non_null(want_data);
    vb_extent_map want, got;
    uint32_t first;
    load_chain(oracle, &g, size, &want, &first);

    memsource *ms = memsource_new_readonly(image, img_size);
    vb_fs *fs = NULL;
    vb_diag diag = { 0 };
    assert_int_equal(vb_fs_probe(&ms->src, &fs, &diag), VB_OK);
    assert_int_equal(vb_fs_type_of(fs), type);
    vb_status st = vb_fs_lookup(fs, path, &got, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# %s: %s\n", path, diag.text);
    assert_int_equal(st, VB_OK);
    assert_true(fs_maps_equal(&want, &got));
    assert_int_equal(got.valid_size, size);
    size_t count = got.count;
    vb_extent_map_free(&got);
    free(want.extents);

    vb_source file;
    assert_int_equal(vb_fs_open_file(fs, path, &file, &diag), VB_OK);
    uint8_t *buf = malloc(size);
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_read(&file, 0, buf, size), VB_OK);
    assert_memory_equal(buf, want_data, size);
    assert_int_equal(ms->reads, count); /* one read per contiguous piece */
    free(buf);
    vb_source_close(&file);
    vb_fs_close(fs);
    memsource_free(ms);
    free(want_data);
    free(image);
    return count;
}

static void test_fat12_long_and_short_names(void **state)
{
    (void)state;
    check_file("f12", VB_FS_FAT12, "\\SubDir\\Long File Name.bin", "f12_long");
    check_file("f12", VB_FS_FAT12, "\\subdir\\LONG FILE NAME.BIN", "f12_long");
    check_file("f12", VB_FS_FAT12, "\\SUBDIR\\LONGFI~1.BIN", "f12_long");
    check_file("f12", VB_FS_FAT12, "\\short.txt", "f12_short");
}

static void test_fat16_deep_unicode_fragmented(void **state)
{
    (void)state;
    check_file("f16", VB_FS_FAT16, "\\a\\b\\c\\Ärger σ.vhd", "f16_deep");
    check_file("f16", VB_FS_FAT16, "/A/B/C/äRGER Σ.VHD", "f16_deep");
    assert_true(check_file("f16", VB_FS_FAT16, "\\frag16.vhd", "f16_frag") > 10);
}

static void test_fat32_fragmented(void **state)
{
    (void)state;
    assert_true(check_file("f32", VB_FS_FAT32, "\\VMs\\Fragmented Disk.vhd", "f32_frag") > 100);
    check_file("f32", VB_FS_FAT32, "\\vms\\FRAGME~1.VHD", "f32_frag");
}

static void test_labels(void **state)
{
    (void)state;
    need_images();
    static const struct { const char *img, *label; vb_fs_type type; } cases[] = {
        { "f12", "FLOPPY", VB_FS_FAT12 }, { "f16", "FAT16VOL", VB_FS_FAT16 }, { "f32", "FAT32VOL", VB_FS_FAT32 },
    };
    for (size_t i = 0; i < 3; i++) {
        size_t size;
        uint8_t *image = load_image(cases[i].img, &size);
        memsource *ms = memsource_new_readonly(image, size);
        vb_fs *fs;
        assert_int_equal(vb_fs_probe(&ms->src, &fs, NULL), VB_OK);
        assert_int_equal(vb_fs_type_of(fs), cases[i].type);
        assert_string_equal(vb_fs_label(fs), cases[i].label);
        vb_fs_close(fs);
        memsource_free(ms);
        free(image);
    }
}

/* A read-only view of an image in memory (no copy). */
struct view {
    vb_source src;
    const uint8_t *data;
};

static vb_status view_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct view *v = ctx;
    memcpy(buf, v->data + offset, len); /* vb_source_read has range-checked */
    return VB_OK;
}

/* Mounts a (possibly damaged) in-memory image and looks path up; returns
 * the status and leaves the message in diag. */
static vb_status lookup_in(const uint8_t *image, size_t size, const char *path, vb_diag *diag)
{
    struct view v = { .data = image };
    v.src = (vb_source){ .size = size, .ctx = &v, .read = view_read };
    vb_fs *fs = NULL;
    vb_status st = vb_fs_probe(&v.src, &fs, diag);
    if (st == VB_OK) {
        vb_extent_map map;
        st = vb_fs_lookup(fs, path, &map, diag);
        if (st == VB_OK)
            vb_extent_map_free(&map);
        vb_fs_close(fs);
    }
    return st;
}

/* Sets the FAT16 entry of cluster to value. */
static void set_fat16(uint8_t *image, uint32_t cluster, uint16_t value)
{
    struct geometry g = geometry_of(image);
    vb_put_le16(image + g.fat_offset + 2 * cluster, value);
}

static void expect_corrupt(const uint8_t *image, size_t size, const char *path, vb_status status, const char *needle)
{
    vb_diag diag = { 0 };
    vb_status st = lookup_in(image, size, path, &diag);
    if (st != status || !strstr(diag.text, needle))
        fprintf(stderr, "# %s: got %d '%s'\n", path, st, diag.text);
    assert_int_equal(st, status);
    assert_non_null(strstr(diag.text, needle));
}

static void test_fat16_damaged_chains(void **state)
{
    (void)state;
    need_images();
    size_t size, data_size;
    uint8_t *pristine = load_image("f16", &size);
    struct geometry g = geometry_of(pristine);
    char data_path[512];
    snprintf(data_path, sizeof(data_path), "%s/f16_frag.data", images.dir);
    free(fs_load_file(data_path, &data_size));
    vb_extent_map want;
    uint32_t first;
    load_chain("f16_frag", &g, data_size, &want, &first);
    uint32_t second = (uint32_t)((want.extents[1].disk_offset - g.data_offset) / g.cluster + 2);
    const vb_extent *tail = &want.extents[want.count - 1];
    uint32_t last = (uint32_t)((tail->disk_offset + tail->length - 1 - g.data_offset) / g.cluster + 2);
    free(want.extents);
    uint8_t *img = malloc(size);

    memcpy(img, pristine, size); /* loop back to the first cluster */
    set_fat16(img, second, (uint16_t)first);
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "looping");
    memcpy(img, pristine, size); /* chain runs into a free cluster */
    set_fat16(img, first, 0);
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "breaks");
    memcpy(img, pristine, size); /* chain ends early */
    set_fat16(img, second, 0xFFFF);
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "breaks");
    memcpy(img, pristine, size); /* points past the last cluster */
    set_fat16(img, first, 0xFFF0);
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "\\frag16.vhd");
    memcpy(img, pristine, size); /* the last cluster continues: chain longer than the size */
    set_fat16(img, last, (uint16_t)first);
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "longer than the file");
    expect_corrupt(pristine, size, "\\missing.vhd", VB_ERR_NOT_FOUND, "not found");
    expect_corrupt(pristine, size, "\\a\\b", VB_ERR_INVALID_ARG, "directory");
    free(img);
    free(pristine);
}

static void test_fat32_directory_loop(void **state)
{
    (void)state;
    need_images();
    size_t size = 0;
    uint8_t *img = load_image("f32", &size);
    struct geometry g = geometry_of(img);
    uint32_t root = vb_le32(img + 44);
    /* make the root directory's first cluster point back to itself */
    vb_put_le32(img + g.fat_offset + 4 * root, root);
    expect_corrupt(img, size, "\\no-such-file.vhd", VB_ERR_FS_CORRUPT, "loops");
    free(img);
}

static void test_bad_boot_sectors(void **state)
{
    (void)state;
    need_images();
    size_t size = 0;
    uint8_t *pristine = load_image("f16", &size);
    uint8_t *img = malloc(size);
    memcpy(img, pristine, size);
    img[13] = 3; /* sectors per cluster not a power of two */
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_NOT_RECOGNISED, "neither NTFS nor FAT");
    memcpy(img, pristine, size);
    vb_put_le16(img + 19, 0);
    vb_put_le32(img + 32, 0x7FFFFFFF); /* far more sectors than the image holds */
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "device holds only");
    memcpy(img, pristine, size);
    vb_put_le16(img + 22, 1); /* a one-sector FAT cannot describe the clusters */
    expect_corrupt(img, size, "\\frag16.vhd", VB_ERR_FS_CORRUPT, "cannot describe");
    free(img);
    free(pristine);
}

/* Random damage to the FAT and directories must give a status, never a crash
 * or an out-of-bounds access (the ASan build runs this too). */
static void test_random_damage(void **state)
{
    (void)state;
    need_images();
    size_t size = 0;
    uint8_t *pristine = load_image("f16", &size);
    struct geometry g = geometry_of(pristine);
    uint8_t *img = malloc(size);
    memcpy(img, pristine, size);
    unsigned seed = 12345, ok = 0, refused = 0;
    for (int round = 0; round < 150; round++) {
        uint64_t span = g.data_offset + 40 * (uint64_t)g.cluster, hit[16];
        for (int k = 0; k < 16; k++) {
            hit[k] = (uint64_t)rand_r(&seed) % span;
            img[hit[k]] ^= (uint8_t)(1 + rand_r(&seed) % 255);
        }
        vb_diag diag = { 0 };
        vb_status st = lookup_in(img, size, round % 2 ? "\\a\\b\\c\\Ärger σ.vhd" : "\\frag16.vhd", &diag);
        if (st == VB_OK)
            ok++;
        else
            refused++;
        assert_true(st < VB_STATUS_COUNT);
        for (int k = 0; k < 16; k++) /* undo the damage */
            img[hit[k]] = pristine[hit[k]];
    }
    assert_int_equal(ok + refused, 150);
    free(img);
    free(pristine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_fat12_long_and_short_names),
        cmocka_unit_test(test_fat16_deep_unicode_fragmented),
        cmocka_unit_test(test_fat32_fragmented),
        cmocka_unit_test(test_fat16_damaged_chains),
        cmocka_unit_test(test_fat32_directory_loop),
        cmocka_unit_test(test_bad_boot_sectors),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, build_images, remove_images);
}
