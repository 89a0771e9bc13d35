/*
 * config.c - the daemon's configuration file (see config.h and
 * docs/configuration.md).
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/output.h"
#include "pipeline/pipeline.h"
#include "daemon/http.h"
#include "util/timeconv.h"

/* Source kinds read by other modules (network syslog): one line each. */
extern const struct source_ops source_syslog;
const struct source_ops *const config_source_kinds[] = {
    &source_syslog,
    NULL,
};

const char *const config_levels[] = {"informational", "low", "medium", "high", "critical", NULL};

int config_level_index(const char *level)
{
    for (int i = 0; config_levels[i]; i++)
        if (level && !strcmp(level, config_levels[i]))
            return i;
    return -1;
}

#define CONFIG_MAX_BYTES (4u << 20)
#define CONFIG_MAX_ITEMS 256

static int read_text(const char *path, char **text, size_t *n, FILE *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (diag)
            fprintf(diag, "kenchi: %s: %s\n", path, strerror(e));
        return -e;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)CONFIG_MAX_BYTES) {
        if (diag)
            fprintf(diag, "kenchi: %s: not a regular file of at most %u bytes\n", path,
                    CONFIG_MAX_BYTES);
        close(fd);
        return -EINVAL;
    }
    char *t = malloc((size_t)sb.st_size + 1);
    if (!t) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, t + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    t[got] = '\0';
    *text = t;
    *n = got;
    return 0;
}

static void default_name(struct config *cf, const char **name, const char *type, size_t i)
{
    if (*name)
        return;
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%s-%zu", type, i + 1);
    *name = arena_strndup(&cf->yf.arena, tmp, strlen(tmp));
}

