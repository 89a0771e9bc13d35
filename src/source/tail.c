/*
 * tail.c - file and standard input sources of the live daemon; see tail.h.
 *
 * One thread reads every tailed file: it waits on inotify (directories of
 * the globs) with the poll interval as time-out, then makes one pass:
 * expand the globs, open what is new, read every open file to its end,
 * notice truncation and rotation. Records go to the daemon's queue with
 * their line number and the file offset after them (live_push_file), which
 * the daemon saves once their events are committed.
 */
#include "source/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "daemon/live.h"
#include "daemon/log.h"
#include "store/store.h"
#include "util/timeconv.h"

#define FP_BYTES   1024 /* the fingerprint covers up to this many first bytes */
#define READ_CHUNK (256 * 1024)
#define MAX_FILES  4096 /* files open at once */

/* ---- line splitting ----------------------------------------------------------- */

void line_splitter_init(struct line_splitter *sp, size_t max, uint64_t line)
{
    memset(sp, 0, sizeof(*sp));
    sp->max = max ? max : 1;
    sp->line = line;
}

void line_splitter_free(struct line_splitter *sp)
{
    free(sp->pend);
    sp->pend = NULL;
    sp->npend = sp->cap = 0;
}

static int pend_add(struct line_splitter *sp, const char *d, size_t n)
{
    if (sp->npend + n > sp->cap) {
        size_t cap = sp->cap ? sp->cap : 256;
        while (cap < sp->npend + n)
            cap *= 2;
        char *p = realloc(sp->pend, cap);
        if (!p)
            return -ENOMEM;
        sp->pend = p;
        sp->cap = cap;
    }
    memcpy(sp->pend + sp->npend, d, n);
    sp->npend += n;
    return 0;
}

static int emit_line(struct line_splitter *sp, const char *p, size_t n, uint64_t end_off,
                     line_fn fn, void *opaque)
{
    sp->line++;
    if (n && p[n - 1] == '\r')
        n--;
    if (!n)
        return 0;
    bool cut = n > sp->max;
    return fn(opaque, p, cut ? sp->max : n, sp->line, end_off, cut);
}

int line_splitter_feed(struct line_splitter *sp, const char *d, size_t n, uint64_t off, line_fn fn,
                       void *opaque)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(d + i, '\n', n - i);
        if (nl) {
            size_t j = (size_t)(nl - d);
            uint64_t end = off + j + 1;
            int rc = 0;
            if (sp->skipping) {
                sp->skipping = false;
            } else if (sp->npend) {
                size_t room = sp->max + 1 > sp->npend ? sp->max + 1 - sp->npend : 0;
                rc = pend_add(sp, d + i, j - i < room ? j - i : room);
                if (rc == 0)
                    rc = emit_line(sp, sp->pend, sp->npend, end, fn, opaque);
                sp->npend = 0;
            } else {
                rc = emit_line(sp, d + i, j - i, end, fn, opaque);
            }
            if (rc < 0)
                return rc;
            i = j + 1;
            continue;
        }
        /* no newline: keep the rest, or cut a line that is too long */
        if (!sp->skipping) {
            int rc = pend_add(sp, d + i, n - i);
            if (rc < 0)
                return rc;
            if (sp->npend > sp->max) {
                sp->line++;
                rc = fn(opaque, sp->pend, sp->max, sp->line, off + n, true);
                sp->npend = 0;
                sp->skipping = true;
                if (rc < 0)
                    return rc;
            }
        }
        break;
    }
    return 0;
}

int line_splitter_finish(struct line_splitter *sp, uint64_t end_off, line_fn fn, void *opaque)
{
    if (sp->skipping || !sp->npend) {
        sp->skipping = false;
        sp->npend = 0;
        return 0;
    }
    int rc = emit_line(sp, sp->pend, sp->npend, end_off, fn, opaque);
    sp->npend = 0;
    return rc;
}

/* ---- files ---------------------------------------------------------------------- */

