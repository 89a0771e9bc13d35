/*
 * decode-sshd.c - OpenSSH server messages ("sshd", and "sshd-session" /
 * "sshd-auth" since OpenSSH 9.8 split the per-connection work out).
 *
 * After the level ("error: ", "fatal: ") and the Solaris message id
 * ("[ID 800047 auth.info] ") are taken off, and the privilege-separation
 * tag " [preauth]" at the end (native preauth: true), the message is
 * dispatched on its first words through one table, msgs[]; each row names
 * the handler, the event.action and, where the message alone decides it,
 * the event.outcome.
 *
 * Outcome rules: an authentication result says success or failure itself;
 * a connection that ends while still unauthenticated ("[preauth]") is a
 * failure — for a brute-force or scanning source that is the only trace —
 * and an ordinary end of an authenticated session has no outcome.
 *
 * Most sshd lines carry a user name the client chose, next to the address
 * that matters. Where the user comes first and the address is at a fixed
 * place at the end ("Connection closed by invalid user U 192.0.2.1 port 22
 * [preauth]"), the line is read from the right. Where free text may follow
 * ("Failed password for U from H port P ssh2: RSA SHA256:..."), each
 * " from " is tried in turn and the first one followed by exactly
 * "HOST[ port N][ sshV][: info]" wins; the host must then also be an
 * address to become source.ip (names from UseDNS stay in native rhost).
 *
 * logsource: product "linux", service "sshd" (Sigma's log source for it).
 */
#include <errno.h>
#include <string.h>

#include "decode/authlog.h"
#include "decode/decode.h"

struct sshd_line {
    bool preauth;
};

struct sshd_msg;
typedef int (*sshd_fn)(struct event *ev, struct str rest, const struct sshd_msg *m,
                       struct sshd_line *l);

struct sshd_msg {
    struct str prefix; /* the message starts with this */
    sshd_fn fn;
    const char *action;  /* event.action */
    const char *outcome; /* event.outcome, or NULL: decided by the handler */
};

static bool sshd_match(struct str program)
{
    return str_eq(program, "sshd") || str_eq(program, "sshd-session") ||
           str_eq(program, "sshd-auth");
}

/* ---- helpers ---------------------------------------------------------------- */

static struct str advance(struct str s, size_t n)
{
    return n >= s.n ? str_make(s.p + s.n, 0) : str_make(s.p + n, s.n - n);
}

/* The row's action; its outcome, or failure when the connection never got
 * past authentication. */
static void set_row_result(struct event *ev, const struct sshd_msg *m, const struct sshd_line *l)
{
    event_set_action(ev, m->action, m->outcome ? m->outcome : l->preauth ? "failure" : NULL);
}

static void set_user(struct event *ev, struct str user)
{
    event_add_str(ev, "user", user);
    event_set_core(ev, CORE_USER_NAME, user);
}

/* The client address: source.ip when it is one, else native rhost. */
static void set_host(struct event *ev, struct str host, struct str port)
{
    if (!event_set_ip(ev, CORE_SOURCE_IP, host) && host.n)
        event_add_str(ev, "rhost", host);
    if (str_is_port(port))
        ev->core[CORE_SOURCE_PORT] = port;
}

static struct str token(struct str s)
{
    const char *sp = memchr(s.p, ' ', s.n);
    return sp ? str_make(s.p, (size_t)(sp - s.p)) : s;
}

/* "invalid user U" / "illegal user U" / "authenticating user U" / "user U"
 * at the start of s: sets *user and returns the kind word, or NULL. */
static const char *user_kind(struct str s, struct str *user)
{
    static const char *const kinds[] = {"invalid user ", "illegal user ", "authenticating user ",
                                        "user "};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (str_starts(s, kinds[k])) {
            *user = advance(s, strlen(kinds[k]));
            return kinds[k];
        }
    }
    return NULL;
}

static void kind_user(struct event *ev, const char *kind, struct str user)
{
    if (!kind)
        return;
    set_user(ev, user);
    if (kind[0] == 'i') /* invalid / illegal */
        event_add_true(ev, "invalid_user");
}

