/*
 * sigma-logsource.c - the log source mapping: which events a rule's
 * `logsource` applies to.
 *
 * The mapping file (config/logsources.yml, documented in docs/sigma.md) is a
 * list of entries. Each entry names a rule log source (product / service /
 * category, any subset) and the conditions an event must meet to belong to
 * it, written like a Sigma selection ("Channel: Security", "EventID: 4688",
 * "logsource.product: postfix"), optionally with field mappings for that
 * source (a rule's Image is the event's NewProcessName in Security 4688).
 *
 * A rule is served by every entry that sets each log source key the rule
 * sets, to the same value (an entry may be more specific than the rule,
 * never less). A rule served by no entry is inactive: kenchi never produces
 * its events.
 *
 * For speed, each entry is filed under one of its exact-match conditions
 * (field, value) in a hash table, the one the fewest entries share; an event
 * then looks up its own values of the few dispatch fields instead of testing
 * every entry. Entries without such a condition are tested on every event.
 *
 * An entry whose rule side says `service: '*'` stands for every service of
 * its product: it is copied for each service the loaded rules name, with
 * the added condition logsource.service == that service (expand_wildcards).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"

static int read_all(const char *path, char **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
        if (len + 1 == cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -ENOMEM;
    buf[len] = '\0';
    *out = buf;
    *n = len;
    return 0;
}

static uint32_t val_hash(uint32_t disp, const char *s, size_t n)
{
    uint32_t h = 2166136261u ^ disp;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

bool ls_entry_serves(const struct ls_entry *e, const char *p, const char *sv, const char *c)
{
    const char *rk[3] = {p, sv, c};
    const char *ek[3] = {e->product, e->service, e->category};
    for (int i = 0; i < 3; i++)
        if (rk[i] && (!ek[i] || strcmp(rk[i], ek[i])))
            return false;
    return true;
}

static int bad(FILE *err, const char *path, struct ymark m, const char *msg)
{
    fprintf(err, "kenchi: %s:%u:%u: %s\n", path, m.line, m.col, msg);
    return -EINVAL;
}

void ls_number_key(double d, char *buf, size_t n)
{
    if (d > -1e15 && d < 1e15 && (double)(long long)d == d)
        snprintf(buf, n, "%lld", (long long)d);
    else
        snprintf(buf, n, "%.17g", d);
}

/* Can entry item it be a dispatch key: a field equal to one of a few
 * case-blind literals? */
static bool dispatch_item(const struct sigma_item *it)
{
    if (!it->field || it->neq || it->all || !it->nvals)
        return false;
    for (uint32_t k = 0; k < it->nvals; k++)
        if (it->vals[k].kind != SV_EXACT || it->vals[k].cased)
            return false;
    return true;
}

/* How many values of dispatch items of all entries equal value v of item
 * it (same field): the entries an event with that value would test. */
static uint32_t value_load(const struct ls_map *m, const struct sigma_item *it,
                           const struct sigma_value *v)
{
    uint32_t n = 0;
    for (uint32_t e = 0; e < m->n; e++)
        for (uint32_t i = 0; i < m->e[e].cond.n; i++) {
            const struct sigma_item *o = &m->e[e].cond.items[i];
            if (!dispatch_item(o) || o->field_hash != it->field_hash ||
                strcasecmp(o->field, it->field))
                continue;
            for (uint32_t k = 0; k < o->nvals; k++)
                n += o->vals[k].n == v->n && !memcmp(o->vals[k].s, v->s, v->n);
        }
    return n;
}

static void push_slot(struct ls_slot **slots, size_t *nslots, size_t *cap, struct ls_slot sl)
{
    if (*nslots == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *slots = realloc(*slots, *cap * sizeof(**slots));
        if (!*slots)
            abort();
    }
    (*slots)[(*nslots)++] = sl;
}

/* Choose the item to file entry e under (the one whose values the fewest
 * other entries share: EventID: 1 rather than the Sysmon channel), and
 * register its values. A number is filed under its text and under its
 * ls_number_key(), which an event value written otherwise (0x1, 1.0) is
 * looked up by too. */
