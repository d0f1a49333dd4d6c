/* vhdboot: UEFI entry point — configuration, menu, boot, and back to the menu. */
#include <efi.h>
#include <efilib.h>
#include "boot.h"
#include "conf_file.h"
#include "config.h"
#include "menu.h"
#include "options.h"
#include "efi/console.h"
#include "efi/devpath.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

/* Fills cfg from the load options when they name a VHD, else from
 * vhdboot.conf next to the loader. Returns the status, diag on failure. */
static vb_status load_config(EFI_LOADED_IMAGE *loaded, const char *loader_path, vb_config *cfg, vb_diag *diag)
{
    char spec[VB_CONFIG_PATH_MAX];
    if (loaded->LoadOptions && loaded->LoadOptionsSize >= sizeof(CHAR16) &&
        vb_options_vhd_path(loaded->LoadOptions, loaded->LoadOptionsSize / sizeof(CHAR16), spec, sizeof spec))
        return vb_config_single(spec, cfg, diag);
    return vb_conf_file_load(loaded->DeviceHandle, loader_path, cfg, diag);
}

/* gnu-efi's crt0 calls efi_main with the System V convention: no EFIAPI here. */
/* Gives the user up to `seconds` to read an error before returning to the
 * firmware (which may clear the screen); any key ends the wait. */
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

    bool countdown = true;
    for (;;) {
        int choice = vb_menu_choose(cfg, countdown);
        if (choice < 0)
            break;
        vb_boot(image, loaded->DeviceHandle, loader_path, &cfg->entries[choice]);
        efi_say("vhdboot: returning to menu\n");
        countdown = false; /* after a failure, wait for the user */
    }
    vb_free(cfg);
    return EFI_ABORTED;
}
