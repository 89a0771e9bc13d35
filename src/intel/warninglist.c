/*
 * warninglist.c - MISP warning lists; see warninglist.h.
 *
 * The string, hostname and cidr entries of every list go into one
 * intel_set, each list a metadata record: an entry in several lists is one
 * value with a chain of lists, so an indicator costs one lookup (an
 * address: one per network length in use; a name: one per label), whatever
 * the number of lists. The lists a lookup finds are then kept or dropped by
 * their kind (a parent domain counts for hostname lists only) and by the
 * indicator types they apply to; the earliest list wins.
 *
 * Substring entries of all lists are one Hyperscan literal database
 * (caseless), scanned once per indicator; without Hyperscan, each entry is
 * searched in turn. Regex entries are PCRE2 (JIT), with match limits.
 */
#include "intel/warninglist.h"
/* before jansson.h, whose json_is_number macro clashes with util/buf.h */
#include "intel/intel-set.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#ifdef KENCHI_HAVE_HS
#include <hs.h>
#endif

enum wl_kind { WL_STRING, WL_HOSTNAME, WL_CIDR, WL_SUBSTRING, WL_REGEX };
static const char *const kind_names[] = {"string", "hostname", "cidr", "substring", "regex"};

struct wlist {
    char *name;
    char *path;
    enum wl_kind kind;
    unsigned types; /* bit per enum ioc_type */
    uint32_t meta;  /* its metadata record in the index set */
    uint64_t entries, skipped, flagged;
    pcre2_code **re;
    size_t nre;
};

struct warninglists {
    struct warninglist_opts o;
    struct wlist *l;
    size_t n, cap;
    uint32_t *meta_list; /* index set meta -> list */
    size_t nmeta_list;
    struct intel_set *idx;
    uint64_t entries;
    /* substring entries */
    char **sub;
    uint32_t *sub_list;
    size_t nsub, capsub;
    bool sub_dirty;
#ifdef KENCHI_HAVE_HS
    hs_database_t *db;
    hs_scratch_t *scratch;
#endif
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    struct ioc_batch probs; /* problems only */
};

#define TYPE_BIT(t) (1u << (t))
#define ALL_TYPES   ((1u << IOC__COUNT) - 1 - TYPE_BIT(IOC_PATTERN))

/* MISP attribute types and the indicator types they stand for. */
static const struct {
    const char *attr;
    unsigned types;
} attr_types[] = {
    {"ip-src", TYPE_BIT(IOC_IP)},
    {"ip-dst", TYPE_BIT(IOC_IP)},
    {"ip-src|port", TYPE_BIT(IOC_IP)},
    {"ip-dst|port", TYPE_BIT(IOC_IP)},
    {"domain|ip", TYPE_BIT(IOC_IP) | TYPE_BIT(IOC_DOMAIN)},
    {"domain", TYPE_BIT(IOC_DOMAIN)},
    {"hostname", TYPE_BIT(IOC_DOMAIN)},
    {"hostname|port", TYPE_BIT(IOC_DOMAIN)},
    {"url", TYPE_BIT(IOC_URL)},
    {"uri", TYPE_BIT(IOC_URL)},
    {"link", TYPE_BIT(IOC_URL)},
    {"email", TYPE_BIT(IOC_EMAIL)},
    {"email-src", TYPE_BIT(IOC_EMAIL)},
    {"email-dst", TYPE_BIT(IOC_EMAIL)},
    {"target-email", TYPE_BIT(IOC_EMAIL)},
    {"whois-registrant-email", TYPE_BIT(IOC_EMAIL)},
    {"dns-soa-email", TYPE_BIT(IOC_EMAIL)},
    {"email-reply-to", TYPE_BIT(IOC_EMAIL)},
    {"md5", TYPE_BIT(IOC_MD5)},
    {"filename|md5", TYPE_BIT(IOC_MD5)},
    {"sha1", TYPE_BIT(IOC_SHA1)},
    {"filename|sha1", TYPE_BIT(IOC_SHA1)},
    {"sha256", TYPE_BIT(IOC_SHA256)},
    {"filename|sha256", TYPE_BIT(IOC_SHA256)},
    {"filename", TYPE_BIT(IOC_FILENAME)},
    {"user-agent", TYPE_BIT(IOC_USER_AGENT)},
};

