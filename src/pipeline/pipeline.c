/*
 * pipeline.c - see pipeline.h.
 *
 * Single-threaded by design at this layer: decoding is cheap per record and
 * a batch is handed to the sinks synchronously; a sink that does slow work
 * (the SQLite store) copies what it needs and works on its own thread.
 */
#include "pipeline/pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source/input.h"
#include "source/reader.h"
#include "util/timeconv.h"

#define MAX_SINKS     8
#define MAX_DIR_DEPTH 128

enum read_mode { MODE_LINES, MODE_JSON, MODE_FILE };

/* What is being read: one file of a scan (struct pipeline's fstream), or
 * one live stream (pipeline_stream_open). */
struct pipeline_stream {
    const struct decoder *forced;
    const struct syslog_app *forced_app;
    struct decode_ctx ctx;
    const struct decoder *cur;
    enum read_mode mode;
    size_t file; /* index into st.files */
    unsigned diags;
    uint64_t first_unparsed; /* line (or record) of the file's first unparsed event */
};

struct pipeline {
    struct pipeline_opts o;
    struct pipeline_stream fstream; /* the file being read by pipeline_run_path */
    struct pipeline_stream *s;      /* the stream being read */
    struct event_sink sinks[MAX_SINKS];
    size_t nsinks;

    struct arena arena; /* the current batch's data */
    struct event *batch;
    size_t nbatch;

    struct pipeline_stats st;
    size_t ls_last; /* cache: index of the last ls_count hit */

    struct {
        dev_t dev;
        ino_t ino;
    } dirs[MAX_DIR_DEPTH];
    int ndirs;
    int stop_rc; /* a sink's error: stop everything */
};

void pipeline_opts_default(struct pipeline_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_line = 1024 * 1024;
    o->max_json = 16 * 1024 * 1024;
    o->batch_size = 1024;
    o->max_diag_per_file = 5;
    o->diag = stderr;
}

int pipeline_check_format(const char *format)
{
    if (!format || !strcmp(format, "auto"))
        return 0;
    if (decoder_find(format) || syslog_app_find(format))
        return 0;
    return -EINVAL;
}

struct pipeline *pipeline_new(const struct pipeline_opts *o)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->o = *o;
    p->s = &p->fstream;
    if (o->format && strcmp(o->format, "auto")) {
        p->s->forced = decoder_find(o->format);
        if (!p->s->forced) {
            p->s->forced_app = syslog_app_find(o->format);
            p->s->forced = decoder_find("syslog");
        }
    }
    arena_init(&p->arena, 1024 * 1024);
    p->batch = calloc(o->batch_size, sizeof(struct event));
    if (!p->batch) {
        free(p);
        return NULL;
    }
    p->st.ts_min = TIME_NONE;
    p->st.ts_max = TIME_NONE;
    return p;
}

int pipeline_add_sink(struct pipeline *p, const struct event_sink *s)
{
    if (p->nsinks == MAX_SINKS)
        return -ENOSPC;
    p->sinks[p->nsinks++] = *s;
    return 0;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
    return &p->st;
}

static void diag(struct pipeline *p, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void diag(struct pipeline *p, uint64_t line, const char *fmt, ...)
{
    p->s->diags++;
    if (!p->o.diag || p->s->diags > p->o.max_diag_per_file)
        return;
    const char *path = p->st.files[p->s->file].path;
    if (line)
        fprintf(p->o.diag, "kenchi: %s:%llu: ", path, (unsigned long long)line);
    else
        fprintf(p->o.diag, "kenchi: %s: ", path);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->o.diag, fmt, ap);
    va_end(ap);
    fputc('\n', p->o.diag);
}

int pipeline_flush(struct pipeline *p)
{
    if (p->stop_rc)
        return p->stop_rc;
    if (p->nbatch == 0)
        return 0;
    for (size_t i = 0; i < p->nsinks; i++) {
        int rc = p->sinks[i].on_batch(p->sinks[i].opaque, p->batch, p->nbatch);
        if (rc < 0) {
            p->stop_rc = rc;
            break;
        }
    }
    p->nbatch = 0;
    arena_reset(&p->arena);
    return p->stop_rc;
}

void pipeline_discard(struct pipeline *p)
{
    p->stop_rc = 0;
    p->nbatch = 0;
    arena_reset(&p->arena);
}

