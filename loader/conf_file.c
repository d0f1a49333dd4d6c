/* vhdboot: loads vhdboot.conf next to the loader (see conf_file.h). */
#include <efi.h>
#include <efilib.h>
#include "conf_file.h"
#include "efi/efi_file_source.h"
#include "efi/efi_volume.h"
#include "format/bytes.h"
#include "format/platform.h"
#include "format/vhd.h"

bool vb_loader_folder_file(const char *loader_path, const char *name, char *out, size_t cap)
{
    size_t len = vb_strlen(loader_path), cut = 0;
    for (size_t i = 0; i < len; i++)
        if (loader_path[i] == '\\')
            cut = i;
    if (cut + 2 + vb_strlen(name) > cap)
        return false;
    vb_memcpy(out, loader_path, cut);
    out[cut] = '\\';
    vb_strlcpy(out + cut + 1, name, cap - cut - 1);
    return true;
}

vb_status vb_conf_file_load(EFI_HANDLE loader_device, const char *loader_path, vb_config *cfg, vb_diag *diag)
{
    char path[VB_PATH_MAX];
    EFI_FILE_HANDLE root;
    efi_file_opener opener;
    vb_source file = { 0 };
    if (!vb_loader_folder_file(loader_path, VB_CONF_NAME, path, sizeof path))
        return vb_fail(diag, VB_ERR_INVALID_ARG, "%s: loader path too long", loader_path);
    vb_status st = efi_volume_open_root(loader_device, &root, diag);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot open the loader's volume", path);
    efi_file_opener_init(&opener, root);
    st = opener.opener.open(opener.opener.ctx, path, false, &file);
    if (st != VB_OK) {
        root->Close(root);
        return vb_fail(diag, st, "%s: cannot open: %s", path, vb_status_message(st));
    }
    char *text = NULL;
    if (file.size > VB_CONF_MAX_BYTES) {
        st = vb_fail(diag, VB_ERR_CONFIG, "%s: larger than %u bytes", path, VB_CONF_MAX_BYTES);
    } else if (!(text = vb_alloc((size_t)file.size + 1))) {
        st = vb_fail(diag, VB_ERR_NO_MEMORY, "%s: out of memory", path);
    } else if ((st = vb_source_read(&file, 0, text, (size_t)file.size)) != VB_OK) {
        vb_fail(diag, st, "%s: cannot read: %s", path, vb_status_message(st));
    } else {
        st = vb_config_parse(text, (size_t)file.size, path, cfg, diag);
    }
    vb_free(text);
    vb_source_close(&file);
    root->Close(root);
    return st;
}
