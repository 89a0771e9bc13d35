/*
 * intel-read.c - the table of indicator readers, format sniffing, the
 * directory walk, what readers share, and the plain list reader; see
 * intel-read.h.
 */
#include "intel/intel-read.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "intel/misp.h"
#include "source/input.h"
#include "source/reader.h"

static const struct intel_reader zeek_reader = {"zeek", intel_zeek_sniff, intel_zeek_read};
static const struct intel_reader csv_reader = {"csv", intel_csv_sniff, intel_csv_read};
static const struct intel_reader list_reader = {"list", intel_list_sniff, intel_list_read};
static const struct intel_reader stix_reader = {"stix", intel_stix_sniff, intel_stix_read};
static const struct intel_reader misp_reader = {"misp", intel_misp_sniff, intel_misp_read};

const struct intel_reader *const intel_readers[] = {
    &stix_reader, &misp_reader, &zeek_reader, &csv_reader, &list_reader, NULL,
};

const struct intel_reader *intel_reader_find(const char *name)
{
    for (size_t i = 0; intel_readers[i]; i++)
        if (!strcasecmp(intel_readers[i]->name, name))
            return intel_readers[i];
    return NULL;
}

void intel_read_opts_default(struct intel_read_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->type = INTEL_TYPE_NONE;
    o->max_line = 64 * 1024;
    o->max_indicators = 50000000;
}

/* ---- what readers share ------------------------------------------------ */

void intel_read_skip(struct intel_read_ctx *c, const char *reason)
{
    struct intel_read_stats *st = c->st;
    st->skipped++;
    for (unsigned i = 0; i < st->nreasons; i++)
        if (st->reasons[i].reason == reason || !strcmp(st->reasons[i].reason, reason)) {
            st->reasons[i].count++;
            return;
        }
    if (st->nreasons < INTEL_READ_REASONS) {
        st->reasons[st->nreasons].reason = reason;
        st->reasons[st->nreasons].count = 1;
        st->nreasons++;
    } else {
        st->reasons[INTEL_READ_REASONS - 1].reason = "other reasons";
        st->reasons[INTEL_READ_REASONS - 1].count++;
    }
}

static int add_value(struct intel_read_ctx *c, int t, const char *v, size_t n, uint32_t meta,
                     bool detect, const char *where);

/* Give the batch to chunk_fn and go on with an empty one holding the same
 * metadata records. */
static void hand_over(struct intel_read_ctx *c)
{
    intel_expand_patterns(c->out);
    int rc = c->o->chunk_fn(c->o->chunk_opaque, c->out);
    if (rc < 0 && !c->chunk_error)
        c->chunk_error = rc;
    struct ioc_batch nb;
    ioc_batch_init(&nb, c->out->source, c->out->format);
    for (uint32_t i = 0; i < c->out->nmetas; i++)
        ioc_batch_add_meta(&nb, &c->out->metas[i]);
    ioc_batch_free(c->out);
    *c->out = nb;
}

static const char *const invalid_reason[IOC__COUNT] = {
    [IOC_IP] = "invalid ip",
    [IOC_DOMAIN] = "invalid domain",
    [IOC_URL] = "invalid url",
    [IOC_EMAIL] = "invalid email",
    [IOC_MD5] = "invalid md5",
    [IOC_SHA1] = "invalid sha1",
    [IOC_SHA256] = "invalid sha256",
    [IOC_FILENAME] = "invalid filename",
    [IOC_USER_AGENT] = "invalid user-agent",
    [IOC_PATTERN] = "invalid stix-pattern",
};

/* A value a feed cut short for display ("http://a.example/lo…"): it can
 * never match what it stood for. */
static bool cut_short(const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    return (n >= 3 && !memcmp(v + n - 3, "\xE2\x80\xA6", 3)) ||
           (n >= 3 && !memcmp(v + n - 3, "...", 3));
}

/* Undo the usual defanging ("hxxp://evil[.]example", "a[@]b(.)c",
 * "1.2.3[.]4", "evil[dot]example") into out (n + 1 bytes). Returns the new
 * length, or 0 when v holds none. */
