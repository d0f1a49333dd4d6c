/* vhdboot RAM-disk load benchmark: runs as \EFI\BOOT\BOOTX64.EFI on a host
 * ESP (FAT32) that also holds \full.vhd (a dynamic VHD with every block
 * allocated) and \sparse.vhd (the same size, a tenth of its blocks
 * allocated).
 *
 * Runs up to four cases, interleaved (the order rotates every round; round 0
 * is a warm-up that touches all the memory involved once, which costs the
 * host page faults):
 *   raw     the bytes that hold full.vhd's first disk-size bytes, read from
 *           the raw host disk's BlockIO into fresh EfiReservedMemoryType
 *           pages in requests of the largest size the load uses (8 MiB);
 *   blocks  the bytes the load reads, full.vhd's block data, from the raw
 *           disk the same way: one request per 2 MiB block (the block
 *           bitmaps between them keep the load from merging them);
 *   full    `write ram`'s load of full.vhd (efi/ramdisk_load.c, the
 *           loader's code: memory check, allocation, data walk, reads,
 *           zeroing of holes), not registered;
 *   sparse  the same for sparse.vhd.
 * \EFI\BOOT\rambench.cfg, when present, narrows the run: "rounds N" (0..50,
 * default 5) and the names of the cases to run (default all four). With
 * "rounds 0" and one case, the run is that case once on memory the guest
 * has never touched: a first load after power-on.
 * Each case is framed by "RAMBENCH: begin ROUND CASE" and "RAMBENCH: end
 * ROUND CASE" console lines (opening the chain and freeing the memory stay
 * outside): tests/bench/ramdisk_bench.sh times them from outside with the
 * host's clock. Then "RAMBENCH: done", and power off. Nothing passes or
 * fails here. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "efi/efi_host_opener.h"
#include "efi/efi_host_volumes.h"
#include "efi/efi_ramdisk_load.h"
#include "efi/efi_volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

#define ROUNDS 5u
#define MAX_ROUNDS 50u
#define REQUEST (8u << 20)   /* as efi/ramdisk_load.c reads */
enum { CASE_RAW, CASE_BLOCKS, CASE_FULL, CASE_SPARSE, CASE_COUNT };
static const char *const case_names[CASE_COUNT] = { "raw", "blocks", "full", "sparse" };
static const char *const vhd_paths[CASE_COUNT] = { "\\full.vhd", "\\full.vhd", "\\full.vhd", "\\sparse.vhd" };

/* The run's settings (see the top of the file). */
static unsigned rounds = ROUNDS;
static bool wanted[CASE_COUNT] = { true, true, true, true };

/* Reads \EFI\BOOT\rambench.cfg from the ESP when it exists: "rounds N" and
 * case names; other words are ignored. */
static void load_settings(EFI_HANDLE esp)
{
    EFI_FILE_HANDLE root = NULL, file = NULL;
    char text[264] = { 0 }; /* spare zero bytes: a word compare may look past the end */
    UINTN len = 255;
    bool named = false, picked[CASE_COUNT] = { false };
    if (efi_volume_open_root(esp, &root, NULL) != VB_OK)
        return;
    if (root->Open(root, &file, L"\\EFI\\BOOT\\rambench.cfg", EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        if (file->Read(file, &len, text) != EFI_SUCCESS)
            len = 0;
        file->Close(file);
        text[len] = 0;
        for (const char *p = text; *p; p++) {
            if (p != text && p[-1] > ' ')
                continue; /* only at the start of a word */
            if (vb_memcmp(p, "rounds ", 7) == 0) {
                unsigned n = 0;
                for (p += 7; *p >= '0' && *p <= '9'; p++)
                    n = n * 10 + (unsigned)(*p - '0');
                rounds = n < MAX_ROUNDS ? n : MAX_ROUNDS;
                if (!*p)
                    break;
                continue;
            }
            for (unsigned c = 0; c < CASE_COUNT; c++) {
                size_t k = vb_strlen(case_names[c]);
                if (vb_memcmp(p, case_names[c], k) == 0 && (unsigned char)p[k] <= ' ')
                    picked[c] = named = true;
            }
        }
    }
    root->Close(root);
    if (named)
        for (unsigned c = 0; c < CASE_COUNT; c++)
            wanted[c] = picked[c];
}

/* Finds the whole-disk BlockIO whose device path is exactly path. */
static EFI_BLOCK_IO *find_disk(const EFI_DEVICE_PATH *path)
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    EFI_BLOCK_IO *found = NULL;
    UINTN want = efi_devpath_body_size(path);
    if (BS->LocateHandleBuffer(ByProtocol, &BlockIoProtocol, NULL, &count, &handles) != EFI_SUCCESS)
        return NULL;
    for (UINTN i = 0; i < count && !found; i++) {
        EFI_DEVICE_PATH *p = DevicePathFromHandle(handles[i]);
        EFI_BLOCK_IO *bio = NULL;
        if (!p || efi_devpath_body_size(p) != want || CompareMem(p, (void *)path, want) != 0)
            continue;
        if (BS->HandleProtocol(handles[i], &BlockIoProtocol, (void **)&bio) == EFI_SUCCESS && bio &&
            !bio->Media->LogicalPartition)
            found = bio;
    }
    FreePool(handles);
    return found;
}

