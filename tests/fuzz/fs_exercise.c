/* vhdboot fuzzing: the host-volume exercise shared by fuzz_ntfs and fuzz_fat. */
#include <stdlib.h>
#include <string.h>
#include "fs/volume.h"
#include "fs_exercise.h"
#include "support.h"

#define FILE_READ_MAX (256u << 10)

/* Paths the seed volumes hold (tests/fuzz/make_seeds.sh), plus misses and odd spellings. */
static const char *const paths[] = {
    "\\disk.vhd", "\\VMS\\base.vhd", "\\vms\\lab\\child.vhd", "\\Long File Name With Spaces.txt", "\\long-file-name.TXT",
    "\\frag.bin", "\\EFI\\BOOT\\BOOTX64.EFI", "\\vms\\sparse.vhd", "\\vms\\lab\\uninit.vhd",
    "\\name-with-some-length-37.txt", "\\missing", "\\vms\\..\\disk.vhd", "\\", "\\vms\\",
};

/* Fails unless map is sorted, gap-free from 0 and sums to file_size. */
static void check_map(const vb_extent_map *map)
{
    uint64_t at = 0;
    for (size_t i = 0; i < map->count; i++) {
        if (map->extents[i].file_offset != at || map->extents[i].length == 0)
            fuzz_fail("extent map has a gap, an overlap or an empty extent");
        at += map->extents[i].length;
    }
    if (at != map->file_size)
        fuzz_fail("extent lengths do not add up to the file size");
    if (map->valid_size > map->file_size)
        fuzz_fail("valid size beyond the file size");
    if (vb_extent_map_check(map, UINT64_MAX, "fuzz", NULL) == VB_ERR_FS_CORRUPT)
        fuzz_fail("lookup returned extents sharing disk bytes");
}

/* Listing callback: checks each entry's name, counts entries, stops after a few thousand. */
static bool list_entry(void *ctx, const vb_fs_dirent *e)
{
    unsigned *count = ctx;
    if (!e->name || memchr(e->name, '\0', 3 * 255 + 1) == NULL)
        fuzz_fail("listed name not terminated");
    if (e->is_dir && e->size != 0)
        fuzz_fail("listed directory with a size");
    return ++*count >= 4096;
}

void fuzz_fs_exercise(vb_source *vol)
{
    vb_fs *fs = NULL;
    vb_diag diag = { 0 };
    vb_status st = vb_fs_probe(vol, &fs, &diag);
    if (st != VB_OK) {
        if (st != VB_ERR_FS_NOT_RECOGNISED && diag.text[0] == '\0')
            fuzz_fail("probe refused a volume without a message");
        return;
    }
    (void)vb_fs_type_name(vb_fs_type_of(fs));
    if (memchr(vb_fs_label(fs), '\0', 1024) == NULL)
        fuzz_fail("label not terminated");
    uint8_t *buf = malloc(FILE_READ_MAX);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        vb_extent_map map = { 0 };
        vb_diag d = { 0 };
        if (vb_fs_lookup(fs, paths[i], &map, &d) == VB_OK) {
            check_map(&map);
            vb_extent_map_free(&map);
        }
        vb_source file;
        if (vb_fs_open_file(fs, paths[i], &file, &d) == VB_OK) {
            size_t len = file.size < FILE_READ_MAX ? (size_t)file.size : FILE_READ_MAX;
            (void)vb_source_read(&file, 0, buf, len);
            if (file.size > 1)
                (void)vb_source_read(&file, file.size / 2 - 1, buf, 2);
            vb_source_close(&file);
        }
    }
    free(buf);
    static const char *const dirs[] = { "\\", "\\vms", "\\vms\\lab", "\\disk.vhd", "\\missing" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        unsigned count = 0;
        vb_diag d = { 0 };
        vb_status ls = vb_fs_list_dir(fs, dirs[i], list_entry, &count, &d);
        if (ls != VB_OK && d.text[0] == '\0')
            fuzz_fail("listing failed without a message");
    }
    vb_fs_close(fs);
}
