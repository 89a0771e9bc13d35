#!/usr/bin/env python3
"""Windows decoders against the SigmaHQ regression data, and damaged EVTX.

Every case directory under $KENCHI_SHARED/data/sigma/regression_data holds
the same events twice: as an EVTX file and as the JSON an EVTX exporter
wrote. kenchi must decode both into the same events: the same count, and per
event the same EventID, Channel, Computer, @timestamp and native fields with
the same values. Known differences of the two exports are normalised, and
only those:
  - numbers vs strings (the JSON export types values, XML is text);
  - GUIDs: the JSON export drops the braces Windows writes ({...});
  - time: the JSON export keeps microseconds, EVTX has 100 ns ticks;
  - trailing spaces: the JSON export trims values; the EVTX records hold them
    (a command line ending in a space is what the process got).
One TAP line per case.

Then damaged EVTX, made at test time from a real file copied into a temporary
directory (nothing from the shared data is committed): cut inside a chunk,
cut inside the file header, cut right after it, and bytes overwritten inside
a chunk. kenchi must not crash, must say what happened, must count the lost
records and must still deliver the records before the damage.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SHARED = os.environ.get("KENCHI_SHARED", os.path.join("..", "shared"))
ROOT = os.path.join(SHARED, "data", "sigma", "regression_data")

# Differences between the two exports of a case that are in the shared data
# itself (checked against the UTF-16 text in the EVTX file): case directory
# suffix -> {field: why}. kenchi reports what each file holds.
KNOWN = {
    "proc_creation_win_susp_right_to_left_override": {
        "ParentCommandLine": "the EVTX record says Explorer.EXE, the JSON Explorer.exe",
    },
}

GUID = re.compile(r"^\{([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}$")


def tap(ok, name, why=""):
    line = ("ok - " if ok else "not ok - ") + name
    print(line)
    if why and not ok:
        for w in why.splitlines()[:12]:
            print("# " + w)
    sys.stdout.flush()


def norm(v):
    """A field value as comparable text."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True, ensure_ascii=False)
    m = GUID.match(v)
    if m:
        return m.group(1).upper()
    if re.match(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$", v):
        return v.upper()
    return v.rstrip(" ")


def deep_norm(v):
    if isinstance(v, dict):
        return {k: deep_norm(x) for k, x in v.items()}
    return norm(v)


def micro(ts):
    """An RFC 3339 time cut to microseconds (the JSON export's precision)."""
    if not isinstance(ts, str):
        return ts
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", ts)
    if not m:
        return ts
    return m.group(1) + "." + ((m.group(2) or "") + "000000")[:6] + "Z"


def parse(paths):
    """Run kenchi parse over paths; return ({file: [events]}, stderr, rc)."""
    out = {}
    p = subprocess.run([KENCHI, "parse"] + paths, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        out.setdefault(ev["source"]["file"], []).append(ev)
    return out, p.stderr, p.returncode


def compare(j, e, known):
    """Differences between the event from JSON (j) and from EVTX (e), except
    the fields in known."""
    diffs = []
    for mod, ev in (("windows", j), ("evtx", e)):
        if ev["event"]["module"] != mod:
            diffs.append("%s event decoded as %s" % (mod, ev["event"]["module"]))
    if diffs:
        return diffs
    if micro(j["@timestamp"]) != micro(e["@timestamp"]):
        diffs.append("@timestamp %s != %s" % (j["@timestamp"], e["@timestamp"]))
    if j.get("logsource") != e.get("logsource"):
        diffs.append("logsource %s != %s" % (j.get("logsource"), e.get("logsource")))
    jn, en = j.get("native", {}), e.get("native", {})
    for k in ("EventID", "Channel", "Computer"):
        if k not in jn:
            diffs.append("JSON event has no %s" % k)
    if list(jn) != list(en):
        diffs.append("field names differ: JSON-only %s, EVTX-only %s" %
                     (sorted(set(jn) - set(en)), sorted(set(en) - set(jn))))
    for k in jn:
        if k not in en or k in known:
            continue
        a, b = jn[k], en[k]
        if k == "TimeCreated":
            a, b = micro(a), micro(b)
        if norm(a) != norm(b):
            diffs.append("%s: %r != %r" % (k, a, b))
    for k in ("host", "user", "process", "file", "dns", "source", "destination"):
        a, b = j.get(k), e.get(k)
        if k == "source":
            a = {x: y for x, y in (a or {}).items() if x not in ("file", "line", "record")}
            b = {x: y for x, y in (b or {}).items() if x not in ("file", "line", "record")}
        if deep_norm(a) != deep_norm(b):
            diffs.append("%s %s != %s" % (k, a, b))
    return diffs


def regression_cases():
    cases = []
    for d, _, files in os.walk(ROOT):
        js = sorted(f for f in files if f.endswith(".json"))
        ex = sorted(f for f in files if f.endswith(".evtx"))
        if js and ex:
            cases.append((d, os.path.join(d, js[0]), os.path.join(d, ex[0])))
    return sorted(cases)


def run_regression():
    cases = regression_cases()
    if not cases:
        tap(True, "windows regression data # SKIP no cases under " + ROOT)
        return None
    jev, jerr, _ = parse([c[1] for c in cases])
    eev, eerr, erc = parse([c[2] for c in cases])
    tap("damaged" not in eerr and "not a well-formed" not in eerr and erc == 0,
        "regression EVTX files read without damage", eerr)
    for d, jf, ef in cases:
        name = "regression " + os.path.relpath(d, ROOT)
        a, b = jev.get(jf, []), eev.get(ef, [])
        why = []
        if not a:
            why.append("no events from the JSON file")
        if len(a) != len(b):
            why.append("%d events from JSON, %d from EVTX" % (len(a), len(b)))
        known = KNOWN.get(os.path.basename(d), {})
        for i, (x, y) in enumerate(zip(a, b)):
            for w in compare(x, y, known):
                why.append("event %d: %s" % (i + 1, w))
        tap(not why, name, "\n".join(why))
    # the multi-event file used for the damage tests
    best = max(cases, key=lambda c: len(eev.get(c[2], [])))
    return best[2], eev.get(best[2], [])


def strip(ev):
    """An event without what depends on the file's path."""
    ev = json.loads(json.dumps(ev))
    ev["event"].pop("id", None)
    ev["source"].pop("file", None)
    return ev


def damaged(src, events):
    n = len(events)
    tmp = tempfile.mkdtemp(prefix="kenchi-evtx-")
    try:
        size = os.path.getsize(src)
        cases = [
            # (name, bytes kept or None, overwrite (offset, bytes) or None)
            ("cut inside the last chunk", size - 9000, None),
            ("cut just after the first records", 4096 + 512 + 2 * 1400, None),
            ("cut inside the file header", 100, None),
            ("cut right after the file header", 4096, None),
            ("bytes overwritten inside a record", None, (4096 + 512 + 200, b"\xff" * 64)),
            ("chunk header overwritten", None, (4096, b"\x00" * 128)),
        ]
        for name, keep, patch in cases:
            path = os.path.join(tmp, "damaged.evtx")
            shutil.copyfile(src, path)
            os.chmod(path, 0o644)
            if keep is not None:
                with open(path, "r+b") as f:
                    f.truncate(keep)
            if patch is not None:
                with open(path, "r+b") as f:
                    f.seek(patch[0])
                    f.write(patch[1])
            p = subprocess.run([KENCHI, "parse", path], capture_output=True, text=True)
            why = []
            if p.returncode not in (0, 1) or "Sanitizer" in p.stderr or "runtime error" in p.stderr:
                why.append("exit %d\n%s" % (p.returncode, p.stderr[-1500:]))
            try:
                got = [json.loads(l) for l in p.stdout.splitlines()]
            except ValueError as e:
                got = []
                why.append("output is not JSON lines: %s" % e)
            if not p.stderr.strip():
                why.append("no message on standard error")
            if keep is not None and keep < 4096:
                if "truncated inside the file header" not in p.stderr or got:
                    why.append("expected 'truncated inside the file header' and no events: %s" % p.stderr)
            elif keep is not None:
                if "truncated" not in p.stderr and keep > 4096:
                    why.append("the cut is not reported: %s" % p.stderr)
                lost = n - len([g for g in got if g["event"]["module"] == "evtx"])
                m = re.search(r"(\d+) damaged records skipped", p.stderr)
                if lost and keep > 4096 and (not m or int(m.group(1)) != lost):
                    why.append("%d records lost, stderr says %s" % (lost, m and m.group(0)))
                good = [g for g in got if g["event"]["module"] == "evtx"]
                if [strip(g) for g in good] != [strip(g) for g in events[:len(good)]]:
                    why.append("the records before the cut differ from the intact file's")
                if keep == size - 9000 and not good:
                    why.append("no record of the cut chunk was delivered")
            if p.returncode == 0 and keep is None and not got and "damaged" not in p.stderr:
                why.append("nothing delivered and no damage counted")
            tap(not why, "damaged EVTX: " + name, "\n".join(why))
    finally:
        shutil.rmtree(tmp)


def main():
    if not os.path.isdir(ROOT):
        tap(True, "windows regression data # SKIP %s is absent" % ROOT)
        tap(True, "damaged EVTX # SKIP needs a real EVTX file from %s" % ROOT)
        return
    got = run_regression()
    if not got or len(got[1]) < 3:
        tap(True, "damaged EVTX # SKIP no EVTX file with 3 records or more")
        return
    damaged(*got)


if __name__ == "__main__":
    main()
