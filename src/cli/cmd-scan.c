/*
 * cmd-scan.c - `kenchi scan`: replay files through the whole pipeline
 * (decode -> detectors -> alerts -> store) as fast as possible, then report
 * what was read.
 *
 * Output: when anything can raise alerts (rules, --intel, baselines),
 * standard output carries the alerts only (JSON lines, or a table on a
 * terminal) and the read summary goes to standard error, so `kenchi scan
 * --output jsonl` is one alert per line. Without rules (--no-rules, or no
 * rules directory), without --intel and with --no-baselines the summary is
 * written to standard output.
 *
 * With --intel, indicators are loaded (intel-opts.c) and every event is
 * also looked up in them (detect/intel-detector.h): "intel" alerts join the
 * Sigma alerts in the same event-time order.
 *
 * Baselines (baseline/baseline.h) are on unless --no-baselines: their
 * settings come from the `baselines:` section of --config FILE (defaults
 * without it); with a store, the profiles it holds are loaded before the
 * run and the changed ones saved after it, with the facts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "baseline/baseline.h"
#include "cli/cli.h"
#include "config/config.h"
#include "detect/detector.h"
#include "detect/intel-detector.h"
#include "detect/sigma-corr.h"
#include "detect/sigma.h"
#include "intel/intel-set.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

static void usage(FILE *out)
{
    fputs("Usage: kenchi scan [OPTIONS] PATH...\n"
          "Run log files through kenchi's pipeline and report what was read: events per\n"
          "source and log source, unparsed records, time range. With Sigma rules (the\n"
          "repository's rules/ by default), alerts go to standard output and the summary\n"
          "to standard error.\n\n"
          "  -o, --output F     table (default on a terminal) or jsonl\n"
          "  -s, --store FILE   keep the events in the store FILE (default: " STORE_DEFAULT_PATH
          ");\n"
          "                     events already stored (same file, line and text) are not\n"
          "                     stored twice\n"
          "      --no-store     do not store the events\n"
          "      --no-stored-intel  do not match the indicators the store keeps (kenchi\n"
          "                     intel import); only --intel files\n"
          "      --no-rules     do not load any rules (no detection)\n"
          "      --config FILE  the baselines' settings: the `baselines:` section of FILE\n"
          "                     (docs/baselines.md); other sections are not read\n"
          "      --no-baselines do not learn profiles or raise anomaly alerts\n"
          "      --corr-max-groups N         live correlation groups kept (default 10000;\n"
          "                                  the least recently updated is evicted)\n"
          "      --corr-max-window-events N  events kept per group window (default 1000)\n"
          "      --corr-max-alert-events N   events listed in a correlation alert (default 20)\n",
          out);
    read_opts_help(out);
    rule_opts_help(out);
    intel_opts_help(out);
    fputs("\n  -h, --help         show this help\n", out);
}

static int count_batch(void *opaque, struct event *evs, size_t n)
{
    (void)opaque;
    (void)evs;
    (void)n;
    return 0;
}

/* What the store did, for the summaries; path NULL when not storing. */
struct store_summary {
    const char *path;
    struct store_stats st;
    int64_t bytes; /* file size after closing, or a negative errno */
};