/* s is exactly "HOST[ port N]". */
static bool host_port(struct str s, struct str *host, struct str *port)
{
    *host = token(s);
    *port = (struct str){0};
    struct str t = advance(s, host->n);
    if (t.n == 0)
        return host->n > 0;
    if (!str_starts(t, " port "))
        return false;
    *port = advance(t, 6);
    return host->n > 0 && str_is_uint(*port);
}

/* Read "[KIND user U ]HOST[ port N]" from the right. */
static bool user_host_port_tail(struct str s, const char **kind, struct str *user, struct str *host,
                                struct str *port)
{
    *port = (struct str){0};
    *kind = NULL;
    long p = str_rfind(s, " port ");
    if (p >= 0 && str_is_uint(advance(s, (size_t)p + 6))) {
        *port = advance(s, (size_t)p + 6);
        s.n = (size_t)p;
    }
    long sp = str_rfind(s, " ");
    *host = sp >= 0 ? advance(s, (size_t)sp + 1) : s;
    if (!host->n)
        return false;
    if (sp < 0)
        return true;
    struct str prefix = str_make(s.p, (size_t)sp + 1); /* keeps the space after the user */
    *kind = user_kind(prefix, user);
    if (!*kind)
        return false;
    user->n = user->n ? user->n - 1 : 0; /* the separating space */
    return true;
}

/* The parts of "U from HOST[ port N][ sshV][ via L][: info]". */
struct from_parts {
    struct str user, host, port, proto, via, info;
};

/* Does t (after " from ") read as "HOST[ port N][ sshV][ via L][: info]"? */
static bool from_tail(struct str t, struct from_parts *f)
{
    f->host = token(t);
    if (!f->host.n || f->host.p[f->host.n - 1] == ':')
        return false;
    t = advance(t, f->host.n);
    if (str_starts(t, " port ")) {
        struct str n = token(advance(t, 6));
        if (n.n && n.p[n.n - 1] == ':')
            n.n--;
        if (!str_is_uint(n))
            return false;
        f->port = n;
        t = advance(t, 6 + n.n);
    }
    if (str_starts(t, " ssh")) {
        struct str v = token(advance(t, 1));
        if (v.n && v.p[v.n - 1] == ':')
            v.n--;
        f->proto = v;
        t = advance(t, 1 + v.n);
    }
    if (str_starts(t, " via ")) {
        f->via = token(advance(t, 5));
        t = advance(t, 5 + f->via.n);
    }
    if (t.n == 0)
        return true;
    if (str_starts(t, ": ")) {
        f->info = advance(t, 2);
        return true;
    }
    return false;
}

/* Split "U from HOST..." at the first " from " that is followed by a
 * well-formed tail. */
static bool user_from(struct str s, struct from_parts *f)
{
    size_t from = 0;
    while (from <= s.n) {
        memset(f, 0, sizeof(*f));
        long at = str_find(advance(s, from), " from ");
        if (at < 0)
            return false;
        size_t a = from + (size_t)at;
        if (from_tail(advance(s, a + 6), f)) {
            f->user = str_make(s.p, a);
            return true;
        }
        from = a + 1;
    }
    return false;
}

/* "[invalid user ]U from HOST..." with the user fields set. */
static bool user_from_kind(struct event *ev, struct str s, struct from_parts *f)
{
    struct str u;
    const char *kind = NULL;
    if (str_starts(s, "invalid user ") || str_starts(s, "illegal user ")) {
        kind = "invalid user ";
        s = advance(s, 13);
    }
    if (!user_from(s, f))
        return false;
    u = f->user;
    if (kind) {
        kind_user(ev, kind, u);
    } else if (u.n && u.p[0] == '<') {
        /* Solaris writes "<invalid username>" instead of the name */
        event_add_true(ev, "invalid_user");
    } else {
        set_user(ev, u);
    }
    set_host(ev, f->host, f->port);
    if (f->via.n)
        event_add_str(ev, "via", f->via);
    return true;
}

/* ---- handlers --------------------------------------------------------------- */

/* "Accepted|Failed|Postponed|Partial METHOD for [invalid user ]U from H port
 * P ssh2[: KEYTYPE FINGERPRINT...]" */