static struct event *next_event(struct pipeline *p)
{
    if (p->nbatch == p->o.batch_size && pipeline_flush(p) < 0)
        return NULL;
    struct event *ev = &p->batch[p->nbatch];
    event_init(ev, &p->arena);
    ev->file = p->st.files[p->s->file].path;
    return ev;
}

static void count_ls(struct pipeline *p, const struct event *ev)
{
    const char *m = ev->format ? ev->format : "unparsed";
    const char *pr = ev->ls.product ? ev->ls.product : "";
    const char *sv = ev->ls.service ? ev->ls.service : "";
    struct pipeline_stats *st = &p->st;
    if (p->ls_last < st->nls) {
        struct ls_count *c = &st->ls[p->ls_last];
        if (!strcmp(c->module, m) && !strcmp(c->product, pr) && !strcmp(c->service, sv)) {
            c->events++;
            return;
        }
    }
    for (size_t i = 0; i < st->nls; i++) {
        struct ls_count *c = &st->ls[i];
        if (!strcmp(c->module, m) && !strcmp(c->product, pr) && !strcmp(c->service, sv)) {
            c->events++;
            p->ls_last = i;
            return;
        }
    }
    if (st->nls >= 4096)
        return; /* hostile input inventing services: stop keeping new keys */
    struct ls_count *n = realloc(st->ls, (st->nls + 1) * sizeof(*n));
    if (!n)
        return;
    st->ls = n;
    n[st->nls] = (struct ls_count){strdup(m), strdup(pr), strdup(sv), 1};
    p->ls_last = st->nls++;
}

/* The event is complete: account for it and keep it in the batch. */
static int finish_event(struct pipeline *p, struct event *ev)
{
    event_assign_id(ev);
    struct file_stats *fs = &p->st.files[p->s->file];
    fs->events++;
    p->st.events++;
    p->st.bytes += ev->raw.n;
    if (!ev->parsed) {
        fs->unparsed++;
        p->st.unparsed++;
        ev->format = "unparsed";
        if (!p->s->first_unparsed)
            p->s->first_unparsed = ev->line ? ev->line : ev->record;
    }
    if (ev->truncated) {
        fs->truncated++;
        p->st.truncated++;
    }
    if (ev->ts_ns != TIME_NONE) {
        if (p->st.ts_min == TIME_NONE || ev->ts_ns < p->st.ts_min)
            p->st.ts_min = ev->ts_ns;
        if (p->st.ts_max == TIME_NONE || ev->ts_ns > p->st.ts_max)
            p->st.ts_max = ev->ts_ns;
    }
    count_ls(p, ev);
    p->nbatch++;
    return 0;
}

/* Turn ev back into an unparsed event holding only its raw text. */
static void make_unparsed(struct event *ev)
{
    struct str raw = ev->raw;
    const char *file = ev->file;
    uint64_t line = ev->line, record = ev->record;
    bool truncated = ev->truncated;
    event_init(ev, ev->arena);
    ev->raw = raw;
    ev->file = file;
    ev->line = line;
    ev->record = record;
    ev->truncated = truncated;
    ev->parsed = false;
}

static int decode_json_record(struct pipeline *p, struct event *ev)
{
    if (json_flatten(ev, ev->raw.p, ev->raw.n) < 0)
        return -EINVAL;
    const struct decoder *d =
        (p->s->forced && p->s->forced->decode_json) ? p->s->forced : decoder_for_json(ev);
    int rc = d->decode_json(&p->s->ctx, ev);
    if (rc < 0)
        return rc;
    ev->parsed = true;
    if (!ev->format)
        ev->format = d->name;
    return 0;
}

