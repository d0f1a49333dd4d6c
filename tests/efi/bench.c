/* vhdboot firmware benchmark: runs as \EFI\BOOT\BOOTX64.EFI on a host disk
 * whose GPT holds a FAT32 ESP and an NTFS data partition, both carrying
 * \fixed.vhd, \dynamic.vhd and the chain \top.vhd (-> \middle.vhd ->
 * \base.vhd), all of the same disk size.
 *
 * Measures sequential reads (1 MiB requests over the whole virtual disk) and
 * random reads (4 KiB requests at fixed-seed offsets) through:
 *   (a) the raw host disk BlockIO, over the bytes that hold fixed.vhd on FAT;
 *   (b) vhdboot's virtual disk (efi/vdisk.c over the format/ chain over the
 *       fs/ extent map of each file), read through the installed BlockIO;
 *   (c) fixed.vhd read as a file through the firmware's FAT driver.
 * Prints one "BENCH:" table line per case, "BENCH: done", and powers off.
 * Figures only: nothing here passes or fails. */
#include <efi.h>
#include <efilib.h>
#include "efi/console.h"
#include "efi/devpath.h"
#include "efi/file_source.h"
#include "efi/status.h"
#include "efi/text.h"
#include "efi/vdisk.h"
#include "efi/volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"
#include "fs/volume.h"

#define SEQ_REQUEST (1024u * 1024u)
#define RAND_REQUEST 4096u
#define RAND_COUNT 2048u
#define RAND_SEED 0x2545f4914f6cdd1dull

/* ---- timing: the TSC, calibrated once against BS->Stall ---- */

static UINT64 tsc_per_second;

static UINT64 ticks(void) { return __builtin_ia32_rdtsc(); }

/* Measures the TSC rate over 200 ms of Stall; returns false if it does not move. */
static bool timer_calibrate(void)
{
    UINT64 t0 = ticks();
    BS->Stall(200000);
    tsc_per_second = (ticks() - t0) * 5;
    return tsc_per_second != 0;
}

/* Converts a tick count to microseconds (at least 1). */
static UINT64 ticks_to_us(UINT64 t)
{
    UINT64 us = t / (tsc_per_second / 1000000 ? tsc_per_second / 1000000 : 1);
    return us ? us : 1;
}

/* ---- the host disk and its partitions as block sources ---- */

/* A partition read through its DiskIO, counting the reads that reach it. */
struct part_io {
    EFI_DISK_IO *dio;
    UINT32 media_id;
    UINT64 reads;
};

/* vb_source.read over DiskIO; counts each call. */
static vb_status part_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct part_io *p = ctx;
    p->reads++;
    return p->dio->ReadDisk(p->dio, p->media_id, offset, len, buf) == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}

/* A mounted host volume: partition handle, its source and the fs/ reader. */
struct host_volume {
    EFI_HANDLE handle;
    struct part_io io;
    vb_source src;
    vb_fs *fs;
    UINT64 disk_offset; /* first byte of the partition on the disk */
};

