/*
 * Unit tests for the account and application baseline modules
 * (baseline/bl-account.c, baseline/bl-app.c), driven directly through
 * struct bl_ctx: events in, facts collected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "baseline/bl-geo.h"
#include "baseline/bl-module.h"
#include "baseline/bl-table.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define T0  1772409600u /* 2026-03-02 00:00:00 UTC, a Monday */
#define DAY 86400u

/* ---- harness ------------------------------------------------------------ */

struct fact {
    int kind;
    char entity[128], detector[32], feature[32], value[160], net[64], app[64], text[512];
    double score;
};

struct h {
    struct bl_config cfg;
    struct bl_labels labels;
    const struct bl_module_ops *ops;
    void *m;
    struct bl_ctx ctx;
    struct arena arena;
    struct fact f[512];
    int nf;
    struct bl_geo *geo;
};

static int collect(void *o, const struct bl_fact *f)
{
    struct h *h = o;
    if (h->nf >= 512)
        return 0;
    struct fact *x = &h->f[h->nf++];
    memset(x, 0, sizeof *x);
    x->kind = f->kind;
    snprintf(x->entity, sizeof x->entity, "%s", f->entity);
    snprintf(x->detector, sizeof x->detector, "%s", f->detector);
    snprintf(x->feature, sizeof x->feature, "%s", f->feature);
    snprintf(x->value, sizeof x->value, "%s", f->value ? f->value : "");
    snprintf(x->net, sizeof x->net, "%s", f->network ? f->network : "");
    snprintf(x->app, sizeof x->app, "%s", f->application ? f->application : "");
    snprintf(x->text, sizeof x->text, "%s", f->text);
    x->score = f->score;
    assert_non_null(f->ev);
    assert_true(f->text[0] != '\0');
    return 0;
}

static char *internal_domains[] = {"example.org"};

static void h_init(struct h *h, const struct bl_module_ops *ops, bool internal)
{
    memset(h, 0, sizeof *h);
    bl_config_default(&h->cfg);
    if (internal) {
        h->cfg.internal_domains = internal_domains;
        h->cfg.ninternal_domains = 1;
    }
    bl_labels_init(&h->labels, 0);
    h->ops = ops;
    h->m = ops->create(&h->cfg, &h->labels);
    assert_non_null(h->m);
    h->ctx.cfg = &h->cfg;
    h->ctx.labels = &h->labels;
    h->ctx.emit = collect;
    h->ctx.opaque = h;
    arena_init(&h->arena, 1 << 16);
}

static void h_free(struct h *h)
{
    h->ops->destroy(h->m);
    bl_labels_free(&h->labels);
    arena_free(&h->arena);
    bl_geo_close(h->geo);
}

static struct str S(struct h *h, const char *s) {
    size_t n = strlen(s);
    return (struct str){arena_strndup(&h->arena, s, n), n};
}

/* An event of format fmt at time t; then pairs of key, value: keys that
 * start with '@' set core fields (@user @ip @action @outcome @to @dbytes
 * @host), others are native fields. NULL ends the list. */
static struct event *
mkev(struct h *h, const char *fmt, uint32_t t, ...)
{
    struct event *ev = arena_alloc(&h->arena, sizeof *ev);
    event_init(ev, &h->arena);
    ev->format = fmt;
    ev->ts_ns = (int64_t)t * NS_PER_SEC;
    ev->core[CORE_HOST_NAME] = S(h, "mx1");
    va_list ap;
    va_start(ap, t);
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        if (!strcmp(k, "@user"))
            ev->core[CORE_USER_NAME] = S(h, v);
        else if (!strcmp(k, "@ip"))
            ev->core[CORE_SOURCE_IP] = S(h, v);
        else if (!strcmp(k, "@action"))
            ev->core[CORE_EVENT_ACTION] = S(h, v);
        else if (!strcmp(k, "@outcome"))
            ev->core[CORE_EVENT_OUTCOME] = S(h, v);
        else if (!strcmp(k, "@to"))
            ev->core[CORE_EMAIL_TO_ADDRESS] = S(h, v);
        else if (!strcmp(k, "@dbytes"))
            ev->core[CORE_DESTINATION_BYTES] = S(h, v);
        else if (!strcmp(k, "@service"))
            ev->ls.service = arena_strndup(&h->arena, v, strlen(v));
        else
            event_add_copy(ev, k, v, strlen(v), VT_STRING);
    }
    va_end(ap);
    return ev;
}

static void feed(struct h *h, struct event *ev)
{
    uint32_t t = bl_time(ev->ts_ns);
    if (t > h->ctx.now)
        h->ctx.now = t;
    assert_int_equal(h->ops->on_event(h->m, &h->ctx, ev), 0);
    arena_reset(&h->arena);
}

static void login(struct h *h, uint32_t t, const char *user, const char *ip)
{
    feed(h, mkev(h, "dovecot", t, "@user", user, "@ip", ip, "@action", "login", "@outcome",
                 "success", "@service", "imap-login", "session", "s1", NULL));
}

static void logout(struct h *h, uint32_t t, const char *user, double bytes, int bodies)
{
    char b[32], c[32];
    snprintf(b, sizeof b, "%.0f", bytes);
    snprintf(c, sizeof c, "%d", bodies);
    feed(h, mkev(h, "dovecot", t, "@user", user, "@action", "logout", "@outcome", "success",
                 "@service", "imap", "@dbytes", b, "session", "s1", "body_count", c, NULL));
}

