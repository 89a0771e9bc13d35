/*
 * decode-dovecot.c - Dovecot's log lines (IMAP/POP3/Submission/ManageSieve
 * logins, sessions, LMTP/LDA deliveries and the auth processes), versions
 * 1.x to 2.4.
 *
 * Every Dovecot line names the process that wrote it, in one of two places:
 *
 *   syslog          "dovecot[442]: imap-login: Login: user=<a>, ..."
 *                   "dovecot: auth-worker(304): pam(a,192.0.2.1): ..."
 *   own log file    "auth-worker(80180): Info: sql(a,192.0.2.6): ..."
 *                   "auth(a,192.0.2.1,sasl:login)<sess>: Info: sql: ..."
 *                   (the envelope takes the process as the program)
 *
 * so the decoder first reads the process prefix "NAME[(ARGS)][<A>[<B>]]"
 * from the program or from the start of the message, then an optional
 * level ("Info: ", "Error: ", ...), and dispatches on the process kind from
 * one table (procs[]): login processes, mail sessions, deliveries, auth.
 *
 * logsource.service is Dovecot's own service name, the one a dovecot.conf
 * "service NAME {}" block uses: "imap-login" for the pre-login process that
 * sees the client's credentials, "imap" for the post-login session, "auth"
 * and "auth-worker" for the authentication processes, "lmtp", "lda".
 * Rules about password guessing therefore look at service "imap-login" (or
 * "auth"), rules about mailbox use at "imap"/"pop3".
 *
 * Client-supplied text (user names, and the user part of the auth context
 * "(user,ip,...)") can contain anything, so addresses are read from the
 * positions the client cannot reach: the last ", rip=" of a login line, the
 * right-most elements of an auth context. Password hints that some
 * configurations log ("given password: ...") are kept out of every field.
 *
 * Byte counters: "in" is what the client sent (source.bytes), "out" what
 * Dovecot sent to the client (destination.bytes); the client is the source
 * of the connection.
 */
#include <errno.h>
#include <string.h>

#include "decode/authlog.h"
#include "decode/decode.h"

enum dc_kind { K_LOGIN, K_SESSION, K_DELIVER, K_AUTH, K_OTHER };

struct dc_proc_def {
    struct str name;     /* process name as Dovecot logs it */
    const char *service; /* logsource.service */
    enum dc_kind kind;
    bool bare; /* the bare name, without "(...)", is Dovecot's as a program */
};

/* "imap" or "lmtp" alone as a program name may be another daemon's (Cyrus
 * logs as "imap[pid]"): those are claimed only with their "(...)" args. */
static const struct dc_proc_def procs[] = {
    {LIT("imap-login"), "imap-login", K_LOGIN, true},
    {LIT("pop3-login"), "pop3-login", K_LOGIN, true},
    {LIT("submission-login"), "submission-login", K_LOGIN, true},
    {LIT("managesieve-login"), "managesieve-login", K_LOGIN, true},
    {LIT("imap-urlauth-login"), "imap-urlauth-login", K_LOGIN, true},
    {LIT("imap"), "imap", K_SESSION, false},
    {LIT("pop3"), "pop3", K_SESSION, false},
    {LIT("submission"), "submission", K_SESSION, false},
    {LIT("managesieve"), "managesieve", K_SESSION, false},
    {LIT("imap-urlauth"), "imap-urlauth", K_SESSION, false},
    {LIT("lmtp"), "lmtp", K_DELIVER, false},
    {LIT("lda"), "lda", K_DELIVER, false},
    {LIT("deliver"), "lda", K_DELIVER, false},
    {LIT("auth"), "auth", K_AUTH, true},
    {LIT("auth-worker"), "auth-worker", K_AUTH, true},
    {LIT("dovecot-auth"), "auth", K_AUTH, true},
    {LIT("master"), "master", K_OTHER, false},
    {LIT("config"), "config", K_OTHER, false},
    {LIT("anvil"), "anvil", K_OTHER, false},
    {LIT("log"), "log", K_OTHER, false},
    {LIT("stats"), "stats", K_OTHER, false},
    {LIT("dict"), "dict", K_OTHER, false},
    {LIT("indexer"), "indexer", K_OTHER, false},
    {LIT("indexer-worker"), "indexer-worker", K_OTHER, false},
    {LIT("doveadm"), "doveadm", K_OTHER, false},
    {LIT("quota-status"), "quota-status", K_OTHER, false},
    {LIT("replicator"), "replicator", K_OTHER, false},
    {LIT("aggregator"), "aggregator", K_OTHER, false},
    {LIT("director"), "director", K_OTHER, false},
    {LIT("imap-hibernate"), "imap-hibernate", K_OTHER, false},
};

