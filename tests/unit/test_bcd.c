/* Unit tests: BCD device encodings and the generated store (format/bcd_*.c).
 * Golden vectors: the device elements Windows' bcdedit wrote into
 * ../shared/data/bcd/ntloader-template.bcd (byte-exact), and a GPT partition
 * element written by hand from the layout documented in format/bcd_device.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "format/bcd.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "tests/unit/bcd_store.h"
#include "tests/unit/memsource.h"

/* The Windows-made entries: ...0001 is vhd=[C:]\000...000.vhd (MBR disk
 * signature 0x43da9ab1, C: at byte 0x1f500000), ...0002 is partition=C:. */
#define WIN_VHD_ENTRY "{19260817-6666-8888-abcd-000000000001}"
#define WIN_PART_ENTRY "{19260817-6666-8888-abcd-000000000002}"

/* Reads a binary element of Windows' store; skips when ../shared is absent. */
static size_t windows_element(const char *object, uint32_t type, uint8_t *out, size_t cap)
{
    size_t len;
    uint8_t *data = windows_bcd(&len);
    if (!data)
        skip();
    vb_regf h;
    uint32_t n, reg;
    assert_int_equal(vb_regf_open(&h, data, len), VB_OK);
    assert_int_equal(vb_bcd_element(&h, object, type, out, cap, &n, &reg), VB_OK);
    assert_int_equal(reg, VB_REG_BINARY);
    free(data);
    return n;
}

static const vb_disk_id windows_c = { .style = VB_DISK_MBR, .mbr_signature = 0x43da9ab1, .part_offset = 0x1f500000 };

/* partition=C: on an MBR disk, byte for byte as bcdedit wrote it. */
static void test_mbr_partition_matches_windows(void **state)
{
    (void)state;
    uint8_t win[256], ours[256];
    size_t n = windows_element(WIN_PART_ENTRY, VB_BCDE_APP_DEVICE, win, sizeof(win)), len;
    assert_int_equal(n, 88);
    assert_int_equal(vb_bcd_encode_partition(&windows_c, ours, sizeof(ours), &len), VB_OK);
    assert_int_equal(len, 88);
    assert_memory_equal(ours, win, 88);
    vb_bcd_device dev;
    assert_int_equal(vb_bcd_decode_device(win, n, &dev), VB_OK);
    assert_int_equal(dev.kind, VB_BCD_DEV_PARTITION);
    assert_int_equal(dev.partition.style, VB_DISK_MBR);
    assert_int_equal(dev.partition.mbr_signature, 0x43da9ab1);
    assert_int_equal(dev.partition.part_offset, 0x1f500000);
}

/* vhd=[C:]\0000...0000.vhd for device (locating the application path) and
 * osdevice (locating the system root), byte for byte as bcdedit wrote them. */
static void test_vhd_device_matches_windows(void **state)
{
    (void)state;
    char path[300] = "\\";
    memset(path + 1, '0', 249);
    strcpy(path + 250, ".vhd");
    static const uint32_t types[2] = { VB_BCDE_APP_DEVICE, VB_BCDE_OS_DEVICE };
    static const uint32_t locate[2] = { VB_BCDE_APP_PATH, VB_BCDE_SYSTEM_ROOT };
    for (int i = 0; i < 2; i++) {
        uint8_t win[2048], ours[2048];
        size_t n = windows_element(WIN_VHD_ENTRY, types[i], win, sizeof(win)), len;
        assert_int_equal(n, 700);
        assert_int_equal(vb_bcd_encode_vhd(&windows_c, path, locate[i], ours, sizeof(ours), &len), VB_OK);
        assert_int_equal(len, n);
        assert_memory_equal(ours, win, n);
        vb_bcd_device dev;
        assert_int_equal(vb_bcd_decode_device(win, n, &dev), VB_OK);
        assert_int_equal(dev.kind, VB_BCD_DEV_VHD);
        assert_int_equal(dev.locate_element, locate[i]);
        assert_int_equal(dev.partition.mbr_signature, 0x43da9ab1);
        assert_int_equal(dev.partition.part_offset, 0x1f500000);
        assert_string_equal(dev.path, path);
    }
}

