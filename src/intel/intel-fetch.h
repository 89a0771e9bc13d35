/*
 * intel-fetch.h - fetch a feed over HTTP(S) into a temporary file, for
 * `kenchi intel import URL`.
 */
#ifndef KENCHI_INTEL_INTEL_FETCH_H
#define KENCHI_INTEL_INTEL_FETCH_H

#include <stdbool.h>
#include <stddef.h>

/* Largest body fetched (bytes). */
#define INTEL_FETCH_MAX_BYTES (512ull << 20)

/* GET url (http or https; certificates verified, at most 5 redirects and
 * never from https to http, 30 s to connect, 10 minutes in all, aborted
 * below 1 kB/s for 60 s) into a new temporary file whose path is returned
 * in *path (malloc'd; the caller unlinks and frees it). Returns 0, or a
 * negative errno with a sentence in err ("HTTP 404 Not Found", "larger
 * than 536870912 bytes", the TLS or network error). */
int intel_fetch_url(const char *url, char **path, char *err, size_t errlen);

/* ---- MISP feeds ----------------------------------------------------------- */

/* Events fetched from one feed at most, and bytes in all (each file is
 * also held to INTEL_FETCH_MAX_BYTES): the rest is reported, not fetched. */
#define INTEL_FETCH_MAX_EVENTS     100000
#define INTEL_FETCH_MAX_FEED_BYTES (4ull << 30)

/* Is url a MISP feed (a directory URL ending in '/', or its manifest.json),
 * or is the format forced to "misp-feed"? */
bool intel_fetch_is_feed_url(const char *url, const char *format);

/* An event of a feed that could not be fetched: its URL and why. */
typedef void (*intel_fetch_problem_fn)(void *opaque, const char *where, const char *why);

/* Fetch the MISP feed at url (the directory URL, or its manifest.json):
 * the manifest, then every event file it lists (<uuid>.json beside it, in
 * uuid order; keys that are not event uuids are never fetched), each as
 * intel_fetch_url() fetches, into a new temporary directory *dir
 * (malloc'd) laid out as a feed directory (manifest.json listing the
 * events that were fetched, plus the keys that are not uuids, so that the
 * reader reports them). An event that cannot be fetched is reported
 * through problem and left out; the rest goes on. Returns 0, or a
 * negative errno with a sentence in err when the manifest cannot be
 * fetched or is not a manifest (nothing is left behind). Remove *dir with
 * intel_fetch_cleanup(). */
int intel_fetch_misp_feed(const char *url, char **dir, intel_fetch_problem_fn problem, void *opaque,
                          char *err, size_t errlen);

/* Remove a directory intel_fetch_misp_feed() made, with its files. */
void intel_fetch_cleanup(const char *dir);

#endif
