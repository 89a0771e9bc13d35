/*
 * scope.c - what a compromise touched: the queries behind `kenchi scope`
 * (see scope.h for the contract, docs/intel.md "Scope" for the output).
 *
 * Design
 * ------
 * Everything the report needs is reachable from the hunting index except
 * the joins of a Postfix message's lines, which share nothing but the queue
 * id: "client=... sasl_username=alice" (user key), "message-id=",
 * "from=<...>" (sender key) and one "to=<...>, orig_to=<...>" line per
 * recipient (recipient key). Who alice wrote to, who wrote to her, and which
 * of her messages an alias forwarded out (orig_to) need those joins. The
 * hunting index keys a Postfix line by its queue id ('q') when the line
 * names an account, address or mailbox, so the mail step reads the queue
 * ids of the Postfix lines of the involved accounts, their mailboxes and
 * the indicators, then each message's lines (store_message_events; its
 * unkeyed message-id line from a scan of the message's seconds when Sieve
 * forwards must be recognised). What the index cannot reach (all the mail
 * of a host entity, relay and client host names matching a domain
 * indicator) takes one time-bounded scan of the window over the Postfix
 * lines that carry a queue id (store_scan). Either way the lines are
 * joined in time order through a bounded table of live queue ids (a ring:
 * when it is full the oldest live message is dropped and counted). Every
 * other step reads the hunting index: the events of each address indicator
 * (source or destination) and of each involved account (user name).
 *
 * Steps, in order (each needs the one before):
 *   1. logins: per address indicator, its events; logins (Dovecot, Postfix
 *      SASL, sshd, M365, Windows) are counted per account, successes and
 *      failures apart; a success, or any other successful action from the
 *      address, makes the account involved. Host entities: the logins on
 *      the host (a window scan of the login actions), listed, not expanded.
 *   2. domains: --domain, else the domains of the involved accounts and
 *      e-mail entities plus those of local deliveries (the first 1,000 of
 *      the window); an address is internal when its domain is one of them
 *      or a subdomain, or when it has no domain at all.
 *   3. accounts: per involved account, its events: Dovecot sessions (login
 *      and logout joined by session id, so bytes read are attributed to the
 *      indicator's sessions), M365 MailItemsAccessed, sends, inbox rules,
 *      forwarding, permission changes, Dovecot Sieve forwards (whose
 *      message-ids mark the forwarded copies in step 4).
 *   4. mail: the messages through the queue-id key, or the scan; see
 *      above.
 *
 * Documents: steps 1 and 3 parse each event's JSON with jansson; the scan
 * reads the few flat Postfix fields it needs (queue_id, from, to, orig_to,
 * status, ...) straight from the JSON text (the store's documents are
 * event_to_json's output: a native string member appears once, as
 * "name":"value"), which keeps the scan at the cost of decompressing.
 *
 * Memory: every table has a cap (SCOPE_MAX_*); what does not fit is
 * counted in struct scope_limits.
 */
#include "hunt/scope.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "intel/ioc.h"
#include "util/timeconv.h"

#define SCOPE_MAX_ACCOUNTS       1024
#define SCOPE_MAX_LOGINS         4096
#define SCOPE_MAX_CORRESPONDENTS 100000
#define SCOPE_MAX_FORWARDS       4096
#define SCOPE_MAX_CHANGES        4096
#define SCOPE_MAX_IMAIL          4096
#define SCOPE_MAX_SESSIONS       65536   /* open Dovecot sessions per account */
#define SCOPE_MAX_MSGIDS         65536   /* forwarded message-ids */
#define SCOPE_QUEUE_SLOTS        65536   /* live queue ids in the join table */
#define SCOPE_RCPT_PER_MSG       1024    /* recipients de-duplicated per message */
#define SCOPE_RCPT_BUDGET        4000000 /* recipient slots over all live messages */
#define SCOPE_MAX_DOMAINS        64
#define SCOPE_LOCAL_DELIVERIES   1000 /* local deliveries read to infer domains */

/* ---- small strings ------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p += 'a' - 'A';
    return d;
}

static void lower_into(const char *s, char *out, size_t outsz)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsz; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 'a' - 'A') : s[i];
    out[i] = '\0';
}

/* The domain of an address (after its last '@'), or NULL. */
static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at && at[1] ? at + 1 : NULL;
}

/* name is dom or a subdomain of it (both lower-case). */
static bool domain_within(const char *name, const char *dom)
{
    size_t n = strlen(name), d = strlen(dom);
    if (n < d || strcmp(name + n - d, dom))
        return false;
    return n == d || name[n - d - 1] == '.';
}

/* ---- string map: key -> index (open addressing, linear probing) --------- */

struct smap {
    char **keys;
    size_t *vals;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t *smap_get(const struct smap *m, const char *k)
{
    if (!m->cap)
        return NULL;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (!strcmp(m->keys[i], k))
            return &m->vals[i];
    }
}

