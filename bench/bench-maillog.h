/*
 * bench-maillog.h - the synthetic mail log of the store benchmarks
 * (bench_store, bench_hunt): Postfix smtpd/qmgr/smtp/cleanup and Dovecot
 * login events with realistic field sizes (addresses, queue ids, messages
 * of 60-150 bytes; about 515 bytes of JSON each), 1,000,000 a day of event
 * time, for a 5,000-mailbox organisation (user0000..user4999@example.org)
 * talking to 20,000 peers.
 *
 * POOL_BATCHES batches of BATCH events are generated once (gen_event) and
 * reused with fresh ids, lines and times (round_batch), so generating
 * costs nothing next to storing. Include it once per benchmark; everything
 * is static.
 */
#ifndef KENCHI_BENCH_MAILLOG_H
#define KENCHI_BENCH_MAILLOG_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event/event.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define BATCH        1024
#define POOL_BATCHES 32 /* distinct batches generated, then reused with new ids */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct str fmt(struct arena *a, const char *f, ...) __attribute__((format(printf, 2, 3)));
static struct str fmt(struct arena *a, const char *f, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(tmp, sizeof(tmp), f, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    return str_make(arena_strndup(a, tmp, (size_t)n), (size_t)n);
}

static const char *const domains[] = {"example.org",     "example.com", "mail.example.net",
                                      "partner.example", "gov.example", "customer.example"};
#define NDOM (sizeof(domains) / sizeof(domains[0]))

static void queue_id(char out[12])
{
    static const char hx[] = "0123456789ABCDEF";
    for (int i = 0; i < 11; i++)
        out[i] = hx[rnd() % 16];
    out[11] = '\0';
}

/* One synthetic mail-log event of a random kind. */
static void gen_event(struct event *ev, struct arena *a, uint64_t i)
{
    event_init(ev, a);
    ev->file = "/var/log/mail.log";
    ev->line = i + 1;
    ev->parsed = true;
    unsigned user = (unsigned)(rnd() % 5000), peer = (unsigned)(rnd() % 20000);
    unsigned kind = (unsigned)(rnd() % 6);
    char qid[12];
    queue_id(qid);
    const char *host = (rnd() % 2) ? "mx1.example.org" : "mx2.example.org";
    ev->core[CORE_HOST_NAME] = str_make(host, strlen(host));
    struct str ip =
        fmt(a, "%u.%u.%u.%u", 198u + peer % 6, 51u + peer % 50, (peer / 7) % 256, peer % 251 + 1);
    struct str uname = fmt(a, "user%04u@example.org", user);
    struct str from = fmt(a, "sender%u@%s", (unsigned)(rnd() % 20000), domains[rnd() % NDOM]);
    struct str to = fmt(a, "rcpt%u@%s", (unsigned)(rnd() % 20000), domains[rnd() % NDOM]);
    struct str pid = fmt(a, "%u", (unsigned)(rnd() % 60000) + 100);
    switch (kind) {
    case 0:
        ev->format = "postfix";
        ev->ls = (struct logsource){"postfix", "smtpd", NULL};
        event_add_str(ev, "program", STR_LIT("postfix/smtpd"));
        event_add_str(ev, "pid", pid);
        event_add_str(ev, "client_name", fmt(a, "mail-%u.%s", peer, domains[peer % NDOM]));
        ev->core[CORE_SOURCE_IP] = ip;
        ev->core[CORE_EVENT_ACTION] = STR_LIT("connect");
        ev->message =
            fmt(a, "connect from mail-%u.%s[%.*s]", peer, domains[peer % NDOM], (int)ip.n, ip.p);
        break;
    case 1:
        ev->format = "postfix";
        ev->ls = (struct logsource){"postfix", "smtpd", NULL};
        event_add_str(ev, "program", STR_LIT("postfix/smtpd"));
        event_add_str(ev, "pid", pid);
        event_add_str(ev, "queue_id", str_make(arena_strndup(a, qid, 11), 11));
        event_add_str(ev, "sasl_method", STR_LIT("PLAIN"));
        ev->core[CORE_SOURCE_IP] = ip;
        ev->core[CORE_USER_NAME] = uname;
        ev->core[CORE_EVENT_ACTION] = STR_LIT("login");
        ev->core[CORE_EVENT_OUTCOME] = STR_LIT("success");
        ev->message = fmt(a, "%s: client=unknown[%.*s], sasl_method=PLAIN, sasl_username=%.*s", qid,
                          (int)ip.n, ip.p, (int)uname.n, uname.p);
        break;
    case 2:
        ev->format = "postfix";
        ev->ls = (struct logsource){"postfix", "qmgr", NULL};
        event_add_str(ev, "program", STR_LIT("postfix/qmgr"));
        event_add_str(ev, "pid", pid);
        event_add_str(ev, "queue_id", str_make(arena_strndup(a, qid, 11), 11));
        event_add(ev, STR_LIT("size"), fmt(a, "%u", (unsigned)(rnd() % 900000) + 800), VT_NUMBER);
        event_add(ev, STR_LIT("nrcpt"), STR_LIT("1"), VT_NUMBER);
        ev->core[CORE_EMAIL_FROM_ADDRESS] = from;
        ev->core[CORE_EVENT_ACTION] = STR_LIT("queued");
        ev->message = fmt(a, "%s: from=<%.*s>, size=%u, nrcpt=1 (queue active)", qid, (int)from.n,
                          from.p, (unsigned)(rnd() % 900000) + 800);
        break;
    case 3:
        ev->format = "postfix";
        ev->ls = (struct logsource){"postfix", "smtp", NULL};
        event_add_str(ev, "program", STR_LIT("postfix/smtp"));
        event_add_str(ev, "pid", pid);
        event_add_str(ev, "queue_id", str_make(arena_strndup(a, qid, 11), 11));
        event_add_str(ev, "relay", fmt(a, "mx.%s[%.*s]:25", domains[peer % NDOM], (int)ip.n, ip.p));
        event_add(ev, STR_LIT("delay"),
                  fmt(a, "%u.%u", (unsigned)(rnd() % 9), (unsigned)(rnd() % 99)), VT_NUMBER);
        event_add_str(ev, "dsn", STR_LIT("2.0.0"));
        event_add_str(ev, "status", STR_LIT("sent"));
        ev->core[CORE_EMAIL_TO_ADDRESS] = to;
        ev->core[CORE_DESTINATION_IP] = ip;
        ev->core[CORE_DESTINATION_PORT] = STR_LIT("25");
        ev->core[CORE_EVENT_ACTION] = STR_LIT("delivered");
        ev->core[CORE_EVENT_OUTCOME] = STR_LIT("success");
        ev->message = fmt(a,
                          "%s: to=<%.*s>, relay=mx.%s[%.*s]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
                          "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)",
                          qid, (int)to.n, to.p, domains[peer % NDOM], (int)ip.n, ip.p, qid);
        break;
    case 4:
        ev->format = "dovecot";
        ev->ls = (struct logsource){"dovecot", "imap-login", NULL};
        event_add_str(ev, "program", STR_LIT("dovecot"));
        event_add_str(ev, "method", STR_LIT("PLAIN"));
        event_add_str(ev, "session", fmt(a, "%016llx", (unsigned long long)rnd()));
        event_add_str(ev, "tls", STR_LIT("TLS"));
        ev->core[CORE_USER_NAME] = uname;
        ev->core[CORE_SOURCE_IP] = ip;
        ev->core[CORE_DESTINATION_IP] = STR_LIT("10.0.0.25");
        ev->core[CORE_EVENT_ACTION] = STR_LIT("login");
        bool ok = rnd() % 10;
        ev->core[CORE_EVENT_OUTCOME] = ok ? STR_LIT("success") : STR_LIT("failure");
        ev->message = fmt(a,
                          "imap-login: %s: user=<%.*s>, method=PLAIN, rip=%.*s, lip=10.0.0.25, "
                          "mpid=%.*s, TLS, session=<%s>",
                          ok ? "Login" : "Disconnected (auth failed, 1 attempts in 2 secs)",
                          (int)uname.n, uname.p, (int)ip.n, ip.p, (int)pid.n, pid.p, qid);
        break;
    default:
        ev->format = "postfix";
        ev->ls = (struct logsource){"postfix", "cleanup", NULL};
        event_add_str(ev, "program", STR_LIT("postfix/cleanup"));
        event_add_str(ev, "pid", pid);
        event_add_str(ev, "queue_id", str_make(arena_strndup(a, qid, 11), 11));
        ev->core[CORE_EMAIL_MESSAGE_ID] =
            fmt(a, "%016llx@%s", (unsigned long long)rnd(), domains[rnd() % NDOM]);
        ev->message = fmt(a, "%s: message-id=<%.*s>", qid, (int)ev->core[CORE_EMAIL_MESSAGE_ID].n,
                          ev->core[CORE_EMAIL_MESSAGE_ID].p);
        break;
    }
    ev->raw = ev->message;
}

struct pool {
    struct arena arena;
    struct event evs[POOL_BATCHES][BATCH];
};

/* Give batch k of round r fresh ids and times so that every event is new. */
static struct event *round_batch(struct pool *p, uint64_t seq)
{
    struct event *b = p->evs[seq % POOL_BATCHES];
    int64_t t0 = time_from_utc(2024, 3, 1, 0, 0, 0, 0);
    for (size_t i = 0; i < BATCH; i++) {
        uint64_t n = seq * BATCH + i;
        b[i].ts_ns = t0 + (int64_t)n * 86400000; /* 1,000,000 events a day */
        b[i].line = n + 1;
        b[i].id = n * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL; /* distinct, scattered */
    }
    return b;
}

#endif
