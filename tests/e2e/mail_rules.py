"""End-to-end: kenchi's own rules (rules/) fire on their positive fixture and
stay silent on their negative one.

Every alerting document under rules/ (a detection rule, or a correlation) has
a `name`; its fixtures are tests/rules/<name>/positive.* and negative.*
(tests/rules/gen_fixtures.py writes them), with an optional placeholders.yml
passed as --placeholders. For each, `kenchi scan --rules FILE` runs on the
positive fixture (at least one alert of the document's id expected) and on
the negative one (none expected). FILE is the document's own file, which
holds a correlation's base rules too. A detection rule that only serves
correlations (named by one, `generate` not set) alerts through them and
needs no fixtures of its own. A document without fixtures, or fixtures
without a document, fail.

When this build does not evaluate a correlation yet (`kenchi rules check`
says "not evaluated" for it), the correlation's cases are TAP skips with that reason,
and instead the fixtures are checked against the correlation by a small
reference evaluation here, over the events kenchi's base rules matched (so
the fixtures are known to be right, and the decoders to give the fields the
rules use, before the engine counts them). Also: `kenchi rules check rules/`
loads every document, none refused, no warnings; every fixture line decodes
(no unparsed events)."""
import glob, json, os, subprocess
from datetime import datetime

import yaml

KENCHI = os.path.abspath(os.environ.get("KENCHI", "build/debug/kenchi"))
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULES = os.path.join(ROOT, "rules")
FIXTURES = os.path.join(ROOT, "tests", "rules")
n = 0


def tap(ok, name, detail=()):
    global n
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {name}")
    if not ok:
        for line in list(detail)[:20]:
            print("# " + str(line))


def skip(name, reason):
    global n
    n += 1
    print(f"ok {n} - {name} # SKIP {reason}")


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, timeout=300, cwd=ROOT)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ---- the documents ---------------------------------------------------------
docs = []  # (file, doc)
files = sorted(glob.glob(os.path.join(RULES, "**", "*.yml"), recursive=True)
               + glob.glob(os.path.join(RULES, "**", "*.yaml"), recursive=True))
for f in files:
    with open(f) as fh:
        for d in yaml.safe_load_all(fh):
            if isinstance(d, dict):
                docs.append((os.path.relpath(f, ROOT), d))

by_name = {d["name"]: (f, d) for f, d in docs if "name" in d}
served = set()  # names/ids of rules that only feed correlations
generated = set()
for f, d in docs:
    c = d.get("correlation")
    if isinstance(c, dict):
        for r in c.get("rules", []):
            served.add(r)
            if c.get("generate") is True:
                generated.add(r)

# ---- everything loads --------------------------------------------------------
rc, out, err = run("rules", "check", "--output", "jsonl", "rules/")
lines = [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]
summary = [l for l in lines if l.get("kind") == "summary"]
summary = summary[-1] if summary else {}
loaded = summary.get("rules", 0) + summary.get("filters", 0) + summary.get("correlations", 0)
tap(rc == 0 and summary.get("refused") == 0 and loaded == len(docs),
    f"kenchi rules check rules/ loads every document ({loaded} of {len(docs)})",
    [f"exit {rc}", json.dumps(summary)] + [json.dumps(l) for l in lines if l.get("kind") not in ("summary", "correlation")])
tap(summary.get("warnings") == 0, "kenchi rules check rules/ gives no warnings",
    [json.dumps(l) for l in lines if l.get("kind") not in ("summary", "correlation")])
ids = [d.get("id") for _, d in docs]
tap(len(ids) == len(set(ids)) and None not in ids, "every document has an id, and ids are unique")
names = [d.get("name") for _, d in docs]
tap(None not in names and len(names) == len(set(names)), "every document has a name, and names are unique",
    [f"{f}: {d.get('title')}" for f, d in docs if not d.get("name")])
for f, d in docs:
    missing = [k for k in ("title", "id", "status", "description", "author", "date", "level", "tags",
                           "falsepositives") if k not in d]
    tactics = [t for t in d.get("tags", []) if t.startswith("attack.") and not t[7:8] in "tgs"]
    techniques = [t for t in d.get("tags", []) if t.startswith("attack.t")]
    tap(not missing and tactics and techniques and d.get("author") == "kenchi",
        f"{d.get('name')}: title, description, author, date, status, level, ATT&CK tactic and technique",
        [f"missing: {missing}", f"tactics: {tactics}", f"techniques: {techniques}"])

# which files hold correlations this build does not evaluate
# (per correlation: a build may evaluate some correlation types and not others)
not_evaluated = {l.get("title") for l in lines
                 if l.get("kind") == "correlation" and "not evaluated" in l.get("message", "")}


