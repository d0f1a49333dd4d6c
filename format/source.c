/* vhdboot: checked helpers around the block-source interface. */
#include "source.h"

vb_status vb_source_read(vb_source *src, uint64_t offset, void *buf, size_t len)
{
    if (offset > src->size || len > src->size - offset)
        return VB_ERR_OUT_OF_RANGE;
    if (len == 0)
        return VB_OK;
    return src->read(src->ctx, offset, buf, len);
}

vb_status vb_source_write(vb_source *src, uint64_t offset, const void *buf, size_t len)
{
    if (!src->write)
        return VB_ERR_WRITE_PROTECTED;
    if (len == 0)
        return VB_OK;
    if (offset > UINT64_MAX - len)
        return VB_ERR_OUT_OF_RANGE;
    return src->write(src->ctx, offset, buf, len);
}

vb_status vb_source_flush(vb_source *src)
{
    return src->flush ? src->flush(src->ctx) : VB_OK;
}

void vb_source_close(vb_source *src)
{
    if (src->close)
        src->close(src->ctx);
    src->ctx = NULL;
    src->read = NULL;
    src->write = NULL;
    src->flush = NULL;
    src->close = NULL;
    src->size = 0;
}
