/* Unit tests for the baseline engine (src/baseline/baseline.c) over a test
 * module of its own: facts stack per feature group within the window, the
 * level decides, an entity pages again only when its level rises or the
 * window has passed, suppressions (entity, CIDR, detector, application,
 * kind) drop facts but count them, the same input gives byte-identical
 * alerts, profiles and facts go through a store and come back (and a
 * schema 3 store is upgraded), blobs a module refuses are counted, aging
 * forgets idle timelines, the entity limit holds, and the configuration is
 * checked (levels, CIDRs) and read from YAML (config-baselines.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <errno.h>

#include <sqlite3.h>

#include "baseline/baseline.h"
#include "baseline/bl-module.h"
#include "config/config.h"
#include "detect/detector.h"
#include "store/store.h"
#include "util/timeconv.h"

#include <jansson.h> /* after buf.h: its json_is_number is a macro */

/* ---- the test module ------------------------------------------------------
 * Every event with a user name counts in that user's profile; an event
 * with a native field "fact" = "detector:feature:score:value" emits that
 * fact for the user (kind account), with the event's source.ip as its
 * network and an "app" field as its application. */

struct tprof {
    char user[64];
    uint32_t events;
    bool dirty;
};
struct tmod {
    struct tprof p[64];
    size_t n;
    uint32_t aged_before;
};

static void *tm_create(const struct bl_config *c, struct bl_labels *l)
{
    (void)c;
    (void)l;
    return calloc(1, sizeof(struct tmod));
}
static void tm_destroy(void *m)
{
    free(m);
}
static struct tprof *tm_prof(struct tmod *m, const char *u, size_t n, bool make)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->p[i].user) == n && !memcmp(m->p[i].user, u, n))
            return &m->p[i];
    if (!make || m->n == 64 || n >= 64)
        return NULL;
    struct tprof *p = &m->p[m->n++];
    memcpy(p->user, u, n);
    p->user[n] = '\0';
    return p;
}
static const char *native(const struct event *ev, const char *key, size_t *n)
{
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (str_eq(ev->fields[i].key, key)) {
            *n = ev->fields[i].val.n;
            return ev->fields[i].val.p;
        }
    return NULL;
}
static int tm_on_event(void *mp, struct bl_ctx *ctx, const struct event *ev)
{
    struct tmod *m = mp;
    struct str u = ev->core[CORE_USER_NAME];
    if (!u.n)
        return 0;
    struct tprof *p = tm_prof(m, u.p, u.n, true);
    if (!p)
        return 0;
    p->events++;
    p->dirty = true;
    size_t fn, an;
    const char *fact = native(ev, "fact", &fn);
    if (!fact)
        return 0;
    char det[32], feat[32], val[64], net[64] = "", app[64] = "";
    double score;
    char tmp[200];
    snprintf(tmp, sizeof(tmp), "%.*s", (int)fn, fact);
    if (sscanf(tmp, "%31[^:]:%31[^:]:%lf:%63s", det, feat, &score, val) != 4)
        return 0;
    struct str ip = ev->core[CORE_SOURCE_IP];
    if (ip.n)
        snprintf(net, sizeof(net), "%.*s/32", (int)ip.n, ip.p);
    const char *a = native(ev, "app", &an);
    if (a)
        snprintf(app, sizeof(app), "%.*s", (int)an, a);
    char text[160];
    snprintf(text, sizeof(text), "%s %s is new (%u events of history)", feat, val, p->events - 1);
    struct bl_fact f = {BL_ACCOUNT,
                        p->user,
                        strcmp(det, "fs") ? det : BL_DET_FIRST_SEEN,
                        feat,
                        val,
                        net[0] ? net : NULL,
                        app[0] ? app : NULL,
                        score,
                        text,
                        "T1078,T1114.002",
                        ev};
    return bl_emit(ctx, &f);
}
static int tm_save(void *mp, bool all,
                   int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                              size_t n),
                   void *o)
{
    struct tmod *m = mp;
    for (size_t i = 0; i < m->n; i++) {
        if (!all && !m->p[i].dirty)
            continue;
        char blob[32];
        int n = snprintf(blob, sizeof(blob), "v1:%u", m->p[i].events);
        int rc = put(o, BL_ACCOUNT, m->p[i].user, blob, (size_t)n);
        if (rc)
            return rc;
        m->p[i].dirty = false;
    }
    return 0;
}
static int tm_load(void *mp, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct tmod *m = mp;
    char tmp[32];
    unsigned v;
    if (kind != BL_ACCOUNT || n >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, blob, n);
    tmp[n] = '\0';
    if (sscanf(tmp, "v1:%u", &v) != 1)
        return -EINVAL;
    struct tprof *p = tm_prof(m, entity, strlen(entity), true);
    if (!p)
        return -ENOMEM;
    p->events = v;
    return 0;
}
static int tm_show(void *mp, enum bl_kind kind, const char *entity, struct buf *json)
{
    struct tprof *p = kind == BL_ACCOUNT ? tm_prof(mp, entity, strlen(entity), false) : NULL;
    if (!p)
        return 0;
    buf_printf(json, "\"events\":%u", p->events);
    return 1;
}
static void tm_age(void *mp, uint32_t before)
{
    ((struct tmod *)mp)->aged_before = before;
}
static void tm_stats(void *mp, struct bl_module_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->entities = ((struct tmod *)mp)->n;
    st->bytes = sizeof(struct tmod);
}

