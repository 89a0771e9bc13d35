/*
 * sigma-prefilter.c - skip the rules an event cannot match, after one
 * multi-literal scan of the event's text.
 *
 * Most rules can only be true if some literal occurs in some value of the
 * event: `Image|endswith: '\rundll32.exe'` needs "\rundll32.exe" somewhere.
 * For each rule a conservative *necessary set* of literals is derived from
 * its condition tree:
 *
 *   value      exact / prefix / suffix / contains: its literal; a glob: its
 *              longest literal token; anything else (regex, CIDR, number,
 *              null, exists, field reference, numeric exact): none
 *   item       every value needs a literal, their union (|all: the best
 *              group of alternatives, since every group must match); a
 *              negated item (neq) has none
 *   group (AND of items), condition AND, all-of: the best child's set
 *   search id (OR of groups), condition OR, any-of, N-of: the union, and
 *              only if every child has a set
 *   not        none
 *
 * where "none" makes the whole subtree unusable ("always"), and "best" is the
 * set whose shortest literal is longest (then the smallest). A rule whose
 * root is "always" is evaluated on every event of its log source. A subset of
 * a necessary literal is necessary too, so nothing here has to be exact: the
 * prefilter only ever says "cannot match" when no literal of the set occurs
 * anywhere in the event's text, and evaluation stays the judge.
 *
 * All literals of all rules (deduplicated) go into one Hyperscan block-mode
 * database of caseless literals (HS_FLAG_SINGLEMATCH); each literal lists
 * the rules it serves. Evaluation lowercases ASCII only, and Hyperscan's
 * caseless matching is ASCII-only too, so a literal found case-blind is
 * exactly the condition "may match". Per event the matcher copies every text
 * a rule can read (native, core and pseudo field values, JSON array elements
 * unescaped, the message; the raw record when there is nothing else) into
 * one buffer separated by newlines, scans it once, and stamps the rules of
 * each literal hit. A literal straddling a separator only adds a candidate.
 *
 * One database for the whole set rather than one per log source: the scan
 * costs about the same whatever the number of literals, and literals of
 * other log sources only stamp rules that are not candidates anyway.
 */
#include "detect/sigma-prefilter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"

#ifdef KENCHI_HAVE_HS
#include <hs/hs.h>
#endif

#define PF_MAX_DEPTH 200
#define PF_LEN_CAP   12 /* literals longer than this are all "long enough" */
#ifndef PF_MIN_LEN
#define PF_MIN_LEN 3 /* shorter literals hit nearly every event and slow the scan */
#endif

struct lit {
    const char *p;
    uint32_t n;
};

/* A necessary set: always (unusable), or a union of literals (empty: the
 * subtree can never be true). */
struct litset {
    struct lit *v;
    uint32_t n, cap;
    bool always;
};

struct sigma_prefilter {
#ifdef KENCHI_HAVE_HS
    hs_database_t *db;
#endif
    uint8_t *always; /* per rule */
    uint32_t nrules, nalways;
    uint32_t *lit_off; /* literal id -> rules lit_rules[lit_off[id] .. lit_off[id+1]) */
    uint32_t *lit_rules;
    uint32_t nlits;
};

struct sigma_pf_state {
#ifdef KENCHI_HAVE_HS
    hs_scratch_t *scratch;
#endif
    uint32_t *stamp; /* per rule: epoch of the last event that hit it */
    uint32_t epoch;
    uint32_t *hits; /* rules hit by the last scan, each once, in hit order */
    uint32_t nhits;
    uint32_t nrules;
    char *buf;
    size_t n, cap;
    bool failed; /* the scan failed: every rule may match */
    const struct sigma_prefilter *pf;
};

/* ---- necessary sets ----------------------------------------------------- */

#ifdef KENCHI_HAVE_HS /* without a database to compile them into, no sets */

static void set_clear(struct litset *s)
{
    free(s->v);
    *s = (struct litset){0};
}

static void set_always(struct litset *s)
{
    set_clear(s);
    s->always = true;
}

static int set_add(struct litset *s, const char *p, uint32_t n)
{
    if (s->always)
        return 0;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 8;
        struct lit *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct lit){p, n};
    return 0;
}

