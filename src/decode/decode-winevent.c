/*
 * decode-winevent.c - the Windows event model shared by the Windows
 * decoders: field naming (win_add_*), and win_finish(), which derives time,
 * log source and ECS core from the native fields.
 *
 * Everything Windows-specific that is a list (channel -> Sigma service,
 * event id -> Sigma category, event id -> event.action, which events name
 * their actor in SubjectUserName) is a table below, one row per fact, so
 * that adding a channel or an event id is one line. docs/fields.md
 * ("## Windows") lists the same tables for readers.
 *
 * win_finish() finds the fields it needs in one pass over the native fields
 * (find_slots) and never copies a value except to lowercase hashes.
 */
#include "decode/decode-windows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

/* ASCII case-insensitive equality of a slice and a NUL-terminated name. */
static bool str_ieq(struct str s, const char *lit)
{
    size_t i = 0;
    for (; i < s.n; i++) {
        char a = s.p[i], b = lit[i];
        if (!b)
            return false;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a | 0x20);
        if (b >= 'A' && b <= 'Z')
            b = (char)(b | 0x20);
        if (a != b)
            return false;
    }
    return lit[i] == '\0';
}

/* Parse an unsigned decimal of at most 9 digits (event ids). */
static bool parse_u32(struct str s, uint32_t *out)
{
    if (s.n == 0 || s.n > 9)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s.p[i] - '0');
    }
    *out = v;
    return true;
}

bool win_is_decimal(struct str s)
{
    if (s.n == 0 || s.n > 20)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return s.n == 1 || s.p[0] != '0';
}

/* elem + '_' + attr in the arena. */
static struct str join_name(struct arena *a, struct str elem, struct str attr)
{
    size_t n = elem.n + 1 + attr.n;
    char *p = arena_alloc(a, n + 1);
    memcpy(p, elem.p, elem.n);
    p[elem.n] = '_';
    memcpy(p + elem.n + 1, attr.p, attr.n);
    p[n] = '\0';
    return str_make(p, n);
}

/* ---- naming ------------------------------------------------------------- */

/* System attributes with a fixed name; the rest are Element_Attribute built
 * in the arena. TimeCreated/SystemTime is the one exception to the pattern. */
static const struct {
    const char *elem, *attr, *name;
} system_attr_names[] = {
    {"Provider", "Name", "Provider_Name"},
    {"Provider", "Guid", "Provider_Guid"},
    {"Provider", "EventSourceName", "Provider_EventSourceName"},
    {"TimeCreated", "SystemTime", "TimeCreated"},
    {"Execution", "ProcessID", "Execution_ProcessID"},
    {"Execution", "ThreadID", "Execution_ThreadID"},
    {"Security", "UserID", "Security_UserID"},
    {"Correlation", "ActivityID", "Correlation_ActivityID"},
    {"Correlation", "RelatedActivityID", "Correlation_RelatedActivityID"},
    {"EventID", "Qualifiers", "EventID_Qualifiers"},
};

/* System values that are numbers when they are made of digits. */
static const char *const system_numeric[] = {
    "EventID",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "EventRecordID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "EventID_Qualifiers",
};

enum value_type win_system_type(struct str name, struct str val, enum value_type t)
{
    if (t != VT_STRING || !win_is_decimal(val))
        return t;
    for (size_t i = 0; i < sizeof(system_numeric) / sizeof(system_numeric[0]); i++)
        if (str_eq(name, system_numeric[i]))
            return VT_NUMBER;
    return t;
}

void win_add_system(struct event *ev, struct str elem, struct str attr, struct str val,
                    enum value_type t)
{
    if (t == VT_NULL || val.n == 0 || (t == VT_JSON && str_eq(val, "{}")))
        return;
    struct str name = elem;
    if (attr.n) {
        name.n = 0;
        for (size_t i = 0; i < sizeof(system_attr_names) / sizeof(system_attr_names[0]); i++) {
            if (str_eq(elem, system_attr_names[i].elem) &&
                str_eq(attr, system_attr_names[i].attr)) {
                name = str_make(system_attr_names[i].name, strlen(system_attr_names[i].name));
                break;
            }
        }
        if (!name.n)
            name = join_name(ev->arena, elem, attr);
    }
    event_add(ev, name, val, win_system_type(name, val, t));
}

void win_add_data(struct event *ev, struct str name, struct str val, enum value_type t)
{
    if (t == VT_NULL) {
        val = STR_LIT("");
        t = VT_STRING;
    }
    event_add(ev, name, val, t);
}

