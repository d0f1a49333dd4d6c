/* Unit tests: VHDX in the core — creation, every field of a 4096-byte-sector
 * VHDX against MS-VHDX, header and region-table selection, BAT states,
 * partially present blocks through a parent, log replay (in memory and on
 * disk, stale entries ignored), hostile structures (named errors), chains
 * (parent_linkage, mixing, cycles, depth), which parents Windows finds by
 * their locators, and crash-cut writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhdx.h"
#include "memsource.h"

#define MIB (1024u * 1024u)
#define HDR1 (64u * 1024u)
#define HDR2 (128u * 1024u)
#define RT1 (192u * 1024u)
#define RT2 (256u * 1024u)
#define LOG_AT MIB
#define META_AT (2u * MIB)
#define BAT_AT (3u * MIB)
#define DATA_AT (4u * MIB)

static const uint8_t guids_a[48] = { 0xA1, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15,
                                     0xA2, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15,
                                     0xA3, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t guids_b[48] = { 0xB1, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15,
                                     0xB2, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15,
                                     0xB3, 1, 2, 3, 4, 5, 0x06, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15 };

/* Creates a VHDX in a new memsource. */
static memsource *make(enum vb_disk_type type, uint64_t size, uint32_t bs, uint32_t lss, const uint8_t *guids)
{
    memsource *ms = memsource_new(NULL, 0);
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.size = size;
    p.block_size = bs;
    p.logical_sector_size = lss;
    p.physical_sector_size = lss;
    p.guids = guids;
    vb_diag d = { 0 };
    if (vb_vhdx_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    return ms;
}

/* Opens a layer, failing the test on error. */
static vb_layer *open_ok(memsource *ms, unsigned flags)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    if (vb_layer_open(&ms->src, "\\t.vhdx", flags, &l, &d) != VB_OK)
        fail_msg("open: %s", d.text);
    return l;
}

/* Opens and expects a status; returns the diag text for further checks. */
static void open_fails(memsource *ms, vb_status want)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    vb_status st = vb_layer_open(&ms->src, "\\t.vhdx", 0, &l, &d);
    if (st != want)
        fail_msg("expected %s, got %s (%s)", vb_status_message(want), vb_status_message(st), d.text);
    assert_null(l);
    assert_non_null(strstr(d.text, "\\t.vhdx"));
}

/* Rewrites the CRC-32C of a header (4 KiB) or region table (64 KiB) in place. */
static void fix_crc(memsource *ms, uint64_t at, size_t len)
{
    vb_put_le32(ms->data + at + 4, vb_crc32c(ms->data + at, len, 4));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    vb_put_le32(p, (uint32_t)v);
    vb_put_le32(p + 4, (uint32_t)(v >> 32));
}

static void test_crc32c_vector(void **state)
{
    (void)state;
    assert_int_equal(vb_crc32c((const uint8_t *)"123456789", 9, 9), 0xE3069283u);
    char g[37];
    uint8_t raw[16];
    assert_true(vb_guid_parse("{ff34003b-11ed-4cf8-a166-b2be05e20b80}", raw));
    assert_int_equal(raw[0], 0x3b);
    assert_int_equal(raw[3], 0xff);
    assert_int_equal(raw[8], 0xa1);
    vb_guid_format(raw, g);
    assert_string_equal(g, "ff34003b-11ed-4cf8-a166-b2be05e20b80");
    assert_false(vb_guid_parse("ff34003b-11ed-4cf8-a166-b2be05e20b8", raw));
}

/* Every field of a fixed 4096-byte-sector VHDX written by the core (what
 * vhdtool create --format vhdx --sector-size 4096 writes), by hand against
 * MS-VHDX sections 2.1 - 2.6. */
