/*
 * bench_stix_misp.c - reading STIX bundles and MISP events, and writing STIX,
 * on one core, beside a plain jansson parse of the same text.
 *
 *   bench_stix_misp [--indicators N] [--attributes N] [--sightings N]
 *
 * The inputs are generated in memory (deterministic): a STIX bundle of N
 * indicators (names, labels, kill-chain phases, TLP markings, and one
 * relationship per ten indicators to a malware object), a MISP event of N
 * attributes of mixed types with tags, and N sightings for the export.
 * Each measurement runs in a child process of its own, so that its memory
 * figure is its own: peak resident memory above what the process held when
 * it started (the input text is shared with the parent).
 *
 * The baseline is jansson's json_loadb() of the whole text (a DOM, as a
 * reader that is not streaming would build) plus a walk over its objects:
 * the readers parse every object with jansson too, so the ratio shows what
 * the one-object-at-a-time reading and the batch building cost, and the
 * memory column what streaming saves.
 *
 * Prints one line per measurement: what=..., items, cpu_s, items_per_s,
 * mb_per_s, mem_kb, and for the readers ratio_cpu and ratio_mem to the
 * baseline of the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intel/misp.h"
#include "intel/stix-bundle.h"
#include "intel/stix-export.h"
#include "util/timeconv.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    size_t kn = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, kn))
            kb = strtol(line + kn, NULL, 10);
    fclose(f);
    return kb;
}

static void make_bundle(struct buf *b, size_t n)
{
    static const char *const marks[] = {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                                        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                                        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
    buf_puts(b, "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
                "\"objects\":[\n");
    for (size_t i = 0; i < n; i++) {
        unsigned a = (unsigned)(i * 2654435761u);
        buf_printf(b,
                   "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08zx-"
                   "0000-4000-8000-%012zx\",\"created\":\"2024-03-01T00:00:00.000Z\","
                   "\"modified\":\"2024-03-01T00:00:00.000Z\",\"name\":\"C2 address %zu\","
                   "\"indicator_types\":[\"malicious-activity\"],\"labels\":[\"c2\",\"wave-%zu\"],"
                   "\"pattern\":\"[ipv4-addr:value = '%u.%u.%u.%u']\",\"pattern_type\":\"stix\","
                   "\"valid_from\":\"2024-03-01T00:00:00Z\",\"kill_chain_phases\":[{"
                   "\"kill_chain_name\":\"mitre-attack\",\"phase_name\":\"command-and-control\"}],"
                   "\"object_marking_refs\":[\"%s\"]},\n",
                   i, i, i, i % 7, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, marks[i % 3]);
        if (i % 10 == 0)
            buf_printf(
                b,
                "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--"
                "%08zx-0000-4000-8000-000000000001\",\"created\":\"2024-03-01T00:00:00.000Z\","
                "\"modified\":\"2024-03-01T00:00:00.000Z\",\"relationship_type\":\"indicates\","
                "\"source_ref\":\"indicator--%08zx-0000-4000-8000-%012zx\",\"target_ref\":"
                "\"malware--00000000-0000-4000-8000-%012zx\"},\n",
                i, i, i, i % 50);
    }
    for (size_t k = 0; k < 50; k++)
        buf_printf(b,
                   "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--00000000-0000-"
                   "4000-8000-%012zx\",\"created\":\"2024-03-01T00:00:00.000Z\",\"modified\":"
                   "\"2024-03-01T00:00:00.000Z\",\"name\":\"Family %zu\",\"is_family\":true}%s\n",
                   k, k, k == 49 ? "" : ",");
    buf_puts(b, "]}\n");
}

static void make_event(struct buf *b, size_t n)
{
    buf_puts(b, "{\"Event\":{\"uuid\":\"5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f\",\"info\":\"bench\","
                "\"published\":true,\"threat_level_id\":\"2\",\"Tag\":[{\"name\":\"tlp:amber\"},"
                "{\"name\":\"type:OSINT\"}],\"Attribute\":[\n");
    for (size_t i = 0; i < n; i++) {
        unsigned a = (unsigned)(i * 2654435761u);
        const char *comma = i + 1 < n ? "," : "";
        switch (i % 4) {
        case 0:
            buf_printf(b,
                       "{\"uuid\":\"a1000000-0000-4000-8000-%012zx\",\"type\":\"ip-dst\","
                       "\"category\":\"Network activity\",\"to_ids\":true,\"deleted\":false,"
                       "\"value\":\"%u.%u.%u.%u\",\"timestamp\":\"1709290000\"}%s\n",
                       i, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, comma);
            break;
        case 1:
            buf_printf(
                b,
                "{\"uuid\":\"a1000000-0000-4000-8000-%012zx\",\"type\":\"domain|ip\","
                "\"category\":\"Network activity\",\"to_ids\":true,\"deleted\":false,"
                "\"value\":\"h%zu.example.net|192.0.2.%u\",\"timestamp\":\"1709290000\"}%s\n",
                i, i, a & 255, comma);
            break;
        case 2:
            buf_printf(b,
                       "{\"uuid\":\"a1000000-0000-4000-8000-%012zx\",\"type\":\"filename|sha256\","
                       "\"category\":\"Payload delivery\",\"to_ids\":true,\"deleted\":false,"
                       "\"value\":\"f%zu.exe|%064zx\",\"timestamp\":\"1709290000\"}%s\n",
                       i, i, i, comma);
            break;
        default:
            buf_printf(
                b,
                "{\"uuid\":\"a1000000-0000-4000-8000-%012zx\",\"type\":\"url\","
                "\"category\":\"Network activity\",\"to_ids\":false,\"deleted\":false,"
                "\"value\":\"https://h%zu.example.org/x?i=%zu\",\"timestamp\":\"1709290000\","
                "\"Tag\":[{\"name\":\"tlp:red\"}]}%s\n",
                i, i, i, comma);
        }
    }
    buf_puts(b, "]}}\n");
}

struct job {
    const char *what;
    const struct buf *text;
    size_t n;
};

/* Run one measurement in a child; it writes "cpu items mem_kb" to fd. */
static void run_child(const struct job *j, int fd)
{
    long base = status_kb("VmRSS:");
    double t0 = cpu_s();
    size_t items = 0;
    if (!strcmp(j->what, "stix_read")) {
        struct ioc_batch b;
        ioc_batch_init(&b, "bench", "stix");
        stix_objects_read(j->text->data, j->text->len, "bench", &b);
        items = b.niocs;
        ioc_batch_free(&b); /* after the peak */
    } else if (!strcmp(j->what, "misp_read")) {
        struct ioc_batch b;
        ioc_batch_init(&b, "bench", "misp");
        misp_json_read(j->text->data, j->text->len, "bench", &b);
        items = b.niocs;
        ioc_batch_free(&b);
    } else if (!strcmp(j->what, "jansson_dom")) {
        json_error_t err;
        json_t *root = json_loadb(j->text->data, j->text->len, 0, &err);
        json_t *list = json_object_get(root, "objects");
        if (!list)
            list = json_object_get(json_object_get(root, "Event"), "Attribute");
        size_t i;
        json_t *o;
        json_array_foreach(list, i, o)
        {
            items += json_object_get(o, "pattern") || json_object_get(o, "value");
        }
        json_decref(root);
    } else if (!strcmp(j->what, "stix_export")) {
        struct stix_export_opts o = {.identity_name = "bench", .created = 0};
        struct stix_export *x = stix_export_new(&o);
        struct ioc_meta m;
        ioc_meta_init(&m);
        m.name = "bench indicator";
        for (size_t i = 0; i < j->n; i++) {
            char v[64], s1[32], s2[32];
            snprintf(v, sizeof(v), "10.%zu.%zu.0/24", (i >> 8) & 255, i & 255);
            snprintf(s1, sizeof(s1), "10.%zu.%zu.7", (i >> 8) & 255, i & 255);
            snprintf(s2, sizeof(s2), "10.%zu.%zu.9", (i >> 8) & 255, i & 255);
            const char *seen[] = {s1, s2};
            struct ioc c = {.type = IOC_IP, .value = v};
            stix_export_add_sighting(x, &c, &m, 1 + i % 100, (int64_t)i * NS_PER_SEC,
                                     (int64_t)(i + 3600) * NS_PER_SEC, seen, 2);
        }
        struct buf out;
        buf_init(&out);
        stix_export_write(x, &out);
        items = j->n;
        stix_export_free(x);
        buf_free(&out);
    }
    double cpu = cpu_s() - t0;
    long peak = status_kb("VmHWM:");
    char line[128];
    int len = snprintf(line, sizeof(line), "%.6f %zu %ld\n", cpu, items, peak - base);
    if (write(fd, line, (size_t)len) != len)
        _exit(1);
    _exit(0);
}

