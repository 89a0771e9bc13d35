/*
 * warninglist.h - MISP warning lists: values that are known and harmless
 * (public resolvers, big CDNs and clouds, top sites, bogons, hashes of empty
 * files), which an indicator feed should not have listed.
 *
 * warninglists_load() reads lists in MISP's list.json form
 * ({name, type, list, matching_attributes}); warninglist_apply() sets
 * ioc->warning to the name of the first list (in load order) that covers
 * each indicator of a batch. Such an indicator is kept (hunted, scoped,
 * stored) but never alerts: matches on it are counted as suppressed.
 *
 * What "covers" means, by list type (docs/intel.md):
 *   string     the value, normalised as the indicator's type, equals an entry
 *   hostname   the indicator's host (a domain, a URL's host, an address's
 *              domain) is an entry or a subdomain of one
 *   cidr       the address (or the whole network) is inside an entry
 *   substring  an entry occurs in the value (case-insensitive)
 *   regex      the value matches an entry ("/pattern/flags", PCRE2)
 * and only for indicator types the list's matching_attributes name (MISP
 * attribute types: ip-src, domain, url, email-dst, md5 ...; a list without
 * them applies to every type).
 */
#ifndef KENCHI_INTEL_WARNINGLIST_H
#define KENCHI_INTEL_WARNINGLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intel/ioc.h"

struct warninglists;

struct warninglist_opts {
    size_t max_file_bytes; /* largest list.json read (default 64 MiB) */
    size_t max_lists;      /* default 10,000 */
    uint64_t max_entries;  /* over all lists (default 20,000,000) */
    bool no_hyperscan;     /* substring lists: the plain scan (tests) */
};
void warninglist_opts_default(struct warninglist_opts *o);

/* An empty set of lists (o may be NULL: defaults). NULL on ENOMEM. */
struct warninglists *warninglists_new(const struct warninglist_opts *o);
void warninglists_free(struct warninglists *wl);

/* Load path: a list.json file, a directory holding one, or a directory of
 * such directories (in name order, hidden ones skipped). Problems (a file
 * that is not a list, an unknown type, entries that are not values of the
 * list's type) are recorded with their place; the rest is loaded. Returns
 * the number of lists loaded, or a negative errno if path cannot be read. */
int warninglists_load(struct warninglists *wl, const char *path);

/* Flag every indicator of b that a list covers (ioc->warning, a string in
 * b's arena) and count it for that list. Indicators already flagged are
 * left as they are. Returns the number flagged. */
uint64_t warninglist_apply(struct warninglists *wl, struct ioc_batch *b);

struct warninglist_info {
    const char *name;
    const char *path;
    const char *type; /* "string", "hostname", "cidr", "substring", "regex" */
    uint64_t entries; /* kept */
    uint64_t skipped; /* entries that are no value of a type the list applies to */
    uint64_t flagged; /* indicators flagged by this list */
    bool applicable;  /* false: no indicator type kenchi matches (a phone number list) */
};
size_t warninglists_count(const struct warninglists *wl);
void warninglists_info(const struct warninglists *wl, size_t i, struct warninglist_info *out);

size_t warninglists_nproblems(const struct warninglists *wl);
const struct ioc_problem *warninglists_problem(const struct warninglists *wl, size_t i);

#endif