static void test_4k_fields(void **state)
{
    (void)state;
    const uint32_t bs = 2 * MIB;
    memsource *ms = make(VB_DISK_FIXED, 6 * MIB + 4096, bs, 4096, guids_a);
    const uint8_t *f = ms->data;
    /* 2.1 file type identifier */
    assert_memory_equal(f, "vhdxfile", 8);
    assert_memory_equal(f + 8, "v\0h\0d\0b\0o\0o\0t\0\0", 16);
    /* 2.2.2 headers: both valid, seq 1 and 2, same fields */
    for (unsigned h = 0; h < 2; h++) {
        const uint8_t *p = f + (h ? HDR2 : HDR1);
        assert_memory_equal(p, "head", 4);
        assert_int_equal(vb_le32(p + 4), vb_crc32c(p, 4096, 4));
        assert_int_equal(vb_le64(p + 8), h + 1);
        assert_memory_equal(p + 16, guids_a, 16);      /* FileWriteGuid */
        assert_memory_equal(p + 32, guids_a + 16, 16); /* DataWriteGuid */
        for (unsigned i = 48; i < 64; i++)             /* LogGuid zero: no log to replay */
            assert_int_equal(p[i], 0);
        assert_int_equal(vb_le16(p + 64), 0);          /* LogVersion */
        assert_int_equal(vb_le16(p + 66), 1);          /* Version */
        assert_int_equal(vb_le32(p + 68), MIB);        /* LogLength */
        assert_int_equal(vb_le64(p + 72), LOG_AT);     /* LogOffset */
        for (unsigned i = 80; i < 4096; i++)
            assert_int_equal(p[i], 0);
    }
    /* 2.2.3 region tables: identical, two required entries */
    assert_memory_equal(f + RT1, f + RT2, 64 * 1024);
    const uint8_t *rt = f + RT1;
    assert_memory_equal(rt, "regi", 4);
    assert_int_equal(vb_le32(rt + 4), vb_crc32c(rt, 64 * 1024, 4));
    assert_int_equal(vb_le32(rt + 8), 2);
    static const uint8_t bat_guid[16] = VB_GUID_BYTES(0x2DC27766u, 0xF623u, 0x4200u, 0x9D, 0x64, 0x11, 0x5E, 0x9B,
                                                      0xFD, 0x4A, 0x08);
    static const uint8_t meta_guid[16] = VB_GUID_BYTES(0x8B7CA206u, 0x4790u, 0x4B9Au, 0xB8, 0xFE, 0x57, 0x5F, 0x05,
                                                       0x0F, 0x88, 0x6E);
    assert_memory_equal(rt + 16, bat_guid, 16);
    assert_int_equal(vb_le64(rt + 32), BAT_AT);
    assert_int_equal(vb_le32(rt + 40), MIB);
    assert_int_equal(vb_le32(rt + 44), 1);
    assert_memory_equal(rt + 48, meta_guid, 16);
    assert_int_equal(vb_le64(rt + 64), META_AT);
    assert_int_equal(vb_le32(rt + 72), MIB);
    assert_int_equal(vb_le32(rt + 76), 1);
    /* 2.6.1 metadata table and 2.6.2 items */
    const uint8_t *mt = f + META_AT;
    assert_memory_equal(mt, "metadata", 8);
    assert_int_equal(vb_le16(mt + 10), 5);
    struct {
        uint8_t guid[16];
        uint32_t len, flags;
    } want[5] = {
        { VB_GUID_BYTES(0xCAA16737u, 0xFA36u, 0x4D43u, 0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B), 8, 4 },
        { VB_GUID_BYTES(0x2FA54224u, 0xCD1Bu, 0x4876u, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8), 8, 6 },
        { VB_GUID_BYTES(0xBECA12ABu, 0xB2E6u, 0x4523u, 0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46), 16, 6 },
        { VB_GUID_BYTES(0x8141BF1Du, 0xA96Fu, 0x4709u, 0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F), 4, 6 },
        { VB_GUID_BYTES(0xCDA348C7u, 0x445Du, 0x4471u, 0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56), 4, 6 },
    };
    uint32_t item_at[5];
    for (unsigned i = 0; i < 5; i++) {
        const uint8_t *e = mt + 32 + 32 * i;
        assert_memory_equal(e, want[i].guid, 16);
        item_at[i] = vb_le32(e + 16);
        assert_true(item_at[i] >= 64 * 1024);
        assert_int_equal(vb_le32(e + 20), want[i].len);
        assert_int_equal(vb_le32(e + 24), want[i].flags);
    }
    assert_int_equal(vb_le32(mt + item_at[0]), bs);                     /* BlockSize */
    assert_int_equal(vb_le32(mt + item_at[0] + 4), 1);                  /* LeaveBlockAllocated, no parent */
    assert_int_equal(vb_le64(mt + item_at[1]), 6 * MIB + 4096);         /* VirtualDiskSize */
    assert_memory_equal(mt + item_at[2], guids_a + 32, 16);             /* Page 83 */
    assert_int_equal(vb_le32(mt + item_at[3]), 4096);                   /* LogicalSectorSize */
    assert_int_equal(vb_le32(mt + item_at[4]), 4096);                   /* PhysicalSectorSize */
    /* 2.5 BAT: chunk ratio 2^23 * 4096 / 2 MiB = 16384; 4 payload blocks, no bitmap entry needed */
    const uint8_t *bat = f + BAT_AT;
    for (unsigned b = 0; b < 4; b++) {
        uint64_t e = vb_le64(bat + 8 * b);
        assert_int_equal(e & 7, 6);                                     /* FULLY_PRESENT */
        assert_int_equal(e & 0xFFFF8, 0);                               /* reserved bits */
        assert_int_equal(e >> 20, (DATA_AT + (uint64_t)b * bs) >> 20);  /* FileOffsetMB */
    }
    assert_int_equal(vb_le64(bat + 32), 0);
    assert_int_equal(ms->size, DATA_AT + 8 * MIB);
    /* and the core reads it back the same way */
    vb_layer *l = open_ok(ms, 0);
    const vb_vhdx_info *x = vb_layer_vhdx(l);
    assert_non_null(x);
    assert_int_equal(x->chunk_ratio, 16384);
    assert_int_equal(x->logical_sector_size, 4096);
    assert_int_equal(vb_layer_info(l)->sector_size, 4096);
    assert_int_equal(vb_layer_info(l)->type, VB_DISK_FIXED);
    assert_int_equal(x->payload_states[6], 4);
    vb_layer_close(l);
    memsource_free(ms);
}

/* Writes and reads back through a dynamic VHDX, across blocks and unaligned. */
static void test_dynamic_write_read(void **state)
{
    (void)state;
    memsource *ms = make(VB_DISK_DYNAMIC, 8 * MIB, MIB, 512, guids_a);
    vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE);
    vb_source *d = vb_layer_source(l);
    uint8_t *buf = malloc(3 * MIB), *back = malloc(3 * MIB);
    for (size_t i = 0; i < 3 * MIB; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(vb_source_write(d, MIB - 100, buf, 2 * MIB + 77), VB_OK);
    assert_int_equal(vb_source_read(d, MIB - 100, back, 2 * MIB + 77), VB_OK);
    assert_memory_equal(buf, back, 2 * MIB + 77);
    /* the first write renewed both write GUIDs */
    const vb_vhdx_info *x = vb_layer_vhdx(l);
    assert_memory_not_equal(x->data_write_guid, guids_a + 16, 16);
    assert_memory_not_equal(x->file_write_guid, guids_a, 16);
    vb_layer_close(l);
    l = open_ok(ms, 0);
    d = vb_layer_source(l);
    memset(back, 0xEE, 3 * MIB);
    assert_int_equal(vb_source_read(d, 0, back, 3 * MIB), VB_OK);
    for (size_t i = 0; i < MIB - 100; i++)
        assert_int_equal(back[i], 0);
    assert_memory_equal(back + MIB - 100, buf, 2 * MIB + 77);
    assert_int_equal(vb_layer_vhdx(l)->payload_states[6], 3);
    vb_layer_close(l);
    free(buf);
    free(back);
    memsource_free(ms);
}

