#!/bin/bash
# Host volumes read straight from the disk: VHDs on an NTFS partition of a
# second disk (MBR; OVMF itself cannot read NTFS) and on the FAT ESP (GPT),
# each file read through its extent map. Five boots:
#   linux      systemd-boot + Debian kernel in a dynamic VHD on NTFS, selected
#              by LABEL; `write persistent-or-volatile` falls back to volatile
#   cross      a chain whose child is on the FAT ESP (by its GPT PARTUUID) and
#              whose base is on NTFS; persistent: the payload's write allocates
#              a new block in the child through the firmware's FAT driver
#   newblock   the same child on NTFS (by its MBR PARTUUID), persistent: the
#              write needs a new VHD block, which NTFS cannot give: the loader
#              says so, the payload fails, the file is untouched
#   ntfsfrag   a fixed VHD fragmented into thousands of NTFS runs (bare path:
#              not on the loader's ESP, found on NTFS), persistent: writes go
#              straight to its extents
#   fatfrag    a fixed VHD fragmented into >= 1000 FAT32 runs on the ESP
#              (bare path; volatile, so it is read through its extent map)
. "$(dirname "$0")/lib.sh"
it_require_qemu

NTFS_BUILD=$T_BUILD/tests-tools/ntfs_build
t_need_tools mkntfs ntfscp ntfsinfo ntfscat sgdisk mshowfat
[ -x "$NTFS_BUILD" ] || t_need "$NTFS_BUILD not built (make test-build, after ntfs-3g-dev)"

W=$T_TMP
ESP=$W/esp.img
DATA=$W/data.img             # second disk: MBR, partition 1 NTFS "DATA"
NTFS=$W/ntfs.img             # the NTFS volume, built apart, then copied in
NTFS_MIB=160
MARK_SECTORS=16
export QEMU_DISK2=$DATA

# --- guests -----------------------------------------------------------------
guest_payload "$W/full.img" || it_setup_fail "payload guest disk"
read -r P2_FIRST P2_COUNT < <(guest_part2 "$W/full.img")
MARK_OFFSET=$((P2_FIRST * 512))
# base: the pattern's first half only; the child adds the second half, so the
# marker sectors (at the start of partition 2) are in a block the child lacks.
cp "$W/full.img" "$W/half.img" &&
    dd if=/dev/zero of="$W/half.img" bs=512 seek=$((P2_FIRST + P2_COUNT / 2)) count=$((P2_COUNT - P2_COUNT / 2)) \
        conv=notrunc status=none || it_setup_fail "half-pattern image"
mkdir -p "$W/tree/vms/lab"
t_check "chain: dynamic base (first half of the pattern)" vhd_from_raw "$W/half.img" "$W/tree/vms/base.vhd" dynamic
t_check "chain: differencing child (second half)" \
    vhd_diff_layer "$W/tree/vms/base.vhd" "$W/tree/vms/lab/child.vhd" "$W/half.img" "$W/full.img"
t_check "fixed payload VHD for the fragmented files" vhd_from_raw "$W/full.img" "$W/frag.vhd" fixed
guest_sdboot "$W/sd.img" NTFS-LINUX || it_setup_fail "systemd-boot guest disk"
t_check "systemd-boot guest -> dynamic VHD" vhd_from_raw "$W/sd.img" "$W/sd.vhd" dynamic

# --- the NTFS volume ----------------------------------------------------------
# ntfs_runs PATH: prints the "VCN LCN LENGTH" rows (hex) of PATH's $DATA runlist.
ntfs_runs() {
    ntfsinfo -v -F "$1" "$NTFS" 2>/dev/null | awk '
        /^Dumping attribute / { data = ($3 == "$DATA") }
        /Runlist:/ { rows = data; next }
        rows && NF == 3 && $1 ~ /^0x/ { if ($2 ~ /^0x/) print $1, $2, $3; next }
        { rows = 0 }'
}

# ntfs_fill PATH SRC: overwrites the data of PATH (same size as SRC, made by
# ntfs_build) with SRC's bytes, run by run, at the clusters ntfsinfo reports.
ntfs_fill() {
    local cs
    cs=$(ntfsinfo -m "$NTFS" 2>/dev/null | awk '/Cluster Size:/ { print $3; exit }')
    [ -n "$cs" ] || return 1
    ntfs_runs "$1" | python3 -c '
import sys
cs, src, img = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(src, "rb") as s, open(img, "r+b") as d:
    size = s.seek(0, 2)
    for line in sys.stdin:
        vcn, lcn, n = (int(x, 16) for x in line.split())
        s.seek(vcn * cs); d.seek(lcn * cs)
        d.write(s.read(min(n * cs, size - vcn * cs)))' "$cs" "$2" "$NTFS"
}

