/*
 * store-summary.c - the day summary: in which hours of a day each key
 * occurs, so that a retro-hunt reads the hunting index only where a value
 * is.
 *
 * Why. The hunting index is bucketed by hour (cheap inserts, see
 * store-sqlite.c), so "this key over all time" costs one index seek per
 * hour that holds entries: 2,400 seeks for a hundred days, per key kind,
 * per indicator - a minute for 10,000 indicators. A key-first table
 * (key, hour) would answer it in one seek, but the writer would insert
 * into it at random places all over a table that grows with the store,
 * which is exactly the cost the hour buckets avoid (measured: 4x slower
 * writes at 5 M events, docs/store.md).
 *
 * What. hunt_days(day, class, part, fps): per day (floor(hour / 24); the
 * events without a time have their own day DAY_NONE) and key class, a
 * sorted array of 8-byte entries: a 32-bit fingerprint of a key value
 * (store-keys.c: XXH3 seeded with the class) and a 24-bit mask of the hours
 * of that day it occurs in. A hunt reads, per day, the arrays of the
 * classes its indicators need, merges them with its sorted fingerprints,
 * and so learns the exact hours to read in the index; a false
 * fingerprint match (about n / 2^32 per probe and day) costs one seek that
 * finds nothing. Addresses are also summarised by prefix and domains by
 * parent, so CIDR blocks and parent domains find their hours the same way.
 *
 * Writing. The writer collects the transaction's (day, class, fingerprint,
 * hour) entries in per-(day, class) arrays, sorts them (radix sort on the
 * fingerprint), merges duplicates and appends one part per (day, class)
 * with the next part number: an insert at the end of the day's range,
 * never a random place. A day's parts are merged into one when the day is
 * over (the writer has stored events an hour into the next day), when it
 * holds MERGE_PARTS parts (a live store commits often), and at close. A
 * day is small (8 bytes per distinct key value and class), so merging it
 * is cheap. Queue ids are not summarised: they are only looked up next to
 * an event already found.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-private.h"

#define MERGE_PARTS 64   /* merge a day's parts once it has this many */
#define SUMP_MAX    4096 /* (day, class) part counts remembered */
#define CLOSE_HOURS 1    /* a day is over this many hours into the next */
#define ENTRY_BYTES 8
#define SUM_PUT_SQL "INSERT INTO hunt_days(day, class, part, fps) VALUES(?,?,?,?)"
#define SUM_INFO_SQL                                                                               \
    "SELECT count(*), coalesce(max(part), -1) FROM hunt_days WHERE day=? AND class=?"
#define SUM_READ_SQL  "SELECT fps FROM hunt_days WHERE day=? AND class=?"
#define SUM_CLEAR_SQL "DELETE FROM hunt_days WHERE day=? AND class=?"

static int64_t day_of_hour(int64_t hour, unsigned *bit)
{
    if (hour == HOUR_NONE) {
        *bit = 0;
        return DAY_NONE;
    }
    int64_t day = hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
    *bit = (unsigned)(hour - day * 24);
    return day;
}

