/*
 * fuzz_corr_state.c - libFuzzer target for the decoder of the saved Sigma
 * correlation state (corr_engine_restore, sigma-corr.h).
 *
 * The engine holds one correlation of every type (with group-by). The
 * first input byte chooses the entry: odd, the rest is a whole blob
 * (header and checksum: mostly refused early); even, the rest is the
 * payload alone, past the checksum, so the record decoder itself is
 * explored. Whatever is restored is then fed a few events (the restored
 * windows, value tables and temporal slots are used), saved, and restored
 * again: a saved state must always restore. Refusals are fine; crashes,
 * leaks and hangs are not.
 *
 * Seeds: `KENCHI_FUZZ_WRITE_SEEDS=DIR build/fuzz/fuzz_corr_state` writes
 * a state made by feeding events, in both forms, into DIR and exits
 * (fuzz/corpus/fuzz_corr_state/ was made so).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/sigma-corr.h"
#include "detect/sigma.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static char mapping_path[64];

static const char rules[] =
    "title: a\nname: a\nlogsource: {product: test}\n"
    "detection: {sel: {act: a}, condition: sel}\n"
    "---\n"
    "title: b\nname: b\nlogsource: {product: test}\n"
    "detection: {sel: {act: b}, condition: sel}\n"
    "---\n"
    "title: count\nid: 33333333-0000-4000-8000-000000000001\ncorrelation:\n"
    "  type: event_count\n  rules: [a]\n  group-by: [ip]\n  timespan: 10m\n"
    "  condition: {gte: 3}\n"
    "---\n"
    "title: users\nname: users\ncorrelation:\n  type: value_count\n  rules: [a]\n"
    "  group-by: [ip]\n  timespan: 10m\n  condition: {field: user, gte: 3}\n"
    "---\n"
    "title: ab\nname: ab\ncorrelation:\n  type: temporal\n  rules: [a, b]\n"
    "  group-by: [ip]\n  timespan: 1m\n"
    "---\n"
    "title: ab in order\nname: ab_ordered\ncorrelation:\n  type: temporal_ordered\n"
    "  rules: [a, b]\n  group-by: [ip]\n  timespan: 1m\n"
    "---\n"
    "title: sum\nname: sum\ncorrelation:\n  type: value_sum\n  rules: [b]\n"
    "  group-by: [user]\n  timespan: 1h\n  condition: {field: n, gt: 100}\n"
    "---\n"
    "title: avg\nname: avg\ncorrelation:\n  type: value_avg\n  rules: [b]\n"
    "  group-by: [user]\n  timespan: 1h\n  condition: {field: n, gt: 100}\n"
    "---\n"
    "title: p90\nname: p90\ncorrelation:\n  type: value_percentile\n  rules: [b]\n"
    "  group-by: [user]\n  timespan: 1h\n  condition: {field: n, percentile: 90, gte: 50}\n"
    "---\n"
    "title: rare\nname: rare\ncorrelation:\n  type: value_percentile\n  rules: [a]\n"
    "  group-by: [ip]\n  timespan: 1h\n  condition: {field: user, lte: 10}\n";

static struct sigma_set *set;
static struct sigma_matcher *matcher;

static int on_fire(void *opaque, const struct corr_fire *f)
{
    (void)opaque;
    (void)f;
    return 0;
}

struct feed_ctx {
    struct corr_engine *e;
};

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *hf, size_t nhf)
{
    (void)hf;
    (void)nhf;
    struct feed_ctx *c = opaque;
    return corr_feed(c->e, r, ev, on_fire, NULL);
}

static void feed(struct corr_engine *e, struct arena *a, int64_t sec, const char *act,
                 const char *ip, const char *user, const char *num, uint64_t line)
{
    struct event ev;
    arena_reset(a);
    event_init(&ev, a);
    ev.ls.product = "test";
    ev.ts_ns = (1700000000LL + sec) * NS_PER_SEC;
    ev.file = line % 2 ? "mail.log" : NULL;
    ev.line = line;
    ev.id = line;
    event_add_copy(&ev, "act", act, strlen(act), VT_STRING);
    event_add_copy(&ev, "ip", ip, strlen(ip), VT_STRING);
    event_add_copy(&ev, "user", user, strlen(user), VT_STRING);
    event_add_copy(&ev, "n", num, strlen(num), VT_STRING);
    struct feed_ctx c = {e};
    if (sigma_match(matcher, &ev, on_match, &c) < 0)
        abort();
}

static void feed_some(struct corr_engine *e, int64_t base)
{
    struct arena a;
    arena_init(&a, 4096);
    static const char *const ips[] = {"192.0.2.1", "192.0.2.2"};
    static const char *const users[] = {"u1", "u2", "u3"};
    static const char *const nums[] = {"10", "70", "200"};
    for (int i = 0; i < 12; i++)
        feed(e, &a, base + i * 7, i % 3 ? "a" : "b", ips[i % 2], users[i % 3], nums[i % 3],
             (uint64_t)i + 1);
    arena_free(&a);
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const char *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(p, 1, n, f) != n || fclose(f))
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char mapping[] = "logsources:\n"
                                  "  - rule: {product: test}\n"
                                  "    events: {logsource.product: test}\n";
    strcpy(mapping_path, "/tmp/kenchi-fuzz-ls-XXXXXX");
    int fd = mkstemp(mapping_path);
    if (fd < 0 || write(fd, mapping, sizeof(mapping) - 1) < 0)
        abort();
    close(fd);
    struct sigma_opts o = {mapping_path, NULL};
    if (sigma_set_new(&o, &set, stderr))
        abort();
    sigma_set_load_text(set, "corr.yml", rules, sizeof(rules) - 1);
    sigma_set_finish(set);
    struct sigma_counts sc;
    sigma_set_counts(set, &sc);
    if (sc.refused || sc.correlations != 8)
        abort();
    matcher = sigma_matcher_new(set);
    if (!matcher)
        abort();
    const char *dir = getenv("KENCHI_FUZZ_WRITE_SEEDS");
    if (dir) {
        struct corr_engine *e;
        if (corr_engine_new(set, NULL, &e))
            abort();
        feed_some(e, 0);
        struct buf b;
        buf_init(&b);
        if (corr_engine_save(e, &b))
            abort();
        write_seed(dir, "state", 1, b.data, b.len);
        write_seed(dir, "payload", 0, b.data + 24, b.len - 24);
        buf_free(&b);
        corr_engine_free(e);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct corr_opts co;
    corr_opts_default(&co);
    co.max_groups = 64;
    co.max_window_events = 16;
    co.max_alert_events = 4;
    struct corr_engine *e;
    if (corr_engine_new(set, &co, &e))
        abort();
    struct corr_restore_report rep;
    char err[256];
    int rc = data[0] & 1
                 ? corr_engine_restore(e, data + 1, size - 1, &rep, err, sizeof(err))
                 : corr_engine_restore_payload(e, data + 1, size - 1, &rep, err, sizeof(err));
    if (rc < 0 && !err[0])
        abort(); /* a refusal always says why */
    feed_some(e, 300);
    struct buf b;
    buf_init(&b);
    if (corr_engine_save(e, &b))
        abort();
    if (corr_engine_restore(e, b.data, b.len, &rep, err, sizeof(err)) != 0) {
        fprintf(stderr, "a saved state does not restore: %s\n", err);
        abort();
    }
    buf_free(&b);
    corr_engine_free(e);
    return 0;
}
