/* vhdboot: Windows in a VHD (see windows.h).
 *
 * Like wimboot and ntloader, the boot manager runs from a virtual disk made
 * in memory: an MBR disk with one FAT16 partition (fs/fat_build.c) holding
 * \EFI\Microsoft\Boot\bootmgfw.efi, the resources next to it (fonts,
 * language folders) and a BCD generated for this boot (format/bcd_build.c).
 * The boot manager is loaded from that disk by device path, so Secure Boot
 * checks Microsoft's signature on it as usual; the BCD is data. */
#include <efi.h>
#include <efilib.h>
#include "windows.h"
#include "chainload.h"
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "efi/efi_partition_id.h"
#include "efi/efi_text.h"
#include "format/bcd.h"
#include "format/bytes.h"
#include "format/disk_id.h"
#include "format/platform.h"
#include "fs/fat_build.h"
#include "fs/volume.h"

#define BOOT_DIR "\\EFI\\Microsoft\\Boot"
#define BOOTMGFW BOOT_DIR "\\bootmgfw.efi"
#define NTFS_BOOT_DIR "\\Windows\\Boot\\EFI"
#define NTFS_FONTS_DIR "\\Windows\\Boot\\Fonts"
#define WINLOAD "\\Windows\\System32\\winload.efi"
#define MAX_FILES 200u
#define MAX_BYTES (128u << 20)
#define NAME_MAX 256u

/* The files put on the FAT disk. */
struct collected {
    vb_fat_file files[MAX_FILES];
    char paths[MAX_FILES][VB_PATH_MAX];
    unsigned count;
    uint64_t bytes;
};

/* Takes ownership of data (vb_alloc'd) as file path on the disk. */
static vb_status add_file(struct collected *c, const char *path, uint8_t *data, uint64_t size)
{
    if (c->count >= MAX_FILES || size > MAX_BYTES - c->bytes) {
        vb_free(data);
        return VB_ERR_NO_SPACE;
    }
    vb_strlcpy(c->paths[c->count], path, VB_PATH_MAX);
    c->files[c->count].path = c->paths[c->count];
    c->files[c->count].data = data;
    c->files[c->count].size = (uint32_t)size;
    c->count++;
    c->bytes += size;
    return VB_OK;
}

static void free_collected(struct collected *c)
{
    for (unsigned i = 0; i < c->count; i++)
        vb_free((void *)c->files[i].data);
    vb_free(c);
}

/* Whether name (a file directly in the boot folder) is the BCD or one of its logs, which we replace. */
static bool is_bcd(const char *name)
{
    return vb_ascii_caseeq(name, "BCD") || (vb_strlen(name) > 4 && (name[0] | 32) == 'b' && (name[1] | 32) == 'c' &&
                                            (name[2] | 32) == 'd' && name[3] == '.');
}

/* ---- the ESP layout: files read through the firmware's FAT driver ---- */

/* Reads an open firmware file whole into a new buffer. */
static vb_status read_fw_file(EFI_FILE_HANDLE f, uint64_t size, uint8_t **out)
{
    if (size > MAX_BYTES)
        return VB_ERR_NO_SPACE;
    uint8_t *buf = vb_alloc((size_t)size + 1);
    if (!buf)
        return VB_ERR_NO_MEMORY;
    UINTN n = (UINTN)size;
    if (size && (f->Read(f, &n, buf) != EFI_SUCCESS || n != size)) {
        vb_free(buf);
        return VB_ERR_IO;
    }
    *out = buf;
    return VB_OK;
}

/* Copies folder dir (FAT path fat_path) and, depth permitting, its subfolders. */
static vb_status collect_fw_dir(EFI_FILE_HANDLE dir, const char *fat_path, int depth, struct collected *c)
{
    UINTN cap = sizeof(EFI_FILE_INFO) + 512 * sizeof(CHAR16);
    EFI_FILE_INFO *info = vb_alloc(cap);
    if (!info)
        return VB_ERR_NO_MEMORY;
    vb_status st = VB_OK;
    for (;;) {
        UINTN n = cap;
        if (dir->Read(dir, &n, info) != EFI_SUCCESS) {
            st = VB_ERR_IO;
            break;
        }
        if (n == 0)
            break;
        char name[NAME_MAX], path[VB_PATH_MAX];
        if (efi_char16_to_utf8(info->FileName, name, sizeof name) != VB_OK || !name[0] ||
            (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))))
            continue;
        if (depth == 0 && is_bcd(name))
            continue;
        if (vb_format(path, sizeof path, "%s\\%s", fat_path, name) >= (int)sizeof path)
            continue;
        EFI_FILE_HANDLE f;
        if (dir->Open(dir, &f, info->FileName, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
            continue;
        if (info->Attribute & EFI_FILE_DIRECTORY) {
            if (depth < 2)
                st = collect_fw_dir(f, path, depth + 1, c);
        } else {
            uint8_t *data;
            st = read_fw_file(f, info->FileSize, &data);
            if (st == VB_OK)
                st = add_file(c, path, data, info->FileSize);
        }
        f->Close(f);
        if (st != VB_OK)
            break;
    }
    vb_free(info);
    return st;
}

