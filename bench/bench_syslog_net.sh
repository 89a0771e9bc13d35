#!/bin/sh
# bench_syslog_net.sh - the syslog TCP receiver against a bare recv() loop
# (bench/bench_syslog_net.c says what is measured).
#
#   sh bench/bench_syslog_net.sh    (after `make build/release/bench/bench_syslog_net`)
set -u
cd "$(dirname "$0")/.." || exit 3
B=build/release/bench/bench_syslog_net
[ -x "$B" ] || { echo "bench_syslog_net: $B is not built (make bench)"; exit 3; }
"$B" --messages "${BENCH_SYSLOG_MESSAGES:-2000000}" --runs "${BENCH_RUNS:-3}"