/* partition= on a GPT disk, written by hand from the documented layout:
 * options GUID (zero), type 6, flags 0, size 72, 0, partition GUID, 0,
 * style 0 (GPT), disk GUID, 16 zero bytes. GUIDs in on-disk byte order. */
static void test_gpt_partition_vector(void **state)
{
    (void)state;
    static const uint8_t expected[88] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        6, 0, 0, 0, 0, 0, 0, 0, 72, 0, 0, 0, 0, 0, 0, 0,
        /* partition {fedcba98-7654-3210-fedc-ba9876543210} */
        0x98, 0xba, 0xdc, 0xfe, 0x54, 0x76, 0x10, 0x32, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
        0, 0, 0, 0, 0, 0, 0, 0,
        /* disk {01234567-89ab-cdef-0123-456789abcdef} */
        0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    vb_disk_id id = { .style = VB_DISK_GPT };
    assert_true(vb_guid_parse("{01234567-89ab-cdef-0123-456789abcdef}", id.disk_guid));
    assert_true(vb_guid_parse("FEDCBA98-7654-3210-FEDC-BA9876543210", id.part_guid));
    uint8_t out[128];
    size_t len;
    assert_int_equal(vb_bcd_encode_partition(&id, out, sizeof(out), &len), VB_OK);
    assert_int_equal(len, sizeof(expected));
    assert_memory_equal(out, expected, sizeof(expected));
    char text[39];
    vb_guid_format_braced(id.part_guid, text);
    assert_string_equal(text, "{fedcba98-7654-3210-fedc-ba9876543210}");
    assert_false(vb_guid_parse("{01234567-89ab-cdef-0123-456789abcde}", id.disk_guid));
    assert_false(vb_guid_parse("01234567-89ab-cdef-0123-456789abcdefX", id.disk_guid));
}

/* Truncated or inflated device data is refused, never read past its end. */
static void test_hostile_devices(void **state)
{
    (void)state;
    vb_disk_id id = { .style = VB_DISK_MBR, .mbr_signature = 1, .part_offset = 1048576 };
    uint8_t good[1024];
    size_t len;
    assert_int_equal(vb_bcd_encode_vhd(&id, "\\a\\b.vhd", VB_BCDE_APP_PATH, good, sizeof(good), &len), VB_OK);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, good, cut);
        vb_bcd_device dev;
        assert_int_not_equal(vb_bcd_decode_device(copy, cut, &dev), VB_OK);
        free(copy);
    }
    /* every 32-bit field set to a huge value: refused or decoded, no overrun */
    for (size_t at = 16; at + 4 <= len; at += 2) {
        uint8_t copy[1024];
        memcpy(copy, good, len);
        vb_put_le32(copy + at, 0xFFFFFFF0u);
        vb_bcd_device dev;
        (void)vb_bcd_decode_device(copy, len, &dev);
    }
    assert_int_equal(vb_bcd_encode_vhd(&id, "no-backslash.vhd", VB_BCDE_APP_PATH, good, sizeof(good), &len),
                     VB_ERR_INVALID_ARG);
    assert_int_equal(vb_bcd_encode_vhd(&id, "\\x.vhd", VB_BCDE_APP_PATH, good, 100, &len), VB_ERR_INVALID_ARG);
}

/* Partition identity from MBR and GPT tables (UEFI 2.10 section 5: MBR
 * signature at 440, entries at 446; GPT header at LBA 1 with the disk GUID at
 * 56, entry array LBA at 72, count at 80, entry size at 84; an entry's unique
 * GUID at 16, first and last LBA at 32 and 40); damaged tables refused. */
