/* vhdboot: opening a VHD file and its whole parent chain.
 *
 * The top file is opened through the platform opener (writable on request),
 * then, while the current layer is differencing, its parent candidates are
 * tried in order (vb_parent_candidates). A candidate is accepted only when its
 * footer UUID is the child's parent UUID (VHDX: its DataWriteGuid is the
 * child's parent_linkage or parent_linkage2); its size and sector size must
 * equal the child's, and its format (VHD or VHDX) too.
 * A UUID seen twice is a cycle; more than VB_MAX_CHAIN_DEPTH layers is refused.
 * Layer i reads its absent sectors from layer i+1. */
#include "vhd.h"
#include "vhdx.h"
#include "bytes.h"
#include "platform.h"
#include "uuid.h"

#define MAX_CANDIDATES (8u + 1u) /* every locator + the header name */

struct chain_layer {
    vb_source file;         /* the file under the layer; stays at this address */
    vb_layer *layer;
    char path[VB_PATH_MAX];
};

struct vb_chain {
    unsigned depth;
    struct chain_layer layers[VB_MAX_CHAIN_DEPTH];
};

/* Scratch state of one parent search, kept off the stack (firmware stacks are small). */
struct parent_search {
    char candidates[MAX_CANDIDATES][VB_PATH_MAX];
    char tried[VB_DIAG_TEXT_MAX];
    size_t tried_len;
    vb_diag rejection;      /* the most telling refusal of a found file, if any */
    bool rejected;
};

/* Closes the first n layers (children first), then their file sources. */
static void close_layers(vb_chain *chain, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (chain->layers[i].layer) {
            vb_layer_close(chain->layers[i].layer);
            chain->layers[i].layer = NULL;
        }
    for (unsigned i = 0; i < n; i++)
        vb_source_close(&chain->layers[i].file);
}

/* Appends text to the "tried" list, separated by ", ", truncating quietly. */
static void note_tried(struct parent_search *s, const char *path, const char *why)
{
    char item[VB_DIAG_TEXT_MAX];
    int n = why ? vb_format(item, sizeof(item), "%s%s: %s", s->tried_len ? ", " : "", path, why)
                : vb_format(item, sizeof(item), "%s%s", s->tried_len ? ", " : "", path);
    if (s->tried_len + (size_t)n < sizeof(s->tried)) {
        vb_memcpy(s->tried + s->tried_len, item, (size_t)n + 1);
        s->tried_len += (size_t)n;
    }
}

/* The path the child declares for its parent, for messages: the first decoded
 * locator in candidate order, else the header name. */
static const char *declared_parent(const vb_layer *layer)
{
    static const char *const order[] = { "W2ru", "W2ku", "MacX" };
    unsigned n = vb_layer_locator_count(layer);
    for (unsigned k = 0; k < 3; k++)
        for (unsigned i = 0; i < n; i++) {
            const vb_locator *loc = vb_layer_locator(layer, i);
            if (loc && vb_memcmp(loc->code, order[k], 4) == 0 && loc->path[0])
                return loc->path;
        }
    const char *name = vb_layer_info(layer)->parent_name;
    return name[0] ? name : "(no parent path in the file)";
}

/* Opens path as layer slot i (read-only unless writable). On success the slot
 * owns the file and the layer. Returns the status with diag filled. */
static vb_status open_slot(const vb_opener *opener, vb_chain *chain, unsigned i, const char *path, unsigned flags,
                           vb_diag *diag)
{
    struct chain_layer *slot = &chain->layers[i];
    vb_memset(slot, 0, sizeof(*slot));
    vb_strlcpy(slot->path, path, sizeof(slot->path));
    vb_status st = opener->open(opener->ctx, path, (flags & VB_OPEN_WRITABLE) != 0, &slot->file);
    if (st != VB_OK) {
        vb_memset(&slot->file, 0, sizeof(slot->file));
        return vb_fail(diag, st, "%s: cannot open: %s", path, vb_status_message(st));
    }
    st = vb_layer_open(&slot->file, slot->path, flags, &slot->layer, diag);
    if (st != VB_OK) {
        slot->layer = NULL;
        vb_source_close(&slot->file);
        return st;
    }
    return VB_OK;
}

/* Closes slot i (layer, then file). */
static void close_slot(vb_chain *chain, unsigned i)
{
    struct chain_layer *slot = &chain->layers[i];
    if (slot->layer)
        vb_layer_close(slot->layer);
    slot->layer = NULL;
    vb_source_close(&slot->file);
}

/* Lists locator paths that cannot be candidates because they climb above the
 * volume root, so a refusal explains why they were not tried. */
