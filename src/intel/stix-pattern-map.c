/*
 * stix-pattern-map.c - STIX object paths on kenchi's events: the one table
 * that says which event fields a path reads (docs/intel.md, "STIX patterns
 * on kenchi events", is its prose form; keep both in step).
 *
 * Three layers, each a table:
 *
 *   fields   an event slot: an ECS core field, or a native field by name,
 *            optionally only for one product / service (Zeek's "host" is the
 *            HTTP Host header only in http.log);
 *   sources  a field plus a transform (the host of url.full, the domain of
 *            an e-mail address, the base name of a Windows Image path ...);
 *   props    a STIX property ("network-traffic:src_ref.value"), its kind
 *            (string, number, IP, time), its canonical form, and the sources
 *            its values come from.
 *
 * An event is scanned once (sp_ctx_event): every native field whose name the
 * table knows is located, so reading a field later is O(1), and the set of
 * present fields is the matcher's prefilter key. Source values are computed
 * on first use and cached for the event. Native values that are JSON arrays
 * (Zeek sets and vectors) give one value per element.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "intel/ioc.h"
#include "intel/stix-pattern-impl.h"
#include "util/timeconv.h"

/* ---- fields ------------------------------------------------------------ */

enum sp_field {
    /* ECS core */
    F_SRC_IP,
    F_DST_IP,
    F_SRC_PORT,
    F_DST_PORT,
    F_SRC_BYTES,
    F_DST_BYTES,
    F_USER,
    F_MAIL_FROM,
    F_MAIL_TO,
    F_SUBJECT,
    F_MSGID,
    F_CMDLINE,
    F_FILE_NAME,
    F_MD5,
    F_SHA1,
    F_SHA256,
    F_URL,
    F_DNS,
    /* native */
    F_Z_PROTO,
    F_Z_SERVICE,
    F_Z_ORIG_PKTS,
    F_Z_RESP_PKTS,
    F_W_PROTOCOL,
    F_Z_HTTP_HOST,
    F_Z_HTTP_URI,
    F_Z_HTTP_METHOD,
    F_Z_HTTP_VERSION,
    F_Z_HTTP_REFERRER,
    F_Z_HTTP_UA,
    F_M365_UA,
    F_Z_SSL_SNI,
    F_Z_SSL_SUBJECT,
    F_Z_SSL_ISSUER,
    F_Z_SSL_FPS,
    F_Z_X509_SUBJECT,
    F_Z_X509_ISSUER,
    F_Z_X509_SERIAL,
    F_Z_X509_VERSION,
    F_Z_X509_SIGALG,
    F_Z_X509_KEYALG,
    F_Z_X509_EXP,
    F_Z_X509_NB,
    F_Z_X509_NA,
    F_Z_X509_FP,
    F_Z_DNS_ANSWERS,
    F_Z_SMTP_FROM,
    F_Z_SMTP_TO,
    F_Z_SMTP_CC,
    F_Z_SMTP_RCPTTO,
    F_Z_SMTP_REPLYTO,
    F_Z_SMTP_XORIG,
    F_Z_SMTP_UA,
    F_Z_SMTP_INREPLYTO,
    F_Z_ORIG_L2,
    F_Z_RESP_L2,
    F_Z_DHCP_MAC,
    F_Z_FILES_SIZE,
    F_Z_FILES_MIME,
    F_Z_SOFT_NAME,
    F_Z_SOFT_VERSION,
    F_PF_CLIENT_HOST,
    F_PF_RELAY_HOST,
    F_PF_ORIG_TO,
    F_W_IMAGE,
    F_W_NEWPID,
    F_W_PID,
    F_W_PARENT_IMAGE,
    F_W_PARENT_CMD,
    F_W_PPID,
    F_W_CWD,
    F_W_TARGET_FILE,
    F_W_REG_TARGET,
    F_W_EVENTTYPE,
    F_W_EVENTID,
    F_W_REG_DETAILS,
    F_W_OBJNAME,
    F_W_OBJVALNAME,
    F_W_NEWVALUE,
    F_SYS_PROGRAM,
    F_SYS_PID,
    F__COUNT
};

struct field_def {
    int core;            /* enum core_field, or -1 for a native field */
    const char *product; /* native: only events of this product (NULL: any) */
    const char *service; /* ... and this service */
};

static const struct field_def fields[F__COUNT] = {
    [F_SRC_IP] = {CORE_SOURCE_IP, NULL, NULL},
    [F_DST_IP] = {CORE_DESTINATION_IP, NULL, NULL},
    [F_SRC_PORT] = {CORE_SOURCE_PORT, NULL, NULL},
    [F_DST_PORT] = {CORE_DESTINATION_PORT, NULL, NULL},
    [F_SRC_BYTES] = {CORE_SOURCE_BYTES, NULL, NULL},
    [F_DST_BYTES] = {CORE_DESTINATION_BYTES, NULL, NULL},
    [F_USER] = {CORE_USER_NAME, NULL, NULL},
    [F_MAIL_FROM] = {CORE_EMAIL_FROM_ADDRESS, NULL, NULL},
    [F_MAIL_TO] = {CORE_EMAIL_TO_ADDRESS, NULL, NULL},
    [F_SUBJECT] = {CORE_EMAIL_SUBJECT, NULL, NULL},
    [F_MSGID] = {CORE_EMAIL_MESSAGE_ID, NULL, NULL},
    [F_CMDLINE] = {CORE_PROCESS_COMMAND_LINE, NULL, NULL},
    [F_FILE_NAME] = {CORE_FILE_NAME, NULL, NULL},
    [F_MD5] = {CORE_FILE_HASH_MD5, NULL, NULL},
    [F_SHA1] = {CORE_FILE_HASH_SHA1, NULL, NULL},
    [F_SHA256] = {CORE_FILE_HASH_SHA256, NULL, NULL},
    [F_URL] = {CORE_URL_FULL, NULL, NULL},
    [F_DNS] = {CORE_DNS_QUESTION_NAME, NULL, NULL},
    [F_Z_PROTO] = {-1, "zeek", NULL},
    [F_Z_SERVICE] = {-1, "zeek", "conn"},
    [F_Z_ORIG_PKTS] = {-1, "zeek", NULL},
    [F_Z_RESP_PKTS] = {-1, "zeek", NULL},
    [F_W_PROTOCOL] = {-1, "windows", NULL},
    [F_Z_HTTP_HOST] = {-1, "zeek", "http"},
    [F_Z_HTTP_URI] = {-1, "zeek", "http"},
    [F_Z_HTTP_METHOD] = {-1, "zeek", "http"},
    [F_Z_HTTP_VERSION] = {-1, "zeek", "http"},
    [F_Z_HTTP_REFERRER] = {-1, "zeek", "http"},
    [F_Z_HTTP_UA] = {-1, "zeek", "http"},
    [F_M365_UA] = {-1, "m365", NULL},
    [F_Z_SSL_SNI] = {-1, "zeek", "ssl"},
    [F_Z_SSL_SUBJECT] = {-1, "zeek", "ssl"},
    [F_Z_SSL_ISSUER] = {-1, "zeek", "ssl"},
    [F_Z_SSL_FPS] = {-1, "zeek", "ssl"},
    [F_Z_X509_SUBJECT] = {-1, "zeek", NULL},
    [F_Z_X509_ISSUER] = {-1, "zeek", NULL},
    [F_Z_X509_SERIAL] = {-1, "zeek", NULL},
    [F_Z_X509_VERSION] = {-1, "zeek", NULL},
    [F_Z_X509_SIGALG] = {-1, "zeek", NULL},
    [F_Z_X509_KEYALG] = {-1, "zeek", NULL},
    [F_Z_X509_EXP] = {-1, "zeek", NULL},
    [F_Z_X509_NB] = {-1, "zeek", NULL},
    [F_Z_X509_NA] = {-1, "zeek", NULL},
    [F_Z_X509_FP] = {-1, "zeek", "x509"},
    [F_Z_DNS_ANSWERS] = {-1, "zeek", "dns"},
    [F_Z_SMTP_FROM] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_TO] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_CC] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_RCPTTO] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_REPLYTO] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_XORIG] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_UA] = {-1, "zeek", "smtp"},
    [F_Z_SMTP_INREPLYTO] = {-1, "zeek", "smtp"},
    [F_Z_ORIG_L2] = {-1, "zeek", NULL},
    [F_Z_RESP_L2] = {-1, "zeek", NULL},
    [F_Z_DHCP_MAC] = {-1, "zeek", "dhcp"},
    [F_Z_FILES_SIZE] = {-1, "zeek", "files"},
    [F_Z_FILES_MIME] = {-1, "zeek", "files"},
    [F_Z_SOFT_NAME] = {-1, "zeek", "software"},
    [F_Z_SOFT_VERSION] = {-1, "zeek", "software"},
    [F_PF_CLIENT_HOST] = {-1, "postfix", NULL},
    [F_PF_RELAY_HOST] = {-1, "postfix", NULL},
    [F_PF_ORIG_TO] = {-1, "postfix", NULL},
    [F_W_IMAGE] = {-1, "windows", NULL},
    [F_W_NEWPID] = {-1, "windows", NULL},
    [F_W_PID] = {-1, "windows", NULL},
    [F_W_PARENT_IMAGE] = {-1, "windows", NULL},
    [F_W_PARENT_CMD] = {-1, "windows", NULL},
    [F_W_PPID] = {-1, "windows", NULL},
    [F_W_CWD] = {-1, "windows", NULL},
    [F_W_TARGET_FILE] = {-1, "windows", NULL},
    [F_W_REG_TARGET] = {-1, "windows", NULL},
    [F_W_EVENTTYPE] = {-1, "windows", NULL},
    [F_W_EVENTID] = {-1, "windows", NULL},
    [F_W_REG_DETAILS] = {-1, "windows", NULL},
    [F_W_OBJNAME] = {-1, "windows", NULL},
    [F_W_OBJVALNAME] = {-1, "windows", NULL},
    [F_W_NEWVALUE] = {-1, "windows", NULL},
    [F_SYS_PROGRAM] = {-1, NULL, NULL},
    [F_SYS_PID] = {-1, NULL, NULL},
};

