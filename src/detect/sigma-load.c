/*
 * sigma-load.c - YAML documents to Sigma rules, filters and correlations.
 *
 * One YAML file may hold several documents; each is classified by its
 * sections (detection -> rule, filter -> filter, correlation -> correlation)
 * and compiled on its own, so one refused document never takes its
 * neighbours down. Every refusal is a diagnostic naming the node at fault
 * (file:line:column) and the reason.
 *
 * Search identifiers:
 *   map                  one group: AND of its items
 *   list of maps         OR of groups
 *   list of scalars      one keyword item (full-text search), OR of values
 *   scalar               one keyword
 *   map with '|all' etc. keyword items with modifiers (field name empty)
 *
 * Conditions: a scalar, or a list of scalars (OR). Parse errors point inside
 * the condition text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"
#include "util/timeconv.h"

struct doc {
    struct sigma_set *s;
    const char *file;
    char err[SIGMA_ERR_MAX];
    struct ymark where;
};

static int refuse(struct doc *d, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(struct doc *d, const struct ynode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof(d->err), fmt, ap);
    va_end(ap);
    if (at)
        d->where = at->mark;
    return -EINVAL;
}

static const char *dup_scalar(struct sigma_set *s, const struct ynode *n)
{
    if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n))
        return NULL;
    return arena_strndup(&s->arena, n->scalar.s, n->scalar.n);
}

static const char *dup_lower(struct sigma_set *s, const struct ynode *n)
{
    const char *v = dup_scalar(s, n);
    if (!v)
        return NULL;
    char *w = (char *)v;
    for (; *w; w++)
        if (*w >= 'A' && *w <= 'Z')
            *w = (char)(*w + 32);
    return v;
}

/* A scalar or a list of scalars, as strings. */
static int string_list(struct doc *d, const struct ynode *n, const char *what, const char ***out,
                       uint32_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!n || ynode_is_null(n))
        return 0;
    if (n->kind == YNODE_SCALAR) {
        const char **v = arena_alloc(&d->s->arena, sizeof(*v));
        v[0] = dup_scalar(d->s, n);
        *out = v;
        *nout = 1;
        return 0;
    }
    if (n->kind != YNODE_SEQ)
        return refuse(d, n, "%s must be a list of strings, found %s", what, ynode_kind_name(n));
    const char **v = arena_alloc(&d->s->arena, (n->seq.n + 1) * sizeof(*v));
    for (size_t i = 0; i < n->seq.n; i++) {
        const struct ynode *it = n->seq.items[i];
        if (it->kind != YNODE_SCALAR || ynode_is_null(it))
            return refuse(d, it, "%s must be a list of strings, found %s", what,
                          ynode_kind_name(it));
        v[i] = dup_scalar(d->s, it);
    }
    *out = v;
    *nout = (uint32_t)n->seq.n;
    return 0;
}

static int scalar_field(struct doc *d, const struct ynode *root, const char *key, bool required,
                        const char **out)
{
    const struct ynode *n = ynode_get(root, key);
    *out = NULL;
    if (!n || ynode_is_null(n)) {
        if (required)
            return refuse(d, root, "missing '%s'", key);
        return 0;
    }
    if (n->kind != YNODE_SCALAR)
        return refuse(d, n, "'%s' must be a string, found %s", key, ynode_kind_name(n));
    *out = dup_scalar(d->s, n);
    return 0;
}

static const struct {
    const char *tactic;
    const char *id;
} tactics[] = {
    {"reconnaissance", "TA0043"},      {"resource_development", "TA0042"},
    {"initial_access", "TA0001"},      {"execution", "TA0002"},
    {"persistence", "TA0003"},         {"privilege_escalation", "TA0004"},
    {"defense_evasion", "TA0005"},     {"credential_access", "TA0006"},
    {"discovery", "TA0007"},           {"lateral_movement", "TA0008"},
    {"collection", "TA0009"},          {"exfiltration", "TA0010"},
    {"command_and_control", "TA0011"}, {"impact", "TA0040"},
};

/* ATT&CK ids from "attack.*" tags: techniques (T1234, T1234.001), groups
 * (G0001), software (S0001), tactics by name or id (TA0001). */
