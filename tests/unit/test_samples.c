/* Unit tests: real-world VHD samples from ../shared/data/vhd-samples (see its
 * PROVENANCE.md). Tests run from the repo root; VHD_SAMPLES overrides the
 * folder. Every test skips with a notice when the folder is absent; a file
 * missing from a present folder fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "format/vhd.h"
#include "tools/host_file.h"

#define MiB (1024u * 1024u)

static char samples[4096];

/* Builds the host path of a sample into out; skips the test when the
 * samples folder is absent, fails when only the file is missing. */
static void sample_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", samples, name);
    if (access(samples, R_OK) != 0) {
        print_message("# skipped: samples folder %s absent\n", samples);
        skip();
    }
    if (access(out, R_OK) != 0)
        fail_msg("sample %s missing from %s", name, samples);
}

/* Opens one sample as a single read-only layer. */
static void open_layer(const char *name, vb_source *file, vb_layer **layer)
{
    char path[4200];
    sample_path(name, path, sizeof(path));
    assert_int_equal(host_file_open(path, false, file), VB_OK);
    vb_diag diag = { 0 };
    if (vb_layer_open(file, name, 0, layer, &diag) != VB_OK)
        fail_msg("%s", diag.text);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("[%s] does not contain [%s]", text, needle);
}

/* fat-differential.vhd: Windows-made differencing disk, 4 MiB, 2 MiB blocks. */
static void test_fat_differential_header(void **state)
{
    (void)state;
    vb_source file;
    vb_layer *layer;
    open_layer("fat-differential.vhd", &file, &layer);
    const vb_vhd_info *info = vb_layer_info(layer);
    assert_int_equal(info->type, VB_DISK_DIFF);
    assert_int_equal(info->disk_size, 4 * MiB);
    assert_int_equal(info->block_size, 2 * MiB);
    assert_string_equal(info->creator_app, "win ");
    assert_int_equal(info->parent_timestamp, 0);
    assert_string_equal(info->parent_name, "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd");
    assert_int_equal(vb_layer_locator_count(layer), 2);
    const vb_locator *w2ku = vb_layer_locator(layer, 0), *w2ru = vb_layer_locator(layer, 1);
    assert_string_equal(w2ku->code, "W2ku");
    assert_string_equal(w2ku->path, "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd");
    assert_int_equal(w2ku->data_space, 4096); /* bytes, not sectors */
    assert_string_equal(w2ru->code, "W2ru");
    assert_string_equal(w2ru->path, ".\\fat-parent.vhd");
    assert_int_equal(w2ru->data_space, 65536);

    char c[9][VB_PATH_MAX];
    unsigned n = vb_parent_candidates(layer, "\\s\\fat-differential.vhd", c, 9);
    assert_int_equal(n, 2); /* the header name's leaf equals W2ru */
    assert_string_equal(c[0], "\\s\\fat-parent.vhd");
    assert_string_equal(c[1], "\\Projects\\dfvfs\\test_data\\fat-parent.vhd");
    vb_layer_close(layer);
    vb_source_close(&file);
}

/* Sectors present in the child, as the MSB-first bitmap of its one block says. */
static void test_fat_differential_present_sectors(void **state)
{
    (void)state;
    static const unsigned present[] = { 134, 143, 152, 153, 154, 155, 156, 157, 158, 159,
                                        184, 185, 188, 190, 191, 192, 194, 196 };
    vb_source file;
    vb_layer *layer;
    open_layer("fat-differential.vhd", &file, &layer);
    unsigned k = 0;
    for (uint64_t s = 0; s < 4 * MiB / 512; s++) {
        bool want = k < sizeof(present) / sizeof(present[0]) && present[k] == s;
        if (want)
            k++;
        if (vb_layer_sector_present(layer, s) != want)
            fail_msg("sector %llu: present=%d, expected %d", (unsigned long long)s, !want, want);
    }
    assert_int_equal(k, sizeof(present) / sizeof(present[0]));

    /* present sectors read from the block: data starts 4 KiB aligned at 81920 */
    uint8_t got[512], raw[512];
    vb_source *disk = vb_layer_source(layer);
    assert_int_equal(vb_source_read(disk, 152 * 512, got, 512), VB_OK);
    assert_memory_equal(got, "TESTVOLUME", 10);
    for (unsigned i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
        assert_int_equal(vb_source_read(disk, (uint64_t)present[i] * 512, got, 512), VB_OK);
        assert_int_equal(vb_source_read(&file, 81920 + (uint64_t)present[i] * 512, raw, 512), VB_OK);
        assert_memory_equal(got, raw, 512);
    }
    vb_layer_close(layer);
    vb_source_close(&file);
}