/* Fills 4 MiB of a new dynamic VHDX (1 MiB blocks) block by block, in
 * order, each block with its own byte (0x10 + block), and reopens it. */
static memsource *make_filled(void)
{
    memsource *ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE);
    uint8_t *buf = malloc(MIB);
    for (unsigned b = 0; b < 4; b++) {
        memset(buf, 0x10 + b, MIB);
        assert_int_equal(vb_source_write(vb_layer_source(l), (uint64_t)b * MIB, buf, MIB), VB_OK);
    }
    vb_layer_close(l);
    free(buf);
    return ms;
}

/* Reads the whole 4 MiB disk and checks block b holds byte want[b]; checks
 * whether the layer reports its data as one run of the file (at DATA_AT). */
static void expect_blocks(memsource *ms, const int want[4], bool linear)
{
    vb_layer *l = open_ok(ms, 0);
    uint64_t at = 0;
    assert_int_equal(vb_vhdx_linear_data(l, &at), linear);
    if (linear)
        assert_int_equal(at, DATA_AT);
    uint8_t *back = malloc(4 * MIB);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, back, 4 * MIB), VB_OK);
    for (unsigned b = 0; b < 4; b++)
        for (size_t k = 0; k < MIB; k++)
            if (back[b * MIB + k] != want[b])
                fail_msg("block %u byte %zu: 0x%02x, expected 0x%02x", b, k, back[b * MIB + k], want[b]);
    /* an unaligned read across the middle blocks */
    assert_int_equal(vb_source_read(vb_layer_source(l), 2 * MIB - 3, back, 6), VB_OK);
    assert_int_equal(back[0], want[1]);
    assert_int_equal(back[5], want[2]);
    vb_layer_close(l);
    free(back);
}

/* A file whose blocks are all present and back to back reads in one step
 * (the fixed-VHD path); the same blocks in another order, or with one block
 * ZERO, must still read through the BAT: blocks 1 and 2 swapped in the BAT
 * read swapped, a ZERO block reads as zeros. */
static void test_linear_layout(void **state)
{
    (void)state;
    memsource *ms = make_filled();
    expect_blocks(ms, (const int[4]){ 0x10, 0x11, 0x12, 0x13 }, true);
    uint8_t e1[8], e2[8];
    memcpy(e1, ms->data + BAT_AT + 8, 8);
    memcpy(e2, ms->data + BAT_AT + 16, 8);
    memcpy(ms->data + BAT_AT + 8, e2, 8);
    memcpy(ms->data + BAT_AT + 16, e1, 8);
    expect_blocks(ms, (const int[4]){ 0x10, 0x12, 0x11, 0x13 }, false);
    memcpy(ms->data + BAT_AT + 8, e1, 8);
    memcpy(ms->data + BAT_AT + 16, e2, 8);
    put_le64(ms->data + BAT_AT + 24, 2); /* block 3: ZERO */
    expect_blocks(ms, (const int[4]){ 0x10, 0x11, 0x12, 0 }, false);
    memsource_free(ms);
    /* a fixed VHDX whose last block is partial: the tail reads back */
    ms = make(VB_DISK_FIXED, 3 * MIB + 512 * 5, MIB, 512, guids_a);
    vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE);
    uint8_t tail[512 * 5], back[512 * 5];
    for (size_t k = 0; k < sizeof tail; k++)
        tail[k] = (uint8_t)(k * 13 + 1);
    assert_int_equal(vb_source_write(vb_layer_source(l), 3 * MIB, tail, sizeof tail), VB_OK);
    vb_layer_close(l);
    l = open_ok(ms, 0);
    assert_int_equal(vb_source_read(vb_layer_source(l), 3 * MIB, back, sizeof back), VB_OK);
    assert_memory_equal(tail, back, sizeof tail);
    assert_int_equal(vb_source_read(vb_layer_source(l), 3 * MIB, back, sizeof back + 1), VB_ERR_OUT_OF_RANGE);
    uint64_t at = 0;
    assert_true(vb_vhdx_linear_data(l, &at));
    vb_layer_close(l);
    memsource_free(ms);
    /* a VHD layer is never reported */
    ms = memsource_new(NULL, 0);
    vb_create_params vp;
    memset(&vp, 0, sizeof(vp));
    vp.type = VB_DISK_FIXED;
    vp.size = 4 * MIB;
    vp.uuid = guids_a;
    assert_int_equal(vb_vhd_create(&ms->src, &vp, NULL), VB_OK);
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "\\t.vhd", 0, &l, &d), VB_OK);
    assert_false(vb_vhdx_linear_data(l, &at));
    vb_layer_close(l);
    memsource_free(ms);
}

/* The valid header with the higher sequence number is current; a damaged one
 * is skipped; both damaged is VB_ERR_VHDX_HEADER. */
static void test_headers(void **state)
{
    (void)state;
    memsource *ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    vb_layer *l = open_ok(ms, 0);
    assert_int_equal(vb_layer_vhdx(l)->current_header, 1);
    vb_layer_close(l);
    ms->data[HDR2 + 100] ^= 1; /* header 2 damaged: header 1 */
    l = open_ok(ms, 0);
    assert_int_equal(vb_layer_vhdx(l)->current_header, 0);
    assert_false(vb_layer_vhdx(l)->header_valid[1]);
    vb_layer_close(l);
    ms->data[HDR1 + 8] = 9; /* header 1 CRC now wrong too */
    open_fails(ms, VB_ERR_VHDX_HEADER);
    /* equal sequence numbers (Disk2vhd): the first wins */
    ms->data[HDR2 + 100] ^= 1;
    ms->data[HDR1 + 8] = 2;
    fix_crc(ms, HDR1, 4096);
    l = open_ok(ms, 0);
    assert_int_equal(vb_layer_vhdx(l)->current_header, 0);
    vb_layer_close(l);
    /* version 2 in both */
    vb_put_le16(ms->data + HDR1 + 66, 2);
    fix_crc(ms, HDR1, 4096);
    vb_put_le16(ms->data + HDR2 + 66, 2);
    fix_crc(ms, HDR2, 4096);
    open_fails(ms, VB_ERR_VHDX_VERSION);
    memsource_free(ms);
    ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    memcpy(ms->data, "vhdxfilx", 8);
    open_fails(ms, VB_ERR_BAD_COOKIE); /* not a VHDX, and no VHD footer either */
    memsource_free(ms);
}