static int on_auth(struct event *ev, struct str s, const struct sshd_msg *m, struct sshd_line *l)
{
    struct str method = token(s);
    s = advance(s, method.n);
    if (!method.n || !str_starts(s, " for "))
        return -EINVAL;
    event_add_str(ev, "method", method);
    struct from_parts f;
    if (!user_from_kind(ev, advance(s, 5), &f))
        return -EINVAL;
    if (f.proto.n)
        event_add_str(ev, "protocol", f.proto);
    if (f.info.n && (str_starts(method, "publickey") || str_starts(method, "hostbased"))) {
        struct str type = token(f.info);
        struct str fp = token(advance(f.info, type.n + 1));
        if (fp.n && fp.p[fp.n - 1] == ',')
            fp.n--;
        if (type.n && fp.n) {
            event_add_str(ev, "key_type", type);
            event_add_str(ev, "fingerprint", fp);
        }
    }
    /* Postponed / Partial are steps of an authentication still going on */
    event_set_action(ev, m->action, m->outcome);
    return 0;
}

/* "Invalid user U from H[ port P]", "maximum authentication attempts
 * exceeded for [invalid user ]U from H port P ssh2" */
static int on_user_from(struct event *ev, struct str s, const struct sshd_msg *m,
                        struct sshd_line *l)
{
    struct from_parts f;
    if (m->prefix.p[0] == 'I') { /* "Invalid user ": the user may be empty */
        if (!user_from(s, &f))
            return -EINVAL;
        set_user(ev, f.user);
        set_host(ev, f.host, f.port);
    } else if (!user_from_kind(ev, s, &f)) {
        return -EINVAL;
    }
    set_row_result(ev, m, l);
    return 0;
}

/* "input_userauth_request: invalid user U" */
static int on_invalid_user_only(struct event *ev, struct str s, const struct sshd_msg *m,
                                struct sshd_line *l)
{
    set_user(ev, s);
    set_row_result(ev, m, l);
    return 0;
}

/* "User U from H not allowed because R" / "User U not allowed because R" */
static int on_not_allowed(struct event *ev, struct str s, const struct sshd_msg *m,
                          struct sshd_line *l)
{
    long b = str_rfind(s, " not allowed because ");
    if (b < 0)
        return -EINVAL;
    struct str left = str_make(s.p, (size_t)b);
    long fr = str_rfind(left, " from ");
    if (fr >= 0 && !memchr(left.p + fr + 6, ' ', left.n - (size_t)fr - 6)) {
        set_user(ev, str_make(left.p, (size_t)fr));
        set_host(ev, advance(left, (size_t)fr + 6), (struct str){0});
    } else {
        set_user(ev, left);
    }
    event_add_str(ev, "reason", advance(s, (size_t)b + 21));
    set_row_result(ev, m, l);
    return 0;
}

/* "ROOT LOGIN REFUSED FROM H[ port P]" */
static int on_root_refused(struct event *ev, struct str s, const struct sshd_msg *m,
                           struct sshd_line *l)
{
    struct str host, port;
    if (!host_port(s, &host, &port))
        return -EINVAL;
    set_user(ev, STR_LIT("root"));
    set_host(ev, host, port);
    set_row_result(ev, m, l);
    return 0;
}

/* libwrap: "refused connect from NAME (IP)" */
static int on_refused_connect(struct event *ev, struct str s, const struct sshd_msg *m,
                              struct sshd_line *l)
{
    long o = str_rfind(s, " (");
    if (o < 0 || s.p[s.n - 1] != ')')
        return -EINVAL;
    struct str ip = str_make(s.p + o + 2, s.n - (size_t)o - 3);
    event_add_str(ev, "client", str_make(s.p, (size_t)o));
    set_host(ev, ip, (struct str){0});
    set_row_result(ev, m, l);
    return 0;
}

/* "Address IP maps to NAME, but this does not map back to the address -
 * POSSIBLE BREAK-IN ATTEMPT!" */
