/* vhdboot: registry hive writer — a tree of keys and values in memory,
 * serialised to base block + 4 KiB hive bins (layouts in regf_struct.h). */
#include "regf.h"
#include "regf_struct.h"
#include "bytes.h"
#include "platform.h"

struct vb_regf_wvalue {
    struct vb_regf_wvalue *next;
    char name[VB_REGF_NAME_MAX];
    uint32_t type;
    uint32_t len;
    uint8_t *data;
};

struct vb_regf_wkey {
    struct vb_regf_wkey *next;      /* sibling */
    struct vb_regf_wkey *children;
    struct vb_regf_wvalue *values;
    uint32_t child_count;
    uint32_t value_count;
    char name[VB_REGF_NAME_MAX];
};

struct vb_regf_builder {
    vb_regf_wkey root;
};

/* Output being serialised: the whole file, base block first. */
struct hive_out {
    uint8_t *buf;
    size_t cap;
    uint32_t used;          /* file bytes in use (end of the last cell) */
    uint32_t bin_end;       /* file offset where the current bin ends */
    uint64_t timestamp;
    bool big_data;          /* a "db" cell was written: minor version 5 */
};

/* Whether name is usable as a key or value name here: ASCII printable, no
 * backslash, at most 255 characters (empty allowed only for values). */
static bool name_ok(const char *name, bool allow_empty)
{
    size_t n = vb_strlen(name);
    if (n > 255 || (n == 0 && !allow_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e || name[i] == '\\')
            return false;
    return true;
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

/* Registry order of two names: byte order of their upper-case forms. */
static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = upper(*a), y = upper(*b);
        if (x != y || !x)
            return (unsigned char)x - (unsigned char)y;
    }
}

vb_regf_builder *vb_regf_builder_new(const char *root_name)
{
    if (!name_ok(root_name, false))
        return NULL;
    vb_regf_builder *b = vb_alloc(sizeof(*b));
    if (b)
        vb_strlcpy(b->root.name, root_name, sizeof(b->root.name));
    return b;
}

/* Frees the children and values of key (not key itself). */
static void free_key_contents(vb_regf_wkey *key)
{
    for (vb_regf_wkey *c = key->children, *n; c; c = n) {
        n = c->next;
        free_key_contents(c);
        vb_free(c);
    }
    for (struct vb_regf_wvalue *v = key->values, *n; v; v = n) {
        n = v->next;
        vb_free(v->data);
        vb_free(v);
    }
}

void vb_regf_builder_free(vb_regf_builder *b)
{
    if (!b)
        return;
    free_key_contents(&b->root);
    vb_free(b);
}

vb_regf_wkey *vb_regf_builder_root(vb_regf_builder *b)
{
    return &b->root;
}

vb_regf_wkey *vb_regf_key(vb_regf_builder *b, vb_regf_wkey *parent, const char *name)
{
    (void)b;
    if (!parent || !name_ok(name, false))
        return NULL;
    vb_regf_wkey **link = &parent->children;
    for (; *link; link = &(*link)->next) {
        int c = name_cmp((*link)->name, name);
        if (c == 0)
            return *link;
        if (c > 0)
            break;          /* children are kept in registry order */
    }
    vb_regf_wkey *key = vb_alloc(sizeof(*key));
    if (!key)
        return NULL;
    vb_strlcpy(key->name, name, sizeof(key->name));
    key->next = *link;
    *link = key;
    parent->child_count++;
    return key;
}

