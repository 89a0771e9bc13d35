#!/usr/bin/env python3
"""End-to-end checks of indicator matching in `kenchi scan`.

The bundled samples (docs/samples.md) tell a story: password spraying from
203.0.113.66-.68, a mailbox downloaded from 203.0.113.129 with
python-requests, mail forwarded to mailbox.backup7@freemail.test. A
partner's Zeek intel file (tests/intel/scan/story.intel) and plain list
(story-ips.txt) name those; a warning list (tests/intel/warninglists/)
covers the organisation's own MX, which the list also names. The scan
must find each indicator in the sources that hold it, under the fields
docs/intel.md lists, suppress the warning-listed one, keep the Sigma
alerts, write everything in event-time order, and report bad indicator
lines with their place.

Prints TAP lines.
"""
import json
import os
import subprocess
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
STORY = "tests/intel/scan/story.intel"
IPS = "tests/intel/scan/story-ips.txt"
WL = "tests/intel/warninglists"


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def scan(*args):
    p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--year", "2024", "-o", "jsonl", *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


rc, out, err = scan("--intel", STORY, "--intel", IPS, "--intel-type", "ip",
                    "--warninglists", WL, "samples")
ok(rc == 0, "scan with --intel exits 0", err)
alerts = []
bad = []
for line in out.splitlines():
    try:
        alerts.append(json.loads(line))
    except ValueError:
        bad.append(line)
ok(not bad and alerts, "every output line is a JSON alert", "\n".join(bad[:3]))
intel = [a for a in alerts if a.get("kind") == "intel"]
sigma = [a for a in alerts if a.get("kind") in ("sigma", "correlation")]
ok(intel and sigma, "intel alerts join the Sigma alerts (%d intel, %d sigma)" % (len(intel), len(sigma)))

keys = ["@timestamp", "kind", "rule", "indicator", "indicators_more", "indicators_omitted",
        "matched", "events", "entity", "logsource"]
ikeys = ["type", "value", "feed", "ref", "name", "confidence", "tlp", "labels", "kill_chain",
         "related", "valid_from", "valid_until"]
shape = [a for a in intel if list(a.keys()) != keys or list(a["indicator"].keys()) != ikeys
         or set(a["rule"].keys()) != {"id", "name", "level"}]
ok(not shape, "intel alerts have the documented fields, in order", shape[:1])

ts = [a["@timestamp"] for a in alerts if a["@timestamp"]]
ok(ts == sorted(ts), "all alerts are in event-time order")


def by_value(v):
    return [a for a in intel if a["indicator"]["value"] == v]


exfil = by_value("203.0.113.129")
products = {a["logsource"].get("product") for a in exfil}
ok({"dovecot", "m365", "zeek", "windows"} <= products,
   "203.0.113.129 is found in Dovecot, M365, Zeek and Windows events", sorted(products))
ok(all(a["matched"] == {"source.ip": a["entity"]["source"]["ip"]} or "source.ip" in a["matched"]
       for a in exfil), "the address matched as source.ip")
first = min(a["@timestamp"] for a in exfil)
ok(first.startswith("2024-03-05T02:0"), "the first sighting is the night login (%s)" % first)
a0 = exfil[0]
ok(a0["rule"] == {"id": "https://cert.example/adv/2024-03",
                  "name": "ip indicator from partner-cert", "level": "medium"}
   and a0["indicator"]["name"] == "Mailbox exfiltration host"
   and a0["indicator"]["confidence"] is None,
   "rule and indicator carry the feed's metadata", a0)
ok(all(e["source"]["file"].startswith("samples/") and ("line" in e["source"] or "record" in e["source"])
       for a in exfil for e in a["events"]), "events lead back to file and line")

mbox = by_value("mailbox.backup7@freemail.test")
ok({a["logsource"]["product"] for a in mbox} == {"postfix", "dovecot"}
   and all("email.to.address" in a["matched"] for a in mbox),
   "the drop mailbox is found as email.to.address in Postfix and Dovecot", mbox[:1])
dom = by_value("freemail.test")
relay = [a for a in dom if a["matched"].get("relay_host") == "mx.freemail.test"]
ok(relay, "the drop domain is found in a Postfix relay host (a subdomain)", dom[:1])
ok(any(a["matched"].get("email.to.address", "").endswith("@freemail.test") for a in dom),
   "the drop domain is found in a recipient's domain")
ua = by_value("python-requests/2.31.0")
ok(len(ua) == 1 and ua[0]["matched"] == {"UserAgent": "python-requests/2.31.0"}
   and ua[0]["indicator"]["type"] == "user-agent",
   "the tooling's user agent is found in the M365 sign-in", ua)

spray = [a for a in intel if a["indicator"]["feed"] == "story-ips"]
sv = {a["indicator"]["value"] for a in spray}
sp = {a["logsource"].get("product") for a in spray}
ok(sv == {"203.0.113.66", "203.0.113.67", "203.0.113.68"} and {"dovecot", "linux"} <= sp,
   "the plain list's spraying addresses are found (IMAP and SSH)", (sorted(sv), sorted(sp)))
ok(not by_value("198.51.100.25"), "the warning-listed MX address does not alert")

summ = {}
for line in err.splitlines():
    if line.startswith("{\"intel\""):
        summ = json.loads(line)["intel"]
ok(summ.get("alerts") == len(intel) and summ.get("suppressed", 0) > 0
   and summ.get("warning_listed") == 1 and summ.get("indicators") == 8,
   "the summary counts intel alerts, suppressed matches, warning-listed indicators", summ)
