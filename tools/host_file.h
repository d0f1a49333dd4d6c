/* vhdboot: host (POSIX) glue — a file as a block source, and the chain opener.
 *
 * Host paths map to core paths by making them absolute and turning '/' into
 * '\': /work/x/child.vhd <-> \work\x\child.vhd. */
#ifndef VB_HOST_FILE_H
#define VB_HOST_FILE_H

#include <stdbool.h>
#include "format/vhd.h"

/* Opens a host file as a growable block source (writes past the end extend it).
 * The source keeps a pointer to *out to update its size: leave it where it is
 * (copying the struct is fine only for read-only use). Returns
 * VB_ERR_NOT_FOUND if it does not exist, VB_ERR_WRITE_PROTECTED if writing was
 * asked for and is not permitted, VB_ERR_IO otherwise. */
vb_status host_file_open(const char *host_path, bool writable, vb_source *out);
/* Creates (truncating) a host file as a writable, growable block source. */
vb_status host_file_create(const char *host_path, vb_source *out);
/* The descriptor behind a source host_file_open/_create filled, or -1 when
 * src is not a host file (for lseek SEEK_DATA and the like, never to close). */
int host_file_fd(const vb_source *src);
/* Makes writes of 64 KiB or more allocate their blocks with one fallocate
 * before writing (on ext4 much cheaper than delayed allocation page by page).
 * For a new file written in large pieces, such as a conversion's output. */
void host_file_preallocate(vb_source *src, bool on);
/* An opener whose paths are host paths converted as above. */
extern const vb_opener host_opener;
/* Converts a host path (relative or absolute) to a core path; false if too long. */
bool host_to_core_path(const char *host_path, char *out, size_t cap);
/* Converts a core path back to a host path. */
bool core_to_host_path(const char *core_path, char *out, size_t cap);
/* Opens a VHD chain from a host path (host_opener), with diag on failure. */
vb_status host_chain_open(const char *host_path, unsigned flags, vb_chain **out, vb_diag *diag);

#endif
