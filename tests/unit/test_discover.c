/* Unit tests of the portable half of VHD discovery (loader/discover_list.c):
 * base detection, entry ids, details, ordering and adding to a config. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "format/vhd.h"
#include "loader/config.h"
#include "loader/discover_list.h"

/* Fills f as an opened VHD of the given type with UUID byte u and parent byte p. */
static void make(vb_found_vhd *f, enum vb_volume_kind kind, const char *volume, const char *path, int type,
                 uint8_t u, uint8_t p, unsigned depth)
{
    memset(f, 0, sizeof *f);
    f->volume_kind = kind;
    snprintf(f->volume, sizeof f->volume, "%s", volume);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->opened = true;
    f->type = type;
    f->size = 16u << 20;
    memset(f->uuid, u, 16);
    if (type == VB_DISK_DIFF)
        memset(f->parent_uuid, p, 16);
    f->depth = depth;
}

static void vhd_names(void **state)
{
    (void)state;
    assert_true(vb_discover_is_vhd_name("a.vhd"));
    assert_true(vb_discover_is_vhd_name("WIN10.VHD"));
    assert_true(vb_discover_is_vhd_name("x.Vhd"));
    assert_false(vb_discover_is_vhd_name(".vhd"));
    assert_true(vb_discover_is_vhd_name("a.vhdx"));
    assert_true(vb_discover_is_vhd_name("Child.AVHDX"));
    assert_false(vb_discover_is_vhd_name(".vhdx"));
    assert_false(vb_discover_is_vhd_name("a.avhd"));
    assert_false(vb_discover_is_vhd_name("a.vhdx.bak"));
    assert_false(vb_discover_is_vhd_name("a.vhd.bak"));
    assert_false(vb_discover_is_vhd_name("avhd"));
    assert_false(vb_discover_is_vhd_name(""));
}

static void bases_are_parents_of_found_disks(void **state)
{
    (void)state;
    vb_found_vhd f[5];
    bool base[5];
    make(&f[0], VB_VOLUME_SELF, "", "\\vms\\base.vhd", VB_DISK_DYNAMIC, 1, 0, 1);
    make(&f[1], VB_VOLUME_SELF, "", "\\vms\\child.vhd", VB_DISK_DIFF, 2, 1, 2);
    make(&f[2], VB_VOLUME_SELF, "", "\\vms\\grandchild.vhd", VB_DISK_DIFF, 3, 2, 3);
    make(&f[3], VB_VOLUME_SELF, "", "\\vms\\alone.vhd", VB_DISK_FIXED, 4, 0, 1);
    make(&f[4], VB_VOLUME_SELF, "", "\\vms\\broken.vhd", VB_DISK_DIFF, 5, 9, 0);
    f[4].opened = false; /* an unopened file names no parent */
    memset(f[4].parent_uuid, 4, 16);
    vb_discover_mark_bases(f, 5, base);
    assert_true(base[0]);
    assert_true(base[1]);   /* a differencing disk can be a base too */
    assert_false(base[2]);
    assert_false(base[3]);  /* an unopened "child" does not make alone.vhd a base */
    assert_false(base[4]);
}

static void ids_and_details(void **state)
{
    (void)state;
    vb_found_vhd f;
    char id[VB_CONFIG_ID_MAX], detail[VB_CONFIG_DETAIL_MAX];
    make(&f, VB_VOLUME_SELF, "", "\\vms\\lab\\win.vhd", VB_DISK_DIFF, 1, 2, 3);
    assert_true(vb_discover_entry_id(&f, id, sizeof id));
    assert_string_equal(id, "vms/lab/win.vhd");
    make(&f, VB_VOLUME_LABEL, "DATA", "\\a.vhd", VB_DISK_FIXED, 1, 0, 1);
    assert_true(vb_discover_entry_id(&f, id, sizeof id));
    assert_string_equal(id, "DATA:a.vhd");
    assert_false(vb_discover_entry_id(&f, id, 6)); /* does not fit */

    vb_discover_detail(&f, false, detail, sizeof detail);
    assert_string_equal(detail, "16 MiB fixed, 1 layer");
    make(&f, VB_VOLUME_SELF, "", "\\b.vhd", VB_DISK_DIFF, 1, 2, 3);
    f.size = 40ULL << 30;
    vb_discover_detail(&f, true, detail, sizeof detail);
    assert_string_equal(detail, "base, 40 GiB differencing, 3 layers");
    f.depth = 0;
    snprintf(f.problem, sizeof f.problem, "parent not found");
    vb_discover_detail(&f, false, detail, sizeof detail);
    assert_string_equal(detail, "40 GiB differencing, chain broken: parent not found");
    f.opened = false;
    snprintf(f.problem, sizeof f.problem, "footer checksum mismatch");
    vb_discover_detail(&f, false, detail, sizeof detail);
    assert_string_equal(detail, "cannot open: footer checksum mismatch");
}