/* A parsed process prefix. */
struct dc_proc {
    const struct dc_proc_def *def;
    struct str name;
    struct str args; /* inside "(...)"; p == NULL when absent */
    struct str angle[2];
    int nangle;
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static size_t name_len(struct str s)
{
    size_t i = 0;
    while (i < s.n && i < 40 && name_char(s.p[i]))
        i++;
    return i;
}

static const struct dc_proc_def *proc_lookup(struct str name)
{
    for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
        if (procs[i].name.n == name.n && procs[i].name.p[0] == name.p[0] &&
            !memcmp(procs[i].name.p, name.p, name.n))
            return &procs[i];
    return NULL;
}

/* Parse "name[(args)][<a>[<b>]]" at the start of s. The args end at the
 * first ')' followed by '<', ':' or the end of s (a user name may hold
 * parentheses). Returns bytes consumed, or 0. */
static size_t proc_parse(struct str s, struct dc_proc *p)
{
    memset(p, 0, sizeof(*p));
    size_t i = name_len(s);
    if (i == 0)
        return 0;
    p->name = str_make(s.p, i);
    if (i < s.n && s.p[i] == '(') {
        size_t j = i + 1;
        for (;;) {
            const char *rp = j < s.n ? memchr(s.p + j, ')', s.n - j) : NULL;
            if (!rp)
                return 0;
            size_t k = (size_t)(rp - s.p);
            if (k + 1 == s.n || s.p[k + 1] == '<' || s.p[k + 1] == ':') {
                p->args = str_make(s.p + i + 1, k - i - 1);
                i = k + 1;
                break;
            }
            j = k + 1;
        }
    }
    while (p->nangle < 2 && i < s.n && s.p[i] == '<') {
        const char *gt = memchr(s.p + i, '>', s.n - i);
        if (!gt)
            return 0;
        p->angle[p->nangle++] = str_make(s.p + i + 1, (size_t)(gt - s.p) - i - 1);
        i = (size_t)(gt - s.p) + 1;
    }
    return i;
}

static bool dovecot_match(struct str program)
{
    if (program.n < 3)
        return false;
    if (str_eq(program, "dovecot"))
        return true;
    size_t i = name_len(program);
    if (i == 0)
        return false;
    const struct dc_proc_def *d = proc_lookup(str_make(program.p, i));
    if (!d)
        return false;
    if (i == program.n)
        return d->bare;
    return program.p[i] == '(' || program.p[i] == '<';
}

/* ---- small helpers ------------------------------------------------------ */

static void set_user(struct event *ev, struct str user)
{
    event_add_str(ev, "user", user);
    event_set_core(ev, CORE_USER_NAME, user);
}

static struct str advance(struct str s, size_t n)
{
    return n >= s.n ? str_make(s.p + s.n, 0) : str_make(s.p + n, s.n - n);
}

/* Cut s at the first " (given password" / " (SHA1 of given password" so
 * that no password hint becomes a field. */
static struct str without_password_hint(struct str s)
{
    long p = str_find(s, " (given password");
    long q = str_find(s, " (SHA1 of given password");
    if (q >= 0 && (p < 0 || q < p))
        p = q;
    if (p >= 0)
        s.n = (size_t)p;
    return s;
}

/* An auth context "user,ip[,<session>|,sasl:mech|,]" as Dovecot 2.x puts
 * it after a passdb name (2.3) or after the process name (2.4). Read from
 * the right: the trailing elements are Dovecot's own, the user is the
 * client's and may hold commas. */
static void auth_context(struct event *ev, struct str args)
{
    struct str user = args;
    long c = str_rfind(user, ",");
    if (c >= 0) {
        struct str last = advance(user, (size_t)c + 1);
        bool extra = last.n == 0 || last.p[0] == '<' || str_starts(last, "sasl:");
        if (extra) {
            if (last.n > 1 && last.p[0] == '<' && last.p[last.n - 1] == '>')
                event_add_str(ev, "session", str_make(last.p + 1, last.n - 2));
            else if (last.n > 5 && last.p[0] == 's')
                event_add_str(ev, "mech", advance(last, 5));
            user.n = (size_t)c;
            c = str_rfind(user, ",");
        }
    }
    if (c >= 0) {
        struct str ip = advance(user, (size_t)c + 1);
        if (ip_text_valid(ip)) {
            user.n = (size_t)c;
            event_add_str(ev, "rip", ip);
            event_set_ip(ev, CORE_SOURCE_IP, ip);
        } else if (ip.n == 0) {
            user.n = (size_t)c;
        }
    }
    if (user.n)
        set_user(ev, user);
}

/* ---- login processes (imap-login, pop3-login, ...) ----------------------- */

/* Index of the ": " that starts the "user=<..>, method=.., rip=.." list, or
 * -1. */
static long login_kv_start(struct str m)
{
    size_t i = 0;
    while (i + 2 < m.n) {
        const char *c = memchr(m.p + i, ':', m.n - i - 2);
        if (!c)
            return -1;
        size_t at = (size_t)(c - m.p);
        struct str t = advance(m, at + 2);
        if (m.p[at + 1] == ' ' &&
            (str_starts(t, "user=<") || str_starts(t, "method=") || str_starts(t, "rip=")))
            return (long)at;
        i = at + 1;
    }
    return -1;
}

/* End of a list element starting at s: the next ", " or the end. */
static size_t elem_len(struct str s)
{
    const char *p = s.p, *end = s.p + s.n;
    while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == ' ')
            return (size_t)(p - s.p);
        p++;
    }
    return s.n;
}

