#!/bin/sh
# hunt-cold.sh - the retro-hunt from a cold page cache: the hunt of
# bench_hunt.c with its reads made one at a time (KENCHI_HUNT_THREADS=1)
# beside the same hunt with THREADS threads reading ahead, alternating,
# ROUNDS times, the page cache dropped before each run. Each run prints the
# cold hunt and the warm one ("hunt again"), the load average beside them.
# Needs root (it writes /proc/sys/vm/drop_caches) and a store kept by
# bench_hunt (it builds one first when DIR holds none: BENCH_HUNT_KEEP=1).
# Not run by `make bench` (bench/run.sh runs bench_*.sh): it empties the page
# cache of the whole machine.
#
#   sh bench/hunt-cold.sh [N [DIR [ROUNDS [THREADS]]]]
#       (default 100000000 $BENCH_DIR or /tmp/kenchi-bench, 3 rounds, 8
#       threads; after `make bench`. The store: 31 GB, ~15 min to build)
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=${BENCH:-build/release/bench/bench_hunt}
N=${1:-100000000}
DIR=${2:-${BENCH_DIR:-/tmp/kenchi-bench}}
ROUNDS=${3:-3}
THREADS=${4:-8}
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
[ -w /proc/sys/vm/drop_caches ] || { echo "bench: needs root (drop_caches)" >&2; exit 3; }
mkdir -p "$DIR"
export BENCH_HUNT_KEEP=1 BENCH_HUNT_INTEL=0 BENCH_HUNT_BASELINE=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for t in 1 "$THREADS"; do
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo "== round $r, KENCHI_HUNT_THREADS=$t, load average $(cut -d' ' -f1-3 /proc/loadavg)"
        KENCHI_HUNT_THREADS=$t "$BENCH" "$N" "$DIR" | grep -E '^  (hunt|store)'
    done
    r=$((r + 1))
done