vb_status vb_regf_set(vb_regf_builder *b, vb_regf_wkey *key, const char *name,
                      uint32_t type, const void *data, uint32_t len)
{
    (void)b;
    if (!key || !name_ok(name, true) || (len && !data) || len > 0x3FFFFFFFu)
        return VB_ERR_INVALID_ARG;
    uint8_t *copy = vb_alloc(len ? len : 1);
    if (!copy)
        return VB_ERR_NO_MEMORY;
    vb_memcpy(copy, data, len);
    struct vb_regf_wvalue *v = key->values;
    for (; v; v = v->next)
        if (name_cmp(v->name, name) == 0)
            break;
    if (!v) {
        v = vb_alloc(sizeof(*v));
        if (!v) {
            vb_free(copy);
            return VB_ERR_NO_MEMORY;
        }
        vb_strlcpy(v->name, name, sizeof(v->name));
        struct vb_regf_wvalue **tail = &key->values;
        while (*tail)
            tail = &(*tail)->next;
        *tail = v;
        key->value_count++;
    } else {
        vb_free(v->data);
    }
    v->type = type;
    v->len = len;
    v->data = copy;
    return VB_OK;
}

/* Makes room for at least need more bytes at the end of the file buffer. */
static vb_status out_reserve(struct hive_out *o, size_t need)
{
    if (o->cap - o->used >= need)
        return VB_OK;
    size_t cap = o->cap ? o->cap : 4 * VB_REGF_BLOCK;
    while (cap - o->used < need) {
        if (cap > (size_t)0x40000000)
            return VB_ERR_NO_MEMORY;
        cap *= 2;
    }
    uint8_t *buf = vb_alloc(cap);
    if (!buf)
        return VB_ERR_NO_MEMORY;
    if (o->buf)
        vb_memcpy(buf, o->buf, o->used);
    vb_free(o->buf);
    o->buf = buf;
    o->cap = cap;
    return VB_OK;
}

/* Allocates a cell with payload_len bytes of payload; *cell = its offset
 * relative to the first hive bin. Cells never cross a bin: the rest of a
 * full bin becomes one free cell and a new bin (4 KiB, or larger for a big
 * cell) starts. */
static vb_status alloc_cell(struct hive_out *o, uint32_t payload_len, uint32_t *cell)
{
    if (payload_len > 0x3FFFFFF0u)
        return VB_ERR_INVALID_ARG;
    uint32_t need = (payload_len + 4 + 7) & ~7u;
    if (o->bin_end - o->used < need) {
        if (o->bin_end > o->used)      /* leftover: a free cell (positive size) */
            vb_put_le32(o->buf + o->used, o->bin_end - o->used);
        uint32_t bin_size = (need + (uint32_t)sizeof(vb_regf_hbin) + VB_REGF_BLOCK - 1) & ~(VB_REGF_BLOCK - 1);
        o->used = o->bin_end;
        vb_status st = out_reserve(o, bin_size);
        if (st != VB_OK)
            return st;
        vb_regf_hbin *h = (vb_regf_hbin *)(o->buf + o->used);
        vb_memset(h, 0, bin_size);
        vb_memcpy(h->signature, "hbin", 4);
        vb_put_le32(h->offset, o->used - VB_REGF_BLOCK);
        vb_put_le32(h->size, bin_size);
        vb_put_le32(h->timestamp, (uint32_t)o->timestamp);
        vb_put_le32(h->timestamp + 4, (uint32_t)(o->timestamp >> 32));
        o->bin_end = o->used + bin_size;
        o->used += sizeof(vb_regf_hbin);
    }
    vb_put_le32(o->buf + o->used, (uint32_t)-(int32_t)need);
    vb_memset(o->buf + o->used + 4, 0, need - 4);
    *cell = o->used - VB_REGF_BLOCK;
    o->used += need;
    return VB_OK;
}

/* Payload of the cell at a bin-relative offset (valid until the next alloc). */
static uint8_t *payload(struct hive_out *o, uint32_t cell)
{
    return o->buf + VB_REGF_BLOCK + cell + 4;
}

/* A self-relative security descriptor (MS-DTYP 2.4.6): owner
 * BUILTIN\Administrators (S-1-5-32-544), group SYSTEM (S-1-5-18), a DACL
 * allowing KEY_ALL_ACCESS (0xF003F) to both, inherited by subkeys. */
