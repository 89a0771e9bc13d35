#!/bin/sh
# bench_corr_state.sh - what saving the Sigma correlation state adds to a
# commit of `kenchi run`, for 100, 1,000 and 10,000 groups, beside the same
# commit without it (bench/bench_corr_state.c says what is measured).
#
#   sh bench/bench_corr_state.sh    (after `make build/release/bench/bench_corr_state`)
#
# BENCH_EVENTS_PER_GROUP (default 5), BENCH_ROUNDS (default 7, best kept).
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_corr_state
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
"$BENCH" "${BENCH_EVENTS_PER_GROUP:-5}" "${BENCH_ROUNDS:-7}"
