/* vhdboot: Windows registry hive ("regf") on-disk structures.
 *
 * Little-endian byte arrays read with vb_le16/32 (format/bytes.h). Layouts
 * from Joachim Metz's "Windows NT Registry File (REGF) format specification"
 * (libyal/libregf documentation) and Maxim Suhanov's "Windows registry file
 * format specification" (msuhanov/regf); checked against a BCD store written
 * by Windows' bcdedit (shared/data/bcd/ntloader-template.bcd).
 *
 * All offsets stored in cells are relative to the first hive bin, which
 * starts at file offset 4096, right after the base block. */
#ifndef VB_REGF_STRUCT_H
#define VB_REGF_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#define VB_REGF_BLOCK 4096u           /* base block size; hive bins are multiples */
#define VB_REGF_NONE 0xFFFFFFFFu      /* "no cell" in an offset field */
#define VB_REGF_CHECKSUM_LEN 508u     /* the checksum XORs the first 127 dwords */
#define VB_REGF_BIG_DATA_MIN 16345u   /* data longer than 16344 bytes goes in "db" segments (v1.4+) */
#define VB_REGF_DB_SEGMENT 16344u

/* nk flags */
#define VB_NK_HIVE_EXIT 0x0002u
#define VB_NK_HIVE_ENTRY 0x0004u      /* the root key */
#define VB_NK_NO_DELETE 0x0008u
#define VB_NK_COMP_NAME 0x0020u       /* name is Latin-1 (one byte a character), not UTF-16 */
/* vk flags */
#define VB_VK_COMP_NAME 0x0001u
#define VB_VK_DATA_INLINE 0x80000000u /* in the data-size field: data (<= 4 bytes) sits in the offset field */

/* Base block ("regf"), the first 4096 bytes of the file. */
typedef struct __attribute__((packed)) vb_regf_base {
    char signature[4];            /* "regf" */
    uint8_t primary_seq[4];       /* equal to secondary_seq when the hive is consistent */
    uint8_t secondary_seq[4];
    uint8_t timestamp[8];         /* FILETIME */
    uint8_t major[4];             /* 1 */
    uint8_t minor[4];             /* 3 (Windows' BCD stores), 5 with big data */
    uint8_t file_type[4];         /* 0 primary */
    uint8_t file_format[4];       /* 1 direct memory load */
    uint8_t root_offset[4];       /* root nk, relative to the first hive bin */
    uint8_t hbins_size[4];        /* bytes of hive bins after the base block */
    uint8_t clustering[4];        /* 1 */
    uint8_t file_name[64];        /* UTF-16LE, informational */
    uint8_t reserved1[396];
    uint8_t checksum[4];          /* XOR of the 127 dwords before it */
    uint8_t reserved2[3576];
    uint8_t boot_type[4];
    uint8_t boot_recover[4];
} vb_regf_base;

_Static_assert(sizeof(vb_regf_base) == 4096, "regf base block size");
_Static_assert(offsetof(vb_regf_base, primary_seq) == 4, "regf primary seq");
_Static_assert(offsetof(vb_regf_base, timestamp) == 12, "regf timestamp");
_Static_assert(offsetof(vb_regf_base, major) == 20, "regf major");
_Static_assert(offsetof(vb_regf_base, file_type) == 28, "regf type");
_Static_assert(offsetof(vb_regf_base, root_offset) == 36, "regf root");
_Static_assert(offsetof(vb_regf_base, hbins_size) == 40, "regf hbins size");
_Static_assert(offsetof(vb_regf_base, file_name) == 48, "regf file name");
_Static_assert(offsetof(vb_regf_base, checksum) == 508, "regf checksum");
_Static_assert(offsetof(vb_regf_base, boot_type) == 4088, "regf boot type");

/* Hive bin header ("hbin"), 32 bytes, then cells. */
typedef struct __attribute__((packed)) vb_regf_hbin {
    char signature[4];            /* "hbin" */
    uint8_t offset[4];            /* this bin, relative to the first bin */
    uint8_t size[4];              /* multiple of 4096 */
    uint8_t reserved[8];
    uint8_t timestamp[8];
    uint8_t spare[4];
} vb_regf_hbin;

