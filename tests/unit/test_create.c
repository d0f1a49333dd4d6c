/* Unit tests: vb_vhd_create — fixed, dynamic and differencing layouts checked
 * byte by byte against the VHD specification, then reopened as layers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd.h"
#include "memsource.h"

#define MIB (1024u * 1024u)
static const uint8_t uuid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 1, 2, 3, 4, 5, 6, 7, 8 };

/* Independent checksum: ones' complement of the byte sum minus the field. */
static uint32_t checksum_of(const uint8_t *p, size_t len, size_t field)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < field || i >= field + 4)
            sum += p[i];
    return ~sum;
}

/* Checks the footer fields common to every created image. */
static void expect_footer(const uint8_t *f, uint64_t size, uint32_t type, uint64_t data_offset)
{
    assert_memory_equal(f, "conectix", 8);
    assert_int_equal(vb_be32(f + 8), 2);
    assert_int_equal(vb_be32(f + 12), 0x00010000);
    assert_int_equal(vb_be64(f + 16), data_offset);
    assert_int_equal(vb_be32(f + 24), 0x1F2E3D4C);
    assert_memory_equal(f + 28, "vhdb", 4);
    assert_int_equal(vb_be64(f + 40), size);
    assert_int_equal(vb_be64(f + 48), size);
    /* the spec's geometry when it covers the size exactly, else the maximum */
    vb_geometry g = vb_chs_for_sectors(size / 512);
    if ((uint64_t)g.cylinders * g.heads * g.sectors * 512 != size)
        g = (vb_geometry){ 65535, 16, 255 };
    assert_int_equal(vb_be16(f + 56), g.cylinders);
    assert_int_equal(f[58], g.heads);
    assert_int_equal(f[59], g.sectors);
    assert_int_equal(vb_footer_disk_size(f), size);
    assert_int_equal(vb_be32(f + 60), type);
    assert_int_equal(vb_be32(f + 64), checksum_of(f, 512, 64));
    assert_memory_equal(f + 68, uuid, 16);
    assert_int_equal(f[84], 0);
    for (int i = 85; i < 512; i++)
        assert_int_equal(f[i], 0);
}

static void test_create_fixed(void **state)
{
    (void)state;
    uint64_t size = 5 * MIB + 512;
    memsource *ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_FIXED, .size = size, .uuid = uuid, .timestamp = 0x1F2E3D4C };
    assert_int_equal(vb_vhd_create(&ms->src, &p, NULL), VB_OK);
    assert_int_equal(ms->size, size + 512);
    assert_int_equal(ms->writes, 1);
    expect_footer(ms->data + size, size, 2, ~0ull);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, "f.vhd", 0, &l, NULL), VB_OK);
    assert_int_equal(vb_layer_info(l)->disk_size, size);
    assert_int_equal(vb_layer_source(l)->size, size);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_create_dynamic(void **state)
{
    (void)state;
    uint64_t size = 100 * MIB + 4096; /* not a multiple of the block size */
    memsource *ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = size, .uuid = uuid, .timestamp = 0x1F2E3D4C };
    assert_int_equal(vb_vhd_create(&ms->src, &p, NULL), VB_OK);
    uint32_t entries = (uint32_t)((size + 2 * MIB - 1) / (2 * MIB)); /* default 2 MiB blocks */
    assert_int_equal(entries, 51);
    uint64_t bat_bytes = (entries * 4 + 511) / 512 * 512;
    assert_int_equal(ms->size, 512 + 1024 + bat_bytes + 512);
    const uint8_t *footer = ms->data + ms->size - 512;
    expect_footer(footer, size, 3, 512);
    assert_memory_equal(ms->data, footer, 512); /* copy at 0 */
    const uint8_t *h = ms->data + 512;
    assert_memory_equal(h, "cxsparse", 8);
    assert_int_equal(vb_be64(h + 8), ~0ull);
    assert_int_equal(vb_be64(h + 16), 1536);
    assert_int_equal(vb_be32(h + 24), 0x00010000);
    assert_int_equal(vb_be32(h + 28), entries);
    assert_int_equal(vb_be32(h + 32), 2 * MIB);
    assert_int_equal(vb_be32(h + 36), checksum_of(h, 1024, 36));
    for (int i = 40; i < 1024; i++)
        assert_int_equal(h[i], 0);
    for (uint64_t i = 0; i < bat_bytes; i++)
        assert_int_equal(ms->data[1536 + i], 0xFF);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, "d.vhd", 0, &l, NULL), VB_OK);
    assert_int_equal(vb_layer_info(l)->disk_size, size);
    assert_int_equal(vb_layer_info(l)->bat_entries, entries);
    assert_int_equal(vb_layer_locator_count(l), 0);
    vb_layer_close(l);
    memsource_free(ms);
}

/* Decodes locator i of a header into its fields. */
static void locator_at(const uint8_t *h, int i, char code[5], uint32_t *space, uint32_t *len, uint64_t *off)
{
    const uint8_t *e = h + 576 + 24 * i;
    memcpy(code, e, 4);
    code[4] = 0;
    *space = vb_be32(e + 4);
    *len = vb_be32(e + 8);
    assert_int_equal(vb_be32(e + 12), 0);
    *off = vb_be64(e + 16);
}