static void file_entry(struct sigma_set *s, uint32_t ei, struct ls_slot **slots, size_t *nslots,
                       size_t *cap)
{
    struct ls_map *m = &s->map;
    const struct ls_entry *e = &m->e[ei];
    const struct sigma_item *best = NULL;
    uint32_t best_load = UINT32_MAX;
    for (uint32_t i = 0; i < e->cond.n; i++) {
        const struct sigma_item *it = &e->cond.items[i];
        if (!dispatch_item(it))
            continue;
        bool known = false;
        for (uint32_t k = 0; k < m->ndisp; k++)
            known |= m->disp[k].hash == it->field_hash && m->disp[k].len == it->field_len &&
                     !strcasecmp(m->disp[k].field, it->field);
        if (!known && m->ndisp == LS_MAX_DISPATCH)
            continue;
        uint32_t load = 0;
        for (uint32_t k = 0; k < it->nvals; k++)
            load += value_load(m, it, &it->vals[k]);
        if (load < best_load) {
            best = it;
            best_load = load;
        }
    }
    if (!best) {
        m->always[m->nalways++] = ei;
        return;
    }
    uint32_t d = UINT32_MAX;
    for (uint32_t k = 0; k < m->ndisp; k++)
        if (m->disp[k].hash == best->field_hash && m->disp[k].len == best->field_len &&
            !strcasecmp(m->disp[k].field, best->field))
            d = k;
    if (d == UINT32_MAX) {
        d = m->ndisp++;
        m->disp[d].field = best->field;
        m->disp[d].len = best->field_len;
        m->disp[d].hash = best->field_hash;
    }
    for (uint32_t k = 0; k < best->nvals; k++) {
        const struct sigma_value *v = &best->vals[k];
        push_slot(slots, nslots, cap, (struct ls_slot){d, ei, v->s, v->n, val_hash(d, v->s, v->n)});
        if (!v->numeric)
            continue;
        char key[48];
        ls_number_key(v->num, key, sizeof(key));
        size_t kl = strlen(key);
        if (kl != v->n || memcmp(key, v->s, kl)) {
            const char *ks = arena_strndup(&s->arena, key, kl);
            push_slot(slots, nslots, cap,
                      (struct ls_slot){d, ei, ks, (uint32_t)kl, val_hash(d, ks, kl)});
        }
    }
}

static void build_dispatch(struct sigma_set *s)
{
    struct ls_map *m = &s->map;
    struct ls_slot *list = NULL;
    size_t n = 0, cap = 0;
    m->always = calloc(m->n + 1, sizeof(uint32_t));
    if (!m->always)
        abort();
    for (uint32_t i = 0; i < m->n; i++)
        if (!m->e[i].service || strcmp(m->e[i].service, "*"))
            file_entry(s, i, &list, &n, &cap);
    uint32_t ns = 16;
    while (ns < n * 2 + 2)
        ns *= 2;
    m->slots = malloc(ns * sizeof(*m->slots));
    if (!m->slots)
        abort();
    for (uint32_t i = 0; i < ns; i++)
        m->slots[i].disp = UINT32_MAX;
    m->nslots = ns;
    for (size_t i = 0; i < n; i++) {
        uint32_t h = list[i].hash & (ns - 1);
        while (m->slots[h].disp != UINT32_MAX)
            h = (h + 1) & (ns - 1);
        m->slots[h] = list[i];
    }
    free(list);
}

