/* vhdboot tests: helpers shared by the fs/ unit tests (header-only, so that
 * nothing extra is linked into every unit test).
 *
 * Images are built at run time by tests/tools/mk_fs_images.sh into a fresh
 * directory under build/tmp; the tests compare fs/ results with the oracles
 * it writes (ntfsinfo runlists, mshowfat chains, ntfscat/mcopy bytes). */
#ifndef VB_FS_TEST_UTIL_H
#define VB_FS_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "format/source.h"
#include "fs/extent.h"

/* A read-only image file as a block source, counting reads. */
typedef struct fs_file_source {
    vb_source src;
    int fd;
    unsigned reads;
} fs_file_source;

static inline vb_status fs_file_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    fs_file_source *f = ctx;
    f->reads++;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(f->fd, p, len, (off_t)offset);
        if (n <= 0)
            return VB_ERR_IO;
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return VB_OK;
}

/* Opens path; returns false when it cannot be opened. */
static inline bool fs_file_source_open(fs_file_source *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0)
        return false;
    struct stat st;
    fstat(f->fd, &st);
    f->src = (vb_source){ .size = (uint64_t)st.st_size, .ctx = f, .read = fs_file_read };
    return true;
}

static inline void fs_file_source_close(fs_file_source *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* Reads a whole file into a malloc'd buffer; NULL when missing. */
static inline uint8_t *fs_load_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Builds images of kind ("ntfs" or "fat") into a new directory under
 * build/tmp (its path goes to dir). Returns 0 on success, 77 when tools are
 * missing, other values on failure; *why says what happened. Every tool is
 * installed by `make deps`, so a missing one is a failure, never a skip. */
static inline int fs_build_images(const char *kind, char *dir, size_t cap, const char **why)
{
    *why = "";
    if (access("tests/tools/mk_fs_images.sh", X_OK) != 0) {
        *why = "tests/tools/mk_fs_images.sh not found (run from the repository root)";
        return 1;
    }
    mkdir("build", 0755);
    mkdir("build/tmp", 0755);
    snprintf(dir, cap, "build/tmp/fs-%s-XXXXXX", kind);
    if (!mkdtemp(dir)) {
        *why = "cannot create a directory under build/tmp";
        return 1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "tests/tools/mk_fs_images.sh '%s' %s >'%s/build.log' 2>&1", dir, kind, dir);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
    if (rc == 77)
        *why = "image tools missing (see build.log): `make deps` installs mtools, dosfstools, ntfs-3g, "
               "ntfs-3g-dev and `make test-build` builds build/tests-tools/ntfs_build";
    else if (rc != 0)
        *why = "image builder failed (see build.log in the image directory)";
    return rc;
}

/* Removes the image directory. */
static inline void fs_remove_images(const char *dir)
{
    if (!dir[0] || getenv("VB_KEEP_FS_IMAGES"))
        return;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", dir);
}

/* Images built for a cmocka group: rc is 0 when built, 77 when tools are
 * missing, another value when building failed, -1 before. */
typedef struct fs_images {
    char dir[256];
    int rc;
    const char *why;
} fs_images;

/* Builds images of kind into im (see fs_build_images); reports a failure. */
static inline void fs_images_build(fs_images *im, const char *kind)
{
    im->rc = fs_build_images(kind, im->dir, sizeof(im->dir), &im->why);
    if (im->rc != 0)
        fprintf(stderr, "# %s: %s\n", im->dir, im->why);
}

/* Removes im's directory, except after a failed build (kept for build.log). */
static inline void fs_images_remove(const fs_images *im)
{
    if (im->rc == 0 || im->rc == 77)
        fs_remove_images(im->dir);
}

/* Returns true when the images were built; otherwise says why (the calling
 * test then fails: missing tools are a failure, not a skip). */
static inline bool fs_images_ready(const fs_images *im)
{
    if (im->rc == 0)
        return true;
    fprintf(stderr, "# images not built: %s\n", im->why);
    return false;
}

/* Adds len bytes at disk to an expected map, merging contiguous pieces
 * (written independently of fs/extent.c on purpose). */
static inline void fs_expect_add(vb_extent_map *m, uint64_t disk, uint64_t len)
{
    if (m->count && m->extents[m->count - 1].disk_offset + m->extents[m->count - 1].length == disk) {
        m->extents[m->count - 1].length += len;
    } else {
        if (m->count == m->capacity) {
            m->capacity = m->capacity ? m->capacity * 2 : 64;
            m->extents = realloc(m->extents, m->capacity * sizeof(vb_extent));
        }
        m->extents[m->count++] = (vb_extent){ m->file_size, disk, len };
    }
    m->file_size += len;
}

/* Cuts an expected map to size bytes. */
static inline void fs_expect_clip(vb_extent_map *m, uint64_t size)
{
    while (m->count && m->extents[m->count - 1].file_offset >= size)
        m->count--;
    if (m->count && m->extents[m->count - 1].file_offset + m->extents[m->count - 1].length > size)
        m->extents[m->count - 1].length = size - m->extents[m->count - 1].file_offset;
    if (m->file_size > size)
        m->file_size = size;
}

/* Compares two maps extent by extent; prints the first difference. */
static inline bool fs_maps_equal(const vb_extent_map *want, const vb_extent_map *got)
{
    if (want->count != got->count || want->file_size != got->file_size) {
        fprintf(stderr, "# extent count %zu vs %zu, size %llu vs %llu\n", want->count, got->count,
                (unsigned long long)want->file_size, (unsigned long long)got->file_size);
        return false;
    }
    for (size_t i = 0; i < want->count; i++) {
        const vb_extent *a = &want->extents[i], *b = &got->extents[i];
        if (a->file_offset != b->file_offset || a->disk_offset != b->disk_offset || a->length != b->length) {
            fprintf(stderr, "# extent %zu: want {%llu, %llu, %llu} got {%llu, %llu, %llu}\n", i,
                    (unsigned long long)a->file_offset, (unsigned long long)a->disk_offset, (unsigned long long)a->length,
                    (unsigned long long)b->file_offset, (unsigned long long)b->disk_offset, (unsigned long long)b->length);
            return false;
        }
    }
    return true;
}

#endif
