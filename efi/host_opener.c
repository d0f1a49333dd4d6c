/* vhdboot: the chain opener over host volumes (see host_opener.h).
 *
 * Every file it opens is wrapped so that the opener knows, while the file is
 * open, which volume it came from (parents are looked for on their child's
 * volume first) and so that a write an extent map cannot take is reported
 * on the console instead of vanishing into a BlockIO status. */
#include <efi.h>
#include <efilib.h>
#include "host_opener.h"
#include "console.h"
#include "file_source.h"
#include "text.h"
#include "volume.h"
#include "format/bytes.h"
#include "format/platform.h"

struct efi_host_open_file {
    vb_source inner;            /* extent-mapped file, or the firmware's file */
    vb_source *outer;           /* the source handed to the core (size kept in step) */
    efi_host_opener *opener;
    efi_host_volume *volume;
    unsigned long age;
    bool extent_mapped;
    char path[VB_PATH_MAX];
};

/* Set once the "cannot grow" line has been printed: at most once per boot. */
static bool told_cannot_grow;

/* Reads through the wrapped file. */
static vb_status wrapped_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct efi_host_open_file *f = ctx;
    return f->inner.read(f->inner.ctx, offset, buf, len);
}

/* Writes through the wrapped file; says so on the console (once) when an
 * extent-mapped file would have to grow, and returns the status. */
static vb_status wrapped_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct efi_host_open_file *f = ctx;
    vb_status st = f->inner.write(f->inner.ctx, offset, buf, len);
    if (st == VB_ERR_NO_SPACE && f->extent_mapped && !told_cannot_grow) {
        told_cannot_grow = true;
        if (f->volume->label[0])
            efi_say("vhdboot: error: %s:%s: write needs a new block but %s cannot grow the file\n",
                    f->volume->label, f->path, efi_host_volume_name(f->volume));
        else
            efi_say("vhdboot: error: %s: write needs a new block but %s cannot grow the file\n", f->path,
                    efi_host_volume_name(f->volume));
    }
    f->outer->size = f->inner.size;
    return st;
}

static vb_status wrapped_flush(void *ctx)
{
    struct efi_host_open_file *f = ctx;
    return vb_source_flush(&f->inner);
}

/* Closes the wrapped file and forgets it in the opener. */
static void wrapped_close(void *ctx)
{
    struct efi_host_open_file *f = ctx;
    for (unsigned i = 0; i < EFI_HOST_OPENER_MAX_FILES; i++)
        if (f->opener->files[i] == f)
            f->opener->files[i] = NULL;
    vb_source_close(&f->inner);
    vb_free(f);
}

/* Opens path on vol into f->inner: through the firmware's file driver when
 * the file must be able to grow and the firmware can do it, else through
 * the extent map. Returns the status (VB_ERR_NOT_FOUND when absent). */
static vb_status open_on(efi_host_opener *o, efi_host_volume *vol, const char *path, bool writable,
                         struct efi_host_open_file *f)
{
    if (writable && o->grow_through_firmware && vol->can_grow_files) {
        CHAR16 wide[VB_PATH_MAX];
        EFI_FILE_HANDLE root;
        if (efi_utf8_to_char16(path, wide, VB_PATH_MAX) != VB_OK)
            return VB_ERR_NOT_FOUND;
        vb_status st = efi_volume_open_root(vol->handle, &root, &o->detail);
        if (st != VB_OK)
            return st;
        /* the file handle stays valid after its root is closed */
        st = efi_file_source_open(root, wide, true, &f->inner);
        root->Close(root);
        f->extent_mapped = false;
        return st;
    }
    f->extent_mapped = true;
    return efi_host_volume_open_file(vol, path, writable, &f->inner, &o->detail);
}

/* The volume of the newest still-open file (the child whose parent is
 * being looked for: the chain keeps every layer open), or NULL when the top
 * file is being opened. */
