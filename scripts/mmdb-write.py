#!/usr/bin/env python3
"""mmdb-write.py - write a MaxMind DB (format 2.0) from a JSON list of networks.

    python3 scripts/mmdb-write.py --kind asn|country [--record-size 24|28|32] NETWORKS.json OUT.mmdb

NETWORKS.json is a list of objects:

    [{"network": "198.51.100.0/24", "asn": 64501, "org": "Example Carrier",
      "country": "DE"}, ...]

--kind asn writes records {autonomous_system_number, autonomous_system_organization}
(the layout of GeoLite2-ASN); --kind country writes {country: {iso_code},
registered_country: {iso_code}} (the layout of GeoLite2-Country). An entry may
give "registered_country" apart from "country" (or only it). Entries without
the kind's fields are skipped.

The file is an IPv6 database (ip_version 6): IPv4 networks are stored under
::/96 as the specification says, and ::ffff:0:0/96 leads to the same subtree
so that IPv4-mapped addresses find them too. Nested networks are allowed: the
most specific one wins. Only the Python standard library is used; the output
is byte-identical for the same input (build_epoch comes from
SOURCE_DATE_EPOCH, else 2025-01-01). kenchi uses it for its tests and its evaluation
data; `mmdblookup --file OUT.mmdb --ip ADDR` reads the result.
"""
import argparse
import ipaddress
import json
import os
import struct
import sys

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"

# ---- data section encoding ----------------------------------------------

T_POINTER, T_STRING, T_DOUBLE, T_BYTES, T_UINT16, T_UINT32, T_MAP = 1, 2, 3, 4, 5, 6, 7
T_INT32, T_UINT64, T_UINT128, T_ARRAY, T_BOOL = 8, 9, 10, 11, 14


def control(type_, size):
    """The control byte(s) of a field: type in the top three bits (extended
    types: 0 there and type - 7 in the next byte), then the size."""
    if size < 29:
        first, extra = size, b""
    elif size < 29 + 256:
        first, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        first, extra = 30, struct.pack(">H", size - 285)
    elif size < 65821 + (1 << 24):
        first, extra = 31, struct.pack(">I", size - 65821)[1:]
    else:
        raise ValueError("field too large")
    if type_ <= 7:
        return bytes([(type_ << 5) | first]) + extra
    return bytes([first, type_ - 7]) + extra


def enc_uint(type_, v, nbytes):
    if v < 0 or v >= 1 << (8 * nbytes):
        raise ValueError("integer %d does not fit in %d bytes" % (v, nbytes))
    raw = v.to_bytes(nbytes, "big").lstrip(b"\0")
    return control(type_, len(raw)) + raw


def enc_string(s):
    b = s.encode("utf-8")
    return control(T_STRING, len(b)) + b


class U16(int):
    pass


class U32(int):
    pass


class U64(int):
    pass


def encode(v):
    """Encode a Python value: str, U16/U32/U64 (or a plain int: uint32 when it
    fits, else uint64), bool, float (double), dict (map), list (array)."""
    if isinstance(v, bool):
        return control(T_BOOL, 1 if v else 0)
    if isinstance(v, U16):
        return enc_uint(T_UINT16, v, 2)
    if isinstance(v, U64):
        return enc_uint(T_UINT64, v, 8)
    if isinstance(v, int):
        return enc_uint(T_UINT32, v, 4) if 0 <= v < 1 << 32 else enc_uint(T_UINT64, v, 8)
    if isinstance(v, float):
        return control(T_DOUBLE, 8) + struct.pack(">d", v)
    if isinstance(v, str):
        return enc_string(v)
    if isinstance(v, dict):
        out = control(T_MAP, len(v))
        for k in sorted(v):
            out += enc_string(k) + encode(v[k])
        return out
    if isinstance(v, list):
        return control(T_ARRAY, len(v)) + b"".join(encode(x) for x in v)
    raise TypeError("cannot encode %r" % (v,))


# ---- search tree ----------------------------------------------------------


class Node:
    __slots__ = ("kids", "num")

    def __init__(self, left=None, right=None):
        # a kid is None (no data), a Node, or ("data", offset)
        self.kids = [left, right]
        self.num = -1


def bits_of(net):
    """The 128-bit key and prefix length of a network (IPv4 under ::/96)."""
    if net.version == 4:
        return int(net.network_address), net.prefixlen + 96
    return int(net.network_address), net.prefixlen


def insert(root, key, plen, leaf):
    node = root
    for depth in range(plen):
        bit = (key >> (127 - depth)) & 1
        if depth == plen - 1:
            node.kids[bit] = leaf
            return
        kid = node.kids[bit]
        if not isinstance(kid, Node):
            # a shorter network (or nothing) covers this one: split it
            kid = Node(kid, kid)
            node.kids[bit] = kid
        node = kid
    raise ValueError("a /0 network cannot be stored")


