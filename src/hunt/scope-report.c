/*
 * scope-report.c - writing a scope report: a sectioned table for a terminal,
 * one JSON object, or the notification list as CSV (docs/intel.md, "Scope",
 * documents every field). The writers only read the report; the order of
 * every list is decided by scope_run().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hunt/scope.h"
#include "util/buf.h"
#include "util/timeconv.h"

static const char *const why_names[] = {"entity", "login", "activity"};

static void put_key(struct buf *b, bool *first, const char *k)
{
    if (!*first)
        buf_putc(b, ',');
    *first = false;
    json_put_string(b, k, strlen(k));
    buf_putc(b, ':');
}

static void put_str(struct buf *b, bool *first, const char *k, const char *v)
{
    put_key(b, first, k);
    if (v)
        json_put_string(b, v, strlen(v));
    else
        buf_puts(b, "null");
}

static void put_u64(struct buf *b, bool *first, const char *k, uint64_t v)
{
    put_key(b, first, k);
    buf_put_u64(b, v);
}

static void put_bool(struct buf *b, bool *first, const char *k, bool v)
{
    put_key(b, first, k);
    buf_puts(b, v ? "true" : "false");
}

static void put_ts(struct buf *b, bool *first, const char *k, int64_t ts)
{
    put_key(b, first, k);
    json_put_time(b, ts);
}

/* "name":[...],"name_more":n */
static void put_list(struct buf *b, bool *first, const char *k, const struct scope_list *l)
{
    put_key(b, first, k);
    buf_putc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_string(b, l->v[i], strlen(l->v[i]));
    }
    buf_putc(b, ']');
    char more[64];
    snprintf(more, sizeof(more), "%s_more", k);
    put_u64(b, first, more, l->more);
}

static void put_services(struct buf *b, bool *first, unsigned services)
{
    put_key(b, first, "services");
    buf_putc(b, '[');
    bool any = false;
    for (int s = 0; s < SVC__N; s++)
        if (services & (1u << s)) {
            if (any)
                buf_putc(b, ',');
            any = true;
            const char *n = scope_service_name((enum scope_service)s);
            json_put_string(b, n, strlen(n));
        }
    buf_putc(b, ']');
}

static const char *direction(const struct scope_correspondent *c)
{
    return c->messages_to && c->messages_from ? "both" : c->messages_to ? "to" : "from";
}

/* ---- JSON ------------------------------------------------------------- */

static void json_account(struct buf *b, const struct scope_account *a)
{
    bool f = true;
    buf_putc(b, '{');
    put_str(b, &f, "account", a->name);
    put_key(b, &f, "why");
    buf_putc(b, '[');
    bool any = false;
    for (int i = 0; i < 3; i++)
        if (a->why & (1u << i)) {
            if (any)
                buf_putc(b, ',');
            any = true;
            json_put_string(b, why_names[i], strlen(why_names[i]));
        }
    buf_putc(b, ']');
    put_list(b, &f, "mailboxes", &a->mailboxes);

    put_key(b, &f, "sessions");
    bool g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "total", a->sessions);
    put_u64(b, &g, "from_indicator", a->sessions_from_indicator);
    put_key(b, &g, "by_service");
    bool h = true;
    buf_putc(b, '{');
    for (int s = 0; s < SVC__N; s++)
        if (a->sessions_by_service[s])
            put_u64(b, &h, scope_service_name((enum scope_service)s), a->sessions_by_service[s]);
    buf_putc(b, '}');
    put_list(b, &g, "sources", &a->sources);
    buf_putc(b, '}');

    put_key(b, &f, "mail_read");
    g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "logouts", a->logouts);
    put_u64(b, &g, "logouts_from_indicator", a->logouts_from_indicator);
    put_u64(b, &g, "bytes_out", a->bytes_out);
    put_u64(b, &g, "bytes_out_from_indicator", a->bytes_out_from_indicator);
    put_u64(b, &g, "bytes_in", a->bytes_in);
    put_u64(b, &g, "imap_headers", a->imap_headers);
    put_u64(b, &g, "imap_bodies", a->imap_bodies);
    put_u64(b, &g, "imap_body_bytes", a->imap_body_bytes);
    put_u64(b, &g, "pop3_retrieved", a->pop3_retrieved);
    put_u64(b, &g, "pop3_retrieved_bytes", a->pop3_retrieved_bytes);
    put_u64(b, &g, "pop3_top", a->pop3_top);
    buf_putc(b, '}');

    put_key(b, &f, "m365_mail_access");
    g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "records", a->mia_records);
    put_u64(b, &g, "from_indicator", a->mia_from_indicator);
    put_u64(b, &g, "operations", a->mia_operations);
    put_u64(b, &g, "items", a->mia_items);
    put_u64(b, &g, "sync", a->mia_sync);
    put_list(b, &g, "folders", &a->folders);
    put_list(b, &g, "apps", &a->apps);
    buf_putc(b, '}');

    put_key(b, &f, "mail");
    g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "sent_messages", a->sent_messages);
    put_u64(b, &g, "sent_recipients", a->sent_recipients);
    put_u64(b, &g, "sent_external", a->sent_external);
    put_u64(b, &g, "sent_delivered", a->sent_delivered);
    put_u64(b, &g, "received_messages", a->received_messages);
    put_u64(b, &g, "forwarded", a->forwarded);
    put_u64(b, &g, "m365_sends", a->m365_sends);
    buf_putc(b, '}');
    buf_putc(b, '}');
}

