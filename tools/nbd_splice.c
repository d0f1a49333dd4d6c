/* vhdtool: NBD payloads through splice() (see nbd_splice.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>
#include "tools/host_file.h"
#include "tools/nbd_splice.h"

/* The pipe's size asked for (root may pass fs/pipe-max-size), and the least
 * that is worth splicing with. */
#define PIPE_WANT (8u << 20)
#define PIPE_LEAST (256u << 10)
/* Reads below this many bytes are copied (two syscalls instead of five). */
#define SPLICE_MIN (64u << 10)
/* Writes below this many bytes are copied (measured: splicing 4 KiB is slower). */
#define SPLICE_WMIN (64u << 10)
/* Sequential reads of at least this many bytes prefetch what follows, up
 * to this many requests of the same length ahead. */
#define PREFETCH_MIN (64u << 10)
#define PREFETCH_AHEAD 4u
/* Zeros mapped into the pipe by reference (never written). */
#define ZERO_BYTES (256u << 10)
static const uint8_t zeros[ZERO_BYTES] __attribute__((aligned(4096)));

/* Raises the calling thread to SCHED_FIFO (on) or returns it to
 * SCHED_OTHER. Returns whether the kernel agreed. */
static bool boost(bool on)
{
    struct sched_param param = { .sched_priority = on ? 1 : 0 };
    return pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &param) == 0;
}

/* Opens the file behind fd again with O_DIRECT (through /proc/self/fd).
 * Returns the new descriptor, or -1 where the file system or /proc does not
 * allow it (writes then stay buffered). */
