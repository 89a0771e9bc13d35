/*
 * output-exec.c - a program run for each alert: response actions (block an
 * address, disable an account) or any local hand-off.
 *
 * The command is a list, the program (an absolute path) and its
 * arguments; it is run directly (posix_spawn), never through a shell, so
 * nothing in an alert can become shell syntax. Arguments may hold
 * placeholders, {PATH}, replaced by the alert's field at that dotted path
 * (docs/alerts.md): {rule.id}, {rule.level}, {entity.source.ip},
 * {matched.event.action}, {events.0.id}. A path not found at the top of
 * the alert is looked for under "entity" too, so {source.ip} and
 * {user.name} name the alert's entity. A missing field (or null) gives
 * the empty string; a number or boolean its JSON text; an object or list
 * its compact JSON. "{{" and "}}" are literal braces. A value stops at a
 * NUL character and an argument at EXEC_ARG_MAX bytes.
 *
 * The alert's JSON (one line, with a newline) is the program's standard
 * input. Its environment is small and fixed: PATH, the alert's id, seq,
 * kind, level, rule id and name as KENCHI_* variables, and what the
 * output's `env` mapping adds; nothing of kenchi's own environment leaks.
 * The program runs in a process group of its own, with default signal
 * dispositions and no file descriptor of kenchi's but 0, 1 and 2.
 *
 * The exit status decides: 0 delivered; 75 (EX_TEMPFAIL) "later", the
 * alert is offered again after the back-off; anything else (another
 * status, a signal, running past `timeout`) is a permanent failure of
 * this alert, reported with the first lines of the program's standard
 * error (or of its output when that is empty). Past the timeout the whole
 * process group gets SIGTERM, and SIGKILL after `kill_grace`. The first
 * EXEC_KEEP bytes of the output and of the error output are kept for
 * messages; the rest is read and dropped, so a talkative program never
 * blocks. The program is always waited for: no zombie is left.
 *
 * Processes the program leaves behind in the background after exiting on
 * its own are not waited for or killed. The program is waited for by its
 * pid: the process must leave SIGCHLD at its default (an ignored SIGCHLD
 * reaps children before waitpid() sees them, and the run then counts as
 * failed, "exit status lost").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output/output-exec.h"
#include "output/output.h"
#include "output/sigpipe.h"

#define EXEC_KEEP         4096 /* bytes of stdout and of stderr kept */
#define EXEC_PATH_MAX_LEN 128  /* bytes of a placeholder's path */
#define EXEC_TEMPFAIL     75   /* EX_TEMPFAIL of sysexits.h */
#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct exec_out {
    /* settings (strings in the configuration's arena) */
    const char **command; /* NULL-terminated */
    size_t argc;
    bool placeholders;      /* some argument has one: the alert is parsed */
    const char **env_extra; /* "NAME=value", NULL-terminated */
    size_t nenv_extra;
    const char *path;
    int64_t timeout_ns;
    int64_t kill_grace_ns;
};

static const char *const exec_keys[] = {
    OUTPUT_COMMON_KEYS, OUTPUT_RETRY_KEY, "command", "timeout", "kill_grace", "env", "path", NULL,
};

static bool path_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-' || ch == '@';
}

const char *exec_template_check(const char *s, size_t *nph)
{
    for (const char *p = s; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
            continue;
        }
        if (p[0] == '}' && p[1] == '}') {
            p++;
            continue;
        }
        if (*p == '}')
            return "a '}' without its '{' (write '}}' for a brace)";
        if (*p != '{')
            continue;
        const char *q = p + 1;
        while (path_char(*q))
            q++;
        if (*q != '}')
            return "a '{' that does not open a {field.path} (write '{{' for a brace)";
        if (q == p + 1 || q - p - 1 > EXEC_PATH_MAX_LEN || p[1] == '.' || q[-1] == '.')
            return "an empty or malformed {field.path}";
        (*nph)++;
        p = q;
    }
    return NULL;
}

