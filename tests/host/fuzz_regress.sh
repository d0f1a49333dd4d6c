#!/bin/bash
# vhdboot: fuzz regression check for `make test`. For each libFuzzer target
# (build/fuzz/fuzz_*, built by tests/fuzz/fuzz.mk): re-runs every input of
# tests/fuzz/corpus/<target>/ (seeds and the inputs of crashes fixed before),
# then fuzzes for FUZZ_REGRESS_SECONDS (default 4) from that corpus.
# Prints one TAP line per target and step. A target that was not built fails
# (`make deps` installs clang and its libFuzzer runtime; `make test-build`
# builds the targets).
source "$(dirname "$0")/../lib.sh"
seconds=${FUZZ_REGRESS_SECONDS:-4}
corpus_root=$T_ROOT/tests/fuzz/corpus
targets=$(cd "$T_ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')

for target in $targets; do
    bin=$T_BUILD/fuzz/$target
    if [ ! -x "$bin" ]; then
        t_fail "$target is built" "$bin missing (make build/fuzz/$target)"
        continue
    fi
    corpus=$corpus_root/$target
    inputs=("$corpus"/*)
    if [ ! -e "${inputs[0]}" ]; then
        t_fail "$target corpus" "no inputs in $corpus"
        continue
    fi
    log=$T_TMP/$target.replay.log
    if "$bin" -timeout=20 -rss_limit_mb=2048 "${inputs[@]}" >"$log" 2>&1; then
        t_ok "$target corpus: ${#inputs[@]} inputs replayed"
    else
        t_fail "$target corpus" "an input crashed; see below"
        grep -E 'Running:|ERROR|SUMMARY|property violated' "$log" | tail -n 8 | sed 's/^/# /'
    fi
    work=$T_TMP/work-$target
    mkdir -p "$work"
    log=$T_TMP/$target.fuzz.log
    if "$bin" -seed=1 -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$T_TMP/$target-" "$work" "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        t_ok "$target fuzz ${seconds}s: ${runs:-?} executions, no crash"
    else
        t_fail "$target fuzz ${seconds}s" "crashed; the input is kept in build/fuzz/crashes/"
        mkdir -p "$T_BUILD/fuzz/crashes"
        cp "$T_TMP/$target-"* "$T_BUILD/fuzz/crashes/" 2>/dev/null
        grep -E 'ERROR|SUMMARY|property violated|^    #[0-9] ' "$log" | head -n 12 | sed 's/^/# /'
    fi
done
exit $T_FAILED