/* Native names, sorted by strcmp for bsearch (checked by sp_map_selftest).
 * A name may serve several fields (per product/service), and a field may
 * have several names (the first present in the event wins). */
#define NN(name, field)                                                                            \
    {                                                                                              \
        name, sizeof(name) - 1, field                                                              \
    }
static const struct native_name {
    const char *name;
    uint8_t len;
    uint8_t field;
} native_names[] = {
    NN("CurrentDirectory", F_W_CWD),
    NN("Details", F_W_REG_DETAILS),
    NN("EventID", F_W_EVENTID),
    NN("EventType", F_W_EVENTTYPE),
    NN("ExtendedProperties.UserAgent", F_M365_UA),
    NN("Image", F_W_IMAGE),
    NN("NewProcessId", F_W_NEWPID),
    NN("NewProcessName", F_W_IMAGE),
    NN("NewValue", F_W_NEWVALUE),
    NN("ObjectName", F_W_OBJNAME),
    NN("ObjectValueName", F_W_OBJVALNAME),
    NN("ParentCommandLine", F_W_PARENT_CMD),
    NN("ParentImage", F_W_PARENT_IMAGE),
    NN("ParentProcessId", F_W_PPID),
    NN("ParentProcessName", F_W_PARENT_IMAGE),
    NN("ProcessId", F_W_PID),
    NN("Protocol", F_W_PROTOCOL),
    NN("TargetFilename", F_W_TARGET_FILE),
    NN("TargetObject", F_W_REG_TARGET),
    NN("UserAgent", F_M365_UA),
    NN("answers", F_Z_DNS_ANSWERS),
    NN("cc", F_Z_SMTP_CC),
    NN("cert_chain_fps", F_Z_SSL_FPS),
    NN("certificate.exponent", F_Z_X509_EXP),
    NN("certificate.issuer", F_Z_X509_ISSUER),
    NN("certificate.key_alg", F_Z_X509_KEYALG),
    NN("certificate.not_valid_after", F_Z_X509_NA),
    NN("certificate.not_valid_before", F_Z_X509_NB),
    NN("certificate.serial", F_Z_X509_SERIAL),
    NN("certificate.sig_alg", F_Z_X509_SIGALG),
    NN("certificate.subject", F_Z_X509_SUBJECT),
    NN("certificate.version", F_Z_X509_VERSION),
    NN("client_hostname", F_PF_CLIENT_HOST),
    NN("fingerprint", F_Z_X509_FP),
    NN("from", F_Z_SMTP_FROM),
    NN("host", F_Z_HTTP_HOST),
    NN("in_reply_to", F_Z_SMTP_INREPLYTO),
    NN("issuer", F_Z_SSL_ISSUER),
    NN("mac", F_Z_DHCP_MAC),
    NN("method", F_Z_HTTP_METHOD),
    NN("mime_type", F_Z_FILES_MIME),
    NN("name", F_Z_SOFT_NAME),
    NN("orig_l2_addr", F_Z_ORIG_L2),
    NN("orig_pkts", F_Z_ORIG_PKTS),
    NN("orig_to", F_PF_ORIG_TO),
    NN("pid", F_SYS_PID),
    NN("program", F_SYS_PROGRAM),
    NN("proto", F_Z_PROTO),
    NN("rcptto", F_Z_SMTP_RCPTTO),
    NN("referrer", F_Z_HTTP_REFERRER),
    NN("relay_host", F_PF_RELAY_HOST),
    NN("reply_to", F_Z_SMTP_REPLYTO),
    NN("resp_l2_addr", F_Z_RESP_L2),
    NN("resp_pkts", F_Z_RESP_PKTS),
    NN("server_name", F_Z_SSL_SNI),
    NN("service", F_Z_SERVICE),
    NN("subject", F_Z_SSL_SUBJECT),
    NN("to", F_Z_SMTP_TO),
    NN("total_bytes", F_Z_FILES_SIZE),
    NN("unparsed_version", F_Z_SOFT_VERSION),
    NN("uri", F_Z_HTTP_URI),
    NN("user_agent", F_Z_HTTP_UA),
    NN("user_agent", F_Z_SMTP_UA),
    NN("version", F_Z_HTTP_VERSION),
    NN("x_originating_ip", F_Z_SMTP_XORIG),
};
#define NNATIVE (sizeof(native_names) / sizeof(native_names[0]))

uint32_t sp_nfields(void)
{
    return F__COUNT;
}

/* ---- sources ----------------------------------------------------------- */

enum sp_tr {
    TR_NONE,
    TR_IP4,         /* the address, if IPv4 (mapped IPv6 folded), canonical */
    TR_IP6,         /* the address, if IPv6, canonical */
    TR_IP,          /* the address, canonical */
    TR_IPTYPE,      /* "ipv4-addr" / "ipv6-addr" */
    TR_URL_HOST,    /* the host of a URL, unless an IP literal */
    TR_HOSTNAME,    /* a host name: no ":port", not an IP, not "unknown" */
    TR_MAIL_DOM,    /* the domain of an e-mail address */
    TR_BASENAME,    /* last component of a path ('/' or '\') */
    TR_DIRNAME,     /* all but the last component */
    TR_CMD_IMAGE,   /* base name of a command line's program */
    TR_HEX32,       /* only a 32-digit hex value */
    TR_HEX40,       /* only a 40-digit hex value */
    TR_HEX64,       /* only a 64-digit hex value */
    TR_FIRST64,     /* the first element, if a 64-digit hex value */
    TR_IF_PROC,     /* only on process_creation events */
    TR_PROC_TIME,   /* the event time, on process_creation events */
    TR_NET_TIME,    /* the event time (the field marks a connection) */
    TR_IF_NEWPID,   /* only beside NewProcessId (Security 4688: the creator) */
    TR_NO_NEWPID,   /* only without NewProcessId */
    TR_IF_4657,     /* only on Security 4657 (registry value modified) */
    TR_REG_SYSMON,  /* Sysmon TargetObject: the key (value name cut off) */
    TR_REGV_SYSMON, /* Sysmon TargetObject: the value name */
    TR_PROTOCOLS,   /* Zeek proto: ipv4/ipv6, proto, then service parts */
};

