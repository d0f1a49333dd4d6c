/* Unit tests: the core's formatter (format/diag.c) against the host's
 * vsnprintf, and UUID text (format/uuid.c). The formatter is compared
 * over every flag set, widths, precisions, length modifiers and
 * conversions vb_vformat supports, plus cutting at the buffer's end. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>
#include "format/diag.h"
#include "format/uuid.h"

static unsigned compared; /* format/value pairs checked, printed at the end */

/* Formats with both and fails naming the format when they differ; a
 * cap below the text's length also checks the cut (vb_vformat returns what
 * it wrote, vsnprintf what it would have). */
static void compare(int cap, const char *fmt, ...)
{
    char mine[256], ref[256];
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    int n = vb_vformat(mine, cap, fmt, a);
    int want = vsnprintf(ref, (size_t)cap, fmt, b);
    va_end(b);
    va_end(a);
    if (strcmp(mine, ref) != 0)
        fail_msg("format \"%s\" (cap %d): vb_vformat gave \"%s\", vsnprintf \"%s\"", fmt, cap, mine, ref);
    int expect = want < cap ? want : cap - 1;
    if (n != expect)
        fail_msg("format \"%s\" (cap %d): vb_vformat returned %d, expected %d", fmt, cap, n, expect);
    compared++;
}

/* Builds "%" FLAGS WIDTH PREC LEN CONV into out. flags is a bit set over "-+ #0". */
static void build(char *out, unsigned flags, const char *width, const char *prec, const char *len, char conv)
{
    static const char flag_chars[] = "-+ #0";
    char *o = out;
    *o++ = '%';
    for (unsigned i = 0; i < 5; i++)
        if (flags & (1u << i))
            *o++ = flag_chars[i];
    o += sprintf(o, "%s%s%s%c", width, prec, len, conv);
}

static const char *const widths[] = { "", "1", "5", "12", "*" };
static const char *const precs[] = { "", ".", ".0", ".3", ".10", ".*" };
static const int star_widths[] = { 7, -7 };
static const int star_precs[] = { 4, -1 };

/* Calls compare for fmt with value v of the type its length modifier names,
 * preceded by the '*' arguments it needs. */
static void compare_integer(const char *fmt, const char *len, char conv, long long v, int w, int p, bool sw, bool sp)
{
    bool is_signed = conv == 'd' || conv == 'i';
#define CALL(arg)                                                 \
    do {                                                          \
        if (sw && sp)                                             \
            compare(256, fmt, w, p, arg);                         \
        else if (sw)                                              \
            compare(256, fmt, w, arg);                            \
        else if (sp)                                              \
            compare(256, fmt, p, arg);                            \
        else                                                      \
            compare(256, fmt, arg);                               \
    } while (0)
    if (!strcmp(len, "hh") || !strcmp(len, "h") || !*len) {
        if (is_signed)
            CALL((int)v);
        else
            CALL((unsigned)v);
    } else if (!strcmp(len, "l")) {
        if (is_signed)
            CALL((long)v);
        else
            CALL((unsigned long)v);
    } else if (!strcmp(len, "ll")) {
        if (is_signed)
            CALL(v);
        else
            CALL((unsigned long long)v);
    } else if (!strcmp(len, "j")) {
        if (is_signed)
            CALL((intmax_t)v);
        else
            CALL((uintmax_t)v);
    } else if (!strcmp(len, "z")) {
        if (is_signed)
            CALL((ssize_t)v);
        else
            CALL((size_t)v);
    } else { /* t */
        CALL((ptrdiff_t)v);
    }
#undef CALL
}

/* Integers: every flag set, width, precision and length over values at the edges. */
static void test_integers(void **state)
{
    (void)state;
    static const long long values[] = { 0, 1, -1, 7, 42, -42, 255, 300, -300, 65535, 65536, 123456789,
                                        INT_MAX, INT_MIN, (long long)UINT_MAX, LLONG_MAX, LLONG_MIN };
    static const char *const lens[] = { "", "hh", "h", "l", "ll", "j", "z", "t" };
    static const char convs[] = "diuxX";
    char fmt[32];
    for (const char *c = convs; *c; c++) {
        for (unsigned flags = 0; flags < 32; flags++) {
            /* '#' is undefined for d, i and u */
            if ((flags & 8) && (*c == 'd' || *c == 'i' || *c == 'u'))
                continue;
            for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
                for (size_t pi = 0; pi < sizeof precs / sizeof *precs; pi++)
                    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
                        if (!strcmp(lens[li], "t") && *c != 'd' && *c != 'i')
                            continue;
                        build(fmt, flags, widths[wi], precs[pi], lens[li], *c);
                        bool sw = strchr(widths[wi], '*') != NULL, sp = strchr(precs[pi], '*') != NULL;
                        for (size_t vi = 0; vi < sizeof values / sizeof *values; vi++)
                            for (size_t k = 0; k < 2; k++)
                                compare_integer(fmt, lens[li], *c, values[vi], star_widths[k], star_precs[k], sw, sp);
                    }
        }
    }
}

