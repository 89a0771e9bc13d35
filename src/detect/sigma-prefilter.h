/*
 * sigma-prefilter.h - which rules can possibly match an event, from one
 * multi-literal scan of its text and hash probes of some of its values
 * (internal to src/detect).
 *
 * Built once per finished set; each matcher owns a sigma_pf_state (scratch,
 * scan buffer, per-rule and per-atom stamps). Per event:
 *
 *   sigma_pf_begin(st)
 *   for the unit u of each log source entry of the event (once each):
 *     for each scan i of u:
 *       sigma_pf_text_reset(st)
 *       sigma_pf_add(st, text, n)      the value(s) of scan i's field
 *       sigma_pf_scan(pf, st, u, i)
 *     if u has a keyword database k not scanned yet in this event:
 *       sigma_pf_add(st, text, n)      every other text of the event
 *       sigma_pf_scan_keywords(pf, st, k)
 *   sigma_pf_probe(pf, st, f, v, n)    for the value(s) of every event field
 *                                      that is a probe for rule field f (found
 *                                      with sigma_pf_probe_next(), once per
 *                                      event: sigma_pf_probe_once())
 *   sigma_pf_verdict(pf, st, &v)
 *   sigma_pf_may_match(&v, rule)       false: the rule cannot match, skip it
 *   sigma_pf_atom_absent(&v, value)    true: the value cannot match
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

/* Derive each rule's necessary atoms and compile them into s->pf; give each
 * value with an atom its id (sigma_value.atom). Returns 0 (also when the
 * prefilter is unavailable: s->pf is then NULL) or a negative errno; on error
 * s->pf is NULL and matching stays exact. */
int sigma_prefilter_build(struct sigma_set *s);
void sigma_prefilter_free(struct sigma_prefilter *pf);

/* For reports and tests. */
struct sigma_pf_counts {
    uint32_t always;   /* rules evaluated on every event of their log source */
    uint32_t literals; /* distinct literals */
    uint32_t units;    /* scan units (databases) */
    uint32_t compiled; /* literals compiled, over all units */
    uint32_t anchored; /* exact, prefix and suffix atoms */
    uint32_t fields;   /* fields they name */
};
void sigma_prefilter_counts(const struct sigma_prefilter *pf, struct sigma_pf_counts *c);

/* Per-matcher state; NULL on allocation failure. */
struct sigma_pf_state *sigma_pf_state_new(const struct sigma_prefilter *pf);
void sigma_pf_state_free(struct sigma_pf_state *st);

/* Start an event: forget the previous event's text and hits. */
void sigma_pf_begin(struct sigma_pf_state *st);

/* Scan units: the literals of the rules of some log source entries, to be
 * found in the texts of the fields those rules read. */
/* The unit of log source entry `entry`, or -1 (no rules). */
int32_t sigma_pf_entry_unit(const struct sigma_prefilter *pf, uint32_t entry);
/* True the first time unit is asked about in this event. */
bool sigma_pf_unit_once(struct sigma_pf_state *st, uint32_t unit);
/* Its literals are looked for field by field: scans 0 .. nscans-1, each
 * for the value of one rule field (under the names sigma_pf_field_names()
 * gives). */
uint32_t sigma_pf_unit_nscans(const struct sigma_prefilter *pf, uint32_t unit);
uint32_t sigma_pf_unit_scan_field(const struct sigma_prefilter *pf, uint32_t unit, uint32_t i);
/* The keyword database of the unit's rules (keyword items, whose literals
 * may be in any text), -1 if none; units may share one. */
int32_t sigma_pf_unit_keywords(const struct sigma_prefilter *pf, uint32_t unit);
/* True the first time keyword database kdb is asked about in this event. */
bool sigma_pf_keywords_once(struct sigma_pf_state *st, uint32_t kdb);
/* Empty the scan buffer. */
void sigma_pf_text_reset(struct sigma_pf_state *st);
/* Add one text of the event (copied into the scan buffer). */
void sigma_pf_add(struct sigma_pf_state *st, const char *p, size_t n);
/* Scan the buffer with the unit's scan i / with keyword database kdb.
 * Return 0, or a negative errno if the scan failed, in which case every rule
 * counts as a possible match. */
int sigma_pf_scan(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t unit,
                  uint32_t i);
int sigma_pf_scan_keywords(const struct sigma_prefilter *pf, struct sigma_pf_state *st,
                           uint32_t kdb);

/* A probe: an event field name whose value is looked up for the atoms of a
 * rule field (the same name, or one a log source entry renames the rule
 * field to). */
struct sigma_pf_field {
    const char *name;
    uint32_t len, hash; /* hash: field_name_hash(name) */
    uint32_t field;     /* the rule field whose atoms the value is looked up for */
    bool anchored;      /* the field has anchored atoms: its value is probed */
};
/* The names rule field f is read under (probes), n of them. */
const struct sigma_pf_field *sigma_pf_field_names(const struct sigma_prefilter *pf, uint32_t f,
                                                  uint32_t *n);
/* The probes whose name hash is hash, one per call: *it starts at 0;
 * returns a probe index, or -1 when there are no more. */
int32_t sigma_pf_probe_next(const struct sigma_prefilter *pf, uint32_t hash, uint32_t *it);
const struct sigma_pf_field *sigma_pf_probe_field(const struct sigma_prefilter *pf, uint32_t i);
/* True the first time probe i is asked about in this event. */
bool sigma_pf_probe_once(struct sigma_pf_state *st, uint32_t i);
/* The event's value p[0..n) (one element of an array) for rule field f:
 * stamp the anchored atoms it meets: equal as folded text or as a number,
 * starting or ending with. */
void sigma_pf_probe(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t f,
                    const char *p, size_t n);

/* The outcome of a scan, valid until the next sigma_pf_begin(); read inline
 * because it is asked once per candidate rule and value. */
struct sigma_pf_verdict {
    const uint8_t *always; /* per rule: evaluated on every event */
    const uint32_t *stamp; /* per rule: == epoch when one of its atoms was present */
    uint32_t epoch;
    bool all;             /* the scan failed: every rule may match */
    const uint32_t *hits; /* the rules stamped, each once (any order) */
    uint32_t nhits;
    const uint32_t *atom; /* per atom id: == epoch when present */
};
void sigma_pf_verdict(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                      struct sigma_pf_verdict *v);

/* Can rule (index in the set) match the scanned event? */
static inline bool sigma_pf_may_match(const struct sigma_pf_verdict *v, uint32_t rule)
{
    return v->all || v->always[rule] || v->stamp[rule] == v->epoch;
}

/* Is atom id (a sigma_value.atom, not 0) absent from the scanned event, so
 * that its value cannot match? */
static inline bool sigma_pf_atom_absent(const struct sigma_pf_verdict *v, uint32_t atom)
{
    return !v->all && v->atom[atom] != v->epoch;
}

#endif