make_ntfs() {
    rm -f "$NTFS" && truncate -s "${NTFS_MIB}M" "$NTFS" &&
        mkntfs -F -Q -q -L DATA -c 4096 -p 2048 "$NTFS" >/dev/null 2>&1 &&
        printf 'mkdir /vms\nmkdir /vms/lab\nfrag /vms/frag.vhd %s 7\n' "$(stat -c %s "$W/frag.vhd")" | "$NTFS_BUILD" "$NTFS" &&
        ntfs_fill /vms/frag.vhd "$W/frag.vhd" &&
        ntfscp -q "$NTFS" "$W/sd.vhd" /vms/sd.vhd &&
        ntfscp -q "$NTFS" "$W/tree/vms/base.vhd" /vms/base.vhd &&
        ntfscp -q "$NTFS" "$W/tree/vms/lab/child.vhd" /vms/lab/child.vhd
}
make_ntfs || it_setup_fail "NTFS volume with the VHDs"
ntfscat "$NTFS" /vms/frag.vhd | cmp -s - "$W/frag.vhd" && t_ok "NTFS: the fragmented VHD reads back as written (ntfscat)" ||
    t_fail "NTFS: the fragmented VHD reads back as written (ntfscat)"
NTFS_RUNS=$(ntfs_runs /vms/frag.vhd | wc -l)
if [ "$NTFS_RUNS" -ge 1000 ]; then t_ok "NTFS: the fragmented VHD has $NTFS_RUNS runs (>= 1000)"; else
    t_fail "NTFS: the fragmented VHD has >= 1000 runs" "ntfsinfo lists $NTFS_RUNS"; fi

# MBR (sgdisk makes GPT, then converts it); Linux-style PARTUUID: the disk
# signature (bytes 440-443, little-endian) and the partition number.
rm -f "$DATA" && truncate -s $((NTFS_MIB + 2))M "$DATA" &&
    sgdisk -n 1:2048:+"${NTFS_MIB}M" -t 1:0700 "$DATA" >/dev/null && sgdisk -m 1 "$DATA" >/dev/null 2>&1 &&
    printf '\x4d\x3c\x2b\x1a' | dd of="$DATA" bs=1 seek=440 conv=notrunc status=none &&
    dd if="$NTFS" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "second disk with the NTFS partition"
MBR_PARTUUID=$(printf '%08x-01' "$(od -An -tu4 -j440 -N4 "$DATA")")
# ntfs_file PATH OUT: copies PATH out of the NTFS partition of the second disk.
ntfs_file() {
    dd if="$DATA" of="$W/ntfs-now.img" bs=1M skip=1 count="$NTFS_MIB" status=none &&
        ntfscat "$W/ntfs-now.img" "$1" >"$2"
}
ntfs_file /vms/lab/child.vhd "$W/child-before.vhd"
ntfs_file /vms/base.vhd "$W/base-before.vhd"

# --- the host ESP: a FAT32 file fragmented into >= 1000 runs --------------------
# Fill the data area with one-cluster files, delete every other one, reset
# the FSInfo next-free hint (both copies), then copy the VHD into the holes.
esp_create "$ESP" 256 || it_setup_fail "host ESP image"
fat_fragment() {
    local dir=$W/small cs n=1100
    # cluster size = bytes per sector (offset 11) * sectors per cluster (13)
    cs=$(( $(od -An -tu2 -j $((1048576 + 11)) -N2 "$ESP") * $(od -An -tu1 -j $((1048576 + 13)) -N1 "$ESP") ))
    rm -rf "$dir" && mkdir -p "$dir" && head -c $((cs * 2 * n)) /dev/urandom >"$dir/all" &&
        (cd "$dir" && split -a 4 -d -b "$cs" all s && rm all) &&
        mmd -i "$ESP@@1M" ::/fill && mcopy -i "$ESP@@1M" "$dir"/s* ::/fill/ &&
        (cd "$dir" && ls s* | awk 'NR % 2 == 1 { print "::/fill/" $0 }') | xargs mdel -i "$ESP@@1M" || return 1
    local off
    for off in $((1048576 + 512 + 0x1EC)) $((1048576 + 512 * 7 + 0x1EC)); do
        printf '\xff\xff\xff\xff' | dd of="$ESP" bs=1 seek=$off conv=notrunc status=none || return 1
    done
    rm -rf "$dir"
    esp_put "$ESP" "$W/frag.vhd" /vms/fatfrag.vhd
}
fat_fragment || it_setup_fail "fragmented FAT32 file on the ESP"
FAT_RUNS=$(mshowfat -i "$ESP@@1M" ::/vms/fatfrag.vhd | grep -o '<[0-9-]*>' | wc -l)
if [ "$FAT_RUNS" -ge 1000 ]; then t_ok "FAT32: the fragmented VHD has $FAT_RUNS runs (>= 1000)"; else
    t_fail "FAT32: the fragmented VHD has >= 1000 runs" "mshowfat lists $FAT_RUNS"; fi
esp_put "$ESP" "$W/tree/vms/lab/child.vhd" /vms/lab/child.vhd || it_setup_fail "copy the child to the ESP"
ESP_PARTUUID=$(sgdisk -i 1 "$ESP" | awk '/Partition unique GUID:/ { print $4 }')