/* Strings and characters: '-', width and precision (the others are undefined for them). */
static void test_strings(void **state)
{
    (void)state;
    static const char *const texts[] = { "", "a", "vhdboot", "\\EFI\\BOOT\\BOOTX64.EFI" };
    char fmt[32];
    for (unsigned flags = 0; flags < 2; flags++)
        for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
            bool sw = strchr(widths[wi], '*') != NULL;
            for (size_t pi = 0; pi < sizeof precs / sizeof *precs; pi++) {
                bool sp = strchr(precs[pi], '*') != NULL;
                build(fmt, flags, widths[wi], precs[pi], "", 's');
                for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
                    for (size_t k = 0; k < 2; k++) {
                        if (sw && sp)
                            compare(256, fmt, star_widths[k], star_precs[k], texts[t]);
                        else if (sw)
                            compare(256, fmt, star_widths[k], texts[t]);
                        else if (sp)
                            compare(256, fmt, star_precs[k], texts[t]);
                        else
                            compare(256, fmt, texts[t]);
                    }
            }
            build(fmt, flags, widths[wi], "", "", 'c');
            if (sw)
                compare(256, fmt, -3, 'x');
            else
                compare(256, fmt, 'x');
        }
    compare(256, "100%% sure: %s, %c%c", "yes", 'o', 'k');
}

/* The case the review found: zero padding goes after the sign. */
static void test_zero_pad_negative(void **state)
{
    (void)state;
    char buf[16];
    vb_format(buf, sizeof buf, "%05d", -42);
    assert_string_equal(buf, "-0042");
    compare(256, "%05d|%-5d|%+05d|% 05d|%08.3d", -42, -42, 42, 42, -42);
}

/* A full buffer cuts the text and keeps it terminated, at every capacity. */
static void test_cut(void **state)
{
    (void)state;
    for (int cap = 1; cap < 40; cap++)
        compare(cap, "%s: line %u: %08x %-6s|", "\\vms\\x.vhd", 12u, 0xbeefu, "ab");
    char buf[4] = { 'x', 'x', 'x', 'x' };
    assert_int_equal(vb_format(buf, 0, "%d", 1234), 0);
    assert_int_equal(buf[0], 'x'); /* cap 0 writes nothing */
}

/* vb_fail records the status and the formatted text; a NULL diag is allowed. */
static void test_fail(void **state)
{
    (void)state;
    vb_diag diag;
    assert_int_equal(vb_fail(&diag, VB_ERR_BAD_TABLE, "%s: block %u at 0x%llx", "a.vhd", 3u, 0x1234ULL), VB_ERR_BAD_TABLE);
    assert_int_equal(diag.status, VB_ERR_BAD_TABLE);
    assert_string_equal(diag.text, "a.vhd: block 3 at 0x1234");
    assert_int_equal(vb_fail(NULL, VB_ERR_IO, "%d", 1), VB_ERR_IO);
}

/* UUID text in both orders: stored bytes 00 11 22 ... ff. */
static void test_uuid_text(void **state)
{
    (void)state;
    uint8_t u[16];
    char text[VB_UUID_TEXT_SIZE];
    for (unsigned i = 0; i < 16; i++)
        u[i] = (uint8_t)(i * 0x11);
    vb_uuid_text(u, VB_UUID_STORED, text);
    assert_string_equal(text, "00112233-4455-6677-8899-aabbccddeeff");
    vb_uuid_text(u, VB_UUID_GUID, text);
    assert_string_equal(text, "33221100-5544-7766-8899-aabbccddeeff");
}

/* Runs the formatter tests and prints how many format/value pairs were compared. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_zero_pad_negative),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_uuid_text),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("# %u formats compared with vsnprintf\n", compared);
    return failed;
}
