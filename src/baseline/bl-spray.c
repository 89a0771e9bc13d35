/*
 * bl-spray.c - the spraying module: slow password spraying, one source
 * trying many accounts a few times each over days, and the login that
 * follows it (docs/baselines-hosts.md).
 *
 * Input: authentication failures (Dovecot auth-failure and login-failed,
 * Postfix SASL auth-failure with a sasl_username, sshd login-failed and
 * invalid-user, Microsoft 365 UserLoginFailed) and successes (Dovecot
 * login, sshd login, Postfix client with sasl_username, M365
 * UserLoggedIn), by source address and account (user.name lower-cased).
 *
 * One attempt is counted once: Dovecot logs a failed password twice (the
 * auth process, then the login process with "N attempts"), sshd announces
 * an unknown user before its "Failed password"; events of the same
 * session (Dovecot's session id, sshd's host and pid) are merged.
 *
 * Per source the profile keeps the accounts it tried (a 64-bit hash and a
 * label each, at most 512, the least recently seen go first): the current
 * episode's first and last failure, attempts, the most attempts in one
 * clock hour, the last successful login from there. An episode ends after
 * `window` without failures. Sources in the same /24 (/48) network that
 * are not internal are also summed into a profile of the network, so that
 * a spray spread over many addresses adds up.
 *
 * The verdict, at every failure: over the window, the accounts that only
 * failed from the source are at least min_accounts, outnumber those that
 * logged in from it (offices behind one address, webmail front-ends: many
 * users, some mistyping), and were tried at most max_attempts_per_account
 * times in any hour on average (breadth, not depth: hammering a few
 * accounts is brute force, which Sigma correlations report). A network
 * needs two addresses or more. Then a fact on the source (1.5), once per
 * source (or network) and day; a later successful login from a source
 * that sprayed within the window is a fact on the account (1.0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-index.h"
#include "baseline/bl-module.h"
#include "util/timeconv.h"

#define SPRAY_BLOB_VERSION 1
#define ACCOUNTS_MAX       512
#define ADDRS_MAX          16
#define LOGINS_MAX         8
#define SHOWN_MAX          20
#define USER_MAX           256
#define MALLOC_OVERHEAD    16

struct tried {
    uint64_t h;
    uint64_t sess;             /* session of the last failure (0: none) */
    uint32_t label;            /* the account's name (bl_labels) */
    uint32_t first, last_fail; /* the episode (last_fail 0: never failed) */
    uint32_t succ;             /* last successful login from here, or 0 */
    uint32_t attempts;
    uint32_t hour; /* hour+1 that hour_n counts */
    uint16_t hour_n, peak;
    uint16_t sess_n;
    uint8_t announced; /* sshd said "Invalid user" for sess */
};

struct login_seen {
    uint64_t h;
    uint32_t day;
};

struct source {
    char *id;
    uint64_t h;
    bool net, dirty;
    uint32_t first, last, newest_fail;
    struct tried *a;
    uint32_t na, capa;
    uint64_t addrs[ADDRS_MAX]; /* networks: the addresses that failed */
    uint8_t naddrs;
    uint8_t nlogins;
    struct login_seen logins[LOGINS_MAX]; /* login facts already given */
    uint32_t fact_day;                    /* day+1 of the last spraying fact */
    uint32_t spray_first, spray_last;     /* when the verdict held */
};

struct spray_mod {
    const struct bl_config *cfg;
    struct bl_labels *labels;
    struct bl_cidrs internal;
    struct source **src;
    uint32_t n, cap;
    struct bl_idx idx;
    uint64_t facts, aged, evicted;
};

enum act {
    ACT_NONE,
    ACT_FAIL,           /* one attempt */
    ACT_FAIL_SUMMARY,   /* a session's total so far (Dovecot "N attempts") */
    ACT_ANNOUNCE,       /* sshd "Invalid user": one attempt, its failure follows */
    ACT_FAIL_ANNOUNCED, /* sshd failure: merged with its announcement */
    ACT_SUCCESS,
};

/* ---- helpers --------------------------------------------------------------- */

static bool is(const char *s, const char *lit)
{
    return s && !strcmp(s, lit);
}

static bool str_is(struct str s, const char *lit)
{
    return s.p && str_eq(s, lit);
}