struct known {
    uint64_t dev, ino, fp;
    uint32_t fplen;
    char *name;
    uint64_t off, line;
};

struct tfile {
    struct tfile *next;
    const struct config_source *src;
    char *path; /* opened by */
    char *name; /* the events' source.file */
    int fd;
    struct live_stream *s;
    uint64_t dev, ino;
    uint64_t off; /* bytes read */
    uint64_t fp;
    uint32_t fplen;
    struct line_splitter sp;
    int64_t rotated_at; /* monotonic ns; 0: the path still names it */
};

struct watch {
    char *dir;
    int wd;
};

struct tailer {
    struct live *l;
    const struct config *cf;
    pthread_t files_thread, stdin_thread;
    bool files_started, stdin_started;
    bool has_files, has_stdin, has_other;
    int ino_fd;
    int wake[2];
    struct tfile *files;
    size_t nfiles;
    struct known *known;
    size_t nknown, capknown;
    struct watch *watches;
    size_t nwatches;
    int64_t poll_ns;
    _Atomic bool stdin_done;
    _Atomic bool draining; /* stopping: read what is there, then return */
    _Atomic bool stop;
    bool warned_max;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int on_known(void *opaque, const struct store_offset *o)
{
    struct tailer *t = opaque;
    if (t->nknown == t->capknown) {
        size_t cap = t->capknown ? t->capknown * 2 : 64;
        struct known *k = realloc(t->known, cap * sizeof(*k));
        if (!k)
            return -ENOMEM;
        t->known = k;
        t->capknown = cap;
    }
    char *name = strdup(o->name);
    if (!name)
        return -ENOMEM;
    t->known[t->nknown++] =
        (struct known){o->dev, o->ino, o->fp, o->fplen, name, o->offset, o->line};
    return 0;
}

static void remember(struct tailer *t, const struct tfile *f)
{
    for (size_t i = 0; i < t->nknown; i++)
        if (t->known[i].dev == f->dev && t->known[i].ino == f->ino) {
            char *name = strdup(f->name);
            if (!name)
                return;
            free(t->known[i].name);
            t->known[i] = (struct known){f->dev, f->ino, f->fp, f->fplen, name, f->off, f->sp.line};
            return;
        }
    struct store_offset o = {f->dev, f->ino, f->fp, f->fplen, f->name, f->off, f->sp.line};
    on_known(t, &o);
}

/* XXH3 of the first n bytes of fd; false when it has fewer. */
static bool fingerprint(int fd, uint32_t n, uint64_t *fp)
{
    char b[FP_BYTES];
    if (n > FP_BYTES)
        return false;
    ssize_t r = pread(fd, b, n, 0);
    if (r != (ssize_t)n)
        return false;
    *fp = XXH3_64bits(b, n);
    return true;
}

static void update_fp(struct tailer *t, struct tfile *f, uint64_t size)
{
    if (f->fplen >= FP_BYTES || size <= f->fplen)
        return;
    uint32_t n = size < FP_BYTES ? (uint32_t)size : FP_BYTES;
    uint64_t fp;
    if (fingerprint(f->fd, n, &fp)) {
        f->fp = fp;
        f->fplen = n;
        live_stream_set_fp(t->l, f->s, fp, n);
    }
}

struct push_ctx {
    struct tailer *t;
    struct tfile *f;
};

static int push_file_line(void *opaque, const char *p, size_t n, uint64_t line, uint64_t end_off,
                          bool truncated)
{
    struct push_ctx *c = opaque;
    return live_push_file(c->t->l, c->f->s, p, n, line, end_off, truncated);
}

/* The Zeek TSV header lines of a file read from the middle: the decoder
 * needs them to name the fields. They are pushed with their own line
 * numbers and make no events. */
static void push_preamble(struct tailer *t, struct tfile *f, const char *head, size_t n)
{
    if (n < 10 || memcmp(head, "#separator", 10))
        return;
    size_t end = 0;
    while (end < n && (end == 0 || head[end - 1] == '\n') && head[end] == '#') {
        const char *nl = memchr(head + end, '\n', n - end);
        if (!nl)
            break;
        end = (size_t)(nl - head) + 1;
    }
    /* offsets 0: the stream's committed offset does not move back */
    for (size_t i = 0, line = 1; i < end; line++) {
        const char *nl = memchr(head + i, '\n', end - i);
        size_t len = (size_t)(nl - head) - i;
        live_push_file(t->l, f->s, head + i, len, line, 0, false);
        i += len + 1;
    }
}

static struct tfile *open_file(struct tailer *t, const struct config_source *src, const char *path,
                               const struct stat *st, bool initial)
{
    if (t->nfiles >= MAX_FILES) {
        if (!t->warned_max)
            klog(LOGL_WARNING, "%s: more than %d files tailed at once: not read", path, MAX_FILES);
        t->warned_max = true;
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        klog(LOGL_WARNING, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat fst;
    if (fstat(fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
        close(fd); /* replaced between stat and open: the next pass sees it */
        return NULL;
    }
    struct tfile *f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        return NULL;
    }
    f->src = src;
    f->fd = fd;
    f->dev = (uint64_t)fst.st_dev;
    f->ino = (uint64_t)fst.st_ino;
    f->path = strdup(path);
    uint64_t line = 0;
    const char *name = path;
    const char *how = "new, from the beginning";
    for (size_t i = 0; i < t->nknown; i++) {
        struct known *k = &t->known[i];
        uint64_t fp;
        if (k->dev == f->dev && k->ino == f->ino && k->fplen && (uint64_t)fst.st_size >= k->off &&
            fingerprint(fd, k->fplen, &fp) && fp == k->fp) {
            f->off = k->off;
            line = k->line;
            f->fp = k->fp;
            f->fplen = k->fplen;
            name = k->name;
            how = "known, from where its events were committed";
            break;
        }
    }
    if (!f->fplen && initial && src->start_at == START_END && fst.st_size > 0) {
        /* from the end of its last complete line, counting lines */
        char *b = malloc(READ_CHUNK);
        uint64_t pos = 0, last_nl = 0;
        ssize_t r;
        while (b && (r = pread(fd, b, READ_CHUNK, (off_t)pos)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                if (b[i] == '\n') {
                    line++;
                    last_nl = pos + (uint64_t)i + 1;
                }
            pos += (uint64_t)r;
        }
        free(b);
        f->off = last_nl;
        how = "new, from its end (start_at: end)";
    }
    f->name = strdup(name);
    line_splitter_init(&f->sp, live_max_record(t->l), line);
    f->s = f->name ? live_stream_open(t->l, src->name, f->name, src->format) : NULL;
    if (!f->path || !f->name || !f->s) {
        close(fd);
        free(f->path);
        free(f->name);
        line_splitter_free(&f->sp);
        free(f);
        return NULL;
    }
    update_fp(t, f, (uint64_t)fst.st_size);
    struct live_file_id id = {f->dev, f->ino, f->fp, f->fplen};
    live_stream_set_file(t->l, f->s, &id);
    char head[4096];
    ssize_t hn = pread(fd, head, sizeof(head), 0);
    if (hn > 0) {
        live_stream_set_head(t->l, f->s, head, (size_t)hn);
        if (f->off > 0)
            push_preamble(t, f, head, (size_t)hn);
    }
    klog(LOGL_INFO, "%s: reading (%s, offset %llu)%s%s", path, how, (unsigned long long)f->off,
         strcmp(name, path) ? " as " : "", strcmp(name, path) ? name : "");
    f->next = t->files;
    t->files = f;
    t->nfiles++;
    return f;
}

/* Read f to its current end. Returns 0, or -ECANCELED when the daemon
 * stopped taking records. */
static int read_more(struct tailer *t, struct tfile *f)
{
    static char buf[READ_CHUNK];
    struct push_ctx c = {t, f};
    for (int rounds = 0; rounds < 64 && !atomic_load(&t->stop); rounds++) {
        ssize_t r = pread(f->fd, buf, sizeof(buf), (off_t)f->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : 0;
        int rc = line_splitter_feed(&f->sp, buf, (size_t)r, f->off, push_file_line, &c);
        f->off += (uint64_t)r;
        if (rc < 0)
            return rc;
        update_fp(t, f, f->off);
    }
    return 0;
}

static void close_file(struct tailer *t, struct tfile *f, bool finish)
{
    if (finish) {
        struct push_ctx c = {t, f};
        line_splitter_finish(&f->sp, f->off, push_file_line, &c);
    }
    remember(t, f);
    live_stream_close(t->l, f->s);
    close(f->fd);
    line_splitter_free(&f->sp);
    free(f->path);
    free(f->name);
    struct tfile **pp = &t->files;
    while (*pp != f)
        pp = &(*pp)->next;
    *pp = f->next;
    t->nfiles--;
    free(f);
}

static bool excluded(const struct config_source *src, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < src->nexclude; i++)
        if (fnmatch(src->exclude[i], base, 0) == 0)
            return true;
    return false;
}

static void add_watches(struct tailer *t)
{
    if (t->ino_fd < 0)
        return;
    for (size_t i = 0; i < t->nwatches; i++) {
        struct watch *w = &t->watches[i];
        if (w->wd >= 0)
            continue;
        w->wd = inotify_add_watch(t->ino_fd, w->dir,
                                  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                      IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
    }
}

static void pass(struct tailer *t, bool initial)
{
    add_watches(t);
    /* new files */
    for (size_t i = 0; i < t->cf->nsources; i++) {
        const struct config_source *src = &t->cf->sources[i];
        if (src->type != SOURCE_FILE)
            continue;
        for (size_t k = 0; k < src->npaths; k++) {
            glob_t g;
            if (glob(src->paths[k], GLOB_NOSORT, NULL, &g) != 0)
                continue;
            for (size_t j = 0; j < g.gl_pathc; j++) {
                const char *p = g.gl_pathv[j];
                struct stat st;
                if (excluded(src, p) || stat(p, &st) < 0 || !S_ISREG(st.st_mode))
                    continue;
                bool open_already = false;
                for (struct tfile *f = t->files; f && !open_already; f = f->next)
                    open_already = f->dev == (uint64_t)st.st_dev && f->ino == (uint64_t)st.st_ino;
                if (!open_already)
                    open_file(t, src, p, &st, initial);
            }
            globfree(&g);
        }
    }
    /* read, and notice truncation and rotation */
    int64_t now = mono_ns();
    struct tfile *next;
    for (struct tfile *f = t->files; f && !atomic_load(&t->stop); f = next) {
        next = f->next;
        struct stat fst;
        if (fstat(f->fd, &fst) == 0 && (uint64_t)fst.st_size < f->off) {
            klog(LOGL_INFO, "%s: truncated (copy and truncate?): reading it again from the start",
                 f->path);
            struct push_ctx c = {t, f};
            line_splitter_finish(&f->sp, f->off, push_file_line, &c);
            live_stream_close(t->l, f->s);
            f->s = live_stream_open(t->l, f->src->name, f->name, f->src->format);
            if (!f->s) {
                klog(LOGL_ERROR, "%s: out of memory", f->path);
                close(f->fd);
                f->fd = -1;
                continue;
            }
            f->off = 0;
            f->fplen = 0;
            f->fp = 0;
            line_splitter_free(&f->sp);
            line_splitter_init(&f->sp, live_max_record(t->l), 0);
            update_fp(t, f, (uint64_t)fst.st_size);
            struct live_file_id id = {f->dev, f->ino, f->fp, f->fplen};
            live_stream_set_file(t->l, f->s, &id);
        }
        if (read_more(t, f) == -ECANCELED)
            return;
        struct stat st;
        bool same = stat(f->path, &st) == 0 && (uint64_t)st.st_dev == f->dev &&
                    (uint64_t)st.st_ino == f->ino;
        if (same) {
            f->rotated_at = 0;
            continue;
        }
        if (!f->rotated_at) {
            f->rotated_at = now;
            klog(LOGL_INFO, "%s: rotated or removed: reading the old file to its end", f->path);
        }
        if (now - f->rotated_at >= f->src->rotate_wait_ns) {
            read_more(t, f);
            close_file(t, f, true);
        }
    }
}

static void *files_main(void *arg)
{
    struct tailer *t = arg;
    pass(t, true);
    char evbuf[16384] __attribute__((aligned(8)));
    while (!atomic_load(&t->stop)) {
        struct pollfd pf[2] = {{t->wake[0], POLLIN, 0}, {t->ino_fd, POLLIN, 0}};
        int n = poll(pf, t->ino_fd >= 0 ? 2 : 1, (int)(t->poll_ns / 1000000));
        if (atomic_load(&t->draining)) {
            pass(t, false); /* what was written before the stop is read */
            break;
        }
        if (n > 0 && t->ino_fd >= 0 && (pf[1].revents & POLLIN)) {
            ssize_t r = read(t->ino_fd, evbuf, sizeof(evbuf));
            for (ssize_t i = 0; i + (ssize_t)sizeof(struct inotify_event) <= r;) {
                const struct inotify_event *e = (const struct inotify_event *)(evbuf + i);
                if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
                    for (size_t k = 0; k < t->nwatches; k++)
                        if (t->watches[k].wd == e->wd) {
                            if (!(e->mask & IN_IGNORED))
                                inotify_rm_watch(t->ino_fd, e->wd);
                            t->watches[k].wd = -1;
                        }
                i += (ssize_t)sizeof(*e) + e->len;
            }
        }
        pass(t, false);
    }
    return NULL;
}

/* ---- standard input ------------------------------------------------------------- */

struct stdin_ctx {
    struct tailer *t;
    struct live_stream *s;
};

static int push_stdin_line(void *opaque, const char *p, size_t n, uint64_t line, uint64_t end_off,
                           bool truncated)
{
    struct stdin_ctx *c = opaque;
    (void)end_off;
    (void)truncated;
    return live_push(c->t->l, c->s, p, n, line, false);
}

static void *stdin_main(void *arg)
{
    struct tailer *t = arg;
    const struct config_source *src = NULL;
    for (size_t i = 0; i < t->cf->nsources; i++)
        if (t->cf->sources[i].type == SOURCE_STDIN)
            src = &t->cf->sources[i];
    struct stdin_ctx c = {t, live_stream_open(t->l, src->name, "-", src->format)};
    if (!c.s) {
        atomic_store(&t->stdin_done, true);
        return NULL;
    }
    struct line_splitter sp;
    line_splitter_init(&sp, live_max_record(t->l), 0);
    static char buf[65536];
    uint64_t off = 0;
    while (!atomic_load(&t->draining)) {
        struct pollfd pf[2] = {{0, POLLIN, 0}, {t->wake[0], POLLIN, 0}};
        int n = poll(pf, 2, 1000);
        if (n <= 0 || !(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t r = read(0, buf, sizeof(buf));
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            line_splitter_finish(&sp, off, push_stdin_line, &c);
            break;
        }
        if (line_splitter_feed(&sp, buf, (size_t)r, off, push_stdin_line, &c) < 0)
            break;
        off += (uint64_t)r;
    }
    line_splitter_free(&sp);
    live_stream_close(t->l, c.s);
    atomic_store(&t->stdin_done, true);
    return NULL;
}

/* ---- start and stop --------------------------------------------------------------- */

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

int tailer_start(struct live *l, const struct config *cf, struct store *store, struct tailer **out)
{
    struct tailer *t = calloc(1, sizeof(*t));
    *out = t;
    if (!t)
        return -ENOMEM;
    t->l = l;
    t->cf = cf;
    t->ino_fd = -1;
    t->wake[0] = t->wake[1] = -1;
    t->poll_ns = NS_PER_SEC;
    bool first_poll = true;
    for (size_t i = 0; i < cf->nsources; i++) {
        const struct config_source *s = &cf->sources[i];
        if (s->type == SOURCE_FILE) {
            t->has_files = true;
            if (first_poll || s->poll_ns < t->poll_ns)
                t->poll_ns = s->poll_ns;
            first_poll = false;
        } else if (s->type == SOURCE_STDIN) {
            t->has_stdin = true;
        } else {
            t->has_other = true;
        }
    }
    if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    if (t->has_files) {
        int rc = store_offsets_load(store, on_known, t);
        if (rc < 0) {
            klog(LOGL_ERROR, "%s", store_errmsg(store));
            return rc;
        }
        t->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->ino_fd < 0)
            klog(LOGL_WARNING, "inotify: %s: files are polled every %lld ms", strerror(errno),
                 (long long)(t->poll_ns / 1000000));
        for (size_t i = 0; i < cf->nsources; i++) {
            const struct config_source *s = &cf->sources[i];
            for (size_t k = 0; s->type == SOURCE_FILE && k < s->npaths; k++) {
                char *copy = strdup(s->paths[k]);
                if (!copy)
                    return -ENOMEM;
                char *dir = dirname(copy);
                bool dup = has_glob(dir);
                for (size_t j = 0; j < t->nwatches && !dup; j++)
                    dup = !strcmp(t->watches[j].dir, dir);
                if (!dup) {
                    struct watch *w = realloc(t->watches, (t->nwatches + 1) * sizeof(*w));
                    char *d = strdup(dir);
                    if (!w || !d) {
                        free(w ? NULL : d);
                        free(copy);
                        if (w)
                            t->watches = w;
                        return -ENOMEM;
                    }
                    t->watches = w;
                    t->watches[t->nwatches++] = (struct watch){d, -1};
                }
                free(copy);
            }
        }
        if (pthread_create(&t->files_thread, NULL, files_main, t) != 0)
            return -EAGAIN;
        t->files_started = true;
    }
    if (t->has_stdin) {
        if (pthread_create(&t->stdin_thread, NULL, stdin_main, t) != 0)
            return -EAGAIN;
        t->stdin_started = true;
    }
    return 0;
}

bool tailer_finished(struct tailer *t)
{
    return t && !t->has_files && !t->has_other && t->has_stdin && atomic_load(&t->stdin_done);
}

void tailer_stop(struct tailer *t)
{
    if (!t)
        return;
    atomic_store(&t->draining, true);
    if (t->wake[1] >= 0) {
        char c = 1;
        ssize_t w = write(t->wake[1], &c, 1);
        (void)w;
    }
    if (t->files_started)
        pthread_join(t->files_thread, NULL);
    if (t->stdin_started)
        pthread_join(t->stdin_thread, NULL);
    atomic_store(&t->stop, true);
    while (t->files) {
        struct tfile *f = t->files;
        t->files = f->next;
        if (f->fd >= 0)
            close(f->fd);
        live_stream_close(t->l, f->s);
        line_splitter_free(&f->sp);
        free(f->path);
        free(f->name);
        free(f);
    }
    for (size_t i = 0; i < t->nknown; i++)
        free(t->known[i].name);
    free(t->known);
    for (size_t i = 0; i < t->nwatches; i++)
        free(t->watches[i].dir);
    free(t->watches);
    if (t->ino_fd >= 0)
        close(t->ino_fd);
    if (t->wake[0] >= 0)
        close(t->wake[0]);
    if (t->wake[1] >= 0)
        close(t->wake[1]);
    free(t);
}
