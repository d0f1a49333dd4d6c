/* vhdtool: Windows spellings of a parent's path for the W2ku and W2ru
 * locators. Host paths are made absolute (symlinks resolved) the same way
 * the host opener does, so the core resolves what we write. */
#include <limits.h>
#include <string.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"

bool vt_windows_absolute(const char *host_path, char *out, size_t cap)
{
    return host_to_core_path(host_path, out, cap);
}

/* Length of the folder part of a core path ("\a\b.vhd" -> 2, "\x" -> 0). */
static size_t folder_length(const char *core)
{
    const char *slash = strrchr(core, '\\');
    return slash ? (size_t)(slash - core) : 0;
}

/* Appends s to out (length *n, capacity cap); false when it does not fit. */
static bool append(char *out, size_t *n, size_t cap, const char *s, size_t len)
{
    if (*n + len + 1 > cap)
        return false;
    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';
    return true;
}

bool vt_windows_relative(const char *child_host_path, const char *target_host_path, char *out, size_t cap)
{
    char child[PATH_MAX], target[PATH_MAX];
    if (!host_to_core_path(child_host_path, child, sizeof(child)) ||
        !host_to_core_path(target_host_path, target, sizeof(target)))
        return false;
    /* Compare the child's folder with the target, component by component. */
    size_t dir_len = folder_length(child);
    child[dir_len] = '\0';
    size_t common = 0; /* length of the shared folder prefix, at a separator */
    size_t i = 0;
    while (i < dir_len && child[i] == target[i]) {
        i++;
        if (i == dir_len || child[i] == '\\')
            if (target[i] == '\\')
                common = i;
    }
    if (i == dir_len && target[i] == '\\')
        common = dir_len;
    size_t n = 0;
    out[0] = '\0';
    /* One ".." for each folder of the child's path below the common prefix. */
    unsigned ups = 0;
    for (size_t k = common; k < dir_len; k++)
        if (child[k] == '\\')
            ups++;
    if (ups == 0 && !append(out, &n, cap, ".\\", 2))
        return false;
    for (unsigned u = 0; u < ups; u++)
        if (!append(out, &n, cap, "..\\", 3))
            return false;
    const char *rest = target + common + 1;
    return append(out, &n, cap, rest, strlen(rest));
}
