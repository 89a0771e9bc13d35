/*
 * output-jsonl.c - alerts appended to a file, one JSON object per line.
 *
 * Each line is the alert (docs/alerts.md) with one more member in front,
 * "kenchi":{"seq":N}, the alert's sequence number in the store. That makes
 * delivery exactly once: after a crash, last_delivered() reads the file's
 * last line and the daemon goes on after that seq, whatever its own cursor
 * says. A line cut short by a crash (no newline at the end of the file) is
 * removed when the file is opened, and the alert written again.
 *
 * A line is written with one write() on a file opened O_APPEND; flush()
 * (called after each run of deliveries, before the cursor is saved)
 * fsyncs. reopen() (SIGHUP) closes and opens the path again, so that a
 * log rotation that renamed the file away starts a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/output.h"
#include "util/buf.h"

struct jsonl {
    const char *path;
    bool sync;
    uint64_t mode;
    int fd;
    bool dirty; /* written since the last fsync */
    struct buf line;
};

static int jsonl_configure(struct conf_ctx *c, const struct ynode *node, void **state)
{
    static const char *const keys[] = {"path", "fsync", "mode", NULL};
    output_check_keys(c, node, keys);
    struct jsonl *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    j->fd = -1;
    j->sync = true;
    j->mode = 0640;
    buf_init(&j->line);
    unsigned before = c->nerrors;
    if (!conf_need(c, node, "path") || conf_str(c, node, "path", &j->path) < 0)
        j->path = NULL;
    conf_bool(c, node, "fsync", &j->sync);
    const char *mode = NULL;
    if (conf_str(c, node, "mode", &mode) == 1) {
        char *end;
        unsigned long m = strtoul(mode, &end, 8);
        if (*end || m > 0777)
            conf_error(c, ynode_get(node, "mode"),
                       "mode: '%s' is not an octal file mode such "
                       "as 0640",
                       mode);
        else
            j->mode = m;
    }
    if (j->path && j->path[0] != '/')
        conf_error(c, ynode_get(node, "path"), "path: '%s' is not an absolute path", j->path);
    *state = j;
    return c->nerrors == before ? 0 : -1;
}

/* Cut a last line without its newline (a write cut short by a crash). */
static int repair_tail(struct jsonl *j)
{
    struct stat sb;
    if (fstat(j->fd, &sb) < 0)
        return -errno;
    off_t end = sb.st_size;
    char b[4096];
    while (end > 0) {
        size_t n = end > (off_t)sizeof(b) ? sizeof(b) : (size_t)end;
        ssize_t r = pread(j->fd, b, n, end - (off_t)n);
        if (r != (ssize_t)n)
            return r < 0 ? -errno : -EIO;
        if (end == sb.st_size && b[n - 1] == '\n')
            return 0; /* whole */
        for (size_t i = n; i > 0; i--)
            if (b[i - 1] == '\n') {
                off_t keep = end - (off_t)n + (off_t)i;
                return ftruncate(j->fd, keep) < 0 ? -errno : 0;
            }
        end -= (off_t)n;
    }
    return sb.st_size && ftruncate(j->fd, 0) < 0 ? -errno : 0;
}

static int jsonl_open(void *state, char *err, size_t errn)
{
    struct jsonl *j = state;
    j->fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, (mode_t)j->mode);
    if (j->fd < 0) {
        int e = errno;
        snprintf(err, errn, "%s: %s", j->path, strerror(e));
        return -e;
    }
    int rc = repair_tail(j);
    if (rc < 0) {
        snprintf(err, errn, "%s: %s", j->path, strerror(-rc));
        close(j->fd);
        j->fd = -1;
        return rc;
    }
    return 0;
}

static int jsonl_last_delivered(void *state, uint64_t *seq)
{
    struct jsonl *j = state;
    *seq = 0;
    if (j->fd < 0)
        return -EBADF;
    struct stat sb;
    if (fstat(j->fd, &sb) < 0)
        return -errno;
    if (sb.st_size == 0)
        return 0;
    /* the last line starts after the last newline but one */
    char b[4096];
    off_t end = sb.st_size - 1; /* the final newline */
    off_t start = 0;
    while (end > 0) {
        size_t n = end > (off_t)sizeof(b) ? sizeof(b) : (size_t)end;
        ssize_t r = pread(j->fd, b, n, end - (off_t)n);
        if (r != (ssize_t)n)
            return r < 0 ? -errno : -EIO;
        bool found = false;
        for (size_t i = n; i > 0 && !found; i--)
            if (b[i - 1] == '\n') {
                start = end - (off_t)n + (off_t)i;
                found = true;
            }
        if (found)
            break;
        end -= (off_t)n;
    }
    static const char pre[] = "{\"kenchi\":{\"seq\":";
    char head[sizeof(pre) + 24] = "";
    ssize_t r = pread(j->fd, head, sizeof(head) - 1, start);
    if (r < 0)
        return -errno;
    head[r] = '\0';
    if (strncmp(head, pre, sizeof(pre) - 1))
        return 0; /* not written by kenchi: nothing known */
    *seq = strtoull(head + sizeof(pre) - 1, NULL, 10);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int jsonl_deliver(void *state, const struct alert_msg *m, char *err, size_t errn)
{
    struct jsonl *j = state;
    if (j->fd < 0) {
        char e[256];
        if (jsonl_open(j, e, sizeof(e)) < 0) {
            snprintf(err, errn, "%s", e);
            return -EAGAIN;
        }
    }
    buf_clear(&j->line);
    buf_printf(&j->line, "{\"kenchi\":{\"seq\":%llu}", (unsigned long long)m->seq);
    if (m->n > 2 && m->json[0] == '{') {
        buf_putc(&j->line, ',');
        buf_append(&j->line, m->json + 1, m->n - 1);
    } else {
        buf_putc(&j->line, '}');
    }
    buf_putc(&j->line, '\n');
    int rc = write_all(j->fd, j->line.data, j->line.len);
    if (rc < 0) {
        snprintf(err, errn, "%s: %s", j->path, strerror(-rc));
        /* a partial line is cut when the file is opened again */
        close(j->fd);
        j->fd = -1;
        return -EAGAIN;
    }
    j->dirty = true;
    return 0;
}

static int jsonl_flush(void *state)
{
    struct jsonl *j = state;
    if (j->fd < 0 || !j->dirty || !j->sync)
        return 0;
    j->dirty = false;
    return fdatasync(j->fd) < 0 ? -errno : 0;
}

static int jsonl_reopen(void *state)
{
    struct jsonl *j = state;
    jsonl_flush(j);
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    char e[256];
    return jsonl_open(j, e, sizeof(e));
}

static void jsonl_close(void *state)
{
    struct jsonl *j = state;
    if (!j)
        return;
    jsonl_flush(j);
    if (j->fd >= 0)
        close(j->fd);
    buf_free(&j->line);
    free(j);
}

const struct output_ops output_jsonl = {
    .type = "jsonl",
    .configure = jsonl_configure,
    .open = jsonl_open,
    .last_delivered = jsonl_last_delivered,
    .deliver = jsonl_deliver,
    .reopen = jsonl_reopen,
    .close = jsonl_close,
    .flush = jsonl_flush,
};
