#!/usr/bin/env python3
"""End-to-end: `kenchi scope` on a generated compromise.

scripts/gen-scope-scenario.py writes a few days of Postfix, Dovecot, sshd
and Microsoft 365 logs of example.org in which 203.0.113.129 gets into the
mailboxes of carla and david (and the SSH account backup), downloads them,
sends mail as david, and forwards their mail out (a Postfix alias with
orig_to, a Sieve redirect, M365 inbox rule and mailbox forwarding), among
ordinary traffic; and expected.json, the answer worked out by the script
from the messages it wrote. The logs are scanned into a store, then
`kenchi scope` must give that answer in JSON, CSV and as a table: the
accounts, logins, bytes, messages, forwarding targets, changes and the
exact external correspondents, with the sentinels (another user's
correspondent, mail before and after the window, internal addresses, a
bounce) left out.

Prints TAP lines.
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SINCE, UNTIL = "2024-06-11T00:00:00Z", "2024-06-13T00:00:00Z"


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp(prefix="kenchi-scope-")
try:
    sc = os.path.join(tmp, "scenario")
    subprocess.run([sys.executable, "scripts/gen-scope-scenario.py", sc], check=True)
    exp = json.load(open(os.path.join(sc, "expected.json")))
    db = os.path.join(tmp, "k.db")
    rc, out, err = run("scan", "--no-baselines", "--no-rules", "--year", "2024", "--timezone", "UTC", "--store", db,
                       "--output", "jsonl", os.path.join(sc, "mail.log"),
                       os.path.join(sc, "auth.log"), os.path.join(sc, "m365.json"))
    ok(rc == 0, "scan stores the scenario", err)

    def scope(*args):
        return run("scope", "--store", db, "--since", SINCE, "--until", UNTIL, *args)

    rc, out, err = scope("--indicator", "203.0.113.129", "--output", "json")
    ok(rc == 0, "scope --output json exits 0", err)
    r = json.loads(out) if rc == 0 else {}

    # --- what the window touched ---------------------------------------------
    ok(r.get("internal_domains") == {"domains": ["example.org"], "inferred": True},
       "internal domains inferred and reported", r.get("internal_domains"))
    accounts = {a["account"]: a for a in r.get("accounts", [])}
    ok(sorted(accounts) == sorted(exp["accounts"]), "involved accounts: carla, david, backup",
       sorted(accounts))
    ok("eva@example.org" not in accounts, "failed logins alone do not involve an account")
    logins = {l["account"]: [l["successes"], l["failures"]] for l in r.get("logins", [])}
    ok(logins == exp["logins"], "logins from the indicator, successes and failures apart",
       f"{logins}\nexpected {exp['logins']}")
    for name, want in exp["accounts"].items():
        a = accounts.get(name, {})
        got = {
            "sent_messages": a.get("mail", {}).get("sent_messages"),
            "received_messages": a.get("mail", {}).get("received_messages"),
            "forwarded": a.get("mail", {}).get("forwarded"),
            "bytes_out": a.get("mail_read", {}).get("bytes_out"),
            "bytes_out_from_indicator": a.get("mail_read", {}).get("bytes_out_from_indicator"),
            "logouts": a.get("mail_read", {}).get("logouts"),
            "logouts_from_indicator": a.get("mail_read", {}).get("logouts_from_indicator"),
            "imap_bodies": a.get("mail_read", {}).get("imap_bodies"),
            "pop3_retrieved": a.get("mail_read", {}).get("pop3_retrieved"),
        }
        ok(got == want, f"{name}: bytes read, messages sent, received and forwarded",
           f"{got}\nexpected {want}")
    d = accounts.get("david@example.org", {})
    mia = d.get("m365_mail_access", {})
    ok((mia.get("records"), mia.get("from_indicator"), mia.get("items"), mia.get("operations"),
        mia.get("folders"), mia.get("apps")) ==
       (1, 1, 4, 120, ["\\Inbox", "\\Sent Items"], ["d3590ed6-52b3-4102-aeff-aad2292ab01c"]),
       "david: M365 MailItemsAccessed items, folders and app", mia)
    c = accounts.get("carla@example.org", {})
    ok("203.0.113.129" in c.get("sessions", {}).get("sources", []) and
       c.get("sessions", {}).get("from_indicator") == 2,
       "carla: sessions and their source addresses", c.get("sessions"))
    fwd = sorted([f["kind"], f["account"], f["target"]] for f in r.get("forwarding", []))
    ok(fwd == exp["forwarding"], "forwarding: orig_to, Sieve, inbox rule, mailbox forwarding",
       f"{fwd}\nexpected {exp['forwarding']}")
    ok(all(f["external"] for f in r.get("forwarding", [])), "forwarding targets are external")
    ops = sorted(ch["operation"] for ch in r.get("changes", []))
    ok(ops == exp["changes"], "rule and permission changes", ops)
    ok(all(ch["source_ip"] == "203.0.113.129" for ch in r.get("changes", [])),
       "changes carry their source address")
    msgs = r.get("messages", {})
    ok(msgs.get("sent") == sum(a["sent_messages"] for a in exp["accounts"].values()) and
       msgs.get("forwarded") == sum(a["forwarded"] for a in exp["accounts"].values()),
       "message totals", msgs)

    # --- the notification list ------------------------------------------------
    corr = {c["address"]: {k: c[k] for k in ("messages_to", "messages_from", "delivered",
                                                "forwarded")}
            for c in r.get("correspondents", [])}
    ok(corr == exp["correspondents"], "external correspondents: exactly the expected list",
       "missing: %s\nextra: %s\ndiffer: %s" % (
           sorted(set(exp["correspondents"]) - set(corr)),
           sorted(set(corr) - set(exp["correspondents"])),
           sorted(k for k in corr if k in exp["correspondents"]
                  and corr[k] != exp["correspondents"][k])))
    ok(not set(exp["absent"]) & set(corr),
       "not listed: another user's correspondent, mail outside the window, internal addresses, "
       "an unused rule target", sorted(set(exp["absent"]) & set(corr)))
    ok(all(c["direction"] in ("to", "from", "both") and c["mailboxes"]
           for c in r.get("correspondents", [])), "each entry has a direction and mailboxes")
    ok(r.get("limits", {}).get("queue_ids_lost") == 0 and
       r.get("limits", {}).get("correspondents") == 0, "no limit reached")

    # --- the mail: messages through the queue-id key, or a scan of the window ------
    ok(r.get("events", {}).get("mail") == "index",
       "the mail is joined through the queue-id key", r.get("events"))
    rc, out, err = scope("--indicator", "203.0.113.129", "--output", "json", "--mail-scan")
    rs = json.loads(out) if rc == 0 else {}
    ev_i, ev_s = r.pop("events", {}), rs.pop("events", {})
    ok(rc == 0 and rs == r and ev_s.get("mail") == "scan",
       "--mail-scan: a scan of every Postfix line of the window gives the same answer",
       json.dumps({k: (r.get(k), rs.get(k)) for k in r if r.get(k) != rs.get(k)})[:600])
    ok(ev_s.get("scanned", 0) > ev_i.get("scanned", 0),
       "the index reads fewer lines by scans than the window scan",
       f"index {ev_i} scan {ev_s}")
    r["events"] = ev_i

    # --- the same through a CIDR block and given domains -----------------------
    rc, out, err = scope("-i", "cidr:203.0.113.128/25", "--domain", "example.org", "-o", "json")
    r2 = json.loads(out) if rc == 0 else {}
    corr2 = {c["address"]: {k: c[k] for k in ("messages_to", "messages_from", "delivered",
                                                 "forwarded")}
             for c in r2.get("correspondents", [])}
    ok(rc == 0 and corr2 == corr and r2.get("internal_domains", {}).get("inferred") is False,
       "a CIDR indicator and --domain give the same list, domains marked as given", err)

    # --- CSV: the notification list ---------------------------------------------
    rc, out, err = scope("-i", "203.0.113.129", "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(out))) if rc == 0 else []
    ok(rc == 0 and out.startswith("address,domain,direction,messages_to,messages_from,"),
       "csv exits 0 with its header", err)
    csv_corr = {row["address"]: {"messages_to": int(row["messages_to"]),
                                 "messages_from": int(row["messages_from"]),
                                 "delivered": int(row["delivered"]),
                                 "forwarded": int(row["forwarded"])} for row in rows}
    ok(csv_corr == exp["correspondents"], "csv: one row per external correspondent",
       sorted(set(csv_corr) ^ set(exp["correspondents"])))
    ok(all(row["domain"] == row["address"].split("@")[1] and row["first_seen"] >= SINCE and
           row["last_seen"] < UNTIL for row in rows), "csv: domain and times inside the window")

    # --- the table ----------------------------------------------------------------
    rc, out, err = scope("-i", "203.0.113.129", "--output", "table")
    ok(rc == 0 and "Logins (5 accounts)" in out and "Accounts involved (3)" in out and
       "External correspondents to notify (%d)" % len(exp["correspondents"]) in out and
       "drop.box@exfil.test (external)" in out and "only.anna@solo.test" not in out,
       "table: sections and figures", out[-2000:] + err)

    # --- entities and other indicators -------------------------------------------
    rc, out, err = scope("--entity", "carla@example.org", "-o", "json")
    r3 = json.loads(out) if rc == 0 else {}
    rc3s, out3s, _ = scope("--entity", "carla@example.org", "-o", "json", "--mail-scan")
    r3s = json.loads(out3s) if rc3s == 0 else {}
    ok(r3.get("events", {}).get("mail") == "index" and
       {k: v for k, v in r3.items() if k != "events"} ==
       {k: v for k, v in r3s.items() if k != "events"},
       "--entity mailbox: the index and the scan agree", out3s[:300])
    c3 = {c["address"] for c in r3.get("correspondents", [])}
    ok(rc == 0 and [a["account"] for a in r3.get("accounts", [])] == ["carla@example.org"] and
       "drop.box@exfil.test" in c3 and "sieve.copy@exfil.test" not in c3 and
       c3 <= set(exp["correspondents"]), "--entity: one mailbox, its correspondents only", err)
    rc, out, err = scope("--entity", "host:mx1", "-o", "json")
    r4 = json.loads(out) if rc == 0 else {}
    c4 = {c["address"] for c in r4.get("correspondents", [])}
    ok(rc == 0 and "only.anna@solo.test" in c4 and set(exp["correspondents"]) <= c4 and
       not r4.get("accounts") and r4.get("events", {}).get("mail") == "scan",
       "--entity host: all mail through the host (a window scan), no account expanded", err)
    rc, out, err = scope("-i", "domain:exfil.test", "-i", "target1@leak-one.test", "-o", "json")
    r5 = json.loads(out) if rc == 0 else {}
    im = {(m["indicator"], m["address"], m["direction"]) for m in r5.get("indicator_mail", [])}
    ok(rc == 0 and ("exfil.test", "carla@example.org", "sent") in im and
       ("exfil.test", "david@example.org", "sent") in im and
       ("target1@leak-one.test", "david@example.org", "sent") in im and not r5.get("accounts"),
       "domain and e-mail indicators: the internal mailboxes that mailed them", sorted(im))

    # --- an alias that only forwards: the mailbox is named by orig_to alone ---------------
    alias_log = os.path.join(tmp, "alias.log")
    with open(alias_log, "w") as f:
        f.write("Jun 11 10:00:00 mx1 postfix/smtpd[100]: 4A1B2C3D4E: "
                "client=mail.partner.example[198.51.100.20]\n"
                "Jun 11 10:00:01 mx1 postfix/qmgr[101]: 4A1B2C3D4E: from=<news@partner.example>, "
                "size=2000, nrcpt=1 (queue active)\n"
                "Jun 11 10:00:02 mx1 postfix/smtp[102]: 4A1B2C3D4E: to=<drop.box@exfil.test>, "
                "orig_to=<erin@example.org>, relay=mx.exfil.test[203.0.113.50]:25, delay=1, "
                "delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 OK)\n")
    adb = os.path.join(tmp, "alias.db")
    run("scan", "--no-rules", "--year", "2024", "--timezone", "UTC", "--store", adb,
        "--output", "jsonl", alias_log)
    rc, out, err = run("scope", "--store", adb, "--since", SINCE, "--entity", "erin@example.org",
                       "--output", "json")
    ra = json.loads(out) if rc == 0 else {}
    ok(rc == 0 and [(f["kind"], f["target"]) for f in ra.get("forwarding", [])] ==
       [("postfix-orig-to", "drop.box@exfil.test")] and
       ra.get("messages", {}).get("forwarded") == 1 and
       "drop.box@exfil.test" in [c["address"] for c in ra.get("correspondents", [])],
       "a pure forwarding alias (orig_to only) is found through the index", out + err)

    # --- errors -------------------------------------------------------------------------
    rc, out, err = run("scope", "--store", os.path.join(tmp, "none.db"), "--since", SINCE,
                       "-i", "203.0.113.129")
    ok(rc == 3 and "no such store" in err, "missing store: exit 3 with the reason", err)
    rc, out, err = run("scope", "--store", db, "--since", "yesterday-ish", "-i", "203.0.113.129")
    ok(rc == 2 and "is not a time" in err, "bad time: exit 2", err)
    for bad in ("999.1.1.1", "10.0.0.1/33", "not an indicator", "a@@b"):
        rc, out, err = run("scope", "--store", db, "--since", SINCE, "-i", bad)
        ok(rc == 2 and "is not usable" in err, f"unparseable indicator {bad!r}: exit 2", err)
    rc, out, err = run("scope", "--store", db, "-i", "203.0.113.129")
    ok(rc == 2 and "--since is required" in err, "--since is required", err)
    rc, out, err = run("scope", "--store", db, "--since", SINCE)
    ok(rc == 2 and "--indicator or --entity" in err, "a starting point is required", err)
    rc, out, err = scope("-i", "192.0.2.1", "--output", "xml")
    ok(rc == 2 and "table, json or csv" in err, "unknown output format", err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
