/* vhdboot: one VHD file as a block source — open/validate, coalesced reads,
 * bitmap cache. Writes are in vhd_write.c, the full check in vhd_check.c.
 *
 * Reads walk the request block by block and group it into runs of one kind
 * (zeros, this file, the parent); a run is extended while the next piece is
 * the same kind at the next offset, and each run is one underlying read.
 * Zero and parent runs span block boundaries. Data runs of this file break at
 * a block boundary, because the next block's bitmap sits between two blocks'
 * data even when the blocks are adjacent in the file.
 *
 * What open refuses: any BAT entry whose block would end past the footer
 * (O(entries)), and any block overlapping another block, the footer copy,
 * the dynamic header, the BAT or parent locator data (vhd_overlap.c, a sort:
 * O(n log n) in the allocated blocks), since a write to it would corrupt
 * the other. */
#include "bytes.h"
#include "platform.h"
#include "vhd_layer_internal.h"
#include "vhdx_internal.h"

/* Whether [a, a+alen) and [b, b+blen) intersect (lengths small enough not to overflow). */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Reads the trailing footer (512 bytes, or the old 511-byte form when the
 * file size is 512n+511) into layer->footer and parses it into layer->info.
 * Returns the parse status. */
static vb_status read_trailing_footer(vb_layer *layer, vb_diag *diag)
{
    uint64_t size = layer->file->size;
    vb_status st;
    if (size < VB_SHORT_FOOTER_SIZE)
        return vb_fail(diag, VB_ERR_TRUNCATED, "%s: file is %llu bytes, too small to hold a VHD footer",
                       layer->name, (unsigned long long)size);
    if (size >= VB_FOOTER_SIZE) {
        st = vb_source_read(layer->file, size - VB_FOOTER_SIZE, layer->footer, VB_FOOTER_SIZE);
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot read the footer", layer->name);
        st = vb_footer_parse(layer->footer, layer->name, &layer->info, diag);
        if (st == VB_OK)
            layer->info.footer_offset = size - VB_FOOTER_SIZE;
        if (st != VB_ERR_BAD_COOKIE || size % VB_SECTOR != VB_SHORT_FOOTER_SIZE)
            return st;
    }
    /* Old 511-byte footer: the missing last byte is a reserved zero. */
    vb_memset(layer->footer, 0, VB_FOOTER_SIZE);
    st = vb_source_read(layer->file, size - VB_SHORT_FOOTER_SIZE, layer->footer, VB_SHORT_FOOTER_SIZE);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the footer", layer->name);
    st = vb_footer_parse(layer->footer, layer->name, &layer->info, diag);
    if (st == VB_OK) {
        layer->info.short_footer = true;
        layer->info.footer_offset = size - VB_SHORT_FOOTER_SIZE;
    }
    return st;
}

/* Loads the footer; when the trailing one is damaged, falls back to the
 * copy at offset 0 of a dynamic/differencing file if the caller allows it:
 * a read-only open with VB_OPEN_USE_FOOTER_COPY, or a writable open when
 * the trailing footer is missing altogether (which then rewrites it, see
 * repair_trailing_footer). Sets layer->data_end. Returns VB_OK or the
 * trailing footer's error. */
