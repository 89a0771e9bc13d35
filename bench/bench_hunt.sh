#!/bin/sh
# bench_hunt.sh - the retro-hunt benchmark: 10,000 indicators over a store
# of BENCH_HUNT_EVENTS generated mail-log events (default 10,000,000, about
# 3 GB in BENCH_DIR, default /tmp/kenchi-bench; removed afterwards), beside
# the same hunt done as one pass over the events table; then 1,000,000
# indicators imported and loaded. See bench/bench_hunt.c.
#
#   sh bench/bench_hunt.sh          (after `make build build/release/bench/bench_hunt`)
#
# The 100,000,000-event run of docs/performance.md:
#   BENCH_HUNT_EVENTS=100000000 sh bench/bench_hunt.sh      (about 30 GB, 25 minutes)
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_hunt
DIR=${BENCH_DIR:-/tmp/kenchi-bench}
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
mkdir -p "$DIR"
echo "== retro-hunt: 10,000 indicators over ${BENCH_HUNT_EVENTS:-10000000} stored events"
"$BENCH" "${BENCH_HUNT_EVENTS:-10000000}" "$DIR"
