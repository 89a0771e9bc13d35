/*
 * cmd-hunt.c - `kenchi hunt`: the intelligence kept in the store against
 * everything stored (src/hunt/ does the work, through the store's indexes).
 *
 * Output: a table and a detail block per indicator seen (on a terminal),
 * JSON lines (one object per indicator seen, then a summary object), or
 * CSV (one row per indicator seen). A progress line on standard error
 * when it is a terminal and the hunt takes more than half a second.
 * Exit status 1 when an indicator was seen (warning-listed ones do not
 * count), 0 when none was.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hunt/hunt.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

/* after util/buf.h: jansson's json_is_number macro would clobber the
 * declaration of buf.h's function of that name */
#include <jansson.h>

static void usage(FILE *out)
{
    fputs("Usage: kenchi hunt [OPTIONS]\n"
          "Match the intelligence kept in the store against every stored event (retro-hunt):\n"
          "per indicator seen, when it was first and last seen, how many events, the\n"
          "accounts, hosts and mailboxes involved, and a timeline.\n\n"
          "  -s, --store FILE      the store (default: " STORE_DEFAULT_PATH ")\n"
          "      --import ID       only the indicators import ID added or updated\n"
          "                        (default: all the store keeps)\n"
          "      --since T         events at or after T: RFC 3339 time, a date (2024-03-01),\n"
          "                        or an age such as 36h, 7d, 2w\n"
          "      --until T         events before T (same forms)\n"
          "  -o, --output F        table (default on a terminal), json (JSON lines: one\n"
          "                        object per indicator seen, then a summary), or csv\n"
          "  -n, --limit-events N  events listed per indicator in its timeline (default 10)\n"
          "      --entity-events N events of each indicator read for its accounts, hosts and\n"
          "                        mailboxes, the first ones (default 1000; counts, first and\n"
          "                        last seen and days are always exact): a larger N lists\n"
          "                        more of a busy indicator's entities and reads more of a\n"
          "                        store that is not in memory\n"
          "      --threads N       threads reading the store's pages, this one included: the\n"
          "                        others read the index and events for the hunt, so a store\n"
          "                        that is not in memory is read from the disk N requests at\n"
          "                        a time (default $KENCHI_HUNT_THREADS, else 64; at most 128;\n"
          "                        1: one at a time)\n"
          "      --intel PATH      hunt the indicators of these files instead of the stored\n"
          "                        ones (any format `intel import` reads; repeatable)\n"
          "      --intel-type TYPE the type of plain lists' values\n"
          "      --warninglists P  MISP warning lists for --intel files (repeatable)\n"
          "  -h, --help            show this help\n\n"
          "An indicator counts only for events inside its validity (valid_from..valid_until);\n"
          "revoked indicators are not hunted; warning-listed ones are reported apart and\n"
          "never count as found. An older store is upgraded first (once).\n\n"
          "Exit status: 0 nothing found, 1 indicators seen, 2 usage error, 3 the store could\n"
          "not be read.\n",
          out);
}

/* ---- progress ------------------------------------------------------------- */

