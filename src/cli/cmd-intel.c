/*
 * cmd-intel.c - `kenchi intel`: keep shared intelligence in the store.
 *
 *   intel import PATH|URL...   read feeds (STIX 2.1, MISP, Zeek intel, CSV,
 *                              lists), mark what warning lists cover, and
 *                              store each file as one import (a transaction)
 *   intel pull                 poll the configured TAXII 2.1 collections from
 *                              where the last pull stopped
 *   intel list                 the imports, with their counts
 *   intel remove ID...         forget imports
 *   intel export               kenchi's findings as a STIX 2.1 bundle
 *
 * Reading is intel/intel-read.h (the reader table), storing is the store's
 * intelligence tables (store/store.h); the verbs here only connect them and
 * report, in the words docs/intel.md uses.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hunt/hunt.h"
#include "intel/intel-fetch.h"
#include "intel/intel-read.h"
#include "intel/stix-export.h"
#include "intel/stix-bundle.h"
#include "intel/taxii.h"
#include "intel/warninglist.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define PROBLEMS_SHOWN   20
#define WARNINGLISTS_MAX 64
/* Indicators of a file stored at a time: an import's memory stays flat
 * whatever the size of the feed. */
#define IMPORT_CHUNK 50000

static void usage(FILE *out)
{
    fputs("Usage: kenchi intel import [OPTIONS] PATH|URL...\n"
          "       kenchi intel pull [OPTIONS] --config FILE\n"
          "       kenchi intel list [--store FILE] [--output table|json]\n"
          "       kenchi intel remove [--store FILE] ID...\n"
          "       kenchi intel export [OPTIONS]\n"
          "Keep shared threat intelligence in the store, with where it came from; scan and\n"
          "hunt match it (docs/intel.md).\n\n"
          "  -s, --store FILE        the store (default: " STORE_DEFAULT_PATH ")\n"
          "  -f, --format F          import: stix, misp, misp-feed, zeek, csv or list\n"
          "                          (default: recognised from the content)\n"
          "  -t, --type TYPE         import: the type of a plain list's values (ip, domain,\n"
          "                          url, email, md5, sha1, sha256, hash, filename,\n"
          "                          user-agent)\n"
          "      --warninglists PATH MISP warning lists: indicators they cover are kept but\n"
          "                          never alert (repeatable)\n"
          "      --hunt              import, pull: hunt the new indicators in the store at once\n"
          "  -c, --config FILE       pull: the intelligence configuration (its taxii: sources)\n"
          "      --source NAME       pull: only this source (default: all)\n"
          "  -o, --output F          list: table (default on a terminal) or json\n"
          "  -h, --help              show this help\n\n"
          "Exit status: 0 success, 1 some input had problems (reported; the rest was\n"
          "imported), 2 usage error, 3 the store or a source could not be used.\n",
          out);
}

/* ---- shared --------------------------------------------------------------- */

static const char *g_verb = "intel";
static const char *g_store_path = STORE_DEFAULT_PATH;

static int open_store(const char *path, bool read_only, struct store **out)
{
    struct store_opts so;
    store_opts_default(&so);
    so.read_only = read_only;
    int rc = store_open(path, &so, out);
    if (rc < 0) {
        fprintf(stderr, "kenchi %s: %s\n", g_verb, store_errmsg(*out));
        store_close(*out);
        *out = NULL;
        return EXIT_RUNTIME;
    }
    return 0;
}

static int close_store(struct store *s, int status)
{
    if (!s)
        return status;
    int rc = store_close(s);
    if (rc < 0 && status != EXIT_RUNTIME) {
        fprintf(stderr, "kenchi %s: closing the store: %s\n", g_verb, strerror(-rc));
        return EXIT_RUNTIME;
    }
    return status;
}

static void put_count(FILE *f, const char *what, uint64_t n)
{
    fprintf(f, ", %llu %s", (unsigned long long)n, what);
}

/* ---- import --------------------------------------------------------------- */

/* What one file gave, over the chunks of a streamed import. */
struct file_tally {
    uint64_t niocs, by_type[IOC__COUNT], not_detect, warned, problems;
    struct warned {
        const char *name; /* the list's name, owned by the warning lists */
        uint64_t n;
    } w[16];
    size_t nw;
    uint64_t other;
};

