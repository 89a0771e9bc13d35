/*
 * detector.h - the detection sink of the pipeline: events in, alerts out.
 *
 * The detector runs the Sigma matcher on every event of every batch and
 * turns each (rule, event) match into an alert. Because an event's data dies
 * with its batch, the alert is rendered at match time (JSON line, plus a
 * short row for the terminal table) and kept until the scan ends, when the
 * alerts are written in event-time order (ties keep the reading order), so
 * the same input always gives the same alerts in the same order. Memory is
 * proportional to the number of alerts, not of events. The alert layout is
 * documented in docs/alerts.md.
 */
#ifndef KENCHI_DETECT_DETECTOR_H
#define KENCHI_DETECT_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "detect/sigma.h"
#include "pipeline/pipeline.h"

struct detector;

/* A detector over a finished set (borrowed; must outlive the detector),
 * with the default correlation limits, or with co's (see sigma-corr.h).
 * set may be NULL: no Sigma rules, only the alert sources added. */
struct detector *detector_new(const struct sigma_set *set);
struct corr_opts;
struct detector *detector_new_opts(const struct sigma_set *set, const struct corr_opts *co);
void detector_free(struct detector *d);

/* The sink to add to a pipeline. */
struct event_sink detector_sink(struct detector *d);

/* Write every alert, in event-time order, as JSON lines or as a table.
 * Returns 0 or a negative errno (write error). */
int detector_write(struct detector *d, FILE *out, bool json);

/* Streaming (the live daemon): hand every alert kept so far to cb, in
 * event-time order (as detector_write orders them), and forget them.
 * Called once per commit batch, so alerts leave as they are made while
 * each batch stays sorted. Stops calling cb at its first error (returned;
 * the remaining alerts are dropped). */
int detector_take(struct detector *d, int (*cb)(void *opaque, int64_t ts_ns, const char *json),
                  void *opaque);

/* Every kind of alert, in one list (those taken included). */
uint64_t detector_alert_count(const struct detector *d);

/* Another detector: on_event sees every event after the Sigma rules (in
 * the order added; at most 4) and keeps its alerts with detector_push().
 * Returns 0 or a negative errno to stop the run. */
struct alert_source {
    const char *name;
    int (*on_event)(void *opaque, struct detector *d, const struct event *ev);
    void *opaque;
};
int detector_add_source(struct detector *d, const struct alert_source *src);
/* Keep an alert rendered elsewhere: json (one line, copied) and its
 * terminal row (taken over, freed on error). Returns 0 or -ENOMEM. */
int detector_push(struct detector *d, int64_t ts_ns, const char *json, char *row);
void detector_stats(const struct detector *d, struct sigma_match_stats *st);
struct corr_stats;
void detector_corr_stats(const struct detector *d, struct corr_stats *st);
/* The correlation engine (NULL without correlations), for saving and
 * restoring its state (sigma-corr.h). */
struct corr_engine;
struct corr_engine *detector_corr_engine(struct detector *d);

/* Render one alert as a JSON object (no newline) into out; used by the
 * detector and by tests. */
struct buf;
void alert_render_json(const struct sigma_rule *r, const struct event *ev,
                       const struct sigma_hit_field *hits, size_t nhits, struct buf *out);
/* Render a correlation alert likewise (kind "correlation"). */
struct corr_fire;
void corr_alert_render_json(const struct corr_fire *f, struct buf *out);

/* The pieces every kind of alert shares (docs/alerts.md): the
 * "events":[{"id","source"}] member for one event, the entity object of an
 * event, and the terminal row (malloc'd; NULL on ENOMEM). */
void alert_put_events(struct buf *out, const struct event *ev);
void alert_put_entity(struct buf *out, const struct event *ev);
char *alert_row(const struct event *ev, const char *level, const char *title);

#endif
