/* vhdboot: creating a VHDX (fixed, dynamic or differencing).
 *
 * Layout written (every region 1 MiB aligned, as MS-VHDX requires):
 *   0        file identifier ("vhdxfile", creator "vhdboot")
 *   64 KiB   header 1 (sequence 1), 128 KiB header 2 (sequence 2), same fields
 *   192 KiB  region table 1, 256 KiB region table 2 (identical)
 *   1 MiB    log (empty, LogGuid zero)
 *   then     metadata region (1 MiB): table, items at 64 KiB
 *   then     BAT region (entries rounded up to 1 MiB)
 *   then     payload blocks of a fixed disk, in disk order, or the (zeroed)
 *            sector bitmap blocks of a differencing disk
 * The core has no randomness: the caller passes the GUIDs. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "utf.h"
#include "vhdx_internal.h"

#define META_ITEMS_AT VB_VHDX_KIB64
#define LOCATOR_AT (META_ITEMS_AT + 4096u)

/* Rounds v up to a multiple of 1 MiB. */
static uint64_t round_mib(uint64_t v)
{
    return (v + VB_VHDX_MIB - 1) / VB_VHDX_MIB * VB_VHDX_MIB;
}

/* Appends a metadata table entry. */
static void meta_entry(uint8_t *table, unsigned *n, const uint8_t guid[16], uint32_t off, uint32_t len, uint32_t flags)
{
    vb_vhdx_raw_meta_entry *e = (void *)(table + sizeof(vb_vhdx_raw_meta_header) + (size_t)*n * sizeof(*e));
    vb_memcpy(e->item_id, guid, 16);
    vb_put_le32(e->offset, off);
    vb_put_le32(e->length, len);
    vb_put_le32(e->flags, flags);
    (*n)++;
}

/* Appends one key/value pair (UTF-16LE) to a locator item being built at
 * loc (capacity cap); *end is where the next string goes. Returns the status. */
static vb_status locator_pair(uint8_t *loc, size_t cap, unsigned index, size_t *end, const char *key, const char *value)
{
    vb_vhdx_raw_locator_entry *e = (void *)(loc + sizeof(vb_vhdx_raw_locator_header) + (size_t)index * sizeof(*e));
    size_t units;
    vb_status st = vb_utf8_to_utf16(key, false, loc + *end, cap - *end, &units);
    if (st != VB_OK || units * 2 > 0xFFFF)
        return VB_ERR_INVALID_ARG;
    vb_put_le32(e->key_offset, (uint32_t)*end);
    vb_put_le16(e->key_length, (uint16_t)(units * 2));
    *end += units * 2;
    st = vb_utf8_to_utf16(value, false, loc + *end, cap - *end, &units);
    if (st != VB_OK || units == 0 || units * 2 > 0xFFFF)
        return VB_ERR_INVALID_ARG;
    vb_put_le32(e->value_offset, (uint32_t)*end);
    vb_put_le16(e->value_length, (uint16_t)(units * 2));
    *end += units * 2;
    return VB_OK;
}

/* Builds the parent locator item; *len gets its size. Returns the status. */
static vb_status build_locator(const vb_vhdx_create_params *p, uint8_t *loc, size_t cap, uint32_t *len)
{
    vb_vhdx_raw_locator_header *h = (void *)loc;
    vb_memcpy(h->locator_type, vb_vhdx_guid_locator_type, 16);
    char linkage[40];
    char g[37];
    vb_guid_format(p->parent->data_write_guid, g);
    vb_format(linkage, sizeof(linkage), "{%s}", g);
    unsigned n = 0;
    size_t end = sizeof(*h) + 3 * sizeof(vb_vhdx_raw_locator_entry);
    vb_status st = locator_pair(loc, cap, n++, &end, "parent_linkage", linkage);
    if (st == VB_OK && p->parent_relative && p->parent_relative[0])
        st = locator_pair(loc, cap, n++, &end, "relative_path", p->parent_relative);
    if (st == VB_OK && p->parent_absolute && p->parent_absolute[0])
        st = locator_pair(loc, cap, n++, &end, "absolute_win32_path", p->parent_absolute);
    vb_put_le16(h->key_value_count, (uint16_t)n);
    *len = (uint32_t)end;
    return st;
}

