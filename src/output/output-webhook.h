/*
 * output-webhook.h - what the webhook output (output-webhook.c) reads from
 * its receivers' answers, exposed for its tests and fuzz target. The
 * output itself is reached through output_find("webhook").
 */
#ifndef KENCHI_OUTPUT_WEBHOOK_H
#define KENCHI_OUTPUT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* The longest wait a Retry-After gets: one hour. */
#define WEBHOOK_RETRY_AFTER_CAP_S 3600

/* The wait an HTTP Retry-After value v[0..n) asks for (RFC 9110 §10.2.3:
 * delta-seconds, or an HTTP date, then counted from now_s), in seconds,
 * at most WEBHOOK_RETRY_AFTER_CAP_S; 0 for a date in the past; -1 when
 * the value is neither form. */
int64_t webhook_retry_after_s(const char *v, size_t n, int64_t now_s);

#endif
