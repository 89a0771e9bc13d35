/*
 * bl-app.c - profiles of Microsoft 365 applications: when each was first
 * named, whether and whose mail it reads, and the consents given to it
 * (docs/baselines-accounts.md).
 *
 * An application is an app id (a GUID, lower-cased) named by any audit
 * record: AppId, ClientAppId, ApplicationId, AppAccessContext.ClientAppId,
 * and the targets of consent records. MailItemsAccessed records with an
 * app id are mail reads (the mailbox is MailboxOwnerUPN). Consents: "Consent
 * to application" (admin when ModifiedProperties ConsentContext.IsAdminConsent
 * is true), "Add app role assignment grant to user" and "Add app role
 * assignment to service principal" (admin), "Add delegated permission grant"
 * (admin when its ConsentType is AllPrincipals). The audit schema does not
 * name the application of those records in one place: the GUIDs of
 * ServicePrincipal.AppId and TargetId.ServicePrincipalNames count; when
 * neither holds one, the GUIDs of Target do. Service principals' object
 * ids ("ServicePrincipal_<guid>" in ObjectId or Target, and the same GUID
 * bare) are never applications.
 *
 * Facts (detector first-seen), only once the organisation's history (the
 * first M365 record) reaches the learning period:
 *   feature mail-read: an application known for the learning period that
 *     never read mail reads a mailbox: 1.2 (0.3 when an admin consent for it
 *     was seen within the learning period);
 *   feature mailbox: a new application (younger than the learning period)
 *     reads a mailbox: 1.0, 0.3 with an admin consent seen for it; a known
 *     mail-reading application reads a mailbox it never read: 0.3 (not when
 *     its set of mailboxes has overflowed, where "new" is not known).
 *   Microsoft's own mail clients (ms_mail_client) reading their owner's
 *   mailbox score 0.3 at most: they are the owner's client.
 * Facts on the application are told at most once an hour (the mailboxes
 * count in the sentence); a fact scored 1.0 or more is also told to the
 * mailbox owner's account (feature mailbox-reader), whose alert then names
 * the application.
 *
 * Memory: each application keeps the mailboxes it reads in a seen-set of
 * at most 64 x account.max_values (4096 by default); applications are few.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "baseline/bl-module.h"
#include "baseline/bl-table.h"
#include "util/timeconv.h"

#define APP_VERSION    1
#define ORG_VERSION    1
#define ORG_ENTITY     "(organisation)"
#define ID_MAX         256
#define FACT_GAP_S     3600
#define ALLOC_OVERHEAD 16

struct app {
    struct bl_tent t;
    uint32_t first;         /* first record naming it */
    uint32_t first_read;    /* first mail read, 0: never */
    uint32_t admin_consent; /* last admin consent seen, 0: none */
    uint32_t user_consent;  /* last user consent seen, 0: none */
    uint32_t reads;         /* MailItemsAccessed records (saturating) */
    uint32_t fact_t;        /* last mailbox fact (rate limit) */
    uint8_t read_score;     /* score x 10 of the first read, when it was a fact */
    struct bl_seen mailboxes;
};

struct app_mod {
    const struct bl_config *cfg;
    struct bl_labels *labels;
    struct bl_table tab;
    uint32_t org_first;
    bool org_dirty;
    struct bl_module_stats st;
};

