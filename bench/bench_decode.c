/*
 * bench_decode.c - decode throughput on one core, without the CLI.
 *
 *   bench_decode [--mode pipeline|decode] [--format F] [--repeat N] FILE
 *
 * pipeline (default): the whole read path of `kenchi scan` - input layer,
 *   framing, format detection, decoding, batching - into a sink that does
 *   nothing, so the figure is the cost of turning bytes into events.
 * decode: the file's lines are loaded into memory first and handed straight
 *   to the line decoder (syslog, or --format), one event at a time with the
 *   arena reset per 1024 lines as the pipeline does; this isolates the
 *   decoders from I/O and framing. Text files only.
 *
 * --repeat runs the same file N times (small files such as EVTX samples).
 * Prints one line of key=value pairs: records, seconds (wall), cpu_seconds,
 * records_per_s (by CPU time), mb_per_s, unparsed, vmhwm_kb (peak resident
 * memory of the process, from /proc/self/status).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "pipeline/pipeline.h"
#include "util/arena.h"
#include "util/timeconv.h"

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vmhwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static int nop_batch(void *opaque, struct event *evs, size_t n)
{
    (void)opaque;
    (void)evs;
    (void)n;
    return 0;
}

struct result {
    uint64_t records, unparsed, bytes;
};

static int run_pipeline(const char *path, const char *format, struct result *r)
{
    struct pipeline_opts o;
    pipeline_opts_default(&o);
    o.format = format;
    o.year = 2024;
    struct pipeline *p = pipeline_new(&o);
    if (!p)
        return -ENOMEM;
    struct event_sink sink = {"nop", nop_batch, NULL};
    pipeline_add_sink(p, &sink);
    int rc = pipeline_run_path(p, path);
    if (rc == 0)
        rc = pipeline_flush(p);
    const struct pipeline_stats *st = pipeline_stats(p);
    r->records += st->events;
    r->unparsed += st->unparsed;
    r->bytes += st->bytes;
    if (st->files_failed)
        rc = -EIO;
    pipeline_free(p);
    return rc;
}

/* Load path whole; returns the buffer (caller frees) or NULL. */
static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int run_decode(const char *text, size_t len, const struct decoder *d, struct result *r)
{
    struct arena a;
    arena_init(&a, 1024 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "bench.log", 0, 2024);
    struct event *evs = calloc(1024, sizeof(*evs));
    if (!evs)
        return -ENOMEM;
    size_t nb = 0;
    uint64_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        line++;
        if (n) {
            if (nb == 1024) {
                arena_reset(&a);
                nb = 0;
            }
            struct event *ev = &evs[nb++];
            event_init(ev, &a);
            ev->raw = str_make(text + pos, n);
            ev->line = line;
            ev->file = "bench.log";
            if (d->decode_line(&ctx, ev) < 0)
                r->unparsed++;
            event_assign_id(ev);
            r->records++;
            r->bytes += n;
        }
        pos += n + 1;
    }
    free(evs);
    decode_ctx_fini(&ctx);
    arena_free(&a);
    return 0;
}

static void usage(void)
{
    fputs("usage: bench_decode [--mode pipeline|decode] [--format F] [--repeat N] FILE\n", stderr);
}

int main(int argc, char **argv)
{
    const char *mode = "pipeline", *format = NULL, *path = NULL;
    long repeat = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            usage();
            return 2;
        }
    }
    if (!path || repeat < 1) {
        usage();
        return 2;
    }
    setenv("TZ", "UTC", 1);
    tzset();
    struct result r = {0};
    double w0, c0;
    int rc = 0;
    if (!strcmp(mode, "pipeline")) {
        w0 = now_s(CLOCK_MONOTONIC);
        c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        for (long k = 0; k < repeat && rc == 0; k++)
            rc = run_pipeline(path, format, &r);
    } else if (!strcmp(mode, "decode")) {
        const struct decoder *d = decoder_find(format ? format : "syslog");
        if (!d || !d->decode_line) {
            fprintf(stderr, "bench_decode: no line decoder '%s'\n", format ? format : "syslog");
            return 2;
        }
        size_t len;
        char *text = load(path, &len);
        if (!text) {
            fprintf(stderr, "bench_decode: cannot read %s\n", path);
            return 1;
        }
        w0 = now_s(CLOCK_MONOTONIC);
        c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        for (long k = 0; k < repeat; k++)
            rc = run_decode(text, len, d, &r);
        free(text);
    } else {
        usage();
        return 2;
    }
    double secs = now_s(CLOCK_MONOTONIC) - w0;
    double cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc < 0) {
        fprintf(stderr, "bench_decode: %s: %s\n", path, strerror(-rc));
        return 1;
    }
    printf("records=%llu seconds=%.3f cpu_seconds=%.3f records_per_s=%.0f mb_per_s=%.1f "
           "unparsed=%llu vmhwm_kb=%ld\n",
           (unsigned long long)r.records, secs, cpu, cpu > 0 ? (double)r.records / cpu : 0.0,
           cpu > 0 ? (double)r.bytes / cpu / 1e6 : 0.0, (unsigned long long)r.unparsed, vmhwm_kb());
    return 0;
}
