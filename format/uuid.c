/* vhdboot: UUIDs as text (see uuid.h for the two byte orders). */
#include "uuid.h"

void vb_uuid_text(const uint8_t uuid[16], enum vb_uuid_order order, char out[VB_UUID_TEXT_SIZE])
{
    /* Byte index for each printed position: GUID order reverses the first
     * three fields. */
    static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const char hex[] = "0123456789abcdef";
    unsigned n = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        uint8_t b = uuid[order == VB_UUID_GUID ? guid_order[i] : i];
        out[n++] = hex[b >> 4];
        out[n++] = hex[b & 15];
    }
    out[n] = '\0';
}
