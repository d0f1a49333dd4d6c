/* vhdtool bcd: write the BCD store vhdboot generates for a Windows VHD, or
 * show the objects and elements of any BCD store (including Windows'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "format/bcd.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "fs/fat_build.h"
#include "tools/host_file.h"
#include "tools/vhdtool.h"

static const char usage[] =
    "usage: vhdtool bcd --vhd PARTITION:\\path\\file.vhd --out BCD [--title TITLE]\n"
    "       vhdtool bcd --show BCD\n"
    "\n"
    "Writes the BCD store vhdboot generates when it starts Windows' boot manager\n"
    "for a Windows installed in a VHD: {bootmgr} (default = the entry, timeout 0),\n"
    "a Windows loader entry whose device and osdevice are vhd=[PARTITION]\\path\n"
    "(so Windows' own VHD driver opens the file and its parents), and the\n"
    "{globalsettings}/{bootloadersettings}/{resumeloadersettings} objects.\n"
    "PARTITION, the host partition holding the VHD file, is one of:\n"
    "  IMAGE#N                 partition N of a disk image or disk device\n"
    "                          (its GPT disk/partition GUIDs or MBR signature/offset)\n"
    "  gpt:{DISK-GUID}:{PARTITION-GUID}\n"
    "  mbr:SIGNATURE:OFFSET    disk signature (hex) and partition start in bytes\n"
    "--disk also writes the in-memory disk vhdboot starts the boot manager from:\n"
    "an MBR disk with one FAT16 partition at 32 KiB holding\n"
    "\\EFI\\Microsoft\\Boot\\bootmgfw.efi (from --bootmgr) and \\EFI\\Microsoft\\Boot\\BCD.\n"
    "--show prints every object and element of a BCD store.\n"
    "\n"
    "options:\n"
    "  --vhd PARTITION:PATH   the VHD file, PATH starting with '\\'\n"
    "  --out FILE             where to write the store\n"
    "  --title TEXT           the entry's description (default \"Windows (VHD)\")\n"
    "  --block-size N         logical block size of IMAGE (default 512)\n"
    "  --disk FILE            also write the boot manager's FAT disk image\n"
    "  --bootmgr FILE         the boot manager put on that disk (bootmgfw.efi)\n"
    "  --show FILE            show a store\n"
    "  -h, --help             this text\n"
    "exit status: 0 success, 1 failed, 2 usage error\n";

/* Reads a whole file into a malloc'd buffer; NULL on failure (message printed). */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        vt_error("%s: cannot open", path);
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= (64u << 20)) {
                vt_error("%s: larger than 64 MiB, not a BCD store", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                vt_error("out of memory");
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parses PARTITION (see usage) into id. Returns an exit code (message printed). */
static int parse_partition(const char *spec, uint32_t block_size, vb_disk_id *id)
{
    memset(id, 0, sizeof(*id));
    if (!strncmp(spec, "gpt:", 4)) {
        char disk[64], part[64];
        const char *colon = strchr(spec + 4, ':');
        if (!colon || (size_t)(colon - spec - 4) >= sizeof(disk) || strlen(colon + 1) >= sizeof(part))
            return vt_usage_error("bcd", "gpt: needs {DISK-GUID}:{PARTITION-GUID}");
        memcpy(disk, spec + 4, (size_t)(colon - spec - 4));
        disk[colon - spec - 4] = 0;
        strcpy(part, colon + 1);
        id->style = VB_DISK_GPT;
        if (!vb_guid_parse(disk, id->disk_guid) || !vb_guid_parse(part, id->part_guid))
            return vt_usage_error("bcd", "'%s': not two GUIDs", spec);
        return VT_EXIT_OK;
    }
    if (!strncmp(spec, "mbr:", 4)) {
        char *end;
        unsigned long long sig = strtoull(spec + 4, &end, 16);
        if (*end != ':' || sig > 0xFFFFFFFFull)
            return vt_usage_error("bcd", "mbr: needs SIGNATURE:OFFSET");
        uint64_t off;
        if (!vt_parse_size(end + 1, &off))
            return vt_usage_error("bcd", "'%s': bad partition offset", end + 1);
        id->style = VB_DISK_MBR;
        id->mbr_signature = (uint32_t)sig;
        id->part_offset = off;
        return VT_EXIT_OK;
    }
    const char *hash = strrchr(spec, '#');
    if (!hash || !hash[1])
        return vt_usage_error("bcd", "'%s': PARTITION is IMAGE#N, gpt:... or mbr:...", spec);
    char *end;
    unsigned long number = strtoul(hash + 1, &end, 10);
    if (*end || number == 0 || number > 128)
        return vt_usage_error("bcd", "'%s': bad partition number", hash + 1);
    char image[4096];
    if ((size_t)(hash - spec) >= sizeof(image))
        return vt_usage_error("bcd", "image path too long");
    memcpy(image, spec, (size_t)(hash - spec));
    image[hash - spec] = 0;
    vb_source disk;
    vb_status st = host_file_open(image, false, &disk);
    if (st != VB_OK)
        return vt_error("%s: %s", image, vb_status_message(st));
    st = vb_disk_id_read(&disk, block_size, (uint32_t)number, id);
    vb_source_close(&disk);
    if (st == VB_ERR_NOT_FOUND)
        return vt_error("%s: no partition %lu in its partition table", image, number);
    if (st != VB_OK)
        return vt_error("%s: partition table: %s", image, vb_status_message(st));
    return VT_EXIT_OK;
}

/* Current time as a Windows FILETIME (100 ns since 1601). */
static uint64_t filetime_now(void)
{
    return ((uint64_t)time(NULL) + 11644473600ull) * 10000000ull;
}

/* Writes the FAT disk holding bootmgr and the store to disk. Returns an exit code. */
static int write_disk(const char *disk, const char *bootmgr, const uint8_t *store, size_t store_len)
{
    size_t blen;
    uint8_t *bm = read_file(bootmgr, &blen);
    if (!bm)
        return VT_EXIT_FAIL;
    const vb_fat_file files[2] = {
        { "\\EFI\\Microsoft\\Boot\\bootmgfw.efi", bm, (uint32_t)blen },
        { "\\EFI\\Microsoft\\Boot\\BCD", store, (uint32_t)store_len },
    };
    uint8_t *img;
    uint64_t size;
    vb_status st = vb_fat_build(files, 2, "VHDBOOT", 0x5668d0b7, &img, &size);
    free(bm);
    if (st != VB_OK)
        return vt_error("%s: cannot build the disk: %s", disk, vb_status_message(st));
    FILE *f = fopen(disk, "wb");
    bool ok = f && fwrite(img, 1, (size_t)size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    vb_free(img);
    if (!ok)
        return vt_error("%s: cannot write", disk);
    printf("wrote %s (%llu bytes): FAT16 partition at 32 KiB with \\EFI\\Microsoft\\Boot\\bootmgfw.efi and BCD\n",
           disk, (unsigned long long)size);
    return VT_EXIT_OK;
}

/* Writes the store for --vhd to out (and the disk when asked). Returns an exit code. */
static int write_store(const char *vhd, const char *out, const char *title, uint32_t block_size,
                       const char *disk, const char *bootmgr)
{
    const char *sep = strstr(vhd, ":\\");
    if (!sep)
        return vt_usage_error("bcd", "--vhd needs PARTITION:\\path\\file.vhd");
    char part[4200];
    if ((size_t)(sep - vhd) >= sizeof(part))
        return vt_usage_error("bcd", "PARTITION too long");
    memcpy(part, vhd, (size_t)(sep - vhd));
    part[sep - vhd] = 0;
    vb_bcd_desc desc = { .vhd_path = sep + 1, .title = title };
    int rc = parse_partition(part, block_size, &desc.host);
    if (rc != VT_EXIT_OK)
        return rc;
    uint8_t *hive;
    size_t len;
    vb_status st = vb_bcd_build(&desc, filetime_now(), &hive, &len);
    if (st != VB_OK)
        return vt_error("cannot build the BCD for %s: %s", sep + 1, vb_status_message(st));
    FILE *f = fopen(out, "wb");
    bool ok = f && fwrite(hive, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        vb_free(hive);
        return vt_error("%s: cannot write", out);
    }
    printf("wrote %s (%zu bytes): entry %s \"%s\", device and osdevice vhd=[%s]%s\n",
           out, len, VB_BCD_VHDBOOT_ENTRY, title ? title : "Windows (VHD)", part, sep + 1);
    rc = disk ? write_disk(disk, bootmgr, hive, len) : VT_EXIT_OK;
    vb_free(hive);
    return rc;
}

/* Prints the elements of one object's Elements key. Returns a status. */
static vb_status show_elements(const vb_regf *h, uint32_t obj)
{
    uint32_t elements, n;
    vb_status st = vb_regf_find_key(h, obj, "Elements", &elements);
    if (st == VB_ERR_NOT_FOUND)
        return VB_OK;
    if (st != VB_OK || (st = vb_regf_key_counts(h, elements, &n, NULL)) != VB_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key, vk, reg, len;
        char name[VB_REGF_NAME_MAX * 3];
        static uint8_t data[1 << 16];
        static char text[1 << 16];
        if ((st = vb_regf_subkey(h, elements, i, &key)) != VB_OK ||
            (st = vb_regf_key_name(h, key, name, sizeof(name))) != VB_OK)
            return st;
        char *end;
        uint32_t type = (uint32_t)strtoul(name, &end, 16);
        const char *label = *end ? NULL : vb_bcd_element_name(type);
        if ((st = vb_regf_find_value(h, key, "Element", &vk)) != VB_OK ||
            (st = vb_regf_value_info(h, vk, NULL, 0, &reg, NULL)) != VB_OK ||
            (st = vb_regf_value_data(h, vk, data, sizeof(data), &len)) != VB_OK) {
            printf("    %s: unreadable (%s)\n", name, vb_status_message(st));
            continue;
        }
        vb_bcd_format_value(type, reg, data, len, text, sizeof(text));
        printf("    %s %-20s %s\n", name, label ? label : "", text);
    }
    return VB_OK;
}

/* Prints every object of the store in file. Returns an exit code. */
static int show_store(const char *file)
{
    size_t len;
    uint8_t *data = read_file(file, &len);
    if (!data)
        return VT_EXIT_FAIL;
    vb_regf h;
    uint32_t objects, n;
    vb_status st = vb_regf_open(&h, data, len);
    if (st == VB_OK)
        st = vb_regf_find_key(&h, h.root, "Objects", &objects);
    if (st == VB_OK)
        st = vb_regf_key_counts(&h, objects, &n, NULL);
    if (st != VB_OK) {
        free(data);
        return vt_error("%s: not a BCD store: %s", file, vb_status_message(st));
    }
    printf("%s: %u objects\n", file, n);
    for (uint32_t i = 0; i < n && st == VB_OK; i++) {
        uint32_t obj, dkey, vk, tlen;
        char id[VB_REGF_NAME_MAX * 3];
        uint8_t t[4] = { 0 };
        if ((st = vb_regf_subkey(&h, objects, i, &obj)) != VB_OK ||
            (st = vb_regf_key_name(&h, obj, id, sizeof(id))) != VB_OK)
            break;
        const char *alias = vb_bcd_object_alias(id);
        bool typed = vb_regf_find_path(&h, obj, "Description", &dkey) == VB_OK &&
                     vb_regf_find_value(&h, dkey, "Type", &vk) == VB_OK &&
                     vb_regf_value_data(&h, vk, t, sizeof(t), &tlen) == VB_OK && tlen == 4;
        printf("object %s%s%s type 0x%08x%s\n", id, alias ? " " : "", alias ? alias : "",
               vb_le32(t), typed ? "" : " (no Description\\Type)");
        st = show_elements(&h, obj);
    }
    free(data);
    if (st != VB_OK)
        return vt_error("%s: %s", file, vb_status_message(st));
    return VT_EXIT_OK;
}

struct bcd_opts {
    const char *vhd, *out, *title, *show, *disk, *bootmgr;
    uint64_t block_size;
};

/* Parses a --block-size: a power of two from 512 to 65536. Returns false otherwise. */
static bool opt_bcd_block_size(const char *text, void *field)
{
    uint64_t v;
    if (!vt_parse_size(text, &v) || v < 512 || v > 65536 || (v & (v - 1)))
        return false;
    *(uint64_t *)field = v;
    return true;
}

static const vt_option bcd_options[] = {
    VT_VALUE("vhd", 0, struct bcd_opts, vhd, vt_opt_string, "--vhd"),
    VT_VALUE("out", 0, struct bcd_opts, out, vt_opt_string, "--out"),
    VT_VALUE("title", 0, struct bcd_opts, title, vt_opt_string, "--title"),
    VT_VALUE("block-size", 0, struct bcd_opts, block_size, opt_bcd_block_size, "--block-size"),
    VT_VALUE("show", 0, struct bcd_opts, show, vt_opt_string, "--show"),
    VT_VALUE("disk", 0, struct bcd_opts, disk, vt_opt_string, "--disk"),
    VT_VALUE("bootmgr", 0, struct bcd_opts, bootmgr, vt_opt_string, "--bootmgr"),
};

static const struct bcd_opts bcd_defaults = { .block_size = 512 };

/* Runs "vhdtool bcd". Returns VT_EXIT_OK, VT_EXIT_FAIL or VT_EXIT_USAGE. */
static int run_bcd(const vt_command *cmd, void *opts, int argc, char **argv)
{
    (void)cmd;
    (void)argc;
    (void)argv;
    const struct bcd_opts *o = opts;
    if (o->show) {
        if (o->vhd || o->out || o->title || o->disk || o->bootmgr)
            return vt_usage_error("bcd", "--show takes no other option");
        return show_store(o->show);
    }
    if (!o->vhd || !o->out)
        return vt_usage_error("bcd", "--vhd and --out are required (or --show)");
    if (!o->disk != !o->bootmgr)
        return vt_usage_error("bcd", "--disk and --bootmgr go together");
    return write_store(o->vhd, o->out, o->title, (uint32_t)o->block_size, o->disk, o->bootmgr);
}

const vt_command vt_cmd_bcd = {
    .name = "bcd",
    .summary = "write the BCD store for Windows in a VHD, or show a BCD store",
    .usage = usage,
    .options = bcd_options,
    .option_count = VT_COUNT(bcd_options),
    .opts_size = sizeof(struct bcd_opts),
    .defaults = &bcd_defaults,
    .min_args = 0,
    .max_args = 0,
    .run = run_bcd,
};
