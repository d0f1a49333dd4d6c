/* vhdboot: vb_status -> EFI_STATUS, and names for EFI_STATUS values. */
#include "status.h"

EFI_STATUS efi_from_vb(vb_status status)
{
    switch (status) {
    case VB_OK:
        return EFI_SUCCESS;
    case VB_ERR_NO_MEMORY:
        return EFI_OUT_OF_RESOURCES;
    case VB_ERR_INVALID_ARG:
    case VB_ERR_OUT_OF_RANGE:
        return EFI_INVALID_PARAMETER;
    case VB_ERR_WRITE_PROTECTED:
        return EFI_WRITE_PROTECTED;
    case VB_ERR_UNSUPPORTED:
    case VB_ERR_FS_UNSUPPORTED:
        return EFI_UNSUPPORTED;
    case VB_ERR_NOT_FOUND:
    case VB_ERR_PARENT_NOT_FOUND:
        return EFI_NOT_FOUND;
    case VB_ERR_NO_SPACE:
        return EFI_VOLUME_FULL;
    case VB_ERR_CONFIG:
        return EFI_LOAD_ERROR;
    case VB_ERR_IO:
        return EFI_DEVICE_ERROR;
    case VB_ERR_CANCELLED:
        return EFI_ABORTED;
    default:
        /* every format / chain / file-system complaint: the data is bad */
        return EFI_VOLUME_CORRUPTED;
    }
}

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