static vb_status load_footer(vb_layer *layer, unsigned flags, vb_diag *diag)
{
    vb_status st = read_trailing_footer(layer, diag);
    if (st == VB_OK) {
        layer->data_end = layer->info.footer_offset;
        return VB_OK;
    }
    /* a writable open repairs only a footer that is not there at all (a
     * power loss while the file grew: zeros, or the new block's first
     * sector); a footer that is there but wrong stays an error */
    bool writable = (flags & VB_OPEN_WRITABLE) != 0;
    if (writable && st != VB_ERR_BAD_COOKIE)
        return st;
    if ((!(flags & VB_OPEN_USE_FOOTER_COPY) && !writable) || st == VB_ERR_IO ||
        layer->file->size < VB_FOOTER_SIZE + VB_HEADER_SIZE)
        return st;
    uint8_t copy[VB_FOOTER_SIZE];
    vb_vhd_info info;
    if (vb_source_read(layer->file, 0, copy, sizeof(copy)) != VB_OK ||
        vb_footer_parse(copy, layer->name, &info, NULL) != VB_OK || info.type == VB_DISK_FIXED)
        return st;
    /* The file may end anywhere (e.g. a crash right after writing a new
     * block): blocks only have to lie inside the file. */
    vb_memcpy(layer->footer, copy, sizeof(copy));
    layer->info = info;
    layer->info.footer_from_copy = true;
    if (writable) {
        /* the footer goes into the file's last sector (a whole one): every
         * block the BAT points at must end before it (validate_bat) */
        uint64_t end = (layer->file->size + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
        layer->info.footer_offset = end - VB_FOOTER_SIZE;
        layer->data_end = layer->info.footer_offset;
    } else {
        layer->info.footer_offset = (layer->file->size - VB_FOOTER_SIZE) / VB_SECTOR * VB_SECTOR;
        layer->data_end = layer->file->size;
    }
    if (diag) {
        diag->status = VB_OK;
        diag->text[0] = '\0';
    }
    return VB_OK;
}

/* A writable open of a file whose trailing footer is damaged while its
 * copy at offset 0 is intact (a power loss while the file grew: the file
 * system recorded the new size before the new footer's bytes, which FAT
 * does not order) and whose BAT is valid: writes the copy into the last
 * sector, past every block, and flushes. Sets footer_repaired. Returns the
 * write's status. */
static vb_status repair_trailing_footer(vb_layer *layer, vb_diag *diag)
{
    vb_status st = vb_source_write(layer->file, layer->info.footer_offset, layer->footer, VB_FOOTER_SIZE);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot rewrite the damaged trailing footer from the copy at offset 0",
                       layer->name);
    layer->info.footer_from_copy = false;
    layer->info.footer_repaired = true;
    return VB_OK;
}

/* Checks every BAT entry covering the disk: the block (bitmap + data) must
 * end before the footer. Counts allocated blocks. Returns VB_OK or
 * VB_ERR_BAD_BAT_ENTRY. (Overlaps are refused by refuse_overlaps.) */
static vb_status validate_bat(vb_layer *layer, vb_diag *diag)
{
    vb_vhd_info *info = &layer->info;
    uint64_t block_bytes = (uint64_t)info->bitmap_size + info->block_size;
    info->allocated_blocks = 0;
    for (uint32_t i = 0; i < layer->block_count; i++) {
        uint32_t entry = vb_bat_get(layer, i);
        if (entry == VB_BAT_UNUSED)
            continue;
        uint64_t start = (uint64_t)entry * VB_SECTOR; /* < 2^41: no overflow below */
        if (start > layer->data_end || block_bytes > layer->data_end - start)
            return vb_fail(diag, VB_ERR_BAD_BAT_ENTRY,
                           "%s: block %u at offset %llu (%llu bytes with its bitmap) extends past the footer at %llu",
                           layer->name, i, (unsigned long long)start, (unsigned long long)block_bytes,
                           (unsigned long long)layer->data_end);
        info->allocated_blocks++;
    }
    return VB_OK;
}

/* What open's overlap callback needs: where to put the message, whether one was found. */
typedef struct overlap_refusal {
    const vb_layer *layer;
    vb_diag *diag;
    bool found;
} overlap_refusal;

/* vb_overlap_fn of open: records the first overlap in the diag and stops (returns false). */
static bool first_overlap(void *ctx, const vb_overlap *o)
{
    overlap_refusal *r = ctx;
    char other[32];
    vb_fail(r->diag, VB_ERR_BAD_BAT_ENTRY, "%s: block %u at offset %llu overlaps %s at offset %llu", r->layer->name,
            o->block, (unsigned long long)o->at, vb_overlap_other_name(o, other, sizeof(other)),
            (unsigned long long)o->other_at);
    r->found = true;
    return false;
}

