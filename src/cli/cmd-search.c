/*
 * cmd-search.c - `kenchi search`: find stored events by user, IP address,
 * e-mail address and time, in time order.
 *
 * The filters combine with AND; the store answers them from its hunting
 * index (see store/store-sqlite.c), so a search over months costs what its
 * results cost. On a terminal the results are a table cut to the terminal's
 * width; otherwise (or with --output jsonl) each result is the stored event
 * as one JSON line, exactly as `kenchi parse` printed it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

static void usage(FILE *out)
{
    fputs("Usage: kenchi search [OPTIONS]\n"
          "Find stored events, in time order. Filters combine with AND; without any, every\n"
          "event is listed.\n\n"
          "  -s, --store FILE   the store to search (default: " STORE_DEFAULT_PATH ")\n"
          "  -u, --user U       user.name is U (case-insensitive)\n"
          "  -i, --ip A         source.ip or destination.ip is A; A may be a CIDR block\n"
          "                     (10.0.0.0/8, 2001:db8::/32)\n"
          "  -e, --email A      email.from.address or email.to.address is A\n"
          "                     (case-insensitive)\n"
          "      --since T      events at or after T: RFC 3339 time, a date (2024-03-01,\n"
          "                     midnight UTC), or an age such as 90m, 36h, 7d, 2w\n"
          "      --until T      events before T (same forms)\n"
          "  -n, --limit N      at most N events (default: all)\n"
          "  -o, --output F     table (default on a terminal) or jsonl (the stored events,\n"
          "                     one JSON object a line)\n"
          "      --explain      print how the store will answer, instead of the results\n"
          "  -h, --help         show this help\n\n"
          "Exit status: 0 success (whether or not events matched), 2 usage error,\n"
          "3 the store could not be read.\n",
          out);
}

/* ---- the table --------------------------------------------------------- */

struct table {
    FILE *out;
    int width; /* terminal columns */
    struct buf line;
    struct buf msg;
    uint64_t rows;
};

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 40 ? n : 120;
}

/* Append s padded or cut to exactly w columns (w < 0: no padding, cut at
 * -w). Columns are counted as code points; control bytes become spaces. */
static void put_cell(struct buf *b, const char *s, int w)
{
    int max = w < 0 ? -w : w;
    int cols = 0;
    if (!s || !*s)
        s = "-";
    size_t n = strlen(s);
    size_t i = 0;
    /* the cell is cut one column early to make room for the ellipsis */
    size_t total_cols = 0;
    for (size_t k = 0; k < n; k++)
        total_cols += ((unsigned char)s[k] & 0xC0) != 0x80;
    bool cut = (int)total_cols > max;
    int room = cut ? max - 1 : max;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (i + len > n)
            len = n - i;
        if (cols >= room)
            break;
        if (c < 0x20 || c == 0x7f)
            buf_putc(b, ' ');
        else
            buf_append(b, s + i, len);
        cols++;
        i += len;
    }
    if (cut) {
        buf_puts(b, "\xe2\x80\xa6"); /* … */
        cols++;
    }
    for (; w > 0 && cols < w; cols++)
        buf_putc(b, ' ');
}

/* Skip the JSON value at s[*i] (valid JSON written by event_to_json). */
static void json_skip(const char *s, size_t n, size_t *i)
{
    int depth = 0;
    bool in_str = false;
    for (; *i < n; (*i)++) {
        char c = s[*i];
        if (in_str) {
            if (c == '\\')
                (*i)++;
            else if (c == '"') {
                in_str = false;
                if (depth == 0) {
                    (*i)++;
                    return;
                }
            }
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                return; /* end of the enclosing object */
            if (--depth == 0) {
                (*i)++;
                return;
            }
        } else if (depth == 0 && c == ',')
            return;
    }
}

