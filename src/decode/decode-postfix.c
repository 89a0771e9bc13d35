/*
 * decode-postfix.c - Postfix messages inside syslog lines.
 *
 * Postfix logs one line per step of a message's life, each written by one
 * daemon: smtpd (connect, client=, rejects, SASL failures, disconnect with
 * command counters), cleanup (message-id, header/body checks, milters), qmgr
 * (from=/size=/nrcpt=, removed, expired), smtp/lmtp/local/virtual/pipe
 * (to=/relay=/delay=/dsn=/status= deliveries), bounce (notifications),
 * postscreen, anvil, dnsblog, master, postsuper, and plain warnings. Lines of
 * one message share its queue id, kept as native "queue_id" so they can be
 * joined.
 *
 * Design:
 *   - The program name says the daemon ("postfix/smtpd", "postfix-out/smtp",
 *     "postfix/submission/smtpd": the last path component) and so the Sigma
 *     service. Bare messages (no syslog header, --format postfix) carry no
 *     program: each message shape names the daemon that writes it, and
 *     shapes several daemons share fall back to "postfix".
 *   - Dispatch is by prefix over two small tables: messages that start with
 *     a queue id ("4104E3D: client=...", "NOQUEUE: reject: ...") and
 *     messages that do not ("connect from ...", "warning: ..."). A rule is a
 *     literal prefix plus a handler; a line costs a queue-id test and a few
 *     first-byte compares before the one handler that can match runs.
 *   - Zero copy: every value and most keys are slices of the raw line; the
 *     key=value lists ("from=<a>, size=5, nrcpt=1") are read in one pass and
 *     keep Postfix's own key names. The only allocations are the event's
 *     field array (arena) and, rarely, names of unknown SMTP commands or
 *     daemons.
 *   - A handler either understands its message or returns -EINVAL; the
 *     dispatcher then rolls back what it added (fields and core), so a
 *     half-parsed message never leaves half an event. A message with a
 *     queue id but an unknown body keeps just the queue id and has no
 *     event.action; any other "LEVEL: text" is kept as its level.
 *   - Hostile input: every read is bounds-checked against the slice; nothing
 *     is NUL-terminated or written back.
 *
 * Field names are documented in docs/fields.md ("Postfix").
 */
#include <errno.h>
#include <string.h>

#include "decode/decode.h"

/* Parse state of one message. */
struct pf {
    struct event *ev;
    const char *daemon;  /* daemon from the program name, or NULL (bare) */
    const char *infer;   /* daemon the message shape implies, or NULL */
    const char *action;  /* event.action (static), or NULL */
    const char *outcome; /* event.outcome (static), or NULL */
    struct str status;   /* status= of a delivery */
    struct str relay;    /* relay= of a delivery */
    bool have_qid;
};

/* ---- slices ------------------------------------------------------------ */

static inline struct str rest_from(struct str s, size_t i)
{
    return i >= s.n ? str_make(s.p + s.n, 0) : str_make(s.p + i, s.n - i);
}

/* If s starts with lit[0..n), drop it and return true. */
static inline bool eat_n(struct str *s, const char *lit, size_t n)
{
    if (s->n < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    s->n -= n;
    return true;
}
#define EAT(s, lit) eat_n((s), (lit), sizeof(lit) - 1)

/* Position of lit[0..n) in s, or -1. */
static inline long find_n(struct str s, const char *lit, size_t n)
{
    if (!s.n || n > s.n)
        return -1;
    const char *p = memmem(s.p, s.n, lit, n);
    return p ? p - s.p : -1;
}
#define FIND(s, lit) find_n((s), (lit), sizeof(lit) - 1)

/* Position of the last lit[0..n) in s, or -1. */
static long rfind_n(struct str s, const char *lit, size_t n)
{
    if (n == 0 || n > s.n)
        return -1;
    for (size_t i = s.n - n + 1; i-- > 0;)
        if (s.p[i] == lit[0] && memcmp(s.p + i, lit, n) == 0)
            return (long)i;
    return -1;
}
#define RFIND(s, lit) rfind_n((s), (lit), sizeof(lit) - 1)

/* Split s at the first c: *head gets what precedes it, s what follows.
 * Returns false (s untouched) if c is absent. */
static bool split_at(struct str *s, char c, struct str *head)
{
    const char *p = s->n ? memchr(s->p, c, s->n) : NULL;
    if (!p)
        return false;
    *head = str_make(s->p, (size_t)(p - s->p));
    *s = rest_from(*s, (size_t)(p - s->p) + 1);
    return true;
}

/* The leading run of non-space bytes of s; s keeps the rest. */
static struct str take_word(struct str *s)
{
    size_t i = 0;
    while (i < s->n && s->p[i] != ' ')
        i++;
    struct str w = str_make(s->p, i);
    *s = rest_from(*s, i);
    return w;
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(struct str s)
{
    if (!s.n)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_digit(s.p[i]))
            return false;
    return true;
}

/* Leading decimal number (digits and at most one dot) of s; s keeps the rest. */
static struct str take_number(struct str *s)
{
    size_t i = 0;
    bool dot = false;
    while (i < s->n && (is_digit(s->p[i]) || (s->p[i] == '.' && !dot && i))) {
        dot |= s->p[i] == '.';
        i++;
    }
    struct str w = str_make(s->p, i);
    *s = rest_from(*s, i);
    return w;
}

/* Is s an IPv4 or IPv6 address? A cheap syntactic test: dotted quad, or hex
 * groups with at least two colons (an embedded IPv4 tail is allowed). */
static bool is_ip(struct str s)
{
    if (s.n < 2 || s.n > 45)
        return false;
    unsigned colons = 0, dots = 0, run = 0, octet = 0;
    bool hex = false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (is_digit(c)) {
            octet = octet * 10 + (unsigned)(c - '0');
            run++;
        } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            hex = true;
            run++;
        } else if (c == '.') {
            if (!run || run > 3 || octet > 255)
                return false;
            dots++;
            run = octet = 0;
        } else if (c == ':') {
            if (run > 4 || dots)
                return false;
            colons++;
            run = octet = 0;
        } else {
            return false;
        }
    }
    if (colons == 0)
        return !hex && dots == 3 && run && run <= 3 && octet <= 255;
    return colons >= 2 && colons <= 7 && (dots == 0 || dots == 3) && run <= 4;
}

/* ---- fields ------------------------------------------------------------ */

static inline void add(struct pf *st, const char *key, struct str v)
{
    event_add(st->ev, (struct str){key, __builtin_strlen(key)}, v, VT_STRING);
}

static inline void add_num(struct pf *st, const char *key, struct str v)
{
    event_add(st->ev, (struct str){key, __builtin_strlen(key)}, v, VT_NUMBER);
}

static inline void core(struct pf *st, enum core_field f, struct str v)
{
    event_set_core(st->ev, f, v);
}

/* The core fields this decoder may set (rolled back on failure). */
static const enum core_field pf_core[] = {
    CORE_USER_NAME,        CORE_SOURCE_IP,          CORE_SOURCE_PORT,      CORE_DESTINATION_IP,
    CORE_DESTINATION_PORT, CORE_EMAIL_FROM_ADDRESS, CORE_EMAIL_TO_ADDRESS, CORE_EMAIL_MESSAGE_ID,
};

/* "host[addr]" or "[addr]", optionally followed by ":port". */
struct hostaddr {
    struct str host, addr, port;
};

/* Read a hostaddr at the start of *s and advance past it. The host has no
 * space or bracket; the port is taken only when a digit follows the colon,
 * so "h[a]: text" keeps its ": text". Returns false (s untouched) if s does
 * not start with one. */
static bool hostaddr_take(struct str *s, struct hostaddr *ha)
{
    size_t i = 0;
    while (i < s->n && s->p[i] != '[' && s->p[i] != ' ' && s->p[i] != ']')
        i++;
    if (i >= s->n || s->p[i] != '[')
        return false;
    size_t a = i + 1;
    const char *rb = a < s->n ? memchr(s->p + a, ']', s->n - a) : NULL;
    if (!rb)
        return false;
    size_t e = (size_t)(rb - s->p);
    ha->host = str_make(s->p, i);
    ha->addr = str_make(s->p + a, e - a);
    ha->port = (struct str){0};
    size_t j = e + 1;
    if (j + 1 < s->n && s->p[j] == ':' && is_digit(s->p[j + 1])) {
        size_t d = j + 1;
        while (d < s->n && is_digit(s->p[d]))
            d++;
        ha->port = str_make(s->p + j + 1, d - j - 1);
        j = d;
    }
    *s = rest_from(*s, j);
    return true;
}

