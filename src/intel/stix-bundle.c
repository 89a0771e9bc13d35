/*
 * stix-bundle.c - STIX 2.1 bundles into an ioc_batch; see stix-bundle.h.
 *
 * Layout:
 *   - Pass 1 walks the objects array (intel-json.h), parses one object at
 *     a time and keeps only what indicators need from the others: every id
 *     met becomes a node (strmap id -> node); a node remembers its latest
 *     version (`modified`), and for indicators where that version's text
 *     is, for marking-definitions the TLP level they stand for, for
 *     intrusion sets, malware, campaigns, threat actors and tools their
 *     name. Relationships become edges between nodes (their latest
 *     version; revoked ones are dropped).
 *   - Between the passes the edges are turned into adjacency lists (both
 *     directions).
 *   - Pass 2 parses each indicator's latest version again, in bundle
 *     order, and turns it into one meta and one IOC_PATTERN ioc. Parsing
 *     twice costs time, not memory: nothing of pass 1's DOMs is kept.
 *
 * Related names come from a small walk of the relationship graph, bounded
 * in depth and in the number of names (see related_names()).
 */
#include "intel/stix-bundle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/json-scan.h"
#include "intel/stix-tlp.h"
#include "util/strmap.h"
#include "util/timeconv.h"
#include "util/uuid.h"

#define NAME_MAX_BYTES    512       /* names and descriptions kept in a meta */
#define PATTERN_MAX_BYTES (1 << 20) /* a pattern longer than this is refused */
#define RELATED_MAX       32        /* names kept per indicator */
#define ATTRIBUTION_DEPTH 3

/* What pass 1 does with an object, by type. */
enum kind {
    K_NONE = 0,  /* only referenced (or an unknown type) */
    K_INDICATOR, /* imported in pass 2 */
    K_RELATIONSHIP,
    K_MARKING, /* may stand for a TLP level */
    K_ACTOR,   /* campaign, intrusion-set, threat-actor: named in related_json */
    K_CODE,    /* malware, tool: named in related_json */
    K_OTHER,   /* any other STIX 2.1 type */
};

static const struct {
    const char *type;
    enum kind kind;
} stix_types[] = {
    {"indicator", K_INDICATOR},
    {"relationship", K_RELATIONSHIP},
    {"marking-definition", K_MARKING},
    {"campaign", K_ACTOR},
    {"intrusion-set", K_ACTOR},
    {"threat-actor", K_ACTOR},
    {"malware", K_CODE},
    {"tool", K_CODE},
    /* the rest of STIX 2.1: SDOs, SROs, SCOs, meta objects */
    {"attack-pattern", K_OTHER},
    {"course-of-action", K_OTHER},
    {"grouping", K_OTHER},
    {"identity", K_OTHER},
    {"incident", K_OTHER},
    {"infrastructure", K_OTHER},
    {"location", K_OTHER},
    {"malware-analysis", K_OTHER},
    {"note", K_OTHER},
    {"observed-data", K_OTHER},
    {"opinion", K_OTHER},
    {"report", K_OTHER},
    {"vulnerability", K_OTHER},
    {"sighting", K_OTHER},
    {"artifact", K_OTHER},
    {"autonomous-system", K_OTHER},
    {"directory", K_OTHER},
    {"domain-name", K_OTHER},
    {"email-addr", K_OTHER},
    {"email-message", K_OTHER},
    {"file", K_OTHER},
    {"ipv4-addr", K_OTHER},
    {"ipv6-addr", K_OTHER},
    {"mac-addr", K_OTHER},
    {"mutex", K_OTHER},
    {"network-traffic", K_OTHER},
    {"process", K_OTHER},
    {"software", K_OTHER},
    {"url", K_OTHER},
    {"user-account", K_OTHER},
    {"windows-registry-key", K_OTHER},
    {"x509-certificate", K_OTHER},
    {"language-content", K_OTHER},
    {"extension-definition", K_OTHER},
};

/* The kind of a type, and the table's copy of its name (NULL: unknown). */
static enum kind kind_of_type(const char *type, const char **name)
{
    for (size_t i = 0; i < sizeof(stix_types) / sizeof(stix_types[0]); i++)
        if (!strcmp(type, stix_types[i].type)) {
            *name = stix_types[i].type;
            return stix_types[i].kind;
        }
    *name = NULL;
    return K_NONE;
}