/* Returns the partition start in bytes from path's hard-drive node, or 0. */
static UINT64 partition_start(EFI_DEVICE_PATH *path, UINT32 block_size)
{
    UINT64 start = 0;
    for (EFI_DEVICE_PATH *n = path; n && !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        if (DevicePathType(n) == MEDIA_DEVICE_PATH && DevicePathSubType(n) == MEDIA_HARDDRIVE_DP)
            start = ((HARDDRIVE_DEVICE_PATH *)n)->PartitionStart * block_size;
    return start;
}

/* A byte range of the raw host disk. */
struct piece {
    UINT64 at, len;
};

/* raw / blocks: allocates size bytes of reserved pages and reads the pieces
 * (count of them, at most size bytes in all) into them back to back from
 * the raw disk, each in requests of at most REQUEST bytes, between the
 * begin and end lines of round; then frees the pages. Returns false on
 * failure. */
static bool read_raw(unsigned round, const char *name, EFI_BLOCK_IO *disk, const struct piece *pieces, UINTN count,
                     UINT64 size)
{
    UINTN pages = (UINTN)(size >> 12);
    EFI_PHYSICAL_ADDRESS mem = 0;
    UINT32 bs = disk->Media->BlockSize;
    UINT64 done = 0;
    bool ok = true;
    efi_say("RAMBENCH: begin %u %s\n", round, name);
    if (BS->AllocatePages(AllocateAnyPages, EfiReservedMemoryType, pages, &mem) != EFI_SUCCESS)
        return false;
    UINT8 *buf = (UINT8 *)(UINTN)mem;
    for (UINTN i = 0; i < count && ok; i++) {
        UINT64 at = pieces[i].at, left = pieces[i].len;
        if (left > size - done)
            left = size - done;
        while (left && ok) {
            UINTN n = left < REQUEST ? (UINTN)left : REQUEST;
            ok = disk->ReadBlocks(disk, disk->Media->MediaId, at / bs, n, buf + done) == EFI_SUCCESS;
            at += n;
            done += n;
            left -= n;
        }
    }
    efi_say("RAMBENCH: end %u %s\n", round, name);
    BS->FreePages(mem, pages);
    return ok && done == size;
}

/* Maps file offset off of the file (extents relative to the partition at
 * part_start) to a raw disk offset; 0 when outside the file. */
static UINT64 disk_offset(const vb_extent_map *map, UINT64 part_start, UINT64 off)
{
    if (!map->count || off >= map->file_size)
        return 0;
    const vb_extent *e = &map->extents[vb_extent_map_find(map, off)];
    return part_start + e->disk_offset + (off - e->file_offset);
}

/* Fills pieces with the raw disk ranges of full.vhd's block data, in disk
 * order (what the load reads, one piece per block: a block's bitmap sits
 * between it and the next). Reads the block table from the raw disk.
 * Returns the number of pieces, 0 on failure. */
static UINTN block_pieces(EFI_BLOCK_IO *disk, const vb_extent_map *map, UINT64 part_start, const vb_vhd_info *info,
                          struct piece *pieces, UINTN max)
{
    UINT32 bs = disk->Media->BlockSize;
    UINTN table_bytes = ((UINTN)info->bat_entries * 4 + bs - 1) / bs * bs;
    UINT64 at = disk_offset(map, part_start, info->bat_offset);
    UINT8 *bat = vb_alloc(table_bytes);
    UINTN count = 0;
    if (!bat || !at || at % bs != 0 ||
        disk->ReadBlocks(disk, disk->Media->MediaId, at / bs, table_bytes, bat) != EFI_SUCCESS) {
        vb_free(bat);
        return 0;
    }
    UINT64 blocks = (info->disk_size + info->block_size - 1) / info->block_size;
    for (UINT64 b = 0; b < blocks && b < info->bat_entries && count < max; b++) {
        UINT32 e = (UINT32)bat[b * 4] << 24 | (UINT32)bat[b * 4 + 1] << 16 | (UINT32)bat[b * 4 + 2] << 8 | bat[b * 4 + 3];
        if (e == 0xFFFFFFFFu)
            continue;
        UINT64 data = disk_offset(map, part_start, (UINT64)e * 512 + info->bitmap_size);
        if (!data)
            break;
        pieces[count].at = data;
        pieces[count].len = info->block_size;
        count++;
    }
    vb_free(bat);
    return count;
}

/* full / sparse: the loader's RAM-disk load of path on vol (not
 * registered) between the begin and end lines of round, then freed.
 * Returns false on failure. */
static bool load_ram(unsigned round, const char *name, efi_host_volume *vol, const char *path)
{
    efi_host_opener opener;
    vb_chain *chain = NULL;
    efi_ramdisk *rd = NULL;
    vb_diag diag = { 0 };
    efi_host_opener_init(&opener, vol, false, false);
    if (vb_chain_open(&opener.opener, path, 0, &chain, &diag) != VB_OK) {
        efi_say("RAMBENCH: error: %s\n", diag.text);
        return false;
    }
    efi_say("RAMBENCH: begin %u %s\n", round, name);
    vb_status st = efi_ramdisk_load(chain, path, &rd, NULL, &diag);
    efi_say("RAMBENCH: end %u %s\n", round, name);
    if (st != VB_OK)
        efi_say("RAMBENCH: error: %s\n", diag.text);
    else
        efi_ramdisk_free(rd);
    vb_chain_close(chain);
    return st == VB_OK;
}

/* Runs the rounds and prints the figures; returns false if the setup failed. */
static bool run(EFI_LOADED_IMAGE *loaded)
{
    load_settings(loaded->DeviceHandle);
    EFI_DEVICE_PATH *disk_path = efi_devpath_parent(DevicePathFromHandle(loaded->DeviceHandle));
    EFI_BLOCK_IO *disk = disk_path ? find_disk(disk_path) : NULL;
    if (disk_path)
        FreePool(disk_path);
    efi_host_volumes_scan();
    efi_host_volume *esp = efi_host_volume_of_handle(loaded->DeviceHandle);
    vb_extent_map map = { 0 };
    if (!disk || !esp || efi_host_volume_lookup(esp, vhd_paths[CASE_FULL], &map, NULL) != VB_OK) {
        efi_say("RAMBENCH: error: no boot disk BlockIO, host ESP or \\full.vhd\n");
        return false;
    }
    /* the disk size: full.vhd's footer copy at 0 says it, but the chain knows best */
    efi_host_opener opener;
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    efi_host_opener_init(&opener, esp, false, false);
    if (vb_chain_open(&opener.opener, vhd_paths[CASE_FULL], 0, &chain, &diag) != VB_OK) {
        efi_say("RAMBENCH: error: %s\n", diag.text);
        vb_extent_map_free(&map);
        return false;
    }
    UINT64 size = vb_chain_source(chain)->size;
    vb_vhd_info info = *vb_layer_info(vb_chain_layer(chain, 0));
    vb_chain_close(chain);
    UINT64 part = partition_start(esp->device_path, disk->Media->BlockSize);
    /* raw: the file's first disk-size bytes as they lie on the disk */
    static struct piece contiguous[64], blocks[65536];
    UINTN n_contiguous = 0, n_blocks;
    for (size_t i = 0; i < map.count && n_contiguous < 64; i++)
        contiguous[n_contiguous++] = (struct piece){ part + map.extents[i].disk_offset, map.extents[i].length };
    n_blocks = block_pieces(disk, &map, part, &info, blocks, 65536);
    if (n_blocks * (UINT64)info.block_size != size) {
        efi_say("RAMBENCH: error: full.vhd's blocks (%llu) do not cover the disk\n", (unsigned long long)n_blocks);
        vb_extent_map_free(&map);
        return false;
    }
    efi_say("RAMBENCH: disk %llu MiB (%llu bytes); full.vhd in %llu extent(s), %llu blocks of %u KiB; %u rounds after a "
            "warm-up, order rotating; cases:%s%s%s%s\n", (unsigned long long)(size >> 20), (unsigned long long)size,
            (unsigned long long)map.count, (unsigned long long)n_blocks, info.block_size / 1024, rounds,
            wanted[CASE_RAW] ? " raw" : "", wanted[CASE_BLOCKS] ? " blocks" : "", wanted[CASE_FULL] ? " full" : "",
            wanted[CASE_SPARSE] ? " sparse" : "");

    for (unsigned round = 0; round <= rounds; round++) {
        for (unsigned k = 0; k < CASE_COUNT; k++) {
            unsigned c = (k + round) % CASE_COUNT;
            if (!wanted[c])
                continue;
            bool ok = c == CASE_RAW      ? read_raw(round, case_names[c], disk, contiguous, n_contiguous, size)
                      : c == CASE_BLOCKS ? read_raw(round, case_names[c], disk, blocks, n_blocks, size)
                                         : load_ram(round, case_names[c], esp, vhd_paths[c]);
            if (!ok) {
                efi_say("RAMBENCH: error: %s failed in round %u\n", case_names[c], round);
                vb_extent_map_free(&map);
                return false;
            }
        }
    }
    vb_extent_map_free(&map);
    return true;
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    InitializeLib(image, systab);
    BS->SetWatchdogTimer(0, 0, 0, NULL);
    efi_say("RAMBENCH: vhdboot RAM-disk load benchmark %s\n", VB_VERSION);
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded)
        efi_say("RAMBENCH: error: cannot find the app's own image\n");
    else if (run(loaded))
        efi_say("RAMBENCH: done\n");
    RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
    return EFI_SUCCESS;
}
