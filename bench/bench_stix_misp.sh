#!/bin/sh
# bench_stix_misp.sh - reading STIX bundles and MISP events, writing STIX, beside
# a plain jansson parse of the same text, in the same run.
#
#   sh bench/bench_stix_misp.sh        (after `make build/release/bench/bench_stix_misp`)
#
# BENCH_INDICATORS (default 200000) indicators in one STIX bundle,
# BENCH_ATTRIBUTES (default 200000) attributes in one MISP event,
# BENCH_SIGHTINGS (default 20000) sightings exported. Each figure is CPU
# time of one child process; memory is its peak above its start.
set -u
cd "$(dirname "$0")/.." || exit 3
BENCH=build/release/bench/bench_stix_misp
[ -x "$BENCH" ] || { echo "bench: $BENCH missing; run 'make bench'" >&2; exit 3; }
"$BENCH" --indicators "${BENCH_INDICATORS:-200000}" --attributes "${BENCH_ATTRIBUTES:-200000}" \
    --sightings "${BENCH_SIGHTINGS:-20000}"
