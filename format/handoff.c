/* vhdboot: the handoff record, binary and text forms (see handoff.h). */
#include "handoff.h"
#include "bytes.h"

static const uint8_t magic[8] = { 'V', 'H', 'D', 'B', 'D', 'I', 'S', 'K' };

uint32_t vb_crc32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

const char *vb_handoff_mode_name(uint8_t mode)
{
    switch (mode) {
    case VB_HANDOFF_PERSISTENT: return "persistent";
    case VB_HANDOFF_VOLATILE: return "volatile";
    case VB_HANDOFF_READONLY: return "readonly";
    default: return "?";
    }
}

const char *vb_handoff_fs_name(uint8_t fs)
{
    return fs == VB_HANDOFF_FAT ? "fat" : fs == VB_HANDOFF_NTFS ? "ntfs" : "?";
}

const char *vb_handoff_type_name(uint8_t type)
{
    return type == 2 ? "fixed" : type == 3 ? "dynamic" : type == 4 ? "differencing" : "?";
}

/* Whether n bytes at p are all zero. */
static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static const char hex_digits[] = "0123456789abcdef";

/* Writes byte b as two lower-case hex digits at out. */
static void put_hex(char *out, uint8_t b)
{
    out[0] = hex_digits[b >> 4];
    out[1] = hex_digits[b & 15];
}

/* Formats 16 bytes taken in the order given by index, grouped 8-4-4-4-12. */
static void guid_text_ordered(const uint8_t b[16], const uint8_t index[16], char out[37])
{
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        put_hex(o, b[index[i]]);
        o += 2;
    }
    *o = '\0';
}

static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t stored_order[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

void vb_handoff_guid_text(const uint8_t guid[16], char out[37])
{
    guid_text_ordered(guid, guid_order, out);
}

void vb_handoff_uuid_text(const uint8_t uuid[16], char out[37])
{
    guid_text_ordered(uuid, stored_order, out);
}

/* ---- validation ---- */

/* Checks a volume identity; what names it in messages. */
static vb_status check_volume(const vb_handoff_volume *v, const char *what, vb_diag *diag)
{
    if (v->fs != VB_HANDOFF_FAT && v->fs != VB_HANDOFF_NTFS)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: unknown file system %u", what, v->fs);
    if (v->scheme == VB_HANDOFF_GPT) {
        if (all_zero(v->part_guid, 16))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: GPT partition GUID is zero", what);
        if (v->mbr_signature)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: MBR signature on a GPT volume", what);
        return VB_OK;
    }
    if (v->scheme == VB_HANDOFF_MBR) {
        if (v->part_number == 0)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: MBR partition number is 0", what);
        if (!all_zero(v->part_guid, 16) || !all_zero(v->disk_guid, 16))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: GUIDs on an MBR volume", what);
        return VB_OK;
    }
    return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: unknown partition scheme %u", what, v->scheme);
}

/* Checks a layer path: '/'-absolute, 1..1023 bytes, no control
 * characters, no empty, "." or ".." component. len gets its length. */
static vb_status check_path(const char *path, size_t max, unsigned layer, size_t *len, vb_diag *diag)
{
    size_t n = 0;
    while (n < max && path[n])
        n++;
    if (n == max)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path longer than %u bytes", layer,
                       (unsigned)(VB_HANDOFF_PATH_MAX - 1));
    if (n == 0 || path[0] != '/')
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path does not start with '/'", layer);
    size_t start = 1;
    for (size_t i = 1; i <= n; i++) {
        uint8_t c = (uint8_t)path[i];
        if (i < n && (c < 0x20 || c == 0x7F || c == '\\'))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path has byte 0x%02x", layer, c);
        if (i < n && c != '/')
            continue;
        size_t comp = i - start;
        if (comp == 0 || (comp == 1 && path[start] == '.') ||
            (comp == 2 && path[start] == '.' && path[start + 1] == '.'))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path has an empty, '.' or '..' part",
                           layer);
        start = i + 1;
    }
    *len = n;
    return VB_OK;
}