struct progress {
    bool tty;
    double start, last;
    bool shown;
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_progress(void *opaque, int phase, uint64_t done, uint64_t total)
{
    struct progress *p = opaque;
    double now = mono_s();
    if (!p->tty || now - p->start < 0.5 || (now - p->last < 0.1 && done < total))
        return;
    p->last = now;
    p->shown = true;
    if (phase == 1) {
        fprintf(stderr, "\rkenchi hunt: reading the day summary: %llu/%llu days\033[K",
                (unsigned long long)done, (unsigned long long)total);
    } else {
        int w = 30, fill = total ? (int)(w * done / total) : w;
        fprintf(stderr, "\rkenchi hunt: [%.*s%*s] %llu/%llu indicators\033[K", fill,
                "##############################", w - fill, "", (unsigned long long)done,
                (unsigned long long)total);
    }
    fflush(stderr);
}

/* ---- shared ------------------------------------------------------------------ */

static const char *short_time(int64_t t, char out[32])
{
    if (t == TIME_NONE)
        return "-";
    time_format(t, out);
    out[19] = 'Z';
    out[20] = '\0';
    return out;
}

static const char *day_text(int64_t t, char out[32])
{
    if (t == TIME_NONE)
        return "(no time)";
    time_format(t, out);
    out[10] = '\0';
    return out;
}

/* The strings of a JSON array text (labels, related), or NULL. */
static json_t *json_array_of(const char *text)
{
    if (!text || !*text)
        return NULL;
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    if (j && !json_is_array(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* "a, b, c" of the string elements of a JSON array text into out. */
static void join_json_strings(const char *text, const char *sep, struct buf *out)
{
    json_t *a = json_array_of(text);
    size_t i;
    json_t *v;
    bool first = true;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            continue;
        if (!first)
            buf_puts(out, sep);
        buf_puts(out, json_string_value(v));
        first = false;
    }
    json_decref(a);
}

/* The values of l joined by sep, at most max of them (0: all), then
 * "+N more". */
static void join_list(const struct hunt_list *l, const char *sep, size_t max, struct buf *out)
{
    size_t shown = max && l->n > max ? max : l->n;
    for (size_t i = 0; i < shown; i++) {
        if (i)
            buf_puts(out, sep);
        buf_puts(out, l->v[i]);
    }
    uint64_t more = l->more + (l->n - shown);
    if (more)
        buf_printf(out, "%s+%llu more", shown ? sep : "", (unsigned long long)more);
}

static const struct ioc_meta *meta_of(const struct hunt_report *r, const struct hunt_result *h)
{
    const struct ioc *c = &r->batch->iocs[h->ioc];
    return c->meta < r->batch->nmetas ? &r->batch->metas[c->meta] : NULL;
}

/* ---- table ---------------------------------------------------------------------- */

#define TABLE_VALUES 20 /* accounts, hosts, mailboxes shown per indicator (JSON: all kept) */

static void cell(struct buf *b, const char *s, int w)
{
    int n = 0;
    if (!s || !*s)
        s = "-";
    for (const unsigned char *p = (const unsigned char *)s; *p && n < w; p++) {
        if ((*p & 0xC0) != 0x80) {
            if (n == w - 1 && p[1] && strlen((const char *)p) > 1) {
                buf_puts(b, "\xe2\x80\xa6"); /* … */
                n++;
                break;
            }
            n++;
        }
        buf_putc(b, (char)(*p < 0x20 ? ' ' : *p));
    }
    for (; n < w; n++)
        buf_putc(b, ' ');
    buf_putc(b, ' ');
}

static void print_table(const struct hunt_report *r, FILE *out)
{
    struct buf b;
    buf_init(&b);
    char t1[32], t2[32], num[32];
    if (r->hits) {
        cell(&b, "TYPE", 10);
        cell(&b, "INDICATOR", 34);
        cell(&b, "FEED / NAME", 24);
        cell(&b, "FIRST SEEN", 20);
        cell(&b, "LAST SEEN", 20);
        cell(&b, "EVENTS", 8);
        buf_puts(&b, "ACCOUNTS HOSTS MAILBOXES\n");
        for (size_t i = 0; i < r->nresults; i++) {
            const struct hunt_result *h = &r->results[i];
            if (h->warned)
                continue;
            const struct ioc *c = &r->batch->iocs[h->ioc];
            const struct ioc_meta *m = meta_of(r, h);
            cell(&b, ioc_type_name(c->type), 10);
            cell(&b, c->value, 34);
            cell(&b, m && m->name ? m->name : m ? m->feed : NULL, 24);
            cell(&b, short_time(h->first_ns, t1), 20);
            cell(&b, short_time(h->last_ns, t2), 20);
            snprintf(num, sizeof(num), "%llu", (unsigned long long)h->events);
            cell(&b, num, 8);
            buf_printf(&b, "%8llu %5llu %9llu\n",
                       (unsigned long long)(h->accounts.n + h->accounts.more),
                       (unsigned long long)(h->hosts.n + h->hosts.more),
                       (unsigned long long)(h->mailboxes.n + h->mailboxes.more));
        }
        /* the details */
        for (size_t i = 0; i < r->nresults; i++) {
            const struct hunt_result *h = &r->results[i];
            if (h->warned)
                continue;
            const struct ioc *c = &r->batch->iocs[h->ioc];
            const struct ioc_meta *m = meta_of(r, h);
            buf_printf(&b, "\n%s %s\n", ioc_type_name(c->type), c->value);
            if (m) {
                buf_printf(&b, "  feed:      %s%s%s\n", m->feed ? m->feed : "-", m->ref ? "  " : "",
                           m->ref ? m->ref : "");
                if (m->name)
                    buf_printf(&b, "  name:      %s\n", m->name);
                struct buf rel;
                buf_init(&rel);
                join_json_strings(m->related_json, ", ", &rel);
                if (rel.len)
                    buf_printf(&b, "  related:   %s\n", rel.data);
                buf_free(&rel);
                if (m->confidence >= 0 || m->tlp != TLP_UNMARKED)
                    buf_printf(&b, "  confidence %d  %s\n", m->confidence, tlp_name(m->tlp));
            }
            buf_printf(&b, "  seen:      %s .. %s, %llu event%s\n", short_time(h->first_ns, t1),
                       short_time(h->last_ns, t2), (unsigned long long)h->events,
                       h->events == 1 ? "" : "s");
            if (c->type == IOC_PATTERN)
                buf_printf(&b, "  matched:   %llu time%s (the pattern whole, by distinct events)\n",
                           (unsigned long long)h->matches, h->matches == 1 ? "" : "s");
            static const char *const names[] = {"accounts:  ", "hosts:     ", "mailboxes: "};
            const struct hunt_list *ls[] = {&h->accounts, &h->hosts, &h->mailboxes};
            for (int k = 0; k < 3; k++) {
                if (!ls[k]->n)
                    continue;
                buf_printf(&b, "  %s", names[k]);
                join_list(ls[k], ", ", TABLE_VALUES, &b);
                buf_putc(&b, '\n');
            }
            if (h->messages)
                buf_printf(&b, "  messages:  %llu (joined by Postfix queue id)\n",
                           (unsigned long long)h->messages);
            if (h->entities_partial)
                buf_puts(&b, "  (accounts, hosts and mailboxes of the first events only)\n");
            buf_puts(&b, "  per day:   ");
            for (size_t d = 0; d < h->ndays; d++)
                buf_printf(&b, "%s%s %llu", d ? ", " : "", day_text(h->days[d].day_ns, t1),
                           (unsigned long long)h->days[d].events);
            buf_putc(&b, '\n');
            if (h->ntimeline)
                buf_printf(&b, "  first %zu event%s:\n", h->ntimeline,
                           h->ntimeline == 1 ? "" : "s");
            for (size_t k = 0; k < h->ntimeline; k++) {
                const struct hunt_event *e = &h->timeline[k];
                buf_puts(&b, "    ");
                cell(&b, short_time(e->ts_ns, t1), 20);
                cell(&b, e->host, 14);
                cell(&b, e->module, 9);
                snprintf(num, sizeof(num), "%s%s%s", e->action ? e->action : "-",
                         e->outcome ? "/" : "", e->outcome ? e->outcome : "");
                cell(&b, num, 22);
                buf_printf(&b, "%s:%llu\n", e->file ? e->file : "-", (unsigned long long)e->line);
            }
        }
    }
    if (r->warned_seen) {
        buf_puts(&b, "\nwarning-listed indicators seen (not counted as found):\n");
        for (size_t i = 0; i < r->nresults; i++) {
            const struct hunt_result *h = &r->results[i];
            if (!h->warned)
                continue;
            const struct ioc *c = &r->batch->iocs[h->ioc];
            buf_printf(&b, "  %s %s: %llu event%s, %s .. %s (%s)\n", ioc_type_name(c->type),
                       c->value, (unsigned long long)h->events, h->events == 1 ? "" : "s",
                       short_time(h->first_ns, t1), short_time(h->last_ns, t2), c->warning);
        }
    }
    buf_printf(&b,
               "\n%llu indicator%s seen, %llu event%s; %llu warning-listed seen. %llu of %llu "
               "indicators hunted",
               (unsigned long long)r->hits, r->hits == 1 ? "" : "s", (unsigned long long)r->events,
               r->events == 1 ? "" : "s", (unsigned long long)r->warned_seen,
               (unsigned long long)r->hunted, (unsigned long long)r->indicators);
    if (r->skipped_revoked || r->skipped_window || r->skipped_pattern)
        buf_printf(&b,
                   " (not hunted: %llu revoked, %llu outside their validity, %llu STIX "
                   "patterns the grammar refuses)",
                   (unsigned long long)r->skipped_revoked, (unsigned long long)r->skipped_window,
                   (unsigned long long)r->skipped_pattern);
    if (r->patterns) {
        buf_printf(&b,
                   "; %llu STIX pattern%s: %llu through the index (%llu events), %llu over "
                   "their window (%llu events)",
                   (unsigned long long)r->patterns, r->patterns == 1 ? "" : "s",
                   (unsigned long long)r->patterns_indexed,
                   (unsigned long long)r->pattern_candidates,
                   (unsigned long long)r->patterns_scanned, (unsigned long long)r->window_events);
        if (r->patterns_partial)
            buf_printf(&b, ", %llu cut at their candidate limit",
                       (unsigned long long)r->patterns_partial);
    }
    buf_printf(&b, "; %.2f s.\n", r->seconds);
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
}

/* ---- JSON lines -------------------------------------------------------------------- */

static void jkey(struct buf *b, const char *k)
{
    buf_putc(b, ',');
    json_put_string(b, k, strlen(k));
    buf_putc(b, ':');
}

static void jstr(struct buf *b, const char *k, const char *v)
{
    jkey(b, k);
    if (v)
        json_put_string(b, v, strlen(v));
    else
        buf_puts(b, "null");
}

static void jtime(struct buf *b, const char *k, int64_t t)
{
    char tmp[32];
    jkey(b, k);
    if (t == TIME_NONE) {
        buf_puts(b, "null");
        return;
    }
    time_format(t, tmp);
    json_put_string(b, tmp, strlen(tmp));
}

static void jarray_text(struct buf *b, const char *k, const char *text)
{
    jkey(b, k);
    buf_putc(b, '[');
    json_t *a = json_array_of(text);
    size_t i;
    json_t *v;
    bool first = true;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            continue;
        if (!first)
            buf_putc(b, ',');
        json_put_string(b, json_string_value(v), strlen(json_string_value(v)));
        first = false;
    }
    json_decref(a);
    buf_putc(b, ']');
}

static void jlist(struct buf *b, const char *k, const struct hunt_list *l)
{
    jkey(b, k);
    buf_putc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_string(b, l->v[i], strlen(l->v[i]));
    }
    buf_printf(b, "],\"%s_more\":%llu", k, (unsigned long long)l->more);
}

static void print_json(const struct hunt_report *r, const char *store, FILE *out)
{
    struct buf b;
    buf_init(&b);
    char t[32];
    for (size_t i = 0; i < r->nresults; i++) {
        const struct hunt_result *h = &r->results[i];
        const struct ioc *c = &r->batch->iocs[h->ioc];
        const struct ioc_meta *m = meta_of(r, h);
        buf_printf(&b, "{\"kind\":\"%s\"", h->warned ? "warned" : "hit");
        jstr(&b, "type", ioc_type_name(c->type));
        jstr(&b, "value", c->value);
        jstr(&b, "feed", m ? m->feed : NULL);
        jstr(&b, "ref", m ? m->ref : NULL);
        jstr(&b, "name", m ? m->name : NULL);
        jarray_text(&b, "related", m ? m->related_json : NULL);
        jarray_text(&b, "labels", m ? m->labels_json : NULL);
        jkey(&b, "confidence");
        if (m && m->confidence >= 0)
            buf_printf(&b, "%d", m->confidence);
        else
            buf_puts(&b, "null");
        jstr(&b, "tlp", m && m->tlp != TLP_UNMARKED ? tlp_name(m->tlp) : NULL);
        jkey(&b, "detect");
        buf_puts(&b, c->detect ? "true" : "false");
        jstr(&b, "warning", c->warning);
        jtime(&b, "first_seen", h->first_ns);
        jtime(&b, "last_seen", h->last_ns);
        buf_printf(&b, ",\"events\":%llu", (unsigned long long)h->events);
        if (c->type == IOC_PATTERN)
            buf_printf(&b, ",\"matches\":%llu", (unsigned long long)h->matches);
        jlist(&b, "accounts", &h->accounts);
        jlist(&b, "hosts", &h->hosts);
        jlist(&b, "mailboxes", &h->mailboxes);
        buf_printf(&b, ",\"messages\":%llu,\"entities_partial\":%s",
                   (unsigned long long)h->messages, h->entities_partial ? "true" : "false");
        buf_puts(&b, ",\"per_day\":[");
        for (size_t d = 0; d < h->ndays; d++) {
            buf_puts(&b, d ? ",{\"day\":" : "{\"day\":");
            if (h->days[d].day_ns == TIME_NONE)
                buf_puts(&b, "null");
            else
                buf_printf(&b, "\"%s\"", day_text(h->days[d].day_ns, t));
            buf_printf(&b, ",\"events\":%llu}", (unsigned long long)h->days[d].events);
        }
        buf_puts(&b, "],\"timeline\":[");
        for (size_t k = 0; k < h->ntimeline; k++) {
            const struct hunt_event *e = &h->timeline[k];
            buf_puts(&b, k ? ",{" : "{");
            buf_puts(&b, "\"@timestamp\":");
            if (e->ts_ns == TIME_NONE) {
                buf_puts(&b, "null");
            } else {
                time_format(e->ts_ns, t);
                json_put_string(&b, t, strlen(t));
            }
            jstr(&b, "host", e->host);
            jstr(&b, "module", e->module);
            jstr(&b, "action", e->action);
            jstr(&b, "outcome", e->outcome);
            jstr(&b, "user", e->user);
            jstr(&b, "source.ip", e->source_ip);
            jstr(&b, "destination.ip", e->destination_ip);
            jstr(&b, "email.from", e->email_from);
            jstr(&b, "email.to", e->email_to);
            jstr(&b, "file", e->file);
            buf_printf(&b, ",\"line\":%llu}", (unsigned long long)e->line);
        }
        buf_puts(&b, "]}\n");
    }
    buf_puts(&b, "{\"kind\":\"summary\"");
    jstr(&b, "store", store);
    buf_printf(&b,
               ",\"indicators\":%llu,\"hunted\":%llu,\"skipped\":{\"revoked\":%llu,"
               "\"outside_validity\":%llu,\"patterns\":%llu},\"hits\":%llu,\"warned_seen\":%llu,"
               "\"events\":%llu,\"events_before_v2\":%lld,\"patterns\":{\"hunted\":%llu,"
               "\"indexed\":%llu,\"scanned\":%llu,\"partial\":%llu,\"index_events\":%llu,"
               "\"window_events\":%llu},\"seconds\":%.3f}\n",
               (unsigned long long)r->indicators, (unsigned long long)r->hunted,
               (unsigned long long)r->skipped_revoked, (unsigned long long)r->skipped_window,
               (unsigned long long)r->skipped_pattern, (unsigned long long)r->hits,
               (unsigned long long)r->warned_seen, (unsigned long long)r->events,
               (long long)(r->needs_v2_keys ? r->events_before_v2 : 0),
               (unsigned long long)r->patterns, (unsigned long long)r->patterns_indexed,
               (unsigned long long)r->patterns_scanned, (unsigned long long)r->patterns_partial,
               (unsigned long long)r->pattern_candidates, (unsigned long long)r->window_events,
               r->seconds);
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
}

/* ---- CSV --------------------------------------------------------------------------- */

/* One RFC 4180 field. */
static void csv_field(struct buf *b, const char *s, bool last)
{
    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n")) {
        buf_putc(b, '"');
        for (; *s; s++) {
            if (*s == '"')
                buf_putc(b, '"');
            buf_putc(b, *s);
        }
        buf_putc(b, '"');
    } else {
        buf_puts(b, s);
    }
    buf_puts(b, last ? "\r\n" : ",");
}

