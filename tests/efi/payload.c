/* vhdboot test payload: runs as \EFI\BOOT\BOOTX64.EFI inside a VHD and proves
 * that the virtual disk reads and writes correctly through BlockIO.
 *
 * Finds the whole-disk BlockIO it was loaded from, reads the whole disk in
 * 1 MiB chunks, checks the pattern of GPT partition 2 (every sector: bytes
 * 0..7 = disk LBA little-endian, byte i >= 8 = (lba*31 + i) & 0xff; the first
 * 16 sectors may instead hold the write marker of an earlier run), writes the
 * marker to those 16 sectors, flushes, reads them back, prints
 * "PAYLOAD: PASS" or "PAYLOAD: FAIL <reason>" and powers the machine off.
 *
 * Write-loop mode (tests/integration/test_powerloss.sh): when the file
 * \EFI\BOOT\WRITELOOP exists on the payload's volume, it instead rewrites 8
 * sectors at every MiB of partition 2, pass after pass, printing each write
 * of pass 1 and the end of each flushed pass, until the test kills the VM.
 * Each written sector: bytes 0..7 disk LBA, 8..15 pass number (little
 * endian), 16..31 "VHDBOOT-LOOPSECT", byte i >= 32 = (lba*7 + pass + i) & 0xff. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "efi/efi_status.h"
#include "efi/efi_text.h"
#include "format/bytes.h"
#include "format/diag.h"

#define SECTOR 512u
#define CHUNK (1024u * 1024u)
#define MARK_SECTORS 16u
static const char marker[] = "VHDBOOT-WRITE-OK";

/* Finds the BlockIO whose device path is exactly path and that is a whole disk. */
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

/* Whether sector holds the pattern for disk LBA lba. */
static bool pattern_ok(const UINT8 *sector, UINT64 lba)
{
    if (vb_le64(sector) != lba)
        return false;
    for (unsigned i = 8; i < SECTOR; i++)
        if (sector[i] != (UINT8)((lba * 31 + i) & 0xff))
            return false;
    return true;
}

/* Whether sector is filled with the write marker. */
static bool marker_ok(const UINT8 *sector)
{
    for (unsigned i = 0; i < SECTOR; i++)
        if (sector[i] != (UINT8)marker[i % (sizeof marker - 1)])
            return false;
    return true;
}

/* Reads GPT partition entry 2's first and last LBA; returns false if no GPT. */
static bool partition2(EFI_BLOCK_IO *bio, UINT8 *buf, UINT64 *first, UINT64 *last)
{
    UINT32 id = bio->Media->MediaId;
    if (bio->ReadBlocks(bio, id, 1, SECTOR, buf) != EFI_SUCCESS || CompareMem(buf, "EFI PART", 8) != 0)
        return false;
    UINT64 entries = vb_le64(buf + 72);
    UINT32 count = vb_le32(buf + 80), size = vb_le32(buf + 84);
    if (count < 2 || size < 128 || size > SECTOR || SECTOR % size != 0)
        return false;
    UINT64 lba = entries + size / SECTOR; /* entry index 1 */
    UINTN within = (size * 1) % SECTOR;
    if (bio->ReadBlocks(bio, id, lba, SECTOR, buf) != EFI_SUCCESS)
        return false;
    *first = vb_le64(buf + within + 32);
    *last = vb_le64(buf + within + 40);
    return *first != 0 && *first <= *last && *last <= bio->Media->LastBlock;
}

/* Checks that BlockIO refuses bad requests with the statuses the UEFI spec
 * names; returns NULL when it does, or the first wrong answer. */
