/* vhdboot: VHDX on-disk structures (MS-VHDX; little-endian, packed, byte arrays only).
 *
 * Multi-byte fields are byte arrays read with vb_le16/32/64 (format/bytes.h).
 * GUIDs stay as their 16 stored bytes (first three fields little-endian).
 * Every field offset is asserted against MS-VHDX sections 2.1 - 2.6. */
#ifndef VB_VHDX_STRUCT_H
#define VB_VHDX_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#define VB_VHDX_MIB (1024u * 1024u)
#define VB_VHDX_KIB64 (64u * 1024u)
#define VB_VHDX_FILE_ID_OFFSET 0u
#define VB_VHDX_HEADER1_OFFSET (64u * 1024u)
#define VB_VHDX_HEADER2_OFFSET (128u * 1024u)
#define VB_VHDX_REGION1_OFFSET (192u * 1024u)
#define VB_VHDX_REGION2_OFFSET (256u * 1024u)
#define VB_VHDX_HEADER_SIZE 4096u          /* CRC covers the first 4 KiB of the 64 KiB slot */
#define VB_VHDX_REGION_TABLE_SIZE (64u * 1024u)
#define VB_VHDX_REGION_MAX_ENTRIES 2047u
#define VB_VHDX_META_TABLE_SIZE (64u * 1024u)
#define VB_VHDX_META_MAX_ENTRIES 2047u
#define VB_VHDX_META_ITEM_MAX VB_VHDX_MIB
#define VB_VHDX_LOG_SECTOR 4096u
#define VB_VHDX_SECTOR_BITMAP_SIZE VB_VHDX_MIB
#define VB_VHDX_MAX_DISK_SIZE (64ull << 40)  /* 64 TiB */
#define VB_VHDX_MIN_BLOCK (1u << 20)
#define VB_VHDX_MAX_BLOCK (256u << 20)

/* BAT entry states (MS-VHDX 2.5.1.1 / 2.5.1.2): low 3 bits; FileOffsetMB in bits 20..63. */
enum {
    VB_VHDX_PAYLOAD_NOT_PRESENT = 0,
    VB_VHDX_PAYLOAD_UNDEFINED = 1,
    VB_VHDX_PAYLOAD_ZERO = 2,
    VB_VHDX_PAYLOAD_UNMAPPED = 3,
    VB_VHDX_PAYLOAD_FULLY_PRESENT = 6,
    VB_VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
    VB_VHDX_SB_NOT_PRESENT = 0,
    VB_VHDX_SB_PRESENT = 6,
};
#define VB_VHDX_BAT_STATE(e) ((unsigned)((e) & 7u))
#define VB_VHDX_BAT_OFFSET(e) ((e) & ~(uint64_t)0xFFFFF)   /* FileOffsetMB << 20 */

typedef struct __attribute__((packed)) vb_vhdx_raw_file_id {
    char signature[8];            /* "vhdxfile" */
    uint8_t creator[512];         /* UTF-16LE, optional */
} vb_vhdx_raw_file_id;
_Static_assert(offsetof(vb_vhdx_raw_file_id, creator) == 8, "file id creator");

typedef struct __attribute__((packed)) vb_vhdx_raw_header {
    char signature[4];            /* "head" */
    uint8_t checksum[4];          /* CRC-32C of the 4 KiB header with this field zero */
    uint8_t sequence_number[8];
    uint8_t file_write_guid[16];
    uint8_t data_write_guid[16];
    uint8_t log_guid[16];
    uint8_t log_version[2];
    uint8_t version[2];
    uint8_t log_length[4];
    uint8_t log_offset[8];
    uint8_t reserved[4016];
} vb_vhdx_raw_header;
_Static_assert(sizeof(vb_vhdx_raw_header) == 4096, "header size");
_Static_assert(offsetof(vb_vhdx_raw_header, checksum) == 4, "header checksum");
_Static_assert(offsetof(vb_vhdx_raw_header, sequence_number) == 8, "header sequence");
_Static_assert(offsetof(vb_vhdx_raw_header, file_write_guid) == 16, "header file write guid");
_Static_assert(offsetof(vb_vhdx_raw_header, data_write_guid) == 32, "header data write guid");
_Static_assert(offsetof(vb_vhdx_raw_header, log_guid) == 48, "header log guid");
_Static_assert(offsetof(vb_vhdx_raw_header, log_version) == 64, "header log version");
_Static_assert(offsetof(vb_vhdx_raw_header, version) == 66, "header version");
_Static_assert(offsetof(vb_vhdx_raw_header, log_length) == 68, "header log length");
_Static_assert(offsetof(vb_vhdx_raw_header, log_offset) == 72, "header log offset");
_Static_assert(offsetof(vb_vhdx_raw_header, reserved) == 80, "header reserved");