static void print_csv(const struct hunt_report *r, FILE *out)
{
    struct buf b, f;
    buf_init(&b);
    buf_init(&f);
    char t[32], num[32];
    buf_puts(&b, "kind,type,value,feed,ref,name,related,confidence,tlp,first_seen,last_seen,"
                 "events,accounts,hosts,mailboxes,messages,per_day,warning\r\n");
    for (size_t i = 0; i < r->nresults; i++) {
        const struct hunt_result *h = &r->results[i];
        const struct ioc *c = &r->batch->iocs[h->ioc];
        const struct ioc_meta *m = meta_of(r, h);
        csv_field(&b, h->warned ? "warned" : "hit", false);
        csv_field(&b, ioc_type_name(c->type), false);
        csv_field(&b, c->value, false);
        csv_field(&b, m ? m->feed : NULL, false);
        csv_field(&b, m ? m->ref : NULL, false);
        csv_field(&b, m ? m->name : NULL, false);
        buf_clear(&f);
        join_json_strings(m ? m->related_json : NULL, "; ", &f);
        csv_field(&b, f.data ? f.data : "", false);
        snprintf(num, sizeof(num), "%d", m ? m->confidence : -1);
        csv_field(&b, m && m->confidence >= 0 ? num : "", false);
        csv_field(&b, m ? tlp_name(m->tlp) : "", false);
        csv_field(&b, h->first_ns == TIME_NONE ? "" : (time_format(h->first_ns, t), t), false);
        csv_field(&b, h->last_ns == TIME_NONE ? "" : (time_format(h->last_ns, t), t), false);
        snprintf(num, sizeof(num), "%llu", (unsigned long long)h->events);
        csv_field(&b, num, false);
        const struct hunt_list *ls[] = {&h->accounts, &h->hosts, &h->mailboxes};
        for (int k = 0; k < 3; k++) {
            buf_clear(&f);
            join_list(ls[k], "; ", 0, &f);
            csv_field(&b, f.data ? f.data : "", false);
        }
        snprintf(num, sizeof(num), "%llu", (unsigned long long)h->messages);
        csv_field(&b, num, false);
        buf_clear(&f);
        for (size_t d = 0; d < h->ndays; d++)
            buf_printf(&f, "%s%s=%llu", d ? "; " : "", day_text(h->days[d].day_ns, t),
                       (unsigned long long)h->days[d].events);
        csv_field(&b, f.data ? f.data : "", false);
        csv_field(&b, c->warning, true);
    }
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
    buf_free(&f);
}

