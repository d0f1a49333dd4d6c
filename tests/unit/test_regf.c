/* Unit tests: registry hive writer and reader (format/regf_*.c).
 * Golden facts come from the documented format (base-block checksum rule,
 * lh hash rule, cell layout) and from a hive written by Windows itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/regf.h"
#include "format/regf_struct.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "tests/unit/bcd_store.h"

/* The lh hash as documented: h = 37 * h + upper(c), 32-bit wrap-around.
 * "ab": (0 * 37 + 'A') * 37 + 'B' = 65 * 37 + 66 = 2471. */
static void test_lh_hash_rule(void **state)
{
    (void)state;
    assert_int_equal(vb_regf_lh_hash(""), 0);
    assert_int_equal(vb_regf_lh_hash("ab"), 2471);
    assert_int_equal(vb_regf_lh_hash("AB"), 2471);
    /* wrap-around: 7 characters exceed 32 bits; computed in 64 bits here */
    uint64_t h = 0;
    for (const char *p = "OBJECTS"; *p; p++)
        h = (h * 37 + (unsigned char)*p) & 0xFFFFFFFFu;
    assert_int_equal(vb_regf_lh_hash("Objects"), (uint32_t)h);
}

/* Documented checksum rule: XOR of the first 127 dwords; 0 becomes 1 and
 * 0xFFFFFFFF becomes 0xFFFFFFFE. */
static void test_checksum_rule(void **state)
{
    (void)state;
    uint8_t b[508] = { 0 };
    assert_int_equal(vb_regf_checksum(b), 1);
    vb_put_le32(b + 4, 0xFFFFFFFF);
    assert_int_equal(vb_regf_checksum(b), 0xFFFFFFFE);
    vb_put_le32(b + 4, 0x12345678);
    vb_put_le32(b + 504, 0x0F0F0F0F);
    assert_int_equal(vb_regf_checksum(b), 0x12345678 ^ 0x0F0F0F0F);
}

/* Windows' own checksum agrees with ours, and the reader's view of its
 * subkey list (bcdedit writes "lf": a 4-character hint) matches the hints. */
static void test_windows_hive_checksum_and_hashes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = windows_bcd(&len);
    if (!data)
        skip();
    assert_int_equal(vb_regf_checksum(data), vb_le32(data + 508));
    vb_regf h;
    assert_int_equal(vb_regf_open(&h, data, len), VB_OK);
    uint32_t objects;
    assert_int_equal(vb_regf_find_key(&h, h.root, "Objects", &objects), VB_OK);
    /* walk Objects' own list: each stored hint/hash must match the name */
    const vb_regf_nk *nk = (const vb_regf_nk *)(h.bins + objects + 4);
    uint32_t list = vb_le32(nk->subkey_list);
    const uint8_t *l = h.bins + list + 4;
    assert_true(!memcmp(l, "lf", 2) || !memcmp(l, "lh", 2));
    uint16_t n = vb_le16(l + 2);
    assert_int_equal(n, 10);
    for (unsigned i = 0; i < n; i++) {
        char name[256];
        assert_int_equal(vb_regf_key_name(&h, vb_le32(l + 4 + 8 * i), name, sizeof(name)), VB_OK);
        if (l[1] == 'h')
            assert_int_equal(vb_le32(l + 8 + 8 * i), vb_regf_lh_hash(name));
        else
            assert_memory_equal(l + 8 + 8 * i, name, 4);
    }
    free(data);
}

/* The reader finds values in Windows' hive: {bootmgr} timeout is 1 (8 bytes). */
static void test_windows_hive_values(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = windows_bcd(&len);
    if (!data)
        skip();
    vb_regf h;
    uint32_t key, vk, type, n;
    uint8_t out[16];
    assert_int_equal(vb_regf_open(&h, data, len), VB_OK);
    assert_int_equal(vb_regf_find_path(&h, h.root,
        "Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\25000004", &key), VB_OK);
    assert_int_equal(vb_regf_find_value(&h, key, "element", &vk), VB_OK);
    assert_int_equal(vb_regf_value_info(&h, vk, NULL, 0, &type, &n), VB_OK);
    assert_int_equal(type, VB_REG_BINARY);
    assert_int_equal(n, 8);
    assert_int_equal(vb_regf_value_data(&h, vk, out, sizeof(out), &n), VB_OK);
    assert_int_equal(vb_le64(out), 1);
    assert_int_equal(vb_regf_find_path(&h, h.root, "Description", &key), VB_OK);
    assert_int_equal(vb_regf_find_value(&h, key, "KeyName", &vk), VB_OK);
    assert_int_equal(vb_regf_value_data(&h, vk, out, sizeof(out), &n), VB_ERR_INVALID_ARG); /* 24 bytes */
    free(data);
}

