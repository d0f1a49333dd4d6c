/* vhdboot: the parent files a differencing layer's chain tries, in order:
 * the relative locators (W2ru), the absolute ones (W2ku), MacX URLs, then
 * the header's parent name as a file next to the child. Chain policy: it
 * reads a layer's decoded locators (vhd_locator.c) and is used by
 * vhd_chain.c, so the layer and locator code do not depend on each other. */
#include "vhd.h"
#include "bytes.h"

/* Resolves rel against child_path and appends it to out unless it is already
 * there or does not resolve. Returns the new count. */
static unsigned add_candidate(const char *child_path, const char *rel, char out[][VB_PATH_MAX], unsigned count,
                              unsigned max)
{
    char resolved[VB_PATH_MAX];
    if (count >= max || !rel[0] || vb_path_resolve(child_path, rel, resolved, sizeof(resolved)) != VB_OK)
        return count;
    for (unsigned i = 0; i < count; i++)
        if (vb_ascii_caseeq(out[i], resolved))
            return count;
    vb_strlcpy(out[count], resolved, VB_PATH_MAX);
    return count + 1;
}

/* Adds every locator with the given code, in table order. Returns the count. */
static unsigned add_locators(const vb_layer *layer, const char *code, const char *child_path,
                             char out[][VB_PATH_MAX], unsigned count, unsigned max)
{
    unsigned n = vb_layer_locator_count(layer);
    for (unsigned i = 0; i < n; i++) {
        const vb_locator *loc = vb_layer_locator(layer, i);
        if (loc && vb_memcmp(loc->code, code, 4) == 0)
            count = add_candidate(child_path, loc->path, out, count, max);
    }
    return count;
}

unsigned vb_parent_candidates(const vb_layer *layer, const char *child_path, char out[][VB_PATH_MAX], unsigned max)
{
    unsigned count = 0;
    count = add_locators(layer, "W2ru", child_path, out, count, max);
    count = add_locators(layer, "W2ku", child_path, out, count, max);
    count = add_locators(layer, "MacX", child_path, out, count, max);
    /* VHDX parent locator keys, in the order MS-VHDX gives (vhdx_meta.c) */
    count = add_locators(layer, "rel ", child_path, out, count, max);
    count = add_locators(layer, "vol ", child_path, out, count, max);
    count = add_locators(layer, "abs ", child_path, out, count, max);
    const char *name = vb_layer_info(layer)->parent_name;
    const char *last = name;
    for (const char *p = name; *p; p++)
        if (*p == '\\' || *p == '/' || (p == name + 1 && *p == ':'))
            last = p + 1;
    if (*last && !(last[0] == '.' && (!last[1] || (last[1] == '.' && !last[2])))) {
        char leaf[VB_PATH_MAX];
        leaf[0] = '.';
        leaf[1] = '\\';
        vb_strlcpy(leaf + 2, last, sizeof(leaf) - 2);
        count = add_candidate(child_path, leaf, out, count, max);
    }
    return count;
}
