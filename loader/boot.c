/* vhdboot: one boot attempt from VHD to inner boot file (see boot.h).
 *
 * The VHD and its parents are found on the host volumes (efi/efi_host_volumes.h:
 * every NTFS or FAT partition of every disk) and read through their extent
 * maps, straight from the host disk. The one exception is the top file of a
 * persistent entry on FAT: it is opened through the firmware's FAT driver,
 * which can extend the file when the VHD needs a new block (our extent maps
 * cannot grow; doing FAT allocation ourselves would duplicate the firmware's
 * driver for no gain). On NTFS nothing can grow the file, so a write that
 * needs a new block fails loudly (see efi/efi_host_opener.h), or the entry falls
 * back to volatile writes when it says `write persistent-or-volatile`. */
#include <efi.h>
#include <efilib.h>
#include "boot.h"
#include "chainload.h"
#include "conf_file.h"
#include "locate.h"
#include "windows.h"
#include "handoff.h"
#include "efi/efi_console.h"
#include "efi/efi_host_opener.h"
#include "efi/efi_host_volumes.h"
#include "efi/efi_vdisk.h"
#include "efi/efi_ramdisk_load.h"
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
    efi_trace *trace;           /* the entry's `trace`, NULL when off */
    efi_host_volume *trace_volume; /* the volume trace.log was written to */
    efi_ramdisk *ramdisk;       /* ram mode only */
    efi_host_volume *grown;     /* a volume the firmware's file driver wrote to */
    efi_host_volume *top_volume; /* where the top VHD was found */
    enum vb_write_mode write;   /* the mode in effect (after any fallback) */
    vb_vhd_place place;         /* where the top VHD is looked for, and its path */
};

/* Prints the error line for diag (or a fallback naming the file). */
static void report(const struct attempt *a, const vb_diag *diag)
{
    if (diag->text[0])
        efi_say("vhdboot: error: %s\n", diag->text);
    else
        efi_say("vhdboot: error: %s: %s\n", a->place.shown, vb_status_message(diag->status));
}

/* Releases what the attempt holds; returns false when the firmware keeps
 * the disk, in which case the chain (and *a) must stay alive under it. */
static bool cleanup(struct attempt *a)
{
    if (a->ramdisk && !efi_ramdisk_free(a->ramdisk)) {
        efi_say("vhdboot: error: %s: the firmware still uses the RAM disk; leaving it in memory\n", a->place.shown);
        return false;
    }
    vb_handoff_withdraw(); /* the OS never got this disk */
    if (a->vdisk)
        efi_vdisk_stop_trace(a->vdisk);
    efi_trace_stop(a->trace);
    a->trace = NULL;
    /* trace.log grew through the firmware's FAT driver: our cached FAT is stale */
    if (a->trace_volume)
        efi_host_volume_refresh(a->trace_volume);
    if (a->vdisk && !efi_vdisk_uninstall(a->vdisk)) {
        efi_say("vhdboot: error: %s: the firmware still uses the virtual disk; leaving it attached\n", a->place.shown);
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
            "hand the disk to the OS\n", a->place.shown);
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
    vb_status st = efi_ramdisk_load(a->chain, a->place.shown, &a->ramdisk, NULL, diag);
    if (st != VB_OK)
        return st;
    if ((st = efi_ramdisk_register(a->ramdisk, diag)) != VB_OK) {
        char why[VB_DIAG_TEXT_MAX];
        vb_strlcpy(why, diag->text, sizeof why);
        return vb_fail(diag, st, "%s: %s", a->place.shown, why);
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
                           a->place.shown);
        mode = VB_WRITE_VOLATILE;
    }
    bool writable = mode == VB_WRITE_PERSISTENT || mode == VB_WRITE_PERSISTENT_OR_VOLATILE;
    efi_host_opener_init(&a->opener, a->place.home, writable, a->place.anywhere);
    vb_status st = vb_chain_open(&a->opener.opener, a->place.path, writable ? VB_OPEN_WRITABLE : 0, &a->chain, diag);
    if (st != VB_OK) {
        if (a->opener.detail.text[0] && (st == VB_ERR_FS_CORRUPT || st == VB_ERR_FS_UNSUPPORTED))
            *diag = a->opener.detail; /* the reader's own explanation is more telling */
        /* not found on the readable volumes (a bare path stops at the first
         * damaged directory): the file may be on an unreadable one */
        bool missing = st == VB_ERR_NOT_FOUND || st == VB_ERR_PARENT_NOT_FOUND ||
                       (a->place.anywhere && (st == VB_ERR_FS_CORRUPT || st == VB_ERR_FS_UNSUPPORTED));
        char unreadable[256];
        size_t len = vb_strlen(diag->text);
        if (missing && efi_host_unreadable_note(unreadable, sizeof unreadable) > 0)
            vb_format(diag->text + len, (int)(sizeof diag->text - len), " (unreadable: %s)", unreadable);
        return st;
    }
    efi_say("vhdboot: opened chain of %u layer(s)\n", vb_chain_depth(a->chain));
    if (vb_layer_info(vb_chain_layer(a->chain, 0))->footer_repaired)
        efi_say("vhdboot: %s: the trailing footer was damaged (a power loss while the file grew); "
                "rewritten from the copy at offset 0\n", a->place.path);

    efi_host_volume *top_volume = a->place.home;
    bool extent_mapped = true;
    efi_host_opener_oldest(&a->opener, &top_volume, &extent_mapped);
    a->top_volume = top_volume;
    if (writable && !extent_mapped)
        a->grown = top_volume;
    a->write = mode;
    if (a->write == VB_WRITE_RAM)
        return attach_ram(a, diag);
    if (a->write == VB_WRITE_PERSISTENT_OR_VOLATILE) {
        a->write = VB_WRITE_PERSISTENT;
        if (extent_mapped && may_need_new_blocks(a->chain)) {
            efi_say("vhdboot: %s: %s cannot grow the file; writes go to memory instead (volatile)\n", a->place.shown,
                    top_volume ? efi_host_volume_name(top_volume) : "the volume");
            a->write = VB_WRITE_VOLATILE;
        }
    }
    vb_source *disk = vb_chain_source(a->chain);
    if (a->write == VB_WRITE_VOLATILE) {
        st = vb_overlay_open(disk, &a->overlay);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot make the volatile overlay: %s", a->place.shown, vb_status_message(st));
        a->has_overlay = true;
        disk = &a->overlay;
    }
    const vb_vhd_info *info = vb_layer_info(vb_chain_layer(a->chain, 0));
    st = efi_vdisk_install_sized(disk, info->sector_size, info->uuid, top_volume ? top_volume->device_path : NULL,
                                 a->write == VB_WRITE_READONLY, a->trace, &a->vdisk, diag);
    if (st != VB_OK)
        return st;
    if (info->sector_size != VB_SECTOR)
        efi_say("vhdboot: installed disk of %llu MiB, %u-byte sectors (%s)\n", (unsigned long long)(disk->size >> 20),
                info->sector_size, vb_write_mode_name(a->write));
    else
        efi_say("vhdboot: installed disk of %llu MiB (%s)\n", (unsigned long long)(disk->size >> 20),
                vb_write_mode_name(a->write));
    /* tell the OS which disk this is; without it a Linux initramfs cannot
     * attach the disk, but firmware-level boots still work: warn only */
    vb_diag note = { 0 };
    if (vb_handoff_publish(a->chain, &a->opener, top_volume, a->write, disk->size, &note) != VB_OK)
        efi_say("vhdboot: warning: %s\n", note.text);
    return VB_OK;
}

