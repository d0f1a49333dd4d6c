#!/bin/bash
# `make bench`: prints throughput figures (not a test). Runs every
# tests/bench/*_bench.sh (host_bench.sh first); each prints its own table.
# Exit status 77 from a benchmark means skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
benches=("$here"/host_bench.sh)
for b in "$here"/*_bench.sh; do
    [ "$b" = "$here/host_bench.sh" ] || benches+=("$b")
done
for bench in "${benches[@]}"; do
    [ -f "$bench" ] || continue
    echo "=== $(basename "$bench")"
    bash "$bench"
    rc=$?
    case $rc in
    0) ;;
    77) echo "(skipped: a tool it needs is missing)" ;;
    *) status=1 ;;
    esac
done
exit $status
