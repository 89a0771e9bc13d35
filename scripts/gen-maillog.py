#!/usr/bin/env python3
"""gen-maillog.py - deterministic, realistic syslog for a small organisation.

Writes RFC 3164 lines ("Mmm dd hh:mm:ss host program[pid]: msg") as a Debian
mail server writes them to /var/log/mail.log (Postfix and Dovecot) or
/var/log/auth.log (sshd, PAM, cron), for the organisation example.org whose
only server is mx1 (198.51.100.25, 2001:db8:100::25).

Design: a discrete-event simulation. Two arrival streams start sessions:
people (weighted by hour of day and weekday) and robots (flat: spam bots,
password guessers). A session emits all of its lines at once, each with its
own future time stamp, into a heap; the heap is drained in time order up to
the next arrival, so the file is in time order while queue ids, process ids,
Dovecot session ids, users and addresses stay consistent across the lines of
one SMTP session, one message's life (smtpd -> cleanup -> qmgr -> delivery
agents -> removed) and one IMAP session. Arrival rates correct themselves as
the run goes so that --lines N lines cover roughly the planned period
(--days, by default one day per 2,500 lines, at most 30).

An attack story is woven into the period unless --no-story is given:
  1. password spraying against IMAP from three addresses (203.0.113.66-68),
     a few common passwords tried against every mailbox, low and slow;
  2. the next night, a successful IMAP login to one sprayed mailbox from an
     address never seen before (203.0.113.129), followed by heavy IMAP
     downloads (large out= and body_bytes=) and a ManageSieve login;
  3. from then on, mail delivered to that mailbox is also forwarded by a
     Sieve redirect to an external address (Dovecot "forwarded to" lines and
     the Postfix delivery to the external domain freemail.test).
In auth.log the spraying addresses also try SSH passwords for a while.

Only documentation addresses (RFC 5737, RFC 3849) and reserved names
(example.org, example.net, .test) appear. Everything comes from one
random.Random(seed): the same options always give the same bytes (gzip
output carries no time stamp or name either).
"""

import argparse
import base64
import bisect
import datetime as dt
import gzip
import heapq
import io
import random
import sys

HOST = "mx1"
FQDN = "mx1.example.org"
DOMAIN = "example.org"
LIP4 = "198.51.100.25"
LIP6 = "2001:db8:100::25"
OFFICE_IP = "192.0.2.10"
LMTP_RELAY = "mx1.example.org[private/dovecot-lmtp]"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec")

# People of example.org (mailbox local parts). Fixed across seeds so that
# samples generated with different seeds describe the same organisation.
USERS = (
    "anna.keller", "ben.hoffmann", "carla.meyer", "david.brandt", "eva.schulz",
    "felix.wagner", "greta.koch", "hanna.richter", "ivan.petrov", "julia.wolf",
    "karl.neumann", "lena.schwarz", "max.zimmermann", "nina.braun", "oskar.krueger",
    "paula.hartmann", "quentin.lange", "rosa.schmitt", "simon.werner", "tina.krause",
    "uwe.lehmann", "vera.koehler", "walter.maier", "xenia.frank", "yusuf.demir",
    "zoe.albrecht", "info", "office", "accounting", "support",
)
# Names a password sprayer guesses that do not exist here.
GUESSED_USERS = ("admin", "test", "webmaster", "postmaster1", "sales", "hr", "it",
                 "backup", "user", "mail")

# External correspondents: (domain, mx host, mx address).
EXT_DOMAINS = (
    ("example.net", "mx.example.net", "198.51.100.30"),
    ("partner.example.net", "mail.partner.example.net", "192.0.2.33"),
    ("lists.example.net", "mx-in.lists.example.net", "198.51.100.41"),
    ("bank.example.net", "mx1.bank.example.net", "2001:db8:5::25"),
    ("supplier.test", "mail.supplier.test", "192.0.2.71"),
    ("university.test", "mx.university.test", "198.51.100.87"),
    ("shop.test", "mx.shop.test", "192.0.2.120"),
    ("agency.test", "smtp.agency.test", "2001:db8:7:1::19"),
)
# Their outgoing relays (hostname, address, domain of the senders), which
# connect to us; "unknown" has no reverse DNS and sends for anyone.
EXT_MTAS = (
    ("mail-out.example.net", "198.51.100.31", "example.net"),
    ("mail.partner.example.net", "192.0.2.33", "partner.example.net"),
    ("bounce.lists.example.net", "198.51.100.42", "lists.example.net"),
    ("out1.bank.example.net", "2001:db8:5::26", "bank.example.net"),
    ("mail.supplier.test", "192.0.2.71", "supplier.test"),
    ("smtp-out.university.test", "198.51.100.88", "university.test"),
    ("mta3.shop.test", "192.0.2.121", "shop.test"),
    ("relay.agency.test", "2001:db8:7:1::20", "agency.test"),
    ("unknown", "198.51.100.199", None),
)
EXT_PEOPLE = ("j.smith", "m.garcia", "orders", "newsletter", "noreply", "l.rossi",
              "p.novak", "k.tanaka", "a.kowalski", "service", "r.dubois", "s.jansen")

SPRAY_IPS = ("203.0.113.66", "203.0.113.67", "203.0.113.68")
ATTACKER_IP = "203.0.113.129"
EXFIL_ADDR = "mailbox.backup7@freemail.test"
EXFIL_MX = ("mx.freemail.test", "203.0.113.150")
SPRAY_PASSWORDS = 4  # rounds: one password a round against every mailbox

# Relative activity of people by hour of day (weekdays); weekends * 0.3.
HOUR_WEIGHT = (0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.50, 1.20, 2.50, 3.00, 3.00, 2.80,
               2.20, 2.60, 2.90, 2.80, 2.40, 1.80, 1.20, 0.90, 0.70, 0.50, 0.35, 0.20)

TLS_CIPHERS = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
    "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
)


