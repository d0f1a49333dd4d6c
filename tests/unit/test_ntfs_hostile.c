/* vhdboot tests: the NTFS reader against damaged copies of a real volume —
 * torn fixups, runlists past the volume, attribute-list loops, index entries
 * out of bounds, bad boot sectors, random damage. Each must give a clear
 * error and never crash (the ASan+UBSan build runs these too). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "fs/volume.h"
#include "format/bytes.h"
#include "tests/tools/fs_test_util.h"

/* Stores a little-endian 64-bit value (format/bytes.h has no 64-bit LE store). */
static void put_le64(uint8_t *p, uint64_t v)
{
    vb_put_le32(p, (uint32_t)v);
    vb_put_le32(p + 4, (uint32_t)(v >> 32));
}

static fs_images images = { .rc = -1 };
static uint8_t *pristine, *img;
static size_t img_size;
static uint64_t cluster, mft_off, rec_size;

static int build_images(void **state)
{
    (void)state;
    fs_images_build(&images, "ntfs-hostile");
    if (images.rc != 0)
        return 0;
    char path[512];
    snprintf(path, sizeof(path), "%s/nhost.img", images.dir);
    pristine = fs_load_file(path, &img_size);
    img = malloc(img_size);
    if (!pristine || !img)
        images.rc = 1;
    else {
        cluster = (uint64_t)vb_le16(pristine + 0x0B) * pristine[0x0D];
        mft_off = vb_le64(pristine + 0x30) * cluster;
        int8_t v = (int8_t)pristine[0x40];
        rec_size = v < 0 ? 1ull << -v : (uint64_t)v * cluster;
    }
    return 0;
}

static int remove_images(void **state)
{
    (void)state;
    free(pristine);
    free(img);
    fs_images_remove(&images);
    return 0;
}

/* Fails without images; otherwise restores the pristine image. */
static void fresh_image(void)
{
    assert_true(fs_images_ready(&images));
    memcpy(img, pristine, img_size);
}

struct view {
    vb_source src;
    const uint8_t *data;
};

static vb_status view_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct view *v = ctx;
    memcpy(buf, v->data + offset, len);
    return VB_OK;
}

/* Mounts the (damaged) image and looks path up, reading the first 64 KiB of
 * the file when found. Returns the first failing status. */
static vb_status try_lookup(const char *path, vb_diag *diag)
{
    struct view v = { .data = img };
    v.src = (vb_source){ .size = img_size, .ctx = &v, .read = view_read };
    vb_fs *fs = NULL;
    vb_status st = vb_fs_probe(&v.src, &fs, diag);
    if (st != VB_OK)
        return st;
    vb_source file;
    st = vb_fs_open_file(fs, path, &file, diag);
    if (st == VB_OK) {
        static uint8_t buf[65536];
        size_t n = file.size < sizeof(buf) ? (size_t)file.size : sizeof(buf);
        st = vb_source_read(&file, 0, buf, n);
        vb_source_close(&file);
    }
    vb_fs_close(fs);
    return st;
}

/* Asserts that looking path up fails with status and a message holding needle. */
static void expect(const char *path, vb_status status, const char *needle)
{
    vb_diag diag = { 0 };
    vb_status st = try_lookup(path, &diag);
    if (st != status || !strstr(diag.text, needle))
        fprintf(stderr, "# %s: got %d '%s', wanted %d '%s'\n", path, st, diag.text, status, needle);
    assert_int_equal(st, status);
    assert_non_null(strstr(diag.text, needle));
}

/* Returns the raw (not fixed-up) record whose $FILE_NAME is the ASCII name. */
static uint8_t *record_named(const char *name)
{
    size_t n = strlen(name);
    for (uint64_t i = 0; i < 512; i++) {
        uint8_t *rec = img + mft_off + i * rec_size;
        if (memcmp(rec, "FILE", 4) != 0)
            continue;
        for (uint32_t off = vb_le16(rec + 0x14); off + 8 <= rec_size && vb_le32(rec + off) != 0xFFFFFFFF;) {
            uint32_t len = vb_le32(rec + off + 4);
            if (len == 0 || off + len > rec_size)
                break;
            if (vb_le32(rec + off) == 0x30 && rec[off + 8] == 0) {
                const uint8_t *fn = rec + off + vb_le16(rec + off + 0x14);
                bool same = fn[0x40] == n;
                for (size_t k = 0; same && k < n; k++)
                    same = vb_le16(fn + 0x42 + 2 * k) == (uint8_t)name[k];
                if (same)
                    return rec;
            }
            off += len;
        }
    }
    fail_msg("no MFT record named %s", name);
    return NULL;
}

