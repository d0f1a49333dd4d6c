/* vhdboot tests: the byte window over a whole-block device (fs/disk_window.c)
 * that the firmware uses to read and write host extents straight through
 * the disk's BlockIO. A simulated device refuses, like a firmware BlockIO,
 * any request that is not whole blocks inside the disk or whose buffer is
 * not aligned to its IoAlign; reads and writes at odd offsets and lengths,
 * from buffers at odd addresses, must still land on the right bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fs/disk_window.h"

#define DISK_BYTES (1024u * 1024u)

typedef struct sim_disk {
    uint8_t bytes[DISK_BYTES];
    uint32_t block_size, io_align;
    unsigned reads, writes, flushes, closes;
    unsigned refused;           /* requests a firmware would have refused */
    unsigned fail_after;        /* requests that succeed before every one fails (UINT32_MAX: never) */
} sim_disk;

static sim_disk disk;

/* Checks a request as a BlockIO does; returns false (and counts) when refused. */
static bool request_ok(uint64_t lba, const void *buf, size_t len)
{
    bool ok = len % disk.block_size == 0 && lba <= DISK_BYTES / disk.block_size &&
              len / disk.block_size <= DISK_BYTES / disk.block_size - lba &&
              (disk.io_align <= 1 || (uintptr_t)buf % disk.io_align == 0);
    if (!ok)
        disk.refused++;
    return ok;
}

static vb_status sim_read(void *ctx, uint64_t lba, void *buf, size_t len)
{
    assert_ptr_equal(ctx, &disk);
    if (disk.reads + disk.writes >= disk.fail_after)
        return VB_ERR_IO;
    disk.reads++;
    if (!request_ok(lba, buf, len))
        return VB_ERR_INVALID_ARG;
    memcpy(buf, disk.bytes + lba * disk.block_size, len);
    return VB_OK;
}

static vb_status sim_write(void *ctx, uint64_t lba, const void *buf, size_t len)
{
    (void)ctx;
    if (disk.reads + disk.writes >= disk.fail_after)
        return VB_ERR_IO;
    disk.writes++;
    if (!request_ok(lba, buf, len))
        return VB_ERR_INVALID_ARG;
    memcpy(disk.bytes + lba * disk.block_size, buf, len);
    return VB_OK;
}

static vb_status sim_flush(void *ctx)
{
    (void)ctx;
    disk.flushes++;
    return VB_OK;
}

static void sim_close(void *ctx)
{
    (void)ctx;
    disk.closes++;
}

/* Fills the disk with a position pattern and opens a window of size bytes
 * from block first on (block_size, io_align as given). */
static void open_window(uint32_t block_size, uint32_t io_align, uint64_t first, uint64_t size, bool writable,
                        vb_source *src)
{
    memset(&disk, 0, sizeof disk);
    for (size_t i = 0; i < DISK_BYTES; i++)
        disk.bytes[i] = (uint8_t)(i * 13 + (i >> 9));
    disk.block_size = block_size;
    disk.io_align = io_align;
    disk.fail_after = UINT32_MAX;
    vb_block_device dev = { .ctx = &disk, .block_size = block_size, .io_align = io_align, .first_block = first,
                            .read_blocks = sim_read, .write_blocks = writable ? sim_write : NULL,
                            .flush = sim_flush, .close = sim_close };
    assert_int_equal(vb_disk_window_open(&dev, size, src), VB_OK);
}

/* Next value of a xorshift generator. */
static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Reads at odd offsets and lengths into buffers at odd addresses, for 512-
 * and 4096-byte blocks and several IoAligns: every byte matches the disk at
 * window start + offset, and the device never sees a request it would refuse. */
static void test_odd_reads_land_right(void **state)
{
    (void)state;
    static const uint32_t sizes[] = { 512, 4096 }, aligns[] = { 0, 2, 16, 4096 };
    uint8_t *space = malloc(300000 + 8192);
    assert_non_null(space);
    for (unsigned s = 0; s < 2; s++)
        for (unsigned a = 0; a < 4; a++) {
            uint64_t first = 3, base = first * sizes[s], size = DISK_BYTES - base - sizes[s];
            vb_source src;
            open_window(sizes[s], aligns[a], first, size, false, &src);
            uint32_t seed = 12345 + s * 7 + a;
            for (unsigned i = 0; i < 300; i++) {
                size_t len = i % 3 == 0 ? next(&seed) % 300000 : next(&seed) % 9000;
                uint64_t off = next(&seed) % (size - len + 1);
                uint8_t *buf = space + (i % 5 == 0 ? 0 : next(&seed) % 4096);
                if (i % 7 == 0)
                    off -= off % sizes[s]; /* whole blocks sometimes */
                assert_int_equal(src.read(src.ctx, off, buf, len), VB_OK);
                assert_memory_equal(buf, disk.bytes + base + off, len);
            }
            assert_int_equal(disk.refused, 0);
            vb_source_close(&src);
            assert_int_equal(disk.closes, 1);
        }
    free(space);
}