struct node {
    const char *id; /* the map's copy */
    const char *name;
    const char *type; /* the object's type (static), NULL until defined */
    enum kind kind;
    bool defined; /* an object with this id was read */
    int tlp;      /* markings: the level, or -1 */
    int64_t modified;
    struct intel_json_elem elem; /* indicators: the latest version's text */
    uint32_t adj_start, adj_n;
    uint32_t stamp; /* related_names() walk marker */
};

struct edge {
    uint32_t src, dst;
    const char *type; /* relationship_type */
    int64_t modified;
    bool revoked;
};

struct adj {
    uint32_t other;
    uint32_t edge;
    bool out; /* this node is the edge's source */
};

struct rd {
    struct ioc_batch *b;
    const char *where;
    const char *s;
    size_t n;
    struct intel_json_limits lim;
    struct stix_read_stats *st;
    struct arena scratch; /* lives for the read: names, relationship types */
    struct arena tmp;     /* reset after each object of pass 1 and indicator of pass 2 */
    struct strmap ids;    /* object id -> node index */
    struct node *nodes;
    size_t nnodes, capnodes;
    struct strmap rels; /* relationship id -> edge index */
    struct edge *edges;
    size_t nedges, capedges;
    struct adj *adj;
    uint32_t stamp;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

static uint32_t node_of(struct rd *r, const char *id)
{
    bool found;
    uint64_t *v = strmap_put(&r->ids, id, strlen(id), &found);
    if (found)
        return (uint32_t)*v;
    r->nodes = grow(r->nodes, &r->capnodes, r->nnodes + 1, sizeof(*r->nodes));
    struct node *nd = &r->nodes[r->nnodes];
    memset(nd, 0, sizeof(*nd));
    nd->id = strmap_key_of(&r->ids, v);
    nd->tlp = -1;
    nd->modified = TIME_NONE;
    *v = r->nnodes;
    return (uint32_t)r->nnodes++;
}

/* "type--UUID" with a lower-case type of letters, digits and hyphens. */
static bool id_syntax_ok(const char *id, const char *type)
{
    const char *sep = strstr(id, "--");
    if (!sep || sep == id)
        return false;
    for (const char *p = id; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    if (type && (strlen(type) != (size_t)(sep - id) || memcmp(id, type, (size_t)(sep - id))))
        return false;
    uint8_t u[16];
    return uuid_parse(sep + 2, strlen(sep + 2), u) == 0;
}

/* A whole RFC 3339 timestamp. */
static bool parse_ts(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    return n && time_parse_iso(s, n, NULL, out) == n;
}

/* Where an object is, for problems: its id when it has a usable one, else
 * its index and line. */
static void where_of(const struct rd *r, const struct intel_json_elem *e, const char *id, char *w,
                     size_t wn)
{
    if (id && *id && strlen(id) <= 200)
        snprintf(w, wn, "%.300s: %s", r->where, id);
    else
        snprintf(w, wn, "%.300s:%zu: objects[%zu]", r->where, e->line, e->index);
}

/* The time of a version: `modified`, else `created`, else TIME_NONE. */
static int64_t version_from(const char *modified, const char *created)
{
    int64_t t;
    if (modified && parse_ts(modified, &t))
        return t;
    if (created && parse_ts(created, &t))
        return t;
    return TIME_NONE;
}

static int64_t version_of(const json_t *o)
{
    return version_from(intel_json_str(o, "modified"), intel_json_str(o, "created"));
}

/* Is this version of node nd newer than the one kept? Counts the loser. */
static bool take_version(struct rd *r, struct node *nd, int64_t modified)
{
    if (nd->defined && modified <= nd->modified) {
        r->st->superseded++;
        return false;
    }
    if (nd->defined)
        r->st->superseded++;
    nd->defined = true;
    nd->modified = modified;
    return true;
}

/* The TLP level a marking-definition stands for, or -1: one of the fixed
 * ids, a TLP 1.0 style definition, or any extension with "tlp_2_0". */
static int marking_tlp(const char *id, const json_t *o)
{
    int t = stix_tlp_of_marking_id(id);
    if (t >= 0)
        return t;
    const char *dt = intel_json_str(o, "definition_type");
    if (dt && !strcmp(dt, "tlp")) {
        const char *w = intel_json_str(json_object_get(o, "definition"), "tlp");
        if (w && (t = tlp_by_name(w)) >= 0)
            return t;
    }
    const json_t *ext = json_object_get(o, "extensions");
    if (json_is_object(ext)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)ext, k, v)
        {
            const char *w = intel_json_str(v, "tlp_2_0");
            if (w && (t = tlp_by_name(w)) >= 0)
                return t;
        }
    }
    return -1;
}

