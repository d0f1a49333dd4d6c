/* vhdboot: FAT16 disk image builder.
 *
 * Layouts from Microsoft's "FAT: General Overview of On-Disk Format"
 * (fatgen103): the BPB fields of the boot sector, FAT16 cluster counts
 * 4085..65524 (the count alone decides the FAT type), the fixed root
 * directory, 32-byte directory entries, long-name entries (attribute 0x0F,
 * 13 UTF-16 characters each, stored last-first before their 8.3 entry, with
 * the checksum of the 8.3 name). MBR partition entry: 16 bytes from byte 446,
 * type at +4, start LBA at +8, sector count at +12; 0x55AA at 510. */
#include "fat_build.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/utf.h"

#define SECTOR 512u
#define ROOT_ENTRIES 512u
#define MAX_NODES (2 * VB_FAT_BUILD_MAX_FILES + 1)
#define NAME_MAX 255u
#define DOS_DATE ((2026 - 1980) << 9 | 1 << 5 | 1)   /* 2026-01-01 */

struct node {
    char name[NAME_MAX + 1];
    uint8_t short_name[11];
    bool needs_lfn;
    bool is_dir;
    int parent;               /* index, -1 for the root */
    const vb_fat_file *file;
    uint32_t entries;         /* directories: 32-byte entries they hold */
    uint32_t first_cluster;
    uint32_t clusters;
};

struct layout {
    struct node nodes[MAX_NODES];
    unsigned count;           /* nodes[0] is the root */
};

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

/* Whether c may appear in an 8.3 name (fatgen103: no spaces, no . " * + , / : ; < = > ? [ \ ] |). */
static bool short_char_ok(char c)
{
    if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7F)
        return false;
    for (const char *bad = "\"*+,./:;<=>?[\\]|"; *bad; bad++)
        if (c == *bad)
            return false;
    return true;
}

/* Checks a path component: 1..255 bytes of printable ASCII, no reserved
 * characters, not "." or "..". */
static bool component_ok(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX || (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.'))))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E || s[i] == '/' || s[i] == ':' ||
            s[i] == '*' || s[i] == '?' || s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '|')
            return false;
    return true;
}

/* Fills the 8.3 form of name when it is exactly representable (upper-case
 * base of 1-8 and extension of 0-3 valid characters); false otherwise. */
static bool exact_short(const char *name, uint8_t out[11])
{
    vb_memset(out, ' ', 11);
    const char *dot = NULL;
    for (const char *p = name; *p; p++)
        if (*p == '.')
            dot = p;
    size_t base = dot ? (size_t)(dot - name) : vb_strlen(name);
    size_t ext = dot ? vb_strlen(dot + 1) : 0;
    if (base == 0 || base > 8 || ext > 3 || (dot && ext == 0))
        return false;
    for (size_t i = 0; i < base; i++) {
        if (!short_char_ok(name[i]) || upper(name[i]) != name[i])
            return false;
        out[i] = (uint8_t)name[i];
    }
    for (size_t i = 0; i < ext; i++) {
        if (!short_char_ok(dot[1 + i]) || upper(dot[1 + i]) != dot[1 + i])
            return false;
        out[8 + i] = (uint8_t)dot[1 + i];
    }
    return true;
}

/* Whether another child of parent already has this 8.3 name. */
static bool short_taken(const struct layout *l, int parent, unsigned self, const uint8_t sn[11])
{
    for (unsigned i = 1; i < l->count; i++)
        if (i != self && l->nodes[i].parent == parent && vb_memcmp(l->nodes[i].short_name, sn, 11) == 0)
            return true;
    return false;
}

