/* vhdboot tests: directory listing (vb_fs_list_dir) on NTFS volumes made by
 * mkntfs + the libntfs-3g builder and FAT volumes made by mkfs.vfat +
 * mtools, compared with `ntfsls -l -F` and `mdir -b`; sizes also checked
 * against each file's lookup; early stop, files, missing paths and a
 * B-tree loop refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <strings.h>
#include "format/bytes.h"
#include "fs/volume.h"
#include "tests/tools/fs_test_util.h"

#define MAX_ENTRIES 4096

typedef struct listed {
    char *name[MAX_ENTRIES];
    bool is_dir[MAX_ENTRIES];
    uint64_t size[MAX_ENTRIES];
    size_t count;
    size_t stop_after; /* 0 = never stop */
} listed;

static char ntfs_dir[512], fat_dir[512];
static int ntfs_rc, fat_rc;
static const char *ntfs_why, *fat_why;

/* Callback: records one entry; stops after stop_after entries when set. */
static bool collect(void *ctx, const vb_fs_dirent *e)
{
    listed *l = ctx;
    assert_true(l->count < MAX_ENTRIES);
    l->name[l->count] = strdup(e->name);
    l->is_dir[l->count] = e->is_dir;
    l->size[l->count] = e->size;
    l->count++;
    return l->stop_after && l->count >= l->stop_after;
}

static void listed_free(listed *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->name[i]);
    memset(l, 0, sizeof(*l));
}

/* A mounted image: file source plus fs handle. */
typedef struct mounted {
    fs_file_source file;
    vb_fs *fs;
} mounted;

static void mount_image(mounted *m, const char *dir, const char *name)
{
    char path[640];
    snprintf(path, sizeof(path), "%s/%s.img", dir, name);
    assert_true(fs_file_source_open(&m->file, path));
    vb_diag diag = { 0 };
    vb_status st = vb_fs_probe(&m->file.src, &m->fs, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# probe %s: %s\n", path, diag.text);
    assert_int_equal(st, VB_OK);
}

static void unmount_image(mounted *m)
{
    vb_fs_close(m->fs);
    fs_file_source_close(&m->file);
}

/* Runs a shell command and returns its output lines (malloc'd, count in *n). */
static char **command_lines(const char *cmd, size_t *n)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char **lines = calloc(MAX_ENTRIES, sizeof(char *));
    char buf[2048];
    *n = 0;
    while (fgets(buf, sizeof(buf), p) && *n < MAX_ENTRIES) {
        buf[strcspn(buf, "\n")] = '\0';
        lines[(*n)++] = strdup(buf);
    }
    assert_int_equal(pclose(p), 0);
    return lines;
}

static void lines_free(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Checks each reported file's size against its own lookup. */
static void check_sizes_by_lookup(vb_fs *fs, const char *dir, const listed *l)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->is_dir[i])
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s\\%s", strcmp(dir, "\\") ? dir : "", l->name[i]);
        vb_extent_map map = { 0 };
        vb_diag diag = { 0 };
        vb_status st = vb_fs_lookup(fs, path, &map, &diag);
        if (st == VB_ERR_FS_UNSUPPORTED) /* sparse or resident: no map, but it was listed */
            continue;
        if (st != VB_OK)
            fprintf(stderr, "# lookup %s: %s\n", path, diag.text);
        assert_int_equal(st, VB_OK);
        if (map.file_size != l->size[i])
            fprintf(stderr, "# %s: listed %llu, lookup %llu\n", path, (unsigned long long)l->size[i],
                    (unsigned long long)map.file_size);
        assert_true(map.file_size == l->size[i]);
        vb_extent_map_free(&map);
    }
}

/* One entry as an oracle line sorts it: name, directory mark, size. */
typedef struct oracle_entry {
    char name[1024];
    bool is_dir;
    unsigned long long size;
} oracle_entry;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const oracle_entry *)a)->name, ((const oracle_entry *)b)->name);
}