static void note_unusable_locators(const vb_layer *layer, const char *child_path, struct parent_search *s)
{
    char resolved[VB_PATH_MAX];
    unsigned n = vb_layer_locator_count(layer);
    for (unsigned i = 0; i < n; i++) {
        const vb_locator *loc = vb_layer_locator(layer, i);
        if (loc && loc->path[0] &&
            vb_path_resolve(child_path, loc->path, resolved, sizeof(resolved)) == VB_ERR_PATH_ESCAPES_ROOT)
            note_tried(s, loc->path, vb_status_message(VB_ERR_PATH_ESCAPES_ROOT));
    }
}

/* Returns true if uuid equals the UUID of one of the first n layers. */
static bool uuid_seen(const vb_chain *chain, unsigned n, const uint8_t uuid[16])
{
    for (unsigned i = 0; i < n; i++)
        if (vb_memcmp(vb_layer_info(chain->layers[i].layer)->uuid, uuid, 16) == 0)
            return true;
    return false;
}

/* Whether a VHDX parent's DataWriteGuid is the child's parent_linkage or
 * (when set) parent_linkage2. */
static bool vhdx_linkage_matches(const vb_layer *child, const vb_vhd_info *pinfo)
{
    const vb_vhdx_info *x = vb_layer_vhdx(child);
    if (!x)
        return false;
    if (vb_memcmp(pinfo->uuid, x->parent.linkage, 16) == 0)
        return true;
    return x->parent.has_linkage2 && !vb_guid_is_zero(x->parent.linkage2) &&
           vb_memcmp(pinfo->uuid, x->parent.linkage2, 16) == 0;
}

/* Finds, opens and checks the parent of layer i into slot i+1. Returns VB_OK
 * or the refusal with diag naming the child, the paths tried and why. */
static vb_status open_parent(const vb_opener *opener, vb_chain *chain, unsigned i, unsigned flags,
                             struct parent_search *s, vb_diag *diag)
{
    vb_layer *child = chain->layers[i].layer;
    const char *child_path = chain->layers[i].path;
    const vb_vhd_info *cinfo = vb_layer_info(child);
    unsigned n = vb_parent_candidates(child, child_path, s->candidates, MAX_CANDIDATES);
    s->tried[0] = '\0';
    s->tried_len = 0;
    s->rejected = false;
    note_unusable_locators(child, child_path, s);
    for (unsigned k = 0; k < n; k++) {
        const char *path = s->candidates[k];
        vb_diag d = { VB_OK, "" };
        vb_status st = open_slot(opener, chain, i + 1, path, flags & ~(unsigned)VB_OPEN_WRITABLE, &d);
        if (st == VB_ERR_NOT_FOUND) {
            note_tried(s, path, NULL);
            continue;
        }
        if (st != VB_OK) {
            note_tried(s, path, vb_status_message(st));
            if (!s->rejected) {
                s->rejection = d;
                s->rejected = true;
            }
            continue;
        }
        const vb_vhd_info *pinfo = vb_layer_info(chain->layers[i + 1].layer);
        if (pinfo->format != cinfo->format) {
            const char *pf = pinfo->format == VB_FORMAT_VHDX ? "VHDX" : "VHD";
            const char *cf = cinfo->format == VB_FORMAT_VHDX ? "VHDX" : "VHD";
            close_slot(chain, i + 1);
            return vb_fail(diag, VB_ERR_CHAIN_MIXED,
                           "%s: parent %s is a %s, the child a %s: VHD and VHDX cannot be mixed in one chain",
                           child_path, path, pf, cf);
        }
        if (cinfo->format == VB_FORMAT_VHDX && !vhdx_linkage_matches(child, pinfo)) {
            char want[37], got[37];
            vb_guid_format(cinfo->parent_uuid, want);
            vb_guid_format(pinfo->uuid, got);
            note_tried(s, path, "DataWriteGuid differs");
            if (!s->rejected || s->rejection.status != VB_ERR_VHDX_PARENT_LINKAGE) {
                vb_fail(&s->rejection, VB_ERR_VHDX_PARENT_LINKAGE,
                        "%s: parent %s has DataWriteGuid %s, the child's parent_linkage is %s", child_path, path, got,
                        want);
                s->rejected = true;
            }
            close_slot(chain, i + 1);
            continue;
        }
        if (cinfo->format == VB_FORMAT_VHD && vb_memcmp(pinfo->uuid, cinfo->parent_uuid, 16) != 0) {
            char want[VB_UUID_TEXT_SIZE], got[VB_UUID_TEXT_SIZE];
            vb_uuid_text(cinfo->parent_uuid, VB_UUID_STORED, want);
            vb_uuid_text(pinfo->uuid, VB_UUID_STORED, got);
            note_tried(s, path, "UUID differs");
            if (!s->rejected || s->rejection.status != VB_ERR_PARENT_UUID) {
                vb_fail(&s->rejection, VB_ERR_PARENT_UUID, "%s: parent UUID differs: %s has UUID %s, expected %s",
                        child_path, path, got, want);
                s->rejected = true;
            }
            close_slot(chain, i + 1);
            continue;
        }
        if (uuid_seen(chain, i + 1, pinfo->uuid)) {
            close_slot(chain, i + 1);
            return vb_fail(diag, VB_ERR_CHAIN_CYCLE, "%s: parent chain has a cycle: parent %s is already in the chain",
                           child_path, path);
        }
        if (pinfo->sector_size != cinfo->sector_size) {
            unsigned ps = pinfo->sector_size, cs = cinfo->sector_size;
            close_slot(chain, i + 1);
            return vb_fail(diag, VB_ERR_PARENT_SECTOR_SIZE, "%s: parent %s has %u-byte sectors, the child %u-byte ones",
                           child_path, path, ps, cs);
        }
        if (pinfo->disk_size != cinfo->disk_size) {
            unsigned long long psize = pinfo->disk_size, csize = cinfo->disk_size;
            close_slot(chain, i + 1);
            return vb_fail(diag, VB_ERR_PARENT_SIZE, "%s: parent %s has size %llu, child has %llu", child_path, path,
                           psize, csize);
        }
        vb_layer_set_parent(child, vb_layer_source(chain->layers[i + 1].layer));
        return VB_OK;
    }
    if (s->rejected) {
        if (diag) {
            *diag = s->rejection;
            int len = (int)vb_strlen(diag->text);
            vb_format(diag->text + len, VB_DIAG_TEXT_MAX - len, " (tried %s)", s->tried);
        }
        return s->rejection.status;
    }
    if (n == 0)
        return vb_fail(diag, VB_ERR_PARENT_NOT_FOUND, "%s: parent not found: %s (no usable parent path%s%s)",
                       child_path, declared_parent(child), s->tried_len ? ": " : "", s->tried);
    return vb_fail(diag, VB_ERR_PARENT_NOT_FOUND, "%s: parent not found: %s (tried %s)", child_path,
                   declared_parent(child), s->tried);
}

