"""End-to-end: `kenchi hunt` on a store made by `kenchi scan` from samples/.

The indicators are written into the store's intelligence tables by this
test with SQL (the schema of docs/store.md, as store_intel_import() writes
it): two imports, one from a partner (the story's addresses, the
forwarding address and its domain, a revoked and an expired indicator, a
warning-listed office address) and one of values that never occur.
Expected counts come from `kenchi search` over the same store (another
query path) or from the story in docs/samples.md. Checks the three outputs,
--import, --since/--until, --limit-events, the exit status, and errors."""
import csv, io, json, os, sqlite3, subprocess, tempfile, shutil

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SAMPLES = ["samples/mail.log", "samples/mail.log.1.gz", "samples/auth.log",
           "samples/m365-audit.json", "samples/windows-security.json", "samples/zeek"]
n = 0


def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def ns(iso):
    """UTC nanoseconds of 2024-03-05T02:00:00Z."""
    from datetime import datetime, timezone
    d = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return int(d.timestamp()) * 1_000_000_000


def import_intel(db_path, source, records):
    """records: [(meta dict, [(type, value, detect, warning)])]. Returns the import id."""
    db = sqlite3.connect(db_path)
    cur = db.cursor()
    total = sum(len(v) for _, v in records)
    warned = sum(1 for _, v in records for x in v if x[3])
    cur.execute("INSERT INTO intel_imports(time_ns, source, format, indicators, added, updated,"
                " removed, problems, warned) VALUES(?,?,?,?,?,0,0,0,?)",
                (0, source, "test", total, total, warned))
    imp = cur.lastrowid
    for meta, values in records:
        cur.execute("INSERT INTO intel_metas(import, feed, ref, name, confidence, tlp, valid_from,"
                    " valid_until, revoked, labels, kill_chain, related)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,NULL,?)",
                    (imp, meta.get("feed", source), meta.get("ref", ""), meta.get("name"),
                     meta.get("confidence", -1), meta.get("tlp", ""), meta.get("from"),
                     meta.get("until"), int(meta.get("revoked", False)),
                     json.dumps(meta.get("labels", [])), json.dumps(meta.get("related", []))))
        m = cur.lastrowid
        for t, v, detect, warning in values:
            cur.execute("INSERT INTO intel(import, first_import, meta, type, value, detect, warning)"
                        " VALUES(?,?,?,?,?,?,?)", (imp, imp, m, t, v, int(detect), warning))
    db.commit()
    db.close()
    return imp


def search_count(db, *args):
    rc, out, _ = run("search", "--store", db, "--output", "jsonl", *args)
    return len(out.splitlines()) if rc == 0 else -1


def hunt_json(db, *args):
    rc, out, err = run("hunt", "--store", db, "--output", "json", *args)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return rc, lines, err