/* dst |= src (src is left as it was). */
static int set_union(struct litset *dst, const struct litset *src)
{
    if (src->always) {
        set_always(dst);
        return 0;
    }
    for (uint32_t i = 0; i < src->n && !dst->always; i++)
        if (set_add(dst, src->v[i].p, src->v[i].n) < 0)
            return -ENOMEM;
    return 0;
}

/* Higher is more selective: never-true beats everything, always is worst. */
static int64_t set_score(const struct litset *s)
{
    if (s->always)
        return -1;
    if (!s->n)
        return INT64_MAX;
    uint32_t minlen = PF_LEN_CAP;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].n < minlen)
            minlen = s->v[i].n;
    return (int64_t)minlen * 1000000 - s->n;
}

/* Keep the better of best and cand in best (cand is consumed). */
static void set_keep_best(struct litset *best, bool *have, struct litset *cand)
{
    if (!*have || set_score(cand) > set_score(best)) {
        set_clear(best);
        *best = *cand;
        *have = true;
    } else {
        set_clear(cand);
    }
    *cand = (struct litset){0};
}

/* Does the pattern set option letter opt inline, "(?i)" or "(?-x:..."? */
static bool regex_inline_flag(const char *pat, uint32_t n, char opt)
{
    for (uint32_t i = 0; i + 2 < n; i++) {
        if (pat[i] == '\\') {
            i++;
            continue;
        }
        if (pat[i] != '(' || pat[i + 1] != '?')
            continue;
        for (uint32_t j = i + 2; j < n && pat[j] != ')' && pat[j] != ':'; j++)
            if (pat[j] == opt)
                return true;
    }
    return false;
}

/* The longest run of bytes that every match of the regex pat[0..n) contains,
 * as [*start, *start + return value), or 0 when there is none or the pattern
 * is beyond this reader. Runs are slices of the pattern: plain bytes at the
 * top level (a group may be optional or repeated, so its inside is skipped);
 * escapes, classes, '.', anchors and groups end a run. A quantifier that
 * allows zero ('?', '*', '{') takes its atom out of the run, '+' keeps it;
 * both end the run. Any '|' gives up (alternation), as do \Q and extended
 * mode. When the pattern is caseless, Unicode case folding lets 'k' match
 * the Kelvin sign and 's' the long s, which a case-blind ASCII scan would
 * not see: those letters and non-ASCII bytes end a run. */
static uint32_t regex_literal(const char *pat, uint32_t n, bool caseless, uint32_t *start)
{
    if (memchr(pat, '|', n) || regex_inline_flag(pat, n, 'x'))
        return 0;
    uint32_t best = 0, run = 0, rs = 0;
    int depth = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)pat[i];
        bool quant = ch == '?' || ch == '*' || ch == '+' || ch == '{';
        bool lit = false;
        if (quant) {
            if (run && ch != '+' && rs + run == i)
                run--; /* the byte before is optional */
            if (ch == '{')
                while (i < n && pat[i] != '}')
                    i++;
        } else if (ch == '\\') {
            if (i + 1 < n && (pat[i + 1] == 'Q' || pat[i + 1] == 'E'))
                return 0;
            i++;
        } else if (ch == '[') {
            uint32_t j = i + 1;
            if (j < n && pat[j] == '^')
                j++;
            if (j < n && pat[j] == ']')
                j++;
            while (j < n && pat[j] != ']')
                j += pat[j] == '\\' ? 2 : 1;
            i = j;
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')') {
            depth -= depth > 0;
        } else if (depth == 0 && ch != '.' && ch != '^' && ch != '$') {
            lit = !caseless || (ch < 0x80 && ch != 'k' && ch != 'K' && ch != 's' && ch != 'S');
        }
        if (lit) {
            if (!run)
                rs = i;
            run++;
            continue;
        }
        if (run > best) {
            best = run;
            *start = rs;
        }
        run = 0;
    }
    if (run > best) {
        best = run;
        *start = rs;
    }
    return best;
}