static uint64_t field_u64(const struct event *ev, const char *key, uint64_t dflt)
{
    const struct field *f = event_get(ev, key);
    if (!f || !f->val.n)
        return dflt;
    uint64_t v = 0;
    for (size_t i = 0; i < f->val.n; i++) {
        if (f->val.p[i] < '0' || f->val.p[i] > '9')
            return dflt;
        v = v * 10 + (uint64_t)(f->val.p[i] - '0');
        if (v > 1000000)
            return 1000000;
    }
    return v;
}

static uint64_t field_hash(const struct event *ev, const char *key)
{
    const struct field *f = event_get(ev, key);
    return f && f->val.n ? bl_hash(f->val.p, f->val.n) : 0;
}

/* What an event says about authentication, and its session. */
static enum act classify(const struct event *ev, uint64_t *sess, uint32_t *n)
{
    const char *prod = ev->ls.product;
    struct str act = ev->core[CORE_EVENT_ACTION];
    bool ok = str_is(ev->core[CORE_EVENT_OUTCOME], "success");
    *sess = 0;
    *n = 1;
    if (!prod || !act.n)
        return ACT_NONE;
    if (is(prod, "dovecot")) {
        *sess = field_hash(ev, "session");
        if (str_is(act, "auth-failure"))
            return ACT_FAIL;
        if (str_is(act, "login-failed")) {
            uint64_t k = field_u64(ev, "attempts", 1);
            *n = (uint32_t)(k ? k : 1);
            return ACT_FAIL_SUMMARY;
        }
        if (str_is(act, "login") && ok)
            return ACT_SUCCESS;
        return ACT_NONE;
    }
    if (is(prod, "postfix")) {
        if (str_is(act, "auth-failure"))
            return ACT_FAIL;
        if (str_is(act, "client") && ev->core[CORE_USER_NAME].n)
            return ACT_SUCCESS;
        return ACT_NONE;
    }
    if (is(ev->ls.service, "sshd")) {
        struct str host = ev->core[CORE_HOST_NAME];
        const struct field *pid = event_get(ev, "pid");
        if (pid && pid->val.n) {
            char k[160];
            int kn = snprintf(k, sizeof k, "%.*s/%.*s", (int)(host.n > 100 ? 100 : host.n),
                              host.p ? host.p : "", (int)(pid->val.n > 20 ? 20 : pid->val.n),
                              pid->val.p);
            *sess = bl_hash(k, (size_t)kn);
        }
        if (str_is(act, "login-failed"))
            return ACT_FAIL_ANNOUNCED;
        if (str_is(act, "invalid-user"))
            return ACT_ANNOUNCE;
        if (str_is(act, "login") && ok)
            return ACT_SUCCESS;
        return ACT_NONE;
    }
    if (is(prod, "m365")) {
        if (str_is(act, "UserLoginFailed"))
            return ACT_FAIL;
        if (str_is(act, "UserLoggedIn"))
            return ACT_SUCCESS;
    }
    return ACT_NONE;
}

static void fmt_span(uint32_t s, char out[32])
{
    if (s < 2 * 3600)
        snprintf(out, 32, "%u min", (s + 30) / 60);
    else if (s < 48 * 3600)
        snprintf(out, 32, "%u h", (s + 1800) / 3600);
    else
        snprintf(out, 32, "%u days", (s + 43200) / 86400);
}

static int64_t window_s(const struct spray_mod *m)
{
    return m->cfg->spraying.window_s > 0 ? m->cfg->spraying.window_s : 7 * 86400;
}

/* ---- sources --------------------------------------------------------------- */

static struct source *source_new(const char *id, size_t n, bool net)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = malloc(n + 1);
    if (!s->id) {
        free(s);
        return NULL;
    }
    memcpy(s->id, id, n);
    s->id[n] = '\0';
    s->h = bl_hash(id, n);
    s->net = net;
    return s;
}

static void source_free(struct source *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->a);
    free(s);
}

