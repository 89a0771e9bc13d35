"""End-to-end: Sigma correlations in `kenchi scan --rules` on Postfix and
Dovecot syslog written here. SASL brute force from one address within 10
minutes fires (once per crossing, again after the window went back under);
fewer failures, or the same number spread too thin, do not; Dovecot password
spraying (distinct users from one address) fires as value_count; a chained
temporal_ordered correlation fires when the brute force is followed by a
successful SASL login. Checks the alert layout (type, group-by values,
value, window, events), `generate`, the summary counters, group eviction and
determinism."""
import json, os, subprocess, tempfile, shutil

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
n = 0


def ok(cond, name, detail=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


RULES = """title: Postfix SASL authentication failure
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0a01
name: postfix_sasl_failure
status: test
level: low
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
---
title: Postfix SASL login
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0a02
name: postfix_sasl_login
status: test
level: informational
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: client
        user.name|exists: true
    condition: selection
---
title: Dovecot login failure
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0a03
name: dovecot_login_failure
status: test
level: low
logsource: {product: dovecot}
detection:
    selection:
        event.action: [login-failed, auth-failure]
    condition: selection
---
title: SASL brute force from one address
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0b01
name: sasl_brute_force
status: test
level: high
tags: [attack.credential_access, attack.t1110.001]
correlation:
    type: event_count
    rules: [postfix_sasl_failure]
    group-by: [source.ip]
    timespan: 10m
    condition:
        gte: 5
---
title: Dovecot password spraying
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0b02
status: test
level: high
tags: [attack.t1110.003]
correlation:
    type: value_count
    rules: [dovecot_login_failure]
    group-by: [source.ip]
    timespan: 10m
    condition:
        field: user.name
        gte: 3
---
title: SASL brute force followed by a login
id: 6f1d2a4e-2b7c-4c55-9a61-3c0f5b1e0b03
status: test
level: critical
correlation:
    type: temporal_ordered
    rules: [sasl_brute_force, postfix_sasl_login]
    group-by: [source.ip]
    timespan: 30m
    generate: true
"""

MON = "Mar"


def stamp(sec):
    """Syslog time for 2024-03-04 10:00:00 + sec."""
    h, m, s = 10 + sec // 3600, (sec // 60) % 60, sec % 60
    return f"{MON}  4 {h:02d}:{m:02d}:{s:02d}"


def postfix_log():
    ev = []  # (second, text)
    pid = 3100

    def fail(sec, ip, mech="LOGIN"):
        nonlocal pid
        pid += 1
        ev.append((sec - 1, f"mx1 postfix/smtpd[{pid}]: connect from unknown[{ip}]"))
        ev.append((sec, f"mx1 postfix/smtpd[{pid}]: warning: unknown[{ip}]: SASL {mech} "
                        f"authentication failed: UGFzc3dvcmQ6"))
        ev.append((sec + 1, f"mx1 postfix/smtpd[{pid}]: disconnect from unknown[{ip}] ehlo=1 "
                            f"auth=0/1 commands=1/2"))

    def login(sec, ip, user):
        nonlocal pid
        pid += 1
        ev.append((sec - 1, f"mx1 postfix/smtpd[{pid}]: connect from unknown[{ip}]"))
        ev.append((sec, f"mx1 postfix/smtpd[{pid}]: 4D3{pid:07X}: client=unknown[{ip}], "
                        f"sasl_method=LOGIN, sasl_username={user}"))

    # 203.0.113.9: six failures 30 s apart -> fires at the fifth (10:02:00)
    for i in range(6):
        fail(i * 30, "203.0.113.9")
    # then a successful login from it -> the chained correlation fires
    login(300, "203.0.113.9", "alice@example.org")
    # 198.51.100.7: four failures (below the threshold), then a login
    for i in range(4):
        fail(60 + i * 20, "198.51.100.7", "PLAIN")
    login(400, "198.51.100.7", "bob@example.org")
    # 192.0.2.50: five failures, four minutes apart: never five in 10 minutes
    for i in range(5):
        fail(100 + i * 240, "192.0.2.50")
    # 203.0.113.9 again 40 minutes later: the window went back under, so a
    # new burst fires again
    for i in range(5):
        fail(2400 + i * 10, "203.0.113.9")
    ev.sort(key=lambda x: x[0])
    return "".join(f"{stamp(s)} {t}\n" for s, t in ev)


def dovecot_log():
    ev = []
    users = ["bob", "carol", "dave", "erin"]
    for i, u in enumerate(users):  # spraying: 4 users from one address
        ev.append((30 + i * 20, f"mx1 dovecot: imap-login: Disconnected (auth failed, 1 attempts "
                                f"in 2 secs): user=<{u}>, method=PLAIN, rip=203.0.113.77, "
                                f"lip=192.0.2.10, TLS, session=<sPr{i}Ay7>"))
    for i in range(6):  # one user failing often: not spraying
        ev.append((40 + i * 15, f"mx1 dovecot: auth: passdb(frank,203.0.113.80,<Fr{i}k>): "
                                f"Password mismatch"))
    ev.sort(key=lambda x: x[0])
    return "".join(f"{stamp(s)} {t}\n" for s, t in ev)


tmp = tempfile.mkdtemp(prefix="kenchi-corr-")
try:
    rules = os.path.join(tmp, "mail_correlations.yml")
    with open(rules, "w") as f:
        f.write(RULES)
    logs = os.path.join(tmp, "logs")
    os.mkdir(logs)
    with open(os.path.join(logs, "dovecot.log"), "w") as f:
        f.write(dovecot_log())
    with open(os.path.join(logs, "mail.log"), "w") as f:
        f.write(postfix_log())

    rc, out, err = run("rules", "check", rules)
    ok(rc == 0 and "3 correlations" in out and "0 refused" in out, "the rules load", out + err)

    args = ("scan", "--no-baselines", "--no-store", "--year", "2024", "--timezone", "UTC", "--output", "jsonl", "--rules", rules,
            logs)
    rc, out, err = run(*args)
    alerts = [json.loads(l) for l in out.splitlines()]
    corr = [a for a in alerts if a["kind"] == "correlation"]
    got = [(a["@timestamp"][11:19], a["rule"]["name"], a["correlation"]["group_by"]) for a in corr]
    want = [
        ("10:01:10", "Dovecot password spraying", {"source.ip": "203.0.113.77"}),
        ("10:02:00", "SASL brute force from one address", {"source.ip": "203.0.113.9"}),
        ("10:05:00", "SASL brute force followed by a login", {"source.ip": "203.0.113.9"}),
        ("10:40:40", "SASL brute force from one address", {"source.ip": "203.0.113.9"}),
    ]
    ok(rc == 0 and got == want, "correlations fire exactly where expected, in event-time order",
       json.dumps(got) + "\n" + err)

    bf = corr[1] if len(corr) > 1 else {}
    c = bf.get("correlation", {})
    ok(c.get("type") == "event_count" and c.get("value") == 5 and c.get("condition") == {"gte": 5}
       and c.get("timespan_s") == 600 and c.get("window") == {
           "start": "2024-03-04T10:00:00.000000000Z", "end": "2024-03-04T10:02:00.000000000Z"},
       "event_count alert: type, value, condition, timespan and window", json.dumps(bf))
    evs = bf.get("events", [])
    ok(len(evs) == 5 and bf.get("events_omitted") == 0 and
       all(e["rule"] == "postfix_sasl_failure" and e["source"]["file"].endswith("mail.log")
           and len(e["id"]) == 16 for e in evs) and
       [e["@timestamp"][11:19] for e in evs] == ["10:00:00", "10:00:30", "10:01:00", "10:01:30",
                                                 "10:02:00"],
       "event_count alert lists the five failures with their rule and place", json.dumps(evs))
    ok(bf.get("rule", {}).get("tags") == ["TA0006", "T1110.001"] and
       bf.get("rule", {}).get("level") == "high" and
       bf.get("entity", {}).get("source", {}).get("ip") == "203.0.113.9",
       "event_count alert: rule tags, level and entity", json.dumps(bf))
    lines = [e["source"].get("line") for e in evs]
    with open(os.path.join(logs, "mail.log")) as f:
        text = f.read().splitlines()
    ok(all(l and "SASL LOGIN authentication failed" in text[l - 1] and "203.0.113.9" in text[l - 1]
           for l in lines), "each listed event leads back to its line", json.dumps(lines))

    sp = corr[0] if corr else {}
    ok(sp.get("correlation", {}).get("value") == 3 and sp.get("correlation", {}).get("field") ==
       "user.name" and len(sp.get("events", [])) == 3, "value_count alert: 3 distinct users",
       json.dumps(sp))

    ch = corr[2] if len(corr) > 2 else {}
    ok([e["rule"] for e in ch.get("events", [])] == ["sasl_brute_force", "postfix_sasl_login"] and
       ch.get("rule", {}).get("level") == "critical",
       "chained temporal_ordered alert names the inner correlation and the login", json.dumps(ch))

    sig = [a["rule"]["name"] for a in alerts if a["kind"] == "sigma"]
    ok(sig == ["Postfix SASL login", "Postfix SASL login"],
       "generate: base rules named by a correlation are silent unless it says generate: true",
       json.dumps(sig))
    ok(not any(a["correlation"]["group_by"].get("source.ip") in ("198.51.100.7", "192.0.2.50",
                                                                 "203.0.113.80") for a in corr),
       "below the threshold, or spread beyond the window, or one user: no alert", json.dumps(got))
    summ = [json.loads(l) for l in err.splitlines() if l.startswith('{"correlation"')]
    cs = summ[0]["correlation"] if summ else {}
    ok(cs.get("correlations") == 3 and cs.get("fired") == 4 and cs.get("late") == 0,
       "summary counts correlations and firings", err)

    rc2, out2, _ = run(*args)
    ok(out2 == out, "the same input gives the same alerts")

    # a cap of one group: the addresses evict each other; nothing crashes and
    # the evictions are counted
    rc, out3, err3 = run(*args[:-1], "--corr-max-groups", "1", logs)
    summ = [json.loads(l) for l in err3.splitlines() if l.startswith('{"correlation"')]
    cs = summ[0]["correlation"] if summ else {}
    ok(rc == 0 and cs.get("groups_evicted", 0) > 0 and cs.get("groups_live") == 1,
       "--corr-max-groups bounds the live groups and counts evictions", err3)

    rc, out4, err4 = run("scan", "--no-baselines", "--no-store", "--year", "2024", "--timezone", "UTC", "--output", "table",
                         "--rules", rules, logs)
    ok(rc == 0 and "SASL brute force from one address" in out4 and "event_count=5" in out4,
       "table output shows correlation alerts", out4)
finally:
    shutil.rmtree(tmp)