/* ---- the verb ------------------------------------------------------------------------- */

enum { OPT_SINCE = 0x200, OPT_UNTIL, OPT_IMPORT, OPT_THREADS, OPT_ENTITY_EVENTS };

static int parse_count(const char *opt, const char *arg, bool zero_ok, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (*arg == '-' || end == arg || *end || errno || (!zero_ok && v == 0)) {
        fprintf(stderr, "kenchi hunt: %s: '%s' is not a %s number\n", opt, arg,
                zero_ok ? "non-negative" : "positive");
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Open the store for reading, upgrading an older one first. threads: the
 * hunt's reading threads (0: the store's default). */
static int open_store(const char *path, size_t threads, struct store **out)
{
    struct store_opts so;
    store_opts_default(&so);
    so.read_only = true;
    so.hunt_threads = threads;
    int rc = store_open(path, &so, out);
    if (rc < 0 || store_schema_version(*out) >= STORE_SCHEMA_VERSION)
        return rc;
    store_close(*out);
    fprintf(stderr, "kenchi hunt: %s: upgrading the store to schema version %d (once)\n", path,
            STORE_SCHEMA_VERSION);
    store_opts_default(&so);
    rc = store_open(path, &so, out);
    if (rc < 0)
        return rc;
    rc = store_close(*out);
    *out = NULL;
    if (rc < 0)
        return store_open(path, &so, out); /* to explain */
    so.read_only = true;
    so.hunt_threads = threads;
    return store_open(path, &so, out);
}

int cmd_hunt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},
        {"import", required_argument, NULL, OPT_IMPORT},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"output", required_argument, NULL, 'o'},
        {"limit-events", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"entity-events", required_argument, NULL, OPT_ENTITY_EVENTS},
        INTEL_LONG_OPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = STORE_DEFAULT_PATH, *output = NULL;
    uint64_t import_id = 0, limit, threads = 0;
    struct hunt_opts ho;
    hunt_opts_default(&ho);
    struct intel_opts io;
    intel_opts_init(&io);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:o:n:h", longopts, NULL)) != -1) {
        int ir = intel_opts_handle(&io, c, optarg);
        if (ir < 0)
            return EXIT_USAGE;
        if (ir > 0)
            continue;
        switch (c) {
        case 's':
            path = optarg;
            break;
        case OPT_IMPORT:
            if (parse_count("--import", optarg, false, &import_id) < 0)
                return EXIT_USAGE;
            break;
        case OPT_SINCE:
            if (cli_parse_time("hunt", "--since", optarg, &ho.since_ns) < 0)
                return EXIT_USAGE;
            break;
        case OPT_UNTIL:
            if (cli_parse_time("hunt", "--until", optarg, &ho.until_ns) < 0)
                return EXIT_USAGE;
            break;
        case 'o':
            output = optarg;
            break;
        case 'n':
            if (parse_count("--limit-events", optarg, true, &limit) < 0)
                return EXIT_USAGE;
            ho.timeline_events = limit > 100000 ? 100000 : (size_t)limit;
            break;
        case OPT_ENTITY_EVENTS: {
            uint64_t v;
            if (parse_count("--entity-events", optarg, false, &v) < 0)
                return EXIT_USAGE;
            ho.max_rows = (size_t)v;
            break;
        }
        case OPT_THREADS:
            if (parse_count("--threads", optarg, false, &threads) < 0)
                return EXIT_USAGE;
            if (threads > 128) {
                fprintf(stderr, "kenchi hunt: --threads: at most 128\n");
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kenchi hunt: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (output && strcmp(output, "table") && strcmp(output, "json") && strcmp(output, "jsonl") &&
        strcmp(output, "csv")) {
        fprintf(stderr, "kenchi hunt: --output must be table, json or csv\n");
        return EXIT_USAGE;
    }
    if (!output)
        output = stdout_is_tty() ? "table" : "json";

    struct store *s = NULL;
    int rc = open_store(path, (size_t)threads, &s);
    if (rc < 0) {
        fprintf(stderr, "kenchi hunt: %s\n", store_errmsg(s));
        store_close(s);
        return EXIT_RUNTIME;
    }
    struct progress pg = {.tty = isatty(STDERR_FILENO) == 1, .start = mono_s()};
    ho.progress = on_progress;
    ho.progress_opaque = &pg;
    struct hunt_report r;
    struct ioc_batch files;
    bool from_files = io.npaths > 0;
    if (from_files) {
        /* indicators from files, not imported: read into one batch */
        rc = intel_read_batch(&io, &files, "hunt", stderr);
        if (rc) {
            ioc_batch_free(&files);
            store_close(s);
            return rc;
        }
        rc = hunt_batch(s, &files, &ho, &r);
    } else {
        rc = hunt_store(s, (int64_t)import_id, &ho, &r);
    }
    if (pg.shown)
        fputs("\r\033[K", stderr);
    if (rc < 0) {
        const char *m = store_errmsg(s);
        fprintf(stderr, "kenchi hunt: %s\n", *m ? m : strerror(-rc));
        hunt_report_free(&r);
        if (from_files)
            ioc_batch_free(&files);
        store_close(s);
        return rc == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
    }
    if (r.needs_v2_keys && r.events_before_v2 > 0)
        fprintf(stderr,
                "kenchi hunt: note: the first %lld events were stored before store schema 2 and "
                "are found by address, account and mail address only (not by domain, URL, hash, "
                "file name or user agent)\n",
                (long long)r.events_before_v2);
    if (r.indicators == 0)
        fprintf(stderr, "kenchi hunt: %s: the store keeps no indicators%s\n", path,
                import_id ? " from that import" : " (import some first)");
    if (!strcmp(output, "table"))
        print_table(&r, stdout);
    else if (!strcmp(output, "csv"))
        print_csv(&r, stdout);
    else
        print_json(&r, path, stdout);
    int status = r.hits ? 1 : 0;
    if (fflush(stdout) == EOF && errno != EPIPE) {
        fprintf(stderr, "kenchi hunt: writing the results: %s\n", strerror(errno));
        status = EXIT_RUNTIME;
    }
    hunt_report_free(&r);
    if (from_files)
        ioc_batch_free(&files);
    store_close(s);
    return status;
}