_Static_assert(sizeof(vb_regf_hbin) == 32, "hbin header size");
_Static_assert(offsetof(vb_regf_hbin, size) == 8, "hbin size");
_Static_assert(offsetof(vb_regf_hbin, timestamp) == 20, "hbin timestamp");

/* Every cell starts with a signed 32-bit size: negative when allocated,
 * including these 4 bytes, a multiple of 8. The structs below follow it. */

/* Key node ("nk"). */
typedef struct __attribute__((packed)) vb_regf_nk {
    char signature[2];            /* "nk" */
    uint8_t flags[2];
    uint8_t timestamp[8];
    uint8_t access_bits[4];
    uint8_t parent[4];
    uint8_t subkey_count[4];
    uint8_t volatile_subkey_count[4];
    uint8_t subkey_list[4];
    uint8_t volatile_subkey_list[4];
    uint8_t value_count[4];
    uint8_t value_list[4];
    uint8_t security[4];
    uint8_t class_name[4];
    uint8_t max_subkey_name[4];   /* longest subkey name in bytes as UTF-16 */
    uint8_t max_subkey_class[4];
    uint8_t max_value_name[4];    /* longest value name in bytes as UTF-16 */
    uint8_t max_value_data[4];
    uint8_t work_var[4];
    uint8_t name_length[2];       /* bytes */
    uint8_t class_length[2];
    /* name follows */
} vb_regf_nk;

_Static_assert(sizeof(vb_regf_nk) == 76, "nk size");
_Static_assert(offsetof(vb_regf_nk, parent) == 16, "nk parent");
_Static_assert(offsetof(vb_regf_nk, subkey_count) == 20, "nk subkey count");
_Static_assert(offsetof(vb_regf_nk, subkey_list) == 28, "nk subkey list");
_Static_assert(offsetof(vb_regf_nk, value_count) == 36, "nk value count");
_Static_assert(offsetof(vb_regf_nk, value_list) == 40, "nk value list");
_Static_assert(offsetof(vb_regf_nk, security) == 44, "nk security");
_Static_assert(offsetof(vb_regf_nk, max_subkey_name) == 52, "nk max subkey name");
_Static_assert(offsetof(vb_regf_nk, name_length) == 72, "nk name length");

/* Key value ("vk"). */
typedef struct __attribute__((packed)) vb_regf_vk {
    char signature[2];            /* "vk" */
    uint8_t name_length[2];       /* 0 for the default value */
    uint8_t data_size[4];         /* bit 31: data inline in data_offset */
    uint8_t data_offset[4];
    uint8_t type[4];
    uint8_t flags[2];
    uint8_t spare[2];
    /* name follows */
} vb_regf_vk;

_Static_assert(sizeof(vb_regf_vk) == 20, "vk size");
_Static_assert(offsetof(vb_regf_vk, data_size) == 4, "vk data size");
_Static_assert(offsetof(vb_regf_vk, type) == 12, "vk type");
_Static_assert(offsetof(vb_regf_vk, flags) == 16, "vk flags");

/* Security ("sk"): a doubly linked list of shared descriptors. */
typedef struct __attribute__((packed)) vb_regf_sk {
    char signature[2];            /* "sk" */
    uint8_t reserved[2];
    uint8_t flink[4];
    uint8_t blink[4];
    uint8_t ref_count[4];
    uint8_t descriptor_size[4];
    /* self-relative SECURITY_DESCRIPTOR follows */
} vb_regf_sk;

_Static_assert(sizeof(vb_regf_sk) == 20, "sk size");

/* Subkey lists: "lf"/"lh" (offset + 4-byte hint or hash), "li" (offsets),
 * "ri" (offsets of other lists). Header then entries. */
typedef struct __attribute__((packed)) vb_regf_list {
    char signature[2];
    uint8_t count[2];
} vb_regf_list;

_Static_assert(sizeof(vb_regf_list) == 4, "list header size");

/* Big data ("db"): segment list offset; each segment a cell of <= 16344 bytes. */
typedef struct __attribute__((packed)) vb_regf_db {
    char signature[2];            /* "db" */
    uint8_t segment_count[2];
    uint8_t segment_list[4];
} vb_regf_db;

_Static_assert(sizeof(vb_regf_db) == 8, "db size");

#endif