static int on_address_maps(struct event *ev, struct str s, const struct sshd_msg *m,
                           struct sshd_line *l)
{
    struct str ip = token(s);
    struct str t = advance(s, ip.n);
    if (!str_starts(t, " maps to ") || str_find(t, "does not map back") < 0)
        return -EINVAL;
    struct str name = advance(t, 9);
    long c = str_find(name, ", but");
    if (c >= 0)
        name.n = (size_t)c;
    set_host(ev, ip, (struct str){0});
    event_add_str(ev, "hostname", name);
    set_row_result(ev, m, l);
    return 0;
}

/* "reverse mapping checking getaddrinfo for NAME [IP] failed[ - POSSIBLE
 * BREAK-IN ATTEMPT!]" */
static int on_reverse_mapping(struct event *ev, struct str s, const struct sshd_msg *m,
                              struct sshd_line *l)
{
    struct str name = token(s);
    struct str t = advance(s, name.n);
    if (!str_starts(t, " ["))
        return -EINVAL;
    t = advance(t, 2);
    const char *rb = memchr(t.p, ']', t.n);
    if (!rb)
        return -EINVAL;
    set_host(ev, str_make(t.p, (size_t)(rb - t.p)), (struct str){0});
    event_add_str(ev, "hostname", name);
    set_row_result(ev, m, l);
    return 0;
}

/* SSH2 disconnect reason codes that end a failed attempt: key exchange
 * failed (3), auth cancelled by user (13), no more auth methods (14). */
static bool disconnect_code_failed(struct str code)
{
    return str_eq(code, "3") || str_eq(code, "13") || str_eq(code, "14");
}

/* "Received disconnect from H[ port P]:[ ]CODE: TEXT" */
static int on_received_disconnect(struct event *ev, struct str s, const struct sshd_msg *m,
                                  struct sshd_line *l)
{
    long sp = str_find(s, " ");
    long cs = str_find(s, ": ");
    struct str host, port = {0};
    struct str t;
    if (sp >= 0 && (cs < 0 || sp < cs)) { /* "H port P:CODE: TEXT" */
        host = str_make(s.p, (size_t)sp);
        t = advance(s, (size_t)sp);
        if (!str_starts(t, " port "))
            return -EINVAL;
        t = advance(t, 6);
        size_t i = 0;
        while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9')
            i++;
        port = str_make(t.p, i);
        t = advance(t, i);
        if (!str_starts(t, ":"))
            return -EINVAL;
        t = advance(t, 1);
    } else if (cs > 0) { /* "H: CODE: TEXT" */
        host = str_make(s.p, (size_t)cs);
        t = advance(s, (size_t)cs + 1);
    } else {
        return -EINVAL;
    }
    if (str_starts(t, " "))
        t = advance(t, 1);
    size_t i = 0;
    while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9')
        i++;
    struct str code = str_make(t.p, i);
    if (!code.n)
        return -EINVAL;
    t = advance(t, i);
    if (str_starts(t, ":"))
        t = advance(t, 1);
    set_host(ev, host, port);
    event_add(ev, STR_LIT("disconnect_code"), code, VT_NUMBER);
    t = str_trim(t);
    if (t.n)
        event_add_str(ev, "reason", t);
    event_set_action(ev, m->action, l->preauth || disconnect_code_failed(code) ? "failure" : NULL);
    return 0;
}

/* "Connection closed by [KIND user U ]H[ port P]", "Connection reset by
 * ...", "Disconnected from ..." */
static int on_user_host_tail(struct event *ev, struct str s, const struct sshd_msg *m,
                             struct sshd_line *l)
{
    const char *kind;
    struct str user = {0}, host, port;
    if (!user_host_port_tail(s, &kind, &user, &host, &port))
        return -EINVAL;
    kind_user(ev, kind, user);
    set_host(ev, host, port);
    if (m->prefix.p[0] == 'D' && kind && kind[0] == 'u' && !l->preauth) {
        /* "Disconnected from user U H port P": an authenticated session ended */
        event_set_action(ev, "logout", "success");
        return 0;
    }
    set_row_result(ev, m, l);
    return 0;
}

static bool too_many_failures(struct str reason)
{
    return str_starts(reason, "Too many authentication failures");
}

