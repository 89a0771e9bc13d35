"""End-to-end: `kenchi rules check`, `kenchi rules list` and `kenchi scan
--rules` on rules and logs written here (Postfix syslog lines, which every
build decodes). Checks refusals with their file:line:column and reason, the
exit status, inactive rules, the alert layout, event-time order across files,
determinism, and the split of alerts (stdout) and summary (stderr)."""
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


GOOD = """title: SASL authentication failure from outside
id: 0a1b2c3d-0000-4000-8000-000000000001
status: test
level: low
tags: [attack.credential_access, attack.t1110.001]
logsource:
    product: postfix
    service: smtpd
detection:
    selection:
        event.action|contains: auth
        event.outcome: failure
    filter_internal:
        source.ip|cidr: 10.0.0.0/8
    condition: selection and not filter_internal
"""

MULTI = """title: Bad modifier
logsource: {product: postfix}
detection:
    sel:
        message|containz: x
    condition: sel
---
title: Broken condition
logsource: {product: postfix}
detection:
    sel:
        message: x
    condition: sel and (sel
---
title: Catastrophic regex
logsource: {product: postfix}
detection:
    sel:
        message|re: '^(\\w+\\s?)+$'
    condition: sel
---
title: Firewall rule kenchi cannot see
logsource: {product: checkpoint, service: fw1}
detection:
    sel:
        action: drop
    condition: sel
---
title: login brute force
correlation:
    type: event_count
    rules: [0a1b2c3d-0000-4000-8000-000000000001]
    group-by: [source.ip]
    timespan: 10m
    condition: {gte: 5}
"""

BADYAML = "title: broken\nlogsource: {product: postfix\ndetection:\n  sel: {a: b}\n"

LOG_A = """Mar  4 10:00:05 mx1 postfix/smtpd[2201]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
Mar  4 10:00:01 mx1 postfix/smtpd[2201]: warning: unknown[10.1.2.3]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
"""
LOG_B = """Mar  4 10:00:03 mx1 postfix/smtpd[2202]: warning: unknown[198.51.100.7]: SASL PLAIN authentication failed: 
Mar  4 10:00:04 mx1 postfix/smtpd[2202]: connect from unknown[198.51.100.7]
"""

tmp = tempfile.mkdtemp(prefix="kenchi-sigma-")
try:
    rules = os.path.join(tmp, "rules")
    os.makedirs(os.path.join(rules, "sub"))
    open(os.path.join(rules, "good.yml"), "w").write(GOOD)
    open(os.path.join(rules, "sub", "multi.yaml"), "w").write(MULTI)
    open(os.path.join(rules, "sub", "broken.yml"), "w").write(BADYAML)
    open(os.path.join(rules, "README.md"), "w").write("not a rule\n")

    rc, out, err = run("rules", "check", rules)
    ok(rc == 1, "rules check exits 1 when a rule is refused", out + err)
    multi = os.path.join(rules, "sub", "multi.yaml")
    ok(f"{multi}:5:9: refused: sel: unknown modifier 'containz'" in out, "unknown modifier: place and reason", out)
    ok(f"{multi}:13:24: refused: condition: '(' is never closed" in out, "broken condition: column inside the condition", out)
    ok(f"{multi}:19:21: refused: sel: regular expression" in out and "catastrophically" in out,
       "catastrophic regex refused at load", out)
    ok(os.path.join(rules, "sub", "broken.yml") + ":3:" in out and "YAML syntax" in out, "malformed YAML: place", out)
    ok("2 rules loaded (1 active, 1 inactive)" in out and "1 correlations" in out and "4 refused" in out,
       "counts: loaded, inactive, correlations, refused", out)
    ok(f"{multi}:29:1: note: event_count correlation 'login brute force' loaded\n"
       in out, "a correlation is reported as loaded", out)

    rc, out, err = run("rules", "check", "--output", "jsonl", os.path.join(rules, "good.yml"))
    lines = [json.loads(l) for l in out.splitlines()]
    ok(rc == 0 and lines[-1]["kind"] == "summary" and lines[-1]["rules"] == 1 and lines[-1]["refused"] == 0,
       "rules check of a good rule exits 0 (jsonl summary)", out + err)

    rc, out, err = run("rules", "list", "--output", "jsonl", "--rules", rules)
    lst = [json.loads(l) for l in out.splitlines()]
    by_title = {r["title"]: r for r in lst}
    ok(rc == 0 and len(lst) == 2, "rules list: the loaded rules", out + err)
    ok(by_title.get("Firewall rule kenchi cannot see", {}).get("active") is False and
       "checkpoint" in (by_title["Firewall rule kenchi cannot see"].get("inactive_reason") or ""),
       "a log source kenchi never produces: inactive, with the reason", out)
    ok(by_title.get("SASL authentication failure from outside", {}).get("tags") == ["TA0006", "T1110.001"],
       "ATT&CK ids from the tags", out)

    logs = os.path.join(tmp, "logs")
    os.makedirs(logs)
    open(os.path.join(logs, "a.log"), "w").write(LOG_A)
    open(os.path.join(logs, "b.log"), "w").write(LOG_B)
    args = ("scan", "--no-baselines", "--no-store", "--year", "2024", "--timezone", "UTC", "--output", "jsonl",
            "--rules", os.path.join(rules, "good.yml"), logs)
    rc, out, err = run(*args)
    alerts = [json.loads(l) for l in out.splitlines()]
    ok(rc == 0 and len(alerts) == 2 and all(a["kind"] == "sigma" for a in alerts),
       "scan: one alert per matching event, internal source filtered out", out + err)
    ok([a["@timestamp"][:19] for a in alerts] == ["2024-03-04T10:00:03", "2024-03-04T10:00:05"],
       "alerts in event-time order across files", out)
    a = alerts[-1] if alerts else {}
    ok(a.get("rule", {}).get("id") == "0a1b2c3d-0000-4000-8000-000000000001" and
       a.get("rule", {}).get("level") == "low" and
       a.get("events", [{}])[0].get("source", {}).get("line") == 1 and
       a.get("events", [{}])[0]["source"]["file"].endswith("a.log") and
       len(a.get("events", [{}])[0].get("id", "")) == 16 and
       a.get("entity", {}).get("source", {}).get("ip") == "203.0.113.9" and
       a.get("entity", {}).get("host", {}).get("name") == "mx1" and
       "event.outcome" in a.get("matched", {}),
       "alert fields: rule, events with source and id, entity, matched values", json.dumps(a))
    ok('"files_read":2' in err, "the read summary goes to stderr when alerts go to stdout", err)
    rc2, out2, _ = run(*args)
    ok(out2 == out, "the same input gives the same alerts", out2)
    rc, out, err = run("scan", "--no-baselines", "--no-store", "--no-rules", "--year", "2024", "--output", "jsonl", logs)
    ok(rc == 0 and '"files_read":2' in out, "--no-rules: summary on stdout", out + err)
    rc, out, err = run("scan", "--no-baselines", "--no-store", "--rules", os.path.join(tmp, "missing"), logs)
    ok(rc == 2 and "missing" in err, "a missing --rules path is a usage error", err)
    rc, out, err = run("scan", "--no-baselines", "--no-store", "--year", "2024", "--output", "jsonl", "--rules", rules, logs)
    # the correlation names the SASL rule without `generate: true`, so the
    # rule's own alerts give way to the correlation (2 failures < 5: none)
    ok(rc == 0 and len(out.splitlines()) == 0 and "refused" in err,
       "scan goes on with the rules that load and reports the refused ones", out + err)
finally:
    shutil.rmtree(tmp)
