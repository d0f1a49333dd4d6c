/* vhdboot: menu drawing and key handling (see menu.h). */
#include <efi.h>
#include <efilib.h>
#include "menu.h"
#include "vars.h"
#include "efi/efi_console.h"
#include "format/bytes.h"
#include "format/diag.h"

#define LINE_MAX 256u
#define STATUS_MAX 160u

/* What the menu shows right now. */
struct view {
    vb_menu *m;
    unsigned visible[VB_CONFIG_MAX_ENTRIES];  /* entry indices in display order */
    unsigned count;                           /* how many are visible */
    unsigned cur;                             /* highlighted position in visible[] */
    unsigned top;                             /* first position on screen */
    bool show_bases;
    UINTN cols, rows;
    UINTN countdown_row;
    char status[STATUS_MAX];
};

/* Reads the console mode's size (80x25 when the firmware does not say). */
static void query_size(struct view *v)
{
    UINTN cols = 0, rows = 0;
    SIMPLE_TEXT_OUTPUT_INTERFACE *out = ST->ConOut;
    if (out->Mode && out->QueryMode(out, (UINTN)out->Mode->Mode, &cols, &rows) == EFI_SUCCESS && cols >= 20 &&
        rows >= 5) {
        v->cols = cols;
        v->rows = rows;
    } else {
        v->cols = 80;
        v->rows = 25;
    }
}

/* Copies text into out cut to at most width characters (UTF-8 aware) and,
 * when pad, filled with spaces up to width. */
static void fit(const char *text, UINTN width, bool pad, char *out)
{
    UINTN chars = 0, n = 0;
    for (const char *p = text; *p && n + 4 < LINE_MAX; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80) {
            if (chars == width)
                break;
            chars++;
        }
        out[n++] = *p;
    }
    while (pad && chars < width && n + 1 < LINE_MAX) {
        out[n++] = ' ';
        chars++;
    }
    out[n] = '\0';
}

/* Prints one screen line (cut to the console width), followed by a newline unless last. */
static void put_line(const struct view *v, const char *text, bool last)
{
    char line[LINE_MAX];
    fit(text, v->cols - 1, false, line);
    efi_say(last ? "%s" : "%s\n", line);
}

/* Rebuilds the list of visible entries: all but the bases unless shown, and
 * always the entry given. Keeps that entry highlighted. */
static void build_visible(struct view *v, unsigned keep)
{
    const vb_config *cfg = v->m->cfg;
    v->count = 0;
    v->cur = 0;
    for (unsigned i = 0; i < cfg->count; i++) {
        if (cfg->entries[i].base && !v->show_bases && i != keep)
            continue;
        if (i == keep)
            v->cur = v->count;
        v->visible[v->count++] = i;
    }
}

/* The entry under the highlight. */
static vb_boot_entry *current(const struct view *v)
{
    return &v->m->cfg->entries[v->visible[v->cur]];
}

/* How many entry lines fit on the screen. */
static unsigned list_capacity(const struct view *v)
{
    return v->rows > 9 ? (unsigned)(v->rows - 8) : 1;
}

/* Writes the countdown line text ("" when not ticking) at its row. */
static void draw_countdown(const struct view *v, bool ticking, unsigned left)
{
    char text[LINE_MAX], line[LINE_MAX];
    text[0] = '\0';
    if (ticking)
        vb_format(text, sizeof text, "booting %s in %u s", current(v)->title, left);
    fit(text, v->cols - 1, true, line);
    ST->ConOut->SetCursorPosition(ST->ConOut, 0, v->countdown_row);
    efi_say("%s", line);
}

/* Draws the whole menu; clear wipes the screen first (else it goes below). */
static void draw(struct view *v, bool clear, bool ticking, unsigned left)
{
    char text[LINE_MAX];
    query_size(v);
    unsigned cap = list_capacity(v);
    if (v->cur < v->top)
        v->top = v->cur;
    if (v->cur >= v->top + cap)
        v->top = v->cur - cap + 1;
    if (clear)
        ST->ConOut->ClearScreen(ST->ConOut);
    else
        efi_say("\n");
    put_line(v, "vhdboot menu", false);
    vb_memset(text, '-', v->cols - 1 < LINE_MAX - 1 ? v->cols - 1 : LINE_MAX - 1);
    text[v->cols - 1 < LINE_MAX - 1 ? v->cols - 1 : LINE_MAX - 1] = '\0';
    put_line(v, text, false);
    for (unsigned pos = v->top; pos < v->count && pos < v->top + cap; pos++) {
        const vb_boot_entry *e = &v->m->cfg->entries[v->visible[pos]];
        if (e->detail[0])
            vb_format(text, sizeof text, "%s%u. %s  (%s)", pos == v->cur ? "> " : "  ", pos + 1, e->title, e->detail);
        else
            vb_format(text, sizeof text, "%s%u. %s", pos == v->cur ? "> " : "  ", pos + 1, e->title);
        put_line(v, text, false);
    }
    put_line(v, "", false);
    put_line(v, v->status, false);
    v->countdown_row = (UINTN)ST->ConOut->Mode->CursorRow;
    if (ticking)
        vb_format(text, sizeof text, "booting %s in %u s", current(v)->title, left);
    else
        text[0] = '\0';
    put_line(v, text, false);
    put_line(v, "Enter/1-9 boot, Up/Down/Home/End move, e edit, d default, i info, b bases, Esc firmware", true);
}

