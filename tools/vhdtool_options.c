/* vhdtool: the option parser every subcommand shares. Each subcommand
 * describes its options in a table (vt_option); this file turns the table
 * into getopt_long's arrays, stores each value through its parser, checks
 * the argument count and calls the subcommand. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tools/vhdtool.h"

#define MAX_OPTIONS 16u   /* per subcommand, not counting --help */

bool vt_opt_flag(const char *text, void *field)
{
    (void)text;
    *(bool *)field = true;
    return true;
}

bool vt_opt_string(const char *text, void *field)
{
    *(const char **)field = text;
    return true;
}

bool vt_opt_size(const char *text, void *field)
{
    return vt_parse_size(text, field);
}

bool vt_opt_size32(const char *text, void *field)
{
    uint64_t v;
    if (!vt_parse_size(text, &v) || v > UINT32_MAX)
        return false;
    *(uint64_t *)field = v;
    return true;
}

bool vt_opt_size32_nonzero(const char *text, void *field)
{
    uint64_t v;
    if (!vt_parse_size(text, &v) || v == 0 || v > UINT32_MAX)
        return false;
    *(uint64_t *)field = v;
    return true;
}

/* Builds getopt_long's long-option array and short-option string from cmd's
 * table, plus -h/--help (val 'h'). Long options return 256 + their index. */
static void build_getopt(const vt_command *cmd, struct option *longs, char *shorts)
{
    size_t n = 0;
    char *s = shorts;
    *s++ = ':'; /* report a missing value as ':' */
    for (size_t i = 0; i < cmd->option_count; i++) {
        const vt_option *o = &cmd->options[i];
        if (o->name)
            longs[n++] = (struct option){ o->name, o->takes_value ? required_argument : no_argument, NULL,
                                          256 + (int)i };
        if (o->letter) {
            *s++ = o->letter;
            if (o->takes_value)
                *s++ = ':';
        }
    }
    longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    longs[n] = (struct option){ NULL, 0, NULL, 0 };
    *s++ = 'h';
    *s = '\0';
}

/* The table entry getopt_long's return value c stands for, or NULL. */
static const vt_option *find_option(const vt_command *cmd, int c)
{
    if (c >= 256 && (size_t)(c - 256) < cmd->option_count)
        return &cmd->options[c - 256];
    for (size_t i = 0; i < cmd->option_count; i++)
        if (cmd->options[i].letter && cmd->options[i].letter == c)
            return &cmd->options[i];
    return NULL;
}

int vt_command_run(const vt_command *cmd, int argc, char **argv)
{
    if (cmd->run_argv)
        return cmd->run_argv(argc, argv);
    struct option longs[MAX_OPTIONS + 2];
    char shorts[2 * MAX_OPTIONS + 3];
    if (cmd->option_count > MAX_OPTIONS)
        return vt_error("%s: too many options in its table", cmd->name);
    build_getopt(cmd, longs, shorts);

    void *opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
    if (!opts)
        return vt_error("out of memory");
    if (cmd->defaults)
        memcpy(opts, cmd->defaults, cmd->opts_size);
    int rc = -1;
    opterr = 0;
    optind = 0; /* restart getopt (glibc: full reinitialisation) */
    int c;
    while (rc < 0 && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const vt_option *o = find_option(cmd, c);
        if (c == 'h' && !o) {
            fputs(cmd->usage, stdout);
            rc = VT_EXIT_OK;
        } else if (c == ':') {
            rc = vt_usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
        } else if (!o && optopt >= 256) {
            rc = vt_usage_error(cmd->name, "option '%s' takes no value", argv[optind - 1]);
        } else if (!o && optopt) {
            rc = vt_usage_error(cmd->name, "unknown option '-%c'", optopt);
        } else if (!o) {
            rc = vt_usage_error(cmd->name, "unknown option '%s'", argv[optind - 1]);
        } else if (!o->parse(optarg, (char *)opts + o->offset)) {
            rc = vt_usage_error(cmd->name, "bad %s '%s'", o->what, optarg);
        }
    }
    if (rc < 0) {
        int rest = argc - optind;
        if (rest < cmd->min_args || (cmd->max_args != VT_ARGS_ANY && rest > cmd->max_args)) {
            if (cmd->args_error || rest <= cmd->max_args)
                rc = vt_usage_error(cmd->name, "%s", cmd->args_error ? cmd->args_error : "missing argument");
            else
                rc = vt_usage_error(cmd->name, "unexpected argument '%s'", argv[optind + cmd->max_args]);
        } else {
            rc = cmd->run(cmd, opts, rest, argv + optind);
        }
    }
    free(opts);
    return rc;
}
