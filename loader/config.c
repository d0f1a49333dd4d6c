/* vhdboot: parser for vhdboot.conf (portable, unit-tested on the host). */
#include "config.h"
#include "format/bytes.h"

/* Parser state carried across lines. */
struct parser {
    const char *name;
    vb_config *cfg;
    vb_diag *diag;
    unsigned line;
    vb_boot_entry *entry;        /* entry being filled, NULL before the first */
    char default_id[VB_CONFIG_ID_MAX];
    unsigned default_line;           /* line of `default`, 0 before */
    unsigned first_line[16];         /* per keyword (table index): line of a once-only global, 0 before */
    unsigned entry_seen;             /* per keyword (bit = table index): given in the current entry */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether s starts with the lowercase literal prefix, ignoring ASCII case. */
static bool starts_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (vb_ascii_lower(*s) != *prefix)
            return false;
    return true;
}

static bool equals(const char *a, const char *b)
{
    size_t n = vb_strlen(a);
    return n == vb_strlen(b) && vb_memcmp(a, b, n) == 0;
}

/* Records a "name: line N: message" error; returns VB_ERR_CONFIG. */
static vb_status line_error(struct parser *p, unsigned line, const char *what, const char *detail)
{
    if (detail)
        return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: %s '%s'", p->name, line, what, detail);
    return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: %s", p->name, line, what);
}

/* Copies value into dst (capacity cap); returns false when it does not fit. */
static bool copy_value(char *dst, size_t cap, const char *value)
{
    if (vb_strlen(value) >= cap)
        return false;
    vb_strlcpy(dst, value, cap);
    return true;
}

/* Copies a path turning '/' into '\'; returns false when it does not fit. */
static bool copy_path(char *dst, size_t cap, const char *value)
{
    if (!copy_value(dst, cap, value))
        return false;
    for (; *dst; dst++)
        if (*dst == '/')
            *dst = '\\';
    return true;
}

/* Whether s (n chars) has the 8-4-4-4-12 hex digit shape of a GUID. */
static bool looks_like_guid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return false;
    }
    return true;
}

vb_status vb_config_set_vhd(vb_boot_entry *entry, const char *value, const char **why)
{
    const char *path = value;
    entry->volume_kind = VB_VOLUME_SELF;
    entry->volume[0] = '\0';

    /* "NAME:\path": a volume name before the first separator ends with ':'. */
    const char *sep = value;
    while (*sep && *sep != '\\' && *sep != '/')
        sep++;
    if (sep > value && sep[-1] == ':') {
        const char *name = value;
        size_t n = (size_t)(sep - value) - 1;
        enum vb_volume_kind kind = VB_VOLUME_LABEL;
        bool forced = false;
        if (starts_nocase(name, "label=")) {
            name += 6;
            n -= 6;
            forced = true;
        } else if (starts_nocase(name, "partuuid=")) {
            name += 9;
            n -= 9;
            kind = VB_VOLUME_PARTUUID;
            forced = true;
        }
        if (!forced && looks_like_guid(name, n))
            kind = VB_VOLUME_PARTUUID;
        if (n == 0) {
            *why = "volume name missing before ':'";
            return VB_ERR_CONFIG;
        }
        if (n >= VB_CONFIG_VOLUME_MAX) {
            *why = "volume name too long";
            return VB_ERR_CONFIG;
        }
        vb_memcpy(entry->volume, name, n);
        entry->volume[n] = '\0';
        entry->volume_kind = kind;
        path = sep;
    } else if (*sep == '\0' && sep > value && sep[-1] == ':') {
        *why = "path missing after the volume";
        return VB_ERR_CONFIG;
    }
    if (*path == '\0') {
        *why = "path missing";
        return VB_ERR_CONFIG;
    }
    if (!copy_path(entry->vhd, sizeof entry->vhd, path)) {
        *why = "path too long";
        return VB_ERR_CONFIG;
    }
    return VB_OK;
}

const char *vb_write_mode_name(enum vb_write_mode mode)
{
    switch (mode) {
    case VB_WRITE_VOLATILE:
        return "volatile";
    case VB_WRITE_READONLY:
        return "readonly";
    case VB_WRITE_PERSISTENT_OR_VOLATILE:
        return "persistent-or-volatile";
    case VB_WRITE_RAM:
        return "ram";
    default:
        return "persistent";
    }
}

