/* vhdboot: builds the BCD store for booting Windows from a VHD file.
 * Objects and elements follow a store written by bcdboot/bcdedit: every
 * object has Description\Type (REG_DWORD) and one Elements\<type>\Element
 * value per element, the key name being the type as 8 upper-case hex digits. */
#include "bcd.h"
#include "bytes.h"
#include "platform.h"
#include "utf.h"

struct bcd_builder {
    vb_regf_builder *hive;
    vb_regf_wkey *objects;
    vb_status status;         /* first failure; later calls do nothing */
};

/* Returns the Elements key of object id, creating the object with its type. */
static vb_regf_wkey *object(struct bcd_builder *b, const char *id, uint32_t obj_type)
{
    if (b->status != VB_OK)
        return NULL;
    vb_regf_wkey *o = vb_regf_key(b->hive, b->objects, id);
    vb_regf_wkey *d = o ? vb_regf_key(b->hive, o, "Description") : NULL;
    vb_regf_wkey *e = o ? vb_regf_key(b->hive, o, "Elements") : NULL;
    uint8_t t[4];
    vb_put_le32(t, obj_type);
    if (!d || !e || (b->status = vb_regf_set(b->hive, d, "Type", VB_REG_DWORD, t, 4)) != VB_OK) {
        if (b->status == VB_OK)
            b->status = VB_ERR_NO_MEMORY;
        return NULL;
    }
    return e;
}

/* Sets element type of the object whose Elements key is elements. */
static void element(struct bcd_builder *b, vb_regf_wkey *elements, uint32_t type,
                    uint32_t reg_type, const void *data, uint32_t len)
{
    if (b->status != VB_OK || !elements)
        return;
    static const char hex[] = "0123456789ABCDEF";
    char name[9];
    for (int i = 0; i < 8; i++)
        name[i] = hex[(type >> (28 - 4 * i)) & 15];
    name[8] = 0;
    vb_regf_wkey *k = vb_regf_key(b->hive, elements, name);
    b->status = k ? vb_regf_set(b->hive, k, "Element", reg_type, data, len) : VB_ERR_NO_MEMORY;
}

/* A string element (REG_SZ, UTF-16LE with its NUL). */
static void string_element(struct bcd_builder *b, vb_regf_wkey *e, uint32_t type, const char *text)
{
    uint8_t wide[1024];
    size_t units;
    if (b->status == VB_OK && vb_utf8_to_utf16(text, false, wide, sizeof(wide) - 2, &units) != VB_OK)
        b->status = VB_ERR_INVALID_ARG;
    if (b->status != VB_OK)
        return;
    wide[units * 2] = wide[units * 2 + 1] = 0;
    element(b, e, type, VB_REG_SZ, wide, (uint32_t)(units + 1) * 2);
}

/* An object-list element (REG_MULTI_SZ): one or two GUIDs, then an empty string. */
static void list_element(struct bcd_builder *b, vb_regf_wkey *e, uint32_t type, const char *a, const char *c)
{
    uint8_t wide[256];
    size_t n = 0, units;
    const char *ids[2] = { a, c };
    for (int i = 0; i < 2 && ids[i] && b->status == VB_OK; i++) {
        if (vb_utf8_to_utf16(ids[i], false, wide + n, sizeof(wide) - n - 4, &units) != VB_OK)
            b->status = VB_ERR_INVALID_ARG;
        n += units * 2;
        wide[n++] = 0;
        wide[n++] = 0;
    }
    wide[n++] = 0;
    wide[n++] = 0;
    element(b, e, type, VB_REG_MULTI_SZ, wide, (uint32_t)n);
}

/* An integer element: 8 bytes little-endian (REG_BINARY). */
static void integer_element(struct bcd_builder *b, vb_regf_wkey *e, uint32_t type, uint64_t v)
{
    uint8_t d[8];
    vb_put_le32(d, (uint32_t)v);
    vb_put_le32(d + 4, (uint32_t)(v >> 32));
    element(b, e, type, VB_REG_BINARY, d, 8);
}

/* A boolean element: one byte (REG_BINARY). */
static void boolean_element(struct bcd_builder *b, vb_regf_wkey *e, uint32_t type, bool v)
{
    uint8_t d = v ? 1 : 0;
    element(b, e, type, VB_REG_BINARY, &d, 1);
}

