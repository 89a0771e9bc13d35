/*
 * baseline.h - per-entity baselines: learn what is normal for every
 * account, mailbox, application, host and authentication source, and raise
 * explainable alerts (kind "anomaly") when it changes.
 *
 * The engine runs as one more alert source of the detector (like the intel
 * detector), so anomalies come out in the same event-time order as every
 * other alert, in `scan` and in `kenchi run`. Everything is driven by event
 * time: the same input gives the same alerts. Profiles live in memory,
 * bounded by the number of entities, and are saved to the store so that
 * they cover months and survive restarts. docs/baselines.md documents the
 * detectors, the scores and every setting.
 */
#ifndef KENCHI_BASELINE_BASELINE_H
#define KENCHI_BASELINE_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bl_kind {
    BL_ACCOUNT,     /* a user account / mailbox ("alice@example.org") */
    BL_APPLICATION, /* an M365 application id */
    BL_HOST,        /* a host, server or gateway, by address */
    BL_SOURCE,      /* an authentication source (address) */
    BL_KIND__COUNT
};
/* "account", "application", "host", "source". */
const char *bl_kind_name(enum bl_kind k);
/* The kind of a name, or -1. */
int bl_kind_by_name(const char *s);

/* A suppression: facts matching every given member are dropped (still
 * counted). NULL members match anything. */
struct bl_suppress {
    int kind;          /* enum bl_kind, or -1 for any */
    char *entity;      /* exact entity id */
    char *network;     /* CIDR: the fact's source network or value lies inside */
    char *application; /* application id */
    char *detector;    /* BL_DET_* name */
    char *feature;     /* fact feature */
};

struct bl_account_conf {
    uint32_t max_values;       /* values kept per feature of one account (64) */
    double volume_factor;      /* a day's total above factor x the p95 of the
                                  account's days is a volume fact (10) */
    double volume_min;         /* and above this much in absolute terms per
                                  feature unit: bytes (50 MB), items (200),
                                  messages (50), recipients (20) are derived
                                  from it as documented (1.0 = defaults) */
    uint32_t volume_min_days;  /* days of history before volume facts (14) */
    uint32_t hour_width;       /* unusual hour: none within +- this many hours (1) */
    uint32_t hour_min_events;  /* events in history before time facts (50) */
    uint32_t weekday_min_days; /* days of history before weekday facts (21) */
};

struct bl_host_conf {
    uint32_t max_destinations;       /* destinations kept per host (4096) */
    uint32_t max_pairs;              /* (host, destination) pairs watched for beaconing (200000) */
    uint32_t beacon_min_connections; /* connections before a beaconing verdict (12) */
    double beacon_min_score;         /* RITA-style score (0..1) for a fact (0.8) */
    int64_t dns_ttl_s;               /* a DNS answer covers connections this long (86400) */
    double bytes_factor;             /* hour's bytes out above factor x p95 (10) */
    uint64_t bytes_min;              /* and above this many bytes (100 MB) */
};

struct bl_spray_conf {
    uint32_t min_accounts;             /* distinct accounts tried from one source (10) */
    uint32_t max_attempts_per_account; /* slow: at most this many per account on average (3) */
    int64_t window_s;                  /* over this long (7 days) */
    uint32_t max_sources;              /* sources tracked (100000) */
};

struct bl_config {
    bool enabled;       /* default true */
    int64_t learning_s; /* entity history before first-seen facts (7 d) */
    int64_t max_age_s;  /* forget profiles and values idle this long (90 d) */
    int64_t window_s;   /* facts of one entity stack within this (1 h) */
    double level_low, level_medium, level_high, level_critical; /* 0.6 1.2 2.0 3.0 */
    uint32_t max_entities;                                      /* profiles per kind (200000) */
    char **internal_domains; /* mail domains of the organisation; when none
                                are given, the domains of accounts that
                                authenticate are taken as internal */
    size_t ninternal_domains;
    char **internal_networks; /* CIDRs of the organisation (private ranges
                                  are always internal) */
    size_t ninternal_networks;
    char **servers; /* addresses / CIDRs of servers and gateways */
    size_t nservers;
    char *geoip_asn; /* MMDB paths, or NULL */
    char *geoip_country;
    struct bl_suppress *suppress;
    size_t nsuppress;
    struct bl_account_conf account;
    struct bl_host_conf host;
    struct bl_spray_conf spraying;
};

void bl_config_default(struct bl_config *c);
/* Free what a parsed configuration owns (the struct itself is the caller's). */
void bl_config_free(struct bl_config *c);

/* ---- the engine -------------------------------------------------------- */

struct baseline;
struct store;
struct alert_source;

/* An engine over c (copied). On failure (an MMDB that cannot be opened, a
 * bad CIDR) returns NULL with a malloc'd message in *err. */
struct baseline *baseline_new(const struct bl_config *c, char **err);
void baseline_free(struct baseline *b);

/* The source to add to a detector (detector_add_source). */
struct alert_source baseline_source(struct baseline *b);

/* A deep copy of src into dst (which it overwrites). 0 or -ENOMEM (dst
 * then holds nothing to free). */
int bl_config_copy(struct bl_config *dst, const struct bl_config *src);
/* Check c as baseline_new() would, without opening anything: a message
 * for the first problem (malloc'd) or NULL. Levels must ascend, CIDRs
 * parse, suppressions name known kinds. */
