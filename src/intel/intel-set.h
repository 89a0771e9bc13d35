/*
 * intel-set.h - the in-memory indicator matcher: every indicator kenchi
 * knows, looked up on every event at a cost that does not grow with their
 * number.
 *
 * A set is filled from ioc_batches (files read by intel-read.h, imports kept
 * in the store) with intel_set_add_batch(), and then only read: lookups of
 * one normalised value (intel_set_find), of an address in the exact
 * addresses and every network that holds it (intel_set_find_ip), of a host
 * name and its parent domains (intel_set_find_domain), and of all the fields
 * of an event at once (intel_match_event, through an intel_matcher that
 * holds the per-thread scratch).
 *
 * Several indicators may share a value (two feeds list the same address):
 * they form a chain, in load order, from the value's first indicator (its
 * "head"); a lookup returns heads, intel_set_next() walks the chain. The
 * same value under the same metadata is stored once (counted as a
 * duplicate). Revoked indicators and STIX patterns (matched elsewhere) are
 * counted and left out.
 *
 * Ids are indexes: stable while the set lives, valid for intel_set_get().
 * The set copies what it keeps (values, metadata, warning names); the
 * batches may be freed once added. Not thread-safe while adding; lookups
 * from several threads are fine with one matcher per thread.
 */
#ifndef KENCHI_INTEL_INTEL_SET_H
#define KENCHI_INTEL_INTEL_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "intel/ioc.h"

#define INTEL_NONE UINT32_MAX
/* Indicators kept for one value; later ones are counted (over_cap). */
#define INTEL_MAX_PER_VALUE 256

struct intel_set;

struct intel_set *intel_set_new(void);
void intel_set_free(struct intel_set *s);

/* Add every indicator of b, with copies of the metadata they use (equal
 * metadata records, from any batch, are kept once). Returns 0, or -ENOMEM
 * (then the set holds part of b), or -E2BIG when the set is full (4 G
 * indicators or 4 GiB of values). */
int intel_set_add_batch(struct intel_set *s, const struct ioc_batch *b);

/* The lower-level form: a metadata record (copied; returns its index in
 * the set), then indicators under it. value is normalised (ioc_normalise);
 * warning is copied. Returns 0, 1 when the indicator was not added
 * (duplicate, revoked meta, pattern, over the per-value cap: counted), or a
 * negative errno (-EINVAL: value not in normal form). */
uint32_t intel_set_add_meta(struct intel_set *s, const struct ioc_meta *m);
int intel_set_add(struct intel_set *s, enum ioc_type t, const char *value, size_t n, uint32_t meta,
                  bool detect, const char *warning);
/* An address or network (addr[4] or addr[16], host bits clear) as IOC_IP. */
int intel_set_add_ip(struct intel_set *s, const uint8_t *addr, bool v6, unsigned plen,
                     uint32_t meta, bool detect, const char *warning);

/* STIX patterns beyond single values (IOC_PATTERN) are kept aside for the
 * stream matcher (stix-pattern.h), with their metadata; revoked ones are
 * left out like every indicator. */
struct intel_pattern {
    const char *text;
    const struct ioc_meta *meta;
    uint32_t meta_id;
    bool detect;
    const char *warning;
};
size_t intel_set_npatterns(const struct intel_set *s);
void intel_set_pattern(const struct intel_set *s, size_t i, struct intel_pattern *out);

/* Give back the slack of the growing arrays once loading is done
 * (optional; lookups work either way). */
void intel_set_compact(struct intel_set *s);

struct intel_set_stats {
    uint64_t indicators; /* kept */
    uint64_t values;     /* distinct (type, value) */
    uint64_t by_type[IOC__COUNT];
    uint64_t metas;
    uint64_t duplicates; /* same value, same metadata */
    uint64_t revoked;
    uint64_t patterns; /* IOC_PATTERN: kept aside, see intel_set_pattern() */
    uint64_t over_cap; /* more than INTEL_MAX_PER_VALUE for one value */
    uint64_t invalid;  /* values not in normal form (a reader's bug) */
    uint64_t networks; /* IP indicators with a prefix shorter than the address */
    size_t bytes;      /* memory held by the set, all included */
};
void intel_set_get_stats(const struct intel_set *s, struct intel_set_stats *st);
/* Number of indicators kept (0: nothing to match). */
uint64_t intel_set_count(const struct intel_set *s);

