/* Unit tests for the Sigma condition parser (precedence, quantifiers,
 * patterns, errors with their offsets) and for the YAML tree's marks and
 * refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect/sigma-cond.h"
#include "util/yaml.h"

static const struct str idents[] = {
    STR_LIT("sel"), STR_LIT("sel_a"), STR_LIT("sel_b"), STR_LIT("filter"), STR_LIT("_hidden"),
};
#define NIDENTS (sizeof(idents) / sizeof(idents[0]))

static bool eval(const struct cond_tree *t, uint32_t n, unsigned truth)
{
    const struct cond_node *c = &t->nodes[n];
    switch (c->op) {
    case COND_SEL:
        return truth >> c->a & 1;
    case COND_NOT:
        return !eval(t, c->a, truth);
    case COND_AND:
        return eval(t, c->a, truth) && eval(t, c->b, truth);
    case COND_OR:
        return eval(t, c->a, truth) || eval(t, c->b, truth);
    case COND_ALL:
        for (uint32_t i = 0; i < c->n; i++)
            if (!eval(t, t->sels[c->b + i], truth))
                return false;
        return true;
    case COND_ANY:
        for (uint32_t i = 0; i < c->n; i++)
            if (eval(t, t->sels[c->b + i], truth))
                return true;
        return false;
    default: {
        uint32_t k = 0;
        for (uint32_t i = 0; i < c->n; i++)
            k += truth >> t->sels[c->b + i] & 1;
        return k >= c->a;
    }
    }
}

/* Truth table of cond over the 5 identifiers, as a 32-bit mask. */
static uint32_t table(const char *cond)
{
    struct cond_tree t;
    struct cond_error e;
    if (sigma_condition_parse(cond, strlen(cond), idents, NIDENTS, &t, &e)) {
        fprintf(stderr, "# %s: %s at %zu\n", cond, e.msg, e.pos);
        return 0xdeadbeef;
    }
    uint32_t m = 0;
    for (unsigned v = 0; v < 32; v++)
        if (eval(&t, t.root, v))
            m |= 1u << v;
    /* the n-ary form the matcher evaluates means the same */
    cond_tree_flatten(&t);
    for (unsigned v = 0; v < 32; v++)
        if (eval(&t, t.root, v) != !!(m >> v & 1))
            m = 0xbadf1a7;
    cond_tree_free(&t);
    return m;
}

static uint32_t expect(bool (*f)(unsigned))
{
    uint32_t m = 0;
    for (unsigned v = 0; v < 32; v++)
        if (f(v))
            m |= 1u << v;
    return m;
}

#define B(v, i) (((v) >> (i)) & 1)
static bool f_prec(unsigned v)
{
    return B(v, 0) || (B(v, 1) && !B(v, 2)); /* or < and < not */
}
static bool f_paren(unsigned v)
{
    return (B(v, 0) || B(v, 1)) && !B(v, 2);
}
static bool f_one_of(unsigned v)
{
    return (B(v, 0) || B(v, 1) || B(v, 2)) && !B(v, 3);
}
static bool f_all_of(unsigned v)
{
    return B(v, 1) && B(v, 2);
}
static bool f_them(unsigned v)
{
    return B(v, 0) || B(v, 1) || B(v, 2) || B(v, 3); /* not _hidden */
}
static bool f_all_them(unsigned v)
{
    return B(v, 0) && B(v, 1) && B(v, 2) && B(v, 3);
}
static bool f_not_not(unsigned v)
{
    return B(v, 0) && !B(v, 3);
}
static bool f_two_of(unsigned v)
{
    return B(v, 1) + B(v, 2) + B(v, 0) >= 2;
}

static void test_grammar(void **state)
{
    (void)state;
    assert_int_equal(table("sel or sel_a and not sel_b"), expect(f_prec));
    assert_int_equal(table("(sel or sel_a) and not sel_b"), expect(f_paren));
    assert_int_equal(table("((sel or sel_a)) and not (sel_b)"), expect(f_paren));
    assert_int_equal(table("1 of sel* and not filter"), expect(f_one_of));
    assert_int_equal(table("all of sel_*"), expect(f_all_of));
    assert_int_equal(table("1 of them"), expect(f_them));
    assert_int_equal(table("all of them"), expect(f_all_them));
    assert_int_equal(table("sel and not not not filter"), expect(f_not_not));
    assert_int_equal(table("SEL AND NOT filter") == 0xdeadbeef, 1);   /* identifiers keep case */
    assert_int_equal(table("sel AND NOT filter"), expect(f_not_not)); /* keywords do not */
    assert_int_equal(table("2 of sel*"), expect(f_two_of));
    assert_int_equal(table("any of sel*"), expect(f_them) & table("1 of sel*"));
    assert_int_equal(table("sel or sel_a or sel_b or not (filter and _hidden and sel)"),
                     table("not (filter and _hidden and sel) or sel_b or sel_a or sel"));
}

