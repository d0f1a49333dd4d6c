/* vhdboot: volume lookup by label or PARTUUID over SimpleFileSystem handles. */
#include <efi.h>
#include <efilib.h>
#include "efi_volume.h"
#include "efi_devpath.h"
#include "efi_text.h"
#include "format/bytes.h"

/* Whether the file system on handle has the label name. */
static bool label_matches(EFI_HANDLE handle, const char *name)
{
    EFI_FILE_HANDLE root;
    char label[128];
    bool match = false;
    if (efi_volume_open_root(handle, &root, NULL) != VB_OK)
        return false;
    EFI_FILE_SYSTEM_INFO *info = LibFileSystemInfo(root);
    if (info) {
        if (efi_char16_to_utf8(info->VolumeLabel, label, sizeof label) == VB_OK)
            match = vb_ascii_caseeq(label, name);
        FreePool(info);
    }
    root->Close(root);
    return match;
}

/* Whether the partition of handle has the GPT partition GUID name. */
static bool partuuid_matches(EFI_HANDLE handle, const char *name)
{
    char text[37];
    EFI_DEVICE_PATH *path = DevicePathFromHandle(handle);
    return path && efi_devpath_partuuid(path, text) && vb_ascii_caseeq(text, name);
}

vb_status efi_volume_find(enum efi_volume_match how, const char *name, EFI_HANDLE *out, vb_diag *diag)
{
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    vb_status result = VB_ERR_NOT_FOUND;
    EFI_STATUS st = BS->LocateHandleBuffer(ByProtocol, &FileSystemProtocol, NULL, &count, &handles);
    if (st == EFI_SUCCESS) {
        for (UINTN i = 0; i < count; i++) {
            bool match = how == EFI_VOLUME_BY_LABEL ? label_matches(handles[i], name)
                                                    : partuuid_matches(handles[i], name);
            if (match) {
                *out = handles[i];
                result = VB_OK;
                break;
            }
        }
        FreePool(handles);
    }
    if (result != VB_OK)
        vb_fail(diag, result, "no volume with %s '%s'", how == EFI_VOLUME_BY_LABEL ? "label" : "PARTUUID", name);
    return result;
}

vb_status efi_volume_open_root(EFI_HANDLE handle, EFI_FILE_HANDLE *root, vb_diag *diag)
{
    EFI_FILE_IO_INTERFACE *fs = NULL;
    EFI_STATUS st = BS->HandleProtocol(handle, &FileSystemProtocol, (void **)&fs);
    if (st != EFI_SUCCESS || !fs)
        return vb_fail(diag, VB_ERR_NOT_FOUND, "volume has no file system");
    st = fs->OpenVolume(fs, root);
    if (st != EFI_SUCCESS)
        return vb_fail(diag, VB_ERR_IO, "cannot open the volume's root directory");
    return VB_OK;
}