struct import_ctx {
    struct store *store;
    struct warninglists *wl;
    const struct intel_read_opts *ro;
    const char *path;             /* what is being read */
    struct store_intel_stream *x; /* the import in progress (on the writer) */
    bool hunt, ran;
    uint64_t problems_shown, problems, files, imported, failed;
    int64_t ids[1024];
    size_t nids;
    const char *url, *tmp;   /* importing a URL: fetched into tmp */
    bool feed;               /* ... a MISP feed, into the directory tmp */
    struct file_tally t;     /* the file being read */
    char failed_source[512]; /* the source a store error stopped */
    int error;               /* a store error: stop */
};

static void report_problems(struct import_ctx *ic, const struct ioc_batch *b)
{
    for (size_t i = 0; i < b->nproblems; i++) {
        if (ic->problems_shown++ < PROBLEMS_SHOWN)
            fprintf(stderr, "kenchi %s: %s: %s\n", g_verb, b->problems[i].where,
                    b->problems[i].why);
    }
    ic->problems += b->nproblems + b->nproblems_dropped;
    if (b->nproblems_dropped && ic->problems_shown < PROBLEMS_SHOWN)
        fprintf(stderr, "kenchi %s: %s: %zu more problems (not kept)\n", g_verb, b->source,
                b->nproblems_dropped);
}

/* Count what b holds into t. */
static void tally(struct file_tally *t, const struct ioc_batch *b)
{
    t->niocs += b->niocs;
    t->problems += b->nproblems + b->nproblems_dropped;
    for (size_t i = 0; i < b->niocs; i++) {
        t->by_type[b->iocs[i].type]++;
        t->not_detect += !b->iocs[i].detect;
        const char *name = b->iocs[i].warning;
        if (!name)
            continue;
        t->warned++;
        size_t k = 0;
        while (k < t->nw && strcmp(t->w[k].name, name))
            k++;
        if (k < t->nw)
            t->w[k].n++;
        else if (t->nw < 16)
            t->w[t->nw++] = (struct warned){name, 1};
        else
            t->other++;
    }
}

/* How many indicators each warning list covers, most first. */
static void report_warned(struct file_tally *t)
{
    struct warned *w = t->w;
    size_t nw = t->nw;
    for (size_t i = 0; i < nw; i++)
        for (size_t j = i + 1; j < nw; j++)
            if (w[j].n > w[i].n) {
                struct warned x = w[i];
                w[i] = w[j];
                w[j] = x;
            }
    for (size_t i = 0; i < nw; i++)
        printf("    suppressed %llu: on the warning list \"%s\"\n", (unsigned long long)w[i].n,
               w[i].name);
    if (t->other)
        printf("    suppressed %llu: on other warning lists\n", (unsigned long long)t->other);
}

/* Provenance is the URL, not the temporary file it was fetched into. */
static void name_by_url(struct import_ctx *ic, struct ioc_batch *b)
{
    if (!ic->url)
        return;
    if (b->source && strstr(b->source, "kenchi-feed-"))
        b->source = ioc_batch_strdup(b, ic->url);
    for (uint32_t i = 0; i < b->nmetas; i++)
        if (b->metas[i].feed && strstr(b->metas[i].feed, "kenchi-feed-"))
            b->metas[i].feed = ioc_batch_strdup(b, ic->url);
    /* a fetched feed's files: named by their URL */
    size_t tl = ic->tmp ? strlen(ic->tmp) : 0;
    for (size_t i = 0; tl && i < b->nproblems; i++) {
        const char *w = b->problems[i].where;
        if (!w || strncmp(w, ic->tmp, tl))
            continue;
        const char *rest = w + tl;
        /* a feed's files are beside its manifest, under its URL */
        while (ic->feed && *rest == '/')
            rest++;
        char *nw = NULL;
        if (asprintf(&nw, "%s%s", ic->url, rest) < 0)
            abort();
        b->problems[i].where = ioc_batch_strdup(b, nw);
        free(nw);
    }
}

/* An event of a MISP feed the fetch could not get. */
static void on_fetch_problem(void *opaque, const char *where, const char *why)
{
    struct import_ctx *ic = opaque;
    if (ic->problems_shown++ < PROBLEMS_SHOWN)
        fprintf(stderr, "kenchi %s: %s: %s\n", g_verb, where, why);
    ic->problems++;
}