static int on_record(void *opaque, const struct record *r)
{
    struct pipeline *p = opaque;
    struct event *ev = next_event(p);
    if (!ev)
        return p->stop_rc;
    ev->raw = str_make(arena_strndup(&p->arena, r->p, r->n), r->n);
    ev->line = r->line;
    if (r->status == RECORD_TRUNCATED) {
        ev->truncated = true;
        diag(p, r->line, "record longer than %zu bytes: kept the first %zu",
             p->s->mode == MODE_JSON ? p->o.max_json : p->o.max_line, r->n);
    }
    int rc;
    if (r->status == RECORD_BAD_JSON ||
        (r->status == RECORD_TRUNCATED && p->s->mode == MODE_JSON)) {
        rc = -EINVAL; /* a cut JSON value cannot be decoded: kept as text */
        if (r->status == RECORD_BAD_JSON)
            diag(p, r->line, "not a complete JSON value (%zu bytes): kept as an unparsed event",
                 r->n);
    } else if (p->s->mode == MODE_JSON || (r->n && r->p[0] == '{' && !p->s->forced_app &&
                                           (!p->s->forced || p->s->forced->decode_json))) {
        rc = decode_json_record(p, ev);
        if (rc < 0 && p->s->mode == MODE_JSON)
            diag(p, r->line, "invalid JSON: kept as an unparsed event");
        if (rc < 0 && p->s->mode == MODE_LINES) {
            make_unparsed(ev);
            rc = p->s->cur->decode_line(&p->s->ctx, ev);
        }
    } else {
        rc = p->s->cur->decode_line(&p->s->ctx, ev);
    }
    if (rc == DECODE_SKIP) {
        /* a metadata line: no event; the slot is reused */
        p->st.files[p->s->file].meta_lines++;
        p->st.meta_lines++;
        return 0;
    }
    if (rc < 0)
        make_unparsed(ev);
    return finish_event(p, ev);
}

static struct event *emit_next(void *opaque)
{
    return next_event(opaque);
}

static int emit_done(void *opaque, struct event *ev)
{
    struct pipeline *p = opaque;
    if (!ev->format)
        ev->format = p->s->cur->name;
    return finish_event(p, ev);
}

/* decode_ctx.report: a decoder's problem with the current file. */
static void report_to_diag(void *opaque, const char *msg)
{
    diag(opaque, 0, "%s", msg);
}

static size_t new_file_stats(struct pipeline *p, const char *path)
{
    struct pipeline_stats *st = &p->st;
    struct file_stats *f = realloc(st->files, (st->nfiles + 1) * sizeof(*f));
    if (!f) {
        fprintf(stderr, "kenchi: out of memory\n");
        abort();
    }
    st->files = f;
    memset(&f[st->nfiles], 0, sizeof(*f));
    f[st->nfiles].path = strdup(path);
    return st->nfiles++;
}

