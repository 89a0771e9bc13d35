/*
 * yaml.c - libyaml events folded into a tree with marks; see yaml.h.
 *
 * The builder keeps a stack of open containers. Children of an open
 * container are gathered in a malloc'd vector (its final size is unknown
 * until the end event) and copied into the arena when the container closes,
 * so the tree itself is one arena and frees in one call. Anchors are
 * document-scoped: the table is cleared at every document end.
 */
#include "util/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct open_node {
    struct ynode *node;
    struct ynode **kids; /* children in order (keys and values alternate for maps) */
    size_t n, cap;
};

struct anchor {
    char *name;
    struct ynode *node;
};

struct builder {
    struct yaml_file *f;
    struct open_node stack[YAML_MAX_DEPTH + 1];
    int depth;
    struct anchor *anchors;
    size_t nanchors, capanchors;
    struct ynode *root;
    struct yaml_error *err;
};

static struct ymark mark_of(const yaml_mark_t *m)
{
    return (struct ymark){(uint32_t)m->line + 1, (uint32_t)m->column + 1};
}

static int fail(struct builder *b, struct ymark m, const char *fmt, const char *arg)
{
    b->err->mark = m;
    snprintf(b->err->msg, sizeof(b->err->msg), fmt, arg ? arg : "");
    return -EINVAL;
}

static void clear_anchors(struct builder *b)
{
    for (size_t i = 0; i < b->nanchors; i++)
        free(b->anchors[i].name);
    b->nanchors = 0;
}

static int add_anchor(struct builder *b, const char *name, struct ynode *node)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < b->nanchors; i++) {
        if (!strcmp(b->anchors[i].name, name)) {
            b->anchors[i].node = node; /* YAML allows redefinition: latest wins */
            return 0;
        }
    }
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        struct anchor *a = realloc(b->anchors, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        b->anchors = a;
        b->capanchors = cap;
    }
    b->anchors[b->nanchors].name = strdup(name);
    if (!b->anchors[b->nanchors].name)
        return -ENOMEM;
    b->anchors[b->nanchors++].node = node;
    return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* Attach a finished node to the open container on top (or make it root). */
