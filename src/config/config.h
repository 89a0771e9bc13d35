/*
 * config.h - the configuration of the live daemon (`kenchi run --config
 * FILE`, checked by `kenchi config check FILE`); every setting and its
 * default is in docs/configuration.md.
 *
 * config_load() reads the whole file and reports every problem it finds
 * (file:line:col, unknown keys by name with a suggestion) before giving
 * up, so that one `config check` lists them all. Each source and output
 * mapping is read by the module of its kind: `file` and `stdin` sources
 * here, `syslog` sources through the source kind table (config_source_kinds,
 * filled by the network source module), outputs through output_find().
 * Nothing is opened: loading a configuration has no effect on the system.
 */
#ifndef KENCHI_CONFIG_CONFIG_H
#define KENCHI_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "baseline/baseline.h"
#include "config/conf.h"
#include "util/yaml.h"

/* Keys every source mapping may have, read here. */
#define SOURCE_COMMON_KEYS "type", "name", "format", "timezone"

struct live; /* daemon/live.h */

/* A kind of source read by another module (syslog over the network).
 * configure() reads the mapping (and must accept SOURCE_COMMON_KEYS);
 * start() begins delivering records through the daemon (daemon/live.h:
 * live_stream_open, live_push) from threads of its own; stop() makes
 * them return: after it, no more records (it may be called without a
 * start(), when another part failed to start). free() also follows a
 * configure() alone. */
struct source_ops {
    const char *type;
    int (*configure)(struct conf_ctx *c, const struct ynode *node, void **state);
    int (*start)(void *state, struct live *l, const char *name, const char *format, char *err,
                 size_t errn);
    void (*stop)(void *state);
    void (*free)(void *state);
};

/* Registered source kinds beyond file and stdin, NULL-terminated
 * (config.c; the syslog module adds its line). */
extern const struct source_ops *const config_source_kinds[];

enum source_type { SOURCE_FILE, SOURCE_STDIN, SOURCE_OTHER };
enum start_at { START_BEGINNING, START_END };

struct config_source {
    enum source_type type;
    const char *type_name;
    const char *name;     /* unique; default "TYPE-N" */
    const char *format;   /* NULL: auto */
    const char *timezone; /* NULL: the global one */
    const struct ynode *node;
    /* file */
    const char **paths; /* globs */
    size_t npaths;
    const char **exclude; /* globs of names never read (default: compressed files) */
    size_t nexclude;
    enum start_at start_at; /* a file never seen before, found at start */
    int64_t poll_ns;        /* re-scan of globs and files besides inotify */
    int64_t rotate_wait_ns; /* a rotated file is still read this long */
    /* other kinds */
    const struct source_ops *ops;
    void *state;
};

#define ALERT_LEVELS 5 /* informational, low, medium, high, critical */

struct config_output {
    const char *type;
    const char *name;   /* unique; default "TYPE-N" */
    int min_level;      /* index into level names; 0: everything */
    const char **kinds; /* NULL: every kind */
    size_t nkinds;
    int64_t retry_min_ns, retry_max_ns; /* back-off when the destination is down */
    const struct output_ops *ops;
    void *state;
    const struct ynode *node;
};

enum log_dest { LOG_STDERR, LOG_SYSLOG };
enum log_level { LOGL_ERROR, LOGL_WARNING, LOGL_INFO, LOGL_DEBUG };

struct config {
    struct yaml_file yf;
    char *text;
    char *path;
    const char *store;
    const char **rules;
    size_t nrules;
    const char **intel;
    size_t nintel;
    const char **warninglists;
    size_t nwarninglists;
    bool stored_intel;
    const char *timezone;
    struct config_source *sources;
    size_t nsources;
    struct config_output *outputs;
    size_t noutputs;
    bool metrics_enabled;
    struct conf_addr metrics_listen;
    uint64_t queue_bytes;
    uint64_t batch;
    int64_t commit_interval_ns;
    uint64_t max_line;
    uint64_t store_max_bytes;
    int64_t corr_state_interval_ns; /* large correlation states: saved at most this often */
    enum log_dest log_dest;
    enum log_level log_level;
    const char *log_ident;
    struct bl_config baselines; /* the `baselines:` section (config-baselines.c) */
};

/* Read and check path. Problems go to diag (may be NULL). Returns 0 with
 * *out set, or the number of problems (> 0; *out NULL), or a negative
 * errno when the file cannot be read (reported). */
int config_load(const char *path, FILE *diag, struct config **out);
/* The same on text[0..n), named name in messages (tests, the fuzzer). */
int config_parse(const char *name, const char *text, size_t n, FILE *diag, struct config **out);
void config_free(struct config *c);

/* Read only the `baselines:` section of path into *out (defaults where
 * the file says nothing; freed with bl_config_free), with the checks of
 * config_load, the other sections' names checked but not read: what
 * `kenchi scan --config FILE` uses, so that a file with a `baselines:`
 * section alone is enough. *sec (may be NULL) tells which sections the
 * file has. Returns as config_load. */
struct config_sections {
    bool sources; /* a daemon's configuration */
    bool baselines;
};
int config_load_baselines(const char *path, FILE *diag, struct bl_config *out,
                          struct config_sections *sec);
/* The same on text[0..n) (tests, the fuzzer). */
int config_parse_baselines(const char *name, const char *text, size_t n, FILE *diag,
                           struct bl_config *out, struct config_sections *sec);
/* Read a `baselines:` mapping into c (defaults already in it). */
void config_read_baselines(struct conf_ctx *cx, const struct ynode *node, struct bl_config *c);

/* Level names, for outputs' min_level and alert levels. */
extern const char *const config_levels[];
/* Index of a level name, or -1. */
int config_level_index(const char *level);

#endif
