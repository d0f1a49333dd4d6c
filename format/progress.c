/* vhdboot: progress figures and the progress line (see progress.h). */
#include "progress.h"
#include "bytes.h"
#include "diag.h"

/* Returns a * b / c, rounded down, without overflowing: when a * b does not
 * fit, a and c are halved together (the quotient barely moves). Returns
 * UINT64_MAX when c becomes 0. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    while (b != 0 && a > UINT64_MAX / b) {
        a >>= 1;
        c >>= 1;
    }
    if (c == 0)
        return UINT64_MAX;
    return a * b / c;
}

vb_progress vb_progress_compute(uint64_t done, uint64_t total, uint64_t elapsed_us)
{
    vb_progress p = { 0, 0, false, 0 };
    if (done > total)
        done = total;
    if (total == 0 || done == total) {
        p.percent = 100;
        p.eta_known = true;
    } else {
        p.percent = (unsigned)mul_div(done, 100, total);
        if (p.percent > 99)
            p.percent = 99; /* 100 % only when really done */
    }
    if (elapsed_us > 0)
        p.tenths_mib_s = mul_div(done, 10000000u, elapsed_us) >> 20;
    if (!p.eta_known && done > 0 && elapsed_us > 0) {
        uint64_t left_us = mul_div(total - done, elapsed_us, done);
        p.eta_seconds = left_us / 1000000u + (left_us % 1000000u != 0);
        p.eta_known = true;
    }
    return p;
}

bool vb_progress_due(uint64_t elapsed_us, uint64_t shown_us)
{
    if (elapsed_us < VB_PROGRESS_DELAY_US)
        return false;
    return shown_us == 0 || elapsed_us - shown_us >= VB_PROGRESS_PERIOD_US || elapsed_us < shown_us;
}

int vb_progress_line(char *out, int cap, const vb_progress *p, uint64_t done, uint64_t total, unsigned bar_width)
{
    char bar[72], eta[32];
    if (bar_width > sizeof bar - 3)
        bar_width = sizeof bar - 3;
    int n = 0;
    if (bar_width) {
        unsigned full = (unsigned)(((uint64_t)p->percent * bar_width) / 100u);
        bar[n++] = '[';
        for (unsigned i = 0; i < bar_width; i++)
            bar[n++] = i < full ? '#' : '-';
        bar[n++] = ']';
    }
    bar[n] = '\0';
    if (!p->eta_known) {
        vb_strlcpy(eta, "?", sizeof eta);
    } else {
        uint64_t s = p->eta_seconds;
        if (s >= 3600)
            vb_format(eta, sizeof eta, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                      (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
        else
            vb_format(eta, sizeof eta, "%llu:%02llu", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    }
    if (done > total)
        done = total;
    return vb_format(out, cap, "%s%s%3u%%  %llu.%llu MiB/s  %s left  %llu/%llu MiB", bar, bar_width ? " " : "",
                     p->percent, (unsigned long long)(p->tenths_mib_s / 10), (unsigned long long)(p->tenths_mib_s % 10),
                     eta, (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
}