/* A normal working life: logins from the office network, 9:00-17:00 UTC,
 * on weekdays and weekends alike, one 10 MB session a day. */
static void normal_days(struct h *h, const char *user, uint32_t from_day, uint32_t days)
{
    for (uint32_t d = from_day; d < from_day + days; d++) {
        for (int k = 0; k < 4; k++)
            login(h, T0 + d * DAY + (9 + 2 * k) * 3600, user, "198.51.100.7");
        logout(h, T0 + d * DAY + 17 * 3600, user, 10e6, 20);
    }
}

static int count_facts(const struct h *h, const char *feature, double min_score)
{
    int n = 0;
    for (int i = 0; i < h->nf; i++)
        if ((!feature || !strcmp(h->f[i].feature, feature)) && h->f[i].score >= min_score)
            n++;
    return n;
}

static const struct fact *find_fact(const struct h *h, const char *feature)
{
    for (int i = 0; i < h->nf; i++)
        if (!strcmp(h->f[i].feature, feature))
            return &h->f[i];
    return NULL;
}

/* ---- accounts ------------------------------------------------------------ */

static void test_learning_quiet(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    /* six days, a new network every day, odd hours: nothing yet */
    for (uint32_t d = 0; d < 6; d++) {
        char ip[32];
        snprintf(ip, sizeof ip, "203.0.113.%u", d + 1);
        login(&h, T0 + d * DAY + 9 * 3600, "Alice@Example.org", "198.51.100.7");
        login(&h, T0 + d * DAY + (d * 4 % 24) * 3600, "alice@example.org", ip);
        logout(&h, T0 + d * DAY + 10 * 3600, "alice@example.org", 1e9, 3000);
    }
    assert_int_equal(h.nf, 0);
    /* private addresses never teach locations nor give facts */
    normal_days(&h, "alice@example.org", 6, 4);
    login(&h, T0 + 10 * DAY + 11 * 3600, "alice@example.org", "10.9.9.9");
    assert_int_equal(count_facts(&h, "network", 0), 0);
    h_free(&h);
}

static void test_first_seen_network(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    normal_days(&h, "bob@example.org", 0, 10);
    assert_int_equal(h.nf, 0);
    login(&h, T0 + 10 * DAY + 10 * 3600, "bob@example.org", "203.0.113.50");
    const struct fact *f = find_fact(&h, "network");
    assert_non_null(f);
    assert_int_equal(f->kind, BL_ACCOUNT);
    assert_string_equal(f->entity, "bob@example.org");
    assert_string_equal(f->detector, BL_DET_FIRST_SEEN);
    assert_string_equal(f->value, "203.0.113.0/24");
    assert_string_equal(f->net, "203.0.113.0/24");
    assert_true(f->score == 0.3);
    assert_non_null(strstr(f->text, "in 10 days of history"));
    /* the second time it is known */
    h.nf = 0;
    login(&h, T0 + 10 * DAY + 11 * 3600, "bob@example.org", "203.0.113.51");
    assert_int_equal(h.nf, 0);
    h_free(&h);
}

/* Build ASN and country databases with scripts/mmdb-write.py; false when
 * python3 or the script is not there. */
