/* vhdboot: freestanding byte helpers (the core links no libc). */
#include "bytes.h"

void vb_memcpy(void *dst, const void *src, size_t n)
{
    /* Both libc and gnu-efi's libefi provide memcpy/memset for these. */
    __builtin_memcpy(dst, src, n);
}

void vb_memset(void *dst, int value, size_t n)
{
    __builtin_memset(dst, value, n);
}

int vb_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t vb_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

char vb_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int vb_ascii_casecmp(const char *a, const char *b)
{
    for (; *a && vb_ascii_lower(*a) == vb_ascii_lower(*b); a++, b++)
        ;
    return (unsigned char)vb_ascii_lower(*a) - (unsigned char)vb_ascii_lower(*b);
}

bool vb_ascii_caseeq(const char *a, const char *b)
{
    return vb_ascii_casecmp(a, b) == 0;
}

size_t vb_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    while (src[n] && n + 1 < cap) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
    return n;
}
