/*
 * bl-account.c - profiles of accounts and mailboxes, and the facts that
 * depart from them (docs/baselines-accounts.md).
 *
 * An account is `user.name` lower-cased: the Dovecot user, the Postfix
 * sasl_username, the sshd user, the M365 UserId. What it does successfully
 * teaches its profile (failures teach nothing: password guessing is the
 * spraying module's); what departs from the profile becomes a fact:
 *
 *   first-seen  network (/24, /48) 0.3, ASN 0.4, country 0.5 (the strongest
 *               one, public addresses only, after the learning period of the
 *               account's own history); client (user agent with versions
 *               blanked, M365 ClientInfoString, app id, ssh method and key)
 *               0.3; mailbox of another account read (delegation) 0.5;
 *               recipient domain nobody in the organisation had written to
 *               0.4; forwarding to an external address 1.2 (a domain the
 *               organisation never writes to) or 0.6
 *   time        activity at an hour of day (+- hour_width) never seen in at
 *               least hour_min_events events: 0.4; on a day of the week
 *               never seen in them, after weekday_min_days of history: 0.3
 *               (hour and weekday stack as one group)
 *   volume      bytes downloaded (IMAP/POP3), mail items read (IMAP bodies,
 *               POP3 retrievals, MailItemsAccessed), messages sent, distinct
 *               external recipients, per UTC day, against the account's own
 *               95th percentile: 0.8 above factor x p95 (and a floor), 0.9
 *               above 3 x factor x p95; at most once per level, day, feature
 *
 * Joins. Postfix logs a submission (`client=` with sasl_username) and its
 * deliveries on different lines that share the queue id; Dovecot logs the
 * client address at login and the byte counters at logout, sharing the
 * session id. Two direct-mapped tables of 2^16 slots (allocated on first use) (host + id -> what
 * the later line needs, with its event time) carry that over; an entry older than a day is ignored,
 * a colliding id overwrites the older entry. Both are fixed-size: the join costs no allocation and
 * never grows.
 *
 * The organisation. One pseudo-entity, "(organisation)", holds what is
 * shared: the first event time (the organisation's history), the recipient
 * domains anyone has written to (Postfix deliveries to external domains)
 * and, when the configuration lists no internal_domains, the domains of
 * accounts that authenticate (taken as internal).
 *
 * Memory: every set is a bl_seen bounded by account.max_values; series are
 * rings of SERIES_DAYS floats, allocated on first use; the day's distinct
 * recipients are a small hash set (at most RCPT_MAX, beyond which every
 * recipient counts as new). The number of profiles is bounded by
 * max_entities: the least recently active one is forgotten first.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-geo.h"
#include "baseline/bl-module.h"
#include "baseline/bl-table.h"
#include "util/timeconv.h"

#define ACCT_VERSION   1
#define ORG_VERSION    1
#define ORG_ENTITY     "(organisation)"
#define SERIES_DAYS    42
#define PEND_BITS      16
#define PEND_TTL_S     86400
#define RCPT_MAX       512
#define ORG_DOMAINS    65536
#define INTERNAL_MAX   64
#define ID_MAX         256
#define CLIENT_MAX     160
#define NEW_DOMAIN_S   3600 /* a domain first written within this is "new" */
#define ALLOC_OVERHEAD 16   /* per malloc'd block, in the byte estimate */

enum vol { VOL_BYTES, VOL_ITEMS, VOL_SENT, VOL_RCPTS, VOL__N };

/* Two facts per day at most for each of the two groups: downloading
 * (bytes, items) and sending (messages, recipients) measure one behaviour
 * twice, so they share one level and one feature name, and a mailbox
 * re-sync is one volume fact, not two. */
static const struct {
    const char *measure; /* the series, in show */
    const char *feature; /* the fact's feature: the group's name */
    enum vol group;      /* the series holding the group's day and level */
    const char *what;    /* "downloaded %s today" */
    double floor;        /* at volume_min = 1 */
    bool bytes;
    const char *tags;
} vol_def[VOL__N] = {
    [VOL_BYTES] = {"download-bytes", "downloads", VOL_BYTES, "downloaded", 50e6, true, "T1114.002"},
    [VOL_ITEMS] = {"items-read", "downloads", VOL_BYTES, "read mail items:", 200, false,
                   "T1114.002"},
    [VOL_SENT] = {"messages-sent", "sending", VOL_SENT, "sent messages:", 50, false, "T1048"},
    [VOL_RCPTS] = {"external-recipients", "sending", VOL_SENT, "wrote to external recipients:", 20,
                   false, "T1048"},
};

struct acct {
    struct bl_tent t; /* first: the table's part */
    uint32_t first;   /* history start (s) */
    uint32_t events;  /* activity events (saturating) */
    struct bl_seen nets, asns, countries, clients, fwd, mailboxes;
    struct bl_hours hours;
    struct bl_series vol[VOL__N];
    uint32_t vol_day[VOL__N]; /* day of vol_level */
    uint8_t vol_level[VOL__N];
    uint32_t hour_fact; /* hour number (t / 3600) of the last time fact */
    uint32_t wday_fact; /* day number (t / 86400) of the last weekday fact (not
                           saved: after a restart one more fact may come that
                           day, in the same stacking group) */
    uint64_t rdom_last; /* last recipient domain told about */
    uint32_t rcpt_day;  /* the day of rcpt[] */
    uint32_t rcpt_n, rcpt_cap;
    uint32_t *rcpt; /* distinct recipients of rcpt_day (hashes | 1) */
};

struct pend {
    uint64_t key; /* 0: empty */
    uint64_t val; /* account hash (queue ids) */
    uint32_t t;
    struct bl_addr addr; /* client address (sessions) */
};

struct acct_mod {
    const struct bl_config *cfg;
    struct bl_labels *labels;
    struct bl_table tab;
    struct bl_cidrs internal_nets;
    uint32_t org_first;
    struct bl_seen org_domains; /* recipient domains written to */
    struct bl_seen internal;    /* learned internal domains */
    bool org_dirty;
    struct pend *queue, *sess;
    struct bl_module_stats st;
};

/* ---- small helpers ---------------------------------------------------- */

static struct str ev_native(const struct event *ev, const char *key)
{
    const struct field *f = event_get(ev, key);
    return f ? f->val : (struct str){"", 0};
}

static bool str_is(struct str s, const char *lit)
{
    return str_eq(s, lit);
}

static bool str_ieq(struct str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && !strncasecmp(s.p, lit, n);
}

/* Lower-cased copy of s into out (cap bytes), trimmed; 0 when empty or too long. */
static size_t lower_copy(char *out, size_t cap, struct str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    if (!s.n || s.n >= cap)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    out[s.n] = '\0';
    return s.n;
}

static bool str_num(struct str s, double *v)
{
    char tmp[40];
    if (!s.n || s.n >= sizeof tmp)
        return false;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (end == tmp || *end || !isfinite(d) || d < 0)
        return false;
    *v = d;
    return true;
}

static double ev_num(const struct event *ev, const char *key)
{
    double v;
    return str_num(ev_native(ev, key), &v) ? v : 0;
}

static void fmt_count(double v, char out[32])
{
    uint64_t n = v < 0 ? 0 : v > 1e18 ? (uint64_t)1e18 : (uint64_t)(v + 0.5);
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
}