static const struct bl_module_ops test_module = {
    "test", tm_create, tm_destroy, tm_on_event, tm_save, tm_load, tm_show, tm_age, tm_stats,
};
static const struct bl_module_ops *const test_modules[] = {&test_module};

/* ---- fixtures -------------------------------------------------------------- */

#define T0 1700000000LL /* 2023-11-14T22:13:20Z */

struct fx {
    struct bl_config cfg;
    struct baseline *b;
    struct detector *d;
    struct arena a;
    uint64_t line;
};

static void fx_start(struct fx *f)
{
    char *err = NULL;
    f->b = baseline_new_modules(&f->cfg, test_modules, 1, &err);
    assert_null(err);
    assert_non_null(f->b);
    f->d = detector_new(NULL);
    struct alert_source src = baseline_source(f->b);
    assert_int_equal(detector_add_source(f->d, &src), 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    bl_config_default(&f->cfg);
    arena_init(&f->a, 4096);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    detector_free(f->d);
    baseline_free(f->b);
    bl_config_free(&f->cfg);
    arena_free(&f->a);
    free(f);
    return 0;
}

/* One event of user at T0 + s seconds with fact (NULL: none). */
static void feed(struct fx *f, const char *user, int64_t s, const char *fact, const char *ip,
                 const char *app)
{
    struct event ev;
    event_init(&ev, &f->a);
    ev.ts_ns = (T0 + s) * NS_PER_SEC;
    ev.file = "test.log";
    ev.line = ++f->line;
    ev.id = 0x1000 + f->line;
    ev.core[CORE_USER_NAME] = str_make(user, strlen(user));
    if (ip)
        ev.core[CORE_SOURCE_IP] = str_make(ip, strlen(ip));
    if (fact)
        event_add_str(&ev, "fact", str_make(fact, strlen(fact)));
    if (app)
        event_add_str(&ev, "app", str_make(app, strlen(app)));
    struct alert_source src = baseline_source(f->b);
    assert_int_equal(src.on_event(src.opaque, f->d, &ev), 0);
}

/* The alerts so far, parsed (a JSON array). */
static json_t *alerts(struct fx *f, char **text)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    assert_int_equal(detector_write(f->d, m, true), 0);
    fclose(m);
    json_t *arr = json_array();
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n'))) {
        json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);
        assert_non_null(j);
        json_array_append_new(arr, j);
        line = nl + 1;
    }
    if (text)
        *text = buf;
    else
        free(buf);
    return arr;
}

static const char *sget(json_t *j, const char *path)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = strtok(tmp, "."); p && j; p = strtok(NULL, "."))
        j = json_object_get(j, p);
    return json_string_value(j);
}

