/*
 * stix-pattern-eval.c - one observation expression on one event.
 *
 * A test reads the values of its property (stix-pattern-map.c) and is true
 * when the operator holds for one of them ("any": [*], a list property, or a
 * type with several objects in the event). NOT negates the operator for each
 * value, as the OASIS reference matcher does, so [*] with NOT = is "some
 * value differs". A property the event does not have makes every test on it
 * false, NOT included; NOT EXISTS is true when the event holds an object of
 * the path's type without that property.
 *
 * Objects: tests of one observation expression on the same object type must
 * hold for the same object. Only the types an event can hold several of
 * (addresses, domain names, e-mail addresses) need care: when two tests or
 * more read such a type, each object of the event is tried in turn (a
 * bounded product over the bound types); otherwise a test may take any.
 *
 * Comparisons follow the specification: strings by code point (= bytes of
 * UTF-8), numbers by value (an integer 1 is not equal to 1.5), binary
 * constants against a string's Latin-1 code points, and constants of a type
 * the property cannot hold compare false, except under != (true). Leniency:
 * a number written as a string compares as the number; an IP constant that
 * names a network (= '10.0.0.0/8') matches the addresses inside it.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/stix-pattern-impl.h"
#include "util/timeconv.h"

/* ---- scalar parsing ------------------------------------------------------ */

bool sp_parse_number(const char *s, size_t n, bool *is_int, int64_t *i, double *f)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    size_t k = 0;
    bool neg = false;
    if (buf[k] == '+' || buf[k] == '-')
        neg = buf[k++] == '-';
    if (buf[k] == '0' && (buf[k + 1] == 'x' || buf[k + 1] == 'X')) {
        uint64_t v = 0;
        size_t d = k + 2;
        if (!buf[d])
            return false;
        for (; buf[d]; d++) {
            int h = buf[d] >= '0' && buf[d] <= '9'   ? buf[d] - '0'
                    : buf[d] >= 'a' && buf[d] <= 'f' ? buf[d] - 'a' + 10
                    : buf[d] >= 'A' && buf[d] <= 'F' ? buf[d] - 'A' + 10
                                                     : -1;
            if (h < 0 || v > (UINT64_MAX >> 4))
                return false;
            v = v * 16 + (uint64_t)h;
        }
        if (v > INT64_MAX)
            return false;
        *is_int = true;
        *i = neg ? -(int64_t)v : (int64_t)v;
        *f = (double)*i;
        return true;
    }
    bool digits = false, dot = false;
    for (size_t d = k; buf[d]; d++) {
        if (buf[d] >= '0' && buf[d] <= '9')
            digits = true;
        else if (buf[d] == '.' && !dot)
            dot = true;
        else if ((buf[d] == 'e' || buf[d] == 'E') && digits)
            dot = true; /* an exponent: read as a float below */
        else if ((buf[d] == '+' || buf[d] == '-') && d > k &&
                 (buf[d - 1] == 'e' || buf[d - 1] == 'E'))
            continue;
        else
            return false;
    }
    if (!digits)
        return false;
    char *end;
    if (!dot) {
        long long v = strtoll(buf, &end, 10);
        if (*end)
            return false;
        if ((v == LLONG_MAX || v == LLONG_MIN) && strlen(buf) > 18) {
            *is_int = false;
            *f = strtod(buf, NULL);
            return true;
        }
        *is_int = true;
        *i = v;
        *f = (double)v;
        return true;
    }
    double d = strtod(buf, &end);
    if (*end)
        return false;
    *is_int = false;
    *f = d;
    return true;
}

bool sp_parse_time(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    if (time_parse_iso(s, n, NULL, out) == n)
        return true;
    /* epoch seconds, with an optional fraction (Zeek's times) */
    int64_t sec = 0, ns = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (sec > 9000000000LL)
            return false;
        sec = sec * 10 + (s[i++] - '0');
    }
    if (i == 0)
        return false;
    if (i < n && s[i] == '.') {
        int nd = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (nd < 9) {
                ns = ns * 10 + (s[i] - '0');
                nd++;
            }
        while (nd++ < 9)
            ns *= 10;
    }
    if (i != n)
        return false;
    *out = sec * NS_PER_SEC + ns;
    return true;
}

