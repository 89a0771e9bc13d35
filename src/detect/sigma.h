/*
 * sigma.h - Sigma detection: load rule sets, match events against them.
 *
 * A sigma_set holds everything loaded from rule paths (rules, filters,
 * correlation documents) plus the log source mapping that says which events
 * each rule's `logsource` applies to. Loading never stops at a bad rule: a
 * refused document is recorded as a diagnostic with file:line:column and the
 * exact reason, and the rest loads.
 *
 * Life cycle:
 *   sigma_set_new()            options: mapping file, placeholder file
 *   sigma_set_load_path()...   files or directories (recursive, sorted)
 *   sigma_set_finish()         apply filters, map log sources, build the index
 *   sigma_matcher_new()        per-thread evaluation state (no allocation
 *   sigma_match()              per event after warm-up)
 *
 * Matching an event looks up the log source variants the event belongs to
 * (a hash on its channel / product), so the cost per event depends on the
 * rules of that log source, never on the size of the whole set.
 */
#ifndef KENCHI_DETECT_SIGMA_H
#define KENCHI_DETECT_SIGMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event/event.h"

struct sigma_set;
struct sigma_rule;
struct sigma_matcher;

struct sigma_opts {
    const char *logsources;   /* mapping file; NULL: search the default places */
    const char *placeholders; /* YAML file of placeholder values, or NULL */
};

enum sigma_diag_kind {
    SIGMA_REFUSED, /* the document was not loaded */
    SIGMA_WARNING, /* loaded, but something deserves a look */
};

struct sigma_diag {
    enum sigma_diag_kind kind;
    char *file;
    uint32_t line, col;
    char *msg;
};

struct sigma_counts {
    uint32_t files;
    uint32_t rules;        /* detection rules loaded */
    uint32_t active;       /* ... of which some event can reach */
    uint32_t inactive;     /* ... of which none can (log source never produced) */
    uint32_t filters;      /* filter documents loaded */
    uint32_t correlations; /* correlation documents loaded */
    uint32_t refused;      /* documents refused */
    uint32_t warnings;
};

/* Create an empty set. Reads the log source mapping (and placeholders);
 * returns 0, or a negative errno with a message written to err. */
int sigma_set_new(const struct sigma_opts *o, struct sigma_set **out, FILE *err);

/* Load a file or a directory (recursively; *.yml and *.yaml, in name
 * order). Problems are recorded as diagnostics. Returns 0, or -ENOENT if the
 * path does not exist. */
int sigma_set_load_path(struct sigma_set *s, const char *path);

/* Load rules from text (name is used in diagnostics). */
int sigma_set_load_text(struct sigma_set *s, const char *name, const char *text, size_t n);

/* Apply filters, resolve log sources, build the index. Call once, after
 * loading and before matching. */
int sigma_set_finish(struct sigma_set *s);

void sigma_set_free(struct sigma_set *s);

void sigma_set_counts(const struct sigma_set *s, struct sigma_counts *c);
const struct sigma_diag *sigma_set_diags(const struct sigma_set *s, size_t *n);
size_t sigma_set_nrules(const struct sigma_set *s);
const struct sigma_rule *sigma_set_rule(const struct sigma_set *s, size_t i);
/* Path of the mapping file in use. */
const char *sigma_set_logsources_path(const struct sigma_set *s);

/* Public view of a rule. Strings are NULL when the rule lacks them. */
struct sigma_rule_view {
    const char *id, *name, *title, *level, *status, *file;
    const char *product, *service, *category;
    const char *const *tags;
    uint32_t ntags;
    const char *const *attack;
    uint32_t nattack;
    uint32_t line, col;
    bool active;
    const char *inactive_why;
};
void sigma_rule_view(const struct sigma_rule *r, struct sigma_rule_view *v);

/* Correlation documents (evaluated by detect/sigma-corr.h). */
struct sigma_correlation_view {
    const char *id, *title, *type, *file;
    uint32_t line;
};
size_t sigma_set_ncorrelations(const struct sigma_set *s);
void sigma_set_correlation(const struct sigma_set *s, size_t i, struct sigma_correlation_view *v);

/* One matched field, for alerts: name and the event's value. The strings
 * point into the event (valid during the callback). */
struct sigma_hit_field {
    struct str name;
    struct str value;
};

/* Called for each rule that matches an event. Return 0 to go on, or a
 * negative errno to stop. */
typedef int (*sigma_match_fn)(void *opaque, const struct sigma_rule *r, const struct event *ev,
                              const struct sigma_hit_field *fields, size_t nfields);

struct sigma_matcher *sigma_matcher_new(const struct sigma_set *s);
void sigma_matcher_free(struct sigma_matcher *m);

/* Test ev against every rule whose log source it belongs to, calling fn for
 * each match in rule order. Returns 0 or fn's error. */
int sigma_match(struct sigma_matcher *m, const struct event *ev, sigma_match_fn fn, void *opaque);

/* Turn the literal prefilter on (the default) or off. Off, every rule of the
 * event's log source is evaluated: the reference the prefilter must agree
 * with. The environment variable KENCHI_NO_PREFILTER (any value) turns it off
 * for every new matcher. */
void sigma_matcher_set_prefilter(struct sigma_matcher *m, bool on);

struct sigma_match_stats {
    uint64_t events;     /* events tested */
    uint64_t rule_evals; /* rule conditions evaluated */
    uint64_t matches;
    uint64_t re_errors; /* regex matches stopped by the limits */
};
void sigma_matcher_stats(const struct sigma_matcher *m, struct sigma_match_stats *st);

#endif