void warninglist_opts_default(struct warninglist_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_file_bytes = 64u << 20;
    o->max_lists = 10000;
    o->max_entries = 20000000;
}

struct warninglists *warninglists_new(const struct warninglist_opts *o)
{
    struct warninglists *wl = calloc(1, sizeof(*wl));
    if (!wl)
        return NULL;
    if (o)
        wl->o = *o;
    else
        warninglist_opts_default(&wl->o);
    wl->idx = intel_set_new();
    wl->md = pcre2_match_data_create(1, NULL);
    wl->mctx = pcre2_match_context_create(NULL);
    if (!wl->idx || !wl->md || !wl->mctx) {
        warninglists_free(wl);
        return NULL;
    }
    pcre2_set_match_limit(wl->mctx, 100000);
    pcre2_set_depth_limit(wl->mctx, 1000);
    ioc_batch_init(&wl->probs, "warning lists", "misp-warninglist");
    return wl;
}

void warninglists_free(struct warninglists *wl)
{
    if (!wl)
        return;
    for (size_t i = 0; i < wl->n; i++) {
        free(wl->l[i].name);
        free(wl->l[i].path);
        for (size_t k = 0; k < wl->l[i].nre; k++)
            pcre2_code_free(wl->l[i].re[k]);
        free(wl->l[i].re);
    }
    free(wl->l);
    free(wl->meta_list);
    intel_set_free(wl->idx);
    for (size_t i = 0; i < wl->nsub; i++)
        free(wl->sub[i]);
    free(wl->sub);
    free(wl->sub_list);
#ifdef KENCHI_HAVE_HS
    hs_free_scratch(wl->scratch);
    hs_free_database(wl->db);
#endif
    pcre2_match_data_free(wl->md);
    pcre2_match_context_free(wl->mctx);
    ioc_batch_free(&wl->probs);
    free(wl);
}

size_t warninglists_count(const struct warninglists *wl)
{
    return wl->n;
}

void warninglists_info(const struct warninglists *wl, size_t i, struct warninglist_info *out)
{
    const struct wlist *l = &wl->l[i];
    out->name = l->name;
    out->path = l->path;
    out->type = kind_names[l->kind];
    out->entries = l->entries;
    out->skipped = l->skipped;
    out->flagged = l->flagged;
    out->applicable = l->types != 0;
}

size_t warninglists_nproblems(const struct warninglists *wl)
{
    return wl->probs.nproblems;
}

const struct ioc_problem *warninglists_problem(const struct warninglists *wl, size_t i)
{
    return i < wl->probs.nproblems ? &wl->probs.problems[i] : NULL;
}

/* ---- loading ---------------------------------------------------------- */

