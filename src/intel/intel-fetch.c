/*
 * intel-fetch.c - a feed over HTTP(S) into a temporary file (libcurl).
 */
#include "intel/intel-fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int intel_fetch_url(const char *url, char **path, char *err, size_t errlen)
{
    *path = NULL;
    err[0] = '\0';
    const char *dir = getenv("TMPDIR");
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/kenchi-feed-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
        return -ENOMEM;
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot make a temporary file: %s", strerror(e));
        free(tmpl);
        return -e;
    }
    struct sink s = {.f = fdopen(fd, "wb")};
    if (!s.f) {
        int e = errno;
        close(fd);
        unlink(tmpl);
        free(tmpl);
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    int rc = 0;
    if (!c) {
        snprintf(err, errlen, "cannot start the HTTP client");
        rc = -ENOMEM;
        goto out;
    }
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
out:
    if (fclose(s.f) != 0 && rc == 0) {
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
