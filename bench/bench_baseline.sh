#!/bin/sh
# bench_baseline.sh - the pipeline with the baselines on against off, same
# run (bench/bench_baseline.py; BENCH_MAILBOXES, BENCH_DAYS, BENCH_ROUNDS).
set -u
cd "$(dirname "$0")/.." || exit 3
exec python3 bench/bench_baseline.py