static void store_failed(struct import_ctx *ic, const struct ioc_batch *b, int r)
{
    ic->error = r;
    snprintf(ic->failed_source, sizeof(ic->failed_source), "%s", b->source ? b->source : "");
}

/* A part of a long file: stored at once in the file's import. */
static int on_import_chunk(void *opaque, struct ioc_batch *b)
{
    struct import_ctx *ic = opaque;
    if (ic->error)
        return ic->error;
    name_by_url(ic, b);
    report_problems(ic, b);
    if (ic->wl)
        warninglist_apply(ic->wl, b);
    tally(&ic->t, b);
    int r = store_intel_stream_add(ic->x, b);
    if (r < 0)
        store_failed(ic, b, r);
    return r;
}

/* The end of a file: the rest of it, and the import committed. */
static int on_import_batch(void *opaque, struct ioc_batch *b, int rc)
{
    struct import_ctx *ic = opaque;
    if (ic->error) /* a chunk failed to store: the import is rolled back */
        return ic->error;
    ic->files++;
    name_by_url(ic, b);
    report_problems(ic, b);
    if (rc < 0 && b->niocs == 0 && ic->t.niocs == 0) {
        store_intel_stream_cancel(ic->x);
        memset(&ic->t, 0, sizeof(ic->t));
        ic->failed++;
        fprintf(stderr, "kenchi %s: %s: nothing imported\n", g_verb, b->source);
        return 0;
    }
    if (ic->wl)
        warninglist_apply(ic->wl, b);
    tally(&ic->t, b);
    struct store_intel_import imp;
    int64_t id = 0;
    int r = store_intel_stream_end(ic->x, b, &id, &imp);
    if (r < 0) {
        store_failed(ic, b, r);
        return r;
    }
    struct file_tally *t = &ic->t;
    ic->imported += t->niocs;
    if (ic->nids < sizeof(ic->ids) / sizeof(ic->ids[0]))
        ic->ids[ic->nids++] = id;
    printf("import #%lld  %s (%s): %llu indicators", (long long)id, b->source, b->format,
           (unsigned long long)t->niocs);
    put_count(stdout, "new", imp.added);
    put_count(stdout, "already known", imp.updated);
    if (imp.removed)
        put_count(stdout, "withdrawn", imp.removed);
    if (t->warned)
        put_count(stdout, "on warning lists", t->warned);
    if (t->not_detect)
        put_count(stdout, "for context only", t->not_detect);
    if (t->problems)
        put_count(stdout, "problems", t->problems);
    fputs("\n   ", stdout);
    for (int k = 0; k < IOC__COUNT; k++)
        if (t->by_type[k])
            printf(" %s %llu", ioc_type_name((enum ioc_type)k), (unsigned long long)t->by_type[k]);
    putchar('\n');
    if (t->warned)
        report_warned(t);
    memset(t, 0, sizeof(*t));
    return 0;
}

/* Runs on the store's writer thread: read ic->path, one import per file. */
static int import_path(void *opaque, struct store_intel_stream *x)
{
    struct import_ctx *ic = opaque;
    ic->x = x;
    ic->ran = true;
    memset(&ic->t, 0, sizeof(ic->t));
    int rc = intel_read_tree(ic->path, ic->ro, on_import_batch, ic);
    ic->x = NULL;
    return rc;
}

static int run_hunt_after(struct store *s, const int64_t *ids, size_t n);

