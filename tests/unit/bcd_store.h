/* Unit-test helper: the BCD store written by Windows' bcdedit
 * (../shared/data/bcd/ntloader-template.bcd, see its PROVENANCE.md). */
#ifndef TEST_BCD_STORE_H
#define TEST_BCD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Loads the Windows-made store; NULL when ../shared is absent (the caller skips). */
static inline uint8_t *windows_bcd(size_t *len)
{
    const char *env = getenv("VB_BCD_STORE");
    const char *path = env && *env ? env : "../shared/data/bcd/ntloader-template.bcd";
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

#endif
