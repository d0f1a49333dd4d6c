/* Unit tests: one VHD layer as a block source — fixed (incl. 511-byte
 * footer), dynamic, differencing reads, bitmap bit order, read coalescing,
 * footer-copy fallback. Images are made by vb_vhd_create; allocated blocks
 * are written by hand here so the reader is tested independently of the writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/vhd.h"
#include "memsource.h"

#define MIB (1024u * 1024u)
static const uint8_t child_uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t parent_uuid[16] = { 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF };

/* Byte of the child's own data at disk offset o (distinct from the parent's). */
static uint8_t child_byte(uint64_t o) { return (uint8_t)(o * 7 + 1 + (o >> 9)); }
/* Byte of the parent at disk offset o. */
static uint8_t parent_byte(uint64_t o) { return (uint8_t)(o * 13 + 5 + (o >> 9) * 3); }

/* Creates an image in a new memsource. */
static memsource *new_image(enum vb_disk_type type, uint64_t size, uint32_t block_size)
{
    memsource *ms = memsource_new(NULL, 0);
    vb_vhd_info parent = { 0 };
    parent.disk_size = size;
    memcpy(parent.uuid, parent_uuid, 16);
    parent.timestamp = 1234;
    vb_create_params p = { 0 };
    p.type = type;
    p.size = size;
    p.block_size = block_size;
    p.uuid = child_uuid;
    p.timestamp = 777;
    p.parent = &parent;
    p.parent_abs = "C:\\vms\\base.vhd";
    p.parent_rel = ".\\base.vhd";
    vb_diag d = { 0 };
    vb_status st = vb_vhd_create(&ms->src, &p, &d);
    if (st != VB_OK)
        fail_msg("create: %s", d.text);
    return ms;
}

/* A parent: a read-only-by-contract memsource of `size` bytes of parent_byte
 * whose every write fails (proves parents are never written). */
static memsource *new_parent(uint64_t size)
{
    uint8_t *buf = malloc(size);
    for (uint64_t o = 0; o < size; o++)
        buf[o] = parent_byte(o);
    memsource *ms = memsource_new(buf, size);
    free(buf);
    memsource_fail_after_writes(ms, 0);
    return ms;
}

static vb_layer *open_layer(memsource *ms, unsigned flags)
{
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    vb_status st = vb_layer_open(&ms->src, "\\t\\img.vhd", flags, &l, &d);
    if (st != VB_OK)
        fail_msg("open: %s", d.text);
    return l;
}

/* Allocates `block` by hand at the footer position: bitmap bytes from
 * `bitmap` (bitmap_len bytes, rest zero), data = child_byte of the disk
 * offsets; moves the footer; sets the BAT entry. Returns the block's file offset. */
static uint64_t hand_allocate(memsource *ms, uint32_t block, const uint8_t *bitmap, size_t bitmap_len)
{
    uint8_t footer[512], *hdr = ms->data + 512;
    uint64_t footer_at = ms->size - 512;
    memcpy(footer, ms->data + footer_at, 512);
    uint32_t bs = vb_be32(hdr + 32);
    uint64_t bat_offset = vb_be64(hdr + 16); /* hdr moves when the buffer grows */
    uint32_t bitmap_size = ((bs / 512 + 7) / 8 + 511) / 512 * 512;
    uint8_t *blk = calloc(1, bitmap_size + bs);
    memcpy(blk, bitmap, bitmap_len);
    for (uint32_t i = 0; i < bs; i++)
        blk[bitmap_size + i] = child_byte((uint64_t)block * bs + i);
    assert_int_equal(ms->src.write(ms, footer_at, blk, bitmap_size + bs), VB_OK);
    assert_int_equal(ms->src.write(ms, footer_at + bitmap_size + bs, footer, 512), VB_OK);
    uint8_t entry[4];
    vb_put_be32(entry, (uint32_t)(footer_at / 512));
    assert_int_equal(ms->src.write(ms, bat_offset + block * 4, entry, 4), VB_OK);
    free(blk);
    return footer_at;
}

