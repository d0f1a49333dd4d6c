/* vhdboot: registry hive reader. Works in place over a buffer that may be
 * hostile: every cell offset, size and count is checked before use. */
#include "regf.h"
#include "regf_struct.h"
#include "bytes.h"
#include "utf.h"

#define CORRUPT VB_ERR_HIVE_CORRUPT

uint32_t vb_regf_checksum(const uint8_t base[508])
{
    uint32_t x = 0;
    for (unsigned i = 0; i < VB_REGF_CHECKSUM_LEN; i += 4)
        x ^= vb_le32(base + i);
    if (x == 0xFFFFFFFFu)
        return 0xFFFFFFFEu;
    if (x == 0)
        return 1;
    return x;
}

uint32_t vb_regf_lh_hash(const char *name)
{
    uint32_t h = 0;
    for (; *name; name++) {
        unsigned char c = (unsigned char)*name;
        h = h * 37 + ((c >= 'a' && c <= 'z') ? c - 32u : c);
    }
    return h;
}

/* Finds the allocated cell at bin-relative offset off whose payload holds at
 * least min bytes; *p = payload, *len = payload bytes. */
static vb_status cell(const vb_regf *h, uint32_t off, uint32_t min, const uint8_t **p, uint32_t *len)
{
    if (off >= h->bins_size || h->bins_size - off < 8 || (off & 3))
        return CORRUPT;
    int32_t size = (int32_t)vb_le32(h->bins + off);
    if (size >= 0 || size == INT32_MIN)
        return CORRUPT;                 /* free cell, or nonsense */
    uint32_t total = (uint32_t)-size;
    if (total < 8 || total > h->bins_size - off || total - 4 < min)
        return CORRUPT;
    *p = h->bins + off + 4;
    *len = total - 4;
    return VB_OK;
}

/* The nk cell of a key, checked to hold its name. */
static vb_status key_cell(const vb_regf *h, uint32_t key, const vb_regf_nk **nk)
{
    const uint8_t *p;
    uint32_t len;
    vb_status st = cell(h, key, sizeof(vb_regf_nk), &p, &len);
    if (st != VB_OK)
        return st;
    if (p[0] != 'n' || p[1] != 'k')
        return CORRUPT;
    const vb_regf_nk *n = (const vb_regf_nk *)p;
    if (vb_le16(n->name_length) > len - sizeof(vb_regf_nk))
        return CORRUPT;
    *nk = n;
    return VB_OK;
}

vb_status vb_regf_open(vb_regf *hive, const uint8_t *data, size_t len)
{
    if (!hive || !data || len < VB_REGF_BLOCK + sizeof(vb_regf_hbin))
        return CORRUPT;
    const vb_regf_base *b = (const vb_regf_base *)data;
    if (vb_memcmp(b->signature, "regf", 4) != 0 || vb_le32(b->major) != 1)
        return CORRUPT;
    if (vb_le32(b->checksum) != vb_regf_checksum(data))
        return CORRUPT;
    uint32_t bins = vb_le32(b->hbins_size);
    if (bins < VB_REGF_BLOCK || bins % VB_REGF_BLOCK || bins > len - VB_REGF_BLOCK)
        return CORRUPT;
    if (vb_memcmp(data + VB_REGF_BLOCK, "hbin", 4) != 0)
        return CORRUPT;
    hive->bins = data + VB_REGF_BLOCK;
    hive->bins_size = bins;
    hive->root = vb_le32(b->root_offset);
    hive->minor = vb_le32(b->minor);
    const vb_regf_nk *nk;
    return key_cell(hive, hive->root, &nk);
}

/* Converts a stored name (Latin-1 when compressed, else UTF-16LE) to UTF-8. */
static vb_status name_to_utf8(const uint8_t *src, uint32_t bytes, bool compressed, char *out, size_t cap)
{
    if (!out || !cap)
        return VB_ERR_INVALID_ARG;
    if (!compressed) {
        if (bytes & 1)
            return CORRUPT;
        if (bytes == 0) {
            out[0] = 0;
            return VB_OK;
        }
        return vb_utf16_to_utf8(src, bytes / 2, false, out, cap);
    }
    size_t n = 0;
    for (uint32_t i = 0; i < bytes; i++)
        if (!vb_utf8_put(out, cap, &n, src[i]))
            return VB_ERR_INVALID_ARG;
    out[n] = 0;
    return VB_OK;
}

vb_status vb_regf_key_name(const vb_regf *hive, uint32_t key, char *out, size_t cap)
{
    const vb_regf_nk *nk;
    vb_status st = key_cell(hive, key, &nk);
    if (st != VB_OK)
        return st;
    return name_to_utf8((const uint8_t *)nk + sizeof(*nk), vb_le16(nk->name_length),
                        vb_le16(nk->flags) & VB_NK_COMP_NAME, out, cap);
}

/* A subkey list cell: its kind ('f' lf, 'h' lh, 'i' li, 'r' ri), count and
 * entries, with the entries checked to fit. */
