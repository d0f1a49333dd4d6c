#!/bin/bash
# Firmware benchmark through VHDX: tests/bench/efi_bench.sh with its fixed,
# dynamic and 3-layer chain files made as VHDX (BENCH_FORMAT=vhdx; same
# table, same ratios to the raw host disk). Figures only.
BENCH_FORMAT=vhdx BENCH_LOG=${BENCH_LOG:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench-efi-vhdx.log} exec bash "$(dirname "$0")/efi_bench.sh" "$@"
