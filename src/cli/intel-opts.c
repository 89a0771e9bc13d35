/*
 * intel-opts.c - the options of the verbs that match indicators read from
 * files (--intel, --intel-type, --warninglists), and loading them into an
 * intel set with the problems reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "intel/intel-read.h"
#include "intel/intel-set.h"
#include "intel/warninglist.h"
#include "store/store.h"

#define PROBLEMS_SHOWN 20

void intel_opts_init(struct intel_opts *io)
{
    memset(io, 0, sizeof(*io));
    io->type = INTEL_TYPE_NONE;
}

int intel_opts_handle(struct intel_opts *io, int opt, const char *arg)
{
    switch (opt) {
    case OPT_INTEL:
        if (io->npaths == INTEL_PATHS_MAX) {
            fprintf(stderr, "kenchi: --intel: at most %d paths\n", INTEL_PATHS_MAX);
            return -1;
        }
        io->paths[io->npaths++] = arg;
        return 1;
    case OPT_INTEL_TYPE: {
        bool unsupported;
        int t = intel_type_by_name(arg, strlen(arg), &unsupported);
        if (t == INTEL_TYPE_NONE || t == IOC_PATTERN) {
            fprintf(stderr,
                    "kenchi: --intel-type: '%s' is not an indicator type (ip, domain, url, "
                    "email, md5, sha1, sha256, hash, filename, user-agent)\n",
                    arg);
            return -1;
        }
        io->type = t;
        return 1;
    }
    case OPT_WARNINGLISTS:
        if (io->nwarninglists == INTEL_PATHS_MAX) {
            fprintf(stderr, "kenchi: --warninglists: at most %d paths\n", INTEL_PATHS_MAX);
            return -1;
        }
        io->warninglists[io->nwarninglists++] = arg;
        return 1;
    default:
        return 0;
    }
}

void intel_opts_help(FILE *out)
{
    fputs("Threat intelligence options (docs/intel.md):\n"
          "      --intel PATH        indicators to match on every event: a Zeek intel file, a\n"
          "                          CSV with a header, a plain list (with --intel-type), or a\n"
          "                          directory of them; may be repeated\n"
          "      --intel-type TYPE   type of the values of plain lists: ip, domain, url, email,\n"
          "                          md5, sha1, sha256, hash (by length), filename, user-agent\n"
          "      --warninglists PATH MISP warning lists (a list.json, its directory, or a\n"
          "                          directory of them): indicators they cover do not alert;\n"
          "                          may be repeated\n",
          out);
}

struct load_ctx {
    struct intel_set *set;
    struct warninglists *wl;
    const char *verb;
    FILE *diag;
    uint64_t shown, problems, warned;
    int error;
};

static void problem(struct load_ctx *lc, const char *where, const char *why)
{
    lc->problems++;
    if (lc->shown < PROBLEMS_SHOWN) {
        fprintf(lc->diag, "kenchi %s: intel: %s: %s\n", lc->verb, where, why);
        lc->shown++;
    }
}

static int on_batch(void *opaque, struct ioc_batch *b, int rc)
{
    struct load_ctx *lc = opaque;
    (void)rc; /* what went wrong is among the batch's problems */
    for (size_t i = 0; i < b->nproblems; i++)
        problem(lc, b->problems[i].where, b->problems[i].why);
    lc->problems += b->nproblems_dropped;
    if (lc->wl)
        lc->warned += warninglist_apply(lc->wl, b);
    int r = intel_set_add_batch(lc->set, b);
    if (r < 0) {
        fprintf(lc->diag, "kenchi %s: intel: %s: %s\n", lc->verb, b->source, strerror(-r));
        lc->error = r;
        return r;
    }
    return 0;
}

static int on_chunk(void *opaque, struct ioc_batch *b)
{
    return on_batch(opaque, b, 0);
}

static int cmp_flagged(const void *a, const void *b)
{
    const struct warninglist_info *x = a, *y = b;
    return x->flagged < y->flagged ? 1 : x->flagged > y->flagged ? -1 : 0;
}

