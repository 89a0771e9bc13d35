#!/usr/bin/env python3
"""Every Zeek intel feed of ../shared/data/intel/zeek-intelligence-feeds
through `kenchi scan --intel`, with the MISP warning lists of
../shared/data/intel/misp-warninglists.

The counts kenchi reports are checked against what this script finds in
the files on its own: data lines, values the feeds cut short ("…"),
domains that are no domain names, addresses that are no addresses; the
problems kenchi shows must name a file:line holding the value they speak
of. With the warning lists: all of them load, an address of the feeds
that a CIDR list covers is suppressed, one that no list covers alerts.

Skips (with the reason) when ../shared is absent. Prints TAP lines.
"""
import glob
import ipaddress
import json
import os
import re
import subprocess
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
SHARED = os.environ.get("KENCHI_SHARED", "../shared")
FEEDS = os.path.join(SHARED, "data/intel/zeek-intelligence-feeds")
WL = os.path.join(SHARED, "data/intel/misp-warninglists/lists")


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


if not os.path.isdir(FEEDS):
    print("ok - Zeek intel feeds # SKIP %s is absent" % FEEDS)
    raise SystemExit(0)

LABEL = re.compile(r"^[A-Za-z0-9_\-\x80-\U0010ffff]{1,63}$")


def refang(v):
    for a, b in (("[.]", "."), ("(.)", "."), ("{.}", "."), ("[dot]", "."), ("[:]", ":"),
                 ("[@]", "@")):
        v = v.replace(a, b)
    if v[:4].lower() == "hxxp":
        v = "http" + v[4:]
    return v


def domain_ok(v):
    v = refang(v).strip()
    if v.startswith("*."):
        v = v[2:]
    v = v.rstrip(".")
    if not v or len(v.encode()) > 253:
        return False
    return all(LABEL.match(l) and len(l.encode()) <= 63 for l in v.split("."))


def ip_ok(v):
    try:
        ipaddress.ip_network(refang(v).strip().strip("[]"), strict=True)
        return True
    except ValueError:
        return False


records = 0
cut = 0
bad_domain = 0
bad_ip = 0
lines = {}
for path in sorted(glob.glob(os.path.join(FEEDS, "*.intel"))):
    with open(path, encoding="utf-8") as f:
        lines[path] = f.read().split("\n")
    for line in lines[path]:
        if not line or line.startswith("#"):
            continue
        records += 1
        v, t = line.split("\t")[:2]
        t = t.replace("Intel::", "")
        if t in ("URL", "DOMAIN", "EMAIL") and (v.endswith("\u2026") or v.endswith("...")):
            cut += 1
        elif t == "DOMAIN" and not domain_ok(v):
            bad_domain += 1
        elif t in ("ADDR", "SUBNET") and not ip_ok(v):
            bad_ip += 1
skipped = cut + bad_domain + bad_ip

tmp = tempfile.mkdtemp(prefix="kenchi-feeds-")
log = os.path.join(tmp, "events.json")
with open(log, "w") as f:
    f.write('{"timestamp":"2024-03-04T10:00:00Z","src_ip":"192.0.2.1"}\n')
p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--no-rules", "-o", "jsonl", "--intel", FEEDS,
                    log], capture_output=True, text=True)
err = p.stderr
ok(p.returncode == 0, "scan reads every feed", err[-2000:])
m = re.search(r"intel: (\d+) indicators \((\d+) distinct values, (\d+) duplicates\) from (\d+) files",
              err)
nfiles = len(glob.glob(os.path.join(FEEDS, "*.intel")))
ok(m and int(m.group(4)) == nfiles, "every .intel file is read, nothing else (%d)" % nfiles, err[-1500:])
kept, values, dups = (int(m.group(i)) for i in (1, 2, 3)) if m else (0, 0, 0)
ok(kept + dups == records - skipped,
   "indicators + duplicates = data lines - skipped (%d + %d = %d - %d)" % (kept, dups, records, skipped))
