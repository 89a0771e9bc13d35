/*
 * bench_intel.c - loading indicators, and matching them on every event.
 *
 * (a) Load, through the readers and the set as `kenchi scan --intel` does
 *     (intel_read_tree, intel_set_add_batch, intel_set_compact):
 *       - the Zeek intel feeds under $KENCHI_SHARED/data/intel/
 *         zeek-intelligence-feeds (skipped, with the reason, when absent);
 *       - N generated indicators (default 1,000,000) written as one Zeek
 *         intel file: 55 % IPv4 addresses, 3 % IPv4 networks, 2 % IPv6,
 *         25 % domains, 8 % URLs, 2 % e-mail addresses, 5 % hashes; ten
 *         feeds with ten descriptions each.
 *     Printed: CPU seconds, the set's bytes per indicator (everything it
 *     holds: values, tables, entries, metadata), and beside it, as the
 *     baseline of the same run, the feed files' bytes per indicator (Zeek's
 *     intel framework takes 6-7 times its files' size in memory).
 *     With the MISP warning lists ($KENCHI_SHARED/data/intel/
 *     misp-warninglists), also: loading them, and applying them to the N
 *     generated indicators.
 * (b) Match: M generated events (default 500,000) of a mail server and its
 *     Zeek sensor (Postfix smtpd and deliveries, Dovecot logins, Zeek conn,
 *     dns, http, ssl, files) go through the intel detector (lookups of
 *     every field, validity, alert rendering) with 0, 10,000 and N
 *     indicators loaded, in the same run; one event in a thousand holds an
 *     indicator of the set. Printed: events per CPU-second and the ratios.
 *
 * Usage: bench_intel [N] [M] [DIR]   (defaults 1000000, 500000, $TMPDIR or /tmp)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "detect/detector.h"
#include "detect/intel-detector.h"
#include "intel/intel-read.h"
#include "intel/intel-set.h"
#include "intel/warninglist.h"
#include "util/arena.h"
#include "util/timeconv.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *num(uint64_t v, char *buf)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ---- generated values -------------------------------------------------- */

static const char *const tlds[] = {"com",  "net", "org", "ru", "cn",
                                   "info", "xyz", "top", "io", "de"};

static void rand_label(char *out, int min, int max)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int n = min + (int)(rnd() % (unsigned)(max - min + 1));
    for (int i = 0; i < n; i++)
        out[i] = al[rnd() % 36];
    out[n] = '\0';
}

static void rand_domain(char *out, size_t size)
{
    char a[20], b[20];
    rand_label(a, 5, 14);
    if (rnd() % 4 == 0) {
        rand_label(b, 3, 8);
        snprintf(out, size, "%s.%s.%s", b, a, tlds[rnd() % 10]);
    } else {
        snprintf(out, size, "%s.%s", a, tlds[rnd() % 10]);
    }
}

static void rand_ip(char *out, size_t size)
{
    snprintf(out, size, "%u.%u.%u.%u", (unsigned)(1 + rnd() % 222), (unsigned)(rnd() % 256),
             (unsigned)(rnd() % 256), (unsigned)(1 + rnd() % 254));
}

static void rand_hex(char *out, int n)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < n; i++)
        out[i] = hx[rnd() % 16];
    out[n] = '\0';
}

