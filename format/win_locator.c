/* vhdboot: would Windows' own VHD driver find a differencing parent?
 *
 * vhdboot looks for a parent through every locator and, last, the parent's
 * name beside the child (vhd_chain_candidates.c). Windows' native VHD boot
 * opens the chain itself and uses only the locators: W2ru (relative) and
 * W2ku (absolute) of a VHD; relative_path, volume_path and
 * absolute_win32_path of a VHDX (MS-VHDX 2.6.2.6.3). A parent that only the
 * fallback search found boots the firmware stage and then fails in Windows,
 * so the loader warns before it starts the boot manager. */
#include "bytes.h"
#include "vhd_layer_internal.h"

/* Whether a generic locator code is one Windows reads for this format. */
static bool windows_reads(const vb_layer *child, const char *code)
{
    if (child->info.format == VB_FORMAT_VHDX)
        return !vb_memcmp(code, "rel ", 4) || !vb_memcmp(code, "vol ", 4) || !vb_memcmp(code, "abs ", 4);
    return !vb_memcmp(code, "W2ru", 4) || !vb_memcmp(code, "W2ku", 4);
}

const char *vb_windows_locator_names(const vb_layer *child)
{
    return child && child->info.format == VB_FORMAT_VHDX ? "relative_path/volume_path/absolute_win32_path"
                                                         : "W2ru/W2ku";
}

/* A VHDX volume_path names the volume by its GUID (\\?\Volume{...}\), which
 * only Windows knows; vhdx_meta.c keeps the path after it, taken here (as in
 * the parent search) to be on the child's volume. */
bool vb_windows_finds_parent(const vb_layer *child, const char *child_path, const char *parent_path)
{
    if (!child || !child_path || !parent_path)
        return false;
    for (unsigned k = 0; k < vb_layer_locator_count(child); k++) {
        const vb_locator *loc = vb_layer_locator(child, k);
        char resolved[VB_PATH_MAX];
        if (loc && loc->path[0] && windows_reads(child, loc->code) &&
            vb_path_resolve(child_path, loc->path, resolved, sizeof resolved) == VB_OK &&
            vb_ascii_caseeq(resolved, parent_path))
            return true;
    }
    return false;
}
