#!/bin/bash
# vhdboot fuzzing: (re)generates the seed inputs of tests/fuzz/corpus/ from
# images made here with vhdtool, qemu-img, mkntfs + the libntfs-3g builder and
# mkfs.vfat + mtools. Nothing from ../shared/data is used. Run by hand after
# `make all build/tests-tools/ntfs_build`; the output is committed (mkntfs
# stamps random serials, so a rerun gives other bytes of the same shape).
#   tests/fuzz/make_seeds.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vhdtool=$root/build/vhdtool
builder=$root/build/tests-tools/ntfs_build
corpus=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1
sep='#VBFILE#'

# seed TARGET NAME CONTROL FILE...: control byte, then the files joined by the separator.
seed() {
    local target=$1 name=$2 control=$3 first=1
    shift 3
    mkdir -p "$corpus/$target"
    {
        printf "\\x$control"
        for f in "$@"; do
            [ $first = 1 ] || printf '%s' "$sep"
            first=0
            cat "$f"
        done
    } >"$corpus/$target/seed-$name"
}

# --- VHDs: fixed, dynamic (vhdtool and qemu-img), a 3-layer differencing chain
cd "$tmp"
"$vhdtool" create fixed 32K fixed.vhd >/dev/null
"$vhdtool" write fixed.vhd 1000 --pattern 0x5a --length 3000 >/dev/null
"$vhdtool" create dynamic 256K dyn.vhd --block-size 4K >/dev/null
"$vhdtool" write dyn.vhd 0 --pattern 0x11 --length 4096 >/dev/null
"$vhdtool" write dyn.vhd 70000 --pattern 0x22 --length 700 >/dev/null
qemu-img create -q -f vpc -o subformat=dynamic qemu.vhd 4M
mkdir vms
"$vhdtool" create dynamic 128K vms/base.vhd --block-size 8K >/dev/null
"$vhdtool" write vms/base.vhd 0 --pattern 0xb0 --length 20000 >/dev/null
"$vhdtool" create diff --parent vms/base.vhd vms/mid.vhd >/dev/null
"$vhdtool" write vms/mid.vhd 8192 --pattern 0x3d --length 1536 >/dev/null
"$vhdtool" create diff --parent vms/mid.vhd vms/top.vhd >/dev/null
"$vhdtool" write vms/top.vhd 12000 --pattern 0x70 --length 9000 >/dev/null
for t in fuzz_vhd_chain fuzz_vhd_write; do
    rm -f "$corpus/$t"/seed-*
    seed $t fixed 00 fixed.vhd
    seed $t dynamic 01 dyn.vhd
    seed $t qemu-dynamic 02 qemu.vhd
    seed $t chain3 03 vms/top.vhd vms/mid.vhd vms/base.vhd
    seed $t chain2 00 vms/mid.vhd vms/base.vhd
done
# a damaged trailing footer (the copy at offset 0 still intact): chain reads use the copy
cp dyn.vhd dyn-torn.vhd
printf 'XXXX' | dd of=dyn-torn.vhd bs=1 seek=$(( $(stat -c %s dyn.vhd) - 500 )) conv=notrunc 2>/dev/null
seed fuzz_vhd_chain footer-copy 01 dyn-torn.vhd

