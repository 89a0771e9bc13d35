#!/usr/bin/env python3
"""End-to-end checks of the M365 and Zeek decoders through `kenchi`.

1. Zeek logs as Zeek archives them (gzip, "conn.2024-...log.gz") are found
   by content, their header lines make no events, and a JSON log without
   _path takes its log name from the file name.
2. The SigmaHQ rules for product m365 and zeek (read from KENCHI_SHARED)
   are evaluated, with a deliberately small matcher (equality, contains,
   all, startswith, endswith, cidr; plain conditions), against the events
   kenchi makes of the fixtures in tests/golden: the rules that describe
   the fixtures' attack must fire, on the right events, and no other rule
   may. This is the claim docs/fields.md makes about field names and
   log-source services.

Prints TAP lines.
"""
import gzip
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SHARED = os.environ.get("KENCHI_SHARED", "../shared")
GOLDEN = "tests/golden"


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def parse(*paths):
    rc, out, err = run("parse", *paths)
    if rc != 0:
        raise RuntimeError(err)
    return [json.loads(l) for l in out.splitlines()]


# ---- 1. files as Zeek writes them ------------------------------------------
tmp = tempfile.mkdtemp(prefix="kenchi-zeek-")
try:
    gz = os.path.join(tmp, "conn.2024-03-04-09-00-00.log.gz")
    with open(f"{GOLDEN}/zeek/tsv-conn.log", "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    x509 = os.path.join(tmp, "x509.09:00:00-10:00:00.log.gz")
    with open(f"{GOLDEN}/zeek/x509.2024-03-04-09-00-00.log", "rb") as src, gzip.open(x509, "wb") as dst:
        dst.write(src.read())
    rc, out, err = run("scan", "--no-baselines", "--no-store", "--no-rules", "-o", "jsonl", tmp)
    s = json.loads(out) if rc == 0 and out else {}
    files = {os.path.basename(f["path"]): f for f in s.get("files", [])}
    conn = files.get(os.path.basename(gz), {})
    ok(conn.get("format") == "zeek" and conn.get("events") == 6 and conn.get("unparsed") == 0,
       "gzip'd Zeek TSV is detected, headers make no events", out + err)
    ls = {(l["module"], l["service"]): l["events"] for l in s.get("logsources", [])}
    ok(ls.get(("zeek", "x509")) == 2, "Zeek JSON without _path takes its log from the file name", out)
    ok(ls.get(("zeek", "conn")) == 6, "conn events counted under service conn", out)
finally:
    shutil.rmtree(tmp)

# ---- 2. SigmaHQ rules against the fixtures' events ------------------------------
try:
    import yaml
except ImportError:
    yaml = None

rules_root = os.path.join(SHARED, "data", "sigma", "rules")
if yaml is None:
    print("ok - SigmaHQ rules on the fixtures # SKIP python3-yaml not installed")
    sys.exit(0)
if not os.path.isdir(rules_root):
    print(f"ok - SigmaHQ rules on the fixtures # SKIP {rules_root} absent")
    sys.exit(0)


class Unsupported(Exception):
    pass


def lookup(ev, field):
    """Native first, then the ECS core (nested objects), as kenchi does."""
    if field in ev.get("native", {}):
        return ev["native"][field]
    cur = ev
    for part in field.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def value_matches(actual, mods, want):
    if isinstance(actual, list):
        return any(value_matches(a, mods, want) for a in actual)
    if actual is None:
        return want is None
    if "cidr" in mods:
        try:
            return ipaddress.ip_address(str(actual)) in ipaddress.ip_network(str(want), strict=False)
        except ValueError:
            return False
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        try:
            return float(actual) == float(want)
        except (TypeError, ValueError):
            return False
    a, w = str(actual).lower(), str(want).lower()
    if "contains" in mods:
        return w in a
    if "startswith" in mods:
        return a.startswith(w)
    if "endswith" in mods:
        return a.endswith(w)
    if "re" in mods or "base64" in mods or "windash" in mods:
        raise Unsupported(mods)
    return a == w


def selection_matches(ev, sel):
    if isinstance(sel, list):
        return any(selection_matches(ev, s) for s in sel)
    if not isinstance(sel, dict):
        raise Unsupported("keyword selection")
    for key, want in sel.items():
        field, *mods = key.split("|")
        wants = want if isinstance(want, list) else [want]
        actual = lookup(ev, field)
        hits = [value_matches(actual, mods, w) for w in wants]
        if not (all(hits) if "all" in mods else any(hits)):
            return False
    return True


def group(det, pattern, ev, quant):
    names = [n for n in det if n != "condition" and (n == pattern or
             (pattern.endswith("*") and n.startswith(pattern[:-1])))]
    res = [selection_matches(ev, det[n]) for n in names]
    return all(res) if quant == "all" else any(res)


def condition_matches(ev, det):
    """Conditions of the forms SigmaHQ's m365 and zeek rules use:
    A, A and B, A and not B, not A, 1 of P*, all of P*, A or B."""
    cond = det["condition"]
    if not isinstance(cond, str) or "(" in cond:
        raise Unsupported(cond)
    for alt in cond.split(" or "):
        toks = alt.split()
        result, i = True, 0
        while i < len(toks):
            neg = toks[i] == "not"
            i += neg
            if toks[i] in ("1", "all") and i + 2 < len(toks) and toks[i + 1] == "of":
                v = group(det, toks[i + 2], ev, "all" if toks[i] == "all" else "1")
                i += 3
            else:
                if toks[i] not in det:
                    raise Unsupported(cond)
                v = selection_matches(ev, det[toks[i]])
                i += 1
            result = result and (not v if neg else v)
            if i < len(toks):
                if toks[i] != "and":
                    raise Unsupported(cond)
                i += 1
        if result:
            return True
    return False


events = []
for suite in ("m365", "zeek"):
    d = os.path.join(GOLDEN, suite)
    for f in sorted(os.listdir(d)):
        if f.endswith((".jsonl", ".args")):
            continue
        args = ["--format", "zeek"] if f.startswith("tsv-damaged") else []
        events += parse(*args, os.path.join(d, f))

# (rule file name) -> the fixture events it must fire on, as (file, line)
expected = {
    "microsoft365_bypass_conditional_access.yml": {("api-array.json", 76)},
    "microsoft365_suspicious_email_delivered.yml": {("mixed.json", 1)},
    "microsoft365_susp_inbox_forwarding.yml": {("mixed.json", 2)},
    "microsoft365_pst_export_alert_using_new_compliancesearchaction.yml": {("mixed.json", 6)},
    "zeek_http_webdav_put_request.yml": {("tsv-http.log", 11), ("json-http.json", 3)},
    "zeek_default_cobalt_strike_certificate.yml": {("x509.2024-03-04-09-00-00.log", 1)},
}
fired, skipped, evaluated = {}, [], 0
for sub in (os.path.join("cloud", "m365"), os.path.join("network", "zeek")):
    for root, _, names in os.walk(os.path.join(rules_root, sub)):
        for name in sorted(names):
            if not name.endswith(".yml"):
                continue
            with open(os.path.join(root, name)) as fh:
                rule = yaml.safe_load(fh)
            ls = rule.get("logsource", {})
            try:
                hits = set()
                for ev in events:
                    evls = ev.get("logsource", {})
                    if evls.get("product") != ls.get("product") or evls.get("service") != ls.get("service"):
                        continue
                    if condition_matches(ev, rule["detection"]):
                        hits.add((os.path.basename(ev["source"]["file"]), ev["source"]["line"]))
                evaluated += 1
                if hits:
                    fired[name] = hits
            except Unsupported:
                skipped.append(name)

ok(evaluated >= 20, f"SigmaHQ m365 and zeek rules evaluated ({evaluated}, {len(skipped)} beyond this matcher)")
for name, want in sorted(expected.items()):
    got = fired.get(name, set())
    ok(got == want, f"SigmaHQ {name} fires on the fixtures' attack", f"want {sorted(want)}\ngot  {sorted(got)}")
extra = {n: h for n, h in fired.items() if n not in expected}
ok(not extra, "no other SigmaHQ m365/zeek rule fires on the fixtures", json.dumps({k: sorted(v) for k, v in extra.items()}))