vb_status vb_chain_open(const vb_opener *opener, const char *path, unsigned flags, vb_chain **out, vb_diag *diag)
{
    *out = NULL;
    vb_chain *chain = vb_alloc(sizeof(*chain));
    struct parent_search *search = vb_alloc(sizeof(*search));
    if (!chain || !search) {
        vb_free(chain);
        vb_free(search);
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory opening the chain", path);
    }
    vb_status st = open_slot(opener, chain, 0, path, flags, diag);
    if (st != VB_OK)
        goto fail;
    chain->depth = 1;
    while (vb_layer_info(chain->layers[chain->depth - 1].layer)->type == VB_DISK_DIFF) {
        if (chain->depth >= VB_MAX_CHAIN_DEPTH) {
            st = vb_fail(diag, VB_ERR_CHAIN_TOO_DEEP, "%s: parent chain deeper than %u layers (at %s)", path,
                         VB_MAX_CHAIN_DEPTH, chain->layers[chain->depth - 1].path);
            goto fail;
        }
        st = open_parent(opener, chain, chain->depth - 1, flags, search, diag);
        if (st != VB_OK)
            goto fail;
        chain->depth++;
    }
    vb_free(search);
    *out = chain;
    return VB_OK;

fail:
    close_layers(chain, chain->depth);
    vb_free(search);
    vb_free(chain);
    return st;
}

vb_source *vb_chain_source(vb_chain *chain)
{
    return vb_layer_source(chain->layers[0].layer);
}

unsigned vb_chain_depth(const vb_chain *chain)
{
    return chain->depth;
}

vb_layer *vb_chain_layer(vb_chain *chain, unsigned i)
{
    return i < chain->depth ? chain->layers[i].layer : NULL;
}

const char *vb_chain_path(const vb_chain *chain, unsigned i)
{
    return i < chain->depth ? chain->layers[i].path : NULL;
}

void vb_chain_close(vb_chain *chain)
{
    if (!chain)
        return;
    if (chain->depth > 0 && chain->layers[0].file.write)
        vb_source_flush(vb_layer_source(chain->layers[0].layer)); /* best effort: commits write-back too */
    close_layers(chain, chain->depth);
    vb_free(chain);
}