static void test_disk_id(void **state)
{
    (void)state;
    uint8_t disk[64 * 512] = { 0 };
    vb_put_le32(disk + 440, 0xdeadbeef);
    disk[446 + 16 + 4] = 0x07;                       /* partition 2 */
    vb_put_le32(disk + 446 + 16 + 8, 2048);
    vb_put_le32(disk + 446 + 16 + 12, 4096);
    disk[510] = 0x55;
    disk[511] = 0xAA;
    memsource *ms = memsource_new_readonly(disk, sizeof(disk));
    vb_disk_id id;
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 2, &id), VB_OK);
    assert_int_equal(id.style, VB_DISK_MBR);
    assert_int_equal(id.mbr_signature, 0xdeadbeef);
    assert_int_equal(id.part_offset, 2048 * 512);
    assert_int_equal(id.part_size, 4096 * 512);
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 1, &id), VB_ERR_NOT_FOUND);
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 5, &id), VB_ERR_NOT_FOUND);
    memsource_free(ms);

    /* GPT: protective MBR, header at LBA 1, entries at LBA 2 */
    memset(disk + 446, 0, 64);
    disk[446 + 4] = 0xEE;
    uint8_t *h = disk + 512, *e = disk + 1024 + 128;   /* entry 2 */
    memcpy(h, "EFI PART", 8);
    assert_true(vb_guid_parse("{01234567-89ab-cdef-0123-456789abcdef}", h + 56));
    vb_put_le32(h + 72, 2);
    vb_put_le32(h + 80, 128);
    vb_put_le32(h + 84, 128);
    e[0] = 1;                                          /* some type GUID */
    assert_true(vb_guid_parse("{fedcba98-7654-3210-fedc-ba9876543210}", e + 16));
    vb_put_le32(e + 32, 34);
    vb_put_le32(e + 40, 63);
    ms = memsource_new_readonly(disk, sizeof(disk));
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 2, &id), VB_OK);
    assert_int_equal(id.style, VB_DISK_GPT);
    char text[39];
    vb_guid_format_braced(id.disk_guid, text);
    assert_string_equal(text, "{01234567-89ab-cdef-0123-456789abcdef}");
    vb_guid_format_braced(id.part_guid, text);
    assert_string_equal(text, "{fedcba98-7654-3210-fedc-ba9876543210}");
    assert_int_equal(id.part_offset, 34 * 512);
    assert_int_equal(id.part_size, 30 * 512);
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 1, &id), VB_ERR_NOT_FOUND);  /* unused entry */
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 129, &id), VB_ERR_NOT_FOUND);
    memsource_free(ms);
    vb_put_le32(e + 40, 10);                           /* last before first */
    ms = memsource_new_readonly(disk, sizeof(disk));
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 2, &id), VB_ERR_FS_CORRUPT);
    memsource_free(ms);
    vb_put_le32(h + 84, 0xFFFFFFFF);                   /* absurd entry size */
    ms = memsource_new_readonly(disk, sizeof(disk));
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 2, &id), VB_ERR_FS_CORRUPT);
    memsource_free(ms);
    vb_put_le32(h + 84, 128);
    vb_put_le32(h + 72, 0x7FFFFFFF);                   /* entries past the disk */
    ms = memsource_new_readonly(disk, sizeof(disk));
    assert_int_not_equal(vb_disk_id_read(&ms->src, 512, 2, &id), VB_OK);
    memsource_free(ms);
    disk[511] = 0;                                     /* no boot signature at all */
    ms = memsource_new_readonly(disk, sizeof(disk));
    assert_int_equal(vb_disk_id_read(&ms->src, 512, 1, &id), VB_ERR_FS_CORRUPT);
    memsource_free(ms);
}

/* UTF-16LE of ascii followed by `zeros` zero bytes, into out; returns the length. */
static size_t utf16z(const char *ascii, unsigned zeros, uint8_t *out)
{
    size_t n = 0;
    for (; *ascii; ascii++) {
        out[n++] = (uint8_t)*ascii;
        out[n++] = 0;
    }
    for (unsigned i = 0; i < zeros; i++)
        out[n++] = 0;
    return n;
}

