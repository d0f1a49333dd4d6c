/* vhdtool: the "(42.00/100%)" progress line on stderr, like qemu-img -p. */
#include <stdio.h>
#include "tools/vhdtool.h"

/* Prints the value p->last_hundredths as "    (xx.xx/100%)" and a carriage return. */
static void print_line(const vt_progress *p)
{
    fprintf(stderr, "    (%d.%02d/100%%)\r", p->last_hundredths / 100, p->last_hundredths % 100);
    fflush(stderr);
}

void vt_progress_start(vt_progress *p, bool enabled, uint64_t total)
{
    p->enabled = enabled;
    p->total = total;
    p->last_hundredths = 0;
    if (enabled)
        print_line(p);
}

void vt_progress_update(vt_progress *p, uint64_t done)
{
    if (!p->enabled)
        return;
    int value = 10000;
    if (p->total && done < p->total)
        value = (int)((double)done * 10000.0 / (double)p->total);
    if (value == p->last_hundredths)
        return;
    p->last_hundredths = value;
    print_line(p);
}

void vt_progress_end(vt_progress *p)
{
    if (!p->enabled)
        return;
    if (p->last_hundredths != 10000) {
        p->last_hundredths = 10000;
        print_line(p);
    }
    fputc('\n', stderr);
    p->enabled = false;
}
