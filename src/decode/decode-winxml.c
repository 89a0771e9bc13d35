/*
 * decode-winxml.c - a small, strict reader for the XML rendering of one
 * Windows event (<Event><System>..</System><EventData>..</EventData></Event>),
 * as libevtx renders EVTX records and as Windows itself exports events.
 *
 * It is not a general XML parser: no DTDs, no namespaces beyond dropping
 * xmlns declarations, no character sets other than UTF-8. What it checks is
 * structure: every tag balanced, element and attribute names ASCII
 * ([A-Za-z_][A-Za-z0-9_.:-]*), attribute values quoted, one root named
 * Event, nothing but white space after it, nesting at most 32 deep. That is
 * enough to refuse the garbage that damaged or recovered EVTX records render
 * to, while text content is taken as it is (any bytes; the five predefined
 * entities and numeric references are decoded, unknown entities kept
 * literally), because a command line is evidence and must not be lost to a
 * stray byte.
 *
 * One rendering habit is undone: libevtx writes HexInt32/HexInt64 values
 * zero-padded to 8/16 digits ("0x00000000001fffff"), where Windows and every
 * exporter write "0x1fffff", the form Sigma rules match (GrantedAccess:
 * '0x1fffff'). EventData and UserData values that are "0x" and exactly 8 or
 * 16 hex digits with a leading zero lose their leading zeros; System values
 * (Keywords) are left alone.
 *
 * Values are zero-copy slices of ev->raw unless they hold entities, CDATA or
 * comments, in which case they are decoded into the event's arena. Each value
 * goes to win_add_*() (decode-windows.h), which owns the field names, so an
 * event read from XML has exactly the fields of the same event read from
 * JSON.
 */
#include "decode/decode-windows.h"
#include "util/utf8.h"

#include <errno.h>
#include <string.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_NAME  256

enum part { PART_NONE, PART_SYSTEM, PART_EVENTDATA, PART_RENDERING, PART_OTHER };

struct frame {
    struct str name;
    size_t content;       /* offset of the first byte after the start tag */
    bool has_child;       /* an element started inside this one */
    bool needs_decode;    /* the content holds entities, CDATA or comments */
    struct str data_name; /* <Data Name="..">, in EventData */
    bool has_data_name;
};

struct xr {
    const char *s;
    size_t n, i;
    struct event *ev;
    int depth; /* number of open elements */
    enum part part;
    struct frame st[XML_MAX_DEPTH];
    struct win_data_list list;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-';
}

static void skip_space(struct xr *x)
{
    while (x->i < x->n && is_space(x->s[x->i]))
        x->i++;
}

static int read_name(struct xr *x, struct str *out)
{
    size_t b = x->i;
    if (x->i >= x->n || !name_start(x->s[x->i]))
        return -EINVAL;
    while (x->i < x->n && name_char(x->s[x->i]))
        x->i++;
    if (x->i - b > XML_MAX_NAME)
        return -EINVAL;
    *out = str_make(x->s + b, x->i - b);
    return 0;
}

/* Position of lit at or after from, or n. */
static size_t find(const char *s, size_t n, size_t from, const char *lit)
{
    struct str hay = str_make(s + from, from <= n ? n - from : 0);
    long at = str_find(hay, lit);
    return at < 0 ? n : from + (size_t)at;
}

/* Decode the entity at s[i] ('&'): writes its text to o (at most 4 bytes)
 * and returns the bytes consumed, or 0 if it is not a known entity. */
