/* vhdtool info: everything the footer and header say, the parent locators
 * and the parent chain as resolved — as text or JSON. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "tools/host_file.h"
#include "tools/vhdtool.h"
#include "tools/vhdtool_vhdx.h"

static const char usage[] =
    "usage: vhdtool info FILE [--json]\n"
    "\n"
    "Shows the type, disk size (after the creator size rule), current and\n"
    "original size, CHS geometry, creator, UUID, block size, BAT entries,\n"
    "allocated blocks, parent UUID/name/locators and the resolved parent chain.\n"
    "UUIDs: the 16 bytes are printed exactly in stored order, grouped 8-4-4-4-12\n"
    "like GUID text (as vhdiinfo and QEMU print them; compare these when matching\n"
    "a child's parent UUID with a parent). VHDs store GUIDs in Microsoft byte\n"
    "order, so Windows (Get-VHD) shows the first three groups byte-reversed; that\n"
    "form follows in braces (JSON: uuid_windows).\n"
    "If the chain cannot be resolved, the file's own information is still\n"
    "shown, followed by the resolution error, and the exit status is 1. The same\n"
    "holds for a damaged trailing footer whose copy at offset 0 is intact.\n"
    "\n"
    "options:\n"
    "  --json       machine-readable output\n"
    "  -h, --help   this text\n"
    "exit status: 0 ok, 1 file or chain unreadable, 2 usage error\n";

/* Host OS codes a creator may store, as text. */
static const char *host_os_name(uint32_t os)
{
    switch (os) {
    case 0x5769326b: return "Wi2k";
    case 0x4d616320: return "Mac";
    case 0: return "none";
    default: return "other";
    }
}

/* Writes s as a JSON string literal (with quotes) to stdout. */
static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* Prints a creator app (4 raw bytes) with non-printable bytes escaped. */
static void printable_app(const char app[5], char out[20])
{
    char *o = out;
    for (int i = 0; i < 4; i++) {
        unsigned char ch = (unsigned char)app[i];
        if (ch >= 0x20 && ch < 0x7f)
            *o++ = (char)ch;
        else
            o += sprintf(o, "\\x%02x", ch);
    }
    *o = '\0';
}

struct chain_view {
    vb_chain *chain;      /* NULL when resolution failed */
    vb_diag error;        /* why it failed */
    vb_status status;
};

