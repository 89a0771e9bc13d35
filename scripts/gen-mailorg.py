#!/usr/bin/env python3
"""gen-mailorg.py - an organisation's mail and Microsoft 365 traffic over
weeks, with normal-life surprises and injected intrusions, for evaluating
kenchi's per-entity baselines (docs/baselines-eval.md).

    scripts/gen-mailorg.py OUTDIR [--mailboxes N] [--days D] [--seed S]
                                  [--start YYYY-MM-DD]

writes into OUTDIR:
  mail.log        Postfix (gateway mx1, submission server submit1) and Dovecot
                  (imap1) syslog lines with RFC 3339 time stamps, in time order
  m365.json       Office 365 Management Activity records, one per line
  zeek/conn.log, zeek/dns.log
                  Zeek TSV logs of the servers' traffic (the gateway's inbound
                  and outbound SMTP, DNS lookups, NTP, update checks)
  truth.json      the organisation, the injected intrusions (start, entities)
                  and the normal-life cases (start, end, entities)
  networks.json   every network used, with an ASN, its owner and a country
                  (input of scripts/mmdb-write.py)
  asn.mmdb, country.mmdb
                  MaxMind-format databases of those networks (scripts/mmdb-write.py)
  kenchi.yml      a configuration with the organisation's `baselines:` section

The organisation: domains example.org and example-group.test, an MX gateway
(mx1), a submission server (submit1), an IMAP server (imap1), a resolver,
servers in 10.1.0.0/16, office clients in 10.2.0.0/16, the office's public
192.0.2.0/24. About half of the mailboxes are on imap1, the others in
Exchange Online (hybrid); everybody signs in to Microsoft 365. People work in
their own time zone (a few abroad), on weekdays, with a laptop (office or
home) and a phone (carrier network); some send and read much more than
others; some take days off.

Only documentation and benchmarking addresses (RFC 5737, RFC 2544) and
reserved names (example.org, .test, example.net) appear. Everything comes
from one random.Random(seed): the same options give the same bytes. Memory
is bounded by one day of events: days are generated and written in turn.
"""

import argparse
import base64
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys

DOMAIN = "example.org"
DOMAIN2 = "example-group.test"
ORG_ID = "6c1f3a2e-9b47-4d85-a0e3-5f8c2b71d964"
ORG_NAME = "exampleorg.onmicrosoft.com"

MX1 = {"name": "mx1", "fqdn": "mx1.example.org", "ip": "10.1.0.10", "public": "192.0.2.25"}
SUBMIT1 = {"name": "submit1", "fqdn": "submit1.example.org", "ip": "10.1.0.11",
           "public": "192.0.2.26"}
IMAP1 = {"name": "imap1", "fqdn": "imap1.example.org", "ip": "10.1.0.20", "public": "192.0.2.27"}
RESOLVER = "10.1.0.53"
OFFICE_NAT = ("192.0.2.10", "192.0.2.11")
CLOUD_MX = ("example-org.mail.cloudmail.test", ("198.19.200.10", "198.19.200.11"))
NTP_IPS = ("198.19.211.10", "198.19.211.11")  # configured by address: no DNS
INTERNAL_NETWORKS = ["10.1.0.0/16", "10.2.0.0/16", "192.0.2.0/24"]

# Microsoft first-party application ids (public identifiers).
APP_OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"   # Microsoft Office / Outlook
APP_OUTLOOK_MOBILE = "27922004-5251-4030-b22d-91ecd9a37ea4"
APP_TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
APP_OWA = "00000002-0000-0ff1-ce00-000000000000"        # Exchange Online
APP_EXO_ADMIN = "fb78d390-0c51-40cd-8e17-fdbfab77341b"  # Exchange admin (PowerShell)

# Networks: (cidr, asn, owner, country, role).
NETWORKS = [
    ("192.0.2.0/24", 64496, "Example Org (office fibre)", "DE", "office"),
    ("198.18.0.0/20", 64497, "Telekabel Home", "DE", "home-de"),
    ("198.18.16.0/20", 64498, "Stadtnetz Broadband", "DE", "home-de"),
    ("198.18.32.0/21", 64499, "Britannia Broadband", "GB", "home-gb"),
    ("198.18.40.0/21", 64500, "Hudson Cable", "US", "home-us"),
    ("198.18.48.0/21", 64501, "Lion City Fibre", "SG", "home-sg"),
    ("198.18.64.0/19", 64502, "Example Carrier Mobile", "DE", "mobile-de"),
    ("198.18.96.0/20", 64503, "Funk Mobile", "DE", "mobile-de"),
    ("198.18.112.0/21", 64504, "Albion Mobile", "GB", "mobile-gb"),
    ("198.18.120.0/21", 64505, "Liberty Wireless", "US", "mobile-us"),
    ("198.18.128.0/21", 64506, "Merlion Mobile", "SG", "mobile-sg"),
    ("198.18.136.0/22", 64507, "Shinjuku Hotel Networks", "JP", "travel"),
    ("198.18.140.0/22", 64508, "Sakura Roaming", "JP", "travel-mobile"),
    ("198.18.148.0/22", 64509, "Dritte Mobilfunk", "DE", "newcarrier"),
    ("198.18.160.0/19", 64510, "Generic Hosting", "NL", "scanners"),
    ("198.51.100.0/24", 65001, "Partner Mail Hosting", "DE", "extmail"),
    ("198.19.0.0/17", 65002, "Global Mail Services", "US", "extmail"),
    ("198.19.200.0/24", 65003, "Cloudmail Service", "IE", "cloud"),
    ("198.19.210.0/24", 65004, "Mirror Network", "NL", "mirrors"),
    ("198.19.211.0/24", 65005, "Public Time Service", "DE", "ntp"),
    ("203.0.113.0/26", 65010, "Anonymous VPS Hosting", "RU", "attack-spray"),
    ("203.0.113.64/26", 65011, "Residential Proxy Net", "BR", "attack-ato"),
    ("203.0.113.128/27", 65012, "Budget Cloud", "NG", "attack-m365"),
    ("203.0.113.160/27", 65013, "Offshore Hosting", "SC", "attack-c2"),
    ("203.0.113.192/26", 65014, "Drop Mail Host", "PA", "attack-mail"),
]

FIRST = ("anna ben carla david eva felix greta hanna ivan julia karl lena max nina oskar "
         "paula quentin rosa simon tina uwe vera walter xenia yusuf zoe adam bea chris "
         "dora emil fiona georg helen igor jana kai lara mia noah olga peter ruth sven "
         "theo ute viktor wanda alex birgit cem dana elif frank gina hugo ines jonas").split()
LAST = ("keller hoffmann meyer brandt schulz wagner koch richter petrov wolf neumann "
        "schwarz zimmermann braun krueger hartmann lange schmitt werner krause lehmann "
        "koehler maier frank demir albrecht berger fischer weber becker schaefer bauer "
        "klein schroeder vogel jung hahn schubert winkler lorenz baumann kaiser fuchs "
        "scholz roth peters sommer graf").split()
WORDS = ("northwind harbor alder birch cedar delta ember falcon granite heron iris juniper "
         "kestrel lumen maple nimbus orchid pioneer quartz raven sierra tundra umber vertex "
         "willow xenon yarrow zephyr atlas beacon cobalt dune echo fjord glacier horizon "
         "indigo jasper kite lagoon meadow nova onyx prairie quill ridge summit timber "
         "unity valley wharf yonder zenith acorn bramble canyon drift estuary fern grove "
         "hollow inlet jetty knoll ledge marsh nook oasis pebble quarry reef shoal thicket").split()
KINDS = ("supply", "logistics", "consulting", "bank", "law", "tax", "print", "energy",
         "travel", "insurance", "labs", "media", "systems", "trade", "foods", "health")

UA_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/134.0.0.0 Safari/537.36 Edg/134.0.0.0")
UA_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
          "Gecko) Version/18.3 Safari/605.1.15")
UA_OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18526; Pro)"
UA_IOS = "Outlook-iOS/2.0 (iPhone15,2; iOS 18.3.1) Mobile/1234"
UA_ANDROID = "Outlook-Android/2.0 (Pixel 8; Android 15) okhttp/4.12.0"
UA_ANDROID_NEW = "Outlook-Android/2.0 (SM-S928B; Android 15) okhttp/4.12.0"
UA_LAPTOPS = (UA_WIN, UA_WIN, UA_WIN, UA_MAC)
UA_PHONES = (UA_IOS, UA_IOS, UA_ANDROID)

CONN_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration "
               "orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history "
               "orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents")
CONN_TYPES = ("time string addr port addr port enum string interval count count string bool "
              "bool count string count count count count set[string]")
DNS_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass "
              "qclass_name qtype qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected")
DNS_TYPES = ("time string addr port addr port enum count interval string count string count "
             "string count string bool bool bool bool count vector[string] vector[interval] "
             "bool")
