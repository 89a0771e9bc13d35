/*
 * sigma-set.c - a loaded rule set: files and directories in, diagnostics
 * kept, filters grafted onto their rules, log sources bound; see sigma.h.
 *
 * Directories are walked in name order so the rule order (and therefore
 * the alert order for one event) is the same on every machine. Only *.yml
 * and *.yaml files are read; anything else in a rules tree (README, images)
 * is skipped silently, as a rules repository is expected to hold both.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/sigma-model.h"
#include "detect/sigma-prefilter.h"

#define MAX_RULE_FILE  (16 * 1024 * 1024)
#define MAX_DEPTH      64
#define CORR_MAX_CHAIN 16 /* as CORR_MAX_DEPTH in sigma-corr.c */

void sigma_diag_add(struct sigma_set *s, enum sigma_diag_kind kind, const char *file,
                    struct ymark m, const char *fmt, ...)
{
    if (s->ndiags == s->capdiags) {
        size_t cap = s->capdiags ? s->capdiags * 2 : 32;
        struct sigma_diag *d = realloc(s->diags, cap * sizeof(*d));
        if (!d)
            return;
        s->diags = d;
        s->capdiags = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct sigma_diag *d = &s->diags[s->ndiags++];
    d->kind = kind;
    d->file = strdup(file ? file : "-");
    d->line = m.line;
    d->col = m.col;
    d->msg = strdup(msg);
}

/* Default places of the mapping file: ./config/logsources.yml, then the
 * repository the binary was built in (build/<kind>/kenchi -> ../../config),
 * then an installed share directory. */
static char *find_logsources(void)
{
    static const char *const rel[] = {"config/logsources.yml"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
        if (access(rel[i], R_OK) == 0)
            return strdup(rel[i]);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 64);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            static const char *const up[] = {"/../../config/logsources.yml",
                                             "/../share/kenchi/logsources.yml",
                                             "/config/logsources.yml"};
            for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
                char path[4200];
                snprintf(path, sizeof(path), "%.*s%s", (int)(slash - exe), exe, up[i]);
                if (access(path, R_OK) == 0)
                    return strdup(path);
            }
        }
    }
    return NULL;
}

