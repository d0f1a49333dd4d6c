/* vhdboot: UEFI entry point — configuration, menu, boot, and back to the menu. */
#include <efi.h>
#include <efilib.h>
#include "bli.h"
#include "boot.h"
#include "conf_file.h"
#include "config.h"
#include "discover.h"
#include "menu.h"
#include "options.h"
#include "vars.h"
#include "efi/efi_console.h"
#include "efi/efi_devpath.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

/* Fills cfg from the load options when they name a VHD, else from
 * vhdboot.conf next to the loader; without that file, discovery alone fills
 * the menu. With discovery on, adds the VHDs found. Returns the status,
 * diag on failure. */
static vb_status load_config(EFI_LOADED_IMAGE *loaded, const char *loader_path, vb_config *cfg, vb_diag *diag)
{
    char spec[VB_CONFIG_PATH_MAX];
    if (loaded->LoadOptions && loaded->LoadOptionsSize >= sizeof(CHAR16) &&
        vb_options_vhd_path(loaded->LoadOptions, loaded->LoadOptionsSize / sizeof(CHAR16), spec, sizeof spec))
        return vb_config_single(spec, cfg, diag);
    vb_status st = vb_conf_file_load(loaded->DeviceHandle, loader_path, cfg, diag);
    if (st == VB_ERR_NOT_FOUND) {
        efi_say("vhdboot: no %s next to the loader: discovering VHDs\n", VB_CONF_NAME);
        vb_memset(cfg, 0, sizeof *cfg);
        cfg->timeout = VB_CONFIG_DEFAULT_TIMEOUT;
        cfg->discover = true;
        st = VB_OK;
    }
    if (st != VB_OK || !cfg->discover)
        return st;
    unsigned found = vb_discover(cfg, loaded->DeviceHandle);
    efi_say("vhdboot: discovery found %u VHD(s)\n", found);
    if (cfg->count == 0)
        return vb_fail(diag, VB_ERR_NOT_FOUND, "no boot entries: no vhdboot.conf entries and no *.vhd found");
    if (cfg->default_id[0]) {
        int i = vb_config_find(cfg, cfg->default_id);
        if (i < 0)
            efi_say("vhdboot: default names an unknown entry '%s' (ignored)\n", cfg->default_id);
        cfg->default_index = i < 0 ? 0 : (unsigned)i;
    }
    return VB_OK;
}

/* A variable that can name the entry highlighted first. */
struct entry_var {
    EFI_GUID *guid;
    const CHAR16 *name;
    const char *text;
    bool one_shot; /* deleted as soon as it is read */
};

/* Picks the entry highlighted first, in this order: the one-shots
 * VhdbootNext and LoaderEntryOneShot (both deleted as they are read, so
 * neither outlives this boot), then the defaults VhdbootDefault and
 * LoaderEntryDefault, else the configuration's default. An id that names no
 * entry is reported (also in notice) and ignored. */
static unsigned initial_entry(vb_config *cfg, char *notice, size_t cap)
{
    const struct entry_var vars[] = {
        { &vb_vendor_guid, VB_VAR_NEXT, "VhdbootNext", true },
        { &vb_bli_guid, L"LoaderEntryOneShot", "LoaderEntryOneShot", true },
        { &vb_vendor_guid, VB_VAR_DEFAULT, "VhdbootDefault", false },
        { &vb_bli_guid, L"LoaderEntryDefault", "LoaderEntryDefault", false },
    };
    char ids[4][VB_CONFIG_ID_MAX];
    vb_status got[4];
    for (unsigned k = 0; k < 4; k++) {
        got[k] = vb_var_get_id_of(vars[k].guid, vars[k].name, ids[k], sizeof ids[k]);
        if (vars[k].one_shot && got[k] != VB_ERR_NOT_FOUND && vb_var_delete_of(vars[k].guid, vars[k].name) != VB_OK)
            efi_say("vhdboot: error: cannot delete the one-shot variable %s\n", vars[k].text);
    }
    for (unsigned k = 0; k < 4; k++) {
        if (got[k] == VB_ERR_NOT_FOUND)
            continue;
        int i = got[k] == VB_OK ? vb_config_find(cfg, ids[k]) : -1;
        if (i >= 0) {
            efi_say("vhdboot: %s selects entry '%s'\n", vars[k].text, ids[k]);
            return (unsigned)i;
        }
        if (got[k] == VB_OK)
            vb_format(notice, (int)cap, "%s names an unknown entry '%s' (ignored)", vars[k].text, ids[k]);
        else
            vb_format(notice, (int)cap, "%s holds no valid entry id (ignored)", vars[k].text);
        efi_say("vhdboot: %s\n", notice);
    }
    return cfg->default_index;
}

