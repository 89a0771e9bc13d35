/*
 * intel-read-json.c - the JSON formats in the reader table: STIX 2.1
 * bundles (and TAXII envelopes, bare object lists) and MISP events.
 *
 * Both formats are whole JSON documents, so the reader takes the
 * (decompressed) input into memory, bounded by the formats' size limit
 * (intel-json.h), and hands it to stix-bundle.c or misp.c. MISP feeds are
 * directories (manifest.json + event files): intel_read_tree() recognises
 * them and calls misp_feed_read() directly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "intel/intel-read.h"
#include "intel/misp.h"
#include "intel/stix-bundle.h"
#include "source/input.h"

/* Does the text hold a JSON key (with its quotes)? */
static bool has_key(const char *head, size_t n, const char *key)
{
    return memmem(head, n, key, strlen(key)) != NULL;
}

static bool json_start(const char *head, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    return i < n && (head[i] == '{' || head[i] == '[');
}

int intel_stix_sniff(const char *head, size_t n, const char *path)
{
    (void)path;
    if (!json_start(head, n))
        return 0;
    if (has_key(head, n, "\"bundle\"") || has_key(head, n, "\"spec_version\"") ||
        (has_key(head, n, "\"pattern\"") && has_key(head, n, "\"indicator\"")) ||
        (has_key(head, n, "\"objects\"") && has_key(head, n, "\"more\"")))
        return 3;
    return 0;
}

int intel_misp_sniff(const char *head, size_t n, const char *path)
{
    (void)path;
    if (!json_start(head, n))
        return 0;
    if (has_key(head, n, "\"Event\"") || has_key(head, n, "\"Attribute\""))
        return 3;
    return 0;
}

/* The whole input, at most max bytes (decompressed). */
static int slurp(struct intel_read_ctx *c, size_t max, char **out, size_t *len)
{
    struct stat sb;
    if (input_codec(c->in) == CODEC_PLAIN && strcmp(c->path, "-") && stat(c->path, &sb) == 0 &&
        S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        /* refused before anything is read */
        ioc_batch_problem(c->out, c->path,
                          "larger than the limit of %zu bytes (%zu MiB) for a JSON document, "
                          "which is read whole: not read (split the bundle or event)",
                          max, max >> 20);
        return -EFBIG;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                ioc_batch_problem(c->out, c->path,
                                  "larger than the limit of %zu bytes (%zu MiB) for a JSON "
                                  "document, which is read whole: not read (split the bundle "
                                  "or event)",
                                  max, max >> 20);
                return -EFBIG;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
        }
        ssize_t r = input_read(c->in, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            ioc_batch_problem(c->out, c->path, "reading stopped: %s", strerror((int)-r));
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Read the whole input and hand it to a JSON reader. */
static int read_json(struct intel_read_ctx *c,
                     int (*reader)(const char *json, size_t n, const char *where,
                                   struct ioc_batch *b))
{
    struct intel_json_limits lim = intel_json_limits_of(NULL);
    char *buf = NULL;
    size_t n = 0;
    int rc = slurp(c, lim.max_bytes, &buf, &n);
    if (rc < 0)
        return rc;
    size_t before = c->out->niocs;
    rc = reader(buf, n, c->path, c->out);
    free(buf);
    c->st->indicators += c->out->niocs - before; /* as the line readers count */
    return rc;
}

int intel_stix_read(struct intel_read_ctx *c)
{
    return read_json(c, stix_objects_read);
}

int intel_misp_read(struct intel_read_ctx *c)
{
    return read_json(c, misp_json_read);
}
