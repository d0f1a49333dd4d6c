/* vhdboot: the handoff record — what the loader tells the OS about the
 * virtual disk it booted (EFI variable VhdbootDisk), and its text form for
 * the kernel command line (vhdboot.disk=). One encoder/decoder for both
 * sides: the loader encodes, vhdtool decodes (and the reverse in tests).
 *
 * Binary layout, version 1 (all integers little-endian, no padding):
 *   header, 40 bytes:
 *     0  8  magic "VHDBDISK"
 *     8  2  version (1)
 *    10  2  header size (40)
 *    12  4  total length of the record in bytes (header included)
 *    16  4  CRC-32 (IEEE 802.3, as zlib) of the whole record, this field as 0
 *    20  1  write mode: 1 persistent, 2 volatile, 3 read-only
 *    21  1  layer count (1..32)
 *    22  2  reserved, 0
 *    24  8  virtual disk size in bytes (non-zero multiple of 512)
 *    32  8  reserved, 0
 *   host volume (the top layer's), 48 bytes:
 *     0  1  scheme: 1 GPT, 2 MBR
 *     1  1  file system: 1 FAT, 2 NTFS
 *     2  2  reserved, 0
 *     4  4  partition number (1-based; non-zero for MBR)
 *     8  8  partition start LBA (in the disk's blocks)
 *    16 16  GPT: disk GUID (all zero when unknown);
 *           MBR: disk signature (4 bytes), then 12 zero bytes
 *    32 16  GPT: partition GUID (non-zero); MBR: all zero
 *   virtual disk UUID, 16 bytes (the top layer's UUID, as below)
 *   then each layer, top to base:
 *     0  1  disk type: 2 fixed, 3 dynamic, 4 differencing (only the last is fixed/dynamic)
 *     1  1  flags: bit 0 = a volume identity follows (the layer lives on
 *           another volume than the host volume); other bits 0
 *     2  2  path length in bytes (1..1023)
 *     4 16  the layer's UUID (footer, stored order; a VHDX's DataWriteGuid
 *           as the loader opened it, first three fields byte-swapped so
 *           that the text below reads as the GUID is shown; a VHDX layer's
 *           type is its disk type too: the record has no format field)
 *    20 48  volume identity (only with flag bit 0)
 *     .. n  path on its volume: UTF-8, '/' separated, starting with '/',
 *           no NUL, no control character, no "." or ".." component
 * GUIDs are kept in their on-disk (EFI_GUID) byte order and written as text
 * the way Linux shows PARTUUIDs (first three fields little-endian, lower case).
 *
 * Text form (vhdboot.disk=, one word, no spaces):
 *   v1,mode=persistent,size=BYTES,uuid=UUID,host=VOL,layer=LAYER[,layer=LAYER...]
 *   VOL   = fat|ntfs ':' ( 'gpt:' PARTGUID [ ':' DISKGUID ]
 *                        | 'mbr:' SIG8HEX ':' PARTNO ':' STARTLBA )
 *   LAYER = fixed|dynamic|differencing ':' UUID ':' PATH [ ':' VOL ]
 *   PATH  = the path with every byte outside [A-Za-z0-9._~/-] written %XX
 * (a GPT volume's text names no partition number or start: both parse as 0)
 * Keys may come in any order; layers are listed top to base. */
#ifndef VB_HANDOFF_H
#define VB_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"

#define VB_HANDOFF_VERSION 1u
#define VB_HANDOFF_MAX_LAYERS 32u
#define VB_HANDOFF_PATH_MAX 1024u   /* bytes with the NUL */
#define VB_HANDOFF_HEADER_SIZE 40u
#define VB_HANDOFF_VOLUME_SIZE 48u
#define VB_HANDOFF_LAYER_FIXED_SIZE 20u
/* Largest binary record (32 layers, each on its own volume, longest paths). */
#define VB_HANDOFF_MAX_BYTES \
    (VB_HANDOFF_HEADER_SIZE + VB_HANDOFF_VOLUME_SIZE + 16u + \
     VB_HANDOFF_MAX_LAYERS * (VB_HANDOFF_LAYER_FIXED_SIZE + VB_HANDOFF_VOLUME_SIZE + VB_HANDOFF_PATH_MAX - 1u))