/* Region tables: the second is used when the first is damaged; both damaged,
 * overlapping regions, unknown required regions and regions outside the
 * file are refused by name. */
static void test_regions(void **state)
{
    (void)state;
    memsource *ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    ms->data[RT1 + 1000] ^= 1;
    vb_layer *l = open_ok(ms, 0);
    assert_false(vb_layer_vhdx(l)->region_valid[0]);
    vb_layer_close(l);
    ms->data[RT2 + 1000] ^= 1;
    open_fails(ms, VB_ERR_VHDX_REGION_TABLE);
    ms->data[RT1 + 1000] ^= 1;
    ms->data[RT2 + 1000] ^= 1;
    /* the BAT region moved onto the metadata region, in both tables */
    for (unsigned t = 0; t < 2; t++) {
        put_le64(ms->data + (t ? RT2 : RT1) + 32, META_AT);
        fix_crc(ms, t ? RT2 : RT1, 64 * 1024);
    }
    open_fails(ms, VB_ERR_VHDX_REGION_OVERLAP);
    /* onto the log */
    for (unsigned t = 0; t < 2; t++) {
        put_le64(ms->data + (t ? RT2 : RT1) + 32, LOG_AT);
        fix_crc(ms, t ? RT2 : RT1, 64 * 1024);
    }
    open_fails(ms, VB_ERR_VHDX_REGION_OVERLAP);
    /* past the end of the file */
    for (unsigned t = 0; t < 2; t++) {
        put_le64(ms->data + (t ? RT2 : RT1) + 32, 64 * MIB);
        fix_crc(ms, t ? RT2 : RT1, 64 * 1024);
    }
    open_fails(ms, VB_ERR_VHDX_REGION);
    /* an unknown required region */
    for (unsigned t = 0; t < 2; t++) {
        put_le64(ms->data + (t ? RT2 : RT1) + 32, BAT_AT);
        ms->data[(t ? RT2 : RT1) + 16] ^= 0x55;
        fix_crc(ms, t ? RT2 : RT1, 64 * 1024);
    }
    open_fails(ms, VB_ERR_VHDX_REGION_UNKNOWN);
    memsource_free(ms);
}

/* Metadata and BAT refusals. */
static void test_metadata_and_bat(void **state)
{
    (void)state;
    memsource *ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    uint8_t *items = ms->data + META_AT + 64 * 1024;
    /* disk size so large the 1 MiB BAT region cannot hold the entries (chunk ratio arithmetic) */
    put_le64(items + 8, 1ull << 40);
    open_fails(ms, VB_ERR_VHDX_BAT_SIZE);
    put_le64(items + 8, 4 * MIB + 1);
    open_fails(ms, VB_ERR_BAD_DISK_SIZE);
    put_le64(items + 8, 4 * MIB);
    vb_put_le32(items, 3 * MIB);
    open_fails(ms, VB_ERR_BAD_BLOCK_SIZE);
    vb_put_le32(items, MIB);
    vb_put_le32(items + 32, 1024);
    open_fails(ms, VB_ERR_VHDX_SECTOR_SIZE);
    vb_put_le32(items + 32, 512);
    ms->data[META_AT + 32] ^= 0x40; /* the File Parameters item no longer recognised */
    open_fails(ms, VB_ERR_VHDX_META_UNKNOWN);
    vb_put_le32(ms->data + META_AT + 32 + 24, 0); /* ... and not required: then missing */
    open_fails(ms, VB_ERR_VHDX_META_MISSING);
    ms->data[META_AT + 32] ^= 0x40;
    vb_put_le32(ms->data + META_AT + 32 + 24, 4);
    vb_put_le32(ms->data + META_AT + 32 + 16, 2 * MIB); /* item outside the region */
    open_fails(ms, VB_ERR_VHDX_METADATA);
    vb_put_le32(ms->data + META_AT + 32 + 16, 64 * 1024);
    vb_layer_close(open_ok(ms, 0));
    /* BAT: a block past the end of the file, a reserved state, a partially
     * present block without a parent, two blocks on one offset */
    uint8_t *bat = ms->data + BAT_AT;
    put_le64(bat, (uint64_t)(64 * MIB) | 6);
    open_fails(ms, VB_ERR_BAD_BAT_ENTRY);
    put_le64(bat, (uint64_t)BAT_AT | 6);
    open_fails(ms, VB_ERR_BAD_BAT_ENTRY);
    put_le64(bat, 5);
    open_fails(ms, VB_ERR_VHDX_BAT_STATE);
    put_le64(bat, 7);
    open_fails(ms, VB_ERR_VHDX_BAT_STATE);
    uint8_t z[4096] = { 0 };
    vb_source_write(&ms->src, DATA_AT + 2 * MIB - 4096, z, 4096); /* grows (and moves) the data */
    bat = ms->data + BAT_AT;
    put_le64(bat, (uint64_t)DATA_AT | 6);
    put_le64(bat + 8, (uint64_t)DATA_AT | 6);
    open_fails(ms, VB_ERR_BAD_BAT_ENTRY);
    /* ZERO, UNMAPPED, UNDEFINED and NOT_PRESENT read as zeros without a parent */
    put_le64(bat, (uint64_t)DATA_AT | 2);
    put_le64(bat + 8, 3);
    put_le64(bat + 16, 1);
    memset(ms->data + DATA_AT, 0x77, MIB);
    vb_layer *l = open_ok(ms, 0);
    uint8_t *back = malloc(4 * MIB);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, back, 4 * MIB), VB_OK);
    for (size_t i = 0; i < 4 * MIB; i++)
        assert_int_equal(back[i], 0);
    free(back);
    vb_layer_close(l);
    memsource_free(ms);
}

