/*
 * bl-prim.h - the building blocks of entity profiles.
 *
 * A profile is made of a few kinds of memory, each bounded:
 *   - a seen-set: the values an entity has shown (networks, clients,
 *     destinations), each with its first and last time and a count, at
 *     most `limit` of them (the least recently seen goes first);
 *   - a series: totals per period (day or hour) in a ring of the last
 *     `cap` periods, for robust statistics (quantiles, median and MAD)
 *     over the entity's own history;
 *   - an hour-of-week histogram: when the entity is active.
 * Values are kept as 64-bit hashes plus an interned label (struct
 * bl_labels, one pool for the whole engine: "10.1.2.0/24" is stored once
 * however many accounts use it), so that `kenchi baseline show` can name
 * them. Times are event times in whole seconds (uint32: until 2106).
 *
 * Every structure serialises to a compact byte string (bl_w / bl_r:
 * LEB128 varints and length-prefixed strings; labels are written as text
 * because label ids differ between runs) so profiles can live in the store.
 */
#ifndef KENCHI_BASELINE_BL_PRIM_H
#define KENCHI_BASELINE_BL_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/strmap.h"

/* ---- hashing and time --------------------------------------------------- */

uint64_t bl_hash(const void *p, size_t n);
static inline uint64_t bl_hash_str(const char *s)
{
    return bl_hash(s, __builtin_strlen(s));
}
/* Event time (ns) to profile time (s); 0 for a missing or pre-1970 time. */
uint32_t bl_time(int64_t ts_ns);
static inline uint32_t bl_day(uint32_t t)
{
    return t / 86400u;
}
/* 0 = Monday .. 6 = Sunday (UTC). */
static inline unsigned bl_weekday(uint32_t t)
{
    return (unsigned)((t / 86400u + 3u) % 7u);
}
static inline unsigned bl_hour(uint32_t t)
{
    return (unsigned)((t / 3600u) % 24u);
}

/* ---- labels: interned display strings ----------------------------------- */

struct bl_labels {
    struct strmap map; /* text -> id */
    const char **text; /* id -> text (id 0: none) */
    uint32_t n, cap;
    uint32_t limit; /* at most this many labels; beyond, values stay unnamed */
    uint64_t refused;
};
void bl_labels_init(struct bl_labels *l, uint32_t limit);
void bl_labels_free(struct bl_labels *l);
/* The id of s[0..n) (interned on first use), or 0 when the pool is full. */
uint32_t bl_label(struct bl_labels *l, const char *s, size_t n);
/* The text of id, or "" for 0 / unknown ids. */
const char *bl_label_text(const struct bl_labels *l, uint32_t id);
size_t bl_labels_bytes(const struct bl_labels *l);

/* ---- seen-sets ---------------------------------------------------------- */

struct bl_seen_ent {
    uint64_t h;     /* 0: empty slot */
    uint32_t first; /* first and last time seen (s) */
    uint32_t last;
    uint32_t count; /* saturating */
    uint32_t label; /* bl_labels id, or 0 */
};

struct bl_seen {
    struct bl_seen_ent *slot; /* open addressing, power-of-two size */
    uint32_t n, size;
    uint32_t limit;   /* most entries kept */
    uint32_t evicted; /* entries dropped to keep the limit (saturating) */
};
void bl_seen_init(struct bl_seen *s, uint32_t limit);
void bl_seen_free(struct bl_seen *s);
/* The entry of h, or NULL. */
const struct bl_seen_ent *bl_seen_get(const struct bl_seen *s, uint64_t h);
/* Record value h at time t: *prev gets the entry as it was before (h == 0
 * when the value was new). label is used for a new entry. Returns 1 when
 * the value was new, 0 when known, -ENOMEM. */
int bl_seen_touch(struct bl_seen *s, uint64_t h, uint32_t t, uint32_t label,
                  struct bl_seen_ent *prev);
/* Forget entries last seen before t. */
void bl_seen_age(struct bl_seen *s, uint32_t before);
/* Entries in an array sorted by count (descending), then first; n gets
 * the number. malloc'd; NULL when empty or on ENOMEM. */
struct bl_seen_ent *bl_seen_sorted(const struct bl_seen *s, size_t *n);
size_t bl_seen_bytes(const struct bl_seen *s);

/* ---- series: totals per period ------------------------------------------ */

