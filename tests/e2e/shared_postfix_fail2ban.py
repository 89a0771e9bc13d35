#!/usr/bin/env python3
"""Postfix decoder against fail2ban's Postfix test log.

$KENCHI_SHARED/data/logs/fail2ban/postfix holds real syslog lines; a
"# failJSON: {...}" comment says what fail2ban's filter must find in the
next line: "match", and for a match the offending "host" and the "time".
Every line that is not a comment must decode as a Postfix event with an
event.action (no Postfix line there is one kenchi does not know); where
failJSON names a host, source.ip must be that host, and where it gives a
time, @timestamp must be that time. The file has no years (RFC 3164): the
lines are decoded once per year failJSON mentions, with --year.

Prints TAP: one line per log line.
"""
import json
import os
import re
import subprocess
import sys

SHARED = os.environ.get("KENCHI_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
LOG = os.path.join(SHARED, "data/logs/fail2ban/postfix")
KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")


def load():
    """[(line number, text, failJSON dict or None)] for each log line."""
    out, pending = [], None
    with open(LOG, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("# failJSON:"):
                pending = json.loads(line[len("# failJSON:"):])
                continue
            if not line.strip() or line.startswith("#"):
                continue
            out.append((no, line, pending))
            pending = None
    return out


def norm_time(t):
    """failJSON time "2005-03-7T02:09:33" -> "2005-03-07T02:09:33"."""
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{2}):(\d{2})$", t)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def run(lines, year):
    text = "".join(l + "\n" for _, l, _ in lines)
    args = [KENCHI, "parse", "--format", "syslog", "--timezone", "UTC", "-"]
    if year:
        args[2:2] = ["--year", str(year)]
    proc = subprocess.run(args, input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"kenchi parse exited {proc.returncode}: {proc.stderr.decode()[:300]}")
    evs = {}
    for out in proc.stdout.decode().splitlines():
        ev = json.loads(out)
        evs[ev["source"]["line"]] = ev
    return evs


def main():
    if not os.path.isfile(LOG):
        print(f"ok - fail2ban postfix log # SKIP {LOG} not found")
        return 0
    lines = load()
    years = sorted({norm_time(j["time"])[:4] for _, _, j in lines
                    if j and j.get("time") and norm_time(j["time"])})
    runs = {None: run(lines, None)}
    for y in years:
        runs[y] = run(lines, y)
    failed = 0
    for idx, (no, text, fj) in enumerate(lines, 1):
        want_time = norm_time(fj["time"]) if fj and fj.get("time") else None
        ev = runs[want_time[:4] if want_time else None].get(idx)
        problems = []
        if ev is None:
            problems.append("no event")
        else:
            if ev["event"].get("module") != "postfix":
                problems.append(f"module {ev['event'].get('module')!r}")
            if ev.get("logsource", {}).get("product") != "postfix":
                problems.append(f"logsource {ev.get('logsource')!r}")
            if not ev["event"].get("action"):
                problems.append("no event.action")
            if fj and fj.get("match") and fj.get("host"):
                got = ev.get("source", {}).get("ip")
                if got != fj["host"]:
                    problems.append(f"source.ip={got!r}, failJSON host={fj['host']!r}")
            if want_time and not ev.get("@timestamp", "").startswith(want_time):
                problems.append(f"@timestamp={ev.get('@timestamp')!r}, failJSON time={want_time}")
        if problems:
            failed += 1
            print(f"not ok - fail2ban postfix line {no}")
            for p in problems:
                print(f"#   {p}")
        else:
            print(f"ok - fail2ban postfix line {no}")
    print(f"# {len(lines) - failed} of {len(lines)} lines decoded as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
