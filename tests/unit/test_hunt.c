/* Unit tests for the retro-hunt: every indicator type found through the
 * index (domains from DNS, URLs, Zeek fields and mail addresses, parents
 * finding subdomains; URLs; hashes; file names; user agents; IPv4 and IPv6
 * addresses and CIDR blocks, short blocks too), nothing found that should
 * not be, validity windows, revoked and warning-listed indicators, message
 * joins by queue id, the statements' plans (index reads only), a store
 * whose day summary spans several transactions and days, and the same
 * answers with the reads made ahead on threads. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hunt/hunt.h"
#include "intel/ioc.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define T0  time_from_utc(2024, 3, 4, 9, 0, 0, 0)
#define MIN (60 * NS_PER_SEC)

struct fx {
    char dir[64];
    char path[128];
    struct arena arena;
    unsigned line;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/kenchi-test-hunt-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/k.db", f->dir);
    arena_init(&f->arena, 1 << 16);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    arena_free(&f->arena);
    free(f);
    return 0;
}

static struct str S(struct fx *f, const char *s) {
    return str_make(arena_strndup(&f->arena, s, strlen(s)), strlen(s));
}

static void
base(struct fx *f, struct event *ev, const char *format, int64_t ts)
{
    event_init(ev, &f->arena);
    ev->file = "/var/log/test.log";
    ev->line = ++f->line;
    ev->parsed = true;
    ev->format = format;
    ev->ts_ns = ts;
    ev->core[CORE_HOST_NAME] = S(f, "mx1");
}

static void finish(struct fx *f, struct event *ev, const char *text)
{
    ev->message = S(f, text);
    ev->raw = ev->message;
    event_assign_id(ev);
}

/* The events of the tests: one per indicator kind, plus a Postfix message
 * and neighbours that must not match. Returns their number. */