void win_add_leaf(struct event *ev, struct str elem, struct str attr, struct str val,
                  enum value_type t)
{
    if (attr.n && str_starts(attr, "xmlns"))
        return;
    if (t == VT_NULL) {
        val = STR_LIT("");
        t = VT_STRING;
    }
    event_add(ev, attr.n ? join_name(ev->arena, elem, attr) : elem, val, t);
}

void win_data_list_push(struct event *ev, struct win_data_list *l, struct str v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        l->v = arena_realloc(ev->arena, l->v, l->cap * sizeof(*l->v), cap * sizeof(*l->v));
        l->cap = cap;
    }
    l->v[l->n++] = v;
}

void win_data_list_flush(struct event *ev, struct win_data_list *l)
{
    if (l->n == 1) {
        event_add(ev, STR_LIT("Data"), l->v[0], VT_STRING);
    } else if (l->n > 1) {
        struct buf b;
        buf_init(&b);
        buf_putc(&b, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i)
                buf_putc(&b, ',');
            json_put_string(&b, l->v[i].p, l->v[i].n);
        }
        buf_putc(&b, ']');
        event_add(ev, STR_LIT("Data"), str_make(arena_strndup(ev->arena, b.data, b.len), b.len),
                  VT_JSON);
        buf_free(&b);
    }
    l->n = 0;
}

/* ---- log source tables -------------------------------------------------- */

