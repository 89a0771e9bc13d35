"""End-to-end: Sigma correlation state survives a restart of `kenchi run`.

A correlation (5 SASL failures from one address within 10 minutes) sees 3
failures; the daemon is stopped (SIGTERM), or killed (kill -9) once the
commit that covers them is in the store, or reloaded (SIGHUP); after the
restart 2 more failures arrive: exactly one correlation alert. After kill
-9 a 4th failure alone does not fire (the 3 restored are not counted
twice). Negative: 2 failures after the restart in a new window (20
minutes later) do not fire. A damaged saved state is reported and the
daemon starts empty. A large state, saved at most every
correlation_state_interval with the read offsets held back to it,
survives kill -9 the same way.

Nothing is timed: the test waits for the store to hold the commit that
covers a line (its read offset) and then reads the alerts of that same
commit from the store; a wait fails only if the state never comes."""
import json, os, signal, socket, sqlite3, subprocess, tempfile, time, shutil, urllib.request
import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tap  # noqa: E402
from tap import KENCHI, ok, wait_for, free_port  # noqa: E402
from tap import DEADLINE  # noqa: E402


RULES = """title: Postfix SASL authentication failure (correlation test)
name: sasl_fail
id: 6c1d8a9f-2e3b-4d4c-8f5a-b2c3d4e5f601
status: test
level: low
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
---
title: SASL password spray from one address (correlation test)
id: 6c1d8a9f-2e3b-4d4c-8f5a-b2c3d4e5f602
level: high
correlation:
    type: event_count
    rules: [sasl_fail]
    group-by: [source.ip]
    timespan: 10m
    condition: {gte: 5}
"""


def fail_line(minute, sec, ip="203.0.113.9"):
    return (f"Mar  4 10:{minute:02d}:{sec:02d} mx1 postfix/smtpd[4242]: warning: unknown[{ip}]: "
            f"SASL LOGIN authentication failed: UGFzc3dvcmQ6\n")


def noise_line(minute, sec):
    return f"Mar  4 10:{minute:02d}:{sec:02d} mx1 postfix/smtpd[4243]: connect from unknown[198.51.100.3]\n"


class Env:
    def __init__(self, name, limits=""):
        self.dir = tempfile.mkdtemp(prefix=f"kenchi-corr-{name}-")
        self.logs = os.path.join(self.dir, "logs")
        self.rules = os.path.join(self.dir, "rules")
        os.makedirs(self.logs)
        os.makedirs(self.rules)
        with open(os.path.join(self.rules, "spray.yml"), "w") as f:
            f.write(RULES)
        self.db = os.path.join(self.dir, "k.db")
        self.out = os.path.join(self.dir, "alerts.jsonl")
        self.err = os.path.join(self.dir, "run.err")
        self.cfg = os.path.join(self.dir, "k.yml")
        self.path = os.path.join(self.logs, "mail.log")
        open(self.path, "w").close()
        sk = socket.socket()
        sk.bind(("127.0.0.1", 0))
        self.mport = sk.getsockname()[1]
        sk.close()
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
outputs:
  - type: jsonl
    name: alerts
    path: {self.out}
