/* vhdboot: loading a chain into a RAM disk (see ramdisk_load.h).
 *
 * Only the data ranges (format/data_walk.h) are read, in requests of up to
 * READ_CHUNK bytes straight into the RAM disk; the gaps between them (the
 * holes) are made zero by vb_zero_fill (format/zero_fill.h), which reads
 * each sector and stores only into those not zero already: memory never
 * touched since power-on is not written at all.
 *
 * The ranges are listed first (up to MAX_RANGES of them) and the holes cut
 * into pieces; the firmware's other processors (efi_mp.h), where there are
 * any, make the pieces zero while this one reads the data, then this one
 * takes whatever pieces are left. A chain with more ranges than that is
 * loaded in one pass on this processor, each hole zeroed before the range
 * after it is read. Between requests the console is polled for Esc and the
 * progress line redrawn. */
#include <efi.h>
#include <efilib.h>
#include "efi_ramdisk_load.h"
#include "efi_clock.h"
#include "efi_console.h"
#include "efi_mp.h"
#include "format/bytes.h"
#include "format/data_walk.h"
#include "format/platform.h"
#include "format/progress.h"
#include "format/zero_fill.h"

#define READ_CHUNK (8u << 20)
#define ZERO_CHUNK (64u << 20)
#define HOLE_PIECE (4u << 20)   /* the unit processors share the holes in */
#define MAX_RANGES 65536u
#define BAR_WIDTH 20u

/* State of one load. */
struct load {
    vb_source *disk;
    uint8_t *mem;
    uint64_t next;          /* disk bytes below this are in place */
    uint64_t data_total;    /* bytes the walk reads in all */
    uint64_t data_done;
    uint64_t start_us;
    uint64_t shown_us;      /* elapsed time of the last drawing, 0 = never drawn */
    uint64_t zero_us;       /* time this processor spent on the holes (zeroing, waiting for the others) */
    uint64_t zero_stored;   /* gap bytes that were not zero and were written */
    unsigned long zero_cpus; /* processors that made the holes zero */
    vb_span *ranges;        /* the data ranges, when listed */
    uint64_t n_ranges;
    bool too_many;          /* more than MAX_RANGES: not listed */
};

/* Microseconds since the load started. */
static uint64_t elapsed(const struct load *l)
{
    uint64_t now = efi_clock_usec();
    return now > l->start_us ? now - l->start_us : 0;
}

/* Returns true when Esc is waiting on the console (other keys are dropped). */
static bool esc_pressed(void)
{
    EFI_INPUT_KEY key;
    while (ST->ConIn->ReadKeyStroke(ST->ConIn, &key) == EFI_SUCCESS)
        if (key.ScanCode == SCAN_ESC)
            return true;
    return false;
}

/* Redraws the progress line when it is due. */
static void show_progress(struct load *l)
{
    uint64_t t = elapsed(l);
    if (!vb_progress_due(t, l->shown_us))
        return;
    char line[160];
    vb_progress p = vb_progress_compute(l->data_done, l->data_total, t);
    vb_progress_line(line, sizeof line, &p, l->data_done, l->data_total, BAR_WIDTH);
    efi_say("\rvhdboot: %s  ", line); /* the spaces wipe a longer previous line's end */
    l->shown_us = t ? t : 1;
}

/* Polls for Esc and redraws the progress; returns VB_ERR_CANCELLED on Esc. */
static vb_status step(struct load *l)
{
    if (esc_pressed())
        return VB_ERR_CANCELLED;
    show_progress(l);
    return VB_OK;
}