/* Channel (case-insensitive) -> Sigma service. */
static const struct {
    const char *channel, *service;
} channel_services[] = {
    {"Security", "security"},
    {"System", "system"},
    {"Application", "application"},
    {"Microsoft-Windows-Sysmon/Operational", "sysmon"},
    {"Microsoft-Windows-PowerShell/Operational", "powershell"},
    {"PowerShellCore/Operational", "powershell"},
    {"Windows PowerShell", "powershell-classic"},
    {"Microsoft-Windows-NTLM/Operational", "ntlm"},
    {"Microsoft-Windows-TaskScheduler/Operational", "taskscheduler"},
    {"Microsoft-Windows-WMI-Activity/Operational", "wmi"},
    {"Microsoft-Windows-DHCP-Server/Operational", "dhcp"},
    {"Microsoft-Windows-PrintService/Admin", "printservice-admin"},
    {"Microsoft-Windows-PrintService/Operational", "printservice-operational"},
    {"Microsoft-Windows-SmbClient/Security", "smbclient-security"},
    {"Microsoft-Windows-SmbClient/Connectivity", "smbclient-connectivity"},
    {"Microsoft-Windows-SMBServer/Connectivity", "smbserver-connectivity"},
    {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
     "terminalservices-localsessionmanager"},
    {"Microsoft-Windows-CodeIntegrity/Operational", "codeintegrity-operational"},
    {"Microsoft-Windows-AppLocker/MSI and Script", "applocker"},
    {"Microsoft-Windows-AppLocker/EXE and DLL", "applocker"},
    {"Microsoft-Windows-AppLocker/Packaged app-Deployment", "applocker"},
    {"Microsoft-Windows-AppLocker/Packaged app-Execution", "applocker"},
    {"MSExchange Management", "msexchange-management"},
    {"Microsoft-Windows-Windows Defender/Operational", "windefend"},
    {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", "firewall-as"},
    {"Microsoft-Windows-Bits-Client/Operational", "bits-client"},
    {"Microsoft-Windows-Security-Mitigations/Kernel Mode", "security-mitigations"},
    {"Microsoft-Windows-Security-Mitigations/User Mode", "security-mitigations"},
    {"Microsoft-Windows-Diagnosis-Scripted/Operational", "diagnosis-scripted"},
    {"Microsoft-Windows-Shell-Core/Operational", "shell-core"},
    {"OpenSSH/Operational", "openssh"},
    {"Microsoft-Windows-LDAP-Client/Debug", "ldap"},
    {"Microsoft-Windows-BitLocker/BitLocker Management", "bitlocker"},
    {"Microsoft-Windows-VHDMP/Operational", "vhdmp"},
    {"Microsoft-Windows-AppXDeploymentServer/Operational", "appxdeployment-server"},
    {"Microsoft-Windows-LSA/Operational", "lsa-server"},
    {"Microsoft-Windows-AppxPackaging/Operational", "appxpackaging-om"},
    {"Microsoft-Windows-DNS Client Events/Operational", "dns-client"},
    {"Microsoft-Windows-AppModel-Runtime/Admin", "appmodel-runtime"},
    {"Microsoft-Windows-CAPI2/Operational", "capi2"},
    {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
     "certificateservicesclient-lifecycle-system"},
    {"Microsoft-Windows-Kernel-ShimEngine/Operational", "kernel-shimengine"},
    {"Microsoft-Windows-Kernel-ShimEngine/Diagnostic", "kernel-shimengine"},
    {"Microsoft-Windows-Application-Experience/Program-Telemetry", "application-experience"},
    {"Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
     "application-experience"},
    {"Microsoft-Windows-Ntfs/Operational", "ntfs"},
    {"Microsoft-Windows-Hyper-V-Worker", "hyper-v-worker"},
    {"Microsoft-Windows-Hyper-V-Worker-Admin", "hyper-v-worker"},
    {"Microsoft-Windows-Kernel-EventTracing", "kernel-event-tracing"},
    {"Microsoft-Windows-Kernel-EventTracing/Admin", "kernel-event-tracing"},
    {"Microsoft-Windows-SENSE/Operational", "sense"},
    {"Microsoft-ServiceBus-Client/Admin", "servicebus-client"},
    {"Microsoft-ServiceBus-Client/Operational", "servicebus-client"},
    {"Microsoft-IIS-Configuration/Operational", "iis-configuration"},
    {"Microsoft-Windows-DriverFrameworks-UserMode/Operational", "driver-framework"},
    {"DNS Server", "dns-server"},
    {"Microsoft-Windows-DNS-Server/Analytical", "dns-server-analytic"},
};

/* When an export has no Channel: provider name -> service, for providers
 * that write to one channel only. */
static const struct {
    const char *provider, *service;
} provider_services[] = {
    {"Microsoft-Windows-Sysmon", "sysmon"},
    {"Microsoft-Windows-Security-Auditing", "security"},
    {"Microsoft-Windows-PowerShell", "powershell"},
    {"PowerShell", "powershell-classic"},
    {"Microsoft-Windows-Windows Defender", "windefend"},
    {"Microsoft-Windows-TaskScheduler", "taskscheduler"},
    {"Microsoft-Windows-WMI-Activity", "wmi"},
    {"Service Control Manager", "system"},
};

/* (service, event id[, Sysmon EventType]) -> Sigma category; the first row
 * that matches wins, so rows with an EventType come before the catch-all. */
static const struct {
    const char *service;
    uint32_t event_id;
    const char *event_type; /* NULL: any */
    const char *category;
} categories[] = {
    {"sysmon", 1, NULL, "process_creation"},
    {"sysmon", 2, NULL, "file_change"},
    {"sysmon", 3, NULL, "network_connection"},
    {"sysmon", 4, NULL, "sysmon_status"},
    {"sysmon", 5, NULL, "process_termination"},
    {"sysmon", 6, NULL, "driver_load"},
    {"sysmon", 7, NULL, "image_load"},
    {"sysmon", 8, NULL, "create_remote_thread"},
    {"sysmon", 9, NULL, "raw_access_thread"},
    {"sysmon", 10, NULL, "process_access"},
    {"sysmon", 11, NULL, "file_event"},
    {"sysmon", 12, "CreateKey", "registry_add"},
    {"sysmon", 12, "DeleteKey", "registry_delete"},
    {"sysmon", 12, "DeleteValue", "registry_delete"},
    {"sysmon", 12, NULL, "registry_event"},
    {"sysmon", 13, NULL, "registry_set"},
    {"sysmon", 14, NULL, "registry_rename"},
    {"sysmon", 15, NULL, "create_stream_hash"},
    {"sysmon", 16, NULL, "sysmon_status"},
    {"sysmon", 17, NULL, "pipe_created"},
    {"sysmon", 18, NULL, "pipe_created"},
    {"sysmon", 19, NULL, "wmi_event"},
    {"sysmon", 20, NULL, "wmi_event"},
    {"sysmon", 21, NULL, "wmi_event"},
    {"sysmon", 22, NULL, "dns_query"},
    {"sysmon", 23, NULL, "file_delete"},
    {"sysmon", 24, NULL, "clipboard_change"},
    {"sysmon", 25, NULL, "process_tampering"},
    {"sysmon", 26, NULL, "file_delete_detected"},
    {"sysmon", 27, NULL, "file_block_executable"},
    {"sysmon", 28, NULL, "file_block_shredding"},
    {"sysmon", 29, NULL, "file_executable_detected"},
    {"sysmon", 255, NULL, "sysmon_error"},
    {"security", 4688, NULL, "process_creation"},
    {"powershell", 4103, NULL, "ps_module"},
    {"powershell", 4104, NULL, "ps_script"},
    {"powershell-classic", 400, NULL, "ps_classic_start"},
    {"powershell-classic", 600, NULL, "ps_classic_provider_start"},
    {"powershell-classic", 800, NULL, "ps_classic_script"},
    {"windefend", 1006, NULL, "antivirus"},
    {"windefend", 1007, NULL, "antivirus"},
    {"windefend", 1008, NULL, "antivirus"},
    {"windefend", 1009, NULL, "antivirus"},
    {"windefend", 1010, NULL, "antivirus"},
    {"windefend", 1011, NULL, "antivirus"},
    {"windefend", 1012, NULL, "antivirus"},
    {"windefend", 1017, NULL, "antivirus"},
    {"windefend", 1018, NULL, "antivirus"},
    {"windefend", 1019, NULL, "antivirus"},
    {"windefend", 1115, NULL, "antivirus"},
    {"windefend", 1116, NULL, "antivirus"},
};

/* (service, event id) -> event.action. Events not listed get their id. */
static const struct {
    const char *service;
    uint32_t event_id;
    const char *action;
} actions[] = {
    {"security", 1102, "audit-log-cleared"},
    {"security", 4616, "system-time-changed"},
    {"security", 4624, "logged-in"},
    {"security", 4625, "logon-failed"},
    {"security", 4634, "logged-out"},
    {"security", 4647, "logged-out"},
    {"security", 4648, "logged-in-explicit"},
    {"security", 4656, "object-handle-requested"},
    {"security", 4657, "registry-value-modified"},
    {"security", 4662, "object-operation-performed"},
    {"security", 4663, "object-access-attempted"},
    {"security", 4672, "logged-in-special"},
    {"security", 4673, "privileged-service-called"},
    {"security", 4688, "created-process"},
    {"security", 4689, "exited-process"},
    {"security", 4697, "service-installed"},
    {"security", 4698, "scheduled-task-created"},
    {"security", 4699, "scheduled-task-deleted"},
    {"security", 4700, "scheduled-task-enabled"},
    {"security", 4701, "scheduled-task-disabled"},
    {"security", 4702, "scheduled-task-updated"},
    {"security", 4719, "audit-policy-changed"},
    {"security", 4720, "added-user-account"},
    {"security", 4722, "enabled-user-account"},
    {"security", 4723, "changed-password"},
    {"security", 4724, "reset-password"},
    {"security", 4725, "disabled-user-account"},
    {"security", 4726, "deleted-user-account"},
    {"security", 4728, "added-member-to-group"},
    {"security", 4732, "added-member-to-group"},
    {"security", 4738, "modified-user-account"},
    {"security", 4740, "locked-out-user-account"},
    {"security", 4756, "added-member-to-group"},
    {"security", 4767, "unlocked-user-account"},
    {"security", 4768, "kerberos-authentication-ticket-requested"},
    {"security", 4769, "kerberos-service-ticket-requested"},
    {"security", 4771, "kerberos-preauth-failed"},
    {"security", 4776, "credential-validated"},
    {"security", 4778, "session-reconnected"},
    {"security", 4779, "session-disconnected"},
    {"security", 5136, "directory-service-object-modified"},
    {"security", 5140, "network-share-object-accessed"},
    {"security", 5145, "network-share-object-access-checked"},
    {"security", 5156, "network-connection-allowed"},
    {"security", 5157, "network-connection-blocked"},
    {"system", 104, "log-cleared"},
    {"system", 7034, "service-crashed"},
    {"system", 7036, "service-state-changed"},
    {"system", 7040, "service-start-type-changed"},
    {"system", 7045, "service-installed"},
    {"sysmon", 1, "process-created"},
    {"sysmon", 2, "file-creation-time-changed"},
    {"sysmon", 3, "network-connection"},
    {"sysmon", 4, "sysmon-state-changed"},
    {"sysmon", 5, "process-terminated"},
    {"sysmon", 6, "driver-loaded"},
    {"sysmon", 7, "image-loaded"},
    {"sysmon", 8, "remote-thread-created"},
    {"sysmon", 9, "raw-disk-read"},
    {"sysmon", 10, "process-accessed"},
    {"sysmon", 11, "file-created"},
    {"sysmon", 12, "registry-key-created-or-deleted"},
    {"sysmon", 13, "registry-value-set"},
    {"sysmon", 14, "registry-renamed"},
    {"sysmon", 15, "file-stream-created"},
    {"sysmon", 16, "sysmon-config-changed"},
    {"sysmon", 17, "pipe-created"},
    {"sysmon", 18, "pipe-connected"},
    {"sysmon", 19, "wmi-filter-registered"},
    {"sysmon", 20, "wmi-consumer-registered"},
    {"sysmon", 21, "wmi-binding-registered"},
    {"sysmon", 22, "dns-query"},
    {"sysmon", 23, "file-deleted"},
    {"sysmon", 24, "clipboard-changed"},
    {"sysmon", 25, "process-tampering"},
    {"sysmon", 26, "file-delete-logged"},
    {"sysmon", 27, "file-block-executable"},
    {"sysmon", 28, "file-block-shredding"},
    {"sysmon", 29, "file-executable-detected"},
    {"sysmon", 255, "sysmon-error"},
    {"powershell", 4103, "executed-pipeline"},
    {"powershell", 4104, "executed-script-block"},
    {"powershell-classic", 400, "engine-started"},
    {"powershell-classic", 403, "engine-stopped"},
    {"powershell-classic", 600, "provider-started"},
    {"powershell-classic", 800, "executed-pipeline"},
    {"windefend", 1116, "malware-detected"},
    {"windefend", 1117, "malware-action-taken"},
    {"windefend", 5001, "real-time-protection-disabled"},
    {"windefend", 5007, "configuration-changed"},
    {"taskscheduler", 106, "task-registered"},
    {"taskscheduler", 140, "task-updated"},
    {"taskscheduler", 141, "task-deleted"},
    {"taskscheduler", 142, "task-disabled"},
    {"taskscheduler", 200, "task-action-started"},
};

/* Security events without audit keywords in the export (flat lines): the
 * outcome their id implies. */
static const struct {
    uint32_t event_id;
    const char *outcome;
} security_outcomes[] = {
    {4624, "success"},
    {4625, "failure"},
    {4771, "failure"},
    {4740, "success"},
};

/* Security event ids whose actor is the Subject (account management,
 * directory changes): user.name is SubjectUserName, not the account acted
 * on. Inclusive ranges. */
static const struct {
    uint32_t lo, hi;
} subject_actor_ids[] = {
    {4720, 4767},
    {4780, 4782},
    {4793, 4794},
    {5136, 5141},
};

/* Keywords bits of the Security log. */
#define KW_AUDIT_FAILURE 0x0010000000000000ULL
#define KW_AUDIT_SUCCESS 0x0020000000000000ULL

/* ---- win_finish --------------------------------------------------------- */

/* The native fields win_finish() reads, found in one pass. */
enum slot {
    SL_EVENTID,
    SL_CHANNEL,
    SL_PROVIDER,
    SL_COMPUTER,
    SL_KEYWORDS,
    SL_EVENTTYPE,
    SL_TIMECREATED,
    SL_SYSTEMTIME,
    SL_AT_TIMESTAMP,
    SL_TIMEGENERATED,
    SL_EVENTTIME,
    SL_TIMESTAMP,
    SL_UTCTIME,
    SL_TARGETUSERNAME,
    SL_SUBJECTUSERNAME,
    SL_USER,
    SL_USERNAME,
    SL_IPADDRESS,
    SL_IPPORT,
    SL_SOURCEIP,
    SL_SOURCEPORT,
    SL_SOURCEADDRESS,
    SL_DESTINATIONIP,
    SL_DESTINATIONPORT,
    SL_DESTADDRESS,
    SL_DESTPORT,
    SL_COMMANDLINE,
    SL_TARGETFILENAME,
    SL_IMAGELOADED,
    SL_HASHES,
    SL_HASH,
    SL_QUERYNAME,
    SL_MESSAGE,
    SL__COUNT
};

static const char *const slot_names[SL__COUNT] = {
    [SL_EVENTID] = "EventID",
    [SL_CHANNEL] = "Channel",
    [SL_PROVIDER] = "Provider_Name",
    [SL_COMPUTER] = "Computer",
    [SL_KEYWORDS] = "Keywords",
    [SL_EVENTTYPE] = "EventType",
    [SL_TIMECREATED] = "TimeCreated",
    [SL_SYSTEMTIME] = "SystemTime",
    [SL_AT_TIMESTAMP] = "@timestamp",
    [SL_TIMEGENERATED] = "TimeGenerated",
    [SL_EVENTTIME] = "EventTime",
    [SL_TIMESTAMP] = "timestamp",
    [SL_UTCTIME] = "UtcTime",
    [SL_TARGETUSERNAME] = "TargetUserName",
    [SL_SUBJECTUSERNAME] = "SubjectUserName",
    [SL_USER] = "User",
    [SL_USERNAME] = "UserName",
    [SL_IPADDRESS] = "IpAddress",
    [SL_IPPORT] = "IpPort",
    [SL_SOURCEIP] = "SourceIp",
    [SL_SOURCEPORT] = "SourcePort",
    [SL_SOURCEADDRESS] = "SourceAddress",
    [SL_DESTINATIONIP] = "DestinationIp",
    [SL_DESTINATIONPORT] = "DestinationPort",
    [SL_DESTADDRESS] = "DestAddress",
    [SL_DESTPORT] = "DestPort",
    [SL_COMMANDLINE] = "CommandLine",
    [SL_TARGETFILENAME] = "TargetFilename",
    [SL_IMAGELOADED] = "ImageLoaded",
    [SL_HASHES] = "Hashes",
    [SL_HASH] = "Hash",
    [SL_QUERYNAME] = "QueryName",
    [SL_MESSAGE] = "Message",
};

static void find_slots(const struct event *ev, const struct field *s[SL__COUNT])
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        if (f->key.n < 4 || f->key.n > 16)
            continue;
        for (int k = 0; k < SL__COUNT; k++) {
            const char *nm = slot_names[k];
            if (nm[0] == f->key.p[0] && !s[k] && str_eq(f->key, nm)) {
                s[k] = f;
                break;
            }
        }
    }
}

