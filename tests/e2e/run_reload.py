"""End-to-end: SIGHUP makes `kenchi run` read its configuration file again
and apply the difference, without losing or repeating an event:

- rules paths changed: the new rules are loaded;
- outputs added, changed, removed: started, restarted where the old one
  stopped (its cursor carried over), stopped;
- file sources added: read, the files already read not read again;
- syslog sources removed, added, changed (a new port): the old listener
  closed, the new one bound;
- the store path or a limit changed: reported as needing a restart, the
  value in use kept;
- a file with problems: every problem logged with its place, the
  configuration in use kept entirely.

Nothing here is timed: waits poll for an expected state with a generous
deadline, and the test fails only if that state never comes."""
import json, os, signal, socket, sqlite3, subprocess, tempfile, time, shutil
import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tap  # noqa: E402
from tap import KENCHI, ok, wait_for, free_port  # noqa: E402
from tap import DEADLINE  # noqa: E402


RULE_FAIL = """title: SASL failure (reload test)
id: 7a1b2c3d-0000-4000-8000-000000000001
status: test
level: low
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
"""
RULE_CONNECT = RULE_FAIL.replace("0001", "0002").replace("auth-failure", "connect").replace(
    "SASL failure", "connection")


def line(i, host="mx1"):
    """Every third line a SASL failure, the others connections."""
    ip = f"203.0.113.{i % 250 + 1}"
    ts = f"Mar  4 10:{(i // 60) % 60:02d}:{i % 60:02d}"
    if i % 3 == 0:
        return (f"{ts} {host} postfix/smtpd[{1000 + i}]: warning: unknown[{ip}]: SASL LOGIN "
                f"authentication failed: UGFzc3dvcmQ6\n")
    return f"{ts} {host} postfix/smtpd[{1000 + i}]: connect from unknown[{ip}]\n"


class Daemon:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kenchi-reload-")
        d = self.dir
        self.rules_a, self.rules_b = os.path.join(d, "rules-a"), os.path.join(d, "rules-b")
        self.logs_a, self.logs_b = os.path.join(d, "a"), os.path.join(d, "b")
        for x in (self.rules_a, self.rules_b, self.logs_a, self.logs_b):
            os.makedirs(x)
        with open(os.path.join(self.rules_a, "fail.yml"), "w") as f:
            f.write(RULE_FAIL)
        with open(os.path.join(self.rules_b, "connect.yml"), "w") as f:
            f.write(RULE_CONNECT)
        self.db = os.path.join(d, "k.db")
        self.out1, self.out2 = os.path.join(d, "one.jsonl"), os.path.join(d, "two.jsonl")
        self.cfg = os.path.join(d, "k.yml")
        self.err = os.path.join(d, "run.err")
        self.proc = None

    def write(self, rules, sources, outputs, store=None, extra=""):
        with open(self.cfg, "w") as f:
            f.write(f"store: {store or self.db}\nrules: [{rules}]\nintel: {{stored: false}}\n"
                    f"timezone: UTC\nsources:\n{sources}outputs:\n{outputs}"
                    f"limits:\n  commit_interval: 50ms\n{extra}")

    def start(self):
        self.errf = open(self.err, "a")
        self.proc = subprocess.Popen([KENCHI, "run", "--config", self.cfg],
                                     stdin=subprocess.DEVNULL, stdout=self.errf,
                                     stderr=self.errf)

    def log(self):
        with open(self.err) as f:
            return f.read()

    def hup(self, what="reload: configuration applied"):
        """SIGHUP, then wait for one more `what` in the log."""
        before = self.log().count(what)
        self.proc.send_signal(signal.SIGHUP)
        return wait_for(lambda: self.log().count(what) > before and
                        self.log().count("reload done") + self.log().count("rules in use stay")
                        >= self.log().count("SIGHUP: reading"))

    def alerts(self, path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.endswith("\n")]

    def stored(self, path):
        try:
            c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
            rows = c.execute("SELECT e.pos, count(*) FROM events e JOIN files f ON e.file=f.id "
                             "WHERE f.path=? GROUP BY e.pos", (path,)).fetchall()
            c.close()
            return dict(rows)
        except sqlite3.Error:
            return {}

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def send(port, msgs):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall("".join("<22>" + m.rstrip("\n") + "\n" for m in msgs).encode())
    s.close()