/* The SMTP client: client_hostname/_ip/_port, and source.ip/.port when the
 * address is an IP ("unknown" is not). */
static void emit_client(struct pf *st, const struct hostaddr *ha)
{
    if (ha->host.n)
        add(st, "client_hostname", ha->host);
    add(st, "client_ip", ha->addr);
    if (ha->port.n)
        add_num(st, "client_port", ha->port);
    if (is_ip(ha->addr)) {
        core(st, CORE_SOURCE_IP, ha->addr);
        core(st, CORE_SOURCE_PORT, ha->port);
    }
}

/* The remote server of an outbound connection: relay_host, relay_ip (or
 * relay_socket for a UNIX-domain path), relay_port; destination.*. */
static void emit_relay(struct pf *st, const struct hostaddr *ha)
{
    if (ha->host.n)
        add(st, "relay_host", ha->host);
    if (is_ip(ha->addr)) {
        add(st, "relay_ip", ha->addr);
        core(st, CORE_DESTINATION_IP, ha->addr);
        core(st, CORE_DESTINATION_PORT, ha->port);
    } else if (ha->addr.n) {
        add(st, "relay_socket", ha->addr);
    }
    if (ha->port.n)
        add_num(st, "relay_port", ha->port);
}

/* "550 5.1.1 text" / "5.7.1 text" / "text": the SMTP reply code and the
 * enhanced status code (DSN) at the start of a reply, if present. */
static struct str reply_split(struct str r, struct str *code, struct str *dsn)
{
    *code = *dsn = (struct str){0};
    if (r.n >= 4 && is_digit(r.p[0]) && is_digit(r.p[1]) && is_digit(r.p[2]) &&
        (r.p[3] == ' ' || r.p[3] == '-')) {
        *code = str_make(r.p, 3);
        r = rest_from(r, 4);
    }
    /* d.d{1,3}.d{1,3} followed by a space or the end */
    size_t i = 0;
    if (r.n >= 5 && (r.p[0] == '2' || r.p[0] == '4' || r.p[0] == '5') && r.p[1] == '.') {
        i = 2;
        size_t d1 = i;
        while (i < r.n && is_digit(r.p[i]))
            i++;
        if (i > d1 && i - d1 <= 3 && i < r.n && r.p[i] == '.') {
            size_t d2 = ++i;
            while (i < r.n && is_digit(r.p[i]))
                i++;
            if (i > d2 && i - d2 <= 3 && (i == r.n || r.p[i] == ' ')) {
                *dsn = str_make(r.p, i);
                return rest_from(r, i + 1);
            }
        }
    }
    return r;
}

static void emit_response(struct pf *st, struct str resp)
{
    struct str code, dsn;
    add(st, "response", resp);
    reply_split(resp, &code, &dsn);
    if (code.n)
        add_num(st, "response_code", code);
    if (dsn.n)
        add(st, "response_dsn", dsn);
}

/* ---- key=value lists --------------------------------------------------- */

enum kv_kind { KV_PLAIN, KV_NUM, KV_FROM, KV_TO, KV_CLIENT, KV_RELAY, KV_USER, KV_STATUS };

struct kv_key {
    const char *name;
    uint8_t len;
    uint8_t kind;
};
#define KVK(n, k)                                                                                  \
    {                                                                                              \
        n, sizeof(n) - 1, k                                                                        \
    }

/* Keys with a meaning beyond "string under its own name". */
static const struct kv_key kv_keys[] = {
    KVK("to", KV_TO),        KVK("from", KV_FROM),     KVK("relay", KV_RELAY),
    KVK("delay", KV_NUM),    KVK("status", KV_STATUS), KVK("client", KV_CLIENT),
    KVK("size", KV_NUM),     KVK("nrcpt", KV_NUM),     KVK("sasl_username", KV_USER),
    KVK("conn_use", KV_NUM), KVK("uid", KV_NUM),       KVK("retained", KV_NUM),
    KVK("dropped", KV_NUM),  KVK("hits", KV_NUM),      KVK("miss", KV_NUM),
    KVK("domains", KV_NUM),  KVK("addresses", KV_NUM), KVK("connection", KV_NUM),
};

static enum kv_kind kv_kind_of(struct str key)
{
    for (size_t i = 0; i < sizeof(kv_keys) / sizeof(kv_keys[0]); i++)
        if (kv_keys[i].len == key.n && kv_keys[i].name[0] == key.p[0] &&
            memcmp(kv_keys[i].name, key.p, key.n) == 0)
            return (enum kv_kind)kv_keys[i].kind;
    return KV_PLAIN;
}

static void kv_emit(struct pf *st, struct str key, struct str val)
{
    enum kv_kind k = kv_kind_of(key);
    switch (k) {
    case KV_CLIENT: {
        struct hostaddr ha;
        struct str s = val;
        if (hostaddr_take(&s, &ha) && !s.n) {
            emit_client(st, &ha);
            return;
        }
        break; /* not host[addr]: keep as is */
    }
    case KV_RELAY: {
        event_add(st->ev, key, val, VT_STRING);
        st->relay = val;
        struct hostaddr ha;
        struct str s = val;
        if (hostaddr_take(&s, &ha) && !s.n)
            emit_relay(st, &ha);
        return;
    }
    case KV_FROM:
        core(st, CORE_EMAIL_FROM_ADDRESS, val);
        break;
    case KV_TO:
        core(st, CORE_EMAIL_TO_ADDRESS, val);
        break;
    case KV_USER:
        core(st, CORE_USER_NAME, val);
        break;
    case KV_STATUS:
        st->status = val;
        break;
    default:
        break;
    }
    event_add(st->ev, key, val, k == KV_NUM ? VT_NUMBER : VT_STRING);
}

