/*
 * sigma-cond.h - the Sigma condition language, parsed into a small tree.
 *
 * Grammar (least to most binding, as the specification orders it):
 *
 *   expr    := or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | quant "of" (pattern | "them") | identifier
 *   quant   := "all" | "any" | N        (N >= 1; "1 of" is the usual form)
 *
 * Keywords are case-insensitive. Identifiers are the rule's search
 * identifiers ([A-Za-z0-9_.-]); patterns add '*' wildcards. "them" means
 * every identifier not starting with '_'. The quantified forms are expanded
 * at parse time into OR / AND / "at least N" nodes over identifier indices,
 * so evaluation never looks at names. The pipe syntax of Sigma v1
 * aggregations ("| count() > 5") is refused with a pointer to correlations.
 *
 * The tree is a flat array of nodes (no pointers), so a rule's condition is
 * one allocation, and a filter's condition can be grafted onto a rule's by
 * copying with an index offset (cond_tree_graft).
 */
#ifndef KENCHI_DETECT_SIGMA_COND_H
#define KENCHI_DETECT_SIGMA_COND_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

enum cond_op {
    COND_SEL,     /* search identifier a */
    COND_NOT,     /* not node a */
    COND_AND,     /* node a and node b */
    COND_OR,      /* node a or node b */
    COND_ATLEAST, /* at least a of the identifiers sels[b .. b+n) */
    COND_ALL,     /* every node of sels[b .. b+n), left to right (after flatten) */
    COND_ANY,     /* some node of sels[b .. b+n), left to right (after flatten) */
};

struct cond_node {
    uint8_t op;
    uint32_t a, b, n;
};

struct cond_tree {
    struct cond_node *nodes; /* malloc'd; root is nodes[root] */
    uint32_t n, cap;
    uint32_t root;
    uint32_t *sels; /* identifier lists (COND_ATLEAST), node lists (COND_ALL/ANY) */
    uint32_t nsels, capsels;
};

struct cond_error {
    size_t pos; /* byte offset in the condition text */
    char msg[200];
};

/* Parse text[0..len) against the identifier names idents[0..nidents).
 * Returns 0 with *out filled (free with cond_tree_free), or -EINVAL with
 * *err set (out is then empty). */
int sigma_condition_parse(const char *text, size_t len, const struct str *idents, size_t nidents,
                          struct cond_tree *out, struct cond_error *err);

/* Append a node; returns its index. Aborts on out-of-memory. */
uint32_t cond_tree_add(struct cond_tree *t, uint8_t op, uint32_t a, uint32_t b);

/* Copy src's nodes into dst with identifier indices shifted by sel_offset;
 * returns the index of src's root inside dst. */
uint32_t cond_tree_graft(struct cond_tree *dst, const struct cond_tree *src, uint32_t sel_offset);

/* Rewrite chains of and / or into n-ary COND_ALL / COND_ANY nodes whose
 * operands are evaluated left to right, as written (the rule writer puts the
 * selective part first), without deep recursion on long chains. */
void cond_tree_flatten(struct cond_tree *t);

void cond_tree_free(struct cond_tree *t);

#endif
