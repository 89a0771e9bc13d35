/*
 * bench_sigma.c - Sigma matching throughput on a realistic Windows stream.
 *
 * Loads every SigmaHQ rule directory under $KENCHI_SHARED/data/sigma
 * (rules, rules-emerging-threats, rules-threat-hunting, ...) and streams a
 * generated mix of Windows events through sigma_match():
 *
 *   - benign background, built as flat JSON lines and decoded by the
 *     Windows decoder: Sysmon process creation (varied images, parents,
 *     command lines, users, hosts), Security 4624 / 4625 / 4688, PowerShell
 *     4104 script blocks, Sysmon network (3), file (11) and registry (13);
 *   - the SigmaHQ regression events (one JSON file per case) as templates,
 *     decoded once and re-emitted with a varied host and process id, at about
 *     one event in fifty, so rules do fire.
 *
 * Events are generated one at a time into an arena that is reset after each,
 * so nothing is held: peak RSS (VmHWM) is printed after a first and after a
 * second, five times larger, part of the stream to show that memory stays
 * flat. Only the time inside sigma_match() is counted (decoding is measured by
 * the decoder benchmarks). The same stream, shorter, is then run with the
 * prefilter off (every rule of the event's log source evaluated), the ratio
 * printed, and the alerts of the two runs compared one by one (a digest of
 * the (event, rule) pairs in order): the exit status is 1 if they differ.
 *
 * Usage: bench_sigma [EVENTS [NAIVE]]   EVENTS defaults to 5000000 (the first
 * part is EVENTS/5); NAIVE, the naive sample, to 100000 (0: skip it).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "decode/decode.h"
#include "detect/sigma.h"

#define MAX_TEMPLATES 1024

struct bench {
    struct sigma_set *set;
    const struct decoder *win;
    struct decode_ctx ctx;
    struct arena arena;  /* per generated event, reset after each */
    struct arena tarena; /* templates, for the whole run */
    struct event tmpl[MAX_TEMPLATES];
    size_t ntmpl;
    uint64_t rng;
    char line[8192];
};

