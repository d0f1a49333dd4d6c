/* vhdboot: parent locator decoding and lexical parent path resolution.
 *
 * Locator entries (8 x 24 bytes at header offset 576, big-endian):
 *   @0 code, @4 data space, @8 data length, @12 reserved, @16 u64 data offset.
 * Codes decoded here: W2ru / W2ku (UTF-16LE Windows paths) and MacX (UTF-8
 * "file://" URL). The deprecated Wi2r, Wi2k and "Mac " entries have no
 * documented text encoding; they are range-checked but left undecoded (empty
 * path), as are unknown codes.
 *
 * Path resolution is purely lexical and never leaves the child's volume:
 *   - '/' and '\' are both separators; "." and empty components vanish;
 *     ".." removes the previous component and may not climb above the root.
 *   - "X:" drive letters, "\\?\X:" and "\\.\X:" prefixes are stripped; what
 *     follows is a path on the child's volume.
 *   - UNC forms "\\server\share\rest" and "\\?\UNC\server\share\rest" keep
 *     only "\rest" (the share is assumed to be the child's volume).
 *   - anything else that does not start with a separator is relative to the
 *     child's folder. */
#include "vhd_internal.h"
#include "vhd_struct.h"
#include "bytes.h"
#include "platform.h"
#include "utf.h"

_Static_assert(VB_LOCATOR_COUNT == VB_MAX_LOCATORS, "locator table size");
/* Longest locator payload we read: a maximal Windows path in UTF-16. */
#define LOCATOR_MAX_BYTES 65536u

/* ---- locator decoding ---- */

static bool code_is(const char code[5], const char *want)
{
    return vb_memcmp(code, want, 4) == 0;
}

/* Value of a hex digit, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Case-insensitive ASCII prefix test; returns the prefix length or 0. */
static size_t skip_prefix_nocase(const char *s, size_t n, const char *prefix)
{
    size_t p = vb_strlen(prefix);
    if (n < p)
        return 0;
    for (size_t i = 0; i < p; i++) {
        char a = s[i], b = prefix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return p;
}

/* Decodes a MacX payload (UTF-8 file URL) into out: strips "file://" and an
 * optional "localhost" host, percent-decodes, validates UTF-8. Returns
 * false on a malformed escape, an embedded NUL, bad UTF-8 or overflow. */
static bool decode_macx(const uint8_t *data, size_t len, char *out, size_t cap)
{
    const char *s = (const char *)data;
    size_t n = 0;
    while (n < len && s[n])
        n++; /* payload may carry a terminator */
    size_t i = skip_prefix_nocase(s, n, "file://");
    if (i)
        i += skip_prefix_nocase(s + i, n - i, "localhost");
    size_t o = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3)
                return false;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    /* Validate UTF-8 by a dry conversion (a UTF-8 byte yields at most one unit). */
    uint8_t *scratch = vb_alloc(2 * o + 2);
    if (!scratch)
        return false;
    size_t units;
    vb_status st = vb_utf8_to_utf16(out, false, scratch, 2 * o + 2, &units);
    vb_free(scratch);
    return st == VB_OK;
}

/* Bytes reserved by a data-space field: < 512 counts sectors, otherwise it
 * must be a byte count that is a multiple of 512. Returns false if invalid. */
static bool data_space_bytes(uint32_t space, uint64_t *bytes)
{
    if (space < 512) {
        *bytes = (uint64_t)space * 512u;
        return true;
    }
    if (space % 512 != 0)
        return false;
    *bytes = space;
    return true;
}

/* Reads and decodes one locator's payload into loc->path. Returns VB_OK or
 * VB_ERR_BAD_LOCATOR / VB_ERR_IO / VB_ERR_NO_MEMORY with diag filled. */
static vb_status decode_payload(vb_source *file, const char *name, unsigned index, vb_locator *loc,
                                vb_diag *diag)
{
    bool utf16 = code_is(loc->code, "W2ru") || code_is(loc->code, "W2ku");
    bool macx = code_is(loc->code, "MacX");
    if (!utf16 && !macx)
        return VB_OK; /* deprecated or unknown: keep undecoded */
    if (loc->data_length == 0)
        return VB_OK;
    if (utf16 && loc->data_length % 2 != 0)
        return vb_fail(diag, VB_ERR_BAD_LOCATOR, "%s: parent locator %u (%s): odd UTF-16 length %u",
                       name, index, loc->code, loc->data_length);
    uint8_t *data = vb_alloc(loc->data_length);
    if (!data)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: parent locator %u (%s): out of memory", name, index,
                       loc->code);
    vb_status st = vb_source_read(file, loc->data_offset, data, loc->data_length);
    if (st != VB_OK) {
        vb_free(data);
        return vb_fail(diag, st == VB_ERR_OUT_OF_RANGE ? VB_ERR_BAD_LOCATOR : st,
                       "%s: parent locator %u (%s): cannot read data at %llu: %s", name, index, loc->code,
                       (unsigned long long)loc->data_offset, vb_status_message(st));
    }
    bool ok;
    if (utf16)
        ok = vb_utf16_to_utf8(data, loc->data_length / 2, false, loc->path, sizeof(loc->path)) == VB_OK;
    else
        ok = decode_macx(data, loc->data_length, loc->path, sizeof(loc->path));
    vb_free(data);
    if (!ok) {
        loc->path[0] = '\0';
        return vb_fail(diag, VB_ERR_BAD_LOCATOR, "%s: parent locator %u (%s): path is not valid %s or too long",
                       name, index, loc->code, utf16 ? "UTF-16" : "UTF-8 URL");
    }
    return VB_OK;
}

