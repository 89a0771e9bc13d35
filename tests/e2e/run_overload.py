"""End-to-end: `kenchi run` overloaded. Senders push syslog over TCP (two
connections, octet counting) and UDP at once, as fast as they can, far
more than the daemon processes, with a small queue (limits.queue_bytes:
1 MiB) so that it is full almost at once. Then:

- memory stays bounded: the daemon's peak resident size (VmHWM in
  /proc/PID/status, and VmRSS sampled during the load) stays under its
  resident size once started plus queue_bytes plus a fixed allowance
  (ALLOWANCE below says what it covers);
- TCP senders are paused, not dropped: kenchi_syslog_connections_paused
  is seen above 0, and every TCP message is eventually stored exactly once;
- UDP datagrams that find the queue full are dropped and counted in
  kenchi_dropped_total{reason="queue_full"};
- after the load stops kenchi recovers: the queue drains to 0 and new
  messages over both protocols are stored.

The memory bound is checked on the release build (build/release/kenchi,
or KENCHI_RELEASE): under ASan, freed memory sits in its quarantine and
the figure would measure ASan. Without a release build the test runs on
KENCHI and says the memory check is skipped.

Nothing here is timed: waits poll for an expected state with a generous
deadline, and the test fails only if that state never comes."""
import os, re, signal, socket, sqlite3, subprocess, tempfile, threading, time, shutil
import urllib.request
import sys  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tap  # noqa: E402
from tap import KENCHI, ok, wait_for, free_port  # noqa: E402
tap.DEADLINE = DEADLINE = 180  # the overload rounds are slow under ASan

RELEASE = os.environ.get("KENCHI_RELEASE", "build/release/kenchi")
QUEUE = 1 << 20
# Beyond queue_bytes, memory the load may add to the resident size:
# - the store's batch queue (its default 8 batches of up to 1024 events,
#   each a serialised, compressed document plus its columns: a few MiB of
#   ~1 KiB messages) and SQLite's page cache and WAL index;
# - the pipeline's batch (limits.batch 1024 events decoded with their
#   fields) and the detectors' working memory;
# - per paused TCP connection, its unread rest of one read (64 KiB) and
#   one message buffer (max_message + 1);
# - glibc's per-thread arenas touched by the receiver, worker and store
#   writer threads (their first 64 MiB reservations are virtual; what
#   they touch is freed memory kept for reuse).
# 48 MiB holds all of that with a margin of more than half; an unbounded
# queue would hold the whole offered load (hundreds of MiB, see MESSAGES).
ALLOWANCE = 48 << 20
TCP_CONNS = 2
MESSAGES = 40000  # per TCP connection, ~1 KiB each: 80 MiB against a 1 MiB queue


PAD = "x" * 900


def msg(conn, i):
    return (f"<22>Mar  4 10:{(i // 60) % 60:02d}:{i % 60:02d} mx1 postfix/smtpd[{conn}]: "
            f"connect from unknown[198.51.100.{i % 250 + 1}] c={conn} seq={i} pad={PAD}")


