/* vhdboot: EFI variable helpers and the lab-control variables (see vars.h). */
#include <efi.h>
#include <efilib.h>
#include "vars.h"
#include "efi/efi_vdisk.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/utf.h"

EFI_GUID vb_vendor_guid = VB_VDISK_GUID;

vb_status vb_var_get_id_of(EFI_GUID *guid, const CHAR16 *name, char *out, size_t cap)
{
    uint8_t data[VB_VAR_ID_UNITS_MAX * 2];
    UINTN size = sizeof data;
    UINT32 attrs = 0;
    EFI_STATUS st = RT->GetVariable((CHAR16 *)name, guid, &attrs, &size, data);
    if (st == EFI_NOT_FOUND)
        return VB_ERR_NOT_FOUND;
    if (st != EFI_SUCCESS || size % 2 != 0)
        return VB_ERR_INVALID_ARG;
    size_t units = size / 2;
    if (units && vb_le16(data + 2 * (units - 1)) == 0)
        units--; /* tolerate a terminator */
    if (units == 0)
        return VB_ERR_INVALID_ARG;
    for (size_t i = 0; i < units; i++)
        if (vb_le16(data + 2 * i) == 0)
            return VB_ERR_INVALID_ARG;
    return vb_utf16_to_utf8(data, units, false, out, cap);
}

vb_status vb_var_set_id(const CHAR16 *name, const char *id)
{
    uint8_t data[VB_VAR_ID_UNITS_MAX * 2];
    size_t units = 0;
    if (!id[0] || vb_utf8_to_utf16(id, false, data, sizeof data, &units) != VB_OK)
        return VB_ERR_INVALID_ARG;
    return vb_var_set_raw(&vb_vendor_guid, name, data, units * 2, VB_VAR_ATTR_PERSISTENT);
}

vb_status vb_var_delete_of(EFI_GUID *guid, const CHAR16 *name)
{
    UINT32 attrs = 0;
    UINTN size = 0;
    EFI_STATUS st = RT->GetVariable((CHAR16 *)name, guid, &attrs, &size, NULL);
    if (st == EFI_NOT_FOUND)
        return VB_OK;
    /* deleting = setting with size 0 and the variable's own attributes */
    if (st != EFI_BUFFER_TOO_SMALL && st != EFI_SUCCESS)
        attrs = VB_VAR_ATTR_PERSISTENT;
    st = RT->SetVariable((CHAR16 *)name, guid, attrs, 0, NULL);
    return st == EFI_SUCCESS || st == EFI_NOT_FOUND ? VB_OK : VB_ERR_IO;
}

vb_status vb_var_set_string(EFI_GUID *guid, const CHAR16 *name, const char *utf8, UINT32 attrs)
{
    size_t cap = (vb_strlen(utf8) + 1) * 2; /* UTF-16 never needs more units than UTF-8 bytes */
    uint8_t *data = vb_alloc(cap);
    size_t units = 0;
    vb_status st = VB_ERR_NO_MEMORY;
    if (data) {
        st = vb_utf8_to_utf16(utf8, false, data, cap - 2, &units);
        if (st == VB_OK) {
            vb_put_le16(data + 2 * units, 0);
            st = vb_var_set_raw(guid, name, data, (units + 1) * 2, attrs);
        }
        vb_free(data);
    }
    return st;
}

vb_status vb_var_set_raw(EFI_GUID *guid, const CHAR16 *name, const void *data, UINTN size, UINT32 attrs)
{
    EFI_STATUS st = RT->SetVariable((CHAR16 *)name, guid, attrs, size, (void *)data);
    return st == EFI_SUCCESS ? VB_OK : VB_ERR_IO;
}