/* One stored indicator. value points into the set, or into buf for
 * addresses (formatted on demand); valid while the set and the view live. */
struct intel_indicator {
    enum ioc_type type;
    bool detect;
    const char *value;
    uint32_t meta_index;
    const struct ioc_meta *meta;
    const char *warning; /* NULL: none */
    unsigned plen;       /* IP: prefix length (32 or 128 for an address) */
    char buf[64];
};
void intel_set_get(const struct intel_set *s, uint32_t id, struct intel_indicator *out);
/* The next indicator with the same value, or INTEL_NONE. */
uint32_t intel_set_next(const struct intel_set *s, uint32_t id);
/* True if id's metadata is valid at ts_ns (valid_from <= ts < valid_until).
 * An event without a time (TIME_NONE) is inside only the windows that are
 * open on both sides. */
bool intel_set_valid_at(const struct intel_set *s, uint32_t id, int64_t ts_ns);
const struct ioc_meta *intel_set_meta(const struct intel_set *s, uint32_t meta_index);

/* The head of the chain for (t, value[0..n)) with value normalised, or
 * INTEL_NONE. For IOC_IP use intel_set_find_ip. */
uint32_t intel_set_find(const struct intel_set *s, enum ioc_type t, const char *value, size_t n);

struct intel_found {
    uint32_t head;
    uint16_t depth; /* ip: prefix length of the network; domain: labels
                       dropped from the name (0: the name itself) */
};
/* Every network (and the exact address) holding addr whose prefix length
 * is at most max_plen, longest first. Returns how many were found (at most
 * max are stored). */
unsigned intel_set_find_ip(const struct intel_set *s, const uint8_t *addr, bool v6,
                           unsigned max_plen, struct intel_found *out, unsigned max);
/* The domain indicators equal to name (normalised) or to one of its parent
 * domains that has at least min_labels labels, the name first. */
unsigned intel_set_find_domain(const struct intel_set *s, const char *name, size_t n,
                               unsigned min_labels, struct intel_found *out, unsigned max);

/* ---- matching events ------------------------------------------------- */

#define INTEL_HIT_FIELDS 4
#define INTEL_MAX_HITS   32

/* One indicator value an event holds, and the event fields that hold it
 * (values as the event wrote them). */
struct intel_hit {
    uint32_t head;
    unsigned nfields;
    struct {
        const char *name; /* "source.ip", "dns.question.name", "user_agent" ... */
        struct str value;
    } field[INTEL_HIT_FIELDS];
};

struct intel_match_stats {
    uint64_t events;
    uint64_t lookups;      /* values looked up */
    uint64_t hits;         /* (event, value) pairs found */
    uint64_t hits_dropped; /* over INTEL_MAX_HITS for one event */
};

struct intel_matcher;
/* A matcher over s (borrowed; must outlive the matcher). NULL on ENOMEM. */
struct intel_matcher *intel_matcher_new(const struct intel_set *s);
void intel_matcher_free(struct intel_matcher *m);

/* Look up every field of ev that can hold an indicator (the list is in
 * docs/intel.md: addresses, names, URLs, addresses of mail, hashes, file
 * names, user agents). *hits points at the distinct values found, valid
 * until the next call; returns their number. Allocation-free. Validity,
 * warnings and detect are left to the caller (intel_set_valid_at,
 * intel_set_get). */
size_t intel_match_event(struct intel_matcher *m, const struct event *ev,
                         const struct intel_hit **hits);
void intel_matcher_stats(const struct intel_matcher *m, struct intel_match_stats *st);

#endif
