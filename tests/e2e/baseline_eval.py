#!/usr/bin/env python3
"""End-to-end evaluation of kenchi's per-entity baselines on the repository's
own organisation (scripts/gen-mailorg.py; docs/baselines-eval.md).

The generator's output is checked first: the same seed gives the same files,
every record decodes (no unparsed events), the truth file is coherent, and
each intrusion leaves in the decoded events the change it is meant to be
found by (a new source and 30x the volume, forwarding to a new domain, an
application's first mailbox reads, an unresolved destination then an hourly
beacon, one source failing on many accounts, mail to a new domain), and each
normal-life case is in the events as the truth describes it.
Then `kenchi scan --config OUTDIR/kenchi.yml` runs over the organisation's
mail.log, m365.json and zeek/ logs, and from its alerts of kind "anomaly":

  - every injected intrusion has an alert at level medium or above on one
    of the intrusion's entities, stamped within an hour of its start;
  - no normal-life case has an alert at medium or above on its entities
    between its start and a day after its end;
  - two runs give the same alerts;
  - the false-alert rate (alerts at medium or above that no intrusion
    explains: same entity, within three days of its start) per 1,000
    mailbox-days is printed.

While kenchi has no baseline engine (`kenchi scan --help` does not mention
--config) the baseline checks print "# SKIP baselines not built".

    python3 tests/e2e/baseline_eval.py                       # TAP (make test)
    python3 tests/e2e/baseline_eval.py --report --mailboxes 1000 --days 42
        figures for docs/performance.md (also KENCHI_EVAL_MAILBOXES,
        KENCHI_EVAL_DAYS, KENCHI_EVAL_SEED)
"""
import argparse
import bisect
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "scripts", "gen-mailorg.py")
MMDB = os.path.join(ROOT, "scripts", "mmdb-write.py")
LEVELS = ("medium", "high", "critical")
HOUR = 3600
DAY = 86400
n = 0


def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, name))
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)
    return cond


def skip(name, reason):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, name, reason))


def kenchi_path():
    k = os.environ.get("KENCHI")
    if k:
        return k if os.path.isabs(k) else os.path.join(ROOT, k)
    for variant in ("debug", "release"):
        p = os.path.join(ROOT, "build", variant, "kenchi")
        if os.path.exists(p):
            return p
    return os.path.join(ROOT, "build", "debug", "kenchi")


def epoch(s):
    """RFC 3339 (any number of fractional digits, Z or +00:00) to seconds."""
    s = s.replace("+00:00", "Z")
    frac = 0.0
    if "." in s:
        head, rest = s.split(".", 1)
        digits = rest.rstrip("Z")
        frac = float("0." + digits) if digits else 0.0
        s = head + "Z"
    t = dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return t.timestamp() + frac


