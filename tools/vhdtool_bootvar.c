/* vhdtool boot-next / boot-default: set, show or clear the loader's
 * lab-control EFI variables through efivarfs (see loader/vars.h):
 *   <efivars>/VhdbootNext-8af2f81d-2f26-4a6a-a987-2576bc46e791
 *   <efivars>/VhdbootDefault-8af2f81d-2f26-4a6a-a987-2576bc46e791
 * Each file is the 4-byte little-endian attribute word (0x7: non-volatile,
 * boot-service and runtime access) followed by the entry id as UTF-16LE
 * without a terminator. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "format/bytes.h"
#include "format/utf.h"
#include "tools/vhdtool.h"

#define VENDOR_GUID "8af2f81d-2f26-4a6a-a987-2576bc46e791"
#define DEFAULT_EFIVARS "/sys/firmware/efi/efivars"
#define ATTRIBUTES 0x7u        /* NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS */
#define ID_UNITS_MAX 256u      /* as the loader accepts (loader/vars.h) */

/* The usage of boot-next / boot-default: CMD, the variable VAR and what it does. */
#define USAGE(CMD, VAR, WHAT) \
    "usage: vhdtool " CMD " [--efivars DIR] [ENTRY | --clear]\n" \
    "\n" \
    WHAT "\n" \
    "ENTRY is an entry id: the `entry ID` of vhdboot.conf, or a discovered\n" \
    "VHD's id (its path with '/', e.g. vms/win10.vhd, or LABEL:vms/win10.vhd\n" \
    "on another volume). Without ENTRY, prints the current value.\n" \
    "The variable is " VAR "-" VENDOR_GUID ",\n" \
    "attributes 0x7 (non-volatile, boot-service and runtime access), value\n" \
    "the id as UTF-16LE without a terminator.\n" \
    "\n" \
    "options:\n" \
    "  --efivars DIR  the efivarfs folder (default " DEFAULT_EFIVARS ")\n" \
    "  --clear        delete the variable\n" \
    "  -h, --help     this text\n" \
    "exit status: 0 done, 1 failed, 2 usage error\n"

/* Clears the immutable flag efivarfs puts on variable files (needed before
 * writing or deleting). Other file systems (a test folder) do not support
 * the flags: that is fine. Returns false only on a real failure. */
static bool make_mutable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    int flags = 0;
    bool ok = true;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        if (flags & FS_IMMUTABLE_FL) {
            flags &= ~FS_IMMUTABLE_FL;
            ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
        }
    } else if (errno != ENOTTY && errno != EINVAL && errno != EOPNOTSUPP) {
        ok = false;
    }
    close(fd);
    return ok;
}

/* Deletes the variable file path; returns an exit code. */
static int clear_var(const char *path)
{
    if (!make_mutable(path))
        return vt_error("%s: cannot clear the immutable flag: %s", path, strerror(errno));
    if (unlink(path) != 0 && errno != ENOENT)
        return vt_error("%s: cannot delete: %s", path, strerror(errno));
    return VT_EXIT_OK;
}

/* Writes id into the variable file path (cmd names the subcommand in messages) (delete, then create with one
 * write, as efivarfs wants); returns an exit code. */
static int write_var(const char *cmd, const char *path, const char *id)
{
    uint8_t data[4 + ID_UNITS_MAX * 2];
    size_t units = 0;
    if (!id[0])
        return vt_usage_error(cmd, "empty entry id");
    if (vb_utf8_to_utf16(id, false, data + 4, sizeof data - 4, &units) != VB_OK)
        return vt_error("entry id '%s' is not valid UTF-8 or longer than %u UTF-16 units", id, ID_UNITS_MAX);
    vb_put_le32(data, ATTRIBUTES);
    int rc = clear_var(path);
    if (rc != VT_EXIT_OK)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return vt_error("%s: cannot create: %s", path, strerror(errno));
    size_t len = 4 + units * 2;
    ssize_t n = write(fd, data, len);
    int saved = errno;
    if (close(fd) != 0 && n == (ssize_t)len) {
        n = -1;
        saved = errno;
    }
    if (n != (ssize_t)len) {
        unlink(path);
        return vt_error("%s: cannot write: %s", path, n < 0 ? strerror(saved) : "short write");
    }
    return VT_EXIT_OK;
}