int summary_add(struct store *s, int64_t hour, char cls, uint32_t fp)
{
    unsigned bit;
    int64_t day = day_of_hour(hour, &bit);
    if (hour != HOUR_NONE && hour > s->sum_max_hour)
        s->sum_max_hour = hour;
    struct sum_bucket *b = NULL;
    if (s->sumb_last < s->nsumb && s->sumb[s->sumb_last].day == day &&
        s->sumb[s->sumb_last].cls == cls) {
        b = &s->sumb[s->sumb_last];
    } else {
        for (size_t i = 0; i < s->nsumb; i++)
            if (s->sumb[i].day == day && s->sumb[i].cls == cls) {
                b = &s->sumb[i];
                s->sumb_last = i;
                break;
            }
    }
    if (!b) {
        /* a bucket emptied by the last flush keeps its array: reuse it */
        for (size_t i = 0; i < s->nsumb && !b; i++)
            if (s->sumb[i].n == 0) {
                b = &s->sumb[i];
                s->sumb_last = i;
            }
        if (!b) {
            if (s->nsumb == s->capsumb) {
                size_t cap = s->capsumb ? s->capsumb * 2 : 16;
                struct sum_bucket *nb = realloc(s->sumb, cap * sizeof(*nb));
                if (!nb)
                    return -ENOMEM;
                s->sumb = nb;
                s->capsumb = cap;
            }
            b = &s->sumb[s->nsumb];
            memset(b, 0, sizeof(*b));
            s->sumb_last = s->nsumb++;
        }
        b->day = day;
        b->cls = cls;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        uint64_t *v = realloc(b->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = (uint64_t)fp << 32 | (1u << bit);
    return 0;
}

/* ---- sorting -------------------------------------------------------------- */

size_t summary_sort_merge(uint64_t *v, size_t n, uint64_t *tmp)
{
    if (n < 2)
        return n;
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            while (j > 0 && (v[j - 1] >> 32) > (x >> 32)) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
    } else {
        /* LSD radix sort on the fingerprint (bits 32..63), 4 passes */
        uint64_t *src = v, *dst = tmp;
        for (unsigned shift = 32; shift < 64; shift += 8) {
            size_t count[257] = {0};
            for (size_t i = 0; i < n; i++)
                count[((src[i] >> shift) & 0xff) + 1]++;
            for (int k = 0; k < 256; k++)
                count[k + 1] += count[k];
            for (size_t i = 0; i < n; i++)
                dst[count[(src[i] >> shift) & 0xff]++] = src[i];
            uint64_t *t = src;
            src = dst;
            dst = t;
        }
        /* four passes: the result is back in v */
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o && (v[o - 1] >> 32) == (v[i] >> 32))
            v[o - 1] |= v[i] & 0xffffffffu;
        else
            v[o++] = v[i];
    }
    return o;
}

static int tmp_reserve(struct store *s, size_t n)
{
    if (n <= s->cap_sum_tmp)
        return 0;
    uint64_t *t = realloc(s->sum_tmp, n * sizeof(*t));
    if (!t)
        return -ENOMEM;
    s->sum_tmp = t;
    s->cap_sum_tmp = n;
    return 0;
}

/* Encode v[0..n) as the stored blob into out. */
static void encode(const uint64_t *v, size_t n, struct buf *out)
{
    buf_clear(out);
    buf_reserve(out, n * ENTRY_BYTES);
    uint8_t *p = (uint8_t *)out->data;
    for (size_t i = 0; i < n; i++, p += ENTRY_BYTES) {
        uint32_t fp = (uint32_t)(v[i] >> 32), mask = (uint32_t)v[i];
        p[0] = (uint8_t)fp;
        p[1] = (uint8_t)(fp >> 8);
        p[2] = (uint8_t)(fp >> 16);
        p[3] = (uint8_t)(fp >> 24);
        p[4] = (uint8_t)mask;
        p[5] = (uint8_t)(mask >> 8);
        p[6] = (uint8_t)(mask >> 16);
        p[7] = (uint8_t)(mask >> 24);
    }
    out->len = n * ENTRY_BYTES;
}

/* Append the entries of the blob p[0..n) to r. */
static int decode_append(const uint8_t *p, size_t n, struct sum_read *r)
{
    size_t k = n / ENTRY_BYTES;
    if (r->n + k > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->n + k)
            cap *= 2;
        uint64_t *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    for (size_t i = 0; i < k; i++, p += ENTRY_BYTES) {
        uint32_t fp =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        uint32_t mask =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        r->v[r->n++] = (uint64_t)fp << 32 | mask;
    }
    return 0;
}

/* ---- writing parts ------------------------------------------------------------ */

static int prep(struct store *s, sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    if (*st)
        return 0;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK ? 0 : sql_err(s, db, rc, "preparing the day summary");
}