/* Prints the text form of info about one layer and its chain. */
static void print_text(const char *file, vb_layer *layer, const struct chain_view *cv)
{
    const vb_vhd_info *in = vb_layer_info(layer);
    char human[64], guid[40], raw[40], app[20];
    printf("file:             %s\n", file);
    if (vb_layer_vhdx(layer)) {
        vt_vhdx_print_text(layer);
        goto chain;
    }
    printf("type:             %s\n", vt_type_name(in->type));
    printf("disk size:        %s\n", vt_human_size(in->disk_size, human, sizeof(human)));
    printf("current size:     %llu\n", (unsigned long long)in->current_size);
    printf("original size:    %llu\n", (unsigned long long)in->original_size);
    printf("geometry (CHS):   %u/%u/%u\n", in->geometry.cylinders, in->geometry.heads, in->geometry.sectors);
    printable_app(in->creator_app, app);
    printf("creator:          '%s' version %u.%u, host OS %s (0x%08x)\n", app,
           in->creator_version >> 16, in->creator_version & 0xffff, host_os_name(in->creator_host_os),
           in->creator_host_os);
    printf("timestamp:        %u (seconds since 2000-01-01)\n", in->timestamp);
    vb_uuid_text(in->uuid, VB_UUID_STORED, raw);
    vb_uuid_text(in->uuid, VB_UUID_GUID, guid);
    printf("uuid:             %s (Windows shows {%s})\n", raw, guid);
    printf("saved state:      %s\n", in->saved_state ? "yes" : "no");
    if (in->short_footer)
        printf("note:             old 511-byte footer\n");
    if (in->footer_from_copy)
        printf("warning:          trailing footer damaged; using the copy at offset 0\n");
    if (in->type != VB_DISK_FIXED) {
        printf("block size:       %s\n", vt_human_size(in->block_size, human, sizeof(human)));
        printf("BAT entries:      %u (table at offset %llu)\n", in->bat_entries, (unsigned long long)in->bat_offset);
        printf("allocated blocks: %u\n", in->allocated_blocks);
    }
    if (in->type == VB_DISK_DIFF) {
        vb_uuid_text(in->parent_uuid, VB_UUID_STORED, raw);
        vb_uuid_text(in->parent_uuid, VB_UUID_GUID, guid);
        printf("parent uuid:      %s (Windows shows {%s})\n", raw, guid);
        printf("parent timestamp: %u\n", in->parent_timestamp);
        printf("parent name:      %s\n", in->parent_name);
        unsigned n = vb_layer_locator_count(layer);
        for (unsigned i = 0; i < n; i++) {
            const vb_locator *l = vb_layer_locator(layer, i);
            printf("locator %u:        %-4s %s (offset %llu, length %u, space %u)\n", i, l->code,
                   l->path[0] ? l->path : "(undecodable)", (unsigned long long)l->data_offset,
                   l->data_length, l->data_space);
        }
        if (n == 0)
            printf("locators:         none\n");
    }
chain:
    if (cv->chain) {
        printf("chain:\n");
        for (unsigned i = 0; i < vb_chain_depth(cv->chain); i++) {
            char host[PATH_MAX];
            if (!core_to_host_path(vb_chain_path(cv->chain, i), host, sizeof(host)))
                snprintf(host, sizeof(host), "%s", vb_chain_path(cv->chain, i));
            printf("  %u  %-12s %s\n", i, vt_type_name(vb_layer_info(vb_chain_layer(cv->chain, i))->type), host);
        }
    } else {
        printf("chain:            unresolved: %s\n",
               cv->error.text[0] ? cv->error.text : vb_status_message(cv->status));
    }
}

/* Prints "key": uuid pair in JSON (both forms). */
static void json_uuid(const char *key, const uint8_t uuid[16])
{
    char guid[40], raw[40];
    vb_uuid_text(uuid, VB_UUID_STORED, raw);
    vb_uuid_text(uuid, VB_UUID_GUID, guid);
    printf("  \"%s\": \"%s\",\n  \"%s_windows\": \"%s\",\n", key, raw, key, guid);
}