class Out:
    """Time-ordered line sink: a heap of (time, seq, program-with-pid, msg)."""

    def __init__(self, write, limit):
        self.heap = []
        self.seq = 0
        self.write = write
        self.limit = limit
        self.count = 0
        self._sec = None
        self._stamp = ""

    def push(self, t, prog, msg):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, prog, msg))

    def drain(self, until):
        """Write every pending line up to time until; False when full."""
        heap = self.heap
        while heap and heap[0][0] <= until:
            t, _, prog, msg = heapq.heappop(heap)
            sec = int(t)
            if sec != self._sec:
                tm = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=sec)
                self._stamp = "%s %2d %02d:%02d:%02d" % (MONTHS[tm.month - 1], tm.day,
                                                           tm.hour, tm.minute, tm.second)
                self._sec = sec
            self.write("%s %s %s: %s\n" % (self._stamp, HOST, prog, msg))
            self.count += 1
            if self.count >= self.limit:
                return False
        return True


class Pids:
    """Process ids: one growing counter, as the kernel hands them out."""

    def __init__(self, rng):
        self.rng = rng
        self.next = 1200 + rng.randrange(800)

    def new(self):
        self.next += 1 + int(self.rng.expovariate(1 / 6.0))
        if self.next > 32767:
            self.next = 300 + self.next % 1000
        return self.next


class Pool:
    """Postfix server processes of one kind: a process serves one client at a
    time, is reused while busy ones are skipped, and exits after max_idle
    seconds without work or max_use clients, as master(8) arranges."""

    def __init__(self, pids, max_idle=100.0, max_use=100):
        self.pids = pids
        self.max_idle = max_idle
        self.max_use = max_use
        self.procs = []  # [pid, busy_until, uses]

    def take(self, t, dur):
        alive = [p for p in self.procs if t - p[1] < self.max_idle and p[2] < self.max_use]
        self.procs = alive
        for p in alive:
            if p[1] <= t:
                p[1] = t + dur
                p[2] += 1
                return p[0]
        p = [self.pids.new(), t + dur, 1]
        self.procs.append(p)
        return p[0]