/* Returns the first attribute of the given type in a raw record. */
static uint8_t *attr_of(uint8_t *rec, uint32_t type)
{
    for (uint32_t off = vb_le16(rec + 0x14); off + 8 <= rec_size && vb_le32(rec + off) != 0xFFFFFFFF;) {
        if (vb_le32(rec + off) == type)
            return rec + off;
        off += vb_le32(rec + off + 4);
    }
    fail_msg("no attribute 0x%x", type);
    return NULL;
}

/* Byte offset in the image of the first run of a non-resident attribute. */
static uint64_t first_run_offset(const uint8_t *attr)
{
    const uint8_t *p = attr + vb_le16(attr + 0x20);
    unsigned lsz = p[0] & 15, osz = p[0] >> 4;
    uint64_t lcn = 0;
    for (unsigned k = 0; k < osz; k++)
        lcn |= (uint64_t)p[1 + lsz + k] << (8 * k);
    return lcn * cluster;
}

static uint64_t record_number(const uint8_t *rec)
{
    return (uint64_t)(rec - (img + mft_off)) / rec_size;
}

static void test_pristine_volume_reads(void **state)
{
    (void)state;
    fresh_image();
    vb_diag diag = { 0 };
    assert_int_equal(try_lookup("\\a.vhd", &diag), VB_OK);
    assert_int_equal(try_lookup("\\frag.vhd", &diag), VB_OK);
    assert_int_equal(try_lookup("\\d\\entry-42.txt", &diag), VB_ERR_FS_UNSUPPORTED); /* resident */
}

static void test_torn_fixups(void **state)
{
    (void)state;
    fresh_image();
    record_named("a.vhd")[510] ^= 0x55;
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "fixup mismatch");
    fresh_image();
    img[mft_off + 1022] ^= 0x01; /* $MFT's own record */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "fixup mismatch");
    fresh_image();
    vb_put_le16(record_named("a.vhd") + 6, 9); /* update sequence count wrong */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "update sequence array");
}

static void test_runlists_out_of_bounds(void **state)
{
    (void)state;
    fresh_image();
    uint8_t *data = attr_of(record_named("a.vhd"), 0x80);
    uint8_t *pairs = data + vb_le16(data + 0x20);
    unsigned lsz = pairs[0] & 15, osz = pairs[0] >> 4;
    memset(pairs + 1 + lsz, 0xFF, osz);
    pairs[lsz + osz] = 0x7F; /* largest positive LCN delta */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "past the end of the volume");
    fresh_image();
    data = attr_of(record_named("a.vhd"), 0x80);
    pairs = data + vb_le16(data + 0x20);
    pairs[lsz + osz] |= 0x80; /* negative LCN */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "leaves the volume");
    fresh_image();
    data = attr_of(record_named("a.vhd"), 0x80);
    put_le64(data + 0x18, vb_le64(data + 0x18) - 1); /* runs exceed the highest VCN */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "beyond its highest VCN");
    fresh_image();
    data = attr_of(record_named("a.vhd"), 0x80);
    put_le64(data + 0x28, vb_le64(data + 0x28) + cluster); /* allocated size disagrees */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "disagree");
    fresh_image();
    data = attr_of(record_named("a.vhd"), 0x80);
    pairs = data + vb_le16(data + 0x20);
    pairs[0] = 0x0F; /* length field of 15 bytes */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "malformed runlist");
}

static void test_flags_refused(void **state)
{
    (void)state;
    fresh_image();
    uint8_t *data = attr_of(record_named("a.vhd"), 0x80);
    vb_put_le16(data + 0x0C, 0x4000);
    expect("\\a.vhd", VB_ERR_FS_UNSUPPORTED, "encrypted");
    fresh_image();
    vb_put_le16(attr_of(record_named("a.vhd"), 0x80) + 0x0C, 0x8000);
    expect("\\a.vhd", VB_ERR_FS_UNSUPPORTED, "sparse");
    fresh_image();
    uint8_t *rec = record_named("a.vhd");
    vb_put_le16(rec + 0x10, (uint16_t)(vb_le16(rec + 0x10) + 1)); /* directory entry now stale */
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "stale");
}

