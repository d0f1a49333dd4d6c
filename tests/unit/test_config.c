/* Unit tests of the boot configuration parser (loader/config.c) and of the
 * load-options path picker (loader/options.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loader/config.h"
#include "loader/options.h"

static vb_config cfg;
static vb_diag diag;

/* Parses a NUL-terminated text; returns the status. */
static vb_status parse(const char *text)
{
    memset(&diag, 0, sizeof diag);
    return vb_config_parse(text, strlen(text), "\\vhdboot.conf", &cfg, &diag);
}

/* Asserts that text fails to parse with a message containing every fragment. */
static void expect_error(const char *text, const char *fragment1, const char *fragment2)
{
    assert_int_equal(parse(text), VB_ERR_CONFIG);
    assert_int_equal(diag.status, VB_ERR_CONFIG);
    if (!strstr(diag.text, fragment1) || (fragment2 && !strstr(diag.text, fragment2)))
        fail_msg("message [%s] lacks [%s] / [%s]", diag.text, fragment1, fragment2 ? fragment2 : "");
    assert_non_null(strstr(diag.text, "\\vhdboot.conf"));
}

static void full_file(void **state)
{
    (void)state;
    const char *text =
        "\xef\xbb\xbf# boot menu\r\n"
        "timeout 3\r\n"
        "default lab\r\n"
        "\r\n"
        "entry win\r\n"
        "  title Windows 11 (lab)\r\n"
        "  vhd \\vms\\win.vhd\r\n"
        "  write volatile\r\n"
        "entry lab\r\n"
        "\tvhd DATA:/images/lab.vhd\n"
        "\tefi /EFI/debian/grubx64.efi\n"
        "\twrite READONLY\n"
        "entry uuid\n"
        "vhd 0F2a6e1b-1c3d-4e5f-8a9b-0c1d2e3f4a5b:\\x.vhd\n"
        "entry forced\n"
        "vhd LABEL=0F2a6e1b-1c3d-4e5f-8a9b-0c1d2e3f4a5b:\\y.vhd\n"
        "write Persistent-Or-Volatile\n"
        "entry rel\n"
        "vhd disks\\rel.vhd";
    assert_int_equal(parse(text), VB_OK);
    assert_int_equal(cfg.count, 5);
    assert_int_equal(cfg.timeout, 3);
    assert_int_equal(cfg.default_index, 1);

    vb_boot_entry *w = &cfg.entries[0];
    assert_string_equal(w->id, "win");
    assert_string_equal(w->title, "Windows 11 (lab)");
    assert_int_equal(w->volume_kind, VB_VOLUME_SELF);
    assert_string_equal(w->vhd, "\\vms\\win.vhd");
    assert_string_equal(w->efi, "");
    assert_int_equal(w->write, VB_WRITE_VOLATILE);
    assert_int_equal(w->line, 5);

    vb_boot_entry *l = &cfg.entries[1];
    assert_string_equal(l->title, "lab");
    assert_int_equal(l->volume_kind, VB_VOLUME_LABEL);
    assert_string_equal(l->volume, "DATA");
    assert_string_equal(l->vhd, "\\images\\lab.vhd");
    assert_string_equal(l->efi, "\\EFI\\debian\\grubx64.efi");
    assert_int_equal(l->write, VB_WRITE_READONLY);

    assert_int_equal(cfg.entries[2].volume_kind, VB_VOLUME_PARTUUID);
    assert_string_equal(cfg.entries[2].volume, "0F2a6e1b-1c3d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_string_equal(cfg.entries[2].vhd, "\\x.vhd");
    assert_int_equal(cfg.entries[2].write, VB_WRITE_PERSISTENT);
    assert_int_equal(cfg.entries[3].volume_kind, VB_VOLUME_LABEL);
    assert_int_equal(cfg.entries[3].write, VB_WRITE_PERSISTENT_OR_VOLATILE);
    assert_int_equal(cfg.entries[4].volume_kind, VB_VOLUME_SELF);
    assert_string_equal(cfg.entries[4].vhd, "disks\\rel.vhd");
}

static void defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("entry a\nvhd \\a.vhd\n"), VB_OK);
    assert_int_equal(cfg.count, 1);
    assert_int_equal(cfg.timeout, VB_CONFIG_DEFAULT_TIMEOUT);
    assert_int_equal(cfg.default_index, 0);
    assert_string_equal(cfg.entries[0].title, "a");
    assert_int_equal(parse("timeout 0\nentry a\nvhd \\a.vhd"), VB_OK);
    assert_int_equal(cfg.timeout, 0);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    expect_error("entry a\nvhd \\a.vhd\nfoo bar\n", "line 3", "unknown keyword 'foo'");
    expect_error("entry a\nvhd \\a.vhd\nentry a\nvhd \\b.vhd\n", "line 3", "duplicate entry id 'a' (first on line 1)");
    expect_error("# x\nentry a\ntitle A\nentry b\nvhd \\b.vhd\n", "line 2", "entry has no vhd: 'a'");
    expect_error("entry a\nvhd \\a.vhd\nentry b\n", "line 3", "no vhd");
    expect_error("default zz\nentry a\nvhd \\a.vhd\n", "line 1", "unknown entry: 'zz'");
    expect_error("timeout 5s\nentry a\nvhd \\a.vhd\n", "line 1", "bad number");
    expect_error("timeout -1\nentry a\nvhd \\a.vhd\n", "line 1", "bad number");
    expect_error("timeout 99999999999999999999\nentry a\nvhd \\a.vhd\n", "line 1", "bad number");
    expect_error("title X\nentry a\nvhd \\a.vhd\n", "line 1", "outside an entry: 'title'");
    expect_error("vhd \\a.vhd\n", "line 1", "outside an entry: 'vhd'");
    expect_error("entry a\nvhd \\a.vhd\nwrite sometimes\n", "line 3", "bad write mode");
    expect_error("entry a\nvhd \\a.vhd\nvhd \\b.vhd\n", "line 3", "'vhd' given twice in entry 'a'");
    expect_error("entry a\nvhd\n", "line 2", "missing value for 'vhd'");
    expect_error("timeout 1\nentry a\nvhd \\a.vhd\ntimeout 2\n", "line 4", "'timeout' given twice (first on line 1)");
    expect_error("default a\nentry a\nvhd \\a.vhd\ndefault a\n", "line 4", "'default' given twice (first on line 1)");
    expect_error("entry a\nvhd \\a.vhd\nwrite volatile\nentry b\nvhd \\b.vhd\nwrite readonly\nwrite volatile\n", "line 7",
                 "'write' given twice in entry 'b'");
    expect_error("entry a\nvhd DATA:\n", "line 2", "path missing");
    expect_error("entry a\nvhd :\\x.vhd\n", "line 2", "volume name missing");
    expect_error("entry a\nvhd \\a.vhd\nefi grub.efi\n", "line 3", "must start with");
    expect_error("entry a b\nvhd \\a.vhd\n", "line 1", "one word");
    expect_error("timeout 1\ntimeout 2\nentry a\nvhd \\a.vhd\n", "line 2", "twice");
    expect_error("# nothing\n\n", "no boot entries", NULL);
    expect_error("entry a\nvhd \\a\x01.vhd\n", "line 2", "control character");
}

