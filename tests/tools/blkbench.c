/* blkbench: read and write throughput of a block device, for the guest
 * benchmark of vhdtool attach (tests/bench/attach_bench.sh; linked
 * statically into a busybox initramfs). O_DIRECT, so the page cache never
 * answers; a write run ends with fsync (the device's flush), inside the time.
 *   blkbench seq DEV MIB      reads the first MIB MiB in 1 MiB requests; prints MiB/s
 *   blkbench rand DEV COUNT   COUNT random 4 KiB reads (fixed seed) over the device; prints reads/s
 *   blkbench seqw DEV MIB     writes the first MIB MiB in 1 MiB requests; prints MiB/s
 *   blkbench randw DEV COUNT  COUNT random 4 KiB writes (another fixed seed); prints writes/s
 * Writes carry a non-zero pattern. Prints one line: "<mode> <figure> <unit>
 * <seconds> s". Exit 1 on any error. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Moves one request: a read or a write of len bytes at off. Returns whether all of it moved. */
static int io(int fd, int write_mode, void *buf, size_t len, off_t off)
{
    ssize_t n = write_mode ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
    if (n != (ssize_t)len) {
        perror(write_mode ? "write" : "read");
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 4 ? argv[1] : "";
    int seq = !strcmp(mode, "seq") || !strcmp(mode, "seqw");
    int rand_mode = !strcmp(mode, "rand") || !strcmp(mode, "randw");
    int writing = mode[0] && mode[strlen(mode) - 1] == 'w';
    if (!seq && !rand_mode) {
        fprintf(stderr, "usage: blkbench seq|seqw DEV MIB | rand|randw DEV COUNT\n");
        return 2;
    }
    int fd = open(argv[2], (writing ? O_RDWR : O_RDONLY) | O_DIRECT);
    uint64_t size = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0 || size < (1u << 20)) {
        perror(argv[2]);
        return 1;
    }
    long n = strtol(argv[3], NULL, 10);
    void *buf;
    if (n <= 0 || posix_memalign(&buf, 4096, 1u << 20) != 0)
        return 2;
    memset(buf, 0xA5, 1u << 20);
    double t0 = now();
    if (seq) {
        if ((uint64_t)n << 20 > size)
            n = (long)(size >> 20);
        for (long i = 0; i < n; i++)
            if (!io(fd, writing, buf, 1u << 20, (off_t)i << 20))
                return 1;
    } else {
        uint64_t x = writing ? 0x2545f4914f6cdd1dull : 0x9e3779b97f4a7c15ull, blocks = size / 4096;
        for (long i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (!io(fd, writing, buf, 4096, (off_t)((x % blocks) * 4096)))
                return 1;
        }
    }
    if (writing && fsync(fd) != 0) {
        perror("fsync");
        return 1;
    }
    double s = now() - t0;
    if (seq)
        printf("%s %.1f MiB/s %.3f s\n", mode, n / s, s);
    else
        printf("%s %.0f %s/s %.3f s\n", mode, n / s, writing ? "writes" : "reads", s);
    close(fd);
    return 0;
}