ok(0 < values <= kept, "distinct values (%d) at most the indicators (%d)" % (values, kept))
m = re.search(r"intel: (\d+) values skipped: (.*)", err)
reasons = {}
if m:
    for part in m.group(2).split(", "):
        n, r = part.split(" ", 1)
        reasons[r] = int(n)
want = {}
if cut:
    want["value cut short by the feed"] = cut
if bad_domain:
    want["invalid domain"] = bad_domain
if bad_ip:
    want["invalid ip"] = bad_ip
ok(m and int(m.group(1)) == skipped and reasons == want,
   "skipped values, per reason, as counted here", (reasons, want))

shown = [l for l in err.splitlines() if l.startswith("kenchi scan: intel: " + FEEDS)]
placed = []
for l in shown:
    mm = re.match(r"kenchi scan: intel: (.*?):(\d+): \w[\w-]* '(.*?)(\.\.\.)?' refused", l)
    if not mm:
        placed.append("no file:line: " + l)
        continue
    src, n, val = mm.group(1), int(mm.group(2)), mm.group(3)
    held = lines.get(src) and lines[src][n - 1]
    if not held or not (held.startswith(val[:60]) or refang(held).startswith(val[:60])):
        placed.append("line %d of %s does not hold '%s'" % (n, src, val))
ok(len(shown) == min(20, skipped) and not placed,
   "the problems shown name the file:line of their value", "\n".join(placed[:5]))
more = re.search(r"intel: (\d+) more problems not shown", err)
ok(skipped <= 20 or (more and int(more.group(1)) + 20 == skipped),
   "the problems not shown are counted")

# ---- with the warning lists -------------------------------------------
if not os.path.isdir(WL):
    print("ok - warning lists # SKIP %s is absent" % WL)
    raise SystemExit(0)
nets = []
for lj in glob.glob(os.path.join(WL, "*/list.json")):
    with open(lj) as f:
        d = json.load(f)
    if d.get("type") == "cidr":
        for e in d["list"]:
            try:
                nets.append(ipaddress.ip_network(e, strict=False))
            except ValueError:
                pass
nets4 = [n for n in nets if n.version == 4]


def covered(ip):
    a = ipaddress.ip_address(ip)
    return any(a in n for n in nets4)


inside = outside = None
for path in sorted(lines):
    for line in lines[path]:
        if line.startswith("#") or "\tIntel::ADDR\t" not in line:
            continue
        v = line.split("\t")[0]
        try:
            a = ipaddress.IPv4Address(v)
        except ValueError:
            continue
        if inside is None and covered(v):
            inside = v
        elif outside is None and not a.is_private and not covered(v):
            outside = v
        if inside and outside:
            break
    if inside and outside:
        break
with open(log, "w") as f:
    f.write('{"timestamp":"2024-03-04T10:00:00Z","src_ip":"%s"}\n' % inside)
    f.write('{"timestamp":"2024-03-04T10:00:01Z","src_ip":"%s"}\n' % outside)
p = subprocess.run([KENCHI, "scan", "--no-baselines", "--no-store", "--no-rules", "-o", "jsonl", "--intel", FEEDS,
                    "--warninglists", WL, log], capture_output=True, text=True)
nlists = len(glob.glob(os.path.join(WL, "*/list.json")))
ok(p.returncode == 0 and ("on %d warning lists" % nlists) in p.stderr,
   "all %d warning lists load" % nlists, p.stderr[-1500:])
alerts = [json.loads(l) for l in p.stdout.splitlines()]
summ = {}
for l in p.stderr.splitlines():
    if l.startswith('{"intel"'):
        summ = json.loads(l)["intel"]
ok([a["indicator"]["value"] for a in alerts] == [outside] and summ.get("suppressed", 0) >= 1
   and summ.get("warning_listed", 0) > 0,
   "%s (on a CIDR list) is suppressed, %s (on none) alerts" % (inside, outside),
   (alerts[:2], summ))
os.unlink(log)
os.rmdir(tmp)