/* End of a TLS error text: Dovecot puts it before the session and cipher
 * elements, and the text itself may contain ", ". */
static size_t tls_error_len(struct str s)
{
    static const char *const stops[] = {", session=<", ", TLSv", ", SSLv", ", mpid="};
    size_t end = s.n;
    for (size_t k = 0; k < sizeof(stops) / sizeof(stops[0]); k++) {
        long e = str_find(s, stops[k]);
        if (e >= 0 && (size_t)e < end)
            end = (size_t)e;
    }
    return end;
}

/* The elements after "rip=": lip, rport, lport, mpid, the secured state,
 * the TLS cipher and session. Server-written: safe to read left to right. */
static void login_tail(struct event *ev, struct str t)
{
    while (t.n) {
        size_t len = elem_len(t);
        struct str e = str_make(t.p, len);
        if (str_starts(e, "rip=") || str_starts(e, "lip=")) {
            struct str v = advance(e, 4);
            bool remote = e.p[0] == 'r';
            event_add_str(ev, remote ? "rip" : "lip", v);
            event_set_ip(ev, remote ? CORE_SOURCE_IP : CORE_DESTINATION_IP, v);
        } else if (str_starts(e, "rport=") || str_starts(e, "lport=")) {
            struct str v = advance(e, 6);
            if (str_is_port(v)) {
                bool remote = e.p[0] == 'r';
                event_add_num(ev, remote ? "rport" : "lport", v);
                ev->core[remote ? CORE_SOURCE_PORT : CORE_DESTINATION_PORT] = v;
            }
        } else if (str_starts(e, "mpid=")) {
            if (str_is_uint(advance(e, 5)))
                event_add_num(ev, "mpid", advance(e, 5));
        } else if (str_starts(e, "session=<")) {
            struct str v = advance(e, 9);
            const char *gt = memchr(v.p, '>', v.n);
            if (gt)
                v.n = (size_t)(gt - v.p);
            event_add_str(ev, "session", v);
        } else if (str_eq(e, "secured")) {
            event_add_true(ev, "secured");
        } else if (str_starts(e, "TLS handshaking") || str_eq(e, "TLS") || str_starts(e, "TLS: ")) {
            bool hs = e.n > 3 && e.p[3] == ' ' && e.p[4] == 'h';
            event_add_true(ev, hs ? "tls_handshaking" : "tls");
            size_t head = hs ? 15 : 3;
            if (t.n > head + 2 && t.p[head] == ':' && t.p[head + 1] == ' ') {
                struct str rest = advance(t, head + 2);
                size_t el = tls_error_len(rest);
                event_add_str(ev, "tls_error", str_make(rest.p, el));
                len = head + 2 + el;
            }
        } else if (str_starts(e, "TLSv") || str_starts(e, "SSLv")) {
            /* "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)" */
            long w = str_find(e, " with cipher ");
            if (w > 0) {
                event_add_str(ev, "tls_version", str_make(e.p, (size_t)w));
                struct str c = advance(e, (size_t)w + 13);
                long sp = str_find(c, " ");
                if (sp >= 0)
                    c.n = (size_t)sp;
                event_add_str(ev, "tls_cipher", c);
            }
        }
        t = advance(t, len + 2);
    }
}

