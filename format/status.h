/* vhdboot: the one status enum of the portable core, with a message for each. */
#ifndef VB_STATUS_H
#define VB_STATUS_H

typedef enum vb_status {
    VB_OK = 0,
    /* generic */
    VB_ERR_IO,               /* the underlying device or file failed */
    VB_ERR_NO_MEMORY,
    VB_ERR_INVALID_ARG,      /* caller error: bad offset, length, flag */
    VB_ERR_OUT_OF_RANGE,     /* access beyond the end of a disk or file */
    VB_ERR_WRITE_PROTECTED,  /* write to a read-only source */
    VB_ERR_UNSUPPORTED,      /* valid but not supported here */
    VB_ERR_NOT_FOUND,        /* file or path does not exist */
    VB_ERR_NO_SPACE,         /* host file cannot grow (e.g. NTFS extent map) */
    /* VHD footer */
    VB_ERR_TRUNCATED,        /* file too small to hold what it claims */
    VB_ERR_BAD_COOKIE,       /* no "conectix" footer */
    VB_ERR_FOOTER_CHECKSUM,
    VB_ERR_BAD_VERSION,
    VB_ERR_BAD_DISK_TYPE,
    VB_ERR_BAD_DISK_SIZE,    /* zero, not sector aligned, or > 2040 GiB */
    VB_ERR_BAD_DATA_OFFSET,
    /* dynamic header */
    VB_ERR_BAD_HEADER_COOKIE,
    VB_ERR_HEADER_CHECKSUM,
    VB_ERR_BAD_BLOCK_SIZE,
    VB_ERR_BAD_TABLE,        /* BAT entries / offset inconsistent, outside file, overlaps metadata */
    VB_ERR_BAD_BAT_ENTRY,    /* a block lies past the footer, overflows or overlaps */
    VB_ERR_BAD_LOCATOR,      /* locator offset/length out of range or undecodable */
    VB_ERR_BAD_PARENT_NAME,
    /* chains */
    VB_ERR_PARENT_NOT_FOUND,
    VB_ERR_PARENT_UUID,
    VB_ERR_PARENT_SIZE,
    VB_ERR_CHAIN_CYCLE,
    VB_ERR_CHAIN_TOO_DEEP,
    VB_ERR_PATH_ESCAPES_ROOT,
    VB_ERR_NOT_DIFFERENCING,
    /* host file systems (fs/) */
    VB_ERR_FS_CORRUPT,
    VB_ERR_FS_UNSUPPORTED,    /* compressed / encrypted / sparse file */
    VB_ERR_FS_NOT_RECOGNISED,
    /* configuration */
    VB_ERR_CONFIG,
    /* registry hives and BCD stores */
    VB_ERR_HIVE_CORRUPT,
    VB_ERR_BCD_ELEMENT,      /* a BCD element is malformed or of an unexpected kind */
    /* VHDX (MS-VHDX) */
    VB_ERR_VHDX_FILE_ID,       /* no "vhdxfile" identifier */
    VB_ERR_VHDX_HEADER,        /* both headers damaged (signature, CRC-32C or fields) */
    VB_ERR_VHDX_VERSION,       /* header version / log version not supported */
    VB_ERR_VHDX_REGION_TABLE,  /* both region tables damaged */
    VB_ERR_VHDX_REGION,        /* a region's offset or length is invalid or outside the file */
    VB_ERR_VHDX_REGION_OVERLAP,/* two regions (or a region and the log/headers) overlap */
    VB_ERR_VHDX_REGION_UNKNOWN,/* a required region this reader does not know */
    VB_ERR_VHDX_METADATA,      /* metadata table damaged or an item out of the region */
    VB_ERR_VHDX_META_UNKNOWN,  /* a required metadata item this reader does not know */
    VB_ERR_VHDX_META_MISSING,  /* a required metadata item is absent */
    VB_ERR_VHDX_SECTOR_SIZE,   /* logical/physical sector size not 512 or 4096 */
    VB_ERR_VHDX_BAT_SIZE,      /* BAT region too small for the disk (chunk ratio arithmetic) */
    VB_ERR_VHDX_BAT_STATE,     /* a BAT entry with a reserved or misplaced state */
    VB_ERR_VHDX_BITMAP_MISSING,/* a partially present block without its sector bitmap */
    VB_ERR_VHDX_LOG,           /* log region invalid or no usable active sequence */
    VB_ERR_VHDX_LOG_ENTRY,     /* a log entry writes outside the file or the headers */
    VB_ERR_VHDX_LOG_TRUNCATED, /* log says the file was longer (FlushedFileOffset) */
    VB_ERR_VHDX_PARENT_LINKAGE,/* parent's DataWriteGuid is not the child's parent_linkage */
    VB_ERR_CHAIN_MIXED,        /* a VHD and a VHDX in one chain */
    VB_ERR_PARENT_SECTOR_SIZE, /* parent's logical sector size differs from the child's */
    /* the user */
    VB_ERR_CANCELLED,         /* stopped by a key (Esc) */
    VB_STATUS_COUNT
} vb_status;

/* Returns a short English message for a status (never NULL). */
const char *vb_status_message(vb_status status);

#endif