const char *vb_trace_mode_name(enum vb_trace_mode mode)
{
    switch (mode) {
    case VB_TRACE_OFF:
        return "off";
    case VB_TRACE_CONSOLE:
        return "console";
    case VB_TRACE_FILE:
        return "file";
    case VB_TRACE_ON:
        return "on";
    default:
        return "inherit";
    }
}

enum vb_trace_mode vb_config_trace(const vb_config *cfg, const vb_boot_entry *entry)
{
    if (entry->trace != VB_TRACE_INHERIT)
        return entry->trace;
    return cfg->trace == VB_TRACE_INHERIT ? VB_TRACE_OFF : cfg->trace;
}

/* Parses a decimal number of seconds; returns false if not a plain number in range. */
static bool parse_seconds(const char *s, unsigned *out)
{
    unsigned long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > VB_CONFIG_MAX_TIMEOUT)
            return false;
    }
    *out = (unsigned)v;
    return true;
}

/* Checks that the entry being closed has a vhd; returns the status. */
static vb_status finish_entry(struct parser *p)
{
    if (p->entry && !p->entry->vhd[0])
        return line_error(p, p->entry->line, "entry has no vhd:", p->entry->id);
    return VB_OK;
}

/* Starts a new entry named id; returns the status. */
static vb_status start_entry(struct parser *p, const char *id)
{
    vb_status st = finish_entry(p);
    if (st != VB_OK)
        return st;
    for (const char *c = id; *c; c++)
        if (is_space(*c))
            return line_error(p, p->line, "entry id must be one word:", id);
    if (vb_strlen(id) >= VB_CONFIG_ID_MAX)
        return line_error(p, p->line, "entry id too long:", id);
    for (unsigned i = 0; i < p->cfg->count; i++)
        if (equals(p->cfg->entries[i].id, id))
            return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: duplicate entry id '%s' (first on line %u)",
                           p->name, p->line, id, p->cfg->entries[i].line);
    if (p->cfg->count >= VB_CONFIG_MAX_ENTRIES)
        return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: too many entries (at most %u): '%s'", p->name,
                       p->line, VB_CONFIG_MAX_ENTRIES, id);
    vb_boot_entry *e = &p->cfg->entries[p->cfg->count++];
    vb_memset(e, 0, sizeof *e);
    vb_strlcpy(e->id, id, sizeof e->id);
    vb_strlcpy(e->title, id, sizeof e->title);
    e->write = VB_WRITE_PERSISTENT;
    e->line = p->line;
    p->entry = e;
    p->entry_seen = 0;
    return VB_OK;
}

/* Applies `discover on|off`; returns the status. */
static vb_status apply_discover(struct parser *p, const char *value)
{
    if (vb_ascii_caseeq(value, "on"))
        p->cfg->discover = true;
    else if (vb_ascii_caseeq(value, "off"))
        p->cfg->discover = false;
    else
        return line_error(p, p->line, "bad value for discover (on or off):", value);
    return VB_OK;
}

/* Applies one `discover-path PATH` (a folder, '\' or '/' separated, from
 * the volume root); returns the status. */
static vb_status apply_discover_path(struct parser *p, const char *value)
{
    vb_config *cfg = p->cfg;
    if (cfg->discover_path_count >= VB_CONFIG_DISCOVER_PATHS_MAX)
        return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: too many discover-path folders (at most %u): '%s'",
                       p->name, p->line, VB_CONFIG_DISCOVER_PATHS_MAX, value);
    char *dst = cfg->discover_paths[cfg->discover_path_count];
    if (!copy_path(dst, VB_CONFIG_DISCOVER_PATH_LEN, value))
        return line_error(p, p->line, "discover-path too long:", value);
    if (dst[0] != '\\')
        return line_error(p, p->line, "discover-path must start with '\\':", value);
    size_t n = vb_strlen(dst);
    while (n > 1 && dst[n - 1] == '\\')
        dst[--n] = '\0'; /* "\vms\" -> "\vms" */
    cfg->discover_path_count++;
    return VB_OK;
}

/* Applies `timeout N`; returns the status. */
static vb_status apply_timeout(struct parser *p, const char *value)
{
    if (!parse_seconds(value, &p->cfg->timeout))
        return line_error(p, p->line, "bad number of seconds (0-86400) for timeout:", value);
    return VB_OK;
}

/* Applies `default ID` (resolved once every entry is known); returns the status. */
static vb_status apply_default(struct parser *p, const char *value)
{
    if (!copy_value(p->default_id, sizeof p->default_id, value))
        return line_error(p, p->line, "default id too long:", value);
    p->default_line = p->line;
    return VB_OK;
}