static vb_status list_cell(const vb_regf *h, uint32_t off, char *kind, uint32_t *count, const uint8_t **entries)
{
    const uint8_t *p;
    uint32_t len;
    vb_status st = cell(h, off, sizeof(vb_regf_list), &p, &len);
    if (st != VB_OK)
        return st;
    if (!((p[0] == 'l' && (p[1] == 'f' || p[1] == 'h' || p[1] == 'i')) || (p[0] == 'r' && p[1] == 'i')))
        return CORRUPT;
    uint32_t n = vb_le16(p + 2), size = (p[1] == 'f' || p[1] == 'h') ? 8 : 4;
    if (n > (len - 4) / size)
        return CORRUPT;
    *kind = p[0] == 'r' ? 'r' : p[1];
    *count = n;
    *entries = p + 4;
    return VB_OK;
}

/* Walks the subkey lists of a key: counts them (index == UINT32_MAX) or
 * finds the index-th. An "ri" may only point at leaf lists. */
static vb_status walk_subkeys(const vb_regf *h, uint32_t key, uint32_t index, uint32_t *count, uint32_t *child)
{
    const vb_regf_nk *nk;
    vb_status st = key_cell(h, key, &nk);
    if (st != VB_OK)
        return st;
    uint32_t list = vb_le32(nk->subkey_list), seen = 0;
    if (list == VB_REGF_NONE || vb_le32(nk->subkey_count) == 0) {
        *count = 0;
        return index == UINT32_MAX ? VB_OK : VB_ERR_NOT_FOUND;
    }
    char kind;
    uint32_t n;
    const uint8_t *e;
    if ((st = list_cell(h, list, &kind, &n, &e)) != VB_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        char k2 = kind;
        uint32_t n2 = 1;
        const uint8_t *e2 = e + i * (kind == 'f' || kind == 'h' ? 8 : 4);
        if (kind == 'r') {
            if ((st = list_cell(h, vb_le32(e2), &k2, &n2, &e2)) != VB_OK)
                return st;
            if (k2 == 'r')
                return CORRUPT;
        }
        uint32_t stride = (k2 == 'f' || k2 == 'h') ? 8 : 4;
        if (index != UINT32_MAX && index - seen < n2) {
            *child = vb_le32(e2 + (index - seen) * stride);
            return VB_OK;
        }
        seen += n2;
    }
    *count = seen;
    return index == UINT32_MAX ? VB_OK : VB_ERR_NOT_FOUND;
}

vb_status vb_regf_key_counts(const vb_regf *hive, uint32_t key, uint32_t *subkeys, uint32_t *values)
{
    uint32_t n = 0, dummy;
    vb_status st = walk_subkeys(hive, key, UINT32_MAX, &n, &dummy);
    if (st != VB_OK)
        return st;
    const vb_regf_nk *nk;
    if ((st = key_cell(hive, key, &nk)) != VB_OK)
        return st;
    uint32_t v = vb_le32(nk->value_count);
    if (v) {
        const uint8_t *p;
        uint32_t len;
        if ((st = cell(hive, vb_le32(nk->value_list), 0, &p, &len)) != VB_OK)
            return st;
        if (v > len / 4)
            return CORRUPT;
    }
    if (subkeys)
        *subkeys = n;
    if (values)
        *values = v;
    return VB_OK;
}

vb_status vb_regf_subkey(const vb_regf *hive, uint32_t key, uint32_t index, uint32_t *child)
{
    uint32_t count;
    if (index == UINT32_MAX)
        return VB_ERR_NOT_FOUND;
    vb_status st = walk_subkeys(hive, key, index, &count, child);
    if (st != VB_OK)
        return st;
    const vb_regf_nk *nk;
    return key_cell(hive, *child, &nk);
}

vb_status vb_regf_find_key(const vb_regf *hive, uint32_t key, const char *name, uint32_t *child)
{
    uint32_t n;
    vb_status st = vb_regf_key_counts(hive, key, &n, NULL);
    for (uint32_t i = 0; st == VB_OK && i < n; i++) {
        char got[VB_REGF_NAME_MAX * 3];
        if ((st = vb_regf_subkey(hive, key, i, child)) != VB_OK ||
            (st = vb_regf_key_name(hive, *child, got, sizeof(got))) != VB_OK)
            return st;
        if (vb_ascii_caseeq(got, name))
            return VB_OK;
    }
    return st == VB_OK ? VB_ERR_NOT_FOUND : st;
}

vb_status vb_regf_find_path(const vb_regf *hive, uint32_t key, const char *path, uint32_t *out)
{
    char part[VB_REGF_NAME_MAX];
    while (*path) {
        size_t n = 0;
        while (*path == '\\')
            path++;
        while (*path && *path != '\\') {
            if (n + 1 >= sizeof(part))
                return VB_ERR_INVALID_ARG;
            part[n++] = *path++;
        }
        part[n] = 0;
        if (n) {
            vb_status st = vb_regf_find_key(hive, key, part, &key);
            if (st != VB_OK)
                return st;
        }
    }
    *out = key;
    return VB_OK;
}