vb_status vb_handoff_validate(const vb_handoff *h, vb_diag *diag)
{
    if (h->mode < VB_HANDOFF_PERSISTENT || h->mode > VB_HANDOFF_READONLY)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: unknown write mode %u", h->mode);
    if (h->size == 0 || h->size % 512 != 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: virtual size %llu is not a non-zero multiple of 512",
                       (unsigned long long)h->size);
    vb_status st = check_volume(&h->host, "host volume", diag);
    if (st != VB_OK)
        return st;
    if (h->layer_count == 0 || h->layer_count > VB_HANDOFF_MAX_LAYERS)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer count %u not in 1..%u", h->layer_count,
                       VB_HANDOFF_MAX_LAYERS);
    for (unsigned i = 0; i < h->layer_count; i++) {
        const vb_handoff_layer *l = &h->layers[i];
        bool last = i + 1 == h->layer_count;
        if (last ? (l->type != 2 && l->type != 3) : l->type != 4)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: type %u where %s expected", i, l->type,
                           last ? "fixed or dynamic" : "differencing");
        size_t len;
        st = check_path(l->path, sizeof l->path, i, &len, diag);
        if (st == VB_OK && l->has_volume) {
            char what[32];
            vb_format(what, sizeof what, "layer %u volume", i);
            st = check_volume(&l->volume, what, diag);
        }
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* ---- binary form ---- */

/* Bytes the encoded record of a valid h takes. */
static size_t encoded_size(const vb_handoff *h)
{
    size_t n = VB_HANDOFF_HEADER_SIZE + VB_HANDOFF_VOLUME_SIZE + 16;
    for (unsigned i = 0; i < h->layer_count; i++)
        n += VB_HANDOFF_LAYER_FIXED_SIZE + (h->layers[i].has_volume ? VB_HANDOFF_VOLUME_SIZE : 0) +
             vb_strlen(h->layers[i].path);
    return n;
}

/* Stores a volume identity in its 48 bytes at p. */
static void put_volume(uint8_t *p, const vb_handoff_volume *v)
{
    vb_memset(p, 0, VB_HANDOFF_VOLUME_SIZE);
    p[0] = v->scheme;
    p[1] = v->fs;
    vb_put_le32(p + 4, v->part_number);
    vb_put_le32(p + 8, (uint32_t)v->start_lba);
    vb_put_le32(p + 12, (uint32_t)(v->start_lba >> 32));
    if (v->scheme == VB_HANDOFF_GPT) {
        vb_memcpy(p + 16, v->disk_guid, 16);
        vb_memcpy(p + 32, v->part_guid, 16);
    } else {
        vb_put_le32(p + 16, v->mbr_signature);
    }
}

vb_status vb_handoff_encode(const vb_handoff *h, uint8_t *out, size_t cap, size_t *len, vb_diag *diag)
{
    vb_status st = vb_handoff_validate(h, diag);
    if (st != VB_OK)
        return st;
    size_t total = encoded_size(h);
    if (total > cap)
        return vb_fail(diag, VB_ERR_OUT_OF_RANGE, "handoff record: %zu bytes do not fit in %zu", total, cap);
    vb_memset(out, 0, total);
    vb_memcpy(out, magic, 8);
    vb_put_le16(out + 8, VB_HANDOFF_VERSION);
    vb_put_le16(out + 10, VB_HANDOFF_HEADER_SIZE);
    vb_put_le32(out + 12, (uint32_t)total);
    out[20] = h->mode;
    out[21] = (uint8_t)h->layer_count;
    vb_put_le32(out + 24, (uint32_t)h->size);
    vb_put_le32(out + 28, (uint32_t)(h->size >> 32));
    uint8_t *p = out + VB_HANDOFF_HEADER_SIZE;
    put_volume(p, &h->host);
    p += VB_HANDOFF_VOLUME_SIZE;
    vb_memcpy(p, h->uuid, 16);
    p += 16;
    for (unsigned i = 0; i < h->layer_count; i++) {
        const vb_handoff_layer *l = &h->layers[i];
        size_t plen = vb_strlen(l->path);
        p[0] = l->type;
        p[1] = l->has_volume ? 1 : 0;
        vb_put_le16(p + 2, (uint16_t)plen);
        vb_memcpy(p + 4, l->uuid, 16);
        p += VB_HANDOFF_LAYER_FIXED_SIZE;
        if (l->has_volume) {
            put_volume(p, &l->volume);
            p += VB_HANDOFF_VOLUME_SIZE;
        }
        vb_memcpy(p, l->path, plen);
        p += plen;
    }
    vb_put_le32(out + 16, vb_crc32(out, total));
    *len = total;
    return VB_OK;
}