static void fmt_bytes(double v, char out[32])
{
    if (v < 1e3)
        snprintf(out, 32, "%.0f B", v);
    else if (v < 1e6)
        snprintf(out, 32, "%.1f kB", v / 1e3);
    else if (v < 1e9)
        snprintf(out, 32, v < 1e7 ? "%.1f MB" : "%.0f MB", v / 1e6);
    else
        snprintf(out, 32, "%.1f GB", v / 1e9);
}

static void fmt_amount(enum vol f, double v, char out[32])
{
    if (vol_def[f].bytes)
        fmt_bytes(v, out);
    else
        fmt_count(v, out);
}

static uint32_t history_days(uint32_t first, uint32_t t)
{
    return t > first ? (t - first) / 86400u : 0;
}

/* The case-insensitive domain of an address (after the last '@'), lower-cased
 * into out; an address without '@' gives "". */
static size_t addr_domain(struct str a, char *out, size_t cap)
{
    size_t dn;
    const char *d = bl_mail_domain(a.p, a.n, &dn);
    return lower_copy(out, cap, str_make(d, dn));
}

/* ---- facts -------------------------------------------------------------- */

struct fact_args {
    const char *entity;
    enum bl_kind kind;
    const char *detector, *feature, *value, *network, *application, *tags;
    double score;
};

