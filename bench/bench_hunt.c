/*
 * bench_hunt.c - the retro-hunt: 10,000 indicators over a store of N
 * generated mail-log events, and the same hunt done naively in the same
 * run.
 *
 *   1. The store: N events of bench-maillog.h (months of a 5,000-mailbox
 *      organisation's Postfix and Dovecot logs at 1,000,000 events a day)
 *      through the store API; one event in 20,011 is an attacker's (one
 *      of 64 addresses in 203.0.113.0/26 as its client or peer, and on
 *      Postfix queue-manager and delivery events one of 64 addresses in 8
 *      domains, evil-0.example .. evil-7.example, as sender or recipient).
 *   2. The intelligence: 10,000 indicators imported in one import - the
 *      64 attacker addresses, 64 attacker mail addresses, the 8 attacker
 *      domains (parents of the mail domains), 40 peer addresses and 32
 *      mail addresses that occur all the time, 20 /24 blocks that occur,
 *      and 9,772 values that never occur (addresses, /24 and /16 blocks,
 *      IPv6 /48s, domains, mail addresses).
 *   3. The hunt: hunt_store() on that import, as `kenchi hunt --import`
 *      runs it (index reads, then the events' rows for accounts, hosts,
 *      mailboxes and messages).
 *   4. The baseline: one pass over the events table (source and
 *      destination address, sender, recipient) testing each row against
 *      hash sets of the values, the CIDR blocks and the domains: the same
 *      events counted (the sums are compared), without the rows' details.
 * Then, on a store of its own, 1,000,000 generated indicators are imported
 * and streamed back with store_intel_load() beside a bare SELECT of the
 * same rows.
 *
 * Usage: bench_hunt [N] [DIR]     (default N 10,000,000; DIR $TMPDIR or /tmp)
 *   BENCH_HUNT_KEEP=1   keep the event store (DIR/kenchi-bench-hunt-N.db)
 *                       and reuse it when it exists
 *   BENCH_HUNT_INTEL=K  indicators of the load test (default 1,000,000; 0 skips)
 *   BENCH_HUNT_BASELINE=0  skip the baseline (a pass over the whole store:
 *                       minutes at 100 M events; hunt-cold.sh)
 *   KENCHI_HUNT_THREADS=T  threads reading the hunt's pages (store.h,
 *                       hunt_threads; 1: one page at a time)
 *   BENCH_HUNT_ENTITY_EVENTS=E  events read per indicator for its entities
 *                       (hunt_opts.max_rows, `kenchi hunt --entity-events`)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench-maillog.h"
#include "event/event.h"
#include "hunt/hunt.h"
#include "intel/ioc.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define ATTACK_EVERY 20011 /* one event in this many is an attacker's */
#define NATTACK      64

static void die(const char *what, struct store *s)
{
    fprintf(stderr, "bench_hunt: %s: %s\n", what, s ? store_errmsg(s) : "");
    exit(1);
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of the process (every thread), user + system. */
static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static const char *attack_ip(unsigned k)
{
    static char v[NATTACK][20];
    snprintf(v[k], sizeof(v[k]), "203.0.113.%u", k);
    return v[k];
}

static const char *attack_mail(unsigned k)
{
    static char v[NATTACK][48];
    snprintf(v[k], sizeof(v[k]), "drop%u@mail.evil-%u.example", k, k % 8);
    return v[k];
}

/* ---- the store ------------------------------------------------------------ */

static void unlink_store(const char *path)
{
    char p[4200];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
        unlink(p);
    }
}