struct src_def {
    uint8_t field;
    uint8_t tr;
};

enum sp_src {
    S_NONE,
    S_SRC_IP4,
    S_DST_IP4,
    S_SRC_IP6,
    S_DST_IP6,
    S_SRC_IP,
    S_DST_IP,
    S_SRC_IPTYPE,
    S_DST_IPTYPE,
    S_SRC_PORT,
    S_DST_PORT,
    S_SRC_BYTES,
    S_DST_BYTES,
    S_ORIG_PKTS,
    S_RESP_PKTS,
    S_PROTOCOLS,
    S_W_PROTOCOL,
    S_NET_START,
    S_HTTP_METHOD,
    S_HTTP_URI,
    S_HTTP_VERSION,
    S_HTTP_REFERRER,
    S_HTTP_HOST,
    S_HTTP_UA,
    S_M365_UA,
    S_DNS,
    S_DNS_ANSWERS,
    S_URL_HOST,
    S_SSL_SNI,
    S_PF_CLIENT_HOST,
    S_PF_RELAY_HOST,
    S_FROM_DOM,
    S_TO_DOM,
    S_ZFROM_DOM,
    S_ZTO_DOM,
    S_ZCC_DOM,
    S_ZRCPT_DOM,
    S_ORIGTO_DOM,
    S_MAIL_FROM,
    S_MAIL_TO,
    S_ZFROM,
    S_ZTO,
    S_ZCC,
    S_ZRCPT,
    S_ZREPLYTO,
    S_ORIG_TO,
    S_ZXORIG,
    S_ZSMTP_UA,
    S_ZINREPLYTO,
    S_SUBJECT,
    S_MSGID,
    S_URL,
    S_ORIG_L2,
    S_RESP_L2,
    S_DHCP_MAC,
    S_FILE_NAME,
    S_MD5,
    S_SHA1,
    S_SHA256,
    S_FILES_SIZE,
    S_FILES_MIME,
    S_TARGET_DIR,
    S_PROC_MD5,
    S_PROC_SHA1,
    S_PROC_SHA256,
    S_CMDLINE,
    S_W_IMAGE_BASE,
    S_CMD_IMAGE,
    S_PROGRAM,
    S_W_NEWPID,
    S_W_PID,
    S_SYS_PID,
    S_W_PPID,
    S_W_PPID_4688,
    S_W_PARENT_BASE,
    S_W_PARENT_CMD,
    S_W_CWD,
    S_PROC_TIME,
    S_USER,
    S_X509_SUBJECT,
    S_SSL_SUBJECT,
    S_X509_ISSUER,
    S_SSL_ISSUER,
    S_X509_SERIAL,
    S_X509_VERSION,
    S_X509_SIGALG,
    S_X509_KEYALG,
    S_X509_EXP,
    S_X509_NB,
    S_X509_NA,
    S_X509_FP32,
    S_X509_FP40,
    S_X509_FP64,
    S_SSL_FP64,
    S_SOFT_NAME,
    S_SOFT_VERSION,
    S_REG_KEY_SYSMON,
    S_REG_KEY_4657,
    S_REGV_SYSMON,
    S_REGV_4657,
    S_REGD_SYSMON,
    S_REGD_4657,
    S__COUNT
};
_Static_assert(S__COUNT <= SP_MAX_SOURCES, "raise SP_MAX_SOURCES");
_Static_assert(F__COUNT <= SP_MAX_FIELDS, "raise SP_MAX_FIELDS");

static const struct src_def srcs[S__COUNT] = {
    [S_SRC_IP4] = {F_SRC_IP, TR_IP4},
    [S_DST_IP4] = {F_DST_IP, TR_IP4},
    [S_SRC_IP6] = {F_SRC_IP, TR_IP6},
    [S_DST_IP6] = {F_DST_IP, TR_IP6},
    [S_SRC_IP] = {F_SRC_IP, TR_IP},
    [S_DST_IP] = {F_DST_IP, TR_IP},
    [S_SRC_IPTYPE] = {F_SRC_IP, TR_IPTYPE},
    [S_DST_IPTYPE] = {F_DST_IP, TR_IPTYPE},
    [S_SRC_PORT] = {F_SRC_PORT, TR_NONE},
    [S_DST_PORT] = {F_DST_PORT, TR_NONE},
    [S_SRC_BYTES] = {F_SRC_BYTES, TR_NONE},
    [S_DST_BYTES] = {F_DST_BYTES, TR_NONE},
    [S_ORIG_PKTS] = {F_Z_ORIG_PKTS, TR_NONE},
    [S_RESP_PKTS] = {F_Z_RESP_PKTS, TR_NONE},
    [S_PROTOCOLS] = {F_Z_PROTO, TR_PROTOCOLS},
    [S_W_PROTOCOL] = {F_W_PROTOCOL, TR_NONE},
    [S_NET_START] = {F_SRC_IP, TR_NET_TIME},
    [S_HTTP_METHOD] = {F_Z_HTTP_METHOD, TR_NONE},
    [S_HTTP_URI] = {F_Z_HTTP_URI, TR_NONE},
    [S_HTTP_VERSION] = {F_Z_HTTP_VERSION, TR_NONE},
    [S_HTTP_REFERRER] = {F_Z_HTTP_REFERRER, TR_NONE},
    [S_HTTP_HOST] = {F_Z_HTTP_HOST, TR_NONE},
    [S_HTTP_UA] = {F_Z_HTTP_UA, TR_NONE},
    [S_M365_UA] = {F_M365_UA, TR_NONE},
    [S_DNS] = {F_DNS, TR_NONE},
    [S_DNS_ANSWERS] = {F_Z_DNS_ANSWERS, TR_NONE},
    [S_URL_HOST] = {F_URL, TR_URL_HOST},
    [S_SSL_SNI] = {F_Z_SSL_SNI, TR_HOSTNAME},
    [S_PF_CLIENT_HOST] = {F_PF_CLIENT_HOST, TR_HOSTNAME},
    [S_PF_RELAY_HOST] = {F_PF_RELAY_HOST, TR_HOSTNAME},
    [S_FROM_DOM] = {F_MAIL_FROM, TR_MAIL_DOM},
    [S_TO_DOM] = {F_MAIL_TO, TR_MAIL_DOM},
    [S_ZFROM_DOM] = {F_Z_SMTP_FROM, TR_MAIL_DOM},
    [S_ZTO_DOM] = {F_Z_SMTP_TO, TR_MAIL_DOM},
    [S_ZCC_DOM] = {F_Z_SMTP_CC, TR_MAIL_DOM},
    [S_ZRCPT_DOM] = {F_Z_SMTP_RCPTTO, TR_MAIL_DOM},
    [S_ORIGTO_DOM] = {F_PF_ORIG_TO, TR_MAIL_DOM},
    [S_MAIL_FROM] = {F_MAIL_FROM, TR_NONE},
    [S_MAIL_TO] = {F_MAIL_TO, TR_NONE},
    [S_ZFROM] = {F_Z_SMTP_FROM, TR_NONE},
    [S_ZTO] = {F_Z_SMTP_TO, TR_NONE},
    [S_ZCC] = {F_Z_SMTP_CC, TR_NONE},
    [S_ZRCPT] = {F_Z_SMTP_RCPTTO, TR_NONE},
    [S_ZREPLYTO] = {F_Z_SMTP_REPLYTO, TR_NONE},
    [S_ORIG_TO] = {F_PF_ORIG_TO, TR_NONE},
    [S_ZXORIG] = {F_Z_SMTP_XORIG, TR_NONE},
    [S_ZSMTP_UA] = {F_Z_SMTP_UA, TR_NONE},
    [S_ZINREPLYTO] = {F_Z_SMTP_INREPLYTO, TR_NONE},
    [S_SUBJECT] = {F_SUBJECT, TR_NONE},
    [S_MSGID] = {F_MSGID, TR_NONE},
    [S_URL] = {F_URL, TR_NONE},
    [S_ORIG_L2] = {F_Z_ORIG_L2, TR_NONE},
    [S_RESP_L2] = {F_Z_RESP_L2, TR_NONE},
    [S_DHCP_MAC] = {F_Z_DHCP_MAC, TR_NONE},
    [S_FILE_NAME] = {F_FILE_NAME, TR_NONE},
    [S_MD5] = {F_MD5, TR_NONE},
    [S_SHA1] = {F_SHA1, TR_NONE},
    [S_SHA256] = {F_SHA256, TR_NONE},
    [S_FILES_SIZE] = {F_Z_FILES_SIZE, TR_NONE},
    [S_FILES_MIME] = {F_Z_FILES_MIME, TR_NONE},
    [S_TARGET_DIR] = {F_W_TARGET_FILE, TR_DIRNAME},
    [S_PROC_MD5] = {F_MD5, TR_IF_PROC},
    [S_PROC_SHA1] = {F_SHA1, TR_IF_PROC},
    [S_PROC_SHA256] = {F_SHA256, TR_IF_PROC},
    [S_CMDLINE] = {F_CMDLINE, TR_NONE},
    [S_W_IMAGE_BASE] = {F_W_IMAGE, TR_BASENAME},
    [S_CMD_IMAGE] = {F_CMDLINE, TR_CMD_IMAGE},
    [S_PROGRAM] = {F_SYS_PROGRAM, TR_NONE},
    [S_W_NEWPID] = {F_W_NEWPID, TR_NONE},
    [S_W_PID] = {F_W_PID, TR_NO_NEWPID},
    [S_SYS_PID] = {F_SYS_PID, TR_NONE},
    [S_W_PPID] = {F_W_PPID, TR_NONE},
    [S_W_PPID_4688] = {F_W_PID, TR_IF_NEWPID},
    [S_W_PARENT_BASE] = {F_W_PARENT_IMAGE, TR_BASENAME},
    [S_W_PARENT_CMD] = {F_W_PARENT_CMD, TR_NONE},
    [S_W_CWD] = {F_W_CWD, TR_NONE},
    [S_PROC_TIME] = {F_CMDLINE, TR_PROC_TIME},
    [S_USER] = {F_USER, TR_NONE},
    [S_X509_SUBJECT] = {F_Z_X509_SUBJECT, TR_NONE},
    [S_SSL_SUBJECT] = {F_Z_SSL_SUBJECT, TR_NONE},
    [S_X509_ISSUER] = {F_Z_X509_ISSUER, TR_NONE},
    [S_SSL_ISSUER] = {F_Z_SSL_ISSUER, TR_NONE},
    [S_X509_SERIAL] = {F_Z_X509_SERIAL, TR_NONE},
    [S_X509_VERSION] = {F_Z_X509_VERSION, TR_NONE},
    [S_X509_SIGALG] = {F_Z_X509_SIGALG, TR_NONE},
    [S_X509_KEYALG] = {F_Z_X509_KEYALG, TR_NONE},
    [S_X509_EXP] = {F_Z_X509_EXP, TR_NONE},
    [S_X509_NB] = {F_Z_X509_NB, TR_NONE},
    [S_X509_NA] = {F_Z_X509_NA, TR_NONE},
    [S_X509_FP32] = {F_Z_X509_FP, TR_HEX32},
    [S_X509_FP40] = {F_Z_X509_FP, TR_HEX40},
    [S_X509_FP64] = {F_Z_X509_FP, TR_HEX64},
    [S_SSL_FP64] = {F_Z_SSL_FPS, TR_FIRST64},
    [S_SOFT_NAME] = {F_Z_SOFT_NAME, TR_NONE},
    [S_SOFT_VERSION] = {F_Z_SOFT_VERSION, TR_NONE},
    [S_REG_KEY_SYSMON] = {F_W_REG_TARGET, TR_REG_SYSMON},
    [S_REG_KEY_4657] = {F_W_OBJNAME, TR_IF_4657},
    [S_REGV_SYSMON] = {F_W_REG_TARGET, TR_REGV_SYSMON},
    [S_REGV_4657] = {F_W_OBJVALNAME, TR_IF_4657},
    [S_REGD_SYSMON] = {F_W_REG_DETAILS, TR_NONE},
    [S_REGD_4657] = {F_W_NEWVALUE, TR_IF_4657},
};

