/* vhdtool read: bytes of a disk through its whole chain, raw or as a hex dump. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/vhdtool.h"

static const char read_usage[] =
    "usage: vhdtool read FILE OFFSET LENGTH [--out F | --hex]\n"
    "\n"
    "Reads LENGTH bytes at OFFSET of the disk FILE (through its whole parent\n"
    "chain; a raw file is read as is) and writes them to stdout, to F with\n"
    "--out, or as a hex dump with --hex. OFFSET and LENGTH take K, M, G, T\n"
    "suffixes or S (sectors); any byte offset is allowed.\n"
    "\n"
    "options:\n"
    "  -o, --out F   write the bytes to file F instead of stdout\n"
    "  -x, --hex     print a hex dump instead of binary\n"
    "  -h, --help    this text\n"
    "exit status: 0 ok, 1 failed, 2 usage error\n";

#define IO_CHUNK (4u << 20)

/* Prints a hex dump line for len (<= 16) bytes at disk offset. */
static void hex_line(uint64_t offset, const uint8_t *p, size_t len)
{
    printf("%08llx ", (unsigned long long)offset);
    for (size_t i = 0; i < 16; i++) {
        if (i == 8)
            putchar(' ');
        if (i < len)
            printf(" %02x", p[i]);
        else
            printf("   ");
    }
    printf("  |");
    for (size_t i = 0; i < len; i++)
        putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
    printf("|\n");
}

struct read_opts {
    const char *out;
    bool hex;
};

static const vt_option read_options[] = {
    VT_VALUE("out", 'o', struct read_opts, out, vt_opt_string, "output file"),
    VT_FLAG("hex", 'x', struct read_opts, hex),
};

/* Runs "vhdtool read": copies LENGTH bytes at OFFSET of the whole chain to
 * stdout, a file or a hex dump. Returns an exit code. */
static int run_read(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)argc;
    const struct read_opts *opts = o;
    const char *out_name = opts->out;
    bool hex = opts->hex;
    if (hex && out_name)
        return vt_usage_error(cmd->name, "--hex and --out exclude each other");
    const char *file = argv[0];
    uint64_t offset, length;
    if (!vt_parse_size(argv[1], &offset))
        return vt_usage_error(cmd->name, "bad offset '%s'", argv[1]);
    if (!vt_parse_size(argv[2], &length))
        return vt_usage_error(cmd->name, "bad length '%s'", argv[2]);

    vt_disk disk;
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_status st = vt_disk_open(file, 0, true, &disk, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, file);
    int rc = VT_EXIT_OK;
    FILE *out = stdout;
    uint8_t *buf = NULL;
    if (offset > disk.src->size || length > disk.src->size - offset) {
        rc = vt_error("%s: range %llu+%llu is beyond the disk size %llu", file, (unsigned long long)offset,
                      (unsigned long long)length, (unsigned long long)disk.src->size);
        goto done;
    }
    if (out_name && !(out = fopen(out_name, "wb"))) {
        rc = vt_error("%s: cannot create: %s", out_name, strerror(errno));
        goto done;
    }
    if (!(buf = malloc(IO_CHUNK))) {
        rc = vt_error("out of memory");
        goto done;
    }
    for (uint64_t done = 0; done < length;) {
        size_t n = length - done < IO_CHUNK ? (size_t)(length - done) : IO_CHUNK;
        st = vt_read_at(disk.src, offset + done, buf, n);
        if (st != VB_OK) {
            rc = vt_error("%s: read at offset %llu failed: %s", file, (unsigned long long)(offset + done),
                          vb_status_message(st));
            goto done;
        }
        if (hex) {
            for (size_t i = 0; i < n; i += 16)
                hex_line(offset + done + i, buf + i, n - i < 16 ? n - i : 16);
        } else if (fwrite(buf, 1, n, out) != n) {
            rc = vt_error("%s: write failed: %s", out_name ? out_name : "stdout", strerror(errno));
            goto done;
        }
        done += n;
    }
    if (fflush(out) != 0)
        rc = vt_error("%s: write failed: %s", out_name ? out_name : "stdout", strerror(errno));
done:
    free(buf);
    if (out && out != stdout && fclose(out) != 0 && rc == VT_EXIT_OK)
        rc = vt_error("%s: write failed: %s", out_name, strerror(errno));
    vt_disk_close(&disk);
    return rc;
}

const vt_command vt_cmd_read = {
    .name = "read",
    .summary = "read bytes through a whole chain",
    .usage = read_usage,
    .options = read_options,
    .option_count = VT_COUNT(read_options),
    .opts_size = sizeof(struct read_opts),
    .min_args = 3,
    .max_args = 3,
    .args_error = "expected FILE OFFSET LENGTH",
    .run = run_read,
};