static int do_import(int argc, char **argv, const char *store_path, const char *format, int type,
                     const char *const *wls, int nwl, bool hunt)
{
    if (argc <= 0) {
        fprintf(stderr, "kenchi intel import: name at least one file, directory or URL\n");
        return EXIT_USAGE;
    }
    struct import_ctx ic = {.hunt = hunt};
    if (nwl) {
        ic.wl = warninglists_new(NULL);
        for (int i = 0; i < nwl; i++) {
            int rc = warninglists_load(ic.wl, wls[i]);
            if (rc < 0) {
                fprintf(stderr, "kenchi intel import: --warninglists %s: %s\n", wls[i],
                        strerror(-rc));
                warninglists_free(ic.wl);
                return EXIT_USAGE;
            }
        }
    }
    int status = open_store(store_path, false, &ic.store);
    if (status) {
        warninglists_free(ic.wl);
        return status;
    }
    struct intel_read_opts ro;
    intel_read_opts_default(&ro);
    ro.format = format;
    ro.type = type;
    ro.chunk_fn = on_import_chunk;
    ro.chunk_opaque = &ic;
    ro.chunk = IMPORT_CHUNK;
    ic.ro = &ro;
    for (int i = 0; i < argc && !ic.error; i++) {
        char *tmp = NULL, feed_url[2048];
        bool feed = false;
        const char *path = argv[i];
        if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8)) {
            char err[640];
            feed = intel_fetch_is_feed_url(path, format);
            if (feed) {
                /* a feed is known by its directory's URL, however it was
                 * named (the directory, its manifest.json, or --format
                 * misp-feed and the directory without its '/') */
                size_t ul = strcspn(path, "?#");
                static const char man[] = "manifest.json";
                bool named_man = ul >= sizeof(man) - 1 &&
                                 !strncasecmp(path + ul - (sizeof(man) - 1), man, sizeof(man) - 1);
                if (named_man)
                    ul -= sizeof(man) - 1;
                snprintf(feed_url, sizeof(feed_url), "%.*s%s", (int)ul, path,
                         ul && path[ul - 1] != '/' ? "/" : "");
            }
            int fr = feed ? intel_fetch_misp_feed(feed_url, &tmp, on_fetch_problem, &ic, err,
                                                  sizeof(err))
                          : intel_fetch_url(path, &tmp, err, sizeof(err));
            if (fr < 0) {
                fprintf(stderr, "kenchi intel import: %s: %s\n", path, err);
                ic.failed++;
                continue;
            }
            path = tmp;
            ic.url = argv[i];
            if (feed)
                ic.url = feed_url;
            ic.tmp = tmp;
            ic.feed = feed;
        }
        ic.path = path;
        ic.ran = false;
        int rc = store_intel_import_stream(ic.store, import_path, &ic);
        if (ic.error) {
            fprintf(stderr, "kenchi %s: %s: not imported: %s\n", g_verb, ic.failed_source,
                    store_errmsg(ic.store));
        } else if (rc < 0 && !ic.ran) { /* the store could not start the import */
            fprintf(stderr, "kenchi %s: %s\n", g_verb, store_errmsg(ic.store));
            ic.error = rc;
        } else if (rc < 0) {
            fprintf(stderr, "kenchi intel import: %s: %s\n", argv[i], strerror(-rc));
            ic.failed++;
        }
        ic.url = ic.tmp = NULL;
        ic.feed = false;
        if (tmp) {
            if (feed)
                intel_fetch_cleanup(tmp);
            else
                unlink(tmp);
            free(tmp);
        }
    }
    if (ic.problems > ic.problems_shown)
        fprintf(stderr, "kenchi intel import: %llu more problems not shown\n",
                (unsigned long long)(ic.problems - ic.problems_shown));
    if (ic.error)
        status = EXIT_RUNTIME;
    else if (ic.failed || ic.problems)
        status = 1;
    if (!ic.error && hunt && ic.nids) {
        int hs = run_hunt_after(ic.store, ic.ids, ic.nids);
        if (hs == EXIT_RUNTIME)
            status = hs;
    }
    warninglists_free(ic.wl);
    return close_store(ic.store, status);
}

static int run_hunt_after(struct store *s, const int64_t *ids, size_t n)
{
    (void)s;
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        char idtext[32];
        snprintf(idtext, sizeof(idtext), "%lld", (long long)ids[i]);
        char *hargv[] = {"hunt", "--store", (char *)g_store_path, "--import", idtext, NULL};
        printf("\nhunt of import #%s:\n", idtext);
        fflush(stdout);
        int rc = cmd_hunt(5, hargv);
        if (rc == EXIT_RUNTIME || rc == EXIT_USAGE)
            status = EXIT_RUNTIME;
    }
    return status;
}

/* ---- list, remove ----------------------------------------------------------- */

