/* vhdboot: identity of a host partition as Windows names it — GPT disk and
 * partition GUIDs, or MBR disk signature and partition byte offset. */
#ifndef VB_DISK_ID_H
#define VB_DISK_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "source.h"

enum vb_disk_style { VB_DISK_GPT = 0, VB_DISK_MBR = 1 };

typedef struct vb_disk_id {
    enum vb_disk_style style;
    uint8_t disk_guid[16];        /* GPT: as stored on disk (mixed-endian GUID bytes) */
    uint8_t part_guid[16];        /* GPT: unique partition GUID, as stored */
    uint32_t mbr_signature;       /* MBR: disk signature at byte 440 */
    uint64_t part_offset;         /* partition start in bytes (what MBR identity uses) */
    uint64_t part_size;           /* partition length in bytes (0 when unknown) */
} vb_disk_id;

/* Reads the identity of partition number (1-based; MBR primaries 1-4) from
 * the partition table of disk, whose logical blocks are block_size bytes.
 * Returns VB_ERR_NOT_FOUND when there is no such partition, VB_ERR_FS_CORRUPT
 * on a damaged table. A protective MBR (type 0xEE) means GPT. */
vb_status vb_disk_id_read(vb_source *disk, uint32_t block_size, uint32_t number, vb_disk_id *out);
/* Parses a GUID written as text ("{01234567-89ab-cdef-0123-456789abcdef}",
 * braces optional) into its on-disk byte order; false on junk. */
bool vb_guid_parse(const char *text, uint8_t guid[16]); /* defined in vhdx_crc.c */
/* Formats an on-disk GUID as lower-case text with braces (39 bytes with NUL). */
void vb_guid_format_braced(const uint8_t guid[16], char out[39]);

#endif