/* Waits for a key, or for the timer when ticking; returns true with *key
 * set when a key arrived, false when the timer fired. */
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

/* Waits for any key (no timer). */
static void wait_any_key(EFI_INPUT_KEY *key)
{
    wait_key(NULL, false, key);
}

/* Lets the user type a new inner EFI path for entry; Enter keeps it, Esc
 * drops it. An empty path means the defaults. */
static void edit_efi_path(vb_boot_entry *entry)
{
    char text[VB_CONFIG_PATH_MAX];
    size_t len = vb_strlcpy(text, entry->efi, sizeof text);
    EFI_INPUT_KEY key;
    for (;;) {
        efi_say("\r  new efi path: %s_ ", text);
        wait_any_key(&key);
        if (key.ScanCode == SCAN_ESC)
            return;
        if (key.UnicodeChar == CHAR_CARRIAGE_RETURN || key.UnicodeChar == CHAR_LINEFEED)
            break;
        if (key.UnicodeChar == CHAR_BACKSPACE) {
            if (len) {
                text[--len] = '\0';
                efi_say("\r  new efi path: %s   \b\b\b", text); /* wipe the removed character */
            }
        } else if (key.UnicodeChar >= 0x20 && key.UnicodeChar < 0x7f && len + 2 < sizeof text) {
            text[len++] = key.UnicodeChar == '/' ? '\\' : (char)key.UnicodeChar;
            text[len] = '\0';
        }
    }
    if (len && text[0] != '\\') {
        entry->efi[0] = '\\';
        vb_strlcpy(entry->efi + 1, text, sizeof entry->efi - 1);
    } else {
        vb_strlcpy(entry->efi, text, sizeof entry->efi);
    }
}

/* The edit screen: changes entry (a copy) for this boot only. Returns true
 * when the user wants to boot it (Enter), false to go back (Esc). */
static bool edit(struct view *v, vb_boot_entry *entry)
{
    static const enum vb_write_mode modes[] = { VB_WRITE_PERSISTENT, VB_WRITE_VOLATILE, VB_WRITE_READONLY,
                                                VB_WRITE_RAM };
    const unsigned mode_count = sizeof modes / sizeof modes[0];
    static const enum vb_trace_mode traces[] = { VB_TRACE_OFF, VB_TRACE_CONSOLE, VB_TRACE_FILE, VB_TRACE_ON };
    EFI_INPUT_KEY key;
    char text[LINE_MAX];
    entry->trace = vb_config_trace(v->m->cfg, entry);
    for (;;) {
        ST->ConOut->ClearScreen(ST->ConOut);
        efi_say("\n");
        vb_format(text, sizeof text, "vhdboot edit: %s (this boot only)", entry->title);
        put_line(v, text, false);
        put_line(v, "", false);
        vb_format(text, sizeof text, "  write mode: %s", vb_write_mode_name(entry->write));
        put_line(v, text, false);
        vb_format(text, sizeof text, "  efi path:   %s", entry->efi[0] ? entry->efi : "(default: \\EFI\\BOOT\\BOOTX64.EFI, then Windows)");
        put_line(v, text, false);
        vb_format(text, sizeof text, "  trace:      %s (the disk's requests: off, console, file trace.log, on = both)",
                  vb_trace_mode_name(entry->trace));
        put_line(v, text, false);
        put_line(v, "", false);
        put_line(v, "w next write mode, f type the efi path, t next trace mode, Enter boot, Esc back", false);
        wait_any_key(&key);
        if (key.ScanCode == SCAN_ESC)
            return false;
        if (key.UnicodeChar == CHAR_CARRIAGE_RETURN || key.UnicodeChar == CHAR_LINEFEED)
            return true;
        if (key.UnicodeChar == L'w' || key.UnicodeChar == L'W') {
            unsigned i = 0;
            while (i < mode_count && modes[i] != entry->write)
                i++;
            entry->write = modes[i + 1 >= mode_count ? 0 : i + 1];
        } else if (key.UnicodeChar == L'f' || key.UnicodeChar == L'F') {
            edit_efi_path(entry);
        } else if (key.UnicodeChar == L't' || key.UnicodeChar == L'T') {
            unsigned i = 0;
            while (i < 4 && traces[i] != entry->trace)
                i++;
            entry->trace = traces[i >= 3 ? 0 : i + 1];
        }
    }
}

