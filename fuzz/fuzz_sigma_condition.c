/*
 * fuzz_sigma_condition.c - libFuzzer target for the Sigma condition parser.
 *
 * The input is a condition over a fixed set of search identifiers; the
 * parser must either build a tree whose every index is in range or return
 * an error with an offset inside the input, never crash or recurse without
 * bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "detect/sigma-cond.h"

static const struct str idents[] = {
    STR_LIT("selection"),         STR_LIT("selection_img"), STR_LIT("filter_main"),
    STR_LIT("filter_optional_x"), STR_LIT("keywords"),      STR_LIT("_private"),
};
#define NIDENTS (sizeof(idents) / sizeof(idents[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cond_tree t;
    struct cond_error e;
    if (sigma_condition_parse((const char *)data, size, idents, NIDENTS, &t, &e) == 0) {
        if (t.root >= t.n)
            abort();
        for (uint32_t i = 0; i < t.n; i++) {
            const struct cond_node *c = &t.nodes[i];
            if (c->op == COND_SEL && c->a >= NIDENTS)
                abort();
            if ((c->op == COND_AND || c->op == COND_OR) && (c->a >= t.n || c->b >= t.n))
                abort();
            if (c->op == COND_ATLEAST && (uint64_t)c->b + c->n > t.nsels)
                abort();
        }
        /* the n-ary rewrite the matcher uses must keep every index in range */
        cond_tree_flatten(&t);
        if (t.root >= t.n)
            abort();
        for (uint32_t i = 0; i < t.n; i++) {
            const struct cond_node *c = &t.nodes[i];
            if ((c->op == COND_ALL || c->op == COND_ANY) && (uint64_t)c->b + c->n > t.nsels)
                abort();
        }
        cond_tree_free(&t);
    } else if (e.pos > size) {
        abort();
    }
    return 0;
}
