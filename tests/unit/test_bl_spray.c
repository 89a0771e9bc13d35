/* Unit tests for the spraying baseline module (bl-spray.c), driven
 * directly through struct bl_ctx with hand-made authentication events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define T0   1709251200u /* 2024-03-01T00:00:00Z */
#define HOUR 3600u
#define DAY  86400u

struct got {
    int kind;
    char entity[64], det[32], feature[40], value[128], text[400];
    double score;
};

struct env {
    struct bl_config cfg;
    struct bl_labels labels;
    struct bl_ctx ctx;
    void *m;
    struct arena a;
    struct got f[256];
    int n;
};

static int collect(void *o, const struct bl_fact *f)
{
    struct env *e = o;
    if (e->n >= 256)
        return 0;
    struct got *g = &e->f[e->n++];
    g->kind = (int)f->kind;
    snprintf(g->entity, sizeof g->entity, "%s", f->entity);
    snprintf(g->det, sizeof g->det, "%s", f->detector);
    snprintf(g->feature, sizeof g->feature, "%s", f->feature);
    snprintf(g->value, sizeof g->value, "%s", f->value ? f->value : "");
    snprintf(g->text, sizeof g->text, "%s", f->text);
    g->score = f->score;
    return 0;
}

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof *e);
    bl_config_default(&e->cfg);
    bl_labels_init(&e->labels, 0);
    e->ctx = (struct bl_ctx){.cfg = &e->cfg, .labels = &e->labels, .emit = collect, .opaque = e};
    e->m = bl_spraying_module.create(&e->cfg, &e->labels);
    assert_non_null(e->m);
    arena_init(&e->a, 4096);
    return e;
}

static void env_free(struct env *e)
{
    bl_spraying_module.destroy(e->m);
    bl_labels_free(&e->labels);
    arena_free(&e->a);
    free(e);
}

static struct str dup_str(struct env *e, const char *s)
{
    return (struct str){arena_strndup(&e->a, s, strlen(s)), strlen(s)};
}

/* product, action, outcome; native fields as key=value pairs (NULL-ended). */
static void auth(struct env *e, uint32_t t, const char *product, const char *service,
                 const char *action, bool ok, const char *ip, const char *user, ...)
{
    struct event ev;
    arena_reset(&e->a);
    event_init(&ev, &e->a);
    ev.ts_ns = (int64_t)t * NS_PER_SEC;
    ev.ls = (struct logsource){product, service, NULL};
    ev.parsed = true;
    event_set_core(&ev, CORE_SOURCE_IP, dup_str(e, ip));
    event_set_core(&ev, CORE_USER_NAME, dup_str(e, user));
    event_set_core(&ev, CORE_HOST_NAME, STR_LIT("mx1"));
    event_set_action(&ev, action, ok ? "success" : "failure");
    va_list ap;
    va_start(ap, user);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        event_add_copy(&ev, k, v, strlen(v), VT_STRING);
    }
    va_end(ap);
    assert_int_equal(bl_spraying_module.on_event(e->m, &e->ctx, &ev), 0);
}

static void m365_fail(struct env *e, uint32_t t, const char *ip, const char *user)
{
    auth(e, t, "m365", "audit", "UserLoginFailed", false, ip, user, NULL);
}

static int count(const struct env *e, const char *feature)
{
    int k = 0;
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->f[i].feature, feature))
            k++;
    return k;
}