static int emit(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev,
                const struct fact_args *a, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The arguments of a time fact (unusual hour or weekday) of account a. */
static struct fact_args time_fact(const struct acct *a, const char *feature, const char *value,
                                  const char *net, double score)
{
    return (struct fact_args){.entity = a->t.id,
                              .kind = BL_ACCOUNT,
                              .detector = BL_DET_TIME,
                              .feature = feature,
                              .value = value,
                              .network = net[0] ? net : NULL,
                              .tags = "T1078",
                              .score = score};
}

static int emit(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev,
                const struct fact_args *a, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct bl_fact f = {
        .kind = a->kind,
        .entity = a->entity,
        .detector = a->detector,
        .feature = a->feature,
        .value = a->value ? a->value : "",
        .network = a->network,
        .application = a->application,
        .score = a->score,
        .text = text,
        .tags = a->tags,
        .ev = ev,
    };
    m->st.facts++;
    return bl_emit(ctx, &f);
}

/* ---- profiles ----------------------------------------------------------- */

static struct acct *acct_new(struct acct_mod *m, const char *id, size_t n)
{
    struct acct *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->t.id = strndup(id, n);
    if (!a->t.id) {
        free(a);
        return NULL;
    }
    a->t.h = bl_hash(id, n);
    uint32_t lim = m->cfg->account.max_values;
    bl_seen_init(&a->nets, lim);
    bl_seen_init(&a->asns, lim);
    bl_seen_init(&a->countries, lim);
    bl_seen_init(&a->clients, lim);
    bl_seen_init(&a->fwd, lim);
    bl_seen_init(&a->mailboxes, lim);
    for (int v = 0; v < VOL__N; v++)
        bl_series_init(&a->vol[v], 86400, SERIES_DAYS);
    return a;
}

static void acct_free(struct acct *a)
{
    if (!a)
        return;
    bl_seen_free(&a->nets);
    bl_seen_free(&a->asns);
    bl_seen_free(&a->countries);
    bl_seen_free(&a->clients);
    bl_seen_free(&a->fwd);
    bl_seen_free(&a->mailboxes);
    for (int v = 0; v < VOL__N; v++)
        bl_series_free(&a->vol[v]);
    free(a->rcpt);
    free(a->t.id);
    free(a);
}

static size_t acct_bytes(const struct acct *a)
{
    size_t b = sizeof *a + strlen(a->t.id) + 1 + 2 * ALLOC_OVERHEAD;
    const struct bl_seen *sets[] = {&a->nets,    &a->asns, &a->countries,
                                    &a->clients, &a->fwd,  &a->mailboxes};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        if (sets[i]->size)
            b += bl_seen_bytes(sets[i]) + ALLOC_OVERHEAD;
    for (int v = 0; v < VOL__N; v++)
        if (a->vol[v].v)
            b += bl_series_bytes(&a->vol[v]) + ALLOC_OVERHEAD;
    if (a->rcpt)
        b += a->rcpt_cap * sizeof *a->rcpt + ALLOC_OVERHEAD;
    return b;
}

/* The profile of id (lower-cased already), created at time t when absent
 * and create is set (the least recently active profile goes when the table
 * is full). NULL when absent or out of memory. */
static struct acct *acct_get(struct acct_mod *m, const char *id, size_t n, uint32_t t, bool create)
{
    struct acct *a = (struct acct *)bl_table_get(&m->tab, id, n);
    if (a || !create)
        return a;
    uint32_t max = m->cfg->max_entities ? m->cfg->max_entities : 1;
    while (m->tab.n >= max && m->tab.oldest) {
        struct acct *old = (struct acct *)m->tab.oldest;
        bl_table_remove(&m->tab, &old->t);
        acct_free(old);
        m->st.evicted++;
    }
    a = acct_new(m, id, n);
    if (!a)
        return NULL;
    a->first = t;
    a->t.last = t;
    if (bl_table_insert(&m->tab, &a->t) < 0) {
        acct_free(a);
        return NULL;
    }
    return a;
}

/* ---- internal or external ----------------------------------------------- */

static bool domain_internal(const struct acct_mod *m, const char *d, size_t n)
{
    if (!n)
        return true; /* a bare local name */
    const struct bl_config *c = m->cfg;
    if (c->ninternal_domains) {
        for (size_t i = 0; i < c->ninternal_domains; i++) {
            const char *x = c->internal_domains[i];
            size_t xn = strlen(x);
            if (n == xn && !strncasecmp(d, x, n))
                return true;
            /* subdomains of an internal domain are internal */
            if (n > xn && d[n - xn - 1] == '.' && !strncasecmp(d + n - xn, x, xn))
                return true;
        }
        return false;
    }
    return bl_seen_get(&m->internal, bl_hash(d, n)) != NULL;
}

static bool addr_internal(const struct acct_mod *m, const struct bl_addr *a)
{
    return bl_addr_is_private(a) || bl_cidrs_match(&m->internal_nets, a);
}

/* ---- pending joins -------------------------------------------------------- */

static uint64_t pend_key(const struct event *ev, struct str id)
{
    struct str host = ev->core[CORE_HOST_NAME];
    char tmp[256];
    size_t n = 0;
    if (host.n + id.n + 1 >= sizeof tmp)
        return bl_hash(id.p, id.n);
    memcpy(tmp, host.p, host.n);
    n = host.n;
    tmp[n++] = '\n';
    memcpy(tmp + n, id.p, id.n);
    n += id.n;
    return bl_hash(tmp, n);
}

/* The slot of key in *tab, allocated on first use (NULL on ENOMEM: the
 * join is then lost, nothing else). */
static struct pend *pend_slot(struct pend **tab, uint64_t key)
{
    if (!*tab && !(*tab = calloc(1u << PEND_BITS, sizeof **tab)))
        return NULL;
    return &(*tab)[(key >> 20) & ((1u << PEND_BITS) - 1)];
}

static struct pend *pend_get(struct pend **tab, uint64_t key, uint32_t t)
{
    if (!*tab)
        return NULL;
    struct pend *p = pend_slot(tab, key);
    if (p->key != key || p->t + PEND_TTL_S < t)
        return NULL;
    return p;
}

/* ---- the organisation ----------------------------------------------------- */

static void learn_internal(struct acct_mod *m, const char *id, size_t n, uint32_t t)
{
    if (m->cfg->ninternal_domains)
        return;
    char dom[ID_MAX];
    size_t dn = addr_domain(str_make(id, n), dom, sizeof dom);
    if (!dn)
        return;
    uint64_t h = bl_hash(dom, dn);
    const struct bl_seen_ent *e = bl_seen_get(&m->internal, h);
    if (e && e->last / 86400 == t / 86400)
        return; /* once a day is enough to keep it fresh */
    bl_seen_touch(&m->internal, h, t, bl_label(m->labels, dom, dn), NULL);
    m->org_dirty = true;
}

/* ---- what an account did ----------------------------------------------- */

struct act {
    struct str user;
    struct bl_addr addr;
    bool has_addr;
    const char *client[4];
    int nclients;
    double vol[VOL__N];
    const char *how; /* "login", "MailItemsAccessed", ... for the sentences */
};

/* User agents and client strings change with every update: digits (and the
 * dots between them) become one '*', so "Chrome/122.0.6261.95" and
 * "Chrome/123.0.1.2" are the same client. */
static size_t client_norm(const char *prefix, struct str s, char *out, size_t cap)
{
    size_t o = strlen(prefix);
    if (!s.n || o + 2 >= cap)
        return 0;
    memcpy(out, prefix, o);
    bool in_num = false;
    for (size_t i = 0; i < s.n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s.p[i];
        bool digit = c >= '0' && c <= '9';
        if (digit || (in_num && (c == '.' || c == '_'))) {
            if (!in_num)
                out[o++] = '*';
            in_num = true;
            continue;
        }
        in_num = false;
        out[o++] = c < 0x20 ? ' ' : (char)c;
    }
    out[o] = '\0';
    return o;
}

/* Add amount of measure f at t and tell when the day's total departs from
 * the account's own days. fresh: the event came from a public network the
 * account first used within the last day; the 30x level of downloads
 * scores 0.9 only then (a new laptop or phone re-syncing the mailbox from
 * a known or internal network stays at 0.8, so with its new client 1.1). */
static int volume_add(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev,
                      struct acct *a, enum vol f, uint32_t t, double amount, const char *net,
                      bool fresh)
{
    const struct bl_account_conf *c = &m->cfg->account;
    struct bl_series *s = &a->vol[f];
    if (amount > 1e15)
        amount = 1e15; /* a counter from outside must not make a day infinite */
    if (!s->n) {
        /* the series covers the account's whole history, not only the
         * days since this feature was first used */
        uint32_t back = (SERIES_DAYS - 1) * 86400u;
        uint32_t from = t > back && a->first < t - back ? t - back : a->first;
        if (from < t && bl_series_add(s, from, 0) < 0)
            return 0;
    }
    double total = bl_series_add(s, t, amount);
    if (total < 0)
        return 0;
    uint32_t day = bl_day(t);
    enum vol g = vol_def[f].group;
    if (a->vol_day[g] != day) {
        a->vol_day[g] = day;
        a->vol_level[g] = 0;
    }
    if (a->vol_level[g] >= 2 || history_days(a->first, t) < c->volume_min_days)
        return 0;
    double p95 = 0;
    uint32_t n = bl_series_quantile(s, t, 0.95, &p95);
    if (n < c->volume_min_days || n == 0)
        return 0;
    double floor = vol_def[f].floor * (c->volume_min > 0 ? c->volume_min : 1.0);
    double factor = c->volume_factor > 0 ? c->volume_factor : 10;
    int level = 0;
    if (total > floor && total > factor * p95)
        level = total > 3 * factor * p95 && (fresh || g != VOL_BYTES) ? 2 : 1;
    if (level <= a->vol_level[g])
        return 0;
    a->vol_level[g] = (uint8_t)level;
    a->t.dirty = true;
    char tot[32], p[32], val[32];
    fmt_amount(f, total, tot);
    fmt_amount(f, p95, p);
    snprintf(val, sizeof val, "%.0f", total);
    struct fact_args fa = {.entity = a->t.id,
                           .kind = BL_ACCOUNT,
                           .detector = BL_DET_VOLUME,
                           .feature = vol_def[f].feature,
                           .value = val,
                           .network = net,
                           .tags = vol_def[f].tags,
                           .score = level == 2 ? 0.9 : 0.8};
    if (p95 > 0)
        return emit(m, ctx, ev, &fa,
                    "%s %s today, %.0f\xc3\x97 the account's 95th percentile (%s) over %u days",
                    vol_def[f].what, tot, total / p95, p, n);
    return emit(m, ctx, ev, &fa,
                "%s %s today, where the account's 95th percentile over %u days is 0",
                vol_def[f].what, tot, n);
}

/* Learn from one activity of an account and emit its facts. *out gets the
 * profile (NULL when the user is unusable). */
static int activity(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t,
                    const struct act *x, struct acct **out)
{
    *out = NULL;
    char id[ID_MAX];
    size_t idn = lower_copy(id, sizeof id, x->user);
    if (!idn)
        return 0;
    struct acct *a = acct_get(m, id, idn, t, true);
    if (!a)
        return -ENOMEM;
    *out = a;
    if (t < a->first)
        a->first = t;
    learn_internal(m, id, idn, t);
    const struct bl_config *cfg = m->cfg;
    uint32_t days = history_days(a->first, t);
    bool learned = t >= a->first && (int64_t)(t - a->first) >= cfg->learning_s;
    char net[64] = "";
    int rc = 0;
    if (x->has_addr && !addr_internal(m, &x->addr)) {
        bl_addr_net(&x->addr, net);
        size_t netn = strlen(net);
        bool had_nets = a->nets.n > 0;
        int isnew =
            bl_seen_touch(&a->nets, bl_hash(net, netn), t, bl_label(m->labels, net, netn), NULL);
        if (isnew == 1) {
            struct bl_geo_info gi;
            bool geo = ctx->geo && bl_geo_lookup(ctx->geo, &x->addr, &gi);
            bool new_asn = false, new_cc = false;
            char asn[96] = "", where[128] = "";
            if (geo && gi.asn) {
                snprintf(asn, sizeof asn, "AS%u", gi.asn);
                char lab[96];
                snprintf(lab, sizeof lab, "AS%u%s%s", gi.asn, gi.org[0] ? " " : "", gi.org);
                bool had = a->asns.n > 0;
                new_asn = bl_seen_touch(&a->asns, gi.asn, t, bl_label(m->labels, lab, strlen(lab)),
                                        NULL) == 1 &&
                          had;
                snprintf(where, sizeof where, "%s", lab);
            }
            if (geo && gi.country[0]) {
                bool had = a->countries.n > 0;
                new_cc = bl_seen_touch(&a->countries, bl_hash(gi.country, 2), t,
                                       bl_label(m->labels, gi.country, 2), NULL) == 1 &&
                         had;
                size_t wl = strlen(where);
                snprintf(where + wl, sizeof where - wl, "%s%s", wl ? ", " : "", gi.country);
            }
            if (learned && had_nets) {
                struct fact_args fa = {.entity = a->t.id,
                                       .kind = BL_ACCOUNT,
                                       .detector = BL_DET_FIRST_SEEN,
                                       .network = net,
                                       .tags = "T1078"};
                const char *what;
                if (new_cc) {
                    fa.feature = "country", fa.value = gi.country, fa.score = 0.5;
                    what = "a new country";
                } else if (new_asn) {
                    fa.feature = "asn", fa.value = asn, fa.score = 0.4;
                    what = "a new autonomous system";
                } else {
                    fa.feature = "network", fa.value = net, fa.score = 0.3;
                    what = "a new network";
                }
                rc =
                    emit(m, ctx, ev, &fa, "first %s from %s%s%s%s, %s, in %u days of history",
                         x->how, net, where[0] ? " (" : "", where, where[0] ? ")" : "", what, days);
                if (rc < 0)
                    return rc;
            }
        }
    }
    bool fresh = false;
    if (net[0]) {
        const struct bl_seen_ent *ne = bl_seen_get(&a->nets, bl_hash(net, strlen(net)));
        fresh = ne && ne->first + 86400u > t && learned;
    }
    for (int i = 0; i < x->nclients; i++) {
        const char *cl = x->client[i];
        size_t cn = strlen(cl);
        bool had = a->clients.n > 0;
        int isnew =
            bl_seen_touch(&a->clients, bl_hash(cl, cn), t, bl_label(m->labels, cl, cn), NULL);
        if (isnew == 1 && had && learned) {
            struct fact_args fa = {.entity = a->t.id,
                                   .kind = BL_ACCOUNT,
                                   .detector = BL_DET_FIRST_SEEN,
                                   .feature = "client",
                                   .value = cl,
                                   .network = net[0] ? net : NULL,
                                   .tags = "T1078",
                                   .score = 0.3};
            if (!strncmp(cl, "app ", 4))
                fa.application = cl + 4;
            rc = emit(m, ctx, ev, &fa,
                      "first use of client \"%s\" (%u clients known) in %u days of history", cl,
                      a->clients.n - 1, days);
            if (rc < 0)
                return rc;
        }
    }
    const struct bl_account_conf *c = &cfg->account;
    if (learned && a->hours.total >= c->hour_min_events &&
        bl_hours_near(&a->hours, t, c->hour_width) == 0 && a->hour_fact != t / 3600u) {
        a->hour_fact = t / 3600u;
        char val[8];
        snprintf(val, sizeof val, "%02u", bl_hour(t));
        struct fact_args fa = time_fact(a, "hour", val, net, 0.4);
        rc = emit(m, ctx, ev, &fa,
                  "%s at %02u:00 UTC, an hour (+-%u h) never seen in %u events over %u days",
                  x->how, bl_hour(t), c->hour_width, a->hours.total, days);
        if (rc < 0)
            return rc;
    }
    if (learned && a->hours.total >= c->hour_min_events && days >= c->weekday_min_days &&
        bl_hours_weekday(&a->hours, t) == 0 && a->wday_fact != t / 86400u) {
        static const char *const wdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                             "Friday", "Saturday", "Sunday"};
        a->wday_fact = t / 86400u;
        const char *wd = wdays[bl_weekday(t) % 7];
        struct fact_args fa = time_fact(a, "weekday", wd, net, 0.3);
        rc = emit(m, ctx, ev, &fa,
                  "%s on a %s (UTC), a day of the week never seen in %u events over %u days",
                  x->how, wd, a->hours.total, days);
        if (rc < 0)
            return rc;
    }
    bl_hours_add(&a->hours, t);
    for (int f = 0; f < VOL__N; f++)
        if (x->vol[f] > 0 &&
            (rc = volume_add(m, ctx, ev, a, f, t, x->vol[f], net[0] ? net : NULL, fresh)) < 0)
            return rc;
    if (a->events < UINT32_MAX)
        a->events++;
    bl_table_touch(&m->tab, &a->t, t);
    a->t.dirty = true;
    return 0;
}

