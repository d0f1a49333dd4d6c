/* blkbench: read throughput of a block device, for the guest benchmark of
 * vhdtool attach (tests/bench/attach_bench.sh; linked statically into a
 * busybox initramfs). O_DIRECT reads, so the page cache never answers.
 *   blkbench seq DEV MIB      reads the first MIB MiB in 1 MiB requests; prints MiB/s
 *   blkbench rand DEV COUNT   COUNT random 4 KiB reads (fixed seed) over the device; prints reads/s
 * Prints one line: "<mode> <figure> <unit> <seconds> s". Exit 1 on any error. */
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

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "seq") && strcmp(argv[1], "rand"))) {
        fprintf(stderr, "usage: blkbench seq DEV MIB | rand DEV COUNT\n");
        return 2;
    }
    int fd = open(argv[2], O_RDONLY | O_DIRECT);
    uint64_t size = 0;
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0 || size < (1u << 20)) {
        perror(argv[2]);
        return 1;
    }
    long n = strtol(argv[3], NULL, 10);
    void *buf;
    if (n <= 0 || posix_memalign(&buf, 4096, 1u << 20) != 0)
        return 2;
    double t0 = now();
    if (!strcmp(argv[1], "seq")) {
        if ((uint64_t)n << 20 > size)
            n = (long)(size >> 20);
        for (long i = 0; i < n; i++)
            if (pread(fd, buf, 1u << 20, (off_t)i << 20) != 1 << 20) {
                perror("read");
                return 1;
            }
        double s = now() - t0;
        printf("seq %.1f MiB/s %.3f s\n", n / s, s);
    } else {
        uint64_t x = 0x9e3779b97f4a7c15ull, blocks = size / 4096;
        for (long i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) {
                perror("read");
                return 1;
            }
        }
        double s = now() - t0;
        printf("rand %.0f reads/s %.3f s\n", n / s, s);
    }
    close(fd);
    return 0;
}