static bool env_name_ok(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static void read_env(struct conf_ctx *c, const struct ynode *node, struct exec_out *x)
{
    const struct ynode *e = ynode_get(node, "env");
    if (!e || !conf_is_map(c, e, "env"))
        return;
    x->env_extra = arena_alloc(c->arena, (e->map.n + 1) * sizeof(*x->env_extra));
    for (size_t i = 0; i < e->map.n; i++) {
        const struct ynode *k = e->map.pairs[i].key, *v = e->map.pairs[i].val;
        const char *name = k->kind == YNODE_SCALAR ? k->scalar.s : "?";
        if (k->kind != YNODE_SCALAR || !env_name_ok(name)) {
            conf_error(c, k, "env: '%s' is not a variable name (letters, digits, '_')", name);
            continue;
        }
        if (!strncmp(name, "KENCHI_", 7) || !strcmp(name, "PATH")) {
            conf_error(c, k, "env: %s is set by kenchi (PATH: the key path)", name);
            continue;
        }
        if (v->kind != YNODE_SCALAR || strlen(v->scalar.s) != v->scalar.n) {
            conf_error(c, v, "env: %s: needs a plain value", name);
            continue;
        }
        size_t len = strlen(name) + 1 + v->scalar.n + 1;
        char *kv = arena_alloc(c->arena, len);
        snprintf(kv, len, "%s=%s", name, v->scalar.s);
        x->env_extra[x->nenv_extra++] = kv;
    }
    x->env_extra[x->nenv_extra] = NULL;
}

static int exec_configure(struct conf_ctx *c, const struct ynode *node, void **state)
{
    *state = NULL;
    if (!conf_is_map(c, node, "output"))
        return -1;
    unsigned before = c->nerrors;
    struct exec_out *x = calloc(1, sizeof(*x));
    if (!x)
        return -1;
    *state = x;
    x->path = EXEC_DEFAULT_PATH;
    x->timeout_ns = 30LL * 1000000000;
    x->kill_grace_ns = 5LL * 1000000000;
    conf_check_keys(c, node, exec_keys);
    const struct ynode *cmd = conf_need(c, node, "command");
    if (cmd && cmd->kind != YNODE_SEQ)
        conf_error(c, cmd,
                   "command: must be a list (the program, then its arguments), e.g. "
                   "[/usr/local/bin/block, '{source.ip}']; it is never run through a shell");
    else if (cmd && conf_strlist(c, node, "command", &x->command, &x->argc) == 1) {
        if (x->command[0][0] != '/')
            conf_error(c, cmd->seq.items[0], "command: the program '%s' must be an absolute path",
                       x->command[0]);
        else if (strchr(x->command[0], '{'))
            conf_error(c, cmd->seq.items[0], "command: the program cannot hold a {field}");
        for (size_t i = 1; i < x->argc; i++) {
            size_t nph = 0;
            const char *why = exec_template_check(x->command[i], &nph);
            if (why)
                conf_error(c, cmd->seq.items[i], "command: '%s': %s", x->command[i], why);
            x->placeholders |= nph > 0;
        }
    }
    conf_duration(c, node, "timeout", 10LL * 1000000, 86400LL * 1000000000, &x->timeout_ns);
    conf_duration(c, node, "kill_grace", 0, 3600LL * 1000000000, &x->kill_grace_ns);
    conf_str(c, node, "path", &x->path);
    read_env(c, node, x);
    struct output_retry r;
    output_retry_settings(c, node, &r);
    return c->nerrors == before ? 0 : -1;
}

static int exec_open(void *state, char *err, size_t errn)
{
    struct exec_out *x = state;
    if (access(x->command[0], X_OK) < 0) {
        int e = errno;
        snprintf(err, errn, "command %s: %s", x->command[0], strerror(e));
        return -e;
    }
    return 0;
}

/* ---- placeholders ---- */

/* The value at path[0..n) under v, or NULL. A dotted path is read as
 * nested keys, and where the alert has keys with dots in them (matched's
 * field names) as those keys: every split is tried, shortest key first.
 * Lists take a decimal index. */
static json_t *lookup(json_t *v, const char *path, size_t n, int depth)
{
    if (depth > 16 || !v)
        return NULL;
    char key[EXEC_PATH_MAX_LEN + 1];
    for (size_t i = 0; i <= n; i++) {
        if (i < n && path[i] != '.')
            continue;
        memcpy(key, path, i);
        key[i] = '\0';
        json_t *child = NULL;
        if (json_is_object(v)) {
            child = json_object_get(v, key);
        } else if (json_is_array(v) && i && i < 10 && strspn(key, "0123456789") == i) {
            child = json_array_get(v, strtoul(key, NULL, 10));
        }
        if (!child)
            continue;
        if (i == n)
            return child;
        json_t *found = lookup(child, path + i + 1, n - i - 1, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

struct sbuf {
    char *s;
    size_t n, cap;
    bool full; /* EXEC_ARG_MAX reached */
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n > EXEC_ARG_MAX) {
        n = EXEC_ARG_MAX - b->n;
        b->full = true;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->full = true;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void put_value(struct sbuf *b, json_t *v)
{
    char num[64];
    if (!v || json_is_null(v))
        return;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        sbuf_put(b, s, strlen(s)); /* stops at a NUL */
    } else if (json_is_integer(v)) {
        sbuf_put(
            b, num,
            (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
    } else if (json_is_real(v) || json_is_boolean(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (t)
            sbuf_put(b, t, strlen(t));
        free(t);
    } else {
        char *t = json_dumps(v, JSON_COMPACT);
        if (t)
            sbuf_put(b, t, strlen(t));
        free(t);
    }
}

char *exec_template_expand(const char *tmpl, json_t *alert)
{
    struct sbuf b = {0};
    sbuf_put(&b, "", 0);
    for (const char *p = tmpl; *p && !b.full; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            sbuf_put(&b, p, 1);
            p++;
            continue;
        }
        if (*p != '{') {
            sbuf_put(&b, p, 1);
            continue;
        }
        const char *q = strchr(p, '}');
        if (!q) /* not checked: the rest as it is */
            q = p + strlen(p) - 1;
        size_t n = q > p ? (size_t)(q - p - 1) : 0;
        if (n > EXEC_PATH_MAX_LEN)
            n = 0;
        json_t *v = lookup(alert, p + 1, n, 0);
        if (!v && alert)
            v = lookup(json_object_get(alert, "entity"), p + 1, n, 0);
        put_value(&b, v);
        p = q;
    }
    return b.s;
}

/* ---- running ---- */

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

struct capture {
    int fd;
    char keep[EXEC_KEEP + 1];
    size_t n;
};

/* Read what is there, at most 64 KiB (a program that never stops
 * writing must not keep the caller from its time-out); false at end of
 * file (fd closed). */
static bool capture_read(struct capture *c)
{
    char buf[4096];
    for (int round = 0; round < 16; round++) {
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (r <= 0) {
            close(c->fd);
            c->fd = -1;
            return false;
        }
        size_t room = EXEC_KEEP - c->n, keep = (size_t)r < room ? (size_t)r : room;
        memcpy(c->keep + c->n, buf, keep);
        c->n += keep;
        c->keep[c->n] = '\0';
    }
    return true;
}

/* The first lines of a capture, on one line, for a message. */
static void excerpt(const struct capture *c, char *out, size_t outn)
{
    size_t j = 0, lines = 0;
    for (size_t i = 0; i < c->n && j + 4 < outn && lines < 3 && i < 400; i++) {
        unsigned char ch = (unsigned char)c->keep[i];
        if (ch == '\n') {
            if (i + 1 < c->n && j) {
                memcpy(out + j, " | ", 3);
                j += 3;
            }
            lines++;
            continue;
        }
        out[j++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    while (j >= 3 && !memcmp(out + j - 3, " | ", 3))
        j -= 3;
    out[j] = '\0';
}

struct child {
    pid_t pid;
    int pidfd; /* -1: polled with waitpid(WNOHANG) */
    int in_fd; /* -1 once closed */
    const char *in;
    size_t in_n, in_off;
    struct capture out, err;
    bool exited, timed_out;
    int status;
};

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void write_stdin(struct child *ch)
{
    while (ch->in_fd >= 0 && ch->in_off < ch->in_n) {
        struct sigpipe_guard g;
        sigpipe_block(&g);
        ssize_t w = write(ch->in_fd, ch->in + ch->in_off, ch->in_n - ch->in_off);
        int e = errno;
        sigpipe_unblock(&g, w < 0 && e == EPIPE);
        if (w < 0 && e == EINTR)
            continue;
        if (w < 0 && (e == EAGAIN || e == EWOULDBLOCK))
            return;
        if (w <= 0) { /* the program does not read its input: fine */
            ch->in_off = ch->in_n;
            break;
        }
        ch->in_off += (size_t)w;
    }
    if (ch->in_fd >= 0 && ch->in_off == ch->in_n) {
        close(ch->in_fd); /* end of input */
        ch->in_fd = -1;
    }
}

static void reap(struct child *ch, bool block)
{
    int st;
    pid_t r;
    do
        r = waitpid(ch->pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == ch->pid) {
        ch->exited = true;
        ch->status = st;
    } else if (r < 0) { /* reaped by someone else (a SIGCHLD handler): gone */
        ch->exited = true;
        ch->status = -1;
    }
}

/* Feed, read and wait for the child until it exits, killing its group
 * past the time-out. */
static void supervise(struct child *ch, int64_t timeout_ns, int64_t grace_ns)
{
    int64_t deadline = now_ns() + timeout_ns;
    int phase = 0; /* 0 running, 1 SIGTERM sent, 2 SIGKILL sent */
    while (!ch->exited) {
        struct pollfd p[4];
        int np = 0, i_in = -1, i_out = -1, i_err = -1;
        if (ch->in_fd >= 0)
            i_in = np, p[np++] = (struct pollfd){ch->in_fd, POLLOUT, 0};
        if (ch->out.fd >= 0)
            i_out = np, p[np++] = (struct pollfd){ch->out.fd, POLLIN, 0};
        if (ch->err.fd >= 0)
            i_err = np, p[np++] = (struct pollfd){ch->err.fd, POLLIN, 0};
        if (ch->pidfd >= 0)
            p[np++] = (struct pollfd){ch->pidfd, POLLIN, 0};
        int64_t left = deadline - now_ns();
        int wait_ms = left <= 0 ? 0 : (int)(left / 1000000) + 1;
        if (ch->pidfd < 0 && wait_ms > 20)
            wait_ms = 20; /* no pidfd: look at the child now and then */
        if (phase == 2)
            wait_ms = -1;
        int pr = poll(p, (nfds_t)np, phase == 2 && ch->pidfd < 0 ? 20 : wait_ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            if (i_in >= 0 && p[i_in].revents)
                write_stdin(ch);
            if (i_out >= 0 && p[i_out].revents)
                capture_read(&ch->out);
            if (i_err >= 0 && p[i_err].revents)
                capture_read(&ch->err);
        }
        reap(ch, false);
        if (ch->exited || phase == 2 || now_ns() < deadline)
            continue;
        if (phase == 0) {
            ch->timed_out = true;
            kill(-ch->pid, SIGTERM);
            phase = 1;
            deadline = now_ns() + grace_ns;
        } else {
            kill(-ch->pid, SIGKILL);
            phase = 2;
        }
    }
    if (!ch->exited)
        reap(ch, true);
    if (ch->timed_out)
        kill(-ch->pid, SIGKILL); /* what is left of the group */
    /* what the program wrote before it exited is in the pipes: read it,
     * without waiting for background processes that still hold them */
    if (ch->out.fd >= 0)
        capture_read(&ch->out);
    if (ch->err.fd >= 0)
        capture_read(&ch->err);
}

static int spawn(struct exec_out *x, char **argv, char **envp, struct child *ch, char *err,
                 size_t errn)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
            if (er[i] >= 0)
                close(er[i]);
        }
        snprintf(err, errn, "pipes: %s", strerror(e));
        return -e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, er[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&ch->pid, x->command[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    close(er[1]);
    if (rc) {
        close(in[1]);
        close(out[0]);
        close(er[0]);
        snprintf(err, errn, "%s: %s", x->command[0], strerror(rc));
        return -rc;
    }
    ch->in_fd = in[1];
    ch->out.fd = out[0];
    ch->err.fd = er[0];
    set_nonblock(ch->in_fd);
    set_nonblock(ch->out.fd);
    set_nonblock(ch->err.fd);
    ch->pidfd = pidfd_open(ch->pid, 0);
    return 0;
}

/* "NAME=value" in a malloc'd string, or NULL. */
static char *env_kv(const char *name, const char *value)
{
    size_t a = strlen(name), b = strlen(value);
    char *kv = malloc(a + 1 + b + 1);
    if (kv) {
        memcpy(kv, name, a);
        kv[a] = '=';
        memcpy(kv + a + 1, value, b + 1);
    }
    return kv;
}

static int exec_deliver(void *state, const struct alert_msg *m, char *err, size_t errn)
{
    struct exec_out *x = state;
    int rc = -ENOMEM;
    json_t *alert = NULL;
    if (x->placeholders) {
        json_error_t jerr;
        alert = json_loadb(m->json, m->n, 0, &jerr);
        if (!alert) {
            snprintf(err, errn, "alert %s is not JSON: %s", m->id, jerr.text);
            return -EINVAL;
        }
    }
    char **argv = calloc(x->argc + 1, sizeof(*argv));
    char *envs[7] = {0};
    char **envp = calloc(8 + x->nenv_extra, sizeof(*envp));
    char *input = malloc(m->n + 1);
    if (!argv || !envp || !input)
        goto out;
    argv[0] = (char *)x->command[0];
    for (size_t i = 1; i < x->argc; i++)
        if (!(argv[i] = exec_template_expand(x->command[i], alert)))
            goto out;
    char seq[24];
    snprintf(seq, sizeof(seq), "%" PRIu64, m->seq);
    if (!(envs[0] = env_kv("PATH", x->path)) || !(envs[1] = env_kv("KENCHI_ALERT_ID", m->id)) ||
        !(envs[2] = env_kv("KENCHI_ALERT_SEQ", seq)) ||
        !(envs[3] = env_kv("KENCHI_ALERT_KIND", m->kind)) ||
        !(envs[4] = env_kv("KENCHI_ALERT_LEVEL", m->level)) ||
        !(envs[5] = env_kv("KENCHI_RULE_ID", m->rule_id)) ||
        !(envs[6] = env_kv("KENCHI_RULE_NAME", m->rule_name)))
        goto out;
    size_t ne = 0;
    for (size_t i = 0; i < 7; i++)
        envp[ne++] = envs[i];
    for (size_t i = 0; i < x->nenv_extra; i++)
        envp[ne++] = (char *)x->env_extra[i];
    memcpy(input, m->json, m->n);
    input[m->n] = '\n';

    struct child ch = {.pid = -1, .pidfd = -1, .in_fd = -1, .out.fd = -1, .err.fd = -1};
    ch.in = input;
    ch.in_n = m->n + 1;
    if ((rc = spawn(x, argv, envp, &ch, err, errn)) < 0) {
        rc = -EAGAIN; /* the program is missing or cannot start now */
        goto out;
    }
    supervise(&ch, x->timeout_ns, x->kill_grace_ns);
    if (ch.in_fd >= 0)
        close(ch.in_fd);
    if (ch.out.fd >= 0)
        close(ch.out.fd);
    if (ch.err.fd >= 0)
        close(ch.err.fd);
    if (ch.pidfd >= 0)
        close(ch.pidfd);
    char said[420];
    excerpt(ch.err.n ? &ch.err : &ch.out, said, sizeof(said));
    const char *sep = said[0] ? ": " : "";
    if (ch.timed_out) {
        snprintf(err, errn, "%s ran past its timeout of %.3gs and was killed (alert %s)%s%s",
                 x->command[0], x->timeout_ns / 1e9, m->id, sep, said);
        rc = -ETIMEDOUT;
    } else if (ch.status >= 0 && WIFEXITED(ch.status) && WEXITSTATUS(ch.status) == 0) {
        rc = 0;
    } else if (ch.status >= 0 && WIFEXITED(ch.status) && WEXITSTATUS(ch.status) == EXEC_TEMPFAIL) {
        snprintf(err, errn, "%s asks to try later (exit 75)%s%s", x->command[0], sep, said);
        rc = -EAGAIN;
    } else if (ch.status >= 0 && WIFEXITED(ch.status)) {
        snprintf(err, errn, "%s exited with status %d (alert %s)%s%s", x->command[0],
                 WEXITSTATUS(ch.status), m->id, sep, said);
        rc = -EIO;
    } else if (ch.status >= 0 && WIFSIGNALED(ch.status)) {
        snprintf(err, errn, "%s was killed by signal %d (alert %s)%s%s", x->command[0],
                 WTERMSIG(ch.status), m->id, sep, said);
        rc = -EIO;
    } else {
        snprintf(err, errn, "%s: its exit status was lost (reaped elsewhere)", x->command[0]);
        rc = -EIO;
    }
out:
    if (rc == -ENOMEM)
        snprintf(err, errn, "out of memory");
    if (argv)
        for (size_t i = 1; i < x->argc; i++)
            free(argv[i]);
    free(argv);
    for (size_t i = 0; i < 7; i++)
        free(envs[i]);
    free(envp);
    free(input);
    json_decref(alert);
    return rc == -ENOMEM ? -EAGAIN : rc;
}

static void exec_close(void *state)
{
    free(state);
}

const struct output_ops output_exec = {
    .type = "exec",
    .configure = exec_configure,
    .open = exec_open,
    .last_delivered = NULL,
    .deliver = exec_deliver,
    .reopen = NULL,
    .close = exec_close,
    .retry_after_ns = NULL,
};