def framed(m):
    b = m.encode()
    return str(len(b)).encode() + b" " + b


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for l in f:
                if l.startswith(key + ":"):
                    return int(l.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main():
    binary = RELEASE if os.access(RELEASE, os.X_OK) else KENCHI
    d = tempfile.mkdtemp(prefix="kenchi-overload-")
    proc = None
    stop = threading.Event()
    try:
        db, err = os.path.join(d, "k.db"), os.path.join(d, "run.err")
        tcp, udp, mport = free_port(), free_port(socket.SOCK_DGRAM), free_port()
        cfg = os.path.join(d, "k.yml")
        with open(cfg, "w") as f:
            f.write(f"""store: {db}
intel: {{stored: false}}
timezone: UTC
sources:
  - {{type: syslog, name: tcp-in, protocol: tcp, listen: "127.0.0.1:{tcp}"}}
  - {{type: syslog, name: udp-in, protocol: udp, listen: "127.0.0.1:{udp}"}}
metrics:
  listen: "127.0.0.1:{mport}"
limits:
  queue_bytes: {QUEUE}
  max_line: 64KiB
  commit_interval: 200ms
""")
        errf = open(err, "w")
        proc = subprocess.Popen([binary, "run", "--config", cfg], stdin=subprocess.DEVNULL,
                                stdout=errf, stderr=errf)

        def metrics():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                    return r.read().decode()
            except OSError:
                return ""

        def metric(text, name, labels=""):
            m = re.search(r"^" + re.escape(name + (("{" + labels + "}") if labels else "")) +
                          r" (\S+)$", text, re.M)
            return float(m.group(1)) if m else None

        if not ok(wait_for(lambda: proc.poll() is not None or metrics() != ""),
                  "overload: the daemon is up", open(err).read()):
            return
        if not ok(proc.poll() is None, "overload: the daemon runs", open(err).read()):
            return
        base_rss = status_kb(proc.pid, "VmRSS")

        sent_udp = [0]

        def tcp_sender(c):
            s = socket.create_connection(("127.0.0.1", tcp), timeout=DEADLINE)
            chunk = []
            for i in range(1, MESSAGES + 1):
                chunk.append(framed(msg(c, i)))
                if len(chunk) == 64:
                    s.sendall(b"".join(chunk))
                    chunk = []
            if chunk:
                s.sendall(b"".join(chunk))
            s.close()

        def udp_sender():
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    u.sendto(msg(9, i).encode(), ("127.0.0.1", udp))
                    sent_udp[0] += 1
                except OSError:
                    pass  # the local socket buffer is full: try on
            u.close()

        senders = [threading.Thread(target=tcp_sender, args=(c,)) for c in range(TCP_CONNS)]
        ut = threading.Thread(target=udp_sender)
        for t in senders:
            t.start()
        ut.start()
        paused_seen, max_rss, queue_max = 0.0, 0, 0.0
        end = time.monotonic() + DEADLINE * 2
        while any(t.is_alive() for t in senders) and time.monotonic() < end:
            m = metrics()
            p = metric(m, "kenchi_syslog_connections_paused", 'source="tcp-in"') or 0
            paused_seen = max(paused_seen, p)
            queue_max = max(queue_max, metric(m, "kenchi_queue_bytes") or 0)
            max_rss = max(max_rss, status_kb(proc.pid, "VmRSS"))
            time.sleep(0.02)
        stop.set()
        for t in senders:
            t.join(timeout=DEADLINE)
        ut.join(timeout=DEADLINE)
        ok(not any(t.is_alive() for t in senders), "overload: the TCP senders sent everything")
        ok(paused_seen > 0, "overload: TCP connections paused (back-pressure), seen in metrics",
           f"max paused {paused_seen}, max queue {queue_max}")
        ok(0 < queue_max <= QUEUE, "overload: the queue filled up to its bound and no further",
           queue_max)

        want = TCP_CONNS * MESSAGES
        path = "syslog:tcp-in:127.0.0.1"

        def stored(p):
            try:
                c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
                r = c.execute("SELECT count(*), count(DISTINCT e.pos) FROM events e "
                              "JOIN files f ON e.file=f.id WHERE f.path=?", (p,)).fetchone()
                c.close()
                return r
            except sqlite3.Error:
                return (0, 0)
        wait_for(lambda: stored(path)[0] >= want)
        m = metrics()
        hwm = status_kb(proc.pid, "VmHWM")
        peak = max(max_rss, hwm)
        bound = base_rss + QUEUE + ALLOWANCE
        if binary == RELEASE:
            ok(base_rss > 0 and peak <= bound,
               "overload: peak resident memory under start + queue_bytes + allowance",
               f"start {base_rss >> 20} MiB, peak {peak >> 20} MiB, bound {bound >> 20} MiB")
        else:
            ok(True, "overload: memory bound # SKIP no release build (ASan's quarantine "
               "would be measured)")
        print(f"# resident: start {base_rss >> 20} MiB, peak {peak >> 20} MiB, "
              f"bound {bound >> 20} MiB ({binary})")
        in_udp = metric(m, "kenchi_events_in_total", 'source="udp-in"') or 0
        dropped = metric(m, "kenchi_dropped_total", 'source="udp-in",reason="queue_full"') or 0
        print(f"# UDP: {sent_udp[0]} sent, {int(in_udp)} taken, {int(dropped)} dropped "
              f"(queue full); TCP: {want} sent")
        ok(dropped > 0, "overload: UDP datagrams that found the queue full are counted as dropped",
           "\n".join(l for l in m.splitlines() if "dropped" in l))
        # every TCP message once: the messages' own numbers, read back
        cnt, distinct = stored(path)
        ok(cnt == want and distinct == want,
           "overload: nothing lost on TCP, nothing twice (every message stored once)",
           (cnt, distinct, want))
        p = subprocess.run([binary, "search", "--store", db, "-o", "jsonl"],
                           capture_output=True, timeout=600)
        seqs = sorted(int(x) for x in re.findall(rb"c=0 seq=(\d+)", p.stdout))
        ok(seqs == list(range(1, MESSAGES + 1)),
           "overload: one TCP sender's messages, read back, are each there once",
           (p.returncode, len(seqs), p.stderr.decode()[:300]))
        # recovery
        ok(wait_for(lambda: metric(metrics(), "kenchi_queue_bytes") == 0),
           "overload: after the load the queue drains to 0")
        s = socket.create_connection(("127.0.0.1", tcp), timeout=30)
        s.sendall(b"".join(framed(msg(7, i)) for i in range(1, 11)))
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp_before = stored("syslog:udp-in:127.0.0.1")[0]
        for i in range(1, 4):
            u.sendto(msg(8, i).encode(), ("127.0.0.1", udp))
        u.close()
        ok(wait_for(lambda: stored(path)[0] >= want + 10 and
                    stored("syslog:udp-in:127.0.0.1")[0] >= udp_before + 3),
           "overload: recovered, new TCP and UDP messages are stored",
           (stored(path), stored("syslog:udp-in:127.0.0.1"), udp_before))
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        errf.close()
        ok(rc == 0, "overload: SIGTERM, exit 0", (rc, open(err).read()[-2000:]))
    finally:
        stop.set()
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


main()
