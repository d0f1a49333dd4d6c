/* Unit tests: hostile VHD files. Each check of ../shared/docs/vhd-format.md "Validation
 * against hostile files" has a crafted image expecting its specific status,
 * with the file name in the message. Images start from vb_vhd_create
 * output (4 MiB dynamic/differencing, 1 MiB blocks) and are then damaged,
 * with checksums recomputed so that only the intended check can fire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd.h"
#include "format/vhd_layer_internal.h" /* check on a BAT damaged after open */
#include "memsource.h"

#define MIB (1024u * 1024u)
#define NAME "\\evil\\x.vhd"
#define HDR 512u             /* header offset of created images */
#define BAT 1536u            /* BAT offset of created images */

static const uint8_t uuid[16] = { 0xE1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static memsource *new_image(enum vb_disk_type type)
{
    memsource *ms = memsource_new(NULL, 0);
    vb_vhd_info parent = { 0 };
    parent.disk_size = 4 * MIB;
    parent.uuid[0] = 0x77;
    vb_create_params p = { 0 };
    p.type = type;
    p.size = 4 * MIB;
    p.block_size = MIB;
    p.uuid = uuid;
    p.parent = &parent;
    p.parent_abs = "\\vms\\base.vhd";
    p.parent_rel = ".\\base.vhd";
    vb_diag d = { 0 };
    if (vb_vhd_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    return ms;
}

/* Recomputes the trailing footer's checksum and copies it to offset 0 (sparse images). */
static void reseal_footer(memsource *ms, bool copy)
{
    uint8_t *f = ms->data + ms->size - 512;
    vb_put_be32(f + 64, vb_vhd_checksum(f, 512, 64));
    if (copy)
        memcpy(ms->data, f, 512);
}

/* Recomputes the dynamic header's checksum. */
static void reseal_header(memsource *ms)
{
    uint8_t *h = ms->data + HDR;
    vb_put_be32(h + 36, vb_vhd_checksum(h, 1024, 36));
}

/* Opens and expects `want`; the message must name the file and contain `word`. */
static void expect_open(memsource *ms, vb_status want, const char *word)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    vb_status st = vb_layer_open(&ms->src, NAME, 0, &l, &d);
    if (st != want)
        fail_msg("expected %s, got %s (%s)", vb_status_message(want), vb_status_message(st), d.text);
    if (st == VB_OK) {
        vb_layer_close(l);
        return;
    }
    assert_null(l);
    assert_int_equal(d.status, want);
    if (!strstr(d.text, NAME))
        fail_msg("message does not name the file: %s", d.text);
    if (word && !strstr(d.text, word))
        fail_msg("message lacks '%s': %s", word, d.text);
}

/* Sets a big-endian BAT entry. */
static void set_bat(memsource *ms, uint32_t block, uint32_t value)
{
    vb_put_be32(ms->data + BAT + block * 4, value);
}

static void test_too_small_and_no_cookie(void **state)
{
    (void)state;
    memsource *ms = memsource_new(NULL, 100);
    expect_open(ms, VB_ERR_TRUNCATED, "small");
    memsource_free(ms);
    ms = memsource_new(NULL, 4096);
    expect_open(ms, VB_ERR_BAD_COOKIE, "conectix");
    memsource_free(ms);
}

static void test_footer_checksum(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    ms->data[ms->size - 512 + 24] ^= 4; /* timestamp */
    expect_open(ms, VB_ERR_FOOTER_CHECKSUM, "checksum");
    memsource_free(ms);
}

static void test_disk_size_limits(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be64(ms->data + ms->size - 512 + 48, (2040ull << 30) + 512);
    reseal_footer(ms, true);
    expect_open(ms, VB_ERR_BAD_DISK_SIZE, "2040");
    vb_put_be64(ms->data + ms->size - 512 + 48, 4 * MIB + 100);
    reseal_footer(ms, true);
    expect_open(ms, VB_ERR_BAD_DISK_SIZE, "size");
    memsource_free(ms);

    /* fixed disk claiming more data than the file holds */
    ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_FIXED, .size = MIB, .uuid = uuid };
    assert_int_equal(vb_vhd_create(&ms->src, &p, NULL), VB_OK);
    vb_put_be64(ms->data + ms->size - 512 + 48, 2 * MIB);
    reseal_footer(ms, false);
    expect_open(ms, VB_ERR_TRUNCATED, "fixed");
    memsource_free(ms);
}

