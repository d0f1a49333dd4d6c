/* vhdboot: FAT12/16/32 on-disk structures (little-endian, packed, byte arrays). */
#ifndef VB_FAT_STRUCT_H
#define VB_FAT_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#define FAT_DIRENT_SIZE 32u
#define FAT_ATTR_VOLUME_ID 0x08u
#define FAT_ATTR_DIRECTORY 0x10u
#define FAT_ATTR_LONG_NAME 0x0Fu
#define FAT_DIRENT_END 0x00u
#define FAT_DIRENT_DELETED 0xE5u
#define FAT_LFN_LAST 0x40u
#define FAT_LFN_UNITS 13u
#define FAT_LFN_MAX_SLOTS 20u

/* BIOS parameter block common to all FAT types. */
typedef struct __attribute__((packed)) fat_bpb {
    uint8_t jump[3];
    char oem[8];
    uint8_t bytes_per_sector[2];
    uint8_t sectors_per_cluster;
    uint8_t reserved_sectors[2];
    uint8_t fat_count;
    uint8_t root_entries[2];
    uint8_t total_sectors16[2];
    uint8_t media;
    uint8_t fat_size16[2];
    uint8_t sectors_per_track[2];
    uint8_t heads[2];
    uint8_t hidden_sectors[4];
    uint8_t total_sectors32[4];
} fat_bpb;

_Static_assert(offsetof(fat_bpb, bytes_per_sector) == 0x0B, "bytes per sector");
_Static_assert(offsetof(fat_bpb, sectors_per_cluster) == 0x0D, "sectors per cluster");
_Static_assert(offsetof(fat_bpb, reserved_sectors) == 0x0E, "reserved sectors");
_Static_assert(offsetof(fat_bpb, fat_count) == 0x10, "fat count");
_Static_assert(offsetof(fat_bpb, root_entries) == 0x11, "root entries");
_Static_assert(offsetof(fat_bpb, total_sectors16) == 0x13, "total sectors 16");
_Static_assert(offsetof(fat_bpb, fat_size16) == 0x16, "fat size 16");
_Static_assert(offsetof(fat_bpb, total_sectors32) == 0x20, "total sectors 32");
_Static_assert(sizeof(fat_bpb) == 0x24, "bpb size");

/* Extended boot record of FAT12/16 (follows the BPB). */
typedef struct __attribute__((packed)) fat16_ebpb {
    uint8_t drive;
    uint8_t reserved;
    uint8_t signature;              /* 0x29: serial, label and type follow */
    uint8_t serial[4];
    char label[11];
    char fs_type[8];
} fat16_ebpb;

_Static_assert(offsetof(fat16_ebpb, label) == 0x2B - 0x24, "fat16 label");

/* Extended boot record of FAT32 (follows the BPB). */
typedef struct __attribute__((packed)) fat32_ebpb {
    uint8_t fat_size32[4];
    uint8_t ext_flags[2];
    uint8_t version[2];
    uint8_t root_cluster[4];
    uint8_t fsinfo_sector[2];
    uint8_t backup_boot_sector[2];
    uint8_t reserved[12];
    uint8_t drive;
    uint8_t reserved1;
    uint8_t signature;
    uint8_t serial[4];
    char label[11];
    char fs_type[8];
} fat32_ebpb;

_Static_assert(offsetof(fat32_ebpb, root_cluster) == 0x2C - 0x24, "fat32 root cluster");
_Static_assert(offsetof(fat32_ebpb, label) == 0x47 - 0x24, "fat32 label");

/* Short (8.3) directory entry. */
typedef struct __attribute__((packed)) fat_dirent {
    char name[11];
    uint8_t attr;
    uint8_t nt_case;
    uint8_t create_time_tenth;
    uint8_t create_time[2];
    uint8_t create_date[2];
    uint8_t access_date[2];
    uint8_t cluster_high[2];
    uint8_t write_time[2];
    uint8_t write_date[2];
    uint8_t cluster_low[2];
    uint8_t size[4];
} fat_dirent;

_Static_assert(offsetof(fat_dirent, attr) == 11, "dirent attr");
_Static_assert(offsetof(fat_dirent, cluster_high) == 20, "dirent cluster high");
_Static_assert(offsetof(fat_dirent, cluster_low) == 26, "dirent cluster low");
_Static_assert(offsetof(fat_dirent, size) == 28, "dirent size");
_Static_assert(sizeof(fat_dirent) == FAT_DIRENT_SIZE, "dirent size");

/* Long-file-name slot. */
typedef struct __attribute__((packed)) fat_lfn {
    uint8_t order;
    uint8_t name1[10];
    uint8_t attr;
    uint8_t type;
    uint8_t checksum;
    uint8_t name2[12];
    uint8_t cluster[2];
    uint8_t name3[4];
} fat_lfn;

_Static_assert(offsetof(fat_lfn, checksum) == 13, "lfn checksum");
_Static_assert(offsetof(fat_lfn, name2) == 14, "lfn name2");
_Static_assert(offsetof(fat_lfn, name3) == 28, "lfn name3");
_Static_assert(sizeof(fat_lfn) == FAT_DIRENT_SIZE, "lfn size");

#endif
