/* vhdboot tests: builds NTFS test volumes with libntfs-3g, without mounting.
 *
 * usage: ntfs_build IMAGE < commands
 * One command per line (paths are UTF-8, '/'-separated, absolute):
 *   mkdir PATH                    create a directory (its parent must exist)
 *   file PATH SIZE SEED           create a file filled with a seeded pattern
 *   frag PATH SIZE SEED           same, with (nearly) one run per cluster
 *   sparse PATH SIZE SEED         file whose first half is a hole
 *   uninit PATH SIZE WRITTEN SEED file of SIZE allocated bytes, of which only
 *                                 the first WRITTEN are initialized
 * (A volume made with mkntfs -C compresses every new file.)
 * Prints nothing on success; exits 1 with a message on the first failure. */
#include <errno.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/lcnalloc.h>
#include <ntfs-3g/runlist.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

static ntfs_volume *vol;

/* Fills buf with the pattern bytes of file offsets [off, off+len) for seed. */
static void pattern(uint8_t *buf, uint64_t off, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) / 8 * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
        buf[i] = (uint8_t)(x >> (8 * ((off + i) % 8)) ^ (x >> 56));
    }
}

/* Prints a message about path and exits. */
static void die(const char *what, const char *path)
{
    fprintf(stderr, "ntfs_build: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* Splits path into its parent directory inode and last component (UTF-16). */
static ntfs_inode *open_parent(const char *path, ntfschar **uname, int *ulen)
{
    char *copy = strdup(path);
    char *slash = strrchr(copy, '/');
    if (!slash)
        die("not an absolute path:", path);
    *slash = '\0';
    ntfs_inode *dir = ntfs_pathname_to_inode(vol, NULL, *copy ? copy : "/");
    if (!dir)
        die("cannot open parent of", path);
    *uname = NULL;
    *ulen = ntfs_mbstoucs(slash + 1, uname);
    if (*ulen <= 0)
        die("cannot convert name", path);
    free(copy);
    return dir;
}

/* Creates path as a file or directory and returns its open inode. */
static ntfs_inode *create(const char *path, mode_t type)
{
    ntfschar *uname;
    int ulen;
    ntfs_inode *dir = open_parent(path, &uname, &ulen);
    ntfs_inode *ni = ntfs_create(dir, const_cpu_to_le32(0), uname, (u8)ulen, type);
    if (!ni)
        die("cannot create", path);
    ntfs_ucsfree(uname);
    ntfs_inode_close(dir);
    return ni;
}

/* Writes the pattern into [off, off+len) of an open data attribute. */
static void write_pattern(ntfs_attr *na, uint64_t off, uint64_t len, unsigned seed, const char *path)
{
    static uint8_t buf[1 << 16];
    while (len) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        pattern(buf, off, n, seed);
        if (ntfs_attr_pwrite(na, (s64)off, (s64)n, buf) != (s64)n)
            die("cannot write", path);
        off += n;
        len -= n;
    }
}

/* Opens the unnamed $DATA of ni. */
static ntfs_attr *open_data(ntfs_inode *ni, const char *path)
{
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    if (!na)
        die("cannot open data of", path);
    return na;
}

/* Creates a file allocated one cluster at a time, each asked for two
 * clusters after the previous one, so that nearly every cluster is its own
 * run (thousands of runs push $DATA into an $ATTRIBUTE_LIST). */
static void make_fragmented(const char *path, uint64_t size, unsigned seed)
{
    ntfs_inode *ni = create(path, S_IFREG);
    ntfs_attr *na = open_data(ni, path);
    uint64_t cs = vol->cluster_size, clusters = (size + cs - 1) / cs;
    uint64_t head = cs < 4096 ? 4096 : cs; /* enough to make $DATA non-resident */
    write_pattern(na, 0, head < size ? head : size, seed, path);
    if (!NAttrNonResident(na) || ntfs_attr_map_whole_runlist(na) != 0)
        die("cannot make the data non-resident:", path);
    uint64_t first = (uint64_t)na->allocated_size / cs;
    LCN lcn = -1;
    for (runlist *r = na->rl; r->length; r++)
        if (r->lcn >= 0)
            lcn = r->lcn + r->length - 1;
    for (uint64_t vcn = first; vcn < clusters; vcn++) {
        runlist *rl = ntfs_cluster_alloc(vol, (VCN)vcn, 1, lcn + 2, DATA_ZONE);
        if (!rl)
            die("cannot allocate a cluster for", path);
        lcn = rl[0].lcn;
        na->rl = ntfs_runlists_merge(na->rl, rl);
        if (!na->rl)
            die("cannot merge runlists of", path);
    }
    na->allocated_size = (s64)(clusters * cs);
    if (ntfs_attr_update_mapping_pairs(na, 0) != 0)
        die("cannot write the mapping pairs of", path);
    write_pattern(na, 0, size, seed, path);
    ntfs_attr_close(na);
    ntfs_inode_close(ni);
}

/* Runs one command line; returns 0 or exits. */
static void run(char *line)
{
    char cmd[32], path[4096];
    unsigned long long size = 0, written = 0;
    unsigned seed = 0;
    if (sscanf(line, "%31s %4095s", cmd, path) != 2)
        return;
    if (!strcmp(cmd, "mkdir")) {
        ntfs_inode_close(create(path, S_IFDIR));
        return;
    }
    if (!strcmp(cmd, "dosname")) { /* dosname PATH SHORT: add a DOS 8.3 name (the long one becomes Win32) */
        char dos[64];
        if (sscanf(line, "%*s %*s %63s", dos) != 1)
            die("bad dosname line", line);
        ntfschar *uname;
        int ulen;
        ntfs_inode *dir = open_parent(path, &uname, &ulen);
        ntfs_ucsfree(uname);
        ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, path);
        if (!ni || ntfs_set_ntfs_dos_name(ni, dir, dos, strlen(dos), 0) != 0) /* closes both inodes */
            die("cannot set the DOS name of", path);
        return;
    }
    if (!strcmp(cmd, "uninit")) {
        if (sscanf(line, "%*s %*s %llu %llu %u", &size, &written, &seed) != 3)
            die("bad uninit line", line);
    } else if (sscanf(line, "%*s %*s %llu %u", &size, &seed) != 2) {
        die("bad line", line);
    }
    if (!strcmp(cmd, "frag")) {
        make_fragmented(path, size, seed);
        return;
    }
    ntfs_inode *ni = create(path, S_IFREG);
    ntfs_attr *na = open_data(ni, path);
    if (!strcmp(cmd, "file")) {
        write_pattern(na, 0, size, seed, path);
    } else if (!strcmp(cmd, "sparse")) {
        write_pattern(na, size / 2, size - size / 2, seed, path);
    } else if (!strcmp(cmd, "uninit")) {
        write_pattern(na, 0, written, seed, path);
        if (ntfs_attr_truncate_solid(na, (s64)size) != 0)
            die("cannot extend", path);
    } else {
        die("unknown command", cmd);
    }
    ntfs_attr_close(na);
    ntfs_inode_close(ni);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ntfs_build IMAGE < commands\n");
        return 2;
    }
    setlocale(LC_ALL, "C.UTF-8");
    vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
    if (!vol)
        die("cannot mount", argv[1]);
    char line[8192];
    while (fgets(line, sizeof(line), stdin))
        run(line);
    if (ntfs_umount(vol, FALSE) != 0)
        die("cannot unmount", argv[1]);
    return 0;
}
