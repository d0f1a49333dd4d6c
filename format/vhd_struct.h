/* vhdboot: VHD on-disk structures (big-endian, packed, byte arrays only).
 *
 * Multi-byte fields are byte arrays read with vb_be16/32/64 (format/bytes.h),
 * so the structs have no alignment or endianness of their own. Every field
 * offset is asserted against the Microsoft VHD specification v1.0. */
#ifndef VB_VHD_STRUCT_H
#define VB_VHD_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#define VB_FOOTER_SIZE 512u
#define VB_SHORT_FOOTER_SIZE 511u      /* images older than Virtual PC 2004 */
#define VB_HEADER_SIZE 1024u
#define VB_LOCATOR_COUNT 8u
#define VB_BAT_UNUSED 0xFFFFFFFFu
#define VB_VERSION_1_0 0x00010000u
#define VB_FEATURES_RESERVED 0x00000002u
#define VB_FIXED_DATA_OFFSET 0xFFFFFFFFFFFFFFFFull

/* Hard footer at the end of every VHD (and its copy at offset 0 of dynamic ones). */
typedef struct __attribute__((packed)) vb_raw_footer {
    char cookie[8];               /* "conectix" */
    uint8_t features[4];
    uint8_t version[4];
    uint8_t data_offset[8];       /* header offset; all ones for fixed */
    uint8_t timestamp[4];         /* seconds since 2000-01-01 00:00 UTC */
    char creator_app[4];
    uint8_t creator_version[4];
    uint8_t creator_host_os[4];
    uint8_t original_size[8];
    uint8_t current_size[8];
    uint8_t cylinders[2];
    uint8_t heads;
    uint8_t sectors_per_track;
    uint8_t disk_type[4];
    uint8_t checksum[4];
    uint8_t uuid[16];
    uint8_t saved_state;
    uint8_t reserved[427];
} vb_raw_footer;

_Static_assert(sizeof(vb_raw_footer) == 512, "footer size");
_Static_assert(offsetof(vb_raw_footer, cookie) == 0, "footer cookie");
_Static_assert(offsetof(vb_raw_footer, features) == 8, "footer features");
_Static_assert(offsetof(vb_raw_footer, version) == 12, "footer version");
_Static_assert(offsetof(vb_raw_footer, data_offset) == 16, "footer data offset");
_Static_assert(offsetof(vb_raw_footer, timestamp) == 24, "footer timestamp");
_Static_assert(offsetof(vb_raw_footer, creator_app) == 28, "footer creator app");
_Static_assert(offsetof(vb_raw_footer, creator_version) == 32, "footer creator version");
_Static_assert(offsetof(vb_raw_footer, creator_host_os) == 36, "footer creator host os");
_Static_assert(offsetof(vb_raw_footer, original_size) == 40, "footer original size");
_Static_assert(offsetof(vb_raw_footer, current_size) == 48, "footer current size");
_Static_assert(offsetof(vb_raw_footer, cylinders) == 56, "footer cylinders");
_Static_assert(offsetof(vb_raw_footer, heads) == 58, "footer heads");
_Static_assert(offsetof(vb_raw_footer, sectors_per_track) == 59, "footer sectors per track");
_Static_assert(offsetof(vb_raw_footer, disk_type) == 60, "footer disk type");
_Static_assert(offsetof(vb_raw_footer, checksum) == 64, "footer checksum");
_Static_assert(offsetof(vb_raw_footer, uuid) == 68, "footer uuid");
_Static_assert(offsetof(vb_raw_footer, saved_state) == 84, "footer saved state");
_Static_assert(offsetof(vb_raw_footer, reserved) == 85, "footer reserved");

/* One parent locator entry inside the dynamic header. */
typedef struct __attribute__((packed)) vb_raw_locator {
    char code[4];                 /* "W2ru", "W2ku", "MacX", ... */
    uint8_t data_space[4];        /* sectors per spec, bytes in practice */
    uint8_t data_length[4];       /* bytes */
    uint8_t reserved[4];
    uint8_t data_offset[8];       /* absolute file offset */
} vb_raw_locator;

_Static_assert(sizeof(vb_raw_locator) == 24, "locator size");
_Static_assert(offsetof(vb_raw_locator, code) == 0, "locator code");
_Static_assert(offsetof(vb_raw_locator, data_space) == 4, "locator data space");
_Static_assert(offsetof(vb_raw_locator, data_length) == 8, "locator data length");
_Static_assert(offsetof(vb_raw_locator, reserved) == 12, "locator reserved");
_Static_assert(offsetof(vb_raw_locator, data_offset) == 16, "locator data offset");

/* Dynamic disk header ("cxsparse") of dynamic and differencing disks. */
typedef struct __attribute__((packed)) vb_raw_header {
    char cookie[8];               /* "cxsparse" */
    uint8_t data_offset[8];       /* unused, all ones */
    uint8_t table_offset[8];      /* BAT file offset */
    uint8_t header_version[4];
    uint8_t max_table_entries[4];
    uint8_t block_size[4];
    uint8_t checksum[4];
    uint8_t parent_uuid[16];
    uint8_t parent_timestamp[4];
    uint8_t reserved1[4];
    uint8_t parent_name[512];     /* UTF-16 big-endian, NUL-terminated only if shorter */
    vb_raw_locator locators[VB_LOCATOR_COUNT];
    uint8_t reserved2[256];
} vb_raw_header;

_Static_assert(sizeof(vb_raw_header) == 1024, "header size");
_Static_assert(offsetof(vb_raw_header, cookie) == 0, "header cookie");
_Static_assert(offsetof(vb_raw_header, data_offset) == 8, "header data offset");
_Static_assert(offsetof(vb_raw_header, table_offset) == 16, "header table offset");
_Static_assert(offsetof(vb_raw_header, header_version) == 24, "header version");
_Static_assert(offsetof(vb_raw_header, max_table_entries) == 28, "header max table entries");
_Static_assert(offsetof(vb_raw_header, block_size) == 32, "header block size");
_Static_assert(offsetof(vb_raw_header, checksum) == 36, "header checksum");
_Static_assert(offsetof(vb_raw_header, parent_uuid) == 40, "header parent uuid");
_Static_assert(offsetof(vb_raw_header, parent_timestamp) == 56, "header parent timestamp");
_Static_assert(offsetof(vb_raw_header, reserved1) == 60, "header reserved1");
_Static_assert(offsetof(vb_raw_header, parent_name) == 64, "header parent name");
_Static_assert(offsetof(vb_raw_header, locators) == 576, "header locators");
_Static_assert(offsetof(vb_raw_header, reserved2) == 768, "header reserved2");

/* Offsets of the checksum fields, for vb_vhd_checksum. */
#define VB_FOOTER_CHECKSUM_OFFSET offsetof(vb_raw_footer, checksum)
#define VB_HEADER_CHECKSUM_OFFSET offsetof(vb_raw_header, checksum)

#endif
