#!/bin/bash
# vhdtool install with a plain folder as the ESP: files and their bytes,
# the starter config kept on a second run, the removable path, refusals,
# and the efibootmgr calls (findmnt, lsblk and efibootmgr replaced by
# recording stand-ins on PATH: nothing touches the real firmware).
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
ESP=$T_TMP/esp
LOADER=$T_TMP/loader.efi
mkdir -p "$ESP"
{ printf 'MZ'; head -c 4096 /dev/urandom; } >"$LOADER"

expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then t_ok "$name"; else t_fail "$name" "exit $rc, expected $want: $*"; sed 's/^/# /' "$T_TMP/err" "$T_TMP/out" | head -8; fi
}

expect_rc "install --help exits 0" 0 "$VHDTOOL" install --help
t_grep "install --help prints its usage" "^usage: vhdtool install --esp DIR" "$T_TMP/out"
expect_rc "install without --esp is a usage error" 2 "$VHDTOOL" install
expect_rc "install to a missing folder fails" 1 "$VHDTOOL" install --esp "$T_TMP/none" --loader "$LOADER" --no-efibootmgr
t_grep "the failure names the folder" "none: no such folder" "$T_TMP/err"
echo "not a PE file" >"$T_TMP/junk.efi"
expect_rc "a loader without an MZ header is refused" 1 "$VHDTOOL" install --esp "$ESP" --loader "$T_TMP/junk.efi" --no-efibootmgr
t_check "nothing was installed after the refusal" test ! -e "$ESP/EFI"

expect_rc "install copies the loader" 0 "$VHDTOOL" install --esp "$ESP" --loader "$LOADER" --no-efibootmgr
t_check "the loader is \\EFI\\vhdboot\\vhdbootx64.efi, byte for byte" cmp "$LOADER" "$ESP/EFI/vhdboot/vhdbootx64.efi"
t_grep "a starter config with discovery on" "^discover on" "$ESP/EFI/vhdboot/vhdboot.conf"
t_grep "the starter config sets a timeout" "^timeout [0-9]+" "$ESP/EFI/vhdboot/vhdboot.conf"
t_check "no temporary files are left" bash -c '! ls "$1"/EFI/vhdboot | grep -q "\.new$"' _ "$ESP"

echo "entry mine" >"$ESP/EFI/vhdboot/vhdboot.conf"
{ printf 'MZ'; head -c 100 /dev/urandom; } >"$T_TMP/loader2.efi"
expect_rc "a second install succeeds" 0 "$VHDTOOL" install --esp "$ESP" --loader "$T_TMP/loader2.efi" --no-efibootmgr
t_check "the loader is replaced" cmp "$T_TMP/loader2.efi" "$ESP/EFI/vhdboot/vhdbootx64.efi"
t_eq "an existing vhdboot.conf is never overwritten" "entry mine" "$(cat "$ESP/EFI/vhdboot/vhdboot.conf")"
t_grep "the run says it kept the config" "kept the existing" "$T_TMP/out"

expect_rc "--removable installs to the fallback path" 0 "$VHDTOOL" install --esp "$ESP" --loader "$LOADER" --removable
t_check "the loader is \\EFI\\BOOT\\BOOTX64.EFI" cmp "$LOADER" "$ESP/EFI/BOOT/BOOTX64.EFI"
t_grep "the removable install gets its own config next to it" "^discover on" "$ESP/EFI/BOOT/vhdboot.conf"

# The default loader is vhdboot.efi next to the vhdtool binary.
ESP2=$T_TMP/esp2
mkdir -p "$ESP2"
expect_rc "without --loader, vhdboot.efi next to vhdtool is used" 0 "$VHDTOOL" install --esp "$ESP2" --no-efibootmgr
t_check "that loader was copied" cmp "$T_BUILD/vhdboot.efi" "$ESP2/EFI/vhdboot/vhdbootx64.efi"

# --- efibootmgr, with recording stand-ins ------------------------------------
FAKE=$T_TMP/fakebin
mkdir -p "$FAKE"
CALLS=$T_TMP/calls
cat >"$FAKE/findmnt" <<'SH'
#!/bin/sh
echo "findmnt $*" >>"$CALLS"; echo "/dev/fakedisk0p3"
SH
cat >"$FAKE/lsblk" <<'SH'
#!/bin/sh
echo "lsblk $*" >>"$CALLS"; echo "fakedisk0"
SH
cat >"$FAKE/efibootmgr" <<'SH'
#!/bin/sh
printf "efibootmgr %s\n" "$*" >>"$CALLS"
if [ $# -eq 0 ]; then
    printf 'BootCurrent: 0001\nBootOrder: 0004,0001\nBoot0001* Debian\tHD(1,GPT)\nBoot0004* Lab PC\tHD(3,GPT)/File(\\EFI\\vhdboot\\vhdbootx64.efi)\nBoot0005* Lab PC2\tHD(3,GPT)\n'
fi
exit 0
SH
chmod +x "$FAKE"/*
export CALLS
: >"$CALLS"
expect_rc "install with a boot entry (stand-in tools)" 0 env PATH="$FAKE:$PATH" "$VHDTOOL" install --esp "$ESP" --loader "$LOADER" --label "Lab PC"
t_grep "findmnt is asked for the ESP's device" "^findmnt -n -o SOURCE --target $ESP\$" "$CALLS"
t_grep "lsblk is asked for the partition's disk" "^lsblk -n -d -o PKNAME /dev/fakedisk0p3\$" "$CALLS"
t_grep "the old entry with the same label is deleted" "^efibootmgr -q -b 0004 -B\$" "$CALLS"
t_check "an entry whose label only starts the same is kept" bash -c '! grep -q -- "-b 0005" "$1"' _ "$CALLS"
t_grep "the new entry names disk, partition, label and loader" \
    '^efibootmgr -q --create --disk /dev/fakedisk0 --part 3 --label Lab PC --loader \\EFI\\vhdboot\\vhdbootx64.efi$' "$CALLS"

: >"$CALLS"
expect_rc "--removable creates no boot entry" 0 env PATH="$FAKE:$PATH" "$VHDTOOL" install --esp "$ESP" --loader "$LOADER" --removable
t_check "no tool was run for --removable" test ! -s "$CALLS"
printf '#!/bin/sh\nexit 1\n' >"$FAKE/findmnt"
expect_rc "an ESP that is not a mount point fails" 1 env PATH="$FAKE:$PATH" "$VHDTOOL" install --esp "$ESP" --loader "$LOADER"
t_grep "the failure says findmnt could not tell" "findmnt cannot tell" "$T_TMP/err"
exit $T_FAILED
