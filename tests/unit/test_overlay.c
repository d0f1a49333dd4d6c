/* Unit tests of the volatile write overlay (format/overlay.c): a random
 * model check against a plain memory mirror, and proof the base is never written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format/overlay.h"
#include "memsource.h"

#define DISK (3u * VB_OVERLAY_CHUNK + 4096u) /* last chunk is partial */

/* Fills buf with a byte pattern that depends on the offset and a seed. */
static void pattern(uint8_t *buf, size_t len, uint64_t offset, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((offset + i) * 7u + seed);
}

static void reads_pass_through_and_writes_stay_in_memory(void **state)
{
    (void)state;
    uint8_t *base_data = malloc(DISK);
    pattern(base_data, DISK, 0, 1);
    memsource *base = memsource_new_readonly(base_data, DISK);
    vb_source ov;
    assert_int_equal(vb_overlay_open(&base->src, &ov), VB_OK);
    assert_int_equal(ov.size, DISK);

    uint8_t *buf = malloc(DISK);
    assert_int_equal(vb_source_read(&ov, 0, buf, DISK), VB_OK);
    assert_memory_equal(buf, base_data, DISK);
    assert_int_equal(vb_overlay_bytes_used(&ov), 0);

    /* a write straddling chunks 0 and 1 */
    uint8_t w[1024];
    memset(w, 0xab, sizeof w);
    uint64_t at = VB_OVERLAY_CHUNK - 512;
    assert_int_equal(vb_source_write(&ov, at, w, sizeof w), VB_OK);
    assert_int_equal(vb_overlay_bytes_used(&ov), 2u * VB_OVERLAY_CHUNK);
    memcpy(base_data + at, w, sizeof w); /* the expected view */
    assert_int_equal(vb_source_read(&ov, 0, buf, DISK), VB_OK);
    assert_memory_equal(buf, base_data, DISK);

    /* the base itself is unchanged */
    uint8_t *raw = memsource_copy(base);
    assert_int_equal(raw[at], (uint8_t)(at * 7u + 1));
    assert_int_equal(base->writes + base->failed_writes, 0);
    free(raw);

    /* the partial last chunk */
    assert_int_equal(vb_source_write(&ov, DISK - 512, w, 512), VB_OK);
    assert_int_equal(vb_source_read(&ov, DISK - 512, buf, 512), VB_OK);
    assert_memory_equal(buf, w, 512);

    vb_source_close(&ov);
    memsource_free(base);
    free(base_data);
    free(buf);
}

static void out_of_range(void **state)
{
    (void)state;
    memsource *base = memsource_new_readonly(NULL, DISK);
    vb_source ov;
    uint8_t b[1024] = { 0 };
    assert_int_equal(vb_overlay_open(&base->src, &ov), VB_OK);
    assert_int_equal(vb_source_read(&ov, DISK - 512, b, 1024), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_source_write(&ov, DISK - 512, b, 1024), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_source_write(&ov, UINT64_MAX - 10, b, 8), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(ov.write(ov.ctx, UINT64_MAX - 10, b, 8), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(ov.read(ov.ctx, DISK + 1, b, 0), VB_ERR_OUT_OF_RANGE);
    vb_source_close(&ov);
    memsource_free(base);
}

static void random_against_mirror(void **state)
{
    (void)state;
    uint8_t *mirror = malloc(DISK), *buf = malloc(DISK);
    pattern(mirror, DISK, 0, 9);
    memsource *base = memsource_new_readonly(mirror, DISK);
    vb_source ov;
    assert_int_equal(vb_overlay_open(&base->src, &ov), VB_OK);
    srand(1234);
    for (int round = 0; round < 2000; round++) {
        uint64_t off = (uint64_t)rand() % DISK;
        size_t len = (size_t)rand() % (2 * VB_OVERLAY_CHUNK);
        if (len > DISK - off)
            len = (size_t)(DISK - off);
        if (rand() % 3 == 0) {
            pattern(buf, len, off, (unsigned)round);
            assert_int_equal(vb_source_write(&ov, off, buf, len), VB_OK);
            memcpy(mirror + off, buf, len);
        } else {
            assert_int_equal(vb_source_read(&ov, off, buf, len), VB_OK);
            assert_memory_equal(buf, mirror + off, len);
        }
    }
    assert_int_equal(vb_source_read(&ov, 0, buf, DISK), VB_OK);
    assert_memory_equal(buf, mirror, DISK);
    assert_int_equal(base->writes, 0);
    vb_source_close(&ov);
    memsource_free(base);
    free(mirror);
    free(buf);
}

static void base_read_error_is_reported(void **state)
{
    (void)state;
    memsource *base = memsource_new_readonly(NULL, DISK);
    vb_source ov;
    assert_int_equal(vb_overlay_open(&base->src, &ov), VB_OK);
    /* shrink the base behind the overlay's back: filling a chunk must fail */
    base->src.size = 100;
    uint8_t b[512] = { 1 };
    assert_int_equal(vb_source_write(&ov, VB_OVERLAY_CHUNK, b, sizeof b), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(vb_overlay_bytes_used(&ov), 0);
    base->src.size = DISK;
    vb_source_close(&ov);
    memsource_free(base);
}

/* bytes_needed counts only the chunks a write would newly allocate. */
static void bytes_needed_counts_new_chunks(void **state)
{
    (void)state;
    memsource *base = memsource_new_readonly(NULL, DISK);
    vb_source ov;
    uint8_t buf[512] = { 1 };
    assert_int_equal(vb_overlay_open(&base->src, &ov), VB_OK);
    assert_int_equal(vb_overlay_bytes_needed(&ov, 0, 512), VB_OVERLAY_CHUNK);
    /* a range straddling a chunk boundary needs two */
    assert_int_equal(vb_overlay_bytes_needed(&ov, VB_OVERLAY_CHUNK - 512, 1024), 2 * VB_OVERLAY_CHUNK);
    assert_int_equal(vb_source_write(&ov, 0, buf, sizeof buf), VB_OK);
    assert_int_equal(vb_overlay_bytes_used(&ov), VB_OVERLAY_CHUNK);
    assert_int_equal(vb_overlay_bytes_needed(&ov, 512, 512), 0);
    assert_int_equal(vb_overlay_bytes_needed(&ov, VB_OVERLAY_CHUNK - 512, 1024), VB_OVERLAY_CHUNK);
    assert_int_equal(vb_overlay_bytes_needed(&ov, DISK, 512), 0);     /* past the end */
    assert_int_equal(vb_overlay_bytes_needed(&ov, 0, 0), 0);
    vb_source_close(&ov);
    memsource_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_pass_through_and_writes_stay_in_memory),
        cmocka_unit_test(out_of_range),
        cmocka_unit_test(random_against_mirror),
        cmocka_unit_test(base_read_error_is_reported),
        cmocka_unit_test(bytes_needed_counts_new_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