static inline bool is_keych(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

/* Read "key=value" items separated by commas and/or spaces from the start
 * of s, adding one native field per item under its own key. A value in
 * angle brackets runs to the '>' (brackets dropped, "<>" is empty);
 * otherwise to the next comma or space. "status=X (text)" takes the rest
 * of s as the response. Returns what follows the last item (separators
 * included), which is empty when everything was read. */
static struct str kv_run(struct pf *st, struct str s)
{
    const char *p = s.p;
    size_t n = s.n, i = 0;
    for (;;) {
        size_t t = i;
        while (t < n && (p[t] == ' ' || p[t] == ','))
            t++;
        size_t k = t;
        while (k < n && is_keych(p[k]))
            k++;
        if (k == t || k >= n || p[k] != '=')
            return rest_from(s, i);
        struct str key = str_make(p + t, k - t);
        size_t v = k + 1, e;
        struct str val;
        const char *gt = NULL;
        if (v < n && p[v] == '<')
            gt = memchr(p + v, '>', n - v);
        if (gt) {
            val = str_make(p + v + 1, (size_t)(gt - p) - v - 1);
            e = (size_t)(gt - p) + 1;
        } else {
            e = v;
            while (e < n && p[e] != ',' && p[e] != ' ')
                e++;
            val = str_make(p + v, e - v);
        }
        kv_emit(st, key, val);
        i = e;
        if (st->status.p == val.p && e + 1 < n && p[e] == ' ' && p[e + 1] == '(') {
            size_t end = n;
            if (p[n - 1] == ')')
                end = n - 1;
            add(st, "response", str_make(p + e + 2, end - e - 2));
            return rest_from(s, n);
        }
    }
}

/* ---- SMTP command counters --------------------------------------------- */

struct cmd_key {
    const char *name;
    const char *key;
    const char *key_ok;
};

/* The commands smtpd counts, with their static field names. */
static const struct cmd_key cmd_keys[] = {
    {"ehlo", "cmd_ehlo", "cmd_ehlo_accepted"},
    {"helo", "cmd_helo", "cmd_helo_accepted"},
    {"starttls", "cmd_starttls", "cmd_starttls_accepted"},
    {"auth", "cmd_auth", "cmd_auth_accepted"},
    {"mail", "cmd_mail", "cmd_mail_accepted"},
    {"rcpt", "cmd_rcpt", "cmd_rcpt_accepted"},
    {"data", "cmd_data", "cmd_data_accepted"},
    {"bdat", "cmd_bdat", "cmd_bdat_accepted"},
    {"quit", "cmd_quit", "cmd_quit_accepted"},
    {"rset", "cmd_rset", "cmd_rset_accepted"},
    {"noop", "cmd_noop", "cmd_noop_accepted"},
    {"vrfy", "cmd_vrfy", "cmd_vrfy_accepted"},
    {"etrn", "cmd_etrn", "cmd_etrn_accepted"},
    {"unknown", "cmd_unknown", "cmd_unknown_accepted"},
    {"xclient", "cmd_xclient", "cmd_xclient_accepted"},
    {"xforward", "cmd_xforward", "cmd_xforward_accepted"},
    {"commands", "commands", "commands_accepted"},
};

/* "cmd_" NAME [suffix] in the arena, for a command missing from cmd_keys. */
static struct str cmd_key_make(struct pf *st, struct str name, bool ok)
{
    size_t n = 4 + name.n + (ok ? 9 : 0);
    char *k = arena_alloc(st->ev->arena, n + 1);
    memcpy(k, "cmd_", 4);
    memcpy(k + 4, name.p, name.n);
    if (ok)
        memcpy(k + 4 + name.n, "_accepted", 9);
    k[n] = '\0';
    return str_make(k, n);
}

/* "ehlo=2 starttls=1 rcpt=0/1 commands=3/5": NAME=TOTAL or
 * NAME=ACCEPTED/TOTAL per command, as cmd_NAME (total) and
 * cmd_NAME_accepted (only when logged), and commands / commands_accepted. */
static void counters_run(struct pf *st, struct str s)
{
    while (s.n) {
        while (s.n && s.p[0] == ' ')
            s = rest_from(s, 1);
        struct str item = take_word(&s), name, a;
        if (!item.n || !split_at(&item, '=', &name) || !name.n)
            continue;
        struct str total = item;
        bool has_ok = split_at(&total, '/', &a);
        if (!has_ok)
            a = (struct str){0};
        const struct cmd_key *ck = NULL;
        for (size_t i = 0; i < sizeof(cmd_keys) / sizeof(cmd_keys[0]); i++)
            if (str_eq(name, cmd_keys[i].name)) {
                ck = &cmd_keys[i];
                break;
            }
        struct str k = ck ? str_make(ck->key, strlen(ck->key)) : cmd_key_make(st, name, false);
        event_add(st->ev, k, total, VT_NUMBER);
        if (has_ok) {
            k = ck ? str_make(ck->key_ok, strlen(ck->key_ok)) : cmd_key_make(st, name, true);
            event_add(st->ev, k, a, VT_NUMBER);
        }
    }
}

/* Byte classes for queue ids: digits and upper-case A-F are hex; a long
 * id uses digits and consonants, with 'z' between its parts. */
enum { QC_ALNUM = 1, QC_HEX = 2, QC_VOWEL = 4, QC_Z = 8 };
/* clang-format off */
static const uint8_t qid_class[256] = {
    ['0'] = QC_ALNUM | QC_HEX, ['1'] = QC_ALNUM | QC_HEX, ['2'] = QC_ALNUM | QC_HEX,
    ['3'] = QC_ALNUM | QC_HEX, ['4'] = QC_ALNUM | QC_HEX, ['5'] = QC_ALNUM | QC_HEX,
    ['6'] = QC_ALNUM | QC_HEX, ['7'] = QC_ALNUM | QC_HEX, ['8'] = QC_ALNUM | QC_HEX,
    ['9'] = QC_ALNUM | QC_HEX, ['A'] = QC_ALNUM | QC_HEX | QC_VOWEL, ['B'] = QC_ALNUM | QC_HEX,
    ['C'] = QC_ALNUM | QC_HEX, ['D'] = QC_ALNUM | QC_HEX, ['E'] = QC_ALNUM | QC_HEX | QC_VOWEL,
    ['F'] = QC_ALNUM | QC_HEX, ['G'] = QC_ALNUM, ['H'] = QC_ALNUM, ['I'] = QC_ALNUM | QC_VOWEL,
    ['J'] = QC_ALNUM, ['K'] = QC_ALNUM, ['L'] = QC_ALNUM, ['M'] = QC_ALNUM, ['N'] = QC_ALNUM,
    ['O'] = QC_ALNUM | QC_VOWEL, ['P'] = QC_ALNUM, ['Q'] = QC_ALNUM, ['R'] = QC_ALNUM,
    ['S'] = QC_ALNUM, ['T'] = QC_ALNUM, ['U'] = QC_ALNUM | QC_VOWEL, ['V'] = QC_ALNUM,
    ['W'] = QC_ALNUM, ['X'] = QC_ALNUM, ['Y'] = QC_ALNUM, ['Z'] = QC_ALNUM,
    ['a'] = QC_ALNUM | QC_VOWEL, ['b'] = QC_ALNUM, ['c'] = QC_ALNUM, ['d'] = QC_ALNUM,
    ['e'] = QC_ALNUM | QC_VOWEL, ['f'] = QC_ALNUM, ['g'] = QC_ALNUM, ['h'] = QC_ALNUM,
    ['i'] = QC_ALNUM | QC_VOWEL, ['j'] = QC_ALNUM, ['k'] = QC_ALNUM, ['l'] = QC_ALNUM,
    ['m'] = QC_ALNUM, ['n'] = QC_ALNUM, ['o'] = QC_ALNUM | QC_VOWEL, ['p'] = QC_ALNUM,
    ['q'] = QC_ALNUM, ['r'] = QC_ALNUM, ['s'] = QC_ALNUM, ['t'] = QC_ALNUM,
    ['u'] = QC_ALNUM | QC_VOWEL, ['v'] = QC_ALNUM, ['w'] = QC_ALNUM, ['x'] = QC_ALNUM,
    ['y'] = QC_ALNUM, ['z'] = QC_ALNUM | QC_Z,
};
/* clang-format on */

/* A queue id at the start of s: "NOQUEUE", a short id (5+ upper-case hex
 * digits) or a long id (12+ letters and digits without vowels, with the
 * 'z' that separates its parts), followed by ": ". Sets *qid and *rest. */
static bool qid_take(struct str s, struct str *qid, struct str *rest)
{
    size_t i = 0, lim = s.n < 32 ? s.n : 32;
    unsigned all = QC_HEX, any = 0;
    while (i < lim) {
        unsigned c = qid_class[(unsigned char)s.p[i]];
        if (!(c & QC_ALNUM))
            break;
        all &= c;
        any |= c;
        i++;
    }
    if (i < 5 || i + 1 >= s.n || s.p[i] != ':' || s.p[i + 1] != ' ')
        return false;
    bool short_id = all & QC_HEX;
    bool long_id = i >= 12 && (any & QC_Z) && !(any & QC_VOWEL);
    if (!short_id && !long_id && !(i == 7 && !memcmp(s.p, "NOQUEUE", 7)))
        return false;
    *qid = str_make(s.p, i);
    *rest = rest_from(s, i + 2);
    return true;
}

/* The rule's prefix and s together: the message from its start, for the
 * key=value rules whose prefix is the first key. */
#define WITH_PREFIX(s, r) str_make((s).p - (r)->len, (s).n + (r)->len)

/* ---- rules -------------------------------------------------------------- */

struct rule;
typedef int (*rule_fn)(struct pf *st, struct str rest, const struct rule *r);

/* A message shape: its literal prefix, its handler (given what follows the
 * prefix), the event.action it usually has and the daemon it implies. */
struct rule {
    const char *prefix;
    uint8_t len;
    rule_fn fn;
    const char *action;
    const char *infer;
    const char *outcome;
};
#define RULE(p, fn, act, inf, out)                                                                 \
    {                                                                                              \
        p, sizeof(p) - 1, fn, act, inf, out                                                        \
    }

/* smtpd: "connect from H[A]" */
static int on_connect(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    return 0;
}

/* smtpd: "disconnect from H[A] ehlo=1 mail=1 ... commands=N/M" */
static int on_disconnect(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    counters_run(st, s);
    return 0;
}

/* smtpd: "lost connection after STAGE [(N bytes)] from H[A][: text]", and
 * likewise "timeout after", "too many errors after", "improper command
 * pipelining after", "bare <LF> received after". */
static int on_after(struct pf *st, struct str s, const struct rule *r)
{
    struct str stage = take_word(&s);
    if (!stage.n)
        return -EINVAL;
    add(st, "stage", stage);
    if (EAT(&s, " (")) {
        struct str n = take_number(&s);
        if (n.n && EAT(&s, " bytes)"))
            add_num(st, "data_bytes", n);
    }
    struct hostaddr ha;
    if (!EAT(&s, " from ") || !hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    return 0;
}

/* smtp/lmtp: "lost connection with H[A] while STAGE" and "conversation
 * with H[A] timed out while STAGE". */
static int on_with(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_relay(st, &ha);
    EAT(&s, " timed out");
    if (EAT(&s, " while "))
        add(st, "stage", s);
    return 0;
}

/* smtp: "host H[A] said: REPLY (in reply to STAGE command)" and "host H[A]
 * refused to talk to me: REPLY". */
static int on_host(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    if (EAT(&s, " said: ")) {
        long in = RFIND(s, " (in reply to ");
        if (in >= 0 && s.n >= (size_t)in + 14 + 9 && !memcmp(s.p + s.n - 9, " command)", 9)) {
            struct str stage = str_make(s.p + in + 14, s.n - 9 - (size_t)in - 14);
            s.n = (size_t)in;
            emit_relay(st, &ha);
            emit_response(st, s);
            add(st, "stage", stage);
            return 0;
        }
    } else if (EAT(&s, " refused to talk to me: ")) {
        st->action = "refused";
    } else {
        return -EINVAL;
    }
    emit_relay(st, &ha);
    emit_response(st, s);
    return 0;
}

/* smtp: "SASL authentication failed; server H[A] said: REPLY" */
static int on_smtp_sasl(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha) || !EAT(&s, " said: "))
        return -EINVAL;
    emit_relay(st, &ha);
    emit_response(st, s);
    return 0;
}