/* The vk cell of a value, checked to hold its name. */
static vb_status value_cell(const vb_regf *h, uint32_t off, const vb_regf_vk **vk)
{
    const uint8_t *p;
    uint32_t len;
    vb_status st = cell(h, off, sizeof(vb_regf_vk), &p, &len);
    if (st != VB_OK)
        return st;
    if (p[0] != 'v' || p[1] != 'k' || vb_le16(p + 2) > len - sizeof(vb_regf_vk))
        return CORRUPT;
    *vk = (const vb_regf_vk *)p;
    return VB_OK;
}

vb_status vb_regf_value(const vb_regf *hive, uint32_t key, uint32_t index, uint32_t *vk)
{
    uint32_t n;
    vb_status st = vb_regf_key_counts(hive, key, NULL, &n);
    if (st != VB_OK)
        return st;
    if (index >= n)
        return VB_ERR_NOT_FOUND;
    const vb_regf_nk *nk;
    const uint8_t *p;
    uint32_t len;
    if ((st = key_cell(hive, key, &nk)) != VB_OK ||
        (st = cell(hive, vb_le32(nk->value_list), 0, &p, &len)) != VB_OK)
        return st;
    *vk = vb_le32(p + 4 * index);
    const vb_regf_vk *v;
    return value_cell(hive, *vk, &v);
}

vb_status vb_regf_value_info(const vb_regf *hive, uint32_t vk, char *name, size_t cap,
                             uint32_t *type, uint32_t *len)
{
    const vb_regf_vk *v;
    vb_status st = value_cell(hive, vk, &v);
    if (st != VB_OK)
        return st;
    if (name && (st = name_to_utf8((const uint8_t *)v + sizeof(*v), vb_le16(v->name_length),
                                   vb_le16(v->flags) & VB_VK_COMP_NAME, name, cap)) != VB_OK)
        return st;
    uint32_t size = vb_le32(v->data_size);
    if (type)
        *type = vb_le32(v->type);
    if (len)
        *len = size & ~VB_VK_DATA_INLINE;
    if ((size & VB_VK_DATA_INLINE) && (size & ~VB_VK_DATA_INLINE) > 4)
        return CORRUPT;
    return VB_OK;
}

vb_status vb_regf_find_value(const vb_regf *hive, uint32_t key, const char *name, uint32_t *vk)
{
    uint32_t n;
    vb_status st = vb_regf_key_counts(hive, key, NULL, &n);
    for (uint32_t i = 0; st == VB_OK && i < n; i++) {
        char got[VB_REGF_NAME_MAX * 3];
        if ((st = vb_regf_value(hive, key, i, vk)) != VB_OK ||
            (st = vb_regf_value_info(hive, *vk, got, sizeof(got), NULL, NULL)) != VB_OK)
            return st;
        if (vb_ascii_caseeq(got, name))
            return VB_OK;
    }
    return st == VB_OK ? VB_ERR_NOT_FOUND : st;
}

vb_status vb_regf_value_data(const vb_regf *hive, uint32_t vk, uint8_t *out, size_t cap, uint32_t *len)
{
    const vb_regf_vk *v;
    vb_status st = value_cell(hive, vk, &v);
    if (st != VB_OK)
        return st;
    uint32_t size = vb_le32(v->data_size), n = size & ~VB_VK_DATA_INLINE;
    if (n > cap)
        return VB_ERR_INVALID_ARG;
    *len = n;
    if (size & VB_VK_DATA_INLINE) {
        if (n > 4)
            return CORRUPT;
        vb_memcpy(out, v->data_offset, n);
        return VB_OK;
    }
    if (n == 0)
        return VB_OK;
    const uint8_t *p;
    uint32_t plen;
    if ((st = cell(hive, vb_le32(v->data_offset), 0, &p, &plen)) != VB_OK)
        return st;
    if (n >= VB_REGF_BIG_DATA_MIN && hive->minor > 3 && plen >= sizeof(vb_regf_db) && p[0] == 'd' && p[1] == 'b') {
        const vb_regf_db *db = (const vb_regf_db *)p;
        uint32_t segments = vb_le16(db->segment_count), done = 0;
        const uint8_t *list;
        uint32_t list_len;
        if ((st = cell(hive, vb_le32(db->segment_list), 0, &list, &list_len)) != VB_OK)
            return st;
        if (segments > list_len / 4)
            return CORRUPT;
        for (uint32_t i = 0; i < segments && done < n; i++) {
            const uint8_t *seg;
            uint32_t seg_len, part = n - done;
            if (part > VB_REGF_DB_SEGMENT)
                part = VB_REGF_DB_SEGMENT;
            if ((st = cell(hive, vb_le32(list + 4 * i), part, &seg, &seg_len)) != VB_OK)
                return st;
            vb_memcpy(out + done, seg, part);
            done += part;
        }
        return done == n ? VB_OK : CORRUPT;
    }
    if (plen < n)
        return CORRUPT;
    vb_memcpy(out, p, n);
    return VB_OK;
}
