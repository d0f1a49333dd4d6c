/* vhdtool: the NBD transmission phase (see nbd_server.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "format/bytes.h"
#include "format/overlay.h"
#include "tools/nbd_server.h"

#define REQUEST_MAGIC 0x25609513u
#define REPLY_MAGIC 0x67446698u
#define CMD_READ 0u
#define CMD_WRITE 1u
#define CMD_DISC 2u
#define CMD_FLUSH 3u
#define CMD_TRIM 4u
#define CMD_FLAG_FUA (1u << 16)

/* Reads exactly len bytes (waiting in poll). Returns 1, 0 at end of file
 * before any byte, or -errno. */
static int read_full(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n == 0) {
            return done == 0 ? 0 : -EPIPE;
        } else if (errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, -1);
        } else if (errno != EINTR) {
            return -errno;
        }
    }
    return 1;
}

/* Writes exactly len bytes. Returns 0 or -errno. */
static int write_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const uint8_t *)buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            poll(&p, 1, -1);
        } else if (n < 0 && errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

/* Sends the reply header (and data for a successful read) with one
 * writev when the socket takes it all. Returns 0 or -errno. */
static int reply(vt_nbd_server *s, const uint8_t handle[8], uint32_t error, const void *data, size_t len)
{
    uint8_t head[16];
    vb_put_be32(head, REPLY_MAGIC);
    vb_put_be32(head + 4, error);
    memcpy(head + 8, handle, 8);
    if (error)
        s->errors++;
    size_t body = error ? 0 : len;
    struct iovec iov[2] = { { head, sizeof head }, { (void *)data, body } };
    ssize_t n;
    do
        n = writev(s->fd, iov, body ? 2 : 1);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN)
        return -errno;
    size_t done = n < 0 ? 0 : (size_t)n;
    if (done < sizeof head) {
        int rc = write_full(s->fd, head + done, sizeof head - done);
        if (rc < 0)
            return rc;
        done = sizeof head;
    }
    return body ? write_full(s->fd, (const uint8_t *)data + (done - sizeof head), body - (done - sizeof head)) : 0;
}

/* The errno an NBD reply carries for a core status. */
static uint32_t status_errno(vb_status st)
{
    switch (st) {
    case VB_OK: return 0;
    case VB_ERR_WRITE_PROTECTED: return EPERM;
    case VB_ERR_NO_SPACE: return ENOSPC;
    case VB_ERR_OUT_OF_RANGE: return EINVAL;
    default: return EIO;
    }
}

/* Writes a request's data, refusing what would take a volatile overlay past
 * its cap (logged once). Returns the errno for the reply. */
static uint32_t do_write(vt_nbd_server *s, uint64_t from, uint32_t len, bool fua)
{
    if (s->read_only)
        return EPERM;
    if (s->overlay && s->overlay_cap &&
        vb_overlay_bytes_used(s->overlay) + vb_overlay_bytes_needed(s->overlay, from, len) > s->overlay_cap) {
        if (!s->told_full) {
            s->told_full = true;
            fprintf(stderr,
                    "vhdtool attach: volatile overlay full (%llu bytes used, cap %llu): write of %u bytes at %llu "
                    "refused with an I/O error (later refusals are not logged)\n",
                    (unsigned long long)vb_overlay_bytes_used(s->overlay), (unsigned long long)s->overlay_cap, len,
                    (unsigned long long)from);
        }
        return EIO;
    }
    vb_status st = vb_source_write(s->disk, from, s->buffer, len);
    if (st == VB_OK && fua)
        st = vb_source_flush(s->disk);
    if (st != VB_OK)
        fprintf(stderr, "vhdtool attach: write of %u bytes at %llu failed: %s\n", len, (unsigned long long)from,
                vb_status_message(st));
    return status_errno(st);
}

/* Answers a read with its data spliced from the layer files. Returns 0 when
 * answered, 1 when the request must go through the core instead, -errno
 * when the socket broke. */
static int read_spliced(vt_nbd_server *s, const uint8_t handle[8], uint64_t from, uint32_t len)
{
    vt_splice *sp = s->splice;
    vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
    if (!sp || !sp->depth || len < sp->min || len > sp->max)
        return 1;
    unsigned n = vt_splice_map_read(sp, from, len, segs);
    if (n == 0)
        return 1;
    int err = vt_splice_fill(sp, segs, n);
    if (err < 0)
        return 1;
    if (err > 0)
        return reply(s, handle, (uint32_t)err, NULL, 0);
    uint8_t head[16];
    vb_put_be32(head, REPLY_MAGIC);
    vb_put_be32(head + 4, 0);
    memcpy(head + 8, handle, 8);
    int rc = vt_splice_send_head(sp, s->fd, head);
    if (rc == 0)
        rc = vt_splice_to_socket(sp, s->fd, len);
    sp->reads++;
    return rc;
}

