"""End-to-end: the live daemon, `kenchi run --config FILE`, on Postfix
syslog lines written here while it runs. A file appended while running
gives its alerts in the JSON-lines output; rotation by rename and by copy
and truncate lose nothing and repeat nothing; kill -9 at random moments
while a file is appended and syslog arrives over TCP (several rounds):
after a restart every line of the file is in the store exactly once and
every alert in the JSON-lines output exactly once; no TCP message is
stored twice (those a kill cut off may be lost: syslog has no
acknowledgement) and the alert of every stored one is delivered exactly
once; SIGHUP with a broken rule file keeps the old rules; SIGTERM exits 0
with everything committed; `kenchi config check` names problems with
file:line:col, and the shipped example configuration is good.

Nothing here is timed: waits poll for an expected state with a generous
deadline, and the test fails only if that state never comes."""
import json, os, random, re, signal, socket, sqlite3, subprocess, tempfile, threading, time, shutil

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from livelib import *  # noqa: F401,F403
import livelib

def test_append_and_term():
    env = Env("append", extra_output="  - {type: jsonl, name: urgent, path: URGENT, "
                                     "min_level: high}")
    try:
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 30)
        env.start()
        ok(wait_for(lambda: len(env.alerts()) >= 10), "alerts of lines present at start arrive",
           env.log())
        append(path, 31, 60)
        ok(wait_for(lambda: len(env.alerts()) >= 20),
           "alerts of lines appended while running arrive", env.log())
        seqs = [a["kenchi"]["seq"] for a in env.alerts()]
        ok(seqs == list(range(1, len(seqs) + 1)), "alerts carry kenchi.seq 1, 2, ... in order",
           seqs)
        a0 = env.alerts()[0]
        ok(a0["kind"] == "sigma" and a0["rule"]["level"] == "low" and
           a0["events"][0]["source"] == {"file": path, "line": 3},
           "a live alert has the layout of scan's", a0)
        # the same input through scan gives the same alerts (bar kenchi.seq)
        p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--rules", env.rules, "--timezone",
                            "UTC", "-o", "jsonl", path], capture_output=True, timeout=120)
        scan = [json.loads(l) for l in p.stdout.decode().splitlines()]
        live = [{k: v for k, v in a.items() if k != "kenchi"} for a in env.alerts()]
        ok(p.returncode == 0 and len(scan) == 20 and
           [a["events"] for a in scan] == [a["events"] for a in live] and
           [a["rule"]["id"] for a in scan] == [a["rule"]["id"] for a in live],
           "the same lines give the same alerts live as in scan",
           f"scan {len(scan)} live {len(live)}")
        append(path, 61, 90)
        rc = env.term()
        ok(rc == 0, "SIGTERM: exit status 0", f"{rc}\n{env.log()}")
        # everything read before the stop is committed: counted offline
        stored = env.stored_lines(path)
        ok(len(stored) == 90, "SIGTERM: every line written before it is committed",
           f"{len(stored)} lines stored")
        c = sqlite3.connect(env.db)
        off = c.execute("SELECT name, offset, line FROM tail_offsets").fetchall()
        nal = c.execute("SELECT count(*) FROM alerts").fetchone()[0]
        cur = c.execute("SELECT value FROM state WHERE key='output.alerts.cursor'").fetchone()
        c.close()
        ok(off and off[0][0] == path and off[0][2] == len(stored) and
           off[0][1] == sum(len(line(i, is_fail(i))) for i in range(1, len(stored) + 1)),
           "SIGTERM: the read offset covers exactly the stored lines", (off, len(stored)))
        ok(cur and int(cur[0]) == nal == len(env.alerts()),
           "SIGTERM: every committed alert delivered, and the cursor says so",
           (cur, nal, len(env.alerts())))
        c = sqlite3.connect(env.db)
        ucur = c.execute("SELECT value FROM state WHERE key='output.urgent.cursor'").fetchone()
        c.close()
        ok(os.path.getsize(env.urgent) == 0 and ucur and int(ucur[0]) == nal,
           "min_level: an output for high alerts got none of the low ones, and moved on", ucur)
        ok("alerts made" in env.log() and "stopped" in env.log(),
           "SIGTERM: a closing summary in the log", env.log()[-500:])
        # a restart reads on from the offset: nothing twice
        append(path, 91, 99)
        env.start()
        expect_complete(env, path, 99, "restart after SIGTERM")
        env.term()
    finally:
        env.cleanup()


