/*
 * intel-fetch.h - fetch a feed over HTTP(S) into a temporary file, for
 * `kenchi intel import URL`.
 */
#ifndef KENCHI_INTEL_INTEL_FETCH_H
#define KENCHI_INTEL_INTEL_FETCH_H

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

#endif
