/* Unit tests: the walk over a chain's data ranges (format/data_walk.c),
 * and vb_layer_map (format/vhd_layer.c), which vhdtool attach splices
 * from: random requests resolved layer by layer through the map, with the
 * file bytes it names, equal the disk read through the top layer; a write
 * over a run the map calls marked changes exactly those file bytes. */
/* The walk:
 * Every chain is checked three ways: the ranges are ascending, maximal and
 * sector-aligned; a sector is inside a range exactly when some layer has it
 * (vb_layer_sector_present, one sector at a time); and zeroed memory with
 * only the ranges read into it equals the whole disk read through the top
 * layer (what the RAM-disk load relies on). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/data_walk.h"
#include "format/vhd.h"
#include "memsource.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define MAX_RANGES 4096u

static const uint8_t uuids[4][16] = {
    { 0xA0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 0xA1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 0xA2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 0xA3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
};

static uint32_t rng_state;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* A test chain: files and layers, top first. */
struct chain {
    memsource *files[4];
    vb_layer *layers[4];
    unsigned count;
    uint64_t size;
};

/* Adds a layer under construction at the bottom's place: creates an image of
 * type (a differencing one names the previous layer as parent) and opens it
 * writable. Layers are added bottom first; finish() puts them top first. */
static void add_layer(struct chain *c, enum vb_disk_type type, uint32_t block_size)
{
    unsigned i = c->count;
    memsource *ms = memsource_new(NULL, type == VB_DISK_FIXED ? (size_t)c->size : 0);
    vb_create_params p = { 0 };
    p.type = type;
    p.size = type == VB_DISK_DIFF ? 0 : c->size;
    p.block_size = block_size;
    p.uuid = uuids[i];
    p.timestamp = 7;
    if (type == VB_DISK_DIFF) {
        p.parent = vb_layer_info(c->layers[i - 1]);
        p.parent_abs = "\\vms\\parent.vhd";
        p.parent_rel = ".\\parent.vhd";
    }
    vb_diag d = { 0 };
    if (vb_vhd_create(&ms->src, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    vb_layer *l = NULL;
    if (vb_layer_open(&ms->src, "\\vms\\t.vhd", VB_OPEN_WRITABLE, &l, &d) != VB_OK)
        fail_msg("open: %s", d.text);
    if (i > 0)
        vb_layer_set_parent(l, vb_layer_source(c->layers[i - 1]));
    c->files[i] = ms;
    c->layers[i] = l;
    c->count++;
}

/* Puts the layers top first (the order vb_data_walk takes). */
static void finish(struct chain *c)
{
    for (unsigned i = 0; i < c->count / 2; i++) {
        vb_layer *l = c->layers[i];
        memsource *m = c->files[i];
        c->layers[i] = c->layers[c->count - 1 - i];
        c->files[i] = c->files[c->count - 1 - i];
        c->layers[c->count - 1 - i] = l;
        c->files[c->count - 1 - i] = m;
    }
}

static void free_chain(struct chain *c)
{
    for (unsigned i = 0; i < c->count; i++) {
        vb_layer_close(c->layers[i]);
        memsource_free(c->files[i]);
    }
}

/* Writes count random pieces (some unaligned, some across blocks) of random bytes into layer l. */
static void scribble(struct chain *c, unsigned l, unsigned count, uint32_t max_len)
{
    uint8_t *data = malloc(max_len + 512u); /* room for the rounding up below */
    for (unsigned n = 0; n < count; n++) {
        uint64_t len = 1 + rng() % max_len;
        uint64_t off = ((uint64_t)rng() * 613) % c->size;
        if (n % 2 == 0) {
            off &= ~511ull;
            len = (len + 511) & ~511ull;
        }
        if (off + len > c->size)
            len = c->size - off;
        for (uint64_t i = 0; i < len; i++)
            data[i] = (uint8_t)(rng() | 1); /* never zero: data is told from holes */
        assert_int_equal(vb_source_write(vb_layer_source(c->layers[l]), off, data, len), VB_OK);
    }
    free(data);
}

struct ranges {
    uint64_t off[MAX_RANGES], len[MAX_RANGES];
    unsigned n;
    unsigned stop_after;      /* non-zero: fn returns VB_ERR_IO on that call */
};

static vb_status collect(void *ctx, uint64_t offset, uint64_t length)
{
    struct ranges *r = ctx;
    if (r->stop_after && r->n + 1 == r->stop_after) {
        r->n++;
        return VB_ERR_IO;
    }
    assert_true(r->n < MAX_RANGES);
    r->off[r->n] = offset;
    r->len[r->n] = length;
    r->n++;
    return VB_OK;
}

/* Walks c and checks the three properties described at the top; returns the ranges in *r. */
static void walk_and_check(struct chain *c, struct ranges *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(vb_data_walk(c->layers, c->count, collect, r), VB_OK);
    /* shape */
    for (unsigned i = 0; i < r->n; i++) {
        assert_true(r->len[i] > 0);
        assert_int_equal(r->off[i] % 512, 0);
        assert_true(r->off[i] + r->len[i] <= c->size);
        assert_true((r->off[i] + r->len[i]) % 512 == 0 || r->off[i] + r->len[i] == c->size);
        if (i > 0)
            assert_true(r->off[i] > r->off[i - 1] + r->len[i - 1]); /* neither overlapping nor touching */
    }
    /* membership, sector by sector */
    uint64_t sectors = (c->size + 511) / 512;
    unsigned k = 0;
    for (uint64_t s = 0; s < sectors; s++) {
        bool present = false;
        for (unsigned l = 0; l < c->count && !present; l++)
            present = vb_layer_sector_present(c->layers[l], s);
        while (k < r->n && r->off[k] + r->len[k] <= s * 512)
            k++;
        bool inside = k < r->n && r->off[k] <= s * 512;
        if (present != inside)
            fail_msg("sector %llu: present %d, inside a range %d", (unsigned long long)s, present, inside);
    }
    /* zeroed memory + the ranges == the disk */
    uint8_t *disk = malloc(c->size), *loaded = calloc(1, c->size);
    assert_int_equal(vb_source_read(vb_layer_source(c->layers[0]), 0, disk, c->size), VB_OK);
    for (unsigned i = 0; i < r->n; i++)
        assert_int_equal(vb_source_read(vb_layer_source(c->layers[0]), r->off[i], loaded + r->off[i], r->len[i]),
                         VB_OK);
    assert_memory_equal(loaded, disk, c->size);
    free(disk);
    free(loaded);
}

static void empty_dynamic_has_no_data(void **state)
{
    (void)state;
    struct chain c = { .size = 3 * MIB };
    add_layer(&c, VB_DISK_DYNAMIC, 64 * KIB);
    finish(&c);
    struct ranges *r = malloc(sizeof *r);
    walk_and_check(&c, r);
    assert_int_equal(r->n, 0);
    free(r);
    free_chain(&c);
}

static void fixed_is_one_range(void **state)
{
    (void)state;
    struct chain c = { .size = 2 * MIB + 1536 };
    add_layer(&c, VB_DISK_FIXED, 0);
    add_layer(&c, VB_DISK_DIFF, 4 * KIB);
    finish(&c);
    scribble(&c, 0, 20, 9000);
    struct ranges *r = malloc(sizeof *r);
    walk_and_check(&c, r);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->off[0], 0);
    assert_int_equal(r->len[0], c.size);
    free(r);
    free_chain(&c);
}

static void dynamic_blocks_merge_and_split(void **state)
{
    (void)state;
    /* blocks 1, 2 and 5 of a 4 KiB-block disk whose last block is partial */
    struct chain c = { .size = 8 * 4096 + 1024 };
    add_layer(&c, VB_DISK_DYNAMIC, 4 * KIB);
    finish(&c);
    uint8_t b[512];
    memset(b, 0x5a, sizeof b);
    vb_source *src = vb_layer_source(c.layers[0]);
    assert_int_equal(vb_source_write(src, 1 * 4096 + 512, b, 512), VB_OK);
    assert_int_equal(vb_source_write(src, 2 * 4096, b, 512), VB_OK);
    assert_int_equal(vb_source_write(src, 5 * 4096 + 3584, b, 512), VB_OK);
    assert_int_equal(vb_source_write(src, 8 * 4096, b, 512), VB_OK); /* the partial last block */
    struct ranges *r = malloc(sizeof *r);
    walk_and_check(&c, r);
    /* a dynamic layer's allocated block is data as a whole (its reads ignore the bitmap) */
    assert_int_equal(r->n, 3);
    assert_int_equal(r->off[0], 4096);
    assert_int_equal(r->len[0], 2 * 4096);
    assert_int_equal(r->off[1], 5 * 4096);
    assert_int_equal(r->len[1], 4096);
    assert_int_equal(r->off[2], 8 * 4096);
    assert_int_equal(r->len[2], 1024);
    free(r);
    free_chain(&c);
}

static void differencing_bits_are_sector_exact(void **state)
{
    (void)state;
    struct chain c = { .size = 16 * 4096 };
    add_layer(&c, VB_DISK_DYNAMIC, 4 * KIB);
    add_layer(&c, VB_DISK_DIFF, 4 * KIB);
    finish(&c);
    uint8_t b[1024];
    memset(b, 0x77, sizeof b);
    /* top: sectors 3 and 4 of block 0, and 7 of block 0 + 0 of block 1 (touching across the block edge) */
    vb_source *top = vb_layer_source(c.layers[0]);
    assert_int_equal(vb_source_write(top, 3 * 512, b, 1024), VB_OK);
    assert_int_equal(vb_source_write(top, 7 * 512, b, 1024), VB_OK);
    /* base: block 10 */
    assert_int_equal(vb_source_write(vb_layer_source(c.layers[1]), 10 * 4096, b, 512), VB_OK);
    struct ranges *r = malloc(sizeof *r);
    walk_and_check(&c, r);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->off[0], 3 * 512);
    assert_int_equal(r->len[0], 2 * 512);
    assert_int_equal(r->off[1], 7 * 512);
    assert_int_equal(r->len[1], 2 * 512);
    assert_int_equal(r->off[2], 10 * 4096);
    assert_int_equal(r->len[2], 4096);
    free(r);
    free_chain(&c);
}

