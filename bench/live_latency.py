"""bench/live_latency.py - the live daemon, end to end: from a mail log line
written to its alert in the JSON-lines output, at a sustained rate, beside
the same at a low rate measured in the same run (the baseline).

Two paths, each measured with its own daemon:
  file    lines appended to a file that a `type: file` source tails;
  syslog  RFC 3164 messages sent over one TCP connection to a
          `type: syslog` source (protocol tcp, LF framing) on 127.0.0.1.

The stream is a Postfix/Dovecot mix (connections, queue manager, deliveries,
SASL failures, IMAP logins and failed logins). One line in ALERT_EVERY is a
Postfix reject whose HELO name is `latN.onion` (N: the line's number): the
rule postfix_helo_onion_or_command turns it into an alert whose `matched`
holds the name, so each alert tells which line it came from. Other alerts
(correlations over the SASL and IMAP failures) are counted, not timed.

A writer sends the lines in slices of 10 ms at the rate; a reader thread
polls the output every millisecond. Latency: when the alert's line was
seen in the output minus when its slice was handed to write() or send()
(a blocked send, the daemon's back-pressure, counts in the latency).

Rules: kenchi's rules/ and, when present, SigmaHQ's rules* directories under
KENCHI_SHARED/data/sigma (otherwise says so and goes on with rules/ only).

Environment: KENCHI (default build/release/kenchi), BENCH_RATE (lines/s,
default 50000), BENCH_SECONDS (default 60), BENCH_LOW_RATE (default 200),
BENCH_LOW_SECONDS (default 10), BENCH_PATHS (default "file syslog"),
ALERT_EVERY (default 100), KENCHI_SHARED (default ../shared).
Not a test: it times things.
"""
import glob, os, random, re, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KENCHI = os.environ.get("KENCHI", os.path.join(ROOT, "build/release/kenchi"))
RATE = int(os.environ.get("BENCH_RATE", "50000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
LOW_RATE = int(os.environ.get("BENCH_LOW_RATE", "200"))
LOW_SECONDS = float(os.environ.get("BENCH_LOW_SECONDS", "10"))
PATHS = os.environ.get("BENCH_PATHS", "file syslog").split()
ALERT_EVERY = int(os.environ.get("ALERT_EVERY", "100"))
SHARED = os.environ.get("KENCHI_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SLICE = 0.010

TAG = re.compile(r'"helo":"lat(\d+)\.onion"')


def rule_dirs():
    dirs = [os.path.join(ROOT, "rules")]
    sigma = sorted(glob.glob(os.path.join(SHARED, "data/sigma/rules*")))
    if sigma:
        dirs += sigma
    else:
        print(f"# SigmaHQ rules not found under {SHARED}/data/sigma: kenchi's rules/ only",
              flush=True)
    return dirs


def bodies(n, seed=1):
    """n untagged message bodies (after "HOST "), a Postfix/Dovecot mix."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ip = f"198.51.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        pid = rnd.randrange(1000, 60000)
        qid = "%011X" % rnd.randrange(1 << 44)
        user = f"user{rnd.randrange(500)}@example.org"
        k = rnd.randrange(100)
        if k < 20:
            b = f"postfix/smtpd[{pid}]: connect from mail-{i % 997}.example.net[{ip}]"
        elif k < 35:
            b = (f"postfix/smtpd[{pid}]: disconnect from mail-{i % 997}.example.net[{ip}] "
                 f"ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
        elif k < 45:
            b = f"postfix/smtpd[{pid}]: {qid}: client=mail-{i % 997}.example.net[{ip}]"
        elif k < 52:
            b = (f"postfix/cleanup[{pid}]: {qid}: message-id=<{i}.{qid}@example.net>")
        elif k < 62:
            b = (f"postfix/qmgr[880]: {qid}: from=<news@example.net>, size={rnd.randrange(900, 90000)}, "
                 f"nrcpt=1 (queue active)")
        elif k < 72:
            b = (f"postfix/lmtp[{pid}]: {qid}: to=<{user}>, relay=mx1.example.org[private/dovecot-lmtp], "
                 f"delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)")
        elif k < 74:
            b = (f"postfix/smtpd[{pid}]: warning: unknown[203.0.{rnd.randrange(16)}.{rnd.randrange(1, 255)}]: "
                 f"SASL LOGIN authentication failed: authentication failure, sasl_username={user}")
        elif k < 90:
            b = (f"dovecot[812]: imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, "
                 f"lip=192.0.2.20, mpid={pid}, TLS, session=<kZHq{qid}>")
        elif k < 92:
            b = (f"dovecot[812]: imap-login: Login aborted: Connection closed (auth failed, 1 attempts "
                 f"in 2 secs) (auth_failed): user=<{user}>, method=PLAIN, "
                 f"rip=203.0.{rnd.randrange(16)}.{rnd.randrange(1, 255)}, lip=192.0.2.20, TLS, "
                 f"session=<9ZHq{qid}>")
        else:
            b = f"dovecot[812]: imap({user})<{pid}><kZHq{qid}>: Logged out in=120 out=2048"
        out.append(b)
    return out


def tagged(i):
    return (f"postfix/smtpd[{i % 60000}]: NOQUEUE: reject: RCPT from unknown[192.0.2.{i % 250 + 1}]: "
            f"554 5.7.1 <x@example.org>: Relay access denied; from=<p@example.net> "
            f"to=<x@example.org> proto=ESMTP helo=<lat{i}.onion>")


class Reader(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.seen = {}
        self.other = 0
        self.stop = False

    def run(self):
        f = None
        rest = ""
        while not self.stop:
            if f is None:
                try:
                    f = open(self.path)
                except FileNotFoundError:
                    time.sleep(0.001)
                    continue
            data = f.read()
            if data:
                now = time.monotonic()
                data = rest + data
                lines = data.split("\n")
                rest = lines.pop()
                for l in lines:
                    m = TAG.search(l)
                    if m:
                        self.seen.setdefault(int(m.group(1)), now)
                    else:
                        self.other += 1
            else:
                time.sleep(0.001)


def pct(lat, q):
    return lat[min(len(lat) - 1, int(len(lat) * q))] * 1000 if lat else float("nan")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(path, rate, seconds, rules, pool):
    d = tempfile.mkdtemp(prefix="kenchi-bench-live-")
    p = None
    try:
        os.makedirs(f"{d}/logs")
        open(f"{d}/logs/mail.log", "w").close()
        port = free_port()
        if path == "file":
            src = f"{{type: file, name: mail, paths: [{d}/logs/mail.log]}}"
        else:
            src = f"{{type: syslog, name: relay, protocol: tcp, listen: '127.0.0.1:{port}'}}"
        with open(f"{d}/k.yml", "w") as f:
            f.write(f"store: {d}/k.db\nrules: [{', '.join(rules)}]\n"
                    f"intel: {{stored: false}}\ntimezone: UTC\n"
                    f"sources: [{src}]\n"
                    f"outputs: [{{type: jsonl, name: a, path: {d}/a.jsonl}}]\n")
        p = subprocess.Popen([KENCHI, "run", "--config", f"{d}/k.yml"],
                             stderr=open(f"{d}/stderr", "w"))
        sock = None
        log = None
        deadline = time.monotonic() + 30
        while True:  # rules loaded, listener or file open
            if p.poll() is not None:
                sys.exit(f"kenchi run stopped: {open(f'{d}/stderr').read()}")
            if "running:" in open(f"{d}/stderr").read():
                break
            if time.monotonic() > deadline:
                sys.exit("kenchi run did not start in 30 s")
            time.sleep(0.05)
        if path == "file":
            time.sleep(0.5)  # the tailer has the file open
            log = open(f"{d}/logs/mail.log", "ab")
        else:
            sock = socket.create_connection(("127.0.0.1", port))
        rd = Reader(f"{d}/a.jsonl")
        rd.start()
        written = {}
        npool = len(pool)
        pre = "<22>" if path == "syslog" else ""
        i = 0
        t0 = time.monotonic()
        end = t0 + seconds
        while True:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - t0) * rate)
            if due > i:
                ts = time.strftime("%b %e %H:%M:%S", time.gmtime())
                head = f"{pre}{ts} mx1 "
                parts = []
                tags = []
                for k in range(i + 1, due + 1):
                    if k % ALERT_EVERY == 0:
                        parts.append(head + tagged(k))
                        tags.append(k)
                    else:
                        parts.append(head + pool[k % npool])
                data = ("\n".join(parts) + "\n").encode()
                tw = time.monotonic()
                for k in tags:
                    written[k] = tw
                if log:
                    log.write(data)
                    log.flush()
                else:
                    sock.sendall(data)
                i = due
            nxt = t0 + (int((time.monotonic() - t0) / SLICE) + 1) * SLICE
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, SLICE))
        elapsed = time.monotonic() - t0
        if sock:
            sock.close()
        if log:
            log.close()
        wait_end = time.monotonic() + 120
        while len(rd.seen) < len(written) and time.monotonic() < wait_end:
            time.sleep(0.01)
        rd.stop = True
        rd.join()
        lat = sorted(rd.seen[k] - written[k] for k in written if k in rd.seen)
        return {
            "path": path, "rate": rate, "lines": i, "written_per_s": i / elapsed,
            "alerts": len(written), "delivered": len(lat), "other_alerts": rd.other,
            "median": statistics.median(lat) * 1000 if lat else float("nan"),
            "p90": pct(lat, 0.90), "p99": pct(lat, 0.99),
            "max": lat[-1] * 1000 if lat else float("nan"),
        }
    finally:
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(d, ignore_errors=True)


def show(r):
    print(f"path={r['path']} rate={r['rate']} written_per_s={r['written_per_s']:.0f} "
          f"alerts={r['delivered']}/{r['alerts']} other_alerts={r['other_alerts']} "
          f"median_ms={r['median']:.1f} p90_ms={r['p90']:.1f} p99_ms={r['p99']:.1f} "
          f"max_ms={r['max']:.1f}", flush=True)


def main():
    rules = rule_dirs()
    pool = bodies(20011)
    print(f"# {os.path.basename(KENCHI)}: rules {' '.join(rules)}; load average "
          f"{' '.join('%.2f' % x for x in os.getloadavg())}", flush=True)
    ok = True
    for path in PATHS:
        low = run(path, LOW_RATE, LOW_SECONDS, rules, pool)
        show(low)
        high = run(path, RATE, SECONDS, rules, pool)
        show(high)
        print(f"path={path} p99_ratio={high['p99'] / low['p99']:.1f} "
              f"median_ratio={high['median'] / low['median']:.1f} load average "
              f"{' '.join('%.2f' % x for x in os.getloadavg())}", flush=True)
        ok = ok and high["delivered"] == high["alerts"] and low["delivered"] == low["alerts"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
