/* The exec output (output/output-exec.c) driven through its ops with
 * target scripts written here into a temporary directory: one that
 * records its standard input, arguments and environment; one that asks to
 * try later (exit 75); one that fails with a few lines on stderr; one
 * that ignores SIGTERM and sleeps past the time-out; one that does not
 * read its input; one that writes a lot; one that kills itself. After
 * each, no child of the test is left (no zombie, no process of the
 * program's group). Also the configuration checks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/output.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kenchi-exec-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("KENCHI_TEST_LEAK", "must not reach the program", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void script(const char *name, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
}

/* The contents of dir/name in a malloc'd string ("" when absent). */
static char *slurp(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    if (f) {
        int ch;
        while ((ch = fgetc(f)) != EOF)
            fputc(ch, m);
        fclose(f);
    }
    fclose(m);
    return s;
}

/* Does a process of group pgid still run (zombies aside: a killed
 * grandchild is reaped by init, not by us)? */
static bool group_runs(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return false;
    bool runs = false;
    struct dirent *e;
    while (!runs && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *close_paren = strrchr(buf, ')');
        char state;
        long ppid, pgrp;
        if (close_paren && sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3)
            runs = pgrp == (long)pgid && state != 'Z' && state != 'X';
    }
    closedir(d);
    return runs;
}