/* ---- forwarding, recipients, delegation --------------------------------- */

static int forwarding(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t,
                      struct str mailbox, struct str target, const char *how, const char *net)
{
    char id[ID_MAX], to[ID_MAX], dom[ID_MAX];
    size_t idn = lower_copy(id, sizeof id, mailbox);
    size_t ton = lower_copy(to, sizeof to, target);
    if (!idn || !ton)
        return 0;
    size_t dn = addr_domain(str_make(to, ton), dom, sizeof dom);
    struct acct *a = acct_get(m, id, idn, t, true);
    if (!a)
        return -ENOMEM;
    int isnew = bl_seen_touch(&a->fwd, bl_hash(to, ton), t, bl_label(m->labels, to, ton), NULL);
    a->t.dirty = true;
    if (isnew != 1 || domain_internal(m, dom, dn))
        return 0;
    if (t < a->first || (int64_t)(t - a->first) < m->cfg->learning_s)
        return 0;
    bool known = bl_seen_get(&m->org_domains, bl_hash(dom, dn)) != NULL;
    struct fact_args fa = {.entity = a->t.id,
                           .kind = BL_ACCOUNT,
                           .detector = BL_DET_FIRST_SEEN,
                           .feature = "forward-target",
                           .value = to,
                           .network = net,
                           .tags = "T1114.003",
                           .score = known ? 0.6 : 1.2};
    return emit(m, ctx, ev, &fa, "mail of %s forwarded to %s (%s), %s, in %u days of history", id,
                to, how,
                known ? "a new target in a domain the organisation writes to"
                      : "a domain nobody in the organisation writes to",
                history_days(a->first, t));
}

static bool rcpt_add(struct acct *a, uint32_t day, uint32_t h)
{
    if (a->rcpt_day != day) {
        a->rcpt_day = day;
        a->rcpt_n = 0;
        if (a->rcpt)
            memset(a->rcpt, 0, a->rcpt_cap * sizeof *a->rcpt);
    }
    h |= 1;
    if (a->rcpt_n >= RCPT_MAX)
        return true; /* beyond the set: count every recipient as new */
    if ((a->rcpt_n + 1) * 2 > a->rcpt_cap) {
        uint32_t cap = a->rcpt_cap ? a->rcpt_cap * 2 : 16;
        uint32_t *n = calloc(cap, sizeof *n);
        if (!n)
            return true;
        for (uint32_t i = 0; i < a->rcpt_cap; i++)
            if (a->rcpt[i]) {
                uint32_t j = a->rcpt[i] & (cap - 1);
                while (n[j])
                    j = (j + 1) & (cap - 1);
                n[j] = a->rcpt[i];
            }
        free(a->rcpt);
        a->rcpt = n;
        a->rcpt_cap = cap;
    }
    uint32_t j = h & (a->rcpt_cap - 1);
    while (a->rcpt[j]) {
        if (a->rcpt[j] == h)
            return false;
        j = (j + 1) & (a->rcpt_cap - 1);
    }
    a->rcpt[j] = h;
    a->rcpt_n++;
    return true;
}