/* 24 accounts, one every 4 hours, then 5 of them again: slow, over days. */
static void test_slow_spray(void **state)
{
    (void)state;
    struct env *e = env_new();
    char user[64];
    uint32_t t = T0;
    for (int i = 0; i < 24; i++, t += 4 * HOUR) {
        snprintf(user, sizeof user, "User%02d@example.org", i);
        m365_fail(e, t, "203.0.113.9", user);
        if (i == 8)
            assert_int_equal(e->n, 0);
    }
    for (int i = 0; i < 5; i++, t += HOUR) {
        snprintf(user, sizeof user, "user%02d@example.org", i);
        m365_fail(e, t, "203.0.113.9", user);
    }
    assert_true(e->n >= 1);
    const struct got *g = &e->f[0];
    assert_int_equal(g->kind, BL_SOURCE);
    assert_string_equal(g->entity, "203.0.113.9");
    assert_string_equal(g->det, BL_DET_SPRAYING);
    assert_float_equal(g->score, 1.5, 1e-9);
    assert_string_equal(g->text, "tried 10 accounts over 36 h, 1.0 attempts each, from "
                                 "203.0.113.9");
    /* one per day: the spray spans days 1..5 of which days 1..4 crossed */
    int days = count(e, "accounts-tried");
    assert_true(days >= 3 && days <= 4);
    assert_string_equal(e->f[e->n - 1].text, "tried 24 accounts over 4 days, 1.0 attempts each, "
                                             "from 203.0.113.9");
    struct buf j;
    buf_init(&j);
    assert_int_equal(bl_spraying_module.show(e->m, BL_SOURCE, "203.0.113.9", &j), 1);
    assert_non_null(strstr(j.data, "\"accounts_tried\":24"));
    assert_non_null(strstr(j.data, "\"attempts\":29"));
    assert_non_null(strstr(j.data, "\"spraying\":true"));
    assert_non_null(strstr(j.data, "{\"account\":\"user00@example.org\",\"attempts\":2"));
    buf_free(&j);
    env_free(e);
}

static void test_mistyping_and_office(void **state)
{
    (void)state;
    struct env *e = env_new();
    /* one user, five wrong passwords */
    for (int i = 0; i < 5; i++)
        auth(e, T0 + (uint32_t)i * 20, "dovecot", "auth", "auth-failure", false, "198.51.100.20",
             "anna@example.org", "session", i < 3 ? "s1" : "s2", NULL);
    /* an office behind one address: 30 people, 12 mistype then log in */
    char user[64];
    for (int i = 0; i < 30; i++) {
        snprintf(user, sizeof user, "p%02d@example.org", i);
        uint32_t t = T0 + (uint32_t)i * HOUR;
        if (i < 12)
            m365_fail(e, t, "192.0.2.10", user);
        auth(e, t + 30, "m365", "audit", "UserLoggedIn", true, "192.0.2.10", user, NULL);
    }
    assert_int_equal(e->n, 0);
    /* brute force: 12 accounts, 20 attempts each within the hour */
    for (int i = 0; i < 12; i++) {
        snprintf(user, sizeof user, "b%02d@example.org", i);
        for (int k = 0; k < 20; k++)
            m365_fail(e, T0 + 2 * DAY + (uint32_t)(i * 20 + k) * 10, "203.0.113.50", user);
    }
    assert_int_equal(e->n, 0);
    env_free(e);
}

/* Dovecot logs one failure twice (auth, then login with "N attempts");
 * sshd announces an unknown user before the failure. */
static void test_attempts_merged(void **state)
{
    (void)state;
    struct env *e = env_new();
    auth(e, T0, "dovecot", "auth", "auth-failure", false, "203.0.113.7", "a@example.org", "session",
         "S1", NULL);
    auth(e, T0 + 2, "dovecot", "imap-login", "login-failed", false, "203.0.113.7", "a@example.org",
         "session", "S1", "attempts", "1", NULL);
    auth(e, T0 + 5, "linux", "sshd", "invalid-user", false, "203.0.113.7", "deploy", "pid", "77",
         NULL);
    auth(e, T0 + 6, "linux", "sshd", "login-failed", false, "203.0.113.7", "deploy", "pid", "77",
         NULL);
    auth(e, T0 + 7, "linux", "sshd", "login-failed", false, "203.0.113.7", "deploy", "pid", "77",
         NULL);
    auth(e, T0 + 9, "postfix", "smtpd", "auth-failure", false, "203.0.113.7", "c@example.org",
         NULL);
    auth(e, T0 + 10, "linux", "sshd", "auth-failure", false, "203.0.113.7", "root", "pid", "78",
         NULL); /* pam_unix: the "Failed password" line counts */
    struct buf j;
    buf_init(&j);
    assert_int_equal(bl_spraying_module.show(e->m, BL_SOURCE, "203.0.113.7", &j), 1);
    assert_non_null(strstr(j.data, "\"accounts_tried\":3,"));
    assert_non_null(strstr(j.data, "\"attempts\":4,"));
    buf_free(&j);
    env_free(e);
}

