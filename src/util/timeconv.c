/*
 * timeconv.c - see timeconv.h.
 */
#include "util/timeconv.h"

#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* H. Hinnant's algorithm: exact for the proleptic Gregorian calendar. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

int days_in_month(int y, int mon)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12)
        return 0;
    if (mon == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[mon - 1];
}

int64_t time_from_utc(int y, int mon, int day, int h, int min, int s, int64_t ns)
{
    /* int64 nanoseconds reach from 1677-09-21 to 2262-04-11: outside the
     * whole years in between there is no such time (and no overflow) */
    if (y < TIME_YEAR_MIN || y > TIME_YEAR_MAX)
        return TIME_NONE;
    int64_t days = days_from_civil(y, (unsigned)mon, (unsigned)day);
    return ((days * 86400) + h * 3600 + min * 60 + s) * NS_PER_SEC + ns;
}

void tz_ctx_init(struct tz_ctx *tz)
{
    const char *e = getenv("TZ");
    tz->utc = e && (!strcmp(e, "UTC") || !strcmp(e, "UTC0") || !strcmp(e, ":UTC") ||
                    !strcmp(e, "Etc/UTC") || !strcmp(e, "GMT"));
    for (int i = 0; i < TZ_CACHE_SLOTS; i++)
        tz->cache_key[i] = -1;
}

void tz_pin_default(void)
{
    if (!getenv("TZ")) {
        setenv("TZ", access("/etc/localtime", R_OK) == 0 ? ":/etc/localtime" : "UTC", 1);
        tzset();
    }
}

