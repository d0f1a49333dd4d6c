#!/bin/bash
# vhdboot: runs libFuzzer targets for a bounded time each and prints, per
# target, the executions run and whether it crashed.
#   tests/fuzz/run.sh SECONDS TARGET...
# Seeds: tests/fuzz/corpus/TARGET (never written); new inputs collect in
# build/fuzz/work/TARGET; a crashing input is saved in build/fuzz/crashes/.
# Exits 1 if any target crashed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=$1; shift
status=0
mkdir -p "$root/build/fuzz/crashes" "$root/build/fuzz/logs"
printf '%-16s %12s %8s  %s\n' target executions exec/s result
for target in "$@"; do
    bin=$root/build/fuzz/$target
    work=$root/build/fuzz/work/$target
    seeds=$root/tests/fuzz/corpus/$target
    log=$root/build/fuzz/logs/$target.log
    mkdir -p "$work" "$seeds"
    dict=()
    [ -f "$root/tests/fuzz/$target.dict" ] && dict=(-dict="$root/tests/fuzz/$target.dict")
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$root/build/fuzz/crashes/$target-" "${dict[@]}" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        result="no crash"
    else
        status=1
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        result="CRASHED (rc $rc) ${artifact:+input: $artifact; }log: $log"
    fi
    printf '%-16s %12s %8s  %s\n' "$target" "${runs:-?}" "${speed:-?}" "$result"
done
exit $status
