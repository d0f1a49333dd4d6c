/* vhdboot firmware benchmark: runs as \EFI\BOOT\BOOTX64.EFI on a host disk
 * whose GPT holds a FAT32 ESP and an NTFS data partition, both carrying
 * \fixed.vhd, \dynamic.vhd and the chain \top.vhd (-> \middle.vhd ->
 * \base.vhd), all of the same disk size.
 *
 * When the volumes also hold \fixed.vhdx, \dynamic.vhdx and \top.vhdx (->
 * \middle.vhdx -> \base.vhdx), each (b) case below is followed by the same
 * case through the VHDX, in the same rounds, and (a) is read a second time
 * over the bytes of fixed.vhdx's data (a control, rated against the first).
 *
 * Measures sequential reads (1 MiB requests over the whole virtual disk) and
 * random reads (4 KiB requests at fixed-seed offsets) through:
 *   (a) the raw host disk BlockIO, over the bytes that hold fixed.vhd's data on FAT;
 *   (b) vhdboot's virtual disk (efi/efi_vdisk.c over the format/ chain over the
 *       fs/ extent map of each file), read through the installed BlockIO;
 *   (c) fixed.vhd read as a file through the firmware's FAT driver.
 * Prints one "BENCH:" table line per case, "BENCH: done", and powers off.
 * Figures only: nothing here passes or fails. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "efi/efi_host_opener.h"
#include "efi/efi_host_volumes.h"
#include "efi/efi_status.h"
#include "efi/efi_text.h"
#include "efi/efi_vdisk.h"
#include "efi/efi_volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"
#include "fs/volume.h"

#define SEQ_REQUEST (1024u * 1024u)
#define RAND_REQUEST 4096u
#define RAND_SEED 0x2545f4914f6cdd1dull

/* Settings, overridable by \EFI\BOOT\bench.cfg ("rounds N", "random N", "profile 1"). */
static unsigned rounds = 3;         /* passes over all cases */
static unsigned rand_count = 2048;  /* random requests per case and round */
static unsigned profile = 0;        /* 1: add rows that take the stack of (b) apart */
#define FILE_RAND_MAX 256u          /* ... at most, for case (c) (each takes milliseconds) */

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

/* ---- settings ---- */

/* Reads "rounds N", "random N" and "profile N" (each 0..100000) from \EFI\BOOT\bench.cfg
 * on the ESP when the file exists; other words are ignored. */
static void load_settings(EFI_HANDLE esp)
{
    EFI_FILE_HANDLE root = NULL, file = NULL;
    char text[136] = { 0 }; /* 8 spare zero bytes: the keyword compare may look past the end */
    UINTN len = 127;
    if (efi_volume_open_root(esp, &root, NULL) != VB_OK)
        return;
    if (root->Open(root, &file, L"\\EFI\\BOOT\\bench.cfg", EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        if (file->Read(file, &len, text) != EFI_SUCCESS)
            len = 0;
        file->Close(file);
        text[len] = 0;
        unsigned *target = NULL;
        for (const char *p = text; *p;) {
            if (vb_memcmp(p, "rounds", 6) == 0 || vb_memcmp(p, "random", 6) == 0) {
                target = p[1] == 'o' ? &rounds : &rand_count;
                p += 6;
                continue;
            }
            if (vb_memcmp(p, "profile", 7) == 0) {
                target = &profile;
                p += 7;
                continue;
            }
            if (*p >= '0' && *p <= '9' && target) {
                unsigned v = 0;
                for (; *p >= '0' && *p <= '9'; p++)
                    v = v < 100000 ? v * 10 + (unsigned)(*p - '0') : v;
                if (v <= 100000 && (v >= 1 || target == &profile))
                    *target = v;
                target = NULL;
                continue;
            }
            p++;
        }
    }
    root->Close(root);
}

/* ---- the host disk and its volumes (the loader's efi/efi_host_volumes.h) ---- */

/* Counts the reads that reach a host volume's partition source: its read
 * function is swapped for count_read, which forwards to the original. */
struct read_counter {
    vb_source inner;   /* the partition source as the scan opened it */
    UINT64 reads;
};

/* vb_source.read that counts, then reads through the original source. */
static vb_status count_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct read_counter *c = ctx;
    c->reads++;
    return c->inner.read(c->inner.ctx, offset, buf, len);
}

