/*
 * bl-module.h - how the baseline engine and its profile modules meet.
 *
 * The engine (baseline.c) hands every event to each module. A module keeps
 * the profiles of one family of entities (accounts and mailboxes, M365
 * applications, hosts and gateways, authentication sources) and, when an
 * event departs from what a profile holds, emits a *fact*: one sentence
 * with its numbers and a score. Facts are not alerts: the engine stacks
 * the facts of one entity within a window and raises an alert (kind
 * "anomaly") when their combined score reaches a level (docs/baselines.md).
 *
 * Modules never see the store: they serialise the profiles that changed
 * (save) and take them back (load); the engine keeps the bytes.
 */
#ifndef KENCHI_BASELINE_BL_MODULE_H
#define KENCHI_BASELINE_BL_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline/baseline.h"
#include "baseline/bl-prim.h"
#include "event/event.h"
#include "util/buf.h"

/* Detector names (the `detector` of a fact, `rule.id` kenchi.baseline.X). */
#define BL_DET_FIRST_SEEN "first-seen"
#define BL_DET_VOLUME     "volume"
#define BL_DET_TIME       "time"
#define BL_DET_BEACONING  "beaconing"
#define BL_DET_EGRESS     "egress-unresolved"
#define BL_DET_SPRAYING   "spraying"

struct bl_fact {
    enum bl_kind kind;
    const char *entity;      /* NUL-terminated; valid during the call */
    const char *detector;    /* BL_DET_* */
    const char *feature;     /* what was measured: "network", "asn", "country",
                                "client", "application", "mailbox",
                                "forward-target", "recipient-domain",
                                "destination", "download-bytes", "hour", ... */
    const char *value;       /* the new value or the measured amount, as text */
    const char *network;     /* the source network of the event (CIDR text) or
                                NULL: for suppressions by network */
    const char *application; /* the application id involved, or NULL */
    double score;            /* this fact's weight (docs/baselines.md) */
    const char *text;        /* one sentence with the numbers */
    const char *tags;        /* ATT&CK ids, comma-separated (static), or NULL */
    const struct event *ev;  /* the event behind it */
};

/* The engine's side, valid during on_event. The engine fills it; module
 * tests build one with their own emit to collect facts. */
struct bl_geo;
struct bl_ctx {
    const struct bl_config *cfg;
    struct bl_labels *labels;
    const struct bl_geo *geo; /* NULL without MMDB files (bl-geo.h) */
    uint32_t now;             /* the newest event time seen (s) */
    /* Receives every fact: suppressions, stacking, alerts. Returns 0 or a
     * negative errno to stop the run. */
    int (*emit)(void *opaque, const struct bl_fact *f);
    void *opaque;
};
static inline int bl_emit(struct bl_ctx *ctx, const struct bl_fact *f)
{
    return ctx->emit(ctx->opaque, f);
}

struct bl_module_stats {
    uint64_t entities; /* profiles held */
    uint64_t bytes;    /* memory they use (estimate, allocator overhead included) */
    uint64_t facts;    /* facts emitted */
    uint64_t aged;     /* profiles forgotten for age */
    uint64_t evicted;  /* profiles forgotten to keep the entity limit */
};

/* A profile module. */
struct bl_module_ops {
    const char *name; /* "account", "application", "host", "spraying" */
    void *(*create)(const struct bl_config *c, struct bl_labels *labels);
    void (*destroy)(void *m);
    /* Learn from ev and emit facts. Returns 0 or a negative errno. */
    int (*on_event)(void *m, struct bl_ctx *ctx, const struct event *ev);
    /* Serialise profiles: all of them (all) or those changed since the
     * last save, each through put (one blob per entity, the module's own
     * format, versioned). put returns 0 to go on. */
    int (*save)(void *m, bool all,
                int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                           size_t n),
                void *o);
    /* Take back one saved profile. -EINVAL for a blob it cannot read (the
     * engine reports it and goes on). */
    int (*load)(void *m, enum bl_kind kind, const char *entity, const void *blob, size_t n);
    /* What the module believes is normal for an entity, as members of a
     * JSON object (`"name":value,...` without braces; the engine wraps
     * them). Returns 1 when the entity is known, 0 when not. */
    int (*show)(void *m, enum bl_kind kind, const char *entity, struct buf *json);
    /* Forget what has not been seen since `before` (s). */
    void (*age)(void *m, uint32_t before);
    void (*stats)(void *m, struct bl_module_stats *st);
};

/* The modules, in the order the engine runs them. */
extern const struct bl_module_ops bl_account_module;     /* bl-account.c */
extern const struct bl_module_ops bl_application_module; /* bl-app.c */
extern const struct bl_module_ops bl_host_module;        /* bl-host.c */
extern const struct bl_module_ops bl_spraying_module;    /* bl-spray.c */

#endif
