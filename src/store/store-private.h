/*
 * store-private.h - what the store's source files share. Not a contract:
 * callers use store.h.
 *
 *   store-sqlite.c   opening, schema and migrations, the writer thread,
 *                    the producer side, search
 *   store-keys.c     the hunting keys of an event and of an indicator
 *   store-summary.c  the day summary: in which hours each key occurs
 *   store-intel.c    intelligence (imports, metadata, indicators) and state
 *   store-hunt.c     retro-hunt reads: probes through summary and index
 *   store-baseline.c baseline profiles and facts
 */
#ifndef KENCHI_STORE_STORE_PRIVATE_H
#define KENCHI_STORE_STORE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>
#include <zstd.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define HOUR_NS   (3600 * NS_PER_SEC)
#define HOUR_NONE INT64_MIN /* the bucket of events without a time: first */
#define DAY_NONE  INT64_MIN /* the summary day of HOUR_NONE (its hour bit 0) */

/* ---- the batch the pipeline hands over ------------------------------------ */

enum col {
    C_FILE,
    C_MODULE,
    C_PRODUCT,
    C_SERVICE,
    C_CATEGORY,
    C_HOST,
    C_USER,
    C_SIP,
    C_DIP,
    C_EFROM,
    C_ETO,
    C_ACTION,
    C_OUTCOME,
    C_DOC,
    C_KEYS, /* the hunting keys (keys_of_event), never a column */
    C__N
};

#define LEN_NULL SIZE_MAX

struct srow {
    int64_t ts;
    uint64_t id;
    uint64_t pos;     /* line, or record number */
    size_t off[C__N]; /* into sbatch.bytes; len LEN_NULL means SQL NULL */
    size_t len[C__N];
    uint32_t blob_mask; /* bit per column stored as BLOB (sip, dip, doc) */
    size_t doc_raw;     /* JSON bytes before compression */
};

struct sbatch {
    struct srow *rows;
    size_t n, cap;
    struct buf bytes;
    struct sbatch *next; /* free list */
};

/* A compression dictionary in use; id 0 with cdict NULL is plain zstd. */
struct zdict {
    uint32_t id;
    ZSTD_CDict *cdict;
};

/* A hunting-index entry waiting for its transaction's commit. */
struct hunt_ent {
    int64_t hour;    /* time bucket, see hour_of() */
    uint64_t prefix; /* the key's first 8 bytes, big-endian: cheap sorting */
    size_t off;      /* key in store.hunt_keys */
    size_t len;
    int64_t ts;
    int64_t ev; /* rowid in events */
};

/* String -> id cache in front of an interning table. */
struct intern {
    char **keys;
    size_t *klen;
    int64_t *ids;
    size_t cap, n;
};

/* The summary entries of one (day, class) collected in a transaction:
 * fingerprint << 32 | hour bit. */
struct sum_bucket {
    int64_t day;
    char cls;
    uint64_t *v;
    size_t n, cap;
};

/* What the writer knows of the stored parts of one (day, class). */
struct sum_parts {
    int64_t day;
    char cls;
    int64_t next; /* next part number */
    int64_t n;    /* parts stored */
};

/* A piece of work the writer thread runs between event transactions
 * (intelligence imports, state updates): the writer's connection is the
 * only one that writes, so nothing waits on SQLite's lock. */
struct wjob {
    int (*fn)(struct store *s, void *arg);
    void *arg;
    int rc;
    bool done;
};

struct store {
    char *path;
    struct store_opts o;
    sqlite3 *db;       /* writer's (or, read-only, the only) connection */
    sqlite3 *rdb;      /* query connection of a writing store, opened lazily */
    char errmsg[768];  /* the caller's thread's message (store_errmsg) */
    char werrmsg[768]; /* the writer thread's; copied to errmsg when reported */
    char jerrmsg[768]; /* a job's (written by the writer thread) */