int tz_select(const char *name)
{
    if (!name || !*name || strstr(name, ".."))
        return -EINVAL;
    char path[512];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    bool known = access(path, R_OK) == 0 || !strcmp(name, "UTC") || !strcmp(name, "GMT");
    /* POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT") name no file
     * but carry an offset: letters then a digit or sign. */
    bool posix = false;
    if (!known) {
        size_t i = 0;
        while ((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z'))
            i++;
        posix = i >= 3 && (name[i] == '-' || name[i] == '+' || (name[i] >= '0' && name[i] <= '9'));
    }
    if (!known && !posix)
        return -EINVAL;
    setenv("TZ", name, 1);
    tzset();
    return 0;
}

int64_t time_from_unix(int64_t sec, long nsec)
{
    const int64_t lim = 9200000000LL; /* seconds: mid-2261 either way of 1970 */
    if (sec > lim)
        return lim * NS_PER_SEC;
    if (sec < -lim)
        return -lim * NS_PER_SEC;
    return sec * NS_PER_SEC + nsec;
}

int64_t time_from_local(struct tz_ctx *tz, int y, int mon, int day, int h, int min, int s,
                        int64_t ns)
{
    int64_t as_utc = time_from_utc(y, mon, day, h, min, s, ns);
    if (tz->utc || as_utc == TIME_NONE)
        return as_utc;
    int64_t key = days_from_civil(y, (unsigned)mon, (unsigned)day) * 24 + h;
    unsigned slot = (unsigned)((uint64_t)key % TZ_CACHE_SLOTS);
    if (key != tz->cache_key[slot]) {
        struct tm tm = {0};
        tm.tm_year = y - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = h;
        tm.tm_min = 30; /* mid-hour: away from the :00 of DST switches */
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        int64_t local_secs =
            days_from_civil(y, (unsigned)mon, (unsigned)day) * 86400 + h * 3600 + 30 * 60;
        tz->cache_off[slot] = (t == (time_t)-1) ? 0 : local_secs - (int64_t)t;
        tz->cache_key[slot] = key;
    }
    return as_utc - tz->cache_off[slot] * NS_PER_SEC;
}

int time_year(int64_t t_ns)
{
    int64_t secs = t_ns / NS_PER_SEC;
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return y;
}

static int digits(const char *s, size_t n, size_t at, size_t count)
{
    if (at + count > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

size_t time_parse_iso(const char *s, size_t n, struct tz_ctx *tz, int64_t *out)
{
    int y = digits(s, n, 0, 4);
    /* the year range is checked below (TIME_YEAR_MIN..MAX) */
    if (y < 0 || n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return 0;
    int mo = digits(s, n, 5, 2), d = digits(s, n, 8, 2);
    int h = digits(s, n, 11, 2), mi = digits(s, n, 14, 2), se = digits(s, n, 17, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 60)
        return 0;
    if (d > days_in_month(y, mo) || y < TIME_YEAR_MIN || y > TIME_YEAR_MAX)
        return 0;
    if (se == 60)
        se = 59; /* leap second: clamp */
    size_t i = 19;
    int64_t ns = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        int nd = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) {
                ns = ns * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return 0;
        while (nd++ < 9)
            ns *= 10;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        *out = time_from_utc(y, mo, d, h, mi, se, ns);
        return i + 1;
    }
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '+' ? 1 : -1;
        int oh = digits(s, n, i + 1, 2);
        size_t j = i + 3;
        int om = 0;
        if (oh >= 0 && j < n && s[j] == ':') {
            om = digits(s, n, j + 1, 2);
            j += 3;
        } else if (oh >= 0) {
            int t = digits(s, n, j, 2);
            if (t >= 0) {
                om = t;
                j += 2;
            }
        }
        if (oh >= 0 && om >= 0 && oh <= 23 && om <= 59) {
            int64_t t = time_from_utc(y, mo, d, h, mi, se, ns);
            *out = t - (int64_t)sign * (oh * 3600 + om * 60) * NS_PER_SEC;
            return j;
        }
    }
    *out =
        tz ? time_from_local(tz, y, mo, d, h, mi, se, ns) : time_from_utc(y, mo, d, h, mi, se, ns);
    return i;
}

int month_from_abbrev(const char *s)
{
    /* Keyed on the three letters, case-insensitive. */
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a = (char)(s[0] | 0x20), b = (char)(s[1] | 0x20), c = (char)(s[2] | 0x20);
    for (int m = 0; m < 12; m++)
        if (names[m * 3] == a && names[m * 3 + 1] == b && names[m * 3 + 2] == c)
            return m + 1;
    return 0;
}

void time_format(int64_t t_ns, char out[32])
{
    int64_t secs = t_ns / NS_PER_SEC;
    int64_t ns = t_ns % NS_PER_SEC;
    if (ns < 0) {
        ns += NS_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d.%09dZ", y, m, d, (int)(rem / 3600),
                 (int)(rem / 60 % 60), (int)(rem % 60), (int)ns);
        return;
    }
    /* the same text by hand: snprintf cost more than the rest of an
     * event's JSON rendering put together */
    unsigned v[7] = {
        (unsigned)y,          m,           d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
        (unsigned)(rem % 60), (unsigned)ns};
    static const unsigned char width[7] = {4, 2, 2, 2, 2, 2, 9};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    char *o = out;
    for (int k = 0; k < 7; k++) {
        for (int i = width[k] - 1; i >= 0; i--) {
            o[i] = (char)('0' + v[k] % 10);
            v[k] /= 10;
        }
        o += width[k];
        *o++ = after[k];
    }
    *o = '\0';
}

int64_t time_unit_seconds(char unit)
{
    switch (unit) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    case 'w':
        return 7 * 86400;
    case 'M':
        return 30 * 86400;
    case 'y':
        return 365 * 86400;
    default:
        return 0;
    }
}

int time_parse_user(const char *s, int64_t now_ns, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0)
        return -EINVAL;
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        int y = digits(s, n, 0, 4), m = digits(s, n, 5, 2), d = digits(s, n, 8, 2);
        if (y < TIME_YEAR_MIN || y > TIME_YEAR_MAX || m < 1 || m > 12 || d < 1 ||
            d > days_in_month(y, m))
            return -EINVAL;
        *out = time_from_utc(y, m, d, 0, 0, 0, 0);
        return 0;
    }
    int64_t t;
    if (time_parse_iso(s, n, NULL, &t) == n) {
        *out = t;
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0 || end[0] == '\0' || end[1] != '\0')
        return -EINVAL;
    /* ages take the units up to weeks; months and years are too vague here */
    int64_t unit = strchr("smhdw", *end) ? time_unit_seconds(*end) : 0;
    if (!unit)
        return -EINVAL;
    if (v > 4000000000LL / unit)
        return -EINVAL; /* more than a century: not an age kenchi can represent */
    *out = now_ns - (int64_t)v * unit * NS_PER_SEC;
    return 0;
}

void json_put_time(struct buf *b, int64_t t_ns)
{
    if (t_ns == TIME_NONE) {
        buf_puts(b, "null");
        return;
    }
    char t[32];
    time_format(t_ns, t);
    json_put_string(b, t, strlen(t));
}