/* Record a relationship's latest version. False when it is malformed. */
static bool pass1_relationship(struct rd *r, const json_t *o, const char *id, const char *w)
{
    const char *src = intel_json_str(o, "source_ref");
    const char *dst = intel_json_str(o, "target_ref");
    const char *type = intel_json_str(o, "relationship_type");
    if (!src || !dst || !type || !id_syntax_ok(src, NULL) || !id_syntax_ok(dst, NULL)) {
        r->st->malformed++;
        ioc_batch_problem(r->b, w,
                          "relationship without a relationship_type, source_ref and target_ref "
                          "(identifiers); skipped");
        return false;
    }
    const json_t *rev = json_object_get(o, "revoked");
    int64_t modified = version_of(o);
    bool found;
    uint64_t *slot = strmap_put(&r->rels, id, strlen(id), &found);
    struct edge *e;
    if (found) {
        e = &r->edges[*slot];
        if (modified <= e->modified) {
            r->st->superseded++;
            return true;
        }
        r->st->superseded++;
    } else {
        *slot = r->nedges;
        r->edges = grow(r->edges, &r->capedges, r->nedges + 1, sizeof(*r->edges));
        e = &r->edges[r->nedges++];
    }
    uint32_t s = node_of(r, src), d = node_of(r, dst);
    e->src = s;
    e->dst = d;
    e->type = arena_strndup(&r->scratch, type, strlen(type));
    e->modified = modified;
    e->revoked = json_is_true(rev);
    return true;
}

/* Note where the latest version of an indicator is (pass 2 reads it). */
static void record_indicator(struct rd *r, const struct intel_json_elem *e, const char *id,
                             int64_t version)
{
    uint32_t ni = node_of(r, id); /* may move r->nodes */
    struct node *nd = &r->nodes[ni];
    nd->kind = K_INDICATOR;
    nd->type = "indicator";
    if (take_version(r, nd, version))
        nd->elem = *e;
}

/* Pass 1 over one parsed object. */
static void pass1_object(struct rd *r, const struct intel_json_elem *e, const json_t *o)
{
    char w[600];
    const char *type = intel_json_str(o, "type");
    const char *id = intel_json_str(o, "id");
    if (!type) {
        where_of(r, e, id, w, sizeof(w));
        r->st->malformed++;
        ioc_batch_problem(r->b, w, "object without a type (string); skipped");
        return;
    }
    const char *tname;
    enum kind k = kind_of_type(type, &tname);
    if (k == K_NONE) {
        r->st->unknown++;
        return;
    }
    where_of(r, e, id, w, sizeof(w));
    if (!id || !id_syntax_ok(id, type)) {
        r->st->malformed++;
        ioc_batch_problem(r->b, w, "%s without a valid id (%s--UUID); skipped", type, type);
        return;
    }
    if (k == K_RELATIONSHIP) {
        if (pass1_relationship(r, o, id, w))
            r->st->other++;
        return;
    }
    if (k != K_INDICATOR)
        r->st->other++;
    if (k == K_INDICATOR) {
        record_indicator(r, e, id, version_of(o));
        return;
    }
    uint32_t ni = node_of(r, id); /* may move r->nodes */
    struct node *nd = &r->nodes[ni];
    nd->kind = k;
    nd->type = tname;
    switch (k) {
    case K_MARKING:
        if (!nd->defined) {
            nd->defined = true;
            nd->tlp = marking_tlp(id, o);
        }
        break;
    case K_ACTOR:
    case K_CODE:
        if (take_version(r, nd, version_of(o))) {
            const char *name = intel_json_str(o, "name");
            nd->name = name && *name ? arena_strndup(&r->scratch, name, strlen(name)) : NULL;
        }
        break;
    default:
        nd->defined = true;
        break;
    }
}

/* Parse one element. Returns the object (the caller decrefs), or NULL
 * when it is not one (then reported, when report is set). */
