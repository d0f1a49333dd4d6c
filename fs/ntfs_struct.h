/* vhdboot: NTFS on-disk structures (little-endian, packed, byte arrays only).
 *
 * Multi-byte fields are byte arrays read with vb_le16/32/64 (format/bytes.h).
 * Every offset is asserted; the layout is described in ../shared/docs/ntfs.md
 * (next to the repository). */
#ifndef VB_NTFS_STRUCT_H
#define VB_NTFS_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#define NTFS_FIXUP_STRIDE 512u
#define NTFS_ATTR_END 0xFFFFFFFFu

/* Attribute types used here. */
#define NTFS_AT_ATTRIBUTE_LIST 0x20u
#define NTFS_AT_FILE_NAME 0x30u
#define NTFS_AT_VOLUME_NAME 0x60u
#define NTFS_AT_DATA 0x80u
#define NTFS_AT_INDEX_ROOT 0x90u
#define NTFS_AT_INDEX_ALLOCATION 0xA0u

/* Attribute header flags. */
#define NTFS_ATTR_COMPRESSED 0x0001u
#define NTFS_ATTR_ENCRYPTED 0x4000u
#define NTFS_ATTR_SPARSE 0x8000u

/* MFT record flags. */
#define NTFS_RECORD_IN_USE 0x0001u
#define NTFS_RECORD_DIRECTORY 0x0002u

/* Index entry flags and node flags. */
#define NTFS_INDEX_ENTRY_SUBNODE 0x01u
#define NTFS_INDEX_ENTRY_LAST 0x02u
#define NTFS_COLLATION_FILE_NAME 0x01u

/* Well-known MFT records. */
#define NTFS_MFT_RECORD_MFT 0u
#define NTFS_MFT_RECORD_VOLUME 3u
#define NTFS_MFT_RECORD_ROOT 5u
#define NTFS_MFT_RECORD_UPCASE 10u

typedef struct __attribute__((packed)) ntfs_boot_sector {
    uint8_t jump[3];
    char oem_id[8];                 /* "NTFS    " */
    uint8_t bytes_per_sector[2];
    uint8_t sectors_per_cluster;    /* <= 0x80 literal, >= 0xF4 means 2^(256-v) */
    uint8_t reserved1[7];
    uint8_t media;
    uint8_t reserved2[2];
    uint8_t sectors_per_track[2];
    uint8_t heads[2];
    uint8_t hidden_sectors[4];
    uint8_t reserved3[8];
    uint8_t total_sectors[8];
    uint8_t mft_lcn[8];
    uint8_t mftmirr_lcn[8];
    int8_t clusters_per_record;     /* negative v: 2^-v bytes */
    uint8_t reserved4[3];
    int8_t clusters_per_index;
    uint8_t reserved5[3];
    uint8_t serial[8];
    uint8_t checksum[4];
    uint8_t code[426];
    uint8_t signature[2];           /* 0x55 0xAA */
} ntfs_boot_sector;

_Static_assert(sizeof(ntfs_boot_sector) == 512, "boot sector size");
_Static_assert(offsetof(ntfs_boot_sector, oem_id) == 0x03, "oem id");
_Static_assert(offsetof(ntfs_boot_sector, bytes_per_sector) == 0x0B, "bytes per sector");
_Static_assert(offsetof(ntfs_boot_sector, sectors_per_cluster) == 0x0D, "sectors per cluster");
_Static_assert(offsetof(ntfs_boot_sector, total_sectors) == 0x28, "total sectors");
_Static_assert(offsetof(ntfs_boot_sector, mft_lcn) == 0x30, "mft lcn");
_Static_assert(offsetof(ntfs_boot_sector, mftmirr_lcn) == 0x38, "mftmirr lcn");
_Static_assert(offsetof(ntfs_boot_sector, clusters_per_record) == 0x40, "clusters per record");
_Static_assert(offsetof(ntfs_boot_sector, clusters_per_index) == 0x44, "clusters per index");
_Static_assert(offsetof(ntfs_boot_sector, signature) == 0x1FE, "signature");