static void test_version_and_type(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be32(ms->data + ms->size - 512 + 12, 0x00020000);
    reseal_footer(ms, true);
    expect_open(ms, VB_ERR_BAD_VERSION, "version");
    vb_put_be32(ms->data + ms->size - 512 + 12, 0x00010000);
    vb_put_be32(ms->data + ms->size - 512 + 60, 6);
    reseal_footer(ms, true);
    expect_open(ms, VB_ERR_BAD_DISK_TYPE, "type");
    memsource_free(ms);
    ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be32(ms->data + HDR + 24, 0x00030000);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_VERSION, "header version");
    memsource_free(ms);
}

static void test_header_offset(void **state)
{
    (void)state;
    uint64_t bad[] = { 0, 100, 4 * MIB, UINT64_MAX - 100 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memsource *ms = new_image(VB_DISK_DYNAMIC);
        vb_put_be64(ms->data + ms->size - 512 + 16, bad[i]);
        reseal_footer(ms, true);
        expect_open(ms, VB_ERR_BAD_DATA_OFFSET, "header offset");
        memsource_free(ms);
    }
    /* header ending one byte past the footer */
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be64(ms->data + ms->size - 512 + 16, ms->size - 512 - 1023);
    reseal_footer(ms, true);
    expect_open(ms, VB_ERR_BAD_DATA_OFFSET, "header offset");
    memsource_free(ms);
}

static void test_header_cookie_and_checksum(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    memcpy(ms->data + HDR, "cxsparsf", 8);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_HEADER_COOKIE, "cxsparse");
    memsource_free(ms);
    ms = new_image(VB_DISK_DYNAMIC);
    ms->data[HDR + 100] ^= 1; /* parent name area */
    expect_open(ms, VB_ERR_HEADER_CHECKSUM, "checksum");
    memsource_free(ms);
}

static void test_block_size(void **state)
{
    (void)state;
    uint32_t bad[] = { 0, 512, 2048, 3 * MIB, 512 * MIB, MIB + 512 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memsource *ms = new_image(VB_DISK_DYNAMIC);
        vb_put_be32(ms->data + HDR + 32, bad[i]);
        vb_put_be32(ms->data + HDR + 28, 0x10000); /* enough entries for any of them */
        reseal_header(ms);
        expect_open(ms, VB_ERR_BAD_BLOCK_SIZE, "block size");
        memsource_free(ms);
    }
}

static void test_table_entries(void **state)
{
    (void)state;
    /* fewer entries than the disk needs (4) */
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be32(ms->data + HDR + 28, 3);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_TABLE, "needs 4");
    /* a huge count: the table would lie outside the file (nothing allocated for it) */
    vb_put_be32(ms->data + HDR + 28, 0xFFFFFFFF);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_TABLE, "block table");
    memsource_free(ms);
    /* a maximal disk of 4 KiB blocks would need a 2 GiB table: refused before any allocation */
    ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be64(ms->data + ms->size - 512 + 48, 2040ull << 30);
    reseal_footer(ms, true);
    vb_put_be32(ms->data + HDR + 32, 4096);
    vb_put_be32(ms->data + HDR + 28, 0xFFFFFFFF);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_TABLE, "supported");
    memsource_free(ms);
}

static void test_table_offset(void **state)
{
    (void)state;
    uint64_t bad[] = { 0, 256, 1024 /* overlaps the header */, 4 * MIB, UINT64_MAX - 10 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memsource *ms = new_image(VB_DISK_DYNAMIC);
        vb_put_be64(ms->data + HDR + 16, bad[i]);
        reseal_header(ms);
        expect_open(ms, VB_ERR_BAD_TABLE, "block table");
        memsource_free(ms);
    }
    /* table running into the footer */
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be64(ms->data + HDR + 16, ms->size - 512 - 256);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_TABLE, "block table");
    memsource_free(ms);
}

