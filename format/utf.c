/* vhdboot: UTF-16 <-> UTF-8 conversion for parent names and locators.
 *
 * Both directions are strict: unpaired surrogates, overlong or truncated
 * UTF-8 sequences, encoded surrogates and code points above U+10FFFF are
 * refused rather than replaced, so a hostile name never turns into a
 * different path than the one stored. */
#include "utf.h"
#include "bytes.h"

/* Reads code unit i of a UTF-16 byte string in the given byte order. */
static uint16_t unit_at(const uint8_t *src, size_t i, bool big_endian)
{
    return big_endian ? vb_be16(src + 2 * i) : vb_le16(src + 2 * i);
}

/* Stores code unit i of a UTF-16 byte string in the given byte order. */
static void put_unit(uint8_t *out, size_t i, uint16_t unit, bool big_endian)
{
    if (big_endian)
        vb_put_be16(out + 2 * i, unit);
    else
        vb_put_le16(out + 2 * i, unit);
}

bool vb_utf8_put(char *out, size_t cap, size_t *len, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (cap - *len <= n)
        return false;
    for (size_t i = 0; i < n; i++)
        out[(*len)++] = (char)b[i];
    return true;
}

vb_status vb_utf16_to_utf8(const uint8_t *src, size_t units, bool big_endian, char *out, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return VB_ERR_INVALID_ARG;
    out[0] = '\0';
    for (size_t i = 0; i < units; i++) {
        uint32_t cp = unit_at(src, i, big_endian);
        if (cp == 0)
            break;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return VB_ERR_INVALID_ARG; /* low surrogate without a high one */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 1 >= units)
                return VB_ERR_INVALID_ARG;
            uint32_t low = unit_at(src, i + 1, big_endian);
            if (low < 0xDC00 || low > 0xDFFF)
                return VB_ERR_INVALID_ARG;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i++;
        }
        if (!vb_utf8_put(out, cap, &len, cp)) {
            out[len] = '\0';
            return VB_ERR_INVALID_ARG;
        }
    }
    out[len] = '\0';
    return VB_OK;
}

/* Decodes one UTF-8 sequence at s; stores the code point and the number of
 * bytes used. Returns false on a malformed, overlong or out-of-range sequence. */
static bool next_code_point(const uint8_t *s, uint32_t *cp, size_t *used)
{
    uint8_t c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        *used = 1;
        return true;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2; v = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3; v = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the terminator */
            return false;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *cp = v;
    *used = n;
    return true;
}

vb_status vb_utf8_to_utf16(const char *src, bool big_endian, uint8_t *out, size_t cap, size_t *units_out)
{
    const uint8_t *s = (const uint8_t *)src;
    size_t units = 0, max_units = cap / 2;
    *units_out = 0;
    while (*s) {
        uint32_t cp;
        size_t used;
        if (!next_code_point(s, &cp, &used))
            return VB_ERR_INVALID_ARG;
        s += used;
        if (cp >= 0x10000) {
            if (max_units - units < 2)
                return VB_ERR_INVALID_ARG;
            cp -= 0x10000;
            put_unit(out, units++, (uint16_t)(0xD800 | cp >> 10), big_endian);
            put_unit(out, units++, (uint16_t)(0xDC00 | (cp & 0x3FF)), big_endian);
        } else {
            if (max_units - units < 1)
                return VB_ERR_INVALID_ARG;
            put_unit(out, units++, (uint16_t)cp, big_endian);
        }
    }
    *units_out = units;
    return VB_OK;
}
