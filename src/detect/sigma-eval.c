/*
 * sigma-eval.c - matching events against a finished sigma_set.
 *
 * Per event:
 *   1. the event's fields are indexed once in a small open-addressing table
 *      keyed by the case-folded name hash (native fields first, then the
 *      ECS core, then the pseudo fields logsource.product / .service /
 *      .category and event.module), so each rule field lookup is one probe;
 *   2. the log source entries the event belongs to are found by hashing its
 *      values of the dispatch fields (sigma-logsource.c), or found again for
 *      an event of a kind seen before (the same values of the fields the
 *      entries' conditions read); their rule lists are merged into a
 *      candidate list, cached per combination of entries, so steady state
 *      does no merging at all;
 *   3. with the prefilter (sigma-prefilter.c), one pass over the event's
 *      fields hands it the values its atoms may be in; the candidates whose
 *      clauses all had an atom present, and those without clauses, remain;
 *   4. each remaining rule's condition is evaluated lazily: a search
 *      identifier is computed at most once per rule and event, and/or
 *      short-circuit, and a value whose prefilter atom is absent is false.
 *
 * A field's value is looked up at most once per event and name (field ids),
 * case-folded (util/casefold.h) at most once into a per-event arena that is reset (not freed)
 * between events, parsed as an IP address at most once: after warm-up
 * nothing is allocated per event. JSON array values match when any element
 * matches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"
#include "detect/sigma-prefilter.h"
#include "util/casefold.h"

#define IDX_CORE          0x40000000u
#define IDX_PSEUDO        0x80000000u
#define IDX_MASK          0x3fffffffu
#define N_PSEUDO          4
#define MAX_HITS          32
#define COMBO_SLOTS       1024
#define COMBO_MAX_ENTRIES 32

static const char *const pseudo_names[N_PSEUDO] = {"logsource.product", "logsource.service",
                                                   "logsource.category", "event.module"};

struct fslot {
    uint32_t epoch;
    uint32_t hash;
    uint32_t idx;
};

struct lowc {
    uint32_t epoch;
    uint32_t n;
    const char *p;
};

/* A value parsed as an IP address, once per event, for CIDR values. */
struct ipc {
    uint32_t epoch;
    bool ok;
    struct ip_addr ip;
};

struct cand {
    uint32_t rule;
    int32_t fm_entry; /* entry whose field mappings apply, or -1 */
};

struct combo {
    uint64_t key;
    uint32_t nent;
    uint32_t ent[COMBO_MAX_ENTRIES];
    struct cand *c;
    uint32_t n;
    /* for the prefilter, made on first use: rule -> 1 + its position in c
     * (0: not a candidate), and the positions of the rules it always lets
     * through, as a bit set */
    uint32_t *pos;
    uint64_t *always;
};

struct fval {
    struct str raw;
    enum value_type type;
    uint32_t key; /* lowercase cache slot */
};

/* Which log source entries an event belongs to depends only on the values of
 * the fields the entries' conditions read (Channel, EventID, ...): events of
 * one kind have the same values there, so the entries found for them are
 * kept, under those values, and found again by comparing them. */
#define KIND_SLOTS      64
#define KIND_MAX_FIELDS 16
#define KIND_MAX_BYTES  512

struct kind {
    bool used;
    uint32_t last; /* when it was last found (kind_clock) */
    uint64_t sig;
    uint32_t nent;
    uint32_t ent[COMBO_MAX_ENTRIES];
    uint8_t types[KIND_MAX_FIELDS]; /* value type, KIND_ABSENT when the event lacks it */
    uint16_t lens[KIND_MAX_FIELDS];
    char bytes[KIND_MAX_BYTES]; /* the values, one after the other */
};
#define KIND_ABSENT 0xff

/* A field's value as items read it, kept for the event (per field id). */
struct fcache {
    uint32_t epoch;
    bool found;
    const struct ls_entry *fm; /* the field mappings it was read through */
    struct fval fv;
};

#define NAME_SLOTS_LOG2 8

struct name_slot {
    uint32_t n; /* length + 1, 0: empty */
    uint32_t hash;
    uint64_t w[2];
};

struct sigma_matcher {
    const struct sigma_set *set;
    struct name_slot names[1 << NAME_SLOTS_LOG2]; /* field name hashes (name_hash) */
    const struct event *ev;
    uint32_t epoch;
    struct fslot *slots;
    uint32_t nslots; /* power of two */
    struct lowc *low;
    struct ipc *ipc; /* as low */
    uint32_t nlow;
    struct fcache *fc;  /* per field id */
    struct arena arena; /* per-event scratch */
    int8_t *selc;       /* per search identifier: -1 unknown, 0, 1 */
    uint32_t *stamp;    /* per rule, while merging a combination */
    uint32_t stamp_epoch;
    struct combo *combos[COMBO_SLOTS];
    uint32_t ncombos;
    struct cand *tmp; /* candidates when the cache is full */
    uint64_t *bits;   /* candidate positions to evaluate (prefilter) */
    uint32_t nbits;   /* words */
    uint32_t tmpcap;
    struct re_state rs;
    uint32_t core_hash[CORE__COUNT], core_len[CORE__COUNT];
    uint32_t pseudo_hash[N_PSEUDO], pseudo_len[N_PSEUDO];
    struct sigma_hit_field hits[MAX_HITS];
    uint32_t nhits;
    struct sigma_match_stats st;
    struct sigma_pf_state *pfs; /* NULL: no prefilter in this set */
    bool prefilter;             /* use it (sigma_matcher_set_prefilter) */
    bool confirm;               /* this event was scanned: values may read pv */
    struct sigma_pf_verdict pv;
    struct key {
        uint32_t hash, idx;
    } * keys; /* the indexed fields (name hash, slot index), in index order */
    uint32_t nkeys;
    uint32_t ent[COMBO_MAX_ENTRIES]; /* the log source entries of the event */
    uint32_t nent;
    struct {
        const char *name;
        uint32_t len, hash;
    } kfields[KIND_MAX_FIELDS]; /* the fields the entries' conditions read */
    uint32_t nkfields;
    bool kinds_on;      /* every entry condition names its fields (no keywords) */
    struct kind *kinds; /* KIND_SLOTS, NULL until first use */
    uint32_t kind_clock;
};