/* The element list of a login line: "user=<U>, method=M, rip=.., ...". The
 * user is the client's text, so the rip that counts is the last one.
 * Returns false if there is no rip (not a complete login line). */
static bool login_kv(struct event *ev, struct str kv)
{
    long r = str_rfind(kv, ", rip=");
    size_t rip_at = r >= 0 ? (size_t)r + 2 : (str_starts(kv, "rip=") ? 0 : kv.n);
    struct str head = str_make(kv.p, r >= 0 ? (size_t)r : 0); /* before ", rip=" */
    if (str_starts(kv, "user=<")) {
        struct str u = advance(head.n ? head : kv, 6);
        if (head.n) {
            long m = str_rfind(u, ", method=");
            if (m >= 0) {
                struct str method = advance(u, (size_t)m + 9);
                u.n = (size_t)m;
                if (u.n && u.p[u.n - 1] == '>')
                    u.n--;
                set_user(ev, u);
                event_add_str(ev, "method", method);
            } else {
                if (u.n && u.p[u.n - 1] == '>')
                    u.n--;
                set_user(ev, u);
            }
        } else {
            const char *gt = memchr(u.p, '>', u.n);
            if (gt)
                set_user(ev, str_make(u.p, (size_t)(gt - u.p)));
        }
    } else if (str_starts(kv, "method=")) {
        struct str method = advance(kv, 7);
        method.n = elem_len(method);
        event_add_str(ev, "method", method);
    }
    if (rip_at < kv.n)
        login_tail(ev, advance(kv, rip_at));
    return rip_at < kv.n;
}

/* "..., 3 attempts in 16 secs" / "no auth attempts in 10 secs" / "waited 2
 * secs": the numbers of a disconnect reason. */
static void reason_numbers(struct event *ev, struct str reason)
{
    long a = str_find(reason, " attempts");
    if (a >= 0) {
        if (str_starts(reason, "no auth attempts")) {
            event_add_num(ev, "attempts", STR_LIT("0"));
        } else {
            size_t e = (size_t)a, b = e;
            while (b > 0 && reason.p[b - 1] >= '0' && reason.p[b - 1] <= '9')
                b--;
            if (str_is_uint(str_make(reason.p + b, e - b)))
                event_add_num(ev, "attempts", str_make(reason.p + b, e - b));
        }
    }
    long s = str_find(reason, " secs");
    if (s > 0) {
        size_t e = (size_t)s, b = e;
        while (b > 0 && reason.p[b - 1] >= '0' && reason.p[b - 1] <= '9')
            b--;
        if (b > 0 && reason.p[b - 1] == ' ' && str_is_uint(str_make(reason.p + b, e - b)))
            event_add_num(ev, "duration_secs", str_make(reason.p + b, e - b));
    }
}

/* Reasons of a login-process disconnect that are not a failed login: the
 * client never tried to authenticate, or the server went away. */
static const struct str no_login_reasons[] = {
    LIT("no auth attempts"),
    LIT("disconnected before auth was ready"),
    LIT("disconnected during TLS handshake"),
    LIT("client_limit and process_limit was hit"),
    LIT("The process is shutting down"),
    LIT("cert required, client didn't start TLS"),
    LIT("client didn't send a cert"),
    LIT("client sent an untrusted cert"),
};

/* Classify the message part of a login line ("Login", "Aborted login (auth
 * failed, 1 attempts in 2 secs)", "Login aborted: Connection closed (...)
 * (auth_failed)", ...). */
