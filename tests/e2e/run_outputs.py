"""End-to-end: `kenchi run` delivering alerts through a webhook and an exec
hook. The webhook receiver (HTTP on 127.0.0.1, run by this test) is first
down (connection refused), then up but answering 503 for a while, then
accepting: the alerts wait in the store meanwhile
(kenchi_output_pending_alerts shows the backlog) and then arrive in
order, each once (told by X-Kenchi-Alert-Id). The exec hook runs a script
that records its arguments and standard input: one run per alert, with
the alert's fields as arguments.

Nothing here is timed: waits poll for an expected state with a generous
deadline, and the test fails only if that state never comes."""
import json, os, re, signal, socket, sqlite3, subprocess, tempfile, threading, time, shutil
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tap  # noqa: E402
from tap import KENCHI, ok, wait_for, free_port  # noqa: E402
from tap import DEADLINE  # noqa: E402

LIFETIME = 600  # the receiver stops by itself after this, whatever happens


RULE = """title: Postfix SASL authentication failure (outputs test)
id: 0c3e9a4b-6d1f-4b2a-8e7c-5f4a3b2c1d01
status: test
level: high
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
"""


def line(i):
    ip = f"203.0.113.{i % 250 + 1}"
    if i % 3 == 0:
        return (f"Mar  4 10:00:{i % 60:02d} mx1 postfix/smtpd[{1000 + i}]: warning: "
                f"unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n")
    return f"Mar  4 10:00:{i % 60:02d} mx1 postfix/smtpd[{1000 + i}]: connect from unknown[{ip}]\n"


class Receiver:
    """Records every POST; answers `status` (503 while down for business)."""

    def __init__(self, port):
        self.port, self.status, self.requests = port, 503, []
        self.lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    code = rec.status
                    rec.requests.append((self.headers.get("X-Kenchi-Alert-Id"), code, body,
                                         self.headers.get("X-Kenchi-Alert-Seq")))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.srv.daemon_threads = True
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(LIFETIME, self.srv.shutdown)
        self.timer.daemon = True
        self.timer.start()

    def accepted(self):
        with self.lock:
            return [(i, b, q) for i, c, b, q in self.requests if c == 200]

    def refused(self):
        with self.lock:
            return sum(1 for _, c, _, _ in self.requests if c != 200)

    def stop(self):
        self.timer.cancel()
        self.srv.shutdown()
        self.srv.server_close()


