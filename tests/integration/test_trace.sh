#!/bin/bash
# The opt-in trace of the virtual disk's requests (`trace` in vhdboot.conf):
# the configuration says `trace off` for every entry and `trace on` for the
# one entry booted, so both the per-entry override and both outputs are
# exercised. The payload (build/payload.efi) reads its whole 16 MiB disk in
# 1 MiB BlockIO reads, writes 16 marker sectors, flushes and powers off; the
# test then reads \EFI\BOOT\trace.log back from the host ESP and checks that
#   - the console carried the trace lines (`on` = console and file),
#   - the file has the entry's header, the firmware's reads while loading
#     the payload (kept in memory at raised TPL, written later), the
#     StartImage note, then the payload's own requests: every 1 MiB read of
#     the disk, the 16-sector write on partition 2 and a flush, all Success,
#   - the file survived the payload's power-off (it is flushed line by line).
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img
guest_payload "$W/guest.img" || it_setup_fail "payload guest disk"
read -r P2_FIRST _ < <(guest_part2 "$W/guest.img")
DISK_MIB=$(($(stat -c %s "$W/guest.img") >> 20))
t_check "payload VHD" vhd_from_raw "$W/guest.img" "$W/guest.vhd" dynamic
esp_create "$ESP" 64 || it_setup_fail "host ESP image"
esp_put "$ESP" "$W/guest.vhd" /vms/guest.vhd || it_setup_fail "copy the VHD"
printf 'trace off\ntimeout 0\ndefault traced\nentry traced\n  title Traced payload\n  vhd \\vms\\guest.vhd\n  write volatile\n  trace on\n' |
    esp_conf "$ESP" || it_setup_fail "vhdboot.conf"

IT_LIMIT=150
it_boot trace "$ESP"
it_expect_guest "payload runs with the trace on: PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "the loader names the trace file" '^vhdboot: tracing the disk.s requests to \\EFI\\BOOT\\trace\.log'
it_expect "trace on: the requests also go to the console" '^vhdboot trace: read lba 0 blocks 2048: Success'

LOG=$W/trace.log
if ! esp_get "$ESP" /EFI/BOOT/trace.log "$LOG" 2>/dev/null || [ ! -s "$LOG" ]; then
    t_fail "trace.log was written to the loader's folder"
    exit 1
fi
t_ok "trace.log was written to the loader's folder ($(wc -l <"$LOG") lines)"
cp "$LOG" "$T_BUILD/test-logs/integration/trace-file.log"
tr -d '\r' <"$LOG" >"$LOG.txt"

t_grep "the header names the entry and its VHD" "^vhdboot .*: entry 'traced' \\(Traced payload\\), VHD \\\\vms\\\\guest\\.vhd, write volatile" "$LOG.txt"
start=$(grep -n '^StartImage \\EFI\\BOOT\\BOOTX64.EFI' "$LOG.txt" | head -n 1 | cut -d: -f1)
if [ -z "$start" ]; then
    t_fail "the StartImage note separates the loader's part from the payload's"
    sed 's/^/#   /' "$LOG.txt" | head -n 20
    exit 1
fi
t_ok "the StartImage note separates the loader's part from the payload's"
before=$(head -n "$start" "$LOG.txt" | grep -c '^read lba [0-9]* blocks [0-9]*: Success' || true)
if [ "$before" -gt 0 ]; then t_ok "the firmware's reads while loading the payload are there ($before, written after raised TPL)"
else t_fail "the firmware's reads while loading the payload are there"; fi

after=$(tail -n +"$start" "$LOG.txt")
missing=""
for ((k = 0; k < DISK_MIB; k++)); do
    grep -q "^read lba $((k * 2048)) blocks 2048: Success$" <<<"$after" || missing="$missing $((k * 2048))"
done
if [ -z "$missing" ]; then t_ok "every 1 MiB read of the payload is traced ($DISK_MIB reads, LBA and count)"
else t_fail "every 1 MiB read of the payload is traced" "no line for LBA$missing"; fi
if grep -q "^write lba $P2_FIRST blocks 16: Success$" <<<"$after"; then t_ok "the payload's 16-sector write at LBA $P2_FIRST is traced"
else t_fail "the payload's 16-sector write at LBA $P2_FIRST is traced"; grep '^write' <<<"$after" | head -n 5 | sed 's/^/#   /'; fi
if grep -q '^flush: Success$' <<<"$after"; then t_ok "the payload's flush is traced"; else t_fail "the payload's flush is traced"; fi
if grep -vqE '^(read|write) lba [0-9]+ (blocks|bytes) [0-9]+: [A-Za-z ]+$|^flush: [A-Za-z ]+$|^StartImage |^\(' <<<"$after"; then
    t_fail "after StartImage there are only request lines" "$(grep -vE '^(read|write) lba|^flush:|^StartImage|^\(' <<<"$after" | head -n 3)"
else t_ok "after StartImage there are only request lines"; fi
exit $T_FAILED