class Sim:
    def __init__(self, args, out):
        self.rng = random.Random(args.seed)
        self.out = out
        self.start = args.start_ts
        self.end = args.start_ts + args.days * 86400
        self.kind = args.log
        self.story = not args.no_story
        rng = self.rng
        self.pids = Pids(rng)
        pids = self.pids
        self.smtpd = Pool(pids)
        self.subm = Pool(pids)
        self.cleanup = Pool(pids, max_idle=300)
        self.smtp = Pool(pids)
        self.lmtp = Pool(pids)
        self.local = Pool(pids)
        self.bounce = Pool(pids)
        self.qmgr_pid = pids.new()
        self.pickup_pid = pids.new()
        self.postscreen_pid = pids.new()
        self.dove_lmtp = Pool(pids, max_idle=60)
        self.qids = set()
        # each person: home address, mobile prefix, habits
        self.people = {}
        for i, u in enumerate(USERS):
            self.people[u] = {
                "home": "198.51.100.%d" % (100 + i),
                "mobile": "2001:db8:4a:%x::%x" % (i + 1, rng.randrange(16, 4000)),
                "pop3": i % 9 == 4,
                "weight": 0.4 + rng.random() * 2.0,
            }
        self.user_names = list(USERS)
        self.user_weights = [self.people[u]["weight"] for u in USERS]
        # the story
        days = max(1, int(args.days))
        spray_day = int(days * 0.35)
        day0 = self.start - self.start % 86400
        self.spray_start = day0 + spray_day * 86400 + 13 * 3600 + rng.randrange(3600)
        self.breach_at = day0 + (spray_day + 1) * 86400 + 2 * 3600 + rng.randrange(1800)
        self.victim = "hanna.richter"
        self.forward_from = self.breach_at + 25 * 60  # the Sieve rule exists from here
        self.seen_msgids = 0

    # -- small helpers -------------------------------------------------
    def qid(self):
        while True:
            q = "%010X" % self.rng.getrandbits(40)
            if q not in self.qids:
                self.qids.add(q)
                if len(self.qids) > 100000:
                    self.qids.clear()
                return q

    def session_id(self):
        return base64.b64encode(self.rng.getrandbits(96).to_bytes(12, "big"),
                                b"+/").decode()

    def port(self):
        return self.rng.randrange(32768, 61000)

    def msgid_ext(self, domain, t):
        r = self.rng
        style = r.randrange(3)
        if style == 0:
            return "CA%s+%s@mail.%s" % (
                base64.b32encode(r.getrandbits(80).to_bytes(10, "big")).decode()[:14],
                base64.b32encode(r.getrandbits(40).to_bytes(5, "big")).decode()[:6], domain)
        if style == 1:
            return "%x.%x@%s" % (r.getrandbits(48), int(t), domain)
        return "%08x-%04x-%04x-%04x-%012x@%s" % (r.getrandbits(32), r.getrandbits(16),
                                                r.getrandbits(16), r.getrandbits(16),
                                                r.getrandbits(48), domain)

    def stamp_id(self, t, q):
        tm = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(t))
        return "%s.%s@%s" % (tm.strftime("%Y%m%d%H%M%S"), q, FQDN)

    def delays(self, a, b, c, d):
        tot = a + b + c + d

        def f(x):
            if x < 0.01:
                return "0" if x < 0.005 else "0.01"
            return ("%.2f" % x).rstrip("0").rstrip(".") if x < 10 else "%d" % x
        return f(tot), "%s/%s/%s/%s" % (f(a), f(b), f(c), f(d))

    def pick_user(self):
        return self.rng.choices(self.user_names, self.user_weights)[0]

    def client_ip(self, user, t):
        """Where a person's mail client connects from at time t."""
        p = self.people[user]
        tm = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(t))
        office = tm.weekday() < 5 and 7 <= tm.hour < 19
        r = self.rng.random()
        if office and r < 0.8:
            return OFFICE_IP
        return p["home"] if r < 0.9 else p["mobile"]

    def ext_sender(self):
        d = self.rng.choice(EXT_DOMAINS)[0]
        return "%s@%s" % (self.rng.choice(EXT_PEOPLE), d)

    # -- Postfix message life ------------------------------------------
    def qmgr(self, t, q, sender, size, nrcpt):
        self.out.push(t, "postfix/qmgr[%d]" % self.qmgr_pid,
                      "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (q, sender, size, nrcpt))

    def deliver_local(self, t, q, rcpt, msgid, t_arrival):
        """lmtp delivery into Dovecot, with Dovecot's own lines. Returns the
        time it ends."""
        r = self.rng
        pid = self.lmtp.take(t, 0.5)
        a = t - t_arrival
        c, d = r.uniform(0.001, 0.02), r.uniform(0.01, 0.2)
        dpid = self.dove_lmtp.take(t, 1.0)
        sess = self.session_id()
        out = self.out
        fresh = r.random() < 0.35
        if fresh:
            out.push(t + c, "dovecot", "lmtp(%d): Connect from local" % dpid)
        out.push(t + c + d * 0.8, "dovecot",
                 "lmtp(%s@%s)<%d><%s>: msgid=<%s>: saved mail to %s" %
                 (rcpt, DOMAIN, dpid, sess, msgid,
                  "INBOX" if r.random() < 0.85 else r.choice(("Junk", "Lists", "INBOX"))))
        end = t + c + d
        if rcpt == self.victim and self.story and t > self.forward_from:
            out.push(t + c + d * 0.9, "dovecot",
                     "lmtp(%s@%s)<%d><%s>: sieve: msgid=<%s>: forwarded to <%s>" %
                     (rcpt, DOMAIN, dpid, sess, msgid, EXFIL_ADDR))
            self.forward_out(t + c + d + 0.2, msgid)
        tot, dl = self.delays(a, 0.01, c, d)
        out.push(end, "postfix/lmtp[%d]" % pid,
                 "%s: to=<%s@%s>, relay=%s, delay=%s, delays=%s, dsn=2.0.0, status=sent "
                 "(250 2.0.0 <%s@%s> %s Saved)" % (q, rcpt, DOMAIN, LMTP_RELAY, tot, dl, rcpt,
                                                    DOMAIN, sess))
        if fresh or r.random() < 0.3:
            out.push(end + 0.01, "dovecot",
                     "lmtp(%d): Disconnect from local: Client has quit the connection "
                     "(state=READY)" % dpid)
        return end

    def deliver_remote(self, t, q, rcpt, dom, t_arrival, fate=None):
        """smtp delivery to another domain's MX. fate: sent, deferred, bounced.
        Returns (end time, fate)."""
        r = self.rng
        info = next((x for x in EXT_DOMAINS if x[0] == dom), None)
        mx, mxip = (info[1], info[2]) if info else ("mx." + dom, "203.0.113.%d" % r.randrange(2, 250))
        if dom == EXFIL_ADDR.split("@")[1]:
            mx, mxip = EXFIL_MX
        if fate is None:
            x = r.random()
            fate = "sent" if x < 0.95 else "deferred" if x < 0.985 else "bounced"
        pid = self.smtp.take(t, 2.0)
        relay = "%s[%s]:25" % (mx, mxip)
        out = self.out
        a = t - t_arrival
        if fate == "deferred" and r.random() < 0.5:
            c = 30.0 + r.random() * 0.05
            tot, dl = self.delays(a, 0.01, c, 0)
            out.push(t + c, "postfix/smtp[%d]" % pid,
                     "%s: to=<%s>, relay=none, delay=%s, delays=%s, dsn=4.4.1, status=deferred "
                     "(connect to %s: Connection timed out)" % (q, rcpt, tot, dl, relay))
            return t + c, fate
        c, d = r.uniform(0.05, 0.6), r.uniform(0.05, 1.5)
        if r.random() < 0.6:
            out.push(t + c, "postfix/smtp[%d]" % pid,
                     "%s TLS connection established to %s: %s" %
                     (r.choice(("Trusted", "Verified", "Untrusted")), relay, r.choice(TLS_CIPHERS)))
        tot, dl = self.delays(a, 0.01, c, d)
        head = "%s: to=<%s>, relay=%s, delay=%s, delays=%s, " % (q, rcpt, relay, tot, dl)
        if fate == "sent":
            msg = head + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)" % self.qid_remote()
        elif fate == "deferred":
            msg = head + ("dsn=4.7.1, status=deferred (host %s said: 451 4.7.1 Greylisting in "
                          "action, please come back later (in reply to RCPT TO command))" % relay[:-3])
        else:
            msg = head + ("dsn=5.1.1, status=bounced (host %s said: 550 5.1.1 <%s>: Recipient "
                          "address rejected: User unknown in virtual mailbox table (in reply to "
                          "RCPT TO command))" % (relay[:-3], rcpt))
        out.push(t + c + d, "postfix/smtp[%d]" % pid, msg)
        return t + c + d, fate

    def qid_remote(self):
        return "%010X" % self.rng.getrandbits(40)

    def bounce_to(self, t, q, sender_user):
        """Non-delivery notification to a local sender; returns end time."""
        r = self.rng
        q2 = self.qid()
        pid = self.bounce.take(t, 0.2)
        cpid = self.cleanup.take(t, 0.05)
        out = self.out
        out.push(t + 0.01, "postfix/cleanup[%d]" % cpid,
                 "%s: message-id=<%s>" % (q2, self.stamp_id(t, q2)))
        out.push(t + 0.02, "postfix/bounce[%d]" % pid,
                 "%s: sender non-delivery notification: %s" % (q, q2))
        self.qmgr(t + 0.03, q2, "", r.randrange(2800, 9000), 1)
        end = self.deliver_local(t + 0.05, q2, sender_user, self.stamp_id(t, q2), t)
        out.push(end + 0.01, "postfix/qmgr[%d]" % self.qmgr_pid, "%s: removed" % q2)
        return end

    def queue_and_deliver(self, t, q, sender, rcpts, size, t_arrival, sender_local=None,
                          msgid=None):
        """qmgr, deliveries (retrying deferred ones), removed."""
        r = self.rng
        self.qmgr(t, q, sender, size, len(rcpts))
        pending = list(rcpts)
        tq = t + r.uniform(0.005, 0.05)
        last = tq
        for attempt in range(4):
            later = []
            for rc in pending:
                user, dom = rc.split("@")
                if dom == DOMAIN:
                    end = self.deliver_local(tq, q, user, msgid, t_arrival)
                    fate = "sent"
                else:
                    end, fate = self.deliver_remote(tq, q, rc, dom, t_arrival,
                                                    "sent" if attempt == 3 else None)
                    if fate == "bounced" and sender_local:
                        end = self.bounce_to(end + 0.02, q, sender_local)
                    if fate == "deferred":
                        later.append(rc)
                last = max(last, end)
            if not later:
                break
            pending = later
            tq = last + r.uniform(300, 1000) * (attempt + 1)
            self.qmgr(tq, q, sender, size, len(pending))
            tq += 0.01
            last = tq
        self.out.push(last + 0.01, "postfix/qmgr[%d]" % self.qmgr_pid, "%s: removed" % q)

    # -- sessions --------------------------------------------------------
    def inbound_mail(self, t):
        """An external MTA hands us mail for one or more people."""
        r = self.rng
        host, ip, sender_dom = r.choice(EXT_MTAS)
        port = self.port()
        out = self.out
        lip = LIP6 if ":" in ip else LIP4
        ps = self.postscreen_pid
        b = "[%s]:%d" % (ip, port)
        out.push(t, "postfix/postscreen[%d]" % ps, "CONNECT from %s to [%s]:25" % (b, lip))
        out.push(t + 0.001, "postfix/postscreen[%d]" % ps,
                 ("PASS OLD %s" if r.random() < 0.9 else "PASS NEW %s") % b)
        nrcpt = 1 if r.random() < 0.8 else r.randrange(2, 5)
        rcpts = ["%s@%s" % (u, DOMAIN) for u in
                 dict.fromkeys(self.pick_user() for _ in range(nrcpt))]
        if self.story and t > self.forward_from and r.random() < 0.25:
            rcpts[0] = "%s@%s" % (self.victim, DOMAIN)  # the victim keeps receiving mail
            rcpts = list(dict.fromkeys(rcpts))
        sender = ("%s@%s" % (r.choice(EXT_PEOPLE), sender_dom) if sender_dom
                  else self.ext_sender())
        dur = r.uniform(0.32, 0.9)
        pid = self.smtpd.take(t, dur)
        p = "postfix/smtpd[%d]" % pid
        peer = "%s[%s]" % (host, ip)
        out.push(t + 0.01, p, "connect from %s" % peer)
        tls = r.random() < 0.85
        if tls:
            out.push(t + 0.1, p, "Anonymous TLS connection established from %s: %s" %
                     (peer, r.choice(TLS_CIPHERS)))
        q = self.qid()
        out.push(t + 0.2, p, "%s: client=%s" % (q, peer))
        cpid = self.cleanup.take(t + 0.25, 0.05)
        msgid = self.msgid_ext(sender.split("@")[1], t)
        out.push(t + 0.25, "postfix/cleanup[%d]" % cpid, "%s: message-id=<%s>" % (q, msgid))
        size = int(r.lognormvariate(9.6, 1.2)) + 800
        t_q = t + 0.3
        cnt = "ehlo=%d%s mail=1 rcpt=%d data=1 quit=1 commands=%d" % (
            2 if tls else 1, " starttls=1" if tls else "", len(rcpts),
            (2 if tls else 1) + (1 if tls else 0) + len(rcpts) + 3)
        out.push(t + dur, p, "disconnect from %s %s" % (peer, cnt))
        self.queue_and_deliver(t_q, q, sender, rcpts, size, t, msgid=msgid)
        return None

    def outbound_mail(self, t, user=None, internal=False):
        """A person sends mail through submission with SASL."""
        r = self.rng
        user = user or self.pick_user()
        ip = self.client_ip(user, t)
        out = self.out
        dur = r.uniform(0.42, 1.5)
        pid = self.subm.take(t, dur)
        p = "postfix/submission/smtpd[%d]" % pid
        peer = "%s[%s]" % ("unknown" if ip != OFFICE_IP else "gw.example.org", ip)
        out.push(t, p, "connect from %s" % peer)
        out.push(t + 0.08, p, "Anonymous TLS connection established from %s: %s" %
                 (peer, r.choice(TLS_CIPHERS)))
        q = self.qid()
        out.push(t + 0.3, p, "%s: client=%s, sasl_method=PLAIN, sasl_username=%s@%s" %
                 (q, peer, user, DOMAIN))
        n = 1 if r.random() < 0.7 else r.randrange(2, 5)
        rcpts = []
        for _ in range(n):
            if internal or r.random() < 0.25:
                o = self.pick_user()
                if o != user:
                    rcpts.append("%s@%s" % (o, DOMAIN))
            else:
                rcpts.append(self.ext_sender())
        if not rcpts:
            rcpts.append(self.ext_sender())
        rcpts = list(dict.fromkeys(rcpts))
        cpid = self.cleanup.take(t + 0.35, 0.05)
        msgid = self.msgid_ext(DOMAIN, t)
        out.push(t + 0.35, "postfix/cleanup[%d]" % cpid, "%s: message-id=<%s>" % (q, msgid))
        size = int(r.lognormvariate(9.8, 1.3)) + 600
        cnt = "ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d" % (
            len(rcpts), 7 + len(rcpts))
        out.push(t + dur, p, "disconnect from %s %s" % (peer, cnt))
        self.queue_and_deliver(t + 0.4, q, "%s@%s" % (user, DOMAIN), rcpts, size, t,
                               sender_local=user, msgid=msgid)

    def spam_postscreen(self, t):
        """A bot fails postscreen's tests."""
        r = self.rng
        ip = "203.0.113.%d" % r.randrange(2, 60)
        b = "[%s]:%d" % (ip, self.port())
        ps = "postfix/postscreen[%d]" % self.postscreen_pid
        out = self.out
        out.push(t, ps, "CONNECT from %s to [%s]:25" % (b, LIP4))
        x = r.random()
        if x < 0.5:
            out.push(t + 0.02, ps, "PREGREET %d after %.2f from %s: EHLO %s\\r\\n" %
                     (r.randrange(11, 30), r.uniform(0.01, 1.5), b,
                      r.choice(("User", "ylmf-pc", "[%s]" % ip, "localhost"))))
        rank = r.randrange(2, 9)
        out.push(t + 0.05, ps, "DNSBL rank %d for %s" % (rank, b))
        if x < 0.8:
            rc = "%s@%s" % (r.choice(USERS + GUESSED_USERS), DOMAIN)
            out.push(t + 5.8, ps,
                     "NOQUEUE: reject: RCPT from %s: 550 5.7.1 Service unavailable; client [%s] "
                     "blocked using zen.spamhaus.org; from=<%s@%s>, to=<%s>, proto=ESMTP, "
                     "helo=<%s>" % (b, ip, r.choice(("info", "sale", "admin", "no-reply")),
                                    r.choice(("shop.test", "example.net", "promo.test")), rc,
                                    r.choice(("User", "example.net", "[%s]" % ip))))
        else:
            out.push(t + 6.0, ps, "HANGUP after %.1f from %s in tests after SMTP handshake" %
                     (r.uniform(0.5, 6), b))
        out.push(t + 6.1, ps, "DISCONNECT %s" % b)

    def spam_smtpd(self, t):
        """A client that passes postscreen and is rejected by smtpd's rules."""
        r = self.rng
        ip = "203.0.113.%d" % r.randrange(2, 60)
        host = "unknown" if r.random() < 0.6 else "%s.dyn.example.net" % ip.replace(".", "-")
        peer = "%s[%s]" % (host, ip)
        dur = r.uniform(0.5, 4.0)
        pid = self.smtpd.take(t, dur)
        p = "postfix/smtpd[%d]" % pid
        out = self.out
        b = "[%s]:%d" % (ip, self.port())
        ps = "postfix/postscreen[%d]" % self.postscreen_pid
        out.push(t, ps, "CONNECT from %s to [%s]:25" % (b, LIP4))
        out.push(t + 0.001, ps, "PASS NEW %s" % b)
        out.push(t + 0.01, p, "connect from %s" % peer)
        helo = r.choice(("User", "example.net", "mail.example.net", "[%s]" % ip))
        sender = "%s@%s" % (r.choice(("info", "billing", "support", "ceo")),
                            r.choice(("example.net", "promo.test", "example.org")))
        x = r.random()
        rc_user = r.choice(USERS + GUESSED_USERS)
        if x < 0.4:
            why = "450 4.7.1 Client host rejected: cannot find your hostname, [%s]" % ip
            rc = "%s@%s" % (rc_user, DOMAIN)
            peer = "unknown[%s]" % ip
        elif x < 0.75:
            rc = "%s@%s" % (r.choice(GUESSED_USERS), DOMAIN)
            why = ("550 5.1.1 <RCPT>: Recipient address rejected: User unknown in virtual "
                   "mailbox table")
        else:
            rc = "%s@%s" % (r.choice(EXT_PEOPLE), r.choice(("example.net", "university.test")))
            why = "554 5.7.1 <RCPT>: Relay access denied"
        n = 1 if r.random() < 0.7 else r.randrange(2, 4)
        for i in range(n):
            out.push(t + 0.2 + i * 0.1, p,
                     "NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>" %
                     (peer, why.replace("RCPT", rc), sender, rc, helo))
            rc = "%s@%s" % (r.choice(GUESSED_USERS + USERS), rc.split("@")[1])
        rset = 1 if n > 1 else 0
        out.push(t + dur, p,
                 "disconnect from %s ehlo=1 mail=1 rcpt=0/%d %squit=1 commands=%d/%d" %
                 (peer, n, "rset=1 " if rset else "", 3 + rset, 3 + n + rset))

    def sasl_guess(self, t):
        """A bot guesses SMTP AUTH passwords on the submission port."""
        r = self.rng
        ip = "203.0.113.%d" % r.randrange(180, 250)
        peer = "unknown[%s]" % ip
        tries = r.randrange(1, 4)
        dur = 1.0 + tries * r.uniform(1.5, 3)
        pid = self.subm.take(t, dur)
        p = "postfix/submission/smtpd[%d]" % pid
        out = self.out
        out.push(t, p, "connect from %s" % peer)
        for i in range(tries):
            u = r.choice(USERS + GUESSED_USERS)
            if r.random() < 0.5:
                m = "SASL LOGIN authentication failed: UGFzc3dvcmQ6"
            else:
                m = ("SASL PLAIN authentication failed: (reason unavailable), sasl_username=%s@%s"
                     % (u, DOMAIN))
            out.push(t + 1 + i * 2.1, p, "warning: %s: %s" % (peer, m))
        out.push(t + dur - 0.01, p, "lost connection after AUTH from %s" % peer)
        out.push(t + dur, p, "disconnect from %s ehlo=1 auth=0/%d commands=1/%d" %
                 (peer, tries, tries + 1))

    def imap_session(self, t, user=None, ip=None, heavy=False):
        """A mail client logs in, syncs and logs out (or idles)."""
        r = self.rng
        user = user or self.pick_user()
        pop3 = self.people.get(user, {}).get("pop3") and not heavy
        ip = ip or self.client_ip(user, t)
        lip = LIP6 if ":" in ip else LIP4
        sess = self.session_id()
        mpid = self.pids.new()
        proto = "pop3" if pop3 else "imap"
        out = self.out
        out.push(t, "dovecot", "%s-login: Login: user=<%s@%s>, method=PLAIN, rip=%s, lip=%s, "
                 "mpid=%d, TLS, session=<%s>" % (proto, user, DOMAIN, ip, lip, mpid, sess))
        who = "%s(%s@%s)<%d><%s>" % (proto, user, DOMAIN, mpid, sess)
        if pop3:
            n = r.randrange(0, 6)
            sz = sum(int(r.lognormvariate(9.5, 1.1)) for _ in range(n))
            out.push(t + r.uniform(1, 8), "dovecot",
                     "%s: Disconnected: Logged out top=0/0, retr=%d/%d, del=%d/%d, size=%d" %
                     (who, n, sz, n, n, sz))
            return
        if heavy:
            body_count = r.randrange(1800, 4200)
            body_bytes = sum(int(r.lognormvariate(10.2, 1.3)) for _ in range(body_count))
            hdr_count = body_count + r.randrange(0, 300)
            dur = r.uniform(600, 1500)
            cin = r.randrange(40000, 120000)
            cout = body_bytes + hdr_count * 900 + r.randrange(10000, 90000)
            out.push(t + dur, "dovecot",
                     "%s: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 hdr_count=%d "
                     "hdr_bytes=%d body_count=%d body_bytes=%d" %
                     (who, cin, cout, hdr_count, hdr_count * 870, body_count, body_bytes))
            return
        body_count = r.randrange(0, 6)
        body_bytes = sum(int(r.lognormvariate(9.3, 1.2)) for _ in range(body_count))
        hdr_count = body_count + r.randrange(0, 12)
        cin = r.randrange(90, 2500)
        cout = body_bytes + hdr_count * 600 + r.randrange(300, 6000)
        stats = ("in=%d out=%d deleted=%d expunged=%d trashed=%d hdr_count=%d hdr_bytes=%d "
                 "body_count=%d body_bytes=%d" % (cin, cout, 0, 0, 0, hdr_count,
                                                  hdr_count * 610, body_count, body_bytes))
        if r.random() < 0.55:
            out.push(t + r.uniform(0.5, 30), "dovecot", "%s: Logged out %s" % (who, stats))
        else:
            idle = r.uniform(60, 1790)
            out.push(t + idle + 1, "dovecot",
                     "%s: Disconnected: Connection closed (IDLE running for %.3f + waiting input "
                     "for 0.001 secs, 2 B in + 10+10 B out, state=wait-input) %s" %
                     (who, idle, stats))

    def imap_auth_fail(self, t, user, ip, attempts=1, known=True, mechanism="PLAIN"):
        """A failed IMAP login as Dovecot logs it with auth_verbose=yes."""
        r = self.rng
        sess = self.session_id()
        lip = LIP6 if ":" in ip else LIP4
        out = self.out
        secs = r.randrange(2, 4) * attempts
        for i in range(attempts):
            out.push(t + 0.3 + i * 2.2, "dovecot",
                     "auth: passwd-file(%s@%s,%s,<%s>): %s" %
                     (user, DOMAIN, ip, sess, "Password mismatch" if known else "unknown user"))
        out.push(t + secs, "dovecot",
                 "imap-login: Disconnected (auth failed, %d attempts in %d secs): user=<%s@%s>, "
                 "method=%s, rip=%s, lip=%s, TLS, session=<%s>" %
                 (attempts, secs, user, DOMAIN, mechanism, ip, lip, sess))

    def typo_login(self, t):
        u = self.pick_user()
        self.imap_auth_fail(t, u, self.client_ip(u, t))

    def cron_mail(self, t):
        """cron.daily output mailed to root, delivered locally."""
        r = self.rng
        q = self.qid()
        out = self.out
        out.push(t, "postfix/pickup[%d]" % self.pickup_pid, "%s: uid=0 from=<root>" % q)
        cpid = self.cleanup.take(t + 0.01, 0.05)
        out.push(t + 0.01, "postfix/cleanup[%d]" % cpid,
                 "%s: message-id=<%s>" % (q, self.stamp_id(t, q)))
        self.qmgr(t + 0.02, q, "root@" + FQDN, r.randrange(700, 4000), 1)
        pid = self.local.take(t + 0.03, 0.1)
        tot, dl = self.delays(0.02, 0.005, 0, r.uniform(0.001, 0.02))
        out.push(t + 0.05, "postfix/local[%d]" % pid,
                 "%s: to=<root@%s>, orig_to=<root>, relay=local, delay=%s, delays=%s, dsn=2.0.0, "
                 "status=sent (delivered to mailbox)" % (q, FQDN, tot, dl))
        out.push(t + 0.06, "postfix/qmgr[%d]" % self.qmgr_pid, "%s: removed" % q)

    def forward_out(self, t, msgid):
        """The victim's Sieve redirect re-submits the message to the outside."""
        r = self.rng
        q = self.qid()
        out = self.out
        sender = "%s@%s" % (self.victim, DOMAIN)
        out.push(t, "postfix/pickup[%d]" % self.pickup_pid, "%s: uid=5000 from=<%s>" % (q, sender))
        cpid = self.cleanup.take(t + 0.01, 0.05)
        out.push(t + 0.01, "postfix/cleanup[%d]" % cpid, "%s: message-id=<%s>" % (q, msgid))
        self.qmgr(t + 0.02, q, sender, int(r.lognormvariate(9.6, 1.2)) + 1200, 1)
        end, _ = self.deliver_remote(t + 0.03, q, EXFIL_ADDR, EXFIL_ADDR.split("@")[1], t,
                                     "sent")
        out.push(end + 0.01, "postfix/qmgr[%d]" % self.qmgr_pid, "%s: removed" % q)

    # -- auth.log ----------------------------------------------------------
    def ssh_admin(self, t):
        """An administrator logs in with a key from the office or home."""
        r = self.rng
        pid = self.pids.new()
        user = r.choice(("sysadmin", "karl"))
        ip = OFFICE_IP if r.random() < 0.8 else "198.51.100.%d" % (100 + USERS.index("karl.neumann"))
        port = self.port()
        out = self.out
        p = "sshd[%d]" % pid
        out.push(t, p, "Accepted publickey for %s from %s port %d ssh2: ED25519 "
                 "SHA256:%s" % (user, ip, port, base64.b64encode(
                     r.getrandbits(256).to_bytes(32, "big")).decode().rstrip("=")))
        uid = 1000 if user == "sysadmin" else 1001
        out.push(t + 0.01, p, "pam_unix(sshd:session): session opened for user %s(uid=%d) by "
                 "(uid=0)" % (user, uid))
        out.push(t + 0.05, "systemd-logind[%d]" % self.logind_pid,
                 "New session %d of user %s." % (self.next_session(), user))
        dur = r.uniform(60, 3600)
        out.push(t + dur, p, "Received disconnect from %s port %d:11: disconnected by user" %
                 (ip, port))
        out.push(t + dur + 0.001, p, "Disconnected from user %s %s port %d" % (user, ip, port))
        out.push(t + dur + 0.002, p, "pam_unix(sshd:session): session closed for user %s" % user)
        if r.random() < 0.3:
            out.push(t + 30, "sudo", "%8s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; "
                     "COMMAND=/usr/sbin/postqueue -p" % (user, user))
            out.push(t + 30.01, "sudo",
                     "pam_unix(sudo:session): session opened for user root(uid=0) by %s(uid=%d)"
                     % (user, uid))
            out.push(t + 30.2, "sudo", "pam_unix(sudo:session): session closed for user root")

    def next_session(self):
        self.logind_session += 1
        return self.logind_session

    def ssh_bot(self, t, ip=None, tries=None):
        """Password guessing over SSH."""
        r = self.rng
        ip = ip or "203.0.113.%d" % r.randrange(180, 250)
        tries = tries or r.randrange(1, 4)
        out = self.out
        for i in range(tries):
            pid = self.pids.new()
            port = self.port()
            p = "sshd[%d]" % pid
            tt = t + i * r.uniform(2, 9)
            if r.random() < 0.6:
                u = r.choice(("admin", "oracle", "test", "ubuntu", "postgres", "git", "user",
                              "ftpuser", "deploy"))
                out.push(tt, p, "Invalid user %s from %s port %d" % (u, ip, port))
                out.push(tt + 2.1, p, "Failed password for invalid user %s from %s port %d ssh2"
                         % (u, ip, port))
                out.push(tt + 2.5, p, "Connection closed by invalid user %s %s port %d [preauth]"
                         % (u, ip, port))
            else:
                out.push(tt + 0.01, p, "pam_unix(sshd:auth): authentication failure; logname= "
                         "uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root" % ip)
                out.push(tt + 2.1, p, "Failed password for root from %s port %d ssh2" % (ip, port))
                out.push(tt + 2.6, p, "Received disconnect from %s port %d:11: Bye Bye [preauth]"
                         % (ip, port))
                out.push(tt + 2.6, p, "Disconnected from authenticating user root %s port %d "
                         "[preauth]" % (ip, port))

    def cron_run(self, t):
        pid = self.pids.new()
        self.out.push(t, "CRON[%d]" % pid, "pam_unix(cron:session): session opened for user "
                      "root(uid=0) by (uid=0)")
        self.out.push(t + 0.2, "CRON[%d]" % pid, "pam_unix(cron:session): session closed for user "
                      "root")

    # -- the story ------------------------------------------------------------
    def plan(self, t, fn, *args, **kw):
        """Schedule fn(t, ...) to run when the simulation reaches time t, so
        that the process ids it takes follow the ones before it."""
        self.agenda_seq += 1
        heapq.heappush(self.agenda, (t, self.agenda_seq, fn, args, kw))

    def plan_story(self):
        """Schedule the attack. Returns an estimate of the lines it writes."""
        r = self.rng
        est = 0
        if self.kind in ("mail", "all"):
            t = self.spray_start
            targets = [u for u in USERS] + list(GUESSED_USERS[:6])
            for rnd in range(SPRAY_PASSWORDS):
                order = targets[:]
                r.shuffle(order)
                for i, u in enumerate(order):
                    ip = SPRAY_IPS[(i + rnd) % len(SPRAY_IPS)]
                    t += r.uniform(15, 70)
                    if u == self.victim and rnd == SPRAY_PASSWORDS - 2:
                        # this password works: a short login, then the sprayer moves on
                        self.plan(t, self.imap_session, u, ip)
                        targets.remove(u)
                        continue
                    self.plan(t, self.imap_auth_fail, u, ip, 1, known=u in self.people)
                    est += 2
                t += r.uniform(1800, 3600)  # wait out lockout windows between passwords
            # the night after: a login from an address never seen
            t = self.breach_at
            self.plan(t, self.imap_session, self.victim, ATTACKER_IP)
            t += r.uniform(40, 120)
            for k in range(3):
                self.plan(t, self.imap_session, self.victim, ATTACKER_IP, heavy=True)
                t += r.uniform(200, 500)
            # a Sieve script that redirects mail is uploaded
            self.plan(self.forward_from - r.uniform(30, 90), self.managesieve, self.victim,
                      ATTACKER_IP)
            est += 12
        if self.kind in ("auth", "all"):
            t = self.spray_start - 5400
            for ip in SPRAY_IPS:
                for _ in range(12):
                    t += r.uniform(20, 200)
                    self.plan(t, self.ssh_bot, ip, 1)
                    est += 3
        return est

    def managesieve(self, t, user, ip):
        sess = self.session_id()
        mpid = self.pids.new()
        self.out.push(t, "dovecot", "managesieve-login: Login: user=<%s@%s>, method=PLAIN, "
                      "rip=%s, lip=%s, mpid=%d, TLS, session=<%s>" %
                      (user, DOMAIN, ip, LIP6 if ":" in ip else LIP4, mpid, sess))
        self.out.push(t + 4.2, "dovecot", "managesieve(%s@%s)<%d><%s>: Disconnected: Logged "
                      "out bytes=312/1894" % (user, DOMAIN, mpid, sess))

    # -- driver ------------------------------------------------------------------
    def streams(self):
        """(name, weighted by hour of day?, [(session function, weight)]) per
        arrival stream."""
        if self.kind == "auth":
            return [
                ("people", True, [(self.ssh_admin, 3), (self.cron_run, 6)]),
                ("robots", False, [(self.ssh_bot, 10)]),
            ]
        people = [(self.inbound_mail, 30), (self.outbound_mail, 11),
                  (lambda t: self.outbound_mail(t, internal=True), 4), (self.imap_session, 44),
                  (self.typo_login, 1)]
        robots = [(self.spam_postscreen, 14), (self.spam_smtpd, 10), (self.sasl_guess, 6)]
        if self.kind == "all":
            people += [(self.ssh_admin, 1)]
            robots += [(self.ssh_bot, 4)]
        return [("people", True, people), ("robots", False, robots)]

    def run(self, lines):
        out = self.out
        r = self.rng
        self.logind_pid = self.pids.new()
        self.logind_session = r.randrange(10, 400)
        self.agenda = []
        self.agenda_seq = 0
        story_lines = self.plan_story() if self.story else 0
        days = int((self.end - self.start) // 86400) + 2
        day0 = self.start - self.start % 86400
        if self.kind in ("mail", "all"):
            for d in range(days):  # cron.daily at 06:25 mails root
                t = day0 + d * 86400 + 6 * 3600 + 25 * 60 + r.uniform(0, 50)
                if t >= self.start:
                    self.plan(t, self.cron_mail)
        budget = max(lines - story_lines, 1)
        # cumulative activity by hour, for people; robots are flat
        hours = int((self.end - self.start) // 3600) + 24 * 60
        h0 = int(self.start // 3600)
        cum_p, cum_r, sp, sr = [0.0], [0.0], 0.0, 0.0
        for h in range(hours):
            tm = dt.datetime(1970, 1, 1) + dt.timedelta(hours=h0 + h)
            w = HOUR_WEIGHT[tm.hour] * (0.3 if tm.weekday() >= 5 else 1.0)
            sp += w
            sr += 1.0
            cum_p.append(sp)
            cum_r.append(sr)

        def u_at(cum, t):
            x = (t - h0 * 3600) / 3600.0
            i = min(int(x), len(cum) - 2)
            return cum[i] + (cum[i + 1] - cum[i]) * (x - i)

        def t_at(cum, u):
            i = bisect.bisect_right(cum, u) - 1
            i = max(0, min(i, len(cum) - 2))
            w = cum[i + 1] - cum[i]
            f = (u - cum[i]) / w if w > 0 else 0.0
            return (h0 + i + f) * 3600.0

        share = {"people": 0.7, "robots": 0.3}
        st = []
        for name, weighted, table in self.streams():
            cum = cum_p if weighted else cum_r
            u0 = u_at(cum, self.start)
            st.append({"cum": cum, "funcs": [f for f, _ in table],
                       "weights": [w for _, w in table], "budget": budget * share[name],
                       "made": 0, "sessions": 0, "avg": 8.0, "u": u0,
                       "u_end": u_at(cum, self.end), "u_min": (u_at(cum, self.end) - u0) / 50,
                       "t": self.start})

        def advance(s):
            """Next arrival: the remaining budget spread over the remaining
            (weighted) time, so that the run ends near the planned end."""
            rem_u = max(s["u_end"] - s["u"], s["u_min"] + 1e-9)
            rem_l = max(s["budget"] - s["made"], s["avg"] * 3)
            s["u"] += r.expovariate(rem_l / (rem_u * s["avg"]))
            s["t"] = t_at(s["cum"], s["u"])

        for s in st:
            advance(s)
        agenda = self.agenda
        while True:
            s = min(st, key=lambda x: x["t"])
            t = s["t"]
            if agenda and agenda[0][0] <= t:
                ta, _, fn, args, kw = heapq.heappop(agenda)
                if not out.drain(ta):
                    return
                fn(ta, *args, **kw)
                continue
            if not out.drain(t):
                return
            before = len(out.heap)
            f = r.choices(s["funcs"], s["weights"])[0]
            f(t)
            s["made"] += len(out.heap) - before
            s["sessions"] += 1
            s["avg"] = max(1.0, s["made"] / s["sessions"])
            advance(s)


def parse_start(text):
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            d = dt.datetime.strptime(text, fmt)
            return (d - dt.datetime(1970, 1, 1)).total_seconds()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError("--start: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Write deterministic, realistic mail-server syslog (Postfix, Dovecot, "
                    "sshd) with an attack story, for kenchi's samples, tests and benchmarks.")
    ap.add_argument("--lines", type=int, default=5000, help="lines to write (default 5000)")
    ap.add_argument("--start", type=parse_start, default=parse_start("2024-03-04"),
                    dest="start_ts", help="local time of the first line (default 2024-03-04)")
    ap.add_argument("--days", type=float, default=None,
                    help="period covered (default lines/2500, between 1 and 30)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--log", choices=("mail", "auth", "all"), default="mail",
                    help="mail: Postfix+Dovecot (mail.log); auth: sshd, PAM, cron (auth.log); "
                         "all: both in one file")
    ap.add_argument("--no-story", action="store_true", help="leave the attack out")
    ap.add_argument("--out", default="-", help="output file (default standard output)")
    ap.add_argument("--gzip", action="store_true",
                    help="gzip the output (implied by an --out ending in .gz)")
    args = ap.parse_args(argv)
    if args.lines < 1:
        ap.error("--lines must be at least 1")
    if args.days is None:
        args.days = min(30.0, max(1.0, args.lines / 2500.0))
    if args.days <= 0:
        ap.error("--days must be positive")
    use_gzip = args.gzip or args.out.endswith(".gz")
    if args.out == "-":
        raw = sys.stdout.buffer
    else:
        raw = open(args.out, "wb")
    sink = raw
    if use_gzip:
        sink = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    text = io.TextIOWrapper(sink, encoding="ascii", newline="\n", write_through=False)
    out = Out(text.write, args.lines)
    try:
        Sim(args, out).run(args.lines)
        text.flush()
    except BrokenPipeError:  # | head: the reader has all it wants
        sys.stderr.close()
        return 0
    text.detach()
    if use_gzip:
        sink.close()
    if raw is not sys.stdout.buffer:
        raw.close()
    else:
        raw.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