def main():
    k = Daemon()
    try:
        p1, p2, p3 = free_port(), free_port(), free_port()
        mail = os.path.join(k.logs_a, "mail.log")
        other = os.path.join(k.logs_b, "other.log")
        src_mail = f'  - {{type: file, name: mail, paths: ["{k.logs_a}/*.log"], poll: 200ms}}\n'
        src_other = f'  - {{type: file, name: other, paths: ["{k.logs_b}/*.log"], poll: 200ms}}\n'

        def src_net(name, port):
            return f'  - {{type: syslog, name: {name}, protocol: tcp, listen: "127.0.0.1:{port}"}}\n'
        out_one = f"  - {{type: jsonl, name: one, path: {k.out1}}}\n"
        out_one_b = f"  - {{type: jsonl, name: one, path: {k.out1}, kinds: [sigma]}}\n"
        out_two = f"  - {{type: jsonl, name: two, path: {k.out2}}}\n"
        with open(mail, "w") as f:
            f.write("".join(line(i) for i in range(1, 10)))
        k.write(k.rules_a, src_mail + src_net("net1", p1), out_one)
        k.start()
        ok(wait_for(lambda: len(k.alerts(k.out1)) >= 3) and wait_for(lambda: can_connect(p1)),
           "start: alerts of the first rules, the syslog listener up", k.log())

        # rules path changed
        k.write(k.rules_b, src_mail + src_net("net1", p1), out_one)
        ok(k.hup() and "reload done" in k.log(), "reload: the new rules path is loaded",
           k.log()[-2000:])
        with open(mail, "a") as f:
            f.write("".join(line(i) for i in range(10, 19)))
        ok(wait_for(lambda: len(k.alerts(k.out1)) >= 3 + 6) and
           {a["rule"]["id"][-4:] for a in k.alerts(k.out1)[3:]} == {"0002"},
           "reload: alerts come from the new rules only",
           [a["rule"]["id"] for a in k.alerts(k.out1)])

        # an output added, another changed
        k.write(k.rules_b, src_mail + src_net("net1", p1), out_one_b + out_two)
        ok(k.hup() and "output two started" in k.log() and
           "output one changed: restarting it after alert 9" in k.log(),
           "reload: an output added is started, a changed one restarted where it stood",
           k.log()[-2000:])
        with open(mail, "a") as f:
            f.write("".join(line(i) for i in range(19, 22)))
        ok(wait_for(lambda: len(k.alerts(k.out1)) >= 11 and len(k.alerts(k.out2)) >= 11),
           "reload: both outputs deliver", (len(k.alerts(k.out1)), len(k.alerts(k.out2))))
        ok([a["kenchi"]["seq"] for a in k.alerts(k.out1)] == list(range(1, 12)),
           "reload: the restarted output repeated nothing and skipped nothing",
           [a["kenchi"]["seq"] for a in k.alerts(k.out1)])
        ok([a["kenchi"]["seq"] for a in k.alerts(k.out2)] == list(range(1, 12)),
           "reload: the new output starts at the first alert of the store",
           [a["kenchi"]["seq"] for a in k.alerts(k.out2)])

        # the output removed; a file source added; the syslog source replaced by another
        k.write(k.rules_b, src_mail + src_other + src_net("net2", p2), out_one_b)
        ok(k.hup() and "output two removed" in k.log() and "source net1 removed" in k.log() and
           "source net2 started" in k.log() and "file sources changed" in k.log(),
           "reload: output removed, syslog source removed and another started, file sources "
           "restarted", k.log()[-2500:])
        ok(wait_for(lambda: not can_connect(p1)) and wait_for(lambda: can_connect(p2)),
           "reload: the old listener is closed, the new one bound")
        with open(other, "w") as f:
            f.write("".join(line(i, "mx2") for i in range(1, 7)))
        with open(mail, "a") as f:
            f.write("".join(line(i) for i in range(22, 25)))
        send(p2, [line(i, "mx3") for i in range(1, 4)])
        ok(wait_for(lambda: len(k.stored(other)) == 6 and len(k.stored(mail)) == 24 and
                    len(k.stored("syslog:net2:127.0.0.1")) == 3),
           "reload: the added file source and the new listener are read",
           (len(k.stored(other)), len(k.stored(mail)), k.stored("syslog:net2:127.0.0.1")))
        ok(len(k.alerts(k.out2)) == 11, "reload: the removed output gets nothing more",
           len(k.alerts(k.out2)))

        # the syslog source changed (another port): rebound
        k.write(k.rules_b, src_mail + src_other + src_net("net2", p3), out_one_b)
        ok(k.hup() and "source net2 changed" in k.log() and
           wait_for(lambda: not can_connect(p2)) and wait_for(lambda: can_connect(p3)),
           "reload: a syslog source with another port is rebound", k.log()[-1500:])
        send(p3, [line(i, "mx3") for i in range(4, 7)])
        ok(wait_for(lambda: len(k.stored("syslog:net2:127.0.0.1")) == 6),
           "reload: the rebound listener's messages are stored",
           k.stored("syslog:net2:127.0.0.1"))

        # the store and a limit changed: a restart is needed, the old ones stay
        k.write(k.rules_b, src_mail + src_other + src_net("net2", p3), out_one_b,
                store=os.path.join(k.dir, "other.db"), extra="  queue_bytes: 8MiB\n")
        ok(k.hup() and "store changed: it takes a restart" in k.log() and
           "limits.queue_bytes changed: it takes a restart" in k.log(),
           "reload: store and limits changes are reported as needing a restart",
           k.log()[-1500:])
        with open(mail, "a") as f:
            f.write("".join(line(i) for i in range(25, 28)))
        ok(wait_for(lambda: len(k.stored(mail)) == 27) and
           not os.path.exists(os.path.join(k.dir, "other.db")),
           "reload: the store in use stays", len(k.stored(mail)))

        # a file with problems: all reported, nothing changes
        good = open(k.cfg).read()
        with open(k.cfg, "w") as f:
            f.write(good.replace("timezone: UTC", "timezone: UTC\nfrobnicate: 1")
                    .replace(f"path: {k.out1}", "path: relative.jsonl"))
        before = len(k.alerts(k.out1))
        ok(k.hup("reload refused") and "unknown key 'frobnicate'" in k.log() and
           "not an absolute path" in k.log() and f"{k.cfg}:" in k.log(),
           "reload: a configuration with problems is refused, each problem logged with its "
           "place", k.log()[-1500:])
        with open(mail, "a") as f:
            f.write("".join(line(i) for i in range(28, 31)))
        send(p3, [line(i, "mx3") for i in range(7, 10)])
        ok(wait_for(lambda: len(k.alerts(k.out1)) >= before + 2 and
                    len(k.stored("syslog:net2:127.0.0.1")) == 9),
           "reload refused: the configuration in use goes on (sources, rules, outputs)",
           (len(k.alerts(k.out1)), before))
        k.proc.send_signal(signal.SIGTERM)
        rc = k.proc.wait(timeout=120)
        k.errf.close()
        ok(rc == 0, "SIGTERM after the reloads: exit 0", (rc, k.log()[-1500:]))
        ok(all(c == 1 for c in k.stored(mail).values()) and len(k.stored(mail)) == 30 and
           all(c == 1 for c in k.stored(other).values()),
           "reloads: every line stored exactly once", (k.stored(mail), k.stored(other)))
        seqs = [a["kenchi"]["seq"] for a in k.alerts(k.out1)]
        ok(seqs == list(range(1, len(seqs) + 1)), "reloads: every alert delivered once", seqs)
    finally:
        k.cleanup()


main()
