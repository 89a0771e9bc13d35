/*
 * sigma-prefilter.h - which rules can possibly match an event, from one
 * multi-literal scan of its text and hash probes of some of its values
 * (internal to src/detect).
 *
 * Built once per finished set; each matcher owns a sigma_pf_state (scratch,
 * scan buffer, per-rule and per-atom stamps). Per event:
 *
 *   sigma_pf_begin(st)
 *   sigma_pf_entry(pf, st, e)          for each log source entry of the event
 *   for each event field name, each probe i with its hash
 *   (sigma_pf_probe_next()), once (sigma_pf_probe_once()), if wanted
 *   (sigma_pf_probe_wanted()):
 *     sigma_pf_value(pf, st, i, v, n)  its value (each element of an array)
 *   sigma_pf_scan_small(pf, st)
 *   if sigma_pf_has_keywords(pf, st):
 *     sigma_pf_text_reset(st), sigma_pf_add(st, text, n) for every text,
 *     sigma_pf_scan_keywords(pf, st)
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
/* A log source entry of the event: its rules' literals are looked for. */
void sigma_pf_entry(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t entry);

/* A probe: an event field name under which the value of a rule field is
 * read (the same name, or one a log source entry renames the rule field
 * to). */
struct sigma_pf_field {
    const char *name;
    uint32_t len, hash; /* hash: field_name_hash(name) */
    uint32_t field;     /* the rule field */
    bool anchored;      /* the rule field has anchored atoms */
};
/* A filter of the probes' name hashes: no probe has a name hash whose bit
 * (hash % 4096) is clear, and sigma_pf_probe_next() need not be asked. */
const uint64_t *sigma_pf_probe_bits(const struct sigma_prefilter *pf);
static inline bool sigma_pf_probe_maybe(const uint64_t *bits, uint32_t hash)
{
    return bits[(hash % 4096) / 64] >> (hash % 64) & 1;
}

/* The probes whose name hash is hash, one per call: *it starts at 0;
 * returns a probe index, or -1 when there are no more. */
int32_t sigma_pf_probe_next(const struct sigma_prefilter *pf, uint32_t hash, uint32_t *it);
const struct sigma_pf_field *sigma_pf_probe_field(const struct sigma_prefilter *pf, uint32_t i);
/* True the first time probe i is asked about in this event. */
bool sigma_pf_probe_once(struct sigma_pf_state *st, uint32_t i);
/* Is probe i's value looked at (anchored atoms, or literals of the event's
 * entries' rules in that field)? */
bool sigma_pf_probe_wanted(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                           uint32_t i);
/* The event's value p[0..n) under probe i (one element of an array): stamp
 * the anchored atoms it meets (equal as folded text or as a number,
 * starting or ending with) and scan it for the field's literals. */
void sigma_pf_value(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t i,
                    const char *p, size_t n);

/* After the values: scan the fields whose literals are few, all at once. */
void sigma_pf_scan_small(const struct sigma_prefilter *pf, struct sigma_pf_state *st);

/* Keyword items (literals found in any text): have the event's entries'
 * rules some? Then the texts keyword_value() reads go into the buffer
 * (sigma_pf_text_reset(), sigma_pf_add()), and sigma_pf_scan_keywords()
 * scans it, case-folded. sigma_pf_value() is given a value case-folded
 * (util/casefold.h) when it is not ASCII. */
bool sigma_pf_has_keywords(const struct sigma_prefilter *pf, const struct sigma_pf_state *st);
void sigma_pf_text_reset(struct sigma_pf_state *st);
void sigma_pf_add(struct sigma_pf_state *st, const char *p, size_t n);
void sigma_pf_scan_keywords(const struct sigma_prefilter *pf, struct sigma_pf_state *st);

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