static double nget(json_t *j, const char *path)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = strtok(tmp, "."); p && j; p = strtok(NULL, "."))
        j = json_object_get(j, p);
    return json_number_value(j);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_stacking_and_levels(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    /* network 0.3 and asn 0.4: one location group (0.4): no alert */
    feed(f, "alice", 0, "fs:network:0.3:203.0.113.0/24", "203.0.113.9", NULL);
    feed(f, "alice", 60, "fs:asn:0.4:AS64511", "203.0.113.9", NULL);
    json_t *a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* + an unusual hour 0.4: 0.8, low */
    feed(f, "alice", 120, "time:hour:0.4:03h", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 1);
    json_t *x = json_array_get(a, 0);
    assert_string_equal(sget(x, "kind"), "anomaly");
    assert_string_equal(sget(x, "rule.level"), "low");
    assert_string_equal(sget(x, "rule.id"), "kenchi.baseline.first-seen");
    assert_string_equal(sget(x, "rule.name"), "Anomalous account alice");
    assert_true(nget(x, "anomaly.score") > 0.79 && nget(x, "anomaly.score") < 0.81);
    assert_string_equal(sget(x, "anomaly.entity.kind"), "account");
    assert_string_equal(sget(x, "anomaly.entity.id"), "alice");
    json_t *facts = json_object_get(json_object_get(x, "anomaly"), "facts");
    assert_int_equal(json_array_size(facts), 2); /* the group maxima */
    assert_string_equal(sget(json_array_get(facts, 0), "feature"), "asn");
    assert_string_equal(sget(json_array_get(facts, 1), "detector"), "time");
    assert_string_equal(sget(json_array_get(facts, 0), "event.id"), "0000000000001002");
    assert_non_null(strstr(sget(x, "anomaly.explanation"), "asn AS64511 is new"));
    assert_non_null(strstr(sget(x, "anomaly.explanation"), "; hour 03h is new"));
    assert_string_equal(sget(x, "anomaly.window.start"), "2023-11-14T22:14:20.000000000Z");
    assert_string_equal(sget(x, "anomaly.window.end"), "2023-11-14T22:15:20.000000000Z");
    json_t *tags = json_object_get(json_object_get(x, "rule"), "tags");
    assert_int_equal(json_array_size(tags), 2); /* the union, each once */
    assert_int_equal(json_array_size(json_object_get(x, "events")), 2);
    assert_string_equal(sget(x, "entity.user.name"), "alice");
    json_decref(a);
    /* + volume 0.8: 1.6, medium: the level rose, another alert */
    feed(f, "alice", 180, "volume:download-bytes:0.8:2100000000", NULL, NULL);
    /* + client 0.3: 1.9, still medium: nothing new */
    feed(f, "alice", 240, "fs:client:0.3:Thunderbird", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(sget(json_array_get(a, 1), "rule.level"), "medium");
    assert_string_equal(sget(json_array_get(a, 1), "rule.id"), "kenchi.baseline.volume");
    json_decref(a);
    /* + forwarding 1.2: 3.1, critical */
    feed(f, "alice", 300, "fs:forward-target:1.2:evil.example", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 3);
    x = json_array_get(a, 2);
    assert_string_equal(sget(x, "rule.level"), "critical");
    assert_true(nget(x, "anomaly.score") > 3.09 && nget(x, "anomaly.score") < 3.11);
    assert_int_equal(json_array_size(json_object_get(json_object_get(x, "anomaly"), "facts")), 5);
    json_decref(a);
    /* another entity stacks apart */
    feed(f, "bob", 300, "fs:network:0.5:198.51.100.0/24", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    struct baseline_stats st;
    baseline_stats(f->b, &st);
    assert_int_equal(st.facts, 7);
    assert_int_equal(st.alerts, 3);
    assert_int_equal(st.entities, 2);
    assert_int_equal(st.nmodules, 1);
    assert_string_equal(st.module[0].name, "test");
    assert_int_equal(st.module[0].entities, 2);
    assert_int_equal(st.module[0].facts, 7); /* counted by the engine */
    assert_true(st.bytes > 0);
    /* an unusual hour and an unusual weekday are one group: 0.4, not 0.7 */
    feed(f, "erin", 400, "time:hour:0.4:03h", NULL, NULL);
    feed(f, "erin", 410, "time:weekday:0.3:Saturday", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    feed(f, "erin", 420, "fs:client:0.3:x", NULL, NULL); /* 0.7: low */
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 4);
    x = json_array_get(a, 3);
    assert_true(nget(x, "anomaly.score") > 0.69 && nget(x, "anomaly.score") < 0.71);
    assert_int_equal(json_array_size(json_object_get(json_object_get(x, "anomaly"), "facts")), 2);
    json_decref(a);
}

static void test_window(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    /* 0.4 then 0.4 two hours later: never together in one window */
    feed(f, "carol", 0, "fs:client:0.4:a", NULL, NULL);
    feed(f, "carol", 7200, "time:hour:0.4:04h", NULL, NULL);
    json_t *a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* within the hour of the second: 0.8, low */
    feed(f, "carol", 7300, "fs:application:0.4:app1", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    /* the same level again within the window: nothing; after it: again */
    feed(f, "carol", 7400, "fs:mailbox:0.2:boss", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    feed(f, "carol", 7300 + 3600 + 10, "fs:client:0.3:b", NULL, NULL);
    feed(f, "carol", 7300 + 3600 + 20, "time:hour:0.4:05h", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(sget(json_array_get(a, 1), "rule.level"), "low");
    json_decref(a);
    /* a window of one minute: facts 2 minutes apart do not stack */
    f->cfg.window_s = 60;
    char *err = NULL;
    assert_int_equal(baseline_reconfigure(f->b, &f->cfg, &err), 0);
    feed(f, "dave", 20000, "fs:client:0.4:x", NULL, NULL);
    feed(f, "dave", 20120, "time:hour:0.4:10h", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);
}

static void test_suppressions(void **state)
{
    struct fx *f = *state;
    struct bl_suppress s[4] = {
        {.kind = -1, .network = strdup("203.0.113.0/24")},
        {.kind = BL_ACCOUNT, .entity = strdup("svc-backup"), .detector = strdup("volume")},
        {.kind = -1, .application = strdup("APP-1")},
        {.kind = BL_HOST, .feature = strdup("client")}, /* another kind: no effect */
    };
    f->cfg.suppress = malloc(sizeof(s));
    memcpy(f->cfg.suppress, s, sizeof(s));
    f->cfg.nsuppress = 4;
    fx_start(f);
    /* the network of the event (its /32) lies in the suppressed /24 */
    feed(f, "erin", 0, "fs:network:1.2:x", "203.0.113.77", NULL);
    /* the value is an address inside */
    feed(f, "erin", 1, "fs:destination:1.2:203.0.113.5:443", NULL, NULL);
    feed(f, "svc-backup", 2, "volume:download-bytes:0.9:1e10", NULL, NULL);
    feed(f, "erin", 3, "fs:application:1.2:app-1", NULL, "app-1");
    json_t *a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* outside every suppression: alerts */
    feed(f, "erin", 4, "fs:network:0.6:198.51.100.0/24", "198.51.100.1", NULL);
    feed(f, "svc-backup", 5, "fs:client:0.6:x", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);
    struct baseline_stats st;
    baseline_stats(f->b, &st);
    assert_int_equal(st.facts, 6);
    assert_int_equal(st.suppressed, 4);
    /* a bad CIDR is refused with its text */
    struct bl_config c;
    bl_config_default(&c);
    c.suppress = calloc(1, sizeof(*c.suppress));
    c.nsuppress = 1;
    c.suppress[0].kind = -1;
    c.suppress[0].network = strdup("10.0.0.0/33");
    char *err = NULL;
    assert_null(baseline_new_modules(&c, test_modules, 1, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    free(err);
    bl_config_free(&c);
}

static char *run_once(void)
{
    struct fx *f = NULL;
    setup((void **)&f);
    fx_start(f);
    const char *users[] = {"u1", "u2", "u3"};
    static const char *const facts[] = {"fs:network:0.3:n", "time:hour:0.4:h",
                                        "volume:mail-sent:0.8:9", "fs:client:0.3:c"};
    for (int i = 0; i < 200; i++)
        feed(f, users[i % 3], (i * 97) % 9000, facts[(i * 7) % 4], NULL, NULL);
    char *text = NULL;
    json_t *a = alerts(f, &text);
    assert_true(json_array_size(a) > 3);
    json_decref(a);
    teardown((void **)&f);
    return text;
}

static void test_determinism(void **state)
{
    (void)state;
    char *a = run_once(), *b = run_once();
    assert_string_equal(a, b);
    free(a);
    free(b);
}

struct facts_seen {
    int n;
    char last[96];
};
static int fact_cb(void *o, const struct store_bl_fact *f)
{
    struct facts_seen *fs = o;
    fs->n++;
    snprintf(fs->last, sizeof(fs->last), "%s %s %s %g", f->entity, f->detector, f->feature,
             f->score);
    json_t *j = json_loads(f->json, 0, NULL);
    assert_non_null(j);
    assert_string_equal(sget(j, "detector"), f->detector);
    json_decref(j);
    return 0;
}
static int entity_cb(void *o, const struct store_bl_entity *e)
{
    (void)e;
    (*(int *)o)++;
    return 0;
}

/* A fresh directory dir (a mkdtemp template) and the store path in it. */
static void tmp_store_path(char *dir, char *path, size_t n)
{
    assert_non_null(mkdtemp(dir));
    snprintf(path, n, "%s/k.db", dir);
}

static void rm_dir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_persistence(void **state)
{
    struct fx *f = *state;
    char dir[] = "/tmp/kenchi-test-bl-XXXXXX", path[128];
    tmp_store_path(dir, path, sizeof(path));
    struct store *s = NULL;
    assert_int_equal(store_open(path, NULL, &s), 0);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    fx_start(f);
    baseline_keep_facts(f->b, true);
    feed(f, "alice", 0, NULL, NULL, NULL);
    feed(f, "alice", 10, "fs:network:0.3:192.0.2.0/24", NULL, NULL);
    feed(f, "bob", 20, NULL, NULL, NULL);
    assert_int_equal(baseline_save(f->b, s, false), 0);
    /* nothing changed: nothing more to save; the same fact twice is kept once */
    struct store_bl_rows r;
    assert_int_equal(baseline_take_rows(f->b, BL_SAVE_FACTS | BL_SAVE_PROFILES, &r), 0);
    assert_int_equal(r.np, 0);
    assert_int_equal(r.nf, 0);
    /* all profiles, whether they changed or not; facts left for later */
    feed(f, "bob", 25, "fs:client:0.1:x", NULL, NULL);
    assert_int_equal(baseline_take_rows(f->b, BL_SAVE_ALL, &r), 0);
    assert_int_equal(r.np, 2);
    assert_int_equal(r.nf, 0);
    feed(f, "bob", 30, "time:hour:0.4:02h", NULL, NULL);
    assert_int_equal(baseline_save(f->b, s, false), 0);
    struct baseline_stats st;
    baseline_stats(f->b, &st);
    assert_int_equal(st.profiles_saved, 5);
    assert_int_equal(st.facts_saved, 3);
    /* a blob the module refuses */
    struct store_bl_profile bad = {"test", "account", "mallory", "garbage", 7, 1};
    struct store_bl_rows br = {&bad, 1, NULL, 0};
    assert_int_equal(store_baseline_save(s, &br), 0);
    assert_int_equal(store_close(s), 0);

    /* a new engine takes the profiles back */
    assert_int_equal(store_open(path, NULL, &s), 0);
    char *err = NULL;
    struct baseline *b2 = baseline_new_modules(&f->cfg, test_modules, 1, &err);
    assert_non_null(b2);
    assert_int_equal(baseline_load(b2, s), 0);
    baseline_stats(b2, &st);
    assert_int_equal(st.profiles_loaded, 2);
    assert_int_equal(st.profiles_refused, 1);
    struct buf j;
    buf_init(&j);
    assert_int_equal(baseline_show(b2, -1, "alice", &j), 1);
    assert_string_equal(j.data, "\"test\":{\"kind\":\"account\",\"events\":2}");
    buf_clear(&j);
    assert_int_equal(baseline_show(b2, BL_HOST, "alice", &j), 0);
    assert_int_equal(baseline_show(b2, -1, "nobody", &j), 0);
    buf_free(&j);
    baseline_free(b2);
    /* one entity only */
    b2 = baseline_new_modules(&f->cfg, test_modules, 1, &err);
    assert_int_equal(baseline_load_entity(b2, s, BL_ACCOUNT, "bob"), 0);
    baseline_stats(b2, &st);
    assert_int_equal(st.profiles_loaded, 1);
    baseline_free(b2);

    /* the facts, oldest first; the newest one alone */
    struct facts_seen fs = {0, ""};
    assert_int_equal(store_baseline_facts(s, "account", NULL, 0, fact_cb, &fs), 0);
    assert_int_equal(fs.n, 3);
    assert_string_equal(fs.last, "bob time hour 0.4");
    fs.n = 0;
    assert_int_equal(store_baseline_facts(s, "account", "alice", 1, fact_cb, &fs), 0);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.last, "alice first-seen network 0.3");
    int nent = 0;
    assert_int_equal(store_baseline_entities(s, NULL, entity_cb, &nent), 0);
    assert_int_equal(nent, 3); /* alice, bob, mallory */
    store_close(s);
    rm_dir(dir);
}

/* A restarted engine stacks new facts with the saved facts of the last
 * window, and does not page again for a level already raised. */
static void test_restore_window(void **state)
{
    struct fx *f = *state;
    char dir[] = "/tmp/kenchi-test-bl-XXXXXX", path[128];
    tmp_store_path(dir, path, sizeof(path));
    struct store *s = NULL;
    assert_int_equal(store_open(path, NULL, &s), 0);
    fx_start(f);
    baseline_keep_facts(f->b, true);
    feed(f, "carol", -9000, "time:hour:0.4:20h", NULL, NULL); /* long before: not restored */
    feed(f, "alice", 0, "fs:network:0.3:203.0.113.0/24", "203.0.113.9", NULL);
    feed(f, "alice", 60, "time:hour:0.4:03h", NULL, NULL); /* 0.7: low */
    json_t *a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(sget(json_array_get(a, 0), "rule.level"), "low");
    json_decref(a);
    assert_int_equal(baseline_save(f->b, s, false), 0);
    detector_free(f->d);
    baseline_free(f->b);

    /* the restart */
    fx_start(f);
    uint64_t n = 0;
    assert_int_equal(baseline_restore(f->b, s, &n), 0);
    assert_int_equal(n, 2);
    /* a level already raised does not page again */
    feed(f, "alice", 120, "fs:client:0.1:x", NULL, NULL); /* 0.8: still low */
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* a new fact stacks with the restored ones: 0.3 + 0.4 + 0.6, medium */
    feed(f, "alice", 600, "fs:client:0.6:y", NULL, NULL);
    a = alerts(f, NULL);
    assert_int_equal(json_array_size(a), 1);
    json_t *al = json_array_get(a, 0);
    assert_string_equal(sget(al, "rule.level"), "medium");
    assert_true(fabs(nget(al, "anomaly.score") - 1.3) < 1e-9);
    json_t *facts = json_object_get(json_object_get(al, "anomaly"), "facts");
    assert_int_equal(json_array_size(facts), 3);
    assert_string_equal(sget(json_array_get(facts, 0), "value"), "203.0.113.0/24");
    /* the restored facts' events are listed too */
    assert_int_equal(json_array_size(json_object_get(al, "events")), 3);
    assert_string_equal(sget(al, "anomaly.window.start"), "2023-11-14T22:13:20.000000000Z");
    json_decref(a);
    /* an empty store restores nothing */
    store_close(s);
    char path2[160];
    snprintf(path2, sizeof(path2), "%s/empty.db", dir);
    assert_int_equal(store_open(path2, NULL, &s), 0);
    assert_int_equal(baseline_restore(f->b, s, &n), 0);
    assert_int_equal(n, 0);
    store_close(s);
    rm_dir(dir);
}

/* A schema 3 store (as the previous kenchi left it) is upgraded in place:
 * what it held stays, the baselines tables are added. */
static void test_upgrade_from_v3(void **state)
{
    (void)state;
    char dir[] = "/tmp/kenchi-test-bl-XXXXXX", path[128];
    tmp_store_path(dir, path, sizeof(path));
    struct store *s = NULL;
    assert_int_equal(store_open(path, NULL, &s), 0);
    assert_int_equal(store_state_set(s, "keep", "me"), 0);
    assert_int_equal(store_close(s), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE bl_profiles; DROP TABLE bl_facts;"
                                  " DROP TABLE hunt_pending; PRAGMA user_version=3;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    /* read-only: version 3, no baselines to read (not an error) */
    struct store_opts ro;
    store_opts_default(&ro);
    ro.read_only = true;
    assert_int_equal(store_open(path, &ro, &s), 0);
    assert_int_equal(store_schema_version(s), 3);
    int nent = 0;
    assert_int_equal(store_baseline_entities(s, NULL, entity_cb, &nent), 0);
    assert_int_equal(nent, 0);
    struct store_bl_rows r = {0};
    assert_int_equal(store_baseline_save(s, &r), -EPROTONOSUPPORT);
    store_close(s);
    assert_int_equal(store_open(path, NULL, &s), 0);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    char *v = NULL;
    assert_int_equal(store_state_get(s, "keep", &v), 0);
    assert_string_equal(v, "me");
    free(v);
    struct store_bl_profile p = {"test", "account", "alice", "v1:1", 4, 1};
    r = (struct store_bl_rows){&p, 1, NULL, 0};
    assert_int_equal(store_baseline_save(s, &r), 0);
    assert_int_equal(store_baseline_entities(s, NULL, entity_cb, &nent), 0);
    assert_int_equal(nent, 1);
    store_close(s);
    rm_dir(dir);
}

static void test_aging_and_limit(void **state)
{
    struct fx *f = *state;
    f->cfg.max_entities = 3;
    f->cfg.max_age_s = 86400 * 2;
    fx_start(f);
    feed(f, "a1", 0, "fs:client:0.1:x", NULL, NULL);
    feed(f, "a2", 1, "fs:client:0.1:x", NULL, NULL);
    feed(f, "a3", 2, "fs:client:0.1:x", NULL, NULL);
    feed(f, "a1", 3, "fs:client:0.1:y", NULL, NULL); /* a1 recent again */
    feed(f, "a4", 4, "fs:client:0.1:x", NULL, NULL); /* a2 goes */
    struct baseline_stats st;
    baseline_stats(f->b, &st);
    assert_int_equal(st.entities, 3);
    assert_int_equal(st.evicted, 1);
    struct buf j;
    buf_init(&j);
    assert_int_equal(baseline_timeline(f->b, -1, "a2", &j), 0);
    buf_clear(&j);
    assert_int_equal(baseline_timeline(f->b, BL_ACCOUNT, "a1", &j), 2);
    /* three days later: the idle timelines are forgotten, the modules aged */
    feed(f, "a5", 3 * 86400, "fs:client:0.1:x", NULL, NULL);
    baseline_stats(f->b, &st);
    assert_int_equal(st.entities, 1);
    buf_clear(&j);
    assert_int_equal(baseline_timeline(f->b, -1, "a1", &j), 0);
    buf_free(&j);
}

static void test_timeline_bound(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    char fact[64];
    for (int i = 0; i < BL_TIMELINE + 10; i++) {
        snprintf(fact, sizeof(fact), "fs:f%d:0.01:v", i);
        feed(f, "zed", i * 7200, fact, NULL, NULL);
    }
    struct buf j;
    buf_init(&j);
    assert_int_equal(baseline_timeline(f->b, -1, "zed", &j), BL_TIMELINE);
    assert_non_null(strstr(j.data, "\"f41\""));
    assert_null(strstr(j.data, "\"f9\""));
    buf_free(&j);
}

static void test_config_checks(void **state)
{
    (void)state;
    struct bl_config c;
    bl_config_default(&c);
    char *p = bl_config_problem(&c);
    assert_null(p);
    c.level_medium = 0.5; /* below low */
    p = bl_config_problem(&c);
    assert_non_null(p);
    assert_non_null(strstr(p, "ascend"));
    free(p);
    c.level_medium = 1.2;
    c.servers = calloc(1, sizeof(char *));
    c.servers[0] = strdup("mx.example.org");
    c.nservers = 1;
    p = bl_config_problem(&c);
    assert_non_null(p);
    assert_non_null(strstr(p, "servers: 'mx.example.org'"));
    free(p);
    struct bl_config d;
    assert_int_equal(bl_config_copy(&d, &c), 0);
    assert_string_equal(d.servers[0], "mx.example.org");
    assert_ptr_not_equal(d.servers[0], c.servers[0]);
    bl_config_free(&d);
    bl_config_free(&c);
    assert_int_equal(bl_kind_by_name("host"), BL_HOST);
    assert_int_equal(bl_kind_by_name("nope"), -1);
}

/* A saved series holding a total that is not a non-negative float is
 * refused (it would print as "inf" in `baseline show`). */
static void test_series_read_refuses(void **state)
{
    (void)state;
    const double bad[] = {1.0 / 0.0, -1, 1e300, 0.0 / 0.0};
    for (size_t k = 0; k < 4; k++) {
        struct buf b;
        buf_init(&b);
        bl_w_u64(&b, 86400); /* period */
        bl_w_u64(&b, 19000); /* newest */
        bl_w_u64(&b, 2);     /* n */
        bl_w_f64(&b, 5);
        bl_w_f64(&b, bad[k]);
        struct bl_series s;
        bl_series_init(&s, 86400, 64);
        struct bl_r r;
        bl_r_init(&r, b.data, b.len);
        bl_series_read(&r, &s);
        assert_true(r.bad);
        bl_series_free(&s);
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b);
    struct bl_series s, t;
    bl_series_init(&s, 86400, 64);
    bl_series_add(&s, 19000u * 86400, 1e9);
    bl_series_write(&b, &s);
    bl_series_init(&t, 86400, 64);
    struct bl_r r;
    bl_r_init(&r, b.data, b.len);
    bl_series_read(&r, &t);
    assert_false(r.bad);
    assert_true(bl_series_at(&t, 19000u * 86400) == 1e9);
    bl_series_free(&s);
    bl_series_free(&t);
    buf_free(&b);
}

static void test_config_section(void **state)
{
    (void)state;
    static const char good[] =
        "store: /tmp/x.db\n"
        "baselines:\n"
        "  learning: 3d\n"
        "  window: 30m\n"
        "  levels: {low: 0.5, medium: 1, high: 1.5, critical: 2.5}\n"
        "  internal_domains: [Example.ORG]\n"
        "  servers: [192.0.2.25, 2001:db8::/48]\n"
        "  accounts: {volume_factor: 12.5, hour_width: 2}\n"
        "  hosts: {bytes_min: 1GB, dns_ttl: 2h}\n"
        "  spraying: {window: 3d}\n"
        "  suppress:\n"
        "    - {kind: host, network: 198.51.100.0/24, detector: beaconing}\n";
    struct bl_config c;
    struct config_sections sec;
    assert_int_equal(config_parse_baselines("t.yml", good, strlen(good), NULL, &c, &sec), 0);
    assert_false(sec.sources);
    assert_true(sec.baselines);
    assert_int_equal(c.learning_s, 3 * 86400);
    assert_int_equal(c.window_s, 1800);
    assert_true(c.level_low == 0.5 && c.level_critical == 2.5);
    assert_int_equal(c.ninternal_domains, 1);
    assert_string_equal(c.internal_domains[0], "example.org");
    assert_int_equal(c.nservers, 2);
    assert_true(c.account.volume_factor == 12.5);
    assert_int_equal(c.account.hour_width, 2);
    assert_int_equal(c.account.max_values, 64); /* the default stays */
    assert_int_equal(c.host.bytes_min, 1000000000);
    assert_int_equal(c.host.dns_ttl_s, 7200);
    assert_int_equal(c.spraying.window_s, 3 * 86400);
    assert_int_equal(c.nsuppress, 1);
    assert_int_equal(c.suppress[0].kind, BL_HOST);
    assert_string_equal(c.suppress[0].detector, "beaconing");
    assert_null(bl_config_problem(&c));
    bl_config_free(&c);
    /* every problem counted, nothing kept */
    static const char bad[] = "baselines:\n"
                              "  windw: 1h\n"
                              "  learning: 7\n"
                              "  levels: {low: 3}\n"
                              "  servers: [mx1]\n"
                              "  suppress: [{}]\n"
                              "nonsense: 1\n";
    assert_int_equal(config_parse_baselines("t.yml", bad, strlen(bad), NULL, &c, NULL), 6);
    assert_int_equal(c.nservers, 0);
    assert_int_equal(c.window_s, 3600);
    bl_config_free(&c);
    /* the daemon's reader takes the same section */
    static const char run[] = "sources: [{type: stdin}]\nbaselines: {enabled: false}\n";
    struct config *cf = NULL;
    assert_int_equal(config_parse("r.yml", run, strlen(run), NULL, &cf), 0);
    assert_false(cf->baselines.enabled);
    config_free(cf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stacking_and_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suppressions, setup, teardown),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_window, setup, teardown),
        cmocka_unit_test(test_upgrade_from_v3),
        cmocka_unit_test_setup_teardown(test_aging_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeline_bound, setup, teardown),
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_config_section),
        cmocka_unit_test(test_series_read_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