/* A delivery to an external recipient: the organisation writes to the
 * domain; when the message was submitted by account a, a's distinct
 * recipients and the new-domain fact. */
static int external_write(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev,
                          uint32_t t, struct acct *a, const char *to, size_t ton, const char *dom,
                          size_t dn)
{
    uint64_t dh = bl_hash(dom, dn);
    struct bl_seen_ent prev;
    int isnew = bl_seen_touch(&m->org_domains, dh, t, bl_label(m->labels, dom, dn), &prev);
    m->org_dirty = true;
    if (!a)
        return 0;
    int rc = 0;
    if (rcpt_add(a, bl_day(t), (uint32_t)bl_hash(to, ton)))
        rc = volume_add(m, ctx, ev, a, VOL_RCPTS, t, 1, NULL, true);
    if (rc < 0)
        return rc;
    uint32_t dfirst = isnew == 1 ? t : prev.first;
    if (dfirst + NEW_DOMAIN_S < t || (int64_t)dfirst < (int64_t)m->org_first + m->cfg->learning_s)
        return 0;
    if (a->rdom_last == dh)
        return 0;
    a->rdom_last = dh;
    a->t.dirty = true;
    struct fact_args fa = {.entity = a->t.id,
                           .kind = BL_ACCOUNT,
                           .detector = BL_DET_FIRST_SEEN,
                           .feature = "recipient-domain",
                           .value = dom,
                           .tags = "T1048",
                           .score = 0.4};
    return emit(m, ctx, ev, &fa,
                "mail to %s, a domain nobody in the organisation had written to in %u days of "
                "history",
                dom, history_days(m->org_first, dfirst));
}

/* Account a reads (or is given) another's mailbox for the first time. */
static int delegation(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t,
                      struct acct *a, struct str owner, bool grant, const char *net)
{
    char o[ID_MAX];
    size_t on = lower_copy(o, sizeof o, owner);
    if (!on || !strcmp(o, a->t.id))
        return 0;
    int isnew = bl_seen_touch(&a->mailboxes, bl_hash(o, on), t, bl_label(m->labels, o, on), NULL);
    a->t.dirty = true;
    if (isnew != 1)
        return 0;
    int64_t hist = grant ? (int64_t)t - (int64_t)m->org_first : (int64_t)t - (int64_t)a->first;
    if (hist < m->cfg->learning_s)
        return 0;
    struct fact_args fa = {.entity = a->t.id,
                           .kind = BL_ACCOUNT,
                           .detector = BL_DET_FIRST_SEEN,
                           .feature = "mailbox",
                           .value = o,
                           .network = net,
                           .tags = "T1098.002,T1114.002",
                           .score = 0.5};
    if (grant)
        return emit(m, ctx, ev, &fa, "%s is given access to the mailbox of %s (%s)", a->t.id, o,
                    "Add-MailboxPermission");
    return emit(m, ctx, ev, &fa,
                "%s reads the mailbox of %s for the first time in %u days of history", a->t.id, o,
                history_days(a->first, t));
}

/* ---- the sources -------------------------------------------------------- */

static void act_init(struct act *x, const struct event *ev, const char *how)
{
    memset(x, 0, sizeof *x);
    x->user = ev->core[CORE_USER_NAME];
    struct str ip = ev->core[CORE_SOURCE_IP];
    x->has_addr = ip.n && bl_addr_parse(ip.p, ip.n, &x->addr);
    x->how = how;
}

static const char *source_net(const struct event *ev, char net[64])
{
    struct str ip = ev->core[CORE_SOURCE_IP];
    struct bl_addr a;
    if (!ip.n || !bl_addr_parse(ip.p, ip.n, &a))
        return NULL;
    bl_addr_net(&a, net);
    return net;
}

static int on_postfix(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    struct str action = ev->core[CORE_EVENT_ACTION];
    struct str qid = ev_native(ev, "queue_id");
    if (!qid.n || str_is(qid, "NOQUEUE"))
        return 0;
    uint64_t key = pend_key(ev, qid);
    if (str_is(action, "client")) {
        if (!ev->core[CORE_USER_NAME].n)
            return 0;
        struct act x;
        act_init(&x, ev, "submission");
        x.vol[VOL_SENT] = 1;
        struct acct *a;
        int rc = activity(m, ctx, ev, t, &x, &a);
        if (rc < 0 || !a)
            return rc;
        struct pend *p = pend_slot(&m->queue, key);
        if (p)
            *p = (struct pend){.key = key, .val = a->t.h, .t = t};
        return 0;
    }
    if (str_is(action, "removed")) {
        struct pend *p = pend_get(&m->queue, key, t);
        if (p)
            p->key = 0;
        return 0;
    }
    if (!str_is(action, "delivery"))
        return 0;
    struct str to = ev->core[CORE_EMAIL_TO_ADDRESS];
    char dom[ID_MAX], lto[ID_MAX];
    size_t ton = lower_copy(lto, sizeof lto, to);
    if (!ton)
        return 0;
    size_t dn = addr_domain(to, dom, sizeof dom);
    if (domain_internal(m, dom, dn))
        return 0;
    struct str orig = ev_native(ev, "orig_to");
    if (orig.n) {
        char odom[ID_MAX];
        size_t odn = addr_domain(orig, odom, sizeof odom);
        if (domain_internal(m, odom, odn))
            return forwarding(m, ctx, ev, t, orig, to, "Postfix delivery with orig_to", NULL);
    }
    struct pend *p = pend_get(&m->queue, key, t);
    struct acct *a = NULL;
    if (p) {
        a = (struct acct *)bl_table_get_hash(&m->tab, p->val);
        if (a)
            bl_table_touch(&m->tab, &a->t, t);
    }
    return external_write(m, ctx, ev, t, a, lto, ton, dom, dn);
}

static int on_dovecot(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    struct str action = ev->core[CORE_EVENT_ACTION];
    struct str outcome = ev->core[CORE_EVENT_OUTCOME];
    if (str_is(outcome, "failure") || !ev->core[CORE_USER_NAME].n)
        return 0;
    struct str session = ev_native(ev, "session");
    struct act x;
    struct acct *a;
    if (str_is(action, "login") || str_is(action, "proxy")) {
        act_init(&x, ev, "login");
        int rc = activity(m, ctx, ev, t, &x, &a);
        if (rc == 0 && session.n && x.has_addr) {
            uint64_t key = pend_key(ev, session);
            struct pend *p = pend_slot(&m->sess, key);
            if (p)
                *p = (struct pend){.key = key, .t = t, .addr = x.addr};
        }
        return rc;
    }
    if (str_is(action, "forward")) {
        char net[64];
        return forwarding(m, ctx, ev, t, ev->core[CORE_USER_NAME], ev->core[CORE_EMAIL_TO_ADDRESS],
                          "Sieve redirect", source_net(ev, net));
    }
    if (!str_is(action, "logout") && !str_is(action, "disconnect"))
        return 0;
    struct str service =
        ev->ls.service ? str_make(ev->ls.service, strlen(ev->ls.service)) : (struct str){"", 0};
    if (service.n >= 6 && !memcmp(service.p + service.n - 6, "-login", 6))
        return 0; /* a login process ending: not a session */
    act_init(&x, ev, "session");
    if (session.n) {
        uint64_t key = pend_key(ev, session);
        struct pend *p = pend_get(&m->sess, key, t);
        if (p) {
            x.addr = p->addr;
            x.has_addr = true;
            p->key = 0;
        }
    }
    double v;
    if (str_num(ev->core[CORE_DESTINATION_BYTES], &v))
        x.vol[VOL_BYTES] = v;
    else
        x.vol[VOL_BYTES] = ev_num(ev, "retr_bytes") + ev_num(ev, "top_bytes");
    x.vol[VOL_ITEMS] = ev_num(ev, "body_count") + ev_num(ev, "retr_count");
    return activity(m, ctx, ev, t, &x, &a);
}