/* smtp: "enabling PIX workarounds: LIST for H[A]:PORT" */
static int on_pix(struct pf *st, struct str s, const struct rule *r)
{
    long f = RFIND(s, " for ");
    if (f < 0)
        return -EINVAL;
    struct str list = str_make(s.p, (size_t)f);
    s = rest_from(s, (size_t)f + 5);
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    add(st, "pix_workarounds", list);
    emit_relay(st, &ha);
    return 0;
}

/* smtp: "connect to H[A]:PORT: REASON"; "SSL_connect error to H[A]:PORT:
 * REASON"; "certificate verification failed for H[A]:PORT: REASON" (the
 * peer is the client when smtpd writes it). */
static int on_peer_reason(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    if (st->daemon && !strcmp(st->daemon, "smtpd"))
        emit_client(st, &ha);
    else
        emit_relay(st, &ha);
    if (EAT(&s, ": ") || EAT(&s, ":"))
        add(st, "reason", s);
    return 0;
}

/* smtpd: "SSL_accept error from H[A]: REASON" */
static int on_ssl_accept(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    if (EAT(&s, ": ") || EAT(&s, ":"))
        add(st, "reason", s);
    return 0;
}

struct tls_attr {
    const char *name;
    const char *key;
    const char *key_bits;
    const char *key_curve;
};

static const struct tls_attr tls_attrs[] = {
    {"key-exchange", "tls_key_exchange", "tls_key_exchange_bits", "tls_key_exchange_curve"},
    {"server-signature", "tls_server_signature", "tls_server_signature_bits",
     "tls_server_signature_curve"},
    {"server-digest", "tls_server_digest", NULL, NULL},
    {"client-signature", "tls_client_signature", "tls_client_signature_bits",
     "tls_client_signature_curve"},
    {"client-digest", "tls_client_digest", NULL, NULL},
};

/* smtpd/smtp: "TRUST TLS connection established from|to H[A][:PORT]:
 * VERSION with cipher CIPHER (N/M bits)[ key-exchange X][ server-signature
 * S (N bits|CURVE)][ server-digest D]..." */
static int on_tls(struct pf *st, struct str s, const struct rule *r)
{
    struct str trust = str_make(r->prefix, (size_t)(strchr(r->prefix, ' ') - r->prefix));
    bool inbound;
    if (EAT(&s, "from "))
        inbound = true;
    else if (EAT(&s, "to "))
        inbound = false;
    else
        return -EINVAL;
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha) || !EAT(&s, ": "))
        return -EINVAL;
    add(st, "tls_trust", trust);
    if (inbound) {
        emit_client(st, &ha);
    } else {
        emit_relay(st, &ha);
        st->infer = "smtp";
    }
    long w = FIND(s, " with cipher ");
    if (w < 0)
        return 0;
    add(st, "tls_version", str_make(s.p, (size_t)w));
    s = rest_from(s, (size_t)w + 13);
    struct str cipher = take_word(&s);
    add(st, "tls_cipher", cipher);
    if (EAT(&s, " (")) {
        struct str bits;
        if (split_at(&s, ')', &bits)) {
            if (bits.n > 5 && !memcmp(bits.p + bits.n - 5, " bits", 5))
                bits.n -= 5;
            add(st, "tls_cipher_bits", bits);
        }
    }
    /* NAME VALUE [(N bits)|(CURVE)] ... */
    while (EAT(&s, " ")) {
        struct str name = take_word(&s);
        const struct tls_attr *ta = NULL;
        for (size_t i = 0; i < sizeof(tls_attrs) / sizeof(tls_attrs[0]); i++)
            if (str_eq(name, tls_attrs[i].name))
                ta = &tls_attrs[i];
        if (!ta || !EAT(&s, " "))
            break;
        add(st, ta->key, take_word(&s));
        struct str save = s, par;
        if (EAT(&s, " (") && split_at(&s, ')', &par)) {
            if (!ta->key_bits) {
                s = save;
                break;
            }
            if (par.n > 5 && !memcmp(par.p + par.n - 5, " bits", 5)) {
                par.n -= 5;
                add_num(st, ta->key_bits, par);
            } else {
                add(st, ta->key_curve, par);
            }
        } else {
            s = save;
        }
    }
    return 0;
}

/* smtpd: "discarding EHLO keywords: K1 K2" */
static int on_ehlo_discard(struct pf *st, struct str s, const struct rule *r)
{
    add(st, "ehlo_discarded", s);
    return 0;
}

/* Start of the "from=<..> to=<..> proto=.. helo=<..>" list that ends an
 * access-check line: the first "; " followed by one of those keys. Returns
 * the index of the ';' or -1. */
static long kv_tail_start(struct str s)
{
    size_t i = 0;
    while (i < s.n) {
        const char *p = memchr(s.p + i, ';', s.n - i);
        if (!p)
            return -1;
        size_t at = (size_t)(p - s.p);
        struct str t = rest_from(s, at + 1);
        if (str_starts(t, " from=<") || str_starts(t, " to=<") || str_starts(t, " proto=") ||
            str_starts(t, " helo=<"))
            return (long)at;
        i = at + 1;
    }
    return -1;
}

/* smtpd: "proxy-accept: STAGE: REPLY; from=<..> to=<..> proto=.. helo=<..>" */
static int on_proxy(struct pf *st, struct str s, const struct rule *r)
{
    struct str stage;
    if (!split_at(&s, ':', &stage) || !stage.n)
        return -EINVAL;
    EAT(&s, " ");
    add(st, "stage", stage);
    long k = kv_tail_start(s);
    struct str reply = k >= 0 ? str_make(s.p, (size_t)k) : s;
    emit_response(st, reply);
    if (k >= 0)
        kv_run(st, rest_from(s, (size_t)k + 2));
    return 0;
}

/* The access-check and header/body-check actions Postfix logs as "ACTION:",
 * with the event.action and outcome each becomes. "milter-" and
 * "milter-header-"/"milter-body-" variants map like the plain word. */
struct check_action {
    const char *word;
    const char *action;
    const char *outcome;
};
static const struct check_action check_actions[] = {
    {"reject", "reject", "failure"},
    {"reject_warning", "reject-warning", NULL},
    {"discard", "discard", "failure"},
    {"hold", "hold", NULL},
    {"filter", "filter", NULL},
    {"redirect", "redirect", NULL},
    {"warning", "warn", NULL},
    {"warn", "warn", NULL},
    {"info", "info", NULL},
    {"prepend", "prepend", NULL},
    {"replace", "replace", NULL},
    {"strip", "strip", NULL},
    {"bcc", "bcc", NULL},
};

static const struct check_action *check_action_find(struct str w)
{
    struct str base = w;
    if (EAT(&base, "milter-")) {
        if (!EAT(&base, "header-"))
            EAT(&base, "body-");
    }
    for (size_t i = 0; i < sizeof(check_actions) / sizeof(check_actions[0]); i++)
        if (str_eq(base, check_actions[i].word))
            return &check_actions[i];
    return NULL;
}

static bool reject_like(const struct check_action *ca)
{
    return ca->outcome != NULL;
}

/* "550 5.1.1 <data>: reason" of a reject, as reject_code, reject_dsn,
 * reject_data, reject_reason, and dnsbl_domain for "blocked using D". */
