/* vhdboot: the core's platform hooks on the host (libc). */
#include <stdlib.h>
#include "format/platform.h"

void *vb_alloc(size_t size)
{
    return calloc(1, size ? size : 1);
}

void vb_free(void *ptr)
{
    free(ptr);
}