static void kind_field(struct sigma_matcher *m, const char *name, uint32_t len)
{
    for (uint32_t i = 0; i < m->nkfields; i++)
        if (m->kfields[i].len == len && !memcmp(m->kfields[i].name, name, len))
            return;
    if (m->nkfields == KIND_MAX_FIELDS) {
        m->kinds_on = false;
        return;
    }
    m->kfields[m->nkfields].name = name;
    m->kfields[m->nkfields].len = len;
    m->kfields[m->nkfields++].hash = field_name_hash(name, len);
}

/* The fields the entries' conditions read (and the field references they
 * make); a keyword item reads everything: no kinds then. */
static void kind_fields(struct sigma_matcher *m)
{
    const struct ls_map *map = &m->set->map;
    m->kinds_on = true;
    for (uint32_t e = 0; e < map->n && m->kinds_on; e++)
        for (uint32_t i = 0; i < map->e[e].cond.n && m->kinds_on; i++) {
            const struct sigma_item *it = &map->e[e].cond.items[i];
            if (!it->field) {
                m->kinds_on = false;
                break;
            }
            kind_field(m, it->field, it->field_len);
            for (uint32_t v = 0; v < it->nvals; v++)
                if (it->vals[v].kind == SV_FIELDREF)
                    kind_field(m, it->vals[v].s, it->vals[v].n);
        }
}

struct sigma_matcher *sigma_matcher_new(const struct sigma_set *s)
{
    struct sigma_matcher *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->set = s;
    arena_init(&m->arena, 64 * 1024);
    m->selc = malloc(s->max_sels + 1);
    m->stamp = calloc(s->nrules + 1, sizeof(*m->stamp));
    m->fc = calloc(s->nfids + 1, sizeof(*m->fc));
    m->rs.md = pcre2_match_data_create(1, NULL);
    m->rs.mc = pcre2_match_context_create(NULL);
    if (!m->selc || !m->stamp || !m->fc || !m->rs.md || !m->rs.mc) {
        sigma_matcher_free(m);
        return NULL;
    }
    if (s->pf && !(m->pfs = sigma_pf_state_new(s->pf))) {
        sigma_matcher_free(m);
        return NULL;
    }
    m->prefilter = m->pfs && !getenv("KENCHI_NO_PREFILTER");
    pcre2_set_match_limit(m->rs.mc, SIGMA_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(m->rs.mc, SIGMA_RE_DEPTH_LIMIT);
    for (int i = 0; i < CORE__COUNT; i++)
        m->core_hash[i] = field_name_hash(core_fields[i].name,
                                          m->core_len[i] = (uint32_t)strlen(core_fields[i].name));
    for (int i = 0; i < N_PSEUDO; i++)
        m->pseudo_hash[i] =
            field_name_hash(pseudo_names[i], m->pseudo_len[i] = (uint32_t)strlen(pseudo_names[i]));
    kind_fields(m);
    return m;
}

void sigma_matcher_free(struct sigma_matcher *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < COMBO_SLOTS; i++) {
        if (m->combos[i]) {
            free(m->combos[i]->pos);
            free(m->combos[i]->always);
            free(m->combos[i]->c);
            free(m->combos[i]);
        }
    }
    sigma_pf_state_free(m->pfs);
    free(m->bits);
    free(m->tmp);
    free(m->slots);
    free(m->keys);
    free(m->kinds);
    free(m->fc);
    free(m->low);
    free(m->ipc);
    free(m->selc);
    free(m->stamp);
    pcre2_match_data_free(m->rs.md);
    pcre2_match_context_free(m->rs.mc);
    arena_free(&m->arena);
    free(m);
}

void sigma_matcher_set_prefilter(struct sigma_matcher *m, bool on)
{
    m->prefilter = on && m->pfs;
}

void sigma_matcher_stats(const struct sigma_matcher *m, struct sigma_match_stats *st)
{
    *st = m->st;
    st->re_errors = m->rs.errors;
}

/* ---- the per-event field index ----------------------------------------- */

static void index_put(struct sigma_matcher *m, uint32_t hash, uint32_t idx)
{
    m->keys[m->nkeys++] = (struct key){hash, idx};
    uint32_t mask = m->nslots - 1, h = hash & mask;
    while (m->slots[h].epoch == m->epoch) {
        if (m->slots[h].hash == hash) {
            /* same hash: keep the first (native wins over core) unless the
             * names differ, in which case probe on */
            h = (h + 1) & mask;
            continue;
        }
        h = (h + 1) & mask;
    }
    m->slots[h] = (struct fslot){m->epoch, hash, idx};
}

static void grow_or_die(void **p, size_t n)
{
    void *q = realloc(*p, n);
    if (!q) {
        fprintf(stderr, "kenchi: out of memory\n");
        abort();
    }
    *p = q;
}

/* field_name_hash(), through a small cache of short names: a name of at
 * most 16 bytes is its length and two words that cover it, compared in
 * full. */
