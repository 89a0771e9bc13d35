/*
 * stix-bundle.h - STIX 2.1 bundles (and TAXII envelopes) into an ioc_batch.
 *
 * Every `indicator` whose pattern_type is "stix" (or absent, as in STIX
 * 2.0) becomes one ioc_meta (ref = the indicator's id, name, confidence,
 * validity, revocation, labels and indicator_types, kill-chain phases, TLP
 * from its markings, and the names of the intrusion sets, malware,
 * campaigns, threat actors and tools it is related to) and one IOC_PATTERN
 * ioc holding the pattern text. Patterns are not parsed here; the pattern
 * module turns the simple ones into plain values later.
 *
 * The input is read one object at a time (intel-json.h), in two passes so
 * that an indicator may refer to markings, relationships and objects
 * defined after it. Of several versions of one id only the latest
 * (`modified`) counts. Indicators in other pattern languages are counted
 * and reported as skipped; objects of types STIX does not define are
 * counted; malformed objects are reported with their id (or their index
 * and line) and skipped; everything else is still read. docs/intel.md
 * ("STIX 2.1 bundles") has the details.
 *
 * The batch must be initialised by the caller (ioc_batch_init); readers
 * append to it, so several pages (TAXII) can go into one batch.
 */
#ifndef KENCHI_INTEL_STIX_BUNDLE_H
#define KENCHI_INTEL_STIX_BUNDLE_H

#include <stddef.h>

#include "intel/intel-json.h"
#include "intel/ioc.h"
#include "util/buf.h"

struct stix_read_opts {
    struct intel_json_limits limits; /* input size and nesting (zero: defaults) */
};

/* What one read saw. Counts add up over several reads into one struct. */
struct stix_read_stats {
    size_t objects;              /* elements of the objects array */
    size_t indicators;           /* indicator ids (latest versions) */
    size_t imported;             /* of which imported (one meta + one pattern each) */
    size_t revoked;              /* of the imported, marked revoked */
    size_t skipped_pattern_type; /* indicators in another pattern language */
    size_t malformed;            /* objects skipped as malformed */
    size_t superseded;           /* older versions of an id, ignored */
    size_t other;                /* objects of STIX types that carry no indicator */
    size_t unknown;              /* objects of types STIX 2.1 does not define */
};

/* Read the bundle file at path into b (see above). Returns 0 when the file
 * was read (problems are in b->problems), or a negative errno when it
 * could not be read at all: -EFBIG over the size limit, -EINVAL when it is
 * not a JSON object or array (also recorded as a problem). */
int stix_bundle_read(const char *path, struct ioc_batch *b);

/* The same over json[0..n): a bundle, a TAXII envelope {"objects":[...]},
 * a bare array of objects, or one object. where names the input in
 * problems (a path or a URL). */
int stix_objects_read(const char *json, size_t n, const char *where, struct ioc_batch *b);

/* The two above with options (NULL: defaults) and counts (st may be NULL;
 * counts are added to it). */
int stix_bundle_read_ex(const char *path, const struct stix_read_opts *o, struct ioc_batch *b,
                        struct stix_read_stats *st);
int stix_objects_read_ex(const char *json, size_t n, const char *where,
                         const struct stix_read_opts *o, struct ioc_batch *b,
                         struct stix_read_stats *st);

/* One line for a summary: "12 indicators imported (1 revoked), 2 skipped
 * (pattern type), 1 malformed object, 3 objects of unknown types, ...". */
void stix_read_stats_format(const struct stix_read_stats *st, struct buf *out);

#endif
