/* vhdboot: VHD discovery over the host volumes (see discover.h): every NTFS
 * or FAT partition of every disk, listed with vb_fs_list_dir and read
 * through extent maps (efi/efi_host_volumes.h), so NTFS works like FAT. */
#include <efi.h>
#include <efilib.h>
#include "discover.h"
#include "discover_list.h"
#include "locate.h"
#include "efi/efi_console.h"
#include "efi/efi_host_opener.h"
#include "efi/efi_host_volumes.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/uuid.h"
#include "format/vhd.h"
#include "format/vhdx.h"

#define MAX_FOUND 64u

/* Everything one discovery run collects. */
struct scan {
    vb_found_vhd *found;
    unsigned count;
};

/* What the listing callback of one folder needs. */
struct folder_ctx {
    struct scan *s;
    const vb_found_vhd *volume; /* volume naming copied into each entry */
    const char *folder;
};

/* Fills how vol is named in entries: SELF for the loader's own, else its
 * label, else its PARTUUID. Returns false when it has neither (it cannot be
 * named in an entry). */
static bool name_volume(const efi_host_volume *vol, EFI_HANDLE loader_device, vb_found_vhd *f)
{
    f->volume[0] = '\0';
    if (vol->handle == loader_device) {
        f->volume_kind = VB_VOLUME_SELF;
        return true;
    }
    if (vol->label[0] && vb_strlen(vol->label) < sizeof f->volume) {
        vb_strlcpy(f->volume, vol->label, sizeof f->volume);
        f->volume_kind = VB_VOLUME_LABEL;
        return true;
    }
    if (vol->partuuid[0]) {
        vb_strlcpy(f->volume, vol->partuuid, sizeof f->volume);
        f->volume_kind = VB_VOLUME_PARTUUID;
        return true;
    }
    return false;
}

/* Opens the VHD f->path on vol read-only (parents as a boot finds them) and
 * fills type, size, UUIDs and chain depth (or the problem). */
static void inspect(efi_host_volume *vol, vb_found_vhd *f)
{
    efi_host_opener opener;
    vb_source file = { 0 };
    vb_layer *layer = NULL;
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    efi_host_opener_init(&opener, vol, false, false);
    vb_status st = opener.opener.open(opener.opener.ctx, f->path, false, &file);
    if (st == VB_OK) {
        st = vb_layer_open(&file, f->path, 0, &layer, &diag);
        if (st != VB_OK)
            vb_source_close(&file);
    }
    if (st != VB_OK) {
        vb_strlcpy(f->problem, vb_status_message(st), sizeof f->problem);
        return;
    }
    const vb_vhd_info *info = vb_layer_info(layer);
    f->opened = true;
    f->type = (int)info->type;
    f->size = info->disk_size;
    vb_memcpy(f->uuid, info->uuid, 16);
    vb_memcpy(f->parent_uuid, info->parent_uuid, 16);
    vb_layer_close(layer);
    vb_source_close(&file);
    st = vb_chain_open(&opener.opener, f->path, 0, &chain, &diag);
    if (st == VB_OK) {
        f->depth = vb_chain_depth(chain);
        vb_chain_close(chain);
    } else {
        vb_strlcpy(f->problem, vb_status_message(st), sizeof f->problem);
    }
}

/* vb_fs_list_dir callback: records each *.vhd file of the folder (inspected
 * after the listing). Returns true (stop) when the table is full. */
static bool take_entry(void *ctx, const vb_fs_dirent *e)
{
    struct folder_ctx *c = ctx;
    if (e->is_dir || !vb_discover_is_vhd_name(e->name))
        return false;
    vb_found_vhd *f = &c->s->found[c->s->count];
    *f = *c->volume;
    bool at_root = c->folder[0] == '\\' && c->folder[1] == '\0';
    if (vb_format(f->path, sizeof f->path, "%s\\%s", at_root ? "" : c->folder, e->name) >= (int)sizeof f->path - 1)
        return false;
    c->s->count++;
    return c->s->count >= MAX_FOUND;
}

/* Adds every *.vhd in folder (volume-absolute) of vol to s. */
static void scan_folder(struct scan *s, efi_host_volume *vol, const vb_found_vhd *volume, const char *folder)
{
    struct folder_ctx c = { s, volume, folder };
    unsigned first = s->count;
    vb_diag diag = { 0 };
    if (!vol->fs || s->count >= MAX_FOUND)
        return;
    vb_status st = vb_fs_list_dir(vol->fs, folder, take_entry, &c, &diag);
    if (st != VB_OK && st != VB_ERR_NOT_FOUND && st != VB_ERR_INVALID_ARG)
        efi_say("vhdboot: discovery: %s: %s\n", efi_host_volume_name(vol), diag.text);
    for (unsigned i = first; i < s->count; i++)
        inspect(vol, &s->found[i]);
}

