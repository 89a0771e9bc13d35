#!/usr/bin/env python3
"""The threat-intelligence story of issue 4, end to end, as a user runs it.

A partner shares a STIX 2.1 bundle and a MISP event (feeds/) about the
intrusion in the bundled samples (docs/samples.md). With a store that
already holds the sample logs, the user:

  1. imports both (with a warning list): one import each, the bad value in
     the MISP event reported with its place, the public resolver
     suppressed, the revoked STIX indicator kept but never alerting;
  2. re-imports the bundle: nothing new, nothing duplicated;
  3. scans new logs: stored indicators alert, the STIX FOLLOWEDBY pattern
     fires on the Zeek connections, the revoked one does not;
  4. hunts the store: first/last seen, accounts and mailboxes per
     indicator (the exfiltration address gives the mailbox that forwarded);
  5. asks scope for the notification list;
  6. exports kenchi's findings as STIX and checks the bundle
     (tests/e2e/stix_check.py);
  7. lists and removes an import.

Prints TAP lines.
"""
import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
HERE = os.path.dirname(os.path.abspath(__file__))
STIX = "feeds/partner-stix.json"
MISP = "feeds/partner-misp.json"
WL = "feeds/warninglists"


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def jsonl(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "k.db")
    # the logs, stored (no detection yet)
    rc, out, err = run("scan", "--no-baselines", "--no-rules", "--year", "2024", "--store", db, "samples")
    ok(rc == 0, "the sample logs are stored", err)

    # 1. import
    rc, out, err = run("intel", "import", "--store", db, "--warninglists", WL, STIX, MISP)
    ok(rc == 1, "import exits 1 when an input had problems (the rest imported)", out + err)
    ok("import #1" in out and "import #2" in out, "one import per file", out)
    ok("999.1.1.1" in err and "a1000000-0000-4000-8000-000000000009" in err,
       "the refused value is reported with its event and attribute", err)
    ok('on the warning list "Public DNS resolvers (kenchi sample)"' in out,
       "import says what the warning list suppressed", out)
    rc, out, err = run("intel", "list", "--store", db, "-o", "json")
    imports = jsonl(out)
    ok(rc == 0 and len(imports) == 2, "intel list shows two imports", out + err)
    by_fmt = {i["format"]: i for i in imports}
    ok(by_fmt.get("stix", {}).get("indicators") == 5,
       "the bundle gave 5 indicators (3 addresses, 1 e-mail, 1 pattern)", out)
    ok(by_fmt.get("misp", {}).get("warned") == 1, "one MISP indicator is warning-listed", out)

    # 2. re-import: nothing new
    rc, out, err = run("intel", "import", "--store", db, STIX)
    ok(rc == 0 and "0 new, 5 already known" in out, "re-importing adds nothing", out + err)

    # 3. scan with the stored intelligence
    rc, out, err = run("scan", "--no-baselines", "--no-rules", "--year", "2024", "--store", db, "-o", "jsonl",
                       "samples")
    alerts = [a for a in jsonl(out) if a.get("kind") == "intel"]
    ok(rc == 0 and alerts, "scan raises intel alerts from the stored indicators", err)
    vals = {(a["indicator"]["type"], a["indicator"]["value"]) for a in alerts}
    ok(("ip", "203.0.113.129") in vals, "the mailbox access node alerts", sorted(vals))
    ok(("ip", "203.0.113.64/30") in vals, "the spray range (ISSUBSET pattern) alerts",
       sorted(vals))
    ok(("email", "mailbox.backup7@freemail.test") in vals, "the exfiltration address alerts",
       sorted(vals))
    ok(not any(v == "192.0.2.10" for _, v in vals), "the revoked indicator never alerts",
       sorted(vals))
    ok(not any(v == "8.8.8.8" for _, v in vals), "the warning-listed resolver never alerts")
    ok(not any(v == "203.0.113.150" for _, v in vals),
       "an attribute with to_ids false is context, not an alert")
    pat = [a for a in alerts if a["indicator"]["type"] == "stix-pattern"]
    ok(len(pat) == 1, "the FOLLOWEDBY ... WITHIN pattern fires once", len(pat))
    if pat:
        evs = pat[0]["events"]
        ok(len(evs) == 2 and all(e["source"]["file"].endswith("samples/zeek/conn.log")
                                 for e in evs)
           and evs[0]["@timestamp"] < evs[1]["@timestamp"],
           "the pattern alert names the two Zeek connections in order", evs)
        ok(pat[0]["indicator"]["related"] == ["FROSTED LANTERN"]
           and pat[0]["indicator"]["tlp"] == "TLP:AMBER",
           "the pattern alert carries the intrusion set and the TLP", pat[0]["indicator"])
    times = [a["@timestamp"] for a in jsonl(out) if a.get("@timestamp")]
    ok(times == sorted(times), "alerts are in event-time order")
    rc2, out2, err2 = run("scan", "--no-baselines", "--no-rules", "--year", "2024", "--store", db,
                          "--no-stored-intel", "-o", "jsonl", "samples")
    ok(rc2 == 0 and not [a for a in jsonl(out2) if a.get("kind") == "intel"],
       "--no-stored-intel leaves the stored indicators out", err2)

    # 4. hunt
    rc, out, err = run("hunt", "--store", db, "-o", "json")
    rows = jsonl(out)
    hits = {(r.get("type"), r.get("value")): r for r in rows if r.get("kind") == "hit"}
    ok(rc == 1, "hunt exits 1 when indicators were seen", err)
    h = hits.get(("ip", "203.0.113.129"))
    ok(h is not None and h["first_seen"].startswith("2024-03-05T02:05:58")
       and h["last_seen"].startswith("2024-03-05T02:44:10"),
       "hunt: when the access node was first and last seen", h)
    ok(h is not None and "hanna.richter@example.org" in h.get("accounts", []),
       "hunt: the account it touched", h)
    e = hits.get(("email", "mailbox.backup7@freemail.test"))
    ok(e is not None and "hanna.richter@example.org" in e.get("mailboxes", []),
       "hunt: the mailbox that forwarded to the exfiltration address", e)
    ok(("ip", "192.0.2.10") not in hits, "hunt: revoked indicators are not hunted")

    # 5. scope
    rc, out, err = run("scope", "--store", db, "--since", "2024-03-05", "--until",
                       "2024-03-06", "-i", "203.0.113.129", "-d", "example.org", "-o", "csv")
    ok(rc == 0 and "mailbox.backup7@freemail.test" in out,
       "scope: the exfiltration address is on the notification list", out + err)

    # 6. export
    bundle = os.path.join(tmp, "findings.json")
    alerts_file = os.path.join(tmp, "alerts.jsonl")
    rc, out, err = run("scan", "--no-baselines", "--no-store", "--year", "2024", "-o", "jsonl", "samples")
    with open(alerts_file, "w") as f:
        f.write(out)
    rc, out, err = run("intel", "export", "--store", db, "--identity", "Example Org CERT",
                       "--internal-domain", "example.org", "--alerts", alerts_file,
                       "-o", bundle)
    ok(rc == 0 and os.path.exists(bundle), "intel export writes a bundle", err)
    if os.path.exists(bundle):
        chk = subprocess.run([sys.executable, os.path.join(HERE, "stix_check.py"), bundle],
                             capture_output=True, text=True)
        ok(chk.returncode == 0, "the exported bundle passes the STIX 2.1 checks",
           chk.stdout + chk.stderr)
        text = open(bundle).read()
        objs = [json.loads(l.rstrip(",\n")) for l in text.splitlines()[1:]
                if l.startswith("{")]
        sightings = [o for o in objs if o.get("type") == "sighting"]
        ok(any(s.get("sighting_of_ref") == "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
               and s.get("count") == 14 for s in sightings),
           "the partner's indicator is sighted with its count", sightings[:3])
        marks = {m for o in objs for m in o.get("object_marking_refs", [])}
        ok("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" in marks,
           "findings are marked TLP:AMBER by default", sorted(marks))
        ok(any(o.get("type") == "indicator" and "203.0.113" in o.get("pattern", "")
               and o.get("created_by_ref") for o in objs),
           "kenchi's own detections become indicators")

    # 7. remove
    rc, out, err = run("intel", "remove", "--store", db, "2")
    rc2, out2, _ = run("intel", "list", "--store", db, "-o", "json")
    ok(rc == 0 and [i["id"] for i in jsonl(out2)] == [1, 3], "intel remove forgets an import",
       out + err + out2)
    rc, out, err = run("intel", "remove", "--store", db, "99")
    ok(rc == 1 and "no import #99" in err, "removing an unknown import says so", err)
    rc, out, err = run("intel", "import", "--store", db, os.path.join(tmp, "missing.json"))
    ok(rc == 1 and "missing.json" in err, "a missing file is reported, exit 1", err)

    # 8. import from a URL (a server of this test on 127.0.0.1)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory="feeds")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/" % httpd.server_address[1]
    try:
        db2 = os.path.join(tmp, "url.db")
        rc, out, err = run("intel", "import", "--store", db2, base + "partner-stix.json")
        ok(rc == 0 and "5 indicators" in out, "intel import fetches a URL", out + err)
        rc, out, err = run("intel", "list", "--store", db2, "-o", "json")
        ok(rc == 0 and jsonl(out) and jsonl(out)[0]["source"] == base + "partner-stix.json",
           "the import's provenance is the URL, not a temporary file", out + err)
        rc, out, err = run("intel", "import", "--store", db2, base + "missing.json")
        ok(rc == 1 and "404" in err, "a URL the server does not have is reported (HTTP 404)",
           err)
    finally:
        httpd.shutdown()
