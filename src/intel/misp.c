/*
 * misp.c - MISP events and feeds into an ioc_batch; see misp.h.
 *
 * Events are parsed one at a time with jansson: a restSearch answer or a
 * list of events is walked with the intel-json cursor, so memory is the
 * input plus one event. Everything an event's attributes share (tags,
 * galaxies, TLP, confidence) is gathered once into a struct shared; an
 * attribute that adds to it gets a meta of its own, and consecutive
 * attributes that end up with equal metadata share one meta.
 *
 * Attribute types kenchi does not match are counted per type over the
 * whole read (a feed is one read) and reported once per type at its end.
 */
#include "intel/misp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strmap.h"
#include "util/timeconv.h"
#include "util/uuid.h"

#define NAME_MAX_BYTES 512

/* The second part of a composite type that is not an indicator. */
#define PART_NONE -1
#define PART_PORT -2 /* "ip-dst|port": the port is dropped */

/* MISP attribute type -> what kenchi matches; composite types ("a|b")
 * give both parts. */
static const struct misp_type {
    const char *name;
    int a, b; /* enum ioc_type, or PART_* for b */
} misp_types[] = {
    {"ip-src", IOC_IP, PART_NONE},
    {"ip-dst", IOC_IP, PART_NONE},
    {"ip-src|port", IOC_IP, PART_PORT},
    {"ip-dst|port", IOC_IP, PART_PORT},
    {"domain", IOC_DOMAIN, PART_NONE},
    {"hostname", IOC_DOMAIN, PART_NONE},
    {"hostname|port", IOC_DOMAIN, PART_PORT},
    {"domain|ip", IOC_DOMAIN, IOC_IP},
    {"url", IOC_URL, PART_NONE},
    {"email", IOC_EMAIL, PART_NONE},
    {"email-src", IOC_EMAIL, PART_NONE},
    {"email-dst", IOC_EMAIL, PART_NONE},
    {"email-reply-to", IOC_EMAIL, PART_NONE},
    {"md5", IOC_MD5, PART_NONE},
    {"sha1", IOC_SHA1, PART_NONE},
    {"sha256", IOC_SHA256, PART_NONE},
    {"filename", IOC_FILENAME, PART_NONE},
    {"filename|md5", IOC_FILENAME, IOC_MD5},
    {"filename|sha1", IOC_FILENAME, IOC_SHA1},
    {"filename|sha256", IOC_FILENAME, IOC_SHA256},
    {"user-agent", IOC_USER_AGENT, PART_NONE},
    {"stix2-pattern", IOC_PATTERN, PART_NONE},
};

/* Galaxy (cluster) types whose values name threat actors, intrusion sets,
 * malware or tools: they go to related_json. Other galaxies (ATT&CK
 * techniques, sectors, countries...) become labels. */
static const char *const related_galaxies[] = {
    "threat-actor",
    "mitre-intrusion-set",
    "mitre-enterprise-attack-intrusion-set",
    "mitre-mobile-attack-intrusion-set",
    "mitre-pre-attack-intrusion-set",
    "microsoft-activity-group",
    "mitre-malware",
    "mitre-enterprise-attack-malware",
    "mitre-mobile-attack-malware",
    "mitre-tool",
    "mitre-enterprise-attack-tool",
    "mitre-mobile-attack-tool",
    "malpedia",
    "tool",
    "ransomware",
    "rat",
    "botnet",
    "backdoor",
    "banker",
    "stealer",
    "exploit-kit",
    "android",
};

/* misp:confidence-level values (the MISP taxonomy's numerical values). */
static const struct {
    const char *value;
    int confidence;
} confidence_levels[] = {
    {"completely-confident", 100},
    {"usually-confident", 75},
    {"fairly-confident", 50},
    {"rarely-confident", 25},
    {"unconfident", 0},
    {"confidence-cannot-be-evalued", 50},
    {"confidence-cannot-be-evaluated", 50},
};

static const struct misp_type *type_of(const char *name)
{
    for (size_t i = 0; i < sizeof(misp_types) / sizeof(misp_types[0]); i++)
        if (!strcmp(name, misp_types[i].name))
            return &misp_types[i];
    return NULL;
}

