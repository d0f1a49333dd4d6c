/* vhdtool: the kernel-only path for a fixed VHD — a loop device over the
 * file's first size bytes (a fixed VHD's data; the footer follows), or over
 * a read-only fixed VHDX's data where it is one run of the file, buffered
 * (direct I/O on request), its partitions scanned. Measured in the guest
 * benchmark at the speed of a loop device over a raw file (README). */
#ifndef VT_LOOP_ATTACH_H
#define VT_LOOP_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Binds a free loop device to size bytes of path from byte offset on
 * (read-only when read_only; direct I/O when direct and the file system
 * allows it, else buffered) and writes its name ("/dev/loopN") into dev
 * (capacity cap). Returns 0 or -errno with a message in err. */
int vt_loop_attach(const char *path, uint64_t offset, uint64_t size, bool read_only, bool direct, char *dev, size_t cap,
                   char *err, size_t ecap);
/* Flushes and releases loop device dev (one already released is fine).
 * Returns 0 or -errno with err filled. */
int vt_loop_detach(const char *dev, char *err, size_t ecap);

#endif
