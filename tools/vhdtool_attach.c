/* vhdtool attach / detach: a VHD (and its whole chain) as a Linux block
 * device, through the kernel's NBD driver over a local socket pair, served
 * by the format/ core: reads through the chain, writes only into the top
 * layer with the core's crash-consistent allocation, flush = fsync.
 *
 * The server is a storage daemon: argv[0] starts with '@' (systemd's
 * shutdown spares it), its memory is locked, and PR_SET_IO_FLUSHER makes
 * its own allocations never wait for I/O on the device it serves. The
 * device is connected through NBD's generic netlink interface, so no thread
 * sits in ioctl(NBD_DO_IT) (where systemd-shutdown's SIGSTOP would freeze
 * it); one thread serves the socket, the main thread waits for it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <linux/nbd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "format/overlay.h"
#include "format/vhdx.h"
#include "tools/host_file.h"
#include "tools/loop_attach.h"
#include "tools/nbd_netlink.h"
#include "tools/nbd_server.h"
#include "tools/vhdtool.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

static const char attach_usage[] =
    "usage: vhdtool attach [--persistent | --volatile[=MAX] | --read-only] [--device /dev/nbdN]\n"
    "                      [--nbd | --direct-io] [--foreground] FILE [PARENT...]\n"
    "\n"
    "Exposes FILE (a VHD or VHDX, with its whole parent chain) as a block device through\n"
    "the kernel's NBD driver over a local socket pair, prints the device (e.g.\n"
    "/dev/nbd0) once it is ready and keeps serving it in the background until\n"
    "`vhdtool detach`. Parents are found through FILE's locators, or given in\n"
    "order (PARENT of FILE first, base last; their UUIDs are checked).\n"
    "A fixed VHD (persistent or read-only) becomes a loop device over its data\n"
    "instead (/dev/loopN, partitions scanned, no daemon): kernel-only, as fast as a\n"
    "raw file. So does a VHDX attached --read-only whose data is one run of the\n"
    "file (a fixed VHDX, a fully written dynamic one); written, a VHDX goes through\n"
    "NBD (its first write must renew the header's write GUIDs).\n"
    "\n"
    "options:\n"
    "  --persistent     writes go into FILE, the top layer (default); parents are never written\n"
    "  --volatile[=MAX] writes stay in memory, at most MAX bytes (default 256M; suffixes K M G);\n"
    "                   past it writes fail with an I/O error and one log line\n"
    "  --read-only      the block device is read-only\n"
    "  --device DEV     use /dev/nbdN (default: the first free one)\n"
    "  --nbd            serve a fixed VHD (or VHDX) through NBD too (default: a loop device over its data)\n"
    "  --direct-io      the loop device of a fixed VHD (or VHDX) bypasses the host's page cache: faster\n"
    "                   large transfers, slower small ones (default: buffered, like losetup)\n"
    "  --foreground     serve in this process (print the device, then serve until detached)\n"
    "  -h, --help       this text\n"
    "Needs the nbd module (modprobe nbd) and root. exit status: 0 attached, 1 failed, 2 usage error\n";

static const char detach_usage[] =
    "usage: vhdtool detach /dev/nbdN | /dev/loopN\n"
    "\n"
    "Flushes the device, disconnects it and waits (up to 60 s) for its server\n"
    "to write everything back and exit.\n"
    "exit status: 0 detached, 1 failed, 2 usage error\n";

enum attach_mode { MODE_PERSISTENT, MODE_VOLATILE, MODE_READONLY };

/* Everything the served disk holds, released by close_disk(). */
struct served {
    vt_disk disk;                              /* FILE with locators resolved */
    bool explicit_chain;                       /* layers below opened by hand */
    vb_source files[VB_MAX_CHAIN_DEPTH];       /* explicit chain: host files */
    vb_layer *layers[VB_MAX_CHAIN_DEPTH];
    unsigned depth;
    vb_source overlay;
    bool has_overlay;
    vb_source *top;                            /* what is served */
};

/* Opens FILE and its parents (explicit, in order, or through the locators).
 * Returns an exit code (message printed). */
