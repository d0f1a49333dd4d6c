/* vhdboot: the full-screen text menu (firmware console, serial or graphics).
 *
 * Screen, top to bottom: "vhdboot menu", the entries ("> 1. Title" for the
 * highlighted one, "  2. Title" for the others, a discovered VHD's size,
 * type and chain depth after its title), a status line, the countdown line
 * "booting <title> in N s", and a help line. Lines fit the console mode's
 * columns; the list scrolls when the mode has too few rows. Each second only
 * the countdown line is rewritten (no full repaint floods a serial log).
 *
 * Keys: Up/Down, Home/End, PageUp/PageDown move; Enter boots the highlighted
 * entry; 1-9 boot that entry; e edits the entry's write mode and inner EFI
 * path for this boot only; d makes it the default (VhdbootDefault); n makes
 * it the next boot only (VhdbootNext; for lab tests); i shows its chain
 * (each layer's path, type, size, UUID); b shows or hides the differencing
 * bases found by discovery; Esc leaves to the firmware. Any key stops the
 * countdown. */
#ifndef VB_LOADER_MENU_H
#define VB_LOADER_MENU_H

#include <stdbool.h>
#include "config.h"

typedef struct vb_menu {
    vb_config *cfg;            /* `d` also updates cfg->default_index */
    unsigned selected;         /* entry highlighted first: it boots when the countdown ends */
    bool countdown;            /* count cfg->timeout seconds down (at once for 0); else wait for a key */
    bool keep_screen;          /* first drawing goes below what is on screen (an error to read) */
    char notice[160];          /* shown on the status line until the first key */
    /* prints the chain details of an entry (for `i`); may be NULL */
    void (*show_info)(void *ctx, const vb_boot_entry *entry);
    void *info_ctx;
} vb_menu;

/* Runs the menu. Returns the index of the entry to boot, with *chosen set
 * to it plus this boot's edits, or -1 when the user pressed Esc. Prints
 * "vhdboot: selected N. <title>" before returning an entry. */
int vb_menu_choose(vb_menu *menu, vb_boot_entry *chosen);

#endif
