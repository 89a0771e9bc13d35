/*
 * bl-table.h - the profiles of one module, by entity id, bounded.
 *
 * A module embeds `struct bl_tent` at the start of its profile struct and
 * keeps its profiles in a bl_table: a hash table (open addressing, linear
 * probing, backward-shift removal) from the id's 64-bit hash to the
 * profile, plus a list in order of activity (the profile touched last is
 * at the tail), so the least recently active profile is evicted first when
 * the table is at its limit. Iteration (bl_table_next) follows the slots,
 * which depend only on the sequence of inserts and removals: the same input
 * gives the same order. The table never frees a profile: removal hands it
 * back to the module.
 */
#ifndef KENCHI_BASELINE_BL_TABLE_H
#define KENCHI_BASELINE_BL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline/baseline.h"

struct bl_tent {
    uint64_t h;                  /* bl_hash of id */
    char *id;                    /* the entity id (malloc'd by the module) */
    uint32_t last;               /* last activity (s, event time) */
    bool dirty;                  /* changed since it was last saved */
    struct bl_tent *prev, *next; /* activity list */
};

struct bl_table {
    struct bl_tent **slot;
    uint32_t size, n;
    struct bl_tent *oldest, *newest;
};

void bl_table_init(struct bl_table *t);
/* Frees the slots only; the caller frees the profiles first (bl_table_next). */
void bl_table_free(struct bl_table *t);
struct bl_tent *bl_table_get(const struct bl_table *t, const char *id, size_t n);
/* The first profile with hash h (ids are compared by the caller if needed). */
struct bl_tent *bl_table_get_hash(const struct bl_table *t, uint64_t h);
/* Insert e (e->h and e->id set, not present). 0 or -ENOMEM. */
int bl_table_insert(struct bl_table *t, struct bl_tent *e);
void bl_table_remove(struct bl_table *t, struct bl_tent *e);
/* Mark e active at time ts (moves it to the newest end). */
void bl_table_touch(struct bl_table *t, struct bl_tent *e, uint32_t ts);
/* Iterate: *pos starts at 0; returns NULL at the end. Do not insert while
 * iterating; removing the returned entry is allowed when the caller then
 * calls again with the same *pos (bl_table_remove_at handles it). */
struct bl_tent *bl_table_next(const struct bl_table *t, uint32_t *pos);
/* Remove the entry bl_table_next just returned, keeping the iteration valid. */
void bl_table_remove_at(struct bl_table *t, uint32_t *pos);
size_t bl_table_bytes(const struct bl_table *t);

/* Save the profiles: every one (all) or those marked dirty, each written
 * by write (the module's format) into b and handed to put as an entity of
 * kind; their marks are cleared. Returns 0 or put's error. */
struct buf;
int bl_table_save(struct bl_table *t, bool all, enum bl_kind kind,
                  void (*write)(const void *m, const struct bl_tent *e, struct buf *b),
                  const void *m,
                  int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                             size_t n),
                  void *o, struct buf *b);

#endif
