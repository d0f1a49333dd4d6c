/* vhdtool install: puts the loader and a starter vhdboot.conf on an EFI
 * system partition and registers a firmware boot entry with efibootmgr. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tools/vhdtool.h"

extern char **environ;

static const char usage[] =
    "usage: vhdtool install --esp DIR [--label L] [--removable] [--loader FILE] [--no-efibootmgr]\n"
    "\n"
    "Copies the loader to DIR/EFI/vhdboot/vhdbootx64.efi and, unless one is\n"
    "already there, a starter vhdboot.conf next to it (discovery on), then\n"
    "creates a firmware boot entry for it with efibootmgr (disk and partition\n"
    "from the ESP's mount source, found with findmnt and lsblk; an older entry\n"
    "with the same label is replaced).\n"
    "--removable installs as DIR/EFI/BOOT/BOOTX64.EFI (the path firmware boots\n"
    "without an entry; the config goes to DIR/EFI/BOOT/vhdboot.conf) and creates\n"
    "no boot entry.\n"
    "\n"
    "options:\n"
    "  --esp DIR         the mounted EFI system partition (e.g. /boot/efi)\n"
    "  --label L         the boot entry's name (default \"vhdboot\")\n"
    "  --removable       install to the removable-media path\n"
    "  --loader FILE     the loader to install (default: vhdboot.efi next to vhdtool)\n"
    "  --no-efibootmgr   copy files only\n"
    "  -h, --help        this text\n"
    "exit status: 0 installed, 1 failed, 2 usage error\n";

static const char starter_conf[] =
    "# vhdboot.conf - written by vhdtool install; see the README for every keyword.\n"
    "timeout 5\n"
    "# List the *.vhd files found in \\, \\vms, \\VHD and \\images of every volume.\n"
    "discover on\n"
    "# discover-path \\vms\n"
    "#\n"
    "# entry win10\n"
    "#   title Windows 10 (lab image)\n"
    "#   vhd \\vms\\win10.vhd\n"
    "#   write persistent\n"
    "# default win10\n";

/* Creates dir and its missing parents (like mkdir -p); returns false with errno set. */
static bool make_dirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return false;
    }
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return false;
            *p = saved;
            if (saved == '\0')
                return true;
        }
    }
}

/* Writes len bytes of data to path through a temporary file renamed over
 * it (the old file stays intact on failure). Returns an exit code. */
