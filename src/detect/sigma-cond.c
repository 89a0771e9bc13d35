/*
 * sigma-cond.c - tokenizer and recursive-descent parser for Sigma
 * conditions; see sigma-cond.h for the grammar.
 *
 * The tokenizer works on demand (one token of lookahead); every error names
 * the byte offset of the token that broke the rule, which the loader turns
 * into file:line:column. Recursion depth is bounded (parentheses and "not"
 * chains) so hostile conditions cannot exhaust the stack.
 */
#include "detect/sigma-cond.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COND_MAX_DEPTH 200

enum tok {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_AND,
    T_OR,
    T_NOT,
    T_OF,
    T_ALL,
    T_ANY,
    T_THEM,
    T_NUMBER,
    T_IDENT, /* identifier or pattern (contains '*') */
    T_PIPE,
    T_BAD,
};

struct parser {
    const char *s;
    size_t n;
    size_t pos;   /* next unread byte */
    enum tok tok; /* current token */
    size_t tpos;  /* its offset */
    size_t tlen;  /* its length */
    const struct str *idents;
    size_t nidents;
    struct cond_tree *t;
    struct cond_error *err;
    int depth;
};

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '*' || c == '?';
}

static bool word_is(const char *p, size_t n, const char *kw)
{
    return strlen(kw) == n && !strncasecmp(p, kw, n);
}

static void next(struct parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
    p->tpos = p->pos;
    p->tlen = 0;
    if (p->pos >= p->n) {
        p->tok = T_END;
        return;
    }
    char c = p->s[p->pos];
    if (c == '(' || c == ')' || c == '|') {
        p->tok = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_PIPE;
        p->tlen = 1;
        p->pos++;
        return;
    }
    if (!ident_char(c)) {
        p->tok = T_BAD;
        p->tlen = 1;
        return;
    }
    size_t e = p->pos;
    while (e < p->n && ident_char(p->s[e]))
        e++;
    const char *w = p->s + p->pos;
    size_t wl = e - p->pos;
    p->tlen = wl;
    p->pos = e;
    static const struct {
        const char *kw;
        enum tok tok;
    } kws[] = {{"and", T_AND}, {"or", T_OR},   {"not", T_NOT},  {"of", T_OF},
               {"all", T_ALL}, {"any", T_ANY}, {"them", T_THEM}};
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
        if (word_is(w, wl, kws[i].kw)) {
            p->tok = kws[i].tok;
            return;
        }
    }
    bool digits = true;
    for (size_t i = 0; i < wl; i++)
        if (w[i] < '0' || w[i] > '9')
            digits = false;
    p->tok = digits ? T_NUMBER : T_IDENT;
}

static int error(struct parser *p, size_t pos, const char *fmt, const char *a, int alen)
{
    p->err->pos = pos;
    snprintf(p->err->msg, sizeof(p->err->msg), fmt, alen, a);
    return -EINVAL;
}

static const char *tok_desc(enum tok t)
{
    switch (t) {
    case T_END:
        return "end of condition";
    case T_RPAREN:
        return "')'";
    case T_AND:
        return "'and'";
    case T_OR:
        return "'or'";
    case T_OF:
        return "'of'";
    default:
        return "this";
    }
}

uint32_t cond_tree_add(struct cond_tree *t, uint8_t op, uint32_t a, uint32_t b)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        struct cond_node *nn = realloc(t->nodes, cap * sizeof(*nn));
        if (!nn) {
            fprintf(stderr, "kenchi: out of memory\n");
            abort();
        }
        t->nodes = nn;
        t->cap = cap;
    }
    t->nodes[t->n] = (struct cond_node){op, a, b, 0};
    return t->n++;
}

static void push_sel(struct cond_tree *t, uint32_t s)
{
    if (t->nsels == t->capsels) {
        uint32_t cap = t->capsels ? t->capsels * 2 : 16;
        uint32_t *ns = realloc(t->sels, cap * sizeof(*ns));
        if (!ns) {
            fprintf(stderr, "kenchi: out of memory\n");
            abort();
        }
        t->sels = ns;
        t->capsels = cap;
    }
    t->sels[t->nsels++] = s;
}

/* '*' matches any run of characters, '?' one character. */
static bool pattern_match(const char *pat, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && (pat[pi] == '?' || pat[pi] == s[si])) {
            pi++;
            si++;
        } else if (pi < pn && pat[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && pat[pi] == '*')
        pi++;
    return pi == pn;
}

static int parse_or(struct parser *p, uint32_t *out);