/* ---- object types and properties --------------------------------------- */

static const struct {
    const char *name;
    uint8_t nslots;
    bool instanced;
} otypes[OT__COUNT] = {
    [OT_NONE] = {"", 1, false},
    [OT_IPV4] = {"ipv4-addr", 1, true},
    [OT_IPV6] = {"ipv6-addr", 1, true},
    [OT_MAC] = {"mac-addr", 1, true},
    [OT_DOMAIN] = {"domain-name", 2, true},
    [OT_EMAIL_ADDR] = {"email-addr", 1, true},
    [OT_URL] = {"url", 1, false},
    [OT_NETWORK_TRAFFIC] = {"network-traffic", 1, false},
    [OT_EMAIL_MESSAGE] = {"email-message", 1, false},
    [OT_FILE] = {"file", 1, false},
    [OT_DIRECTORY] = {"directory", 1, false},
    [OT_PROCESS] = {"process", 1, false},
    [OT_USER_ACCOUNT] = {"user-account", 1, false},
    [OT_X509] = {"x509-certificate", 1, false},
    [OT_SOFTWARE] = {"software", 1, false},
    [OT_REGKEY] = {"windows-registry-key", 1, false},
};

/* Slot shorthands: U(...) every source, F(...) the first with a value. */
#define U(...)                                                                                     \
    {                                                                                              \
        SM_UNION,                                                                                  \
        {                                                                                          \
            __VA_ARGS__, S_NONE                                                                    \
        }                                                                                          \
    }
#define F(...)                                                                                     \
    {                                                                                              \
        SM_FIRST,                                                                                  \
        {                                                                                          \
            __VA_ARGS__, S_NONE                                                                    \
        }                                                                                          \
    }
#define NOIOC (-1)