/* Finds \EFI\Microsoft\Boot\bootmgfw.efi on a volume of the VHD that the
 * firmware reads and copies its folder. VB_ERR_NOT_FOUND when absent. */
static vb_status collect_from_esp(const EFI_DEVICE_PATH *disk_path, struct collected *c, vb_diag *diag)
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    vb_status st = VB_ERR_NOT_FOUND;
    if (BS->LocateHandleBuffer(ByProtocol, &FileSystemProtocol, NULL, &count, &handles) != EFI_SUCCESS)
        return VB_ERR_NOT_FOUND;
    for (UINTN i = 0; i < count && st == VB_ERR_NOT_FOUND; i++) {
        EFI_DEVICE_PATH *path = DevicePathFromHandle(handles[i]);
        EFI_FILE_IO_INTERFACE *fs = NULL;
        EFI_FILE_HANDLE root, bootdir, bm;
        if (!path || !efi_devpath_has_prefix(path, disk_path) ||
            BS->HandleProtocol(handles[i], &FileSystemProtocol, (void **)&fs) != EFI_SUCCESS ||
            fs->OpenVolume(fs, &root) != EFI_SUCCESS)
            continue;
        if (root->Open(root, &bootdir, L"\\EFI\\Microsoft\\Boot", EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
            if (bootdir->Open(bootdir, &bm, L"bootmgfw.efi", EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
                bm->Close(bm);
                st = collect_fw_dir(bootdir, BOOT_DIR, 0, c);
                if (st != VB_OK)
                    vb_fail(diag, st, "cannot copy %s from the VHD: %s", BOOT_DIR, vb_status_message(st));
            }
            bootdir->Close(bootdir);
        }
        root->Close(root);
    }
    FreePool(handles);
    return st;
}

/* ---- the single NTFS partition layout: files read with our NTFS reader ---- */

/* A window of a block source: one partition of the virtual disk. */
struct slice {
    vb_source *disk;
    uint64_t start;
};

static vb_status slice_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct slice *s = ctx;
    return vb_source_read(s->disk, s->start + offset, buf, len);
}

/* Reads a whole file of an NTFS volume into a new buffer. */
static vb_status read_fs_file(vb_fs *fs, const char *path, uint8_t **out, uint64_t *size, vb_diag *diag)
{
    vb_source f;
    vb_status st = vb_fs_open_file(fs, path, &f, diag);
    if (st != VB_OK)
        return st;
    if (f.size > MAX_BYTES) {
        vb_source_close(&f);
        return VB_ERR_NO_SPACE;
    }
    uint8_t *buf = vb_alloc((size_t)f.size + 1);
    if (!buf)
        st = VB_ERR_NO_MEMORY;
    else if (f.size)
        st = vb_source_read(&f, 0, buf, (size_t)f.size);
    *size = f.size;
    vb_source_close(&f);
    if (st != VB_OK) {
        vb_free(buf);
        return st;
    }
    *out = buf;
    return VB_OK;
}

/* Names found by one directory listing. */
struct listing {
    char names[64][NAME_MAX];
    bool is_dir[64];
    unsigned count;
};

static bool list_one(void *ctx, const vb_fs_dirent *e)
{
    struct listing *l = ctx;
    if (l->count < 64) {
        vb_strlcpy(l->names[l->count], e->name, NAME_MAX);
        l->is_dir[l->count++] = e->is_dir;
    }
    return false;
}

/* Copies the files of NTFS folder from (and, one level down, its subfolders)
 * to FAT folder to. */
