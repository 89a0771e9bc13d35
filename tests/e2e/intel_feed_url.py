#!/usr/bin/env python3
"""`kenchi intel import URL` of a MISP feed directory.

A server of this test on 127.0.0.1 serves a copy of tests/intel/misp-feed
(a manifest.json listing two events, one event it does not have, and a
hostile key) and a feed whose manifest is not one. The import fetches the
manifest and the events it lists, reports the missing event with its URL,
never asks for the hostile key, names the import by the feed's URL (the
same feed by its manifest's URL adds nothing), leaves no temporary files,
and reports a feed without a manifest.

Prints TAP lines.
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading

KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")
FEED = "tests/intel/misp-feed"


def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "www")
    shutil.copytree(FEED, os.path.join(root, "feed"))
    os.makedirs(os.path.join(root, "bad"))
    with open(os.path.join(root, "bad", "manifest.json"), "w") as f:
        f.write("[1, 2, 3]")
    scratch = os.path.join(tmp, "scratch")
    os.makedirs(scratch)
    env = dict(os.environ, TMPDIR=scratch)

    def run(*args):
        p = subprocess.run([KENCHI, *args], capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    asked = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            asked.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=root))
    httpd.timeout = 5
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/" % httpd.server_address[1]
    db = os.path.join(tmp, "k.db")
    try:
        rc, out, err = run("intel", "import", "--store", db, base + "feed/")
        ok(rc == 1 and "(misp-feed): 6 indicators, 6 new" in out,
           "a feed URL: the manifest and its events are fetched and imported as one", out + err)
        ok(base + "feed/0e0e0e0e-0000-4000-8000-00000000dead.json: the server answered HTTP 404"
           in err, "an event the server does not have is reported with its URL", err)
        ok(base + 'feed/manifest.json: "../../etc/passwd": not an event uuid' in err
           and not [p for p in asked if ".." in p or "passwd" in p],
           "a key that is not an event uuid is reported and never fetched", err + repr(asked))
        ok(sorted(p for p in asked if p.endswith(".json")) ==
           ["/feed/0e0e0e0e-0000-4000-8000-00000000dead.json",
            "/feed/3a9d0c11-77e2-4f10-8a55-0b1c2d3e4f02.json",
            "/feed/8c1e2f40-1b2a-4c3d-9e4f-5a6b7c8d9e01.json", "/feed/manifest.json"],
           "the manifest, then the events it lists", repr(asked))
        rc, out, err = run("intel", "list", "--store", db, "-o", "json")
        imports = [json.loads(l) for l in out.splitlines() if l.strip()]
        ok(rc == 0 and len(imports) == 1 and imports[0]["source"] == base + "feed/"
           and imports[0]["format"] == "misp-feed",
           "the import is named by the feed's URL, not a temporary directory", out + err)
        ok(os.listdir(scratch) == [], "no temporary file is left", os.listdir(scratch))
        rc, out, err = run("intel", "import", "--store", db, base + "feed/manifest.json")
        ok(rc == 1 and "6 indicators, 0 new, 6 already known" in out,
           "the same feed by its manifest's URL adds nothing", out + err)
        rc, out, err = run("intel", "import", "--store", db, "--format", "misp-feed", base + "feed")
        ok(rc == 1 and "6 indicators, 0 new, 6 already known" in out,
           "--format misp-feed and the directory without its '/'", out + err)
        rc, out, err = run("intel", "import", "--store", db, base + "none/")
        ok(rc == 1 and base + "none/: manifest.json: the server answered HTTP 404" in err
           and "import #" not in out, "a feed URL without a manifest is reported", out + err)
        rc, out, err = run("intel", "import", "--store", db, base + "bad/")
        ok(rc == 1 and "not a MISP feed manifest" in err and "import #" not in out,
           "a manifest that is not one is reported", out + err)
        ok(os.listdir(scratch) == [], "still no temporary file left", os.listdir(scratch))
    finally:
        httpd.shutdown()