/* Walks every cell of every bin of a hive we wrote: bins are 4 KiB multiples
 * with correct offsets, and cells tile each bin exactly. */
static void check_layout(const uint8_t *file, size_t len)
{
    assert_memory_equal(file, "regf", 4);
    assert_int_equal(vb_le32(file + 20), 1);                 /* major */
    assert_int_equal(vb_le32(file + 28), 0);                 /* primary file */
    assert_int_equal(vb_le32(file + 32), 1);                 /* direct memory load */
    assert_int_equal(vb_le32(file + 40), len - 4096);        /* hive bins size */
    assert_int_equal(vb_le32(file + 4), vb_le32(file + 8));  /* sequence numbers match */
    assert_int_equal(vb_le32(file + 508), vb_regf_checksum(file));
    size_t off = 4096;
    while (off < len) {
        assert_memory_equal(file + off, "hbin", 4);
        assert_int_equal(vb_le32(file + off + 4), off - 4096);
        uint32_t size = vb_le32(file + off + 8);
        assert_true(size >= 4096 && size % 4096 == 0 && off + size <= len);
        size_t c = off + 32;
        while (c < off + size) {
            int32_t s = (int32_t)vb_le32(file + c);
            uint32_t abs = s < 0 ? (uint32_t)-s : (uint32_t)s;
            assert_true(abs >= 8 && abs % 8 == 0);
            c += abs;
        }
        assert_int_equal(c, off + size);
        off += size;
    }
    assert_int_equal(off, len);
}

/* Builds a tree, writes it, reads every key and value back. Data sizes
 * cover inline (0..4), one cell, and db segments (> 16344 bytes). */
static void test_round_trip(void **state)
{
    (void)state;
    vb_regf_builder *b = vb_regf_builder_new("ROOT");
    assert_non_null(b);
    vb_regf_wkey *root = vb_regf_builder_root(b);
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    static const uint32_t sizes[] = { 0, 1, 4, 5, 100, 16344, 16345, 40000 };
    vb_regf_wkey *vals = vb_regf_key(b, root, "Values");
    for (unsigned i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof(name), "v%u", sizes[i]);
        assert_int_equal(vb_regf_set(b, vals, name, VB_REG_BINARY, big, sizes[i]), VB_OK);
    }
    /* many keys, added out of order: the list must come out sorted */
    for (int i = 199; i >= 0; i--) {
        char name[16];
        snprintf(name, sizeof(name), "k%03d", i);
        vb_regf_wkey *k = vb_regf_key(b, root, name);
        assert_non_null(k);
        uint8_t d[4];
        vb_put_le32(d, (uint32_t)i);
        assert_int_equal(vb_regf_set(b, k, "n", VB_REG_DWORD, d, 4), VB_OK);
    }
    assert_ptr_equal(vb_regf_key(b, root, "VALUES"), vals);   /* case-insensitive */
    assert_null(vb_regf_key(b, root, "a\\b"));
    assert_null(vb_regf_key(b, root, ""));
    uint8_t *file;
    size_t len;
    assert_int_equal(vb_regf_serialize(b, 0x01D9000000000000ull, &file, &len), VB_OK);
    vb_regf_builder_free(b);
    check_layout(file, len);
    assert_int_equal(vb_le32(file + 24), 5);                 /* db used: minor 5 */

    vb_regf h;
    assert_int_equal(vb_regf_open(&h, file, len), VB_OK);
    uint32_t nsub, nval, key, vk, type, n;
    assert_int_equal(vb_regf_key_counts(&h, h.root, &nsub, &nval), VB_OK);
    assert_int_equal(nsub, 201);
    assert_int_equal(nval, 0);
    char name[64], prev[64] = "";
    for (uint32_t i = 0; i < nsub; i++) {
        assert_int_equal(vb_regf_subkey(&h, h.root, i, &key), VB_OK);
        assert_int_equal(vb_regf_key_name(&h, key, name, sizeof(name)), VB_OK);
        assert_true(strcasecmp(prev, name) < 0);
        strcpy(prev, name);
    }
    assert_int_equal(vb_regf_find_key(&h, h.root, "K123", &key), VB_OK);
    uint8_t out[40000];
    assert_int_equal(vb_regf_find_value(&h, key, "N", &vk), VB_OK);
    assert_int_equal(vb_regf_value_data(&h, vk, out, sizeof(out), &n), VB_OK);
    assert_int_equal(n, 4);
    assert_int_equal(vb_le32(out), 123);
    assert_int_equal(vb_regf_find_key(&h, h.root, "values", &key), VB_OK);
    for (unsigned i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "v%u", sizes[i]);
        assert_int_equal(vb_regf_find_value(&h, key, name, &vk), VB_OK);
        assert_int_equal(vb_regf_value_info(&h, vk, NULL, 0, &type, &n), VB_OK);
        assert_int_equal(type, VB_REG_BINARY);
        assert_int_equal(n, sizes[i]);
        memset(out, 0xAA, sizeof(out));
        assert_int_equal(vb_regf_value_data(&h, vk, out, sizeof(out), &n), VB_OK);
        assert_int_equal(n, sizes[i]);
        assert_memory_equal(out, big, n);
    }
    assert_int_equal(vb_regf_find_value(&h, key, "missing", &vk), VB_ERR_NOT_FOUND);
    vb_free(file);
}

