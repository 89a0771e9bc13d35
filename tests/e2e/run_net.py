"""End-to-end: `kenchi run` with syslog sources and the metrics endpoint.
Postfix lines sent over TCP (octet counting, then LF framing) and UDP to
listeners on 127.0.0.1 become stored events and alerts in the JSON-lines
output, one stream per sending host; /metrics and `kenchi status` show the
figures of each source; SIGTERM exits 0 with every received line stored.

Nothing is timed: waits poll for the expected state with a generous
deadline, and the test fails only if that state never comes."""
import json, os, signal, socket, sqlite3, subprocess, tempfile, time, shutil, urllib.request
import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tap  # noqa: E402
from tap import KENCHI, ok, wait_for, free_port  # noqa: E402
from tap import DEADLINE  # noqa: E402


RULE = """title: Postfix SASL authentication failure (network test)
id: 8f2d6c1a-3b4e-4d5f-9a6b-7c8d9e0f1a21
status: test
level: medium
logsource: {product: postfix, service: smtpd}
detection:
    selection:
        event.action: auth-failure
    condition: selection
"""


def msg(i, fail):
    """RFC 3164 over the network: <PRI>, then the line as it would be in mail.log."""
    ts = f"Mar  4 10:{(i // 60) % 60:02d}:{i % 60:02d}"
    ip = f"198.51.100.{i % 250 + 1}"
    if fail:
        return (f"<22>{ts} mx1 postfix/smtpd[{2000 + i}]: warning: unknown[{ip}]: SASL LOGIN "
                f"authentication failed: UGFzc3dvcmQ6 seq={i}")
    return f"<22>{ts} mx1 postfix/smtpd[{2000 + i}]: connect from unknown[{ip}] seq={i}"


def main():
    d = tempfile.mkdtemp(prefix="kenchi-net-")
    proc = None
    try:
        rules = os.path.join(d, "rules")
        os.makedirs(rules)
        with open(os.path.join(rules, "sasl.yml"), "w") as f:
            f.write(RULE)
        db, out, err = os.path.join(d, "k.db"), os.path.join(d, "alerts.jsonl"), \
            os.path.join(d, "run.err")
        tcp, udp, mport = free_port(), free_port(socket.SOCK_DGRAM), free_port()
        cfg = os.path.join(d, "k.yml")
        with open(cfg, "w") as f:
            f.write(f"""store: {db}
rules: [{rules}]
intel: {{stored: false}}
timezone: UTC
sources:
  - {{type: syslog, name: tcp-in, protocol: tcp, listen: "127.0.0.1:{tcp}"}}
  - {{type: syslog, name: udp-in, protocol: udp, listen: "127.0.0.1:{udp}"}}
outputs:
  - {{type: jsonl, name: alerts, path: {out}}}
metrics:
  listen: "127.0.0.1:{mport}"
limits:
  commit_interval: 50ms
""")
        errf = open(err, "w")
        proc = subprocess.Popen([KENCHI, "run", "--config", cfg], stdin=subprocess.DEVNULL,
                                stdout=errf, stderr=errf)

        def connect():
            try:
                return socket.create_connection(("127.0.0.1", tcp), timeout=5)
            except OSError:
                return None
        def can_connect():
            c = connect()
            if c:
                c.close()
            return c is not None
        wait_for(lambda: proc.poll() is not None or can_connect())
        conn = connect()
        if not ok(conn is not None, "run: the TCP syslog listener accepts connections",
                  open(err).read()):
            return
        # 20 messages with octet counting (several per write), 10 with LF framing
        data = b"".join(f"{len(m.encode())} {m}".encode()
                        for m in (msg(i, i % 3 == 0) for i in range(1, 21)))
        conn.sendall(data[:37])
        conn.sendall(data[37:])
        conn.close()
        conn = socket.create_connection(("127.0.0.1", tcp), timeout=5)
        conn.sendall("".join(msg(i, i % 3 == 0) + "\n" for i in range(21, 31)).encode())
        conn.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(31, 34):
            u.sendto(msg(i, i == 33).encode(), ("127.0.0.1", udp))
        u.close()

        def alerts():
            if not os.path.exists(out):
                return []
            with open(out) as f:
                return [json.loads(l) for l in f if l.endswith("\n")]
        want = 11  # i % 3 == 0 for 1..30, and message 33
        wait_for(lambda: len(alerts()) >= want)
        got = alerts()
        files = sorted({a["events"][0]["source"]["file"] for a in got})
        ok(len(got) == want and files == ["syslog:tcp-in:127.0.0.1", "syslog:udp-in:127.0.0.1"],
           "run: syslog over TCP (both framings) and UDP gives the alerts, one stream per host",
           (len(got), files, open(err).read()))
        ok(got and all(a["rule"]["level"] == "medium" and "198.51.100." in json.dumps(a["entity"])
                       for a in got),
           "run: the alerts carry the sender's fields", got[:1])

        def metrics():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                    return r.read().decode()
            except OSError:
                return ""
        wait_for(lambda: 'kenchi_events_in_total{source="tcp-in"} 30' in metrics())
        m = metrics()
        ok('kenchi_events_in_total{source="tcp-in"} 30' in m and
           'kenchi_events_in_total{source="udp-in"} 3' in m and
           'kenchi_alerts_total{level="medium"} 11' in m and
           # the readiness probe's connection, then the two senders
           'kenchi_syslog_connections_total{source="tcp-in"} 3' in m,
           "metrics: events per source, alerts per level, connections per listener",
           "\n".join(l for l in m.splitlines() if "tcp-in" in l or "udp-in" in l))
        ok(all(f'kenchi_baseline_profiles{{module="{mod}"}}' in m and
               f'kenchi_baseline_bytes{{module="{mod}"}}' in m
               for mod in ("account", "application", "host", "spraying")) and
           "kenchi_baseline_facts " in m,
           "metrics: the baselines' profiles and memory per module, their facts",
           "\n".join(l for l in m.splitlines() if "baseline" in l))
        st = subprocess.run([KENCHI, "status", "--metrics", f"127.0.0.1:{mport}"],
                            capture_output=True, timeout=60)
        so = st.stdout.decode()
        ok(st.returncode == 0 and "tcp-in" in so and "udp-in" in so and "30" in so,
           "status: a summary per source from the running daemon", so + st.stderr.decode())

        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        errf.close()
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        rows = dict(c.execute("SELECT f.path, count(*) FROM events e JOIN files f ON "
                              "e.file=f.id GROUP BY f.path").fetchall())
        c.close()
        ok(rc == 0 and rows == {"syslog:tcp-in:127.0.0.1": 30, "syslog:udp-in:127.0.0.1": 3},
           "SIGTERM: exit 0, every received message stored once", (rc, rows, open(err).read()))
        st = subprocess.run([KENCHI, "status", "--metrics", f"127.0.0.1:{mport}"],
                            capture_output=True, timeout=60)
        ok(st.returncode == 3, "status: exit 3 once the daemon is gone", st.stderr.decode())
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


main()
