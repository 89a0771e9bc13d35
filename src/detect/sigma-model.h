/*
 * sigma-model.h - the compiled form of Sigma rules, shared by the
 * sigma-*.c files (internal: other subsystems use detect/sigma.h).
 *
 * A rule compiles into:
 *
 *   rule -> search identifiers (sigma_sel, OR of groups)
 *        -> groups (sigma_group, AND of items: one map of the YAML)
 *        -> items (sigma_item: one "field|modifiers: values" entry)
 *        -> values (sigma_value: one matcher each, of one kind)
 *   plus a condition tree over the identifiers (sigma-cond.h).
 *
 * Every value is compiled at load time into the cheapest matcher that
 * expresses it: literals are pre-lowercased (unless |cased) and classified as
 * exact / prefix / suffix / substring; anything else with wildcards becomes a
 * token glob; regexes are PCRE2 with JIT; CIDRs are parsed into bytes;
 * numbers into doubles. Matching therefore never allocates and never
 * re-reads the rule's text. All rule memory lives in the set's arena.
 *
 * The correlation and filter documents are kept in their own structs: the
 * filters are grafted onto the rules they name when the set is finished; the
 * correlations are parsed and kept for the correlation engine.
 */
#ifndef KENCHI_DETECT_SIGMA_MODEL_H
#define KENCHI_DETECT_SIGMA_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "detect/sigma-cond.h"
#include "detect/sigma.h"
#include "util/arena.h"
#include "util/yaml.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum sv_kind {
    SV_EXACT,    /* whole value equals s */
    SV_PREFIX,   /* value starts with s */
    SV_SUFFIX,   /* value ends with s */
    SV_CONTAINS, /* s occurs in value */
    SV_GLOB,     /* token glob (wildcards, windash) */
    SV_RE,       /* PCRE2 */
    SV_CIDR,     /* value is an IP inside addr/prefix */
    SV_NUM,      /* numeric comparison against num (cmp) */
    SV_TIMEPART, /* a part of a date value compared against num (cmp) */
    SV_NULL,     /* field absent or JSON null */
    SV_EXISTS,   /* field present (num != 0) or absent (num == 0) */
    SV_FIELDREF, /* compared with another field's value (mode: exact/prefix/...) */
    SV_NOTHING,  /* matches nothing (an expansion with no values) */
};

enum sv_cmp { CMP_EQ, CMP_LT, CMP_LTE, CMP_GT, CMP_GTE };
enum sv_part { PART_MINUTE, PART_HOUR, PART_DAY, PART_WEEK, PART_MONTH, PART_YEAR };

enum glob_tok_kind {
    GT_LIT,  /* bytes s[off .. off+len) */
    GT_ONE,  /* '?': one UTF-8 character */
    GT_STAR, /* '*': any run */
    GT_DASH, /* windash: one of - / en-dash em-dash horizontal-bar */
};

struct glob_tok {
    uint8_t kind;
    uint32_t off, len;
};

struct sigma_value {
    uint8_t kind;   /* enum sv_kind */
    bool cased;     /* compare bytes as they are */
    uint8_t cmp;    /* enum sv_cmp (SV_NUM, SV_TIMEPART) */
    uint8_t part;   /* enum sv_part (SV_TIMEPART) */
    uint8_t mode;   /* SV_FIELDREF: SV_EXACT / SV_PREFIX / SV_SUFFIX / SV_CONTAINS */
    uint8_t family; /* SV_CIDR: 4 or 6 */
    uint8_t prefix; /* SV_CIDR: prefix length */
    const char *s;  /* literal (lowercased unless cased), field name for SV_FIELDREF,
                       the pattern for SV_RE */
    uint32_t n;
    double num;
    struct glob_tok *toks;
    uint32_t ntoks;
    pcre2_code *re;
    uint8_t addr[16];
    uint32_t ref_hash; /* SV_FIELDREF: hash of the field name */
    uint32_t group;    /* values from one YAML value share a group (see |all) */
    uint32_t anchor;   /* SV_CONTAINS: offset of the needle's rarest byte */
    bool numeric;      /* SV_EXACT from a YAML number: num holds it, and event
                          values written otherwise (0x10, 16.0) compare as numbers */
    uint32_t atom;     /* prefilter atom that must be present for it to match
                          (sigma-prefilter.c), 0: none */
    uint32_t ref_fid;  /* SV_FIELDREF: the field id of the name in s (see sigma_item.fid) */
    int16_t re_need;   /* SV_RE: a byte every match contains (-1: none known) */
    uint32_t re_min;   /* SV_RE: the shortest match, in characters */
};

/* Regex match state, one per matcher (thread). */
struct re_state {
    pcre2_match_data *md;
    pcre2_match_context *mc; /* carries the match and depth limits */
    uint64_t errors;
};