/* Makes the "BASE~N.EXT" alias of node i, unique in its folder. */
static vb_status make_alias(struct layout *l, unsigned i)
{
    struct node *n = &l->nodes[i];
    const char *dot = NULL;
    for (const char *p = n->name; *p; p++)
        if (*p == '.')
            dot = p;
    uint8_t base[8], ext[3];
    size_t nb = 0, ne = 0;
    for (const char *p = n->name; *p && p != dot && nb < 6; p++)
        if (short_char_ok(*p))
            base[nb++] = (uint8_t)upper(*p);
    for (const char *p = dot ? dot + 1 : ""; *p && ne < 3; p++)
        if (short_char_ok(*p))
            ext[ne++] = (uint8_t)upper(*p);
    if (nb == 0)
        base[nb++] = '_';
    for (unsigned k = 1; k < 1000; k++) {
        char num[5];
        unsigned digits = k < 10 ? 1 : k < 100 ? 2 : 3, keep = nb;
        if (keep > 7 - digits)
            keep = 7 - digits;
        vb_memset(n->short_name, ' ', 11);
        vb_memcpy(n->short_name, base, keep);
        num[0] = '~';
        for (unsigned d = 0, v = k; d < digits; d++, v /= 10)
            num[digits - d] = (char)('0' + v % 10);
        vb_memcpy(n->short_name + keep, num, digits + 1);
        vb_memcpy(n->short_name + 8, ext, ne);
        if (!short_taken(l, n->parent, i, n->short_name))
            return VB_OK;
    }
    return VB_ERR_INVALID_ARG;
}

/* Finds or adds the child called name (n bytes) of parent; -1 on failure. */
static int child(struct layout *l, int parent, const char *name, size_t n, bool is_dir)
{
    for (unsigned i = 1; i < l->count; i++) {
        struct node *c = &l->nodes[i];
        if (c->parent != parent || vb_strlen(c->name) != n)
            continue;
        size_t k = 0;
        while (k < n && upper(c->name[k]) == upper(name[k]))
            k++;
        if (k == n)
            return (c->is_dir && is_dir) ? (int)i : -1;    /* a file twice, or file vs folder */
    }
    if (l->count >= MAX_NODES)
        return -1;
    struct node *c = &l->nodes[l->count];
    vb_memcpy(c->name, name, n);
    c->name[n] = 0;
    c->is_dir = is_dir;
    c->parent = parent;
    return (int)l->count++;
}

/* Splits every path into folders and files. */
static vb_status add_paths(struct layout *l, const vb_fat_file *files, size_t count)
{
    l->count = 1;
    l->nodes[0].is_dir = true;
    l->nodes[0].parent = -1;
    for (size_t f = 0; f < count; f++) {
        const char *p = files[f].path;
        if (!p || p[0] != '\\' || (!files[f].data && files[f].size))
            return VB_ERR_INVALID_ARG;
        int parent = 0;
        while (*p) {
            while (*p == '\\')
                p++;
            const char *end = p;
            while (*end && *end != '\\')
                end++;
            bool last = *end == 0;
            if (!component_ok(p, (size_t)(end - p)))
                return VB_ERR_INVALID_ARG;
            int c = child(l, parent, p, (size_t)(end - p), !last);
            if (c < 0)
                return VB_ERR_INVALID_ARG;
            if (last)
                l->nodes[c].file = &files[f];
            parent = c;
            p = end;
        }
    }
    return VB_OK;
}

/* The long-name checksum of an 8.3 name (fatgen103). */
static uint8_t lfn_checksum(const uint8_t sn[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sn[i]);
    return sum;
}

/* Entries a child takes in its folder: the long-name entries and the 8.3 one. */
static uint32_t entry_count(const struct node *n)
{
    return n->needs_lfn ? (uint32_t)(vb_strlen(n->name) + 12) / 13 + 1 : 1;
}