static void login_head(struct event *ev, struct str head)
{
    head = str_trim(head);
    if (str_eq(head, "Login")) {
        event_set_action(ev, "login", "success");
        return;
    }
    if (str_starts(head, "proxy(")) {
        if (str_find(head, "started proxying") >= 0)
            event_set_action(ev, "proxy", "success");
        else if (str_find(head, "failed") >= 0)
            event_set_action(ev, "login-failed", "failure");
        else
            event_set_action(ev, "proxy", NULL);
        return;
    }
    /* 2.4: a trailing "(event_reason)" code, e.g. "(auth_failed)" */
    if (head.n > 4 && head.p[head.n - 1] == ')') {
        size_t b = head.n - 1;
        bool underscore = false;
        while (b > 0 && (name_char(head.p[b - 1])))
            underscore |= head.p[--b] == '_';
        if (b >= 2 && head.p[b - 1] == '(' && head.p[b - 2] == ' ' && underscore &&
            b < head.n - 1) {
            event_add_str(ev, "reason_code", str_make(head.p + b, head.n - 1 - b));
            head.n = b - 2;
        }
    }
    struct str reason = {0};
    if (head.n > 2 && head.p[head.n - 1] == ')') {
        int depth = 0;
        size_t i = head.n;
        while (i-- > 0) {
            if (head.p[i] == ')')
                depth++;
            else if (head.p[i] == '(' && --depth == 0)
                break;
        }
        if (depth == 0 && i < head.n) {
            reason = str_make(head.p + i + 1, head.n - i - 2);
            head.n = i;
            head = str_trim(head);
        }
    }
    if (str_starts(head, "Maximum number of connections")) {
        event_add_str(ev, "reason", head);
        event_set_action(ev, "login-failed", "failure");
        return;
    }
    if (str_starts(head, "Login failed")) {
        struct str r = reason.n ? reason : str_trim(advance(head, 13));
        if (r.n)
            event_add_str(ev, "reason", r);
        event_set_action(ev, "login-failed", "failure");
        return;
    }
    if (!reason.n) {
        event_set_action(ev, "disconnect", NULL);
        return;
    }
    event_add_str(ev, "reason", reason);
    reason_numbers(ev, reason);
    for (size_t k = 0; k < sizeof(no_login_reasons) / sizeof(no_login_reasons[0]); k++) {
        if (str_has_prefix(reason, no_login_reasons[k])) {
            event_set_action(ev, "disconnect", NULL);
            return;
        }
    }
    event_set_action(ev, "login-failed", "failure");
}

static int login_line(struct event *ev, struct str m)
{
    long k = login_kv_start(m);
    if (k < 0)
        return -EINVAL;
    if (!login_kv(ev, advance(m, (size_t)k + 2)))
        return -EINVAL;
    login_head(ev, str_make(m.p, (size_t)k));
    return 0;
}

/* ---- mail sessions (imap(user), pop3(user), ...) ------------------------- */

struct counter_def {
    struct str key;     /* as in imap_logout_format / pop3_logout_format */
    const char *field;  /* native name (first half of a "a/b" pair) */
    const char *field2; /* second half of a pair, or NULL */
};

/* imap: in= out= deleted= expunged= trashed= hdr_count= hdr_bytes=
 * body_count= body_bytes=; pop3: top=%t/%p retr=%r/%b del=%d/%m size=%s;
 * Dovecot 2.0: bytes=%i/%o. */
static const struct counter_def counters[] = {
    {LIT("in"), "in", NULL},
    {LIT("out"), "out", NULL},
    {LIT("deleted"), "deleted", NULL},
    {LIT("expunged"), "expunged", NULL},
    {LIT("trashed"), "trashed", NULL},
    {LIT("hdr_count"), "hdr_count", NULL},
    {LIT("hdr_bytes"), "hdr_bytes", NULL},
    {LIT("body_count"), "body_count", NULL},
    {LIT("body_bytes"), "body_bytes", NULL},
    {LIT("size"), "size", NULL},
    {LIT("top"), "top_count", "top_bytes"},
    {LIT("retr"), "retr_count", "retr_bytes"},
    {LIT("del"), "del_count", "msg_count"},
    {LIT("bytes"), "in", "out"},
};

static void counter_value(struct event *ev, const char *field, struct str v)
{
    if (!str_is_uint(v))
        return;
    event_add_num(ev, field, v);
    if (!strcmp(field, "in"))
        ev->core[CORE_SOURCE_BYTES] = v;
    else if (!strcmp(field, "out"))
        ev->core[CORE_DESTINATION_BYTES] = v;
}

/* Walk "key=value" tokens separated by spaces or commas; returns how many
 * counters were found. */