static size_t refang(const char *v, size_t n, char *out)
{
    static const struct {
        const char *from, *to;
    } subs[] = {
        {"[.]", "."}, {"(.)", "."}, {"{.}", "."},  {"[dot]", "."}, {"(dot)", "."}, {"[:]", ":"},
        {"[@]", "@"}, {"(@)", "@"}, {"[at]", "@"}, {"(at)", "@"},  {"[/]", "/"},   {"[://]", "://"},
    };
    if (!memchr(v, '[', n) && !memchr(v, '(', n) && !memchr(v, '{', n) &&
        !(n >= 4 && !strncasecmp(v, "hxxp", 4)))
        return 0;
    size_t o = 0;
    bool changed = false;
    for (size_t i = 0; i < n;) {
        if (i == 0 && n >= 4 && !strncasecmp(v, "hxxp", 4)) {
            memcpy(out, "http", 4);
            o = 4;
            i = 4;
            changed = true;
            continue;
        }
        bool hit = false;
        for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
            size_t fl = strlen(subs[k].from);
            if (n - i >= fl && !strncasecmp(v + i, subs[k].from, fl)) {
                size_t tl = strlen(subs[k].to);
                memcpy(out + o, subs[k].to, tl);
                o += tl;
                i += fl;
                hit = changed = true;
                break;
            }
        }
        if (!hit)
            out[o++] = v[i++];
    }
    return changed ? o : 0;
}

int intel_read_add(struct intel_read_ctx *c, int t, const char *v, size_t n, uint32_t meta,
                   bool detect, const char *where)
{
    if (c->chunk_error)
        return -EINVAL; /* the consumer failed: reading ends without it */
    if ((t == IOC_URL || t == IOC_DOMAIN || t == IOC_EMAIL) && cut_short(v, n)) {
        int shown = n > 80 ? 80 : (int)n;
        ioc_batch_problem(c->out, where, "%s '%.*s' refused: cut short by the feed (ends with ...)",
                          ioc_type_name((enum ioc_type)t), shown, v);
        intel_read_skip(c, "value cut short by the feed");
        return -EINVAL;
    }
    char stackbuf[1024];
    char *fanged = NULL;
    if ((t == IOC_URL || t == IOC_DOMAIN || t == IOC_EMAIL || t == IOC_IP) && n) {
        char *buf = n < sizeof(stackbuf) ? stackbuf : (fanged = malloc(n + 1));
        if (!buf)
            abort();
        size_t k = refang(v, n, buf);
        if (k) {
            v = buf;
            n = k;
            c->st->refanged++;
        }
    }
    int rc = add_value(c, t, v, n, meta, detect, where);
    free(fanged);
    if (rc == 0) {
        c->added++;
        size_t chunk = c->o->chunk ? c->o->chunk : 1000000;
        if (c->o->chunk_fn && c->out->niocs >= chunk &&
            (uint64_t)c->out->nmetas * 8 <= c->out->niocs)
            hand_over(c);
    }
    return rc;
}

static int add_value(struct intel_read_ctx *c, int t, const char *v, size_t n, uint32_t meta,
                     bool detect, const char *where)
{
    if (c->added >= c->o->max_indicators) {
        if (!c->limit_reported) {
            c->limit_reported = true;
            ioc_batch_problem(c->out, where,
                              "more than %llu indicators in one file: the rest is not kept",
                              (unsigned long long)c->o->max_indicators);
        }
        intel_read_skip(c, "over the indicator limit");
        return -EINVAL;
    }
    if (t == INTEL_TYPE_HASH) {
        size_t k = n;
        const char *p = v;
        while (k && (*p == ' ' || *p == '\t'))
            p++, k--;
        while (k && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r'))
            k--;
        t = k == 32 ? IOC_MD5 : k == 40 ? IOC_SHA1 : k == 64 ? IOC_SHA256 : INTEL_TYPE_NONE;
        if (t == INTEL_TYPE_NONE) {
            ioc_batch_problem(c->out, where,
                              "a hash of %zu characters is not an MD5, SHA-1 or SHA-256 hash", k);
            intel_read_skip(c, "hash of the wrong length");
            return -EINVAL;
        }
    }
    if (t < 0 || t >= IOC__COUNT) {
        intel_read_skip(c, "unknown indicator type");
        return -EINVAL;
    }
    if (ioc_batch_add(c->out, (enum ioc_type)t, v, n, meta, detect, where) < 0) {
        intel_read_skip(c, invalid_reason[t]);
        return -EINVAL;
    }
    c->st->indicators++;
    return 0;
}

const char *intel_read_feed_name(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!*base || !strcmp(path, "-"))
        base = "stdin";
    snprintf(buf, size, "%s", base);
    static const char *const exts[] = {".gz",   ".zst", ".intel", ".csv", ".txt",
                                       ".list", ".lst", ".tsv",   ".dat"};
    for (int pass = 0; pass < 2; pass++) {
        size_t l = strlen(buf);
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
            size_t el = strlen(exts[i]);
            if (l > el && !strcasecmp(buf + l - el, exts[i])) {
                buf[l - el] = '\0';
                break;
            }
        }
    }
    return buf;
}