/* Refuses a layer whose blocks overlap each other or its metadata.
 * Returns VB_OK, VB_ERR_BAD_BAT_ENTRY or VB_ERR_NO_MEMORY. */
static vb_status refuse_overlaps(vb_layer *layer, vb_diag *diag)
{
    overlap_refusal r = { layer, diag, false };
    vb_status st = vb_layer_find_overlaps(layer, first_overlap, &r);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: no memory to check %u allocated blocks for overlaps", layer->name,
                       layer->info.allocated_blocks);
    return r.found ? VB_ERR_BAD_BAT_ENTRY : VB_OK;
}

/* Reads and validates the dynamic header, loads and validates the BAT and
 * decodes the parent locators. Returns VB_OK or the specific error. */
static vb_status open_dynamic(vb_layer *layer, vb_diag *diag)
{
    vb_vhd_info *info = &layer->info;
    uint64_t hdr = info->header_offset;
    if (hdr < VB_FOOTER_SIZE || hdr > layer->data_end || layer->data_end - hdr < VB_HEADER_SIZE)
        return vb_fail(diag, VB_ERR_BAD_DATA_OFFSET,
                       "%s: dynamic header offset %llu is outside the file (footer at %llu)",
                       layer->name, (unsigned long long)hdr, (unsigned long long)layer->data_end);
    vb_status st = vb_source_read(layer->file, hdr, layer->header, VB_HEADER_SIZE);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the dynamic header", layer->name);
    st = vb_header_parse(layer->header, layer->name, info, &layer->parent_name_bad, diag);
    if (st != VB_OK)
        return st;

    /* The whole table as declared (max entries) must lie inside the file. */
    uint64_t bat_region = ((uint64_t)info->bat_entries * 4 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
    uint64_t bat = info->bat_offset;
    if (bat < VB_FOOTER_SIZE || bat > layer->data_end || bat_region > layer->data_end - bat)
        return vb_fail(diag, VB_ERR_BAD_TABLE,
                       "%s: block table at offset %llu (%llu bytes) does not fit between the footer copy and the footer at %llu",
                       layer->name, (unsigned long long)bat, (unsigned long long)bat_region,
                       (unsigned long long)layer->data_end);
    if (ranges_overlap(bat, bat_region, hdr, VB_HEADER_SIZE))
        return vb_fail(diag, VB_ERR_BAD_TABLE, "%s: block table at offset %llu overlaps the dynamic header at %llu",
                       layer->name, (unsigned long long)bat, (unsigned long long)hdr);

    /* Only the entries that cover the disk are loaded (bounded by the disk
     * size, never by the header's count), rounded up to whole sectors. */
    layer->block_count = (uint32_t)((info->disk_size + info->block_size - 1) / info->block_size);
    layer->bat_bytes = (layer->block_count * 4 + VB_SECTOR - 1) / VB_SECTOR * VB_SECTOR;
    layer->sectors_per_block = info->block_size / VB_SECTOR;
    layer->bat = vb_alloc(layer->bat_bytes);
    if (!layer->bat)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for a block table of %u bytes", layer->name,
                       layer->bat_bytes);
    st = vb_source_read(layer->file, bat, layer->bat, layer->bat_bytes);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the block table", layer->name);
    st = validate_bat(layer, diag);
    if (st != VB_OK)
        return st;

    vb_diag local;
    st = vb_locators_decode(layer->file, layer->name, layer->header, layer->data_end, layer->locators,
                            &layer->locator_count, &local);
    if (st != VB_OK) {
        layer->locator_count = 0;
        if (info->type == VB_DISK_DIFF)
            return vb_fail(diag, st, "%s", local.text);
        /* A dynamic disk never uses its locators: remember for vb_layer_check. */
        layer->locator_status = st;
        vb_strlcpy(layer->locator_error, local.text, sizeof(layer->locator_error));
    }
    /* after the locators: their data areas are known now */
    st = refuse_overlaps(layer, diag);
    if (st != VB_OK)
        return st;

    /* The copy at 0 should equal the footer; if not, the first allocation rewrites it. */
    uint8_t copy[VB_FOOTER_SIZE];
    if (!info->footer_from_copy) {
        st = vb_source_read(layer->file, 0, copy, sizeof(copy));
        if (st != VB_OK)
            return vb_fail(diag, st, "%s: cannot read the footer copy", layer->name);
        layer->copy_stale = vb_memcmp(copy, layer->footer, VB_FOOTER_SIZE) != 0;
    }
    return VB_OK;
}

