/* vhdboot: a small freestanding formatter for diagnostics. */
#include "diag.h"
#include "bytes.h"

struct out {
    char *buf;
    int cap;
    int len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void put_number(struct out *o, unsigned long long v, unsigned base, int width, char pad, int negative)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (negative)
        digits[n++] = '-';
    while (width-- > n)
        put(o, pad);
    while (n)
        put(o, digits[--n]);
}

int vb_vformat(char *buf, int cap, const char *fmt, va_list ap)
{
    struct out o = { buf, cap, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0, size_t_arg = 0;
        if (*fmt == '0')
            pad = '0';
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        if (*fmt == 'z') {
            size_t_arg = 1;
            fmt++;
        }
        unsigned long long u;
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = (int)vb_strlen(s);
            while (width-- > len)
                put(&o, ' ');
            while (*s)
                put(&o, *s++);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 'd': {
            long long v = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
            put_number(&o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x':
            if (size_t_arg)
                u = va_arg(ap, size_t);
            else if (longs >= 2)
                u = va_arg(ap, unsigned long long);
            else if (longs)
                u = va_arg(ap, unsigned long);
            else
                u = va_arg(ap, unsigned);
            put_number(&o, u, *fmt == 'x' ? 16 : 10, width, pad, 0);
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (cap > 0)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : cap - 1;
}

int vb_format(char *buf, int cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vb_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

vb_status vb_fail(vb_diag *diag, vb_status status, const char *fmt, ...)
{
    if (diag) {
        va_list ap;
        va_start(ap, fmt);
        diag->status = status;
        vb_vformat(diag->text, VB_DIAG_TEXT_MAX, fmt, ap);
        va_end(ap);
    }
    return status;
}