/* Bytes of the UTF-8 character at s (1 for a stray byte). */
static size_t u8len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return l <= n ? l : 1;
}

bool sp_like(const char *s, size_t n, const char *pat, size_t m)
{
    size_t i = 0, j = 0;
    size_t star = (size_t)-1, mark = 0;
    while (i < n) {
        if (j < m && pat[j] == '%') {
            star = j++;
            mark = i;
        } else if (j < m && pat[j] == '_') {
            i += u8len(s + i, n - i);
            j++;
        } else if (j < m && pat[j] == s[i]) {
            i++;
            j++;
        } else if (star != (size_t)-1) {
            j = star + 1;
            mark += u8len(s + mark, n - mark);
            i = mark;
        } else {
            return false;
        }
    }
    while (j < m && pat[j] == '%')
        j++;
    return j == m;
}

/* ---- one value against one constant -------------------------------------- */

/* The value's code points as Latin-1 bytes (the specification's string to
 * binary rule); false if one is above U+00FF or the text is not UTF-8. */
static bool latin1(struct arena *a, struct sp_val v, struct sp_val *out)
{
    char *d = arena_alloc(a, v.n + 1);
    size_t o = 0;
    for (size_t i = 0; i < v.n;) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < 0x80) {
            d[o++] = (char)c;
            i++;
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < v.n &&
                   ((unsigned char)v.p[i + 1] & 0xC0) == 0x80) {
            d[o++] = (char)(((c & 0x03) << 6) | ((unsigned char)v.p[i + 1] & 0x3F));
            i += 2;
        } else {
            return false;
        }
    }
    *out = (struct sp_val){d, (uint32_t)o};
    return true;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int r = memcmp(a, b, m);
    if (r)
        return r < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

/* Compare value v of property pr with constant k. Returns false when the
 * two do not compare (types); else *sign is <0, 0, >0 (for CM_IP: 0 when v
 * lies in k's network, 1 otherwise). */
static bool compare(struct sp_ctx *c, const struct sp_prop *pr, const struct sp_const *k,
                    struct sp_val v, int *sign)
{
    switch (k->mode) {
    case CM_STR: {
        struct sp_val nv = sp_normalise(&c->arena, pr->norm, v.p, v.n);
        *sign = bytes_cmp(nv.p, nv.n, k->s, k->n);
        return true;
    }
    case CM_BYTES: {
        struct sp_val b;
        if (!latin1(&c->arena, v, &b))
            return false;
        *sign = bytes_cmp(b.p, b.n, k->s, k->n);
        return true;
    }
    case CM_NUM: {
        bool is_int;
        int64_t i;
        double f;
        if (!sp_parse_number(v.p, v.n, &is_int, &i, &f))
            return false;
        if (is_int && k->is_int)
            *sign = i < k->i ? -1 : i > k->i;
        else
            *sign = f < k->f ? -1 : f > k->f;
        return true;
    }
    case CM_IP: {
        struct sp_net net;
        if (!sp_net_parse(v.p, v.n, &net)) {
            *sign = 1; /* not an address: not in the network */
            return true;
        }
        *sign = sp_net_within(&net, &k->net) ? 0 : 1;
        return true;
    }
    case CM_TIME: {
        int64_t t;
        if (!sp_parse_time(v.p, v.n, &t))
            return false;
        *sign = t < k->ts ? -1 : t > k->ts;
        return true;
    }
    case CM_BOOL: {
        int b;
        if (v.n == 4 && !strncasecmp(v.p, "true", 4))
            b = 1;
        else if (v.n == 5 && !strncasecmp(v.p, "false", 5))
            b = 0;
        else
            return false;
        *sign = b - (k->b ? 1 : 0);
        return true;
    }
    default:
        return false;
    }
}