static int session_counters(struct event *ev, struct str m)
{
    int found = 0;
    size_t i = 0;
    while (i < m.n) {
        while (i < m.n && (m.p[i] == ' ' || m.p[i] == ','))
            i++;
        size_t b = i;
        while (i < m.n && m.p[i] != ' ' && m.p[i] != ',')
            i++;
        struct str tok = str_make(m.p + b, i - b);
        const char *eq = memchr(tok.p, '=', tok.n);
        if (!eq || eq == tok.p)
            continue;
        struct str key = str_make(tok.p, (size_t)(eq - tok.p));
        struct str val = advance(tok, key.n + 1);
        for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
            const struct counter_def *c = &counters[k];
            if (key.n != c->key.n || memcmp(key.p, c->key.p, key.n))
                continue;
            if (c->field2) {
                const char *sl = memchr(val.p, '/', val.n);
                if (!sl)
                    break;
                counter_value(ev, c->field, str_make(val.p, (size_t)(sl - val.p)));
                counter_value(ev, c->field2, advance(val, (size_t)(sl - val.p) + 1));
            } else {
                counter_value(ev, c->field, val);
            }
            found++;
            break;
        }
    }
    return found;
}

static int session_line(struct event *ev, struct str m)
{
    struct str s = m;
    if (str_starts(s, "Disconnected: "))
        s = advance(s, 14);
    bool logout = str_starts(s, "Logged out");
    bool closing = logout || str_starts(m, "Disconnected") || str_starts(s, "Connection closed") ||
                   str_starts(s, "Server shutting down");
    if (!closing)
        return -EINVAL;
    int n = session_counters(ev, s);
    if (!logout && n == 0)
        return -EINVAL;
    if (logout) {
        event_set_action(ev, "logout", "success");
    } else {
        /* the text before the counters: "Connection closed (IDLE running
         * for 0.001 + waiting input for 29.8 secs, ...)" */
        static const char *const first[] = {" in=", " bytes=", " top="};
        struct str r = s;
        for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++) {
            long at = str_find(r, first[k]);
            if (at >= 0)
                r.n = (size_t)at;
        }
        r = str_trim(r);
        if (r.n && r.p[r.n - 1] == ',')
            r.n--;
        event_add_str(ev, "reason", r);
        event_set_action(ev, "disconnect", NULL);
    }
    return 0;
}

/* ---- deliveries (lmtp, lda) --------------------------------------------- */

struct deliver_def {
    struct str prefix;
    const char *action;
    const char *outcome;
    enum { D_MAILBOX, D_MAILBOX_QUOTED, D_TO, D_FAILED, D_REASON, D_NONE } arg;
};

static const struct deliver_def deliveries[] = {
    {LIT("saved mail to "), "deliver", "success", D_MAILBOX},
    {LIT("stored mail into mailbox "), "deliver", "success", D_MAILBOX_QUOTED},
    {LIT("forwarded to "), "forward", "success", D_TO},
    {LIT("redirected to "), "forward", "success", D_TO},
    {LIT("sent vacation response to "), "vacation-reply", "success", D_TO},
    {LIT("marked message to be discarded"), "discard", "success", D_NONE},
    {LIT("discarded"), "discard", "success", D_NONE},
    {LIT("save failed to "), "deliver", "failure", D_FAILED},
    {LIT("rejected: "), "reject", "failure", D_REASON},
    {LIT("rejected"), "reject", "failure", D_NONE},
};

/* End of the "msgid=<..>, from=<..>" part: the first ": " outside <...>. */
static long deliver_kv_end(struct str m)
{
    bool in_angle = false;
    for (size_t i = 0; i + 1 < m.n; i++) {
        char c = m.p[i];
        if (c == '<')
            in_angle = true;
        else if (c == '>')
            in_angle = false;
        else if (c == ':' && !in_angle && m.p[i + 1] == ' ')
            return (long)i;
    }
    return -1;
}

static struct str angle_inner(struct str s)
{
    if (s.n >= 2 && s.p[0] == '<') {
        const char *gt = memchr(s.p, '>', s.n);
        if (gt)
            return str_make(s.p + 1, (size_t)(gt - s.p) - 1);
    }
    return s;
}