static void discover_keywords(void **state)
{
    (void)state;
    assert_int_equal(parse("timeout 2\n"), VB_ERR_CONFIG); /* no entries, no discovery */
    assert_int_equal(parse("discover on\n"), VB_OK);      /* discovery alone may fill the menu */
    assert_true(cfg.discover);
    assert_int_equal(cfg.count, 0);
    assert_int_equal(cfg.discover_path_count, 0);
    assert_int_equal(parse("Discover OFF\nentry a\nvhd \\a.vhd\n"), VB_ERR_CONFIG); /* keywords are lowercase */
    assert_int_equal(parse("discover OFF\nentry a\nvhd \\a.vhd\n"), VB_OK);
    assert_false(cfg.discover);
    assert_int_equal(parse("discover on\ndiscover-path /lab/\ndiscover-path \\\ndefault vms/x.vhd\n"), VB_OK);
    assert_int_equal(cfg.discover_path_count, 2);
    assert_string_equal(cfg.discover_paths[0], "\\lab");
    assert_string_equal(cfg.discover_paths[1], "\\");
    assert_string_equal(cfg.default_id, "vms/x.vhd"); /* resolved after discovery */
    expect_error("discover maybe\n", "line 1", "bad value for discover");
    expect_error("discover on\n\ndiscover off\n", "line 3", "'discover' given twice (first on line 1)");
    expect_error("discover on\ndiscover-path vms\n", "line 2", "must start with");
    expect_error("discover on\ndiscover-path\n", "line 2", "missing value for 'discover-path'");
    char text[2048], long_path[200];
    memset(long_path, 'p', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    snprintf(text, sizeof text, "discover on\ndiscover-path \\%s\n", long_path);
    expect_error(text, "line 2", "discover-path too long");
    size_t n = (size_t)snprintf(text, sizeof text, "discover on\n");
    for (unsigned i = 0; i <= VB_CONFIG_DISCOVER_PATHS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "discover-path \\d%u\n", i);
    char line[32];
    snprintf(line, sizeof line, "line %u", VB_CONFIG_DISCOVER_PATHS_MAX + 2);
    expect_error(text, line, "too many discover-path folders");
}

static void embedded_nul_is_refused(void **state)
{
    (void)state;
    const char text[] = "entry a\nvhd \\a.vhd\0junk\n";
    assert_int_equal(vb_config_parse(text, sizeof text - 1, "c", &cfg, &diag), VB_ERR_CONFIG);
    assert_non_null(strstr(diag.text, "line 2"));
}

static void overlong_values(void **state)
{
    (void)state;
    char text[2048];
    char id[VB_CONFIG_ID_MAX + 10];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(text, sizeof text, "entry %s\nvhd \\a.vhd\n", id);
    expect_error(text, "line 1", "too long");
    char path[1200];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    snprintf(text, sizeof text, "entry a\nvhd \\%s\n", path);
    expect_error(text, "line 2", "too long");
}

static void too_many_entries(void **state)
{
    (void)state;
    char text[4096];
    size_t n = 0;
    for (unsigned i = 0; i < VB_CONFIG_MAX_ENTRIES + 1; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "entry e%u\nvhd \\e%u.vhd\n", i, i);
    char line[32];
    snprintf(line, sizeof line, "line %u", 2 * VB_CONFIG_MAX_ENTRIES + 1);
    expect_error(text, line, "too many entries");
}

static void single_entry_from_options(void **state)
{
    (void)state;
    assert_int_equal(vb_config_single("\\images\\disk.vhd", &cfg, &diag), VB_OK);
    assert_int_equal(cfg.count, 1);
    assert_int_equal(cfg.timeout, 0);
    assert_string_equal(cfg.entries[0].vhd, "\\images\\disk.vhd");
    assert_int_equal(cfg.entries[0].write, VB_WRITE_PERSISTENT);
    assert_int_equal(vb_config_single("USB:/a.vhd", &cfg, &diag), VB_OK);
    assert_int_equal(cfg.entries[0].volume_kind, VB_VOLUME_LABEL);
    assert_string_equal(cfg.entries[0].vhd, "\\a.vhd");
    assert_int_equal(vb_config_single("X:", &cfg, &diag), VB_ERR_CONFIG);
}

static void write_mode_names(void **state)
{
    (void)state;
    assert_string_equal(vb_write_mode_name(VB_WRITE_PERSISTENT), "persistent");
    assert_string_equal(vb_write_mode_name(VB_WRITE_VOLATILE), "volatile");
    assert_string_equal(vb_write_mode_name(VB_WRITE_READONLY), "readonly");
    assert_string_equal(vb_write_mode_name(VB_WRITE_PERSISTENT_OR_VOLATILE), "persistent-or-volatile");
    assert_string_equal(vb_write_mode_name(VB_WRITE_RAM), "ram");
}

static void write_ram(void **state)
{
    (void)state;
    const char *text = "entry lab\n  vhd \\lab.vhd\n  write RAM\n";
    assert_int_equal(vb_config_parse(text, strlen(text), "t.conf", &cfg, &diag), VB_OK);
    assert_int_equal(cfg.entries[0].write, VB_WRITE_RAM);
    expect_error("entry a\nvhd \\a.vhd\nwrite rams\n", "line 3", "persistent-or-volatile or ram");
}

/* Converts ASCII text to UTF-16 units in buf; returns the unit count. */
static size_t u16(const char *s, uint16_t *buf)
{
    size_t n = 0;
    for (; *s; s++)
        buf[n++] = (uint8_t)*s;
    return n;
}

/* `trace`: before the first entry it is every entry's default, inside an
 * entry that entry's own; once each; only the four modes. */
static void trace_keyword(void **state)
{
    (void)state;
    assert_int_equal(parse("entry a\nvhd \\a.vhd\n"), VB_OK);
    assert_int_equal(cfg.trace, VB_TRACE_OFF);
    assert_int_equal(vb_config_trace(&cfg, &cfg.entries[0]), VB_TRACE_OFF);

    assert_int_equal(parse("trace File\nentry a\nvhd \\a.vhd\nentry b\nvhd \\b.vhd\ntrace console\n"
                           "entry c\ntrace off\nvhd \\c.vhd\nentry d\nvhd \\d.vhd\ntrace on\n"), VB_OK);
    assert_int_equal(cfg.trace, VB_TRACE_FILE);
    assert_int_equal(cfg.entries[0].trace, VB_TRACE_INHERIT);
    assert_int_equal(vb_config_trace(&cfg, &cfg.entries[0]), VB_TRACE_FILE);
    assert_int_equal(vb_config_trace(&cfg, &cfg.entries[1]), VB_TRACE_CONSOLE);
    assert_int_equal(vb_config_trace(&cfg, &cfg.entries[2]), VB_TRACE_OFF);
    assert_int_equal(vb_config_trace(&cfg, &cfg.entries[3]), VB_TRACE_ON);
    assert_string_equal(vb_trace_mode_name(VB_TRACE_ON), "on");

    expect_error("trace on\ntrace off\nentry a\nvhd \\a.vhd\n", "line 2", "'trace' given twice (first on line 1)");
    expect_error("entry a\nvhd \\a.vhd\ntrace on\ntrace file\n", "line 4", "'trace' given twice in entry 'a'");
    expect_error("entry a\nvhd \\a.vhd\ntrace verbose\n", "line 3", "bad trace mode");
    expect_error("trace\nentry a\nvhd \\a.vhd\n", "line 1", "missing value for 'trace'");
    /* the entry's own trace does not count against the global one */
    assert_int_equal(parse("trace on\nentry a\nvhd \\a.vhd\ntrace off\nentry b\nvhd \\b.vhd\ntrace off\n"), VB_OK);
}

static void options_paths(void **state)
{
    (void)state;
    uint16_t units[256];
    char out[128];
    size_t n;

    n = u16("vhdboot.efi \\images\\disk.vhd", units);
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "\\images\\disk.vhd");

    n = u16("FS0:\\EFI\\BOOT\\VHDBOOT.EFI   DATA:\\x.vhd extra", units);
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "DATA:\\x.vhd");

    n = u16("vhdboot disk.vhd", units); /* shell without .efi */
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "disk.vhd");

    n = u16("\\images\\disk.vhd", units); /* boot entry data, no program name */
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "\\images\\disk.vhd");

    n = u16("vhdboot.efi \"\\my disks\\a b.vhd\"", units);
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "\\my disks\\a b.vhd");

    n = u16("vhdboot.efi", units);
    assert_false(vb_options_vhd_path(units, n, out, sizeof out));
    n = u16("vhdboot.efi -v", units);
    assert_false(vb_options_vhd_path(units, n, out, sizeof out));
    assert_false(vb_options_vhd_path(units, 0, out, sizeof out));

    /* terminated early by a NUL unit */
    n = u16("vhdboot.efi \\a.vhd", units);
    units[11] = 0;
    assert_false(vb_options_vhd_path(units, n, out, sizeof out));

    /* binary optional data (e.g. a GUID) is not text */
    uint16_t binary[8] = { 0x1234, 0x0001, 0xd800, 0x5c41, 0x0000 };
    assert_false(vb_options_vhd_path(binary, 8, out, sizeof out));

    /* non-ASCII becomes UTF-8 */
    n = u16("x.efi \\", units);
    units[n++] = 0x00e9;
    units[n++] = 0xd83d;
    units[n++] = 0xde00;
    assert_true(vb_options_vhd_path(units, n, out, sizeof out));
    assert_string_equal(out, "\\\xc3\xa9\xf0\x9f\x98\x80");

    /* too long for out */
    n = u16("x.efi \\aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.vhd", units);
    assert_false(vb_options_vhd_path(units, n, out, 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_file),
        cmocka_unit_test(defaults),
        cmocka_unit_test(errors_name_the_line),
        cmocka_unit_test(discover_keywords),
        cmocka_unit_test(embedded_nul_is_refused),
        cmocka_unit_test(overlong_values),
        cmocka_unit_test(too_many_entries),
        cmocka_unit_test(single_entry_from_options),
        cmocka_unit_test(write_mode_names),
        cmocka_unit_test(trace_keyword),
        cmocka_unit_test(write_ram),
        cmocka_unit_test(options_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
