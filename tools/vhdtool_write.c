/* vhdtool write: bytes into the top layer of a chain (parents are never written). */
#include <errno.h>
#include <getopt.h>
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

/* Runs "vhdtool write": writes a file's bytes or a pattern at an offset of the disk.
 * Returns VT_EXIT_OK, VT_EXIT_FAIL or VT_EXIT_USAGE. */
int vt_cmd_write(int argc, char **argv)
{
    static const struct option options[] = {
        { "in", required_argument, NULL, 'i' },
        { "pattern", required_argument, NULL, 'P' },
        { "length", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *in_name = NULL, *pattern_text = NULL;
    uint64_t length = 0;
    bool have_length = false;
    int c;
    while ((c = getopt_long(argc, argv, "i:h", options, NULL)) != -1) {
        switch (c) {
        case 'i': in_name = optarg; break;
        case 'P': pattern_text = optarg; break;
        case 'l':
            if (!vt_parse_size(optarg, &length))
                return vt_usage_error("write", "bad length '%s'", optarg);
            have_length = true;
            break;
        case 'h': fputs(write_usage, stdout); return VT_EXIT_OK;
        default: return vt_usage_error("write", "unknown option");
        }
    }
    if (argc - optind != 2)
        return vt_usage_error("write", "expected FILE OFFSET");
    if (!in_name == !pattern_text)
        return vt_usage_error("write", "give either --in F or --pattern BYTE --length N");
    if (pattern_text && !have_length)
        return vt_usage_error("write", "--pattern needs --length N");
    if (in_name && have_length)
        return vt_usage_error("write", "--length only goes with --pattern");
    uint64_t pattern = 0;
    if (pattern_text && (!vt_parse_size(pattern_text, &pattern) || pattern > 255))
        return vt_usage_error("write", "bad pattern byte '%s' (0..255)", pattern_text);
    const char *file = argv[optind];
    uint64_t offset;
    if (!vt_parse_size(argv[optind + 1], &offset))
        return vt_usage_error("write", "bad offset '%s'", argv[optind + 1]);

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