vb_status vb_layer_open(vb_source *file, const char *name, unsigned flags, vb_layer **out, vb_diag *diag)
{
    if (!out || !file || !file->read)
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: no file to open", name ? name : "(unnamed)");
    *out = NULL;
    vb_layer *layer = vb_alloc(sizeof(*layer));
    if (!layer)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for a VHD layer", name ? name : "(unnamed)");
    vb_strlcpy(layer->name, name ? name : "(unnamed)", sizeof(layer->name));
    layer->file = file;
    layer->writable = (flags & VB_OPEN_WRITABLE) != 0;
    vb_status st = VB_OK;
    if (layer->writable && !file->write) {
        st = vb_fail(diag, VB_ERR_WRITE_PROTECTED, "%s: file is read-only, cannot open it for writing", layer->name);
        goto fail;
    }
    uint8_t magic[8];
    if (file->size >= sizeof(magic) && vb_source_read(file, 0, magic, sizeof(magic)) == VB_OK &&
        vb_vhdx_sniff(magic)) {
        st = vb_vhdx_layer_open(layer, flags, diag);
        if (st != VB_OK)
            goto fail;
        *out = layer;
        return VB_OK;
    }
    st = load_footer(layer, flags, diag);
    if (st != VB_OK)
        goto fail;
    if (layer->info.type == VB_DISK_FIXED) {
        if (layer->info.disk_size > layer->info.footer_offset) {
            st = vb_fail(diag, VB_ERR_TRUNCATED, "%s: fixed disk of %llu bytes but only %llu bytes before the footer",
                         layer->name, (unsigned long long)layer->info.disk_size,
                         (unsigned long long)layer->info.footer_offset);
            goto fail;
        }
    } else {
        st = open_dynamic(layer, diag);
        if (st != VB_OK && layer->writable && layer->info.footer_from_copy) {
            /* the copy does not fit the file either (a truncated file, say):
             * report what is wrong with the file's own footer */
            vb_status own = read_trailing_footer(layer, diag);
            st = own != VB_OK ? own : st;
        } else if (st == VB_OK && layer->writable && layer->info.footer_from_copy) {
            st = repair_trailing_footer(layer, diag);
        }
        if (st != VB_OK)
            goto fail;
    }
    layer->info.format = VB_FORMAT_VHD;
    layer->info.sector_size = VB_SECTOR;
    layer->info.physical_sector_size = VB_SECTOR;
    layer->self.size = layer->info.disk_size;
    layer->self.ctx = layer;
    layer->self.read = vb_layer_read;
    layer->self.write = layer->writable ? vb_layer_write : NULL;
    layer->self.flush = vb_layer_flush;
    layer->self.close = NULL;
    *out = layer;
    return VB_OK;
fail:
    vb_layer_close(layer);
    return st;
}

void vb_layer_close(vb_layer *layer)
{
    if (!layer)
        return;
    if (layer->dirty_slots > 0 && vb_wb_commit(layer) == VB_OK)
        vb_source_flush(layer->file); /* best effort: the owner flushes before closing */
    vb_vhdx_layer_free(layer);
    for (unsigned i = 0; i < VB_BITMAP_SLOTS; i++)
        vb_free(layer->slots[i].bits);
    vb_free(layer->bat);
    vb_free(layer->block_buf);
    vb_free(layer);
}