/* The literal that must occur for v to match, if there is one. */
static bool value_literal(const struct sigma_value *v, const char **p, uint32_t *n)
{
    switch (v->kind) {
    case SV_EXACT:
        if (v->numeric)
            return false; /* 0x10 equals 16 */
        /* fall through */
    case SV_PREFIX:
    case SV_SUFFIX:
    case SV_CONTAINS:
        *p = v->s;
        *n = v->n;
        return v->n >= PF_MIN_LEN;
    case SV_GLOB: {
        uint32_t bestlen = 0;
        for (uint32_t i = 0; i < v->ntoks; i++)
            if (v->toks[i].kind == GT_LIT && v->toks[i].len > bestlen) {
                bestlen = v->toks[i].len;
                *p = v->s + v->toks[i].off;
            }
        *n = bestlen;
        return bestlen >= PF_MIN_LEN;
    }
    case SV_RE: {
        uint32_t st = 0, opts = 0;
        if (!v->s || !v->re)
            return false;
        pcre2_pattern_info(v->re, PCRE2_INFO_ALLOPTIONS, &opts);
        bool caseless = (opts & PCRE2_CASELESS) || regex_inline_flag(v->s, v->n, 'i');
        *n = regex_literal(v->s, v->n, caseless, &st);
        *p = v->s + st;
        return *n >= PF_MIN_LEN;
    }
    default:
        return false;
    }
}

