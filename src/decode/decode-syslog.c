/*
 * decode-syslog.c - the syslog envelope of text log lines.
 *
 * Accepts, per line, whichever header the line has:
 *   RFC 5424   "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG"
 *   RFC 3164   "[<PRI>]Mmm dd hh:mm:ss[.frac] [YYYY] [HOST] TAG[PID]: MSG"
 *   ISO time   "2024-03-01T10:00:00.123+01:00 HOST TAG[PID]: MSG" (rsyslog's
 *              file format) and "2024-03-01 10:00:00 TAG: MSG"
 *   TAI64N     "@4000000065e1a0c00a1b2c3d TAG: MSG" (daemontools multilog)
 * then hands MSG to the syslog application whose program name matches
 * (syslog_apps[] in registry.c). RFC 3164 has no year: it comes from
 * --year, else from the file's modification time, taking the previous year
 * for dates that would lie more than a day after it (December lines in a
 * file last written in January). Zone-less times are read in ctx->tz.
 */
#include <errno.h>
#include <string.h>

#include "decode/decode.h"

/* Position after a run of spaces. */
static size_t skip_sp(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "Mmm dd hh:mm:ss[.frac] [YYYY ]" or "Mmm dd YYYY hh:mm:ss". Returns bytes
 * consumed or 0. */
static size_t parse_bsd_time(struct decode_ctx *ctx, const char *s, size_t n, int64_t *out)
{
    if (n < 15)
        return 0;
    int mon = month_from_abbrev(s);
    if (!mon || s[3] != ' ')
        return 0;
    size_t i = 4;
    if (s[i] == ' ')
        i++; /* "Jan  5" */
    int day;
    if (i + 1 < n && s[i] >= '0' && s[i] <= '9' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        day = (s[i] - '0') * 10 + (s[i + 1] - '0');
        i += 2;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        day = s[i] - '0';
        i += 1;
    } else {
        return 0;
    }
    if (i >= n || s[i] != ' ')
        return 0;
    i++;
    int year = 0;
    /* "Mmm dd YYYY hh:mm:ss" (some appliances) */
    if (i + 5 < n && s[i + 4] == ' ' && s[i + 2] != ':') {
        int y1 = two_digits(s + i), y2 = two_digits(s + i + 2);
        if (y1 < 0 || y2 < 0)
            return 0;
        year = y1 * 100 + y2;
        if (year < TIME_YEAR_MIN || year > TIME_YEAR_MAX)
            return 0;
        i += 5;
    }
    if (i + 8 > n || s[i + 2] != ':' || s[i + 5] != ':')
        return 0;
    int h = two_digits(s + i), mi = two_digits(s + i + 3), se = two_digits(s + i + 6);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 || day < 1 || day > 31)
        return 0;
    if (se == 60)
        se = 59;
    i += 8;
    int64_t ns = 0;
    if (i < n && s[i] == '.') {
        size_t j = i + 1;
        int nd = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9') {
            if (nd < 9) {
                ns = ns * 10 + (s[j] - '0');
                nd++;
            }
            j++;
        }
        if (nd) {
            while (nd++ < 9)
                ns *= 10;
            i = j;
        }
    }
    /* "Mmm dd hh:mm:ss YYYY " (Cisco-style) */
    if (!year && i + 5 < n && s[i] == ' ' && s[i + 5] == ' ') {
        int y1 = two_digits(s + i + 1), y2 = two_digits(s + i + 3);
        if (y1 >= 19 && y1 <= 21 && y2 >= 0) {
            year = y1 * 100 + y2;
            i += 5;
        }
    }
    if (!year)
        year = ctx->year_override;
    if (year && day > days_in_month(year, mon))
        return 0;
    if (!year) {
        int64_t ref = ctx->ref_time_ns;
        year = time_year(ref);
        int64_t t = time_from_local(&ctx->tz, year, mon, day, h, mi, se, ns);
        if (t <= ref + 86400 * NS_PER_SEC) {
            if (day > days_in_month(year, mon))
                return 0;
            *out = t; /* the usual case: this year, computed once */
            return i;
        }
        year -= 1;
        if (day > days_in_month(year, mon))
            return 0;
    }
    *out = time_from_local(&ctx->tz, year, mon, day, h, mi, se, ns);
    return i;
}

/* "@4000000065e1a0c00a1b2c3d" (TAI64N label, 24 hex digits). */
static size_t parse_tai64n(const char *s, size_t n, int64_t *out)
{
    if (n < 25 || s[0] != '@')
        return 0;
    uint64_t secs = 0, nano = 0;
    for (int i = 0; i < 24; i++) {
        char c = s[1 + i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0)
            return 0;
        if (i < 16)
            secs = secs << 4 | (uint64_t)v;
        else
            nano = nano << 4 | (uint64_t)v;
    }
    if (secs < (1ULL << 62))
        return 0;
    /* TAI64 label 2^62 + TAI seconds; TAI is 10 s ahead of UTC at the epoch
     * and leap seconds since then are ignored (at most ~27 s off). */
    uint64_t tai_s = secs - (1ULL << 62);
    if (tai_s > 9200000000ULL)
        return 0; /* beyond 2261: not a time kenchi can represent */
    int64_t unix_s = (int64_t)tai_s - 10;
    *out = unix_s * NS_PER_SEC + (int64_t)(nano % 1000000000ULL);
    return 25;
}

