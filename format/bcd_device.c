/* vhdboot: BCD device element data (element format 1).
 *
 * Layout as Windows' bcdedit writes it (the VHD and partition elements of
 * shared/data/bcd/ntloader-template.bcd, decoded byte by byte), with field
 * names after ReactOS boot/environ/include/bl.h (BCD_DEVICE_OPTION,
 * BL_DEVICE_DESCRIPTOR, BL_LOCAL_DEVICE_TYPE) and meanings from Microsoft's
 * BCD WMI provider reference (BcdDeviceData, BcdDevicePartitionData,
 * BcdDeviceFileData, BcdDeviceLocateElementChildData, SetVhdDeviceElement:
 * "a VHD file's parent device is always a file device, whose parent is a
 * partition"). All fields little-endian.
 *
 *   element value = 16-byte GUID of an options object (zero: none) + descriptor
 *   descriptor    = u32 type, u32 flags, u32 size (whole descriptor), u32 0, body
 *   type 6 partition, 72 bytes, body:
 *       16 partition id (GPT: partition GUID; MBR: u64 start in bytes, 8 zero)
 *       u32 0, u32 style (0 GPT, 1 MBR),
 *       16 disk id (GPT: disk GUID; MBR: u32 signature, 12 zero), 16 zero
 *   type 8 locate, body: u32 0 (locate by element), u32 element type,
 *       u32 offset of the parent descriptor from this descriptor,
 *       UTF-16 string (empty: one NUL), then the parent descriptor
 *   type 0 block device, body u32 local type:
 *       6 virtual disk: 20 zero bytes, then the file descriptor
 *       5 file: u32 1, u32 bytes from this field to the end, u32 5,
 *               partition descriptor, UTF-16 path with NUL
 *   type 5 boot (the device the boot manager came from).
 * ntloader's bcd_disk_info (grub4dos/ntloader include/bcd.h) fills the
 * partition body the same way (partmap 0 for GPT, 1 for MBR). */
#include "bcd.h"
#include "bytes.h"
#include "utf.h"

#define DESC_HDR 16u
#define PART_DESC 72u
#define DEV_PARTITION 6u
#define DEV_LOCATE 8u
#define DEV_BLOCK 0u
#define DEV_BOOT 5u
#define LOCAL_FILE 5u
#define LOCAL_VDISK 6u

/* Writes a descriptor header at p. */
static void put_header(uint8_t *p, uint32_t type, uint32_t size)
{
    vb_memset(p, 0, DESC_HDR);
    vb_put_le32(p, type);
    vb_put_le32(p + 8, size);
}

/* Writes the 72-byte partition descriptor of id at p. */
static void put_partition(uint8_t *p, const vb_disk_id *id)
{
    put_header(p, DEV_PARTITION, PART_DESC);
    uint8_t *b = p + DESC_HDR;
    vb_memset(b, 0, PART_DESC - DESC_HDR);
    if (id->style == VB_DISK_GPT) {
        vb_memcpy(b, id->part_guid, 16);
        vb_put_le32(b + 20, 0);
        vb_memcpy(b + 24, id->disk_guid, 16);
    } else {
        vb_put_le32(b, (uint32_t)id->part_offset);
        vb_put_le32(b + 4, (uint32_t)(id->part_offset >> 32));
        vb_put_le32(b + 20, 1);
        vb_put_le32(b + 24, id->mbr_signature);
    }
}

vb_status vb_bcd_encode_partition(const vb_disk_id *id, uint8_t *out, size_t cap, size_t *len)
{
    if (!id || !out || !len || cap < 16 + PART_DESC)
        return VB_ERR_INVALID_ARG;
    vb_memset(out, 0, 16);
    put_partition(out + 16, id);
    *len = 16 + PART_DESC;
    return VB_OK;
}

vb_status vb_bcd_encode_vhd(const vb_disk_id *id, const char *path, uint32_t locate_element,
                            uint8_t *out, size_t cap, size_t *len)
{
    if (!id || !path || path[0] != '\\' || !out || !len)
        return VB_ERR_INVALID_ARG;
    uint8_t wide[2048];
    size_t units;
    if (vb_utf8_to_utf16(path, false, wide, sizeof(wide) - 2, &units) != VB_OK)
        return VB_ERR_INVALID_ARG;
    uint32_t path_bytes = (uint32_t)(units + 1) * 2;
    /* sizes, innermost first */
    uint32_t file_rest = 12 + PART_DESC + path_bytes;     /* from the "1" field */
    uint32_t file = DESC_HDR + 4 + file_rest;
    uint32_t vdisk = DESC_HDR + 24 + file;
    uint32_t locate = DESC_HDR + 12 + 2 + vdisk;
    if (cap < 16 + (size_t)locate)
        return VB_ERR_INVALID_ARG;
    vb_memset(out, 0, 16 + (size_t)locate);
    uint8_t *p = out + 16;
    put_header(p, DEV_LOCATE, locate);
    vb_put_le32(p + 16, 0);                       /* locate by element */
    vb_put_le32(p + 20, locate_element);
    vb_put_le32(p + 24, DESC_HDR + 12 + 2);       /* parent after the empty string */
    p += DESC_HDR + 12 + 2;
    put_header(p, DEV_BLOCK, vdisk);
    vb_put_le32(p + 16, LOCAL_VDISK);
    p += DESC_HDR + 24;
    put_header(p, DEV_BLOCK, file);
    vb_put_le32(p + 16, LOCAL_FILE);
    vb_put_le32(p + 20, 1);
    vb_put_le32(p + 24, file_rest);
    vb_put_le32(p + 28, 5);
    put_partition(p + 32, id);
    vb_memcpy(p + 32 + PART_DESC, wide, units * 2);
    *len = 16 + (size_t)locate;
    return VB_OK;
}

