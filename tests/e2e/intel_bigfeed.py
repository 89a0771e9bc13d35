#!/usr/bin/env python3
"""Large feeds are imported in chunks, into one transaction each.

Generates a plain list of 1,000,000 addresses (with comments and one bad
value deep inside), a CSV and a Zeek intel file of 120,000 rows each (more
than one chunk of 50,000, and rows that share their metadata across
chunks), imports them, and checks the counts the store keeps, that the
problem far into the file is reported with its line, and that importing a
chunked file again adds nothing.

Prints TAP lines.
"""
import json
import os
import subprocess
import tempfile

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def run(*args):
    p = subprocess.run([KENCHI, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def ip(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "k.db")
    big = os.path.join(tmp, "big-list.txt")
    with open(big, "w") as f:
        f.write("# a generated feed\n")
        for i in range(1000000):
            if i == 700000:
                f.write("999.1.1.1\n")  # line 700002
            f.write(ip(i) + "\n")
    rc, out, err = run("intel", "import", "--store", db, "--type", "ip", big)
    ok(rc == 1 and "1000000 indicators, 1000000 new" in out,
       "a list of a million lines is imported whole", out + err)
    ok("big-list.txt:700002: " in err and "999.1.1.1" in err,
       "a bad value past the first chunks is reported with its line", err)
    rc, out, err = run("intel", "list", "--store", db, "-o", "json")
    imports = [json.loads(l) for l in out.splitlines() if l.strip()]
    ok(rc == 0 and len(imports) == 1 and imports[0]["indicators"] == 1000000
       and imports[0]["added"] == 1000000 and imports[0]["problems"] == 1
       and imports[0]["source"].endswith("big-list.txt") and imports[0]["format"] == "list",
       "one import with the file's counts", out + err)

    csv = os.path.join(tmp, "feed.csv")
    with open(csv, "w") as f:
        f.write("value,type,description,confidence\n")
        for i in range(120000):
            f.write("%s,ip,%s,%d\n" % (ip(2000000 + i), "scanner" if i % 2 else "proxy",
                                      60 if i % 2 else 70))
    zeek = os.path.join(tmp, "feed.intel")
    with open(zeek, "w") as f:
        f.write("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n")
        for i in range(120000):
            f.write("bad%d.example\tIntel::DOMAIN\tzfeed\t%s\n" % (i, "c2" if i % 3 else "phish"))
    rc, out, err = run("intel", "import", "--store", db, csv, zeek)
    ok(rc == 0 and "(csv): 120000 indicators, 120000 new" in out
       and "(zeek): 120000 indicators, 120000 new" in out,
       "CSV and Zeek files of several chunks are imported whole", out + err)
    rc, out, err = run("intel", "import", "--store", db, csv, zeek)
    ok(rc == 0 and out.count("120000 indicators, 0 new, 120000 already known") == 2,
       "importing them again adds nothing", out + err)
    rc, out, err = run("intel", "list", "--store", db, "-o", "json")
    imports = [json.loads(l) for l in out.splitlines() if l.strip()]
    ok(len(imports) == 5 and sum(i["added"] for i in imports) == 1240000,
       "the store holds every indicator once", out + err)