/* "Disconnecting: REASON[ for [invalid user ]U]" */
static int on_disconnecting_colon(struct event *ev, struct str s, const struct sshd_msg *m,
                                  struct sshd_line *l)
{
    if (too_many_failures(s)) {
        struct str r = advance(s, 32);
        if (str_starts(r, " for ")) {
            r = advance(r, 5);
            struct str u;
            const char *kind = user_kind(r, &u);
            if (kind)
                kind_user(ev, kind, u);
            else
                set_user(ev, r);
        }
        event_add_str(ev, "reason", str_make(s.p, 32));
        event_set_action(ev, "too-many-auth-failures", "failure");
        return 0;
    }
    event_add_str(ev, "reason", s);
    set_row_result(ev, m, l);
    return 0;
}

/* "[KIND user U ]H port P: REASON" as written by "Disconnecting ..." and
 * "ssh_dispatch_run_fatal: Connection from ...": the first " port N: " ends
 * the address part. */
static bool user_host_port_reason(struct event *ev, struct str s, struct str *reason)
{
    size_t from = 0;
    while (from < s.n) {
        long at = str_find(advance(s, from), " port ");
        if (at < 0)
            return false;
        size_t a = from + (size_t)at;
        struct str t = advance(s, a + 6);
        size_t i = 0;
        while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9')
            i++;
        if (i && str_starts(advance(t, i), ": ")) {
            const char *kind;
            struct str user = {0}, host, port;
            if (!user_host_port_tail(str_make(s.p, a + 6 + i), &kind, &user, &host, &port))
                return false;
            kind_user(ev, kind, user);
            set_host(ev, host, port);
            *reason = advance(t, i + 2);
            return true;
        }
        from = a + 1;
    }
    return false;
}

/* "Disconnecting [KIND user U ]H port P: REASON" */
static int on_disconnecting_user(struct event *ev, struct str s, const struct sshd_msg *m,
                                 struct sshd_line *l)
{
    struct str reason;
    if (!user_host_port_reason(ev, s, &reason))
        return -EINVAL;
    event_add_str(ev, "reason", reason);
    if (too_many_failures(reason))
        event_set_action(ev, "too-many-auth-failures", "failure");
    else
        set_row_result(ev, m, l);
    return 0;
}

/* "ssh_dispatch_run_fatal: Connection from [KIND user U ]H port P: REASON",
 * "banner exchange: Connection from H port P: REASON" */
static int on_conn_reason(struct event *ev, struct str s, const struct sshd_msg *m,
                          struct sshd_line *l)
{
    struct str reason;
    if (!user_host_port_reason(ev, s, &reason))
        return -EINVAL;
    event_add_str(ev, "reason", reason);
    set_row_result(ev, m, l);
    return 0;
}

/* "Connection from H port P on L port Q[ rdomain "X"]", older "Connection
 * from H port P", oldest "Connection from H" */
static int on_connection_from(struct event *ev, struct str s, const struct sshd_msg *m,
                              struct sshd_line *l)
{
    struct str host = token(s), port = {0};
    struct str t = advance(s, host.n);
    if (str_starts(t, " port ")) {
        port = token(advance(t, 6));
        t = advance(t, 6 + port.n);
    }
    if (str_starts(t, " on ")) {
        t = advance(t, 4);
        struct str lhost = token(t);
        t = advance(t, lhost.n);
        event_set_ip(ev, CORE_DESTINATION_IP, lhost);
        if (str_starts(t, " port ")) {
            struct str lport = token(advance(t, 6));
            if (str_is_port(lport))
                ev->core[CORE_DESTINATION_PORT] = lport;
            t = advance(t, 6 + lport.n);
        }
        if (str_starts(t, " rdomain ")) {
            struct str rd = str_trim(advance(t, 9));
            if (rd.n >= 2 && rd.p[0] == '"' && rd.p[rd.n - 1] == '"')
                rd = str_make(rd.p + 1, rd.n - 2);
            if (rd.n)
                event_add_str(ev, "rdomain", rd);
        }
    }
    if (!host.n)
        return -EINVAL;
    set_host(ev, host, port);
    set_row_result(ev, m, l);
    return 0;
}

