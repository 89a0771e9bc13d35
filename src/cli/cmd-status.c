/*
 * cmd-status.c - `kenchi status`: a running daemon's health, for people.
 *
 * Reads the daemon's metrics page (GET http://HOST:PORT/metrics, libcurl)
 * and sums up the kenchi_* series that docs/metrics.md lists: how long it
 * has run, events per source (in, decoded, unparsed, dropped, lag), alerts
 * per level, the queue and the store, and the syslog listeners. Series it
 * does not know are ignored, so a newer daemon still reads. Exit status 3
 * when the daemon cannot be reached (or answers something else than its
 * metrics).
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "config/conf.h"
#include "daemon/http.h"
#include "daemon/prom-text.h"
#include "util/buf.h"

#define STATUS_MAX_BYTES (16u << 20)
#define STATUS_MAX_ROWS  256

static const char *const levels[] = {"critical", "high", "medium", "low", "informational"};
#define NLEVELS 5

struct src_row {
    char name[128];
    double in, decoded, unparsed, dropped, lag;
    bool has_lag;
};

struct lis_row {
    char name[128];
    double messages, open, paused, refused, frame_errors, tls_failures, truncated;
};

struct status {
    struct src_row src[STATUS_MAX_ROWS];
    size_t nsrc, src_left_out;
    struct lis_row lis[STATUS_MAX_ROWS];
    size_t nlis;
    double alerts[NLEVELS], alerts_other;
    double start, queue, queue_limit, store;
    bool has_start, has_queue, has_limit, has_store;
    bool store_full; /* kenchi_store_writable is 0 */
    size_t nkenchi;  /* kenchi_ samples seen */
};