tmp = tempfile.mkdtemp()
try:
    db = os.path.join(tmp, "k.db")
    rc, out, err = run("scan", "--no-baselines", "--no-rules", "--year", "2024", "--timezone", "UTC", "--store", db,
                       "--output", "jsonl", *SAMPLES)
    ok(rc in (0, 1), "scan samples into a store", err)

    rc, lines, err = hunt_json(db)
    ok(rc == 0 and lines and lines[-1]["kind"] == "summary" and lines[-1]["indicators"] == 0,
       "a store without intelligence: nothing found, exit 0", err)
    ok("no indicators" in err, "says that the store keeps no indicators", err)

    partner = import_intel(db, "partner-bundle.json", [
        ({"ref": "indicator--spray", "name": "password spraying", "confidence": 80,
          "tlp": "TLP:AMBER", "related": ["APT-Sample"], "labels": ["malicious-activity"]},
         [("ip", "203.0.113.68", 1, None), ("ip", "203.0.113.129", 1, None)]),
        ({"ref": "indicator--exfil", "name": "mailbox exfiltration", "from": ns("2024-03-05T00:00:00Z")},
         [("email", "mailbox.backup7@freemail.test", 1, None), ("domain", "freemail.test", 1, None)]),
        ({"ref": "indicator--old", "until": ns("2024-03-01T00:00:00Z")},
         [("ip", "203.0.113.66", 1, None)]),
        ({"ref": "indicator--revoked", "revoked": True}, [("ip", "203.0.113.67", 1, None)]),
        ({"ref": "indicator--office"}, [("ip", "192.0.2.10", 1, "List of office addresses")]),
        ({"ref": "indicator--pattern"},
         [("stix-pattern", "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '5.6.7.8']", 1, None)]),
    ])
    absent = import_intel(db, "absent.txt", [
        ({}, [("ip", "198.18.0.1", 1, None), ("domain", "never.invalid", 1, None),
              ("ip", "2001:db8:ffff::/48", 1, None), ("sha256", "0" * 64, 1, None),
              ("url", "never.invalid/x", 1, None), ("filename", "never.exe", 1, None),
              ("user-agent", "NeverBot/0", 1, None), ("md5", "0" * 32, 1, None)]),
    ])

    # --- JSON ---------------------------------------------------------------------
    rc, lines, err = hunt_json(db)
    ok(rc == 1, "found something: exit 1", err)
    hits = {l["value"]: l for l in lines if l["kind"] == "hit"}
    warned = {l["value"]: l for l in lines if l["kind"] == "warned"}
    summary = lines[-1]
    ok(summary["kind"] == "summary" and summary["indicators"] == 16 and summary["hunted"] == 15
       and summary["skipped"] == {"revoked": 1, "outside_validity": 0, "patterns": 0}
       and summary["patterns"]["hunted"] == 1 and summary["patterns"]["indexed"] == 1,
       "summary: 16 indicators, 15 hunted (1 revoked; the pattern through the index)",
       json.dumps(summary))
    ok(set(hits) == {"203.0.113.68", "203.0.113.129", "mailbox.backup7@freemail.test",
                     "freemail.test"},
       "the story's indicators are found, nothing else (203.0.113.66 occurs, but after its "
       "validity ended)", sorted(hits))
    ok(summary["hits"] == 4 and summary["warned_seen"] == 1, "4 hits, 1 warning-listed seen",
       json.dumps(summary))
    ok(set(warned) == {"192.0.2.10"} and warned["192.0.2.10"]["warning"] == "List of office addresses",
       "the warning-listed address is reported apart", json.dumps(warned))
    for ip in ("203.0.113.68", "203.0.113.129"):
        want = search_count(db, "--ip", ip)
        ok(ip in hits and hits[ip]["events"] == want, f"{ip}: as many events as kenchi search finds",
           f"hunt {hits.get(ip, {}).get('events')} search {want}")
    want = search_count(db, "--ip", "192.0.2.10")
    ok(warned["192.0.2.10"]["events"] == want and warned["192.0.2.10"]["accounts"] == [],
       "warning-listed: counted from the index, no entities", json.dumps(warned["192.0.2.10"])[:300])
    h = hits.get("203.0.113.129", {})
    ok("hanna.richter@example.org" in h.get("accounts", []),
       "the night login's account is named", json.dumps(h.get("accounts")))
    ok(h.get("first_seen", "").startswith("2024-03-05T02:") and h.get("feed") == "partner-bundle.json"
       and h.get("related") == ["APT-Sample"] and h.get("tlp") == "TLP:AMBER"
       and h.get("confidence") == 80 and h.get("name") == "password spraying",
       "first seen the night of 5 March, with feed, name, related, TLP, confidence",
       json.dumps(h)[:400])
    ok(h.get("per_day") and sum(d["events"] for d in h["per_day"]) == h["events"],
       "per-day counts add up", json.dumps(h.get("per_day")))
    tl = h.get("timeline", [])
    ok(0 < len(tl) <= 10 and all(tl[i]["@timestamp"] <= tl[i + 1]["@timestamp"]
                                 for i in range(len(tl) - 1))
       and all(e["file"].startswith("samples/") and e["line"] > 0 for e in tl),
       "timeline: first events in time order with file and line", json.dumps(tl)[:300])
    e = hits.get("mailbox.backup7@freemail.test", {})
    want = search_count(db, "--email", "mailbox.backup7@freemail.test")
    ok(e.get("events") == want, "the forwarding address: as many events as kenchi search finds",
       f"{e.get('events')} vs {want}")
    ok("hanna.richter@example.org" in e.get("mailboxes", []) and e.get("messages", 0) > 0,
       "the forwarded mailbox is named (messages joined by queue id)", json.dumps(e)[:400])
    d = hits.get("freemail.test", {})
    ok(d.get("events", 0) >= e.get("events", 0) > 0,
       "the domain finds at least what its address finds", f"{d.get('events')} {e.get('events')}")

    # --- validity, window, import --------------------------------------------------
    rc, lines, _ = hunt_json(db, "--until", "2024-03-05T00:00:00Z")
    got = {l["value"] for l in lines if l["kind"] == "hit"}
    ok(got == {"203.0.113.68"}, "--until: the night's indicators (valid from 5 March) are not seen",
       sorted(got))
    rc, lines, _ = hunt_json(db, "--since", "2024-03-05T02:30:00Z", "--until", "2024-03-05T03:00:00Z")
    h = {l["value"]: l for l in lines if l["kind"] == "hit"}
    ok("203.0.113.129" in h and all("2024-03-05T02:30" <= t["@timestamp"] < "2024-03-05T03"
                                    for t in h["203.0.113.129"]["timeline"]),
       "--since/--until: only events in the window", json.dumps(h.get("203.0.113.129", {}))[:300])
    rc, lines, _ = hunt_json(db, "--since", "2024-03-02")
    ok(lines[-1]["skipped"]["outside_validity"] == 1,
       "--since after an indicator's validity ended: not hunted", json.dumps(lines[-1]))
    rc, lines, _ = hunt_json(db, "--import", str(absent))
    ok(rc == 0 and lines[-1]["hunted"] == 8 and lines[-1]["hits"] == 0,
       "--import of values that never occur: 8 hunted, none found, exit 0", json.dumps(lines[-1]))
    rc, lines, _ = hunt_json(db, "--import", str(partner), "--limit-events", "3")
    ok(rc == 1 and lines[-1]["indicators"] == 8 and
       all(len(l["timeline"]) <= 3 for l in lines if l["kind"] != "summary"),
       "--import of the partner's, --limit-events 3", json.dumps(lines[-1]))

    # --- CSV and table --------------------------------------------------------------
    rc, out, err = run("hunt", "--store", db, "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    ok(rc == 1 and {r["value"] for r in rows if r["kind"] == "hit"} == set(hits) and
       {r["value"] for r in rows if r["kind"] == "warned"} == {"192.0.2.10"},
       "csv: the same indicators", out[:300])
    r129 = [r for r in rows if r["value"] == "203.0.113.129"]
    ok(r129 and int(r129[0]["events"]) == hits["203.0.113.129"]["events"] and
       "hanna.richter@example.org" in r129[0]["accounts"].split("; "),
       "csv: events and accounts of a row", json.dumps(r129))
    rc1, out1, _ = run("hunt", "--store", db, "--output", "csv", "--threads", "1")
    rc4, out4, _ = run("hunt", "--store", db, "--output", "csv", "--threads", "4")
    ok(rc1 == rc4 == 1 and out1 == out4 == out,
       "--threads 1 and 4 give the same answer as the default", (rc1, rc4))
    rc, out, err = run("hunt", "--store", db, "--threads", "0")
    ok(rc == 2 and "--threads" in err, "--threads 0 is refused", err)
    # --entity-events: the entities of the first events only, said so; the
    # counts, times and days stay exact
    rc, lines, err = hunt_json(db, "--entity-events", "1")
    one = {l["value"]: l for l in lines if l["kind"] == "hit"}
    full = hits["203.0.113.129"]
    e1 = one.get("203.0.113.129", {})
    ok(rc == 1 and e1.get("events") == full["events"] > 1
       and e1.get("first_seen") == full["first_seen"] and e1.get("last_seen") == full["last_seen"]
       and e1.get("per_day") == full["per_day"] and e1.get("entities_partial") is True
       and full.get("entities_partial") is False
       and len(e1.get("accounts", [])) + len(e1.get("hosts", [])) <
       len(full.get("accounts", [])) + len(full.get("hosts", [])),
       "--entity-events 1: exact counts and times, the entities of the first event only",
       json.dumps(e1)[:600])
    rc, out, err = run("hunt", "--store", db, "--entity-events", "x")
    ok(rc == 2 and "--entity-events" in err, "--entity-events x is refused", err)
    rc, out, err = run("hunt", "--store", db, "--output", "table")
    ok(rc == 1 and "203.0.113.129" in out and "FIRST SEEN" in out and "per day:" in out
       and "warning-listed" in out and "4 indicators seen" in out,
       "table: the indicators, their details, the warning-listed, the summary", out[:600])

    # --- STIX patterns over the store ----------------------------------------------------
    # WITHIN binds to the observation expression before it: the parentheses put
    # both observations under the window
    A = ("([network-traffic:dst_port = 993 AND network-traffic:src_ref.value = '203.0.113.129'] "
         "FOLLOWEDBY [network-traffic:dst_port = 4190 AND network-traffic:src_ref.value = "
         "'203.0.113.129']) WITHIN 3600 SECONDS")
    B = ("([network-traffic:dst_port = 993] FOLLOWEDBY [network-traffic:dst_port = 4190]) "
         "WITHIN 3600 SECONDS")
    NEG_A = ("([network-traffic:dst_port = 4190 AND network-traffic:src_ref.value = "
             "'203.0.113.129'] FOLLOWEDBY [network-traffic:dst_port = 993 AND "
             "network-traffic:src_ref.value = '203.0.113.129']) WITHIN 3600 SECONDS")
    # the last IMAPS connection before it began 12 minutes earlier
    NEG_B = ("([network-traffic:dst_port = 993] FOLLOWEDBY [network-traffic:dst_port = 4190]) "
             "WITHIN 600 SECONDS")
    OUTSIDE = A.replace("3600", "3599")  # valid only before the night: never seen
    pats = import_intel(db, "patterns.json", [
        ({"ref": "indicator--a", "name": "imap then sieve", "related": ["APT-Sample"]},
         [("stix-pattern", A, 1, None)]),
        ({"ref": "indicator--b"}, [("stix-pattern", B, 1, None)]),
        ({"ref": "indicator--neg-a"}, [("stix-pattern", NEG_A, 1, None)]),
        ({"ref": "indicator--neg-b"}, [("stix-pattern", NEG_B, 1, None)]),
        ({"ref": "indicator--outside", "until": ns("2024-03-05T00:00:00Z")},
         [("stix-pattern", OUTSIDE, 1, None)]),
        ({"ref": "indicator--broken"}, [("stix-pattern", "[ipv4-addr:value = ", 1, None)]),
    ])
    rc, lines, err = hunt_json(db, "--import", str(pats))
    phits = {l["value"]: l for l in lines if l["kind"] == "hit"}
    psum = lines[-1]
    ok(rc == 1 and set(phits) == {A, B},
       "patterns: the two that hold on the store are found, not the reversed, the too "
       "narrow, the one outside its validity", sorted(phits))
    ok(psum["patterns"]["hunted"] == 5 and psum["patterns"]["indexed"] == 3
       and psum["patterns"]["scanned"] == 2 and psum["skipped"]["patterns"] == 1,
       "patterns: 3 through the index, 2 over their window, the broken one not hunted",
       json.dumps(psum))
    a = phits.get(A, {})
    ok(a.get("type") == "stix-pattern" and a.get("matches") == 1 and a.get("events") == 2
       and "2024-03-05T02:06" <= a.get("first_seen", "") < "2024-03-05T02:30"
       and a.get("last_seen", "").startswith("2024-03-05T02:30:52"),
       "FOLLOWEDBY ... WITHIN: one match of two events, first and last seen", json.dumps(a)[:500])
    tl = a.get("timeline", [])
    ok(len(tl) == 2 and all(e["file"].endswith("samples/zeek/conn.log") for e in tl)
       and tl[0]["source.ip"] == "203.0.113.129",
       "the match's events: the two Zeek connections, in time order", json.dumps(tl)[:400])
    ok(a.get("related") == ["APT-Sample"] and a.get("name") == "imap then sieve",
       "a pattern's hit carries its metadata", json.dumps(a)[:300])
    b = phits.get(B, {})
    ok(b.get("matches") == 1 and b.get("events") == 2
       and b.get("last_seen", "").startswith("2024-03-05T02:30:52"),
       "a pattern without an indexed value: found over its window", json.dumps(b)[:400])
    ok(psum["patterns"]["window_events"] > psum["patterns"]["index_events"] > 0,
       "the window scan reads more events than the index gives", json.dumps(psum))
    rc, lines, err = hunt_json(db, "--import", str(pats), "--until", "2024-03-05T02:20:00Z")
    ok(rc == 0 and not [l for l in lines if l["kind"] == "hit"],
       "--until before the pattern's second observation: not found", json.dumps(lines)[:300])
    rc, out, err = run("hunt", "--store", db, "--import", str(pats), "--output", "table")
    ok(rc == 1 and "matched:   1 time" in out
       and "5 STIX patterns: 3 through the index" in out,
       "table: a pattern's matches and the patterns' summary", out[-800:])

    # a user-account comparison reads the index's user.name keys: found without
    # the window scan, its events those of the account (the matcher compares
    # exactly; the index is folded)
    UA = "[user-account:user_id = 'rosa.schmitt@example.org']"
    UA_CASE = "[user-account:user_id = 'Rosa.Schmitt@example.org']"
    upats = import_intel(db, "user-patterns.json", [
        ({"ref": "indicator--user"}, [("stix-pattern", UA, 1, None)]),
        ({"ref": "indicator--user-case"}, [("stix-pattern", UA_CASE, 1, None)]),
    ])
    rc, lines, err = hunt_json(db, "--import", str(upats))
    usum = lines[-1]
    uhits = {l["value"]: l for l in lines if l["kind"] == "hit"}
    con = sqlite3.connect(db)
    want = con.execute("SELECT count(*) FROM events WHERE user = 'rosa.schmitt@example.org'"
                       ).fetchone()[0]
    con.close()
    ok(rc == 1 and want > 5 and set(uhits) == {UA} and uhits[UA]["events"] == want
       and usum["patterns"]["indexed"] == 2 and usum["patterns"]["scanned"] == 0
       and usum["patterns"]["window_events"] == 0
       and usum["patterns"]["index_events"] == want,
       f"a user-account pattern through the index: {want} events of the account, "
       "the other case read and not matched", json.dumps(usum) + " " + json.dumps(uhits)[:300])

    # --- errors ----------------------------------------------------------------------
    rc, out, err = run("hunt", "--store", os.path.join(tmp, "none.db"))
    ok(rc == 3 and "no such store" in err, "no such store: exit 3", err)
    rc, out, err = run("hunt", "--store", db, "--import", "999")
    ok(rc == 2 and "no import 999" in err, "an unknown import: exit 2", err)
    rc, out, err = run("hunt", "--store", db, "--output", "xml")
    ok(rc == 2, "a bad --output: exit 2", err)
    rc, out, err = run("hunt", "--store", db, "--since", "yesterday-ish")
    ok(rc == 2 and "not a time" in err, "a bad --since: exit 2", err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
