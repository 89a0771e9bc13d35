#!/usr/bin/env python3
"""Postfix decoder against the postfix-grok-patterns test corpus.

Each $KENCHI_SHARED/data/logs/postfix-grok-patterns/test/*.yaml case holds
`data` (a bare Postfix message, no syslog header) and `results` (the fields
a grok parser extracts from it). All cases are fed, one per line, to
`$KENCHI parse --format postfix -` and every expected field is checked
against kenchi's event through the table FIELDS below (grok name -> how
kenchi carries the same information). A case passes when its event is a
Postfix event with an event.action and every field checks out; on top, the
ECS core must agree with the native fields (source.ip = client_ip, ...).

Two kinds of input are adapted, never the expectations:
  - The YAML's double-quoted strings turned the escapes Postfix writes into
    its log ("\\r\\n" after PREGREET, pipelined commands) into real control
    characters; they are written back as Postfix logs them, so that a case
    stays one line.
  - Cases of sub-patterns (command counters, delays, relay, TLS features)
    hold a fragment, not a message; they are embedded in the message that
    carries that fragment (WRAP below) and then checked the same way.

Prints TAP: one line per case, and "# covered N of M".
"""
import json
import os
import subprocess
import sys

SHARED = os.environ.get("KENCHI_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
CORPUS = os.path.join(SHARED, "data/logs/postfix-grok-patterns/test")
KENCHI = os.environ.get("KENCHI", "build/debug/kenchi")

# Cases deliberately not covered, with the reason. Empty: all are covered.
EXPECTED_SKIPS = {}

# Sub-pattern cases: the message their fragment is embedded in.
WRAP = {
    "command_counter_data_": "disconnect from unknown[192.0.2.1] {}",
    "delays_": "1A2B3C4D5E: to=<a@example.org>, relay=mx.example.org[192.0.2.2]:25, "
    "delay=3.6, delays={}, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    "relay_": "1A2B3C4D5E: to=<a@example.org>, relay={}, delay=0.1, delays=0/0/0/0.1, "
    "dsn=2.0.0, status=sent (250 2.0.0 Ok)",
}
# tls_features_0007..0012 hold a bare tls= value; 0001..0006 are messages.
TLS_WRAP = ("1A2B3C4D5E: to=<a@example.org>, relay=mx.example.org[192.0.2.2]:25, delay=1, "
            "delays=0/0/0.5/0.5, tls={}, dsn=2.0.0, status=sent (250 2.0.0 Ok)")


def yaml_scalar(text):
    """A YAML scalar as these files write them: "double quoted" with
    backslash escapes, or plain."""
    text = text.strip()
    if not text.startswith('"'):
        return text
    out, i = [], 1
    esc = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0"}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(esc.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        if c == '"':
            break
        out.append(c)
        i += 1
    return "".join(out)


def load_case(path):
    """(data, results) of one case file: the small YAML subset it uses."""
    data, results, in_results = None, {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if not line[0].isspace():
                in_results = False
                key, _, val = line.partition(":")
                if key == "data":
                    data = yaml_scalar(val)
                elif key == "results":
                    in_results = True
                continue
            if in_results:
                key, _, val = stripped.partition(":")
                results[key.strip()] = yaml_scalar(val)
    return data, results


def postfix_escape(s):
    """Control characters as Postfix writes them into its log."""
    return s.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def nat(ev, key):
    v = ev.get("native", {}).get(key)
    return None if v is None else str(v)


def core(ev, dotted):
    cur = ev
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return None if cur is None else str(cur)


def eq(key):
    return lambda ev, want: (nat(ev, key) == want, f"native {key}={nat(ev, key)!r}")


def within(*keys):
    """The expected text appears in one of these native fields."""
    def check(ev, want):
        for k in keys:
            v = nat(ev, k)
            if v is not None and want in v:
                return True, ""
        return False, f"{want!r} not in {[nat(ev, k) for k in keys]}"
    return check


def action_is(mapping):
    def check(ev, want):
        got = core(ev, "event.action")
        exp = mapping.get(want, want)
        return got == exp, f"event.action={got!r}, expected {exp!r}"
    return check


def in_message(ev, want):
    """Free text of plain warnings: kenchi keeps it in the message."""
    msg = ev.get("message", "")
    return (want.strip() in msg), f"message={msg!r}"


def kv_data(ev, want):
    """Every key=value of the list is a native field under its own key
    (angle brackets dropped), with the same value."""
    bad = []
    for item in want.replace(",", " ").split():
        if "=" not in item:
            continue
        k, _, v = item.partition("=")
        if v.startswith("<") and v.endswith(">"):
            v = v[1:-1]
        if k == "client":
            got = f"{nat(ev, 'client_hostname')}[{nat(ev, 'client_ip')}]"
        else:
            got = nat(ev, k)
        if got != v:
            bad.append(f"{k}: {got!r} != {v!r}")
    return not bad, "; ".join(bad)


def counters(ev, want):
    """ehlo=2 rcpt=0/1 commands=5/7 -> cmd_ehlo=2, cmd_rcpt=1,
    cmd_rcpt_accepted=0, commands=7, commands_accepted=5."""
    bad = []
    for item in want.split():
        name, _, val = item.partition("=")
        key = "commands" if name == "commands" else "cmd_" + name
        ok, _, total = val.rpartition("/")
        if nat(ev, key) != total:
            bad.append(f"{key}={nat(ev, key)!r}")
        if ok and nat(ev, key + "_accepted") != ok:
            bad.append(f"{key}_accepted={nat(ev, key + '_accepted')!r}")
    return not bad, " ".join(bad)


def counter_field(name, accepted):
    key = "commands" if name == "count" else "cmd_" + name
    if accepted:
        key += "_accepted"
    return eq(key)


def milter_message(ev, want):
    """The check's subject as Postfix wrote it, rebuilt from kenchi's fields."""
    n = lambda k: nat(ev, k) or ""
    client = f"{n('client_hostname')}[{n('client_ip')}]"
    if nat(ev, "check"):
        got = f"{n('check')} {n('check_content')} from {client}"
    else:
        got = f"{n('stage')} from {client}: {n('reject_dsn')} {n('reject_reason')}"
    return got == want, f"rebuilt {got!r}"


def delays_part(i):
    def check(ev, want):
        parts = (nat(ev, "delays") or "").split("/")
        got = parts[i] if i < len(parts) else None
        return got == want, f"delays={nat(ev, 'delays')!r}"
    return check


def tls_feature(ev, want):
    """TLS feature words stay in the tls= value as Postfix wrote it."""
    tls = nat(ev, "tls") or ""
    return want in tls, f"tls={tls!r}"


def lostconn_smtp(ev, want):
    """smtp: "lost connection" is the event, other texts are the reason."""
    if nat(ev, "reason") == want:
        return True, ""
    act = core(ev, "event.action")
    return want == "lost connection" and act == "lost-connection", f"action={act!r}"


def level(ev, want):
    """The level of a warning; for a header/body check logged as "QID:
    warning: header ..." it is the check's action."""
    got = nat(ev, "level") or (nat(ev, "action") if nat(ev, "check") else None)
    return got == want, f"level={nat(ev, 'level')!r} action={nat(ev, 'action')!r}"


def percent(key):
    return lambda ev, want: ((nat(ev, key) or "").rstrip("%") == want, f"{key}={nat(ev, key)!r}")


# grok field -> check(event, expected value) -> (ok, detail)
FIELDS = {
    "postfix_queueid": eq("queue_id"),
    "postfix_client_hostname": eq("client_hostname"),
    "postfix_client_ip": eq("client_ip"),
    "postfix_client_ip_unknown": eq("client_ip"),
    "postfix_client_port": eq("client_port"),
    "postfix_server_ip": eq("server_ip"),
    "postfix_server_port": eq("server_port"),
    "postfix_relay_hostname": eq("relay_host"),
    "postfix_relay_ip": eq("relay_ip"),
    "postfix_relay_port": eq("relay_port"),
    "postfix_relay_service": eq("relay_socket"),
    "postfix_message-id": eq("message_id"),
    "postfix_from": eq("from"),
    "postfix_status": eq("status"),
    "postfix_smtp_response": eq("response"),
    "postfix_local_response": eq("response"),
    "postfix_pipe_response": eq("response"),
    "postfix_error_response": eq("response"),
    "postfix_smtp_stage": eq("stage"),
    "postfix_action": eq("action"),
    "postfix_status_code": eq("reject_code"),
    "postfix_status_code_enhanced": eq("reject_dsn"),
    "postfix_status_message": within("reject_reason"),
    "postfix_status_data": within("reject_data", "reject_reason"),
    "postfix_keyvalue_data": kv_data,
    "postfix_command_counter_data": counters,
    "postfix_message_level": level,
    "postfix_message": in_message,
    "postfix_anvil_cache_size": eq("stat_value"),
    "postfix_anvil_conn_count": eq("stat_value"),
    "postfix_anvil_conn_rate": eq("stat_value"),
    "postfix_anvil_conn_period": eq("stat_period"),
    "postfix_anvil_timestamp": eq("stat_time"),
    "postfix_service": eq("stat_service"),
    "postfix_bounce_queueid": eq("bounce_queue_id"),
    "postfix_bounce_recipient": eq("bounce_to"),
    "postfix_bounce_reason": eq("bounce_type"),
    "postfix_milter_result": lambda ev, want: (nat(ev, "action") == "milter-" + want,
                                               f"action={nat(ev, 'action')!r}"),
    "postfix_milter_message": milter_message,
    "postfix_milter_data": eq("action_data"),
    "postfix_prepend_type": eq("check"),
    "postfix_prepend_trigger": eq("check_content"),
    "postfix_prepend_value": eq("action_data"),
    "postfix_version": eq("version"),
    "postfix_config_path": eq("configuration"),
    "postfix_termination_signal": eq("signal"),
    "postfix_postscreen_cache_retained": eq("retained"),
    "postfix_postscreen_cache_dropped": eq("dropped"),
    "postfix_verify_cache_retained": eq("retained"),
    "postfix_verify_cache_dropped": eq("dropped"),
    "postfix_verify_cleanup_type": eq("cleanup"),
    "postfix_postscreen_access": eq("verdict"),
    "postfix_postscreen_violation": eq("violation"),
    "postfix_postscreen_violation_time": eq("elapsed"),
    "postfix_postscreen_dnsbl_rank": eq("dnsbl_rank"),
    "postfix_postscreen_toobusy_data": eq("reject_reason"),
    "postfix_postsuper_action": action_is({"placed on hold": "hold",
                                           "released from hold": "released"}),
    "postfix_postsuper_summary_action": eq("summary"),
    "postfix_postsuper_summary_count": eq("count"),
    "postfix_scache_hits": eq("hits"),
    "postfix_scache_miss": eq("miss"),
    "postfix_scache_success": percent("success"),
    "postfix_scache_domains": eq("domains"),
    "postfix_scache_addresses": eq("addresses"),
    "postfix_scache_connection": eq("connection"),
    "postfix_scache_timestamp": eq("stat_time"),
    "postfix_dnsbl_domain": eq("dnsbl_domain"),
    "postfix_dnsbl_result": eq("dnsbl_result"),
    "postfix_tls_trustlevel": eq("tls_trust"),
    "postfix_tls_version": eq("tls_version"),
    "postfix_tls_cipher": eq("tls_cipher"),
    "postfix_tls_cipher_size": eq("tls_cipher_bits"),
    "postfix_tls_key_exchange": eq("tls_key_exchange"),
    "postfix_tls_server_signature": eq("tls_server_signature"),
    "postfix_tls_server_signature_size": eq("tls_server_signature_bits"),
    "postfix_tls_server_signature_curve": eq("tls_server_signature_curve"),
    "postfix_tls_server_digest": eq("tls_server_digest"),
    "postfix_tls_error": eq("reason"),
    "postfix_smtp_lostconn_data": lostconn_smtp,
    "postfix_smtp_lostconn_reason": eq("stage"),
    "postfix_smtpd_lostconn_data": action_is({"lost connection": "lost-connection",
                                              "timeout": "timeout",
                                              "SSL_accept error": "tls-error",
                                              "bare <LF> received": "bare-lf"}),
    "postfix_pix_workaround": eq("pix_workarounds"),
    "postfix_proxy_result": lambda ev, want: (core(ev, "event.action") == "proxy-" + want,
                                              core(ev, "event.action")),
    "postfix_proxy_smtp_stage": eq("stage"),
    "postfix_proxy_message": eq("response"),
    "postfix_proxy_status_code": eq("response_code"),
    "postfix_proxy_status_code_enhanced": eq("response_dsn"),
    "postfix_discarded_ehlo_keywords": eq("ehlo_discarded"),
    "postfix_delay_before_qmgr": delays_part(0),
    "postfix_delay_in_qmgr": delays_part(1),
    "postfix_delay_conn_setup": delays_part(2),
    "postfix_delay_transmission": delays_part(3),
    "postfix_tls_security_level": tls_feature,
    "postfix_tls_downgrade_level": tls_feature,
    "postfix_tls_policy_undecided": tls_feature,
    "postfix_requiretls": tls_feature,
    "postfix_requiretls_policy_undecided": tls_feature,
    "postfix_requiretls_policy_violation": tls_feature,
    "postfix_requiretls_downgrade_level": tls_feature,
}
for _cmd in ("ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "bdat", "rset",
             "noop", "quit", "unknown", "count"):
    FIELDS[f"postfix_cmd_{_cmd}"] = counter_field(_cmd, False)
    FIELDS[f"postfix_cmd_{_cmd}_accepted"] = counter_field(_cmd, True)


def is_ip(s):
    if not s:
        return False
    if ":" in s:
        return all(c in "0123456789abcdefABCDEF:." for c in s) and s.count(":") >= 2
    parts = s.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def core_agrees(ev):
    """The ECS core must say what the native fields say."""
    bad = []
    pairs = [("client_ip", "source.ip"), ("client_port", "source.port"),
             ("relay_ip", "destination.ip"), ("from", "email.from.address"),
             ("to", "email.to.address"), ("message_id", "email.message_id"),
             ("sasl_username", "user.name")]
    for n, c in pairs:
        v = nat(ev, n)
        if not v or (n == "client_ip" and not is_ip(v)):
            continue
        if n == "client_port" and not is_ip(nat(ev, "client_ip")):
            continue
        if core(ev, c) != v:
            bad.append(f"{c}={core(ev, c)!r} but native {n}={v!r}")
    return bad


def wrap(name, data):
    for prefix, tmpl in WRAP.items():
        if name.startswith(prefix):
            return tmpl.format(data)
    if name.startswith("tls_features_") and "=" not in data:
        return TLS_WRAP.format(data)
    return data


def main():
    if not os.path.isdir(CORPUS):
        print(f"ok - postfix grok corpus # SKIP {CORPUS} not found")
        return 0
    names = sorted(f for f in os.listdir(CORPUS) if f.endswith(".yaml"))
    cases = []
    for f in names:
        data, results = load_case(os.path.join(CORPUS, f))
        cases.append((f[:-5], wrap(f[:-5], data), results))
    text = "".join(postfix_escape(d) + "\n" for _, d, _ in cases)
    proc = subprocess.run([KENCHI, "parse", "--format", "postfix", "-"], input=text.encode(),
                          capture_output=True)
    if proc.returncode != 0:
        print(f"not ok - kenchi parse exited {proc.returncode}: {proc.stderr.decode()[:300]}")
        return 1
    events = {}
    for line in proc.stdout.decode().splitlines():
        ev = json.loads(line)
        events[ev["source"]["line"]] = ev
    covered = failed = skipped = 0
    for i, (name, data, results) in enumerate(cases, 1):
        if name in EXPECTED_SKIPS:
            print(f"ok - grok {name} # SKIP {EXPECTED_SKIPS[name]}")
            skipped += 1
            continue
        ev = events.get(i)
        problems = []
        if ev is None:
            problems.append("no event")
        else:
            if ev["event"].get("module") != "postfix":
                problems.append(f"module {ev['event'].get('module')!r}")
            if not core(ev, "event.action"):
                problems.append("no event.action")
            for key, want in results.items():
                check = FIELDS.get(key)
                if check is None:
                    problems.append(f"{key}: no mapping in FIELDS")
                    continue
                ok, detail = check(ev, want)
                if not ok:
                    problems.append(f"{key}={want!r}: {detail}")
            problems += core_agrees(ev)
        if problems:
            failed += 1
            print(f"not ok - grok {name}")
            for p in problems:
                print(f"#   {p}")
        else:
            covered += 1
            print(f"ok - grok {name}")
    print(f"# covered {covered} of {len(cases)} grok cases "
          f"({skipped} expected skips, {failed} failures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