static int open_disk(struct served *s, char **paths, unsigned count, enum attach_mode mode)
{
    unsigned flags = mode == MODE_PERSISTENT ? VB_OPEN_WRITABLE : 0;
    vb_diag diag;
    vt_diag_clear(&diag);
    if (count == 1) {
        vb_status st = vt_disk_open(paths[0], flags, false, &s->disk, &diag);
        if (st != VB_OK)
            return vt_diag_error(&diag, st, paths[0]);
        s->top = s->disk.src;
        return VT_EXIT_OK;
    }
    if (count > VB_MAX_CHAIN_DEPTH)
        return vt_error("more than %u layers", VB_MAX_CHAIN_DEPTH);
    s->explicit_chain = true;
    for (unsigned i = 0; i < count; i++) {
        vb_status st = vt_layer_open(paths[i], i == 0 ? flags : 0, &s->files[i], &s->layers[i], &diag);
        if (st != VB_OK)
            return vt_diag_error(&diag, st, paths[i]);
        s->depth = i + 1;
        const vb_vhd_info *info = vb_layer_info(s->layers[i]);
        bool last = i + 1 == count;
        if (last != (info->type != VB_DISK_DIFF))
            return vt_error("%s: %s", paths[i], last ? "the last layer must be fixed or dynamic"
                                                     : "only the last layer may be fixed or dynamic");
        if (i > 0) {
            const vb_vhd_info *child = vb_layer_info(s->layers[i - 1]);
            const vb_vhdx_info *cx = vb_layer_vhdx(s->layers[i - 1]);
            if (child->format != info->format)
                return vt_error("%s: a %s cannot be the parent of the %s %s (VHD and VHDX never mix in one chain)",
                                paths[i], info->format == VB_FORMAT_VHDX ? "VHDX" : "VHD",
                                child->format == VB_FORMAT_VHDX ? "VHDX" : "VHD", paths[i - 1]);
            /* a VHDX child may name its parent by parent_linkage2 as well */
            bool linked = memcmp(child->parent_uuid, info->uuid, 16) == 0 ||
                          (cx && cx->parent.has_linkage2 && memcmp(cx->parent.linkage2, info->uuid, 16) == 0);
            if (!linked)
                return vt_error("%s: not the parent of %s (UUID differs from the one the child records)", paths[i],
                                paths[i - 1]);
            if (child->disk_size != info->disk_size)
                return vt_error("%s: size differs from its child %s", paths[i], paths[i - 1]);
        }
    }
    for (unsigned i = 0; i + 1 < count; i++)
        vb_layer_set_parent(s->layers[i], vb_layer_source(s->layers[i + 1]));
    s->top = vb_layer_source(s->layers[0]);
    return VT_EXIT_OK;
}

/* Flushes and closes what open_disk opened. Returns the flush status. */
static vb_status close_disk(struct served *s)
{
    vb_status st = VB_OK;
    if (s->has_overlay)
        vb_source_close(&s->overlay);
    if (s->top && s->top->write)
        st = vb_source_flush(s->top);
    if (s->explicit_chain) {
        for (unsigned i = 0; i < s->depth; i++) {
            vb_layer_close(s->layers[i]);
            vb_source_close(&s->files[i]);
        }
    } else if (s->top) {
        vt_disk_close(&s->disk);
    }
    return st;
}

/* Lists the served chain's layers, top first, into out. Returns the count,
 * 0 when the disk is not a VHD chain (a raw file) or an overlay is served. */
static unsigned served_layers(struct served *s, vb_layer **out)
{
    if (s->has_overlay)
        return 0;
    if (s->explicit_chain) {
        for (unsigned i = 0; i < s->depth; i++)
            out[i] = s->layers[i];
        return s->depth;
    }
    if (!s->disk.is_vhd)
        return 0;
    unsigned depth = vb_chain_depth(s->disk.chain);
    for (unsigned i = 0; i < depth; i++)
        out[i] = vb_chain_layer(s->disk.chain, i);
    return depth;
}

/* The server thread: serves until the kernel disconnects. */
static void *serve_thread(void *arg)
{
    vt_nbd_server *srv = arg;
    intptr_t rc = vt_nbd_serve(srv);
    return (void *)rc;
}

/* Makes this process a storage daemon: '@' in argv[0] (spared by systemd's
 * shutdown killing), memory locked, PR_SET_IO_FLUSHER. Failures are
 * reported but not fatal (an unprivileged test still works). */
