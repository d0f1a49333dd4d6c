/* vhdboot: the VHDX log (MS-VHDX 2.3): finding the active sequence,
 * replaying it in memory (a read-only view of the file as it would be after
 * replay) or on disk.
 *
 * Only entries whose LogGuid is the current header's count: clean files keep
 * old, CRC-valid entries with other GUIDs that must not be replayed. The head
 * is the valid entry with the highest sequence number; its Tail names the
 * first entry of the active sequence, and every entry from there to the head
 * must be valid with consecutive sequence numbers. Entries are 4 KiB sectors
 * in a circular buffer and may wrap around its end. Each entry is checked
 * completely (CRC-32C over the whole entry, descriptor and data-sector
 * sequence numbers) before anything is applied. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhdx_internal.h"

/* Largest log read into memory. */
#define MAX_LOG_BYTES (64u * 1024u * 1024u)
/* A LastFileOffset beyond this is nonsense (64 TiB of data plus metadata). */
#define MAX_FILE_OFFSET ((64ull << 40) + (1ull << 36))

/* Scratch state of the log search. */
struct scan {
    const uint8_t *log;           /* the whole log region */
    uint32_t sectors;             /* log length / 4 KiB */
    const uint8_t *guid;          /* the header's LogGuid */
};

/* Pointer to log sector s (wrapping). */
static const uint8_t *sector_at(const struct scan *sc, uint32_t s)
{
    return sc->log + (size_t)(s % sc->sectors) * VB_VHDX_LOG_SECTOR;
}

/* Descriptor i of the entry starting at sector s (descriptors follow the
 * 64-byte header, 128 per 4 KiB sector, possibly in wrapped sectors). */
static const vb_vhdx_raw_log_desc *desc_at(const struct scan *sc, uint32_t s, uint32_t i)
{
    uint32_t slot = i + 2; /* the header takes the first two 32-byte slots */
    return (const void *)(sector_at(sc, s + slot / 128) + (slot % 128) * 32);
}

/* Number of 4 KiB sectors the header and count descriptors take. */
static uint32_t desc_sectors(uint32_t count)
{
    return (uint32_t)(((uint64_t)count + 2 + 127) / 128);
}

/* Whether the entry at sector s is valid for this log GUID: signature,
 * length, descriptors, data sectors and CRC. Sets *len_sectors and *seq. */
static bool entry_valid(const struct scan *sc, uint32_t s, uint32_t *len_sectors, uint64_t *seq)
{
    const vb_vhdx_raw_log_header *h = (const void *)sector_at(sc, s);
    if (vb_memcmp(h->signature, "loge", 4) != 0 || vb_memcmp(h->log_guid, sc->guid, 16) != 0)
        return false;
    uint32_t len = vb_le32(h->entry_length);
    uint64_t sq = vb_le64(h->sequence_number);
    uint32_t count = vb_le32(h->descriptor_count);
    if (len == 0 || len % VB_VHDX_LOG_SECTOR || len / VB_VHDX_LOG_SECTOR > sc->sectors || sq == 0 ||
        vb_le32(h->tail) % VB_VHDX_LOG_SECTOR || vb_le32(h->tail) / VB_VHDX_LOG_SECTOR >= sc->sectors)
        return false;
    uint32_t n = len / VB_VHDX_LOG_SECTOR;
    if (count > (uint64_t)n * 128 || desc_sectors(count) > n)
        return false;
    uint32_t data = 0;
    for (uint32_t i = 0; i < count; i++) {
        const vb_vhdx_raw_log_desc *d = desc_at(sc, s, i);
        if (vb_le64(d->sequence_number) != sq || vb_le64(d->file_offset) % VB_VHDX_LOG_SECTOR)
            return false;
        if (vb_memcmp(d->signature, "desc", 4) == 0) {
            data++;
        } else if (vb_memcmp(d->signature, "zero", 4) != 0 || vb_le64(d->leading_or_length) % VB_VHDX_LOG_SECTOR) {
            return false;
        }
    }
    if (desc_sectors(count) + data != n)
        return false;
    /* data sectors carry the entry's sequence number split in two */
    for (uint32_t k = 0; k < data; k++) {
        const vb_vhdx_raw_log_data *ds = (const void *)sector_at(sc, s + desc_sectors(count) + k);
        if (vb_memcmp(ds->signature, "data", 4) != 0 ||
            ((uint64_t)vb_le32(ds->sequence_high) << 32 | vb_le32(ds->sequence_low)) != sq)
            return false;
    }
    uint32_t crc = 0;
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *sec = sector_at(sc, s + k);
        crc = k == 0 ? vb_crc32c(sec, VB_VHDX_LOG_SECTOR, 4) : vb_crc32c_update(crc, sec, VB_VHDX_LOG_SECTOR);
    }
    if (crc != vb_le32(h->checksum))
        return false;
    *len_sectors = n;
    *seq = sq;
    return true;
}