/* Union of the literals of vals[from .. to), or always. */
static int values_set(const struct sigma_item *it, uint32_t from, uint32_t to, struct litset *out)
{
    for (uint32_t i = from; i < to; i++) {
        const char *p;
        uint32_t n;
        if (!value_literal(&it->vals[i], &p, &n)) {
            set_always(out);
            return 0;
        }
        if (set_add(out, p, n) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int item_set(const struct sigma_item *it, struct litset *out)
{
    *out = (struct litset){0};
    if (!it->nvals)
        return 0; /* an item without values never matches */
    if (it->neq) {
        set_always(out);
        return 0;
    }
    if (!it->all)
        return values_set(it, 0, it->nvals, out);
    bool have = false;
    for (uint32_t i = 0; i < it->nvals;) {
        uint32_t j = i;
        while (j < it->nvals && it->vals[j].group == it->vals[i].group)
            j++;
        struct litset c = {0};
        if (values_set(it, i, j, &c) < 0) {
            set_clear(&c);
            return -ENOMEM;
        }
        set_keep_best(out, &have, &c);
        i = j;
    }
    return 0;
}

static int group_set(const struct sigma_group *g, struct litset *out)
{
    *out = (struct litset){0};
    if (!g->n) { /* an empty AND is true */
        set_always(out);
        return 0;
    }
    bool have = false;
    for (uint32_t i = 0; i < g->n; i++) {
        struct litset c = {0};
        if (item_set(&g->items[i], &c) < 0) {
            set_clear(&c);
            return -ENOMEM;
        }
        set_keep_best(out, &have, &c);
    }
    return 0;
}

static int sel_set(const struct sigma_sel *sel, struct litset *out)
{
    *out = (struct litset){0}; /* no groups: never true */
    for (uint32_t g = 0; g < sel->n && !out->always; g++) {
        struct litset c = {0};
        int rc = group_set(&sel->groups[g], &c);
        if (rc == 0)
            rc = set_union(out, &c);
        set_clear(&c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* "at least a of n identifiers": the a true ones cannot all avoid any n-a+1
 * of them, so the union of the n-a+1 most selective sets is necessary (with
 * a == n, the best one; with a == 1, all of them). */
static int atleast_set(const struct sigma_rule *r, const struct cond_node *c, struct litset *out)
{
    const struct cond_tree *t = &r->cond;
    *out = (struct litset){0};
    if (c->a == 0 || c->a > c->n) {
        set_always(out);
        return 0;
    }
    struct litset *k = calloc(c->n, sizeof(*k));
    if (!k)
        return -ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < c->n && rc == 0; i++) {
        uint32_t s = t->sels[c->b + i];
        if (s < r->nsels)
            rc = sel_set(&r->sels[s], &k[i]);
        else
            set_always(&k[i]);
    }
    /* selection sort by score, best first: n is small */
    for (uint32_t i = 0; i < c->n && rc == 0; i++)
        for (uint32_t j = i + 1; j < c->n; j++)
            if (set_score(&k[j]) > set_score(&k[i])) {
                struct litset tmp = k[i];
                k[i] = k[j];
                k[j] = tmp;
            }
    for (uint32_t i = 0; i < c->n - c->a + 1 && rc == 0 && !out->always; i++)
        rc = set_union(out, &k[i]);
    for (uint32_t i = 0; i < c->n; i++)
        set_clear(&k[i]);
    free(k);
    return rc;
}

static int node_set(const struct sigma_rule *r, uint32_t node, int depth, struct litset *out)
{
    const struct cond_tree *t = &r->cond;
    const struct cond_node *c = &t->nodes[node];
    *out = (struct litset){0};
    if (depth > PF_MAX_DEPTH) {
        set_always(out);
        return 0;
    }
    bool conj = c->op == COND_AND || c->op == COND_ALL;
    uint32_t kids[2], nk = 0;
    const uint32_t *list = kids;
    switch (c->op) {
    case COND_SEL:
        if (c->a >= r->nsels) {
            set_always(out);
            return 0;
        }
        return sel_set(&r->sels[c->a], out);
    case COND_AND:
    case COND_OR:
        kids[0] = c->a;
        kids[1] = c->b;
        nk = 2;
        break;
    case COND_ALL:
    case COND_ANY:
        list = t->sels + c->b;
        nk = c->n;
        break;
    case COND_ATLEAST:
        return atleast_set(r, c, out);
    default: /* NOT, and anything unknown */
        set_always(out);
        return 0;
    }
    if (conj && nk == 0) {
        set_always(out);
        return 0;
    }
    bool have = false;
    for (uint32_t i = 0; i < nk; i++) {
        struct litset k = {0};
        int rc = node_set(r, list[i], depth + 1, &k);
        if (rc < 0) {
            set_clear(&k);
            return rc;
        }
        if (conj) {
            set_keep_best(out, &have, &k);
        } else {
            rc = set_union(out, &k);
            set_clear(&k);
            if (rc < 0)
                return rc;
            if (out->always)
                break;
        }
    }
    return 0;
}

/* ---- the database ------------------------------------------------------- */

/* Literal table under construction: unique (ASCII case-folded) literals,
 * each with its rules. */
struct lit_entry {
    char *s; /* lowercased copy */
    uint32_t n;
    uint32_t *rules;
    uint32_t nrules, cap;
};

struct lit_table {
    struct lit_entry *e;
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    uint32_t nslots;
};

static uint32_t lit_hash(const char *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((unsigned)(c - 'A') < 26u)
            c += 32;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static bool lit_eq(const struct lit_entry *e, const char *p, uint32_t n)
{
    if (e->n != n)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((unsigned)(c - 'A') < 26u)
            c += 32;
        if ((unsigned char)e->s[i] != c)
            return false;
    }
    return true;
}

static int table_grow(struct lit_table *t)
{
    uint32_t ns = t->nslots ? t->nslots * 2 : 4096;
    uint32_t *slots = calloc(ns, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t h = lit_hash(t->e[i].s, t->e[i].n) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return 0;
}

static int table_add(struct lit_table *t, const char *p, uint32_t n, uint32_t rule)
{
    if ((t->n + 1) * 2 > t->nslots && table_grow(t) < 0)
        return -ENOMEM;
    uint32_t h = lit_hash(p, n) & (t->nslots - 1);
    while (t->slots[h] && !lit_eq(&t->e[t->slots[h] - 1], p, n))
        h = (h + 1) & (t->nslots - 1);
    if (!t->slots[h]) {
        if (t->n == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 1024;
            struct lit_entry *e = realloc(t->e, cap * sizeof(*e));
            if (!e)
                return -ENOMEM;
            t->e = e;
            t->cap = cap;
        }
        char *s = malloc(n + 1);
        if (!s)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            s[i] = (char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
        }
        s[n] = '\0';
        t->e[t->n] = (struct lit_entry){s, n, NULL, 0, 0};
        t->slots[h] = ++t->n;
    }
    struct lit_entry *e = &t->e[t->slots[h] - 1];
    if (e->nrules && e->rules[e->nrules - 1] == rule)
        return 0; /* rules are added in order: one entry per rule */
    if (e->nrules == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 2;
        uint32_t *r = realloc(e->rules, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        e->rules = r;
        e->cap = cap;
    }
    e->rules[e->nrules++] = rule;
    return 0;
}

static void table_free(struct lit_table *t)
{
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->e[i].s);
        free(t->e[i].rules);
    }
    free(t->e);
    free(t->slots);
}

/* Compile the table into pf (database and literal -> rules lists). */
static int compile_table(struct sigma_prefilter *pf, const struct lit_table *t)
{
    if (!t->n)
        return 0;
    const char **exprs = malloc(t->n * sizeof(*exprs));
    size_t *lens = malloc(t->n * sizeof(*lens));
    unsigned *flags = malloc(t->n * sizeof(*flags)), *ids = malloc(t->n * sizeof(*ids));
    size_t total = 0;
    for (uint32_t i = 0; i < t->n; i++)
        total += t->e[i].nrules;
    pf->lit_off = malloc((t->n + 1) * sizeof(*pf->lit_off));
    pf->lit_rules = malloc((total ? total : 1) * sizeof(*pf->lit_rules));
    int rc = -ENOMEM;
    if (!exprs || !lens || !flags || !ids || !pf->lit_off || !pf->lit_rules)
        goto out;
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        exprs[i] = t->e[i].s;
        lens[i] = t->e[i].n;
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
        ids[i] = i;
        pf->lit_off[i] = k;
        memcpy(pf->lit_rules + k, t->e[i].rules, t->e[i].nrules * sizeof(*pf->lit_rules));
        k += t->e[i].nrules;
    }
    pf->lit_off[t->n] = k;
    pf->nlits = t->n;
    hs_compile_error_t *err = NULL;
    if (hs_compile_lit_multi(exprs, flags, ids, lens, t->n, HS_MODE_BLOCK, NULL, &pf->db, &err) !=
        HS_SUCCESS) {
        hs_free_compile_error(err);
        pf->db = NULL;
        rc = -EINVAL;
        goto out;
    }
    rc = 0;
out:
    free(exprs);
    free(lens);
    free(flags);
    free(ids);
    return rc;
}

int sigma_prefilter_build(struct sigma_set *s)
{
    s->pf = NULL;
    struct sigma_prefilter *pf = calloc(1, sizeof(*pf));
    if (!pf)
        return -ENOMEM;
    pf->nrules = s->nrules;
    pf->always = calloc(s->nrules + 1, 1);
    struct lit_table t = {0};
    int rc = pf->always ? 0 : -ENOMEM;
    for (uint32_t i = 0; i < s->nrules && rc == 0; i++) {
        const struct sigma_rule *r = s->rules[i];
        struct litset ls = {0};
        if (!r->cond.nodes || r->cond.root >= r->cond.n) {
            pf->always[i] = 1;
            pf->nalways++;
            continue;
        }
        rc = node_set(r, r->cond.root, 0, &ls);
        if (rc == 0 && ls.always) {
            pf->always[i] = 1;
            pf->nalways++;
        }
        for (uint32_t j = 0; rc == 0 && !ls.always && j < ls.n; j++)
            rc = table_add(&t, ls.v[j].p, ls.v[j].n, i);
        set_clear(&ls);
    }
    if (rc == 0)
        rc = compile_table(pf, &t);
    table_free(&t);
    if (rc < 0) {
        sigma_prefilter_free(pf);
        return rc;
    }
    s->pf = pf;
    return 0;
}

void sigma_prefilter_free(struct sigma_prefilter *pf)
{
    if (!pf)
        return;
    hs_free_database(pf->db);
    free(pf->always);
    free(pf->lit_off);
    free(pf->lit_rules);
    free(pf);
}

struct sigma_pf_state *sigma_pf_state_new(const struct sigma_prefilter *pf)
{
    struct sigma_pf_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->pf = pf;
    st->nrules = pf->nrules;
    st->stamp = calloc(pf->nrules + 1, sizeof(*st->stamp));
    st->hits = malloc((pf->nrules + 1) * sizeof(*st->hits));
    st->cap = 4096;
    st->buf = malloc(st->cap);
    if (!st->stamp || !st->hits || !st->buf ||
        (pf->db && hs_alloc_scratch(pf->db, &st->scratch) != HS_SUCCESS)) {
        sigma_pf_state_free(st);
        return NULL;
    }
    return st;
}

void sigma_pf_state_free(struct sigma_pf_state *st)
{
    if (!st)
        return;
    hs_free_scratch(st->scratch);
    free(st->stamp);
    free(st->hits);
    free(st->buf);
    free(st);
}

struct hit_ctx {
    const struct sigma_prefilter *pf;
    struct sigma_pf_state *st;
};

static int on_literal(unsigned int id, unsigned long long from, unsigned long long to,
                      unsigned int flags, void *opaque)
{
    const struct hit_ctx *h = opaque;
    const struct sigma_prefilter *pf = h->pf;
    struct sigma_pf_state *st = h->st;
    for (uint32_t k = pf->lit_off[id]; k < pf->lit_off[id + 1]; k++) {
        uint32_t r = pf->lit_rules[k];
        if (st->stamp[r] != st->epoch) {
            st->stamp[r] = st->epoch;
            st->hits[st->nhits++] = r;
        }
    }
    return 0;
}

int sigma_pf_scan(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    if (!pf->db || st->failed)
        return st->failed ? -ENOMEM : 0;
    struct hit_ctx h = {pf, st};
    size_t off = 0;
    while (off < st->n || off == 0) { /* hs_scan takes an unsigned int length */
        size_t len = st->n - off > (1u << 30) ? (1u << 30) : st->n - off;
        if (hs_scan(pf->db, st->buf + off, (unsigned)len, 0, st->scratch, on_literal, &h) !=
            HS_SUCCESS) {
            st->failed = true;
            return -EIO;
        }
        off += len;
        if (!len)
            break;
    }
    return 0;
}

#else /* no Hyperscan: no prefilter, every rule is evaluated */

int sigma_prefilter_build(struct sigma_set *s)
{
    s->pf = NULL;
    return 0;
}

void sigma_prefilter_free(struct sigma_prefilter *pf)
{
    (void)pf;
}

struct sigma_pf_state *sigma_pf_state_new(const struct sigma_prefilter *pf)
{
    (void)pf;
    return NULL;
}

void sigma_pf_state_free(struct sigma_pf_state *st)
{
    (void)st;
}

int sigma_pf_scan(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    (void)pf;
    (void)st;
    return 0;
}

#endif

void sigma_prefilter_counts(const struct sigma_prefilter *pf, uint32_t *always, uint32_t *lits)
{
    *always = pf ? pf->nalways : 0;
    *lits = pf ? pf->nlits : 0;
}

void sigma_pf_begin(struct sigma_pf_state *st)
{
    st->n = 0;
    st->nhits = 0;
    st->failed = false;
    if (++st->epoch == 0) {
        memset(st->stamp, 0, (st->nrules + 1) * sizeof(*st->stamp));
        st->epoch = 1;
    }
}

void sigma_pf_add(struct sigma_pf_state *st, const char *p, size_t n)
{
    if (st->failed)
        return;
    if (st->n + n + 1 > st->cap) {
        size_t cap = st->cap;
        while (st->n + n + 1 > cap)
            cap *= 2;
        char *b = realloc(st->buf, cap);
        if (!b) {
            st->failed = true; /* every rule may match: still exact */
            return;
        }
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->n, p, n);
    st->buf[st->n + n] = '\n';
    st->n += n + 1;
}

void sigma_pf_verdict(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                      struct sigma_pf_verdict *v)
{
    *v = (struct sigma_pf_verdict){pf->always, st->stamp, st->epoch,
                                   st->failed, st->hits,  st->nhits};
}