vb_status vb_locators_decode(vb_source *file, const char *name, const uint8_t header[1024],
                             uint64_t limit, vb_locator out[VB_MAX_LOCATORS], unsigned *count,
                             vb_diag *diag)
{
    const vb_raw_header *raw = (const vb_raw_header *)header;
    *count = 0;
    for (unsigned i = 0; i < VB_MAX_LOCATORS; i++) {
        const vb_raw_locator *e = &raw->locators[i];
        if (vb_be32(e->code) == 0)
            continue;
        vb_locator *loc = &out[*count];
        vb_memset(loc, 0, sizeof(*loc));
        for (unsigned k = 0; k < 4; k++) {
            char c = e->code[k];
            loc->code[k] = c >= 0x20 && c < 0x7f ? c : '?';
        }
        loc->code[4] = '\0';
        loc->data_space = vb_be32(e->data_space);
        loc->data_length = vb_be32(e->data_length);
        loc->data_offset = vb_be64(e->data_offset);
        uint64_t space;
        if (!data_space_bytes(loc->data_space, &space))
            return vb_fail(diag, VB_ERR_BAD_LOCATOR,
                           "%s: parent locator %u (%s): data space %u is neither sectors (< 512) nor a multiple of 512 bytes",
                           name, i, loc->code, loc->data_space);
        if (loc->data_length > space)
            return vb_fail(diag, VB_ERR_BAD_LOCATOR, "%s: parent locator %u (%s): data length %u exceeds its space %llu",
                           name, i, loc->code, loc->data_length, (unsigned long long)space);
        if (loc->data_offset > limit || loc->data_length > limit - loc->data_offset)
            return vb_fail(diag, VB_ERR_BAD_LOCATOR,
                           "%s: parent locator %u (%s): data at %llu+%u lies outside the file (limit %llu)", name,
                           i, loc->code, (unsigned long long)loc->data_offset, loc->data_length,
                           (unsigned long long)limit);
        if (loc->data_length > LOCATOR_MAX_BYTES)
            return vb_fail(diag, VB_ERR_BAD_LOCATOR, "%s: parent locator %u (%s): data length %u is too long for a path",
                           name, i, loc->code, loc->data_length);
        vb_status st = decode_payload(file, name, i, loc, diag);
        if (st != VB_OK)
            return st;
        (*count)++;
    }
    return VB_OK;
}

/* ---- lexical path resolution ---- */

static bool is_sep(char c)
{
    return c == '\\' || c == '/';
}

static bool is_drive_letter(const char *s)
{
    return ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) && s[1] == ':';
}

/* Skips n separator-delimited components (with their leading separators). */
static const char *skip_components(const char *s, unsigned n)
{
    while (n--) {
        while (is_sep(*s))
            s++;
        while (*s && !is_sep(*s))
            s++;
    }
    return s;
}

/* Removes the volume part of a Windows path (drive letter, \\?\ and \\.\
 * device prefixes, UNC server and share). Sets *absolute when what remains is
 * anchored at the volume root. Returns the remainder. */
static const char *strip_volume(const char *p, bool *absolute)
{
    *absolute = false;
    if (is_sep(p[0]) && is_sep(p[1])) {
        if ((p[2] == '?' || p[2] == '.') && is_sep(p[3])) {
            const char *rest = p + 4;
            if (is_drive_letter(rest)) {
                *absolute = true;
                return rest + 2;
            }
            if (skip_prefix_nocase(rest, vb_strlen(rest), "unc") && is_sep(rest[3])) {
                *absolute = true;
                return skip_components(rest + 3, 2);
            }
            *absolute = true; /* \\?\Volume{...}\rest: drop the volume name */
            return skip_components(rest, 1);
        }
        *absolute = true; /* \\server\share\rest */
        return skip_components(p, 2);
    }
    if (is_drive_letter(p)) {
        *absolute = true; /* "X:rest" (drive-relative) is taken from the root too */
        return p + 2;
    }
    if (is_sep(p[0]))
        *absolute = true;
    return p;
}

