/* vhdboot: what the portable core needs from its platform.
 *
 * The core never allocates or prints by itself. The host (tools/, tests/)
 * and the firmware (efi/) each provide these two functions. */
#ifndef VB_PLATFORM_H
#define VB_PLATFORM_H

#include <stddef.h>

/* Allocates size bytes, zero-filled; returns NULL on failure. */
void *vb_alloc(size_t size);
/* Frees what vb_alloc returned; NULL is allowed. */
void vb_free(void *ptr);

#endif
