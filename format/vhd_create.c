/* vhdboot: creating empty fixed, dynamic and differencing VHD images.
 *
 * Size rule of what we write: creator application "vhdb" (host OS "Wi2k"),
 * current and original size = the disk size, and the geometry of
 * vb_chs_to_store(): the specification's CHS when its product is exactly
 * the size, otherwise the maximum 65535/16/255. Windows and libvhdi read the
 * current size; QEMU before 10.0 reads the CHS product for creators it does
 * not know, except at the maximum geometry, where it too takes the current
 * size; QEMU 10 takes the current size of every creator but "vpc " and
 * "qemu". So every reader sees the same, exact size.
 *
 * Dynamic/differencing layout (sector aligned):
 *   0      footer copy
 *   512    dynamic header (1024 bytes)
 *   1536   BAT, all entries 0xFFFFFFFF, padded to a whole sector with 0xFF
 *   ...    differencing only: W2ku then W2ru locator data (UTF-16LE), each
 *          with a data space of its length rounded up to 512, stored in bytes
 *   ...    footer
 * The header's parent name is parent_abs in UTF-16BE. */
#include "bytes.h"
#include "platform.h"
#include "utf.h"
#include "vhd_layer_internal.h"

#define CREATE_HEADER_OFFSET 512u
#define CREATE_BAT_OFFSET (CREATE_HEADER_OFFSET + VB_HEADER_SIZE)
#define CREATE_DEFAULT_BLOCK (2u << 20)
#define CREATE_FILL_CHUNK 4096u
#define CREATE_HOST_OS 0x5769326Bu /* "Wi2k" */
#define CREATE_CREATOR_VERSION 0x00010000u

/* Rounds v up to a whole number of sectors. */
static uint64_t round_sector(uint64_t v)
{
    return (v + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
}

/* Builds a complete footer (with checksum) for the new image. */
static void build_footer(const vb_create_params *p, uint64_t size, uint8_t out[VB_FOOTER_SIZE])
{
    vb_raw_footer *f = (vb_raw_footer *)out;
    vb_memset(out, 0, VB_FOOTER_SIZE);
    vb_memcpy(f->cookie, "conectix", 8);
    vb_put_be32(f->features, VB_FEATURES_RESERVED);
    vb_put_be32(f->version, VB_VERSION_1_0);
    vb_put_be64(f->data_offset, p->type == VB_DISK_FIXED ? VB_FIXED_DATA_OFFSET : CREATE_HEADER_OFFSET);
    vb_put_be32(f->timestamp, p->timestamp);
    vb_memcpy(f->creator_app, "vhdb", 4);
    vb_put_be32(f->creator_version, CREATE_CREATOR_VERSION);
    vb_put_be32(f->creator_host_os, CREATE_HOST_OS);
    vb_put_be64(f->original_size, size);
    vb_put_be64(f->current_size, size);
    vb_geometry g = vb_chs_to_store(size);
    vb_put_be16(f->cylinders, g.cylinders);
    f->heads = g.heads;
    f->sectors_per_track = g.sectors;
    vb_put_be32(f->disk_type, (uint32_t)p->type);
    if (p->uuid)
        vb_memcpy(f->uuid, p->uuid, 16);
    vb_put_be32(f->checksum, vb_vhd_checksum(out, VB_FOOTER_SIZE, VB_FOOTER_CHECKSUM_OFFSET));
}

/* Writes `len` bytes of value `fill` at offset through a small buffer. */
static vb_status write_fill(vb_source *dst, uint64_t offset, uint64_t len, uint8_t fill)
{
    uint8_t buf[CREATE_FILL_CHUNK];
    vb_memset(buf, fill, sizeof(buf));
    while (len > 0) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        vb_status st = vb_source_write(dst, offset, buf, n);
        if (st != VB_OK)
            return st;
        offset += n;
        len -= n;
    }
    return VB_OK;
}

/* A locator to write: code, UTF-16LE payload and where it goes. */
typedef struct new_locator {
    const char *code;
    uint8_t data[2 * VB_PATH_MAX];
    size_t length;            /* bytes */
    uint64_t offset;
} new_locator;