/* Writes the directory entries of child n at dst (room checked by the caller). */
static void write_entries(uint8_t *dst, const struct node *n)
{
    uint32_t lfn = n->needs_lfn ? entry_count(n) - 1 : 0;
    size_t len = vb_strlen(n->name);
    uint8_t sum = lfn_checksum(n->short_name);
    static const uint8_t slots[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
    for (uint32_t e = 0; e < lfn; e++) {
        uint32_t seq = lfn - e;              /* highest sequence first */
        uint8_t *d = dst + 32 * e;
        d[0] = (uint8_t)(seq | (e == 0 ? 0x40 : 0));
        d[11] = 0x0F;
        d[13] = sum;
        for (unsigned k = 0; k < 13; k++) {
            size_t at = (seq - 1) * 13 + k;
            uint16_t ch = at < len ? (uint8_t)n->name[at] : at == len ? 0 : 0xFFFF;
            vb_put_le16(d + slots[k], ch);
        }
    }
    uint8_t *d = dst + 32 * lfn;
    vb_memcpy(d, n->short_name, 11);
    d[11] = n->is_dir ? 0x10 : 0x01;         /* directory, or read-only file */
    vb_put_le16(d + 16, DOS_DATE);           /* created */
    vb_put_le16(d + 18, DOS_DATE);           /* accessed */
    vb_put_le16(d + 24, DOS_DATE);           /* written */
    vb_put_le16(d + 26, (uint16_t)n->first_cluster);
    vb_put_le32(d + 28, n->is_dir ? 0 : n->file->size);
}

vb_status vb_fat_build(const vb_fat_file *files, size_t count, const char *label,
                       uint32_t disk_signature, uint8_t **image, uint64_t *size)
{
    if (!image || !size || (count && !files) || count > VB_FAT_BUILD_MAX_FILES)
        return VB_ERR_INVALID_ARG;
    struct layout *l = vb_alloc(sizeof(*l));
    if (!l)
        return VB_ERR_NO_MEMORY;
    vb_status st = add_paths(l, files, count);
    for (unsigned i = 1; i < l->count && st == VB_OK; i++) {
        struct node *n = &l->nodes[i];
        n->needs_lfn = !exact_short(n->name, n->short_name) || short_taken(l, n->parent, i, n->short_name);
        if (n->needs_lfn)
            st = make_alias(l, i);
    }
    /* folder sizes in entries ("." and ".." in subfolders) */
    for (unsigned i = 0; i < l->count && st == VB_OK; i++)
        l->nodes[i].entries = i ? 2 : 1;     /* the root holds the volume label */
    for (unsigned i = 1; i < l->count; i++)
        l->nodes[l->nodes[i].parent].entries += entry_count(&l->nodes[i]);
    if (st == VB_OK && l->nodes[0].entries > ROOT_ENTRIES)
        st = VB_ERR_NO_SPACE;

    /* the smallest cluster size giving at most 65524 clusters */
    uint32_t cluster = SECTOR, needed = 0;
    for (; st == VB_OK; cluster *= 2) {
        if (cluster > 32768) {
            st = VB_ERR_NO_SPACE;
            break;
        }
        uint64_t total = 0;
        for (unsigned i = 1; i < l->count; i++) {
            const struct node *n = &l->nodes[i];
            uint64_t bytes = n->is_dir ? (uint64_t)n->entries * 32 : n->file->size;
            total += (bytes + cluster - 1) / cluster;
        }
        if (total <= 65524 - 16) {
            needed = (uint32_t)total;
            break;
        }
    }
    if (st != VB_OK) {
        vb_free(l);
        return st;
    }
    /* at least 4085 clusters, or it would be FAT12 */
    uint32_t clusters = needed + 16 < 4085 + 16 ? 4085 + 16 : needed + 16;
    uint32_t spc = cluster / SECTOR;
    uint32_t fat_sectors = ((clusters + 2) * 2 + SECTOR - 1) / SECTOR;
    uint32_t reserved = 4, root_sectors = ROOT_ENTRIES * 32 / SECTOR;
    uint32_t data_start = reserved + 2 * fat_sectors + root_sectors;
    uint32_t volume_sectors = data_start + clusters * spc;
    uint64_t disk_bytes = ((uint64_t)VB_FAT_BUILD_PART_LBA + volume_sectors) * SECTOR;
    uint8_t *img = vb_alloc((size_t)disk_bytes);
    if (!img) {
        vb_free(l);
        return VB_ERR_NO_MEMORY;
    }

    /* MBR */
    vb_put_le32(img + 440, disk_signature);
    uint8_t *pe = img + 446;
    pe[0] = 0x80;                                  /* active */
    pe[1] = 0xFE; pe[2] = 0xFF; pe[3] = 0xFF;      /* CHS not used: LBA only */
    pe[4] = 0x0E;                                  /* FAT16 (LBA) */
    pe[5] = 0xFE; pe[6] = 0xFF; pe[7] = 0xFF;
    vb_put_le32(pe + 8, VB_FAT_BUILD_PART_LBA);
    vb_put_le32(pe + 12, volume_sectors);
    img[510] = 0x55;
    img[511] = 0xAA;

    /* boot sector and BPB (fatgen103 offsets) */
    uint8_t *vol = img + (size_t)VB_FAT_BUILD_PART_LBA * SECTOR;
    static const uint8_t jump[3] = { 0xEB, 0x3C, 0x90 };
    vb_memcpy(vol, jump, 3);
    vb_memcpy(vol + 3, "VHDBOOT ", 8);
    vb_put_le16(vol + 11, SECTOR);
    vol[13] = (uint8_t)spc;
    vb_put_le16(vol + 14, (uint16_t)reserved);
    vol[16] = 2;                                   /* FATs */
    vb_put_le16(vol + 17, ROOT_ENTRIES);
    if (volume_sectors < 65536)
        vb_put_le16(vol + 19, (uint16_t)volume_sectors);
    else
        vb_put_le32(vol + 32, volume_sectors);
    vol[21] = 0xF8;                                /* fixed disk */
    vb_put_le16(vol + 22, (uint16_t)fat_sectors);
    vb_put_le16(vol + 24, 63);
    vb_put_le16(vol + 26, 255);
    vb_put_le32(vol + 28, VB_FAT_BUILD_PART_LBA);  /* hidden sectors */
    vol[36] = 0x80;
    vol[38] = 0x29;                                /* extended boot signature */
    vb_put_le32(vol + 39, disk_signature);         /* volume serial */
    uint8_t vlabel[11];
    vb_memset(vlabel, ' ', 11);
    for (size_t i = 0; label && label[i] && i < 11; i++)
        vlabel[i] = (uint8_t)upper(short_char_ok(label[i]) ? label[i] : '_');
    vb_memcpy(vol + 43, vlabel, 11);
    vb_memcpy(vol + 54, "FAT16   ", 8);
    vol[510] = 0x55;
    vol[511] = 0xAA;

    /* clusters: folders and files in node order, each contiguous */
    uint32_t next = 2;
    for (unsigned i = 1; i < l->count; i++) {
        struct node *n = &l->nodes[i];
        uint64_t bytes = n->is_dir ? (uint64_t)n->entries * 32 : n->file->size;
        n->clusters = (uint32_t)((bytes + cluster - 1) / cluster);
        n->first_cluster = n->clusters ? next : 0;
        next += n->clusters;
    }
    uint8_t *fat = vol + (size_t)reserved * SECTOR;
    vb_put_le16(fat, 0xFFF8);
    vb_put_le16(fat + 2, 0xFFFF);
    for (unsigned i = 1; i < l->count; i++) {
        const struct node *n = &l->nodes[i];
        for (uint32_t c = 0; c < n->clusters; c++) {
            uint32_t at = n->first_cluster + c;
            vb_put_le16(fat + 2 * at, (uint16_t)(c + 1 == n->clusters ? 0xFFFF : at + 1));
        }
    }
    vb_memcpy(fat + (size_t)fat_sectors * SECTOR, fat, (size_t)fat_sectors * SECTOR);

    /* folders, then file data */
    uint8_t *root = vol + (size_t)(reserved + 2 * fat_sectors) * SECTOR;
    uint8_t *data = vol + (size_t)data_start * SECTOR;
    vb_memcpy(root, vlabel, 11);
    root[11] = 0x08;                               /* volume label entry */
    uint32_t used[MAX_NODES];
    for (unsigned i = 0; i < l->count; i++)
        used[i] = i ? 2 : 1;
    for (unsigned i = 1; i < l->count; i++) {
        const struct node *n = &l->nodes[i];
        if (n->is_dir) {
            uint8_t *d = data + (size_t)(n->first_cluster - 2) * cluster;
            static const uint8_t dot[11] = { '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
            static const uint8_t dotdot[11] = { '.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' };
            vb_memcpy(d, dot, 11);
            d[11] = 0x10;
            vb_put_le16(d + 16, DOS_DATE);
            vb_put_le16(d + 24, DOS_DATE);
            vb_put_le16(d + 32 + 16, DOS_DATE);
            vb_put_le16(d + 32 + 24, DOS_DATE);
            vb_put_le16(d + 26, (uint16_t)n->first_cluster);
            vb_memcpy(d + 32, dotdot, 11);
            d[43] = 0x10;
            vb_put_le16(d + 58, n->parent ? (uint16_t)l->nodes[n->parent].first_cluster : 0);
        } else if (n->file->size) {
            vb_memcpy(data + (size_t)(n->first_cluster - 2) * cluster, n->file->data, n->file->size);
        }
        const struct node *p = &l->nodes[n->parent];
        uint8_t *dir = n->parent ? data + (size_t)(p->first_cluster - 2) * cluster : root;
        write_entries(dir + 32 * used[n->parent], n);
        used[n->parent] += entry_count(n);
    }
    vb_free(l);
    *image = img;
    *size = disk_bytes;
    return VB_OK;
}