static void emit_reject_reply(struct pf *st, struct str reply)
{
    struct str code, dsn;
    struct str s = reply_split(reply, &code, &dsn);
    if (code.n)
        add_num(st, "reject_code", code);
    if (dsn.n)
        add(st, "reject_dsn", dsn);
    if (s.n && s.p[0] == '<') {
        const char *gt = memchr(s.p, '>', s.n);
        if (gt && (size_t)(gt - s.p) + 1 < s.n && gt[1] == ':') {
            add(st, "reject_data", str_make(s.p + 1, (size_t)(gt - s.p) - 1));
            s = rest_from(s, (size_t)(gt - s.p) + 2);
            EAT(&s, " ");
        }
    } else if (EAT(&s, ": ")) {
        /* empty <data> stripped by the logger */
    }
    add(st, "reject_reason", s);
    long b = FIND(s, " blocked using ");
    if (b >= 0) {
        struct str d = rest_from(s, (size_t)b + 15);
        size_t i = 0;
        while (i < d.n && d.p[i] != ';' && d.p[i] != ' ' && d.p[i] != ',')
            i++;
        if (i)
            add(st, "dnsbl_domain", str_make(d.p, i));
    }
}

/* cleanup: "ACTION: header|body CONTENT from CLIENT; from=<..> to=<..>
 * proto=.. helo=<..>[: TEXT]". CONTENT is the sender's own text, so the
 * list is looked for from the right. */
static int on_header_check(struct pf *st, struct str s, const struct check_action *ca)
{
    struct str cls = take_word(&s);
    if (!EAT(&s, " "))
        return -EINVAL;
    long k = RFIND(s, "; from=<");
    if (k < 0)
        return -EINVAL;
    struct str pre = str_make(s.p, (size_t)k);
    long f = RFIND(pre, " from ");
    if (f < 0)
        return -EINVAL;
    add(st, "check", cls);
    add(st, "check_content", str_make(pre.p, (size_t)f));
    struct str client = rest_from(pre, (size_t)f + 6), c2 = client;
    struct hostaddr ha;
    if (hostaddr_take(&c2, &ha) && !c2.n)
        emit_client(st, &ha);
    else
        add(st, "client_hostname", client);
    struct str tail = kv_run(st, rest_from(s, (size_t)k + 2));
    if (EAT(&tail, ": ") || EAT(&tail, ":")) {
        if (reject_like(ca))
            emit_reject_reply(st, tail);
        else
            add(st, "action_data", tail);
    }
    st->infer = "cleanup";
    return 0;
}

/* smtpd, postscreen, cleanup: "ACTION: STAGE from H[A]: REPLY; from=<..>
 * to=<..> proto=.. helo=<..>". The reply's <data> is skipped before the
 * list is looked for, as it holds the client's own text. */
static int on_access_check(struct pf *st, struct str s)
{
    struct str stage = take_word(&s);
    struct hostaddr ha;
    if (!stage.n || !EAT(&s, " from ") || !hostaddr_take(&s, &ha))
        return -EINVAL;
    if (!EAT(&s, ": ") && !EAT(&s, ":") && s.n)
        return -EINVAL;
    add(st, "stage", stage);
    emit_client(st, &ha);
    size_t skip = 0;
    struct str code, dsn, body = reply_split(s, &code, &dsn);
    if (body.n && body.p[0] == '<') {
        const char *gt = memchr(body.p, '>', body.n);
        if (gt)
            skip = (size_t)(gt - s.p);
    }
    long k = kv_tail_start(rest_from(s, skip));
    struct str reply = k >= 0 ? str_make(s.p, skip + (size_t)k) : s;
    emit_reject_reply(st, reply);
    if (k >= 0)
        kv_run(st, rest_from(s, skip + (size_t)k + 2));
    if (!ha.host.n && ha.port.n)
        st->infer = "postscreen";
    else if (!code.n && str_eq(stage, "END-OF-MESSAGE"))
        st->infer = "cleanup";
    else
        st->infer = "smtpd";
    return 0;
}

/* "ACTION: ..." after a queue id: a header/body check, an access check, or
 * (for "warning:"/"info:" followed by neither) a plain logged level. */
static int on_check_word(struct pf *st, struct str s)
{
    struct str word;
    if (!split_at(&s, ':', &word) || !EAT(&s, " "))
        return -EINVAL;
    const struct check_action *ca = check_action_find(word);
    if (!ca)
        return -EINVAL;
    add(st, "action", word);
    int rc;
    if (str_starts(s, "header ") || str_starts(s, "body ") || str_starts(s, "mime-header ") ||
        str_starts(s, "nested-header "))
        rc = on_header_check(st, s, ca);
    else
        rc = on_access_check(st, s);
    if (rc == 0) {
        st->action = ca->action;
        st->outcome = ca->outcome;
    }
    return rc;
}

/* smtpd: "QID: client=H[A][, sasl_method=M, sasl_username=U]..." and
 * pickup: "QID: uid=N from=<S>" - one key=value list. */
static int on_kv(struct pf *st, struct str s, const struct rule *r)
{
    kv_run(st, WITH_PREFIX(s, r));
    return 0;
}

/* cleanup: "QID: message-id=<ID>" (and resent-message-id=). The id runs to
 * the end of the line: it may be an encoded word with spaces. */
static int on_message_id(struct pf *st, struct str s, const struct rule *r)
{
    if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
        s = str_make(s.p + 1, s.n - 2);
    if (r->prefix[0] == 'r') {
        add(st, "resent_message_id", s);
    } else {
        add(st, "message_id", s);
        core(st, CORE_EMAIL_MESSAGE_ID, s);
    }
    return 0;
}

/* qmgr: "QID: from=<S>, size=N, nrcpt=N (queue active)" and
 * "QID: from=<S>, status=expired, returned to sender" */
static int on_qmgr_from(struct pf *st, struct str s, const struct rule *r)
{
    struct str tail = str_trim(kv_run(st, WITH_PREFIX(s, r)));
    if (EAT(&tail, "(queue ") && tail.n && tail.p[tail.n - 1] == ')')
        add(st, "queue", str_make(tail.p, tail.n - 1));
    if (str_eq(st->status, "expired")) {
        st->action = "expired";
        st->outcome = "failure";
    }
    return 0;
}

/* Delivery outcome by status= value. */
static const struct {
    const char *status;
    const char *outcome;
} status_outcomes[] = {
    {"sent", "success"},
    {"deferred", "failure"},
    {"bounced", "failure"},
    {"expired", "failure"},
    {"deliverable", "success"},
    {"undeliverable", "failure"},
    {"undeliverable-but-not-cached", "failure"},
};

/* smtp, lmtp, local, virtual, pipe, error, discard: "QID: to=<R>,
 * [orig_to=<R>,] relay=R, delay=N, delays=a/b/c/d, dsn=D, status=S (text)" */
static int on_delivery(struct pf *st, struct str s, const struct rule *r)
{
    kv_run(st, WITH_PREFIX(s, r));
    for (size_t i = 0; i < sizeof(status_outcomes) / sizeof(status_outcomes[0]); i++)
        if (str_eq(st->status, status_outcomes[i].status)) {
            st->outcome = status_outcomes[i].outcome;
            break;
        }
    if (st->daemon)
        return 0; /* the daemon is known: no need to guess it */
    struct str rl = st->relay;
    if (str_eq(rl, "local"))
        st->infer = "local";
    else if (str_eq(rl, "virtual"))
        st->infer = "virtual";
    else if (!rl.n || str_eq(rl, "none"))
        st->infer = NULL;
    else if (rl.p[rl.n - 1] == ']' || memchr(rl.p, '[', rl.n))
        st->infer = FIND(rl, "[private/") >= 0 || FIND(rl, "[public/") >= 0 ? "lmtp" : "smtp";
    else
        st->infer = "pipe";
    return 0;
}

/* A whole-message queue operation: "QID: removed", "QID: requeued", ... */
static int on_exact(struct pf *st, struct str s, const struct rule *r)
{
    return s.n ? -EINVAL : 0;
}

/* qmgr: "QID: skipped, still being delivered" */
static int on_skipped(struct pf *st, struct str s, const struct rule *r)
{
    add(st, "reason", s);
    return 0;
}

/* bounce: "QID: sender non-delivery notification: QID2" (and "delay",
 * "delivery status"; "postmaster" copies). */
static int on_notification(struct pf *st, struct str s, const struct rule *r)
{
    long k = FIND(s, " notification: ");
    if (k < 0)
        return -EINVAL;
    struct str who = str_make(r->prefix, r->len - 1);
    add(st, "bounce_to", who);
    add(st, "bounce_type", str_make(s.p, (size_t)k));
    add(st, "bounce_queue_id", rest_from(s, (size_t)k + 15));
    return 0;
}