static struct str ev_native(const struct event *ev, const char *key)
{
    const struct field *f = event_get(ev, key);
    return f ? f->val : (struct str){"", 0};
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A GUID at p (36 characters, 8-4-4-4-12), lower-cased into out[37]; the
 * all-zero GUID is not an application. */
static bool guid_at(const char *p, size_t n, char out[37])
{
    if (n < 36)
        return false;
    bool zero = true;
    for (size_t i = 0; i < 36; i++) {
        char c = p[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!is_hex(c)) {
            return false;
        } else if (c != '0') {
            zero = false;
        }
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    out[36] = '\0';
    return !zero;
}

static bool guid_exact(struct str s, char out[37])
{
    return s.n == 36 && guid_at(s.p, s.n, out);
}

static void app_free(struct app *a)
{
    if (!a)
        return;
    bl_seen_free(&a->mailboxes);
    free(a->t.id);
    free(a);
}

static struct app *app_new(struct app_mod *m, const char *id, size_t n)
{
    struct app *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->t.id = strndup(id, n);
    if (!a->t.id) {
        free(a);
        return NULL;
    }
    a->t.h = bl_hash(id, n);
    uint32_t lim = m->cfg->account.max_values ? m->cfg->account.max_values : 64;
    bl_seen_init(&a->mailboxes, lim > UINT32_MAX / 64 ? UINT32_MAX : lim * 64);
    return a;
}

static void make_room(struct app_mod *m)
{
    uint32_t max = m->cfg->max_entities ? m->cfg->max_entities : 1;
    while (m->tab.n >= max && m->tab.oldest) {
        struct app *old = (struct app *)m->tab.oldest;
        bl_table_remove(&m->tab, &old->t);
        app_free(old);
        m->st.evicted++;
    }
}

/* The application id (a lower-cased GUID), created at t when absent. */
static struct app *app_touch(struct app_mod *m, const char *id, uint32_t t)
{
    struct app *a = (struct app *)bl_table_get(&m->tab, id, 36);
    if (!a) {
        make_room(m);
        a = app_new(m, id, 36);
        if (!a)
            return NULL;
        a->first = t;
        a->t.last = t;
        if (bl_table_insert(&m->tab, &a->t) < 0) {
            app_free(a);
            return NULL;
        }
    }
    if (t < a->first)
        a->first = t;
    bl_table_touch(&m->tab, &a->t, t);
    a->t.dirty = true;
    return a;
}

static int emit(struct app_mod *m, struct bl_ctx *ctx, const struct event *ev, enum bl_kind kind,
                const char *entity, const char *feature, const char *value, const char *app,
                double score, const char *fmt, ...) __attribute__((format(printf, 10, 11)));

static int emit(struct app_mod *m, struct bl_ctx *ctx, const struct event *ev, enum bl_kind kind,
                const char *entity, const char *feature, const char *value, const char *app,
                double score, const char *fmt, ...)
{
    char text[512], net[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct str ip = ev->core[CORE_SOURCE_IP];
    struct bl_addr addr;
    const char *network = NULL;
    if (ip.n && bl_addr_parse(ip.p, ip.n, &addr)) {
        bl_addr_net(&addr, net);
        network = net;
    }
    struct bl_fact f = {
        .kind = kind,
        .entity = entity,
        .detector = BL_DET_FIRST_SEEN,
        .feature = feature,
        .value = value,
        .network = network,
        .application = app,
        .score = score,
        .text = text,
        .tags = "T1114.002,T1528",
        .ev = ev,
    };
    m->st.facts++;
    return bl_emit(ctx, &f);
}

static uint32_t days_between(uint32_t a, uint32_t b)
{
    return b > a ? (b - a) / 86400u : 0;
}

/* Microsoft's own mail clients: Exchange Online (Outlook on the web),
 * Microsoft Office (Outlook for Windows), Microsoft Outlook, One Outlook
 * Web, Outlook Mobile, Microsoft Teams. Every tenant's users read their
 * mail through them; when the mailbox's owner does, the application is the
 * owner's client (the account's profile judges it), not an application
 * reading mail of its own. */
static bool ms_mail_client(const char *id)
{
    static const char *const ids[] = {
        "00000002-0000-0ff1-ce00-000000000000", "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "5d661950-3475-41cd-a2c3-d671a3162bc1", "9199bf20-a13f-4107-85dc-02114787ef48",
        "27922004-5251-4030-b22d-91ecd9a37ea4", "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!strcmp(id, ids[i]))
            return true;
    return false;
}

/* Application a reads mailbox mb (lower-cased) at t; client: the owner
 * reads it through one of Microsoft's mail clients (a fact of 0.3 at most:
 * the timeline keeps it, the account's profile judges the access). */
static int app_reads(struct app_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t,
                     struct app *a, const char *mb, size_t mbn, bool client)
{
    int64_t learning = m->cfg->learning_s;
    bool never = a->first_read == 0;
    if (never)
        a->first_read = t;
    if (a->reads < UINT32_MAX)
        a->reads++;
    int isnew =
        bl_seen_touch(&a->mailboxes, bl_hash(mb, mbn), t, bl_label(m->labels, mb, mbn), NULL);
    if ((int64_t)t - (int64_t)m->org_first < learning)
        return 0;
    bool old = (int64_t)t - (int64_t)a->first >= learning;
    const char *id = a->t.id;
    double score;
    int rc;
    if (never && old) {
        bool admin = a->admin_consent && (int64_t)t - (int64_t)a->admin_consent < learning;
        score = admin || client ? 0.3 : 1.2;
        a->fact_t = t;
        a->read_score = admin || client ? 3 : 12;
        rc = emit(m, ctx, ev, BL_APPLICATION, id, "mail-read", mb, id, score,
                  "application %s, named in the audit log for %u days, had never read mail; "
                  "it now reads the mailbox of %s%s",
                  id, days_between(a->first, t), mb,
                  admin    ? " (an admin consent for it was seen recently)"
                  : client ? " (its owner, through a Microsoft mail client)"
                           : "");
    } else if (isnew == 1 && a->read_score >= 10 &&
               (int64_t)t - (int64_t)a->first_read <
                   (m->cfg->window_s > 0 ? m->cfg->window_s : 3600)) {
        /* the mailboxes read right after a first read count as much */
        score = a->read_score / 10.0;
        a->fact_t = t;
        rc = emit(m, ctx, ev, BL_APPLICATION, id, "mail-read", mb, id, score,
                  "application %s, which had never read mail before %u minutes ago, reads "
                  "another mailbox, %s (%u mailboxes)",
                  id, (t - a->first_read) / 60u, mb, a->mailboxes.n);
    } else if (isnew == 1 && !old) {
        score = a->admin_consent || client ? 0.3 : 1.0;
        if (score < 1.0 && a->fact_t && t < a->fact_t + FACT_GAP_S)
            return 0;
        a->fact_t = t;
        rc = emit(m, ctx, ev, BL_APPLICATION, id, "mailbox", mb, id, score,
                  "new application %s (first named %u days ago, %s) reads the mailbox of %s "
                  "(%u mailboxes so far)",
                  id, days_between(a->first, t),
                  a->admin_consent  ? "with an admin consent"
                  : a->user_consent ? "with a user's consent only"
                                    : "no consent seen for it",
                  mb, a->mailboxes.n);
    } else if (isnew == 1 && !a->mailboxes.evicted) {
        score = 0.3;
        if (a->fact_t && t < a->fact_t + FACT_GAP_S)
            return 0;
        a->fact_t = t;
        rc = emit(m, ctx, ev, BL_APPLICATION, id, "mailbox", mb, id, score,
                  "application %s, reading mail for %u days, reads a new mailbox, %s (%u "
                  "mailboxes)",
                  id, days_between(a->first_read, t), mb, a->mailboxes.n);
    } else {
        return 0;
    }
    if (rc < 0 || score < 1.0)
        return rc;
    return emit(m, ctx, ev, BL_ACCOUNT, mb, "mailbox-reader", id, id, score,
                "the mailbox of %s is read by application %s, %s", mb, id,
                old ? "which had never read mail before" : "new and without an admin consent");
}

/* The service principals' object ids a consent record names
 * ("ServicePrincipal_<guid>"): a record may name the same id bare too,
 * and it is not an application id. */
struct sp_ids {
    char v[8][37];
    int n;
};

static void sp_ids_of(struct str s, struct sp_ids *sp)
{
    static const char pre[] = "ServicePrincipal_";
    const size_t np = sizeof(pre) - 1;
    for (const char *p = s.p; s.n && (p = memmem(p, (size_t)(s.p + s.n - p), pre, np));) {
        p += np;
        char id[37];
        if (sp->n < 8 && guid_at(p, (size_t)(s.p + s.n - p), id))
            memcpy(sp->v[sp->n++], id, 37);
    }
}

/* Every GUID in s that is not a service principal's object id is a
 * consented application; returns how many. */
static int consent_guids(struct app_mod *m, struct str s, uint32_t t, bool admin,
                         const struct sp_ids *sp)
{
    int found = 0;
    for (size_t i = 0; i + 36 <= s.n; i++) {
        char id[37];
        if ((i && is_hex(s.p[i - 1])) || !guid_at(s.p + i, s.n - i, id))
            continue;
        i += 35;
        bool is_sp = false;
        for (int k = 0; k < sp->n && !is_sp; k++)
            is_sp = !strcmp(sp->v[k], id);
        if (is_sp)
            continue;
        found++;
        struct app *a = app_touch(m, id, t);
        if (a) {
            if (admin)
                a->admin_consent = t;
            else
                a->user_consent = t;
        }
    }
    return found;
}

static bool prefix(struct str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && !strncasecmp(s.p, lit, n);
}

static bool value_true(struct str v)
{
    while (v.n && (v.p[0] == '"' || v.p[0] == ' '))
        v.p++, v.n--;
    return v.n >= 4 && !strncasecmp(v.p, "true", 4);
}

static void on_consent(struct app_mod *m, const struct event *ev, uint32_t t, struct str op)
{
    int kind = 0; /* 1: user, 2: admin */
    if (prefix(op, "Consent to application"))
        kind =
            value_true(ev_native(ev, "ModifiedProperties.ConsentContext.IsAdminConsent.NewValue"))
                ? 2
                : 1;
    else if (prefix(op, "Add app role assignment grant to user") ||
             prefix(op, "Add app role assignment to service principal"))
        kind = 2;
    else if (prefix(op, "Add delegated permission grant")) {
        struct str ct =
            ev_native(ev, "ModifiedProperties.DelegatedPermissionGrant.ConsentType.NewValue");
        kind = ct.n && memmem(ct.p, ct.n, "AllPrincipals", 13) ? 2 : 1;
    }
    if (!kind)
        return;
    struct sp_ids sp = {.n = 0};
    sp_ids_of(ev_native(ev, "ObjectId"), &sp);
    sp_ids_of(ev_native(ev, "Target"), &sp);
    /* the application's id where the record names it as such; else the
     * GUIDs of the target that are not service principals' object ids */
    int found = consent_guids(
        m, ev_native(ev, "ModifiedProperties.ServicePrincipal.AppId.NewValue"), t, kind == 2, &sp);
    found += consent_guids(
        m, ev_native(ev, "ModifiedProperties.TargetId.ServicePrincipalNames.NewValue"), t,
        kind == 2, &sp);
    if (!found)
        consent_guids(m, ev_native(ev, "Target"), t, kind == 2, &sp);
}

static int app_on_event(void *mv, struct bl_ctx *ctx, const struct event *ev)
{
    struct app_mod *m = mv;
    uint32_t t = bl_time(ev->ts_ns);
    if (!t || !ev->format || strcmp(ev->format, "m365"))
        return 0;
    if (!m->org_first || t < m->org_first) {
        m->org_first = t;
        m->org_dirty = true;
    }
    struct str op = ev->core[CORE_EVENT_ACTION];
    static const char *const keys[] = {"AppId", "ClientAppId", "ApplicationId",
                                       "AppAccessContext.ClientAppId"};
    char ids[4][37];
    int nids = 0;
    for (size_t i = 0; i < 4; i++) {
        char id[37];
        if (!guid_exact(ev_native(ev, keys[i]), id))
            continue;
        bool dup = false;
        for (int k = 0; k < nids; k++)
            dup |= !strcmp(ids[k], id);
        if (!dup)
            memcpy(ids[nids++], id, 37);
    }
    for (int k = 0; k < nids; k++)
        if (!app_touch(m, ids[k], t))
            return -ENOMEM;
    on_consent(m, ev, t, op);
    if (!str_eq(op, "MailItemsAccessed") || str_eq(ev->core[CORE_EVENT_OUTCOME], "failure"))
        return 0;
    char mb[ID_MAX];
    struct str owner = ev_native(ev, "MailboxOwnerUPN");
    if (!owner.n)
        owner = ev_native(ev, "MailboxGuid");
    if (!owner.n || owner.n >= sizeof mb)
        return 0;
    for (size_t i = 0; i < owner.n; i++)
        mb[i] = owner.p[i] >= 'A' && owner.p[i] <= 'Z' ? (char)(owner.p[i] + 32) : owner.p[i];
    mb[owner.n] = '\0';
    /* the owner reading their own mailbox */
    struct str uid = ev->core[CORE_USER_NAME];
    bool own = uid.n == owner.n && !strncasecmp(uid.p, owner.p, uid.n);
    /* the readers: AppId and ClientAppId (ApplicationId is a sign-in's) */
    for (int k = 0; k < nids; k++) {
        struct app *a = (struct app *)bl_table_get(&m->tab, ids[k], 36);
        if (!a)
            continue;
        bool reader = false;
        char id[37];
        reader |= guid_exact(ev_native(ev, "AppId"), id) && !strcmp(id, ids[k]);
        reader |= guid_exact(ev_native(ev, "ClientAppId"), id) && !strcmp(id, ids[k]);
        if (!reader)
            continue;
        int rc = app_reads(m, ctx, ev, t, a, mb, owner.n, own && ms_mail_client(ids[k]));
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- module ------------------------------------------------------------- */

static void *app_create(const struct bl_config *c, struct bl_labels *labels)
{
    struct app_mod *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = c;
    m->labels = labels;
    bl_table_init(&m->tab);
    return m;
}

static void app_destroy(void *mv)
{
    struct app_mod *m = mv;
    if (!m)
        return;
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos)))
        app_free((struct app *)e);
    bl_table_free(&m->tab);
    free(m);
}

static void app_write(const struct app_mod *m, const struct app *a, struct buf *b);
static void app_write_tent(const void *m, const struct bl_tent *e, struct buf *b)
{
    app_write(m, (const struct app *)e, b);
}

static void app_write(const struct app_mod *m, const struct app *a, struct buf *b)
{
    bl_w_u64(b, APP_VERSION);
    bl_w_u64(b, a->first);
    bl_w_u64(b, a->t.last);
    bl_w_u64(b, a->first_read);
    bl_w_u64(b, a->admin_consent);
    bl_w_u64(b, a->user_consent);
    bl_w_u64(b, a->reads);
    bl_w_u64(b, a->fact_t);
    bl_w_u64(b, a->read_score);
    bl_seen_write(b, &a->mailboxes, m->labels);
}

static int app_save(void *mv, bool all,
                    int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                               size_t n),
                    void *o)
{
    struct app_mod *m = mv;
    struct buf b;
    buf_init(&b);
    int rc = 0;
    if (m->org_first && (all || m->org_dirty)) {
        bl_w_u64(&b, ORG_VERSION);
        bl_w_u64(&b, m->org_first);
        rc = put(o, BL_APPLICATION, ORG_ENTITY, b.data, b.len);
        m->org_dirty = false;
    }
    if (rc == 0)
        rc = bl_table_save(&m->tab, all, BL_APPLICATION, app_write_tent, m, put, o, &b);
    buf_free(&b);
    return rc;
}

static int app_load(void *mv, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct app_mod *m = mv;
    if (kind != BL_APPLICATION || !entity)
        return -EINVAL;
    struct bl_r r;
    bl_r_init(&r, blob, n);
    if (!strcmp(entity, ORG_ENTITY)) {
        if (bl_r_u64(&r) != ORG_VERSION)
            return -EINVAL;
        uint32_t first = bl_r_u32(&r);
        if (r.bad || r.p != r.end || !first)
            return -EINVAL;
        if (!m->org_first || first < m->org_first)
            m->org_first = first;
        return 0;
    }
    char id[37];
    if (!guid_exact(str_make(entity, strlen(entity)), id) || strcmp(id, entity))
        return -EINVAL;
    if (bl_r_u64(&r) != APP_VERSION)
        return -EINVAL;
    struct app *a = app_new(m, id, 36);
    if (!a)
        return -ENOMEM;
    a->first = bl_r_u32(&r);
    a->t.last = bl_r_u32(&r);
    a->first_read = bl_r_u32(&r);
    a->admin_consent = bl_r_u32(&r);
    a->user_consent = bl_r_u32(&r);
    a->reads = bl_r_u32(&r);
    a->fact_t = bl_r_u32(&r);
    uint64_t rs = bl_r_u64(&r);
    if (rs > 12)
        r.bad = true;
    a->read_score = (uint8_t)rs;
    bl_seen_read(&r, &a->mailboxes, m->labels);
    if (r.bad || r.p != r.end || !a->first || a->t.last < a->first) {
        app_free(a);
        return -EINVAL;
    }
    struct app *old = (struct app *)bl_table_get(&m->tab, id, 36);
    if (old) {
        bl_table_remove(&m->tab, &old->t);
        app_free(old);
    }
    make_room(m);
    if (bl_table_insert(&m->tab, &a->t) < 0) {
        app_free(a);
        return -ENOMEM;
    }
    if (!m->org_first || a->first < m->org_first)
        m->org_first = a->first;
    return 0;
}

static void put_time(struct buf *b, const char *name, uint32_t t)
{
    buf_printf(b, "\"%s\":", name);
    json_put_time(b, t ? (int64_t)t * NS_PER_SEC : TIME_NONE);
}

static int app_show(void *mv, enum bl_kind kind, const char *entity, struct buf *json)
{
    struct app_mod *m = mv;
    if (kind != BL_APPLICATION || !entity)
        return 0;
    if (!strcmp(entity, ORG_ENTITY)) {
        if (!m->org_first)
            return 0;
        put_time(json, "history_start", m->org_first);
        buf_printf(json, ",\"applications\":%u", m->tab.n);
        return 1;
    }
    char id[37];
    if (!guid_exact(str_make(entity, strlen(entity)), id))
        return 0;
    struct app *a = (struct app *)bl_table_get(&m->tab, id, 36);
    if (!a)
        return 0;
    put_time(json, "history_start", a->first);
    buf_putc(json, ',');
    put_time(json, "last_seen", a->t.last);
    buf_printf(json, ",\"reads_mail\":%s,", a->first_read ? "true" : "false");
    put_time(json, "first_mail_read", a->first_read);
    buf_printf(json, ",\"mail_reads\":%u,", a->reads);
    put_time(json, "admin_consent", a->admin_consent);
    buf_putc(json, ',');
    put_time(json, "user_consent", a->user_consent);
    buf_printf(json, ",\"mailboxes_overflowed\":%s,\"mailboxes_read\":[",
               a->mailboxes.evicted ? "true" : "false");
    size_t n;
    struct bl_seen_ent *v = bl_seen_sorted(&a->mailboxes, &n);
    for (size_t i = 0; i < n; i++) {
        const char *lab = bl_label_text(m->labels, v[i].label);
        buf_puts(json, i ? ",{\"value\":" : "{\"value\":");
        json_put_string(json, lab, strlen(lab));
        buf_putc(json, ',');
        put_time(json, "first", v[i].first);
        buf_putc(json, ',');
        put_time(json, "last", v[i].last);
        buf_printf(json, ",\"count\":%u}", v[i].count);
    }
    free(v);
    buf_putc(json, ']');
    return 1;
}

static void app_age(void *mv, uint32_t before)
{
    struct app_mod *m = mv;
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos))) {
        struct app *a = (struct app *)e;
        if (a->t.last < before) {
            bl_table_remove_at(&m->tab, &pos);
            app_free(a);
            m->st.aged++;
            continue;
        }
        uint32_t n0 = a->mailboxes.n;
        bl_seen_age(&a->mailboxes, before);
        if (a->mailboxes.n != n0)
            a->t.dirty = true;
    }
}

static void app_stats(void *mv, struct bl_module_stats *st)
{
    struct app_mod *m = mv;
    *st = m->st;
    st->entities = m->tab.n;
    uint64_t bytes = sizeof *m + bl_table_bytes(&m->tab);
    uint32_t pos = 0;
    struct bl_tent *e;
    while ((e = bl_table_next(&m->tab, &pos))) {
        const struct app *a = (const struct app *)e;
        bytes += sizeof *a + 37 + 2 * ALLOC_OVERHEAD;
        if (a->mailboxes.size)
            bytes += bl_seen_bytes(&a->mailboxes) + ALLOC_OVERHEAD;
    }
    st->bytes = bytes;
}

const struct bl_module_ops bl_application_module = {
    .name = "application",
    .create = app_create,
    .destroy = app_destroy,
    .on_event = app_on_event,
    .save = app_save,
    .load = app_load,
    .show = app_show,
    .age = app_age,
    .stats = app_stats,
};
