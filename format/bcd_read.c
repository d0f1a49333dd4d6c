/* vhdboot: reading elements and the default loader entry of a BCD store. */
#include "bcd.h"
#include "bytes.h"
#include "utf.h"

vb_status vb_bcd_element(const vb_regf *hive, const char *object, uint32_t type,
                         uint8_t *out, size_t cap, uint32_t *len, uint32_t *reg_type)
{
    static const char hex[] = "0123456789ABCDEF";
    char path[128] = "Objects\\";
    size_t n = vb_strlen(path);
    size_t olen = vb_strlen(object);
    if (olen > 40)
        return VB_ERR_INVALID_ARG;
    vb_memcpy(path + n, object, olen);
    n += olen;
    vb_memcpy(path + n, "\\Elements\\", 10);
    n += 10;
    for (int i = 0; i < 8; i++)
        path[n++] = hex[(type >> (28 - 4 * i)) & 15];
    path[n] = 0;
    uint32_t key, vk;
    vb_status st = vb_regf_find_path(hive, hive->root, path, &key);
    if (st == VB_OK)
        st = vb_regf_find_value(hive, key, "Element", &vk);
    if (st == VB_OK)
        st = vb_regf_value_info(hive, vk, NULL, 0, reg_type, NULL);
    if (st == VB_OK)
        st = vb_regf_value_data(hive, vk, out, cap, len);
    return st;
}

/* Reads a string element as UTF-8 into out; VB_ERR_BCD_ELEMENT when not a string. */
static vb_status string_of(const vb_regf *hive, const char *object, uint32_t type, char *out, size_t cap)
{
    uint8_t data[2048];
    uint32_t len, reg;
    vb_status st = vb_bcd_element(hive, object, type, data, sizeof(data), &len, &reg);
    if (st != VB_OK)
        return st;
    if (reg != VB_REG_SZ || (len & 1))
        return VB_ERR_BCD_ELEMENT;
    if (len == 0) {
        out[0] = 0;
        return VB_OK;
    }
    return vb_utf16_to_utf8(data, len / 2, false, out, cap) == VB_OK ? VB_OK : VB_ERR_BCD_ELEMENT;
}

/* Reads and decodes a device element; *present = false when it is absent. */
static vb_status device_of(const vb_regf *hive, const char *object, uint32_t type,
                           vb_bcd_device *dev, bool *present)
{
    uint8_t data[4096];
    uint32_t len, reg;
    vb_status st = vb_bcd_element(hive, object, type, data, sizeof(data), &len, &reg);
    *present = false;
    if (st == VB_ERR_NOT_FOUND)
        return VB_OK;
    if (st != VB_OK)
        return st;
    if (reg != VB_REG_BINARY)
        return VB_ERR_BCD_ELEMENT;
    *present = true;
    return vb_bcd_decode_device(data, len, dev);
}

vb_status vb_bcd_default_entry(const vb_regf *hive, vb_bcd_entry *out)
{
    vb_memset(out, 0, sizeof(*out));
    vb_status st = string_of(hive, VB_BCD_BOOTMGR, VB_BCDE_DEFAULT, out->id, sizeof(out->id));
    if (st != VB_OK)
        return st;
    if ((st = string_of(hive, out->id, VB_BCDE_APP_PATH, out->app_path, sizeof(out->app_path))) != VB_OK ||
        (st = string_of(hive, out->id, VB_BCDE_SYSTEM_ROOT, out->system_root, sizeof(out->system_root))) != VB_OK)
        return st;
    st = string_of(hive, out->id, VB_BCDE_DESCRIPTION, out->description, sizeof(out->description));
    if (st != VB_OK && st != VB_ERR_NOT_FOUND)
        return st;
    if ((st = device_of(hive, out->id, VB_BCDE_APP_DEVICE, &out->app_device, &out->has_app_device)) != VB_OK)
        return st;
    return device_of(hive, out->id, VB_BCDE_OS_DEVICE, &out->os_device, &out->has_os_device);
}