/* A usable text value of a slot: present, not a JSON container, not "-". */
static bool slot_val(const struct field *f, struct str *out)
{
    if (!f || f->type == VT_JSON || f->type == VT_NULL || f->val.n == 0 || str_eq(f->val, "-"))
        return false;
    *out = f->val;
    return true;
}

static const char *lookup_service(const struct field *channel, const struct field *provider)
{
    struct str v;
    if (slot_val(channel, &v))
        for (size_t i = 0; i < sizeof(channel_services) / sizeof(channel_services[0]); i++)
            if (str_ieq(v, channel_services[i].channel))
                return channel_services[i].service;
    if (!channel && slot_val(provider, &v))
        for (size_t i = 0; i < sizeof(provider_services) / sizeof(provider_services[0]); i++)
            if (str_ieq(v, provider_services[i].provider))
                return provider_services[i].service;
    return NULL;
}

static const char *lookup_category(const char *service, uint32_t eid, const struct field *et)
{
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++) {
        if (categories[i].event_id != eid || strcmp(categories[i].service, service))
            continue;
        if (categories[i].event_type &&
            !(et && et->type == VT_STRING && str_eq(et->val, categories[i].event_type)))
            continue;
        return categories[i].category;
    }
    return NULL;
}

static const char *lookup_action(const char *service, uint32_t eid)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (actions[i].event_id == eid && !strcmp(actions[i].service, service))
            return actions[i].action;
    return NULL;
}