/* Encodes a path as UTF-16LE locator data. Returns VB_ERR_INVALID_ARG when it is empty or too long. */
static vb_status encode_locator(new_locator *loc, const char *code, const char *path)
{
    size_t units = 0;
    loc->code = code;
    if (!path || !path[0])
        return VB_ERR_INVALID_ARG;
    vb_status st = vb_utf8_to_utf16(path, false, loc->data, sizeof(loc->data), &units);
    loc->length = units * 2;
    return st;
}

/* Checks the parameters; fills the disk size and block size to use.
 * Returns VB_OK or VB_ERR_INVALID_ARG/VB_ERR_BAD_DISK_SIZE/VB_ERR_BAD_BLOCK_SIZE with diag. */
static vb_status check_params(const vb_create_params *p, uint64_t *size, uint32_t *block_size, vb_diag *diag)
{
    if (p->type != VB_DISK_FIXED && p->type != VB_DISK_DYNAMIC && p->type != VB_DISK_DIFF)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "create: unknown disk type %u", (unsigned)p->type);
    *size = p->size;
    if (p->type == VB_DISK_DIFF) {
        if (!p->parent || !p->parent_abs || !p->parent_rel)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "create: a differencing disk needs its parent's info and paths");
        if (*size == 0)
            *size = p->parent->disk_size;
        if (*size != p->parent->disk_size)
            return vb_fail(diag, VB_ERR_PARENT_SIZE, "create: size %llu differs from the parent's %llu",
                           (unsigned long long)*size, (unsigned long long)p->parent->disk_size);
    }
    if (*size == 0 || *size % VB_SECTOR != 0 || *size > VB_MAX_DISK_SIZE)
        return vb_fail(diag, VB_ERR_BAD_DISK_SIZE,
                       "create: size %llu must be a non-zero multiple of 512 bytes, at most 2040 GiB",
                       (unsigned long long)*size);
    *block_size = p->block_size ? p->block_size : CREATE_DEFAULT_BLOCK;
    uint32_t bs = *block_size;
    if (p->type != VB_DISK_FIXED &&
        (bs < VB_MIN_BLOCK_SIZE || bs > VB_MAX_BLOCK_SIZE || (bs & (bs - 1)) != 0 ||
         (*size + bs - 1) / bs > VB_MAX_BAT_ENTRIES))
        return vb_fail(diag, VB_ERR_BAD_BLOCK_SIZE,
                       "create: block size %u must be a power of two from 4 KiB to 256 MiB, with at most %u blocks",
                       bs, VB_MAX_BAT_ENTRIES);
    return VB_OK;
}

/* Fills the dynamic header for the new image (with checksum). */
static vb_status build_header(const vb_create_params *p, uint32_t entries, uint32_t block_size,
                              const new_locator *locs, unsigned nlocs, uint8_t out[VB_HEADER_SIZE])
{
    vb_raw_header *h = (vb_raw_header *)out;
    vb_memset(out, 0, VB_HEADER_SIZE);
    vb_memcpy(h->cookie, "cxsparse", 8);
    vb_put_be64(h->data_offset, VB_FIXED_DATA_OFFSET);
    vb_put_be64(h->table_offset, CREATE_BAT_OFFSET);
    vb_put_be32(h->header_version, VB_VERSION_1_0);
    vb_put_be32(h->max_table_entries, entries);
    vb_put_be32(h->block_size, block_size);
    if (p->type == VB_DISK_DIFF) {
        vb_memcpy(h->parent_uuid, p->parent->uuid, 16);
        vb_put_be32(h->parent_timestamp, p->parent->timestamp);
        size_t units = 0;
        /* 256 units fill the field exactly; shorter names leave a zero terminator. */
        if (vb_utf8_to_utf16(p->parent_abs, true, h->parent_name, sizeof(h->parent_name), &units) != VB_OK)
            return VB_ERR_INVALID_ARG;
        for (unsigned i = 0; i < nlocs; i++) {
            vb_raw_locator *l = &h->locators[i];
            vb_memcpy(l->code, locs[i].code, 4);
            vb_put_be32(l->data_space, (uint32_t)round_sector(locs[i].length));
            vb_put_be32(l->data_length, (uint32_t)locs[i].length);
            vb_put_be64(l->data_offset, locs[i].offset);
        }
    }
    vb_put_be32(h->checksum, vb_vhd_checksum(out, VB_HEADER_SIZE, VB_HEADER_CHECKSUM_OFFSET));
    return VB_OK;
}

