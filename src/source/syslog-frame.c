/*
 * syslog-frame.c - the RFC 6587 framing state machine (see syslog-frame.h).
 *
 * The framer copies each message into its own buffer (grown on demand up to
 * max_message) instead of pointing into the caller's input: a message may
 * span several reads, and when the consumer cannot take a message the
 * connection keeps it while the input buffer is reused. The copy is a
 * memcpy per read, small beside the system call that filled the input.
 *
 * States:
 *   START      between messages (octet counting tolerates stray CR/LF here)
 *   COUNT      reading the digits of an octet count
 *   BODY       copying the bytes of an octet-counted message
 *   LINE       copying an LF-framed message up to its LF
 *   SKIP_BODY  dropping the rest of an oversized octet-counted frame
 *   SKIP_LINE  dropping the rest of an oversized line
 */
#include "source/syslog-frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { ST_START, ST_COUNT, ST_BODY, ST_LINE, ST_SKIP_BODY, ST_SKIP_LINE };

void syslog_framer_init(struct syslog_framer *f, enum syslog_framing mode, size_t max_message)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->state = ST_START;
    f->max_message = max_message ? max_message : 1;
}

void syslog_framer_free(struct syslog_framer *f)
{
    free(f->msg);
    f->msg = NULL;
    f->len = f->cap = 0;
}

/* Append p[0..k) to the message; the caller keeps len + k <= max_message
 * (+ 1 in LF framing: a CR that may turn out to precede the LF). */
static void append(struct syslog_framer *f, const char *p, size_t k)
{
    if (!k)
        return;
    if (f->len + k > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + k)
            cap *= 2;
        if (cap > f->max_message + 1)
            cap = f->max_message + 1; /* LF framing: room for a CR before the LF */
        char *m = realloc(f->msg, cap);
        if (!m)
            abort(); /* as buf.c: out of memory is not recoverable here */
        f->msg = m;
        f->cap = cap;
    }
    memcpy(f->msg + f->len, p, k);
    f->len += k;
}

static int deliver(struct syslog_framer *f, struct syslog_frame *out)
{
    out->data = f->msg;
    out->len = f->len;
    out->truncated = f->truncated;
    f->delivered = true;
    return 1;
}

static void strip_cr(struct syslog_framer *f)
{
    if (f->len && f->msg[f->len - 1] == '\r')
        f->len--;
}

int syslog_framer_feed(struct syslog_framer *f, const char *in, size_t n, size_t *used,
                       struct syslog_frame *out)
{
    if (f->delivered) {
        f->delivered = false;
        f->len = 0;
        f->truncated = false;
    }
    size_t i = 0;
    while (i < n) {
        switch (f->state) {
        case ST_START:
            if (f->mode == SYSLOG_FRAMING_AUTO)
                f->mode = in[i] >= '0' && in[i] <= '9' ? SYSLOG_FRAMING_OCTET : SYSLOG_FRAMING_LF;
            if (f->mode == SYSLOG_FRAMING_LF) {
                f->state = ST_LINE;
                break;
            }
            if (in[i] == '\n' || in[i] == '\r') { /* a sender's stray line end */
                i++;
                break;
            }
            if (in[i] < '1' || in[i] > '9') {
                *used = i;
                return -EPROTO;
            }
            f->remaining = 0;
            f->digits = 0;
            f->state = ST_COUNT;
            break;
        case ST_COUNT:
            if (in[i] == ' ') {
                i++;
                f->state = ST_BODY;
                break;
            }
            if (in[i] < '0' || in[i] > '9' || f->digits >= SYSLOG_FRAME_MAX_DIGITS) {
                *used = i;
                return -EPROTO;
            }
            f->remaining = f->remaining * 10 + (uint64_t)(in[i] - '0');
            f->digits++;
            i++;
            break;
        case ST_BODY: {
            size_t room = f->max_message - f->len;
            size_t k = n - i;
            if (k > f->remaining)
                k = (size_t)f->remaining;
            if (k > room)
                k = room;
            append(f, in + i, k);
            i += k;
            f->remaining -= k;
            if (f->remaining == 0) {
                f->state = ST_START;
                *used = i;
                return deliver(f, out);
            }
            if (f->len == f->max_message) {
                f->truncated = true;
                f->state = ST_SKIP_BODY;
                *used = i;
                return deliver(f, out);
            }
            break;
        }
        case ST_SKIP_BODY: {
            size_t k = n - i;
            if (k > f->remaining)
                k = (size_t)f->remaining;
            i += k;
            f->remaining -= k;
            if (f->remaining == 0)
                f->state = ST_START;
            break;
        }
        case ST_LINE: {
            /* up to max_message + 1 bytes are held: the last one may be the
             * CR of a CRLF whose LF has not arrived yet */
            const char *lf = memchr(in + i, '\n', n - i);
            size_t seg = lf ? (size_t)(lf - (in + i)) : n - i;
            size_t room = f->max_message + 1 - f->len;
            if (seg > room) {
                append(f, in + i, room);
                i += room;
                f->len = f->max_message;
                f->truncated = true;
                f->state = ST_SKIP_LINE;
                *used = i;
                return deliver(f, out);
            }
            append(f, in + i, seg);
            if (!lf) {
                i = n;
                break;
            }
            i += seg + 1;
            f->state = ST_START;
            strip_cr(f);
            if (f->len > f->max_message) {
                f->len = f->max_message;
                f->truncated = true;
            }
            if (f->len == 0)
                break; /* a blank line */
            *used = i;
            return deliver(f, out);
        }
        case ST_SKIP_LINE: {
            const char *lf = memchr(in + i, '\n', n - i);
            if (!lf) {
                i = n;
                break;
            }
            i = (size_t)(lf - in) + 1;
            f->state = ST_START;
            break;
        }
        }
    }
    *used = n;
    return 0;
}

int syslog_framer_finish(struct syslog_framer *f, struct syslog_frame *out)
{
    if (f->delivered) {
        f->delivered = false;
        f->len = 0;
        f->truncated = false;
    }
    switch (f->state) {
    case ST_LINE:
        f->state = ST_START;
        strip_cr(f);
        if (f->len > f->max_message) {
            f->len = f->max_message;
            f->truncated = true;
        }
        if (f->len == 0)
            return 0;
        return deliver(f, out);
    case ST_COUNT:
    case ST_BODY:
    case ST_SKIP_BODY:
        f->state = ST_START;
        f->len = 0;
        f->truncated = false;
        return -EPROTO;
    default:
        f->state = ST_START;
        return 0;
    }
}
