/* vhdboot: a block source reading a host file straight from its volume
 * through the file's extent map. */
#include "extent.h"
#include "format/bytes.h"
#include "format/platform.h"

struct extent_source {
    vb_source *volume;
    vb_extent_map map;
};

/* Which kind of I/O walk_extents performs on each contiguous piece. */
enum io_kind { IO_READ, IO_WRITE };

/* Performs one volume read or write per contiguous piece of [offset, offset+len)
 * (which the caller has checked lies inside the map). Returns the first error. */
static vb_status walk_extents(struct extent_source *s, enum io_kind kind, uint64_t offset, uint8_t *buf, size_t len)
{
    size_t i = vb_extent_map_find(&s->map, offset);
    while (len) {
        if (i >= s->map.count)
            return VB_ERR_OUT_OF_RANGE;
        const vb_extent *e = &s->map.extents[i];
        uint64_t into = offset - e->file_offset;
        uint64_t avail = e->length - into;
        size_t piece = avail < len ? (size_t)avail : len;
        vb_status st = kind == IO_READ ? vb_source_read(s->volume, e->disk_offset + into, buf, piece)
                                       : vb_source_write(s->volume, e->disk_offset + into, buf, piece);
        if (st != VB_OK)
            return st;
        buf += piece;
        offset += piece;
        len -= piece;
        i++;
    }
    return VB_OK;
}

/* Reads file bytes; the part at or past valid_size is zero-filled. */
static vb_status extent_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct extent_source *s = ctx;
    if (offset > s->map.file_size || len > s->map.file_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    size_t stored = 0;
    if (offset < s->map.valid_size) {
        uint64_t valid_left = s->map.valid_size - offset;
        stored = valid_left < len ? (size_t)valid_left : len;
    }
    if (len > stored)
        vb_memset((uint8_t *)buf + stored, 0, len - stored);
    return stored ? walk_extents(s, IO_READ, offset, buf, stored) : VB_OK;
}

/* Writes file bytes in place; the file cannot grow, nor can its initialized
 * part (that would need an NTFS metadata update), so VB_ERR_NO_SPACE there. */
static vb_status extent_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct extent_source *s = ctx;
    if (offset > s->map.valid_size || len > s->map.valid_size - offset)
        return VB_ERR_NO_SPACE;
    return walk_extents(s, IO_WRITE, offset, (uint8_t *)buf, len);
}

/* Flushes the volume underneath. */
static vb_status extent_flush(void *ctx)
{
    struct extent_source *s = ctx;
    return vb_source_flush(s->volume);
}

/* Frees the map and the context (the volume belongs to the caller). */
static void extent_close(void *ctx)
{
    struct extent_source *s = ctx;
    vb_extent_map_free(&s->map);
    vb_free(s);
}

vb_status vb_extent_source_open(vb_source *volume, vb_extent_map *map, vb_source *out)
{
    uint64_t covered = 0;
    for (size_t i = 0; i < map->count; i++) {
        const vb_extent *e = &map->extents[i];
        if (e->file_offset != covered || e->disk_offset > volume->size || e->length > volume->size - e->disk_offset)
            return VB_ERR_INVALID_ARG;
        covered += e->length;
    }
    if (covered != map->file_size || map->valid_size > map->file_size)
        return VB_ERR_INVALID_ARG;
    struct extent_source *s = vb_alloc(sizeof(*s));
    if (!s)
        return VB_ERR_NO_MEMORY;
    s->volume = volume;
    s->map = *map;
    vb_memset(map, 0, sizeof(*map));
    *out = (vb_source){
        .size = s->map.file_size,
        .ctx = s,
        .read = extent_read,
        .write = volume->write ? extent_write : NULL,
        .flush = extent_flush,
        .close = extent_close,
    };
    return VB_OK;
}
