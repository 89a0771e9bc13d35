#!/usr/bin/env python3
"""The receivers that tests/unit/test_output_net.c delivers alerts to: an
HTTP webhook receiver (plain and HTTPS) and syslog receivers over UDP, TCP
and TLS, all on 127.0.0.1, logging everything they receive as JSON lines.

    output_receiver.py --serve --dir DIR [--lifetime S]

Prints "NAME PORT" lines for each server, then "ready". With openssl
present it first makes, in DIR, a throwaway CA (ca.pem), a server
certificate for IP 127.0.0.1, a client certificate (client.pem,
client.key) and a second, unrelated CA (other.pem) with the openssl
command; without it prints "tls none" and serves plain text only. It logs
to DIR/received.jsonl and exits by itself after --lifetime seconds
(default 120) or when its standard input closes.

HTTP paths:
    /ok        200
    /flaky     500 the first time an alert id is seen, 200 after
    /busy      429 with Retry-After: 7
    /busydate  503 with Retry-After as an HTTP date about 2 minutes ahead
    /bad       400 with a two-line body
    /auth      200 when Authorization is "Bearer s3cret" or Basic ops:pw,
               401 otherwise
Syslog:
    udp        one datagram, one message
    tcp, tls   octet counting or LF framing, told apart per frame (RFC 6587)
    tcpdrop    like tcp, but closes the connection after each message
    tlsmutual  like tls, a client certificate from the CA required
"""
import argparse
import email.utils
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()
LOCK = threading.Lock()
LOG = None
SEEN = set()


def log(rec):
    with LOCK:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        log({"t": "http", "path": self.path, "port": self.client_address[1],
             "tls": self.server.tls, "headers": hdrs, "body": body})
        aid = hdrs.get("x-kenchi-alert-id", "")
        path = self.path.split("?")[0]
        if path == "/ok":
            self.answer(200, b'{"ok":true}')
        elif path == "/flaky":
            with LOCK:
                first = aid not in SEEN
                SEEN.add(aid)
            self.answer(500 if first else 200, b"try again" if first else b"")
        elif path == "/busy":
            self.answer(429, b"slow down", [("Retry-After", "7")])
        elif path == "/busydate":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.answer(503, b"", [("Retry-After", when)])
        elif path == "/bad":
            self.answer(400, b"no such tenant\nsecond line")
        elif path == "/auth":
            good = hdrs.get("authorization") in ("Bearer s3cret", "Basic b3BzOnB3")
            self.answer(200 if good else 401, b"" if good else b"who are you")
        else:
            self.answer(404, b"no such path")


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    tls = False

    def handle_error(self, request, client_address):
        pass


class Syslog(socketserver.BaseRequestHandler):
    def handle(self):
        name = self.server.name
        buf = b""
        sock = self.request
        sock.settimeout(60)
        while not STOP.is_set():
            try:
                data = sock.recv(65536)
            except (OSError, ssl.SSLError):
                return
            if not data:
                return
            buf += data
            while buf:
                if buf[:1].isdigit():  # octet counting
                    sp = buf.find(b" ")
                    if sp < 0:
                        break
                    size = int(buf[:sp])
                    if len(buf) < sp + 1 + size:
                        break
                    msg, buf, framing = buf[sp + 1:sp + 1 + size], buf[sp + 1 + size:], "octet"
                else:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    msg, buf, framing = buf[:nl], buf[nl + 1:], "lf"
                peer = None
                if isinstance(sock, ssl.SSLSocket):
                    cert = sock.getpeercert()
                    peer = dict(x[0] for x in cert["subject"]).get("commonName") if cert else None
                if name == "tcpdrop":  # closed before it is logged: the sender sees it
                    sock.shutdown(socket.SHUT_RDWR)
                log({"t": name, "framing": framing, "peer": peer,
                     "msg": msg.decode("utf-8", "replace")})
                if name == "tcpdrop":
                    return


class StreamServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def udp_loop(sock):
    while not STOP.is_set():
        try:
            data, _ = sock.recvfrom(70000)
        except OSError:
            return
        log({"t": "udp", "msg": data.decode("utf-8", "replace")})


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1, a client certificate and
    an unrelated CA; True when made."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for ca in ("ca", "other"):
            run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
                "-subj", "/CN=kenchi test " + ca, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                          ("client", "extendedKeyUsage=clientAuth")):
            with open(os.path.join(d, name + ".ext"), "w") as f:
                f.write(ext + "\nbasicConstraints=CA:FALSE\n")
            run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=kenchi-" + name)
            run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", b"") or b""
        sys.stderr.write("output_receiver: openssl failed: %s %s\n" % (e, err.decode()[:300]))
        return False


def serve(args):
    global LOG
    LOG = os.path.join(args.dir, "received.jsonl")
    open(LOG, "w").close()
    out = []
    threads = []

    def start(srv, label):
        out.append("%s %d" % (label, srv.server_address[1]))
        threads.append(threading.Thread(target=srv.serve_forever, daemon=True))

    start(HttpServer(("127.0.0.1", 0), Http), "http")
    for name in ("tcp", "tcpdrop"):
        s = StreamServer(("127.0.0.1", 0), Syslog)
        s.name = name
        start(s, name)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    out.append("udp %d" % udp.getsockname()[1])
    threads.append(threading.Thread(target=udp_loop, args=(udp,), daemon=True))
    if make_certs(args.dir):
        def ctx(mutual):
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            c.load_cert_chain(os.path.join(args.dir, "server.pem"),
                              os.path.join(args.dir, "server.key"))
            if mutual:
                c.verify_mode = ssl.CERT_REQUIRED
                c.load_verify_locations(os.path.join(args.dir, "ca.pem"))
            return c
        h = HttpServer(("127.0.0.1", 0), Http)
        h.socket = ctx(False).wrap_socket(h.socket, server_side=True)
        h.tls = True
        start(h, "https")
        for name, mutual in (("tls", False), ("tlsmutual", True)):
            s = StreamServer(("127.0.0.1", 0), Syslog)
            s.socket = ctx(mutual).wrap_socket(s.socket, server_side=True)
            s.name = name
            start(s, name)
    else:
        out.append("tls none")
    for t in threads:
        t.start()
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
    ap.add_argument("--dir")
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    if not args.serve or not args.dir:
        print("# output_receiver.py is the receiver of tests/unit/test_output_net.c")
        return
    serve(args)


if __name__ == "__main__":
    main()
