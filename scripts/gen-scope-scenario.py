#!/usr/bin/env python3
"""gen-scope-scenario.py - a compromise among ordinary mail, and what it touched.

Writes, into DIR:
  mail.log       Postfix and Dovecot on mx1 of example.org (RFC 3164 lines of
                 2024, read them with --year 2024 --timezone UTC)
  auth.log       sshd on the same host
  m365.json      Microsoft 365 unified audit records (a JSON array)
  expected.json  what `kenchi scope` must report for the story's window,
                 worked out by this script from the messages it wrote, not
                 from kenchi

The organisation example.org has a few people (--users) who read mail over
IMAP or POP3 from the office (192.0.2.10) or home, receive mail from
external correspondents and send mail through the submission service, every
day of the period (--days, from 2024-06-10). The story, inside the window
[2024-06-11T00:00Z, 2024-06-13T00:00Z):
  - 203.0.113.129 fails to log in to eva over IMAP (two attempts; eva is
    not compromised) and to root over SSH;
  - it logs in to carla and david over IMAP and downloads their mailboxes,
    to backup over SSH, and to david through Microsoft 365 (sign-in,
    MailItemsAccessed, New-InboxRule forwarding to archive.david@exfil.test);
  - it submits mail as david (Postfix SASL) to three external addresses
    and one internal one; one delivery is deferred first;
  - carla's address gets a virtual alias: every message to her is also
    relayed to drop.box@exfil.test (Postfix orig_to=);
  - david gets a Sieve redirect to sieve.copy@exfil.test (Dovecot
    "forwarded to", then pickup, qmgr and smtp);
  - carla sets Set-Mailbox forwarding in Microsoft 365 from the address.
Sentinels that must stay out of the notification list: only.anna@solo.test
writes to anna only, before.window@early.test writes to carla before the
window, after.window@late.test writes to david after it, and a bounce (null
sender) reaches david inside it.

--scale multiplies people and traffic for timing runs; expected.json is then
still exact. Everything comes from random.Random(--seed).
"""

import argparse
import base64
import datetime as dt
import json
import os
import random

HOST = "mx1"
DOMAIN = "example.org"
LIP = "198.51.100.25"
OFFICE = "192.0.2.10"
ATTACKER = "203.0.113.129"
LMTP_RELAY = "mx1.example.org[private/dovecot-lmtp]"
START = int(dt.datetime(2024, 6, 10, tzinfo=dt.timezone.utc).timestamp())
SINCE = int(dt.datetime(2024, 6, 11, tzinfo=dt.timezone.utc).timestamp())
UNTIL = int(dt.datetime(2024, 6, 13, tzinfo=dt.timezone.utc).timestamp())
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec")

BASE_USERS = ["anna", "ben", "carla", "david", "eva", "frank"]
INVOLVED = ("carla", "david", "backup")  # accounts the attacker got into
EXT_DOMAINS = [
    ("partner.test", "mx.partner.test", "192.0.2.33"),
    ("supplier.test", "mail.supplier.test", "192.0.2.71"),
    ("bank.example.net", "mx1.bank.example.net", "198.51.100.30"),
    ("university.test", "mx.university.test", "198.51.100.87"),
    ("agency.test", "smtp.agency.test", "2001:db8:7:1::19"),
]
EXT_PEOPLE = ["j.smith", "m.garcia", "orders", "l.rossi", "p.novak", "k.tanaka", "service"]
EXFIL_MX = ("mx.exfil.test", "203.0.113.150")
LEAK_MX = {"leak-one.test": ("mx.leak-one.test", "198.51.100.140"),
           "leak-two.test": ("mx.leak-two.test", "198.51.100.141"),
           "leak-three.test": ("mx.leak-three.test", "198.51.100.142")}