struct sigma_item {
    const char *field; /* NULL: keyword (full-text) item */
    uint32_t field_len;
    uint32_t field_hash; /* field_name_hash(field) */
    uint32_t fid;        /* the name's id in the set (equal names, equal ids; 0: none),
                            under which matching keeps the field's value per event */
    bool all;            /* every value must match (|all) */
    bool neq;            /* the field must differ from the values */
    struct sigma_value *vals;
    uint32_t nvals;
    struct ymark mark; /* where the item's key was written */
};

struct sigma_group {
    struct sigma_item *items; /* AND */
    uint32_t n;
};

struct sigma_sel {
    struct str name;
    struct sigma_group *groups; /* OR */
    uint32_t n;
};

struct sigma_rule {
    /* metadata, NUL-terminated strings in the set's arena (NULL if absent) */
    const char *id, *name, *title, *status, *level, *description, *author;
    const char **tags;
    uint32_t ntags;
    const char **attack; /* ATT&CK ids derived from the tags ("T1059.001", "TA0002") */
    uint32_t nattack;
    const char *product, *service, *category;
    const char *file;
    struct ymark mark; /* the document's first node */

    struct sigma_sel *sels;
    uint32_t nsels;
    struct cond_tree cond;

    uint32_t index;                /* position in the set (load order) */
    bool active;                   /* some event kenchi produces can reach it */
    const char *inactive_why;      /* when !active */
    const char *needs_placeholder; /* first undefined %placeholder% */
    uint32_t nvariants;            /* log source variants that reach it */
};

struct sigma_filter {
    const char *id, *title, *file;
    struct ymark mark;
    const char *product, *service, *category;
    const char **rules; /* ids or names; none = every rule of the log source */
    uint32_t nrules;
    struct sigma_sel *sels;
    uint32_t nsels;
    struct cond_tree cond;
    uint32_t applied; /* rules it was grafted onto */
};

enum corr_type {
    CORR_EVENT_COUNT,
    CORR_VALUE_COUNT,
    CORR_TEMPORAL,
    CORR_TEMPORAL_ORDERED,
    CORR_VALUE_SUM,
    CORR_VALUE_AVG,
    CORR_VALUE_PERCENTILE,
};

struct corr_alias {
    const char *name;
    const char **rule_names; /* rule id/name -> field, pairwise */
    const char **fields;
    uint32_t n;
};

struct sigma_correlation {
    const char *id, *name, *title, *level, *status, *file;
    struct ymark mark;
    uint8_t type; /* enum corr_type */
    const char **rules;
    uint32_t nrules;
    const char **group_by;
    uint32_t ngroup_by;
    int64_t timespan_ns;
    const char **fields; /* condition field(s), value_* types */
    uint32_t nfields;
    bool has_cmp[6]; /* gt gte lt lte eq neq */
    double cmp_val[6];
    double percentile; /* value_percentile: `percentile:` (0..100), if has_percentile */
    bool has_percentile;
    struct corr_alias *aliases;
    uint32_t naliases;
    bool generate;
    const char **tags;
    uint32_t ntags;
    const char **attack; /* ATT&CK ids derived from the tags */
    uint32_t nattack;
};

/* Hash of a field name, ASCII case-folded and without spaces: field names
 * match without regard to case, and a source's "Threat Name" is the rule's
 * ThreatName (the specification strips spaces from field names). */
uint32_t field_name_hash(const char *s, size_t n);

/* Placeholder values from --placeholders. */
struct sigma_placeholders {
    struct ph_entry {
        const char *name;  /* without % */
        const char **vals; /* Sigma strings (wildcards allowed) */
        uint32_t n;
    } * e;
    uint32_t n;
};

/* Where a value came from, for messages. */
struct sv_ctx {
    struct arena *arena;
    const struct sigma_placeholders *ph;
    const char **needs_placeholder; /* set to the first undefined placeholder */
    pcre2_code ***codes;            /* every compiled regex, for freeing */
    size_t *ncodes;
    char *err; /* message buffer (SIGMA_ERR_MAX) */
};
#define SIGMA_ERR_MAX 300

/* Compile "field|mods: values" (field may be empty for keywords). key is
 * the YAML key text, vals the YAML value node. Returns 0, or -EINVAL with
 * ctx->err set and *where pointing at the offending node. */
int sigma_item_compile(struct sv_ctx *ctx, const char *key, size_t keylen,
                       const struct ynode *valnode, bool keyword, struct sigma_item *out,
                       const struct ynode **where);

