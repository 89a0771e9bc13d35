#!/bin/sh
# bench_bl_account.sh - memory of the account and host baseline modules for 100,000
# accounts with 21 days of ordinary activity each: the module's own estimate
# beside the measured growth of resident memory (bench/bench_bl_account.c).
#
#   sh bench/bench_bl_account.sh    (after `make build/release/bench/bench_bl_account`)
#
# BENCH_ACCOUNTS (default 100000), BENCH_DAYS (default 21), BENCH_SERVERS (default 1000:
# the host module, after the accounts).
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_bl_account
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
"$BENCH" "${BENCH_ACCOUNTS:-100000}" "${BENCH_DAYS:-21}" "${BENCH_SERVERS:-1000}"