static bool is_related_galaxy(const char *type)
{
    for (size_t i = 0; i < sizeof(related_galaxies) / sizeof(related_galaxies[0]); i++)
        if (!strcmp(type, related_galaxies[i]))
            return true;
    return false;
}

int misp_threat_level_confidence(long long id)
{
    switch (id) {
    case 1:
        return 85;
    case 2:
        return 50;
    case 3:
        return 15;
    default:
        return -1;
    }
}

/* One read: a file, a buffer, or a whole feed. */
struct mr {
    struct ioc_batch *b;
    struct intel_json_limits lim;
    bool unpublished_detect;
    struct misp_read_stats *st;
    struct arena tmp;          /* reset after each event */
    struct strmap unsupported; /* type -> attributes skipped */
    struct strmap partly;      /* "filename|x" type -> attributes of which only the name is used */
    int64_t first_meta;        /* metas from this index on were added by this read */
};

/* What the attributes of an event (or one attribute) share. */
struct shared {
    struct intel_jlist labels, related;
    const char *labels_json, *related_json; /* the lists' text, by shared_done() */
    int tlp;                                /* -1: none */
    int confidence;                         /* -1: none */
    int64_t first_seen, last_seen;
};

static void shared_init(struct mr *r, struct shared *s)
{
    intel_jlist_init(&s->labels, &r->tmp);
    intel_jlist_init(&s->related, &r->tmp);
    s->tlp = -1;
    s->confidence = -1;
    s->first_seen = s->last_seen = TIME_NONE;
    s->labels_json = s->related_json = NULL;
}

/* Make the lists' text, once for all the attributes that share them. */
static void shared_done(struct shared *s)
{
    s->labels_json = intel_jlist_json(&s->labels);
    s->related_json = intel_jlist_json(&s->related);
}

/* "misp-galaxy:TYPE=\"VALUE\"" -> type and value slices; false if not. */
static bool galaxy_tag(const char *tag, const char **type, size_t *tn, const char **val, size_t *vn)
{
    if (strncmp(tag, "misp-galaxy:", 12))
        return false;
    const char *t = tag + 12;
    const char *eq = strchr(t, '=');
    if (!eq || eq == t)
        return false;
    const char *v = eq + 1;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        v++, n -= 2;
    if (!n)
        return false;
    *type = t;
    *tn = (size_t)(eq - t);
    *val = v;
    *vn = n;
    return true;
}

static void tags_into(struct mr *r, const json_t *tags, struct shared *s)
{
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *name = intel_json_str(t, "name");
        if (!name || !*name)
            continue;
        if (!strncasecmp(name, "tlp:", 4)) {
            int level = tlp_by_name(name);
            if (level >= 0) {
                if (level > s->tlp)
                    s->tlp = level;
                continue;
            }
        }
        if (!strncmp(name, "misp:confidence-level=", 22)) {
            const char *v = name + 22;
            size_t n = strlen(v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                v++, n -= 2;
            for (size_t k = 0; k < sizeof(confidence_levels) / sizeof(confidence_levels[0]); k++)
                if (strlen(confidence_levels[k].value) == n &&
                    !memcmp(v, confidence_levels[k].value, n))
                    s->confidence = confidence_levels[k].confidence;
            continue;
        }
        const char *gt, *gv;
        size_t gtn, gvn;
        if (galaxy_tag(name, &gt, &gtn, &gv, &gvn)) {
            char type[64];
            if (gtn < sizeof(type)) {
                memcpy(type, gt, gtn);
                type[gtn] = '\0';
                if (is_related_galaxy(type)) {
                    intel_jlist_add(&s->related, gv, gvn);
                    continue;
                }
            }
        }
        intel_jlist_add(&s->labels, name, strlen(name));
    }
}

static void galaxies_into(struct mr *r, const json_t *galaxies, struct shared *s)
{
    size_t i, k;
    const json_t *g, *c;
    json_array_foreach(galaxies, i, g)
    {
        const char *gtype = intel_json_str(g, "type");
        json_array_foreach(json_object_get(g, "GalaxyCluster"), k, c)
        {
            const char *value = intel_json_str(c, "value");
            const char *ctype = intel_json_str(c, "type");
            if (!ctype)
                ctype = gtype;
            if (!value || !*value || !ctype)
                continue;
            if (is_related_galaxy(ctype)) {
                intel_jlist_add(&s->related, value, strlen(value));
            } else {
                const char *tag = intel_json_str(c, "tag_name");
                char made[600];
                if (!tag) {
                    snprintf(made, sizeof(made), "misp-galaxy:%.60s=\"%.500s\"", ctype, value);
                    tag = made;
                }
                intel_jlist_add(&s->labels, tag, strlen(tag));
            }
        }
    }
}

