#!/bin/bash
# `make bench`: prints throughput figures (not a test). Each benchmark is a
# script next to this one; they print their own tables.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bench in "$here"/host_bench.sh; do
    echo "=== $(basename "$bench")"
    bash "$bench" || status=1
done
exit $status