/* A VHD device element locating `locate` inside the virtual disk. */
static void vhd_element(struct bcd_builder *b, vb_regf_wkey *e, uint32_t type,
                        const vb_bcd_desc *d, uint32_t locate)
{
    uint8_t dev[2400];
    size_t len;
    if (b->status == VB_OK && (b->status = vb_bcd_encode_vhd(&d->host, d->vhd_path, locate, dev, sizeof(dev), &len)) == VB_OK)
        element(b, e, type, VB_REG_BINARY, dev, (uint32_t)len);
}

vb_status vb_bcd_build(const vb_bcd_desc *d, uint64_t timestamp, uint8_t **out, size_t *len)
{
    if (!d || !d->vhd_path || d->vhd_path[0] != '\\' || !out || !len)
        return VB_ERR_INVALID_ARG;
    const char *title = d->title ? d->title : "Windows (VHD)";
    const char *winload = d->winload ? d->winload : "\\Windows\\system32\\winload.efi";
    const char *root = d->system_root ? d->system_root : "\\Windows";
    const char *locale = d->locale ? d->locale : "en-US";

    struct bcd_builder b = { .hive = vb_regf_builder_new("NewStoreRoot") };
    if (!b.hive)
        return VB_ERR_NO_MEMORY;
    vb_regf_wkey *top = vb_regf_builder_root(b.hive);
    vb_regf_wkey *desc = vb_regf_key(b.hive, top, "Description");
    b.objects = vb_regf_key(b.hive, top, "Objects");
    if (!desc || !b.objects)
        b.status = VB_ERR_NO_MEMORY;
    if (b.status == VB_OK) {
        static const uint8_t keyname[] = { 'B', 0, 'C', 0, 'D', 0, '0', 0, '0', 0, '0', 0, '0', 0,
                                           '0', 0, '0', 0, '0', 0, '0', 0, 0, 0 };
        b.status = vb_regf_set(b.hive, desc, "KeyName", VB_REG_SZ, keyname, sizeof(keyname));
    }

    vb_regf_wkey *e = object(&b, VB_BCD_BOOTMGR, VB_BCD_OBJ_BOOTMGR);
    string_element(&b, e, VB_BCDE_DESCRIPTION, "Windows Boot Manager");
    string_element(&b, e, VB_BCDE_LOCALE, locale);
    list_element(&b, e, VB_BCDE_INHERIT, VB_BCD_GLOBALSETTINGS, NULL);
    string_element(&b, e, VB_BCDE_DEFAULT, VB_BCD_VHDBOOT_ENTRY);
    list_element(&b, e, VB_BCDE_DISPLAY_ORDER, VB_BCD_VHDBOOT_ENTRY, NULL);
    integer_element(&b, e, VB_BCDE_TIMEOUT, 0);
    boolean_element(&b, e, VB_BCDE_DISPLAY_MENU, false);

    e = object(&b, VB_BCD_VHDBOOT_ENTRY, VB_BCD_OBJ_OSLOADER);
    vhd_element(&b, e, VB_BCDE_APP_DEVICE, d, VB_BCDE_APP_PATH);
    string_element(&b, e, VB_BCDE_APP_PATH, winload);
    string_element(&b, e, VB_BCDE_DESCRIPTION, title);
    string_element(&b, e, VB_BCDE_LOCALE, locale);
    list_element(&b, e, VB_BCDE_INHERIT, VB_BCD_BOOTLOADERSETTINGS, NULL);
    vhd_element(&b, e, VB_BCDE_OS_DEVICE, d, VB_BCDE_SYSTEM_ROOT);
    string_element(&b, e, VB_BCDE_SYSTEM_ROOT, root);
    integer_element(&b, e, VB_BCDE_NX, 0);           /* OptIn, as bcdboot sets it */

    e = object(&b, VB_BCD_GLOBALSETTINGS, VB_BCD_OBJ_INHERIT_ANY);
    string_element(&b, e, VB_BCDE_LOCALE, locale);
    e = object(&b, VB_BCD_BOOTLOADERSETTINGS, VB_BCD_OBJ_INHERIT_OSLOADER);
    list_element(&b, e, VB_BCDE_INHERIT, VB_BCD_GLOBALSETTINGS, NULL);
    e = object(&b, VB_BCD_RESUMELOADERSETTINGS, VB_BCD_OBJ_INHERIT_RESUME);
    list_element(&b, e, VB_BCDE_INHERIT, VB_BCD_GLOBALSETTINGS, NULL);

    vb_status st = b.status;
    if (st == VB_OK)
        st = vb_regf_serialize(b.hive, timestamp, out, len);
    vb_regf_builder_free(b.hive);
    return st;
}
