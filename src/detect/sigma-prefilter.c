/*
 * sigma-prefilter.c - skip the rules an event cannot match, after hash
 * probes of its field values and multi-literal scans of them.
 *
 * Most rules can only be true if something is present in the event:
 * `Image|endswith: '\rundll32.exe'` needs an Image ending so, `EventID: 4720`
 * an EventID equal to 4720, `CommandLine|contains: 'mimikatz'` that text in
 * the CommandLine. Such a thing is an *atom*, of a rule field (the item's
 * field name; through the log source entries' field mappings it may be read
 * under other names, all probed and scanned):
 *
 *   exact       the field's value equals a text (case-blind) or a number
 *   prefix      the value starts with a text (cut to PF_ANCHOR_MAX bytes:
 *   suffix      the value ends with one       a part of one is necessary too)
 *   literal     the value contains a text; for a keyword item, any text of
 *               the event (the native fields, the message) does
 *
 * The first three are *anchored*: found by hashing the event's value (whole,
 * or its first / last bytes at each length some atom has, from two words at
 * each end) behind a bloom filter. Literals are found by Hyperscan, caseless.
 * Hyperscan folds ASCII only, while evaluation folds the two-byte UTF-8
 * letters too (util/casefold.h): atoms are taken from the folded rule
 * values, and a value with a byte >= 0x80 is probed and scanned as its
 * folded copy (the same length, the same offsets), so a literal found
 * case-blind there is exactly the condition "may match". A |cased value
 * with non-ASCII text has no atom (the folded copy may not hold it).
 *
 * For each rule a conservative conjunction of *necessary sets* (clauses) of
 * atoms is derived from its condition tree, every clause needing one of its
 * atoms present:
 *
 *   value      exact, prefix, suffix of a field: anchored; contains: a
 *              literal; a glob: its longest literal token; a regex: the
 *              longest run of plain bytes of every top-level alternative
 *              (one literal each); anything else (CIDR, number comparison,
 *              null, exists, field reference): none
 *   item       every value needs an atom, their union (|all: each group of
 *              alternatives is a clause); a negated item (neq) has none
 *   group (AND of items), condition AND, all-of: the clauses of the parts,
 *              the PF_CLAUSES most selective kept
 *   search id (OR of groups), condition OR, any-of, N-of: the union of the
 *              parts' best clauses, and the union of their second best
 *              (a part's best if it has one): (A1 and A2) or (B1 and B2)
 *              implies (A1 or B1) and (A2 or B2); nothing if a part has none
 *   not        none
 *
 * where "selective" is the weakest atom (exact atoms, long anchored and
 * literal ones are strong), then the smallest set. A rule with no clause is
 * evaluated on every event of its log source; the others only when each
 * clause had an atom present. Nothing here has to be exact: the prefilter
 * only ever says "cannot match" when some clause has no atom present, and
 * evaluation stays the judge.
 *
 * Literals shorter than 3 bytes hit nearly every event and slow the scan, so
 * they count as none, except two-byte literals with no letter, digit, space
 * or common path punctuation ("^^", "&&", a non-ASCII character such as a
 * Cyrillic homoglyph), which are rare in logs.
 *
 * A value whose atom is in some clause keeps its id (sigma_value.atom):
 * during evaluation a value whose atom is absent from the event is false
 * without being compared (sigma-eval.c), so a rule let through by a common
 * atom costs a few loads for each of its other values.
 *
 * Literals are compiled per scan unit (the log source entries with the same
 * rules share one) and per field: a field with many literals in the unit has
 * its own database (HS_FLAG_SINGLEMATCH), scanned over that field's value
 * only; the fields with few share the unit's small database, scanned once
 * over all their values and reporting every occurrence, a hit counting when
 * it lies in a value of its own field. Keyword literals have one database
 * per unit (units with the same share it; one whose literals another active
 * one has is skipped), scanned over every native field and the message.
 * Match ids are atom ids; each atom lists its clauses, as rule and clause
 * bit, and a rule whose clause bits are all set in an event is a candidate.
 */
#include "detect/sigma-prefilter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"
#include "util/casefold.h"

#ifdef KENCHI_HAVE_HS
#include <hs/hs.h>
#endif

#define PF_MAX_DEPTH 200
#define PF_CLAUSES   2   /* necessary sets kept per rule (all must hit); one bit each */
#define PF_LEN_CAP   12  /* literals longer than this are all "long enough" */
#define PF_RUN_MAX   255 /* regex runs are cut to this (a part of a run is necessary too) */
#ifndef PF_MIN_LEN
#define PF_MIN_LEN 3 /* shorter literals hit nearly every event and slow the scan */
#endif

enum atom_kind {
    AT_LIT,    /* occurs somewhere in a scanned text */
    AT_EXACT,  /* a field's whole value (ASCII case-blind, or as a number) */
    AT_PREFIX, /* the start of a field's value */
    AT_SUFFIX, /* the end of a field's value */
};

#define PF_PBITS      4096 /* bits of the probe name filter (sigma_pf_probe_bits) */
#define PF_ANCHOR_MAX 12   /* prefixes and suffixes are cut to this (and still necessary) */
#define PF_SMALL      64 /* a field with fewer literals in a unit shares the unit's small database */
#define PF_BLOOM_BITS 17 /* 2^17 bits: a probe that finds no atom mostly stops there */

/* One element of a necessary set. */
struct atom {
    const char *p; /* literal, or the anchored text */
    uint32_t n;
    uint8_t kind;                  /* enum atom_kind */
    bool keyword;                  /* a literal of a keyword item (found in any text) */
    const struct sigma_item *item; /* the item (its field); NULL for keyword literals */
    const struct sigma_value *v;   /* anchored atoms: the value (numeric exact ones) */
};

/* A necessary set: always (unusable), or a union of atoms (empty: the
 * subtree can never be true). */
struct atomset {
    struct atom *v;
    uint32_t n, cap;
    bool always;
};

/* Anchored atoms, hashed by (kind, field, folded text) and exact numeric
 * ones also by (field, number). */
struct xslot {
    uint32_t atom; /* 0: empty */
    uint32_t field;
    uint32_t hash;
};

/* One field's literals in a scan unit: looked for in that field's value. */
struct pf_scan {
#ifdef KENCHI_HAVE_HS
    hs_database_t *db;
#endif
    uint32_t field; /* index in the field list (names: sigma_pf_field_names) */
    uint32_t nlits;
};

/* A scan unit: the literals of the rules of one or more log source entries
 * (entries with the same rules share it), by field. */
struct pf_unit {
    struct pf_scan *scans; /* the fields with many literals */
    uint32_t nscans;
#ifdef KENCHI_HAVE_HS
    hs_database_t *sdb; /* the literals of its other fields, all in one database */
#endif
    uint32_t *sfields; /* those fields */
    uint32_t nsfields;
    int32_t kdb;    /* the keyword items' literals: index in sigma_prefilter.kdbs, -1: none */
    uint32_t first; /* the first entry it serves (its rules are the unit's) */
    uint32_t nlits;
};

/* A keyword database: the literals of keyword items, found in any text of
 * the event. Units with the same keyword literals (a product's keyword
 * rules serve every entry of the product) share one, scanned once. */
struct pf_kdb {
#ifdef KENCHI_HAVE_HS
    hs_database_t *db;
#endif
    uint32_t *ids; /* its atoms, ascending */
    uint32_t n;
};

/* A unit's scan of one field, listed under the field. */
struct pf_scanref {
    uint32_t unit, scan;
};

struct sigma_prefilter {
    struct pf_unit *units;
    uint32_t nunits;
    struct pf_kdb *kdbs;
    uint32_t nkdbs;
    uint64_t *kdb_within; /* per keyword database: bit k set if database k has all its
                             literals (up to 64 databases; beyond, none is skipped) */
    uint32_t *fscan_off;  /* per field f: its scans are fscans[fscan_off[f] .. fscan_off[f+1]) */
    struct pf_scanref *fscans;
    uint32_t *fsmall_off; /* per field f: the units whose small database has its literals, */
    uint32_t *fsmall;     /* fsmall[fsmall_off[f] .. fsmall_off[f+1]) */
    int32_t *afield;      /* per atom id: its field, -1 for keyword literals */
    int32_t *entry_unit;  /* per log source entry: its unit, -1: none */
    uint32_t nentries;
    uint8_t *always; /* per rule */
    uint32_t nrules, nalways;
    uint32_t natoms; /* ids 1 .. natoms */
    /* atom id -> the clauses it is in, atom_rules[atom_off[id] .. atom_off[id+1]),
     * each as rule << 1 | the clause's index in its rule (PF_CLAUSES is 2) */
    uint32_t *atom_off;
    uint32_t *atom_rules;
    uint8_t *rule_full; /* per rule: the bits of its clauses (1 << n) - 1 */
    uint32_t nlits, nanchored;
    /* anchored atoms: the kind, text (folded) and number of each, by atom id */
    uint8_t *xkind;
    const char **xtext;
    uint32_t *xlen;
    double *xnum;
    struct xslot *xt, *xn; /* text table, number table */
    uint32_t nxslots;      /* power of two, each table */
    uint64_t *xbloom;      /* bit (hash >> (32 - PF_BLOOM_BITS)) set for each text atom */
    uint32_t nfields;      /* fields anchored atoms name */
    /* per field, bit l set if an atom of that kind has length l (prefixes and
     * suffixes are cut to PF_ANCHOR_MAX); exact: two words per field, bit
     * l % 64 of the first for lengths below 64, of the second for the others */
    uint64_t *fexact, *fprefix, *fsuffix;
    uint8_t *fnumeric;  /* per field: some exact atom compares as a number */
    uint8_t *fanchored; /* per field: has anchored atoms (is probed) */
    uint32_t *fnames;   /* per field f: its probes are probes[fnames[f] .. fnames[f+1]) */
    struct sigma_pf_field *probes; /* the event field names to probe, each for a field */
    uint32_t nprobes;
    uint32_t *pslots; /* probe name hash -> probe index + 1, open addressing */
    uint32_t npslots;
    uint64_t pbits[PF_PBITS / 64]; /* bit hash % PF_PBITS of every probe name hash */
};