/* Wait (bounded, as a guard) until no process of group pgid runs. */
static bool group_gone(pid_t pgid)
{
    for (int i = 0; i < 200; i++) {
        if (!group_runs(pgid))
            return true;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* No child of this process is left: no zombie, nothing running. */
static void no_children(void)
{
    int st;
    assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

struct out {
    const struct output_ops *ops;
    void *state;
    struct yaml_file f;
    struct conf_ctx c;
    char *msgs;
    size_t msgn;
    FILE *mf;
    int rc;
};

static int configure(struct out *o, const char *fmt, ...)
{
    memset(o, 0, sizeof(*o));
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct yaml_error err;
    assert_int_equal(yaml_parse(text, strlen(text), &o->f, &err), 0);
    o->mf = open_memstream(&o->msgs, &o->msgn);
    conf_ctx_init(&o->c, "k.yml", o->mf, &o->f.arena);
    o->ops = output_find("exec");
    assert_non_null(o->ops);
    o->rc = o->ops->configure(&o->c, o->f.docs[0], &o->state);
    fflush(o->mf);
    return o->rc;
}

static const char *messages(struct out *o)
{
    fflush(o->mf);
    return o->msgs ? o->msgs : "";
}

static void open_ok(struct out *o, const char *text)
{
    if (configure(o, "%s", text) != 0)
        fail_msg("configure: %s", messages(o));
    char err[256] = "";
    if (o->ops->open(o->state, err, sizeof(err)) != 0)
        fail_msg("open: %s", err);
}

static void finish(struct out *o)
{
    o->ops->close(o->state);
    fclose(o->mf);
    free(o->msgs);
    yaml_file_free(&o->f);
}

#define ALERT_JSON                                                                                 \
    "{\"@timestamp\":\"2024-03-04T10:00:05.000000000Z\",\"kind\":\"sigma\","                       \
    "\"rule\":{\"id\":\"r-1\",\"name\":\"SASL failure\",\"level\":\"high\"},"                      \
    "\"events\":[{\"id\":\"ev9\"}],"                                                               \
    "\"entity\":{\"source\":{\"ip\":\"203.0.113.9\"},\"user\":{\"name\":\"bob; rm -rf /\"}},"      \
    "\"matched\":{\"event.action\":\"sasl-auth\"},\"count\":3,\"flag\":true,\"none\":null}"

static struct alert_msg alert(const char *json)
{
    struct alert_msg m = {
        .seq = 12,
        .ts_ns = 0,
        .id = "a-12",
        .kind = "sigma",
        .rule_id = "r-1",
        .rule_name = "SASL failure",
        .level = "high",
        .json = json,
        .n = strlen(json),
    };
    return m;
}

static void test_exec_delivered(void **state)
{
    (void)state;
    script("record.sh", "cat > \"$OUT/stdin\"\n"
                        "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$OUT/args\"\n"
                        "env | sort > \"$OUT/env\"\n"
                        "[ -e /proc/$$/fd/42 ] && echo leaked > \"$OUT/fd\"\n"
                        "exit 0\n");
    /* a descriptor of kenchi's without close-on-exec must not reach it */
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 42), 42);
    close(fd);
    char text[1024];
    snprintf(text, sizeof(text),
             "type: exec\ncommand: [%s/record.sh, --, '{rule.id}', '{source.ip}', '{user.name}',\n"
             "  'ip={entity.source.ip}!', '{matched.event.action}', '{events.0.id}',\n"
             "  '{{literal}}', '{rule}', '{nope.x}', '{count}', '{flag}', '{none}', plain]\n"
             "env: {OUT: %s}\ntimeout: 1m\n",
             dir, dir);
    struct out o;
    open_ok(&o, text);
    struct alert_msg m = alert(ALERT_JSON);
    char err[256] = "";
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    close(42);
    char *in = slurp("stdin"), *args = slurp("args"), *env = slurp("env"), *leak = slurp("fd");
    assert_string_equal(in, ALERT_JSON "\n");
    assert_string_equal(args, "[--]\n[r-1]\n[203.0.113.9]\n[bob; rm -rf /]\n[ip=203.0.113.9!]\n"
                              "[sasl-auth]\n[ev9]\n[{literal}]\n"
                              "[{\"id\":\"r-1\",\"name\":\"SASL failure\",\"level\":\"high\"}]\n"
                              "[]\n[3]\n[true]\n[]\n[plain]\n");
    assert_non_null(strstr(env, "KENCHI_ALERT_ID=a-12\n"));
    assert_non_null(strstr(env, "KENCHI_ALERT_SEQ=12\n"));
    assert_non_null(strstr(env, "KENCHI_ALERT_LEVEL=high\n"));
    assert_non_null(strstr(env, "KENCHI_ALERT_KIND=sigma\n"));
    assert_non_null(strstr(env, "KENCHI_RULE_ID=r-1\n"));
    assert_non_null(strstr(env, "KENCHI_RULE_NAME=SASL failure\n"));
    assert_non_null(
        strstr(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"));
    assert_non_null(strstr(env, "OUT="));
    assert_null(strstr(env, "KENCHI_TEST_LEAK"));
    assert_string_equal(leak, "");
    free(in);
    free(args);
    free(env);
    free(leak);
    no_children();
    finish(&o);
}

static void test_exec_results(void **state)
{
    (void)state;
    char text[512], err[256];
    struct out o;
    struct alert_msg m = alert(ALERT_JSON);

    script("tempfail.sh", "echo 'queue full' >&2\nexit 75\n");
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/tempfail.sh]\n", dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_non_null(strstr(err, "exit 75"));
    assert_non_null(strstr(err, "queue full"));
    no_children();
    finish(&o);

    script("fail.sh", "echo one >&2\necho two >&2\necho three >&2\necho four >&2\nexit 3\n");
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/fail.sh]\n", dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "exited with status 3"));
    assert_non_null(strstr(err, "one | two | three"));
    assert_null(strstr(err, "four"));
    no_children();
    finish(&o);

    script("suicide.sh", "kill -9 $$\n");
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/suicide.sh]\n", dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "killed by signal 9"));
    no_children();
    finish(&o);
}

static void test_exec_timeout(void **state)
{
    (void)state;
    char text[512], err[256];
    struct out o;
    struct alert_msg m = alert(ALERT_JSON);
    /* ignores SIGTERM (its sleeps do not): SIGKILL after the grace */
    script("slow.sh", "echo $$ > \"$OUT/pid\"\necho 'starting' >&2\n"
                      "trap '' TERM\nwhile :; do sleep 30; done\n");
    snprintf(text, sizeof(text),
             "type: exec\ncommand: [%s/slow.sh]\nenv: {OUT: %s}\ntimeout: 2s\n"
             "kill_grace: 200ms\n",
             dir, dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -ETIMEDOUT);
    assert_non_null(strstr(err, "timeout"));
    assert_non_null(strstr(err, "starting"));
    char *pid = slurp("pid");
    pid_t p = (pid_t)atol(pid);
    free(pid);
    assert_true(p > 0);
    /* the program is reaped, and its group (a sleep 30 at the time) is
     * killed: a surviving sleep would outlive the wait */
    assert_int_equal(kill(p, 0), -1);
    assert_true(group_gone(p));
    no_children();
    finish(&o);

    /* a program that never stops writing still meets its time-out */
    script("endless.sh", "exec yes\n");
    snprintf(text, sizeof(text),
             "type: exec\ncommand: [%s/endless.sh]\ntimeout: 1s\nkill_grace: 0s\n", dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -ETIMEDOUT);
    assert_non_null(strstr(err, "y | y | y"));
    no_children();
    finish(&o);
}

