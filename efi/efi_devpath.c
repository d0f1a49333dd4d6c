/* vhdboot: device-path helpers (see efi_devpath.h). */
#include <efi.h>
#include <stddef.h>
#include <efilib.h>
#include "efi_devpath.h"
#include "efi_text.h"
#include "format/bytes.h"
#include "format/uuid.h"

UINTN efi_devpath_body_size(const EFI_DEVICE_PATH *path)
{
    const EFI_DEVICE_PATH *node = path;
    while (!IsDevicePathEnd(node))
        node = NextDevicePathNode(node);
    return (UINTN)((const UINT8 *)node - (const UINT8 *)path);
}

bool efi_devpath_has_prefix(const EFI_DEVICE_PATH *path, const EFI_DEVICE_PATH *prefix)
{
    UINTN a = efi_devpath_body_size(path), b = efi_devpath_body_size(prefix);
    return a > b && CompareMem((void *)path, (void *)prefix, b) == 0;
}

EFI_DEVICE_PATH *efi_devpath_parent(const EFI_DEVICE_PATH *path)
{
    const EFI_DEVICE_PATH *node = path, *last = NULL;
    while (!IsDevicePathEnd(node)) {
        last = node;
        node = NextDevicePathNode(node);
    }
    if (!last)
        return NULL;
    UINTN body = (UINTN)((const UINT8 *)last - (const UINT8 *)path);
    EFI_DEVICE_PATH *copy = AllocatePool(body + sizeof(EFI_DEVICE_PATH));
    if (!copy)
        return NULL;
    CopyMem(copy, (void *)path, body);
    EFI_DEVICE_PATH *end = (EFI_DEVICE_PATH *)((UINT8 *)copy + body);
    SetDevicePathEndNode(end);
    return copy;
}

bool efi_devpath_partuuid(const EFI_DEVICE_PATH *path, char out[37])
{
    const HARDDRIVE_DEVICE_PATH *found = NULL;
    for (const EFI_DEVICE_PATH *node = path; !IsDevicePathEnd(node); node = NextDevicePathNode(node)) {
        if (DevicePathType(node) == MEDIA_DEVICE_PATH && DevicePathSubType(node) == MEDIA_HARDDRIVE_DP &&
            /* gnu-efi's struct is not packed: sizeof is 48, the node 42 bytes */
            (UINTN)DevicePathNodeLength(node) >= offsetof(HARDDRIVE_DEVICE_PATH, SignatureType) + 1) {
            const HARDDRIVE_DEVICE_PATH *hd = (const HARDDRIVE_DEVICE_PATH *)node;
            if (hd->SignatureType == SIGNATURE_TYPE_GUID)
                found = hd;
        }
    }
    if (!found)
        return false;
    vb_uuid_text(found->Signature, VB_UUID_GUID, out);
    return true;
}

bool efi_devpath_file_path(const EFI_DEVICE_PATH *path, char *out, UINTN cap)
{
    UINTN len = 0;
    bool any = false;
    if (cap == 0)
        return false;
    out[0] = '\0';
    for (const EFI_DEVICE_PATH *node = path; !IsDevicePathEnd(node); node = NextDevicePathNode(node)) {
        if (DevicePathType(node) != MEDIA_DEVICE_PATH || DevicePathSubType(node) != MEDIA_FILEPATH_DP)
            continue;
        UINTN units = (DevicePathNodeLength(node) - 4) / sizeof(CHAR16);
        CHAR16 name[512];
        if (units == 0 || units >= 512)
            return false;
        /* node names are not aligned: copy before reading */
        CopyMem(name, (UINT8 *)node + 4, units * sizeof(CHAR16));
        name[units] = 0;
        if (len > 0 && out[len - 1] != '\\' && name[0] != L'\\') {
            if (len + 1 >= cap)
                return false;
            out[len++] = '\\';
            out[len] = '\0';
        }
        if (efi_char16_to_utf8(name, out + len, cap - len) != VB_OK)
            return false;
        len += vb_strlen(out + len);
        any = true;
    }
    return any;
}
