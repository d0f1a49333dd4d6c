/* vhdboot test app posing as Windows' boot manager (bootmgfw.efi): started
 * by vhdboot from the in-memory FAT disk, it checks what Windows' boot
 * manager would rely on:
 *   - \EFI\Microsoft\Boot\BCD on its own device opens as a hive and
 *     {bootmgr}'s default entry is a Windows loader whose device and
 *     osdevice are VHD devices (locating the application path and the
 *     system root), with path \Windows\system32\winload.efi and systemroot
 *     \Windows;
 *   - the host partition the VHD device names (GPT disk + partition GUIDs, or
 *     MBR signature + byte offset) is exactly one of the firmware's
 *     partitions, and the path on it is a VHD or VHDX file (read with the
 *     project's NTFS/FAT reader: "conectix" in its footer, or the VHDX file
 *     identifier "vhdxfile" at its start);
 *   - the resources copied next to it are there (Fonts\wgl4_boot.ttf,
 *     en-US\bootmgfw.efi.mui), when the VHD had them.
 * Prints "BCDCHECK: PASS ..." or "BCDCHECK: FAIL <reason>" and powers off. */
#include <efi.h>
#include <efilib.h>
#include "efi/efi_console.h"
#include "efi/efi_partition_id.h"
#include "efi/efi_partitions.h"
#include "format/bcd.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "fs/volume.h"

#define MAX_BCD (1u << 20)

