/* Unit tests: the in-memory FAT16 disk builder (fs/fat_build.c).
 * Checked against the documented layout (fatgen103 BPB offsets, FAT16
 * cluster-count range, long-name checksum) and read back with the
 * project's own FAT reader (fs/volume.h); tests/host/fat_build.sh reads the
 * same kind of image with mtools and fsck.fat. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fs/fat_build.h"
#include "fs/volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "tests/unit/memsource.h"

static uint8_t big[300000];

static const vb_fat_file files[] = {
    { "\\EFI\\Microsoft\\Boot\\bootmgfw.efi", big, sizeof(big) },
    { "\\EFI\\Microsoft\\Boot\\BCD", (const uint8_t *)"regf-store", 10 },
    { "\\EFI\\Microsoft\\Boot\\Fonts\\wgl4_boot.ttf", big + 1, 5000 },
    { "\\EFI\\Microsoft\\Boot\\Fonts\\segmono_boot.ttf", big + 2, 1 },
    { "\\EFI\\Microsoft\\Boot\\en-US\\bootmgfw.efi.mui", big + 3, 777 },
    { "\\EFI\\Microsoft\\Boot\\empty", NULL, 0 },
    { "\\EFI\\Microsoft\\Boot\\Fonts\\segmono_boot2.ttf", big + 4, 2 },
};

/* Reads a whole file of the image's volume through the project's FAT reader. */
static void expect_file(vb_fs *fs, const char *path, const uint8_t *want, uint32_t size)
{
    vb_source f;
    vb_diag diag;
    assert_int_equal(vb_fs_open_file(fs, path, &f, &diag), VB_OK);
    assert_int_equal(f.size, size);
    uint8_t *got = malloc(size ? size : 1);
    if (size)
        assert_int_equal(vb_source_read(&f, 0, got, size), VB_OK);
    assert_memory_equal(got, want, size);
    free(got);
    vb_source_close(&f);
}

static bool count_entry(void *ctx, const vb_fs_dirent *e)
{
    (void)e;
    (*(unsigned *)ctx)++;
    return false;
}

/* The documented layout: MBR partition, BPB fields, FAT16 cluster count,
 * media byte in FAT[0], long names with valid checksums; every file reads
 * back byte for byte by path, case-insensitively. */
static void test_build_and_read_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31 + 7);
    uint8_t *img;
    uint64_t size;
    assert_int_equal(vb_fat_build(files, sizeof(files) / sizeof(files[0]), "vhdboot", 0x5668d0b7, &img, &size), VB_OK);
    assert_int_equal(size % 512, 0);
    /* MBR: signature, partition 1 type 0x0E at LBA 64 covering the rest */
    assert_int_equal(vb_le32(img + 440), 0x5668d0b7);
    assert_int_equal(img[446 + 4], 0x0E);
    assert_int_equal(vb_le32(img + 446 + 8), VB_FAT_BUILD_PART_LBA);
    assert_int_equal((uint64_t)vb_le32(img + 446 + 12) + VB_FAT_BUILD_PART_LBA, size / 512);
    assert_int_equal(img[510], 0x55);
    assert_int_equal(img[511], 0xAA);
    /* BPB (fatgen103): FAT16 count of clusters within 4085..65524 */
    const uint8_t *v = img + VB_FAT_BUILD_PART_LBA * 512;
    uint32_t bps = vb_le16(v + 11), spc = v[13], rsvd = vb_le16(v + 14), nfat = v[16];
    uint32_t root = vb_le16(v + 17), fatsz = vb_le16(v + 22);
    uint32_t tot = vb_le16(v + 19) ? vb_le16(v + 19) : vb_le32(v + 32);
    assert_int_equal(bps, 512);
    assert_int_equal(nfat, 2);
    assert_int_equal(v[21], 0xF8);
    assert_int_equal(vb_le32(v + 28), VB_FAT_BUILD_PART_LBA);
    uint32_t data_sec = tot - (rsvd + nfat * fatsz + (root * 32 + bps - 1) / bps);
    uint32_t clusters = data_sec / spc;
    assert_true(clusters >= 4085 && clusters < 65525);
    assert_int_equal(v[rsvd * 512], 0xF8);                /* FAT[0] low byte = media */
    assert_memory_equal(v + 54, "FAT16   ", 8);

    memsource *part = memsource_new_readonly(v, (size_t)(size - VB_FAT_BUILD_PART_LBA * 512));
    vb_fs *fs;
    vb_diag diag;
    assert_int_equal(vb_fs_probe(&part->src, &fs, &diag), VB_OK);
    assert_int_equal(vb_fs_type_of(fs), VB_FS_FAT16);
    assert_string_equal(vb_fs_label(fs), "VHDBOOT");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        expect_file(fs, files[i].path, files[i].data, files[i].size);
    expect_file(fs, "\\efi\\MICROSOFT\\boot\\FONTS\\WGL4_BOOT.TTF", big + 1, 5000);
    unsigned n = 0;
    assert_int_equal(vb_fs_list_dir(fs, "\\EFI\\Microsoft\\Boot\\Fonts", count_entry, &n, &diag), VB_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(vb_fs_list_dir(fs, "\\EFI\\Microsoft\\Boot", count_entry, &n, &diag), VB_OK);
    assert_int_equal(n, 5);
    vb_fs_close(fs);
    memsource_free(part);
    vb_free(img);
}

