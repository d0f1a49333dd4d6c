/* vhdtool: the VHDX side of info, check --repair, create and convert. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/vhdtool_vhdx.h"

static const char *const state_names[VB_VHDX_STATES] = {
    "NOT_PRESENT", "UNDEFINED", "ZERO", "UNMAPPED", "reserved4", "reserved5", "FULLY_PRESENT", "PARTIALLY_PRESENT",
};

/* One word for the log state. */
static const char *log_state(const vb_vhdx_info *x)
{
    if (!x->log_dirty)
        return "clean";
    return x->log_replayed_on_disk ? "was dirty, replayed into the file" : "dirty, replayed in memory";
}

void vt_vhdx_print_text(vb_layer *layer)
{
    const vb_vhdx_info *x = vb_layer_vhdx(layer);
    char human[64], g[37];
    printf("format:           VHDX version %u\n", x->version);
    printf("type:             %s\n", vt_type_name(vb_layer_info(layer)->type));
    printf("disk size:        %s\n", vt_human_size(x->virtual_size, human, sizeof(human)));
    printf("sector size:      %u logical, %u physical\n", x->logical_sector_size, x->physical_sector_size);
    printf("creator:          %s\n", x->creator[0] ? x->creator : "(none)");
    printf("block size:       %s\n", vt_human_size(x->block_size, human, sizeof(human)));
    printf("chunk ratio:      %u\n", x->chunk_ratio);
    printf("headers:          1 %s seq %llu, 2 %s seq %llu; current %u\n", x->header_valid[0] ? "valid" : "DAMAGED",
           (unsigned long long)x->header_seq[0], x->header_valid[1] ? "valid" : "DAMAGED",
           (unsigned long long)x->header_seq[1], x->current_header + 1);
    printf("region tables:    1 %s, 2 %s\n", x->region_valid[0] ? "valid" : "DAMAGED",
           x->region_valid[1] ? "valid" : "DAMAGED");
    vb_guid_format(x->data_write_guid, g);
    printf("DataWriteGuid:    %s\n", g);
    vb_guid_format(x->file_write_guid, g);
    printf("FileWriteGuid:    %s\n", g);
    vb_guid_format(x->page83, g);
    printf("Virtual Disk ID:  %s\n", g);
    vb_guid_format(x->log_guid, g);
    printf("log:              %s (LogGuid %s, %u bytes at %llu", log_state(x), g, x->log_length,
           (unsigned long long)x->log_offset);
    if (x->log_dirty)
        printf(", %u entries up to sequence %llu", x->log_entries_replayed, (unsigned long long)x->log_head_seq);
    printf(")\n");
    printf("BAT:              %llu entries at %llu; metadata at %llu\n", (unsigned long long)x->bat_entries,
           (unsigned long long)x->bat_offset, (unsigned long long)x->meta_offset);
    printf("payload blocks:   %llu:", (unsigned long long)x->data_blocks);
    for (unsigned s = 0; s < VB_VHDX_STATES; s++)
        if (x->payload_states[s])
            printf(" %llu %s", (unsigned long long)x->payload_states[s], state_names[s]);
    printf("\n");
    if (x->has_parent) {
        printf("sector bitmaps:   %llu present of %llu\n", (unsigned long long)x->bitmaps_present,
               (unsigned long long)x->bitmap_blocks);
        vb_guid_format(x->parent.linkage, g);
        printf("parent_linkage:   {%s}\n", g);
        if (x->parent.has_linkage2) {
            vb_guid_format(x->parent.linkage2, g);
            printf("parent_linkage2:  {%s}\n", g);
        }
        printf("relative_path:    %s\n", x->parent.relative_path[0] ? x->parent.relative_path : "(none)");
        printf("volume_path:      %s\n", x->parent.volume_path[0] ? x->parent.volume_path : "(none)");
        printf("absolute_win32_path: %s\n",
               x->parent.absolute_win32_path[0] ? x->parent.absolute_win32_path : "(none)");
    }
}

/* Prints a JSON string literal (ASCII control characters escaped). */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