static void add_sub(struct warninglists *wl, uint32_t list, const char *s, size_t n)
{
    if (wl->nsub == wl->capsub) {
        wl->capsub = wl->capsub ? wl->capsub * 2 : 256;
        wl->sub = realloc(wl->sub, wl->capsub * sizeof(*wl->sub));
        wl->sub_list = realloc(wl->sub_list, wl->capsub * sizeof(*wl->sub_list));
        if (!wl->sub || !wl->sub_list)
            abort();
    }
    char *c = malloc(n + 1);
    if (!c)
        abort();
    for (size_t i = 0; i < n; i++)
        c[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    c[n] = '\0';
    wl->sub[wl->nsub] = c;
    wl->sub_list[wl->nsub] = list;
    wl->nsub++;
    wl->sub_dirty = true;
}

/* "/pattern/flags" (PHP's form, as MISP writes them) or a bare pattern. */
static pcre2_code *compile_regex(const char *s, size_t n, const char **why)
{
    uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    const char *p = s;
    size_t pn = n;
    if (n >= 2 && s[0] == '/') {
        const char *end = s + n - 1;
        while (end > s && *end != '/')
            end--;
        if (end > s) {
            for (const char *f = end + 1; f < s + n; f++) {
                switch (*f) {
                case 'i':
                    flags |= PCRE2_CASELESS;
                    break;
                case 'm':
                    flags |= PCRE2_MULTILINE;
                    break;
                case 's':
                    flags |= PCRE2_DOTALL;
                    break;
                case 'x':
                    flags |= PCRE2_EXTENDED;
                    break;
                case 'u':
                    break;
                default:
                    *why = "an unknown regex flag";
                    return NULL;
                }
            }
            p = s + 1;
            pn = (size_t)(end - p);
        }
    }
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)p, pn, flags, &err, &off, NULL);
    if (!re) {
        *why = "a regex PCRE2 refuses";
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* A cidr list entry: an address or network; host bits are cleared (lists
 * write 192.0.2.1/24 at times). */
static bool parse_net(const char *s, size_t n, uint8_t *a, bool *v6, unsigned *plen)
{
    char tmp[64];
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (alen == 0 || alen >= sizeof(tmp))
        return false;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    unsigned max;
    if (inet_pton(AF_INET, tmp, a) == 1) {
        *v6 = false;
        max = 32;
    } else if (inet_pton(AF_INET6, tmp, a) == 1) {
        *v6 = true;
        max = 128;
    } else {
        return false;
    }
    *plen = max;
    if (slash) {
        size_t k = n - alen - 1;
        if (k == 0 || k > 3)
            return false;
        unsigned x = 0;
        for (size_t i = 0; i < k; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return false;
            x = x * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (x > max)
            return false;
        *plen = x;
    }
    for (unsigned i = 0; i < (max / 8); i++) {
        int bits = (int)*plen - (int)i * 8;
        uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        a[i] &= m;
    }
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (*v6 && !memcmp(a, mapped, 12) && *plen >= 96) {
        memmove(a, a + 12, 4);
        *v6 = false;
        *plen -= 96;
    }
    return true;
}

/* One entry of list li. Returns true if it was kept. */
static bool add_entry(struct warninglists *wl, uint32_t li, const char *s, size_t n)
{
    struct wlist *l = &wl->l[li];
    char norm[1024 + 64];
    const char *why;
    switch (l->kind) {
    case WL_CIDR: {
        uint8_t a[16];
        bool v6;
        unsigned plen;
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (!parse_net(s, n, a, &v6, &plen))
            return false;
        return intel_set_add_ip(wl->idx, a, v6, plen, l->meta, true, NULL) >= 0;
    }
    case WL_HOSTNAME: {
        if (n > 1024)
            return false;
        int k = ioc_normalise(IOC_DOMAIN, s, n, norm, &why);
        return k > 0 &&
               intel_set_add(wl->idx, IOC_DOMAIN, norm, (size_t)k, l->meta, true, NULL) >= 0;
    }
    case WL_STRING: {
        if (n > 1024)
            return false;
        bool kept = false;
        for (int t = 0; t < IOC__COUNT; t++) {
            if (!(l->types & TYPE_BIT(t)))
                continue;
            int k = ioc_normalise((enum ioc_type)t, s, n, norm, &why);
            if (k > 0 &&
                intel_set_add(wl->idx, (enum ioc_type)t, norm, (size_t)k, l->meta, true, NULL) >= 0)
                kept = true;
        }
        return kept;
    }
    case WL_SUBSTRING:
        if (n == 0)
            return false;
        add_sub(wl, li, s, n);
        return true;
    case WL_REGEX: {
        pcre2_code *re = compile_regex(s, n, &why);
        if (!re)
            return false;
        pcre2_code **nr = realloc(l->re, (l->nre + 1) * sizeof(*nr));
        if (!nr)
            abort();
        l->re = nr;
        l->re[l->nre++] = re;
        return true;
    }
    }
    return false;
}

static int load_file(struct warninglists *wl, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        ioc_batch_problem(&wl->probs, path, "cannot read: %s", strerror(errno));
        return -errno;
    }
    if ((size_t)sb.st_size > wl->o.max_file_bytes) {
        ioc_batch_problem(&wl->probs, path, "%lld bytes, more than the limit of %zu: not read",
                          (long long)sb.st_size, wl->o.max_file_bytes);
        return 0;
    }
    if (wl->n >= wl->o.max_lists) {
        ioc_batch_problem(&wl->probs, path, "more than %zu lists: not read", wl->o.max_lists);
        return 0;
    }
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        char where[600];
        snprintf(where, sizeof(where), "%s:%d", path, err.line);
        ioc_batch_problem(&wl->probs, where, "not JSON: %s", err.text);
        return 0;
    }
    const char *name = json_string_value(json_object_get(root, "name"));
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *list = json_object_get(root, "list");
    json_t *attrs = json_object_get(root, "matching_attributes");
    int kind = -1;
    for (int i = 0; type && i < 5; i++)
        if (!strcmp(type, kind_names[i]))
            kind = i;
    if (!name || !json_is_array(list) || kind < 0) {
        ioc_batch_problem(&wl->probs, path, "%s",
                          !name                  ? "not a warning list: no \"name\""
                          : !json_is_array(list) ? "not a warning list: no \"list\" array"
                          : !type                ? "not a warning list: no \"type\""
                                                 : "an unknown warning list type");
        json_decref(root);
        return 0;
    }
    unsigned types = 0;
    if (json_is_array(attrs) && json_array_size(attrs) > 0) {
        size_t i;
        json_t *a;
        json_array_foreach(attrs, i, a)
        {
            const char *s = json_string_value(a);
            for (size_t k = 0; s && k < sizeof(attr_types) / sizeof(attr_types[0]); k++)
                if (!strcmp(s, attr_types[k].attr))
                    types |= attr_types[k].types;
        }
    } else {
        types = ALL_TYPES;
    }
    if (kind == WL_CIDR)
        types &= TYPE_BIT(IOC_IP);
    if (kind == WL_HOSTNAME)
        types &= TYPE_BIT(IOC_DOMAIN) | TYPE_BIT(IOC_URL) | TYPE_BIT(IOC_EMAIL);
    if (wl->n == wl->cap) {
        wl->cap = wl->cap ? wl->cap * 2 : 64;
        struct wlist *nl = realloc(wl->l, wl->cap * sizeof(*nl));
        if (!nl)
            abort();
        wl->l = nl;
    }
    uint32_t li = (uint32_t)wl->n++;
    struct wlist *l = &wl->l[li];
    memset(l, 0, sizeof(*l));
    l->name = strdup(name);
    l->path = strdup(path);
    if (!l->name || !l->path)
        abort();
    l->kind = (enum wl_kind)kind;
    l->types = types;
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "misp-warninglists";
    m.name = name;
    m.ref = path;
    l->meta = intel_set_add_meta(wl->idx, &m);
    if (l->meta == INTEL_NONE)
        abort();
    if (l->meta >= wl->nmeta_list) {
        size_t nn = (size_t)l->meta + 64;
        uint32_t *nm = realloc(wl->meta_list, nn * sizeof(*nm));
        if (!nm)
            abort();
        wl->meta_list = nm;
        wl->nmeta_list = nn;
    }
    wl->meta_list[l->meta] = li;
    if (!types) {
        json_decref(root);
        return 1; /* loaded, applies to nothing kenchi matches */
    }
    size_t i;
    json_t *e;
    bool limit = false;
    json_array_foreach(list, i, e)
    {
        const char *s = json_string_value(e);
        if (wl->entries >= wl->o.max_entries) {
            if (!limit)
                ioc_batch_problem(&wl->probs, path,
                                  "more than %llu entries in all lists: the rest is not read",
                                  (unsigned long long)wl->o.max_entries);
            limit = true;
            l->skipped++;
            continue;
        }
        if (s && add_entry(wl, li, s, json_string_length(e))) {
            l->entries++;
            wl->entries++;
        } else {
            /* string lists hold values of types kenchi has no use for
             * (SHA-512, ssdeep): not a problem */
            if (l->skipped < 3 && l->kind != WL_STRING) {
                char where[600];
                snprintf(where, sizeof(where), "%s: list[%zu]", path, i);
                ioc_batch_problem(&wl->probs, where, "'%.60s' is not a %s entry of this list",
                                  s ? s : "(not a string)", kind_names[kind]);
            }
            l->skipped++;
        }
    }
    json_decref(root);
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int warninglists_load(struct warninglists *wl, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return -errno;
    if (!S_ISDIR(sb.st_mode))
        return load_file(wl, path);
    char *lj = NULL;
    if (asprintf(&lj, "%s/list.json", path) < 0)
        abort();
    if (stat(lj, &sb) == 0) {
        int rc = load_file(wl, lj);
        free(lj);
        return rc;
    }
    free(lj);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(names, cap * sizeof(*nv));
            if (!nv)
                abort();
            names = nv;
        }
        names[nn] = strdup(de->d_name);
        if (!names[nn])
            abort();
        nn++;
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_names);
    int loaded = 0;
    for (size_t i = 0; i < nn; i++) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s/list.json", path, names[i]) < 0)
            abort();
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
            int rc = load_file(wl, p);
            if (rc > 0)
                loaded += rc;
        }
        free(p);
        free(names[i]);
    }
    free(names);
    if (!loaded)
        ioc_batch_problem(&wl->probs, path, "no warning list (no */list.json) here");
    return loaded;
}