static vb_status collect_ntfs_dir(vb_fs *fs, const char *from, const char *to, int depth, struct collected *c,
                                  vb_diag *diag)
{
    struct listing *l = vb_alloc(sizeof *l);
    if (!l)
        return VB_ERR_NO_MEMORY;
    vb_status st = vb_fs_list_dir(fs, from, list_one, l, diag);
    for (unsigned i = 0; i < l->count && st == VB_OK; i++) {
        char src[VB_PATH_MAX], dst[VB_PATH_MAX];
        if (vb_format(src, sizeof src, "%s\\%s", from, l->names[i]) >= (int)sizeof src ||
            vb_format(dst, sizeof dst, "%s\\%s", to, l->names[i]) >= (int)sizeof dst)
            continue;
        if (l->is_dir[i]) {
            if (depth < 1)
                st = collect_ntfs_dir(fs, src, dst, depth + 1, c, diag);
            continue;
        }
        uint8_t *data;
        uint64_t size;
        st = read_fs_file(fs, src, &data, &size, diag);
        if (st == VB_OK)
            st = add_file(c, dst, data, size);
    }
    vb_free(l);
    return st;
}

/* Whether path names a file on fs (resident and compressed files too: their
 * lookup fails as unsupported, not as missing). */
static bool file_exists(vb_fs *fs, const char *path)
{
    vb_extent_map map;
    vb_diag d;
    vb_status st = vb_fs_lookup(fs, path, &map, &d);
    if (st == VB_OK)
        vb_extent_map_free(&map);
    return st == VB_OK || st == VB_ERR_FS_UNSUPPORTED;
}

/* Looks at each partition of the VHD for an NTFS volume holding
 * \Windows\Boot\EFI\bootmgfw.efi and \Windows\System32\winload.efi and
 * copies the boot folder and fonts. VB_ERR_NOT_FOUND when there is none. */
static vb_status collect_from_ntfs(vb_source *disk, struct collected *c, vb_diag *diag)
{
    for (uint32_t n = 1; n <= 16; n++) {
        vb_disk_id id;
        if (vb_disk_id_read(disk, 512, n, &id) != VB_OK || id.part_size == 0 || id.part_offset >= disk->size ||
            id.part_size > disk->size - id.part_offset)
            continue;
        struct slice s = { disk, id.part_offset };
        vb_source part = { .size = id.part_size, .ctx = &s, .read = slice_read };
        vb_fs *fs = NULL;
        vb_diag d;
        if (vb_fs_probe(&part, &fs, &d) != VB_OK)
            continue;
        bool windows = vb_fs_type_of(fs) == VB_FS_NTFS && file_exists(fs, NTFS_BOOT_DIR "\\bootmgfw.efi");
        if (windows) {
            windows = file_exists(fs, WINLOAD);
            if (!windows)
                efi_say("vhdboot: partition %u of the VHD has %s\\bootmgfw.efi but no %s\n", n, NTFS_BOOT_DIR,
                        WINLOAD);
        }
        vb_status st = VB_ERR_NOT_FOUND;
        if (windows) {
            st = collect_ntfs_dir(fs, NTFS_BOOT_DIR, BOOT_DIR, 0, c, diag);
            /* bcdboot copies \Windows\Boot\Fonts to the boot folder's Fonts (optional) */
            if (st == VB_OK)
                (void)collect_ntfs_dir(fs, NTFS_FONTS_DIR, BOOT_DIR "\\Fonts", 1, c, &d);
            if (st != VB_OK && !diag->text[0])
                vb_fail(diag, st, "cannot copy %s from the VHD: %s", NTFS_BOOT_DIR, vb_status_message(st));
        }
        vb_fs_close(fs);
        if (windows)
            return st;
    }
    return VB_ERR_NOT_FOUND;
}

/* ---- Windows' rules ---- */

/* Warns about each parent Windows would not find by its own locators (the
 * path we opened is none of the ones they name), naming the fix. */
static void warn_locators(vb_chain *chain)
{
    for (unsigned i = 0; i + 1 < vb_chain_depth(chain); i++) {
        vb_layer *child = vb_chain_layer(chain, i);
        const char *child_path = vb_chain_path(chain, i), *parent_path = vb_chain_path(chain, i + 1);
        if (!vb_windows_finds_parent(child, child_path, parent_path))
            efi_say("vhdboot: warning: %s: its parent %s was found by vhdboot's own search, not by the "
                    "%s locators Windows uses; fix them with: vhdtool set-parent %s %s\n",
                    child_path, parent_path, vb_windows_locator_names(child), child_path, parent_path);
    }
}

