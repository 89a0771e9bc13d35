#!/bin/sh
# fuzz_smoke.sh - every libFuzzer target, built and run briefly (a fixed
# number of inputs from a fixed seed, starting from its hand-written seeds):
# the sanitizers, the targets' own checks (one line of valid JSON per event,
# reader contracts) and the seeds themselves must hold. Long runs are
# fuzz/run.sh's job. Prints TAP; skips when clang's libFuzzer is missing.
set -u
cd "$(dirname "$0")/../.." || exit 3
RUNS=${FUZZ_SMOKE_RUNS:-3000}

if ! command -v clang >/dev/null 2>&1; then
    echo "ok - fuzz smoke # SKIP clang is not installed"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$tmp/probe.c"
if ! clang -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" >"$tmp/probe.log" 2>&1; then
    echo "ok - fuzz smoke # SKIP clang's libFuzzer runtime is missing (libclang-rt-*-dev)"
    exit 0
fi
if ! make --no-print-directory fuzz >"$tmp/build.log" 2>&1; then
    echo "not ok - fuzz targets build"
    sed 's/^/# /' "$tmp/build.log" | tail -20
    exit 0
fi
echo "ok - fuzz targets build"
for src in fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    mkdir -p "$tmp/$t"
    seeds=fuzz/corpus/$t
    [ -d "$seeds" ] || seeds=""
    # shellcheck disable=SC2086
    if timeout 300 "build/fuzz/$t" -runs="$RUNS" -seed=1 -timeout=20 -rss_limit_mb=2048 \
        -max_len=8192 -artifact_prefix="$tmp/$t-" "$tmp/$t" $seeds >"$tmp/$t.log" 2>&1; then
        echo "ok - fuzz smoke $t ($RUNS inputs)"
    else
        echo "not ok - fuzz smoke $t"
        grep -a -E 'ERROR|SUMMARY|fuzz: |runtime error' "$tmp/$t.log" | head -5 | sed 's/^/# /'
        for a in "$tmp/$t"-*; do
            [ -e "$a" ] && echo "# input (base64): $(base64 -w0 "$a" | head -c 400)"
        done
    fi
done