static void spray(struct env *e, const char *ip, int from, int n, uint32_t t, uint32_t step)
{
    char user[64];
    for (int i = from; i < from + n; i++, t += step) {
        snprintf(user, sizeof user, "u%03d@example.org", i);
        auth(e, t, "postfix", "smtpd", "auth-failure", false, ip, user, NULL);
    }
}

static void test_login_after_spraying(void **state)
{
    (void)state;
    struct env *e = env_new();
    spray(e, "203.0.113.9", 0, 15, T0, 2 * HOUR);
    assert_int_equal(count(e, "accounts-tried"), 2); /* days 0 and 1 */
    /* a login from another address: nothing */
    auth(e, T0 + 2 * DAY, "dovecot", "imap-login", "login", true, "198.51.100.77",
         "Bob@Example.org", NULL);
    assert_int_equal(count(e, "login-after-spraying"), 0);
    auth(e, T0 + 2 * DAY, "dovecot", "imap-login", "login", true, "203.0.113.9", "Bob@Example.org",
         NULL);
    assert_int_equal(count(e, "login-after-spraying"), 1);
    const struct got *g = &e->f[e->n - 1];
    assert_int_equal(g->kind, BL_ACCOUNT);
    assert_string_equal(g->entity, "bob@example.org");
    assert_string_equal(g->value, "203.0.113.9");
    assert_float_equal(g->score, 1.0, 1e-9);
    assert_string_equal(g->text, "logged in from 203.0.113.9, a source that tried 15 accounts "
                                 "over 28 h, 1.0 attempts each");
    /* once a day; and not after the window */
    auth(e, T0 + 2 * DAY + 60, "dovecot", "imap-login", "login", true, "203.0.113.9",
         "bob@example.org", NULL);
    auth(e, T0 + 20 * DAY, "m365", "audit", "UserLoggedIn", true, "203.0.113.9", "carl@example.org",
         NULL);
    assert_int_equal(count(e, "login-after-spraying"), 1);
    env_free(e);
}

/* Three addresses of one network, four accounts each: the network adds up. */
static void test_distributed(void **state)
{
    (void)state;
    struct env *e = env_new();
    spray(e, "198.51.100.21", 0, 4, T0, 600);
    spray(e, "198.51.100.22", 4, 4, T0 + 300, 600);
    assert_int_equal(e->n, 0);
    spray(e, "198.51.100.23", 8, 4, T0 + 400, 600);
    assert_int_equal(count(e, "accounts-tried"), 1);
    assert_string_equal(e->f[0].entity, "198.51.100.23");
    assert_string_equal(e->f[0].text, "tried 10 accounts over 35 min, 1.0 attempts each, from 3 "
                                      "addresses of 198.51.100.0/24 (198.51.100.23 among them)");
    /* internal networks are not pooled */
    spray(e, "10.0.0.1", 0, 5, T0, 60);
    spray(e, "10.0.0.2", 5, 5, T0, 60);
    assert_int_equal(count(e, "accounts-tried"), 1);
    env_free(e);
}

struct blobs {
    int n;
    char entity[16][64];
    struct buf b[16];
};

static int put_blob(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct blobs *bs = o;
    assert_int_equal(kind, BL_SOURCE);
    assert_true(bs->n < 16);
    snprintf(bs->entity[bs->n], 64, "%s", entity);
    buf_init(&bs->b[bs->n]);
    buf_append(&bs->b[bs->n], blob, n);
    bs->n++;
    return 0;
}