static void build_store(struct pool *p, uint64_t nbatches, const char *path)
{
    unlink_store(path);
    struct store *s;
    if (store_open(path, NULL, &s) < 0)
        die("open", s);
    double t0 = now_s(), c0 = thread_cpu_s();
    struct saved {
        struct event *ev;
        struct str sip, dip, from, to;
    } saved[BATCH / 8 + 8];
    for (uint64_t k = 0; k < nbatches; k++) {
        struct event *b = round_batch(p, k);
        /* the attacker's events, changed for this round only */
        size_t ns = 0;
        for (size_t i = 0; i < BATCH; i++) {
            uint64_t n = k * BATCH + i;
            if (n % ATTACK_EVERY != 7 || ns == sizeof(saved) / sizeof(saved[0]))
                continue;
            struct event *ev = &b[i];
            saved[ns++] =
                (struct saved){ev, ev->core[CORE_SOURCE_IP], ev->core[CORE_DESTINATION_IP],
                               ev->core[CORE_EMAIL_FROM_ADDRESS], ev->core[CORE_EMAIL_TO_ADDRESS]};
            unsigned a = (unsigned)(n / ATTACK_EVERY % NATTACK);
            const char *ip = attack_ip(a), *mail = attack_mail(a);
            if (ev->core[CORE_SOURCE_IP].n)
                ev->core[CORE_SOURCE_IP] = str_make(ip, strlen(ip));
            if (ev->core[CORE_DESTINATION_IP].n)
                ev->core[CORE_DESTINATION_IP] = str_make(ip, strlen(ip));
            if (ev->core[CORE_EMAIL_FROM_ADDRESS].n)
                ev->core[CORE_EMAIL_FROM_ADDRESS] = str_make(mail, strlen(mail));
            if (ev->core[CORE_EMAIL_TO_ADDRESS].n)
                ev->core[CORE_EMAIL_TO_ADDRESS] = str_make(mail, strlen(mail));
        }
        if (store_add_batch(s, b, BATCH) < 0)
            die("storing", s);
        for (size_t i = 0; i < ns; i++) {
            saved[i].ev->core[CORE_SOURCE_IP] = saved[i].sip;
            saved[i].ev->core[CORE_DESTINATION_IP] = saved[i].dip;
            saved[i].ev->core[CORE_EMAIL_FROM_ADDRESS] = saved[i].from;
            saved[i].ev->core[CORE_EMAIL_TO_ADDRESS] = saved[i].to;
        }
        if (k % 977 == 0 && isatty(2))
            fprintf(stderr, "\rbench_hunt: storing %llu/%llu events",
                    (unsigned long long)(k * BATCH), (unsigned long long)(nbatches * BATCH));
    }
    double caller = thread_cpu_s() - c0;
    if (store_sync(s) < 0)
        die("storing", s);
    struct store_stats st;
    store_get_stats(s, &st);
    if (store_close(s) < 0)
        die("closing", NULL);
    double secs = now_s() - t0;
    if (isatty(2))
        fputs("\r\033[K", stderr);
    uint64_t n = nbatches * BATCH;
    printf("  stored %llu events in %.0f s (%.0f events/s; CPU per event %.2f us caller, %.2f us "
           "writer)\n",
           (unsigned long long)n, secs, (double)n / secs, caller * 1e6 / (double)n,
           (double)st.writer_cpu_ns / 1e3 / (double)n);
}

/* ---- the indicators ----------------------------------------------------------- */

struct intel {
    struct ioc_batch b;
    /* for the baseline */
    char **ips;
    size_t nips;
    struct cidr {
        uint8_t lo[16];
        int len, prefix;
    } * cidrs;
    size_t ncidrs;
    char **mails, **doms;
    size_t nmails, ndoms;
};

static void push(char ***v, size_t *n, const char *s)
{
    *v = realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = strdup(s);
}

static void add(struct intel *in, uint32_t m, enum ioc_type t, const char *v)
{
    if (ioc_batch_add(&in->b, t, v, strlen(v), m, true, NULL) < 0) {
        fprintf(stderr, "bench_hunt: bad indicator %s\n", v);
        exit(1);
    }
    const char *nv = in->b.iocs[in->b.niocs - 1].value;
    if (t == IOC_EMAIL)
        push(&in->mails, &in->nmails, nv);
    else if (t == IOC_DOMAIN)
        push(&in->doms, &in->ndoms, nv);
    else if (t == IOC_IP && !strchr(nv, '/'))
        push(&in->ips, &in->nips, nv);
}

static void add_cidr(struct intel *in, uint32_t m, const char *v)
{
    add(in, m, IOC_IP, v);
    struct cidr c = {0};
    char a[64];
    const char *slash = strchr(v, '/');
    snprintf(a, sizeof(a), "%.*s", (int)(slash - v), v);
    int prefix = atoi(slash + 1);
    c.len = strchr(a, ':') ? 16 : 4;
    c.prefix = prefix;
    inet_pton(c.len == 16 ? AF_INET6 : AF_INET, a, c.lo);
    in->cidrs = realloc(in->cidrs, (in->ncidrs + 1) * sizeof(*in->cidrs));
    in->cidrs[in->ncidrs++] = c;
}