static uint32_t name_hash(struct sigma_matcher *m, const char *p, size_t n)
{
    if (n > 16)
        return field_name_hash(p, n);
    /* its first and last 8 bytes (overlapping, or fewer, for shorter names)
     * with its length stand for it */
    uint64_t w[2] = {0, 0};
    if (n >= 8) {
        memcpy(&w[0], p, 8);
        memcpy(&w[1], p + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        w[0] = (uint64_t)a << 32 | b;
    } else {
        for (size_t i = 0; i < n; i++)
            w[0] = w[0] << 8 | (unsigned char)p[i];
    }
    uint64_t x = (w[0] ^ (w[1] * 0x9E3779B97F4A7C15ull) ^ n) * 0xbf58476d1ce4e5b9ull;
    struct name_slot *sl = &m->names[x >> (64 - NAME_SLOTS_LOG2)];
    if (sl->n == n + 1 && sl->w[0] == w[0] && sl->w[1] == w[1])
        return sl->hash;
    sl->n = (uint32_t)n + 1;
    sl->w[0] = w[0];
    sl->w[1] = w[1];
    sl->hash = field_name_hash(p, n);
    return sl->hash;
}

static void index_event(struct sigma_matcher *m, const struct event *ev)
{
    m->ev = ev;
    m->epoch++;
    if (m->epoch == 0) { /* wrapped: clear stamps once every 4G events */
        if (m->slots)
            memset(m->slots, 0, m->nslots * sizeof(*m->slots));
        if (m->low)
            memset(m->low, 0, m->nlow * sizeof(*m->low));
        if (m->ipc)
            memset(m->ipc, 0, m->nlow * sizeof(*m->ipc));
        memset(m->fc, 0, (m->set->nfids + 1) * sizeof(*m->fc));
        m->epoch = 1;
    }
    arena_reset(&m->arena);
    uint32_t need = ev->nfields + CORE__COUNT + N_PSEUDO;
    if (need > m->nlow) {
        grow_or_die((void **)&m->keys, need * sizeof(*m->keys));
        grow_or_die((void **)&m->low, need * sizeof(*m->low));
        memset(m->low + m->nlow, 0, (need - m->nlow) * sizeof(*m->low));
        grow_or_die((void **)&m->ipc, need * sizeof(*m->ipc));
        memset(m->ipc + m->nlow, 0, (need - m->nlow) * sizeof(*m->ipc));
        m->nlow = need;
    }
    uint32_t ns = m->nslots ? m->nslots : 64;
    while (ns < need * 2)
        ns *= 2;
    if (ns != m->nslots) {
        grow_or_die((void **)&m->slots, ns * sizeof(*m->slots));
        memset(m->slots, 0, ns * sizeof(*m->slots));
        m->nslots = ns;
    }
    m->nkeys = 0;
    for (uint32_t i = 0; i < ev->nfields; i++)
        index_put(m, name_hash(m, ev->fields[i].key.p, ev->fields[i].key.n), i);
    for (uint32_t c = 0; c < CORE__COUNT; c++)
        if (ev->core[c].n)
            index_put(m, m->core_hash[c], IDX_CORE | c);
    const char *ps[N_PSEUDO] = {ev->ls.product, ev->ls.service, ev->ls.category, ev->format};
    for (uint32_t k = 0; k < N_PSEUDO; k++)
        if (ps[k])
            index_put(m, m->pseudo_hash[k], IDX_PSEUDO | k);
}

/* a[0..n) == b[0..n), inline: names are short, and usually equal. */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x1, x2, y1, y2;
        memcpy(&x1, a, 4);
        memcpy(&x2, a + n - 4, 4);
        memcpy(&y1, b, 4);
        memcpy(&y2, b + n - 4, 4);
        return x1 == y1 && x2 == y2;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Field names are equal without regard to ASCII case and spaces. */
static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && (bytes_eq(a, b, an) || !strncasecmp(a, b, an)))
        return true;
    if (!memchr(a, ' ', an) && !memchr(b, ' ', bn))
        return false;
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && a[i] == ' ')
            i++;
        while (j < bn && b[j] == ' ')
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        char x = a[i++], y = b[j++];
        if ((unsigned char)(x - 'A') < 26)
            x = (char)(x + 32);
        if ((unsigned char)(y - 'A') < 26)
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
}

static bool slot_value(const struct sigma_matcher *m, uint32_t idx, const char *name, size_t nl,
                       struct fval *out)
{
    const struct event *ev = m->ev;
    if (idx & IDX_PSEUDO) {
        uint32_t k = idx & IDX_MASK;
        if (!name_eq(name, nl, pseudo_names[k], m->pseudo_len[k]))
            return false;
        const char *ps[N_PSEUDO] = {ev->ls.product, ev->ls.service, ev->ls.category, ev->format};
        out->raw = str_make(ps[k], strlen(ps[k]));
        out->type = VT_STRING;
        out->key = ev->nfields + CORE__COUNT + k;
        return true;
    }
    if (idx & IDX_CORE) {
        uint32_t c = idx & IDX_MASK;
        if (!name_eq(name, nl, core_fields[c].name, m->core_len[c]))
            return false;
        out->raw = ev->core[c];
        out->type = VT_STRING;
        out->key = ev->nfields + c;
        return true;
    }
    const struct field *f = &ev->fields[idx];
    if (!name_eq(name, nl, f->key.p, f->key.n))
        return false;
    out->raw = f->val;
    out->type = f->type;
    out->key = idx;
    return true;
}

static bool lookup(const struct sigma_matcher *m, const char *name, size_t nl, uint32_t hash,
                   struct fval *out)
{
    uint32_t mask = m->nslots - 1, h = hash & mask;
    while (m->slots[h].epoch == m->epoch) {
        if (m->slots[h].hash == hash && slot_value(m, m->slots[h].idx, name, nl, out))
            return true;
        h = (h + 1) & mask;
    }
    return false;
}

/* Field by the rule's name, through the entry's field mappings. */
static bool get_field(const struct sigma_matcher *m, const char *name, size_t nl, uint32_t hash,
                      const struct ls_entry *fm, struct fval *out)
{
    if (fm) {
        for (uint32_t k = 0; k < fm->nfm; k++) {
            if (fm->fm_hash[k] == hash &&
                name_eq(fm->fm_from[k], strlen(fm->fm_from[k]), name, nl)) {
                const char *to = fm->fm_to[k];
                size_t tl = strlen(to);
                if (lookup(m, to, tl, field_name_hash(to, tl), out))
                    return true;
                break;
            }
        }
    }
    return lookup(m, name, nl, hash, out);
}

/* get_field() for a name with field id fid, through the event's cache. */
static bool cached_field(struct sigma_matcher *m, uint32_t fid, const char *name, size_t nl,
                         uint32_t hash, const struct ls_entry *fm, struct fval *out)
{
    struct fcache *c = &m->fc[fid];
    if (fid && c->epoch == m->epoch && c->fm == fm) {
        *out = c->fv;
        return c->found;
    }
    bool found = get_field(m, name, nl, hash, fm, out);
    if (fid) {
        c->epoch = m->epoch;
        c->found = found;
        c->fm = fm;
        c->fv = *out;
    }
    return found;
}