static void attack_ids(struct sigma_set *s, const char **tags, uint32_t n, const char ***out,
                       uint32_t *nout)
{
    const char **v = arena_alloc(&s->arena, (n + 1) * sizeof(*v));
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *t = tags[i];
        if (!t || strncasecmp(t, "attack.", 7))
            continue;
        const char *r = t + 7;
        const char *id = NULL;
        for (size_t j = 0; j < sizeof(tactics) / sizeof(tactics[0]); j++)
            if (!strcasecmp(r, tactics[j].tactic))
                id = tactics[j].id;
        if (!id) {
            size_t p = 0;
            if ((r[0] == 't' || r[0] == 'T') && (r[1] == 'a' || r[1] == 'A'))
                p = 2;
            else if (r[0] == 't' || r[0] == 'T' || r[0] == 'g' || r[0] == 'G' || r[0] == 's' ||
                     r[0] == 'S')
                p = 1;
            if (!p || r[p] < '0' || r[p] > '9')
                continue;
            size_t l = strlen(r);
            char *u = arena_alloc(&s->arena, l + 1);
            for (size_t j = 0; j <= l; j++)
                u[j] = (r[j] >= 'a' && r[j] <= 'z') ? (char)(r[j] - 32) : r[j];
            id = u;
        }
        bool dup = false;
        for (uint32_t j = 0; j < k; j++)
            if (!strcmp(v[j], id))
                dup = true;
        if (!dup)
            v[k++] = id;
    }
    *out = v;
    *nout = k;
}

/* Rough cost of testing an item: items of a group are ANDed, so testing
 * the cheap and selective ones first (an exact EventID, an Image suffix)
 * spares the substring searches and regexes on most events. */
static uint32_t item_cost(const struct sigma_item *it)
{
    static const uint8_t kind_cost[] = {
        [SV_EXACT] = 1,  [SV_PREFIX] = 1,   [SV_SUFFIX] = 1,  [SV_CONTAINS] = 4, [SV_GLOB] = 6,
        [SV_RE] = 20,    [SV_CIDR] = 2,     [SV_NUM] = 2,     [SV_TIMEPART] = 4, [SV_NULL] = 1,
        [SV_EXISTS] = 1, [SV_FIELDREF] = 2, [SV_NOTHING] = 0,
    };
    uint32_t c = it->field ? 0 : 1000; /* keywords search every field */
    for (uint32_t i = 0; i < it->nvals && c < 100000; i++)
        c += kind_cost[it->vals[i].kind];
    return c;
}

static void order_items(struct sigma_group *g)
{
    for (uint32_t i = 1; i < g->n; i++) { /* stable insertion sort: groups are small */
        struct sigma_item t = g->items[i];
        uint32_t ct = item_cost(&t), j = i;
        while (j > 0 && item_cost(&g->items[j - 1]) > ct) {
            g->items[j] = g->items[j - 1];
            j--;
        }
        g->items[j] = t;
    }
}

int sigma_group_compile(struct sv_ctx *c, const struct ynode *map, struct sigma_group *out,
                        const struct ynode **where)
{
    out->n = (uint32_t)map->map.n;
    out->items = arena_alloc(c->arena, (map->map.n + 1) * sizeof(*out->items));
    for (size_t i = 0; i < map->map.n; i++) {
        const struct ynode *k = map->map.pairs[i].key;
        const struct ynode *v = map->map.pairs[i].val;
        if (k->kind != YNODE_SCALAR) {
            *where = k;
            snprintf(c->err, SIGMA_ERR_MAX, "a field name must be a string, found %s",
                     ynode_kind_name(k));
            return -EINVAL;
        }
        int rc = sigma_item_compile(c, k->scalar.s, k->scalar.n, v, false, &out->items[i], where);
        if (rc) {
            if (!*where || (*where == v && v->kind != YNODE_SCALAR))
                *where = k;
            return rc;
        }
        out->items[i].mark = k->mark;
    }
    order_items(out);
    return 0;
}

/* Compile the search identifiers of a detection-like mapping (every key but
 * the skipped ones). */
