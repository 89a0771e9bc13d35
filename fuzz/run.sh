#!/bin/sh
# fuzz/run.sh - build every libFuzzer target and run each for a while.
#
#   sh fuzz/run.sh [SECONDS] [TARGET...]     (default 30 s each, all targets)
#
# Each target starts from its hand-written seeds (fuzz/corpus/TARGET/) and
# grows a working corpus under build/fuzz/corpus/TARGET/ (kept between runs,
# never committed). The EVTX target also reads the SigmaHQ .evtx files under
# KENCHI_SHARED (default ../shared) as extra seeds when they are there.
# Findings are written as build/fuzz/artifacts/TARGET-crash-* (or leak-,
# timeout-, oom-); reproduce one with `build/fuzz/TARGET FILE`.
#
# Exits 0 when no target found anything, 1 when one did, 3 when the targets
# cannot be built (clang or its libFuzzer runtime missing).
set -u
cd "$(dirname "$0")/.." || exit 3
secs=${1:-30}
[ $# -gt 0 ] && shift

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2
    exit 3
fi
mkdir -p build
if ! make --no-print-directory fuzz >build/fuzz-build.log 2>&1; then
    cat build/fuzz-build.log >&2
    rm -f build/fuzz-build.log
    echo "fuzz: building the targets failed (is libclang-rt-*-dev installed?)" >&2
    exit 3
fi
rm -f build/fuzz-build.log

targets=$*
if [ -z "$targets" ]; then
    for f in fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        targets="$targets $t"
    done
fi
SHARED=${KENCHI_SHARED:-$(cd .. && pwd)/shared}
mkdir -p build/fuzz/artifacts
failed=""
for t in $targets; do
    bin=build/fuzz/$t
    [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; failed="$failed $t"; continue; }
    work=build/fuzz/corpus/$t
    mkdir -p "$work"
    extra=""
    if [ "$t" = fuzz_evtx ] && [ -d "$SHARED/data/sigma/regression_data" ]; then
        extra=build/fuzz/evtx-seeds
        if [ ! -d "$extra" ]; then
            mkdir -p "$extra"
            # small files only: libFuzzer's -max_len applies to seeds too
            find "$SHARED/data/sigma/regression_data" -name '*.evtx' -size -200k |
                head -40 | while IFS= read -r f; do
                    cp "$f" "$extra/$(echo "$f" | cksum | cut -d' ' -f1).evtx"
                done
        fi
    fi
    seeds=fuzz/corpus/$t
    [ -d "$seeds" ] || seeds=""
    log=build/fuzz/$t.log
    printf 'fuzz: %-22s %4ss ... ' "$t" "$secs"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 \
        -artifact_prefix="build/fuzz/artifacts/$t-" "$work" $seeds $extra >"$log" 2>&1
    rc=$?
    runs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    if [ $rc -eq 0 ]; then
        echo "ok ($runs runs, coverage ${cov:-?} edges)"
    else
        echo "FOUND A PROBLEM (exit $rc), see $log"
        grep -a -E 'ERROR|SUMMARY|fuzz: |runtime error' "$log" | head -5 | sed 's/^/    /'
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: problems found in:$failed (artifacts in build/fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: no problems found"
exit 0
