/* vhdboot: NTFS runlists (mapping pairs) — decoding and reading through them. */
#include "ntfs.h"
#include "format/bytes.h"
#include "format/platform.h"

/* Appends one run, growing the array by doubling. VB_ERR_NO_MEMORY on failure. */
static vb_status push_run(ntfs_runs *runs, ntfs_run run)
{
    if (runs->count == runs->cap) {
        size_t cap = runs->cap ? runs->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof(ntfs_run))
            return VB_ERR_NO_MEMORY;
        ntfs_run *grown = vb_alloc(cap * sizeof(ntfs_run));
        if (!grown)
            return VB_ERR_NO_MEMORY;
        if (runs->count)
            vb_memcpy(grown, runs->v, runs->count * sizeof(ntfs_run));
        vb_free(runs->v);
        runs->v = grown;
        runs->cap = cap;
    }
    runs->v[runs->count++] = run;
    return VB_OK;
}

/* Reads an n-byte little-endian two's-complement number (1 <= n <= 8). */
static int64_t read_signed(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)p[k] << (8 * k);
    if (n < 8 && (p[n - 1] & 0x80))
        v |= ~0ull << (8 * n);
    return v > INT64_MAX ? -(int64_t)(~v) - 1 : (int64_t)v;
}

vb_status ntfs_decode_runs(const ntfs_volume *vol, const ntfs_attr *attr, uint64_t recno, ntfs_runs *runs, vb_diag *diag)
{
    const uint8_t *p = attr->pairs;
    size_t n = attr->pairs_len, i = 0;
    uint64_t vcn = attr->lowest_vcn;
    uint64_t end_vcn = attr->highest_vcn + 1; /* 0 when highest is -1 (empty attribute) */
    uint64_t max_vcn = UINT64_MAX / vol->cluster_size;
    int64_t lcn = 0;
    while (i < n && p[i] != 0) {
        unsigned len_size = p[i] & 0x0F, off_size = p[i] >> 4;
        i++;
        if (len_size == 0 || len_size > 8 || off_size > 8 || n - i < (size_t)len_size + off_size)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x has a malformed runlist header at VCN %llu",
                           (unsigned long long)recno, attr->type, (unsigned long long)vcn);
        int64_t len = read_signed(p + i, len_size);
        i += len_size;
        if (len <= 0 || (uint64_t)len > end_vcn - vcn || vcn + (uint64_t)len > max_vcn)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x has a run of %lld clusters at VCN %llu beyond its highest VCN %llu",
                           (unsigned long long)recno, attr->type, (long long)len, (unsigned long long)vcn,
                           (unsigned long long)attr->highest_vcn);
        ntfs_run run = { .vcn = vcn, .len = (uint64_t)len, .hole = off_size == 0 };
        if (off_size) {
            int64_t delta = read_signed(p + i, off_size);
            i += off_size;
            if ((delta > 0 && lcn > INT64_MAX - delta) || (delta < 0 && lcn < INT64_MIN - delta) || lcn + delta < 0)
                return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x runlist delta leaves the volume at VCN %llu",
                               (unsigned long long)recno, attr->type, (unsigned long long)vcn);
            lcn += delta;
            if ((uint64_t)lcn >= vol->total_clusters || (uint64_t)len > vol->total_clusters - (uint64_t)lcn)
                return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x run at LCN %lld (+%lld clusters) lies past the end of the volume (%llu clusters)",
                               (unsigned long long)recno, attr->type, (long long)lcn, (long long)len,
                               (unsigned long long)vol->total_clusters);
            run.lcn = (uint64_t)lcn;
        }
        if (push_run(runs, run) != VB_OK)
            return vb_fail(diag, VB_ERR_NO_MEMORY, "no memory for a runlist");
        vcn += (uint64_t)len;
    }
    if (i >= n)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x runlist has no terminator",
                       (unsigned long long)recno, attr->type);
    if (vcn != end_vcn)
        return vb_fail(diag, VB_ERR_FS_CORRUPT, "MFT record %llu: attribute 0x%x runlist ends at VCN %llu, expected %llu",
                       (unsigned long long)recno, attr->type, (unsigned long long)vcn, (unsigned long long)end_vcn);
    return VB_OK;
}

/* Finds the run holding vcn by binary search; returns its index or count. */
static size_t find_run(const ntfs_runs *runs, uint64_t vcn)
{
    size_t lo = 0, hi = runs->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ntfs_run *r = &runs->v[mid];
        if (vcn < r->vcn)
            hi = mid;
        else if (vcn - r->vcn >= r->len)
            lo = mid + 1;
        else
            return mid;
    }
    return runs->count;
}

vb_status ntfs_read_runs(ntfs_volume *vol, const ntfs_runs *runs, uint64_t off, void *buf, size_t len, vb_diag *diag)
{
    uint8_t *out = buf;
    uint64_t cs = vol->cluster_size;
    while (len) {
        uint64_t vcn = off / cs;
        size_t k = find_run(runs, vcn);
        if (k == runs->count)
            return vb_fail(diag, VB_ERR_FS_CORRUPT, "metadata byte offset %llu is not mapped by its runlist", (unsigned long long)off);
        const ntfs_run *r = &runs->v[k];
        uint64_t run_end = (r->vcn + r->len) * cs; /* no overflow: checked when decoded */
        size_t piece = run_end - off < len ? (size_t)(run_end - off) : len;
        if (r->hole) {
            vb_memset(out, 0, piece);
        } else {
            uint64_t disk = (r->lcn + (vcn - r->vcn)) * cs + off % cs;
            vb_status st = vb_source_read(vol->dev, disk, out, piece);
            if (st != VB_OK)
                return vb_fail(diag, st, "cannot read the volume at byte %llu: %s", (unsigned long long)disk, vb_status_message(st));
        }
        out += piece;
        off += piece;
        len -= piece;
    }
    return VB_OK;
}

void ntfs_runs_free(ntfs_runs *runs)
{
    vb_free(runs->v);
    runs->v = NULL;
    runs->count = runs->cap = 0;
}