/* clang-format off */
const struct sp_prop sp_props[] = {
    /* type                 path                                   kind     norm      list  inst   ioc */
    {OT_IPV4, "ipv4-addr:value", PK_IP, NM_NONE, false, true, IOC_IP,
     {U(S_SRC_IP4, S_DST_IP4)}},
    {OT_IPV6, "ipv6-addr:value", PK_IP, NM_NONE, false, true, IOC_IP,
     {U(S_SRC_IP6, S_DST_IP6)}},
    {OT_MAC, "mac-addr:value", PK_STR, NM_MAC, false, true, NOIOC,
     {U(S_ORIG_L2, S_RESP_L2, S_DHCP_MAC)}},
    {OT_DOMAIN, "domain-name:value", PK_STR, NM_DOMAIN, false, true, IOC_DOMAIN,
     {U(S_DNS), U(S_URL_HOST, S_SSL_SNI, S_PF_CLIENT_HOST, S_PF_RELAY_HOST, S_FROM_DOM, S_TO_DOM,
                  S_ZFROM_DOM, S_ZTO_DOM, S_ZCC_DOM, S_ZRCPT_DOM, S_ORIGTO_DOM)}},
    {OT_DOMAIN, "domain-name:resolves_to_refs.value", PK_IP, NM_NONE, true, false, NOIOC,
     {U(S_DNS_ANSWERS)}},
    {OT_EMAIL_ADDR, "email-addr:value", PK_STR, NM_EMAIL, false, true, IOC_EMAIL,
     {U(S_MAIL_FROM, S_MAIL_TO, S_ZFROM, S_ZTO, S_ZCC, S_ZRCPT, S_ZREPLYTO, S_ORIG_TO)}},
    {OT_URL, "url:value", PK_STR, NM_URL, false, false, IOC_URL, {U(S_URL)}},

    {OT_NETWORK_TRAFFIC, "network-traffic:src_ref.value", PK_IP, NM_NONE, false, false, NOIOC,
     {U(S_SRC_IP)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:dst_ref.value", PK_IP, NM_NONE, false, false, NOIOC,
     {U(S_DST_IP)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:src_ref.type", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_SRC_IPTYPE)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:dst_ref.type", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_DST_IPTYPE)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:src_port", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_SRC_PORT)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:dst_port", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_DST_PORT)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:src_byte_count", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_SRC_BYTES)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:dst_byte_count", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_DST_BYTES)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:src_packets", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_ORIG_PKTS)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:dst_packets", PK_NUM, NM_NONE, false, false, NOIOC,
     {U(S_RESP_PKTS)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:protocols", PK_STR, NM_LOWER, true, false, NOIOC,
     {F(S_PROTOCOLS, S_W_PROTOCOL)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:start", PK_TIME, NM_NONE, false, false, NOIOC,
     {U(S_NET_START)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_method", PK_STR,
     NM_NONE, false, false, NOIOC, {U(S_HTTP_METHOD)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_value", PK_STR,
     NM_NONE, false, false, NOIOC, {U(S_HTTP_URI)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_version", PK_STR,
     NM_LOWER, false, false, NOIOC, {U(S_HTTP_VERSION)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_header.user-agent",
     PK_STR, NM_NONE, false, false, IOC_USER_AGENT, {U(S_HTTP_UA, S_M365_UA)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_header.host",
     PK_STR, NM_LOWER, false, false, NOIOC, {U(S_HTTP_HOST)}},
    {OT_NETWORK_TRAFFIC, "network-traffic:extensions.http-request-ext.request_header.referer",
     PK_STR, NM_NONE, false, false, NOIOC, {U(S_HTTP_REFERRER)}},

    {OT_EMAIL_MESSAGE, "email-message:from_ref.value", PK_STR, NM_EMAIL, false, false, NOIOC,
     {F(S_ZFROM, S_MAIL_FROM)}},
    {OT_EMAIL_MESSAGE, "email-message:sender_ref.value", PK_STR, NM_EMAIL, false, false, NOIOC,
     {U(S_MAIL_FROM)}},
    {OT_EMAIL_MESSAGE, "email-message:to_refs.value", PK_STR, NM_EMAIL, true, false, NOIOC,
     {F(S_ZTO, S_MAIL_TO)}},
    {OT_EMAIL_MESSAGE, "email-message:cc_refs.value", PK_STR, NM_EMAIL, true, false, NOIOC,
     {U(S_ZCC)}},
    {OT_EMAIL_MESSAGE, "email-message:subject", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_SUBJECT)}},
    {OT_EMAIL_MESSAGE, "email-message:message_id", PK_STR, NM_MSGID, false, false, NOIOC,
     {U(S_MSGID)}},
    {OT_EMAIL_MESSAGE, "email-message:additional_header_fields.message-id", PK_STR, NM_MSGID,
     true, false, NOIOC, {U(S_MSGID)}},
    {OT_EMAIL_MESSAGE, "email-message:additional_header_fields.reply-to", PK_STR, NM_EMAIL,
     true, false, NOIOC, {U(S_ZREPLYTO)}},
    {OT_EMAIL_MESSAGE, "email-message:additional_header_fields.in-reply-to", PK_STR, NM_MSGID,
     true, false, NOIOC, {U(S_ZINREPLYTO)}},
    {OT_EMAIL_MESSAGE, "email-message:additional_header_fields.x-originating-ip", PK_IP, NM_NONE,
     true, false, NOIOC, {U(S_ZXORIG)}},
    {OT_EMAIL_MESSAGE, "email-message:additional_header_fields.user-agent", PK_STR, NM_NONE,
     true, false, NOIOC, {U(S_ZSMTP_UA)}},

    {OT_FILE, "file:name", PK_STR, NM_NONE, false, false, IOC_FILENAME, {U(S_FILE_NAME)}},
    {OT_FILE, "file:hashes.md5", PK_STR, NM_LOWER, false, false, IOC_MD5, {U(S_MD5)}},
    {OT_FILE, "file:hashes.sha-1", PK_STR, NM_LOWER, false, false, IOC_SHA1, {U(S_SHA1)}},
    {OT_FILE, "file:hashes.sha-256", PK_STR, NM_LOWER, false, false, IOC_SHA256, {U(S_SHA256)}},
    {OT_FILE, "file:size", PK_NUM, NM_NONE, false, false, NOIOC, {U(S_FILES_SIZE)}},
    {OT_FILE, "file:mime_type", PK_STR, NM_LOWER, false, false, NOIOC, {U(S_FILES_MIME)}},
    {OT_FILE, "file:parent_directory_ref.path", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_TARGET_DIR)}},
    {OT_DIRECTORY, "directory:path", PK_STR, NM_NONE, false, false, NOIOC, {U(S_TARGET_DIR)}},

    {OT_PROCESS, "process:command_line", PK_STR, NM_NONE, false, false, NOIOC, {U(S_CMDLINE)}},
    {OT_PROCESS, "process:name", PK_STR, NM_NONE, false, false, NOIOC,
     {F(S_W_IMAGE_BASE, S_CMD_IMAGE, S_PROGRAM)}},
    {OT_PROCESS, "process:image_ref.name", PK_STR, NM_NONE, false, false, NOIOC,
     {F(S_W_IMAGE_BASE, S_CMD_IMAGE)}},
    {OT_PROCESS, "process:image_ref.hashes.md5", PK_STR, NM_LOWER, false, false, NOIOC,
     {U(S_PROC_MD5)}},
    {OT_PROCESS, "process:image_ref.hashes.sha-1", PK_STR, NM_LOWER, false, false, NOIOC,
     {U(S_PROC_SHA1)}},
    {OT_PROCESS, "process:image_ref.hashes.sha-256", PK_STR, NM_LOWER, false, false, NOIOC,
     {U(S_PROC_SHA256)}},
    {OT_PROCESS, "process:pid", PK_NUM, NM_NONE, false, false, NOIOC,
     {F(S_W_NEWPID, S_W_PID, S_SYS_PID)}},
    {OT_PROCESS, "process:cwd", PK_STR, NM_NONE, false, false, NOIOC, {U(S_W_CWD)}},
    {OT_PROCESS, "process:created_time", PK_TIME, NM_NONE, false, false, NOIOC, {U(S_PROC_TIME)}},
    {OT_PROCESS, "process:parent_ref.name", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_W_PARENT_BASE)}},
    {OT_PROCESS, "process:parent_ref.command_line", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_W_PARENT_CMD)}},
    {OT_PROCESS, "process:parent_ref.pid", PK_NUM, NM_NONE, false, false, NOIOC,
     {F(S_W_PPID, S_W_PPID_4688)}},
    {OT_PROCESS, "process:creator_user_ref.user_id", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_USER)}},
    {OT_PROCESS, "process:creator_user_ref.account_login", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_USER)}},

    {OT_USER_ACCOUNT, "user-account:user_id", PK_STR, NM_NONE, false, false, NOIOC, {U(S_USER)}},
    {OT_USER_ACCOUNT, "user-account:account_login", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_USER)}},

    {OT_X509, "x509-certificate:subject", PK_STR, NM_NONE, false, false, NOIOC,
     {F(S_X509_SUBJECT, S_SSL_SUBJECT)}},
    {OT_X509, "x509-certificate:issuer", PK_STR, NM_NONE, false, false, NOIOC,
     {F(S_X509_ISSUER, S_SSL_ISSUER)}},
    {OT_X509, "x509-certificate:serial_number", PK_STR, NM_SERIAL, false, false, NOIOC,
     {U(S_X509_SERIAL)}},
    {OT_X509, "x509-certificate:version", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_X509_VERSION)}},
    {OT_X509, "x509-certificate:signature_algorithm", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_X509_SIGALG)}},
    {OT_X509, "x509-certificate:subject_public_key_algorithm", PK_STR, NM_NONE, false, false,
     NOIOC, {U(S_X509_KEYALG)}},
    {OT_X509, "x509-certificate:subject_public_key_exponent", PK_NUM, NM_NONE, false, false,
     NOIOC, {U(S_X509_EXP)}},
    {OT_X509, "x509-certificate:validity_not_before", PK_TIME, NM_NONE, false, false, NOIOC,
     {U(S_X509_NB)}},
    {OT_X509, "x509-certificate:validity_not_after", PK_TIME, NM_NONE, false, false, NOIOC,
     {U(S_X509_NA)}},
    {OT_X509, "x509-certificate:hashes.md5", PK_STR, NM_LOWER, false, false, NOIOC,
     {U(S_X509_FP32)}},
    {OT_X509, "x509-certificate:hashes.sha-1", PK_STR, NM_LOWER, false, false, NOIOC,
     {U(S_X509_FP40)}},
    {OT_X509, "x509-certificate:hashes.sha-256", PK_STR, NM_LOWER, false, false, NOIOC,
     {F(S_X509_FP64, S_SSL_FP64)}},

    {OT_SOFTWARE, "software:name", PK_STR, NM_NONE, false, false, NOIOC, {U(S_SOFT_NAME)}},
    {OT_SOFTWARE, "software:version", PK_STR, NM_NONE, false, false, NOIOC,
     {U(S_SOFT_VERSION)}},

    {OT_REGKEY, "windows-registry-key:key", PK_STR, NM_REGKEY, false, false, NOIOC,
     {U(S_REG_KEY_SYSMON, S_REG_KEY_4657)}},
    {OT_REGKEY, "windows-registry-key:values", PK_STR, NM_LOWER, true, false, NOIOC,
     {U(S_REGV_SYSMON, S_REGV_4657)}},
    {OT_REGKEY, "windows-registry-key:values.name", PK_STR, NM_LOWER, true, false, NOIOC,
     {U(S_REGV_SYSMON, S_REGV_4657)}},
    {OT_REGKEY, "windows-registry-key:values.data", PK_STR, NM_NONE, true, false, NOIOC,
     {U(S_REGD_SYSMON, S_REGD_4657)}},
};
/* clang-format on */
const uint32_t sp_nprops = sizeof(sp_props) / sizeof(sp_props[0]);