/* A small hive stays at version 1.3 in one 4 KiB bin, root named as asked. */
static void test_small_hive(void **state)
{
    (void)state;
    vb_regf_builder *b = vb_regf_builder_new("NewStoreRoot");
    vb_regf_wkey *k = vb_regf_key(b, vb_regf_builder_root(b), "Description");
    assert_int_equal(vb_regf_set(b, k, "KeyName", VB_REG_SZ, "B\0C\0D\0\0", 8), VB_OK);
    assert_int_equal(vb_regf_set(b, k, "KeyName", VB_REG_SZ, "X\0\0", 4), VB_OK); /* replaces */
    uint8_t *file;
    size_t len;
    assert_int_equal(vb_regf_serialize(b, 0, &file, &len), VB_OK);
    vb_regf_builder_free(b);
    assert_int_equal(len, 8192);
    check_layout(file, len);
    assert_int_equal(vb_le32(file + 24), 3);
    vb_regf h;
    char name[32];
    uint32_t key, nval, vk, n;
    uint8_t out[8];
    assert_int_equal(vb_regf_open(&h, file, len), VB_OK);
    assert_int_equal(vb_regf_key_name(&h, h.root, name, sizeof(name)), VB_OK);
    assert_string_equal(name, "NewStoreRoot");
    assert_int_equal(vb_regf_find_key(&h, h.root, "description", &key), VB_OK);
    assert_int_equal(vb_regf_key_counts(&h, key, NULL, &nval), VB_OK);
    assert_int_equal(nval, 1);
    assert_int_equal(vb_regf_value(&h, key, 0, &vk), VB_OK);
    assert_int_equal(vb_regf_value_data(&h, vk, out, sizeof(out), &n), VB_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "X\0\0", 4);
    vb_free(file);
}