static int on_import_row(void *opaque, const struct store_intel_import *imp)
{
    bool json = *(bool *)opaque;
    char t[32];
    time_format(imp->time_ns, t);
    if (json) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "{\"id\":%lld,\"time\":\"%s\",\"source\":", (long long)imp->id, t);
        json_put_string(&b, imp->source ? imp->source : "", imp->source ? strlen(imp->source) : 0);
        buf_puts(&b, ",\"format\":");
        json_put_string(&b, imp->format ? imp->format : "", imp->format ? strlen(imp->format) : 0);
        buf_printf(&b,
                   ",\"indicators\":%llu,\"added\":%llu,\"updated\":%llu,\"removed\":%llu,"
                   "\"warned\":%llu,\"problems\":%llu}\n",
                   (unsigned long long)imp->indicators, (unsigned long long)imp->added,
                   (unsigned long long)imp->updated, (unsigned long long)imp->removed,
                   (unsigned long long)imp->warned, (unsigned long long)imp->problems);
        fwrite(b.data, 1, b.len, stdout);
        buf_free(&b);
    } else {
        t[19] = '\0';
        printf("%6lld  %-19s  %-9s  %10llu  %8llu  %8llu  %8llu  %s\n", (long long)imp->id, t,
               imp->format ? imp->format : "-", (unsigned long long)imp->indicators,
               (unsigned long long)imp->added, (unsigned long long)imp->warned,
               (unsigned long long)imp->problems, imp->source ? imp->source : "-");
    }
    return 0;
}

static int do_list(const char *store_path, const char *output)
{
    bool json = output ? !strcmp(output, "json") || !strcmp(output, "jsonl") : !stdout_is_tty();
    if (output && !json && strcmp(output, "table")) {
        fprintf(stderr, "kenchi intel list: --output must be table or json\n");
        return EXIT_USAGE;
    }
    struct store *s;
    int status = open_store(store_path, true, &s);
    if (status)
        return status;
    if (!json)
        printf("%6s  %-19s  %-9s  %10s  %8s  %8s  %8s  %s\n", "IMPORT", "TIME (UTC)", "FORMAT",
               "INDICATORS", "NEW", "WARNED", "PROBLEMS", "SOURCE");
    int rc = store_intel_imports(s, on_import_row, &json);
    if (rc < 0) {
        fprintf(stderr, "kenchi intel list: %s\n", store_errmsg(s));
        status = EXIT_RUNTIME;
    } else if (!json) {
        int64_t n = store_intel_count(s);
        if (n >= 0)
            printf("%lld indicators in the store\n", (long long)n);
    }
    return close_store(s, status);
}

static int do_remove(int argc, char **argv, const char *store_path)
{
    if (argc <= 0) {
        fprintf(stderr, "kenchi intel remove: name the imports to remove (kenchi intel list)\n");
        return EXIT_USAGE;
    }
    struct store *s;
    int status = open_store(store_path, false, &s);
    if (status)
        return status;
    for (int i = 0; i < argc; i++) {
        char *end;
        long long id = strtoll(argv[i], &end, 10);
        if (*end || id <= 0) {
            fprintf(stderr, "kenchi intel remove: '%s' is not an import number\n", argv[i]);
            status = EXIT_USAGE;
            continue;
        }
        int rc = store_intel_remove(s, id);
        if (rc == -ENOENT) {
            fprintf(stderr, "kenchi intel remove: there is no import #%lld\n", id);
            status = status ? status : 1;
        } else if (rc < 0) {
            fprintf(stderr, "kenchi intel remove: #%lld: %s\n", id, store_errmsg(s));
            status = EXIT_RUNTIME;
            break;
        } else {
            printf("removed import #%lld\n", id);
        }
    }
    return close_store(s, status);
}

/* ---- pull ------------------------------------------------------------------ */

struct pull_ctx {
    struct import_ctx *ic;
    const char *source;
    uint64_t pages, indicators;
    char why[256];
};

struct page_job {
    struct import_ctx *ic;
    struct ioc_batch *b;
    int rc;
};

/* Runs on the store's writer thread: one page, one import. */
static int import_page(void *opaque, struct store_intel_stream *x)
{
    struct page_job *pj = opaque;
    pj->ic->x = x;
    int r = on_import_batch(pj->ic, pj->b, pj->rc);
    pj->ic->x = NULL;
    return r;
}

static int on_objects(void *opaque, const char *json, size_t n, const char *url)
{
    struct pull_ctx *pc = opaque;
    struct ioc_batch b;
    char where[512];
    snprintf(where, sizeof(where), "taxii:%s", url);
    ioc_batch_init(&b, where, "stix");
    int rc = stix_objects_read(json, n, where, &b);
    pc->pages++;
    pc->indicators += b.niocs;
    struct page_job pj = {pc->ic, &b, rc};
    int r = store_intel_import_stream(pc->ic->store, import_page, &pj);
    if (r < 0) {
        if (!pc->ic->error)
            store_failed(pc->ic, &b, r);
        fprintf(stderr, "kenchi %s: %s: not imported: %s\n", g_verb, pc->ic->failed_source,
                store_errmsg(pc->ic->store));
    }
    ioc_batch_free(&b);
    if (r < 0) {
        snprintf(pc->why, sizeof(pc->why), "the store refused the page: %s", strerror(-r));
        return r;
    }
    return 0;
}

