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

/* Conversion flags, width and precision of one % directive. */
struct spec {
    bool left, plus, space, alt, zero;
    int width;
    int prec; /* -1: none */
};

/* Puts c n times. */
static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/* Puts an integer of magnitude v (negative: with '-') in base 10 or 16,
 * honouring flags, width and precision as C's printf does. */
static void put_integer(struct out *o, const struct spec *sp, unsigned long long v, bool negative, bool is_signed,
                        unsigned base, bool upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24];
    int n = 0;
    bool zero_value = v == 0;
    if (!(sp->prec == 0 && zero_value)) {
        do {
            digits[n++] = set[v % base];
            v /= base;
        } while (v);
    }
    const char *prefix = "";
    if (negative)
        prefix = "-";
    else if (is_signed && sp->plus)
        prefix = "+";
    else if (is_signed && sp->space)
        prefix = " ";
    else if (base == 16 && sp->alt && !zero_value)
        prefix = upper ? "0X" : "0x";
    int prefix_len = (int)vb_strlen(prefix);
    int zeros = sp->prec > n ? sp->prec - n : 0;
    int fill = sp->width - prefix_len - zeros - n;
    if (sp->zero && !sp->left && sp->prec < 0) {
        zeros += fill > 0 ? fill : 0; /* "%05d" of -42 is "-0042" */
        fill = 0;
    }
    if (!sp->left)
        put_repeat(o, ' ', fill);
    while (*prefix)
        put(o, *prefix++);
    put_repeat(o, '0', zeros);
    while (n)
        put(o, digits[--n]);
    if (sp->left)
        put_repeat(o, ' ', fill);
}

/* Puts len bytes of s, space-padded to the width (left or right). */
static void put_text(struct out *o, const struct spec *sp, const char *s, int len)
{
    if (!sp->left)
        put_repeat(o, ' ', sp->width - len);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', sp->width - len);
}

/* Reads the flags, width and precision after '%' (advancing *fmt; '*'
 * takes an int argument). */
static void read_spec(const char **fmt, va_list *ap, struct spec *sp)
{
    const char *f = *fmt;
    vb_memset(sp, 0, sizeof *sp);
    sp->prec = -1;
    for (;; f++) {
        if (*f == '-')
            sp->left = true;
        else if (*f == '+')
            sp->plus = true;
        else if (*f == ' ')
            sp->space = true;
        else if (*f == '#')
            sp->alt = true;
        else if (*f == '0')
            sp->zero = true;
        else
            break;
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->left = true;
            sp->width = -sp->width;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            sp->width = sp->width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
        f++;
        sp->prec = 0;
        if (*f == '*') {
            sp->prec = va_arg(*ap, int);
            if (sp->prec < 0)
                sp->prec = -1;
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                sp->prec = sp->prec * 10 + (*f++ - '0');
        }
    }
    *fmt = f;
}

/* Length modifiers. */
enum length { LEN_HH, LEN_H, LEN_INT, LEN_L, LEN_LL, LEN_SIZE };

/* Reads a length modifier (hh h l ll z j t), advancing *fmt. */
static enum length read_length(const char **fmt)
{
    const char *f = *fmt;
    enum length len = LEN_INT;
    if (f[0] == 'h' && f[1] == 'h') {
        len = LEN_HH;
        f += 2;
    } else if (f[0] == 'h') {
        len = LEN_H;
        f++;
    } else if (f[0] == 'l' && f[1] == 'l') {
        len = LEN_LL;
        f += 2;
    } else if (f[0] == 'l') {
        len = LEN_L;
        f++;
    } else if (f[0] == 'j') {
        len = LEN_LL; /* intmax_t is long long's size on every target here */
        f++;
    } else if (f[0] == 'z' || f[0] == 't') {
        len = LEN_SIZE;
        f++;
    }
    *fmt = f;
    return len;
}

/* Fetches a signed argument of length len. */
static long long signed_arg(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_SIZE: return (long long)va_arg(*ap, long); /* ssize_t / ptrdiff_t are long-sized */
    default: return va_arg(*ap, int);
    }
}

/* Fetches an unsigned argument of length len. */
static unsigned long long unsigned_arg(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_SIZE: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned);
    }
}

/* A printf subset: flags - + space # 0, width and precision (numbers or *),
 * lengths hh h l ll z j t, conversions d i u x X c s %. Anything else is
 * copied as written. */
int vb_vformat(char *buf, int cap, const char *fmt, va_list ap_in)
{
    struct out o = { buf, cap, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        const char *start = fmt++;
        struct spec sp;
        read_spec(&fmt, &ap, &sp);
        enum length len = read_length(&fmt);
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n] && (sp.prec < 0 || n < sp.prec))
                n++;
            put_text(&o, &sp, s, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_text(&o, &sp, &c, 1);
            break;
        }
        case 'd':
        case 'i': {
            long long v = signed_arg(&ap, len);
            put_integer(&o, &sp, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0, true, 10,
                        false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
            put_integer(&o, &sp, unsigned_arg(&ap, len), false, false, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            while (start <= fmt)
                put(&o, *start++);
            break;
        }
    }
    va_end(ap);
    if (cap <= 0)
        return 0;
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