static void summary_table(const struct pipeline_stats *st, const struct store_summary *ss,
                          double secs, FILE *out)
{
    char t0[32], t1[32];
    fprintf(out, "kenchi scan: %llu events from %llu files in %.2f s",
            (unsigned long long)st->events, (unsigned long long)st->files_read, secs);
    if (secs > 0 && st->events)
        fprintf(out, " (%.0f events/s)", (double)st->events / secs);
    fputc('\n', out);
    if (st->ts_min != TIME_NONE) {
        time_format(st->ts_min, t0);
        time_format(st->ts_max, t1);
        fprintf(out, "time range: %s .. %s\n", t0, t1);
    }
    fprintf(out, "unparsed: %llu   truncated: %llu   header lines: %llu   unreadable files: %llu\n",
            (unsigned long long)st->unparsed, (unsigned long long)st->truncated,
            (unsigned long long)st->meta_lines, (unsigned long long)st->files_failed);
    if (ss->path)
        fprintf(out, "stored: %llu new events (%llu already stored) in %s, %.1f MB\n",
                (unsigned long long)ss->st.events_stored, (unsigned long long)ss->st.events_dup,
                ss->path, ss->bytes > 0 ? (double)ss->bytes / 1e6 : 0.0);
    fputc('\n', out);
    fprintf(out, "%-12s %-10s %-22s %10s\n", "MODULE", "PRODUCT", "SERVICE", "EVENTS");
    for (size_t i = 0; i < st->nls; i++)
        fprintf(out, "%-12s %-10s %-22s %10llu\n", st->ls[i].module,
                *st->ls[i].product ? st->ls[i].product : "-",
                *st->ls[i].service ? st->ls[i].service : "-", (unsigned long long)st->ls[i].events);
    fprintf(out, "\n%-50s %-18s %10s %9s\n", "FILE", "FORMAT", "EVENTS", "UNPARSED");
    for (size_t i = 0; i < st->nfiles; i++) {
        const struct file_stats *f = &st->files[i];
        const char *path = f->path;
        size_t l = strlen(path);
        if (l > 50)
            path += l - 50;
        if (f->error && !f->events)
            fprintf(out, "%-50s %-18s %10s %9s\n", path, "unreadable", "-", "-");
        else
            fprintf(out, "%-50s %-18s %10llu %9llu\n", path, f->format ? f->format : "-",
                    (unsigned long long)f->events, (unsigned long long)f->unparsed);
    }
}

static void summary_json(const struct pipeline_stats *st, const struct store_summary *ss,
                         double secs, FILE *out)
{
    struct buf b;
    buf_init(&b);
    char t[32];
    buf_printf(&b,
               "{\"events\":%llu,\"files_read\":%llu,\"files_failed\":%llu,"
               "\"unparsed\":%llu,\"truncated\":%llu,\"meta_lines\":%llu,\"bytes\":%llu,"
               "\"seconds\":%.3f",
               (unsigned long long)st->events, (unsigned long long)st->files_read,
               (unsigned long long)st->files_failed, (unsigned long long)st->unparsed,
               (unsigned long long)st->truncated, (unsigned long long)st->meta_lines,
               (unsigned long long)st->bytes, secs);
    buf_puts(&b, ",\"first\":");
    if (st->ts_min != TIME_NONE) {
        time_format(st->ts_min, t);
        json_put_string(&b, t, strlen(t));
        time_format(st->ts_max, t);
        buf_puts(&b, ",\"last\":");
        json_put_string(&b, t, strlen(t));
    } else {
        buf_puts(&b, "null,\"last\":null");
    }
    buf_puts(&b, ",\"store\":");
    if (ss->path) {
        buf_puts(&b, "{\"path\":");
        json_put_string(&b, ss->path, strlen(ss->path));
        buf_printf(&b, ",\"stored\":%llu,\"duplicates\":%llu,\"bytes\":%lld}",
                   (unsigned long long)ss->st.events_stored, (unsigned long long)ss->st.events_dup,
                   (long long)(ss->bytes > 0 ? ss->bytes : 0));
    } else {
        buf_puts(&b, "null");
    }
    buf_puts(&b, ",\"logsources\":[");
    for (size_t i = 0; i < st->nls; i++) {
        buf_puts(&b, i ? ",{\"module\":" : "{\"module\":");
        json_put_string(&b, st->ls[i].module, strlen(st->ls[i].module));
        buf_puts(&b, ",\"product\":");
        json_put_string(&b, st->ls[i].product, strlen(st->ls[i].product));
        buf_puts(&b, ",\"service\":");
        json_put_string(&b, st->ls[i].service, strlen(st->ls[i].service));
        buf_printf(&b, ",\"events\":%llu}", (unsigned long long)st->ls[i].events);
    }
    buf_puts(&b, "],\"files\":[");
    for (size_t i = 0; i < st->nfiles; i++) {
        const struct file_stats *f = &st->files[i];
        buf_puts(&b, i ? ",{\"path\":" : "{\"path\":");
        json_put_string(&b, f->path, strlen(f->path));
        buf_puts(&b, ",\"format\":");
        if (f->format)
            json_put_string(&b, f->format, strlen(f->format));
        else
            buf_puts(&b, "null");
        buf_printf(&b, ",\"events\":%llu,\"unparsed\":%llu,\"truncated\":%llu,\"error\":",
                   (unsigned long long)f->events, (unsigned long long)f->unparsed,
                   (unsigned long long)f->truncated);
        if (f->error) {
            const char *e = strerror(-f->error);
            json_put_string(&b, e, strlen(e));
        } else {
            buf_puts(&b, "null");
        }
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}\n");
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
}

