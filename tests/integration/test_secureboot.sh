#!/bin/bash
# Secure Boot: OVMF with the Debian snakeoil keys enrolled (PK/KEK/db) and
# Secure Boot enforced. vhdboot.efi is signed with the snakeoil key; the host
# ESP holds two payload VHDs: one whose \EFI\BOOT\BOOTX64.EFI is unsigned,
# one whose payload is signed with the same key. In one boot:
#   entry 1 (unsigned inner boot manager): the firmware refuses it, vhdboot
#     prints "vhdboot: error: Secure Boot refused ..." and returns to the menu;
#   entry 2 (signed): it starts and prints PAYLOAD: PASS.
# Plus source checks: the loader loads images only through device paths
# (LoadImage never gets a source buffer, which would bypass the path-based
# policy of some firmware) and never writes the Secure Boot variables.
. "$(dirname "$0")/lib.sh"

SB_CODE=${SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
SB_VARS=${SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd}
SB_KEY=${SB_KEY:-/usr/share/ovmf/PkKek-1-snakeoil.key}
SB_CERT=${SB_CERT:-/usr/share/ovmf/PkKek-1-snakeoil.pem}
W=$T_TMP

# --- source checks (need no QEMU) --------------------------------------------
# Every LoadImage call in the firmware code passes NULL, 0 as SourceBuffer/SourceSize.
calls=$(cat "$T_ROOT"/loader/*.c "$T_ROOT"/efi/*.c | tr '\n' ' ' | grep -oE 'LoadImage *\([^;]*;' || true)
total=$(grep -c . <<<"$calls" || true)
by_path=$(grep -cE 'LoadImage *\( *[^,]+, *[^,]+, *[^,]+, *NULL *, *0 *,' <<<"$calls" || true)
if [ "$total" -ge 1 ] && [ "$total" = "$by_path" ]; then
    t_ok "source: all $total LoadImage call(s) load from a device path, never from a memory buffer"
else
    t_fail "source: all LoadImage calls load from a device path, never from a memory buffer" "calls: $calls"
fi
# No Secure Boot variable name appears in the firmware code, as source or in the binary.
sbvars='L"(SecureBoot|SetupMode|AuditMode|DeployedMode|PK|KEK|db|dbx|dbt|dbr|MokList[A-Za-z]*)"'
if hits=$(grep -nE -- "$sbvars|EFI_IMAGE_SECURITY_DATABASE_GUID|gEfiImageSecurityDatabaseGuid" \
    "$T_ROOT"/loader/*.[ch] "$T_ROOT"/efi/*.[ch]); then
    t_fail "source: the loader never names a Secure Boot variable" "$hits"
else
    t_ok "source: the loader never names a Secure Boot variable"
fi
if [ -s "$T_BUILD/vhdboot.efi" ] && ! python3 - "$T_BUILD/vhdboot.efi" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
names = ["SecureBoot", "SetupMode", "AuditMode", "DeployedMode"]
sys.exit(1 if any(n.encode("utf-16-le") + b"\0\0" in data for n in names) else 0)
EOF
then
    t_fail "binary: vhdboot.efi holds no Secure Boot variable name"
else
    t_ok "binary: vhdboot.efi holds no Secure Boot variable name"
fi

# --- the firmware scenario ----------------------------------------------------
it_require_qemu
[ -r "$SB_CODE" ] && [ -r "$SB_VARS" ] || t_need "Secure Boot OVMF ($SB_CODE, $SB_VARS) missing (package ovmf)"
t_need_tools sbsign
[ -r "$SB_KEY" ] || t_need "$SB_KEY missing (package ovmf)"

# sign IN OUT: signs an EFI binary with the snakeoil key.
openssl pkey -in "$SB_KEY" -passin pass:snakeoil -out "$W/db.key" 2>/dev/null || it_setup_fail "decrypt the snakeoil key"
sign() { sbsign --key "$W/db.key" --cert "$SB_CERT" --output "$2" "$1" >/dev/null 2>&1; }
sign "$T_BUILD/vhdboot.efi" "$W/vhdboot-signed.efi" || it_setup_fail "sign vhdboot.efi"
sign "$T_BUILD/payload.efi" "$W/payload-signed.efi" || it_setup_fail "sign payload.efi"
sbverify --cert "$SB_CERT" "$W/payload-signed.efi" >/dev/null 2>&1 || it_setup_fail "sbverify the signed payload"

guest_payload "$W/unsigned.img" || it_setup_fail "unsigned payload guest"
guest_payload "$W/signed.img" &&
    mcopy -o -i "$W/signed.img@@1M" "$W/payload-signed.efi" ::/EFI/BOOT/BOOTX64.EFI || it_setup_fail "signed payload guest"
vhd_from_raw "$W/unsigned.img" "$W/unsigned.vhd" dynamic && vhd_from_raw "$W/signed.img" "$W/signed.vhd" dynamic ||
    it_setup_fail "payload VHDs"
ESP=$W/esp.img
esp_create "$ESP" 64 &&
    mcopy -o -i "$ESP@@1M" "$W/vhdboot-signed.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    esp_put "$ESP" "$W/unsigned.vhd" /vms/unsigned.vhd &&
    esp_put "$ESP" "$W/signed.vhd" /vms/signed.vhd || it_setup_fail "host ESP image"
esp_conf "$ESP" <<'EOF' || it_setup_fail "vhdboot.conf"
timeout 30
default unsigned
entry unsigned
  title Unsigned payload
  vhd \vms\unsigned.vhd
  write volatile
entry signed
  title Signed payload
  vhd \vms\signed.vhd
  write volatile
EOF

# QEMU with SMM and a secure flash: the Secure Boot OVMF build needs both.
cat >"$W/qemu-secboot" <<EOF
#!/bin/sh
exec $QEMU -machine smm=on -global driver=cfi.pflash01,property=secure,value=on "\$@"
EOF
chmod +x "$W/qemu-secboot"
IT_STOP='PAYLOAD: FAIL|^Shell> |X64 Exception Type'
QEMU=$W/qemu-secboot OVMF_CODE=$SB_CODE OVMF_VARS=$SB_VARS IT_LIMIT=120 \
    it_boot secureboot "$ESP" 'booting Unsigned payload in [0-9]+ s' '1' '1:^vhdboot: returning to menu' '2'

segment() { awk -v n="$1" '/^vhdboot: opening /{ k++ } k == n' "$IT_LOG"; }
it_expect "secure boot: signed vhdboot starts" '^vhdboot menu'
seg=$(segment 1)
if grep -q '^vhdboot: installed disk' <<<"$seg" && grep -q '^vhdboot: starting ' <<<"$seg"; then
    t_ok "secure boot: unsigned inner refused after the disk was installed"
else
    t_fail "secure boot: unsigned inner refused after the disk was installed" "$(head -n 8 <<<"$seg")"
fi
if grep -qE '^vhdboot: error: Secure Boot refused \\EFI\\BOOT\\BOOTX64\.EFI' <<<"$seg"; then
    t_ok "secure boot: error names Secure Boot and the file"
else
    t_fail "secure boot: error names Secure Boot and the file" "$(grep -E 'error|PAYLOAD' <<<"$seg" | head -n 5)"
fi
if grep -q '^vhdboot: returning to menu' <<<"$seg"; then t_ok "secure boot: back at the menu"; else
    t_fail "secure boot: back at the menu"; fi
if grep -qE -- "$IT_GUEST_OUTPUT" <<<"$seg"; then t_fail "secure boot: nothing started" "$(grep -E -- "$IT_GUEST_OUTPUT" <<<"$seg")"
else t_ok "secure boot: nothing started"; fi
seg=$(segment 2)
if [ "$IT_RC" -eq 0 ] && grep -q '^PAYLOAD: PASS' <<<"$seg"; then
    t_ok "secure boot: signed inner starts: PAYLOAD: PASS"
else
    t_fail "secure boot: signed inner starts: PAYLOAD: PASS" "($(qemu_verdict $IT_RC)); last lines:"
    tail -n 15 "$IT_LOG" | sed 's/^/#   /'
fi
exit $T_FAILED