/* Names label metrics and log lines: letters, digits, '_', '-', '.'. */
static void check_name(struct conf_ctx *c, const struct ynode *m, const char *name)
{
    if (!name)
        return;
    size_t n = strlen(name);
    bool good = n > 0 && n <= 64;
    for (size_t i = 0; good && i < n; i++)
        good = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
               (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-' ||
               name[i] == '.';
    if (!good)
        conf_error(c, ynode_get(m, "name"),
                   "name: '%s' must be 1 to 64 letters, digits, '_', '-' or '.'", name);
}

static bool is_list(struct conf_ctx *c, const struct ynode *n, const char *what)
{
    if (n->kind == YNODE_SEQ)
        return true;
    conf_error(c, n, "%s: must be a list (lines starting with '- '), not %s", what,
               ynode_kind_name(n));
    return false;
}

static void read_file_source(struct conf_ctx *c, const struct ynode *m, struct config_source *s)
{
    static const char *const keys[] = {SOURCE_COMMON_KEYS, "paths", "exclude", "start_at", "poll",
                                       "rotate_wait",      NULL};
    conf_check_keys(c, m, keys);
    if (conf_need(c, m, "paths"))
        conf_strlist(c, m, "paths", &s->paths, &s->npaths);
    for (size_t i = 0; i < s->npaths; i++)
        if (s->paths[i][0] != '/')
            conf_error(c, ynode_get(m, "paths"),
                       "paths: '%s' is not an absolute path (the daemon's working directory "
                       "is no place to count on)",
                       s->paths[i]);
    static const char *const def_exclude[] = {"*.gz", "*.zst", "*.bz2", "*.xz", "*.lz4", NULL};
    s->exclude = (const char **)def_exclude;
    s->nexclude = 5;
    conf_strlist(c, m, "exclude", &s->exclude, &s->nexclude);
    static const char *const starts[] = {"beginning", "end", NULL};
    int st = START_BEGINNING;
    conf_enum(c, m, "start_at", starts, &st);
    s->start_at = (enum start_at)st;
    s->poll_ns = NS_PER_SEC;
    conf_duration(c, m, "poll", 10 * 1000000LL, 3600 * NS_PER_SEC, &s->poll_ns);
    s->rotate_wait_ns = 5 * NS_PER_SEC;
    conf_duration(c, m, "rotate_wait", 0, 3600 * NS_PER_SEC, &s->rotate_wait_ns);
}

static void read_sources(struct conf_ctx *c, struct config *cf, const struct ynode *list)
{
    if (!is_list(c, list, "sources"))
        return;
    if (list->seq.n > CONFIG_MAX_ITEMS) {
        conf_error(c, list, "sources: at most %d sources", CONFIG_MAX_ITEMS);
        return;
    }
    cf->sources = arena_alloc(&cf->yf.arena, (list->seq.n + 1) * sizeof(*cf->sources));
    memset(cf->sources, 0, (list->seq.n + 1) * sizeof(*cf->sources));
    size_t nstdin = 0;
    for (size_t i = 0; i < list->seq.n; i++) {
        const struct ynode *m = list->seq.items[i];
        if (!conf_is_map(c, m, "sources: each source"))
            continue;
        struct config_source *s = &cf->sources[cf->nsources++];
        s->node = m;
        const char *type = NULL;
        if (!conf_need(c, m, "type") || conf_str(c, m, "type", &type) < 0)
            continue;
        s->type_name = type;
        conf_str(c, m, "name", &s->name);
        check_name(c, m, s->name);
        if (conf_str(c, m, "format", &s->format) == 1) {
            if (pipeline_check_format(s->format) < 0)
                conf_error(c, ynode_get(m, "format"),
                           "format: unknown format '%s' (kenchi parse --help lists them)",
                           s->format);
            else if (!strcmp(s->format, "evtx"))
                conf_error(c, ynode_get(m, "format"),
                           "format: evtx files are containers, not logs that grow: they "
                           "cannot be read live");
            else if (!strcmp(s->format, "auto"))
                s->format = NULL;
        }
        if (conf_str(c, m, "timezone", &s->timezone) == 1 &&
            (!cf->timezone || strcmp(s->timezone, cf->timezone)))
            conf_error(c, ynode_get(m, "timezone"),
                       "timezone: a zone per source other than the global 'timezone' (%s) is "
                       "not supported by this build: set the global one",
                       cf->timezone ? cf->timezone : "not set");
        if (!strcmp(type, "file")) {
            s->type = SOURCE_FILE;
            read_file_source(c, m, s);
        } else if (!strcmp(type, "stdin")) {
            s->type = SOURCE_STDIN;
            static const char *const keys[] = {SOURCE_COMMON_KEYS, NULL};
            conf_check_keys(c, m, keys);
            if (nstdin++)
                conf_error(c, m, "sources: standard input can be read by one source only");
        } else {
            s->type = SOURCE_OTHER;
            for (size_t k = 0; config_source_kinds[k]; k++)
                if (!strcmp(config_source_kinds[k]->type, type))
                    s->ops = config_source_kinds[k];
            if (s->ops) {
                if (s->ops->configure(c, m, &s->state) < 0 && s->state) {
                    s->ops->free(s->state);
                    s->state = NULL;
                }
            } else {
                conf_error(c, ynode_get(m, "type"),
                           "type: unknown source type '%s' (file, stdin, syslog)", type);
            }
        }
        default_name(cf, &s->name, type, i);
        for (size_t k = 0; k + 1 < cf->nsources; k++)
            if (cf->sources[k].name && !strcmp(cf->sources[k].name, s->name))
                conf_error(c, ynode_get(m, "name") ? ynode_get(m, "name") : m,
                           "name: '%s' names another source already", s->name);
    }
}

static void read_outputs(struct conf_ctx *c, struct config *cf, const struct ynode *list)
{
    if (!is_list(c, list, "outputs"))
        return;
    if (list->seq.n > CONFIG_MAX_ITEMS) {
        conf_error(c, list, "outputs: at most %d outputs", CONFIG_MAX_ITEMS);
        return;
    }
    cf->outputs = arena_alloc(&cf->yf.arena, (list->seq.n + 1) * sizeof(*cf->outputs));
    memset(cf->outputs, 0, (list->seq.n + 1) * sizeof(*cf->outputs));
    for (size_t i = 0; i < list->seq.n; i++) {
        const struct ynode *m = list->seq.items[i];
        if (!conf_is_map(c, m, "outputs: each output"))
            continue;
        struct config_output *o = &cf->outputs[cf->noutputs++];
        o->node = m;
        o->retry_min_ns = NS_PER_SEC;
        o->retry_max_ns = 300 * NS_PER_SEC;
        const char *type = NULL;
        if (!conf_need(c, m, "type") || conf_str(c, m, "type", &type) < 0)
            continue;
        o->type = type;
        conf_str(c, m, "name", &o->name);
        check_name(c, m, o->name);
        const char *lvl = NULL;
        if (conf_str(c, m, "min_level", &lvl) == 1) {
            o->min_level = config_level_index(lvl);
            if (o->min_level < 0) {
                conf_error(c, ynode_get(m, "min_level"),
                           "min_level: '%s' is not a level (informational, low, medium, high, "
                           "critical)",
                           lvl);
                o->min_level = 0;
            }
        }
        if (conf_strlist(c, m, "kinds", &o->kinds, &o->nkinds) == 1) {
            static const char *const kinds[] = {"sigma", "correlation", "intel", "anomaly"};
            for (size_t k = 0; k < o->nkinds; k++) {
                bool ok = false;
                for (size_t j = 0; j < 4; j++)
                    ok |= !strcmp(o->kinds[k], kinds[j]);
                if (!ok)
                    conf_error(c, ynode_get(m, "kinds"),
                               "kinds: '%s' is not a kind of alert (sigma, correlation, intel, "
                               "anomaly)",
                               o->kinds[k]);
            }
        }
        struct output_retry rt;
        if (output_retry_settings(c, m, &rt) == 0) {
            o->retry_min_ns = rt.initial_ns;
            o->retry_max_ns = rt.max_ns;
        }
        o->ops = output_find(type);
        if (!o->ops) {
            char known[256] = "";
            for (size_t k = 0; output_kind(k); k++) {
                strncat(known, k ? ", " : "", sizeof(known) - strlen(known) - 1);
                strncat(known, output_kind(k)->type, sizeof(known) - strlen(known) - 1);
            }
            conf_error(c, ynode_get(m, "type"), "type: unknown output type '%s' (known: %s)", type,
                       known);
        } else if (o->ops->configure(c, m, &o->state) < 0 && o->state) {
            o->ops->close(o->state); /* a state made before the problem */
            o->state = NULL;
        }
        default_name(cf, &o->name, type, i);
        for (size_t k = 0; k + 1 < cf->noutputs; k++)
            if (cf->outputs[k].name && !strcmp(cf->outputs[k].name, o->name))
                conf_error(c, ynode_get(m, "name") ? ynode_get(m, "name") : m,
                           "name: '%s' names another output already", o->name);
    }
}

/* The sections of the file. */
static const char *const top_keys[] = {"store",   "rules",     "intel",   "timezone",
                                       "sources", "outputs",   "metrics", "limits",
                                       "log",     "baselines", NULL};

static void read_top(struct conf_ctx *c, struct config *cf, const struct ynode *root)
{
    if (!conf_is_map(c, root, "the configuration"))
        return;
    conf_check_keys(c, root, top_keys);
    const struct ynode *bl = ynode_get(root, "baselines");
    if (bl)
        config_read_baselines(c, bl, &cf->baselines);
    cf->store = "/var/lib/kenchi/kenchi.db";
    conf_str(c, root, "store", &cf->store);
    conf_strlist(c, root, "rules", &cf->rules, &cf->nrules);
    if (conf_str(c, root, "timezone", &cf->timezone) == 1 && tz_select(cf->timezone) < 0)
        conf_error(c, ynode_get(root, "timezone"),
                   "timezone: unknown zone '%s' (use a name such as Europe/Berlin, or UTC)",
                   cf->timezone);

    cf->stored_intel = true;
    const struct ynode *in = ynode_get(root, "intel");
    if (in && conf_is_map(c, in, "intel")) {
        static const char *const ik[] = {"files", "warninglists", "stored", NULL};
        conf_check_keys(c, in, ik);
        conf_strlist(c, in, "files", &cf->intel, &cf->nintel);
        conf_strlist(c, in, "warninglists", &cf->warninglists, &cf->nwarninglists);
        conf_bool(c, in, "stored", &cf->stored_intel);
        if (cf->nintel > 64 || cf->nwarninglists > 64)
            conf_error(c, in, "intel: at most 64 files and 64 warning lists");
    }

    cf->queue_bytes = 64u << 20;
    cf->batch = 1024;
    cf->commit_interval_ns = 200 * 1000000LL;
    cf->max_line = 1u << 20;
    cf->corr_state_interval_ns = 5 * NS_PER_SEC;
    const struct ynode *lim = ynode_get(root, "limits");
    if (lim && conf_is_map(c, lim, "limits")) {
        static const char *const lk[] = {
            "queue_bytes", "batch",           "commit_interval",
            "max_line",    "store_max_bytes", "correlation_state_interval",
            NULL};
        conf_check_keys(c, lim, lk);
        conf_size(c, lim, "queue_bytes", 1u << 20, 1ull << 40, &cf->queue_bytes);
        conf_uint(c, lim, "batch", 1, 65536, &cf->batch);
        conf_duration(c, lim, "commit_interval", 1000000LL, 60 * NS_PER_SEC,
                      &cf->commit_interval_ns);
        conf_size(c, lim, "max_line", 256, 64u << 20, &cf->max_line);
        conf_size(c, lim, "store_max_bytes", 0, UINT64_MAX, &cf->store_max_bytes);
        conf_duration(c, lim, "correlation_state_interval", 0, 3600 * NS_PER_SEC,
                      &cf->corr_state_interval_ns);
        if (cf->max_line > cf->queue_bytes / 2)
            conf_error(c, lim, "limits: max_line must be at most half of queue_bytes");
    }

    const struct ynode *mt = ynode_get(root, "metrics");
    conf_parse_addr("127.0.0.1:9464", "127.0.0.1", &cf->metrics_listen);
    if (mt && conf_is_map(c, mt, "metrics")) {
        /* a metrics section turns the endpoint on unless it says enabled: false */
        struct http_conf hc;
        if (http_configure(c, mt, &hc) == 0) {
            cf->metrics_enabled = hc.enabled;
            cf->metrics_listen = hc.listen;
        }
    }

    cf->log_ident = "kenchi";
    cf->log_level = LOGL_INFO;
    const struct ynode *lg = ynode_get(root, "log");
    if (lg && conf_is_map(c, lg, "log")) {
        static const char *const lgk[] = {"to", "level", "ident", NULL};
        conf_check_keys(c, lg, lgk);
        static const char *const dests[] = {"stderr", "syslog", NULL};
        static const char *const levels[] = {"error", "warning", "info", "debug", NULL};
        int v = LOG_STDERR;
        conf_enum(c, lg, "to", dests, &v);
        cf->log_dest = (enum log_dest)v;
        v = LOGL_INFO;
        conf_enum(c, lg, "level", levels, &v);
        cf->log_level = (enum log_level)v;
        conf_str(c, lg, "ident", &cf->log_ident);
    }

    /* after timezone: sources compare theirs with it */
    const struct ynode *src = ynode_get(root, "sources");
    if (src)
        read_sources(c, cf, src);
    if (!cf->nsources)
        conf_error(c, src ? src : root, "sources: at least one source is needed");
    const struct ynode *out = ynode_get(root, "outputs");
    if (out)
        read_outputs(c, cf, out);
}

static int parse(struct config *cf, size_t n, FILE *diag, struct config **out)
{
    const char *path = cf->path;
    struct yaml_error err;
    if (yaml_parse(cf->text, n, &cf->yf, &err) < 0) {
        if (diag)
            fprintf(diag, "kenchi: %s:%u:%u: %s\n", path, err.mark.line, err.mark.col, err.msg);
        config_free(cf);
        return 1;
    }
    struct conf_ctx c;
    conf_ctx_init(&c, cf->path, diag, &cf->yf.arena);
    bl_config_default(&cf->baselines);
    if (cf->yf.ndocs != 1)
        conf_error(&c, NULL, "the file must hold one YAML document (it holds %zu)", cf->yf.ndocs);
    else
        read_top(&c, cf, cf->yf.docs[0]);
    if (c.nerrors) {
        config_free(cf);
        return (int)c.nerrors;
    }
    *out = cf;
    return 0;
}

int config_load(const char *path, FILE *diag, struct config **out)
{
    *out = NULL;
    struct config *cf = calloc(1, sizeof(*cf));
    if (!cf)
        return -ENOMEM;
    cf->path = strdup(path);
    size_t n = 0;
    int rc = cf->path ? read_text(path, &cf->text, &n, diag) : -ENOMEM;
    if (rc < 0) {
        config_free(cf);
        return rc;
    }
    return parse(cf, n, diag, out);
}

int config_parse(const char *name, const char *text, size_t n, FILE *diag, struct config **out)
{
    *out = NULL;
    struct config *cf = calloc(1, sizeof(*cf));
    if (!cf)
        return -ENOMEM;
    cf->path = strdup(name);
    cf->text = malloc(n + 1);
    if (!cf->path || !cf->text) {
        config_free(cf);
        return -ENOMEM;
    }
    memcpy(cf->text, text, n);
    cf->text[n] = '\0';
    return parse(cf, n, diag, out);
}

void config_free(struct config *cf)
{
    if (!cf)
        return;
    for (size_t i = 0; i < cf->nsources; i++)
        if (cf->sources[i].ops && cf->sources[i].state)
            cf->sources[i].ops->free(cf->sources[i].state);
    for (size_t i = 0; i < cf->noutputs; i++)
        if (cf->outputs[i].ops && cf->outputs[i].state)
            cf->outputs[i].ops->close(cf->outputs[i].state);
    bl_config_free(&cf->baselines);
    yaml_file_free(&cf->yf);
    free(cf->text);
    free(cf->path);
    free(cf);
}

/* ---- the baselines section alone (kenchi scan --config) --------------------- */

static int parse_baselines(const char *name, char *text, size_t n, FILE *diag,
                           struct bl_config *out, struct config_sections *sec)
{
    struct yaml_file yf;
    struct yaml_error err;
    bl_config_default(out);
    if (sec)
        *sec = (struct config_sections){false, false};
    if (yaml_parse(text, n, &yf, &err) < 0) {
        if (diag)
            fprintf(diag, "kenchi: %s:%u:%u: %s\n", name, err.mark.line, err.mark.col, err.msg);
        yaml_file_free(&yf);
        return 1;
    }
    struct conf_ctx c;
    conf_ctx_init(&c, name, diag, &yf.arena);
    if (yf.ndocs != 1) {
        conf_error(&c, NULL, "the file must hold one YAML document (it holds %zu)", yf.ndocs);
    } else if (conf_is_map(&c, yf.docs[0], "the configuration")) {
        conf_check_keys(&c, yf.docs[0], top_keys);
        if (sec) {
            sec->sources = ynode_get(yf.docs[0], "sources") != NULL;
            sec->baselines = ynode_get(yf.docs[0], "baselines") != NULL;
        }
        const struct ynode *bl = ynode_get(yf.docs[0], "baselines");
        if (bl)
            config_read_baselines(&c, bl, out);
    }
    yaml_file_free(&yf);
    if (c.nerrors) {
        bl_config_free(out);
        bl_config_default(out);
        return (int)c.nerrors;
    }
    return 0;
}

int config_load_baselines(const char *path, FILE *diag, struct bl_config *out,
                          struct config_sections *sec)
{
    bl_config_default(out);
    char *text = NULL;
    size_t n = 0;
    int rc = read_text(path, &text, &n, diag);
    if (rc < 0)
        return rc;
    rc = parse_baselines(path, text, n, diag, out, sec);
    free(text);
    return rc;
}

int config_parse_baselines(const char *name, const char *text, size_t n, FILE *diag,
                           struct bl_config *out, struct config_sections *sec)
{
    bl_config_default(out);
    char *t = malloc(n + 1);
    if (!t)
        return -ENOMEM;
    memcpy(t, text, n);
    t[n] = '\0';
    int rc = parse_baselines(name, t, n, diag, out, sec);
    free(t);
    return rc;
}