/* Reads the 48 bytes of a volume identity at p, refusing non-zero reserved
 * bytes and fields that do not belong to its scheme; what names it. */
static vb_status get_volume(const uint8_t *p, vb_handoff_volume *v, const char *what, vb_diag *diag)
{
    vb_memset(v, 0, sizeof *v);
    v->scheme = p[0];
    v->fs = p[1];
    if (vb_le16(p + 2) != 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: reserved bytes not zero", what);
    v->part_number = vb_le32(p + 4);
    v->start_lba = vb_le64(p + 8);
    if (v->scheme == VB_HANDOFF_MBR) {
        v->mbr_signature = vb_le32(p + 16);
        if (!all_zero(p + 20, 12))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %s: reserved bytes not zero", what);
        vb_memcpy(v->part_guid, p + 32, 16); /* must be zero: check_volume refuses otherwise */
    } else {
        vb_memcpy(v->disk_guid, p + 16, 16);
        vb_memcpy(v->part_guid, p + 32, 16);
    }
    return check_volume(v, what, diag);
}

vb_status vb_handoff_decode(const uint8_t *buf, size_t len, vb_handoff *out, vb_diag *diag)
{
    vb_memset(out, 0, sizeof *out);
    if (len < VB_HANDOFF_HEADER_SIZE)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %zu bytes, shorter than its header", len);
    if (vb_memcmp(buf, magic, 8) != 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: bad magic (not a vhdboot disk record)");
    uint16_t version = vb_le16(buf + 8);
    if (version != VB_HANDOFF_VERSION)
        return vb_fail(diag, VB_ERR_BAD_VERSION, "handoff record: version %u, this tool reads version %u", version,
                       VB_HANDOFF_VERSION);
    if (vb_le16(buf + 10) != VB_HANDOFF_HEADER_SIZE)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: header size %u, expected %u", vb_le16(buf + 10),
                       VB_HANDOFF_HEADER_SIZE);
    uint32_t total = vb_le32(buf + 12);
    if (total != len)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: length field %u but %zu bytes present", total, len);
    uint32_t stored = vb_le32(buf + 16), crc = 0xFFFFFFFFu;
    {
        /* the CRC over the record with its own field taken as zero */
        static const uint8_t zero4[4] = { 0, 0, 0, 0 };
        const uint8_t *parts[3] = { buf, zero4, buf + 20 };
        size_t lens[3] = { 16, 4, len - 20 };
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; i < lens[k]; i++) {
                crc ^= parts[k][i];
                for (int bit = 0; bit < 8; bit++)
                    crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
            }
        crc ^= 0xFFFFFFFFu;
    }
    if (crc != stored)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: CRC-32 mismatch (stored 0x%08x, computed 0x%08x)",
                       stored, crc);
    if (buf[22] || buf[23] || !all_zero(buf + 32, 8))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: reserved header bytes not zero");
    out->mode = buf[20];
    out->layer_count = buf[21];
    out->size = vb_le64(buf + 24);
    size_t pos = VB_HANDOFF_HEADER_SIZE;
    if (len - pos < VB_HANDOFF_VOLUME_SIZE + 16)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: truncated before the host volume");
    vb_status st = get_volume(buf + pos, &out->host, "host volume", diag);
    if (st != VB_OK)
        return st;
    pos += VB_HANDOFF_VOLUME_SIZE;
    vb_memcpy(out->uuid, buf + pos, 16);
    pos += 16;
    if (out->layer_count == 0 || out->layer_count > VB_HANDOFF_MAX_LAYERS)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer count %u not in 1..%u", out->layer_count,
                       VB_HANDOFF_MAX_LAYERS);
    for (unsigned i = 0; i < out->layer_count; i++) {
        vb_handoff_layer *l = &out->layers[i];
        if (len - pos < VB_HANDOFF_LAYER_FIXED_SIZE)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: truncated in layer %u", i);
        const uint8_t *p = buf + pos;
        l->type = p[0];
        if (p[1] & ~1u)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: unknown flags 0x%02x", i, p[1]);
        l->has_volume = p[1] & 1u;
        size_t plen = vb_le16(p + 2);
        vb_memcpy(l->uuid, p + 4, 16);
        pos += VB_HANDOFF_LAYER_FIXED_SIZE;
        if (l->has_volume) {
            if (len - pos < VB_HANDOFF_VOLUME_SIZE)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: truncated in layer %u's volume", i);
            char what[32];
            vb_format(what, sizeof what, "layer %u volume", i);
            st = get_volume(buf + pos, &l->volume, what, diag);
            if (st != VB_OK)
                return st;
            pos += VB_HANDOFF_VOLUME_SIZE;
        }
        if (plen == 0 || plen >= VB_HANDOFF_PATH_MAX)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path length %zu not in 1..%u", i, plen,
                           (unsigned)(VB_HANDOFF_PATH_MAX - 1));
        if (len - pos < plen)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: truncated in layer %u's path", i);
        vb_memcpy(l->path, buf + pos, plen);
        l->path[plen] = '\0';
        if (vb_strlen(l->path) != plen)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: layer %u: path has byte 0x00", i);
        pos += plen;
    }
    if (pos != len)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "handoff record: %zu bytes after the last layer", len - pos);
    return vb_handoff_validate(out, diag);
}