def generate(outdir, a):
    cmd = [sys.executable, GEN, outdir, "--mailboxes", str(a.mailboxes), "--days", str(a.days),
           "--seed", str(a.seed)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stderr


def digest(outdir):
    """Hashes of the generated files (kenchi.yml names its own directory)."""
    h = {}
    for rel in ("mail.log", "m365.json", "zeek/conn.log", "zeek/dns.log", "truth.json",
                "networks.json"):
        with open(os.path.join(outdir, rel), "rb") as f:
            h[rel] = hashlib.sha256(f.read()).hexdigest()
    return h


def ev_time(s):
    """An event's @timestamp (nine fractional digits) in seconds."""
    return dt.datetime.fromisoformat(s[:26] + "+00:00").timestamp()


def check_decoding(kenchi, outdir):
    """Every record of every file decodes (no unparsed events). Returns the
    events, reduced to what check_signals needs, in time order."""
    evs = []
    for rel in ("mail.log", "m365.json", "zeek/conn.log", "zeek/dns.log"):
        p = subprocess.run([kenchi, "parse", os.path.join(outdir, rel)], capture_output=True)
        if p.returncode != 0:
            ok(False, "%s decodes" % rel, p.stderr.decode(errors="replace"))
            continue
        out = p.stdout.decode()
        events = out.count("\n")
        unparsed = out.count('"module":"unparsed"')
        ok(events > 0 and unparsed == 0, "%s decodes: %d events, %d unparsed" %
           (rel, events, unparsed))
        for line in out.splitlines():
            e = json.loads(line)
            ev, nat = e.get("event", {}), e.get("native", {})
            evs.append((ev_time(e["@timestamp"]), ev.get("module"), ev.get("action"),
                        ev.get("outcome"), e.get("user", {}).get("name"),
                        e.get("source", {}).get("ip"), e.get("destination", {}).get("ip"),
                        e.get("destination", {}).get("bytes", 0),
                        e.get("email", {}).get("to", {}).get("address"), nat.get("AppId"),
                        nat.get("Parameters.ForwardTo") or nat.get(
                            "Parameters.ForwardingSmtpAddress"), nat.get("answers"),
                        nat.get("MailboxOwnerUPN"), nat.get("orig_to"),
                        nat.get("ModifiedProperties.ConsentContext.IsAdminConsent.NewValue"),
                        e.get("email", {}).get("from", {}).get("address"), nat.get("nrcpt")))
    evs.sort(key=lambda x: x[0])
    return evs


def check_normal(truth, evs, outdir):
    """Each normal-life case is in the events as the truth describes it."""
    T, MOD, ACT, OUT, USER, SIP, DIP, DBYTES, TO, APP, FWD, ANS, OWNER, ORIG, ADMIN, FROM, \
        NRCPT = range(17)
    with open(os.path.join(outdir, "networks.json")) as f:
        nets = [(ipaddress.ip_network(n["network"]), n) for n in json.load(f)]

    def net(ip, what):
        try:
            a = ipaddress.ip_address(ip)
        except (TypeError, ValueError):
            return None
        return next((n[what] for cidr, n in nets if a in cidr), None)
    times = [e[T] for e in evs]
    for x in truth["normal"]:
        s, end = epoch(x["start"]), epoch(x["end"])
        ids = [e["id"] for e in x["entities"]]
        during = evs[bisect.bisect_left(times, s):bisect.bisect_right(times, end)]
        mine = [e for e in during if e[USER] == ids[0]]
        old = evs[:bisect.bisect_left(times, s)]
        if x["kind"] == "travel":
            known = set(net(e[SIP], "country") for e in old if e[USER] == ids[0])
            new = [net(e[SIP], "country") for e in mine]
            new = [c for c in new if c and c not in known]
            good, why = len(new) >= 10, "%d events from %s" % (len(new), sorted(set(new)))
        elif x["kind"] == "new-phone":
            known = set(net(e[SIP], "asn") for e in old if e[USER] == ids[0])
            new = set(net(e[SIP], "asn") for e in mine) - known - {None}
            good, why = len(new) == 1, "new networks AS%s" % sorted(new)
        elif x["kind"] == "mailbox-resync":
            b = sum(e[DBYTES] for e in mine if e[MOD] == "dovecot")
            good, why = b >= 1e9, "%d bytes downloaded" % b
        elif x["kind"] == "backup-rollout":
            consent = any(e[ACT] == "Consent to application." and e[ADMIN] == "True"
                          for e in during)
            owners = set(e[OWNER] for e in during if e[APP] == ids[0] and
                         e[ACT] == "MailItemsAccessed")
            m365 = set(e[OWNER] for e in evs if e[OWNER])
            good = consent and len(owners) >= 0.9 * len(m365)
            why = "admin consent %s, %d of %d mailboxes read" % (consent, len(owners), len(m365))
        elif x["kind"] == "newsletter":
            sends = [e[NRCPT] for e in during if e[FROM] == ids[0] and e[ACT] == "queued" and
                     e[NRCPT]]
            weeks = max(1, int((end - s) // (7 * DAY)))
            good = len(sends) >= 10 * weeks and sum(sends) >= 100 * weeks
            why = "%d messages to %d recipients in %d weeks" % (len(sends), sum(sends), weeks)
        elif x["kind"] == "internal-forwarding":
            fw = [e[FWD] for e in mine if e[FWD]]
            orig = sum(1 for e in during if e[ORIG] in ids[1:])
            good = bool(fw) and all(f.rsplit("@", 1)[-1] in truth["org"]["domains"]
                                    for f in fw) and orig > 0
            why = "forwarding %s, %d alias deliveries" % (fw, orig)
        elif x["kind"] == "delegation":
            n = sum(1 for e in mine if e[ACT] == "MailItemsAccessed" and e[OWNER] == ids[1])
            good, why = n >= 5, "%d reads of %s by %s" % (n, ids[1], ids[0])
        else:
            good, why = False, "unknown kind"
        ok(good, "normal life %s is in the events (%s)" % (x["id"], why))


def check_signals(truth, evs):
    """Each intrusion leaves, in the decoded events, the change it is meant
    to be found by (as kenchi's fields carry it)."""
    T, MOD, ACT, OUT, USER, SIP, DIP, DBYTES, TO, APP, FWD, ANS = range(12)  # check_normal
    org = truth["org"]
    mx = org["servers"]["gateway"]["ip"]
    times = [e[T] for e in evs]
    for x in truth["intrusions"]:
        s = epoch(x["start"])
        ids = [e["id"] for e in x["entities"]]
        before = evs[:bisect.bisect_left(times, s)]
        first_hour = evs[len(before):bisect.bisect_right(times, s + HOUR)]
        why = ""
        if x["kind"] == "account-takeover":
            acct, src = ids[0], ids[1]
            seen = any(e[USER] == acct and e[SIP] == src for e in before)
            days = {}
            for e in before:
                if e[USER] == acct and e[MOD] == "dovecot" and e[DBYTES]:
                    days[int(e[T] // DAY)] = days.get(int(e[T] // DAY), 0) + e[DBYTES]
            vals = sorted(days.values()) or [0]
            p95 = vals[min(len(vals) - 1, int(len(vals) * 0.95))]
            got = sum(e[DBYTES] for e in first_hour if e[USER] == acct)
            good = not seen and got >= 25 * p95 and got >= 50e6
            why = "new source %s, %d bytes in the first hour, daily p95 %d" % (not seen, got, p95)
        elif x["kind"] == "m365-forwarding":
            acct, src = ids[0], ids[1]
            fwd = [e[FWD] for e in first_hour if e[USER] == acct and e[FWD]]
            dom = fwd[0].rsplit("@", 1)[-1] if fwd else None
            good = bool(fwd) and not any(e[USER] == acct and e[SIP] == src for e in before) \
                and not any(e[TO] and e[TO].endswith("@" + dom) for e in before)
            why = "forwarding %s" % fwd
        elif x["kind"] == "app-mail-access":
            app = ids[0]
            reads = [e for e in first_hour if e[ACT] == "MailItemsAccessed" and e[APP] == app]
            good = bool(reads) and not any(e[ACT] == "MailItemsAccessed" and e[APP] == app
                                           for e in before)
            why = "%d reads in the first hour" % len(reads)
        elif x["kind"] == "gateway-compromise":
            c2 = [i for e, i in zip(x["entities"], ids) if e["kind"] == "source"][0]
            conns = [e for e in first_hour if e[SIP] == mx and e[DIP] == c2]
            answered = any(e[ANS] and c2 in e[ANS] for e in evs)
            talked = any(e[SIP] == mx and e[DIP] == c2 for e in before)
            later = sorted(e[T] for e in evs if e[SIP] == mx and e[DIP] == c2)
            gaps = [b - a for a, b in zip(later[1:], later[2:26])]
            regular = bool(gaps) and all(3600 * 0.97 <= g <= 3600 * 1.03 for g in gaps)
            good = bool(conns) and not answered and not talked and regular
            why = "%d connections in the first hour, answered %s, before %s, regular %s" % (
                len(conns), answered, talked, regular)
        elif x["kind"] == "password-spray":
            srcs = [i for e, i in zip(x["entities"], ids) if e["kind"] == "source"]
            acct = [i for e, i in zip(x["entities"], ids) if e["kind"] == "account"][0]
            per = {a: set(e[USER] for e in first_hour if e[SIP] == a and e[OUT] == "failure")
                   for a in srcs}
            won = any(e[SIP] in srcs and e[USER] == acct and e[ACT] == "login" and
                      e[OUT] == "success" for e in evs if e[T] > s)
            good = min(len(v) for v in per.values()) >= 10 and won
            why = "accounts tried per source in the first hour: %s; success %s" % (
                [len(v) for v in per.values()], won)
        elif x["kind"] == "new-domain-volume":
            acct = ids[0]
            doms = [e[TO].rsplit("@", 1)[-1] for e in first_hour if e[TO] and
                    e[MOD] == "postfix" and "@example" not in e[TO]]
            dom = max(set(doms), key=doms.count) if doms else None
            good = doms.count(dom) >= 50 and not any(e[TO] and e[TO].endswith("@" + dom)
                                                      for e in before)
            why = "%d deliveries to %s in the first hour" % (doms.count(dom), dom)
        else:
            good, why = False, "unknown kind"
        ok(good, "intrusion %s leaves its signal in the events (%s)" % (x["id"], why))


def check_truth(truth):
    org = truth["org"]
    t0, t1 = epoch(org["start"]), epoch(org["end"])
    bad = []
    for x in truth["intrusions"]:
        s = epoch(x["start"])
        if not (t0 + 7 * DAY <= s < t1) or not x["entities"]:
            bad.append("%s starts %s (period %s..%s, learning 7 days)" %
                       (x["id"], x["start"], org["start"], org["end"]))
    for x in truth["normal"]:
        if not (t0 <= epoch(x["start"]) <= epoch(x["end"]) <= t1) or not x["entities"]:
            bad.append("%s: %s..%s" % (x["id"], x["start"], x["end"]))
    for x in truth["normal"]:
        for y in truth["intrusions"]:
            if ents(x) & ents(y) and epoch(x["start"]) <= epoch(y["start"]) + 3 * DAY and \
                    epoch(y["start"]) <= epoch(x["end"]) + DAY:
                bad.append("%s and %s share entities %s" % (x["id"], y["id"],
                                                          sorted(ents(x) & ents(y))))
    kinds = sorted(set(x["kind"] for x in truth["intrusions"]))
    ok(not bad and len(kinds) == 6, "truth: %d intrusions of %d kinds after the learning "
       "period, %d normal-life cases inside the period, apart from them" %
       (len(truth["intrusions"]), len(kinds), len(truth["normal"])), "\n".join(bad))


def engine_state(kenchi):
    """'absent' when scan has no --config, 'maybe' when it has one but does
    not speak of baselines, 'present' otherwise."""
    p = subprocess.run([kenchi, "scan", "--help"], capture_output=True, text=True)
    text = p.stdout + p.stderr
    if "--config" not in text:
        return "absent"
    return "present" if "baseline" in text.lower() else "maybe"


def make_geo(outdir, cfg):
    """Builds the MMDBs when scripts/mmdb-write.py exists; else the
    configuration loses its geoip section. Returns a note."""
    if not os.path.exists(MMDB):
        with open(cfg) as f:
            lines = f.read().splitlines(True)
        out, skipping = [], False
        for line in lines:
            if line.strip() == "geoip:":
                skipping = True
                continue
            if skipping and line.startswith("    "):
                continue
            skipping = False
            out.append(line)
        with open(cfg, "w") as f:
            f.writelines(out)
        return "scripts/mmdb-write.py absent: no ASN/country data"
    nets = os.path.join(outdir, "networks.json")
    for kind in ("asn", "country"):
        p = subprocess.run([sys.executable, MMDB, "--kind", kind, nets,
                            os.path.join(outdir, kind + ".mmdb")], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("mmdb-write.py --kind %s failed: %s" % (kind, p.stderr.strip()))
    return "ASN and country MMDBs built"


def scan(kenchi, outdir):
    cmd = [kenchi, "scan", "--no-store", "--output", "jsonl", "--config",
           os.path.join(outdir, "kenchi.yml"), os.path.join(outdir, "mail.log"),
           os.path.join(outdir, "m365.json"), os.path.join(outdir, "zeek")]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def anomalies(stdout):
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            a = json.loads(line)
        except ValueError:
            continue
        if a.get("kind") == "anomaly":
            out.append(a)
    return out


def ent(a):
    e = (a.get("anomaly") or {}).get("entity") or {}
    return (str(e.get("kind", "")).lower(), str(e.get("id", "")).lower())


def level(a):
    return str((a.get("rule") or {}).get("level", "")).lower()


def rule_id(a):
    return str((a.get("rule") or {}).get("id", ""))


def ents(x):
    return set((e["kind"].lower(), e["id"].lower()) for e in x["entities"])


def evaluate(truth, alerts):
    """Matches alerts against the truth; returns a dict of results."""
    serious = [(epoch(a["@timestamp"]), a) for a in alerts
               if level(a) in LEVELS and a.get("@timestamp")]
    res = {"intrusions": [], "normal": [], "false": []}
    for x in truth["intrusions"]:
        s, es = epoch(x["start"]), ents(x)
        hits = sorted(((t, a) for t, a in serious if ent(a) in es and s <= t <= s + HOUR),
                      key=lambda h: h[0])
        res["intrusions"].append((x, hits[0] if hits else None))
    for x in truth["normal"]:
        s, e, es = epoch(x["start"]), epoch(x["end"]) + DAY, ents(x)
        hits = sorted(((t, a) for t, a in serious if ent(a) in es and s <= t <= e),
                      key=lambda h: h[0])
        res["normal"].append((x, hits))
    for t, a in serious:
        explained = any(ent(a) in ents(x) and epoch(x["start"]) <= t <= epoch(x["start"]) + 3 * DAY
                        for x in truth["intrusions"])
        if not explained:
            res["false"].append((t, a))
    org = truth["org"]
    res["mailbox_days"] = org["mailboxes"] * org["days"]
    res["rate"] = 1000.0 * len(res["false"]) / res["mailbox_days"]
    levels = {}
    for a in alerts:
        levels[level(a)] = levels.get(level(a), 0) + 1
    res["levels"] = levels
    return res


def describe(a):
    e = (a.get("anomaly") or {}).get("entity") or {}
    return "%s %s %s:%s %s" % (a.get("@timestamp"), level(a), e.get("kind"), e.get("id"),
                                (a.get("anomaly") or {}).get("explanation", ""))


def tap(args):
    kenchi = kenchi_path()
    if not os.path.exists(kenchi):
        ok(False, "kenchi binary %s exists" % kenchi)
        return
    tmp = tempfile.mkdtemp(prefix="kenchi-eval-")
    try:
        out1, out2 = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        rc, err = generate(out1, args)
        if not ok(rc == 0, "gen-mailorg.py writes the organisation (%d mailboxes, %d days)" %
                  (args.mailboxes, args.days), err):
            return
        print("# " + ", ".join(os.path.relpath(l.split(":")[0], out1) + ":" + l.split(":")[1]
                               for l in err.splitlines() if ": " in l))
        rc, err = generate(out2, args)
        ok(rc == 0 and digest(out1) == digest(out2), "gen-mailorg.py: the same seed gives the "
           "same files", err)
        shutil.rmtree(out2, ignore_errors=True)
        with open(os.path.join(out1, "truth.json")) as f:
            truth = json.load(f)
        check_truth(truth)
        evs = check_decoding(kenchi, out1)
        check_signals(truth, evs)
        check_normal(truth, evs, out1)
        del evs
        state = engine_state(kenchi)
        names_i = ["intrusion %s (%s) detected within an hour" % (x["id"], x["kind"])
                   for x in truth["intrusions"]]
        names_n = ["normal life %s (%s) raises no alert at medium or above" % (x["id"], x["kind"])
                   for x in truth["normal"]]
        if state == "absent":
            for name in names_i + names_n + ["two runs give the same alerts"]:
                skip(name, "baselines not built (kenchi scan has no --config)")
            return
        print("# " + make_geo(out1, os.path.join(out1, "kenchi.yml")))
        rc, stdout, stderr = scan(kenchi, out1)
        if not ok(rc == 0, "kenchi scan --config kenchi.yml runs", stderr[-3000:]):
            return
        alerts = anomalies(stdout)
        if not alerts and state == "maybe":
            for name in names_i + names_n + ["two runs give the same alerts"]:
                skip(name, "baselines not built (no anomaly alerts)")
            return
        res = evaluate(truth, alerts)
        for (x, hit), name in zip(res["intrusions"], names_i):
            if hit:
                name += ": %s %s at +%d s" % (rule_id(hit[1]), level(hit[1]),
                                              hit[0] - epoch(x["start"]))
            near = [describe(a) for a in alerts if ent(a) in ents(x)][:8]
            ok(hit is not None, name, "entities: %s\nstart: %s\nalerts on them:\n%s" %
               (sorted(ents(x)), x["start"], "\n".join(near) or "(none)"))
        for (x, hits), name in zip(res["normal"], names_n):
            ok(not hits, name, "\n".join(describe(a) for _, a in hits[:8]))
        rc2, stdout2, _ = scan(kenchi, out1)
        ok(rc2 == 0 and stdout2 == stdout, "two runs give the same alerts")
        print("# anomaly alerts: %d (%s); false alerts at medium or above: %d, %.2f per 1,000 "
              "mailbox-days" % (len(alerts), ", ".join("%s %d" % kv for kv in
                                                      sorted(res["levels"].items())),
                                len(res["false"]), res["rate"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(args):
    kenchi = kenchi_path()
    if "KENCHI" not in os.environ and os.path.exists(os.path.join(ROOT, "build/release/kenchi")):
        kenchi = os.path.join(ROOT, "build/release/kenchi")
    tmp = args.keep or tempfile.mkdtemp(prefix="kenchi-eval-")
    try:
        t = time.monotonic()
        rc, err = generate(tmp, args)
        if rc != 0:
            print(err, file=sys.stderr)
            return 1
        print("generated %d mailboxes x %d days (seed %d) in %.0f s: %s" %
              (args.mailboxes, args.days, args.seed, time.monotonic() - t, " ".join(err.split())))
        with open(os.path.join(tmp, "truth.json")) as f:
            truth = json.load(f)
        if engine_state(kenchi) == "absent":
            print("kenchi scan has no --config: baselines not built")
            return 1
        print(make_geo(tmp, os.path.join(tmp, "kenchi.yml")))
        t = time.monotonic()
        rc, stdout, stderr = scan(kenchi, tmp)
        took = time.monotonic() - t
        if rc != 0:
            print(stderr[-3000:], file=sys.stderr)
            return 1
        alerts = anomalies(stdout)
        res = evaluate(truth, alerts)
        det = [r for r in res["intrusions"] if r[1]]
        print("scan: %.0f s (load average %.2f), %s" % (took, os.getloadavg()[0],
                                                       kenchi))
        print("intrusions detected within an hour: %d of %d" % (len(det),
                                                               len(res["intrusions"])))
        for x, hit in res["intrusions"]:
            if hit:
                print("  %-22s %-20s +%6d s  %s %s" % (x["kind"], x["id"], hit[0] -
                                                       epoch(x["start"]), rule_id(hit[1]),
                                                       level(hit[1])))
            else:
                print("  %-22s %-20s not detected" % (x["kind"], x["id"]))
        quiet = [r for r in res["normal"] if not r[1]]
        print("normal-life cases without an alert at medium or above: %d of %d" %
              (len(quiet), len(res["normal"])))
        for x, hits in res["normal"]:
            if hits:
                print("  %-22s %d alerts, first: %s" % (x["kind"], len(hits),
                                                        describe(hits[0][1])))
        print("anomaly alerts per level: %s" % ", ".join("%s %d" % kv for kv in
                                                          sorted(res["levels"].items())))
        print("false alerts at medium or above: %d over %d mailbox-days = %.2f per 1,000 "
              "mailbox-days" % (len(res["false"]), res["mailbox_days"], res["rate"]))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="evaluate kenchi's baselines on gen-mailorg.py's "
                                 "organisation")
    ap.add_argument("--report", action="store_true", help="print figures instead of TAP")
    ap.add_argument("--mailboxes", type=int,
                    default=int(os.environ.get("KENCHI_EVAL_MAILBOXES", "120")))
    ap.add_argument("--days", type=int, default=int(os.environ.get("KENCHI_EVAL_DAYS", "28")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("KENCHI_EVAL_SEED", "1")))
    ap.add_argument("--keep", metavar="DIR", help="(--report) generate into DIR and keep it")
    a = ap.parse_args()
    if a.report:
        return report(a)
    tap(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
