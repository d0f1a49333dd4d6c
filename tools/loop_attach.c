/* vhdtool: a fixed VHD (or a read-only fixed VHDX) behind a loop device (see loop_attach.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "tools/loop_attach.h"

int vt_loop_attach(const char *path, uint64_t offset, uint64_t size, bool read_only, bool direct, char *dev, size_t cap,
                   char *err, size_t ecap)
{
    int mode = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        int e = errno;
        snprintf(err, ecap, "/dev/loop-control: %s (is the loop module loaded?)", strerror(e));
        return -e;
    }
    int file = open(path, mode);
    if (file < 0) {
        int e = errno;
        close(ctl);
        snprintf(err, ecap, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = -EBUSY;
    /* another program may take the free device first: try a few times */
    for (int attempt = 0; attempt < 8 && rc == -EBUSY; attempt++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            rc = -errno;
            break;
        }
        snprintf(dev, cap, "/dev/loop%d", n);
        int lfd = open(dev, mode);
        if (lfd < 0) {
            rc = -errno;
            break;
        }
        struct loop_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.fd = (uint32_t)file;
        cfg.block_size = 512;
        cfg.info.lo_offset = offset;
        cfg.info.lo_sizelimit = size;
        /* partitions appear as /dev/loopNpM, as on an NBD device */
        cfg.info.lo_flags = LO_FLAGS_PARTSCAN | (direct ? LO_FLAGS_DIRECT_IO : 0) | (read_only ? LO_FLAGS_READ_ONLY : 0);
        snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", path);
        rc = ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0 ? 0 : -errno;
        if (rc == -EINVAL && direct) { /* no direct I/O on this file system (tmpfs): buffered */
            cfg.info.lo_flags &= ~(uint32_t)LO_FLAGS_DIRECT_IO;
            rc = ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0 ? 0 : -errno;
        }
        close(lfd);
    }
    close(file);
    close(ctl);
    if (rc < 0)
        snprintf(err, ecap, "cannot bind a loop device to %s: %s", path, strerror(-rc));
    return rc;
}

int vt_loop_detach(const char *dev, char *err, size_t ecap)
{
    int fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, ecap, "%s: %s", dev, strerror(e));
        return -e;
    }
    if (fsync(fd) != 0)
        fprintf(stderr, "vhdtool detach: warning: %s: flush failed: %s\n", dev, strerror(errno));
    int rc = ioctl(fd, LOOP_CLR_FD, 0) == 0 ? 0 : -errno;
    if (rc == -ENXIO)
        rc = 0; /* already released (by someone else, or autoclear): the state asked for */
    close(fd);
    if (rc < 0)
        snprintf(err, ecap, "cannot release %s: %s", dev, strerror(-rc));
    return rc;
}
