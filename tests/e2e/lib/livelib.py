"""Helpers of the live daemon's end-to-end tests (run_live.py,
run_diskfull.py): a daemon in a temporary directory with a tailed log
directory, a rule that alerts on every third line, and a TCP syslog
sender; TAP output through ok()."""
import json, os, random, re, signal, socket, sqlite3, subprocess, tempfile, threading, time, shutil

from tap import DEADLINE, KENCHI, free_port, ok, wait_for  # noqa: F401
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


RULE = """title: Postfix SASL authentication failure (live test)
id: 5b0c7f8e-1d2a-4c3b-9e4f-a1b2c3d4e501
status: test
level: low
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
"""

BROKEN_RULE = """title: broken
id: 5b0c7f8e-1d2a-4c3b-9e4f-a1b2c3d4e5ff
logsource: {product: postfix}
detection:
    selection:
        event.action: [unclosed
"""


def line(i, fail):
    """Line i (1-based): every third one a SASL failure (one alert each)."""
    h, m, s = (i // 3600) % 24, (i // 60) % 60, i % 60
    ts = f"Mar  4 {h:02d}:{m:02d}:{s:02d}"
    ip = f"203.0.113.{i % 250 + 1}"
    if fail:
        return (f"{ts} mx1 postfix/smtpd[{1000 + i}]: warning: unknown[{ip}]: SASL LOGIN "
                f"authentication failed: UGFzc3dvcmQ6 seq={i}\n")
    return f"{ts} mx1 postfix/smtpd[{1000 + i}]: connect from unknown[{ip}] seq={i}\n"


def is_fail(i):
    return i % 3 == 0


class Env:
    def __init__(self, name, extra_source="", start_at=None, out_dir=None, retry="",
                 extra_output=""):
        self.dir = tempfile.mkdtemp(prefix=f"kenchi-run-{name}-")
        self.logs = os.path.join(self.dir, "logs")
        self.rules = os.path.join(self.dir, "rules")
        os.makedirs(self.logs)
        os.makedirs(self.rules)
        with open(os.path.join(self.rules, "sasl.yml"), "w") as f:
            f.write(RULE)
        self.db = os.path.join(self.dir, "k.db")
        if out_dir:
            os.makedirs(os.path.join(self.dir, out_dir))
        self.out = os.path.join(self.dir, out_dir or "", "alerts.jsonl")
        self.err = os.path.join(self.dir, "run.err")
        self.cfg = os.path.join(self.dir, "k.yml")
        with open(self.cfg, "w") as f:
            f.write(f"""store: {self.db}
rules: [{self.rules}]
intel: {{stored: false}}
timezone: UTC
sources:
  - type: file
    name: mail
    paths: ["{self.logs}/*.log"]
    poll: 200ms
    rotate_wait: 1s
{('    start_at: ' + start_at) if start_at else ''}
{extra_source}
outputs:
  - type: jsonl
    name: alerts
    path: {self.out}
{('    retry: ' + retry) if retry else ''}
{extra_output}
limits:
  commit_interval: 50ms
""")
        self.proc = None
        self.urgent = os.path.join(self.dir, "urgent.jsonl")
        with open(self.cfg) as f:
            text = f.read().replace("URGENT", self.urgent)
        with open(self.cfg, "w") as f:
            f.write(text)

    def start(self):
        self.errf = open(self.err, "a")
        self.proc = subprocess.Popen([KENCHI, "run", "--config", self.cfg],
                                     stdin=subprocess.DEVNULL, stdout=self.errf,
                                     stderr=self.errf)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.errf.close()

    def term(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        self.errf.close()
        return rc

    def stored_lines(self, path):
        """line -> count of stored events of path (read-only, beside the daemon)."""
        if not os.path.exists(self.db):
            return {}
        try:
            c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
            rows = c.execute("SELECT e.pos, count(*) FROM events e JOIN files f ON e.file=f.id "
                             "WHERE f.path=? GROUP BY e.pos", (path,)).fetchall()
            c.close()
            return dict(rows)
        except sqlite3.Error:
            return {}

    def alerts(self):
        if not os.path.exists(self.out):
            return []
        out = []
        with open(self.out) as f:
            for l in f:
                if l.endswith("\n"):
                    out.append(json.loads(l))
        return out

    def alert_lines(self):
        """(file, line) of each alert's event, in file order."""
        return [(a["events"][0]["source"]["file"], a["events"][0]["source"]["line"])
                for a in self.alerts()]

    def net_stored(self, where=None):
        """nseq -> count of stored TCP syslog messages (kenchi search on the
        store); where, when given, gets (source.file, source.line) -> nseq."""
        p = subprocess.run([KENCHI, "search", "--store", self.db, "-o", "jsonl"],
                           capture_output=True, timeout=300)
        out = {}
        for l in p.stdout.decode().splitlines():
            e = json.loads(l)
            m = re.search(r"nseq=(\d+)$", e.get("message", ""))
            if not m:
                continue
            i = int(m.group(1))
            out[i] = out.get(i, 0) + 1
            if where is not None:
                where[(e["source"]["file"], e["source"]["line"])] = i
        return out

    def log(self):
        with open(self.err) as f:
            return f.read()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def append(path, first, last):
    with open(path, "a") as f:
        for i in range(first, last + 1):
            f.write(line(i, is_fail(i)))


def expect_complete(env, path, nlines, name):
    """Every line 1..nlines stored once; every failure line's alert delivered once."""
    want_alerts = [(path, i) for i in range(1, nlines + 1) if is_fail(i)]
    done = wait_for(lambda: len(env.stored_lines(path)) >= nlines and
                    len([a for a in env.alert_lines() if a[0] == path]) >= len(want_alerts))
    stored = env.stored_lines(path)
    missing = [i for i in range(1, nlines + 1) if stored.get(i) != 1]
    ok(done and not missing and len(stored) == nlines,
       f"{name}: every line stored exactly once",
       f"missing or repeated: {missing[:20]} (stored {len(stored)} of {nlines})")
    got = sorted(a for a in env.alert_lines() if a[0] == path)
    ok(got == want_alerts, f"{name}: every alert delivered exactly once",
       f"{len(got)} alerts, {len(want_alerts)} expected; "
       f"repeated: {sorted(set(x for x in got if got.count(x) > 1))[:10]}; "
       f"missing: {sorted(set(want_alerts) - set(got))[:10]}")


def net_msg(i):
    """TCP syslog message i: every third a SASL failure (one alert each)."""
    ts = f"Mar  5 {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
    ip = f"198.51.100.{i % 250 + 1}"
    if is_fail(i):
        text = (f"<22>{ts} mx2 postfix/smtpd[{5000 + i}]: warning: unknown[{ip}]: SASL LOGIN "
                f"authentication failed: UGFzc3dvcmQ6 nseq={i}")
    else:
        text = f"<22>{ts} mx2 postfix/smtpd[{5000 + i}]: connect from unknown[{ip}] nseq={i}"
    b = text.encode()
    return str(len(b)).encode() + b" " + b


class TcpSender(threading.Thread):
    """Sends numbered messages over TCP (octet counting) without pause,
    reconnecting after each crash of the daemon; a message whose send
    failed is not sent again (plain syslog has no acknowledgement)."""

    def __init__(self, port, send_timeout=5):
        super().__init__(daemon=True)
        self.port, self.sent, self.stop = port, 0, threading.Event()
        self.send_timeout = send_timeout  # None: a send waits as long as the daemon does
        self.hold = threading.Event()

    def run(self):
        s = None
        while not self.stop.is_set():
            if self.hold.is_set():
                if s:
                    s.close()
                    s = None
                time.sleep(0.01)
                continue
            if s is None:
                try:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                    s.settimeout(self.send_timeout)
                except OSError:
                    time.sleep(0.02)
                    continue
            k = random.randint(1, 20)
            data = b"".join(net_msg(self.sent + j) for j in range(1, k + 1))
            self.sent += k
            try:
                s.sendall(data)
            except OSError:
                s.close()
                s = None
            time.sleep(random.uniform(0, 0.005))
        if s:
            s.close()