/* Applies `title TEXT`; returns the status. */
static vb_status apply_title(struct parser *p, const char *value)
{
    if (!copy_value(p->entry->title, sizeof p->entry->title, value))
        return line_error(p, p->line, "title too long:", value);
    return VB_OK;
}

/* Applies `vhd PATH`; returns the status. */
static vb_status apply_vhd(struct parser *p, const char *value)
{
    const char *why;
    if (vb_config_set_vhd(p->entry, value, &why) != VB_OK)
        return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: bad vhd '%s': %s", p->name, p->line, value, why);
    return VB_OK;
}

/* Applies `efi PATH`; returns the status. */
static vb_status apply_efi(struct parser *p, const char *value)
{
    if (!copy_path(p->entry->efi, sizeof p->entry->efi, value))
        return line_error(p, p->line, "efi path too long:", value);
    if (p->entry->efi[0] != '\\')
        return line_error(p, p->line, "efi path must start with '\\':", value);
    return VB_OK;
}

/* Applies `write MODE`; returns the status. */
static vb_status apply_write(struct parser *p, const char *value)
{
    if (vb_ascii_caseeq(value, "persistent"))
        p->entry->write = VB_WRITE_PERSISTENT;
    else if (vb_ascii_caseeq(value, "volatile"))
        p->entry->write = VB_WRITE_VOLATILE;
    else if (vb_ascii_caseeq(value, "readonly"))
        p->entry->write = VB_WRITE_READONLY;
    else if (vb_ascii_caseeq(value, "persistent-or-volatile"))
        p->entry->write = VB_WRITE_PERSISTENT_OR_VOLATILE;
    else if (vb_ascii_caseeq(value, "ram"))
        p->entry->write = VB_WRITE_RAM;
    else
        return line_error(p, p->line, "bad write mode (persistent, volatile, readonly, persistent-or-volatile or ram):",
                          value);
    return VB_OK;
}

/* Applies `trace MODE` to the current entry, or to the configuration
 * before the first entry; returns the status. */
static vb_status apply_trace(struct parser *p, const char *value)
{
    static const enum vb_trace_mode modes[] = { VB_TRACE_OFF, VB_TRACE_CONSOLE, VB_TRACE_FILE, VB_TRACE_ON };
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (vb_ascii_caseeq(value, vb_trace_mode_name(modes[i]))) {
            *(p->entry ? &p->entry->trace : &p->cfg->trace) = modes[i];
            return VB_OK;
        }
    }
    return line_error(p, p->line, "bad trace mode (off, console, file or on):", value);
}

/* Where a keyword may stand and how often. */
enum scope {
    GLOBAL_ONCE,   /* outside entries (anywhere), at most once */
    GLOBAL_MANY,   /* anywhere, repeatable */
    ENTRY_START,   /* starts an entry */
    ENTRY_ONCE,    /* inside an entry, at most once per entry */
    EITHER_ONCE,   /* before the first entry: global, once; inside one: the entry's, once per entry */
};

/* Every keyword of vhdboot.conf (config.h describes them). */
static const struct keyword {
    const char *name;
    enum scope scope;
    vb_status (*apply)(struct parser *p, const char *value);
} keywords[] = {
    { "timeout", GLOBAL_ONCE, apply_timeout },
    { "default", GLOBAL_ONCE, apply_default },
    { "discover", GLOBAL_ONCE, apply_discover },
    { "discover-path", GLOBAL_MANY, apply_discover_path },
    { "entry", ENTRY_START, start_entry },
    { "title", ENTRY_ONCE, apply_title },
    { "vhd", ENTRY_ONCE, apply_vhd },
    { "efi", ENTRY_ONCE, apply_efi },
    { "write", ENTRY_ONCE, apply_write },
    { "trace", EITHER_ONCE, apply_trace },
};
_Static_assert(sizeof keywords / sizeof keywords[0] <= sizeof ((struct parser *)0)->first_line /
                                                       sizeof ((struct parser *)0)->first_line[0],
               "first_line has a slot per keyword");

/* Applies one "keyword value" line: finds the keyword in the table, checks
 * its place and repetition, then applies the value. Returns the status. */
