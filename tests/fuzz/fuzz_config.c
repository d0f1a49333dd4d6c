/* libFuzzer target: the boot configuration parser (loader/config.c) and
 * lexical parent path resolution (format/vhd_locator.c).
 *
 * Input: a vhdboot.conf text. Parses it; on success checks the documented
 * limits (entry count, default index, timeout, terminated strings) and feeds
 * every entry's vhd value back through vb_config_single. Every line is also
 * resolved as a parent locator path against a fixed child path, and the
 * result must be volume-absolute and terminated. */
#include <string.h>
#include "support.h"
#include "loader/config.h"

/* Fails unless s is NUL-terminated within cap bytes. */
static void expect_terminated(const char *s, size_t cap, const char *what)
{
    if (memchr(s, '\0', cap) == NULL)
        fuzz_fail(what);
}

/* Resolves each line of the input as a locator path. */
static void resolve_lines(const uint8_t *data, size_t size)
{
    char line[VB_PATH_MAX + 64], out[VB_PATH_MAX];
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t len = i - start < sizeof(line) - 1 ? i - start : sizeof(line) - 1;
        memcpy(line, data + start, len);
        line[len] = '\0';
        start = i + 1;
        if (vb_path_resolve("\\vms\\lab\\child.vhd", line, out, sizeof(out)) == VB_OK) {
            expect_terminated(out, sizeof(out), "resolved path not terminated");
            if (out[0] != '\\')
                fuzz_fail("resolved path is not volume-absolute");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vb_config cfg, single;
    vb_diag diag = { 0 };
    memset(&cfg, 0xA5, sizeof(cfg)); /* garbage in: the parser must fill what it reports */
    vb_status st = vb_config_parse((const char *)data, size, "\\EFI\\vhdboot\\vhdboot.conf", &cfg, &diag);
    if (st == VB_OK) {
        if (cfg.count == 0 || cfg.count > VB_CONFIG_MAX_ENTRIES)
            fuzz_fail("entry count out of range");
        if (cfg.default_index >= cfg.count)
            fuzz_fail("default index out of range");
        if (cfg.timeout > VB_CONFIG_MAX_TIMEOUT)
            fuzz_fail("timeout above the maximum");
        for (unsigned i = 0; i < cfg.count; i++) {
            const vb_boot_entry *e = &cfg.entries[i];
            expect_terminated(e->id, sizeof(e->id), "entry id not terminated");
            expect_terminated(e->title, sizeof(e->title), "entry title not terminated");
            expect_terminated(e->volume, sizeof(e->volume), "entry volume not terminated");
            expect_terminated(e->vhd, sizeof(e->vhd), "entry vhd not terminated");
            expect_terminated(e->efi, sizeof(e->efi), "entry efi not terminated");
            (void)vb_write_mode_name(e->write);
            vb_diag d2 = { 0 };
            (void)vb_config_single(e->vhd, &single, &d2);
        }
    } else {
        if (st != VB_ERR_CONFIG && st != VB_ERR_NO_MEMORY)
            fuzz_fail("parse failed with an unexpected status");
        expect_terminated(diag.text, sizeof(diag.text), "diagnostic not terminated");
        if (diag.text[0] == '\0')
            fuzz_fail("parse error without a message");
    }
    resolve_lines(data, size);
    /* the same bytes as a load-options value */
    char spec[VB_CONFIG_PATH_MAX + 100];
    size_t n = size < sizeof(spec) - 1 ? size : sizeof(spec) - 1;
    memcpy(spec, data, n);
    spec[n] = '\0';
    vb_diag d3 = { 0 };
    (void)vb_config_single(spec, &single, &d3);
    return 0;
}