static uint64_t next_rand(struct bench *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static const char *pick(struct bench *b, const char *const *a, size_t n)
{
    return a[next_rand(b) % n];
}
#define PICK(b, a) pick(b, a, sizeof(a) / sizeof(a[0]))

/* CPU time of this thread: unlike wall-clock time, not lengthened while
 * other processes have the core. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long kb = -1;
    while (f && fgets(l, sizeof(l), f))
        if (!strncmp(l, "VmHWM:", 6))
            kb = strtol(l + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* ---- the benign background ---------------------------------------------- */

/* Process profiles: image, its usual parent and command line arguments
 * (%u: varied numbers), as a quiet workstation shows them. */
struct proc_profile {
    const char *image, *parent, *args, *user;
};
static const struct proc_profile procs[] = {
    {"C:\\\\Windows\\\\System32\\\\svchost.exe", "C:\\\\Windows\\\\System32\\\\services.exe",
     "-k netsvcs -p -s Schedule", "NT AUTHORITY\\\\SYSTEM"},
    {"C:\\\\Windows\\\\System32\\\\svchost.exe", "C:\\\\Windows\\\\System32\\\\services.exe",
     "-k LocalServiceNetworkRestricted -p -s Dhcp", "NT AUTHORITY\\\\LOCAL SERVICE"},
    {"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe",
     "C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe",
     "--type=renderer --field-trial-handle=1812,i,%u --lang=en-US --renderer-client-id=%u",
     "CORP\\\\alice"},
    {"C:\\\\Program Files (x86)\\\\Microsoft\\\\Edge\\\\Application\\\\msedge.exe",
     "C:\\\\Windows\\\\explorer.exe", "--single-argument https://intranet.corp.example/p/%u",
     "CORP\\\\bob"},
    {"C:\\\\Windows\\\\System32\\\\backgroundTaskHost.exe",
     "C:\\\\Windows\\\\System32\\\\svchost.exe",
     "-ServerName:App.AppXmtcan0h2tfbfy7k9kn8hbxb6dmzz1zh0.mca", "CORP\\\\alice"},
    {"C:\\\\Windows\\\\System32\\\\RuntimeBroker.exe", "C:\\\\Windows\\\\System32\\\\svchost.exe",
     "-Embedding", "CORP\\\\bob"},
    {"C:\\\\Windows\\\\System32\\\\taskhostw.exe", "C:\\\\Windows\\\\System32\\\\svchost.exe",
     "Install $(Arg0)", "CORP\\\\alice"},
    {"C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE",
     "C:\\\\Windows\\\\explorer.exe", "/recycle", "CORP\\\\carol"},
    {"C:\\\\Windows\\\\System32\\\\SearchProtocolHost.exe",
     "C:\\\\Windows\\\\System32\\\\SearchIndexer.exe",
     "Global\\\\UsGthrFltPipeMssGthrPipe%u_ Global\\\\UsGthrCtrlFltPipeMssGthrPipe%u 1",
     "NT AUTHORITY\\\\SYSTEM"},
    {"C:\\\\Program Files\\\\Git\\\\cmd\\\\git.exe",
     "C:\\\\Program Files\\\\Microsoft VS Code\\\\Code.exe", "status --porcelain=v%u",
     "CORP\\\\dave"},
    {"C:\\\\Program Files\\\\7-Zip\\\\7zFM.exe", "C:\\\\Windows\\\\explorer.exe",
     "D:\\\\archive\\\\b%u.7z", "CORP\\\\carol"},
    {"C:\\\\Program Files\\\\Microsoft VS Code\\\\Code.exe", "C:\\\\Windows\\\\explorer.exe",
     "D:\\\\work\\\\project%u", "CORP\\\\dave"},
    {"C:\\\\Windows\\\\System32\\\\wbem\\\\WmiPrvSE.exe",
     "C:\\\\Windows\\\\System32\\\\svchost.exe", "-secured -Embedding",
     "NT AUTHORITY\\\\NETWORK SERVICE"},
    {"C:\\\\Windows\\\\System32\\\\notepad.exe", "C:\\\\Windows\\\\explorer.exe",
     "D:\\\\work\\\\notes-%u.txt", "CORP\\\\alice"},
};
static const char *const images[] = {
    "C:\\\\Windows\\\\System32\\\\svchost.exe",
    "C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe",
    "C:\\\\Program Files (x86)\\\\Microsoft\\\\Edge\\\\Application\\\\msedge.exe",
    "C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE",
    "C:\\\\Windows\\\\System32\\\\SearchProtocolHost.exe",
};
static const char *const users[] = {"CORP\\\\alice", "CORP\\\\bob", "NT AUTHORITY\\\\SYSTEM",
                                    "CORP\\\\svc_backup", "NT AUTHORITY\\\\LOCAL SERVICE"};
static const char *const scripts[] = {
    "Get-Date -Format o; Write-Output 'tick %u'",
    "Import-Module Microsoft.PowerShell.Utility; Measure-Object -InputObject %u",
    "$path = Join-Path $env:TEMP 'report%u.csv'; Get-Service | Export-Csv $path",
    "function Test-Port { param($h,$p) (New-Object Net.Sockets.TcpClient).Connect($h,$p) }; "
    "Test-Port srv%u 443",
};
static const char *const files[] = {
    "C:\\\\Users\\\\u%u\\\\AppData\\\\Local\\\\Temp\\\\tmp%u.tmp",
    "C:\\\\Users\\\\u%u\\\\Documents\\\\report-%u.docx",
    "C:\\\\Windows\\\\Prefetch\\\\CHROME.EXE-%u.pf",
    "C:\\\\ProgramData\\\\Microsoft\\\\Windows Defender\\\\Scans\\\\mpcache-%u.bin",
};
static const char *const keys[] = {
    "HKU\\\\S-1-5-21-%u\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Explorer\\\\"
    "RecentDocs\\\\.docx",
    "HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows Defender\\\\Signature Updates\\\\%u",
    "HKU\\\\S-1-5-21-%u\\\\Software\\\\Google\\\\Chrome\\\\PreferenceMACs\\\\Default",
};

/* Append fmt (which may hold two %u) to the line. */
static int gen_benign(struct bench *b)
{
    unsigned a = (unsigned)(next_rand(b) % 100000), c = (unsigned)(next_rand(b) % 1000);
    unsigned host = (unsigned)(next_rand(b) % 500), pid = (unsigned)(next_rand(b) % 65536);
    char arg[512], val[512];
    int k = (int)(next_rand(b) % 100);
    const char *sys =
        "\"Computer\":\"WS%03u.corp.example\",\"TimeCreated\":\"2024-05-01T10:%02u:%02u."
        "123Z\"";
    char sysb[160];
    snprintf(sysb, sizeof(sysb), sys, host, c % 60, a % 60);
    if (k < 45) { /* Sysmon 1 */
        const struct proc_profile *pp = &procs[next_rand(b) % (sizeof(procs) / sizeof(procs[0]))];
        const char *img = pp->image;
        snprintf(arg, sizeof(arg), pp->args, a, c);
        return snprintf(b->line, sizeof(b->line),
                        "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,"
                        "\"Provider_Name\":\"Microsoft-Windows-Sysmon\",%s,"
                        "\"ProcessId\":%u,\"Image\":\"%s\",\"FileVersion\":\"10.0.%u\","
                        "\"Description\":\"Host Process\",\"Product\":\"Microsoft Windows\","
                        "\"Company\":\"Microsoft Corporation\",\"OriginalFileName\":\"app%u.exe\","
                        "\"CommandLine\":\"\\\"%s\\\" %s\",\"CurrentDirectory\":\"C:\\\\Windows\\\\"
                        "system32\\\\\",\"User\":\"%s\",\"IntegrityLevel\":\"Medium\","
                        "\"Hashes\":\"SHA256=%016llX%016llX\",\"ParentImage\":\"%s\","
                        "\"ParentCommandLine\":\"%s\"}",
                        sysb, pid, img, c, c % 7, img, arg, pp->user,
                        (unsigned long long)next_rand(b), (unsigned long long)next_rand(b),
                        pp->parent, pp->parent);
    }
    if (k < 55) { /* Security 4688 */
        const struct proc_profile *pp = &procs[next_rand(b) % (sizeof(procs) / sizeof(procs[0]))];
        snprintf(arg, sizeof(arg), pp->args, a, c);
        return snprintf(b->line, sizeof(b->line),
                        "{\"Channel\":\"Security\",\"EventID\":4688,\"Provider_Name\":"
                        "\"Microsoft-Windows-Security-Auditing\",%s,\"SubjectUserName\":\"u%u\","
                        "\"NewProcessName\":\"%s\",\"CommandLine\":\"%s\",\"ParentProcessName\":"
                        "\"%s\",\"TokenElevationType\":\"%%%%1938\",\"MandatoryLabel\":"
                        "\"S-1-16-8192\"}",
                        sysb, c, pp->image, arg, pp->parent);
    }
    if (k < 67) /* Security 4624 / 4625 */
        return snprintf(b->line, sizeof(b->line),
                        "{\"Channel\":\"Security\",\"EventID\":%u,\"Provider_Name\":"
                        "\"Microsoft-Windows-Security-Auditing\",%s,\"TargetUserName\":\"u%u\","
                        "\"TargetDomainName\":\"CORP\",\"LogonType\":%u,\"IpAddress\":"
                        "\"10.%u.%u.%u\",\"IpPort\":\"%u\",\"WorkstationName\":\"WS%03u\","
                        "\"LogonProcessName\":\"NtLmSsp\",\"AuthenticationPackageName\":\"NTLM\","
                        "\"Status\":\"0xc000006d\",\"SubStatus\":\"0xc000006a\"}",
                        k < 63 ? 4624 : 4625, sysb, c, (unsigned)(a % 2 ? 3 : 2), a % 250, c % 250,
                        host % 250, 49152 + c, host);
    if (k < 75) { /* PowerShell 4104 */
        snprintf(val, sizeof(val), PICK(b, scripts), a);
        return snprintf(
            b->line, sizeof(b->line),
            "{\"Channel\":\"Microsoft-Windows-PowerShell/Operational\",\"EventID\":4104,"
            "\"Provider_Name\":\"Microsoft-Windows-PowerShell\",%s,"
            "\"MessageNumber\":1,\"MessageTotal\":1,\"ScriptBlockText\":\"%s\","
            "\"ScriptBlockId\":\"%08x-1111-2222-3333-444455556666\",\"Path\":\"\"}",
            sysb, val, a);
    }
    if (k < 85) /* Sysmon 3 */
        return snprintf(b->line, sizeof(b->line),
                        "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":3,"
                        "\"Provider_Name\":\"Microsoft-Windows-Sysmon\",%s,\"Image\":\"%s\","
                        "\"User\":\"%s\",\"Protocol\":\"tcp\",\"Initiated\":\"true\","
                        "\"SourceIp\":\"10.1.%u.%u\",\"SourcePort\":%u,\"DestinationIp\":"
                        "\"93.184.%u.%u\",\"DestinationPort\":%u,\"DestinationHostname\":"
                        "\"cdn%u.example.net\"}",
                        sysb, PICK(b, images), PICK(b, users), c % 250, a % 250, 49152 + a % 16000,
                        c % 250, a % 250, k % 2 ? 443u : 80u, c);
    if (k < 93) { /* Sysmon 11 */
        snprintf(val, sizeof(val), PICK(b, files), c, a);
        return snprintf(b->line, sizeof(b->line),
                        "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":11,"
                        "\"Provider_Name\":\"Microsoft-Windows-Sysmon\",%s,\"Image\":\"%s\","
                        "\"TargetFilename\":\"%s\",\"User\":\"%s\"}",
                        sysb, PICK(b, images), val, PICK(b, users));
    }
    snprintf(val, sizeof(val), PICK(b, keys), a); /* Sysmon 13 */
    return snprintf(b->line, sizeof(b->line),
                    "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":13,"
                    "\"Provider_Name\":\"Microsoft-Windows-Sysmon\",%s,\"EventType\":\"SetValue\","
                    "\"Image\":\"%s\",\"TargetObject\":\"%s\",\"Details\":\"DWORD (0x%08x)\","
                    "\"User\":\"%s\"}",
                    sysb, PICK(b, images), val, c, PICK(b, users));
}

/* Decode text (NUL-terminated, in a) into ev. */
static int decode_into(struct bench *b, struct event *ev, struct arena *a, const char *text,
                       size_t n)
{
    event_init(ev, a);
    ev->raw = str_make(text, n);
    if (json_flatten(ev, text, n) < 0)
        return -EINVAL;
    const struct decoder *d = decoder_for_json(ev);
    if (d->decode_json(&b->ctx, ev) < 0)
        return -EINVAL;
    ev->parsed = true;
    if (!ev->format)
        ev->format = d->name;
    return 0;
}

/* ---- regression templates ----------------------------------------------- */

static void load_templates(struct bench *b, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && b->ntmpl < MAX_TEMPLATES) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            load_templates(b, p);
            continue;
        }
        size_t l = strlen(p);
        if (l < 5 || strcmp(p + l - 5, ".json") || st.st_size > 1 << 20)
            continue;
        FILE *f = fopen(p, "rb");
        if (!f)
            continue;
        char *text = arena_alloc(&b->tarena, (size_t)st.st_size + 1);
        size_t n = fread(text, 1, (size_t)st.st_size, f);
        fclose(f);
        text[n] = '\0';
        if (decode_into(b, &b->tmpl[b->ntmpl], &b->tarena, text, n) == 0 &&
            b->tmpl[b->ntmpl].ls.product)
            b->ntmpl++;
    }
    if (d)
        closedir(d);
}

