/*
 * hunt.h - the retro-hunt: intelligence against everything in the store.
 *
 * Given indicators (a struct ioc_batch, or what the store keeps), find
 * every stored event each one names, through the store's indexes
 * (store_hunt: the day summary, then the hunting index; never a scan), and
 * answer per indicator that was seen: first and last seen, number of
 * events, the accounts, hosts and mailboxes involved, and a timeline.
 *
 * Rules: an indicator's validity window (valid_from .. valid_until) narrows
 * the hunt's window (--since/--until): an event outside it does not count.
 * Revoked indicators are not hunted. Indicators on a warning list are
 * hunted, but reported apart ("warned"), never as hits, and only from the
 * index (counts and times, no entities). The same (type, value) under
 * several feeds is looked up once.
 *
 * STIX patterns that are more than one value (FOLLOWEDBY, WITHIN, REPEATS,
 * AND between observations, comparisons other than equality) run through
 * the same stream matcher as scan (stix-pattern.h), over the stored events
 * that can take part in a match, in time order: when every observation
 * expression of a pattern names values the hunting index keys
 * (stix_pattern_index_values), the events of those values; otherwise every
 * event of the pattern's window (the hunt's, narrowed by its validity),
 * read in time order. A pattern's answer is that of a value: the events of
 * its matches (first and last seen, per day, timeline, entities), and how
 * many times it matched.
 *
 * Mailboxes: the sender and recipient addresses of the events found, and
 * of the Postfix messages they belong to (events joined by queue id, up to
 * max_messages messages per indicator): an attacker's address found as a
 * sender gives the recipients of its mail, an address found as a
 * recipient the account that sent to it.
 */
#ifndef KENCHI_HUNT_HUNT_H
#define KENCHI_HUNT_HUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intel/ioc.h"
#include "store/store.h"

struct hunt_opts {
    int64_t since_ns;          /* events at or after; TIME_NONE: no bound */
    int64_t until_ns;          /* events before; TIME_NONE: no bound */
    size_t timeline_events;    /* first events listed per indicator (default 10) */
    size_t max_values;         /* distinct accounts, hosts, mailboxes kept each (default 100) */
    size_t max_messages;       /* Postfix messages joined per indicator (default 100) */
    size_t max_rows;           /* events read per indicator for its entities, the
                                  first ones (default 1,000: a page of the store each;
                                  counts and times are always exact) */
    size_t max_pattern_events; /* candidate events fed per STIX pattern
                                  (default 1,000,000; past it: partial) */
    /* progress: phase 1 the day summary (days), 2 the indicators */
    void (*progress)(void *opaque, int phase, uint64_t done, uint64_t total);
    void *progress_opaque;
};

void hunt_opts_default(struct hunt_opts *o);

/* Distinct values, as first written (compared without case). */
struct hunt_list {
    char **v;
    size_t n;
    uint64_t more; /* distinct values beyond max_values, not kept */
};

struct hunt_day {
    int64_t day_ns; /* midnight UTC of the day; TIME_NONE: events without a time */
    uint64_t events;
};

/* One event of a timeline (strings owned, NULL when absent). */
struct hunt_event {
    int64_t ts_ns;
    char *host, *user, *action, *outcome, *module, *file;
    char *source_ip, *destination_ip, *email_from, *email_to;
    uint64_t line;
};

struct hunt_result {
    size_t ioc;  /* index into the report's batch iocs */
    bool warned; /* on a warning list: seen, not a hit */
    uint64_t events;
    int64_t first_ns, last_ns; /* TIME_NONE when only events without a time */
    struct hunt_list accounts, hosts, mailboxes;
    uint64_t matches;      /* STIX pattern: times it matched (events: theirs) */
    uint64_t messages;     /* Postfix messages joined */
    bool entities_partial; /* entities from the first max_rows events only */
    struct hunt_day *days;
    size_t ndays;
    struct hunt_event *timeline; /* the first timeline_events events */
    size_t ntimeline;
};

struct hunt_report {
    const struct ioc_batch *batch; /* the indicators hunted */
    struct hunt_result *results;   /* the seen ones: hits by first seen, then warned */
    size_t nresults;
    uint64_t indicators;         /* in the batch */
    uint64_t hunted;             /* looked up */
    uint64_t skipped_revoked;    /* not hunted: revoked */
    uint64_t skipped_window;     /* not hunted: validity outside the hunt's window */
    uint64_t skipped_pattern;    /* not hunted: STIX patterns the grammar refuses */
    uint64_t patterns;           /* STIX patterns hunted (in hunted too) */
    uint64_t patterns_indexed;   /* ... through the hunting index */
    uint64_t patterns_scanned;   /* ... over every event of their window */
    uint64_t patterns_partial;   /* ... cut at max_pattern_events */
    uint64_t pattern_candidates; /* events the index gave the patterns */
    uint64_t window_events;      /* events the window scans read */
    uint64_t hits;               /* indicators seen (not warned) */
    uint64_t warned_seen;        /* warning-listed indicators seen */
    uint64_t events;             /* events of the hits (an event found by two counts twice) */
    int64_t events_before_v2;    /* stored before schema 2: no domain/URL/hash/... keys */
    bool needs_v2_keys;          /* the hunt has indicators of those kinds */
    double seconds;
    struct ioc_batch owned; /* the batch when the report loaded it */
    bool owns;
};

/* Hunt the indicators of b (kept by the caller until the report is freed)
 * in store s. Returns 0 (*r filled; free it with hunt_report_free) or a
 * negative errno (store_errmsg(s) says why). The entry point for
 * indicators read from files (`kenchi hunt --intel`). */
int hunt_batch(struct store *s, const struct ioc_batch *b, const struct hunt_opts *o,
               struct hunt_report *r);

/* Hunt the intelligence kept in s: all of it (import_id 0) or what import
 * import_id added or updated. Returns 0, -ENOENT (no such import), or a
 * negative errno. */
int hunt_store(struct store *s, int64_t import_id, const struct hunt_opts *o,
               struct hunt_report *r);

void hunt_report_free(struct hunt_report *r);

#endif