static bool make_geo(struct bl_geo **g, char dir[64])
{
    snprintf(dir, 64, "/tmp/kenchi-bltest-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/n.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs("[{\"network\":\"198.51.100.0/24\",\"asn\":64501,\"org\":\"Example Carrier\","
          "\"country\":\"DE\"},"
          "{\"network\":\"203.0.113.0/24\",\"asn\":64501,\"org\":\"Example Carrier\","
          "\"country\":\"DE\"},"
          "{\"network\":\"198.18.0.0/15\",\"asn\":64511,\"org\":\"Example Hosting\","
          "\"country\":\"DE\"},"
          "{\"network\":\"192.0.2.0/24\",\"asn\":64520,\"org\":\"Far Away\","
          "\"country\":\"JP\"},"
          "{\"network\":\"2001:db8:4a::/48\",\"asn\":64502,\"org\":\"V6 Net\","
          "\"registered_country\":\"FR\"}]",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "python3 scripts/mmdb-write.py --kind asn %s/n.json %s/asn.mmdb && "
             "python3 scripts/mmdb-write.py --kind country %s/n.json %s/cc.mmdb",
             dir, dir, dir, dir);
    if (system(cmd) != 0)
        return false;
    char a[128], c[128], *err = NULL;
    snprintf(a, sizeof a, "%s/asn.mmdb", dir);
    snprintf(c, sizeof c, "%s/cc.mmdb", dir);
    int rc = bl_geo_open(a, c, g, &err);
    free(err);
    return rc == 0;
}

static void rm_geo(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_geo_lookup(void **state)
{
    (void)state;
    struct bl_geo *g = NULL;
    char dir[64];
    if (!make_geo(&g, dir)) {
        skip();
        return;
    }
    struct bl_addr a;
    struct bl_geo_info gi;
    assert_true(bl_addr_parse("198.51.100.9", 12, &a));
    assert_true(bl_geo_lookup(g, &a, &gi));
    assert_int_equal(gi.asn, 64501);
    assert_string_equal(gi.org, "Example Carrier");
    assert_string_equal(gi.country, "DE");
    assert_true(bl_addr_parse("198.18.7.200", 12, &a));
    assert_true(bl_geo_lookup(g, &a, &gi));
    assert_int_equal(gi.asn, 64511);
    assert_true(bl_addr_parse("2001:db8:4a::1", 14, &a));
    assert_true(bl_geo_lookup(g, &a, &gi));
    assert_int_equal(gi.asn, 64502);
    assert_string_equal(gi.country, "FR"); /* registered_country */
    assert_true(bl_addr_parse("::ffff:192.0.2.1", 16, &a));
    assert_true(bl_geo_lookup(g, &a, &gi));
    assert_string_equal(gi.country, "JP");
    assert_true(bl_addr_parse("100.64.0.1", 10, &a));
    assert_false(bl_geo_lookup(g, &a, &gi));
    assert_int_equal(gi.asn, 0);
    assert_false(bl_geo_lookup(NULL, &a, &gi));
    bl_geo_close(g);
    /* a file that is no database is refused with its name */
    char bad[128], *err = NULL;
    snprintf(bad, sizeof bad, "%s/n.json", dir);
    assert_true(bl_geo_open(bad, NULL, &g, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err, "n.json"));
    free(err);
    rm_geo(dir);
}

static void test_first_seen_asn_country(void **state)
{
    (void)state;
    struct h h;
    char dir[64];
    h_init(&h, &bl_account_module, true);
    if (!make_geo(&h.geo, dir)) {
        h_free(&h);
        skip();
        return;
    }
    h.ctx.geo = h.geo;
    normal_days(&h, "carol@example.org", 0, 10);
    /* same AS and country, new /24: network 0.3 */
    login(&h, T0 + 10 * DAY + 10 * 3600, "carol@example.org", "203.0.113.5");
    assert_int_equal(h.nf, 1);
    assert_string_equal(h.f[0].feature, "network");
    /* new AS, same country: 0.4 */
    login(&h, T0 + 10 * DAY + 11 * 3600, "carol@example.org", "198.18.7.200");
    assert_int_equal(h.nf, 2);
    assert_string_equal(h.f[1].feature, "asn");
    assert_string_equal(h.f[1].value, "AS64511");
    assert_true(h.f[1].score == 0.4);
    assert_non_null(strstr(h.f[1].text, "Example Hosting"));
    /* new country: 0.5, the strongest one only */
    login(&h, T0 + 10 * DAY + 12 * 3600, "carol@example.org", "192.0.2.44");
    assert_int_equal(h.nf, 3);
    assert_string_equal(h.f[2].feature, "country");
    assert_string_equal(h.f[2].value, "JP");
    assert_true(h.f[2].score == 0.5);
    assert_non_null(strstr(h.f[2].text, "192.0.2.0/24"));
    h_free(&h);
    rm_geo(dir);
}

static void test_volume(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    normal_days(&h, "dave@example.org", 0, 20);
    assert_int_equal(h.nf, 0);
    /* 3x: nothing */
    for (int k = 0; k < 3; k++)
        logout(&h, T0 + 20 * DAY + (9 + k) * 3600, "dave@example.org", 10e6, 20);
    assert_int_equal(count_facts(&h, NULL, 0), 0);
    /* 32x from the usual network, in four sessions: 0.8 when crossing 10x;
     * bytes and items are one group: one fact, not two */
    for (int k = 0; k < 4; k++)
        logout(&h, T0 + 21 * DAY + (9 + k) * 3600, "dave@example.org", 80e6, 200);
    assert_int_equal(count_facts(&h, "downloads", 0), 1);
    assert_int_equal(h.nf, 1);
    const struct fact *f = find_fact(&h, "downloads");
    assert_true(f->score == 0.8);
    assert_string_equal(f->detector, BL_DET_VOLUME);
    assert_string_equal(f->net, ""); /* logouts without their login */
    assert_non_null(strstr(f->text, "95th percentile (10 MB) over 21 days"));
    /* once per level and day */
    logout(&h, T0 + 21 * DAY + 15 * 3600, "dave@example.org", 80e6, 10);
    assert_int_equal(count_facts(&h, "downloads", 0), 1);
    /* from a network first used today: 0.9 when crossing 30x */
    h.nf = 0;
    normal_days(&h, "ed@example.org", 0, 21);
    for (int k = 0; k < 4; k++) {
        login(&h, T0 + 21 * DAY + (8 + k) * 3600, "ed@example.org", "203.0.113.60");
        logout(&h, T0 + 21 * DAY + (9 + k) * 3600, "ed@example.org", 80e6, 10);
    }
    assert_int_equal(count_facts(&h, "downloads", 0), 2);
    f = &h.f[h.nf - 1];
    assert_true(f->score == 0.9);
    assert_string_equal(f->net, "203.0.113.0/24");
    assert_non_null(strstr(f->text, "downloaded 320 MB today, 32"));
    h_free(&h);
}

static void test_unusual_hour(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    normal_days(&h, "erin@example.org", 0, 12);
    login(&h, T0 + 12 * DAY + 3 * 3600, "erin@example.org", "198.51.100.7");
    assert_int_equal(h.nf, 1);
    assert_string_equal(h.f[0].detector, BL_DET_TIME);
    assert_string_equal(h.f[0].value, "03");
    assert_true(h.f[0].score == 0.4);
    /* once an hour */
    login(&h, T0 + 12 * DAY + 3 * 3600 + 600, "erin@example.org", "198.51.100.7");
    assert_int_equal(h.nf, 1);
    /* 08:00 is next to 09:00: usual */
    login(&h, T0 + 13 * DAY + 8 * 3600, "erin@example.org", "198.51.100.7");
    assert_int_equal(h.nf, 1);
    h_free(&h);
}

/* A Monday-to-Friday account at work on a Saturday, after three weeks of
 * history: a weekday fact (once that day); a day of the week seen before
 * (however long ago) is not one; too little history, none. */
static void test_unusual_weekday(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    for (uint32_t d = 0; d < 26; d++)
        if (d % 7 < 5) /* T0 is a Monday */
            normal_days(&h, "fay@example.org", d, 1);
        else if (d == 13) /* a Sunday with 13 days of history: too early */
            login(&h, T0 + d * DAY + 11 * 3600, "fay@example.org", "198.51.100.7");
    assert_int_equal(h.nf, 0);
    login(&h, T0 + 26 * DAY + 11 * 3600, "fay@example.org", "198.51.100.7"); /* Saturday */
    assert_int_equal(h.nf, 1);
    assert_string_equal(h.f[0].detector, BL_DET_TIME);
    assert_string_equal(h.f[0].feature, "weekday");
    assert_string_equal(h.f[0].value, "Saturday");
    assert_true(h.f[0].score == 0.3);
    assert_non_null(strstr(h.f[0].text, "on a Saturday (UTC), a day of the week never seen in"));
    login(&h, T0 + 26 * DAY + 13 * 3600, "fay@example.org", "198.51.100.7");
    assert_int_equal(h.nf, 1);                                               /* once a day */
    login(&h, T0 + 27 * DAY + 11 * 3600, "fay@example.org", "198.51.100.7"); /* Sunday: seen */
    assert_int_equal(h.nf, 1);
    h_free(&h);
}

static void m365_rule(struct h *h, uint32_t t, const char *user, const char *op, const char *param,
                      const char *target)
{
    feed(h, mkev(h, "m365", t, "@user", user, "@ip", "198.51.100.7", "@action", op, "@outcome",
                 "success", param, target, NULL));
}

static void postfix_send(struct h *h, uint32_t t, const char *qid, const char *user, const char *to)
{
    feed(h, mkev(h, "postfix", t, "@user", user, "@ip", "198.51.100.7", "@action", "client",
                 "@outcome", "success", "queue_id", qid, NULL));
    feed(h, mkev(h, "postfix", t + 1, "@action", "delivery", "@to", to, "queue_id", qid, NULL));
    feed(h, mkev(h, "postfix", t + 2, "@action", "removed", "queue_id", qid, NULL));
}

static void test_forwarding(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    normal_days(&h, "fay@example.org", 0, 10);
    postfix_send(&h, T0 + 2 * DAY + 10 * 3600, "AAA1", "fay@example.org", "x@partner.test");
    /* internal target: nothing */
    m365_rule(&h, T0 + 10 * DAY + 10 * 3600, "fay@example.org", "New-InboxRule",
              "Parameters.ForwardTo", "gus@example.org");
    assert_int_equal(h.nf, 0);
    /* a domain nobody writes to: 1.2 */
    m365_rule(&h, T0 + 10 * DAY + 11 * 3600, "fay@example.org", "New-InboxRule",
              "Parameters.ForwardTo", "drop@keepmail-drop.test");
    assert_int_equal(h.nf, 1);
    assert_string_equal(h.f[0].feature, "forward-target");
    assert_string_equal(h.f[0].value, "drop@keepmail-drop.test");
    assert_true(h.f[0].score == 1.2);
    assert_non_null(strstr(h.f[0].text, "nobody in the organisation"));
    /* the same target again: known */
    m365_rule(&h, T0 + 10 * DAY + 12 * 3600, "fay@example.org", "Set-Mailbox",
              "Parameters.ForwardingSmtpAddress", "smtp:drop@keepmail-drop.test");
    assert_int_equal(h.nf, 1);
    /* a domain the organisation writes to: 0.6 */
    m365_rule(&h, T0 + 10 * DAY + 13 * 3600, "fay@example.org", "Set-Mailbox",
              "Parameters.ForwardingSmtpAddress", "SMTP:y@Partner.test");
    assert_int_equal(h.nf, 2);
    assert_true(h.f[1].score == 0.6);
    assert_string_equal(h.f[1].value, "y@partner.test");
    /* Postfix: an internal address delivered to an external one */
    feed(&h, mkev(&h, "postfix", T0 + 10 * DAY + 14 * 3600, "@action", "delivery", "@to",
                  "z@elsewhere.test", "orig_to", "fay@example.org", "queue_id", "BBB2", NULL));
    assert_int_equal(h.nf, 3);
    assert_true(h.f[2].score == 1.2);
    assert_string_equal(h.f[2].entity, "fay@example.org");
    h_free(&h);
}

static void test_recipients_new_domain(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    char qid[32], to[64];
    for (uint32_t d = 0; d < 20; d++) {
        normal_days(&h, "gil@example.org", d, 1);
        for (int k = 0; k < 2; k++) {
            snprintf(qid, sizeof qid, "Q%u%d", d, k);
            snprintf(to, sizeof to, "c%d@customer.test", k);
            postfix_send(&h, T0 + d * DAY + (10 + k) * 3600, qid, "gil@example.org", to);
        }
    }
    assert_int_equal(h.nf, 0);
    for (int k = 0; k < 70; k++) {
        snprintf(qid, sizeof qid, "N%d", k);
        snprintf(to, sizeof to, "billing%d@invoice-drop.test", k);
        postfix_send(&h, T0 + 20 * DAY + 10 * 3600 + k * 30, qid, "gil@example.org", to);
    }
    assert_int_equal(count_facts(&h, "recipient-domain", 0.4), 1);
    assert_string_equal(find_fact(&h, "recipient-domain")->value, "invoice-drop.test");
    /* messages and recipients are one group: 0.8 then 0.9, once each */
    assert_int_equal(count_facts(&h, "sending", 0.8), 2);
    assert_int_equal(h.nf, 3);
    h_free(&h);
}

static void test_delegation(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    for (uint32_t d = 0; d < 10; d++)
        feed(&h, mkev(&h, "m365", T0 + d * DAY + 10 * 3600, "@user", "hal@example.org", "@ip",
                      "198.51.100.7", "@action", "MailItemsAccessed", "MailboxOwnerUPN",
                      "hal@example.org", "Folders.ItemCount", "3", NULL));
    assert_int_equal(h.nf, 0);
    feed(&h, mkev(&h, "m365", T0 + 10 * DAY + 10 * 3600, "@user", "hal@example.org", "@ip",
                  "198.51.100.7", "@action", "MailItemsAccessed", "MailboxOwnerUPN",
                  "Boss@example.org", NULL));
    assert_int_equal(h.nf, 1);
    assert_string_equal(h.f[0].feature, "mailbox");
    assert_string_equal(h.f[0].value, "boss@example.org");
    assert_true(h.f[0].score == 0.5);
    /* a grant first: the reads that follow are not new */
    feed(&h, mkev(&h, "m365", T0 + 10 * DAY + 11 * 3600, "@user", "admin@example.org", "@ip",
                  "198.51.100.7", "@action", "Add-MailboxPermission", "Parameters.Identity",
                  "ceo@example.org", "Parameters.User", "hal@example.org", NULL));
    assert_int_equal(h.nf, 2);
    assert_string_equal(h.f[1].entity, "hal@example.org");
    feed(&h, mkev(&h, "m365", T0 + 10 * DAY + 12 * 3600, "@user", "hal@example.org", "@ip",
                  "198.51.100.7", "@action", "MailItemsAccessed", "MailboxOwnerUPN",
                  "ceo@example.org", NULL));
    assert_int_equal(h.nf, 2);
    /* service principals are the application module's */
    feed(&h, mkev(&h, "m365", T0 + 10 * DAY + 13 * 3600, "@user",
                  "ServicePrincipal_0b1c2d3e-0000-4000-8000-000000000001", "@ip", "192.0.2.1",
                  "@action", "MailItemsAccessed", "MailboxOwnerUPN", "ceo@example.org", NULL));
    assert_int_equal(h.nf, 2);
    h_free(&h);
}

/* ---- persistence --------------------------------------------------------- */

struct blob {
    int kind;
    char entity[128];
    uint8_t *data;
    size_t n;
};
struct blobs {
    struct blob v[64];
    int n;
};

static int put_blob(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct blobs *b = o;
    assert_true(b->n < 64);
    struct blob *x = &b->v[b->n++];
    x->kind = kind;
    snprintf(x->entity, sizeof x->entity, "%s", entity);
    x->data = malloc(n ? n : 1);
    memcpy(x->data, blob, n);
    x->n = n;
    return 0;
}

static void blobs_free(struct blobs *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->v[i].data);
    b->n = 0;
}

static void later_events(struct h *h)
{
    login(h, T0 + 21 * DAY + 3 * 3600, "dave@example.org", "203.0.113.9");
    for (int k = 0; k < 4; k++)
        logout(h, T0 + 21 * DAY + (3 + k) * 3600 + 60, "dave@example.org", 80e6, 10);
    m365_rule(h, T0 + 21 * DAY + 5 * 3600, "dave@example.org", "New-InboxRule",
              "Parameters.RedirectTo", "a@b.test");
}

static void test_save_load(void **state)
{
    (void)state;
    struct h a, b;
    h_init(&a, &bl_account_module, true);
    h_init(&b, &bl_account_module, true);
    normal_days(&a, "dave@example.org", 0, 20);
    postfix_send(&a, T0 + 3 * DAY, "Q1", "dave@example.org", "x@partner.test");
    struct blobs bl = {0};
    assert_int_equal(a.ops->save(a.m, true, put_blob, &bl), 0);
    assert_int_equal(bl.n, 2); /* the account and the organisation */
    for (int i = 0; i < bl.n; i++)
        assert_int_equal(b.ops->load(b.m, bl.v[i].kind, bl.v[i].entity, bl.v[i].data, bl.v[i].n),
                         0);
    /* nothing changed since: an incremental save writes nothing */
    struct blobs none = {0};
    assert_int_equal(a.ops->save(a.m, false, put_blob, &none), 0);
    assert_int_equal(none.n, 0);
    /* saving the loaded profile gives the same bytes */
    struct blobs again = {0};
    assert_int_equal(b.ops->save(b.m, true, put_blob, &again), 0);
    assert_int_equal(again.n, bl.n);
    later_events(&a);
    later_events(&b);
    assert_true(a.nf >= 3);
    assert_int_equal(a.nf, b.nf);
    for (int i = 0; i < a.nf; i++) {
        assert_string_equal(a.f[i].text, b.f[i].text);
        assert_true(a.f[i].score == b.f[i].score);
    }
    struct buf j;
    buf_init(&j);
    assert_int_equal(b.ops->show(b.m, BL_ACCOUNT, "Dave@example.org", &j), 1);
    assert_non_null(strstr(j.data, "\"networks\":[{\"value\":\"198.51.100.0/24\""));
    assert_non_null(strstr(j.data, "\"download-bytes\":{\"days\":22,\"p50\":10000000"));
    assert_non_null(strstr(j.data, "\"forwarding_targets\":[{\"value\":\"a@b.test\""));
    buf_clear(&j);
    assert_int_equal(b.ops->show(b.m, BL_ACCOUNT, "nobody@example.org", &j), 0);
    buf_free(&j);
    struct bl_module_stats st;
    b.ops->stats(b.m, &st);
    assert_int_equal(st.entities, 1);
    assert_true(st.bytes > 1000);
    blobs_free(&bl);
    blobs_free(&again);
    h_free(&a);
    h_free(&b);
}

static void test_malformed_blobs(void **state)
{
    (void)state;
    struct h a, b;
    h_init(&a, &bl_account_module, true);
    h_init(&b, &bl_account_module, true);
    normal_days(&a, "dave@example.org", 0, 3);
    struct blobs bl = {0};
    assert_int_equal(a.ops->save(a.m, true, put_blob, &bl), 0);
    for (int i = 0; i < bl.n; i++) {
        struct blob *x = &bl.v[i];
        /* every truncation is refused */
        for (size_t cut = 0; cut < x->n; cut++)
            assert_int_equal(b.ops->load(b.m, x->kind, x->entity, x->data, cut), -EINVAL);
        /* trailing bytes too */
        uint8_t *longer = malloc(x->n + 1);
        memcpy(longer, x->data, x->n);
        longer[x->n] = 0;
        assert_int_equal(b.ops->load(b.m, x->kind, x->entity, longer, x->n + 1), -EINVAL);
        free(longer);
        /* another kind, another version */
        assert_int_equal(b.ops->load(b.m, BL_HOST, x->entity, x->data, x->n), -EINVAL);
        x->data[0] = 99;
        assert_int_equal(b.ops->load(b.m, x->kind, x->entity, x->data, x->n), -EINVAL);
    }
    /* garbage: refused or taken, never a crash */
    uint8_t junk[300];
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 300);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            junk[k] = (uint8_t)(seed >> 16);
        }
        if (n)
            junk[0] = 1;
        int rc =
            b.ops->load(b.m, BL_ACCOUNT, round & 1 ? "x@example.org" : "(organisation)", junk, n);
        assert_true(rc == 0 || rc == -EINVAL);
    }
    struct bl_module_stats st;
    b.ops->stats(b.m, &st);
    assert_true(st.entities <= 1);
    blobs_free(&bl);
    h_free(&a);
    h_free(&b);
}

