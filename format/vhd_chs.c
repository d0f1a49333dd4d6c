/* vhdboot: CHS geometry of a disk, by the algorithm of the VHD specification. */
#include "vhd.h"

#define CHS_MAX_SECTORS (65535ull * 16 * 255)
#define CHS_BIG_DISK (65535ull * 16 * 63)

vb_geometry vb_chs_for_sectors(uint64_t total_sectors)
{
    /* Returns the geometry the spec assigns to a disk of total_sectors:
     * 255 sectors/track for very large disks, otherwise the smallest of
     * 17, 31, 63 sectors/track whose cylinder count fits in 1024 per head. */
    uint64_t spt, heads, cyl_heads;
    if (total_sectors > CHS_MAX_SECTORS)
        total_sectors = CHS_MAX_SECTORS;
    if (total_sectors >= CHS_BIG_DISK) {
        spt = 255;
        heads = 16;
        cyl_heads = total_sectors / spt;
    } else {
        spt = 17;
        cyl_heads = total_sectors / spt;
        heads = (cyl_heads + 1023) / 1024;
        if (heads < 4)
            heads = 4;
        if (cyl_heads >= heads * 1024 || heads > 16) {
            spt = 31;
            heads = 16;
            cyl_heads = total_sectors / spt;
        }
        if (cyl_heads >= heads * 1024) {
            spt = 63;
            heads = 16;
            cyl_heads = total_sectors / spt;
        }
    }
    vb_geometry g = { (uint16_t)(cyl_heads / heads), (uint8_t)heads, (uint8_t)spt };
    return g;
}

vb_geometry vb_chs_to_store(uint64_t size)
{
    /* The geometry written into a footer for a disk of size bytes: the
     * specification's geometry when its product is exactly the size, else the
     * maximum geometry 65535/16/255. QEMU before 10.0 sizes a disk by its CHS
     * product unless the creator is one it trusts ("win ", "qem2", "d2v ",
     * "CTXS", "tap\0") or the geometry is that maximum; Windows, Hyper-V and
     * libvhdi read the current size. With either geometry every one of them
     * sees exactly size bytes, without vhdtool posing as another creator. The
     * maximum is also what the algorithm itself gives past ~127 GiB and what
     * Hyper-V and Disk2vhd write. Returns the geometry. */
    vb_geometry g = vb_chs_for_sectors(size / VB_SECTOR);
    if (size % VB_SECTOR == 0 && (uint64_t)g.cylinders * g.heads * g.sectors == size / VB_SECTOR)
        return g;
    vb_geometry max = { 65535, 16, 255 };
    return max;
}

uint64_t vb_chs_round_up(uint64_t size)
{
    /* Readers that take the size from the geometry (QEMU for creators it does
     * not know) see C*H*S sectors; a disk whose size is such a product reads
     * the same everywhere. Search upwards like Virtual PC and qemu-img do. */
    uint64_t sectors = (size + VB_SECTOR - 1) / VB_SECTOR;
    if (sectors >= CHS_MAX_SECTORS)
        return sectors * VB_SECTOR;
    for (uint64_t candidate = sectors; candidate <= CHS_MAX_SECTORS; candidate++) {
        vb_geometry g = vb_chs_for_sectors(candidate);
        uint64_t product = (uint64_t)g.cylinders * g.heads * g.sectors;
        if (product >= sectors)
            return product * VB_SECTOR;
    }
    return sectors * VB_SECTOR;
}
