/* vhdboot: UUIDs as text.
 *
 * VHD footers store UUIDs as 16 bytes written in Microsoft's GUID byte
 * order; GPT partition GUIDs (PARTUUIDs) are stored the same way. Two text
 * forms are in use:
 *   stored order  the 16 bytes as they lie on disk, grouped 8-4-4-4-12 (what
 *                 vhdiinfo, QEMU and `vhdtool info` print for VHD UUIDs)
 *   GUID order    the first three fields (4, 2, 2 bytes) read little-endian:
 *                 how Windows and Linux show GUIDs (Get-VHD, PARTUUID=) */
#ifndef VB_UUID_H
#define VB_UUID_H

#include <stdint.h>

#define VB_UUID_TEXT_SIZE 37 /* 36 characters and the terminator */

enum vb_uuid_order { VB_UUID_STORED, VB_UUID_GUID };

/* Writes the 16 bytes at uuid as lowercase 8-4-4-4-12 text in the given
 * order into out (VB_UUID_TEXT_SIZE bytes, terminated). */
void vb_uuid_text(const uint8_t uuid[16], enum vb_uuid_order order, char out[VB_UUID_TEXT_SIZE]);

#endif