/* quant "of" target; the current token is the quantifier. */
static int parse_of(struct parser *p, uint32_t *out)
{
    size_t qpos = p->tpos;
    uint32_t need = 0; /* 0 = all */
    if (p->tok == T_NUMBER) {
        unsigned long v = strtoul(p->s + p->tpos, NULL, 10);
        if (v == 0 || v > 100000)
            return error(p, qpos, "'%.*s of' needs a count of at least 1", p->s + p->tpos,
                         (int)p->tlen);
        need = (uint32_t)v;
    } else if (p->tok == T_ANY) {
        need = 1;
    }
    next(p);
    if (p->tok != T_OF)
        return error(p, p->tpos, "expected 'of' after '%.*s'", p->s + qpos,
                     (int)(p->tpos > qpos ? p->tpos - qpos : 1));
    next(p);
    size_t tpos = p->tpos;
    const char *pat = p->s + p->tpos;
    size_t pl = p->tlen;
    bool them = p->tok == T_THEM;
    if (!them && p->tok != T_IDENT)
        return error(p, tpos, "expected a search identifier pattern or 'them' after 'of'%.*s", "",
                     0);
    uint32_t first = p->t->nsels, count = 0;
    for (size_t i = 0; i < p->nidents; i++) {
        const struct str *id = &p->idents[i];
        bool m = them ? !(id->n && id->p[0] == '_') : pattern_match(pat, pl, id->p, id->n);
        if (m) {
            push_sel(p->t, (uint32_t)i);
            count++;
        }
    }
    if (count == 0) {
        if (them)
            return error(p, tpos, "'them' names no search identifier%.*s", "", 0);
        return error(p, tpos, "pattern '%.*s' matches no search identifier", pat, (int)pl);
    }
    next(p);
    uint32_t idx = cond_tree_add(p->t, COND_ATLEAST, need ? need : count, first);
    p->t->nodes[idx].n = count;
    *out = idx;
    return 0;
}

static int parse_primary(struct parser *p, uint32_t *out)
{
    switch (p->tok) {
    case T_LPAREN: {
        size_t open = p->tpos;
        if (++p->depth > COND_MAX_DEPTH)
            return error(p, open, "parentheses nested too deep%.*s", "", 0);
        next(p);
        int rc = parse_or(p, out);
        if (rc)
            return rc;
        if (p->tok != T_RPAREN)
            return error(p, p->tok == T_END ? open : p->tpos,
                         p->tok == T_END ? "'(' is never closed%.*s"
                                         : "expected ')' or an operator, found '%.*s'",
                         p->s + p->tpos, (int)p->tlen);
        p->depth--;
        next(p);
        return 0;
    }
    case T_NUMBER:
    case T_ALL:
    case T_ANY:
        return parse_of(p, out);
    case T_IDENT: {
        for (size_t i = 0; i < p->tlen; i++)
            if (p->s[p->tpos + i] == '*' || p->s[p->tpos + i] == '?')
                return error(p, p->tpos,
                             "'%.*s' is a pattern: use it as '1 of ...' or 'all of ...'",
                             p->s + p->tpos, (int)p->tlen);
        for (size_t i = 0; i < p->nidents; i++) {
            if (p->idents[i].n == p->tlen && !memcmp(p->idents[i].p, p->s + p->tpos, p->tlen)) {
                *out = cond_tree_add(p->t, COND_SEL, (uint32_t)i, 0);
                next(p);
                return 0;
            }
        }
        return error(p, p->tpos, "unknown search identifier '%.*s'", p->s + p->tpos, (int)p->tlen);
    }
    case T_PIPE:
        return error(p, p->tpos,
                     "'|' aggregations are Sigma v1 syntax; write a correlation rule%.*s", "", 0);
    case T_END:
        return error(p, p->tpos, "condition ends where an identifier was expected%.*s", "", 0);
    case T_BAD:
        return error(p, p->tpos, "unexpected character '%.*s'", p->s + p->tpos, 1);
    default:
        return error(p, p->tpos, "expected a search identifier, found %.*s", tok_desc(p->tok),
                     (int)strlen(tok_desc(p->tok)));
    }
}

static int parse_not(struct parser *p, uint32_t *out)
{
    if (p->tok != T_NOT)
        return parse_primary(p, out);
    if (++p->depth > COND_MAX_DEPTH)
        return error(p, p->tpos, "'not' nested too deep%.*s", "", 0);
    next(p);
    uint32_t a;
    int rc = parse_not(p, &a);
    if (rc)
        return rc;
    p->depth--;
    *out = cond_tree_add(p->t, COND_NOT, a, 0);
    return 0;
}

static int parse_and(struct parser *p, uint32_t *out)
{
    uint32_t a;
    int rc = parse_not(p, &a);
    while (!rc && p->tok == T_AND) {
        next(p);
        uint32_t b;
        rc = parse_not(p, &b);
        if (!rc)
            a = cond_tree_add(p->t, COND_AND, a, b);
    }
    *out = a;
    return rc;
}

