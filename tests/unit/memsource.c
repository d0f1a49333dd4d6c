/* vhdboot tests: in-memory growable block source with counters (see memsource.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memsource.h"

/* Allocates or aborts: tests have no sensible way to continue without memory. */
static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "memsource: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

/* Appends one entry to a log, growing both logs together when full. */
static void log_io(memsource *ms, memsource_io **log, unsigned index, uint64_t offset, size_t len)
{
    if (index >= ms->log_cap) {
        size_t cap = ms->log_cap ? ms->log_cap * 2 : 64;
        ms->read_log = xrealloc(ms->read_log, cap * sizeof(memsource_io));
        ms->write_log = xrealloc(ms->write_log, cap * sizeof(memsource_io));
        ms->log_cap = cap;
    }
    (*log)[index].offset = offset;
    (*log)[index].len = len;
}

/* vb_source read: copies from the buffer; VB_ERR_OUT_OF_RANGE past the end. */
static vb_status ms_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    memsource *ms = ctx;
    if (offset > ms->size || len > ms->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    log_io(ms, &ms->read_log, ms->reads, offset, len);
    ms->reads++;
    memcpy(buf, ms->data + offset, len);
    return VB_OK;
}

/* Stores len bytes at offset, growing the buffer (gap zero-filled).
 * Returns VB_ERR_OUT_OF_RANGE past 1 TiB. */
static vb_status store(memsource *ms, uint64_t offset, const void *buf, size_t len)
{
    if (offset > SIZE_MAX - len || offset + len > ((size_t)1 << 40))
        return VB_ERR_OUT_OF_RANGE;
    size_t end = (size_t)offset + len;
    if (end > ms->cap) {
        size_t cap = ms->cap ? ms->cap : 4096;
        while (cap < end)
            cap *= 2;
        ms->data = xrealloc(ms->data, cap);
        memset(ms->data + ms->cap, 0, cap - ms->cap);
        ms->cap = cap;
    }
    memcpy(ms->data + offset, buf, len);
    if (end > ms->size) {
        ms->size = end;
        ms->src.size = end;
    }
    return VB_OK;
}

/* vb_source write: grows as needed (gap zero-filled); obeys the fail knob
 * (the first refused write may be torn: see torn_bytes). */
static vb_status ms_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    memsource *ms = ctx;
    if (ms->fail_after_writes >= 0 && ms->writes >= (unsigned long)ms->fail_after_writes) {
        ms->failed_writes++;
        size_t part = ms->torn_bytes < len ? ms->torn_bytes : len;
        ms->torn_bytes = 0;
        if (part)
            store(ms, offset, buf, part);
        return VB_ERR_IO;
    }
    if (ms->drop_write < 0 || ms->writes != (unsigned long)ms->drop_write) {
        vb_status st = store(ms, offset, buf, len);
        if (st != VB_OK)
            return st;
    } else if (offset + len > ms->size) {
        /* lost, but the file's new size was recorded (FAT orders neither):
         * it ends in zeros where the write's bytes should be */
        uint8_t zero[512] = { 0 };
        for (uint64_t at = ms->size > offset ? ms->size : offset; at < offset + len;) {
            size_t n = offset + len - at < sizeof(zero) ? (size_t)(offset + len - at) : sizeof(zero);
            vb_status st = store(ms, at, zero, n);
            if (st != VB_OK)
                return st;
            at += n;
        }
    }
    log_io(ms, &ms->write_log, ms->writes, offset, len);
    ms->writes++;
    return VB_OK;
}

/* vb_source flush: counted, and where it fell among the writes logged. */
static vb_status ms_flush(void *ctx)
{
    memsource *ms = ctx;
    ms->flushes++;
    if (ms->flush_logged < MEMSOURCE_FLUSH_LOG)
        ms->flush_after[ms->flush_logged++] = ms->writes;
    return VB_OK;
}

memsource *memsource_new(const void *data, size_t size)
{
    memsource *ms = calloc(1, sizeof(*ms));
    if (!ms)
        abort();
    ms->cap = size ? size : 1;
    ms->data = calloc(1, ms->cap);
    if (!ms->data)
        abort();
    if (data && size)
        memcpy(ms->data, data, size);
    ms->size = size;
    ms->fail_after_writes = -1;
    ms->drop_write = -1;
    ms->src.size = size;
    ms->src.ctx = ms;
    ms->src.read = ms_read;
    ms->src.write = ms_write;
    ms->src.flush = ms_flush;
    ms->src.close = NULL;
    return ms;
}

memsource *memsource_new_readonly(const void *data, size_t size)
{
    memsource *ms = memsource_new(data, size);
    ms->src.write = NULL;
    return ms;
}

void memsource_free(memsource *ms)
{
    if (!ms)
        return;
    free(ms->data);
    free(ms->read_log);
    free(ms->write_log);
    free(ms);
}

void memsource_fail_after_writes(memsource *ms, long n)
{
    ms->fail_after_writes = n < 0 ? -1 : (long)ms->writes + n;
}

void memsource_reset_counters(memsource *ms)
{
    long remaining = ms->fail_after_writes < 0 ? -1 : ms->fail_after_writes - (long)ms->writes;
    ms->reads = 0;
    ms->writes = 0;
    ms->failed_writes = 0;
    ms->flushes = 0;
    ms->flush_logged = 0;
    ms->fail_after_writes = remaining < 0 ? (ms->fail_after_writes < 0 ? -1 : 0) : remaining;
}

uint8_t *memsource_copy(const memsource *ms)
{
    uint8_t *copy = xrealloc(NULL, ms->size);
    memcpy(copy, ms->data, ms->size);
    return copy;
}
