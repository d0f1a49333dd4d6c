/* vhdboot: host (POSIX) glue — a file as a growable block source, path
 * mapping between host paths and core paths, and the chain opener. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host_file.h"

/* Per-file state behind a vb_source. self points at the vb_source that
 * host_file_open filled, so a write past the end can update its size. */
struct host_file {
    int fd;
    vb_source *self;
    bool preallocate;  /* allocate the blocks of large writes first (host_file_preallocate) */
};

/* Writes from this size are preallocated when asked for. */
#define PREALLOCATE_MIN (64u << 10)

/* Reads len bytes at offset, retrying short reads; VB_ERR_IO on failure or EOF. */
static vb_status host_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct host_file *f = ctx;
    uint8_t *p = buf;
    while (len) {
        if (offset > (uint64_t)INT64_MAX)
            return VB_ERR_OUT_OF_RANGE;
        ssize_t n = pread(f->fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VB_ERR_IO;
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return VB_OK;
}

/* Writes len bytes at offset (extending the file when past its end) and
 * updates the source size. Returns VB_ERR_IO on failure. */
static vb_status host_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    struct host_file *f = ctx;
    const uint8_t *p = buf;
    if (offset > (uint64_t)INT64_MAX - len)
        return VB_ERR_OUT_OF_RANGE;
    if (f->preallocate && len >= PREALLOCATE_MIN)
        (void)fallocate(f->fd, 0, (off_t)offset, (off_t)len); /* where unsupported, the write allocates */
    while (len) {
        ssize_t n = pwrite(f->fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno == ENOSPC ? VB_ERR_NO_SPACE : VB_ERR_IO;
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
        if (f->self && offset > f->self->size)
            f->self->size = offset;
    }
    return VB_OK;
}

/* Makes written data durable with fsync. Returns VB_ERR_IO on failure. */
static vb_status host_flush(void *ctx)
{
    struct host_file *f = ctx;
    return fsync(f->fd) == 0 ? VB_OK : VB_ERR_IO;
}

/* Closes the descriptor and frees the state. */
static void host_close(void *ctx)
{
    struct host_file *f = ctx;
    close(f->fd);
    free(f);
}

/* Wraps an open descriptor into *out (taking ownership of fd). */
static vb_status wrap_fd(int fd, bool writable, vb_source *out)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return VB_ERR_IO;
    }
    if (S_ISDIR(st.st_mode)) { /* a folder is no file: as the EFI opener does */
        close(fd);
        return VB_ERR_NOT_FOUND;
    }
    off_t end = lseek(fd, 0, SEEK_END); /* works for block devices too */
    if (end < 0) {
        close(fd);
        return VB_ERR_IO;
    }
    struct host_file *f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        return VB_ERR_NO_MEMORY;
    }
    f->fd = fd;
    f->self = out;
    memset(out, 0, sizeof(*out));
    out->size = (uint64_t)end;
    out->ctx = f;
    out->read = host_read;
    out->write = writable ? host_write : NULL;
    out->flush = writable ? host_flush : NULL;
    out->close = host_close;
    return VB_OK;
}

vb_status host_file_open(const char *host_path, bool writable, vb_source *out)
{
    int fd = open(host_path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR)
            return VB_ERR_NOT_FOUND;
        if (writable && (errno == EACCES || errno == EPERM || errno == EROFS))
            return VB_ERR_WRITE_PROTECTED;
        return VB_ERR_IO;
    }
    return wrap_fd(fd, writable, out);
}

vb_status host_file_create(const char *host_path, vb_source *out)
{
    int fd = open(host_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? VB_ERR_NOT_FOUND : VB_ERR_IO;
    return wrap_fd(fd, true, out);
}

void host_file_preallocate(vb_source *src, bool on)
{
    if (src && src->read == host_read && src->ctx)
        ((struct host_file *)src->ctx)->preallocate = on;
}

int host_file_fd(const vb_source *src)
{
    if (!src || src->read != host_read || !src->ctx)
        return -1;
    return ((const struct host_file *)src->ctx)->fd;
}

/* Normalises an absolute '/'-separated path in place: collapses repeated
 * slashes, drops "." components and resolves ".." lexically (".." at the
 * root stays at the root, as the kernel does). */
static void normalise_absolute(char *path)
{
    size_t out = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 1 && start[0] == '.')
            continue;
        if (n == 2 && start[0] == '.' && start[1] == '.') {
            while (out > 0 && path[--out] != '/')
                ;
            continue;
        }
        path[out++] = '/';
        memmove(path + out, start, n);
        out += n;
    }
    if (out == 0)
        path[out++] = '/';
    path[out] = '\0';
}

/* Makes host_path absolute: realpath for an existing file; otherwise the
 * realpath of its folder (or the cwd) joined with the rest, normalised
 * lexically. Returns false when the result does not fit in out (PATH_MAX). */
static bool absolute_host_path(const char *host_path, char out[PATH_MAX])
{
    if (!*host_path)
        return false;
    if (realpath(host_path, out))
        return true;
    char joined[PATH_MAX];
    if (host_path[0] == '/') {
        if (strlen(host_path) >= sizeof(joined))
            return false;
        strcpy(joined, host_path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            return false;
        size_t a = strlen(cwd), b = strlen(host_path);
        if (a + 1 + b >= sizeof(joined))
            return false;
        memcpy(joined, cwd, a);
        joined[a] = '/';
        memcpy(joined + a + 1, host_path, b + 1);
    }
    normalise_absolute(joined);
    /* A new file in an existing folder: resolve the folder's symlinks. */
    char *slash = strrchr(joined, '/');
    if (slash && slash != joined) {
        *slash = '\0';
        char dir[PATH_MAX];
        if (realpath(joined, dir) && strlen(dir) + 1 + strlen(slash + 1) < PATH_MAX) {
            size_t d = strlen(dir);
            if (d == 1) /* "/" */
                d = 0;
            memcpy(out, dir, d);
            out[d] = '/';
            strcpy(out + d + 1, slash + 1);
            return true;
        }
        *slash = '/';
    }
    strcpy(out, joined);
    return true;
}

bool host_to_core_path(const char *host_path, char *out, size_t cap)
{
    char abs[PATH_MAX];
    if (!absolute_host_path(host_path, abs))
        return false;
    size_t n = strlen(abs);
    if (n >= cap)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (abs[i] == '\\')
            return false; /* a host name with '\' has no core spelling */
        out[i] = abs[i] == '/' ? '\\' : abs[i];
    }
    return true;
}

bool core_to_host_path(const char *core_path, char *out, size_t cap)
{
    size_t n = strlen(core_path);
    if (n >= cap)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = core_path[i] == '\\' ? '/' : core_path[i];
    return true;
}

/* vb_opener callback: opens a core path as a host file. */
static vb_status host_opener_open(void *ctx, const char *path, bool writable, vb_source *out)
{
    (void)ctx;
    char host[PATH_MAX];
    if (!core_to_host_path(path, host, sizeof(host)))
        return VB_ERR_NOT_FOUND;
    return host_file_open(host, writable, out);
}

const vb_opener host_opener = { NULL, host_opener_open };

vb_status host_chain_open(const char *host_path, unsigned flags, vb_chain **out, vb_diag *diag)
{
    char core[VB_PATH_MAX];
    *out = NULL;
    if (!host_to_core_path(host_path, core, sizeof(core)))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: path cannot be made absolute or is too long", host_path);
    return vb_chain_open(&host_opener, core, flags, out, diag);
}