static void write_json(const struct scope_report *r, struct buf *b)
{
    bool f = true;
    buf_putc(b, '{');
    put_key(b, &f, "window");
    bool g = true;
    buf_putc(b, '{');
    put_ts(b, &g, "since", r->since_ns);
    put_ts(b, &g, "until", r->until_ns);
    buf_putc(b, '}');

    put_key(b, &f, "targets");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct scope_target *t = &r->targets[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_str(b, &g, "given", t->entity ? "entity" : "indicator");
        put_str(b, &g, "type", scope_kind_name(t->kind));
        put_str(b, &g, "value", t->value);
        put_u64(b, &g, "hits", t->events);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "internal_domains");
    g = true;
    buf_putc(b, '{');
    put_key(b, &g, "domains");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->ndomains; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_string(b, r->domains[i], strlen(r->domains[i]));
    }
    buf_putc(b, ']');
    put_bool(b, &g, "inferred", r->domains_inferred);
    buf_putc(b, '}');

    put_key(b, &f, "logins");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nlogins; i++) {
        const struct scope_login *l = &r->logins[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_str(b, &g, "account", l->account);
        put_u64(b, &g, "successes", l->successes);
        put_u64(b, &g, "failures", l->failures);
        put_ts(b, &g, "first", l->first_ns);
        put_ts(b, &g, "last", l->last_ns);
        put_list(b, &g, "addresses", &l->addresses);
        put_services(b, &g, l->services);
        put_bool(b, &g, "from_indicator", l->from_indicator);
        put_bool(b, &g, "on_host", l->on_host);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "accounts");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->naccounts; i++) {
        if (i)
            buf_putc(b, ',');
        json_account(b, &r->accounts[i]);
    }
    buf_putc(b, ']');

    put_key(b, &f, "messages");
    g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "sent", r->messages_sent);
    put_u64(b, &g, "received", r->messages_received);
    put_u64(b, &g, "forwarded", r->messages_forwarded);
    buf_putc(b, '}');

    put_key(b, &f, "forwarding");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nforwards; i++) {
        const struct scope_forward *w = &r->forwards[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_str(b, &g, "kind", scope_forward_kind_name(w->kind));
        put_str(b, &g, "account", w->account);
        put_str(b, &g, "target", w->target);
        put_bool(b, &g, "external", w->external);
        put_u64(b, &g, "count", w->count);
        put_ts(b, &g, "first", w->first_ns);
        put_ts(b, &g, "last", w->last_ns);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "changes");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nchanges; i++) {
        const struct scope_change *c = &r->changes[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_ts(b, &g, "time", c->ts_ns);
        put_str(b, &g, "account", c->account);
        put_str(b, &g, "operation", c->operation);
        put_str(b, &g, "source_ip", c->source_ip);
        put_str(b, &g, "details", c->details);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "indicator_mail");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nindicator_mail; i++) {
        const struct scope_indicator_mail *m = &r->indicator_mail[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_str(b, &g, "indicator", m->indicator);
        put_str(b, &g, "address", m->address);
        put_str(b, &g, "direction", m->to ? "sent" : "received");
        put_str(b, &g, "counterpart", m->counterpart);
        put_u64(b, &g, "messages", m->messages);
        put_ts(b, &g, "first", m->first_ns);
        put_ts(b, &g, "last", m->last_ns);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "correspondents");
    buf_putc(b, '[');
    for (size_t i = 0; i < r->ncorrespondents; i++) {
        const struct scope_correspondent *c = &r->correspondents[i];
        g = true;
        buf_puts(b, i ? ",{" : "{");
        put_str(b, &g, "address", c->address);
        const char *at = strrchr(c->address, '@');
        put_str(b, &g, "domain", at ? at + 1 : "");
        put_str(b, &g, "direction", direction(c));
        put_u64(b, &g, "messages_to", c->messages_to);
        put_u64(b, &g, "messages_from", c->messages_from);
        put_u64(b, &g, "delivered", c->delivered);
        put_u64(b, &g, "forwarded", c->forwarded);
        put_ts(b, &g, "first", c->first_ns);
        put_ts(b, &g, "last", c->last_ns);
        put_list(b, &g, "mailboxes", &c->mailboxes);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');

    put_key(b, &f, "limits");
    g = true;
    buf_putc(b, '{');
    const struct scope_limits *l = &r->limits;
    put_u64(b, &g, "accounts", l->accounts);
    put_u64(b, &g, "logins", l->logins);
    put_u64(b, &g, "correspondents", l->correspondents);
    put_u64(b, &g, "forwards", l->forwards);
    put_u64(b, &g, "changes", l->changes);
    put_u64(b, &g, "indicator_mail", l->indicator_mail);
    put_u64(b, &g, "sessions", l->sessions);
    put_u64(b, &g, "queue_ids_lost", l->queue_ids_lost);
    put_u64(b, &g, "recipients_nodup", l->recipients_nodup);
    buf_putc(b, '}');

    put_key(b, &f, "events");
    g = true;
    buf_putc(b, '{');
    put_u64(b, &g, "indexed", r->events_indexed);
    put_u64(b, &g, "scanned", r->events_scanned);
    buf_printf(b, ",\"mail\":\"%s\"", r->mail_indexed ? "index" : "scan");
    buf_putc(b, '}');
    buf_puts(b, "}\n");
}

/* ---- CSV: the notification list ------------------------------------------ */

/* One RFC 4180 cell. A cell that a spreadsheet would read as a formula
 * (=, +, -, @ first) gets a leading ' (addresses are outside input). */
static void csv_cell(struct buf *b, const char *s)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf_putc(b, '"');
    if (formula)
        buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(b, '"');
        buf_putc(b, *s);
    }
    if (quote)
        buf_putc(b, '"');
}