def test_rotation():
    env = Env("rotate")
    try:
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 30)
        env.start()
        ok(wait_for(lambda: len(env.stored_lines(path)) >= 30), "rotation: first lines stored",
           env.log())
        # rename: the old file gets more lines after the rename (a writer that
        # has not reopened yet), then the new file starts at line 1
        rotated = os.path.join(env.logs, "mail.log.1")
        os.rename(path, rotated)
        append(rotated, 31, 40)
        with open(path, "w") as f:
            for i in range(1, 16):
                f.write(line(1000 + i, is_fail(i)))
        # the rotated name does not match *.log: read under the old name
        ok(wait_for(lambda: len(env.stored_lines(path)) >= 40),
           "rotation by rename: the old file's last lines are read",
           (len(env.stored_lines(path)), env.log()))
        # copytruncate of the new file: copy away, truncate, write again
        ok(wait_for(lambda: sum(1 for a in env.alert_lines()) >= 13 + 5),
           "rotation by rename: the new file is read", env.log())
        shutil.copy(path, os.path.join(env.logs, "mail.log.2.gz"))  # compressed: left alone
        with open(path, "r+") as f:
            f.truncate(0)
        time.sleep(0.5)  # not a timing assertion: lets the tailer see an empty file
        with open(path, "a") as f:
            for i in range(1, 7):
                f.write(line(2000 + i, is_fail(i)))
        want = 13 + 5 + 2  # 40 lines: 13 failures; new file 15: 5; after truncation 6: 2
        ok(wait_for(lambda: len(env.alerts()) >= want),
           "copytruncate: the file is read again from the start", (len(env.alerts()), env.log()))
        rc = env.term()
        texts = [json.dumps(a["events"]) for a in env.alerts()]
        ok(rc == 0 and len(env.alerts()) == want and len(set(texts)) == want,
           "rotation: no alert lost or repeated, the compressed copy not read",
           (rc, len(env.alerts()), want))
        ok("rotated or removed" in env.log() and "truncated" in env.log(),
           "rotation: both kinds are logged", env.log())
    finally:
        env.cleanup()


def test_kill9():
    random.seed(int(os.environ.get("KENCHI_TEST_SEED", "5")))
    port = free_port()
    env = Env("kill9", extra_source=f'  - {{type: syslog, name: net, protocol: tcp, '
                                    f'listen: "127.0.0.1:{port}"}}')
    sender = TcpSender(port)
    try:
        path = os.path.join(env.logs, "mail.log")
        written = 0
        rounds = 8
        sender.start()
        for r in range(rounds):
            env.start()
            # append in small chunks while it runs, kill at a random moment
            chunks = random.randint(2, 8)
            for _ in range(chunks):
                k = random.randint(20, 1500)
                append(path, written + 1, written + k)
                written += k
                time.sleep(random.uniform(0, 0.15))
            time.sleep(random.choice([0, 0.01, 0.05, 0.2, 0.5]) * random.random())
            env.kill9()
        env.start()
        expect_complete(env, path, written, f"kill -9 x{rounds}")
        # the last messages, sent while no kill comes, must arrive
        last = sender.sent + 1
        ok(wait_for(lambda: sender.sent >= last + 100 and
                    last + 50 in env.net_stored()),
           "kill -9: TCP syslog after the last restart arrives", (sender.sent, env.log()[-2000:]))
        sender.hold.set()  # the sender closes its connection: its messages are all in
        time.sleep(0.2)  # not an assertion: lets the sender see the hold
        rc = env.term()
        sender.stop.set()
        sender.join(timeout=30)
        where = {}
        stored = env.net_stored(where)
        twice = [i for i, c in stored.items() if c != 1]
        ok(stored and not twice, "kill -9: no TCP syslog message stored twice",
           f"{len(stored)} stored of {sender.sent} sent; twice: {twice[:20]}")
        lost = sender.sent - len(stored)
        print(f"# kill -9: {sender.sent} TCP messages sent, {len(stored)} stored, {lost} lost "
              f"with connections cut by a kill (not acknowledged)")
        net_alerts = [a for a in env.alerts() if a["events"][0]["source"]["file"].startswith(
            "syslog:net:")]
        got = sorted(where.get((a["events"][0]["source"]["file"],
                                a["events"][0]["source"]["line"]), -1) for a in net_alerts)
        want = sorted(i for i in stored if is_fail(i))
        ok(got == want, "kill -9: the alert of every stored TCP message delivered exactly once "
           "(and none of a message not stored)",
           f"{len(got)} alerts, {len(want)} expected; repeated: "
           f"{sorted(set(x for x in got if got.count(x) > 1))[:10]}; missing: "
           f"{sorted(set(want) - set(got))[:10]}; not stored: {sorted(set(got) - set(want))[:10]}")
        ok(rc == 0, "kill -9: the last run stops cleanly", rc)
        # the alerts' seq stay strictly increasing across the crashes
        seqs = [a["kenchi"]["seq"] for a in env.alerts()]
        ok(seqs == list(range(1, len(seqs) + 1)),
           "kill -9: seqs in the output are 1, 2, ... without gaps or repeats", seqs[:50])
        # the store's own count agrees (kenchi search on the store)
        p = subprocess.run([KENCHI, "search", "--store", env.db, "-o", "jsonl"],
                           capture_output=True, timeout=300)
        ok(p.returncode == 0 and len(p.stdout.decode().splitlines()) == written + len(stored),
           "kill -9: kenchi search finds every line once",
           (p.returncode, len(p.stdout.decode().splitlines()), written))
    finally:
        sender.stop.set()
        env.cleanup()