static bool re_match(struct sp_ctx *c, pcre2_code *re, struct sp_val v)
{
    if (!c->md) {
        c->md = pcre2_match_data_create(1, NULL);
        c->mc = pcre2_match_context_create(NULL);
        if (!c->md || !c->mc)
            abort();
        pcre2_set_match_limit(c->mc, SP_RE_MATCH_LIMIT);
        pcre2_set_depth_limit(c->mc, SP_RE_DEPTH_LIMIT);
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)v.p, v.n, 0, 0, c->md, c->mc);
    if (rc >= 0)
        return true;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        c->regex_limited++;
    return false;
}

/* The operator on one value, before NOT. */
static bool test_value(struct sp_ctx *c, const struct stix_pattern *p, const struct sp_test *t,
                       const struct sp_prop *pr, struct sp_val v)
{
    if (!t->nc && t->op != OP_LIKE && t->op != OP_MATCHES)
        return false; /* IN () */
    const struct sp_const *k0 = &p->consts[t->c0];
    int sign = 0;
    switch (t->op) {
    case OP_EQ:
        return compare(c, pr, k0, v, &sign) && sign == 0;
    case OP_NE:
        return !(compare(c, pr, k0, v, &sign) && sign == 0);
    case OP_LT:
        return compare(c, pr, k0, v, &sign) && k0->mode != CM_IP && sign < 0;
    case OP_LE:
        return compare(c, pr, k0, v, &sign) && k0->mode != CM_IP && sign <= 0;
    case OP_GT:
        return compare(c, pr, k0, v, &sign) && k0->mode != CM_IP && sign > 0;
    case OP_GE:
        return compare(c, pr, k0, v, &sign) && k0->mode != CM_IP && sign >= 0;
    case OP_IN:
        for (uint32_t i = 0; i < t->nc; i++)
            if (compare(c, pr, &p->consts[t->c0 + i], v, &sign) && sign == 0)
                return true;
        return false;
    case OP_LIKE:
    case OP_MATCHES: {
        /* the canonical form where it only folds case and trims (domain
         * names, addresses, hashes, keys); URLs and message ids as written */
        struct sp_val s = v;
        if (sp_norm_folds_case(pr->norm))
            s = sp_normalise(&c->arena, pr->norm, v.p, v.n);
        if (t->op == OP_LIKE)
            return sp_like(s.p, s.n, t->like, t->likelen);
        return re_match(c, t->re, s);
    }
    case OP_ISSUBSET:
    case OP_ISSUPERSET: {
        struct sp_net net;
        if (!sp_net_parse(v.p, v.n, &net))
            return false;
        return t->op == OP_ISSUBSET ? sp_net_within(&net, &k0->net) : sp_net_within(&k0->net, &net);
    }
    default:
        return false;
    }
}

/* ---- values of a test's property ------------------------------------------ */

struct range {
    uint32_t off, n;
};
#define MAX_RANGES (SP_MAX_SLOTS * SP_MAX_SRCS)

/* Resolve the sources of one slot into ranges; returns the number added. */
static uint32_t slot_ranges(struct sp_ctx *c, const struct sp_slot *sl, struct range *r)
{
    uint32_t nr = 0;
    for (int k = 0; k < SP_MAX_SRCS && sl->src[k]; k++) {
        uint32_t off, n = sp_src_values(c, sl->src[k], &off);
        if (!n)
            continue;
        r[nr++] = (struct range){off, n};
        if (sl->mode == SM_FIRST)
            break;
    }
    return nr;
}

/* Ranges of values of prop under the current object binding. */
static uint32_t prop_ranges(struct sp_ctx *c, uint32_t prop, struct range *r)
{
    const struct sp_prop *pr = &sp_props[prop];
    int16_t bs = c->bslot[pr->otype];
    uint32_t nr = 0;
    if (bs >= 0) {
        uint32_t got = slot_ranges(c, &pr->slot[bs], r);
        if (!pr->instance)
            return got;
        /* the k-th object of the slot */
        uint32_t k = (uint32_t)c->bk[pr->otype];
        for (uint32_t i = 0; i < got; i++) {
            if (k < r[i].n) {
                r[0] = (struct range){r[i].off + k, 1};
                return 1;
            }
            k -= r[i].n;
        }
        return 0;
    }
    uint32_t nslots = sp_otype_slots(pr->otype);
    for (uint32_t s = 0; s < nslots && s < SP_MAX_SLOTS; s++)
        nr += slot_ranges(c, &pr->slot[s], r + nr);
    return nr;
}

