/*
 * scope.h - "what did this compromise touch": from indicators (addresses,
 * domains, e-mail addresses) and entities (accounts, mailboxes, hosts),
 * the accounts that logged in, what they read, the mail they sent, received
 * and forwarded, the rules and permissions they changed, and the external
 * correspondents of the window: the list a team must notify.
 *
 * scope_run() asks the store (store.h) in four steps, in this order:
 *   1. logins  - per address indicator, its events through the hunting
 *      index (source or destination address); per host entity, the logins
 *      on that host (a window scan);
 *   2. domains - the organisation's own domains: given, or the domains of
 *      the involved accounts plus those of local deliveries in the window;
 *   3. accounts - per involved account, its events through the hunting
 *      index (user name): sessions, bytes read, M365 mailbox access, sends,
 *      inbox rules, forwarding and permission changes, Sieve forwards;
 *   4. mail - the Postfix messages of the involved accounts, their
 *      mailboxes and the address and e-mail indicators, found and joined
 *      through the hunting index (queue-id key); with a host entity or a
 *      domain indicator, or mail_scan, one window scan of the Postfix lines
 *      that carry a queue id (client, pickup, message-id, queued,
 *      delivery, removed) instead. Joined by queue id in a bounded table:
 *      messages sent, received and forwarded by the involved mailboxes,
 *      mail of a host entity, mail exchanged with e-mail, domain and
 *      address indicators.
 * The result is a struct scope_report, written by scope_write() as a
 * table, one JSON object, or CSV (docs/intel.md, "Scope").
 *
 * Memory is bounded whatever the store holds: every list has a cap and
 * counts what it leaves out (struct scope_limits).
 */
#ifndef KENCHI_HUNT_SCOPE_H
#define KENCHI_HUNT_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

/* ---- what the user names ----------------------------------------------- */

enum scope_kind {
    SCOPE_IP,      /* an address or a CIDR block (normalised, ioc.h) */
    SCOPE_DOMAIN,  /* a domain; its subdomains match too */
    SCOPE_EMAIL,   /* an e-mail address, lower-cased */
    SCOPE_ACCOUNT, /* a user name, as given */
    SCOPE_HOST,    /* a host name (host.name of the events), as given */
};

#define SCOPE_VALUE_MAX 320

struct scope_target {
    enum scope_kind kind;
    bool entity; /* --entity (else --indicator) */
    char value[SCOPE_VALUE_MAX];
    uint64_t events; /* filled by scope_run(): events found for it */
};

/* "ip", "domain", "email", "account", "host". */
const char *scope_kind_name(enum scope_kind k);

/* Parse one --indicator (entity false) or --entity (entity true) argument
 * into *out. A "type:" prefix forces the type (indicators: ip, cidr,
 * domain, email; entities: account or user, email, host, ip); without one
 * the type is sniffed: an address or address/prefix is ip, a value with '@'
 * email, an indicator with a dot a domain; an entity with a dot a host,
 * without one an account. Returns 0, or -EINVAL with *why a static reason. */
int scope_parse_target(const char *arg, bool entity, struct scope_target *out, const char **why);

struct scope_opts {
    int64_t since_ns; /* the window [since, until); since is required */
    int64_t until_ns; /* TIME_NONE: up to the last stored event */
    const struct scope_target *targets;
    size_t ntargets;
    const char *const *domains; /* --domain: the organisation's own; none: inferred */
    size_t ndomains;
    bool mail_scan; /* step 4 by a window scan even when the index would do */
};

/* ---- the report ---------------------------------------------------------- */

#define SCOPE_LIST_MAX 16 /* entries of a per-account or per-address list */

/* A short list of distinct strings; what did not fit is counted. */
struct scope_list {
    char *v[SCOPE_LIST_MAX];
    size_t n;
    uint64_t more;
};

/* How a session or login reached the organisation. */
enum scope_service {
    SVC_IMAP,
    SVC_POP3,
    SVC_SUBMISSION, /* Dovecot submission */
    SVC_MANAGESIEVE,
    SVC_SMTP_AUTH, /* Postfix SASL */
    SVC_SSH,
    SVC_M365,
    SVC_WINDOWS,
    SVC_OTHER,
    SVC__N
};
const char *scope_service_name(enum scope_service s);

/* An account seen logging in from an address indicator, or on a host
 * entity. */
struct scope_login {
    char *account;
    uint64_t successes, failures;
    int64_t first_ns, last_ns;
    struct scope_list addresses; /* source addresses of those logins */
    unsigned services;           /* bit (1 << enum scope_service) */
    bool from_indicator;         /* from an address indicator */
    bool on_host;                /* on a host entity */
};

enum scope_why {
    WHY_ENTITY = 1,   /* named with --entity */
    WHY_LOGIN = 2,    /* a successful login from an indicator address */
    WHY_ACTIVITY = 4, /* another successful action from one (M365 access, ...) */
};