static int compile_sels(struct doc *d, struct sv_ctx *c, const struct ynode *det,
                        const char *const *skip, struct sigma_sel **out, uint32_t *nout)
{
    struct sigma_sel *sels = arena_alloc(&d->s->arena, (det->map.n + 1) * sizeof(*sels));
    memset(sels, 0, (det->map.n + 1) * sizeof(*sels));
    uint32_t n = 0;
    for (size_t i = 0; i < det->map.n; i++) {
        const struct ynode *k = det->map.pairs[i].key;
        const struct ynode *v = det->map.pairs[i].val;
        if (k->kind != YNODE_SCALAR)
            return refuse(d, k, "a search identifier must be a name, found %s", ynode_kind_name(k));
        bool skipped = false;
        for (size_t j = 0; skip[j]; j++)
            if (ynode_scalar_is(k, skip[j]))
                skipped = true;
        if (skipped)
            continue;
        struct sigma_sel *sel = &sels[n++];
        sel->name = str_make(k->scalar.s, k->scalar.n);
        const struct ynode *where = v;
        int rc = 0;
        if (v->kind == YNODE_MAP) {
            if (v->map.n == 0)
                return refuse(d, v, "search identifier '%s' is an empty mapping", k->scalar.s);
            sel->groups = arena_alloc(&d->s->arena, sizeof(*sel->groups));
            sel->n = 1;
            rc = sigma_group_compile(c, v, &sel->groups[0], &where);
        } else if (v->kind == YNODE_SEQ) {
            if (v->seq.n == 0)
                return refuse(d, v, "search identifier '%s' is an empty list", k->scalar.s);
            sel->groups = arena_alloc(&d->s->arena, (v->seq.n + 1) * sizeof(*sel->groups));
            /* maps each make a group; scalars together make one keyword group */
            struct ynode kw = {.kind = YNODE_SEQ, .mark = v->mark};
            struct ynode **kwitems = arena_alloc(&d->s->arena, v->seq.n * sizeof(*kwitems));
            kw.seq.items = kwitems;
            for (size_t j = 0; j < v->seq.n && !rc; j++) {
                const struct ynode *it = v->seq.items[j];
                if (it->kind == YNODE_MAP) {
                    if (it->map.n == 0) {
                        where = it;
                        rc = refuse(d, it, "empty mapping in search identifier '%s'", k->scalar.s);
                        break;
                    }
                    rc = sigma_group_compile(c, it, &sel->groups[sel->n++], &where);
                } else if (it->kind == YNODE_SCALAR) {
                    kwitems[kw.seq.n++] = (struct ynode *)it;
                } else {
                    where = it;
                    rc = refuse(d, it, "a list in search identifier '%s' holds %s", k->scalar.s,
                                ynode_kind_name(it));
                }
            }
            if (!rc && kw.seq.n) {
                struct sigma_group *g = &sel->groups[sel->n++];
                g->n = 1;
                g->items = arena_alloc(&d->s->arena, sizeof(*g->items));
                rc = sigma_item_compile(c, "", 0, &kw, true, &g->items[0], &where);
                g->items[0].mark = v->mark;
            }
        } else if (v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
            sel->groups = arena_alloc(&d->s->arena, sizeof(*sel->groups));
            sel->n = 1;
            sel->groups[0].n = 1;
            sel->groups[0].items = arena_alloc(&d->s->arena, sizeof(struct sigma_item));
            rc = sigma_item_compile(c, "", 0, v, true, &sel->groups[0].items[0], &where);
        } else {
            return refuse(d, v, "search identifier '%s' is empty", k->scalar.s);
        }
        if (rc) {
            if (d->err[0] == '\0' || rc != -EINVAL || c->err[0]) {
                snprintf(d->err, sizeof(d->err), "%s: %s", k->scalar.s, c->err);
                d->where = where ? where->mark : v->mark;
            }
            return -EINVAL;
        }
    }
    *out = sels;
    *nout = n;
    return 0;
}