/* "warning: H[A][:PORT]: SASL METHOD authentication failed: REASON[,
 * sasl_username=U]" */
static int warn_sasl(struct pf *st, struct str s)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha) || !EAT(&s, ": SASL "))
        return -EINVAL;
    long k = FIND(s, " authentication failed");
    if (k < 0)
        return -EINVAL;
    struct str method = str_make(s.p, (size_t)k);
    s = rest_from(s, (size_t)k + 22);
    emit_client(st, &ha);
    add(st, "sasl_method", method);
    if (EAT(&s, ": ") || EAT(&s, ":")) {
        long u = FIND(s, ", sasl_username=");
        if (u >= 0) {
            struct str user = rest_from(s, (size_t)u + 16);
            add(st, "reason", str_make(s.p, (size_t)u));
            add(st, "sasl_username", user);
            core(st, CORE_USER_NAME, user);
        } else if (s.n) {
            add(st, "reason", s);
        }
    }
    st->action = "auth-failure";
    st->outcome = "failure";
    st->infer = "smtpd";
    return 0;
}

/* "warning: hostname H does not resolve to address A[: reason]",
 * "warning: A: hostname H verification failed: reason",
 * "warning: A: address not listed for hostname H" */
static int warn_dns(struct pf *st, struct str s)
{
    struct str host, addr, reason = {0};
    if (EAT(&s, "hostname ")) {
        host = take_word(&s);
        if (!EAT(&s, " does not resolve to address "))
            return -EINVAL;
        addr = s;
        long c = FIND(s, ": ");
        if (c >= 0) {
            addr.n = (size_t)c;
            reason = rest_from(s, (size_t)c + 2);
        }
    } else {
        if (!split_at(&s, ':', &addr) || !is_ip(addr) || !EAT(&s, " "))
            return -EINVAL;
        if (EAT(&s, "hostname ")) {
            host = take_word(&s);
            if (!EAT(&s, " verification failed"))
                return -EINVAL;
            if (EAT(&s, ": "))
                reason = s;
        } else if (EAT(&s, "address not listed for hostname ")) {
            host = s;
        } else {
            return -EINVAL;
        }
    }
    if (!is_ip(addr))
        return -EINVAL;
    add(st, "client_hostname", host);
    add(st, "client_ip", addr);
    core(st, CORE_SOURCE_IP, addr);
    if (reason.n)
        add(st, "reason", reason);
    st->action = "dns-mismatch";
    st->infer = "smtpd";
    return 0;
}

/* "warning: non-SMTP command from H[A]: CMD" */
static int warn_non_smtp(struct pf *st, struct str s)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    if (EAT(&s, ": "))
        add(st, "command", s);
    st->action = "non-smtp-command";
    st->infer = "smtpd";
    return 0;
}

/* "warning: Illegal address syntax from H[A] in STAGE command: ADDR" */
static int warn_illegal(struct pf *st, struct str s)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    if (EAT(&s, " in ")) {
        long c = FIND(s, " command: ");
        if (c >= 0) {
            add(st, "stage", str_make(s.p, (size_t)c));
            add(st, "address", rest_from(s, (size_t)c + 10));
        }
    }
    st->action = "illegal-address";
    st->infer = "smtpd";
    return 0;
}

/* "warning: Connection rate limit exceeded: 31 from H[A] for service S" */
static int warn_limit(struct pf *st, struct str s)
{
    long k = FIND(s, " limit exceeded: ");
    if (k < 0)
        return -EINVAL;
    struct str what = str_make(s.p, (size_t)k);
    s = rest_from(s, (size_t)k + 17);
    struct str count = take_number(&s);
    struct hostaddr ha;
    if (!count.n || !EAT(&s, " from ") || !hostaddr_take(&s, &ha))
        return -EINVAL;
    add(st, "limit", what);
    add_num(st, "limit_count", count);
    emit_client(st, &ha);
    if (EAT(&s, " for service "))
        add(st, "limit_service", s);
    st->action = "rate-limit";
    st->infer = "smtpd";
    return 0;
}

/* "LEVEL: [QID: ]TEXT": warning, error, fatal, panic. Known warnings get
 * their own action; the rest are kept as the level. */
static int on_level(struct pf *st, struct str s, const struct rule *r)
{
    add(st, "level", str_make(r->prefix, r->len - 2));
    st->infer = NULL;
    struct str qid, rest;
    if (!st->have_qid && qid_take(s, &qid, &rest)) {
        /* "warning: 9BECF3F19D: text" */
        add(st, "queue_id", qid);
        s = rest;
    }
    if (r->prefix[0] == 'w') {
        int rc = -EINVAL;
        if (EAT(&s, "non-SMTP command from "))
            rc = warn_non_smtp(st, s);
        else if (EAT(&s, "Illegal address syntax from "))
            rc = warn_illegal(st, s);
        else if (FIND(s, ": SASL ") >= 0)
            rc = warn_sasl(st, s);
        else if (str_starts(s, "hostname ") || FIND(s, ": hostname ") >= 0 ||
                 FIND(s, ": address not listed") >= 0)
            rc = warn_dns(st, s);
        else if (FIND(s, " limit exceeded: ") >= 0)
            rc = warn_limit(st, s);
        if (rc == 0)
            return 0;
    }
    st->action = r->action;
    st->outcome = NULL;
    return 0;
}

/* postscreen, tlsproxy: "CONNECT from [A]:P to [A]:P" */
static int on_ps_connect(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha, sv;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    if (EAT(&s, " to ") && hostaddr_take(&s, &sv)) {
        add(st, "server_ip", sv.addr);
        if (sv.port.n)
            add_num(st, "server_port", sv.port);
        if (is_ip(sv.addr)) {
            core(st, CORE_DESTINATION_IP, sv.addr);
            core(st, CORE_DESTINATION_PORT, sv.port);
        }
    } else {
        st->infer = "tlsproxy";
    }
    return 0;
}

/* postscreen: "PASS NEW [A]:P", "DISCONNECT [A]:P", ... */
static int on_ps_verdict(struct pf *st, struct str s, const struct rule *r)
{
    struct hostaddr ha;
    if (!hostaddr_take(&s, &ha))
        return -EINVAL;
    if (strcmp(r->action, "disconnect") != 0)
        add(st, "verdict", str_make(r->prefix, r->len - 1));
    emit_client(st, &ha);
    return 0;
}

/* postscreen: "PREGREET N after T from [A]:P: TEXT", "HANGUP after T from
 * [A]:P in tests ...", "DNSBL rank N for [A]:P", "COMMAND TIME LIMIT from
 * [A]:P after STAGE", "NON-SMTP COMMAND from [A]:P after STAGE: TEXT", ... */
static int on_ps_violation(struct pf *st, struct str s, const struct rule *r)
{
    add(st, "violation", str_make(r->prefix, r->len - 1));
    if (r->prefix[0] == 'P') {
        struct str n = take_number(&s);
        if (!n.n || !EAT(&s, " "))
            return -EINVAL;
        add_num(st, "pregreet_bytes", n);
    }
    if (EAT(&s, "rank ")) {
        struct str n = take_number(&s);
        if (!n.n || !EAT(&s, " "))
            return -EINVAL;
        add_num(st, "dnsbl_rank", n);
    }
    if (EAT(&s, "after ")) {
        struct str n = take_number(&s);
        if (!n.n || !EAT(&s, " "))
            return -EINVAL;
        add_num(st, "elapsed", n);
    }
    struct hostaddr ha;
    if (!(EAT(&s, "from ") || EAT(&s, "for ")) || !hostaddr_take(&s, &ha))
        return -EINVAL;
    emit_client(st, &ha);
    if (EAT(&s, " after ")) {
        size_t i = 0;
        while (i < s.n && s.p[i] != ':')
            i++;
        add(st, "stage", str_make(s.p, i));
        s = rest_from(s, i);
    } else if (EAT(&s, " in ")) {
        add(st, "test_phase", s);
        s = rest_from(s, s.n);
    }
    if (EAT(&s, ": ") || EAT(&s, ":"))
        add(st, "data", s);
    return 0;
}

/* postscreen, verify: "cache NAME full|partial cleanup: retained=N
 * dropped=N entries" */