static json_t *parse_elem(struct rd *r, const struct intel_json_elem *e, bool report)
{
    char w[600], why[256];
    if (e->too_deep) {
        if (report) {
            where_of(r, e, NULL, w, sizeof(w));
            r->st->malformed++;
            ioc_batch_problem(r->b, w, "nested deeper than %d levels; skipped", r->lim.max_depth);
        }
        return NULL;
    }
    /* the cursor measured its depth already (too_deep) */
    json_t *o = intel_json_parse(r->s + e->off, e->len, 0, e->line, why, sizeof(why));
    if (!o || !json_is_object(o)) {
        if (report) {
            where_of(r, e, NULL, w, sizeof(w));
            r->st->malformed++;
            ioc_batch_problem(r->b, w, "%s; skipped", o ? "not a JSON object" : why);
        }
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * Pass 1 for an indicator without building its DOM: indicators are most of
 * a bundle and pass 2 parses them anyway, so here only their top-level
 * type, id, modified and created are picked from the text. Returns false
 * when the object is not an indicator or its top level cannot be walked;
 * it then goes through the full parse (which reports what is wrong).
 */
static bool pass1_indicator_fast(struct rd *r, const struct intel_json_elem *e)
{
    struct json_iter it;
    if (json_iter_init(&it, str_make(r->s + e->off, e->len)) < 0 || it.close != '}')
        return false;
    struct str key, val, type = {0}, id = {0}, modified = {0}, created = {0};
    int rc;
    while ((rc = json_iter_next(&it, &key, &val)) > 0) {
        struct str *slot = json_key_is(key, "type")       ? &type
                           : json_key_is(key, "id")       ? &id
                           : json_key_is(key, "modified") ? &modified
                           : json_key_is(key, "created")  ? &created
                                                          : NULL;
        if (slot && !slot->p)
            *slot = val;
    }
    if (rc < 0 || !type.p || !str_eq(type, "\"indicator\""))
        return false;
    struct str ids, ms = {0}, cs = {0};
    if (!id.p || json_raw_type(id) != VT_STRING || json_string_decode(&r->tmp, id, &ids) < 0 ||
        (modified.p && json_raw_type(modified) == VT_STRING &&
         json_string_decode(&r->tmp, modified, &ms) < 0) ||
        (created.p && json_raw_type(created) == VT_STRING &&
         json_string_decode(&r->tmp, created, &cs) < 0))
        return false;
    const char *idz = arena_strndup(&r->tmp, ids.p, ids.n);
    if (strlen(idz) != ids.n || !id_syntax_ok(idz, "indicator"))
        return false; /* the full parse reports it */
    const char *mz = ms.p ? arena_strndup(&r->tmp, ms.p, ms.n) : NULL;
    const char *cz = cs.p ? arena_strndup(&r->tmp, cs.p, cs.n) : NULL;
    record_indicator(r, e, idz, version_from(mz, cz));
    arena_reset(&r->tmp);
    return true;
}

static void pass1_elem(struct rd *r, const struct intel_json_elem *e)
{
    r->st->objects++;
    if (!e->too_deep && pass1_indicator_fast(r, e))
        return;
    arena_reset(&r->tmp);
    json_t *o = parse_elem(r, e, true);
    if (o)
        pass1_object(r, e, o);
    json_decref(o);
}

/* ---- between the passes ----------------------------------------------- */

static void build_adjacency(struct rd *r)
{
    size_t total = 0;
    for (size_t i = 0; i < r->nedges; i++) {
        const struct edge *e = &r->edges[i];
        if (e->revoked)
            continue;
        r->nodes[e->src].adj_n++;
        r->nodes[e->dst].adj_n++;
        total += 2;
    }
    r->adj = malloc((total ? total : 1) * sizeof(*r->adj));
    if (!r->adj)
        abort();
    uint32_t at = 0;
    for (size_t i = 0; i < r->nnodes; i++) {
        r->nodes[i].adj_start = at;
        at += r->nodes[i].adj_n;
        r->nodes[i].adj_n = 0;
    }
    for (size_t i = 0; i < r->nedges; i++) {
        const struct edge *e = &r->edges[i];
        if (e->revoked)
            continue;
        struct node *s = &r->nodes[e->src], *d = &r->nodes[e->dst];
        r->adj[s->adj_start + s->adj_n++] = (struct adj){e->dst, (uint32_t)i, true};
        r->adj[d->adj_start + d->adj_n++] = (struct adj){e->src, (uint32_t)i, false};
    }
}

/* ---- pass 2 ----------------------------------------------------------- */

struct names {
    const char *v[RELATED_MAX];
    uint32_t node[RELATED_MAX];
    size_t n;
};

static void names_add(struct rd *r, struct names *nm, uint32_t node)
{
    struct node *nd = &r->nodes[node];
    if (nd->stamp == r->stamp)
        return;
    nd->stamp = r->stamp;
    if (!nd->name || nm->n >= RELATED_MAX)
        return;
    for (size_t i = 0; i < nm->n; i++)
        if (!strcmp(nm->v[i], nd->name))
            return;
    nm->node[nm->n] = node;
    nm->v[nm->n++] = nd->name;
}

static bool is_attribution(const char *t)
{
    return !strcmp(t, "attributed-to") || !strcmp(t, "authored-by");
}

/* From the names nm->v[from..], follow attribution edges towards the
 * actor (campaign -> intrusion set -> threat actor, malware -> author),
 * and backwards only to intrusion sets (the sets attributed to a threat
 * actor), ATTRIBUTION_DEPTH hops. */
static void follow_attribution(struct rd *r, struct names *nm, size_t from)
{
    size_t lo = from;
    for (int depth = 0; depth < ATTRIBUTION_DEPTH && lo < nm->n; depth++) {
        size_t hi = nm->n;
        for (size_t i = lo; i < hi; i++) {
            const struct node *x = &r->nodes[nm->node[i]];
            for (uint32_t k = 0; k < x->adj_n; k++) {
                const struct adj *a = &r->adj[x->adj_start + k];
                const struct node *o = &r->nodes[a->other];
                if (o->kind != K_ACTOR || !is_attribution(r->edges[a->edge].type))
                    continue;
                if (a->out || !strcmp(o->type, "intrusion-set"))
                    names_add(r, nm, a->other);
            }
        }
        lo = hi;
    }
}

/*
 * The names an indicator is related to:
 *   1. every campaign, intrusion set, threat actor, malware or tool that a
 *      relationship of any type links directly to the indicator (in either
 *      direction: "indicates", "related-to", ...);
 *   2. from those, `attributed-to` and `authored-by` edges towards the
 *      actor, up to three hops (campaign -> intrusion set -> threat
 *      actor; malware -> its author), and from a threat actor back to
 *      the intrusion sets attributed to it;
 *   3. only when no campaign, intrusion set or threat actor was found: the
 *      ones that `use` the malware or tools found, and their attribution.
 * The order is the order of discovery (bundle order of relationships).
 */
static void related_names(struct rd *r, uint32_t ind, struct names *nm)
{
    nm->n = 0;
    if (++r->stamp == 0)
        r->stamp = 1; /* a wrapped counter would meet stale marks */
    r->nodes[ind].stamp = r->stamp;
    const struct node *x = &r->nodes[ind];
    for (uint32_t k = 0; k < x->adj_n; k++) {
        uint32_t o = r->adj[x->adj_start + k].other;
        if (r->nodes[o].kind == K_ACTOR || r->nodes[o].kind == K_CODE)
            names_add(r, nm, o);
    }
    follow_attribution(r, nm, 0);
    for (size_t i = 0; i < nm->n; i++)
        if (r->nodes[nm->node[i]].kind == K_ACTOR)
            return;
    size_t before = nm->n;
    for (size_t i = 0; i < before; i++) {
        const struct node *c = &r->nodes[nm->node[i]];
        for (uint32_t k = 0; k < c->adj_n; k++) {
            const struct adj *a = &r->adj[c->adj_start + k];
            if (!a->out && r->nodes[a->other].kind == K_ACTOR &&
                !strcmp(r->edges[a->edge].type, "uses"))
                names_add(r, nm, a->other);
        }
    }
    follow_attribution(r, nm, before);
}

/* Add the strings of array member key to the list; report other values. */
static void strings_into(struct rd *r, const json_t *o, const char *key, struct intel_jlist *l,
                         const char *w)
{
    const json_t *a = json_object_get(o, key);
    if (!a)
        return;
    if (!json_is_array(a)) {
        ioc_batch_problem(r->b, w, "%s is not a list; ignored", key);
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && json_string_length(v))
            intel_jlist_add(l, json_string_value(v), json_string_length(v));
        else
            ioc_batch_problem(r->b, w, "%s[%zu] is not a string; ignored", key, i);
    }
}

/* The TLP level a marking id stands for: a marking-definition of the
 * bundle, or one of the fixed ids; -1 for none. */
static int marking_level(struct rd *r, const char *id)
{
    uint64_t *slot = strmap_get(&r->ids, id, strlen(id));
    if (slot && r->nodes[*slot].tlp >= 0)
        return r->nodes[*slot].tlp;
    return stix_tlp_of_marking_id(id);
}

/* The strictest TLP level among the markings of o (object and granular). */
static enum tlp tlp_of(struct rd *r, const json_t *o)
{
    int best = TLP_UNMARKED;
    const json_t *refs = json_object_get(o, "object_marking_refs");
    size_t i;
    const json_t *v;
    json_array_foreach(refs, i, v)
    {
        if (!json_is_string(v))
            continue;
        int t = marking_level(r, json_string_value(v));
        if (t > best)
            best = t;
    }
    const json_t *gm = json_object_get(o, "granular_markings");
    json_array_foreach(gm, i, v)
    {
        const char *id = intel_json_str(v, "marking_ref");
        int t = id ? marking_level(r, id) : -1;
        if (t > best)
            best = t;
    }
    return (enum tlp)best;
}

/* Copy at most NAME_MAX_BYTES of s, cut at a UTF-8 character boundary. */
static const char *clip_name(struct rd *r, const char *s)
{
    size_t n = strlen(s);
    if (n <= NAME_MAX_BYTES)
        return s;
    n = NAME_MAX_BYTES;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return arena_strndup(&r->tmp, s, n);
}

/* A timestamp property: 0 absent (*t = TIME_NONE), 1 read, -1 malformed. */
static int ts_prop(const json_t *o, const char *key, int64_t *t)
{
    *t = TIME_NONE;
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || !parse_ts(json_string_value(v), t))
        return -1;
    return 1;
}

