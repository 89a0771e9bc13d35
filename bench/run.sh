#!/bin/sh
# bench/run.sh - run every benchmark (bench/bench_*.sh) in turn. `make bench`
# builds the release binaries and the C benchmarks first, then calls this.
# Figures go to docs/performance.md by hand, with the command that made them.
set -u
cd "$(dirname "$0")/.." || exit 3
rc=0
for b in bench/bench_*.sh; do
    [ -e "$b" ] || continue
    echo "### $b  ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
    sh "$b" || rc=1
    echo
done
exit $rc
