/*
 * sigma-corr.h - Sigma correlation rules, evaluated on a stream of rule
 * matches (event_count, value_count, temporal, temporal_ordered, value_sum,
 * value_avg, value_percentile).
 *
 * The engine is fed every (rule, event) match of the Sigma matcher, in the
 * order the events are read. For each correlation that names the rule, the
 * event's group-by values select a group; the group keeps a sliding window
 * in EVENT time (the newest event time of the group minus the timespan) and
 * evaluates the condition after every event it takes. When the condition
 * becomes true the correlation fires once; it fires again for that group
 * only after an event found it false (its window went back under the
 * threshold). temporal_ordered consumes its sequence when it fires.
 * A correlation that fires is fed to the correlations that name it
 * (chaining), synchronously, with the same event.
 *
 * Memory is bounded: at most max_groups live groups over all correlations
 * (the group least recently updated is evicted, and counted, when a new one
 * needs room); a group keeps at most max_window_events entries (the oldest
 * is dropped, and counted); groups whose window has passed are freed as the
 * event time moves on. Group state is plain data (times, hashes, numbers,
 * indices into the engine's file table), written out by corr_engine_save
 * and read back by corr_engine_restore.
 *
 * Not thread-safe: one engine per pipeline, fed in reading order.
 */
#ifndef KENCHI_DETECT_SIGMA_CORR_H
#define KENCHI_DETECT_SIGMA_CORR_H

#include <stdbool.h>
#include <stdint.h>

#include "detect/sigma.h"
#include "event/event.h"

struct sigma_correlation;
struct corr_engine;

struct corr_opts {
    uint32_t max_groups;        /* live groups over all correlations */
    uint32_t max_window_events; /* entries kept per group window */
    uint32_t max_alert_events;  /* events listed in an alert */
};
void corr_opts_default(struct corr_opts *o);

/* One event behind a correlation alert. file is owned by the engine. */
struct corr_event_ref {
    int64_t ts_ns;
    uint64_t id;
    const char *file; /* NULL for stdin */
    uint64_t line, record;
    const char *rule; /* the name the correlation uses for the rule it matched */
};

/* A correlation that fired. Everything is valid during the callback only. */
struct corr_fire {
    const struct sigma_correlation *k;
    const struct event *ev;              /* the event that completed it */
    const struct str *groups;            /* k->ngroup_by values, same order as group-by */
    double value;                        /* count, distinct count, sum, average, percentile */
    int64_t start_ns, end_ns;            /* oldest and newest event time in the window */
    const struct corr_event_ref *events; /* in event-time order */
    uint32_t nevents;
    uint64_t nmore; /* contributing events left out of the list */
};

/* Called for each correlation that fires and emits alerts (see `generate`).
 * Return 0 to go on, or a negative errno to stop. */
typedef int (*corr_fire_fn)(void *opaque, const struct corr_fire *f);

struct corr_stats {
    uint32_t correlations; /* evaluated */
    uint32_t disabled;     /* in a reference cycle, not evaluated */
    uint64_t fed;          /* (correlation, event) updates */
    uint64_t fired;        /* correlations that fired (emitted or chained) */
    uint64_t groups_live, groups_created, groups_expired, groups_evicted;
    uint64_t late;            /* events older than their group's window */
    uint64_t no_group;        /* events missing a group-by field */
    uint64_t no_value;        /* value_* events without a usable field value */
    uint64_t no_time;         /* events without a time */
    uint64_t window_overflow; /* window entries dropped at max_window_events */
};

/* Build the engine for the correlations of a finished set (borrowed; must
 * outlive the engine). Correlations in reference cycles are disabled and
 * counted. Returns 0 or -ENOMEM; *out is NULL when the set has no
 * correlations. */
int corr_engine_new(const struct sigma_set *s, const struct corr_opts *o, struct corr_engine **out);
void corr_engine_free(struct corr_engine *e);

/* Feed one rule match. Calls fn for each correlation that fires as a
 * result (including chained ones). Returns 0 or fn's error / -ENOMEM. */
int corr_feed(struct corr_engine *e, const struct sigma_rule *r, const struct event *ev,
              corr_fire_fn fn, void *opaque);

/* Does rule r still produce its own alerts? False when a correlation names
 * it and none of the correlations naming it says `generate: true`. */
bool corr_rule_emits(const struct corr_engine *e, const struct sigma_rule *r);

void corr_engine_stats(const struct corr_engine *e, struct corr_stats *st);

/* ---- saved state (the live daemon keeps it across restarts) ------------
 * The whole state (every group: its key, window entries or temporal slots,
 * event references, the fired flag; each correlation's event-time
 * watermark) as one versioned, checksummed binary blob, appended to out.
 * Bounded by max_groups x (max_window_events + max_alert_events) entries.
 * Returns 0 or -ENOMEM. */
struct buf;
int corr_engine_save(const struct corr_engine *e, struct buf *out);
/* A number that moves whenever the state may have changed (a feed or a
 * restore): a caller saves again only when it moved. */
uint64_t corr_engine_generation(const struct corr_engine *e);

struct corr_restore_report {
    uint32_t corrs;          /* correlations whose groups were taken */
    uint32_t corrs_gone;     /* saved correlations the rule set no longer has */
    uint32_t corrs_changed;  /* ... that changed type, rules, group-by or fields */
    uint32_t groups;         /* groups restored */
    uint64_t groups_dropped; /* of correlations gone or changed, passed, or over max_groups */
};
/* Replace the state of e by a saved one (perhaps by another rule set):
 * saved correlations are matched by id, else name, else title; the groups
 * of those gone or changed are dropped, and counted in rep. Limits of e
 * apply (the newest window entries and references are kept). A blob that
 * is not a state of this version, or is damaged, leaves e empty and
 * returns -EINVAL with the reason in err; -ENOMEM likewise. */
int corr_engine_restore(struct corr_engine *e, const void *data, size_t n,
                        struct corr_restore_report *rep, char *err, size_t errn);
/* The same on the payload alone, without the header and checksum (fuzzing). */
int corr_engine_restore_payload(struct corr_engine *e, const void *data, size_t n,
                                struct corr_restore_report *rep, char *err, size_t errn);

/* The correlation's type as written ("event_count" ...). */
const char *sigma_corr_type_name(uint8_t t);

#endif