/* Parse the condition node (scalar or list, OR-ed) into t. */
static int compile_condition(struct doc *d, const struct ynode *cn, const struct sigma_sel *sels,
                             uint32_t nsels, struct cond_tree *t)
{
    struct str *names = malloc((nsels + 1) * sizeof(*names));
    if (!names)
        return -ENOMEM;
    for (uint32_t i = 0; i < nsels; i++)
        names[i] = sels[i].name;
    const struct ynode *one[1] = {cn};
    const struct ynode *const *list = one;
    size_t nl = 1;
    if (cn->kind == YNODE_SEQ) {
        list = (const struct ynode *const *)cn->seq.items;
        nl = cn->seq.n;
        if (nl == 0) {
            free(names);
            return refuse(d, cn, "condition is an empty list");
        }
    }
    memset(t, 0, sizeof(*t));
    int rc = 0;
    uint32_t root = 0;
    for (size_t i = 0; i < nl; i++) {
        const struct ynode *c = list[i];
        if (c->kind != YNODE_SCALAR || ynode_is_null(c)) {
            rc = refuse(d, c, "condition must be a string, found %s", ynode_kind_name(c));
            break;
        }
        struct cond_tree one_t;
        struct cond_error ce;
        rc = sigma_condition_parse(c->scalar.s, c->scalar.n, names, nsels, &one_t, &ce);
        if (rc) {
            refuse(d, c, "condition: %s", ce.msg);
            /* point inside the condition: exact for single-line scalars */
            if (!memchr(c->scalar.s, '\n', ce.pos))
                d->where.col += (uint32_t)ce.pos + (c->plain ? 0 : 1);
            break;
        }
        uint32_t r = cond_tree_graft(t, &one_t, 0);
        cond_tree_free(&one_t);
        root = i == 0 ? r : cond_tree_add(t, COND_OR, root, r);
    }
    free(names);
    if (rc) {
        cond_tree_free(t);
        return rc;
    }
    t->root = root;
    return 0;
}

static const char *const known_levels[] = {"informational", "low",      "medium",
                                           "high",          "critical", NULL};

static void ctx_init(struct doc *d, struct sv_ctx *c, char *errbuf, const char **needs)
{
    memset(c, 0, sizeof(*c));
    c->arena = &d->s->arena;
    c->ph = &d->s->ph;
    c->needs_placeholder = needs;
    c->codes = &d->s->codes;
    c->ncodes = &d->s->ncodes;
    c->err = errbuf;
    errbuf[0] = '\0';
}

static int push_ptr(void ***arr, uint32_t *n, uint32_t *cap, void *p)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 64;
        void **a = realloc(*arr, nc * sizeof(*a));
        if (!a)
            return -ENOMEM;
        *arr = a;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

static int load_logsource(struct doc *d, const struct ynode *root, bool required, const char **p,
                          const char **sv, const char **c)
{
    const struct ynode *ls = ynode_get(root, "logsource");
    *p = *sv = *c = NULL;
    if (!ls) {
        if (required)
            return refuse(d, root, "missing 'logsource'");
        return 0;
    }
    if (ls->kind != YNODE_MAP)
        return refuse(d, ls, "'logsource' must be a mapping, found %s", ynode_kind_name(ls));
    static const char *const keys[] = {"product", "service", "category"};
    const char **outs[] = {p, sv, c};
    for (int i = 0; i < 3; i++) {
        const struct ynode *n = ynode_get(ls, keys[i]);
        if (n && n->kind != YNODE_SCALAR)
            return refuse(d, n, "logsource %s must be a string", keys[i]);
        *outs[i] = dup_lower(d->s, n);
    }
    return 0;
}