void vb_layer_set_parent(vb_layer *layer, vb_source *parent)
{
    layer->parent = parent;
}

vb_source *vb_layer_source(vb_layer *layer)
{
    return &layer->self;
}

const vb_vhd_info *vb_layer_info(const vb_layer *layer)
{
    return &layer->info;
}

vb_source *vb_layer_file(vb_layer *layer)
{
    return layer->file;
}

unsigned vb_layer_locator_count(const vb_layer *layer)
{
    return layer->locator_count;
}

const vb_locator *vb_layer_locator(const vb_layer *layer, unsigned i)
{
    return i < layer->locator_count ? &layer->locators[i] : NULL;
}

unsigned vb_layer_bitmap_slots(const vb_layer *layer)
{
    uint32_t fit = layer->info.bitmap_size ? VB_BITMAP_CACHE_BYTES / layer->info.bitmap_size : VB_BITMAP_SLOTS;
    if (fit < VB_BITMAP_MIN_SLOTS)
        return VB_BITMAP_MIN_SLOTS;
    return fit > VB_BITMAP_SLOTS ? VB_BITMAP_SLOTS : fit;
}

/* Picks the cache slot for a block: its own, else an empty one, else the
 * least recently used clean one (write-back keeps one clean). Returns the
 * slot (never NULL). */
static vb_bitmap_slot *bitmap_slot(vb_layer *layer, uint32_t block, bool *hit)
{
    vb_bitmap_slot *victim = &layer->slots[0];
    unsigned count = vb_layer_bitmap_slots(layer);
    layer->use_clock++;
    for (unsigned i = 0; i < count; i++) {
        vb_bitmap_slot *s = &layer->slots[i];
        if (s->valid && s->block == block) {
            s->last_use = layer->use_clock;
            *hit = true;
            return s;
        }
        if (s->dirty)
            continue;
        if (victim->dirty || (victim->valid && (!s->valid || s->last_use < victim->last_use)))
            victim = s;
    }
    *hit = false;
    return victim;
}

vb_status vb_layer_bitmap(vb_layer *layer, uint32_t block, uint8_t **bits)
{
    bool hit;
    vb_bitmap_slot *s = bitmap_slot(layer, block, &hit);
    if (!hit) {
        if (!s->bits && !(s->bits = vb_alloc(layer->info.bitmap_size)))
            return VB_ERR_NO_MEMORY;
        s->valid = false;
        uint64_t at = (uint64_t)vb_bat_get(layer, block) * VB_SECTOR;
        vb_status st = vb_source_read(layer->file, at, s->bits, layer->info.bitmap_size);
        if (st != VB_OK)
            return st;
        s->valid = true;
        s->block = block;
        s->last_use = layer->use_clock;
    }
    *bits = s->bits;
    return VB_OK;
}

vb_bitmap_slot *vb_layer_bitmap_store(vb_layer *layer, uint32_t block, const uint8_t *bits)
{
    bool hit;
    vb_bitmap_slot *s = bitmap_slot(layer, block, &hit);
    if (!s->bits && !(s->bits = vb_alloc(layer->info.bitmap_size)))
        return NULL;
    vb_memcpy(s->bits, bits, layer->info.bitmap_size);
    s->valid = true;
    s->block = block;
    s->last_use = layer->use_clock;
    return s;
}

vb_bitmap_slot *vb_layer_bitmap_cached(vb_layer *layer, uint32_t block)
{
    unsigned count = vb_layer_bitmap_slots(layer);
    for (unsigned i = 0; i < count; i++)
        if (layer->slots[i].valid && layer->slots[i].block == block)
            return &layer->slots[i];
    return NULL;
}

void vb_layer_bitmap_forget(vb_layer *layer, uint32_t block)
{
    unsigned count = vb_layer_bitmap_slots(layer);
    for (unsigned i = 0; i < count; i++)
        if (layer->slots[i].valid && layer->slots[i].block == block)
            layer->slots[i].valid = false;
}