static void random_three_layer_chains(void **state)
{
    (void)state;
    static const uint32_t block_sizes[] = { 4 * KIB, 8 * KIB, 64 * KIB, 512 * KIB };
    struct ranges *r = malloc(sizeof *r);
    for (unsigned round = 0; round < 12; round++) {
        rng_state = 1000 + round;
        struct chain c = { .size = 2 * MIB + 512 * (rng() % 64) };
        /* the bottom is fixed in some rounds; layer block sizes differ */
        add_layer(&c, round % 4 == 3 ? VB_DISK_FIXED : VB_DISK_DYNAMIC, block_sizes[rng() % 4]);
        add_layer(&c, VB_DISK_DIFF, block_sizes[rng() % 4]);
        add_layer(&c, VB_DISK_DIFF, block_sizes[rng() % 4]);
        /* layers are written bottom first so each child overrides its parent */
        scribble(&c, 0, round % 4 == 3 ? 0 : 6, 40000);
        scribble(&c, 1, 8, 12000);
        scribble(&c, 2, 8, 3000);
        finish(&c);
        walk_and_check(&c, r);
        free_chain(&c);
    }
    free(r);
}

/* Resolves len bytes at off through c's layers with vb_layer_map into dst
 * (file bytes or zeros). */
static void map_read(struct chain *c, uint64_t off, uint64_t len, uint8_t *dst)
{
    while (len > 0) {
        uint64_t piece = len;
        unsigned l = 0;
        vb_map m;
        for (;;) {
            assert_int_equal(vb_layer_map(c->layers[l], off, piece, 0, &m), VB_OK);
            assert_true(m.len > 0 && m.len <= piece);
            piece = m.len;
            if (m.kind != VB_MAP_PARENT)
                break;
            l++;
            assert_true(l < c->count); /* the base never sends a read further */
        }
        if (m.kind == VB_MAP_FILE) {
            assert_true(m.file_offset + piece <= c->files[l]->size);
            memcpy(dst, c->files[l]->data + m.file_offset, piece);
        } else {
            memset(dst, 0, piece);
        }
        off += piece;
        len -= piece;
        dst += piece;
    }
}

