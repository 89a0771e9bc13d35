#!/bin/sh
# Runs every benchmark: the compiled ones (build/release/bench/bench_*) and
# the scripts beside this file (bench/*.sh, except this one). Build first
# with `make bench`, which also calls this. KENCHI_SHARED locates the shared
# data (default ../shared); benchmarks that need it say so and skip.
set -u
cd "$(dirname "$0")/.."
: "${KENCHI_SHARED:=../shared}"
export KENCHI_SHARED
rc=0
for b in build/release/bench/bench_*; do
    [ -x "$b" ] || continue
    echo "== $b"
    "$b" || rc=1
done
for s in bench/*.sh; do
    [ "$s" = bench/run.sh ] && continue
    [ -f "$s" ] || continue
    echo "== $s"
    sh "$s" || rc=1
done
exit $rc