    /* shared between producer and writer, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  /* queue became non-empty, a job, or stop */
    pthread_cond_t cv_space; /* queue has room */
    pthread_cond_t cv_idle;  /* writer finished a transaction or a job */
    struct sbatch **queue;   /* ring of queue_batches */
    size_t qhead, qlen;
    struct sbatch *free_batches;
    bool stop, busy;
    int err; /* writer's first error */
    struct store_stats st;
    pthread_t thread;
    bool thread_started;
    struct wjob *job; /* the pending or running job */
    bool in_job;      /* the writer is running s->job */

    /* the checkpointer thread (store-sqlite.c, "Checkpoints"), under ckmu */
    pthread_mutex_t ckmu;
    pthread_cond_t cv_ckpt; /* work for the checkpointer, or it finished */
    pthread_t ckpt_thread;
    bool ckpt_started, ckpt_want, ckpt_running, ckpt_stop;
    int wal_frames; /* frames in the WAL after the writer's last commit */
    sqlite3 *cdb;   /* the checkpointer's connection */

    /* producer only */
    struct sbatch *filling;
    ZSTD_CCtx *pcctx;
    struct buf pjson;

    /* published by the writer, read by the producer */
    _Atomic(struct zdict *) dict;

    /* writer only */
    ZSTD_CCtx *wcctx;
    struct buf wtmp;
    sqlite3_stmt *ins, *file_get, *file_put, *ls_get, *ls_put, *host_get, *host_put;
    struct intern files, sources, hosts;
    sqlite3_stmt *hunt_put, *hunt_put_n, *hour_put;
    struct hunt_ent *hunt; /* entries of the open transaction, keys in hunt_keys */
    size_t nhunt, caphunt;
    struct buf hunt_keys;
    uint64_t raw_rows; /* rows whose doc is uncompressed (no dictionary yet) */
    bool in_txn;
    /* hold_events: hunting entries deferred to sorted batches
     * (store-sqlite.c, "Deferred hunting entries") */
    size_t nlogged;           /* s->hunt[0..nlogged) are in hunt_pending, committed */
    int64_t defer_since;      /* monotonic ns of the oldest logged entry */
    struct hunt_ent *fl;      /* the batch being inserted, sorted; keys in fl_keys */
    size_t nfl, capfl, flpos; /* fl[flpos..nfl) still to insert */
    struct buf fl_keys;       /* its keys */
    int64_t fl_pending;       /* hunt_pending rows up to this id are all in fl */
    int64_t pending_last;     /* id of the last hunt_pending row written */
    uint64_t held_rows;       /* rows in the open transaction (hold_events) */
    bool closing;             /* store_close: commit inserts every entry */
    sqlite3_stmt *pend_put;
    /* the day summary (store-summary.c) */
    struct sum_bucket *sumb;
    size_t nsumb, capsumb, sumb_last;
    struct sum_parts *sump;
    size_t nsump, capsump;
    int64_t sum_max_hour;
    uint64_t *sum_tmp; /* radix sort scratch */
    size_t cap_sum_tmp;
    sqlite3_stmt *sum_put, *sum_info;

    /* queries */
    int version; /* schema version of the file (read-only stores may be older) */
    ZSTD_DCtx *dctx;
    struct ddict_entry {
        uint32_t id;
        ZSTD_DDict *ddict;
    } * ddicts;
    size_t nddicts;
    struct buf rjson;
    sqlite3_stmt *ev_get; /* store_event_get */
    struct store_hunt_stats hunt_stats;
    char ev_ip[2][64]; /* its addresses as text */
    /* names of the interned ids (files, log source modules, hosts), read
     * once: an event read by row id costs one lookup */
    struct id_names {
        char **v;
        size_t cap;
        sqlite3_stmt *get;
    } names[3];
};

/* The SQL of schema 3 (store-live.c). */
extern const char store_live_schema_v3[];
/* The SQL of schema 4 (store-baseline.c). */
extern const char store_baseline_schema_v4[];
/* Writer thread, inside an open transaction: save baseline profiles and
 * facts (store-baseline.c). NULL or empty: nothing. */
int store_baseline_write(struct store *s, const struct store_bl_rows *r);

/* ---- shared helpers (store-sqlite.c) --------------------------------------- */

/* Set the message of the calling thread (the caller's, the writer's or a
 * job's) and return err. */