static void test_max_entities(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_account_module, true);
    h.cfg.max_entities = 10;
    char user[64];
    for (int k = 0; k < 25; k++) {
        snprintf(user, sizeof user, "u%d@example.org", k);
        login(&h, T0 + (uint32_t)k * 60, user, "198.51.100.7");
    }
    struct bl_module_stats st;
    h.ops->stats(h.m, &st);
    assert_int_equal(st.entities, 10);
    assert_int_equal(st.evicted, 15);
    struct buf j;
    buf_init(&j);
    assert_int_equal(h.ops->show(h.m, BL_ACCOUNT, "u24@example.org", &j), 1);
    buf_clear(&j);
    assert_int_equal(h.ops->show(h.m, BL_ACCOUNT, "u0@example.org", &j), 0);
    buf_free(&j);
    h.ops->age(h.m, T0 + 20 * 60);
    h.ops->stats(h.m, &st);
    assert_int_equal(st.entities, 5);
    assert_int_equal(st.aged, 5);
    h_free(&h);
}

/* ---- applications --------------------------------------------------------- */

#define APP_PDF    "5a1b2c3d-1111-4222-8333-444455556666"
#define APP_BACKUP "9f8e7d6c-aaaa-4bbb-8ccc-dddd00001111"

static void mia(struct h *h, uint32_t t, const char *app, const char *owner, const char *user)
{
    feed(h, mkev(h, "m365", t, "@user", user, "@ip", "192.0.2.77", "@action", "MailItemsAccessed",
                 "AppId", app, "ClientAppId", app, "MailboxOwnerUPN", owner, NULL));
}

