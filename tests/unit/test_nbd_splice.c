/* Unit tests: vhdtool attach's splice data path (tools/nbd_splice.c) on
 * host files, without NBD: a 3-layer chain of real files (dynamic base with
 * unallocated blocks, two differencing layers) is written at random
 * places; random reads mapped with vt_splice_map_read and moved into the
 * pipe with vt_splice_fill read back exactly what the top layer's own read
 * returns (file pieces of every layer and zeros); a write into marked
 * sectors moves from a socket into the top file with vt_splice_from_socket
 * and changes exactly the mapped bytes; writes the core must handle (new
 * block, unmarked sectors, unaligned) are refused by vt_splice_map_write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "format/vhd.h"
#include "tools/host_file.h"
/* the module under test, compiled into this program */
#include "tools/nbd_splice.c"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define DISK (12u * MIB)

static uint32_t rng_state = 77;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* The chain under test: files and layers, top first. */
struct chain {
    char dir[64];
    vb_source files[3];
    vb_layer *layers[3];
};

/* Creates and opens layer i (2 = base, dynamic; 1, 0 = differencing over the next). */
static void make_layer(struct chain *c, unsigned i, uint32_t block_size)
{
    static const uint8_t uuids[3][16] = { { 0xB0, 1 }, { 0xB1, 2 }, { 0xB2, 3 } };
    char path[128];
    snprintf(path, sizeof path, "%s/l%u.vhd", c->dir, i);
    vb_source out;
    assert_int_equal(host_file_create(path, &out), VB_OK);
    vb_create_params p = { 0 };
    p.type = i == 2 ? VB_DISK_DYNAMIC : VB_DISK_DIFF;
    p.size = i == 2 ? DISK : 0;
    p.block_size = block_size;
    p.uuid = uuids[i];
    p.timestamp = 9;
    if (i < 2) {
        p.parent = vb_layer_info(c->layers[i + 1]);
        p.parent_abs = "\\t\\parent.vhd";
        p.parent_rel = ".\\parent.vhd";
    }
    vb_diag d = { 0 };
    if (vb_vhd_create(&out, &p, &d) != VB_OK)
        fail_msg("create: %s", d.text);
    vb_source_close(&out);
    assert_int_equal(host_file_open(path, true, &c->files[i]), VB_OK);
    if (vb_layer_open(&c->files[i], path, VB_OPEN_WRITABLE, &c->layers[i], &d) != VB_OK)
        fail_msg("open: %s", d.text);
    if (i < 2)
        vb_layer_set_parent(c->layers[i], vb_layer_source(c->layers[i + 1]));
}

/* Writes count random sector-aligned pieces of random non-zero bytes into layer i. */
static void scribble(struct chain *c, unsigned i, unsigned count, uint32_t max_len)
{
    uint8_t *data = malloc(max_len);
    for (unsigned n = 0; n < count; n++) {
        uint64_t len = 512 * (1 + rng() % (max_len / 512));
        uint64_t off = 512 * ((uint64_t)rng() % (DISK / 512));
        if (off + len > DISK)
            len = DISK - off;
        for (uint64_t k = 0; k < len; k++)
            data[k] = (uint8_t)(rng() | 1);
        assert_int_equal(vb_source_write(vb_layer_source(c->layers[i]), off, data, len), VB_OK);
    }
    free(data);
}

static struct chain *chain_new(void)
{
    struct chain *c = calloc(1, sizeof *c);
    strcpy(c->dir, "/tmp/vhdboot-splice.XXXXXX");
    assert_non_null(mkdtemp(c->dir));
    make_layer(c, 2, 256 * KIB);
    make_layer(c, 1, 64 * KIB);
    make_layer(c, 0, 512 * KIB);
    /* the base keeps most of its blocks unallocated: zeros in the middle of reads */
    for (unsigned b = 0; b < DISK / (256 * KIB); b += 3) {
        uint8_t *blk = malloc(256 * KIB);
        memset(blk, 0x11 + b, 256 * KIB);
        assert_int_equal(vb_source_write(vb_layer_source(c->layers[2]), (uint64_t)b * 256 * KIB, blk, 256 * KIB),
                         VB_OK);
        free(blk);
    }
    scribble(c, 1, 12, 90000);
    scribble(c, 0, 12, 40000);
    return c;
}

