/*
 * metrics.h - kenchi's own health figures, as Prometheus text.
 *
 * Every part of the daemon registers the series it moves (events read per
 * source, alerts per level, queue depths, drops, lag, store size) once, at
 * start, and then updates them with a relaxed atomic add or store: no lock
 * on the hot path. The metrics endpoint (and `kenchi status`) renders the
 * registry in the Prometheus text exposition format, version 0.0.4: one
 * "# HELP" and one "# TYPE" line per metric name, then one line per series
 * with its labels, in registration order.
 *
 * Names follow Prometheus conventions: kenchi_ prefix, _total for
 * counters, base units (seconds, bytes). Labels are given as
 * "key=value,key=value"; values are escaped when rendered. Series are
 * never removed (a source that goes away keeps its last figures), and at
 * most METRICS_MAX_SERIES exist (registration beyond returns a shared
 * sink so callers never have to check).
 */
#ifndef KENCHI_DAEMON_METRICS_H
#define KENCHI_DAEMON_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

#define METRICS_MAX_SERIES 4096

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* A counter (only goes up). Same name and labels: the same series. The
 * pointer stays valid until metrics_free(). */
_Atomic uint64_t *metrics_counter(struct metrics *m, const char *name, const char *help,
                                  const char *labels);
/* A gauge set by its owner (a level: queue depth, lag in ms...), as an
 * integer; scale says what one unit is (1 for counts and bytes, 1e-3 when
 * the integer holds milliseconds of a _seconds gauge). */
_Atomic int64_t *metrics_gauge(struct metrics *m, const char *name, const char *help,
                               const char *labels, double scale);
/* A gauge computed when rendered (store size on disk...); fn is called with
 * the registry's lock held and must not call back into it. */
void metrics_gauge_fn(struct metrics *m, const char *name, const char *help, const char *labels,
                      double (*fn)(void *opaque), void *opaque);

/* Append the whole registry in the text format to out. */
void metrics_render(struct metrics *m, struct buf *out);

static inline void metric_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}
static inline void metric_set(_Atomic int64_t *g, int64_t v)
{
    atomic_store_explicit(g, v, memory_order_relaxed);
}

#endif