/* Decide how to read path. */
static int choose_format(struct pipeline *p, const char *path)
{
    char head[4096];
    long n = 0;
    struct stat sb;
    /* sniffing consumes bytes: only regular files can be sniffed, streams
     * (stdin, FIFOs) are read as lines with per-line JSON detection */
    if (strcmp(path, "-") && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        n = reader_sniff(path, head, sizeof(head));
        if (n < 0)
            return (int)n;
    }
    size_t i = 0;
    if (n >= 3 && (unsigned char)head[0] == 0xEF && (unsigned char)head[1] == 0xBB &&
        (unsigned char)head[2] == 0xBF)
        i = 3;
    while (i < (size_t)n &&
           (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
        i++;
    bool is_evtx = n >= 8 && !memcmp(head, "ElfFile", 8);
    bool is_json = i < (size_t)n && (head[i] == '{' || head[i] == '[');
    bool is_zeek_tsv = (size_t)n >= 10 && !memcmp(head, "#separator", 10);

    const struct decoder *d = p->s->forced;
    if (d) {
        p->s->cur = d;
        if (d->decode_file && (is_evtx || (!d->decode_line && !d->decode_json)))
            p->s->mode = MODE_FILE;
        else if (d->decode_json && (is_json || !d->decode_line))
            p->s->mode = MODE_JSON;
        else
            p->s->mode = MODE_LINES;
        if (p->s->mode == MODE_LINES && !d->decode_line)
            return -EINVAL;
        return 0;
    }
    if (is_evtx) {
        p->s->cur = decoder_find("evtx");
        p->s->mode = MODE_FILE;
        return p->s->cur ? 0 : -EPROTONOSUPPORT;
    }
    if (is_json) {
        p->s->cur = decoder_find("json");
        p->s->mode = MODE_JSON;
        return 0;
    }
    if (is_zeek_tsv && decoder_find("zeek") && decoder_find("zeek")->decode_line) {
        p->s->cur = decoder_find("zeek");
        p->s->mode = MODE_LINES;
        return 0;
    }
    p->s->cur = decoder_find("syslog");
    p->s->mode = MODE_LINES;
    return 0;
}

static int read_file(struct pipeline *p, const char *path)
{
    p->s = &p->fstream;
    p->s->file = new_file_stats(p, path);
    p->s->diags = 0;
    p->s->first_unparsed = 0;
    struct file_stats *fs = &p->st.files[p->s->file];
    int rc = choose_format(p, path);
    if (rc < 0) {
        fs->error = rc;
        p->st.files_failed++;
        diag(p, 0, "%s",
             rc == -EPROTONOSUPPORT ? "format not supported by this build"
             : rc == -EBADMSG       ? "corrupt compressed data (nothing could be read)"
                                    : strerror(-rc));
        return 0;
    }
    fs = &p->st.files[p->s->file];
    fs->format = p->s->mode == MODE_JSON && !p->s->forced ? "json (per record)" : p->s->cur->name;

    struct input *in = NULL;
    if (p->s->mode != MODE_FILE) {
        rc = input_open(path, &in);
        if (rc < 0) {
            fs->error = rc;
            p->st.files_failed++;
            diag(p, 0, "%s", strerror(-rc));
            return 0;
        }
    }
    decode_ctx_init(&p->s->ctx, fs->path, in ? input_mtime_ns(in) : 0, p->o.year);
    p->s->ctx.force_app = p->s->forced_app;
    p->s->ctx.report = report_to_diag;
    p->s->ctx.report_opaque = p;
    if (p->s->mode == MODE_FILE) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            p->s->ctx.ref_time_ns = time_from_unix(sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
        struct event_emitter em = {emit_next, emit_done, p};
        uint64_t bad = 0;
        rc = p->s->cur->decode_file(&p->s->ctx, path, &em, &bad);
        if (bad)
            diag(p, 0, "%llu damaged records skipped", (unsigned long long)bad);
    } else if (p->s->mode == MODE_JSON) {
        rc = reader_json(in, p->o.max_json, on_record, p);
    } else {
        rc = reader_lines(in, p->o.max_line, on_record, p);
    }
    decode_ctx_fini(&p->s->ctx);
    input_close(in);
    fs = &p->st.files[p->s->file];
    if (p->stop_rc)
        return p->stop_rc;
    if (rc < 0) {
        fs->error = rc;
        p->st.files_failed++;
        diag(p, 0, "read stopped: %s",
             rc == -EBADMSG ? "corrupt or truncated compressed data" : strerror(-rc));
    } else {
        p->st.files_read++;
    }
    if (fs->unparsed && p->o.diag) {
        /* one line per file, not per record: unparsed records are kept and
         * searchable, but the user should know how many there are */
        if (p->s->first_unparsed)
            fprintf(p->o.diag, "kenchi: %s:%llu: first of ", fs->path,
                    (unsigned long long)p->s->first_unparsed);
        else
            fprintf(p->o.diag, "kenchi: %s: ", fs->path);
        fprintf(p->o.diag,
                "%llu records (of %llu) that no decoder understood; kept as "
                "unparsed events\n",
                (unsigned long long)fs->unparsed, (unsigned long long)fs->events);
    }
    if (p->s->diags > p->o.max_diag_per_file && p->o.diag)
        fprintf(p->o.diag, "kenchi: %s: %u more problems not shown\n", fs->path,
                p->s->diags - p->o.max_diag_per_file);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct pipeline *p, const char *path, int depth);

static int read_dir(struct pipeline *p, const char *path, const struct stat *st, int depth)
{
    for (int i = 0; i < p->ndirs; i++) {
        if (p->dirs[i].dev == st->st_dev && p->dirs[i].ino == st->st_ino) {
            fprintf(stderr, "kenchi: %s: directory loop (already being read), skipped\n", path);
            p->st.files_failed++;
            return 0;
        }
    }
    if (p->ndirs == MAX_DIR_DEPTH) {
        fprintf(stderr, "kenchi: %s: directories nested too deep, skipped\n", path);
        p->st.files_failed++;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "kenchi: %s: %s\n", path, strerror(errno));
        p->st.files_failed++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n) /* an empty directory: names is NULL */
        qsort(names, n, sizeof(*names), cmp_names);
    p->dirs[p->ndirs].dev = st->st_dev;
    p->dirs[p->ndirs].ino = st->st_ino;
    p->ndirs++;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && names[i]) {
            size_t l = strlen(path) + strlen(names[i]) + 2;
            char *child = malloc(l);
            if (child) {
                snprintf(child, l, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                         names[i]);
                rc = walk(p, child, depth + 1);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    p->ndirs--;
    return rc;
}

static int walk(struct pipeline *p, const char *path, int depth)
{
    if (!strcmp(path, "-"))
        return read_file(p, path);
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "kenchi: %s: %s\n", path, strerror(errno));
        p->st.files_failed++;
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return read_dir(p, path, &st, depth);
    if (!S_ISREG(st.st_mode)) {
        if (depth == 0) {
            /* named on the command line: a FIFO or device is read as a stream */
            return read_file(p, path);
        }
        return 0; /* sockets, devices inside a directory tree: not logs */
    }
    return read_file(p, path);
}

int pipeline_run_path(struct pipeline *p, const char *path)
{
    if (p->stop_rc)
        return p->stop_rc;
    p->ndirs = 0;
    return walk(p, path, 0);
}

/* ---- live streams ------------------------------------------------------ */

struct pipeline_stream *pipeline_stream_open(struct pipeline *p, const char *name,
                                             const char *format, const char *head, size_t nhead,
                                             int64_t ref_time_ns)
{
    struct pipeline_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (format && strcmp(format, "auto")) {
        s->forced = decoder_find(format);
        if (!s->forced) {
            s->forced_app = syslog_app_find(format);
            s->forced = s->forced_app ? decoder_find("syslog") : NULL;
        }
        if (!s->forced || (!s->forced->decode_line && !s->forced->decode_json)) {
            free(s); /* unknown, or a container format (checked by the caller) */
            return NULL;
        }
    }
    const struct decoder *zeek = decoder_find("zeek");
    if (s->forced) {
        s->cur = s->forced;
        s->mode = s->forced->decode_line ? MODE_LINES : MODE_JSON;
    } else if (nhead >= 10 && !memcmp(head, "#separator", 10) && zeek && zeek->decode_line) {
        s->cur = zeek;
        s->mode = MODE_LINES;
    } else {
        s->cur = decoder_find("syslog"); /* JSON lines are told apart per line */
        s->mode = MODE_LINES;
    }
    s->file = new_file_stats(p, name);
    struct file_stats *fs = &p->st.files[s->file];
    fs->format = s->cur->name;
    decode_ctx_init(&s->ctx, fs->path, ref_time_ns, p->o.year);
    s->ctx.force_app = s->forced_app;
    s->ctx.report = report_to_diag;
    s->ctx.report_opaque = p;
    p->st.files_read++;
    return s;
}

void pipeline_stream_ref_time(struct pipeline_stream *s, int64_t ref_time_ns)
{
    s->ctx.ref_time_ns = ref_time_ns;
}

int pipeline_stream_record(struct pipeline *p, struct pipeline_stream *s, const char *data,
                           size_t n, uint64_t line, bool truncated)
{
    if (p->stop_rc)
        return p->stop_rc;
    p->s = s;
    struct record r = {data, n, line, 0, truncated ? RECORD_TRUNCATED : RECORD_OK};
    int rc = on_record(p, &r);
    p->s = &p->fstream;
    return rc < 0 ? rc : p->stop_rc;
}

const struct file_stats *pipeline_stream_stats(const struct pipeline *p,
                                               const struct pipeline_stream *s)
{
    return &p->st.files[s->file];
}

void pipeline_stream_close(struct pipeline *p, struct pipeline_stream *s)
{
    (void)p;
    if (!s)
        return;
    decode_ctx_fini(&s->ctx);
    free(s);
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->st.nls; i++) {
        free((char *)p->st.ls[i].module);
        free((char *)p->st.ls[i].product);
        free((char *)p->st.ls[i].service);
    }
    free(p->st.ls);
    for (size_t i = 0; i < p->st.nfiles; i++)
        free(p->st.files[i].path);
    free(p->st.files);
    free(p->batch);
    arena_free(&p->arena);
    free(p);
}
