"""bench/rsyslog_ratio.py - run by bench/bench_rsyslog.sh (read it first):
kenchi run and rsyslogd each take the same N syslog messages over TCP;
messages/s of each and their ratio. Not a test: it times things."""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_latency as ll  # noqa: E402  (the message mix and the rules)

N = int(os.environ.get("BENCH_MESSAGES", "1000000"))
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
LIMIT = 900  # seconds: each receiver is killed after this


def messages(n):
    pool = ll.bodies(20011)
    ts = time.strftime("%b %e %H:%M:%S", time.gmtime())
    head = f"<22>{ts} mx1 "
    out = []
    for k in range(1, n + 1):
        out.append(head + (ll.tagged(k) if k % ll.ALERT_EVERY == 0 else pool[k % len(pool)]))
    return ("\n".join(out) + "\n").encode()


def wait_port(port, proc, what):
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{what} stopped before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on 127.0.0.1:{port} in 30 s")


def push(port, data, done):
    """Send data over one connection; return seconds until done() holds."""
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    step = 1 << 20
    for off in range(0, len(data), step):
        s.sendall(data[off:off + step])
    s.shutdown(socket.SHUT_WR)
    t_sent = time.monotonic() - t0
    end = t0 + LIMIT
    while not done() and time.monotonic() < end:
        time.sleep(0.01)
    t = time.monotonic() - t0
    s.close()
    if not done():
        sys.exit("a receiver did not take every message in time")
    return t, t_sent


def bench_rsyslog(d, data):
    port = ll.free_port()
    os.makedirs(f"{d}/rs")
    out = f"{d}/rs/out.log"
    with open(f"{d}/rs/rsyslog.conf", "w") as f:
        f.write(f"""global(workDirectory="{d}/rs")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="bench") {{
    action(type="omfile" file="{out}" template="raw")
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")
""")
    p = subprocess.Popen(["timeout", str(LIMIT), RSYSLOGD, "-n", "-f", f"{d}/rs/rsyslog.conf",
                          "-i", f"{d}/rs/rsyslogd.pid"], stderr=open(f"{d}/rs/stderr", "w"))
    try:
        wait_port(port, p, "rsyslogd")
        state = {"lines": 0, "pos": 0}

        def done():
            try:
                with open(out, "rb") as f:
                    f.seek(state["pos"])
                    b = f.read()
            except FileNotFoundError:
                return False
            state["pos"] += len(b)
            state["lines"] += b.count(b"\n")
            return state["lines"] >= N

        t, t_sent = push(port, data, done)
        return t, t_sent, 0.0
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)


def metric(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0
    return sum(float(m.group(1)) for m in
               re.finditer(r"^" + name + r"(?:\{[^}]*\})? (\S+)$", text, re.M))


def bench_kenchi(d, data, rules):
    port = ll.free_port()
    mport = ll.free_port()
    os.makedirs(f"{d}/k")
    with open(f"{d}/k/k.yml", "w") as f:
        f.write(f"store: {d}/k/k.db\nrules: [{', '.join(rules)}]\n"
                f"intel: {{stored: false}}\ntimezone: UTC\n"
                f"sources: [{{type: syslog, name: relay, protocol: tcp, "
                f"listen: '127.0.0.1:{port}'}}]\n"
                f"outputs: [{{type: jsonl, name: a, path: {d}/k/a.jsonl}}]\n"
                f"metrics: {{listen: '127.0.0.1:{mport}'}}\n")
    p = subprocess.Popen(["timeout", str(LIMIT), ll.KENCHI, "run", "--config", f"{d}/k/k.yml"],
                         stderr=open(f"{d}/k/stderr", "w"))
    try:
        wait_port(port, p, "kenchi run")

        def done():
            return (metric(mport, "kenchi_events_decoded_total") +
                    metric(mport, "kenchi_events_unparsed_total")) >= N

        t, t_sent = push(port, data, done)
        t1 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=LIMIT)
        return t, t_sent, time.monotonic() - t1
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    rules = ll.rule_dirs()
    data = messages(N)
    print(f"# {N} messages, {len(data) / 1e6:.0f} MB; rules {' '.join(rules)}; load average "
          f"{' '.join('%.2f' % x for x in os.getloadavg())}", flush=True)
    d = tempfile.mkdtemp(prefix="kenchi-bench-rsyslog-")
    try:
        rs = bench_rsyslog(d, data)
        print(f"what=rsyslog messages={N} seconds={rs[0]:.2f} msg_per_s={N / rs[0]:.0f}",
              flush=True)
        kk = bench_kenchi(d, data, rules)
        print(f"what=kenchi-run messages={N} seconds={kk[0]:.2f} msg_per_s={N / kk[0]:.0f} "
              f"drain_at_stop_s={kk[2]:.2f}", flush=True)
        print(f"ratio kenchi/rsyslog={rs[0] / kk[0]:.3f} (rsyslog is {kk[0] / rs[0]:.1f}x faster) "
              f"load average {' '.join('%.2f' % x for x in os.getloadavg())}", flush=True)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
