#!/bin/sh
# hunt-cold.sh - the retro-hunt from a cold page cache: the hunt of
# bench_hunt.c with each of the thread counts THREADS (KENCHI_HUNT_THREADS;
# default "8 64": the old default beside the new one), alternating, ROUNDS
# times, the page cache dropped before each run. Each run prints the cold
# hunt and the warm one ("hunt again"), the load average beside them, and
# the disk's reads during the run (/sys/block/*/stat of the store's disk).
# Needs root (it writes /proc/sys/vm/drop_caches) and a store kept by
# bench_hunt (it builds one first when DIR holds none: BENCH_HUNT_KEEP=1).
# Not run by `make bench` (bench/run.sh runs bench_*.sh): it empties the page
# cache of the whole machine.
#
#   sh bench/hunt-cold.sh [N [DIR [ROUNDS [THREADS]]]]
#       (default 100000000 $BENCH_DIR or /tmp/kenchi-bench, 3 rounds,
#       THREADS "8 64"; after `make bench`. The store: 31 GB, ~12 min to
#       build)
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=${BENCH:-build/release/bench/bench_hunt}
N=${1:-100000000}
DIR=${2:-${BENCH_DIR:-/tmp/kenchi-bench}}
ROUNDS=${3:-3}
THREADS=${4:-8 64}
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
[ -w /proc/sys/vm/drop_caches ] || { echo "bench: needs root (drop_caches)" >&2; exit 3; }
mkdir -p "$DIR"
export BENCH_HUNT_KEEP=1 BENCH_HUNT_INTEL=0 BENCH_HUNT_BASELINE=0
# the disk holding DIR, for its read counters
DEV=$(df --output=source "$DIR" | tail -1)
DEV=${DEV##*/}
STAT=/sys/class/block/$DEV/stat
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for t in $THREADS; do
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo "== round $r, KENCHI_HUNT_THREADS=$t, load average $(cut -d' ' -f1-3 /proc/loadavg)"
        s0=$(cat "$STAT" 2>/dev/null)
        KENCHI_HUNT_THREADS=$t "$BENCH" "$N" "$DIR" | grep -E '^  (hunt|store)'
        s1=$(cat "$STAT" 2>/dev/null)
        [ -n "$s0" ] && [ -n "$s1" ] && echo "$s0 $s1" |
            awk '{ printf "  disk: %d reads, %.2f GB (both hunts)\n", $18 - $1, ($20 - $3) * 512 / 1e9 }'
    done
    r=$((r + 1))
done