static int on_sshd(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    if (!str_is(ev->core[CORE_EVENT_ACTION], "login") ||
        !str_is(ev->core[CORE_EVENT_OUTCOME], "success"))
        return 0;
    struct act x;
    act_init(&x, ev, "login");
    char client[CLIENT_MAX];
    struct str method = ev_native(ev, "method"), kt = ev_native(ev, "key_type"),
               fp = ev_native(ev, "fingerprint");
    if (method.n) {
        snprintf(client, sizeof client, "ssh %.*s%s%.*s%s%.*s", (int)method.n, method.p,
                 kt.n ? " " : "", (int)kt.n, kt.p, fp.n ? " " : "", (int)fp.n, fp.p);
        x.client[x.nclients++] = client;
    }
    struct acct *a;
    return activity(m, ctx, ev, t, &x, &a);
}

/* UserIds that are services, not people: the application module covers
 * them. */
static bool m365_principal(struct str u)
{
    if (!u.n || memchr(u.p, '\\', u.n))
        return true;
    return (u.n >= 17 && !strncasecmp(u.p, "ServicePrincipal_", 17)) ||
           (u.n >= 4 && !strncmp(u.p, "S-1-", 4)) || str_ieq(u, "app@sharepoint");
}

/* Call fn for each address in a parameter value: separators ';' ',' and
 * blanks, "smtp:" prefixes, brackets and quotes dropped; tokens without '@'
 * (Exchange recipient names: objects of the organisation) are left out. */
static int each_address(struct str v, int (*fn)(void *, struct str), void *o)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && strchr(";, \t\"'[]<>()", v.p[i]))
            i++;
        size_t s = i;
        while (i < v.n && !strchr(";, \t\"'[]<>()", v.p[i]))
            i++;
        struct str tok = str_make(v.p + s, i - s);
        if (tok.n > 5 && !strncasecmp(tok.p, "smtp:", 5))
            tok.p += 5, tok.n -= 5;
        const char *at = memchr(tok.p, '@', tok.n);
        if (at && at > tok.p && at < tok.p + tok.n - 1) {
            int rc = fn(o, tok);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

struct fwd_ctx {
    struct acct_mod *m;
    struct bl_ctx *ctx;
    const struct event *ev;
    uint32_t t;
    struct str mailbox;
    const char *how;
    const char *net;
};

static int fwd_one(void *o, struct str target)
{
    struct fwd_ctx *f = o;
    return forwarding(f->m, f->ctx, f->ev, f->t, f->mailbox, target, f->how, f->net);
}

static int on_m365(struct acct_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    struct str op = ev->core[CORE_EVENT_ACTION];
    struct str user = ev->core[CORE_USER_NAME];
    if (str_is(ev->core[CORE_EVENT_OUTCOME], "failure") || m365_principal(user))
        return 0;
    struct act x;
    act_init(&x, ev, str_is(op, "UserLoggedIn") ? "login" : "activity");
    char cl[3][CLIENT_MAX];
    struct str ua = ev_native(ev, "UserAgent");
    if (!ua.n)
        ua = ev_native(ev, "ExtendedProperties.UserAgent");
    if (client_norm("ua ", ua, cl[0], CLIENT_MAX))
        x.client[x.nclients++] = cl[0];
    if (client_norm("info ", ev_native(ev, "ClientInfoString"), cl[1], CLIENT_MAX))
        x.client[x.nclients++] = cl[1];
    struct str app = ev_native(ev, "ClientAppId");
    if (!app.n)
        app = ev_native(ev, "AppId");
    if (!app.n)
        app = ev_native(ev, "ApplicationId");
    if (app.n == 36) {
        memcpy(cl[2], "app ", 4);
        lower_copy(cl[2] + 4, CLIENT_MAX - 4, app);
        x.client[x.nclients++] = cl[2];
    }
    bool mia = str_is(op, "MailItemsAccessed");
    if (mia) {
        double items = ev_num(ev, "Folders.ItemCount");
        if (items <= 0)
            items = ev_num(ev, "OperationCount");
        x.vol[VOL_ITEMS] = items > 0 ? items : 1;
        x.how = "mailbox access";
    } else if (str_is(op, "Send") || str_is(op, "SendAs") || str_is(op, "SendOnBehalf")) {
        x.vol[VOL_SENT] = 1;
        x.how = "sending";
    }
    struct acct *a;
    int rc = activity(m, ctx, ev, t, &x, &a);
    if (rc < 0 || !a)
        return rc;
    char netbuf[64];
    const char *net = source_net(ev, netbuf);
    if (mia) {
        struct str owner = ev_native(ev, "MailboxOwnerUPN");
        return owner.n ? delegation(m, ctx, ev, t, a, owner, false, net) : 0;
    }
    struct fwd_ctx f = {m, ctx, ev, t, user, NULL, net};
    if (str_is(op, "New-InboxRule") || str_is(op, "Set-InboxRule")) {
        struct str mb = ev_native(ev, "Parameters.Mailbox");
        if (mb.n && memchr(mb.p, '@', mb.n))
            f.mailbox = mb;
        static const char *const keys[] = {"Parameters.ForwardTo", "Parameters.RedirectTo",
                                           "Parameters.ForwardAsAttachmentTo"};
        for (size_t i = 0; i < 3 && rc == 0; i++) {
            f.how = keys[i] + 11;
            char how[64];
            snprintf(how, sizeof how, "%.*s %s", (int)op.n, op.p, keys[i] + 11);
            f.how = how;
            rc = each_address(ev_native(ev, keys[i]), fwd_one, &f);
        }
        return rc;
    }
    if (str_is(op, "Set-Mailbox")) {
        struct str id = ev_native(ev, "Parameters.Identity");
        if (id.n && memchr(id.p, '@', id.n))
            f.mailbox = id;
        f.how = "Set-Mailbox ForwardingSmtpAddress";
        rc = each_address(ev_native(ev, "Parameters.ForwardingSmtpAddress"), fwd_one, &f);
        if (rc == 0) {
            f.how = "Set-Mailbox ForwardingAddress";
            rc = each_address(ev_native(ev, "Parameters.ForwardingAddress"), fwd_one, &f);
        }
        return rc;
    }
    if (str_is(op, "UpdateInboxRules")) {
        struct str acts = ev_native(ev, "OperationProperties.RuleActions");
        if (acts.n &&
            (memmem(acts.p, acts.n, "orward", 6) || memmem(acts.p, acts.n, "edirect", 7))) {
            f.how = "UpdateInboxRules";
            return each_address(acts, fwd_one, &f);
        }
        return 0;
    }
    if (str_is(op, "Add-MailboxPermission")) {
        struct str grantee = ev_native(ev, "Parameters.User");
        struct str owner = ev_native(ev, "Parameters.Identity");
        char gid[ID_MAX];
        size_t gn = lower_copy(gid, sizeof gid, grantee);
        if (!gn || !owner.n)
            return 0;
        struct acct *g = acct_get(m, gid, gn, t, true);
        return g ? delegation(m, ctx, ev, t, g, owner, true, net) : -ENOMEM;
    }
    return 0;
}

/* ---- the module interface ---------------------------------------------- */

static void *acct_create(const struct bl_config *c, struct bl_labels *labels)
{
    struct acct_mod *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = c;
    m->labels = labels;
    bl_table_init(&m->tab);
    bl_seen_init(&m->org_domains, ORG_DOMAINS);
    bl_seen_init(&m->internal, INTERNAL_MAX);
    if (c->ninternal_networks)
        m->internal_nets.v = calloc(c->ninternal_networks, sizeof *m->internal_nets.v);
    if (c->ninternal_networks && !m->internal_nets.v) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < c->ninternal_networks; i++)
        if (bl_cidr_parse(c->internal_networks[i], &m->internal_nets.v[m->internal_nets.n]))
            m->internal_nets.n++;
    return m;
}

