#!/bin/sh
# demo.sh - `make demo`: scan the bundled sample logs, then show a few of the
# events kenchi decoded from them, one short block per event.
#
# The samples (samples/, described in docs/samples.md) are kenchi's own:
# mail.log, mail.log.1.gz and
# auth.log come from scripts/gen-maillog.py (a small organisation's mail
# server over a few days in March 2024, with a password-spraying story woven
# in); the JSON and Zeek files are hand-written in the real formats. Their
# RFC 3164 time stamps carry no year, so the demo says --year 2024.
set -u
cd "$(dirname "$0")/.." || exit 3
KENCHI=${KENCHI:-build/release/kenchi}
if [ ! -x "$KENCHI" ]; then
    echo "demo: $KENCHI is missing; run 'make' first" >&2
    exit 3
fi
if [ -t 1 ]; then B=$(printf '\033[1m'); N=$(printf '\033[0m'); else B=; N=; fi

# `scan` grows options as the store and detectors land; keep the demo free
# of the store when the build knows how.
store_opt=""
if "$KENCHI" scan --help 2>/dev/null | grep -q -- '--no-store'; then
    store_opt="--no-store"
fi

echo "${B}\$ kenchi scan${store_opt:+ $store_opt} --year 2024 samples/${N}"
# shellcheck disable=SC2086
"$KENCHI" scan $store_opt --year 2024 --output table samples/
scan_rc=$?
echo

# show FILE PATTERN TITLE: decode FILE, print the event of the first record
# matching PATTERN (a fixed string) as a short block.
show() {
    file=$1 pattern=$2 title=$3
    n=$(grep -n -F -m1 -- "$pattern" "$file" | cut -d: -f1)
    [ -n "$n" ] || return 0
    echo "${B}== $title${N}  ($file:$n)"
    "$KENCHI" parse --year 2024 "$file" 2>/dev/null | python3 -c '
import json, sys
want = int(sys.argv[1])
ev = None
for text in sys.stdin:  # the record that holds line want
    e = json.loads(text)
    line = e.get("source", {}).get("line") or 0
    if line > want:
        break
    ev = e
if ev is None:
    sys.exit(0)
core, native = [], []
def walk(prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(prefix + "." + k if prefix else k, x)
    elif v is not None:
        (native if prefix.startswith("native.") else core).append((prefix, v))
walk("", ev)
noise = {"id", "file", "line", "Version", "Level", "Task", "Opcode", "Keywords", "Id",
         "OrganizationId", "UserKey", "UserType", "RecordType", "EventRecordID",
         "SubjectUserSid", "SubjectLogonId", "TargetUserSid", "ActivityID", "ProcessID",
         "ThreadID", "xmlns", "Guid", "Name"}
rows = [(k, v) for k, v in core + native if k.split(".")[-1] not in noise]
for k, v in rows[:16]:
    k = k.replace("native.Event.EventData.", "native.").replace("native.Event.System.", "native.")
    s = v if isinstance(v, str) else json.dumps(v)
    if len(s) > 90:
        s = s[:87] + "..."
    print("   %-28s %s" % (k if len(k) <= 28 else k[:25] + "...", s))
if len(rows) > 16:
    print("   ... %d more fields" % (len(rows) - 16))
' "$n"
    echo
}

echo "${B}\$ kenchi parse --year 2024 FILE   (a few of the events, shortened)${N}"
echo
show samples/mail.log "status=sent (250 2.0.0 <" "Postfix delivery into a mailbox"
show samples/mail.log "imap-login: Disconnected (auth failed" "Dovecot: a failed IMAP login (password spraying)"
show samples/mail.log "rip=203.0.113.129" "Dovecot: a night-time login from a new address"
show samples/mail.log "forwarded to <" "Dovecot Sieve: mail forwarded to an outside address"
show samples/auth.log "Invalid user" "sshd: password guessing"
show samples/m365-audit.json '"New-InboxRule"' "Microsoft 365: an inbox rule that forwards mail"
show samples/windows-security.json '"EventID":4625' "Windows Security: a failed logon (4625)"
# Threat intelligence: a partner shares indicators about the story in the
# samples (feeds/). Import them into a store that holds the sample logs, then
# ask when they were seen and what the compromise touched.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kenchi-demo.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
db="$tmp/kenchi.db"
"$KENCHI" scan --no-rules --year 2024 --store "$db" samples/ >/dev/null 2>&1
echo "${B}\$ kenchi intel import --warninglists feeds/warninglists feeds/partner-stix.json feeds/partner-misp.json${N}"
"$KENCHI" intel import --store "$db" --warninglists feeds/warninglists \
    feeds/partner-stix.json feeds/partner-misp.json 2>&1
echo
echo "${B}\$ kenchi hunt   (the store holds the sample logs; first lines)${N}"
"$KENCHI" hunt --store "$db" --output table --limit-events 3 2>&1 | sed -n '1,10p'
echo
echo "${B}\$ kenchi scope --since 2024-03-05 --until 2024-03-06 --indicator 203.0.113.129 --domain example.org   (shortened)${N}"
"$KENCHI" scope --store "$db" --since 2024-03-05 --until 2024-03-06 --indicator 203.0.113.129 \
    --domain example.org --output table 2>&1 | sed -n '1,40p'
exit $scan_rc
