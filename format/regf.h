/* vhdboot: registry hive ("regf") writer and hostile-input-safe reader.
 *
 * The writer builds a tree of keys and values in memory, then serialises it
 * to a complete hive (base block, 4 KiB hive bins, nk/vk/lh/sk/db cells).
 * The reader works in place over a caller's buffer and checks every offset,
 * size and count before use; it never follows more than VB_REGF_MAX_DEPTH
 * levels of lists. Names are ASCII/Latin-1 (BCD stores use no others) when
 * written; UTF-16 names are read and converted to UTF-8. */
#ifndef VB_REGF_H
#define VB_REGF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* Registry value types (winnt.h REG_*) */
#define VB_REG_SZ 1u
#define VB_REG_BINARY 3u
#define VB_REG_DWORD 4u
#define VB_REG_MULTI_SZ 7u

#define VB_REGF_NAME_MAX 256      /* bytes of a key or value name we handle (UTF-8, with NUL) */

/* ---- writer ---- */

typedef struct vb_regf_builder vb_regf_builder;
typedef struct vb_regf_wkey vb_regf_wkey;

/* Creates an empty hive whose root key is called root_name; NULL when out of memory. */
vb_regf_builder *vb_regf_builder_new(const char *root_name);
/* Frees a builder and everything in it (NULL allowed). */
void vb_regf_builder_free(vb_regf_builder *b);
/* The root key. */
vb_regf_wkey *vb_regf_builder_root(vb_regf_builder *b);
/* Returns the child of parent called name, creating it when missing; NULL on
 * a bad name (empty, longer than 255, backslash or non-ASCII) or no memory. */
vb_regf_wkey *vb_regf_key(vb_regf_builder *b, vb_regf_wkey *parent, const char *name);
/* Sets (replaces) value name ("" = default) of key to a copy of data. */
vb_status vb_regf_set(vb_regf_builder *b, vb_regf_wkey *key, const char *name,
                      uint32_t type, const void *data, uint32_t len);
/* Serialises the hive into a new buffer (vb_alloc; free with vb_free).
 * timestamp is a Windows FILETIME written to the base block and keys. */
vb_status vb_regf_serialize(const vb_regf_builder *b, uint64_t timestamp,
                            uint8_t **out, size_t *out_len);

/* ---- reader ---- */

typedef struct vb_regf {
    const uint8_t *bins;          /* first hive bin */
    uint32_t bins_size;           /* bytes of hive bins inside the buffer */
    uint32_t root;                /* root key cell */
    uint32_t minor;               /* format minor version */
} vb_regf;

/* Checks the base block (signature, checksum, version, sizes) and the root
 * key; fills hive. Returns VB_ERR_HIVE_CORRUPT with nothing read past len. */
vb_status vb_regf_open(vb_regf *hive, const uint8_t *data, size_t len);
/* Key name as UTF-8 into out (capacity cap). */
vb_status vb_regf_key_name(const vb_regf *hive, uint32_t key, char *out, size_t cap);
/* Number of subkeys and values of a key (as counted by its lists, checked). */
vb_status vb_regf_key_counts(const vb_regf *hive, uint32_t key, uint32_t *subkeys, uint32_t *values);
/* The index-th subkey in list order (lf/lh/li, and ri of those). */
vb_status vb_regf_subkey(const vb_regf *hive, uint32_t key, uint32_t index, uint32_t *child);
/* The subkey called name (ASCII case-insensitive); VB_ERR_NOT_FOUND when absent. */
vb_status vb_regf_find_key(const vb_regf *hive, uint32_t key, const char *name, uint32_t *child);
/* Follows a backslash-separated path of subkeys from key. */
vb_status vb_regf_find_path(const vb_regf *hive, uint32_t key, const char *path, uint32_t *out);
/* The index-th value cell of a key. */
vb_status vb_regf_value(const vb_regf *hive, uint32_t key, uint32_t index, uint32_t *vk);
/* The value called name ("" = default), ASCII case-insensitive. */
vb_status vb_regf_find_value(const vb_regf *hive, uint32_t key, const char *name, uint32_t *vk);
/* Name (UTF-8), type and data length of a value. name may be NULL. */
vb_status vb_regf_value_info(const vb_regf *hive, uint32_t vk, char *name, size_t cap,
                             uint32_t *type, uint32_t *len);
/* Copies a value's data (inline, one cell, or db segments) into out
 * (capacity cap); *len = bytes copied. VB_ERR_INVALID_ARG when cap is short. */
vb_status vb_regf_value_data(const vb_regf *hive, uint32_t vk, uint8_t *out, size_t cap, uint32_t *len);

/* The base-block checksum of the first 508 bytes (XOR of dwords; 0 -> 1,
 * 0xFFFFFFFF -> 0xFFFFFFFE as Windows writes it). */
uint32_t vb_regf_checksum(const uint8_t base[508]);
/* The "lh" hash of an ASCII name: h = h * 37 + upper(c) for each character. */
uint32_t vb_regf_lh_hash(const char *name);

#endif