/* The part counts of (day, cls), read on first use. */
static int parts_of(struct store *s, sqlite3 *db, int64_t day, char cls, struct sum_parts **out)
{
    for (size_t i = 0; i < s->nsump; i++)
        if (s->sump[i].day == day && s->sump[i].cls == cls) {
            *out = &s->sump[i];
            return 0;
        }
    if (s->nsump >= SUMP_MAX) {
        /* forget the days that need no merge */
        size_t o = 0;
        for (size_t i = 0; i < s->nsump; i++)
            if (s->sump[i].n > 1)
                s->sump[o++] = s->sump[i];
        s->nsump = o;
    }
    if (s->nsump == s->capsump) {
        size_t cap = s->capsump ? s->capsump * 2 : 64;
        struct sum_parts *p = realloc(s->sump, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->sump = p;
        s->capsump = cap;
    }
    int rc = prep(s, db, &s->sum_info, SUM_INFO_SQL);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(s->sum_info, 1, day);
    sqlite3_bind_int(s->sum_info, 2, (unsigned char)cls);
    rc = sqlite3_step(s->sum_info);
    struct sum_parts *p = &s->sump[s->nsump];
    p->day = day;
    p->cls = cls;
    p->n = rc == SQLITE_ROW ? sqlite3_column_int64(s->sum_info, 0) : 0;
    p->next = rc == SQLITE_ROW ? sqlite3_column_int64(s->sum_info, 1) + 1 : 0;
    sqlite3_reset(s->sum_info);
    if (rc != SQLITE_ROW)
        return sql_err(s, db, rc, "reading the day summary");
    s->nsump++;
    *out = p;
    return 0;
}

static int put_part(struct store *s, sqlite3 *db, int64_t day, char cls, int64_t part,
                    const struct buf *blob)
{
    int rc = prep(s, db, &s->sum_put, SUM_PUT_SQL);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(s->sum_put, 1, day);
    sqlite3_bind_int(s->sum_put, 2, (unsigned char)cls);
    sqlite3_bind_int64(s->sum_put, 3, part);
    sqlite3_bind_blob(s->sum_put, 4, blob->len ? blob->data : "", (int)blob->len, SQLITE_STATIC);
    rc = sqlite3_step(s->sum_put);
    sqlite3_reset(s->sum_put);
    return rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, "writing the day summary");
}

int summary_read(struct store *s, sqlite3 *db, sqlite3_stmt **st, int64_t day, char cls,
                 struct sum_read *r)
{
    r->n = 0;
    int rc = prep(s, db, st, SUM_READ_SQL);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(*st, 1, day);
    sqlite3_bind_int(*st, 2, (unsigned char)cls);
    int parts = 0;
    while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
        int e = decode_append(sqlite3_column_blob(*st, 0), (size_t)sqlite3_column_bytes(*st, 0), r);
        if (e < 0) {
            sqlite3_reset(*st);
            return set_err(s, e, "out of memory");
        }
        parts++;
    }
    sqlite3_reset(*st);
    if (rc != SQLITE_DONE)
        return sql_err(s, db, rc, "reading the day summary");
    if (parts > 1) {
        uint64_t *tmp = malloc(r->n * sizeof(*tmp) + 1);
        if (!tmp)
            return set_err(s, -ENOMEM, "out of memory");
        r->n = summary_sort_merge(r->v, r->n, tmp);
        free(tmp);
    }
    return 0;
}

/* Merge the parts of (day, cls) into one. */
static int merge_day(struct store *s, sqlite3 *db, struct sum_parts *p)
{
    struct sum_read r = {0};
    sqlite3_stmt *rd = NULL, *clr = NULL;
    int rc = summary_read(s, db, &rd, p->day, p->cls, &r);
    sqlite3_finalize(rd);
    if (rc == 0) {
        rc = sqlite3_prepare_v2(db, SUM_CLEAR_SQL, -1, &clr, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(clr, 1, p->day);
            sqlite3_bind_int(clr, 2, (unsigned char)p->cls);
            rc = sqlite3_step(clr);
            rc = rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, "merging the day summary");
        } else {
            rc = sql_err(s, db, rc, "merging the day summary");
        }
        sqlite3_finalize(clr);
    }
    if (rc == 0) {
        struct buf blob;
        buf_init(&blob);
        encode(r.v, r.n, &blob);
        rc = put_part(s, db, p->day, p->cls, 0, &blob);
        buf_free(&blob);
    }
    free(r.v);
    if (rc == 0) {
        p->n = 1;
        p->next = 1;
    }
    return rc;
}