metrics: {{listen: "127.0.0.1:{self.mport}"}}
limits:
  commit_interval: 50ms
{limits}
""")
        self.proc = None

    def start(self):
        self.errf = open(self.err, "a")
        self.proc = subprocess.Popen([KENCHI, "run", "--config", self.cfg],
                                     stdin=subprocess.DEVNULL, stdout=self.errf,
                                     stderr=self.errf)

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        self.errf.close()
        return rc

    def write(self, text):
        with open(self.path, "a") as f:
            f.write(text)

    def query(self, sql, args=()):
        if not os.path.exists(self.db):
            return None
        try:
            c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
            rows = c.execute(sql, args).fetchall()
            c.close()
            return rows
        except sqlite3.Error:
            return None

    def committed(self):
        """The read offset of the log file committed in the store (with the
        alerts and the correlation state of the same commit)."""
        rows = self.query("SELECT offset FROM tail_offsets WHERE name=?", (self.path,))
        return rows[0][0] if rows else -1

    def wait_committed(self):
        size = os.path.getsize(self.path)
        return wait_for(lambda: self.committed() == size)

    def stored_events(self):
        rows = self.query("SELECT count(*) FROM events e JOIN files f ON e.file=f.id "
                          "WHERE f.path=?", (self.path,))
        return rows[0][0] if rows else -1

    def lines(self):
        with open(self.path) as f:
            return sum(1 for _ in f)

    def stored_corr_alerts(self):
        rows = self.query("SELECT doc FROM alerts WHERE kind='correlation'")
        return [json.loads(r[0]) for r in rows or []]

    def delivered(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(l) for l in f if l.endswith("\n")]

    def metric(self, name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.mport}/metrics", timeout=5) as r:
                for l in r.read().decode().splitlines():
                    if l.startswith(name + " "):
                        return float(l.split()[-1])
        except OSError:
            return None
        return None

    def log(self):
        with open(self.err) as f:
            return f.read()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def three_then_restart(env, how):
    """3 failures (and noise) seen and committed, then the daemon goes down
    `how` and comes back. True if all went as planned."""
    env.write(fail_line(0, 1) + noise_line(0, 2) + fail_line(0, 3) + fail_line(0, 5))
    env.start()
    good = ok(env.wait_committed(), f"{how}: the first 3 failures are committed", env.log())
    good &= ok(env.stored_corr_alerts() == [], f"{how}: 3 failures alone do not fire")
    good &= ok(wait_for(lambda: env.metric("kenchi_correlation_groups") == 1 and
                        (env.metric("kenchi_correlation_state_bytes") or 0) > 0),
               f"{how}: the metrics show one correlation group and the saved state's size",
               (env.metric("kenchi_correlation_groups"),
                env.metric("kenchi_correlation_state_bytes")))
    if how == "SIGHUP":
        env.proc.send_signal(signal.SIGHUP)
        good &= ok(wait_for(lambda: "reload done" in env.log()), "SIGHUP: reloaded", env.log())
        return good
    rc = env.stop(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
    good &= ok(rc == (0 if how == "SIGTERM" else -9), f"{how}: the daemon went down", rc)
    env.start()
    good &= ok(wait_for(lambda: "correlation state restored: 1 correlation groups" in env.log()),
               f"{how}: the saved correlation state is restored", env.log())
    return good


def one_alert(env, name):
    want = wait_for(lambda: len(env.delivered()) >= 1)
    got = env.delivered()
    ok(want and len(got) == 1 and got[0]["kind"] == "correlation" and
       got[0]["correlation"]["value"] == 5 and
       [e["source"]["line"] for e in got[0]["events"]] == [1, 3, 4, 5, 6],
       f"{name}: exactly one correlation alert, over the 5 failures", got)
    ok(len(env.stored_corr_alerts()) == 1, f"{name}: one correlation alert in the store",
       env.stored_corr_alerts())


def test_restart(how):
    env = Env(how.lower().replace(" ", "").replace("-", ""))
    try:
        if not three_then_restart(env, how):
            return
        env.write(fail_line(0, 30) + fail_line(1, 0))
        ok(env.wait_committed(), f"{how}: the 2 more failures are committed", env.log())
        one_alert(env, how)
        if how != "SIGHUP":
            rc = env.stop(signal.SIGTERM)
            ok(rc == 0, f"{how}: stops cleanly", env.log())
    finally:
        env.cleanup()


def test_kill9_not_twice():
    """After kill -9 a 4th failure alone does not fire: the 3 restored
    failures are not counted again."""
    env = Env("twice")
    try:
        if not three_then_restart(env, "kill -9"):
            return
        env.write(fail_line(0, 30))
        ok(env.wait_committed() and env.stored_corr_alerts() == [],
           "kill -9: a 4th failure after the restart does not fire (nothing counted twice)",
           env.stored_corr_alerts())
        env.write(fail_line(1, 0))
        ok(env.wait_committed() and len(env.stored_corr_alerts()) == 1,
           "kill -9: the 5th fires", env.log())
        env.stop(signal.SIGTERM)
    finally:
        env.cleanup()


def test_new_window():
    env = Env("window")
    try:
        if not three_then_restart(env, "SIGTERM"):
            return
        env.write(fail_line(20, 0) + fail_line(20, 1))
        ok(env.wait_committed() and env.stored_corr_alerts() == [],
           "a new window after the restart: 2 failures alone do not fire",
           env.stored_corr_alerts())
        env.stop(signal.SIGTERM)
    finally:
        env.cleanup()


def test_damaged_state():
    env = Env("damaged")
    try:
        env.write(fail_line(0, 1) + fail_line(0, 3))
        env.start()
        ok(env.wait_committed(), "damaged: first failures committed", env.log())
        env.stop(signal.SIGTERM)
        c = sqlite3.connect(env.db)
        c.execute("UPDATE state SET value=x'4b43530009' WHERE key='sigma.correlation_state'")
        c.commit()
        c.close()
        env.start()
        ok(wait_for(lambda: "ignored, correlations start empty" in env.log()),
           "damaged: a damaged saved state is reported and ignored", env.log())
        env.write(fail_line(0, 4) + fail_line(0, 5) + fail_line(0, 6))
        ok(env.wait_committed() and env.stored_corr_alerts() == [] and env.proc.poll() is None,
           "damaged: the daemon runs on with empty correlations", env.log())
        env.write(fail_line(0, 7) + fail_line(0, 8))
        ok(env.wait_committed() and len(env.stored_corr_alerts()) == 1,
           "damaged: a fresh window fires", env.log())
        env.stop(signal.SIGTERM)
    finally:
        env.cleanup()


def test_large_state_held():
    """A large state (over 64 KiB: 1500 addresses) is saved at most every
    correlation_state_interval (1h here: only at the stop), the read
    offsets held back with it. kill -9 while 3 failures are held: after the
    restart they are read again from the held offsets onto the state saved
    with those offsets, so a 4th does not fire (nothing counted twice) and
    a 5th does."""
    env = Env("held", limits="  correlation_state_interval: 1h")
    try:
        env.write("".join(fail_line(0, 0, f"10.0.{i // 250}.{i % 250 + 1}") for i in range(1500)))
        env.start()
        ok(wait_for(lambda: env.stored_events() == 1500), "held: 1500 addresses stored", env.log())
        rc = env.stop(signal.SIGTERM)
        big = env.query("SELECT length(value) FROM state WHERE key='sigma.correlation_state'")
        ok(rc == 0 and env.committed() == os.path.getsize(env.path) and big and
           big[0][0] > 65536, "held: SIGTERM saves the large state with the offsets", big)
        env.start()
        size0 = os.path.getsize(env.path)
        env.write(fail_line(0, 1) + fail_line(0, 3) + fail_line(0, 5))
        stored = wait_for(lambda: env.stored_events() == 1503)
        env.stop(signal.SIGKILL)
        ok(stored and env.committed() == size0,
           "held: 3 more failures stored, offsets and state held back at kill -9",
           (env.committed(), size0, env.log()))
        env.start()
        env.write(fail_line(0, 30))
        ok(wait_for(lambda: env.stored_events() == 1504), "held: after kill -9, a 4th stored",
           env.log())
        rc = env.stop(signal.SIGTERM)
        ok(rc == 0 and env.stored_corr_alerts() == [],
           "held: the 3 read again are not counted twice (a 4th does not fire)",
           env.stored_corr_alerts())
        env.start()
        env.write(fail_line(1, 0))
        ok(wait_for(lambda: len(env.delivered()) >= 1), "held: the 5th fires", env.log())
        rc = env.stop(signal.SIGTERM)
        got = env.delivered()
        ok(rc == 0 and len(got) == 1 and got[0]["correlation"]["value"] == 5 and
           len(env.stored_corr_alerts()) == 1, "held: exactly one correlation alert", got)
    finally:
        env.cleanup()


test_restart("SIGTERM")
test_restart("kill -9")
test_restart("SIGHUP")
test_kill9_not_twice()
test_new_window()
test_damaged_state()
test_large_state_held()