/* Appends a change; returns VB_ERR_NO_MEMORY when the list cannot grow. */
static vb_status add_change(vb_vhdx_log *log, uint64_t offset, uint64_t len, uint8_t *data)
{
    if (log->count == log->cap) {
        unsigned cap = log->cap ? log->cap * 2 : 32;
        vb_vhdx_change *n = vb_alloc((size_t)cap * sizeof(*n));
        if (!n)
            return VB_ERR_NO_MEMORY;
        if (log->count)
            vb_memcpy(n, log->changes, (size_t)log->count * sizeof(*n));
        vb_free(log->changes);
        log->changes = n;
        log->cap = cap;
    }
    log->changes[log->count++] = (vb_vhdx_change){ offset, len, data };
    return VB_OK;
}

void vb_vhdx_log_free(vb_vhdx_log *log)
{
    for (unsigned i = 0; i < log->count; i++)
        vb_free(log->changes[i].data);
    vb_free(log->changes);
    vb_memset(log, 0, sizeof(*log));
}

/* Checks where a change lands: inside what the file will be, not in the
 * headers or the log itself. */
static vb_status check_change(struct vb_vhdx *x, uint64_t off, uint64_t len, uint64_t limit, const char *name,
                              uint64_t seq, vb_diag *diag)
{
    const vb_vhdx_info *i = &x->info;
    if (off > limit || len > limit - off)
        return vb_fail(diag, VB_ERR_VHDX_LOG_ENTRY,
                       "%s: log entry %llu writes %llu bytes at %llu, outside the file (%llu bytes)", name,
                       (unsigned long long)seq, (unsigned long long)len, (unsigned long long)off,
                       (unsigned long long)limit);
    if (vb_vhdx_overlap(off, len, 0, VB_VHDX_REGION1_OFFSET) ||
        vb_vhdx_overlap(off, len, i->log_offset, i->log_length))
        return vb_fail(diag, VB_ERR_VHDX_LOG_ENTRY,
                       "%s: log entry %llu writes at %llu, over the %s", name, (unsigned long long)seq,
                       (unsigned long long)off,
                       off < VB_VHDX_REGION1_OFFSET ? "file identifier or headers" : "log itself");
    return VB_OK;
}

