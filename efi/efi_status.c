/* vhdboot: core statuses as BlockIO statuses, and names for EFI_STATUS values. */
#include "efi_status.h"

EFI_STATUS efi_block_io_status(vb_status status)
{
    if (status == VB_OK)
        return EFI_SUCCESS;
    if (status == VB_ERR_WRITE_PROTECTED)
        return EFI_WRITE_PROTECTED;
    return EFI_DEVICE_ERROR;
}

const char *efi_status_text(EFI_STATUS status)
{
    switch (status) {
    case EFI_SUCCESS: return "Success";
    case EFI_LOAD_ERROR: return "Load Error";
    case EFI_INVALID_PARAMETER: return "Invalid Parameter";
    case EFI_UNSUPPORTED: return "Unsupported";
    case EFI_BAD_BUFFER_SIZE: return "Bad Buffer Size";
    case EFI_BUFFER_TOO_SMALL: return "Buffer Too Small";
    case EFI_NOT_READY: return "Not Ready";
    case EFI_DEVICE_ERROR: return "Device Error";
    case EFI_WRITE_PROTECTED: return "Write Protected";
    case EFI_OUT_OF_RESOURCES: return "Out of Resources";
    case EFI_VOLUME_CORRUPTED: return "Volume Corrupt";
    case EFI_VOLUME_FULL: return "Volume Full";
    case EFI_NO_MEDIA: return "No Media";
    case EFI_MEDIA_CHANGED: return "Media Changed";
    case EFI_NOT_FOUND: return "Not Found";
    case EFI_ACCESS_DENIED: return "Access Denied";
    case EFI_NO_RESPONSE: return "No Response";
    case EFI_NO_MAPPING: return "No Mapping";
    case EFI_TIMEOUT: return "Time Out";
    case EFI_NOT_STARTED: return "Not Started";
    case EFI_ALREADY_STARTED: return "Already Started";
    case EFI_ABORTED: return "Aborted";
    case EFI_SECURITY_VIOLATION: return "Security Violation";
    default: return "Unknown Error";
    }
}