static void acct_destroy(void *mv)
{
    struct acct_mod *m = mv;
    if (!m)
        return;
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos)))
        acct_free((struct acct *)e);
    bl_table_free(&m->tab);
    bl_seen_free(&m->org_domains);
    bl_seen_free(&m->internal);
    free(m->queue);
    free(m->sess);
    free(m->internal_nets.v);
    free(m);
}

static int acct_on_event(void *mv, struct bl_ctx *ctx, const struct event *ev)
{
    struct acct_mod *m = mv;
    uint32_t t = bl_time(ev->ts_ns);
    if (!t || !ev->format)
        return 0;
    const char *fmt = ev->format;
    int (*fn)(struct acct_mod *, struct bl_ctx *, const struct event *, uint32_t) = NULL;
    if (!strcmp(fmt, "postfix"))
        fn = on_postfix;
    else if (!strcmp(fmt, "dovecot"))
        fn = on_dovecot;
    else if (!strcmp(fmt, "sshd"))
        fn = on_sshd;
    else if (!strcmp(fmt, "m365"))
        fn = on_m365;
    if (!fn)
        return 0;
    if (!m->org_first || t < m->org_first) {
        m->org_first = t;
        m->org_dirty = true;
    }
    return fn(m, ctx, ev, t);
}

/* ---- persistence -------------------------------------------------------- */

static void acct_write(const struct acct_mod *m, const struct acct *a, struct buf *b);
static void acct_write_tent(const void *m, const struct bl_tent *e, struct buf *b)
{
    acct_write(m, (const struct acct *)e, b);
}

static void acct_write(const struct acct_mod *m, const struct acct *a, struct buf *b)
{
    bl_w_u64(b, ACCT_VERSION);
    bl_w_u64(b, a->first);
    bl_w_u64(b, a->t.last);
    bl_w_u64(b, a->events);
    const struct bl_seen *sets[] = {&a->nets,    &a->asns, &a->countries,
                                    &a->clients, &a->fwd,  &a->mailboxes};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        bl_seen_write(b, sets[i], m->labels);
    bl_hours_write(b, &a->hours);
    bl_w_u64(b, VOL__N);
    for (int v = 0; v < VOL__N; v++) {
        bl_series_write(b, &a->vol[v]);
        bl_w_u64(b, a->vol_day[v]);
        bl_w_u64(b, a->vol_level[v]);
    }
    bl_w_u64(b, a->hour_fact);
    bl_w_u64(b, a->rdom_last);
}

static void org_write(const struct acct_mod *m, struct buf *b)
{
    bl_w_u64(b, ORG_VERSION);
    bl_w_u64(b, m->org_first);
    bl_seen_write(b, &m->org_domains, m->labels);
    bl_seen_write(b, &m->internal, m->labels);
}

static int acct_save(void *mv, bool all,
                     int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                                size_t n),
                     void *o)
{
    struct acct_mod *m = mv;
    struct buf b;
    buf_init(&b);
    int rc = 0;
    if (m->org_first && (all || m->org_dirty)) {
        org_write(m, &b);
        rc = put(o, BL_ACCOUNT, ORG_ENTITY, b.data, b.len);
        m->org_dirty = false;
    }
    if (rc == 0)
        rc = bl_table_save(&m->tab, all, BL_ACCOUNT, acct_write_tent, m, put, o, &b);
    buf_free(&b);
    return rc;
}

static int org_load(struct acct_mod *m, const void *blob, size_t n)
{
    struct bl_r r;
    bl_r_init(&r, blob, n);
    if (bl_r_u64(&r) != ORG_VERSION)
        return -EINVAL;
    uint32_t first = bl_r_u32(&r);
    struct bl_seen dom, in;
    bl_seen_init(&dom, ORG_DOMAINS);
    bl_seen_init(&in, INTERNAL_MAX);
    bl_seen_read(&r, &dom, m->labels);
    bl_seen_read(&r, &in, m->labels);
    if (r.bad || r.p != r.end || !first) {
        bl_seen_free(&dom);
        bl_seen_free(&in);
        return -EINVAL;
    }
    bl_seen_free(&m->org_domains);
    bl_seen_free(&m->internal);
    m->org_domains = dom;
    m->internal = in;
    if (!m->org_first || first < m->org_first)
        m->org_first = first;
    return 0;
}

static int acct_load(void *mv, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct acct_mod *m = mv;
    if (kind != BL_ACCOUNT || !entity)
        return -EINVAL;
    if (!strcmp(entity, ORG_ENTITY))
        return org_load(m, blob, n);
    size_t idn = strlen(entity);
    if (!idn || idn >= ID_MAX)
        return -EINVAL;
    struct bl_r r;
    bl_r_init(&r, blob, n);
    if (bl_r_u64(&r) != ACCT_VERSION)
        return -EINVAL;
    struct acct *a = acct_new(m, entity, idn);
    if (!a)
        return -ENOMEM;
    a->first = bl_r_u32(&r);
    a->t.last = bl_r_u32(&r);
    a->events = bl_r_u32(&r);
    struct bl_seen *sets[] = {&a->nets,    &a->asns, &a->countries,
                              &a->clients, &a->fwd,  &a->mailboxes};
    for (size_t i = 0; i < sizeof sets / sizeof *sets && !r.bad; i++)
        bl_seen_read(&r, sets[i], m->labels);
    bl_hours_read(&r, &a->hours);
    if (bl_r_u64(&r) != VOL__N)
        r.bad = true;
    for (int v = 0; v < VOL__N && !r.bad; v++) {
        bl_series_read(&r, &a->vol[v]);
        a->vol_day[v] = bl_r_u32(&r);
        uint64_t lv = bl_r_u64(&r);
        if (lv > 2)
            r.bad = true;
        a->vol_level[v] = (uint8_t)lv;
    }
    a->hour_fact = bl_r_u32(&r);
    a->rdom_last = bl_r_u64(&r);
    if (r.bad || r.p != r.end || !a->first || a->t.last < a->first) {
        acct_free(a);
        return -EINVAL;
    }
    struct acct *old = (struct acct *)bl_table_get(&m->tab, entity, idn);
    if (old) {
        bl_table_remove(&m->tab, &old->t);
        acct_free(old);
    }
    uint32_t max = m->cfg->max_entities ? m->cfg->max_entities : 1;
    while (m->tab.n >= max && m->tab.oldest) {
        struct acct *ev = (struct acct *)m->tab.oldest;
        bl_table_remove(&m->tab, &ev->t);
        acct_free(ev);
        m->st.evicted++;
    }
    if (bl_table_insert(&m->tab, &a->t) < 0) {
        acct_free(a);
        return -ENOMEM;
    }
    if (!m->org_first || a->first < m->org_first)
        m->org_first = a->first;
    return 0;
}