static const struct {
    const char *name;
    int type;
    bool unsupported;
} feed_types[] = {
    /* Zeek's Intel::Type names (without the Intel:: prefix) */
    {"ADDR", IOC_IP, false},
    {"SUBNET", IOC_IP, false},
    {"DOMAIN", IOC_DOMAIN, false},
    {"URL", IOC_URL, false},
    {"EMAIL", IOC_EMAIL, false},
    {"FILE_HASH", INTEL_TYPE_HASH, false},
    {"FILE_NAME", IOC_FILENAME, false},
    {"SOFTWARE", IOC_USER_AGENT, false},
    {"USER_NAME", INTEL_TYPE_NONE, true},
    {"CERT_HASH", INTEL_TYPE_NONE, true},
    {"PUBKEY_HASH", INTEL_TYPE_NONE, true},
    {"JA3", INTEL_TYPE_NONE, true},
    {"JA3S", INTEL_TYPE_NONE, true},
    {"JA4", INTEL_TYPE_NONE, true},
    /* other names feeds use */
    {"hash", INTEL_TYPE_HASH, false},
    {"filehash", INTEL_TYPE_HASH, false},
    {"file_hash", INTEL_TYPE_HASH, false},
    {"ip-src|port", INTEL_TYPE_NONE, true},
    {"ip-dst|port", INTEL_TYPE_NONE, true},
    {"domain", IOC_DOMAIN, false},
    {"uri", IOC_URL, false},
    {"link", IOC_URL, false},
    {"user-agent", IOC_USER_AGENT, false},
    {"user_agent", IOC_USER_AGENT, false},
    {"filename", IOC_FILENAME, false},
    {"email-src-display-name", INTEL_TYPE_NONE, true},
    {"target-email", IOC_EMAIL, false},
    {"whois-registrant-email", IOC_EMAIL, false},
    {"x509-fingerprint-sha1", INTEL_TYPE_NONE, true},
    {"x509-fingerprint-sha256", INTEL_TYPE_NONE, true},
    {"x509-fingerprint-md5", INTEL_TYPE_NONE, true},
    {"ja3-fingerprint-md5", INTEL_TYPE_NONE, true},
    {"sha512", INTEL_TYPE_NONE, true},
    {"ssdeep", INTEL_TYPE_NONE, true},
    {"imphash", INTEL_TYPE_NONE, true},
    {"user-name", INTEL_TYPE_NONE, true},
    {"username", INTEL_TYPE_NONE, true},
};

int intel_type_by_name(const char *name, size_t n, bool *unsupported)
{
    *unsupported = false;
    char buf[64];
    while (n && (*name == ' ' || *name == '\t'))
        name++, n--;
    while (n && (name[n - 1] == ' ' || name[n - 1] == '\t' || name[n - 1] == '\r'))
        n--;
    if (n >= 7 && !strncasecmp(name, "Intel::", 7))
        name += 7, n -= 7;
    if (n == 0 || n >= sizeof(buf))
        return INTEL_TYPE_NONE;
    memcpy(buf, name, n);
    buf[n] = '\0';
    for (size_t i = 0; i < sizeof(feed_types) / sizeof(feed_types[0]); i++)
        if (!strcasecmp(buf, feed_types[i].name)) {
            *unsupported = feed_types[i].unsupported;
            return feed_types[i].type;
        }
    int t = ioc_type_by_name(buf);
    if (t == IOC_PATTERN)
        return INTEL_TYPE_NONE;
    return t;
}