/* ---- text form ---- */

/* A bounded writer into a text buffer; overflow is remembered. */
struct writer {
    char *out;
    size_t cap, len;
    bool overflow;
};

static void w_char(struct writer *w, char c)
{
    if (w->len + 1 < w->cap)
        w->out[w->len++] = c;
    else
        w->overflow = true;
}

static void w_str(struct writer *w, const char *s)
{
    while (*s)
        w_char(w, *s++);
}

/* Appends an unsigned number in decimal. */
static void w_dec(struct writer *w, uint64_t v)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        w_char(w, digits[--n]);
}

/* Whether byte c stays itself in the text form's paths. */
static bool path_plain(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '~' || c == '/' || c == '-';
}

static void w_volume(struct writer *w, const vb_handoff_volume *v)
{
    char text[37];
    w_str(w, vb_handoff_fs_name(v->fs));
    if (v->scheme == VB_HANDOFF_GPT) {
        w_str(w, ":gpt:");
        vb_handoff_guid_text(v->part_guid, text);
        w_str(w, text);
        if (!all_zero(v->disk_guid, 16)) {
            w_char(w, ':');
            vb_handoff_guid_text(v->disk_guid, text);
            w_str(w, text);
        }
    } else {
        w_str(w, ":mbr:");
        for (int shift = 24; shift >= 0; shift -= 8) {
            put_hex(text, (uint8_t)(v->mbr_signature >> shift));
            text[2] = '\0';
            w_str(w, text);
        }
        w_char(w, ':');
        w_dec(w, v->part_number);
        w_char(w, ':');
        w_dec(w, v->start_lba);
    }
}

vb_status vb_handoff_format_text(const vb_handoff *h, char *out, size_t cap, vb_diag *diag)
{
    vb_status st = vb_handoff_validate(h, diag);
    if (st != VB_OK)
        return st;
    if (cap == 0)
        return vb_fail(diag, VB_ERR_OUT_OF_RANGE, "handoff text: no room");
    struct writer w = { out, cap, 0, false };
    char text[37];
    w_str(&w, "v1,mode=");
    w_str(&w, vb_handoff_mode_name(h->mode));
    w_str(&w, ",size=");
    w_dec(&w, h->size);
    w_str(&w, ",uuid=");
    vb_handoff_uuid_text(h->uuid, text);
    w_str(&w, text);
    w_str(&w, ",host=");
    w_volume(&w, &h->host);
    for (unsigned i = 0; i < h->layer_count; i++) {
        const vb_handoff_layer *l = &h->layers[i];
        w_str(&w, ",layer=");
        w_str(&w, vb_handoff_type_name(l->type));
        w_char(&w, ':');
        vb_handoff_uuid_text(l->uuid, text);
        w_str(&w, text);
        w_char(&w, ':');
        for (const uint8_t *p = (const uint8_t *)l->path; *p; p++) {
            if (path_plain(*p)) {
                w_char(&w, (char)*p);
            } else {
                char esc[4] = { '%', 0, 0, 0 };
                esc[1] = "0123456789ABCDEF"[*p >> 4];
                esc[2] = "0123456789ABCDEF"[*p & 15];
                w_str(&w, esc);
            }
        }
        if (l->has_volume) {
            w_char(&w, ':');
            w_volume(&w, &l->volume);
        }
    }
    out[w.len] = '\0';
    if (w.overflow)
        return vb_fail(diag, VB_ERR_OUT_OF_RANGE, "handoff text: does not fit in %zu bytes", cap);
    return VB_OK;
}

