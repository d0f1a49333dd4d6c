/* vhdboot: CRC-32C and GUID helpers for VHDX. */
#include "bytes.h"
#include "vhdx_internal.h"

const uint8_t vb_vhdx_guid_bat[16] =
    VB_GUID_BYTES(0x2DC27766u, 0xF623u, 0x4200u, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08);
const uint8_t vb_vhdx_guid_metadata[16] =
    VB_GUID_BYTES(0x8B7CA206u, 0x4790u, 0x4B9Au, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E);
const uint8_t vb_vhdx_guid_file_params[16] =
    VB_GUID_BYTES(0xCAA16737u, 0xFA36u, 0x4D43u, 0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B);
const uint8_t vb_vhdx_guid_disk_size[16] =
    VB_GUID_BYTES(0x2FA54224u, 0xCD1Bu, 0x4876u, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8);
const uint8_t vb_vhdx_guid_page83[16] =
    VB_GUID_BYTES(0xBECA12ABu, 0xB2E6u, 0x4523u, 0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46);
const uint8_t vb_vhdx_guid_logical_sector[16] =
    VB_GUID_BYTES(0x8141BF1Du, 0xA96Fu, 0x4709u, 0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F);
const uint8_t vb_vhdx_guid_physical_sector[16] =
    VB_GUID_BYTES(0xCDA348C7u, 0x445Du, 0x4471u, 0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56);
const uint8_t vb_vhdx_guid_parent_locator[16] =
    VB_GUID_BYTES(0xA8D35F2Du, 0xB30Bu, 0x454Du, 0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C);
const uint8_t vb_vhdx_guid_locator_type[16] =
    VB_GUID_BYTES(0xB04AEFB7u, 0xD19Eu, 0x4A81u, 0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13);

static uint32_t crc_table[256];
static bool crc_table_ready;

/* Fills the table of the reflected Castagnoli polynomial 0x82F63B78. */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
    crc_table_ready = true;
}

uint32_t vb_crc32c_update(uint32_t crc, const uint8_t *buf, size_t len)
{
    if (!crc_table_ready)
        crc_init();
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t vb_crc32c(const uint8_t *buf, size_t len, size_t skip)
{
    static const uint8_t zero[4];
    if (skip >= len || len - skip < 4)
        return vb_crc32c_update(0, buf, len);
    uint32_t crc = vb_crc32c_update(0, buf, skip);
    crc = vb_crc32c_update(crc, zero, 4);
    return vb_crc32c_update(crc, buf + skip + 4, len - skip - 4);
}

void vb_guid_format(const uint8_t g[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    /* text order of the stored bytes: 3 2 1 0 - 5 4 - 7 6 - 8 9 - 10..15 */
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    size_t n = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[g[order[i]] >> 4];
        out[n++] = hex[g[order[i]] & 15];
    }
    out[n] = '\0';
}

/* Value of one hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool vb_guid_parse(const char *text, uint8_t out[16])
{
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    const char *p = text;
    bool brace = *p == '{';
    if (brace)
        p++;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (*p != '-')
                return false;
            p++;
        }
        int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
        if (hi < 0 || lo < 0)
            return false;
        out[order[i]] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (brace && *p++ != '}')
        return false;
    return *p == '\0';
}

bool vb_guid_is_zero(const uint8_t g[16])
{
    for (unsigned i = 0; i < 16; i++)
        if (g[i])
            return false;
    return true;
}

bool vb_vhdx_sniff(const uint8_t first8[8])
{
    return vb_memcmp(first8, "vhdxfile", 8) == 0;
}