/* Returns the attribute list bytes of /frag.vhd (resident or not) and its size. */
static uint8_t *frag_attr_list(size_t *len, uint64_t *base)
{
    uint8_t *rec = record_named("frag.vhd");
    *base = record_number(rec);
    uint8_t *list = attr_of(rec, 0x20);
    if (list[8] == 0) {
        *len = vb_le32(list + 0x10);
        return list + vb_le16(list + 0x14);
    }
    *len = vb_le64(list + 0x30);
    return img + first_run_offset(list);
}

/* Returns the n-th (0-based) $DATA entry of an attribute list. */
static uint8_t *data_entry(uint8_t *list, size_t len, int n)
{
    for (size_t pos = 0; pos + 0x1A <= len && vb_le16(list + pos + 4);) {
        if (vb_le32(list + pos) == 0x80 && n-- == 0)
            return list + pos;
        pos += vb_le16(list + pos + 4);
    }
    fail_msg("no $DATA entry %d", n);
    return NULL;
}

static void test_attribute_list_attacks(void **state)
{
    (void)state;
    size_t len;
    uint64_t base;
    fresh_image();
    uint8_t *list = frag_attr_list(&len, &base);
    put_le64(data_entry(list, len, 1) + 8, 0); /* second extent claims VCN 0 again */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "no matching attribute");
    fresh_image();
    list = frag_attr_list(&len, &base);
    uint8_t *e = data_entry(list, len, 2);
    memcpy(e + 8, data_entry(list, len, 1) + 8, 16); /* two entries for the same extent */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "gap, overlap or loop");
    fresh_image();
    list = frag_attr_list(&len, &base);
    e = data_entry(list, len, 1);
    put_le64(e + 0x10, base | (vb_le64(e + 0x10) & 0xFFFF000000000000ull)); /* points back at the base record */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "no matching attribute");
    fresh_image();
    list = frag_attr_list(&len, &base);
    put_le64(data_entry(list, len, 1) + 0x10, 5); /* the root directory is nobody's extension */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "not one of its extension records");
    fresh_image();
    list = frag_attr_list(&len, &base);
    vb_put_le16(data_entry(list, len, 1) + 4, 0xFFF0); /* entry length past the list */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "out of bounds");
    fresh_image();
    list = frag_attr_list(&len, &base);
    put_le64(data_entry(list, len, 1) + 0x10, 0xFFFFFFFFFFFFull); /* record far past $MFT */
    expect("\\frag.vhd", VB_ERR_FS_CORRUPT, "past the end of $MFT");
}

/* Kinds of damage done to every INDX block of /d. */
enum indx_damage { ENTRY_LENGTH, KEY_LENGTH, BYTES_IN_USE, BLOCK_VCN, TORN_FIXUP, SELF_LOOP };

/* Gives the last entry of an index block a subnode pointer to the block
 * itself (a cycle in the B-tree). */
static void loop_block_to_itself(uint8_t *block)
{
    uint8_t *node = block + 0x18;
    uint32_t pos = vb_le32(node);
    while (!(vb_le16(node + pos + 0x0C) & 2))
        pos += vb_le16(node + pos + 8);
    uint8_t *last = node + pos;
    uint32_t at = (uint32_t)(last + 16 - block) % 512;
    assert_true(at <= 512 - 8 - 2); /* the pointer must not cover a fixup slot */
    if (vb_le16(last + 8) == 16) { /* make room for the pointer */
        vb_put_le16(last + 8, 24);
        vb_put_le32(node + 4, vb_le32(node + 4) + 8);
    }
    assert_int_equal(vb_le16(last + 8), 24);
    vb_put_le16(last + 0x0C, 3);
    put_le64(last + 16, vb_le64(block + 0x10));
}