vb_status vb_vhdx_create(vb_source *dst, const vb_vhdx_create_params *p, vb_diag *diag)
{
    bool diff = p->type == VB_DISK_DIFF;
    uint32_t lss = p->logical_sector_size ? p->logical_sector_size : 512;
    uint32_t pss = p->physical_sector_size ? p->physical_sector_size : 4096;
    uint32_t bs = p->block_size ? p->block_size : diff ? (2u << 20) : (32u << 20);
    uint32_t log_size = p->log_size ? p->log_size : VB_VHDX_MIB;
    uint64_t size = diff && p->parent ? p->parent->virtual_size : p->size;
    if (!p->guids)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "VHDX creation needs GUIDs");
    if (diff && (!p->parent || (p->size && p->size != p->parent->virtual_size)))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "a differencing VHDX needs its parent (and the parent's size)");
    if (diff && p->parent)
        lss = p->parent->logical_sector_size;
    if ((lss != 512 && lss != 4096) || (pss != 512 && pss != 4096))
        return vb_fail(diag, VB_ERR_VHDX_SECTOR_SIZE, "sector sizes %u/%u: 512 or 4096 only", lss, pss);
    if (bs < VB_VHDX_MIN_BLOCK || bs > VB_VHDX_MAX_BLOCK || (bs & (bs - 1)))
        return vb_fail(diag, VB_ERR_BAD_BLOCK_SIZE, "block size %u: a power of two from 1 MiB to 256 MiB", bs);
    if (size == 0 || size % lss || size > VB_VHDX_MAX_DISK_SIZE)
        return vb_fail(diag, VB_ERR_BAD_DISK_SIZE, "size %llu: a non-zero multiple of %u up to 64 TiB",
                       (unsigned long long)size, lss);
    if (log_size % VB_VHDX_MIB || log_size == 0)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "log size %u: a non-zero multiple of 1 MiB", log_size);

    uint32_t chunk = (uint32_t)(((uint64_t)1 << 23) * lss / bs);
    uint64_t blocks = (size + bs - 1) / bs;
    uint64_t bitmaps = (blocks + chunk - 1) / chunk;
    uint64_t entries = diff ? bitmaps * ((uint64_t)chunk + 1) : blocks + (blocks - 1) / chunk;
    uint64_t log_off = VB_VHDX_MIB, meta_off = log_off + log_size, bat_off = meta_off + VB_VHDX_MIB;
    uint64_t bat_len = round_mib(entries * 8);
    if (bat_len > 0xFFF00000u || entries > VB_VHDX_MAX_BAT_ENTRIES)
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "%llu BAT entries are too many", (unsigned long long)entries);
    uint64_t data_off = bat_off + bat_len;

    size_t scratch_len = VB_VHDX_KIB64 > bat_len ? VB_VHDX_KIB64 : (size_t)bat_len;
    uint8_t *buf = vb_alloc(scratch_len);
    if (!buf)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory to create a VHDX");
    vb_status st;

    /* metadata region: table and items */
    unsigned n = 0;
    vb_memcpy(((vb_vhdx_raw_meta_header *)buf)->signature, "metadata", 8);
    const uint32_t vd = VB_VHDX_META_IS_VIRTUAL_DISK | VB_VHDX_META_IS_REQUIRED;
    meta_entry(buf, &n, vb_vhdx_guid_file_params, META_ITEMS_AT, 8, VB_VHDX_META_IS_REQUIRED);
    meta_entry(buf, &n, vb_vhdx_guid_disk_size, META_ITEMS_AT + 8, 8, vd);
    meta_entry(buf, &n, vb_vhdx_guid_page83, META_ITEMS_AT + 16, 16, vd);
    meta_entry(buf, &n, vb_vhdx_guid_logical_sector, META_ITEMS_AT + 32, 4, vd);
    meta_entry(buf, &n, vb_vhdx_guid_physical_sector, META_ITEMS_AT + 36, 4, vd);
    uint8_t items[48];
    vb_memset(items, 0, sizeof(items));
    vb_put_le32(items, bs);
    vb_put_le32(items + 4, diff ? VB_VHDX_PARAM_HAS_PARENT : p->type == VB_DISK_FIXED ? VB_VHDX_PARAM_LEAVE_ALLOCATED : 0);
    vb_put_le32(items + 8, (uint32_t)size);
    vb_put_le32(items + 12, (uint32_t)(size >> 32));
    vb_memcpy(items + 16, p->guids + 32, 16);
    vb_put_le32(items + 32, lss);
    vb_put_le32(items + 36, pss);
    uint8_t *loc = NULL;
    uint32_t loc_len = 0;
    if (diff) {
        loc = vb_alloc(3 * 2 * VB_PATH_MAX * 2 + 256);
        if (!loc) {
            vb_free(buf);
            return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory to create a VHDX");
        }
        st = build_locator(p, loc, 3 * 2 * VB_PATH_MAX * 2 + 256, &loc_len);
        if (st != VB_OK) {
            vb_free(loc);
            vb_free(buf);
            return vb_fail(diag, st, "parent paths cannot be stored in the parent locator");
        }
        meta_entry(buf, &n, vb_vhdx_guid_parent_locator, LOCATOR_AT, loc_len, VB_VHDX_META_IS_REQUIRED);
    }
    vb_put_le16(((vb_vhdx_raw_meta_header *)buf)->entry_count, (uint16_t)n);
    st = vb_source_write(dst, meta_off, buf, VB_VHDX_META_TABLE_SIZE);
    if (st == VB_OK)
        st = vb_source_write(dst, meta_off + META_ITEMS_AT, items, 40);
    if (st == VB_OK && loc)
        st = vb_source_write(dst, meta_off + LOCATOR_AT, loc, loc_len);
    vb_free(loc);

    /* BAT: fixed disks get every payload block FULLY_PRESENT, in order */
    if (st == VB_OK) {
        vb_memset(buf, 0, (size_t)bat_len);
        /* a differencing file gets every sector bitmap block (zeros: all
         * from the parent) at once: 1 MiB per chunk; readers such as libvhdi
         * consult them whatever the payload state */
        if (diff)
            for (uint64_t k = 0; k < bitmaps; k++) {
                uint64_t e = (data_off + k * VB_VHDX_MIB) | VB_VHDX_SB_PRESENT;
                uint64_t at = k * ((uint64_t)chunk + 1) + chunk;
                vb_put_le32(buf + at * 8, (uint32_t)e);
                vb_put_le32(buf + at * 8 + 4, (uint32_t)(e >> 32));
            }
        if (p->type == VB_DISK_FIXED)
            for (uint64_t b = 0; b < blocks; b++) {
                uint64_t e = (data_off + b * bs) | VB_VHDX_PAYLOAD_FULLY_PRESENT;
                vb_put_le32(buf + (b + b / chunk) * 8, (uint32_t)e);
                vb_put_le32(buf + (b + b / chunk) * 8 + 4, (uint32_t)(e >> 32));
            }
        st = vb_source_write(dst, bat_off, buf, (size_t)bat_len);
    }
    /* the file ends after the BAT, or after the last block of a fixed disk */
    uint64_t end = p->type == VB_DISK_FIXED ? data_off + round_mib(blocks * bs)
                 : diff                   ? data_off + bitmaps * VB_VHDX_MIB
                                          : data_off;
    if (st == VB_OK && dst->size < end) {
        vb_memset(buf, 0, 4096);
        st = vb_source_write(dst, end - 4096, buf, 4096);
    }
    /* region tables */
    if (st == VB_OK) {
        vb_memset(buf, 0, VB_VHDX_REGION_TABLE_SIZE);
        vb_vhdx_raw_region_header *rh = (void *)buf;
        vb_memcpy(rh->signature, "regi", 4);
        vb_put_le32(rh->entry_count, 2);
        vb_vhdx_raw_region_entry *e = (void *)(buf + sizeof(*rh));
        vb_memcpy(e[0].guid, vb_vhdx_guid_bat, 16);
        vb_put_le32(e[0].file_offset, (uint32_t)bat_off);
        vb_put_le32(e[0].file_offset + 4, (uint32_t)(bat_off >> 32));
        vb_put_le32(e[0].length, (uint32_t)bat_len);
        vb_put_le32(e[0].required, 1);
        vb_memcpy(e[1].guid, vb_vhdx_guid_metadata, 16);
        vb_put_le32(e[1].file_offset, (uint32_t)meta_off);
        vb_put_le32(e[1].file_offset + 4, (uint32_t)(meta_off >> 32));
        vb_put_le32(e[1].length, VB_VHDX_MIB);
        vb_put_le32(e[1].required, 1);
        vb_put_le32(rh->checksum, vb_crc32c(buf, VB_VHDX_REGION_TABLE_SIZE, 4));
        st = vb_source_write(dst, VB_VHDX_REGION1_OFFSET, buf, VB_VHDX_REGION_TABLE_SIZE);
        if (st == VB_OK)
            st = vb_source_write(dst, VB_VHDX_REGION2_OFFSET, buf, VB_VHDX_REGION_TABLE_SIZE);
    }
    /* headers last, then the identifier that makes it a VHDX */
    static const uint8_t zero[16];
    for (unsigned h = 0; h < 2 && st == VB_OK; h++) {
        vb_vhdx_header_build(buf, h + 1, p->guids, p->guids + 16, zero, log_size, log_off);
        st = vb_source_write(dst, h ? VB_VHDX_HEADER2_OFFSET : VB_VHDX_HEADER1_OFFSET, buf, VB_VHDX_HEADER_SIZE);
    }
    if (st == VB_OK) {
        vb_memset(buf, 0, sizeof(vb_vhdx_raw_file_id));
        vb_memcpy(buf, "vhdxfile", 8);
        size_t units;
        vb_utf8_to_utf16("vhdboot", false, buf + 8, 512, &units);
        st = vb_source_write(dst, 0, buf, sizeof(vb_vhdx_raw_file_id));
    }
    if (st == VB_OK)
        st = vb_source_flush(dst);
    vb_free(buf);
    if (st != VB_OK)
        return vb_fail(diag, st, "writing the new VHDX failed: %s", vb_status_message(st));
    return VB_OK;
}
