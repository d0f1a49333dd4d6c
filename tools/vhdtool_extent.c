/* vhdtool: where an input disk may hold data — the allocation of a VHD chain
 * (block allocation table of every layer, down to a fixed base) and the
 * holes of raw and fixed files (SEEK_DATA / SEEK_HOLE) — so that a copy can
 * skip what certainly reads as zeros without reading it. */
#include <errno.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"

/* The run of the file fd at offset (at most max bytes) that is a hole
 * (returns false) or data (true); *len gets its length. A file system
 * without SEEK_DATA reports everything as data. */
static bool file_extent(int fd, uint64_t offset, uint64_t max, uint64_t *len)
{
    *len = max;
    off_t data = lseek(fd, (off_t)offset, SEEK_DATA);
    if (data < 0)
        return errno != ENXIO; /* ENXIO: no data from offset to the end */
    if ((uint64_t)data > offset) {
        if ((uint64_t)data - offset < max)
            *len = (uint64_t)data - offset;
        return false;
    }
    off_t hole = lseek(fd, (off_t)offset, SEEK_HOLE);
    if (hole > 0 && (uint64_t)hole > offset && (uint64_t)hole - offset < max)
        *len = (uint64_t)hole - offset;
    return true;
}

/* The run at offset (at most max bytes, inside one block of layer i) that no
 * layer from i down holds (false) or that one of them may hold (true). */
static bool layer_extent(vb_chain *chain, unsigned i, uint64_t offset, uint64_t max, uint64_t *len)
{
    vb_layer *layer = vb_chain_layer(chain, i);
    const vb_vhd_info *info = vb_layer_info(layer);
    if (info->type == VB_DISK_FIXED) {
        /* a fixed disk's data starts at file offset 0 */
        int fd = host_file_fd(vb_layer_file(layer));
        if (fd < 0) {
            *len = max;
            return true;
        }
        return file_extent(fd, offset, max, len);
    }
    uint64_t piece = info->block_size - offset % info->block_size;
    *len = piece < max ? piece : max;
    if (vb_layer_block_allocated(layer, offset / VB_SECTOR))
        return true;
    if (info->type != VB_DISK_DIFF)
        return false;
    if (i + 1 >= vb_chain_depth(chain))
        return true; /* no parent to ask: let the read decide */
    return layer_extent(chain, i + 1, offset, *len, len);
}

/* One run of the disk at offset, before merging with its neighbours. */
static bool piece_extent(vt_disk *disk, uint64_t offset, uint64_t max, uint64_t *len)
{
    if (disk->is_vhd)
        return layer_extent(disk->chain, 0, offset, max, len);
    int fd = host_file_fd(&disk->raw);
    if (fd < 0) {
        *len = max;
        return true;
    }
    return file_extent(fd, offset, max, len);
}

bool vt_disk_extent(vt_disk *disk, uint64_t offset, uint64_t max, uint64_t *len)
{
    uint64_t size = disk->src->size;
    if (offset >= size) {
        *len = max;
        return false;
    }
    if (max > size - offset)
        max = size - offset;
    bool data = piece_extent(disk, offset, max, len);
    while (*len < max) {
        uint64_t next;
        if (piece_extent(disk, offset + *len, max - *len, &next) != data)
            break;
        *len += next;
    }
    return data;
}
