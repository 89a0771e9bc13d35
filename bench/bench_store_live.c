/*
 * bench_store_live.c - the store's writer as the live daemon drives it, and
 * how its cost grows with the store.
 *
 * The live daemon (`kenchi run`) opens the store with hold_events and
 * commits often: whenever its queue runs dry, every few milliseconds under
 * load, each commit a transaction of a few hundred events with their
 * alerts and read offsets (store_live_commit). Its events carry the time
 * they are read, so at 50,000 events/s all of them fall into one or two
 * hours. This benchmark does the same with the synthetic mail log of
 * bench-maillog.h: events timed at RATE a second, COMMIT events per
 * store_live_commit() (with one read offset and one alert in 100 events),
 * and prints, per segment of SEG events, what the segment cost the writer
 * and checkpoint threads in CPU time and the process in bytes written and
 * read (write()/pread() calls: WAL appends, checkpoints, index page reads),
 * into a store that already holds the segments before it. Those figures
 * do not depend on what else runs on the machine; the wall time does.
 * The baseline, in the same run, is the first segment (into an empty
 * store): each later segment prints its ratio to it.
 *
 * Usage: bench_store_live [N] [DIR]   (defaults 4000000, $TMPDIR or /tmp)
 * Environment: BENCH_SEG (events per segment, default 1000000),
 * BENCH_COMMIT (events per commit, default 512), BENCH_RATE (event times,
 * events a second, default 50000), BENCH_KEEP=1 keeps the store file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench-maillog.h"
#include "event/event.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Bytes the process has passed to write() and read() (/proc/self/io). */
static void io_bytes(uint64_t *wchar, uint64_t *rchar)
{
    *wchar = *rchar = 0;
    FILE *f = fopen("/proc/self/io", "r");
    if (!f)
        return;
    char line[128];
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "wchar: %llu", &v) == 1)
            *wchar = v;
        else if (sscanf(line, "rchar: %llu", &v) == 1)
            *rchar = v;
    }
    fclose(f);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : def;
}