/* Reads element type of object in hive h and compares it with want (and its registry type). */
static void expect_element(const vb_regf *h, const char *object, uint32_t type, uint32_t reg,
                           const uint8_t *want, size_t want_len)
{
    uint8_t got[512];
    uint32_t n, r;
    assert_int_equal(vb_bcd_element(h, object, type, got, sizeof(got), &n, &r), VB_OK);
    assert_int_equal(r, reg);
    assert_int_equal(n, want_len);
    assert_memory_equal(got, want, want_len);
}

/* The other element formats, as documented (BcdElementType: string = UTF-16
 * with NUL in REG_SZ, object list = REG_MULTI_SZ ending in an empty string,
 * integer = 8 bytes, boolean = 1 byte, both REG_BINARY), checked byte for
 * byte on Windows' store and on ours. */
static void test_value_encodings(void **state)
{
    (void)state;
    uint8_t want[256];
    size_t n;
    static const uint8_t one8[8] = { 1, 0, 0, 0, 0, 0, 0, 0 }, zero8[8] = { 0 }, no[1] = { 0 };
    size_t len;
    uint8_t *data = windows_bcd(&len);
    if (!data)
        skip();
    vb_regf h;
    assert_int_equal(vb_regf_open(&h, data, len), VB_OK);
    n = utf16z("{19260817-6666-8888-abcd-000000000000}", 4, want);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_ORDER, VB_REG_MULTI_SZ, want, n);
    n = utf16z("{19260817-6666-8888-abcd-000000000000}", 2, want);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DEFAULT, VB_REG_SZ, want, n);
    n = utf16z("NTloader", 2, want);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DESCRIPTION, VB_REG_SZ, want, n);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_TIMEOUT, VB_REG_BINARY, one8, 8);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_MENU, VB_REG_BINARY, no, 1);
    free(data);

    vb_bcd_desc d = { .host = windows_c, .vhd_path = "\\w.vhd", .title = "T" };
    uint8_t *store;
    assert_int_equal(vb_bcd_build(&d, 0, &store, &len), VB_OK);
    assert_int_equal(vb_regf_open(&h, store, len), VB_OK);
    n = utf16z(VB_BCD_VHDBOOT_ENTRY, 4, want);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_ORDER, VB_REG_MULTI_SZ, want, n);
    n = utf16z(VB_BCD_VHDBOOT_ENTRY, 2, want);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DEFAULT, VB_REG_SZ, want, n);
    n = utf16z("T", 2, want);
    expect_element(&h, VB_BCD_VHDBOOT_ENTRY, VB_BCDE_DESCRIPTION, VB_REG_SZ, want, n);
    n = utf16z("\\Windows", 2, want);
    expect_element(&h, VB_BCD_VHDBOOT_ENTRY, VB_BCDE_SYSTEM_ROOT, VB_REG_SZ, want, n);
    n = utf16z(VB_BCD_BOOTLOADERSETTINGS, 4, want);
    expect_element(&h, VB_BCD_VHDBOOT_ENTRY, VB_BCDE_INHERIT, VB_REG_MULTI_SZ, want, n);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_TIMEOUT, VB_REG_BINARY, zero8, 8);
    expect_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_MENU, VB_REG_BINARY, no, 1);
    /* the object types, as Windows' store has them for the same objects */
    uint32_t key, vk, got;
    uint8_t t[4];
    assert_int_equal(vb_regf_find_path(&h, h.root, "Objects\\" VB_BCD_BOOTMGR "\\Description", &key), VB_OK);
    assert_int_equal(vb_regf_find_value(&h, key, "Type", &vk), VB_OK);
    assert_int_equal(vb_regf_value_data(&h, vk, t, 4, &got), VB_OK);
    assert_int_equal(vb_le32(t), 0x10100002);
    assert_int_equal(vb_regf_find_path(&h, h.root, "Objects\\" VB_BCD_VHDBOOT_ENTRY "\\Description", &key), VB_OK);
    assert_int_equal(vb_regf_find_value(&h, key, "Type", &vk), VB_OK);
    assert_int_equal(vb_regf_value_data(&h, vk, t, 4, &got), VB_OK);
    assert_int_equal(vb_le32(t), 0x10200003);
    vb_free(store);
}

