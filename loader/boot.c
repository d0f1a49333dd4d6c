/* vhdboot: one boot attempt from VHD to inner boot file (see boot.h). */
#include <efi.h>
#include <efilib.h>
#include "boot.h"
#include "chainload.h"
#include "efi/console.h"
#include "efi/file_source.h"
#include "efi/vdisk.h"
#include "efi/volume.h"
#include "format/bytes.h"
#include "format/overlay.h"
#include "format/platform.h"
#include "format/vhd.h"

/* Everything one attempt holds, released in reverse order by cleanup(). */
struct attempt {
    EFI_FILE_HANDLE root;
    vb_chain *chain;
    vb_source overlay;      /* volatile mode only */
    bool has_overlay;
    efi_vdisk *vdisk;
    char path[VB_PATH_MAX];     /* volume-absolute path of the top VHD */
    char shown[VB_PATH_MAX + VB_CONFIG_VOLUME_MAX + 2]; /* path as shown in messages */
};

/* Prints the error line for diag (or a fallback naming the file). */
static void report(const struct attempt *a, const vb_diag *diag)
{
    if (diag->text[0])
        efi_say("vhdboot: error: %s\n", diag->text);
    else
        efi_say("vhdboot: error: %s: %s\n", a->shown, vb_status_message(diag->status));
}

/* Releases what the attempt holds; returns false when the firmware keeps
 * the disk, in which case the chain (and *a) must stay alive under it. */
static bool cleanup(struct attempt *a)
{
    if (a->vdisk && !efi_vdisk_uninstall(a->vdisk)) {
        efi_say("vhdboot: error: %s: the firmware still uses the virtual disk; leaving it attached\n", a->shown);
        return false;
    }
    if (a->has_overlay)
        vb_source_close(&a->overlay);
    if (a->chain) {
        vb_source_flush(vb_chain_source(a->chain));
        vb_chain_close(a->chain);
    }
    if (a->root)
        a->root->Close(a->root);
    return true;
}

/* Works out the volume handle and the volume-absolute VHD path of entry. */
static vb_status locate(struct attempt *a, EFI_HANDLE loader_device, const char *loader_path,
                        const vb_boot_entry *entry, EFI_HANDLE *volume, vb_diag *diag)
{
    if (entry->volume_kind == VB_VOLUME_SELF) {
        *volume = loader_device;
        if (entry->vhd[0] == '\\') {
            vb_strlcpy(a->path, entry->vhd, sizeof a->path);
        } else if (vb_path_resolve(loader_path, entry->vhd, a->path, sizeof a->path) != VB_OK) {
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: bad path relative to %s", entry->vhd, loader_path);
        }
        vb_strlcpy(a->shown, a->path, sizeof a->shown);
        return VB_OK;
    }
    vb_strlcpy(a->path, entry->vhd, sizeof a->path);
    if (a->path[0] != '\\')
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s:%s: path on another volume must start with '\\'",
                       entry->volume, entry->vhd);
    vb_format(a->shown, sizeof a->shown, "%s:%s", entry->volume, a->path);
    enum efi_volume_match how = entry->volume_kind == VB_VOLUME_LABEL ? EFI_VOLUME_BY_LABEL : EFI_VOLUME_BY_PARTUUID;
    vb_status st = efi_volume_find(how, entry->volume, volume, diag);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: no volume with %s '%s'", a->shown,
                       how == EFI_VOLUME_BY_LABEL ? "label" : "PARTUUID", entry->volume);
    return VB_OK;
}

/* Opens the chain (and the overlay in volatile mode) and publishes the disk. */
static vb_status attach(struct attempt *a, EFI_HANDLE volume, const vb_boot_entry *entry, vb_diag *diag)
{
    efi_file_opener opener;
    efi_file_opener_init(&opener, a->root);
    unsigned flags = entry->write == VB_WRITE_PERSISTENT ? VB_OPEN_WRITABLE : 0;
    vb_status st = vb_chain_open(&opener.opener, a->path, flags, &a->chain, diag);
    if (st != VB_OK)
        return st;
    efi_say("vhdboot: opened chain of %u layer(s)\n", vb_chain_depth(a->chain));
    vb_source *disk = vb_chain_source(a->chain);
    if (entry->write == VB_WRITE_VOLATILE) {
        st = vb_overlay_open(disk, &a->overlay);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot make the volatile overlay: %s", a->shown, vb_status_message(st));
        a->has_overlay = true;
        disk = &a->overlay;
    }
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(a->chain, 0));
    st = efi_vdisk_install(disk, info->uuid, DevicePathFromHandle(volume), entry->write == VB_WRITE_READONLY,
                           &a->vdisk, diag);
    if (st != VB_OK)
        return st;
    efi_say("vhdboot: installed disk of %llu MiB (%s)\n", (unsigned long long)(disk->size >> 20),
            vb_write_mode_name(entry->write));
    return VB_OK;
}

void vb_boot(EFI_HANDLE image, EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry)
{
    struct attempt *a = vb_alloc(sizeof *a);
    vb_diag *diag = vb_alloc(sizeof *diag);
    EFI_HANDLE volume = NULL;
    if (!a || !diag) {
        efi_say("vhdboot: error: %s: out of memory\n", entry->vhd);
        vb_free(a);
        vb_free(diag);
        return;
    }
    vb_status st = locate(a, loader_device, loader_path, entry, &volume, diag);
    efi_say("vhdboot: opening %s\n", a->shown[0] ? a->shown : entry->vhd);
    if (st == VB_OK && (st = efi_volume_open_root(volume, &a->root, diag)) != VB_OK)
        vb_fail(diag, st, "%s: cannot open the volume that holds it", a->shown);
    if (st == VB_OK)
        st = attach(a, volume, entry, diag);
    if (st == VB_OK)
        st = vb_chainload(image, efi_vdisk_device_path(a->vdisk), a->shown, entry->efi, diag);
    /* vb_chainload returns only on failure, so there is always something to report */
    report(a, diag);
    if (cleanup(a))
        vb_free(a);
    vb_free(diag);
}