static int write_file(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
        return vt_error("%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vt_error("%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n <= 0) {
            int saved = errno;
            close(fd);
            unlink(tmp);
            return vt_error("%s: cannot write: %s", tmp, strerror(saved));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return vt_error("%s: cannot write: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return vt_error("%s: cannot replace: %s", path, strerror(saved));
    }
    return VT_EXIT_OK;
}

/* Reads the whole file path into a new buffer (*data, *len); returns an exit code. */
static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vt_error("%s: cannot open the loader: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool error = ferror(f);
    fclose(f);
    if (!buf || error) {
        free(buf);
        return vt_error("%s: cannot read the loader", path);
    }
    *data = buf;
    *len = n;
    return VT_EXIT_OK;
}

/* The default loader: vhdboot.efi in the folder of the running vhdtool. */
static bool default_loader(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    return snprintf(out, cap, "%s/vhdboot.efi", dirname(self)) < (int)cap;
}

/* Runs argv (searched in PATH) with its standard output captured into out
 * (capacity cap, NUL-terminated, may be NULL). Returns the exit status, or
 * -1 when it could not be started. */
static int run(char *const argv[], char *out, size_t cap)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipefd[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return -1;
    }
    size_t n = 0;
    char sink[512];
    for (;;) {
        ssize_t got = out && n + 1 < cap ? read(pipefd[0], out + n, cap - n - 1) : read(pipefd[0], sink, sizeof sink);
        if (got <= 0)
            break;
        if (out && n + 1 < cap)
            n += (size_t)got;
    }
    if (out)
        out[n] = '\0';
    close(pipefd[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Cuts text at its first newline and trailing blanks. */
static void first_line(char *text)
{
    text[strcspn(text, "\n")] = '\0';
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        text[--n] = '\0';
}

/* Finds the disk and partition number holding the file system mounted at
 * esp: *disk = "/dev/nvme0n1", *part = 1. Returns an exit code. */
static int find_partition(const char *esp, char *disk, size_t cap, unsigned *part)
{
    char source[PATH_MAX], parent[256], sys[PATH_MAX + 64], number[32];
    char *findmnt[] = { "findmnt", "-n", "-o", "SOURCE", "--target", (char *)esp, NULL };
    if (run(findmnt, source, sizeof source) != 0)
        return vt_error("%s: findmnt cannot tell which device is mounted there", esp);
    first_line(source);
    if (strncmp(source, "/dev/", 5) != 0)
        return vt_error("%s: mounted from '%s', not a disk partition", esp, source);
    char *lsblk[] = { "lsblk", "-n", "-d", "-o", "PKNAME", source, NULL };
    if (run(lsblk, parent, sizeof parent) != 0)
        return vt_error("%s: lsblk cannot tell which disk holds it", source);
    first_line(parent);
    if (!parent[0])
        return vt_error("%s: not a partition of a disk (lsblk shows no parent)", source);
    const char *name = source + 5;
    snprintf(sys, sizeof sys, "/sys/class/block/%s/partition", name);
    FILE *f = fopen(sys, "r");
    number[0] = '\0';
    if (f) {
        if (!fgets(number, sizeof number, f))
            number[0] = '\0';
        fclose(f);
    }
    if (!number[0]) { /* no sysfs entry: the device name ends in the number (sda2, nvme0n1p2) */
        size_t n = strlen(name), i = n;
        while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
            i--;
        snprintf(number, sizeof number, "%s", name + i);
    }
    char *end;
    unsigned long v = strtoul(number, &end, 10);
    if (!number[0] || v == 0 || v > 128 || (*end && *end != '\n'))
        return vt_error("%s: cannot work out its partition number", source);
    *part = (unsigned)v;
    if (snprintf(disk, cap, "/dev/%s", parent) >= (int)cap)
        return vt_error("%s: disk name too long", parent);
    return VT_EXIT_OK;
}

/* Deletes the firmware boot entries named label, then creates one for
 * loader (an ESP path like \EFI\vhdboot\vhdbootx64.efi). Returns an exit code. */
static int register_entry(const char *esp, const char *label, const char *loader)
{
    char disk[PATH_MAX], part_text[16], listing[16384];
    unsigned part = 0;
    int rc = find_partition(esp, disk, sizeof disk, &part);
    if (rc != VT_EXIT_OK)
        return rc;
    char *list[] = { "efibootmgr", NULL };
    if (run(list, listing, sizeof listing) != 0)
        return vt_error("efibootmgr failed or is not installed (package efibootmgr); use --no-efibootmgr to skip");
    for (char *line = strtok(listing, "\n"); line; line = strtok(NULL, "\n")) {
        /* "Boot0003* vhdboot\tHD(...)" or "Boot0003* vhdboot" */
        if (strncmp(line, "Boot", 4) != 0 || strlen(line) < 10 || (line[8] != '*' && line[8] != ' '))
            continue;
        const char *name = line + 9 + (line[9] == ' ');
        size_t n = strcspn(name, "\t");
        if (n != strlen(label) || strncmp(name, label, n) != 0)
            continue;
        char num[5];
        memcpy(num, line + 4, 4);
        num[4] = '\0';
        char *del[] = { "efibootmgr", "-q", "-b", num, "-B", NULL };
        if (run(del, NULL, 0) != 0)
            return vt_error("efibootmgr could not delete the old entry Boot%s '%s'", num, label);
        printf("removed the old boot entry Boot%s '%s'\n", num, label);
    }
    snprintf(part_text, sizeof part_text, "%u", part);
    char *create[] = { "efibootmgr", "-q", "--create", "--disk", disk, "--part", part_text,
                       "--label", (char *)label, "--loader", (char *)loader, NULL };
    if (run(create, NULL, 0) != 0)
        return vt_error("efibootmgr could not create the boot entry '%s' (disk %s, partition %u)", label, disk, part);
    printf("created the boot entry '%s': %s partition %u, %s\n", label, disk, part, loader);
    return VT_EXIT_OK;
}

struct install_opts {
    const char *esp;
    const char *label;
    const char *loader;
    bool removable;
    bool no_efibootmgr;
};

static const vt_option install_options[] = {
    VT_VALUE("esp", 0, struct install_opts, esp, vt_opt_string, "folder"),
    VT_VALUE("label", 0, struct install_opts, label, vt_opt_string, "label"),
    VT_FLAG("removable", 0, struct install_opts, removable),
    VT_VALUE("loader", 0, struct install_opts, loader, vt_opt_string, "loader"),
    VT_FLAG("no-efibootmgr", 0, struct install_opts, no_efibootmgr),
};

static const struct install_opts install_defaults = { .label = "vhdboot" };

/* Runs "vhdtool install": copies the loader to the ESP, writes a starter
 * configuration when there is none and registers a boot entry. Returns an exit code. */
static int run_install(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct install_opts *opts = o;
    const char *esp = opts->esp, *label = opts->label, *loader = opts->loader;
    bool removable = opts->removable, use_efibootmgr = !opts->no_efibootmgr;
    char loader_buf[PATH_MAX];
    if (!esp)
        return vt_usage_error(cmd->name, "--esp DIR is required");
    if (!label[0])
        return vt_usage_error(cmd->name, "empty --label");
    struct stat st;
    if (stat(esp, &st) != 0 || !S_ISDIR(st.st_mode))
        return vt_error("%s: no such folder (mount the EFI system partition first)", esp);
    if (!loader) {
        if (!default_loader(loader_buf, sizeof loader_buf))
            return vt_error("cannot find the loader next to vhdtool; use --loader FILE");
        loader = loader_buf;
    }

    const char *folder = removable ? "EFI/BOOT" : "EFI/vhdboot";
    const char *file = removable ? "BOOTX64.EFI" : "vhdbootx64.efi";
    char dir[PATH_MAX], target[PATH_MAX], conf[PATH_MAX], efi_path[64];
    if (snprintf(dir, sizeof dir, "%s/%s", esp, folder) >= (int)sizeof dir ||
        snprintf(target, sizeof target, "%s/%s", dir, file) >= (int)sizeof target ||
        snprintf(conf, sizeof conf, "%s/vhdboot.conf", dir) >= (int)sizeof conf)
        return vt_error("%s: path too long", esp);
    snprintf(efi_path, sizeof efi_path, "\\%s\\%s", removable ? "EFI\\BOOT" : "EFI\\vhdboot", file);

    char *data = NULL;
    size_t len = 0;
    int rc = read_file(loader, &data, &len);
    if (rc != VT_EXIT_OK)
        return rc;
    if (len < 2 || data[0] != 'M' || data[1] != 'Z') {
        free(data);
        return vt_error("%s: not an EFI program (no MZ header)", loader);
    }
    if (!make_dirs(dir)) {
        free(data);
        return vt_error("%s: cannot create: %s", dir, strerror(errno));
    }
    rc = write_file(target, data, len);
    free(data);
    if (rc != VT_EXIT_OK)
        return rc;
    printf("installed %s as %s\n", loader, target);
    if (access(conf, F_OK) == 0) {
        printf("kept the existing %s\n", conf);
    } else {
        if ((rc = write_file(conf, starter_conf, sizeof starter_conf - 1)) != VT_EXIT_OK)
            return rc;
        printf("wrote a starter %s (discovery on)\n", conf);
    }
    if (removable || !use_efibootmgr)
        return VT_EXIT_OK;
    return register_entry(esp, label, efi_path);
}

const vt_command vt_cmd_install = {
    .name = "install",
    .summary = "install the loader on an EFI system partition, with a boot entry",
    .usage = usage,
    .options = install_options,
    .option_count = VT_COUNT(install_options),
    .opts_size = sizeof(struct install_opts),
    .defaults = &install_defaults,
    .min_args = 0,
    .max_args = 0,
    .run = run_install,
};