/* The generated store: {bootmgr} defaults to the VHD entry, whose devices
 * name the host partition and the file; element value types follow the
 * element format (Microsoft BcdElementType). */
static void test_generated_store(void **state)
{
    (void)state;
    vb_bcd_desc d = { .vhd_path = "\\VHD\\Windows 11 (ü).vhdx", .title = "Windows 11 from VHD" };
    d.host.style = VB_DISK_GPT;
    assert_true(vb_guid_parse("{11111111-2222-3333-4444-555555555555}", d.host.disk_guid));
    assert_true(vb_guid_parse("{66666666-7777-8888-9999-aaaaaaaaaaaa}", d.host.part_guid));
    uint8_t *store;
    size_t len;
    assert_int_equal(vb_bcd_build(&d, 0, &store, &len), VB_OK);
    vb_regf h;
    assert_int_equal(vb_regf_open(&h, store, len), VB_OK);
    vb_bcd_entry e;
    assert_int_equal(vb_bcd_default_entry(&h, &e), VB_OK);
    assert_string_equal(e.id, VB_BCD_VHDBOOT_ENTRY);
    assert_string_equal(e.description, "Windows 11 from VHD");
    assert_string_equal(e.app_path, "\\Windows\\system32\\winload.efi");
    assert_string_equal(e.system_root, "\\Windows");
    assert_true(e.has_app_device && e.has_os_device);
    const vb_bcd_device *devs[2] = { &e.app_device, &e.os_device };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(devs[i]->kind, VB_BCD_DEV_VHD);
        assert_int_equal(devs[i]->partition.style, VB_DISK_GPT);
        assert_memory_equal(devs[i]->partition.disk_guid, d.host.disk_guid, 16);
        assert_memory_equal(devs[i]->partition.part_guid, d.host.part_guid, 16);
        assert_string_equal(devs[i]->path, d.vhd_path);
    }
    assert_int_equal(e.app_device.locate_element, VB_BCDE_APP_PATH);
    assert_int_equal(e.os_device.locate_element, VB_BCDE_SYSTEM_ROOT);

    /* timeout 0 (8-byte integer), no menu (1-byte boolean), display order a list */
    uint8_t v[256];
    uint32_t n, reg;
    assert_int_equal(vb_bcd_element(&h, VB_BCD_BOOTMGR, VB_BCDE_TIMEOUT, v, sizeof(v), &n, &reg), VB_OK);
    assert_int_equal(reg, VB_REG_BINARY);
    assert_int_equal(n, 8);
    assert_int_equal(vb_le64(v), 0);
    assert_int_equal(vb_bcd_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_MENU, v, sizeof(v), &n, &reg), VB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 0);
    assert_int_equal(vb_bcd_element(&h, VB_BCD_BOOTMGR, VB_BCDE_DISPLAY_ORDER, v, sizeof(v), &n, &reg), VB_OK);
    assert_int_equal(reg, VB_REG_MULTI_SZ);
    assert_int_equal(n, (38 + 1 + 1) * 2);      /* one GUID string, its NUL, the list's NUL */
    char text[512];
    vb_bcd_format_value(VB_BCDE_DISPLAY_ORDER, reg, v, n, text, sizeof(text));
    assert_string_equal(text, VB_BCD_VHDBOOT_ENTRY);

    /* every element's registry type follows its format; object types set */
    uint32_t objects, nobj;
    assert_int_equal(vb_regf_find_key(&h, h.root, "Objects", &objects), VB_OK);
    assert_int_equal(vb_regf_key_counts(&h, objects, &nobj, NULL), VB_OK);
    assert_int_equal(nobj, 5);
    for (uint32_t i = 0; i < nobj; i++) {
        uint32_t obj, els, nel, vk, t;
        uint8_t type[4];
        assert_int_equal(vb_regf_subkey(&h, objects, i, &obj), VB_OK);
        assert_int_equal(vb_regf_find_path(&h, obj, "Description", &els), VB_OK);
        assert_int_equal(vb_regf_find_value(&h, els, "Type", &vk), VB_OK);
        assert_int_equal(vb_regf_value_info(&h, vk, NULL, 0, &t, NULL), VB_OK);
        assert_int_equal(t, VB_REG_DWORD);
        assert_int_equal(vb_regf_value_data(&h, vk, type, 4, &n), VB_OK);
        assert_int_not_equal(vb_le32(type), 0);
        assert_int_equal(vb_regf_find_key(&h, obj, "Elements", &els), VB_OK);
        assert_int_equal(vb_regf_key_counts(&h, els, &nel, NULL), VB_OK);
        for (uint32_t j = 0; j < nel; j++) {
            uint32_t el;
            char name[32];
            assert_int_equal(vb_regf_subkey(&h, els, j, &el), VB_OK);
            assert_int_equal(vb_regf_key_name(&h, el, name, sizeof(name)), VB_OK);
            assert_int_equal(strlen(name), 8);
            uint32_t etype = (uint32_t)strtoul(name, NULL, 16);
            assert_int_equal(vb_regf_find_value(&h, el, "Element", &vk), VB_OK);
            assert_int_equal(vb_regf_value_info(&h, vk, NULL, 0, &t, &n), VB_OK);
            unsigned fmt = vb_bcd_format(etype);
            uint32_t want = (fmt == 2 || fmt == 3) ? VB_REG_SZ : fmt == 4 ? VB_REG_MULTI_SZ : VB_REG_BINARY;
            assert_int_equal(t, want);
            if (fmt == 5)
                assert_int_equal(n, 8);
            if (fmt == 6)
                assert_int_equal(n, 1);
        }
    }
    vb_free(store);
}