static uint32_t build_security_descriptor(uint8_t *sd)
{
    static const uint8_t admins[16] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0 };
    static const uint8_t system[12] = { 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
    uint32_t acl = 20, ace1 = acl + 8, ace2 = ace1 + 8 + 16, owner = ace2 + 8 + 12, group = owner + 16;
    sd[0] = 1;                                  /* revision */
    vb_put_le16(sd + 2, 0x8004);                /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
    vb_put_le32(sd + 4, owner);
    vb_put_le32(sd + 8, group);
    vb_put_le32(sd + 12, 0);                    /* no SACL */
    vb_put_le32(sd + 16, acl);
    sd[acl] = 2;                                /* ACL_REVISION */
    vb_put_le16(sd + acl + 2, (uint16_t)(owner - acl));
    vb_put_le16(sd + acl + 4, 2);               /* two ACEs */
    sd[ace1] = 0;                               /* ACCESS_ALLOWED_ACE_TYPE */
    sd[ace1 + 1] = 0x02;                        /* CONTAINER_INHERIT_ACE */
    vb_put_le16(sd + ace1 + 2, 8 + 16);
    vb_put_le32(sd + ace1 + 4, 0xF003F);
    vb_memcpy(sd + ace1 + 8, admins, 16);
    sd[ace2] = 0;
    sd[ace2 + 1] = 0x02;
    vb_put_le16(sd + ace2 + 2, 8 + 12);
    vb_put_le32(sd + ace2 + 4, 0xF003F);
    vb_memcpy(sd + ace2 + 8, system, 12);
    vb_memcpy(sd + owner, admins, 16);
    vb_memcpy(sd + group, system, 12);
    return group + 12;
}

/* Writes the data of v: inline (<= 4 bytes), one cell, or "db" segments.
 * Fills the vk's data size and offset fields (given by cell offset). */
static vb_status write_value_data(struct hive_out *o, const struct vb_regf_wvalue *v, uint32_t vk)
{
    uint32_t size = v->len, where = VB_REGF_NONE;
    vb_status st = VB_OK;
    if (v->len <= 4) {
        size |= VB_VK_DATA_INLINE;
        uint8_t word[4] = { 0 };
        vb_memcpy(word, v->data, v->len);
        where = vb_le32(word);
    } else if (v->len < VB_REGF_BIG_DATA_MIN) {
        if ((st = alloc_cell(o, v->len, &where)) != VB_OK)
            return st;
        vb_memcpy(payload(o, where), v->data, v->len);
    } else {
        uint32_t segments = (v->len + VB_REGF_DB_SEGMENT - 1) / VB_REGF_DB_SEGMENT, list;
        if (segments > 0xFFFF)
            return VB_ERR_INVALID_ARG;
        if ((st = alloc_cell(o, sizeof(vb_regf_db), &where)) != VB_OK ||
            (st = alloc_cell(o, segments * 4, &list)) != VB_OK)
            return st;
        vb_regf_db *db = (vb_regf_db *)payload(o, where);
        vb_memcpy(db->signature, "db", 2);
        vb_put_le16(db->segment_count, (uint16_t)segments);
        vb_put_le32(db->segment_list, list);
        for (uint32_t i = 0; i < segments; i++) {
            uint32_t part = v->len - i * VB_REGF_DB_SEGMENT, seg;
            if (part > VB_REGF_DB_SEGMENT)
                part = VB_REGF_DB_SEGMENT;
            if ((st = alloc_cell(o, part, &seg)) != VB_OK)
                return st;
            vb_memcpy(payload(o, seg), v->data + (size_t)i * VB_REGF_DB_SEGMENT, part);
            vb_put_le32(payload(o, list) + 4 * i, seg);
        }
        o->big_data = true;
    }
    vb_regf_vk *cell = (vb_regf_vk *)payload(o, vk);
    vb_put_le32(cell->data_size, size);
    vb_put_le32(cell->data_offset, where);
    return VB_OK;
}

