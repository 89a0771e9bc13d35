/*
 * intel-pattern.c - STIX patterns in an import: the ones that only list
 * values become plain indicators (matched by the set and found by the
 * hunting index); the ones the grammar refuses are reported and dropped;
 * the rest stay patterns, for the stream matcher.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel-read.h"
#include "intel/stix-pattern.h"

struct expand_ctx {
    struct ioc_batch *b;
    uint32_t meta;
    bool detect;
    const char *where;
    size_t added;
};

static void on_value(void *opaque, enum ioc_type t, const char *v, size_t n)
{
    struct expand_ctx *e = opaque;
    if (ioc_batch_add(e->b, t, v, n, e->meta, e->detect, e->where) == 0)
        e->added++;
}

size_t intel_expand_patterns(struct ioc_batch *b)
{
    size_t n = b->niocs, kept = 0, expanded = 0;
    bool *drop = NULL;
    for (size_t i = 0; i < n; i++) {
        if (b->iocs[i].type != IOC_PATTERN)
            continue;
        struct ioc p = b->iocs[i]; /* b->iocs may move while values are added */
        const struct ioc_meta *m = &b->metas[p.meta];
        const char *where = m->ref ? m->ref : b->source;
        struct stix_pattern *sp = NULL;
        char err[256];
        bool remove = false;
        if (stix_pattern_compile(p.value, strlen(p.value), &sp, err, sizeof(err)) < 0) {
            ioc_batch_problem(b, where, "pattern refused (it matches nothing): %s", err);
            remove = true;
        } else {
            struct expand_ctx e = {.b = b, .meta = p.meta, .detect = p.detect, .where = where};
            if (stix_pattern_simple_values(sp, on_value, &e) == 1) {
                remove = true;
                expanded++;
            }
            stix_pattern_free(sp);
        }
        if (remove) {
            if (!drop) {
                drop = calloc(n, sizeof(*drop));
                if (!drop)
                    abort();
            }
            drop[i] = true;
        }
    }
    if (drop) {
        for (size_t i = 0; i < b->niocs; i++)
            if (i >= n || !drop[i])
                b->iocs[kept++] = b->iocs[i];
        b->niocs = kept;
        free(drop);
    }
    return expanded;
}