static void test_app_never_read_then_reads(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_application_module, true);
    /* the application only signs a user in, for ten days */
    for (uint32_t d = 0; d < 10; d++)
        feed(&h, mkev(&h, "m365", T0 + d * DAY + 11 * 3600, "@user", "mu@example.org", "@ip",
                      "198.51.100.7", "@action", "UserLoggedIn", "@outcome", "success",
                      "ApplicationId", "5A1B2C3D-1111-4222-8333-444455556666", NULL));
    assert_int_equal(h.nf, 0);
    mia(&h, T0 + 10 * DAY + 14 * 3600, APP_PDF, "CEO@example.org",
        "ServicePrincipal_0b1c2d3e-0000-4000-8000-000000000001");
    assert_int_equal(h.nf, 2);
    assert_int_equal(h.f[0].kind, BL_APPLICATION);
    assert_string_equal(h.f[0].entity, APP_PDF);
    assert_string_equal(h.f[0].feature, "mail-read");
    assert_true(h.f[0].score == 1.2);
    assert_string_equal(h.f[0].app, APP_PDF);
    assert_string_equal(h.f[0].net, "192.0.2.0/24");
    assert_int_equal(h.f[1].kind, BL_ACCOUNT);
    assert_string_equal(h.f[1].entity, "ceo@example.org");
    assert_true(h.f[1].score == 1.2);
    /* another mailbox within the hour counts as much, for its owner too */
    mia(&h, T0 + 10 * DAY + 14 * 3600 + 60, APP_PDF, "cfo@example.org", "x");
    assert_int_equal(h.nf, 4);
    assert_string_equal(h.f[3].entity, "cfo@example.org");
    assert_true(h.f[3].score == 1.2);
    /* later, a known reader: 0.3 on the application only */
    mia(&h, T0 + 10 * DAY + 17 * 3600, APP_PDF, "cto@example.org", "x");
    assert_int_equal(h.nf, 5);
    assert_true(h.f[4].score == 0.3);
    assert_int_equal(h.f[4].kind, BL_APPLICATION);
    /* and nothing more within the hour */
    mia(&h, T0 + 10 * DAY + 17 * 3600 + 60, APP_PDF, "cio@example.org", "x");
    assert_int_equal(h.nf, 5);
    struct buf j;
    buf_init(&j);
    assert_int_equal(h.ops->show(h.m, BL_APPLICATION, APP_PDF, &j), 1);
    assert_non_null(strstr(j.data, "\"reads_mail\":true"));
    assert_non_null(strstr(j.data, "cfo@example.org"));
    buf_free(&j);
    h_free(&h);
}

