# shellcheck shell=bash
# QEMU + OVMF runner for the integration tests and the demo (sourced by lib.sh).
#
# qemu_run boots one raw disk under OVMF on TCG, writes the serial console to
# a log, types keys into the console when given patterns appear, and stops
# QEMU early as soon as a stop pattern appears (so a loader error or a hung
# menu costs seconds, not the whole timeout).

OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_MEM=${QEMU_MEM:-512}

# qemu_missing: prints why QEMU+OVMF cannot run here (empty when they can).
qemu_missing() {
    command -v "$QEMU" >/dev/null 2>&1 || { echo "$QEMU not installed"; return; }
    [ -r "$OVMF_CODE" ] || { echo "$OVMF_CODE missing (package ovmf)"; return; }
    [ -r "$OVMF_VARS" ] || { echo "$OVMF_VARS missing (package ovmf)"; return; }
}

# qemu_clean RAW: prints the serial log without terminal escapes and CRs.
qemu_clean() {
    sed -e 's/\x1b\[[0-9;?=]*[A-Za-z]//g' -e 's/\x1b[()][A-Za-z0-9]//g' -e 's/\r//g' "$1"
}

# qemu_seen SPEC TEXT: true when TEXT has a line matching SPEC, an extended
# regex optionally prefixed by "N:" (then at least N matching lines).
qemu_seen() {
    local spec=$1 want=1
    if [[ $spec =~ ^([0-9]+):(.*)$ ]]; then want=${BASH_REMATCH[1]} spec=${BASH_REMATCH[2]}; fi
    [ "$(grep -cE -- "$spec" <<<"$2")" -ge "$want" ]
}

# qemu_run LOG LIMIT_S STOP_REGEX DISK [WAIT_REGEX KEYS]...
#   Boots DISK (raw; virtio-blk, boot index 0) and records the console in
#   LOG.raw; LOG gets the cleaned text when QEMU is gone. Each WAIT_REGEX/KEYS
#   pair is handled in order: once WAIT_REGEX appears in the console, KEYS
#   (printf %b escapes, e.g. '\e[B\r') are typed into the serial console.
#   WAIT_REGEX may start with "N:" to wait for its N-th matching line.
#   STOP_REGEX (may be empty) ends the run early, half a second after it shows.
#   QEMU_DISK2=IMG attaches a second raw disk (virtio-blk, not bootable);
#   QEMU_DISK2_OPTS adds device properties to it (e.g. logical_block_size=4096).
#   QEMU_DISK_OPTS adds -drive options to DISK (e.g. throttling.bps-read=N).
#   QEMU_SMP sets the number of processors (default 1).
#   QEMU_VARS_FILE=FILE keeps the firmware's variable store in FILE across
#   runs (created from OVMF_VARS when absent); default: a fresh copy each run.
#   QEMU_SERIAL_TEE=1 also copies the console to stdout live (the demo).
# Returns 0 when the guest powered off by itself, 2 when stopped on
# STOP_REGEX, 124 on timeout, another value if QEMU failed.
qemu_run() {
    local log=$1 limit=$2 stop=$3 disk=$4; shift 4
    local dir fd qpid teepid="" rc=0 stopped=0 text
    dir=$(mktemp -d "${T_TMP:-/tmp}/qemu.XXXXXX")
    local vars=${QEMU_VARS_FILE:-$dir/vars.fd}
    [ -n "${QEMU_VARS_FILE:-}" ] && [ -s "$vars" ] || cp "$OVMF_VARS" "$vars"
    mkfifo "$dir/console-in"
    : >"$log.raw"
    timeout --kill-after=5 "$limit" "$QEMU" -machine q35 -accel tcg -m "$QEMU_MEM" -smp "${QEMU_SMP:-1}" \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
        -drive "if=pflash,format=raw,unit=1,file=$vars" \
        -drive "if=none,id=disk0,format=raw,file=$disk${QEMU_DISK_OPTS:+,$QEMU_DISK_OPTS}" \
        -device virtio-blk-pci,drive=disk0,bootindex=0 \
        ${QEMU_DISK2:+-drive "if=none,id=disk1,format=raw,file=$QEMU_DISK2" -device "virtio-blk-pci,drive=disk1${QEMU_DISK2_OPTS:+,$QEMU_DISK2_OPTS}"} \
        -nographic -serial mon:stdio -no-reboot -net none \
        <"$dir/console-in" >"$log.raw" 2>&1 &
    qpid=$!
    # timeout runs QEMU in its own process group, out of reach of Ctrl-C.
    trap 'kill "$qpid" 2>/dev/null; exit 130' INT TERM
    # Hold the console's input open so QEMU never sees end-of-file.
    exec {fd}>"$dir/console-in"
    if [ "${QEMU_SERIAL_TEE:-0}" = 1 ]; then
        if [ -t 1 ]; then
            tail -n +1 -f --pid="$qpid" "$log.raw" &
        else
            tail -n +1 -f --pid="$qpid" "$log.raw" | sed -u -e 's/\x1b\[[0-9;?=]*[A-Za-z]//g' -e 's/\r//g' &
        fi
        teepid=$!
    fi
    while kill -0 "$qpid" 2>/dev/null; do
        sleep 0.25
        text=$(qemu_clean "$log.raw")
        if [ $# -ge 2 ] && qemu_seen "$1" "$text"; then
            sleep 0.3
            printf '%b' "$2" >&"$fd"
            shift 2
        fi
        if [ -n "$stop" ] && grep -qE -- "$stop" <<<"$text"; then
            sleep 0.5
            stopped=1
            kill "$qpid" 2>/dev/null
            break
        fi
    done
    wait "$qpid"
    rc=$?
    exec {fd}>&-
    trap - INT TERM
    [ -n "$teepid" ] && wait "$teepid" 2>/dev/null
    qemu_clean "$log.raw" >"$log"
    rm -rf "$dir"
    [ $stopped = 1 ] && return 2
    return $rc
}

# qemu_verdict RC: prints a short phrase for a qemu_run return code.
qemu_verdict() {
    case $1 in
        0) echo "guest powered off" ;;
        2) echo "stopped on a stop pattern" ;;
        124) echo "timed out" ;;
        *) echo "QEMU failed with status $1" ;;
    esac
}