enum { OPT_NO_STORE = OPT_CLI_LAST, OPT_CONFIG, OPT_NO_BASELINES };

/* ---- learning a file once ----------------------------------------------------
 * What a scan into a store learnt of each file is kept in the store's state
 * ("baselines.learnt:<real path>" -> "<XXH64 of its first bytes> <their
 * number> <last line learnt>"), so that scanning the same file again (or
 * after lines were appended) does not teach the baselines its lines twice:
 * the first bytes must be the same for the file to be the same one. */
#define LEARNT_HEAD 4096 /* bytes of a file's start that identify it */

/* The hash of the first n bytes of path (n 0: up to LEARNT_HEAD; *n gets
 * how many were read). Returns false when it cannot be read. */
static bool file_head(const char *path, size_t *n, uint64_t *hash)
{
    char buf[LEARNT_HEAD];
    size_t want = *n ? *n : sizeof(buf);
    if (want > sizeof(buf))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t got = fread(buf, 1, want, f);
    fclose(f);
    if (*n && got != *n)
        return false;
    *n = got;
    *hash = XXH64(buf, got, 0);
    return got > 0;
}

static char *learnt_key(const char *path)
{
    char *real = realpath(path, NULL);
    char *key = NULL;
    if (real && asprintf(&key, "baselines.learnt:%s", real) < 0)
        key = NULL;
    free(real);
    return key;
}

static uint64_t learnt_lines(void *opaque, const char *path)
{
    struct store *s = opaque;
    char *key = learnt_key(path), *val = NULL;
    uint64_t lines = 0;
    unsigned long long h, n, l;
    if (key && store_state_get(s, key, &val) == 0 && val &&
        sscanf(val, "%llx %llu %llu", &h, &n, &l) == 3) {
        size_t head = (size_t)n;
        uint64_t hash;
        if (head && file_head(path, &head, &hash) && hash == h)
            lines = l;
    }
    free(key);
    free(val);
    return lines;
}

struct learnt_save {
    struct store *s;
    int rc;
};

static void save_learnt(void *opaque, const char *path, uint64_t line, uint64_t skipped)
{
    (void)skipped;
    struct learnt_save *ls = opaque;
    size_t head = 0;
    uint64_t hash;
    char *key = learnt_key(path);
    if (key && line && file_head(path, &head, &hash)) {
        char val[80];
        snprintf(val, sizeof(val), "%016llx %zu %llu", (unsigned long long)hash, head,
                 (unsigned long long)line);
        if (store_state_set(ls->s, key, val) < 0 && ls->rc == 0)
            ls->rc = -EIO;
    }
    free(key);
}