/* Decodes the changes of the valid entry at sector s into x->log. */
static vb_status decode_entry(struct vb_vhdx *x, const struct scan *sc, uint32_t s, uint64_t file_size,
                              const char *name, vb_diag *diag)
{
    const vb_vhdx_raw_log_header *h = (const void *)sector_at(sc, s);
    uint64_t seq = vb_le64(h->sequence_number);
    uint64_t flushed = vb_le64(h->flushed_file_offset), last = vb_le64(h->last_file_offset);
    if (flushed > file_size)
        return vb_fail(diag, VB_ERR_VHDX_LOG_TRUNCATED,
                       "%s: log entry %llu says the file was at least %llu bytes, it is %llu", name,
                       (unsigned long long)seq, (unsigned long long)flushed, (unsigned long long)file_size);
    if (last > MAX_FILE_OFFSET)
        return vb_fail(diag, VB_ERR_VHDX_LOG_ENTRY, "%s: log entry %llu has LastFileOffset %llu", name,
                       (unsigned long long)seq, (unsigned long long)last);
    if (last > x->log.last_file_offset)
        x->log.last_file_offset = last;
    uint64_t limit = file_size > last ? file_size : last;
    uint32_t count = vb_le32(h->descriptor_count);
    uint32_t data = 0;
    for (uint32_t i = 0; i < count; i++) {
        const vb_vhdx_raw_log_desc *d = desc_at(sc, s, i);
        uint64_t off = vb_le64(d->file_offset);
        vb_status st;
        if (vb_memcmp(d->signature, "zero", 4) == 0) {
            uint64_t len = vb_le64(d->leading_or_length);
            if ((st = check_change(x, off, len, limit, name, seq, diag)) != VB_OK)
                return st;
            if (len && (st = add_change(&x->log, off, len, NULL)) != VB_OK)
                return vb_fail(diag, st, "%s: no memory for the log", name);
            continue;
        }
        if ((st = check_change(x, off, VB_VHDX_LOG_SECTOR, limit, name, seq, diag)) != VB_OK)
            return st;
        const vb_vhdx_raw_log_data *ds = (const void *)sector_at(sc, s + desc_sectors(count) + data++);
        uint8_t *sector = vb_alloc(VB_VHDX_LOG_SECTOR);
        if (!sector)
            return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for the log", name);
        /* the descriptor keeps the first 8 and last 4 bytes of the sector */
        vb_memcpy(sector, d->leading_or_length, 8);
        vb_memcpy(sector + 8, ds->data, sizeof(ds->data));
        vb_memcpy(sector + 4092, d->trailing_bytes, 4);
        if ((st = add_change(&x->log, off, VB_VHDX_LOG_SECTOR, sector)) != VB_OK) {
            vb_free(sector);
            return vb_fail(diag, st, "%s: no memory for the log", name);
        }
    }
    return VB_OK;
}

/* Finds the head and walks from its tail; decodes the sequence. */
static vb_status find_sequence(struct vb_vhdx *x, struct scan *sc, uint64_t file_size, const char *name,
                               vb_diag *diag)
{
    uint32_t head = 0, len;
    uint64_t head_seq = 0, seq;
    bool found = false;
    for (uint32_t s = 0; s < sc->sectors; s++)
        if (entry_valid(sc, s, &len, &seq) && (!found || seq > head_seq)) {
            found = true;
            head = s;
            head_seq = seq;
        }
    if (!found)
        return vb_fail(diag, VB_ERR_VHDX_LOG,
                       "%s: the log GUID is set but no valid log entry carries it (log at %llu, %u bytes)", name,
                       (unsigned long long)x->info.log_offset, x->info.log_length);
    const vb_vhdx_raw_log_header *h = (const void *)sector_at(sc, head);
    uint32_t s = vb_le32(h->tail) / VB_VHDX_LOG_SECTOR;
    /* walk tail -> head: every entry valid, sequence numbers consecutive */
    uint32_t walked = 0;
    uint64_t expect = 0;
    uint32_t first = s;
    for (;;) {
        if (!entry_valid(sc, s, &len, &seq) || (walked && seq != expect) || walked >= sc->sectors)
            return vb_fail(diag, VB_ERR_VHDX_LOG,
                           "%s: log sequence from the tail at %llu to the head (entry %llu) is broken at %llu", name,
                           (unsigned long long)first * VB_VHDX_LOG_SECTOR, (unsigned long long)head_seq,
                           (unsigned long long)(s % sc->sectors) * VB_VHDX_LOG_SECTOR);
        vb_status st = decode_entry(x, sc, s % sc->sectors, file_size, name, diag);
        if (st != VB_OK)
            return st;
        walked++;
        if (s % sc->sectors == head)
            break;
        expect = seq + 1;
        s = (s + len) % sc->sectors;
    }
    x->log.entries = walked;
    x->log.head_seq = head_seq;
    return VB_OK;
}

