#!/usr/bin/env python3
"""End-to-end: scripts/mmdb-write.py writes MaxMind DB files that
libmaxminddb's own `mmdblookup` (Debian package mmdb-bin) reads as written:
IPv4 under ::/96 and through ::ffff:0:0/96, IPv6, nested networks (the most
specific wins), registered_country alone, addresses no network holds, the
24-, 28- and 32-bit record sizes, byte-identical output for the same input,
and refusals of bad input with the file named. Prints TAP."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRITER = os.path.join(ROOT, "scripts", "mmdb-write.py")
n_fail = 0


def ok(cond, name, detail=""):
    global n_fail
    if cond:
        print("ok - %s" % name)
    else:
        n_fail += 1
        print("not ok - %s" % name)
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def write(kind, entries, out, tmp):
    src = os.path.join(tmp, "n-%s.json" % kind)
    with open(src, "w") as f:
        json.dump(entries, f)
    return subprocess.run([sys.executable, WRITER, "--kind", kind, src, out],
                          capture_output=True, text=True)


def lookup(db, ip):
    r = subprocess.run(["mmdblookup", "--file", db, "--ip", ip], capture_output=True, text=True)
    return r.stdout + r.stderr


ENTRIES = [
    {"network": "198.51.100.0/24", "asn": 64501, "org": "Example Carrier", "country": "DE"},
    {"network": "203.0.0.0/8", "asn": 64000, "org": "Wide Net", "country": "US"},
    {"network": "203.0.113.0/24", "asn": 64511, "org": "Example Hosting", "country": "NL"},
    {"network": "2001:db8:4a::/48", "asn": 64502, "org": "V6 \u00c9xample",
     "registered_country": "FR"},
    {"network": "192.0.2.128/25", "asn": 64520},
]


def main():
    if not shutil.which("mmdblookup"):
        print("ok - mmdb writer # SKIP mmdblookup is not installed (Debian package mmdb-bin)")
        return 0
    tmp = tempfile.mkdtemp(prefix="kenchi-mmdb-")
    try:
        asn = os.path.join(tmp, "asn.mmdb")
        cc = os.path.join(tmp, "cc.mmdb")
        r = write("asn", ENTRIES, asn, tmp)
        ok(r.returncode == 0, "asn database written", r.stderr)
        r = write("country", ENTRIES, cc, tmp)
        ok(r.returncode == 0, "country database written", r.stderr)
        out = lookup(asn, "198.51.100.7")
        ok("64501 <uint32>" in out and '"Example Carrier" <utf8_string>' in out,
           "IPv4 address: ASN and organisation", out)
        out = lookup(asn, "203.0.113.9")
        ok("64511" in out, "nested network: the /24 inside the /8 wins", out)
        out = lookup(asn, "203.1.2.3")
        ok("64000" in out, "nested network: the rest of the /8", out)
        out = lookup(asn, "::ffff:198.51.100.7")
        ok("64501" in out, "IPv4-mapped IPv6 address finds the IPv4 network", out)
        out = lookup(asn, "2001:db8:4a:1::5")
        ok("64502" in out and "V6 \u00c9xample" in out, "IPv6 network, UTF-8 organisation", out)
        out = lookup(asn, "192.0.2.1")
        ok("Could not find an entry" in out, "address outside every network", out)
        out = lookup(cc, "198.51.100.7")
        ok(re.search(r'"country":\s*\{\s*"iso_code":\s*"DE"', out) is not None,
           "country.iso_code", out)
        out = lookup(cc, "2001:db8:4a::1")
        ok('"registered_country"' in out and '"FR"' in out and '"country":' not in
           out.replace('"registered_country":', ""), "registered_country alone", out)
        out = lookup(cc, "192.0.2.200")
        ok("Could not find an entry" in out, "entries without the kind's fields are left out",
           out)
        with open(asn, "rb") as f:
            first = f.read()
        write("asn", ENTRIES, asn, tmp)
        with open(asn, "rb") as f:
            ok(f.read() == first, "same input, byte-identical file")
        # many networks: the tree outgrows 24-bit records
        big = []
        for i in range(40000):
            # long organisation names: the data section outgrows 2^24 bytes, so
            # the last records need the high nibble of 28-bit records
            big.append({"network": "2001:db8:%x:%x::/64" % (i >> 8, i & 0xff), "asn": 70000 + i,
                        "org": "Organisation %d " % i + "x" * 420})
        src = os.path.join(tmp, "big.json")
        with open(src, "w") as f:
            json.dump(big, f)
        for bits in (24, 28, 32):
            bigdb = os.path.join(tmp, "big%d.mmdb" % bits)
            r = subprocess.run([sys.executable, WRITER, "--kind", "asn", "--record-size",
                                str(bits), src, bigdb], capture_output=True, text=True)
            if bits == 24:
                ok(r.returncode != 0 and "too large" in r.stderr,
                   "17 MB of data do not fit 24-bit records", r.stderr)
                continue
            ok(r.returncode == 0, "40,000 IPv6 networks written, %d-bit records" % bits,
               r.stderr)
            meta = subprocess.run(["mmdblookup", "--file", bigdb, "--ip", "2001:db8:9c:3f::1",
                                   "--verbose"], capture_output=True, text=True).stdout
            ok("Record size:   %d bits" % bits in meta and str(70000 + 0x9c3f) in meta and
               "Organisation 39999 " in meta, "%d-bit records read back" % bits, meta[:600])
            out = lookup(bigdb, "2001:db8:0:5::1")
            ok("70005" in out and "Organisation 5 " in out, "%d-bit records: an early record"
               % bits, out[:300])
            out = lookup(bigdb, "198.51.100.1")
            ok("Could not find an entry" in out, "%d-bit records: no IPv4 data" % bits, out)
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('[{"network": "not-an-address", "asn": 1}]')
        r = subprocess.run([sys.executable, WRITER, "--kind", "asn", bad,
                            os.path.join(tmp, "x.mmdb")], capture_output=True, text=True)
        ok(r.returncode != 0 and "bad.json" in r.stderr, "bad network refused, file named",
           r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