/* "Unable to negotiate with H port P: no matching X found. Their offer: Y" */
static int on_unable_negotiate(struct event *ev, struct str s, const struct sshd_msg *m,
                               struct sshd_line *l)
{
    long c = str_find(s, ": ");
    if (c < 0)
        return -EINVAL;
    struct str host, port;
    if (!host_port(str_make(s.p, (size_t)c), &host, &port))
        return -EINVAL;
    set_host(ev, host, port);
    struct str reason = advance(s, (size_t)c + 2);
    long o = str_find(reason, ". Their offer: ");
    if (o >= 0) {
        event_add_str(ev, "offer", advance(reason, (size_t)o + 15));
        reason.n = (size_t)o;
    }
    event_add_str(ev, "reason", reason);
    set_row_result(ev, m, l);
    return 0;
}

/* Messages whose text is the reason: "Unable to negotiate a key exchange
 * method", "no matching mac found: client ... server ...",
 * "kex_exchange_identification: ...", "Read from socket failed: ..." */
static int on_reason_only(struct event *ev, struct str s, const struct sshd_msg *m,
                          struct sshd_line *l)
{
    /* the whole message (level and " [preauth]" already off) */
    size_t pl = m->prefix.n;
    struct str r = str_make(s.p - pl, s.n + pl);
    if (str_starts(r, "kex_exchange_identification: ") ||
        str_starts(r, "Read from socket failed: ")) {
        r = s;
    } else if (m->prefix.p[0] == 'n') {
        /* "no matching mac found: client A server B" -> "no matching mac found" */
        long k = str_find(r, ": ");
        if (k >= 0)
            r.n = (size_t)k;
    }
    event_add_str(ev, "reason", r);
    set_row_result(ev, m, l);
    return 0;
}

/* "Timeout before authentication for H port P" and (OpenSSH 9.8+)
 * "Timeout before authentication for connection from H to L, pid = N" */
static int on_timeout(struct event *ev, struct str s, const struct sshd_msg *m, struct sshd_line *l)
{
    struct str host, port;
    if (str_starts(s, "connection from ")) {
        s = advance(s, 16);
        host = token(s);
        struct str t = advance(s, host.n);
        if (str_starts(t, " to ")) {
            struct str lhost = token(advance(t, 4));
            if (lhost.n && lhost.p[lhost.n - 1] == ',')
                lhost.n--;
            event_set_ip(ev, CORE_DESTINATION_IP, lhost);
        }
        set_host(ev, host, (struct str){0});
    } else if (host_port(s, &host, &port)) {
        set_host(ev, host, port);
    } else {
        return -EINVAL;
    }
    set_row_result(ev, m, l);
    return 0;
}

/* "Did not receive identification string from H[ port P]" */
static int on_no_ident(struct event *ev, struct str s, const struct sshd_msg *m,
                       struct sshd_line *l)
{
    struct str host, port;
    if (!host_port(s, &host, &port))
        return -EINVAL;
    set_host(ev, host, port);
    event_add_str(ev, "reason", STR_LIT("no identification string"));
    set_row_result(ev, m, l);
    return 0;
}

/* "Bad protocol version identification 'X' from H[ port P]": X is the
 * client's, so the last "' from " ends it. */
static int on_bad_version(struct event *ev, struct str s, const struct sshd_msg *m,
                          struct sshd_line *l)
{
    long q = str_rfind(s, "' from ");
    struct str host, port;
    if (q < 0 || !host_port(advance(s, (size_t)q + 7), &host, &port))
        return -EINVAL;
    set_host(ev, host, port);
    event_add_str(ev, "identification", str_make(s.p, (size_t)q));
    event_add_str(ev, "reason", STR_LIT("bad protocol version identification"));
    set_row_result(ev, m, l);
    return 0;
}

/* "PAM: MSG for [illegal user ]U from H[ via L]" (error: prefix taken) */
static int on_pam_error(struct event *ev, struct str s, const struct sshd_msg *m,
                        struct sshd_line *l)
{
    long f = str_find(s, " for ");
    struct from_parts fp;
    if (f <= 0 || !user_from_kind(ev, advance(s, (size_t)f + 5), &fp))
        return -EINVAL;
    event_add_str(ev, "reason", str_make(s.p, (size_t)f));
    set_row_result(ev, m, l);
    return 0;
}