static void check_error(const char *cond, size_t pos, const char *needle)
{
    struct cond_tree t;
    struct cond_error e;
    int rc = sigma_condition_parse(cond, strlen(cond), idents, NIDENTS, &t, &e);
    assert_int_not_equal(rc, 0);
    if (e.pos != pos || !strstr(e.msg, needle))
        fprintf(stderr, "# '%s': got '%s' at %zu\n", cond, e.msg, e.pos);
    assert_int_equal(e.pos, pos);
    assert_non_null(strstr(e.msg, needle));
}

static void test_errors(void **state)
{
    (void)state;
    check_error("sel and nope", 8, "unknown search identifier 'nope'");
    check_error("sel and", 7, "ends where an identifier");
    check_error("(sel or sel_a", 0, "never closed");
    check_error("sel)", 3, "without a matching '('");
    check_error("1 of zzz*", 5, "matches no search identifier");
    check_error("sel | count() > 5", 4, "correlation");
    check_error("sel sel_a", 4, "expected 'and', 'or'");
    check_error("all sel", 4, "expected 'of'");
    check_error("0 of sel*", 0, "at least 1");
    check_error("sel*", 0, "is a pattern");
    check_error("", 0, "empty");
    check_error("sel and $", 8, "unexpected character");
    /* deep nesting is refused, not a stack overflow */
    char deep[1300];
    memset(deep, '(', 600);
    memcpy(deep + 600, "sel", 3);
    memset(deep + 603, ')', 600);
    deep[1203] = '\0';
    struct cond_tree t;
    struct cond_error e;
    assert_int_not_equal(sigma_condition_parse(deep, strlen(deep), idents, NIDENTS, &t, &e), 0);
    assert_non_null(strstr(e.msg, "too deep"));
}

static void test_yaml_marks(void **state)
{
    (void)state;
    const char *text = "a: 1\nb:\n  - x\n  - 'y'\n---\nc: ~\n";
    struct yaml_file f;
    struct yaml_error e;
    assert_int_equal(yaml_parse(text, strlen(text), &f, &e), 0);
    assert_int_equal(f.ndocs, 2);
    const struct ynode *b = ynode_get(f.docs[0], "b");
    assert_int_equal(b->kind, YNODE_SEQ);
    assert_int_equal(b->seq.items[1]->mark.line, 4);
    assert_int_equal(b->seq.items[1]->mark.col, 5);
    assert_false(b->seq.items[1]->plain);
    long long v;
    assert_true(ynode_int(ynode_get(f.docs[0], "a"), &v));
    assert_int_equal(v, 1);
    assert_true(ynode_is_null(ynode_get(f.docs[1], "c")));
    yaml_file_free(&f);

    /* the second document is broken: the first is kept, the error placed */
    text = "a: 1\n---\nb: [1, 2\n";
    assert_int_not_equal(yaml_parse(text, strlen(text), &f, &e), 0);
    assert_int_equal(f.ndocs, 1);
    assert_int_equal(e.mark.line, 4);
    yaml_file_free(&f);

    text = "a: 1\na: 2\n";
    assert_int_not_equal(yaml_parse(text, strlen(text), &f, &e), 0);
    assert_non_null(strstr(e.msg, "duplicate key 'a'"));
    assert_int_equal(e.mark.line, 2);
    yaml_file_free(&f);

    /* aliases are shared, bombs refused */
    text = "x: &a [1, 2]\ny: *a\n";
    assert_int_equal(yaml_parse(text, strlen(text), &f, &e), 0);
    assert_ptr_equal(ynode_get(f.docs[0], "x"), ynode_get(f.docs[0], "y"));
    yaml_file_free(&f);
    const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
    assert_int_not_equal(yaml_parse(bomb, strlen(bomb), &f, &e), 0);
    assert_non_null(strstr(e.msg, "too many nodes"));
    yaml_file_free(&f);
    text = "a: *nope\n";
    assert_int_not_equal(yaml_parse(text, strlen(text), &f, &e), 0);
    yaml_file_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_yaml_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
