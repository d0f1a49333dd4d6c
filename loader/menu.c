/* vhdboot: menu drawing and key handling (see menu.h). */
#include <efi.h>
#include <efilib.h>
#include "menu.h"
#include "efi/console.h"

/* Prints the whole menu with the highlighted entry marked "> ". */
static void draw(const vb_config *cfg, unsigned selected)
{
    efi_say("\nvhdboot menu\n");
    for (unsigned i = 0; i < cfg->count; i++)
        efi_say("%s%u. %s\n", i == selected ? "> " : "  ", i + 1, cfg->entries[i].title);
    efi_say("(Up/Down and Enter, or 1-%u; Esc leaves)\n", cfg->count < 9 ? cfg->count : 9);
}

/* Waits for a key, or for one second when ticking; returns true with *key
 * set when a key arrived. */
static bool wait_key(EFI_EVENT timer, bool ticking, EFI_INPUT_KEY *key)
{
    EFI_EVENT events[2] = { ST->ConIn->WaitForKey, timer };
    UINTN index = 0;
    for (;;) {
        if (ST->ConIn->ReadKeyStroke(ST->ConIn, key) == EFI_SUCCESS)
            return true;
        if (BS->WaitForEvent(ticking ? 2 : 1, events, &index) != EFI_SUCCESS)
            return false;
        if (ticking && index == 1)
            return false;
    }
}

int vb_menu_choose(const vb_config *cfg, bool countdown)
{
    unsigned selected = cfg->default_index < cfg->count ? cfg->default_index : 0;
    unsigned left = cfg->timeout;
    EFI_EVENT timer = NULL;
    EFI_INPUT_KEY key;

    if (countdown && left == 0)
        return (int)selected;
    bool ticking = countdown &&
                   BS->CreateEvent(EVT_TIMER, 0, NULL, NULL, &timer) == EFI_SUCCESS &&
                   BS->SetTimer(timer, TimerPeriodic, 10000000) == EFI_SUCCESS; /* 1 s in 100 ns */
    draw(cfg, selected);
    if (ticking)
        efi_say("booting %s in %u s ", cfg->entries[selected].title, left);

    int result = -2;
    while (result == -2) {
        if (!wait_key(timer, ticking, &key)) {
            if (!ticking)
                continue;
            left--;
            efi_say("\rbooting %s in %u s ", cfg->entries[selected].title, left);
            if (left == 0) {
                efi_say("\n");
                result = (int)selected;
            }
            continue;
        }
        if (ticking) {
            /* any key stops the countdown */
            ticking = false;
            BS->SetTimer(timer, TimerCancel, 0);
            efi_say("\n");
        }
        if (key.ScanCode == SCAN_ESC) {
            result = -1;
        } else if (key.ScanCode == SCAN_UP || key.ScanCode == SCAN_DOWN) {
            if (key.ScanCode == SCAN_UP)
                selected = selected == 0 ? cfg->count - 1 : selected - 1;
            else
                selected = selected + 1 == cfg->count ? 0 : selected + 1;
            draw(cfg, selected);
        } else if (key.UnicodeChar == CHAR_CARRIAGE_RETURN || key.UnicodeChar == CHAR_LINEFEED) {
            result = (int)selected;
        } else if (key.UnicodeChar >= L'1' && key.UnicodeChar <= L'9' &&
                   (unsigned)(key.UnicodeChar - L'1') < cfg->count) {
            result = (int)(key.UnicodeChar - L'1');
        }
    }
    if (timer)
        BS->CloseEvent(timer);
    if (result >= 0)
        efi_say("vhdboot: selected %u. %s\n", (unsigned)result + 1, cfg->entries[result].title);
    return result;
}
