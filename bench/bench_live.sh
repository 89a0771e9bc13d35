#!/bin/sh
# bench/bench_live.sh - the live daemon's latency from a line appended to a
# tailed file to its alert in the JSON-lines output (bench/live_latency.py),
# at BENCH_RATE lines/s beside a low rate measured in the same run.
cd "$(dirname "$0")/.." || exit 3
python3 bench/live_latency.py