static void added_in_order_after_configured_entries(void **state)
{
    (void)state;
    static vb_config cfg;
    vb_diag diag;
    const char *text = "discover on\ndefault vms/z.vhd\nentry mine\nvhd \\vms\\b.vhd\nentry vms/b.vhd\nvhd \\x.vhd\n";
    assert_int_equal(vb_config_parse(text, strlen(text), "c", &cfg, &diag), VB_OK);
    vb_found_vhd f[5];
    make(&f[0], VB_VOLUME_LABEL, "DATA", "\\vms\\a.vhd", VB_DISK_DYNAMIC, 1, 0, 1);
    make(&f[1], VB_VOLUME_SELF, "", "\\vms\\Z.vhd", VB_DISK_DIFF, 2, 3, 2);
    make(&f[2], VB_VOLUME_SELF, "", "\\vms\\base.vhd", VB_DISK_DYNAMIC, 3, 0, 1);
    make(&f[3], VB_VOLUME_SELF, "", "\\vms\\b.vhd", VB_DISK_FIXED, 4, 0, 1); /* id taken by a config entry */
    make(&f[4], VB_VOLUME_SELF, "", "\\a.vhd", VB_DISK_FIXED, 5, 0, 1);
    assert_int_equal(vb_discover_add(&cfg, f, 5), 4);
    assert_int_equal(cfg.count, 6);
    assert_string_equal(cfg.entries[0].id, "mine");
    assert_string_equal(cfg.entries[2].id, "a.vhd");         /* own volume first, by path */
    assert_string_equal(cfg.entries[3].id, "vms/base.vhd");
    assert_true(cfg.entries[3].base);
    assert_int_equal(cfg.entries[3].write, VB_WRITE_VOLATILE);
    assert_string_equal(cfg.entries[4].id, "vms/Z.vhd");      /* case-insensitive order */
    assert_false(cfg.entries[4].base);
    assert_int_equal(cfg.entries[4].write, VB_WRITE_PERSISTENT);
    assert_string_equal(cfg.entries[4].detail, "16 MiB differencing, 2 layers");
    assert_string_equal(cfg.entries[5].id, "DATA:vms/a.vhd");  /* other volumes last */
    assert_string_equal(cfg.entries[5].title, "DATA:\\vms\\a.vhd");
    assert_int_equal(cfg.entries[5].volume_kind, VB_VOLUME_LABEL);
    assert_string_equal(cfg.entries[5].volume, "DATA");
    assert_string_equal(cfg.entries[5].vhd, "\\vms\\a.vhd");
    /* the default named a discovered entry: ids are exact, so "vms/z.vhd" is not "vms/Z.vhd" */
    assert_int_equal(vb_config_find(&cfg, cfg.default_id), -1);
    assert_int_equal(vb_config_find(&cfg, "vms/Z.vhd"), 4);
}

static void stops_when_full(void **state)
{
    (void)state;
    static vb_config cfg;
    static vb_found_vhd f[VB_CONFIG_MAX_ENTRIES + 5];
    memset(&cfg, 0, sizeof cfg);
    for (unsigned i = 0; i < VB_CONFIG_MAX_ENTRIES + 5; i++) {
        char path[32];
        snprintf(path, sizeof path, "\\d%02u.vhd", i);
        make(&f[i], VB_VOLUME_SELF, "", path, VB_DISK_FIXED, (uint8_t)i, 0, 1);
    }
    assert_int_equal(vb_discover_add(&cfg, f, VB_CONFIG_MAX_ENTRIES + 5), VB_CONFIG_MAX_ENTRIES);
    assert_int_equal(cfg.count, VB_CONFIG_MAX_ENTRIES);
    assert_string_equal(cfg.entries[0].id, "d00.vhd");
    assert_int_equal(vb_discover_add(&cfg, f, 1), 0);
    assert_int_equal(vb_discover_add(&cfg, f, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vhd_names),
        cmocka_unit_test(bases_are_parents_of_found_disks),
        cmocka_unit_test(ids_and_details),
        cmocka_unit_test(added_in_order_after_configured_entries),
        cmocka_unit_test(stops_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
