/*
 * authlog.c - address checks and PAM messages for the authentication-log
 * decoders (see authlog.h).
 *
 * Address checks matter more than they look: source.ip is what detectors
 * count failed logins by and what threat intelligence is matched against,
 * so a host name or an attacker-shaped string must never land there. The
 * check is inet_pton() on a stack copy, which is exact and costs tens of
 * nanoseconds.
 *
 * PAM messages carry user-controlled text (ruser, user) next to the value
 * that matters (rhost). pam_unix writes them in a fixed order, "...
 * ruser=R rhost=H  user=U", so rhost is taken as the first "rhost=" token
 * that is followed by the end of the message or by " user=": a remote user
 * name such as "x rhost=192.0.2.9" cannot plant an address there.
 */
#include "decode/authlog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "decode/decode.h"

/* Dotted quad, each part 0..255 without leading zeros (as inet_pton). */
static bool ipv4_valid(struct str s)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= s.n || s.p[i++] != '.'))
            return false;
        size_t b = i;
        unsigned v = 0;
        while (i < s.n && i - b < 4 && s.p[i] >= '0' && s.p[i] <= '9')
            v = v * 10 + (unsigned)(s.p[i++] - '0');
        if (i == b || i - b > 3 || v > 255 || (i - b > 1 && s.p[b] == '0'))
            return false;
    }
    return i == s.n;
}

bool ip_text_valid(struct str s)
{
    if (s.n >= 7 && s.n <= 15 && !memchr(s.p, ':', s.n))
        return ipv4_valid(s);
    /* longest IPv6 text with an IPv4 tail is 45 bytes; allow a short zone */
    char buf[64];
    unsigned char addr[16];
    if (s.n < 2 || s.n >= sizeof(buf))
        return false;
    bool colon = memchr(s.p, ':', s.n) != NULL;
    size_t n = s.n;
    if (colon) {
        const char *pct = memchr(s.p, '%', s.n);
        if (pct) {
            n = (size_t)(pct - s.p);
            if (n + 1 == s.n) /* empty zone */
                return false;
        }
    }
    memcpy(buf, s.p, n);
    buf[n] = '\0';
    return inet_pton(colon ? AF_INET6 : AF_INET, buf, addr) == 1;
}

bool event_set_ip(struct event *ev, enum core_field f, struct str s)
{
    if (!ip_text_valid(s))
        return false;
    if (s.n > 7 && (s.p[0] == ':' && s.p[1] == ':') && (s.p[2] == 'f' || s.p[2] == 'F') &&
        !strncasecmp(s.p + 2, "ffff:", 5) && memchr(s.p + 7, '.', s.n - 7)) {
        struct str v4 = str_make(s.p + 7, s.n - 7);
        if (ip_text_valid(v4))
            s = v4;
    }
    ev->core[f] = s;
    return true;
}

bool str_is_uint(struct str s)
{
    if (s.n == 0 || s.n > 18)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

bool str_is_port(struct str s)
{
    if (s.n > 5 || !str_is_uint(s))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < s.n; i++)
        v = v * 10 + (unsigned)(s.p[i] - '0');
    return v <= 65535;
}

long str_rfind(struct str s, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0 || n > s.n)
        return -1;
    size_t end = s.n - n + 1; /* candidates start below end */
    while (end > 0) {
        const char *p = memrchr(s.p, lit[0], end);
        if (!p)
            return -1;
        if (!memcmp(p, lit, n))
            return p - s.p;
        end = (size_t)(p - s.p);
    }
    return -1;
}

/* Value of "key=" at the start of s, up to the next space; advances s past
 * it and the space. Returns false (s unchanged) if s does not start so. */
static bool take_kv(struct str *s, const char *key, struct str *val)
{
    size_t kl = strlen(key);
    if (s->n <= kl || memcmp(s->p, key, kl) || s->p[kl] != '=')
        return false;
    size_t i = kl + 1;
    while (i < s->n && s->p[i] != ' ')
        i++;
    *val = str_make(s->p + kl + 1, i - kl - 1);
    if (i < s->n)
        i++;
    s->p += i;
    s->n -= i;
    return true;
}

/* Does t (what follows an rhost value) end the message or start the
 * " user=" part? */
static bool rhost_tail_ok(struct str t)
{
    t = str_trim(t);
    return t.n == 0 || str_starts(t, "user=");
}