/* ---- applying --------------------------------------------------------- */

#ifdef KENCHI_HAVE_HS
static int build_db(struct warninglists *wl)
{
    hs_free_scratch(wl->scratch);
    hs_free_database(wl->db);
    wl->scratch = NULL;
    wl->db = NULL;
    wl->sub_dirty = false;
    if (!wl->nsub || wl->o.no_hyperscan)
        return 0;
    unsigned *flags = malloc(wl->nsub * sizeof(*flags));
    unsigned *ids = malloc(wl->nsub * sizeof(*ids));
    size_t *lens = malloc(wl->nsub * sizeof(*lens));
    if (!flags || !ids || !lens)
        abort();
    for (size_t i = 0; i < wl->nsub; i++) {
        flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
        ids[i] = (unsigned)i;
        lens[i] = strlen(wl->sub[i]);
    }
    hs_compile_error_t *err = NULL;
    int rc = 0;
    if (hs_compile_lit_multi((const char *const *)wl->sub, flags, ids, lens, (unsigned)wl->nsub,
                             HS_MODE_BLOCK, NULL, &wl->db, &err) != HS_SUCCESS) {
        ioc_batch_problem(&wl->probs, "substring lists",
                          "Hyperscan refused them (%s): searched one by one",
                          err ? err->message : "?");
        hs_free_compile_error(err);
        wl->db = NULL;
        rc = -EINVAL;
    } else if (hs_alloc_scratch(wl->db, &wl->scratch) != HS_SUCCESS) {
        hs_free_database(wl->db);
        wl->db = NULL;
        rc = -ENOMEM;
    }
    free(flags);
    free(ids);
    free(lens);
    return rc;
}