/* Header shared by FILE records and INDX blocks (update sequence array). */
typedef struct __attribute__((packed)) ntfs_multi_sector_header {
    char magic[4];
    uint8_t usa_offset[2];
    uint8_t usa_count[2];
} ntfs_multi_sector_header;

_Static_assert(sizeof(ntfs_multi_sector_header) == 8, "multi-sector header");

typedef struct __attribute__((packed)) ntfs_record_header {
    ntfs_multi_sector_header multi;  /* "FILE" */
    uint8_t lsn[8];
    uint8_t sequence[2];
    uint8_t link_count[2];
    uint8_t attrs_offset[2];
    uint8_t flags[2];
    uint8_t bytes_in_use[4];
    uint8_t bytes_allocated[4];
    uint8_t base_record[8];
    uint8_t next_attr_id[2];
} ntfs_record_header;

_Static_assert(offsetof(ntfs_record_header, sequence) == 0x10, "record sequence");
_Static_assert(offsetof(ntfs_record_header, attrs_offset) == 0x14, "record attrs offset");
_Static_assert(offsetof(ntfs_record_header, flags) == 0x16, "record flags");
_Static_assert(offsetof(ntfs_record_header, bytes_in_use) == 0x18, "record bytes in use");
_Static_assert(offsetof(ntfs_record_header, bytes_allocated) == 0x1C, "record bytes allocated");
_Static_assert(offsetof(ntfs_record_header, base_record) == 0x20, "record base record");
_Static_assert(sizeof(ntfs_record_header) == 0x2A, "record header size");

typedef struct __attribute__((packed)) ntfs_attr_header {
    uint8_t type[4];
    uint8_t length[4];
    uint8_t non_resident;
    uint8_t name_length;            /* UTF-16 units */
    uint8_t name_offset[2];
    uint8_t flags[2];
    uint8_t instance[2];
    union {
        struct __attribute__((packed)) {
            uint8_t value_length[4];
            uint8_t value_offset[2];
            uint8_t indexed;
            uint8_t padding;
        } resident;
        struct __attribute__((packed)) {
            uint8_t lowest_vcn[8];
            uint8_t highest_vcn[8];
            uint8_t pairs_offset[2];
            uint8_t compression_unit;
            uint8_t reserved[5];
            uint8_t allocated_size[8];
            uint8_t data_size[8];
            uint8_t initialized_size[8];
        } nonresident;
    } u;
} ntfs_attr_header;

#define NTFS_RESIDENT_HEADER_SIZE 0x18u
#define NTFS_NONRESIDENT_HEADER_SIZE 0x40u
_Static_assert(offsetof(ntfs_attr_header, length) == 0x04, "attr length");
_Static_assert(offsetof(ntfs_attr_header, non_resident) == 0x08, "attr non-resident");
_Static_assert(offsetof(ntfs_attr_header, name_length) == 0x09, "attr name length");
_Static_assert(offsetof(ntfs_attr_header, name_offset) == 0x0A, "attr name offset");
_Static_assert(offsetof(ntfs_attr_header, flags) == 0x0C, "attr flags");
_Static_assert(offsetof(ntfs_attr_header, u.resident.value_length) == 0x10, "resident value length");
_Static_assert(offsetof(ntfs_attr_header, u.resident.value_offset) == 0x14, "resident value offset");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.lowest_vcn) == 0x10, "lowest vcn");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.highest_vcn) == 0x18, "highest vcn");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.pairs_offset) == 0x20, "mapping pairs offset");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.compression_unit) == 0x22, "compression unit");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.allocated_size) == 0x28, "allocated size");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.data_size) == 0x30, "data size");
_Static_assert(offsetof(ntfs_attr_header, u.nonresident.initialized_size) == 0x38, "initialized size");
_Static_assert(sizeof(ntfs_attr_header) == NTFS_NONRESIDENT_HEADER_SIZE, "attr header size");

typedef struct __attribute__((packed)) ntfs_attr_list_entry {
    uint8_t type[4];
    uint8_t length[2];
    uint8_t name_length;
    uint8_t name_offset;
    uint8_t lowest_vcn[8];
    uint8_t record[8];              /* file reference: 48-bit record number, 16-bit sequence */
    uint8_t instance[2];
} ntfs_attr_list_entry;

