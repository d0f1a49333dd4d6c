/* libFuzzer target: the registry hive reader (format/regf_read.c) and the
 * BCD readers on top of it (format/bcd_read.c, bcd_device.c, bcd_text.c).
 *
 * Input: a hive file. Opens it, walks every key and value (bounded), decodes
 * every value as a BCD device element and as text, and reads the default
 * loader entry. Properties: names and texts are terminated within their
 * buffers, data lengths never exceed the buffer, a decoded VHD path is
 * terminated; nothing reads outside the input (ASan). */
#include <string.h>
#include "support.h"
#include "format/bcd.h"

/* Fails unless s is NUL-terminated within cap bytes. */
static void expect_terminated(const char *s, size_t cap, const char *what)
{
    if (memchr(s, '\0', cap) == NULL)
        fuzz_fail(what);
}

/* Decodes one value's data every way --show would. */
static void exercise_value(uint32_t reg_type, const uint8_t *data, uint32_t len)
{
    vb_bcd_device dev;
    if (vb_bcd_decode_device(data, len, &dev) == VB_OK && dev.kind == VB_BCD_DEV_VHD)
        expect_terminated(dev.path, sizeof(dev.path), "VHD path not terminated");
    static const uint32_t types[] = { 0x11000001, 0x12000004, 0x14000006, 0x25000004, 0x26000020, 0x17000077 };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char text[300];
        vb_bcd_format_value(types[i], reg_type, data, len, text, sizeof(text));
        expect_terminated(text, sizeof(text), "formatted value not terminated");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vb_regf h;
    if (vb_regf_open(&h, data, size) != VB_OK)
        return 0;
    uint32_t stack[32] = { h.root }, depth = 1;
    unsigned visited = 0;
    static uint8_t buf[1 << 16];
    while (depth && visited++ < 2000) {
        uint32_t key = stack[--depth], ns, nv, child, vk, type, len;
        char name[VB_REGF_NAME_MAX * 3];
        if (vb_regf_key_name(&h, key, name, sizeof(name)) == VB_OK)
            expect_terminated(name, sizeof(name), "key name not terminated");
        if (vb_regf_key_counts(&h, key, &ns, &nv) != VB_OK)
            continue;
        for (uint32_t i = 0; i < nv && i < 256; i++) {
            if (vb_regf_value(&h, key, i, &vk) != VB_OK ||
                vb_regf_value_info(&h, vk, name, sizeof(name), &type, &len) != VB_OK)
                continue;
            expect_terminated(name, sizeof(name), "value name not terminated");
            uint32_t got;
            if (vb_regf_value_data(&h, vk, buf, sizeof(buf), &got) == VB_OK) {
                if (got > sizeof(buf) || got != len)
                    fuzz_fail("value length inconsistent");
                exercise_value(type, buf, got);
            }
        }
        for (uint32_t i = 0; i < ns && i < 256 && depth < 32; i++)
            if (vb_regf_subkey(&h, key, i, &child) == VB_OK)
                stack[depth++] = child;
    }
    vb_bcd_entry e;
    if (vb_bcd_default_entry(&h, &e) == VB_OK) {
        expect_terminated(e.app_path, sizeof(e.app_path), "app path not terminated");
        expect_terminated(e.description, sizeof(e.description), "description not terminated");
    }
    return 0;
}