static void chain_free(struct chain *c)
{
    char path[128];
    for (unsigned i = 0; i < 3; i++) {
        vb_layer_close(c->layers[i]);
        vb_source_close(&c->files[i]);
        snprintf(path, sizeof path, "%s/l%u.vhd", c->dir, i);
        unlink(path);
    }
    rmdir(c->dir);
    free(c);
}

/* Reads exactly len bytes from fd. */
static void read_exact(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
}

/* Sends len bytes of data into a socket pair and moves them with
 * vt_splice_from_socket into the segments, which must succeed. */
static void splice_payload(vt_splice *sp, const uint8_t *data, size_t len, const vt_splice_seg *segs, unsigned count)
{
    int pair[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    int room = 1 << 20;
    setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
    assert_int_equal(write(pair[0], data, len), (ssize_t)len);
    assert_int_equal(vt_splice_from_socket(sp, pair[1], segs, count), 0);
    close(pair[0]);
    close(pair[1]);
}

static void reads_through_the_pipe_equal_the_chain(void **state)
{
    (void)state;
    struct chain *c = chain_new();
    vt_splice sp;
    assert_int_equal(vt_splice_init(&sp, c->layers, 3, true), 0);
    uint8_t *want = malloc(MIB), *got = malloc(MIB);
    unsigned zero_pieces = 0, multi_layer = 0;
    for (unsigned n = 0; n < 150; n++) {
        uint64_t len = 512 * (1 + rng() % (MIB / 512));
        if (len > sp.max)
            len = sp.max; /* the pipe holds no more (an unprivileged run gets a small one) */
        uint64_t off = 512 * ((uint64_t)rng() % ((DISK - len) / 512 + 1));
        vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
        unsigned count = vt_splice_map_read(&sp, off, len, segs);
        if (count == 0)
            continue; /* more pieces than VT_SPLICE_MAX_SEGS: the core copies it */
        uint64_t total = 0;
        int fds_seen = 0;
        for (unsigned i = 0; i < count; i++) {
            total += segs[i].len;
            zero_pieces += segs[i].fd < 0;
            for (unsigned l = 0; l < 3; l++)
                if (segs[i].fd == sp.fds[l])
                    fds_seen |= 1 << l;
        }
        assert_int_equal(total, len);
        multi_layer += fds_seen != 0 && (fds_seen & (fds_seen - 1)) != 0;
        assert_int_equal(vt_splice_fill(&sp, segs, count), 0);
        read_exact(sp.pipe_r, got, len);
        assert_int_equal(vb_source_read(vb_layer_source(c->layers[0]), off, want, len), VB_OK);
        assert_memory_equal(got, want, len);
    }
    assert_true(zero_pieces > 0);
    assert_true(multi_layer > 0);
    free(want);
    free(got);
    vt_splice_close(&sp);
    chain_free(c);
}

static void write_into_marked_sectors_changes_only_them(void **state)
{
    (void)state;
    struct chain *c = chain_new();
    vt_splice sp;
    assert_int_equal(vt_splice_init(&sp, c->layers, 3, true), 0);
    const uint64_t off = 3 * MIB + 512, len = 96 * KIB;
    uint8_t *data = malloc(len), *back = malloc(len);
    vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
    /* refused while the top layer lacks the block, then while it lacks half
     * the sectors' bits (a new block or new bits: the core's job) */
    assert_int_equal(vt_splice_map_write(&sp, off, len, segs), 0);
    memset(data, 0x3C, len);
    assert_int_equal(vb_source_write(vb_layer_source(c->layers[0]), off, data, len / 2), VB_OK);
    assert_int_equal(vt_splice_map_write(&sp, off, len, segs), 0);
    assert_int_equal(vb_source_write(vb_layer_source(c->layers[0]), off, data, len), VB_OK);
    /* below the floor, unaligned, or read-only: refused */
    assert_int_equal(vt_splice_map_write(&sp, off, 4096, segs), 0);
    assert_int_equal(vt_splice_map_write(&sp, off + 1, len - 512, segs), 0);
    sp.top_writable = false;
    assert_int_equal(vt_splice_map_write(&sp, off, len, segs), 0);
    sp.top_writable = true;
    unsigned count = vt_splice_map_write(&sp, off, len, segs);
    assert_true(count > 0);
    /* a dynamic top: the core gives a new block every bitmap bit (its
     * unwritten sectors are zeros either way), so after a 512-byte write the
     * rest of that block is spliced too */
    vt_splice base;
    assert_int_equal(vt_splice_init(&base, c->layers + 2, 1, true), 0);
    assert_int_equal(vb_source_write(vb_layer_source(c->layers[2]), 256 * KIB, data, 512), VB_OK);
    vt_splice_seg other[VT_SPLICE_MAX_SEGS];
    assert_int_equal(vt_splice_map_write(&base, 256 * KIB + 512, 64 * KIB, other), 1);
    assert_int_equal(vt_splice_map_write(&base, 0, 64 * KIB, other), 1); /* a block written whole */
    vt_splice_close(&base);
    /* the file as it is, and as it must be after the write */
    int fd = sp.fds[0];
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t *before = malloc((size_t)size), *after = malloc((size_t)size);
    assert_int_equal(pread(fd, before, (size_t)size, 0), size);
    for (uint64_t k = 0; k < len; k++)
        data[k] = (uint8_t)(rng() | 1);
    uint64_t at = 0;
    for (unsigned i = 0; i < count; i++) {
        memcpy(before + segs[i].at, data + at, segs[i].len);
        at += segs[i].len;
    }
    splice_payload(&sp, data, len, segs, count);
    assert_int_equal(pread(fd, after, (size_t)size, 0), size);
    assert_int_equal(lseek(fd, 0, SEEK_END), size);
    assert_memory_equal(after, before, (size_t)size);
    assert_int_equal(vb_source_read(vb_layer_source(c->layers[0]), off, back, len), VB_OK);
    assert_memory_equal(back, data, len);
    free(before);
    free(after);
    free(data);
    free(back);
    vt_splice_close(&sp);
    chain_free(c);
}

/* With write-back on the top layer, a write over a block the top lacks and
 * over sectors without bits is placed (vt_splice_place_write), spliced and
 * marked: the chain then reads the new data there and the old everywhere
 * else, and so does the file reopened after the flush. */
static void placed_write_reads_back(void **state)
{
    (void)state;
    struct chain *c = chain_new();
    vt_splice sp;
    assert_int_equal(vt_splice_init(&sp, c->layers, 3, true), 0);
    vb_source *top = vb_layer_source(c->layers[0]);
    const uint64_t off = 5 * MIB - 64 * KIB, len = 192 * KIB; /* across a block boundary */
    uint8_t *want = malloc(DISK), *got = malloc(DISK), *data = malloc(len);
    assert_int_equal(vb_source_read(top, 0, want, DISK), VB_OK);
    vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
    assert_int_equal(vt_splice_place_write(&sp, off, len, segs), 0); /* without write-back: the core's job */
    vb_layer_set_write_back(c->layers[0], true);
    assert_int_equal(vt_splice_map_write(&sp, off, len, segs), 0);
    unsigned count = vt_splice_place_write(&sp, off, len, segs);
    assert_true(count > 0);
    assert_int_equal(vb_source_read(top, 0, got, DISK), VB_OK);
    assert_memory_equal(got, want, DISK); /* placed, nothing marked: reads as before */
    for (uint64_t k = 0; k < len; k++)
        data[k] = (uint8_t)(rng() | 1);
    splice_payload(&sp, data, len, segs, count);
    assert_int_equal(vb_layer_mark(c->layers[0], off, len), VB_OK);
    memcpy(want + off, data, len);
    assert_int_equal(vb_source_read(top, 0, got, DISK), VB_OK);
    assert_memory_equal(got, want, DISK);
    assert_int_equal(vb_source_flush(top), VB_OK);
    /* the file as the next open sees it */
    char path[128];
    snprintf(path, sizeof path, "%s/l0.vhd", c->dir);
    vb_source file;
    vb_layer *again = NULL;
    vb_diag d = { 0 };
    assert_int_equal(host_file_open(path, false, &file), VB_OK);
    assert_int_equal(vb_layer_open(&file, path, 0, &again, &d), VB_OK);
    vb_layer_set_parent(again, vb_layer_source(c->layers[1]));
    assert_int_equal(vb_source_read(vb_layer_source(again), 0, got, DISK), VB_OK);
    assert_memory_equal(got, want, DISK);
    vb_layer_close(again);
    vb_source_close(&file);
    free(want);
    free(got);
    free(data);
    vt_splice_close(&sp);
    chain_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_through_the_pipe_equal_the_chain),
        cmocka_unit_test(write_into_marked_sectors_changes_only_them),
        cmocka_unit_test(placed_write_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