/* Lists dir on an NTFS image and compares with `ntfsls -l -F` (names,
 * directory marks, sizes; ntfsls reads blocks in disk order, so both sides
 * are sorted first); checks that vb_fs_list_dir's own order is ascending. */
static void compare_ntfs(const char *image, const char *dir, const char *unix_dir, listed *l)
{
    mounted m;
    mount_image(&m, ntfs_dir, image);
    vb_diag diag = { 0 };
    vb_status st = vb_fs_list_dir(m.fs, dir, collect, l, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# list %s: %s\n", dir, diag.text);
    assert_int_equal(st, VB_OK);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "LC_ALL=C.UTF-8 ntfsls -l -F -p '%s' '%s/%s.img' 2>/dev/null", unix_dir, ntfs_dir, image);
    size_t n = 0;
    char **lines = command_lines(cmd, &n);
    oracle_entry *want = calloc(n + 1, sizeof(*want)), *got = calloc(l->count + 1, sizeof(*got));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long long size;
        int name_at = 0;
        char mon[8], time[8];
        int day, year;
        if (sscanf(lines[i], "%llu %7s %d %7s %d %n", &size, mon, &day, time, &year, &name_at) != 5 || !name_at)
            fail_msg("unexpected ntfsls line: %s", lines[i]);
        const char *name = lines[i] + name_at;
        if (!strcmp(name, "./") || !strcmp(name, "../"))
            continue;
        size_t len = strlen(name);
        want[k].is_dir = len && name[len - 1] == '/';
        snprintf(want[k].name, sizeof(want[k].name), "%.*s", (int)(want[k].is_dir ? len - 1 : len), name);
        want[k].size = want[k].is_dir ? 0 : size;
        k++;
    }
    for (size_t i = 0; i < l->count; i++) {
        snprintf(got[i].name, sizeof(got[i].name), "%s", l->name[i]);
        got[i].is_dir = l->is_dir[i];
        got[i].size = l->size[i];
        if (i && strcasecmp(l->name[i - 1], l->name[i]) >= 0 && strchr(l->name[i], 0xC3) == NULL)
            fail_msg("listing out of collation order: '%s' before '%s'", l->name[i - 1], l->name[i]);
    }
    assert_int_equal(k, l->count);
    qsort(want, k, sizeof(*want), by_name);
    qsort(got, k, sizeof(*got), by_name);
    for (size_t i = 0; i < k; i++) {
        if (strcmp(want[i].name, got[i].name) != 0)
            fail_msg("sorted entry %zu: ntfsls says '%s', vb_fs_list_dir '%s'", i, want[i].name, got[i].name);
        assert_int_equal(want[i].is_dir, got[i].is_dir);
        assert_true(want[i].size == got[i].size);
    }
    check_sizes_by_lookup(m.fs, dir, l);
    free(want);
    free(got);
    lines_free(lines, n);
    unmount_image(&m);
}

static void test_ntfs_root_and_dos_names(void **state)
{
    (void)state;
    listed l = { 0 };
    compare_ntfs("n512", "\\", "/", &l);
    bool long_name = false;
    for (size_t i = 0; i < l.count; i++) {
        assert_true(strcmp(l.name[i], "LONGFI~1.VHD") != 0); /* the DOS duplicate is skipped */
        assert_true(l.name[i][0] != '$');                    /* metadata files are not listed */
        long_name |= !strcmp(l.name[i], "LongFileName-2024.vhd");
    }
    assert_true(long_name);
    listed_free(&l);
}

static void test_ntfs_btree_directory(void **state)
{
    (void)state;
    listed l = { 0 };
    compare_ntfs("n512", "\\many", "/many", &l);
    assert_int_equal(l.count, 2001); /* spread over INDX blocks: the in-order walk visits all */
    assert_string_equal(l.name[0], "file-0000.vhd");
    assert_string_equal(l.name[2000], "Zeta.vhd");
    listed_free(&l);
    compare_ntfs("n512", "\\Äpfel", "/Äpfel", &l);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.name[0], "σίσυφος.vhd");
    listed_free(&l);
    compare_ntfs("n4k", "\\Dir", "/Dir", &l);
    assert_int_equal(l.count, 1);
    listed_free(&l);
    compare_ntfs("n64k", "/", "/", &l);
    listed_free(&l);
}

