/*
 * bl-index.c - the hash index of bl-index.h.
 */
#include "baseline/bl-index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t fix_key(uint64_t k)
{
    return k ? k : 1;
}

static inline uint32_t slot_of(uint64_t k, uint32_t mask)
{
    /* The low bits of xxhash are good; mix anyway for callers' own keys. */
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 32;
    return (uint32_t)k & mask;
}

void bl_idx_init(struct bl_idx *x)
{
    memset(x, 0, sizeof *x);
}

void bl_idx_free(struct bl_idx *x)
{
    free(x->keys);
    free(x->vals);
    memset(x, 0, sizeof *x);
}

uint32_t bl_idx_get(const struct bl_idx *x, uint64_t key)
{
    if (!x->size)
        return BL_IDX_NONE;
    key = fix_key(key);
    uint32_t mask = x->size - 1;
    for (uint32_t i = slot_of(key, mask);; i = (i + 1) & mask) {
        if (x->keys[i] == key)
            return x->vals[i];
        if (!x->keys[i])
            return BL_IDX_NONE;
    }
}

static void put_raw(uint64_t *keys, uint32_t *vals, uint32_t size, uint64_t key, uint32_t val)
{
    uint32_t mask = size - 1;
    uint32_t i = slot_of(key, mask);
    while (keys[i] && keys[i] != key)
        i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = val;
}

static int grow(struct bl_idx *x)
{
    uint32_t size = x->size ? x->size * 2 : 16;
    if (size < x->size)
        return -ENOMEM;
    uint64_t *keys = calloc(size, sizeof *keys);
    uint32_t *vals = malloc(size * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < x->size; i++)
        if (x->keys[i])
            put_raw(keys, vals, size, x->keys[i], x->vals[i]);
    free(x->keys);
    free(x->vals);
    x->keys = keys;
    x->vals = vals;
    x->size = size;
    return 0;
}

int bl_idx_put(struct bl_idx *x, uint64_t key, uint32_t val)
{
    key = fix_key(key);
    if ((x->n + 1) * 2 > x->size) {
        int rc = grow(x);
        if (rc < 0)
            return rc;
    }
    uint32_t mask = x->size - 1;
    uint32_t i = slot_of(key, mask);
    while (x->keys[i] && x->keys[i] != key)
        i = (i + 1) & mask;
    if (!x->keys[i])
        x->n++;
    x->keys[i] = key;
    x->vals[i] = val;
    return 0;
}

bool bl_idx_del(struct bl_idx *x, uint64_t key)
{
    if (!x->size)
        return false;
    key = fix_key(key);
    uint32_t mask = x->size - 1;
    uint32_t i = slot_of(key, mask);
    while (x->keys[i] != key) {
        if (!x->keys[i])
            return false;
        i = (i + 1) & mask;
    }
    /* Backward shift: move later members of the cluster into the hole
     * when their home slot does not lie cyclically in (hole, j]. */
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & mask; x->keys[j]; j = (j + 1) & mask) {
        uint32_t home = slot_of(x->keys[j], mask);
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        x->keys[hole] = x->keys[j];
        x->vals[hole] = x->vals[j];
        hole = j;
    }
    x->keys[hole] = 0;
    x->n--;
    return true;
}

size_t bl_idx_bytes(const struct bl_idx *x)
{
    return (size_t)x->size * (sizeof(uint64_t) + sizeof(uint32_t));
}