# --- boots ------------------------------------------------------------------------
printf 'timeout 0\ndefault one\nentry one\n  title Linux on NTFS\n  vhd DATA:\\vms\\sd.vhd\n  write persistent-or-volatile\n' |
    esp_conf "$ESP"
it_boot ntfs-linux "$ESP"
it_expect_guest "linux: systemd-boot + kernel from a VHD on NTFS (by LABEL): GUEST-MARKER" '^GUEST-MARKER: NTFS-LINUX$'
it_expect "linux: persistent-or-volatile falls back: NTFS cannot grow the file" \
    "^vhdboot: DATA:.vms.sd\.vhd: NTFS volume 'DATA' cannot grow the file; writes go to memory instead \(volatile\)"
it_expect "linux: the disk is attached volatile" '^vhdboot: installed disk of 64 MiB \(volatile\)'

it_conf_single "Chain across volumes" "$ESP_PARTUUID:\\vms\\lab\\child.vhd" persistent | esp_conf "$ESP"
it_boot ntfs-cross "$ESP"
it_expect_guest "cross: child on the FAT ESP (by GPT PARTUUID), base on NTFS: PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "cross: the loader opened 2 layers" '^vhdboot: opened chain of 2 layer'
it_expect "cross: the payload's write succeeded" '^PAYLOAD: write ok'
# child_markers VHD_COPY: markers in the 16 sectors, read through the chain
# (the base copy next to it).
child_markers() {
    mkdir -p "$W/check/vms/lab" && cp "$W/base-before.vhd" "$W/check/vms/base.vhd" &&
        cp "$1" "$W/check/vms/lab/child.vhd" &&
        "$VHDTOOL" read "$W/check/vms/lab/child.vhd" "$MARK_OFFSET" $((MARK_SECTORS * 512)) 2>/dev/null |
        grep -ao VHDBOOT-WRITE-OK | wc -l
}
esp_get "$ESP" /vms/lab/child.vhd "$W/child-esp.vhd"
t_eq "cross: the child on the ESP holds the 512 markers (a new block through the FAT driver)" 512 \
    "$(child_markers "$W/child-esp.vhd")"
ntfs_file /vms/base.vhd "$W/base-now.vhd"
t_check "cross: the base on NTFS is unchanged" cmp -s "$W/base-before.vhd" "$W/base-now.vhd"

it_conf_single "New block on NTFS" "PARTUUID=$MBR_PARTUUID:\\vms\\lab\\child.vhd" persistent | esp_conf "$ESP"
it_boot ntfs-newblock "$ESP"
it_expect "newblock: the child found on NTFS by its MBR PARTUUID; the payload's write fails" \
    '^PAYLOAD: FAIL write: Device Error'
it_expect "newblock: the loader names the file and why" \
    "^vhdboot: error: DATA:.vms.lab.child\.vhd: write needs a new block but NTFS volume 'DATA' cannot grow the file"
t_eq "newblock: the loader said it once" 1 "$(grep -c 'cannot grow the file' "$IT_LOG")"
it_reject "newblock: no write reported success" '^PAYLOAD: (PASS|write ok)'
ntfs_file /vms/lab/child.vhd "$W/child-now.vhd"
t_check "newblock: the child on NTFS is byte for byte unchanged" cmp -s "$W/child-before.vhd" "$W/child-now.vhd"

it_conf_single "Fragmented on NTFS" '\vms\frag.vhd' persistent | esp_conf "$ESP"
it_boot ntfs-frag "$ESP"
it_expect_guest "ntfsfrag: fixed VHD in $NTFS_RUNS NTFS runs, found by a bare path off the ESP: PAYLOAD: PASS" \
    '^PAYLOAD: PASS'
it_expect "ntfsfrag: attached persistent" '^vhdboot: installed disk of 16 MiB \(persistent\)'
it_expect "ntfsfrag: the payload's write succeeded" '^PAYLOAD: write ok'
ntfs_file /vms/frag.vhd "$W/frag-now.vhd"
t_eq "ntfsfrag: the file on NTFS holds the 512 markers (written to its extents)" 512 \
    "$("$VHDTOOL" read "$W/frag-now.vhd" "$MARK_OFFSET" $((MARK_SECTORS * 512)) 2>/dev/null | grep -ao VHDBOOT-WRITE-OK | wc -l)"
t_check "ntfsfrag: vhdtool check passes on the written file" "$VHDTOOL" check "$W/frag-now.vhd"

it_conf_single "Fragmented on FAT32" '\vms\fatfrag.vhd' volatile | esp_conf "$ESP"
it_boot fat-frag "$ESP"
it_expect_guest "fatfrag: fixed VHD in $FAT_RUNS FAT32 runs: PAYLOAD: PASS" '^PAYLOAD: PASS'
t_check "fatfrag: volatile: the file on the ESP is unchanged" cmp -s <(mtype -i "$ESP@@1M" ::/vms/fatfrag.vhd) "$W/frag.vhd"
exit $T_FAILED
