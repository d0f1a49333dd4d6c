#!/bin/bash
# Runs every test program given on the command line, TEST_JOBS of them at a
# time (default 2: the integration tests are single-threaded QEMU guests), and
# tallies their TAP-style lines: "ok ..." passes, "not ok ..." fails,
# "ok ... # SKIP ..." is skipped. A program that exits non-zero without
# reporting a failure counts as one failure. Each program's report is printed
# when it ends; the run ends with every skipped test and its reason, then
# "N passed, N failed".
set -u
passed=0 failed=0 skipped=0
failures=() skips=()
logdir=${TEST_LOG_DIR:-build/test-logs}
jobs_max=${TEST_JOBS:-2}
mkdir -p "$logdir"

# skip_lines LOG: one "NAME: REASON" line per skipped test of LOG. Shell tests
# write "ok - NAME # SKIP REASON"; cmocka writes "not ok N # SKIP NAME" after
# the test's own "# skipped: REASON" line.
skip_lines() {
    awk '
        /^# skipped: / { reason = substr($0, 12); next }
        /^(not )?ok .*# (SKIP|skip)/ {
            match($0, /# (SKIP|skip) */)
            head = substr($0, 1, RSTART - 1); tail = substr($0, RSTART + RLENGTH)
            sub(/^(not )?ok [0-9]* *-? */, "", head); sub(/ +$/, "", head)
            if (head == "") { name = tail; why = reason } else { name = head; why = tail }
            print name ": " (why == "" ? "no reason given" : why)
            reason = ""
        }' "$1"
}

# log_of PROG: the log file of PROG.
log_of() { echo "$logdir/$(echo "$1" | tr / _).log"; }

# run_one PROG: runs PROG into its log, then writes "RC SECONDS" to LOG.done.
run_one() {
    local prog=$1 log start rc
    log=$(log_of "$prog")
    start=$(date +%s)
    if [[ $prog == *.sh ]]; then
        CMOCKA_MESSAGE_OUTPUT=TAP bash "$prog" >"$log" 2>&1 </dev/null
    else
        CMOCKA_MESSAGE_OUTPUT=TAP "$prog" >"$log" 2>&1 </dev/null
    fi
    rc=$?
    echo "$rc $(( $(date +%s) - start ))" >"$log.done"
}

# report PROG: prints PROG's results from its finished log and adds them up.
report() {
    local prog=$1 name log rc secs p s f
    name=$(basename "$prog")
    log=$(log_of "$prog")
    read -r rc secs <"$log.done"
    rm -f "$log.done"
    echo "=== $prog"
    p=$(grep -cE '^ok ' "$log" | tr -d ' ')
    # cmocka's skip() prints "not ok N # SKIP": a skip, not a failure.
    s=$(grep -cE '^(not )?ok .*# (SKIP|skip)' "$log" | tr -d ' ')
    f=$(grep -E '^not ok ' "$log" | grep -cvE '# (SKIP|skip)' | tr -d ' ')
    p=$((p - $(grep -cE '^ok .*# (SKIP|skip)' "$log" | tr -d ' ')))
    grep -E '^(not ok|ok .*# SKIP|ok .*# skip|#)' "$log" | sed 's/^/    /' | head -200
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "    not ok $name exited with status $rc without reporting a failure; last lines:"
        tail -n 15 "$log" | sed 's/^/      | /'
    fi
    [ "$f" -gt 0 ] && failures+=("$prog (log: $log)")
    while IFS= read -r line; do skips+=("$prog: $line"); done < <(skip_lines "$log")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    echo "    -> $p passed, $f failed, $s skipped in ${secs}s"
}

# report_finished: reports every started program whose .done file exists.
pending=()
report_finished() {
    local prog left=()
    for prog in "${pending[@]}"; do
        if [ -e "$(log_of "$prog").done" ]; then report "$prog"; else left+=("$prog"); fi
    done
    pending=("${left[@]}")
}

run_start=$(date +%s)
for prog in "$@"; do
    rm -f "$(log_of "$prog").done"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n
        report_finished
    done
    run_one "$prog" &
    pending+=("$prog")
done
wait
report_finished

if [ ${#skips[@]} -gt 0 ]; then
    echo "skipped tests and why:"
    printf '  %s\n' "${skips[@]}"
fi
if [ ${#failures[@]} -gt 0 ]; then
    echo "failing programs:"
    printf '  %s\n' "${failures[@]}"
fi
echo "whole run: $(( $(date +%s) - run_start ))s with $jobs_max programs at a time"
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