def test_sighup():
    env = Env("hup")
    try:
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 9)
        env.start()
        ok(wait_for(lambda: len(env.alerts()) >= 3), "sighup: alerts before", env.log())
        with open(os.path.join(env.rules, "broken.yml"), "w") as f:
            f.write(BROKEN_RULE)
        env.proc.send_signal(signal.SIGHUP)
        ok(wait_for(lambda: "rules in use stay" in env.log()),
           "SIGHUP with a broken rule file: reported, the old rules stay", env.log())
        ok("broken.yml" in env.log(), "SIGHUP: the broken file is named")
        append(path, 10, 18)
        ok(wait_for(lambda: len(env.alerts()) >= 6), "SIGHUP: the old rules still alert",
           (len(env.alerts()), env.log()))
        # the output file rotated away: reopened on SIGHUP, delivery goes on
        os.rename(env.out, env.out + ".old")
        os.remove(os.path.join(env.rules, "broken.yml"))
        env.proc.send_signal(signal.SIGHUP)
        ok(wait_for(lambda: "reload done" in env.log()), "SIGHUP with good rules: reloaded",
           env.log())
        append(path, 19, 27)
        ok(wait_for(lambda: len(env.alerts()) >= 3),
           "SIGHUP: the output file is reopened (a new file after rotation)", env.log())
        with open(env.out + ".old") as f:
            old = sum(1 for _ in f)
        ok(old == 6 and [a["kenchi"]["seq"] for a in env.alerts()] == [7, 8, 9],
           "SIGHUP: the new file goes on after the old one's last alert",
           (old, [a["kenchi"]["seq"] for a in env.alerts()]))
        ok(env.term(signal.SIGINT) == 0, "SIGINT: exit status 0")
    finally:
        env.cleanup()