/* A whole-block read at an aligned buffer goes to the device as one request
 * straight into the caller's buffer (no bounce, no split). */
static void test_aligned_read_is_one_request(void **state)
{
    (void)state;
    vb_source src;
    open_window(4096, 4096, 16, 512 * 1024, false, &src);
    uint8_t *buf = aligned_alloc(4096, 256 * 1024);
    assert_non_null(buf);
    assert_int_equal(src.read(src.ctx, 8192, buf, 256 * 1024), VB_OK);
    assert_int_equal(disk.reads, 1);
    assert_memory_equal(buf, disk.bytes + 16 * 4096 + 8192, 256 * 1024);
    free(buf);
    vb_source_close(&src);
}

/* Writes at odd offsets and lengths from odd addresses change exactly those
 * bytes of the window (partial blocks read, patched and written back) and
 * nothing before or after it. */
static void test_odd_writes_patch_exactly(void **state)
{
    (void)state;
    static const uint32_t sizes[] = { 512, 4096 }, aligns[] = { 0, 8, 4096 };
    uint8_t *expect = malloc(DISK_BYTES), *data = malloc(200000 + 4096);
    assert_non_null(expect);
    assert_non_null(data);
    for (unsigned s = 0; s < 2; s++)
        for (unsigned a = 0; a < 3; a++) {
            uint64_t first = 5, base = first * sizes[s], size = DISK_BYTES - base - 2 * sizes[s];
            vb_source src;
            open_window(sizes[s], aligns[a], first, size, true, &src);
            memcpy(expect, disk.bytes, DISK_BYTES);
            uint32_t seed = 777 + s * 3 + a;
            for (unsigned i = 0; i < 200; i++) {
                size_t len = i % 4 == 0 ? next(&seed) % 200000 : next(&seed) % 6000;
                uint64_t off = next(&seed) % (size - len + 1);
                uint8_t *from = data + next(&seed) % 4096;
                for (size_t k = 0; k < len; k++)
                    from[k] = (uint8_t)next(&seed);
                assert_int_equal(src.write(src.ctx, off, from, len), VB_OK);
                memcpy(expect + base + off, from, len);
            }
            assert_int_equal(disk.refused, 0);
            assert_memory_equal(disk.bytes, expect, DISK_BYTES);
            assert_int_equal(vb_source_flush(&src), VB_OK);
            assert_int_equal(disk.flushes, 1);
            vb_source_close(&src);
        }
    free(expect);
    free(data);
}

/* Requests past the window are refused before the device sees them; a
 * device error comes back as it is; a read-only device gives no write. */
static void test_bounds_and_errors(void **state)
{
    (void)state;
    vb_source src;
    uint8_t buf[8192];
    open_window(512, 0, 1, 10000, false, &src);
    assert_null(src.write);
    assert_int_equal(src.read(src.ctx, 9000, buf, 1001), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(src.read(src.ctx, UINT64_MAX - 10, buf, 100), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(disk.reads, 0);
    assert_int_equal(src.read(src.ctx, 9000, buf, 1000), VB_OK); /* the last, partial block of the window */
    assert_memory_equal(buf, disk.bytes + 512 + 9000, 1000);
    disk.fail_after = 0;
    assert_int_equal(src.read(src.ctx, 0, buf, 4096), VB_ERR_IO);
    vb_source_close(&src);

    open_window(512, 0, 0, 4096, true, &src);
    disk.fail_after = 1; /* the read of a read-modify-write succeeds, its write fails */
    assert_int_equal(src.write(src.ctx, 100, buf, 10), VB_ERR_IO);
    assert_int_equal(src.write(src.ctx, 4000, buf, 100), VB_ERR_OUT_OF_RANGE);
    vb_source_close(&src);
}

/* Bad geometry is refused, and the device's context is still released. */
static void test_bad_geometry_refused(void **state)
{
    (void)state;
    vb_source src;
    vb_block_device dev = { .ctx = &disk, .block_size = 0, .read_blocks = sim_read, .close = sim_close };
    disk.closes = 0;
    assert_int_equal(vb_disk_window_open(&dev, 4096, &src), VB_ERR_INVALID_ARG);
    dev.block_size = 512;
    dev.io_align = 24;
    assert_int_equal(vb_disk_window_open(&dev, 4096, &src), VB_ERR_INVALID_ARG);
    dev.io_align = 0;
    dev.first_block = UINT64_MAX / 256;
    assert_int_equal(vb_disk_window_open(&dev, 4096, &src), VB_ERR_INVALID_ARG);
    assert_int_equal(disk.closes, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_odd_reads_land_right),
        cmocka_unit_test(test_aligned_read_is_one_request),
        cmocka_unit_test(test_odd_writes_patch_exactly),
        cmocka_unit_test(test_bounds_and_errors),
        cmocka_unit_test(test_bad_geometry_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