/* ---- metadata by content ---------------------------------------------- */

struct intel_meta_cache {
    uint64_t *slot; /* hash tag << 32 | (meta index + 1) */
    uint32_t mask, used;
    uint32_t last; /* index + 1 of the last record returned */
};

static uint64_t meta_content_hash(const struct ioc_meta *m)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    const char *s[6] = {m->feed,        m->ref, m->name, m->labels_json, m->kill_chain_json,
                        m->related_json};
    for (int i = 0; i < 6; i++) {
        if (s[i])
            XXH3_64bits_update(&st, s[i], strlen(s[i]) + 1);
        else
            XXH3_64bits_update(&st, "\xff", 1);
    }
    int64_t nums[5] = {m->confidence, (int64_t)m->tlp, m->valid_from, m->valid_until, m->revoked};
    XXH3_64bits_update(&st, nums, sizeof(nums));
    return XXH3_64bits_digest(&st);
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool meta_same(const struct ioc_meta *a, const struct ioc_meta *b)
{
    return same_str(a->feed, b->feed) && same_str(a->ref, b->ref) && same_str(a->name, b->name) &&
           same_str(a->labels_json, b->labels_json) &&
           same_str(a->kill_chain_json, b->kill_chain_json) &&
           same_str(a->related_json, b->related_json) && a->confidence == b->confidence &&
           a->tlp == b->tlp && a->valid_from == b->valid_from && a->valid_until == b->valid_until &&
           a->revoked == b->revoked;
}

uint32_t intel_meta_cache_get(struct intel_meta_cache **mcp, struct ioc_batch *b,
                              const struct ioc_meta *m)
{
    struct intel_meta_cache *mc = *mcp;
    if (!mc) {
        mc = calloc(1, sizeof(*mc));
        if (!mc)
            abort();
        *mcp = mc;
    }
    if (mc->last && meta_same(&b->metas[mc->last - 1], m))
        return mc->last - 1;
    uint64_t h = meta_content_hash(m);
    uint32_t tag = (uint32_t)(h >> 32);
    if (mc->slot) {
        for (uint32_t j = tag & mc->mask;; j = (j + 1) & mc->mask) {
            uint64_t x = mc->slot[j];
            if (!x)
                break;
            if ((uint32_t)(x >> 32) == tag && meta_same(&b->metas[(uint32_t)x - 1], m)) {
                mc->last = (uint32_t)x;
                return (uint32_t)x - 1;
            }
        }
    }
    if (!mc->slot || (uint64_t)(mc->used + 1) * 5 > ((uint64_t)mc->mask + 1) * 4) {
        uint64_t ncap = mc->slot ? ((uint64_t)mc->mask + 1) * 2 : 64;
        uint64_t *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            abort();
        uint32_t nmask = (uint32_t)(ncap - 1);
        for (uint64_t i = 0; mc->slot && i <= mc->mask; i++) {
            uint64_t x = mc->slot[i];
            if (!x)
                continue;
            uint32_t j = (uint32_t)(x >> 32) & nmask;
            while (ns[j])
                j = (j + 1) & nmask;
            ns[j] = x;
        }
        free(mc->slot);
        mc->slot = ns;
        mc->mask = nmask;
    }
    uint32_t idx = ioc_batch_add_meta(b, m);
    uint32_t j = tag & mc->mask;
    while (mc->slot[j])
        j = (j + 1) & mc->mask;
    mc->slot[j] = (uint64_t)tag << 32 | ((uint64_t)idx + 1);
    mc->used++;
    mc->last = idx + 1;
    return idx;
}

void intel_meta_cache_free(struct intel_meta_cache *mc)
{
    if (!mc)
        return;
    free(mc->slot);
    free(mc);
}

/* ---- plain lists -------------------------------------------------------- */

int intel_list_sniff(const char *head, size_t n, const char *path)
{
    (void)path;
    if (n == 0)
        return 1;
    if (memchr(head, '\0', n))
        return 0;
    size_t i = 0;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    /* JSON and XML documents are other readers' business */
    if (i < n && (head[i] == '{' || head[i] == '[' || head[i] == '<'))
        return 0;
    return 1;
}