static int deliver_line(struct event *ev, struct str m)
{
    if (str_starts(m, "sieve: ")) {
        m = advance(m, 7);
        event_add_true(ev, "sieve");
    }
    if (!str_starts(m, "msgid=") && !str_starts(m, "from="))
        return -EINVAL;
    long e = deliver_kv_end(m);
    if (e < 0)
        return -EINVAL;
    struct str kv = str_make(m.p, (size_t)e);
    struct str text = advance(m, (size_t)e + 2);
    struct str v;
    if (kv_find(kv, "msgid", &v) && v.n) {
        event_add_str(ev, "msgid", v);
        ev->core[CORE_EMAIL_MESSAGE_ID] = v;
    }
    if (kv_find(kv, "from", &v) && v.n) {
        event_add_str(ev, "from", v);
        ev->core[CORE_EMAIL_FROM_ADDRESS] = v;
    }
    if (kv_find(kv, "size", &v) && str_is_uint(v))
        event_add_num(ev, "size", v);
    for (size_t k = 0; k < sizeof(deliveries) / sizeof(deliveries[0]); k++) {
        const struct deliver_def *d = &deliveries[k];
        if (!str_has_prefix(text, d->prefix))
            continue;
        struct str arg = str_trim(advance(text, d->prefix.n));
        switch (d->arg) {
        case D_MAILBOX:
            event_add_str(ev, "mailbox", arg);
            break;
        case D_MAILBOX_QUOTED:
            if (arg.n >= 2 && arg.p[0] == '\'' && arg.p[arg.n - 1] == '\'')
                arg = str_make(arg.p + 1, arg.n - 2);
            event_add_str(ev, "mailbox", arg);
            break;
        case D_TO:
            arg = angle_inner(arg);
            event_add_str(ev, "to", arg);
            event_set_core(ev, CORE_EMAIL_TO_ADDRESS, arg);
            break;
        case D_FAILED: {
            long c = str_find(arg, ": ");
            if (c >= 0) {
                event_add_str(ev, "mailbox", str_make(arg.p, (size_t)c));
                event_add_str(ev, "reason", advance(arg, (size_t)c + 2));
            } else {
                event_add_str(ev, "mailbox", arg);
            }
            break;
        }
        case D_REASON:
            event_add_str(ev, "reason", arg);
            break;
        case D_NONE:
            break;
        }
        event_set_action(ev, d->action, d->outcome);
        return 0;
    }
    return -EINVAL;
}

/* ---- authentication (auth, auth-worker) --------------------------------- */

/* Texts of a passdb lookup that rejected the credentials. */
static const struct str auth_failures[] = {
    LIT("unknown user"),
    LIT("Unknown user"),
    LIT("Password mismatch"),
    LIT("password mismatch"),
    LIT("pam_authenticate() failed: "),
    LIT("pam_acct_mgmt() failed: "),
    LIT("invalid credentials"),
    LIT("Invalid credentials"),
    LIT("Password expired"),
    LIT("user not found"),
    LIT("User not found"),
    LIT("allow_nets check failed"),
    LIT("Account is disabled"),
};

