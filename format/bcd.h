/* vhdboot: Boot Configuration Data (BCD) stores — Windows' boot manager
 * configuration, a registry hive: \Objects\{GUID}\Description\Type and
 * \Objects\{GUID}\Elements\TTTTTTTT\Element for each element type T.
 *
 * Element types and object types: Microsoft's BCD WMI provider reference
 * (BcdElementType, BcdLibraryElementTypes, BcdBootMgrElementTypes,
 * BcdOSLoaderElementTypes, BcdObjectType). The element type's bits 28-31
 * are its class, 24-27 its format (1 device, 2 string, 3 object, 4 object
 * list, 5 integer, 6 boolean, 7 integer list), which sets the registry type
 * of "Element": REG_BINARY for device, integer, boolean and integer list;
 * REG_SZ for string and object; REG_MULTI_SZ for object list. */
#ifndef VB_BCD_H
#define VB_BCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "disk_id.h"
#include "regf.h"

/* Well-known objects (Microsoft: "BCD Objects" / bcdedit /? ID). */
#define VB_BCD_BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define VB_BCD_GLOBALSETTINGS "{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}"
#define VB_BCD_BOOTLOADERSETTINGS "{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}"
#define VB_BCD_RESUMELOADERSETTINGS "{1afa9c49-16ab-4a5c-901b-212802da9460}"
/* The loader entry vhdboot generates (a fixed GUID of this project). */
#define VB_BCD_VHDBOOT_ENTRY "{5668d0b7-8e1c-4e2a-9c3d-766864626f6f}"

/* Object types (BcdObjectType): application objects 0x1, inherit 0x2. */
#define VB_BCD_OBJ_BOOTMGR 0x10100002u       /* firmware boot manager */
#define VB_BCD_OBJ_OSLOADER 0x10200003u      /* Windows boot loader */
#define VB_BCD_OBJ_RESUME 0x10200004u
#define VB_BCD_OBJ_INHERIT_ANY 0x20100000u   /* e.g. {globalsettings} */
#define VB_BCD_OBJ_INHERIT_OSLOADER 0x20200003u
#define VB_BCD_OBJ_INHERIT_RESUME 0x20200004u

/* Element types used here. */
#define VB_BCDE_APP_DEVICE 0x11000001u       /* BcdLibraryDevice_ApplicationDevice */
#define VB_BCDE_APP_PATH 0x12000002u         /* BcdLibraryString_ApplicationPath */
#define VB_BCDE_DESCRIPTION 0x12000004u      /* BcdLibraryString_Description */
#define VB_BCDE_LOCALE 0x12000005u           /* BcdLibraryString_PreferredLocale */
#define VB_BCDE_INHERIT 0x14000006u          /* BcdLibraryObjectList_InheritedObjects */
#define VB_BCDE_OS_DEVICE 0x21000001u        /* BcdOSLoaderDevice_OSDevice */
#define VB_BCDE_SYSTEM_ROOT 0x22000002u      /* BcdOSLoaderString_SystemRoot */
#define VB_BCDE_DEFAULT 0x23000003u          /* BcdBootMgrObject_DefaultObject */
#define VB_BCDE_DISPLAY_ORDER 0x24000001u    /* BcdBootMgrObjectList_DisplayOrder */
#define VB_BCDE_TIMEOUT 0x25000004u          /* BcdBootMgrInteger_Timeout */
#define VB_BCDE_NX 0x25000020u               /* BcdOSLoaderInteger_NxPolicy */
#define VB_BCDE_DISPLAY_MENU 0x26000020u     /* BcdBootMgrBoolean_DisplayBootMenu */

/* Element format: bits 24-27 of the type. */
static inline unsigned vb_bcd_format(uint32_t type) { return (type >> 24) & 0xF; }

/* ---- device data (bcd_device.c) ---- */