static void csv_time(struct buf *b, int64_t ts)
{
    if (ts == TIME_NONE)
        return;
    char t[32];
    time_format(ts, t);
    buf_puts(b, t);
}

static void write_csv(const struct scope_report *r, struct buf *b)
{
    buf_puts(b, "address,domain,direction,messages_to,messages_from,delivered,forwarded,"
                "first_seen,last_seen,mailboxes\r\n");
    for (size_t i = 0; i < r->ncorrespondents; i++) {
        const struct scope_correspondent *c = &r->correspondents[i];
        const char *at = strrchr(c->address, '@');
        csv_cell(b, c->address);
        buf_putc(b, ',');
        csv_cell(b, at ? at + 1 : "");
        buf_printf(b, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", direction(c),
                   c->messages_to, c->messages_from, c->delivered, c->forwarded);
        csv_time(b, c->first_ns);
        buf_putc(b, ',');
        csv_time(b, c->last_ns);
        buf_putc(b, ',');
        struct buf mb;
        buf_init(&mb);
        for (size_t k = 0; k < c->mailboxes.n; k++)
            buf_printf(&mb, "%s%s", k ? ";" : "", c->mailboxes.v[k]);
        if (c->mailboxes.more)
            buf_printf(&mb, ";(+%" PRIu64 ")", c->mailboxes.more);
        csv_cell(b, mb.data ? mb.data : "");
        buf_free(&mb);
        buf_puts(b, "\r\n");
    }
}

