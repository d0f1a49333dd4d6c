# Shared helpers for shell tests: TAP-style result lines that tests/run-all.sh tallies.
# Source it, then call t_ok/t_fail/t_skip/t_check/t_eq. Scratch space: $T_TMP (removed at exit).
set -u
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_BUILD=$T_ROOT/build
VHDTOOL=$T_BUILD/vhdtool
SAMPLES=${VHD_SAMPLES:-$T_ROOT/../shared/data/vhd-samples}
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdboot-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
T_FAILED=0

t_ok()   { echo "ok - $1"; }
t_fail() { echo "not ok - $1"; shift; [ $# -gt 0 ] && echo "# $*"; T_FAILED=1; }
# t_skip NAME REASON: only for what is genuinely optional (a ../shared folder
# absent, a host without a kernel feature); tests/run-all.sh lists each one.
t_skip() { echo "ok - $1 # SKIP $2"; }
# t_need WHY: when WHY is not empty, something `make deps` installs is
# missing: reports one failure saying what and exits (never a skip).
t_need() {
    [ -z "$1" ] && return 0
    t_fail "$(basename "$0"): $1 (make deps installs it)"
    exit 1
}
# t_need_tools TOOL...: t_need for commands that are not on PATH.
t_need_tools() {
    local t missing=""
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
    t_need "${missing:+not installed:$missing}"
}
# t_sha256: the SHA-256 of stdin as 64 hex digits (OpenSSL's, which uses the
# CPU's SHA instructions: several times faster than coreutils' sha256sum on
# whole virtual disks).
t_sha256() { openssl dgst -sha256 -r | cut -c1-64; }
# t_check NAME CMD...: passes when CMD exits 0; shows its output on failure.
t_check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then t_ok "$name"; else t_fail "$name" "command failed: $*"; echo "$out" | tail -n 20 | sed 's/^/# /'; fi
}
# t_eq NAME EXPECTED ACTUAL
t_eq() { if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1" "expected [$2] got [$3]"; fi; }
# t_grep NAME PATTERN FILE: passes when FILE contains PATTERN (extended regex).
t_grep() { if grep -qE -- "$2" "$3"; then t_ok "$1"; else t_fail "$1" "pattern not found: $2"; tail -n 30 "$3" | sed 's/^/# /'; fi; }