static void become_storage_daemon(char *argv0)
{
    argv0[0] = '@';
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        fprintf(stderr, "vhdtool attach: warning: cannot lock memory: %s\n", strerror(errno));
    if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
        fprintf(stderr, "vhdtool attach: warning: cannot set PR_SET_IO_FLUSHER: %s\n", strerror(errno));
}

/* Parses "/dev/nbdN" or "nbdN" or "N" into N. Returns -1 when it is none. */
static int device_index(const char *dev)
{
    const char *p = dev;
    if (!strncmp(p, "/dev/", 5))
        p += 5;
    if (!strncmp(p, "nbd", 3))
        p += 3;
    char *end;
    long v = strtol(p, &end, 10);
    return *p && !*end && v >= 0 && v < 65536 ? (int)v : -1;
}

/* Lets the kernel send requests as large as the driver allows (NBD's
 * max_sectors_kb starts below its hardware limit): fewer round trips for
 * large reads. Best effort. */
static void raise_request_size(int index)
{
    char path[96], value[32] = "";
    snprintf(path, sizeof path, "/sys/block/nbd%d/queue/max_hw_sectors_kb", index);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    bool ok = fgets(value, sizeof value, f) != NULL;
    fclose(f);
    snprintf(path, sizeof path, "/sys/block/nbd%d/queue/max_sectors_kb", index);
    if (ok && (f = fopen(path, "w")) != NULL) {
        fputs(value, f);
        fclose(f);
    }
}

/* Runs the daemon side once the disk is open: connects the device, reports
 * "/dev/nbdN" on report_fd (or an error line starting with '!'), serves,
 * closes. Returns the process exit code. */
static int run_server(struct served *s, enum attach_mode mode, uint64_t cap, int index, int report_fd)
{
    static vt_nbd_server srv;
    char line[512];
    int pair[2];
    srv.buffer = malloc(VT_NBD_MAX_REQUEST);
    if (!srv.buffer || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        snprintf(line, sizeof line, "!cannot set up the server: %s\n", strerror(errno));
        if (write(report_fd, line, strlen(line)) < 0) { /* nothing more to do */ }
        return VT_EXIT_FAIL;
    }
    memset(srv.buffer, 0, VT_NBD_MAX_REQUEST); /* touch it: locked and resident before any I/O */
    /* room for a whole 1 MiB reply (and request) in the socket: fewer wakeups per request */
    int room = 4 << 20;
    for (int i = 0; i < 2; i++) {
        if (setsockopt(pair[i], SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) != 0)
            setsockopt(pair[i], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
        if (setsockopt(pair[i], SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room) != 0)
            setsockopt(pair[i], SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
    }
    srv.fd = pair[1];
    srv.disk = s->top;
    srv.read_only = mode == MODE_READONLY;
    srv.overlay = s->has_overlay ? &s->overlay : NULL;
    srv.overlay_cap = cap;
    /* payloads spliced from and into the layer files where the chain allows */
    static vt_splice splice;
    vb_layer *layers[VB_MAX_CHAIN_DEPTH];
    unsigned depth = served_layers(s, layers);
    if (depth && vt_splice_init(&splice, layers, depth, mode == MODE_PERSISTENT) == 0)
        srv.splice = &splice;
    /* the top layer's bitmap and BAT writes wait for the kernel's flush
     * requests (vhd_write_back.c): at most three file flushes per flush
     * request instead of one or two per new block or newly marked sectors */
    if (depth && mode == MODE_PERSISTENT)
        vb_layer_set_write_back(layers[0], true);
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve_thread, &srv) != 0) {
        snprintf(line, sizeof line, "!cannot start the server thread\n");
        if (write(report_fd, line, strlen(line)) < 0) { /* nothing more to do */ }
        return VT_EXIT_FAIL;
    }
    vt_nbd_connect req = {
        .index = index,
        .sock_fd = pair[0],
        .size = s->top->size,
        .block_size = 512,
        .server_flags = NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | (mode == MODE_READONLY ? NBD_FLAG_READ_ONLY : 0),
    };
    char err[256];
    int got = vt_nbd_connect_device(&req, err, sizeof err);
    close(pair[0]); /* the kernel holds its own reference now */
    if (got < 0) {
        snprintf(line, sizeof line, "!%s\n", err);
        if (write(report_fd, line, strlen(line)) < 0) { /* nothing more to do */ }
        shutdown(pair[1], SHUT_RDWR);
        pthread_join(thread, NULL);
        return VT_EXIT_FAIL;
    }
    raise_request_size(got);
    snprintf(line, sizeof line, "/dev/nbd%d\n", got);
    if (write(report_fd, line, strlen(line)) < 0) { /* the parent went away: keep serving */ }
    if (report_fd != STDOUT_FILENO)
        close(report_fd);
    void *result = NULL;
    pthread_join(thread, &result);
    vb_status st = close_disk(s);
    close(pair[1]);
    if (srv.splice)
        vt_splice_close(&splice);
    fprintf(stderr,
            "vhdtool attach: /dev/nbd%d detached (%llu reads, %llu writes, %llu flushes, %llu errors; "
            "%llu reads and %llu writes spliced)%s\n",
            got, (unsigned long long)srv.reads, (unsigned long long)srv.writes, (unsigned long long)srv.flushes,
            (unsigned long long)srv.errors, (unsigned long long)splice.reads, (unsigned long long)splice.writes,
            st == VB_OK ? "" : "; the final flush FAILED");
    return (intptr_t)result == 0 && st == VB_OK ? VT_EXIT_OK : VT_EXIT_FAIL;
}

