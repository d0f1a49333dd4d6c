/* vhdboot tests: extent maps (fs/extent.c), the block source over an extent
 * map (fs/extent_source.c) and core-path names (fs/fs_name.c) — the pieces
 * the NTFS and FAT readers hand to the loader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "fs/extent.h"
#include "fs/fs_name.h"
#include "tests/unit/memsource.h"

#define VOLUME_SIZE 65536u

static uint8_t volume_bytes[VOLUME_SIZE];

/* A volume whose byte i is a function of i, so misplaced reads show. */
static memsource *pattern_volume(bool writable)
{
    for (size_t i = 0; i < VOLUME_SIZE; i++)
        volume_bytes[i] = (uint8_t)(i * 7 + (i >> 8));
    return writable ? memsource_new(volume_bytes, VOLUME_SIZE) : memsource_new_readonly(volume_bytes, VOLUME_SIZE);
}

/* Three pieces: 1000 bytes at 4096, 3000 at 10000, 500 at 20000. */
static void three_pieces(vb_extent_map *map)
{
    memset(map, 0, sizeof(*map));
    assert_int_equal(vb_extent_map_append(map, 4096, 600), VB_OK);
    assert_int_equal(vb_extent_map_append(map, 4696, 400), VB_OK); /* merges */
    assert_int_equal(vb_extent_map_append(map, 10000, 3000), VB_OK);
    assert_int_equal(vb_extent_map_append(map, 20000, 500), VB_OK);
    map->valid_size = map->file_size;
}

static void test_append_merges_and_finds(void **state)
{
    (void)state;
    vb_extent_map map;
    three_pieces(&map);
    assert_int_equal(map.count, 3);
    assert_int_equal(map.file_size, 4500);
    assert_int_equal(map.extents[1].file_offset, 1000);
    assert_int_equal(map.extents[2].file_offset, 4000);
    assert_int_equal(vb_extent_map_find(&map, 0), 0);
    assert_int_equal(vb_extent_map_find(&map, 999), 0);
    assert_int_equal(vb_extent_map_find(&map, 1000), 1);
    assert_int_equal(vb_extent_map_find(&map, 4499), 2);
    vb_extent_map_truncate(&map, 1200);
    assert_int_equal(map.count, 2);
    assert_int_equal(map.extents[1].length, 200);
    assert_int_equal(map.valid_size, 1200);
    assert_int_equal(vb_extent_map_append(&map, UINT64_MAX - 10, 20), VB_ERR_OUT_OF_RANGE);
    vb_extent_map_free(&map);
    assert_null(map.extents);
}

static void test_check_finds_overlap_and_overrun(void **state)
{
    (void)state;
    vb_extent_map map;
    three_pieces(&map);
    vb_diag diag = { 0 };
    assert_int_equal(vb_extent_map_check(&map, VOLUME_SIZE, "\\x.vhd", &diag), VB_OK);
    assert_int_equal(vb_extent_map_check(&map, 20499, "\\x.vhd", &diag), VB_ERR_FS_CORRUPT);
    assert_non_null(strstr(diag.text, "\\x.vhd"));
    assert_int_equal(vb_extent_map_append(&map, 12999, 10), VB_OK); /* overlaps the second piece by 1 byte */
    assert_int_equal(vb_extent_map_check(&map, VOLUME_SIZE, "\\x.vhd", &diag), VB_ERR_FS_CORRUPT);
    assert_non_null(strstr(diag.text, "share disk offset"));
    vb_extent_map_free(&map);
}

static void test_reads_one_volume_read_per_piece(void **state)
{
    (void)state;
    memsource *vol = pattern_volume(false);
    vb_extent_map map;
    three_pieces(&map);
    vb_source file;
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_OK);
    assert_null(map.extents); /* ownership moved */
    assert_int_equal(file.size, 4500);
    assert_null(file.write);
    uint8_t buf[4500];
    memsource_reset_counters(vol);
    assert_int_equal(vb_source_read(&file, 0, buf, sizeof(buf)), VB_OK);
    assert_int_equal(vol->reads, 3);
    assert_memory_equal(buf, volume_bytes + 4096, 1000);
    assert_memory_equal(buf + 1000, volume_bytes + 10000, 3000);
    assert_memory_equal(buf + 4000, volume_bytes + 20000, 500);
    memsource_reset_counters(vol); /* a read straddling two pieces */
    assert_int_equal(vb_source_read(&file, 990, buf, 20), VB_OK);
    assert_int_equal(vol->reads, 2);
    assert_int_equal(vol->read_log[0].offset, 4096 + 990);
    assert_int_equal(vol->read_log[1].offset, 10000);
    assert_memory_equal(buf + 10, volume_bytes + 10000, 10);
    assert_int_equal(vb_source_read(&file, 4400, buf, 101), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_source_write(&file, 0, buf, 1), VB_ERR_WRITE_PROTECTED);
    vb_source_close(&file);
    memsource_free(vol);
}