struct hs_ctx {
    const struct warninglists *wl;
    unsigned type_bit;
    uint32_t best;
};

static int on_sub(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
                  void *opaque)
{
    (void)from;
    (void)to;
    (void)fl;
    struct hs_ctx *h = opaque;
    uint32_t li = h->wl->sub_list[id];
    if (li < h->best && (h->wl->l[li].types & h->type_bit))
        h->best = li;
    return 0;
}
#endif

/* The earliest substring list of type bit tb holding a piece of v. */
static uint32_t find_sub(struct warninglists *wl, unsigned tb, const char *v, size_t n,
                         uint32_t best)
{
#ifdef KENCHI_HAVE_HS
    if (wl->db) {
        struct hs_ctx h = {wl, tb, best};
        hs_scan(wl->db, v, (unsigned)n, 0, wl->scratch, on_sub, &h);
        return h.best;
    }
#endif
    char low[2048];
    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] - 'A' + 'a') : v[i];
    low[n] = '\0';
    for (size_t i = 0; i < wl->nsub; i++) {
        uint32_t li = wl->sub_list[i];
        if (li < best && (wl->l[li].types & tb) && memmem(low, n, wl->sub[i], strlen(wl->sub[i])))
            best = li;
    }
    return best;
}

/* Keep the earliest list along a chain that applies. parent: the value
 * found is a parent domain of the indicator's host (hostname lists only);
 * host: the lookup was of the indicator's host, not its value (hostname
 * lists only as well). */