unsigned vb_discover(vb_config *cfg, EFI_HANDLE loader_device)
{
    static const char *const defaults[] = VB_DISCOVER_DEFAULT_PATHS;
    struct scan s = { vb_alloc(MAX_FOUND * sizeof(vb_found_vhd)), 0 };
    vb_found_vhd *volume = vb_alloc(sizeof *volume);
    if (!s.found || !volume) {
        vb_free(s.found);
        vb_free(volume);
        return 0;
    }
    /* before any virtual disk exists, so that none of its partitions is listed */
    if (efi_host_volume_count() == 0)
        efi_host_volumes_scan();
    unsigned n = cfg->discover_path_count ? cfg->discover_path_count : VB_DISCOVER_DEFAULT_PATH_COUNT;
    for (unsigned v = 0; v < efi_host_volume_count(); v++) {
        efi_host_volume *vol = efi_host_volume_at(v);
        vb_memset(volume, 0, sizeof *volume);
        if (!vol || !name_volume(vol, loader_device, volume))
            continue;
        for (unsigned i = 0; i < n; i++)
            scan_folder(&s, vol, volume, cfg->discover_path_count ? cfg->discover_paths[i] : defaults[i]);
    }
    unsigned added = vb_discover_add(cfg, s.found, s.count);
    vb_free(volume);
    vb_free(s.found);
    return added;
}

void vb_discover_show_chain(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry)
{
    char uuid[VB_UUID_TEXT_SIZE];
    vb_vhd_place place;
    vb_chain *chain = NULL;
    vb_diag diag = { 0 };
    efi_host_opener *opener = vb_alloc(sizeof *opener);
    efi_say("vhdboot info: %s\n", entry->title);
    if (!opener) {
        efi_say("vhdboot: error: out of memory\n");
        return;
    }
    if (efi_host_volume_count() == 0)
        efi_host_volumes_scan();
    vb_status st = vb_locate(loader_device, loader_path, entry, &place, &diag);
    if (st == VB_OK) {
        efi_host_opener_init(opener, place.home, false, place.anywhere);
        st = vb_chain_open(&opener->opener, place.path, 0, &chain, &diag);
        if (st != VB_OK && opener->detail.text[0] && (st == VB_ERR_FS_CORRUPT || st == VB_ERR_FS_UNSUPPORTED))
            diag = opener->detail;
    }
    if (st != VB_OK) {
        efi_say("vhdboot: error: %s\n", diag.text[0] ? diag.text : vb_status_message(st));
    } else {
        efi_host_volume *top = NULL;
        bool mapped = true;
        efi_host_opener_oldest(opener, &top, &mapped);
        efi_say("chain of %u layer(s), write mode %s%s%s\n", vb_chain_depth(chain), vb_write_mode_name(entry->write),
                top ? ", on " : "", top ? efi_host_volume_name(top) : "");
        for (unsigned i = 0; i < vb_chain_depth(chain); i++) {
            const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, i));
            if (info->format == VB_FORMAT_VHDX)
                vb_guid_format(info->uuid, uuid); /* GUID text, as Windows and vhdtool show it */
            else
                vb_uuid_text(info->uuid, VB_UUID_STORED, uuid);
            const char *type = info->type == VB_DISK_FIXED ? "fixed" : info->type == VB_DISK_DYNAMIC ? "dynamic" : "differencing";
            if (info->format == VB_FORMAT_VHDX)
                efi_say("  layer %u: %s\n    VHDX %s, %llu MiB, %u-byte sectors, DataWriteGuid %s\n", i + 1,
                        vb_chain_path(chain, i), type, (unsigned long long)(info->disk_size >> 20), info->sector_size,
                        uuid);
            else
                efi_say("  layer %u: %s\n    %s, %llu MiB, UUID %s\n", i + 1, vb_chain_path(chain, i), type,
                        (unsigned long long)(info->disk_size >> 20), uuid);
            if (info->type == VB_DISK_DIFF) {
                if (info->format == VB_FORMAT_VHDX)
                    vb_guid_format(info->parent_uuid, uuid);
                else
                    vb_uuid_text(info->parent_uuid, VB_UUID_STORED, uuid);
                efi_say("    %s %s\n", info->format == VB_FORMAT_VHDX ? "parent_linkage" : "parent UUID", uuid);
            }
        }
        vb_chain_close(chain);
    }
    vb_free(opener);
}
