#!/bin/sh
# End-to-end: `kenchi scan` into a store, `kenchi search` out of it.
#
# Fixtures (tests/e2e/store/, hand-written): mail.log, 6 RFC 3164 syslog
# lines from programs no mail decoder claims (host.name only), and
# gateway.jsonl, 10 generic JSON events with ECS names (user, source and
# destination IP, e-mail addresses; one IPv6, one IPv4-mapped IPv6, one
# non-address source.ip, one event without a time). Every count below was
# worked out by hand from those two files.
set -u
KENCHI=${KENCHI:-build/debug/kenchi}
case $KENCHI in /*) ;; *) KENCHI=$(pwd)/$KENCHI ;; esac
FIX=tests/e2e/store
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/k.db
n=0

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/# /'; }
check() { # name, expected, actual
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "expected '$2', got '$3'"; fi
}
scan() { $KENCHI scan --no-baselines --no-rules --year 2024 --timezone UTC --output jsonl "$@"; }
field() { # json-on-stdin, python expression on d
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
count() { # search args... -> number of JSON lines
    $KENCHI search --store "$DB" --output jsonl "$@" | wc -l | tr -d ' '
}

# --- scan stores everything, once --------------------------------------------
out=$(scan --store "$DB" $FIX/mail.log $FIX/gateway.jsonl)
check "scan exits 0" 0 $?
check "scan stores 16 events" "16 0" "$(echo "$out" | field 'd["store"]["stored"], d["store"]["duplicates"]' | tr -d '(),')"
size=$(echo "$out" | field 'd["store"]["bytes"]')
[ "$size" -gt 0 ] && ok "scan reports the store size" || nok "scan reports the store size" "$size"
check "search without filters lists all" 16 "$(count)"

out=$(scan --store "$DB" $FIX/mail.log $FIX/gateway.jsonl)
check "re-scan stores nothing new" "0 16" "$(echo "$out" | field 'd["store"]["stored"], d["store"]["duplicates"]' | tr -d '(),')"
check "re-scan does not duplicate" 16 "$(count)"

# --- filters --------------------------------------------------------------------
check "--user is case-insensitive (alice, ALICE, no-time alice)" 4 "$(count --user alice)"
check "--user ALICE same" 4 "$(count --user ALICE)"
check "--user bob" 1 "$(count --user bob)"
check "--user nobody" 0 "$(count --user nobody)"
check "--ip source address" 3 "$(count --ip 198.51.100.7)"
check "--ip destination address" 1 "$(count --ip 203.0.113.25)"
check "--ip matches the IPv4-mapped IPv6 form too" 2 "$(count --ip 192.0.2.66)"
check "--ip CIDR block over source and destination" 2 "$(count --ip 203.0.113.0/24)"
check "--ip IPv6 address" 1 "$(count --ip 2001:db8::5)"
check "--ip IPv6 CIDR" 1 "$(count --ip 2001:db8::/32)"
check "--ip /0 takes every IPv4 address" 7 "$(count --ip 0.0.0.0/0)"
check "--ip non-address value" 1 "$(count --ip unknown)"
check "--email from or to" 2 "$(count --email alice@example.org)"
check "--email is case-insensitive" 1 "$(count --email mallory@evil.example)"
check "--email to" 1 "$(count --email BOB@partner.example)"
check "--since/--until (dates)" 4 "$(count --since 2024-03-03 --until 2024-03-04)"
check "--since RFC 3339" 2 "$(count --since 2024-03-04T00:00:00Z --until 2024-03-05T06:30:00Z)"
check "--user with --since" 1 "$(count --user alice --since 2024-03-02)"
check "--user with --ip" 2 "$(count --user alice --ip 198.51.100.7)"
check "--ip with --email" 1 "$(count --ip 192.0.2.66 --email alice@example.org)"
check "--limit" 2 "$(count --limit 2)"
check "relative --since far in the past finds all timed events" 15 "$(count --since 5000w)"

# --- the JSON lines are the stored events -------------------------------------
j=$($KENCHI search --store "$DB" --output jsonl --ip 192.0.2.66 --email alice@example.org)
check "stored event JSON" "gw1|192.0.2.66|10.0.0.25|MALLORY@evil.example|alice@example.org|2024-03-02T10:00:00.000000000Z" \
    "$(echo "$j" | field '"|".join([d["host"]["name"], d["source"]["ip"], d["destination"]["ip"], d["email"]["from"]["address"], d["email"]["to"]["address"], d["@timestamp"]])')"
j=$($KENCHI search --store "$DB" --output jsonl --user alice | head -1)
check "events without a time come first" "None|health probe without a time stamp" \
    "$(echo "$j" | field '"%s|%s" % (d["@timestamp"], d["message"])')"
$KENCHI search --store "$DB" --output jsonl | python3 -c '
import json, sys
ts = [json.loads(l)["@timestamp"] for l in sys.stdin]
timed = [t for t in ts if t is not None]
sys.exit(0 if ts[0] is None and timed == sorted(timed) and len(timed) == 15 else 1)' \
    && ok "results are in time order" || nok "results are in time order"
p=$($KENCHI parse --year 2024 --timezone UTC $FIX/mail.log | sed -n 3p)
s=$($KENCHI search --store "$DB" --output jsonl --since 2024-03-02 --until 2024-03-02T09:00:01Z)
check "stored JSON equals kenchi parse output" "$p" "$s"

# --- a store big enough to compress its documents ------------------------------
python3 -c "
import json
with open('$T/many.jsonl', 'w') as f:
    for i in range(6000):
        f.write(json.dumps({'@timestamp': '2024-04-01T%02d:%02d:%02dZ' % (i // 3600, i // 60 % 60, i % 60),
                            'user.name': 'user%d' % (i % 30), 'source.ip': '10.9.%d.%d' % (i % 7, i % 250),
                            'destination.ip': '2001:db8::%x' % (i % 11), 'message': 'event number %d' % i}) + '\\n')
"
scan --store "$T/many.db" "$T/many.jsonl" >/dev/null
check "compressed store: all events" 6000 "$($KENCHI search --store "$T/many.db" --output jsonl | wc -l | tr -d ' ')"
check "compressed store: documents are compressed" "blob 6000" \
    "$(python3 -c "import sqlite3; print(*sqlite3.connect('$T/many.db').execute(\"select typeof(doc), count(*) from events group by 1\").fetchone())")"
$KENCHI search --store "$T/many.db" --output jsonl --user USER7 | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
ok = len(rows) == 200 and all(r["user"]["name"] == "user7" and r["message"] == "event number %d" % (r["source"]["line"] - 1) for r in rows)
sys.exit(0 if ok else 1)' && ok "compressed store: documents decompress to the events" || nok "compressed store: documents"
check "compressed store: IPv6 destination" 546 "$($KENCHI search --store "$T/many.db" --output jsonl --ip 2001:db8::3 | wc -l | tr -d ' ')"
$KENCHI search --store "$T/many.db" --output table --ip 2001:db8::3 --limit 1 | grep -q '10\.9\.' && ok "table shows addresses as text" || nok "table shows addresses as text"

# --- table output, query plans -------------------------------------------------
t=$($KENCHI search --store "$DB" --output table --user carol)
echo "$t" | head -1 | grep -q '^TIME *MODULE *HOST *USER *SOURCE IP' && ok "table header" || nok "table header" "$t"
echo "$t" | grep -q '2001:db8::5' && echo "$t" | grep -q '^(2 events)$' && ok "table rows and count" || nok "table rows and count" "$t"
plan=$($KENCHI search --store "$DB" --explain --user alice --since 7d)
echo "$plan" | grep -q 'SEARCH x USING PRIMARY KEY (hour=? AND key=? AND ts>?)' && ! echo "$plan" | grep -q 'SCAN\|TEMP' \
    && ok "user search uses the hunting index" || nok "user search uses the hunting index" "$plan"
plan=$($KENCHI search --store "$DB" --explain --ip 10.0.0.0/8)
echo "$plan" | grep -q 'SEARCH x USING PRIMARY KEY (hour=? AND key>? AND key<?)' && ! echo "$plan" | grep -Eq 'SCAN (x|e|l|h)( |$)' \
    && ok "CIDR search is an index range" || nok "CIDR search is an index range" "$plan"
plan=$($KENCHI search --store "$DB" --explain --since 2024-03-01)
echo "$plan" | grep -q 'USING INDEX events_ts' && ok "time search uses the time index" || nok "time search uses the time index" "$plan"

# --- usage errors -------------------------------------------------------------------
$KENCHI search --store "$DB" --ip 10.0.0.0/33 >/dev/null 2>"$T/err"
check "bad CIDR is a usage error" 2 $?
$KENCHI search --store "$DB" --since yesterday >/dev/null 2>"$T/err"
check "bad time is a usage error" 2 $?
$KENCHI search --store "$DB" --limit 0 >/dev/null 2>"$T/err"
check "bad limit is a usage error" 2 $?
$KENCHI search --help | grep -q -- '--email' && ok "search --help" || nok "search --help"
$KENCHI scan --no-baselines --help | grep -q -- '--no-store' && ok "scan --help names --no-store" || nok "scan --help"

# --- default store, --no-store ---------------------------------------------------
here=$(pwd)
mkdir "$T/cwd"
(cd "$T/cwd" && $KENCHI scan --no-baselines --no-rules --year 2024 --output jsonl "$here/$FIX/mail.log" >/dev/null)
[ -s "$T/cwd/kenchi.db" ] && ok "scan stores into ./kenchi.db by default" || nok "default store"
check "search reads ./kenchi.db by default" 6 "$(cd "$T/cwd" && $KENCHI search --output jsonl | wc -l | tr -d ' ')"
mkdir "$T/nostore"
(cd "$T/nostore" && $KENCHI scan --no-baselines --no-rules --no-store --output jsonl "$here/$FIX/mail.log" >"$T/ns.json")
[ ! -e "$T/nostore/kenchi.db" ] && ok "--no-store creates no store" || nok "--no-store creates no store"
check "--no-store summary" None "$(field 'd["store"]' <"$T/ns.json")"

# --- bad stores: clear message, exit status 3 ------------------------------------------
$KENCHI search --store "$T/missing.db" >/dev/null 2>"$T/err"
rc=$?
check "missing store: exit 3" 3 $rc
grep -q "no such store" "$T/err" && ok "missing store: message" || nok "missing store: message" "$(cat "$T/err")"
[ ! -e "$T/missing.db" ] && ok "search does not create a store" || nok "search does not create a store"

head -c 8192 /dev/urandom >"$T/garbage.db"
$KENCHI search --store "$T/garbage.db" >/dev/null 2>"$T/err"
check "garbage file: search exit 3" 3 $?
grep -q "not a kenchi store" "$T/err" && ok "garbage file: message" || nok "garbage file: message" "$(cat "$T/err")"
scan --store "$T/garbage.db" $FIX/mail.log >/dev/null 2>"$T/err"
check "garbage file: scan exit 3" 3 $?
grep -q "not a kenchi store" "$T/err" && ok "garbage file: scan message" || nok "garbage file: scan message" "$(cat "$T/err")"

python3 -c "import sqlite3; c=sqlite3.connect('$T/other.db'); c.execute('create table t(x)'); c.commit()"
$KENCHI search --store "$T/other.db" >/dev/null 2>"$T/err"
check "another application's database: exit 3" 3 $?
grep -q "not a kenchi store" "$T/err" && ok "another application's database: message" || nok "other db message" "$(cat "$T/err")"

cp "$DB" "$T/newer.db"
python3 -c "import sqlite3; c=sqlite3.connect('$T/newer.db'); c.execute('pragma user_version=99'); c.commit()"
scan --store "$T/newer.db" $FIX/mail.log >/dev/null 2>"$T/err"
check "newer schema: scan exit 3" 3 $?
grep -q "newer than this kenchi" "$T/err" && ok "newer schema: message" || nok "newer schema: message" "$(cat "$T/err")"

# a damaged store: the second half of the file overwritten with zeros
cp "$DB" "$T/damaged.db"
sz=$(wc -c <"$T/damaged.db")
dd if=/dev/zero of="$T/damaged.db" bs=1 seek=$((sz / 2)) count=$((sz / 2)) conv=notrunc 2>/dev/null
$KENCHI search --store "$T/damaged.db" >/dev/null 2>"$T/err"
rc=$?
check "damaged store: exit 3" 3 $rc
grep -q "damaged" "$T/err" && ok "damaged store: message" || nok "damaged store: message" "$(cat "$T/err")"

mkdir "$T/dir.db"
$KENCHI search --store "$T/dir.db" >/dev/null 2>"$T/err"
check "directory as store: exit 3" 3 $?
scan --store "$T/nodir/k.db" $FIX/mail.log >/dev/null 2>"$T/err"
check "store in a missing directory: scan exit 3" 3 $?
grep -q "nodir/k.db" "$T/err" && ok "missing directory: message names the file" || nok "missing directory message" "$(cat "$T/err")"

if [ "$(id -u)" != 0 ]; then
    cp "$DB" "$T/locked.db"
    chmod 000 "$T/locked.db"
    $KENCHI search --store "$T/locked.db" >/dev/null 2>"$T/err"
    check "unreadable store: exit 3" 3 $?
else
    ok "unreadable store # SKIP running as root, permissions do not apply"
fi