static int smap_grow(struct smap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    char **keys = calloc(cap, sizeof(*keys));
    size_t *vals = calloc(cap, sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = hash_str(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

/* Set k (copied) to v. Returns 0 or -ENOMEM. */
static int smap_put(struct smap *m, const char *k, size_t v)
{
    size_t *old = smap_get(m, k);
    if (old) {
        *old = v;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap && smap_grow(m) < 0)
        return -ENOMEM;
    char *copy = strdup(k);
    if (!copy)
        return -ENOMEM;
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = copy;
    m->vals[i] = v;
    m->n++;
    return 0;
}

/* Remove k (backward-shift deletion keeps probe chains whole). */
static void smap_del(struct smap *m, const char *k)
{
    if (!m->cap)
        return;
    size_t mask = m->cap - 1;
    size_t i = hash_str(k) & mask;
    for (;; i = (i + 1) & mask) {
        if (!m->keys[i])
            return;
        if (!strcmp(m->keys[i], k))
            break;
    }
    free(m->keys[i]);
    m->keys[i] = NULL;
    m->n--;
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = hash_str(m->keys[j]) & mask;
        /* move j back to the hole i unless its home lies in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->keys[j] = NULL;
        i = j;
    }
}

static void smap_clear(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- lists ------------------------------------------------------------- */

static void list_add(struct scope_list *l, const char *s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return;
    if (l->n == SCOPE_LIST_MAX) {
        l->more++;
        return;
    }
    char *d = strdup(s);
    if (d)
        l->v[l->n++] = d;
}

static void list_free(struct scope_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

static void span(int64_t *first, int64_t *last, int64_t ts)
{
    if (*first == TIME_NONE || ts < *first)
        *first = ts;
    if (*last == TIME_NONE || ts > *last)
        *last = ts;
}

/* ---- names ------------------------------------------------------------- */

static const char *const kind_names[] = {"ip", "domain", "email", "account", "host"};
static const char *const service_names[SVC__N] = {
    "imap", "pop3", "submission", "managesieve", "smtp-auth", "ssh", "m365", "windows", "other"};
static const char *const forward_names[FWD__N] = {"postfix-orig-to", "sieve", "m365-inbox-rule",
                                                  "m365-mailbox-forwarding"};

const char *scope_kind_name(enum scope_kind k)
{
    return kind_names[k];
}
const char *scope_service_name(enum scope_service s)
{
    return service_names[s];
}
const char *scope_forward_kind_name(enum scope_forward_kind k)
{
    return forward_names[k];
}

/* ---- the targets -------------------------------------------------------- */

static bool looks_like_ip(const char *s)
{
    char tmp[SCOPE_VALUE_MAX + 64];
    const char *why;
    return ioc_normalise(IOC_IP, s, strlen(s), tmp, &why) >= 0;
}

int scope_parse_target(const char *arg, bool entity, struct scope_target *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    out->entity = entity;
    *why = NULL;
    static const struct {
        const char *prefix;
        enum scope_kind kind;
        bool indicator, entity;
    } prefixes[] = {
        {"ip:", SCOPE_IP, true, true},
        {"cidr:", SCOPE_IP, true, false},
        {"domain:", SCOPE_DOMAIN, true, false},
        {"email:", SCOPE_EMAIL, true, true},
        {"account:", SCOPE_ACCOUNT, false, true},
        {"user:", SCOPE_ACCOUNT, false, true},
        {"host:", SCOPE_HOST, false, true},
    };
    const char *v = arg;
    int kind = -1;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i].prefix);
        if (strncasecmp(arg, prefixes[i].prefix, pl))
            continue;
        if (entity ? !prefixes[i].entity : !prefixes[i].indicator) {
            *why = entity ? "an entity is account:, email:, host: or ip:"
                          : "an indicator is ip:, cidr:, domain: or email:";
            return -EINVAL;
        }
        kind = (int)prefixes[i].kind;
        v = arg + pl;
        break;
    }
    while (*v == ' ')
        v++;
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ')
        n--;
    if (n == 0) {
        *why = "an empty value";
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            *why = "a control character in the value";
            return -EINVAL;
        }
    if (n >= SCOPE_VALUE_MAX - 64) {
        *why = "longer than 255 bytes";
        return -EINVAL;
    }
    if (memmem(v, n, "\xEF\xBB\xBF", 3)) {
        *why = "a byte-order mark in the value";
        return -EINVAL;
    }
    char trimmed[SCOPE_VALUE_MAX];
    memcpy(trimmed, v, n);
    trimmed[n] = '\0';
    v = trimmed;
    if (kind < 0) {
        if (looks_like_ip(v) || (strchr(v, '/') && !strchr(v, '@')) ||
            strspn(v, "0123456789.") == n ||
            (strchr(v, ':') && strspn(v, "0123456789abcdefABCDEF:.") == n))
            kind = SCOPE_IP;
        else if (strchr(v, '@'))
            kind = SCOPE_EMAIL;
        else if (!entity && strchr(v, '.'))
            kind = SCOPE_DOMAIN;
        else if (entity)
            kind = strchr(v, '.') ? SCOPE_HOST : SCOPE_ACCOUNT;
        else {
            *why = "neither an address, a CIDR block, a domain nor an e-mail address";
            return -EINVAL;
        }
    }
    out->kind = (enum scope_kind)kind;
    char norm[SCOPE_VALUE_MAX + 64];
    int len;
    switch (out->kind) {
    case SCOPE_IP:
        len = ioc_normalise(IOC_IP, v, n, norm, why);
        break;
    case SCOPE_DOMAIN:
        len = ioc_normalise(IOC_DOMAIN, v, n, norm, why);
        if (len >= 0 && !strchr(norm, '.')) {
            *why = "a domain needs at least two labels (example.org)";
            len = -EINVAL;
        }
        break;
    case SCOPE_EMAIL:
        len = ioc_normalise(IOC_EMAIL, v, n, norm, why);
        break;
    default:
        memcpy(norm, v, n);
        norm[n] = '\0';
        len = (int)n;
        break;
    }
    if (len < 0)
        return -EINVAL;
    memcpy(out->value, norm, (size_t)len + 1);
    return 0;
}

/* ---- state -------------------------------------------------------------- */

struct iprange {
    uint8_t lo[16], hi[16];
    size_t len; /* 4 or 16 */
    size_t target;
};

/* A message in the join table: what its earlier lines said. */
struct qent {
    char *key;      /* "queue_id host"; NULL: free slot */
    char *from;     /* envelope sender, lower-cased ("" for the null sender) */
    int32_t sender; /* involved account that sent it, or -1 */
    int32_t fwd;    /* account whose Sieve forward it copies, or -1 */
    int32_t ind;    /* indicator (target) it came from, or -1 */
    uint16_t flags;
    uint16_t nrcpt, caprcpt;
    uint64_t *rcpt; /* recipient hashes, low bit: delivered */
};

enum {
    Q_CLIENT = 1,        /* received by smtpd */
    Q_LOCAL_CLIENT = 2,  /* ... from a loopback address */
    Q_FWDID = 4,         /* its message-id is one a Sieve rule forwarded */
    Q_FORWARD = 8,       /* a forwarded copy (of fwd) */
    Q_FROM_COUNTED = 16, /* its sender counted as a correspondent */
    Q_RECEIVED = 32,     /* counted as received */
    Q_SENT = 64,         /* counted as sent */
};

struct scope_state {
    struct store *st;
    const struct scope_opts *o;
    struct scope_report *r;
    int err;

    struct iprange *ips;
    size_t nips;

    struct smap logins;     /* lower-case account -> r->logins index */
    struct smap accounts;   /* lower-case account -> r->accounts index */
    struct smap mailboxes;  /* lower-case address -> r->accounts index */
    struct smap corr;       /* address -> r->correspondents index */
    struct smap forwards;   /* "kind\x1faccount\x1ftarget" -> r->forwards index */
    struct smap imail;      /* "target\x1faddress\x1fdir" -> r->indicator_mail index */
    struct smap fwd_msgids; /* message-id -> account index */
    struct smap sessions;   /* Dovecot session -> from indicator (per account) */
    size_t cap_logins, cap_accounts, cap_corr, cap_forwards, cap_changes, cap_imail;

    /* step 3: the account being read */
    size_t cur;

    /* step 4: the join table */
    struct qent *ring;
    size_t head;
    struct smap qids;
    size_t rcpt_slots;
    bool mail_index; /* joining messages found through the queue-id key */

    /* domain inference */
    size_t local_deliveries;
};

static int grow_array(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* ---- matching ------------------------------------------------------------ */

/* Encode an address as 4 or 16 bytes (IPv4-mapped folded); 0 if not one. */
static size_t ip_bytes(const char *s, uint8_t out[16])
{
    if (!s)
        return 0;
    if (inet_pton(AF_INET, s, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, s, out) != 1)
        return 0;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(out, mapped, 12)) {
        memmove(out, out + 12, 4);
        return 4;
    }
    return 16;
}

static int ip_range_add(struct scope_state *S, const char *v, size_t target)
{
    struct iprange g = {.target = target};
    const char *slash = strchr(v, '/');
    char addr[64];
    size_t al = slash ? (size_t)(slash - v) : strlen(v);
    if (al >= sizeof(addr))
        return -EINVAL;
    memcpy(addr, v, al);
    addr[al] = '\0';
    g.len = ip_bytes(addr, g.lo);
    if (!g.len)
        return -EINVAL;
    long prefix = slash ? strtol(slash + 1, NULL, 10) : (long)g.len * 8;
    memcpy(g.hi, g.lo, g.len);
    for (size_t bit = (size_t)prefix; bit < g.len * 8; bit++) {
        g.lo[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        g.hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
    }
    struct iprange *p = realloc(S->ips, (S->nips + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    S->ips = p;
    S->ips[S->nips++] = g;
    return 0;
}

/* The address indicator that holds addr, or -1. */
static int ip_match(const struct scope_state *S, const char *addr)
{
    uint8_t b[16];
    size_t len = ip_bytes(addr, b);
    if (!len)
        return -1;
    for (size_t i = 0; i < S->nips; i++)
        if (S->ips[i].len == len && memcmp(b, S->ips[i].lo, len) >= 0 &&
            memcmp(b, S->ips[i].hi, len) <= 0)
            return (int)S->ips[i].target;
    return -1;
}

/* The e-mail or domain indicator that an address (lower-case) matches, or -1. */
static int mail_match(const struct scope_state *S, const char *addr)
{
    if (!addr || !*addr)
        return -1;
    const char *dom = domain_of(addr);
    for (size_t i = 0; i < S->r->ntargets; i++) {
        const struct scope_target *t = &S->r->targets[i];
        if (t->entity)
            continue;
        if (t->kind == SCOPE_EMAIL && !strcmp(addr, t->value))
            return (int)i;
        if (t->kind == SCOPE_DOMAIN && dom && domain_within(dom, t->value))
            return (int)i;
    }
    return -1;
}

/* The domain indicator that a host name matches, or -1. */
static int hostname_match(const struct scope_state *S, const char *name)
{
    if (!name || !*name || !strcmp(name, "unknown"))
        return -1;
    char low[256];
    lower_into(name, low, sizeof(low));
    for (size_t i = 0; i < S->r->ntargets; i++) {
        const struct scope_target *t = &S->r->targets[i];
        if (!t->entity && t->kind == SCOPE_DOMAIN && domain_within(low, t->value))
            return (int)i;
    }
    return -1;
}

static bool host_entity(const struct scope_state *S, const char *host)
{
    if (!host)
        return false;
    for (size_t i = 0; i < S->r->ntargets; i++) {
        const struct scope_target *t = &S->r->targets[i];
        if (t->kind == SCOPE_HOST && !strcasecmp(host, t->value))
            return true;
    }
    return false;
}

/* Internal: no domain (a local name), or one of the organisation's. */
static bool is_internal(const struct scope_state *S, const char *addr)
{
    const char *dom = domain_of(addr);
    if (!dom)
        return true;
    for (size_t i = 0; i < S->r->ndomains; i++)
        if (domain_within(dom, S->r->domains[i]))
            return true;
    return false;
}

/* ---- JSON of an event ------------------------------------------------------ */

static json_t *jpath(json_t *root, const char *a, const char *b)
{
    json_t *o = json_object_get(root, a);
    return b ? json_object_get(o, b) : o;
}

static const char *jstr(json_t *root, const char *a, const char *b)
{
    json_t *v = jpath(root, a, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A counter: a JSON integer, a real, or a string of digits; 0 otherwise. */
static uint64_t jcount(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    if (json_is_real(v))
        return json_real_value(v) > 0 ? (uint64_t)json_real_value(v) : 0;
    if (json_is_string(v)) {
        char *end;
        unsigned long long x = strtoull(json_string_value(v), &end, 10);
        return *end ? 0 : x;
    }
    return 0;
}

/* The string member "key":"value" of event JSON text, unescaped into out.
 * False when absent, not a string, or longer than out. */
static bool jfast(const char *json, size_t n, const char *key, char *out, size_t outsz)
{
    char pat[64];
    size_t kl = strlen(key), pl = kl + 4;
    if (pl > sizeof(pat))
        return false;
    pat[0] = '"';
    memcpy(pat + 1, key, kl);
    memcpy(pat + 1 + kl, "\":\"", 3);
    const char *p = memmem(json, n, pat, pl);
    if (!p)
        return false;
    const char *s = p + pl, *end = json + n;
    size_t o = 0;
    while (s < end && *s != '"') {
        char c = *s++;
        if (c == '\\' && s < end) {
            char e = *s++;
            if (e == 'u' && end - s >= 4) {
                char hex[5] = {s[0], s[1], s[2], s[3], 0};
                unsigned cp = (unsigned)strtoul(hex, NULL, 16);
                s += 4;
                c = cp < 0x80 && cp >= 0x20 ? (char)cp : '?';
            } else {
                c = e == 'n' || e == 't' || e == 'r' || e == 'b' || e == 'f' ? ' ' : e;
            }
        }
        if (o + 1 >= outsz)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return s < end;
}

/* ---- tables of the report ------------------------------------------------ */

static struct scope_login *login_get(struct scope_state *S, const char *name)
{
    char key[SCOPE_VALUE_MAX];
    lower_into(name, key, sizeof(key));
    size_t *i = smap_get(&S->logins, key);
    if (i)
        return &S->r->logins[*i];
    if (S->r->nlogins >= SCOPE_MAX_LOGINS) {
        S->r->limits.logins++;
        return NULL;
    }
    if (grow_array((void **)&S->r->logins, &S->cap_logins, S->r->nlogins,
                   sizeof(struct scope_login)) < 0 ||
        smap_put(&S->logins, key, S->r->nlogins) < 0) {
        S->err = -ENOMEM;
        return NULL;
    }
    struct scope_login *l = &S->r->logins[S->r->nlogins++];
    memset(l, 0, sizeof(*l));
    l->account = strdup(name);
    l->first_ns = l->last_ns = TIME_NONE;
    return l;
}

/* The involved account name (created with why), or NULL when the cap is
 * reached. */
static struct scope_account *account_involve(struct scope_state *S, const char *name, unsigned why)
{
    char key[SCOPE_VALUE_MAX];
    lower_into(name, key, sizeof(key));
    size_t *i = smap_get(&S->accounts, key);
    if (i) {
        S->r->accounts[*i].why |= why;
        return &S->r->accounts[*i];
    }
    if (S->r->naccounts >= SCOPE_MAX_ACCOUNTS) {
        S->r->limits.accounts++;
        return NULL;
    }
    if (grow_array((void **)&S->r->accounts, &S->cap_accounts, S->r->naccounts,
                   sizeof(struct scope_account)) < 0 ||
        smap_put(&S->accounts, key, S->r->naccounts) < 0) {
        S->err = -ENOMEM;
        return NULL;
    }
    struct scope_account *a = &S->r->accounts[S->r->naccounts++];
    memset(a, 0, sizeof(*a));
    a->name = strdup(name);
    a->why = why;
    return a;
}

static int account_index(const struct scope_state *S, const char *name)
{
    if (!name || !*name)
        return -1;
    char key[SCOPE_VALUE_MAX];
    lower_into(name, key, sizeof(key));
    size_t *i = smap_get(&S->accounts, key);
    return i ? (int)*i : -1;
}

/* The involved account whose mailbox addr is (lower-case), or -1. A name
 * without a domain is looked up as an account name. */
static int mailbox_account(const struct scope_state *S, const char *addr)
{
    if (!addr || !*addr)
        return -1;
    size_t *i = smap_get(&S->mailboxes, addr);
    if (i)
        return (int)*i;
    return strchr(addr, '@') ? -1 : account_index(S, addr);
}

static struct scope_correspondent *corr_get(struct scope_state *S, const char *addr)
{
    size_t *i = smap_get(&S->corr, addr);
    if (i)
        return &S->r->correspondents[*i];
    if (S->r->ncorrespondents >= SCOPE_MAX_CORRESPONDENTS) {
        S->r->limits.correspondents++;
        return NULL;
    }
    if (grow_array((void **)&S->r->correspondents, &S->cap_corr, S->r->ncorrespondents,
                   sizeof(struct scope_correspondent)) < 0 ||
        smap_put(&S->corr, addr, S->r->ncorrespondents) < 0) {
        S->err = -ENOMEM;
        return NULL;
    }
    struct scope_correspondent *c = &S->r->correspondents[S->r->ncorrespondents++];
    memset(c, 0, sizeof(*c));
    c->address = strdup(addr);
    c->first_ns = c->last_ns = TIME_NONE;
    return c;
}

static struct scope_forward *forward_get(struct scope_state *S, enum scope_forward_kind kind,
                                         const char *account, const char *target)
{
    struct buf k;
    buf_init(&k);
    buf_printf(&k, "%d\x1f%s\x1f%s", (int)kind, account, target);
    for (char *p = k.data; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p += 'a' - 'A';
    struct scope_forward *f = NULL;
    size_t *i = smap_get(&S->forwards, k.data);
    if (i) {
        f = &S->r->forwards[*i];
    } else if (S->r->nforwards >= SCOPE_MAX_FORWARDS) {
        S->r->limits.forwards++;
    } else if (grow_array((void **)&S->r->forwards, &S->cap_forwards, S->r->nforwards,
                          sizeof(struct scope_forward)) < 0 ||
               smap_put(&S->forwards, k.data, S->r->nforwards) < 0) {
        S->err = -ENOMEM;
    } else {
        f = &S->r->forwards[S->r->nforwards++];
        memset(f, 0, sizeof(*f));
        f->kind = kind;
        f->account = strdup(account);
        f->target = strdup(target);
        f->external = strchr(target, '@') && !is_internal(S, target);
        f->first_ns = f->last_ns = TIME_NONE;
    }
    buf_free(&k);
    return f;
}

static void imail_add(struct scope_state *S, int target, const char *address, bool to,
                      const char *counterpart, int64_t ts)
{
    if (target < 0 || !address || !*address)
        return;
    struct buf k;
    buf_init(&k);
    buf_printf(&k, "%d\x1f%s\x1f%d", target, address, (int)to);
    size_t *i = smap_get(&S->imail, k.data);
    struct scope_indicator_mail *m = NULL;
    if (i) {
        m = &S->r->indicator_mail[*i];
    } else if (S->r->nindicator_mail >= SCOPE_MAX_IMAIL) {
        S->r->limits.indicator_mail++;
    } else if (grow_array((void **)&S->r->indicator_mail, &S->cap_imail, S->r->nindicator_mail,
                          sizeof(struct scope_indicator_mail)) < 0 ||
               smap_put(&S->imail, k.data, S->r->nindicator_mail) < 0) {
        S->err = -ENOMEM;
    } else {
        m = &S->r->indicator_mail[S->r->nindicator_mail++];
        memset(m, 0, sizeof(*m));
        m->indicator = strdup(S->r->targets[target].value);
        m->address = strdup(address);
        m->to = to;
        m->counterpart = xstrdup(counterpart);
        m->first_ns = m->last_ns = TIME_NONE;
    }
    buf_free(&k);
    if (m) {
        m->messages++;
        span(&m->first_ns, &m->last_ns, ts);
    }
    S->r->targets[target].events++;
}

/* ---- step 1: logins from the indicators' addresses ------------------------ */

/* What a login-like event is: +1 success, -1 failure (per attempt). */
static const struct {
    const char *module, *action;
    int outcome;
    enum scope_service svc; /* SVC_OTHER for Dovecot: from the service */
} login_kinds[] = {
    /* Dovecot: the login process's verdict; its auth process's
     * "Password mismatch" lines repeat the same attempts, so they are not
     * counted again */
    {"dovecot", "login", 1, SVC_OTHER},
    {"dovecot", "login-failed", -1, SVC_OTHER},
    {"postfix", "client", 1, SVC_SMTP_AUTH}, /* only with sasl_username */
    {"postfix", "auth-failure", -1, SVC_SMTP_AUTH},
    {"sshd", "login", 1, SVC_SSH},
    {"sshd", "login-failed", -1, SVC_SSH}, /* also "for invalid user" */
    {"m365", "UserLoggedIn", 1, SVC_M365},
    {"m365", "UserLoginFailed", -1, SVC_M365},
    {"windows", "logged-in", 1, SVC_WINDOWS},
    {"windows", "logon-failed", -1, SVC_WINDOWS},
    {"evtx", "logged-in", 1, SVC_WINDOWS},
    {"evtx", "logon-failed", -1, SVC_WINDOWS},
};
#define N_LOGIN_KINDS (sizeof(login_kinds) / sizeof(login_kinds[0]))

static enum scope_service dovecot_service(const char *service)
{
    static const struct {
        const char *name;
        enum scope_service svc;
    } map[] = {
        {"imap", SVC_IMAP},
        {"pop3", SVC_POP3},
        {"submission", SVC_SUBMISSION},
        {"managesieve", SVC_MANAGESIEVE},
    };
    if (!service)
        return SVC_OTHER;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t n = strlen(map[i].name);
        if (!strncmp(service, map[i].name, n) && (!service[n] || !strcmp(service + n, "-login")))
            return map[i].svc;
    }
    return SVC_OTHER;
}

/* The login kind of a row: index into login_kinds, or -1. */
static int login_kind(const struct store_row *r)
{
    if (!r->module || !r->action || !r->user || !*r->user)
        return -1;
    for (size_t i = 0; i < N_LOGIN_KINDS; i++)
        if (!strcmp(r->module, login_kinds[i].module) && !strcmp(r->action, login_kinds[i].action))
            return (int)i;
    return -1;
}

static enum scope_service login_service(int k, json_t *doc)
{
    enum scope_service svc = login_kinds[k].svc;
    if (!strcmp(login_kinds[k].module, "dovecot"))
        svc = dovecot_service(jstr(doc, "logsource", "service"));
    return svc;
}

/* Count a login-like row into the login table. */
static void login_count(struct scope_state *S, const struct store_row *r, int k, json_t *doc,
                        bool from_indicator)
{
    struct scope_login *l = login_get(S, r->user);
    if (!l)
        return;
    if (login_kinds[k].outcome > 0) {
        l->successes++;
    } else {
        uint64_t attempts = jcount(jpath(doc, "native", "attempts"));
        l->failures += attempts ? attempts : 1;
    }
    span(&l->first_ns, &l->last_ns, r->ts_ns);
    list_add(&l->addresses, r->source_ip);
    l->services |= 1u << login_service(k, doc);
    l->from_indicator |= from_indicator;
    l->on_host |= !from_indicator;
}

struct row_ctx {
    struct scope_state *S;
    size_t target;
};

static int indicator_row(void *opaque, const struct store_row *r)
{
    struct row_ctx *c = opaque;
    struct scope_state *S = c->S;
    S->r->events_indexed++;
    S->r->targets[c->target].events++;
    /* the user acted from the address: it is the event's source */
    if (!r->user || !*r->user || ip_match(S, r->source_ip) < 0)
        return 0;
    int k = login_kind(r);
    bool success = r->outcome && !strcmp(r->outcome, "success");
    if (k < 0 && !success)
        return 0;
    json_t *doc = json_loadb(r->json, r->json_len, 0, NULL);
    if (k >= 0) {
        login_count(S, r, k, doc, true);
        if (login_kinds[k].outcome > 0)
            account_involve(S, r->user, WHY_LOGIN);
    } else {
        account_involve(S, r->user, WHY_ACTIVITY);
    }
    json_decref(doc);
    return S->err;
}

static int host_login_row(void *opaque, const struct store_row *r)
{
    struct scope_state *S = opaque;
    S->r->events_scanned++;
    int k = login_kind(r);
    if (k < 0)
        return 0;
    json_t *doc = json_loadb(r->json, r->json_len, 0, NULL);
    login_count(S, r, k, doc, false);
    json_decref(doc);
    return S->err;
}

static int step_logins(struct scope_state *S)
{
    const struct scope_opts *o = S->o;
    for (size_t t = 0; t < S->r->ntargets; t++) {
        struct scope_target *tg = &S->r->targets[t];
        if (tg->kind == SCOPE_ACCOUNT || tg->kind == SCOPE_EMAIL) {
            if (tg->entity)
                account_involve(S, tg->value, WHY_ENTITY);
            continue;
        }
        if (tg->kind == SCOPE_IP) {
            struct store_query q;
            store_query_init(&q);
            q.ip = tg->value;
            q.since_ns = o->since_ns;
            q.until_ns = o->until_ns;
            struct row_ctx c = {S, t};
            int rc = store_search(S->st, &q, indicator_row, &c);
            if (rc < 0)
                return rc;
        } else if (tg->kind == SCOPE_HOST) {
            static const char *const actions[] = {
                "login",        "login-failed",    "client",    "auth-failure",
                "UserLoggedIn", "UserLoginFailed", "logged-in", "logon-failed",
            };
            struct store_scan q = {o->since_ns, o->until_ns, NULL,
                                   tg->value,   actions,     sizeof(actions) / sizeof(actions[0])};
            uint64_t before = S->r->events_scanned;
            int rc = store_scan(S->st, &q, host_login_row, S);
            if (rc < 0)
                return rc;
            tg->events += S->r->events_scanned - before;
        }
    }
    return S->err;
}

/* ---- step 2: the organisation's domains ---------------------------------- */

static void domain_add(struct scope_state *S, const char *d)
{
    if (!d || !*d || S->r->ndomains >= SCOPE_MAX_DOMAINS)
        return;
    char low[256];
    lower_into(d, low, sizeof(low));
    for (size_t i = 0; i < S->r->ndomains; i++)
        if (!strcmp(S->r->domains[i], low))
            return;
    char **p = realloc(S->r->domains, (S->r->ndomains + 1) * sizeof(*p));
    if (!p) {
        S->err = -ENOMEM;
        return;
    }
    S->r->domains = p;
    S->r->domains[S->r->ndomains++] = strdup(low);
}

#define STOP_SCAN (-EALREADY) /* a callback's "enough", not an error */

static int local_delivery_row(void *opaque, const struct store_row *r)
{
    struct scope_state *S = opaque;
    S->r->events_scanned++;
    char relay[256] = "", to[SCOPE_VALUE_MAX], sock[64];
    jfast(r->json, r->json_len, "relay", relay, sizeof(relay));
    bool local = !strcmp(relay, "local") || !strcmp(relay, "virtual") ||
                 jfast(r->json, r->json_len, "relay_socket", sock, sizeof(sock)) ||
                 strstr(relay, "dovecot") || strstr(relay, "lmtp");
    if (!local || !jfast(r->json, r->json_len, "to", to, sizeof(to)))
        return 0;
    domain_add(S, domain_of(to));
    return ++S->local_deliveries >= SCOPE_LOCAL_DELIVERIES ? STOP_SCAN : S->err;
}

static int step_domains(struct scope_state *S)
{
    const struct scope_opts *o = S->o;
    for (size_t i = 0; i < o->ndomains; i++) {
        const char *d = o->domains[i];
        domain_add(S, d[0] == '@' ? d + 1 : d);
    }
    if (o->ndomains)
        return S->err;
    S->r->domains_inferred = true;
    for (size_t i = 0; i < S->r->naccounts; i++)
        if (strchr(S->r->accounts[i].name, '@'))
            domain_add(S, domain_of(S->r->accounts[i].name));
    static const char *const actions[] = {"delivery"};
    struct store_scan q = {o->since_ns, o->until_ns, "postfix", NULL, actions, 1};
    int rc = store_scan(S->st, &q, local_delivery_row, S);
    return rc == STOP_SCAN ? S->err : rc < 0 ? rc : S->err;
}

/* Each involved account's mailbox addresses: its name when that is an
 * address, else name@domain for each internal domain. */
static int map_mailboxes(struct scope_state *S)
{
    for (size_t i = 0; i < S->r->naccounts; i++) {
        struct scope_account *a = &S->r->accounts[i];
        char addr[SCOPE_VALUE_MAX + 256];
        if (strchr(a->name, '@')) {
            lower_into(a->name, addr, sizeof(addr));
            list_add(&a->mailboxes, addr);
        } else {
            for (size_t d = 0; d < S->r->ndomains; d++) {
                char tmp[SCOPE_VALUE_MAX + 256];
                snprintf(tmp, sizeof(tmp), "%s@%s", a->name, S->r->domains[d]);
                lower_into(tmp, addr, sizeof(addr));
                list_add(&a->mailboxes, addr);
            }
        }
        for (size_t m = 0; m < a->mailboxes.n; m++)
            if (!smap_get(&S->mailboxes, a->mailboxes.v[m]) &&
                smap_put(&S->mailboxes, a->mailboxes.v[m], i) < 0)
                return -ENOMEM;
    }
    return 0;
}

/* ---- step 3: what each involved account did ------------------------------ */

static const char *const change_ops[] = {
    "New-InboxRule",
    "Set-InboxRule",
    "Enable-InboxRule",
    "Disable-InboxRule",
    "Remove-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
    "Add-MailboxPermission",
    "Remove-MailboxPermission",
    "Add-RecipientPermission",
    "Add-MailboxFolderPermission",
    "Set-MailboxFolderPermission",
    "Set-CASMailbox",
    "New-TransportRule",
    "Set-TransportRule",
    "New-ManagementRoleAssignment",
};

/* Forwarding parameters of Exchange cmdlets. */
static const struct {
    const char *field;
    enum scope_forward_kind kind;
} forward_params[] = {
    {"Parameters.ForwardTo", FWD_M365_RULE},
    {"Parameters.RedirectTo", FWD_M365_RULE},
    {"Parameters.ForwardAsAttachmentTo", FWD_M365_RULE},
    {"Parameters.ForwardingSmtpAddress", FWD_M365_MAILBOX},
    {"Parameters.ForwardingAddress", FWD_M365_MAILBOX},
};

static void add_forward_targets(struct scope_state *S, enum scope_forward_kind kind,
                                const char *account, const char *list, int64_t ts)
{
    /* "a@x.org;b@y.org", "smtp:a@x.org", "[\"a@x.org\"]" */
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ';' || *p == ',' || *p == '[' || *p == ']' || *p == '"')
            p++;
        const char *e = p;
        while (*e && *e != ';' && *e != ',' && *e != ']' && *e != '"')
            e++;
        size_t n = (size_t)(e - p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n > 5 && !strncasecmp(p, "smtp:", 5))
            p += 5, n -= 5;
        if (n > 0 && n < SCOPE_VALUE_MAX) {
            char raw[SCOPE_VALUE_MAX], tgt[SCOPE_VALUE_MAX];
            memcpy(raw, p, n);
            raw[n] = '\0';
            lower_into(raw, tgt, sizeof(tgt));
            struct scope_forward *f = forward_get(S, kind, account, strchr(tgt, '@') ? tgt : raw);
            if (f) {
                f->count++;
                span(&f->first_ns, &f->last_ns, ts);
            }
        }
        p = e;
    }
}

static void m365_event(struct scope_state *S, struct scope_account *a, const struct store_row *r,
                       json_t *doc, bool from_ind)
{
    const char *op = r->action;
    json_t *nat = json_object_get(doc, "native");
    if (!strcmp(op, "MailItemsAccessed")) {
        a->mia_records++;
        a->mia_from_indicator += from_ind;
        uint64_t ops = jcount(json_object_get(nat, "OperationCount"));
        a->mia_operations += ops ? ops : 1;
        a->mia_items += jcount(json_object_get(nat, "Folders.ItemCount"));
        const char *type = jstr(doc, "native", "OperationProperties.MailAccessType");
        a->mia_sync += type && !strcmp(type, "Sync");
        json_t *paths = json_object_get(nat, "Folders.Path");
        size_t i;
        json_t *v;
        json_array_foreach(paths, i, v) list_add(&a->folders, json_string_value(v));
        list_add(&a->apps, jstr(doc, "native", "AppId"));
        list_add(&a->apps, jstr(doc, "native", "ClientAppId"));
        return;
    }
    if (!strcmp(op, "Send") || !strcmp(op, "SendAs") || !strcmp(op, "SendOnBehalf")) {
        a->m365_sends++;
        return;
    }
    bool change = false;
    for (size_t i = 0; i < sizeof(change_ops) / sizeof(change_ops[0]) && !change; i++)
        change = !strcasecmp(op, change_ops[i]);
    if (!change)
        return;
    if (r->outcome && !strcmp(r->outcome, "failure"))
        return;
    /* whose mail: the rule's or mailbox's owner when named, else the actor */
    const char *owner = jstr(doc, "native", "Parameters.Mailbox");
    if (!owner && !strcasecmp(op, "Set-Mailbox"))
        owner = jstr(doc, "native", "Parameters.Identity");
    if (!owner)
        owner = a->name;
    for (size_t i = 0; i < sizeof(forward_params) / sizeof(forward_params[0]); i++) {
        const char *v = jstr(doc, "native", forward_params[i].field);
        if (v && *v)
            add_forward_targets(S, forward_params[i].kind, owner, v, r->ts_ns);
    }
    if (S->r->nchanges >= SCOPE_MAX_CHANGES) {
        S->r->limits.changes++;
        return;
    }
    if (grow_array((void **)&S->r->changes, &S->cap_changes, S->r->nchanges,
                   sizeof(struct scope_change)) < 0) {
        S->err = -ENOMEM;
        return;
    }
    struct scope_change *c = &S->r->changes[S->r->nchanges++];
    c->ts_ns = r->ts_ns;
    c->account = strdup(a->name);
    c->operation = strdup(op);
    c->source_ip = xstrdup(r->source_ip);
    const char *payload = jstr(doc, "native", "Payload");
    if (payload) {
        c->details = strdup(payload);
    } else {
        struct buf d;
        buf_init(&d);
        static const char *const props[] = {"RuleName", "RuleActions", "RuleCondition",
                                            "RuleOperation"};
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
            char f[64];
            snprintf(f, sizeof(f), "OperationProperties.%s", props[i]);
            const char *v = jstr(doc, "native", f);
            if (v)
                buf_printf(&d, "%s%s=%s", d.len ? " " : "", props[i], v);
        }
        c->details = strdup(d.len ? d.data : op);
        buf_free(&d);
    }
}

static void session_start(struct scope_state *S, struct scope_account *a, enum scope_service svc,
                          const char *ip, bool from_ind)
{
    a->sessions++;
    a->sessions_by_service[svc]++;
    a->sessions_from_indicator += from_ind;
    if (ip && *ip)
        list_add(&a->sources, ip);
    (void)S;
}

static void dovecot_event(struct scope_state *S, struct scope_account *a, const struct store_row *r,
                          json_t *doc, bool from_ind)
{
    const char *action = r->action;
    const char *session = jstr(doc, "native", "session");
    enum scope_service svc = dovecot_service(jstr(doc, "logsource", "service"));
    if (!strcmp(action, "login")) {
        session_start(S, a, svc, r->source_ip, from_ind);
        if (session && *session) {
            if (S->sessions.n >= SCOPE_MAX_SESSIONS)
                S->r->limits.sessions++;
            else if (smap_put(&S->sessions, session, from_ind) < 0)
                S->err = -ENOMEM;
        }
        return;
    }
    if (!strcmp(action, "logout") || !strcmp(action, "disconnect")) {
        if (svc != SVC_IMAP && svc != SVC_POP3)
            return;
        json_t *nat = json_object_get(doc, "native");
        bool ind = false;
        if (session) {
            size_t *v = smap_get(&S->sessions, session);
            if (v) {
                ind = *v;
                smap_del(&S->sessions, session);
            }
        }
        uint64_t out = jcount(json_object_get(nat, "out"));
        a->logouts++;
        a->logouts_from_indicator += ind;
        a->bytes_out += out;
        a->bytes_out_from_indicator += ind ? out : 0;
        a->bytes_in += jcount(json_object_get(nat, "in"));
        a->imap_headers += jcount(json_object_get(nat, "hdr_count"));
        a->imap_bodies += jcount(json_object_get(nat, "body_count"));
        a->imap_body_bytes += jcount(json_object_get(nat, "body_bytes"));
        uint64_t retr = jcount(json_object_get(nat, "retr_bytes"));
        a->pop3_retrieved += jcount(json_object_get(nat, "retr_count"));
        a->pop3_retrieved_bytes += retr;
        a->pop3_top += jcount(json_object_get(nat, "top_count"));
        /* POP3 logs no out= unless configured: its retrieved bytes are
         * what was read */
        if (svc == SVC_POP3 && !json_object_get(nat, "out")) {
            a->bytes_out += retr;
            a->bytes_out_from_indicator += ind ? retr : 0;
        }
        return;
    }
    if (!strcmp(action, "forward")) {
        json_t *tv = json_object_get(jpath(doc, "email", "to"), "address");
        const char *to = json_is_string(tv) ? json_string_value(tv) : jstr(doc, "native", "to");
        if (to && *to) {
            char low[SCOPE_VALUE_MAX];
            lower_into(to, low, sizeof(low));
            struct scope_forward *f = forward_get(S, FWD_SIEVE, a->name, low);
            if (f) {
                f->count++;
                span(&f->first_ns, &f->last_ns, r->ts_ns);
            }
        }
        const char *msgid = jstr(doc, "native", "msgid");
        if (msgid && *msgid) {
            if (S->fwd_msgids.n >= SCOPE_MAX_MSGIDS)
                S->r->limits.forwards++;
            else if (smap_put(&S->fwd_msgids, msgid, S->cur) < 0)
                S->err = -ENOMEM;
        }
    }
}

static int account_row(void *opaque, const struct store_row *r)
{
    struct scope_state *S = opaque;
    S->r->events_indexed++;
    struct scope_account *a = &S->r->accounts[S->cur];
    if (!r->module || !r->action)
        return 0;
    bool from_ind = ip_match(S, r->source_ip) >= 0;
    const char *m = r->module;
    bool dovecot = !strcmp(m, "dovecot"), m365 = !strcmp(m, "m365");
    bool postfix_client = !strcmp(m, "postfix") && !strcmp(r->action, "client");
    bool ssh_login = !strcmp(m, "sshd") && !strcmp(r->action, "login");
    bool win_login =
        (!strcmp(m, "windows") || !strcmp(m, "evtx")) && !strcmp(r->action, "logged-in");
    if (postfix_client) {
        session_start(S, a, SVC_SMTP_AUTH, r->source_ip, from_ind);
        return 0;
    }
    if (ssh_login || win_login) {
        session_start(S, a, ssh_login ? SVC_SSH : SVC_WINDOWS, r->source_ip, from_ind);
        return 0;
    }
    if (!dovecot && !m365)
        return 0;
    json_t *doc = json_loadb(r->json, r->json_len, 0, NULL);
    if (!doc)
        return 0;
    if (dovecot)
        dovecot_event(S, a, r, doc, from_ind);
    else if (!strcmp(r->action, "UserLoggedIn"))
        session_start(S, a, SVC_M365, r->source_ip, from_ind);
    else
        m365_event(S, a, r, doc, from_ind);
    json_decref(doc);
    return S->err;
}

static int step_accounts(struct scope_state *S)
{
    struct scope_report *R = S->r;
    for (size_t i = 0; i < R->naccounts; i++) {
        uint64_t before = R->events_indexed;
        struct store_query q;
        store_query_init(&q);
        q.user = R->accounts[i].name;
        q.since_ns = S->o->since_ns;
        q.until_ns = S->o->until_ns;
        S->cur = i;
        int rc = store_search(S->st, &q, account_row, S);
        smap_clear(&S->sessions);
        if (rc < 0)
            return rc;
        if (S->err)
            return S->err;
        for (size_t t = 0; t < R->ntargets; t++) {
            struct scope_target *tg = &R->targets[t];
            if (tg->entity && (tg->kind == SCOPE_ACCOUNT || tg->kind == SCOPE_EMAIL) &&
                !strcasecmp(tg->value, q.user))
                tg->events = R->events_indexed - before;
        }
    }
    return 0;
}

/* ---- step 4: the mail of the window ------------------------------------- */

static void qent_clear(struct scope_state *S, struct qent *e)
{
    free(e->key);
    free(e->from);
    free(e->rcpt);
    S->rcpt_slots -= e->caprcpt;
    memset(e, 0, sizeof(*e));
}

static struct qent *q_get(struct scope_state *S, const char *key, bool create)
{
    size_t *i = smap_get(&S->qids, key);
    if (i)
        return &S->ring[*i];
    if (!create)
        return NULL;
    struct qent *e = &S->ring[S->head];
    if (e->key) {
        S->r->limits.queue_ids_lost++;
        smap_del(&S->qids, e->key);
        qent_clear(S, e);
    }
    e->key = strdup(key);
    if (!e->key || smap_put(&S->qids, key, S->head) < 0) {
        S->err = -ENOMEM;
        free(e->key);
        e->key = NULL;
        return NULL;
    }
    e->sender = e->fwd = e->ind = -1;
    S->head = (S->head + 1) % SCOPE_QUEUE_SLOTS;
    return e;
}

/* Note recipient to of e: *fresh when first seen for this message,
 * *fresh_sent when first delivered. */
static void q_rcpt(struct scope_state *S, struct qent *e, const char *to, bool sent, bool *fresh,
                   bool *fresh_sent)
{
    uint64_t h = hash_str(to) & ~1ULL;
    for (size_t i = 0; i < e->nrcpt; i++)
        if ((e->rcpt[i] & ~1ULL) == h) {
            *fresh = false;
            *fresh_sent = sent && !(e->rcpt[i] & 1);
            e->rcpt[i] |= sent;
            return;
        }
    *fresh = true;
    *fresh_sent = sent;
    if (e->nrcpt == e->caprcpt) {
        size_t nc = e->caprcpt ? (size_t)e->caprcpt * 2 : 4;
        uint64_t *p = NULL;
        if (nc <= SCOPE_RCPT_PER_MSG && S->rcpt_slots + nc - e->caprcpt <= SCOPE_RCPT_BUDGET)
            p = realloc(e->rcpt, nc * sizeof(*p));
        if (!p) {
            S->r->limits.recipients_nodup++;
            return;
        }
        S->rcpt_slots += nc - e->caprcpt;
        e->rcpt = p;
        e->caprcpt = (uint16_t)nc;
    }
    e->rcpt[e->nrcpt++] = h | sent;
}

static bool loopback(const char *ip)
{
    return ip && (!strncmp(ip, "127.", 4) || !strcmp(ip, "::1"));
}

static void mail_delivery(struct scope_state *S, const struct store_row *r, struct qent *e)
{
    char to[SCOPE_VALUE_MAX], orig_raw[SCOPE_VALUE_MAX], status[32] = "";
    if (!jfast(r->json, r->json_len, "to", orig_raw, sizeof(orig_raw)) || !*orig_raw)
        return;
    lower_into(orig_raw, to, sizeof(to));
    char orig[SCOPE_VALUE_MAX] = "";
    if (jfast(r->json, r->json_len, "orig_to", orig_raw, sizeof(orig_raw)))
        lower_into(orig_raw, orig, sizeof(orig));
    jfast(r->json, r->json_len, "status", status, sizeof(status));
    bool fresh, fresh_sent;
    q_rcpt(S, e, to, !strcmp(status, "sent"), &fresh, &fresh_sent);

    bool ext_to = !is_internal(S, to);
    int rcpt_acct = mailbox_account(S, to);
    int orig_acct = *orig ? mailbox_account(S, orig) : -1;
    int sender = e->sender >= 0 ? e->sender : (e->flags & Q_FORWARD) ? e->fwd : -1;
    bool host = host_entity(S, r->host);
    const char *from = e->from && *e->from ? e->from : NULL;
    int64_t ts = r->ts_ns;
    struct scope_report *R = S->r;

    /* what the involved mailboxes sent (or a forwarded copy) */
    const char *to_side = NULL; /* the internal address mail to `to` came from */
    bool forwarded = false;
    if (sender >= 0 && rcpt_acct != sender) {
        struct scope_account *a = &R->accounts[sender];
        to_side = from && is_internal(S, from) ? from : a->name;
        if (e->flags & Q_FORWARD) {
            forwarded = true;
            if (fresh) {
                a->forwarded++;
                R->messages_forwarded++;
            }
        } else {
            a->sent_recipients += fresh;
            a->sent_external += fresh && ext_to;
            a->sent_delivered += fresh_sent;
        }
    }
    /* an alias or virtual map that sends the mailbox's mail out */
    if (orig_acct >= 0 && rcpt_acct < 0 && ext_to) {
        struct scope_account *a = &R->accounts[orig_acct];
        forwarded = true;
        to_side = orig;
        if (fresh) {
            a->forwarded++;
            R->messages_forwarded++;
            struct scope_forward *f = forward_get(S, FWD_POSTFIX_ORIG_TO, orig, to);
            if (f) {
                f->count++;
                span(&f->first_ns, &f->last_ns, ts);
            }
        }
    }
    if (!to_side && host && ext_to)
        to_side = from && is_internal(S, from) ? from : "";
    if (to_side && ext_to) {
        struct scope_correspondent *c = corr_get(S, to);
        if (c) {
            c->messages_to += fresh;
            c->delivered += fresh_sent;
            c->forwarded += fresh && forwarded;
            span(&c->first_ns, &c->last_ns, ts);
            list_add(&c->mailboxes, to_side);
        }
    }

    /* what the involved mailboxes received */
    const char *from_side = NULL;
    if (rcpt_acct >= 0) {
        from_side = to;
        if (fresh)
            R->accounts[rcpt_acct].received_messages++;
        if (!(e->flags & Q_RECEIVED)) {
            e->flags |= Q_RECEIVED;
            R->messages_received++;
        }
    } else if (orig_acct >= 0) {
        from_side = orig;
    } else if (host && !ext_to) {
        from_side = to;
    } else if (host && from && !is_internal(S, from)) {
        from_side = ""; /* relayed through the host */
    }
    if (from_side && from && !is_internal(S, from)) {
        struct scope_correspondent *c = corr_get(S, from);
        if (c) {
            if (!(e->flags & Q_FROM_COUNTED))
                c->messages_from++;
            span(&c->first_ns, &c->last_ns, ts);
            list_add(&c->mailboxes, from_side);
        }
        e->flags |= Q_FROM_COUNTED;
    }

    /* mail with an indicator */
    if (fresh) {
        int ind = mail_match(S, to);
        if (ind < 0)
            ind = ip_match(S, r->destination_ip);
        if (ind < 0) {
            char relay_host[256];
            if (jfast(r->json, r->json_len, "relay_host", relay_host, sizeof(relay_host)))
                ind = hostname_match(S, relay_host);
        }
        if (ind >= 0) {
            const char *side = from && is_internal(S, from) ? from
                               : sender >= 0                ? R->accounts[sender].name
                               : *orig                      ? orig
                                                            : NULL;
            imail_add(S, ind, side, true, to, ts);
        }
        if (e->ind >= 0 && !ext_to)
            imail_add(S, e->ind, to, false, from, ts);
    }
}

static int mail_row(void *opaque, const struct store_row *r)
{
    struct scope_state *S = opaque;
    if (S->mail_index)
        S->r->events_indexed++;
    else
        S->r->events_scanned++;
    char qid[64];
    if (!r->action || !jfast(r->json, r->json_len, "queue_id", qid, sizeof(qid)) ||
        !strcmp(qid, "NOQUEUE"))
        return 0;
    char key[64 + 256];
    snprintf(key, sizeof(key), "%s %s", qid, r->host ? r->host : "");
    const char *action = r->action;
    if (!strcmp(action, "removed")) {
        size_t *i = smap_get(&S->qids, key);
        if (i) {
            struct qent *e = &S->ring[*i];
            smap_del(&S->qids, key);
            qent_clear(S, e);
        }
        return 0;
    }
    struct qent *e = q_get(S, key, true);
    if (!e)
        return S->err;
    if (!strcmp(action, "client")) {
        e->flags |= Q_CLIENT | (loopback(r->source_ip) ? Q_LOCAL_CLIENT : 0);
        int a = account_index(S, r->user);
        if (a >= 0 && e->sender < 0) {
            e->sender = a;
            if (!(e->flags & Q_SENT)) {
                e->flags |= Q_SENT;
                S->r->accounts[a].sent_messages++;
                S->r->messages_sent++;
            }
        }
        if (e->ind < 0)
            e->ind = ip_match(S, r->source_ip);
        if (e->ind < 0) {
            char h[256];
            if (jfast(r->json, r->json_len, "client_hostname", h, sizeof(h)))
                e->ind = hostname_match(S, h);
        }
    } else if (!strcmp(action, "message-id")) {
        char msgid[SCOPE_VALUE_MAX];
        if (jfast(r->json, r->json_len, "message_id", msgid, sizeof(msgid))) {
            size_t *a = smap_get(&S->fwd_msgids, msgid);
            if (a) {
                e->flags |= Q_FWDID;
                e->fwd = (int32_t)*a;
            }
        }
    } else if (!strcmp(action, "queued") || !strcmp(action, "pickup")) {
        char from[SCOPE_VALUE_MAX];
        if (!e->from && jfast(r->json, r->json_len, "from", from, sizeof(from)))
            e->from = lower_dup(from);
        if (!strcmp(action, "pickup"))
            return S->err; /* its message-id is logged next: decide at "queued" */
        bool local = !(e->flags & Q_CLIENT) || (e->flags & Q_LOCAL_CLIENT);
        if (local && (e->flags & Q_FWDID) && e->sender < 0)
            e->flags |= Q_FORWARD;
        else if (local && e->sender < 0 && e->from) {
            int a = mailbox_account(S, e->from);
            if (a >= 0 && !(e->flags & Q_SENT)) {
                e->sender = a;
                e->flags |= Q_SENT;
                S->r->accounts[a].sent_messages++;
                S->r->messages_sent++;
            }
        }
        if (e->ind < 0)
            e->ind = mail_match(S, e->from);
    } else if (!strcmp(action, "delivery")) {
        mail_delivery(S, r, e);
    }
    return S->err;
}

/* ---- step 4 through the queue-id key ------------------------------------- */

/* A message to join: its queue id, host, and the time of an event of it. */
struct seed {
    char qid[64];
    char host[256];
    int64_t ts;
};

struct seeds {
    struct scope_state *S;
    struct seed *v;
    size_t n, cap;
    struct smap seen; /* "qid\x1fhost" -> index */
};

static int seed_row(void *opaque, const struct store_row *r)
{
    struct seeds *sd = opaque;
    struct scope_state *S = sd->S;
    S->r->events_indexed++;
    char qid[64], key[64 + 257];
    if (!r->module || strcmp(r->module, "postfix") ||
        !jfast(r->json, r->json_len, "queue_id", qid, sizeof(qid)) || !strcmp(qid, "NOQUEUE"))
        return 0;
    snprintf(key, sizeof(key), "%s\x1f%s", qid, r->host ? r->host : "");
    if (smap_get(&sd->seen, key))
        return 0;
    if (grow_array((void **)&sd->v, &sd->cap, sd->n, sizeof(*sd->v)) < 0 ||
        smap_put(&sd->seen, key, sd->n) < 0)
        return -ENOMEM;
    struct seed *s = &sd->v[sd->n++];
    snprintf(s->qid, sizeof(s->qid), "%s", qid);
    snprintf(s->host, sizeof(s->host), "%s", r->host ? r->host : "");
    s->ts = r->ts_ns;
    return 0;
}

static int seed_search(struct seeds *sd, const char *user, const char *ip, const char *email)
{
    struct store_query q;
    store_query_init(&q);
    q.user = user;
    q.ip = ip;
    q.email = email;
    q.since_ns = sd->S->o->since_ns;
    q.until_ns = sd->S->o->until_ns;
    return store_search(sd->S->st, &q, seed_row, sd);
}

static int cmp_seed(const void *a, const void *b)
{
    const struct seed *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The keyed events of one message, to read in time order. */
struct msg_evs {
    struct {
        int64_t ev, ts;
    } * v;
    size_t n, cap;
};

static int on_msg_event(void *opaque, int64_t ev, int64_t ts)
{
    struct msg_evs *m = opaque;
    if (grow_array((void **)&m->v, &m->cap, m->n, sizeof(*m->v)) < 0)
        return -ENOMEM;
    m->v[m->n].ev = ev;
    m->v[m->n].ts = ts;
    m->n++;
    return 0;
}

static int cmp_msg_ev(const void *a, const void *b)
{
    const int64_t *x = a, *y = b; /* {ev, ts} */
    if (x[1] != y[1])
        return x[1] < y[1] ? -1 : 1;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static bool mail_action(const char *a)
{
    static const char *const actions[] = {"client", "pickup",   "message-id",
                                          "queued", "delivery", "removed"};
    for (size_t i = 0; a && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (!strcmp(a, actions[i]))
            return true;
    return false;
}

/* The message-id line of the message being joined (not keyed: it names no
 * account or address), from a scan of the message's own seconds. */
struct msgid_scan {
    struct scope_state *S;
    const char *qid;
};

static int msgid_row(void *opaque, const struct store_row *r)
{
    struct msgid_scan *m = opaque;
    char qid[64];
    m->S->r->events_scanned++;
    if (!jfast(r->json, r->json_len, "queue_id", qid, sizeof(qid)) || strcmp(qid, m->qid))
        return 0;
    m->S->r->events_scanned--; /* counted by mail_row */
    return mail_row(m->S, r);
}

static int join_message(struct scope_state *S, const struct seed *sd, struct msg_evs *m)
{
    m->n = 0;
    int rc = store_message_events(S->st, sd->qid, sd->ts, on_msg_event, m);
    if (rc < 0 || !m->n)
        return rc;
    qsort(m->v, m->n, sizeof(*m->v), cmp_msg_ev);
    /* the message-id line matters only to recognise Sieve forwards, and
     * before the line that queues the message: read it first */
    if (S->fwd_msgids.n) {
        static const char *const mid[] = {"message-id"};
        struct store_scan q = {m->v[0].ts, m->v[m->n - 1].ts + 1, "postfix", sd->host, mid, 1};
        struct msgid_scan ms = {S, sd->qid};
        rc = store_scan(S->st, &q, msgid_row, &ms);
    }
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        if (i && m->v[i].ev == m->v[i - 1].ev)
            continue;
        struct store_row r;
        rc = store_event_get(S->st, m->v[i].ev, true, &r);
        if (rc == -ENOENT) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        char qid[64];
        /* the same queue id on another host, or outside the window */
        if (!r.module || strcmp(r.module, "postfix") || !mail_action(r.action) ||
            strcmp(r.host ? r.host : "", sd->host) ||
            (S->o->since_ns != TIME_NONE && r.ts_ns < S->o->since_ns) ||
            (S->o->until_ns != TIME_NONE && r.ts_ns >= S->o->until_ns) ||
            !jfast(r.json, r.json_len, "queue_id", qid, sizeof(qid)) || strcmp(qid, sd->qid))
            continue;
        rc = mail_row(S, &r);
    }
    /* the message is done: its entry goes (as a "removed" line would) */
    char key[64 + 256];
    snprintf(key, sizeof(key), "%s %s", sd->qid, sd->host);
    size_t *e = smap_get(&S->qids, key);
    if (e) {
        qent_clear(S, &S->ring[*e]);
        smap_del(&S->qids, key);
    }
    return rc ? rc : S->err;
}

/* Can the index find every message step 4 must see? Not the mail of a
 * host (all of it) nor the mail matched by a domain indicator (host names
 * of relays and clients are not keyed). */
static bool mail_by_index(const struct scope_state *S)
{
    if (S->o->mail_scan)
        return false;
    for (size_t t = 0; t < S->r->ntargets; t++)
        if (S->r->targets[t].kind == SCOPE_HOST || S->r->targets[t].kind == SCOPE_DOMAIN)
            return false;
    return true;
}

static int step_mail_index(struct scope_state *S)
{
    struct scope_report *R = S->r;
    struct seeds sd = {.S = S};
    int rc = 0;
    /* the messages of the involved accounts (as SASL user), of their
     * mailboxes (as sender or recipient), of the indicators */
    for (size_t i = 0; i < R->naccounts && rc == 0; i++)
        rc = seed_search(&sd, R->accounts[i].name, NULL, NULL);
    for (size_t i = 0; i < S->mailboxes.cap && rc == 0; i++)
        if (S->mailboxes.keys[i])
            rc = seed_search(&sd, NULL, NULL, S->mailboxes.keys[i]);
    for (size_t t = 0; t < R->ntargets && rc == 0; t++) {
        const struct scope_target *tg = &R->targets[t];
        if (tg->kind == SCOPE_IP)
            rc = seed_search(&sd, NULL, tg->value, NULL);
        else if (tg->kind == SCOPE_EMAIL)
            rc = seed_search(&sd, NULL, NULL, tg->value);
    }
    smap_clear(&sd.seen);
    if (rc == 0 && sd.n) {
        qsort(sd.v, sd.n, sizeof(*sd.v), cmp_seed);
        S->ring = calloc(SCOPE_QUEUE_SLOTS, sizeof(*S->ring));
        rc = S->ring ? 0 : -ENOMEM;
        S->mail_index = true;
        struct msg_evs m = {0};
        for (size_t i = 0; i < sd.n && rc == 0; i++)
            rc = join_message(S, &sd.v[i], &m);
        free(m.v);
        S->mail_index = false;
    }
    R->mail_indexed = true;
    free(sd.v);
    return rc;
}

static int step_mail(struct scope_state *S)
{
    if (mail_by_index(S))
        return step_mail_index(S);
    S->ring = calloc(SCOPE_QUEUE_SLOTS, sizeof(*S->ring));
    if (!S->ring)
        return -ENOMEM;
    static const char *const actions[] = {"client", "pickup",   "message-id",
                                          "queued", "delivery", "removed"};
    struct store_scan q = {S->o->since_ns, S->o->until_ns, "postfix",
                           NULL,           actions,        sizeof(actions) / sizeof(actions[0])};
    return store_scan(S->st, &q, mail_row, S);
}

/* ---- finishing ------------------------------------------------------------ */

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_login(const void *a, const void *b)
{
    return strcasecmp(((const struct scope_login *)a)->account,
                      ((const struct scope_login *)b)->account);
}

static int cmp_account(const void *a, const void *b)
{
    return strcasecmp(((const struct scope_account *)a)->name,
                      ((const struct scope_account *)b)->name);
}

static int cmp_forward(const void *pa, const void *pb)
{
    const struct scope_forward *a = pa, *b = pb;
    int c = strcasecmp(a->account, b->account);
    if (c)
        return c;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    return strcmp(a->target, b->target);
}

static int cmp_change(const void *pa, const void *pb)
{
    const struct scope_change *a = pa, *b = pb;
    if (a->ts_ns != b->ts_ns)
        return a->ts_ns < b->ts_ns ? -1 : 1;
    return cmp_str(a->account, b->account);
}

static int cmp_corr(const void *pa, const void *pb)
{
    const struct scope_correspondent *a = pa, *b = pb;
    const char *da = domain_of(a->address), *db = domain_of(b->address);
    int c = cmp_str(da, db);
    return c ? c : strcmp(a->address, b->address);
}

static int cmp_imail(const void *pa, const void *pb)
{
    const struct scope_indicator_mail *a = pa, *b = pb;
    int c = strcmp(a->indicator, b->indicator);
    if (!c)
        c = strcmp(a->address, b->address);
    return c ? c : (int)b->to - (int)a->to;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qsort, which must not be handed the NULL of an empty array */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static void finish(struct scope_state *S)
{
    struct scope_report *R = S->r;
    /* the lists of each correspondent's mailboxes: "" marks mail that only
     * passed through a host entity */
    for (size_t i = 0; i < R->ncorrespondents; i++) {
        struct scope_list *l = &R->correspondents[i].mailboxes;
        for (size_t k = 0; k < l->n; k++)
            if (!*l->v[k]) {
                free(l->v[k]);
                l->v[k] = l->v[--l->n];
                k--;
            }
        sort(l->v, l->n, sizeof(char *), cmp_cstr);
    }
    sort(R->logins, R->nlogins, sizeof(*R->logins), cmp_login);
    sort(R->accounts, R->naccounts, sizeof(*R->accounts), cmp_account);
    sort(R->forwards, R->nforwards, sizeof(*R->forwards), cmp_forward);
    sort(R->changes, R->nchanges, sizeof(*R->changes), cmp_change);
    sort(R->correspondents, R->ncorrespondents, sizeof(*R->correspondents), cmp_corr);
    sort(R->indicator_mail, R->nindicator_mail, sizeof(*R->indicator_mail), cmp_imail);
    sort(R->domains, R->ndomains, sizeof(char *), cmp_cstr);
}

static void state_free(struct scope_state *S)
{
    smap_clear(&S->logins);
    smap_clear(&S->accounts);
    smap_clear(&S->mailboxes);
    smap_clear(&S->corr);
    smap_clear(&S->forwards);
    smap_clear(&S->imail);
    smap_clear(&S->fwd_msgids);
    smap_clear(&S->sessions);
    smap_clear(&S->qids);
    if (S->ring)
        for (size_t i = 0; i < SCOPE_QUEUE_SLOTS; i++)
            qent_clear(S, &S->ring[i]);
    free(S->ring);
    free(S->ips);
}

int scope_run(struct store *s, const struct scope_opts *o, struct scope_report **out)
{
    *out = NULL;
    struct scope_report *R = calloc(1, sizeof(*R));
    if (!R)
        return -ENOMEM;
    R->since_ns = o->since_ns;
    R->until_ns = o->until_ns;
    R->targets = calloc(o->ntargets ? o->ntargets : 1, sizeof(*R->targets));
    if (!R->targets) {
        free(R);
        return -ENOMEM;
    }
    memcpy(R->targets, o->targets, o->ntargets * sizeof(*R->targets));
    R->ntargets = o->ntargets;
    struct scope_state S = {.st = s, .o = o, .r = R};
    int rc = 0;
    for (size_t t = 0; t < R->ntargets && rc == 0; t++) {
        R->targets[t].events = 0;
        if (R->targets[t].kind == SCOPE_IP)
            rc = ip_range_add(&S, R->targets[t].value, t);
    }
    rc = rc ? rc : step_logins(&S);
    rc = rc ? rc : step_domains(&S);
    rc = rc ? rc : map_mailboxes(&S);
    rc = rc ? rc : step_accounts(&S);
    rc = rc ? rc : step_mail(&S);
    rc = rc ? rc : S.err;
    if (rc == 0)
        finish(&S);
    state_free(&S);
    if (rc < 0) {
        scope_report_free(R);
        return rc;
    }
    *out = R;
    return 0;
}

void scope_report_free(struct scope_report *R)
{
    if (!R)
        return;
    free(R->targets);
    for (size_t i = 0; i < R->ndomains; i++)
        free(R->domains[i]);
    free(R->domains);
    for (size_t i = 0; i < R->nlogins; i++) {
        free(R->logins[i].account);
        list_free(&R->logins[i].addresses);
    }
    free(R->logins);
    for (size_t i = 0; i < R->naccounts; i++) {
        struct scope_account *a = &R->accounts[i];
        free(a->name);
        list_free(&a->mailboxes);
        list_free(&a->sources);
        list_free(&a->folders);
        list_free(&a->apps);
    }
    free(R->accounts);
    for (size_t i = 0; i < R->nforwards; i++) {
        free(R->forwards[i].account);
        free(R->forwards[i].target);
    }
    free(R->forwards);
    for (size_t i = 0; i < R->nchanges; i++) {
        free(R->changes[i].account);
        free(R->changes[i].operation);
        free(R->changes[i].source_ip);
        free(R->changes[i].details);
    }
    free(R->changes);
    for (size_t i = 0; i < R->ncorrespondents; i++) {
        free(R->correspondents[i].address);
        list_free(&R->correspondents[i].mailboxes);
    }
    free(R->correspondents);
    for (size_t i = 0; i < R->nindicator_mail; i++) {
        free(R->indicator_mail[i].indicator);
        free(R->indicator_mail[i].address);
        free(R->indicator_mail[i].counterpart);
    }
    free(R->indicator_mail);
    free(R);
}
