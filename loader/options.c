/* vhdboot: picks the VHD path out of the load options (portable). */
#include "options.h"
#include "format/bytes.h"
#include "format/utf.h"

static bool is_blank(uint16_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the UTF-8 word ends with the lowercase ASCII suffix, ignoring case. */
static bool ends_with(const char *word, size_t len, const char *suffix)
{
    size_t n = vb_strlen(suffix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (vb_ascii_lower(word[len - n + i]) != suffix[i])
            return false;
    return true;
}

/* Reads one argument (optionally "quoted") starting at *pos, as UTF-8 into
 * out. Returns false on malformed text, a control character or overflow. */
static bool next_word(const uint16_t *u, size_t count, size_t *pos, char *out, size_t cap, size_t *len)
{
    bool quoted = false;
    *len = 0;
    if (*pos < count && u[*pos] == '"') {
        quoted = true;
        (*pos)++;
    }
    while (*pos < count && u[*pos] != 0) {
        uint32_t c = u[*pos];
        if (quoted ? c == '"' : is_blank((uint16_t)c)) {
            if (quoted)
                (*pos)++;
            break;
        }
        (*pos)++;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c >= 0xd800 && c <= 0xdbff) {
            if (*pos >= count || u[*pos] < 0xdc00 || u[*pos] > 0xdfff)
                return false;
            c = 0x10000 + ((c - 0xd800) << 10) + (u[*pos] - 0xdc00u);
            (*pos)++;
        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return false;
        }
        if (!vb_utf8_put(out, cap, len, c))
            return false;
    }
    out[*len] = '\0';
    return true;
}

/* Whether a UTF-8 word of len bytes looks like a path to a VHD. */
static bool looks_like_path(const char *word, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (word[i] == '\\' || word[i] == '/')
            return true;
    return ends_with(word, len, ".vhd") || ends_with(word, len, ".vhdx");
}

bool vb_options_vhd_path(const uint16_t *units, size_t count, char *out, size_t cap)
{
    size_t pos = 0, len;
    unsigned index = 0;
    if (!units || cap == 0)
        return false;
    out[0] = '\0';
    while (pos < count && units[pos] != 0 && index < 2) {
        if (is_blank(units[pos])) {
            pos++;
            continue;
        }
        if (!next_word(units, count, &pos, out, cap, &len))
            break;
        /* Word 0 is the program name unless it is itself the path (boot
         * entry data carries no program name); word 1 must be the path. */
        if (looks_like_path(out, len) && !(index == 0 && ends_with(out, len, ".efi")))
            return true;
        index++;
    }
    out[0] = '\0';
    return false;
}