static int on_cache(struct pf *st, struct str s, const struct rule *r)
{
    long k = FIND(s, " cleanup: ");
    if (k < 0)
        return -EINVAL;
    struct str head = str_make(s.p, (size_t)k);
    long sp = RFIND(head, " ");
    if (sp < 0)
        return -EINVAL;
    struct str name = str_make(head.p, (size_t)sp);
    add(st, "cache", name);
    add(st, "cleanup", rest_from(head, (size_t)sp + 1));
    kv_run(st, rest_from(s, (size_t)k + 10));
    st->infer = FIND(name, "postscreen") >= 0 ? "postscreen"
                : FIND(name, "verify") >= 0   ? "verify"
                                              : NULL;
    return 0;
}

/* dnsblog: "addr A listed by domain D as R" */
static int on_dnsblog(struct pf *st, struct str s, const struct rule *r)
{
    struct str addr = take_word(&s);
    if (!EAT(&s, " listed by domain "))
        return -EINVAL;
    struct str dom = take_word(&s);
    add(st, "client_ip", addr);
    if (is_ip(addr))
        core(st, CORE_SOURCE_IP, addr);
    add(st, "dnsbl_domain", dom);
    if (EAT(&s, " as "))
        add(st, "dnsbl_result", s);
    return 0;
}

/* anvil: "statistics: max connection rate 1/60s for (smtpd:A) at TIME";
 * scache: "statistics: domain lookup hits=0 miss=1 success=0%",
 * "statistics: max simultaneous domains=1 ...", "statistics: start
 * interval TIME". */
static int on_statistics(struct pf *st, struct str s, const struct rule *r)
{
    if (EAT(&s, "start interval ")) {
        add(st, "stat", STR_LIT("start interval"));
        add(st, "stat_time", s);
        st->infer = "scache";
        return 0;
    }
    /* name: the words before the first one that starts with a digit or
     * holds a '=' */
    size_t i = 0, name_end = 0, vstart = 0;
    for (;;) {
        size_t w = i;
        while (i < s.n && s.p[i] != ' ' && s.p[i] != '=')
            i++;
        if (w < s.n && (is_digit(s.p[w]) || (i < s.n && s.p[i] == '='))) {
            vstart = w;
            break;
        }
        if (i >= s.n)
            return -EINVAL;
        name_end = i++;
    }
    if (!name_end)
        return -EINVAL;
    add(st, "stat", str_make(s.p, name_end));
    s = rest_from(s, vstart);
    if (!is_digit(s.p[0])) {
        kv_run(st, s);
        st->infer = "scache";
        return 0;
    }
    struct str val = take_number(&s);
    add_num(st, "stat_value", val);
    if (EAT(&s, "/"))
        add(st, "stat_period", take_word(&s));
    st->infer = "anvil";
    if (EAT(&s, " for (")) {
        struct str ident;
        if (!split_at(&s, ')', &ident))
            return -EINVAL;
        /* "service:addr" where the service may itself hold colons
         * ("127.0.0.1:2525:127.0.0.1"): the first split whose right side is
         * an address wins. */
        struct str svc = ident, who = {0};
        for (size_t c = 0; c < ident.n; c++) {
            if (ident.p[c] != ':')
                continue;
            struct str rhs = rest_from(ident, c + 1);
            if (is_ip(rhs) || str_eq(rhs, "unknown")) {
                svc = str_make(ident.p, c);
                who = rhs;
                break;
            }
        }
        add(st, "stat_service", svc);
        if (who.n) {
            add(st, "client_ip", who);
            if (is_ip(who))
                core(st, CORE_SOURCE_IP, who);
        }
    }
    if (EAT(&s, " at "))
        add(st, "stat_time", s);
    return 0;
}

/* master: "daemon started -- version V, configuration C" and "reload --
 * version V, configuration C" */
static int on_master_version(struct pf *st, struct str s, const struct rule *r)
{
    if (!EAT(&s, "version "))
        return -EINVAL;
    struct str v;
    if (!split_at(&s, ',', &v))
        return -EINVAL;
    add(st, "version", v);
    if (EAT(&s, " configuration "))
        add(st, "configuration", s);
    return 0;
}

/* master: "terminating on signal N" */
static int on_master_signal(struct pf *st, struct str s, const struct rule *r)
{
    if (!all_digits(s))
        return -EINVAL;
    add_num(st, "signal", s);
    return 0;
}

/* postsuper: "Deleted: N messages", "Requeued: 1 message", ... */
static int on_summary(struct pf *st, struct str s, const struct rule *r)
{
    struct str n = take_number(&s);
    if (!n.n || !(str_eq(s, " message") || str_eq(s, " messages")))
        return -EINVAL;
    add(st, "summary", str_make(r->prefix, r->len - 2));
    add_num(st, "count", n);
    return 0;
}

/* Rules for what follows "QID: " ("NOQUEUE: " included). Most frequent
 * first. */
static const struct rule qid_rules[] = {
    RULE("client=", on_kv, "client", "smtpd", "success"),
    RULE("message-id=", on_message_id, "message-id", "cleanup", NULL),
    RULE("from=", on_qmgr_from, "queued", "qmgr", NULL),
    RULE("to=", on_delivery, "delivery", NULL, NULL),
    RULE("removed", on_exact, "removed", "qmgr", NULL),
    RULE("uid=", on_kv, "pickup", "pickup", NULL),
    RULE("sender ", on_notification, "bounce", "bounce", NULL),
    RULE("postmaster ", on_notification, "bounce", "bounce", NULL),
    RULE("host ", on_host, "remote-reply", "smtp", "failure"),
    RULE("lost connection with ", on_with, "lost-connection", "smtp", "failure"),
    RULE("conversation with ", on_with, "timeout", "smtp", "failure"),
    RULE("resent-message-id=", on_message_id, "resent-message-id", "cleanup", NULL),
    RULE("SASL authentication failed; server ", on_smtp_sasl, "auth-failure", "smtp", "failure"),
    RULE("enabling PIX workarounds: ", on_pix, "pix-workaround", "smtp", NULL),
    RULE("lost connection after ", on_after, "lost-connection", "smtpd", "failure"),
    RULE("timeout after ", on_after, "timeout", "smtpd", "failure"),
    RULE("too many errors after ", on_after, "too-many-errors", "smtpd", "failure"),
    RULE("skipped, ", on_skipped, "skipped", "qmgr", NULL),
    RULE("requeued", on_exact, "requeued", "postsuper", NULL),
    RULE("placed on hold", on_exact, "hold", "postsuper", NULL),
    RULE("released from hold", on_exact, "released", "postsuper", NULL),
    RULE("expired", on_exact, "expired", "postsuper", NULL),
    RULE("proxy-accept: ", on_proxy, "proxy-accept", "smtpd", "success"),
    RULE("proxy-reject: ", on_proxy, "proxy-reject", "smtpd", "failure"),
};