/* Keywords as "0x8020000000000000" or as a (possibly negative) decimal. */
static bool parse_keywords(struct str s, uint64_t *out)
{
    uint64_t v = 0;
    if (s.n > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
        if (s.n > 18)
            return false;
        for (size_t i = 2; i < s.n; i++) {
            char c = s.p[i];
            int h = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (h < 0)
                return false;
            v = v << 4 | (uint64_t)h;
        }
        *out = v;
        return true;
    }
    bool neg = s.n && s.p[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == s.n || s.n - i > 20)
        return false;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0'); /* wraps like the signed form */
    }
    *out = neg ? (uint64_t)0 - v : v;
    return true;
}

/* The largest epoch milliseconds int64 nanoseconds hold (year 2262). */
#define MAX_EPOCH_MS 9000000000000LL

/* "/Date(1709287200000)/" (.NET JSON), epoch seconds or milliseconds, or an
 * ISO 8601 time (zone-less: in tz, or UTC when tz is NULL). */
static bool parse_time(const struct field *f, struct tz_ctx *tz, int64_t *out)
{
    if (!f || f->val.n == 0)
        return false;
    struct str v = f->val;
    if (f->type == VT_STRING && str_starts(v, "/Date(")) {
        int64_t ms = 0;
        size_t i = 6;
        bool neg = i < v.n && v.p[i] == '-';
        if (neg)
            i++;
        size_t d0 = i;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i - d0 < 15)
            ms = ms * 10 + (v.p[i++] - '0');
        if (i == d0 || ms > MAX_EPOCH_MS)
            return false;
        *out = (neg ? -ms : ms) * 1000000;
        return true;
    }
    if (f->type == VT_NUMBER) {
        int64_t n = 0;
        size_t i = 0;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i < 15)
            n = n * 10 + (v.p[i++] - '0');
        if (i == 0 || n > MAX_EPOCH_MS || (n > 9000000000LL && n < 100000000000LL))
            return false; /* beyond int64 ns as seconds, too early as milliseconds */
        *out = n >= 100000000000LL ? n * 1000000 : n * NS_PER_SEC;
        return true;
    }
    if (f->type != VT_STRING)
        return false;
    return time_parse_iso(v.p, v.n, tz, out) >= 19;
}