/* s[0..n) case-folded (util/casefold.h): s itself when folding changes
 * nothing, else a copy in the per-event arena. */
static const char *lower_copy(struct sigma_matcher *m, const char *s, size_t n)
{
    if (!casefold_needed(s, n))
        return s;
    char *o = arena_alloc(&m->arena, n + 1);
    casefold_utf8(o, s, n);
    o[n] = '\0';
    return o;
}

static const char *lowered(struct sigma_matcher *m, const struct fval *fv)
{
    struct lowc *l = &m->low[fv->key];
    if (l->epoch != m->epoch) {
        l->epoch = m->epoch;
        l->p = lower_copy(m, fv->raw.p, fv->raw.n);
        l->n = (uint32_t)fv->raw.n;
    }
    return l->p;
}

static const struct ip_addr *ip_of(struct sigma_matcher *m, const struct fval *fv)
{
    struct ipc *c = &m->ipc[fv->key];
    if (c->epoch != m->epoch) {
        c->epoch = m->epoch;
        c->ok = ip_parse(fv->raw.p, fv->raw.n, &c->ip);
    }
    return c->ok ? &c->ip : NULL;
}

/* ---- JSON array values ------------------------------------------------- */

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Next element of the JSON array text s[0..n) from *pos. Strings are
 * unescaped (into the scratch arena when they hold escapes); other
 * elements are returned as their text. */