static void test_bat_entries(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    uint64_t footer = ms->size - 512;
    uint64_t block_bytes = 512 + MIB;
    /* a block past the footer, named by index */
    set_bat(ms, 2, (uint32_t)(footer / 512));
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 2");
    /* the largest sector number: no 64-bit overflow, still refused */
    set_bat(ms, 2, 0xFFFFFFFE);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 2");
    set_bat(ms, 2, 0xFFFFFFFF);
    expect_open(ms, VB_OK, NULL);
    /* a block over the footer copy and header */
    set_bat(ms, 1, 1);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 1");
    set_bat(ms, 1, 0xFFFFFFFF);
    memsource_free(ms);

    /* grow the file so a block fits exactly before the footer: accepted */
    ms = new_image(VB_DISK_DYNAMIC);
    footer = ms->size - 512;
    uint8_t f[512];
    memcpy(f, ms->data + footer, 512);
    assert_int_equal(ms->src.write(ms, footer + block_bytes, f, 512), VB_OK);
    set_bat(ms, 0, (uint32_t)(footer / 512));
    expect_open(ms, VB_OK, NULL);
    /* one sector later it would reach into the footer */
    set_bat(ms, 0, (uint32_t)(footer / 512) + 1);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 0");
    memsource_free(ms);
}

static void collect(void *ctx, const char *line)
{
    char *all = ctx;
    strncat(all, line, 4000 - strlen(all));
    strncat(all, "\n", 4000 - strlen(all));
}

static void ignore_line(void *ctx, const char *line)
{
    (void)line;
    (*(int *)ctx)++;
}

/* Appends n allocated-block spaces before the footer (the file grows, the
 * footer moves), so BAT entries up to the new end are inside the file.
 * Returns the old footer offset (the first new block's place). */
static uint64_t grow_for_blocks(memsource *ms, unsigned n)
{
    uint64_t footer = ms->size - 512;
    uint8_t f[512];
    memcpy(f, ms->data + footer, 512);
    assert_int_equal(ms->src.write(ms, footer + n * (512 + MIB), f, 512), VB_OK);
    memset(ms->data + footer, 0, 512);
    return footer;
}

static void test_overlapping_blocks_refused_at_open(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    uint32_t first = (uint32_t)(grow_for_blocks(ms, 2) / 512);
    set_bat(ms, 0, first);
    set_bat(ms, 3, first + 8); /* 4 KiB into block 0 */
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 3 at offset");
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "overlaps block 0 at offset");
    /* the later block may have the lower index */
    set_bat(ms, 0, first + 8);
    set_bat(ms, 3, first);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 0 at offset");
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "overlaps block 3");
    /* two entries naming the same block: both indices in the message */
    set_bat(ms, 0, first);
    set_bat(ms, 2, first);
    set_bat(ms, 3, VB_BAT_UNUSED);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 2 at offset");
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "overlaps block 0");
    /* neighbours touching but not overlapping are fine */
    set_bat(ms, 2, first + (512 + MIB) / 512);
    expect_open(ms, VB_OK, NULL);
    /* ... one sector less apart they overlap */
    set_bat(ms, 2, first + (512 + MIB) / 512 - 1);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "overlaps block 0");
    memsource_free(ms);
}

static void test_block_over_header_or_table(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    grow_for_blocks(ms, 1);
    set_bat(ms, 1, 0);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 1 at offset 0 overlaps the footer copy at offset 0");
    set_bat(ms, 1, 2); /* inside the header, which starts at 512 */
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 1 at offset 1024 overlaps the dynamic header at offset 512");
    set_bat(ms, 1, BAT / 512);
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, "block 1 at offset 1536 overlaps the block table at offset 1536");
    /* writable opens refuse it just the same */
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, NAME, VB_OPEN_WRITABLE, &l, &d), VB_ERR_BAD_BAT_ENTRY);
    assert_null(l);
    memsource_free(ms);
}

static void test_block_over_locator_data(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DIFF);
    const uint8_t *loc = ms->data + HDR + 576;
    assert_memory_equal(loc, "W2ku", 4);
    uint64_t data_at = vb_be64(loc + 16);
    uint64_t footer = grow_for_blocks(ms, 1);
    assert_true(data_at % 512 == 0 && data_at >= BAT + 512 && data_at < footer);
    char want[128];
    snprintf(want, sizeof(want), "block 2 at offset %llu overlaps parent locator data at offset %llu",
             (unsigned long long)data_at, (unsigned long long)data_at);
    set_bat(ms, 2, (uint32_t)(data_at / 512));
    expect_open(ms, VB_ERR_BAD_BAT_ENTRY, want);
    /* a block after every locator's data is accepted */
    set_bat(ms, 2, (uint32_t)(footer / 512));
    expect_open(ms, VB_OK, NULL);
    memsource_free(ms);
}

/* A sparse file for big images: `meta` (footer copy, header, BAT) at offset
 * 0, the footer at the end, zeros in between; reads only. */
