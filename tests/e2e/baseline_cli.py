"""End-to-end: baselines from the command line. `kenchi config check` on
bad and good `baselines:` sections (every problem with its file:line:col, a
file with only that section accepted); `kenchi scan --config` (bad file
refused with its place, the summary's baselines figures, --no-baselines);
profiles surviving a restart: two `scan --store` runs on Dovecot logs
written here, where the second run's first-seen facts know the first run's
networks (a fresh store given the second file alone has too little history
to say anything); a suppression by network; `kenchi baseline show` (the
profile, the facts, exit 1 for an unknown entity, exit 3 without a store)
and `kenchi baseline list`; `kenchi run` saving profiles and facts in
its store (read back after a SIGHUP and at shutdown)."""
import json, os, re, signal, subprocess, tempfile, shutil, time

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
n = 0


def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)


def skip(name, reason):
    global n
    n += 1
    print(f"ok {n} - {name} # SKIP {reason}")


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def summary(err):
    """The {"baselines":...} line of a jsonl summary, or None."""
    for line in err.splitlines():
        if line.startswith('{"baselines"'):
            return json.loads(line)["baselines"]
    return None


def login(day, hh, mm, user, ip, k):
    return (f"Mar {day:2d} {hh:02d}:{mm:02d}:00 mx1 dovecot: imap-login: Login: user=<{user}>, "
            f"method=PLAIN, rip={ip}, lip=192.0.2.25, mpid={1000 + k}, TLS, "
            f"session=<s{k:014d}>\n")


