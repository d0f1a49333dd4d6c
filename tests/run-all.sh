#!/bin/bash
# Runs every test program given on the command line (or the default groups)
# and tallies their TAP-style lines: "ok ..." passes, "not ok ..." fails,
# "ok ... # SKIP ..." is skipped. A program that exits non-zero without
# reporting a failure counts as one failure. Ends with every skipped test and
# its reason, then "N passed, N failed".
set -u
passed=0 failed=0 skipped=0
failures=() skips=()
logdir=${TEST_LOG_DIR:-build/test-logs}
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

for prog in "$@"; do
    name=$(basename "$prog")
    log="$logdir/$(echo "$prog" | tr / _).log"
    echo "=== $prog"
    start=$(date +%s)
    if [[ $prog == *.sh ]]; then cmd=(bash "$prog"); else cmd=("$prog"); fi
    CMOCKA_MESSAGE_OUTPUT=TAP "${cmd[@]}" >"$log" 2>&1
    rc=$?
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
    echo "    -> $p passed, $f failed, $s skipped in $(( $(date +%s) - start ))s"
done

if [ ${#skips[@]} -gt 0 ]; then
    echo "skipped tests and why:"
    printf '  %s\n' "${skips[@]}"
fi
if [ ${#failures[@]} -gt 0 ]; then
    echo "failing programs:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