static void pass2_indicator(struct rd *r, uint32_t idx)
{
    struct node *nd = &r->nodes[idx];
    char w[600];
    /* pass 1 may not have parsed it: malformed text is reported here */
    json_t *o = parse_elem(r, &nd->elem, true);
    if (!o)
        return;
    r->st->indicators++;
    where_of(r, &nd->elem, nd->id, w, sizeof(w));
    struct ioc_meta m;
    ioc_meta_init(&m);
    struct intel_jlist labels, kc, rel;
    intel_jlist_init(&labels, &r->tmp);
    intel_jlist_init(&kc, &r->tmp);
    intel_jlist_init(&rel, &r->tmp);

    const json_t *pat = json_object_get(o, "pattern");
    const json_t *ptype = json_object_get(o, "pattern_type");
    const json_t *rev = json_object_get(o, "revoked");
    const char *bad = NULL;
    if (!json_is_string(pat) || !json_string_length(pat))
        bad = "no pattern (a non-empty string)";
    else if (json_string_length(pat) > PATTERN_MAX_BYTES)
        bad = "a pattern longer than 1 MiB";
    else if (ptype && !json_is_string(ptype))
        bad = "pattern_type is not a string";
    else if (rev && !json_is_boolean(rev))
        bad = "revoked is not a boolean";
    else if (ts_prop(o, "valid_from", &m.valid_from) < 0)
        bad = "valid_from is not an RFC 3339 timestamp";
    else if (ts_prop(o, "valid_until", &m.valid_until) < 0)
        bad = "valid_until is not an RFC 3339 timestamp";
    else if (m.valid_from != TIME_NONE && m.valid_until != TIME_NONE &&
             m.valid_until <= m.valid_from)
        bad = "valid_until is not after valid_from";
    if (bad) {
        r->st->malformed++;
        ioc_batch_problem(r->b, w, "indicator with %s; skipped", bad);
        goto out;
    }
    if (ptype && strcmp(json_string_value(ptype), "stix")) {
        r->st->skipped_pattern_type++;
        ioc_batch_problem(r->b, w,
                          "pattern_type '%.60s' is not imported (only STIX patterns are); skipped",
                          json_string_value(ptype));
        goto out;
    }

    m.feed = r->b->source ? r->b->source : r->where;
    m.ref = nd->id;
    const char *name = intel_json_str(o, "name");
    if (!name || !*name)
        name = intel_json_str(o, "description");
    m.name = name && *name ? clip_name(r, name) : NULL;
    m.revoked = json_is_true(rev);
    const json_t *conf = json_object_get(o, "confidence");
    if (json_is_integer(conf) && json_integer_value(conf) >= 0 && json_integer_value(conf) <= 100)
        m.confidence = (int)json_integer_value(conf);
    else if (conf)
        ioc_batch_problem(r->b, w, "confidence is not an integer from 0 to 100; ignored");
    m.tlp = tlp_of(r, o);

    strings_into(r, o, "labels", &labels, w);
    strings_into(r, o, "indicator_types", &labels, w);
    m.labels_json = intel_jlist_json(&labels);

    const json_t *phases = json_object_get(o, "kill_chain_phases");
    if (phases && !json_is_array(phases))
        ioc_batch_problem(r->b, w, "kill_chain_phases is not a list; ignored");
    size_t i;
    const json_t *ph;
    json_array_foreach(phases, i, ph)
    {
        const char *chain = intel_json_str(ph, "kill_chain_name");
        const char *phase = intel_json_str(ph, "phase_name");
        if (!chain || !phase || strlen(chain) > 200 || strlen(phase) > 200) {
            ioc_batch_problem(
                r->b, w, "kill_chain_phases[%zu] lacks kill_chain_name or phase_name; ignored", i);
            continue;
        }
        char both[420];
        int len = snprintf(both, sizeof(both), "%s:%s", chain, phase);
        intel_jlist_add(&kc, both, (size_t)len);
    }
    m.kill_chain_json = intel_jlist_json(&kc);

    struct names nm;
    related_names(r, idx, &nm);
    for (size_t k = 0; k < nm.n; k++)
        intel_jlist_add(&rel, nm.v[k], strlen(nm.v[k]));
    m.related_json = intel_jlist_json(&rel);

    uint32_t mi = ioc_batch_add_meta(r->b, &m);
    if (ioc_batch_add(r->b, IOC_PATTERN, json_string_value(pat), json_string_length(pat), mi, true,
                      w) == 0) {
        r->st->imported++;
        if (m.revoked)
            r->st->revoked++;
    } else {
        r->st->malformed++;
    }
out:
    json_decref(o);
    arena_reset(&r->tmp);
}