/* A copy of template t with a varied host and process id. */
static void vary_template(struct bench *b, const struct event *t, struct event *ev)
{
    *ev = *t;
    ev->arena = &b->arena;
    ev->fields = arena_alloc(&b->arena, t->nfields * sizeof(*t->fields) + 1);
    memcpy(ev->fields, t->fields, t->nfields * sizeof(*t->fields));
    ev->capfields = t->nfields;
    char *host = arena_alloc(&b->arena, 32), *pid = arena_alloc(&b->arena, 16);
    int hn = snprintf(host, 32, "WS%03u.corp.example", (unsigned)(next_rand(b) % 500));
    int pn = snprintf(pid, 16, "%u", (unsigned)(next_rand(b) % 65536));
    for (uint32_t i = 0; i < ev->nfields; i++) {
        struct field *f = &ev->fields[i];
        if (str_eq(f->key, "Computer"))
            f->val = str_make(host, (size_t)hn);
        else if (str_eq(f->key, "ProcessId"))
            f->val = str_make(pid, (size_t)pn);
    }
    ev->core[CORE_HOST_NAME] = str_make(host, (size_t)hn);
}

/* ---- the run ------------------------------------------------------------ */

struct result {
    uint64_t events, alerts;
    uint64_t digest; /* of the (event, rule) pairs in order: runs compare alert for alert */
    double match_s;
    double cpu_s; /* CPU time of the whole run, generation included */
};

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *fields, size_t nfields)
{
    struct result *res = opaque;
    res->alerts++;
    res->digest = (res->digest ^ (uint64_t)(uintptr_t)r) * 1099511628211ull;
    res->digest = (res->digest ^ res->events) * 1099511628211ull;
    return 0;
}