static void test_exec_streams(void **state)
{
    (void)state;
    char text[512], err[256];
    struct out o;
    /* an alert larger than a pipe holds, to a program that reads nothing */
    size_t big_n = 300000;
    char *big = malloc(big_n + 16);
    memcpy(big, "{\"x\":\"", 6);
    memset(big + 6, 'a', big_n - 8);
    memcpy(big + big_n - 2, "\"}", 3);
    struct alert_msg m = alert(big);
    script("noread.sh", "exit 0\n");
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/noread.sh]\n", dir);
    open_ok(&o, text);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    no_children();
    finish(&o);
    /* megabytes on both outputs: read and dropped, the message stays short */
    script("chatty.sh", "head -c 2000000 /dev/zero | tr '\\0' x\n"
                        "head -c 2000000 /dev/zero | tr '\\0' y >&2\nexit 1\n");
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/chatty.sh]\n", dir);
    open_ok(&o, text);
    m = alert(ALERT_JSON);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "status 1"));
    assert_non_null(strstr(err, "yyy"));
    assert_true(strlen(err) < sizeof(err));
    no_children();
    finish(&o);
    free(big);
}

static void test_exec_missing(void **state)
{
    (void)state;
    char text[512], err[256];
    struct out o;
    snprintf(text, sizeof(text), "type: exec\ncommand: [%s/absent.sh, x]\n", dir);
    assert_int_equal(configure(&o, "%s", text), 0);
    assert_int_equal(o.ops->open(o.state, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "absent.sh"));
    /* gone after start: later, not lost */
    struct alert_msg m = alert(ALERT_JSON);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    no_children();
    finish(&o);
}

static void test_exec_config(void **state)
{
    (void)state;
    struct out o;
    assert_int_equal(configure(&o, "type: exec\ncommand: 'block.sh {source.ip}'\n"), -1);
    assert_non_null(strstr(messages(&o), "command: must be a list"));
    finish(&o);
    assert_int_equal(configure(&o, "type: exec\ncommand: [bin/block, '{a', 'b}', '{}', '{.x}',\n"
                                   "  '{a b}']\nenv: {KENCHI_X: 1, PATH: /x, '1A': 2}\n"
                                   "timeout: 1\nkinds: [sigma]\nmin_level: high\n"),
                     -1);
    const char *msg = messages(&o);
    assert_non_null(
        strstr(msg, "k.yml:2:11: command: the program 'bin/block' must be an absolute"));
    assert_non_null(strstr(msg, "'{a': a '{' that does not open"));
    assert_non_null(strstr(msg, "'b}': a '}' without its '{'"));
    assert_non_null(strstr(msg, "'{}': an empty or malformed"));
    assert_non_null(strstr(msg, "'{.x}': an empty or malformed"));
    assert_non_null(strstr(msg, "'{a b}': a '{' that does not open"));
    assert_non_null(strstr(msg, "env: KENCHI_X is set by kenchi"));
    assert_non_null(strstr(msg, "env: PATH is set by kenchi"));
    assert_non_null(strstr(msg, "env: '1A' is not a variable name"));
    assert_non_null(strstr(msg, "timeout: '1' is not a duration"));
    assert_null(strstr(msg, "kinds"));
    assert_null(strstr(msg, "min_level"));
    finish(&o);
    assert_int_equal(configure(&o, "type: exec\n"), -1);
    assert_non_null(strstr(messages(&o), "command: missing"));
    finish(&o);
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL); /* a write to a program that left must not kill us */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_config),  cmocka_unit_test(test_exec_delivered),
        cmocka_unit_test(test_exec_results), cmocka_unit_test(test_exec_timeout),
        cmocka_unit_test(test_exec_streams), cmocka_unit_test(test_exec_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