static int cmp_by_index(const void *a, const void *b, void *nodes)
{
    const struct node *n = nodes;
    size_t x = n[*(const uint32_t *)a].elem.index, y = n[*(const uint32_t *)b].elem.index;
    return x < y ? -1 : x > y;
}

/* ---- the read --------------------------------------------------------- */

/* Pass 1 over every element of the array at s[at], or over the single
 * object when at is the object itself (single). */
static int walk_pass1(struct rd *r, size_t at, bool single)
{
    char w[600];
    if (single) {
        struct intel_json_elem e = {
            .off = at, .len = r->n - at, .index = 0, .line = intel_json_line_of(r->s, r->n, at)};
        pass1_elem(r, &e);
        return 0;
    }
    struct intel_json_cursor c;
    if (intel_json_array_open(&c, r->s, r->n, at, r->lim.max_depth) < 0)
        return -EINVAL;
    struct intel_json_elem e;
    int rc;
    while ((rc = intel_json_array_next(&c, &e)) > 0)
        pass1_elem(r, &e);
    if (rc < 0) {
        snprintf(w, sizeof(w), "%.300s:%zu", r->where, e.line);
        ioc_batch_problem(r->b, w,
                          "objects[%zu] is malformed or cut short: it and the rest are not read",
                          e.index);
    }
    return 0;
}

