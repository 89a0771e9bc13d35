/*
 * timeconv.h - civil time <-> UTC nanoseconds, and the timestamp syntaxes
 * found in logs.
 *
 * Every event time in kenchi is int64 nanoseconds since the Unix epoch, UTC.
 * Logs that carry no zone (RFC 3164 syslog, many text logs) are read in the
 * zone of a struct tz_ctx: the machine's zone, or the one given by
 * --timezone. Converting a local wall-clock time goes through mktime() once
 * per local hour and is cached, which keeps per-line cost at a few integer
 * operations even with DST rules.
 */
#ifndef KENCHI_UTIL_TIMECONV_H
#define KENCHI_UTIL_TIMECONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL
#define TIME_NONE  INT64_MIN
/* Years representable as int64 nanoseconds (1677-09-21 .. 2262-04-11),
 * with a margin; parsers refuse times outside. */
#define TIME_YEAR_MIN 1678
#define TIME_YEAR_MAX 2261

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1..12). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* Number of days in month mon (1..12) of year y. */
int days_in_month(int y, int mon);

/* UTC nanoseconds for a UTC civil time. */
int64_t time_from_utc(int y, int mon, int day, int h, int min, int s, int64_t ns);

/* Zone of logs that do not name one. */
#define TZ_CACHE_SLOTS 64
struct tz_ctx {
    bool utc; /* shortcut: zone is UTC */
    /* direct-mapped cache: local hour index -> UTC offset (seconds east);
     * out-of-order logs (merged files) still hit */
    int64_t cache_key[TZ_CACHE_SLOTS];
    int64_t cache_off[TZ_CACHE_SLOTS];
};

/* Use the process zone (TZ, already set and tzset() by the caller). */
void tz_ctx_init(struct tz_ctx *tz);

/* Make the machine's zone explicit (TZ=":/etc/localtime") when TZ is unset,
 * so that the C library reads the zone file once instead of on every
 * conversion. Call once at start-up. */
void tz_pin_default(void);

/* Select the zone NAME ("UTC", "Europe/Berlin", a POSIX TZ string) for the
 * whole process. Returns 0, or -EINVAL if NAME is unknown. Call once at
 * start-up, before any thread starts. */
int tz_select(const char *name);

/* UTC nanoseconds for a wall-clock time in tz. */
int64_t time_from_local(struct tz_ctx *tz, int y, int mon, int day, int h, int min, int s,
                        int64_t ns);

/* Nanoseconds for a POSIX time (file times, clock_gettime()), clamped to
 * the years kenchi can represent: a file may well claim to be from 2300. */
int64_t time_from_unix(int64_t sec, long nsec);

/* Year (UTC) of a time. */
int time_year(int64_t t_ns);

/* Parse an RFC 3339 / ISO 8601 date-time ("2024-03-01T10:00:00.123Z",
 * "2024-03-01 10:00:00", "+01:00" offsets; a space may stand for 'T'). A
 * time without zone is read in tz (UTC if tz is NULL). Returns the number of
 * bytes consumed (0 if s does not start with such a time) and stores the
 * result in *out. */
size_t time_parse_iso(const char *s, size_t n, struct tz_ctx *tz, int64_t *out);

/* Month number 1..12 for a three-letter English abbreviation, or 0. */
int month_from_abbrev(const char *s);

/* Write t as "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" (30 bytes + NUL) into out. */
void time_format(int64_t t_ns, char out[32]);

/* Append t_ns as a quoted JSON string in time_format's form, or null for
 * TIME_NONE. */
struct buf;
void json_put_time(struct buf *b, int64_t t_ns);

/* Seconds in one duration unit: s, m, h, d, w, M (30 days), y (365 days);
 * 0 for any other character. The one table of duration suffixes, shared by
 * --since/--until ages and Sigma correlation timespans. */
int64_t time_unit_seconds(char unit);

/* Parse a user-supplied time for --since/--until: RFC 3339, a date
 * ("2024-03-01", midnight UTC), or a relative age ("90m", "36h", "7d", "2w")
 * before now_ns. Returns 0 or -EINVAL. */
int time_parse_user(const char *s, int64_t now_ns, int64_t *out);

#endif