# --- VHDX: dynamic, fixed with 4096-byte sectors, a 3-layer chain, a dirty log
# (sparse-encoded: a VHDX is a few MiB of mostly zeros)
vx() { python3 "$here/sparse_encode.py" "$1" "$tmp/$1.sparse"; }
vseed() {
    local name=$1 control=$2 first=1
    shift 2
    mkdir -p "$corpus/fuzz_vhdx"
    {
        printf "\\x$control"
        for f in "$@"; do
            [ $first = 1 ] || printf '%s' "$sep"
            first=0
            cat "$tmp/$f.sparse"
        done
    } >"$corpus/fuzz_vhdx/seed-$name"
}
rm -f "$corpus/fuzz_vhdx"/seed-*
"$vhdtool" create dynamic 8M x-dyn.vhdx --block-size 1M >/dev/null
"$vhdtool" write x-dyn.vhdx 1000 --pattern 0x5a --length 3000 >/dev/null
"$vhdtool" create fixed 2M x-fixed4k.vhdx --block-size 1M --sector-size 4096 >/dev/null
"$vhdtool" write x-fixed4k.vhdx 4096 --pattern 0x4b --length 8192 >/dev/null
mkdir -p xv
"$vhdtool" create dynamic 4M xv/base.vhdx --block-size 1M >/dev/null
"$vhdtool" write xv/base.vhdx 0 --pattern 0xb0 --length 20000 >/dev/null
"$vhdtool" create diff --parent xv/base.vhdx xv/mid.vhdx >/dev/null
"$vhdtool" write xv/mid.vhdx 8192 --pattern 0x3d --length 1536 >/dev/null
"$vhdtool" create diff --parent xv/mid.vhdx xv/top.vhdx >/dev/null
"$vhdtool" write xv/top.vhdx 12000 --pattern 0x70 --length 9000 >/dev/null
cp xv/*.vhdx .
# dirty log: one entry (seq 3, tail at itself) rewriting 4 KiB of block 0 of a copy
cp x-dyn.vhdx x-dirty.vhdx
python3 - x-dirty.vhdx <<'PY'
import struct, sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF
f = bytearray(open(sys.argv[1], 'rb').read())
guid = bytes(range(1, 17))
block0 = struct.unpack_from('<Q', f, 3 << 20)[0] & ~0xFFFFF
e = bytearray(8192)
e[0:4] = b'loge'
struct.pack_into('<IIQII16sQQ', e, 8, 8192, 0, 3, 1, 0, guid, len(f), len(f))
e[64:68] = b'desc'
struct.pack_into('<4s8sQQ', e, 68, b'\x11' * 4, b'\x11' * 8, block0 + 4096, 3)
e[4096:4100] = b'data'
struct.pack_into('<I', e, 4100, 0)
e[4104:8188] = b'\x11' * 4084
struct.pack_into('<I', e, 8188, 3)
struct.pack_into('<I', e, 4, crc32c(bytes(e)))
f[1 << 20:(1 << 20) + 8192] = e
for h in (64 << 10, 128 << 10):
    f[h + 48:h + 64] = guid
    f[h + 4:h + 8] = b'\0' * 4
    struct.pack_into('<I', f, h + 4, crc32c(bytes(f[h:h + 4096])))
open(sys.argv[1], 'wb').write(f)
PY
for f in x-dyn.vhdx x-fixed4k.vhdx base.vhdx mid.vhdx top.vhdx x-dirty.vhdx; do vx "$f"; done
vseed dynamic 00 x-dyn.vhdx
vseed dynamic-write 01 x-dyn.vhdx
vseed fixed4k-write 01 x-fixed4k.vhdx
vseed chain3 00 top.vhdx mid.vhdx base.vhdx
vseed dirty-log 00 x-dirty.vhdx
vseed dirty-log-write 01 x-dirty.vhdx

# --- NTFS: small volumes with the looked-up paths (tests/fuzz/fs_exercise.c)
# ntfs_seed NAME CMDS SIZE MKNTFS-OPTIONS...: builds (ntfs_build commands from CMDS), then blanks $LogFile and all
# but the first sector of $UpCase (never needed by the paths looked up).
ntfs_seed() {
    local name=$1 cmds=$2 size=$3
    shift 3
    rm -f "$name.img"
    truncate -s "$size" "$name.img"
    mkntfs -F -Q -q "$@" "$name.img" >/dev/null 2>&1
    "$builder" "$name.img" <"$cmds"
    local cs zero=()
    cs=$(ntfsinfo -m "$name.img" 2>/dev/null | awk '/Cluster Size:/ { print $3; exit }')
    for rec in 2 10; do
        ntfsinfo -v -i $rec "$name.img" 2>/dev/null | awk '
            /^Dumping attribute / { data = ($3 == "$DATA") }
            /Runlist:/ { rows = data; next }
            rows && NF == 3 && $1 ~ /^0x/ && $2 ~ /^0x/ { print $2, $3; next }
            { rows = 0 }' | while read -r lcn len; do
            local off=$((lcn * cs)) bytes=$((len * cs))
            [ $rec = 10 ] && { off=$((off + 512)); bytes=$((bytes - 512)); }
            echo "--zero $off:$bytes"
        done
    done >"$name.zero"
    # shellcheck disable=SC2046
    python3 "$here/sparse_encode.py" "$name.img" "$corpus/fuzz_ntfs/seed-$name" $(cat "$name.zero")
}
mkdir -p "$corpus/fuzz_ntfs" "$corpus/fuzz_fat"
rm -f "$corpus/fuzz_ntfs"/seed-* "$corpus/fuzz_fat"/seed-*
cat >plain.cmds <<'CMDS'
file /disk.vhd 3000 1
mkdir /VMS
file /VMS/base.vhd 9000 2
mkdir /VMS/lab
file /VMS/lab/child.vhd 700 3
file /Long-File-Name.txt 1500 4
mkdir /EFI
mkdir /EFI/BOOT
file /EFI/BOOT/BOOTX64.EFI 5000 5
CMDS
cp plain.cmds frag.cmds
cat >>frag.cmds <<'CMDS'
frag /frag.bin 40000 6
sparse /VMS/sparse.vhd 16384 7
uninit /VMS/lab/uninit.vhd 8192 2048 8
CMDS
ntfs_seed ntfs-plain plain.cmds 2M
ntfs_seed ntfs-frag frag.cmds 2M -c 512
# many names: the root index spills into an index allocation (B-tree)
cp plain.cmds many.cmds
for i in $(seq 1 60); do echo "file /name-with-some-length-$i.txt 10 $i"; done >>many.cmds
ntfs_seed ntfs-many many.cmds 2M -c 1024

# --- FAT12/16/32 with the same paths, a fragmented file and long names
fat_seed() {
    local name=$1 size=$2
    shift 2
    rm -f "$name.img"
    truncate -s "$size" "$name.img"
    mkfs.vfat "$@" "$name.img" >/dev/null
    head -c 3000 /dev/urandom >a; head -c 9000 /dev/urandom >b; head -c 700 /dev/urandom >c
    head -c 100 /dev/urandom >d; head -c 5000 /dev/urandom >e; head -c 1024 /dev/zero | tr '\0' 's' >s
    local img="$name.img"
    mcopy -i "$img" a ::/disk.vhd
    mmd -i "$img" ::/VMS ::/VMS/lab ::/EFI ::/EFI/BOOT
    mcopy -i "$img" b ::/VMS/base.vhd
    mcopy -i "$img" c ::/VMS/lab/child.vhd
    mcopy -i "$img" d "::/Long File Name With Spaces.txt"
    mcopy -i "$img" e ::/EFI/BOOT/BOOTX64.EFI
    for n in 1 2 3 4 5 6; do mcopy -i "$img" s ::/s$n; done
    mdel -i "$img" ::/s2 ::/s4
    head -c 6000 /dev/urandom >f
    mcopy -i "$img" f ::/frag.bin
    python3 "$here/sparse_encode.py" "$img" "$corpus/fuzz_fat/seed-$name"
}
fat_seed fat12 200K -F 12 -s 1 -n FAT12VOL
fat_seed fat16 5M -F 16 -s 2 -n FAT16VOL
fat_seed fat32 34M -F 32 -s 1 -S 512 -n FAT32VOL

# --- config files
mkdir -p "$corpus/fuzz_config"
rm -f "$corpus/fuzz_config"/seed-*
cat >"$corpus/fuzz_config/seed-full" <<'CONF'
# vhdboot.conf
timeout 3
default win

entry win
  title Windows 11 (persistent)
  vhd \vms\win11.vhd
  write persistent

entry lab
  title Lab chain, volatile
  vhd DATA:\vms\lab\child.vhd
  efi \EFI\BOOT\BOOTX64.EFI
  write volatile

entry ro
  vhd PARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4:\disks\ro.vhd
  write readonly
CONF
printf '\xef\xbb\xbftimeout 0\r\nentry a\r\n vhd relative\\a.vhd\r\n' >"$corpus/fuzz_config/seed-bom-crlf"
printf 'entry x\nvhd LABEL=My Disk:\\a\\..\\b.vhd\ntitle \xc3\xa9t\xc3\xa9\n' >"$corpus/fuzz_config/seed-label"
printf '.\\..\\base.vhd\nC:\\vms\\base.vhd\n\\\\?\\UNC\\srv\\share\\x.vhd\n\\\\.\\D:\\y.vhd\n..\\..\\..\\z.vhd\n' >"$corpus/fuzz_config/seed-paths"
du -sh "$corpus"