struct list_state {
    struct intel_read_ctx *c;
    uint32_t meta;
    char where[512];
};

static int list_line(void *opaque, const struct record *rec)
{
    struct list_state *ls = opaque;
    struct intel_read_ctx *c = ls->c;
    snprintf(ls->where, sizeof(ls->where), "%s:%llu", c->path, (unsigned long long)rec->line);
    const char *p = rec->p;
    size_t n = rec->n;
    while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (n == 0 || *p == '#' || *p == ';')
        return 0;
    c->st->records++;
    if (rec->status == RECORD_TRUNCATED) {
        ioc_batch_problem(c->out, ls->where, "line longer than %zu bytes, skipped", c->o->max_line);
        intel_read_skip(c, "line longer than the limit");
        return 0;
    }
    /* "value # comment": a comment after blanks */
    if (c->o->type != IOC_USER_AGENT) {
        for (size_t i = 1; i < n; i++)
            if (p[i] == '#' && (p[i - 1] == ' ' || p[i - 1] == '\t')) {
                n = i;
                while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                    n--;
                break;
            }
    }
    intel_read_add(c, c->o->type, p, n, ls->meta, true, ls->where);
    return 0;
}

int intel_list_read(struct intel_read_ctx *c)
{
    if (c->o->type == INTEL_TYPE_NONE) {
        ioc_batch_problem(c->out, c->path,
                          "a plain list of indicators needs their type (--intel-type)");
        return -EINVAL;
    }
    struct list_state ls = {.c = c};
    char feed[256];
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = intel_read_feed_name(c->path, feed, sizeof(feed));
    ls.meta = ioc_batch_add_meta(c->out, &m);
    int rc = reader_lines(c->in, c->o->max_line, list_line, &ls);
    if (rc < 0)
        ioc_batch_problem(c->out, c->path, "reading stopped: %s", strerror(-rc));
    return rc < 0 ? rc : 0;
}

/* ---- reading files and trees ---------------------------------------- */

static const struct intel_reader *sniff_best(const char *head, size_t n, const char *path,
                                             int *score)
{
    const struct intel_reader *best = NULL;
    *score = 0;
    for (size_t i = 0; intel_readers[i]; i++) {
        int s = intel_readers[i]->sniff(head, n, path);
        if (s > *score) {
            *score = s;
            best = intel_readers[i];
        }
    }
    return best;
}

static int read_with(const struct intel_reader *r, const char *path,
                     const struct intel_read_opts *o, struct ioc_batch *out)
{
    struct intel_read_stats local;
    memset(&local, 0, sizeof(local));
    struct input *in;
    int rc = input_open(path, &in);
    if (rc < 0) {
        ioc_batch_problem(out, path, "cannot open: %s", strerror(-rc));
        return rc;
    }
    struct intel_read_ctx c = {
        .in = in, .path = path, .o = o, .out = out, .st = o->stats ? o->stats : &local};
    c.st->files++;
    rc = r->read(&c);
    input_close(in);
    return c.chunk_error ? c.chunk_error : rc;
}

int intel_read_path(const char *path, const struct intel_read_opts *o_in, struct ioc_batch *out)
{
    struct intel_read_opts def;
    if (!o_in) {
        intel_read_opts_default(&def);
        o_in = &def;
    }
    struct intel_read_opts o = *o_in;
    if (!o.max_line)
        o.max_line = 64 * 1024;
    if (!o.max_indicators)
        o.max_indicators = 50000000;
    const struct intel_reader *r = NULL;
    if (o.format && strcasecmp(o.format, "auto")) {
        r = intel_reader_find(o.format);
        if (!r) {
            ioc_batch_init(out, path, o.format);
            ioc_batch_problem(out, path, "unknown indicator format '%s'", o.format);
            return -EINVAL;
        }
    } else if (!strcmp(path, "-")) {
        ioc_batch_init(out, path, "");
        ioc_batch_problem(out, path, "standard input needs its format named");
        return -EINVAL;
    } else {
        char head[4096];
        long n = reader_sniff(path, head, sizeof(head));
        if (n < 0) {
            ioc_batch_init(out, path, "");
            ioc_batch_problem(out, path, "cannot read: %s", strerror((int)-n));
            return (int)n;
        }
        int score;
        r = sniff_best(head, (size_t)n, path, &score);
        if (!r) {
            ioc_batch_init(out, path, "");
            ioc_batch_problem(out, path, "not a format of indicators kenchi reads");
            return -EINVAL;
        }
    }
    ioc_batch_init(out, path, r->name);
    int rc = read_with(r, path, &o, out);
    intel_expand_patterns(out);
    return rc;
}

