/* vhdtool write: bytes into the top layer of a chain (parents are never written). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/vhdtool.h"

static const char write_usage[] =
    "usage: vhdtool write FILE OFFSET (--in F | --pattern BYTE --length N)\n"
    "\n"
    "Writes bytes at OFFSET of the disk FILE. For a VHD the data goes into FILE\n"
    "itself (the top of its chain; parents are never written); blocks are\n"
    "allocated as needed. Any byte offset is allowed (partial sectors are\n"
    "read, patched and written back).\n"
    "\n"
    "options:\n"
    "  -i, --in F        the bytes to write: all of file F ('-' = stdin)\n"
    "  --pattern BYTE    write N copies of BYTE (0..255, decimal or 0x hex)\n"
    "  --length N        how many bytes of the pattern\n"
    "  -h, --help        this text\n"
    "exit status: 0 written, 1 failed, 2 usage error\n";

#define IO_CHUNK (4u << 20)

/* Reads all of name ('-' = stdin) into a malloc'ed buffer; false on failure. */
static bool slurp(const char *name, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
    if (!f)
        return false;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                ok = false;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            ok = !ferror(f);
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    *len = n;
    return true;
}

struct write_opts {
    const char *in;
    const char *pattern;
    uint64_t length;     /* NO_LENGTH: not given (0 is a valid --length) */
};

#define NO_LENGTH UINT64_MAX
static const struct write_opts write_defaults = { .length = NO_LENGTH };

static const vt_option write_options[] = {
    VT_VALUE("in", 'i', struct write_opts, in, vt_opt_string, "input file"),
    VT_VALUE("pattern", 0, struct write_opts, pattern, vt_opt_string, "pattern"),
    VT_VALUE("length", 0, struct write_opts, length, vt_opt_size, "length"),
};

/* Runs "vhdtool write": writes a file's bytes or a repeated byte at OFFSET
 * into the top layer. Returns an exit code. */
static int run_write(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)argc;
    const struct write_opts *opts = o;
    const char *in_name = opts->in, *pattern_text = opts->pattern;
    uint64_t length = opts->length;
    bool have_length = length != NO_LENGTH;
    if (!in_name == !pattern_text)
        return vt_usage_error(cmd->name, "give either --in F or --pattern BYTE --length N");
    if (pattern_text && !have_length)
        return vt_usage_error(cmd->name, "--pattern needs --length N");
    if (in_name && have_length)
        return vt_usage_error(cmd->name, "--length only goes with --pattern");
    uint64_t pattern = 0;
    if (pattern_text && (!vt_parse_size(pattern_text, &pattern) || pattern > 255))
        return vt_usage_error(cmd->name, "bad pattern byte '%s' (0..255)", pattern_text);
    const char *file = argv[0];
    uint64_t offset;
    if (!vt_parse_size(argv[1], &offset))
        return vt_usage_error(cmd->name, "bad offset '%s'", argv[1]);

    uint8_t *data = NULL;
    size_t data_len = 0;
    if (in_name) {
        if (!slurp(in_name, &data, &data_len))
            return vt_error("%s: cannot read: %s", in_name, strerror(errno));
        length = data_len;
    } else {
        size_t n = length < IO_CHUNK ? (size_t)length : IO_CHUNK;
        if (!(data = malloc(n ? n : 1)))
            return vt_error("out of memory");
        memset(data, (int)pattern, n);
        data_len = n;
    }

    vt_disk disk;
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_status st = vt_disk_open(file, VB_OPEN_WRITABLE, true, &disk, &diag);
    if (st != VB_OK) {
        free(data);
        return vt_diag_error(&diag, st, file);
    }
    int rc = VT_EXIT_OK;
    if (offset > disk.src->size || length > disk.src->size - offset) {
        rc = vt_error("%s: range %llu+%llu is beyond the disk size %llu", file, (unsigned long long)offset,
                      (unsigned long long)length, (unsigned long long)disk.src->size);
    } else {
        for (uint64_t done = 0; done < length && st == VB_OK;) {
            size_t n = length - done < data_len ? (size_t)(length - done) : data_len;
            st = vt_write_at(disk.src, offset + done, in_name ? data + done : data, n);
            if (st == VB_OK)
                done += n;
            else
                rc = vt_error("%s: write at offset %llu failed: %s", file, (unsigned long long)(offset + done),
                              vb_status_message(st));
        }
        if (rc == VT_EXIT_OK && (st = vb_source_flush(disk.src)) != VB_OK)
            rc = vt_error("%s: flush failed: %s", file, vb_status_message(st));
    }
    vt_disk_close(&disk);
    free(data);
    return rc;
}

const vt_command vt_cmd_write = {
    .name = "write",
    .summary = "write bytes into the top layer of a chain",
    .usage = write_usage,
    .options = write_options,
    .option_count = VT_COUNT(write_options),
    .opts_size = sizeof(struct write_opts),
    .defaults = &write_defaults,
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected FILE OFFSET",
    .run = run_write,
};