static int attach(struct builder *b, struct ynode *node)
{
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    struct open_node *o = &b->stack[b->depth - 1];
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        struct ynode **k = realloc(o->kids, cap * sizeof(*k));
        if (!k)
            return -ENOMEM;
        o->kids = k;
        o->cap = cap;
    }
    o->kids[o->n++] = node;
    o->node->weight = sat_add(o->node->weight, node->weight);
    if (o->node->weight > YAML_MAX_EXPANDED)
        return fail(b, node->mark, "aliases expand to too many nodes (more than 1000000)%s", NULL);
    return 0;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m,
                              const yaml_char_t *tag)
{
    struct ynode *n = arena_alloc(&b->f->arena, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->mark = mark_of(m);
    n->weight = 1;
    if (tag)
        n->tag = arena_strndup(&b->f->arena, (const char *)tag, strlen((const char *)tag));
    return n;
}

static int open_container(struct builder *b, struct ynode *n)
{
    if (b->depth >= YAML_MAX_DEPTH)
        return fail(b, n->mark, "nesting deeper than 64 levels%s", NULL);
    b->stack[b->depth++] = (struct open_node){n, NULL, 0, 0};
    return 0;
}

static bool scalar_eq(const struct ynode *a, const struct ynode *c)
{
    return a->kind == YNODE_SCALAR && c->kind == YNODE_SCALAR && a->scalar.n == c->scalar.n &&
           !memcmp(a->scalar.s, c->scalar.s, a->scalar.n);
}

static int close_container(struct builder *b)
{
    struct open_node *o = &b->stack[--b->depth];
    struct ynode *n = o->node;
    int rc = 0;
    if (n->kind == YNODE_SEQ) {
        n->seq.items = arena_alloc(&b->f->arena, (o->n ? o->n : 1) * sizeof(*n->seq.items));
        if (o->n)
            memcpy(n->seq.items, o->kids, o->n * sizeof(*o->kids));
        n->seq.n = o->n;
    } else {
        size_t np = o->n / 2;
        n->map.pairs = arena_alloc(&b->f->arena, (np ? np : 1) * sizeof(*n->map.pairs));
        for (size_t i = 0; i < np; i++) {
            n->map.pairs[i].key = o->kids[2 * i];
            n->map.pairs[i].val = o->kids[2 * i + 1];
            /* duplicate keys are an error in YAML; quadratic but maps are
             * small, and bounded so hostile input cannot make it slow */
            for (size_t j = 0; j < i && i < 4096; j++) {
                if (scalar_eq(n->map.pairs[j].key, n->map.pairs[i].key)) {
                    rc = fail(b, n->map.pairs[i].key->mark, "duplicate key '%s' in mapping",
                              n->map.pairs[i].key->scalar.s);
                    break;
                }
            }
            if (rc)
                break;
        }
        n->map.n = np;
    }
    free(o->kids);
    o->kids = NULL;
    if (rc)
        return rc;
    return attach(b, n);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    struct ynode *n;
    int rc;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        n = new_node(b, YNODE_SCALAR, &ev->start_mark, ev->data.scalar.tag);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->scalar.n = ev->data.scalar.length;
        n->scalar.s = arena_strndup(&b->f->arena, (const char *)ev->data.scalar.value, n->scalar.n);
        rc = add_anchor(b, (const char *)ev->data.scalar.anchor, n);
        return rc ? rc : attach(b, n);
    }
    case YAML_SEQUENCE_START_EVENT:
        n = new_node(b, YNODE_SEQ, &ev->start_mark, ev->data.sequence_start.tag);
        rc = add_anchor(b, (const char *)ev->data.sequence_start.anchor, n);
        return rc ? rc : open_container(b, n);
    case YAML_MAPPING_START_EVENT:
        n = new_node(b, YNODE_MAP, &ev->start_mark, ev->data.mapping_start.tag);
        rc = add_anchor(b, (const char *)ev->data.mapping_start.anchor, n);
        return rc ? rc : open_container(b, n);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_container(b);
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = b->nanchors; i-- > 0;) {
            if (!strcmp(b->anchors[i].name, name)) {
                /* an anchor whose node is still open would make a cycle */
                for (int d = 0; d < b->depth; d++)
                    if (b->stack[d].node == b->anchors[i].node)
                        return fail(b, mark_of(&ev->start_mark),
                                    "alias *%s refers to a node that contains it", name);
                return attach(b, b->anchors[i].node);
            }
        }
        return fail(b, mark_of(&ev->start_mark), "unknown alias *%s", name);
    }
    default:
        return 0;
    }
}

static int push_doc(struct yaml_file *f, struct ynode *root)
{
    struct ynode **d = realloc(f->docs, (f->ndocs + 1) * sizeof(*d));
    if (!d)
        return -ENOMEM;
    f->docs = d;
    f->docs[f->ndocs++] = root;
    return 0;
}

int yaml_parse(const char *text, size_t n, struct yaml_file *f, struct yaml_error *err)
{
    memset(f, 0, sizeof(*f));
    arena_init(&f->arena, 64 * 1024);
    memset(err, 0, sizeof(*err));
    struct builder b = {.f = f, .err = err};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            err->mark = mark_of(&parser.problem_mark);
            if (parser.context)
                snprintf(err->msg, sizeof(err->msg), "YAML syntax: %s %s",
                         parser.problem ? parser.problem : "error", parser.context);
            else
                snprintf(err->msg, sizeof(err->msg), "YAML syntax: %s",
                         parser.problem ? parser.problem : "error");
            rc = -EINVAL;
            break;
        }
        yaml_event_type_t type = ev.type;
        if (type == YAML_DOCUMENT_START_EVENT) {
            b.root = NULL;
        } else if (type == YAML_DOCUMENT_END_EVENT) {
            if (!b.root) {
                b.root = new_node(&b, YNODE_SCALAR, &ev.start_mark, NULL);
                b.root->plain = true;
                b.root->scalar.s = "";
            }
            rc = push_doc(f, b.root);
            clear_anchors(&b);
        } else {
            rc = on_event(&b, &ev);
        }
        yaml_event_delete(&ev);
        if (rc || type == YAML_STREAM_END_EVENT)
            break;
    }
    if (rc == -ENOMEM && !err->msg[0])
        snprintf(err->msg, sizeof(err->msg), "out of memory");
    for (int d = 0; d < b.depth; d++)
        free(b.stack[d].kids);
    clear_anchors(&b);
    free(b.anchors);
    yaml_parser_delete(&parser);
    return rc ? -EINVAL : 0;
}

