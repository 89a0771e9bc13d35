#!/bin/sh
# bench_intel.sh - indicator loading and matching (bench/bench_intel.c):
# the Zeek intel feeds and BENCH_INTEL_N generated indicators (default
# 1,000,000) loaded, beside their files' size; the MISP warning lists
# applied to them; BENCH_INTEL_EVENTS generated events (default 500,000)
# matched with 0, 10,000 and all indicators loaded, in the same run.
#
#   sh bench/bench_intel.sh        (after `make build build/release/bench/bench_intel`)
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_intel
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
mkdir -p "${BENCH_DIR:-/tmp}"
KENCHI_SHARED=${KENCHI_SHARED:-$(cd .. && pwd)/shared} \
    "$BENCH" "${BENCH_INTEL_N:-1000000}" "${BENCH_INTEL_EVENTS:-500000}" "${BENCH_DIR:-/tmp}"