/* Its parent is not shipped: the chain refuses with the paths it tried. */
static void test_fat_differential_parent_missing(void **state)
{
    (void)state;
    char path[4200], core[VB_PATH_MAX], tried[VB_PATH_MAX + 128];
    sample_path("fat-differential.vhd", path, sizeof(path));
    assert_true(host_to_core_path(path, core, sizeof(core)));
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    assert_int_equal(host_chain_open(path, 0, &chain, &diag), VB_ERR_PARENT_NOT_FOUND);
    assert_null(chain);
    assert_int_equal(diag.status, VB_ERR_PARENT_NOT_FOUND);
    assert_contains(diag.text, "fat-differential.vhd: parent not found: .\\fat-parent.vhd");
    *strrchr(core, '\\') = '\0';
    snprintf(tried, sizeof(tried), "tried %s\\fat-parent.vhd, \\Projects\\dfvfs\\test_data\\fat-parent.vhd", core);
    assert_contains(diag.text, tried);
}

/* image.vhd and its child: footer checksum is wrong (copy too), refused. */
static void test_bad_checksum_samples(void **state)
{
    (void)state;
    static const char *const names[] = { "image.vhd", "image-differential.vhd" };
    for (unsigned i = 0; i < 2; i++) {
        char path[4200];
        sample_path(names[i], path, sizeof(path));
        vb_chain *chain = NULL;
        vb_diag diag = { 0 };
        assert_int_equal(host_chain_open(path, 0, &chain, &diag), VB_ERR_FOOTER_CHECKSUM);
        assert_null(chain);
        assert_contains(diag.text, names[i]);
        /* the damaged copy at offset 0 cannot stand in for it either */
        assert_int_equal(host_chain_open(path, VB_OPEN_USE_FOOTER_COPY, &chain, &diag), VB_ERR_FOOTER_CHECKSUM);
        assert_null(chain);
    }
}

/* ext2.vhd: QEMU-made dynamic disk; size by the CHS rule = current size. */
static void test_ext2_opens(void **state)
{
    (void)state;
    char path[4200];
    sample_path("ext2.vhd", path, sizeof(path));
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    if (host_chain_open(path, 0, &chain, &diag) != VB_OK)
        fail_msg("%s", diag.text);
    assert_int_equal(vb_chain_depth(chain), 1);
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, 0));
    assert_int_equal(info->type, VB_DISK_DYNAMIC);
    assert_string_equal(info->creator_app, "qemu");
    assert_int_equal(info->disk_size, 4212736);
    assert_int_equal(info->geometry.cylinders, 121);
    assert_int_equal(info->geometry.heads, 4);
    assert_int_equal(info->geometry.sectors, 17);
    vb_source *disk = vb_chain_source(chain);
    assert_int_equal(disk->size, 4212736);
    uint8_t super[1024];
    assert_int_equal(vb_source_read(disk, 1024, super, sizeof(super)), VB_OK);
    assert_int_equal(super[56], 0x53); /* ext2 magic 0xEF53, little-endian */
    assert_int_equal(super[57], 0xEF);

    /* Whole-disk comparison with qemu-img's raw conversion (make deps installs qemu-utils). */
    char raw[64], cmd[8400];
    snprintf(raw, sizeof(raw), "/tmp/vhdboot-ext2-%d.raw", (int)getpid());
    snprintf(cmd, sizeof(cmd), "qemu-img convert -f vpc -O raw '%s' '%s' 2>/dev/null", path, raw);
    if (system(cmd) != 0)
        fail_msg("qemu-img could not convert %s (make deps installs qemu-utils)", path);
    {
        vb_source ref;
        assert_int_equal(host_file_open(raw, false, &ref), VB_OK);
        assert_int_equal(ref.size, disk->size);
        uint8_t *a = malloc(64 * 1024), *b = malloc(64 * 1024);
        for (uint64_t off = 0; off < ref.size; off += 64 * 1024) {
            size_t n = ref.size - off < 64 * 1024 ? (size_t)(ref.size - off) : 64 * 1024;
            assert_int_equal(vb_source_read(disk, off, a, n), VB_OK);
            assert_int_equal(vb_source_read(&ref, off, b, n), VB_OK);
            if (memcmp(a, b, n) != 0)
                fail_msg("ext2.vhd differs from qemu-img's conversion near offset %llu", (unsigned long long)off);
        }
        free(a);
        free(b);
        vb_source_close(&ref);
        unlink(raw);
    }
    vb_chain_close(chain);
}

int main(void)
{
    const char *env = getenv("VHD_SAMPLES");
    snprintf(samples, sizeof(samples), "%s", env && *env ? env : "../shared/data/vhd-samples");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fat_differential_header),
        cmocka_unit_test(test_fat_differential_present_sectors),
        cmocka_unit_test(test_fat_differential_parent_missing),
        cmocka_unit_test(test_bad_checksum_samples),
        cmocka_unit_test(test_ext2_opens),
    };
    return cmocka_run_group_tests_name("samples", tests, NULL, NULL);
}