void yaml_file_free(struct yaml_file *f)
{
    arena_free(&f->arena);
    free(f->docs);
    f->docs = NULL;
    f->ndocs = 0;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->map.n; i++) {
        const struct ynode *k = map->map.pairs[i].key;
        if (k->kind == YNODE_SCALAR && k->scalar.n == kl && !memcmp(k->scalar.s, key, kl))
            return map->map.pairs[i].val;
    }
    return NULL;
}

bool ynode_scalar_is(const struct ynode *n, const char *lit)
{
    return n && n->kind == YNODE_SCALAR && n->scalar.n == strlen(lit) &&
           !memcmp(n->scalar.s, lit, n->scalar.n);
}

bool ynode_is_null(const struct ynode *n)
{
    if (!n || n->kind != YNODE_SCALAR || !n->plain)
        return false;
    if (n->tag && strcmp(n->tag, "tag:yaml.org,2002:null"))
        return false;
    return n->scalar.n == 0 || ynode_scalar_is(n, "~") || ynode_scalar_is(n, "null") ||
           ynode_scalar_is(n, "Null") || ynode_scalar_is(n, "NULL");
}

bool ynode_bool(const struct ynode *n, bool *out)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "No",
                                    "NO",    "off",   "Off",   "OFF"};
    if (!n || n->kind != YNODE_SCALAR || !n->plain)
        return false;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (ynode_scalar_is(n, t[i])) {
            *out = true;
            return true;
        }
        if (ynode_scalar_is(n, f[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool ynode_int(const struct ynode *n, long long *out)
{
    if (!n || n->kind != YNODE_SCALAR || !n->plain || !n->scalar.n || n->scalar.n > 40)
        return false;
    const char *s = n->scalar.s;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    int base = 10;
    if (n->scalar.n > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o')) {
        base = s[i + 1] == 'x' ? 16 : 8;
        i += 2;
    }
    if (i >= n->scalar.n)
        return false;
    unsigned long long v = 0;
    for (; i < n->scalar.n; i++) {
        int d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        if (d >= base || v > (0x7fffffffffffffffULL - (unsigned)d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + (unsigned)d;
    }
    *out = neg ? -(long long)v : (long long)v;
    return true;
}

bool ynode_float(const struct ynode *n, double *out)
{
    long long i;
    if (ynode_int(n, &i)) {
        *out = (double)i;
        return true;
    }
    if (!n || n->kind != YNODE_SCALAR || !n->plain || !n->scalar.n || n->scalar.n > 60)
        return false;
    char *end;
    double d = strtod(n->scalar.s, &end);
    if (end != n->scalar.s + n->scalar.n)
        return false;
    /* strtod also reads "inf", "nan" and hex floats, which YAML spells
     * differently: insist on a digit */
    if (!strpbrk(n->scalar.s, "0123456789"))
        return false;
    *out = d;
    return true;
}

const char *ynode_kind_name(const struct ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YNODE_SCALAR:
        return ynode_is_null(n) ? "null" : "a scalar";
    case YNODE_SEQ:
        return "a list";
    default:
        return "a mapping";
    }
}
