/*
 * metrics.c - the registry of kenchi's health figures (see metrics.h).
 */
#include "daemon/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_COUNTER, K_GAUGE, K_GAUGE_FN };

struct series {
    char *name;
    char *help;
    char *labels; /* "k=v,k=v" as registered */
    enum kind kind;
    double scale;
    double (*fn)(void *opaque);
    void *opaque;
    union {
        _Atomic uint64_t counter;
        _Atomic int64_t gauge;
    };
};

struct metrics {
    pthread_mutex_t lock;
    struct series *s[METRICS_MAX_SERIES];
    size_t n;
    struct series sink; /* what registrations past the bound get */
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->s[i]->name);
        free(m->s[i]->help);
        free(m->s[i]->labels);
        free(m->s[i]);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct series *reg(struct metrics *m, const char *name, const char *help, const char *labels,
                          enum kind k)
{
    if (!labels)
        labels = "";
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n; i++) {
        struct series *s = m->s[i];
        if (s->kind == k && !strcmp(s->name, name) && !strcmp(s->labels, labels)) {
            pthread_mutex_unlock(&m->lock);
            return s;
        }
    }
    struct series *s = NULL;
    if (m->n < METRICS_MAX_SERIES && (s = calloc(1, sizeof(*s)))) {
        s->name = strdup(name);
        s->help = strdup(help ? help : "");
        s->labels = strdup(labels);
        if (!s->name || !s->help || !s->labels) {
            free(s->name);
            free(s->help);
            free(s->labels);
            free(s);
            s = NULL;
        }
    }
    if (!s) {
        pthread_mutex_unlock(&m->lock);
        return &m->sink;
    }
    s->kind = k;
    s->scale = 1;
    m->s[m->n++] = s;
    pthread_mutex_unlock(&m->lock);
    return s;
}

_Atomic uint64_t *metrics_counter(struct metrics *m, const char *name, const char *help,
                                  const char *labels)
{
    return &reg(m, name, help, labels, K_COUNTER)->counter;
}

_Atomic int64_t *metrics_gauge(struct metrics *m, const char *name, const char *help,
                               const char *labels, double scale)
{
    struct series *s = reg(m, name, help, labels, K_GAUGE);
    if (s != &m->sink)
        s->scale = scale;
    return &s->gauge;
}

void metrics_gauge_fn(struct metrics *m, const char *name, const char *help, const char *labels,
                      double (*fn)(void *opaque), void *opaque)
{
    struct series *s = reg(m, name, help, labels, K_GAUGE_FN);
    if (s == &m->sink)
        return;
    pthread_mutex_lock(&m->lock);
    s->fn = fn;
    s->opaque = opaque;
    pthread_mutex_unlock(&m->lock);
}

/* Escape a label value: backslash, double quote and newline. */
static void put_label_value(struct buf *out, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' || v[i] == '"')
            buf_putc(out, '\\');
        if (v[i] == '\n') {
            buf_puts(out, "\\n");
            continue;
        }
        buf_putc(out, v[i]);
    }
}

static void put_labels(struct buf *out, const char *labels)
{
    if (!*labels)
        return;
    buf_putc(out, '{');
    const char *p = labels;
    bool first = true;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq) {
            if (!first)
                buf_putc(out, ',');
            first = false;
            buf_append(out, p, (size_t)(eq - p));
            buf_puts(out, "=\"");
            put_label_value(out, eq + 1, n - (size_t)(eq - p) - 1);
            buf_putc(out, '"');
        }
        p += n;
        if (*p == ',')
            p++;
    }
    buf_putc(out, '}');
}

static void put_double(struct buf *out, double v)
{
    if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
        buf_put_i64(out, (int64_t)v);
    else
        buf_printf(out, "%.15g", v);
}

void metrics_render(struct metrics *m, struct buf *out)
{
    pthread_mutex_lock(&m->lock);
    bool *done = calloc(m->n ? m->n : 1, sizeof(*done));
    for (size_t i = 0; i < m->n; i++) {
        if (done && done[i])
            continue;
        const struct series *h = m->s[i];
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", h->name, h->help, h->name,
                   h->kind == K_COUNTER ? "counter" : "gauge");
        /* every series of this name together, in registration order */
        for (size_t j = i; j < m->n; j++) {
            const struct series *s = m->s[j];
            if (strcmp(s->name, h->name) || (done && done[j]))
                continue;
            if (done)
                done[j] = true;
            buf_puts(out, s->name);
            put_labels(out, s->labels);
            buf_putc(out, ' ');
            if (s->kind == K_COUNTER)
                buf_put_u64(out, atomic_load_explicit(&s->counter, memory_order_relaxed));
            else if (s->kind == K_GAUGE)
                put_double(out, (double)atomic_load_explicit(&s->gauge, memory_order_relaxed) *
                                    s->scale);
            else
                put_double(out, s->fn ? s->fn(s->opaque) : 0);
            buf_putc(out, '\n');
        }
    }
    free(done);
    pthread_mutex_unlock(&m->lock);
}