# ---- reference evaluation of a correlation on base-rule matches -------------
def parse_events(path):
    """kenchi parse of a fixture: event id -> {field: value} with native names
    first, then the ECS core names dotted."""
    _, out, _ = run("parse", os.path.abspath(path))
    evs = {}
    for line in out.splitlines():
        e = json.loads(line)
        flat = {}

        def walk(o, pre):
            for k, v in o.items():
                if isinstance(v, dict) and k != "native":
                    walk(v, pre + k + ".")
                elif k != "native":
                    flat[pre + k] = v
        walk(e, "")
        flat.update(e.get("native", {}))
        evs[e["event"]["id"]] = flat
    return evs


def when(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")[:26] + "+00:00").timestamp()


SPAN = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def firing(name, alerts, evs):
    """Times and group keys at which document `name` fires, as a list of
    (time, group dict). Base rules: their alerts. Correlations: gte only,
    sliding windows ending at each event."""
    f, d = by_name[name]
    c = d.get("correlation")
    if c is None:
        out = []
        for a in alerts:
            if a["rule"]["id"] == d["id"]:
                e = evs[a["events"][0]["id"]]
                out.append((when(a["@timestamp"]), e))
        return out
    span = int(c["timespan"][:-1]) * SPAN[c["timespan"][-1]]
    gb = c["group-by"]
    inputs = []
    for r in c["rules"]:
        inputs.append([(t, e) for t, e in firing(r, alerts, evs)])
    fired = []
    if c["type"] in ("event_count", "value_count"):
        evts = sorted(((t, e) for lst in inputs for t, e in lst if all(e.get(g) is not None for g in gb)),
                      key=lambda x: x[0])
        for i, (t, e) in enumerate(evts):
            key = [e.get(g) for g in gb]
            win = [x for x in evts[:i + 1] if t - x[0] <= span and [x[1].get(g) for g in gb] == key]
            if c["type"] == "event_count":
                v = len(win)
            else:
                v = len({x[1].get(c["condition"]["field"]) for x in win})
            if v >= c["condition"]["gte"]:
                fired.append((t, e))
        return fired
    if c["type"] == "temporal_ordered":
        first, second = inputs
        for t2, e2 in second:
            for t1, e1 in first:
                if t1 <= t2 and t2 - t1 <= span and all(e1.get(g) == e2.get(g) for g in gb):
                    fired.append((t2, e2))
                    break
        return fired
    raise ValueError(c["type"])


# ---- the cases ----------------------------------------------------------------
alerting = []
for f, d in docs:
    nm = d.get("name")
    if (nm in served or d.get("id") in served) and nm not in generated:
        continue
    alerting.append((f, d))

used_dirs = set()
for f, d in alerting:
    nm = d.get("name") or d.get("title")
    fx = os.path.join(FIXTURES, nm)
    pos = sorted(glob.glob(os.path.join(fx, "positive.*")))
    neg = sorted(glob.glob(os.path.join(fx, "negative.*")))
    used_dirs.add(nm)
    if not pos or not neg:
        tap(False, f"{nm}: has a positive and a negative fixture in tests/rules/{nm}/")
        continue
    args = ["scan", "--no-baselines", "--no-store", "-o", "jsonl", "--rules", f]
    ph = os.path.join(fx, "placeholders.yml")
    if os.path.exists(ph):
        args += ["--placeholders", ph]
    corr = "correlation" in d
    for kind, paths in (("positive", pos), ("negative", neg)):
        rc, out, err = run(*args, *paths)
        alerts = [json.loads(l) for l in out.splitlines() if l.strip()]
        read = [json.loads(l) for l in err.splitlines() if l.startswith('{"events"')]
        tap(rc == 0 and read and read[0]["unparsed"] == 0 and read[0]["events"] > 0,
            f"{nm}: every line of the {kind} fixture decodes", [err[-400:]])
        mine = [a for a in alerts if a["rule"]["id"] == d["id"]]
        if corr and d.get("title") in not_evaluated:
            skip(f"{nm}: {kind} fixture", "correlation: not evaluated yet in this build")
            evs = {}
            for p in paths:
                evs.update(parse_events(p))
            got = firing(nm, alerts, evs)
            want = kind == "positive"
            tap(bool(got) == want and rc == 0,
                f"{nm}: {kind} fixture {'meets' if want else 'does not meet'} the correlation "
                f"(reference evaluation over the base rules' matches)",
                [f"fired {len(got)} times", err[-400:]])
            continue
        if kind == "positive":
            tap(rc == 0 and len(mine) >= 1, f"{nm}: fires on its positive fixture ({len(mine)} alerts)",
                [f"exit {rc}", err[-400:]])
        else:
            tap(rc == 0 and not mine, f"{nm}: silent on its negative fixture",
                [f"exit {rc}"] + [json.dumps(a.get("matched")) for a in mine])

for d in sorted(os.listdir(FIXTURES)):
    if os.path.isdir(os.path.join(FIXTURES, d)):
        tap(d in used_dirs, f"tests/rules/{d}/ belongs to an alerting rule")