/* "PAM N more authentication failures; logname= ... rhost=H  user=U" */
static int on_pam_more(struct event *ev, struct str s, const struct sshd_msg *m,
                       struct sshd_line *l)
{
    struct str n = token(s);
    long semi = str_find(s, "; ");
    if (!str_is_uint(n) || semi < 0 || str_find(s, " more authentication failure") < 0)
        return -EINVAL;
    event_add(ev, STR_LIT("more_failures"), n, VT_NUMBER);
    pam_kv_decode(ev, advance(s, (size_t)semi + 2));
    set_row_result(ev, m, l);
    return 0;
}

/* "pam_unix(sshd:auth): ..." and the other PAM modules */
static int on_pam_module(struct event *ev, struct str s, const struct sshd_msg *m,
                         struct sshd_line *l)
{
    (void)m, (void)l;
    return pam_message_decode(ev, str_make(s.p - 4, s.n + 4)); /* with "pam_" */
}

/* "drop connection #N from [IP]:PORT on [IP]:PORT penalty: REASON" and
 * "... past MaxStartups" (OpenSSH 9.8+ listener) */
static int on_drop_connection(struct event *ev, struct str s, const struct sshd_msg *m,
                              struct sshd_line *l)
{
    long f = str_find(s, " from [");
    if (f < 0)
        return -EINVAL;
    struct str t = advance(s, (size_t)f + 7);
    const char *rb = memchr(t.p, ']', t.n);
    if (!rb)
        return -EINVAL;
    struct str ip = str_make(t.p, (size_t)(rb - t.p));
    struct str port = {0};
    t = advance(t, ip.n + 1);
    if (str_starts(t, ":")) {
        port = token(advance(t, 1));
        t = advance(t, 1 + port.n);
    }
    set_host(ev, ip, port);
    if (str_starts(t, " on [")) {
        t = advance(t, 5);
        rb = memchr(t.p, ']', t.n);
        if (rb) {
            event_set_ip(ev, CORE_DESTINATION_IP, str_make(t.p, (size_t)(rb - t.p)));
            t = advance(t, (size_t)(rb - t.p) + 1);
            if (str_starts(t, ":")) {
                struct str lport = token(advance(t, 1));
                if (str_is_port(lport))
                    ev->core[CORE_DESTINATION_PORT] = lport;
                t = advance(t, 1 + lport.n);
            }
        }
    }
    t = str_trim(t);
    if (str_starts(t, "penalty: "))
        t = advance(t, 9);
    if (t.n)
        event_add_str(ev, "reason", t);
    set_row_result(ev, m, l);
    return 0;
}

/* First match wins: a longer prefix must come before a shorter one that
 * starts it ("Disconnecting: " before "Disconnecting "). */