/* Runs "vhdtool attach". Returns an exit code (the daemon's parent returns
 * once the device is ready). */
static int run_attach(int argc, char **argv)
{
    static const struct option options[] = {
        { "persistent", no_argument, NULL, 'p' },
        { "volatile", optional_argument, NULL, 'v' },
        { "read-only", no_argument, NULL, 'r' },
        { "device", required_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "nbd", no_argument, NULL, 'n' },
        { "direct-io", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum attach_mode mode = MODE_PERSISTENT;
    uint64_t cap = 256ull << 20;
    int index = -1, modes = 0, c;
    bool foreground = false, force_nbd = false, direct = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'p': mode = MODE_PERSISTENT; modes++; break;
        case 'v':
            mode = MODE_VOLATILE;
            modes++;
            if (optarg && (!vt_parse_size(optarg, &cap) || cap == 0))
                return vt_usage_error("attach", "bad --volatile size '%s'", optarg);
            break;
        case 'r': mode = MODE_READONLY; modes++; break;
        case 'd':
            index = device_index(optarg);
            if (index < 0)
                return vt_usage_error("attach", "bad device '%s' (expected /dev/nbdN)", optarg);
            break;
        case 'f': foreground = true; break;
        case 'n': force_nbd = true; break;
        case 'D': direct = true; break;
        case 'h': fputs(attach_usage, stdout); return VT_EXIT_OK;
        default: return vt_usage_error("attach", "unknown option");
        }
    }
    if (modes > 1)
        return vt_usage_error("attach", "give one of --persistent, --volatile, --read-only");
    if (direct && force_nbd)
        return vt_usage_error("attach", "--direct-io is for the loop device of a fixed VHD, not with --nbd");
    if (optind >= argc)
        return vt_usage_error("attach", "expected FILE");
    static struct served s;
    int rc = open_disk(&s, argv + optind, (unsigned)(argc - optind), mode);
    if (rc != VT_EXIT_OK) {
        close_disk(&s);
        return rc;
    }
    if (s.top->size % 512 != 0) {
        close_disk(&s);
        return vt_error("%s: size %llu is not a multiple of 512", argv[optind], (unsigned long long)s.top->size);
    }
    if (!force_nbd && mode != MODE_VOLATILE && index < 0 && !s.explicit_chain && vb_chain_depth(s.disk.chain) == 1) {
        const vb_vhd_info *info = vb_layer_info(vb_chain_layer(s.disk.chain, 0));
        /* a fixed VHD: its data starts the file. A VHDX only read-only (its
         * first write must renew the header's write GUIDs, which a loop
         * device would not do) and only when its data is one run of the
         * file, found behind its headers and tables. */
        uint64_t offset = 0;
        bool vhd = info->format == VB_FORMAT_VHD && info->type == VB_DISK_FIXED && !info->footer_from_copy &&
                   info->footer_offset >= info->disk_size;
        bool vhdx = info->format == VB_FORMAT_VHDX && mode == MODE_READONLY &&
                    vb_vhdx_linear_data(vb_chain_layer(s.disk.chain, 0), &offset);
        if (vhd || vhdx) {
            char dev[64], err[512];
            uint64_t size = info->disk_size;
            close_disk(&s);
            if (vt_loop_attach(argv[optind], offset, size, mode == MODE_READONLY, direct, dev, sizeof dev, err,
                               sizeof err) < 0)
                return vt_error("%s", err);
            printf("%s\n", dev);
            return VT_EXIT_OK;
        }
    }
    if (direct)
        fprintf(stderr, "vhdtool attach: note: --direct-io ignored: %s is served through NBD, not a loop device\n",
                argv[optind]);
    if (mode == MODE_VOLATILE) {
        if (vb_overlay_open(s.top, &s.overlay) != VB_OK) {
            close_disk(&s);
            return vt_error("cannot make the volatile overlay: out of memory");
        }
        s.has_overlay = true;
        s.top = &s.overlay;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* glibc's pointer to the process's own argv[0] (its first byte is what
     * /proc/PID/cmdline starts with) */
    char *argv0 = program_invocation_name;
    if (foreground) {
        become_storage_daemon(argv0);
        fflush(stdout);
        return run_server(&s, mode, mode == MODE_VOLATILE ? cap : 0, index, STDOUT_FILENO);
    }
    int ready[2];
    if (pipe(ready) != 0)
        return vt_error("cannot make a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return vt_error("cannot fork: %s", strerror(errno));
    if (pid == 0) {
        close(ready[0]);
        setsid();
        if (chdir("/") != 0) { /* keep going: paths are open already */ }
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO); /* stderr stays: the log goes to the console */
            close(null);
        }
        become_storage_daemon(argv0);
        _exit(run_server(&s, mode, mode == MODE_VOLATILE ? cap : 0, index, ready[1]));
    }
    close(ready[1]);
    char line[512];
    size_t got = 0;
    while (got < sizeof line - 1) {
        ssize_t n = read(ready[0], line + got, sizeof line - 1 - got);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || errno != EINTR)
            break;
        if (memchr(line, '\n', got))
            break;
    }
    close(ready[0]);
    line[got] = '\0';
    if (got == 0)
        return vt_error("the server exited before the device was ready");
    if (line[0] == '!')
        return vt_error("%s", strtok(line + 1, "\n"));
    fputs(line, stdout);
    return VT_EXIT_OK;
}