/* Checks the descriptor header at data[off..end) and returns its type and size. */
static vb_status header_at(const uint8_t *data, size_t off, size_t end, uint32_t *type, uint32_t *size)
{
    if (off > end || end - off < DESC_HDR)
        return VB_ERR_BCD_ELEMENT;
    *type = vb_le32(data + off);
    *size = vb_le32(data + off + 8);
    if (*size < DESC_HDR || *size > end - off)
        return VB_ERR_BCD_ELEMENT;
    return VB_OK;
}

/* Decodes the partition descriptor at data[off..off+size). */
static vb_status decode_partition(const uint8_t *data, size_t off, uint32_t size, vb_disk_id *id)
{
    if (size < PART_DESC - 16)        /* the last 16 zero bytes are optional to us */
        return VB_ERR_BCD_ELEMENT;
    const uint8_t *b = data + off + DESC_HDR;
    vb_memset(id, 0, sizeof(*id));
    uint32_t style = vb_le32(b + 20);
    if (style == 0) {
        id->style = VB_DISK_GPT;
        vb_memcpy(id->part_guid, b, 16);
        vb_memcpy(id->disk_guid, b + 24, 16);
    } else if (style == 1) {
        id->style = VB_DISK_MBR;
        id->part_offset = vb_le64(b);
        id->mbr_signature = vb_le32(b + 24);
    } else {
        return VB_ERR_BCD_ELEMENT;
    }
    return VB_OK;
}

/* Decodes the file chain under a locate descriptor: virtual disk -> file -> partition + path. */
static vb_status decode_vhd_parent(const uint8_t *data, size_t off, size_t end, vb_bcd_device *out)
{
    uint32_t type, size;
    vb_status st = header_at(data, off, end, &type, &size);
    if (st != VB_OK)
        return st;
    if (type != DEV_BLOCK || size < DESC_HDR + 24 || vb_le32(data + off + 16) != LOCAL_VDISK)
        return VB_ERR_BCD_ELEMENT;
    end = off + size;
    off += DESC_HDR + 24;
    if ((st = header_at(data, off, end, &type, &size)) != VB_OK)
        return st;
    if (type != DEV_BLOCK || size < DESC_HDR + 16 + PART_DESC || vb_le32(data + off + 16) != LOCAL_FILE)
        return VB_ERR_BCD_ELEMENT;
    end = off + size;
    size_t part = off + DESC_HDR + 16;
    uint32_t ptype, psize;
    if ((st = header_at(data, part, end, &ptype, &psize)) != VB_OK)
        return st;
    if (ptype != DEV_PARTITION || (st = decode_partition(data, part, psize, &out->partition)) != VB_OK)
        return st;
    size_t path = part + psize;
    size_t units = (end - path) / 2;
    if (units == 0)
        return VB_ERR_BCD_ELEMENT;
    if (vb_utf16_to_utf8(data + path, units, false, out->path, sizeof(out->path)) != VB_OK)
        return VB_ERR_BCD_ELEMENT;
    out->kind = VB_BCD_DEV_VHD;
    return VB_OK;
}

vb_status vb_bcd_decode_device(const uint8_t *data, size_t len, vb_bcd_device *out)
{
    if (!data || !out)
        return VB_ERR_INVALID_ARG;
    vb_memset(out, 0, sizeof(*out));
    uint32_t type, size;
    vb_status st = header_at(data, 16, len, &type, &size);
    if (st != VB_OK)
        return st;
    out->raw_type = type;
    size_t end = 16 + (size_t)size;
    if (type == DEV_PARTITION) {
        if ((st = decode_partition(data, 16, size, &out->partition)) != VB_OK)
            return st;
        out->kind = VB_BCD_DEV_PARTITION;
        return VB_OK;
    }
    if (type == DEV_BOOT) {
        out->kind = VB_BCD_DEV_BOOT;
        return VB_OK;
    }
    if (type == DEV_LOCATE) {
        if (size < DESC_HDR + 12)
            return VB_ERR_BCD_ELEMENT;
        const uint8_t *b = data + 16 + DESC_HDR;
        uint32_t parent = vb_le32(b + 8);
        out->locate_element = vb_le32(b + 4);
        if (vb_le32(b) != 0 || parent < DESC_HDR + 12 || parent >= size)
            return VB_ERR_BCD_ELEMENT;
        return decode_vhd_parent(data, 16 + (size_t)parent, end, out);
    }
    out->kind = VB_BCD_DEV_OTHER;
    return VB_OK;
}
