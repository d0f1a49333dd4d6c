/* vhdtool read: bytes of a disk through its whole chain, raw or as a hex dump. */
#include <errno.h>
#include <getopt.h>
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

/* Runs "vhdtool read": copies a byte range of the disk to stdout, a file or a hex dump.
 * Returns VT_EXIT_OK, VT_EXIT_FAIL or VT_EXIT_USAGE. */
int vt_cmd_read(int argc, char **argv)
{
    static const struct option options[] = {
        { "out", required_argument, NULL, 'o' },
        { "hex", no_argument, NULL, 'x' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out_name = NULL;
    bool hex = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:xh", options, NULL)) != -1) {
        switch (c) {
        case 'o': out_name = optarg; break;
        case 'x': hex = true; break;
        case 'h': fputs(read_usage, stdout); return VT_EXIT_OK;
        default: return vt_usage_error("read", "unknown option");
        }
    }
    if (argc - optind != 3)
        return vt_usage_error("read", "expected FILE OFFSET LENGTH");
    if (hex && out_name)
        return vt_usage_error("read", "--hex and --out exclude each other");
    const char *file = argv[optind];
    uint64_t offset, length;
    if (!vt_parse_size(argv[optind + 1], &offset))
        return vt_usage_error("read", "bad offset '%s'", argv[optind + 1]);
    if (!vt_parse_size(argv[optind + 2], &length))
        return vt_usage_error("read", "bad length '%s'", argv[optind + 2]);

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
