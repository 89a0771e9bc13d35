"""End-to-end: the Sigma literal prefilter never changes what matches.

Runs `kenchi scan --output jsonl` with every SigmaHQ rule directory twice,
once as built and once with KENCHI_NO_PREFILTER=1 (every rule of the event's
log source evaluated), and requires the same alerts, line for line (rule,
events, matched fields), over:
  1. every SigmaHQ regression case's events (.json), and
  2. a generated mixed stream: the regression events re-written as flat JSON
     lines with values swapped between events of the same field, case
     flipped (the prefilter scans case-blind), and parts cut, so that many
     rules come close to matching and many just miss.
Skips with the reason when the shared data is absent."""
import json, os, random, subprocess, sys, tempfile

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
    for line in list(detail)[:10]:
        print("# " + line[:300])


if not os.path.isdir(REG):
    print(f"ok 1 - prefilter equals the exact path # SKIP no shared data at {REG}")
    sys.exit(0)

rule_dirs = [os.path.join(SIGMA, d) for d in sorted(os.listdir(SIGMA))
             if d.startswith("rules") and d != "rules-placeholder"]
jsons = sorted(os.path.join(r, f) for r, _, fs in os.walk(REG) for f in fs if f.endswith(".json"))


def alerts(paths, no_prefilter):
    env = dict(os.environ)
    env.pop("KENCHI_NO_PREFILTER", None)
    if no_prefilter:
        env["KENCHI_NO_PREFILTER"] = "1"
    args = [KENCHI, "scan", "--no-baselines", "--no-store", "--output", "jsonl"]
    for d in rule_dirs:
        args += ["--rules", d]
    p = subprocess.run(args + paths, capture_output=True, env=env, timeout=1800)
    out = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("{") and '"kind":"sigma"' in line:
            out.append(line)
    return p.returncode, sorted(out)


def compare(name, paths):
    rc1, a = alerts(paths, False)
    rc2, b = alerts(paths, True)
    if rc1 != rc2:
        tap(False, name, [f"exit codes differ: {rc1} with the prefilter, {rc2} without"])
        return
    sa, sb = set(a), set(b)
    detail = [f"only with the prefilter: {x}" for x in sorted(sa - sb)]
    detail += [f"only without: {x}" for x in sorted(sb - sa)]
    ok = a == b and len(a) > 0
    if not a:
        detail.append("no alerts at all: the comparison proves nothing")
    tap(ok, f"{name}: {len(a)} alerts with and without the prefilter", detail)


# 1. the regression events as they are
compare("regression events", jsons)


# 2. a generated mixed stream
def flat_events():
    """(EventData-ish flat dict) per regression event: System fields the
    decoder needs plus the EventData names."""
    out = []
    for path in jsons:
        try:
            doc = json.load(open(path, encoding="utf-8", errors="replace"))
        except ValueError:
            continue
        for ev in doc if isinstance(doc, list) else [doc]:
            e = ev.get("Event", ev) if isinstance(ev, dict) else None
            if not isinstance(e, dict) or not isinstance(e.get("System"), dict):
                continue
            sysd = e["System"]
            flat = {}
            ch = sysd.get("Channel")
            eid = sysd.get("EventID")
            if isinstance(eid, dict):
                eid = eid.get("#text", eid.get("Value"))
            prov = sysd.get("Provider", {})
            prov = prov.get("#attributes", prov) if isinstance(prov, dict) else {}
            if not isinstance(ch, str) or eid is None:
                continue
            flat["Channel"] = ch
            flat["EventID"] = eid
            if isinstance(prov.get("Name"), str):
                flat["Provider_Name"] = prov["Name"]
            data = e.get("EventData") or {}
            if isinstance(data, dict):
                for k, v in data.items():
                    if isinstance(v, (str, int)) and not k.startswith("#"):
                        flat[k] = v
            if len(flat) > 3:
                out.append(flat)
    return out


def mutate(rng, ev, pool):
    ev = dict(ev)
    for k in list(ev):
        if k in ("Channel", "EventID", "Provider_Name"):
            continue
        v = ev[k]
        r = rng.random()
        if r < 0.25 and pool.get(k):
            ev[k] = rng.choice(pool[k])
        elif r < 0.40 and isinstance(v, str):
            ev[k] = v.upper() if rng.random() < 0.5 else v.swapcase()
        elif r < 0.50 and isinstance(v, str) and len(v) > 4:
            cut = rng.randrange(1, len(v) - 1)
            ev[k] = v[:cut] if rng.random() < 0.5 else v[cut:]
        elif r < 0.55:
            del ev[k]
    return ev


base = flat_events()
if not base:
    tap(True, "generated mixed stream", skip="no usable regression events")
else:
    rng = random.Random(1234)
    pool = {}
    for ev in base:
        for k, v in ev.items():
            pool.setdefault(k, []).append(v)
    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "mixed.json")
        with open(path, "w", encoding="utf-8") as f:
            for ev in base:
                f.write(json.dumps(ev) + "\n")
            for _ in range(3000):
                f.write(json.dumps(mutate(rng, rng.choice(base), pool)) + "\n")
        compare("generated mixed stream", [path])