int set_err(struct store *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Map SQLite's result rc on db to a negative errno and a message naming the
 * store and what was being done. */
int sql_err(struct store *s, sqlite3 *db, int rc, const char *doing);
/* Run sql (no results). Returns 0 or sql_err(). */
int store_exec(struct store *s, sqlite3 *db, const char *sql, const char *doing);
/* 0 if the store's schema is at least version, else -EPROTONOSUPPORT with
 * a message saying that `what` needs it and how to upgrade. */
int store_need_version(struct store *s, int version, const char *what);
/* The connection queries run on (opened on first use). */
int query_db(struct store *s, sqlite3 **db);
/* Decompress the stored doc p[0..n) (blob: a zstd frame; else JSON text)
 * into s->rjson. */
int doc_decode(struct store *s, sqlite3 *db, const void *p, size_t n, bool blob);
/* Run fn(s, arg) on the writer thread between transactions and wait for
 * it. Returns fn's result (its message made the caller's). -EROFS when
 * the store is read-only. */
int writer_run_job(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);
/* Writer thread (jobs): open the writer's transaction unless it is open
 * (with opts.hold_events, events may be waiting in it), and commit it with
 * what it holds (the hunting index and day summary of its events too). On
 * a failed commit the transaction is rolled back. */
int store_txn_begin(struct store *s);
/* Writer thread: forget what the rolled-back transaction left in the
 * writer's memory (interned ids of rows that no longer exist, hunting
 * entries of gone rows), rolling back first if a transaction is open. */
void writer_forget_txn(struct store *s);
/* Writer thread: insert the deferred hunting entries hunt_pending holds
 * (after a crash, or after writer_forget_txn) and empty it. */
int writer_pending_recover(struct store *s);
int store_txn_commit(struct store *s);
/* The hour bucket of a time: floor(ts / 1 h); HOUR_NONE for no time. */
int64_t hour_of(int64_t ts);
/* Text of a stored address column value into out (NULL when NULL). */
const char *ip_text(sqlite3_stmt *st, int col, char out[64]);

/* ---- hunting keys (store-keys.c) ------------------------------------------- */

/* Key kinds: the first byte of a key in the hunt table. */
enum {
    KEY_USER = 'u',       /* user.name, ASCII lower-cased */
    KEY_SRC_IP = 's',     /* source.ip: 4 or 16 address bytes, or the text */
    KEY_DST_IP = 'd',     /* destination.ip: the same */
    KEY_FROM = 'f',       /* email.from.address as mail_key() writes it */
    KEY_TO = 't',         /* email.to.address, the same */
    KEY_DOMAIN = 'n',     /* a domain name, labels reversed: com.example.mail */
    KEY_URL = 'l',        /* url.full as ioc_normalise(IOC_URL) */
    KEY_HASH = 'h',       /* file.hash.md5/sha1/sha256, lower-case hex */
    KEY_FILENAME = 'a',   /* file.name as ioc_normalise(IOC_FILENAME) */
    KEY_USER_AGENT = 'g', /* the user agent as written */
    KEY_QUEUE_ID = 'q',   /* Postfix queue_id as written */
};

#define KEY_VALUE_MAX 1024 /* longer values are not indexed */
#define KEY_FPS_MAX   160

/* Append the hunting keys of ev to out, each as
 *   kind (1 byte), value length (2 bytes, little-endian), value,
 *   number of fingerprints (1 byte), fingerprints (5 bytes each: the
 *   summary class, then 4 bytes little-endian)
 * where the fingerprints are what the day summary records for the key
 * (the value's; for addresses also their prefixes', for domains and mail
 * addresses also their parent domains'; none for queue ids). */
void keys_of_event(const struct event *ev, struct buf *out);

/* One key of such a list. */
struct key_rec {
    char kind;
    const char *val;
    size_t len;
    const uint8_t *fps;
    unsigned nfps;
};
/* Read the key at *p into k and advance *p. */
void key_read(const uint8_t **p, struct key_rec *k);
static inline char fp_class(const uint8_t *fps, unsigned i)
{
    return (char)fps[5 * i];
}
static inline uint32_t fp_at(const uint8_t *fps, unsigned i)
{
    const uint8_t *q = fps + 5 * i + 1;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* The summary fingerprints of the key kind+val into fps, their classes
 * into cls (at most KEY_FPS_MAX). Returns their number. */
unsigned key_fps(char kind, const char *val, size_t len, uint32_t *fps, char *cls);

/* The key of a mail address a[0..n) (at most KEY_VALUE_MAX bytes) into
 * out: lower-cased, the domain first with its labels reversed, then '@'
 * and the local part: "Alice@Mail.Example.org" -> "org.example.mail@alice",
 * so that one key range finds a domain's and its subdomains' addresses.
 * An address without '@' is only lower-cased. Returns the length. */
size_t mail_key(const char *a, size_t n, char *out);

/* Encode an address text as 4 (IPv4 and IPv4-mapped IPv6) or 16 bytes.
 * Returns the length, or 0 if s is not an address. */
size_t ip_encode(const char *s, size_t n, uint8_t out[16]);

/* How one key range of a probe matches the keys it reads. */
enum probe_match {
    PM_EXACT,      /* key == lo */
    PM_CIDR,       /* lo <= key <= hi and the key has lo's length */
    PM_DOMAIN,     /* key == lo, or lo followed by '.' */
    PM_MAILDOMAIN, /* lo followed by '@' or '.' */
};
struct key_range {
    char kind;
    enum probe_match match;
    const uint8_t *lo, *hi; /* without the kind byte; into the probe */
    size_t lolen, hilen;
};
/* A summary fingerprint that names hours for some of a probe's ranges. */
struct probe_fp {
    char cls;       /* its summary class */
    uint8_t ranges; /* bit r: the hours it names are to be read for r[r] */
    uint32_t fp;
};
/* How one indicator value reads the index. */
struct key_probe {
    struct key_range r[3]; /* e.g. source and destination; n, f and t */
    int nr;
    uint8_t a[KEY_VALUE_MAX + 2], b[KEY_VALUE_MAX + 2], c[KEY_VALUE_MAX + 2], d[KEY_VALUE_MAX + 2];
    struct probe_fp fps[512]; /* any of these in a day's summary: a candidate */
    unsigned nfps;
    bool all_hours; /* too wide for fingerprints: read every hour */
};
/* The probe of an indicator of type t with the normalised value v.
 * Returns 0, or -EINVAL when the value is not one of type t (or not
 * indexable, as IOC_PATTERN). */
int key_probe_of(int t, const char *v, struct key_probe *p);
/* Does the stored key k[0..n) (kind byte first) match range r? */
bool key_range_matches(const struct key_range *r, const uint8_t *k, size_t n);

/* ---- the day summary (store-summary.c) ------------------------------------- */

/* Note that key class cls with fingerprint fp occurs in hour. Returns 0 or
 * -ENOMEM. */
int summary_add(struct store *s, int64_t hour, char cls, uint32_t fp);
/* Write the transaction's summary entries as new parts (inside the open
 * transaction), then merge the parts of days that are over (all days this
 * writer touched with more than one part when all is true). */
int summary_flush(struct store *s, bool all);
/* Free the writer's summary state and statements. */
void summary_free(struct store *s);
/* Build the summary of every hour in the hunt table (migration to schema
 * version 2, inside its transaction, on db). */
int summary_build(struct store *s, sqlite3 *db);

/* A day's summary, decoded: n entries (fp << 32 | hour mask), sorted. */
struct sum_read {
    uint64_t *v;
    size_t n, cap;
};
/* Read the summary of (day, cls) on db into r (all its parts, merged). */
int summary_read(struct store *s, sqlite3 *db, sqlite3_stmt **st, int64_t day, char cls,
                 struct sum_read *r);
/* Sort v[0..n) by fingerprint and merge equal ones (OR of their hour
 * masks). Returns the new n. tmp is scratch of n entries. */
size_t summary_sort_merge(uint64_t *v, size_t n, uint64_t *tmp);

/* Free the interned names store_event_get() read (store-hunt.c). */
void store_names_free(struct store *s);

/* ---- intelligence (store-intel.c) ------------------------------------------ */

void intel_finalize(struct store *s);

#endif