/* The user name without a DOMAIN\ prefix. */
static struct str strip_domain(struct str u)
{
    for (size_t i = u.n; i > 0; i--)
        if (u.p[i - 1] == '\\')
            return str_make(u.p + i, u.n - i);
    return u;
}

static struct str basename_of(struct str path)
{
    for (size_t i = path.n; i > 0; i--)
        if (path.p[i - 1] == '\\' || path.p[i - 1] == '/')
            return str_make(path.p + i, path.n - i);
    return path;
}

/* An IPv4 address mapped into IPv6 ("::ffff:10.1.2.3") as plain IPv4. */
static struct str unmap_ip(struct str ip)
{
    if (ip.n > 7 && (str_starts(ip, "::ffff:") || str_starts(ip, "::FFFF:")) &&
        memchr(ip.p + 7, '.', ip.n - 7))
        return str_make(ip.p + 7, ip.n - 7);
    return ip;
}

/* Sysmon "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." into file.hash.*, lowercased. */
static void set_hashes(struct event *ev, struct str h)
{
    static const struct {
        const char *name;
        enum core_field f;
    } kinds[] = {
        {"MD5", CORE_FILE_HASH_MD5},
        {"SHA1", CORE_FILE_HASH_SHA1},
        {"SHA256", CORE_FILE_HASH_SHA256},
    };
    size_t i = 0;
    while (i < h.n) {
        size_t e = i;
        while (e < h.n && h.p[e] != ',')
            e++;
        struct str item = str_trim(str_make(h.p + i, e - i));
        const char *eq = memchr(item.p, '=', item.n);
        if (eq) {
            struct str k = str_make(item.p, (size_t)(eq - item.p));
            struct str v = str_make(eq + 1, item.n - k.n - 1);
            for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++) {
                if (!str_ieq(k, kinds[j].name) || v.n == 0)
                    continue;
                char *lo = arena_alloc(ev->arena, v.n + 1);
                for (size_t c = 0; c < v.n; c++)
                    lo[c] = (v.p[c] >= 'A' && v.p[c] <= 'Z') ? (char)(v.p[c] | 0x20) : v.p[c];
                lo[v.n] = '\0';
                event_set_core(ev, kinds[j].f, str_make(lo, v.n));
            }
        }
        i = e + 1;
    }
}

