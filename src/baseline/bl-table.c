/*
 * bl-table.c - profiles by entity id with an activity order (bl-table.h).
 */
#include "baseline/bl-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-prim.h"

void bl_table_init(struct bl_table *t)
{
    memset(t, 0, sizeof *t);
}

void bl_table_free(struct bl_table *t)
{
    free(t->slot);
    memset(t, 0, sizeof *t);
}

struct bl_tent *bl_table_get_hash(const struct bl_table *t, uint64_t h)
{
    if (!t->size)
        return NULL;
    uint32_t mask = t->size - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        struct bl_tent *e = t->slot[i];
        if (!e)
            return NULL;
        if (e->h == h)
            return e;
    }
}

struct bl_tent *bl_table_get(const struct bl_table *t, const char *id, size_t n)
{
    if (!t->size)
        return NULL;
    uint64_t h = bl_hash(id, n);
    uint32_t mask = t->size - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        struct bl_tent *e = t->slot[i];
        if (!e)
            return NULL;
        if (e->h == h && !strncmp(e->id, id, n) && e->id[n] == '\0')
            return e;
    }
}

static void put_raw(struct bl_tent **slot, uint32_t size, struct bl_tent *e)
{
    uint32_t mask = size - 1;
    uint32_t i = (uint32_t)e->h & mask;
    while (slot[i])
        i = (i + 1) & mask;
    slot[i] = e;
}

static void list_unlink(struct bl_table *t, struct bl_tent *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        t->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->newest = e->prev;
    e->prev = e->next = NULL;
}

static void list_append(struct bl_table *t, struct bl_tent *e)
{
    e->prev = t->newest;
    e->next = NULL;
    if (t->newest)
        t->newest->next = e;
    else
        t->oldest = e;
    t->newest = e;
}

int bl_table_insert(struct bl_table *t, struct bl_tent *e)
{
    if ((t->n + 1) * 2 > t->size) {
        uint32_t size = t->size ? t->size * 2 : 64;
        struct bl_tent **ns = calloc(size, sizeof *ns);
        if (!ns)
            return -ENOMEM;
        for (uint32_t i = 0; i < t->size; i++)
            if (t->slot[i])
                put_raw(ns, size, t->slot[i]);
        free(t->slot);
        t->slot = ns;
        t->size = size;
    }
    put_raw(t->slot, t->size, e);
    t->n++;
    list_append(t, e);
    return 0;
}

/* Empty slot i and shift the rest of its cluster back (no tombstones). */
static void remove_slot(struct bl_table *t, uint32_t i)
{
    uint32_t mask = t->size - 1;
    t->slot[i] = NULL;
    for (uint32_t j = (i + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)t->slot[j]->h & mask;
        /* Move j back to i when its home is not inside (i, j]. */
        bool in = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in) {
            t->slot[i] = t->slot[j];
            t->slot[j] = NULL;
            i = j;
        }
    }
    t->n--;
}

void bl_table_remove(struct bl_table *t, struct bl_tent *e)
{
    uint32_t mask = t->size - 1;
    for (uint32_t i = (uint32_t)e->h & mask;; i = (i + 1) & mask) {
        if (!t->slot[i])
            return; /* not present */
        if (t->slot[i] == e) {
            remove_slot(t, i);
            list_unlink(t, e);
            return;
        }
    }
}

void bl_table_touch(struct bl_table *t, struct bl_tent *e, uint32_t ts)
{
    if (ts > e->last)
        e->last = ts;
    if (t->newest != e) {
        list_unlink(t, e);
        list_append(t, e);
    }
}

struct bl_tent *bl_table_next(const struct bl_table *t, uint32_t *pos)
{
    while (*pos < t->size) {
        struct bl_tent *e = t->slot[(*pos)++];
        if (e)
            return e;
    }
    return NULL;
}

void bl_table_remove_at(struct bl_table *t, uint32_t *pos)
{
    uint32_t i = *pos - 1;
    struct bl_tent *e = t->slot[i];
    if (!e)
        return;
    remove_slot(t, i);
    list_unlink(t, e);
    *pos = i; /* an entry may have moved into slot i: look at it again */
}

size_t bl_table_bytes(const struct bl_table *t)
{
    return (size_t)t->size * sizeof(struct bl_tent *);
}

int bl_table_save(struct bl_table *t, bool all, enum bl_kind kind,
                  void (*write)(const void *m, const struct bl_tent *e, struct buf *b),
                  const void *m,
                  int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                             size_t n),
                  void *o, struct buf *b)
{
    uint32_t pos = 0;
    struct bl_tent *e;
    int rc = 0;
    while (rc == 0 && (e = bl_table_next(t, &pos))) {
        if (!all && !e->dirty)
            continue;
        buf_clear(b);
        write(m, e, b);
        rc = put(o, kind, e->id, b->data, b->len);
        e->dirty = false;
    }
    return rc;
}