struct sigma_pf_state {
#ifdef KENCHI_HAVE_HS
    hs_scratch_t *scratch;
#endif
    uint32_t *stamp; /* per rule: epoch of the last event in which each clause had an atom */
    struct rule_hit {
        uint32_t epoch; /* of bits */
        uint32_t bits;  /* its clauses with an atom present in this event */
    } * rhit;           /* per rule */
    uint32_t *astamp;   /* per atom */
    uint32_t *pstamp;   /* per probe: done in this event */
    uint32_t *ustamp;   /* per unit: scanned in this event */
    uint32_t *kstamp;   /* per keyword database: scanned in this event */
    uint32_t *active;   /* the units of the event's log source entries */
    uint32_t nactive;
    /* the values of the fields the active units' small databases look at,
     * one after the other, and where each is */
    char *sbuf;
    size_t sn, scap;
    struct pf_seg {
        uint32_t field, start, end;
    } * seg;
    uint32_t nseg, capseg;
    uint32_t epoch;
    uint32_t *hits; /* rules hit by the last scan, each once, in hit order */
    uint32_t nhits;
    uint32_t nrules;
    char *buf;
    size_t n, cap;
    bool failed; /* the scan failed: every rule may match */
    const struct sigma_prefilter *pf;
};

static inline uint64_t word_at(const char *p, size_t m);

/* a[0..n) and b[0..n) are equal with ASCII folded; eight bytes at a time,
 * the last word overlapping the one before. */
static bool fold_eq(const char *a, const char *b, size_t n)
{
    if (n < 8)
        return word_at(a, n) == word_at(b, n);
    for (size_t i = 0; i + 8 < n; i += 8)
        if (word_at(a + i, 8) != word_at(b + i, 8))
            return false;
    return word_at(a + n - 8, 8) == word_at(b + n - 8, 8);
}

static uint32_t num_hash(double d, uint32_t seed)
{
    if (d == 0)
        d = 0; /* -0 equals 0 */
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    b ^= seed * 0x9E3779B97F4A7C15ull;
    b ^= b >> 33; /* a full 64-bit mix: small integers differ only in high bits */
    b *= 0xff51afd7ed558ccdull;
    b ^= b >> 33;
    b *= 0xc4ceb9fe1a85ec53ull;
    b ^= b >> 33;
    return (uint32_t)b;
}

/* The m (0..8) bytes at p, ASCII-folded, as one little-endian word. */
static inline uint64_t word_at(const char *p, size_t m)
{
    uint64_t x = 0;
    if (m == 8) {
        memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
#endif
    } else if (m >= 4) { /* two four-byte loads, overlapping */
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + m - 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        a = __builtin_bswap32(a);
        b = __builtin_bswap32(b);
#endif
        x = (uint64_t)a | (uint64_t)b << (8 * (m - 4));
    } else if (m) {
        x = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[m / 2] << (8 * (m / 2)) |
            (uint64_t)(unsigned char)p[m - 1] << (8 * (m - 1));
    }
    uint64_t low7 = x & 0x7f7f7f7f7f7f7f7full; /* 0x80 in each byte 'A'..'Z', then +32 */
    uint64_t upper = ~x & (low7 + 0x3f3f3f3f3f3f3f3full) & ~(low7 + 0x2525252525252525ull) &
                     0x8080808080808080ull;
    return x | upper >> 2;
}

static inline uint64_t anchor_seed(uint8_t kind, uint32_t f, size_t n)
{
    return ((uint64_t)f << 16 | (uint64_t)kind << 12 | (n & 0xfff)) * 0x9E3779B97F4A7C15ull;
}

static inline uint64_t anchor_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    return h ^ h >> 29;
}

/* Hash of an exact atom's text, or of a value of the same length: the
 * folded words of the text. */
static uint32_t exact_hash(uint32_t f, const char *p, size_t n)
{
    uint64_t h = anchor_seed(AT_EXACT, f, n);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        h = anchor_mix(h, word_at(p + i, 8));
    if (i < n)
        h = anchor_mix(h, word_at(p + i, n - i));
    return (uint32_t)(h ^ h >> 32);
}

/* Hash of a prefix or suffix of length l (<= 16) given as two folded words:
 * k1 the first (prefix) or last (suffix) min(l, 8) bytes, k2 the rest. A
 * value's prefixes and suffixes of every length come from two words at each
 * end, masked or shifted (sigma_pf_probe), with no pass over the bytes. */
static inline uint32_t window_hash(uint8_t kind, uint32_t f, size_t l, uint64_t k1, uint64_t k2)
{
    uint64_t h = anchor_mix(anchor_seed(kind, f, l), k1);
    if (l > 8) /* k2 is 0 otherwise */
        h = anchor_mix(h, k2);
    return (uint32_t)(h ^ h >> 32);
}

/* ---- necessary sets ----------------------------------------------------- */

#ifdef KENCHI_HAVE_HS /* without a database to compile them into, no sets */

static uint32_t anchor_hash(uint8_t kind, uint32_t f, const char *p, size_t l)
{
    if (kind == AT_EXACT)
        return exact_hash(f, p, l);
    size_t m = l < 8 ? l : 8;
    if (kind == AT_PREFIX)
        return window_hash(kind, f, l, word_at(p, m), l > 8 ? word_at(p + 8, l - 8) : 0);
    return window_hash(kind, f, l, word_at(p + l - m, m), l > 8 ? word_at(p, l - 8) : 0);
}

static uint32_t fold_hash(const char *p, size_t n, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((unsigned)(c - 'A') < 26u)
            c += 32;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static void set_clear(struct atomset *s)
{
    free(s->v);
    *s = (struct atomset){0};
}

static void set_always(struct atomset *s)
{
    set_clear(s);
    s->always = true;
}

static int set_add(struct atomset *s, const struct atom *a)
{
    if (s->always)
        return 0;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 8;
        struct atom *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *a;
    return 0;
}

/* dst |= src (src is left as it was). */
static int set_union(struct atomset *dst, const struct atomset *src)
{
    if (src->always) {
        set_always(dst);
        return 0;
    }
    for (uint32_t i = 0; i < src->n && !dst->always; i++)
        if (set_add(dst, &src->v[i]) < 0)
            return -ENOMEM;
    return 0;
}

/* Higher is more selective: never-true beats everything, always is worst. */
static int64_t set_score(const struct atomset *s)
{
    if (s->always)
        return -1;
    if (!s->n)
        return INT64_MAX;
    uint32_t weakest = PF_LEN_CAP;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct atom *a = &s->v[i];
        uint32_t w = a->kind == AT_EXACT ? PF_LEN_CAP : a->kind == AT_LIT ? a->n : a->n + 4;
        if (w < weakest)
            weakest = w;
    }
    return (int64_t)weakest * 1000000 - s->n;
}

/* A two-byte literal is kept when neither byte is common in log text. */
static bool rare_byte(unsigned char c)
{
    if (c >= 0x80)
        return true;
    if ((c | 32) >= 'a' && (c | 32) <= 'z')
        return false;
    if (c >= '0' && c <= '9')
        return false;
    return !strchr(" \t\r\n\\/.-_:,=\"'()[]{}%$@+", c);
}

static bool literal_ok(const char *p, uint32_t n)
{
    if (n >= PF_MIN_LEN)
        return true;
    return n == 2 && rare_byte((unsigned char)p[0]) && rare_byte((unsigned char)p[1]);
}

