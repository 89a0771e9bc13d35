/*
 * stix-pattern-impl.h - what the files of the STIX pattern engine share
 * (not a public interface; see stix-pattern.h).
 *
 *   stix-pattern.c        lexer, recursive-descent parser, constants,
 *                         simple values, single-event evaluation
 *   stix-pattern-map.c    the table from object paths to event fields, and
 *                         reading an event's values for a path
 *   stix-pattern-eval.c   comparison operators, LIKE, MATCHES, CIDR sets,
 *                         an observation expression on one event
 *   stix-matcher.c        the stream matcher: prefilter, kept observations,
 *                         the search for a whole pattern's match
 *
 * A compiled pattern is a set of flat arrays (no pointers between nodes):
 * observation nodes (AND / OR / FOLLOWEDBY / qualifiers over leaves), one
 * leaf per observation expression "[...]", each leaf a tree of comparison
 * nodes (n-ary AND / OR) over tests, each test an object path resolved to a
 * mapped property (or to none), an operator and its constants.
 */
#ifndef KENCHI_INTEL_STIX_PATTERN_IMPL_H
#define KENCHI_INTEL_STIX_PATTERN_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "intel/stix-pattern.h"
#include "util/arena.h"

/* ---- the mapping (stix-pattern-map.c) ---------------------------------- */

/* Object types kenchi's events can hold. OT_NONE: any other type (artifact,
 * mutex, x-custom ...): never present. */
enum sp_otype {
    OT_NONE,
    OT_IPV4,
    OT_IPV6,
    OT_MAC,
    OT_DOMAIN,
    OT_EMAIL_ADDR,
    OT_URL,
    OT_NETWORK_TRAFFIC,
    OT_EMAIL_MESSAGE,
    OT_FILE,
    OT_DIRECTORY,
    OT_PROCESS,
    OT_USER_ACCOUNT,
    OT_X509,
    OT_SOFTWARE,
    OT_REGKEY,
    OT__COUNT
};

/* How a property's values compare. */
enum sp_kind { PK_STR, PK_NUM, PK_IP, PK_TIME };

/* The canonical form both sides of =, !=, IN and the orderings are brought
 * to; every norm but NM_NONE, NM_URL and NM_MSGID also makes LIKE and
 * MATCHES case-insensitive. */
enum sp_norm {
    NM_NONE,
    NM_LOWER,  /* ASCII lower case (hashes, protocols) */
    NM_DOMAIN, /* lower case, no trailing dot */
    NM_EMAIL,  /* the address of "Name <a@b>", lower case */
    NM_URL,    /* as ioc_normalise(IOC_URL) */
    NM_MSGID,  /* without the angle brackets */
    NM_SERIAL, /* hex digits only, lower case (4c:0b:.. = 4C0B..) */
    NM_REGKEY, /* HKLM\ = HKEY_LOCAL_MACHINE\ = \REGISTRY\MACHINE\, lower case */
    NM_MAC,    /* lower case, '-' as ':' */
};

#define SP_MAX_SLOTS 2
#define SP_MAX_SRCS  12

/* One place a property's values come from: an OR of event sources, either
 * all of them (SM_UNION) or the first that has a value (SM_FIRST). */
enum { SM_UNION, SM_FIRST };
struct sp_slot {
    uint8_t mode;
    uint16_t src[SP_MAX_SRCS]; /* enum sp_src values, 0-terminated */
};

/* A mapped property. For the types whose objects are made by a value
 * (ipv4-addr, ipv6-addr, mac-addr, domain-name, email-addr), "instance" marks
 * that value property: each of its values is one object, and slot[s] is the
 * group of objects the other properties of slot s belong to (domain-name
 * slot 0 is the DNS question, whose resolves_to_refs are the answers). */
struct sp_prop {
    uint8_t otype;
    const char *path; /* canonical: lower case, quotes and list indexes removed */
    uint8_t kind;     /* enum sp_kind */
    uint8_t norm;     /* enum sp_norm */
    bool list;        /* takes an index: [0], [*] */
    bool instance;
    int8_t ioc; /* enum ioc_type for stix_pattern_simple_values, or -1 */
    struct sp_slot slot[SP_MAX_SLOTS];
};

extern const struct sp_prop sp_props[];
extern const uint32_t sp_nprops;
#define SP_PROP_NONE 0xffffu

