/* vhdboot: BCD elements as text, for `vhdtool bcd --show` and test output.
 * Names follow bcdedit's (Microsoft "BCDEdit /set" element names). */
#include "bcd.h"
#include "bytes.h"
#include "utf.h"

static const struct { uint32_t type; const char *name; } element_names[] = {
    { 0x11000001, "device" }, { 0x12000002, "path" }, { 0x12000004, "description" },
    { 0x12000005, "locale" }, { 0x14000006, "inherit" }, { 0x15000052, "graphicsresolution" },
    { 0x16000040, "advancedoptions" }, { 0x16000041, "optionsedit" }, { 0x16000046, "graphicsmodedisabled" },
    { 0x16000048, "nointegritychecks" }, { 0x16000049, "testsigning" }, { 0x16000054, "highestmode" },
    { 0x12000030, "loadoptions" }, { 0x21000001, "osdevice" }, { 0x22000002, "systemroot" },
    { 0x23000003, "default/resumeobject" }, { 0x24000001, "displayorder" }, { 0x25000004, "timeout" },
    { 0x25000020, "nx" }, { 0x25000021, "pae" }, { 0x25000080, "safeboot" }, { 0x26000010, "detecthal" },
    { 0x26000020, "displaybootmenu" }, { 0x26000022, "winpe" }, { 0x26000042, "novesa" },
    { 0x26000043, "novga" }, { 0x26000081, "safebootalternateshell" }, { 0x31000003, "ramdisksdidevice" },
    { 0x32000004, "ramdisksdipath" }, { 0x35000001, "ramdiskimageoffset" }, { 0x36000006, "exportascd" },
};

static const struct { const char *guid; const char *alias; } aliases[] = {
    { VB_BCD_BOOTMGR, "{bootmgr}" }, { VB_BCD_GLOBALSETTINGS, "{globalsettings}" },
    { VB_BCD_BOOTLOADERSETTINGS, "{bootloadersettings}" },
    { VB_BCD_RESUMELOADERSETTINGS, "{resumeloadersettings}" },
    { "{ae5534e0-a924-466c-b836-758539a3ee3a}", "{ramdiskoptions}" },
    { "{b2721d73-1db4-4c62-bf78-c548a880142d}", "{memdiag}" },
};

const char *vb_bcd_element_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof(element_names) / sizeof(element_names[0]); i++)
        if (element_names[i].type == type)
            return element_names[i].name;
    return NULL;
}

const char *vb_bcd_object_alias(const char *guid)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (vb_ascii_caseeq(aliases[i].guid, guid))
            return aliases[i].alias;
    return NULL;
}

/* Appends text to out (capacity cap, length *n), truncating. */
static void put(char *out, size_t cap, size_t *n, const char *text)
{
    while (*text && *n + 1 < cap)
        out[(*n)++] = *text++;
    out[*n] = 0;
}

/* Appends v in hex with at least digits digits. */
static void put_hex(char *out, size_t cap, size_t *n, uint64_t v, int digits)
{
    char buf[17];
    int i = 16;
    buf[16] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
        digits--;
    } while ((v || digits > 0) && i > 0);
    put(out, cap, n, buf + i);
}

/* Appends a partition identity: gpt disk {..} partition {..} / mbr signature .. offset ... */
static void put_partition(char *out, size_t cap, size_t *n, const vb_disk_id *id)
{
    char g[39];
    if (id->style == VB_DISK_GPT) {
        put(out, cap, n, "gpt disk ");
        vb_guid_format_braced(id->disk_guid, g);
        put(out, cap, n, g);
        put(out, cap, n, " partition ");
        vb_guid_format_braced(id->part_guid, g);
        put(out, cap, n, g);
    } else {
        put(out, cap, n, "mbr signature 0x");
        put_hex(out, cap, n, id->mbr_signature, 8);
        put(out, cap, n, " offset 0x");
        put_hex(out, cap, n, id->part_offset, 1);
    }
}

void vb_bcd_format_value(uint32_t type, uint32_t reg_type, const uint8_t *data, uint32_t len,
                         char *out, size_t cap)
{
    size_t n = 0;
    if (!cap)
        return;
    out[0] = 0;
    unsigned fmt = vb_bcd_format(type);
    if ((reg_type == VB_REG_SZ || reg_type == VB_REG_MULTI_SZ) && !(len & 1)) {
        /* strings, objects, object lists: UTF-16 strings separated by ", " */
        size_t i = 0;
        bool first = true;
        while (i + 2 <= len) {
            size_t j = i;
            while (j + 2 <= len && (data[j] || data[j + 1]))
                j += 2;
            if (j == i && !first)
                break;
            char s[512];
            if (j > i && vb_utf16_to_utf8(data + i, (j - i) / 2, false, s, sizeof(s)) != VB_OK)
                vb_strlcpy(s, "?", sizeof(s));
            else if (j == i)
                s[0] = 0;
            const char *alias = vb_bcd_object_alias(s);
            if (!first)
                put(out, cap, &n, ", ");
            put(out, cap, &n, alias ? alias : s);
            first = false;
            i = j + 2;
            if (reg_type == VB_REG_SZ)
                break;
        }
        return;
    }
    if (fmt == 1 && reg_type == VB_REG_BINARY) {
        vb_bcd_device dev;
        vb_status st = vb_bcd_decode_device(data, len, &dev);
        if (st == VB_OK && dev.kind == VB_BCD_DEV_PARTITION) {
            put(out, cap, &n, "partition=");
            put_partition(out, cap, &n, &dev.partition);
            return;
        }
        if (st == VB_OK && dev.kind == VB_BCD_DEV_VHD) {
            put(out, cap, &n, "vhd=[");
            put_partition(out, cap, &n, &dev.partition);
            put(out, cap, &n, "]");
            put(out, cap, &n, dev.path);
            put(out, cap, &n, " (locate ");
            put_hex(out, cap, &n, dev.locate_element, 8);
            put(out, cap, &n, ")");
            return;
        }
        if (st == VB_OK && dev.kind == VB_BCD_DEV_BOOT) {
            put(out, cap, &n, "boot");
            return;
        }
        put(out, cap, &n, st == VB_OK ? "device type " : "malformed device, type ");
        put_hex(out, cap, &n, dev.raw_type, 1);
        put(out, cap, &n, ": ");
    } else if (fmt == 5 && reg_type == VB_REG_BINARY && len == 8) {
        put(out, cap, &n, "0x");
        put_hex(out, cap, &n, vb_le64(data), 1);
        return;
    } else if (fmt == 6 && reg_type == VB_REG_BINARY && len >= 1) {
        put(out, cap, &n, data[0] ? "Yes" : "No");
        return;
    } else if (reg_type == VB_REG_DWORD && len == 4) {
        put(out, cap, &n, "0x");
        put_hex(out, cap, &n, vb_le32(data), 8);
        return;
    }
    for (uint32_t i = 0; i < len && n + 4 < cap; i++) {
        put_hex(out, cap, &n, data[i], 2);
        if (i + 1 < len)
            put(out, cap, &n, " ");
    }
}