/* Writes the values of key and their list; fills the nk's value fields. */
static vb_status write_values(struct hive_out *o, const vb_regf_wkey *key, uint32_t nk)
{
    if (!key->value_count) {
        vb_put_le32(((vb_regf_nk *)payload(o, nk))->value_list, VB_REGF_NONE);
        return VB_OK;
    }
    uint32_t list, i = 0, max_name = 0, max_data = 0;
    vb_status st = alloc_cell(o, key->value_count * 4, &list);
    for (const struct vb_regf_wvalue *v = key->values; v && st == VB_OK; v = v->next, i++) {
        uint32_t name_len = (uint32_t)vb_strlen(v->name), vk;
        if ((st = alloc_cell(o, sizeof(vb_regf_vk) + name_len, &vk)) != VB_OK)
            break;
        vb_regf_vk *cell = (vb_regf_vk *)payload(o, vk);
        vb_memcpy(cell->signature, "vk", 2);
        vb_put_le16(cell->name_length, (uint16_t)name_len);
        vb_put_le32(cell->type, v->type);
        vb_put_le16(cell->flags, name_len ? VB_VK_COMP_NAME : 0);
        vb_memcpy((uint8_t *)cell + sizeof(*cell), v->name, name_len);
        st = write_value_data(o, v, vk);
        vb_put_le32(payload(o, list) + 4 * i, vk);
        if (2 * name_len > max_name)
            max_name = 2 * name_len;
        if (v->len > max_data)
            max_data = v->len;
    }
    if (st != VB_OK)
        return st;
    vb_regf_nk *n = (vb_regf_nk *)payload(o, nk);
    vb_put_le32(n->value_count, key->value_count);
    vb_put_le32(n->value_list, list);
    vb_put_le32(n->max_value_name, max_name);
    vb_put_le32(n->max_value_data, max_data);
    return VB_OK;
}

/* Writes key (an nk cell), then its subtree, subkey list ("lh", children
 * already in registry order) and values; *out = the nk's offset. */
static vb_status write_key(struct hive_out *o, const vb_regf_wkey *key, uint32_t parent,
                           uint32_t security, unsigned depth, uint32_t *out)
{
    if (depth > 64)
        return VB_ERR_INVALID_ARG;
    uint32_t name_len = (uint32_t)vb_strlen(key->name), nk;
    vb_status st = alloc_cell(o, sizeof(vb_regf_nk) + name_len, &nk);
    if (st != VB_OK)
        return st;
    vb_regf_nk *n = (vb_regf_nk *)payload(o, nk);
    uint16_t flags = VB_NK_COMP_NAME;
    if (parent == VB_REGF_NONE)
        flags |= VB_NK_HIVE_ENTRY | VB_NK_NO_DELETE;
    vb_memcpy(n->signature, "nk", 2);
    vb_put_le16(n->flags, flags);
    vb_put_le32(n->timestamp, (uint32_t)o->timestamp);
    vb_put_le32(n->timestamp + 4, (uint32_t)(o->timestamp >> 32));
    vb_put_le32(n->parent, parent == VB_REGF_NONE ? 0 : parent);
    vb_put_le32(n->subkey_list, VB_REGF_NONE);
    vb_put_le32(n->volatile_subkey_list, VB_REGF_NONE);
    vb_put_le32(n->security, security);
    vb_put_le32(n->class_name, VB_REGF_NONE);
    vb_put_le16(n->name_length, (uint16_t)name_len);
    vb_memcpy((uint8_t *)n + sizeof(*n), key->name, name_len);

    if (key->child_count) {
        uint32_t list, i = 0, max_name = 0;
        if ((st = alloc_cell(o, 4 + 8 * key->child_count, &list)) != VB_OK)
            return st;
        vb_regf_list *l = (vb_regf_list *)payload(o, list);
        vb_memcpy(l->signature, "lh", 2);
        vb_put_le16(l->count, (uint16_t)key->child_count);
        for (const vb_regf_wkey *c = key->children; c; c = c->next, i++) {
            uint32_t child;
            if ((st = write_key(o, c, nk, security, depth + 1, &child)) != VB_OK)
                return st;
            uint8_t *entry = payload(o, list) + 4 + 8 * i;
            vb_put_le32(entry, child);
            vb_put_le32(entry + 4, vb_regf_lh_hash(c->name));
            uint32_t len = 2 * (uint32_t)vb_strlen(c->name);
            if (len > max_name)
                max_name = len;
        }
        n = (vb_regf_nk *)payload(o, nk);
        vb_put_le32(n->subkey_count, key->child_count);
        vb_put_le32(n->subkey_list, list);
        vb_put_le32(n->max_subkey_name, max_name);
    }
    if ((st = write_values(o, key, nk)) != VB_OK)
        return st;
    *out = nk;
    return VB_OK;
}