/* One generated indicator: its Zeek type and value. */
static const char *gen_indicator(char *v, size_t size)
{
    unsigned r = (unsigned)(rnd() % 100);
    if (r < 55) {
        rand_ip(v, size);
        return "Intel::ADDR";
    }
    if (r < 58) {
        snprintf(v, size, "%u.%u.%u.0/24", (unsigned)(1 + rnd() % 222), (unsigned)(rnd() % 256),
                 (unsigned)(rnd() % 256));
        return "Intel::SUBNET";
    }
    if (r < 60) {
        snprintf(v, size, "2001:db8:%x:%x::%x", (unsigned)(rnd() % 65536),
                 (unsigned)(rnd() % 65536), (unsigned)(1 + rnd() % 65535));
        return "Intel::ADDR";
    }
    if (r < 85) {
        rand_domain(v, size);
        return "Intel::DOMAIN";
    }
    if (r < 93) {
        char d[64], p[20];
        rand_domain(d, sizeof(d));
        rand_label(p, 4, 12);
        snprintf(v, size, "http://%s/%s/login.php?id=%u", d, p, (unsigned)(rnd() % 100000));
        return "Intel::URL";
    }
    if (r < 95) {
        char d[64], u[20];
        rand_domain(d, sizeof(d));
        rand_label(u, 4, 10);
        snprintf(v, size, "%s@%s", u, d);
        return "Intel::EMAIL";
    }
    rand_hex(v, r < 97 ? 32 : r < 98 ? 40 : 64);
    return "Intel::FILE_HASH";
}

/* Write n generated indicators as a Zeek intel file; returns its size. */
static long write_feed(const char *path, uint64_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_intel: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    fputs("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.do_notice\n", f);
    char v[256];
    for (uint64_t i = 0; i < n; i++) {
        const char *t = gen_indicator(v, sizeof(v));
        fprintf(f, "%s\t%s\tfeed-%u\tcampaign-%u\tF\n", v, t, (unsigned)(i % 10),
                (unsigned)(rnd() % 10));
    }
    long size = ftell(f);
    fclose(f);
    return size;
}

/* ---- loading ------------------------------------------------------------ */

struct load {
    struct intel_set *set;
    struct warninglists *wl;
    double apply_cpu;
    uint64_t flagged;
    uint64_t read;
};

static int on_batch(void *opaque, struct ioc_batch *b, int rc)
{
    (void)rc;
    struct load *l = opaque;
    l->read += b->niocs;
    if (l->wl) {
        double c0 = cpu_s();
        l->flagged += warninglist_apply(l->wl, b);
        l->apply_cpu += cpu_s() - c0;
    }
    return intel_set_add_batch(l->set, b);
}

static long tree_bytes(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (long)st.st_size;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "cat '%s'/*.intel | wc -c", path);
    FILE *p = popen(cmd, "r");
    long n = 0;
    if (p) {
        if (fscanf(p, "%ld", &n) != 1)
            n = 0;
        pclose(p);
    }
    return n;
}

/* Load path into a new set; print the line. */
static struct intel_set *load(const char *label, const char *path, struct warninglists *wl,
                              struct load *out)
{
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    memset(out, 0, sizeof(*out));
    out->set = intel_set_new();
    out->wl = wl;
    double c0 = cpu_s(), w0 = wall_s();
    if (intel_read_tree(path, &o, on_batch, out) < 0) {
        fprintf(stderr, "bench_intel: %s: cannot read\n", path);
        exit(3);
    }
    intel_set_compact(out->set);
    double cpu = cpu_s() - c0, wall = wall_s() - w0;
    struct intel_set_stats st;
    intel_set_get_stats(out->set, &st);
    long fbytes = tree_bytes(path);
    double per = (double)st.bytes / (double)(st.indicators ? st.indicators : 1);
    double fper = (double)fbytes / (double)(st.indicators ? st.indicators : 1);
    char a[32], b[32];
    printf("load %-22s %12s indicators (%s read)  %6.2f CPU-s (%.2f wall)  %6.1f B/indicator"
           "  | baseline: feed file %6.1f B/indicator  set/file %.2fx (Zeek intel: 6-7x)\n",
           label, num(st.indicators, a), num(out->read, b), cpu - out->apply_cpu, wall, per, fper,
           per / fper);
    return out->set;
}

/* ---- events ------------------------------------------------------------- */

struct pool {
    char **v[8]; /* by kind: ip, domain, url, email, md5, sha1, sha256, ua */
    size_t n[8];
};

static const char *pick(const struct pool *p, int kind)
{
    return p->n[kind] ? p->v[kind][rnd() % p->n[kind]] : NULL;
}