/* Prints the JSON form of info about one layer and its chain. */
static void print_json(const char *file, vb_layer *layer, const struct chain_view *cv)
{
    const vb_vhd_info *in = vb_layer_info(layer);
    char app[20];
    printf("{\n  \"file\": ");
    json_string(file);
    printf(",\n  \"type\": \"%s\",\n", vt_type_name(in->type));
    vt_vhdx_print_json(layer);
    printf("  \"disk_size\": %llu,\n  \"current_size\": %llu,\n  \"original_size\": %llu,\n",
           (unsigned long long)in->disk_size, (unsigned long long)in->current_size,
           (unsigned long long)in->original_size);
    printf("  \"geometry\": {\"cylinders\": %u, \"heads\": %u, \"sectors\": %u},\n",
           in->geometry.cylinders, in->geometry.heads, in->geometry.sectors);
    printable_app(in->creator_app, app);
    printf("  \"creator_app\": ");
    json_string(app);
    printf(",\n  \"creator_version\": %u,\n  \"creator_host_os\": %u,\n  \"timestamp\": %u,\n",
           in->creator_version, in->creator_host_os, in->timestamp);
    json_uuid("uuid", in->uuid);
    printf("  \"saved_state\": %s,\n  \"short_footer\": %s,\n  \"footer_from_copy\": %s,\n",
           in->saved_state ? "true" : "false", in->short_footer ? "true" : "false",
           in->footer_from_copy ? "true" : "false");
    if (in->type != VB_DISK_FIXED)
        printf("  \"block_size\": %u,\n  \"bat_entries\": %u,\n  \"bat_offset\": %llu,\n  \"allocated_blocks\": %u,\n",
               in->block_size, in->bat_entries, (unsigned long long)in->bat_offset, in->allocated_blocks);
    if (in->type == VB_DISK_DIFF) {
        json_uuid("parent_uuid", in->parent_uuid);
        printf("  \"parent_timestamp\": %u,\n  \"parent_name\": ", in->parent_timestamp);
        json_string(in->parent_name);
        printf(",\n  \"locators\": [");
        unsigned n = vb_layer_locator_count(layer);
        for (unsigned i = 0; i < n; i++) {
            const vb_locator *l = vb_layer_locator(layer, i);
            printf("%s\n    {\"code\": ", i ? "," : "");
            json_string(l->code);
            printf(", \"path\": ");
            json_string(l->path);
            printf(", \"offset\": %llu, \"length\": %u, \"space\": %u}", (unsigned long long)l->data_offset,
                   l->data_length, l->data_space);
        }
        printf("%s],\n", n ? "\n  " : "");
    }
    if (cv->chain) {
        printf("  \"chain\": [");
        for (unsigned i = 0; i < vb_chain_depth(cv->chain); i++) {
            char host[PATH_MAX];
            if (!core_to_host_path(vb_chain_path(cv->chain, i), host, sizeof(host)))
                snprintf(host, sizeof(host), "%s", vb_chain_path(cv->chain, i));
            printf("%s\n    {\"path\": ", i ? "," : "");
            json_string(host);
            printf(", \"type\": \"%s\"}", vt_type_name(vb_layer_info(vb_chain_layer(cv->chain, i))->type));
        }
        printf("\n  ],\n  \"chain_error\": null\n}\n");
    } else {
        printf("  \"chain\": null,\n  \"chain_error\": ");
        json_string(cv->error.text[0] ? cv->error.text : vb_status_message(cv->status));
        printf("\n}\n");
    }
}

struct info_opts {
    bool json;
};

static const vt_option info_options[] = {
    VT_FLAG("json", 0, struct info_opts, json),
};

/* Runs "vhdtool info": prints the file's own metadata, then its chain or why it failed.
 * Returns VT_EXIT_OK or VT_EXIT_FAIL. */
static int run_info(const vt_command *cmd, void *o, int argc, char **argv)
{
    (void)cmd;
    (void)argc;
    bool json = ((const struct info_opts *)o)->json;
    const char *file = argv[0];

    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source src;
    vb_layer *layer;
    vb_status st = vt_layer_open(file, 0, &src, &layer, &diag);
    bool damaged = false;
    if (st != VB_OK) {
        /* A damaged trailing footer: still show what the intact copy says. */
        vb_diag copy_diag;
        vt_diag_clear(&copy_diag);
        if (vt_layer_open(file, VB_OPEN_USE_FOOTER_COPY, &src, &layer, &copy_diag) != VB_OK)
            return vt_diag_error(&diag, st, file);
        damaged = true;
    }

    struct chain_view cv;
    memset(&cv, 0, sizeof(cv));
    cv.status = host_chain_open(file, damaged ? VB_OPEN_USE_FOOTER_COPY : 0, &cv.chain, &cv.error);
    if (cv.status != VB_OK)
        cv.chain = NULL;
    if (json)
        print_json(file, layer, &cv);
    else
        print_text(file, layer, &cv);
    if (!cv.chain) {
        fprintf(stderr, "vhdtool: %s\n", cv.error.text[0] ? cv.error.text : vb_status_message(cv.status));
    }
    if (damaged)
        vt_diag_error(&diag, st, file);
    int rc = cv.chain && !damaged ? VT_EXIT_OK : VT_EXIT_FAIL;
    if (cv.chain)
        vb_chain_close(cv.chain);
    vb_layer_close(layer);
    vb_source_close(&src);
    return rc;
}

const vt_command vt_cmd_info = {
    .name = "info",
    .summary = "show a VHD's or VHDX's headers, locators and parent chain",
    .usage = usage,
    .options = info_options,
    .option_count = VT_COUNT(info_options),
    .opts_size = sizeof(struct info_opts),
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected exactly one FILE",
    .run = run_info,
};