static uint32_t walk_chain(const struct warninglists *wl, uint32_t head, unsigned tb,
                           bool host_only, uint32_t best)
{
    for (uint32_t id = head; id != INTEL_NONE; id = intel_set_next(wl->idx, id)) {
        struct intel_indicator in;
        intel_set_get(wl->idx, id, &in);
        uint32_t li = wl->meta_list[in.meta_index];
        const struct wlist *l = &wl->l[li];
        if (li >= best || !(l->types & tb))
            continue;
        if (host_only && l->kind != WL_HOSTNAME)
            continue;
        best = li;
    }
    return best;
}

static uint32_t host_lists(const struct warninglists *wl, unsigned tb, const char *h, size_t n,
                           uint32_t best)
{
    struct intel_found f[64];
    unsigned k = intel_set_find_domain(wl->idx, h, n, 1, f, 64);
    for (unsigned i = 0; i < k; i++)
        best = walk_chain(wl, f[i].head, tb, f[i].depth > 0, best);
    return best;
}

static uint32_t first_list(struct warninglists *wl, enum ioc_type t, const char *v)
{
    size_t n = strlen(v);
    unsigned tb = TYPE_BIT(t);
    uint32_t best = UINT32_MAX;
    switch (t) {
    case IOC_IP: {
        uint8_t a[16];
        bool v6;
        unsigned plen;
        if (parse_net(v, n, a, &v6, &plen)) {
            struct intel_found f[160];
            unsigned k = intel_set_find_ip(wl->idx, a, v6, plen, f, 160);
            for (unsigned i = 0; i < k; i++)
                best = walk_chain(wl, f[i].head, tb, false, best);
        }
        break;
    }
    case IOC_DOMAIN:
        best = host_lists(wl, tb, v, n, best);
        break;
    case IOC_URL:
    case IOC_EMAIL: {
        uint32_t id = intel_set_find(wl->idx, t, v, n);
        if (id != INTEL_NONE)
            best = walk_chain(wl, id, tb, false, best);
        const char *h = v;
        size_t hn;
        if (t == IOC_EMAIL) {
            const char *at = strrchr(v, '@');
            h = at ? at + 1 : v + n;
            hn = strlen(h);
        } else {
            hn = strcspn(v, "/?:");
        }
        if (hn) {
            /* only hostname lists look at the host */
            struct intel_found f[64];
            unsigned k = intel_set_find_domain(wl->idx, h, hn, 1, f, 64);
            for (unsigned i = 0; i < k; i++)
                best = walk_chain(wl, f[i].head, tb, true, best);
        }
        break;
    }
    default: {
        uint32_t id = intel_set_find(wl->idx, t, v, n);
        if (id != INTEL_NONE)
            best = walk_chain(wl, id, tb, false, best);
        break;
    }
    }
    if (wl->nsub)
        best = find_sub(wl, tb, v, n, best);
    for (uint32_t li = 0; li < wl->n && li < best; li++) {
        struct wlist *l = &wl->l[li];
        if (l->kind != WL_REGEX || !(l->types & tb))
            continue;
        for (size_t k = 0; k < l->nre; k++)
            if (pcre2_match(l->re[k], (PCRE2_SPTR)v, n, 0, 0, wl->md, wl->mctx) >= 0) {
                best = li;
                break;
            }
    }
    return best;
}

uint64_t warninglist_apply(struct warninglists *wl, struct ioc_batch *b)
{
    if (!wl->n || !b->niocs)
        return 0;
#ifdef KENCHI_HAVE_HS
    if (wl->sub_dirty)
        build_db(wl);
#endif
    const char **names = calloc(wl->n, sizeof(*names));
    if (!names)
        abort();
    uint64_t flagged = 0;
    for (size_t i = 0; i < b->niocs; i++) {
        struct ioc *c = &b->iocs[i];
        if (c->warning || c->type == IOC_PATTERN || (unsigned)c->type >= IOC__COUNT || !c->value)
            continue;
        uint32_t li = first_list(wl, c->type, c->value);
        if (li == UINT32_MAX)
            continue;
        if (!names[li])
            names[li] = ioc_batch_strdup(b, wl->l[li].name);
        c->warning = names[li];
        wl->l[li].flagged++;
        flagged++;
    }
    free(names);
    return flagged;
}
