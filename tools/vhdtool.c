/* vhdtool: host side of the VHD API — dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>
#include "tools/vhdtool.h"

/* Every subcommand, in the order --help lists them (each is a vt_command
 * named vt_cmd_<id> in vhdtool_<id>.c, or vhdtool_bootvar.c). */
#define COMMANDS(X) \
    X(create) X(info) X(check) X(convert) X(merge) X(set_parent) X(read) X(write) \
    X(boot_next) X(boot_default) X(install) X(bcd) X(attach) X(detach) X(handoff)

#define DECLARE(id) extern const vt_command vt_cmd_##id;
COMMANDS(DECLARE)
#define ENTRY(id) &vt_cmd_##id,
static const vt_command *const commands[] = { COMMANDS(ENTRY) };

/* Prints the list of subcommands to f. */
static void print_usage(FILE *f)
{
    fprintf(f, "usage: vhdtool COMMAND [ARGS...]\n"
               "       vhdtool COMMAND --help\n"
               "       vhdtool --version\n\ncommands:\n");
    for (size_t i = 0; i < VT_COUNT(commands); i++)
        fprintf(f, "  %-13s %s\n", commands[i]->name, commands[i]->summary);
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
    for (size_t i = 0; i < VT_COUNT(commands); i++)
        if (!strcmp(name, commands[i]->name))
            return vt_command_run(commands[i], argc - 1, argv + 1);
    fprintf(stderr, "vhdtool: unknown command '%s'\n", name);
    print_usage(stderr);
    return VT_EXIT_USAGE;
}