/* Makes the disk bytes from l->next up to end zero. Returns VB_OK or VB_ERR_CANCELLED. */
static vb_status zero_to(struct load *l, uint64_t end)
{
    while (l->next < end) {
        uint64_t n = end - l->next < ZERO_CHUNK ? end - l->next : ZERO_CHUNK;
        uint64_t t0 = efi_clock_usec();
        l->zero_stored += vb_zero_fill(l->mem + l->next, n);
        l->zero_us += efi_clock_usec() - t0;
        l->next += n;
        vb_status st = step(l);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* vb_data_fn: zeroes the gap before the range, then reads the range. */
static vb_status load_range(void *ctx, uint64_t offset, uint64_t length)
{
    struct load *l = ctx;
    vb_status st = zero_to(l, offset);
    if (st != VB_OK)
        return st;
    uint64_t end = offset + length;
    while (l->next < end) {
        size_t n = end - l->next < READ_CHUNK ? (size_t)(end - l->next) : READ_CHUNK;
        if ((st = vb_source_read(l->disk, l->next, l->mem + l->next, n)) != VB_OK)
            return st;
        l->next += n;
        l->data_done += n;
        if ((st = step(l)) != VB_OK)
            return st;
    }
    return VB_OK;
}

/* vb_data_fn: adds the range to l->ranges (or marks the list too long)
 * and counts its bytes. */
static vb_status list_range(void *ctx, uint64_t offset, uint64_t length)
{
    struct load *l = ctx;
    l->data_total += length;
    if (l->n_ranges == MAX_RANGES)
        l->too_many = true;
    else {
        l->ranges[l->n_ranges].offset = offset;
        l->ranges[l->n_ranges].length = length;
        l->n_ranges++;
    }
    return VB_OK;
}

/* Reads the listed range r into memory in READ_CHUNK requests, polling Esc
 * between them. Returns VB_OK, VB_ERR_CANCELLED or the read's status. */
static vb_status read_range(struct load *l, const vb_span *r)
{
    vb_status st = VB_OK;
    uint64_t end = r->offset + r->length;
    for (l->next = r->offset; l->next < end && st == VB_OK;) {
        size_t n = end - l->next < READ_CHUNK ? (size_t)(end - l->next) : READ_CHUNK;
        if ((st = vb_source_read(l->disk, l->next, l->mem + l->next, n)) != VB_OK)
            return st;
        l->next += n;
        l->data_done += n;
        st = step(l);
    }
    return st;
}

/* What the other processors run: pieces of the job until none is left. */
static void zero_pieces(void *job)
{
    while (vb_zero_job_step(job))
        ;
}

/* The listed load: the other processors make the holes zero while this one
 * reads the ranges, then it takes the pieces left; it always waits for the
 * others to finish. Returns VB_OK, VB_ERR_CANCELLED, VB_ERR_NO_MEMORY (no
 * room for the pieces: nothing done) or a read's status. */
static vb_status load_listed(struct load *l)
{
    uint64_t max = l->n_ranges + 2 + l->disk->size / HOLE_PIECE;
    vb_span *pieces = vb_alloc((size_t)max * sizeof *pieces);
    if (!pieces)
        return VB_ERR_NO_MEMORY;
    vb_zero_job job = { .mem = l->mem, .pieces = pieces };
    job.count = vb_holes_split(l->ranges, l->n_ranges, l->disk->size, HOLE_PIECE, pieces, max);
    efi_mp_run run;
    l->zero_cpus = 1 + efi_mp_start(&run, zero_pieces, &job);
    vb_status st = VB_OK;
    for (uint64_t i = 0; i < l->n_ranges && st == VB_OK; i++)
        st = read_range(l, &l->ranges[i]);
    uint64_t t0 = efi_clock_usec();
    while (st == VB_OK && vb_zero_job_step(&job))
        st = step(l);
    if (st != VB_OK)
        __atomic_store_n(&job.stop, 1, __ATOMIC_RELEASE);
    while (!efi_mp_finished(&run))
        if (st == VB_OK && step(l) != VB_OK) {
            st = VB_ERR_CANCELLED;
            __atomic_store_n(&job.stop, 1, __ATOMIC_RELEASE);
        }
    l->zero_us = efi_clock_usec() - t0;
    l->zero_stored = __atomic_load_n(&job.stored, __ATOMIC_ACQUIRE);
    if (st == VB_OK && __atomic_load_n(&job.done, __ATOMIC_ACQUIRE) != l->disk->size - l->data_total)
        st = VB_ERR_IO; /* cannot happen: every piece is claimed once and finished before its processor returns */
    vb_free(pieces);
    return st;
}

/* Puts "shown: " before diag's text (firmware glue messages name no file); returns its status. */
static vb_status name_file(vb_diag *diag, const char *shown)
{
    char text[VB_DIAG_TEXT_MAX];
    vb_strlcpy(text, diag->text, sizeof text);
    return vb_fail(diag, diag->status, "%s: %s", shown, text);
}

/* Refuses a disk that does not fit in the largest free memory range with
 * the margin; returns VB_OK when it does. */
static vb_status check_memory(uint64_t size, const char *shown, vb_diag *diag)
{
    uint64_t largest = 0, total = 0;
    vb_status st = efi_memory_free(&largest, &total);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the firmware's memory map: %s", shown, vb_status_message(st));
    if (largest >= EFI_RAM_MARGIN && largest - EFI_RAM_MARGIN >= size)
        return VB_OK;
    return vb_fail(diag, VB_ERR_NO_SPACE,
                   "%s: the disk needs %llu MiB of memory (+ %llu MiB margin), but the largest free memory range "
                   "is %llu MiB (%llu MiB free in all); use 'write volatile' instead",
                   shown, (unsigned long long)(size >> 20), (unsigned long long)(EFI_RAM_MARGIN >> 20),
                   (unsigned long long)(largest >> 20), (unsigned long long)(total >> 20));
}

vb_status efi_ramdisk_load(vb_chain *chain, const char *shown, efi_ramdisk **out, uint64_t *took_us, vb_diag *diag)
{
    struct load l = { 0 };
    l.disk = vb_chain_source(chain);
    vb_status st = check_memory(l.disk->size, shown, diag);
    if (st != VB_OK)
        return st;
    l.ranges = vb_alloc(MAX_RANGES * sizeof *l.ranges);
    if (!l.ranges)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the list of data ranges", shown);
    if ((st = vb_chain_data_walk(chain, list_range, &l)) != VB_OK) {
        vb_free(l.ranges);
        return vb_fail(diag, st, "%s: cannot read the block tables: %s", shown, vb_status_message(st));
    }
    efi_ramdisk *rd = NULL;
    if ((st = efi_ramdisk_alloc(l.disk->size, &rd, diag)) != VB_OK) {
        vb_free(l.ranges);
        return name_file(diag, shown);
    }
    l.mem = efi_ramdisk_memory(rd);
    efi_say("vhdboot: loading %s into memory: %llu MiB disk, %llu MiB of data (Esc cancels)\n", shown,
            (unsigned long long)(l.disk->size >> 20), (unsigned long long)(l.data_total >> 20));
    l.start_us = efi_clock_usec();
    st = l.too_many ? VB_ERR_NO_MEMORY : load_listed(&l);
    if (st == VB_ERR_NO_MEMORY) { /* too many ranges to list, or no room for the pieces: one pass */
        l.zero_cpus = 1;
        l.data_done = l.next = 0;
        st = vb_chain_data_walk(chain, load_range, &l);
        if (st == VB_OK)
            st = zero_to(&l, l.disk->size);
    }
    vb_free(l.ranges);
    uint64_t took = elapsed(&l);
    if (l.shown_us)
        efi_say("\n");
    if (st != VB_OK) {
        efi_ramdisk_free(rd);
        if (st == VB_ERR_CANCELLED)
            return vb_fail(diag, st, "%s: loading into memory cancelled (Esc); the memory is freed", shown);
        return vb_fail(diag, st, "%s: reading the disk into memory failed at byte %llu: %s", shown,
                       (unsigned long long)l.next, vb_status_message(st));
    }
    vb_progress p = vb_progress_compute(l.data_total, l.data_total, took);
    efi_say("vhdboot: loaded %llu MiB of data in %llu ms (%llu.%llu MiB/s; %llu MiB of holes zeroed on %lu processor%s, "
            "adding %llu ms to the reads, %llu MiB of them written)\n",
            (unsigned long long)(l.data_total >> 20), (unsigned long long)(took / 1000),
            (unsigned long long)(p.tenths_mib_s / 10), (unsigned long long)(p.tenths_mib_s % 10),
            (unsigned long long)((l.disk->size - l.data_total) >> 20), l.zero_cpus, l.zero_cpus == 1 ? "" : "s",
            (unsigned long long)(l.zero_us / 1000), (unsigned long long)(l.zero_stored >> 20));
    if (took_us)
        *took_us = took;
    *out = rd;
    return VB_OK;
}