static size_t make_events(struct fx *f, struct event *e)
{
    size_t n = 0;
    struct event *ev;
    /* 0: a DNS question for a subdomain, upper case, trailing dot */
    ev = &e[n++];
    base(f, ev, "zeek", T0);
    ev->core[CORE_DNS_QUESTION_NAME] = S(f, "WWW.Evil.example.");
    ev->core[CORE_SOURCE_IP] = S(f, "10.1.1.1");
    finish(f, ev, "dns");
    /* 1: a sibling that shares the suffix, not the label */
    ev = &e[n++];
    base(f, ev, "zeek", T0 + 1 * MIN);
    ev->core[CORE_DNS_QUESTION_NAME] = S(f, "devil.example");
    finish(f, ev, "dns sibling");
    /* 2: an HTTP request with a URL, a user agent and a host */
    ev = &e[n++];
    base(f, ev, "zeek", T0 + 2 * MIN);
    ev->core[CORE_URL_FULL] = S(f, "http://Host.Bad.test:80/path/x.php?q=1#frag");
    event_add_str(ev, "host", S(f, "Host.Bad.test"));
    event_add_str(ev, "user_agent", S(f, "EvilBot/1.0 (compatible)"));
    finish(f, ev, "http");
    /* 3: a TLS server name */
    ev = &e[n++];
    base(f, ev, "zeek", T0 + 3 * MIN);
    event_add_str(ev, "server_name", S(f, "c2.apt.test"));
    ev->core[CORE_DESTINATION_IP] = S(f, "2001:db8:1:2::5");
    finish(f, ev, "ssl");
    /* 4: a file with hashes and a Windows path */
    ev = &e[n++];
    base(f, ev, "windows", T0 + 4 * MIN);
    ev->core[CORE_FILE_NAME] = S(f, "C:\\Temp\\Evil.EXE");
    ev->core[CORE_FILE_HASH_MD5] = S(f, "D41D8CD98F00B204E9800998ECF8427E");
    ev->core[CORE_FILE_HASH_SHA1] = S(f, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    ev->core[CORE_FILE_HASH_SHA256] =
        S(f, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
    finish(f, ev, "file");
    /* 5-8: a Postfix message from an account to an outside address */
    ev = &e[n++];
    base(f, ev, "postfix", T0 + 5 * MIN);
    ev->core[CORE_SOURCE_IP] = S(f, "198.51.100.7");
    ev->core[CORE_USER_NAME] = S(f, "Bob");
    event_add_str(ev, "queue_id", S(f, "4TqABC123"));
    finish(f, ev, "client");
    ev = &e[n++];
    base(f, ev, "postfix", T0 + 5 * MIN + NS_PER_SEC);
    event_add_str(ev, "queue_id", S(f, "4TqABC123"));
    finish(f, ev, "cleanup message-id");
    ev = &e[n++];
    base(f, ev, "postfix", T0 + 5 * MIN + 2 * NS_PER_SEC);
    ev->core[CORE_EMAIL_FROM_ADDRESS] = S(f, "Bob@Corp.Example");
    event_add_str(ev, "queue_id", S(f, "4TqABC123"));
    finish(f, ev, "qmgr");
    ev = &e[n++];
    base(f, ev, "postfix", T0 + 62 * MIN); /* the next hour */
    ev->core[CORE_EMAIL_TO_ADDRESS] = S(f, "drop@Mail.Exfil.test");
    ev->core[CORE_DESTINATION_IP] = S(f, "203.0.113.150");
    event_add_str(ev, "queue_id", S(f, "4TqABC123"));
    finish(f, ev, "delivery");
    /* 9: a neighbour address, two days later, and an IPv4-mapped IPv6 */
    ev = &e[n++];
    base(f, ev, "json", T0 + 2 * 1440 * MIN);
    ev->core[CORE_SOURCE_IP] = S(f, "::ffff:198.51.100.8");
    finish(f, ev, "later");
    /* 10: an event without a time */
    ev = &e[n++];
    base(f, ev, "json", TIME_NONE);
    ev->core[CORE_SOURCE_IP] = S(f, "198.51.100.7");
    finish(f, ev, "no time");
    /* 11: an M365 user agent */
    ev = &e[n++];
    base(f, ev, "m365", T0 + 7 * MIN);
    event_add_str(ev, "UserAgent", S(f, "  python-requests/2.31  "));
    finish(f, ev, "m365");
    return n;
}

static void fill_store(struct fx *f, const struct store_opts *o)
{
    struct store *s = NULL;
    if (store_open(f->path, o, &s) < 0)
        fail_msg("store_open: %s", store_errmsg(s));
    struct event e[16];
    size_t n = make_events(f, e);
    /* one event a batch: with small transactions, many summary parts */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_add_batch(s, &e[i], 1), 0);
    assert_int_equal(store_close(s), 0);
    arena_reset(&f->arena);
}

static struct store *open_ro(struct fx *f)
{
    struct store_opts o;
    store_opts_default(&o);
    o.read_only = true;
    struct store *s = NULL;
    if (store_open(f->path, &o, &s) < 0)
        fail_msg("store_open: %s", store_errmsg(s));
    return s;
}

struct hits {
    int n;
    int64_t ts[32];
};

static int on_hit(void *opaque, const struct store_hit *h)
{
    struct hits *x = opaque;
    if (x->n < 32)
        x->ts[x->n] = h->ts_ns;
    x->n++;
    return 0;
}

static int hunt1(struct store *s, enum ioc_type t, const char *raw, int64_t since, int64_t until)
{
    char v[1100];
    const char *why;
    int len = ioc_normalise(t, raw, strlen(raw), v, &why);
    if (len < 0)
        fail_msg("%s: %s", raw, why);
    struct store_probe p = {t, v, since, until};
    struct hits h = {0};
    int rc = store_hunt(s, &p, 1, on_hit, NULL, &h);
    if (rc < 0)
        fail_msg("store_hunt: %s", store_errmsg(s));
    return h.n;
}

static void test_every_kind(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 1;
    fill_store(f, &o);
    struct store *s = open_ro(f);
    const int64_t N = TIME_NONE;
    static const struct {
        enum ioc_type t;
        const char *v;
        int want;
    } cases[] = {
        /* domains: the name, its parents, never a sibling or a part of a label */
        {IOC_DOMAIN, "www.evil.example", 1},
        {IOC_DOMAIN, "evil.example", 1},
        {IOC_DOMAIN, "*.EVIL.example.", 1},
        {IOC_DOMAIN, "example", 3}, /* with corp.example */
        {IOC_DOMAIN, "vil.example", 0},
        {IOC_DOMAIN, "devil.example", 1},
        {IOC_DOMAIN, "bad.test", 1}, /* URL host (and Zeek http host) */
        {IOC_DOMAIN, "host.bad.test", 1},
        {IOC_DOMAIN, "apt.test", 1},   /* ssl server_name */
        {IOC_DOMAIN, "exfil.test", 1}, /* a recipient's domain */
        {IOC_DOMAIN, "mail.exfil.test", 1},
        {IOC_DOMAIN, "corp.example", 1}, /* a sender's domain */
        {IOC_DOMAIN, "orp.example", 0},
        {IOC_DOMAIN, "test", 3}, /* URL, ssl, recipient */
        /* URLs as ioc_normalise writes them */
        {IOC_URL, "https://host.bad.test/path/x.php?q=1", 1}, /* the scheme is dropped */
        {IOC_URL, "host.bad.test:8080/path/x.php?q=1", 0},
        {IOC_URL, "http://HOST.bad.test/path/x.php?q=1", 1},
        {IOC_URL, "host.bad.test/path/x.php?q=1", 1},
        {IOC_URL, "host.bad.test/path/x.php", 0},
        /* hashes, file names, user agents */
        {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e", 1},
        {IOC_SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", 1},
        {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1},
        {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", 0},
        {IOC_FILENAME, "evil.exe", 1},
        {IOC_FILENAME, "/tmp/EVIL.exe", 1},
        {IOC_FILENAME, "evil.ex", 0},
        {IOC_USER_AGENT, "EvilBot/1.0 (compatible)", 1},
        {IOC_USER_AGENT, "evilbot/1.0 (compatible)", 0}, /* as written */
        {IOC_USER_AGENT, "python-requests/2.31", 1},
        /* mail addresses, any case */
        {IOC_EMAIL, "bob@corp.example", 1},
        {IOC_EMAIL, "Drop@mail.exfil.TEST", 1},
        {IOC_EMAIL, "drop@exfil.test", 0},
        /* IPv4: the address (also as IPv4-mapped IPv6), blocks around it */
        {IOC_IP, "198.51.100.7", 2}, /* with the event without a time */
        {IOC_IP, "::ffff:198.51.100.8", 1},
        {IOC_IP, "198.51.100.8/32", 1},
        {IOC_IP, "198.51.100.0/24", 3},
        {IOC_IP, "198.51.100.0/29", 2}, /* .7 twice */
        {IOC_IP, "198.51.100.8/29", 1},
        {IOC_IP, "198.51.96.0/20", 3},
        {IOC_IP, "198.48.0.0/12", 3},
        {IOC_IP, "198.0.0.0/7", 3}, /* shorter than /8: every hour read */
        {IOC_IP, "198.51.101.0/24", 0},
        {IOC_IP, "10.1.1.1", 1},
        {IOC_IP, "203.0.113.150", 1}, /* as destination */
        {IOC_IP, "0.0.0.0/0", 5},
        /* IPv6 */
        {IOC_IP, "2001:db8:1:2::5", 1},
        {IOC_IP, "2001:db8:1:2::/64", 1},
        {IOC_IP, "2001:db8:1::/48", 1},
        {IOC_IP, "2001:db8::/40", 1},
        {IOC_IP, "2001:db8::/32", 1},
        {IOC_IP, "2001::/20", 1}, /* shorter than /24: every hour read */
        {IOC_IP, "2001:db8:1:3::/64", 0},
        {IOC_IP, "::/0", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = hunt1(s, cases[i].t, cases[i].v, N, N);
        if (got != cases[i].want)
            fail_msg("%s %s: %d events, want %d", ioc_type_name(cases[i].t), cases[i].v, got,
                     cases[i].want);
    }
    /* a time window leaves out the event without a time and what is outside */
    assert_int_equal(hunt1(s, IOC_IP, "198.51.100.7", T0, N), 1);
    assert_int_equal(hunt1(s, IOC_IP, "198.51.100.7", N, T0 + 5 * MIN), 0);
    assert_int_equal(hunt1(s, IOC_IP, "198.51.100.7", N, T0 + 5 * MIN + 1), 1);
    assert_int_equal(hunt1(s, IOC_IP, "198.51.100.0/24", T0 + 60 * MIN, N), 1);
    assert_int_equal(hunt1(s, IOC_DOMAIN, "test", T0 + 3 * MIN, T0 + 63 * MIN), 2);
    assert_int_equal(store_close(s), 0);
}

struct grouped {
    int n;
    size_t probe[64];
    int64_t ts[64];
};

static int on_grouped(void *opaque, const struct store_hit *h)
{
    struct grouped *g = opaque;
    if (g->n < 64) {
        g->probe[g->n] = h->probe;
        g->ts[g->n] = h->ts_ns;
    }
    g->n++;
    return 0;
}

/* The same hits, grouped by probe and in time order, whether the index is
 * read in one sweep or (past the entries a hunt may hold) probe by probe. */
static void test_sweep_and_fallback(void **state)
{
    struct fx *f = *state;
    fill_store(f, NULL);
    struct store_probe p[] = {
        {IOC_DOMAIN, "test", TIME_NONE, TIME_NONE},
        {IOC_IP, "198.51.100.0/24", TIME_NONE, TIME_NONE},
        {IOC_EMAIL, "bob@corp.example", TIME_NONE, TIME_NONE},
        {IOC_IP, "198.0.0.0/7", TIME_NONE, TIME_NONE}, /* every hour, streamed */
        {IOC_DOMAIN, "example", TIME_NONE, TIME_NONE},
    };
    struct grouped want = {0}, got = {0};
    for (size_t cap = 0; cap < 2; cap++) {
        struct store_opts o;
        store_opts_default(&o);
        o.read_only = true;
        o.hunt_entries = cap ? 1 : 0; /* 1: stop after the first hour */
        struct store *s = NULL;
        assert_int_equal(store_open(f->path, &o, &s), 0);
        struct grouped *g = cap ? &got : &want;
        assert_int_equal(store_hunt(s, p, 5, on_grouped, NULL, g), 0);
        assert_int_equal(store_close(s), 0);
    }
    assert_int_equal(want.n, 3 + 3 + 1 + 3 + 3);
    assert_int_equal(got.n, want.n);
    for (int i = 0; i < want.n; i++) {
        assert_int_equal(got.probe[i], want.probe[i]);
        assert_int_equal(got.ts[i], want.ts[i]);
        if (i && want.probe[i] == want.probe[i - 1])
            assert_true(want.ts[i] >= want.ts[i - 1]);
        else if (i)
            assert_true(want.probe[i] > want.probe[i - 1]);
    }
}

/* Results in time order, several probes at once, in probe order. */
static void test_many_probes(void **state)
{
    struct fx *f = *state;
    fill_store(f, NULL);
    struct store *s = open_ro(f);
    struct store_probe p[] = {
        {IOC_IP, "198.51.100.0/24", TIME_NONE, TIME_NONE},
        {IOC_PATTERN, "[ipv4-addr:value = '1.2.3.4']", TIME_NONE, TIME_NONE},
        {IOC_IP, "not an address", TIME_NONE, TIME_NONE},
        {IOC_DOMAIN, "test", TIME_NONE, TIME_NONE},
    };
    struct hits h = {0};
    assert_int_equal(store_hunt(s, p, 4, on_hit, NULL, &h), 0);
    assert_int_equal(h.n, 3 + 3);
    assert_int_equal(h.ts[0], TIME_NONE); /* no time first */
    for (int i = 1; i < 3; i++)
        assert_true(h.ts[i] > h.ts[i - 1]);
    for (int i = 4; i < 6; i++)
        assert_true(h.ts[i] > h.ts[i - 1]);
    assert_int_equal(store_close(s), 0);
}

static void test_plans(void **state)
{
    struct fx *f = *state;
    fill_store(f, NULL);
    struct store *s = open_ro(f);
    struct buf plan;
    buf_init(&plan);
    assert_int_equal(store_hunt_explain(s, &plan), 0);
    assert_non_null(
        strstr(plan.data, "SEARCH hunt USING PRIMARY KEY (hour=? AND key>? AND key<?)"));
    assert_non_null(strstr(plan.data, "SEARCH hunt_days USING PRIMARY KEY (day=? AND class=?)"));
    assert_null(strstr(plan.data, "SCAN hunt "));
    assert_null(strstr(plan.data, "SCAN hunt_days"));
    assert_null(strstr(plan.data, "events"));
    assert_null(strstr(plan.data, "TEMP B-TREE"));
    buf_free(&plan);
    assert_int_equal(store_close(s), 0);
}

/* ---- hunt_batch: validity, revoked, warned, entities, messages ---------------- */

static uint32_t add_meta(struct ioc_batch *b, const char *ref, int64_t from, int64_t until,
                         bool revoked)
{
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "partner.json";
    m.ref = ref;
    m.valid_from = from;
    m.valid_until = until;
    m.revoked = revoked;
    return ioc_batch_add_meta(b, &m);
}

static void add(struct ioc_batch *b, enum ioc_type t, const char *v, uint32_t m)
{
    assert_int_equal(ioc_batch_add(b, t, v, strlen(v), m, true, NULL), 0);
}

static const struct hunt_result *result_of(const struct hunt_report *r, const char *value)
{
    for (size_t i = 0; i < r->nresults; i++)
        if (!strcmp(r->batch->iocs[r->results[i].ioc].value, value))
            return &r->results[i];
    return NULL;
}

static bool in_list(const struct hunt_list *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], v))
            return true;
    return false;
}

static void test_hunt_batch(void **state)
{
    struct fx *f = *state;
    fill_store(f, NULL);
    struct store *s = open_ro(f);
    struct ioc_batch b;
    ioc_batch_init(&b, "test", "list");
    uint32_t always = add_meta(&b, "a", TIME_NONE, TIME_NONE, false);
    uint32_t later = add_meta(&b, "b", T0 + 6 * MIN, TIME_NONE, false);
    uint32_t ended = add_meta(&b, "c", TIME_NONE, T0 + 5 * MIN, false);
    uint32_t around = add_meta(&b, "d", T0 + 4 * MIN, T0 + 6 * MIN, false);
    uint32_t revoked = add_meta(&b, "e", TIME_NONE, TIME_NONE, true);
    uint32_t empty = add_meta(&b, "f", T0, T0, false);
    add(&b, IOC_EMAIL, "drop@mail.exfil.test", always);
    add(&b, IOC_IP, "198.51.100.7", later);     /* its events are before: not seen */
    add(&b, IOC_DOMAIN, "corp.example", ended); /* its event is after: not seen */
    add(&b, IOC_IP, "198.51.100.7", around);    /* seen once */
    add(&b, IOC_IP, "10.1.1.1", revoked);       /* not hunted */
    add(&b, IOC_IP, "10.1.1.1", empty);         /* an empty window: not hunted */
    add(&b, IOC_DOMAIN, "evil.example", always);
    b.iocs[b.niocs - 1].warning = ioc_batch_strdup(&b, "top sites");
    add(&b, IOC_PATTERN, "[x:y = 'z'] FOLLOWEDBY [x:y = 'w']", always);
    add(&b, IOC_EMAIL, "drop@mail.exfil.test", around); /* the same value twice */

    struct hunt_opts o;
    hunt_opts_default(&o);
    struct hunt_report r;
    assert_int_equal(hunt_batch(s, &b, &o, &r), 0);
    assert_int_equal(r.indicators, 9);
    assert_int_equal(r.hunted, 7);
    assert_int_equal(r.skipped_revoked, 1);
    assert_int_equal(r.skipped_window, 1);
    assert_int_equal(r.skipped_pattern, 0);
    /* a pattern on a path no event holds: hunted over its window, not seen */
    assert_int_equal(r.patterns, 1);
    assert_int_equal(r.patterns_scanned, 1);
    assert_int_equal(r.hits, 2); /* the address under "a", 198.51.100.7 under "d" */
    assert_int_equal(r.warned_seen, 1);
    assert_int_equal(r.nresults, 3);

    const struct hunt_result *h = result_of(&r, "drop@mail.exfil.test");
    assert_non_null(h);
    assert_false(h->warned);
    assert_int_equal(h->events, 1);
    assert_int_equal(h->first_ns, T0 + 62 * MIN);
    /* the message: its sender, the account that sent it, its recipient */
    assert_int_equal(h->messages, 1);
    assert_true(in_list(&h->mailboxes, "drop@Mail.Exfil.test"));
    assert_true(in_list(&h->mailboxes, "Bob@Corp.Example"));
    assert_true(in_list(&h->accounts, "Bob"));
    assert_true(in_list(&h->hosts, "mx1"));
    assert_int_equal(h->ndays, 1);
    assert_int_equal(h->days[0].day_ns, time_from_utc(2024, 3, 4, 0, 0, 0, 0));
    assert_int_equal(h->ntimeline, 1);
    assert_string_equal(h->timeline[0].module, "postfix");
    assert_string_equal(h->timeline[0].file, "/var/log/test.log");
    assert_int_equal(h->timeline[0].line, 9);

    h = result_of(&r, "198.51.100.7");
    assert_non_null(h);
    assert_int_equal(h->events, 1);
    assert_int_equal(h->first_ns, T0 + 5 * MIN);
    assert_true(in_list(&h->accounts, "Bob"));
    assert_true(in_list(&h->mailboxes, "drop@Mail.Exfil.test"));

    h = result_of(&r, "evil.example");
    assert_non_null(h);
    assert_true(h->warned);
    assert_int_equal(h->events, 1);
    assert_int_equal(h->accounts.n + h->hosts.n + h->mailboxes.n, 0); /* index only */
    assert_true(r.results[r.nresults - 1].warned);                    /* warned last */
    assert_int_equal(r.events_before_v2, 0);
    hunt_report_free(&r);

    /* the window of the hunt narrows every indicator's */
    o.since_ns = T0 + 30 * MIN;
    assert_int_equal(hunt_batch(s, &b, &o, &r), 0);
    assert_int_equal(r.hits, 1);
    assert_non_null(result_of(&r, "drop@mail.exfil.test"));
    hunt_report_free(&r);

    /* timeline bound and value bound */
    hunt_opts_default(&o);
    o.timeline_events = 0;
    o.max_values = 1;
    assert_int_equal(hunt_batch(s, &b, &o, &r), 0);
    h = result_of(&r, "drop@mail.exfil.test");
    assert_int_equal(h->ntimeline, 0);
    assert_int_equal(h->mailboxes.n, 1);
    assert_int_equal(h->mailboxes.more, 1);
    hunt_report_free(&r);
    ioc_batch_free(&b);
    assert_int_equal(store_close(s), 0);
}

/* The intelligence kept in the store, all of it or one import's. */
static void test_hunt_store(void **state)
{
    struct fx *f = *state;
    fill_store(f, NULL);
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s), 0);
    struct ioc_batch b;
    ioc_batch_init(&b, "one", "list");
    add(&b, IOC_IP, "198.51.100.7", add_meta(&b, NULL, TIME_NONE, TIME_NONE, false));
    int64_t id1, id2;
    assert_int_equal(store_intel_import(s, &b, &id1, NULL), 0);
    ioc_batch_free(&b);
    ioc_batch_init(&b, "two", "list");
    uint32_t m = add_meta(&b, "x", TIME_NONE, TIME_NONE, false);
    add(&b, IOC_DOMAIN, "apt.test", m);
    add(&b, IOC_IP, "192.0.2.99", m);
    assert_int_equal(store_intel_import(s, &b, &id2, NULL), 0);
    ioc_batch_free(&b);

    struct hunt_report r;
    assert_int_equal(hunt_store(s, 0, NULL, &r), 0);
    assert_int_equal(r.indicators, 3);
    assert_int_equal(r.hits, 2);
    assert_int_equal(r.events, 3);
    /* by first seen: the event without a time counts, but is not a time */
    assert_string_equal(r.batch->iocs[r.results[0].ioc].value, "apt.test");
    assert_string_equal(r.batch->metas[r.batch->iocs[r.results[0].ioc].meta].ref, "x");
    hunt_report_free(&r);
    assert_int_equal(hunt_store(s, id1, NULL, &r), 0);
    assert_int_equal(r.indicators, 1);
    assert_int_equal(r.hits, 1);
    hunt_report_free(&r);
    assert_int_equal(hunt_store(s, id2 + 1, NULL, &r), -ENOENT);
    hunt_report_free(&r);
    assert_int_equal(store_close(s), 0);
}