static const char *check_refusals(EFI_BLOCK_IO *bio, UINT8 *buf)
{
    static char reason[160];
    UINT32 id = bio->Media->MediaId;
    EFI_LBA last = bio->Media->LastBlock;
    struct {
        const char *what;
        UINT32 media_id;
        EFI_LBA lba;
        UINTN size;
        void *buf;
        EFI_STATUS want;
    } cases[] = {
        { "wrong media id", id + 1, 0, SECTOR, buf, EFI_MEDIA_CHANGED },
        { "partial block", id, 0, SECTOR - 1, buf, EFI_BAD_BUFFER_SIZE },
        { "LBA past the end", id, last + 1, SECTOR, buf, EFI_INVALID_PARAMETER },
        { "read across the end", id, last, 2 * SECTOR, buf, EFI_INVALID_PARAMETER },
        { "huge LBA", id, ~(EFI_LBA)0, SECTOR, buf, EFI_INVALID_PARAMETER },
        { "NULL buffer", id, 0, SECTOR, NULL, EFI_INVALID_PARAMETER },
        { "last block", id, last, SECTOR, buf, EFI_SUCCESS },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EFI_STATUS st = bio->ReadBlocks(bio, cases[i].media_id, cases[i].lba, cases[i].size, cases[i].buf);
        if (st != cases[i].want) {
            vb_format(reason, sizeof reason, "ReadBlocks %s gave %s, not %s", cases[i].what, efi_status_text(st),
                      efi_status_text(cases[i].want));
            return reason;
        }
    }
    /* writes: a read-only disk refuses first; a writable one checks like reads */
    EFI_STATUS st = bio->WriteBlocks(bio, id, last + 1, SECTOR, buf);
    EFI_STATUS want = bio->Media->ReadOnly ? EFI_WRITE_PROTECTED : EFI_INVALID_PARAMETER;
    if (st != want) {
        vb_format(reason, sizeof reason, "WriteBlocks past the end gave %s, not %s", efi_status_text(st),
                  efi_status_text(want));
        return reason;
    }
    efi_say("PAYLOAD: blockio refusals ok\n");
    return NULL;
}

/* Runs the checks; returns NULL on success or the failure reason. */
static const char *run(EFI_BLOCK_IO *bio, UINT8 *buf)
{
    static char reason[160];
    UINT32 id = bio->Media->MediaId;
    UINT64 total = bio->Media->LastBlock + 1, first, last, mismatches = 0, markers = 0;
    efi_say("PAYLOAD: disk %llu sectors\n", (unsigned long long)total);
    const char *refused = check_refusals(bio, buf);
    if (refused)
        return refused;
    if (!partition2(bio, buf, &first, &last))
        return "no GPT partition 2";
    efi_say("PAYLOAD: pattern partition LBA %llu-%llu\n", (unsigned long long)first, (unsigned long long)last);

    for (UINT64 lba = 0; lba < total;) {
        UINT64 n = total - lba < CHUNK / SECTOR ? total - lba : CHUNK / SECTOR;
        EFI_STATUS st = bio->ReadBlocks(bio, id, lba, n * SECTOR, buf);
        if (st != EFI_SUCCESS) {
            vb_format(reason, sizeof reason, "read at LBA %llu: %s", (unsigned long long)lba, efi_status_text(st));
            return reason;
        }
        for (UINT64 i = 0; i < n; i++) {
            UINT64 s = lba + i;
            if (s < first || s > last)
                continue;
            if (s < first + MARK_SECTORS && marker_ok(buf + i * SECTOR))
                markers++;
            else if (!pattern_ok(buf + i * SECTOR, s))
                mismatches++;
        }
        lba += n;
    }
    efi_say("PAYLOAD: %llu mismatches\n", (unsigned long long)mismatches);
    if (markers)
        efi_say("PAYLOAD: marker already present in %llu sectors\n", (unsigned long long)markers);
    if (mismatches) {
        vb_format(reason, sizeof reason, "%llu sectors differ from the pattern", (unsigned long long)mismatches);
        return reason;
    }

    if (last - first + 1 < MARK_SECTORS)
        return "pattern partition smaller than 16 sectors";
    for (unsigned i = 0; i < MARK_SECTORS * SECTOR; i++)
        buf[i] = (UINT8)marker[i % (sizeof marker - 1)];
    EFI_STATUS st = bio->WriteBlocks(bio, id, first, MARK_SECTORS * SECTOR, buf);
    if (bio->Media->ReadOnly) {
        if (st != EFI_WRITE_PROTECTED) {
            vb_format(reason, sizeof reason, "write to a read-only disk gave %s", efi_status_text(st));
            return reason;
        }
        efi_say("PAYLOAD: write protected\n");
        return NULL;
    }
    if (st != EFI_SUCCESS) {
        vb_format(reason, sizeof reason, "write: %s", efi_status_text(st));
        return reason;
    }
    if ((st = bio->FlushBlocks(bio)) != EFI_SUCCESS) {
        vb_format(reason, sizeof reason, "flush: %s", efi_status_text(st));
        return reason;
    }
    SetMem(buf, MARK_SECTORS * SECTOR, 0);
    if ((st = bio->ReadBlocks(bio, id, first, MARK_SECTORS * SECTOR, buf)) != EFI_SUCCESS) {
        vb_format(reason, sizeof reason, "read back: %s", efi_status_text(st));
        return reason;
    }
    for (unsigned i = 0; i < MARK_SECTORS; i++)
        if (!marker_ok(buf + i * SECTOR))
            return "written sectors read back differently";
    efi_say("PAYLOAD: write ok\n");
    return NULL;
}

