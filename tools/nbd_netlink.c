/* vhdtool: NBD generic netlink over a raw socket (see nbd_netlink.h). */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/nbd-netlink.h>
#include <linux/nbd.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tools/nbd_netlink.h"

#define MSG_CAP 4096u

/* A netlink message being built in a fixed buffer. */
struct msg {
    union {
        struct nlmsghdr hdr;
        uint8_t bytes[MSG_CAP];
    } u;
};

/* Starts a generic netlink request of family/cmd. */
static void msg_init(struct msg *m, uint16_t family, uint8_t cmd, uint8_t version)
{
    memset(m, 0, sizeof *m);
    m->u.hdr.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    m->u.hdr.nlmsg_type = family;
    m->u.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    m->u.hdr.nlmsg_seq = 1;
    struct genlmsghdr *g = NLMSG_DATA(&m->u.hdr);
    g->cmd = cmd;
    g->version = version;
}

/* Appends attribute type with len bytes of data; returns its start (for
 * nesting) or NULL when the buffer is full. */
static struct nlattr *msg_put(struct msg *m, uint16_t type, const void *data, uint16_t len)
{
    uint32_t at = NLMSG_ALIGN(m->u.hdr.nlmsg_len);
    uint32_t need = NLA_ALIGN(NLA_HDRLEN + len);
    if (at + need > MSG_CAP)
        return NULL;
    struct nlattr *a = (struct nlattr *)(m->u.bytes + at);
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    if (len)
        memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
    m->u.hdr.nlmsg_len = at + need;
    return a;
}

/* Closes a nested attribute opened with msg_put(type | NLA_F_NESTED, NULL, 0). */
static void msg_end_nest(struct msg *m, struct nlattr *nest)
{
    nest->nla_len = (uint16_t)((m->u.bytes + m->u.hdr.nlmsg_len) - (uint8_t *)nest);
}

/* Sends m on fd and reads replies until the ACK: family_id (CTRL replies)
 * and index (NBD replies) are taken from attributes when non-NULL.
 * Returns 0 or -errno. */
static int transact(int fd, struct msg *m, uint16_t *family_id, int *index)
{
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, m->u.bytes, m->u.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        return -errno;
    static uint8_t reply[16384];
    for (;;) {
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error; /* 0 = the ACK */
            }
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            int len = (int)h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
            struct nlattr *a = (struct nlattr *)((uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN);
            while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
                uint16_t type = a->nla_type & NLA_TYPE_MASK;
                void *payload = (uint8_t *)a + NLA_HDRLEN;
                if (family_id && type == CTRL_ATTR_FAMILY_ID && a->nla_len >= NLA_HDRLEN + 2)
                    memcpy(family_id, payload, 2);
                if (index && type == NBD_ATTR_INDEX && a->nla_len >= NLA_HDRLEN + 4) {
                    uint32_t v;
                    memcpy(&v, payload, 4);
                    *index = (int)v;
                }
                len -= NLA_ALIGN(a->nla_len);
                a = (struct nlattr *)((uint8_t *)a + NLA_ALIGN(a->nla_len));
            }
        }
    }
}

/* Opens a generic netlink socket and resolves the "nbd" family. Returns the
 * socket (>= 0) or -errno, with err filled. */
static int open_nbd_family(uint16_t *family, char *err, size_t cap)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, cap, "cannot open a generic netlink socket: %s", strerror(e));
        return -e;
    }
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
        int e = errno;
        close(fd);
        snprintf(err, cap, "cannot bind a netlink socket: %s", strerror(e));
        return -e;
    }
    struct msg m;
    msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
    msg_put(&m, CTRL_ATTR_FAMILY_NAME, NBD_GENL_FAMILY_NAME, sizeof NBD_GENL_FAMILY_NAME);
    *family = 0;
    int rc = transact(fd, &m, family, NULL);
    if (rc < 0 || *family == 0) {
        close(fd);
        snprintf(err, cap, "the kernel has no NBD netlink interface (is the nbd module loaded? modprobe nbd)%s%s",
                 rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
        return rc < 0 ? rc : -ENOENT;
    }
    return fd;
}

int vt_nbd_connect_device(const vt_nbd_connect *req, char *err, size_t cap)
{
    uint16_t family;
    int fd = open_nbd_family(&family, err, cap);
    if (fd < 0)
        return fd;
    struct msg m;
    msg_init(&m, family, NBD_CMD_CONNECT, NBD_GENL_VERSION);
    uint64_t flags = req->server_flags | NBD_FLAG_HAS_FLAGS;
    bool ok = true;
    if (req->index >= 0) {
        uint32_t index = (uint32_t)req->index;
        ok = ok && msg_put(&m, NBD_ATTR_INDEX, &index, 4);
    }
    ok = ok && msg_put(&m, NBD_ATTR_SIZE_BYTES, &req->size, 8);
    ok = ok && msg_put(&m, NBD_ATTR_BLOCK_SIZE_BYTES, &req->block_size, 8);
    ok = ok && msg_put(&m, NBD_ATTR_SERVER_FLAGS, &flags, 8);
    struct nlattr *socks = ok ? msg_put(&m, NBD_ATTR_SOCKETS | NLA_F_NESTED, NULL, 0) : NULL;
    struct nlattr *item = socks ? msg_put(&m, NBD_SOCK_ITEM | NLA_F_NESTED, NULL, 0) : NULL;
    uint32_t sock = (uint32_t)req->sock_fd;
    if (!item || !msg_put(&m, NBD_SOCK_FD, &sock, 4)) {
        close(fd);
        snprintf(err, cap, "netlink message too long");
        return -EINVAL;
    }
    msg_end_nest(&m, item);
    msg_end_nest(&m, socks);
    int index = -1;
    int rc = transact(fd, &m, NULL, &index);
    close(fd);
    if (rc < 0) {
        snprintf(err, cap, "the kernel refused the NBD connect%s: %s",
                 rc == -EBUSY ? " (device already in use)" : "", strerror(-rc));
        return rc;
    }
    if (index < 0)
        index = req->index;
    if (index < 0) {
        snprintf(err, cap, "the kernel did not say which NBD device it connected");
        return -EPROTO;
    }
    return index;
}

int vt_nbd_disconnect_device(int index, char *err, size_t cap)
{
    uint16_t family;
    int fd = open_nbd_family(&family, err, cap);
    if (fd < 0)
        return fd;
    struct msg m;
    msg_init(&m, family, NBD_CMD_DISCONNECT, NBD_GENL_VERSION);
    uint32_t i = (uint32_t)index;
    msg_put(&m, NBD_ATTR_INDEX, &i, 4);
    int rc = transact(fd, &m, NULL, NULL);
    close(fd);
    if (rc < 0)
        snprintf(err, cap, "the kernel refused to disconnect /dev/nbd%d: %s", index, strerror(-rc));
    return rc;
}
