/*
 * sigma-prefilter.h - which rules can possibly match an event, from one
 * multi-literal scan of its text (internal to src/detect).
 *
 * Built once per finished set; each matcher owns a sigma_pf_state (scratch,
 * scan buffer, per-rule stamps). Per event:
 *
 *   sigma_pf_begin(st)
 *   sigma_pf_add(st, text, n)          for every text a rule could look at
 *   sigma_pf_scan(pf, st)
 *   sigma_pf_verdict(pf, st, &v)
 *   sigma_pf_may_match(&v, rule)       false: the rule cannot match, skip it
 *
 * Without Hyperscan at build time sigma_prefilter_build() builds nothing
 * (set->pf stays NULL) and matching evaluates every candidate rule.
 */
#ifndef KENCHI_DETECT_SIGMA_PREFILTER_H
#define KENCHI_DETECT_SIGMA_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sigma_set;
struct sigma_prefilter;
struct sigma_pf_state;

/* Derive each rule's necessary literals and compile them into s->pf.
 * Returns 0 (also when the prefilter is unavailable: s->pf is then NULL) or
 * a negative errno; on error s->pf is NULL and matching stays exact. */
int sigma_prefilter_build(struct sigma_set *s);
void sigma_prefilter_free(struct sigma_prefilter *pf);

/* Rules that are evaluated on every event (no necessary literal), and
 * literals compiled: for reports and tests. */
void sigma_prefilter_counts(const struct sigma_prefilter *pf, uint32_t *always, uint32_t *lits);

/* Per-matcher state; NULL on allocation failure. */
struct sigma_pf_state *sigma_pf_state_new(const struct sigma_prefilter *pf);
void sigma_pf_state_free(struct sigma_pf_state *st);

/* Start an event: forget the previous event's text and hits. */
void sigma_pf_begin(struct sigma_pf_state *st);
/* Add one text of the event (copied into the scan buffer). */
void sigma_pf_add(struct sigma_pf_state *st, const char *p, size_t n);
/* Scan the added text. Returns 0, or a negative errno if the scan failed, in
 * which case every rule counts as a possible match. */
int sigma_pf_scan(const struct sigma_prefilter *pf, struct sigma_pf_state *st);
/* The outcome of a scan, valid until the next sigma_pf_begin(); read inline
 * because it is asked once per candidate rule. */
struct sigma_pf_verdict {
    const uint8_t *always; /* per rule: evaluated on every event */
    const uint32_t *stamp; /* per rule: == epoch when one of its literals occurred */
    uint32_t epoch;
    bool all;             /* the scan failed: every rule may match */
    const uint32_t *hits; /* the rules stamped, each once (any order) */
    uint32_t nhits;
};
void sigma_pf_verdict(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                      struct sigma_pf_verdict *v);

/* Can rule (index in the set) match the scanned event? */
static inline bool sigma_pf_may_match(const struct sigma_pf_verdict *v, uint32_t rule)
{
    return v->all || v->always[rule] || v->stamp[rule] == v->epoch;
}

#endif