static uint32_t skip_to(const char *pat, uint32_t n, uint32_t i, char close)
{
    while (i < n && pat[i] != close)
        i++;
    return i;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* pat[i] follows a backslash: the ASCII byte the escape stands for when it
 * is one of \n \t \r \f \e \a \xHH, else -1. */
static int escape_byte(const char *pat, uint32_t n, uint32_t i)
{
    switch (pat[i]) {
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case 'f':
        return '\f';
    case 'e':
        return 0x1b;
    case 'a':
        return 0x07;
    case 'x': {
        if (i + 2 >= n)
            return -1;
        int hi = hexval(pat[i + 1]), lo = hexval(pat[i + 2]);
        return hi >= 0 && lo >= 0 && hi < 8 ? hi * 16 + lo : -1;
    }
    default:
        return -1;
    }
}

/* pat[i] follows a backslash and is a letter or digit: the index of the
 * escape's last byte (\x41, \x{263a}, \o{12}, \012, \1, \cA, \p{L}, \g{-1},
 * \k<name> ...). */
static uint32_t escape_end(const char *pat, uint32_t n, uint32_t i)
{
    char e = pat[i];
    char nx = i + 1 < n ? pat[i + 1] : '\0';
    switch (e) {
    case 'x':
        if (nx == '{')
            return skip_to(pat, n, i + 1, '}');
        for (uint32_t k = 0; k < 2 && i + 1 < n && strchr("0123456789abcdefABCDEF", pat[i + 1]);
             k++)
            i++;
        return i;
    case 'o':
    case 'N':
        return nx == '{' ? skip_to(pat, n, i + 1, '}') : i;
    case 'c':
        return i + 1 < n ? i + 1 : i;
    case 'p':
    case 'P':
        return nx == '{' ? skip_to(pat, n, i + 1, '}') : (i + 1 < n ? i + 1 : i);
    case 'g':
    case 'k':
        if (nx == '{')
            return skip_to(pat, n, i + 1, '}');
        if (nx == '<')
            return skip_to(pat, n, i + 1, '>');
        if (nx == '\'')
            return skip_to(pat, n, i + 2, '\'');
        if (e == 'g' && (nx == '-' || nx == '+'))
            i++;
        while (e == 'g' && i + 1 < n && pat[i + 1] >= '0' && pat[i + 1] <= '9')
            i++;
        return i;
    default:
        if (e >= '0' && e <= '9')
            for (uint32_t k = 0; k < 2 && i + 1 < n && pat[i + 1] >= '0' && pat[i + 1] <= '9'; k++)
                i++;
        return i;
    }
}

/* A run of plain bytes being read, and the best of the branch. */
struct run {
    char cur[PF_RUN_MAX], best[PF_RUN_MAX];
    uint32_t ncur, nbest;
};

static void run_end(struct run *r)
{
    if (r->ncur > r->nbest) {
        memcpy(r->best, r->cur, r->ncur);
        r->nbest = r->ncur;
    }
    r->ncur = 0;
}

/* End of a top-level branch: its best run joins out (copied into the
 * arena), or out becomes always. */
static int branch_end(struct run *r, struct arena *a, struct atomset *out)
{
    run_end(r);
    if (!literal_ok(r->best, r->nbest)) {
        set_always(out);
    } else {
        struct atom at = {arena_strndup(a, r->best, r->nbest), r->nbest, AT_LIT, false, NULL, NULL};
        if (set_add(out, &at) < 0)
            return -ENOMEM;
    }
    r->nbest = 0;
    return 0;
}

/* The literals of the regex pat[0..n): for each top-level branch, the
 * longest run of bytes that every match of the branch contains; out becomes
 * always when a branch has none or the pattern is beyond this reader. Runs
 * are plain bytes at the top level (a group may be optional or repeated, so
 * its inside is skipped, alternatives and all), escaped punctuation (`\.`
 * is a dot) and the escapes of one ASCII byte (\n \t \r \f \e \a \xHH);
 * other escapes, classes, '.', anchors and groups end a run. A quantifier that allows zero ('?',
 * '*', '{') takes its atom out of the run, '+' keeps it; both end the run. \Q and extended mode
 * give up. When the pattern is caseless, Unicode case folding lets 'k' match the Kelvin sign and
 * 's' the long s, which a case-blind ASCII scan would not see: those letters end a run; so does
 * every non-ASCII byte (a quantifier after a multi-byte character applies to all of it). */
static int regex_literals(const char *pat, uint32_t n, bool caseless, struct arena *a,
                          struct atomset *out)
{
    *out = (struct atomset){0};
    if (regex_inline_flag(pat, n, 'x')) {
        set_always(out);
        return 0;
    }
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    int depth = 0, rc = 0;
    bool prev_lit = false; /* the last atom read was a byte of the current run */
    for (uint32_t i = 0; i < n && !out->always && rc == 0; i++) {
        unsigned char ch = (unsigned char)pat[i];
        int lit = -1; /* the byte this atom adds to the run, or -1 */
        if (ch == '?' || ch == '*' || ch == '+' || ch == '{') {
            if (depth == 0 && prev_lit && ch != '+')
                r->ncur--; /* the byte before is optional */
            if (ch == '{')
                i = skip_to(pat, n, i, '}');
        } else if (ch == '\\') {
            if (i + 1 >= n)
                break;
            unsigned char e = (unsigned char)pat[++i];
            if (e == 'Q') {
                set_always(out);
                break;
            }
            int byte = escape_byte(pat, n, i);
            if (byte >= 0) {
                i += e == 'x' ? 2 : 0;
                if (depth == 0)
                    lit = byte;
            } else if ((e | 32) >= 'a' && (e | 32) <= 'z')
                i = escape_end(pat, n, i);
            else if (e >= '0' && e <= '9')
                i = escape_end(pat, n, i);
            else if (depth == 0 && e < 0x80)
                lit = e;
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
        } else if (ch == '|') {
            if (depth == 0)
                rc = branch_end(r, a, out);
        } else if (depth == 0 && ch != '.' && ch != '^' && ch != '$' && ch < 0x80) {
            lit = ch;
        }
        if (lit >= 0 && caseless && ((lit | 32) == 'k' || (lit | 32) == 's'))
            lit = -1;
        if (lit >= 0) {
            if (r->ncur == PF_RUN_MAX)
                run_end(r); /* keep the run read so far, start another */
            r->cur[r->ncur++] = (char)lit;
            prev_lit = true;
            continue;
        }
        prev_lit = false;
        run_end(r);
    }
    if (rc == 0 && !out->always)
        rc = branch_end(r, a, out);
    free(r);
    return rc;
}

static bool regex_caseless(const struct sigma_value *v)
{
    uint32_t opts = 0;
    pcre2_pattern_info(v->re, PCRE2_INFO_ALLOPTIONS, &opts);
    return (opts & PCRE2_CASELESS) || regex_inline_flag(v->s, v->n, 'i');
}

/* The single atom that must be present for v (of item it) to match, if
 * there is one. Regexes are left to regex_literals(). Exact, prefix and
 * suffix values of a field are anchored atoms; of a keyword item, literals. */
static bool value_atom(const struct sigma_item *it, const struct sigma_value *v, struct atom *out)
{
    *out = (struct atom){.kind = AT_LIT, .keyword = !it->field, .item = it->field ? it : NULL};
    /* events with non-ASCII text are probed and scanned case-folded, where
     * a |cased non-ASCII text may not be */
    if (v->cased && v->kind <= SV_GLOB && casefold_non_ascii(v->s, v->n))
        return false;
    if (it->field &&
        (v->kind == SV_EXACT || ((v->kind == SV_PREFIX || v->kind == SV_SUFFIX) && v->n > 0))) {
        uint32_t n = v->kind == SV_EXACT || v->n <= PF_ANCHOR_MAX ? v->n : PF_ANCHOR_MAX;
        *out = (struct atom){v->kind == SV_SUFFIX ? v->s + v->n - n : v->s,
                             n,
                             v->kind == SV_EXACT    ? AT_EXACT
                             : v->kind == SV_PREFIX ? AT_PREFIX
                                                    : AT_SUFFIX,
                             false,
                             it,
                             v};
        return true;
    }
    switch (v->kind) {
    case SV_EXACT:
        if (v->numeric)
            return false; /* 0x10 equals 16 */
        /* fall through */
    case SV_PREFIX:
    case SV_SUFFIX:
    case SV_CONTAINS:
        out->p = v->s;
        out->n = v->n;
        return literal_ok(v->s, v->n);
    case SV_GLOB: {
        uint32_t bestlen = 0;
        for (uint32_t i = 0; i < v->ntoks; i++)
            if (v->toks[i].kind == GT_LIT && v->toks[i].len > bestlen) {
                bestlen = v->toks[i].len;
                out->p = v->s + v->toks[i].off;
            }
        out->n = bestlen;
        return bestlen && literal_ok(out->p, bestlen);
    }
    default:
        return false;
    }
}

/* Union of the atoms of vals[from .. to), or always. */
static int values_set(struct sigma_set *s, const struct sigma_item *it, uint32_t from, uint32_t to,
                      struct atomset *out)
{
    for (uint32_t i = from; i < to && !out->always; i++) {
        const struct sigma_value *v = &it->vals[i];
        if (v->kind == SV_RE) {
            struct atomset rs;
            if (!v->s || !v->re) {
                set_always(out);
                return 0;
            }
            int rc = regex_literals(v->s, v->n, regex_caseless(v), &s->arena, &rs);
            for (uint32_t k = 0; k < rs.n; k++) {
                rs.v[k].keyword = !it->field;
                rs.v[k].item = it->field ? it : NULL;
            }
            if (rc == 0)
                rc = set_union(out, &rs);
            set_clear(&rs);
            if (rc < 0)
                return rc;
            continue;
        }
        struct atom a;
        if (!value_atom(it, v, &a)) {
            set_always(out);
            return 0;
        }
        if (set_add(out, &a) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* A conjunction of necessary sets (clauses), the PF_CLAUSES most selective
 * kept: every clause must have an atom present. No clause: nothing is
 * known (always). */
struct cnf {
    struct atomset c[PF_CLAUSES];
    uint32_t n;
};

static void cnf_clear(struct cnf *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        set_clear(&f->c[i]);
    f->n = 0;
}

/* Add clause c (consumed) if it is among the most selective; an always
 * clause says nothing and is dropped. */
static void cnf_add(struct cnf *f, struct atomset *c)
{
    if (c->always) {
        set_clear(c);
        return;
    }
    if (f->n < PF_CLAUSES) {
        f->c[f->n++] = *c;
        *c = (struct atomset){0};
        return;
    }
    uint32_t worst = 0;
    for (uint32_t i = 1; i < f->n; i++)
        if (set_score(&f->c[i]) < set_score(&f->c[worst]))
            worst = i;
    if (set_score(c) > set_score(&f->c[worst])) {
        set_clear(&f->c[worst]);
        f->c[worst] = *c;
        *c = (struct atomset){0};
    } else {
        set_clear(c);
    }
}

/* dst and= src (src is consumed). */
static void cnf_and(struct cnf *dst, struct cnf *src)
{
    for (uint32_t i = 0; i < src->n; i++)
        cnf_add(dst, &src->c[i]);
    src->n = 0;
}

/* The most selective clause's score, -1 when there is none. */
static int64_t cnf_score(const struct cnf *f)
{
    int64_t best = -1;
    for (uint32_t i = 0; i < f->n; i++)
        if (set_score(&f->c[i]) > best)
            best = set_score(&f->c[i]);
    return best;
}

/* An or of conjunctions: (A1 and A2) or (B1 and B2) implies (A1 or B1) and
 * (A2 or B2), and any such pairing of one clause from each side. Clause j
 * of the result is the union of each side's j-th most selective clause (its
 * last one when it has fewer). */
struct or_acc {
    struct atomset u[PF_CLAUSES];
    uint32_t depth; /* most clauses a side had */
};

/* acc or= f (f's clauses are reordered, best first). */
static int or_add(struct or_acc *acc, struct cnf *f)
{
    for (uint32_t i = 0; i < f->n; i++) /* selection sort by score: n is tiny */
        for (uint32_t j = i + 1; j < f->n; j++)
            if (set_score(&f->c[j]) > set_score(&f->c[i])) {
                struct atomset tmp = f->c[i];
                f->c[i] = f->c[j];
                f->c[j] = tmp;
            }
    if (f->n > acc->depth)
        acc->depth = f->n;
    for (uint32_t j = 0; j < PF_CLAUSES; j++) {
        if (!f->n)
            set_always(&acc->u[j]);
        else if (set_union(&acc->u[j], &f->c[j < f->n ? j : f->n - 1]) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* The accumulated or as a cnf (acc is consumed). */
static void or_done(struct or_acc *acc, struct cnf *out)
{
    out->n = 0;
    for (uint32_t j = 0; j < PF_CLAUSES; j++) {
        if (j == 0 || j < acc->depth)
            cnf_add(out, &acc->u[j]);
        else
            set_clear(&acc->u[j]);
    }
}

static void or_clear(struct or_acc *acc)
{
    for (uint32_t j = 0; j < PF_CLAUSES; j++)
        set_clear(&acc->u[j]);
}

/* A single clause as a cnf (consumed). */
static void cnf_of(struct cnf *f, struct atomset *c)
{
    f->n = 0;
    cnf_add(f, c);
}

static int item_cnf(struct sigma_set *s, const struct sigma_item *it, struct cnf *out)
{
    out->n = 0;
    struct atomset c = {0};
    if (!it->nvals) { /* an item without values never matches: an empty clause */
        cnf_of(out, &c);
        return 0;
    }
    if (it->neq)
        return 0;
    if (!it->all) {
        int rc = values_set(s, it, 0, it->nvals, &c);
        cnf_of(out, &c);
        return rc;
    }
    for (uint32_t i = 0; i < it->nvals;) { /* every group of alternatives must match */
        uint32_t j = i;
        while (j < it->nvals && it->vals[j].group == it->vals[i].group)
            j++;
        c = (struct atomset){0};
        if (values_set(s, it, i, j, &c) < 0) {
            set_clear(&c);
            return -ENOMEM;
        }
        cnf_add(out, &c);
        i = j;
    }
    return 0;
}

static int group_cnf(struct sigma_set *s, const struct sigma_group *g, struct cnf *out)
{
    out->n = 0; /* an empty AND is true: nothing known */
    for (uint32_t i = 0; i < g->n; i++) {
        struct cnf k;
        if (item_cnf(s, &g->items[i], &k) < 0) {
            cnf_clear(&k);
            return -ENOMEM;
        }
        cnf_and(out, &k);
    }
    return 0;
}

static int sel_cnf(struct sigma_set *s, const struct sigma_sel *sel, struct cnf *out)
{
    out->n = 0;
    if (sel->n == 1)
        return group_cnf(s, &sel->groups[0], out);
    struct or_acc acc = {0}; /* no groups: never true */
    for (uint32_t g = 0; g < sel->n; g++) {
        struct cnf k;
        int rc = group_cnf(s, &sel->groups[g], &k);
        if (rc == 0)
            rc = or_add(&acc, &k);
        cnf_clear(&k);
        if (rc < 0) {
            or_clear(&acc);
            return rc;
        }
    }
    or_done(&acc, out);
    return 0;
}

static int node_cnf(struct sigma_set *s, const struct sigma_rule *r, uint32_t node, int depth,
                    struct cnf *out);

/* "at least a of n identifiers": with a == n, all of them; otherwise the a
 * true ones cannot all avoid any n-a+1 of them, so the union of the best
 * clauses of the n-a+1 most selective is necessary. */
static int atleast_cnf(struct sigma_set *s, const struct sigma_rule *r, const struct cond_node *c,
                       int depth, struct cnf *out)
{
    const struct cond_tree *t = &r->cond;
    out->n = 0;
    if (c->a == 0 || c->a > c->n)
        return 0;
    struct cnf *k = calloc(c->n, sizeof(*k));
    if (!k)
        return -ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < c->n && rc == 0; i++) {
        uint32_t sl = t->sels[c->b + i];
        if (sl < r->nsels)
            rc = sel_cnf(s, &r->sels[sl], &k[i]);
    }
    if (c->a == c->n) {
        for (uint32_t i = 0; i < c->n && rc == 0; i++)
            cnf_and(out, &k[i]);
    } else if (rc == 0) {
        /* selection sort by score, best first: n is small */
        for (uint32_t i = 0; i < c->n; i++)
            for (uint32_t j = i + 1; j < c->n; j++)
                if (cnf_score(&k[j]) > cnf_score(&k[i])) {
                    struct cnf tmp = k[i];
                    k[i] = k[j];
                    k[j] = tmp;
                }
        struct or_acc acc = {0};
        for (uint32_t i = 0; i < c->n - c->a + 1 && rc == 0; i++)
            rc = or_add(&acc, &k[i]);
        if (rc == 0)
            or_done(&acc, out);
        else
            or_clear(&acc);
    }
    for (uint32_t i = 0; i < c->n; i++)
        cnf_clear(&k[i]);
    free(k);
    (void)depth;
    return rc;
}

static int node_cnf(struct sigma_set *s, const struct sigma_rule *r, uint32_t node, int depth,
                    struct cnf *out)
{
    const struct cond_tree *t = &r->cond;
    const struct cond_node *c = &t->nodes[node];
    out->n = 0;
    if (depth > PF_MAX_DEPTH)
        return 0;
    bool conj = c->op == COND_AND || c->op == COND_ALL;
    uint32_t kids[2], nk = 0;
    const uint32_t *list = kids;
    switch (c->op) {
    case COND_SEL:
        return c->a < r->nsels ? sel_cnf(s, &r->sels[c->a], out) : 0;
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
        return atleast_cnf(s, r, c, depth, out);
    default: /* NOT, and anything unknown */
        return 0;
    }
    struct or_acc acc = {0};
    for (uint32_t i = 0; i < nk; i++) {
        struct cnf k;
        int rc = node_cnf(s, r, list[i], depth + 1, &k);
        if (rc == 0 && conj)
            cnf_and(out, &k);
        else if (rc == 0)
            rc = or_add(&acc, &k);
        cnf_clear(&k);
        if (rc < 0) {
            or_clear(&acc);
            return rc;
        }
    }
    if (!conj)
        or_done(&acc, out);
    return 0;
}

/* ---- the atom table ----------------------------------------------------- */

/* Unique atoms by kind, field (-1: keyword literals), folded text and
 * number, each with the clauses it is in. Ids are index + 1. */
struct atom_entry {
    char *s; /* folded copy */
    uint32_t n;
    int32_t field; /* index in the field list; -1: a keyword literal */
    uint8_t kind;  /* enum atom_kind */
    bool numeric;
    double num;
    uint32_t *rules;
    uint32_t nrules, cap;
};

struct atom_table {
    struct atom_entry *e;
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    uint32_t nslots;
    struct sigma_pf_field *fields; /* the fields atoms name */
    uint32_t nfields, capfields;
};

static uint32_t entry_hash(const struct atom_entry *e)
{
    return fold_hash(e->s, e->n, ((uint32_t)(e->field + 1) * 4 + e->kind) * 0x9E3779B1u);
}

static int table_grow(struct atom_table *t)
{
    uint32_t ns = t->nslots ? t->nslots * 2 : 4096;
    uint32_t *slots = calloc(ns, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t h = entry_hash(&t->e[i]) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return 0;
}

/* The field list index of an item's field, -1 if it is not there. */
static int32_t table_field_find(const struct atom_table *t, const struct sigma_item *it)
{
    for (uint32_t i = 0; i < t->nfields; i++)
        if (t->fields[i].hash == it->field_hash && t->fields[i].len == it->field_len &&
            fold_eq(t->fields[i].name, it->field, it->field_len))
            return (int32_t)i;
    return -1;
}

/* The field list index of an item's field, added if new. */
static int32_t table_field(struct atom_table *t, const struct sigma_item *it)
{
    int32_t found = table_field_find(t, it);
    if (found >= 0)
        return found;
    if (t->nfields == t->capfields) {
        uint32_t cap = t->capfields ? t->capfields * 2 : 32;
        struct sigma_pf_field *f = realloc(t->fields, cap * sizeof(*f));
        if (!f)
            return -1;
        t->fields = f;
        t->capfields = cap;
    }
    t->fields[t->nfields] = (struct sigma_pf_field){it->field, it->field_len, it->field_hash, 0, 0};
    return (int32_t)t->nfields++;
}

/* The id of literal a if it is in the table, else 0. */
static uint32_t table_find(const struct atom_table *t, const struct atom *a)
{
    if (!t->nslots)
        return 0;
    struct atom_entry key = {.s = (char *)a->p, .n = a->n, .field = -1, .kind = a->kind};
    if (a->item && (key.field = table_field_find(t, a->item)) < 0)
        return 0;
    if (a->kind == AT_EXACT) {
        key.numeric = a->v->numeric;
        key.num = key.numeric ? a->v->num : 0;
    }
    uint32_t h = entry_hash(&key) & (t->nslots - 1);
    for (; t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
        const struct atom_entry *e = &t->e[t->slots[h] - 1];
        if (e->n == key.n && e->kind == key.kind && e->field == key.field &&
            e->numeric == key.numeric && (!key.numeric || e->num == key.num) &&
            fold_eq(e->s, key.s, key.n))
            return t->slots[h];
    }
    return 0;
}

/* The id of atom a, added if new; rule (if not UINT32_MAX) joins its list.
 * Returns 0 when out of memory. */
static uint32_t table_add(struct atom_table *t, const struct atom *a, uint32_t rule)
{
    if ((t->n + 1) * 2 > t->nslots && table_grow(t) < 0)
        return 0;
    struct atom_entry key = {.s = (char *)a->p, .n = a->n, .field = -1, .kind = a->kind};
    if (a->item) {
        key.field = table_field(t, a->item);
        if (key.field < 0)
            return 0;
    }
    if (a->kind == AT_EXACT) {
        key.numeric = a->v->numeric;
        key.num = key.numeric ? a->v->num : 0;
    }
    uint32_t h = entry_hash(&key) & (t->nslots - 1);
    for (; t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
        const struct atom_entry *e = &t->e[t->slots[h] - 1];
        if (e->n == key.n && e->field == key.field && e->kind == key.kind &&
            e->numeric == key.numeric && (!key.numeric || e->num == key.num) &&
            fold_eq(e->s, key.s, key.n))
            break;
    }
    if (!t->slots[h]) {
        if (t->n == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 1024;
            struct atom_entry *e = realloc(t->e, cap * sizeof(*e));
            if (!e)
                return 0;
            t->e = e;
            t->cap = cap;
        }
        char *s = malloc(key.n + 1);
        if (!s)
            return 0;
        for (uint32_t i = 0; i < key.n; i++) {
            unsigned char c = (unsigned char)key.s[i];
            s[i] = (char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
        }
        s[key.n] = '\0';
        key.s = s;
        t->e[t->n] = key;
        t->slots[h] = ++t->n;
    }
    uint32_t id = t->slots[h];
    struct atom_entry *e = &t->e[id - 1];
    if (rule == UINT32_MAX || (e->nrules && e->rules[e->nrules - 1] == rule))
        return id; /* rules are added in order: one entry per rule */
    if (e->nrules == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 2;
        uint32_t *r = realloc(e->rules, cap * sizeof(*r));
        if (!r)
            return 0;
        e->rules = r;
        e->cap = cap;
    }
    e->rules[e->nrules++] = rule;
    return id;
}

static void table_free(struct atom_table *t)
{
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->e[i].s);
        free(t->e[i].rules);
    }
    free(t->e);
    free(t->slots);
    free(t->fields);
}

/* Give every value of the rule that has a single atom its id (the atom is
 * compiled even when it is not in the rule's necessary set). Values of a
 * filter shared by several rules get the same id each time. */
static int rule_value_atoms(struct sigma_set *s, struct sigma_rule *r, struct atom_table *t)
{
    for (uint32_t k = 0; k < r->nsels; k++)
        for (uint32_t g = 0; g < r->sels[k].n; g++) {
            const struct sigma_group *gr = &r->sels[k].groups[g];
            for (uint32_t i = 0; i < gr->n; i++) {
                const struct sigma_item *it = &gr->items[i];
                for (uint32_t j = 0; j < it->nvals; j++) {
                    struct sigma_value *v = &it->vals[j];
                    struct atom a;
                    if (v->atom || v->kind == SV_RE || !value_atom(it, v, &a))
                        continue;
                    if (!table_find(t, &a))
                        continue; /* an atom no clause needs: not worth looking for */
                    if (!(v->atom = table_add(t, &a, UINT32_MAX)))
                        return -ENOMEM;
                }
            }
        }
    return 0;
}

/* ---- compiling ---------------------------------------------------------- */

static int xtable_put(struct xslot *tab, uint32_t ns, uint32_t hash, uint32_t field, uint32_t atom)
{
    uint32_t h = hash & (ns - 1);
    while (tab[h].atom)
        h = (h + 1) & (ns - 1);
    tab[h] = (struct xslot){atom, field, hash};
    return 0;
}

/* Add probe (event field name, atom field f) unless it is there already. */
static int probe_add(struct sigma_prefilter *pf, uint32_t *cap, const char *name, uint32_t len,
                     uint32_t f)
{
    uint32_t hash = field_name_hash(name, len);
    for (uint32_t i = 0; i < pf->nprobes; i++)
        if (pf->probes[i].field == f && pf->probes[i].hash == hash && pf->probes[i].len == len &&
            fold_eq(pf->probes[i].name, name, len))
            return 0;
    if (pf->nprobes == *cap) {
        uint32_t c = *cap ? *cap * 2 : 64;
        struct sigma_pf_field *v = realloc(pf->probes, c * sizeof(*v));
        if (!v)
            return -ENOMEM;
        pf->probes = v;
        *cap = c;
    }
    pf->probes[pf->nprobes++] = (struct sigma_pf_field){name, len, hash, f, 0};
    return 0;
}

/* Compile the table into pf: the anchored tables, the probes and the
 * atom -> rules lists (the literals go to the units' databases). A field
 * is probed under its own name and under every name a log source entry
 * renames it to: get_field() returns one of those values. */
static int compile_table(struct sigma_prefilter *pf, const struct sigma_set *s,
                         struct atom_table *t)
{
    uint32_t n = t->n, nf = t->nfields;
    pf->natoms = n;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += t->e[i].nrules;
    pf->atom_off = malloc((n + 2) * sizeof(*pf->atom_off));
    pf->atom_rules = malloc((total ? total : 1) * sizeof(*pf->atom_rules));
    pf->xkind = calloc(n + 1, 1);
    pf->xtext = calloc(n + 1, sizeof(*pf->xtext));
    pf->xlen = calloc(n + 1, sizeof(*pf->xlen));
    pf->xnum = calloc(n + 1, sizeof(*pf->xnum));
    pf->fexact = calloc(2 * (nf + 1), sizeof(*pf->fexact));
    pf->fprefix = calloc(nf + 1, sizeof(*pf->fprefix));
    pf->fsuffix = calloc(nf + 1, sizeof(*pf->fsuffix));
    pf->fnumeric = calloc(nf + 1, 1);
    pf->fanchored = calloc(nf + 1, 1);
    if (!pf->fanchored || !pf->atom_off || !pf->atom_rules || !pf->xkind || !pf->xtext ||
        !pf->xlen || !pf->xnum || !pf->fexact || !pf->fprefix || !pf->fsuffix || !pf->fnumeric)
        return -ENOMEM;
    pf->nfields = nf;
    /* atom ids start at 1: atom_off[id] */
    uint32_t k = 0, nl = 0, nx = 0;
    pf->atom_off[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct atom_entry *e = &t->e[i];
        pf->atom_off[i + 1] = k;
        if (e->nrules)
            memcpy(pf->atom_rules + k, e->rules, e->nrules * sizeof(*pf->atom_rules));
        k += e->nrules;
        if (e->kind == AT_LIT)
            nl++;
        else
            nx++;
    }
    pf->atom_off[n + 1] = k;
    pf->nlits = nl;
    pf->nanchored = nx;
    /* anchored tables: at most half full */
    uint32_t ns = 16;
    while (ns < nx * 2 + 2)
        ns *= 2;
    pf->nxslots = ns;
    pf->xt = calloc(ns, sizeof(*pf->xt));
    pf->xn = calloc(ns, sizeof(*pf->xn));
    pf->xbloom = calloc((1u << PF_BLOOM_BITS) / 64, sizeof(*pf->xbloom));
    if (!pf->xt || !pf->xn || !pf->xbloom)
        return -ENOMEM;
    pf->afield = malloc((n + 2) * sizeof(*pf->afield));
    if (!pf->afield)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        struct atom_entry *e = &t->e[i];
        pf->afield[i + 1] = e->field;
        pf->xlen[i + 1] = e->n;
        if (e->kind == AT_LIT)
            continue;
        uint32_t f = (uint32_t)e->field;
        pf->fanchored[f] = 1;
        pf->xkind[i + 1] = e->kind;
        pf->xtext[i + 1] = e->s; /* kept: the table's strings move to pf */
        pf->xlen[i + 1] = e->n;
        uint32_t h = anchor_hash(e->kind, f, e->s, e->n);
        if (e->kind == AT_EXACT)
            pf->fexact[2 * f + (e->n >= 64)] |= 1ull << (e->n & 63);
        else if (e->kind == AT_PREFIX)
            pf->fprefix[f] |= 1ull << e->n;
        else
            pf->fsuffix[f] |= 1ull << e->n;
        xtable_put(pf->xt, ns, h, f, i + 1);
        pf->xbloom[h >> (32 - PF_BLOOM_BITS) >> 6] |= 1ull << ((h >> (32 - PF_BLOOM_BITS)) & 63);
        if (e->numeric) {
            pf->fnumeric[f] = 1;
            pf->xnum[i + 1] = e->num;
            xtable_put(pf->xn, ns, num_hash(e->num, f), f, i + 1);
        }
        e->s = NULL;
    }
    /* probes: each field under its own name and the names entries map it to */
    uint32_t cap = 0;
    for (uint32_t f = 0; f < nf; f++) {
        const struct sigma_pf_field *fd = &t->fields[f];
        if (probe_add(pf, &cap, fd->name, fd->len, f) < 0)
            return -ENOMEM;
        for (uint32_t e = 0; e < s->map.n; e++) {
            const struct ls_entry *le = &s->map.e[e];
            for (uint32_t q = 0; q < le->nfm; q++)
                if (le->fm_hash[q] == fd->hash &&
                    probe_add(pf, &cap, le->fm_to[q], (uint32_t)strlen(le->fm_to[q]), f) < 0)
                    return -ENOMEM;
        }
    }
    for (uint32_t i = 0; i < pf->nprobes; i++)
        pf->probes[i].anchored = pf->fanchored[pf->probes[i].field];
    /* probes are added field by field: fnames[f] is where f's begin */
    pf->fnames = calloc(nf + 2, sizeof(*pf->fnames));
    if (!pf->fnames)
        return -ENOMEM;
    for (uint32_t i = 0; i < pf->nprobes; i++)
        pf->fnames[pf->probes[i].field + 1] = i + 1;
    for (uint32_t f = 1; f <= nf; f++)
        if (pf->fnames[f] < pf->fnames[f - 1])
            pf->fnames[f] = pf->fnames[f - 1];
    uint32_t np = 16;
    while (np < pf->nprobes * 2 + 2)
        np *= 2;
    pf->npslots = np;
    pf->pslots = calloc(np, sizeof(*pf->pslots));
    if (!pf->pslots)
        return -ENOMEM;
    for (uint32_t i = 0; i < pf->nprobes; i++) {
        uint32_t h = pf->probes[i].hash & (np - 1);
        while (pf->pslots[h])
            h = (h + 1) & (np - 1);
        pf->pslots[h] = i + 1;
        uint32_t b = pf->probes[i].hash % PF_PBITS;
        pf->pbits[b / 64] |= 1ull << (b % 64);
    }
    return 0;
}

static bool same_rules(const struct ls_entry *a, const struct ls_entry *b)
{
    return a->nrules == b->nrules && !memcmp(a->rules, b->rules, a->nrules * sizeof(*a->rules));
}

/* Compile literal atoms ids[0..n) into *db. */
static int compile_lits(const struct atom_table *t, const uint32_t *ids, uint32_t n, bool every,
                        hs_database_t **db)
{
    *db = NULL;
    if (!n)
        return 0;
    const char **exprs = malloc(n * sizeof(*exprs));
    size_t *lens = malloc(n * sizeof(*lens));
    unsigned *flags = malloc(n * sizeof(*flags));
    int rc = -ENOMEM;
    if (exprs && lens && flags) {
        for (uint32_t k = 0; k < n; k++) {
            exprs[k] = t->e[ids[k] - 1].s;
            lens[k] = t->e[ids[k] - 1].n;
            flags[k] = HS_FLAG_CASELESS | (every ? 0 : HS_FLAG_SINGLEMATCH);
        }
        hs_compile_error_t *err = NULL;
        rc = 0;
        if (hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, db, &err) !=
            HS_SUCCESS) {
            hs_free_compile_error(err);
            *db = NULL;
            rc = -EINVAL;
        }
    }
    free(exprs);
    free(lens);
    free(flags);
    return rc;
}

/* Give unit u the keyword database of keyword literals ids[0..n) (taken),
 * compiled unless a unit before has the same. */
static int unit_keywords(struct pf_unit *u, const struct atom_table *t, struct sigma_prefilter *pf,
                         uint32_t *ids, uint32_t n)
{
    u->kdb = -1;
    if (!n) {
        free(ids);
        return 0;
    }
    for (uint32_t k = 0; k < pf->nkdbs; k++)
        if (pf->kdbs[k].n == n && !memcmp(pf->kdbs[k].ids, ids, n * sizeof(*ids))) {
            free(ids);
            u->kdb = (int32_t)k;
            return 0;
        }
    struct pf_kdb *kd = &pf->kdbs[pf->nkdbs]; /* room for one per unit */
    *kd = (struct pf_kdb){NULL, ids, n};
    u->kdb = (int32_t)pf->nkdbs++;
    return compile_lits(t, ids, n, false, &kd->db);
}

static const struct atom_table *sort_table; /* for cmp_field: qsort has no context */

static int cmp_field(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int32_t fx = sort_table->e[x - 1].field, fy = sort_table->e[y - 1].field;
    return fx != fy ? (fx < fy ? -1 : 1) : (x > y) - (x < y);
}

/* Compile the literals of unit u: those of its rules' clauses and those
 * their values keep as atoms, one database per field (the literals of a
 * field's items are looked for in that field's value only) and the keyword
 * literals apart. mark and use are scratch (per rule, per atom), left
 * zeroed. */
static int unit_compile(struct pf_unit *u, const struct sigma_set *s, const struct ls_entry *e,
                        const struct atom_table *t, struct sigma_prefilter *pf, uint8_t *mark,
                        uint8_t *use)
{
    for (uint32_t i = 0; i < e->nrules; i++)
        mark[e->rules[i]] = 1;
    for (uint32_t a = 1; a <= t->n; a++) {
        if (t->e[a - 1].kind != AT_LIT)
            continue;
        for (uint32_t k = pf->atom_off[a]; k < pf->atom_off[a + 1] && !use[a]; k++)
            use[a] = mark[pf->atom_rules[k] >> 1];
    }
    for (uint32_t i = 0; i < e->nrules; i++) {
        const struct sigma_rule *r = s->rules[e->rules[i]];
        mark[e->rules[i]] = 0;
        for (uint32_t k = 0; k < r->nsels; k++)
            for (uint32_t g = 0; g < r->sels[k].n; g++) {
                const struct sigma_group *gr = &r->sels[k].groups[g];
                for (uint32_t j = 0; j < gr->n; j++)
                    for (uint32_t q = 0; q < gr->items[j].nvals; q++) {
                        uint32_t a = gr->items[j].vals[q].atom;
                        if (a && t->e[a - 1].kind == AT_LIT)
                            use[a] = 1;
                    }
            }
    }
    uint32_t n = 0;
    for (uint32_t a = 1; a <= t->n; a++)
        n += use[a];
    uint32_t *ids = malloc((n + 1) * sizeof(*ids));
    if (!ids)
        return -ENOMEM;
    n = 0;
    for (uint32_t a = 1; a <= t->n; a++)
        if (use[a]) {
            ids[n++] = a;
            use[a] = 0;
        }
    sort_table = t;
    qsort(ids, n, sizeof(*ids), cmp_field); /* keyword literals (field -1) first */
    uint32_t nk = 0;
    while (nk < n && t->e[ids[nk] - 1].field < 0)
        nk++;
    uint32_t nf = 0;
    for (uint32_t i = nk; i < n; i++)
        nf += i == nk || t->e[ids[i] - 1].field != t->e[ids[i - 1] - 1].field;
    u->scans = calloc(nf + 1, sizeof(*u->scans));
    u->sfields = calloc(nf + 1, sizeof(*u->sfields));
    uint32_t *small = malloc((n + 1) * sizeof(*small)), nsmall = 0;
    int rc = u->scans && u->sfields && small ? 0 : -ENOMEM;
    for (uint32_t i = nk; i < n && rc == 0;) {
        uint32_t j = i;
        while (j < n && t->e[ids[j] - 1].field == t->e[ids[i] - 1].field)
            j++;
        u->nlits += j - i;
        if (j - i < PF_SMALL) { /* one scan for all such fields: fewer calls */
            memcpy(small + nsmall, ids + i, (j - i) * sizeof(*small));
            nsmall += j - i;
            u->sfields[u->nsfields++] = (uint32_t)t->e[ids[i] - 1].field;
            i = j;
            continue;
        }
        struct pf_scan *sc = &u->scans[u->nscans++];
        sc->field = (uint32_t)t->e[ids[i] - 1].field;
        sc->nlits = j - i;
        rc = compile_lits(t, ids + i, j - i, false, &sc->db);
        i = j;
    }
    /* every occurrence reported: a literal counts only in its own field */
    if (rc == 0)
        rc = compile_lits(t, small, nsmall, true, &u->sdb);
    free(small);
    uint32_t *kids = rc == 0 ? malloc((nk + 1) * sizeof(*kids)) : NULL;
    if (kids) {
        memcpy(kids, ids, nk * sizeof(*kids));
        u->nlits += nk;
        rc = unit_keywords(u, t, pf, kids, nk);
    } else if (rc == 0) {
        rc = -ENOMEM;
    }
    free(ids);
    return rc;
}

/* One unit per distinct rule list of the log source entries. */
static int build_units(struct sigma_prefilter *pf, const struct sigma_set *s,
                       const struct atom_table *t)
{
    const struct ls_map *map = &s->map;
    pf->nentries = map->n;
    pf->entry_unit = malloc((map->n + 1) * sizeof(*pf->entry_unit));
    pf->units = calloc(map->n + 1, sizeof(*pf->units));
    pf->kdbs = calloc(map->n + 1, sizeof(*pf->kdbs));
    uint8_t *mark = calloc(s->nrules + 1, 1), *use = calloc(t->n + 2, 1);
    int rc = -ENOMEM;
    if (!pf->entry_unit || !pf->units || !pf->kdbs || !mark || !use)
        goto out;
    rc = 0;
    for (uint32_t e = 0; e < map->n && rc == 0; e++) {
        const struct ls_entry *le = &map->e[e];
        pf->entry_unit[e] = -1;
        if (!le->nrules)
            continue;
        uint32_t u = 0;
        while (u < pf->nunits && !same_rules(&map->e[pf->units[u].first], le))
            u++;
        if (u == pf->nunits) {
            pf->units[u].first = e;
            pf->units[u].kdb = -1;
            pf->nunits++;
            rc = unit_compile(&pf->units[u], s, le, t, pf, mark, use);
        }
        pf->entry_unit[e] = (int32_t)u;
    }
    /* the scans of each field */
    pf->fscan_off = calloc(t->nfields + 2, sizeof(*pf->fscan_off));
    uint32_t total = 0;
    for (uint32_t u = 0; u < pf->nunits; u++)
        total += pf->units[u].nscans;
    pf->fscans = malloc((total + 1) * sizeof(*pf->fscans));
    pf->kdb_within = calloc(pf->nkdbs + 1, sizeof(*pf->kdb_within));
    if (rc == 0 && (!pf->fscan_off || !pf->fscans || !pf->kdb_within))
        rc = -ENOMEM;
    for (uint32_t u = 0; u < pf->nunits && rc == 0; u++)
        for (uint32_t i = 0; i < pf->units[u].nscans; i++)
            pf->fscan_off[pf->units[u].scans[i].field + 1]++;
    for (uint32_t f = 0; f < t->nfields && rc == 0; f++)
        pf->fscan_off[f + 1] += pf->fscan_off[f];
    for (uint32_t u = 0; u < pf->nunits && rc == 0; u++)
        for (uint32_t i = 0; i < pf->units[u].nscans; i++) {
            uint32_t f = pf->units[u].scans[i].field;
            uint32_t at = pf->fscan_off[f]++;
            pf->fscans[at] = (struct pf_scanref){u, i};
        }
    for (uint32_t f = t->nfields; f > 0 && rc == 0; f--) /* undo the shift the fill made */
        pf->fscan_off[f] = pf->fscan_off[f - 1];
    if (rc == 0)
        pf->fscan_off[0] = 0;
    /* the units whose small database has each field's literals */
    pf->fsmall_off = calloc(t->nfields + 2, sizeof(*pf->fsmall_off));
    total = 0;
    for (uint32_t u = 0; u < pf->nunits; u++)
        total += pf->units[u].nsfields;
    pf->fsmall = malloc((total + 1) * sizeof(*pf->fsmall));
    if (rc == 0 && (!pf->fsmall_off || !pf->fsmall))
        rc = -ENOMEM;
    for (uint32_t u = 0; u < pf->nunits && rc == 0; u++)
        for (uint32_t i = 0; i < pf->units[u].nsfields; i++)
            pf->fsmall_off[pf->units[u].sfields[i] + 1]++;
    for (uint32_t f = 0; f < t->nfields && rc == 0; f++)
        pf->fsmall_off[f + 1] += pf->fsmall_off[f];
    for (uint32_t u = 0; u < pf->nunits && rc == 0; u++)
        for (uint32_t i = 0; i < pf->units[u].nsfields; i++)
            pf->fsmall[pf->fsmall_off[pf->units[u].sfields[i]]++] = u;
    for (uint32_t f = t->nfields; f > 0 && rc == 0; f--)
        pf->fsmall_off[f] = pf->fsmall_off[f - 1];
    if (rc == 0)
        pf->fsmall_off[0] = 0;
    /* keyword databases within others: scanning the larger one stamps theirs too */
    for (uint32_t a = 0; a < pf->nkdbs && a < 64 && rc == 0; a++)
        for (uint32_t b = 0; b < pf->nkdbs && b < 64; b++) {
            const struct pf_kdb *x = &pf->kdbs[a], *y = &pf->kdbs[b];
            uint32_t i = 0, j = 0;
            while (i < x->n && j < y->n) { /* ids ascending: is x within y? */
                if (x->ids[i] == y->ids[j])
                    i++;
                j++;
            }
            if (a != b && i == x->n)
                pf->kdb_within[a] |= 1ull << b;
        }
out:
    free(mark);
    free(use);
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
    struct atom_table t = {0};
    int rc = pf->always ? 0 : -ENOMEM;
    pf->rule_full = calloc(s->nrules + 1, 1);
    if (!pf->rule_full)
        rc = -ENOMEM;
    for (uint32_t i = 0; i < s->nrules && rc == 0; i++) {
        struct sigma_rule *r = s->rules[i];
        struct cnf f = {.n = 0};
        if (r->cond.nodes && r->cond.root < r->cond.n)
            rc = node_cnf(s, r, r->cond.root, 0, &f);
        if (rc == 0 && !f.n) {
            pf->always[i] = 1;
            pf->nalways++;
        }
        pf->rule_full[i] = (uint8_t)((1u << f.n) - 1);
        for (uint32_t c = 0; rc == 0 && c < f.n; c++) {
            uint32_t id = i << 1 | c;
            for (uint32_t j = 0; rc == 0 && j < f.c[c].n; j++)
                if (!table_add(&t, &f.c[c].v[j], id))
                    rc = -ENOMEM;
        }
        cnf_clear(&f);
    }
    for (uint32_t i = 0; i < s->nrules && rc == 0; i++)
        rc = rule_value_atoms(s, s->rules[i], &t);
    if (rc == 0)
        rc = compile_table(pf, s, &t);
    if (rc == 0)
        rc = build_units(pf, s, &t);
    table_free(&t);
    if (rc < 0) {
        /* values keep their ids, but with no prefilter nobody reads them */
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
    for (uint32_t u = 0; u < pf->nunits; u++) {
        for (uint32_t i = 0; i < pf->units[u].nscans; i++)
            hs_free_database(pf->units[u].scans[i].db);
        free(pf->units[u].scans);
        hs_free_database(pf->units[u].sdb);
        free(pf->units[u].sfields);
    }
    for (uint32_t k = 0; k < pf->nkdbs; k++) {
        hs_free_database(pf->kdbs[k].db);
        free(pf->kdbs[k].ids);
    }
    free(pf->kdbs);
    free(pf->kdb_within);
    free(pf->fscan_off);
    free(pf->fscans);
    free(pf->fsmall_off);
    free(pf->fsmall);
    free(pf->afield);
    free(pf->units);
    free(pf->entry_unit);
    if (pf->xtext)
        for (uint32_t i = 0; i <= pf->natoms; i++)
            free((char *)pf->xtext[i]);
    free(pf->xkind);
    free(pf->xtext);
    free(pf->xlen);
    free(pf->xnum);
    free(pf->xt);
    free(pf->xn);
    free(pf->xbloom);
    free(pf->fexact);
    free(pf->fprefix);
    free(pf->fsuffix);
    free(pf->fnumeric);
    free(pf->fanchored);
    free(pf->fnames);
    free(pf->probes);
    free(pf->pslots);
    free(pf->always);
    free(pf->atom_off);
    free(pf->atom_rules);
    free(pf->rule_full);
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
    st->rhit = calloc(pf->nrules + 1, sizeof(*st->rhit));
    st->astamp = calloc(pf->natoms + 2, sizeof(*st->astamp));
    st->pstamp = calloc(pf->nprobes + 1, sizeof(*st->pstamp));
    st->ustamp = calloc(pf->nunits + 1, sizeof(*st->ustamp));
    st->kstamp = calloc(pf->nkdbs + 1, sizeof(*st->kstamp));
    st->active = malloc((pf->nunits + 1) * sizeof(*st->active));
    st->hits = malloc((pf->nrules + 1) * sizeof(*st->hits));
    st->cap = 4096;
    st->buf = malloc(st->cap);
    if (!st->stamp || !st->rhit || !st->astamp || !st->pstamp || !st->ustamp || !st->kstamp ||
        !st->active || !st->hits || !st->buf) {
        sigma_pf_state_free(st);
        return NULL;
    }
    for (uint32_t u = 0; u < pf->nunits; u++) /* one scratch that fits every database */
        for (uint32_t i = 0; i <= pf->units[u].nscans; i++) {
            const hs_database_t *db =
                i < pf->units[u].nscans ? pf->units[u].scans[i].db : pf->units[u].sdb;
            if (db && hs_alloc_scratch(db, &st->scratch) != HS_SUCCESS) {
                sigma_pf_state_free(st);
                return NULL;
            }
        }
    for (uint32_t k = 0; k < pf->nkdbs; k++)
        if (pf->kdbs[k].db && hs_alloc_scratch(pf->kdbs[k].db, &st->scratch) != HS_SUCCESS) {
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
    free(st->rhit);
    free(st->astamp);
    free(st->pstamp);
    free(st->ustamp);
    free(st->kstamp);
    free(st->active);
    free(st->sbuf);
    free(st->seg);
    free(st->hits);
    free(st->buf);
    free(st);
}

/* Atom id is present in the event: stamp it and the clauses it is in; a
 * rule whose clauses are all stamped may match. */
static void atom_hit(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t id)
{
    uint32_t ep = st->epoch;
    if (st->astamp[id] == ep)
        return;
    st->astamp[id] = ep;
    for (uint32_t k = pf->atom_off[id]; k < pf->atom_off[id + 1]; k++) {
        uint32_t c = pf->atom_rules[k], r = c >> 1, bit = 1u << (c & 1);
        struct rule_hit *h = &st->rhit[r];
        if (h->epoch != ep) {
            h->epoch = ep;
            h->bits = 0;
        }
        if (h->bits & bit)
            continue;
        h->bits |= bit;
        if (h->bits == pf->rule_full[r]) {
            st->stamp[r] = ep;
            st->hits[st->nhits++] = r;
        }
    }
}

static int on_literal(unsigned int id, unsigned long long from, unsigned long long to,
                      unsigned int flags, void *opaque)
{
    struct sigma_pf_state *st = opaque;
    atom_hit(st->pf, st, id);
    return 0;
}

/* A literal of a small database: it counts if it lies in a value of its own
 * field. */
static int on_small(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *opaque)
{
    struct sigma_pf_state *st = opaque;
    const struct sigma_prefilter *pf = st->pf;
    if (st->astamp[id] == st->epoch)
        return 0;
    uint32_t f = (uint32_t)pf->afield[id];
    unsigned long long start = to - pf->xlen[id];
    for (uint32_t i = 0; i < st->nseg; i++)
        if (st->seg[i].field == f && st->seg[i].start <= start && to <= st->seg[i].end) {
            atom_hit(pf, st, id);
            break;
        }
    return 0;
}

static void scan_db(const hs_database_t *db, struct sigma_pf_state *st, const char *p, size_t n)
{
    if (!db || st->failed || !n)
        return;
    size_t off = 0;
    while (off < n) { /* hs_scan takes an unsigned int length */
        size_t len = n - off > (1u << 30) ? (1u << 30) : n - off;
        if (hs_scan(db, p + off, (unsigned)len, 0, st->scratch, on_literal, st) != HS_SUCCESS) {
            st->failed = true; /* every rule may match: still exact */
            return;
        }
        off += len;
    }
}

/* Scan p[0..n) with the databases of field f in the active units. */
static void scan_field(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t f,
                       const char *p, size_t n)
{
    for (uint32_t k = pf->fscan_off[f]; k < pf->fscan_off[f + 1]; k++) {
        const struct pf_scanref *r = &pf->fscans[k];
        if (st->ustamp[r->unit] == st->epoch)
            scan_db(pf->units[r->unit].scans[r->scan].db, st, p, n);
    }
}

void sigma_pf_scan_small(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    if (!st->sn || st->failed || st->sn > UINT32_MAX)
        return;
    for (uint32_t i = 0; i < st->nactive; i++) {
        const hs_database_t *db = pf->units[st->active[i]].sdb;
        if (db &&
            hs_scan(db, st->sbuf, (unsigned)st->sn, 0, st->scratch, on_small, st) != HS_SUCCESS)
            st->failed = true; /* every rule may match: still exact */
    }
}

void sigma_pf_scan_keywords(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    /* the texts folded in place when one is not ASCII (the '\n' between
     * them is ASCII: the folding of the whole is the texts' foldings) */
    if (casefold_non_ascii(st->buf, st->n))
        casefold_utf8(st->buf, st->buf, st->n);
    /* the active units' keyword databases, each once, none within another */
    uint64_t active = 0;
    for (uint32_t i = 0; i < st->nactive; i++) {
        int32_t k = pf->units[st->active[i]].kdb;
        if (k >= 0 && k < 64)
            active |= 1ull << k;
        else if (k >= 0 && st->kstamp[k] != st->epoch) {
            st->kstamp[k] = st->epoch;
            scan_db(pf->kdbs[k].db, st, st->buf, st->n);
        }
    }
    for (uint32_t k = 0; active >> k; k++)
        if ((active >> k & 1) && !(pf->kdb_within[k] & active & ~(1ull << k)))
            scan_db(pf->kdbs[k].db, st, st->buf, st->n);
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

static void scan_field(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t f,
                       const char *p, size_t n)
{
    (void)pf;
    (void)st;
    (void)f;
    (void)p;
    (void)n;
}

void sigma_pf_scan_keywords(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    (void)pf;
    (void)st;
}

void sigma_pf_scan_small(const struct sigma_prefilter *pf, struct sigma_pf_state *st)
{
    (void)pf;
    (void)st;
}

static void atom_hit(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t id)
{
    (void)pf;
    (void)st;
    (void)id;
}

#endif

void sigma_prefilter_counts(const struct sigma_prefilter *pf, struct sigma_pf_counts *c)
{
    *c = (struct sigma_pf_counts){0};
    if (!pf)
        return;
    c->always = pf->nalways;
    c->literals = pf->nlits;
    c->units = pf->nunits;
    for (uint32_t u = 0; u < pf->nunits; u++)
        c->compiled += pf->units[u].nlits;
    c->anchored = pf->nanchored;
    c->fields = pf->nfields;
}

void sigma_pf_entry(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t entry)
{
    int32_t u = entry < pf->nentries ? pf->entry_unit[entry] : -1;
    if (u < 0 || st->ustamp[u] == st->epoch)
        return;
    st->ustamp[u] = st->epoch;
    st->active[st->nactive++] = (uint32_t)u;
}

/* Does an active unit's small database have literals of field f? */
static bool small_wanted(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                         uint32_t f)
{
    for (uint32_t k = pf->fsmall_off[f]; k < pf->fsmall_off[f + 1]; k++)
        if (st->ustamp[pf->fsmall[k]] == st->epoch)
            return true;
    return false;
}

/* Append the value p[0..n) of field f to the small databases' text. */
static void small_add(struct sigma_pf_state *st, uint32_t f, const char *p, size_t n)
{
    if (st->failed)
        return;
    if (st->sn + n + 1 > st->scap || st->nseg == st->capseg) {
        size_t cap = st->scap ? st->scap : 1024;
        while (st->sn + n + 1 > cap)
            cap *= 2;
        uint32_t capseg = st->nseg == st->capseg ? (st->capseg ? st->capseg * 2 : 32) : st->capseg;
        char *b = realloc(st->sbuf, cap);
        if (b)
            st->sbuf = b;
        struct pf_seg *sg = realloc(st->seg, capseg * sizeof(*sg));
        if (sg)
            st->seg = sg;
        if (!b || !sg) {
            st->failed = true; /* every rule may match: still exact */
            return;
        }
        st->scap = cap;
        st->capseg = capseg;
    }
    memcpy(st->sbuf + st->sn, p, n);
    st->seg[st->nseg++] = (struct pf_seg){f, (uint32_t)st->sn, (uint32_t)(st->sn + n)};
    st->sbuf[st->sn + n] = '\n';
    st->sn += n + 1;
}

bool sigma_pf_has_keywords(const struct sigma_prefilter *pf, const struct sigma_pf_state *st)
{
    for (uint32_t i = 0; i < st->nactive; i++)
        if (pf->units[st->active[i]].kdb >= 0)
            return true;
    return false;
}

static void probe(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t f,
                  const char *p, size_t n);

bool sigma_pf_probe_wanted(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                           uint32_t i)
{
    const struct sigma_pf_field *p = &pf->probes[i];
    if (p->anchored)
        return true;
    for (uint32_t k = pf->fscan_off[p->field]; k < pf->fscan_off[p->field + 1]; k++)
        if (st->ustamp[pf->fscans[k].unit] == st->epoch)
            return true;
    return small_wanted(pf, st, p->field);
}

void sigma_pf_value(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t i,
                    const char *p, size_t n)
{
    const struct sigma_pf_field *pr = &pf->probes[i];
    if (pr->anchored)
        probe(pf, st, pr->field, p, n);
    scan_field(pf, st, pr->field, p, n);
    if (small_wanted(pf, st, pr->field))
        small_add(st, pr->field, p, n);
}

void sigma_pf_text_reset(struct sigma_pf_state *st)
{
    st->n = 0;
}

void sigma_pf_begin(struct sigma_pf_state *st)
{
    st->n = 0;
    st->nhits = 0;
    st->nactive = 0;
    st->sn = 0;
    st->nseg = 0;
    st->failed = false;
    if (++st->epoch == 0) {
        const struct sigma_prefilter *pf = st->pf;
        memset(st->stamp, 0, (st->nrules + 1) * sizeof(*st->stamp));
        memset(st->rhit, 0, (st->nrules + 1) * sizeof(*st->rhit));
        memset(st->astamp, 0, (pf->natoms + 2) * sizeof(*st->astamp));
        memset(st->pstamp, 0, (pf->nprobes + 1) * sizeof(*st->pstamp));
        memset(st->ustamp, 0, (pf->nunits + 1) * sizeof(*st->ustamp));
        memset(st->kstamp, 0, (pf->nkdbs + 1) * sizeof(*st->kstamp));
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

const uint64_t *sigma_pf_probe_bits(const struct sigma_prefilter *pf)
{
    return pf->pbits;
}

int32_t sigma_pf_probe_next(const struct sigma_prefilter *pf, uint32_t hash, uint32_t *it)
{
    if (!pf->nprobes)
        return -1;
    uint32_t mask = pf->npslots - 1;
    if (*it == 0)
        *it = (hash & mask) + 1;
    for (uint32_t h = *it - 1; pf->pslots[h]; h = (h + 1) & mask) {
        uint32_t i = pf->pslots[h] - 1;
        if (pf->probes[i].hash == hash) {
            *it = ((h + 1) & mask) + 1;
            return (int32_t)i;
        }
    }
    *it = 0;
    return -1;
}

const struct sigma_pf_field *sigma_pf_probe_field(const struct sigma_prefilter *pf, uint32_t i)
{
    return &pf->probes[i];
}

bool sigma_pf_probe_once(struct sigma_pf_state *st, uint32_t i)
{
    if (st->pstamp[i] == st->epoch)
        return false;
    st->pstamp[i] = st->epoch;
    return true;
}

/* parse_number(), with plain decimal integers (most numeric values) read
 * directly. */
static bool value_number(const char *p, size_t n, double *d)
{
    if (n && n <= 15 && (unsigned char)(p[0] - '1') < 9u) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < n && (unsigned char)(p[i] - '0') < 10u; i++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        if (i == n) {
            *d = (double)v;
            return true;
        }
    }
    if (!n || !strchr("0123456789+-. \t", p[0]))
        return false; /* parse_number() would refuse it too */
    return parse_number(p, n, d);
}

/* Stamp the anchored atom of kind filed under hash h (of the folded text
 * p[0..n)) with length n. */
static void anchor_lookup(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint8_t kind,
                          uint32_t f, uint32_t h, const char *p, size_t n)
{
    uint32_t mask = pf->nxslots - 1;
    for (uint32_t i = h & mask; pf->xt[i].atom; i = (i + 1) & mask) {
        const struct xslot *x = &pf->xt[i];
        /* the 32-bit hash, field, length and kind stand for the text: a
         * collision only lets a rule be evaluated */
        if (x->hash == h && x->field == f && pf->xlen[x->atom] == n && pf->xkind[x->atom] == kind) {
            atom_hit(pf, st, x->atom);
            if (kind != AT_EXACT)
                return; /* unique (an exact text may be a number and a string) */
        }
    }
}

static inline void anchor_find(const struct sigma_prefilter *pf, struct sigma_pf_state *st,
                               uint8_t kind, uint32_t f, uint32_t h, const char *p, size_t n)
{
    uint32_t b = h >> (32 - PF_BLOOM_BITS);
    if (pf->xbloom[b >> 6] & (1ull << (b & 63)))
        anchor_lookup(pf, st, kind, f, h, p, n);
}

/* The value p[0..n) of rule field f: stamp the anchored atoms it meets:
 * equal as folded text or as a number, starting or ending with. */
static void probe(const struct sigma_prefilter *pf, struct sigma_pf_state *st, uint32_t f,
                  const char *p, size_t n)
{
    if (pf->fexact[2 * f + (n >= 64)] & (1ull << (n & 63))) /* an exact atom may have this length */
        anchor_find(pf, st, AT_EXACT, f, exact_hash(f, p, n), p, n);
    /* prefixes and suffixes of every length some atom has, from two words at
     * each end of the value */
    size_t max = n < PF_ANCHOR_MAX ? n : PF_ANCHOR_MAX;
    uint64_t lens;
    size_t m1 = n < 8 ? n : 8, m2 = n > 8 ? (n - 8 < 8 ? n - 8 : 8) : 0;
    if ((lens = pf->fprefix[f] & ((2ull << max) - 2))) {
        uint64_t w1 = word_at(p, m1), w2 = m2 ? word_at(p + 8, m2) : 0;
        for (; lens; lens &= lens - 1) {
            size_t l = (size_t)__builtin_ctzll(lens);
            uint64_t k1 = l >= 8 ? w1 : w1 & ((1ull << (8 * l)) - 1);
            uint64_t k2 = l <= 8 ? 0 : l == 16 ? w2 : w2 & ((1ull << (8 * (l - 8))) - 1);
            anchor_find(pf, st, AT_PREFIX, f, window_hash(AT_PREFIX, f, l, k1, k2), p, l);
        }
    }
    if ((lens = pf->fsuffix[f] & ((2ull << max) - 2))) {
        uint64_t v1 = word_at(p + n - m1, m1), v2 = m2 ? word_at(p + n - 8 - m2, m2) : 0;
        for (; lens; lens &= lens - 1) {
            size_t l = (size_t)__builtin_ctzll(lens);
            uint64_t k1 = l >= 8 ? v1 : v1 >> (8 * (m1 - l));
            uint64_t k2 = l <= 8 ? 0 : v2 >> (8 * (m2 - (l - 8)));
            anchor_find(pf, st, AT_SUFFIX, f, window_hash(AT_SUFFIX, f, l, k1, k2), p + n - l, l);
        }
    }
    double d;
    if (!pf->fnumeric[f] || !value_number(p, n, &d))
        return;
    uint32_t h = num_hash(d, f), mask = pf->nxslots - 1;
    for (uint32_t i = h & mask; pf->xn[i].atom; i = (i + 1) & mask) {
        const struct xslot *x = &pf->xn[i];
        if (x->hash == h && x->field == f && pf->xnum[x->atom] == d)
            atom_hit(pf, st, x->atom);
    }
}

void sigma_pf_verdict(const struct sigma_prefilter *pf, const struct sigma_pf_state *st,
                      struct sigma_pf_verdict *v)
{
    *v = (struct sigma_pf_verdict){pf->always, st->stamp, st->epoch, st->failed,
                                   st->hits,   st->nhits, st->astamp};
}