/* Reads the pid of the NBD device's server from sysfs (0 when none). */
static pid_t server_pid(int index)
{
    char path[64];
    snprintf(path, sizeof path, "/sys/block/nbd%d/pid", index);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* Runs "vhdtool detach /dev/nbdN". Returns an exit code. */
static int run_detach(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(detach_usage, stdout);
        return VT_EXIT_OK;
    }
    if (argc != 2)
        return vt_usage_error("detach", "expected one device");
    if (!strncmp(argv[1], "/dev/loop", 9)) {
        char err[512];
        return vt_loop_detach(argv[1], err, sizeof err) == 0 ? VT_EXIT_OK : vt_error("%s", err);
    }
    int index = device_index(argv[1]);
    if (index < 0)
        return vt_usage_error("detach", "bad device '%s' (expected /dev/nbdN)", argv[1]);
    pid_t pid = server_pid(index);
    char dev[32], err[256];
    snprintf(dev, sizeof dev, "/dev/nbd%d", index);
    int fd = open(dev, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        /* flush what the page cache holds for the device, then the server's file */
        if (fsync(fd) != 0 || ioctl(fd, BLKFLSBUF, 0) != 0)
            fprintf(stderr, "vhdtool detach: warning: %s: flush failed: %s\n", dev, strerror(errno));
        close(fd);
    }
    if (vt_nbd_disconnect_device(index, err, sizeof err) < 0)
        return vt_error("%s", err);
    if (pid <= 0)
        return VT_EXIT_OK;
    for (int i = 0; i < 600; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return VT_EXIT_OK;
        /* a zombie child of ours would never go: reap it */
        struct timespec t = { 0, 100 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    return vt_error("%s: the server (pid %ld) is still running after 60 s", dev, (long)pid);
}

const vt_command vt_cmd_attach = {
    .name = "attach",
    .summary = "expose a VHD chain as a Linux block device (/dev/nbdN), served in the background",
    .run_argv = run_attach,
};

const vt_command vt_cmd_detach = {
    .name = "detach",
    .summary = "flush and disconnect a device made by attach",
    .run_argv = run_detach,
};