/* Unescape the JSON string starting at s[i] == '"' into out. */
static void json_unescape(const char *s, size_t n, size_t i, struct buf *out)
{
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            buf_putc(out, s[i]);
            continue;
        }
        char e = s[++i];
        if (e == 'u' && i + 4 < n) {
            unsigned cp =
                (unsigned)strtoul((char[5]){s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0}, NULL, 16);
            i += 4;
            if (cp < 0x20 || (cp >= 0xD800 && cp < 0xE000))
                buf_putc(out, ' '); /* control or half a surrogate pair: shown as a space */
            else if (cp < 0x80)
                buf_putc(out, (char)cp);
            else if (cp < 0x800) {
                buf_putc(out, (char)(0xC0 | cp >> 6));
                buf_putc(out, (char)(0x80 | (cp & 0x3F)));
            } else {
                buf_putc(out, (char)(0xE0 | cp >> 12));
                buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
                buf_putc(out, (char)(0x80 | (cp & 0x3F)));
            }
        } else {
            buf_putc(out, e == 'n' || e == 't' || e == 'r' || e == 'b' || e == 'f' ? ' ' : e);
        }
    }
}

/* The top-level string member key of the JSON object json, into out
 * (empty if absent or not a string). */
static void json_top_string(const char *json, size_t n, const char *key, struct buf *out)
{
    buf_clear(out);
    size_t kl = strlen(key);
    size_t i = 1; /* after '{' */
    while (i < n && json[i] == '"') {
        size_t k0 = i + 1;
        size_t j = k0;
        while (j < n && json[j] != '"')
            j += json[j] == '\\' ? 2 : 1;
        if (j >= n)
            return; /* unterminated key: not JSON kenchi wrote */
        bool match = j - k0 == kl && !memcmp(json + k0, key, kl);
        i = j + 2; /* past '":' */
        if (i >= n)
            return;
        if (match) {
            if (json[i] == '"')
                json_unescape(json, n, i, out);
            return;
        }
        json_skip(json, n, &i);
        if (i < n && json[i] == ',')
            i++;
    }
}

static int table_row(void *opaque, const struct store_row *r)
{
    struct table *t = opaque;
    struct buf *b = &t->line;
    buf_clear(b);
    char ts[32] = "-";
    if (r->ts_ns != TIME_NONE) {
        time_format(r->ts_ns, ts);
        ts[19] = 'Z'; /* seconds are enough on screen */
        ts[20] = '\0';
    }
    put_cell(b, ts, 20);
    buf_putc(b, ' ');
    put_cell(b, r->module, 9);
    buf_putc(b, ' ');
    put_cell(b, r->host, 15);
    buf_putc(b, ' ');
    put_cell(b, r->user, 18);
    buf_putc(b, ' ');
    put_cell(b, r->source_ip, 15);
    buf_putc(b, ' ');
    char ao[96];
    snprintf(ao, sizeof(ao), "%s%s%s", r->action ? r->action : "-", r->outcome ? "/" : "",
             r->outcome ? r->outcome : "");
    put_cell(b, ao, 16);
    buf_putc(b, ' ');
    json_top_string(r->json, r->json_len, "message", &t->msg);
    int used = 20 + 9 + 15 + 18 + 15 + 16 + 6;
    put_cell(b, t->msg.data, -(t->width - used > 10 ? t->width - used : 10));
    buf_putc(b, '\n');
    t->rows++;
    return fwrite(b->data, 1, b->len, t->out) == b->len ? 0 : -errno;
}

static int jsonl_row(void *opaque, const struct store_row *r)
{
    FILE *out = opaque;
    if (fwrite(r->json, 1, r->json_len, out) != r->json_len || fputc('\n', out) == EOF)
        return -errno;
    return 0;
}

/* ---- the verb ---------------------------------------------------------- */

enum { OPT_SINCE = 0x200, OPT_UNTIL, OPT_EXPLAIN };