/* Stream n events (seeded, so every run sees the same stream) through m. */
/* Generate and decode n events from seed and, with m, match them. */
static void run(struct bench *b, struct sigma_matcher *m, uint64_t n, uint64_t seed,
                struct result *res)
{
    b->rng = seed;
    struct event ev;
    double c0 = cpu_s();
    for (uint64_t i = 0; i < n; i++) {
        arena_reset(&b->arena);
        if (b->ntmpl && next_rand(b) % 50 == 0) {
            vary_template(b, &b->tmpl[next_rand(b) % b->ntmpl], &ev);
        } else {
            int len = gen_benign(b);
            if (len <= 0 || (size_t)len >= sizeof(b->line))
                continue;
            char *text = arena_strndup(&b->arena, b->line, (size_t)len);
            if (decode_into(b, &ev, &b->arena, text, (size_t)len) < 0) {
                fprintf(stderr, "bench_sigma: generated event not decoded: %s\n", b->line);
                exit(1);
            }
        }
        res->events++;
        if (!m)
            continue;
        double t0 = now_s();
        sigma_match(m, &ev, on_match, res);
        res->match_s += now_s() - t0;
    }
    res->cpu_s += cpu_s() - c0;
}

/* CPU seconds of generating the n events of seed without matching them: a
 * run's CPU time less this is its CPU time of matching. */