static void test_ntfs_stop_and_refusals(void **state)
{
    (void)state;
    mounted m;
    mount_image(&m, ntfs_dir, "n512");
    listed l = { .stop_after = 3 };
    vb_diag diag = { 0 };
    assert_int_equal(vb_fs_list_dir(m.fs, "\\MANY", collect, &l, &diag), VB_OK); /* case-insensitive path */
    assert_int_equal(l.count, 3);
    listed_free(&l);
    assert_int_equal(vb_fs_list_dir(m.fs, "\\tiny.txt", collect, &l, &diag), VB_ERR_INVALID_ARG);
    assert_non_null(strstr(diag.text, "tiny.txt"));
    assert_int_equal(vb_fs_list_dir(m.fs, "\\nope", collect, &l, &diag), VB_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.text, "\\nope"));
    assert_int_equal(l.count, 0);
    unmount_image(&m);
}

/* Undoes (restore) or redoes the update-sequence fixup of a 4096-byte INDX block. */
static void fixup(uint8_t *b, bool restore)
{
    uint16_t usa = vb_le16(b + 4), count = vb_le16(b + 6);
    assert_true(count == 9 && usa + 2u * count <= 512);
    for (unsigned i = 1; i < count; i++) {
        uint8_t *end = b + 512 * i - 2, *saved = b + usa + 2 * i;
        if (restore) {
            memcpy(end, saved, 2);
        } else {
            memcpy(saved, end, 2);
            memcpy(end, b + usa, 2);
        }
    }
}

/* Damages every INDX block of /many so that its last entry points back to
 * the block itself: the listing must fail with a cap, not loop. */
static void test_ntfs_index_loop(void **state)
{
    (void)state;
    char path[640];
    snprintf(path, sizeof(path), "%s/n512.img", ntfs_dir);
    size_t len = 0;
    uint8_t *img = fs_load_file(path, &len);
    assert_non_null(img);
    unsigned damaged = 0;
    for (size_t off = 0; off + 4096 <= len; off += 512) {
        uint8_t *b = img + off;
        if (memcmp(b, "INDX", 4) != 0)
            continue;
        fixup(b, true);
        uint8_t *node = b + 0x18;
        uint32_t pos = vb_le32(node), used = vb_le32(node + 4), alloc = vb_le32(node + 8);
        while (pos + 16 <= used && !(vb_le16(node + pos + 0x0C) & 2) && vb_le16(node + pos + 8))
            pos += vb_le16(node + pos + 8);
        uint8_t *last = node + pos;
        if (pos + 16 <= used && vb_le16(last + 8) == 16 && used + 8 <= alloc && 0x18 + alloc <= 4096) {
            vb_put_le16(last + 8, 24);
            vb_put_le32(node + 4, used + 8);
        }
        if (pos + 24 <= vb_le32(node + 4) && vb_le16(last + 8) >= 24) {
            vb_put_le16(last + 0x0C, 3);
            uint64_t vcn = vb_le64(b + 0x10);
            for (int i = 0; i < 8; i++)
                last[vb_le16(last + 8) - 8 + i] = (uint8_t)(vcn >> (8 * i));
            damaged++;
        }
        fixup(b, false);
    }
    assert_true(damaged > 0);
    char bad[700];
    snprintf(bad, sizeof(bad), "%s/n512-loop.img", ntfs_dir);
    FILE *fp = fopen(bad, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(img, 1, len, fp), len);
    fclose(fp);
    free(img);
    mounted m;
    mount_image(&m, ntfs_dir, "n512-loop");
    listed l = { 0 };
    vb_diag diag = { 0 };
    vb_status st = vb_fs_list_dir(m.fs, "\\many", collect, &l, &diag);
    assert_int_equal(st, VB_ERR_FS_CORRUPT);
    assert_true(strstr(diag.text, "deeper than") || strstr(diag.text, "index blocks"));
    assert_true(l.count < 200000);
    listed_free(&l);
    unmount_image(&m);
}

