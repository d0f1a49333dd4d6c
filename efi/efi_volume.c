/* vhdboot: opening the root folder of a SimpleFileSystem volume. */
#include <efi.h>
#include <efilib.h>
#include "efi_volume.h"

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