static void set_first(struct event *ev, enum core_field cf, const struct field *const *s,
                      const enum slot *order, size_t n)
{
    struct str v;
    for (size_t i = 0; i < n; i++) {
        if (slot_val(s[order[i]], &v)) {
            event_set_core(ev, cf, v);
            return;
        }
    }
}

static bool subject_is_actor(const char *service, uint32_t eid)
{
    if (!service || strcmp(service, "security"))
        return false;
    for (size_t i = 0; i < sizeof(subject_actor_ids) / sizeof(subject_actor_ids[0]); i++)
        if (eid >= subject_actor_ids[i].lo && eid <= subject_actor_ids[i].hi)
            return true;
    return false;
}

static void set_user(struct event *ev, const struct field *const *s, const char *service,
                     bool have_eid, uint32_t eid)
{
    static const enum slot target_first[] = {SL_TARGETUSERNAME, SL_SUBJECTUSERNAME, SL_USER,
                                             SL_USERNAME};
    static const enum slot subject_first[] = {SL_SUBJECTUSERNAME, SL_TARGETUSERNAME, SL_USER,
                                              SL_USERNAME};
    const enum slot *order =
        have_eid && subject_is_actor(service, eid) ? subject_first : target_first;
    struct str v;
    for (size_t i = 0; i < sizeof(target_first) / sizeof(target_first[0]); i++) {
        if (slot_val(s[order[i]], &v)) {
            v = strip_domain(v);
            event_set_core(ev, CORE_USER_NAME, v);
            return;
        }
    }
}

static void set_outcome(struct event *ev, const struct field *const *s, const char *service,
                        bool have_eid, uint32_t eid)
{
    struct str v;
    uint64_t kw;
    if (slot_val(s[SL_KEYWORDS], &v) && parse_keywords(v, &kw)) {
        if (kw & KW_AUDIT_FAILURE) {
            ev->core[CORE_EVENT_OUTCOME] = STR_LIT("failure");
            return;
        }
        if (kw & KW_AUDIT_SUCCESS) {
            ev->core[CORE_EVENT_OUTCOME] = STR_LIT("success");
            return;
        }
    }
    if (slot_val(s[SL_EVENTTYPE], &v)) {
        if (str_eq(v, "AUDIT_FAILURE")) {
            ev->core[CORE_EVENT_OUTCOME] = STR_LIT("failure");
            return;
        }
        if (str_eq(v, "AUDIT_SUCCESS")) {
            ev->core[CORE_EVENT_OUTCOME] = STR_LIT("success");
            return;
        }
    }
    if (!have_eid || !service || strcmp(service, "security"))
        return;
    for (size_t i = 0; i < sizeof(security_outcomes) / sizeof(security_outcomes[0]); i++)
        if (security_outcomes[i].event_id == eid)
            ev->core[CORE_EVENT_OUTCOME] =
                str_make(security_outcomes[i].outcome, strlen(security_outcomes[i].outcome));
}

