/* vhdtool: a reader/writer pipeline — the caller reads chunks into buffers
 * while a writer thread stores the previous ones, so reading and writing
 * overlap (as qemu-img convert overlaps its requests). */
#include <pthread.h>
#include <stdlib.h>
#include "tools/vhdtool.h"

struct slot {
    uint8_t *buf;            /* NULL: a run of zeros */
    uint64_t offset;
    uint64_t len;
};

struct vt_pipeline {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    vt_sink_fn sink;
    void *ctx;
    unsigned depth;          /* buffers */
    unsigned ring;           /* queue entries: buffers and zero runs */
    struct slot *slots;      /* ring of queued jobs */
    unsigned head, count;    /* next slot to write, filled slots queued */
    uint8_t **free_bufs;     /* stack of empty buffers */
    unsigned free_count;
    bool closing;
    vb_status status;        /* first write error */
    uint64_t fail_offset;
};

/* Writer thread: stores queued chunks in order until closed or failed. */
static void *writer(void *arg)
{
    vt_pipeline *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->closing)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->count == 0)
            break;
        struct slot s = p->slots[p->head];
        pthread_mutex_unlock(&p->lock);
        vb_status st = p->status == VB_OK ? p->sink(p->ctx, s.offset, s.buf, s.len) : VB_OK;
        pthread_mutex_lock(&p->lock);
        if (st != VB_OK && p->status == VB_OK) {
            p->status = st;
            p->fail_offset = s.offset;
        }
        p->head = (p->head + 1) % p->ring;
        p->count--;
        if (s.buf)
            p->free_bufs[p->free_count++] = s.buf;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Frees the buffers and the pipeline itself. */
static void destroy(vt_pipeline *p)
{
    for (unsigned i = 0; i < p->free_count; i++)
        free(p->free_bufs[i]);
    free(p->free_bufs);
    free(p->slots);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
    free(p);
}

vt_pipeline *vt_pipeline_start(size_t chunk, unsigned depth, vt_sink_fn sink, void *ctx)
{
    vt_pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->sink = sink;
    p->ctx = ctx;
    p->depth = depth;
    p->ring = 2 * depth;
    p->slots = calloc(p->ring, sizeof(*p->slots));
    p->free_bufs = calloc(depth, sizeof(*p->free_bufs));
    if (!p->slots || !p->free_bufs) {
        destroy(p);
        return NULL;
    }
    for (unsigned i = 0; i < depth; i++) {
        uint8_t *b = vt_alloc_buffer(chunk);
        if (!b) {
            destroy(p);
            return NULL;
        }
        p->free_bufs[p->free_count++] = b;
    }
    if (pthread_create(&p->thread, NULL, writer, p) != 0) {
        destroy(p);
        return NULL;
    }
    return p;
}

uint8_t *vt_pipeline_acquire(vt_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->free_count == 0)
        pthread_cond_wait(&p->changed, &p->lock);
    uint8_t *b = p->status == VB_OK ? p->free_bufs[--p->free_count] : NULL;
    pthread_mutex_unlock(&p->lock);
    return b;
}

void vt_pipeline_submit(vt_pipeline *p, uint8_t *buf, uint64_t offset, uint64_t len)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == p->ring)
        pthread_cond_wait(&p->changed, &p->lock);
    unsigned tail = (p->head + p->count) % p->ring;
    p->slots[tail] = (struct slot){ buf, offset, len };
    p->count++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void vt_pipeline_release(vt_pipeline *p, uint8_t *buf)
{
    pthread_mutex_lock(&p->lock);
    p->free_bufs[p->free_count++] = buf;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

vb_status vt_pipeline_finish(vt_pipeline *p, uint64_t *fail_offset)
{
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    vb_status st = p->status;
    if (st != VB_OK && fail_offset)
        *fail_offset = p->fail_offset;
    destroy(p);
    return st;
}
