/* vhdboot: the text menu (works on a serial console too). */
#ifndef VB_LOADER_MENU_H
#define VB_LOADER_MENU_H

#include <stdbool.h>
#include "config.h"

/* Lets the user pick an entry: arrow keys + Enter, or 1-9; Esc leaves.
 * With countdown, the default entry boots when cfg->timeout seconds pass
 * without a key (at once for timeout 0); without it the menu waits for a key.
 * Returns the chosen index, or -1 when the user pressed Esc. */
int vb_menu_choose(const vb_config *cfg, bool countdown);

#endif
