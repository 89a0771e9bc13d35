#!/bin/sh
# bench_decode.sh - decode throughput of kenchi, and fail2ban-regex beside it
# on the same file in the same run.
#
#   sh bench/bench_decode.sh          (after `make build build/release/bench/bench_decode`)
#
# Syslog: a Postfix+Dovecot mail log of BENCH_LINES lines (default 2,000,000)
# from scripts/gen-maillog.py, generated once into BENCH_DIR (default
# /tmp/kenchi-bench). Measured, each on one core:
#   - bench_decode --mode decode     lines in memory -> syslog decoder (and the
#                                    Postfix/Dovecot/sshd decoders it routes to)
#   - bench_decode --mode pipeline   file -> input -> framing -> decode -> batch
#   - kenchi scan [--no-store] --output jsonl FILE   (the CLI as users run it)
#   - fail2ban-regex FILE with Debian's postfix filter, then its dovecot filter
# Rates are lines per CPU-second (user+sys of the process), which stays fair
# on a machine shared with other work; wall times are printed too.
# JSON: M365- and Zeek-like NDJSON records (generated). EVTX: the largest
# .evtx of SigmaHQ's regression data under KENCHI_SHARED, read repeatedly,
# when this build has an evtx decoder. Memory: peak RSS for two file sizes.
set -u
cd "$(dirname "$0")/.." || exit 3
LINES=${BENCH_LINES:-2000000}
SMALL=${BENCH_SMALL_LINES:-200000}
RUNS=${BENCH_RUNS:-3}
DIR=${BENCH_DIR:-/tmp/kenchi-bench}
SHARED=${KENCHI_SHARED:-$(cd .. && pwd)/shared}
KENCHI=build/release/kenchi
BENCH=build/release/bench/bench_decode
export TZ=UTC
for b in "$KENCHI" "$BENCH"; do
    [ -x "$b" ] || { echo "bench: $b missing; run 'make bench'" >&2; exit 3; }
done
mkdir -p "$DIR"
TIMEF=$DIR/time.out