int stix_objects_read_ex(const char *json, size_t n, const char *where,
                         const struct stix_read_opts *o, struct ioc_batch *b,
                         struct stix_read_stats *st)
{
    struct stix_read_stats local = {0};
    struct rd r = {.b = b,
                   .where = where ? where : (b->source ? b->source : "stix"),
                   .s = json,
                   .n = n,
                   .lim = intel_json_limits_of(o ? &o->limits : NULL),
                   .st = st ? st : &local};
    if (n > r.lim.max_bytes) {
        ioc_batch_problem(b, r.where, "larger than the limit of %zu bytes; not read",
                          r.lim.max_bytes);
        return -EFBIG;
    }
    size_t at = intel_json_skip_ws(json, n, 0);
    bool single = false;
    if (at < n && json[at] == '{') {
        size_t v;
        int rc = intel_json_member(json, n, at, "objects", &v);
        if (rc == 0) {
            if (v >= n || json[v] != '[') {
                ioc_batch_problem(b, r.where, "\"objects\" is not a list; not read");
                return -EINVAL;
            }
            at = v;
        } else if (rc == -ENOENT) {
            single = true;
        } else {
            ioc_batch_problem(b, r.where, "not a STIX bundle: malformed JSON");
            return -EINVAL;
        }
    } else if (at >= n || json[at] != '[') {
        ioc_batch_problem(b, r.where, "not a STIX bundle: expected a JSON object or list");
        return -EINVAL;
    }
    arena_init(&r.scratch, 64 * 1024);
    arena_init(&r.tmp, 16 * 1024);
    strmap_init(&r.ids);
    strmap_init(&r.rels);
    int rc = walk_pass1(&r, at, single);
    if (rc == 0) {
        build_adjacency(&r);
        uint32_t *inds = NULL;
        size_t ninds = 0, cap = 0;
        for (size_t i = 0; i < r.nnodes; i++) {
            if (r.nodes[i].kind == K_INDICATOR && r.nodes[i].defined) {
                inds = grow(inds, &cap, ninds + 1, sizeof(*inds));
                inds[ninds++] = (uint32_t)i;
            }
        }
        if (ninds)
            qsort_r(inds, ninds, sizeof(*inds), cmp_by_index, r.nodes);
        for (size_t i = 0; i < ninds; i++)
            pass2_indicator(&r, inds[i]);
        free(inds);
    } else {
        ioc_batch_problem(b, r.where, "not a STIX bundle: malformed JSON");
    }
    free(r.adj);
    free(r.nodes);
    free(r.edges);
    strmap_free(&r.ids);
    strmap_free(&r.rels);
    arena_free(&r.scratch);
    arena_free(&r.tmp);
    return rc;
}