/* Writes footer copy, header, BAT, locators and footer of a sparse image. */
static vb_status create_sparse(vb_source *dst, const vb_create_params *p, uint64_t size, uint32_t block_size,
                               const uint8_t footer[VB_FOOTER_SIZE], vb_diag *diag)
{
    uint32_t entries = (uint32_t)((size + block_size - 1) / block_size);
    uint64_t bat_bytes = round_sector((uint64_t)entries * 4);
    uint64_t end = CREATE_BAT_OFFSET + bat_bytes;
    new_locator *locs = NULL;
    unsigned nlocs = 0;
    vb_status st = VB_OK;
    uint8_t *header = vb_alloc(VB_HEADER_SIZE);
    if (!header)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "create: out of memory");
    if (p->type == VB_DISK_DIFF) {
        locs = vb_alloc(2 * sizeof(new_locator));
        if (!locs) {
            st = vb_fail(diag, VB_ERR_NO_MEMORY, "create: out of memory");
            goto out;
        }
        if (encode_locator(&locs[0], "W2ku", p->parent_abs) != VB_OK ||
            encode_locator(&locs[1], "W2ru", p->parent_rel) != VB_OK) {
            st = vb_fail(diag, VB_ERR_INVALID_ARG, "create: parent path '%s' / '%s' is empty, too long or not UTF-8",
                         p->parent_abs, p->parent_rel);
            goto out;
        }
        nlocs = 2;
        for (unsigned i = 0; i < nlocs; i++) {
            locs[i].offset = end;
            end += round_sector(locs[i].length);
        }
    }
    if (build_header(p, entries, block_size, locs, nlocs, header) != VB_OK) {
        st = vb_fail(diag, VB_ERR_BAD_PARENT_NAME, "create: parent name '%s' does not fit in 256 UTF-16 units",
                     p->parent_abs);
        goto out;
    }
    st = vb_source_write(dst, 0, footer, VB_FOOTER_SIZE);
    if (st == VB_OK)
        st = vb_source_write(dst, CREATE_HEADER_OFFSET, header, VB_HEADER_SIZE);
    if (st == VB_OK)
        st = write_fill(dst, CREATE_BAT_OFFSET, bat_bytes, 0xFF);
    for (unsigned i = 0; st == VB_OK && i < nlocs; i++) {
        uint64_t space = round_sector(locs[i].length);
        st = vb_source_write(dst, locs[i].offset, locs[i].data, locs[i].length);
        if (st == VB_OK && space > locs[i].length)
            st = write_fill(dst, locs[i].offset + locs[i].length, space - locs[i].length, 0);
    }
    if (st == VB_OK)
        st = vb_source_write(dst, end, footer, VB_FOOTER_SIZE);
    if (st != VB_OK)
        st = vb_fail(diag, st, "create: cannot write the new image");
out:
    vb_free(locs);
    vb_free(header);
    return st;
}

vb_status vb_vhd_create(vb_source *dst, const vb_create_params *params, vb_diag *diag)
{
    /* Writes a new, empty image of the requested type; returns VB_OK or why not. */
    if (!dst || !params)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "create: missing destination or parameters");
    uint64_t size = 0;
    uint32_t block_size = 0;
    vb_status st = check_params(params, &size, &block_size, diag);
    if (st != VB_OK)
        return st;
    uint8_t footer[VB_FOOTER_SIZE];
    build_footer(params, size, footer);
    if (params->type == VB_DISK_FIXED) {
        st = vb_source_write(dst, size, footer, VB_FOOTER_SIZE);
        return st == VB_OK ? VB_OK : vb_fail(diag, st, "create: cannot write the footer");
    }
    return create_sparse(dst, params, size, block_size, footer, diag);
}