# num: digits with thousands separators
num() { printf '%s' "$1" | awk '{ s = sprintf("%.0f", $1); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'; }
# kv KEY LINE: value of KEY=... in a bench_decode result line
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# timed CMD...: run under /usr/bin/time; sets T_WALL T_CPU T_RSS_KB
timed() {
    /usr/bin/time -f '%e %U %S %M' -o "$TIMEF" "$@"
    rc=$?
    set -- $(tail -1 "$TIMEF")
    T_WALL=$1
    T_CPU=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.3f", u + s }')
    T_RSS_KB=$4
    return $rc
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
# best_bench ARGS...: best of RUNS bench_decode results (highest records_per_s)
best_bench() {
    best=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        out=$("$BENCH" "$@") || return 1
        if [ -z "$best" ] || [ "$(kv records_per_s "$out")" -gt "$(kv records_per_s "$best")" ]; then
            best=$out
        fi
        i=$((i + 1))
    done
    printf '%s\n' "$best"
}

gen_sum=$(cksum <scripts/gen-maillog.py | cut -d' ' -f1)
mail() { # mail N: path of the generated mail log of N lines
    f=$DIR/mail-$1-$gen_sum.log
    if [ ! -s "$f" ]; then
        echo "bench: generating $f" >&2
        python3 scripts/gen-maillog.py --lines "$1" --seed 1 --out "$f.tmp" && mv "$f.tmp" "$f"
    fi
    printf '%s\n' "$f"
}
BIG=$(mail "$LINES")
SMALLF=$(mail "$SMALL")
MB=$(awk -v b="$(wc -c <"$BIG")" 'BEGIN { printf "%.0f", b / 1e6 }')

store_opt=""
"$KENCHI" scan --help 2>/dev/null | grep -q -- '--no-store' && store_opt="--no-store"

echo "== decode: Postfix+Dovecot syslog, $(num "$LINES") lines, $MB MB ($BIG)"
printf '%-46s %14s %9s %9s\n' "" "lines/CPU-s" "CPU s" "wall s"
dec=$(best_bench --mode decode "$BIG") || exit 1
printf '%-46s %14s %9s %9s\n' "kenchi decoders (bench_decode --mode decode)" \
    "$(num "$(kv records_per_s "$dec")")" "$(kv cpu_seconds "$dec")" "$(kv seconds "$dec")"
pipe=$(best_bench --mode pipeline "$BIG") || exit 1
printf '%-46s %14s %9s %9s\n' "kenchi pipeline (bench_decode --mode pipeline)" \
    "$(num "$(kv records_per_s "$pipe")")" "$(kv cpu_seconds "$pipe")" "$(kv seconds "$pipe")"
echo "   unparsed: $(kv unparsed "$pipe") of $(kv records "$pipe") lines"
# shellcheck disable=SC2086
timed "$KENCHI" scan $store_opt --output jsonl "$BIG" >"$DIR/scan.json" 2>&1 || exit 1
CLI_RATE=$(rate "$LINES" "$T_CPU")
printf '%-46s %14s %9s %9s\n' "kenchi scan${store_opt:+ $store_opt} --output jsonl" "$(num "$CLI_RATE")" \
    "$T_CPU" "$T_WALL"
CLI_RSS_BIG=$T_RSS_KB
# which decoders did the work: until the Postfix/Dovecot decoders exist, the
# lines are only split into the syslog envelope
python3 -c '
import json, sys
# the summary is one line among the alerts (JSON lines)
for line in open(sys.argv[1]):
    try:
        s = json.loads(line)
    except ValueError:
        continue
    if isinstance(s, dict) and "logsources" in s:
        print("   events by module: " + ", ".join("%s %d" % (l["module"], l["events"]) for l in s["logsources"]))
        break
' "$DIR/scan.json"

F2B_RATES=""
for filt in postfix dovecot; do
    conf=/etc/fail2ban/filter.d/$filt.conf
    if ! command -v fail2ban-regex >/dev/null 2>&1 || [ ! -f "$conf" ]; then
        echo "fail2ban-regex ($filt) # SKIP fail2ban is not installed"
        continue
    fi
    timed fail2ban-regex "$BIG" "$conf" >"$DIR/f2b-$filt.out" 2>&1
    r=$(rate "$LINES" "$T_CPU")
    printf '%-46s %14s %9s %9s\n' "fail2ban-regex, $filt filter" "$(num "$r")" "$T_CPU" "$T_WALL"
    grep -a '^Lines:' "$DIR/f2b-$filt.out" | sed 's/^/   fail2ban-regex: /'
    echo "   fail2ban-regex peak RSS: $T_RSS_KB kB"
    F2B_RATES="$F2B_RATES $filt:$r"
done
for fr in $F2B_RATES; do
    filt=${fr%%:*} r=${fr#*:}
    echo "ratio kenchi scan / fail2ban-regex $filt: $(ratio "$CLI_RATE" "$r")x" \
        "(decoders alone: $(ratio "$(kv records_per_s "$dec")" "$r")x)"
done

echo
echo "== decode: JSON (M365 audit and Zeek conn records, NDJSON)"
JSONF=$DIR/json-300000.ndjson
if [ ! -s "$JSONF" ]; then
    python3 - "$JSONF" <<'EOF'
import json, random, sys
r = random.Random(1)
ops = ["UserLoggedIn", "MailItemsAccessed", "Send", "New-InboxRule", "UserLoginFailed"]
with open(sys.argv[1], "w") as f:
    for i in range(300000):
        t = 1709596800 + i * 0.37
        if i % 2:
            rec = {"CreationTime": "2024-03-05T%02d:%02d:%02d" % (t // 3600 % 24, t // 60 % 60, t % 60),
                   "Id": "%08x-%04x-4%03x-8%03x-%012x" % (r.getrandbits(32), r.getrandbits(16),
                         r.getrandbits(12), r.getrandbits(12), r.getrandbits(48)),
                   "Operation": r.choice(ops), "OrganizationId": "7f3c9a52-1d4e-4b8a-9c61-2e5f0a7b3d94",
                   "RecordType": 15, "ResultStatus": "Succeeded", "UserKey": "10032001A2B3C4D5",
                   "UserType": 0, "Version": 1, "Workload": "Exchange",
                   "ClientIP": "198.51.100.%d" % r.randrange(1, 250),
                   "UserId": "user%d@example.org" % r.randrange(300),
                   "ExtendedProperties": [{"Name": "UserAgent", "Value": "Mozilla/5.0"},
                                          {"Name": "RequestType", "Value": "OAuth2:Token"}]}
        else:
            rec = {"ts": round(t, 6), "uid": "C%016x" % r.getrandbits(64),
                   "id.orig_h": "203.0.113.%d" % r.randrange(1, 250), "id.orig_p": r.randrange(1024, 65535),
                   "id.resp_h": "198.51.100.25", "id.resp_p": r.choice([25, 587, 993]),
                   "proto": "tcp", "service": "ssl", "duration": round(r.random() * 30, 6),
                   "orig_bytes": r.randrange(100, 9000), "resp_bytes": r.randrange(100, 900000),
                   "conn_state": "SF", "history": "ShADadFf"}
        f.write(json.dumps(rec, separators=(",", ":")) + "\n")
EOF
fi
js=$(best_bench --mode pipeline "$JSONF") || exit 1
printf '%-46s %14s  (%s MB/CPU-s)\n' "kenchi pipeline, $(num "$(kv records "$js")") records" \
    "$(num "$(kv records_per_s "$js")")" "$(kv mb_per_s "$js")"

echo
echo "== decode: EVTX"
if ! "$KENCHI" parse --help 2>/dev/null | grep -q '^  evtx '; then
    echo "evtx # SKIP this build has no evtx decoder"
elif [ ! -d "$SHARED/data/sigma/regression_data" ]; then
    echo "evtx # SKIP no SigmaHQ regression data under $SHARED"
else
    EVTX=$(find "$SHARED/data/sigma/regression_data" -name '*.evtx' -printf '%s %p\n' |
        sort -n | tail -1 | cut -d' ' -f2-)
    ev=$(best_bench --mode pipeline --repeat 200 "$EVTX") || exit 1
    printf '%-46s %14s  (%s read 200 times)\n' "kenchi pipeline, records/CPU-s" \
        "$(num "$(kv records_per_s "$ev")")" "$(basename "$EVTX")"
fi

echo
echo "== memory: peak resident set size"
ps=$("$BENCH" --mode pipeline "$SMALLF")
pb=$("$BENCH" --mode pipeline "$BIG")
echo "bench_decode pipeline: $(num "$SMALL") lines: $(kv vmhwm_kb "$ps") kB;" \
    "$(num "$LINES") lines: $(kv vmhwm_kb "$pb") kB"
# shellcheck disable=SC2086
timed "$KENCHI" scan $store_opt --output jsonl "$SMALLF" >/dev/null
echo "kenchi scan:           $(num "$SMALL") lines: $T_RSS_KB kB;" \
    "$(num "$LINES") lines: $CLI_RSS_BIG kB"