bool vb_layer_block_allocated(vb_layer *layer, uint64_t sector)
{
    /* Returns whether the block holding sector has data in this file (always
     * for a fixed disk; never past the end). */
    if (layer->vhdx)
        return vb_vhdx_block_allocated(layer, sector);
    if (sector >= layer->info.disk_size / VB_SECTOR)
        return false;
    if (layer->info.type == VB_DISK_FIXED)
        return true;
    return vb_bat_get(layer, (uint32_t)(sector / layer->sectors_per_block)) != VB_BAT_UNUSED;
}

bool vb_layer_sector_present(vb_layer *layer, uint64_t sector)
{
    if (layer->vhdx)
        return vb_vhdx_sector_present(layer, sector);
    if (!vb_layer_block_allocated(layer, sector))
        return false;
    if (layer->info.type != VB_DISK_DIFF)
        return true;
    uint32_t block = (uint32_t)(sector / layer->sectors_per_block);
    uint8_t *bits;
    if (vb_layer_bitmap(layer, block, &bits) != VB_OK)
        return false;
    return vb_bitmap_test(bits, (uint32_t)(sector % layer->sectors_per_block));
}

/* ---- reads ---- */

enum run_kind { RUN_NONE, RUN_ZERO, RUN_FILE, RUN_PARENT };

/* A pending piece of a read: `len` bytes for dst, from `from` in the file
 * (RUN_FILE) or at disk offset `from` in the parent (RUN_PARENT). */
typedef struct read_run {
    enum run_kind kind;
    uint64_t from;
    uint8_t *dst;
    size_t len;
} read_run;

/* Performs a pending run with one underlying read. Returns the read status. */
static vb_status run_flush(vb_layer *layer, read_run *run)
{
    vb_status st = VB_OK;
    switch (run->kind) {
    case RUN_ZERO:
        vb_memset(run->dst, 0, run->len);
        break;
    case RUN_FILE:
        st = vb_source_read(layer->file, run->from, run->dst, run->len);
        break;
    case RUN_PARENT:
        st = layer->parent ? vb_source_read(layer->parent, run->from, run->dst, run->len) : VB_ERR_PARENT_NOT_FOUND;
        break;
    case RUN_NONE:
        break;
    }
    run->kind = RUN_NONE;
    return st;
}

/* Appends a piece to the pending run when it continues it, otherwise
 * performs the pending run and starts a new one. Returns the status. */
static vb_status run_add(vb_layer *layer, read_run *run, enum run_kind kind, uint64_t from, uint8_t *dst, size_t len)
{
    if (run->kind == kind && (kind == RUN_ZERO || run->from + run->len == from)) {
        run->len += len;
        return VB_OK;
    }
    vb_status st = run_flush(layer, run);
    run->kind = kind;
    run->from = from;
    run->dst = dst;
    run->len = len;
    return st;
}

/* Returns the first sector in [first, end) whose bit differs from `value`
 * (end when none does). Skips whole bytes of 0x00/0xFF. */
static uint32_t bitmap_run_end(const uint8_t *bits, uint32_t first, uint32_t end, bool value)
{
    uint32_t s = first;
    uint8_t same = value ? 0xFF : 0x00;
    while (s < end) {
        if ((s & 7) == 0 && end - s >= 8 && bits[s >> 3] == same) {
            s += 8;
            continue;
        }
        if (vb_bitmap_test(bits, s) != value)
            break;
        s++;
    }
    return s;
}

