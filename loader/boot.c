/* vhdboot: one boot attempt from VHD to inner boot file (see boot.h).
 *
 * The VHD and its parents are found on the host volumes (efi/host_volumes.h:
 * every NTFS or FAT partition of every disk) and read through their extent
 * maps, straight from the host disk. The one exception is the top file of a
 * persistent entry on FAT: it is opened through the firmware's FAT driver,
 * which can extend the file when the VHD needs a new block (our extent maps
 * cannot grow; doing FAT allocation ourselves would duplicate the firmware's
 * driver for no gain). On NTFS nothing can grow the file, so a write that
 * needs a new block fails loudly (see efi/host_opener.h), or the entry falls
 * back to volatile writes when it says `write persistent-or-volatile`. */
#include <efi.h>
#include <efilib.h>
#include "boot.h"
#include "chainload.h"
#include "efi/console.h"
#include "efi/host_opener.h"
#include "efi/host_volumes.h"
#include "efi/ramdisk_load.h"
#include "efi/vdisk.h"
#include "format/bytes.h"
#include "format/overlay.h"
#include "format/platform.h"
#include "format/vhd.h"

/* Everything one attempt holds, released in reverse order by cleanup(). */
struct attempt {
    efi_host_opener opener;     /* outlives the chain's files */
    vb_chain *chain;
    vb_source overlay;          /* volatile mode only */
    bool has_overlay;
    efi_vdisk *vdisk;
    efi_ramdisk *ramdisk;       /* ram mode only */
    efi_host_volume *home;      /* where the top VHD is looked for first */
    efi_host_volume *grown;     /* a volume the firmware's file driver wrote to */
    bool top_anywhere;          /* a bare path: other volumes too */
    enum vb_write_mode write;   /* the mode in effect (after any fallback) */
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
    if (a->ramdisk && !efi_ramdisk_free(a->ramdisk)) {
        efi_say("vhdboot: error: %s: the firmware still uses the RAM disk; leaving it in memory\n", a->shown);
        return false;
    }
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
    /* the FAT driver may have grown the file: our reader's cached FAT is stale */
    if (a->grown)
        efi_host_volume_refresh(a->grown);
    return true;
}

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

/* Works out where to look for the top VHD of entry (home volume, whether
 * other volumes may hold it) and its volume-absolute path. */
static vb_status locate(struct attempt *a, EFI_HANDLE loader_device, const char *loader_path,
                        const vb_boot_entry *entry, vb_diag *diag)
{
    if (entry->volume_kind == VB_VOLUME_SELF) {
        /* the loader's own volume first, then every other one */
        a->home = efi_host_volume_of_handle(loader_device);
        a->top_anywhere = true;
        if (entry->vhd[0] == '\\') {
            vb_strlcpy(a->path, entry->vhd, sizeof a->path);
        } else if (vb_path_resolve(loader_path, entry->vhd, a->path, sizeof a->path) != VB_OK) {
            return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: bad path relative to %s", entry->vhd, loader_path);
        }
        vb_strlcpy(a->shown, a->path, sizeof a->shown);
        return VB_OK;
    }
    vb_strlcpy(a->path, entry->vhd, sizeof a->path);
    vb_format(a->shown, sizeof a->shown, "%s:%s", entry->volume, a->path);
    if (a->path[0] != '\\')
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: path on another volume must start with '\\'", a->shown);
    enum efi_volume_match how = entry->volume_kind == VB_VOLUME_LABEL ? EFI_VOLUME_BY_LABEL : EFI_VOLUME_BY_PARTUUID;
    a->home = efi_host_volume_find(how, entry->volume);
    a->top_anywhere = false;
    if (!a->home) {
        char known[256], unreadable[256];
        list_volumes(known, sizeof known);
        bool damaged = efi_host_unreadable_note(unreadable, sizeof unreadable) > 0;
        return vb_fail(diag, VB_ERR_NOT_FOUND, "%s: no NTFS or FAT volume with %s '%s' (volumes: %s%s%s)",
                       a->shown, how == EFI_VOLUME_BY_LABEL ? "label" : "PARTUUID", entry->volume, known,
                       damaged ? "; unreadable: " : "", unreadable);
    }
    return VB_OK;
}

/* Whether the top layer may need a new block when written (a fixed VHD or
 * a dynamic one with every block allocated never does). */
static bool may_need_new_blocks(vb_chain *chain)
{
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, 0));
    if (info->type == VB_DISK_FIXED || info->block_size == 0)
        return false;
    uint64_t blocks = (info->disk_size + info->block_size - 1) / info->block_size;
    return info->allocated_blocks < blocks;
}

/* Says that 'write ram' cannot work without the firmware's RAM disk
 * protocol and offers volatile writes instead; returns true when the user
 * takes the offer (v), false for any other key. */
static bool offer_volatile(const struct attempt *a)
{
    EFI_INPUT_KEY key;
    UINTN index;
    efi_say("vhdboot: %s: this firmware has no RAM disk protocol (EFI_RAM_DISK_PROTOCOL), so 'write ram' cannot "
            "hand the disk to the OS\n", a->shown);
    efi_say("vhdboot: press v to boot it with 'write volatile' instead (writes kept in memory, the VHD files "
            "unchanged), any other key for the menu\n");
    while (ST->ConIn->ReadKeyStroke(ST->ConIn, &key) == EFI_SUCCESS)
        ; /* drop keys typed before the question */
    for (;;) {
        BS->WaitForEvent(1, &ST->ConIn->WaitForKey, &index);
        if (ST->ConIn->ReadKeyStroke(ST->ConIn, &key) == EFI_SUCCESS)
            return key.UnicodeChar == L'v' || key.UnicodeChar == L'V';
    }
}