#define LOOP_STRIDE 2048u  /* sectors: one write per MiB */
#define LOOP_SECTORS 8u
#define LOOP_PASSES 50u

/* Whether \EFI\BOOT\WRITELOOP exists on the volume the payload came from. */
static bool write_loop_wanted(EFI_HANDLE device)
{
    EFI_FILE_HANDLE root = LibOpenRoot(device), file;
    bool found = false;
    if (!root)
        return false;
    if (root->Open(root, &file, L"\\EFI\\BOOT\\WRITELOOP", EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        found = true;
        file->Close(file);
    }
    root->Close(root);
    return found;
}

/* Rewrites LOOP_SECTORS sectors at every LOOP_STRIDE of partition 2 for
 * LOOP_PASSES passes (flushing after each); returns NULL or the failure. */
static const char *write_loop(EFI_BLOCK_IO *bio, UINT8 *buf)
{
    static char reason[160];
    UINT32 id = bio->Media->MediaId;
    UINT64 first, last;
    if (!partition2(bio, buf, &first, &last))
        return "no GPT partition 2";
    for (UINT64 pass = 1; pass <= LOOP_PASSES; pass++) {
        unsigned n = 0;
        for (UINT64 lba = first; lba + LOOP_SECTORS - 1 <= last; lba += LOOP_STRIDE, n++) {
            for (UINT64 s = 0; s < LOOP_SECTORS; s++) {
                UINT8 *sector = buf + s * SECTOR;
                vb_put_le32(sector, (UINT32)(lba + s));
                vb_put_le32(sector + 4, (UINT32)((lba + s) >> 32));
                vb_put_le32(sector + 8, (UINT32)pass);
                vb_put_le32(sector + 12, 0);
                CopyMem(sector + 16, "VHDBOOT-LOOPSECT", 16);
                for (unsigned i = 32; i < SECTOR; i++)
                    sector[i] = (UINT8)(((lba + s) * 7 + pass + i) & 0xff);
            }
            EFI_STATUS st = bio->WriteBlocks(bio, id, lba, LOOP_SECTORS * SECTOR, buf);
            if (st != EFI_SUCCESS) {
                vb_format(reason, sizeof reason, "loop write at LBA %llu: %s", (unsigned long long)lba,
                          efi_status_text(st));
                return reason;
            }
            if (pass == 1)
                efi_say("PAYLOAD: loop pass 1 write %u at LBA %llu\n", n + 1, (unsigned long long)lba);
        }
        EFI_STATUS st = bio->FlushBlocks(bio);
        if (st != EFI_SUCCESS) {
            vb_format(reason, sizeof reason, "loop flush: %s", efi_status_text(st));
            return reason;
        }
        efi_say("PAYLOAD: loop pass %llu flushed\n", (unsigned long long)pass);
    }
    efi_say("PAYLOAD: loop done\n");
    return NULL;
}

/* Prints the load options if there are any (as text when they are UTF-16). */
static void show_options(EFI_LOADED_IMAGE *loaded)
{
    CHAR16 text[256];
    char utf8[512];
    UINTN units = loaded->LoadOptionsSize / sizeof(CHAR16);
    if (!loaded->LoadOptions || units == 0)
        return;
    if (units > 255)
        units = 255;
    CopyMem(text, loaded->LoadOptions, units * sizeof(CHAR16));
    text[units] = 0;
    if (efi_char16_to_utf8(text, utf8, sizeof utf8) == VB_OK && utf8[0])
        efi_say("PAYLOAD: load options %s\n", utf8);
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    const char *failure = NULL;
    InitializeLib(image, systab);
    efi_say("PAYLOAD: started\n");
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded) {
        failure = "no loaded image protocol";
    } else {
        show_options(loaded);
        EFI_DEVICE_PATH *part = DevicePathFromHandle(loaded->DeviceHandle);
        EFI_DEVICE_PATH *disk_path = part ? efi_devpath_parent(part) : NULL;
        EFI_BLOCK_IO *bio = disk_path ? find_disk(disk_path) : NULL;
        UINT8 *buf = AllocatePool(CHUNK);
        if (!bio)
            failure = "cannot find the whole disk the payload was loaded from";
        else if (!buf)
            failure = "out of memory";
        else if (write_loop_wanted(loaded->DeviceHandle))
            failure = write_loop(bio, buf);
        else
            failure = run(bio, buf);
        if (buf)
            FreePool(buf);
        if (disk_path)
            FreePool(disk_path);
    }
    if (failure)
        efi_say("PAYLOAD: FAIL %s\n", failure);
    else
        efi_say("PAYLOAD: PASS\n");
    RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
    return EFI_SUCCESS;
}