/* Prints the id stored in the variable file path (or "not set"); returns an exit code. */
static int show_var(const char *path, const char *name)
{
    uint8_t data[4 + ID_UNITS_MAX * 2 + 2];
    char id[ID_UNITS_MAX * 3 + 1];
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            return vt_error("%s: cannot open: %s", path, strerror(errno));
        printf("%s: not set\n", name);
        return VT_EXIT_OK;
    }
    size_t n = fread(data, 1, sizeof data, f);
    bool error = ferror(f);
    fclose(f);
    if (error)
        return vt_error("%s: cannot read", path);
    if (n < 4 || n == sizeof data || (n - 4) % 2 != 0)
        return vt_error("%s: not a valid entry id variable (%zu bytes)", path, n);
    size_t units = (n - 4) / 2;
    if (units && vb_le16(data + 4 + 2 * (units - 1)) == 0)
        units--;
    if (vb_utf16_to_utf8(data + 4, units, false, id, sizeof id) != VB_OK)
        return vt_error("%s: the value is not valid UTF-16", path);
    printf("%s: %s (attributes 0x%x)\n", name, id, (unsigned)vb_le32(data));
    return VT_EXIT_OK;
}

struct bootvar_opts {
    const char *efivars;
    bool clear;
};

static const vt_option bootvar_options[] = {
    VT_VALUE("efivars", 0, struct bootvar_opts, efivars, vt_opt_string, "folder"),
    VT_FLAG("clear", 0, struct bootvar_opts, clear),
};

static const struct bootvar_opts bootvar_defaults = { .efivars = DEFAULT_EFIVARS };

/* Sets, shows or clears the variable var for the subcommand cmd. Returns an exit code. */
static int run(const vt_command *cmd, const char *var, const struct bootvar_opts *opts, int argc, char **argv)
{
    const char *dir = opts->efivars;
    if (opts->clear && argc == 1)
        return vt_usage_error(cmd->name, "--clear and ENTRY exclude each other");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vt_error("%s: no such folder (not booted through UEFI, or efivarfs not mounted? use --efivars DIR)",
                        dir);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s-%s", dir, var, VENDOR_GUID) >= (int)sizeof path)
        return vt_error("%s: path too long", dir);
    if (opts->clear)
        return clear_var(path);
    if (argc == 0)
        return show_var(path, var);
    return write_var(cmd->name, path, argv[0]);
}

/* Runs "vhdtool boot-next": the entry booted once, on the next start. Returns an exit code. */
static int run_boot_next(const vt_command *cmd, void *opts, int argc, char **argv)
{
    return run(cmd, "VhdbootNext", opts, argc, argv);
}

/* Runs "vhdtool boot-default": the entry vhdboot boots by default. Returns an exit code. */
static int run_boot_default(const vt_command *cmd, void *opts, int argc, char **argv)
{
    return run(cmd, "VhdbootDefault", opts, argc, argv);
}

const vt_command vt_cmd_boot_next = {
    .name = "boot-next",
    .summary = "make vhdboot boot an entry on the next start only (EFI variable)",
    .usage = USAGE("boot-next", "VhdbootNext",
                   "Makes vhdboot boot ENTRY on the next start only (the loader deletes\n"
                   "the variable as it reads it)."),
    .options = bootvar_options,
    .option_count = VT_COUNT(bootvar_options),
    .opts_size = sizeof(struct bootvar_opts),
    .defaults = &bootvar_defaults,
    .min_args = 0,
    .max_args = 1,
    .args_error = "expected at most one ENTRY",
    .run = run_boot_next,
};

const vt_command vt_cmd_boot_default = {
    .name = "boot-default",
    .summary = "set vhdboot's default entry (EFI variable)",
    .usage = USAGE("boot-default", "VhdbootDefault",
                   "Makes ENTRY vhdboot's default entry (it overrides `default` of\n"
                   "vhdboot.conf) until changed or cleared."),
    .options = bootvar_options,
    .option_count = VT_COUNT(bootvar_options),
    .opts_size = sizeof(struct bootvar_opts),
    .defaults = &bootvar_defaults,
    .min_args = 0,
    .max_args = 1,
    .args_error = "expected at most one ENTRY",
    .run = run_boot_default,
};