static void set_time(struct decode_ctx *ctx, struct event *ev, const struct field *const *s)
{
    /* Windows times are UTC; only NXLog's EventTime is the collector's
     * local wall clock. UtcTime (Sysmon) is the last resort. */
    static const struct {
        enum slot slot;
        bool local;
    } order[] = {
        {SL_TIMECREATED, false},   {SL_SYSTEMTIME, false}, {SL_AT_TIMESTAMP, false},
        {SL_TIMEGENERATED, false}, {SL_EVENTTIME, true},   {SL_TIMESTAMP, false},
        {SL_UTCTIME, false},
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int64_t t;
        if (parse_time(s[order[i].slot], order[i].local ? &ctx->tz : NULL, &t)) {
            ev->ts_ns = t;
            return;
        }
    }
}

int win_finish(struct decode_ctx *ctx, struct event *ev)
{
    const struct field *s[SL__COUNT] = {0};
    find_slots(ev, s);
    if (!s[SL_EVENTID])
        return -EINVAL;
    uint32_t eid = 0;
    bool have_eid = s[SL_EVENTID]->type != VT_JSON && parse_u32(s[SL_EVENTID]->val, &eid);

    const char *service = lookup_service(s[SL_CHANNEL], s[SL_PROVIDER]);
    ev->ls.product = "windows";
    ev->ls.service = service;
    ev->ls.category = service && have_eid ? lookup_category(service, eid, s[SL_EVENTTYPE]) : NULL;

    set_time(ctx, ev, s);

    struct str v;
    if (slot_val(s[SL_COMPUTER], &v))
        event_set_core(ev, CORE_HOST_NAME, v);
    set_user(ev, s, service, have_eid, eid);

    static const enum slot src_ip[] = {SL_IPADDRESS, SL_SOURCEIP, SL_SOURCEADDRESS};
    for (size_t i = 0; i < 3; i++) {
        if (slot_val(s[src_ip[i]], &v)) {
            event_set_core(ev, CORE_SOURCE_IP, unmap_ip(v));
            break;
        }
    }
    static const enum slot src_port[] = {SL_IPPORT, SL_SOURCEPORT};
    for (size_t i = 0; i < 2; i++) {
        if (slot_val(s[src_port[i]], &v) && !str_eq(v, "0")) {
            event_set_core(ev, CORE_SOURCE_PORT, v);
            break;
        }
    }
    static const enum slot dst_ip[] = {SL_DESTINATIONIP, SL_DESTADDRESS};
    for (size_t i = 0; i < 2; i++) {
        if (slot_val(s[dst_ip[i]], &v)) {
            event_set_core(ev, CORE_DESTINATION_IP, unmap_ip(v));
            break;
        }
    }
    static const enum slot dst_port[] = {SL_DESTINATIONPORT, SL_DESTPORT};
    set_first(ev, CORE_DESTINATION_PORT, s, dst_port, 2);
    static const enum slot cmd[] = {SL_COMMANDLINE};
    set_first(ev, CORE_PROCESS_COMMAND_LINE, s, cmd, 1);
    if (slot_val(s[SL_TARGETFILENAME], &v) || slot_val(s[SL_IMAGELOADED], &v))
        event_set_core(ev, CORE_FILE_NAME, basename_of(v));
    if (slot_val(s[SL_HASHES], &v) || slot_val(s[SL_HASH], &v))
        set_hashes(ev, v);
    static const enum slot dns[] = {SL_QUERYNAME};
    set_first(ev, CORE_DNS_QUESTION_NAME, s, dns, 1);

    const char *action = service && have_eid ? lookup_action(service, eid) : NULL;
    if (action)
        ev->core[CORE_EVENT_ACTION] = str_make(action, strlen(action));
    else if (s[SL_EVENTID]->type != VT_JSON)
        event_set_core(ev, CORE_EVENT_ACTION, s[SL_EVENTID]->val);
    set_outcome(ev, s, service, have_eid, eid);

    if (!ev->message.n && slot_val(s[SL_MESSAGE], &v))
        ev->message = v;
    return 0;
}