/* A span of the text being parsed. */
struct span {
    const char *p;
    size_t n;
};

/* Splits s at the first sep: *head gets what comes before, s what comes after
 * (empty when sep is absent). Returns false when s is empty. */
static bool split(struct span *s, char sep, struct span *head)
{
    if (s->n == 0 && !s->p)
        return false;
    size_t i = 0;
    while (i < s->n && s->p[i] != sep)
        i++;
    head->p = s->p;
    head->n = i;
    if (i < s->n) {
        s->p += i + 1;
        s->n -= i + 1;
    } else {
        s->p = NULL;
        s->n = 0;
    }
    return true;
}

static bool span_is(struct span s, const char *word)
{
    size_t n = vb_strlen(word);
    return s.n == n && vb_memcmp(s.p, word, n) == 0;
}

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

/* Parses a decimal number without sign or leading junk (max digits 20, no overflow). */
static bool parse_dec(struct span s, uint64_t *out)
{
    if (s.n == 0 || s.n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Parses 8-4-4-4-12 hex text into 16 bytes placed by index (guid_order for
 * GUIDs, stored_order for VHD UUIDs). */
static bool parse_guid(struct span s, const uint8_t index[16], uint8_t out[16])
{
    if (s.n != 36)
        return false;
    size_t pos = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (s.p[pos] != '-')
                return false;
            pos++;
        }
        int hi = hex_value(s.p[pos]), lo = hex_value(s.p[pos + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[index[i]] = (uint8_t)(hi << 4 | lo);
        pos += 2;
    }
    return true;
}

/* Parses VOL (see handoff.h) from the remaining ':'-separated fields of s. */
static vb_status parse_volume(struct span s, vb_handoff_volume *v, const char *what, vb_diag *diag)
{
    struct span fs, scheme, a, b, c;
    vb_memset(v, 0, sizeof *v);
    if (!split(&s, ':', &fs) || !split(&s, ':', &scheme))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: missing file system or scheme", what);
    v->fs = span_is(fs, "fat") ? VB_HANDOFF_FAT : span_is(fs, "ntfs") ? VB_HANDOFF_NTFS : 0;
    if (!v->fs)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: file system is not fat or ntfs", what);
    if (span_is(scheme, "gpt")) {
        v->scheme = VB_HANDOFF_GPT;
        if (!split(&s, ':', &a) || !parse_guid(a, guid_order, v->part_guid))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: bad partition GUID", what);
        if (split(&s, ':', &b) && !parse_guid(b, guid_order, v->disk_guid))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: bad disk GUID", what);
    } else if (span_is(scheme, "mbr")) {
        v->scheme = VB_HANDOFF_MBR;
        uint64_t partno, start;
        uint32_t sig = 0;
        if (!split(&s, ':', &a) || a.n != 8)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: MBR signature is not 8 hex digits", what);
        for (size_t i = 0; i < 8; i++) {
            int d = hex_value(a.p[i]);
            if (d < 0)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: MBR signature is not 8 hex digits", what);
            sig = sig << 4 | (uint32_t)d;
        }
        v->mbr_signature = sig;
        if (!split(&s, ':', &b) || !parse_dec(b, &partno) || partno == 0 || partno > UINT32_MAX)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: bad MBR partition number", what);
        if (!split(&s, ':', &c) || !parse_dec(c, &start))
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: bad start LBA", what);
        v->part_number = (uint32_t)partno;
        v->start_lba = start;
    } else {
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: scheme is not gpt or mbr", what);
    }
    if (s.p)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: %s: extra fields", what);
    return VB_OK;
}

/* Decodes a percent-encoded path into out (capacity VB_HANDOFF_PATH_MAX). */
static vb_status parse_path(struct span s, char *out, unsigned layer, vb_diag *diag)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        uint8_t c = (uint8_t)s.p[i];
        if (c == '%') {
            if (s.n - i < 3 || hex_value(s.p[i + 1]) < 0 || hex_value(s.p[i + 2]) < 0)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: bad %%XX escape in path", layer);
            c = (uint8_t)(hex_value(s.p[i + 1]) << 4 | hex_value(s.p[i + 2]));
            i += 2;
            if (c == 0)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: path has byte 0x00", layer);
        } else if (!path_plain(c)) {
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: path byte 0x%02x must be written %%XX",
                           layer, c);
        }
        if (n + 1 >= VB_HANDOFF_PATH_MAX)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: path longer than %u bytes", layer,
                           (unsigned)(VB_HANDOFF_PATH_MAX - 1));
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return VB_OK;
}

