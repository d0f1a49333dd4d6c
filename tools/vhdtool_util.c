/* vhdtool: messages, number parsing, UUIDs, timestamps and buffers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tools/vhdtool.h"

int vt_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vhdtool %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'vhdtool %s --help'.\n", cmd);
    va_end(ap);
    return VT_EXIT_USAGE;
}

int vt_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vhdtool: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return VT_EXIT_FAIL;
}

int vt_diag_error(const vb_diag *diag, vb_status status, const char *file)
{
    if (diag && diag->status != VB_OK && diag->text[0]) {
        /* The core names files by core path; add the host name if it did not. */
        const char *slash = strrchr(file, '/');
        const char *base = slash ? slash + 1 : file;
        if (strstr(diag->text, base))
            return vt_error("%s", diag->text);
        return vt_error("%s: %s", file, diag->text);
    }
    return vt_error("%s: %s", file, vb_status_message(status));
}

void vt_diag_clear(vb_diag *diag)
{
    diag->status = VB_OK;
    diag->text[0] = '\0';
}

bool vt_parse_size(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-')
        return false;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 0);
    if (errno || end == text)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 's': case 'S': shift = 9; end++; break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return false;
    }
    if (shift > 9 && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "ib") || !strcmp(end, "b")))
        end += strlen(end);
    if (*end)
        return false;
    if (shift && value > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)value << shift;
    return true;
}

const char *vt_human_size(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    unsigned u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%llu bytes", (unsigned long long)bytes);
    else
        snprintf(out, cap, "%llu (%.2f %s)", (unsigned long long)bytes, v, units[u]);
    return out;
}

bool vt_random_uuid(uint8_t uuid[16])
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t got = 0;
    while (got < 16) {
        ssize_t n = read(fd, uuid + got, 16 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got < 16)
        return false;
    /* Version 4 lives in the top nibble of the third field, which Microsoft
     * order stores little-endian (byte 7); the variant is in byte 8. */
    uuid[7] = (uint8_t)((uuid[7] & 0x0f) | 0x40);
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    return true;
}

uint32_t vt_vhd_timestamp_now(void)
{
    time_t now = time(NULL);
    const time_t epoch_2000 = 946684800;
    if (now < epoch_2000)
        return 0;
    return (uint32_t)(now - epoch_2000);
}

bool vt_all_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (len == 0)
        return true;
    /* p[0] == 0 and p[i] == p[i+1] for all i: libc's vectorised memcmp. */
    return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

void *vt_alloc_buffer(size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, len ? len : 1) != 0)
        return NULL;
    return p;
}
