/*
 * syslog-frame.h - cutting a syslog byte stream into messages (RFC 6587).
 *
 * Syslog over TCP and TLS (RFC 5425) carries messages one after another in
 * one of two framings:
 *
 *   octet counting      "MSG-LEN SP MSG", MSG-LEN a decimal count of the
 *                       bytes of MSG (no leading zero);
 *   non-transparent     "MSG LF": each message ends at a line feed (a CR
 *                       before it is dropped too).
 *
 * A framer is the state machine of one connection, with no socket in it,
 * so that it can be tested and fuzzed on its own. In AUTO mode the first
 * byte of the stream decides: a digit means octet counting, anything else
 * LF framing (syslog messages start with '<', never with a digit).
 *
 * Memory is bounded by max_message: a longer message is handed over cut to
 * max_message bytes and flagged truncated, and the rest of its frame is
 * skipped. A malformed octet count (not a number, too many digits, no space
 * after it) is a protocol error: the stream cannot be resynchronised, the
 * connection must be closed.
 */
#ifndef KENCHI_SOURCE_SYSLOG_FRAME_H
#define KENCHI_SOURCE_SYSLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum syslog_framing { SYSLOG_FRAMING_AUTO, SYSLOG_FRAMING_LF, SYSLOG_FRAMING_OCTET };

/* Octet counts longer than this many digits are refused (999,999,999). */
#define SYSLOG_FRAME_MAX_DIGITS 9

struct syslog_framer {
    enum syslog_framing mode; /* AUTO until the first byte is seen */
    int state;
    size_t max_message;
    char *msg; /* the message being assembled (owned; grows to max_message) */
    size_t len, cap;
    uint64_t remaining; /* octet counting: bytes of the frame still to come */
    unsigned digits;    /* digits of the count read so far */
    bool truncated;     /* the message being assembled was cut */
    bool delivered;     /* msg was handed out: clear it on the next call */
};

/* One message, valid until the next call on the framer. */
struct syslog_frame {
    const char *data;
    size_t len;
    bool truncated;
};

void syslog_framer_init(struct syslog_framer *f, enum syslog_framing mode, size_t max_message);
void syslog_framer_free(struct syslog_framer *f);

/* Feed in[0..n): consumes bytes until one message is complete or the input
 * is used up; *used says how many bytes were consumed (call again with the
 * rest). Returns 1 with a message in *out, 0 when everything was consumed
 * and no message is complete yet, -EPROTO on a malformed octet count (the
 * offending byte is not consumed; the stream is lost). Empty LF-framed
 * messages (blank lines) are skipped. */
int syslog_framer_feed(struct syslog_framer *f, const char *in, size_t n, size_t *used,
                       struct syslog_frame *out);

/* The peer closed the stream: 1 with the last, unterminated LF-framed
 * message in *out; 0 when nothing was pending; -EPROTO when an octet-counted
 * frame was cut short (the partial message is discarded). */
int syslog_framer_finish(struct syslog_framer *f, struct syslog_frame *out);

/* Bytes the framer holds (for the per-connection memory figures). */
static inline size_t syslog_framer_held(const struct syslog_framer *f)
{
    return f->cap;
}

#endif