static void test_fixed_reads_any_offset(void **state)
{
    (void)state;
    uint64_t size = 3 * MIB;
    memsource *ms = new_image(VB_DISK_FIXED, size, 0);
    assert_int_equal(ms->size, size + 512);
    for (uint64_t o = 0; o < size; o++)
        ms->data[o] = child_byte(o);
    vb_layer *l = open_layer(ms, 0);
    vb_source *src = vb_layer_source(l);
    assert_int_equal(src->size, size);
    assert_int_equal(vb_layer_info(l)->type, VB_DISK_FIXED);
    assert_true(vb_layer_sector_present(l, 5));
    assert_true(vb_layer_block_allocated(l, 5));
    assert_false(vb_layer_block_allocated(l, size / 512));
    uint8_t buf[5000];
    uint64_t offs[] = { 0, 1, 511, 513, 4095, MIB - 7, size - 5000 };
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        assert_int_equal(vb_source_read(src, offs[i], buf, sizeof(buf)), VB_OK);
        for (size_t j = 0; j < sizeof(buf); j++)
            assert_int_equal(buf[j], child_byte(offs[i] + j));
    }
    assert_int_equal(vb_source_read(src, size - 10, buf, 11), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(src->read(src->ctx, size, buf, 1), VB_ERR_OUT_OF_RANGE);
    assert_null(src->write);
    assert_int_equal(vb_source_write(src, 0, buf, 512), VB_ERR_WRITE_PROTECTED);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_short_footer(void **state)
{
    (void)state;
    uint64_t size = 3 * MIB;
    memsource *ms = new_image(VB_DISK_FIXED, size, 0);
    for (uint64_t o = 0; o < size; o++)
        ms->data[o] = child_byte(o);
    /* an old 511-byte footer: the last (reserved, zero) byte is missing */
    assert_int_equal(ms->data[ms->size - 1], 0);
    ms->size -= 1;
    ms->src.size = ms->size;
    vb_layer *l = open_layer(ms, 0);
    const vb_vhd_info *info = vb_layer_info(l);
    assert_true(info->short_footer);
    assert_int_equal(info->footer_offset, size);
    assert_int_equal(info->disk_size, size);
    uint8_t buf[1024];
    assert_int_equal(vb_source_read(vb_layer_source(l), size - 1024, buf, sizeof(buf)), VB_OK);
    for (size_t j = 0; j < sizeof(buf); j++)
        assert_int_equal(buf[j], child_byte(size - 1024 + j));
    vb_layer_close(l);
    /* a 511-byte file end that is not a footer is refused */
    ms->data[ms->size - 511] ^= 1;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "old.vhd", 0, &l, &d), VB_ERR_BAD_COOKIE);
    memsource_free(ms);
}