/* Long-name entries carry the checksum of their 8.3 alias (fatgen103:
 * sum = rotate-right(sum) + byte over the 11 bytes), and the two aliases
 * that would clash ("SEGMON~1.TTF") get different numbers. */
static void test_long_names(void **state)
{
    (void)state;
    static const vb_fat_file two[] = {
        { "\\segmono_boot.ttf", (const uint8_t *)"a", 1 },
        { "\\segmono_boot2.ttf", (const uint8_t *)"b", 1 },
        { "\\BCD", (const uint8_t *)"c", 1 },
    };
    uint8_t *img;
    uint64_t size;
    assert_int_equal(vb_fat_build(two, 3, NULL, 1, &img, &size), VB_OK);
    const uint8_t *v = img + VB_FAT_BUILD_PART_LBA * 512;
    uint32_t rootdir = (vb_le16(v + 14) + 2 * vb_le16(v + 22)) * 512;
    const uint8_t *e = v + rootdir + 32;                  /* after the label */
    char aliases[2][12] = { { 0 } };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(e[0], 0x42);                     /* last of two LFN entries, seq 2 */
        assert_int_equal(e[11], 0x0F);
        assert_int_equal(e[32], 0x01);
        const uint8_t *sn = e + 64;
        uint8_t sum = 0;
        for (int i = 0; i < 11; i++)
            sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sn[i]);
        assert_int_equal(e[13], sum);
        assert_int_equal(e[32 + 13], sum);
        memcpy(aliases[k], sn, 11);
        e += 96;
    }
    assert_string_equal(aliases[0], "SEGMON~1TTF");
    assert_string_equal(aliases[1], "SEGMON~2TTF");
    assert_memory_equal(e, "BCD        ", 11);              /* plain 8.3: no long name */
    vb_free(img);
}

/* Bad paths and duplicates are refused. */
static void test_refusals(void **state)
{
    (void)state;
    uint8_t *img;
    uint64_t size;
    vb_fat_file f[2] = { { "\\a\\b", (const uint8_t *)"x", 1 }, { "\\A\\B", (const uint8_t *)"y", 1 } };
    assert_int_equal(vb_fat_build(f, 2, NULL, 0, &img, &size), VB_ERR_INVALID_ARG);
    f[1].path = "\\a";                                      /* a folder given as a file */
    assert_int_equal(vb_fat_build(f, 2, NULL, 0, &img, &size), VB_ERR_INVALID_ARG);
    f[1].path = "relative";
    assert_int_equal(vb_fat_build(f, 2, NULL, 0, &img, &size), VB_ERR_INVALID_ARG);
    f[1].path = "\\a\\..\\c";
    assert_int_equal(vb_fat_build(f, 2, NULL, 0, &img, &size), VB_ERR_INVALID_ARG);
    f[1].path = "\\a\\c?";
    assert_int_equal(vb_fat_build(f, 2, NULL, 0, &img, &size), VB_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_read_back),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("fat_build", tests, NULL, NULL);
}