static void source_remove(struct spray_mod *m, uint32_t i)
{
    struct source *s = m->src[i];
    bl_idx_del(&m->idx, s->h);
    source_free(s);
    uint32_t last = --m->n;
    if (i != last) {
        m->src[i] = m->src[last];
        bl_idx_put(&m->idx, m->src[i]->h, i);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sources_make_room(struct spray_mod *m)
{
    uint32_t limit = m->cfg->spraying.max_sources ? m->cfg->spraying.max_sources : 100000;
    if (m->n < limit)
        return;
    uint32_t *v = malloc(m->n * sizeof *v);
    if (v) {
        for (uint32_t i = 0; i < m->n; i++)
            v[i] = m->src[i]->last;
        qsort(v, m->n, sizeof *v, cmp_u32);
        uint32_t thr = v[m->n / 16] + (m->n / 16 == 0);
        free(v);
        for (uint32_t i = m->n; i-- > 0 && m->n >= limit;)
            if (m->src[i]->last < thr) {
                source_remove(m, i);
                m->evicted++;
            }
    }
    while (m->n >= limit) {
        source_remove(m, 0);
        m->evicted++;
    }
}

static int source_insert(struct spray_mod *m, struct source *s)
{
    sources_make_room(m);
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        struct source **ns = realloc(m->src, cap * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        m->src = ns;
        m->cap = cap;
    }
    if (bl_idx_put(&m->idx, s->h, m->n) < 0)
        return -ENOMEM;
    m->src[m->n++] = s;
    return 0;
}

static struct source *source_find(struct spray_mod *m, const char *id, bool net, bool create)
{
    size_t n = strlen(id);
    uint32_t i = bl_idx_get(&m->idx, bl_hash(id, n));
    if (i != BL_IDX_NONE)
        return strcmp(m->src[i]->id, id) ? NULL : m->src[i];
    if (!create)
        return NULL;
    struct source *s = source_new(id, n, net);
    if (!s)
        return NULL;
    if (source_insert(m, s) < 0) {
        source_free(s);
        return NULL;
    }
    return s;
}

static struct tried *tried_find(struct source *s, uint64_t h)
{
    for (uint32_t i = 0; i < s->na; i++)
        if (s->a[i].h == h)
            return &s->a[i];
    return NULL;
}

static uint32_t tried_seen(const struct tried *e)
{
    return e->last_fail > e->succ ? e->last_fail : e->succ;
}

static struct tried *tried_add(struct source *s, uint64_t h, uint32_t label)
{
    if (s->na >= ACCOUNTS_MAX) { /* forget the least recently seen */
        uint32_t old = 0;
        for (uint32_t i = 1; i < s->na; i++)
            if (tried_seen(&s->a[i]) < tried_seen(&s->a[old]))
                old = i;
        memmove(&s->a[old], &s->a[old + 1], (s->na - old - 1) * sizeof *s->a);
        s->na--;
    }
    if (s->na == s->capa) {
        uint32_t cap = s->capa ? s->capa * 2 : 4;
        struct tried *na = realloc(s->a, cap * sizeof *na);
        if (!na)
            return NULL;
        s->a = na;
        s->capa = cap;
    }
    struct tried *e = &s->a[s->na++];
    memset(e, 0, sizeof *e);
    e->h = h;
    e->label = label;
    return e;
}

/* ---- the verdict ------------------------------------------------------------ */

struct verdict {
    uint32_t accounts;  /* only failed, within the window */
    uint32_t succeeded; /* logged in from the source within the window */
    uint64_t attempts, peaks;
    uint32_t first;
    bool holds;
};

static void verdict(const struct spray_mod *m, const struct source *s, struct verdict *v)
{
    memset(v, 0, sizeof *v);
    int64_t w = window_s(m);
    int64_t from = (int64_t)s->newest_fail - w;
    v->first = s->newest_fail;
    for (uint32_t i = 0; i < s->na; i++) {
        const struct tried *e = &s->a[i];
        if (e->succ && (int64_t)e->succ >= from) {
            v->succeeded++;
            continue;
        }
        if (!e->last_fail || (int64_t)e->last_fail < from)
            continue;
        v->accounts++;
        v->attempts += e->attempts;
        v->peaks += e->peak;
        if (e->first < v->first)
            v->first = e->first;
    }
    const struct bl_spray_conf *c = &m->cfg->spraying;
    uint32_t min_accounts = c->min_accounts ? c->min_accounts : 10;
    uint32_t max_per = c->max_attempts_per_account ? c->max_attempts_per_account : 3;
    v->holds = v->accounts >= min_accounts && v->accounts > v->succeeded &&
               v->peaks <= (uint64_t)max_per * v->accounts && (!s->net || s->naddrs >= 2);
}

/* "tried 24 accounts over 4 days, 1.2 attempts each" */
static void verdict_text(const struct source *s, const struct verdict *v, char *out, size_t n)
{
    char span[32];
    fmt_span(s->newest_fail > v->first ? s->newest_fail - v->first : 0, span);
    double each = v->accounts ? (double)v->attempts / v->accounts : 0;
    snprintf(out, n, "tried %u accounts over %s, %.1f attempts each", v->accounts, span, each);
}

/* ---- events ------------------------------------------------------------------ */

static uint32_t attempts_of(struct tried *e, enum act a, uint64_t sess, uint32_t n)
{
    bool same = sess && e->sess == sess;
    if (!same) {
        e->sess = sess;
        e->sess_n = 0;
        e->announced = 0;
    }
    uint32_t add = 0;
    switch (a) {
    case ACT_FAIL:
        add = 1;
        break;
    case ACT_ANNOUNCE:
        add = 1;
        e->announced = 1;
        break;
    case ACT_FAIL_ANNOUNCED:
        add = same && e->announced ? 0 : 1;
        e->announced = 0;
        break;
    case ACT_FAIL_SUMMARY:
        add = n > e->sess_n ? n - e->sess_n : 0;
        break;
    default:
        break;
    }
    uint32_t tot = (uint32_t)e->sess_n + add;
    e->sess_n = (uint16_t)(tot > UINT16_MAX ? UINT16_MAX : tot);
    return add;
}

static int emit_spray(struct spray_mod *m, struct bl_ctx *ctx, const struct source *s,
                      const struct verdict *v, const char *addr, const char *net,
                      const struct event *ev)
{
    char what[160], text[320], value[32];
    verdict_text(s, v, what, sizeof what);
    if (s->net)
        snprintf(text, sizeof text, "%s, from %u addresses of %s (%s among them)", what, s->naddrs,
                 s->id, addr);
    else
        snprintf(text, sizeof text, "%s, from %s", what, s->id);
    snprintf(value, sizeof value, "%u", v->accounts);
    struct bl_fact f = {
        .kind = BL_SOURCE,
        .entity = addr,
        .detector = BL_DET_SPRAYING,
        .feature = "accounts-tried",
        .value = value,
        .network = net,
        .score = 1.5,
        .text = text,
        .tags = "T1110.003",
        .ev = ev,
    };
    m->facts++;
    return bl_emit(ctx, &f);
}

static int on_failure(struct spray_mod *m, struct bl_ctx *ctx, struct source *s, uint64_t uh,
                      uint32_t label, enum act a, uint64_t sess, uint32_t n, uint32_t t,
                      const char *addr, const char *net, const struct event *ev)
{
    if (s->net) {
        uint64_t ah = bl_hash_str(addr);
        bool known = false;
        for (unsigned i = 0; i < s->naddrs; i++)
            known |= s->addrs[i] == ah;
        if (!known && s->naddrs < ADDRS_MAX)
            s->addrs[s->naddrs++] = ah;
    }
    struct tried *e = tried_find(s, uh);
    if (!e && !(e = tried_add(s, uh, label)))
        return -ENOMEM;
    if (e->last_fail && (int64_t)t > (int64_t)e->last_fail + window_s(m)) {
        e->attempts = 0; /* a new episode */
        e->peak = e->hour_n = 0;
        e->hour = 0;
        e->first = 0;
    }
    uint32_t add = attempts_of(e, a, sess, n);
    e->attempts = e->attempts > UINT32_MAX - add ? UINT32_MAX : e->attempts + add;
    uint32_t hour = t / 3600 + 1;
    if (e->hour != hour) {
        e->hour = hour;
        e->hour_n = 0;
    }
    uint32_t hn = e->hour_n + add;
    e->hour_n = (uint16_t)(hn > UINT16_MAX ? UINT16_MAX : hn);
    if (e->hour_n > e->peak)
        e->peak = e->hour_n;
    if (!e->first || t < e->first)
        e->first = t;
    if (t > e->last_fail)
        e->last_fail = t;
    if (!e->label)
        e->label = label;
    if (t > s->newest_fail)
        s->newest_fail = t;
    s->dirty = true;

    struct verdict v;
    verdict(m, s, &v);
    if (!v.holds)
        return 0;
    if (!s->spray_first || t < s->spray_first)
        s->spray_first = t;
    if (t > s->spray_last)
        s->spray_last = t;
    uint32_t day = bl_day(t) + 1;
    if (day <= s->fact_day)
        return 0;
    s->fact_day = day;
    return emit_spray(m, ctx, s, &v, addr, net, ev);
}

/* A successful login: remembered on sources that failed before; a fact on
 * the account when the source sprayed within the window. */
static int on_success(struct spray_mod *m, struct bl_ctx *ctx, struct source *s, uint64_t uh,
                      uint32_t label, const char *user, uint32_t t, const char *addr,
                      const char *net, const struct event *ev)
{
    struct tried *e = tried_find(s, uh);
    if (!e && !(e = tried_add(s, uh, label)))
        return -ENOMEM;
    if (t > e->succ)
        e->succ = t;
    s->dirty = true;
    if (!s->spray_first || t < s->spray_first || (int64_t)t > (int64_t)s->spray_last + window_s(m))
        return 0;
    uint32_t day = bl_day(t) + 1;
    for (unsigned i = 0; i < s->nlogins; i++)
        if (s->logins[i].h == uh && s->logins[i].day == day)
            return 0;
    if (s->nlogins == LOGINS_MAX)
        memmove(s->logins, s->logins + 1, (LOGINS_MAX - 1) * sizeof *s->logins), s->nlogins--;
    s->logins[s->nlogins++] = (struct login_seen){uh, day};
    /* The numbers of the spray, as they stood (the login is excluded). */
    struct verdict v;
    verdict(m, s, &v);
    char what[160], text[400];
    verdict_text(s, &v, what, sizeof what);
    if (s->net)
        snprintf(text, sizeof text, "logged in from %s, in %s, whose addresses %s (%u addresses)",
                 addr, s->id, what, s->naddrs);
    else
        snprintf(text, sizeof text, "logged in from %s, a source that %s", addr, what);
    struct bl_fact f = {
        .kind = BL_ACCOUNT,
        .entity = user,
        .detector = BL_DET_SPRAYING,
        .feature = "login-after-spraying",
        .value = addr,
        .network = net,
        .score = 1.0,
        .text = text,
        .tags = "T1110.003,T1078",
        .ev = ev,
    };
    m->facts++;
    return bl_emit(ctx, &f);
}

static int spray_on_event(void *mp, struct bl_ctx *ctx, const struct event *ev)
{
    struct spray_mod *m = mp;
    uint64_t sess;
    uint32_t n;
    enum act a = classify(ev, &sess, &n);
    if (a == ACT_NONE)
        return 0;
    uint32_t t = bl_time(ev->ts_ns);
    struct str ip = ev->core[CORE_SOURCE_IP], user = ev->core[CORE_USER_NAME];
    struct bl_addr sa;
    if (!t || !ip.n || !user.n || user.n > USER_MAX || !bl_addr_parse(ip.p, ip.n, &sa))
        return 0;
    char uname[USER_MAX + 1], addr[64], net[64];
    for (size_t i = 0; i < user.n; i++) {
        char c = user.p[i];
        uname[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    uname[user.n] = '\0';
    uint64_t uh = bl_hash(uname, user.n);
    uint32_t label = bl_label(m->labels, uname, user.n);
    bl_addr_text(&sa, addr);
    bl_addr_net(&sa, net);
    bool pooled = !bl_addr_is_private(&sa) && !bl_cidrs_match(&m->internal, &sa);

    int rc = 0;
    if (a == ACT_SUCCESS) {
        struct source *s = source_find(m, addr, false, false);
        if (s) {
            if (t > s->last)
                s->last = t;
            rc = on_success(m, ctx, s, uh, label, uname, t, addr, net, ev);
        }
        struct source *ns = pooled ? source_find(m, net, true, false) : NULL;
        if (rc == 0 && ns) {
            if (t > ns->last)
                ns->last = t;
            /* Said once: the address's own fact comes first. */
            bool told = s && s->spray_first && t >= s->spray_first &&
                        (int64_t)t <= (int64_t)s->spray_last + window_s(m);
            if (told) {
                struct tried *e = tried_find(ns, uh);
                if (!e && !(e = tried_add(ns, uh, label)))
                    return -ENOMEM;
                if (t > e->succ)
                    e->succ = t;
                ns->dirty = true;
            } else {
                rc = on_success(m, ctx, ns, uh, label, uname, t, addr, net, ev);
            }
        }
        return rc;
    }
    struct source *s = source_find(m, addr, false, true);
    if (!s)
        return -ENOMEM;
    if (!s->first || t < s->first)
        s->first = t;
    if (t > s->last)
        s->last = t;
    rc = on_failure(m, ctx, s, uh, label, a, sess, n, t, addr, net, ev);
    if (rc == 0 && pooled) {
        struct source *ns = source_find(m, net, true, true);
        if (!ns)
            return -ENOMEM;
        if (!ns->first || t < ns->first)
            ns->first = t;
        if (t > ns->last)
            ns->last = t;
        rc = on_failure(m, ctx, ns, uh, label, a, sess, n, t, addr, net, ev);
    }
    return rc;
}

/* ---- the module ---------------------------------------------------------------- */

static void *spray_create(const struct bl_config *c, struct bl_labels *labels)
{
    struct spray_mod *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = c;
    m->labels = labels;
    bl_idx_init(&m->idx);
    size_t n = c->ninternal_networks;
    m->internal.v = n ? calloc(n, sizeof *m->internal.v) : NULL;
    for (size_t i = 0; m->internal.v && i < n; i++)
        if (c->internal_networks[i] &&
            bl_cidr_parse(c->internal_networks[i], &m->internal.v[m->internal.n]))
            m->internal.n++;
    return m;
}

static void spray_destroy(void *mp)
{
    struct spray_mod *m = mp;
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n; i++)
        source_free(m->src[i]);
    free(m->src);
    bl_idx_free(&m->idx);
    free(m->internal.v);
    free(m);
}

/* Blob (version 1), LEB128 varints and length-prefixed strings:
 *   version, net, first, last, newest_fail, fact_day, spray_first,
 *   spray_last, naddrs + address hashes, nlogins + (account hash, day),
 *   naccounts, then per account: hash, name, session, first, last_fail,
 *   succ, attempts, hour, hour_n, peak, sess_n, announced. */
static void source_write(const struct spray_mod *m, const struct source *s, struct buf *b)
{
    bl_w_u64(b, SPRAY_BLOB_VERSION);
    bl_w_u64(b, s->net);
    bl_w_u64(b, s->first);
    bl_w_u64(b, s->last);
    bl_w_u64(b, s->newest_fail);
    bl_w_u64(b, s->fact_day);
    bl_w_u64(b, s->spray_first);
    bl_w_u64(b, s->spray_last);
    bl_w_u64(b, s->naddrs);
    for (unsigned i = 0; i < s->naddrs; i++)
        bl_w_u64(b, s->addrs[i]);
    bl_w_u64(b, s->nlogins);
    for (unsigned i = 0; i < s->nlogins; i++) {
        bl_w_u64(b, s->logins[i].h);
        bl_w_u64(b, s->logins[i].day);
    }
    bl_w_u64(b, s->na);
    for (uint32_t i = 0; i < s->na; i++) {
        const struct tried *e = &s->a[i];
        bl_w_u64(b, e->h);
        bl_w_str(b, bl_label_text(m->labels, e->label));
        bl_w_u64(b, e->sess);
        bl_w_u64(b, e->first);
        bl_w_u64(b, e->last_fail);
        bl_w_u64(b, e->succ);
        bl_w_u64(b, e->attempts);
        bl_w_u64(b, e->hour);
        bl_w_u64(b, e->hour_n);
        bl_w_u64(b, e->peak);
        bl_w_u64(b, e->sess_n);
        bl_w_u64(b, e->announced);
    }
}

static int spray_save(void *mp, bool all,
                      int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                                 size_t n),
                      void *o)
{
    struct spray_mod *m = mp;
    struct buf b;
    buf_init(&b);
    int rc = 0;
    for (uint32_t i = 0; i < m->n && rc == 0; i++) {
        struct source *s = m->src[i];
        if (!all && !s->dirty)
            continue;
        buf_clear(&b);
        source_write(m, s, &b);
        rc = put(o, BL_SOURCE, s->id, b.data, b.len);
        if (rc == 0)
            s->dirty = false;
    }
    buf_free(&b);
    return rc;
}

static uint32_t r32(struct bl_r *r, uint32_t max)
{
    uint64_t v = bl_r_u64(r);
    if (v > max)
        r->bad = true;
    return (uint32_t)(v > max ? 0 : v);
}

static int spray_load(void *mp, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct spray_mod *m = mp;
    if (kind != BL_SOURCE || !entity || !entity[0])
        return -EINVAL;
    bool net = strchr(entity, '/') != NULL;
    struct bl_addr a;
    struct bl_cidr c;
    if (net ? !bl_cidr_parse(entity, &c) : !bl_addr_parse(entity, strlen(entity), &a))
        return -EINVAL;
    struct bl_r r;
    bl_r_init(&r, blob, n);
    if (bl_r_u64(&r) != SPRAY_BLOB_VERSION || r.bad)
        return -EINVAL;
    if ((bl_r_u64(&r) != 0) != net)
        return -EINVAL;
    struct source *s = source_new(entity, strlen(entity), net);
    if (!s)
        return -ENOMEM;
    s->first = r32(&r, UINT32_MAX);
    s->last = r32(&r, UINT32_MAX);
    s->newest_fail = r32(&r, UINT32_MAX);
    s->fact_day = r32(&r, UINT32_MAX);
    s->spray_first = r32(&r, UINT32_MAX);
    s->spray_last = r32(&r, UINT32_MAX);
    s->naddrs = (uint8_t)r32(&r, ADDRS_MAX);
    for (unsigned i = 0; i < s->naddrs && !r.bad; i++)
        s->addrs[i] = bl_r_u64(&r);
    s->nlogins = (uint8_t)r32(&r, LOGINS_MAX);
    for (unsigned i = 0; i < s->nlogins && !r.bad; i++) {
        s->logins[i].h = bl_r_u64(&r);
        s->logins[i].day = r32(&r, UINT32_MAX);
    }
    uint32_t na = r32(&r, ACCOUNTS_MAX);
    if (r.bad || s->last < s->first || s->spray_last < s->spray_first || (!net && s->naddrs))
        goto bad;
    if (na) {
        s->a = calloc(na, sizeof *s->a);
        if (!s->a)
            goto bad;
        s->capa = na;
    }
    for (uint32_t i = 0; i < na && !r.bad; i++) {
        struct tried *e = &s->a[i];
        e->h = bl_r_u64(&r);
        size_t ln;
        const char *lt = bl_r_str(&r, &ln);
        e->sess = bl_r_u64(&r);
        e->first = r32(&r, UINT32_MAX);
        e->last_fail = r32(&r, UINT32_MAX);
        e->succ = r32(&r, UINT32_MAX);
        e->attempts = r32(&r, UINT32_MAX);
        e->hour = r32(&r, UINT32_MAX);
        e->hour_n = (uint16_t)r32(&r, UINT16_MAX);
        e->peak = (uint16_t)r32(&r, UINT16_MAX);
        e->sess_n = (uint16_t)r32(&r, UINT16_MAX);
        e->announced = (uint8_t)r32(&r, 1);
        if (r.bad || (e->last_fail && e->last_fail < e->first) || e->hour_n > e->peak ||
            tried_find(s, e->h))
            goto bad;
        if (ln > USER_MAX)
            goto bad;
        e->label = bl_label(m->labels, lt, ln);
        s->na = i + 1;
    }
    if (r.bad || r.p != r.end)
        goto bad;
    /* Replace a profile of the same source. */
    uint32_t old = bl_idx_get(&m->idx, s->h);
    if (old != BL_IDX_NONE)
        source_remove(m, old);
    if (source_insert(m, s) < 0)
        goto bad;
    return 0;
bad:
    source_free(s);
    return -EINVAL;
}

static int cmp_tried(const void *a, const void *b)
{
    const struct tried *x = *(const struct tried *const *)a, *y = *(const struct tried *const *)b;
    if (x->attempts != y->attempts)
        return x->attempts > y->attempts ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

static int spray_show(void *mp, enum bl_kind kind, const char *entity, struct buf *j)
{
    struct spray_mod *m = mp;
    if (kind != BL_SOURCE || !entity)
        return 0;
    struct source *s = source_find(m, entity, false, false);
    if (!s)
        return 0;
    struct verdict v;
    verdict(m, s, &v);
    buf_puts(j, "\"first\":");
    json_put_time(j, (int64_t)NS_PER_SEC * s->first);
    buf_puts(j, ",\"last\":");
    json_put_time(j, (int64_t)NS_PER_SEC * s->last);
    buf_printf(j,
               ",\"network\":%s,\"window_s\":%lld,\"accounts_tried\":%u,\"accounts_logged_in\":%u,"
               "\"attempts\":%llu,\"max_attempts_per_hour_avg\":%.2f,\"spraying\":%s",
               s->net ? "true" : "false", (long long)window_s(m), v.accounts, v.succeeded,
               (unsigned long long)v.attempts, v.accounts ? (double)v.peaks / v.accounts : 0.0,
               v.holds ? "true" : "false");
    if (s->net)
        buf_printf(j, ",\"addresses\":%u", s->naddrs);
    if (s->spray_first) {
        buf_puts(j, ",\"sprayed\":{\"first\":");
        json_put_time(j, (int64_t)NS_PER_SEC * s->spray_first);
        buf_puts(j, ",\"last\":");
        json_put_time(j, (int64_t)NS_PER_SEC * s->spray_last);
        buf_puts(j, "}");
    }
    buf_puts(j, ",\"accounts\":[");
    const struct tried **t = s->na ? malloc(s->na * sizeof *t) : NULL;
    if (t) {
        for (uint32_t i = 0; i < s->na; i++)
            t[i] = &s->a[i];
        qsort(t, s->na, sizeof *t, cmp_tried);
        for (uint32_t i = 0; i < s->na && i < SHOWN_MAX; i++) {
            const char *name = bl_label_text(m->labels, t[i]->label);
            buf_puts(j, i ? ",{\"account\":" : "{\"account\":");
            json_put_string(j, name, strlen(name));
            buf_printf(j, ",\"attempts\":%u,\"max_per_hour\":%u", t[i]->attempts, t[i]->peak);
            if (t[i]->last_fail) {
                buf_puts(j, ",\"first\":");
                json_put_time(j, (int64_t)NS_PER_SEC * t[i]->first);
                buf_puts(j, ",\"last\":");
                json_put_time(j, (int64_t)NS_PER_SEC * t[i]->last_fail);
            }
            buf_printf(j, ",\"logged_in\":%s}", t[i]->succ ? "true" : "false");
        }
        free(t);
    }
    buf_puts(j, "]");
    return 1;
}

static void spray_age(void *mp, uint32_t before)
{
    struct spray_mod *m = mp;
    for (uint32_t i = m->n; i-- > 0;) {
        struct source *s = m->src[i];
        if (s->last < before) {
            source_remove(m, i);
            m->aged++;
            continue;
        }
        uint32_t k = 0;
        for (uint32_t j = 0; j < s->na; j++)
            if (tried_seen(&s->a[j]) >= before)
                s->a[k++] = s->a[j];
        if (k != s->na) {
            s->na = k;
            s->dirty = true;
        }
    }
}

static void spray_stats(void *mp, struct bl_module_stats *st)
{
    struct spray_mod *m = mp;
    uint64_t bytes = sizeof *m + bl_idx_bytes(&m->idx) + (uint64_t)m->cap * sizeof(void *) +
                     m->internal.n * sizeof(struct bl_cidr);
    for (uint32_t i = 0; i < m->n; i++) {
        const struct source *s = m->src[i];
        bytes += sizeof *s + strlen(s->id) + 1 + (uint64_t)s->capa * sizeof(struct tried) +
                 3 * MALLOC_OVERHEAD;
    }
    st->entities = m->n;
    st->bytes = bytes;
    st->facts = m->facts;
    st->aged = m->aged;
    st->evicted = m->evicted;
}

const struct bl_module_ops bl_spraying_module = {
    .name = "spraying",
    .create = spray_create,
    .destroy = spray_destroy,
    .on_event = spray_on_event,
    .save = spray_save,
    .load = spray_load,
    .show = spray_show,
    .age = spray_age,
    .stats = spray_stats,
};
