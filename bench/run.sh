#!/bin/sh
# Runs every benchmark binary (build/release/bench/bench_*) in turn; each
# prints its figure beside the baseline it measured in the same run.
# Build them first: `make bench` does both.
cd "$(dirname "$0")/.." || exit 3
status=0
found=0
for b in build/release/bench/bench_*; do
    [ -x "$b" ] || continue
    found=1
    echo "== $(basename "$b")"
    "$b" || status=1
done
[ "$found" = 1 ] || { echo "no benchmarks built (run: make bench)" >&2; exit 3; }
exit $status