/* Returns the partition start (bytes) from path's last hard-drive node, or 0. */
static UINT64 partition_start(EFI_DEVICE_PATH *path)
{
    UINT64 start = 0;
    for (EFI_DEVICE_PATH *n = path; !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        if (DevicePathType(n) == MEDIA_DEVICE_PATH && DevicePathSubType(n) == MEDIA_HARDDRIVE_DP)
            start = ((HARDDRIVE_DEVICE_PATH *)n)->PartitionStart * 512;
    return start;
}

/* Mounts the partition on handle with fs/; returns the status. */
static vb_status volume_mount(EFI_HANDLE handle, EFI_BLOCK_IO *bio, struct host_volume *v)
{
    SetMem(v, sizeof *v, 0);
    if (BS->HandleProtocol(handle, &DiskIoProtocol, (void **)&v->io.dio) != EFI_SUCCESS)
        return VB_ERR_UNSUPPORTED;
    v->handle = handle;
    v->io.media_id = bio->Media->MediaId;
    v->src.size = (bio->Media->LastBlock + 1) * bio->Media->BlockSize;
    v->src.ctx = &v->io;
    v->src.read = part_read;
    v->disk_offset = partition_start(DevicePathFromHandle(handle));
    return vb_fs_probe(&v->src, &v->fs, NULL);
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

/* Mounts the FAT partition `esp` and the first NTFS partition of the disk
 * at disk_path. Returns false (with a message) when either is missing. */
static bool find_volumes(EFI_HANDLE esp, const EFI_DEVICE_PATH *disk_path, struct host_volume *fat,
                         struct host_volume *ntfs)
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    bool have_fat = false, have_ntfs = false;
    if (BS->LocateHandleBuffer(ByProtocol, &BlockIoProtocol, NULL, &count, &handles) != EFI_SUCCESS)
        return false;
    for (UINTN i = 0; i < count; i++) {
        EFI_DEVICE_PATH *p = DevicePathFromHandle(handles[i]);
        EFI_BLOCK_IO *bio = NULL;
        if (!p || !efi_devpath_has_prefix(p, disk_path) ||
            BS->HandleProtocol(handles[i], &BlockIoProtocol, (void **)&bio) != EFI_SUCCESS ||
            !bio->Media->LogicalPartition)
            continue;
        struct host_volume *v = handles[i] == esp ? fat : ntfs;
        if ((v == fat && have_fat) || (v == ntfs && have_ntfs))
            continue;
        if (volume_mount(handles[i], bio, v) != VB_OK)
            continue;
        vb_fs_type type = vb_fs_type_of(v->fs);
        if (v == fat && type != VB_FS_NTFS)
            have_fat = true;
        else if (v == ntfs && type == VB_FS_NTFS)
            have_ntfs = true;
        else
            vb_fs_close(v->fs);
    }
    FreePool(handles);
    if (!have_fat)
        efi_say("BENCH: error: the ESP is not a FAT volume fs/ can read\n");
    if (!have_ntfs)
        efi_say("BENCH: error: no NTFS partition on the boot disk\n");
    return have_fat && have_ntfs;
}

/* An opener that opens core paths on a host volume through its extent maps. */
struct fs_opener {
    vb_opener opener;
    vb_fs *fs;
};

/* vb_opener.open: read-only extent-map source of path on the volume. */
static vb_status fs_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    struct fs_opener *o = ctx;
    if (writable)
        return VB_ERR_WRITE_PROTECTED;
    return vb_fs_open_file(o->fs, path, out, NULL);
}

/* ---- what is measured: a byte range readable in requests ---- */

typedef struct target {
    /* Reads len bytes at offset (relative to the range); returns the status. */
    EFI_STATUS (*read)(struct target *t, UINT64 offset, UINTN len, void *buf);
    EFI_BLOCK_IO *bio;      /* block targets */
    EFI_FILE_HANDLE file;   /* file targets */
    UINT64 base;            /* first byte of the range on the device */
    UINT64 size;            /* bytes in the range */
} target;

/* target.read over BlockIO ReadBlocks. */
static EFI_STATUS block_read(target *t, UINT64 offset, UINTN len, void *buf)
{
    UINT32 bs = t->bio->Media->BlockSize;
    return t->bio->ReadBlocks(t->bio, t->bio->Media->MediaId, (t->base + offset) / bs, len, buf);
}

/* target.read over EFI_FILE_PROTOCOL SetPosition + Read. */
static EFI_STATUS file_read(target *t, UINT64 offset, UINTN len, void *buf)
{
    EFI_STATUS st = t->file->SetPosition(t->file, t->base + offset);
    while (st == EFI_SUCCESS && len) {
        UINTN n = len;
        st = t->file->Read(t->file, &n, buf);
        if (st == EFI_SUCCESS && n == 0)
            st = EFI_END_OF_FILE;
        buf = (UINT8 *)buf + n;
        len -= n;
    }
    return st;
}

