/* vhdtool: the kernel NBD driver's generic-netlink interface (family "nbd"),
 * spoken over a raw netlink socket (no libnl). Connecting through netlink
 * instead of ioctl(NBD_DO_IT) leaves no thread blocked in the kernel, so the
 * server keeps serving in an ordinary poll loop (a thread inside NBD_DO_IT
 * is frozen by systemd-shutdown's SIGSTOP). */
#ifndef VT_NBD_NETLINK_H
#define VT_NBD_NETLINK_H

#include <stdint.h>

/* What a connect asks for. index < 0 lets the kernel pick a free device. */
typedef struct vt_nbd_connect {
    int index;
    int sock_fd;             /* the kernel's end of the connection */
    uint64_t size;           /* bytes */
    uint64_t block_size;     /* 512 .. 4096 */
    uint64_t server_flags;   /* NBD_FLAG_* (HAS_FLAGS added) */
} vt_nbd_connect;

/* Connects an NBD device to sock_fd. Returns the device index (>= 0), or
 * -errno with a message in err (capacity cap). */
int vt_nbd_connect_device(const vt_nbd_connect *req, char *err, size_t cap);
/* Asks the kernel to disconnect device index (it sends NBD_CMD_DISC to the
 * server and closes the connection). Returns 0 or -errno with err filled. */
int vt_nbd_disconnect_device(int index, char *err, size_t cap);

#endif
