/* vhdboot: messages for vb_status. */
#include "status.h"

static const char *const messages[VB_STATUS_COUNT] = {
    [VB_OK] = "success",
    [VB_ERR_IO] = "I/O error",
    [VB_ERR_NO_MEMORY] = "out of memory",
    [VB_ERR_INVALID_ARG] = "invalid argument",
    [VB_ERR_OUT_OF_RANGE] = "access beyond the end of the disk",
    [VB_ERR_WRITE_PROTECTED] = "write protected",
    [VB_ERR_UNSUPPORTED] = "not supported",
    [VB_ERR_NOT_FOUND] = "not found",
    [VB_ERR_NO_SPACE] = "host file cannot grow to allocate a new block",
    [VB_ERR_TRUNCATED] = "file is truncated",
    [VB_ERR_BAD_COOKIE] = "not a VHD (no 'conectix' footer)",
    [VB_ERR_FOOTER_CHECKSUM] = "footer checksum mismatch",
    [VB_ERR_BAD_VERSION] = "unsupported VHD version",
    [VB_ERR_BAD_DISK_TYPE] = "unknown disk type",
    [VB_ERR_BAD_DISK_SIZE] = "invalid disk size",
    [VB_ERR_BAD_DATA_OFFSET] = "invalid data offset in footer",
    [VB_ERR_BAD_HEADER_COOKIE] = "no 'cxsparse' dynamic header",
    [VB_ERR_HEADER_CHECKSUM] = "dynamic header checksum mismatch",
    [VB_ERR_BAD_BLOCK_SIZE] = "invalid block size",
    [VB_ERR_BAD_TABLE] = "invalid block allocation table",
    [VB_ERR_BAD_BAT_ENTRY] = "block allocation table entry out of range",
    [VB_ERR_BAD_LOCATOR] = "invalid parent locator",
    [VB_ERR_BAD_PARENT_NAME] = "invalid parent name",
    [VB_ERR_PARENT_NOT_FOUND] = "parent not found",
    [VB_ERR_PARENT_UUID] = "parent UUID differs",
    [VB_ERR_PARENT_SIZE] = "parent size differs from child",
    [VB_ERR_CHAIN_CYCLE] = "parent chain has a cycle",
    [VB_ERR_CHAIN_TOO_DEEP] = "parent chain too deep",
    [VB_ERR_PATH_ESCAPES_ROOT] = "parent path climbs above the volume root",
    [VB_ERR_NOT_DIFFERENCING] = "not a differencing disk",
    [VB_ERR_FS_CORRUPT] = "file system structure is corrupt",
    [VB_ERR_FS_UNSUPPORTED] = "file is compressed, encrypted or sparse",
    [VB_ERR_FS_NOT_RECOGNISED] = "file system not recognised",
    [VB_ERR_CONFIG] = "configuration error",
    [VB_ERR_CANCELLED] = "cancelled",
};

const char *vb_status_message(vb_status status)
{
    if ((unsigned)status >= VB_STATUS_COUNT || !messages[status])
        return "unknown error";
    return messages[status];
}