/* The event holds an object of the type (some property has a value). */
static bool type_present(struct sp_ctx *c, uint8_t otype)
{
    if (c->bslot[otype] >= 0)
        return true;
    struct range r[MAX_RANGES];
    for (uint32_t i = 0; i < sp_nprops; i++)
        if (sp_props[i].otype == otype && prop_ranges(c, i, r))
            return true;
    return false;
}

static bool eval_test(struct sp_ctx *c, const struct stix_pattern *p, const struct sp_test *t)
{
    if (t->prop == SP_PROP_NONE || t->index == SP_INDEX_BAD)
        return false;
    const struct sp_prop *pr = &sp_props[t->prop];
    struct range r[MAX_RANGES];
    uint32_t nr = prop_ranges(c, t->prop, r);
    /* a list index selects one value */
    if (nr && t->index >= 0) {
        uint32_t k = (uint32_t)t->index;
        bool found = false;
        for (uint32_t i = 0; i < nr; i++) {
            if (k < r[i].n) {
                r[0] = (struct range){r[i].off + k, 1};
                found = true;
                break;
            }
            k -= r[i].n;
        }
        nr = found ? 1 : 0;
    }
    if (t->op == OP_EXISTS) {
        if (!t->negated)
            return nr > 0;
        return nr == 0 && type_present(c, t->otype);
    }
    for (uint32_t i = 0; i < nr; i++)
        for (uint32_t j = 0; j < r[i].n; j++) {
            struct sp_val v = c->vals[r[i].off + j];
            if (test_value(c, p, t, pr, v) != t->negated)
                return true;
        }
    return false;
}

static bool eval_cnode(struct sp_ctx *c, const struct stix_pattern *p, uint32_t i)
{
    const struct sp_cnode *n = &p->cn[i];
    switch (n->kind) {
    case CN_TEST:
        return eval_test(c, p, &p->tests[n->a]);
    case CN_AND:
        for (uint32_t k = 0; k < n->n; k++)
            if (!eval_cnode(c, p, p->ckids[n->a + k]))
                return false;
        return true;
    default:
        for (uint32_t k = 0; k < n->n; k++)
            if (eval_cnode(c, p, p->ckids[n->a + k]))
                return true;
        return false;
    }
}

/* ---- object binding ----------------------------------------------------- */

#define MAX_INST     64  /* objects of one type tried */
#define MAX_BINDINGS 256 /* combinations tried; beyond, tests take any object */

struct insts {
    uint32_t n;
    int16_t slot[MAX_INST];
    int32_t k[MAX_INST];
};

static void list_instances(struct sp_ctx *c, uint8_t otype, uint32_t prop, struct insts *in)
{
    const struct sp_prop *pr = &sp_props[prop];
    struct range r[MAX_RANGES];
    in->n = 0;
    for (uint32_t s = 0; s < sp_otype_slots(otype) && s < SP_MAX_SLOTS; s++) {
        uint32_t nr = slot_ranges(c, &pr->slot[s], r);
        uint32_t total = 0;
        for (uint32_t i = 0; i < nr; i++)
            total += r[i].n;
        for (uint32_t k = 0; k < total && in->n < MAX_INST; k++) {
            in->slot[in->n] = (int16_t)s;
            in->k[in->n] = (int32_t)k;
            in->n++;
        }
    }
}