ok("on 7 warning lists" in err and "1 Public resolvers" in err,
   "the load summary names the warning list that suppressed", err)

# without Sigma rules: the same intel alerts
rc2, out2, err2 = scan("--no-rules", "--intel", STORY, "--intel", IPS, "--intel-type", "ip",
                       "--warninglists", WL, "samples")
only = [json.loads(l) for l in out2.splitlines()]
ok(rc2 == 0 and only == intel, "--no-rules --intel gives the same intel alerts", err2[-500:])

# the table on a terminal
p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--no-rules", "--year", "2024", "-o", "table",
                    "--intel", STORY, "samples/m365-audit.json"], capture_output=True, text=True)
ok(p.returncode == 0 and "partner-cert: ip 203.0.113.129" in p.stdout
   and "partner-cert: user-agent python-requests/2.31.0" in p.stdout,
   "the table names feed, type and value", p.stdout + p.stderr)

# problems with their place; bad options
tmp = tempfile.mkdtemp(prefix="kenchi-intel-")
bad_feed = os.path.join(tmp, "bad.intel")
with open(bad_feed, "w") as f:
    f.write("#fields\tindicator\tindicator_type\tmeta.source\n"
            "203.0.113.129\tIntel::ADDR\tx\n"
            "999.1.1.1\tIntel::ADDR\tx\n"
            "192.0.2.0/33\tIntel::SUBNET\tx\n"
            "only-two\tIntel::DOMAIN\n")
rc, out, err = scan("--no-rules", "--intel", bad_feed, "samples/m365-audit.json")
ok(rc == 0 and f"{bad_feed}:3: ip '999.1.1.1' refused" in err
   and f"{bad_feed}:4: ip '192.0.2.0/33' refused: prefix length is more than 32" in err
   and f"{bad_feed}:5: 2 columns where the #fields line names 3" in err
   and "3 values skipped" in err and len(out.splitlines()) == 3,
   "bad indicator lines are reported with file:line, the rest matches", err)
many = os.path.join(tmp, "many.txt")
with open(many, "w") as f:
    for i in range(30):
        f.write("bad value %d\n" % i)
rc, out, err = scan("--no-rules", "--intel", many, "--intel-type", "domain",
                    "samples/m365-audit.json")
shown = [l for l in err.splitlines() if l.startswith("kenchi scan: intel: " + many + ":")]
ok(rc == 0 and len(shown) == 20 and "10 more problems not shown" in err,
   "the first 20 problems are shown, the rest counted", err[-400:])
rc, out, err = scan("--no-rules", "--intel", many, "samples/m365-audit.json")
ok("--intel-type" in err, "a plain list without --intel-type says so", err)
rc, out, err = scan("--intel", "/nonexistent/kenchi.intel", "samples/m365-audit.json")
ok(rc == 2 and "/nonexistent/kenchi.intel" in err, "a missing --intel path is a usage error", err)
rc, out, err = scan("--intel", STORY, "--intel-type", "phone", "samples/m365-audit.json")
ok(rc == 2 and "not an indicator type" in err, "an unknown --intel-type is a usage error", err)
rc, out, err = scan("--intel", STORY, "--warninglists", "/nonexistent/wl", "samples/m365-audit.json")
ok(rc == 2 and "/nonexistent/wl" in err, "a missing --warninglists path is a usage error", err)
# one indicator record, two of its values in one event: one alert
grp = os.path.join(tmp, "node-and-target.json")
with open(grp, "w") as f:
    json.dump({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
               "objects": [{"type": "indicator", "spec_version": "2.1",
                            "id": "indicator--22222222-2222-4222-8222-222222222222",
                            "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
                            "name": "node and its target", "pattern_type": "stix",
                            "valid_from": "2024-01-01T00:00:00Z",
                            "pattern": "[ipv4-addr:value = '203.0.113.129' OR "
                                       "ipv4-addr:value = '198.51.100.25']"}]}, f)
lst = os.path.join(tmp, "node-and-target.txt")
with open(lst, "w") as f:
    f.write("203.0.113.129\n198.51.100.25\n")


def conn_alerts(*intel):
    rc, out, err = scan("--no-rules", *intel, "samples/zeek")
    got = {}
    for line in out.splitlines():
        a = json.loads(line)
        ev = a["events"][0]["source"]
        if ev["file"].endswith("conn.log") and ev["line"] == 18:
            got.setdefault(ev["line"], []).append(a)
    return rc, got.get(18, []), err


rc, al, err = conn_alerts("--intel", grp)
ok(rc == 0 and len(al) == 1 and al[0]["matched"] == {"source.ip": "203.0.113.129",
                                                     "destination.ip": "198.51.100.25"}
   and al[0]["indicator"]["value"] == "203.0.113.129",
   "two values of one STIX indicator in one event: one alert, both fields matched",
   json.dumps(al)[:600] + err)
rc, al, err = conn_alerts("--intel", lst, "--intel-type", "ip")
ok(rc == 0 and sorted(json.dumps(a["matched"]) for a in al) ==
   ['{"destination.ip": "198.51.100.25"}', '{"source.ip": "203.0.113.129"}'],
   "the same values from a plain list (no record reference): an alert each", json.dumps(al)[:600])

for fn in os.listdir(tmp):
    os.unlink(os.path.join(tmp, fn))
os.rmdir(tmp)