B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def iso(t):
    """RFC 3339 UTC, whole seconds (truth and networks files)."""
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """Fast time stamp formatting: the date part is cached per day."""

    def __init__(self):
        self.day = None
        self.prefix = ""

    def _date(self, t):
        d = int(t // 86400)
        if d != self.day:
            self.day = d
            self.prefix = dt.datetime.fromtimestamp(d * 86400, dt.timezone.utc).strftime(
                "%Y-%m-%dT")
        return int(t - d * 86400)

    def syslog(self, t):
        s = self._date(t)
        us = int((t - math.floor(t)) * 1e6)
        return "%s%02d:%02d:%02d.%06d+00:00" % (self.prefix, s // 3600, s // 60 % 60, s % 60, us)

    def m365(self, t):
        s = self._date(t)
        return "%s%02d:%02d:%02d" % (self.prefix, s // 3600, s // 60 % 60, s % 60)


class Sink:
    """Events of one output file, written in time order as days complete."""

    def __init__(self, path, header=""):
        self.f = open(path, "w", encoding="utf-8", newline="\n")
        self.f.write(header)
        self.pending = []
        self.seq = 0
        self.count = 0
        self.first = float("inf")

    def add(self, t, text):
        if t < self.first:
            self.first = t
        self.seq += 1
        self.pending.append((t, self.seq, text))

    def flush(self, cutoff):
        self.pending.sort()
        i = 0
        n = len(self.pending)
        while i < n and self.pending[i][0] < cutoff:
            i += 1
        if i:
            self.f.write("".join(e[2] for e in self.pending[:i]))
            self.count += i
            del self.pending[:i]

    def close(self, footer=""):
        self.flush(float("inf"))
        self.f.write(footer)
        self.f.close()


class Person:
    pass


class Net:
    def __init__(self, cidr, asn, owner, country, role):
        self.cidr, self.asn, self.owner, self.country, self.role = cidr, asn, owner, country, role
        base, bits = cidr.split("/")
        a, b, c, d = (int(x) for x in base.split("."))
        self.base = (a << 24) | (b << 16) | (c << 8) | d
        self.size = 1 << (32 - int(bits))

    def addr(self, i):
        v = self.base + 1 + i % (self.size - 2)
        return "%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255)


class Org:
    def __init__(self, a):
        self.a = a
        self.r = random.Random(a.seed)
        r = self.r
        self.clock = Clock()
        self.t0 = dt.datetime.strptime(a.start, "%Y-%m-%d").replace(
            tzinfo=dt.timezone.utc).timestamp()
        self.nets = {}
        for n in NETWORKS:
            self.nets.setdefault(n[4], []).append(Net(*n))
        self.pid = {"mx1": 2000, "submit1": 3000, "imap1": 4000}
        self.qmgr_pid = {"mx1": 1187, "submit1": 1203}
        self.dns_cache = {}
        self.truth_intrusions = []
        self.truth_normal = []
        self.ext_domains = []
        self.make_domains()
        self.make_people()

    # ---- identifiers ---------------------------------------------------
    def guid(self):
        v = self.r.getrandbits(128)
        h = "%032x" % v
        return "%s-%s-4%s-%x%s-%s" % (h[:8], h[8:12], h[13:16], 8 + (v >> 60 & 3), h[17:20],
                                       h[20:32])

    def qid(self):
        return "%010X" % self.r.getrandbits(40)

    def sess(self):
        return base64.b64encode(self.r.getrandbits(96).to_bytes(12, "big"), b"+/").decode()

    def zuid(self):
        g = self.r.getrandbits
        return "C" + "".join(B62[g(6) % 62] for _ in range(17))

    def next_pid(self, host):
        self.pid[host] += 1 + self.r.randrange(3)
        if self.pid[host] > 60000:
            self.pid[host] = 2000
        return self.pid[host]

    def msgid(self, t, host):
        return "%x.%s@%s" % (int(t * 1000), "%08x" % self.r.getrandbits(32), host)

    # ---- the organisation ------------------------------------------------
    def make_domains(self):
        r = self.r
        n = max(40, min(400, self.a.mailboxes // 3))
        mailnets = self.nets["extmail"]
        seen = set()
        i = 0
        while len(self.ext_domains) < n:
            w = WORDS[r.randrange(len(WORDS))]
            k = KINDS[r.randrange(len(KINDS))]
            tld = ("example.net", "test", "example.com")[r.randrange(3)]
            dom = "%s-%s.%s" % (w, k, tld)
            if dom in seen:
                continue
            seen.add(dom)
            net = mailnets[0] if i < 200 else mailnets[1]
            ip = net.addr(i * 1 if i < 200 else (i - 200) * 7 + 3)
            self.ext_domains.append((dom, "mx.%s" % dom, ip))
            i += 1
        # Zipf-like popularity.
        self.ext_weights = [1.0 / (k + 1) ** 0.9 for k in range(n)]
        self.cum = []
        s = 0.0
        for w in self.ext_weights:
            s += w
            self.cum.append(s)
        # Consumer mailbox providers: newsletter subscribers.
        self.consumer = [("mail%d.example.net" % k, "mx.mail%d.example.net" % k,
                          mailnets[1].addr(20000 + k * 11)) for k in range(8)]
        # Mailing lists writing to the organisation (bulk mail).
        self.lists = [("news.%s" % d[0], "out.news.%s" % d[0], mailnets[1].addr(25000 + k * 13))
                      for k, d in enumerate(self.ext_domains[:6])]
        self.ext_by_name = {d[0]: d for d in self.ext_domains + self.consumer + self.lists}

    def tail_domain(self):
        """A one-off correspondent: one of many domains written to rarely."""
        k = self.r.randrange(20000)
        name = "%s%d-%s.example.com" % (WORDS[k % len(WORDS)], k, KINDS[k % len(KINDS)])
        d = self.ext_by_name.get(name)
        if d is None:
            d = (name, "mail.%s" % name, self.nets["extmail"][1].addr(30000 + k * 3))
            self.ext_by_name[name] = d
        return d

    def pick_domain(self):
        if self.r.random() < 0.06:
            return self.tail_domain()
        x = self.r.random() * self.cum[-1]
        lo, hi = 0, len(self.cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.ext_domains[lo]

    def make_people(self):
        r = self.r
        n = self.a.mailboxes
        names = []
        used = set()
        k = 0
        while len(names) < n - 6:
            f = FIRST[r.randrange(len(FIRST))]
            l = LAST[r.randrange(len(LAST))]
            nm = "%s.%s" % (f, l)
            if nm in used:
                k += 1
                nm = "%s.%s%d" % (f, l, k)
            used.add(nm)
            names.append(nm)
        functional = ["info", "office", "support", "accounting", "marketing", "it.admin"]
        self.people = []
        homes_de = self.nets["home-de"]
        tz_home = {0: ("home-de", "mobile-de", 1), 1: ("home-gb", "mobile-gb", 0),
                   2: ("home-us", "mobile-us", -5), 3: ("home-sg", "mobile-sg", 8)}
        for i, nm in enumerate(names + functional):
            p = Person()
            p.i = i
            p.local = nm
            p.addr = "%s@%s" % (nm, DOMAIN)
            p.functional = nm in functional
            zone = 0
            x = r.random()
            if not p.functional and x < 0.06:
                zone = 1 + r.randrange(3)
            p.home_role, p.mob_role, p.tz = tz_home[zone]
            p.remote = zone != 0 or r.random() < 0.12
            p.exec = i < max(4, n // 40)
            p.m365 = p.exec or (r.random() < 0.45 and not p.functional)
            p.vol = min(6.0, max(0.1, r.lognormvariate(0.0, 0.75)))
            if p.functional:
                p.vol = 0.6
            p.start_h = r.gauss(8.3, 0.8)
            p.len_h = r.gauss(8.6, 0.6)
            p.parttime = r.random() < 0.1
            p.office_p = 0.0 if p.remote else r.uniform(0.4, 0.9)
            homes = self.nets[p.home_role]
            hn = homes[r.randrange(len(homes))] if p.home_role != "home-de" else \
                homes_de[r.randrange(len(homes_de))]
            p.home_net, p.home_slot = hn, r.randrange(hn.size)
            p.dynamic = r.random() < 0.3   # the ISP changes the address every day
            mobs = self.nets[p.mob_role]
            p.carrier = mobs[r.randrange(len(mobs))]
            p.carrier_slot = r.randrange(1 << 20)
            p.office_ip = "10.2.%d.%d" % (1 + i // 250, 1 + i % 250)
            p.laptop_ua = UA_LAPTOPS[r.randrange(len(UA_LAPTOPS))]
            p.phone_ua = UA_PHONES[r.randrange(len(UA_PHONES))]
            p.has_phone = not p.functional and r.random() < 0.9
            p.pop3 = not p.m365 and not p.functional and r.random() < 0.05
            nd = 2 + r.randrange(8)
            p.partners = [self.pick_domain() for _ in range(nd)]
            p.guid = self.guid()
            p.sid = "S-1-5-21-2961574823-1746204153-3382647951-%d" % (11000 + i)
            p.userkey = "1003%012X" % r.getrandbits(48)
            p.daysoff = set()
            if not p.functional and r.random() < 0.35:   # a week of holiday
                d0 = r.randrange(max(1, self.a.days - 5))
                p.daysoff.update(range(d0, d0 + 5 + r.randrange(3)))
            p.typical_out = 0.0
            p.daily_out = []
            p.overrides = {}   # day -> dict (travel, resync, ...)
            p.newphone_day = None
            p.resync_day = None
            self.people.append(p)
        self.by_addr = {p.addr: p for p in self.people}
        self.regular = [p for p in self.people if not p.functional and not p.exec]
        self.onprem_regular = [p for p in self.regular if not p.m365 and not p.pop3]
        self.m365_regular = [p for p in self.regular if p.m365]
        self.execs = [p for p in self.people if p.exec]
        self.admin = self.people[-1]
        self.admin.m365 = True
        self.marketing = [p for p in self.people if p.local == "marketing"][0]
        self.marketing.m365 = False
        # Aliases: external mail to them reaches a few people (orig_to).
        pick = self.regular
        self.aliases = {}
        for alias in ("sales@" + DOMAIN, "jobs@" + DOMAIN, "info@" + DOMAIN2,
                      "press@" + DOMAIN2):
            self.aliases[alias] = [pick[r.randrange(len(pick))] for _ in range(2 + r.randrange(2))]
        # People each person writes to inside the organisation.
        for p in self.people:
            p.colleagues = [self.people[r.randrange(len(self.people))] for _ in range(6)]

    # ---- time helpers ------------------------------------------------------
    def day_t(self, d):
        return self.t0 + d * 86400

    def local_t(self, d, p, hour):
        """UTC time of local hour `hour` (float) on day d for person p."""
        return self.day_t(d) + (hour - p.tz) * 3600

    # ---- locations ---------------------------------------------------------
    def home_ip(self, p, d):
        if p.dynamic:
            return p.home_net.addr(p.home_slot + d * 7919)
        return p.home_net.addr(p.home_slot)

    def where(self, p, d, t, device):
        """(imap client address, public address, user agent) of p's device."""
        ov = p.overrides.get(d, {})
        r = self.r
        if device == "phone":
            ua = p.phone_ua
            carrier, slot = p.carrier, p.carrier_slot
            if p.newphone_day is not None and d >= p.newphone_day:
                ua = UA_ANDROID_NEW
                carrier, slot = self.nets["newcarrier"][0], p.carrier_slot + 77
            if "travel" in ov:
                if r.random() < 0.5:
                    ip = ov["travel_hotel"]
                else:
                    ip = ov["travel_roam"].addr(slot + r.randrange(6))
                return ip, ip, ua
            if r.random() < 0.25:
                ip = self.home_ip(p, d)
                return ip, ip, ua
            ip = carrier.addr(slot + r.randrange(12) * 256 + r.randrange(3))
            return ip, ip, ua
        ua = p.laptop_ua
        if "travel" in ov:
            return ov["travel_hotel"], ov["travel_hotel"], ua
        if ov.get("office"):
            lip = p.office_ip
            if p.resync_day is not None and d >= p.resync_day:
                lip = "10.2.250.%d" % (1 + p.i % 250)
            return lip, OFFICE_NAT[p.i % 2], ua
        ip = self.home_ip(p, d)
        return ip, ip, ua

    # ---- Postfix / Dovecot -------------------------------------------------
    def syslog(self, t, host, prog, msg):
        self.mail.add(t, "%s %s %s: %s\n" % (self.clock.syslog(t), host, prog, msg))

    def delays(self, t0, t1):
        a = round(self.r.uniform(0.02, 0.3), 2)
        b = round(self.r.uniform(0, 0.02), 2)
        c = round(self.r.uniform(0, 0.2), 2)
        d = round(max(0.01, t1 - t0 - a - b - c), 2)
        return "delay=%.2g, delays=%s/%s/%s/%s" % (a + b + c + d, a, b, c, d)

    def imap_session(self, t, p, rip, out_bytes, proto="imap", dur=None):
        r = self.r
        s = self.sess()
        mpid = self.next_pid("imap1")
        self.syslog(t, "imap1", "dovecot[881]",
                    "%s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=%s, mpid=%d, TLS, "
                    "session=<%s>" % (proto, p.addr, rip, IMAP1["ip"], mpid, s))
        if dur is None:
            dur = r.uniform(2, 900)
        if proto == "pop3":
            n = max(0, int(out_bytes // 40000))
            self.syslog(t + dur, "imap1", "dovecot[881]",
                        "pop3(%s)<%d><%s>: Disconnected: Logged out top=0/0, retr=%d/%d, "
                        "del=%d/%d, size=%d" % (p.addr, mpid, s, n, out_bytes, n, n, out_bytes))
            return
        body = max(0, out_bytes - 4000)
        bc = max(0, int(body // 35000))
        hc = 2 + r.randrange(20)
        self.syslog(t + dur, "imap1", "dovecot[881]",
                    "imap(%s)<%d><%s>: Logged out in=%d out=%d deleted=0 expunged=%d trashed=%d "
                    "hdr_count=%d hdr_bytes=%d body_count=%d body_bytes=%d" %
                    (p.addr, mpid, s, 300 + r.randrange(3000), out_bytes, r.randrange(3),
                     r.randrange(2), hc, hc * 610, bc, body))

    def imap_fail(self, t, user, ip, proto="imap", known=True):
        s = self.sess()
        self.syslog(t, "imap1", "dovecot[881]", "auth: passwd-file(%s,%s,<%s>): %s" %
                    (user, ip, s, "Password mismatch" if known else "unknown user"))
        self.syslog(t + 2.1, "imap1", "dovecot[881]",
                    "%s-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, "
                    "method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>" %
                    (proto, user, ip, IMAP1["ip"], s))

    def sasl_fail(self, t, user, ip):
        pid = self.next_pid("submit1")
        prog = "postfix/submission/smtpd[%d]" % pid
        self.syslog(t, "submit1", prog, "connect from unknown[%s]" % ip)
        self.syslog(t + 1.3, "submit1", prog,
                    "warning: unknown[%s]: SASL PLAIN authentication failed: (reason unavailable)"
                    ", sasl_username=%s" % (ip, user))
        self.syslog(t + 1.4, "submit1", prog,
                    "disconnect from unknown[%s] ehlo=1 auth=0/1 quit=1 commands=2/3" % ip)

    def lmtp_deliver(self, t, host, q, rcpt, msgid, orig=None):
        r = self.r
        s = self.sess()
        lpid = self.next_pid("imap1")
        self.syslog(t + 0.05, "imap1", "dovecot[881]",
                    "lmtp(%s)<%d><%s>: msgid=<%s>: saved mail to INBOX" % (rcpt, lpid, s, msgid))
        o = ", orig_to=<%s>" % orig if orig else ""
        self.syslog(t + 0.08, host, "postfix/lmtp[%d]" % self.next_pid(host),
                    "%s: to=<%s>%s, relay=imap1.example.org[%s]:24, %s, dsn=2.0.0, status=sent "
                    "(250 2.0.0 <%s> %s Saved)" % (q, rcpt, o, IMAP1["ip"],
                                                   self.delays(t - 0.5, t + 0.08 + r.random()),
                                                   rcpt, s))

    def smtp_out(self, t, host, q, rcpts, relay_name, relay_ip, size, queued_as=None):
        """Delivery lines of one SMTP transaction; returns the end time."""
        r = self.r
        pid = self.next_pid(host)
        te = t + r.uniform(0.2, 1.5) + size / 2e6
        q2 = queued_as or self.qid()
        for rc in rcpts:
            self.syslog(te, host, "postfix/smtp[%d]" % pid,
                        "%s: to=<%s>, relay=%s[%s]:25, %s, dsn=2.0.0, status=sent (250 2.0.0 Ok: "
                        "queued as %s)" % (q, rc, relay_name, relay_ip, self.delays(t - 0.5, te),
                                           q2))
        return te

    def resolve(self, host_ip, t, name, qtype, answers, ttl):
        """A lookup by a server through the resolver (cached on the server
        for `ttl`): the dns.log line and the UDP flow, when not cached."""
        key = (host_ip, name, qtype)
        # Days are written story first, routine second, so lookups come out
        # of time order: a cached answer covers only times from its lookup
        # to its expiry, not the hours before it was looked up.
        ent = self.dns_cache.get(key)
        if ent is not None and ent[0] <= t < ent[1]:
            return
        if ent is None or t > ent[0]:
            self.dns_cache[key] = (t, t + ttl)
        r = self.r
        uid = self.zuid()
        port = 32768 + r.randrange(28000)
        rtt = r.uniform(0.0004, 0.03)
        qt = {"A": 1, "MX": 15, "TXT": 16}[qtype]
        self.dns.add(t, "%.6f\t%s\t%s\t%d\t%s\t53\tudp\t%d\t%.6f\t%s\t1\tC_INTERNET\t%d\t%s\t0\t"
                     "NOERROR\tF\tF\tT\tT\t0\t%s\t%s\tF\n" %
                     (t, uid, host_ip, port, RESOLVER, r.randrange(65536), rtt, name, qt, qtype,
                      ",".join("TXT %d %s" % (len(a), a) if qtype == "TXT" else a
                               for a in answers), ",".join("%.6f" % ttl for _ in answers)))
        self.conn(t, host_ip, RESOLVER, 53, "udp", "dns", rtt, 30 + len(name), 60 + 30 *
                  len(answers), uid=uid, port=port)

    def conn(self, t, src, dst, dport, proto, service, dur, ob, rb, uid=None, port=None,
             state="SF"):
        r = self.r
        if uid is None:
            uid = self.zuid()
        if port is None:
            port = 32768 + r.randrange(28000)
        op = 1 + ob // 1400 + (proto == "tcp") * 4
        rp = 1 + rb // 1400 + (proto == "tcp") * 3
        hist = "Dd" if proto == "udp" else "ShADadFf"
        lo = "T" if src.startswith("10.") else "F"
        lr = "T" if dst.startswith("10.") else "F"
        self.zconn.add(t, "%.6f\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%.6f\t%d\t%d\t%s\t%s\t%s\t0\t%s\t%d\t"
                       "%d\t%d\t%d\t-\n" %
                       (t, uid, src, port, dst, dport, proto, service, dur, ob, rb, state, lo, lr,
                        hist, op, ob + op * 40, rp, rb + rp * 40))

    def mx_send_out(self, t, q, ext_rcpts, size):
        """mx1 delivers to external domains: lookups, connection, log line."""
        bydom = {}
        for rc in ext_rcpts:
            bydom.setdefault(rc.split("@", 1)[1], []).append(rc)
        te = t
        for dom, rcs in bydom.items():
            d = self.ext_by_name.get(dom)
            if d is None:
                d = self.odd_domains[dom]
            self.resolve(MX1["ip"], t, dom, "MX", [d[1]], 3600)
            self.resolve(MX1["ip"], t + 0.001, d[1], "A", [d[2]], 3600)
            t1 = self.smtp_out(t + 0.01, "mx1", q, rcs, d[1], d[2], size)
            self.conn(t + 0.01, MX1["ip"], d[2], 25, "tcp", "smtp", t1 - t, size + 900, 700)
            te = max(te, t1)
        return te

    def cloud_relay(self, t, host, q, rcpts, size):
        ip = CLOUD_MX[1][self.r.randrange(2)]
        self.resolve(MX1["ip"], t, CLOUD_MX[0], "A", list(CLOUD_MX[1]), 300)
        t1 = self.smtp_out(t + 0.01, host, q, rcpts, CLOUD_MX[0], ip, size)
        self.conn(t + 0.01, MX1["ip"], ip, 25, "tcp", "smtp", t1 - t, size + 900, 650)
        return t1

    def deliver_internal(self, t, host, q, rcpts, msgid, size, orig=None):
        """Internal recipients: LMTP to imap1 or relay to the cloud."""
        te = t
        cloud = []
        for rc in rcpts:
            pp = self.by_addr.get(rc)
            if pp is not None and pp.m365:
                cloud.append(rc)
            else:
                self.lmtp_deliver(t, host, q, rc, msgid, orig.get(rc) if orig else None)
                te = max(te, t + 0.1)
        if cloud:
            if host == "mx1":
                te = max(te, self.cloud_relay(t, host, q, cloud, size))
            else:
                te = max(te, self.relay_to_mx(t, q, cloud, size))
        return te

    def relay_to_mx(self, t, q, rcpts, size):
        """submit1 hands a message to mx1 (which sends it on)."""
        q2 = self.qid()
        t1 = self.smtp_out(t, "submit1", q, rcpts, MX1["fqdn"], MX1["ip"], size, q2)
        pid = self.next_pid("mx1")
        prog = "postfix/smtpd[%d]" % pid
        self.syslog(t + 0.01, "mx1", prog, "connect from %s[%s]" % (SUBMIT1["fqdn"], SUBMIT1["ip"]))
        self.syslog(t + 0.02, "mx1", prog, "%s: client=%s[%s]" % (q2, SUBMIT1["fqdn"],
                                                                   SUBMIT1["ip"]))
        self.syslog(t + 0.03, "mx1", "postfix/cleanup[%d]" % self.next_pid("mx1"),
                    "%s: message-id=<%s>" % (q2, self.cur_msgid))
        self.syslog(t + 0.04, "mx1", "postfix/qmgr[%d]" % self.qmgr_pid["mx1"],
                    "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" %
                    (q2, self.cur_from, size, len(rcpts)))
        self.syslog(t1 + 0.01, "mx1", prog, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=%d data=1 "
                    "quit=1 commands=%d" % (SUBMIT1["fqdn"], SUBMIT1["ip"], len(rcpts),
                                            4 + len(rcpts)))
        ext = [rc for rc in rcpts if not self.is_internal(rc)]
        intl = [rc for rc in rcpts if self.is_internal(rc)]
        te = t1
        if ext:
            te = max(te, self.mx_send_out(t + 0.05, q2, ext, size))
        if intl:
            te = max(te, self.cloud_relay(t + 0.05, "mx1", q2, intl, size))
        self.syslog(te + 0.01, "mx1", "postfix/qmgr[%d]" % self.qmgr_pid["mx1"], "%s: removed" % q2)
        return t1

    def is_internal(self, addr):
        dom = addr.rsplit("@", 1)[-1]
        return dom == DOMAIN or dom == DOMAIN2

    def submit(self, t, p, ip, rcpts, size=None):
        """p sends a message through submit1 (SASL) from address ip."""
        r = self.r
        if size is None:
            size = int(r.lognormvariate(9.8, 1.0)) + 1500
        pid = self.next_pid("submit1")
        prog = "postfix/submission/smtpd[%d]" % pid
        q = self.qid()
        h = "unknown"
        self.syslog(t, "submit1", prog, "connect from %s[%s]" % (h, ip))
        self.syslog(t + 0.4, "submit1", prog,
                    "%s: client=%s[%s], sasl_method=PLAIN, sasl_username=%s" % (q, h, ip, p.addr))
        mid = self.msgid(t, DOMAIN)
        self.cur_msgid, self.cur_from = mid, p.addr
        self.syslog(t + 0.6, "submit1", "postfix/cleanup[%d]" % self.next_pid("submit1"),
                    "%s: message-id=<%s>" % (q, mid))
        self.syslog(t + 0.65, "submit1", "postfix/qmgr[%d]" % self.qmgr_pid["submit1"],
                    "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (q, p.addr, size,
                                                                        len(rcpts)))
        onprem = [rc for rc in rcpts if self.is_internal(rc) and rc in self.by_addr and
                  not self.by_addr[rc].m365]
        rest = [rc for rc in rcpts if rc not in onprem]
        te = t + 0.7
        for rc in onprem:
            self.lmtp_deliver(t + 0.7, "submit1", q, rc, mid)
            te = t + 0.8
        if rest:
            te = max(te, self.relay_to_mx(t + 0.7, q, rest, size))
        self.syslog(te + 0.01, "submit1", "postfix/qmgr[%d]" % self.qmgr_pid["submit1"],
                    "%s: removed" % q)
        self.syslog(t + 1.0, "submit1", prog,
                    "disconnect from %s[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 "
                    "commands=%d" % (h, ip, len(rcpts), 7 + len(rcpts)))

    def inbound(self, t, sender, dom, rcpts, size=None):
        """A message from the Internet to internal recipients, through mx1."""
        r = self.r
        if size is None:
            size = int(r.lognormvariate(10.0, 1.1)) + 2000
        pid = self.next_pid("mx1")
        prog = "postfix/smtpd[%d]" % pid
        q = self.qid()
        self.conn(t, dom[2], MX1["ip"], 25, "tcp", "smtp", r.uniform(0.5, 3) + size / 4e6,
                  size + 1200, 900)
        self.syslog(t, "mx1", prog, "connect from %s[%s]" % (dom[1], dom[2]))
        self.syslog(t + 0.3, "mx1", prog, "%s: client=%s[%s]" % (q, dom[1], dom[2]))
        mid = self.msgid(t, dom[0])
        self.syslog(t + 0.5, "mx1", "postfix/cleanup[%d]" % self.next_pid("mx1"),
                    "%s: message-id=<%s>" % (q, mid))
        # Aliases expand; orig_to keeps the address written to.
        final = []
        orig = {}
        for rc in rcpts:
            if rc in self.aliases:
                for pp in self.aliases[rc]:
                    if pp.addr not in orig:
                        final.append(pp.addr)
                        orig[pp.addr] = rc
            else:
                final.append(rc)
        self.syslog(t + 0.55, "mx1", "postfix/qmgr[%d]" % self.qmgr_pid["mx1"],
                    "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (q, sender, size,
                                                                        len(final)))
        te = self.deliver_internal(t + 0.6, "mx1", q, final, mid, size, orig)
        self.syslog(te + 0.01, "mx1", "postfix/qmgr[%d]" % self.qmgr_pid["mx1"], "%s: removed" % q)
        self.syslog(t + 0.9, "mx1", prog, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=%d data=1 "
                    "quit=1 commands=%d" % (dom[1], dom[2], len(rcpts), 4 + len(rcpts)))
        return mid

    # ---- Microsoft 365 ---------------------------------------------------
    def rec(self, t, op, rtype, workload, user, extra):
        d = {"CreationTime": self.clock.m365(t), "Id": self.guid(), "Operation": op,
             "OrganizationId": ORG_ID, "RecordType": rtype}
        d.update(extra)
        d.setdefault("UserKey", user.userkey if isinstance(user, Person) else "")
        d["UserType"] = d.get("UserType", 0)
        d["Version"] = 1
        d["Workload"] = workload
        d["UserId"] = user.addr if isinstance(user, Person) else user
        self.m365.add(t, json.dumps(d, separators=(",", ":")) + "\n")

    def signin(self, t, p, ip, ua, app, ok=True, user=None):
        ext = [{"Name": "ResultStatusDetail", "Value": "Success" if ok else "Failure"},
               {"Name": "UserAgent", "Value": ua},
               {"Name": "RequestType", "Value": "OAuth2:Token" if app != APP_OWA else
                "Login:login"}]
        extra = {"ResultStatus": "Success" if ok else "Failed", "ClientIP": ip,
                 "ObjectId": APP_OWA, "AzureActiveDirectoryEventType": 1,
                 "ExtendedProperties": ext, "ModifiedProperties": [], "ActorIpAddress": ip,
                 "ApplicationId": app, "ErrorNumber": "0" if ok else "50126"}
        if not ok:
            extra["LogonError"] = "InvalidUserNameOrPassword"
        self.rec(t, "UserLoggedIn" if ok else "UserLoginFailed", 15, "AzureActiveDirectory",
                 p if user is None else user, extra)

    FOLDERS = ("\\Inbox", "\\Sent Items", "\\Archive", "\\Projects", "\\Drafts")

    def mia(self, t, owner, ip, app, info, access, nfolders=1, nitems=0, accessor=None,
            count=None):
        r = self.r
        folders = []
        for k in range(nfolders):
            f = {"Id": "LgAAAAAB%08X%020d" % (owner.i, k), "Path": self.FOLDERS[k % 5]
                 if k < 5 else "\\Archive\\%d" % (2015 + k)}
            if access == "Bind" and nitems:
                per = max(1, nitems // nfolders)
                f["FolderItems"] = [{"InternetMessageId": "<%08x.%d@%s>" %
                                     (r.getrandbits(32), j, DOMAIN)} for j in range(per)]
            folders.append(f)
        acc = owner if accessor is None else accessor
        extra = {"ResultStatus": "Succeeded", "ClientIP": ip, "AppId": app, "ClientAppId": app,
                 "ClientIPAddress": ip, "ClientInfoString": info, "ExternalAccess": False,
                 "InternalLogonType": 0, "LogonType": 0 if accessor is None else 1,
                 "LogonUserSid": owner.sid if accessor is None else getattr(acc, "sid", ""),
                 "MailboxGuid": owner.guid, "MailboxOwnerSid": owner.sid,
                 "MailboxOwnerUPN": owner.addr,
                 "OperationProperties": [{"Name": "MailAccessType", "Value": access},
                                         {"Name": "IsThrottled", "Value": "False"}],
                 "OrganizationName": ORG_NAME, "OriginatingServer": "AM0PR07MB4321",
                 "OperationCount": count if count is not None else max(1, nitems),
                 "Folders": folders}
        self.rec(t, "MailItemsAccessed", 50, "Exchange", acc, extra)

    def m365_send(self, t, p, ip, app, info):
        r = self.r
        extra = {"ResultStatus": "Succeeded", "ClientIP": ip, "AppId": app, "ClientAppId": app,
                 "ClientIPAddress": ip, "ClientInfoString": info, "ExternalAccess": False,
                 "LogonType": 0, "MailboxGuid": p.guid, "MailboxOwnerSid": p.sid,
                 "MailboxOwnerUPN": p.addr, "OrganizationName": ORG_NAME,
                 "Item": {"Id": "LgAAAAAB%024X" % r.getrandbits(96),
                          "InternetMessageId": "<%s>" % self.msgid(t, "AM0PR07MB4321.prod."
                                                                   "outlook.test"),
                          "ParentFolder": {"Path": "\\Sent Items"},
                          "SizeInBytes": int(r.lognormvariate(9.8, 1.0)) + 1500}}
        self.rec(t, "Send", 2, "Exchange", p, extra)

    def cmdlet(self, t, p, op, params, ip, app=APP_OWA):
        extra = {"ResultStatus": "True", "ClientIP": "%s:%d" % (ip, 49152 + self.r.randrange(
            16000)), "ObjectId": p.addr if isinstance(p, Person) else p, "AppId": app,
            "ClientAppId": "", "ExternalAccess": False, "OrganizationName": ORG_NAME,
            "Parameters": [{"Name": k, "Value": v} for k, v in params],
            "SessionId": self.guid()}
        self.rec(t, op, 1, "Exchange", p, extra)

    def consent(self, t, p, app_id, app_name, admin, scope, ip):
        sp = self.guid()
        extra = {"ResultStatus": "Success", "ObjectId": "ServicePrincipal_" + sp,
                 "AzureActiveDirectoryEventType": 1, "ClientIP": ip,
                 "ExtendedProperties": [{"Name": "additionalDetails", "Value":
                                         "{\"User-Agent\":\"EvoSTS\",\"AppId\":\"%s\"}" % app_id},
                                        {"Name": "extendedAuditEventCategory",
                                         "Value": "ServicePrincipal"}],
                 "ModifiedProperties": [
                     {"Name": "ConsentContext.IsAdminConsent", "NewValue": str(admin),
                      "OldValue": ""},
                     {"Name": "ConsentContext.IsAppOnly", "NewValue": str(admin), "OldValue": ""},
                     {"Name": "ConsentContext.OnBehalfOfAll", "NewValue": str(admin),
                      "OldValue": ""},
                     {"Name": "ConsentAction.Permissions", "NewValue":
                      "[] => [[ClientId: %s, ConsentType: %s, Scope: %s]]; " %
                      (sp, "AllPrincipals" if admin else "Principal", scope), "OldValue": ""},
                     {"Name": "TargetId.ServicePrincipalNames", "NewValue": app_id,
                      "OldValue": ""}],
                 "Target": [{"ID": "ServicePrincipal_" + sp, "Type": 2},
                            {"ID": app_name, "Type": 1}, {"ID": app_id, "Type": 2}]}
        self.rec(t, "Consent to application.", 8, "AzureActiveDirectory", p, extra)
        return sp

    def role_grant(self, t, p, app_id, app_name, sp, role, target_user, ip):
        extra = {"ResultStatus": "Success", "ObjectId": "ServicePrincipal_" + sp,
                 "AzureActiveDirectoryEventType": 1, "ClientIP": ip,
                 "ModifiedProperties": [
                     {"Name": "AppRole.Value", "NewValue": role, "OldValue": ""},
                     {"Name": "User.UPN", "NewValue": target_user, "OldValue": ""},
                     {"Name": "ServicePrincipal.AppId", "NewValue": app_id, "OldValue": ""},
                     {"Name": "ServicePrincipal.DisplayName", "NewValue": app_name,
                      "OldValue": ""}],
                 "Target": [{"ID": "ServicePrincipal_" + sp, "Type": 2},
                            {"ID": app_name, "Type": 1}]}
        self.rec(t, "Add app role assignment grant to user.", 8, "AzureActiveDirectory", p, extra)

    # ---- a person's day ----------------------------------------------------
    def spread(self, d, p, n, h0, h1):
        return sorted(self.local_t(d, p, self.r.uniform(h0, h1)) for _ in range(n))

    def poisson(self, lam):
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, int(self.r.gauss(lam, math.sqrt(lam)) + 0.5))
        L = math.exp(-lam)
        k, pr = 0, 1.0
        while True:
            pr *= self.r.random()
            if pr <= L:
                return k
            k += 1

    def person_day(self, d, p):
        r = self.r
        ov = p.overrides.get(d, {})
        tz_shift = ov.get("tz_shift", 0)
        wd = (dt.datetime.fromtimestamp(self.day_t(d), dt.timezone.utc).weekday())
        off = d in p.daysoff or (p.parttime and wd == 4)
        work = wd < 5 and not off and r.random() > 0.03
        if work:
            ov.setdefault("office", r.random() < p.office_p)
            p.overrides[d] = ov
        h0 = p.start_h + r.gauss(0, 0.3) + tz_shift
        h1 = h0 + p.len_h + r.gauss(0, 0.4)
        out_today = 0
        # Laptop.
        if work:
            cip, pip, ua = self.where(p, d, 0, "laptop")
            t = self.local_t(d, p, h0)
            self.signin(t + 40, p, pip, ua, APP_TEAMS)
            if p.m365:
                self.signin(t + 95, p, pip, UA_OUTLOOK, APP_OUTLOOK)
                for ts in self.spread(d, p, 1 + self.poisson(2 * p.vol), h0, h1):
                    self.mia(ts, p, pip, APP_OUTLOOK, "Client=MSExchangeRPC", "Sync",
                             1 + r.randrange(2))
                for ts in self.spread(d, p, self.poisson(2.5 * p.vol), h0, h1):
                    self.mia(ts, p, pip, APP_OUTLOOK, "Client=MSExchangeRPC", "Bind", 1,
                             1 + r.randrange(4))
            else:
                n = 2 + self.poisson(1.5 * p.vol)
                times = self.spread(d, p, n, h0, h1)
                if r.random() < 0.03:   # a typo before the first login
                    self.imap_fail(times[0] - 20, p.addr, cip, "pop3" if p.pop3 else "imap")
                for ts in times:
                    ob = int(r.lognormvariate(11.6, 1.0) * p.vol) + 2000
                    out_today += ob
                    self.imap_session(ts, p, cip, ob, "pop3" if p.pop3 else "imap")
            # Sending.
            for ts in self.spread(d, p, self.poisson(2.5 * p.vol), h0 + 0.2, h1):
                self.send_one(ts, p, pip, cip, ua, "laptop")
        # Phone: every day, also on days off (less).
        if p.has_phone:
            lam = (2.0 if work else 1.0) * min(p.vol, 2.5)
            n = self.poisson(lam)
            if n:
                times = self.spread(d, p, n, 7.0 + tz_shift, 22.5 + tz_shift)
                cip, pip, ua = self.where(p, d, times[0], "phone")
                self.signin(times[0] - 5, p, pip, ua, APP_OUTLOOK_MOBILE)
                for ts in times:
                    cip, pip, ua = self.where(p, d, ts, "phone")
                    if p.m365:
                        self.mia(ts, p, pip, APP_OUTLOOK_MOBILE,
                                 "Client=REST;Client=RESTSystem;;", "Sync", 1)
                    elif not p.pop3:
                        ob = int(r.lognormvariate(10.5, 0.9) * min(p.vol, 3)) + 1500
                        out_today += ob
                        self.imap_session(ts, p, cip, ob, dur=r.uniform(1, 60))
                if r.random() < 0.15 * p.vol and not work:
                    ts = times[-1] + 30
                    self.send_one(ts, p, pip, cip, ua, "phone")
        p.daily_out.append(out_today)
        # Inbound external mail.
        lam = (3.0 if wd < 5 else 0.6) * p.vol
        for _ in range(self.poisson(lam)):
            dom = p.partners[r.randrange(len(p.partners))] if r.random() < 0.9 else \
                self.pick_domain()
            ts = self.day_t(d) + r.uniform(5, 20) * 3600 + r.uniform(-3, 3) * 3600
            sender = "%s@%s" % (FIRST[r.randrange(len(FIRST))], dom[0])
            rc = [p.addr]
            if r.random() < 0.2:
                rc.append(p.colleagues[r.randrange(6)].addr)
            self.inbound(ts, sender, dom, rc)

    def send_one(self, t, p, pip, cip, ua, device):
        r = self.r
        rc = []
        for _ in range(1 + (r.random() < 0.3) + (r.random() < 0.1)):
            if r.random() < 0.55:
                c = p.colleagues[r.randrange(6)]
                if c is not p and c.addr not in rc:
                    rc.append(c.addr)
            else:
                dom = p.partners[r.randrange(len(p.partners))] if r.random() < 0.92 else \
                    self.pick_domain()
                a = "%s@%s" % (FIRST[r.randrange(len(FIRST))], dom[0])
                if a not in rc:
                    rc.append(a)
        if not rc:
            return
        if p.m365:
            app = APP_OUTLOOK if device == "laptop" else APP_OUTLOOK_MOBILE
            self.m365_send(t, p, pip, app, "Client=MSExchangeRPC" if device == "laptop" else
                           "Client=REST;Client=RESTSystem;;")
        else:
            self.submit(t, p, cip if device == "laptop" else pip, rc)

    # ---- organisation-wide traffic ----------------------------------------
    def servers_day(self, d):
        r = self.r
        t0 = self.day_t(d)
        for srv in (MX1, SUBMIT1, IMAP1):
            # ntpd polls its configured servers (by address) every 1024 s.
            for k, ip in enumerate(NTP_IPS):
                phase = 37 * k + 11 * (srv is SUBMIT1) + 23 * (srv is IMAP1)
                t = t0 + phase
                while t < t0 + 86400:
                    self.conn(t + r.uniform(0, 0.02), srv["ip"], ip, 123, "udp", "ntp",
                              r.uniform(0.01, 0.04), 48, 48, port=123)
                    t += 1024
            # Daily package update check (resolved names).
            t = t0 + 6 * 3600 + r.uniform(0, 1800)
            mirror = "198.19.210.%d" % (5 + r.randrange(4))
            self.resolve(srv["ip"], t, "deb.debian.test", "A", [mirror], 300)
            self.conn(t + 0.05, srv["ip"], mirror, 80, "tcp", "http", r.uniform(0.5, 4),
                      900 + r.randrange(400), 40000 + r.randrange(80000))
            self.resolve(srv["ip"], t + 5, "security.debian.test", "A", ["198.19.210.20"], 300)
            self.conn(t + 5.05, srv["ip"], "198.19.210.20", 80, "tcp", "http", r.uniform(0.3, 2),
                      700 + r.randrange(300), 9000 + r.randrange(30000))
        # The gateway's virus signatures: hourly, through DNS.
        for h in range(24):
            t = t0 + h * 3600 + 17 * 60 + r.uniform(0, 90)
            self.resolve(MX1["ip"], t, "current.cvd.clamav.test", "TXT",
                         ["0.103.12:62:27570:%d:1:90:49192:336" % (1740000000 + d * 100 + h)], 1800)
            ip = "198.19.210.%d" % (40 + r.randrange(3))
            self.resolve(MX1["ip"], t + 0.2, "database.clamav.test", "A", [ip], 60)
            self.conn(t + 0.3, MX1["ip"], ip, 443, "tcp", "ssl", r.uniform(0.2, 1.5),
                      1200 + r.randrange(200), 3000 + r.randrange(2000) +
                      (r.random() < 0.15) * r.randrange(200000))
        wd = dt.datetime.fromtimestamp(t0, dt.timezone.utc).weekday()
        # Bulk mail: mailing lists write to many people.
        for k, lst in enumerate(self.lists):
            if wd >= 5 and k % 2:
                continue
            t = t0 + (6 + k * 1.5) * 3600 + r.uniform(0, 1800)
            n = max(3, len(self.people) // (3 + k))
            rc = sorted(set(self.people[(k * 7 + j * 3) % len(self.people)].addr
                            for j in range(n)))
            for j in range(0, len(rc), 50):
                self.inbound(t + j, "bounce-%d@%s" % (d, lst[0]), lst, rc[j:j + 50],
                             size=60000 + r.randrange(40000))
        # External mail to the aliases (orig_to).
        for alias in self.aliases:
            for _ in range(self.poisson(2.0 if wd < 5 else 0.3)):
                dom = self.pick_domain()
                self.inbound(t0 + r.uniform(7, 19) * 3600, "%s@%s" %
                             (FIRST[r.randrange(len(FIRST))], dom[0]), dom, [alias])
        # Internet background: password guessing against submission and IMAP
        # with made-up names, spam rejected by the gateway.
        scan = self.nets["scanners"][0]
        for _ in range(6 + self.poisson(4)):
            ip = scan.addr(r.randrange(scan.size))
            t = t0 + r.uniform(0, 86400)
            for k in range(1 + r.randrange(3)):
                user = ("admin", "test", "info", "webmaster", "sales", "user")[r.randrange(6)]
                if r.random() < 0.5:
                    self.sasl_fail(t + k * 7, user + "@" + DOMAIN, ip)
                else:
                    self.imap_fail(t + k * 7, user + "@" + DOMAIN, ip, known=user == "info")
        for _ in range(10 + self.poisson(8)):
            ip = scan.addr(r.randrange(scan.size))
            t = t0 + r.uniform(0, 86400)
            pid = self.next_pid("mx1")
            prog = "postfix/smtpd[%d]" % pid
            self.conn(t, ip, MX1["ip"], 25, "tcp", "smtp", 2.0, 300, 600)
            self.syslog(t, "mx1", prog, "connect from unknown[%s]" % ip)
            rc = self.people[r.randrange(len(self.people))].addr
            self.syslog(t + 1.1, "mx1", prog,
                        "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 Service unavailable; "
                        "Client host [%s] blocked using zen.dnsbl.test; from=<promo@%s>, to=<%s>, "
                        "proto=ESMTP, helo=<localhost>" % (ip, ip, "bulk-offers.test", rc))
            self.syslog(t + 1.5, "mx1", prog, "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 "
                        "quit=1 commands=3/4" % ip)
        # M365 sign-in failures: people mistyping.
        for _ in range(self.poisson(len(self.people) * 0.02)):
            p = self.people[r.randrange(len(self.people))]
            if p.functional:
                continue
            t = self.local_t(d, p, r.uniform(8, 18))
            self.signin(t, p, self.home_ip(p, d), p.laptop_ua, APP_TEAMS, ok=False)

    # ---- the story: normal life and intrusions ----------------------------
    def plan(self):
        r = self.r
        D = self.a.days
        used = set()

        def choose(pool):
            cand = [p for p in pool if p.i not in used and not p.daysoff]
            if not cand:
                cand = [p for p in pool if p.i not in used]
            p = cand[r.randrange(len(cand))]
            used.add(p.i)
            return p

        def day(frac, weekday=True, lo=8):
            """The day at fraction frac of the period, after the first week
            (kenchi's default learning period) unless lo says otherwise."""
            d = max(lo, min(D - 2, int(D * frac)))
            while weekday and d < D - 1 and \
                    dt.datetime.fromtimestamp(self.day_t(d), dt.timezone.utc).weekday() >= 5:
                d += 1
            return d

        self.hooks = {}

        def hook(d, f):
            self.hooks.setdefault(d, []).append(f)

        def acct(p):
            return {"kind": "account", "id": p.addr}

        mx_ents = [{"kind": "host", "id": MX1["ip"]}, {"kind": "host", "id": MX1["name"]},
                   {"kind": "host", "id": MX1["fqdn"]}, {"kind": "host", "id": MX1["public"]}]

        # --- normal life --------------------------------------------------
        # Travel: five days in Tokyo, hours shifted by eight.
        trav = choose(self.m365_regular or self.regular)
        td = day(0.42)
        hotel = self.nets["travel"][0].addr(77 + trav.i)
        for k in range(5):
            trav.overrides[td + k] = {"travel": True, "travel_hotel": hotel, "tz_shift": -8,
                                      "travel_roam": self.nets["travel-mobile"][0]}
            trav.daysoff.discard(td + k)
        # From the evening before (home time) to the afternoon of the last day:
        # shifted by eight hours, the first travel day starts before its
        # midnight.
        self.normal("travel", [acct(trav)], self.local_t(td, trav, -4.0),
                    self.local_t(td + 4, trav, 16.0),
                    "%s travels to Japan for five days: sign-ins and mail from a hotel network "
                    "and a roaming carrier (country JP), at hours shifted by eight" % trav.addr)
        # New phone: another model, another carrier, from then on.
        ph = choose([p for p in self.regular if p.has_phone])
        ph.newphone_day = day(0.5)
        ph.daysoff.difference_update(range(ph.newphone_day, ph.newphone_day + 2))

        def newphone(d, p=ph):
            # Setting the phone up: the mail app signs in and syncs.
            t = self.local_t(d, p, 18.5 + r.random())
            _, ip, ua = self.where(p, d, t, "phone")
            ip = self.nets["newcarrier"][0].addr(p.carrier_slot + 77)
            self.signin(t, p, ip, ua, APP_OUTLOOK_MOBILE)
            if p.m365:
                self.mia(t + 30, p, ip, APP_OUTLOOK_MOBILE, "Client=REST;Client=RESTSystem;;",
                         "Sync", 4, count=1)
            else:
                self.imap_session(t + 30, p, ip, int(5e6 + r.random() * 10e6), dur=900)
        hook(ph.newphone_day, newphone)
        self.normal("new-phone", [acct(ph)], self.local_t(ph.newphone_day, ph, 0.0),
                    self.local_t(ph.newphone_day + 2, ph, 0.0),
                    "%s starts using a new phone (new client) on a carrier network never seen "
                    "before for the account" % ph.addr)
        # A new laptop re-syncs its mailbox in the office.
        rs = choose(self.onprem_regular)
        rs.resync_day = day(0.55)
        rs.daysoff.difference_update(range(rs.resync_day - 1, rs.resync_day + 2))

        def resync(d, p=rs):
            p.overrides.setdefault(d, {})["office"] = True
            p.laptop_ua = UA_MAC if p.laptop_ua != UA_MAC else UA_WIN
            t = self.local_t(d, p, 10.0)
            lip = "10.2.250.%d" % (1 + p.i % 250)
            total = int(1.2e9 + r.random() * 1.5e9)
            for k in range(6):
                self.imap_session(t + k * 1300, p, lip, total // 6, dur=1200 + r.random() * 60)
            self.normal("mailbox-resync", [acct(p)], t, t + 6 * 1300 + 1300,
                        "%s sets up a new laptop in the office: the mail client downloads the "
                        "whole mailbox (%.1f GB) over IMAP from a new internal address" %
                        (p.addr, total / 1e9))
        hook(rs.resync_day, resync)
        # Backup application rolled out by the administrator.
        bapp = self.guid()
        bname = "Example Mail Backup"
        bd = day(0.35)

        def backup_consent(d):
            t = self.local_t(d, self.admin, 11.2)
            sp = self.consent(t, self.admin, bapp, bname, True,
                              "Mail.Read Mail.ReadBasic.All User.Read.All", OFFICE_NAT[0])
            self.role_grant(t + 120, self.admin, bapp, bname, sp, "Backup.Operator",
                            self.admin.addr, OFFICE_NAT[0])
            self.backup_sp = sp
            self.normal("backup-rollout", [{"kind": "application", "id": bapp},
                                           acct(self.admin)], t, self.day_t(D),
                        "the administrator consents (admin consent) to the backup application "
                        "%s, which from the next night reads every Exchange Online mailbox" % bapp)
        hook(bd, backup_consent)

        def backup_run(d):
            if d <= bd:
                return
            t = self.day_t(d) + 1 * 3600 + r.uniform(0, 600)
            for p in self.people:
                if p.m365:
                    self.mia(t, p, "198.19.200.77", bapp, "Client=REST;;", "Sync", 3 +
                             r.randrange(4), accessor="ServicePrincipal_" + self.backup_sp,
                             count=40 + r.randrange(400))
                    t += r.uniform(2, 20)
        for d in range(D):
            hook(d, backup_run)
        # Newsletter: marketing writes weekly to many outside subscribers.
        subs = []
        for k in range(max(60, min(600, len(self.people) * 2))):
            c = self.consumer[k % len(self.consumer)]
            subs.append("%s.%s%d@%s" % (FIRST[k % len(FIRST)], LAST[k * 7 % len(LAST)], k, c[0]))

        def newsletter(d):
            wd = dt.datetime.fromtimestamp(self.day_t(d), dt.timezone.utc).weekday()
            if wd != 1:
                return
            t = self.local_t(d, self.marketing, 10.0 + r.random() * 0.3)
            for j in range(0, len(subs), 50):
                self.submit(t + j * 0.4, self.marketing, "10.2.0.200", subs[j:j + 50],
                            size=85000)
        for d in range(D):
            hook(d, newsletter)
        self.normal("newsletter", [acct(self.marketing)], self.day_t(0), self.day_t(D),
                    "marketing@ sends a weekly newsletter to %d outside subscribers; mailing "
                    "lists send bulk mail to many people every day" % len(subs))
        # Internal forwarding: aliases (orig_to) and a mailbox forwarded while
        # its owner is on leave.
        fw = choose(self.m365_regular or self.regular)
        fw.m365 = True
        fto = choose(self.regular)
        fd = day(0.48)

        def forward_set(d, p=fw, to=fto):
            t = self.local_t(d, p, 16.5)
            _, pip, _ = self.where(p, d, t, "laptop")
            self.cmdlet(t, p, "Set-Mailbox", [("Identity", p.addr),
                                             ("ForwardingSmtpAddress", "smtp:" + to.addr),
                                             ("DeliverToMailboxAndForward", "True")], pip)
            for k in range(1, 8):
                p.daysoff.add(d + k)
        hook(fd, forward_set)
        self.normal("internal-forwarding",
                    [acct(fw)] + [{"kind": "account", "id": a} for a in self.aliases],
                    self.local_t(fd, fw, 16.5), self.day_t(fd + 8),
                    "%s forwards the mailbox to a colleague (%s) before leave; aliases %s deliver "
                    "to internal mailboxes (orig_to)" % (fw.addr, fto.addr,
                                                         ", ".join(self.aliases)))
        # Delegation: an assistant gets full access to an executive's mailbox.
        ex = self.execs[0]
        asst = choose(self.m365_regular or self.regular)
        asst.m365 = True
        dd = day(0.3)

        def delegate(d, e=ex, a=asst):
            t = self.local_t(d, self.admin, 9.5)
            self.cmdlet(t, self.admin, "Add-MailboxPermission",
                        [("Identity", e.addr), ("User", a.addr), ("AccessRights", "FullAccess"),
                         ("InheritanceType", "All"), ("AutoMapping", "True")], OFFICE_NAT[0],
                        APP_EXO_ADMIN)
        hook(dd, delegate)

        def delegate_use(d, e=ex, a=asst):
            wd = dt.datetime.fromtimestamp(self.day_t(d), dt.timezone.utc).weekday()
            if d < dd or wd >= 5 or d in a.daysoff:
                return
            for ts in self.spread(d, a, 1 + r.randrange(4), a.start_h, a.start_h + a.len_h):
                _, pip, _ = self.where(a, d, ts, "laptop")
                self.mia(ts + 900, e, pip, APP_OUTLOOK, "Client=MSExchangeRPC", "Bind", 1,
                         1 + r.randrange(3), accessor=a)
        for d in range(D):
            hook(d, delegate_use)
        self.normal("delegation", [acct(asst), acct(ex)], self.local_t(dd, self.admin, 9.5),
                    self.day_t(D), "the administrator gives %s full access to %s's mailbox; "
                    "the assistant reads it every working day" % (asst.addr, ex.addr))

        # --- intrusions ---------------------------------------------------
        # 1. Account takeover: a new foreign network at 3 a.m., then a
        #    download of ~30x the account's usual daily volume.
        ato = choose([p for p in self.onprem_regular if 0.7 <= p.vol <= 2.5] or
                     self.onprem_regular)
        ad = day(0.55, weekday=False)

        def takeover(d, p=ato):
            t = self.local_t(d, p, 3.0 + r.random() * 0.3)
            ip = self.nets["attack-ato"][0].addr(9)
            hist = sorted(p.daily_out) or [1e6]
            p95 = hist[min(len(hist) - 1, int(len(hist) * 0.95))]
            total = int(max(p95, 2e6) * 30)
            for k in range(4):
                self.imap_session(t + k * 420, p, ip, total // 4, dur=400)
            self.intrusion("account-takeover", [acct(p), {"kind": "source", "id": ip}], t,
                           "a login to %s from %s (new network, new country) at 03:00 local "
                           "time, then IMAP downloads of %.0f MB, 30x the account's daily 95th "
                           "percentile" % (p.addr, ip, total / 1e6))
        hook(ad, takeover)
        # 2. M365 inbox rule and mailbox forwarding to a new external domain.
        vic = choose(self.m365_regular or self.regular)
        vic.m365 = True
        vd = day(0.6)

        def inbox_rule(d, p=vic):
            t = self.local_t(d, p, 2.6 + r.random() * 0.2)
            ip = self.nets["attack-m365"][0].addr(5)
            self.signin(t, p, ip, "python-requests/2.32.3", APP_OWA)
            self.mia(t + 200, p, ip, APP_OWA, "Client=OWA;Action=ViaProxy", "Bind", 2, 40)
            drop = "archive.%s@keepmail-drop.test" % p.local.split(".")[0]
            self.cmdlet(t + 600, p, "New-InboxRule",
                        [("Name", ".."), ("ForwardTo", drop), ("MarkAsRead", "True"),
                         ("StopProcessingRules", "True")], ip)
            self.cmdlet(t + 660, p, "Set-Mailbox",
                        [("Identity", p.addr), ("ForwardingSmtpAddress", "smtp:" + drop),
                         ("DeliverToMailboxAndForward", "True")], ip)
            self.intrusion("m365-forwarding", [acct(p), {"kind": "source", "id": ip}], t,
                           "a sign-in to %s from %s at night, then an inbox rule and mailbox "
                           "forwarding to %s, a domain nobody in the organisation writes to"
                           % (p.addr, ip, drop))
        hook(vd, inbox_rule)
        # 3. An application that never read mail reads executives' mailboxes.
        mapp = self.guid()
        mname = "PDF Toolkit Online"
        mu = choose(self.m365_regular or self.regular)
        mu.m365 = True
        cd = day(0.2, lo=1)
        md = day(0.65)

        def app_consent(d, p=mu):
            t = self.local_t(d, p, 14.3)
            _, pip, _ = self.where(p, d, t, "laptop")
            self.mapp_sp = self.consent(t, p, mapp, mname, False,
                                        "User.Read Mail.Read offline_access", pip)

        hook(cd, app_consent)

        def app_signins(d, p=mu):
            if cd < d and d % 3 == 0 and d not in p.daysoff:
                t = self.local_t(d, p, 11 + r.random() * 4)
                _, pip, ua = self.where(p, d, t, "laptop")
                self.signin(t, p, pip, ua, mapp)
        for d in range(D):
            hook(d, app_signins)

        def app_reads(d):
            t = self.local_t(d, self.execs[1], 14.0 + r.random() * 0.2)
            ip = self.nets["attack-m365"][0].addr(17)
            for k, e in enumerate(self.execs[1:4]):
                for j in range(3):
                    self.mia(t + k * 240 + j * 60, e, ip, mapp, "Client=REST;;", "Bind",
                             2, 25 + r.randrange(30), accessor="ServicePrincipal_" + self.mapp_sp)
            self.intrusion("app-mail-access",
                           [{"kind": "application", "id": mapp}] + [acct(e) for e in
                                                                   self.execs[1:4]], t,
                           "application %s (%s), which had only signed users in, starts reading "
                           "the mailboxes of %s (MailItemsAccessed)" %
                           (mapp, mname, ", ".join(e.addr for e in self.execs[1:4])))
        hook(md, app_reads)
        # 4. Compromised gateway: an undeclared destination, hourly beacon,
        #    later a large upload.
        gd = day(0.5, weekday=False)
        c2 = self.nets["attack-c2"][0].addr(12)

        def gateway(d):
            if d < gd:
                return
            t0 = self.day_t(d)
            if d == gd:
                self.c2_t = t0 + 1 * 3600 + 13 * 60 + r.uniform(0, 60)
                self.conn(self.c2_t, MX1["ip"], c2, 443, "tcp", "ssl", 2.1, 5200, 48000)
                self.intrusion("gateway-compromise", mx_ents + [{"kind": "source", "id": c2}],
                               self.c2_t, "the gateway mx1 connects to %s:443, an address no DNS "
                               "answer gave it and it never talked to, then beacons every 3,600 s "
                               "+-2 %% with constant small sizes for three days; two days in, it "
                               "uploads about 2 GB there" % c2)
                self.c2_next = self.c2_t + 3600
            # Beacons until the third day is over (then the gateway is
            # rebuilt), so that the evaluation's three days cover it.
            while self.c2_next < min(t0 + 86400, self.c2_t + 3 * 86400 - 600):
                t = self.c2_next
                self.conn(t, MX1["ip"], c2, 443, "tcp", "ssl", r.uniform(0.3, 0.5),
                          312 + r.randrange(3), 184)
                self.c2_next = t + 3600 * (1 + r.uniform(-0.02, 0.02))
            if d == gd + 2:
                t = t0 + 2.5 * 3600
                for k in range(20):
                    self.conn(t + k * 400, MX1["ip"], c2, 443, "tcp", "ssl", 380.0,
                              100_000_000 + r.randrange(5_000_000), 9000)
        for d in range(D):
            hook(d, gateway)
        # 5. Slow password spraying over days, then one success.
        sd = day(0.38, weekday=False)
        srcs = [self.nets["attack-spray"][0].addr(k) for k in (9, 10)]
        targets = [p for p in self.people if not p.functional][:150]
        sprayed = choose(self.onprem_regular)
        if sprayed not in targets:
            targets[-1] = sprayed
        span = 3   # the success comes within three days of the start

        def spray(d):
            if not (sd <= d < sd + span):
                return
            t0 = self.day_t(d) + (r.uniform(0, 600) if d > sd else 7 * 3600 + 123)
            if d == sd:
                self.intrusion("password-spray", [{"kind": "source", "id": s} for s in srcs] +
                               [acct(sprayed)], t0,
                               "%s try one password per account against %d accounts every few "
                               "hours for %d days (IMAP, SMTP AUTH, Microsoft 365), then log in "
                               "to %s" % (", ".join(srcs), len(targets), span, sprayed.addr))
            t = t0
            k = 0
            while t < self.day_t(d) + 86400:
                tgt = targets[k % len(targets)]
                src = srcs[k % len(srcs)]
                how = k % 3
                if how == 0:
                    self.imap_fail(t, tgt.addr, src)
                elif how == 1:
                    self.sasl_fail(t, tgt.addr, src)
                else:
                    self.signin(t, tgt, src, "BAV2ROPC", APP_OWA, ok=False)
                k += 1
                # Each account every four hours, or faster for a small
                # organisation: 16 accounts an hour per source at least.
                t += min(4 * 3600 / len(targets), 3600 / 16 / len(srcs)) * r.uniform(0.8, 1.2)
            if d == sd + span - 1:
                ts = self.day_t(d) + 22 * 3600 + 321
                self.imap_session(ts, sprayed, srcs[1], 250000, dur=120)
        for d in range(D):
            hook(d, spray)
        # 6. An account starts writing, in volume, to a domain nobody writes to.
        nd = day(0.7)
        sx = choose([p for p in self.onprem_regular if p.vol <= 1.0] or self.onprem_regular)
        dom = ("invoice-drop.test", "mx.invoice-drop.test",
               self.nets["attack-mail"][0].addr(8))
        self.odd_domains = {dom[0]: dom, "keepmail-drop.test": ("keepmail-drop.test",
                                                                 "mx.keepmail-drop.test",
                                                                 self.nets["attack-mail"][0]
                                                                 .addr(9))}

        def new_domain(d, p=sx):
            sx.daysoff.discard(d)
            t = self.local_t(d, p, 10.1 + r.random() * 0.2)
            p.overrides.setdefault(d, {})["office"] = True
            cip, _, _ = self.where(p, d, t, "laptop")
            for k in range(60):
                rc = ["%s%d@%s" % (("billing", "accounts", "payments")[k % 3], k, dom[0]),
                      "ap%d@%s" % (k, dom[0])]
                self.submit(t + k * 45 + r.uniform(0, 10), p, cip, rc,
                            size=int(r.lognormvariate(11.5, 0.5)))
            self.intrusion("new-domain-volume", [acct(p)], t,
                           "%s sends 60 messages (120 recipients) in 45 minutes to %s, a domain "
                           "nobody in the organisation has written to" % (p.addr, dom[0]))
        hook(nd, new_domain)

    def intrusion(self, kind, ents, t, desc):
        self.truth_intrusions.append({"id": "%s-%d" % (kind, len(self.truth_intrusions) + 1),
                                      "kind": kind, "entities": ents, "start": iso(t),
                                      "description": desc})

    def normal(self, kind, ents, t0, t1, desc):
        self.truth_normal.append({"id": "%s-%d" % (kind, len(self.truth_normal) + 1),
                                  "kind": kind, "entities": ents, "start": iso(t0),
                                  "end": iso(min(t1, self.day_t(self.a.days))),
                                  "description": desc})

    # ---- main loop -------------------------------------------------------
    def run(self, outdir):
        os.makedirs(os.path.join(outdir, "zeek"), exist_ok=True)
        opened = dt.datetime.fromtimestamp(self.t0, dt.timezone.utc).strftime(
            "%Y-%m-%d-%H-%M-%S")

        def zhead(path, fields, types):
            return ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                    "#unset_field\t-\n#path\t%s\n#open\t%s\n#fields\t%s\n#types\t%s\n" %
                    (path, opened, "\t".join(fields.split()), "\t".join(types.split())))
        self.mail = Sink(os.path.join(outdir, "mail.log"))
        self.m365 = Sink(os.path.join(outdir, "m365.json"))
        self.zconn = Sink(os.path.join(outdir, "zeek", "conn.log"),
                          zhead("conn", CONN_FIELDS, CONN_TYPES))
        self.dns = Sink(os.path.join(outdir, "zeek", "dns.log"),
                        zhead("dns", DNS_FIELDS, DNS_TYPES))
        sinks = (self.mail, self.m365, self.zconn, self.dns)
        self.odd_domains = {}
        self.plan()
        D = self.a.days
        for d in range(D):
            for f in self.hooks.get(d, []):
                f(d)
            for p in self.people:
                self.person_day(d, p)
            self.servers_day(d)
            for s in sinks:
                s.flush(self.day_t(d + 1) - 6 * 3600)
        closed = dt.datetime.fromtimestamp(self.day_t(D) + 86400, dt.timezone.utc).strftime(
            "%Y-%m-%d-%H-%M-%S")
        for s in sinks:
            s.close("#close\t%s\n" % closed if s in (self.zconn, self.dns) else "")
        self.first = min(s.first for s in sinks)
        self.write_meta(outdir)
        return {s.f.name: s.count for s in sinks}

    def write_meta(self, outdir):
        servers = {"gateway": MX1, "submission": SUBMIT1, "imap": IMAP1,
                   "resolver": {"ip": RESOLVER}}
        truth = {"org": {"domains": [DOMAIN, DOMAIN2], "mailboxes": len(self.people),
                         "days": self.a.days, "start": iso(min(self.t0, self.first)),
                         "end": iso(self.day_t(self.a.days)),
                         "internal_networks": INTERNAL_NETWORKS, "servers": servers,
                         "seed": self.a.seed},
                 "intrusions": sorted(self.truth_intrusions, key=lambda x: x["start"]),
                 "normal": sorted(self.truth_normal, key=lambda x: x["start"])}
        with open(os.path.join(outdir, "truth.json"), "w") as f:
            json.dump(truth, f, indent=1)
            f.write("\n")
        with open(os.path.join(outdir, "networks.json"), "w") as f:
            json.dump([{"network": n[0], "asn": n[1], "org": n[2], "country": n[3]}
                       for n in NETWORKS], f, indent=1)
            f.write("\n")
        od = os.path.abspath(outdir)
        srv = [MX1["ip"], MX1["public"], SUBMIT1["ip"], SUBMIT1["public"], IMAP1["ip"],
               IMAP1["public"], RESOLVER]
        with open(os.path.join(outdir, "kenchi.yml"), "w") as f:
            f.write("# The organisation of scripts/gen-mailorg.py (seed %d): what kenchi's\n"
                    "# baselines need to know about it. docs/baselines-eval.md\n"
                    "baselines:\n"
                    "  internal_domains: [%s]\n"
                    "  internal_networks: [%s]\n"
                    "  servers: [%s]\n"
                    "  geoip:\n"
                    "    asn: %s\n"
                    "    country: %s\n" %
                    (self.a.seed, ", ".join([DOMAIN, DOMAIN2]), ", ".join(INTERNAL_NETWORKS),
                     ", ".join(srv), os.path.join(od, "asn.mmdb"),
                     os.path.join(od, "country.mmdb")))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--mailboxes", type=int, default=120)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-03-02", help="first day, YYYY-MM-DD (UTC)")
    a = ap.parse_args(argv)
    if a.mailboxes < 20 or a.mailboxes > 100000:
        ap.error("--mailboxes must be between 20 and 100000")
    if a.days < 14 or a.days > 366:
        ap.error("--days must be between 14 and 366 (intrusions come after a week of "
                 "learning)")
    try:
        dt.datetime.strptime(a.start, "%Y-%m-%d")
    except ValueError:
        ap.error("--start must be YYYY-MM-DD")
    counts = Org(a).run(a.outdir)
    for k, v in counts.items():
        print("%s: %d records" % (k, v), file=sys.stderr)
    # the MaxMind-format databases kenchi.yml names, from networks.json
    writer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmdb-write.py")
    for kind in ("asn", "country"):
        subprocess.run([sys.executable, writer, "--kind", kind,
                        os.path.join(a.outdir, "networks.json"),
                        os.path.join(a.outdir, kind + ".mmdb")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