bool sp_eval_leaf(struct sp_ctx *c, const struct stix_pattern *p, uint32_t li)
{
    const struct sp_leaf *L = &p->leaves[li];
    if (!L->nbind)
        return eval_cnode(c, p, L->croot);
    struct insts in[4];
    uint32_t total = 1;
    for (uint32_t b = 0; b < L->nbind; b++) {
        list_instances(c, L->bind[b], L->bprop[b], &in[b]);
        total *= in[b].n ? in[b].n : 1;
        if (total > MAX_BINDINGS)
            return eval_cnode(c, p, L->croot);
    }
    uint32_t idx[4] = {0, 0, 0, 0};
    bool r = false;
    for (uint32_t it = 0; it < total && !r; it++) {
        for (uint32_t b = 0; b < L->nbind; b++) {
            uint8_t ty = L->bind[b];
            if (in[b].n) {
                c->bslot[ty] = in[b].slot[idx[b]];
                c->bk[ty] = in[b].k[idx[b]];
            } else {
                c->bslot[ty] = -1; /* no object: its tests read nothing */
            }
        }
        r = eval_cnode(c, p, L->croot);
        for (uint32_t b = 0; b < L->nbind; b++) {
            if (in[b].n && ++idx[b] < in[b].n)
                break;
            idx[b] = 0;
        }
    }
    for (uint32_t b = 0; b < L->nbind; b++)
        c->bslot[L->bind[b]] = -1;
    return r;
}

/* ---- prefilter keys ------------------------------------------------------ */

uint32_t sp_prop_values(struct sp_ctx *c, uint32_t prop, struct sp_val *out, uint32_t max)
{
    struct range r[MAX_RANGES];
    uint32_t nr = prop_ranges(c, prop, r), k = 0;
    for (uint32_t i = 0; i < nr; i++)
        for (uint32_t j = 0; j < r[i].n && k < max; j++)
            out[k++] = c->vals[r[i].off + j];
    return k;
}

/* Keys are binary: an address is its family byte and bytes, an integer
 * 'i' and its 8 bytes; nothing is formatted per event. */
static bool net_key(const struct sp_net *n, char *buf, size_t cap, struct sp_val *key)
{
    size_t len = n->fam == 4 ? 4 : 16;
    if (n->plen != len * 8 || cap < len + 1)
        return false;
    buf[0] = (char)n->fam;
    memcpy(buf + 1, n->addr, len);
    *key = (struct sp_val){buf, (uint32_t)(len + 1)};
    return true;
}

static bool int_key(int64_t i, char *buf, size_t cap, struct sp_val *key)
{
    if (cap < 9)
        return false;
    buf[0] = 'i';
    memcpy(buf + 1, &i, 8);
    *key = (struct sp_val){buf, 9};
    return true;
}

bool sp_const_key(const struct sp_prop *pr, const struct sp_const *k, char *buf, size_t cap,
                  struct sp_val *key)
{
    switch (pr->kind) {
    case PK_STR:
        if (k->mode != CM_STR)
            return false;
        *key = (struct sp_val){k->s, k->n};
        return true;
    case PK_IP:
        return k->mode == CM_IP && net_key(&k->net, buf, cap, key);
    case PK_NUM:
        if (k->mode != CM_NUM || !k->is_int)
            return false;
        return int_key(k->i, buf, cap, key);
    default:
        return false;
    }
}

bool sp_value_key(struct sp_ctx *c, const struct sp_prop *pr, struct sp_val v, char *buf,
                  size_t cap, struct sp_val *key)
{
    switch (pr->kind) {
    case PK_STR:
        *key = sp_normalise(&c->arena, pr->norm, v.p, v.n);
        return true;
    case PK_IP: {
        struct sp_net n;
        return sp_net_parse(v.p, v.n, &n) && net_key(&n, buf, cap, key);
    }
    case PK_NUM: {
        bool is_int;
        int64_t i;
        double f;
        if (!sp_parse_number(v.p, v.n, &is_int, &i, &f))
            return false;
        if (!is_int) { /* 443.0 equals the integer 443 */
            if (!(f >= -9e18 && f <= 9e18) || f != (double)(int64_t)f)
                return false;
            i = (int64_t)f;
        }
        return int_key(i, buf, cap, key);
    }
    default:
        return false;
    }
}