char *bl_config_problem(const struct bl_config *c);

/* An engine over the modules ops[0..n) (borrowed tables) instead of the
 * built-in ones: for tests and benchmarks. */
struct bl_module_ops;
struct baseline *baseline_new_modules(const struct bl_config *c,
                                      const struct bl_module_ops *const *ops, size_t n, char **err);

/* Apply another configuration to a running engine (SIGHUP): levels,
 * window, suppressions and the engine's limits take effect at once; the
 * profiles are kept (modules read their settings at creation: their
 * limits stay until a restart). 0, or a negative errno with a message. */
int baseline_reconfigure(struct baseline *b, const struct bl_config *c, char **err);

/* ---- persistence (the store: store.h, "baselines") ---------------------- */

/* Keep every fact for the store from now on (baseline_take_rows). */
void baseline_keep_facts(struct baseline *b, bool on);
/* Load every saved profile of s into the modules. Blobs a module refuses
 * are counted (stats: profiles_refused) and skipped. Returns 0 or a
 * negative errno (store_errmsg explains). */
int baseline_load(struct baseline *b, struct store *s);
/* Put the saved facts of the last stacking window (of the newest saved
 * fact) back into the entities' timelines, with the alert levels they
 * reached, so that a restarted engine stacks new facts with them and does
 * not page again for a level already raised. Restored facts carry no
 * ATT&CK tags (not saved). *restored (may be NULL): how many. Returns 0 or
 * a negative errno (store_errmsg explains). */
int baseline_restore(struct baseline *b, struct store *s, uint64_t *restored);
/* Learning a file once. With learnt set, the engine asks at the first
 * event of each file (source.file) how many of its lines (records) an
 * earlier run learnt, and gives the modules only the events past them
 * (the others count as learnt_before). baseline_files() then tells, per
 * file, the last line learnt (this run or before) and how many events
 * were passed over. kenchi scan answers from the store; the daemon, which
 * never reads a line twice, does not ask. */
void baseline_set_learnt(struct baseline *b, uint64_t (*learnt)(void *opaque, const char *path),
                         void *opaque);
void baseline_files(const struct baseline *b,
                    void (*cb)(void *opaque, const char *path, uint64_t line, uint64_t skipped),
                    void *opaque);
/* Load the saved profiles of one entity only (kind -1: any kind), with
 * the module-wide ones (store_baseline_profiles). */
int baseline_load_entity(struct baseline *b, struct store *s, int kind, const char *entity);
/* Hand one saved profile to the module named module (as
 * store_baseline_profiles gives them). Returns 0, -EINVAL for a blob the
 * module refuses or an unknown kind (counted as profiles_refused), -ENOENT
 * for a module this build does not run. */
int baseline_load_blob(struct baseline *b, const char *module, const char *kind, const char *entity,
                       const void *blob, size_t n);
/* The rows to save: with BL_SAVE_PROFILES the profiles that changed since
 * they were last taken (all of them with BL_SAVE_ALL), with BL_SAVE_FACTS
 * the facts kept since the last call that took them. *out points into
 * the engine, valid until the next call or baseline_free(). 0, or a
 * module's negative errno. */
enum { BL_SAVE_FACTS = 1, BL_SAVE_PROFILES = 2, BL_SAVE_ALL = 4 };
struct store_bl_rows;
int baseline_take_rows(struct baseline *b, unsigned what, struct store_bl_rows *out);
/* Take the rows and save them in s in one transaction (scan). */
int baseline_save(struct baseline *b, struct store *s, bool all);

/* ---- what it knows ---------------------------------------------------- */

/* Append what the modules believe is normal for entity (kind -1: any) to
 * json as members `"module":{...},...` (no braces). Returns the number of
 * modules that know it. */
struct buf;
int baseline_show(struct baseline *b, int kind, const char *entity, struct buf *json);
/* Append the facts the engine holds in memory for entity (its last
 * BL_TIMELINE, oldest first) as a JSON array. Returns their number. */
#define BL_TIMELINE 32
int baseline_timeline(struct baseline *b, int kind, const char *entity, struct buf *json);

#define BL_MAX_MODULES 8
struct baseline_stats {
    uint64_t events;        /* events seen */
    uint64_t learnt_before; /* of them, passed over: an earlier run learnt them */
    uint64_t facts;         /* facts the modules emitted */
    uint64_t suppressed;    /* of them, dropped by a suppression */
    uint64_t alerts;        /* anomaly alerts raised */
    uint64_t entities;      /* entities with a timeline in the engine */
    uint64_t bytes;         /* the engine's own memory (timelines, labels) */
    uint64_t evicted;       /* timelines dropped to keep max_entities */
    uint64_t profiles_loaded, profiles_refused, profiles_saved;
    uint64_t facts_saved, facts_unsaved; /* unsaved: over the pending limit */
    size_t nmodules;
    struct {
        const char *name; /* bl_module_stats of each module (bl-module.h) */
        uint64_t entities, bytes, facts, aged, evicted;
    } module[BL_MAX_MODULES];
};
void baseline_stats(const struct baseline *b, struct baseline_stats *st);

#endif
