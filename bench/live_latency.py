"""bench/live_latency.py - the live daemon, end to end: from a line appended
to a tailed file to its alert in the JSON-lines output.

A writer appends generated Postfix lines to a file at a steady rate (in
slices of 10 ms); one line in ALERT_EVERY is a SASL failure that a rule
turns into an alert. A reader polls the output file and notes, per alert,
when it appeared; the latency of an alert is that time minus the time its
line was written. Printed: median and p99 at the target rate, beside the
same figures at a low rate (the baseline, measured in the same run), and
whether the daemon kept up (lines stored / lines written).

Environment: KENCHI (default build/release/kenchi), BENCH_RATE (lines/s,
default 20000), BENCH_SECONDS (default 20), BENCH_LOW_RATE (default 200).
Not a test: it times things.
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

KENCHI = os.environ.get("KENCHI", "build/release/kenchi")
RATE = int(os.environ.get("BENCH_RATE", "20000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
LOW_RATE = int(os.environ.get("BENCH_LOW_RATE", "200"))
ALERT_EVERY = 100

RULE = """title: SASL authentication failure (bench)
id: 5b0c7f8e-1d2a-4c3b-9e4f-a1b2c3d4e5aa
status: test
level: low
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
"""


def line(i):
    h, m, s = (i // 3600) % 24, (i // 60) % 60, i % 60
    ts = f"Mar  4 {h:02d}:{m:02d}:{s:02d}"
    ip = f"203.0.113.{i % 250 + 1}"
    if i % ALERT_EVERY == 0:
        return (f"{ts} mx1 postfix/smtpd[{i}]: warning: unknown[{ip}]: SASL LOGIN "
                f"authentication failed: UGFzc3dvcmQ6\n")
    return f"{ts} mx1 postfix/smtpd[{i}]: connect from unknown[{ip}]\n"


def run(rate, seconds):
    d = tempfile.mkdtemp(prefix="kenchi-bench-live-")
    try:
        os.makedirs(f"{d}/rules")
        os.makedirs(f"{d}/logs")
        with open(f"{d}/rules/r.yml", "w") as f:
            f.write(RULE)
        with open(f"{d}/k.yml", "w") as f:
            f.write(f"store: {d}/k.db\nrules: [{d}/rules]\nintel: {{stored: false}}\n"
                    f"timezone: UTC\n"
                    f"sources: [{{type: file, name: mail, paths: [{d}/logs/mail.log]}}]\n"
                    f"outputs: [{{type: jsonl, name: a, path: {d}/a.jsonl}}]\n")
        open(f"{d}/logs/mail.log", "w").close()
        p = subprocess.Popen([KENCHI, "run", "--config", f"{d}/k.yml"],
                             stderr=subprocess.DEVNULL)
        time.sleep(2)  # rules loaded, file opened
        written = {}  # line number -> time written
        seen = {}
        out = None
        pos = 0
        i = 0
        t0 = time.monotonic()
        with open(f"{d}/logs/mail.log", "a") as log:
            end = t0 + seconds
            while True:
                now = time.monotonic()
                if now >= end:
                    break
                due = int((now - t0) * rate)
                chunk = []
                while i < due:
                    i += 1
                    chunk.append(line(i))
                if chunk:
                    log.write("".join(chunk))
                    log.flush()
                    tw = time.monotonic()
                    for k in range(i - len(chunk) + 1, i + 1):
                        if k % ALERT_EVERY == 0:
                            written[k] = tw
                # read new alerts
                if out is None and os.path.exists(f"{d}/a.jsonl"):
                    out = open(f"{d}/a.jsonl")
                if out:
                    for l in out:
                        if l.endswith("\n"):
                            a = json.loads(l)
                            seen[a["events"][0]["source"]["line"]] = time.monotonic()
                time.sleep(0.002)
        # wait for the rest (bounded)
        deadline = time.monotonic() + 60
        while len(seen) < len(written) and time.monotonic() < deadline:
            if out is None and os.path.exists(f"{d}/a.jsonl"):
                out = open(f"{d}/a.jsonl")
            if out:
                for l in out:
                    if l.endswith("\n"):
                        a = json.loads(l)
                        seen[a["events"][0]["source"]["line"]] = time.monotonic()
            time.sleep(0.002)
        p.terminate()
        p.wait(timeout=120)
        lat = sorted(seen[k] - written[k] for k in written if k in seen)
        return {
            "rate": rate,
            "lines": i,
            "alerts": len(written),
            "delivered": len(lat),
            "median_ms": statistics.median(lat) * 1000 if lat else float("nan"),
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan"),
            "achieved_rate": i / seconds,
        }
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    low = run(LOW_RATE, min(SECONDS, 10))
    high = run(RATE, SECONDS)
    for r in (low, high):
        print(f"live latency at {r['rate']} lines/s ({r['achieved_rate']:.0f} written): "
              f"{r['delivered']}/{r['alerts']} alerts, median {r['median_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms")
    print(f"ratio p99 at {RATE}/s vs {LOW_RATE}/s: {high['p99_ms'] / low['p99_ms']:.1f}x")
    return 0 if high["delivered"] == high["alerts"] else 1


if __name__ == "__main__":
    sys.exit(main())