int summary_flush(struct store *s, bool all)
{
    struct buf blob;
    buf_init(&blob);
    int rc = 0;
    for (size_t i = 0; i < s->nsumb && rc == 0; i++) {
        struct sum_bucket *b = &s->sumb[i];
        if (!b->n)
            continue;
        rc = tmp_reserve(s, b->n);
        if (rc < 0) {
            rc = set_err(s, rc, "out of memory");
            break;
        }
        b->n = summary_sort_merge(b->v, b->n, s->sum_tmp);
        struct sum_parts *p = NULL;
        rc = parts_of(s, s->db, b->day, b->cls, &p);
        if (rc == 0) {
            encode(b->v, b->n, &blob);
            rc = put_part(s, s->db, b->day, b->cls, p->next, &blob);
        }
        if (rc == 0) {
            p->next++;
            p->n++;
        }
        b->n = 0;
    }
    buf_free(&blob);
    /* merge what is over, or has too many parts */
    for (size_t i = 0; i < s->nsump && rc == 0; i++) {
        struct sum_parts *p = &s->sump[i];
        if (p->n < 2)
            continue;
        bool over = p->day != DAY_NONE && (p->day + 1) * 24 + CLOSE_HOURS <= s->sum_max_hour;
        if (all || over || p->n >= MERGE_PARTS)
            rc = merge_day(s, s->db, p);
    }
    if (rc < 0)
        for (size_t i = 0; i < s->nsumb; i++)
            s->sumb[i].n = 0;
    return rc;
}

void summary_free(struct store *s)
{
    for (size_t i = 0; i < s->nsumb; i++)
        free(s->sumb[i].v);
    free(s->sumb);
    free(s->sump);
    free(s->sum_tmp);
    sqlite3_finalize(s->sum_put);
    sqlite3_finalize(s->sum_info);
    s->sumb = NULL;
    s->sump = NULL;
    s->sum_tmp = NULL;
    s->sum_put = s->sum_info = NULL;
    s->nsumb = s->capsumb = s->nsump = s->capsump = s->cap_sum_tmp = 0;
}

/* ---- building it for an older store ------------------------------------------- */

int summary_build(struct store *s, sqlite3 *db)
{
    sqlite3_stmt *st;
    /* (hour, key) order: the primary key's, read sequentially; each key
     * once per hour */
    int rc = sqlite3_prepare_v2(db, "SELECT DISTINCT hour, key FROM hunt", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "summarising the hunting index");
    int64_t day = 0;
    bool have_day = false;
    uint32_t fps[KEY_FPS_MAX];
    char cls[KEY_FPS_MAX];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t hour = sqlite3_column_int64(st, 0);
        const char *key = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        if (n < 2)
            continue;
        unsigned bit;
        int64_t d = day_of_hour(hour, &bit);
        if (have_day && d != day) {
            /* a day is complete: write it, so memory holds one day */
            int e = summary_flush(s, true);
            if (e < 0) {
                sqlite3_finalize(st);
                return e;
            }
        }
        day = d;
        have_day = true;
        unsigned nf = key_fps(key[0], key + 1, (size_t)n - 1, fps, cls);
        for (unsigned i = 0; i < nf; i++)
            if (summary_add(s, hour, cls[i], fps[i]) < 0) {
                sqlite3_finalize(st);
                return set_err(s, -ENOMEM, "out of memory");
            }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_err(s, db, rc, "summarising the hunting index");
    return summary_flush(s, true);
}