/* Many days in many transactions: the day summary's parts are merged when
 * a day is over and at close, and found again after reopening; hunting
 * while the writer still has the store open reads unmerged parts. */
static void test_summary_over_days(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 50;
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, &o, &s), 0);
    char v[64];
    /* 10 days, an event every 20 minutes: 720 events; source 192.0.2.<i % 50>,
     * and on day 7 at 13:00 one event from 203.0.113.9 */
    for (unsigned k = 0; k < 72; k++) {
        struct event e[10];
        for (unsigned i = 0; i < 10; i++) {
            unsigned n = k * 10 + i;
            struct event *ev = &e[i];
            int64_t ts = time_from_utc(2024, 3, 1, 0, 0, 0, 0) + (int64_t)n * 20 * MIN;
            base(f, ev, "json", ts);
            bool odd = ts == time_from_utc(2024, 3, 7, 13, 0, 0, 0);
            snprintf(v, sizeof(v), odd ? "203.0.113.9" : "192.0.2.%u", n % 50);
            ev->core[CORE_SOURCE_IP] = S(f, v);
            finish(f, ev, v);
        }
        assert_int_equal(store_add_batch(s, e, 10), 0);
        arena_reset(&f->arena);
    }
    assert_int_equal(store_sync(s), 0);
    /* while open: today's parts are not merged yet */
    assert_int_equal(hunt1(s, IOC_IP, "203.0.113.9", TIME_NONE, TIME_NONE), 1);
    assert_int_equal(hunt1(s, IOC_IP, "192.0.2.0/24", TIME_NONE, TIME_NONE), 719);
    assert_int_equal(hunt1(s, IOC_IP, "192.0.2.3", TIME_NONE, TIME_NONE), 15);
    assert_int_equal(store_close(s), 0);
    s = open_ro(f);
    assert_int_equal(hunt1(s, IOC_IP, "203.0.113.9", TIME_NONE, TIME_NONE), 1);
    /* the summary names the one hour of 240 to read, and that it is a
     * source there: one range read */
    struct store_hunt_stats st;
    store_hunt_stats(s, &st);
    assert_int_equal(st.days, 10);
    assert_int_equal(st.candidates, 1);
    assert_int_equal(st.reads, 1);
    assert_int_equal(st.entries, 1);
    assert_int_equal(hunt1(s, IOC_IP, "203.0.113.0/24", TIME_NONE, TIME_NONE), 1);
    store_hunt_stats(s, &st);
    assert_int_equal(st.reads, 1);
    /* an address that was never seen: no index read at all */
    assert_int_equal(hunt1(s, IOC_IP, "203.0.113.10", TIME_NONE, TIME_NONE), 0);
    store_hunt_stats(s, &st);
    assert_int_equal(st.reads, 0);
    assert_int_equal(hunt1(s, IOC_IP, "192.0.2.0/24", TIME_NONE, TIME_NONE), 719);
    assert_int_equal(hunt1(s, IOC_IP, "192.0.2.3", TIME_NONE, TIME_NONE), 15);
    assert_int_equal(hunt1(s, IOC_IP, "192.0.2.3", time_from_utc(2024, 3, 5, 0, 0, 0, 0),
                           time_from_utc(2024, 3, 6, 0, 0, 0, 0)),
                     2); /* the 303rd and 353rd event */
    assert_int_equal(store_close(s), 0);
}