uint32_t sp_otype_slots(uint8_t otype)
{
    return otype < OT__COUNT ? otypes[otype].nslots : 1;
}

bool sp_otype_instanced(uint8_t otype)
{
    return otype < OT__COUNT && otypes[otype].instanced;
}

uint8_t sp_otype_by_name(const char *name, size_t n)
{
    for (uint8_t t = 1; t < OT__COUNT; t++)
        if (strlen(otypes[t].name) == n && !memcmp(otypes[t].name, name, n))
            return t;
    return OT_NONE;
}

const char *sp_otype_name(uint8_t otype)
{
    return otype < OT__COUNT ? otypes[otype].name : "";
}

uint32_t sp_prop_by_path(const char *path)
{
    for (uint32_t i = 0; i < sp_nprops; i++)
        if (!strcmp(sp_props[i].path, path))
            return i;
    return SP_PROP_NONE;
}

uint32_t sp_otype_instance_prop(uint8_t otype)
{
    for (uint32_t i = 0; i < sp_nprops; i++)
        if (sp_props[i].otype == otype && sp_props[i].instance)
            return i;
    return SP_PROP_NONE;
}

void sp_prop_fields(uint32_t prop, uint64_t m[2])
{
    m[0] = m[1] = 0;
    if (prop >= sp_nprops)
        return;
    for (int s = 0; s < SP_MAX_SLOTS; s++)
        for (int k = 0; k < SP_MAX_SRCS && sp_props[prop].slot[s].src[k]; k++) {
            const struct src_def *d = &srcs[sp_props[prop].slot[s].src[k]];
            m[d->field / 64] |= 1ull << (d->field % 64);
        }
}

int sp_map_selftest(void)
{
    for (size_t i = 1; i < NNATIVE; i++)
        if (strcmp(native_names[i - 1].name, native_names[i].name) > 0)
            return -1;
    for (uint32_t i = 0; i < sp_nprops; i++)
        for (uint32_t j = i + 1; j < sp_nprops; j++)
            if (!strcmp(sp_props[i].path, sp_props[j].path))
                return -2;
    return 0;
}

/* ---- the evaluation context ------------------------------------------- */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

/* The native names in a small hash table (per context, so no shared
 * state): an event's field costs one hash and, for the few names kenchi
 * reads, one memcmp. */
void sp_ctx_init(struct sp_ctx *c)
{
    memset(c, 0, sizeof(*c));
    arena_init(&c->arena, 16 * 1024);
    for (int t = 0; t < OT__COUNT; t++)
        c->bslot[t] = -1;
    _Static_assert(NNATIVE < SP_NAME_SLOTS / 3, "raise SP_NAME_SLOTS");
    for (size_t i = 0; i < NNATIVE;) {
        size_t k = i + 1;
        while (k < NNATIVE && !strcmp(native_names[k].name, native_names[i].name))
            k++;
        uint32_t h = name_hash(native_names[i].name, native_names[i].len);
        uint32_t j = h & (SP_NAME_SLOTS - 1);
        while (c->names[j].h)
            j = (j + 1) & (SP_NAME_SLOTS - 1);
        c->names[j].h = h;
        c->names[j].len = native_names[i].len;
        c->names[j].first = (uint8_t)i;
        c->names[j].count = (uint8_t)(k - i);
        i = k;
    }
}

/* The run of native_names entries named k, or NULL. */
static const struct native_name *name_find(const struct sp_ctx *c, struct str k, uint32_t *count)
{
    if (k.n > 255)
        return NULL;
    uint32_t h = name_hash(k.p, k.n);
    for (uint32_t j = h & (SP_NAME_SLOTS - 1); c->names[j].h; j = (j + 1) & (SP_NAME_SLOTS - 1)) {
        if (c->names[j].h == h && c->names[j].len == k.n &&
            !memcmp(native_names[c->names[j].first].name, k.p, k.n)) {
            *count = c->names[j].count;
            return &native_names[c->names[j].first];
        }
    }
    return NULL;
}

void sp_ctx_free(struct sp_ctx *c)
{
    free(c->vals);
    arena_free(&c->arena);
    if (c->md)
        pcre2_match_data_free(c->md);
    if (c->mc)
        pcre2_match_context_free(c->mc);
    memset(c, 0, sizeof(*c));
}

static bool str_is(const char *a, const char *lit)
{
    return a && !strcmp(a, lit);
}

void sp_ctx_event(struct sp_ctx *c, const struct event *ev)
{
    c->ev = ev;
    c->gen++;
    if (c->gen == 0) { /* wrapped: stale stamps could look fresh */
        memset(c->scache, 0, sizeof(c->scache));
        c->gen = 1;
    }
    c->nvals = 0;
    arena_reset(&c->arena);
    for (int i = 0; i < F__COUNT; i++)
        c->fidx[i] = -1;
    c->present[0] = c->present[1] = 0;
    for (int f = 0; f <= F_DNS; f++) /* the core fields come first */
        if (ev->core[fields[f].core].n)
            c->present[f / 64] |= 1ull << (f % 64);
    const char *prod = ev->ls.product;
    const char *svc = ev->ls.service;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        struct str k = ev->fields[i].key;
        if (!k.n || !ev->fields[i].val.n)
            continue;
        uint32_t cnt;
        const struct native_name *hit = name_find(c, k, &cnt);
        if (!hit)
            continue;
        for (const struct native_name *end = hit + cnt; hit < end; hit++) {
            const struct field_def *d = &fields[hit->field];
            if (d->product && !str_is(prod, d->product))
                continue;
            if (d->service && !str_is(svc, d->service))
                continue;
            if (c->fidx[hit->field] < 0) {
                c->fidx[hit->field] = (int32_t)i;
                c->present[hit->field / 64] |= 1ull << (hit->field % 64);
            }
        }
    }
}

/* The raw text of a field, and its JSON type. */
static bool field_get(const struct sp_ctx *c, int f, struct str *out, enum value_type *vt)
{
    if (fields[f].core >= 0) {
        *out = c->ev->core[fields[f].core];
        *vt = VT_STRING;
        return out->n > 0;
    }
    if (c->fidx[f] < 0)
        return false;
    const struct field *fl = &c->ev->fields[c->fidx[f]];
    *out = fl->val;
    *vt = fl->type;
    return true;
}

static void push_val(struct sp_ctx *c, const char *p, size_t n)
{
    if (c->nvals == c->capvals) {
        uint32_t cap = c->capvals ? c->capvals * 2 : 256;
        struct sp_val *v = realloc(c->vals, cap * sizeof(*v));
        if (!v)
            abort();
        c->vals = v;
        c->capvals = cap;
    }
    c->vals[c->nvals++] = (struct sp_val){p, (uint32_t)n};
}

/* ---- IP addresses ------------------------------------------------------ */