static size_t decode_entity(const char *s, size_t n, size_t i, char *o, size_t *olen)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
        size_t l = strlen(named[k].name);
        if (i + l <= n && !memcmp(s + i, named[k].name, l)) {
            o[0] = named[k].c;
            *olen = 1;
            return l;
        }
    }
    if (i + 3 < n && s[i + 1] == '#') {
        bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
        size_t j = i + (hex ? 3 : 2);
        uint32_t cp = 0;
        size_t digits = 0;
        while (j < n && digits < 8) {
            char c = s[j];
            int d = c >= '0' && c <= '9'          ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
            if (d < 0)
                break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)d;
            j++;
            digits++;
        }
        if (digits && j < n && s[j] == ';' && cp > 0 && cp <= 0x10FFFF &&
            !(cp >= 0xD800 && cp <= 0xDFFF)) {
            *olen = utf8_put(o, cp);
            return j + 1 - i;
        }
    }
    return 0;
}

/* Decode s[b..e) (text with entities, CDATA sections, comments and
 * processing instructions) into the arena. */
static struct str decode_text(struct xr *x, size_t b, size_t e)
{
    char *o = arena_alloc(x->ev->arena, e - b + 1);
    size_t ol = 0, i = b;
    while (i < e) {
        char c = x->s[i];
        if (c == '&') {
            size_t l, used = decode_entity(x->s, e, i, o + ol, &l);
            if (used) {
                ol += l;
                i += used;
                continue;
            }
        } else if (c == '<') {
            if (e - i >= 9 && !memcmp(x->s + i, "<![CDATA[", 9)) {
                size_t end = find(x->s, e, i + 9, "]]>");
                memcpy(o + ol, x->s + i + 9, end - i - 9);
                ol += end - i - 9;
                i = end + 3;
                continue;
            }
            if (e - i >= 4 && !memcmp(x->s + i, "<!--", 4)) {
                i = find(x->s, e, i + 4, "-->") + 3;
                continue;
            }
            if (e - i >= 2 && x->s[i + 1] == '?') {
                i = find(x->s, e, i + 2, "?>") + 2;
                continue;
            }
        }
        o[ol++] = c;
        i++;
    }
    o[ol] = '\0';
    return str_make(o, ol);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "0x00000000001fffff" -> "0x1fffff" (see the top of the file). */
static struct str unpad_hex(struct xr *x, struct str v)
{
    if ((v.n != 10 && v.n != 18) || v.p[0] != '0' || v.p[1] != 'x' || v.p[2] != '0')
        return v;
    size_t z = 2;
    for (size_t i = 2; i < v.n; i++)
        if (!is_hex(v.p[i]))
            return v;
    while (z < v.n - 1 && v.p[z] == '0')
        z++;
    char *o = arena_alloc(x->ev->arena, v.n - z + 3);
    o[0] = '0';
    o[1] = 'x';
    memcpy(o + 2, v.p + z, v.n - z);
    o[v.n - z + 2] = '\0';
    return str_make(o, v.n - z + 2);
}

/* An attribute was read on the element at the top of the stack. */
static void on_attr(struct xr *x, struct str name, struct str val)
{
    struct frame *f = &x->st[x->depth - 1];
    struct event *ev = x->ev;
    int d = x->depth - 1; /* 0: Event, 1: a part */
    if (d == 0 || x->part == PART_RENDERING)
        return;
    if (d == 1) {
        win_add_leaf(ev, f->name, name, val, VT_STRING);
    } else if (d == 2 && x->part == PART_SYSTEM) {
        win_add_system(ev, f->name, name, val, VT_STRING);
    } else if (d == 2 && x->part == PART_EVENTDATA) {
        if (str_eq(f->name, "Data") && str_eq(name, "Name")) {
            f->data_name = val;
            f->has_data_name = true;
        }
    } else {
        win_add_leaf(ev, f->name, name, val, VT_STRING);
    }
}

static void on_start(struct xr *x, struct str name)
{
    if (x->depth == 2) {
        x->part = str_eq(name, "System")          ? PART_SYSTEM
                  : str_eq(name, "EventData")     ? PART_EVENTDATA
                  : str_eq(name, "RenderingInfo") ? PART_RENDERING
                                                  : PART_OTHER;
    }
}

/* The element at the top of the stack ends; its content is s[content..e). */
static void on_end(struct xr *x, size_t e)
{
    struct frame *f = &x->st[x->depth - 1];
    struct event *ev = x->ev;
    int d = x->depth - 1;
    struct str none = {NULL, 0};
    if (d == 0)
        return;
    if (f->has_child) {
        if (d == 1 && x->part == PART_EVENTDATA)
            win_data_list_flush(ev, &x->list);
        return;
    }
    struct str text = f->needs_decode ? decode_text(x, f->content, e)
                                      : str_make(x->s + f->content, e - f->content);
    if (x->part == PART_EVENTDATA || x->part == PART_OTHER)
        text = unpad_hex(x, text);
    if (d == 1) {
        if (text.n && x->part != PART_SYSTEM && x->part != PART_RENDERING)
            win_add_leaf(ev, f->name, none, text, VT_STRING);
        return;
    }
    switch (x->part) {
    case PART_SYSTEM:
        if (d == 2)
            win_add_system(ev, f->name, none, text, VT_STRING);
        else
            win_add_leaf(ev, f->name, none, text, VT_STRING);
        break;
    case PART_EVENTDATA:
        if (d == 2 && str_eq(f->name, "Data")) {
            if (f->has_data_name)
                win_add_data(ev, f->data_name, text, VT_STRING);
            else
                win_data_list_push(ev, &x->list, text);
        } else if (d == 2) {
            win_add_data(ev, f->name, text, VT_STRING);
        } else {
            win_add_leaf(ev, f->name, none, text, VT_STRING);
        }
        break;
    case PART_RENDERING:
        if (d == 2 && str_eq(f->name, "Message"))
            ev->message = text;
        break;
    default:
        win_add_leaf(ev, f->name, none, text, VT_STRING);
    }
}

/* Read the attributes of a start tag up to '>' or "/>". */
static int read_attrs(struct xr *x, bool *self_closing)
{
    for (;;) {
        bool had_space = x->i < x->n && is_space(x->s[x->i]);
        skip_space(x);
        if (x->i >= x->n)
            return -EINVAL;
        char c = x->s[x->i];
        if (c == '>') {
            x->i++;
            *self_closing = false;
            return 0;
        }
        if (c == '/') {
            if (x->i + 1 >= x->n || x->s[x->i + 1] != '>')
                return -EINVAL;
            x->i += 2;
            *self_closing = true;
            return 0;
        }
        struct str name;
        if (!had_space || read_name(x, &name) < 0)
            return -EINVAL;
        skip_space(x);
        if (x->i >= x->n || x->s[x->i] != '=')
            return -EINVAL;
        x->i++;
        skip_space(x);
        if (x->i >= x->n || (x->s[x->i] != '"' && x->s[x->i] != '\''))
            return -EINVAL;
        char q = x->s[x->i++];
        size_t b = x->i;
        bool amp = false;
        while (x->i < x->n && x->s[x->i] != q) {
            if (x->s[x->i] == '<')
                return -EINVAL;
            amp |= x->s[x->i] == '&';
            x->i++;
        }
        if (x->i >= x->n)
            return -EINVAL;
        struct str val = amp ? decode_text(x, b, x->i) : str_make(x->s + b, x->i - b);
        x->i++;
        on_attr(x, name, val);
    }
}

/* Skip what may stand outside the root: white space, NULs, comments, the
 * XML declaration and processing instructions. */
static int skip_misc(struct xr *x)
{
    for (;;) {
        while (x->i < x->n && (is_space(x->s[x->i]) || x->s[x->i] == '\0'))
            x->i++;
        if (x->n - x->i >= 4 && !memcmp(x->s + x->i, "<!--", 4)) {
            size_t e = find(x->s, x->n, x->i + 4, "-->");
            if (e == x->n)
                return -EINVAL;
            x->i = e + 3;
        } else if (x->n - x->i >= 2 && !memcmp(x->s + x->i, "<?", 2)) {
            size_t e = find(x->s, x->n, x->i + 2, "?>");
            if (e == x->n)
                return -EINVAL;
            x->i = e + 2;
        } else {
            return 0;
        }
    }
}

static int parse(struct xr *x)
{
    if (x->n >= 3 && !memcmp(x->s, "\xEF\xBB\xBF", 3))
        x->i = 3;
    if (skip_misc(x) < 0)
        return -EINVAL;
    bool root_done = false;
    while (x->i < x->n) {
        if (root_done)
            return skip_misc(x) < 0 || x->i < x->n ? -EINVAL : 0;
        char c = x->s[x->i];
        if (c != '<') {
            if (x->depth == 0)
                return -EINVAL; /* text outside the root */
            size_t lt = find(x->s, x->n, x->i, "<");
            if (memchr(x->s + x->i, '&', lt - x->i))
                x->st[x->depth - 1].needs_decode = true;
            x->i = lt;
            continue;
        }
        if (x->i + 1 >= x->n)
            return -EINVAL;
        char c1 = x->s[x->i + 1];
        if (c1 == '/') {
            x->i += 2;
            struct str name;
            size_t end_at = x->i - 2;
            if (x->depth == 0 || read_name(x, &name) < 0)
                return -EINVAL;
            skip_space(x);
            if (x->i >= x->n || x->s[x->i] != '>')
                return -EINVAL;
            x->i++;
            struct frame *f = &x->st[x->depth - 1];
            if (name.n != f->name.n || memcmp(name.p, f->name.p, name.n))
                return -EINVAL; /* not the element that is open */
            on_end(x, end_at);
            x->depth--;
            root_done = x->depth == 0;
            continue;
        }
        if (c1 == '!' || c1 == '?') {
            const char *open = c1 == '?' ? "<?" : "<!--";
            const char *close = c1 == '?' ? "?>" : "-->";
            size_t ol = strlen(open);
            if (c1 == '!' && x->n - x->i >= 9 && !memcmp(x->s + x->i, "<![CDATA[", 9)) {
                open = "<![CDATA[";
                close = "]]>";
                ol = 9;
            } else if (x->n - x->i < ol || memcmp(x->s + x->i, open, ol)) {
                return -EINVAL; /* <!DOCTYPE and friends */
            }
            size_t e = find(x->s, x->n, x->i + ol, close);
            if (e == x->n || x->depth == 0)
                return -EINVAL;
            x->st[x->depth - 1].needs_decode = true;
            x->i = e + strlen(close);
            continue;
        }
        /* a start tag */
        x->i++;
        struct str name;
        if (read_name(x, &name) < 0 || x->depth == XML_MAX_DEPTH)
            return -EINVAL;
        if (x->depth == 0 && !str_eq(name, "Event"))
            return -EINVAL;
        if (x->depth > 0)
            x->st[x->depth - 1].has_child = true;
        struct frame *f = &x->st[x->depth++];
        *f = (struct frame){.name = name};
        on_start(x, name);
        bool self_closing;
        if (read_attrs(x, &self_closing) < 0)
            return -EINVAL;
        f->content = x->i;
        if (self_closing) {
            on_end(x, x->i);
            x->depth--;
            root_done = x->depth == 0;
        }
    }
    return root_done ? 0 : -EINVAL;
}

int win_xml_decode(struct decode_ctx *ctx, struct event *ev)
{
    uint32_t nf = ev->nfields;
    struct xr x = {.s = ev->raw.p, .n = ev->raw.n, .ev = ev};
    int rc = parse(&x);
    if (rc == 0)
        rc = win_finish(ctx, ev);
    if (rc < 0) {
        ev->nfields = nf;
        ev->message = str_make(NULL, 0);
        memset(ev->core, 0, sizeof(ev->core));
        ev->ls = (struct logsource){NULL, NULL, NULL};
        ev->ts_ns = TIME_NONE;
        return -EINVAL;
    }
    return 0;
}
