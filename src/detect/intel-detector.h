/*
 * intel-detector.h - threat intelligence as a detector: every event is
 * looked up in an intel set (intel/intel-set.h), and each indicator value
 * it holds becomes one alert of kind "intel", kept in the detector's alert
 * list beside the Sigma alerts (detector_add_source), so that every kind
 * comes out in one event-time order. The alert layout is in docs/alerts.md.
 *
 * Per (event, value): the indicators of that value that are valid at the
 * event's time (and not revoked: those are never loaded) are split into
 * the ones that alert and the ones that do not (on a warning list, or
 * detect false: counted as suppressed). The alert names the most confident
 * alerting indicator and lists the others.
 */
#ifndef KENCHI_DETECT_INTEL_DETECTOR_H
#define KENCHI_DETECT_INTEL_DETECTOR_H

#include <stdint.h>

#include "detect/detector.h"
#include "intel/intel-set.h"

struct intel_detector;

/* A detector over s (borrowed; must outlive it). NULL on ENOMEM. */
struct intel_detector *intel_detector_new(const struct intel_set *s);
void intel_detector_free(struct intel_detector *x);

/* The source to add to a detector (detector_add_source). */
struct alert_source intel_detector_source(struct intel_detector *x);

struct intel_detector_stats {
    uint64_t events;
    uint64_t alerts;
    uint64_t suppressed;       /* values whose valid indicators are all on a
                                  warning list or not for alerting */
    uint64_t outside_window;   /* values whose indicators are all outside
                                  their validity at the event's time */
    uint64_t hits_dropped;     /* values over the per-event limit */
    uint64_t patterns;         /* STIX patterns on the stream (beyond single values) */
    uint64_t patterns_refused; /* patterns that could not be compiled or added */
    uint64_t pattern_alerts;   /* of the alerts, from patterns */
    uint64_t grouped;          /* values folded into another value's alert (same record) */
};
void intel_detector_stats(const struct intel_detector *x, struct intel_detector_stats *st);

/* At most this many indicators are named in one alert (the rest counted). */
#define INTEL_ALERT_MAX_INDICATORS 10

/* Render the alert for hit h of ev: ids[0..n) are the alerting indicators,
 * the most confident first; omitted more were left out. One JSON object,
 * no newline, appended to out. */
struct buf;
void intel_alert_render_json(const struct intel_set *s, const struct event *ev,
                             const struct intel_hit *h, const uint32_t *ids, size_t n,
                             size_t omitted, struct buf *out);
/* The same for hits hs[0..nh) of one indicator record (grouped: several
 * values of one STIX indicator, MISP event or advisory in one event): the
 * indicator is hs[0]'s, `matched` lists the fields of every hit (a field
 * named twice keeps its first value). */
void intel_alert_render_group_json(const struct intel_set *s, const struct event *ev,
                                   const struct intel_hit *const *hs, size_t nh,
                                   const uint32_t *ids, size_t n, size_t omitted, struct buf *out);

#endif