static bool parse_addr(const char *s, size_t n, uint8_t addr[16], uint8_t *fam)
{
    char tmp[64];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
        s++, n -= 2;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1) {
        *fam = 4;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, addr) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(addr, mapped, 12)) {
            memmove(addr, addr + 12, 4);
            *fam = 4;
            return true;
        }
        *fam = 6;
        return true;
    }
    return false;
}

bool sp_net_parse(const char *s, size_t n, struct sp_net *out)
{
    memset(out, 0, sizeof(*out));
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    uint8_t fam;
    bool mapped = false;
    if (!parse_addr(s, alen, out->addr, &fam))
        return false;
    if (fam == 4 && memchr(s, ':', alen))
        mapped = true;
    out->fam = fam;
    int max = fam == 4 ? 32 : 128;
    int plen = max;
    if (slash) {
        size_t k = n - alen - 1;
        if (k == 0 || k > 3)
            return false;
        plen = 0;
        for (size_t i = 0; i < k; i++) {
            char ch = slash[1 + i];
            if (ch < '0' || ch > '9')
                return false;
            plen = plen * 10 + (ch - '0');
        }
        if (mapped)
            plen -= 96;
        if (plen < 0 || plen > max)
            return false;
    }
    out->plen = (uint8_t)plen;
    for (int i = 0; i < 16; i++) {
        int bits = plen - i * 8;
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        out->addr[i] &= mask;
    }
    return true;
}

bool sp_net_within(const struct sp_net *a, const struct sp_net *b)
{
    if (a->fam != b->fam || a->plen < b->plen)
        return false;
    int full = b->plen / 8, rest = b->plen % 8;
    if (memcmp(a->addr, b->addr, (size_t)full))
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((a->addr[full] & mask) != (b->addr[full] & mask))
            return false;
    }
    return true;
}

/* ---- transforms -------------------------------------------------------- */

static bool is_ip_literal(const char *s, size_t n)
{
    uint8_t a[16], fam;
    return parse_addr(s, n, a, &fam);
}

static struct str basename_of(struct str v)
{
    size_t i = v.n;
    while (i && v.p[i - 1] != '/' && v.p[i - 1] != '\\')
        i--;
    return str_make(v.p + i, v.n - i);
}

static bool is_hex_len(struct str v, size_t want)
{
    if (v.n != want)
        return false;
    for (size_t i = 0; i < v.n; i++) {
        char ch = v.p[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

/* The address inside "Name <a@b>" (or v itself). */
static struct str mail_addr(struct str v)
{
    const char *lt = memchr(v.p, '<', v.n);
    if (lt) {
        const char *gt = memchr(lt, '>', v.n - (size_t)(lt - v.p));
        if (gt)
            return str_make(lt + 1, (size_t)(gt - lt - 1));
    }
    while (v.n && (v.p[0] == ' ' || v.p[0] == '"'))
        v.p++, v.n--;
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '"'))
        v.n--;
    return v;
}

static bool native_is(const struct sp_ctx *c, int f, const char *lit)
{
    struct str v;
    enum value_type vt;
    return field_get(c, f, &v, &vt) && str_eq(v, lit);
}

static bool sysmon_value_event(const struct sp_ctx *c)
{
    return native_is(c, F_W_EVENTTYPE, "SetValue") || native_is(c, F_W_EVENTTYPE, "DeleteValue");
}

static void push_time(struct sp_ctx *c)
{
    if (c->ev->ts_ns == TIME_NONE)
        return;
    char *t = arena_alloc(&c->arena, 32);
    time_format(c->ev->ts_ns, t);
    push_val(c, t, strlen(t));
}

/* Apply tr to one value v; append 0 or more values. */
static void transform(struct sp_ctx *c, uint8_t tr, struct str v)
{
    switch (tr) {
    case TR_NONE:
        push_val(c, v.p, v.n);
        return;
    case TR_IP4:
    case TR_IP6:
    case TR_IP:
    case TR_IPTYPE: {
        uint8_t a[16], fam;
        if (!parse_addr(v.p, v.n, a, &fam))
            return;
        if ((tr == TR_IP4 && fam != 4) || (tr == TR_IP6 && fam != 6))
            return;
        if (tr == TR_IPTYPE) {
            const char *t = fam == 4 ? "ipv4-addr" : "ipv6-addr";
            push_val(c, t, 9);
            return;
        }
        if (fam == 4) { /* dotted quad, without inet_ntop's printf */
            char *out = arena_alloc(&c->arena, 16);
            size_t o = 0;
            for (int i = 0; i < 4; i++) {
                unsigned b = a[i];
                if (i)
                    out[o++] = '.';
                if (b >= 100)
                    out[o++] = (char)('0' + b / 100);
                if (b >= 10)
                    out[o++] = (char)('0' + b / 10 % 10);
                out[o++] = (char)('0' + b % 10);
            }
            push_val(c, out, o);
            return;
        }
        char *out = arena_alloc(&c->arena, 64);
        if (!inet_ntop(AF_INET6, a, out, 64))
            return;
        push_val(c, out, strlen(out));
        return;
    }
    case TR_URL_HOST: {
        const char *p = v.p;
        size_t n = v.n;
        const char *sch = NULL;
        for (size_t i = 0; i + 2 < n && i < 16; i++)
            if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') {
                sch = p + i + 3;
                break;
            }
        if (sch) {
            n -= (size_t)(sch - p);
            p = sch;
        }
        size_t h = 0;
        while (h < n && p[h] != '/' && p[h] != '?' && p[h] != '#')
            h++;
        const char *at = memchr(p, '@', h);
        if (at) {
            h -= (size_t)(at + 1 - p);
            p = at + 1;
        }
        if (h && p[0] == '[') /* an IPv6 literal */
            return;
        const char *colon = memchr(p, ':', h);
        if (colon)
            h = (size_t)(colon - p);
        if (h && !is_ip_literal(p, h))
            push_val(c, p, h);
        return;
    }
    case TR_HOSTNAME: {
        if (str_eq(v, "unknown") || is_ip_literal(v.p, v.n))
            return;
        const char *colon = memchr(v.p, ':', v.n);
        if (colon && !memchr(colon + 1, ':', v.n - (size_t)(colon - v.p) - 1))
            v.n = (size_t)(colon - v.p);
        if (v.n && !is_ip_literal(v.p, v.n))
            push_val(c, v.p, v.n);
        return;
    }
    case TR_MAIL_DOM: {
        struct str a = mail_addr(v);
        const char *at = NULL;
        for (size_t i = 0; i < a.n; i++)
            if (a.p[i] == '@')
                at = a.p + i;
        if (at && at + 1 < a.p + a.n)
            push_val(c, at + 1, a.n - (size_t)(at + 1 - a.p));
        return;
    }
    case TR_BASENAME: {
        struct str b = basename_of(v);
        if (b.n)
            push_val(c, b.p, b.n);
        return;
    }
    case TR_DIRNAME: {
        struct str b = basename_of(v);
        if (b.p > v.p + 1)
            push_val(c, v.p, (size_t)(b.p - v.p) - 1);
        return;
    }
    case TR_CMD_IMAGE: {
        size_t i = 0;
        while (i < v.n && v.p[i] == ' ')
            i++;
        size_t s, e;
        if (i < v.n && v.p[i] == '"') {
            s = ++i;
            while (i < v.n && v.p[i] != '"')
                i++;
            e = i;
        } else {
            s = i;
            while (i < v.n && v.p[i] != ' ' && v.p[i] != '\t')
                i++;
            e = i;
        }
        struct str b = basename_of(str_make(v.p + s, e - s));
        if (b.n)
            push_val(c, b.p, b.n);
        return;
    }
    case TR_HEX32:
    case TR_HEX40:
    case TR_HEX64:
    case TR_FIRST64:
        if (is_hex_len(v, tr == TR_HEX32 ? 32 : tr == TR_HEX40 ? 40 : 64))
            push_val(c, v.p, v.n);
        return;
    case TR_IF_PROC:
        if (str_is(c->ev->ls.category, "process_creation"))
            push_val(c, v.p, v.n);
        return;
    case TR_PROC_TIME:
        if (str_is(c->ev->ls.category, "process_creation"))
            push_time(c);
        return;
    case TR_NET_TIME:
        push_time(c);
        return;
    case TR_IF_NEWPID:
    case TR_NO_NEWPID:
        if ((c->fidx[F_W_NEWPID] >= 0) == (tr == TR_IF_NEWPID))
            push_val(c, v.p, v.n);
        return;
    case TR_IF_4657:
        if (native_is(c, F_W_EVENTID, "4657"))
            push_val(c, v.p, v.n);
        return;
    case TR_REG_SYSMON:
        if (sysmon_value_event(c)) {
            struct str b = basename_of(v);
            if (b.p > v.p + 1)
                push_val(c, v.p, (size_t)(b.p - v.p) - 1);
        } else {
            push_val(c, v.p, v.n);
        }
        return;
    case TR_REGV_SYSMON:
        if (sysmon_value_event(c)) {
            struct str b = basename_of(v);
            if (b.n)
                push_val(c, b.p, b.n);
        }
        return;
    case TR_PROTOCOLS: {
        struct str ip = c->ev->core[CORE_SOURCE_IP];
        uint8_t a[16], fam;
        if (ip.n && parse_addr(ip.p, ip.n, a, &fam))
            push_val(c, fam == 4 ? "ipv4" : "ipv6", 4);
        push_val(c, v.p, v.n);
        struct str svc;
        enum value_type vt;
        if (field_get(c, F_Z_SERVICE, &svc, &vt)) {
            size_t i = 0;
            while (i < svc.n) {
                size_t j = i;
                while (j < svc.n && svc.p[j] != ',')
                    j++;
                if (j > i && !(j - i == 1 && svc.p[i] == '-'))
                    push_val(c, svc.p + i, j - i);
                i = j + 1;
            }
        }
        return;
    }
    }
}

