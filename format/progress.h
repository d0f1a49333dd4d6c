/* vhdboot: progress of a long copy — percent, MiB/s, time left — and the
 * console line that shows it. Integer arithmetic that cannot overflow for
 * any disk size the core accepts (up to 2040 GiB) and any elapsed time. */
#ifndef VB_PROGRESS_H
#define VB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* A load shows its progress only once it has taken this long ... */
#define VB_PROGRESS_DELAY_US 1000000u
/* ... and redraws it at most this often (the serial console is slow). */
#define VB_PROGRESS_PERIOD_US 250000u

typedef struct vb_progress {
    unsigned percent;          /* 0..100, rounded down (100 only when done) */
    uint64_t tenths_mib_s;     /* MiB/s times 10, rounded down; 0 before any time passed */
    bool eta_known;            /* false until bytes and time have passed */
    uint64_t eta_seconds;      /* time left at the rate so far, rounded up */
} vb_progress;

/* Computes the figures for done of total bytes after elapsed_us
 * microseconds. done is clamped to total; total 0 counts as done. */
vb_progress vb_progress_compute(uint64_t done, uint64_t total, uint64_t elapsed_us);

/* Whether to (re)draw the line now: not before VB_PROGRESS_DELAY_US, then
 * when never shown (shown_us == 0) or VB_PROGRESS_PERIOD_US after the last
 * drawing at shown_us. */
bool vb_progress_due(uint64_t elapsed_us, uint64_t shown_us);

/* Formats "[#####-----]  50%  123.4 MiB/s  0:12 left  256/512 MiB" into out
 * (capacity cap, always terminated) with a bar of bar_width characters
 * (0: no bar); the time reads "h:mm:ss" from an hour on and "?" while
 * unknown. Returns the length written. */
int vb_progress_line(char *out, int cap, const vb_progress *p, uint64_t done, uint64_t total, unsigned bar_width);

#endif
