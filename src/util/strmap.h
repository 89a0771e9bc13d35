/*
 * strmap.h - a hash table from byte strings to 64-bit values.
 *
 * Readers that resolve references by id (STIX objects pointing at other
 * objects, markings, relationships) need "id -> index" lookups over a few
 * thousand to millions of keys. Open addressing with linear probing over a
 * power-of-two table kept at most half full; keys are copied into the map's
 * own arena, so the caller's text may go away. There is no removal: maps
 * live for one read and are freed whole.
 */
#ifndef KENCHI_UTIL_STRMAP_H
#define KENCHI_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

struct strmap_slot {
    const char *key; /* NULL: empty slot */
    uint32_t len;
    uint32_t hash32;
    uint64_t value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t n;
    struct arena keys;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);

/* The value slot of key[0..n), inserting the key with value 0 when it is
 * absent; *found (if not NULL) tells which. The pointer is valid until the
 * next insertion. Aborts on out-of-memory. */
uint64_t *strmap_put(struct strmap *m, const char *key, size_t n, bool *found);

/* The value slot of key[0..n), or NULL if absent. */
uint64_t *strmap_get(const struct strmap *m, const char *key, size_t n);

/* The key stored for a slot returned by strmap_put (NUL-terminated, lives
 * as long as the map). */
const char *strmap_key_of(const struct strmap *m, const uint64_t *slot);

#endif