int intel_open(const struct intel_opts *io, struct intel_set **out, const char *verb, FILE *diag,
               struct intel_load_summary *sum)
{
    *out = NULL;
    memset(sum, 0, sizeof(*sum));
    if (!io->npaths)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct load_ctx lc = {.verb = verb, .diag = diag};
    if (io->nwarninglists) {
        lc.wl = warninglists_new(NULL);
        if (!lc.wl)
            return EXIT_RUNTIME;
        for (int i = 0; i < io->nwarninglists; i++) {
            int rc = warninglists_load(lc.wl, io->warninglists[i]);
            if (rc < 0) {
                fprintf(diag, "kenchi %s: --warninglists %s: %s\n", verb, io->warninglists[i],
                        strerror(-rc));
                warninglists_free(lc.wl);
                return EXIT_USAGE;
            }
        }
        for (size_t i = 0; i < warninglists_nproblems(lc.wl); i++) {
            const struct ioc_problem *p = warninglists_problem(lc.wl, i);
            problem(&lc, p->where, p->why);
        }
    }
    lc.set = intel_set_new();
    if (!lc.set) {
        warninglists_free(lc.wl);
        return EXIT_RUNTIME;
    }
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts ro;
    intel_read_opts_default(&ro);
    ro.type = io->type;
    ro.stats = &st;
    ro.chunk_fn = on_chunk;
    ro.chunk_opaque = &lc;
    int status = 0;
    for (int i = 0; i < io->npaths && !status; i++) {
        int rc = intel_read_tree(io->paths[i], &ro, on_batch, &lc);
        if (lc.error) {
            status = EXIT_RUNTIME;
        } else if (rc < 0) {
            fprintf(diag, "kenchi %s: --intel %s: %s\n", verb, io->paths[i], strerror(-rc));
            status = EXIT_USAGE;
        }
    }
    if (status) {
        intel_set_free(lc.set);
        warninglists_free(lc.wl);
        return status;
    }
    intel_set_compact(lc.set);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct intel_set_stats ss;
    intel_set_get_stats(lc.set, &ss);
    sum->files = st.files;
    sum->indicators = ss.indicators;
    sum->values = ss.values;
    sum->skipped = st.skipped;
    sum->problems = lc.problems;
    sum->warned = lc.warned;
    sum->bytes = ss.bytes;
    sum->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (lc.problems > lc.shown)
        fprintf(diag, "kenchi %s: intel: %llu more problems not shown\n", verb,
                (unsigned long long)(lc.problems - lc.shown));
    fprintf(diag,
            "kenchi %s: intel: %llu indicators (%llu distinct values, %llu duplicates) from %llu "
            "files in %.2f s, %.1f MB",
            verb, (unsigned long long)ss.indicators, (unsigned long long)ss.values,
            (unsigned long long)ss.duplicates, (unsigned long long)st.files, sum->seconds,
            (double)ss.bytes / 1e6);
    if (ss.patterns || ss.revoked)
        fprintf(diag, "; left out: %llu STIX patterns, %llu revoked",
                (unsigned long long)ss.patterns, (unsigned long long)ss.revoked);
    fputc('\n', diag);
    if (st.skipped) {
        fprintf(diag, "kenchi %s: intel: %llu values skipped:", verb,
                (unsigned long long)st.skipped);
        for (unsigned i = 0; i < st.nreasons; i++)
            fprintf(diag, "%s %llu %s", i ? "," : "", (unsigned long long)st.reasons[i].count,
                    st.reasons[i].reason);
        fputc('\n', diag);
    }
    if (lc.wl) {
        size_t n = warninglists_count(lc.wl);
        struct warninglist_info *inf = calloc(n ? n : 1, sizeof(*inf));
        if (inf) {
            for (size_t i = 0; i < n; i++)
                warninglists_info(lc.wl, i, &inf[i]);
            qsort(inf, n, sizeof(*inf), cmp_flagged);
            fprintf(diag,
                    "kenchi %s: intel: %llu indicators on %zu warning lists (they do not "
                    "alert)",
                    verb, (unsigned long long)lc.warned, n);
            for (size_t i = 0; i < n && i < 5 && inf[i].flagged; i++)
                fprintf(diag, "%s %llu %s", i ? "," : ":", (unsigned long long)inf[i].flagged,
                        inf[i].name);
            fputc('\n', diag);
            free(inf);
        }
        warninglists_free(lc.wl);
    }
    *out = lc.set;
    return 0;
}

/* ---- the --intel files as one batch (hunt) ------------------------------ */

struct batch_ctx {
    struct load_ctx lc;
    struct ioc_batch *out;
};