static struct str S(struct arena *a, const char *s) {
    return str_make(arena_strndup(a, s, strlen(s)), strlen(s));
}

static void
gen_event(struct event *ev, struct arena *a, uint64_t i, const struct pool *hit)
{
    event_init(ev, a);
    ev->ts_ns = time_from_utc(2024, 3, 4, 0, 0, 0, 0) + (int64_t)i * 10000000;
    ev->file = "bench.log";
    ev->line = i + 1;
    ev->id = i + 1;
    bool h = rnd() % 1000 == 0;
    char ip[64], ip2[64], d[128], buf[512], u[20];
    rand_ip(ip, sizeof(ip));
    rand_ip(ip2, sizeof(ip2));
    rand_domain(d, sizeof(d));
    const char *hv;
    switch (rnd() % 8) {
    case 0: /* postfix smtpd client */
        ev->ls.product = "postfix";
        ev->ls.service = "smtpd";
        if (h && (hv = pick(hit, 0)))
            snprintf(ip, sizeof(ip), "%s", hv);
        ev->core[CORE_SOURCE_IP] = S(a, ip);
        event_add_str(ev, "client_hostname", S(a, d));
        event_add_str(ev, "helo", S(a, d));
        break;
    case 1: /* postfix delivery */
        ev->ls.product = "postfix";
        ev->ls.service = "smtp";
        rand_label(u, 4, 10);
        snprintf(buf, sizeof(buf), "%s@%s", u, d);
        if (h && (hv = pick(hit, 3)))
            snprintf(buf, sizeof(buf), "%s", hv);
        ev->core[CORE_EMAIL_TO_ADDRESS] = S(a, buf);
        ev->core[CORE_EMAIL_FROM_ADDRESS] = S(a, "alice@example.org");
        ev->core[CORE_DESTINATION_IP] = S(a, ip2);
        snprintf(buf, sizeof(buf), "mx.%s", d);
        event_add_str(ev, "relay_host", S(a, buf));
        break;
    case 2: /* dovecot login */
        ev->ls.product = "dovecot";
        ev->ls.service = "imap-login";
        if (h && (hv = pick(hit, 0)))
            snprintf(ip, sizeof(ip), "%s", hv);
        ev->core[CORE_SOURCE_IP] = S(a, ip);
        ev->core[CORE_DESTINATION_IP] = S(a, "198.51.100.25");
        ev->core[CORE_USER_NAME] = S(a, "alice@example.org");
        break;
    case 3: /* zeek conn */
        ev->ls.product = "zeek";
        ev->ls.service = "conn";
        ev->core[CORE_SOURCE_IP] = S(a, "198.51.100.25");
        if (h && (hv = pick(hit, 0)))
            snprintf(ip2, sizeof(ip2), "%s", hv);
        ev->core[CORE_DESTINATION_IP] = S(a, ip2);
        break;
    case 4: /* zeek dns */
        ev->ls.product = "zeek";
        ev->ls.service = "dns";
        ev->core[CORE_SOURCE_IP] = S(a, "198.51.100.25");
        ev->core[CORE_DESTINATION_IP] = S(a, "192.0.2.53");
        if (h && (hv = pick(hit, 1)))
            snprintf(buf, sizeof(buf), "www.%s", hv);
        else
            snprintf(buf, sizeof(buf), "www.%s", d);
        ev->core[CORE_DNS_QUESTION_NAME] = S(a, buf);
        break;
    case 5: /* zeek http */
        ev->ls.product = "zeek";
        ev->ls.service = "http";
        ev->core[CORE_SOURCE_IP] = S(a, "198.51.100.25");
        ev->core[CORE_DESTINATION_IP] = S(a, ip2);
        rand_label(u, 4, 10);
        snprintf(buf, sizeof(buf), "http://%s/%s/index.html", d, u);
        if (h && (hv = pick(hit, 2)))
            snprintf(buf, sizeof(buf), "http://%s", hv);
        ev->core[CORE_URL_FULL] = S(a, buf);
        event_add_str(ev, "host", S(a, d));
        event_add_str(ev, "user_agent",
                      S(a, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"));
        break;
    case 6: /* zeek ssl */
        ev->ls.product = "zeek";
        ev->ls.service = "ssl";
        ev->core[CORE_SOURCE_IP] = S(a, "198.51.100.25");
        ev->core[CORE_DESTINATION_IP] = S(a, ip2);
        event_add_str(ev, "server_name", S(a, d));
        break;
    default: /* zeek files */
        ev->ls.product = "zeek";
        ev->ls.service = "files";
        rand_hex(buf, 32);
        ev->core[CORE_FILE_HASH_MD5] = S(a, buf);
        rand_hex(buf, 40);
        ev->core[CORE_FILE_HASH_SHA1] = S(a, buf);
        rand_hex(buf, 64);
        if (h && (hv = pick(hit, 6)))
            snprintf(buf, sizeof(buf), "%s", hv);
        ev->core[CORE_FILE_HASH_SHA256] = S(a, buf);
        ev->core[CORE_FILE_NAME] = S(a, "invoice.pdf");
        break;
    }
}

/* Values of the set by kind, for events that hit. */
static void pool_from_feed(const char *path, uint64_t limit, struct pool *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        exit(3);
    char line[1024];
    uint64_t k = 0;
    size_t cap[8] = {0};
    while (fgets(line, sizeof(line), f) && k < limit) {
        if (line[0] == '#')
            continue;
        k++;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *t = tab + 1;
        int kind = -1;
        if (!strncmp(t, "Intel::ADDR", 11) && !strchr(line, ':'))
            kind = 0;
        else if (!strncmp(t, "Intel::DOMAIN", 13))
            kind = 1;
        else if (!strncmp(t, "Intel::URL", 10))
            kind = 2;
        else if (!strncmp(t, "Intel::EMAIL", 12))
            kind = 3;
        else if (!strncmp(t, "Intel::FILE_HASH", 16) && strlen(line) == 64)
            kind = 6;
        if (kind < 0 || p->n[kind] >= 100000)
            continue;
        if (p->n[kind] == cap[kind]) {
            cap[kind] = cap[kind] ? cap[kind] * 2 : 1024;
            p->v[kind] = realloc(p->v[kind], cap[kind] * sizeof(char *));
        }
        p->v[kind][p->n[kind]++] = strdup(line + (kind == 2 ? 7 : 0));
    }
    fclose(f);
}

static void pool_free(struct pool *p)
{
    for (int k = 0; k < 8; k++) {
        for (size_t i = 0; i < p->n[k]; i++)
            free(p->v[k][i]);
        free(p->v[k]);
    }
}

/* Run m events through the intel detector over s; events per CPU-second. */
static double run_match(const struct intel_set *s, uint64_t m, const struct pool *hit,
                        uint64_t *alerts)
{
    struct detector *d = detector_new_opts(NULL, NULL);
    struct intel_detector *x = intel_detector_new(s);
    struct alert_source src = intel_detector_source(x);
    detector_add_source(d, &src);
    struct event_sink sink = detector_sink(d);
    enum { BATCH = 1024 };
    static struct event evs[BATCH];
    struct arena a;
    arena_init(&a, 1 << 20);
    rng_state = 0x1234567887654321ULL; /* the same events for every set */
    double busy = 0;
    for (uint64_t i = 0; i < m; i += BATCH) {
        size_t n = m - i < BATCH ? (size_t)(m - i) : BATCH;
        arena_reset(&a);
        for (size_t k = 0; k < n; k++)
            gen_event(&evs[k], &a, i + k, hit);
        double c0 = cpu_s();
        sink.on_batch(sink.opaque, evs, n);
        busy += cpu_s() - c0;
    }
    struct intel_detector_stats st;
    intel_detector_stats(x, &st);
    *alerts = st.alerts;
    intel_detector_free(x);
    detector_free(d);
    arena_free(&a);
    return (double)m / busy;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t m = argc > 2 ? strtoull(argv[2], NULL, 10) : 500000;
    const char *tmpdir = argc > 3 ? argv[3] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *shared = getenv("KENCHI_SHARED") ? getenv("KENCHI_SHARED") : "../shared";
    char feeds[4096], wlpath[4096], gen[4096], small[4096];
    snprintf(feeds, sizeof(feeds), "%s/data/intel/zeek-intelligence-feeds", shared);
    snprintf(wlpath, sizeof(wlpath), "%s/data/intel/misp-warninglists/lists", shared);
    snprintf(gen, sizeof(gen), "%s/kenchi-bench-intel-%d.intel", tmpdir, (int)getpid());
    snprintf(small, sizeof(small), "%s/kenchi-bench-intel-10k-%d.intel", tmpdir, (int)getpid());
    char a[32], b[32];

    printf("bench_intel: %s generated indicators, %s events\n", num(n, a), num(m, b));
    struct load l;
    struct stat st;
    if (stat(feeds, &st) == 0) {
        struct intel_set *zs = load("zeek feeds", feeds, NULL, &l);
        intel_set_free(zs);
    } else {
        printf("load zeek feeds: skipped (%s is absent)\n", feeds);
    }
    rng_state = 0x9E3779B97F4A7C15ULL;
    write_feed(gen, n);
    struct intel_set *big = load("generated", gen, NULL, &l);
    /* the first 10,000 lines of the same feed */
    FILE *in = fopen(gen, "r"), *out = fopen(small, "w");
    char line[1024];
    for (int i = 0; in && out && i < 10001 && fgets(line, sizeof(line), in); i++)
        fputs(line, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    struct load l10;
    struct intel_set *mid = load("generated 10k", small, NULL, &l10);

    if (stat(wlpath, &st) == 0) {
        double c0 = cpu_s();
        struct warninglists *wl = warninglists_new(NULL);
        int nl = warninglists_load(wl, wlpath);
        double wl_cpu = cpu_s() - c0;
        printf("warning lists: %d lists loaded in %.2f CPU-s\n", nl, wl_cpu);
        struct load lw;
        struct intel_set *s = load("generated + lists", gen, wl, &lw);
        printf("warning lists applied to %s indicators: %.2f CPU-s (%.2f us/indicator), %s "
               "flagged\n",
               num(lw.read, a), lw.apply_cpu, lw.apply_cpu * 1e6 / (double)(lw.read ? lw.read : 1),
               num(lw.flagged, b));
        intel_set_free(s);
        warninglists_free(wl);
    } else {
        printf("warning lists: skipped (%s is absent)\n", wlpath);
    }

    struct pool hit_big = {0}, hit_mid = {0};
    pool_from_feed(gen, n, &hit_big);
    pool_from_feed(small, 10000, &hit_mid);
    struct intel_set *none = intel_set_new();
    uint64_t al0, al1, al2;
    double r0 = run_match(none, m, &hit_mid, &al0);
    double r1 = run_match(mid, m, &hit_mid, &al1);
    double r2 = run_match(big, m, &hit_big, &al2);
    printf("match %-12s %12.0f events/CPU-s  %8s alerts\n", "0", r0, num(al0, a));
    printf("match %-12s %12.0f events/CPU-s  %8s alerts  %.2fx of the empty set\n", "10,000", r1,
           num(al1, a), r1 / r0);
    printf("match %-12s %12.0f events/CPU-s  %8s alerts  %.2fx of the empty set, %.2fx of 10,000\n",
           num(intel_set_count(big), b), r2, num(al2, a), r2 / r0, r2 / r1);
    pool_free(&hit_big);
    pool_free(&hit_mid);
    intel_set_free(none);
    intel_set_free(mid);
    intel_set_free(big);
    unlink(gen);
    unlink(small);
    return 0;
}