/* Whether len bytes at p are the UTF-16LE encoding of ASCII text s. */
static bool is_utf16le(const uint8_t *p, uint32_t len, const char *s)
{
    if (len != 2 * strlen(s))
        return false;
    for (uint32_t i = 0; i < len / 2; i++)
        if (p[2 * i] != (uint8_t)s[i] || p[2 * i + 1] != 0)
            return false;
    return true;
}

static void test_create_differencing(void **state)
{
    (void)state;
    uint64_t size = 8 * MIB;
    vb_vhd_info parent = { 0 };
    parent.disk_size = size;
    parent.timestamp = 0x01020304;
    for (int i = 0; i < 16; i++)
        parent.uuid[i] = (uint8_t)(0x90 + i);
    const char *abs_path = "C:\\vms\\lab\\base.vhd";
    const char *rel_path = ".\\base.vhd";
    memsource *ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_DIFF, .size = 0, .block_size = 512 * 1024, .uuid = uuid,
                           .timestamp = 0x1F2E3D4C, .parent = &parent, .parent_abs = abs_path, .parent_rel = rel_path };
    vb_diag d = { 0 };
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_OK);
    const uint8_t *footer = ms->data + ms->size - 512;
    expect_footer(footer, size, 4, 512);
    assert_memory_equal(ms->data, footer, 512);
    const uint8_t *h = ms->data + 512;
    assert_int_equal(vb_be32(h + 28), 16);
    assert_int_equal(vb_be32(h + 36), checksum_of(h, 1024, 36));
    assert_memory_equal(h + 40, parent.uuid, 16);
    assert_int_equal(vb_be32(h + 56), 0x01020304);
    /* parent name: UTF-16 big-endian, zero terminated */
    for (size_t i = 0; i < strlen(abs_path); i++) {
        assert_int_equal(h[64 + 2 * i], 0);
        assert_int_equal(h[64 + 2 * i + 1], (uint8_t)abs_path[i]);
    }
    assert_int_equal(vb_be16(h + 64 + 2 * strlen(abs_path)), 0);
    /* locators: W2ku then W2ru, after the BAT, UTF-16LE, space in bytes rounded to 512 */
    char code[5];
    uint32_t space, len;
    uint64_t off, expect_off = 1536 + 512;
    const char *want_code[2] = { "W2ku", "W2ru" };
    const char *want_path[2] = { abs_path, rel_path };
    for (int i = 0; i < 2; i++) {
        locator_at(h, i, code, &space, &len, &off);
        assert_string_equal(code, want_code[i]);
        assert_int_equal(len, 2 * strlen(want_path[i]));
        assert_int_equal(space, 512);
        assert_int_equal(off, expect_off);
        assert_true(is_utf16le(ms->data + off, len, want_path[i]));
        expect_off += space;
    }
    for (int i = 2; i < 8; i++) {
        locator_at(h, i, code, &space, &len, &off);
        assert_int_equal(code[0], 0);
    }
    assert_int_equal(ms->size, expect_off + 512);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, "c.vhd", 0, &l, &d), VB_OK);
    assert_string_equal(vb_layer_info(l)->parent_name, abs_path);
    assert_int_equal(vb_layer_locator_count(l), 2);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_create_refusals(void **state)
{
    (void)state;
    memsource *ms = memsource_new(NULL, 0);
    vb_diag d = { 0 };
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = MIB + 1, .uuid = uuid };
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_BAD_DISK_SIZE);
    p.size = 0;
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_BAD_DISK_SIZE);
    p.size = (2040ull << 30) + 512;
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_BAD_DISK_SIZE);
    p.size = MIB;
    p.block_size = 3 * MIB;
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_BAD_BLOCK_SIZE);
    p.type = VB_DISK_DIFF;
    p.block_size = 0;
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_INVALID_ARG);
    vb_vhd_info parent = { .disk_size = 2 * MIB };
    p.parent = &parent;
    p.parent_abs = "\\a.vhd";
    p.parent_rel = ".\\a.vhd";
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_PARENT_SIZE);
    assert_int_equal(ms->writes, 0); /* nothing written on refusal */
    /* a parent name longer than the 256-unit header field */
    char longname[400];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[0] = '\\';
    longname[sizeof(longname) - 1] = 0;
    p.size = 0;
    p.parent_abs = longname;
    assert_int_equal(vb_vhd_create(&ms->src, &p, &d), VB_ERR_BAD_PARENT_NAME);
    /* a read-only destination */
    memsource *ro = memsource_new_readonly(NULL, 0);
    p.type = VB_DISK_DYNAMIC;
    p.size = MIB;
    assert_int_equal(vb_vhd_create(&ro->src, &p, &d), VB_ERR_WRITE_PROTECTED);
    memsource_free(ro);
    memsource_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_fixed),
        cmocka_unit_test(test_create_dynamic),
        cmocka_unit_test(test_create_differencing),
        cmocka_unit_test(test_create_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
