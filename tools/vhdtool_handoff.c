/* vhdtool handoff: decode the loader's handoff record (EFI variable
 * VhdbootDisk, or vhdboot.disk= on the kernel command line; see
 * format/handoff.h) and print it as shell assignments for an initramfs
 * script to eval. Also converts between the two forms (for tests and for
 * writing a GRUB entry by hand). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/bytes.h"
#include "format/handoff.h"
#include "tools/vhdtool.h"

#define HANDOFF_EFIVAR "/sys/firmware/efi/efivars/VhdbootDisk-8af2f81d-2f26-4a6a-a987-2576bc46e791"
#define HANDOFF_ATTRIBUTES 0x6u /* BOOTSERVICE_ACCESS | RUNTIME_ACCESS: volatile */
#define EXIT_ABSENT 2

static const char usage[] =
    "usage: vhdtool handoff [--auto | --efivar PATH | --cmdline TEXT] [--text | --write-efivar PATH]\n"
    "\n"
    "Decodes the record vhdboot leaves for the OS (which virtual disk was\n"
    "booted: host partition, every layer's path, write mode) and prints it as\n"
    "shell assignments, one per line, safe to eval:\n"
    "  VHDBOOT_VERSION VHDBOOT_HOST_FS VHDBOOT_HOST_PARTUUID VHDBOOT_HOST_DISKUUID\n"
    "  VHDBOOT_HOST_MBRSIG VHDBOOT_HOST_PARTNO VHDBOOT_HOST_START VHDBOOT_MODE\n"
    "  VHDBOOT_LAYERS VHDBOOT_LAYER_<i>_{PATH,TYPE,UUID[,PARTUUID,FS]} VHDBOOT_SIZE VHDBOOT_UUID\n"
    "(layer 0 is the top; PARTUUID/FS of a layer only when its volume is not the host's)\n"
    "\n"
    "options:\n"
    "  --auto               the EFI variable, else vhdboot.disk= of /proc/cmdline (default)\n"
    "  --efivar PATH        read the variable from PATH (4 attribute bytes, then the record)\n"
    "  --cmdline TEXT       a kernel command line (or just the vhdboot.disk= value)\n"
    "  --text               print the vhdboot.disk= value instead of assignments\n"
    "  --write-efivar PATH  write the record as an efivarfs file (attributes 0x6) to PATH\n"
    "  -h, --help           this text\n"
    "exit status: 0 decoded, 1 corrupt or unknown record (message on stderr), 2 no record\n";

/* Prints "NAME='value'" with value single-quoted for the shell. */
static void print_assignment(const char *name, const char *value)
{
    printf("%s='", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    fputs("'\n", stdout);
}

/* Prints the assignments of one volume under prefix (HOST or LAYER_<i>). */
static void print_volume(const char *prefix, const vb_handoff_volume *v, bool position)
{
    char name[64], text[40];
    snprintf(name, sizeof name, "VHDBOOT_%s_FS", prefix);
    print_assignment(name, vb_handoff_fs_name(v->fs));
    snprintf(name, sizeof name, "VHDBOOT_%s_PARTUUID", prefix);
    if (v->scheme == VB_HANDOFF_GPT) {
        vb_handoff_guid_text(v->part_guid, text);
        print_assignment(name, text);
        if (position && !vt_all_zero(v->disk_guid, 16)) {
            vb_handoff_guid_text(v->disk_guid, text);
            snprintf(name, sizeof name, "VHDBOOT_%s_DISKUUID", prefix);
            print_assignment(name, text);
        }
        return;
    }
    /* Linux names an MBR partition "<signature>-<2-digit number>" */
    snprintf(text, sizeof text, "%08x-%02x", v->mbr_signature, v->part_number);
    print_assignment(name, text);
    if (!position)
        return;
    snprintf(name, sizeof name, "VHDBOOT_%s_MBRSIG", prefix);
    snprintf(text, sizeof text, "%08x", v->mbr_signature);
    print_assignment(name, text);
    snprintf(name, sizeof name, "VHDBOOT_%s_PARTNO", prefix);
    snprintf(text, sizeof text, "%u", v->part_number);
    print_assignment(name, text);
    snprintf(name, sizeof name, "VHDBOOT_%s_START", prefix);
    snprintf(text, sizeof text, "%llu", (unsigned long long)v->start_lba);
    print_assignment(name, text);
}

/* Prints the whole record as assignments. */
static void print_record(const vb_handoff *h)
{
    char name[64], text[40];
    print_assignment("VHDBOOT_VERSION", "1");
    print_volume("HOST", &h->host, true);
    print_assignment("VHDBOOT_MODE", vb_handoff_mode_name(h->mode));
    snprintf(text, sizeof text, "%u", h->layer_count);
    print_assignment("VHDBOOT_LAYERS", text);
    for (unsigned i = 0; i < h->layer_count; i++) {
        const vb_handoff_layer *l = &h->layers[i];
        snprintf(name, sizeof name, "VHDBOOT_LAYER_%u_PATH", i);
        print_assignment(name, l->path);
        snprintf(name, sizeof name, "VHDBOOT_LAYER_%u_TYPE", i);
        print_assignment(name, vb_handoff_type_name(l->type));
        snprintf(name, sizeof name, "VHDBOOT_LAYER_%u_UUID", i);
        vb_handoff_uuid_text(l->uuid, text);
        print_assignment(name, text);
        if (l->has_volume) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "LAYER_%u", i);
            print_volume(prefix, &l->volume, false);
        }
    }
    snprintf(text, sizeof text, "%llu", (unsigned long long)h->size);
    print_assignment("VHDBOOT_SIZE", text);
    vb_handoff_uuid_text(h->uuid, text);
    print_assignment("VHDBOOT_UUID", text);
}