/* Stores the highlighted entry's id in variable name and says so on the status line. */
static void store_choice(struct view *v, const CHAR16 *name, const char *what)
{
    const vb_boot_entry *e = current(v);
    if (vb_var_set_id(name, e->id) == VB_OK)
        vb_format(v->status, sizeof v->status, "%s is now '%s' (id %s)", what, e->title, e->id);
    else
        vb_format(v->status, sizeof v->status, "cannot store the %s: the firmware refused the variable", what);
}

/* Moves the highlight to position pos (clamped). */
static void move_to(struct view *v, long pos)
{
    if (pos < 0)
        pos = 0;
    if (pos >= (long)v->count)
        pos = (long)v->count - 1;
    v->cur = (unsigned)pos;
}

int vb_menu_choose(vb_menu *m, vb_boot_entry *chosen)
{
    struct view v;
    EFI_EVENT timer = NULL;
    EFI_INPUT_KEY key;
    vb_memset(&v, 0, sizeof v);
    v.m = m;
    query_size(&v);
    unsigned start = m->selected < m->cfg->count ? m->selected : 0;
    build_visible(&v, start);
    vb_strlcpy(v.status, m->notice, sizeof v.status);
    unsigned left = m->cfg->timeout;
    int result = -2;

    if (m->countdown && left == 0) {
        result = (int)start;
        *chosen = m->cfg->entries[start];
    }
    bool ticking = result == -2 && m->countdown &&
                   BS->CreateEvent(EVT_TIMER, 0, NULL, NULL, &timer) == EFI_SUCCESS &&
                   BS->SetTimer(timer, TimerPeriodic, 10000000) == EFI_SUCCESS; /* 1 s in 100 ns */
    if (result == -2)
        draw(&v, !m->keep_screen, ticking, left);

    while (result == -2) {
        if (!wait_key(timer, ticking, &key)) {
            if (!ticking)
                continue;
            left--;
            draw_countdown(&v, true, left);
            if (left == 0) {
                result = (int)v.visible[v.cur];
                *chosen = *current(&v);
            }
            continue;
        }
        bool redraw = true;
        if (ticking) { /* any key stops the countdown */
            ticking = false;
            BS->SetTimer(timer, TimerCancel, 0);
        }
        v.status[0] = '\0';
        CHAR16 c = key.UnicodeChar;
        if (key.ScanCode == SCAN_ESC) {
            result = -1;
        } else if (key.ScanCode == SCAN_UP) {
            v.cur = v.cur == 0 ? v.count - 1 : v.cur - 1;
        } else if (key.ScanCode == SCAN_DOWN) {
            v.cur = v.cur + 1 == v.count ? 0 : v.cur + 1;
        } else if (key.ScanCode == SCAN_HOME) {
            v.cur = 0;
        } else if (key.ScanCode == SCAN_END) {
            v.cur = v.count - 1;
        } else if (key.ScanCode == SCAN_PAGE_UP) {
            move_to(&v, (long)v.cur - (long)list_capacity(&v));
        } else if (key.ScanCode == SCAN_PAGE_DOWN) {
            move_to(&v, (long)v.cur + (long)list_capacity(&v));
        } else if (c == CHAR_CARRIAGE_RETURN || c == CHAR_LINEFEED) {
            result = (int)v.visible[v.cur];
            *chosen = *current(&v);
        } else if (c >= L'1' && c <= L'9' && (unsigned)(c - L'1') < v.count) {
            v.cur = (unsigned)(c - L'1');
            result = (int)v.visible[v.cur];
            *chosen = *current(&v);
        } else if (c == L'e' || c == L'E') {
            *chosen = *current(&v);
            if (edit(&v, chosen))
                result = (int)v.visible[v.cur];
        } else if (c == L'd' || c == L'D') {
            store_choice(&v, VB_VAR_DEFAULT, "the default entry");
            m->cfg->default_index = v.visible[v.cur];
        } else if (c == L'n' || c == L'N') {
            store_choice(&v, VB_VAR_NEXT, "the next boot (once)");
        } else if ((c == L'i' || c == L'I') && m->show_info) {
            ST->ConOut->ClearScreen(ST->ConOut);
            efi_say("\n");
            m->show_info(m->info_ctx, current(&v));
            efi_say("\npress a key to return to the menu");
            wait_any_key(&key);
        } else if (c == L'b' || c == L'B') {
            v.show_bases = !v.show_bases;
            build_visible(&v, v.visible[v.cur]);
            vb_strlcpy(v.status, v.show_bases ? "showing differencing bases" : "hiding differencing bases",
                       sizeof v.status);
        } else {
            redraw = false;
            draw_countdown(&v, false, 0);
        }
        if (redraw && result == -2)
            draw(&v, true, false, 0);
    }
    if (timer)
        BS->CloseEvent(timer);
    if (result >= 0) {
        unsigned shown = 0;
        for (unsigned pos = 0; pos < v.count; pos++)
            if (v.visible[pos] == (unsigned)result)
                shown = pos;
        if (!(m->countdown && m->cfg->timeout == 0))
            ST->ConOut->ClearScreen(ST->ConOut);
        efi_say("\nvhdboot: selected %u. %s\n", shown + 1, chosen->title);
    }
    return result;
}
