/* vhdboot: Boot Loader Interface variables (see bli.h). */
#include <efi.h>
#include <efilib.h>
#include "bli.h"
#include "vars.h"
#include "efi/efi_devpath.h"
#include "efi/efi_text.h"
#include "format/bytes.h"
#include "format/diag.h"
#include "format/platform.h"
#include "format/utf.h"

EFI_GUID vb_bli_guid = { 0x4a67b082, 0x0a4c, 0x41cf, { 0xb6, 0xc7, 0x44, 0x0b, 0x29, 0xbb, 0x8c, 0x4f } };
#define bli_guid vb_bli_guid

/* LoaderFeatures bits (Boot Loader Interface) that vhdboot honours. */
#define BLI_FEATURE_ENTRY_DEFAULT (1ull << 2)
#define BLI_FEATURE_ENTRY_ONESHOT (1ull << 3)
static UINT64 ticks_per_ms;   /* time-stamp counter rate, 0 until calibrated */
static UINT64 start_usec;     /* vb_bli_now_usec() when vb_bli_start ran */

/* Reads the CPU's time-stamp counter. */
static UINT64 read_tsc(void)
{
    return __builtin_ia32_rdtsc();
}

UINT64 vb_bli_now_usec(void)
{
    if (ticks_per_ms == 0)
        return 0;
    return read_tsc() / ticks_per_ms * 1000 + read_tsc() % ticks_per_ms * 1000 / ticks_per_ms;
}

UINT64 vb_bli_elapsed_usec(void)
{
    UINT64 now = vb_bli_now_usec();
    return now > start_usec ? now - start_usec : 0;
}

/* Sets a BLI string variable (volatile). */
static void set_string(const CHAR16 *name, const char *value)
{
    vb_var_set_string(&bli_guid, name, value, VB_VAR_ATTR_VOLATILE);
}

/* Sets a BLI variable to a decimal microsecond count. */
static void set_usec(const CHAR16 *name, UINT64 usec)
{
    char text[32];
    if (usec == 0)
        return;
    vb_format(text, sizeof text, "%llu", (unsigned long long)usec);
    set_string(name, text);
}

void vb_bli_start(EFI_HANDLE loader_device, const char *loader_info)
{
    char text[160], firmware[96];
    UINT64 before = read_tsc();
    BS->Stall(1000);
    UINT64 after = read_tsc();
    ticks_per_ms = after > before ? after - before : 0;
    start_usec = vb_bli_now_usec();
    set_usec(L"LoaderTimeInitUSec", start_usec);

    set_string(L"LoaderInfo", loader_info);
    uint8_t features[8];
    uint64_t bits = BLI_FEATURE_ENTRY_DEFAULT | BLI_FEATURE_ENTRY_ONESHOT; /* 64-bit little-endian */
    vb_put_le32(features, (uint32_t)bits);
    vb_put_le32(features + 4, (uint32_t)(bits >> 32));
    vb_var_set_raw(&bli_guid, L"LoaderFeatures", features, sizeof features, VB_VAR_ATTR_VOLATILE);
    if (ST->FirmwareVendor && efi_char16_to_utf8(ST->FirmwareVendor, firmware, sizeof firmware) == VB_OK) {
        vb_format(text, sizeof text, "%s %u.%02u", firmware, (unsigned)(ST->FirmwareRevision >> 16),
                  (unsigned)(ST->FirmwareRevision & 0xffff));
        set_string(L"LoaderFirmwareInfo", text);
    }
    vb_format(text, sizeof text, "UEFI %u.%02u", (unsigned)(ST->Hdr.Revision >> 16),
              (unsigned)(ST->Hdr.Revision & 0xffff));
    set_string(L"LoaderFirmwareType", text);

    EFI_DEVICE_PATH *path = loader_device ? DevicePathFromHandle(loader_device) : NULL;
    if (path && efi_devpath_partuuid(path, text))
        set_string(L"LoaderDevicePartUUID", text);
}

void vb_bli_entries(const vb_config *cfg)
{
    size_t cap = 0;
    for (unsigned i = 0; i < cfg->count; i++)
        cap += (vb_strlen(cfg->entries[i].id) + 1) * 2;
    if (cap == 0)
        return;
    uint8_t *data = vb_alloc(cap);
    if (!data)
        return;
    size_t used = 0;
    for (unsigned i = 0; i < cfg->count; i++) {
        size_t units = 0;
        if (vb_utf8_to_utf16(cfg->entries[i].id, false, data + used, cap - used - 2, &units) != VB_OK) {
            vb_free(data);
            return;
        }
        used += units * 2;
        vb_put_le16(data + used, 0);
        used += 2;
    }
    vb_var_set_raw(&bli_guid, L"LoaderEntries", data, used, VB_VAR_ATTR_VOLATILE);
    vb_free(data);
}

void vb_bli_selected(const char *id)
{
    set_string(L"LoaderEntrySelected", id);
    set_usec(L"LoaderTimeExecUSec", vb_bli_now_usec());
}