/* Number of slots of an instanced type (1 for others). */
uint32_t sp_otype_slots(uint8_t otype);
bool sp_otype_instanced(uint8_t otype);
/* The type of "ipv4-addr" etc., OT_NONE for others. */
uint8_t sp_otype_by_name(const char *name, size_t n);
const char *sp_otype_name(uint8_t otype);
/* The property of a canonical path, or SP_PROP_NONE. */
uint32_t sp_prop_by_path(const char *path);
/* The instance property of an instanced type, or SP_PROP_NONE. */
uint32_t sp_otype_instance_prop(uint8_t otype);

/* Event fields the mapping reads; bit f of a presence mask. */
#define SP_MAX_FIELDS 128
uint32_t sp_nfields(void);
/* Fields a property's sources read (presence mask, 2 words). */
void sp_prop_fields(uint32_t prop, uint64_t mask[2]);
/* Consistency of the tables (sorted names, unique paths): 0, or < 0. */
int sp_map_selftest(void);

/* ---- per-event evaluation context --------------------------------------- */

struct sp_val {
    const char *p;
    uint32_t n;
};

#define SP_MAX_SOURCES           128
#define SP_MAX_VALUES_PER_SOURCE 256

#define SP_NAME_SLOTS 256 /* power of two, > 3 x the native names */
struct sp_ctx {
    struct {
        uint32_t h;                /* FNV-1a of the name, 0: empty */
        uint8_t len, first, count; /* native_names[first .. first+count) */
    } names[SP_NAME_SLOTS];
    const struct event *ev;
    uint32_t gen;                /* event generation (cache stamps) */
    int32_t fidx[SP_MAX_FIELDS]; /* native field index, or -1 */
    uint64_t present[2];         /* fields present in ev */
    struct {
        uint32_t gen, off, n;
    } scache[SP_MAX_SOURCES];
    struct sp_val *vals; /* values of resolved sources, malloc'd */
    uint32_t nvals, capvals;
    struct arena arena;       /* transformed and normalised text, reset per event */
    int16_t bslot[OT__COUNT]; /* object binding: slot, or -1 (any object) */
    int32_t bk[OT__COUNT];    /* ... and the value index in that slot */
    pcre2_match_data *md;
    pcre2_match_context *mc;
    uint64_t regex_limited;
};

void sp_ctx_init(struct sp_ctx *c);
void sp_ctx_free(struct sp_ctx *c);
/* Point c at ev: reset the per-event caches and find the mapped fields
 * (one pass over ev's native fields). */
void sp_ctx_event(struct sp_ctx *c, const struct event *ev);
/* Values of a source: *off into c->vals (valid until the next resolution,
 * which may move c->vals: index again after resolving). Returns the count. */
uint32_t sp_src_values(struct sp_ctx *c, uint32_t src, uint32_t *off);

/* Bring s[0..n) to norm's canonical form. Returns the text (s itself when
 * nothing changes, else in the arena). */
struct sp_val sp_normalise(struct arena *a, uint8_t norm, const char *s, size_t n);
bool sp_norm_folds_case(uint8_t norm);

/* ---- IP addresses and networks ------------------------------------------ */

struct sp_net {
    uint8_t fam; /* 4 or 6 */
    uint8_t plen;
    uint8_t addr[16];
};
/* "192.0.2.1", "192.0.2.0/24", "2001:db8::/32", "[2001:db8::1]", IPv4-mapped
 * IPv6 folded to IPv4. Host bits after the prefix are cleared. */
bool sp_net_parse(const char *s, size_t n, struct sp_net *out);
/* a lies within b */
bool sp_net_within(const struct sp_net *a, const struct sp_net *b);

/* ---- the compiled pattern ----------------------------------------------- */

enum sp_op {
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_IN,
    OP_LIKE,
    OP_MATCHES,
    OP_ISSUBSET,
    OP_ISSUPERSET,
    OP_EXISTS,
};

enum sp_ctype { CT_STR, CT_INT, CT_FLOAT, CT_BOOL, CT_BIN, CT_TS };

/* How one constant is compared with a property's values (chosen at compile
 * time from the property's kind and the constant's type). */
enum sp_cmode {
    CM_INCOMPAT, /* types do not compare: = false, != true */
    CM_STR,      /* s: the constant brought to the property's norm */
    CM_BYTES,    /* s: raw bytes (h'..', b'..'); the value as Latin-1 */
    CM_NUM,      /* is_int ? i : f */
    CM_IP,       /* net: containment */
    CM_TIME,     /* ts */
    CM_BOOL,     /* b */
};

struct sp_const {
    uint8_t type; /* enum sp_ctype */
    uint8_t mode; /* enum sp_cmode */
    bool is_int, b;
    const char *s; /* arena */
    uint32_t n;
    const char *raw; /* a string constant as written (unescaped) */
    uint32_t rawn;
    int64_t i, ts;
    double f;
    struct sp_net net;
};

