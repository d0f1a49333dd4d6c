/* vhdboot: the systemd Boot Loader Interface — volatile variables under
 * 4a67b082-0a4c-41cf-b6c7-440b29bb8c4f that tell Linux (bootctl status,
 * systemd-analyze) what the loader did. All strings are NUL-terminated
 * UTF-16; attributes BOOTSERVICE_ACCESS | RUNTIME_ACCESS. */
#ifndef VB_LOADER_BLI_H
#define VB_LOADER_BLI_H

#include <efi.h>
#include "config.h"

/* The Boot Loader Interface's vendor GUID. LoaderEntryOneShot (deleted
 * once read) and LoaderEntryDefault under it hold an entry id as
 * NUL-terminated UTF-16 (what `bootctl set-oneshot ID` / `set-default ID`
 * write); loader/main.c honours them after VhdbootNext / VhdbootDefault. */
extern EFI_GUID vb_bli_guid;

/* Records LoaderTimeInitUSec, LoaderInfo, LoaderFeatures (entry default and
 * one-shot honoured), LoaderFirmwareInfo/Type and
 * LoaderDevicePartUUID (when the loader's volume is a GPT partition).
 * loader_info is e.g. "vhdboot 1.2". Call once, early. Failures are ignored: the variables are informative. */
void vb_bli_start(EFI_HANDLE loader_device, const char *loader_info);
/* Publishes LoaderEntries (the ids of cfg's entries, each NUL-terminated). */
void vb_bli_entries(const vb_config *cfg);
/* Publishes LoaderEntrySelected = id and LoaderTimeExecUSec; call right
 * before the inner boot file is started. */
void vb_bli_selected(const char *id);
/* Microseconds since the CPU's time-stamp counter started (about power-on),
 * calibrated against the firmware's Stall; 0 before vb_bli_start. */
UINT64 vb_bli_now_usec(void);
/* Microseconds since vb_bli_start (the loader's start, as
 * LoaderTimeInitUSec); 0 before it. */
UINT64 vb_bli_elapsed_usec(void);

#endif