/* A read-only block source over a buffer: the FAT disk. Allocated, so
 * that it can outlive the call when the firmware keeps the disk. */
struct membuf {
    uint8_t *data;
    uint64_t size;
    vb_source src;
};

static vb_status mem_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct membuf *m = ctx;
    if (offset > m->size || len > m->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    vb_memcpy(buf, m->data + offset, len);
    return VB_OK;
}

vb_status vb_windows_boot(EFI_HANDLE image, const vb_boot_entry *entry, efi_vdisk *vhd_disk, vb_chain *chain,
                          efi_host_volume *host, const char *shown, vb_diag *diag)
{
    if (entry->efi[0] && !vb_ascii_caseeq(entry->efi, BOOTMGFW))
        return VB_ERR_NOT_FOUND;
    struct collected *c = vb_alloc(sizeof *c);
    if (!c)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory", shown);
    const char *layout = "its EFI system partition";
    vb_status st = collect_from_esp(efi_vdisk_device_path(vhd_disk), c, diag);
    if (st == VB_ERR_NOT_FOUND) {
        layout = "its NTFS partition (\\Windows\\Boot\\EFI)";
        st = collect_from_ntfs(vb_chain_source(chain), c, diag);
    }
    if (st == VB_ERR_NOT_FOUND) {
        free_collected(c);
        return VB_ERR_NOT_FOUND;
    }
    if (st != VB_OK) {
        free_collected(c);
        return st;
    }
    efi_say("vhdboot: Windows boot manager found on %s (%u files)\n", layout, c->count);

    /* Windows' rule: native VHD boot needs the VHD file on an NTFS volume */
    if (!host || host->type != VB_FS_NTFS) {
        free_collected(c);
        return vb_fail(diag, VB_ERR_UNSUPPORTED,
                       "%s: Windows boots from a VHD only when the file is on an NTFS volume, and this one is on %s; "
                       "copy it to an NTFS partition", shown, host ? efi_host_volume_name(host) : "an unknown volume");
    }
    warn_locators(chain);

    vb_bcd_desc desc = { .vhd_path = vb_chain_path(chain, 0), .title = entry->title[0] ? entry->title : NULL };
    st = efi_partition_identity(host->handle, &desc.host, diag);
    if (st != VB_OK) {
        free_collected(c);
        size_t len = vb_strlen(diag->text);
        vb_format(diag->text + len, (int)(sizeof diag->text - len), " (%s)", shown);
        return st;
    }
    uint8_t *bcd = NULL, *img = NULL;
    size_t bcd_len = 0;
    uint64_t img_size = 0;
    st = vb_bcd_build(&desc, 0, &bcd, &bcd_len);
    if (st == VB_OK)
        st = add_file(c, BOOT_DIR "\\BCD", bcd, bcd_len);
    if (st == VB_OK)
        st = vb_fat_build(c->files, c->count, "VHDBOOT", 0x5668d0b7, &img, &img_size);
    free_collected(c);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot build the boot manager's disk: %s", shown, vb_status_message(st));

    struct membuf *m = vb_alloc(sizeof *m);
    if (!m) {
        vb_free(img);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory", shown);
    }
    m->data = img;
    m->size = img_size;
    m->src = (vb_source){ .size = img_size, .ctx = m, .read = mem_read };
    static const uint8_t disk_uuid[16] = { 'v', 'h', 'd', 'b', 'o', 'o', 't', '-', 'w', 'i', 'n', 'd', 'o', 'w', 's', 0 };
    efi_vdisk *fat = NULL;
    st = efi_vdisk_install(&m->src, disk_uuid, NULL, true, NULL, &fat, diag);
    if (st == VB_OK) {
        efi_say("vhdboot: BCD: device and osdevice vhd=[%s]%s\n", efi_host_volume_name(host), desc.vhd_path);
        st = vb_chainload(image, efi_vdisk_device_path(fat), "the boot manager's disk", BOOTMGFW, NULL, diag);
        if (!efi_vdisk_uninstall(fat))
            return st;    /* the firmware still holds the disk: its memory stays */
    }
    vb_free(img);
    vb_free(m);
    return st;
}