#define SP_INDEX_ALL  (-1) /* [*], or no index on a list property */
#define SP_INDEX_NONE (-2) /* not a list property */
#define SP_INDEX_BAD  (-3) /* negative index: out of range, nothing selected */

struct sp_test {
    uint32_t pos;  /* byte offset of the path in the text */
    uint32_t prop; /* SP_PROP_NONE: the path is not mapped */
    uint8_t otype;
    uint8_t op;
    bool negated;
    int32_t index;
    uint32_t c0, nc;  /* constants[c0 .. c0+nc) */
    pcre2_code *re;   /* MATCHES */
    const char *like; /* LIKE pattern (folded when the property folds case) */
    uint32_t likelen;
};

enum { CN_TEST, CN_AND, CN_OR };
struct sp_cnode {
    uint8_t kind;
    uint32_t a; /* CN_TEST: test index; else first child in kids[] */
    uint32_t n; /* number of children */
};

enum { ON_LEAF, ON_AND, ON_OR, ON_FOLLOWEDBY, ON_WITHIN, ON_REPEATS, ON_STARTSTOP };
struct sp_onode {
    uint8_t kind;
    bool under_repeats;    /* some ancestor is a REPEATS (n > 1) */
    uint32_t a;            /* ON_LEAF: leaf; unary: child; n-ary: first in kids[] */
    uint32_t n;            /* n-ary: number of children; ON_REPEATS: the count */
    uint32_t parent;       /* UINT32_MAX for the root */
    uint32_t lfirst, lend; /* leaves under this node: [lfirst, lend) */
    int64_t within_ns;
    int64_t start_ns, stop_ns;
};

/* One observation expression. */
struct sp_leaf {
    uint32_t croot;  /* its comparison tree */
    uint32_t onode;  /* its ON_LEAF node */
    uint32_t t0, nt; /* its tests */
    uint8_t nbind;   /* instanced types read by two tests or more */
    uint8_t bind[4];
    uint16_t bprop[4];         /* ... and their instance properties */
    int64_t start_ns, stop_ns; /* START/STOP of its ancestors, intersected */
};

struct stix_pattern {
    char *text;
    size_t len;
    struct arena arena; /* constants, LIKE patterns */
    struct sp_onode *on;
    uint32_t non, oroot;
    uint32_t *okids;
    uint32_t nokids;
    struct sp_leaf *leaves;
    uint32_t nleaves;
    struct sp_cnode *cn;
    uint32_t ncn;
    uint32_t *ckids;
    uint32_t nckids;
    struct sp_test *tests;
    uint32_t ntests;
    struct sp_const *consts;
    uint32_t nconsts;
    uint32_t min_obs, max_obs; /* observations a match needs: fewest, most */
    bool stateful;             /* AND / FOLLOWEDBY / REPEATS between observations */
};

/* ---- evaluation (stix-pattern-eval.c) ---------------------------------- */

/* Observation expression li of p on the event c points at. */
bool sp_eval_leaf(struct sp_ctx *c, const struct stix_pattern *p, uint32_t li);

/* Parse an event value as a number (decimal, "0x" hex, or a fraction). */
bool sp_parse_number(const char *s, size_t n, bool *is_int, int64_t *i, double *f);
/* Parse an event value as a time: RFC 3339, or epoch seconds. */
bool sp_parse_time(const char *s, size_t n, int64_t *out);
/* SQL LIKE: '%' any run, '_' one character (UTF-8 aware). */
bool sp_like(const char *s, size_t n, const char *pat, size_t m);

/* All values of prop in the event (any object), at most max. */
uint32_t sp_prop_values(struct sp_ctx *c, uint32_t prop, struct sp_val *out, uint32_t max);
/* The exact-match key of a constant of an = / IN test on pr (false: the
 * constant has none: a network, a float, a time ...), and of an event value;
 * a test can hold only if the two keys are equal. buf holds the key text. */
bool sp_const_key(const struct sp_prop *pr, const struct sp_const *k, char *buf, size_t cap,
                  struct sp_val *key);
bool sp_value_key(struct sp_ctx *c, const struct sp_prop *pr, struct sp_val v, char *buf,
                  size_t cap, struct sp_val *key);

/* Match limits of MATCHES (a regex that runs into them does not match). */
#define SP_RE_MATCH_LIMIT 200000
#define SP_RE_DEPTH_LIMIT 5000

#endif
