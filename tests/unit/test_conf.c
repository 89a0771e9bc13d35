/* Unit tests for configuration reading (config/conf.h) and the metrics
 * registry (daemon/metrics.h): typed values with units, unknown keys named
 * with a suggestion, every problem with its line and column, and the
 * Prometheus text rendering with escaped labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/conf.h"
#include "daemon/metrics.h"

struct parsed {
    struct yaml_file f;
    struct conf_ctx c;
    char *msgs;
    size_t msgn;
    FILE *out;
};

static const struct ynode *parse(struct parsed *p, const char *text)
{
    struct yaml_error err;
    memset(p, 0, sizeof(*p));
    assert_int_equal(yaml_parse(text, strlen(text), &p->f, &err), 0);
    p->out = open_memstream(&p->msgs, &p->msgn);
    conf_ctx_init(&p->c, "k.yml", p->out, &p->f.arena);
    return p->f.docs[0];
}

static const char *messages(struct parsed *p)
{
    fflush(p->out);
    return p->msgs ? p->msgs : "";
}

static void done(struct parsed *p)
{
    fclose(p->out);
    free(p->msgs);
    yaml_file_free(&p->f);
}

static void test_values(void **state)
{
    (void)state;
    struct parsed p;
    const struct ynode *m = parse(&p, "a: 250ms\n"
                                      "b: 64MiB\n"
                                      "c: yes\n"
                                      "d: 12\n"
                                      "e: [x, y]\n"
                                      "f: one\n"
                                      "g: 127.0.0.1:514\n"
                                      "h: '[::1]:6514'\n"
                                      "i: 9464\n"
                                      "j: 2kB\n");
    int64_t ns = 0;
    assert_int_equal(conf_duration(&p.c, m, "a", 0, INT64_MAX, &ns), 1);
    assert_int_equal(ns, 250000000);
    uint64_t sz = 0;
    assert_int_equal(conf_size(&p.c, m, "b", 0, UINT64_MAX, &sz), 1);
    assert_int_equal(sz, 64ull << 20);
    assert_int_equal(conf_size(&p.c, m, "j", 0, UINT64_MAX, &sz), 1);
    assert_int_equal(sz, 2000);
    bool b = false;
    assert_int_equal(conf_bool(&p.c, m, "c", &b), 1);
    assert_true(b);
    uint64_t u = 0;
    assert_int_equal(conf_uint(&p.c, m, "d", 1, 100, &u), 1);
    assert_int_equal(u, 12);
    const char **list = NULL;
    size_t n = 0;
    assert_int_equal(conf_strlist(&p.c, m, "e", &list, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(list[1], "y");
    assert_null(list[2]);
    assert_int_equal(conf_strlist(&p.c, m, "f", &list, &n), 1);
    assert_int_equal(n, 1);
    static const char *const names[] = {"zero", "one", NULL};
    int e = -1;
    assert_int_equal(conf_enum(&p.c, m, "f", names, &e), 1);
    assert_int_equal(e, 1);
    struct conf_addr a;
    assert_int_equal(conf_addr(&p.c, m, "g", "127.0.0.1", &a), 1);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 514);
    assert_int_equal(conf_addr(&p.c, m, "h", "127.0.0.1", &a), 1);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 6514);
    assert_int_equal(conf_addr(&p.c, m, "i", "127.0.0.1", &a), 1);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 9464);
    /* absent keys leave the default */
    ns = 7;
    assert_int_equal(conf_duration(&p.c, m, "zz", 0, INT64_MAX, &ns), 0);
    assert_int_equal(ns, 7);
    assert_int_equal(p.c.nerrors, 0);
    assert_string_equal(messages(&p), "");
    done(&p);
}