def test_start_at_end_and_vanish():
    env = Env("startend", start_at="end")
    try:
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 30)
        with open(path, "a") as f:
            f.write("Mar  4 01:00:00 mx1 postfix/smtpd[1]: a line being writ")  # no newline yet
        env.start()
        ok(wait_for(lambda: "from its end" in env.log()), "start_at end: the file is opened",
           env.log())
        with open(path, "a") as f:
            f.write("ten\n")
        append(path, 32, 45)
        want = [(path, i) for i in range(33, 46) if is_fail(i)]
        ok(wait_for(lambda: len(env.alerts()) >= len(want)) and env.alert_lines() == want,
           "start_at end: only lines written after the start, numbered as in the file",
           (env.alert_lines(), want))
        stored = env.stored_lines(path)
        ok(min(stored) == 31 and max(stored) == 45 and len(stored) == 15,
           "start_at end: the line being written at start is read whole",
           sorted(stored))
        # the file vanishes and comes back: a new file, read from its beginning
        os.remove(path)
        ok(wait_for(lambda: "rotated or removed" in env.log()), "a removed file is noticed")
        time.sleep(1.5)  # not an assertion: lets rotate_wait (1s) pass
        with open(path, "w") as f:
            for i in range(1, 7):
                f.write(line(3000 + i, is_fail(i)))
        ok(wait_for(lambda: len(env.alerts()) >= len(want) + 2),
           "a file that vanished and came back is read from its beginning",
           (len(env.alerts()), env.log()))
        ok(env.term() == 0 and env.alert_lines()[-2:] == [(path, 3), (path, 6)],
           "the new file's alerts have its own line numbers", env.alert_lines()[-3:])
    finally:
        env.cleanup()


ZEEK_HEAD = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
             "#path\tconn\n#open\t2024-03-04-00-00-00\n"
             "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
             "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n")


def zeek_line(i):
    return f"{1709510400 + i}.000000\tC{i:017d}\t198.51.100.{i % 250}\t{40000 + i}\t192.0.2.25\t25\ttcp\n"


def test_zeek_resume():
    """A Zeek TSV file read on after a restart: its header block is read
    again so the fields keep their names (no unparsed events)."""
    env = Env("zeek")
    try:
        path = os.path.join(env.logs, "conn.log")
        with open(path, "w") as f:
            f.write(ZEEK_HEAD + "".join(zeek_line(i) for i in range(1, 11)))
        env.start()
        ok(wait_for(lambda: len(env.stored_lines(path)) >= 10), "zeek: first lines stored")
        ok(env.term() == 0, "zeek: stopped")
        with open(path, "a") as f:
            f.write("".join(zeek_line(i) for i in range(11, 21)))
        env.start()
        ok(wait_for(lambda: len(env.stored_lines(path)) >= 20), "zeek: read on after a restart")
        env.term()
        c = sqlite3.connect(env.db)
        mods = dict(c.execute("SELECT l.module, count(*) FROM events e JOIN logsources l "
                              "ON e.ls=l.id GROUP BY 1").fetchall())
        c.close()
        ok(mods == {"zeek": 20} and "known, from where" in env.log(),
           "zeek: every line decoded after the restart too (the header is read again)", mods)
    finally:
        env.cleanup()


def test_output_down():
    """The output's destination goes away: alerts wait in the store and
    arrive in order, none lost or repeated, when it is back."""
    env = Env("down", out_dir="out", retry="{initial: 100ms, max: 400ms}")
    try:
        path = os.path.join(env.logs, "mail.log")
        append(path, 1, 9)
        env.start()
        ok(wait_for(lambda: len(env.alerts()) >= 3), "output down: alerts before", env.log())
        outdir = os.path.dirname(env.out)
        os.rename(outdir, outdir + ".gone")
        env.proc.send_signal(signal.SIGHUP)  # reopen: the directory is gone
        ok(wait_for(lambda: "reload done" in env.log()), "output down: reloaded")
        append(path, 10, 30)
        ok(wait_for(lambda: "will retry" in env.log()),
           "output down: the failed delivery is logged and retried", env.log())
        os.makedirs(outdir)
        ok(wait_for(lambda: len(env.alerts()) >= 7),
           "output down: delivered once the destination is back", (len(env.alerts()), env.log()))
        ok(env.term() == 0, "output down: stopped")
        seqs = [a["kenchi"]["seq"] for a in env.alerts()]
        ok(seqs == list(range(4, 11)), "output down: the waiting alerts arrive in order, once",
           seqs)
    finally:
        env.cleanup()