/* Starts counting reads on vol's partition (the mounted reader and every
 * extent source hold a pointer to vol->part, so they all go through it). */
static void counter_attach(efi_host_volume *vol, struct read_counter *c)
{
    c->inner = vol->part;
    c->reads = 0;
    vol->part = (vb_source){ .size = c->inner.size, .ctx = c, .read = count_read }; /* read-only meanwhile */
}

/* Puts vol's partition source back as it was. */
static void counter_detach(efi_host_volume *vol, struct read_counter *c)
{
    vol->part = c->inner;
}

/* Returns the partition start (bytes) from path's last hard-drive node (its
 * start counts the disk's blocks of block_size bytes), or 0. */
static UINT64 partition_start(EFI_DEVICE_PATH *path, UINT32 block_size)
{
    UINT64 start = 0;
    for (EFI_DEVICE_PATH *n = path; n && !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        if (DevicePathType(n) == MEDIA_DEVICE_PATH && DevicePathSubType(n) == MEDIA_HARDDRIVE_DP)
            start = ((HARDDRIVE_DEVICE_PATH *)n)->PartitionStart * block_size;
    return start;
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

/* The NTFS volume labelled VBBENCH, or else the first NTFS volume, or NULL. */
static efi_host_volume *find_ntfs(void)
{
    efi_host_volume *v = efi_host_volume_find(EFI_VOLUME_BY_LABEL, "VBBENCH");
    if (v && v->type == VB_FS_NTFS)
        return v;
    for (unsigned i = 0; i < efi_host_volume_count(); i++)
        if (efi_host_volume_at(i)->type == VB_FS_NTFS)
            return efi_host_volume_at(i);
    return NULL;
}

/* ---- what is measured: a byte range readable in requests ---- */

typedef struct target {
    /* Reads len bytes at offset (relative to the range); returns the status. */
    EFI_STATUS (*read)(struct target *t, UINT64 offset, UINTN len, void *buf);
    EFI_BLOCK_IO *bio;      /* block targets */
    EFI_DISK_IO *dio;       /* DiskIO targets (profile row) */
    EFI_FILE_HANDLE file;   /* file targets */
    vb_source *src;         /* block-source targets (profile rows) */
    UINT64 base;            /* first byte of the range on the device */
    UINT64 size;            /* bytes in the range */
} target;

/* target.read over BlockIO ReadBlocks. */
static EFI_STATUS block_read(target *t, UINT64 offset, UINTN len, void *buf)
{
    UINT32 bs = t->bio->Media->BlockSize;
    return t->bio->ReadBlocks(t->bio, t->bio->Media->MediaId, (t->base + offset) / bs, len, buf);
}

/* target.read over DiskIO ReadDisk (any byte offset). */
static EFI_STATUS disk_io_read(target *t, UINT64 offset, UINTN len, void *buf)
{
    return t->dio->ReadDisk(t->dio, t->bio->Media->MediaId, t->base + offset, len, buf);
}

/* target.read straight from a core block source (no firmware protocol). */
static EFI_STATUS source_read(target *t, UINT64 offset, UINTN len, void *buf)
{
    return vb_source_read(t->src, t->base + offset, buf, len) == VB_OK ? EFI_SUCCESS : EFI_DEVICE_ERROR;
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

/* Next value of a xorshift64 generator. */
static UINT64 next_random(UINT64 *state)
{
    UINT64 x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Tenths of MB/s for bytes (at most 1 MiB, so the product cannot overflow) read in t ticks. */
static UINT64 rate(UINT64 bytes, UINT64 t) { return bytes * 10 * tsc_per_second / (t ? t : 1) / 1000000; }

/* Times each request separately and rates the request at a low percentile
 * of the times, so that the requests during which the host ran something
 * else (other QEMUs, builds) do not count: the figure is what an unshared
 * machine would do, and a lucky outlier does not count either. */
#define PERCENTILE 10u

/* The PERCENTILE-th percentile of n tick counts (n >= 1; sorts them: Shell sort). */
static UINT64 percentile(UINT64 *v, UINTN n)
{
    for (UINTN gap = n / 2; gap; gap /= 2)
        for (UINTN i = gap; i < n; i++)
            for (UINTN j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                UINT64 x = v[j];
                v[j] = v[j - gap];
                v[j - gap] = x;
            }
    return v[n * PERCENTILE / 100];
}


/* ---- the cases ---- */

/* With VHDX files, (a) is also read over the bytes of fixed.vhdx's data
 * (another place on the same disk; not a reference, a control).
 * The (b) cases come in pairs, each VHD case followed by the same case made
 * as VHDX (files *.vhdx beside the *.vhd ones; the VHDX rows are left out
 * when \fixed.vhdx is not on the ESP), so both formats meet the same load
 * at neighbouring places in every round (swapping places every other round,
 * reading the same random offsets). */
enum { CASE_RAW, CASE_RAW_X, CASE_FAT_FIXED, CASE_X_FAT_FIXED, CASE_FAT_DYNAMIC, CASE_X_FAT_DYNAMIC, CASE_FAT_CHAIN,
       CASE_X_FAT_CHAIN, CASE_NTFS_FIXED, CASE_X_NTFS_FIXED, CASE_NTFS_DYNAMIC, CASE_X_NTFS_DYNAMIC, CASE_NTFS_CHAIN,
       CASE_X_NTFS_CHAIN, CASE_FILE, CASE_TABLE,
       /* profile rows: the layers under (b), fixed VHD on FAT, one by one; then (a) once more */
       PROF_PART_BLOCKIO = CASE_TABLE, PROF_PART_DISKIO, PROF_PARTITION, PROF_EXTENTS, PROF_LAYER, PROF_CHAIN,
       PROF_RAW_AGAIN, CASE_COUNT };
static const char *const case_names[CASE_COUNT] = {
    "(a) raw disk BlockIO",
    "(a) raw, over fixed.vhdx data",
    "(b) fixed VHD on FAT",
    "(b) fixed VHDX on FAT",
    "(b) dynamic VHD on FAT",
    "(b) dynamic VHDX on FAT",
    "(b) 3-layer chain on FAT",
    "(b) 3-layer VHDX chain on FAT",
    "(b) fixed VHD on NTFS",
    "(b) fixed VHDX on NTFS",
    "(b) dynamic VHD on NTFS",
    "(b) dynamic VHDX on NTFS",
    "(b) 3-layer chain on NTFS",
    "(b) 3-layer VHDX chain on NTFS",
    "(c) fixed VHD as a FAT file",
    "(p) (a) via partition BlockIO",
    "(p) (a) via partition DiskIO",
    "(p) (a) via disk window",
    "(p) fixed.vhd extent map",
    "(p) fixed VHD layer, no BlockIO",
    "(p) FAT chain layers, no BlockIO",
    "(p) (a) again, last in each round",
};
/* [format][kind]: VHD, VHDX; fixed, dynamic, the chain's top */
static const char *const vhd_paths[2][3] = { { "\\fixed.vhd", "\\dynamic.vhd", "\\top.vhd" },
                                             { "\\fixed.vhdx", "\\dynamic.vhdx", "\\top.vhdx" } };

typedef struct bench_case {
    const char *name;
    target t;
    const char *error;          /* set when the case could not be run */
    bool absent;                /* not run and not shown (VHDX rows without VHDX files) */
    /* (b) only */
    efi_host_volume *vol;
    struct read_counter *counter;
    efi_host_opener opener;     /* outlives the chain's files */
    vb_chain *chain;
    efi_vdisk *vdisk;
    /* (c) only */
    EFI_FILE_HANDLE root;
    /* profile rows */
    vb_source file_src;
    bool own_src;
    /* request times of every round, and the results in tenths of MB/s */
    UINT64 *seq_times, *rand_times;
    UINTN seq_n, rand_n;
    UINT64 seq, rand;
    UINT64 seq_requests, seq_reads; /* sequential requests, and the reads they caused on the volume */
    UINT64 rand_requests, rand_reads;
    UINT64 rand_state;              /* each case has its own random offsets */
} bench_case;

/* (b): opens path's chain on vol exactly as the loader does (host opener,
 * extent maps), installs it as a read-only virtual disk, and aims the case
 * at the BlockIO the firmware sees on the new handle. */
static void setup_vdisk(bench_case *c, efi_host_volume *vol, struct read_counter *counter, const char *path)
{
    vb_diag diag = { 0 };
    c->vol = vol;
    c->counter = counter;
    efi_host_opener_init(&c->opener, vol, false, false);
    if (vb_chain_open(&c->opener.opener, path, 0, &c->chain, &diag) != VB_OK) {
        efi_say("BENCH: error: %s: %s\n", efi_host_volume_name(vol), diag.text);
        c->error = "cannot open the chain";
        return;
    }
    vb_source *disk = vb_chain_source(c->chain);
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(c->chain, 0));
    c->t.read = block_read;
    c->t.size = disk->size;
    if (efi_vdisk_install(disk, info->uuid, vol->device_path, true, NULL, &c->vdisk, &diag) != VB_OK) {
        efi_say("BENCH: error: %s\n", diag.text);
        c->error = "cannot install the disk";
    } else if (BS->HandleProtocol(efi_vdisk_handle(c->vdisk), &BlockIoProtocol, (void **)&c->t.bio) != EFI_SUCCESS) {
        c->error = "no BlockIO on the virtual disk";
    }
}

/* (c): aims the case at size bytes of path from byte skip on (its data), read through the firmware's FAT driver. */
static void setup_file(bench_case *c, EFI_HANDLE esp, const char *path, UINT64 skip, UINT64 size)
{
    CHAR16 wide[VB_PATH_MAX];
    c->t.read = file_read;
    c->t.base = skip;
    c->t.size = size;
    if (efi_volume_open_root(esp, &c->root, NULL) != VB_OK || efi_utf8_to_char16(path, wide, VB_PATH_MAX) != VB_OK ||
        c->root->Open(c->root, &c->t.file, wide, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
        c->error = "cannot open the file";
}

/* (a): aims the case at the disk bytes that hold path's data on vol: skip
 * bytes into its first extent (a VHD's data starts the file, a fixed VHDX's
 * follows its headers and tables); from the disk's start when that would run
 * past the end. */
static void setup_raw(bench_case *c, EFI_BLOCK_IO *disk, efi_host_volume *vol, const char *path, UINT64 skip,
                      UINT64 size)
{
    vb_extent_map map = { 0 };
    UINT64 disk_bytes = (disk->Media->LastBlock + 1) * disk->Media->BlockSize;
    c->t.read = block_read;
    c->t.bio = disk;
    c->t.size = size;
    if (efi_host_volume_lookup(vol, path, &map, NULL) == VB_OK && map.count && map.extents[0].length > skip)
        c->t.base = partition_start(vol->device_path, disk->Media->BlockSize) + map.extents[0].disk_offset + skip;
    vb_extent_map_free(&map);
    c->t.base -= c->t.base % disk->Media->BlockSize;
    if (c->t.base > disk_bytes || size > disk_bytes - c->t.base)
        c->t.base = 0;
}

/* Releases what a case holds; returns false when the firmware keeps its
 * disk (then the chain stays open under it). */
static bool teardown(bench_case *c)
{
    if (c->vdisk && !efi_vdisk_uninstall(c->vdisk)) {
        efi_say("BENCH: error: the firmware keeps the disk of %s\n", c->name);
        return false;
    }
    if (c->chain)
        vb_chain_close(c->chain);
    if (c->own_src)
        vb_source_close(&c->file_src);
    if (c->t.file)
        c->t.file->Close(c->t.file);
    if (c->root)
        c->root->Close(c->root);
    return true;
}

/* Makes one timed request of c (skipped when past its end) and records the
 * time in times[*n]. Returns false, with c->error set, when the read fails. */
static bool timed_read(bench_case *c, UINT64 off, UINTN len, UINT8 *buf, UINT64 *times, UINTN *n)
{
    if (off > c->t.size || len > c->t.size - off)
        return true;
    UINT64 t0 = ticks();
    EFI_STATUS st = c->t.read(&c->t, off, len, buf);
    times[(*n)++] = ticks() - t0;
    if (st != EFI_SUCCESS)
        c->error = len == SEQ_REQUEST ? "sequential read failed" : "random read failed";
    return st == EFI_SUCCESS;
}

/* Whether case c is one of the (b) VHD/VHDX twins. */
static bool is_twin(unsigned c) { return c >= CASE_FAT_FIXED && c <= CASE_X_NTFS_CHAIN; }

/* The case read at place c of a round: the twins swap places every other
 * round, so that neither format always reads right after the other. */
static unsigned place(unsigned c, unsigned round)
{
    if (round % 2 == 0 || !is_twin(c))
        return c;
    return (c - CASE_FAT_FIXED) % 2 ? c - 1 : c + 1;
}

/* Runs the rounds over the cases, interleaved request by request so that
 * every case meets the same host load. Sequentially each case reads the
 * whole disk (full 1 MiB requests), starting at its own offset and wrapping
 * around, so that no two cases read the same host bytes back to back (which
 * the host CPU's cache would make look faster); randomly each case reads its
 * own fixed-seed 4 KiB offsets (twins, and (a) over either file, the same
 * offsets, of their own bytes).
 * Then rates each case. */
static void run_interleaved(bench_case *cases, unsigned count, UINT64 size, UINT8 *buf)
{
    UINTN full = (UINTN)(size / SEQ_REQUEST), spread = full / count;
    for (unsigned c = 0; c < count; c++) {
        cases[c].seq_times = vb_alloc((UINTN)rounds * full * sizeof(UINT64));
        cases[c].rand_times = vb_alloc((UINTN)rounds * rand_count * sizeof(UINT64));
        if (!cases[c].seq_times || !cases[c].rand_times)
            cases[c].error = "out of memory";
    }
    for (unsigned round = 0; round < rounds; round++) {
        for (UINTN i = 0; i < full; i++)
            for (unsigned p = 0; p < count; p++) {
                unsigned c = place(p, round);
                bench_case *k = &cases[c];
                UINT64 before = k->counter ? k->counter->reads : 0;
                UINT64 off = (UINT64)((i + c * spread) % full) * SEQ_REQUEST;
                if (k->absent || k->error || !timed_read(k, off, SEQ_REQUEST, buf, k->seq_times, &k->seq_n))
                    continue;
                k->seq_requests++;
                k->seq_reads += (k->counter ? k->counter->reads : 0) - before;
            }
        for (unsigned c = 0; c < count; c++)
            cases[c].rand_state = RAND_SEED + (is_twin(c) ? c - (c - CASE_FAT_FIXED) % 2 : c == CASE_RAW_X ? CASE_RAW : c);
        for (unsigned i = 0; i < rand_count; i++)
            for (unsigned p = 0; p < count; p++) {
                unsigned c = place(p, round);
                bench_case *k = &cases[c];
                UINT64 slots = k->t.size / RAND_REQUEST, r = next_random(&k->rand_state);
                /* a file read seeks by walking its FAT chain: a few hundred requests tell enough */
                if (k->absent || k->error || !slots || (k->t.file && i >= FILE_RAND_MAX))
                    continue;
                UINT64 before = k->counter ? k->counter->reads : 0;
                if (!timed_read(k, r % slots * RAND_REQUEST, RAND_REQUEST, buf, k->rand_times, &k->rand_n))
                    continue;
                k->rand_requests++;
                k->rand_reads += (k->counter ? k->counter->reads : 0) - before;
            }
    }
    for (unsigned c = 0; c < count; c++) {
        bench_case *k = &cases[c];
        if (k->absent) {
            vb_free(k->seq_times);
            vb_free(k->rand_times);
            continue;
        }
        if (!k->error && k->seq_n && k->rand_n) {
            k->seq = rate(SEQ_REQUEST, percentile(k->seq_times, k->seq_n));
            k->rand = rate(RAND_REQUEST, percentile(k->rand_times, k->rand_n));
        } else if (!k->error) {
            k->error = "the disk is smaller than one request";
        }
        vb_free(k->seq_times);
        vb_free(k->rand_times);
    }
}

/* Profile rows: the bytes of (a) through the partition's BlockIO, through
 * its DiskIO (the loader's path before the disk window) and through the
 * partition source the loader uses (the window on the disk's BlockIO); the
 * fixed VHD file through its extent map; the fixed VHD layer and the FAT
 * chain as core sources without the BlockIO adapter; and (a) again, read
 * last in each round, which shows how far two identical cases differ only
 * by their place in the round. Case (b) must be set up. */
static void setup_profile(bench_case *cases, efi_host_volume *fat, struct read_counter *counter, UINT64 skip)
{
    bench_case *part = &cases[PROF_PARTITION], *ext = &cases[PROF_EXTENTS], *dio = &cases[PROF_PART_DISKIO];
    EFI_BLOCK_IO *disk = cases[CASE_RAW].t.bio;
    part->t = (target){ .read = source_read, .src = &counter->inner, .size = cases[CASE_RAW].t.size,
                        .base = cases[CASE_RAW].t.base - partition_start(fat->device_path, disk->Media->BlockSize) };
    part->counter = counter;
    ext->counter = counter;
    bench_case *pb = &cases[PROF_PART_BLOCKIO];
    pb->t = (target){ .read = block_read, .size = part->t.size, .base = part->t.base };
    if (BS->HandleProtocol(fat->handle, &BlockIoProtocol, (void **)&pb->t.bio) != EFI_SUCCESS)
        pb->error = "no BlockIO on the ESP";
    dio->t = (target){ .read = disk_io_read, .bio = pb->t.bio, .size = part->t.size, .base = part->t.base };
    if (BS->HandleProtocol(fat->handle, &DiskIoProtocol, (void **)&dio->t.dio) != EFI_SUCCESS || !pb->t.bio)
        dio->error = "no DiskIO on the ESP";
    cases[PROF_RAW_AGAIN].t = cases[CASE_RAW].t;
    ext->t = (target){ .read = source_read, .src = &ext->file_src, .base = skip, .size = cases[CASE_RAW].t.size };
    if (efi_host_volume_open_file(fat, vhd_paths[0][0], false, &ext->file_src, NULL) == VB_OK)
        ext->own_src = true;
    else
        ext->error = "cannot open the file";
    for (unsigned i = 0; i < 2; i++) {
        bench_case *c = &cases[PROF_LAYER + i], *from = &cases[i ? CASE_FAT_CHAIN : CASE_FAT_FIXED];
        c->counter = counter;
        c->error = from->chain ? NULL : "no chain";
        if (from->chain)
            c->t = (target){ .read = source_read, .src = vb_chain_source(from->chain), .size = from->t.size };
    }
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

/* Prints one table row; raw is case (a), the reference of the ratios. */
static void print_row(const bench_case *c, const bench_case *raw)
{
    char a[32], b[32], d[32], e[32], f[32], g[32], cols[6][40], label[64];
    if (c->error) {
        efi_say("BENCH: %s  error: %s\n", pad(c->name, 34, false, label), c->error);
        return;
    }
    vb_format(f, sizeof f, "-");
    vb_format(g, sizeof g, "-");
    if (c->counter && c->seq_requests)
        ratio(c->seq_reads, c->seq_requests, f, sizeof f);
    if (c->counter && c->rand_requests)
        ratio(c->rand_reads, c->rand_requests, g, sizeof g);
    efi_say("BENCH: %s %s %s %s %s %s %s\n", pad(c->name, 34, false, label),
            pad(tenths(c->seq, a, sizeof a), 9, true, cols[0]), pad(ratio(c->seq, raw->seq, b, sizeof b), 6, true, cols[1]),
            pad(tenths(c->rand, d, sizeof d), 9, true, cols[2]),
            pad(ratio(c->rand, raw->rand, e, sizeof e), 6, true, cols[3]), pad(f, 7, true, cols[4]),
            pad(g, 7, true, cols[5]));
}


/* Finds the disk and volumes, sets every case up, runs the interleaved
 * rounds and prints the table. Returns false if the setup failed. */
static bool run_all(EFI_LOADED_IMAGE *loaded, UINT8 *buf)
{
    static bench_case cases[CASE_COUNT];
    static struct read_counter fat_reads, ntfs_reads;
    char label[64];
    EFI_DEVICE_PATH *disk_path = efi_devpath_parent(DevicePathFromHandle(loaded->DeviceHandle));
    EFI_BLOCK_IO *disk = disk_path ? find_disk(disk_path) : NULL;
    if (disk_path)
        FreePool(disk_path);
    if (!disk) {
        efi_say("BENCH: error: cannot find the boot disk's BlockIO\n");
        return false;
    }
    efi_host_volumes_scan();
    efi_host_volume *fat = efi_host_volume_of_handle(loaded->DeviceHandle), *ntfs = find_ntfs();
    vb_extent_map map = { 0 };
    if (!fat || !ntfs) {
        efi_say("BENCH: error: %s\n", fat ? "no NTFS volume" : "the ESP is not a host volume fs/ can read");
        efi_host_volumes_release();
        return false;
    }
    if (efi_host_volume_lookup(fat, vhd_paths[0][0], &map, NULL) != VB_OK || map.file_size < 512 + SEQ_REQUEST) {
        efi_say("BENCH: error: no usable %s on the ESP\n", vhd_paths[0][0]);
        vb_extent_map_free(&map);
        efi_host_volumes_release();
        return false;
    }
    UINT64 file_size = map.file_size, extents = map.count;
    vb_extent_map_free(&map);

    counter_attach(fat, &fat_reads);
    counter_attach(ntfs, &ntfs_reads);
    for (unsigned i = 0; i < CASE_COUNT; i++)
        cases[i].name = case_names[i];
    map = (vb_extent_map){ 0 };
    bool have_vhdx = efi_host_volume_lookup(fat, vhd_paths[1][0], &map, NULL) == VB_OK;
    UINT64 x_file_size = map.file_size;
    vb_extent_map_free(&map);
    for (unsigned i = 0; i < 12; i++) {
        unsigned kind = i / 2 % 3, x = i % 2;
        bench_case *c = &cases[CASE_FAT_FIXED + i];
        if (x && !have_vhdx)
            c->absent = true;
        else
            setup_vdisk(c, i < 6 ? fat : ntfs, i < 6 ? &fat_reads : &ntfs_reads, vhd_paths[x][kind]);
    }
    /* The disk size is the fixed image's virtual size; (a) and (c) read as
     * many bytes of its data: a VHD's from the file's start (the footer
     * follows), a fixed VHDX's from behind its headers and tables (vhdtool
     * puts the payload at the end of the file). */
    UINT64 size = file_size - 512, skip = 0;
    const char *format = "VHD";
    if (cases[CASE_FAT_FIXED].chain) {
        const vb_vhd_info *info = vb_layer_info(vb_chain_layer(cases[CASE_FAT_FIXED].chain, 0));
        size = info->disk_size;
        if (info->format == VB_FORMAT_VHDX) {
            format = "VHDX";
            skip = file_size > size ? file_size - size : 0;
        }
    }
    efi_say("BENCH: host volumes: %s", efi_host_volume_name(fat)); /* the name is a static buffer */
    efi_say(", %s; fixed.vhd (%s) on FAT in %llu extent(s)\n", efi_host_volume_name(ntfs), format,
            (unsigned long long)extents);
    efi_say("BENCH: disk size %llu MiB (data at byte %llu of the fixed file); sequential %u KiB requests; "
            "random %u x %u KiB (at most %u for (c); seed %llx)\n",
            (unsigned long long)(size >> 20), (unsigned long long)skip, SEQ_REQUEST / 1024, rand_count,
            RAND_REQUEST / 1024, FILE_RAND_MAX, (unsigned long long)RAND_SEED);
    efi_say("BENCH: MB/s of the request at the %uth percentile of times, over %u rounds interleaved request by request\n",
            PERCENTILE, rounds);
    efi_say("BENCH: timer %llu MHz (TSC against Stall)\n", (unsigned long long)(tsc_per_second / 1000000));
    setup_raw(&cases[CASE_RAW], disk, fat, vhd_paths[0][0], skip, size);
    if (have_vhdx && x_file_size > size) /* vhdtool puts a fixed VHDX's payload at the end */
        setup_raw(&cases[CASE_RAW_X], disk, fat, vhd_paths[1][0], x_file_size - size, size);
    else
        cases[CASE_RAW_X].absent = true;
    setup_file(&cases[CASE_FILE], loaded->DeviceHandle, vhd_paths[0][0], skip, size);
    unsigned shown = profile ? CASE_COUNT : CASE_TABLE;
    if (profile)
        setup_profile(cases, fat, &fat_reads, skip);

    run_interleaved(cases, shown, size, buf);

    efi_say("BENCH: %s %s %s %s %s %s %s\n", pad("case", 34, false, label), " seq MB/s", " ratio", "rand MB/s",
            " ratio", " io/seq", "io/rand");
    for (unsigned i = 0; i < shown; i++)
        if (!cases[i].absent)
            print_row(&cases[i], &cases[CASE_RAW]);

    bool released = true;
    for (unsigned i = 0; i < CASE_COUNT; i++)
        released = teardown(&cases[i]) && released;
    counter_detach(ntfs, &ntfs_reads);
    counter_detach(fat, &fat_reads);
    if (released) /* a disk the firmware keeps still reads its volume */
        efi_host_volumes_release();
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
    else if ((load_settings(loaded->DeviceHandle), !timer_calibrate()))
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