/* Context of the menu's `i` key. */
struct info_ctx {
    EFI_HANDLE device;
    const char *loader_path;
};

/* Shows an entry's chain (the menu's `i` key). */
static void show_info(void *ctx, const vb_boot_entry *entry)
{
    struct info_ctx *c = ctx;
    vb_discover_show_chain(c->device, c->loader_path, entry);
}

/* Used when the configuration cannot be loaded: gives the user up to
 * `seconds` to read the error before efi_main returns to the firmware (which
 * may clear the screen or boot the next option); any key ends the wait. */
static void pause_for_error(unsigned seconds)
{
    EFI_EVENT timer = NULL;
    EFI_INPUT_KEY key;
    UINTN index;
    efi_say("vhdboot: returning to the firmware in %u s (press a key to return now)\n", seconds);
    if (BS->CreateEvent(EVT_TIMER, 0, NULL, NULL, &timer) != EFI_SUCCESS)
        return;
    if (BS->SetTimer(timer, TimerRelative, (UINT64)seconds * 10000000) == EFI_SUCCESS) {
        EFI_EVENT events[2] = { ST->ConIn->WaitForKey, timer };
        BS->WaitForEvent(2, events, &index);
        ST->ConIn->ReadKeyStroke(ST->ConIn, &key);
    }
    BS->CloseEvent(timer);
}

/* The loader's entry point: configuration, menu, boot, back to the menu;
 * returns to the firmware when the user leaves the menu (Esc) or the
 * configuration is unusable. gnu-efi's crt0 calls it with the System V
 * convention: no EFIAPI here. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *loaded = NULL;
    char loader_path[VB_PATH_MAX];
    vb_diag diag = { 0 };

    InitializeLib(image, systab);
    efi_say("vhdboot %s\n", VB_VERSION);
    /* the menu may wait for a key indefinitely: no watchdog reset */
    BS->SetWatchdogTimer(0, 0, 0, NULL);

    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS || !loaded) {
        efi_say("vhdboot: error: cannot find the loader's own image\n");
        return EFI_LOAD_ERROR;
    }
    vb_bli_start(loaded->DeviceHandle, "vhdboot " VB_VERSION);
    /* started from memory or an unusual path: treat the volume root as its folder */
    if (!loaded->FilePath || !efi_devpath_file_path(loaded->FilePath, loader_path, sizeof loader_path))
        vb_strlcpy(loader_path, "\\", sizeof loader_path);
    vb_config *cfg = vb_alloc(sizeof *cfg);
    if (!cfg) {
        efi_say("vhdboot: error: out of memory\n");
        return EFI_OUT_OF_RESOURCES;
    }
    if (load_config(loaded, loader_path, cfg, &diag) != VB_OK) {
        efi_say("vhdboot: error: %s\n", diag.text);
        pause_for_error(5);
        vb_free(cfg);
        return EFI_LOAD_ERROR;
    }

    vb_bli_entries(cfg);
    struct info_ctx info = { loaded->DeviceHandle, loader_path };
    vb_menu menu = { .cfg = cfg, .countdown = true, .show_info = show_info, .info_ctx = &info };
    menu.selected = initial_entry(cfg, menu.notice, sizeof menu.notice);
    vb_boot_entry *chosen = vb_alloc(sizeof *chosen);
    while (chosen) {
        int choice = vb_menu_choose(&menu, chosen);
        if (choice < 0)
            break;
        vb_bli_selected(chosen->id);
        chosen->trace = vb_config_trace(cfg, chosen);
        vb_boot(image, loaded->DeviceHandle, loader_path, chosen);
        efi_say("vhdboot: returning to menu\n");
        /* after a failure, wait for the user, below the error message */
        menu.countdown = false;
        menu.keep_screen = true;
        vb_format(menu.notice, sizeof menu.notice, "booting '%s' failed: the reason is above", chosen->title);
    }
    vb_free(chosen);
    vb_free(cfg);
    return EFI_ABORTED;
}