static void test_app_backup_admin_consent(void **state)
{
    (void)state;
    struct h h;
    h_init(&h, &bl_application_module, true);
    for (uint32_t d = 0; d < 10; d++)
        feed(&h, mkev(&h, "m365", T0 + d * DAY + 9 * 3600, "@user", "amy@example.org", "@ip",
                      "198.51.100.7", "@action", "UserLoggedIn", "@outcome", "success",
                      "ApplicationId", "00000002-0000-0ff1-ce00-000000000000", NULL));
    feed(&h,
         mkev(&h, "m365", T0 + 10 * DAY + 11 * 3600, "@user", "admin@example.org", "@ip",
              "198.51.100.7", "@action", "Consent to application.", "@outcome", "success",
              "ModifiedProperties.ConsentContext.IsAdminConsent.NewValue", "True", "Target",
              "[{\"ID\":\"ServicePrincipal_11111111-2222-4333-8444-555555555555\",\"Type\":2},"
              "{\"ID\":\"Example Mail Backup\",\"Type\":1},{\"ID\":\"" APP_BACKUP "\",\"Type\":2}]",
              NULL));
    char owner[64];
    for (int k = 0; k < 40; k++) {
        snprintf(owner, sizeof owner, "user%d@example.org", k);
        mia(&h, T0 + 11 * DAY + 3600 + (uint32_t)k * 20, APP_BACKUP, owner,
            "ServicePrincipal_11111111-2222-4333-8444-555555555555");
    }
    /* one fact, weak, on the application only */
    assert_int_equal(h.nf, 1);
    assert_true(h.f[0].score < 0.6);
    assert_int_equal(h.f[0].kind, BL_APPLICATION);
    assert_non_null(strstr(h.f[0].text, "with an admin consent"));
    /* without the consent the same reads are 1.0 each on the owners too */
    struct h u;
    h_init(&u, &bl_application_module, true);
    feed(&u, mkev(&u, "m365", T0, "@user", "amy@example.org", "@action", "UserLoggedIn", NULL));
    for (int k = 0; k < 3; k++) {
        snprintf(owner, sizeof owner, "user%d@example.org", k);
        mia(&u, T0 + 11 * DAY + 3600 + (uint32_t)k * 20, APP_BACKUP, owner, "x");
    }
    assert_int_equal(count_facts(&u, "mailbox-reader", 1.0), 3);
    assert_int_equal(count_facts(&u, "mailbox", 1.0), 3);
    h_free(&u);
    /* round trip of the application profiles */
    struct blobs bl = {0};
    assert_int_equal(h.ops->save(h.m, true, put_blob, &bl), 0);
    struct h c;
    h_init(&c, &bl_application_module, true);
    for (int i = 0; i < bl.n; i++) {
        assert_int_equal(c.ops->load(c.m, bl.v[i].kind, bl.v[i].entity, bl.v[i].data, bl.v[i].n),
                         0);
        for (size_t cut = 0; cut < bl.v[i].n; cut++)
            assert_int_equal(c.ops->load(c.m, bl.v[i].kind, bl.v[i].entity, bl.v[i].data, cut),
                             -EINVAL);
    }
    assert_int_equal(c.ops->load(c.m, BL_APPLICATION, "not-a-guid", bl.v[0].data, bl.v[0].n),
                     -EINVAL);
    struct buf j;
    buf_init(&j);
    assert_int_equal(c.ops->show(c.m, BL_APPLICATION, APP_BACKUP, &j), 1);
    assert_non_null(strstr(j.data, "\"admin_consent\":\"2026-03-12T11:00:00"));
    buf_free(&j);
    blobs_free(&bl);
    h_free(&c);
    h_free(&h);

    /* a consent record that names the service principal's object id bare
     * too, beside its prefixed form: that GUID is not an application */
    struct h sp;
    h_init(&sp, &bl_application_module, true);
    feed(&sp,
         mkev(&sp, "m365", T0, "@user", "admin@example.org", "@action", "Consent to application.",
              "@outcome", "success", "ObjectId",
              "ServicePrincipal_11111111-2222-4333-8444-555555555555",
              "ModifiedProperties.ConsentContext.IsAdminConsent.NewValue", "True", "Target",
              "[{\"ID\":\"ServicePrincipal_11111111-2222-4333-8444-555555555555\",\"Type\":2},"
              "{\"ID\":\"11111111-2222-4333-8444-555555555555\",\"Type\":2},"
              "{\"ID\":\"Example Mail Backup\",\"Type\":1},{\"ID\":\"" APP_BACKUP "\",\"Type\":2}]",
              NULL));
    buf_init(&j);
    assert_int_equal(sp.ops->show(sp.m, BL_APPLICATION, APP_BACKUP, &j), 1);
    assert_int_equal(sp.ops->show(sp.m, BL_APPLICATION, "11111111-2222-4333-8444-555555555555", &j),
                     0);
    buf_free(&j);
    /* where the record names the application (ServicePrincipalNames), the
     * other GUIDs of its target are not taken */
    feed(&sp, mkev(&sp, "m365", T0 + 60, "@user", "admin@example.org", "@action",
                   "Consent to application.", "@outcome", "success",
                   "ModifiedProperties.TargetId.ServicePrincipalNames.NewValue",
                   "https://mail.example.test;22222222-3333-4444-8555-666666666666", "Target",
                   "[{\"ID\":\"77777777-3333-4444-8555-666666666666\",\"Type\":2}]", NULL));
    buf_init(&j);
    assert_int_equal(sp.ops->show(sp.m, BL_APPLICATION, "22222222-3333-4444-8555-666666666666", &j),
                     1);
    assert_int_equal(sp.ops->show(sp.m, BL_APPLICATION, "77777777-3333-4444-8555-666666666666", &j),
                     0);
    buf_free(&j);
    h_free(&sp);
}

