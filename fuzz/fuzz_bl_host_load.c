/*
 * fuzz_bl_host_load.c - libFuzzer target for the profile blobs of the host
 * and spraying baseline modules (bl-host.c, bl-spray.c: their `load`).
 *
 * The first input byte chooses the module (bit 0: host or spraying) and,
 * for spraying, the entity (bit 1: an address or a /24 network); the rest
 * is the blob. Whatever is taken is then fed a few events (the restored
 * destinations, DNS answers, beacon rings and tried accounts are used),
 * shown, aged, saved, and the saved blobs loaded into a fresh module: a
 * saved profile must always load. Refusals are fine; crashes, leaks and
 * hangs are not.
 *
 * Seeds: `KENCHI_FUZZ_WRITE_SEEDS=DIR build/fuzz/fuzz_bl_host_load` writes
 * profiles made by feeding events into DIR and exits
 * (fuzz/corpus/fuzz_bl_host_load/ was made so).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define T0 1709251200u

static struct bl_config cfg;
static char *servers[] = {"10.1.0.10"};

static int on_fact(void *o, const struct bl_fact *f)
{
    (void)o;
    if (!f->entity || !f->text || !f->detector)
        abort();
    return 0;
}

static void ev_base(struct event *ev, struct arena *a, uint32_t t, const char *prod,
                    const char *svc)
{
    arena_reset(a);
    event_init(ev, a);
    ev->ts_ns = (int64_t)t * NS_PER_SEC;
    ev->ls = (struct logsource){prod, svc, NULL};
    ev->parsed = true;
}

static void set(struct event *ev, enum core_field f, const char *s)
{
    event_set_core(ev, f, (struct str){s, strlen(s)});
}

static void feed(const struct bl_module_ops *ops, void *m, struct bl_ctx *ctx, uint32_t base)
{
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    static const char *const dsts[] = {"203.0.113.170", "198.51.100.7", "203.0.113.9"};
    static const char *const users[] = {"a@example.org", "b@example.org", "c@example.org"};
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t t = base + i * 3600;
        ev_base(&ev, &a, t, "zeek", "dns");
        set(&ev, CORE_SOURCE_IP, "10.1.0.10");
        set(&ev, CORE_DESTINATION_IP, "10.1.0.53");
        event_add(&ev, STR_LIT("answers"), STR_LIT("[\"198.51.100.7\",\"x.test\"]"), VT_JSON);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        ev_base(&ev, &a, t + 1, "zeek", "conn");
        set(&ev, CORE_SOURCE_IP, "10.1.0.10");
        set(&ev, CORE_DESTINATION_IP, dsts[i % 3]);
        set(&ev, CORE_DESTINATION_PORT, "443");
        set(&ev, CORE_SOURCE_BYTES, i == 15 ? "300000000" : "310");
        event_add_str(&ev, "proto", STR_LIT("tcp"));
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        ev_base(&ev, &a, t + 2, "m365", "audit");
        set(&ev, CORE_SOURCE_IP, i % 2 ? "203.0.113.9" : "203.0.113.10");
        set(&ev, CORE_USER_NAME, users[i % 3]);
        event_set_action(&ev, i == 14 ? "UserLoggedIn" : "UserLoginFailed",
                         i == 14 ? "success" : "failure");
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
    }
    arena_free(&a);
}

struct saved {
    enum bl_kind kind[64];
    char *entity[64];
    struct buf blob[64];
    int n;
};

static int put(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct saved *s = o;
    if (s->n >= 64)
        return 0;
    s->kind[s->n] = kind;
    s->entity[s->n] = strdup(entity);
    buf_init(&s->blob[s->n]);
    buf_append(&s->blob[s->n], blob, n);
    s->n++;
    return 0;
}

static void saved_free(struct saved *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->entity[i]);
        buf_free(&s->blob[i]);
    }
    s->n = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bl_config_default(&cfg);
    cfg.servers = servers;
    cfg.nservers = 1;
    cfg.learning_s = 3600;
    cfg.host.beacon_min_connections = 4;
    cfg.host.max_destinations = 8;
    cfg.host.max_pairs = 8;
    cfg.spraying.min_accounts = 2;
    const char *dir = getenv("KENCHI_FUZZ_WRITE_SEEDS");
    if (dir) {
        const struct bl_module_ops *mods[] = {&bl_host_module, &bl_spraying_module};
        for (int k = 0; k < 2; k++) {
            struct bl_labels labels;
            bl_labels_init(&labels, 0);
            struct bl_ctx ctx = {.cfg = &cfg, .labels = &labels, .emit = on_fact};
            void *m = mods[k]->create(&cfg, &labels);
            feed(mods[k], m, &ctx, T0);
            struct saved s = {0};
            mods[k]->save(m, true, put, &s);
            for (int i = 0; i < s.n; i++) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s-%d", dir, mods[k]->name, i);
                uint8_t mode = (uint8_t)(k == 0 ? 0 : strchr(s.entity[i], '/') ? 3 : 1);
                FILE *f = fopen(path, "wb");
                if (!f || fwrite(&mode, 1, 1, f) != 1 ||
                    fwrite(s.blob[i].data, 1, s.blob[i].len, f) != s.blob[i].len || fclose(f))
                    abort();
            }
            saved_free(&s);
            mods[k]->destroy(m);
            bl_labels_free(&labels);
        }
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool spray = data[0] & 1;
    const struct bl_module_ops *ops = spray ? &bl_spraying_module : &bl_host_module;
    enum bl_kind kind = spray ? BL_SOURCE : BL_HOST;
    const char *entity = !spray ? "10.1.0.10" : data[0] & 2 ? "203.0.113.0/24" : "203.0.113.9";
    struct bl_labels labels;
    bl_labels_init(&labels, 0);
    struct bl_ctx ctx = {.cfg = &cfg, .labels = &labels, .emit = on_fact};
    void *m = ops->create(&cfg, &labels);
    int rc = ops->load(m, kind, entity, data + 1, size - 1);
    if (rc != 0 && rc != -EINVAL)
        abort();
    struct buf j;
    buf_init(&j);
    ops->show(m, kind, entity, &j);
    feed(ops, m, &ctx, T0 + 7200);
    buf_clear(&j);
    ops->show(m, kind, entity, &j);
    buf_free(&j);
    struct saved s = {0};
    if (ops->save(m, true, put, &s) != 0)
        abort();
    struct bl_labels labels2;
    bl_labels_init(&labels2, 0);
    void *m2 = ops->create(&cfg, &labels2);
    for (int i = 0; i < s.n; i++)
        if (ops->load(m2, s.kind[i], s.entity[i], s.blob[i].data, s.blob[i].len) != 0) {
            fprintf(stderr, "a saved profile of %s does not load\n", s.entity[i]);
            abort();
        }
    ops->age(m2, T0 + 86400);
    struct bl_module_stats st;
    ops->stats(m2, &st);
    saved_free(&s);
    ops->destroy(m2);
    ops->destroy(m);
    bl_labels_free(&labels2);
    bl_labels_free(&labels);
    return 0;
}
