/* vhdboot: updating the two VHDX headers (MS-VHDX 2.2.2).
 *
 * The new header goes first to the slot that is not current, with a sequence
 * number above both, and is flushed; only then is the other slot rewritten
 * (sequence number one higher) and flushed. A crash at any point leaves at
 * least one valid header, and the valid one with the highest sequence number
 * is always either the old state or the new one. */
#include "bytes.h"
#include "diag.h"
#include "vhdx_internal.h"

void vb_vhdx_header_build(uint8_t raw[VB_VHDX_HEADER_SIZE], uint64_t seq, const uint8_t fw[16], const uint8_t dw[16],
                          const uint8_t log_guid[16], uint32_t log_length, uint64_t log_offset)
{
    vb_vhdx_raw_header *h = (void *)raw;
    vb_memset(raw, 0, VB_VHDX_HEADER_SIZE);
    vb_memcpy(h->signature, "head", 4);
    vb_put_le32(h->sequence_number, (uint32_t)seq);
    vb_put_le32(h->sequence_number + 4, (uint32_t)(seq >> 32));
    vb_memcpy(h->file_write_guid, fw, 16);
    vb_memcpy(h->data_write_guid, dw, 16);
    vb_memcpy(h->log_guid, log_guid, 16);
    vb_put_le16(h->log_version, 0);
    vb_put_le16(h->version, 1);
    vb_put_le32(h->log_length, log_length);
    vb_put_le32(h->log_offset, (uint32_t)log_offset);
    vb_put_le32(h->log_offset + 4, (uint32_t)(log_offset >> 32));
    vb_put_le32(h->checksum, vb_crc32c(raw, VB_VHDX_HEADER_SIZE, 4));
}

vb_status vb_vhdx_write_headers(struct vb_vhdx *x, vb_source *file, const uint8_t *file_write_guid,
                                const uint8_t *data_write_guid, bool clear_log)
{
    vb_vhdx_info *i = &x->info;
    static const uint8_t zero[16];
    static const uint64_t at[2] = { VB_VHDX_HEADER1_OFFSET, VB_VHDX_HEADER2_OFFSET };
    const vb_vhdx_raw_header *cur = (const void *)x->headers[i->current_header];
    uint64_t seq = i->header_seq[0] > i->header_seq[1] ? i->header_seq[0] : i->header_seq[1];
    uint8_t fw[16], dw[16], lg[16];
    vb_memcpy(fw, file_write_guid ? file_write_guid : cur->file_write_guid, 16);
    vb_memcpy(dw, data_write_guid ? data_write_guid : cur->data_write_guid, 16);
    vb_memcpy(lg, clear_log ? zero : cur->log_guid, 16);
    uint32_t log_len = vb_le32(cur->log_length);
    uint64_t log_off = vb_le64(cur->log_offset);
    unsigned slot = i->current_header ^ 1u;
    for (unsigned n = 0; n < 2; n++, slot ^= 1u) {
        uint8_t raw[VB_VHDX_HEADER_SIZE];
        seq++;
        vb_vhdx_header_build(raw, seq, fw, dw, lg, log_len, log_off);
        vb_status st = vb_source_write(file, at[slot], raw, sizeof(raw));
        if (st == VB_OK)
            st = vb_source_flush(file);
        if (st != VB_OK)
            return st;
        vb_memcpy(x->headers[slot], raw, sizeof(raw));
        i->header_seq[slot] = seq;
        i->header_valid[slot] = true;
        i->current_header = slot;
    }
    vb_memcpy(i->file_write_guid, fw, 16);
    vb_memcpy(i->data_write_guid, dw, 16);
    return VB_OK;
}
