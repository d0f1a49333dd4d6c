/* vhdboot: VHD discovery over SimpleFileSystem volumes (see discover.h). */
#include <efi.h>
#include <efilib.h>
#include "discover.h"
#include "discover_list.h"
#include "efi/console.h"
#include "efi/devpath.h"
#include "efi/file_source.h"
#include "efi/text.h"
#include "efi/volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

#define MAX_FOUND 64u
#define DIR_INFO_BYTES (SIZE_OF_EFI_FILE_INFO + 512 * sizeof(CHAR16))

/* Everything one discovery run collects. */
struct scan {
    vb_found_vhd *found;
    unsigned count;
};

/* Fills how the volume on handle is named in entries: SELF for the
 * loader's own, else its label, else its PARTUUID. Returns false when the
 * volume has neither (it cannot be named in an entry). */
static bool name_volume(EFI_HANDLE handle, EFI_HANDLE loader_device, EFI_FILE_HANDLE root, vb_found_vhd *f)
{
    f->volume[0] = '\0';
    if (handle == loader_device) {
        f->volume_kind = VB_VOLUME_SELF;
        return true;
    }
    EFI_FILE_SYSTEM_INFO *info = LibFileSystemInfo(root);
    if (info) {
        if (efi_char16_to_utf8(info->VolumeLabel, f->volume, sizeof f->volume) != VB_OK)
            f->volume[0] = '\0';
        FreePool(info);
    }
    if (f->volume[0]) {
        f->volume_kind = VB_VOLUME_LABEL;
        return true;
    }
    EFI_DEVICE_PATH *path = DevicePathFromHandle(handle);
    if (path && efi_devpath_partuuid(path, f->volume)) {
        f->volume_kind = VB_VOLUME_PARTUUID;
        return true;
    }
    return false;
}

/* Opens the VHD f->path under root read-only and fills type, size, UUIDs
 * and chain depth (or the problem). */
static void inspect(EFI_FILE_HANDLE root, vb_found_vhd *f)
{
    efi_file_opener opener;
    vb_source file = { 0 };
    vb_layer *layer = NULL;
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    efi_file_opener_init(&opener, root);
    vb_status st = opener.opener.open(opener.opener.ctx, f->path, false, &file);
    if (st == VB_OK)
        st = vb_layer_open(&file, f->path, 0, &layer, &diag);
    if (st != VB_OK) {
        vb_strlcpy(f->problem, vb_status_message(st), sizeof f->problem);
        vb_source_close(&file); /* harmless when it never opened */
        return;
    }
    const vb_vhd_info *info = vb_layer_info(layer);
    f->opened = true;
    f->type = (int)info->type;
    f->size = info->disk_size;
    vb_memcpy(f->uuid, info->uuid, 16);
    vb_memcpy(f->parent_uuid, info->parent_uuid, 16);
    vb_layer_close(layer);
    vb_source_close(&file);
    st = vb_chain_open(&opener.opener, f->path, 0, &chain, &diag);
    if (st == VB_OK) {
        f->depth = vb_chain_depth(chain);
        vb_chain_close(chain);
    } else {
        vb_strlcpy(f->problem, vb_status_message(st), sizeof f->problem);
    }
}