static void test_errors(void **state)
{
    (void)state;
    struct parsed p;
    const struct ynode *m = parse(&p, "pahts: x\n"
                                      "timeout: 5\n"
                                      "size: lots\n"
                                      "port: 99999\n"
                                      "mode: fast\n"
                                      "n: 1000\n"
                                      "list: {a: b}\n"
                                      "flag: maybe\n");
    static const char *const keys[] = {"paths", "timeout", "size", "port", "mode",
                                       "n",     "list",    "flag", NULL};
    assert_int_equal(conf_check_keys(&p.c, m, keys), 1);
    int64_t ns = 0;
    assert_int_equal(conf_duration(&p.c, m, "timeout", 0, INT64_MAX, &ns), -1);
    uint64_t sz;
    assert_int_equal(conf_size(&p.c, m, "size", 0, UINT64_MAX, &sz), -1);
    struct conf_addr a;
    assert_int_equal(conf_addr(&p.c, m, "port", "127.0.0.1", &a), -1);
    static const char *const names[] = {"slow", "safe", NULL};
    int e;
    assert_int_equal(conf_enum(&p.c, m, "mode", names, &e), -1);
    uint64_t u;
    assert_int_equal(conf_uint(&p.c, m, "n", 1, 100, &u), -1);
    const char **list;
    size_t n;
    assert_int_equal(conf_strlist(&p.c, m, "list", &list, &n), -1);
    bool b;
    assert_int_equal(conf_bool(&p.c, m, "flag", &b), -1);
    assert_null(conf_need(&p.c, m, "store"));
    assert_int_equal(p.c.nerrors, 9);
    const char *msg = messages(&p);
    assert_non_null(strstr(msg, "k.yml:1:1: unknown key 'pahts' (did you mean 'paths'?)"));
    assert_non_null(strstr(msg, "k.yml:2:10: timeout: '5' is not a duration"));
    assert_non_null(strstr(msg, "k.yml:3:7: size: 'lots' is not a size"));
    assert_non_null(strstr(msg, "k.yml:4:7: port: '99999' is not an address"));
    assert_non_null(strstr(msg, "k.yml:5:7: mode: 'fast' is not one of: slow, safe"));
    assert_non_null(strstr(msg, "k.yml:6:4: n: 1000 is out of range (1 to 100)"));
    assert_non_null(strstr(msg, "k.yml:7:7: list: needs a value or a list"));
    assert_non_null(strstr(msg, "k.yml:8:7: flag: 'maybe' is not true or false"));
    assert_non_null(strstr(msg, "k.yml:1:1: store: missing (required)"));
    done(&p);
}

static double seven(void *opaque)
{
    (void)opaque;
    return 7;
}

static void test_metrics(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    assert_non_null(m);
    _Atomic uint64_t *a = metrics_counter(m, "kenchi_events_total", "Events read.", "source=mail");
    _Atomic uint64_t *b = metrics_counter(m, "kenchi_events_total", "Events read.", "source=a\"b");
    _Atomic int64_t *g = metrics_gauge(m, "kenchi_lag_seconds", "Lag.", "", 1e-3);
    metrics_gauge_fn(m, "kenchi_store_bytes", "Store size.", "", seven, NULL);
    assert_ptr_equal(a, metrics_counter(m, "kenchi_events_total", "Events read.", "source=mail"));
    metric_add(a, 3);
    metric_add(b, 1);
    metric_set(g, 1500);
    struct buf out;
    buf_init(&out);
    metrics_render(m, &out);
    assert_string_equal(out.data, "# HELP kenchi_events_total Events read.\n"
                                  "# TYPE kenchi_events_total counter\n"
                                  "kenchi_events_total{source=\"mail\"} 3\n"
                                  "kenchi_events_total{source=\"a\\\"b\"} 1\n"
                                  "# HELP kenchi_lag_seconds Lag.\n"
                                  "# TYPE kenchi_lag_seconds gauge\n"
                                  "kenchi_lag_seconds 1.5\n"
                                  "# HELP kenchi_store_bytes Store size.\n"
                                  "# TYPE kenchi_store_bytes gauge\n"
                                  "kenchi_store_bytes 7\n");
    buf_free(&out);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
