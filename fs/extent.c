/* vhdboot: building and checking extent maps. */
#include "extent.h"
#include "format/bytes.h"
#include "format/platform.h"

/* Grows the extent array so one more fits. Returns VB_OK or VB_ERR_NO_MEMORY. */
static vb_status reserve_one(vb_extent_map *map)
{
    if (map->count < map->capacity)
        return VB_OK;
    size_t cap = map->capacity ? map->capacity * 2 : 16;
    if (cap < map->capacity || cap > SIZE_MAX / sizeof(vb_extent))
        return VB_ERR_NO_MEMORY;
    vb_extent *grown = vb_alloc(cap * sizeof(vb_extent));
    if (!grown)
        return VB_ERR_NO_MEMORY;
    if (map->count)
        vb_memcpy(grown, map->extents, map->count * sizeof(vb_extent));
    vb_free(map->extents);
    map->extents = grown;
    map->capacity = cap;
    return VB_OK;
}

vb_status vb_extent_map_append(vb_extent_map *map, uint64_t disk_offset, uint64_t length)
{
    if (length == 0)
        return VB_OK;
    if (disk_offset > UINT64_MAX - length || map->file_size > UINT64_MAX - length)
        return VB_ERR_OUT_OF_RANGE;
    if (map->count) {
        vb_extent *last = &map->extents[map->count - 1];
        if (last->disk_offset + last->length == disk_offset) {
            last->length += length;
            map->file_size += length;
            return VB_OK;
        }
    }
    vb_status st = reserve_one(map);
    if (st != VB_OK)
        return st;
    map->extents[map->count++] = (vb_extent){ map->file_size, disk_offset, length };
    map->file_size += length;
    return VB_OK;
}

void vb_extent_map_truncate(vb_extent_map *map, uint64_t new_size)
{
    while (map->count && map->extents[map->count - 1].file_offset >= new_size)
        map->count--;
    if (map->count) {
        vb_extent *last = &map->extents[map->count - 1];
        if (last->file_offset + last->length > new_size)
            last->length = new_size - last->file_offset;
    }
    if (map->file_size > new_size)
        map->file_size = new_size;
    if (map->valid_size > map->file_size)
        map->valid_size = map->file_size;
}

size_t vb_extent_map_find(const vb_extent_map *map, uint64_t off)
{
    size_t lo = 0, hi = map->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->extents[mid].file_offset <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Restores the heap property below index i of a max-heap keyed on disk_offset. */
static void sift_down(vb_extent *a, size_t i, size_t n)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && a[l].disk_offset > a[big].disk_offset)
            big = l;
        if (r < n && a[r].disk_offset > a[big].disk_offset)
            big = r;
        if (big == i)
            return;
        vb_extent t = a[i];
        a[i] = a[big];
        a[big] = t;
        i = big;
    }
}

/* Sorts extents by disk offset in place (heapsort: no recursion, O(n log n)). */
static void sort_by_disk(vb_extent *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end > 1; end--) {
        vb_extent t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift_down(a, 0, end - 1);
    }
}

vb_status vb_extent_map_check(const vb_extent_map *map, uint64_t disk_limit, const char *what, vb_diag *diag)
{
    for (size_t i = 0; i < map->count; i++) {
        const vb_extent *e = &map->extents[i];
        if (e->disk_offset > disk_limit || e->length > disk_limit - e->disk_offset)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: extent at disk offset 0x%llx (+0x%llx) lies past the end of the volume",
                           what, (unsigned long long)e->disk_offset, (unsigned long long)e->length);
    }
    if (map->count < 2)
        return VB_OK;
    vb_extent *copy = vb_alloc(map->count * sizeof(vb_extent));
    if (!copy)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to check %zu extents", what, map->count);
    vb_memcpy(copy, map->extents, map->count * sizeof(vb_extent));
    sort_by_disk(copy, map->count);
    vb_status st = VB_OK;
    for (size_t i = 1; i < map->count; i++) {
        if (copy[i - 1].disk_offset + copy[i - 1].length > copy[i].disk_offset) {
            st = vb_fail(diag, VB_ERR_FS_CORRUPT, "%s: two parts of the file share disk offset 0x%llx (cross-linked or looping allocation)",
                         what, (unsigned long long)copy[i].disk_offset);
            break;
        }
    }
    vb_free(copy);
    return st;
}

void vb_extent_map_free(vb_extent_map *map)
{
    vb_free(map->extents);
    vb_memset(map, 0, sizeof(*map));
}