def main():
    d = tempfile.mkdtemp(prefix="kenchi-outputs-")
    proc, rec = None, None
    try:
        rules, logs = os.path.join(d, "rules"), os.path.join(d, "logs")
        os.makedirs(rules)
        os.makedirs(logs)
        with open(os.path.join(rules, "sasl.yml"), "w") as f:
            f.write(RULE)
        db, err = os.path.join(d, "k.db"), os.path.join(d, "run.err")
        hook = os.path.join(d, "hook.sh")
        runs = os.path.join(d, "runs")
        with open(hook, "w") as f:
            f.write(f"""#!/bin/sh
# one line per run: the alert's seq, the arguments each between < >; then
# the alert read on stdin
{{ printf '%s ' "$KENCHI_ALERT_SEQ"; for a in "$@"; do printf '<%s>' "$a"; done; }} >> {runs}.args
echo >> {runs}.args
cat >> {runs}.stdin
echo >> {runs}.stdin
""")
        os.chmod(hook, 0o755)
        hport, mport = free_port(), free_port()
        cfg = os.path.join(d, "k.yml")
        path = os.path.join(logs, "mail.log")
        with open(cfg, "w") as f:
            f.write(f"""store: {db}
rules: [{rules}]
intel: {{stored: false}}
timezone: UTC
sources:
  - {{type: file, name: mail, paths: ["{logs}/*.log"], poll: 200ms}}
outputs:
  - type: webhook
    name: hook
    url: http://127.0.0.1:{hport}/alerts
    timeout: 5s
    retry: {{initial: 100ms, max: 400ms}}
  - type: exec
    name: block
    command: [{hook}, "--", "{{source.ip}}", "{{rule.id}}", "{{rule.level}}"]
    timeout: 30s
metrics:
  listen: "127.0.0.1:{mport}"
limits:
  commit_interval: 50ms
""")
        with open(path, "w") as f:
            f.write("".join(line(i) for i in range(1, 10)))
        errf = open(err, "w")
        proc = subprocess.Popen([KENCHI, "run", "--config", cfg], stdin=subprocess.DEVNULL,
                                stdout=errf, stderr=errf)

        def log():
            with open(err) as f:
                return f.read()

        def metrics():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                    return r.read().decode()
            except OSError:
                return ""

        def pending():
            m = re.search(r'^kenchi_output_pending_alerts\{output="hook"\} (\S+)$', metrics(),
                          re.M)
            return float(m.group(1)) if m else None

        # the receiver is down: connection refused
        ok(wait_for(lambda: "will retry" in log()), "webhook down: delivery fails and is retried",
           log())
        ok(wait_for(lambda: pending() == 3), "webhook down: the backlog shows in "
           "kenchi_output_pending_alerts", (pending(), log()[-1500:]))
        with open(path, "a") as f:
            f.write("".join(line(i) for i in range(10, 16)))
        ok(wait_for(lambda: pending() == 5), "webhook down: new alerts join the backlog",
           pending())
        # up, but 503 for a while
        rec = Receiver(hport)
        ok(wait_for(lambda: rec.refused() >= 3),
           "webhook 503: the same alert is offered again after the back-off", rec.refused())
        with rec.lock:
            first_ids = {i for i, _, _, _ in rec.requests}
        ok(len(first_ids) == 1 and pending() == 5,
           "webhook 503: nothing is skipped, the first alert waits at the head",
           (first_ids, pending()))
        with rec.lock:
            rec.status = 200
        ok(wait_for(lambda: len(rec.accepted()) >= 5 and pending() == 0),
           "webhook back: the backlog is delivered, pending 0", (len(rec.accepted()), pending()))
        with open(path, "a") as f:
            f.write("".join(line(i) for i in range(16, 22)))
        wait_for(lambda: len(rec.accepted()) >= 7)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        errf.close()
        ok(rc == 0, "SIGTERM: exit 0", (rc, log()[-1500:]))
        c = sqlite3.connect(db)
        stored = [r[0] for r in c.execute("SELECT id FROM alerts ORDER BY seq")]
        c.close()
        got = [i for i, _, _ in rec.accepted()]
        ok(len(stored) == 7 and got == stored,
           "webhook: every alert arrived once, in store order (X-Kenchi-Alert-Id)",
           (got, stored))
        bodies = [json.loads(b) for _, b, _ in rec.accepted()]
        seqs = [q for _, _, q in rec.accepted()]
        ok(all(b["rule"]["id"] == "0c3e9a4b-6d1f-4b2a-8e7c-5f4a3b2c1d01" for b in bodies) and
           seqs == [str(i) for i in range(1, 8)],
           "webhook: the bodies are the alerts, X-Kenchi-Alert-Seq 1..7", (seqs, bodies[:1]))
        # exec: one run per alert, with its fields as arguments
        with open(runs + ".args") as f:
            args = f.read().splitlines()
        with open(runs + ".stdin") as f:
            ins = [json.loads(l) for l in f if l.strip()]
        want = [f"{k + 1} <--><203.0.113.{i % 250 + 1}><0c3e9a4b-6d1f-4b2a-8e7c-5f4a3b2c1d01>"
                f"<high>" for k, i in enumerate(range(3, 22, 3))]
        ok(args == want, "exec: one run per alert, the fields as arguments, in order",
           (args, want))
        ok(len(ins) == 7 and [a["rule"]["id"] for a in ins] == [b["rule"]["id"] for b in bodies]
           and [a["events"] for a in ins] == [b["events"] for b in bodies],
           "exec: the alert as JSON on standard input, the same as the webhook's", ins[:1])
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if rec:
            rec.stop()
        shutil.rmtree(d, ignore_errors=True)


main()