/* ---- show --------------------------------------------------------------- */

static void put_time(struct buf *b, const char *name, uint32_t t)
{
    buf_printf(b, "\"%s\":", name);
    json_put_time(b, (int64_t)t * NS_PER_SEC);
}

static void put_seen(struct buf *b, const char *name, const struct bl_seen *s,
                     const struct bl_labels *l)
{
    buf_printf(b, ",\"%s\":[", name);
    size_t n;
    struct bl_seen_ent *v = bl_seen_sorted(s, &n);
    for (size_t i = 0; i < n; i++) {
        const char *lab = bl_label_text(l, v[i].label);
        buf_puts(b, i ? ",{\"value\":" : "{\"value\":");
        if (*lab)
            json_put_string(b, lab, strlen(lab));
        else
            buf_printf(b, "\"#%016llx\"", (unsigned long long)v[i].h);
        buf_putc(b, ',');
        put_time(b, "first", v[i].first);
        buf_putc(b, ',');
        put_time(b, "last", v[i].last);
        buf_printf(b, ",\"count\":%u}", v[i].count);
    }
    buf_putc(b, ']');
    free(v);
}

static int acct_show(void *mv, enum bl_kind kind, const char *entity, struct buf *json)
{
    struct acct_mod *m = mv;
    if (kind != BL_ACCOUNT || !entity)
        return 0;
    if (!strcmp(entity, ORG_ENTITY)) {
        if (!m->org_first)
            return 0;
        put_time(json, "history_start", m->org_first);
        buf_printf(json, ",\"recipient_domains_known\":%u", m->org_domains.n);
        put_seen(json, "learned_internal_domains", &m->internal, m->labels);
        return 1;
    }
    char id[ID_MAX];
    size_t idn = lower_copy(id, sizeof id, str_make(entity, strlen(entity)));
    struct acct *a = idn ? acct_get(m, id, idn, 0, false) : NULL;
    if (!a)
        return 0;
    put_time(json, "history_start", a->first);
    buf_putc(json, ',');
    put_time(json, "last_seen", a->t.last);
    buf_printf(json, ",\"history_days\":%u,\"events\":%u", history_days(a->first, a->t.last),
               a->events);
    put_seen(json, "networks", &a->nets, m->labels);
    put_seen(json, "asns", &a->asns, m->labels);
    put_seen(json, "countries", &a->countries, m->labels);
    put_seen(json, "clients", &a->clients, m->labels);
    put_seen(json, "forwarding_targets", &a->fwd, m->labels);
    put_seen(json, "other_mailboxes", &a->mailboxes, m->labels);
    /* hours: per hour of day (UTC), and those holding activity */
    uint32_t hod[24] = {0};
    for (unsigned i = 0; i < 168; i++)
        hod[i % 24] += a->hours.c[i];
    buf_printf(json, ",\"hours\":{\"events\":%u,\"by_hour_utc\":[", a->hours.total);
    for (int h = 0; h < 24; h++)
        buf_printf(json, "%s%u", h ? "," : "", hod[h]);
    buf_puts(json, "],\"by_weekday\":[");
    for (unsigned wd = 0; wd < 7; wd++) {
        uint32_t sum = 0;
        for (unsigned i = 0; i < 24; i++)
            sum += a->hours.c[wd * 24 + i];
        buf_printf(json, "%s%u", wd ? "," : "", sum);
    }
    buf_puts(json, "],\"active_hours_utc\":[");
    bool firsth = true;
    for (int h = 0; h < 24; h++)
        if (hod[h] && (uint64_t)hod[h] * 100 >= a->hours.total) {
            buf_printf(json, "%s%d", firsth ? "" : ",", h);
            firsth = false;
        }
    buf_puts(json, "]},\"volumes_per_day\":{");
    bool firstv = true;
    uint32_t at = a->t.last + 86400u;
    for (int v = 0; v < VOL__N; v++) {
        double p50 = 0, p95 = 0;
        uint32_t n = bl_series_quantile(&a->vol[v], at, 0.5, &p50);
        if (!n)
            continue;
        bl_series_quantile(&a->vol[v], at, 0.95, &p95);
        buf_printf(json, "%s\"%s\":{\"days\":%u,\"p50\":%.0f,\"p95\":%.0f}", firstv ? "" : ",",
                   vol_def[v].measure, n, p50, p95);
        firstv = false;
    }
    buf_putc(json, '}');
    return 1;
}

/* ---- aging and statistics ---------------------------------------------- */

static void acct_age(void *mv, uint32_t before)
{
    struct acct_mod *m = mv;
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos))) {
        struct acct *a = (struct acct *)e;
        if (a->t.last < before) {
            bl_table_remove_at(&m->tab, &pos);
            acct_free(a);
            m->st.aged++;
            continue;
        }
        struct bl_seen *sets[] = {&a->nets,    &a->asns, &a->countries,
                                  &a->clients, &a->fwd,  &a->mailboxes};
        for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
            uint32_t n0 = sets[i]->n;
            bl_seen_age(sets[i], before);
            if (sets[i]->n != n0)
                a->t.dirty = true;
        }
    }
    uint32_t n0 = m->org_domains.n + m->internal.n;
    bl_seen_age(&m->org_domains, before);
    bl_seen_age(&m->internal, before);
    if (m->org_domains.n + m->internal.n != n0)
        m->org_dirty = true;
}

static void acct_stats(void *mv, struct bl_module_stats *st)
{
    struct acct_mod *m = mv;
    *st = m->st;
    st->entities = m->tab.n;
    uint64_t bytes = sizeof *m + bl_table_bytes(&m->tab) + bl_seen_bytes(&m->org_domains) +
                     bl_seen_bytes(&m->internal);
    struct pend *tabs[] = {m->queue, m->sess};
    for (size_t i = 0; i < 2; i++)
        if (tabs[i])
            bytes += (1u << PEND_BITS) * sizeof(struct pend) + ALLOC_OVERHEAD;
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos)))
        bytes += acct_bytes((const struct acct *)e);
    st->bytes = bytes;
}

const struct bl_module_ops bl_account_module = {
    .name = "account",
    .create = acct_create,
    .destroy = acct_destroy,
    .on_event = acct_on_event,
    .save = acct_save,
    .load = acct_load,
    .show = acct_show,
    .age = acct_age,
    .stats = acct_stats,
};