static void baseline_summary(const struct baseline *bl, bool json, bool first, FILE *out)
{
    struct baseline_stats bs;
    baseline_stats(bl, &bs);
    uint64_t ent = 0, bytes = bs.bytes;
    for (size_t i = 0; i < bs.nmodules; i++) {
        ent += bs.module[i].entities;
        bytes += bs.module[i].bytes;
    }
    if (json) {
        fprintf(out,
                "{\"baselines\":{\"events\":%llu,\"facts\":%llu,\"suppressed\":%llu,"
                "\"alerts\":%llu,\"profiles\":%llu,\"bytes\":%llu,\"profiles_loaded\":%llu,"
                "\"profiles_refused\":%llu,\"profiles_saved\":%llu,\"facts_saved\":%llu,"
                "\"learnt_before\":%llu,\"modules\":{",
                (unsigned long long)bs.events, (unsigned long long)bs.facts,
                (unsigned long long)bs.suppressed, (unsigned long long)bs.alerts,
                (unsigned long long)ent, (unsigned long long)bytes,
                (unsigned long long)bs.profiles_loaded, (unsigned long long)bs.profiles_refused,
                (unsigned long long)bs.profiles_saved, (unsigned long long)bs.facts_saved,
                (unsigned long long)bs.learnt_before);
        for (size_t i = 0; i < bs.nmodules; i++)
            fprintf(out, "%s\"%s\":{\"entities\":%llu,\"bytes\":%llu,\"facts\":%llu}", i ? "," : "",
                    bs.module[i].name, (unsigned long long)bs.module[i].entities,
                    (unsigned long long)bs.module[i].bytes, (unsigned long long)bs.module[i].facts);
        fputs("}}}\n", out);
        return;
    }
    fprintf(out,
            "%sbaselines: %llu profiles (%.1f MB), %llu facts (%llu suppressed), %llu anomaly "
            "alerts",
            first ? "\n" : "", (unsigned long long)ent, (double)bytes / 1e6,
            (unsigned long long)bs.facts, (unsigned long long)bs.suppressed,
            (unsigned long long)bs.alerts);
    if (bs.profiles_loaded || bs.profiles_refused || bs.profiles_saved)
        fprintf(out, "; store: %llu profiles loaded (%llu refused), %llu saved, %llu facts saved",
                (unsigned long long)bs.profiles_loaded, (unsigned long long)bs.profiles_refused,
                (unsigned long long)bs.profiles_saved, (unsigned long long)bs.facts_saved);
    fputc('\n', out);
    if (bs.learnt_before)
        fprintf(out,
                "  %llu events were learnt by an earlier scan into this store: not learnt again\n",
                (unsigned long long)bs.learnt_before);
    for (size_t i = 0; i < bs.nmodules; i++)
        fprintf(out, "  %-12s %llu entities, %.1f MB, %llu facts\n", bs.module[i].name,
                (unsigned long long)bs.module[i].entities, (double)bs.module[i].bytes / 1e6,
                (unsigned long long)bs.module[i].facts);
}

