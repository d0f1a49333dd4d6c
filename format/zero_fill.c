/* vhdboot: zero fill that skips sectors already zero (see zero_fill.h).
 *
 * Plain 8-byte loads and stores, 16 to an iteration, through volatile
 * pointers so that the compiler neither turns the loops into a memset call
 * nor into vector code: under QEMU's TCG an 8-byte store is the cheapest per
 * byte (an SSE store costs two, `rep stos` one translated block per
 * repetition) and an OR with a vector memory operand is several times
 * slower than an OR from a general register; on hardware it is memory bound
 * either way. */
#include "zero_fill.h"

#define WORDS (VB_ZERO_FILL_UNIT / 8u)

/* acc |= q[i + k], one load and OR at a time: the empty asm keeps the
 * compiler from loading a whole row into registers first (and spilling). */
#define OR_WORD(k)                   \
    do {                             \
        acc |= q[i + (k)];           \
        __asm__("" : "+r"(acc));     \
    } while (0)

/* Returns nonzero when any of the sector's words at q is nonzero. */
static uint64_t sector_bits(const volatile uint64_t *q)
{
    uint64_t acc = 0;
    for (unsigned i = 0; i < WORDS; i += 16) {
        OR_WORD(0);
        OR_WORD(1);
        OR_WORD(2);
        OR_WORD(3);
        OR_WORD(4);
        OR_WORD(5);
        OR_WORD(6);
        OR_WORD(7);
        OR_WORD(8);
        OR_WORD(9);
        OR_WORD(10);
        OR_WORD(11);
        OR_WORD(12);
        OR_WORD(13);
        OR_WORD(14);
        OR_WORD(15);
    }
    return acc;
}

/* Stores zero into the sector's words at q. */
static void sector_clear(volatile uint64_t *q)
{
    for (unsigned i = 0; i < WORDS; i += 16) {
        q[i] = 0;
        q[i + 1] = 0;
        q[i + 2] = 0;
        q[i + 3] = 0;
        q[i + 4] = 0;
        q[i + 5] = 0;
        q[i + 6] = 0;
        q[i + 7] = 0;
        q[i + 8] = 0;
        q[i + 9] = 0;
        q[i + 10] = 0;
        q[i + 11] = 0;
        q[i + 12] = 0;
        q[i + 13] = 0;
        q[i + 14] = 0;
        q[i + 15] = 0;
    }
}

uint64_t vb_zero_fill(uint8_t *p, uint64_t n)
{
    uint64_t stored = 0, at = 0;
    for (; at + VB_ZERO_FILL_UNIT <= n; at += VB_ZERO_FILL_UNIT) {
        volatile uint64_t *q = (volatile uint64_t *)(void *)(p + at);
        /* stale data shows in the first word almost always: then no scan */
        if (q[0] == 0 && sector_bits(q) == 0)
            continue;
        sector_clear(q);
        stored += VB_ZERO_FILL_UNIT;
    }
    for (; at < n; at++) /* a tail shorter than a sector, byte by byte */
        if (p[at]) {
            p[at] = 0;
            stored++;
        }
    return stored;
}

uint64_t vb_holes_split(const vb_span *ranges, uint64_t n, uint64_t size, uint64_t piece, vb_span *out, uint64_t max)
{
    uint64_t count = 0, at = 0;
    for (uint64_t i = 0; i <= n; i++) {
        uint64_t end = i < n ? ranges[i].offset : size;
        while (at < end) {
            uint64_t len = end - at < piece ? end - at : piece;
            if (count == max)
                return max + 1;
            out[count].offset = at;
            out[count].length = len;
            count++;
            at += len;
        }
        if (i < n)
            at = ranges[i].offset + ranges[i].length;
    }
    return count;
}

bool vb_zero_job_step(vb_zero_job *job)
{
    if (__atomic_load_n(&job->stop, __ATOMIC_ACQUIRE))
        return false;
    uint64_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_ACQ_REL);
    if (i >= job->count)
        return false;
    const vb_span *p = &job->pieces[i];
    __atomic_fetch_add(&job->stored, vb_zero_fill(job->mem + p->offset, p->length), __ATOMIC_RELAXED);
    __atomic_fetch_add(&job->done, p->length, __ATOMIC_RELEASE);
    return true;
}