/* Reads the efivarfs file path into *h. Returns 0, 1 (message printed) or
 * EXIT_ABSENT when the file does not exist. */
static int read_efivar(const char *path, vb_handoff *h)
{
    static uint8_t data[4 + VB_HANDOFF_MAX_BYTES + 1];
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return EXIT_ABSENT;
        return vt_error("%s: cannot open: %s", path, strerror(errno));
    }
    size_t n = fread(data, 1, sizeof data, f);
    bool error = ferror(f);
    fclose(f);
    if (error)
        return vt_error("%s: cannot read", path);
    if (n < 4)
        return vt_error("%s: %zu bytes, not an efivarfs variable", path, n);
    if (n == sizeof data)
        return vt_error("%s: larger than any handoff record", path);
    vb_diag diag = { 0 };
    if (vb_handoff_decode(data + 4, n - 4, h, &diag) != VB_OK)
        return vt_error("%s: %s", path, diag.text);
    return VT_EXIT_OK;
}

/* Finds vhdboot.disk= in a command line (or takes the whole text as the
 * value when it has no '=' before its first ','), parses it into *h.
 * Returns 0, 1 (message printed) or EXIT_ABSENT. */
static int parse_cmdline(const char *cmdline, vb_handoff *h)
{
    static const char key[] = "vhdboot.disk=";
    const char *value = NULL, *p = cmdline;
    /* the last occurrence wins, as for other kernel parameters */
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!strncmp(p, key, sizeof key - 1))
            value = p + sizeof key - 1;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    if (!value && !strncmp(cmdline, "v", 1) && !strchr(cmdline, ' '))
        value = cmdline;
    if (!value)
        return EXIT_ABSENT;
    size_t len = strcspn(value, " \t\n");
    vb_diag diag = { 0 };
    if (vb_handoff_parse_text(value, len, h, &diag) != VB_OK)
        return vt_error("%s", diag.text);
    return VT_EXIT_OK;
}

/* Reads /proc/cmdline and parses it. Returns as parse_cmdline. */
static int read_proc_cmdline(vb_handoff *h)
{
    static char line[65536];
    FILE *f = fopen("/proc/cmdline", "r");
    if (!f)
        return EXIT_ABSENT;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    return parse_cmdline(line, h);
}

/* Writes h as an efivarfs file (attributes, then the record). Returns an exit code. */
static int write_efivar(const char *path, const vb_handoff *h)
{
    static uint8_t data[4 + VB_HANDOFF_MAX_BYTES];
    size_t len = 0;
    vb_diag diag = { 0 };
    if (vb_handoff_encode(h, data + 4, sizeof data - 4, &len, &diag) != VB_OK)
        return vt_error("%s", diag.text);
    vb_put_le32(data, HANDOFF_ATTRIBUTES);
    FILE *f = fopen(path, "wb");
    if (!f)
        return vt_error("%s: cannot create: %s", path, strerror(errno));
    bool ok = fwrite(data, 1, len + 4, f) == len + 4;
    if (fclose(f) != 0)
        ok = false;
    return ok ? VT_EXIT_OK : vt_error("%s: cannot write", path);
}

/* Runs "vhdtool handoff". Returns 0, 1 or 2 (2 also for no record). */
int vt_cmd_handoff(int argc, char **argv)
{
    static const struct option options[] = {
        { "auto", no_argument, NULL, 'a' },
        { "efivar", required_argument, NULL, 'e' },
        { "cmdline", required_argument, NULL, 'c' },
        { "text", no_argument, NULL, 't' },
        { "write-efivar", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *efivar = NULL, *cmdline = NULL, *write_path = NULL;
    bool as_text = false;
    int sources = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'a': sources++; break;
        case 'e': efivar = optarg; sources++; break;
        case 'c': cmdline = optarg; sources++; break;
        case 't': as_text = true; break;
        case 'w': write_path = optarg; break;
        case 'h': fputs(usage, stdout); return VT_EXIT_OK;
        default: return vt_usage_error("handoff", "unknown option");
        }
    }
    if (optind != argc)
        return vt_usage_error("handoff", "unexpected argument '%s'", argv[optind]);
    if (sources > 1)
        return vt_usage_error("handoff", "give one of --auto, --efivar, --cmdline");
    if (as_text && write_path)
        return vt_usage_error("handoff", "--text and --write-efivar exclude each other");
    static vb_handoff h;
    int rc;
    if (efivar)
        rc = read_efivar(efivar, &h);
    else if (cmdline)
        rc = parse_cmdline(cmdline, &h);
    else if ((rc = read_efivar(HANDOFF_EFIVAR, &h)) == EXIT_ABSENT)
        rc = read_proc_cmdline(&h);
    if (rc == EXIT_ABSENT) {
        fprintf(stderr, "vhdtool handoff: no vhdboot disk record (not booted through vhdboot)\n");
        return EXIT_ABSENT;
    }
    if (rc != VT_EXIT_OK)
        return rc;
    if (write_path)
        return write_efivar(write_path, &h);
    if (as_text) {
        static char text[VB_HANDOFF_TEXT_MAX];
        vb_diag diag = { 0 };
        if (vb_handoff_format_text(&h, text, sizeof text, &diag) != VB_OK)
            return vt_error("%s", diag.text);
        printf("%s\n", text);
        return VT_EXIT_OK;
    }
    print_record(&h);
    return VT_EXIT_OK;
}