/* Matching primitives (sigma-value.c), used by evaluation. */
const char *find_anchored(const char *hay, size_t n, const char *needle, size_t len, size_t anchor);
bool glob_match(const struct sigma_value *v, const char *s, size_t n);
bool sv_match_string(const struct sigma_value *v, const char *raw, size_t rn, const char *low,
                     size_t ln, struct re_state *rs);
bool cidr_match(const struct sigma_value *v, const char *s, size_t n);
/* An address parsed once for every CIDR value: IPv4 (a dotted quad, or
 * IPv4-mapped IPv6: has4) and/or IPv6 (has6). */
struct ip_addr {
    bool has4, has6;
    uint8_t a4[4], a6[16];
};
bool ip_parse(const char *s, size_t n, struct ip_addr *ip);
bool cidr_match_ip(const struct sigma_value *v, const struct ip_addr *ip);
bool parse_number(const char *s, size_t n, double *out);
/* Does regex pattern pat set option letter opt inline ("(?i)", "(?-x:")? */
bool regex_inline_flag(const char *pat, uint32_t n, char opt);
bool date_part(const char *s, size_t n, uint8_t part, double *out);

/* One row of the log source mapping: the rule log sources it serves and the
 * events that belong to it (see sigma-logsource.c). */
struct ls_entry {
    const char *product, *service, *category; /* rule side; NULL = any */
    struct sigma_group cond;                  /* event side: AND of items */
    const char **fm_from, **fm_to;            /* field mappings (rule name -> event name) */
    uint32_t *fm_hash;
    uint32_t nfm;
    uint32_t *rules; /* indices of the rules it serves, ascending */
    uint32_t nrules, caprules;
    struct ymark mark;
};

/* Dispatch: entries whose conditions require field F == literal are found
 * by hashing (F, value) of the event instead of testing each entry. */
struct ls_slot {
    uint32_t disp; /* dispatch field index, UINT32_MAX = empty */
    uint32_t entry;
    const char *val; /* lowercased */
    uint32_t vlen;
    uint32_t hash;
};

#define LS_MAX_DISPATCH 8

struct ls_map {
    char *path;
    struct ls_entry *e;
    uint32_t n;
    struct {
        const char *field;
        uint32_t len, hash;
    } disp[LS_MAX_DISPATCH];
    uint32_t ndisp;
    struct ls_slot *slots;
    uint32_t nslots;  /* power of two */
    uint32_t *always; /* entries without a dispatch key: tested on every event */
    uint32_t nalways;
};

struct sigma_set {
    struct arena arena; /* every rule, filter, correlation and value */
    struct sigma_rule **rules;
    uint32_t nrules, caprules;
    struct sigma_filter **filters;
    uint32_t nfilters, capfilters;
    struct sigma_correlation **corrs;
    uint32_t ncorrs, capcorrs;
    struct sigma_diag *diags;
    size_t ndiags, capdiags;
    uint32_t files, refused;
    struct sigma_placeholders ph;
    struct ls_map map;
    pcre2_code **codes;
    size_t ncodes;
    uint32_t max_sels; /* most search identifiers in one rule (after filters) */
    uint32_t nfids;    /* field ids given (sigma_item.fid): 1 .. nfids */
    bool finished;
    struct sigma_prefilter *pf; /* literal prefilter (sigma-prefilter.c), or NULL */
};

/* Record a diagnostic (copies file and message). */
void sigma_diag_add(struct sigma_set *s, enum sigma_diag_kind kind, const char *file,
                    struct ymark m, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Parse every document of one YAML text into s (sigma-load.c). */
int sigma_load_documents(struct sigma_set *s, const char *file, const char *text, size_t n);

/* Compile a mapping (field: value | [values]) of YAML into an AND group; used
 * by search identifiers and by the log source mapping. */
int sigma_group_compile(struct sv_ctx *c, const struct ynode *map, struct sigma_group *out,
                        const struct ynode **where);

/* Log source mapping (sigma-logsource.c). */
/* The text a number is filed under in the dispatch table (and looked up by):
 * equal numbers, equal keys. */
void ls_number_key(double d, char *buf, size_t n);
int ls_map_load(struct sigma_set *s, const char *path, FILE *err);
void ls_map_bind(struct sigma_set *s); /* attach rules to entries, mark inactive ones */
void ls_map_free(struct ls_map *m);
/* Does rule log source (p, sv, c) fall under entry e? */
bool ls_entry_serves(const struct ls_entry *e, const char *p, const char *sv, const char *c);

/* Placeholders (sigma-set.c). */
int placeholders_load(struct sigma_set *s, const char *path, FILE *err);

/* Match-time regex limits (a runaway pattern stops and counts as no match). */
#define SIGMA_RE_MATCH_LIMIT 200000
#define SIGMA_RE_DEPTH_LIMIT 5000

#endif