static int measure(const struct job *j, double *cpu, size_t *items, long *mem_kb)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        run_child(j, p[1]);
    }
    close(p[1]);
    char line[128] = {0};
    ssize_t r = read(p[0], line, sizeof(line) - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (r <= 0 || sscanf(line, "%lf %zu %ld", cpu, items, mem_kb) != 3)
        return -1;
    return 0;
}

static void report(const char *what, const struct buf *text, size_t n, const char *unit)
{
    struct job j = {what, text, n}, base = {"jansson_dom", text, n};
    double cpu, bcpu;
    size_t items, bitems;
    long mem, bmem;
    if (measure(&j, &cpu, &items, &mem) < 0) {
        printf("what=%s error\n", what);
        return;
    }
    printf("what=%s %s=%zu cpu_s=%.3f %s_per_s=%.0f", what, unit, items, cpu, unit,
           cpu > 0 ? (double)items / cpu : 0.0);
    if (text)
        printf(" mb=%.1f mb_per_s=%.1f", (double)text->len / 1e6,
               cpu > 0 ? (double)text->len / 1e6 / cpu : 0.0);
    printf(" mem_kb=%ld", mem);
    if (text && measure(&base, &bcpu, &bitems, &bmem) == 0)
        printf(" baseline=jansson_dom baseline_cpu_s=%.3f baseline_mem_kb=%ld ratio_cpu=%.2f "
               "ratio_mem=%.2f",
               bcpu, bmem, bcpu > 0 ? cpu / bcpu : 0.0,
               bmem > 0 ? (double)mem / (double)bmem : 0.0);
    printf("\n");
}

int main(int argc, char **argv)
{
    size_t nind = 200000, nattr = 200000, nsight = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--indicators"))
            nind = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--attributes"))
            nattr = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--sightings"))
            nsight = strtoull(argv[i + 1], NULL, 10);
    }
    struct buf bundle, event;
    buf_init(&bundle);
    buf_init(&event);
    make_bundle(&bundle, nind);
    make_event(&event, nattr);
    report("stix_read", &bundle, nind, "indicators");
    report("misp_read", &event, nattr, "iocs");
    report("stix_export", NULL, nsight, "sightings");
    buf_free(&bundle);
    buf_free(&event);
    return 0;
}
