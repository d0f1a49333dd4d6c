#!/bin/bash
# Real-world VHD samples (../shared/data/vhd-samples) through the vhdtool CLI:
# a Windows-made differencing disk whose parent is absent, a QEMU image with a
# bad footer checksum, and a valid QEMU dynamic disk checked against qemu-img.
source "$(dirname "$0")/../lib.sh"
VHDTOOL=${VHDTOOL_BIN:-$VHDTOOL}
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
if [ ! -d "$SAMPLES" ]; then
    echo "# samples folder $SAMPLES is absent; skipping"
    t_skip "vhd samples through the CLI" "$SAMPLES absent"
    exit 0
fi
t_need_tools qemu-img
cd "$T_TMP"

# sample NAME: the path of a sample, or empty (with a failure) when missing
# from the folder.
sample() {
    if [ -f "$SAMPLES/$1" ]; then echo "$SAMPLES/$1"; else t_fail "$1 is in $SAMPLES" >&2; fi
}

# fat-differential.vhd: Windows-made child whose parent is not shipped.
if f=$(sample fat-differential.vhd) && [ -n "$f" ]; then
    "$VHDTOOL" info "$f" >out.txt 2>err.txt
    rc=$?
    t_eq "info fat-differential.vhd exits 1 (parent missing)" 1 "$rc"
    t_grep "info shows type differencing" "^type: +differencing" out.txt
    t_grep "info shows the creator 'win '" "^creator: +'win '" out.txt
    t_grep "info shows the W2ku locator" "W2ku C:\\\\Projects\\\\dfvfs\\\\test_data\\\\fat-parent.vhd" out.txt
    t_grep "info shows the W2ru locator" "W2ru \.\\\\fat-parent.vhd" out.txt
    t_grep "info shows the parent UUID in stored byte order" "^parent uuid: +5fa21a55-f394-aa4d-9958-1951a67d5540" out.txt
    t_grep "error says parent not found" "parent not found" err.txt
    t_grep "error names the path tried next to the child" "vhd-samples.fat-parent\.vhd" err.txt
    "$VHDTOOL" info --json "$f" >out.json 2>/dev/null
    if python3 -c "import json,sys; d=json.load(open('out.json')); sys.exit(0 if d['type']=='differencing' and d['chain'] is None and 'parent not found' in d['chain_error'] else 1)"; then
        t_ok "info --json is valid JSON with the chain error"
    else
        t_fail "info --json is valid JSON with the chain error"; head -c 600 out.json | sed 's/^/# /'
    fi
    "$VHDTOOL" check "$f" >out.txt 2>&1
    t_eq "check fat-differential.vhd exits 1" 1 "$?"
    t_grep "check names the missing parent" "fat-differential.vhd.*parent not found" out.txt
fi

# image.vhd: footer checksum edited to a wrong value.
if f=$(sample image.vhd) && [ -n "$f" ]; then
    "$VHDTOOL" check "$f" >out.txt 2>&1
    t_eq "check image.vhd exits 1" 1 "$?"
    t_grep "check image.vhd mentions the checksum" "image\.vhd.*checksum" out.txt
    cp "$f" copy.vhd
    "$VHDTOOL" check --repair copy.vhd >out.txt 2>&1
    t_eq "check --repair cannot fix it (the copy at 0 is bad too)" 1 "$?"
    cmp -s "$f" copy.vhd && t_ok "a refused repair changes nothing" || t_fail "a refused repair changes nothing"
fi

# ext2.vhd: valid QEMU dynamic disk.
if f=$(sample ext2.vhd) && [ -n "$f" ]; then
    "$VHDTOOL" info "$f" >out.txt 2>&1
    t_eq "info ext2.vhd exits 0" 0 "$?"
    t_grep "info ext2.vhd: dynamic" "^type: +dynamic" out.txt
    t_grep "info ext2.vhd: disk size 4212736" "^disk size: +4212736 " out.txt
    t_grep "info ext2.vhd: one allocated block" "^allocated blocks: +1$" out.txt
    t_check "check ext2.vhd passes" "$VHDTOOL" check "$f"
    t_check "convert ext2.vhd to raw" "$VHDTOOL" convert "$f" ext2.raw
    qemu-img convert -f vpc -O raw "$f" ext2.qemu.raw
    if cmp -s ext2.raw ext2.qemu.raw; then t_ok "ext2.vhd raw equals qemu-img's raw"
    else t_fail "ext2.vhd raw equals qemu-img's raw" "$(cmp ext2.raw ext2.qemu.raw 2>&1)"; fi
    # ext2 superblock magic 0xEF53 at byte 1080 of the file system.
    magic=$("$VHDTOOL" read "$f" 1080 2 | od -An -tx1 | tr -d ' ')
    t_eq "read finds the ext2 superblock magic" "53ef" "$magic"
    # Copy and write: the original sample is never modified.
    cp "$f" ext2-copy.vhd
    "$VHDTOOL" write ext2-copy.vhd 3M --pattern 0x5a --length 4096 &&
        [ "$("$VHDTOOL" read ext2-copy.vhd 3M 4096 | tr -d 'Z' | wc -c)" -eq 0 ] &&
        t_ok "a write into a copy of ext2.vhd allocates and reads back" || t_fail "write into a copy of ext2.vhd"
fi

# image-differential.vhd: child of image.vhd, also with a bad checksum.
if f=$(sample image-differential.vhd) && [ -n "$f" ]; then
    "$VHDTOOL" info "$f" >out.txt 2>err.txt
    t_eq "info image-differential.vhd exits 1" 1 "$?"
    t_grep "info image-differential.vhd names the file and the checksum" "image-differential\.vhd.*checksum" err.txt
fi
exit $T_FAILED