/* Opens and walks a whole hive as --show does; returns the first failure. */
static vb_status walk(const uint8_t *data, size_t len)
{
    vb_regf h;
    vb_status st = vb_regf_open(&h, data, len);
    if (st != VB_OK)
        return st;
    uint32_t stack[16] = { h.root }, depth = 1;
    unsigned visited = 0;
    while (depth && visited < 5000) {
        uint32_t key = stack[--depth], ns, nv, child, vk, type, n;
        char name[800];
        static uint8_t buf[65536];
        visited++;
        if ((st = vb_regf_key_name(&h, key, name, sizeof(name))) != VB_OK ||
            (st = vb_regf_key_counts(&h, key, &ns, &nv)) != VB_OK)
            return st;
        for (uint32_t i = 0; i < nv; i++)
            if ((st = vb_regf_value(&h, key, i, &vk)) != VB_OK ||
                (st = vb_regf_value_info(&h, vk, name, sizeof(name), &type, &n)) != VB_OK ||
                (st = vb_regf_value_data(&h, vk, buf, sizeof(buf), &n)) != VB_OK)
                return st;
        for (uint32_t i = 0; i < ns && depth < 16; i++) {
            if ((st = vb_regf_subkey(&h, key, i, &child)) != VB_OK)
                return st;
            stack[depth++] = child;
        }
    }
    return VB_OK;
}

/* Hostile hives: each damage is refused with VB_ERR_HIVE_CORRUPT, never a crash. */
static void test_hostile(void **state)
{
    (void)state;
    vb_regf_builder *b = vb_regf_builder_new("R");
    vb_regf_wkey *k = vb_regf_key(b, vb_regf_builder_root(b), "A");
    assert_int_equal(vb_regf_set(b, k, "v", VB_REG_BINARY, "0123456789", 10), VB_OK);
    uint8_t *good;
    size_t len;
    assert_int_equal(vb_regf_serialize(b, 0, &good, &len), VB_OK);
    vb_regf_builder_free(b);
    assert_int_equal(walk(good, len), VB_OK);
    uint8_t *bad = malloc(len);

    memcpy(bad, good, len);
    bad[100] ^= 1;                                   /* checksum no longer matches */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    assert_int_equal(walk(good, 4096), VB_ERR_HIVE_CORRUPT);   /* truncated */
    assert_int_equal(walk(good, len - 4096), VB_ERR_HIVE_CORRUPT); /* bins size > file */

    memcpy(bad, good, len);
    vb_put_le32(bad + 36, 0x7FFFFFF8);               /* root beyond the bins */
    vb_put_le32(bad + 508, vb_regf_checksum(bad));
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);

    /* find the "A" key's value list and the vk: damage counts and offsets */
    vb_regf h;
    uint32_t key, vk;
    assert_int_equal(vb_regf_open(&h, good, len), VB_OK);
    assert_int_equal(vb_regf_find_key(&h, h.root, "A", &key), VB_OK);
    assert_int_equal(vb_regf_value(&h, key, 0, &vk), VB_OK);
    size_t nk_at = 4096 + key + 4, vk_at = 4096 + vk + 4;

    memcpy(bad, good, len);
    vb_put_le32(bad + nk_at + 36, 0x10000000);       /* value count far past its list */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    memcpy(bad, good, len);
    vb_put_le32(bad + vk_at + 8, (uint32_t)len);     /* data offset beyond the bins */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    memcpy(bad, good, len);
    vb_put_le32(bad + vk_at + 4, 0x80000009);        /* "inline" data of 9 bytes */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    memcpy(bad, good, len);
    vb_put_le32(bad + vk_at + 4, 5000);              /* data longer than its cell */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    memcpy(bad, good, len);
    vb_put_le16(bad + nk_at + 72, 1000);             /* name longer than the nk cell */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);
    memcpy(bad, good, len);
    vb_put_le32(bad + 4096 + key, 0x7FFFFFF0);       /* cell size past the end */
    assert_int_equal(walk(bad, len), VB_ERR_HIVE_CORRUPT);

    /* random damage anywhere in the bins: any status, no crash (ASan build) */
    srand(13);
    for (int round = 0; round < 3000; round++) {
        memcpy(bad, good, len);
        for (int i = 0; i < 4; i++)
            bad[4096 + (size_t)rand() % (len - 4096)] = (uint8_t)rand();
        (void)walk(bad, len);
    }
    free(bad);
    vb_free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_rule),
        cmocka_unit_test(test_lh_hash_rule),
        cmocka_unit_test(test_windows_hive_checksum_and_hashes),
        cmocka_unit_test(test_windows_hive_values),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_small_hive),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests_name("regf", tests, NULL, NULL);
}