static void map_resolves_like_reads(void **state)
{
    (void)state;
    static const uint32_t block_sizes[] = { 4 * KIB, 8 * KIB, 64 * KIB, 512 * KIB };
    for (unsigned round = 0; round < 8; round++) {
        rng_state = 2000 + round;
        struct chain c = { .size = 2 * MIB + 512 * (rng() % 64) };
        add_layer(&c, round % 4 == 3 ? VB_DISK_FIXED : VB_DISK_DYNAMIC, block_sizes[rng() % 4]);
        add_layer(&c, VB_DISK_DIFF, block_sizes[rng() % 4]);
        add_layer(&c, VB_DISK_DIFF, block_sizes[rng() % 4]);
        scribble(&c, 0, round % 4 == 3 ? 0 : 6, 40000);
        scribble(&c, 1, 8, 12000);
        scribble(&c, 2, 8, 3000);
        finish(&c);
        uint8_t *want = malloc(c.size), *got = malloc(c.size);
        assert_int_equal(vb_source_read(vb_layer_source(c.layers[0]), 0, want, c.size), VB_OK);
        map_read(&c, 0, c.size, got);
        assert_memory_equal(got, want, c.size);
        for (unsigned n = 0; n < 200; n++) {
            uint64_t off = rng() % c.size, len = 1 + rng() % 70000;
            if (n % 2 == 0)
                off &= ~511ull;
            if (len > c.size - off)
                len = c.size - off;
            map_read(&c, off, len, got);
            assert_memory_equal(got, want + off, len);
        }
        /* a write over a marked run changes the file's bytes there and nothing else */
        unsigned marked = 0;
        for (unsigned n = 0; n < 200; n++) {
            uint64_t off = (rng() % c.size) & ~511ull, len = 512 * (1 + rng() % 40);
            if (len > c.size - off)
                continue;
            if (n % 2 == 0) { /* half the probes over sectors just written (marked by the write) */
                uint8_t *fill = malloc(len);
                memset(fill, 0x5A, len);
                assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), off, fill, len), VB_OK);
                free(fill);
            }
            vb_map m;
            assert_int_equal(vb_layer_map(c.layers[0], off, len, VB_MAP_BITMAP, &m), VB_OK);
            if (m.kind != VB_MAP_FILE || !m.marked)
                continue;
            marked++;
            memsource *f = c.files[0];
            size_t before_size = f->size;
            uint8_t *before = malloc(f->size), *data = malloc(m.len);
            memcpy(before, f->data, f->size);
            for (uint64_t i = 0; i < m.len; i++)
                data[i] = (uint8_t)(rng() | 1);
            assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), off, data, m.len), VB_OK);
            assert_int_equal(f->size, before_size);
            memcpy(before + m.file_offset, data, m.len);
            assert_memory_equal(f->data, before, f->size);
            free(before);
            free(data);
        }
        assert_true(marked > 0);
        free(want);
        free(got);
        free_chain(&c);
    }
}

