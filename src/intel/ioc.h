/*
 * ioc.h - the indicator of compromise: the one shape every piece of shared
 * intelligence takes inside kenchi.
 *
 * Every reader (STIX bundles, MISP events and feeds, Zeek intel files, CSV
 * and plain lists, TAXII collections) turns what it reads into an ioc_batch:
 * a list of indicators, each a typed, normalised value, pointing at the
 * metadata it shares with its neighbours (one STIX indicator object, one
 * MISP event, one feed file: its source, confidence, TLP, validity, related
 * intrusion sets...). The store keeps batches with their provenance (one
 * import = one transaction); the matcher (intel-set.h) loads them; the
 * retro-hunt and scope verbs query the store with them.
 *
 * Values are normalised once, here, by ioc_normalise(), and events' values
 * are normalised the same way before lookup, so "1.2.3.4" matches
 * "::ffff:1.2.3.4" and "Evil.EXAMPLE." matches "evil.example":
 *
 *   IOC_IP        canonical address text (inet_ntop), IPv4-mapped IPv6
 *                 folded to IPv4; a network "addr/len" with the host bits
 *                 zero (192.0.2.7/24 is refused: ambiguous), a /32 or /128
 *                 written as the bare address
 *   IOC_DOMAIN    ASCII lower-cased, no trailing dot, no leading "*."; a
 *                 domain indicator also matches its subdomains
 *   IOC_URL       scheme dropped, host lower-cased, default port dropped:
 *                 "host[:port]/path?query" (as Zeek's intel framework)
 *   IOC_EMAIL     lower-cased "local@domain"
 *   IOC_MD5/SHA1/SHA256  lower-case hex of the right length
 *   IOC_FILENAME  lower-cased file name (no directory)
 *   IOC_USER_AGENT  as written
 *   IOC_PATTERN   a STIX pattern that is more than a list of single values
 *                 (the text; see stix-pattern.h)
 */
#ifndef KENCHI_INTEL_IOC_H
#define KENCHI_INTEL_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

enum ioc_type {
    IOC_IP,
    IOC_DOMAIN,
    IOC_URL,
    IOC_EMAIL,
    IOC_MD5,
    IOC_SHA1,
    IOC_SHA256,
    IOC_FILENAME,
    IOC_USER_AGENT,
    IOC_PATTERN,
    IOC__COUNT,
    /* Not an indicator type: an account name (user.name) that a STIX
     * pattern's user-account comparison names, ASCII lower-cased, for
     * finding the pattern's events through a store's hunting index
     * (stix_pattern_index_values, store_hunt). */
    IOC_ACCOUNT_KEY = IOC__COUNT
};

/* "ip", "domain", "url", "email", "md5", "sha1", "sha256", "filename",
 * "user-agent", "stix-pattern": the names used on the command line, in the
 * store and in alerts. */
const char *ioc_type_name(enum ioc_type t);
/* The type for a name above, or -1. Also accepts common aliases: "ipv4",
 * "ipv6", "ip-src", "ip-dst", "addr", "cidr", "hostname", "fqdn",
 * "email-src", "email-dst", "sha-1", "sha-256", "file", "ua". */
int ioc_type_by_name(const char *name);

/* Traffic Light Protocol, 2.0 names (TLP 1.0 WHITE reads as CLEAR). */
enum tlp { TLP_UNMARKED = 0, TLP_CLEAR, TLP_GREEN, TLP_AMBER, TLP_AMBER_STRICT, TLP_RED };
/* "TLP:CLEAR", ... ; "" for unmarked. */
const char *tlp_name(enum tlp t);
/* Parse "TLP:AMBER", "amber", "tlp:amber+strict", "white" ...; -1 if not a
 * TLP level. */
int tlp_by_name(const char *s);

/* What many indicators share. Strings are NUL-terminated and live in the
 * batch's arena; NULL when absent. JSON fields hold JSON array text. */
struct ioc_meta {
    const char *feed; /* the source: a path, URL, or "taxii:<collection url>" */
    const char *ref;  /* its id at the source (STIX id, MISP event uuid) */
    const char *name; /* name or description */
    int confidence;   /* 0..100, or -1 when the source gives none */
    enum tlp tlp;
    int64_t valid_from;  /* UTC ns, TIME_NONE: always */
    int64_t valid_until; /* UTC ns, TIME_NONE: never expires */
    bool revoked;
    const char *labels_json;     /* ["malicious-activity", ...] (MISP tags too) */
    const char *kill_chain_json; /* ["lockheed-martin-cyber-kill-chain:delivery", ...] */
    const char *related_json;    /* names of related intrusion-sets, malware,
                                    campaigns, threat actors (MISP galaxies) */
};

struct ioc {
    enum ioc_type type;
    bool detect;         /* false: known, but not for alerting (MISP to_ids
                            false); hunted and scoped all the same */
    uint32_t meta;       /* index into the batch's metas */
    const char *value;   /* normalised; for IOC_PATTERN the pattern text */
    const char *warning; /* the warning list that holds the value ("List of
                            known IPv4 public DNS resolvers"), or NULL: such an
                            indicator is kept but never alerts */
};

/* A problem met while reading: where, and why. The rest is still read. */
struct ioc_problem {
    const char *where; /* "file:line" or "file: object indicator--..." */
    const char *why;
};

/* One import: what one source gave. Owns everything through its arena. */
struct ioc_batch {
    struct arena arena;
    struct ioc_meta *metas;
    uint32_t nmetas, capmetas;
    struct ioc *iocs;
    size_t niocs, capiocs;
    struct ioc_problem *problems;
    size_t nproblems, capproblems;
    size_t nproblems_dropped; /* problems past the keep limit (counted only) */
    const char *source;       /* what was imported (path or URL) */
    const char *format;       /* "stix", "misp", "misp-feed", "zeek", "csv", "list" */
};

void ioc_batch_init(struct ioc_batch *b, const char *source, const char *format);
void ioc_batch_free(struct ioc_batch *b);

/* Copy s into the batch's arena (NULL stays NULL). */
const char *ioc_batch_strdup(struct ioc_batch *b, const char *s);

/* Add a metadata record (copied; its strings too). Returns its index. */
uint32_t ioc_batch_add_meta(struct ioc_batch *b, const struct ioc_meta *m);

/* Normalise value[0..n) as type t and add it under meta. Returns 0, or
 * -EINVAL when the value is not a valid t (then a problem is recorded with
 * `where` and the reason, and nothing is added). */
int ioc_batch_add(struct ioc_batch *b, enum ioc_type t, const char *value, size_t n, uint32_t meta,
                  bool detect, const char *where);

/* Append everything of src (metadata, indicators, problems) to dst,
 * copying the strings: several files read into one batch. */
void ioc_batch_append(struct ioc_batch *dst, const struct ioc_batch *src);

/* Record a problem (where and why are copied). At most 1,000 are kept;
 * later ones are only counted. */
void ioc_batch_problem(struct ioc_batch *b, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Normalise in[0..n) as type t into out (NUL-terminated; at most n + 64
 * bytes are written, so pass a buffer of n + 64). Returns the length, or
 * -EINVAL with *why set to a static reason ("not an IPv4 or IPv6 address",
 * "prefix length 33 is more than 32", ...). */
int ioc_normalise(enum ioc_type t, const char *in, size_t n, char *out, const char **why);

/* A metadata record with everything unknown (confidence -1, no validity). */
void ioc_meta_init(struct ioc_meta *m);

#endif
