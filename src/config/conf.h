/*
 * conf.h - typed reading of a YAML configuration, every complaint with its
 * place.
 *
 * kenchi's configuration file (docs/configuration.md) is a YAML tree (see
 * util/yaml.h). Each section is read by the module it configures (sources,
 * outputs, metrics, ...) with these helpers, which all report problems the
 * same way: "FILE:LINE:COL: KEY: reason", counted in the context, so that
 * `kenchi config check` lists every problem of a file at once and the
 * daemon refuses to start on any.
 *
 * Getters take a mapping node and a key. They return 1 when the key is
 * present and its value was stored in *out, 0 when the key is absent (*out
 * untouched: the caller's default stays), -1 when the value is wrong (the
 * problem is reported, *out untouched). Strings point into the YAML file's
 * arena: they live as long as the parsed file.
 */
#ifndef KENCHI_CONFIG_CONF_H
#define KENCHI_CONFIG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/yaml.h"

struct conf_ctx {
    const char *file;    /* named in messages */
    FILE *out;           /* where problems are printed (NULL: only counted) */
    unsigned nerrors;    /* problems reported so far */
    struct arena *arena; /* for lists built by conf_strlist (the YAML file's) */
};

void conf_ctx_init(struct conf_ctx *c, const char *file, FILE *out, struct arena *arena);

/* Report a problem at node n (its line and column; n may be NULL):
 * "kenchi: FILE:LINE:COL: message". Counts it. */
void conf_error(struct conf_ctx *c, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* n must be a mapping; reported otherwise (what names it in the message).
 * Returns true when it is one. */
bool conf_is_map(struct conf_ctx *c, const struct ynode *n, const char *what);

/* Report every key of map not in allowed (a NULL-terminated list), by name,
 * with a suggestion when a known key is close ("did you mean 'paths'?").
 * Returns the number of unknown keys. */
unsigned conf_check_keys(struct conf_ctx *c, const struct ynode *map, const char *const *allowed);

/* A required key: reports "KEY: missing" at the mapping when absent. */
const struct ynode *conf_need(struct conf_ctx *c, const struct ynode *map, const char *key);

/* A non-empty scalar string. */
int conf_str(struct conf_ctx *c, const struct ynode *map, const char *key, const char **out);
/* A YAML boolean (true/false/yes/no/on/off). */
int conf_bool(struct conf_ctx *c, const struct ynode *map, const char *key, bool *out);
/* An integer in [min, max]. */
int conf_uint(struct conf_ctx *c, const struct ynode *map, const char *key, uint64_t min,
              uint64_t max, uint64_t *out);
/* A decimal number in [min, max] ("0.6", "10", "1e3"). */
int conf_number(struct conf_ctx *c, const struct ynode *map, const char *key, double min,
                double max, double *out);
/* A duration: a number with a unit, "250ms", "5s", "2m", "1h", "7d" (a bare
 * number is refused: the unit is never guessed); stored in nanoseconds,
 * within [min_ns, max_ns]. */
int conf_duration(struct conf_ctx *c, const struct ynode *map, const char *key, int64_t min_ns,
                  int64_t max_ns, int64_t *out);
/* A size: a number with an optional unit, "4096", "64KiB", "64MiB", "1GiB"
 * (also "kB"/"MB"/"GB" as powers of 1000 and "KB"/"K"/"M"/"G" as powers of
 * 1024); within [min, max]. */
int conf_size(struct conf_ctx *c, const struct ynode *map, const char *key, uint64_t min,
              uint64_t max, uint64_t *out);
/* One of names (NULL-terminated); *out is its index. The message lists
 * the names. */
int conf_enum(struct conf_ctx *c, const struct ynode *map, const char *key,
              const char *const *names, int *out);
/* A scalar or a list of scalars; *out is a NULL-terminated array in the
 * context's arena, *n its length. */
int conf_strlist(struct conf_ctx *c, const struct ynode *map, const char *key, const char ***out,
                 size_t *n);

/* A listening or destination address: "HOST:PORT", "[V6]:PORT" or
 * "PORT" alone (then host is def_host). host is NUL-terminated. */
struct conf_addr {
    char host[256];
    uint16_t port;
};
int conf_addr(struct conf_ctx *c, const struct ynode *map, const char *key, const char *def_host,
              struct conf_addr *out);

/* Parse helpers without a node, for values read elsewhere: 0 or -EINVAL. */
int conf_parse_duration(const char *s, int64_t *ns);
int conf_parse_size(const char *s, uint64_t *bytes);
int conf_parse_addr(const char *s, const char *def_host, struct conf_addr *out);

#endif