static bool list_name(const char *name)
{
    static const char *const exts[] = {".txt", ".list", ".lst"};
    size_t l = strlen(name);
    for (size_t i = 0; i < 3; i++) {
        size_t el = strlen(exts[i]);
        if (l > el && !strcasecmp(name + l - el, exts[i]))
            return true;
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Should a file met in a directory be read? */
static bool wanted(const char *path, const char *name, const struct intel_read_opts *o)
{
    char head[4096];
    long n = reader_sniff(path, head, sizeof(head));
    if (n < 0)
        return true; /* reading it reports the error */
    int score = 0;
    const struct intel_reader *r;
    if (o->format && strcasecmp(o->format, "auto")) {
        r = intel_reader_find(o->format);
        score = r ? r->sniff(head, (size_t)n, path) : 2;
    } else {
        r = sniff_best(head, (size_t)n, path, &score);
    }
    if (score >= 2)
        return true;
    return score == 1 && o->type != INTEL_TYPE_NONE && list_name(name);
}

/* A MISP feed is a directory with a manifest.json: read as one batch. */
static bool is_misp_feed(const char *dir, const struct intel_read_opts *o)
{
    if (o->format && !strcasecmp(o->format, "misp-feed"))
        return true;
    char *m = NULL;
    if (asprintf(&m, "%s/manifest.json", dir) < 0)
        abort();
    struct stat sb;
    bool yes = stat(m, &sb) == 0 && S_ISREG(sb.st_mode);
    free(m);
    return yes;
}

static int read_misp_feed(const char *dir, const struct intel_read_opts *o, intel_batch_fn fn,
                          void *opaque)
{
    struct ioc_batch b;
    ioc_batch_init(&b, dir, "misp-feed");
    size_t before = b.niocs;
    int r = misp_feed_read(dir, &b);
    intel_expand_patterns(&b);
    if (o->stats) {
        o->stats->files++;
        o->stats->indicators += b.niocs - before;
    }
    int rc = fn(opaque, &b, r);
    ioc_batch_free(&b);
    return rc;
}

static int walk(const char *path, const struct intel_read_opts *o, intel_batch_fn fn, void *opaque,
                int depth)
{
    if (is_misp_feed(path, o))
        return read_misp_feed(path, o, fn, opaque);
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
    if (nn) /* an empty directory: names is NULL */
        qsort(names, nn, sizeof(*names), cmp_names);
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        char *child = NULL;
        size_t pl = strlen(path);
        bool slash = pl && path[pl - 1] == '/';
        if (asprintf(&child, "%s%s%s", path, slash ? "" : "/", names[i]) < 0)
            abort();
        struct stat sb;
        if (stat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (depth < 16)
                rc = walk(child, o, fn, opaque, depth + 1);
        } else if (stat(child, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (wanted(child, names[i], o)) {
                struct ioc_batch b;
                int r = intel_read_path(child, o, &b);
                rc = fn(opaque, &b, r);
                ioc_batch_free(&b);
            } else if (o->stats) {
                o->stats->files_skipped++;
            }
        }
        free(child);
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    return rc;
}

int intel_read_tree(const char *path, const struct intel_read_opts *o, intel_batch_fn fn,
                    void *opaque)
{
    struct intel_read_opts def;
    if (!o) {
        intel_read_opts_default(&def);
        o = &def;
    }
    struct stat sb;
    if (strcmp(path, "-") && stat(path, &sb) < 0)
        return -errno;
    if (strcmp(path, "-") && S_ISDIR(sb.st_mode))
        return walk(path, o, fn, opaque, 0);
    struct ioc_batch b;
    int r = intel_read_path(path, o, &b);
    int rc = fn(opaque, &b, r);
    ioc_batch_free(&b);
    return rc;
}