/* An involved account and what it did in the window. */
struct scope_account {
    char *name;
    unsigned why;                /* enum scope_why bits */
    struct scope_list mailboxes; /* its e-mail addresses */
    /* sessions (logins) and where they came from */
    uint64_t sessions, sessions_from_indicator;
    uint64_t sessions_by_service[SVC__N];
    struct scope_list sources;
    /* mail read: Dovecot IMAP/POP3 logout counters */
    uint64_t bytes_out, bytes_out_from_indicator; /* sent to the client (out=) */
    uint64_t bytes_in;                            /* sent by the client (in=) */
    uint64_t imap_headers, imap_bodies, imap_body_bytes;
    uint64_t pop3_retrieved, pop3_retrieved_bytes, pop3_top;
    uint64_t logouts, logouts_from_indicator;
    /* Microsoft 365 mailbox access */
    uint64_t mia_records, mia_from_indicator, mia_operations, mia_items, mia_sync;
    struct scope_list folders, apps;
    uint64_t m365_sends;
    /* mail (Postfix) */
    uint64_t sent_messages, sent_recipients, sent_external, sent_delivered;
    uint64_t received_messages;
    uint64_t forwarded; /* message copies forwarded out (orig_to, Sieve) */
};

enum scope_forward_kind {
    FWD_POSTFIX_ORIG_TO, /* a delivery to= external with orig_to= the mailbox */
    FWD_SIEVE,           /* Dovecot Sieve "forwarded to" / redirect */
    FWD_M365_RULE,       /* New-InboxRule / Set-InboxRule ForwardTo, RedirectTo, ... */
    FWD_M365_MAILBOX,    /* Set-Mailbox ForwardingSmtpAddress / ForwardingAddress */
    FWD__N
};
const char *scope_forward_kind_name(enum scope_forward_kind k);

struct scope_forward {
    enum scope_forward_kind kind;
    char *account; /* the account or mailbox whose mail is forwarded */
    char *target;
    bool external;
    uint64_t count; /* messages forwarded (Postfix, Sieve) or rule events (M365) */
    int64_t first_ns, last_ns;
};

/* A rule or permission change (M365 audit). */
struct scope_change {
    int64_t ts_ns;
    char *account;   /* who made it */
    char *operation; /* New-InboxRule, Set-Mailbox, Add-MailboxPermission, ... */
    char *source_ip; /* NULL when not logged */
    char *details;   /* the cmdlet and its parameters, or the rule's properties */
};

/* An external address that exchanged mail with the involved mailboxes (or
 * passed through a host entity): an entry of the notification list. */
struct scope_correspondent {
    char *address;
    uint64_t messages_to;   /* messages to it from the involved mailboxes */
    uint64_t messages_from; /* messages from it to them */
    uint64_t delivered;     /* of messages_to: delivered (status=sent) */
    uint64_t forwarded;     /* of messages_to: forwarded copies */
    int64_t first_ns, last_ns;
    struct scope_list mailboxes; /* the internal side */
};

/* Mail exchanged with an indicator (an e-mail address or domain, a client
 * or relay address), per internal address and direction. */
struct scope_indicator_mail {
    char *indicator;
    char *address;     /* the internal side */
    bool to;           /* true: the internal side sent it; false: received */
    char *counterpart; /* the external address of the first message */
    uint64_t messages;
    int64_t first_ns, last_ns;
};

struct scope_limits {
    uint64_t accounts;       /* involved accounts past the cap */
    uint64_t logins;         /* login table entries past the cap */
    uint64_t correspondents; /* addresses past the cap (their mail not listed) */
    uint64_t forwards, changes, indicator_mail;
    uint64_t sessions;         /* sessions whose source could not be kept */
    uint64_t queue_ids_lost;   /* messages dropped from the join table while live */
    uint64_t recipients_nodup; /* recipients counted without de-duplication */
};

struct scope_report {
    int64_t since_ns, until_ns;
    struct scope_target *targets;
    size_t ntargets;
    char **domains; /* the internal domains */
    size_t ndomains;
    bool domains_inferred;

    struct scope_login *logins;
    size_t nlogins;
    struct scope_account *accounts;
    size_t naccounts;
    struct scope_forward *forwards;
    size_t nforwards;
    struct scope_change *changes;
    size_t nchanges;
    struct scope_correspondent *correspondents; /* external only, sorted by domain, address */
    size_t ncorrespondents;
    struct scope_indicator_mail *indicator_mail;
    size_t nindicator_mail;

    uint64_t messages_sent, messages_received, messages_forwarded;
    uint64_t events_indexed; /* events read through the hunting index */
    uint64_t events_scanned; /* events read by window scans */
    bool mail_indexed;       /* step 4 read the messages through the queue-id key */
    struct scope_limits limits;
};

/* Answer o from the store s (opened read-only). On success *out is a
 * report the caller frees with scope_report_free(). Returns 0 or a negative
 * errno (store_errmsg(s) explains store errors; -ENOMEM otherwise). */
int scope_run(struct store *s, const struct scope_opts *o, struct scope_report **out);

void scope_report_free(struct scope_report *r);

enum scope_format { SCOPE_OUT_TABLE, SCOPE_OUT_JSON, SCOPE_OUT_CSV };

/* Write r to out: the sectioned table, one JSON object, or the notification
 * list as CSV (docs/intel.md). Returns 0 or a negative errno. */
int scope_write(const struct scope_report *r, enum scope_format f, FILE *out);

#endif