/* A whole ISO 8601 time: 1 read, 0 absent or null, -1 malformed. */
static int seen_prop(const json_t *o, const char *key, int64_t *t)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (!n)
        return 0;
    return time_parse_iso(s, n, NULL, t) == n ? 1 : -1;
}

/* first_seen / last_seen of an attribute or object into s (kept when
 * absent); malformed ones are reported and ignored. */
static void seen_into(struct mr *r, const json_t *o, struct shared *s, const char *w)
{
    int64_t t;
    int rc = seen_prop(o, "first_seen", &t);
    if (rc > 0)
        s->first_seen = t;
    else if (rc < 0)
        ioc_batch_problem(r->b, w, "first_seen is not an ISO 8601 time; ignored");
    rc = seen_prop(o, "last_seen", &t);
    if (rc > 0)
        s->last_seen = t;
    else if (rc < 0)
        ioc_batch_problem(r->b, w, "last_seen is not an ISO 8601 time; ignored");
}

/* A MISP boolean: JSON true/false, 1/0, "1"/"0", "true"/"false". */
static bool flag(const json_t *o, const char *key, bool def)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (s && (!strcmp(s, "1") || !strcasecmp(s, "true")))
        return true;
    if (s && (!strcmp(s, "0") || !strcasecmp(s, "false")))
        return false;
    return def;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool same_meta(const struct ioc_meta *a, const struct ioc_meta *b)
{
    return same_str(a->feed, b->feed) && same_str(a->ref, b->ref) && same_str(a->name, b->name) &&
           a->confidence == b->confidence && a->tlp == b->tlp && a->valid_from == b->valid_from &&
           a->valid_until == b->valid_until && a->revoked == b->revoked &&
           same_str(a->labels_json, b->labels_json) &&
           same_str(a->kill_chain_json, b->kill_chain_json) &&
           same_str(a->related_json, b->related_json);
}

/* The meta for these fields: one of the last few this read added when it
 * is equal (an event's attributes mostly share the event's), else a new
 * one. */
static uint32_t meta_for(struct mr *r, const struct ioc_meta *m)
{
    for (int64_t i = (int64_t)r->b->nmetas - 1;
         i >= r->first_meta && i >= (int64_t)r->b->nmetas - 8; i--)
        if (same_meta(&r->b->metas[i], m))
            return (uint32_t)i;
    return ioc_batch_add_meta(r->b, m);
}

/* The event's fields that every meta of it carries. */
struct event_info {
    const char *feed, *ref, *name;
    bool detect; /* published (or unpublished events allowed to alert) */
};

/* The meta of an attribute: the event's fields and what it shares. */
static uint32_t meta_of(struct mr *r, const struct event_info *ev, const struct shared *s)
{
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = ev->feed;
    m.ref = ev->ref;
    m.name = ev->name;
    m.confidence = s->confidence;
    m.tlp = s->tlp >= 0 ? (enum tlp)s->tlp : TLP_UNMARKED;
    m.valid_from = s->first_seen;
    m.valid_until = s->last_seen;
    if (m.valid_from != TIME_NONE && m.valid_until != TIME_NONE && m.valid_until <= m.valid_from)
        m.valid_until = TIME_NONE; /* seen once: no end can be told */
    m.labels_json = s->labels_json;
    m.related_json = s->related_json;
    return meta_for(r, &m);
}

static void count_type(struct strmap *map, const char *type)
{
    size_t n = strnlen(type, 80);
    (*strmap_put(map, type, n, NULL))++;
}

static void add_value(struct mr *r, int type, const char *v, size_t n, uint32_t meta, bool detect,
                      bool to_ids, const char *w)
{
    if (ioc_batch_add(r->b, (enum ioc_type)type, v, n, meta, detect, w) == 0) {
        r->st->imported++;
        if (!to_ids)
            r->st->not_ids++;
    } else {
        r->st->refused++;
    }
}

