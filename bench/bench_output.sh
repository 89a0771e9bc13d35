#!/bin/sh
# bench_output.sh - alerts per second through the webhook, syslog (UDP, TCP)
# and exec outputs, each beside the bare transport in the same run
# (bench/bench_output.c says what each baseline is).
#
#   sh bench/bench_output.sh        (after `make build/release/bench/bench_output`)
#
# BENCH_ALERTS (default 20000) alerts per round for webhook and syslog,
# BENCH_SPAWNS (default 1000) for exec, BENCH_ROUNDS (default 3) rounds,
# the best kept.
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_output
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
"$BENCH" --alerts "${BENCH_ALERTS:-20000}" --spawns "${BENCH_SPAWNS:-1000}" \
    --rounds "${BENCH_ROUNDS:-3}"