/* Parses LAYER (see handoff.h) into l. */
static vb_status parse_layer(struct span s, vb_handoff_layer *l, unsigned index, vb_diag *diag)
{
    struct span type, uuid, path;
    if (!split(&s, ':', &type) || !split(&s, ':', &uuid) || !split(&s, ':', &path))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: expected TYPE:UUID:PATH", index);
    l->type = span_is(type, "fixed") ? 2 : span_is(type, "dynamic") ? 3 : span_is(type, "differencing") ? 4 : 0;
    if (!l->type)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: unknown type", index);
    if (!parse_guid(uuid, stored_order, l->uuid))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: layer %u: bad UUID", index);
    vb_status st = parse_path(path, l->path, index, diag);
    if (st != VB_OK)
        return st;
    if (s.p) {
        char what[32];
        vb_format(what, sizeof what, "layer %u volume", index);
        l->has_volume = true;
        return parse_volume(s, &l->volume, what, diag);
    }
    return VB_OK;
}

vb_status vb_handoff_parse_text(const char *text, size_t len, vb_handoff *out, vb_diag *diag)
{
    vb_memset(out, 0, sizeof *out);
    struct span s = { text, len }, field;
    if (len == 0 || !split(&s, ',', &field))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: empty");
    if (field.n < 2 || field.p[0] != 'v')
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: does not start with a version (v1)");
    if (!span_is(field, "v1"))
        return vb_fail(diag, VB_ERR_BAD_VERSION, "vhdboot.disk: unknown version, this tool reads v1");
    bool seen_mode = false, seen_size = false, seen_uuid = false, seen_host = false;
    vb_status st;
    while (split(&s, ',', &field)) {
        struct span key;
        split(&field, '=', &key);
        if (!field.p)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: field without '='");
        bool dup = false;
        if (span_is(key, "mode")) {
            dup = seen_mode;
            seen_mode = true;
            out->mode = span_is(field, "persistent") ? VB_HANDOFF_PERSISTENT
                        : span_is(field, "volatile") ? VB_HANDOFF_VOLATILE
                        : span_is(field, "readonly") ? VB_HANDOFF_READONLY : 0;
            if (!out->mode)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: mode is not persistent, volatile or readonly");
        } else if (span_is(key, "size")) {
            dup = seen_size;
            seen_size = true;
            if (!parse_dec(field, &out->size))
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: size is not a decimal number");
        } else if (span_is(key, "uuid")) {
            dup = seen_uuid;
            seen_uuid = true;
            if (!parse_guid(field, stored_order, out->uuid))
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: bad uuid");
        } else if (span_is(key, "host")) {
            dup = seen_host;
            seen_host = true;
            st = parse_volume(field, &out->host, "host", diag);
            if (st != VB_OK)
                return st;
        } else if (span_is(key, "layer")) {
            if (out->layer_count == VB_HANDOFF_MAX_LAYERS)
                return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: more than %u layers", VB_HANDOFF_MAX_LAYERS);
            st = parse_layer(field, &out->layers[out->layer_count], out->layer_count, diag);
            if (st != VB_OK)
                return st;
            out->layer_count++;
        } else {
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: unknown field");
        }
        if (dup)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: a field is given twice");
    }
    if (!seen_mode || !seen_size || !seen_uuid || !seen_host || out->layer_count == 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "vhdboot.disk: needs mode, size, uuid, host and at least one layer");
    return vb_handoff_validate(out, diag);
}