static const struct sshd_msg msgs[] = {
    {LIT("Accepted "), on_auth, "login", "success"},
    {LIT("Failed "), on_auth, "login-failed", "failure"},
    {LIT("Postponed "), on_auth, "auth-postponed", NULL},
    {LIT("Partial "), on_auth, "auth-partial", NULL},
    {LIT("Invalid user "), on_user_from, "invalid-user", "failure"},
    {LIT("input_userauth_request: invalid user "), on_invalid_user_only, "invalid-user", "failure"},
    {LIT("maximum authentication attempts exceeded for "), on_user_from, "too-many-auth-failures",
     "failure"},
    {LIT("User "), on_not_allowed, "user-not-allowed", "failure"},
    {LIT("ROOT LOGIN REFUSED FROM "), on_root_refused, "root-login-refused", "failure"},
    {LIT("refused connect from "), on_refused_connect, "connection-refused", "failure"},
    {LIT("Address "), on_address_maps, "reverse-mapping-failed", NULL},
    {LIT("reverse mapping checking getaddrinfo for "), on_reverse_mapping, "reverse-mapping-failed",
     NULL},
    {LIT("Received disconnect from "), on_received_disconnect, "disconnect", NULL},
    {LIT("Disconnected from "), on_user_host_tail, "disconnect", NULL},
    {LIT("Disconnecting: "), on_disconnecting_colon, "disconnect", NULL},
    {LIT("Disconnecting "), on_disconnecting_user, "disconnect", NULL},
    {LIT("Connection closed by "), on_user_host_tail, "connection-closed", NULL},
    {LIT("Connection reset by "), on_user_host_tail, "connection-reset", NULL},
    {LIT("Connection from "), on_connection_from, "connection", NULL},
    {LIT("Unable to negotiate with "), on_unable_negotiate, "negotiation-failed", "failure"},
    {LIT("Unable to negotiate a key exchange method"), on_reason_only, "negotiation-failed",
     "failure"},
    {LIT("no matching "), on_reason_only, "negotiation-failed", "failure"},
    {LIT("Timeout before authentication for "), on_timeout, "timeout", "failure"},
    {LIT("Did not receive identification string from "), on_no_ident, "identification-failed",
     "failure"},
    {LIT("Bad protocol version identification '"), on_bad_version, "identification-failed",
     "failure"},
    {LIT("kex_exchange_identification: "), on_reason_only, "identification-failed", "failure"},
    {LIT("banner exchange: Connection from "), on_conn_reason, "identification-failed", "failure"},
    {LIT("ssh_dispatch_run_fatal: Connection from "), on_conn_reason, "protocol-error", "failure"},
    {LIT("Read from socket failed: "), on_reason_only, "connection-reset", NULL},
    {LIT("PAM: "), on_pam_error, "auth-failure", "failure"},
    {LIT("PAM "), on_pam_more, "auth-failure", "failure"},
    {LIT("pam_"), on_pam_module, NULL, NULL},
    {LIT("drop connection #"), on_drop_connection, "connection-dropped", "failure"},
};

struct level_def {
    struct str prefix;
    struct str level;
};

static const struct level_def levels[] = {
    {LIT("error: "), LIT("error")},   {LIT("fatal: "), LIT("fatal")},
    {LIT("debug1: "), LIT("debug1")}, {LIT("debug2: "), LIT("debug2")},
    {LIT("debug3: "), LIT("debug3")}, {LIT("verbose: "), LIT("verbose")},
};

static int sshd_parse(struct event *ev, struct str s)
{
    struct sshd_line l = {0};
    s = str_trim(s);
    /* Solaris: "[ID 800047 auth.info] " */
    if (str_starts(s, "[ID ")) {
        const char *rb = memchr(s.p, ']', s.n);
        if (!rb)
            return -EINVAL;
        s = str_trim(advance(s, (size_t)(rb - s.p) + 1));
    }
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        if (str_has_prefix(s, levels[k].prefix)) {
            event_add_str(ev, "level", levels[k].level);
            s = advance(s, levels[k].prefix.n);
            break;
        }
    }
    if (s.n >= 10 && !memcmp(s.p + s.n - 10, " [preauth]", 10)) {
        l.preauth = true;
        s.n -= 10;
    }
    for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
        const struct sshd_msg *m = &msgs[k];
        if (!str_has_prefix(s, m->prefix))
            continue;
        int rc = m->fn(ev, advance(s, m->prefix.n), m, &l);
        if (rc == 0 && l.preauth)
            event_add_true(ev, "preauth");
        return rc;
    }
    return -EINVAL;
}

/* Contract (struct syslog_app): sets the log source, then decodes; on
 * -EINVAL the core fields are as they were on entry (the caller drops the
 * native fields). */
static int sshd_decode(struct decode_ctx *ctx, struct event *ev, struct str program)
{
    (void)ctx, (void)program;
    ev->ls = (struct logsource){"linux", "sshd", NULL};
    struct str saved[CORE__COUNT];
    memcpy(saved, ev->core, sizeof(saved));
    int rc = sshd_parse(ev, ev->message);
    if (rc < 0)
        memcpy(ev->core, saved, sizeof(saved));
    return rc;
}

const struct syslog_app syslog_app_sshd = {
    .name = "sshd",
    .match = sshd_match,
    .decode = sshd_decode,
};
