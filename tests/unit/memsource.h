/* vhdboot tests: an in-memory, growable block source with I/O counters.
 *
 * A memsource behaves like a host file: reads past the end fail with
 * VB_ERR_OUT_OF_RANGE, writes past the end grow it (the gap reads as zeros).
 * Every read and write is counted and logged (offset, length) so tests can
 * prove coalescing and write ordering, and a knob makes writes fail after N
 * successful ones (0 = every write fails) to simulate a crash or prove that a
 * source is never written; another loses one chosen write without telling
 * (a write reordered after later ones by a volatile cache, then lost). */
#ifndef VB_TEST_MEMSOURCE_H
#define VB_TEST_MEMSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format/source.h"

#define MEMSOURCE_FLUSH_LOG 32

typedef struct memsource_io {
    uint64_t offset;
    size_t len;
} memsource_io;

typedef struct memsource {
    vb_source src;          /* the block source; src.ctx points back here */
    uint8_t *data;
    size_t size;            /* current length in bytes (== src.size) */
    size_t cap;             /* allocated bytes */
    unsigned reads;         /* read calls that reached the source */
    unsigned writes;        /* successful write calls */
    unsigned failed_writes; /* write calls refused by the fail knob */
    unsigned flushes;
    long fail_after_writes; /* -1: never fail; N: writes after the first N fail with VB_ERR_IO */
    size_t torn_bytes;       /* the first write refused by the knob still stores its first
                              * torn_bytes bytes (a torn write); then reset to 0 */
    long drop_write;         /* -1: none; N: the write with index N (0-based, among the
                              * successful ones) is acknowledged but not stored: a write
                              * still in a volatile cache when the power went (a write
                              * past the end still grows the file, with zeros) */
    unsigned flush_after[MEMSOURCE_FLUSH_LOG]; /* writes count at each of the first flushes */
    unsigned flush_logged;   /* entries of flush_after in use */
    memsource_io *read_log;  /* reads[i] = i-th read */
    memsource_io *write_log; /* writes[i] = i-th successful write */
    size_t log_cap;          /* capacity of each log (they grow together) */
} memsource;

/* Creates a memsource holding a copy of size bytes of data (data may be NULL
 * for zeros). Writable and growable. Aborts the test program on no memory. */
memsource *memsource_new(const void *data, size_t size);
/* Like memsource_new but src.write is NULL (vb_source_write refuses). */
memsource *memsource_new_readonly(const void *data, size_t size);
/* Frees the memsource and its buffers; NULL allowed. */
void memsource_free(memsource *ms);
/* Makes every write after the next n successful ones fail (n < 0: never fail). */
void memsource_fail_after_writes(memsource *ms, long n);
/* Resets the read/write/flush counters and logs (data is kept). */
void memsource_reset_counters(memsource *ms);
/* Returns a heap copy of the current contents (caller frees with free()). */
uint8_t *memsource_copy(const memsource *ms);

#endif