static void blobs_free(struct blobs *bs)
{
    for (int i = 0; i < bs->n; i++)
        buf_free(&bs->b[i]);
    bs->n = 0;
}

static void test_save_load(void **state)
{
    (void)state;
    struct env *e = env_new();
    spray(e, "203.0.113.9", 0, 12, T0, HOUR);
    auth(e, T0 + DAY, "dovecot", "imap-login", "login", true, "203.0.113.9", "x@example.org", NULL);
    struct blobs a = {0}, b = {0};
    assert_int_equal(bl_spraying_module.save(e->m, true, put_blob, &a), 0);
    assert_int_equal(a.n, 2); /* the address and its network */
    assert_string_equal(a.entity[1], "203.0.113.0/24");
    struct env *e2 = env_new();
    for (int i = 0; i < a.n; i++)
        assert_int_equal(
            bl_spraying_module.load(e2->m, BL_SOURCE, a.entity[i], a.b[i].data, a.b[i].len), 0);
    assert_int_equal(bl_spraying_module.save(e2->m, true, put_blob, &b), 0);
    assert_int_equal(b.n, 2);
    for (int i = 0; i < a.n; i++) {
        assert_int_equal(a.b[i].len, b.b[i].len);
        assert_memory_equal(a.b[i].data, b.b[i].data, a.b[i].len);
    }
    /* the loaded profile remembers the spray */
    e2->n = 0;
    auth(e2, T0 + 2 * DAY, "sshd", "sshd", "login", true, "203.0.113.9", "y@example.org", "pid",
         "1", NULL);
    assert_int_equal(count(e2, "login-after-spraying"), 1);
    struct bl_module_stats st;
    bl_spraying_module.stats(e2->m, &st);
    assert_int_equal(st.entities, 2);
    assert_true(st.bytes > 500);
    bl_spraying_module.age(e2->m, T0 + 30 * DAY);
    bl_spraying_module.stats(e2->m, &st);
    assert_int_equal(st.entities, 0);

    /* malformed: every cut, a trailing byte, wrong kind or entity */
    const struct buf *x = &a.b[0];
    for (size_t n = 0; n < x->len; n++)
        assert_int_equal(bl_spraying_module.load(e2->m, BL_SOURCE, a.entity[0], x->data, n),
                         -EINVAL);
    struct buf y;
    buf_init(&y);
    buf_append(&y, x->data, x->len);
    buf_putc(&y, 1);
    assert_int_equal(bl_spraying_module.load(e2->m, BL_SOURCE, a.entity[0], y.data, y.len),
                     -EINVAL);
    assert_int_equal(bl_spraying_module.load(e2->m, BL_HOST, a.entity[0], x->data, x->len),
                     -EINVAL);
    assert_int_equal(bl_spraying_module.load(e2->m, BL_SOURCE, "203.0.113.0/24", x->data, x->len),
                     -EINVAL); /* an address's blob under a network */
    assert_int_equal(bl_spraying_module.load(e2->m, BL_SOURCE, "nope", x->data, x->len), -EINVAL);
    for (size_t i = 0; i < x->len; i++) {
        buf_clear(&y);
        buf_append(&y, x->data, x->len);
        y.data[i] ^= 0x33;
        int rc = bl_spraying_module.load(e2->m, BL_SOURCE, a.entity[0], y.data, y.len);
        assert_true(rc == 0 || rc == -EINVAL);
    }
    buf_free(&y);
    blobs_free(&a);
    blobs_free(&b);
    env_free(e);
    env_free(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_spray),      cmocka_unit_test(test_mistyping_and_office),
        cmocka_unit_test(test_attempts_merged), cmocka_unit_test(test_login_after_spraying),
        cmocka_unit_test(test_distributed),     cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