/* ---- the table ------------------------------------------------------------ */

/* A section's rows of cells, printed in aligned columns (cells cut at 48
 * columns, control bytes shown as spaces). */
#define TCOLS 10
struct tab {
    int ncols;
    char **cells; /* row-major */
    size_t nrows, cap;
};

static void tab_row(struct tab *t, ...)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, t->cap * (size_t)t->ncols * sizeof(char *));
        if (!p)
            abort(); /* out of memory while printing: nothing sensible left */
        t->cells = p;
    }
    va_list ap;
    va_start(ap, t);
    for (int c = 0; c < t->ncols; c++) {
        const char *s = va_arg(ap, const char *);
        t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = strdup(s && *s ? s : "-");
    }
    va_end(ap);
    t->nrows++;
}

static size_t cols_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void put_cell(struct buf *b, const char *s, size_t w, bool last)
{
    size_t cols = 0;
    for (; *s && cols < w; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c & 0xC0) != 0x80)
            cols++;
        buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    while ((*s & 0xC0) == 0x80)
        buf_putc(b, *s++); /* finish a cut code point */
    if (!last)
        for (; cols < w + 2; cols++)
            buf_putc(b, ' ');
}

static void tab_print(struct tab *t, struct buf *b)
{
    size_t w[TCOLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            size_t n = cols_of(t->cells[r * (size_t)t->ncols + (size_t)c]);
            if (n > w[c])
                w[c] = n > 48 ? 48 : n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        buf_puts(b, "  ");
        for (int c = 0; c < t->ncols; c++)
            put_cell(b, t->cells[r * (size_t)t->ncols + (size_t)c], c + 1 < t->ncols ? w[c] : 200,
                     c + 1 == t->ncols);
        buf_putc(b, '\n');
    }
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

static const char *tstamp(int64_t ts, char out[32])
{
    if (ts == TIME_NONE)
        return "-";
    time_format(ts, out);
    out[19] = 'Z'; /* seconds are enough on screen */
    out[20] = '\0';
    return out;
}

static const char *num(uint64_t v, char out[32])
{
    snprintf(out, 32, "%" PRIu64, v);
    return out;
}

static const char *joined(const struct scope_list *l, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n && o + 1 < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "", l->v[i]);
    if (l->more && o + 1 < n)
        snprintf(out + o, n - o, " (+%" PRIu64 ")", l->more);
    return out;
}

static void human_bytes(struct buf *b, uint64_t v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 4)
        d /= 1024, u++;
    if (u == 0)
        buf_printf(b, "%" PRIu64 " B", v);
    else
        buf_printf(b, "%.1f %s", d, units[u]);
}

static void services_text(unsigned services, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (int s = 0; s < SVC__N && o + 1 < n; s++)
        if (services & (1u << s))
            o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "," : "",
                                  scope_service_name((enum scope_service)s));
}