static int open_direct(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

int vt_splice_init(vt_splice *sp, vb_layer *const *layers, unsigned depth, bool top_writable)
{
    sp->depth = 0;
    sp->pipe_r = sp->pipe_w = -1;
    sp->direct_fd = -1;
    if (depth == 0 || depth > VB_MAX_CHAIN_DEPTH)
        return -EINVAL;
    for (unsigned i = 0; i < depth; i++) {
        sp->layers[i] = layers[i];
        sp->fds[i] = host_file_fd(vb_layer_file(layers[i]));
        if (sp->fds[i] < 0 || vb_layer_info(layers[i])->format != VB_FORMAT_VHD)
            return -EINVAL;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    int size = fcntl(p[1], F_SETPIPE_SZ, (int)PIPE_WANT);
    if (size < 0)
        size = fcntl(p[1], F_SETPIPE_SZ, (int)PIPE_LEAST);
    if (size < (int)PIPE_LEAST) {
        close(p[0]);
        close(p[1]);
        return -ENOBUFS;
    }
    sp->pipe_r = p[0];
    sp->pipe_w = p[1];
    sp->max = (size_t)size / 2;
    sp->wmin = SPLICE_WMIN;
    /* reads are spliced only where the reply can be queued unpreempted */
    sp->min = boost(true) && boost(false) ? SPLICE_MIN : SIZE_MAX;
    sp->top_writable = top_writable;
    sp->direct_fd = top_writable ? open_direct(sp->fds[0]) : -1;
    sp->reads = sp->writes = 0;
    sp->next = UINT64_MAX;
    sp->ahead = 0;
    sp->streak = 0;
    sp->depth = depth;
    return 0;
}

void vt_splice_close(vt_splice *sp)
{
    if (sp->pipe_r >= 0)
        close(sp->pipe_r);
    if (sp->pipe_w >= 0)
        close(sp->pipe_w);
    if (sp->direct_fd >= 0)
        close(sp->direct_fd);
    sp->pipe_r = sp->pipe_w = sp->direct_fd = -1;
    sp->depth = 0;
}

/* Appends a piece to segs, merged with the last one when it continues it.
 * Returns false when segs is full. */
static bool seg_add(vt_splice_seg *segs, unsigned *n, int fd, uint64_t at, uint64_t len)
{
    if (*n > 0) {
        vt_splice_seg *last = &segs[*n - 1];
        if (last->fd == fd && (fd < 0 || last->at + last->len == at)) {
            last->len += len;
            return true;
        }
    }
    if (*n == VT_SPLICE_MAX_SEGS)
        return false;
    segs[(*n)++] = (vt_splice_seg){ fd, at, len };
    return true;
}

unsigned vt_splice_map_read(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs)
{
    unsigned n = 0;
    while (len > 0) {
        uint64_t piece = len;
        unsigned i = 0;
        vb_map m;
        for (;;) {
            if (vb_layer_map(sp->layers[i], from, piece, 0, &m) != VB_OK)
                return 0;
            piece = m.len;
            if (m.kind != VB_MAP_PARENT)
                break;
            if (++i >= sp->depth)
                return 0; /* no parent to read: the core's read says why */
        }
        if (!seg_add(segs, &n, m.kind == VB_MAP_FILE ? sp->fds[i] : -1, m.file_offset, piece))
            return 0;
        from += piece;
        len -= piece;
    }
    return n;
}

unsigned vt_splice_map_write(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs)
{
    if (!sp->top_writable || len < sp->wmin || from % VB_SECTOR || len % VB_SECTOR)
        return 0;
    unsigned n = 0;
    while (len > 0) {
        vb_map m;
        if (vb_layer_map(sp->layers[0], from, len, VB_MAP_BITMAP, &m) != VB_OK || m.kind != VB_MAP_FILE ||
            !m.marked || !seg_add(segs, &n, sp->fds[0], m.file_offset, m.len))
            return 0;
        from += m.len;
        len -= m.len;
    }
    return n;
}

unsigned vt_splice_place_write(vt_splice *sp, uint64_t from, uint64_t len, vt_splice_seg *segs)
{
    if (!sp->top_writable || len < sp->wmin || from % VB_SECTOR || len % VB_SECTOR)
        return 0;
    const vb_vhd_info *info = vb_layer_info(sp->layers[0]);
    if (info->type == VB_DISK_FIXED || info->block_size == 0)
        return 0;
    unsigned n = 0;
    while (len > 0) {
        uint64_t piece = info->block_size - from % info->block_size, at;
        if (piece > len)
            piece = len;
        if (vb_layer_place(sp->layers[0], from, piece, &at) != VB_OK || !seg_add(segs, &n, sp->fds[0], at, piece))
            return 0; /* blocks placed so far stay: they read as before */
        from += piece;
        len -= piece;
    }
    return n;
}

/* Empties the pipe of `bytes` bytes (read into nothing). */
static void drain(vt_splice *sp, uint64_t bytes)
{
    static uint8_t sink[64 << 10];
    while (bytes > 0) {
        ssize_t n = read(sp->pipe_r, sink, bytes < sizeof sink ? (size_t)bytes : sizeof sink);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return;
        if (n > 0)
            bytes -= (uint64_t)n;
    }
}

int vt_splice_fill(vt_splice *sp, const vt_splice_seg *segs, unsigned count)
{
    uint64_t filled = 0;
    int err = 0;
    for (unsigned i = 0; i < count && !err; i++) {
        loff_t at = (loff_t)segs[i].at;
        uint64_t left = segs[i].len;
        while (left > 0) {
            ssize_t n;
            if (segs[i].fd < 0) {
                struct iovec iov = { (void *)zeros, left < ZERO_BYTES ? (size_t)left : ZERO_BYTES };
                n = vmsplice(sp->pipe_w, &iov, 1, SPLICE_F_NONBLOCK);
            } else {
                n = splice(segs[i].fd, &at, sp->pipe_w, NULL, (size_t)left, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            }
            if (n > 0) {
                left -= (uint64_t)n;
                filled += (uint64_t)n;
            } else if (n == 0) {
                err = EIO; /* the file ends before its mapped data */
                break;
            } else if (errno != EINTR) {
                err = errno == EAGAIN ? -1 : errno; /* pipe full: let the core copy it */
                break;
            }
        }
    }
    if (err)
        drain(sp, filled);
    return err;
}

int vt_splice_to_socket(vt_splice *sp, int sock, uint64_t len)
{
    int rc = 0;
    while (len > 0 && rc == 0) {
        ssize_t n = splice(sp->pipe_r, NULL, sock, NULL, (size_t)len, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (n > 0)
            len -= (uint64_t)n;
        else if (n == 0)
            rc = -EPIPE;
        else if (errno != EINTR)
            rc = -errno;
    }
    boost(false);
    return rc;
}

int vt_splice_send_head(vt_splice *sp, int sock, const uint8_t head[16])
{
    (void)sp;
    boost(true);
    size_t done = 0;
    while (done < 16) {
        ssize_t n = write(sock, head + done, 16 - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno != EINTR) {
            int e = errno;
            boost(false);
            return -e;
        }
    }
    return 0;
}

int vt_splice_from_socket(vt_splice *sp, int sock, const vt_splice_seg *segs, unsigned count)
{
    int err = 0;
    for (unsigned i = 0; i < count; i++) {
        loff_t at = (loff_t)segs[i].at;
        uint64_t left = segs[i].len;
        while (left > 0) {
            size_t chunk = left < sp->max ? (size_t)left : sp->max, got = 0;
            while (got < chunk) {
                ssize_t n = splice(sock, NULL, sp->pipe_w, NULL, chunk - got, SPLICE_F_MOVE);
                if (n > 0)
                    got += (size_t)n;
                else if (n == 0)
                    return -EPIPE;
                else if (errno != EINTR)
                    return -errno;
            }
            left -= got;
            while (got > 0 && !err) {
                bool direct = segs[i].fd == sp->fds[0] && sp->direct_fd >= 0;
                ssize_t n = splice(sp->pipe_r, NULL, direct ? sp->direct_fd : segs[i].fd, &at, got, SPLICE_F_MOVE);
                if (n > 0) {
                    got -= (size_t)n;
                } else if (n == 0) {
                    err = EIO;
                } else if (direct && errno == EINVAL) {
                    close(sp->direct_fd); /* alignment the file system refuses: buffered from now on */
                    sp->direct_fd = -1;
                } else if (errno != EINTR) {
                    err = errno;
                }
            }
            if (err)
                drain(sp, got); /* the rest of the payload is read and dropped */
        }
    }
    return err;
}

void vt_splice_prefetch(vt_splice *sp, uint64_t from, uint64_t len, uint64_t disk_size)
{
    bool sequential = from == sp->next;
    sp->next = from + len;
    if (!sp->depth || !sequential || len < PREFETCH_MIN || sp->next >= disk_size) {
        sp->ahead = 0;
        sp->streak = 0;
        return;
    }
    /* keep one request's worth started ahead, growing to PREFETCH_AHEAD
     * as the sequential run goes on (short runs, as a booting system
     * makes, ask for little that is not read); only what was not started
     * before is asked for */
    if (sp->streak < PREFETCH_AHEAD)
        sp->streak++;
    uint64_t want = len <= (disk_size - sp->next) / sp->streak ? sp->next + len * sp->streak : disk_size;
    uint64_t start = sp->ahead > sp->next ? sp->ahead : sp->next;
    if (start >= want)
        return;
    vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
    unsigned n = vt_splice_map_read(sp, start, want - start, segs);
    for (unsigned i = 0; i < n; i++)
        if (segs[i].fd >= 0)
            readahead(segs[i].fd, (off64_t)segs[i].at, (size_t)segs[i].len);
    sp->ahead = n ? want : 0;
}
