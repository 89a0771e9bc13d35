"""A TAXII 2.1 server for kenchi's tests: it serves the recorded responses
of tests/fixtures/taxii/ on 127.0.0.1, over HTTP and HTTPS, and misbehaves
on request. tests/unit/test_taxii.c starts it, pulls from it and reads its
request log. Run alone (as tests/run.sh runs every tests/e2e/*.py) it only
prints a note: the tests are in test_taxii.

    taxii_server.py --serve [--tls DIR] [--log FILE] [--lifetime S] [--slow S]

Binds port 0 on 127.0.0.1 (the kernel picks a free port) and prints
"http PORT", then with --tls "https PORT" and "https-wrongname PORT" (or
"tls none" when openssl is missing), then "ready". With --tls DIR it first
makes a throwaway CA (DIR/ca.pem) and two server certificates with the
openssl command: one for IP 127.0.0.1, one for another name. It exits by
itself after --lifetime seconds (default 120) or when its stdin closes.

The first path segment picks the behaviour; the rest is a TAXII server with
the discovery endpoint at /MODE/taxii2/ and one API root at /MODE/api1/:

  ok          the recorded responses
  grown       as ok, plus the page added after page 3 (objects-4.http)
  nonext      pages without `next` (the client goes on with added_after)
  basic       HTTP Basic auth (kenchi / s3cret-pw) or 401
  bearer      bearer token (tok-7f3a9c) or 401
  slow        answers after --slow seconds (default 5)
  hang        reads the request and never answers
  ctype       everything comes as text/html
  badjson     the objects page is cut off (malformed JSON)
  flaky       500 the first time each path is asked, then as ok
  busy        429 + Retry-After: 1 the first time
  busylong    503 + Retry-After: 3600, always
  huge        objects: 2 MiB body with Content-Length
  hugestream  objects: 2 MiB body without Content-Length
  loop        every answer redirects to itself
  tohttp      (https) redirects to the plain http server
  hop         redirects to another host name (localhost) in mode basic
  multi       discovery lists two API roots and no default
  rel         discovery names its root by a relative URL
  downgrade   discovery (https) names a plain http API root
  v20         the API root offers TAXII 2.0 only
  fail3       page 3 of the objects fails (503)
  status-NNN  every answer is HTTP NNN with a TAXII error message

Every request is logged as one line: "MODE PATH?QUERY accept=... auth=...".
"""
import argparse
import base64
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "taxii")
C1 = "5b4cf6a0-1d2e-4c5b-9a7e-2f1e3d4c5b6a"
C2 = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
BASIC = "Basic " + base64.b64encode(b"kenchi:s3cret-pw").decode()
BEARER = "Bearer tok-7f3a9c"
STOP = threading.Event()
LOG_LOCK = threading.Lock()
SEEN = set()
SEEN_LOCK = threading.Lock()


def recorded(name):
    """A recorded response: (status, [(header, value)], body bytes)."""
    with open(os.path.join(FIX, name), encoding="utf-8") as f:
        text = f.read()
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    status = lines[0].split(" ", 1)[1]
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if l]
    return status, headers, body


