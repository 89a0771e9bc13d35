/*
 * bench_bl_account.c - memory of the account baseline module for N accounts
 * (default 100,000) with a realistic profile each, and how honest its own
 * estimate (stats.bytes) is.
 *
 *   build/release/bench/bench_bl_account [ACCOUNTS] [DAYS]
 *
 * Every account works DAYS days (default 21): four IMAP logins a day from
 * its office network, a home network and, one day in three, a mobile
 * carrier network (three /24s of its own), at working hours; a logout with
 * 5-30 MB downloaded; M365 records with two clients; two messages sent
 * through Postfix to external recipients. That fills the sets, hours and
 * the four daily series an ordinary mailbox has.
 *
 * Then SERVERS servers (default 1,000) go through the host module for the
 * same days: every hour each asks the resolver for 4 names (answers from
 * a pool of 20,000 public addresses) and connects to them (HTTPS, a few
 * kB out), plus an NTP exchange by address; 60 destinations a day of
 * their own, 12 of them new each day.
 *
 * Printed: each module's estimate (stats.bytes) per entity and in total,
 * the process's resident memory growth over the same run (the measured
 * baseline), their ratio, and the label pool (interned network and client
 * texts, owned by the engine) apart. Memory only: nothing is timed.
 *
 *   build/release/bench/bench_bl_account [ACCOUNTS] [DAYS] [SERVERS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define T0 1772409600u

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int no_emit(void *o, const struct bl_fact *f)
{
    (void)f;
    (*(unsigned long *)o)++;
    return 0;
}

static struct str S(const char *s) {
    return (struct str){s, strlen(s)};
}

int main(int argc, char **argv)
{
    unsigned accounts = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
    unsigned days = argc > 2 ? (unsigned)atoi(argv[2]) : 21;
    unsigned servers = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
    struct bl_config cfg;
    bl_config_default(&cfg);
    static char *internal[] = {"example.org"};
    cfg.internal_domains = internal;
    cfg.ninternal_domains = 1;
    struct bl_labels labels;
    bl_labels_init(&labels, 0);
    long rss0 = rss_kb();
    void *m = bl_account_module.create(&cfg, &labels);
    unsigned long facts = 0;
    struct bl_ctx ctx = {.cfg = &cfg, .labels = &labels, .emit = no_emit, .opaque = &facts};
    struct arena a;
    arena_init(&a, 1 << 16);
    char user[64], ip[64], to[64], qid[32], bytes[32];
    unsigned long events = 0;
    for (unsigned d = 0; d < days; d++) {
        for (unsigned u = 0; u < accounts; u++) {
            snprintf(user, sizeof user, "user%u@example.org", u);
            for (unsigned k = 0; k < 4; k++) {
                uint32_t t = T0 + d * 86400u + (7 + (u % 3) + 3 * k) * 3600u + u % 3000;
                unsigned which = k == 3 ? (d % 3 == 0 ? 2 : 1) : 0;
                snprintf(ip, sizeof ip, "%u.%u.%u.%u", 20 + which * 60 + (u >> 16), (u >> 8) & 255,
                         u & 255, 1 + k);
                struct event ev;
                event_init(&ev, &a);
                ev.format = "dovecot";
                ev.ts_ns = (int64_t)t * NS_PER_SEC;
                ev.core[CORE_HOST_NAME] = S("imap1");
                ev.core[CORE_USER_NAME] = S(user);
                ev.core[CORE_SOURCE_IP] = S(ip);
                ev.core[CORE_EVENT_ACTION] = S("login");
                ev.core[CORE_EVENT_OUTCOME] = S("success");
                bl_account_module.on_event(m, &ctx, &ev);
                events++;
                arena_reset(&a);
            }
            struct event ev;
            uint32_t t = T0 + d * 86400u + 17 * 3600u + u % 3000;
            event_init(&ev, &a);
            ev.format = "dovecot";
            ev.ts_ns = (int64_t)t * NS_PER_SEC;
            ev.ls.service = "imap";
            ev.core[CORE_HOST_NAME] = S("imap1");
            ev.core[CORE_USER_NAME] = S(user);
            ev.core[CORE_EVENT_ACTION] = S("logout");
            snprintf(bytes, sizeof bytes, "%u", 5000000 + (u * 7919 + d * 104729) % 25000000);
            ev.core[CORE_DESTINATION_BYTES] = S(bytes);
            event_add_copy(&ev, "body_count", "40", 2, VT_NUMBER);
            bl_account_module.on_event(m, &ctx, &ev);
            events++;
            arena_reset(&a);
            for (unsigned k = 0; k < 2; k++) {
                event_init(&ev, &a);
                ev.format = "m365";
                ev.ts_ns = (int64_t)(t - 3600 * (k + 1)) * NS_PER_SEC;
                ev.core[CORE_USER_NAME] = S(user);
                ev.core[CORE_SOURCE_IP] = S(ip);
                ev.core[CORE_EVENT_ACTION] = S("MailItemsAccessed");
                event_add_copy(&ev, "ClientInfoString", k ? "Client=REST" : "Client=MSExchangeRPC",
                               k ? 11 : 20, VT_STRING);
                event_add_copy(&ev, "AppId", "d3590ed6-52b3-4102-aeff-aad2292ab01c", 36, VT_STRING);
                event_add_copy(&ev, "MailboxOwnerUPN", user, strlen(user), VT_STRING);
                bl_account_module.on_event(m, &ctx, &ev);
                events++;
                arena_reset(&a);
                snprintf(qid, sizeof qid, "Q%x%x", u, k);
                event_init(&ev, &a);
                ev.format = "postfix";
                ev.ts_ns = (int64_t)(t - 1800 * (k + 1)) * NS_PER_SEC;
                ev.core[CORE_HOST_NAME] = S("submit1");
                ev.core[CORE_USER_NAME] = S(user);
                ev.core[CORE_SOURCE_IP] = S(ip);
                ev.core[CORE_EVENT_ACTION] = S("client");
                event_add_copy(&ev, "queue_id", qid, strlen(qid), VT_STRING);
                bl_account_module.on_event(m, &ctx, &ev);
                arena_reset(&a);
                event_init(&ev, &a);
                ev.format = "postfix";
                ev.ts_ns = (int64_t)(t - 1800 * (k + 1) + 1) * NS_PER_SEC;
                ev.core[CORE_HOST_NAME] = S("submit1");
                snprintf(to, sizeof to, "c%u@customer%u.test", (u + d) % 7, u % 500);
                ev.core[CORE_EMAIL_TO_ADDRESS] = S(to);
                ev.core[CORE_EVENT_ACTION] = S("delivery");
                event_add_copy(&ev, "queue_id", qid, strlen(qid), VT_STRING);
                bl_account_module.on_event(m, &ctx, &ev);
                events += 2;
                arena_reset(&a);
            }
        }
    }
    arena_free(&a);
    struct bl_module_stats st;
    bl_account_module.stats(m, &st);
    long rss1 = rss_kb();
    double measured = (double)(rss1 - rss0) * 1024;
    double labels_b = (double)bl_labels_bytes(&labels);
    printf("accounts %llu, days %u, events %lu, facts %lu\n", (unsigned long long)st.entities, days,
           events, facts);
    printf("module estimate (stats.bytes): %.1f MB, %.0f B per account\n", st.bytes / 1e6,
           (double)st.bytes / (double)(st.entities ? st.entities : 1));
    printf("label pool (engine-owned): %.1f MB (%u labels)\n", labels_b / 1e6, labels.n);
    printf("resident growth (measured baseline): %.1f MB, %.0f B per account\n", measured / 1e6,
           measured / (double)(st.entities ? st.entities : 1));
    printf("ratio estimate+labels / measured: %.2f\n",
           measured > 0 ? ((double)st.bytes + labels_b) / measured : 0);
    printf("projected for 100,000 accounts: %.0f MB measured\n",
           measured / (double)(st.entities ? st.entities : 1) * 100000 / 1e6);

    /* servers through the host module */
    long rss2 = rss_kb();
    void *hm = bl_host_module.create(&cfg, &labels);
    struct arena ha;
    arena_init(&ha, 1 << 16);
    char src[64], dst[64], ans[96], port[8], ob[16];
    unsigned long hevents = 0;
    for (unsigned d = 0; d < days; d++) {
        for (unsigned hr = 0; hr < 24; hr++) {
            for (unsigned sv = 0; sv < servers; sv++) {
                snprintf(src, sizeof src, "10.%u.%u.%u", 1 + sv / 65536, (sv >> 8) & 255, sv & 255);
                for (unsigned k = 0; k < 5; k++) {
                    /* 48 steady destinations and 12 new ones a day */
                    unsigned di = k < 4 ? (sv * 48 + (hr * 4 + k) % 48) % 20000
                                        : (sv * 7 + d * 12 + hr / 2) % 20000;
                    snprintf(dst, sizeof dst, "%u.%u.%u.%u", 60 + di / 65536, (di >> 8) & 255,
                             di & 255, 10);
                    uint32_t t = T0 + d * 86400u + hr * 3600u + sv % 3000 + k * 60;
                    struct event ev;
                    event_init(&ev, &ha);
                    ev.format = "zeek";
                    ev.ls = (struct logsource){"zeek", "dns", NULL};
                    ev.ts_ns = (int64_t)t * NS_PER_SEC;
                    ev.core[CORE_SOURCE_IP] = S(src);
                    ev.core[CORE_DESTINATION_IP] = S("10.0.0.53");
                    snprintf(ans, sizeof ans, "[\"%s\"]", dst);
                    event_add_copy(&ev, "answers", ans, strlen(ans), VT_JSON);
                    bl_host_module.on_event(hm, &ctx, &ev);
                    arena_reset(&ha);
                    event_init(&ev, &ha);
                    ev.format = "zeek";
                    ev.ls = (struct logsource){"zeek", "conn", NULL};
                    ev.ts_ns = (int64_t)(t + 1) * NS_PER_SEC;
                    ev.core[CORE_SOURCE_IP] = S(src);
                    ev.core[CORE_DESTINATION_IP] = S(dst);
                    snprintf(port, sizeof port, "%u", k == 4 ? 123 : 443);
                    ev.core[CORE_DESTINATION_PORT] = S(port);
                    snprintf(ob, sizeof ob, "%u", 900 + (sv * 31 + hr * 7 + k) % 4000);
                    ev.core[CORE_SOURCE_BYTES] = S(ob);
                    event_add_copy(&ev, "proto", k == 4 ? "udp" : "tcp", 3, VT_STRING);
                    bl_host_module.on_event(hm, &ctx, &ev);
                    arena_reset(&ha);
                    hevents += 2;
                }
            }
        }
    }
    arena_free(&ha);
    struct bl_module_stats hs;
    bl_host_module.stats(hm, &hs);
    long rss3 = rss_kb();
    double hmeasured = (double)(rss3 - rss2) * 1024;
    printf("servers %llu, days %u, events %lu, facts %lu\n", (unsigned long long)hs.entities, days,
           hevents, facts);
    printf("host module estimate (stats.bytes): %.1f MB, %.0f B per host\n", hs.bytes / 1e6,
           (double)hs.bytes / (double)(hs.entities ? hs.entities : 1));
    printf("resident growth for the servers (measured): %.1f MB, %.0f B per host\n",
           hmeasured / 1e6, hmeasured / (double)(hs.entities ? hs.entities : 1));
    printf("total resident growth, accounts and servers: %.1f MB (target: under 1 GB)\n",
           (double)(rss3 - rss0) * 1024 / 1e6);
    bl_host_module.destroy(hm);
    bl_account_module.destroy(m);
    bl_labels_free(&labels);
    return 0;
}
