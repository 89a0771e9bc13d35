/*
 * stix-pattern.h - the STIX 2.1 patterning language on kenchi's events.
 *
 * A STIX pattern ("[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY
 * [domain-name:value = 'evil.example'] WITHIN 300 SECONDS") is compiled
 * once by a hand-written recursive-descent parser into flat arrays, then
 * evaluated on events. The whole language of the specification's
 * conformance level 3 is read: every comparison operator (=, !=, <, >, <=,
 * >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET, EXISTS, NOT), AND/OR inside
 * and between observation expressions, FOLLOWEDBY, and the qualifiers
 * WITHIN, REPEATS and START/STOP.
 *
 * One kenchi event is one STIX observation. Object paths are mapped onto
 * event fields by one table (stix-pattern-map.c, documented in docs/intel.md
 * "STIX patterns on kenchi events"); a path the table does not map is never
 * present in any event, so every comparison on it is false.
 *
 * Two ways to evaluate:
 *   - stix_pattern_match_event(): one observation expression on one event;
 *   - the stream matcher (stix_matcher_*): many patterns, events in time
 *     order, a report each time a whole pattern (observation operators and
 *     qualifiers included) is satisfied by distinct events. Its state is
 *     bounded: each pattern keeps only the observations its WITHIN windows
 *     and REPEATS counts can still use, at most max_kept of them.
 *
 * Threads: a compiled pattern is read-only after compilation and may be
 * shared; a matcher is used by one thread at a time.
 */
#ifndef KENCHI_INTEL_STIX_PATTERN_H
#define KENCHI_INTEL_STIX_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "intel/ioc.h"

/* Limits on one pattern (outside input): longer or deeper patterns are
 * refused with a message. */
#define STIX_PATTERN_MAX_BYTES (4u << 20) /* pattern text */
#define STIX_PATTERN_MAX_DEPTH 100        /* nested parentheses */
#define STIX_PATTERN_MAX_OBS   1000       /* observations one match can need */

struct stix_pattern;

/* Compile text[0..n) (UTF-8). Returns 0 with *out set (free it with
 * stix_pattern_free), or -EINVAL with err[0..errlen) holding where and why
 * ("column 17: expected ']' to close the observation expression, found
 * 'AND'"), and *out NULL. An invalid pattern matches nothing. */
int stix_pattern_compile(const char *text, size_t n, struct stix_pattern **out, char *err,
                         size_t errlen);

void stix_pattern_free(struct stix_pattern *p);

/* The text the pattern was compiled from (NUL-terminated). */
const char *stix_pattern_text(const struct stix_pattern *p);

/* Number of observation expressions ("[...]") in the pattern. */
uint32_t stix_pattern_observations(const struct stix_pattern *p);

/* If p is one observation expression without qualifiers whose comparisons
 * are an OR of equality (=, IN) tests on paths that map to an indicator type
 * (ipv4/ipv6-addr:value -> ip, domain-name:value -> domain, url:value -> url,
 * email-addr:value -> email, file:hashes.MD5/'SHA-1'/'SHA-256' -> md5/sha1/
 * sha256, file:name -> filename, the HTTP request's User-Agent header ->
 * user-agent), and every value is a valid indicator of its type
 * (ioc_normalise), calls cb(opaque, type, value, len) for each value as
 * written in the pattern and returns 1: the caller can then match those
 * values in its indicator set instead of evaluating the pattern. Returns 0
 * (cb never called) otherwise. */
int stix_pattern_simple_values(const struct stix_pattern *p,
                               void (*cb)(void *opaque, enum ioc_type t, const char *v, size_t n),
                               void *opaque);

/* The values that lead to every event p can use, for a search through an
 * index of values (the store's hunting index): per observation expression
 * obs, a set of (type, value) such that an event satisfies the expression
 * only if it holds one of them: = and IN (and ISSUBSET for addresses) on
 * the paths of stix_pattern_simple_values and on the addresses that
 * network-traffic and email-message refer to; AND takes its operand with
 * the fewest values, OR the union of all. Values are normalised
 * (ioc_normalise). Returns 1 after calling cb for every value, or 0 (cb
 * never called) when some observation expression can hold on an event
 * without any such value (a != or LIKE test, a path of another kind): such
 * a pattern needs every event of its time window. */
int stix_pattern_index_values(const struct stix_pattern *p,
                              void (*cb)(void *opaque, uint32_t obs, enum ioc_type t, const char *v,
                                         size_t n),
                              void *opaque);

/* True when p is a single observation expression and ev satisfies it. A
 * START/STOP qualifier is checked against the event's time, WITHIN is
 * trivially true for one observation; REPEATS n > 1 and patterns of several
 * observation expressions need the stream matcher and give false. */
bool stix_pattern_match_event(const struct stix_pattern *p, const struct event *ev);

/* ---- the stream matcher ---------------------------------------------- */

struct stix_matcher_opts {
    uint32_t max_kept;      /* observations kept per pattern; 0: 10,000 */
    uint32_t search_budget; /* combination steps per pattern and event; 0: 10,000 */
    bool no_prefilter;      /* evaluate every pattern on every event (to check
                               the prefilter, or to measure it) */
};

/* An event used by a match, copied by the matcher (file is interned by the
 * matcher and lives until stix_matcher_free). */
struct stix_evref {
    uint64_t id;
    int64_t ts_ns;
    const char *file;
    uint64_t line, record;
};

struct stix_matcher_stats {
    uint64_t patterns;       /* patterns added */
    uint64_t events;         /* events fed */
    uint64_t events_skipped; /* events the prefilter sent to no pattern */
    uint64_t evaluations;    /* observation expressions evaluated */
    uint64_t observations;   /* observation expressions that matched an event */
    uint64_t matches;        /* whole patterns satisfied (on_match calls) */
    uint64_t kept;           /* observations held right now */
    uint64_t dropped;        /* observations dropped at the max_kept cap */
    uint64_t expired;        /* observations dropped by their time window */
    uint64_t searches_cut;   /* searches stopped by the step budget */
    uint64_t regex_limited;  /* MATCHES tests stopped by the match limit */
};

struct stix_matcher;

/* NULL opts: the defaults. Returns NULL on out-of-memory. */
struct stix_matcher *stix_matcher_new(const struct stix_matcher_opts *o);

/* Add pattern p (it must outlive the matcher; the matcher does not copy
 * it). user is handed back with its matches. Returns 0, or -E2BIG when the
 * pattern needs more observations than max_kept (it could never match). */
int stix_matcher_add(struct stix_matcher *m, const struct stix_pattern *p, void *user);

/* Feed one event (events in event-time order; an event without a time
 * takes the latest time seen). For each pattern the event completes,
 * on_match(opaque, user, evs, nevs) gets the events used, oldest first;
 * they are consumed (never used by another match of that pattern).
 * Returns 0, or the first non-zero value on_match returned (the feed of
 * this event stops there). */
int stix_matcher_feed(struct stix_matcher *m, const struct event *ev,
                      int (*on_match)(void *opaque, void *user, const struct stix_evref *evs,
                                      size_t nevs),
                      void *opaque);

void stix_matcher_stats(const struct stix_matcher *m, struct stix_matcher_stats *out);

void stix_matcher_free(struct stix_matcher *m);

#endif