def ts_key(s):
    """A TAXII timestamp as a sortable tuple (microsecond precision)."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$", s or "")
    if not m:
        return None
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    return tuple(int(x) for x in m.groups()[:6]) + (int(frac),)


def header_of(resp, name):
    for k, v in resp[1]:
        if k.lower() == name.lower():
            return v
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "taxii-test/2.1"

    def log_message(self, fmt, *args):  # quiet: the request log is ours
        pass

    def note(self, mode):
        if not self.server.log_path:
            return
        auth = self.headers.get("Authorization", "")
        kind = auth.split(" ", 1)[0].lower() if auth else "none"
        with LOG_LOCK, open(self.server.log_path, "a") as f:
            f.write("%s %s accept=%s auth=%s\n" % (mode, self.path,
                    self.headers.get("Accept", ""), kind))

    def send(self, status, headers, body, length=True):
        data = body.encode() if isinstance(body, str) else body
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(data)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if length:
            self.wfile.write(data)
        else:  # close-delimited, written in pieces
            for i in range(0, len(data), 65536):
                self.wfile.write(data[i:i + 65536])
                self.wfile.flush()

    def send_recorded(self, name, base, body_fn=None, **subst):
        status, headers, body = recorded(name)
        body = body.replace("{base}", base)
        for k, v in subst.items():
            body = body.replace("{%s}" % k, v)
            status = status.replace("{%s}" % k, v)
        if body_fn:
            body = body_fn(body)
        self.send(status, headers, body)

    def first_time(self, mode, per_path=True):
        key = (mode, self.path.split("?")[0] if per_path else "")
        with SEEN_LOCK:
            if key in SEEN:
                return False
            SEEN.add(key)
            return True

    def do_GET(self):
        parts = urlsplit(self.path)
        segs = [s for s in parts.path.split("/") if s]
        mode = segs[0] if segs else ""
        rest = segs[1:]
        self.note(mode)
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        base = "%s://127.0.0.1:%d/%s" % (scheme, self.server.server_address[1], mode)
        q = parse_qs(parts.query)

        m = re.fullmatch(r"status-(\d{3})", mode)
        if m:
            code = m.group(1)
            reason = {"401": "Unauthorized", "403": "Forbidden", "404": "Not Found",
                      "406": "Not Acceptable", "416": "Range Not Satisfiable",
                      "500": "Internal Server Error", "503": "Service Unavailable"}
            status = "%s %s" % (code, reason.get(code, "Error"))
            return self.send_recorded("error-generic.http", base, status=status, code=code)
        if mode == "slow":
            STOP.wait(self.server.slow)
        if mode == "hang":
            STOP.wait(3600)
            return
        if mode == "loop":
            return self.send("302 Found", [("Location", self.path)], "")
        if mode == "hop":
            loc = "http://localhost:%d/basic/%s" % (self.server.http_port,
                                                   self.path.split("/", 2)[2])
            return self.send("302 Found", [("Location", loc)], "")
        if mode == "tohttp":
            loc = "http://127.0.0.1:%d%s" % (self.server.http_port, self.path)
            return self.send("302 Found", [("Location", loc)], "")
        if mode == "flaky" and self.first_time(mode):
            return self.send_recorded("error-generic.http", base,
                                      status="500 Internal Server Error", code="500")
        if mode == "busy" and self.first_time(mode, per_path=False):
            return self.send("429 Too Many Requests",
                             [("Retry-After", "1"),
                              ("Content-Type", "application/taxii+json;version=2.1")],
                             json.dumps({"title": "Slow down"}))
        if mode == "busylong":
            return self.send("503 Service Unavailable",
                             [("Retry-After", "3600"),
                              ("Content-Type", "application/taxii+json;version=2.1")],
                             json.dumps({"title": "Maintenance",
                                         "description": "Back in an hour."}))
        if mode == "basic" and self.headers.get("Authorization") != BASIC:
            return self.send_recorded("error-401.http", base)
        if mode == "bearer" and self.headers.get("Authorization") != BEARER:
            return self.send_recorded("error-401.http", base)
        if self.headers.get("Accept", "").replace(" ", "") != \
                "application/taxii+json;version=2.1":
            return self.send_recorded("error-generic.http", base,
                                      status="406 Not Acceptable", code="406")
        if mode == "ctype":
            return self.send("200 OK", [("Content-Type", "text/html")],
                             "<html><body>Please log in</body></html>")

        if rest == ["taxii2"]:
            name = {"multi": "discovery-noroot.http", "rel": "discovery-relative.http",
                    "downgrade": "discovery-downgrade.http"}.get(mode, "discovery.http")
            return self.send_recorded(name, base)
        if rest == ["api1"]:
            return self.send_recorded("api-root-v20.http" if mode == "v20" else "api-root.http",
                                      base)
        if rest == ["api1", "collections"]:
            return self.send_recorded("collections.http", base)
        if len(rest) == 4 and rest[:2] == ["api1", "collections"] and rest[3] == "objects":
            return self.objects(mode, rest[2], q, base)
        return self.send_recorded("error-404.http", base)

    def objects(self, mode, coll, q, base):
        if coll == C1:
            pages = ["objects-1.http", "objects-2.http", "objects-3.http"]
            if mode == "grown":
                pages.append("objects-4.http")
        elif coll == C2:
            pages = ["objects-hv.http"]
        else:
            return self.send_recorded("error-404.http", base)
        if mode == "badjson" and coll == C1:
            return self.send_recorded("objects-bad.http", base)
        if mode in ("huge", "hugestream"):
            pad = "x" * (2 << 20)
            body = json.dumps({"more": False, "objects": [{"type": "note", "content": pad}]})
            return self.send("200 OK", [("Content-Type", "application/taxii+json;version=2.1")],
                             body, length=(mode == "huge"))
        nxt = q.get("next", [None])[0]
        after = q.get("added_after", [None])[0]
        if nxt:
            m = re.fullmatch(r"page-(\d)", nxt)
            if not m or not 2 <= int(m.group(1)) <= len(pages):
                return self.send_recorded("error-generic.http", base,
                                          status="400 Bad Request", code="400")
            idx = int(m.group(1)) - 1
            if mode == "fail3" and idx == 2:
                return self.send_recorded("error-generic.http", base,
                                          status="503 Service Unavailable", code="503")
        elif after:
            t = ts_key(after)
            if t is None:
                return self.send_recorded("error-generic.http", base,
                                          status="400 Bad Request", code="400")
            idx = None
            for i, p in enumerate(pages):
                if ts_key(header_of(recorded(p), "X-TAXII-Date-Added-Last")) > t:
                    idx = i
                    break
            if idx is None:
                return self.send_recorded("objects-empty.http", base)
        else:
            idx = 0

        def adjust(body):
            env = json.loads(body)
            last = idx == len(pages) - 1
            env["more"] = not last
            env.pop("next", None)
            if not last and mode != "nonext":
                env["next"] = "page-%d" % (idx + 2)
            return json.dumps(env, indent=2) + "\n"
        return self.send_recorded(pages[idx], base, body_fn=adjust)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # clients that hang up (time-outs, size caps, refused certificates)
        # are what the tests do on purpose: no traceback for those
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def make_certs(d):
    """A throwaway CA and two server certificates; True when made."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=kenchi test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for name, san in (("server", "IP:127.0.0.1"), ("wrongname", "DNS:wrong.example")):
            with open(os.path.join(d, name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                        "extendedKeyUsage=serverAuth\n" % san)
            run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
            run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2",
                "-extfile", name + ".ext")
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", b"") or b""
        sys.stderr.write("taxii_server: openssl failed: %s %s\n" % (e, err.decode()[:300]))
        return False


def start(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def serve(args):
    servers = []
    http_srv = Server(("127.0.0.1", 0), Handler)
    servers.append(http_srv)
    http_port = http_srv.server_address[1]
    out = ["http %d" % http_port]
    if args.tls:
        if make_certs(args.tls):
            for name, label in (("server", "https"), ("wrongname", "https-wrongname")):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(os.path.join(args.tls, name + ".pem"),
                                    os.path.join(args.tls, name + ".key"))
                srv = Server(("127.0.0.1", 0), Handler)
                srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
                servers.append(srv)
                out.append("%s %d" % (label, srv.server_address[1]))
        else:
            out.append("tls none")
    for s in servers:
        s.log_path = args.log
        s.slow = args.slow
        s.http_port = http_port
        start(s)
    print("\n".join(out + ["ready"]), flush=True)

    def watch_stdin():
        try:
            sys.stdin.buffer.read()
        except OSError:
            pass
        STOP.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    STOP.wait(args.lifetime)
    STOP.set()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--tls")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--slow", type=float, default=5)
    args = ap.parse_args()
    if not args.serve:
        print("# taxii_server.py is the TAXII test server of tests/unit/test_taxii.c")
        return
    serve(args)


if __name__ == "__main__":
    main()