static int load_rule(struct doc *d, const struct ynode *root)
{
    struct sigma_set *s = d->s;
    struct sigma_rule *r = arena_alloc(&s->arena, sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->file = d->file;
    r->mark = root->mark;
    int rc = scalar_field(d, root, "title", true, &r->title);
    if (!rc)
        rc = scalar_field(d, root, "id", false, &r->id);
    if (!rc)
        rc = scalar_field(d, root, "name", false, &r->name);
    if (!rc)
        rc = scalar_field(d, root, "status", false, &r->status);
    if (!rc)
        rc = scalar_field(d, root, "level", false, &r->level);
    if (!rc)
        rc = scalar_field(d, root, "description", false, &r->description);
    if (!rc)
        rc = scalar_field(d, root, "author", false, &r->author);
    if (!rc)
        rc = string_list(d, ynode_get(root, "tags"), "tags", &r->tags, &r->ntags);
    if (!rc)
        rc = load_logsource(d, root, true, &r->product, &r->service, &r->category);
    if (rc)
        return rc;
    if (r->level) {
        bool ok = false;
        for (int i = 0; known_levels[i]; i++)
            if (!strcmp(r->level, known_levels[i]))
                ok = true;
        if (!ok)
            return refuse(d, ynode_get(root, "level"),
                          "level '%s' is not one of informational, low, medium, high, critical",
                          r->level);
    }
    attack_ids(s, r->tags, r->ntags, &r->attack, &r->nattack);

    const struct ynode *det = ynode_get(root, "detection");
    if (det->kind != YNODE_MAP)
        return refuse(d, det, "'detection' must be a mapping, found %s", ynode_kind_name(det));
    const struct ynode *cond = ynode_get(det, "condition");
    if (!cond)
        return refuse(d, det, "detection has no 'condition'");
    char cerr[SIGMA_ERR_MAX];
    struct sv_ctx c;
    ctx_init(d, &c, cerr, &r->needs_placeholder);
    static const char *const skip[] = {"condition", "timeframe", NULL};
    rc = compile_sels(d, &c, det, skip, &r->sels, &r->nsels);
    if (rc)
        return rc;
    rc = compile_condition(d, cond, r->sels, r->nsels, &r->cond);
    if (rc)
        return rc;
    if (ynode_get(det, "timeframe"))
        sigma_diag_add(s, SIGMA_WARNING, d->file, ynode_get(det, "timeframe")->mark,
                       "'timeframe' in detection is Sigma v1 syntax and is ignored; use a "
                       "correlation rule");
    r->index = s->nrules;
    if (push_ptr((void ***)&s->rules, &s->nrules, &s->caprules, r)) {
        cond_tree_free(&r->cond);
        return -ENOMEM;
    }
    return 0;
}

static int load_filter(struct doc *d, const struct ynode *root)
{
    struct sigma_set *s = d->s;
    struct sigma_filter *f = arena_alloc(&s->arena, sizeof(*f));
    memset(f, 0, sizeof(*f));
    f->file = d->file;
    f->mark = root->mark;
    int rc = scalar_field(d, root, "title", true, &f->title);
    if (!rc)
        rc = scalar_field(d, root, "id", false, &f->id);
    if (!rc)
        rc = load_logsource(d, root, true, &f->product, &f->service, &f->category);
    if (rc)
        return rc;
    const struct ynode *fl = ynode_get(root, "filter");
    if (fl->kind != YNODE_MAP)
        return refuse(d, fl, "'filter' must be a mapping, found %s", ynode_kind_name(fl));
    const struct ynode *rules = ynode_get(fl, "rules");
    if (rules && !ynode_scalar_is(rules, "any")) {
        rc = string_list(d, rules, "filter rules", &f->rules, &f->nrules);
        if (rc)
            return rc;
    }
    const struct ynode *cond = ynode_get(fl, "condition");
    if (!cond)
        return refuse(d, fl, "filter has no 'condition'");
    char cerr[SIGMA_ERR_MAX];
    const char *needs = NULL;
    struct sv_ctx c;
    ctx_init(d, &c, cerr, &needs);
    static const char *const skip[] = {"condition", "rules", NULL};
    rc = compile_sels(d, &c, fl, skip, &f->sels, &f->nsels);
    if (rc)
        return rc;
    if (needs)
        return refuse(d, fl, "filter needs placeholder %s, which is not defined", needs);
    rc = compile_condition(d, cond, f->sels, f->nsels, &f->cond);
    if (rc)
        return rc;
    if (push_ptr((void ***)&s->filters, &s->nfilters, &s->capfilters, f)) {
        cond_tree_free(&f->cond);
        return -ENOMEM;
    }
    return 0;
}

static const char *const corr_types[] = {
    [CORR_EVENT_COUNT] = "event_count",
    [CORR_VALUE_COUNT] = "value_count",
    [CORR_TEMPORAL] = "temporal",
    [CORR_TEMPORAL_ORDERED] = "temporal_ordered",
    [CORR_VALUE_SUM] = "value_sum",
    [CORR_VALUE_AVG] = "value_avg",
    [CORR_VALUE_PERCENTILE] = "value_percentile",
};

static const char *const corr_cmps[6] = {"gt", "gte", "lt", "lte", "eq", "neq"};

const char *sigma_corr_type_name(uint8_t t);
const char *sigma_corr_type_name(uint8_t t)
{
    return t < sizeof(corr_types) / sizeof(corr_types[0]) ? corr_types[t] : "?";
}

static int parse_timespan(const struct ynode *n, int64_t *out)
{
    if (!n || n->kind != YNODE_SCALAR || n->scalar.n < 2 || n->scalar.n > 20)
        return -EINVAL;
    const char *p = n->scalar.s;
    size_t l = n->scalar.n;
    int64_t v = 0;
    for (size_t i = 0; i + 1 < l; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EINVAL;
        v = v * 10 + (p[i] - '0');
        if (v > 100000000)
            return -EINVAL;
    }
    int64_t unit = time_unit_seconds(p[l - 1]);
    if (!unit)
        return -EINVAL;
    if (v == 0)
        return -EINVAL;
    *out = v * unit * NS_PER_SEC;
    return 0;
}

static int load_correlation(struct doc *d, const struct ynode *root)
{
    struct sigma_set *s = d->s;
    struct sigma_correlation *k = arena_alloc(&s->arena, sizeof(*k));
    memset(k, 0, sizeof(*k));
    k->file = d->file;
    k->mark = root->mark;
    int rc = scalar_field(d, root, "title", true, &k->title);
    if (!rc)
        rc = scalar_field(d, root, "id", false, &k->id);
    if (!rc)
        rc = scalar_field(d, root, "name", false, &k->name);
    if (!rc)
        rc = scalar_field(d, root, "level", false, &k->level);
    if (!rc)
        rc = scalar_field(d, root, "status", false, &k->status);
    if (!rc)
        rc = string_list(d, ynode_get(root, "tags"), "tags", &k->tags, &k->ntags);
    if (rc)
        return rc;
    attack_ids(s, k->tags, k->ntags, &k->attack, &k->nattack);
    const struct ynode *c = ynode_get(root, "correlation");
    if (c->kind != YNODE_MAP)
        return refuse(d, c, "'correlation' must be a mapping, found %s", ynode_kind_name(c));
    const struct ynode *t = ynode_get(c, "type");
    if (!t)
        return refuse(d, c, "correlation has no 'type'");
    int type = -1;
    for (size_t i = 0; i < sizeof(corr_types) / sizeof(corr_types[0]); i++)
        if (ynode_scalar_is(t, corr_types[i]))
            type = (int)i;
    if (type < 0)
        return refuse(d, t,
                      "correlation type '%s' is not one of event_count, value_count, temporal, "
                      "temporal_ordered, value_sum, value_avg, value_percentile",
                      t->kind == YNODE_SCALAR ? t->scalar.s : "?");
    k->type = (uint8_t)type;
    const struct ynode *rules = ynode_get(c, "rules");
    if (!rules)
        return refuse(d, c, "correlation has no 'rules'");
    rc = string_list(d, rules, "correlation rules", &k->rules, &k->nrules);
    if (rc)
        return rc;
    if (k->nrules == 0)
        return refuse(d, rules, "correlation names no rules");
    rc = string_list(d, ynode_get(c, "group-by"), "group-by", &k->group_by, &k->ngroup_by);
    if (rc)
        return rc;
    const struct ynode *ts = ynode_get(c, "timespan");
    if (!ts)
        ts = ynode_get(c, "timeframe");
    if (!ts)
        return refuse(d, c, "correlation has no 'timespan'");
    if (parse_timespan(ts, &k->timespan_ns))
        return refuse(d, ts, "timespan '%s' is not a number followed by s, m, h or d",
                      ts->kind == YNODE_SCALAR ? ts->scalar.s : "?");
    const struct ynode *cond = ynode_get(c, "condition");
    bool temporal = type == CORR_TEMPORAL || type == CORR_TEMPORAL_ORDERED;
    if (!cond && !temporal)
        return refuse(d, c, "%s correlation has no 'condition'", corr_types[type]);
    if (cond) {
        if (cond->kind != YNODE_MAP)
            return refuse(d, cond, "correlation condition must be a mapping (gte: 10 ...)");
        for (size_t i = 0; i < cond->map.n; i++) {
            const struct ynode *ck = cond->map.pairs[i].key, *cv = cond->map.pairs[i].val;
            if (ynode_scalar_is(ck, "field")) {
                rc = string_list(d, cv, "condition field", &k->fields, &k->nfields);
                if (rc)
                    return rc;
                continue;
            }
            if (ynode_scalar_is(ck, "percentile")) {
                if (!ynode_float(cv, &k->percentile) || !(k->percentile >= 0) ||
                    k->percentile > 100)
                    return refuse(d, cv, "percentile must be a number from 0 to 100");
                k->has_percentile = true;
                continue;
            }
            int ci = -1;
            for (int j = 0; j < 6; j++)
                if (ynode_scalar_is(ck, corr_cmps[j]))
                    ci = j;
            if (ci < 0)
                return refuse(d, ck,
                              "unknown correlation condition '%s' (gt, gte, lt, lte, eq, "
                              "neq, field)",
                              ck->kind == YNODE_SCALAR ? ck->scalar.s : "?");
            if (!ynode_float(cv, &k->cmp_val[ci]))
                return refuse(d, cv, "'%s' needs a number", corr_cmps[ci]);
            k->has_cmp[ci] = true;
        }
        bool any = false;
        for (int j = 0; j < 6; j++)
            any |= k->has_cmp[j];
        if (!any)
            return refuse(d, cond, "correlation condition has no comparison (gt, gte, ...)");
    }
    bool needs_field = type == CORR_VALUE_COUNT || type == CORR_VALUE_SUM ||
                       type == CORR_VALUE_AVG || type == CORR_VALUE_PERCENTILE;
    if (needs_field && k->nfields == 0)
        return refuse(d, cond ? cond : c, "%s correlation needs 'field' in its condition",
                      corr_types[type]);
    const struct ynode *al = ynode_get(c, "aliases");
    if (al && !ynode_is_null(al)) {
        if (al->kind != YNODE_MAP)
            return refuse(d, al, "aliases must be a mapping");
        k->aliases = arena_alloc(&s->arena, (al->map.n + 1) * sizeof(*k->aliases));
        for (size_t i = 0; i < al->map.n; i++) {
            const struct ynode *an = al->map.pairs[i].key, *av = al->map.pairs[i].val;
            if (an->kind != YNODE_SCALAR || av->kind != YNODE_MAP)
                return refuse(d, av, "alias must map rule names to field names");
            struct corr_alias *a = &k->aliases[k->naliases++];
            a->name = dup_scalar(s, an);
            a->rule_names = arena_alloc(&s->arena, (av->map.n + 1) * sizeof(char *));
            a->fields = arena_alloc(&s->arena, (av->map.n + 1) * sizeof(char *));
            for (size_t j = 0; j < av->map.n; j++) {
                if (av->map.pairs[j].val->kind != YNODE_SCALAR)
                    return refuse(d, av->map.pairs[j].val, "alias field must be a string");
                a->rule_names[j] = dup_scalar(s, av->map.pairs[j].key);
                a->fields[j] = dup_scalar(s, av->map.pairs[j].val);
            }
            a->n = (uint32_t)av->map.n;
        }
    }
    const struct ynode *gen = ynode_get(c, "generate");
    if (!gen)
        gen = ynode_get(root, "generate");
    if (gen && !ynode_bool(gen, &k->generate))
        return refuse(d, gen, "generate must be true or false");
    if (push_ptr((void ***)&s->corrs, &s->ncorrs, &s->capcorrs, k))
        return -ENOMEM;
    return 0;
}

int sigma_load_documents(struct sigma_set *s, const char *file, const char *text, size_t n)
{
    struct yaml_file yf;
    struct yaml_error ye;
    int prc = yaml_parse(text, n, &yf, &ye);
    const char *fname = arena_strndup(&s->arena, file, strlen(file));
    for (size_t i = 0; i < yf.ndocs; i++) {
        const struct ynode *root = yf.docs[i];
        struct doc d = {.s = s, .file = fname};
        int rc;
        if (root->kind == YNODE_SCALAR && ynode_is_null(root) && yf.ndocs > 1)
            continue; /* an empty document between separators */
        d.where = root->mark;
        if (root->kind != YNODE_MAP) {
            rc = refuse(&d, root, "a Sigma document must be a mapping, found %s",
                        ynode_kind_name(root));
        } else if (ynode_get(root, "correlation")) {
            rc = load_correlation(&d, root);
        } else if (ynode_get(root, "detection")) {
            rc = load_rule(&d, root);
        } else if (ynode_get(root, "filter")) {
            rc = load_filter(&d, root);
        } else if (ynode_get(root, "action")) {
            rc = refuse(&d, root,
                        "rule collections with 'action' are Sigma v1 syntax: write "
                        "each rule as a complete document");
        } else {
            rc = refuse(&d, root,
                        "not a Sigma document: no 'detection', 'correlation' or "
                        "'filter' section");
        }
        if (rc == -ENOMEM) {
            yaml_file_free(&yf);
            return rc;
        }
        if (rc) {
            s->refused++;
            sigma_diag_add(s, SIGMA_REFUSED, fname, d.where, "%s", d.err);
        }
    }
    if (prc) {
        s->refused++;
        sigma_diag_add(s, SIGMA_REFUSED, fname, ye.mark, "%s", ye.msg);
    }
    yaml_file_free(&yf);
    return 0;
}
