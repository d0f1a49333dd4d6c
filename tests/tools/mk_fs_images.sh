#!/bin/bash
# vhdboot tests: builds the NTFS and FAT volumes the fs/ unit tests read, and
# their oracles, into OUTDIR (no mounting, no root).
#   mk_fs_images.sh OUTDIR ntfs|ntfs-hostile|fat
# Writes IMAGE.img for each volume and, per checked file, ORACLE.runs
# ("VCN LCN LENGTH" hex rows from ntfsinfo -v -F, $DATA only) or ORACLE.chain
# (mshowfat output), plus ORACLE.data (the file's bytes from ntfscat/mcopy).
# Exits 77 when a tool is missing (the tests count it as a failure: `make deps`
# installs every tool), 1 on failure.
set -eu
out=$1 kind=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
builder=$root/build/tests-tools/ntfs_build
mkdir -p "$out"
export MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8

need() { for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { echo "missing tool: $t" >&2; exit 77; }; done; }

# ntfs_vol NAME SIZE MKNTFS-OPTIONS...: an empty NTFS volume.
ntfs_vol() {
    local img=$out/$1.img
    rm -f "$img"
    truncate -s "$2" "$img"
    shift 2
    mkntfs -F -Q -q "$@" "$img" >/dev/null 2>&1
}

# ntfs_oracle NAME PATH ORACLE [nodata]: runlist rows of PATH's $DATA and its bytes.
ntfs_oracle() {
    local img=$out/$1.img
    ntfsinfo -v -F "$2" "$img" 2>/dev/null | awk '
        /^Dumping attribute / { data = ($3 == "$DATA") }
        /Runlist:/ { rows = data; next }
        rows && NF == 3 && $1 ~ /^0x/ { if ($2 ~ /^0x/) print $1, $2, $3; next }
        { rows = 0 }' >"$out/$3.runs"
    [ "${4:-}" = nodata ] || ntfscat "$img" "$2" >"$out/$3.data"
}

# fat_oracle IMAGE PATH ORACLE: mshowfat chain and bytes.
fat_oracle() {
    mshowfat -i "$out/$1.img" "::$2" >"$out/$3.chain"
    mcopy -n -i "$out/$1.img" "::$2" "$out/$3.data"
}

# small_files IMAGE COUNT SIZE: copies COUNT small files to the root of
# IMAGE in one go, then deletes every other one (free-space holes).
small_files() {
    local dir=$out/small
    rm -rf "$dir"; mkdir "$dir"
    pattern_file "$dir/all" $(($2 * $3)) "small$1"
    split -a 3 -d -b "$3" "$dir/all" "$dir/s"
    rm "$dir/all"
    mcopy -i "$out/$1.img" "$dir"/s* ::/
    (cd "$dir" && ls s* | awk 'NR % 2 == 1 { print "::/" $0 }') | xargs mdel -i "$out/$1.img"
    rm -rf "$dir"
}

# pattern_file FILE SIZE SEED: deterministic, non-repeating content.
pattern_file() {
    head -c "$2" < <(openssl enc -aes-128-ctr -nosalt -pass "pass:$3" -pbkdf2 -in /dev/zero 2>/dev/null) >"$1"
}

if [ "$kind" = ntfs ]; then
    need mkntfs ntfsinfo ntfscat
    [ -x "$builder" ] || { echo "missing $builder (make build/tests-tools/ntfs_build)" >&2; exit 77; }
    # 512-byte sectors and clusters: deep directories, $UpCase names, thousands
    # of runs with a non-resident $ATTRIBUTE_LIST, a large directory (B-tree).
    ntfs_vol n512 40M -s 512 -c 512 -L "Vol512 Ä"
    {
        echo "mkdir /Dir"; echo "mkdir /Dir/Sub"; echo "mkdir /Dir/Sub/Deep"
        echo "file /Dir/Sub/Deep/a.vhd 300000 1"
        echo "mkdir /Äpfel"; echo "file /Äpfel/σίσυφος.vhd 70001 2"
        echo "frag /frag.vhd 3800000 3"
        echo "sparse /sparse.bin 200000 4"
        echo "uninit /uninit.bin 300000 100000 5"
        echo "file /tiny.txt 100 6"
        echo "mkdir /many"
        for i in $(seq -w 0 1999); do echo "file /many/file-$i.vhd 1 7"; done
        echo "file /many/Zeta.vhd 5000 8"
        echo "file /LongFileName-2024.vhd 3000 9"; echo "dosname /LongFileName-2024.vhd LONGFI~1.VHD"
    } | "$builder" "$out/n512.img"
    ntfs_oracle n512 /Dir/Sub/Deep/a.vhd n512_a
    ntfs_oracle n512 /Äpfel/σίσυφος.vhd n512_sisyphus
    ntfs_oracle n512 /frag.vhd n512_frag
    ntfs_oracle n512 /uninit.bin n512_uninit
    ntfs_oracle n512 /many/Zeta.vhd n512_zeta
    # 4096-byte sectors and clusters (4Kn: MFT records of 4096 bytes, fixup stride 512).
    ntfs_vol n4k 48M -s 4096 -c 4096 -L "Vol4Kn"
    printf 'mkdir /Dir\nfile /Dir/a.vhd 1000000 11\nfrag /frag.vhd 4000000 12\n' | "$builder" "$out/n4k.img"
    ntfs_oracle n4k /Dir/a.vhd n4k_a
    ntfs_oracle n4k /frag.vhd n4k_frag
    # 64 KiB clusters.
    ntfs_vol n64k 64M -c 65536 -L "Vol64K"
    printf 'mkdir /Dir\nfile /Dir/b.vhd 1500000 21\nfrag /frag.vhd 1200000 22\n' | "$builder" "$out/n64k.img"
    ntfs_oracle n64k /Dir/b.vhd n64k_b
    ntfs_oracle n64k /frag.vhd n64k_frag
    # 2 MiB clusters (the largest NTFS allows); a sparse image file.
    ntfs_vol n2m 160M -c 2097152 -L "Vol2M"
    printf 'file /big.vhd 5000000 31\n' | "$builder" "$out/n2m.img"
    ntfs_oracle n2m /big.vhd n2m_big
    # Compression enabled: every new file is compressed.
    ntfs_vol ncomp 16M -C -L "Comp"
    printf 'file /comp.vhd 200000 41\n' | "$builder" "$out/ncomp.img"
    exit 0