/* Reads a file of the app's own volume; returns its size or -1. */
static INTN read_own(EFI_HANDLE device, CHAR16 *path, uint8_t *buf, UINTN cap)
{
    EFI_FILE_IO_INTERFACE *fs = NULL;
    EFI_FILE_HANDLE root, f;
    INTN got = -1;
    if (BS->HandleProtocol(device, &FileSystemProtocol, (void **)&fs) != EFI_SUCCESS ||
        fs->OpenVolume(fs, &root) != EFI_SUCCESS)
        return -1;
    if (root->Open(root, &f, path, EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        UINTN n = cap;
        if (!buf) {
            got = 0;
        } else if (f->Read(f, &n, buf) == EFI_SUCCESS) {
            got = (INTN)n;
        }
        f->Close(f);
    }
    root->Close(root);
    return got;
}

static bool same_id(const vb_disk_id *a, const vb_disk_id *b)
{
    if (a->style != b->style)
        return false;
    if (a->style == VB_DISK_GPT)
        return !vb_memcmp(a->disk_guid, b->disk_guid, 16) && !vb_memcmp(a->part_guid, b->part_guid, 16);
    return a->mbr_signature == b->mbr_signature && a->part_offset == b->part_offset;
}

/* Checks one VHD device element; returns a failure text or NULL. */
static const char *check_device(const vb_bcd_device *dev, uint32_t locate, const char *what)
{
    static char why[200];
    if (dev->kind != VB_BCD_DEV_VHD) {
        vb_format(why, sizeof why, "%s is not a VHD device (kind %u, type %u)", what, dev->kind, dev->raw_type);
        return why;
    }
    if (dev->locate_element != locate) {
        vb_format(why, sizeof why, "%s locates element %x, expected %x", what, dev->locate_element, locate);
        return why;
    }
    return NULL;
}

/* Finds the partition named by id among the firmware's partitions and checks
 * that path on it is a VHD or VHDX. Returns a failure text or NULL; *fs_name set. */
static const char *check_host(const vb_disk_id *id, const char *path, const char **fs_name)
{
    static char why[300];
    EFI_HANDLE *handles = NULL;
    UINTN count = efi_partitions_list(&handles), matches = 0;
    EFI_HANDLE match = NULL;
    for (UINTN i = 0; i < count; i++) {
        vb_disk_id got;
        vb_diag d;
        if (efi_partition_identity(handles[i], &got, &d) == VB_OK && same_id(&got, id)) {
            matches++;
            match = handles[i];
        }
    }
    if (handles)
        FreePool(handles);
    if (matches != 1) {
        vb_format(why, sizeof why, "%u of %u firmware partitions match the VHD device's host partition",
                  (unsigned)matches, (unsigned)count);
        return why;
    }
    vb_source part, file;
    vb_fs *fs = NULL;
    vb_diag d;
    if (efi_partition_source_open(match, false, &part) != VB_OK)
        return "cannot open the host partition";
    const char *fail = NULL;
    if (vb_fs_probe(&part, &fs, &d) != VB_OK) {
        fail = "the host partition holds no NTFS or FAT volume";
    } else {
        *fs_name = vb_fs_type_name(vb_fs_type_of(fs));
        if (vb_fs_open_file(fs, path, &file, &d) != VB_OK) {
            vb_format(why, sizeof why, "%s not found on the host partition: %s", path, d.text);
            fail = why;
        } else {
            uint8_t footer[512], ident[8];
            bool vhd = file.size >= 512 && vb_source_read(&file, file.size - 512, footer, 512) == VB_OK &&
                       vb_memcmp(footer, "conectix", 8) == 0;
            bool vhdx = file.size >= 8 && vb_source_read(&file, 0, ident, 8) == VB_OK && vb_memcmp(ident, "vhdxfile", 8) == 0;
            if (!vhd && !vhdx) {
                vb_format(why, sizeof why, "%s on the host partition is neither a VHD nor a VHDX", path);
                fail = why;
            }
            vb_source_close(&file);
        }
        vb_fs_close(fs);
    }
    vb_source_close(&part);
    return fail;
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    InitializeLib(image, systab);
    efi_say("BCDCHECK: started as the boot manager\n");
    EFI_LOADED_IMAGE *loaded = NULL;
    const char *fail = NULL, *fs_name = "?";
    uint8_t *bcd = vb_alloc(MAX_BCD);
    vb_bcd_entry *e = vb_alloc(sizeof *e);
    INTN len = -1;
    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded)
        fail = "no loaded image protocol";
    else if (!bcd || !e)
        fail = "out of memory";
    else if ((len = read_own(loaded->DeviceHandle, L"\\EFI\\Microsoft\\Boot\\BCD", bcd, MAX_BCD)) <= 0)
        fail = "no \\EFI\\Microsoft\\Boot\\BCD on the boot manager's own device";
    vb_regf hive;
    if (!fail && vb_regf_open(&hive, bcd, (size_t)len) != VB_OK)
        fail = "the BCD does not open as a registry hive";
    if (!fail && vb_bcd_default_entry(&hive, e) != VB_OK)
        fail = "no readable default loader entry in {bootmgr}";
    if (!fail) {
        efi_say("BCDCHECK: default entry %s \"%s\" path %s systemroot %s\n", e->id, e->description, e->app_path,
                e->system_root);
        if (!e->has_app_device || !e->has_os_device)
            fail = "the entry lacks device or osdevice";
        else if (!vb_ascii_caseeq(e->app_path, "\\Windows\\system32\\winload.efi"))
            fail = "path is not \\Windows\\system32\\winload.efi";
        else if (!vb_ascii_caseeq(e->system_root, "\\Windows"))
            fail = "systemroot is not \\Windows";
        else if (!(fail = check_device(&e->app_device, VB_BCDE_APP_PATH, "device")))
            fail = check_device(&e->os_device, VB_BCDE_SYSTEM_ROOT, "osdevice");
        if (!fail && (!vb_ascii_caseeq(e->app_device.path, e->os_device.path) ||
                      vb_memcmp(&e->app_device.partition, &e->os_device.partition, sizeof(vb_disk_id)) != 0))
            fail = "device and osdevice differ";
    }
    if (!fail) {
        char text[600];
        uint8_t v[4096];
        uint32_t n, reg;
        if (vb_bcd_element(&hive, e->id, VB_BCDE_OS_DEVICE, v, sizeof v, &n, &reg) == VB_OK) {
            vb_bcd_format_value(VB_BCDE_OS_DEVICE, reg, v, n, text, sizeof text);
            efi_say("BCDCHECK: osdevice %s\n", text);
        }
        fail = check_host(&e->os_device.partition, e->os_device.path, &fs_name);
    }
    if (!fail) {
        bool font = read_own(loaded->DeviceHandle, L"\\EFI\\Microsoft\\Boot\\Fonts\\wgl4_boot.ttf", NULL, 0) >= 0;
        bool mui = read_own(loaded->DeviceHandle, L"\\EFI\\Microsoft\\Boot\\en-US\\bootmgfw.efi.mui", NULL, 0) >= 0;
        efi_say("BCDCHECK: resources: Fonts\\wgl4_boot.ttf %s, en-US\\bootmgfw.efi.mui %s\n",
                font ? "present" : "absent", mui ? "present" : "absent");
        efi_say("BCDCHECK: PASS the VHD device names %s on the %s host partition\n", e->os_device.path, fs_name);
    } else {
        efi_say("BCDCHECK: FAIL %s\n", fail);
    }
    RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
    return EFI_SUCCESS;
}
