/* vhdboot: where an entry's top VHD is looked for (see locate.h). */
#include <efi.h>
#include "locate.h"
#include "format/bytes.h"
#include "fs/volume.h"

/* Appends the known volumes ("FAT32 'ESP', NTFS 'DATA'") to text (capacity cap). */
static void list_volumes(char *text, int cap)
{
    int len = 0;
    text[0] = '\0';
    for (unsigned i = 0; i < efi_host_volume_count() && len < cap; i++) {
        const efi_host_volume *v = efi_host_volume_at(i);
        len += vb_format(text + len, cap - len, "%s%s '%s'", i ? ", " : "", vb_fs_type_name(v->type),
                         v->label[0] ? v->label : v->partuuid);
    }
    if (!text[0])
        vb_strlcpy(text, "none", (size_t)cap);
}

vb_status vb_locate(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry,
                    vb_vhd_place *place, vb_diag *diag)
{
    if (entry->volume_kind == VB_VOLUME_SELF) {
        /* the loader's own volume first, then every other one */
        place->home = efi_host_volume_of_handle(loader_device);
        place->anywhere = true;
        if (entry->vhd[0] == '\\') {
            vb_strlcpy(place->path, entry->vhd, sizeof place->path);
        } else if (vb_path_resolve(loader_path, entry->vhd, place->path, sizeof place->path) != VB_OK) {
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: bad path relative to %s", entry->vhd, loader_path);
        }
        vb_strlcpy(place->shown, place->path, sizeof place->shown);
        return VB_OK;
    }
    vb_strlcpy(place->path, entry->vhd, sizeof place->path);
    vb_format(place->shown, sizeof place->shown, "%s:%s", entry->volume, place->path);
    place->anywhere = false;
    if (place->path[0] != '\\')
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: path on another volume must start with '\\'", place->shown);
    bool by_label = entry->volume_kind == VB_VOLUME_LABEL;
    place->home = efi_host_volume_find(by_label ? EFI_VOLUME_BY_LABEL : EFI_VOLUME_BY_PARTUUID, entry->volume);
    if (!place->home) {
        char known[256], unreadable[256];
        list_volumes(known, sizeof known);
        bool damaged = efi_host_unreadable_note(unreadable, sizeof unreadable) > 0;
        return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: no NTFS or FAT volume with %s '%s' (volumes: %s%s%s)",
                       place->shown, by_label ? "label" : "PARTUUID", entry->volume, known,
                       damaged ? "; unreadable: " : "", unreadable);
    }
    return VB_OK;
}
