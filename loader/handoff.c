/* vhdboot: the VhdbootDisk variable (see handoff.h). */
#include <efi.h>
#include <efilib.h>
#include "handoff.h"
#include "vars.h"
#include "efi/efi_devpath.h"
#include "format/bytes.h"
#include "format/handoff.h"
#include "format/platform.h"

/* Reads the GPT disk GUID of the disk whose device path is disk_path (the
 * partition's path without its last node) into guid. Returns false when the
 * disk cannot be read or has no valid-looking GPT header at LBA 1. */
static bool gpt_disk_guid(EFI_DEVICE_PATH *disk_path, uint8_t guid[16])
{
    EFI_DEVICE_PATH *rest = disk_path;
    EFI_HANDLE handle = NULL;
    EFI_BLOCK_IO *bio = NULL;
    if (BS->LocateDevicePath(&BlockIoProtocol, &rest, &handle) != EFI_SUCCESS || !rest || !IsDevicePathEnd(rest) ||
        BS->HandleProtocol(handle, &BlockIoProtocol, (void **)&bio) != EFI_SUCCESS || !bio ||
        bio->Media->LogicalPartition || !bio->Media->MediaPresent || bio->Media->BlockSize < 92 ||
        bio->Media->LastBlock < 1)
        return false;
    UINT32 align = bio->Media->IoAlign > 1 ? bio->Media->IoAlign : 1;
    UINT8 *space = vb_alloc(bio->Media->BlockSize + align);
    if (!space)
        return false;
    UINT8 *block = (UINT8 *)(((UINTN)space + align - 1) & ~(UINTN)(align - 1));
    bool ok = bio->ReadBlocks(bio, bio->Media->MediaId, 1, bio->Media->BlockSize, block) == EFI_SUCCESS &&
              vb_memcmp(block, "EFI PART", 8) == 0;
    if (ok)
        vb_memcpy(guid, block + 56, 16);
    vb_free(space);
    return ok;
}

/* Fills v with the identity of vol: the hard-drive node at the end of its
 * device path (GPT partition GUID, or MBR signature + number + start), the
 * GPT disk GUID when it can be read, and the file system. Returns false when
 * the volume is not a GPT or MBR partition. */
static bool volume_identity(const efi_host_volume *vol, vb_handoff_volume *v)
{
    vb_memset(v, 0, sizeof *v);
    v->fs = vol->type == VB_FS_NTFS ? VB_HANDOFF_NTFS : VB_HANDOFF_FAT;
    const EFI_DEVICE_PATH *last = NULL;
    for (const EFI_DEVICE_PATH *n = vol->device_path; n && !IsDevicePathEnd(n); n = NextDevicePathNode(n))
        last = n;
    /* gnu-efi's struct is padded past the node's 42 bytes: copy only those */
    const UINTN node_bytes = offsetof(HARDDRIVE_DEVICE_PATH, SignatureType) + 1;
    if (!last || DevicePathType(last) != MEDIA_DEVICE_PATH || DevicePathSubType(last) != MEDIA_HARDDRIVE_DP ||
        (UINTN)DevicePathNodeLength(last) < node_bytes)
        return false;
    HARDDRIVE_DEVICE_PATH node;
    vb_memcpy(&node, last, node_bytes);
    v->part_number = node.PartitionNumber;
    v->start_lba = node.PartitionStart;
    if (node.SignatureType == SIGNATURE_TYPE_GUID) {
        v->scheme = VB_HANDOFF_GPT;
        vb_memcpy(v->part_guid, node.Signature, 16);
        EFI_DEVICE_PATH *disk_path = efi_devpath_parent(vol->device_path);
        if (disk_path) {
            if (!gpt_disk_guid(disk_path, v->disk_guid))
                vb_memset(v->disk_guid, 0, 16);
            FreePool(disk_path);
        }
        return true;
    }
    if (node.SignatureType == SIGNATURE_TYPE_MBR) {
        v->scheme = VB_HANDOFF_MBR;
        v->mbr_signature = vb_le32(node.Signature);
        return true;
    }
    return false;
}

/* Copies a layer's identity into a record UUID, whose text is its bytes in
 * stored order: a VHD's footer UUID as stored (as `vhdtool info` shows it);
 * a VHDX's DataWriteGuid, stored in GUID order, with its first three fields
 * byte-swapped, so that the record's text reads as `vhdtool info` and
 * Windows show the GUID. */
static void record_uuid(const vb_vhd_info *info, uint8_t out[16])
{
    vb_memcpy(out, info->uuid, 16);
    if (info->format != VB_FORMAT_VHDX)
        return;
    static const uint8_t swap[8] = { 3, 2, 1, 0, 5, 4, 7, 6 };
    for (unsigned i = 0; i < 8; i++)
        out[i] = info->uuid[swap[i]];
}

/* The record's mode for a loader write mode (persistent-or-volatile is
 * resolved before the disk is published). */
static uint8_t record_mode(enum vb_write_mode mode)
{
    return mode == VB_WRITE_VOLATILE ? VB_HANDOFF_VOLATILE
           : mode == VB_WRITE_READONLY ? VB_HANDOFF_READONLY : VB_HANDOFF_PERSISTENT;
}

vb_status vb_handoff_publish(vb_chain *chain, const efi_host_opener *opener, efi_host_volume *host,
                             enum vb_write_mode mode, uint64_t size, vb_diag *diag)
{
    vb_handoff *h = vb_alloc(sizeof *h);
    uint8_t *record = vb_alloc(VB_HANDOFF_MAX_BYTES);
    vb_status st = VB_ERR_NO_MEMORY;
    if (!h || !record) {
        vb_fail(diag, st, "VhdbootDisk: out of memory");
        goto out;
    }
    st = VB_ERR_UNSUPPORTED;
    if (!host || !volume_identity(host, &h->host)) {
        vb_fail(diag, st, "VhdbootDisk: the host volume is not a GPT or MBR partition");
        goto out;
    }
    h->mode = record_mode(mode);
    h->size = size;
    record_uuid(vb_layer_info(vb_chain_layer(chain, 0)), h->uuid);
    h->layer_count = vb_chain_depth(chain);
    for (unsigned i = 0; i < h->layer_count; i++) {
        vb_handoff_layer *l = &h->layers[i];
        const vb_vhd_info *info = vb_layer_info(vb_chain_layer(chain, i));
        l->type = (uint8_t)info->type;
        record_uuid(info, l->uuid);
        size_t n = vb_strlcpy(l->path, vb_chain_path(chain, i), sizeof l->path);
        for (size_t k = 0; k < n; k++)
            if (l->path[k] == '\\')
                l->path[k] = '/';
        efi_host_volume *vol = efi_host_opener_volume_at(opener, i);
        if (vol && vol != host) {
            l->has_volume = true;
            if (!volume_identity(vol, &l->volume)) {
                vb_fail(diag, st, "VhdbootDisk: layer %u's volume is not a GPT or MBR partition", i);
                goto out;
            }
        }
    }
    size_t len = 0;
    st = vb_handoff_encode(h, record, VB_HANDOFF_MAX_BYTES, &len, diag);
    if (st != VB_OK)
        goto out;
    st = vb_var_set_raw(&vb_vendor_guid, VB_VAR_DISK, record, len, VB_VAR_ATTR_VOLATILE);
    if (st != VB_OK)
        vb_fail(diag, st, "VhdbootDisk: the firmware refused the variable (%u bytes)", (unsigned)len);
out:
    vb_free(record);
    vb_free(h);
    return st;
}

void vb_handoff_withdraw(void)
{
    vb_var_delete_of(&vb_vendor_guid, VB_VAR_DISK);
}