/* One attribute; base is what it shares with its event (and object). */
static void read_attribute(struct mr *r, const json_t *a, const struct event_info *ev,
                           const struct shared *base, const char *wev)
{
    char w[700];
    r->st->attributes++;
    const char *uuid = intel_json_str(a, "uuid");
    if (uuid && strlen(uuid) <= 64)
        snprintf(w, sizeof(w), "%s, attribute %s", wev, uuid);
    else
        snprintf(w, sizeof(w), "%s, attribute", wev);
    const char *type = intel_json_str(a, "type");
    const json_t *jv = json_object_get(a, "value");
    if (!json_is_object(a) || !type || !json_is_string(jv)) {
        r->st->malformed++;
        ioc_batch_problem(r->b, w, "attribute without a type and a value (strings); skipped");
        return;
    }
    if (flag(a, "deleted", false)) {
        r->st->deleted++;
        return;
    }
    const struct misp_type *mt = type_of(type);
    bool name_only = false;
    if (!mt && !strncmp(type, "filename|", 9)) {
        mt = type_of("filename");
        name_only = true;
    }
    if (!mt) {
        r->st->unsupported++;
        count_type(&r->unsupported, type);
        return;
    }
    if (name_only)
        count_type(&r->partly, type);

    /* an attribute's own tags, galaxies and times make a meta of its own */
    struct shared s = *base;
    const json_t *tags = json_object_get(a, "Tag");
    const json_t *gals = json_object_get(a, "Galaxy");
    if (json_array_size(tags) || json_array_size(gals)) {
        struct shared own;
        shared_init(r, &own);
        tags_into(r, tags, &own);
        galaxies_into(r, gals, &own);
        intel_jlist_add_all(&s.labels, &own.labels);
        intel_jlist_add_all(&s.related, &own.related);
        if (own.tlp >= 0)
            s.tlp = own.tlp;
        if (own.confidence >= 0)
            s.confidence = own.confidence;
        shared_done(&s);
    }
    seen_into(r, a, &s, w);
    uint32_t meta = meta_of(r, ev, &s);

    bool to_ids = flag(a, "to_ids", true);
    bool detect = to_ids && ev->detect;
    const char *v = json_string_value(jv);
    size_t n = json_string_length(jv);
    bool composite = name_only || strchr(mt->name, '|') != NULL;
    if (!composite) {
        add_value(r, mt->a, v, n, meta, detect, to_ids, w);
        return;
    }
    const char *bar = memrchr(v, '|', n);
    if (!bar && mt->b == PART_PORT && mt->a == IOC_IP) {
        /* "192.0.2.1:8080" in an ip|port attribute */
        const char *colon = memchr(v, ':', n);
        if (colon && colon == memrchr(v, ':', n))
            bar = colon;
    }
    if (!bar) {
        if (name_only) {
            add_value(r, mt->a, v, n, meta, detect, to_ids, w);
            return;
        }
        r->st->refused++;
        ioc_batch_problem(r->b, w, "%s value without '|' between its two parts; skipped", type);
        return;
    }
    add_value(r, mt->a, v, (size_t)(bar - v), meta, detect, to_ids, w);
    if (mt->b >= 0 && !name_only)
        add_value(r, mt->b, bar + 1, n - (size_t)(bar - v) - 1, meta, detect, to_ids, w);
}