void vt_vhdx_print_json(vb_layer *layer)
{
    const vb_vhdx_info *x = vb_layer_vhdx(layer);
    printf("  \"format\": \"%s\",\n", x ? "vhdx" : "vhd");
    printf("  \"sector_size\": %u,\n", vb_layer_info(layer)->sector_size);
    if (!x)
        return;
    char g[37];
    printf("  \"vhdx\": {\"logical_sector_size\": %u, \"physical_sector_size\": %u, \"block_size\": %u, "
           "\"chunk_ratio\": %u, \"creator\": ",
           x->logical_sector_size, x->physical_sector_size, x->block_size, x->chunk_ratio);
    json_str(x->creator);
    vb_guid_format(x->data_write_guid, g);
    printf(", \"data_write_guid\": \"%s\"", g);
    vb_guid_format(x->file_write_guid, g);
    printf(", \"file_write_guid\": \"%s\"", g);
    vb_guid_format(x->page83, g);
    printf(", \"virtual_disk_id\": \"%s\"", g);
    vb_guid_format(x->log_guid, g);
    printf(", \"log_guid\": \"%s\", \"log_dirty\": %s, \"log_entries\": %u", g, x->log_dirty ? "true" : "false",
           x->log_entries_replayed);
    printf(", \"header_seq\": [%llu, %llu], \"current_header\": %u", (unsigned long long)x->header_seq[0],
           (unsigned long long)x->header_seq[1], x->current_header + 1);
    printf(", \"payload_states\": {");
    bool first = true;
    for (unsigned s = 0; s < VB_VHDX_STATES; s++)
        if (x->payload_states[s]) {
            printf("%s\"%s\": %llu", first ? "" : ", ", state_names[s], (unsigned long long)x->payload_states[s]);
            first = false;
        }
    printf("}, \"bitmaps_present\": %llu", (unsigned long long)x->bitmaps_present);
    if (x->has_parent) {
        vb_guid_format(x->parent.linkage, g);
        printf(", \"parent_linkage\": \"%s\"", g);
        if (x->parent.has_linkage2) {
            vb_guid_format(x->parent.linkage2, g);
            printf(", \"parent_linkage2\": \"%s\"", g);
        }
        printf(", \"relative_path\": ");
        json_str(x->parent.relative_path);
        printf(", \"volume_path\": ");
        json_str(x->parent.volume_path);
        printf(", \"absolute_win32_path\": ");
        json_str(x->parent.absolute_win32_path);
    }
    printf("},\n");
}

int vt_vhdx_repair(const char *file, bool *was_vhdx)
{
    vb_source src;
    vb_layer *layer;
    vb_diag diag;
    vt_diag_clear(&diag);
    *was_vhdx = false;
    vb_status st = vt_layer_open(file, 0, &src, &layer, &diag);
    if (st != VB_OK)
        return VT_EXIT_FAIL;
    const vb_vhdx_info *x = vb_layer_vhdx(layer);
    bool dirty = x && x->log_dirty;
    unsigned entries = x ? x->log_entries_replayed : 0;
    *was_vhdx = x != NULL;
    vb_layer_close(layer);
    vb_source_close(&src);
    if (!*was_vhdx)
        return VT_EXIT_FAIL;
    if (!dirty) {
        printf("%s: the log is empty; nothing to replay\n", file);
        return VT_EXIT_FAIL;
    }
    printf("%s: repairing: replaying %u log entr%s into the file\n", file, entries, entries == 1 ? "y" : "ies");
    fflush(stdout);
    /* a writable open replays the log on disk and clears it */
    vt_diag_clear(&diag);
    st = vt_layer_open(file, VB_OPEN_WRITABLE, &src, &layer, &diag);
    if (st != VB_OK) {
        printf("%s: repair failed: %s\n", file, diag.text[0] ? diag.text : vb_status_message(st));
        return VT_EXIT_FAIL;
    }
    vb_layer_close(layer);
    st = vb_source_flush(&src);
    vb_source_close(&src);
    if (st != VB_OK) {
        printf("%s: repair failed: %s\n", file, vb_status_message(st));
        return VT_EXIT_FAIL;
    }
    printf("%s: log replayed\n", file);
    return VT_EXIT_OK;
}