static double gen_cpu(struct bench *b, uint64_t n, uint64_t seed)
{
    struct result g = {0};
    run(b, NULL, n, seed, &g);
    return g.cpu_s;
}

int main(int argc, char **argv)
{
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    const char *shared = getenv("KENCHI_SHARED");
    if (!shared)
        shared = "../shared";
    char sigma[4000];
    snprintf(sigma, sizeof(sigma), "%s/data/sigma", shared);
    DIR *d = opendir(sigma);
    if (!d) {
        printf("bench_sigma: skipped: no SigmaHQ rules at %s (set KENCHI_SHARED)\n", sigma);
        return 0;
    }
    static struct bench b;
    arena_init(&b.arena, 64 * 1024);
    arena_init(&b.tarena, 1 << 20);
    decode_ctx_init(&b.ctx, "bench", 0, 0);
    struct sigma_opts so = {0};
    if (sigma_set_new(&so, &b.set, stderr) < 0)
        return 1;
    double t0 = now_s();
    struct dirent *e;
    char names[16][256];
    size_t nn = 0;
    while ((e = readdir(d)) && nn < 16)
        if (!strncmp(e->d_name, "rules", 5) && strcmp(e->d_name, "rules-placeholder"))
            snprintf(names[nn++], sizeof(names[0]), "%s", e->d_name);
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        char p[8448];
        snprintf(p, sizeof(p), "%s/%s", sigma, names[i]);
        sigma_set_load_path(b.set, p);
    }
    sigma_set_finish(b.set);
    struct sigma_counts c;
    sigma_set_counts(b.set, &c);
    double load_s = now_s() - t0;
    char reg[4200];
    snprintf(reg, sizeof(reg), "%s/regression_data", sigma);
    load_templates(&b, reg);
    printf("bench_sigma: %u rules (%u active) from %zu directories, loaded in %.2f s; "
           "%zu regression events as templates\n",
           c.rules, c.active, nn, load_s, b.ntmpl);

    struct sigma_matcher *m = sigma_matcher_new(b.set);
    if (!m)
        return 1;
    uint64_t first = total / 5;
    struct result r1 = {0}, r2 = {0};
    run(&b, m, first, 88172645463325252ull, &r1);
    long hwm1 = vm_hwm_kb();
    run(&b, m, total - first, 0x9E3779B97F4A7C15ull, &r2);
    long hwm2 = vm_hwm_kb();
    struct sigma_match_stats st;
    sigma_matcher_stats(m, &st);
    double eps = (double)(r1.events + r2.events) / (r1.match_s + r2.match_s);
    double mcpu = r1.cpu_s + r2.cpu_s - gen_cpu(&b, first, 88172645463325252ull) -
                  gen_cpu(&b, total - first, 0x9E3779B97F4A7C15ull);
    printf("prefilter: %llu events, %llu alerts, %.0f events/s/core (match time %.2f s), "
           "%.0f events per CPU-second of matching (%.2f CPU-s), "
           "%.1f rules evaluated per event\n",
           (unsigned long long)(r1.events + r2.events), (unsigned long long)(r1.alerts + r2.alerts),
           eps, r1.match_s + r2.match_s, (double)(r1.events + r2.events) / mcpu, mcpu,
           (double)st.rule_evals / (double)st.events);
    printf("peak RSS (VmHWM): %ld kB after %llu events, %ld kB after %llu events\n", hwm1,
           (unsigned long long)r1.events, hwm2, (unsigned long long)(r1.events + r2.events));
    sigma_matcher_free(m);

    /* the naive path on the first part's stream */
    uint64_t nsample = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    if (nsample > first)
        nsample = first;
    if (!nsample)
        return 0;
    m = sigma_matcher_new(b.set);
    struct result rp = {0}, rn = {0};
    run(&b, m, nsample, 88172645463325252ull, &rp);
    sigma_matcher_free(m);
    m = sigma_matcher_new(b.set);
    sigma_matcher_set_prefilter(m, false);
    run(&b, m, nsample, 88172645463325252ull, &rn);
    sigma_matcher_stats(m, &st);
    sigma_matcher_free(m);
    double eps_n = (double)rn.events / rn.match_s, eps_p = (double)rp.events / rp.match_s;
    double gen = gen_cpu(&b, nsample, 88172645463325252ull);
    double cpu_n = (double)rn.events / (rn.cpu_s - gen),
           cpu_p = (double)rp.events / (rp.cpu_s - gen);
    printf("naive (no prefilter): %llu events, %llu alerts, %.0f events/s/core, "
           "%.0f events per CPU-second, %.1f rules evaluated per event\n",
           (unsigned long long)rn.events, (unsigned long long)rn.alerts, eps_n, cpu_n,
           (double)st.rule_evals / (double)st.events);
    bool same = rp.alerts == rn.alerts && rp.digest == rn.digest;
    printf("same sample with prefilter: %llu alerts, %.0f events/s/core: %.1fx the naive path; "
           "%.0f events per CPU-second: %.1fx%s\n",
           (unsigned long long)rp.alerts, eps_p, eps_p / eps_n, cpu_p, cpu_p / cpu_n,
           same ? "" : "  ALERTS DIFFER");
    sigma_set_free(b.set);
    decode_ctx_fini(&b.ctx);
    arena_free(&b.arena);
    arena_free(&b.tarena);
    return same ? 0 : 1;
}