static bool json_next(struct sigma_matcher *m, const char *s, size_t n, size_t *pos,
                      struct str *out, bool *is_null)
{
    size_t i = *pos;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == ',' ||
                     (i == 0 && s[i] == '[')))
        i++;
    if (i >= n || s[i] == ']')
        return false;
    *is_null = false;
    if (s[i] == '"') {
        size_t st = ++i;
        bool esc = false;
        while (i < n && s[i] != '"') {
            if (s[i] == '\\') {
                esc = true;
                i++;
            }
            i++;
        }
        size_t en = i < n ? i : n;
        *pos = i + 1;
        if (!esc) {
            *out = str_make(s + st, en - st);
            return true;
        }
        char *o = arena_alloc(&m->arena, (en - st) + 1);
        size_t ol = 0;
        for (size_t k = st; k < en; k++) {
            if (s[k] != '\\' || k + 1 >= en) {
                o[ol++] = s[k];
                continue;
            }
            char e = s[++k];
            switch (e) {
            case 'n':
                o[ol++] = '\n';
                break;
            case 't':
                o[ol++] = '\t';
                break;
            case 'r':
                o[ol++] = '\r';
                break;
            case 'b':
                o[ol++] = '\b';
                break;
            case 'f':
                o[ol++] = '\f';
                break;
            case 'u': {
                uint32_t cp = 0;
                if (k + 4 >= en) {
                    o[ol++] = '?';
                    break;
                }
                for (int j = 1; j <= 4; j++) {
                    int h = hexv(s[k + j]);
                    cp = cp << 4 | (uint32_t)(h < 0 ? 0 : h);
                }
                k += 4;
                /* code points above U+07FF take 3 bytes, which the 6-byte
                 * escape always has room for; surrogates become U+FFFD */
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    cp = 0xFFFD;
                if (cp < 0x80) {
                    o[ol++] = (char)cp;
                } else if (cp < 0x800) {
                    o[ol++] = (char)(0xC0 | cp >> 6);
                    o[ol++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    o[ol++] = (char)(0xE0 | cp >> 12);
                    o[ol++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    o[ol++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default:
                o[ol++] = e;
            }
        }
        *out = str_make(o, ol);
        return true;
    }
    /* number, literal, or nested value: take its text */
    size_t st = i;
    int depth = 0;
    bool instr = false;
    for (; i < n; i++) {
        char c = s[i];
        if (instr) {
            if (c == '\\')
                i++;
            else if (c == '"')
                instr = false;
            continue;
        }
        if (c == '"')
            instr = true;
        else if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}') {
            if (depth == 0)
                break;
            depth--;
        } else if (c == ',' && depth == 0)
            break;
    }
    size_t en = i;
    while (en > st && (s[en - 1] == ' ' || s[en - 1] == '\n' || s[en - 1] == '\r'))
        en--;
    *pos = i;
    *out = str_make(s + st, en - st);
    *is_null = en - st == 4 && !memcmp(s + st, "null", 4);
    return true;
}

/* ---- values and items --------------------------------------------------- */

static bool needs_low(const struct sigma_value *v)
{
    return !v->cased && v->kind <= SV_GLOB;
}

static bool match_text(struct sigma_matcher *m, const struct sigma_value *v, struct str raw,
                       const char *low)
{
    if (!low && needs_low(v))
        low = lower_copy(m, raw.p, raw.n);
    return sv_match_string(v, raw.p, raw.n, low ? low : raw.p, raw.n, &m->rs);
}

static bool fieldref_match(struct sigma_matcher *m, const struct sigma_value *v,
                           const struct fval *fv, const struct ls_entry *fm)
{
    struct fval other;
    if (!cached_field(m, v->ref_fid, v->s, v->n, v->ref_hash, fm, &other) || other.type == VT_NULL)
        return false;
    size_t an = fv->raw.n, bn = other.raw.n;
    /* folding keeps lengths: most pairs differ in length, and are not folded */
    if (v->mode == SV_PREFIX || v->mode == SV_SUFFIX || v->mode == SV_CONTAINS ? an < bn : an != bn)
        return false;
    const char *a = v->cased ? fv->raw.p : lowered(m, fv);
    const char *b = v->cased ? other.raw.p : lowered(m, &other);
    switch (v->mode) {
    case SV_PREFIX:
        return an >= bn && !memcmp(a, b, bn);
    case SV_SUFFIX:
        return an >= bn && !memcmp(a + an - bn, b, bn);
    case SV_CONTAINS:
        return bn == 0 || memmem(a, an, b, bn);
    default:
        return an == bn && !memcmp(a, b, an);
    }
}

static bool value_match(struct sigma_matcher *m, const struct sigma_value *v, bool found,
                        const struct fval *fv, const struct ls_entry *fm)
{
    if (v->atom && m->confirm && sigma_pf_atom_absent(&m->pv, v->atom))
        return false; /* what it needs is nowhere in the event */
    if (v->kind == SV_NULL)
        return !found || fv->type == VT_NULL;
    if (v->kind == SV_NOTHING || !found || fv->type == VT_NULL)
        return false;
    if (v->kind == SV_FIELDREF)
        return fieldref_match(m, v, fv, fm);
    if (fv->type == VT_JSON && fv->raw.n && fv->raw.p[0] == '[') {
        size_t pos = 0;
        struct str el;
        bool isnull;
        while (json_next(m, fv->raw.p, fv->raw.n, &pos, &el, &isnull))
            if (!isnull && match_text(m, v, el, NULL))
                return true;
        return false;
    }
    if (v->kind == SV_CIDR) {
        const struct ip_addr *ip = ip_of(m, fv);
        return ip && cidr_match_ip(v, ip);
    }
    return match_text(m, v, fv->raw, needs_low(v) ? lowered(m, fv) : NULL);
}

/* value_match(), with its quick answers inline: an absent or null field
 * matches only null values, a value whose atom is absent nothing. */
static inline bool value_true(struct sigma_matcher *m, const struct sigma_value *v, bool found,
                              const struct fval *fv, const struct ls_entry *fm)
{
    if (!found || fv->type == VT_NULL)
        return v->kind == SV_NULL;
    if (v->atom && m->confirm && sigma_pf_atom_absent(&m->pv, v->atom))
        return false;
    return value_match(m, v, found, fv, fm);
}

/* any value (or, with |all, one value of every group) matches */
static bool values_match(struct sigma_matcher *m, const struct sigma_item *it, bool found,
                         const struct fval *fv, const struct ls_entry *fm)
{
    if (!it->all) {
        for (uint32_t i = 0; i < it->nvals; i++)
            if (value_true(m, &it->vals[i], found, fv, fm))
                return true;
        return false;
    }
    for (uint32_t i = 0; i < it->nvals;) {
        uint32_t g = it->vals[i].group, j = i;
        bool ok = false;
        for (; j < it->nvals && it->vals[j].group == g; j++)
            if (!ok && value_true(m, &it->vals[j], found, fv, fm))
                ok = true;
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

/* Keyword value against every text of the event. */
static bool keyword_value(struct sigma_matcher *m, const struct sigma_value *v)
{
    const struct event *ev = m->ev;
    if (v->atom && m->confirm && sigma_pf_atom_absent(&m->pv, v->atom))
        return false;
    if (ev->message.n && match_text(m, v, ev->message, NULL))
        return true;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        if (f->type == VT_NULL)
            continue;
        struct fval fv = {f->val, VT_STRING, i};
        if (match_text(m, v, f->val, needs_low(v) ? lowered(m, &fv) : NULL))
            return true;
    }
    if (!ev->nfields && !ev->message.n && ev->raw.n && match_text(m, v, ev->raw, NULL))
        return true;
    return false;
}

static bool keyword_match(struct sigma_matcher *m, const struct sigma_item *it)
{
    if (!it->all) {
        for (uint32_t i = 0; i < it->nvals; i++)
            if (keyword_value(m, &it->vals[i]))
                return true;
        return false;
    }
    for (uint32_t i = 0; i < it->nvals;) {
        uint32_t g = it->vals[i].group, j = i;
        bool ok = false;
        for (; j < it->nvals && it->vals[j].group == g; j++)
            if (!ok && keyword_value(m, &it->vals[j]))
                ok = true;
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

static bool item_match(struct sigma_matcher *m, const struct sigma_item *it,
                       const struct ls_entry *fm, struct fval *fv_out, bool *found_out)
{
    if (!it->nvals)
        return false;
    if (!it->field)
        return keyword_match(m, it);
    struct fval fv = {0};
    bool found = cached_field(m, it->fid, it->field, it->field_len, it->field_hash, fm, &fv);
    if (fv_out) {
        *fv_out = fv;
        *found_out = found;
    }
    if (it->vals[0].kind == SV_EXISTS)
        return found == (it->vals[0].num != 0);
    bool r = values_match(m, it, found, &fv, fm);
    if (it->neq)
        return found && fv.type != VT_NULL && !r;
    return r;
}

static bool group_match(struct sigma_matcher *m, const struct sigma_group *g,
                        const struct ls_entry *fm)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (!item_match(m, &g->items[i], fm, NULL, NULL))
            return false;
    return true;
}

static bool sel_match(struct sigma_matcher *m, const struct sigma_rule *r, uint32_t s,
                      const struct ls_entry *fm)
{
    if (m->selc[s] >= 0)
        return m->selc[s];
    const struct sigma_sel *sel = &r->sels[s];
    bool res = false;
    for (uint32_t g = 0; g < sel->n && !res; g++)
        res = group_match(m, &sel->groups[g], fm);
    m->selc[s] = res;
    return res;
}

/* Left spines of and/or chains are walked iteratively, so a long flat
 * condition never deepens the stack; nesting depth is bounded by the
 * parser. */
static bool cond_eval(struct sigma_matcher *m, const struct sigma_rule *r, uint32_t node,
                      const struct ls_entry *fm)
{
    const struct cond_tree *t = &r->cond;
    for (;;) {
        const struct cond_node *c = &t->nodes[node];
        switch (c->op) {
        case COND_SEL:
            return sel_match(m, r, c->a, fm);
        case COND_NOT:
            return !cond_eval(m, r, c->a, fm);
        case COND_AND:
            if (!cond_eval(m, r, c->b, fm))
                return false;
            node = c->a;
            continue;
        case COND_OR:
            if (cond_eval(m, r, c->b, fm))
                return true;
            node = c->a;
            continue;
        case COND_ALL:
            for (uint32_t i = 0; i < c->n; i++)
                if (!cond_eval(m, r, t->sels[c->b + i], fm))
                    return false;
            return true;
        case COND_ANY:
            for (uint32_t i = 0; i < c->n; i++)
                if (cond_eval(m, r, t->sels[c->b + i], fm))
                    return true;
            return false;
        case COND_ATLEAST: {
            uint32_t hits = 0;
            for (uint32_t i = 0; i < c->n; i++) {
                if (sel_match(m, r, t->sels[c->b + i], fm) && ++hits >= c->a)
                    return true;
                if (hits + (c->n - i - 1) < c->a)
                    return false;
            }
            return hits >= c->a;
        }
        default:
            return false;
        }
    }
}

/* ---- hits: the field values behind a match ------------------------------ */

static void hit_add(struct sigma_matcher *m, const struct sigma_item *it, const struct fval *fv)
{
    if (m->nhits == MAX_HITS)
        return;
    for (uint32_t i = 0; i < m->nhits; i++)
        if (name_eq(m->hits[i].name.p, m->hits[i].name.n, it->field, it->field_len))
            return;
    m->hits[m->nhits++] = (struct sigma_hit_field){str_make(it->field, it->field_len), fv->raw};
}

static void collect_sel(struct sigma_matcher *m, const struct sigma_rule *r, uint32_t s,
                        const struct ls_entry *fm)
{
    const struct sigma_sel *sel = &r->sels[s];
    for (uint32_t g = 0; g < sel->n; g++) {
        const struct sigma_group *gr = &sel->groups[g];
        if (!group_match(m, gr, fm))
            continue;
        for (uint32_t i = 0; i < gr->n; i++) {
            const struct sigma_item *it = &gr->items[i];
            struct fval fv;
            bool found = false;
            if (!it->field)
                continue;
            item_match(m, it, fm, &fv, &found);
            if (found && fv.type != VT_NULL)
                hit_add(m, it, &fv);
        }
        return;
    }
}

static void collect(struct sigma_matcher *m, const struct sigma_rule *r, uint32_t node,
                    bool positive, const struct ls_entry *fm, int depth)
{
    const struct cond_tree *t = &r->cond;
    while (depth < 1000) {
        const struct cond_node *c = &t->nodes[node];
        switch (c->op) {
        case COND_SEL:
            if (positive && m->selc[c->a] == 1)
                collect_sel(m, r, c->a, fm);
            return;
        case COND_NOT:
            node = c->a;
            positive = !positive;
            depth++;
            continue;
        case COND_AND:
        case COND_OR:
            collect(m, r, c->b, positive, fm, depth + 1);
            node = c->a;
            depth++;
            continue;
        case COND_ATLEAST:
            for (uint32_t i = 0; i < c->n; i++)
                if (positive && m->selc[t->sels[c->b + i]] == 1)
                    collect_sel(m, r, t->sels[c->b + i], fm);
            return;
        case COND_ALL:
        case COND_ANY:
            for (uint32_t i = 0; i < c->n; i++)
                collect(m, r, t->sels[c->b + i], positive, fm, depth + 1);
            return;
        default:
            return;
        }
    }
}

/* ---- candidates --------------------------------------------------------- */

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Merge the rule lists of entries ent[0..n) into out (deduplicated, in
 * rule order). */
static uint32_t merge_entries(struct sigma_matcher *m, const uint32_t *ent, uint32_t n,
                              struct cand **out, uint32_t *cap)
{
    const struct ls_map *map = &m->set->map;
    if (++m->stamp_epoch == 0) {
        memset(m->stamp, 0, (m->set->nrules + 1) * sizeof(*m->stamp));
        m->stamp_epoch = 1;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct ls_entry *e = &map->e[ent[i]];
        for (uint32_t j = 0; j < e->nrules; j++) {
            uint32_t r = e->rules[j];
            if (m->stamp[r] == m->stamp_epoch) {
                if (e->nfm) /* a mapping entry wins for the fields */
                    for (uint32_t q = 0; q < k; q++)
                        if ((*out)[q].rule == r && (*out)[q].fm_entry < 0)
                            (*out)[q].fm_entry = (int32_t)ent[i];
                continue;
            }
            m->stamp[r] = m->stamp_epoch;
            if (k == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                grow_or_die((void **)out, *cap * sizeof(**out));
            }
            (*out)[k++] = (struct cand){r, e->nfm ? (int32_t)ent[i] : -1};
        }
    }
    if (n > 1 && k > 1)
        qsort(*out, k, sizeof(**out), cmp_cand);
    return k;
}

static void add_entry(uint32_t *ent, uint32_t *n, uint32_t e)
{
    for (uint32_t i = 0; i < *n; i++)
        if (ent[i] == e)
            return;
    if (*n < COMBO_MAX_ENTRIES)
        ent[(*n)++] = e;
}

/* A decimal integer as ls_number_key() writes it. */
static bool canonical_int(const char *s, size_t n)
{
    if (!n || n > 15 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)(s[i] - '0') > 9u)
            return false;
    return true;
}

/* Add the entries filed under dispatch field d with value low[0..n) whose
 * conditions the event meets. */
static void dispatch(struct sigma_matcher *m, uint32_t d, const char *low, size_t n, uint32_t *ent,
                     uint32_t *nent)
{
    const struct ls_map *map = &m->set->map;
    uint32_t h = 2166136261u ^ d;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)low[i]) * 16777619u;
    uint32_t mask = map->nslots - 1;
    for (uint32_t s = h & mask; map->slots[s].disp != UINT32_MAX; s = (s + 1) & mask) {
        const struct ls_slot *sl = &map->slots[s];
        if (sl->hash == h && sl->disp == d && sl->vlen == n && !memcmp(sl->val, low, n) &&
            group_match(m, &map->e[sl->entry].cond, NULL))
            add_entry(ent, nent, sl->entry);
    }
}

/* The entries ev belongs to, sorted. */
static uint32_t event_entries(struct sigma_matcher *m, uint32_t *ent)
{
    const struct ls_map *map = &m->set->map;
    uint32_t n = 0;
    for (uint32_t d = 0; d < map->ndisp; d++) {
        struct fval fv;
        if (!lookup(m, map->disp[d].field, map->disp[d].len, map->disp[d].hash, &fv))
            continue;
        const char *low = lowered(m, &fv);
        dispatch(m, d, low, fv.raw.n, ent, &n);
        /* a number written otherwise (0x1, 1.0) is also looked up by its key */
        double num;
        if (!canonical_int(low, fv.raw.n) && parse_number(fv.raw.p, fv.raw.n, &num)) {
            char key[48];
            ls_number_key(num, key, sizeof(key));
            size_t kl = strlen(key);
            if (kl != fv.raw.n || memcmp(key, low, kl))
                dispatch(m, d, key, kl, ent, &n);
        }
    }
    for (uint32_t i = 0; i < map->nalways; i++)
        if (group_match(m, &map->e[map->always[i]].cond, NULL))
            add_entry(ent, &n, map->always[i]);
    for (uint32_t i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (uint32_t j = i; j > 0 && ent[j - 1] > ent[j]; j--) {
            uint32_t t = ent[j];
            ent[j] = ent[j - 1];
            ent[j - 1] = t;
        }
    return n;
}

static uint64_t bytes_hash(uint64_t h, const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
    return h ^ h >> 31;
}

/* The entries of the event, through the kinds seen before when it can. */
static uint32_t entries_of_kind(struct sigma_matcher *m, uint32_t *ent)
{
    if (!m->kinds_on)
        return event_entries(m, ent);
    struct fval v[KIND_MAX_FIELDS];
    uint8_t types[KIND_MAX_FIELDS];
    uint64_t sig = 0x243F6A8885A308D3ull;
    size_t total = 0;
    for (uint32_t i = 0; i < m->nkfields; i++) {
        if (!lookup(m, m->kfields[i].name, m->kfields[i].len, m->kfields[i].hash, &v[i])) {
            types[i] = KIND_ABSENT;
            v[i].raw = str_make("", 0);
        } else {
            types[i] = (uint8_t)v[i].type;
        }
        total += v[i].raw.n;
        sig = bytes_hash((sig ^ types[i]) * 31 + v[i].raw.n, v[i].raw.p, v[i].raw.n);
    }
    if (total > KIND_MAX_BYTES)
        return event_entries(m, ent);
    if (!m->kinds && !(m->kinds = calloc(KIND_SLOTS, sizeof(*m->kinds))))
        return event_entries(m, ent);
    /* two places a kind may be kept in; a new kind takes the one found least
     * recently */
    struct kind *two[2] = {&m->kinds[sig & (KIND_SLOTS - 1)],
                           &m->kinds[(sig >> 32) & (KIND_SLOTS - 1)]};
    m->kind_clock++;
    for (int w = 0; w < 2; w++) {
        struct kind *c = two[w];
        bool same = c->used && c->sig == sig;
        for (uint32_t i = 0, off = 0; i < m->nkfields && same; off += v[i].raw.n, i++)
            same = c->types[i] == types[i] && c->lens[i] == v[i].raw.n &&
                   !memcmp(c->bytes + off, v[i].raw.p, v[i].raw.n);
        if (same) {
            c->last = m->kind_clock;
            memcpy(ent, c->ent, c->nent * sizeof(*ent));
            return c->nent;
        }
    }
    struct kind *k =
        !two[0]->used || (two[1]->used && two[0]->last < two[1]->last) ? two[0] : two[1];
    k->last = m->kind_clock;
    uint32_t n = event_entries(m, ent);
    k->used = true;
    k->sig = sig;
    k->nent = n;
    memcpy(k->ent, ent, n * sizeof(*ent));
    for (uint32_t i = 0, off = 0; i < m->nkfields; off += v[i].raw.n, i++) {
        k->types[i] = types[i];
        k->lens[i] = (uint16_t)v[i].raw.n;
        memcpy(k->bytes + off, v[i].raw.p, v[i].raw.n);
    }
    return n;
}

static const struct cand *candidates(struct sigma_matcher *m, uint32_t *ncand, struct combo **combo)
{
    *combo = NULL;
    uint32_t *ent = m->ent;
    uint32_t n = m->nent = entries_of_kind(m, ent);
    if (n == 0) {
        *ncand = 0;
        return NULL;
    }
    uint64_t key = 1469598103934665603ull;
    for (uint32_t i = 0; i < n; i++)
        key = (key ^ ent[i]) * 1099511628211ull;
    uint32_t slot = (uint32_t)(key & (COMBO_SLOTS - 1));
    for (uint32_t probe = 0; probe < COMBO_SLOTS; probe++) {
        struct combo *c = m->combos[slot];
        if (!c)
            break;
        if (c->key == key && c->nent == n && !memcmp(c->ent, ent, n * sizeof(*ent))) {
            *ncand = c->n;
            *combo = c;
            return c->c;
        }
        slot = (slot + 1) & (COMBO_SLOTS - 1);
    }
    if (m->ncombos < COMBO_SLOTS / 2 && !m->combos[slot]) {
        struct combo *c = calloc(1, sizeof(*c));
        if (c) {
            uint32_t cap = 0;
            c->key = key;
            c->nent = n;
            memcpy(c->ent, ent, n * sizeof(*ent));
            c->n = merge_entries(m, ent, n, &c->c, &cap);
            m->combos[slot] = c;
            m->ncombos++;
            *ncand = c->n;
            *combo = c;
            return c->c;
        }
    }
    *ncand = merge_entries(m, ent, n, &m->tmp, &m->tmpcap);
    return m->tmp;
}

/* ---- the prefilter scan ------------------------------------------------ */

/* The prefilter's view of the event: its log source entries, then, for each
 * probe the event has (a rule field under its own name or a name an entry
 * renames it to), the value lookup() returns, JSON array elements one by one
 * as value_match() sees them; then, if some rule has keyword items, every
 * text keyword_value() reads: the native fields, the message (and the raw
 * record when there is neither). */
/* The text the prefilter is given for p[0..n): p itself when it is ASCII
 * (the scans and probes fold ASCII themselves), else its folded copy (the
 * field's, kept for evaluation, when fv is given), where the folded atoms of
 * non-ASCII values are found. Folding keeps lengths. */
static const char *pf_text(struct sigma_matcher *m, const char *p, size_t n, const struct fval *fv)
{
    if (!casefold_non_ascii(p, n))
        return p;
    return fv ? lowered(m, fv) : lower_copy(m, p, n);
}

static void prefilter_scan(struct sigma_matcher *m)
{
    const struct sigma_prefilter *pf = m->set->pf;
    const struct event *ev = m->ev;
    struct sigma_pf_state *st = m->pfs;
    sigma_pf_begin(st);
    for (uint32_t i = 0; i < m->nent; i++)
        sigma_pf_entry(pf, st, m->ent[i]);
    const uint64_t *pbits = sigma_pf_probe_bits(pf);
    for (uint32_t k = 0; k < m->nkeys; k++) {
        uint32_t it = 0;
        int32_t i;
        if (!sigma_pf_probe_maybe(pbits, m->keys[k].hash))
            continue; /* no rule field is read under this name */
        while ((i = sigma_pf_probe_next(pf, m->keys[k].hash, &it)) >= 0) {
            const struct sigma_pf_field *p = sigma_pf_probe_field(pf, (uint32_t)i);
            struct fval fv;
            /* the first field of the name, in index order, is the one lookup()
             * finds */
            if (!slot_value(m, m->keys[k].idx, p->name, p->len, &fv) ||
                !sigma_pf_probe_once(st, (uint32_t)i) || fv.type == VT_NULL ||
                !sigma_pf_probe_wanted(pf, st, (uint32_t)i))
                continue;
            if (fv.type == VT_JSON && fv.raw.n && fv.raw.p[0] == '[') {
                size_t pos = 0;
                struct str el;
                bool isnull;
                while (json_next(m, fv.raw.p, fv.raw.n, &pos, &el, &isnull))
                    if (!isnull)
                        sigma_pf_value(pf, st, (uint32_t)i, pf_text(m, el.p, el.n, NULL), el.n);
            } else {
                sigma_pf_value(pf, st, (uint32_t)i, pf_text(m, fv.raw.p, fv.raw.n, &fv), fv.raw.n);
            }
        }
    }
    sigma_pf_scan_small(pf, st);
    if (!sigma_pf_has_keywords(pf, st))
        return;
    sigma_pf_text_reset(st);
    for (uint32_t k = 0; k < ev->nfields; k++)
        sigma_pf_add(st, ev->fields[k].val.p, ev->fields[k].val.n);
    if (ev->message.n)
        sigma_pf_add(st, ev->message.p, ev->message.n);
    if (!ev->nfields && !ev->message.n && ev->raw.n)
        sigma_pf_add(st, ev->raw.p, ev->raw.n);
    sigma_pf_scan_keywords(pf, st);
}

/* Evaluate one candidate; calls fn on a match. Returns 0 or fn's error. */
static int eval_cand(struct sigma_matcher *m, const struct cand *c, sigma_match_fn fn, void *opaque)
{
    const struct sigma_set *s = m->set;
    const struct sigma_rule *r = s->rules[c->rule];
    const struct ls_entry *fm = c->fm_entry >= 0 ? &s->map.e[c->fm_entry] : NULL;
    memset(m->selc, -1, r->nsels);
    m->st.rule_evals++;
    if (!cond_eval(m, r, r->cond.root, fm))
        return 0;
    m->st.matches++;
    m->nhits = 0;
    collect(m, r, r->cond.root, true, fm, 0);
    return fn(opaque, r, m->ev, m->hits, m->nhits);
}

/* Give combination k its prefilter tables; false if out of memory. */
static bool combo_prepare(const struct sigma_matcher *m, struct combo *k,
                          const struct sigma_pf_verdict *v)
{
    uint32_t words = (k->n + 63) / 64;
    k->pos = calloc(m->set->nrules + 1, sizeof(*k->pos));
    k->always = calloc(words + 1, sizeof(*k->always));
    if (!k->pos || !k->always) {
        free(k->pos);
        free(k->always);
        k->pos = NULL;
        k->always = NULL;
        return false;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        k->pos[k->c[i].rule] = i + 1;
        if (v->always[k->c[i].rule])
            k->always[i / 64] |= 1ull << (i % 64);
    }
    return true;
}

/* With the prefilter and a cached combination: the rules to evaluate are
 * the combination's always-rules plus the rules hit by the scan, found
 * through the position map and walked in candidate (rule) order through a
 * bit set, so the cost follows the rules hit, not the candidates. */
static int match_hits(struct sigma_matcher *m, struct combo *k, const struct sigma_pf_verdict *v,
                      sigma_match_fn fn, void *opaque)
{
    uint32_t words = (k->n + 63) / 64;
    if (words > m->nbits) {
        grow_or_die((void **)&m->bits, words * sizeof(*m->bits));
        m->nbits = words;
    }
    uint64_t *bits = m->bits;
    memcpy(bits, k->always, words * sizeof(*bits));
    for (uint32_t h = 0; h < v->nhits; h++) {
        uint32_t p = k->pos[v->hits[h]];
        if (p--)
            bits[p / 64] |= 1ull << (p % 64);
    }
    for (uint32_t w = 0; w < words; w++) {
        uint64_t b = bits[w];
        while (b) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(b);
            b &= b - 1;
            int rc = eval_cand(m, &k->c[i], fn, opaque);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int sigma_match(struct sigma_matcher *m, const struct event *ev, sigma_match_fn fn, void *opaque)
{
    const struct sigma_set *s = m->set;
    m->st.events++;
    m->confirm = false;
    if (!s->nrules)
        return 0;
    index_event(m, ev);
    uint32_t nc;
    struct combo *k;
    const struct cand *c = candidates(m, &nc, &k);
    bool pf = m->prefilter && nc;
    struct sigma_pf_verdict *v = &m->pv;
    if (pf) {
        prefilter_scan(m);
        sigma_pf_verdict(s->pf, m->pfs, v);
        m->confirm = !v->all;
        if (k && !v->all && (k->pos || combo_prepare(m, k, v)))
            return match_hits(m, k, v, fn, opaque);
    }
    for (uint32_t i = 0; i < nc; i++) {
        if (pf && !sigma_pf_may_match(v, c[i].rule))
            continue;
        int rc = eval_cand(m, &c[i], fn, opaque);
        if (rc < 0)
            return rc;
    }
    return 0;
}