/* Appends the components of s[0..n) to out (length *len, capacity cap),
 * applying "." and "..". Returns VB_OK, VB_ERR_PATH_ESCAPES_ROOT or
 * VB_ERR_INVALID_ARG when out is too small. */
static vb_status push_components(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && is_sep(s[i]))
            i++;
        size_t start = i;
        while (i < n && !is_sep(s[i]))
            i++;
        size_t clen = i - start;
        if (clen == 0 || (clen == 1 && s[start] == '.'))
            continue;
        if (clen == 2 && s[start] == '.' && s[start + 1] == '.') {
            if (*len == 0)
                return VB_ERR_PATH_ESCAPES_ROOT;
            while (*len > 0 && out[--*len] != '\\')
                ;
            continue;
        }
        if (cap - *len <= clen + 1)
            return VB_ERR_INVALID_ARG;
        out[(*len)++] = '\\';
        vb_memcpy(out + *len, s + start, clen);
        *len += clen;
    }
    return VB_OK;
}

vb_status vb_path_resolve(const char *child_path, const char *rel, char *out, size_t cap)
{
    if (!rel || !child_path || cap < 2)
        return VB_ERR_INVALID_ARG;
    size_t len = 0;
    bool absolute;
    const char *rest = strip_volume(rel, &absolute);
    const char *c = rest;
    while (is_sep(*c))
        c++;
    if (!*c)
        return VB_ERR_INVALID_ARG; /* no file name at all */
    vb_status st;
    if (!absolute) {
        /* the child's folder: everything before its last separator */
        const char *child = child_path;
        bool child_abs;
        child = strip_volume(child, &child_abs);
        size_t folder = vb_strlen(child);
        while (folder > 0 && !is_sep(child[folder - 1]))
            folder--;
        st = push_components(child, folder, out, cap, &len);
        if (st != VB_OK)
            return st;
    }
    st = push_components(rest, vb_strlen(rest), out, cap, &len);
    if (st != VB_OK)
        return st;
    if (len == 0)
        return VB_ERR_INVALID_ARG; /* names the root, not a file */
    out[len] = '\0';
    return VB_OK;
}

/* ---- parent candidates ---- */

/* Resolves rel against child_path and appends it to out unless it is already
 * there or does not resolve. Returns the new count. */
static unsigned add_candidate(const char *child_path, const char *rel, char out[][VB_PATH_MAX], unsigned count,
                              unsigned max)
{
    char resolved[VB_PATH_MAX];
    if (count >= max || !rel[0] || vb_path_resolve(child_path, rel, resolved, sizeof(resolved)) != VB_OK)
        return count;
    for (unsigned i = 0; i < count; i++)
        if (vb_ascii_caseeq(out[i], resolved))
            return count;
    vb_strlcpy(out[count], resolved, VB_PATH_MAX);
    return count + 1;
}

/* Adds every locator with the given code, in table order. Returns the count. */
static unsigned add_locators(const vb_layer *layer, const char *code, const char *child_path,
                             char out[][VB_PATH_MAX], unsigned count, unsigned max)
{
    unsigned n = vb_layer_locator_count(layer);
    for (unsigned i = 0; i < n; i++) {
        const vb_locator *loc = vb_layer_locator(layer, i);
        if (loc && code_is(loc->code, code))
            count = add_candidate(child_path, loc->path, out, count, max);
    }
    return count;
}

unsigned vb_parent_candidates(const vb_layer *layer, const char *child_path, char out[][VB_PATH_MAX], unsigned max)
{
    unsigned count = 0;
    count = add_locators(layer, "W2ru", child_path, out, count, max);
    count = add_locators(layer, "W2ku", child_path, out, count, max);
    count = add_locators(layer, "MacX", child_path, out, count, max);
    /* VHDX parent locator keys, in the order MS-VHDX gives (vhdx_meta.c) */
    count = add_locators(layer, "rel ", child_path, out, count, max);
    count = add_locators(layer, "vol ", child_path, out, count, max);
    count = add_locators(layer, "abs ", child_path, out, count, max);
    const char *name = vb_layer_info(layer)->parent_name;
    const char *last = name;
    for (const char *p = name; *p; p++)
        if (is_sep(*p) || (p == name + 1 && *p == ':'))
            last = p + 1;
    if (*last && !(last[0] == '.' && (!last[1] || (last[1] == '.' && !last[2])))) {
        char leaf[VB_PATH_MAX];
        leaf[0] = '.';
        leaf[1] = '\\';
        vb_strlcpy(leaf + 2, last, sizeof(leaf) - 2);
        count = add_candidate(child_path, leaf, out, count, max);
    }
    return count;
}