int ls_map_load(struct sigma_set *s, const char *path, FILE *err)
{
    struct ls_map *m = &s->map;
    m->path = strdup(path);
    char *text = NULL;
    size_t n = 0;
    int rc = read_all(path, &text, &n);
    if (rc) {
        fprintf(err, "kenchi: %s: %s\n", path, strerror(-rc));
        return rc;
    }
    struct yaml_file yf;
    struct yaml_error ye;
    rc = yaml_parse(text, n, &yf, &ye);
    free(text);
    if (rc) {
        bad(err, path, ye.mark, ye.msg);
        yaml_file_free(&yf);
        return -EINVAL;
    }
    const struct ynode *root = yf.ndocs ? yf.docs[0] : NULL;
    const struct ynode *list = ynode_get(root, "logsources");
    if (!list || list->kind != YNODE_SEQ) {
        rc = bad(err, path, root ? root->mark : (struct ymark){1, 1},
                 "expected 'logsources:' with a list of entries");
        yaml_file_free(&yf);
        return rc;
    }
    m->e = calloc(list->seq.n + 1, sizeof(*m->e));
    if (!m->e) {
        yaml_file_free(&yf);
        return -ENOMEM;
    }
    char cerr[SIGMA_ERR_MAX];
    const char *needs = NULL;
    struct sv_ctx c = {.arena = &s->arena,
                       .ph = &s->ph,
                       .needs_placeholder = &needs,
                       .codes = &s->codes,
                       .ncodes = &s->ncodes,
                       .err = cerr};
    for (size_t i = 0; i < list->seq.n && !rc; i++) {
        const struct ynode *en = list->seq.items[i];
        struct ls_entry *e = &m->e[m->n];
        e->mark = en->mark;
        const struct ynode *rn = ynode_get(en, "rule");
        const struct ynode *ev = ynode_get(en, "events");
        if (!rn || rn->kind != YNODE_MAP) {
            rc = bad(err, path, en->mark, "entry needs 'rule:' (product, service, category)");
            break;
        }
        if (!ev || ev->kind != YNODE_MAP || ev->map.n == 0) {
            rc = bad(err, path, en->mark, "entry needs 'events:' (field: value conditions)");
            break;
        }
        static const char *const keys[] = {"product", "service", "category"};
        const char **outs[] = {&e->product, &e->service, &e->category};
        for (int k = 0; k < 3; k++) {
            const struct ynode *v = ynode_get(rn, keys[k]);
            if (v && v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
                char *low = arena_strndup(&s->arena, v->scalar.s, v->scalar.n);
                for (char *p = low; *p; p++)
                    if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p + 32);
                *outs[k] = low;
            }
        }
        for (size_t k = 0; k < rn->map.n; k++) {
            const struct ynode *key = rn->map.pairs[k].key;
            if (!ynode_scalar_is(key, "product") && !ynode_scalar_is(key, "service") &&
                !ynode_scalar_is(key, "category")) {
                rc = bad(err, path, key->mark, "rule: takes product, service and category");
                break;
            }
        }
        if (rc)
            break;
        const struct ynode *where = ev;
        cerr[0] = '\0';
        if (sigma_group_compile(&c, ev, &e->cond, &where)) {
            rc = bad(err, path, where ? where->mark : ev->mark, cerr);
            break;
        }
        const struct ynode *fm = ynode_get(en, "fieldmappings");
        if (fm && fm->kind == YNODE_MAP) {
            e->nfm = (uint32_t)fm->map.n;
            e->fm_from = arena_alloc(&s->arena, (e->nfm + 1) * sizeof(char *));
            e->fm_to = arena_alloc(&s->arena, (e->nfm + 1) * sizeof(char *));
            e->fm_hash = arena_alloc(&s->arena, (e->nfm + 1) * sizeof(uint32_t));
            for (uint32_t k = 0; k < e->nfm; k++) {
                const struct ynode *a = fm->map.pairs[k].key, *b = fm->map.pairs[k].val;
                if (a->kind != YNODE_SCALAR || b->kind != YNODE_SCALAR) {
                    rc = bad(err, path, b->mark, "fieldmappings map a field name to one name");
                    break;
                }
                e->fm_from[k] = arena_strndup(&s->arena, a->scalar.s, a->scalar.n);
                e->fm_to[k] = arena_strndup(&s->arena, b->scalar.s, b->scalar.n);
                e->fm_hash[k] = field_name_hash(a->scalar.s, a->scalar.n);
            }
        } else if (fm) {
            rc = bad(err, path, fm->mark, "fieldmappings must be a mapping");
        }
        m->n++;
    }
    yaml_file_free(&yf);
    return rc;
}

static bool has_entry(const struct ls_map *m, const char *p, const char *sv)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->e[i].product && m->e[i].service && !strcmp(m->e[i].product, p) &&
            !strcmp(m->e[i].service, sv))
            return true;
    return false;
}