static void map_refuses_out_of_range(void **state)
{
    (void)state;
    struct chain c = { .size = 1 * MIB };
    add_layer(&c, VB_DISK_DYNAMIC, 64 * KIB);
    finish(&c);
    vb_map m;
    assert_int_equal(vb_layer_map(c.layers[0], 0, 0, 0, &m), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_layer_map(c.layers[0], MIB - 512, 1024, 0, &m), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_layer_map(c.layers[0], 64 * KIB - 512, 4096, 0, &m), VB_OK);
    assert_int_equal(m.kind, VB_MAP_ZERO);
    assert_int_equal(m.len, 512); /* a run ends at its block's end */
    free_chain(&c);
}

static void huge_sparse_disk_is_walked_by_blocks(void **state)
{
    (void)state;
    /* 2040 GiB, 2 MiB blocks (1,044,480 table entries), three blocks written */
    struct chain c = { .size = VB_MAX_DISK_SIZE };
    add_layer(&c, VB_DISK_DYNAMIC, 2 * MIB);
    add_layer(&c, VB_DISK_DIFF, 2 * MIB);
    finish(&c);
    uint8_t b[512];
    memset(b, 1, sizeof b);
    assert_int_equal(vb_source_write(vb_layer_source(c.layers[1]), 5ull * MIB, b, 512), VB_OK);
    assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), 700ull << 30, b, 512), VB_OK);
    assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), VB_MAX_DISK_SIZE - 512, b, 512), VB_OK);
    memsource_reset_counters(c.files[0]);
    memsource_reset_counters(c.files[1]);
    struct ranges *r = malloc(sizeof *r);
    memset(r, 0, sizeof *r);
    assert_int_equal(vb_data_walk(c.layers, c.count, collect, r), VB_OK);
    assert_int_equal(r->n, 3);
    assert_int_equal(r->off[0], 4ull * MIB); /* the base's whole dynamic block */
    assert_int_equal(r->len[0], 2ull * MIB);
    assert_int_equal(r->off[1], 700ull << 30);
    assert_int_equal(r->len[1], 512);
    assert_int_equal(r->off[2], VB_MAX_DISK_SIZE - 512);
    assert_int_equal(r->len[2], 512);
    /* no data was read, only cached bitmaps (none at all from the base) */
    assert_true(c.files[0]->reads <= 2);
    assert_int_equal(c.files[1]->reads, 0);
    free(r);
    free_chain(&c);
}