static void table_account(const struct scope_account *a, struct buf *b)
{
    char tmp[1024];
    buf_printf(b, "  %s  (", a->name);
    bool any = false;
    static const char *const why_text[] = {"named", "logged in from an indicator address",
                                           "acted from an indicator address"};
    for (int i = 0; i < 3; i++)
        if (a->why & (1u << i)) {
            buf_printf(b, "%s%s", any ? "; " : "", why_text[i]);
            any = true;
        }
    buf_puts(b, ")\n");
    if (a->mailboxes.n)
        buf_printf(b, "    mailboxes     %s\n", joined(&a->mailboxes, tmp, sizeof(tmp)));
    buf_printf(b, "    sessions      %" PRIu64 " (%" PRIu64 " from the indicators)", a->sessions,
               a->sessions_from_indicator);
    const char *sep = ": ";
    for (int s = 0; s < SVC__N; s++)
        if (a->sessions_by_service[s]) {
            buf_printf(b, "%s%s %" PRIu64, sep, scope_service_name((enum scope_service)s),
                       a->sessions_by_service[s]);
            sep = ", ";
        }
    buf_putc(b, '\n');
    if (a->sources.n)
        buf_printf(b, "    from          %s\n", joined(&a->sources, tmp, sizeof(tmp)));
    if (a->logouts) {
        buf_puts(b, "    mail read     ");
        human_bytes(b, a->bytes_out);
        buf_printf(b, " sent to clients in %" PRIu64 " sessions; ", a->logouts);
        human_bytes(b, a->bytes_out_from_indicator);
        buf_printf(b, " in %" PRIu64 " from the indicators\n", a->logouts_from_indicator);
        if (a->imap_bodies || a->imap_headers)
            buf_printf(b,
                       "                  IMAP: %" PRIu64 " message bodies (%" PRIu64
                       " bytes), %" PRIu64 " headers\n",
                       a->imap_bodies, a->imap_body_bytes, a->imap_headers);
        if (a->pop3_retrieved || a->pop3_top)
            buf_printf(b,
                       "                  POP3: %" PRIu64 " messages retrieved (%" PRIu64
                       " bytes), %" PRIu64 " TOP\n",
                       a->pop3_retrieved, a->pop3_retrieved_bytes, a->pop3_top);
    }
    if (a->mia_records) {
        buf_printf(
            b,
            "    M365 access   %" PRIu64 " MailItemsAccessed records (%" PRIu64
            " from the indicators), %" PRIu64 " operations, %" PRIu64 " items, %" PRIu64 " sync\n",
            a->mia_records, a->mia_from_indicator, a->mia_operations, a->mia_items, a->mia_sync);
        if (a->folders.n)
            buf_printf(b, "                  folders: %s\n", joined(&a->folders, tmp, sizeof(tmp)));
        if (a->apps.n)
            buf_printf(b, "                  apps: %s\n", joined(&a->apps, tmp, sizeof(tmp)));
    }
    buf_printf(b,
               "    mail          sent %" PRIu64 " messages to %" PRIu64 " recipients (%" PRIu64
               " external, %" PRIu64 " delivered); received %" PRIu64 "; forwarded %" PRIu64,
               a->sent_messages, a->sent_recipients, a->sent_external, a->sent_delivered,
               a->received_messages, a->forwarded);
    if (a->m365_sends)
        buf_printf(b, "; M365 sends %" PRIu64, a->m365_sends);
    buf_putc(b, '\n');
}