/* An entry with `service: '*'` stands for every service of its product: for
 * each service a rule names that no entry names, a copy of the wildcard
 * entry is made with the condition logsource.service == that service. */
static void expand_wildcards(struct sigma_set *s)
{
    struct ls_map *m = &s->map;
    uint32_t nbase = m->n;
    for (uint32_t w = 0; w < nbase; w++) {
        if (!m->e[w].service || strcmp(m->e[w].service, "*") || !m->e[w].product)
            continue;
        for (uint32_t i = 0; i < s->nrules; i++) {
            const struct sigma_rule *r = s->rules[i];
            if (!r->product || !r->service || strcmp(r->product, m->e[w].product) ||
                has_entry(m, r->product, r->service))
                continue;
            if (m->e[w].category && (!r->category || strcmp(r->category, m->e[w].category)))
                continue;
            struct ls_entry *ne = realloc(m->e, (m->n + 1) * sizeof(*ne));
            if (!ne)
                abort();
            m->e = ne;
            struct ls_entry *e = &m->e[m->n++];
            *e = m->e[w];
            e->rules = NULL;
            e->nrules = e->caprules = 0;
            e->service = r->service;
            uint32_t n = m->e[w].cond.n;
            e->cond.items = arena_alloc(&s->arena, (n + 1) * sizeof(struct sigma_item));
            memcpy(e->cond.items, m->e[w].cond.items, n * sizeof(struct sigma_item));
            struct sigma_item *it = &e->cond.items[n];
            memset(it, 0, sizeof(*it));
            it->field = "logsource.service";
            it->field_len = (uint32_t)strlen(it->field);
            it->field_hash = field_name_hash(it->field, it->field_len);
            it->vals = arena_alloc(&s->arena, sizeof(struct sigma_value));
            memset(it->vals, 0, sizeof(struct sigma_value));
            it->vals[0].kind = SV_EXACT;
            it->vals[0].s = r->service; /* already lowercase */
            it->vals[0].n = (uint32_t)strlen(r->service);
            it->nvals = 1;
            e->cond.n = n + 1;
        }
    }
}

static void entry_push_rule(struct ls_entry *e, uint32_t r)
{
    if (e->nrules == e->caprules) {
        e->caprules = e->caprules ? e->caprules * 2 : 16;
        e->rules = realloc(e->rules, e->caprules * sizeof(*e->rules));
        if (!e->rules)
            abort();
    }
    e->rules[e->nrules++] = r;
}

void ls_map_bind(struct sigma_set *s)
{
    struct ls_map *m = &s->map;
    expand_wildcards(s);
    build_dispatch(s);
    for (uint32_t i = 0; i < s->nrules; i++) {
        struct sigma_rule *r = s->rules[i];
        r->nvariants = 0;
        for (uint32_t k = 0; k < m->n; k++) {
            if (m->e[k].service && !strcmp(m->e[k].service, "*"))
                continue; /* stands for its expansions */
            if (ls_entry_serves(&m->e[k], r->product, r->service, r->category)) {
                r->nvariants++;
                if (!r->needs_placeholder)
                    entry_push_rule(&m->e[k], i);
            }
        }
        r->active = r->nvariants > 0 && !r->needs_placeholder;
        if (r->needs_placeholder) {
            size_t l = strlen(r->needs_placeholder) + 80;
            char *why = arena_alloc(&s->arena, l);
            snprintf(why, l, "placeholder %s is not defined (see --placeholders)",
                     r->needs_placeholder);
            r->inactive_why = why;
        } else if (!r->nvariants) {
            char *why = arena_alloc(&s->arena, 200);
            snprintf(why, 200, "no event kenchi reads has log source%s%s%s%s%s%s",
                     r->product ? " product:" : "", r->product ? r->product : "",
                     r->service ? " service:" : "", r->service ? r->service : "",
                     r->category ? " category:" : "", r->category ? r->category : "");
            r->inactive_why = why;
        }
    }
}

void ls_map_free(struct ls_map *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        free(m->e[i].rules);
    free(m->e);
    free(m->slots);
    free(m->always);
    free(m->path);
    memset(m, 0, sizeof(*m));
}