static int parse_or(struct parser *p, uint32_t *out)
{
    uint32_t a;
    int rc = parse_and(p, &a);
    while (!rc && p->tok == T_OR) {
        next(p);
        uint32_t b;
        rc = parse_and(p, &b);
        if (!rc)
            a = cond_tree_add(p->t, COND_OR, a, b);
    }
    *out = a;
    return rc;
}

int sigma_condition_parse(const char *text, size_t len, const struct str *idents, size_t nidents,
                          struct cond_tree *out, struct cond_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    struct parser p = {
        .s = text, .n = len, .idents = idents, .nidents = nidents, .t = out, .err = err};
    next(&p);
    if (p.tok == T_END) {
        error(&p, 0, "condition is empty%.*s", "", 0);
        cond_tree_free(out);
        return -EINVAL;
    }
    int rc = parse_or(&p, &out->root);
    if (!rc && p.tok != T_END) {
        if (p.tok == T_RPAREN)
            rc = error(&p, p.tpos, "')' without a matching '('%.*s", "", 0);
        else if (p.tok == T_PIPE)
            rc = error(&p, p.tpos,
                       "'|' aggregations are Sigma v1 syntax; write a correlation rule%.*s", "", 0);
        else
            rc = error(&p, p.tpos, "expected 'and', 'or' or the end, found '%.*s'", p.s + p.tpos,
                       (int)(p.tlen ? p.tlen : 1));
    }
    if (rc)
        cond_tree_free(out);
    return rc;
}

uint32_t cond_tree_graft(struct cond_tree *dst, const struct cond_tree *src, uint32_t sel_offset)
{
    uint32_t node_off = dst->n, sels_off = dst->nsels;
    for (uint32_t i = 0; i < src->nsels; i++)
        push_sel(dst, src->sels[i] + sel_offset);
    for (uint32_t i = 0; i < src->n; i++) {
        struct cond_node c = src->nodes[i];
        switch (c.op) {
        case COND_SEL:
            c.a += sel_offset;
            break;
        case COND_NOT:
            c.a += node_off;
            break;
        case COND_AND:
        case COND_OR:
            c.a += node_off;
            c.b += node_off;
            break;
        case COND_ATLEAST:
            c.b += sels_off;
            break;
        case COND_ALL:
        case COND_ANY:
            c.b += sels_off;
            for (uint32_t k = 0; k < c.n; k++)
                dst->sels[c.b + k] += node_off;
            break;
        }
        uint32_t k = cond_tree_add(dst, c.op, c.a, c.b);
        dst->nodes[k].n = c.n;
    }
    return src->root + node_off;
}

/* Operands of the chain of op rooted at node, left to right, appended to
 * *list (an explicit stack keeps long chains off the call stack). */
static void chain_operands(const struct cond_tree *t, uint32_t node, uint8_t op, uint32_t **list,
                           uint32_t *n, uint32_t *cap)
{
    uint32_t *stack = NULL, ns = 0, cs = 0;
    uint32_t cur = node;
    for (;;) {
        if (t->nodes[cur].op == op) {
            if (ns == cs) {
                cs = cs ? cs * 2 : 16;
                uint32_t *nst = realloc(stack, cs * sizeof(*nst));
                if (!nst)
                    abort();
                stack = nst;
            }
            stack[ns++] = t->nodes[cur].b;
            cur = t->nodes[cur].a;
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            uint32_t *nl = realloc(*list, *cap * sizeof(*nl));
            if (!nl)
                abort();
            *list = nl;
        }
        (*list)[(*n)++] = cur;
        if (!ns)
            break;
        cur = stack[--ns];
    }
    free(stack);
}

static uint32_t flatten(struct cond_tree *t, uint32_t node, int depth)
{
    uint8_t op = t->nodes[node].op;
    if (depth > 1000)
        return node;
    if (op == COND_NOT) {
        uint32_t a = flatten(t, t->nodes[node].a, depth + 1);
        return cond_tree_add(t, COND_NOT, a, 0);
    }
    if (op != COND_AND && op != COND_OR)
        return node;
    uint32_t *ops = NULL, n = 0, cap = 0;
    chain_operands(t, node, op, &ops, &n, &cap);
    for (uint32_t i = 0; i < n; i++)
        ops[i] = flatten(t, ops[i], depth + 1);
    uint32_t first = t->nsels;
    for (uint32_t i = 0; i < n; i++)
        push_sel(t, ops[i]);
    free(ops);
    uint32_t k = cond_tree_add(t, op == COND_AND ? COND_ALL : COND_ANY, 0, first);
    t->nodes[k].n = n;
    return k;
}

void cond_tree_flatten(struct cond_tree *t)
{
    if (t->n)
        t->root = flatten(t, t->root, 0);
}

void cond_tree_free(struct cond_tree *t)
{
    free(t->nodes);
    free(t->sels);
    memset(t, 0, sizeof(*t));
}
