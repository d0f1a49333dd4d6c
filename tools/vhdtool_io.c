/* vhdtool: byte-granular reads and writes over sources that may insist on
 * whole sectors (VHD layers). The aligned middle goes through in one call. */
#include <string.h>
#include "tools/vhdtool.h"

/* Reads the sector holding byte offset into sector[512]; returns the status. */
static vb_status read_sector(vb_source *src, uint64_t offset, uint8_t sector[VB_SECTOR])
{
    uint64_t start = offset - offset % VB_SECTOR;
    if (start + VB_SECTOR > src->size)
        return VB_ERR_OUT_OF_RANGE;
    return vb_source_read(src, start, sector, VB_SECTOR);
}

vb_status vt_read_at(vb_source *src, uint64_t offset, void *buf, size_t len)
{
    uint8_t *out = buf;
    uint8_t sector[VB_SECTOR];
    if (offset > src->size || len > src->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    while (len && (offset % VB_SECTOR || len < VB_SECTOR)) {
        vb_status st = read_sector(src, offset, sector);
        if (st != VB_OK)
            return st;
        size_t in = (size_t)(offset % VB_SECTOR);
        size_t n = VB_SECTOR - in < len ? VB_SECTOR - in : len;
        memcpy(out, sector + in, n);
        out += n;
        offset += n;
        len -= n;
    }
    size_t whole = len - len % VB_SECTOR;
    if (whole) {
        vb_status st = vb_source_read(src, offset, out, whole);
        if (st != VB_OK)
            return st;
        out += whole;
        offset += whole;
        len -= whole;
    }
    if (len) {
        vb_status st = read_sector(src, offset, sector);
        if (st != VB_OK)
            return st;
        memcpy(out, sector, len);
    }
    return VB_OK;
}

/* Replaces n bytes inside the sector holding offset (read-modify-write). */
static vb_status patch_sector(vb_source *src, uint64_t offset, const uint8_t *data, size_t n)
{
    uint8_t sector[VB_SECTOR];
    vb_status st = read_sector(src, offset, sector);
    if (st != VB_OK)
        return st;
    memcpy(sector + offset % VB_SECTOR, data, n);
    return vb_source_write(src, offset - offset % VB_SECTOR, sector, VB_SECTOR);
}

vb_status vt_write_at(vb_source *src, uint64_t offset, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    if (offset > src->size || len > src->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    while (len && (offset % VB_SECTOR || len < VB_SECTOR)) {
        size_t at = (size_t)(offset % VB_SECTOR);
        size_t n = VB_SECTOR - at < len ? VB_SECTOR - at : len;
        vb_status st = patch_sector(src, offset, in, n);
        if (st != VB_OK)
            return st;
        in += n;
        offset += n;
        len -= n;
    }
    size_t whole = len - len % VB_SECTOR;
    if (whole) {
        vb_status st = vb_source_write(src, offset, in, whole);
        if (st != VB_OK)
            return st;
        in += whole;
        offset += whole;
        len -= whole;
    }
    if (len)
        return patch_sector(src, offset, in, len);
    return VB_OK;
}