/* Builds a log entry of one data descriptor at log sector `at` (4 KiB
 * units) writing 4 KiB of `fill` at file offset target. */
static void put_log_entry(memsource *ms, uint32_t at, const uint8_t guid[16], uint64_t seq, uint32_t tail,
                          uint64_t target, uint8_t fill, uint64_t flushed)
{
    uint8_t *e = ms->data + LOG_AT + (size_t)at * 4096;
    memset(e, 0, 8192);
    memcpy(e, "loge", 4);
    vb_put_le32(e + 8, 8192);
    vb_put_le32(e + 12, tail * 4096);
    put_le64(e + 16, seq);
    vb_put_le32(e + 24, 1);
    memcpy(e + 32, guid, 16);
    put_le64(e + 48, flushed);
    put_le64(e + 56, ms->size);
    uint8_t *d = e + 64;
    memcpy(d, "desc", 4);
    memset(d + 4, fill, 4);  /* trailing bytes */
    memset(d + 8, fill, 8);  /* leading bytes */
    put_le64(d + 16, target);
    put_le64(d + 24, seq);
    uint8_t *ds = e + 4096;
    memcpy(ds, "data", 4);
    vb_put_le32(ds + 4, (uint32_t)(seq >> 32));
    memset(ds + 8, fill, 4084);
    vb_put_le32(ds + 4092, (uint32_t)seq);
    vb_put_le32(e + 4, vb_crc32c(e, 8192, 4));
}

/* Sets the LogGuid of both headers. */
static void set_log_guid(memsource *ms, const uint8_t guid[16])
{
    for (unsigned h = 0; h < 2; h++) {
        memcpy(ms->data + (h ? HDR2 : HDR1) + 48, guid, 16);
        fix_crc(ms, h ? HDR2 : HDR1, 4096);
    }
}

/* A dirty log: replayed in memory on a read-only open (file untouched),
 * stale entries with another GUID ignored, replayed on disk by a writable
 * open which then clears the LogGuid. */
static void test_log_replay(void **state)
{
    (void)state;
    static const uint8_t live[16] = { 0x11, 0x22, 0x33, 0x44, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const uint8_t stale[16] = { 0x99, 0x22, 0x33, 0x44, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    memsource *ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    /* block 0 allocated with 0x33 */
    vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE);
    uint8_t *buf = malloc(MIB);
    memset(buf, 0x33, MIB);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, buf, MIB), VB_OK);
    vb_layer_close(l);
    uint64_t block0 = vb_le64(ms->data + BAT_AT) & ~0xFFFFFull;
    /* a stale entry (other GUID, higher sequence) and the live one */
    put_log_entry(ms, 0, stale, 50, 0, block0 + 8192, 0xEE, 0);
    put_log_entry(ms, 2, live, 7, 2, block0 + 4096, 0x5A, ms->size);
    /* clean header: nothing replayed */
    l = open_ok(ms, 0);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 16384), VB_OK);
    for (unsigned i = 0; i < 16384; i++)
        assert_int_equal(buf[i], 0x33);
    vb_layer_close(l);
    set_log_guid(ms, live);
    uint8_t *before = memsource_copy(ms);
    size_t before_size = ms->size;
    memsource_reset_counters(ms);
    l = open_ok(ms, 0);
    const vb_vhdx_info *x = vb_layer_vhdx(l);
    assert_true(x->log_dirty && x->log_replayed_in_memory);
    assert_int_equal(x->log_entries_replayed, 1);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 16384), VB_OK);
    for (unsigned i = 0; i < 16384; i++)
        assert_int_equal(buf[i], i >= 4096 && i < 8192 ? 0x5A : 0x33);
    vb_layer_close(l);
    assert_int_equal(ms->writes, 0);
    assert_int_equal(ms->size, before_size);
    assert_memory_equal(ms->data, before, before_size);
    free(before);
    /* writable open: replayed into the file, log cleared */
    l = open_ok(ms, VB_OPEN_WRITABLE);
    assert_true(vb_layer_vhdx(l)->log_replayed_on_disk);
    vb_layer_close(l);
    assert_int_equal(ms->data[block0 + 4096], 0x5A);
    assert_int_equal(ms->data[block0 + 8192], 0x33);
    l = open_ok(ms, 0);
    assert_false(vb_layer_vhdx(l)->log_dirty);
    vb_layer_close(l);
    /* hostile: an entry writing outside the file, one over the headers, a log
     * that says the file was longer, a GUID no entry carries */
    memsource_free(ms);
    ms = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    put_log_entry(ms, 0, live, 3, 0, 1ull << 40, 0x5A, 0);
    set_log_guid(ms, live);
    open_fails(ms, VB_ERR_VHDX_LOG_ENTRY);
    put_log_entry(ms, 0, live, 3, 0, HDR1, 0x5A, 0);
    open_fails(ms, VB_ERR_VHDX_LOG_ENTRY);
    put_log_entry(ms, 0, live, 3, 0, DATA_AT, 0x5A, 1ull << 33);
    open_fails(ms, VB_ERR_VHDX_LOG_TRUNCATED);
    put_log_entry(ms, 0, stale, 3, 0, DATA_AT, 0x5A, 0);
    open_fails(ms, VB_ERR_VHDX_LOG);
    free(buf);
    memsource_free(ms);
}

/* ---- chains over an in-memory volume ---- */

#define MAX_FILES 8
struct volume {
    const char *paths[MAX_FILES];
    memsource *files[MAX_FILES];
    unsigned count;
};

static vb_status vol_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    memsource *ms = ctx;
    return ms->src.read(ms, off, buf, len);
}