static int do_pull(const char *store_path, const char *config, const char *only,
                   const char *const *wls, int nwl, bool hunt)
{
    if (!config) {
        fprintf(stderr, "kenchi intel pull: --config FILE names the TAXII sources\n");
        return EXIT_USAGE;
    }
    struct taxii_config cfg;
    char err[512];
    if (taxii_config_load(config, &cfg, stderr, err, sizeof(err)) < 0) {
        fprintf(stderr, "kenchi intel pull: %s\n", err);
        return EXIT_USAGE;
    }
    if (only && !taxii_config_find(&cfg, only)) {
        fprintf(stderr, "kenchi intel pull: %s names no source '%s'\n", config, only);
        taxii_config_free(&cfg);
        return EXIT_USAGE;
    }
    if (!cfg.n) {
        fprintf(stderr, "kenchi intel pull: %s names no TAXII source\n", config);
        taxii_config_free(&cfg);
        return EXIT_USAGE;
    }
    struct import_ctx ic = {.hunt = hunt};
    if (nwl) {
        ic.wl = warninglists_new(NULL);
        for (int i = 0; i < nwl; i++)
            if (warninglists_load(ic.wl, wls[i]) < 0) {
                fprintf(stderr, "kenchi intel pull: --warninglists %s: cannot read\n", wls[i]);
                warninglists_free(ic.wl);
                taxii_config_free(&cfg);
                return EXIT_USAGE;
            }
    }
    int status = open_store(store_path, false, &ic.store);
    if (status) {
        warninglists_free(ic.wl);
        taxii_config_free(&cfg);
        return status;
    }
    for (size_t i = 0; i < cfg.n && !ic.error; i++) {
        const struct taxii_source *src = &cfg.sources[i];
        if (only && strcmp(src->name, only))
            continue;
        char key[512];
        snprintf(key, sizeof(key), "taxii:%s", src->name);
        char *cursor = NULL;
        int rc = store_state_get(ic.store, key, &cursor);
        if (rc < 0 && rc != -ENOENT) {
            fprintf(stderr, "kenchi intel pull: %s: %s\n", src->name, store_errmsg(ic.store));
            status = EXIT_RUNTIME;
            break;
        }
        struct pull_ctx pc = {.ic = &ic, .source = src->name};
        char *next = NULL;
        rc = taxii_pull(src, cursor, on_objects, &pc, &next, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "kenchi intel pull: %s: %s\n", src->name, pc.why[0] ? pc.why : err);
            status = ic.error ? EXIT_RUNTIME : 1;
        } else if (err[0]) {
            fprintf(stderr, "kenchi intel pull: %s: %s\n", src->name, err);
        }
        /* the pages handed over are committed: the cursor may move on */
        if (next && (!cursor || strcmp(next, cursor)) && !ic.error) {
            int r = store_state_set(ic.store, key, next);
            if (r < 0) {
                fprintf(stderr, "kenchi intel pull: %s: cannot keep the cursor: %s\n", src->name,
                        store_errmsg(ic.store));
                status = EXIT_RUNTIME;
            }
        }
        printf("%s: %llu pages, %llu indicators%s%s\n", src->name, (unsigned long long)pc.pages,
               (unsigned long long)pc.indicators, next ? "; next pull from " : "",
               next ? next : "");
        free(next);
        free(cursor);
    }
    if (!ic.error && hunt && ic.nids)
        run_hunt_after(ic.store, ic.ids, ic.nids);
    warninglists_free(ic.wl);
    taxii_config_free(&cfg);
    return close_store(ic.store, status);
}

/* ---- export ---------------------------------------------------------------- */

#define DOMAINS_MAX 64

struct export_opts {
    const char *tlp, *identity, *identity_class, *out;
    const char *alerts[64];
    int nalerts;
    const char *domains[DOMAINS_MAX + 1];
    int ndomains;
    int64_t since_ns, until_ns;
    bool no_sightings;
};