static void write_table(const struct scope_report *r, struct buf *b)
{
    char t1[32], t2[32], n1[32], n2[32], n3[32], n4[32], tmp[1024];
    buf_printf(b, "Scope of %s .. %s\n", tstamp(r->since_ns, t1),
               r->until_ns == TIME_NONE ? "now" : tstamp(r->until_ns, t2));
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct scope_target *t = &r->targets[i];
        buf_printf(b, "  %-9s %-7s %s (%" PRIu64 " hits)\n", t->entity ? "entity" : "indicator",
                   scope_kind_name(t->kind), t->value, t->events);
    }
    buf_printf(b, "  internal domains (%s): ", r->domains_inferred ? "inferred" : "given");
    for (size_t i = 0; i < r->ndomains; i++)
        buf_printf(b, "%s%s", i ? ", " : "", r->domains[i]);
    buf_puts(b, r->ndomains ? "\n" : "none\n");

    struct tab t = {.ncols = 7};
    buf_printf(b, "\nLogins (%zu accounts)\n", r->nlogins);
    if (r->nlogins) {
        tab_row(&t, "ACCOUNT", "OK", "FAILED", "FIRST", "LAST", "SERVICES", "FROM");
        for (size_t i = 0; i < r->nlogins; i++) {
            const struct scope_login *l = &r->logins[i];
            char svc[128];
            services_text(l->services, svc, sizeof(svc));
            tab_row(&t, l->account, num(l->successes, n1), num(l->failures, n2),
                    tstamp(l->first_ns, t1), tstamp(l->last_ns, t2), svc,
                    joined(&l->addresses, tmp, sizeof(tmp)));
        }
        tab_print(&t, b);
    }

    buf_printf(b, "\nAccounts involved (%zu)\n", r->naccounts);
    for (size_t i = 0; i < r->naccounts; i++)
        table_account(&r->accounts[i], b);

    buf_printf(b, "\nMessages: %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64 " forwarded out\n",
               r->messages_sent, r->messages_received, r->messages_forwarded);

    buf_printf(b, "\nForwarding (%zu)\n", r->nforwards);
    if (r->nforwards) {
        t.ncols = 6;
        tab_row(&t, "ACCOUNT", "HOW", "TARGET", "COUNT", "FIRST", "LAST");
        for (size_t i = 0; i < r->nforwards; i++) {
            const struct scope_forward *w = &r->forwards[i];
            snprintf(tmp, sizeof(tmp), "%s%s", w->target, w->external ? " (external)" : "");
            tab_row(&t, w->account, scope_forward_kind_name(w->kind), tmp, num(w->count, n1),
                    tstamp(w->first_ns, t1), tstamp(w->last_ns, t2));
        }
        tab_print(&t, b);
    }

    buf_printf(b, "\nRule and permission changes (%zu)\n", r->nchanges);
    if (r->nchanges) {
        t.ncols = 5;
        tab_row(&t, "TIME", "ACCOUNT", "OPERATION", "FROM", "DETAILS");
        for (size_t i = 0; i < r->nchanges; i++) {
            const struct scope_change *c = &r->changes[i];
            tab_row(&t, tstamp(c->ts_ns, t1), c->account, c->operation, c->source_ip, c->details);
        }
        tab_print(&t, b);
    }

    if (r->nindicator_mail) {
        buf_printf(b, "\nMail with the indicators (%zu)\n", r->nindicator_mail);
        t.ncols = 6;
        tab_row(&t, "INDICATOR", "ADDRESS", "DIRECTION", "MESSAGES", "FIRST", "LAST");
        for (size_t i = 0; i < r->nindicator_mail; i++) {
            const struct scope_indicator_mail *m = &r->indicator_mail[i];
            tab_row(&t, m->indicator, m->address, m->to ? "sent" : "received", num(m->messages, n1),
                    tstamp(m->first_ns, t1), tstamp(m->last_ns, t2));
        }
        tab_print(&t, b);
    }

    buf_printf(b, "\nExternal correspondents to notify (%zu)\n", r->ncorrespondents);
    if (r->ncorrespondents) {
        t.ncols = 9;
        tab_row(&t, "ADDRESS", "DIR", "TO", "FROM", "DELIVERED", "FORWARDED", "FIRST", "LAST",
                "MAILBOXES");
        for (size_t i = 0; i < r->ncorrespondents; i++) {
            const struct scope_correspondent *c = &r->correspondents[i];
            tab_row(&t, c->address, direction(c), num(c->messages_to, n1),
                    num(c->messages_from, n2), num(c->delivered, n3), num(c->forwarded, n4),
                    tstamp(c->first_ns, t1), tstamp(c->last_ns, t2),
                    joined(&c->mailboxes, tmp, sizeof(tmp)));
        }
        tab_print(&t, b);
    }

    const struct scope_limits *l = &r->limits;
    if (l->accounts || l->logins || l->correspondents || l->forwards || l->changes ||
        l->indicator_mail || l->sessions || l->queue_ids_lost || l->recipients_nodup)
        buf_printf(b,
                   "\nLimits reached (left out): accounts %" PRIu64 ", logins %" PRIu64
                   ", correspondents %" PRIu64 ", forwards %" PRIu64 ", changes %" PRIu64
                   ", indicator mail %" PRIu64 ", sessions %" PRIu64
                   ", queue ids dropped while live %" PRIu64
                   ", recipients not de-duplicated %" PRIu64 "\n",
                   l->accounts, l->logins, l->correspondents, l->forwards, l->changes,
                   l->indicator_mail, l->sessions, l->queue_ids_lost, l->recipients_nodup);
    buf_printf(
        b, "\n(%" PRIu64 " events read through the index, %" PRIu64 " by window scans; mail %s)\n",
        r->events_indexed, r->events_scanned,
        r->mail_indexed ? "joined through the queue-id key" : "read by a window scan");
}

int scope_write(const struct scope_report *r, enum scope_format f, FILE *out)
{
    struct buf b;
    buf_init(&b);
    switch (f) {
    case SCOPE_OUT_JSON:
        write_json(r, &b);
        break;
    case SCOPE_OUT_CSV:
        write_csv(r, &b);
        break;
    default:
        write_table(r, &b);
        break;
    }
    int rc = 0;
    if (b.len && fwrite(b.data, 1, b.len, out) != b.len)
        rc = -errno;
    buf_free(&b);
    return rc;
}