typedef struct __attribute__((packed)) vb_vhdx_raw_region_header {
    char signature[4];            /* "regi" */
    uint8_t checksum[4];          /* CRC-32C of the 64 KiB table with this field zero */
    uint8_t entry_count[4];       /* <= 2047 */
    uint8_t reserved[4];
} vb_vhdx_raw_region_header;
_Static_assert(sizeof(vb_vhdx_raw_region_header) == 16, "region header size");
_Static_assert(offsetof(vb_vhdx_raw_region_header, entry_count) == 8, "region entry count");

typedef struct __attribute__((packed)) vb_vhdx_raw_region_entry {
    uint8_t guid[16];
    uint8_t file_offset[8];       /* multiple of 1 MiB */
    uint8_t length[4];            /* multiple of 1 MiB */
    uint8_t required[4];          /* bit 0: Required */
} vb_vhdx_raw_region_entry;
_Static_assert(sizeof(vb_vhdx_raw_region_entry) == 32, "region entry size");
_Static_assert(offsetof(vb_vhdx_raw_region_entry, file_offset) == 16, "region entry offset");
_Static_assert(offsetof(vb_vhdx_raw_region_entry, length) == 24, "region entry length");
_Static_assert(offsetof(vb_vhdx_raw_region_entry, required) == 28, "region entry required");

typedef struct __attribute__((packed)) vb_vhdx_raw_meta_header {
    char signature[8];            /* "metadata" */
    uint8_t reserved[2];
    uint8_t entry_count[2];       /* <= 2047 */
    uint8_t reserved2[20];
} vb_vhdx_raw_meta_header;
_Static_assert(sizeof(vb_vhdx_raw_meta_header) == 32, "metadata header size");
_Static_assert(offsetof(vb_vhdx_raw_meta_header, entry_count) == 10, "metadata entry count");

typedef struct __attribute__((packed)) vb_vhdx_raw_meta_entry {
    uint8_t item_id[16];
    uint8_t offset[4];            /* from the region start, >= 64 KiB when length > 0 */
    uint8_t length[4];            /* <= 1 MiB */
    uint8_t flags[4];             /* bit 0 IsUser, bit 1 IsVirtualDisk, bit 2 IsRequired */
    uint8_t reserved2[4];
} vb_vhdx_raw_meta_entry;
_Static_assert(sizeof(vb_vhdx_raw_meta_entry) == 32, "metadata entry size");
_Static_assert(offsetof(vb_vhdx_raw_meta_entry, offset) == 16, "metadata entry offset");
_Static_assert(offsetof(vb_vhdx_raw_meta_entry, length) == 20, "metadata entry length");
_Static_assert(offsetof(vb_vhdx_raw_meta_entry, flags) == 24, "metadata entry flags");
#define VB_VHDX_META_IS_USER 1u
#define VB_VHDX_META_IS_VIRTUAL_DISK 2u
#define VB_VHDX_META_IS_REQUIRED 4u

typedef struct __attribute__((packed)) vb_vhdx_raw_file_params {
    uint8_t block_size[4];
    uint8_t flags[4];             /* bit 0 LeaveBlockAllocated, bit 1 HasParent */
} vb_vhdx_raw_file_params;
_Static_assert(sizeof(vb_vhdx_raw_file_params) == 8, "file parameters size");
#define VB_VHDX_PARAM_LEAVE_ALLOCATED 1u
#define VB_VHDX_PARAM_HAS_PARENT 2u