/* Lists dir on a FAT image and compares with `mdir -b` (order, names,
 * directory marks); sizes against each file's lookup. */
static void compare_fat(const char *image, const char *dir, const char *unix_dir, size_t *count)
{
    mounted m;
    mount_image(&m, fat_dir, image);
    listed l = { 0 };
    vb_diag diag = { 0 };
    vb_status st = vb_fs_list_dir(m.fs, dir, collect, &l, &diag);
    if (st != VB_OK)
        fprintf(stderr, "# list %s: %s\n", dir, diag.text);
    assert_int_equal(st, VB_OK);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8 mdir -b -i '%s/%s.img' '::%s' 2>/dev/null", fat_dir, image,
             unix_dir);
    size_t n = 0;
    char **lines = command_lines(cmd, &n);
    assert_int_equal(n, l.count);
    size_t prefix = strlen("::") + strlen(unix_dir) + (strcmp(unix_dir, "/") ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(lines[i]) > prefix);
        const char *name = lines[i] + prefix;
        size_t len = strlen(name);
        bool is_dir = name[len - 1] == '/';
        if (strncmp(name, l.name[i], is_dir ? len - 1 : len) != 0 || strlen(l.name[i]) != (is_dir ? len - 1 : len))
            fail_msg("entry %zu: mdir says '%s', vb_fs_list_dir '%s'", i, name, l.name[i]);
        assert_int_equal(is_dir, l.is_dir[i]);
    }
    check_sizes_by_lookup(m.fs, dir, &l);
    *count = l.count;
    lines_free(lines, n);
    listed_free(&l);
    unmount_image(&m);
}

static void test_fat_listings(void **state)
{
    (void)state;
    size_t n = 0;
    compare_fat("f12", "\\", "/", &n);
    assert_int_equal(n, 2); /* SubDir, SHORT.TXT; the label is not listed */
    compare_fat("f12", "\\SubDir", "/SubDir", &n);
    assert_int_equal(n, 1); /* ".", ".." skipped */
    compare_fat("f16", "\\", "/", &n);
    assert_true(n > 20); /* small files with deleted ones in between */
    compare_fat("f16", "\\a\\b\\c", "/a/b/c", &n);
    assert_int_equal(n, 1);
    compare_fat("f32", "\\", "/", &n);
    assert_true(n > 100);
    compare_fat("f32", "\\vms", "/VMs", &n);
    assert_int_equal(n, 1);
}

static void test_fat_stop_and_refusals(void **state)
{
    (void)state;
    mounted m;
    mount_image(&m, fat_dir, "f32");
    listed l = { .stop_after = 5 };
    vb_diag diag = { 0 };
    assert_int_equal(vb_fs_list_dir(m.fs, "\\", collect, &l, &diag), VB_OK);
    assert_int_equal(l.count, 5);
    listed_free(&l);
    assert_int_equal(vb_fs_list_dir(m.fs, "\\VMs\\Fragmented Disk.vhd", collect, &l, &diag), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_fs_list_dir(m.fs, "\\none", collect, &l, &diag), VB_ERR_NOT_FOUND);
    assert_int_equal(l.count, 0);
    unmount_image(&m);
}

static int setup(void **state)
{
    (void)state;
    ntfs_rc = fs_build_images("ntfs", ntfs_dir, sizeof(ntfs_dir), &ntfs_why);
    fat_rc = fs_build_images("fat", fat_dir, sizeof(fat_dir), &fat_why);
    if (ntfs_rc || fat_rc) {
        fprintf(stderr, "# image build failed: %s %s\n", ntfs_why, fat_why);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs_remove_images(ntfs_dir);
    fs_remove_images(fat_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntfs_root_and_dos_names),
        cmocka_unit_test(test_ntfs_btree_directory),
        cmocka_unit_test(test_ntfs_stop_and_refusals),
        cmocka_unit_test(test_ntfs_index_loop),
        cmocka_unit_test(test_fat_listings),
        cmocka_unit_test(test_fat_stop_and_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