typedef struct sparse_file {
    vb_source src;
    const uint8_t *meta;
    size_t meta_len;
    uint8_t footer[512];
    unsigned reads;
} sparse_file;

static vb_status sparse_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    sparse_file *f = ctx;
    uint8_t *out = buf;
    f->reads++;
    if (offset > f->src.size || len > f->src.size - offset)
        return VB_ERR_OUT_OF_RANGE;
    for (size_t i = 0; i < len; i++) {
        uint64_t at = offset + i;
        if (at < f->meta_len)
            out[i] = f->meta[at];
        else if (at >= f->src.size - 512)
            out[i] = f->footer[at - (f->src.size - 512)];
        else
            out[i] = 0;
    }
    return VB_OK;
}

static void test_many_allocated_blocks_open(void **state)
{
    (void)state;
    /* ~2 TB of 2 MiB blocks, every one allocated, laid out in a scrambled
     * order (the sort has real work to do); the file is sparse. */
    const uint32_t blocks = 1000000, block = 2 * MIB;
    memsource *ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = (uint64_t)blocks * block, .block_size = block,
                           .uuid = uuid };
    vb_diag d = { 0 };
    if (vb_vhd_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    sparse_file f = { .meta = ms->data, .meta_len = ms->size - 512 };
    memcpy(f.footer, ms->data + ms->size - 512, 512);
    uint64_t block_bytes = 512 + block, first = f.meta_len / 512;
    assert_int_equal(f.meta_len % 512, 0);
    for (uint32_t i = 0; i < blocks; i++) {
        uint32_t slot = (uint32_t)(((uint64_t)i * 7919u) % blocks); /* 7919 is prime, coprime to 10^6 */
        set_bat(ms, i, (uint32_t)(first + slot * (block_bytes / 512)));
    }
    f.src = (vb_source){ .size = f.meta_len + blocks * block_bytes + 512, .ctx = &f, .read = sparse_read };
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&f.src, NAME, 0, &l, &d), VB_OK);
    assert_int_equal(vb_layer_info(l)->allocated_blocks, blocks);
    vb_layer_close(l);
    /* one entry moved a sector into its neighbour's space: found among a million */
    uint32_t victim = 123457, neighbour_slot = (uint32_t)(((uint64_t)victim * 7919u) % blocks) + 1;
    uint32_t neighbour = 0;
    for (uint32_t i = 0; i < blocks; i++)
        if ((uint32_t)(((uint64_t)i * 7919u) % blocks) == neighbour_slot)
            neighbour = i;
    set_bat(ms, victim, (uint32_t)(first + neighbour_slot * (block_bytes / 512) - 1));
    assert_int_equal(vb_layer_open(&f.src, NAME, 0, &l, &d), VB_ERR_BAD_BAT_ENTRY);
    char want[64];
    snprintf(want, sizeof(want), "block %u at offset", neighbour);
    if (!strstr(d.text, want))
        fail_msg("expected '%s' in: %s", want, d.text);
    snprintf(want, sizeof(want), "overlaps block %u at offset", victim);
    if (!strstr(d.text, want))
        fail_msg("expected '%s' in: %s", want, d.text);
    memsource_free(ms);
}

