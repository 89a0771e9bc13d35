/*
 * bench_corr_state.c - what saving the Sigma correlation state at a commit
 * of `kenchi run` costs, against what the same commit costs without it.
 *
 * One event_count correlation grouped by source address (10 minutes), with
 * G groups of W events each (a password spray seen from G addresses), fed
 * straight to the engine. For each G it measures, in the same run:
 *   - save: corr_engine_save (serialising the whole state), its size;
 *   - commit: store_live_commit_state of 20 alerts and one read offset
 *     with the state, against the same commit without it (the baseline):
 *     the ratio is what the state adds to each commit;
 *   - feed: the engine's own time per event, for scale (the state of G
 *     groups is saved in the time it takes to feed so many events).
 * Times are the best of R rounds (CPU time of the calling thread for save
 * and feed, wall time for the commits, which run on the store's writer
 * thread and end with an fsync-free WAL commit). Usage:
 *   bench_corr_state [W] [R] [DIR]     (defaults: 5, 7, $TMPDIR or /tmp)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detect/sigma-corr.h"
#include "detect/sigma-model.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char rules[] =
    "title: fail\nname: fail\nlogsource: {product: test}\n"
    "detection: {sel: {act: fail}, condition: sel}\n"
    "---\n"
    "title: spray\nid: 44444444-0000-4000-8000-000000000001\ncorrelation:\n"
    "  type: event_count\n  rules: [fail]\n  group-by: [source.ip]\n  timespan: 10m\n"
    "  condition: {gte: 1000000}\n";

static int on_fire(void *opaque, const struct corr_fire *f)
{
    (void)opaque;
    (void)f;
    return 0;
}

/* Feed g groups x w events; returns the CPU seconds it took. */
static double feed_all(struct corr_engine *e, const struct sigma_rule *r, uint32_t g, uint32_t w)
{
    struct arena a;
    arena_init(&a, 4096);
    double t0 = cpu_s();
    uint64_t line = 0;
    for (uint32_t j = 0; j < w; j++)
        for (uint32_t i = 0; i < g; i++) {
            struct event ev;
            arena_reset(&a);
            event_init(&ev, &a);
            char ip[32];
            int n = snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
            event_add_copy(&ev, "source.ip", ip, (size_t)n, VT_STRING);
            ev.ts_ns = (1700000000LL + j) * NS_PER_SEC + i;
            ev.file = "/var/log/mail.log";
            ev.line = ++line;
            ev.id = line * 0x9e3779b97f4a7c15ULL;
            if (corr_feed(e, r, &ev, on_fire, NULL) < 0)
                abort();
        }
    double t = cpu_s() - t0;
    arena_free(&a);
    return t;
}

int main(int argc, char **argv)
{
    uint32_t w = argc > 1 ? (uint32_t)atoi(argv[1]) : 5;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    const char *tmp = argc > 3 ? argv[3] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char map[256], db[256];
    snprintf(map, sizeof(map), "%s/kenchi-bench-ls-%d.yml", tmp, (int)getpid());
    snprintf(db, sizeof(db), "%s/kenchi-bench-corr-%d.db", tmp, (int)getpid());
    FILE *f = fopen(map, "w");
    if (!f)
        return 3;
    fputs("logsources:\n  - rule: {product: test}\n    events: {logsource.product: test}\n", f);
    fclose(f);
    struct sigma_opts so = {map, NULL};
    struct sigma_set *set;
    if (sigma_set_new(&so, &set, stderr))
        return 3;
    sigma_set_load_text(set, "bench.yml", rules, sizeof(rules) - 1);
    sigma_set_finish(set);
    const struct sigma_rule *r = set->rules[0];
    struct store_opts sto;
    store_opts_default(&sto);
    struct store *st;
    if (store_open(db, &sto, &st) < 0) {
        fprintf(stderr, "%s\n", store_errmsg(st));
        return 3;
    }
    /* 20 alerts of about 1 KiB and one offset, as a busy commit has */
    struct store_alert al[20];
    char ids[20][40], doc[1024];
    memset(doc, 'x', sizeof(doc) - 1);
    doc[0] = '{';
    doc[sizeof(doc) - 2] = '}';
    doc[sizeof(doc) - 1] = '\0';
    struct store_offset off = {1, 2, 3, 64, "/var/log/mail.log", 0, 0};
    uint64_t serial = 0;
    printf("correlation state: %u events per group, best of %d rounds; baseline: the same commit "
           "(20 alerts, 1 offset) without the state\n",
           w, rounds);
    printf("%8s %12s %10s %12s %12s %12s %7s %14s\n", "groups", "state bytes", "save ms",
           "commit ms", "baseline ms", "feed ns/ev", "ratio", "save/feed evs");
    static const uint32_t gs[] = {100, 1000, 10000};
    for (size_t k = 0; k < sizeof(gs) / sizeof(gs[0]); k++) {
        uint32_t g = gs[k];
        struct corr_opts co;
        corr_opts_default(&co);
        co.max_groups = g;
        double best_feed = 1e9, best_save = 1e9, best_commit = 1e9, best_base = 1e9;
        size_t bytes = 0;
        for (int round = 0; round < rounds; round++) {
            struct corr_engine *e;
            if (corr_engine_new(set, &co, &e) || !e)
                return 3;
            double tf = feed_all(e, r, g, w) / ((double)g * w);
            struct buf b;
            buf_init(&b);
            double t0 = cpu_s();
            if (corr_engine_save(e, &b))
                return 3;
            double ts = cpu_s() - t0;
            bytes = b.len;
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < 20; i++) {
                    snprintf(ids[i], sizeof(ids[i]), "%032llx", (unsigned long long)++serial);
                    al[i] = (struct store_alert){(int64_t)serial, ids[i], "sigma",        "r", "n",
                                                 "low",           doc,    sizeof(doc) - 1};
                }
                off.offset = serial;
                double t1 = wall_s();
                int rc =
                    pass ? store_live_commit_state(st, al, 20, &off, 1, b.data, b.len, NULL, NULL)
                         : store_live_commit(st, al, 20, &off, 1, NULL, NULL);
                double tc = wall_s() - t1;
                if (rc < 0) {
                    fprintf(stderr, "%s\n", store_errmsg(st));
                    return 3;
                }
                if (pass && tc < best_commit)
                    best_commit = tc;
                if (!pass && tc < best_base)
                    best_base = tc;
            }
            if (tf < best_feed)
                best_feed = tf;
            if (ts < best_save)
                best_save = ts;
            buf_free(&b);
            corr_engine_free(e);
        }
        printf("%8u %12zu %10.3f %12.3f %12.3f %12.0f %7.2f %14.0f\n", g, bytes, best_save * 1e3,
               best_commit * 1e3, best_base * 1e3, best_feed * 1e9, best_commit / best_base,
               (best_save + best_commit - best_base) / best_feed);
    }
    store_close(st);
    sigma_set_free(set);
    unlink(map);
    char p[300];
    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
    return 0;
}