static void clip_into(char *out, size_t outn, const char *s)
{
    size_t n = strlen(s);
    if (n >= outn) {
        n = outn - 1;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* One event object (the value of "Event", or a bare event). */
static void read_event(struct mr *r, const json_t *e, const char *where, size_t line, size_t index,
                       bool in_list)
{
    char w[600];
    const char *uuid = intel_json_str(e, "uuid");
    if (uuid && strlen(uuid) <= 64)
        snprintf(w, sizeof(w), "%.300s: event %s", where, uuid);
    else if (in_list)
        snprintf(w, sizeof(w), "%.300s:%zu: event [%zu]", where, line, index);
    else
        snprintf(w, sizeof(w), "%.300s: event", where);
    const json_t *attrs = json_object_get(e, "Attribute");
    const json_t *objs = json_object_get(e, "Object");
    if (!json_is_object(e) || (attrs && !json_is_array(attrs)) || (objs && !json_is_array(objs)) ||
        (!attrs && !objs && !uuid && !intel_json_str(e, "info"))) {
        r->st->malformed++;
        ioc_batch_problem(r->b, w,
                          "not a MISP event (Attribute and Object must be lists); skipped");
        return;
    }
    r->st->events++;
    if (!uuid)
        ioc_batch_problem(r->b, w, "event without a uuid; read all the same");
    char name[NAME_MAX_BYTES + 1];
    const char *info = intel_json_str(e, "info");
    if (info)
        clip_into(name, sizeof(name), info);
    struct event_info ev = {
        .feed = r->b->source ? r->b->source : where,
        .ref = uuid,
        .name = info && *info ? name : NULL,
        .detect = true,
    };
    if (!flag(e, "published", true)) {
        r->st->unpublished++;
        if (!r->unpublished_detect) {
            ev.detect = false;
            ioc_batch_problem(r->b, w,
                              "event not published: its indicators are kept but do not alert");
        }
    }
    struct shared evs;
    shared_init(r, &evs);
    evs.confidence = misp_threat_level_confidence(intel_json_int(e, "threat_level_id", 4));
    tags_into(r, json_object_get(e, "Tag"), &evs);
    galaxies_into(r, json_object_get(e, "Galaxy"), &evs);
    shared_done(&evs);

    size_t i;
    const json_t *a;
    json_array_foreach(attrs, i, a)
    {
        read_attribute(r, a, &ev, &evs, w);
    }
    const json_t *o;
    json_array_foreach(objs, i, o)
    {
        const json_t *oattrs = json_object_get(o, "Attribute");
        if (!json_is_object(o) || (oattrs && !json_is_array(oattrs))) {
            r->st->malformed++;
            ioc_batch_problem(r->b, w,
                              "Object[%zu] is not an object with an Attribute list; skipped", i);
            continue;
        }
        if (flag(o, "deleted", false)) {
            r->st->deleted += json_array_size(oattrs);
            r->st->attributes += json_array_size(oattrs);
            continue;
        }
        char wo[650];
        const char *ouuid = intel_json_str(o, "uuid");
        const char *oname = intel_json_str(o, "name");
        snprintf(wo, sizeof(wo), "%s, object %.60s%s%.64s", w, oname ? oname : "", ouuid ? " " : "",
                 ouuid ? ouuid : "");
        struct shared os = evs;
        seen_into(r, o, &os, wo);
        size_t k;
        json_array_foreach(oattrs, k, a)
        {
            read_attribute(r, a, &ev, &os, wo);
        }
    }
    arena_reset(&r->tmp);
}

/* An element of a list: {"Event": {...}} or a bare event. */
static void read_event_elem(struct mr *r, const json_t *v, const char *where, size_t line,
                            size_t index, bool in_list)
{
    const json_t *e = json_object_get(v, "Event");
    read_event(r, json_is_object(e) ? e : v, where, line, index, in_list);
}

static void read_list(struct mr *r, const char *s, size_t n, size_t at, const char *where)
{
    struct intel_json_cursor c;
    struct intel_json_elem e;
    char w[400], why[256];
    if (intel_json_array_open(&c, s, n, at, r->lim.max_depth) < 0)
        return;
    int rc;
    while ((rc = intel_json_array_next(&c, &e)) > 0) {
        snprintf(w, sizeof(w), "%.300s:%zu: event [%zu]", where, e.line, e.index);
        if (e.too_deep) {
            r->st->malformed++;
            ioc_batch_problem(r->b, w, "nested deeper than %d levels; skipped", r->lim.max_depth);
            continue;
        }
        /* the cursor measured its depth already (too_deep) */
        json_t *v = intel_json_parse(s + e.off, e.len, 0, e.line, why, sizeof(why));
        if (!v) {
            r->st->malformed++;
            ioc_batch_problem(r->b, w, "%s; skipped", why);
            continue;
        }
        read_event_elem(r, v, where, e.line, e.index, true);
        json_decref(v);
    }
    if (rc < 0) {
        snprintf(w, sizeof(w), "%.300s:%zu", where, e.line);
        ioc_batch_problem(r->b, w,
                          "event [%zu] is malformed or cut short: it and the rest are not read",
                          e.index);
    }
}

static int read_buffer(struct mr *r, const char *s, size_t n, const char *where)
{
    char why[256];
    if (n > r->lim.max_bytes) {
        ioc_batch_problem(r->b, where, "larger than the limit of %zu bytes; not read",
                          r->lim.max_bytes);
        return -EFBIG;
    }
    size_t at = intel_json_skip_ws(s, n, 0);
    if (at < n && s[at] == '[') {
        read_list(r, s, n, at, where);
        return 0;
    }
    if (at >= n || s[at] != '{') {
        ioc_batch_problem(r->b, where, "not MISP JSON: expected a JSON object or list");
        return -EINVAL;
    }
    size_t v;
    if (intel_json_member(s, n, at, "response", &v) == 0 && v < n && s[v] == '[') {
        read_list(r, s, n, v, where);
        return 0;
    }
    json_t *root = intel_json_parse(s, n, r->lim.max_depth, 1, why, sizeof(why));
    if (!root || !json_is_object(root)) {
        ioc_batch_problem(r->b, where, "not MISP JSON: %s", root ? "not an object" : why);
        json_decref(root);
        return -EINVAL;
    }
    const json_t *resp = json_object_get(root, "response");
    read_event_elem(r, json_is_object(resp) ? resp : root, where, 1, 0, false);
    json_decref(root);
    return 0;
}

/* ---- the read contexts ------------------------------------------------ */

static void mr_init(struct mr *r, const struct misp_read_opts *o, struct ioc_batch *b,
                    struct misp_read_stats *st)
{
    memset(r, 0, sizeof(*r));
    r->b = b;
    r->lim = intel_json_limits_of(o ? &o->limits : NULL);
    r->unpublished_detect = o && o->unpublished_detect;
    r->st = st;
    r->first_meta = b->nmetas;
    arena_init(&r->tmp, 16 * 1024);
    strmap_init(&r->unsupported);
    strmap_init(&r->partly);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a map in byte order (malloc'd array; the caller frees it). */
static const char **sorted_keys(const struct strmap *m)
{
    const char **v = malloc((m->n ? m->n : 1) * sizeof(*v));
    if (!v)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            v[k++] = m->slots[i].key;
    qsort(v, k, sizeof(*v), cmp_str);
    return v;
}

/* Report the per-type counts, then free the context. */
static void mr_finish(struct mr *r, const char *where)
{
    const char **keys = sorted_keys(&r->unsupported);
    for (size_t i = 0; i < r->unsupported.n; i++) {
        uint64_t c = *strmap_get(&r->unsupported, keys[i], strlen(keys[i]));
        ioc_batch_problem(r->b, where,
                          "%llu attribute%s of type '%s' skipped: not a type kenchi matches",
                          (unsigned long long)c, c == 1 ? "" : "s", keys[i]);
    }
    free(keys);
    keys = sorted_keys(&r->partly);
    for (size_t i = 0; i < r->partly.n; i++) {
        uint64_t c = *strmap_get(&r->partly, keys[i], strlen(keys[i]));
        ioc_batch_problem(r->b, where,
                          "%llu attribute%s of type '%s': only the file name is matched",
                          (unsigned long long)c, c == 1 ? "" : "s", keys[i]);
    }
    free(keys);
    strmap_free(&r->unsupported);
    strmap_free(&r->partly);
    arena_free(&r->tmp);
}

int misp_json_read_ex(const char *json, size_t n, const char *where, const struct misp_read_opts *o,
                      struct ioc_batch *b, struct misp_read_stats *st)
{
    struct misp_read_stats local = {0};
    struct mr r;
    mr_init(&r, o, b, st ? st : &local);
    if (!where)
        where = b->source ? b->source : "misp";
    int rc = read_buffer(&r, json, n, where);
    mr_finish(&r, where);
    return rc;
}

int misp_json_read(const char *json, size_t n, const char *where, struct ioc_batch *b)
{
    return misp_json_read_ex(json, n, where, NULL, b, NULL);
}

static int read_file(struct mr *r, const char *path)
{
    char *text;
    size_t n;
    int rc = intel_file_load(path, r->lim.max_bytes, &text, &n);
    if (rc == -EFBIG) {
        ioc_batch_problem(r->b, path, "larger than the limit of %zu bytes; not read",
                          r->lim.max_bytes);
        return rc;
    }
    if (rc < 0) {
        ioc_batch_problem(r->b, path, "cannot read: %s", strerror(-rc));
        return rc;
    }
    rc = read_buffer(r, text, n, path);
    free(text);
    return rc;
}

int misp_event_read_ex(const char *path, const struct misp_read_opts *o, struct ioc_batch *b,
                       struct misp_read_stats *st)
{
    struct misp_read_stats local = {0};
    struct mr r;
    mr_init(&r, o, b, st ? st : &local);
    int rc = read_file(&r, path);
    mr_finish(&r, path);
    return rc;
}

int misp_event_read(const char *path, struct ioc_batch *b)
{
    return misp_event_read_ex(path, NULL, b, NULL);
}

int misp_feed_read_ex(const char *dir, const struct misp_read_opts *o, struct ioc_batch *b,
                      struct misp_read_stats *st)
{
    struct misp_read_stats local = {0};
    struct mr r;
    mr_init(&r, o, b, st ? st : &local);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *path = malloc(dl + 64);
    if (!path)
        abort();
    snprintf(path, dl + 64, "%.*s/manifest.json", (int)dl, dir);
    char *text;
    size_t n;
    char why[256];
    int rc = intel_file_load(path, r.lim.max_bytes, &text, &n);
    json_t *man = NULL;
    if (rc < 0) {
        ioc_batch_problem(b, path, "cannot read the feed's manifest: %s",
                          rc == -EFBIG ? "larger than the size limit of a JSON document"
                                       : strerror(-rc));
    } else {
        man = intel_json_parse(text, n, r.lim.max_depth, 1, why, sizeof(why));
        free(text);
        if (!json_is_object(man)) {
            ioc_batch_problem(b, path, "not a MISP feed manifest (an object of event uuids): %s",
                              man ? "not an object" : why);
            rc = -EINVAL;
        }
    }
    if (rc == 0) {
        /* the events in uuid order, so that a feed always reads the same */
        size_t cnt = json_object_size(man), k = 0;
        const char **uuids = malloc((cnt ? cnt : 1) * sizeof(*uuids));
        if (!uuids)
            abort();
        const char *key;
        const json_t *val;
        json_object_foreach(man, key, val)
        {
            uuids[k++] = key;
        }
        qsort(uuids, k, sizeof(*uuids), cmp_str);
        for (size_t i = 0; i < k; i++) {
            uint8_t u[16];
            if (uuid_parse(uuids[i], strlen(uuids[i]), u) < 0) {
                char w[400];
                snprintf(w, sizeof(w), "%s: \"%.60s\"", path, uuids[i]);
                ioc_batch_problem(b, w, "not an event uuid; skipped");
                r.st->malformed++;
                continue;
            }
            char *ev = malloc(dl + 64);
            if (!ev)
                abort();
            snprintf(ev, dl + 64, "%.*s/%s.json", (int)dl, dir, uuids[i]);
            read_file(&r, ev);
            free(ev);
        }
        free(uuids);
    }
    json_decref(man);
    mr_finish(&r, dir);
    free(path);
    return rc;
}

int misp_feed_read(const char *dir, struct ioc_batch *b)
{
    return misp_feed_read_ex(dir, NULL, b, NULL);
}

void misp_read_stats_format(const struct misp_read_stats *st, struct buf *out)
{
    buf_printf(out, "%zu event%s", st->events, st->events == 1 ? "" : "s");
    if (st->unpublished)
        buf_printf(out, " (%zu not published)", st->unpublished);
    buf_printf(out, ", %zu indicator%s imported", st->imported, st->imported == 1 ? "" : "s");
    if (st->not_ids)
        buf_printf(out, " (%zu not for alerting: to_ids false)", st->not_ids);
    buf_printf(out, " from %zu attribute%s", st->attributes, st->attributes == 1 ? "" : "s");
    if (st->deleted)
        buf_printf(out, ", %zu deleted", st->deleted);
    if (st->unsupported)
        buf_printf(out, ", %zu of types kenchi does not match", st->unsupported);
    if (st->refused)
        buf_printf(out, ", %zu value%s refused", st->refused, st->refused == 1 ? "" : "s");
    if (st->malformed)
        buf_printf(out, ", %zu malformed", st->malformed);
}
