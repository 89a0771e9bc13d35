/*
 * prom-text.h - reading the Prometheus text exposition format (0.0.4).
 *
 * `kenchi status` reads the daemon's /metrics page with this: one sample
 * per line, "name{label="value",...} value [timestamp]"; "#" lines (HELP,
 * TYPE) and blank lines are skipped. The text comes from the network, so
 * the reader is strict about the shape, bounded (lines, names and label
 * sets have limits), never reads past the end, and skips malformed lines
 * with a count instead of failing the whole page.
 */
#ifndef KENCHI_DAEMON_PROM_TEXT_H
#define KENCHI_DAEMON_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define PROM_MAX_NAME   200
#define PROM_MAX_LABELS 4096 /* bytes of a label set, braces excluded */

/* One sample; the strings point into the text being read. */
struct prom_sample {
    const char *name;
    size_t name_len;
    const char *labels; /* between the braces, as written (escapes kept) */
    size_t labels_len;
    double value;
};

typedef void (*prom_sample_fn)(void *opaque, const struct prom_sample *s);

/* Call fn for every well-formed sample of text[0..n), in order. Returns the
 * number of malformed lines skipped. */
size_t prom_parse(const char *text, size_t n, prom_sample_fn fn, void *opaque);

/* The value of label key in s, unescaped into out (NUL-terminated, cut to
 * outn - 1 bytes). Returns false when the label is absent. */
bool prom_label(const struct prom_sample *s, const char *key, char *out, size_t outn);

/* s's name is name. */
bool prom_is(const struct prom_sample *s, const char *name);

#endif
