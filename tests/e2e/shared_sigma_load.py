"""End-to-end: `kenchi rules check` over every SigmaHQ rules*/ directory in
the shared data. Every rule must load (target 100%); each refusal is listed
with its place and reason. Prints TAP lines; skips when the shared data is
absent."""
import json, os, subprocess, sys

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SHARED = os.environ.get("KENCHI_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SIGMA = os.path.join(SHARED, "data", "sigma")
n = 0


def tap(ok, name, detail=()):
    global n
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {name}")
    for line in detail:
        print("# " + line)


if not os.path.isdir(SIGMA):
    print(f"ok 1 - SigmaHQ rules load # SKIP no shared data at {SIGMA}")
    sys.exit(0)

dirs = sorted(d for d in os.listdir(SIGMA) if d.startswith("rules") and os.path.isdir(os.path.join(SIGMA, d)))
total = {"rules": 0, "active": 0, "inactive": 0, "refused": 0, "correlations": 0, "filters": 0}
for d in dirs:
    p = subprocess.run([KENCHI, "rules", "check", "--output", "jsonl", os.path.join(SIGMA, d)],
                       capture_output=True, timeout=900)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    summary = [l for l in lines if l.get("kind") == "summary"]
    refused = [l for l in lines if l.get("kind") == "refused"]
    if not summary:
        tap(False, f"{d}: rules check gave no summary (exit {p.returncode})", p.stderr.decode().splitlines()[:10])
        continue
    s = summary[0]
    for k in total:
        total[k] += s.get(k, 0)
    detail = [f"{os.path.relpath(r['file'], SIGMA)}:{r['line']}:{r['column']}: {r['message']}" for r in refused]
    ok = not refused and p.returncode == 0 and s["rules"] > 0
    tap(ok, f"{d}: {s['rules']} rules loaded ({s['active']} active, {s['inactive']} inactive), "
            f"{s['correlations']} correlations, {s['filters']} filters, {s['refused']} refused", detail)
print(f"# all rules*/: {total['rules']} loaded, {total['active']} active, {total['inactive']} inactive, "
      f"{total['refused']} refused, {total['correlations']} correlations")