static void make_intel(struct intel *in, struct pool *p)
{
    memset(in, 0, sizeof(*in));
    ioc_batch_init(&in->b, "bench-partner.json", "bench");
    struct ioc_meta meta;
    ioc_meta_init(&meta);
    meta.feed = "bench-partner.json";
    meta.name = "bench";
    uint32_t m = ioc_batch_add_meta(&in->b, &meta);
    char v[96];
    for (unsigned k = 0; k < NATTACK; k++) {
        add(in, m, IOC_IP, attack_ip(k));
        add(in, m, IOC_EMAIL, attack_mail(k));
    }
    for (unsigned k = 0; k < 8; k++) {
        snprintf(v, sizeof(v), "evil-%u.example", k);
        add(in, m, IOC_DOMAIN, v);
    }
    /* values of the pool: they occur in every round */
    unsigned ips = 0, blocks = 0, mails = 0;
    for (size_t k = 0; k < POOL_BATCHES && (ips < 40 || blocks < 20 || mails < 32); k++)
        for (size_t i = 0; i < BATCH; i += 97) {
            const struct event *ev = &p->evs[k][i];
            struct str sip = ev->core[CORE_SOURCE_IP], from = ev->core[CORE_EMAIL_FROM_ADDRESS];
            if (sip.n && ips < 40) {
                snprintf(v, sizeof(v), "%.*s", (int)sip.n, sip.p);
                add(in, m, IOC_IP, v);
                ips++;
            } else if (sip.n && blocks < 20) {
                snprintf(v, sizeof(v), "%.*s", (int)sip.n, sip.p);
                *strrchr(v, '.') = '\0';
                strcat(v, ".0/24");
                add_cidr(in, m, v);
                blocks++;
            }
            if (from.n && mails < 32) {
                snprintf(v, sizeof(v), "%.*s", (int)from.n, from.p);
                add(in, m, IOC_EMAIL, v);
                mails++;
            }
        }
    /* values that never occur */
    for (unsigned k = 0; in->b.niocs < 10000; k++) {
        switch (k % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
            snprintf(v, sizeof(v), "100.%u.%u.%u", 64 + (k / 65536) % 64, (k / 256) % 256, k % 256);
            add(in, m, IOC_IP, v);
            break;
        case 4:
            if (k % 20 == 4)
                snprintf(v, sizeof(v), "100.%u.%u.0/24", 64 + (k / 256) % 64, k % 256);
            else
                snprintf(v, sizeof(v), "%u.%u.0.0/16", 11 + (k / 256) % 80, k % 256);
            add_cidr(in, m, v);
            break;
        case 5:
            snprintf(v, sizeof(v), "2001:db8:%x:%x::/64", (k / 65536) % 65536, k % 65536);
            add_cidr(in, m, v);
            break;
        case 6:
        case 7:
            snprintf(v, sizeof(v), "absent-%u.example.net", k);
            add(in, m, IOC_DOMAIN, v);
            break;
        default:
            snprintf(v, sizeof(v), "nobody%u@absent-%u.example.com", k, k % 100);
            add(in, m, IOC_EMAIL, v);
            break;
        }
    }
}

/* ---- the baseline: a full pass over the events ---------------------------------- */