static int add_alert_file(struct stix_export *x, const char *path, uint64_t *lines)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "kenchi intel export: --alerts %s: %s\n", path, strerror(errno));
        return -errno;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t no = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        no++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (!n)
            continue;
        if (stix_export_add_alert(x, line, (size_t)n) < 0 && bad++ < 5)
            fprintf(stderr, "kenchi intel export: %s:%llu: not an alert of kenchi's\n", path,
                    (unsigned long long)no);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    *lines += no;
    return 0;
}

static int do_export(const char *store_path, const struct export_opts *eo)
{
    struct stix_export_opts so;
    memset(&so, 0, sizeof(so));
    so.identity_name = eo->identity;
    so.identity_class = eo->identity_class;
    so.created = TIME_NONE;
    so.tlp = TLP_AMBER;
    if (eo->tlp) {
        int t = tlp_by_name(eo->tlp);
        if (t < 0) {
            fprintf(stderr,
                    "kenchi intel export: --tlp: '%s' is not a TLP level (clear, green, amber, "
                    "amber+strict, red)\n",
                    eo->tlp);
            return EXIT_USAGE;
        }
        so.tlp = (enum tlp)t;
    }
    so.internal_domains = eo->ndomains ? eo->domains : NULL;
    struct stix_export *x = stix_export_new(&so);
    if (!x)
        return EXIT_RUNTIME;
    int status = 0;
    uint64_t sighted = 0, alert_lines = 0;
    if (!eo->no_sightings) {
        struct store *s;
        status = open_store(store_path, true, &s);
        if (status) {
            stix_export_free(x);
            return status;
        }
        struct hunt_opts ho;
        hunt_opts_default(&ho);
        ho.since_ns = eo->since_ns;
        ho.until_ns = eo->until_ns;
        ho.timeline_events = 0;
        struct hunt_report r;
        int rc = hunt_store(s, 0, &ho, &r);
        if (rc < 0) {
            fprintf(stderr, "kenchi intel export: %s\n",
                    *store_errmsg(s) ? store_errmsg(s) : strerror(-rc));
            status = EXIT_RUNTIME;
        } else {
            for (size_t i = 0; i < r.nresults; i++) {
                const struct hunt_result *h = &r.results[i];
                if (h->warned)
                    continue;
                const struct ioc *ioc = &r.batch->iocs[h->ioc];
                const struct ioc_meta *m = &r.batch->metas[ioc->meta];
                if (stix_export_add_sighting(x, ioc, m, h->events, h->first_ns, h->last_ns, NULL,
                                             0) == 0)
                    sighted++;
            }
            hunt_report_free(&r);
        }
        status = close_store(s, status);
    }
    for (int i = 0; i < eo->nalerts && !status; i++)
        if (add_alert_file(x, eo->alerts[i], &alert_lines) < 0)
            status = EXIT_USAGE;
    if (!status) {
        struct buf b;
        buf_init(&b);
        stix_export_write(x, &b);
        FILE *out = stdout;
        if (eo->out && strcmp(eo->out, "-")) {
            out = fopen(eo->out, "w");
            if (!out) {
                fprintf(stderr, "kenchi intel export: %s: %s\n", eo->out, strerror(errno));
                status = EXIT_RUNTIME;
            }
        }
        if (out) {
            if (fwrite(b.data, 1, b.len, out) != b.len || fflush(out) == EOF) {
                fprintf(stderr, "kenchi intel export: writing: %s\n", strerror(errno));
                status = EXIT_RUNTIME;
            }
            if (out != stdout)
                fclose(out);
        }
        buf_free(&b);
        struct stix_export_stats st;
        stix_export_get_stats(x, &st);
        fprintf(stderr,
                "kenchi intel export: %zu sightings, %zu new indicators (%zu alerts used of %llu "
                "lines), %zu observed-data, marked %s\n",
                st.sightings, st.indicators, st.alerts_used, (unsigned long long)alert_lines,
                st.observed, tlp_name(so.tlp));
    }
    (void)sighted;
    stix_export_free(x);
    return status;
}

/* ---- the verb ------------------------------------------------------------- */

enum {
    O_WARNINGLISTS = 0x300,
    O_HUNT,
    O_SOURCE,
    O_TLP,
    O_IDENTITY,
    O_IDENTITY_CLASS,
    O_ALERTS,
    O_DOMAIN,
    O_SINCE,
    O_UNTIL,
    O_NO_SIGHTINGS,
};

