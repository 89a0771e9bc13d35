/*
 * bl-index.h - a hash index from 64-bit keys to 32-bit values, with
 * removal, for the profile tables of the host and spraying modules
 * (entities, beacon pairs, DNS answers): open addressing with linear
 * probing over a power-of-two table at most half full; removal shifts the
 * following entries back, so there are no tombstones and lookups stay
 * short whatever the churn. Key 0 is reserved (it is stored as 1).
 */
#ifndef KENCHI_BASELINE_BL_INDEX_H
#define KENCHI_BASELINE_BL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_IDX_NONE UINT32_MAX

struct bl_idx {
    uint64_t *keys; /* 0: empty */
    uint32_t *vals;
    uint32_t size, n;
};

void bl_idx_init(struct bl_idx *x);
void bl_idx_free(struct bl_idx *x);
/* The value of key, or BL_IDX_NONE. */
uint32_t bl_idx_get(const struct bl_idx *x, uint64_t key);
/* Set key's value (insert or replace). 0 or -ENOMEM. */
int bl_idx_put(struct bl_idx *x, uint64_t key, uint32_t val);
/* Remove key; false when it was absent. */
bool bl_idx_del(struct bl_idx *x, uint64_t key);
size_t bl_idx_bytes(const struct bl_idx *x);

#endif