int stix_objects_read(const char *json, size_t n, const char *where, struct ioc_batch *b)
{
    return stix_objects_read_ex(json, n, where, NULL, b, NULL);
}

int stix_bundle_read_ex(const char *path, const struct stix_read_opts *o, struct ioc_batch *b,
                        struct stix_read_stats *st)
{
    struct intel_json_limits lim = intel_json_limits_of(o ? &o->limits : NULL);
    char *text;
    size_t n;
    int rc = intel_file_load(path, lim.max_bytes, &text, &n);
    if (rc == -EFBIG) {
        ioc_batch_problem(b, path, "larger than the limit of %zu bytes; not read", lim.max_bytes);
        return rc;
    }
    if (rc < 0) {
        ioc_batch_problem(b, path, "cannot read: %s", strerror(-rc));
        return rc;
    }
    rc = stix_objects_read_ex(text, n, path, o, b, st);
    free(text);
    return rc;
}

int stix_bundle_read(const char *path, struct ioc_batch *b)
{
    return stix_bundle_read_ex(path, NULL, b, NULL);
}

void stix_read_stats_format(const struct stix_read_stats *st, struct buf *out)
{
    buf_printf(out, "%zu indicator%s imported", st->imported, st->imported == 1 ? "" : "s");
    if (st->revoked)
        buf_printf(out, " (%zu revoked)", st->revoked);
    if (st->skipped_pattern_type)
        buf_printf(out, ", %zu skipped (not a STIX pattern)", st->skipped_pattern_type);
    if (st->malformed)
        buf_printf(out, ", %zu malformed object%s skipped", st->malformed,
                   st->malformed == 1 ? "" : "s");
    if (st->superseded)
        buf_printf(out, ", %zu older version%s ignored", st->superseded,
                   st->superseded == 1 ? "" : "s");
    buf_printf(out, "; %zu object%s read", st->objects, st->objects == 1 ? "" : "s");
    if (st->other)
        buf_printf(out, ", %zu of other STIX types", st->other);
    if (st->unknown)
        buf_printf(out, ", %zu of unknown types", st->unknown);
}
