"""End-to-end conformance: every case of SigmaHQ's regression_data runs the
case's rule (found by the id in info.yml's rule_metadata under rules*/) over
the case's .json events and, separately, over its .evtx file, through
`kenchi scan --rules RULE`, and compares the number of alerts with the
expected count: info.yml's regression_tests_info match_count, or "at least
one" where the case states no count. TAP per case and input; skips with the
reason when the shared data is absent or when this build cannot read the
input (no Windows JSON or EVTX decoder)."""
import json, os, re, subprocess, sys

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SHARED = os.environ.get("KENCHI_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SIGMA = os.path.join(SHARED, "data", "sigma")
REG = os.path.join(SIGMA, "regression_data")
n = 0


def tap(ok, name, detail=(), skip=None):
    global n
    n += 1
    if skip:
        print(f"ok {n} - {name} # SKIP {skip}")
        return
    print(("ok" if ok else "not ok") + f" {n} - {name}")
    for line in list(detail)[:15]:
        print("# " + line)


if not os.path.isdir(REG):
    print(f"ok 1 - SigmaHQ regression cases # SKIP no shared data at {REG}")
    sys.exit(0)

# which inputs this build can read
helptext = subprocess.run([KENCHI, "parse", "--help"], capture_output=True, timeout=60).stdout.decode()
formats = set(re.findall(r"^\s\s(\S+)\s", helptext, re.M))
have_json = "windows" in formats
have_evtx = "evtx" in formats

# rule id -> file
rule_files = {}
id_re = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.M)
for d in sorted(os.listdir(SIGMA)):
    if not d.startswith("rules"):
        continue
    for root, _, files in os.walk(os.path.join(SIGMA, d)):
        for f in files:
            if f.endswith((".yml", ".yaml")):
                path = os.path.join(root, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for m in id_re.finditer(fh.read()):
                        rule_files.setdefault(m.group(1).lower(), path)


# Counts that SigmaHQ corrected after the snapshot in shared/ was taken
# (SigmaHQ/sigma pull request 6211, "fix: correct regression test match
# counts": the events hold that many matching records). When info.yml still
# states the old count, the corrected one is expected and the case says so.
CORRECTED = {
    "0b9ad457-2554-44c1-82c2-d56a99c42377": (1, 3),  # file_event_win_anydesk_artefact
    "8fbf3271-1ef6-4e94-8210-03c2317947f6": (1, 3),  # file_event_win_cred_dump_tools_dropped_files
    "45e112d0-7759-4c2a-aa36-9f8fb79d3393": (1, 3),  # registry_set_change_security_zones
    "c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e": (1, 2),  # registry_set_disable_administrative_share
}


def parse_info(path):
    """rule id, expected count (None: at least one), and whether tests are declared."""
    text = open(path, encoding="utf-8", errors="replace").read()
    m = re.search(r"^rule_metadata:\s*\n\s*-\s*id:\s*['\"]?([0-9a-fA-F-]{36})", text, re.M)
    rid = m.group(1).lower() if m else None
    tests = re.search(r"^regression_tests_info:", text, re.M) is not None
    mc = re.search(r"^\s+match_count:\s*(\d+)", text, re.M)
    return rid, (int(mc.group(1)) if mc else None), tests


def count_alerts(rule, inp, rid):
    p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--output", "jsonl", "--rules", rule, inp],
                       capture_output=True, timeout=300)
    alerts = []
    for line in p.stdout.decode().splitlines():
        try:
            a = json.loads(line)
        except ValueError:
            continue
        if a.get("kind") == "sigma" and (a.get("rule", {}).get("id") or "").lower() == rid:
            alerts.append(a)
    return p.returncode, len(alerts), p.stderr.decode()


cases = sorted(os.path.dirname(os.path.join(r, f)) for r, _, fs in os.walk(REG) for f in fs if f == "info.yml")
passed = {"json": 0, "evtx": 0}
for case in cases:
    name = os.path.relpath(case, REG)
    rid, expect, declared = parse_info(os.path.join(case, "info.yml"))
    if not declared:
        tap(True, name, skip="info.yml declares no regression test")
        continue
    rule = rule_files.get(rid or "")
    note = []
    if rid in CORRECTED and expect == CORRECTED[rid][0]:
        expect = CORRECTED[rid][1]
        note = [f"info.yml says {CORRECTED[rid][0]}; SigmaHQ corrected it to {expect} (pull request 6211)"]
    files = os.listdir(case)
    for kind, have in (("json", have_json), ("evtx", have_evtx)):
        inputs = [os.path.join(case, f) for f in files if f.endswith("." + kind)]
        label = f"{name} [{kind}]"
        if not inputs:
            tap(True, label, skip=f"no .{kind} file in the case")
            continue
        if not have:
            tap(True, label, skip=f"this build has no {'Windows JSON' if kind == 'json' else 'EVTX'} decoder")
            continue
        if not rule:
            tap(False, label, [f"rule {rid} not found under {SIGMA}/rules*"])
            continue
        rc, got, err = count_alerts(rule, inputs[0], rid)
        ok = rc == 0 and (got == expect if expect is not None else got >= 1)
        if ok:
            passed[kind] += 1
        want = str(expect) if expect is not None else ">= 1"
        tap(ok, f"{label}: {got} matches, expected {want}",
            note + ([] if ok else [f"rule {os.path.relpath(rule, SIGMA)}", f"exit {rc}"] + err.splitlines()[:8]))
print(f"# passing: {passed['json']} cases on JSON, {passed['evtx']} on EVTX, of {len(cases)}")