/* Results of one case: throughput in tenths of MB/s (0 = not measured). */
typedef struct result {
    UINT64 seq, rand;
    UINT64 seq_requests, rand_requests;
    UINT64 seq_reads, rand_reads; /* reads that reached the host volume (counted cases) */
    bool counted;
    const char *error;
} result;

/* Next value of a xorshift64 generator. */
static UINT64 next_random(UINT64 *state)
{
    UINT64 x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Tenths of MB/s for bytes read in t ticks. */
static UINT64 rate(UINT64 bytes, UINT64 t) { return bytes * 10 / ticks_to_us(t); }

/* Reads the whole range in 1 MiB requests, then RAND_COUNT 4 KiB requests at
 * random 4 KiB-aligned offsets; counter (may be NULL) counts host reads. */
static void measure(target *t, UINT8 *buf, const UINT64 *counter, result *r)
{
    UINT64 before = counter ? *counter : 0, t0 = ticks();
    for (UINT64 off = 0; off < t->size; off += SEQ_REQUEST) {
        UINTN len = t->size - off < SEQ_REQUEST ? (UINTN)(t->size - off) : SEQ_REQUEST;
        if (t->read(t, off, len, buf) != EFI_SUCCESS) {
            r->error = "sequential read failed";
            return;
        }
        r->seq_requests++;
    }
    r->seq = rate(t->size, ticks() - t0);
    UINT64 mid = counter ? *counter : 0;
    UINT64 slots = t->size / RAND_REQUEST, state = RAND_SEED;
    t0 = ticks();
    for (unsigned i = 0; i < RAND_COUNT && slots; i++) {
        if (t->read(t, next_random(&state) % slots * RAND_REQUEST, RAND_REQUEST, buf) != EFI_SUCCESS) {
            r->error = "random read failed";
            return;
        }
        r->rand_requests++;
    }
    r->rand = rate(r->rand_requests * RAND_REQUEST, ticks() - t0);
    if (counter) {
        r->counted = true;
        r->seq_reads = mid - before;
        r->rand_reads = *counter - mid;
    }
}

/* ---- the cases ---- */

/* (b): opens path's chain on v, installs it as a read-only virtual disk and
 * measures reads through the firmware's BlockIO on the new handle. */
static void run_vdisk(struct host_volume *v, const char *path, UINT8 *buf, result *r)
{
    struct fs_opener o = { { NULL, fs_open }, v->fs };
    o.opener.ctx = &o;
    vb_chain *chain = NULL;
    efi_vdisk *vdisk = NULL;
    vb_diag diag = { 0 };
    if (vb_chain_open(&o.opener, path, 0, &chain, &diag) != VB_OK) {
        efi_say("BENCH: error: %s\n", diag.text);
        r->error = "cannot open the chain";
        return;
    }
    vb_source *disk = vb_chain_source(chain);
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, 0));
    target t = { .read = block_read, .size = disk->size };
    if (efi_vdisk_install(disk, info->uuid, DevicePathFromHandle(v->handle), true, &vdisk, &diag) != VB_OK) {
        efi_say("BENCH: error: %s\n", diag.text);
        r->error = "cannot install the disk";
    } else if (BS->HandleProtocol(efi_vdisk_handle(vdisk), &BlockIoProtocol, (void **)&t.bio) != EFI_SUCCESS) {
        r->error = "no BlockIO on the virtual disk";
    } else {
        measure(&t, buf, &v->io.reads, r);
    }
    if (vdisk && !efi_vdisk_uninstall(vdisk)) {
        efi_say("BENCH: error: the firmware keeps %s\n", path);
        return; /* the chain must stay open under the disk */
    }
    vb_chain_close(chain);
}