/* Adds every *.vhd in folder (volume-absolute) of root to s. */
static void scan_folder(struct scan *s, EFI_FILE_HANDLE root, const vb_found_vhd *volume, const char *folder)
{
    CHAR16 wide[VB_CONFIG_DISCOVER_PATH_LEN];
    EFI_FILE_HANDLE dir;
    char name[256];
    if (efi_utf8_to_char16(folder, wide, VB_CONFIG_DISCOVER_PATH_LEN) != VB_OK)
        return;
    if (root->Open(root, &dir, wide, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
        return;
    EFI_FILE_INFO *info = vb_alloc(DIR_INFO_BYTES);
    while (info && s->count < MAX_FOUND) {
        UINTN size = DIR_INFO_BYTES;
        if (dir->Read(dir, &size, info) != EFI_SUCCESS || size == 0)
            break;
        if (info->Attribute & EFI_FILE_DIRECTORY)
            continue;
        if (efi_char16_to_utf8(info->FileName, name, sizeof name) != VB_OK || !vb_discover_is_vhd_name(name))
            continue;
        vb_found_vhd *f = &s->found[s->count];
        *f = *volume;
        bool at_root = folder[0] == '\\' && folder[1] == '\0';
        if (vb_format(f->path, sizeof f->path, "%s\\%s", at_root ? "" : folder, name) >= (int)sizeof f->path - 1)
            continue;
        inspect(root, f);
        s->count++;
    }
    vb_free(info);
    dir->Close(dir);
}

unsigned vb_discover(vb_config *cfg, EFI_HANDLE loader_device)
{
    static const char *const defaults[] = VB_DISCOVER_DEFAULT_PATHS;
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    struct scan s = { vb_alloc(MAX_FOUND * sizeof(vb_found_vhd)), 0 };
    if (!s.found)
        return 0;
    if (BS->LocateHandleBuffer(ByProtocol, &FileSystemProtocol, NULL, &count, &handles) != EFI_SUCCESS)
        count = 0;
    for (UINTN h = 0; h < count; h++) {
        EFI_FILE_HANDLE root;
        vb_found_vhd *volume = vb_alloc(sizeof *volume);
        if (!volume)
            break;
        if (efi_volume_open_root(handles[h], &root, NULL) == VB_OK) {
            if (name_volume(handles[h], loader_device, root, volume)) {
                unsigned n = cfg->discover_path_count ? cfg->discover_path_count : VB_DISCOVER_DEFAULT_PATH_COUNT;
                for (unsigned i = 0; i < n; i++)
                    scan_folder(&s, root, volume, cfg->discover_path_count ? cfg->discover_paths[i] : defaults[i]);
            }
            root->Close(root);
        }
        vb_free(volume);
    }
    if (handles)
        FreePool(handles);
    unsigned added = vb_discover_add(cfg, s.found, s.count);
    vb_free(s.found);
    return added;
}

/* Formats 16 stored UUID bytes in stored order, 8-4-4-4-12 (as vhdtool info). */
static void format_uuid(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned n = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[u[i] >> 4];
        out[n++] = hex[u[i] & 15];
    }
    out[n] = '\0';
}

/* Works out the volume handle and absolute path of entry, like a boot does. */
static vb_status locate(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry,
                        EFI_HANDLE *volume, char *path, size_t cap, vb_diag *diag)
{
    if (entry->volume_kind == VB_VOLUME_SELF) {
        *volume = loader_device;
        if (entry->vhd[0] == '\\') {
            vb_strlcpy(path, entry->vhd, cap);
            return VB_OK;
        }
        if (vb_path_resolve(loader_path, entry->vhd, path, cap) != VB_OK)
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: bad path relative to %s", entry->vhd, loader_path);
        return VB_OK;
    }
    vb_strlcpy(path, entry->vhd, cap);
    return efi_volume_find(entry->volume_kind == VB_VOLUME_LABEL ? EFI_VOLUME_BY_LABEL : EFI_VOLUME_BY_PARTUUID,
                           entry->volume, volume, diag);
}

void vb_discover_show_chain(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry)
{
    char path[VB_PATH_MAX], uuid[37];
    EFI_HANDLE volume = NULL;
    EFI_FILE_HANDLE root = NULL;
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    efi_file_opener opener;
    efi_say("vhdboot info: %s\n", entry->title);
    vb_status st = locate(loader_device, loader_path, entry, &volume, path, sizeof path, &diag);
    if (st == VB_OK)
        st = efi_volume_open_root(volume, &root, &diag);
    if (st == VB_OK) {
        efi_file_opener_init(&opener, root);
        st = vb_chain_open(&opener.opener, path, 0, &chain, &diag);
    }
    if (st != VB_OK) {
        efi_say("vhdboot: error: %s\n", diag.text[0] ? diag.text : vb_status_message(st));
    } else {
        efi_say("chain of %u layer(s), write mode %s\n", vb_chain_depth(chain), vb_write_mode_name(entry->write));
        for (unsigned i = 0; i < vb_chain_depth(chain); i++) {
            const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, i));
            format_uuid(info->uuid, uuid);
            const char *type = info->type == VB_DISK_FIXED ? "fixed" : info->type == VB_DISK_DYNAMIC ? "dynamic" : "differencing";
            efi_say("  layer %u: %s\n    %s, %llu MiB, UUID %s\n", i + 1, vb_chain_path(chain, i), type,
                    (unsigned long long)(info->disk_size >> 20), uuid);
            if (info->type == VB_DISK_DIFF) {
                format_uuid(info->parent_uuid, uuid);
                efi_say("    parent UUID %s\n", uuid);
            }
        }
        vb_chain_close(chain);
    }
    if (root)
        root->Close(root);
}
