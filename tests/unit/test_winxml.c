/* Unit tests for the Windows event XML reader (decode/decode-winxml.c): the
 * field names it produces, text decoding, and the documents it must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode-windows.h"

struct fixture {
    struct arena arena;
    struct decode_ctx ctx;
    struct event ev;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    arena_init(&f->arena, 64 * 1024);
    decode_ctx_init(&f->ctx, "test.xml", 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_free(&f->arena);
    free(f);
    return 0;
}

/* Decode xml into a fresh event; returns win_xml_decode()'s result. */
static int decode(struct fixture *f, const char *xml)
{
    event_init(&f->ev, &f->arena);
    f->ev.raw = str_make(xml, strlen(xml));
    return win_xml_decode(&f->ctx, &f->ev);
}

/* The native value of key as a NUL-terminated copy, or NULL. */
static const char *val(struct fixture *f, const char *key)
{
    const struct field *fl = event_get(&f->ev, key);
    return fl ? arena_strndup(&f->arena, fl->val.p, fl->val.n) : NULL;
}

#define SYSTEM_4688                                                                                \
    "<System><Provider Name=\"Microsoft-Windows-Security-Auditing\" "                              \
    "Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"/><EventID>4688</EventID>"                     \
    "<Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode>"                     \
    "<Keywords>0x8020000000000000</Keywords>"                                                      \
    "<TimeCreated SystemTime=\"2024-03-04T08:21:45.1100270Z\"/>"                                   \
    "<EventRecordID>918355</EventRecordID><Correlation/>"                                          \
    "<Execution ProcessID=\"4\" ThreadID=\"7712\"/><Channel>Security</Channel>"                    \
    "<Computer>MAIL01</Computer><Security/></System>"

static void test_names_and_core(void **state)
{
    struct fixture *f = *state;
    const char *xml =
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">" SYSTEM_4688
        "<EventData><Data Name=\"SubjectUserName\">j.meyer</Data>"
        "<Data Name=\"SubjectLogonId\">0x00000000008d4f21</Data>"
        "<Data Name=\"CommandLine\">cmd /c \"a &amp; b\" &lt;x&gt; &#233;&#x41;"
        "</Data><Data Name=\"TargetUserName\">-</Data>"
        "<Data Name=\"Empty\"/></EventData></Event>\n";
    assert_int_equal(decode(f, xml), 0);
    assert_string_equal(val(f, "Provider_Name"), "Microsoft-Windows-Security-Auditing");
    assert_string_equal(val(f, "EventID"), "4688");
    assert_int_equal(event_get(&f->ev, "EventID")->type, VT_NUMBER);
    assert_string_equal(val(f, "TimeCreated"), "2024-03-04T08:21:45.1100270Z");
    assert_string_equal(val(f, "Execution_ProcessID"), "4");
    assert_null(event_get(&f->ev, "Correlation"));
    assert_null(event_get(&f->ev, "Security_UserID"));
    /* libevtx's zero padding of hex values is undone */
    assert_string_equal(val(f, "SubjectLogonId"), "0x8d4f21");
    assert_string_equal(val(f, "CommandLine"), "cmd /c \"a & b\" <x> \xC3\xA9"
                                               "A");
    assert_string_equal(val(f, "Empty"), "");
    assert_string_equal(f->ev.ls.product, "windows");
    assert_string_equal(f->ev.ls.service, "security");
    assert_string_equal(f->ev.ls.category, "process_creation");
    char out[32];
    time_format(f->ev.ts_ns, out);
    assert_string_equal(out, "2024-03-04T08:21:45.110027000Z");
    assert_memory_equal(f->ev.core[CORE_USER_NAME].p, "j.meyer", 7);
    assert_memory_equal(f->ev.core[CORE_EVENT_OUTCOME].p, "success", 7);
}

static void test_unnamed_data_and_userdata(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(decode(f, "<Event><System><EventID>400</EventID>"
                               "<Channel>Windows PowerShell</Channel></System>"
                               "<EventData><Data>Available</Data><Data>None</Data>"
                               "<Data><![CDATA[HostName=ConsoleHost <x>]]></Data>"
                               "<Binary>0A0B</Binary></EventData></Event>"),
                     0);
    assert_string_equal(val(f, "Data"), "[\"Available\",\"None\",\"HostName=ConsoleHost <x>\"]");
    assert_int_equal(event_get(&f->ev, "Data")->type, VT_JSON);
    assert_string_equal(val(f, "Binary"), "0A0B");
    assert_string_equal(f->ev.ls.category, "ps_classic_start");

    assert_int_equal(decode(f, "<?xml version=\"1.0\"?><!-- exported --><Event><System>"
                               "<EventID>1102</EventID><Channel>Security</Channel></System>"
                               "<UserData><LogFileCleared xmlns=\"urn:x\">"
                               "<SubjectUserName>a.kowalski</SubjectUserName>"
                               "<SubjectLogonId>0x00000000000bd24b</SubjectLogonId>"
                               "</LogFileCleared></UserData></Event>"),
                     0);
    assert_string_equal(val(f, "SubjectUserName"), "a.kowalski");
    assert_string_equal(val(f, "SubjectLogonId"), "0xbd24b");
    assert_null(event_get(&f->ev, "LogFileCleared_xmlns"));
    assert_memory_equal(f->ev.core[CORE_EVENT_ACTION].p, "audit-log-cleared", 17);

    /* a single unnamed Data is a plain string */
    assert_int_equal(decode(f, "<Event><System><EventID>1</EventID></System>"
                               "<EventData><Data>only</Data></EventData></Event>"),
                     0);
    assert_string_equal(val(f, "Data"), "only");
    assert_int_equal(event_get(&f->ev, "Data")->type, VT_STRING);
    assert_null(f->ev.ls.service); /* no Channel, no provider: no service */
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "",
        "<Event>",
        "<Event></Evnt>",
        "<Event><System><EventID>1</EventID></System></Event><Event/>",
        "<Event><System><EventID>1</EventID></System></Event>trailing",
        "<Other><System><EventID>1</EventID></System></Other>",
        "<Event><System><Event\xEF\xBF\xBF%ID>1</Event\xEF\xBF\xBF%ID></System></Event>",
        "<Event><System><EventID a=1>1</EventID></System></Event>",
        "<Event><System><EventID a=\"1\"b=\"2\">1</EventID></System></Event>",
        "<!DOCTYPE x><Event><System><EventID>1</EventID></System></Event>",
        "<Event><System><Channel>Security</Channel></System></Event>", /* no EventID */
        "<Event><System><EventID>1</EventID></System><EventData><Data Name=\"a\">x",
        "<Event><![CDATA[x</Event>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        event_init(&f->ev, &f->arena);
        event_add(&f->ev, STR_LIT("keep"), STR_LIT("me"), VT_STRING);
        f->ev.raw = str_make(bad[i], strlen(bad[i]));
        assert_int_equal(win_xml_decode(&f->ctx, &f->ev), -EINVAL);
        assert_int_equal(f->ev.nfields, 1); /* fields as they were */
        assert_null(f->ev.ls.product);
    }
    /* nesting deeper than the limit */
    char deep[4096] = "<Event>";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<a>");
    assert_int_equal(decode(f, deep), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names_and_core, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unnamed_data_and_userdata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