static int on_file_batch(void *opaque, struct ioc_batch *b, int rc)
{
    struct batch_ctx *bc = opaque;
    (void)rc;
    for (size_t i = 0; i < b->nproblems; i++)
        problem(&bc->lc, b->problems[i].where, b->problems[i].why);
    bc->lc.problems += b->nproblems_dropped;
    if (bc->lc.wl)
        bc->lc.warned += warninglist_apply(bc->lc.wl, b);
    struct ioc_batch copy = *b;
    copy.nproblems = 0; /* reported above */
    copy.nproblems_dropped = 0;
    ioc_batch_append(bc->out, &copy);
    return 0;
}

int intel_read_batch(const struct intel_opts *io, struct ioc_batch *out, const char *verb,
                     FILE *diag)
{
    ioc_batch_init(out, io->npaths == 1 ? io->paths[0] : "--intel", "files");
    struct batch_ctx bc = {.lc = {.verb = verb, .diag = diag}, .out = out};
    if (io->nwarninglists) {
        bc.lc.wl = warninglists_new(NULL);
        if (!bc.lc.wl)
            return EXIT_RUNTIME;
        for (int i = 0; i < io->nwarninglists; i++) {
            int rc = warninglists_load(bc.lc.wl, io->warninglists[i]);
            if (rc < 0) {
                fprintf(diag, "kenchi %s: --warninglists %s: %s\n", verb, io->warninglists[i],
                        strerror(-rc));
                warninglists_free(bc.lc.wl);
                return EXIT_USAGE;
            }
        }
    }
    struct intel_read_opts ro;
    intel_read_opts_default(&ro);
    ro.type = io->type;
    int status = 0;
    for (int i = 0; i < io->npaths && !status; i++) {
        int rc = intel_read_tree(io->paths[i], &ro, on_file_batch, &bc);
        if (rc < 0) {
            fprintf(diag, "kenchi %s: --intel %s: %s\n", verb, io->paths[i], strerror(-rc));
            status = EXIT_USAGE;
        }
    }
    if (bc.lc.problems > bc.lc.shown)
        fprintf(diag, "kenchi %s: intel: %llu more problems not shown\n", verb,
                (unsigned long long)(bc.lc.problems - bc.lc.shown));
    warninglists_free(bc.lc.wl);
    return status;
}

/* ---- the indicators the store keeps (scan) ------------------------------ */

struct store_load {
    struct intel_set *set;
    int64_t last_meta_id;
    uint32_t last_meta;
    uint64_t added;
    uint64_t warned;
};

static int on_stored(void *opaque, const struct ioc *ioc, const struct ioc_meta *meta,
                     int64_t meta_id)
{
    struct store_load *sl = opaque;
    /* indicators arrive grouped by metadata record mostly: remember the last */
    if (meta_id != sl->last_meta_id) {
        sl->last_meta = intel_set_add_meta(sl->set, meta);
        if (sl->last_meta == INTEL_NONE)
            return -ENOMEM;
        sl->last_meta_id = meta_id;
    }
    int r = intel_set_add(sl->set, ioc->type, ioc->value, strlen(ioc->value), sl->last_meta,
                          ioc->detect, ioc->warning);
    if (r < 0 && r != -EINVAL)
        return r;
    sl->added += r == 0;
    sl->warned += r == 0 && ioc->warning;
    return 0;
}

int intel_load_store(struct store *s, struct intel_set **set, const char *verb, FILE *diag,
                     struct intel_load_summary *sum)
{
    int64_t n = store_intel_count(s);
    if (n <= 0)
        return 0; /* none kept (or an older store: nothing to load either) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool made = false;
    if (!*set) {
        *set = intel_set_new();
        if (!*set)
            return EXIT_RUNTIME;
        made = true;
    }
    struct store_load sl = {.set = *set, .last_meta_id = -1};
    int rc = store_intel_load(s, 0, on_stored, &sl);
    if (rc < 0) {
        fprintf(diag, "kenchi %s: the store's indicators: %s\n", verb, store_errmsg(s));
        if (made) {
            intel_set_free(*set);
            *set = NULL;
        }
        return EXIT_RUNTIME;
    }
    intel_set_compact(*set);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct intel_set_stats ss;
    intel_set_get_stats(*set, &ss);
    sum->indicators = ss.indicators;
    sum->values = ss.values;
    sum->warned += sl.warned;
    sum->bytes = ss.bytes;
    sum->seconds += secs;
    fprintf(diag, "kenchi %s: intel: %llu indicators from the store in %.2f s\n", verb,
            (unsigned long long)sl.added, secs);
    return 0;
}