vb_status vb_vhdx_log_load(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag)
{
    vb_vhdx_info *i = &x->info;
    if (!i->log_dirty)
        return VB_OK;
    if (i->log_length > MAX_LOG_BYTES)
        return vb_fail(diag, VB_ERR_UNSUPPORTED, "%s: log of %u bytes is larger than the %u this reader replays",
                       name, i->log_length, MAX_LOG_BYTES);
    uint8_t *buf = vb_alloc(i->log_length);
    if (!buf)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to read the %u-byte log", name, i->log_length);
    vb_status st = vb_source_read(file, i->log_offset, buf, i->log_length);
    if (st != VB_OK) {
        vb_free(buf);
        return vb_fail(diag, st, "%s: cannot read the log", name);
    }
    struct scan sc = { buf, i->log_length / VB_VHDX_LOG_SECTOR, i->log_guid };
    st = find_sequence(x, &sc, file->size, name, diag);
    vb_free(buf);
    if (st != VB_OK) {
        vb_vhdx_log_free(&x->log);
        return st;
    }
    x->log.base = file;
    x->log.view_size = file->size > x->log.last_file_offset ? file->size : x->log.last_file_offset;
    i->log_entries_replayed = x->log.entries;
    i->log_head_seq = x->log.head_seq;
    return VB_OK;
}

/* vb_source read of the replay view: the file (zeros past its end), then
 * every change of the log in order. */
static vb_status view_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    vb_vhdx_log *log = ctx;
    uint8_t *dst = buf;
    uint64_t base = log->base->size;
    size_t from_file = offset >= base ? 0 : (base - offset < len ? (size_t)(base - offset) : len);
    if (from_file) {
        vb_status st = vb_source_read(log->base, offset, dst, from_file);
        if (st != VB_OK)
            return st;
    }
    if (from_file < len)
        vb_memset(dst + from_file, 0, len - from_file);
    for (unsigned k = 0; k < log->count; k++) {
        const vb_vhdx_change *c = &log->changes[k];
        if (!vb_vhdx_overlap(c->offset, c->len, offset, len))
            continue;
        uint64_t start = c->offset > offset ? c->offset : offset;
        uint64_t end = c->offset + c->len < offset + len ? c->offset + c->len : offset + len;
        if (c->data)
            vb_memcpy(dst + (start - offset), c->data + (start - c->offset), (size_t)(end - start));
        else
            vb_memset(dst + (start - offset), 0, (size_t)(end - start));
    }
    return VB_OK;
}

vb_status vb_vhdx_log_view(struct vb_vhdx *x, vb_source *file)
{
    (void)file;
    vb_memset(&x->view, 0, sizeof(x->view));
    x->view.size = x->log.view_size;
    x->view.ctx = &x->log;
    x->view.read = view_read;
    return VB_OK;
}

vb_status vb_vhdx_log_apply(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag)
{
    uint8_t *zeros = vb_alloc(VB_VHDX_KIB64);
    if (!zeros)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to replay the log", name);
    vb_status st = VB_OK;
    /* first grow the file to LastFileOffset, then apply the changes in order */
    while (st == VB_OK && file->size < x->log.last_file_offset) {
        uint64_t n = x->log.last_file_offset - file->size;
        st = vb_source_write(file, file->size, zeros, n < VB_VHDX_KIB64 ? (size_t)n : VB_VHDX_KIB64);
    }
    for (unsigned k = 0; k < x->log.count && st == VB_OK; k++) {
        const vb_vhdx_change *c = &x->log.changes[k];
        if (c->data) {
            st = vb_source_write(file, c->offset, c->data, (size_t)c->len);
            continue;
        }
        for (uint64_t done = 0; done < c->len && st == VB_OK; done += VB_VHDX_KIB64) {
            uint64_t n = c->len - done;
            st = vb_source_write(file, c->offset + done, zeros, n < VB_VHDX_KIB64 ? (size_t)n : VB_VHDX_KIB64);
        }
    }
    vb_free(zeros);
    if (st == VB_OK)
        st = vb_source_flush(file);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: replaying the log failed: %s", name, vb_status_message(st));
    return VB_OK;
}