void pam_kv_decode(struct event *ev, struct str kv)
{
    static const char *const fixed[] = {"logname", "uid", "euid", "tty"};
    struct str s = str_trim(kv);
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
        struct str v;
        if (take_kv(&s, fixed[k], &v))
            event_add(ev, (struct str){fixed[k], strlen(fixed[k])}, v,
                      k == 1 || k == 2 ? VT_NUMBER : VT_STRING);
    }
    /* ruser=R rhost=H[  user=U]: R and U come from the client. */
    struct str rest = s;
    if (str_starts(rest, "ruser=")) {
        rest.p += 6;
        rest.n -= 6;
    }
    size_t from = 0;
    for (;;) {
        struct str tail = str_make(rest.p + from, rest.n - from);
        long at = str_find(tail, "rhost=");
        if (at < 0)
            break;
        size_t a = from + (size_t)at;
        if (a > 0 && rest.p[a - 1] != ' ') {
            from = a + 1;
            continue;
        }
        size_t v0 = a + 6, v1 = v0;
        while (v1 < rest.n && rest.p[v1] != ' ')
            v1++;
        if (!rhost_tail_ok(str_make(rest.p + v1, rest.n - v1))) {
            from = a + 1;
            continue;
        }
        if (s.p != rest.p) /* there was a ruser= key */
            event_add_str(ev, "ruser", str_trim(str_make(rest.p, a)));
        struct str rhost = str_make(rest.p + v0, v1 - v0);
        if (rhost.n) {
            event_add_str(ev, "rhost", rhost);
            event_set_ip(ev, CORE_SOURCE_IP, rhost);
        }
        struct str u = str_trim(str_make(rest.p + v1, rest.n - v1));
        if (str_starts(u, "user=")) {
            u = str_make(u.p + 5, u.n - 5);
            if (u.n) {
                event_add_str(ev, "user", u);
                ev->core[CORE_USER_NAME] = u;
            }
        }
        return;
    }
}

/* "pam_unix(sshd:auth): " -> module, service, type; returns bytes taken or
 * 0. */
static size_t pam_prefix(struct event *ev, struct str msg)
{
    if (!str_starts(msg, "pam_"))
        return 0;
    size_t i = 4;
    while (i < msg.n && i < 40 && msg.p[i] != '(' && msg.p[i] != ':' && msg.p[i] != ' ')
        i++;
    if (i == 4 || i >= msg.n || msg.p[i] != '(')
        return 0;
    struct str module = str_make(msg.p, i);
    size_t a0 = i + 1;
    const char *rp = memchr(msg.p + a0, ')', msg.n - a0);
    if (!rp)
        return 0;
    size_t a1 = (size_t)(rp - msg.p);
    if (a1 + 2 >= msg.n || msg.p[a1 + 1] != ':' || msg.p[a1 + 2] != ' ')
        return 0;
    struct str args = str_make(msg.p + a0, a1 - a0);
    event_add_str(ev, "pam_module", module);
    const char *colon = memchr(args.p, ':', args.n);
    if (colon) {
        event_add_str(ev, "pam_service", str_make(args.p, (size_t)(colon - args.p)));
        event_add_str(ev, "pam_type", str_make(colon + 1, args.n - (size_t)(colon - args.p) - 1));
    } else {
        event_add_str(ev, "pam_service", args);
    }
    return a1 + 3;
}

/* "X(uid=N)" or "X" -> the user name X. */
static struct str user_before_uid(struct str s)
{
    long p = str_find(s, "(uid=");
    if (p >= 0)
        s.n = (size_t)p;
    return str_trim(s);
}

int pam_message_decode(struct event *ev, struct str msg)
{
    size_t off = pam_prefix(ev, msg);
    if (!off)
        return -EINVAL;
    struct str m = str_make(msg.p + off, msg.n - off);
    static const struct str action_fail = STR_LIT("auth-failure");
    if (str_starts(m, "authentication failure; ")) {
        pam_kv_decode(ev, str_make(m.p + 24, m.n - 24));
        event_add_str(ev, "reason", STR_LIT("authentication failure"));
    } else if (str_starts(m, "check pass; user unknown")) {
        event_add_str(ev, "reason", STR_LIT("user unknown"));
    } else if (m.n && m.p[0] >= '1' && m.p[0] <= '9' &&
               str_find(m, " more authentication failure") > 0) {
        long sp = str_find(m, " ");
        event_add(ev, STR_LIT("more_failures"), str_make(m.p, (size_t)sp), VT_NUMBER);
        long semi = str_find(m, "; ");
        if (semi > 0)
            pam_kv_decode(ev, str_make(m.p + semi + 2, m.n - (size_t)semi - 2));
        event_add_str(ev, "reason", STR_LIT("authentication failure"));
    } else if (str_starts(m, "session opened for user ") ||
               str_starts(m, "session closed for user ")) {
        bool opened = m.p[8] == 'o';
        struct str u = str_make(m.p + 24, m.n - 24);
        long by = str_rfind(u, " by ");
        if (opened && by >= 0) {
            struct str who = user_before_uid(str_make(u.p + by + 4, u.n - (size_t)by - 4));
            u.n = (size_t)by;
            if (who.n)
                event_add_str(ev, "by", who);
        }
        u = user_before_uid(u);
        if (!u.n)
            return -EINVAL;
        event_add_str(ev, "user", u);
        ev->core[CORE_USER_NAME] = u;
        ev->core[CORE_EVENT_ACTION] =
            opened ? STR_LIT("session-opened") : STR_LIT("session-closed");
        ev->core[CORE_EVENT_OUTCOME] = STR_LIT("success");
        return 0;
    } else {
        return -EINVAL;
    }
    ev->core[CORE_EVENT_ACTION] = action_fail;
    ev->core[CORE_EVENT_OUTCOME] = STR_LIT("failure");
    return 0;
}