static void test_check_reports_each_overlap(void **state)
{
    (void)state;
    /* Open refuses overlaps, so a layer damaged after open (its BAT edited
     * in memory) is what check can still meet; it lists every overlap, up
     * to a limit. */
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    uint32_t first = (uint32_t)(grow_for_blocks(ms, 1) / 512);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, NULL), VB_OK);
    vb_put_be32(l->bat + 0, first);
    vb_put_be32(l->bat + 4, first + 8);
    vb_put_be32(l->bat + 12, first + 16);
    char all[4096] = "";
    assert_int_equal(vb_layer_check(l, collect, all), VB_ERR_BAD_BAT_ENTRY);
    assert_non_null(strstr(all, NAME ": block 1 at offset"));
    assert_non_null(strstr(all, "overlaps block 0"));
    assert_non_null(strstr(all, "block 3 at offset"));
    assert_non_null(strstr(all, "overlaps block 1"));
    vb_put_be32(l->bat + 12, 2); /* over the header (and the block table) too */
    all[0] = '\0';
    assert_int_equal(vb_layer_check(l, collect, all), VB_ERR_BAD_BAT_ENTRY);
    assert_non_null(strstr(all, "block 3 at offset 1024 overlaps the dynamic header"));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_check_caps_overlap_lines(void **state)
{
    (void)state;
    /* 64 blocks of 4 KiB all at one place: 63 overlapping neighbours, but
     * check lists a bounded number and says there are more. */
    memsource *ms = memsource_new(NULL, 0);
    vb_create_params p = { .type = VB_DISK_DYNAMIC, .size = 64 * 4096, .block_size = 4096, .uuid = uuid };
    assert_int_equal(vb_vhd_create(&ms->src, &p, NULL), VB_OK);
    uint64_t footer = ms->size - 512;
    uint8_t f[512];
    memcpy(f, ms->data + footer, 512);
    assert_int_equal(ms->src.write(ms, footer + 512 + 4096, f, 512), VB_OK);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, NULL), VB_OK);
    for (uint32_t i = 0; i < 64; i++)
        vb_put_be32(l->bat + 4 * i, (uint32_t)(footer / 512));
    int lines = 0;
    assert_int_equal(vb_layer_check(l, ignore_line, &lines), VB_ERR_BAD_BAT_ENTRY);
    assert_true(lines > 8 && lines < 40);
    char all[8192] = "";
    vb_layer_check(l, collect, all);
    assert_non_null(strstr(all, "not listed"));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_allocated_entry_beyond_disk_reported(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC);
    vb_put_be32(ms->data + HDR + 28, 100); /* still inside the 512-byte table */
    reseal_header(ms);
    set_bat(ms, 50, 4);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, NULL), VB_OK);
    char all[4096] = "";
    assert_int_equal(vb_layer_check(l, collect, all), VB_ERR_BAD_TABLE);
    assert_non_null(strstr(all, "entry 50"));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_locator_out_of_range(void **state)
{
    (void)state;
    uint8_t *loc;
    /* differencing: refused at open */
    memsource *ms = new_image(VB_DISK_DIFF);
    loc = ms->data + HDR + 576;
    assert_memory_equal(loc, "W2ku", 4);
    vb_put_be64(loc + 16, ms->size + 4096);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_LOCATOR, "locator");
    memsource_free(ms);
    /* length larger than its space */
    ms = new_image(VB_DISK_DIFF);
    loc = ms->data + HDR + 576;
    vb_put_be32(loc + 8, vb_be32(loc + 4) + 2);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_LOCATOR, "locator");
    memsource_free(ms);
    /* odd UTF-16 length */
    ms = new_image(VB_DISK_DIFF);
    loc = ms->data + HDR + 576;
    vb_put_be32(loc + 8, vb_be32(loc + 8) - 1);
    reseal_header(ms);
    expect_open(ms, VB_ERR_BAD_LOCATOR, "locator");
    memsource_free(ms);
    /* dynamic: opens (locators unused), check reports it */
    ms = new_image(VB_DISK_DYNAMIC);
    loc = ms->data + HDR + 576;
    memcpy(loc, "W2ku", 4);
    vb_put_be32(loc + 4, 512);
    vb_put_be32(loc + 8, 20);
    vb_put_be64(loc + 16, UINT64_MAX - 5);
    reseal_header(ms);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, NULL), VB_OK);
    char all[4096] = "";
    assert_int_equal(vb_layer_check(l, collect, all), VB_ERR_BAD_LOCATOR);
    assert_non_null(strstr(all, "locator"));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_parent_name_without_terminator(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DIFF);
    uint8_t *name = ms->data + HDR + 64;
    for (int i = 0; i < 256; i++)
        vb_put_be16(name + 2 * i, (uint16_t)('a' + i % 26));
    reseal_header(ms);
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, &d), VB_OK);
    const char *got = vb_layer_info(l)->parent_name;
    assert_int_equal(strlen(got), 256);
    assert_int_equal(got[255], 'a' + 255 % 26);
    vb_layer_close(l);
    /* an unpaired surrogate: open still works (locators remain), check reports it */
    vb_put_be16(name, 0xD800);
    vb_put_be16(name + 2, 'x');
    reseal_header(ms);
    assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, &d), VB_OK);
    assert_string_equal(vb_layer_info(l)->parent_name, "");
    char all[4096] = "";
    assert_int_equal(vb_layer_check(l, collect, all), VB_ERR_BAD_PARENT_NAME);
    assert_non_null(strstr(all, "UTF-16"));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_clean_images_pass_check(void **state)
{
    (void)state;
    enum vb_disk_type types[] = { VB_DISK_DYNAMIC, VB_DISK_DIFF };
    for (int i = 0; i < 2; i++) {
        memsource *ms = new_image(types[i]);
        vb_layer *l = NULL;
        assert_int_equal(vb_layer_open(&ms->src, NAME, 0, &l, NULL), VB_OK);
        char all[4096] = "";
        assert_int_equal(vb_layer_check(l, collect, all), VB_OK);
        assert_string_equal(all, "");
        vb_layer_close(l);
        memsource_free(ms);
    }
}