enum vb_bcd_device_kind {
    VB_BCD_DEV_OTHER = 0,         /* a device kind we do not decode */
    VB_BCD_DEV_PARTITION,         /* partition=... */
    VB_BCD_DEV_VHD,               /* vhd=[partition]\path (locate in a virtual disk file) */
    VB_BCD_DEV_BOOT,              /* boot */
};

typedef struct vb_bcd_device {
    enum vb_bcd_device_kind kind;
    uint32_t raw_type;            /* the outer descriptor's type */
    vb_disk_id partition;         /* PARTITION, and VHD: the partition holding the file */
    char path[1024];              /* VHD: the file's path on that partition (UTF-8) */
    uint32_t locate_element;      /* VHD: the element located inside the virtual disk */
} vb_bcd_device;

/* Encodes partition=<id> as a device element value into out (capacity cap);
 * *len = bytes. VB_ERR_INVALID_ARG when out is too small. */
vb_status vb_bcd_encode_partition(const vb_disk_id *id, uint8_t *out, size_t cap, size_t *len);
/* Encodes vhd=[<id>]<path> (path UTF-8, starting with a backslash), locating
 * locate_element (the application path or system root) inside the disk. */
vb_status vb_bcd_encode_vhd(const vb_disk_id *id, const char *path, uint32_t locate_element,
                            uint8_t *out, size_t cap, size_t *len);
/* Decodes a device element value (hostile input). Unknown kinds give
 * VB_BCD_DEV_OTHER with raw_type set; truncated or inconsistent data gives
 * VB_ERR_BCD_ELEMENT. */
vb_status vb_bcd_decode_device(const uint8_t *data, size_t len, vb_bcd_device *out);

/* ---- building a store (bcd_build.c) ---- */

typedef struct vb_bcd_desc {
    vb_disk_id host;              /* the host partition holding the VHD file */
    const char *vhd_path;         /* its path there: "\vhd\win11.vhd" (UTF-8) */
    const char *title;            /* loader entry description (NULL: "Windows (VHD)") */
    const char *winload;          /* NULL: \Windows\system32\winload.efi */
    const char *system_root;      /* NULL: \Windows */
    const char *locale;           /* NULL: en-US */
} vb_bcd_desc;

/* Builds a complete BCD store for one Windows-in-a-VHD entry: {bootmgr}
 * (default and display order = the entry, timeout 0, no menu), the loader
 * entry with VHD application and OS devices, {globalsettings},
 * {bootloadersettings} and {resumeloadersettings}. *out from vb_alloc. */
vb_status vb_bcd_build(const vb_bcd_desc *desc, uint64_t timestamp, uint8_t **out, size_t *len);

/* ---- reading a store (bcd_read.c) ---- */

typedef struct vb_bcd_entry {
    char id[40];                  /* object GUID text */
    char description[256];
    char app_path[512];
    char system_root[512];
    vb_bcd_device app_device;
    vb_bcd_device os_device;
    bool has_app_device, has_os_device;
} vb_bcd_entry;

/* Reads element `type` of object `object` ("{...}") as raw bytes into out
 * (capacity cap); *len = bytes, *reg_type = the registry value type. */
vb_status vb_bcd_element(const vb_regf *hive, const char *object, uint32_t type,
                         uint8_t *out, size_t cap, uint32_t *len, uint32_t *reg_type);
/* Finds {bootmgr}'s default object and decodes its loader elements. */
vb_status vb_bcd_default_entry(const vb_regf *hive, vb_bcd_entry *out);

/* ---- text (bcd_text.c) ---- */

/* A readable name for an element type ("device", "path", ...) or NULL. */
const char *vb_bcd_element_name(uint32_t type);
/* A readable name for a well-known object GUID ("{bootmgr}") or NULL. */
const char *vb_bcd_object_alias(const char *guid);
/* Renders an element's value as text (device decoded, strings, GUID lists,
 * integers, booleans; hex otherwise) into out (capacity cap, truncated). */
void vb_bcd_format_value(uint32_t type, uint32_t reg_type, const uint8_t *data, uint32_t len,
                         char *out, size_t cap);

#endif