typedef struct __attribute__((packed)) vb_vhdx_raw_locator_header {
    uint8_t locator_type[16];
    uint8_t reserved[2];
    uint8_t key_value_count[2];
} vb_vhdx_raw_locator_header;
_Static_assert(sizeof(vb_vhdx_raw_locator_header) == 20, "locator header size");
_Static_assert(offsetof(vb_vhdx_raw_locator_header, key_value_count) == 18, "locator count");

typedef struct __attribute__((packed)) vb_vhdx_raw_locator_entry {
    uint8_t key_offset[4];        /* from the start of the locator item */
    uint8_t value_offset[4];
    uint8_t key_length[2];        /* bytes, UTF-16LE, no terminator */
    uint8_t value_length[2];
} vb_vhdx_raw_locator_entry;
_Static_assert(sizeof(vb_vhdx_raw_locator_entry) == 12, "locator entry size");
_Static_assert(offsetof(vb_vhdx_raw_locator_entry, key_length) == 8, "locator key length");

typedef struct __attribute__((packed)) vb_vhdx_raw_log_header {
    char signature[4];            /* "loge" */
    uint8_t checksum[4];          /* CRC-32C of the whole entry with this field zero */
    uint8_t entry_length[4];      /* multiple of 4 KiB */
    uint8_t tail[4];              /* log offset of the first entry of the active sequence */
    uint8_t sequence_number[8];   /* > 0 */
    uint8_t descriptor_count[4];
    uint8_t reserved[4];
    uint8_t log_guid[16];
    uint8_t flushed_file_offset[8];
    uint8_t last_file_offset[8];
} vb_vhdx_raw_log_header;
_Static_assert(sizeof(vb_vhdx_raw_log_header) == 64, "log header size");
_Static_assert(offsetof(vb_vhdx_raw_log_header, entry_length) == 8, "log entry length");
_Static_assert(offsetof(vb_vhdx_raw_log_header, tail) == 12, "log tail");
_Static_assert(offsetof(vb_vhdx_raw_log_header, sequence_number) == 16, "log sequence");
_Static_assert(offsetof(vb_vhdx_raw_log_header, descriptor_count) == 24, "log descriptor count");
_Static_assert(offsetof(vb_vhdx_raw_log_header, log_guid) == 32, "log guid");
_Static_assert(offsetof(vb_vhdx_raw_log_header, flushed_file_offset) == 48, "log flushed offset");
_Static_assert(offsetof(vb_vhdx_raw_log_header, last_file_offset) == 56, "log last offset");

/* Zero descriptor ("zero") and data descriptor ("desc") share one layout. */
typedef struct __attribute__((packed)) vb_vhdx_raw_log_desc {
    char signature[4];            /* "zero" or "desc" */
    uint8_t trailing_bytes[4];    /* desc: bytes 4092..4095 of the sector; zero: reserved */
    uint8_t leading_or_length[8]; /* desc: bytes 0..7 of the sector; zero: ZeroLength */
    uint8_t file_offset[8];       /* multiple of 4 KiB */
    uint8_t sequence_number[8];
} vb_vhdx_raw_log_desc;
_Static_assert(sizeof(vb_vhdx_raw_log_desc) == 32, "log descriptor size");
_Static_assert(offsetof(vb_vhdx_raw_log_desc, leading_or_length) == 8, "log descriptor leading");
_Static_assert(offsetof(vb_vhdx_raw_log_desc, file_offset) == 16, "log descriptor offset");
_Static_assert(offsetof(vb_vhdx_raw_log_desc, sequence_number) == 24, "log descriptor sequence");

typedef struct __attribute__((packed)) vb_vhdx_raw_log_data {
    char signature[4];            /* "data" */
    uint8_t sequence_high[4];
    uint8_t data[4084];           /* bytes 8..4091 of the sector */
    uint8_t sequence_low[4];
} vb_vhdx_raw_log_data;
_Static_assert(sizeof(vb_vhdx_raw_log_data) == 4096, "log data sector size");
_Static_assert(offsetof(vb_vhdx_raw_log_data, data) == 8, "log data");
_Static_assert(offsetof(vb_vhdx_raw_log_data, sequence_low) == 4092, "log data sequence low");

#endif
