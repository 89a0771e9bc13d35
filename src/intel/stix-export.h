/*
 * stix-export.h - kenchi's findings as a STIX 2.1 bundle (`kenchi intel
 * export`).
 *
 * What goes in:
 *   - sightings: an indicator matched N times between two times. When the
 *     indicator came from a STIX bundle (its meta's ref is an indicator
 *     id), the sighting points at that id, so the producer recognises its
 *     own indicator; otherwise kenchi first writes an indicator of its own
 *     for the value (a STIX pattern built from the type) and sights that.
 *     The values actually seen go into an observed-data object with their
 *     cyber-observable objects (ipv4-addr, domain-name, email-addr, url,
 *     file...).
 *   - alerts of kenchi's own detections (docs/alerts.md, kinds sigma and
 *     correlation): the outside values they name (source address, sender
 *     address, URL, domain, file hashes) become new indicators, named
 *     after the rule, with ATT&CK tactics as kill-chain phases and ATT&CK
 *     ids as labels; one indicator per value however many alerts name it.
 * Every object is created by one identity (the organisation running
 * kenchi, from the configuration) and marked with the chosen TLP level
 * (default TLP:AMBER; a sighting of an indicator shared under a stricter
 * level keeps that level).
 *
 * The output is deterministic: ids are version 5 UUIDs over the objects'
 * content, cyber-observable ids follow STIX's own UUIDv5 rule, and objects
 * are written sorted, so the same findings and options give the same
 * bytes. docs/intel.md ("Sharing back") has the details.
 */
#ifndef KENCHI_INTEL_STIX_EXPORT_H
#define KENCHI_INTEL_STIX_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intel/ioc.h"
#include "util/buf.h"

struct stix_export_opts {
    const char *identity_name;  /* the organisation (NULL: "kenchi") */
    const char *identity_class; /* identity-class-ov (NULL: "organization") */
    const char *const *sectors; /* NULL-terminated industry-sector-ov list, or NULL */
    const char *contact;        /* contact_information, or NULL */
    enum tlp tlp;               /* TLP_UNMARKED: TLP:AMBER */
    int64_t created;            /* created/modified of every object (UTC ns); TIME_NONE: now */
    /* Values never turned into new indicators from alerts: e-mail
     * addresses and domains in these domains (NULL-terminated, or NULL);
     * private, loopback and link-local addresses are always left out. */
    const char *const *internal_domains;
};

struct stix_export;

/* A new, empty export; the options' strings are copied. NULL only on
 * out-of-memory. */
struct stix_export *stix_export_new(const struct stix_export_opts *o);
void stix_export_free(struct stix_export *x);

/* A sighting of ioc (whose metadata is m; NULL when unknown): seen count
 * times between first_seen and last_seen (UTC ns, TIME_NONE when unknown;
 * a count of 0 says it was looked for and not seen: no observed-data).
 * observed[0..nobserved) are the values actually seen (for a network
 * indicator the addresses, for a domain the names...; NULL/0: the
 * indicator's own value); at most 100 are kept. Returns 0, or -EINVAL when
 * no STIX indicator can be named or built for ioc (nothing is added). */
int stix_export_add_sighting(struct stix_export *x, const struct ioc *ioc, const struct ioc_meta *m,
                             uint64_t count, int64_t first_seen, int64_t last_seen,
                             const char *const *observed, size_t nobserved);

/* One alert line of kenchi (JSON, docs/alerts.md). Returns the number of
 * values it gave (new or merged indicators; 0 for other kinds, or when it
 * names no outside value), or -EINVAL when it is not an alert object. */
int stix_export_add_alert(struct stix_export *x, const char *alert_json, size_t n);

/* Append the bundle (one object a line) to out. Returns 0. The export may
 * take more findings and be written again. */
int stix_export_write(struct stix_export *x, struct buf *out);

struct stix_export_stats {
    size_t sightings;      /* sightings added */
    size_t indicators;     /* indicators written by kenchi (for values and alerts) */
    size_t observed;       /* observed-data objects (after stix_export_write: those
                              written, the same one from two sightings once) */
    size_t alerts_used;    /* alerts that gave indicators */
    size_t alerts_ignored; /* alerts of other kinds or without an outside value */
    size_t values_skipped; /* internal or unusable values left out */
};
void stix_export_get_stats(const struct stix_export *x, struct stix_export_stats *st);

/* The STIX pattern that matches a value of type t the way kenchi matches
 * it ("[ipv4-addr:value = '192.0.2.1']", quotes and backslashes escaped),
 * appended to out. Returns 0, or -EINVAL for a type without one. */
int stix_pattern_for_value(enum ioc_type t, const char *value, size_t n, struct buf *out);

#endif