static int auth_line(struct event *ev, struct str m)
{
    /* 2.3 auth-worker: "conn unix:auth-worker (uid=143): auth-worker<13247>: " */
    if (str_starts(m, "conn ")) {
        long w = str_find(m, ": auth-worker<");
        if (w < 0)
            return -EINVAL;
        struct str r = advance(m, (size_t)w + 14);
        long g = str_find(r, ">: ");
        if (g < 0)
            return -EINVAL;
        m = advance(r, (size_t)g + 3);
    }
    if (str_starts(m, "pam_")) {
        int rc = pam_message_decode(ev, m);
        /* Dovecot hands the login name to PAM as the remote user (ruser);
         * pam_unix adds "user=" only for names that exist. */
        const struct field *ru = event_get(ev, "ruser");
        if (rc == 0 && !ev->core[CORE_USER_NAME].n && ru)
            event_set_core(ev, CORE_USER_NAME, ru->val);
        return rc;
    }
    /* "DRIVER(user,ip[,..]): TEXT" (2.3) or "DRIVER: TEXT" (2.4, with the
     * context in the process prefix) */
    size_t n = name_len(m);
    if (n == 0 || n >= m.n)
        return -EINVAL;
    struct str driver = str_make(m.p, n);
    struct str text;
    if (m.p[n] == '(') {
        struct str r = advance(m, n + 1);
        long c = str_find(r, "): ");
        if (c < 0)
            return -EINVAL;
        text = advance(r, (size_t)c + 3);
        event_add_str(ev, "passdb", driver);
        auth_context(ev, str_make(r.p, (size_t)c));
    } else if (m.p[n] == ':' && n + 1 < m.n && m.p[n + 1] == ' ') {
        text = advance(m, n + 2);
        event_add_str(ev, "passdb", driver);
    } else {
        return -EINVAL;
    }
    for (size_t k = 0; k < sizeof(auth_failures) / sizeof(auth_failures[0]); k++) {
        if (str_has_prefix(text, auth_failures[k])) {
            event_add_str(ev, "reason", without_password_hint(str_trim(text)));
            event_set_action(ev, "auth-failure", "failure");
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- entry point ---------------------------------------------------------- */

struct level_def {
    struct str prefix;
    struct str level;
};

static const struct level_def levels[] = {
    {LIT("Info: "), LIT("info")},   {LIT("Warning: "), LIT("warning")},
    {LIT("Error: "), LIT("error")}, {LIT("Fatal: "), LIT("fatal")},
    {LIT("Panic: "), LIT("panic")}, {LIT("Debug: "), LIT("debug")},
};

/* The process's own fields: pid/session from "<..>" groups and, per kind,
 * the meaning of its "(...)" args. */
static void proc_fields(struct event *ev, const struct dc_proc *p)
{
    event_add_str(ev, "process", p->name);
    enum dc_kind kind = p->def->kind;
    struct str a = p->args;
    if (a.p && a.n) {
        if (str_is_uint(a)) {
            event_add_num(ev, "process_pid", a);
        } else if (kind == K_AUTH) {
            if (memchr(a.p, ',', a.n)) /* 2.4: auth(user,ip,sasl:mech) */
                auth_context(ev, a);
        } else if (kind == K_SESSION || kind == K_DELIVER) {
            /* "lmtp(12345, alice)" (2.2), else the user */
            long c = str_find(a, ", ");
            if (c > 0 && str_is_uint(str_make(a.p, (size_t)c))) {
                event_add_num(ev, "process_pid", str_make(a.p, (size_t)c));
                a = advance(a, (size_t)c + 2);
            }
            if (a.n)
                set_user(ev, a);
        }
    }
    for (int i = 0; i < p->nangle; i++) {
        struct str g = p->angle[i];
        if (str_is_uint(g) && !event_get(ev, "process_pid"))
            event_add_num(ev, "process_pid", g);
        else if (g.n && !event_get(ev, "session"))
            event_add_str(ev, "session", g);
    }
}

static int dovecot_parse(struct event *ev, struct str program)
{
    struct str m = str_trim(ev->message);
    struct dc_proc p;
    bool have = false;
    if (program.n && !str_eq(program, "dovecot")) {
        size_t used = proc_parse(program, &p);
        have = used == program.n && (p.def = proc_lookup(p.name)) != NULL;
    }
    if (!have) {
        if (str_starts(m, "dovecot: "))
            m = advance(m, 9);
        size_t used = proc_parse(m, &p);
        if (!used || used + 1 >= m.n || m.p[used] != ':' || m.p[used + 1] != ' ')
            return -EINVAL;
        if (!(p.def = proc_lookup(p.name)))
            return -EINVAL;
        m = advance(m, used + 2);
    }
    ev->ls.service = p.def->service;
    proc_fields(ev, &p);
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        if (str_has_prefix(m, levels[k].prefix)) {
            event_add_str(ev, "level", levels[k].level);
            m = advance(m, levels[k].prefix.n);
            break;
        }
    }
    switch (p.def->kind) {
    case K_LOGIN:
        return login_line(ev, m);
    case K_SESSION:
        return session_line(ev, m);
    case K_DELIVER:
        return deliver_line(ev, m);
    case K_AUTH:
        return auth_line(ev, m);
    case K_OTHER:
        break;
    }
    return -EINVAL;
}

/* Contract (struct syslog_app): sets the log source, then decodes; on
 * -EINVAL the core fields are as they were on entry (the caller drops the
 * native fields). */
static int dovecot_decode(struct decode_ctx *ctx, struct event *ev, struct str program)
{
    (void)ctx;
    ev->ls = (struct logsource){"dovecot", NULL, NULL};
    struct str saved[CORE__COUNT];
    memcpy(saved, ev->core, sizeof(saved));
    int rc = dovecot_parse(ev, program);
    if (rc < 0)
        memcpy(ev->core, saved, sizeof(saved));
    return rc;
}

const struct syslog_app syslog_app_dovecot = {
    .name = "dovecot",
    .match = dovecot_match,
    .decode = dovecot_decode,
};