static void test_dynamic_unallocated_reads_zeros(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 8 * MIB, MIB);
    vb_layer *l = open_layer(ms, 0);
    const vb_vhd_info *info = vb_layer_info(l);
    assert_int_equal(info->block_size, MIB);
    assert_int_equal(info->bitmap_size, 512);
    assert_int_equal(info->allocated_blocks, 0);
    uint8_t *buf = malloc(8 * MIB);
    memset(buf, 0xAA, 8 * MIB);
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 8 * MIB), VB_OK);
    for (size_t i = 0; i < 8 * MIB; i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(ms->reads, 0);
    assert_false(vb_layer_sector_present(l, 0));
    free(buf);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_dynamic_allocated_block_trusts_data(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 4 * MIB, MIB);
    uint8_t none[1] = { 0 }; /* empty bitmap: dynamic disks read the data anyway (like QEMU) */
    hand_allocate(ms, 2, none, 1);
    vb_layer *l = open_layer(ms, 0);
    assert_int_equal(vb_layer_info(l)->allocated_blocks, 1);
    uint8_t buf[3000];
    uint64_t at = 2 * MIB - 1000; /* crosses from unallocated block 1 into block 2 */
    assert_int_equal(vb_source_read(vb_layer_source(l), at, buf, sizeof(buf)), VB_OK);
    for (size_t j = 0; j < sizeof(buf); j++)
        assert_int_equal(buf[j], at + j < 2 * MIB ? 0 : child_byte(at + j));
    assert_true(vb_layer_sector_present(l, 2 * MIB / 512));
    assert_false(vb_layer_sector_present(l, 2 * MIB / 512 - 1));
    assert_true(vb_layer_block_allocated(l, 3 * MIB / 512 - 1));
    assert_false(vb_layer_block_allocated(l, 2 * MIB / 512 - 1));
    assert_false(vb_layer_block_allocated(l, 4 * MIB / 512));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_bitmap_msb_first(void **state)
{
    (void)state;
    uint64_t size = 4 * MIB;
    memsource *ms = new_image(VB_DISK_DIFF, size, MIB);
    memsource *parent = new_parent(size);
    /* sector 0 (bit 0x80 of byte 0) and sector 15 (bit 0x01 of byte 1) present */
    uint8_t bitmap[2] = { 0x80, 0x01 };
    hand_allocate(ms, 1, bitmap, 2);
    vb_layer *l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    uint64_t base = MIB;
    uint8_t buf[16 * 512];
    assert_int_equal(vb_source_read(vb_layer_source(l), base, buf, sizeof(buf)), VB_OK);
    for (unsigned s = 0; s < 16; s++) {
        bool mine = s == 0 || s == 15;
        assert_int_equal(vb_layer_sector_present(l, base / 512 + s), mine);
        assert_true(vb_layer_block_allocated(l, base / 512 + s)); /* allocated, even where absent */
        for (unsigned j = 0; j < 512; j += 97) {
            uint64_t o = base + s * 512 + j;
            assert_int_equal(buf[s * 512 + j], mine ? child_byte(o) : parent_byte(o));
        }
    }
    assert_int_equal(parent->writes + parent->failed_writes, 0);
    vb_layer_close(l);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_diff_reads_parent_everywhere_absent(void **state)
{
    (void)state;
    uint64_t size = 4 * MIB;
    memsource *ms = new_image(VB_DISK_DIFF, size, 512 * 1024);
    memsource *parent = new_parent(size);
    uint8_t bitmap[128];
    for (unsigned i = 0; i < sizeof(bitmap); i++)
        bitmap[i] = (uint8_t)(i * 37 + 11);
    hand_allocate(ms, 3, bitmap, sizeof(bitmap));
    vb_layer *l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    uint8_t *buf = malloc(size);
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, size), VB_OK);
    for (uint64_t o = 0; o < size; o++) {
        uint64_t s = o / 512;
        bool mine = s / 1024 == 3 && (bitmap[(s % 1024) / 8] & (0x80 >> (s % 8)));
        if (buf[o] != (mine ? child_byte(o) : parent_byte(o)))
            fail_msg("offset %llu: got %u", (unsigned long long)o, buf[o]);
    }
    free(buf);
    vb_layer_close(l);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_missing_parent_is_an_error(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DIFF, 2 * MIB, MIB);
    uint8_t bitmap[1] = { 0xFF };
    hand_allocate(ms, 0, bitmap, 1);
    vb_layer *l = open_layer(ms, 0);
    uint8_t buf[4096];
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 4096), VB_OK);
    assert_int_equal(buf[100], child_byte(100));
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 4097), VB_ERR_PARENT_NOT_FOUND);
    assert_int_equal(vb_source_read(vb_layer_source(l), MIB, buf, 512), VB_ERR_PARENT_NOT_FOUND);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_coalesced_reads(void **state)
{
    (void)state;
    uint64_t size = 8 * MIB;
    memsource *ms = new_image(VB_DISK_DIFF, size, MIB);
    memsource *parent = new_parent(size);
    uint8_t bits[4] = { 0xF0, 0x0F, 0x00, 0x00 }; /* 0-3 mine, 4-11 parent, 12-15 mine, 16.. parent */
    hand_allocate(ms, 1, bits, sizeof(bits));
    uint8_t full[256]; /* 2048 sectors of a 1 MiB block */
    memset(full, 0xFF, sizeof(full));
    hand_allocate(ms, 5, full, sizeof(full));
    hand_allocate(ms, 6, full, sizeof(full)); /* adjacent in the file to block 5 */
    vb_layer *l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    vb_source *src = vb_layer_source(l);
    uint8_t *buf = malloc(4 * MIB);

    /* three unallocated blocks (2, 3, 4): one parent read, nothing from the file */
    memsource_reset_counters(ms);
    memsource_reset_counters(parent);
    assert_int_equal(vb_source_read(src, 2 * MIB, buf, 3 * MIB), VB_OK);
    assert_int_equal(parent->reads, 1);
    assert_int_equal(ms->reads, 0);

    /* block 1, sectors 0..31: bitmap load + 2 file runs, 2 parent runs */
    memsource_reset_counters(ms);
    memsource_reset_counters(parent);
    assert_int_equal(vb_source_read(src, MIB, buf, 32 * 512), VB_OK);
    assert_int_equal(ms->reads, 1 + 2);
    assert_int_equal(parent->reads, 2);
    for (unsigned s = 0; s < 32; s++) {
        bool mine = s < 4 || (s >= 12 && s < 16);
        uint64_t o = MIB + s * 512 + 3;
        assert_int_equal(buf[s * 512 + 3], mine ? child_byte(o) : parent_byte(o));
    }
    /* again: the bitmap is cached */
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_read(src, MIB, buf, 32 * 512), VB_OK);
    assert_int_equal(ms->reads, 2);

    /* from sector 16 of block 1 through blocks 2..4: one parent run across blocks */
    memsource_reset_counters(ms);
    memsource_reset_counters(parent);
    assert_int_equal(vb_source_read(src, MIB + 16 * 512, buf, 4 * MIB - 16 * 512), VB_OK);
    assert_int_equal(parent->reads, 1);
    assert_int_equal(ms->reads, 0);

    /* a fully present block: one file read for the whole block */
    memsource_reset_counters(ms);
    memsource_reset_counters(parent);
    assert_int_equal(vb_source_read(src, 5 * MIB, buf, MIB), VB_OK);
    assert_int_equal(ms->reads, 1 + 1); /* bitmap + data */
    assert_int_equal(parent->reads, 0);
    for (uint64_t i = 0; i < MIB; i += 4093)
        assert_int_equal(buf[i], child_byte(5 * MIB + i));

    /* blocks 5 and 6 are adjacent in the file, but block 6's bitmap sits
     * between their data: two file reads (plus block 6's bitmap) */
    memsource_reset_counters(ms);
    assert_int_equal(vb_source_read(src, 5 * MIB + MIB / 2, buf, MIB), VB_OK);
    assert_int_equal(ms->reads, 1 + 2);
    free(buf);
    vb_layer_close(l);
    memsource_free(parent);
    memsource_free(ms);
}