/* ---- the profile table --------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    enum { N = 3000 };
    static struct bl_tent ents[N];
    static bool in[N];
    static char ids[N][16];
    struct bl_table t;
    bl_table_init(&t);
    uint32_t seed = 7, live = 0;
    for (int round = 0; round < 40000; round++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % N);
        if (!ids[k][0]) {
            snprintf(ids[k], sizeof ids[k], "id%d", k);
            ents[k].id = ids[k];
            ents[k].h = bl_hash(ids[k], strlen(ids[k]));
        }
        if (in[k]) {
            assert_ptr_equal(bl_table_get(&t, ids[k], strlen(ids[k])), &ents[k]);
            if (seed & 0x10000) {
                bl_table_remove(&t, &ents[k]);
                in[k] = false;
                live--;
            } else {
                bl_table_touch(&t, &ents[k], (uint32_t)round);
            }
        } else {
            assert_null(bl_table_get(&t, ids[k], strlen(ids[k])));
            assert_int_equal(bl_table_insert(&t, &ents[k]), 0);
            in[k] = true;
            live++;
        }
        assert_int_equal(t.n, live);
    }
    /* iteration sees every entry once; removing while iterating works */
    uint32_t pos = 0, seen = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&t, &pos))) {
        seen++;
        int k = atoi(e->id + 2);
        assert_true(in[k]);
        if (k % 2) {
            bl_table_remove_at(&t, &pos);
            in[k] = false;
        }
    }
    assert_true(seen >= live);
    for (int k = 0; k < N; k++)
        if (ids[k][0])
            assert_true((bl_table_get(&t, ids[k], strlen(ids[k])) != NULL) == in[k]);
    /* the activity list holds exactly the entries */
    uint32_t listed = 0;
    for (e = t.oldest; e; e = e->next)
        listed++;
    assert_int_equal(listed, t.n);
    bl_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_learning_quiet),
        cmocka_unit_test(test_first_seen_network),
        cmocka_unit_test(test_geo_lookup),
        cmocka_unit_test(test_first_seen_asn_country),
        cmocka_unit_test(test_volume),
        cmocka_unit_test(test_unusual_hour),
        cmocka_unit_test(test_unusual_weekday),
        cmocka_unit_test(test_forwarding),
        cmocka_unit_test(test_recipients_new_domain),
        cmocka_unit_test(test_delegation),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_malformed_blobs),
        cmocka_unit_test(test_max_entities),
        cmocka_unit_test(test_app_never_read_then_reads),
        cmocka_unit_test(test_app_backup_admin_consent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