int cmd_intel(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"type", required_argument, NULL, 't'},
        {"warninglists", required_argument, NULL, O_WARNINGLISTS},
        {"hunt", no_argument, NULL, O_HUNT},
        {"config", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, O_SOURCE},
        {"output", required_argument, NULL, 'o'},
        {"tlp", required_argument, NULL, O_TLP},
        {"identity", required_argument, NULL, O_IDENTITY},
        {"identity-class", required_argument, NULL, O_IDENTITY_CLASS},
        {"alerts", required_argument, NULL, O_ALERTS},
        {"internal-domain", required_argument, NULL, O_DOMAIN},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"no-sightings", no_argument, NULL, O_NO_SIGHTINGS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") && strcmp(sub, "pull") && strcmp(sub, "list") &&
        strcmp(sub, "remove") && strcmp(sub, "export")) {
        fprintf(stderr, "kenchi intel: unknown command '%s' (import, pull, list, remove, export)\n",
                sub);
        return EXIT_USAGE;
    }
    static char verb[32];
    snprintf(verb, sizeof(verb), "intel %s", sub);
    g_verb = verb;
    const char *store_path = STORE_DEFAULT_PATH, *format = NULL, *config = NULL, *only = NULL;
    const char *output = NULL;
    const char *wls[WARNINGLISTS_MAX];
    int nwl = 0, type = INTEL_TYPE_NONE;
    bool hunt = false;
    struct export_opts eo = {.since_ns = TIME_NONE, .until_ns = TIME_NONE};
    int c;
    optind = 1;
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "s:f:t:c:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            store_path = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 't': {
            bool unsupported;
            type = intel_type_by_name(optarg, strlen(optarg), &unsupported);
            if (type == INTEL_TYPE_NONE || type == IOC_PATTERN) {
                fprintf(stderr, "kenchi %s: --type: '%s' is not an indicator type\n", verb, optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case O_WARNINGLISTS:
            if (nwl == WARNINGLISTS_MAX) {
                fprintf(stderr, "kenchi %s: at most %d --warninglists\n", verb, WARNINGLISTS_MAX);
                return EXIT_USAGE;
            }
            wls[nwl++] = optarg;
            break;
        case O_HUNT:
            hunt = true;
            break;
        case 'c':
            config = optarg;
            break;
        case O_SOURCE:
            only = optarg;
            break;
        case 'o':
            output = optarg;
            eo.out = optarg;
            break;
        case O_TLP:
            eo.tlp = optarg;
            break;
        case O_IDENTITY:
            eo.identity = optarg;
            break;
        case O_IDENTITY_CLASS:
            eo.identity_class = optarg;
            break;
        case O_ALERTS:
            if (eo.nalerts == 64) {
                fprintf(stderr, "kenchi %s: at most 64 --alerts files\n", verb);
                return EXIT_USAGE;
            }
            eo.alerts[eo.nalerts++] = optarg;
            break;
        case O_DOMAIN:
            if (eo.ndomains == DOMAINS_MAX) {
                fprintf(stderr, "kenchi %s: at most %d --internal-domain\n", verb, DOMAINS_MAX);
                return EXIT_USAGE;
            }
            eo.domains[eo.ndomains++] = optarg;
            break;
        case O_SINCE:
            if (cli_parse_time("intel", "--since", optarg, &eo.since_ns) < 0)
                return EXIT_USAGE;
            break;
        case O_UNTIL:
            if (cli_parse_time("intel", "--until", optarg, &eo.until_ns) < 0)
                return EXIT_USAGE;
            break;
        case O_NO_SIGHTINGS:
            eo.no_sightings = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    g_store_path = store_path;
    int rest = argc - optind;
    char **args = argv + optind;
    if (!strcmp(sub, "import"))
        return do_import(rest, args, store_path, format, type, wls, nwl, hunt);
    if (rest > 0 && strcmp(sub, "remove")) {
        fprintf(stderr, "kenchi %s: unexpected argument '%s'\n", verb, args[0]);
        return EXIT_USAGE;
    }
    if (!strcmp(sub, "remove"))
        return do_remove(rest, args, store_path);
    if (!strcmp(sub, "list"))
        return do_list(store_path, output);
    if (!strcmp(sub, "pull"))
        return do_pull(store_path, config, only, wls, nwl, hunt);
    return do_export(store_path, &eo);
}
