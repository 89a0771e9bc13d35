/*
 * output-exec.h - the exec output's argument templates (output-exec.c),
 * exposed for its tests and fuzz target. The output itself is reached
 * through output_find("exec").
 */
#ifndef KENCHI_OUTPUT_EXEC_H
#define KENCHI_OUTPUT_EXEC_H

#include <stddef.h>

struct json_t; /* jansson's json_t */

/* The longest argument a template expands to, in bytes (the rest is cut). */
#define EXEC_ARG_MAX 65536

/* Check the braces of an argument template: NULL when it is well formed
 * ("{field.path}" placeholders, "{{" and "}}" for literal braces), else a
 * sentence saying what is wrong. Adds its number of placeholders to *nph. */
const char *exec_template_check(const char *tmpl, size_t *nph);

/* The template with each placeholder replaced by the alert's field at
 * that path (looked up under "entity" too when not at the top; missing or
 * null: ""; numbers and booleans as JSON text; objects and lists as
 * compact JSON). alert may be NULL (every field missing). A malformed
 * template is expanded as far as it goes. Returns a malloc'd string the
 * caller frees, or NULL when out of memory. */
char *exec_template_expand(const char *tmpl, struct json_t *alert);

#endif
