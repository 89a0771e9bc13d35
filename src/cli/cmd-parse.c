/*
 * cmd-parse.c - `kenchi parse`: decode files and print every event as one
 * JSON object per line. This is the form golden tests compare, and the
 * quickest way to see what kenchi makes of a log.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/buf.h"

static void usage(FILE *out)
{
    fputs("Usage: kenchi parse [OPTIONS] PATH...\n"
          "Decode log files and print each event as a JSON object on its own line.\n"
          "PATH may be a file (plain, .gz or .zst), a directory (read recursively) or -\n"
          "for standard input.\n\n",
          out);
    read_opts_help(out);
    fputs("\n  -h, --help         show this help\n", out);
}

struct print_sink {
    struct buf out;
};

static int flush_out(struct buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(STDOUT_FILENO, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        off += (size_t)w;
    }
    buf_clear(b);
    return 0;
}

static int print_batch(void *opaque, struct event *evs, size_t n)
{
    struct print_sink *ps = opaque;
    for (size_t i = 0; i < n; i++) {
        event_to_json(&evs[i], &ps->out);
        buf_putc(&ps->out, '\n');
        if (ps->out.len > 1 << 20) {
            int rc = flush_out(&ps->out);
            if (rc < 0)
                return rc;
        }
    }
    return flush_out(&ps->out);
}

int cmd_parse(int argc, char **argv)
{
    static const struct option longopts[] = {
        READ_LONG_OPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct read_opts ro = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        int r = read_opts_handle(&ro, c, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return EXIT_USAGE;
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "kenchi parse: no PATH given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    struct pipeline_opts po;
    pipeline_opts_default(&po);
    int rc = read_opts_apply(&ro, &po);
    if (rc)
        return rc;
    struct pipeline *p = pipeline_new(&po);
    if (!p)
        return EXIT_RUNTIME;
    struct print_sink ps;
    buf_init(&ps.out);
    struct event_sink sink = {"print", print_batch, &ps};
    pipeline_add_sink(p, &sink);
    for (int i = optind; i < argc && rc == 0; i++)
        rc = pipeline_run_path(p, argv[i]);
    if (rc == 0)
        rc = pipeline_flush(p);
    int status = 0;
    if (rc == -EPIPE) {
        status = 0; /* the reader went away (| head): not an error */
    } else if (rc < 0) {
        fprintf(stderr, "kenchi parse: writing output: %s\n", strerror(-rc));
        status = EXIT_RUNTIME;
    } else if (pipeline_stats(p)->files_failed) {
        status = 1;
    }
    buf_free(&ps.out);
    pipeline_free(p);
    return status;
}
