/*
 * registry.c - the tables naming every decoder, and helpers they share.
 *
 * Order matters in decoders[]: for JSON records the highest probe score
 * wins and ties go to the earlier row; "json" (generic) must stay last.
 */
#include "decode/decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct decoder decoder_syslog;
extern const struct decoder decoder_m365;
extern const struct decoder decoder_zeek;
extern const struct decoder decoder_windows;
extern const struct decoder decoder_evtx;
extern const struct decoder decoder_json;
extern const struct syslog_app syslog_app_postfix;
extern const struct syslog_app syslog_app_dovecot;
extern const struct syslog_app syslog_app_sshd;

const struct decoder *const decoders[] = {
    &decoder_syslog,
    &decoder_m365,
    &decoder_zeek,
    &decoder_windows,
    &decoder_evtx,
    &decoder_json, /* generic JSON: keep last */
    NULL,
};

const struct syslog_app *const syslog_apps[] = {
    &syslog_app_postfix,
    &syslog_app_dovecot,
    &syslog_app_sshd,
    NULL,
};

const struct decoder *decoder_find(const char *name)
{
    for (size_t i = 0; decoders[i]; i++)
        if (!strcmp(decoders[i]->name, name))
            return decoders[i];
    return NULL;
}

const struct syslog_app *syslog_app_find(const char *name)
{
    for (size_t i = 0; syslog_apps[i]; i++)
        if (!strcmp(syslog_apps[i]->name, name))
            return syslog_apps[i];
    return NULL;
}

const struct decoder *decoder_for_json(const struct event *ev)
{
    const struct decoder *best = &decoder_json;
    int best_score = 0;
    for (size_t i = 0; decoders[i]; i++) {
        const struct decoder *d = decoders[i];
        if (!d->probe_json || d == &decoder_json)
            continue;
        int s = d->probe_json(ev);
        if (s > best_score) {
            best_score = s;
            best = d;
        }
    }
    return best;
}

void decode_ctx_init(struct decode_ctx *ctx, const char *path, int64_t ref_time_ns,
                     int year_override)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->path = path;
    ctx->ref_time_ns = ref_time_ns;
    ctx->year_override = year_override;
    tz_ctx_init(&ctx->tz);
}

void decode_ctx_fini(struct decode_ctx *ctx)
{
    if (ctx->state && ctx->state_free)
        ctx->state_free(ctx->state);
    ctx->state = NULL;
    ctx->state_free = NULL;
}

void decode_report(struct decode_ctx *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->report)
        ctx->report(ctx->report_opaque, msg);
    else
        fprintf(stderr, "kenchi: %s: %s\n", ctx->path ? ctx->path : "-", msg);
}

struct str str_trim(struct str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

long str_find(struct str s, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0)
        return 0;
    if (n > s.n)
        return -1;
    const char *p = s.p;
    const char *end = s.p + s.n - n + 1;
    while (p < end) {
        p = memchr(p, lit[0], (size_t)(end - p));
        if (!p)
            return -1;
        if (!memcmp(p, lit, n))
            return p - s.p;
        p++;
    }
    return -1;
}

bool kv_find(struct str msg, const char *key, struct str *val)
{
    size_t kl = strlen(key);
    size_t i = 0;
    while (i + kl + 1 <= msg.n) {
        const char *p = memchr(msg.p + i, key[0], msg.n - i);
        if (!p)
            return false;
        size_t at = (size_t)(p - msg.p);
        /* key must start the message or follow a separator */
        bool boundary = at == 0 || msg.p[at - 1] == ' ' || msg.p[at - 1] == ',' ||
                        msg.p[at - 1] == '(' || msg.p[at - 1] == ';';
        if (boundary && at + kl < msg.n && !memcmp(p, key, kl) && msg.p[at + kl] == '=') {
            size_t v = at + kl + 1;
            size_t e = v;
            if (v < msg.n && msg.p[v] == '<') {
                const char *gt = memchr(msg.p + v, '>', msg.n - v);
                if (gt) {
                    *val = str_make(msg.p + v + 1, (size_t)(gt - msg.p) - v - 1);
                    return true;
                }
            }
            while (e < msg.n && msg.p[e] != ',' && msg.p[e] != ' ' && msg.p[e] != ')')
                e++;
            *val = str_make(msg.p + v, e - v);
            return true;
        }
        i = at + 1;
    }
    return false;
}