static void die(struct store *s, const char *what)
{
    fprintf(stderr, "bench_store_live: %s: %s\n", what, store_errmsg(s));
    exit(1);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    uint64_t seg = env_u64("BENCH_SEG", 1000000);
    uint64_t per_commit = env_u64("BENCH_COMMIT", 512);
    uint64_t rate = env_u64("BENCH_RATE", 50000);
    if (!seg || !per_commit || !rate) {
        fprintf(stderr, "bench_store_live: BENCH_SEG, BENCH_COMMIT, BENCH_RATE must be > 0\n");
        return 2;
    }

    static struct pool pool;
    arena_init(&pool.arena, 1 << 20);
    for (size_t k = 0; k < POOL_BATCHES; k++)
        for (size_t i = 0; i < BATCH; i++)
            gen_event(&pool.evs[k][i], &pool.arena, k * BATCH + i);

    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/kenchi-bench-store-live-%d.db", dir, (int)getpid());
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(tmp, sizeof(tmp), "%s%s", path, sfx[i]);
        unlink(tmp);
    }

    struct store *s;
    struct store_opts o;
    store_opts_default(&o);
    o.hold_events = true;
    if (store_open(path, &o, &s) < 0)
        die(s, "opening");

    int64_t t0 = time_from_utc(2024, 3, 1, 0, 0, 0, 0);
    int64_t step = (int64_t)(1000000000ULL / rate);
    static struct event batch[BATCH];
    struct buf alert;
    buf_init(&alert);
    char aid[40];
    struct store_alert a = {0};
    struct store_offset off = {1, 1, 0, 0, "/var/log/mail.log", 0, 0};

    printf("bench_store_live: %llu events (segments of %llu), %llu per commit, event times at "
           "%llu/s, store %s\n",
           (unsigned long long)n, (unsigned long long)seg, (unsigned long long)per_commit,
           (unsigned long long)rate, path);
    printf("  %-22s %10s %10s %10s %10s %12s %12s %9s %8s\n", "segment (events before)",
           "writer us", "ckpt us", "caller us", "wall us", "written B", "read B", "commits",
           "ratio");

    double base = 0;
    uint64_t done = 0, since_commit = 0, commits = 0;
    while (done < n) {
        uint64_t end = done + seg < n ? done + seg : n;
        struct store_stats st0, st1;
        if (store_sync(s) < 0)
            die(s, "syncing");
        store_get_stats(s, &st0);
        uint64_t w0, r0, w1, r1;
        io_bytes(&w0, &r0);
        double c0 = thread_cpu_s(), wall0 = now_s();
        uint64_t commits0 = commits;
        uint64_t before = done;
        while (done < end) {
            size_t k = 0;
            for (; k < BATCH && done < end && since_commit + k < per_commit; k++, done++) {
                /* round_batch gives fresh lines and ids; the times are
                 * the live rate's */
                if (done % BATCH == 0 || k == 0)
                    round_batch(&pool, done / BATCH);
                batch[k] = pool.evs[(done / BATCH) % POOL_BATCHES][done % BATCH];
                batch[k].ts_ns = t0 + (int64_t)done * step;
            }
            if (store_add_batch(s, batch, k) < 0)
                die(s, "adding events");
            since_commit += k;
            if (since_commit >= per_commit || done == end) {
                if (store_sync(s) < 0)
                    die(s, "syncing");
                size_t na = 0;
                buf_clear(&alert);
                /* one alert in 100 events, as the latency benchmark makes */
                if (done / 100 != (done - since_commit) / 100) {
                    snprintf(aid, sizeof(aid), "bench-%llu", (unsigned long long)done);
                    buf_printf(&alert, "{\"kind\":\"sigma\",\"event\":%llu}",
                               (unsigned long long)done);
                    a = (struct store_alert){TIME_NONE, aid,      "sigma",    "bench-rule",
                                             "bench",   "medium", alert.data, alert.len};
                    na = 1;
                }
                off.offset = done * 150;
                off.line = done;
                if (store_live_commit(s, &a, na, &off, 1, NULL, NULL) < 0)
                    die(s, "committing");
                since_commit = 0;
                commits++;
            }
        }
        if (store_sync(s) < 0)
            die(s, "syncing");
        double c1 = thread_cpu_s(), wall1 = now_s();
        store_get_stats(s, &st1);
        io_bytes(&w1, &r1);
        double ne = (double)(end - before);
        double wus = (double)(st1.writer_cpu_ns - st0.writer_cpu_ns) / 1e3 / ne;
        double cus = (double)(st1.ckpt_cpu_ns - st0.ckpt_cpu_ns) / 1e3 / ne;
        double pus = (c1 - c0) * 1e6 / ne;
        if (!base)
            base = wus + cus;
        char label[64];
        snprintf(label, sizeof(label), "%.1f M", (double)before / 1e6);
        printf("  %-22s %10.2f %10.2f %10.2f %10.2f %12.0f %12.0f %9llu %7.2fx\n", label, wus, cus,
               pus, (wall1 - wall0) * 1e6 / ne, (double)(w1 - w0) / ne, (double)(r1 - r0) / ne,
               (unsigned long long)(commits - commits0), (wus + cus) / base);
        fflush(stdout);
    }
    if (store_close(s) < 0) {
        fprintf(stderr, "bench_store_live: closing the store failed\n");
        return 1;
    }
    printf("  store: %.1f bytes/event; ratio: writer+checkpoint CPU per event of each segment "
           "over the first's\n",
           (double)store_file_bytes(path) / (double)n);
    if (!getenv("BENCH_KEEP"))
        for (int i = 0; i < 3; i++) {
            snprintf(tmp, sizeof(tmp), "%s%s", path, sfx[i]);
            unlink(tmp);
        }
    buf_free(&alert);
    arena_free(&pool.arena);
    return 0;
}