int cmd_scan(int argc, char **argv)
{
    static const struct option longopts[] = {
        READ_LONG_OPTS,
        RULE_LONG_OPTS,
        INTEL_LONG_OPTS,
        {"output", required_argument, NULL, 'o'},
        {"store", required_argument, NULL, 's'},
        {"no-store", no_argument, NULL, OPT_NO_STORE},
        {"corr-max-groups", required_argument, NULL, 0x200},
        {"corr-max-window-events", required_argument, NULL, 0x201},
        {"corr-max-alert-events", required_argument, NULL, 0x202},
        {"no-stored-intel", no_argument, NULL, 0x210},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"no-baselines", no_argument, NULL, OPT_NO_BASELINES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool no_stored_intel = false;
    struct read_opts ro = {0};
    struct rule_opts rules = {0};
    struct intel_opts intel;
    intel_opts_init(&intel);
    const char *output = NULL;
    const char *store_path = STORE_DEFAULT_PATH;
    bool no_store = false;
    const char *config_path = NULL;
    bool no_baselines = false;
    struct corr_opts co;
    corr_opts_default(&co);
    uint32_t *const corr_limit[] = {&co.max_groups, &co.max_window_events, &co.max_alert_events};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:s:h", longopts, NULL)) != -1) {
        int r = read_opts_handle(&ro, c, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return EXIT_USAGE;
        r = rule_opts_handle(&rules, c, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return EXIT_USAGE;
        r = intel_opts_handle(&intel, c, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return EXIT_USAGE;
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 's':
            store_path = optarg;
            break;
        case OPT_NO_STORE:
            no_store = true;
            break;
        case 0x210:
            no_stored_intel = true;
            break;
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_NO_BASELINES:
            no_baselines = true;
            break;
        case 0x200:
        case 0x201:
        case 0x202: {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || v == 0 || v > 100000000 || optarg[0] == '-') {
                static const char *const names[] = {"--corr-max-groups", "--corr-max-window-events",
                                                    "--corr-max-alert-events"};
                fprintf(stderr, "kenchi scan: %s needs a number from 1 to 100000000\n",
                        names[c - 0x200]);
                return EXIT_USAGE;
            }
            *corr_limit[c - 0x200] = (uint32_t)v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (output && strcmp(output, "table") && strcmp(output, "jsonl")) {
        fprintf(stderr, "kenchi scan: --output must be table or jsonl\n");
        return EXIT_USAGE;
    }
    bool json = output ? !strcmp(output, "jsonl") : !stdout_is_tty();
    if (optind >= argc) {
        fprintf(stderr, "kenchi scan: no PATH given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    struct pipeline_opts po;
    pipeline_opts_default(&po);
    int rc = read_opts_apply(&ro, &po);
    if (rc)
        return rc;
    struct bl_config blc;
    bl_config_default(&blc);
    if (config_path) {
        rc = config_load_baselines(config_path, stderr, &blc, NULL);
        if (rc) {
            if (rc > 0)
                fprintf(stderr, "kenchi scan: %s: %d problem%s\n", config_path, rc,
                        rc == 1 ? "" : "s");
            return EXIT_USAGE;
        }
    }
    struct baseline *bl = NULL;
    if (!no_baselines && blc.enabled) {
        char *err = NULL;
        bl = baseline_new(&blc, &err);
        if (!bl) {
            fprintf(stderr, "kenchi scan: baselines: %s\n", err ? err : "out of memory");
            free(err);
            bl_config_free(&blc);
            return EXIT_USAGE;
        }
    }
    bl_config_free(&blc);
    struct sigma_set *set = NULL;
    rc = rules_open(&rules, &set, "scan");
    if (rc) {
        baseline_free(bl);
        return rc;
    }
    struct intel_set *iset = NULL;
    struct intel_load_summary isum;
    rc = intel_open(&intel, &iset, "scan", stderr, &isum);
    if (rc) {
        sigma_set_free(set);
        baseline_free(bl);
        return rc;
    }
    /* the store first: the indicators it keeps join the --intel ones */
    struct store *store = NULL;
    struct store_summary ss = {.path = no_store ? NULL : store_path};
    if (ss.path) {
        rc = store_open(ss.path, NULL, &store);
        if (rc < 0) {
            fprintf(stderr, "kenchi scan: %s\n", store_errmsg(store));
            store_close(store);
            intel_set_free(iset);
            sigma_set_free(set);
            baseline_free(bl);
            return EXIT_RUNTIME;
        }
        if (!no_stored_intel) {
            rc = intel_load_store(store, &iset, "scan", stderr, &isum);
            if (rc) {
                store_close(store);
                intel_set_free(iset);
                sigma_set_free(set);
                baseline_free(bl);
                return rc;
            }
        }
        if (bl) {
            /* what earlier runs learnt; every fact of this run is kept */
            baseline_keep_facts(bl, true);
            baseline_set_learnt(bl, learnt_lines, store);
            rc = baseline_load(bl, store);
            if (rc < 0) {
                fprintf(stderr, "kenchi scan: %s\n", store_errmsg(store));
                store_close(store);
                intel_set_free(iset);
                sigma_set_free(set);
                baseline_free(bl);
                return EXIT_RUNTIME;
            }
            struct baseline_stats bs;
            baseline_stats(bl, &bs);
            if (bs.profiles_refused)
                fprintf(stderr,
                        "kenchi scan: %s: %llu baseline profiles could not be read (left "
                        "out; they are learnt again)\n",
                        ss.path, (unsigned long long)bs.profiles_refused);
        }
    }
    struct detector *det = NULL;
    struct intel_detector *idet = NULL;
    if (set)
        rules_report_problems(set, "scan", stderr);
    if (set || iset || bl) {
        det = detector_new_opts(set, &co);
        if (iset)
            idet = intel_detector_new(iset);
        struct alert_source src, bsrc;
        if (idet)
            src = intel_detector_source(idet);
        if (bl)
            bsrc = baseline_source(bl);
        if (!det || (iset && (!idet || detector_add_source(det, &src) < 0)) ||
            (bl && detector_add_source(det, &bsrc) < 0)) {
            detector_free(det);
            intel_detector_free(idet);
            intel_set_free(iset);
            sigma_set_free(set);
            baseline_free(bl);
            store_close(store);
            return EXIT_RUNTIME;
        }
    }
    struct pipeline *p = pipeline_new(&po);
    if (!p) {
        detector_free(det);
        intel_detector_free(idet);
        intel_set_free(iset);
        sigma_set_free(set);
        baseline_free(bl);
        store_close(store);
        return EXIT_RUNTIME;
    }
    struct event_sink counter = {"count", count_batch, NULL};
    pipeline_add_sink(p, &counter);
    if (det) {
        struct event_sink ds = detector_sink(det);
        pipeline_add_sink(p, &ds);
    }
    if (store) {
        struct event_sink sink = store_sink(store);
        pipeline_add_sink(p, &sink);
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = optind; i < argc && rc == 0; i++)
        rc = pipeline_run_path(p, argv[i]);
    if (rc == 0)
        rc = pipeline_flush(p);
    int store_rc = 0;
    if (store && bl && rc == 0) {
        /* the profiles this run changed, and its facts */
        store_rc = baseline_save(bl, store, false);
        struct learnt_save ls = {store, 0};
        if (store_rc == 0) {
            baseline_files(bl, save_learnt, &ls);
            store_rc = ls.rc;
        }
        if (store_rc < 0)
            fprintf(stderr, "kenchi scan: saving baselines: %s\n", store_errmsg(store));
    }
    if (store) {
        /* everything is committed before the summary speaks of it */
        int sync_rc = store_sync(store);
        store_rc = store_rc ? store_rc : sync_rc;
        store_get_stats(store, &ss.st);
        if (sync_rc < 0)
            fprintf(stderr, "kenchi scan: %s\n", store_errmsg(store));
        int close_rc = store_close(store);
        if (close_rc < 0 && store_rc == 0) {
            store_rc = close_rc;
            fprintf(stderr, "kenchi scan: %s: closing the store failed: %s\n", ss.path,
                    strerror(-close_rc));
        }
        ss.bytes = store_file_bytes(ss.path);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    const struct pipeline_stats *st = pipeline_stats(p);
    FILE *sum = stdout;
    if (det) {
        if (detector_write(det, stdout, json) < 0 && rc == 0)
            rc = -EIO;
        sum = stderr;
    }
    if (json)
        summary_json(st, &ss, secs, sum);
    else
        summary_table(st, &ss, secs, sum);
    if (set) {
        struct sigma_match_stats ms;
        detector_stats(det, &ms);
        struct sigma_counts sc;
        sigma_set_counts(set, &sc);
        if (json)
            fprintf(sum,
                    "{\"detection\":{\"rules\":%u,\"active\":%u,\"events\":%llu,"
                    "\"rule_evaluations\":%llu,\"alerts\":%llu,\"regex_limit_hits\":%llu}}\n",
                    sc.rules, sc.active, (unsigned long long)ms.events,
                    (unsigned long long)ms.rule_evals, (unsigned long long)ms.matches,
                    (unsigned long long)ms.re_errors);
        else
            fprintf(sum,
                    "\ndetection: %u rules (%u active), %llu rule evaluations (%.1f per event), "
                    "%llu alerts, %llu regex limit hits\n",
                    sc.rules, sc.active, (unsigned long long)ms.rule_evals,
                    ms.events ? (double)ms.rule_evals / (double)ms.events : 0.0,
                    (unsigned long long)ms.matches, (unsigned long long)ms.re_errors);
        struct corr_stats cs;
        detector_corr_stats(det, &cs);
        if (cs.correlations && json)
            fprintf(sum,
                    "{\"correlation\":{\"correlations\":%u,\"disabled\":%u,\"fired\":%llu,"
                    "\"groups_live\":%llu,\"groups_created\":%llu,\"groups_expired\":%llu,"
                    "\"groups_evicted\":%llu,\"late\":%llu,\"no_group\":%llu,"
                    "\"no_value\":%llu,\"no_time\":%llu,\"window_overflow\":%llu}}\n",
                    cs.correlations, cs.disabled, (unsigned long long)cs.fired,
                    (unsigned long long)cs.groups_live, (unsigned long long)cs.groups_created,
                    (unsigned long long)cs.groups_expired, (unsigned long long)cs.groups_evicted,
                    (unsigned long long)cs.late, (unsigned long long)cs.no_group,
                    (unsigned long long)cs.no_value, (unsigned long long)cs.no_time,
                    (unsigned long long)cs.window_overflow);
        else if (cs.correlations)
            fprintf(sum,
                    "correlation: %u correlations (%u disabled), %llu fired, %llu groups "
                    "(%llu expired, %llu evicted), events left out: %llu late, %llu without "
                    "group-by field, %llu without value, %llu without time, %llu over the "
                    "window cap\n",
                    cs.correlations, cs.disabled, (unsigned long long)cs.fired,
                    (unsigned long long)cs.groups_created, (unsigned long long)cs.groups_expired,
                    (unsigned long long)cs.groups_evicted, (unsigned long long)cs.late,
                    (unsigned long long)cs.no_group, (unsigned long long)cs.no_value,
                    (unsigned long long)cs.no_time, (unsigned long long)cs.window_overflow);
    }
    if (idet) {
        struct intel_detector_stats is;
        intel_detector_stats(idet, &is);
        if (json)
            fprintf(sum,
                    "{\"intel\":{\"indicators\":%llu,\"values\":%llu,\"files\":%llu,"
                    "\"skipped\":%llu,\"problems\":%llu,\"warning_listed\":%llu,\"bytes\":%zu,"
                    "\"load_seconds\":%.3f,\"alerts\":%llu,\"suppressed\":%llu,"
                    "\"outside_validity\":%llu}}\n",
                    (unsigned long long)isum.indicators, (unsigned long long)isum.values,
                    (unsigned long long)isum.files, (unsigned long long)isum.skipped,
                    (unsigned long long)isum.problems, (unsigned long long)isum.warned, isum.bytes,
                    isum.seconds, (unsigned long long)is.alerts, (unsigned long long)is.suppressed,
                    (unsigned long long)is.outside_window);
        else
            fprintf(sum,
                    "%sintel: %llu indicators, %llu alerts, %llu suppressed matches (warning "
                    "lists, not for alerting), %llu outside their validity\n",
                    set ? "" : "\n", (unsigned long long)isum.indicators,
                    (unsigned long long)is.alerts, (unsigned long long)is.suppressed,
                    (unsigned long long)is.outside_window);
    }
    if (bl)
        baseline_summary(bl, json, !set && !idet, sum);
    int status = rc < 0 || store_rc < 0 ? EXIT_RUNTIME : st->files_failed ? 1 : 0;
    pipeline_free(p);
    baseline_free(bl);
    detector_free(det);
    intel_detector_free(idet);
    intel_set_free(iset);
    sigma_set_free(set);
    return status;
}
