/* vhdboot: LoadImage/StartImage of the boot file found on the virtual disk. */
#include <efi.h>
#include <efilib.h>
#include "chainload.h"
#include "bli.h"
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "efi/efi_status.h"
#include "efi/efi_text.h"
#include "format/vhd.h"

#define MAX_VOLUMES 16

/* EFI_PARTITION_INFO_PROTOCOL (UEFI 2.7): only the fields read here. */
#define PARTITION_INFO_GUID \
    { 0x8cf2f62c, 0xbc9b, 0x4821, { 0x80, 0x8d, 0xec, 0x9e, 0xc4, 0x21, 0xa1, 0xa0 } }
typedef struct {
    UINT32 revision;
    UINT32 type;
    UINT8 system;       /* 1 = EFI system partition */
} partition_info_head;

static EFI_GUID partition_info_guid = PARTITION_INFO_GUID;

/* Whether the partition on handle says it is an EFI system partition. */
static bool is_esp(EFI_HANDLE handle)
{
    partition_info_head *info = NULL;
    if (BS->HandleProtocol(handle, &partition_info_guid, (void **)&info) != EFI_SUCCESS || !info)
        return false;
    return info->system == 1;
}

/* Collects the file-system handles below disk_path, ESPs first; returns the count. */
static UINTN volumes_on_disk(const EFI_DEVICE_PATH *disk_path, EFI_HANDLE out[MAX_VOLUMES])
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0, found = 0;
    if (BS->LocateHandleBuffer(ByProtocol, &FileSystemProtocol, NULL, &count, &handles) != EFI_SUCCESS)
        return 0;
    for (int pass = 0; pass < 2; pass++) {
        for (UINTN i = 0; i < count && found < MAX_VOLUMES; i++) {
            EFI_DEVICE_PATH *path = DevicePathFromHandle(handles[i]);
            if (!path || !efi_devpath_has_prefix(path, disk_path))
                continue;
            if (is_esp(handles[i]) == (pass == 0))
                out[found++] = handles[i];
        }
    }
    FreePool(handles);
    return found;
}

/* Whether a regular file exists at path on the volume. */
static bool file_exists(EFI_HANDLE volume, const CHAR16 *path)
{
    EFI_FILE_IO_INTERFACE *fs = NULL;
    EFI_FILE_HANDLE root, file;
    bool exists = false;
    if (BS->HandleProtocol(volume, &FileSystemProtocol, (void **)&fs) != EFI_SUCCESS)
        return false;
    if (fs->OpenVolume(fs, &root) != EFI_SUCCESS)
        return false;
    if (root->Open(root, &file, (CHAR16 *)path, EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        EFI_FILE_INFO *info = LibFileInfo(file);
        exists = info && !(info->Attribute & EFI_FILE_DIRECTORY);
        if (info)
            FreePool(info);
        file->Close(file);
    }
    root->Close(root);
    return exists;
}

/* Loads path from volume through its device path and starts it. Returns only
 * on failure or when the image returned, with diag set. */
static vb_status load_and_start(EFI_HANDLE parent, EFI_HANDLE volume, const CHAR16 *wide, const char *path,
                                efi_trace *trace, vb_diag *diag)
{
    EFI_DEVICE_PATH *full = FileDevicePath(volume, (CHAR16 *)wide);
    EFI_HANDLE image = NULL;
    if (!full)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory for its device path", path);
    efi_say("vhdboot: starting %s\n", path);
    if (trace)
        efi_trace_say(trace, "LoadImage %s", path);
    EFI_STATUS st = BS->LoadImage(FALSE, parent, full, NULL, 0, &image);
    FreePool(full);
    if (st != EFI_SUCCESS) {
        /* a refused image may still have been loaded: unload it */
        if (image)
            BS->UnloadImage(image);
        if (st == EFI_SECURITY_VIOLATION || st == EFI_ACCESS_DENIED)
            return vb_fail(diag, VB_ERR_IO, "Secure Boot refused %s: %s", path, efi_status_text(st));
        return vb_fail(diag, VB_ERR_IO, "cannot load %s: %s", path, efi_status_text(st));
    }
    UINTN exit_size = 0;
    CHAR16 *exit_data = NULL;
    efi_say("vhdboot: ready in %llu ms\n", (unsigned long long)(vb_bli_elapsed_usec() / 1000));
    BS->SetWatchdogTimer(300, 0, 0, NULL);
    if (trace)
        efi_trace_say(trace, "StartImage %s: what follows is the inner boot manager's", path);
    st = BS->StartImage(image, &exit_size, &exit_data);
    BS->SetWatchdogTimer(0, 0, 0, NULL);
    if (exit_data)
        FreePool(exit_data);
    /* an application is unloaded by the firmware when it returns */
    return vb_fail(diag, VB_ERR_IO, "%s returned: %s", path, efi_status_text(st));
}

vb_status vb_chainload(EFI_HANDLE parent, const EFI_DEVICE_PATH *disk_path, const char *vhd_name,
                       const char *efi_path, efi_trace *trace, vb_diag *diag)
{
    const char *defaults[] = { VB_DEFAULT_EFI_1, VB_DEFAULT_EFI_2 };
    const char *single[] = { efi_path };
    const char **paths = efi_path && efi_path[0] ? single : defaults;
    unsigned path_count = efi_path && efi_path[0] ? 1 : 2;
    EFI_HANDLE volumes[MAX_VOLUMES];
    UINTN volume_count = volumes_on_disk(disk_path, volumes);

    for (unsigned p = 0; p < path_count; p++) {
        CHAR16 wide[VB_PATH_MAX];
        if (efi_utf8_to_char16(paths[p], wide, VB_PATH_MAX) != VB_OK)
            continue;
        for (UINTN v = 0; v < volume_count; v++)
            if (file_exists(volumes[v], wide))
                return load_and_start(parent, volumes[v], wide, paths[p], trace, diag);
    }
    if (path_count == 1)
        return vb_fail(diag, VB_ERR_NOT_FOUND, "no boot file found on %s (tried %s)", vhd_name, paths[0]);
    return vb_fail(diag, VB_ERR_NOT_FOUND, "no boot file found on %s (tried %s, %s)", vhd_name, paths[0],
                   paths[1]);
}
