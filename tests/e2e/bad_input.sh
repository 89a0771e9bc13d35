#!/bin/sh
# bad_input.sh - broken and hostile inputs through `kenchi scan` and
# `kenchi parse`. For every case: no crash, no sanitizer report and no hang
# (each run is wrapped in `timeout 60`), a sane exit status (0, or 1 when a
# file could not be read to the end), the expected message with its file (and
# line) on stderr, the matching counter in the `scan --output jsonl` summary,
# and only valid JSON objects, one a line, out of `parse`.
#
# Inputs are generated into a temporary directory at test time. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 3
K=${KENCHI:-build/debug/kenchi}
case $K in /*) ;; *) K=$PWD/$K ;; esac
# A sanitizer report must not pass for "problems in the input" (status 1).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:exitcode=87"
export TZ=UTC
T=$(mktemp -d)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 3

tap() { # tap OK|FAIL "name" [detail...]
    if [ "$1" = OK ]; then echo "ok - $2"; else
        echo "not ok - $2"
        shift 2
        for d in "$@"; do printf '%s\n' "$d" | head -c 600 | sed 's/^/# /'; echo; done
    fi
}

# run NAME EXPECT_RC MSG_REGEX SUMMARY_EXPR PATH...
#   MSG_REGEX: extended regex stderr must match ("" = nothing required)
#   SUMMARY_EXPR: Python expression over the summary dict s
run() {
    name=$1 want_rc=$2 msg=$3 expr=$4
    shift 4
    timeout 60 "$K" scan --no-baselines --no-store --no-rules --output jsonl "$@" >scan.out 2>scan.err </dev/null
    rc=$?
    case $rc in
        124) tap FAIL "$name: scan finished (it hung)" ;;
        0 | 1) if [ "$rc" = "$want_rc" ]; then tap OK "$name: scan exit status $rc"; else
            tap FAIL "$name: scan exit status $rc, wanted $want_rc" "$(cat scan.err)"; fi ;;
        *) tap FAIL "$name: scan crashed or failed (exit $rc)" "$(cat scan.err)" ;;
    esac
    if grep -q -E 'Sanitizer|runtime error|LeakSanitizer' scan.err; then
        tap FAIL "$name: no sanitizer report" "$(grep -E 'Sanitizer|runtime error' scan.err)"
    fi
    if [ -n "$msg" ]; then
        if grep -q -E "$msg" scan.err; then tap OK "$name: message on stderr"; else
            tap FAIL "$name: message on stderr matching /$msg/" "$(cat scan.err)"; fi
    fi
    if python3 -c '
import json, sys
s = json.loads(open("scan.out").read())
sys.exit(0 if eval(sys.argv[1]) else 1)' "$expr" 2>scan.py.err; then
        tap OK "$name: summary $expr"
    else
        tap FAIL "$name: summary $expr" "$(cat scan.out)" "$(cat scan.py.err)"
    fi
    timeout 60 "$K" parse "$@" >parse.out 2>parse.err </dev/null
    rc=$?
    case $rc in
        0 | 1) ;;
        124) tap FAIL "$name: parse finished (it hung)" ;;
        *) tap FAIL "$name: parse crashed or failed (exit $rc)" "$(cat parse.err)" ;;
    esac
    if python3 -c '
import json, sys
n = 0
with open("parse.out", "rb") as f:
    for raw in f:
        ev = json.loads(raw.decode("utf-8"))  # strict UTF-8, one object a line
        assert isinstance(ev, dict) and "event" in ev, raw[:200]
        n += 1
print(n)' >parse.count 2>parse.py.err; then
        tap OK "$name: parse prints valid JSON lines ($(cat parse.count))"
    else
        tap FAIL "$name: parse prints valid JSON lines" "$(cat parse.py.err)"
    fi
}

# -- inputs ---------------------------------------------------------------
LINE='Mar  5 02:06:28 mx1 sshd[2231]: Failed password for root from 203.0.113.66 port 40122 ssh2'

python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(7).randbytes(200000))' \
    >garbage.bin
run "binary garbage" 0 'garbage\.bin:[0-9]+: first of [0-9]+ records' \
    's["unparsed"] > 0 and s["unparsed"] == s["events"]' garbage.bin

printf '{"a":1}\n{"b":2\n{"c":3}\n{"d":' >trunc.ndjson
run "truncated NDJSON" 0 'trunc\.ndjson:2: not a complete JSON value' \
    's["events"] == 4 and s["unparsed"] == 2' trunc.ndjson

python3 -c '
import json
recs = [{"Operation": "UserLoggedIn", "UserId": "u%d@example.org" % i, "ClientIP": "192.0.2.%d" % i,
         "ExtendedProperties": [{"Name": "UserAgent", "Value": "x"}]} for i in range(3)]
text = json.dumps(recs, indent=2)
open("trunc-pretty.json", "w").write(text[: text.index("192.0.2.2") + 3])  # inside record 3'
run "truncated pretty JSON" 0 'trunc-pretty\.json:[0-9]+: not a complete JSON value' \
    's["events"] == 3 and s["unparsed"] == 1' trunc-pretty.json

{
    echo "$LINE"
    printf 'Mar  5 02:06:29 mx1 sshd[2232]: '
    head -c 10485760 /dev/zero | tr '\0' 'A'
    echo
    echo "$LINE"
} >big.log
run "10 MB line" 0 'big\.log:2: record longer than' \
    's["events"] == 3 and s["truncated"] == 1 and s["unparsed"] == 0' big.log

printf 'Mar  5 02:06:28 mx1 sshd[1]: bad \377\376 overlong \300\257 cut \342\202\n%s\n' "$LINE" >utf8.log
# Not a problem to report: the line is read and the bad bytes become U+FFFD.
run "invalid UTF-8" 0 '' 's["events"] == 2 and s["unparsed"] == 0' utf8.log
if grep -q "$(printf '\357\277\275')" parse.out; then tap OK "invalid UTF-8: bytes become U+FFFD"; else
    tap FAIL "invalid UTF-8: bytes become U+FFFD" "$(head -c 400 parse.out)"; fi

printf 'Mar  5 02:06:28 mx1 sshd[1]: nul \000 inside\n\000\000\000\n%s\n' "$LINE" >nul.log
run "NUL bytes" 0 'nul\.log:2: first of 1 records' 's["events"] == 3 and s["unparsed"] == 1' \
    nul.log
if grep -q 'nul \\u0000 inside' parse.out; then tap OK "NUL bytes: kept as \\u0000"; else
    tap FAIL "NUL bytes: kept as \\u0000" "$(head -c 400 parse.out)"; fi

printf '\037\213\010\000\000\000\000\000\000\003garbage, not deflate' >corrupt.gz
run "corrupt gzip (header only)" 1 'corrupt\.gz: corrupt compressed data' \
    's["files_failed"] == 1 and s["files"][0]["error"] is not None' corrupt.gz

python3 -c '
import gzip
lines = "".join("Mar  5 02:%02d:%02d mx1 sshd[%d]: line %d\n" % (i // 60 % 60, i % 60, i, i)
                for i in range(60000)).encode()
data = bytearray(gzip.compress(lines, mtime=0))
data[len(data) // 2] ^= 0x55
open("damaged.gz", "wb").write(data)'
run "corrupt gzip (damage mid-stream)" 1 'damaged\.gz: read stopped: corrupt or truncated' \
    's["files_failed"] == 1 and s["events"] > 0' damaged.gz

if command -v zstd >/dev/null 2>&1; then
    seq 1 100000 | sed 's/^/Mar  5 02:06:28 mx1 sshd[1]: line /' | zstd -q -c >full.zst
    head -c "$(($(wc -c <full.zst) / 2))" full.zst >trunc.zst
    run "truncated zstd" 1 'trunc\.zst: read stopped: corrupt or truncated' \
        's["files_failed"] == 1 and 0 < s["events"] < 100000' trunc.zst
else
    echo "ok - truncated zstd # SKIP the zstd command is not installed"
fi

: >empty.log
# Not a problem to report: an empty file (a fresh rotation) has no records.
run "empty file" 0 '' 's["files_read"] == 1 and s["events"] == 0' empty.log

mkdir -p loop/sub
echo "$LINE" >loop/mail.log
ln -s .. loop/sub/up
run "directory loop" 1 'loop/sub/up: directory loop' \
    's["files_failed"] == 1 and s["events"] == 1' loop

ln -s "$T/does-not-exist" dangling.log
run "dangling symlink" 1 'dangling\.log: No such file or directory' 's["files_failed"] == 1' \
    dangling.log

mkfifo fifo
# A FIFO named on the command line is read as a stream; with no writer it ends at once.
run "FIFO without writer" 0 '' 's["files_failed"] == 0 and s["events"] == 0' fifo
mkdir fifodir
mkfifo fifodir/pipe
echo "$LINE" >fifodir/mail.log
# Inside a directory tree a FIFO is no log: it is not opened at all.
run "FIFO inside a directory" 0 '' 's["events"] == 1' fifodir

if [ -r /proc/self/mem ]; then
    # A file whose read fails (EIO at offset 0): a real read error, even for root.
    run "read error (EIO)" 1 '/proc/self/mem: Input/output error' \
        's["files_failed"] == 1 and s["files"][0]["error"] is not None' /proc/self/mem
fi

echo "$LINE" >noperm.log
chmod 000 noperm.log
if [ "$(id -u)" != 0 ]; then
    run "unreadable file" 1 'noperm\.log: Permission denied' 's["files_failed"] == 1' noperm.log
elif command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$K" 2>/dev/null; then
    chmod 755 "$T"
    timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$K" scan --no-baselines --no-store --no-rules --output jsonl noperm.log >scan.out 2>scan.err
    rc=$?
    if [ $rc = 1 ] && grep -q 'noperm\.log: Permission denied' scan.err &&
        grep -q '"files_failed":1' scan.out; then
        tap OK "unreadable file (chmod 000, as nobody): message, counter, exit 1"
    else
        tap FAIL "unreadable file (chmod 000, as nobody): exit $rc" "$(cat scan.err)"
    fi
else
    echo "ok - unreadable file (chmod 000) # SKIP running as root and cannot drop to nobody"
fi

mkdir adir
# A directory where a file is expected: as standard input, and behind a
# path that names it as a file.
timeout 60 "$K" scan --no-baselines --no-store --no-rules --output jsonl - <adir >scan.out 2>scan.err
rc=$?
if [ $rc = 1 ] && grep -q -- '-: read stopped: Is a directory' scan.err &&
    grep -q '"files_failed":1' scan.out; then
    tap OK "directory as standard input: message, counter, exit 1"
else
    tap FAIL "directory as standard input: exit $rc" "$(cat scan.err)" "$(cat scan.out)"
fi
timeout 60 "$K" parse - <adir >parse.out 2>parse.err
rc=$?
if [ $rc = 1 ] && [ ! -s parse.out ]; then tap OK "directory as standard input: parse exit 1"; else
    tap FAIL "directory as standard input: parse exit $rc" "$(cat parse.err)"; fi
run "file named as a directory" 1 'empty\.log/: Not a directory' 's["files_failed"] == 1' \
    empty.log/