/* Fills 48 random GUID bytes (file write, data write, page 83). */
static bool random_guids(uint8_t guids[48])
{
    return vt_random_uuid(guids) && vt_random_uuid(guids + 16) && vt_random_uuid(guids + 32);
}

/* Writes a new VHDX from params to file (refusing an existing file). */
static int create_from(const char *file, vb_vhdx_create_params *p)
{
    uint8_t guids[48];
    if (!random_guids(guids))
        return vt_error("cannot read random bytes from /dev/urandom for the GUIDs");
    p->guids = guids;
    if (access(file, F_OK) == 0)
        return vt_error("%s: already exists (remove it first)", file);
    vb_source dst;
    vb_status st = host_file_create(file, &dst);
    if (st != VB_OK)
        return vt_error("%s: cannot create: %s", file, vb_status_message(st));
    vb_diag diag;
    vt_diag_clear(&diag);
    st = vb_vhdx_create(&dst, p, &diag);
    vb_source_close(&dst);
    if (st != VB_OK) {
        unlink(file);
        return vt_diag_error(&diag, st, file);
    }
    return VT_EXIT_OK;
}

int vt_vhdx_create(const char *file, enum vb_disk_type type, uint64_t size, uint32_t block_size,
                   uint32_t sector_size)
{
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.size = size;
    p.block_size = block_size;
    p.logical_sector_size = sector_size;
    p.physical_sector_size = sector_size == 4096 ? 4096 : 0;
    return create_from(file, &p);
}

int vt_vhdx_create_diff(const char *parent_path, const char *file)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source src;
    vb_layer *layer;
    vb_status st = vt_layer_open(parent_path, 0, &src, &layer, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, parent_path);
    const vb_vhdx_info *px = vb_layer_vhdx(layer);
    vb_vhdx_info parent;
    if (px)
        parent = *px;
    vb_layer_close(layer);
    vb_source_close(&src);
    if (!px)
        return vt_error("%s: not a VHDX", parent_path);
    char abs_path[VB_PATH_MAX], rel_path[VB_PATH_MAX];
    if (!vt_windows_absolute(parent_path, abs_path, sizeof(abs_path)) ||
        !vt_windows_relative(file, parent_path, rel_path, sizeof(rel_path)))
        return vt_error("%s: path too long or not resolvable for a locator", parent_path);
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = VB_DISK_DIFF;
    p.parent = &parent;
    p.parent_relative = rel_path;
    p.parent_absolute = abs_path;
    p.physical_sector_size = parent.physical_sector_size;
    int rc = create_from(file, &p);
    if (rc == VT_EXIT_OK)
        printf("created %s: differencing VHDX, parent %s (%s)\n", file, abs_path, rel_path);
    return rc;
}

int vt_vhdx_output_create(vt_output *out, const vb_vhd_info *in_info)
{
    vb_vhdx_create_params p;
    memset(&p, 0, sizeof(p));
    p.type = out->format == VT_OUT_VHDX_FIXED ? VB_DISK_FIXED : VB_DISK_DYNAMIC;
    p.size = out->size;
    p.block_size = out->block_size ? out->block_size : 2u << 20;
    (void)in_info;
    uint8_t guids[48];
    if (!random_guids(guids))
        return vt_error("cannot read random bytes from /dev/urandom for the GUIDs");
    p.guids = guids;
    vb_status st = host_file_create(out->name, &out->file);
    if (st != VB_OK)
        return vt_error("%s: cannot create: %s", out->name, vb_status_message(st));
    vb_diag diag;
    vt_diag_clear(&diag);
    st = vb_vhdx_create(&out->file, &p, &diag);
    if (st == VB_OK)
        st = vb_layer_open(&out->file, out->name, VB_OPEN_WRITABLE, &out->layer, &diag);
    if (st != VB_OK) {
        vb_source_close(&out->file);
        unlink(out->name);
        return vt_diag_error(&diag, st, out->name);
    }
    /* the headers already carry fresh GUIDs: the first write keeps them new ones too */
    uint8_t more[32];
    if (vt_random_uuid(more) && vt_random_uuid(more + 16))
        vb_vhdx_set_write_guids(out->layer, more);
    out->block_size = p.block_size;
    return VT_EXIT_OK;
}

