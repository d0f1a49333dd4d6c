/* vhdboot: core-path components and simple case folding for fs/. */
#include "fs_name.h"
#include "format/bytes.h"
#include "format/utf.h"

vb_status vb_fs_path_next(const char *path, size_t *pos, vb_fs_name *name, bool *done, vb_diag *diag)
{
    size_t i = *pos;
    for (;;) {
        while (path[i] == '\\' || path[i] == '/')
            i++;
        size_t start = i;
        while (path[i] && path[i] != '\\' && path[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 0) {
            *pos = i;
            *done = true;
            return VB_OK;
        }
        if (n == 1 && path[start] == '.')
            continue;
        if (n == 2 && path[start] == '.' && path[start + 1] == '.')
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: '..' is not allowed in a volume path", path);
        char utf8[VB_FS_NAME_MAX * 3 + 1];
        if (n >= sizeof(utf8))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: a path component is longer than %u characters", path, VB_FS_NAME_MAX);
        vb_memcpy(utf8, path + start, n);
        utf8[n] = '\0';
        uint8_t le[VB_FS_NAME_MAX * 2];
        size_t units;
        if (vb_utf8_to_utf16(utf8, false, le, sizeof(le), &units) != VB_OK)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: path component '%s' is not valid UTF-8 or longer than %u UTF-16 units",
                           path, utf8, VB_FS_NAME_MAX);
        for (size_t k = 0; k < units; k++)
            name->units[k] = vb_le16(le + 2 * k);
        name->len = units;
        *pos = i;
        *done = false;
        return VB_OK;
    }
}

uint16_t vb_fs_simple_upcase(uint16_t c)
{
    if (c >= 'a' && c <= 'z')
        return (uint16_t)(c - 0x20);
    if (c < 0x80)
        return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return (uint16_t)(c - 0x20);
    if (c == 0xFF)
        return 0x178;
    if (c >= 0x100 && c <= 0x17F) { /* Latin Extended-A: mostly even upper / odd lower pairs */
        bool odd_lower = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
        bool even_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower && (c & 1) && c != 0x131)
            return (uint16_t)(c - 1);
        if (even_lower && !(c & 1))
            return (uint16_t)(c - 1);
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) /* Greek small letters */
        return (uint16_t)(c - 0x20);
    if (c == 0x3C2) /* final sigma */
        return 0x3A3;
    if (c >= 0x430 && c <= 0x44F) /* Cyrillic */
        return (uint16_t)(c - 0x20);
    if (c >= 0x450 && c <= 0x45F)
        return (uint16_t)(c - 0x50);
    return c;
}

void vb_fs_name_to_utf8(const uint8_t *le_units, size_t units, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (vb_utf16_to_utf8(le_units, units, false, out, cap) == VB_OK)
        return;
    size_t n = 0; /* fall back to ASCII with '?' for anything else */
    for (size_t i = 0; i < units && n + 1 < cap; i++) {
        uint16_t u = vb_le16(le_units + 2 * i);
        if (u == 0)
            break;
        out[n++] = u < 0x80 ? (char)u : '?';
    }
    out[n] = '\0';
}