/* Reads the whole chain into a RAM disk the firmware publishes (ram mode);
 * the VHD files are closed once it is loaded. Returns the status. */
static vb_status attach_ram(struct attempt *a, vb_diag *diag)
{
    vb_status st = efi_ramdisk_load(a->chain, a->shown, &a->ramdisk, NULL, diag);
    if (st != VB_OK)
        return st;
    if ((st = efi_ramdisk_register(a->ramdisk, diag)) != VB_OK) {
        char why[VB_DIAG_TEXT_MAX];
        vb_strlcpy(why, diag->text, sizeof why);
        return vb_fail(diag, st, "%s: %s", a->shown, why);
    }
    uint64_t size = vb_chain_source(a->chain)->size;
    vb_chain_close(a->chain);
    a->chain = NULL;
    efi_say("vhdboot: installed RAM disk of %llu MiB (ram)\n", (unsigned long long)(size >> 20));
    return VB_OK;
}

/* Opens the chain, applies the write mode (falling back from
 * persistent-or-volatile when the top file cannot grow), adds the overlay in
 * volatile mode and publishes the disk. */
static vb_status attach(struct attempt *a, const vb_boot_entry *entry, vb_diag *diag)
{
    enum vb_write_mode mode = entry->write;
    if (mode == VB_WRITE_RAM && !efi_ramdisk_available()) {
        if (!offer_volatile(a))
            return vb_fail(diag, VB_ERR_UNSUPPORTED, "%s: 'write ram' needs the firmware's RAM disk protocol",
                           a->shown);
        mode = VB_WRITE_VOLATILE;
    }
    bool writable = mode == VB_WRITE_PERSISTENT || mode == VB_WRITE_PERSISTENT_OR_VOLATILE;
    efi_host_opener_init(&a->opener, a->home, writable, a->top_anywhere);
    vb_status st = vb_chain_open(&a->opener.opener, a->path, writable ? VB_OPEN_WRITABLE : 0, &a->chain, diag);
    if (st != VB_OK) {
        if (a->opener.detail.text[0] && (st == VB_ERR_FS_CORRUPT || st == VB_ERR_FS_UNSUPPORTED))
            *diag = a->opener.detail; /* the reader's own explanation is more telling */
        /* not found on the readable volumes (a bare path stops at the first
         * damaged directory): the file may be on an unreadable one */
        bool missing = st == VB_ERR_NOT_FOUND || st == VB_ERR_PARENT_NOT_FOUND ||
                       (a->top_anywhere && (st == VB_ERR_FS_CORRUPT || st == VB_ERR_FS_UNSUPPORTED));
        char unreadable[256];
        size_t len = vb_strlen(diag->text);
        if (missing && efi_host_unreadable_note(unreadable, sizeof unreadable) > 0)
            vb_format(diag->text + len, (int)(sizeof diag->text - len), " (unreadable: %s)", unreadable);
        return st;
    }
    efi_say("vhdboot: opened chain of %u layer(s)\n", vb_chain_depth(a->chain));

    efi_host_volume *top_volume = a->home;
    bool extent_mapped = true;
    efi_host_opener_oldest(&a->opener, &top_volume, &extent_mapped);
    if (writable && !extent_mapped)
        a->grown = top_volume;
    a->write = mode;
    if (a->write == VB_WRITE_RAM)
        return attach_ram(a, diag);
    if (a->write == VB_WRITE_PERSISTENT_OR_VOLATILE) {
        a->write = VB_WRITE_PERSISTENT;
        if (extent_mapped && may_need_new_blocks(a->chain)) {
            efi_say("vhdboot: %s: %s cannot grow the file; writes go to memory instead (volatile)\n", a->shown,
                    top_volume ? efi_host_volume_name(top_volume) : "the volume");
            a->write = VB_WRITE_VOLATILE;
        }
    }
    vb_source *disk = vb_chain_source(a->chain);
    if (a->write == VB_WRITE_VOLATILE) {
        st = vb_overlay_open(disk, &a->overlay);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot make the volatile overlay: %s", a->shown, vb_status_message(st));
        a->has_overlay = true;
        disk = &a->overlay;
    }
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(a->chain, 0));
    st = efi_vdisk_install(disk, info->uuid, top_volume ? top_volume->device_path : NULL,
                           a->write == VB_WRITE_READONLY, &a->vdisk, diag);
    if (st != VB_OK)
        return st;
    efi_say("vhdboot: installed disk of %llu MiB (%s)\n", (unsigned long long)(disk->size >> 20),
            vb_write_mode_name(a->write));
    return VB_OK;
}

void vb_boot(EFI_HANDLE image, EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry)
{
    struct attempt *a = vb_alloc(sizeof *a);
    vb_diag *diag = vb_alloc(sizeof *diag);
    if (!a || !diag) {
        efi_say("vhdboot: error: %s: out of memory\n", entry->vhd);
        vb_free(a);
        vb_free(diag);
        return;
    }
    /* the host volumes are found once; a later attempt reuses them */
    if (efi_host_volume_count() == 0)
        efi_host_volumes_scan();
    vb_status st = locate(a, loader_device, loader_path, entry, diag);
    efi_say("vhdboot: opening %s\n", a->shown[0] ? a->shown : entry->vhd);
    if (st == VB_OK)
        st = attach(a, entry, diag);
    if (st == VB_OK)
        st = vb_chainload(image, a->ramdisk ? efi_ramdisk_device_path(a->ramdisk) : efi_vdisk_device_path(a->vdisk),
                          a->shown, entry->efi, diag);
    /* vb_chainload returns only on failure, so there is always something to report */
    report(a, diag);
    if (cleanup(a))
        vb_free(a);
    vb_free(diag);
}