class Scenario:
    def __init__(self, seed, scale, days):
        self.rng = random.Random(seed)
        self.scale = scale
        self.days = days
        self.lines = []  # (t, seq, program, message)
        self.seq = 0
        self.qids = set()
        self.pid = 2000
        self.m365 = []
        users = list(BASE_USERS)
        for i in range(len(BASE_USERS) * (scale - 1)):
            users.append("user%04d" % i)
        self.users = users
        self.externals = ["%s@%s" % (p, d[0]) for d in EXT_DOMAINS for p in EXT_PEOPLE]
        for i in range(40 * (scale - 1)):
            self.externals.append("contact%d@%s" % (i, EXT_DOMAINS[i % len(EXT_DOMAINS)][0]))
        # ground truth, for the window only
        self.corr = {}  # address -> counters
        self.acct = {a: {"sent_messages": 0, "received_messages": 0, "forwarded": 0,
                         "bytes_out": 0, "bytes_out_from_indicator": 0,
                         "logouts": 0, "logouts_from_indicator": 0,
                         "imap_bodies": 0, "pop3_retrieved": 0}
                     for a in INVOLVED}
        self.sieve_from = None  # david's Sieve redirect exists from then
        self.alias_from = None  # carla's alias from then

    # -- output helpers ----------------------------------------------------
    def push(self, t, prog, msg):
        self.seq += 1
        self.lines.append((t, self.seq, prog, msg))

    def new_pid(self):
        self.pid += 1 + self.rng.randrange(5)
        return self.pid

    def qid(self):
        while True:
            q = "%010X" % self.rng.getrandbits(40)
            if q not in self.qids:
                self.qids.add(q)
                return q

    def session(self):
        return base64.b64encode(self.rng.getrandbits(96).to_bytes(12, "big"), b"+/").decode()

    def msgid(self, domain):
        return "%016x@%s" % (self.rng.getrandbits(64), domain)

    @staticmethod
    def in_window(t):
        return SINCE <= t < UNTIL

    def c(self, addr):
        return self.corr.setdefault(addr, {"messages_to": 0, "messages_from": 0,
                                           "delivered": 0, "forwarded": 0})

    @staticmethod
    def addr(user):
        return "%s@%s" % (user, DOMAIN)

    @staticmethod
    def mx_of(addr):
        dom = addr.split("@")[1]
        for d, host, ip in EXT_DOMAINS:
            if d == dom:
                return host, ip
        if dom in LEAK_MX:
            return LEAK_MX[dom]
        if dom == "exfil.test":
            return EXFIL_MX
        return "mx." + dom, "198.51.100.199"

    # -- Postfix -----------------------------------------------------------
    def smtp_out(self, t, q, rcpt, orig_to=None, defer_first=False):
        """Relay one recipient to its MX; returns the time the delivery ends."""
        host, ip = self.mx_of(rcpt)
        pid = self.new_pid()
        orig = ", orig_to=<%s>" % orig_to if orig_to else ""
        if defer_first:
            self.push(t + 0.7, "postfix/smtp[%d]" % pid,
                      "%s: to=<%s>%s, relay=%s[%s]:25, delay=0.7, delays=0.1/0.01/0.3/0.29, "
                      "dsn=4.7.1, status=deferred (host %s[%s] said: 451 4.7.1 Greylisting in "
                      "action, please come back later (in reply to RCPT TO command))"
                      % (q, rcpt, orig, host, ip, host, ip))
            t += 600
        self.push(t + 0.8, "postfix/smtp[%d]" % pid,
                  "%s: to=<%s>%s, relay=%s[%s]:25, delay=0.8, delays=0.1/0.01/0.3/0.39, "
                  "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)"
                  % (q, rcpt, orig, host, ip, "%08X" % self.rng.getrandbits(32)))
        return t + 0.8

    def lmtp_in(self, t, q, user, msgid):
        sess = self.session()
        dpid = self.new_pid()
        self.push(t + 0.2, "dovecot", "lmtp(%s)<%d><%s>: msgid=<%s>: saved mail to INBOX"
                  % (self.addr(user), dpid, sess, msgid))
        self.push(t + 0.3, "postfix/lmtp[%d]" % self.new_pid(),
                  "%s: to=<%s>, relay=%s, delay=0.3, delays=0.2/0.01/0.01/0.08, dsn=2.0.0, "
                  "status=sent (250 2.0.0 <%s> %s Saved)"
                  % (q, self.addr(user), LMTP_RELAY, self.addr(user), sess))
        return dpid, sess

    def inbound(self, t, sender, users, null_sender=False):
        """A message from outside to the people users."""
        dom = sender.split("@")[1]
        host, ip = self.mx_of(sender)
        q = self.qid()
        pid = self.new_pid()
        mid = self.msgid(dom)
        self.push(t, "postfix/smtpd[%d]" % pid, "connect from %s[%s]" % (host, ip))
        self.push(t + 0.1, "postfix/smtpd[%d]" % pid, "%s: client=%s[%s]" % (q, host, ip))
        self.push(t + 0.2, "postfix/cleanup[%d]" % self.new_pid(), "%s: message-id=<%s>" % (q, mid))
        env = "" if null_sender else sender
        self.push(t + 0.3, "postfix/qmgr[1500]", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)"
                  % (q, env, self.rng.randrange(2000, 60000), len(users)))
        self.push(t + 0.4, "postfix/smtpd[%d]" % pid,
                  "disconnect from %s[%s] ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=%d"
                  % (host, ip, len(users), 4 + len(users)))
        end = t + 1
        win = self.in_window(t)
        counted_from = False
        for u in users:
            dpid, sess = self.lmtp_in(t + 0.4, q, u, mid)
            if u in INVOLVED and win:
                self.acct[u]["received_messages"] += 1
                if not null_sender and not counted_from:
                    self.c(sender)["messages_from"] += 1
                    counted_from = True
            if u == "carla" and self.alias_from and t >= self.alias_from:
                end = self.smtp_out(t + 0.5, q, "drop.box@exfil.test", orig_to=self.addr(u))
                if win:
                    k = self.c("drop.box@exfil.test")
                    k["messages_to"] += 1
                    k["delivered"] += 1
                    k["forwarded"] += 1
                    self.acct[u]["forwarded"] += 1
            if u == "david" and self.sieve_from and t >= self.sieve_from:
                self.push(t + 0.65, "dovecot",
                          "lmtp(%s)<%d><%s>: sieve: msgid=<%s>: forwarded to <%s>"
                          % (self.addr(u), dpid, sess, mid, "sieve.copy@exfil.test"))
                self.forward_copy(t + 1.0, u, mid)
        self.push(end + 0.1, "postfix/qmgr[1500]", "%s: removed" % q)

    def forward_copy(self, t, user, mid):
        q = self.qid()
        self.push(t, "postfix/pickup[1501]", "%s: uid=5000 from=<%s>" % (q, self.addr(user)))
        self.push(t + 0.1, "postfix/cleanup[%d]" % self.new_pid(), "%s: message-id=<%s>" % (q, mid))
        self.push(t + 0.2, "postfix/qmgr[1500]", "%s: from=<%s>, size=%d, nrcpt=1 (queue active)"
                  % (q, self.addr(user), self.rng.randrange(2000, 60000)))
        end = self.smtp_out(t + 0.2, q, "sieve.copy@exfil.test")
        self.push(end + 0.1, "postfix/qmgr[1500]", "%s: removed" % q)
        if self.in_window(t):
            k = self.c("sieve.copy@exfil.test")
            k["messages_to"] += 1
            k["delivered"] += 1
            k["forwarded"] += 1
            self.acct[user]["forwarded"] += 1

    def submit(self, t, user, ip, rcpts, defer=()):
        """user sends a message through the submission service."""
        q = self.qid()
        pid = self.new_pid()
        host = "unknown"
        self.push(t, "postfix/submission/smtpd[%d]" % pid, "connect from %s[%s]" % (host, ip))
        self.push(t + 0.1, "postfix/submission/smtpd[%d]" % pid,
                  "%s: client=%s[%s], sasl_method=PLAIN, sasl_username=%s"
                  % (q, host, ip, self.addr(user)))
        self.push(t + 0.2, "postfix/cleanup[%d]" % self.new_pid(),
                  "%s: message-id=<%s>" % (q, self.msgid(DOMAIN)))
        self.push(t + 0.3, "postfix/qmgr[1500]", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)"
                  % (q, self.addr(user), self.rng.randrange(2000, 60000), len(rcpts)))
        self.push(t + 0.4, "postfix/submission/smtpd[%d]" % pid,
                  "disconnect from %s[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1"
                  % (host, ip, len(rcpts)))
        win = self.in_window(t)
        if win and user in INVOLVED:
            self.acct[user]["sent_messages"] += 1
        end = t + 1
        for r in rcpts:
            local = r.endswith("@" + DOMAIN)
            if local:
                rcpt_user = r.split("@")[0]
                self.lmtp_in(t + 0.4, q, rcpt_user, "x")
                if win and rcpt_user in INVOLVED:
                    self.acct[rcpt_user]["received_messages"] += 1
                    if user not in INVOLVED:
                        pass  # internal sender: not a correspondent
            else:
                end = max(end, self.smtp_out(t + 0.4, q, r, defer_first=r in defer))
                if win and user in INVOLVED:
                    k = self.c(r)
                    k["messages_to"] += 1
                    k["delivered"] += 1
        self.push(end + 0.1, "postfix/qmgr[1500]", "%s: removed" % q)

    # -- Dovecot sessions --------------------------------------------------
    def imap_session(self, t, user, ip, out_bytes, bodies, pop3=False):
        sess = self.session()
        mpid = self.new_pid()
        svc = "pop3" if pop3 else "imap"
        self.push(t, "dovecot", "%s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=%s, "
                  "mpid=%d, TLS, session=<%s>" % (svc, self.addr(user), ip, LIP, mpid, sess))
        dur = 5 + self.rng.randrange(600)
        if pop3:
            self.push(t + dur, "dovecot", "pop3(%s)<%d><%s>: Disconnected: Logged out top=0/0, "
                      "retr=%d/%d, del=%d/%d, size=%d"
                      % (self.addr(user), mpid, sess, bodies, out_bytes, bodies, bodies,
                         out_bytes))
        else:
            self.push(t + dur, "dovecot", "imap(%s)<%d><%s>: Logged out in=%d out=%d deleted=0 "
                      "expunged=0 trashed=0 hdr_count=%d hdr_bytes=%d body_count=%d "
                      "body_bytes=%d"
                      % (self.addr(user), mpid, sess, 300 + bodies * 40, out_bytes, bodies * 2,
                         bodies * 600, bodies, max(0, out_bytes - bodies * 700)))
        if user in INVOLVED and self.in_window(t) and self.in_window(t + dur):
            a = self.acct[user]
            a["bytes_out"] += out_bytes
            a["logouts"] += 1
            a["imap_bodies"] += 0 if pop3 else bodies
            a["pop3_retrieved"] += bodies if pop3 else 0
            if ip == ATTACKER:
                a["bytes_out_from_indicator"] += out_bytes
                a["logouts_from_indicator"] += 1

    # -- the period --------------------------------------------------------
    def normal_day(self, day0):
        r = self.rng
        for u in self.users:
            pop3 = u == "frank"
            home = "198.51.100.%d" % (100 + self.users.index(u) % 100)
            for _ in range(2 + r.randrange(3)):  # reading
                t = self.work_time(day0)
                self.imap_session(t, u, OFFICE if r.random() < 0.7 else home,
                                  r.randrange(5000, 400000), r.randrange(0, 20), pop3)
            for _ in range(2 + r.randrange(3)):  # mail in
                self.inbound(self.work_time(day0), r.choice(self.externals), [u])
            for _ in range(1 + r.randrange(3)):  # mail out
                rcpts = [r.choice(self.externals)]
                if r.random() < 0.3:
                    rcpts.append(self.addr(r.choice(self.users)))
                if r.random() < 0.2:
                    rcpts.append(r.choice(self.externals))
                self.submit(self.work_time(day0), u, OFFICE, sorted(set(rcpts)))
        # some mail to two people at once
        a, b = r.sample(self.users, 2)
        self.inbound(self.work_time(day0), r.choice(self.externals), sorted([a, b]))

    def work_time(self, day0):
        # 07:00-19:00, never within ten minutes of the window's edges
        return day0 + 7 * 3600 + self.rng.randrange(12 * 3600) + self.rng.random()

    def story(self):
        t = SINCE + 2 * 3600  # 02:00, the night after the window opens
        r = self.rng
        # failures: eva over IMAP (2 attempts), root over SSH
        self.push(t + 60, "dovecot",
                  "imap-login: Disconnected (auth failed, 2 attempts in 6 secs): "
                  "user=<eva@example.org>, method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>"
                  % (ATTACKER, LIP, self.session()))
        self.auth.append((t + 90, "sshd[%d]" % self.new_pid(),
                          "Failed password for root from %s port 50010 ssh2" % ATTACKER))
        # IMAP into carla (two sessions) and david (one)
        self.imap_session(t + 300, "carla", ATTACKER, 48000000 + r.randrange(1000000), 2500)
        self.imap_session(t + 1500, "carla", ATTACKER, 21000000 + r.randrange(1000000), 900)
        self.imap_session(t + 2400, "david", ATTACKER, 35000000 + r.randrange(1000000), 1700)
        # SSH into backup
        self.auth.append((t + 2500, "sshd[%d]" % self.new_pid(),
                          "Accepted password for backup from %s port 50022 ssh2" % ATTACKER))
        # mail submitted as david
        self.submit(t + 3000, "david", ATTACKER,
                    ["target1@leak-one.test", "target2@leak-two.test"])
        self.submit(t + 3300, "david", ATTACKER,
                    ["anna@example.org", "target3@leak-three.test"],
                    defer=("target3@leak-three.test",))
        # forwarding from now on
        self.alias_from = t + 3600
        self.sieve_from = t + 3600
        # Microsoft 365
        self.m365_record(t + 2100, "UserLoggedIn", "david@example.org", ATTACKER,
                         {"Workload": "AzureActiveDirectory", "RecordType": 15,
                          "ResultStatus": "Success"})
        self.m365_record(t + 2200, "MailItemsAccessed", "david@example.org", ATTACKER,
                         {"Workload": "Exchange", "RecordType": 50, "ResultStatus": "Succeeded",
                          "AppId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
                          "ClientAppId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
                          "MailboxOwnerUPN": "david@example.org", "OperationCount": 120,
                          "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
                          "Folders": [
                              {"Path": "\\Inbox", "FolderItems": [
                                  {"InternetMessageId": "<a1@partner.test>"},
                                  {"InternetMessageId": "<a2@partner.test>"},
                                  {"InternetMessageId": "<a3@supplier.test>"}]},
                              {"Path": "\\Sent Items", "FolderItems": [
                                  {"InternetMessageId": "<a4@example.org>"}]}]})
        self.m365_record(t + 2300, "New-InboxRule", "david@example.org", ATTACKER + ":50312",
                         {"Workload": "Exchange", "RecordType": 1, "ResultStatus": "True",
                          "Parameters": [{"Name": "Name", "Value": "."},
                                         {"Name": "ForwardTo", "Value":
                                          "archive.david@exfil.test"},
                                         {"Name": "MarkAsRead", "Value": "True"}]})
        self.m365_record(t + 2350, "Set-Mailbox", "carla@example.org", ATTACKER,
                         {"Workload": "Exchange", "RecordType": 1, "ResultStatus": "True",
                          "Parameters": [{"Name": "Identity", "Value": "carla@example.org"},
                                         {"Name": "ForwardingSmtpAddress", "Value":
                                          "smtp:carla.backup@exfil.test"},
                                         {"Name": "DeliverToMailboxAndForward",
                                          "Value": "True"}]})
        # somebody else's ordinary mailbox access from the office: not in scope
        self.m365_record(SINCE + 10 * 3600, "MailItemsAccessed", "ben@example.org", OFFICE,
                         {"Workload": "Exchange", "RecordType": 50, "ResultStatus": "Succeeded",
                          "AppId": "5d661950-3475-41cd-a2c3-d671a3162bc1", "OperationCount": 1,
                          "Folders": [{"Path": "\\Inbox"}]})
        # sentinels
        self.inbound(SINCE + 9 * 3600 + 11, "only.anna@solo.test", ["anna"])
        self.inbound(SINCE - 5 * 3600, "before.window@early.test", ["carla"])
        self.inbound(UNTIL + 5 * 3600, "after.window@late.test", ["david"])
        self.inbound(SINCE + 15 * 3600, "mailer-daemon@bounce.test", ["david"], null_sender=True)

    def m365_record(self, t, op, user, ip, extra):
        tm = dt.datetime.fromtimestamp(int(t), dt.timezone.utc)
        rec = {"CreationTime": tm.strftime("%Y-%m-%dT%H:%M:%S"),
               "Id": "%08x-%04x-4%03x-8%03x-%012x" % (
                   self.rng.getrandbits(32), self.rng.getrandbits(16),
                   self.rng.getrandbits(12), self.rng.getrandbits(12),
                   self.rng.getrandbits(48)),
               "Operation": op,
               "OrganizationId": "7f3c9a52-1d4e-4b8a-9c61-2e5f0a7b3d94",
               "UserKey": "1003200%d" % (len(self.m365) + 1),
               "UserType": 0, "Version": 1, "ClientIP": ip, "UserId": user}
        rec.update(extra)
        self.m365.append(rec)

    def run(self):
        self.auth = []
        days = [START + d * 86400 for d in range(self.days)]
        # the story first: it sets the dates from which forwarding applies,
        # and later traffic is generated in time order of the days
        story_day = (SINCE - START) // 86400
        for i, day0 in enumerate(days):
            if i == story_day:
                self.story()
            self.normal_day(day0)
        # ordinary SSH logins of the administrator
        for day0 in days:
            self.auth.append((day0 + 8 * 3600 + 120, "sshd[%d]" % self.new_pid(),
                              "Accepted publickey for admin from %s port 51111 ssh2: ED25519 "
                              "SHA256:v33fp6m5h23A3Yq41jHib3ToaBq+2piUCEYAhjja8FE" % OFFICE))

    # -- writing -----------------------------------------------------------
    @staticmethod
    def stamp(t):
        tm = dt.datetime.fromtimestamp(int(t), dt.timezone.utc)
        return "%s %2d %02d:%02d:%02d" % (MONTHS[tm.month - 1], tm.day, tm.hour, tm.minute,
                                          tm.second)

    def write(self, outdir):
        os.makedirs(outdir, exist_ok=True)
        self.lines.sort()
        with open(os.path.join(outdir, "mail.log"), "w") as f:
            for t, _, prog, msg in self.lines:
                f.write("%s %s %s: %s\n" % (self.stamp(t), HOST, prog, msg))
        with open(os.path.join(outdir, "auth.log"), "w") as f:
            for t, prog, msg in sorted(self.auth):
                f.write("%s %s %s: %s\n" % (self.stamp(t), HOST, prog, msg))
        with open(os.path.join(outdir, "m365.json"), "w") as f:
            json.dump(sorted(self.m365, key=lambda r: r["CreationTime"]), f, indent=1)
            f.write("\n")
        expected = {
            "since": "2024-06-11T00:00:00Z", "until": "2024-06-13T00:00:00Z",
            "indicator": ATTACKER, "internal_domains": [DOMAIN],
            "accounts": {self.addr(a) if a != "backup" else a: v
                         for a, v in sorted(self.acct.items())},
            "logins": {"carla@example.org": [2, 0], "david@example.org": [4, 0],
                       "backup": [1, 0], "eva@example.org": [0, 2], "root": [0, 1]},
            "forwarding": sorted([
                ["postfix-orig-to", "carla@example.org", "drop.box@exfil.test"],
                ["sieve", "david@example.org", "sieve.copy@exfil.test"],
                ["m365-inbox-rule", "david@example.org", "archive.david@exfil.test"],
                ["m365-mailbox-forwarding", "carla@example.org", "carla.backup@exfil.test"]]),
            "changes": ["New-InboxRule", "Set-Mailbox"],
            "correspondents": dict(sorted(self.corr.items())),
            "absent": ["only.anna@solo.test", "before.window@early.test",
                       "after.window@late.test", "archive.david@exfil.test",
                       "anna@example.org", "david@example.org", "carla@example.org"],
            "lines": len(self.lines),
        }
        with open(os.path.join(outdir, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1, sort_keys=True)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--scale", type=int, default=1, help="people and traffic multiplier")
    ap.add_argument("--days", type=int, default=4)
    a = ap.parse_args()
    if a.days < 4 or a.scale < 1:
        ap.error("--days must be at least 4, --scale at least 1")
    s = Scenario(a.seed, a.scale, a.days)
    s.run()
    s.write(a.outdir)


if __name__ == "__main__":
    main()
