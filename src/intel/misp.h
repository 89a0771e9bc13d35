/*
 * misp.h - MISP events and feeds into an ioc_batch.
 *
 * Reads the MISP core format: one event ({"Event":{...}} or the bare
 * event), a list of them, or the answer of /events/restSearch
 * ({"response":[{"Event":...}, ...]}); and MISP feeds, a directory holding
 * manifest.json and one <uuid>.json file per event it lists.
 *
 * Each event becomes one ioc_meta (ref = the event's uuid, name = its info,
 * TLP from tlp:* tags, confidence from a misp:confidence-level tag or else
 * from threat_level_id, other tags as labels, threat-actor and malware
 * galaxy clusters as related names); an attribute with tags, galaxies or
 * first/last-seen times of its own gets a meta of its own built on the
 * event's. Attributes (the event's and those of its objects) whose type
 * kenchi matches become iocs, composite types ("filename|sha256",
 * "domain|ip") both of their parts; `to_ids` decides whether they alert.
 * Deleted attributes and objects are skipped; attributes of other types
 * are counted and reported once per type. The mapping tables are in
 * docs/intel.md ("MISP").
 *
 * The batch must be initialised by the caller (ioc_batch_init); readers
 * append to it.
 */
#ifndef KENCHI_INTEL_MISP_H
#define KENCHI_INTEL_MISP_H

#include <stdbool.h>
#include <stddef.h>

#include "intel/intel-json.h"
#include "intel/ioc.h"
#include "util/buf.h"

struct misp_read_opts {
    struct intel_json_limits limits; /* per file (zero: defaults) */
    bool unpublished_detect;         /* let unpublished events alert too */
};

/* What one read saw. Counts add up over several reads into one struct. */
struct misp_read_stats {
    size_t events;
    size_t unpublished; /* events not published: kept, do not alert */
    size_t attributes;  /* attributes read (objects' included) */
    size_t imported;    /* iocs added (a composite attribute gives two) */
    size_t not_ids;     /* of the imported, to_ids false: kept, do not alert */
    size_t deleted;     /* deleted attributes (and those of deleted objects) */
    size_t unsupported; /* attributes of types kenchi does not match */
    size_t refused;     /* values that are not valid for their type */
    size_t malformed;   /* events and attributes skipped as malformed */
};

/* Read the MISP JSON file at path into b. Returns 0 when it was read
 * (problems are in b->problems), or a negative errno when it could not be
 * read at all (-EFBIG over the size limit, -EINVAL not MISP JSON). */
int misp_event_read(const char *path, struct ioc_batch *b);

/* The same over json[0..n); where names it in problems. */
int misp_json_read(const char *json, size_t n, const char *where, struct ioc_batch *b);

/* Read the MISP feed in directory dir: manifest.json and the event files
 * it lists (in uuid order). A listed file that is missing or broken is
 * reported and the rest read. Returns 0, or a negative errno when
 * manifest.json cannot be read. */
int misp_feed_read(const char *dir, struct ioc_batch *b);

/* The three above with options (NULL: defaults) and counts (st may be
 * NULL; counts are added to it). */
int misp_event_read_ex(const char *path, const struct misp_read_opts *o, struct ioc_batch *b,
                       struct misp_read_stats *st);
int misp_json_read_ex(const char *json, size_t n, const char *where, const struct misp_read_opts *o,
                      struct ioc_batch *b, struct misp_read_stats *st);
int misp_feed_read_ex(const char *dir, const struct misp_read_opts *o, struct ioc_batch *b,
                      struct misp_read_stats *st);

/* The confidence (0..100) MISP's threat_level_id stands for: 1 (high) 85,
 * 2 (medium) 50, 3 (low) 15 (the "Low/Med/High" scale of STIX 2.1,
 * appendix A); 4 (undefined) and anything else -1. */
int misp_threat_level_confidence(long long threat_level_id);

/* One line for a summary: "3 events, 120 indicators imported (4 not for
 * alerting), 2 deleted, 7 of unsupported types, ...". */
void misp_read_stats_format(const struct misp_read_stats *st, struct buf *out);

#endif