static efi_host_volume *child_volume(const efi_host_opener *o)
{
    const struct efi_host_open_file *newest = NULL;
    for (unsigned i = 0; i < EFI_HOST_OPENER_MAX_FILES; i++)
        if (o->files[i] && (!newest || o->files[i]->age > newest->age))
            newest = o->files[i];
    return newest ? newest->volume : NULL;
}

/* vb_opener.open: tries the first volume, then (when allowed) the others. */
static vb_status opener_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    efi_host_opener *o = ctx;
    unsigned slot = 0;
    while (slot < EFI_HOST_OPENER_MAX_FILES && o->files[slot])
        slot++;
    if (slot == EFI_HOST_OPENER_MAX_FILES)
        return VB_ERR_NO_MEMORY;
    struct efi_host_open_file *f = vb_alloc(sizeof *f);
    if (!f)
        return VB_ERR_NO_MEMORY;
    efi_host_volume *child = child_volume(o);
    efi_host_volume *first = child ? child : o->home;
    bool others = child || o->top_anywhere || !o->home;
    vb_status result = VB_ERR_NOT_FOUND;
    o->detail.status = VB_OK;
    o->detail.text[0] = '\0';
    for (unsigned i = 0; i <= efi_host_volume_count(); i++) {
        /* pass 0 is the first volume; then every volume in order, skipping it */
        efi_host_volume *vol = i == 0 ? first : efi_host_volume_at(i - 1);
        if (!vol || (i > 0 && (vol == first || !others)))
            continue;
        vb_diag saved = o->detail;
        vb_status st = open_on(o, vol, path, writable, f);
        if (st == VB_OK) {
            f->volume = vol;
            break;
        }
        if (st == VB_ERR_NOT_FOUND)
            o->detail = saved; /* keep the most telling refusal */
        else if (result == VB_ERR_NOT_FOUND)
            result = st;
    }
    if (!f->volume) {
        vb_free(f);
        return result;
    }
    f->outer = out;
    f->opener = o;
    f->age = ++o->sequence;
    vb_strlcpy(f->path, path, sizeof f->path);
    o->files[slot] = f;
    *out = (vb_source){
        .size = f->inner.size,
        .ctx = f,
        .read = wrapped_read,
        .write = f->inner.write ? wrapped_write : NULL,
        .flush = f->inner.flush ? wrapped_flush : NULL,
        .close = wrapped_close,
    };
    return VB_OK;
}

void efi_host_opener_init(efi_host_opener *o, efi_host_volume *home, bool grow_through_firmware, bool top_anywhere)
{
    vb_memset(o, 0, sizeof *o);
    o->opener.ctx = o;
    o->opener.open = opener_open;
    o->home = home;
    o->grow_through_firmware = grow_through_firmware;
    o->top_anywhere = top_anywhere;
}

bool efi_host_opener_oldest(const efi_host_opener *o, efi_host_volume **volume, bool *extent_mapped)
{
    const struct efi_host_open_file *oldest = NULL;
    for (unsigned i = 0; i < EFI_HOST_OPENER_MAX_FILES; i++)
        if (o->files[i] && (!oldest || o->files[i]->age < oldest->age))
            oldest = o->files[i];
    if (!oldest)
        return false;
    *volume = oldest->volume;
    *extent_mapped = oldest->extent_mapped;
    return true;
}

efi_host_volume *efi_host_opener_volume_at(const efi_host_opener *o, unsigned index)
{
    for (unsigned i = 0; i < EFI_HOST_OPENER_MAX_FILES; i++) {
        if (!o->files[i])
            continue;
        unsigned older = 0; /* how many open files are older than this one */
        for (unsigned j = 0; j < EFI_HOST_OPENER_MAX_FILES; j++)
            if (o->files[j] && o->files[j]->age < o->files[i]->age)
                older++;
        if (older == index)
            return o->files[i]->volume;
    }
    return NULL;
}