#define NTFS_ATTR_LIST_ENTRY_MIN 0x1Au
_Static_assert(offsetof(ntfs_attr_list_entry, length) == 0x04, "list entry length");
_Static_assert(offsetof(ntfs_attr_list_entry, name_length) == 0x06, "list entry name length");
_Static_assert(offsetof(ntfs_attr_list_entry, name_offset) == 0x07, "list entry name offset");
_Static_assert(offsetof(ntfs_attr_list_entry, lowest_vcn) == 0x08, "list entry vcn");
_Static_assert(offsetof(ntfs_attr_list_entry, record) == 0x10, "list entry record");
_Static_assert(offsetof(ntfs_attr_list_entry, instance) == 0x18, "list entry instance");
_Static_assert(sizeof(ntfs_attr_list_entry) == NTFS_ATTR_LIST_ENTRY_MIN, "list entry size");

typedef struct __attribute__((packed)) ntfs_file_name {
    uint8_t parent[8];
    uint8_t times[32];
    uint8_t allocated_size[8];
    uint8_t data_size[8];
    uint8_t file_attributes[4];
    uint8_t reparse[4];
    uint8_t name_length;            /* UTF-16 units */
    uint8_t name_space;             /* 0 POSIX, 1 Win32, 2 DOS, 3 Win32+DOS */
} ntfs_file_name;

#define NTFS_FILE_NAME_HEADER_SIZE 0x42u
_Static_assert(offsetof(ntfs_file_name, file_attributes) == 0x38, "file name attributes");
_Static_assert(offsetof(ntfs_file_name, name_length) == 0x40, "file name length");
_Static_assert(offsetof(ntfs_file_name, name_space) == 0x41, "file name namespace");
_Static_assert(sizeof(ntfs_file_name) == NTFS_FILE_NAME_HEADER_SIZE, "file name header size");

typedef struct __attribute__((packed)) ntfs_index_node_header {
    uint8_t entries_offset[4];      /* relative to this header */
    uint8_t index_length[4];        /* bytes in use, relative to this header */
    uint8_t allocated_size[4];
    uint8_t flags[4];               /* 1 = entries have subnodes */
} ntfs_index_node_header;

_Static_assert(sizeof(ntfs_index_node_header) == 0x10, "index node header size");

typedef struct __attribute__((packed)) ntfs_index_root {
    uint8_t indexed_type[4];
    uint8_t collation_rule[4];
    uint8_t block_size[4];
    uint8_t clusters_per_block;
    uint8_t reserved[3];
    ntfs_index_node_header node;
} ntfs_index_root;

_Static_assert(offsetof(ntfs_index_root, block_size) == 0x08, "index root block size");
_Static_assert(offsetof(ntfs_index_root, node) == 0x10, "index root node");
_Static_assert(sizeof(ntfs_index_root) == 0x20, "index root size");

typedef struct __attribute__((packed)) ntfs_index_block_header {
    ntfs_multi_sector_header multi; /* "INDX" */
    uint8_t lsn[8];
    uint8_t vcn[8];
    ntfs_index_node_header node;
} ntfs_index_block_header;

_Static_assert(offsetof(ntfs_index_block_header, vcn) == 0x10, "index block vcn");
_Static_assert(offsetof(ntfs_index_block_header, node) == 0x18, "index block node");

typedef struct __attribute__((packed)) ntfs_index_entry {
    uint8_t file_ref[8];
    uint8_t length[2];
    uint8_t key_length[2];
    uint8_t flags[2];
    uint8_t reserved[2];
} ntfs_index_entry;

#define NTFS_INDEX_ENTRY_HEADER_SIZE 0x10u
_Static_assert(offsetof(ntfs_index_entry, length) == 0x08, "index entry length");
_Static_assert(offsetof(ntfs_index_entry, key_length) == 0x0A, "index entry key length");
_Static_assert(offsetof(ntfs_index_entry, flags) == 0x0C, "index entry flags");
_Static_assert(sizeof(ntfs_index_entry) == NTFS_INDEX_ENTRY_HEADER_SIZE, "index entry header size");

#endif