static void callback_status_stops_the_walk(void **state)
{
    (void)state;
    struct chain c = { .size = 16 * 4096 };
    add_layer(&c, VB_DISK_DYNAMIC, 4 * KIB);
    finish(&c);
    uint8_t b[512] = { 1 };
    for (unsigned i = 0; i < 16; i += 2)
        assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), i * 4096, b, 512), VB_OK);
    struct ranges *r = malloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->stop_after = 3;
    assert_int_equal(vb_data_walk(c.layers, c.count, collect, r), VB_ERR_IO);
    assert_int_equal(r->n, 3);
    free(r);
    free_chain(&c);
}

static void unreadable_bitmap_is_an_error(void **state)
{
    (void)state;
    struct chain c = { .size = 16 * 4096 };
    add_layer(&c, VB_DISK_DYNAMIC, 4 * KIB);
    add_layer(&c, VB_DISK_DIFF, 4 * KIB);
    finish(&c);
    uint8_t b[512] = { 1 };
    assert_int_equal(vb_source_write(vb_layer_source(c.layers[0]), 9 * 4096, b, 512), VB_OK);
    /* reopen the top read-only (no cached bitmaps), then cut its file short */
    vb_layer_close(c.layers[0]);
    vb_diag d = { 0 };
    assert_int_equal(vb_layer_open(&c.files[0]->src, "\\vms\\t.vhd", 0, &c.layers[0], &d), VB_OK);
    c.files[0]->size = c.files[0]->src.size = 3 * 512 + 1024; /* the bitmap now lies past the end */
    struct ranges *r = malloc(sizeof *r);
    memset(r, 0, sizeof *r);
    assert_int_not_equal(vb_data_walk(c.layers, c.count, collect, r), VB_OK);
    assert_int_equal(r->n, 0);
    free(r);
    free_chain(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_dynamic_has_no_data),
        cmocka_unit_test(fixed_is_one_range),
        cmocka_unit_test(dynamic_blocks_merge_and_split),
        cmocka_unit_test(differencing_bits_are_sector_exact),
        cmocka_unit_test(random_three_layer_chains),
        cmocka_unit_test(huge_sparse_disk_is_walked_by_blocks),
        cmocka_unit_test(callback_status_stops_the_walk),
        cmocka_unit_test(unreadable_bitmap_is_an_error),
        cmocka_unit_test(map_resolves_like_reads),
        cmocka_unit_test(map_refuses_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