/* Takes a write's payload from the socket straight into the top layer's
 * file when it lands in allocated, marked sectors, or (write-back) in
 * blocks allocated for it and sectors marked after it. Returns 0 when answered,
 * 1 when the request must go through the core instead, -errno when the
 * socket broke. */
static int write_spliced(vt_nbd_server *s, const uint8_t handle[8], uint64_t from, uint32_t len, bool fua)
{
    vt_splice *sp = s->splice;
    vt_splice_seg segs[VT_SPLICE_MAX_SEGS];
    if (!sp || !sp->depth || s->read_only || s->overlay || len == 0)
        return 1;
    unsigned n = vt_splice_map_write(sp, from, len, segs);
    bool placed = n == 0;
    if (placed)
        n = vt_splice_place_write(sp, from, len, segs);
    if (n == 0)
        return 1;
    int rc = vt_splice_from_socket(sp, s->fd, segs, n);
    if (rc < 0)
        return rc;
    vb_status st = rc ? VB_ERR_IO : VB_OK;
    if (st == VB_OK && placed)
        st = vb_layer_mark(sp->layers[0], from, len); /* the data is there: its bits may be set */
    if (st == VB_OK && fua)
        st = vb_source_flush(s->disk);
    if (st != VB_OK)
        fprintf(stderr, "vhdtool attach: write of %u bytes at %llu failed: %s\n", len, (unsigned long long)from,
                rc ? strerror(rc) : vb_status_message(st));
    sp->writes++;
    return reply(s, handle, rc ? (uint32_t)rc : status_errno(st), NULL, 0);
}

/* Answers a flush request: the disk's metadata kept back (write-back) and
 * every write before it made durable. Returns what reply() returns. */
static int do_flush(vt_nbd_server *s, const uint8_t handle[8])
{
    s->flushes++;
    vb_status st = vb_source_flush(s->disk);
    if (st != VB_OK)
        fprintf(stderr, "vhdtool attach: flush failed: %s\n", vb_status_message(st));
    return reply(s, handle, status_errno(st), NULL, 0);
}

int vt_nbd_serve(vt_nbd_server *s)
{
    uint8_t req[28];
    for (;;) {
        int rc = read_full(s->fd, req, sizeof req);
        if (rc <= 0)
            return rc; /* end of file: the kernel closed the connection */
        if (vb_be32(req) != REQUEST_MAGIC) {
            fprintf(stderr, "vhdtool attach: bad request magic 0x%08x\n", vb_be32(req));
            return -EPROTO;
        }
        uint32_t type = vb_be32(req + 4);
        const uint8_t *handle = req + 8;
        uint64_t from = vb_be64(req + 16);
        uint32_t len = vb_be32(req + 24);
        uint32_t cmd = type & 0xFFFFu;
        bool in_range = from <= s->disk->size && len <= s->disk->size - from;
        switch (cmd) {
        case CMD_READ: {
            if (len > VT_NBD_MAX_REQUEST)
                return -EPROTO;
            if (in_range && (rc = read_spliced(s, handle, from, len)) <= 0) {
                if (rc < 0)
                    return rc;
                s->reads++;
                vt_splice_prefetch(s->splice, from, len, s->disk->size);
                break;
            }
            uint32_t err = in_range ? status_errno(vb_source_read(s->disk, from, s->buffer, len)) : EINVAL;
            s->reads++;
            rc = reply(s, handle, err, s->buffer, len);
            if (s->splice && in_range)
                vt_splice_prefetch(s->splice, from, len, s->disk->size);
            break;
        }
        case CMD_WRITE: {
            if (len > VT_NBD_MAX_REQUEST)
                return -EPROTO;
            if (in_range && (rc = write_spliced(s, handle, from, len, type & CMD_FLAG_FUA)) <= 0) {
                if (rc < 0)
                    return rc;
                s->writes++;
                break;
            }
            rc = read_full(s->fd, s->buffer, len);
            if (rc <= 0)
                return rc < 0 ? rc : -EPIPE;
            s->writes++;
            rc = reply(s, handle, in_range ? do_write(s, from, len, type & CMD_FLAG_FUA) : EINVAL, NULL, 0);
            break;
        }
        case CMD_FLUSH:
            rc = do_flush(s, handle);
            break;
        case CMD_DISC:
            return 0;
        default: /* trim is not advertised; anything else is refused */
            rc = reply(s, handle, EINVAL, NULL, 0);
            break;
        }
        if (rc < 0)
            return rc;
    }
}