/* Damages every index block in the first run of /d's $INDEX_ALLOCATION. */
static void damage_dir_blocks(enum indx_damage how)
{
    uint8_t *alloc = attr_of(record_named("d"), 0xA0);
    const uint8_t *p = alloc + vb_le16(alloc + 0x20);
    uint64_t run_bytes = 0;
    for (unsigned k = 0; k < (p[0] & 15u); k++)
        run_bytes |= (uint64_t)p[1 + k] << (8 * k);
    run_bytes *= cluster;
    uint8_t *first = img + first_run_offset(alloc);
    unsigned damaged = 0;
    for (uint64_t off = 0; off + 4096 <= run_bytes; off += 4096) {
        uint8_t *block = first + off;
        if (memcmp(block, "INDX", 4) != 0)
            continue;
        uint8_t *entry = block + 0x18 + vb_le32(block + 0x18);
        switch (how) {
        case ENTRY_LENGTH: vb_put_le16(entry + 8, 0xFFF8); break;
        case KEY_LENGTH: vb_put_le16(entry + 0x0A, 0x7FF0); break;
        case BYTES_IN_USE: vb_put_le32(block + 0x18 + 4, 0x10000); break;
        case BLOCK_VCN: put_le64(block + 0x10, 7777); break;
        case TORN_FIXUP: block[1022] ^= 0xFF; break;
        case SELF_LOOP: loop_block_to_itself(block); break;
        }
        damaged++;
    }
    assert_true(damaged > 0);
}

static void test_index_entries_out_of_bounds(void **state)
{
    (void)state;
    static const struct { enum indx_damage how; const char *needle; } cases[] = {
        { ENTRY_LENGTH, "invalid length" },
        { KEY_LENGTH, "out-of-bounds key" },
        { BYTES_IN_USE, "node header out of bounds" },
        { BLOCK_VCN, "block says it is VCN" },
        { TORN_FIXUP, "fixup mismatch" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fresh_image();
        damage_dir_blocks(cases[i].how);
        expect("\\d\\entry-42.txt", VB_ERR_FS_CORRUPT, cases[i].needle);
    }
    fresh_image();
    damage_dir_blocks(SELF_LOOP); /* names past the last entry descend forever */
    expect("\\d\\zzz.txt", VB_ERR_FS_CORRUPT, "deeper than 32 levels");
    fresh_image();
    uint8_t *root = attr_of(img + mft_off + 5 * rec_size, 0x90);
    uint8_t *node = root + vb_le16(root + 0x14) + 0x10;
    vb_put_le16(node + vb_le32(node) + 8, 0x7FF8); /* first root entry too long */
    expect("\\d\\entry-42.txt", VB_ERR_FS_CORRUPT, "invalid length");
}

static void test_bad_boot_sector(void **state)
{
    (void)state;
    fresh_image();
    img[0x0D] = 0x90;
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "sectors per cluster");
    fresh_image();
    img[0x40] = 0;
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "MFT record");
    fresh_image();
    put_le64(img + 0x28, 1ull << 40);
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "device holds only");
    fresh_image();
    put_le64(img + 0x30, 1ull << 50);
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "past the end of the volume");
    fresh_image();
    vb_put_le16(img + 0x0B, 300);
    expect("\\a.vhd", VB_ERR_FS_CORRUPT, "bytes per sector");
}

/* Random damage in the MFT and index blocks: any status, never a crash. */
static void test_random_damage(void **state)
{
    (void)state;
    fresh_image();
    uint64_t dir_block = first_run_offset(attr_of(record_named("d"), 0xA0));
    unsigned seed = 4242, ok = 0, refused = 0;
    static const char *const paths[] = { "\\a.vhd", "\\frag.vhd", "\\d\\entry-42.txt", "\\d\\nope" };
    for (int round = 0; round < 400; round++) {
        uint64_t hit[8];
        for (int k = 0; k < 8; k++) {
            uint64_t r = (uint64_t)rand_r(&seed);
            hit[k] = k < 6 ? mft_off + r % (80 * rec_size) : dir_block + r % 4096;
            img[hit[k]] ^= (uint8_t)(1 + rand_r(&seed) % 255);
        }
        vb_diag diag = { 0 };
        vb_status st = try_lookup(paths[round % 4], &diag);
        assert_true(st < VB_STATUS_COUNT);
        if (st == VB_OK)
            ok++;
        else
            refused++;
        for (int k = 0; k < 8; k++)
            img[hit[k]] = pristine[hit[k]];
    }
    assert_int_equal(ok + refused, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pristine_volume_reads),
        cmocka_unit_test(test_torn_fixups),
        cmocka_unit_test(test_runlists_out_of_bounds),
        cmocka_unit_test(test_flags_refused),
        cmocka_unit_test(test_attribute_list_attacks),
        cmocka_unit_test(test_index_entries_out_of_bounds),
        cmocka_unit_test(test_bad_boot_sector),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, build_images, remove_images);
}