/* Starts the trace the entry asks for (`trace console|file|on`): on the
 * console and/or appended to trace.log next to the loader. Returns the status. */
static vb_status start_trace(struct attempt *a, EFI_HANDLE loader_device, const char *loader_path,
                             const vb_boot_entry *entry, vb_diag *diag)
{
    if (entry->trace == VB_TRACE_OFF || entry->trace == VB_TRACE_INHERIT)
        return VB_OK;
    bool to_file = entry->trace == VB_TRACE_FILE || entry->trace == VB_TRACE_ON;
    char path[VB_PATH_MAX];
    if (to_file && !vb_loader_folder_file(loader_path, VB_TRACE_NAME, path, sizeof path))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: loader path too long for the trace file", loader_path);
    vb_status st = efi_trace_start(entry->trace != VB_TRACE_FILE, loader_device, to_file ? path : NULL, &a->trace,
                                   diag);
    if (st != VB_OK)
        return st;
    if (to_file) {
        a->trace_volume = efi_host_volume_of_handle(loader_device);
        efi_say("vhdboot: tracing the disk's requests to %s\n", path);
    }
    efi_trace_say(a->trace, "vhdboot %s: entry '%s' (%s), VHD %s, write %s", VB_VERSION, entry->id, entry->title,
                  a->place.shown, vb_write_mode_name(entry->write));
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
    vb_status st = vb_locate(loader_device, loader_path, entry, &a->place, diag);
    efi_say("vhdboot: opening %s\n", a->place.shown[0] ? a->place.shown : entry->vhd);
    if (st == VB_OK)
        st = start_trace(a, loader_device, loader_path, entry, diag);
    if (st == VB_OK)
        st = attach(a, entry, diag);
    if (st == VB_OK && a->ramdisk) {
        st = vb_chainload(image, efi_ramdisk_device_path(a->ramdisk), a->place.shown, entry->efi, a->trace, diag);
    } else if (st == VB_OK) {
        /* Windows' boot manager gets a BCD pointing at the VHD file (windows.h) */
        st = vb_windows_boot(image, entry, a->vdisk, a->chain, a->top_volume, a->place.shown, diag);
        if (st == VB_ERR_NOT_FOUND)
            st = vb_chainload(image, efi_vdisk_device_path(a->vdisk), a->place.shown, entry->efi, a->trace, diag);
    }
    /* vb_chainload returns only on failure, so there is always something to report */
    report(a, diag);
    if (a->trace)
        efi_trace_say(a->trace, "vhdboot: error: %s", diag->text[0] ? diag->text : vb_status_message(diag->status));
    if (cleanup(a))
        vb_free(a);
    vb_free(diag);
}
