/* Unit tests for the baseline hash index (bl-index.c): random inserts,
 * replacements and removals against a plain array, so that backward-shift
 * removal keeps every remaining key reachable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "baseline/bl-index.h"

#define KEYS 2000

static void test_against_reference(void **state)
{
    (void)state;
    static uint32_t ref[KEYS]; /* BL_IDX_NONE: absent */
    struct bl_idx x;
    bl_idx_init(&x);
    for (int i = 0; i < KEYS; i++)
        ref[i] = BL_IDX_NONE;
    assert_int_equal(bl_idx_get(&x, 5), BL_IDX_NONE);
    assert_false(bl_idx_del(&x, 5));
    uint32_t r = 7;
    uint32_t live = 0;
    for (int step = 0; step < 200000; step++) {
        r = r * 1103515245u + 12345u;
        /* small keys collide in the low bits: long clusters */
        uint32_t k = (r >> 8) % KEYS;
        uint64_t key = (uint64_t)k << 20; /* key 0 is allowed (stored as 1) */
        if ((r >> 4) % 3) {
            if (ref[k] == BL_IDX_NONE)
                live++;
            ref[k] = (uint32_t)step;
            assert_int_equal(bl_idx_put(&x, key, (uint32_t)step), 0);
        } else {
            bool had = ref[k] != BL_IDX_NONE;
            assert_int_equal(bl_idx_del(&x, key), had);
            if (had)
                live--;
            ref[k] = BL_IDX_NONE;
        }
        if (step % 1000 == 0)
            for (uint32_t j = 0; j < KEYS; j++)
                assert_int_equal(bl_idx_get(&x, (uint64_t)j << 20), ref[j]);
        assert_int_equal(x.n, live);
    }
    assert_true(bl_idx_bytes(&x) >= x.n * 12u);
    bl_idx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
