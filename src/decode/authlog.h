/*
 * authlog.h - helpers shared by the decoders of authentication logs
 * (Dovecot, sshd): address checks that decide what may fill source.ip, and
 * the PAM module messages ("pam_unix(sshd:auth): authentication failure;
 * ... rhost=... user=...") that every PAM-using daemon writes under its own
 * program name.
 *
 * Everything here works on slices of the line (zero copy) and allocates
 * nothing: values handed to the event point into ev->raw.
 */
#ifndef KENCHI_DECODE_AUTHLOG_H
#define KENCHI_DECODE_AUTHLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"

/* Initializer of a struct str from a string literal, for tables whose
 * rows are compared per line (no strlen() in the hot path). */
#define LIT(s)                                                                                     \
    {                                                                                              \
        (s), sizeof(s) - 1                                                                         \
    }

/* Does s start with lit? First byte first: most rows fail there. */
static inline bool str_has_prefix(struct str s, struct str lit)
{
    return s.n >= lit.n && lit.n && s.p[0] == lit.p[0] && !__builtin_memcmp(s.p, lit.p, lit.n);
}

/* Is s an IPv4 (dotted quad, no leading zeros) or IPv6 address (RFC 4291
 * text, optional "%zone")? Host names and anything longer than an address
 * can be are not. */
bool ip_text_valid(struct str s);

/* Set core field f (source.ip or destination.ip) to s if s is an address.
 * An IPv4-mapped IPv6 address ("::ffff:192.0.2.1") is reported as the IPv4
 * address so that the same client matches across services. Returns whether
 * the field was set. */
bool event_set_ip(struct event *ev, enum core_field f, struct str s);

/* Is s a run of 1..18 ASCII digits (a value that fits an int64)? */
bool str_is_uint(struct str s);

/* Is s a TCP/UDP port number (0..65535, at most 5 digits)? */
bool str_is_port(struct str s);

/* Position of the last occurrence of lit in s, or -1. */
long str_rfind(struct str s, const char *lit);

/* Decode a PAM module message: msg starts with "pam_MODULE(SERVICE:TYPE): "
 * and goes on with one of
 *   "authentication failure; logname=.. uid=.. euid=.. tty=.. ruser=..
 *    rhost=..[  user=..]"                          auth-failure / failure
 *   "check pass; user unknown"                      auth-failure / failure
 *   "N more authentication failures; logname=..."   auth-failure / failure
 *   "session opened for user X[(uid=N)] by ..."     session-opened / success
 *   "session closed for user X"                     session-closed / success
 * Adds the native fields pam_module, pam_service, pam_type, logname, uid,
 * euid, tty, ruser, rhost, user, reason, more_failures and sets user.name,
 * source.ip (rhost, when it is an address), event.action and
 * event.outcome. Returns 0 if understood, -EINVAL if msg is not such a
 * message (nothing set on the core then; native fields may have been
 * added and are the caller's to drop). */
int pam_message_decode(struct event *ev, struct str msg);

/* The "; logname=.. uid=.. ... rhost=..  user=.." tail of a PAM failure
 * message (also written by sshd as "PAM N more authentication failures;
 * ..."), starting after "; ". Adds the native fields and sets user.name
 * and source.ip. */
void pam_kv_decode(struct event *ev, struct str kv);

#endif