/* The bitmap cache keeps 128 bitmaps of 512 bytes: a second pass over 128
 * blocks reads only data; a cyclic pass over more blocks than that misses. */
static void test_bitmap_cache_size(void **state)
{
    (void)state;
    const uint32_t bs = 4096;
    memsource *ms = new_image(VB_DISK_DIFF, 1 * MIB, bs);
    memsource *parent = new_parent(1 * MIB);
    uint8_t full = 0xFF;
    for (uint32_t b = 0; b < 160; b++)
        hand_allocate(ms, b, &full, 1);
    vb_layer *l = open_layer(ms, 0);
    vb_layer_set_parent(l, &parent->src);
    vb_source *src = vb_layer_source(l);
    uint8_t buf[512];

    memsource_reset_counters(ms);
    for (uint32_t b = 0; b < 128; b++)
        assert_int_equal(vb_source_read(src, (uint64_t)b * bs, buf, sizeof buf), VB_OK);
    assert_int_equal(ms->reads, 128 * 2); /* bitmap + data each */
    memsource_reset_counters(ms);
    for (uint32_t b = 0; b < 128; b++) {
        assert_int_equal(vb_source_read(src, (uint64_t)b * bs, buf, sizeof buf), VB_OK);
        assert_int_equal(buf[7], child_byte((uint64_t)b * bs + 7));
    }
    assert_int_equal(ms->reads, 128); /* data only: every bitmap cached */

    /* 160 blocks in a cycle evict each other under LRU */
    for (uint32_t b = 0; b < 160; b++)
        assert_int_equal(vb_source_read(src, (uint64_t)b * bs, buf, sizeof buf), VB_OK);
    memsource_reset_counters(ms);
    for (uint32_t b = 0; b < 160; b++)
        assert_int_equal(vb_source_read(src, (uint64_t)b * bs, buf, sizeof buf), VB_OK);
    assert_int_equal(ms->reads, 160 * 2);
    assert_int_equal(parent->reads, 0);
    vb_layer_close(l);
    memsource_free(parent);
    memsource_free(ms);
}