fi

if [ "$kind" = ntfs-hostile ]; then
    need mkntfs
    [ -x "$builder" ] || { echo "missing $builder (make build/tests-tools/ntfs_build)" >&2; exit 77; }
    # A small volume that the hostile-image tests damage in memory.
    ntfs_vol nhost 8M -c 512 -L "Hostile"
    {
        echo "file /a.vhd 100000 51"; echo "frag /frag.vhd 600000 52"; echo "mkdir /d"
        for i in $(seq -w 0 99); do echo "file /d/entry-$i.txt 1 53"; done
    } | "$builder" "$out/nhost.img"
    exit 0
fi

if [ "$kind" = fat ]; then
    need mkfs.vfat mcopy mmd mshowfat mdel openssl
    # FAT12 floppy: long and 8.3 names in a subdirectory.
    rm -f "$out/f12.img"; mkfs.vfat -C -F 12 -n FLOPPY "$out/f12.img" 1440 >/dev/null
    pattern_file "$out/p1" 300000 1
    mmd -i "$out/f12.img" ::/SubDir
    mcopy -i "$out/f12.img" "$out/p1" "::/SubDir/Long File Name.bin"
    mcopy -i "$out/f12.img" "$out/p1" "::/SHORT.TXT"
    fat_oracle f12 "/SubDir/Long File Name.bin" f12_long
    fat_oracle f12 /SHORT.TXT f12_short
    # FAT16: deep directories, a non-ASCII long name, a fragmented file.
    rm -f "$out/f16.img"; mkfs.vfat -C -F 16 -S 512 -s 2 -n FAT16VOL "$out/f16.img" 8192 >/dev/null
    mmd -i "$out/f16.img" ::/a ::/a/b ::/a/b/c
    pattern_file "$out/p2" 1000000 2
    mcopy -i "$out/f16.img" "$out/p2" "::/a/b/c/Ärger σ.vhd"
    small_files f16 40 2048
    mcopy -i "$out/f16.img" "$out/p2" "::/frag16.vhd"
    fat_oracle f16 "/a/b/c/Ärger σ.vhd" f16_deep
    fat_oracle f16 /frag16.vhd f16_frag
    # FAT32 with 512-byte clusters: a fragmented file (fill, delete every
    # other small file, reset the FSInfo next-free hint, copy the big file).
    rm -f "$out/f32.img"; mkfs.vfat -C -F 32 -S 512 -s 1 -n FAT32VOL "$out/f32.img" 40000 >/dev/null
    small_files f32 400 512
    for off in $((512 + 0x1EC)) $((512 * 7 + 0x1EC)); do
        printf '\xff\xff\xff\xff' | dd of="$out/f32.img" bs=1 seek=$off conv=notrunc status=none
    done
    pattern_file "$out/p3" 700000 3
    mmd -i "$out/f32.img" ::/VMs
    mcopy -i "$out/f32.img" "$out/p3" "::/VMs/Fragmented Disk.vhd"
    fat_oracle f32 "/VMs/Fragmented Disk.vhd" f32_frag
    rm -f "$out/p1" "$out/p2" "$out/p3"
    exit 0
fi
echo "usage: $0 OUTDIR ntfs|ntfs-hostile|fat" >&2
exit 2
