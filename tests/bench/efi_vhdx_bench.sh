#!/bin/bash
# Firmware benchmark through VHDX: tests/bench/efi_bench.sh with its fixed,
# dynamic and 3-layer chain files made both as VHD and as VHDX
# (BENCH_FORMAT=vhdx): the app reads each VHD case and then its VHDX twin in
# the same interleaved rounds, so the two formats are compared under the same
# load, with the ratios to the same raw host disk. Figures only.
BENCH_FORMAT=vhdx BENCH_LOG=${BENCH_LOG:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench-efi-vhdx.log} exec bash "$(dirname "$0")/efi_bench.sh" "$@"