/* Counts keys in the subtree of key (itself included). */
static uint32_t count_keys(const vb_regf_wkey *key)
{
    uint32_t n = 1;
    for (const vb_regf_wkey *c = key->children; c; c = c->next)
        n += count_keys(c);
    return n;
}

vb_status vb_regf_serialize(const vb_regf_builder *b, uint64_t timestamp,
                            uint8_t **out, size_t *out_len)
{
    if (!b || !out || !out_len)
        return VB_ERR_INVALID_ARG;
    struct hive_out o = { .timestamp = timestamp };
    vb_status st = out_reserve(&o, VB_REGF_BLOCK);
    if (st != VB_OK)
        return st;
    vb_memset(o.buf, 0, VB_REGF_BLOCK);
    o.used = o.bin_end = VB_REGF_BLOCK;

    /* One security cell shared by every key, linked to itself. */
    uint8_t sd[128];
    uint32_t sd_len = build_security_descriptor(sd), sk, root;
    if ((st = alloc_cell(&o, sizeof(vb_regf_sk) + sd_len, &sk)) == VB_OK) {
        vb_regf_sk *s = (vb_regf_sk *)payload(&o, sk);
        vb_memcpy(s->signature, "sk", 2);
        vb_put_le32(s->flink, sk);
        vb_put_le32(s->blink, sk);
        vb_put_le32(s->ref_count, count_keys(&b->root));
        vb_put_le32(s->descriptor_size, sd_len);
        vb_memcpy((uint8_t *)s + sizeof(*s), sd, sd_len);
        st = write_key(&o, &b->root, VB_REGF_NONE, sk, 0, &root);
    }
    if (st != VB_OK) {
        vb_free(o.buf);
        return st;
    }
    if (o.bin_end > o.used)
        vb_put_le32(o.buf + o.used, o.bin_end - o.used);

    vb_regf_base *base = (vb_regf_base *)o.buf;
    vb_memcpy(base->signature, "regf", 4);
    vb_put_le32(base->primary_seq, 1);
    vb_put_le32(base->secondary_seq, 1);
    vb_put_le32(base->timestamp, (uint32_t)timestamp);
    vb_put_le32(base->timestamp + 4, (uint32_t)(timestamp >> 32));
    vb_put_le32(base->major, 1);
    vb_put_le32(base->minor, o.big_data ? 5 : 3);
    vb_put_le32(base->file_type, 0);
    vb_put_le32(base->file_format, 1);
    vb_put_le32(base->root_offset, root);
    vb_put_le32(base->hbins_size, o.bin_end - VB_REGF_BLOCK);
    vb_put_le32(base->clustering, 1);
    vb_put_le32(base->checksum, vb_regf_checksum(o.buf));
    *out = o.buf;
    *out_len = o.bin_end;
    return VB_OK;
}