struct sset {
    char **v;
    size_t cap;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void sset_build(struct sset *s, char **v, size_t n)
{
    s->cap = 1;
    while (s->cap < n * 2 + 2)
        s->cap *= 2;
    s->v = calloc(s->cap, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        size_t j = fnv(v[i], strlen(v[i])) & (s->cap - 1);
        while (s->v[j])
            j = (j + 1) & (s->cap - 1);
        s->v[j] = v[i];
    }
}

/* The slot holding p[0..n), or NULL. */
static const char *const *sset_find(const struct sset *s, const char *p, size_t n)
{
    for (size_t j = fnv(p, n) & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
        if (strlen(s->v[j]) == n && !memcmp(s->v[j], p, n))
            return (const char *const *)&s->v[j];
    return NULL;
}

/* The CIDR blocks by (family, prefix length): per length, a hash set of
 * the blocks' network bytes, so an address costs one lookup per length. */
struct cidr_len {
    int len, prefix;
    struct sset set; /* of "network bytes as hex" */
};

static void cidr_key(const uint8_t *a, int len, int prefix, char *out)
{
    uint8_t m[16];
    memcpy(m, a, (size_t)len);
    for (int bit = prefix; bit < len * 8; bit++)
        m[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    for (int i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", m[i]);
}

static size_t cidr_sets(struct intel *in, struct cidr_len *cl)
{
    size_t ncl = 0;
    char key[40];
    for (size_t k = 0; k < in->ncidrs; k++) {
        size_t j = 0;
        while (j < ncl && (cl[j].len != in->cidrs[k].len || cl[j].prefix != in->cidrs[k].prefix))
            j++;
        if (j == ncl)
            cl[ncl++] = (struct cidr_len){in->cidrs[k].len, in->cidrs[k].prefix, {0}};
    }
    for (size_t j = 0; j < ncl; j++) {
        char **v = NULL;
        size_t n = 0;
        for (size_t k = 0; k < in->ncidrs; k++)
            if (in->cidrs[k].len == cl[j].len && in->cidrs[k].prefix == cl[j].prefix) {
                cidr_key(in->cidrs[k].lo, cl[j].len, cl[j].prefix, key);
                push(&v, &n, key);
            }
        sset_build(&cl[j].set, v, n);
    }
    return ncl;
}

/* Events naming any indicator, counted once per indicator (as the hunt
 * counts them). */
static uint64_t baseline(const char *path, struct intel *in, double *secs)
{
    double t0 = now_s();
    struct sset ips, mails, doms;
    sset_build(&ips, in->ips, in->nips);
    sset_build(&mails, in->mails, in->nmails);
    sset_build(&doms, in->doms, in->ndoms);
    struct cidr_len cl[16];
    size_t ncl = cidr_sets(in, cl);
    char key[40];
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT sip, dip, efrom, eto FROM events", -1, &st, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "bench_hunt: baseline: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    uint64_t found = 0;
    char text[2][64], low[2][256];
    while (sqlite3_step(st) == SQLITE_ROW) {
        /* the indicators this event names, each counted once */
        const void *hit[64];
        size_t nhit = 0;
#define HIT(p)                                                                                     \
    do {                                                                                           \
        const void *p_ = (p);                                                                      \
        bool dup_ = false;                                                                         \
        for (size_t q_ = 0; q_ < nhit; q_++)                                                       \
            dup_ |= hit[q_] == p_;                                                                 \
        if (!dup_ && nhit < 64)                                                                    \
            hit[nhit++] = p_;                                                                      \
    } while (0)
        for (int c = 0; c < 2; c++) {
            int n = sqlite3_column_bytes(st, c);
            const uint8_t *a = sqlite3_column_blob(st, c);
            if (sqlite3_column_type(st, c) != SQLITE_BLOB || (n != 4 && n != 16))
                continue;
            inet_ntop(n == 4 ? AF_INET : AF_INET6, a, text[c], sizeof(text[c]));
            const char *const *slot = sset_find(&ips, text[c], strlen(text[c]));
            if (slot)
                HIT(slot);
            for (size_t j = 0; j < ncl; j++) {
                if (cl[j].len != n)
                    continue;
                cidr_key(a, n, cl[j].prefix, key);
                const char *const *b = sset_find(&cl[j].set, key, (size_t)n * 2);
                if (b)
                    HIT(b);
            }
        }
        for (int c = 0; c < 2; c++) {
            const char *m = (const char *)sqlite3_column_text(st, 2 + c);
            size_t n = m ? strlen(m) : 0;
            if (!n || n >= sizeof(low[c]))
                continue;
            for (size_t i = 0; i < n; i++)
                low[c][i] = (m[i] >= 'A' && m[i] <= 'Z') ? (char)(m[i] + 32) : m[i];
            low[c][n] = '\0';
            const char *const *slot = sset_find(&mails, low[c], n);
            if (slot)
                HIT(slot);
            /* the domain and each parent */
            const char *at = strrchr(low[c], '@');
            for (const char *d = at ? at + 1 : NULL; d && *d;) {
                slot = sset_find(&doms, d, strlen(d));
                if (slot)
                    HIT(slot);
                d = strchr(d, '.');
                d = d ? d + 1 : NULL;
            }
        }
#undef HIT
        found += nhit;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(ips.v);
    free(mails.v);
    free(doms.v);
    for (size_t j = 0; j < ncl; j++)
        free(cl[j].set.v);
    *secs = now_s() - t0;
    return found;
}

/* ---- loading 1M indicators -------------------------------------------------------- */

static int count_cb(void *opaque, const struct ioc *c, const struct ioc_meta *m, int64_t id)
{
    (void)m;
    (void)id;
    uint64_t *n = opaque;
    *n += c->value[0] != 0;
    return 0;
}

static void intel_load(const char *dir, uint64_t k)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/kenchi-bench-intel-%d.db", dir, (int)getpid());
    unlink_store(path);
    struct ioc_batch b;
    ioc_batch_init(&b, "bench-1m.json", "bench");
    struct ioc_meta meta;
    ioc_meta_init(&meta);
    char v[96];
    uint32_t m = 0;
    for (uint64_t i = 0; i < k; i++) {
        if (i % 1000 == 0) {
            snprintf(v, sizeof(v), "indicator--%08llu", (unsigned long long)(i / 1000));
            meta.feed = "bench-1m.json";
            meta.ref = v;
            meta.confidence = 50;
            meta.tlp = TLP_AMBER;
            m = ioc_batch_add_meta(&b, &meta);
        }
        int n;
        switch (i % 4) {
        case 0:
            n = snprintf(v, sizeof(v), "10.%u.%u.%u", (unsigned)(i >> 16) & 255,
                         (unsigned)(i >> 8) & 255, (unsigned)i & 255);
            ioc_batch_add(&b, IOC_IP, v, (size_t)n, m, true, NULL);
            break;
        case 1:
            n = snprintf(v, sizeof(v), "host%llu.bad%llu.example", (unsigned long long)i,
                         (unsigned long long)(i % 977));
            ioc_batch_add(&b, IOC_DOMAIN, v, (size_t)n, m, true, NULL);
            break;
        case 2:
            n = snprintf(v, sizeof(v), "%016llx%016llx",
                         (unsigned long long)(i * 0x9E3779B97F4A7C15ULL), (unsigned long long)i);
            ioc_batch_add(&b, IOC_MD5, v, (size_t)n, m, true, NULL);
            break;
        default:
            n = snprintf(v, sizeof(v), "user%llu@phish%llu.example", (unsigned long long)i,
                         (unsigned long long)(i % 313));
            ioc_batch_add(&b, IOC_EMAIL, v, (size_t)n, m, true, NULL);
            break;
        }
    }
    struct store *s;
    if (store_open(path, NULL, &s) < 0)
        die("open", s);
    double t0 = now_s();
    if (store_intel_import(s, &b, NULL, NULL) < 0)
        die("import", s);
    double timp = now_s() - t0;
    uint64_t got = 0;
    t0 = now_s();
    if (store_intel_load(s, 0, count_cb, &got) < 0)
        die("load", s);
    double tload = now_s() - t0;
    if (store_close(s) < 0)
        die("close", NULL);
    /* baseline: the same rows, bare */
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    t0 = now_s();
    uint64_t bare = 0;
    if (sqlite3_prepare_v2(db, "SELECT meta, type, value, detect, warning FROM intel", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            bare += sqlite3_column_bytes(st, 2) > 0;
        sqlite3_finalize(st);
    }
    double tbare = now_s() - t0;
    sqlite3_close(db);
    int64_t bytes = store_file_bytes(path);
    printf("intel: %llu indicators (IPv4, domains, MD5, mail addresses; 1,000 a record): import "
           "%.2f s (one transaction), store_intel_load %.3f s (%.0f/s, %llu), %.0f bytes each "
           "on disk\n",
           (unsigned long long)k, timp, tload, (double)got / tload, (unsigned long long)got,
           (double)bytes / (double)k);
    printf("  baseline: a bare SELECT of the same rows %.3f s; ratio load/baseline %.2fx\n", tbare,
           tload / tbare);
    (void)bare;
    ioc_batch_free(&b);
    unlink_store(path);
}

/* ---- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    bool keep = getenv("BENCH_HUNT_KEEP") != NULL;
    const char *ik = getenv("BENCH_HUNT_INTEL");
    uint64_t nintel = ik ? strtoull(ik, NULL, 10) : 1000000;
    uint64_t nbatches = (n + BATCH - 1) / BATCH;
    n = nbatches * BATCH;

    static struct pool pool;
    arena_init(&pool.arena, 1 << 20);
    for (size_t k = 0; k < POOL_BATCHES; k++)
        for (size_t i = 0; i < BATCH; i++)
            gen_event(&pool.evs[k][i], &pool.arena, k * BATCH + i);

    char path[4096];
    snprintf(path, sizeof(path), "%s/kenchi-bench-hunt-%llu.db", dir, (unsigned long long)n);
    struct stat sb;
    printf("bench_hunt: %llu synthetic mail-log events (%.0f days at 1,000,000 a day), 10,000 "
           "indicators\n",
           (unsigned long long)n, (double)n / 1e6);
    if (keep && stat(path, &sb) == 0)
        printf("  reusing %s\n", path);
    else
        build_store(&pool, nbatches, path);
    int64_t bytes = store_file_bytes(path);
    printf("  store: %.2f GB on disk, %.1f bytes/event\n", (double)bytes / 1e9,
           (double)bytes / (double)n);

    struct intel in;
    make_intel(&in, &pool);
    struct store *s;
    if (store_open(path, NULL, &s) < 0)
        die("open", s);
    int64_t id;
    double t0 = now_s();
    if (store_intel_import(s, &in.b, &id, NULL) < 0)
        die("import", s);
    double timp = now_s() - t0;
    if (store_close(s) < 0)
        die("close", NULL);

    struct store_opts ro;
    store_opts_default(&ro);
    ro.read_only = true;
    if (store_open(path, &ro, &s) < 0)
        die("open", s);
    struct hunt_report r;
    struct hunt_opts ho;
    hunt_opts_default(&ho);
    const char *ee = getenv("BENCH_HUNT_ENTITY_EVENTS");
    if (ee && *ee)
        ho.max_rows = strtoull(ee, NULL, 10);
    const char *th = getenv("KENCHI_HUNT_THREADS");
    printf("  threads: %s, entity events: %zu\n", th && *th ? th : "default", ho.max_rows);
    double cpu0 = process_cpu_s(), tcpu0 = thread_cpu_s();
    if (hunt_store(s, id, &ho, &r) < 0)
        die("hunt", s);
    double cpu = process_cpu_s() - cpu0, tcpu = thread_cpu_s() - tcpu0;
    struct store_hunt_stats hs;
    store_hunt_stats(s, &hs);
    uint64_t occurring = 0;
    for (size_t i = 0; i < r.nresults; i++)
        occurring += !r.results[i].warned;
    printf("  hunt: %.2f s for %llu indicators (import %.2f s): %llu seen, %llu events; read %llu "
           "summary days (%llu entries), %llu candidate hours, %llu index reads (%llu entries)\n",
           r.seconds, (unsigned long long)r.hunted, timp, (unsigned long long)occurring,
           (unsigned long long)r.events, (unsigned long long)hs.days,
           (unsigned long long)hs.summary_entries, (unsigned long long)hs.candidates,
           (unsigned long long)hs.reads, (unsigned long long)hs.entries);
    printf("  hunt CPU: %.2f s (the hunt's own thread %.2f s)\n", cpu, tcpu);
    double hunt_s = r.seconds;
    uint64_t hunt_events = r.events;
    hunt_report_free(&r);
    /* again: what a second analyst asking the same gets (page cache warm) */
    cpu0 = process_cpu_s();
    tcpu0 = thread_cpu_s();
    if (hunt_store(s, id, &ho, &r) < 0)
        die("hunt", s);
    printf("  hunt again: %.2f s (CPU %.2f s, its own thread %.2f s)\n", r.seconds,
           process_cpu_s() - cpu0, thread_cpu_s() - tcpu0);
    hunt_report_free(&r);
    store_close(s);

    const char *bl = getenv("BENCH_HUNT_BASELINE");
    if (bl && !strcmp(bl, "0")) {
        printf("  baseline: skipped (BENCH_HUNT_BASELINE=0)\n");
        ioc_batch_free(&in.b);
        if (!keep)
            unlink_store(path);
        arena_free(&pool.arena);
        return 0;
    }
    double bsecs;
    uint64_t bfound = baseline(path, &in, &bsecs);
    printf("  baseline (one pass over the events table, hash sets): %.2f s, %llu events%s\n", bsecs,
           (unsigned long long)bfound,
           bfound == hunt_events ? " (the same as the hunt's)" : " (DIFFERS from the hunt's)");
    printf("  ratio hunt/baseline: %.3fx (%.0f times faster)\n", hunt_s / bsecs, bsecs / hunt_s);
    ioc_batch_free(&in.b);
    if (!keep)
        unlink_store(path);
    if (nintel)
        intel_load(dir, nintel);
    arena_free(&pool.arena);
    return bfound == hunt_events ? 0 : 1;
}