int sigma_set_new(const struct sigma_opts *o, struct sigma_set **out, FILE *err)
{
    struct sigma_set *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    arena_init(&s->arena, 256 * 1024);
    char *path = o && o->logsources ? strdup(o->logsources) : find_logsources();
    if (!path) {
        fprintf(err, "kenchi: no log source mapping found (config/logsources.yml); give one "
                     "with --logsources FILE\n");
        sigma_set_free(s);
        return -ENOENT;
    }
    int rc = 0;
    if (o && o->placeholders)
        rc = placeholders_load(s, o->placeholders, err);
    if (!rc)
        rc = ls_map_load(s, path, err);
    free(path);
    if (rc) {
        sigma_set_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int read_file(const char *path, char **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > MAX_RULE_FILE) {
        fclose(f);
        return -EFBIG;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
        if (len + 1 == cap) {
            if (cap > MAX_RULE_FILE) {
                free(buf);
                fclose(f);
                return -EFBIG;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int e = ferror(f);
    fclose(f);
    if (!buf)
        return -ENOMEM;
    if (e) {
        free(buf);
        return -EIO;
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    return 0;
}

int sigma_set_load_text(struct sigma_set *s, const char *name, const char *text, size_t n)
{
    s->files++;
    return sigma_load_documents(s, name, text, n);
}

static int load_file(struct sigma_set *s, const char *path)
{
    char *text = NULL;
    size_t n = 0;
    int rc = read_file(path, &text, &n);
    if (rc) {
        s->refused++;
        sigma_diag_add(s, SIGMA_REFUSED, path, (struct ymark){0, 0}, "cannot read: %s",
                       strerror(-rc));
        return 0;
    }
    rc = sigma_set_load_text(s, path, text, n);
    free(text);
    return rc;
}

static bool yaml_name(const char *name)
{
    size_t l = strlen(name);
    return (l > 4 && !strcmp(name + l - 4, ".yml")) || (l > 5 && !strcmp(name + l - 5, ".yaml"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct sigma_set *s, const char *path, int depth, bool top)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (top)
            return -ENOENT;
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return (top || yaml_name(path)) ? load_file(s, path) : 0;
    if (depth > MAX_DEPTH)
        return 0;
    DIR *d = opendir(path);
    if (!d) {
        sigma_diag_add(s, SIGMA_REFUSED, path, (struct ymark){0, 0}, "cannot read directory: %s",
                       strerror(errno));
        s->refused++;
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rc && names[i]) {
            size_t l = strlen(path) + strlen(names[i]) + 2;
            char *child = malloc(l);
            if (child) {
                snprintf(child, l, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                         names[i]);
                rc = walk(s, child, depth + 1, false);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int sigma_set_load_path(struct sigma_set *s, const char *path)
{
    return walk(s, path, 0, true);
}

/* Filter log source: every key the filter names must equal the rule's. */
static bool filter_fits(const struct sigma_filter *f, const struct sigma_rule *r)
{
    const char *fk[3] = {f->product, f->service, f->category};
    const char *rk[3] = {r->product, r->service, r->category};
    for (int i = 0; i < 3; i++)
        if (fk[i] && (!rk[i] || strcmp(fk[i], rk[i])))
            return false;
    return true;
}

static bool filter_names(const struct sigma_filter *f, const struct sigma_rule *r)
{
    if (f->nrules == 0)
        return true;
    for (uint32_t i = 0; i < f->nrules; i++)
        if ((r->id && !strcmp(f->rules[i], r->id)) || (r->name && !strcmp(f->rules[i], r->name)))
            return true;
    return false;
}

/* rule condition := (rule condition) and (filter condition), with the
 * filter's identifiers appended after the rule's. */
static void graft_filter(struct sigma_set *s, struct sigma_rule *r, const struct sigma_filter *f)
{
    struct sigma_sel *sels = arena_alloc(&s->arena, (r->nsels + f->nsels) * sizeof(*sels));
    memcpy(sels, r->sels, r->nsels * sizeof(*sels));
    memcpy(sels + r->nsels, f->sels, f->nsels * sizeof(*sels));
    uint32_t froot = cond_tree_graft(&r->cond, &f->cond, r->nsels);
    r->cond.root = cond_tree_add(&r->cond, COND_AND, r->cond.root, froot);
    r->sels = sels;
    r->nsels += f->nsels;
}

/* Warn about correlations that name each other in a cycle (or chain more
 * than 16 deep): the correlation engine disables them (sigma-corr.c uses
 * the same depth rule). */
static void corr_check_cycles(struct sigma_set *s)
{
    uint32_t *depth = calloc(s->ncorrs ? s->ncorrs : 1, sizeof(*depth));
    if (!depth)
        return;
    for (uint32_t i = 0; i < s->ncorrs; i++)
        depth[i] = 1;
    for (uint32_t round = 0; round <= CORR_MAX_CHAIN; round++) {
        bool changed = false;
        for (uint32_t i = 0; i < s->ncorrs; i++) {
            const struct sigma_correlation *k = s->corrs[i];
            for (uint32_t q = 0; q < k->nrules; q++)
                for (uint32_t j = 0; j < s->ncorrs; j++) {
                    const struct sigma_correlation *o = s->corrs[j];
                    if (j == i || !((o->id && !strcmp(k->rules[q], o->id)) ||
                                    (o->name && !strcmp(k->rules[q], o->name))))
                        continue;
                    if (depth[i] < depth[j] + 1 && depth[i] <= CORR_MAX_CHAIN) {
                        depth[i] = depth[j] + 1;
                        changed = true;
                    }
                }
        }
        if (!changed)
            break;
    }
    for (uint32_t i = 0; i < s->ncorrs; i++)
        if (depth[i] > CORR_MAX_CHAIN)
            sigma_diag_add(s, SIGMA_WARNING, s->corrs[i]->file, s->corrs[i]->mark,
                           "correlation '%s' names correlations in a cycle (or a chain deeper "
                           "than %d): it is not evaluated",
                           s->corrs[i]->title, CORR_MAX_CHAIN);
    free(depth);
}

/* Field ids: one per distinct field name (byte for byte) that items and
 * field references read. */
struct fid_table {
    struct fid_slot {
        const char *name;
        uint32_t len, id;
    } * slots;
    uint32_t nslots, n;
};

static uint32_t fid_of(struct fid_table *t, const char *name, uint32_t len)
{
    if (!t->slots || (t->n + 1) * 2 > t->nslots)
        return 0; /* the table is sized before; 0 leaves the field uncached */
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    for (h &= t->nslots - 1; t->slots[h].name; h = (h + 1) & (t->nslots - 1))
        if (t->slots[h].len == len && !memcmp(t->slots[h].name, name, len))
            return t->slots[h].id;
    t->slots[h] = (struct fid_slot){name, len, ++t->n};
    return t->n;
}

static void intern_group(struct fid_table *t, struct sigma_group *g)
{
    for (uint32_t i = 0; i < g->n; i++) {
        struct sigma_item *it = &g->items[i];
        if (it->field)
            it->fid = fid_of(t, it->field, it->field_len);
        for (uint32_t j = 0; j < it->nvals; j++)
            if (it->vals[j].kind == SV_FIELDREF)
                it->vals[j].ref_fid = fid_of(t, it->vals[j].s, it->vals[j].n);
    }
}

/* Give the field names read by rules (filters grafted) and by the log source
 * entries' conditions their ids. Without memory, ids stay 0: matching then
 * looks every field up each time, with the same results. */
static void intern_fields(struct sigma_set *s)
{
    uint64_t items = 0;
    for (uint32_t r = 0; r < s->nrules; r++)
        for (uint32_t k = 0; k < s->rules[r]->nsels; k++)
            for (uint32_t g = 0; g < s->rules[r]->sels[k].n; g++) {
                const struct sigma_group *gr = &s->rules[r]->sels[k].groups[g];
                items += gr->n;
                for (uint32_t i = 0; i < gr->n; i++)
                    items += gr->items[i].nvals;
            }
    for (uint32_t e = 0; e < s->map.n; e++)
        items += s->map.e[e].cond.n;
    struct fid_table t = {0};
    t.nslots = 64;
    while (t.nslots < items * 2 + 2)
        t.nslots *= 2;
    t.slots = calloc(t.nslots, sizeof(*t.slots));
    if (!t.slots)
        return;
    for (uint32_t r = 0; r < s->nrules; r++)
        for (uint32_t k = 0; k < s->rules[r]->nsels; k++)
            for (uint32_t g = 0; g < s->rules[r]->sels[k].n; g++)
                intern_group(&t, &s->rules[r]->sels[k].groups[g]);
    for (uint32_t e = 0; e < s->map.n; e++)
        intern_group(&t, &s->map.e[e].cond);
    s->nfids = t.n;
    free(t.slots);
}

int sigma_set_finish(struct sigma_set *s)
{
    if (s->finished)
        return 0;
    s->finished = true;
    for (uint32_t i = 0; i < s->nfilters; i++) {
        struct sigma_filter *f = s->filters[i];
        for (uint32_t j = 0; j < s->nrules; j++) {
            struct sigma_rule *r = s->rules[j];
            if (filter_names(f, r) && filter_fits(f, r)) {
                graft_filter(s, r, f);
                f->applied++;
            }
        }
        for (uint32_t k = 0; k < f->nrules; k++) {
            bool found = false;
            for (uint32_t j = 0; j < s->nrules && !found; j++) {
                const struct sigma_rule *r = s->rules[j];
                found = (r->id && !strcmp(f->rules[k], r->id)) ||
                        (r->name && !strcmp(f->rules[k], r->name));
            }
            if (!found)
                sigma_diag_add(s, SIGMA_WARNING, f->file, f->mark,
                               "filter '%s' names rule '%s', which is not loaded", f->title,
                               f->rules[k]);
        }
    }
    /* correlations name rules (or other correlations) by id or name */
    for (uint32_t i = 0; i < s->ncorrs; i++) {
        const struct sigma_correlation *k = s->corrs[i];
        for (uint32_t q = 0; q < k->nrules; q++) {
            const char *ref = k->rules[q];
            bool found = false;
            for (uint32_t j = 0; j < s->nrules && !found; j++) {
                const struct sigma_rule *r = s->rules[j];
                found = (r->id && !strcmp(ref, r->id)) || (r->name && !strcmp(ref, r->name));
            }
            for (uint32_t j = 0; j < s->ncorrs && !found; j++) {
                const struct sigma_correlation *o = s->corrs[j];
                found = j != i &&
                        ((o->id && !strcmp(ref, o->id)) || (o->name && !strcmp(ref, o->name)));
            }
            if (!found)
                sigma_diag_add(s, SIGMA_WARNING, k->file, k->mark,
                               "correlation '%s' names rule '%s', which is not loaded", k->title,
                               ref);
        }
    }
    corr_check_cycles(s);
    for (uint32_t j = 0; j < s->nrules; j++) {
        cond_tree_flatten(&s->rules[j]->cond);
        if (s->rules[j]->nsels > s->max_sels)
            s->max_sels = s->rules[j]->nsels;
    }
    ls_map_bind(s);
    intern_fields(s);
    /* on failure s->pf stays NULL and every candidate rule is evaluated */
    (void)sigma_prefilter_build(s);
    return 0;
}

void sigma_set_free(struct sigma_set *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nrules; i++)
        cond_tree_free(&s->rules[i]->cond);
    for (uint32_t i = 0; i < s->nfilters; i++)
        cond_tree_free(&s->filters[i]->cond);
    for (size_t i = 0; i < s->ncodes; i++)
        pcre2_code_free(s->codes[i]);
    free(s->codes);
    for (size_t i = 0; i < s->ndiags; i++) {
        free(s->diags[i].file);
        free(s->diags[i].msg);
    }
    free(s->diags);
    free(s->rules);
    free(s->filters);
    free(s->corrs);
    ls_map_free(&s->map);
    sigma_prefilter_free(s->pf);
    arena_free(&s->arena);
    free(s);
}

void sigma_set_counts(const struct sigma_set *s, struct sigma_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->files = s->files;
    c->rules = s->nrules;
    for (uint32_t i = 0; i < s->nrules; i++) {
        if (s->rules[i]->active)
            c->active++;
        else
            c->inactive++;
    }
    c->filters = s->nfilters;
    c->correlations = s->ncorrs;
    c->refused = s->refused;
    for (size_t i = 0; i < s->ndiags; i++)
        if (s->diags[i].kind == SIGMA_WARNING)
            c->warnings++;
}

const struct sigma_diag *sigma_set_diags(const struct sigma_set *s, size_t *n)
{
    *n = s->ndiags;
    return s->diags;
}

size_t sigma_set_nrules(const struct sigma_set *s)
{
    return s->nrules;
}

const struct sigma_rule *sigma_set_rule(const struct sigma_set *s, size_t i)
{
    return i < s->nrules ? s->rules[i] : NULL;
}

const char *sigma_set_logsources_path(const struct sigma_set *s)
{
    return s->map.path;
}

void sigma_rule_view(const struct sigma_rule *r, struct sigma_rule_view *v)
{
    memset(v, 0, sizeof(*v));
    v->id = r->id;
    v->name = r->name;
    v->title = r->title;
    v->level = r->level;
    v->status = r->status;
    v->file = r->file;
    v->product = r->product;
    v->service = r->service;
    v->category = r->category;
    v->tags = r->tags;
    v->ntags = r->ntags;
    v->attack = r->attack;
    v->nattack = r->nattack;
    v->line = r->mark.line;
    v->col = r->mark.col;
    v->active = r->active;
    v->inactive_why = r->inactive_why;
}

const char *sigma_corr_type_name(uint8_t t);

size_t sigma_set_ncorrelations(const struct sigma_set *s)
{
    return s->ncorrs;
}

void sigma_set_correlation(const struct sigma_set *s, size_t i, struct sigma_correlation_view *v)
{
    const struct sigma_correlation *k = s->corrs[i];
    v->id = k->id;
    v->title = k->title;
    v->type = sigma_corr_type_name(k->type);
    v->file = k->file;
    v->line = k->mark.line;
}

/* Placeholder file: a mapping of name -> string or list of strings, the
 * name with or without the surrounding '%'. Values are Sigma strings
 * (wildcards allowed). */
int placeholders_load(struct sigma_set *s, const char *path, FILE *err)
{
    char *text = NULL;
    size_t n = 0;
    int rc = read_file(path, &text, &n);
    if (rc) {
        fprintf(err, "kenchi: %s: %s\n", path, strerror(-rc));
        return rc;
    }
    struct yaml_file yf;
    struct yaml_error ye;
    rc = yaml_parse(text, n, &yf, &ye);
    free(text);
    if (rc) {
        fprintf(err, "kenchi: %s:%u:%u: %s\n", path, ye.mark.line, ye.mark.col, ye.msg);
        yaml_file_free(&yf);
        return -EINVAL;
    }
    const struct ynode *root = yf.ndocs ? yf.docs[0] : NULL;
    if (root && ynode_get(root, "placeholders"))
        root = ynode_get(root, "placeholders");
    if (!root || root->kind != YNODE_MAP) {
        fprintf(err, "kenchi: %s:%u:%u: placeholders must be a mapping of name: [values]\n", path,
                root ? root->mark.line : 1, root ? root->mark.col : 1);
        yaml_file_free(&yf);
        return -EINVAL;
    }
    s->ph.e = arena_alloc(&s->arena, (root->map.n + 1) * sizeof(*s->ph.e));
    memset(s->ph.e, 0, (root->map.n + 1) * sizeof(*s->ph.e));
    for (size_t i = 0; i < root->map.n; i++) {
        const struct ynode *k = root->map.pairs[i].key, *v = root->map.pairs[i].val;
        if (k->kind != YNODE_SCALAR) {
            fprintf(err, "kenchi: %s:%u:%u: a placeholder name must be a string\n", path,
                    k->mark.line, k->mark.col);
            yaml_file_free(&yf);
            return -EINVAL;
        }
        const char *name = k->scalar.s;
        size_t nl = k->scalar.n;
        if (nl >= 2 && name[0] == '%' && name[nl - 1] == '%') {
            name++;
            nl -= 2;
        }
        struct ph_entry *e = &s->ph.e[s->ph.n++];
        e->name = arena_strndup(&s->arena, name, nl);
        size_t nv = v->kind == YNODE_SEQ ? v->seq.n : 1;
        e->vals = arena_alloc(&s->arena, (nv + 1) * sizeof(char *));
        for (size_t j = 0; j < nv; j++) {
            const struct ynode *it = v->kind == YNODE_SEQ ? v->seq.items[j] : v;
            if (it->kind != YNODE_SCALAR || ynode_is_null(it)) {
                fprintf(err, "kenchi: %s:%u:%u: placeholder values must be strings\n", path,
                        it->mark.line, it->mark.col);
                yaml_file_free(&yf);
                return -EINVAL;
            }
            e->vals[e->n++] = arena_strndup(&s->arena, it->scalar.s, it->scalar.n);
        }
    }
    yaml_file_free(&yf);
    return 0;
}