/* (c): reads path's bytes (the first `size`) through the firmware's FAT driver. */
static void run_file(EFI_HANDLE esp, const char *path, UINT64 size, UINT8 *buf, result *r)
{
    EFI_FILE_HANDLE root = NULL, file = NULL;
    CHAR16 wide[VB_PATH_MAX];
    if (efi_volume_open_root(esp, &root, NULL) != VB_OK || efi_utf8_to_char16(path, wide, VB_PATH_MAX) != VB_OK ||
        root->Open(root, &file, wide, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS) {
        r->error = "cannot open the file";
    } else {
        target t = { .read = file_read, .file = file, .size = size };
        measure(&t, buf, NULL, r);
        file->Close(file);
    }
    if (root)
        root->Close(root);
}

/* (a): reads the disk bytes that hold path on v (its first extent onward;
 * the disk's start when that would run past the end). */
static void run_raw(EFI_BLOCK_IO *disk, struct host_volume *v, const char *path, UINT64 size, UINT8 *buf,
                    result *r)
{
    vb_extent_map map = { 0 };
    UINT64 disk_bytes = (disk->Media->LastBlock + 1) * disk->Media->BlockSize;
    target t = { .read = block_read, .bio = disk, .size = size };
    if (vb_fs_lookup(v->fs, path, &map, NULL) == VB_OK && map.count)
        t.base = v->disk_offset + map.extents[0].disk_offset;
    vb_extent_map_free(&map);
    t.base -= t.base % disk->Media->BlockSize;
    if (t.base > disk_bytes || size > disk_bytes - t.base)
        t.base = 0;
    measure(&t, buf, NULL, r);
}

/* Prints "whole.tenth" of a tenths value into out, or "-" for 0. */
static const char *tenths(UINT64 v, char *out, int cap)
{
    if (!v)
        vb_format(out, cap, "-");
    else
        vb_format(out, cap, "%llu.%llu", (unsigned long long)(v / 10), (unsigned long long)(v % 10));
    return out;
}

/* Prints a ratio a/b with two decimals into out ("-" when unknown). */
static const char *ratio(UINT64 a, UINT64 b, char *out, int cap)
{
    if (!a || !b) {
        vb_format(out, cap, "-");
        return out;
    }
    UINT64 h = (a * 100 + b / 2) / b;
    vb_format(out, cap, "%llu.%02llu", (unsigned long long)(h / 100), (unsigned long long)(h % 100));
    return out;
}

/* Left-pads or right-pads s to width w into out (ASCII). */
static const char *pad(const char *s, unsigned w, bool right, char *out)
{
    unsigned n = 0;
    while (s[n])
        n++;
    unsigned fill = n < w ? w - n : 0, k = 0;
    if (right)
        for (; k < fill; k++)
            out[k] = ' ';
    for (unsigned i = 0; i < n; i++)
        out[k++] = s[i];
    if (!right)
        for (unsigned i = 0; i < fill; i++)
            out[k++] = ' ';
    out[k] = 0;
    return out;
}

/* Prints one table row; raw is case (a) for the ratios. */
static void print_row(const char *name, const result *r, const result *raw)
{
    char a[32], b[32], c[32], d[32], e[32], cols[5][40], label[64];
    if (r->error) {
        efi_say("BENCH: %s  error: %s\n", pad(name, 34, false, label), r->error);
        return;
    }
    vb_format(e, sizeof e, "-");
    if (r->counted && r->seq_requests)
        ratio(r->seq_reads, r->seq_requests, e, sizeof e);
    efi_say("BENCH: %s %s %s %s %s %s\n", pad(name, 34, false, label),
            pad(tenths(r->seq, a, sizeof a), 9, true, cols[0]), pad(ratio(r->seq, raw->seq, b, sizeof b), 6, true, cols[1]),
            pad(tenths(r->rand, c, sizeof c), 9, true, cols[2]), pad(ratio(r->rand, raw->rand, d, sizeof d), 6, true, cols[3]),
            pad(e, 8, true, cols[4]));
}

enum { CASE_RAW, CASE_FAT_FIXED, CASE_FAT_DYNAMIC, CASE_FAT_CHAIN, CASE_NTFS_FIXED, CASE_NTFS_DYNAMIC,
       CASE_NTFS_CHAIN, CASE_FILE, CASE_COUNT };
static const char *const case_names[CASE_COUNT] = {
    "(a) raw disk BlockIO",
    "(b) fixed VHD on FAT",
    "(b) dynamic VHD on FAT",
    "(b) 3-layer chain on FAT",
    "(b) fixed VHD on NTFS",
    "(b) dynamic VHD on NTFS",
    "(b) 3-layer chain on NTFS",
    "(c) fixed VHD as a FAT file",
};
static const char *const vhd_paths[3] = { "\\fixed.vhd", "\\dynamic.vhd", "\\top.vhd" };

/* Runs every case and prints the table; returns false if setup failed. */
static bool run_all(EFI_LOADED_IMAGE *loaded, UINT8 *buf)
{
    static struct host_volume fat, ntfs;
    static result res[CASE_COUNT];
    char label[64];
    EFI_DEVICE_PATH *disk_path = efi_devpath_parent(DevicePathFromHandle(loaded->DeviceHandle));
    EFI_BLOCK_IO *disk = disk_path ? find_disk(disk_path) : NULL;
    if (!disk) {
        efi_say("BENCH: error: cannot find the boot disk's BlockIO\n");
        return false;
    }
    bool ok = find_volumes(loaded->DeviceHandle, disk_path, &fat, &ntfs);
    FreePool(disk_path);
    if (!ok)
        return false;
    vb_extent_map map = { 0 };
    if (vb_fs_lookup(fat.fs, vhd_paths[0], &map, NULL) != VB_OK || map.file_size < 512 + SEQ_REQUEST) {
        efi_say("BENCH: error: no usable %s on the ESP\n", vhd_paths[0]);
        vb_extent_map_free(&map);
        return false;
    }
    UINT64 size = map.file_size - 512; /* a fixed VHD: the disk, then the footer */
    efi_say("BENCH: fixed.vhd on FAT in %llu extent(s)\n", (unsigned long long)map.count);
    vb_extent_map_free(&map);
    efi_say("BENCH: disk size %llu MiB, sequential %u KiB requests, random %u x %u KiB (seed %llx)\n",
            (unsigned long long)(size >> 20), SEQ_REQUEST / 1024, RAND_COUNT, RAND_REQUEST / 1024,
            (unsigned long long)RAND_SEED);
    efi_say("BENCH: timer %llu MHz (TSC against Stall)\n", (unsigned long long)(tsc_per_second / 1000000));
    efi_say("BENCH: %s %s %s %s %s %s\n", pad("case", 34, false, label), " seq MB/s", " ratio", "rand MB/s", " ratio",
            "reads/rq");

    run_raw(disk, &fat, vhd_paths[0], size, buf, &res[CASE_RAW]);
    print_row(case_names[CASE_RAW], &res[CASE_RAW], &res[CASE_RAW]);
    for (unsigned i = 0; i < 6; i++) {
        unsigned c = CASE_FAT_FIXED + i;
        run_vdisk(i < 3 ? &fat : &ntfs, vhd_paths[i % 3], buf, &res[c]);
        print_row(case_names[c], &res[c], &res[CASE_RAW]);
    }
    run_file(loaded->DeviceHandle, vhd_paths[0], size, buf, &res[CASE_FILE]);
    print_row(case_names[CASE_FILE], &res[CASE_FILE], &res[CASE_RAW]);
    return true;
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    EFI_PHYSICAL_ADDRESS pages = 0;
    InitializeLib(image, systab);
    BS->SetWatchdogTimer(0, 0, 0, NULL);
    efi_say("BENCH: vhdboot benchmark %s\n", VB_VERSION);
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded)
        efi_say("BENCH: error: cannot find the app's own image\n");
    else if (!timer_calibrate())
        efi_say("BENCH: error: the TSC does not advance\n");
    else if (BS->AllocatePages(AllocateAnyPages, EfiLoaderData, SEQ_REQUEST / 4096, &pages) != EFI_SUCCESS)
        efi_say("BENCH: error: out of memory\n");
    else if (run_all(loaded, (UINT8 *)(UINTN)pages))
        efi_say("BENCH: done\n");
    if (pages)
        BS->FreePages(pages, SEQ_REQUEST / 4096);
    RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
    return EFI_SUCCESS;
}