/* The MBR variant of the generated store names the signature and offset. */
static void test_generated_store_mbr(void **state)
{
    (void)state;
    vb_bcd_desc d = { .host = windows_c, .vhd_path = "\\win.vhd" };
    uint8_t *store;
    size_t len;
    assert_int_equal(vb_bcd_build(&d, 0, &store, &len), VB_OK);
    vb_regf h;
    vb_bcd_entry e;
    assert_int_equal(vb_regf_open(&h, store, len), VB_OK);
    assert_int_equal(vb_bcd_default_entry(&h, &e), VB_OK);
    assert_string_equal(e.description, "Windows (VHD)");
    assert_int_equal(e.os_device.partition.style, VB_DISK_MBR);
    assert_int_equal(e.os_device.partition.mbr_signature, 0x43da9ab1);
    assert_int_equal(e.os_device.partition.part_offset, 0x1f500000);
    char text[512];
    uint8_t v[1024];
    uint32_t n, reg;
    assert_int_equal(vb_bcd_element(&h, e.id, VB_BCDE_OS_DEVICE, v, sizeof(v), &n, &reg), VB_OK);
    vb_bcd_format_value(VB_BCDE_OS_DEVICE, reg, v, n, text, sizeof(text));
    assert_string_equal(text, "vhd=[mbr signature 0x43da9ab1 offset 0x1f500000]\\win.vhd (locate 22000002)");
    vb_free(store);
    d.vhd_path = "win.vhd";
    assert_int_equal(vb_bcd_build(&d, 0, &store, &len), VB_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbr_partition_matches_windows),
        cmocka_unit_test(test_vhd_device_matches_windows),
        cmocka_unit_test(test_gpt_partition_vector),
        cmocka_unit_test(test_hostile_devices),
        cmocka_unit_test(test_value_encodings),
        cmocka_unit_test(test_disk_id),
        cmocka_unit_test(test_generated_store),
        cmocka_unit_test(test_generated_store_mbr),
    };
    return cmocka_run_group_tests_name("bcd", tests, NULL, NULL);
}
