"""End-to-end: the live daemon's store runs out of disk space while a file
is appended and syslog arrives over TCP. kenchi says so loudly (its log,
the kenchi_store_writable gauge), stops reading (the TCP sender is held
back, the file waits), and when space returns it resumes by itself: every
line of the file and every TCP message is stored exactly once and every
alert is delivered exactly once.

The store lives on a small tmpfs mounted for the test (root only; the
test skips with the reason otherwise), filled up with a file that is
deleted to give the space back. Nothing is timed: waits poll for a state
with a generous deadline."""
import os, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from livelib import (KENCHI, Env, TcpSender, append, expect_complete, free_port, is_fail, ok,
                     wait_for)


def metric(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            for l in r.read().decode().splitlines():
                if l.startswith(name + " ") or l.startswith(name + "{"):
                    return float(l.split()[-1])
    except OSError:
        return None
    return None


def fill(path, leave):
    """Write path until the file system has at most `leave` bytes free."""
    st = os.statvfs(os.path.dirname(path))
    free = st.f_bavail * st.f_frsize
    try:
        # unbuffered: a write the full disk refused is not tried again when
        # the file is closed
        f = open(path, "ab", buffering=0)
    except OSError:
        return  # already full
    with f:
        chunk = b"\0" * 65536
        want = free - leave
        while want > 0:
            try:
                n = f.write(chunk[:min(len(chunk), want)])
            except OSError:
                break
            if not n:
                break
            want -= n


def main():
    if os.geteuid() != 0:
        print("ok 1 - disk full # SKIP needs root to mount a small tmpfs")
        return
    mnt = tempfile.mkdtemp(prefix="kenchi-full-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m", "kenchi-full", mnt],
                       capture_output=True)
    if r.returncode != 0:
        print(f"ok 1 - disk full # SKIP cannot mount a tmpfs: {r.stderr.decode().strip()}")
        os.rmdir(mnt)
        return
    port = free_port()
    mport = free_port()
    env = None
    sender = None
    try:
        env = Env("diskfull",
                  extra_source=f'  - {{type: syslog, name: net, protocol: tcp, '
                               f'listen: "127.0.0.1:{port}"}}\n'
                               f'metrics: {{listen: "127.0.0.1:{mport}"}}')
        # a small queue: the sources pause soon after the store stops
        with open(env.cfg) as f:
            text = f.read()
        with open(env.cfg, "w") as f:
            f.write(text.replace("limits:\n", "limits:\n  queue_bytes: 1MiB\n  max_line: 64KiB\n"))
        # the store on the small file system; logs and output stay on the disk
        env.db = os.path.join(mnt, "k.db")
        with open(env.cfg) as f:
            text = f.read()
        with open(env.cfg, "w") as f:
            f.write(text.replace(f"store: {env.dir}/k.db", f"store: {env.db}"))
        # ballast: given back with the filler, so that space returns even
        # when the store has filled the rest by itself
        ballast = os.path.join(mnt, "ballast")
        with open(ballast, "wb") as f:
            f.write(b"\0" * (64 << 20))
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 300)
        env.start()
        expect_complete(env, path, 300, "before the disk fills")
        sender = TcpSender(port, send_timeout=None)
        sender.start()
        ok(wait_for(lambda: len(env.net_stored()) > 100), "TCP syslog is stored",
           env.log()[-2000:])

        # the disk fills up while both keep coming
        filler = os.path.join(mnt, "filler")
        fill(filler, 64 * 1024)
        written = 300
        full = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not full:
            append(path, written + 1, written + 2000)
            written += 2000
            full = metric(mport, "kenchi_store_writable") == 0
            time.sleep(0.2)
        ok(full, "the gauge kenchi_store_writable says 0 when the disk is full", env.log()[-2000:])
        st = subprocess.run([KENCHI, "status", "--metrics", f"127.0.0.1:{mport}"],
                            capture_output=True, timeout=60)
        ok(b"NOT WRITABLE" in st.stdout, "kenchi status says the store is not writable",
           st.stdout.decode() + st.stderr.decode())
        ok("disk is full" in env.log() and "reading stopped" in env.log(),
           "the log says the disk is full and that reading stopped", env.log()[-2000:])
        # reading stopped: once the queue is full the TCP sender is held back
        # (its sends block until kenchi reads again)
        def stalled():
            before = sender.sent
            time.sleep(2)  # not an assertion: a window to see the sender move
            return sender.sent == before
        ok(wait_for(stalled, 90), "the TCP sender is held back while the disk is full",
           sender.sent)
        ok(env.proc.poll() is None, "the daemon keeps running while the disk is full")

        # space returns: reading resumes by itself, nothing lost
        if os.path.exists(filler):
            os.unlink(filler)
        os.unlink(ballast)
        ok(wait_for(lambda: metric(mport, "kenchi_store_writable") == 1, 120),
           "the gauge returns to 1 when space returns", env.log()[-2000:])
        ok("takes writes again" in env.log(), "the log says reading resumed", env.log()[-2000:])
        append(path, written + 1, written + 300)
        written += 300
        expect_complete(env, path, written, "after the disk was full")
        sender.hold.set()  # the sender closes its connection: every message sent is in
        time.sleep(0.3)  # not an assertion: lets the sender see the hold
        ok(wait_for(lambda: len(env.net_stored()) >= sender.sent, 120),
           "every TCP message sent arrives", (len(env.net_stored()), sender.sent))
        rc = env.term()
        sender.stop.set()
        where = {}
        stored = env.net_stored(where)
        ok(len(stored) == sender.sent and all(c == 1 for c in stored.values()),
           "every TCP message is stored exactly once",
           f"{len(stored)} stored of {sender.sent}; twice: "
           f"{[i for i, c in stored.items() if c != 1][:10]}")
        net_alerts = [a for a in env.alerts()
                      if a["events"][0]["source"]["file"].startswith("syslog:net:")]
        got = sorted(where.get((a["events"][0]["source"]["file"],
                                a["events"][0]["source"]["line"]), -1) for a in net_alerts)
        want = sorted(i for i in stored if is_fail(i))
        ok(got == want, "the alert of every TCP message is delivered exactly once",
           f"{len(got)} alerts, {len(want)} expected")
        seqs = [a["kenchi"]["seq"] for a in env.alerts()]
        ok(seqs == list(range(1, len(seqs) + 1)), "alert seqs have no gaps or repeats",
           seqs[:20])
        ok(rc == 0, "SIGTERM after the disk was full: exit 0", f"{rc}\n{env.log()[-3000:]}")
        # the hunting index lost nothing either: a search by address goes
        # through it (lines i with i % 250 == 6 come from 203.0.113.7)
        want_ip = sum(1 for i in range(1, written + 1) if i % 250 == 6)
        p = subprocess.run([KENCHI, "search", "--store", env.db, "--ip", "203.0.113.7", "-o",
                            "jsonl"], capture_output=True, timeout=300)
        got_ip = len(p.stdout.decode().splitlines())
        ok(p.returncode == 0 and got_ip == want_ip,
           "the hunting index holds every line's address after the disk was full",
           (got_ip, want_ip, p.stderr.decode()[-300:]))
    finally:
        if sender:
            sender.stop.set()
        if env:
            env.cleanup()
        subprocess.run(["umount", mnt], capture_output=True)
        os.rmdir(mnt)


main()