static struct src_row *src_row(struct status *st, const struct prom_sample *s)
{
    char name[128];
    if (!prom_label(s, "source", name, sizeof(name)))
        snprintf(name, sizeof(name), "(none)");
    for (size_t i = 0; i < st->nsrc; i++)
        if (!strcmp(st->src[i].name, name))
            return &st->src[i];
    if (st->nsrc == STATUS_MAX_ROWS) {
        st->src_left_out++;
        return NULL;
    }
    struct src_row *r = &st->src[st->nsrc++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    return r;
}

static struct lis_row *lis_row(struct status *st, const struct prom_sample *s)
{
    char name[128];
    if (!prom_label(s, "source", name, sizeof(name)))
        snprintf(name, sizeof(name), "(none)");
    for (size_t i = 0; i < st->nlis; i++)
        if (!strcmp(st->lis[i].name, name))
            return &st->lis[i];
    if (st->nlis == STATUS_MAX_ROWS)
        return NULL;
    struct lis_row *r = &st->lis[st->nlis++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    return r;
}

/* A per-source series into the field at offset off of its row. */
struct src_series {
    const char *name;
    size_t off;
};
static const struct src_series src_series[] = {
    {"kenchi_events_in_total", offsetof(struct src_row, in)},
    {"kenchi_events_decoded_total", offsetof(struct src_row, decoded)},
    {"kenchi_events_unparsed_total", offsetof(struct src_row, unparsed)},
    {"kenchi_dropped_total", offsetof(struct src_row, dropped)}, /* summed over reasons */
    {"kenchi_lag_seconds", offsetof(struct src_row, lag)},
};
static const struct src_series lis_series[] = {
    {"kenchi_syslog_messages_total", offsetof(struct lis_row, messages)},
    {"kenchi_syslog_connections_open", offsetof(struct lis_row, open)},
    {"kenchi_syslog_connections_paused", offsetof(struct lis_row, paused)},
    {"kenchi_syslog_connections_refused_total", offsetof(struct lis_row, refused)},
    {"kenchi_syslog_frame_errors_total", offsetof(struct lis_row, frame_errors)},
    {"kenchi_syslog_tls_handshake_failures_total", offsetof(struct lis_row, tls_failures)},
    {"kenchi_syslog_truncated_total", offsetof(struct lis_row, truncated)},
};

static void on_sample(void *opaque, const struct prom_sample *s)
{
    struct status *st = opaque;
    if (s->name_len < 7 || memcmp(s->name, "kenchi_", 7))
        return;
    st->nkenchi++;
    double v = isfinite(s->value) ? s->value : 0;
    for (size_t i = 0; i < sizeof(src_series) / sizeof(src_series[0]); i++) {
        if (!prom_is(s, src_series[i].name))
            continue;
        struct src_row *r = src_row(st, s);
        if (r) {
            *(double *)((char *)r + src_series[i].off) += v;
            if (prom_is(s, "kenchi_lag_seconds"))
                r->has_lag = true;
        }
        return;
    }
    for (size_t i = 0; i < sizeof(lis_series) / sizeof(lis_series[0]); i++) {
        if (!prom_is(s, lis_series[i].name))
            continue;
        struct lis_row *r = lis_row(st, s);
        if (r)
            *(double *)((char *)r + lis_series[i].off) += v;
        return;
    }
    if (prom_is(s, "kenchi_alerts_total")) {
        char level[32];
        if (!prom_label(s, "level", level, sizeof(level)))
            level[0] = 0;
        for (size_t i = 0; i < NLEVELS; i++) {
            if (!strcmp(level, levels[i])) {
                st->alerts[i] += v;
                return;
            }
        }
        st->alerts_other += v;
    } else if (prom_is(s, "kenchi_start_time_seconds")) {
        st->start = v;
        st->has_start = true;
    } else if (prom_is(s, "kenchi_queue_bytes")) {
        st->queue += v;
        st->has_queue = true;
    } else if (prom_is(s, "kenchi_queue_limit_bytes")) {
        st->queue_limit += v;
        st->has_limit = true;
    } else if (prom_is(s, "kenchi_store_writable")) {
        st->store_full = v == 0;
    } else if (prom_is(s, "kenchi_store_bytes")) {
        st->store = v;
        st->has_store = true;
    }
}

struct fetch {
    struct buf body;
    bool too_big;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *opaque)
{
    struct fetch *f = opaque;
    size_t n = size * nmemb;
    if (f->body.len + n > STATUS_MAX_BYTES) {
        f->too_big = true;
        return 0;
    }
    buf_append(&f->body, p, n);
    return n;
}

static void put_bytes(FILE *out, double b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    if (u == 0)
        fprintf(out, "%.0f B", b);
    else
        fprintf(out, "%.1f %s", b, units[u]);
}

static void put_age(FILE *out, double secs)
{
    long long s = secs > 0 ? (long long)secs : 0;
    if (s >= 86400)
        fprintf(out, "%lldd %lldh", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        fprintf(out, "%lldh %lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        fprintf(out, "%lldm %llds", s / 60, s % 60);
    else
        fprintf(out, "%llds", s);
}

static void print_status(FILE *out, const char *where, const struct status *st)
{
    fprintf(out, "kenchi at %s\n", where);
    if (st->has_start) {
        time_t t = (time_t)st->start;
        struct tm tm;
        char when[40] = "?";
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(out, "  up since   %s (", when);
        put_age(out, difftime(time(NULL), t));
        fputs(")\n", out);
    }
    if (st->has_queue) {
        fputs("  queue      ", out);
        put_bytes(out, st->queue);
        if (st->has_limit && st->queue_limit > 0) {
            fputs(" of ", out);
            put_bytes(out, st->queue_limit);
            fprintf(out, " (%.0f%%)", 100 * st->queue / st->queue_limit);
        }
        fputc('\n', out);
    }
    if (st->has_store) {
        fputs("  store      ", out);
        put_bytes(out, st->store);
        fputs(st->store_full ? "  NOT WRITABLE (disk full): reading stopped\n" : "\n", out);
    }
    double total = st->alerts_other;
    for (size_t i = 0; i < NLEVELS; i++)
        total += st->alerts[i];
    fprintf(out, "  alerts     %.0f (", total);
    for (size_t i = 0; i < NLEVELS; i++)
        fprintf(out, "%s%s %.0f", i ? ", " : "", levels[i], st->alerts[i]);
    if (st->alerts_other > 0)
        fprintf(out, ", other %.0f", st->alerts_other);
    fputs(")\n", out);
    if (st->nsrc) {
        fprintf(out, "\n%-24s %12s %12s %12s %10s %9s\n", "source", "events in", "decoded",
                "unparsed", "dropped", "lag");
        for (size_t i = 0; i < st->nsrc; i++) {
            const struct src_row *r = &st->src[i];
            fprintf(out, "%-24s %12.0f %12.0f %12.0f %10.0f ", r->name, r->in, r->decoded,
                    r->unparsed, r->dropped);
            if (r->has_lag)
                fprintf(out, "%8.1fs\n", r->lag);
            else
                fprintf(out, "%9s\n", "-");
        }
        if (st->src_left_out)
            fprintf(out, "(%zu more series of sources not shown)\n", st->src_left_out);
    }
    if (st->nlis) {
        fprintf(out, "\n%-24s %12s %6s %7s %8s %9s %9s %9s\n", "syslog listener", "messages",
                "open", "paused", "refused", "truncated", "frame err", "TLS fail");
        for (size_t i = 0; i < st->nlis; i++) {
            const struct lis_row *r = &st->lis[i];
            fprintf(out, "%-24s %12.0f %6.0f %7.0f %8.0f %9.0f %9.0f %9.0f\n", r->name, r->messages,
                    r->open, r->paused, r->refused, r->truncated, r->frame_errors, r->tls_failures);
        }
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: kenchi status [--metrics HOST:PORT]\n\n"
            "Summarise a running `kenchi run`: uptime, events per source, alerts per level,\n"
            "queue, drops, lag, store size and syslog listeners, read from its metrics\n"
            "endpoint.\n\n"
            "  --metrics HOST:PORT  the daemon's metrics address (default 127.0.0.1:%d;\n"
            "                       the `metrics: listen:` setting of its configuration)\n"
            "  -h, --help           this help\n\n"
            "Exit status: 0 when the daemon answered, 3 when it cannot be reached.\n",
            METRICS_DEFAULT_PORT);
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"metrics", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *addr_arg = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            addr_arg = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kenchi status: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    struct conf_addr addr = {.host = "127.0.0.1", .port = METRICS_DEFAULT_PORT};
    if (addr_arg && conf_parse_addr(addr_arg, "127.0.0.1", &addr) < 0) {
        fprintf(stderr,
                "kenchi status: --metrics: '%s' is not an address (HOST:PORT, [IPv6]:PORT or "
                "PORT)\n",
                addr_arg);
        return EXIT_USAGE;
    }
    bool v6 = strchr(addr.host, ':') != NULL;
    char where[300], url[340];
    snprintf(where, sizeof(where), "%s%s%s:%u", v6 ? "[" : "", addr.host, v6 ? "]" : "", addr.port);
    snprintf(url, sizeof(url), "http://%s/metrics", where);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "kenchi status: cannot start libcurl\n");
        curl_global_cleanup();
        return EXIT_RUNTIME;
    }
    struct fetch f = {.too_big = false};
    buf_init(&f.body);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* a loopback address, never a proxy's */
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kenchi-status");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    int ret = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr,
                "kenchi status: cannot reach kenchi at %s: %s\n"
                "kenchi status: is `kenchi run` running, with its metrics endpoint on this "
                "address (--metrics HOST:PORT)?\n",
                url,
                f.too_big ? "the answer is larger than 16 MiB"
                : cerr[0] ? cerr
                          : "error");
        ret = EXIT_RUNTIME;
    } else if (code != 200) {
        fprintf(stderr, "kenchi status: %s answered HTTP %ld, not kenchi's metrics\n", url, code);
        ret = EXIT_RUNTIME;
    } else {
        struct status *st = calloc(1, sizeof(*st));
        if (!st) {
            buf_free(&f.body);
            return EXIT_RUNTIME;
        }
        size_t bad = prom_parse(f.body.data ? f.body.data : "", f.body.len, on_sample, st);
        if (st->nkenchi == 0) {
            fprintf(stderr, "kenchi status: %s has no kenchi_* series: not kenchi's metrics\n",
                    url);
            ret = EXIT_RUNTIME;
        } else {
            print_status(stdout, where, st);
            if (bad)
                fprintf(stderr, "kenchi status: %zu malformed line(s) in the metrics skipped\n",
                        bad);
        }
        free(st);
    }
    buf_free(&f.body);
    return ret;
}