int vt_vhdx_set_parent(const char *child, const char *parent, bool *is_vhdx)
{
    vb_diag diag;
    vt_diag_clear(&diag);
    vb_source cf, pf;
    vb_layer *cl, *pl;
    *is_vhdx = false;
    if (vt_layer_open(child, 0, &cf, &cl, &diag) != VB_OK)
        return VT_EXIT_FAIL;
    const vb_vhdx_info *cx = vb_layer_vhdx(cl);
    vb_vhdx_info ci;
    if (cx)
        ci = *cx;
    vb_layer_close(cl);
    vb_source_close(&cf);
    if (!cx)
        return VT_EXIT_FAIL;
    *is_vhdx = true;
    if (!ci.has_parent)
        return vt_error("%s: %s", child, vb_status_message(VB_ERR_NOT_DIFFERENCING));
    vt_diag_clear(&diag);
    vb_status st = vt_layer_open(parent, 0, &pf, &pl, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, parent);
    const vb_vhdx_info *px = vb_layer_vhdx(pl);
    vb_vhdx_info pi;
    if (px)
        pi = *px;
    vb_layer_close(pl);
    vb_source_close(&pf);
    if (!px)
        return vt_error("%s: refused: %s is not a VHDX (%s)", child, parent, vb_status_message(VB_ERR_CHAIN_MIXED));
    char want[37], have[37];
    vb_guid_format(ci.parent.linkage, want);
    vb_guid_format(pi.data_write_guid, have);
    if (memcmp(pi.data_write_guid, ci.parent.linkage, 16) != 0 &&
        !(ci.parent.has_linkage2 && memcmp(pi.data_write_guid, ci.parent.linkage2, 16) == 0))
        return vt_error("%s: refused: %s has DataWriteGuid %s but parent_linkage is %s", child, parent, have, want);
    if (pi.virtual_size != ci.virtual_size)
        return vt_error("%s: refused: %s (%llu bytes): %s (%llu bytes)", child, parent,
                        (unsigned long long)pi.virtual_size, vb_status_message(VB_ERR_PARENT_SIZE),
                        (unsigned long long)ci.virtual_size);
    char abs_path[VB_PATH_MAX], rel_path[VB_PATH_MAX];
    if (!vt_windows_absolute(parent, abs_path, sizeof(abs_path)) ||
        !vt_windows_relative(child, parent, rel_path, sizeof(rel_path)))
        return vt_error("%s: path too long or not resolvable", parent);
    uint8_t fw[16];
    if (!vt_random_uuid(fw))
        return vt_error("cannot read random bytes from /dev/urandom for the GUID");
    st = host_file_open(child, true, &cf);
    if (st != VB_OK)
        return vt_error("%s: cannot open for writing: %s", child, vb_status_message(st));
    vt_diag_clear(&diag);
    st = vb_vhdx_set_parent_paths(&cf, child, rel_path, abs_path, fw, &diag);
    vb_source_close(&cf);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child);
    vb_chain *chain;
    vt_diag_clear(&diag);
    st = host_chain_open(child, 0, &chain, &diag);
    if (st != VB_OK)
        return vt_diag_error(&diag, st, child);
    char core[VB_PATH_MAX];
    int rc = VT_EXIT_OK;
    if (!host_to_core_path(parent, core, sizeof(core)) || vb_chain_depth(chain) < 2 ||
        strcmp(vb_chain_path(chain, 1), core) != 0)
        rc = vt_error("%s: after the update the chain resolves to %s, not %s", child,
                      vb_chain_depth(chain) > 1 ? vb_chain_path(chain, 1) : "(no parent)", parent);
    vb_chain_close(chain);
    if (rc == VT_EXIT_OK)
        printf("%s: parent is now %s (%s)\n", child, abs_path, rel_path);
    return rc;
}

bool vt_vhdx_name(const char *path)
{
    size_t n = strlen(path);
    return (n >= 5 && !strcasecmp(path + n - 5, ".vhdx")) || (n >= 6 && !strcasecmp(path + n - 6, ".avhdx"));
}
