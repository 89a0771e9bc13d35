/*
 * fuzz_bl_account_load.c - libFuzzer target for the saved profiles of the
 * account and application baseline modules (their `load`, bl-account.c and
 * bl-app.c, and the bl-prim.c readers under them).
 *
 * The first input byte chooses the module (bit 0: account / application)
 * and the entity (bit 1: the "(organisation)" pseudo-entity, else an
 * ordinary id); the rest is the blob. Whatever is taken is then shown,
 * fed a few events (the loaded sets, series and hours are used), saved,
 * and loaded again into a fresh module: a saved profile must always load.
 * Refusals are fine; crashes, leaks and hangs are not.
 *
 * Seeds: `KENCHI_FUZZ_WRITE_SEEDS=DIR build/fuzz/fuzz_bl_account_load`
 * writes the profiles made by feeding events into DIR and exits
 * (fuzz/corpus/fuzz_bl_account_load/ was made so).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define T0 1772409600u

static const char *const ACCOUNT_ID = "alice@example.org";
static const char *const APP_ID = "5a1b2c3d-1111-4222-8333-444455556666";

static int no_emit(void *o, const struct bl_fact *f)
{
    (void)o;
    if (!f->entity || !f->text || !f->detector || !f->feature)
        abort();
    return 0;
}

static void ev_set(struct arena *a, struct event *ev, const char *fmt, uint32_t t)
{
    event_init(ev, a);
    ev->format = fmt;
    ev->ts_ns = (int64_t)t * NS_PER_SEC;
    ev->core[CORE_HOST_NAME] = (struct str){"mx1", 3};
}

static struct str lit(const char *s)
{
    return (struct str){s, strlen(s)};
}

static void feed_some(const struct bl_module_ops *ops, void *m, struct bl_ctx *ctx, uint32_t t)
{
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    for (int k = 0; k < 3; k++) {
        uint32_t tk = t + (uint32_t)k * 3 * 3600;
        ev_set(&a, &ev, "dovecot", tk);
        ev.core[CORE_USER_NAME] = lit(ACCOUNT_ID);
        ev.core[CORE_SOURCE_IP] = lit(k ? "203.0.113.9" : "2001:db8:4a::7");
        ev.core[CORE_EVENT_ACTION] = lit("login");
        ev.core[CORE_EVENT_OUTCOME] = lit("success");
        event_add_copy(&ev, "session", "s1", 2, VT_STRING);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
        ev_set(&a, &ev, "dovecot", tk + 60);
        ev.ls.service = "imap";
        ev.core[CORE_USER_NAME] = lit(ACCOUNT_ID);
        ev.core[CORE_EVENT_ACTION] = lit("logout");
        ev.core[CORE_DESTINATION_BYTES] = lit(k == 2 ? "900000000" : "1000000");
        event_add_copy(&ev, "session", "s1", 2, VT_STRING);
        event_add_copy(&ev, "body_count", "5", 1, VT_NUMBER);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
        ev_set(&a, &ev, "m365", tk + 120);
        ev.core[CORE_USER_NAME] = lit(k ? ACCOUNT_ID : "bob@example.org");
        ev.core[CORE_SOURCE_IP] = lit("192.0.2.5");
        ev.core[CORE_EVENT_ACTION] = lit("MailItemsAccessed");
        event_add_copy(&ev, "AppId", APP_ID, strlen(APP_ID), VT_STRING);
        event_add_copy(&ev, "MailboxOwnerUPN", ACCOUNT_ID, strlen(ACCOUNT_ID), VT_STRING);
        event_add_copy(&ev, "UserAgent", "Mozilla/5.0", 11, VT_STRING);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
        ev_set(&a, &ev, "m365", tk + 180);
        ev.core[CORE_USER_NAME] = lit(ACCOUNT_ID);
        ev.core[CORE_EVENT_ACTION] = lit("New-InboxRule");
        event_add_copy(&ev, "Parameters.ForwardTo", "x@drop.test", 11, VT_STRING);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
        ev_set(&a, &ev, "postfix", tk + 240);
        ev.core[CORE_USER_NAME] = lit(ACCOUNT_ID);
        ev.core[CORE_SOURCE_IP] = lit("198.51.100.3");
        ev.core[CORE_EVENT_ACTION] = lit("client");
        event_add_copy(&ev, "queue_id", "ABC", 3, VT_STRING);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
        ev_set(&a, &ev, "postfix", tk + 241);
        ev.core[CORE_EVENT_ACTION] = lit("delivery");
        ev.core[CORE_EMAIL_TO_ADDRESS] = lit("y@partner.test");
        event_add_copy(&ev, "queue_id", "ABC", 3, VT_STRING);
        if (ops->on_event(m, ctx, &ev) < 0)
            abort();
        arena_reset(&a);
    }
    arena_free(&a);
}

struct saved {
    enum bl_kind kind[64];
    char *entity[64];
    uint8_t *blob[64];
    size_t n[64];
    int count;
};

static int put(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct saved *s = o;
    if (s->count >= 64)
        return 0;
    int i = s->count++;
    s->kind[i] = kind;
    s->entity[i] = strdup(entity);
    s->blob[i] = malloc(n ? n : 1);
    if (!s->entity[i] || !s->blob[i])
        abort();
    memcpy(s->blob[i], blob, n);
    s->n[i] = n;
    return 0;
}

static void saved_free(struct saved *s)
{
    for (int i = 0; i < s->count; i++) {
        free(s->entity[i]);
        free(s->blob[i]);
    }
    s->count = 0;
}

static void write_seeds(const char *dir)
{
    struct bl_config cfg;
    bl_config_default(&cfg);
    cfg.learning_s = 3600;
    for (int mod = 0; mod < 2; mod++) {
        const struct bl_module_ops *ops = mod ? &bl_application_module : &bl_account_module;
        struct bl_labels labels;
        bl_labels_init(&labels, 0);
        void *m = ops->create(&cfg, &labels);
        struct bl_ctx ctx = {.cfg = &cfg, .labels = &labels, .emit = no_emit};
        feed_some(ops, m, &ctx, T0);
        feed_some(ops, m, &ctx, T0 + 3 * 86400);
        struct saved s = {0};
        ops->save(m, true, put, &s);
        for (int i = 0; i < s.count; i++) {
            bool org = !strcmp(s.entity[i], "(organisation)");
            uint8_t mode = (uint8_t)(mod | (org ? 2 : 0));
            char path[512];
            snprintf(path, sizeof path, "%s/%s-%s", dir, ops->name, org ? "org" : "entity");
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(s.blob[i], 1, s.n[i], f) != s.n[i] ||
                fclose(f))
                abort();
        }
        saved_free(&s);
        ops->destroy(m);
        bl_labels_free(&labels);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("KENCHI_FUZZ_WRITE_SEEDS");
    if (dir) {
        write_seeds(dir);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const struct bl_module_ops *ops = mode & 1 ? &bl_application_module : &bl_account_module;
    enum bl_kind kind = mode & 1 ? BL_APPLICATION : BL_ACCOUNT;
    const char *entity = mode & 2 ? "(organisation)" : mode & 1 ? APP_ID : ACCOUNT_ID;
    struct bl_config cfg;
    bl_config_default(&cfg);
    cfg.learning_s = 3600;
    cfg.account.max_values = 8;
    struct bl_labels labels;
    bl_labels_init(&labels, 4096);
    void *m = ops->create(&cfg, &labels);
    if (!m)
        abort();
    /* an exact-size copy, so that reading past the end is caught */
    uint8_t *blob = malloc(size - 1 ? size - 1 : 1);
    if (!blob)
        abort();
    memcpy(blob, data + 1, size - 1);
    int rc = ops->load(m, kind, entity, blob, size - 1);
    free(blob);
    if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
        abort();
    struct buf j;
    buf_init(&j);
    ops->show(m, kind, entity, &j);
    buf_free(&j);
    struct bl_ctx ctx = {.cfg = &cfg, .labels = &labels, .emit = no_emit};
    feed_some(ops, m, &ctx, T0 + 40 * 86400);
    struct bl_module_stats st;
    ops->stats(m, &st);
    struct saved s = {0};
    if (ops->save(m, true, put, &s) != 0)
        abort();
    void *m2 = ops->create(&cfg, &labels);
    for (int i = 0; i < s.count; i++)
        if (ops->load(m2, s.kind[i], s.entity[i], s.blob[i], s.n[i]) != 0)
            abort(); /* a saved profile must load */
    saved_free(&s);
    ops->age(m, T0 + 45 * 86400);
    ops->destroy(m2);
    ops->destroy(m);
    bl_labels_free(&labels);
    return 0;
}