vb_status vb_layer_map(vb_layer *layer, uint64_t offset, uint64_t len, unsigned flags, vb_map *out)
{
    const vb_vhd_info *info = &layer->info;
    if (layer->vhdx)
        return VB_ERR_UNSUPPORTED;
    if (len == 0 || offset > info->disk_size || len > info->disk_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    out->len = len;
    out->file_offset = offset;
    out->kind = VB_MAP_FILE;
    out->marked = true;
    if (info->type == VB_DISK_FIXED)
        return VB_OK;
    vb_block_span span = vb_block_span_at(info, offset, len > SIZE_MAX ? SIZE_MAX : (size_t)len);
    out->len = span.len;
    uint32_t entry = vb_bat_get(layer, span.block);
    if (entry == VB_BAT_UNUSED) {
        out->kind = info->type == VB_DISK_DIFF ? VB_MAP_PARENT : VB_MAP_ZERO;
        out->marked = false;
        return VB_OK;
    }
    out->file_offset = (uint64_t)entry * VB_SECTOR + info->bitmap_size + span.in_block;
    bool diff = info->type == VB_DISK_DIFF;
    if (!diff && !(flags & VB_MAP_BITMAP)) {
        out->marked = false;
        return VB_OK;
    }
    uint8_t *bits;
    vb_status st = vb_layer_bitmap(layer, span.block, &bits);
    if (st != VB_OK)
        return st;
    uint32_t first = span.in_block / VB_SECTOR;
    uint32_t last = (uint32_t)((span.in_block + span.len - 1) / VB_SECTOR);
    bool present = vb_bitmap_test(bits, first);
    uint32_t end = bitmap_run_end(bits, first + 1, last + 1, present);
    uint64_t same = (uint64_t)end * VB_SECTOR - span.in_block;
    if (same < out->len)
        out->len = same;
    out->marked = present;
    if (diff && !present)
        out->kind = VB_MAP_PARENT;
    return VB_OK;
}

/* Reads from a dynamic or differencing layer, coalescing runs. */
static vb_status read_sparse(vb_layer *layer, uint64_t offset, uint8_t *dst, size_t len)
{
    const vb_vhd_info *info = &layer->info;
    bool diff = info->type == VB_DISK_DIFF;
    read_run run = { RUN_NONE, 0, NULL, 0 };
    vb_status st = VB_OK;
    while (len > 0) {
        vb_block_span span = vb_block_span_at(info, offset, len);
        uint32_t block = span.block, in_block = span.in_block;
        size_t piece = span.len;
        uint32_t entry = vb_bat_get(layer, block);
        enum run_kind kind;
        uint64_t from;
        if (entry == VB_BAT_UNUSED) {
            kind = diff ? RUN_PARENT : RUN_ZERO;
            from = offset;
        } else {
            kind = RUN_FILE;
            from = (uint64_t)entry * VB_SECTOR + info->bitmap_size + in_block;
            if (diff) {
                uint8_t *bits;
                st = vb_layer_bitmap(layer, block, &bits);
                if (st != VB_OK)
                    break;
                uint32_t first = in_block / VB_SECTOR;
                uint32_t last = (uint32_t)((in_block + piece - 1) / VB_SECTOR);
                bool present = vb_bitmap_test(bits, first);
                uint32_t end = bitmap_run_end(bits, first + 1, last + 1, present);
                size_t same = (size_t)end * VB_SECTOR - in_block;
                if (same < piece)
                    piece = same;
                if (!present) {
                    kind = RUN_PARENT;
                    from = offset;
                }
            }
        }
        st = run_add(layer, &run, kind, from, dst, piece);
        if (st != VB_OK)
            break;
        offset += piece;
        dst += piece;
        len -= piece;
    }
    vb_status flushed = run_flush(layer, &run);
    return st != VB_OK ? st : flushed;
}

vb_status vb_layer_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    vb_layer *layer = ctx;
    if (offset > layer->info.disk_size || len > layer->info.disk_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    if (len == 0)
        return VB_OK;
    if (layer->info.type == VB_DISK_FIXED)
        return vb_source_read(layer->file, offset, buf, len);
    return read_sparse(layer, offset, buf, len);
}

vb_status vb_layer_flush(void *ctx)
{
    vb_layer *layer = ctx;
    vb_status st = vb_wb_commit(layer);
    return st != VB_OK ? st : vb_source_flush(layer->file);
}