static void add_pri(struct event *ev, int pri)
{
    static const char *const sev[] = {"emerg",   "alert",  "crit", "err",
                                      "warning", "notice", "info", "debug"};
    static const char *const fac[] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
        "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
    int f = pri >> 3, s = pri & 7;
    if (f < 24)
        event_add_str(ev, "facility", str_make(fac[f], strlen(fac[f])));
    event_add_str(ev, "severity", str_make(sev[s], strlen(sev[s])));
}

/* RFC 5424 structured data: "[id p="v" p2="v2"][id2 ...]" -> sd.id.p fields.
 * Returns bytes consumed (0 for "-"). */
static size_t parse_sd(struct event *ev, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == '[') {
        size_t id0 = ++i;
        while (i < n && s[i] != ' ' && s[i] != ']')
            i++;
        struct str id = str_make(s + id0, i - id0);
        while (i < n && s[i] == ' ') {
            i++;
            size_t k0 = i;
            while (i < n && s[i] != '=' && s[i] != ']' && s[i] != ' ')
                i++;
            struct str key = str_make(s + k0, i - k0);
            if (i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
                return i;
            i += 2;
            /* value with \" \\ \] escapes, unescaped into the arena */
            char *val = arena_alloc(ev->arena, n - i + 1);
            size_t vl = 0;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n &&
                    (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']'))
                    i++;
                val[vl++] = s[i++];
            }
            if (i >= n)
                return i;
            i++; /* closing quote */
            size_t kl = 3 + id.n + 1 + key.n;
            char *k = arena_alloc(ev->arena, kl + 1);
            memcpy(k, "sd.", 3);
            memcpy(k + 3, id.p, id.n);
            k[3 + id.n] = '.';
            memcpy(k + 4 + id.n, key.p, key.n);
            k[kl] = '\0';
            event_add(ev, str_make(k, kl), str_make(val, vl), VT_STRING);
        }
        if (i < n && s[i] == ']')
            i++;
    }
    return i;
}

static struct str token(const char *s, size_t n, size_t *i)
{
    size_t b = *i;
    while (*i < n && s[*i] != ' ')
        (*i)++;
    return str_make(s + b, *i - b);
}

static int decode_5424(struct decode_ctx *ctx, struct event *ev, const char *s, size_t n, size_t i,
                       struct str *program)
{
    /* s[i] is just after "<PRI>1 " */
    struct str ts = token(s, n, &i);
    if (!(ts.n == 1 && ts.p[0] == '-')) {
        int64_t t;
        if (time_parse_iso(ts.p, ts.n, &ctx->tz, &t) != ts.n)
            return -EINVAL;
        ev->ts_ns = t;
    }
    i = skip_sp(s, n, i);
    struct str host = token(s, n, &i);
    i = skip_sp(s, n, i);
    struct str app = token(s, n, &i);
    i = skip_sp(s, n, i);
    struct str procid = token(s, n, &i);
    i = skip_sp(s, n, i);
    struct str msgid = token(s, n, &i);
    i = skip_sp(s, n, i);
    if (!host.n || !app.n || !procid.n || !msgid.n)
        return -EINVAL;
    if (!str_eq(host, "-"))
        ev->core[CORE_HOST_NAME] = host;
    if (!str_eq(app, "-")) {
        event_add_str(ev, "program", app);
        *program = app;
    }
    if (!str_eq(procid, "-"))
        event_add(ev, STR_LIT("pid"), procid, VT_STRING);
    if (!str_eq(msgid, "-"))
        event_add_str(ev, "msgid", msgid);
    if (i < n && s[i] == '-')
        i++;
    else
        i += parse_sd(ev, s + i, n - i);
    if (i < n && s[i] == ' ')
        i++;
    if (i + 3 <= n && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBB &&
        (unsigned char)s[i + 2] == 0xBF)
        i += 3; /* BOM before a UTF-8 MSG */
    ev->message = str_make(s + i, n - i);
    return 0;
}