tmp = tempfile.mkdtemp(prefix="kenchi-bl-")
try:
    def path(name):
        return os.path.join(tmp, name)

    # ---- configuration -------------------------------------------------
    with open(path("bad.yml"), "w") as f:
        f.write("baselines:\n"
                "  window: 2x\n"
                "  levels: {low: 1.5, medium: 1.2, high: 2, critical: 3}\n"
                "  internal_networks: [10.0.0.0/33]\n"
                "  accounts: {max_valus: 10}\n"
                "  geoip: {asn: /nonexistent/asn.mmdb}\n"
                "  suppress:\n"
                "    - {detector: volum}\n")
    rc, out, err = run("config", "check", path("bad.yml"))
    bad = path("bad.yml")
    ok(rc == 2, "config check: bad baselines refused (exit 2)", err)
    for where, what in [(":2:11:", "window"), (":3:11:", "ascend"), (":4:22:", "10.0.0.0/33"),
                        (":5:14:", "did you mean 'max_values'"), (":6:16:", "nonexistent"),
                        (":8:18:", "volum")]:
        ok(any(bad + where in l and what in l for l in err.splitlines()),
           f"config check: {what} named at {where}", err)
    with open(path("good.yml"), "w") as f:
        f.write("baselines:\n  window: 30m\n  servers: [192.0.2.25]\n"
                "  suppress:\n    - {kind: account, entity: Nobody@Example.org}\n")
    rc, out, err = run("config", "check", path("good.yml"))
    ok(rc == 0 and "baselines only" in out and "1 suppression" in out,
       "config check: a file with only a baselines section is good", out + err)
    with open(path("run.yml"), "w") as f:
        f.write(f"store: {path('run.db')}\nsources:\n  - {{type: stdin}}\n"
                "baselines:\n  enabled: false\n")
    rc, out, err = run("config", "check", path("run.yml"))
    ok(rc == 0 and "baselines: off" in out, "config check: a daemon's file with baselines off",
       out + err)

    # ---- scan --config / --no-baselines ----------------------------------
    logs_a = path("a.log")
    with open(logs_a, "w") as f:
        k = 0
        for day in range(1, 11):  # ten days of alice from one network
            for hh in (9, 14):
                k += 1
                f.write(login(day, hh, 0, "alice@example.org", "192.0.2.10", k))
                k += 1
                f.write(login(day, hh, 5, "bob@example.org", "203.0.113.5", k))
    logs_b = path("b.log")
    with open(logs_b, "w") as f:
        f.write(login(11, 9, 0, "alice@example.org", "192.0.2.10", 900))
        f.write(login(11, 10, 0, "alice@example.org", "198.51.100.20", 901))
        f.write(login(11, 10, 30, "bob@example.org", "203.0.113.5", 902))
    common = ("--no-rules", "--year", "2024", "--timezone", "UTC", "-o", "jsonl")
    rc, out, err = run("scan", "--no-store", *common, "--config", bad, logs_a)
    ok(rc == 2 and bad + ":2:11:" in err and out == "", "scan --config: a bad file is refused",
       err)
    rc, out, err = run("scan", "--no-store", *common, "--config", path("good.yml"), logs_a)
    s = summary(err)
    ok(rc == 0 and s is not None and s["events"] == 40, "scan --config: baselines saw every event",
       err)
    modules = sorted((s or {}).get("modules", {}))
    rc, out, err = run("scan", "--no-store", *common, "--no-baselines", logs_a)
    ok(rc == 0 and summary(out + err) is None and '"events":40' in out,
       "scan --no-baselines: no baselines, the summary on stdout", out + err)

    # ---- profiles survive a restart ----------------------------------------
    db = path("k.db")
    rc, out, err = run("scan", "--store", db, *common, logs_a)
    s1 = summary(err)
    ok(rc == 0 and s1 is not None, "scan --store: first run", err)
    rc, out, err = run("baseline", "show", "--store", db, "-o", "json", "alice@example.org")
    before = json.loads(out).get("profiles") if rc == 0 else None
    # the same file again: its lines were learnt, they are not learnt twice
    rc, out, err = run("scan", "--store", db, *common, logs_a)
    s1b = summary(err)
    rc2, out2, _ = run("baseline", "show", "--store", db, "-o", "json", "alice@example.org")
    ok(rc == 0 and s1b is not None and s1b["learnt_before"] == 40 and s1b["events"] == 40
       and s1b["profiles_saved"] == 0 and before is not None
       and json.loads(out2).get("profiles") == before,
       "scan --store twice over one file: learnt once, the profiles unchanged", err + out2)
    # lines appended to a file: only they are learnt
    grown = path("grown.log")
    shutil.copy(logs_a, grown)
    rc, out, err = run("scan", "--store", path("grown.db"), *common, grown)
    with open(grown, "a") as f:
        f.write(login(12, 9, 0, "alice@example.org", "192.0.2.10", 990))
        f.write(login(12, 9, 5, "alice@example.org", "192.0.2.10", 991))
    rc, out, err = run("scan", "--store", path("grown.db"), *common, grown)
    sg = summary(err)
    ok(rc == 0 and sg is not None and sg["learnt_before"] == 40 and sg["events"] == 42,
       "scan --store after lines were appended: only the new lines are learnt", err)
    rc, out, err = run("baseline", "list", "--store", db, "-o", "json")
    listed = [json.loads(l) for l in out.splitlines()]
    ok(rc == 0 and all("entity" in r and "facts" in r for r in listed), "baseline list: exit 0, one JSON object per entity", err)
    rc, out, err = run("baseline", "show", "--store", db, "-o", "json", "nobody@example.org")
    ok(rc == 1 and json.loads(out)["known"] is False, "baseline show: unknown entity, exit 1",
       out + err)
    rc, out, err = run("baseline", "show", "--store", path("missing.db"), "alice@example.org")
    ok(rc == 3 and "missing.db" in err, "baseline show: no store, exit 3", err)
    rc, out, err = run("baseline", "show", "--store", db, "--kind", "planet", "x")
    ok(rc == 2 and "planet" in err, "baseline show: unknown kind, exit 2", err)

    if "account" not in modules:
        for name in ("second run loads the first run's profiles",
                     "second run: the new network is a fact, the known one is not",
                     "a fresh store with the second file alone: too little history",
                     "baseline show: the account's networks and facts",
                     "baseline list: alice with her facts",
                     "suppression by network: the fact is dropped and counted"):
            ok(False, name, "the account baseline module is missing from the build")
    else:
        rc, out, err = run("scan", "--store", db, *common, logs_b)
        s2 = summary(err)
        ok(rc == 0 and s2 and s2["profiles_loaded"] >= 2 and s2["profiles_refused"] == 0,
           "second run loads the first run's profiles", err)
        rc, out, err = run("baseline", "show", "--store", db, "-o", "json", "Alice@Example.org")
        shown = json.loads(out) if rc == 0 else {}
        nets = [f.get("value") for f in shown.get("facts", [])
                if f.get("detector") == "first-seen" and f.get("feature") in
                ("network", "asn", "country")]
        ok("198.51.100.0/24" in nets and "192.0.2.0/24" not in nets,
           "second run: the new network is a fact, the known one is not", out + err)
        fresh = path("fresh.db")
        rc, out, err = run("scan", "--store", fresh, *common, logs_b)
        rc, out, err = run("baseline", "show", "--store", fresh, "-o", "json", "alice@example.org")
        fresh_facts = json.loads(out).get("facts", []) if out else []
        ok(not any(f.get("value") == "198.51.100.0/24" for f in fresh_facts),
           "a fresh store with the second file alone: too little history", out + err)
        prof = json.dumps(shown.get("profiles", {}))
        ok("192.0.2.0/24" in prof and "198.51.100.0/24" in prof and shown.get("known"),
           "baseline show: the account's networks and facts", out)
        rc, out, err = run("baseline", "list", "--store", db, "-o", "json")
        rows = {(r["kind"], r["entity"]): r for r in map(json.loads, out.splitlines())}
        a = rows.get(("account", "alice@example.org"), {})
        ok(rc == 0 and a.get("facts", 0) >= 1 and "account" in a.get("modules", []),
           "baseline list: alice with her facts", out)
        with open(path("supp.yml"), "w") as f:
            f.write("baselines:\n  suppress:\n    - {network: 198.51.100.0/24}\n")
        sdb = path("supp.db")
        run("scan", "--store", sdb, *common, "--config", path("supp.yml"), logs_a)
        rc, out, err = run("scan", "--store", sdb, *common, "--config", path("supp.yml"), logs_b)
        s3 = summary(err)
        rc2, out2, err2 = run("baseline", "show", "--store", sdb, "-o", "json",
                              "alice@example.org")
        ok(rc == 0 and s3 and s3["suppressed"] >= 1 and
           not any(f.get("value") == "198.51.100.0/24" for f in json.loads(out2)["facts"]),
           "suppression by network: the fact is dropped and counted", err + out2)

    # ---- kenchi run: profiles and facts in its store --------------------
    if "account" not in modules:
        ok(False, "kenchi run: profiles and facts saved, kept across SIGHUP",
           "the account baseline module is missing from the build")
    else:
        live = path("live")
        os.mkdir(live)
        shutil.copy(logs_a, os.path.join(live, "a.log"))
        ldb = path("live.db")
        with open(path("live.yml"), "w") as f:
            f.write(f"store: {ldb}\ntimezone: UTC\nsources:\n"
                    f"  - {{type: file, paths: ['{live}/*.log'], format: syslog}}\n"
                    "baselines:\n  window: 2h\n")
        errf = open(path("live.err"), "w")
        proc = subprocess.Popen([KENCHI, "run", "--config", path("live.yml")],
                                stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        def log():
            with open(path("live.err")) as f:
                return f.read()
        def wait_for(pred, deadline=60):
            end = time.monotonic() + deadline
            while time.monotonic() < end:
                if pred():
                    return True
                time.sleep(0.1)
            return False
        try:
            # a SIGHUP while the first file's profiles are in memory only (they
            # are saved at most once a minute, and at shutdown): they stay;
            # then the second file, whose new network is a fact
            wait_for(lambda: "baselines: 0 profiles loaded" in log())
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "reload done" in log())
            shutil.copy(logs_b, os.path.join(live, "b.log"))
            def fact_b():  # facts are saved with every commit
                r = run("baseline", "show", "--store", ldb, "-o", "json", "alice@example.org")
                return r[0] == 0 and "198.51.100.0/24" in r[1]
            got = wait_for(fact_b)
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
            errf.close()
        rc2, out, err = run("baseline", "show", "--store", ldb, "-o", "json", "alice@example.org")
        shown = json.loads(out) if out else {}
        ok(got and rc == 0 and rc2 == 0 and "account" in shown.get("profiles", {}) and
           any(f.get("value") == "198.51.100.0/24" for f in shown.get("facts", [])),
           "kenchi run: profiles and facts saved, kept across SIGHUP", log()[-2000:] + out + err)
        # a restart puts the facts of the last stacking window back
        errf = open(path("live2.err"), "w")
        proc = subprocess.Popen([KENCHI, "run", "--config", path("live.yml")],
                                stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        def log2():
            with open(path("live2.err")) as f:
                return f.read()
        try:
            got = wait_for(lambda: "facts of the last stacking window" in log2())
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
            errf.close()
        m = re.search(r"baselines: (\d+) profiles loaded, (\d+) facts of the last stacking window",
                      log2())
        ok(got and rc == 0 and m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1,
           "kenchi run after a restart: the profiles and the last window's facts come back",
           log2()[-2000:])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"1..{n}")
