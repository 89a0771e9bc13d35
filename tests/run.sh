#!/bin/sh
# Runs every test of kenchi and ends with "N passed, N failed, N skipped".
#
#   unit tests     build/debug/tests/test_* (cmocka, TAP output)
#   golden tests   tests/golden/<suite>/<case>.<ext> decoded by `kenchi parse`
#                  must equal <case>.jsonl; <case>.args holds extra arguments.
#                  UPDATE_GOLDEN=1 rewrites the .jsonl files (review the diff!).
#   end-to-end     tests/e2e/*.sh and tests/e2e/*.py, each printing TAP lines
#                  ("ok - name", "not ok - name", "ok - name # SKIP reason").
#
# The debug build (ASan+UBSan) is what runs; KENCHI overrides the binary.
set -u
cd "$(dirname "$0")/.." || exit 3
KENCHI=${KENCHI:-build/debug/kenchi}
export KENCHI
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TZ=UTC
SHARED=${KENCHI_SHARED:-$(cd .. && pwd)/shared}
export KENCHI_SHARED="$SHARED"
pass=0; fail=0; skip=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

count_tap() { # $1: label; reads TAP on stdin
    while IFS= read -r line; do
        case "$line" in
            "not ok"*"# SKIP"*) skip=$((skip+1)); echo "SKIP [$1] ${line#*# }" ;; # cmocka's skip()
            "not ok"*) fail=$((fail+1)); echo "FAIL [$1] $line" ;;
            "ok"*"# SKIP"*|"ok"*"# skip"*) skip=$((skip+1)); echo "SKIP [$1] ${line#*# }" ;;
            "ok"*) pass=$((pass+1)) ;;
            "#"*) echo "     [$1] $line" ;;
        esac
    done
}

# unit tests
for t in build/debug/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1; then :; else
        grep -q "^not ok" "$log" || { echo "not ok - $name crashed"; cat "$log"; } >>"$log"
    fi
    count_tap "$name" <"$log"
    grep -q "^not ok" "$log" && sed -n '1,60p' "$log"
done

# golden tests: every input file in tests/golden/<suite>/ except .jsonl/.args
for input in tests/golden/*/*; do
    case "$input" in *.jsonl|*.args|*/README*) continue ;; esac
    [ -f "$input" ] || continue
    base=${input%.*}
    exp=$base.jsonl
    args=""
    [ -f "$base.args" ] && args=$(cat "$base.args")
    # shellcheck disable=SC2086
    $KENCHI parse $args "$input" >"$log" 2>"$log.err"
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$log" "$exp"; fi
    if [ ! -f "$exp" ]; then
        fail=$((fail+1)); echo "FAIL [golden] $input: no $exp (UPDATE_GOLDEN=1 writes it)"
    elif cmp -s "$log" "$exp"; then
        pass=$((pass+1))
    else
        fail=$((fail+1)); echo "FAIL [golden] $input"
        diff "$exp" "$log" | head -20
        head -5 "$log.err"
    fi
    rm -f "$log.err"
done

# end-to-end tests
for t in tests/e2e/*.sh tests/e2e/*.py; do
    [ -e "$t" ] || continue
    case "$t" in *.py) runner=python3 ;; *) runner=sh ;; esac
    if ! $runner "$t" >"$log" 2>&1; then
        grep -q "^not ok" "$log" || echo "not ok - $t exited with an error" >>"$log"
    fi
    count_tap "$(basename "$t")" <"$log"
    grep -q "^not ok" "$log" && sed -n '1,40p' "$log"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
