/* vhdtool: host side of the VHD API — dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>
#include "tools/vhdtool.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "create", vt_cmd_create, "create a fixed, dynamic or differencing VHD" },
    { "info", vt_cmd_info, "show a VHD's footer, header, locators and parent chain" },
    { "check", vt_cmd_check, "validate a VHD and its chain (optionally repair the footer)" },
    { "convert", vt_cmd_convert, "convert between raw images and fixed/dynamic VHDs (flattens chains)" },
    { "merge", vt_cmd_merge, "fold a differencing disk into its parent" },
    { "set-parent", vt_cmd_set_parent, "point a differencing disk at its moved parent" },
    { "read", vt_cmd_read, "read bytes through a whole chain" },
    { "write", vt_cmd_write, "write bytes into the top layer of a chain" },
    { "boot-next", vt_cmd_boot_next, "make vhdboot boot an entry on the next start only (EFI variable)" },
    { "boot-default", vt_cmd_boot_default, "set vhdboot's default entry (EFI variable)" },
    { "install", vt_cmd_install, "install the loader on an EFI system partition, with a boot entry" },
    { "handoff", vt_cmd_handoff, "print the disk record vhdboot handed to the OS (shell assignments)" },
};

/* Prints the list of subcommands to f. */
static void print_usage(FILE *f)
{
    fprintf(f, "usage: vhdtool COMMAND [ARGS...]\n"
               "       vhdtool COMMAND --help\n"
               "       vhdtool --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit status: 0 success, 1 operation failed or problems found, 2 usage error\n");
}

/* Entry point: finds the subcommand named by argv[1] and runs it. Returns its exit code. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return VT_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("vhdtool %s\n", VB_VERSION);
        return VT_EXIT_OK;
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        print_usage(stdout);
        return VT_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vhdtool: unknown command '%s'\n", name);
    print_usage(stderr);
    return VT_EXIT_USAGE;
}