def alias_ipv4_mapped(root):
    """Make ::ffff:0:0/96 lead where ::/96 leads (the IPv4 subtree)."""
    node, target = root, None
    for depth in range(96):
        kid = node.kids[0]
        if not isinstance(kid, Node):
            target = kid
            break
        node = kid
    else:
        target = node
    if target is None or not isinstance(target, Node):
        # ::/96 is a leaf or empty: an alias would add nothing useful
        return
    key = 0xFFFF << 32
    node = root
    for depth in range(96):
        bit = (key >> (127 - depth)) & 1
        if depth == 95:
            node.kids[bit] = target
            return
        kid = node.kids[bit]
        if not isinstance(kid, Node):
            kid = Node(kid, kid)
            node.kids[bit] = kid
        node = kid


def number_nodes(root):
    """Number the nodes breadth-first from the root (0); returns them."""
    order, queue = [], [root]
    root.num = 0
    order.append(root)
    i = 0
    while i < len(queue):
        n = queue[i]
        i += 1
        for kid in n.kids:
            if isinstance(kid, Node) and kid.num < 0:
                kid.num = len(order)
                order.append(kid)
                queue.append(kid)
    return order


def write_tree(nodes, record_size):
    count = len(nodes)

    def rec(kid):
        if kid is None:
            return count
        if isinstance(kid, Node):
            return kid.num
        return count + 16 + kid[1]

    out = bytearray()
    for n in nodes:
        left, right = rec(n.kids[0]), rec(n.kids[1])
        if record_size == 24:
            out += left.to_bytes(3, "big") + right.to_bytes(3, "big")
        elif record_size == 28:
            mid = ((left >> 24) & 0x0F) << 4 | ((right >> 24) & 0x0F)
            out += (left & 0xFFFFFF).to_bytes(3, "big") + bytes([mid]) + \
                (right & 0xFFFFFF).to_bytes(3, "big")
        else:
            out += left.to_bytes(4, "big") + right.to_bytes(4, "big")
    return bytes(out)


# ---- records ----------------------------------------------------------------


def record_for(kind, e):
    if kind == "asn":
        if "asn" not in e:
            return None
        r = {"autonomous_system_number": int(e["asn"])}
        if e.get("org"):
            r["autonomous_system_organization"] = str(e["org"])
        return r
    country = e.get("country")
    registered = e.get("registered_country", country)
    if not country and not registered:
        return None
    r = {}
    if country:
        r["country"] = {"iso_code": str(country)}
    if registered:
        r["registered_country"] = {"iso_code": str(registered)}
    return r


def build(kind, entries, record_size=None):
    data = bytearray()
    offsets = {}
    leaves = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "network" not in e:
            raise ValueError("entry %d: no \"network\"" % i)
        net = ipaddress.ip_network(str(e["network"]), strict=False)
        r = record_for(kind, e)
        if r is None:
            continue
        blob = encode(r)
        off = offsets.get(blob)
        if off is None:
            off = offsets[blob] = len(data)
            data += blob
        key, plen = bits_of(net)
        leaves.append((plen, key, off))
    root = Node()
    # shorter prefixes first, so that more specific networks override them
    for plen, key, off in sorted(leaves):
        insert(root, key, plen, ("data", off))
    alias_ipv4_mapped(root)
    nodes = number_nodes(root)
    count = len(nodes)
    sizes = (record_size,) if record_size else (24, 28, 32)
    for record_size in sizes:
        if count + 16 + len(data) < 1 << record_size:
            break
    else:
        raise ValueError("database too large for %d-bit records" % record_size)
    # libmaxminddb refuses a build_epoch of 0
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or 1735689600
    meta = {
        "node_count": U32(count),
        "record_size": U16(record_size),
        "ip_version": U16(6),
        "database_type": "Kenchi-Test-ASN" if kind == "asn" else "Kenchi-Test-Country",
        "languages": ["en"],
        "binary_format_major_version": U16(2),
        "binary_format_minor_version": U16(0),
        "build_epoch": U64(epoch),
        "description": {"en": "kenchi test database (%s)" % kind},
    }
    return (write_tree(nodes, record_size) + b"\0" * 16 + bytes(data) + METADATA_MARKER +
            encode(meta))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", choices=("asn", "country"), required=True)
    ap.add_argument("--record-size", type=int, choices=(24, 28, 32),
                    help="tree record size in bits (default: the smallest that fits)")
    ap.add_argument("networks")
    ap.add_argument("out")
    a = ap.parse_args(argv)
    try:
        with open(a.networks, encoding="utf-8") as f:
            entries = json.load(f)
        if not isinstance(entries, list):
            raise ValueError("the networks file must hold a JSON list")
        db = build(a.kind, entries, a.record_size)
    except (OSError, ValueError, TypeError) as e:
        print("mmdb-write: %s: %s" % (a.networks, e), file=sys.stderr)
        return 1
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(db)
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