/* "[HOST] TAG[PID]: MSG" after a BSD or ISO timestamp. */
static void decode_tag(struct event *ev, const char *s, size_t n, size_t i, struct str *program)
{
    i = skip_sp(s, n, i);
    size_t t0 = i;
    struct str first = token(s, n, &i);
    bool first_is_tag = first.n && (first.p[first.n - 1] == ':' ||
                                    (memchr(first.p, '[', first.n) && first.p[first.n - 1] == ']'));
    if (!first_is_tag) {
        /* first token is the host; the tag follows */
        if (first.n)
            ev->core[CORE_HOST_NAME] = first;
        i = skip_sp(s, n, i);
        t0 = i;
        (void)token(s, n, &i);
    }
    /* s[t0..i) is a candidate tag: "prog[pid]:", "prog:", "prog[pid]" */
    struct str tag = str_make(s + t0, i - t0);
    size_t colon = tag.n && tag.p[tag.n - 1] == ':' ? tag.n - 1 : tag.n;
    const char *lb = memchr(tag.p, '[', colon);
    bool ok_tag = colon < tag.n || (lb && colon && tag.p[colon - 1] == ']');
    if (!ok_tag || colon == 0) {
        /* no tag: everything after the host is the message */
        ev->message = str_trim(str_make(s + t0, n - t0));
        return;
    }
    struct str prog = str_make(tag.p, lb ? (size_t)(lb - tag.p) : colon);
    if (lb == tag.p && colon >= 2 && tag.p[colon - 1] == ']') {
        /* "[sshd]:" - some relays put the whole tag in brackets */
        prog = str_make(tag.p + 1, colon - 2);
        lb = NULL;
    }
    if (prog.n) {
        event_add_str(ev, "program", prog);
        *program = prog;
    }
    if (lb) {
        const char *rb = memchr(lb, ']', (size_t)(tag.p + colon - lb));
        if (rb)
            event_add(ev, STR_LIT("pid"), str_make(lb + 1, (size_t)(rb - lb - 1)), VT_STRING);
    }
    i = skip_sp(s, n, i);
    ev->message = str_make(s + i, n - i);
}

/* Parse the envelope. Returns 0, or -EINVAL if the line has no header. */
static int envelope(struct decode_ctx *ctx, struct event *ev, struct str *program)
{
    const char *s = ev->raw.p;
    size_t n = ev->raw.n;
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    size_t i = 0;
    int pri = -1;
    if (n > 2 && s[0] == '<') {
        size_t j = 1;
        int v = 0;
        while (j < n && j < 5 && s[j] >= '0' && s[j] <= '9')
            v = v * 10 + (s[j++] - '0');
        if (j > 1 && j < n && s[j] == '>' && v <= 191) {
            pri = v;
            i = j + 1;
        }
    }
    if (pri >= 0 && i + 1 < n && s[i] >= '1' && s[i] <= '9' && s[i + 1] == ' ') {
        add_pri(ev, pri);
        return decode_5424(ctx, ev, s, n, i + 2, program);
    }
    int64_t t;
    size_t used = parse_bsd_time(ctx, s + i, n - i, &t);
    if (!used)
        used = time_parse_iso(s + i, n - i, &ctx->tz, &t);
    if (!used)
        used = parse_tai64n(s + i, n - i, &t);
    if (!used || (i + used < n && s[i + used] != ' '))
        return -EINVAL;
    if (pri >= 0)
        add_pri(ev, pri);
    ev->ts_ns = t;
    decode_tag(ev, s, n, i + used, program);
    return 0;
}

static int syslog_decode_line(struct decode_ctx *ctx, struct event *ev)
{
    struct str program = {0};
    const struct syslog_app *app = ctx->force_app;
    int rc = envelope(ctx, ev, &program);
    if (rc < 0) {
        if (!app)
            return rc;
        /* A forced application may read bare messages (no header). */
        ev->nfields = 0;
        ev->core[CORE_HOST_NAME] = (struct str){0};
        ev->message = ev->raw;
        while (ev->message.n && (ev->message.p[ev->message.n - 1] == '\n' ||
                                 ev->message.p[ev->message.n - 1] == '\r'))
            ev->message.n--;
    }
    ev->parsed = true;
    ev->format = "syslog";
    ev->ls = (struct logsource){"linux", "syslog", NULL};
    if (!app) {
        for (size_t k = 0; syslog_apps[k]; k++) {
            if (syslog_apps[k]->match(program)) {
                app = syslog_apps[k];
                break;
            }
        }
    }
    if (app) {
        /* The application names the event even when it does not know this
         * particular message: a Postfix line is a Postfix event. */
        uint32_t nf = ev->nfields;
        ev->format = app->name;
        if (app->decode(ctx, ev, program) != 0) {
            if (rc < 0)
                return -EINVAL; /* neither a header nor a message the app knows */
            ev->nfields = nf;   /* drop what the app added before giving up */
        }
    } else if (rc < 0) {
        return rc;
    }
    return 0;
}

const struct decoder decoder_syslog = {
    .name = "syslog",
    .description = "syslog text lines (RFC 3164, RFC 5424, ISO and TAI64N time stamps); "
                   "routes Postfix, Dovecot and sshd messages to their decoders",
    .decode_line = syslog_decode_line,
};