/* Rules for messages without a queue id. Most frequent first. */
static const struct rule plain_rules[] = {
    RULE("connect from ", on_connect, "connect", "smtpd", NULL),
    RULE("disconnect from ", on_disconnect, "disconnect", "smtpd", NULL),
    RULE("Anonymous TLS connection established ", on_tls, "tls", "smtpd", "success"),
    RULE("Untrusted TLS connection established ", on_tls, "tls", "smtpd", "success"),
    RULE("Trusted TLS connection established ", on_tls, "tls", "smtpd", "success"),
    RULE("Verified TLS connection established ", on_tls, "tls", "smtpd", "success"),
    RULE("lost connection after ", on_after, "lost-connection", "smtpd", "failure"),
    RULE("timeout after ", on_after, "timeout", "smtpd", "failure"),
    RULE("warning: ", on_level, "warning", NULL, NULL),
    RULE("CONNECT from ", on_ps_connect, "connect", "postscreen", NULL),
    RULE("PASS OLD ", on_ps_verdict, "pass-old", "postscreen", "success"),
    RULE("PASS NEW ", on_ps_verdict, "pass-new", "postscreen", "success"),
    RULE("DISCONNECT ", on_ps_verdict, "disconnect", "postscreen", NULL),
    RULE("statistics: ", on_statistics, "statistics", NULL, NULL),
    RULE("connect to ", on_peer_reason, "connect-failed", "smtp", "failure"),
    RULE("too many errors after ", on_after, "too-many-errors", "smtpd", "failure"),
    RULE("improper command pipelining after ", on_after, "pipelining", "smtpd", NULL),
    RULE("bare <LF> received after ", on_after, "bare-lf", "smtpd", NULL),
    RULE("SSL_accept error from ", on_ssl_accept, "tls-error", "smtpd", "failure"),
    RULE("SSL_connect error to ", on_peer_reason, "tls-error", "smtp", "failure"),
    RULE("certificate verification failed for ", on_peer_reason, "certificate-failure", "smtp",
         "failure"),
    RULE("PREGREET ", on_ps_violation, "pregreet", "postscreen", "failure"),
    RULE("HANGUP ", on_ps_violation, "hangup", "postscreen", "failure"),
    RULE("DNSBL ", on_ps_violation, "dnsbl", "postscreen", "failure"),
    RULE("COMMAND TIME LIMIT ", on_ps_violation, "command-time-limit", "postscreen", "failure"),
    RULE("COMMAND COUNT LIMIT ", on_ps_violation, "command-count-limit", "postscreen", "failure"),
    RULE("COMMAND LENGTH LIMIT ", on_ps_violation, "command-length-limit", "postscreen", "failure"),
    RULE("COMMAND PIPELINING ", on_ps_violation, "command-pipelining", "postscreen", "failure"),
    RULE("NON-SMTP COMMAND ", on_ps_violation, "non-smtp-command", "postscreen", "failure"),
    RULE("BARE NEWLINE ", on_ps_violation, "bare-newline", "postscreen", "failure"),
    RULE("WHITELISTED ", on_ps_verdict, "allowlisted", "postscreen", "success"),
    RULE("ALLOWLISTED ", on_ps_verdict, "allowlisted", "postscreen", "success"),
    RULE("BLACKLISTED ", on_ps_verdict, "denylisted", "postscreen", "failure"),
    RULE("DENYLISTED ", on_ps_verdict, "denylisted", "postscreen", "failure"),
    RULE("WHITELIST VETO ", on_ps_verdict, "allowlist-veto", "postscreen", NULL),
    RULE("ALLOWLIST VETO ", on_ps_verdict, "allowlist-veto", "postscreen", NULL),
    RULE("addr ", on_dnsblog, "dnsbl-listed", "dnsblog", NULL),
    RULE("cache ", on_cache, "cache-cleanup", NULL, NULL),
    RULE("error: ", on_level, "error", NULL, NULL),
    RULE("fatal: ", on_level, "fatal", NULL, NULL),
    RULE("panic: ", on_level, "panic", NULL, NULL),
    RULE("proxy-accept: ", on_proxy, "proxy-accept", "smtpd", "success"),
    RULE("proxy-reject: ", on_proxy, "proxy-reject", "smtpd", "failure"),
    RULE("discarding EHLO keywords: ", on_ehlo_discard, "ehlo-discard", "smtpd", NULL),
    RULE("daemon started -- ", on_master_version, "start", "master", NULL),
    RULE("reload -- ", on_master_version, "reload", "master", NULL),
    RULE("terminating on signal ", on_master_signal, "stop", "master", NULL),
    RULE("Deleted: ", on_summary, "summary", "postsuper", NULL),
    RULE("Requeued: ", on_summary, "summary", "postsuper", NULL),
    RULE("Placed on hold: ", on_summary, "summary", "postsuper", NULL),
    RULE("Released from hold: ", on_summary, "summary", "postsuper", NULL),
};

/* Find the rule whose prefix starts s and run it. Returns the handler's
 * result, or -EINVAL if no rule matches. The rule's action, outcome and
 * daemon are preset; the handler may change them. */
static int rules_run(struct pf *st, const struct rule *rules, size_t n, struct str s)
{
    if (!s.n)
        return -EINVAL;
    char c0 = s.p[0];
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = &rules[i];
        if (r->prefix[0] != c0 || s.n < r->len || memcmp(s.p, r->prefix, r->len) != 0)
            continue;
        st->action = r->action;
        st->outcome = r->outcome;
        st->infer = r->infer;
        return r->fn(st, rest_from(s, r->len), r);
    }
    return -EINVAL;
}

/* Is prog a Postfix program name ("postfix/smtpd", "postfix-out/smtp",
 * "postfix/submission/smtpd")? Sets *daemon to its last path component. */
static bool postfix_program(struct str prog, struct str *daemon)
{
    if (prog.n < 9 || memcmp(prog.p, "postfix", 7) != 0 || (prog.p[7] != '/' && prog.p[7] != '-'))
        return false;
    const char *slash = memrchr(prog.p + 7, '/', prog.n - 7);
    if (!slash || (size_t)(slash - prog.p) + 1 >= prog.n)
        return false;
    *daemon = str_make(slash + 1, prog.n - (size_t)(slash + 1 - prog.p));
    return true;
}

/* syslog_app.match: does this program name belong to Postfix? */
static bool postfix_match(struct str prog)
{
    struct str d;
    return postfix_program(prog, &d);
}

/* Known daemon names: the service string is static for these. */
static const char *const daemons[] = {
    "smtpd",    "cleanup",   "qmgr",        "smtp",           "lmtp",       "local",
    "virtual",  "pipe",      "bounce",      "pickup",         "postscreen", "anvil",
    "dnsblog",  "tlsproxy",  "master",      "scache",         "tlsmgr",     "trivial-rewrite",
    "verify",   "error",     "discard",     "defer",          "trace",      "showq",
    "flush",    "proxymap",  "proxywrite",  "postdrop",       "postsuper",  "postqueue",
    "sendmail", "postmap",   "postalias",   "postfix-script", "postlog",    "postmulti",
    "qmqpd",    "spawn",     "oqmgr",       "postconf",       "postkick",   "postlock",
    "retry",    "smtp-sink", "smtp-source",
};

/* The static name of daemon d, or a copy in the event's arena. */
static const char *daemon_name(struct event *ev, struct str d)
{
    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
        if (daemons[i][0] == d.p[0] && str_eq(d, daemons[i]))
            return daemons[i];
    return arena_strndup(ev->arena, d.p, d.n);
}

/* Decode ev->message; see struct syslog_app in decode.h. */
static int postfix_decode(struct decode_ctx *ctx, struct event *ev, struct str program)
{
    struct pf st = {.ev = ev};
    struct str d;
    if (postfix_program(program, &d))
        st.daemon = daemon_name(ev, d);
    ev->ls = (struct logsource){"postfix", st.daemon ? st.daemon : "postfix", NULL};

    uint32_t nf0 = ev->nfields;
    struct str m = ev->message, qid, body;
    int rc;
    if (qid_take(m, &qid, &body)) {
        event_add(ev, STR_LIT("queue_id"), qid, VT_STRING);
        st.have_qid = true;
        uint32_t nf1 = ev->nfields;
        rc = rules_run(&st, qid_rules, sizeof(qid_rules) / sizeof(qid_rules[0]), body);
        if (rc < 0) {
            ev->nfields = nf1;
            for (size_t i = 0; i < sizeof(pf_core) / sizeof(pf_core[0]); i++)
                ev->core[pf_core[i]] = (struct str){0};
            st.infer = NULL;
            st.outcome = NULL;
            st.action = NULL;
            rc = on_check_word(&st, body);
        }
        if (rc < 0 && (str_starts(body, "warning: ") || str_starts(body, "error: ") ||
                       str_starts(body, "fatal: ") || str_starts(body, "panic: "))) {
            ev->nfields = nf1;
            for (size_t i = 0; i < sizeof(pf_core) / sizeof(pf_core[0]); i++)
                ev->core[pf_core[i]] = (struct str){0};
            rc = rules_run(&st, plain_rules, sizeof(plain_rules) / sizeof(plain_rules[0]), body);
        }
        if (rc < 0) {
            /* an unknown message about a known queue entry: keep the id */
            ev->nfields = nf1;
            for (size_t i = 0; i < sizeof(pf_core) / sizeof(pf_core[0]); i++)
                ev->core[pf_core[i]] = (struct str){0};
            st.action = st.outcome = st.infer = NULL;
            rc = 0;
        }
    } else {
        rc = rules_run(&st, plain_rules, sizeof(plain_rules) / sizeof(plain_rules[0]), m);
    }
    if (rc < 0) {
        ev->nfields = nf0;
        for (size_t i = 0; i < sizeof(pf_core) / sizeof(pf_core[0]); i++)
            ev->core[pf_core[i]] = (struct str){0};
        return -EINVAL;
    }
    if (st.action)
        ev->core[CORE_EVENT_ACTION] = str_make(st.action, strlen(st.action));
    if (st.outcome)
        ev->core[CORE_EVENT_OUTCOME] = str_make(st.outcome, strlen(st.outcome));
    if (!st.daemon && st.infer)
        ev->ls.service = st.infer;
    return 0;
}

const struct syslog_app syslog_app_postfix = {
    .name = "postfix",
    .match = postfix_match,
    .decode = postfix_decode,
};