def test_config_check():
    d = tempfile.mkdtemp(prefix="kenchi-cfg-")
    try:
        bad = os.path.join(d, "bad.yml")
        with open(bad, "w") as f:
            f.write("store: /tmp/x.db\n"
                    "sources:\n"
                    "  - type: file\n"
                    "    pathz: [/var/log/mail.log]\n"
                    "  - type: carrier-pigeon\n"
                    "outputs:\n"
                    "  - type: jsonl\n"
                    "    path: relative.jsonl\n"
                    "limits: {commit_interval: 5}\n"
                    "loggg: {}\n")
        p = subprocess.run([KENCHI, "config", "check", bad], capture_output=True, timeout=60)
        err = p.stderr.decode()
        ok(p.returncode == 2, "config check: exit 2 on problems", p.returncode)
        ok(f"{bad}:4:5: unknown key 'pathz' (did you mean 'paths'?)" in err,
           "config check: an unknown key by name, with its place and a suggestion", err)
        ok(f"{bad}:3:5: paths: missing" in err or f"{bad}:3:5:" in err,
           "config check: a missing key at its mapping", err)
        ok("unknown source type 'carrier-pigeon'" in err and f"{bad}:5:" in err,
           "config check: an unknown source type", err)
        ok(f"{bad}:8:" in err and "not an absolute path" in err,
           "config check: the output's own keys are checked by the output", err)
        ok(f"{bad}:9:" in err and "commit_interval" in err, "config check: a bare number "
           "is no duration", err)
        ok(f"{bad}:10:1: unknown key 'loggg' (did you mean 'log'?)" in err,
           "config check: unknown top-level key", err)
        p = subprocess.run([KENCHI, "config", "check",
                            os.path.join(ROOT, "config", "kenchi.example.yml")],
                           capture_output=True, timeout=60)
        out = p.stdout.decode()
        ok(p.returncode == 0 and "good" in out and "source mail" in out and "source zeek" in out,
           "config check: the example configuration is good", p.stdout.decode() +
           p.stderr.decode())
        net = os.path.join(d, "net.yml")
        with open(net, "w") as f:
            f.write("sources: [{type: syslog, name: net, protocol: tcp, listen: 5514},\n"
                    "          {type: syslog, name: bad, protocol: carrier-pigeon}]\n"
                    "outputs: [{type: webhook, name: hook}]\n")
        p = subprocess.run([KENCHI, "config", "check", net], capture_output=True, timeout=60)
        err = p.stderr.decode()
        ok(p.returncode == 2 and f"{net}:2:" in err and "carrier-pigeon" in err and
           "not built" not in err and err.count("kenchi:") == 2 and "url" in err,
           "config check: syslog sources and webhook outputs are read by their modules", err)
        p = subprocess.run([KENCHI, "run"], capture_output=True, timeout=60)
        ok(p.returncode == 2 and "--config FILE is required" in p.stderr.decode(),
           "run without --config: a clear message, exit 2", p.stderr.decode())
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_stdin():
    d = tempfile.mkdtemp(prefix="kenchi-stdin-")
    try:
        rules = os.path.join(d, "rules")
        os.makedirs(rules)
        with open(os.path.join(rules, "sasl.yml"), "w") as f:
            f.write(RULE)
        cfg = os.path.join(d, "k.yml")
        out = os.path.join(d, "a.jsonl")
        with open(cfg, "w") as f:
            f.write(f"store: {d}/k.db\nrules: [{rules}]\nintel: {{stored: false}}\n"
                    f"sources: [{{type: stdin, name: in}}]\n"
                    f"outputs: [{{type: jsonl, path: {out}}}]\n")
        text = "".join(line(i, is_fail(i)) for i in range(1, 31))
        p = subprocess.run([KENCHI, "run", "--config", cfg], input=text.encode(),
                           capture_output=True, timeout=120)
        with open(out) as f:
            alerts = [json.loads(l) for l in f]
        ok(p.returncode == 0 and len(alerts) == 10 and
           alerts[0]["events"][0]["source"] == {"file": "-", "line": 3},
           "stdin: read to its end, alerts delivered, exit 0",
           (p.returncode, len(alerts), p.stderr.decode()))
    finally:
        shutil.rmtree(d, ignore_errors=True)


test_config_check()
test_stdin()
test_append_and_term()
test_rotation()
test_sighup()
test_start_at_end_and_vanish()
test_zeek_resume()
test_output_down()
test_kill9()