static void test_dynamic_coalescing(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 8 * MIB, MIB);
    uint8_t none[1] = { 0 };
    hand_allocate(ms, 3, none, 1);
    vb_layer *l = open_layer(ms, 0);
    uint8_t *buf = malloc(6 * MIB);
    memsource_reset_counters(ms);
    /* blocks 0-2 zeros, block 3 data, blocks 4-5 zeros: one file read, no bitmap reads */
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, buf, 6 * MIB), VB_OK);
    assert_int_equal(ms->reads, 1);
    for (uint64_t i = 0; i < 6 * MIB; i += 511)
        assert_int_equal(buf[i], i / MIB == 3 ? child_byte(i) : 0);
    free(buf);
    vb_layer_close(l);
    memsource_free(ms);
}

/* A power loss while the file grew: the file ends in zeros where the new
 * footer should be. A read-only open refuses; a writable one rewrites the
 * footer from the copy (past every block) and says so in footer_repaired;
 * after that a plain open works and the data reads as before. */
static void test_missing_footer_repaired_by_writable_open(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 4 * MIB, MIB);
    uint8_t none[1] = { 0 };
    hand_allocate(ms, 0, none, 1);
    size_t old_size = ms->size;
    uint8_t zeros[4096] = { 0 };
    assert_int_equal(vb_source_write(&ms->src, old_size, zeros, sizeof(zeros)), VB_OK); /* size grew, bytes did not */
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\grown.vhd", 0, &l, &d), VB_ERR_BAD_COOKIE);
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\grown.vhd", VB_OPEN_WRITABLE, &l, &d), VB_OK);
    assert_true(vb_layer_info(l)->footer_repaired);
    assert_false(vb_layer_info(l)->footer_from_copy);
    vb_layer_close(l);
    assert_int_equal(ms->size, old_size + sizeof(zeros));
    assert_memory_equal(ms->data + ms->size - 512, ms->data, 512); /* the copy, in the last sector */
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\grown.vhd", 0, &l, &d), VB_OK);
    assert_false(vb_layer_info(l)->footer_repaired);
    uint8_t buf[1024];
    assert_int_equal(vb_source_read(vb_layer_source(l), 1000, buf, sizeof(buf)), VB_OK);
    for (size_t j = 0; j < sizeof(buf); j++)
        assert_int_equal(buf[j], child_byte(1000 + j));
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_footer_copy_fallback(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DYNAMIC, 4 * MIB, MIB);
    uint8_t none[1] = { 0 };
    hand_allocate(ms, 0, none, 1);
    ms->data[ms->size - 512 + 40] ^= 0x01; /* damage the trailing footer (original size) */
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "\\vms\\broken.vhd", 0, &l, &d), VB_ERR_FOOTER_CHECKSUM);
    assert_null(l);
    assert_non_null(strstr(d.text, "checksum"));
    assert_non_null(strstr(d.text, "\\vms\\broken.vhd"));
    /* writable opens do not fall back over a footer that is there but wrong */
    assert_int_equal(vb_layer_open(&ms->src, "b.vhd", VB_OPEN_WRITABLE | VB_OPEN_USE_FOOTER_COPY, &l, &d),
                     VB_ERR_FOOTER_CHECKSUM);
    assert_int_equal(vb_layer_open(&ms->src, "b.vhd", VB_OPEN_USE_FOOTER_COPY, &l, &d), VB_OK);
    const vb_vhd_info *info = vb_layer_info(l);
    assert_true(info->footer_from_copy);
    assert_int_equal(info->disk_size, 4 * MIB);
    assert_null(vb_layer_source(l)->write);
    uint8_t buf[1024];
    assert_int_equal(vb_source_read(vb_layer_source(l), 1000, buf, sizeof(buf)), VB_OK);
    for (size_t j = 0; j < sizeof(buf); j++)
        assert_int_equal(buf[j], child_byte(1000 + j));
    vb_layer_close(l);

    /* a fixed disk has no copy: the flag does not help */
    memsource *fx = new_image(VB_DISK_FIXED, MIB, 0);
    fx->data[fx->size - 1] ^= 0x80;
    assert_int_equal(vb_layer_open(&fx->src, "f.vhd", VB_OPEN_USE_FOOTER_COPY, &l, &d), VB_ERR_FOOTER_CHECKSUM);
    memsource_free(fx);
    memsource_free(ms);
}

