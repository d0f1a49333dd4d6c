/* vhdboot: the core's platform hooks (allocation) on UEFI boot services. */
#include <efi.h>
#include <efilib.h>
#include "format/platform.h"

void *vb_alloc(size_t size)
{
    void *p = NULL;
    if (size == 0)
        size = 1;
    if (BS->AllocatePool(EfiLoaderData, size, &p) != EFI_SUCCESS)
        return NULL;
    SetMem(p, size, 0);
    return p;
}

void vb_free(void *ptr)
{
    if (ptr)
        BS->FreePool(ptr);
}