/* vb_opener of the volume: read-only views of the memsources. */
static vb_status vol_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    struct volume *v = ctx;
    for (unsigned i = 0; i < v->count; i++)
        if (!strcmp(v->paths[i], path)) {
            memset(out, 0, sizeof(*out));
            out->size = v->files[i]->size;
            out->ctx = v->files[i];
            out->read = vol_read;
            out->write = writable ? v->files[i]->src.write : NULL;
            out->flush = v->files[i]->src.flush;
            return VB_OK;
        }
    return VB_ERR_NOT_FOUND;
}

/* Creates a differencing VHDX child of parent_ms (a VHDX) with relative path rel. */
static memsource *make_child(memsource *parent_ms, const char *rel, const uint8_t *guids)
{
    vb_layer *pl = open_ok(parent_ms, 0);
    vb_vhdx_info pinfo = *vb_layer_vhdx(pl);
    vb_layer_close(pl);
    memsource *ms = memsource_new(NULL, 0);
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = VB_DISK_DIFF;
    p.parent = &pinfo;
    p.parent_relative = rel;
    p.parent_absolute = "C:\\elsewhere\\gone.vhdx";
    p.block_size = MIB;
    p.guids = guids;
    vb_diag d = { 0 };
    if (vb_vhdx_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create child: %s", d.text);
    return ms;
}

static vb_status chain_open(struct volume *v, const char *path, vb_chain **c, vb_diag *d)
{
    vb_opener o = { v, vol_open };
    return vb_chain_open(&o, path, 0, c, d);
}

/* A 3-layer chain: reads come from the top-most layer holding a sector,
 * including partially present blocks; linkage, mixing and cycles refused. */
static void test_chain(void **state)
{
    (void)state;
    struct volume v = { { "\\vm\\base.vhdx", "\\vm\\mid.avhdx", "\\vm\\top.avhdx" }, { NULL }, 3 };
    memsource *base = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    vb_layer *l = open_ok(base, VB_OPEN_WRITABLE);
    uint8_t *buf = malloc(4 * MIB);
    memset(buf, 0xBA, 4 * MIB);
    assert_int_equal(vb_source_write(vb_layer_source(l), 0, buf, 4 * MIB), VB_OK);
    vb_layer_close(l);
    v.files[0] = base;
    memsource *mid = make_child(base, ".\\base.vhdx", guids_b);
    v.files[1] = mid;
    v.count = 2;
    /* mid gets 4 KiB at MIB + 512: its block 1 is filled from base around it */
    vb_chain *c;
    vb_diag d = { 0 };
    vb_opener o = { &v, vol_open };
    assert_int_equal(vb_chain_open(&o, "\\vm\\mid.avhdx", VB_OPEN_WRITABLE, &c, &d), VB_OK);
    memset(buf, 0x31, 4096);
    assert_int_equal(vb_source_write(vb_chain_source(c), MIB + 512, buf, 4096), VB_OK);
    vb_chain_close(c);
    memsource *top = make_child(mid, ".\\mid.avhdx", guids_a);
    v.files[2] = top;
    v.count = 3;
    /* hand-made PARTIALLY_PRESENT block 2 in top: bitmap block and payload appended */
    {
        size_t end = top->size;
        uint64_t bm = (end + MIB - 1) / MIB * MIB, pay = bm + MIB;
        uint8_t *zero = calloc(1, MIB);
        vb_source_write(&top->src, bm, zero, MIB);
        memset(zero, 0x70, MIB);
        vb_source_write(&top->src, pay, zero, MIB);
        free(zero);
        /* sectors 1 and 9 of block 2 present: bits LSB first */
        uint32_t bit0 = 2 * (MIB / 512); /* chunk-relative sector of block 2 */
        top->data[bm + (bit0 + 1) / 8] |= (uint8_t)(1u << ((bit0 + 1) % 8));
        top->data[bm + (bit0 + 9) / 8] |= (uint8_t)(1u << ((bit0 + 9) % 8));
        /* chunk ratio 2^23*512/1 MiB = 4096: bitmap entry at index 4096 */
        put_le64(top->data + BAT_AT + 2 * 8, pay | 7);
        put_le64(top->data + BAT_AT + 4096 * 8, bm | 6);
    }
    assert_int_equal(chain_open(&v, "\\vm\\top.avhdx", &c, &d), VB_OK);
    assert_int_equal(vb_chain_depth(c), 3);
    assert_int_equal(vb_source_read(vb_chain_source(c), 0, buf, 4 * MIB), VB_OK);
    for (size_t i = 0; i < 4 * MIB; i++) {
        uint8_t want = 0xBA;
        if (i >= MIB + 512 && i < MIB + 512 + 4096)
            want = 0x31;
        if (i >= 2 * MIB + 512 && i < 2 * MIB + 1024)
            want = 0x70;
        if (i >= 2 * MIB + 9 * 512 && i < 2 * MIB + 10 * 512)
            want = 0x70;
        if (buf[i] != want)
            fail_msg("byte %zu: 0x%02x, expected 0x%02x", i, buf[i], want);
    }
    vb_chain_close(c);
    /* the parent's DataWriteGuid changes: parent_linkage no longer matches */
    base->data[HDR2 + 32] ^= 1;
    fix_crc(base, HDR2, 4096);
    base->data[HDR1 + 32] ^= 1;
    fix_crc(base, HDR1, 4096);
    assert_int_equal(chain_open(&v, "\\vm\\top.avhdx", &c, &d), VB_ERR_VHDX_PARENT_LINKAGE);
    assert_non_null(strstr(d.text, "parent_linkage"));
    /* a VHD where the VHDX parent should be */
    memsource *vhd = memsource_new(NULL, 0);
    vb_create_params vp;
    memset(&vp, 0, sizeof(vp));
    vp.type = VB_DISK_DYNAMIC;
    vp.size = 4 * MIB;
    vp.uuid = guids_a;
    assert_int_equal(vb_vhd_create(&vhd->src, &vp, NULL), VB_OK);
    v.files[0] = vhd;
    assert_int_equal(chain_open(&v, "\\vm\\top.avhdx", &c, &d), VB_ERR_CHAIN_MIXED);
    v.files[0] = base;
    memsource_free(vhd);
    free(buf);
    memsource_free(base);
    memsource_free(mid);
    memsource_free(top);
}

/* Creates a differencing VHDX child of parent_ms with the given
 * relative_path and absolute_win32_path. */
static memsource *make_child_paths(memsource *parent_ms, const char *rel, const char *abs)
{
    vb_layer *pl = open_ok(parent_ms, 0);
    vb_vhdx_info pinfo = *vb_layer_vhdx(pl);
    vb_layer_close(pl);
    memsource *ms = memsource_new(NULL, 0);
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = VB_DISK_DIFF;
    p.parent = &pinfo;
    p.parent_relative = rel;
    p.parent_absolute = abs;
    p.block_size = MIB;
    p.guids = guids_b;
    vb_diag d = { 0 };
    if (vb_vhdx_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create child: %s", d.text);
    return ms;
}

/* Windows' view of a VHDX chain: a parent reached by relative_path or
 * absolute_win32_path is one Windows finds; one that only vhdboot's search
 * (the last component beside the child) finds is not, until set-parent
 * rewrites the locator. The message names the VHDX locator keys. */
static void test_windows_finds_parent(void **state)
{
    (void)state;
    memsource *base = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
    struct { const char *rel, *abs; bool found; } cases[3] = {
        { ".\\base.vhdx", "C:\\elsewhere\\gone.vhdx", true },
        { "..\\gone\\x.vhdx", "E:\\vm\\base.vhdx", true },
        { "..\\gone\\base.vhdx", "C:\\elsewhere\\base.vhdx", false },
    };
    for (unsigned i = 0; i < 3; i++) {
        memsource *child = make_child_paths(base, cases[i].rel, cases[i].abs);
        struct volume v = { { "\\vm\\base.vhdx", "\\vm\\child.avhdx" }, { base, child }, 2 };
        vb_chain *c;
        vb_diag d = { 0 };
        if (chain_open(&v, "\\vm\\child.avhdx", &c, &d) != VB_OK)
            fail_msg("case %u: %s", i, d.text);
        assert_string_equal(vb_chain_path(c, 1), "\\vm\\base.vhdx");
        vb_layer *l = vb_chain_layer(c, 0);
        if (vb_windows_finds_parent(l, vb_chain_path(c, 0), vb_chain_path(c, 1)) != cases[i].found)
            fail_msg("case %u (%s, %s): Windows %s find the parent", i, cases[i].rel, cases[i].abs,
                     cases[i].found ? "should" : "should not");
        assert_string_equal(vb_windows_locator_names(l), "relative_path/volume_path/absolute_win32_path");
        vb_chain_close(c);
        if (!cases[i].found) {
            /* what the warning tells the user to run: vhdtool set-parent */
            uint8_t fw[16] = { 0xF1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15, 16 };
            assert_int_equal(vb_vhdx_set_parent_paths(&child->src, "\\vm\\child.avhdx", ".\\base.vhdx",
                                                      "C:\\vm\\base.vhdx", fw, &d), VB_OK);
            assert_int_equal(chain_open(&v, "\\vm\\child.avhdx", &c, &d), VB_OK);
            assert_true(vb_windows_finds_parent(vb_chain_layer(c, 0), vb_chain_path(c, 0), vb_chain_path(c, 1)));
            vb_chain_close(c);
        }
        memsource_free(child);
    }
    memsource_free(base);
}

/* Crash cuts: a write into a new block of a dynamic VHDX and one into a
 * not-present block of a differencing VHDX stop after N file writes, for
 * every N; the file then opens and reads old or new data per sector, and
 * the same write afterwards gives exactly the new data. */
static void test_crash_cuts(void **state)
{
    (void)state;
    for (int diff = 0; diff < 2; diff++) {
        memsource *parent = diff ? make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_b) : NULL;
        if (parent) {
            vb_layer *pl = open_ok(parent, VB_OPEN_WRITABLE);
            uint8_t *p = malloc(4 * MIB);
            memset(p, 0x99, 4 * MIB);
            vb_source_write(vb_layer_source(pl), 0, p, 4 * MIB);
            free(p);
            vb_layer_close(pl);
        }
        memsource *orig = parent ? make_child(parent, ".\\p.vhdx", guids_a)
                                 : make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_a);
        uint8_t old_disk[8192], data[8192], back[8192];
        memset(data, 0x42, sizeof(data));
        memset(old_disk, parent ? 0x99 : 0, sizeof(old_disk));
        const uint64_t at = MIB + 4096 - 1000;
        unsigned completed = 0;
        for (long n = 0; n < 20 && !completed; n++) {
            memsource *ms = memsource_new(orig->data, orig->size);
            vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE);
            vb_layer *pw = parent ? open_ok(parent, 0) : NULL;
            if (pw)
                vb_layer_set_parent(l, vb_layer_source(pw));
            memsource_fail_after_writes(ms, n);
            vb_status st = vb_source_write(vb_layer_source(l), at, data, 5000);
            vb_layer_close(l);
            if (pw)
                vb_layer_close(pw);
            memsource_fail_after_writes(ms, -1);
            if (st == VB_OK)
                completed = 1;
            /* reopen read-only: must open and read old or new */
            vb_layer *r = open_ok(ms, 0);
            vb_layer *pr = parent ? open_ok(parent, 0) : NULL;
            if (pr)
                vb_layer_set_parent(r, vb_layer_source(pr));
            assert_int_equal(vb_source_read(vb_layer_source(r), at, back, 5000), VB_OK);
            bool all_old = memcmp(back, old_disk, 5000) == 0, all_new = memcmp(back, data, 5000) == 0;
            if (!all_old && !all_new)
                fail_msg("%s, cut after %ld writes: mixed data", diff ? "diff" : "dynamic", n);
            if (completed)
                assert_true(all_new);
            vb_layer_close(r);
            /* the same write again gives the new data */
            r = open_ok(ms, VB_OPEN_WRITABLE);
            if (pr)
                vb_layer_set_parent(r, vb_layer_source(pr));
            assert_int_equal(vb_source_write(vb_layer_source(r), at, data, 5000), VB_OK);
            assert_int_equal(vb_source_read(vb_layer_source(r), at, back, 5000), VB_OK);
            assert_memory_equal(back, data, 5000);
            vb_layer_close(r);
            if (pr)
                vb_layer_close(pr);
            memsource_free(ms);
        }
        assert_true(completed);
        memsource_free(orig);
        memsource_free(parent);
    }
}