/* Reading ahead on threads changes nothing in the answers: the same hunt
 * with opts.hunt_threads 1 and 4 over a store large enough for every
 * phase to read ahead (summary days, index reads, rows, message joins). */
static void fill_mail(struct fx *f)
{
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 100;
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, &o, &s), 0);
    char v[4][64];
    /* 16 days, an event every 30 minutes: 768 Postfix events, each its own
     * message, and its second line with the recipient the next minute */
    for (unsigned k = 0; k < 48; k++) {
        struct event e[32];
        for (unsigned i = 0; i < 32; i += 2) {
            unsigned n = k * 16 + i / 2;
            int64_t ts = time_from_utc(2024, 3, 1, 0, 0, 0, 0) + (int64_t)n * 30 * MIN;
            snprintf(v[0], sizeof(v[0]), "192.0.2.%u", n % 50);
            snprintf(v[1], sizeof(v[1]), "user%u@Corp.example", n % 7);
            snprintf(v[2], sizeof(v[2]), "Q%05u", n);
            snprintf(v[3], sizeof(v[3]), "x%u@out%u.example", n % 13, n % 3);
            struct event *ev = &e[i];
            base(f, ev, "postfix", ts);
            ev->core[CORE_SOURCE_IP] = S(f, v[0]);
            ev->core[CORE_EMAIL_FROM_ADDRESS] = S(f, v[1]);
            snprintf(v[1], sizeof(v[1]), "u%u", n % 5);
            ev->core[CORE_USER_NAME] = S(f, v[1]);
            event_add_str(ev, "queue_id", S(f, v[2]));
            finish(f, ev, v[2]);
            ev = &e[i + 1];
            base(f, ev, "postfix", ts + MIN);
            ev->core[CORE_EMAIL_TO_ADDRESS] = S(f, v[3]);
            ev->core[CORE_HOST_NAME] = S(f, n % 2 ? "mx1" : "mx2");
            event_add_str(ev, "queue_id", S(f, v[2]));
            finish(f, ev, v[3]);
        }
        assert_int_equal(store_add_batch(s, e, 32), 0);
        arena_reset(&f->arena);
    }
    assert_int_equal(store_close(s), 0);
}

