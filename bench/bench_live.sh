#!/bin/sh
# bench/bench_live.sh - the live daemon's latency from a mail log line to its
# alert in the JSON-lines output (bench/live_latency.py), through a tailed
# file and through syslog over TCP, with kenchi's and SigmaHQ's rules, at
# BENCH_RATE lines/s (default 50,000) for BENCH_SECONDS (default 60) beside
# BENCH_LOW_RATE (default 200) measured in the same run.
cd "$(dirname "$0")/.." || exit 3
python3 bench/live_latency.py
