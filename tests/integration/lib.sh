# shellcheck shell=bash
# Helpers for the QEMU+OVMF integration tests and the demo.
# Source it from a test script; it sources tests/lib.sh (TAP helpers, $T_TMP)
# and the pieces below, each with one concern:
#   guests.sh  guest disks: Debian kernel + busybox initramfs under
#              systemd-boot or GRUB, or the test payload with its pattern
#   vhd.sh     VHD files from raw guest disks, differencing layers
#   esp.sh     the host ESP image holding vhdboot.efi, vhdboot.conf and VHDs
#   qemu.sh    the runner: boot, capture the serial log, type keys, stop early
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$IT_DIR/../lib.sh"
. "$IT_DIR/guests.sh"
. "$IT_DIR/vhd.sh"
. "$IT_DIR/esp.sh"
. "$IT_DIR/qemu.sh"

# Lines that must never appear when a boot is expected to fail before the guest.
IT_GUEST_OUTPUT='GUEST-MARKER:|PAYLOAD:'
# Lines after which waiting longer is pointless.
IT_STOP='vhdboot: returning to menu|Kernel panic|PAYLOAD: FAIL|^Shell> |X64 Exception Type'

# it_require_qemu: returns when QEMU and OVMF are there; `make deps` installs
# them, so without them the test script fails (t_need) instead of skipping.
it_require_qemu() {
    t_need "$(qemu_missing)"
}

# it_setup_fail WHAT: reports a failed setup step as a TAP failure and exits.
it_setup_fail() {
    t_fail "setup: $1"
    exit 1
}

# it_boot NAME ESP [WAIT KEYS]...: boots the host ESP image, leaves the
# console in $T_TMP/NAME.log and the qemu_run status in IT_RC. The log is also
# copied to build/test-logs/integration/NAME.log for reading after the run.
it_boot() {
    local name=$1 esp=$2; shift 2
    local t0=$SECONDS
    IT_LOG=$T_TMP/$name.log
    qemu_run "$IT_LOG" "${IT_LIMIT:-150}" "$IT_STOP" "$esp" "$@"
    IT_RC=$?
    mkdir -p "$T_BUILD/test-logs/integration"
    cp "$IT_LOG" "$T_BUILD/test-logs/integration/$name.log"
    echo "# $name: $(qemu_verdict $IT_RC) after $((SECONDS - t0)) s"
}

# it_expect NAME REGEX: TAP line: the last boot's console matches REGEX.
it_expect() {
    if grep -qE -- "$2" "$IT_LOG"; then t_ok "$1"; else
        t_fail "$1" "console lacks /$2/ ($(qemu_verdict $IT_RC)); last lines:"
        tail -n 25 "$IT_LOG" | sed 's/^/#   /'
    fi
}

# it_reject NAME REGEX: TAP line: the last boot's console does NOT match REGEX.
it_reject() {
    local hit
    if hit=$(grep -E -m 3 -- "$2" "$IT_LOG"); then
        t_fail "$1" "console unexpectedly shows:"; echo "$hit" | sed 's/^/#   /'
    else t_ok "$1"; fi
}

# it_expect_guest NAME REGEX: the console matches REGEX and the guest powered
# off by itself (it got all the way through).
it_expect_guest() {
    if [ "$IT_RC" -eq 0 ] && grep -qE -- "$2" "$IT_LOG"; then t_ok "$1"; else
        t_fail "$1" "wanted /$2/ and a clean power-off; got: $(qemu_verdict $IT_RC); last lines:"
        tail -n 25 "$IT_LOG" | sed 's/^/#   /'
    fi
}

# it_conf_single TITLE VHD_PATH [WRITE_MODE]: prints a vhdboot.conf with one
# entry that boots at once. VHD_PATH uses '\'.
it_conf_single() {
    printf 'timeout 0\ndefault one\nentry one\n  title %s\n  vhd %s\n' "$1" "$2"
    [ -n "${3:-}" ] && printf '  write %s\n' "$3"
    return 0
}