/* Largest text form (every path byte percent-encoded). */
#define VB_HANDOFF_TEXT_MAX (256u + VB_HANDOFF_MAX_LAYERS * (3u * VB_HANDOFF_PATH_MAX + 256u))

enum vb_handoff_mode { VB_HANDOFF_PERSISTENT = 1, VB_HANDOFF_VOLATILE = 2, VB_HANDOFF_READONLY = 3 };
enum vb_handoff_scheme { VB_HANDOFF_GPT = 1, VB_HANDOFF_MBR = 2 };
enum vb_handoff_fs { VB_HANDOFF_FAT = 1, VB_HANDOFF_NTFS = 2 };

/* Where a volume is: its partition on a GPT or MBR disk, and its file system. */
typedef struct vb_handoff_volume {
    uint8_t scheme;            /* enum vb_handoff_scheme */
    uint8_t fs;                /* enum vb_handoff_fs */
    uint32_t part_number;      /* 1-based */
    uint64_t start_lba;
    uint8_t disk_guid[16];     /* GPT; zero when unknown */
    uint8_t part_guid[16];     /* GPT */
    uint32_t mbr_signature;    /* MBR */
} vb_handoff_volume;

typedef struct vb_handoff_layer {
    uint8_t type;              /* enum vb_disk_type values: 2, 3, 4 */
    uint8_t uuid[16];
    bool has_volume;           /* lives on another volume than the host */
    vb_handoff_volume volume;  /* when has_volume */
    char path[VB_HANDOFF_PATH_MAX];
} vb_handoff_layer;

typedef struct vb_handoff {
    uint8_t mode;              /* enum vb_handoff_mode */
    uint64_t size;             /* virtual disk bytes */
    uint8_t uuid[16];          /* virtual disk UUID */
    vb_handoff_volume host;    /* the top layer's volume */
    unsigned layer_count;
    vb_handoff_layer layers[VB_HANDOFF_MAX_LAYERS]; /* 0 = top */
} vb_handoff;

/* CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF). */
uint32_t vb_crc32(const void *data, size_t len);

/* Checks every field of h against the rules above; fills diag naming the
 * first field that is wrong. Returns VB_OK or VB_ERR_INVALID_ARG. */
vb_status vb_handoff_validate(const vb_handoff *h, vb_diag *diag);
/* Encodes h (validated first) into out (capacity cap); *len gets the record's
 * length. Returns VB_OK, VB_ERR_INVALID_ARG (diag says why) or
 * VB_ERR_OUT_OF_RANGE when cap is too small. */
vb_status vb_handoff_encode(const vb_handoff *h, uint8_t *out, size_t cap, size_t *len, vb_diag *diag);
/* Decodes and checks a binary record of len bytes (hostile input). Returns
 * VB_OK, VB_ERR_BAD_VERSION for another version, VB_ERR_INVALID_ARG for
 * anything else wrong (diag names it). */
vb_status vb_handoff_decode(const uint8_t *buf, size_t len, vb_handoff *out, vb_diag *diag);
/* Writes the text form of h (validated first) into out (capacity cap,
 * terminated). Returns VB_OK, VB_ERR_INVALID_ARG or VB_ERR_OUT_OF_RANGE. */
vb_status vb_handoff_format_text(const vb_handoff *h, char *out, size_t cap, vb_diag *diag);
/* Parses the text form (len bytes, no "vhdboot.disk=" prefix). Returns
 * VB_OK, VB_ERR_BAD_VERSION, or VB_ERR_INVALID_ARG with diag naming the problem. */
vb_status vb_handoff_parse_text(const char *text, size_t len, vb_handoff *out, vb_diag *diag);

/* Names used by the text form: "persistent"/"volatile"/"readonly",
 * "fat"/"ntfs", "fixed"/"dynamic"/"differencing" ("?" for others). */
const char *vb_handoff_mode_name(uint8_t mode);
const char *vb_handoff_fs_name(uint8_t fs);
const char *vb_handoff_type_name(uint8_t type);
/* Writes a 16-byte GUID in on-disk order as Linux shows it (37 bytes). */
void vb_handoff_guid_text(const uint8_t guid[16], char out[37]);
/* Writes 16 bytes in stored order grouped 8-4-4-4-12 (37 bytes): VHD UUIDs. */
void vb_handoff_uuid_text(const uint8_t uuid[16], char out[37]);

#endif