static void test_uninitialized_tail_is_zero_and_read_only(void **state)
{
    (void)state;
    memsource *vol = pattern_volume(true);
    vb_extent_map map;
    three_pieces(&map);
    map.valid_size = 1500; /* NTFS initialized size below data size */
    vb_source file;
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_OK);
    uint8_t buf[4500], zeros[3000] = { 0 };
    memsource_reset_counters(vol);
    assert_int_equal(vb_source_read(&file, 0, buf, sizeof(buf)), VB_OK);
    assert_int_equal(vol->reads, 2); /* the zero tail never touches the disk */
    assert_memory_equal(buf, volume_bytes + 4096, 1000);
    assert_memory_equal(buf + 1000, volume_bytes + 10000, 500);
    assert_memory_equal(buf + 1500, zeros, 3000);
    /* writes: in place below the initialized size, refused past it */
    uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(vb_source_write(&file, 996, data, 8), VB_OK);
    assert_memory_equal(vol->data + 4096 + 996, data, 4);
    assert_memory_equal(vol->data + 10000, data + 4, 4);
    assert_int_equal(vol->size, VOLUME_SIZE);
    assert_int_equal(vb_source_write(&file, 1496, data, 8), VB_ERR_NO_SPACE);
    assert_int_equal(vb_source_write(&file, 4500, data, 1), VB_ERR_NO_SPACE);
    assert_int_equal(vb_source_write(&file, UINT64_MAX - 2, data, 1), VB_ERR_NO_SPACE);
    assert_int_equal(vb_source_flush(&file), VB_OK);
    assert_int_equal(vol->flushes, 1);
    vb_source_close(&file);
    memsource_free(vol);
}

static void test_open_refuses_bad_maps(void **state)
{
    (void)state;
    memsource *vol = pattern_volume(false);
    vb_extent_map map;
    vb_source file;
    three_pieces(&map);
    map.extents[2].disk_offset = VOLUME_SIZE - 100; /* runs past the volume */
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_ERR_INVALID_ARG);
    vb_extent_map_free(&map);
    three_pieces(&map);
    map.extents[1].file_offset = 1001; /* gap */
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_ERR_INVALID_ARG);
    vb_extent_map_free(&map);
    three_pieces(&map);
    map.valid_size = map.file_size + 1;
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_ERR_INVALID_ARG);
    vb_extent_map_free(&map);
    memset(&map, 0, sizeof(map)); /* an empty file is fine */
    assert_int_equal(vb_extent_source_open(&vol->src, &map, &file), VB_OK);
    assert_int_equal(file.size, 0);
    vb_source_close(&file);
    memsource_free(vol);
}

static void test_path_components(void **state)
{
    (void)state;
    const char *path = "\\\\dir/./Ärger σ\\file.vhd\\";
    size_t pos = 0;
    vb_fs_name name;
    bool done;
    vb_diag diag = { 0 };
    assert_int_equal(vb_fs_path_next(path, &pos, &name, &done, &diag), VB_OK);
    assert_false(done);
    assert_int_equal(name.len, 3);
    assert_int_equal(name.units[0], 'd');
    assert_int_equal(vb_fs_path_next(path, &pos, &name, &done, &diag), VB_OK);
    assert_int_equal(name.len, 7);
    assert_int_equal(name.units[0], 0xC4);
    assert_int_equal(name.units[6], 0x3C3);
    assert_int_equal(vb_fs_path_next(path, &pos, &name, &done, &diag), VB_OK);
    assert_int_equal(name.len, 8);
    assert_int_equal(vb_fs_path_next(path, &pos, &name, &done, &diag), VB_OK);
    assert_true(done);
    pos = 0;
    assert_int_equal(vb_fs_path_next("\\a\\..\\b", &pos, &name, &done, &diag), VB_OK);
    assert_int_equal(vb_fs_path_next("\\a\\..\\b", &pos, &name, &done, &diag), VB_ERR_INVALID_ARG);
    assert_non_null(strstr(diag.text, ".."));
    char longname[300];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    pos = 0;
    assert_int_equal(vb_fs_path_next(longname, &pos, &name, &done, &diag), VB_ERR_INVALID_ARG);
    pos = 0;
    assert_int_equal(vb_fs_path_next("\\\xF0\x9F\x98\x80.vhd", &pos, &name, &done, &diag), VB_OK);
    assert_int_equal(name.len, 6); /* a surrogate pair and ".vhd" */
    assert_int_equal(name.units[0], 0xD83D);
}

static void test_simple_upcase(void **state)
{
    (void)state;
    static const uint16_t pairs[][2] = {
        { 'a', 'A' }, { 'Z', 'Z' }, { 0xE4, 0xC4 }, { 0xF7, 0xF7 }, { 0xFF, 0x178 }, { 0x101, 0x100 },
        { 0x13A, 0x139 }, { 0x131, 0x131 }, { 0x17E, 0x17D }, { 0x3C3, 0x3A3 }, { 0x3C2, 0x3A3 },
        { 0x3B1, 0x391 }, { 0x44F, 0x42F }, { 0x451, 0x401 }, { 0x4E00, 0x4E00 }, { '1', '1' },
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        assert_int_equal(vb_fs_simple_upcase(pairs[i][0]), pairs[i][1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_merges_and_finds),
        cmocka_unit_test(test_check_finds_overlap_and_overrun),
        cmocka_unit_test(test_reads_one_volume_read_per_piece),
        cmocka_unit_test(test_uninitialized_tail_is_zero_and_read_only),
        cmocka_unit_test(test_open_refuses_bad_maps),
        cmocka_unit_test(test_path_components),
        cmocka_unit_test(test_simple_upcase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