static void test_locators_decoded(void **state)
{
    (void)state;
    memsource *ms = new_image(VB_DISK_DIFF, 2 * MIB, MIB);
    vb_layer *l = open_layer(ms, 0);
    const vb_vhd_info *info = vb_layer_info(l);
    assert_string_equal(info->parent_name, "C:\\vms\\base.vhd");
    assert_memory_equal(info->parent_uuid, parent_uuid, 16);
    assert_int_equal(info->parent_timestamp, 1234);
    assert_int_equal(vb_layer_locator_count(l), 2);
    bool ku = false, ru = false;
    for (unsigned i = 0; i < vb_layer_locator_count(l); i++) {
        const vb_locator *loc = vb_layer_locator(l, i);
        if (!strcmp(loc->code, "W2ku")) {
            ku = true;
            assert_string_equal(loc->path, "C:\\vms\\base.vhd");
        }
        if (!strcmp(loc->code, "W2ru")) {
            ru = true;
            assert_string_equal(loc->path, ".\\base.vhd");
        }
    }
    assert_true(ku && ru);
    assert_null(vb_layer_locator(l, 2));
    vb_layer_close(l);
    memsource_free(ms);
}

/* The real-world samples folder (tests/lib.sh's $SAMPLES). */
static const char *samples_dir(void)
{
    const char *dir = getenv("VHD_SAMPLES");
    return dir && *dir ? dir : "../shared/data/vhd-samples";
}

/* Skips the calling test when the samples folder is absent (genuinely
 * optional); fails it when the folder is there but the file could not be read. */
static void skip_without_samples(void)
{
    if (access(samples_dir(), R_OK) != 0) {
        print_message("# skipped: samples folder %s absent\n", samples_dir());
        skip();
    }
    fail_msg("a sample is missing from %s", samples_dir());
}

/* Loads a real-world sample into a memsource; NULL when it cannot be read. */
static memsource *load_sample(const char *file)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", samples_dir(), file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    memsource *ms = got == (size_t)size ? memsource_new_readonly(buf, got) : NULL;
    free(buf);
    return ms;
}