int cmd_search(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},
        {"user", required_argument, NULL, 'u'},
        {"ip", required_argument, NULL, 'i'},
        {"email", required_argument, NULL, 'e'},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"limit", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"explain", no_argument, NULL, OPT_EXPLAIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = STORE_DEFAULT_PATH, *output = NULL;
    bool explain = false;
    struct store_query q;
    store_query_init(&q);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:u:i:e:n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            path = optarg;
            break;
        case 'u':
            q.user = optarg;
            break;
        case 'i':
            q.ip = optarg;
            break;
        case 'e':
            q.email = optarg;
            break;
        case OPT_SINCE:
            if (cli_parse_time("search", "--since", optarg, &q.since_ns) < 0)
                return EXIT_USAGE;
            break;
        case OPT_UNTIL:
            if (cli_parse_time("search", "--until", optarg, &q.until_ns) < 0)
                return EXIT_USAGE;
            break;
        case 'n': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*optarg == '-' || end == optarg || *end || errno || v == 0) {
                fprintf(stderr, "kenchi search: --limit: '%s' is not a positive number\n", optarg);
                return EXIT_USAGE;
            }
            q.limit = v;
            break;
        }
        case 'o':
            output = optarg;
            break;
        case OPT_EXPLAIN:
            explain = true;
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
        fprintf(stderr, "kenchi search: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (output && strcmp(output, "table") && strcmp(output, "jsonl")) {
        fprintf(stderr, "kenchi search: --output must be table or jsonl\n");
        return EXIT_USAGE;
    }
    if (q.user && !*q.user) {
        fprintf(stderr, "kenchi search: --user: empty name\n");
        return EXIT_USAGE;
    }
    bool json = output ? !strcmp(output, "jsonl") : !stdout_is_tty();

    struct store_opts so;
    store_opts_default(&so);
    so.read_only = true;
    struct store *s;
    int rc = store_open(path, &so, &s);
    if (rc < 0) {
        fprintf(stderr, "kenchi search: %s\n", store_errmsg(s));
        store_close(s);
        return EXIT_RUNTIME;
    }
    if (explain) {
        struct buf plan;
        buf_init(&plan);
        rc = store_explain(s, &q, &plan);
        if (rc == 0)
            fputs(plan.data ? plan.data : "", stdout);
        buf_free(&plan);
    } else if (json) {
        rc = store_search(s, &q, jsonl_row, stdout);
    } else {
        struct table t = {.out = stdout, .width = terminal_width()};
        buf_init(&t.line);
        buf_init(&t.msg);
        struct buf hdr;
        buf_init(&hdr);
        static const struct {
            const char *name;
            int w;
        } cols[] = {{"TIME", 20},      {"MODULE", 9},          {"HOST", 15},  {"USER", 18},
                    {"SOURCE IP", 15}, {"ACTION/OUTCOME", 16}, {"MESSAGE", 0}};
        for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
            put_cell(&hdr, cols[i].name, cols[i].w ? cols[i].w : -7);
            buf_putc(&hdr, cols[i].w ? ' ' : '\n');
        }
        fputs(hdr.data, stdout);
        buf_free(&hdr);
        rc = store_search(s, &q, table_row, &t);
        if (rc == 0)
            fprintf(stdout, "(%llu event%s)\n", (unsigned long long)t.rows, t.rows == 1 ? "" : "s");
        buf_free(&t.line);
        buf_free(&t.msg);
    }
    if (fflush(stdout) == EOF && rc == 0)
        rc = -errno;
    int status = 0;
    if (rc == -EPIPE) {
        status = 0; /* the reader went away (| head): not an error */
    } else if (rc == -EINVAL) {
        fprintf(stderr, "kenchi search: %s\n", store_errmsg(s));
        status = EXIT_USAGE;
    } else if (rc < 0) {
        const char *m = store_errmsg(s);
        fprintf(stderr, "kenchi search: %s\n", *m ? m : strerror(-rc));
        status = EXIT_RUNTIME;
    }
    store_close(s);
    return status;
}