/* Hand-makes block 1 of a differencing child PARTIALLY_PRESENT with every
 * other sector present (0x70), bitmap and payload appended to the file. */
static void make_partial_block(memsource *child)
{
    uint64_t bm = (child->size + MIB - 1) / MIB * MIB, pay = bm + MIB;
    uint8_t *buf = calloc(1, MIB);
    vb_source_write(&child->src, bm, buf, MIB);
    memset(buf, 0x70, MIB);
    vb_source_write(&child->src, pay, buf, MIB);
    free(buf);
    uint32_t first = MIB / 512; /* sectors of block 1 in the chunk */
    for (uint32_t s = 0; s < MIB / 512; s += 2)
        child->data[bm + (first + s) / 8] |= (uint8_t)(1u << ((first + s) % 8));
    put_le64(child->data + BAT_AT + 1 * 8, pay | 7);
    put_le64(child->data + BAT_AT + 4096 * 8, bm | 6);
}

/* Crash cuts of a write into a PARTIALLY_PRESENT block (data, flush, bitmap
 * bits) and of set-parent (headers, new locator item, table entry): after a
 * cut at every write count the file opens; every sector reads old or new
 * data; the parent locator is the old one or the new one. */
static void test_crash_cuts_partial_and_locator(void **state)
{
    (void)state;
    memsource *parent = make(VB_DISK_DYNAMIC, 4 * MIB, MIB, 512, guids_b);
    vb_layer *pl = open_ok(parent, VB_OPEN_WRITABLE);
    uint8_t *p = malloc(4 * MIB);
    memset(p, 0x99, 4 * MIB);
    vb_source_write(vb_layer_source(pl), 0, p, 4 * MIB);
    free(p);
    vb_layer_close(pl);
    memsource *orig = make_child(parent, ".\\p.vhdx", guids_a);
    make_partial_block(orig);
    const uint64_t at = MIB + 700;
    const size_t len = 3000;
    uint8_t data[3000], old_disk[3000], back[3000];
    memset(data, 0x42, sizeof(data));
    for (size_t i = 0; i < len; i++)
        old_disk[i] = ((at + i) / 512) % 2 == 0 ? 0x70 : 0x99;
    bool completed = false;
    for (long n = 0; n < 20 && !completed; n++) {
        memsource *ms = memsource_new(orig->data, orig->size);
        vb_layer *l = open_ok(ms, VB_OPEN_WRITABLE), *pr = open_ok(parent, 0);
        vb_layer_set_parent(l, vb_layer_source(pr));
        memsource_fail_after_writes(ms, n);
        completed = vb_source_write(vb_layer_source(l), at, data, len) == VB_OK;
        vb_layer_close(l);
        memsource_fail_after_writes(ms, -1);
        l = open_ok(ms, 0);
        vb_layer_set_parent(l, vb_layer_source(pr));
        assert_int_equal(vb_source_read(vb_layer_source(l), at, back, len), VB_OK);
        for (size_t s = 0; s < len; s += 1) {
            if (back[s] != data[s] && back[s] != old_disk[s])
                fail_msg("partial block, cut after %ld writes: byte %zu is 0x%02x", n, s, back[s]);
        }
        if (completed)
            assert_memory_equal(back, data, len);
        vb_layer_close(l);
        vb_layer_close(pr);
        memsource_free(ms);
    }
    assert_true(completed);
    /* set-parent */
    completed = false;
    static const uint8_t fw[16] = { 0xF0, 1, 2, 3, 4, 5, 6, 0x47, 0x88, 9, 10, 11, 12, 13, 14, 15 };
    for (long n = 0; n < 20 && !completed; n++) {
        memsource *ms = memsource_new(orig->data, orig->size);
        memsource_fail_after_writes(ms, n);
        vb_diag d = { 0 };
        completed = vb_vhdx_set_parent_paths(&ms->src, "\\t.avhdx", "..\\moved\\p.vhdx", "D:\\moved\\p.vhdx",
                                             fw, &d) == VB_OK;
        memsource_fail_after_writes(ms, -1);
        vb_layer *l = open_ok(ms, 0);
        const vb_vhdx_info *x = vb_layer_vhdx(l);
        bool old_loc = !strcmp(x->parent.relative_path, ".\\p.vhdx"),
             new_loc = !strcmp(x->parent.relative_path, "..\\moved\\p.vhdx") &&
                       !strcmp(x->parent.absolute_win32_path, "D:\\moved\\p.vhdx");
        if (!old_loc && !new_loc)
            fail_msg("set-parent, cut after %ld writes: relative_path '%s'", n, x->parent.relative_path);
        if (completed) {
            assert_true(new_loc);
            assert_memory_equal(x->file_write_guid, fw, 16);
        }
        assert_true(x->parent.has_linkage);
        vb_layer_close(l);
        memsource_free(ms);
    }
    assert_true(completed);
    memsource_free(orig);
    memsource_free(parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vector),
        cmocka_unit_test(test_4k_fields),
        cmocka_unit_test(test_dynamic_write_read),
        cmocka_unit_test(test_linear_layout),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_metadata_and_bat),
        cmocka_unit_test(test_log_replay),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_windows_finds_parent),
        cmocka_unit_test(test_crash_cuts),
        cmocka_unit_test(test_crash_cuts_partial_and_locator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