static void test_sample_windows_differencing(void **state)
{
    (void)state;
    memsource *ms = load_sample("fat-differential.vhd");
    if (!ms)
        skip_without_samples();
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "fat-differential.vhd", 0, &l, &d), VB_OK);
    const vb_vhd_info *info = vb_layer_info(l);
    assert_int_equal(info->type, VB_DISK_DIFF);
    assert_string_equal(info->creator_app, "win ");
    assert_int_equal(info->disk_size, 4 * MIB);
    assert_int_equal(info->block_size, 2 * MIB);
    assert_int_equal(info->allocated_blocks, 1);
    assert_int_equal(info->parent_timestamp, 0);
    /* sectors present per ../shared/data/vhd-samples/PROVENANCE.md (bitmap MSB first) */
    assert_true(vb_layer_sector_present(l, 134));
    assert_true(vb_layer_sector_present(l, 143));
    assert_true(vb_layer_sector_present(l, 152));
    assert_true(vb_layer_sector_present(l, 184));
    assert_false(vb_layer_sector_present(l, 0));
    assert_false(vb_layer_sector_present(l, 135));
    uint8_t sector[512];
    assert_int_equal(vb_source_read(vb_layer_source(l), 152 * 512, sector, 512), VB_OK);
    assert_memory_equal(sector, "TESTVOLUME", 10);
    /* without a parent, absent sectors cannot be read */
    assert_int_equal(vb_source_read(vb_layer_source(l), 0, sector, 512), VB_ERR_PARENT_NOT_FOUND);
    bool ku = false;
    for (unsigned i = 0; i < vb_layer_locator_count(l); i++)
        if (!strcmp(vb_layer_locator(l, i)->code, "W2ku")) {
            ku = true;
            assert_string_equal(vb_layer_locator(l, i)->path, "C:\\Projects\\dfvfs\\test_data\\fat-parent.vhd");
        }
    assert_true(ku);
    int problems = 0;
    assert_int_equal(vb_layer_check(l, NULL, &problems), VB_OK);
    vb_layer_close(l);
    memsource_free(ms);
}

static void test_sample_qemu_and_broken(void **state)
{
    (void)state;
    memsource *ms = load_sample("ext2.vhd");
    if (!ms)
        skip_without_samples();
    vb_layer *l = NULL;
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&ms->src, "ext2.vhd", 0, &l, &d), VB_OK);
    assert_int_equal(vb_layer_info(l)->disk_size, 4212736); /* CHS size of a "qemu" image */
    uint8_t sb[1024];
    assert_int_equal(vb_source_read(vb_layer_source(l), 1024, sb, sizeof(sb)), VB_OK);
    assert_int_equal(vb_le16(sb + 56), 0xEF53); /* ext2 superblock magic */
    vb_layer_close(l);
    memsource_free(ms);
    const char *broken[] = { "image.vhd", "image-differential.vhd" };
    for (int i = 0; i < 2; i++) {
        ms = load_sample(broken[i]);
        assert_non_null(ms);
        assert_int_equal(vb_layer_open(&ms->src, broken[i], 0, &l, &d), VB_ERR_FOOTER_CHECKSUM);
        assert_non_null(strstr(d.text, broken[i]));
        assert_non_null(strstr(d.text, "checksum"));
        memsource_free(ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_reads_any_offset),
        cmocka_unit_test(test_short_footer),
        cmocka_unit_test(test_dynamic_unallocated_reads_zeros),
        cmocka_unit_test(test_dynamic_allocated_block_trusts_data),
        cmocka_unit_test(test_bitmap_msb_first),
        cmocka_unit_test(test_diff_reads_parent_everywhere_absent),
        cmocka_unit_test(test_missing_parent_is_an_error),
        cmocka_unit_test(test_coalesced_reads),
        cmocka_unit_test(test_bitmap_cache_size),
        cmocka_unit_test(test_dynamic_coalescing),
        cmocka_unit_test(test_footer_copy_fallback),
        cmocka_unit_test(test_missing_footer_repaired_by_writable_open),
        cmocka_unit_test(test_locators_decoded),
        cmocka_unit_test(test_sample_windows_differencing),
        cmocka_unit_test(test_sample_qemu_and_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
