/*
 * intel-fetch.c - a feed over HTTP(S) into a temporary file, a MISP feed
 * into a temporary directory (libcurl).
 */
#include "intel/intel-fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

struct sink {
    FILE *f;
    unsigned long long n;
    int error;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *opaque)
{
    struct sink *s = opaque;
    size_t n = size * nmemb;
    if (s->n + n > INTEL_FETCH_MAX_BYTES) {
        s->error = -EFBIG;
        return 0;
    }
    if (fwrite(p, 1, n, s->f) != n) {
        s->error = -errno;
        return 0;
    }
    s->n += n;
    return n;
}

/* GET url into the open file f. Returns 0, or a negative errno with a
 * sentence in err. */
static int fetch_into(const char *url, FILE *f, char *err, size_t errlen)
{
    struct sink s = {.f = f};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot start the HTTP client");
        return -ENOMEM;
    }
    int rc = 0;
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                     strncmp(url, "https:", 6) ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)INTEL_FETCH_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kenchi");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (s.error == -EFBIG || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "larger than %llu bytes: not fetched", INTEL_FETCH_MAX_BYTES);
        rc = -EFBIG;
    } else if (s.error) {
        snprintf(err, errlen, "writing the temporary file: %s", strerror(-s.error));
        rc = s.error;
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    } else if (status >= 400) {
        snprintf(err, errlen, "the server answered HTTP %ld", status);
        rc = status == 404 ? -ENOENT : (status == 401 || status == 403) ? -EACCES : -EIO;
    }
    curl_easy_cleanup(c);
    return rc;
}

/* GET url into path (created). */
static int fetch_to_path(const char *url, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wbx");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot make a temporary file: %s", strerror(e));
        return -e;
    }
    int rc = fetch_into(url, f, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
        snprintf(err, errlen, "writing the temporary file: %s", strerror(-rc));
    }
    if (rc < 0)
        unlink(path);
    return rc;
}

static char *tmp_template(void)
{
    const char *dir = getenv("TMPDIR");
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/kenchi-feed-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
        return NULL;
    return tmpl;
}

int intel_fetch_url(const char *url, char **path, char *err, size_t errlen)
{
    *path = NULL;
    err[0] = '\0';
    char *tmpl = tmp_template();
    if (!tmpl)
        return -ENOMEM;
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot make a temporary file: %s", strerror(e));
        free(tmpl);
        return -e;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmpl);
        free(tmpl);
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    int rc = fetch_into(url, f, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
        snprintf(err, errlen, "writing the temporary file: %s", strerror(-rc));
    }
    if (rc < 0) {
        unlink(tmpl);
        free(tmpl);
        return rc;
    }
    *path = tmpl;
    return 0;
}

/* ---- MISP feeds ------------------------------------------------------------ */

bool intel_fetch_is_feed_url(const char *url, const char *format)
{
    if (format && !strcasecmp(format, "misp-feed"))
        return true;
    size_t n = strlen(url);
    const char *q = strpbrk(url, "?#");
    if (q)
        n = (size_t)(q - url);
    static const char man[] = "/manifest.json";
    return (n && url[n - 1] == '/') ||
           (n >= sizeof(man) - 1 &&
            !strncasecmp(url + n - (sizeof(man) - 1), man, sizeof(man) - 1));
}

/* An event uuid as MISP writes it: 8-4-4-4-12 hex digits (so that it is
 * safe as a file name and in a URL). */
static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int intel_fetch_misp_feed(const char *url, char **dir, intel_fetch_problem_fn problem, void *opaque,
                          char *err, size_t errlen)
{
    *dir = NULL;
    err[0] = '\0';
    /* the feed's base: the URL up to its last '/' (query and fragment off) */
    size_t n = strlen(url);
    const char *q = strpbrk(url, "?#");
    if (q)
        n = (size_t)(q - url);
    while (n && url[n - 1] != '/')
        n--;
    char *base = strndup(url, n);
    char *tmpl = tmp_template();
    if (!base || !tmpl || !mkdtemp(tmpl)) {
        int e = base && tmpl ? errno : ENOMEM;
        snprintf(err, errlen, "cannot make a temporary directory: %s", strerror(e));
        free(base);
        free(tmpl);
        return -e;
    }
    char *murl = NULL, *mpath = NULL;
    if (asprintf(&murl, "%smanifest.json", base) < 0 ||
        asprintf(&mpath, "%s/manifest.json", tmpl) < 0)
        abort();
    int rc = fetch_to_path(murl, mpath, err, errlen);
    json_t *man = NULL;
    if (rc == 0) {
        json_error_t je;
        man = json_load_file(mpath, 0, &je);
        if (!json_is_object(man)) {
            snprintf(err, errlen,
                     "manifest.json: not a MISP feed manifest (an object of event "
                     "uuids): %s",
                     man ? "not an object" : je.text);
            rc = -EINVAL;
        }
    } else {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "manifest.json: %s", err);
        snprintf(err, errlen, "%s", tmp);
    }
    if (rc == 0) {
        /* the events in uuid order; what cannot be fetched is reported and
         * left out of the manifest the reader gets */
        size_t cnt = json_object_size(man), k = 0;
        const char **keys = malloc((cnt ? cnt : 1) * sizeof(*keys));
        if (!keys)
            abort();
        const char *key;
        json_t *val;
        json_object_foreach(man, key, val)
        {
            keys[k++] = key;
        }
        qsort(keys, k, sizeof(*keys), cmp_keys);
        json_t *keep = json_object();
        unsigned long long total = 0;
        size_t fetched = 0;
        for (size_t i = 0; i < k; i++) {
            json_t *v = json_object_get(man, keys[i]);
            if (!is_uuid(keys[i])) {
                json_object_set(keep, keys[i], v); /* the reader says why it is skipped */
                continue;
            }
            char *eurl = NULL, *epath = NULL;
            if (asprintf(&eurl, "%s%s.json", base, keys[i]) < 0 ||
                asprintf(&epath, "%s/%s.json", tmpl, keys[i]) < 0)
                abort();
            char why[384];
            int r;
            if (fetched >= INTEL_FETCH_MAX_EVENTS) {
                snprintf(why, sizeof(why), "more than %d events in the feed: not fetched",
                         INTEL_FETCH_MAX_EVENTS);
                r = -E2BIG;
            } else if (total >= INTEL_FETCH_MAX_FEED_BYTES) {
                snprintf(why, sizeof(why), "the feed passed %llu bytes: not fetched",
                         INTEL_FETCH_MAX_FEED_BYTES);
                r = -EFBIG;
            } else {
                r = fetch_to_path(eurl, epath, why, sizeof(why));
            }
            if (r == 0) {
                struct stat sb;
                if (stat(epath, &sb) == 0)
                    total += (unsigned long long)sb.st_size;
                fetched++;
                json_object_set(keep, keys[i], v);
            } else if (problem) {
                problem(opaque, eurl, why);
            }
            free(eurl);
            free(epath);
        }
        free(keys);
        if (json_dump_file(keep, mpath, JSON_COMPACT) < 0) {
            snprintf(err, errlen, "writing the temporary file: %s", strerror(errno));
            rc = -EIO;
        }
        json_decref(keep);
    }
    json_decref(man);
    free(murl);
    free(mpath);
    free(base);
    if (rc < 0) {
        intel_fetch_cleanup(tmpl);
        free(tmpl);
        return rc;
    }
    *dir = tmpl;
    return 0;
}

void intel_fetch_cleanup(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) >= 0) {
            unlink(p);
            free(p);
        }
    }
    closedir(d);
    rmdir(dir);
}