struct bl_series {
    float *v;        /* ring of totals, cap slots */
    uint32_t period; /* seconds per slot (86400: days, 3600: hours) */
    uint32_t cap;
    uint32_t newest; /* period number (t / period) of the newest slot */
    uint32_t n;      /* periods covered, <= cap (0: empty) */
};
void bl_series_init(struct bl_series *s, uint32_t period, uint32_t cap);
void bl_series_free(struct bl_series *s);
/* Add amount at time t (times older than the ring are ignored; a time
 * before the newest period but inside the ring adds to its slot). Returns
 * the total of t's period after the addition, or -1 on ENOMEM. */
double bl_series_add(struct bl_series *s, uint32_t t, double amount);
/* The total of t's period (0 if none). */
double bl_series_at(const struct bl_series *s, uint32_t t);
/* Statistics over the complete periods before t's period (periods with no
 * activity count as 0), at most the ring's length. Returns the number of
 * periods used (0: no history; *out untouched). */
uint32_t bl_series_quantile(const struct bl_series *s, uint32_t t, double q, double *out);
uint32_t bl_series_median_mad(const struct bl_series *s, uint32_t t, double *median, double *mad);
/* Periods of history before t's period that had any activity. */
uint32_t bl_series_active(const struct bl_series *s, uint32_t t);
size_t bl_series_bytes(const struct bl_series *s);

/* ---- hours: when an entity is active ------------------------------------ */

struct bl_hours {
    uint16_t c[168]; /* hour of week (Monday 00:00 UTC = 0), saturating */
    uint32_t total;
};
void bl_hours_add(struct bl_hours *h, uint32_t t);
/* Activity in history at t's hour of day +- width hours, any weekday. */
uint32_t bl_hours_near(const struct bl_hours *h, uint32_t t, unsigned width);
/* Activity on t's weekday, any hour. */
uint32_t bl_hours_weekday(const struct bl_hours *h, uint32_t t);

/* ---- addresses ---------------------------------------------------------- */

struct bl_addr {
    uint8_t b[16]; /* IPv4 as ::ffff:a.b.c.d */
    bool v4;
};
/* Parse an IPv4 or IPv6 address (no port, no brackets). */
bool bl_addr_parse(const char *s, size_t n, struct bl_addr *a);
/* The network of a: /24 for IPv4, /48 for IPv6, as text ("192.0.2.0/24",
 * "2001:db8:1::/48"); out must hold 64 bytes. */
void bl_addr_net(const struct bl_addr *a, char *out);
/* The address as text (out: 64 bytes). */
void bl_addr_text(const struct bl_addr *a, char *out);
/* Private, loopback, link-local, CGNAT, multicast, unspecified,
 * documentation-free: true for addresses that are not on the Internet. */
bool bl_addr_is_private(const struct bl_addr *a);

/* A list of networks (CIDR), parsed once. */
struct bl_cidr {
    struct bl_addr net;
    unsigned bits; /* prefix length over the 128-bit form */
};
struct bl_cidrs {
    struct bl_cidr *v;
    size_t n;
};
/* Parse "a.b.c.d[/n]" or "x::y[/n]". */
bool bl_cidr_parse(const char *s, struct bl_cidr *c);
bool bl_cidrs_match(const struct bl_cidrs *l, const struct bl_addr *a);

/* The domain of an e-mail address (after the last '@'), or an empty str. */
const char *bl_mail_domain(const char *addr, size_t n, size_t *dn);

/* ---- serialisation ------------------------------------------------------ */

void bl_w_u64(struct buf *b, uint64_t v);
void bl_w_f64(struct buf *b, double v);
void bl_w_str(struct buf *b, const char *s);
void bl_seen_write(struct buf *b, const struct bl_seen *s, const struct bl_labels *l);
void bl_series_write(struct buf *b, const struct bl_series *s);
void bl_hours_write(struct buf *b, const struct bl_hours *h);

/* A reader: on any malformed input r->bad is set and the getters return 0
 * / empty, so callers check bad once at the end. */
struct bl_r {
    const uint8_t *p, *end;
    bool bad;
};
static inline void bl_r_init(struct bl_r *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->bad = false;
}
uint64_t bl_r_u64(struct bl_r *r);
/* A varint that must fit in 32 bits (bad otherwise). */
uint32_t bl_r_u32(struct bl_r *r);
double bl_r_f64(struct bl_r *r);
/* A string: pointer into the input (not NUL-terminated) and its length. */
const char *bl_r_str(struct bl_r *r, size_t *n);
/* Read what the writers above wrote into an initialised, empty structure. */
void bl_seen_read(struct bl_r *r, struct bl_seen *s, struct bl_labels *l);
void bl_series_read(struct bl_r *r, struct bl_series *s);
void bl_hours_read(struct bl_r *r, struct bl_hours *h);

#endif