/* Split a JSON array of scalars into its elements (strings unescaped into
 * the arena; \uXXXX kept as written: the values kenchi's decoders put in
 * arrays are addresses, names and hashes). Calls transform on each. */
static void split_json_array(struct sp_ctx *c, uint8_t tr, struct str v, uint32_t max)
{
    size_t i = 1, n = v.n;
    const char *p = v.p;
    uint32_t count = 0;
    while (i < n && count < max) {
        while (i < n && (p[i] == ' ' || p[i] == ',' || p[i] == '\n' || p[i] == '\t'))
            i++;
        if (i >= n || p[i] == ']')
            break;
        if (p[i] == '"') {
            size_t j = ++i;
            bool esc = false;
            while (j < n && p[j] != '"') {
                if (p[j] == '\\') {
                    esc = true;
                    j++;
                }
                j++;
            }
            if (j > n)
                j = n;
            struct str e = str_make(p + i, j - i);
            if (esc) {
                char *d = arena_alloc(&c->arena, e.n + 1);
                size_t o = 0;
                for (size_t k = 0; k < e.n; k++) {
                    if (e.p[k] == '\\' && k + 1 < e.n) {
                        k++;
                        char ch = e.p[k];
                        d[o++] = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch == 'r' ? '\r' : ch;
                    } else {
                        d[o++] = e.p[k];
                    }
                }
                e = str_make(d, o);
            }
            transform(c, tr, e);
            i = j + 1;
        } else if (p[i] == '[' || p[i] == '{') {
            break; /* nested structures are not values */
        } else {
            size_t j = i;
            while (j < n && p[j] != ',' && p[j] != ']' && p[j] != ' ')
                j++;
            struct str e = str_make(p + i, j - i);
            if (!str_eq(e, "null"))
                transform(c, tr, e);
            i = j;
        }
        count++;
        if (tr == TR_FIRST64)
            break;
    }
}

uint32_t sp_src_values(struct sp_ctx *c, uint32_t src, uint32_t *off)
{
    if (src == S_NONE || src >= S__COUNT) {
        *off = 0;
        return 0;
    }
    if (c->scache[src].gen == c->gen) {
        *off = c->scache[src].off;
        return c->scache[src].n;
    }
    uint32_t start = c->nvals;
    const struct src_def *d = &srcs[src];
    struct str v;
    enum value_type vt;
    if (field_get(c, d->field, &v, &vt)) {
        if (vt == VT_JSON && v.n && v.p[0] == '[')
            split_json_array(c, d->tr, v, SP_MAX_VALUES_PER_SOURCE);
        else
            transform(c, d->tr, v);
    }
    if (c->nvals - start > SP_MAX_VALUES_PER_SOURCE)
        c->nvals = start + SP_MAX_VALUES_PER_SOURCE;
    c->scache[src].gen = c->gen;
    c->scache[src].off = start;
    c->scache[src].n = c->nvals - start;
    *off = start;
    return c->nvals - start;
}

/* ---- canonical forms --------------------------------------------------- */

bool sp_norm_folds_case(uint8_t norm)
{
    return norm != NM_NONE && norm != NM_URL && norm != NM_MSGID;
}

static char lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

static struct sp_val lowered(struct arena *a, const char *s, size_t n)
{
    if (!has_upper(s, n))
        return (struct sp_val){s, (uint32_t)n};
    char *d = arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        d[i] = lower(s[i]);
    d[n] = '\0';
    return (struct sp_val){d, (uint32_t)n};
}

/* Registry hive abbreviations and kernel names, to the long names. */
static const struct {
    const char *from, *to;
} hives[] = {
    {"hklm\\", "hkey_local_machine\\"},
    {"hkcu\\", "hkey_current_user\\"},
    {"hku\\", "hkey_users\\"},
    {"hkcr\\", "hkey_classes_root\\"},
    {"hkcc\\", "hkey_current_config\\"},
    {"\\registry\\machine\\", "hkey_local_machine\\"},
    {"\\registry\\user\\", "hkey_users\\"},
};

struct sp_val sp_normalise(struct arena *a, uint8_t norm, const char *s, size_t n)
{
    switch (norm) {
    case NM_NONE:
    default:
        return (struct sp_val){s, (uint32_t)n};
    case NM_LOWER:
        return lowered(a, s, n);
    case NM_DOMAIN:
        while (n && s[n - 1] == '.')
            n--;
        return lowered(a, s, n);
    case NM_EMAIL: {
        struct str m = mail_addr(str_make(s, n));
        return lowered(a, m.p, m.n);
    }
    case NM_MSGID:
        while (n && (*s == '<' || *s == ' '))
            s++, n--;
        while (n && (s[n - 1] == '>' || s[n - 1] == ' '))
            n--;
        return (struct sp_val){s, (uint32_t)n};
    case NM_SERIAL: {
        char *d = arena_alloc(a, n + 1);
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] != ':' && s[i] != ' ' && s[i] != '-')
                d[o++] = lower(s[i]);
        d[o] = '\0';
        return (struct sp_val){d, (uint32_t)o};
    }
    case NM_MAC: {
        char *d = arena_alloc(a, n + 1);
        for (size_t i = 0; i < n; i++)
            d[i] = s[i] == '-' ? ':' : lower(s[i]);
        d[n] = '\0';
        return (struct sp_val){d, (uint32_t)n};
    }
    case NM_REGKEY: {
        struct sp_val l = lowered(a, s, n);
        for (size_t h = 0; h < sizeof(hives) / sizeof(hives[0]); h++) {
            size_t fl = strlen(hives[h].from);
            if (l.n >= fl && !memcmp(l.p, hives[h].from, fl)) {
                size_t tl = strlen(hives[h].to);
                char *d = arena_alloc(a, tl + l.n - fl + 1);
                memcpy(d, hives[h].to, tl);
                memcpy(d + tl, l.p + fl, l.n - fl);
                d[tl + l.n - fl] = '\0';
                return (struct sp_val){d, (uint32_t)(tl + l.n - fl)};
            }
        }
        return l;
    }
    case NM_URL: {
        char stackbuf[512];
        char *out = n + 64 <= sizeof(stackbuf) ? stackbuf : arena_alloc(a, n + 64);
        const char *why;
        int len = ioc_normalise(IOC_URL, s, n, out, &why);
        if (len < 0)
            return (struct sp_val){s, (uint32_t)n};
        if (out == stackbuf)
            out = arena_strndup(a, stackbuf, (size_t)len);
        return (struct sp_val){out, (uint32_t)len};
    }
    }
}