static void lists_equal(const struct hunt_list *a, const struct hunt_list *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->more, b->more);
    for (size_t i = 0; i < a->n; i++)
        assert_string_equal(a->v[i], b->v[i]);
}

static void str_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* The (ev, ts) pairs of a message join. */
struct evlist {
    int64_t v[64][2];
    size_t n;
};

static int on_ev(void *opaque, int64_t ev, int64_t ts)
{
    struct evlist *l = opaque;
    if (l->n < 64) {
        l->v[l->n][0] = ev;
        l->v[l->n][1] = ts;
        l->n++;
    }
    return 0;
}

static void test_read_ahead(void **state)
{
    struct fx *f = *state;
    fill_mail(f);
    struct ioc_batch b;
    ioc_batch_init(&b, "ahead", "list");
    uint32_t m = add_meta(&b, NULL, TIME_NONE, TIME_NONE, false);
    add(&b, IOC_IP, "192.0.2.0/24", m);
    add(&b, IOC_IP, "192.0.2.3", m);
    add(&b, IOC_DOMAIN, "corp.example", m);
    add(&b, IOC_EMAIL, "x5@out2.example", m);
    add(&b, IOC_DOMAIN, "out1.example", m);
    struct hunt_opts ho;
    hunt_opts_default(&ho);
    ho.max_values = 20;
    struct hunt_report r[2];
    for (int t = 0; t < 2; t++) {
        struct store_opts o;
        store_opts_default(&o);
        o.read_only = true;
        o.hunt_threads = t ? 4 : 1;
        struct store *s = NULL;
        assert_int_equal(store_open(f->path, &o, &s), 0);
        assert_int_equal(hunt_batch(s, &b, &ho, &r[t]), 0);
        if (t) {
            /* handing over: on threads only when asked and worth it;
             * every row as store_event_get gives it, documents where
             * asked, a row that is not there read (and missed) by the
             * caller itself */
            int64_t ids[100];
            bool docs[100];
            for (int i = 0; i < 100; i++) {
                ids[i] = i == 57 ? 1000000 : i + 1;
                docs[i] = i % 3 == 0;
            }
            struct store_ahead *a = store_ahead_rows(s, ids, docs, 100);
            assert_non_null(a);
            struct store_row row, want;
            for (int i = 0; i < 100; i++) {
                if (i == 57) {
                    assert_int_equal(store_ahead_row(s, a, 57, ids[i], false, &row), -ENOENT);
                    continue;
                }
                assert_int_equal(store_ahead_row(s, a, (size_t)i, ids[i], false, &row), 0);
                assert_int_equal(row.line, (uint64_t)i + 1);
                char *user = row.user ? strdup(row.user) : NULL;
                char *to = row.email_to ? strdup(row.email_to) : NULL;
                char *sip = row.source_ip ? strdup(row.source_ip) : NULL;
                int64_t ts = row.ts_ns;
                const char *module = row.module, *host = row.host, *file = row.file;
                /* the document: from the worker when asked for, else read */
                assert_int_equal(store_ahead_row(s, a, (size_t)i, ids[i], true, &row), 0);
                char *json = strndup(row.json, row.json_len);
                assert_int_equal(store_event_get(s, ids[i], true, &want), 0);
                assert_int_equal(want.ts_ns, ts);
                str_equal(want.user, user);
                str_equal(want.email_to, to);
                str_equal(want.source_ip, sip);
                str_equal(want.module, module);
                str_equal(want.host, host);
                str_equal(want.file, file);
                assert_int_equal(want.json_len, strlen(json));
                assert_memory_equal(want.json, json, want.json_len);
                free(user);
                free(to);
                free(sip);
                free(json);
            }
            store_ahead_end(a);
            struct store_hunt_stats hs;
            store_hunt_stats(s, &hs);
            assert_int_equal(hs.workers, 3); /* 4 threads: the caller and 3 */
            /* messages: a worker's lines are the caller's */
            const char *qids[80];
            int64_t qts[80];
            for (int i = 0; i < 80; i++) {
                assert_int_equal(store_event_get(s, i * 5 + 1, true, &want), 0);
                static char qbuf[80][32];
                const char *q = strstr(want.json, "\"queue_id\":\"");
                assert_non_null(q);
                q += strlen("\"queue_id\":\"");
                snprintf(qbuf[i], sizeof(qbuf[i]), "%.*s", (int)strcspn(q, "\""), q);
                qids[i] = qbuf[i];
                qts[i] = want.ts_ns;
            }
            a = store_ahead_messages(s, qids, qts, 80);
            assert_non_null(a);
            for (int i = 0; i < 80; i++) {
                struct evlist got = {0}, ref = {0};
                assert_int_equal(store_ahead_message(s, a, (size_t)i, qids[i], qts[i], on_ev, &got),
                                 0);
                assert_int_equal(store_message_events(s, qids[i], qts[i], on_ev, &ref), 0);
                assert_true(got.n > 0);
                assert_int_equal(got.n, ref.n);
                assert_memory_equal(got.v, ref.v, got.n * sizeof(got.v[0]));
            }
            store_ahead_end(a);
            assert_null(store_ahead_rows(s, ids, NULL, 10));
            store_ahead_end(NULL);
        } else {
            int64_t ids[100] = {0};
            assert_null(store_ahead_rows(s, ids, NULL, 100));
        }
        assert_int_equal(store_close(s), 0);
    }
    /* workers grow while their reads go to the disk: the store's pages
     * dropped from the page cache, 1,000 rows with up to 15 workers (7 to
     * start with) give the rows as the caller reads them */
    struct store_opts o;
    store_opts_default(&o);
    o.read_only = true;
    o.hunt_threads = 16;
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, &o, &s), 0);
    int64_t ids[1000];
    for (int i = 0; i < 1000; i++)
        ids[i] = i + 1;
    struct store_ahead *a = store_ahead_rows(s, ids, NULL, 1000);
    assert_non_null(a);
    struct store_row row;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(store_ahead_row(s, a, (size_t)i, ids[i], false, &row), 0);
        assert_int_equal(row.line, (uint64_t)i + 1);
    }
    store_ahead_end(a);
    struct store_hunt_stats hs;
    store_hunt_stats(s, &hs);
    assert_true(hs.workers >= 7 && hs.workers <= 15);
    if (hs.workers == 7) /* no growth: the pages were not read from a disk */
        print_message("# workers did not grow (the store is not on a disk here?)\n");
    assert_int_equal(store_close(s), 0);
    assert_int_equal(r[0].nresults, 5);
    assert_int_equal(r[1].nresults, r[0].nresults);
    assert_int_equal(r[1].events, r[0].events);
    assert_int_equal(r[0].results[0].events, 768); /* the first lines of every message */
    for (size_t i = 0; i < r[0].nresults; i++) {
        const struct hunt_result *x = &r[0].results[i], *y = &r[1].results[i];
        assert_int_equal(x->ioc, y->ioc);
        assert_int_equal(x->events, y->events);
        assert_int_equal(x->first_ns, y->first_ns);
        assert_int_equal(x->last_ns, y->last_ns);
        assert_int_equal(x->messages, y->messages);
        assert_true(x->messages > 0);
        lists_equal(&x->accounts, &y->accounts);
        lists_equal(&x->hosts, &y->hosts);
        lists_equal(&x->mailboxes, &y->mailboxes);
        assert_int_equal(x->ndays, y->ndays);
        for (size_t d = 0; d < x->ndays; d++)
            assert_int_equal(x->days[d].events, y->days[d].events);
        assert_int_equal(x->ntimeline, y->ntimeline);
        for (size_t t = 0; t < x->ntimeline; t++) {
            assert_int_equal(x->timeline[t].ts_ns, y->timeline[t].ts_ns);
            assert_int_equal(x->timeline[t].line, y->timeline[t].line);
            str_equal(x->timeline[t].user, y->timeline[t].user);
            str_equal(x->timeline[t].email_to, y->timeline[t].email_to);
        }
    }
    hunt_report_free(&r[0]);
    hunt_report_free(&r[1]);
    ioc_batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_and_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hunt_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hunt_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_over_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_ahead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