static vb_status apply(struct parser *p, const char *keyword, const char *value)
{
    unsigned i = 0, count = sizeof keywords / sizeof keywords[0];
    while (i < count && !equals(keyword, keywords[i].name))
        i++;
    if (i == count)
        return line_error(p, p->line, "unknown keyword", keyword);
    const struct keyword *k = &keywords[i];
    if (!*value)
        return line_error(p, p->line, "missing value for", keyword);
    enum scope scope = k->scope == EITHER_ONCE ? (p->entry ? ENTRY_ONCE : GLOBAL_ONCE) : k->scope;
    if (scope == GLOBAL_ONCE && p->first_line[i])
        return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: '%s' given twice (first on line %u)", p->name,
                       p->line, k->name, p->first_line[i]);
    if (scope == ENTRY_ONCE) {
        if (!p->entry)
            return line_error(p, p->line, "keyword outside an entry:", keyword);
        if (p->entry_seen & (1u << i))
            return vb_fail(p->diag, VB_ERR_CONFIG, "%s: line %u: '%s' given twice in entry '%s'", p->name,
                           p->line, keyword, p->entry->id);
    }
    vb_status st = k->apply(p, value);
    if (st != VB_OK)
        return st;
    if (scope == GLOBAL_ONCE)
        p->first_line[i] = p->line;
    if (scope == ENTRY_ONCE)
        p->entry_seen |= 1u << i;
    return VB_OK;
}

/* Splits one line (already without its newline) into keyword and value and applies it. */
static vb_status parse_line(struct parser *p, const char *start, size_t len)
{
    char buf[VB_CONFIG_PATH_MAX + 64];
    while (len && (start[len - 1] == '\r' || is_space(start[len - 1])))
        len--;
    while (len && is_space(*start)) {
        start++;
        len--;
    }
    if (len == 0 || *start == '#')
        return VB_OK;
    if (len >= sizeof buf)
        return line_error(p, p->line, "line too long", NULL);
    vb_memcpy(buf, start, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (((uint8_t)buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f)
            return line_error(p, p->line, "control character in line", NULL);

    char *value = buf;
    while (*value && !is_space(*value))
        value++;
    if (*value) {
        *value++ = '\0';
        while (is_space(*value))
            value++;
    }
    return apply(p, buf, value);
}

vb_status vb_config_parse(const char *text, size_t len, const char *name, vb_config *cfg, vb_diag *diag)
{
    struct parser p;
    vb_memset(&p, 0, sizeof p);
    vb_memset(cfg, 0, sizeof *cfg);
    p.name = name;
    p.cfg = cfg;
    p.diag = diag;
    cfg->timeout = VB_CONFIG_DEFAULT_TIMEOUT;
    cfg->trace = VB_TRACE_OFF;

    if (len >= 3 && (uint8_t)text[0] == 0xef && (uint8_t)text[1] == 0xbb && (uint8_t)text[2] == 0xbf) {
        text += 3;
        len -= 3;
    }
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        p.line++;
        vb_status st = parse_line(&p, text + pos, end - pos);
        if (st != VB_OK)
            return st;
        pos = end + 1;
    }
    vb_status st = finish_entry(&p);
    if (st != VB_OK)
        return st;
    if (cfg->count == 0 && !cfg->discover)
        return vb_fail(diag, VB_ERR_CONFIG, "%s: no boot entries", name);
    if (p.default_line) {
        vb_strlcpy(cfg->default_id, p.default_id, sizeof cfg->default_id);
        int i = vb_config_find(cfg, p.default_id);
        /* with discovery on, the entry may only appear later */
        if (i < 0 && !cfg->discover)
            return line_error(&p, p.default_line, "default names an unknown entry:", p.default_id);
        cfg->default_index = i < 0 ? 0 : (unsigned)i;
    }
    return VB_OK;
}

int vb_config_find(const vb_config *cfg, const char *id)
{
    for (unsigned i = 0; i < cfg->count; i++)
        if (equals(cfg->entries[i].id, id))
            return (int)i;
    return -1;
}

vb_status vb_config_single(const char *spec, vb_config *cfg, vb_diag *diag)
{
    const char *why;
    vb_memset(cfg, 0, sizeof *cfg);
    vb_boot_entry *e = &cfg->entries[0];
    if (vb_config_set_vhd(e, spec, &why) != VB_OK)
        return vb_fail(diag, VB_ERR_CONFIG, "load options: bad vhd '%s': %s", spec, why);
    vb_strlcpy(e->id, "options", sizeof e->id);
    if (!copy_value(e->title, sizeof e->title, spec))
        vb_strlcpy(e->title, "VHD from load options", sizeof e->title);
    e->write = VB_WRITE_PERSISTENT;
    cfg->count = 1;
    cfg->timeout = 0;
    cfg->trace = VB_TRACE_OFF;
    return VB_OK;
}