static void test_random_damage_is_safe(void **state)
{
    (void)state;
    /* A differencing image with two allocated blocks; random bytes of its
     * metadata are changed (checksums recomputed so parsing goes deep). Any
     * image that still opens must read fully and check without memory errors
     * (the ASan build of this test is the real assertion). */
    memsource *base = new_image(VB_DISK_DIFF);
    vb_layer *l = NULL;
    assert_int_equal(vb_layer_open(&base->src, NAME, VB_OPEN_WRITABLE, &l, NULL), VB_OK);
    uint8_t data[4096];
    memset(data, 0x3C, sizeof(data));
    memsource *parent = memsource_new(NULL, 4 * MIB);
    memsource_fail_after_writes(parent, 0);
    vb_layer_set_parent(l, &parent->src);
    assert_int_equal(vb_source_write(vb_layer_source(l), 5000, data, sizeof(data)), VB_OK);
    assert_int_equal(vb_source_write(vb_layer_source(l), 3 * MIB, data, sizeof(data)), VB_OK);
    vb_layer_close(l);
    uint8_t *buf = malloc(4 * MIB);
    uint32_t seed = 12345;
    unsigned opened = 0;
    for (int iter = 0; iter < 400; iter++) {
        memsource *ms = memsource_new(base->data, base->size);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            /* metadata: footer copy, header, BAT, locator data, or trailing footer */
            uint32_t r = seed >> 8;
            size_t at = (r % 3 == 0) ? ms->size - 512 + (r >> 2) % 512 : (r >> 2) % 4096;
            ms->data[at] ^= (uint8_t)(1u << ((r >> 20) % 8));
        }
        if (iter % 2 == 0)
            reseal_header(ms);
        if (iter % 3 != 2)
            reseal_footer(ms, iter % 5 == 0);
        if (vb_layer_open(&ms->src, NAME, iter % 7 == 0 ? VB_OPEN_USE_FOOTER_COPY : 0, &l, NULL) == VB_OK) {
            opened++;
            vb_layer_set_parent(l, &parent->src);
            vb_source *src = vb_layer_source(l);
            uint64_t size = src->size < 4 * MIB ? src->size : 4 * MIB;
            vb_source_read(src, 0, buf, (size_t)size);
            vb_source_read(src, 777, buf, 3000);
            int lines = 0;
            vb_layer_check(l, ignore_line, &lines);
            vb_layer_close(l);
        }
        memsource_free(ms);
    }
    assert_true(opened > 0);
    assert_int_equal(parent->writes + parent->failed_writes, 0);
    free(buf);
    memsource_free(parent);
    memsource_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_too_small_and_no_cookie),
        cmocka_unit_test(test_footer_checksum),
        cmocka_unit_test(test_disk_size_limits),
        cmocka_unit_test(test_version_and_type),
        cmocka_unit_test(test_header_offset),
        cmocka_unit_test(test_header_cookie_and_checksum),
        cmocka_unit_test(test_block_size),
        cmocka_unit_test(test_table_entries),
        cmocka_unit_test(test_table_offset),
        cmocka_unit_test(test_bat_entries),
        cmocka_unit_test(test_overlapping_blocks_refused_at_open),
        cmocka_unit_test(test_block_over_header_or_table),
        cmocka_unit_test(test_block_over_locator_data),
        cmocka_unit_test(test_many_allocated_blocks_open),
        cmocka_unit_test(test_check_reports_each_overlap),
        cmocka_unit_test(test_check_caps_overlap_lines),
        cmocka_unit_test(test_allocated_entry_beyond_disk_reported),
        cmocka_unit_test(test_locator_out_of_range),
        cmocka_unit_test(test_parent_name_without_terminator),
        cmocka_unit_test(test_clean_images_pass_check),
        cmocka_unit_test(test_random_damage_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
