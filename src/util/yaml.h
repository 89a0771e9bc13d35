/*
 * yaml.h - a small read-only YAML tree where every node knows its place.
 *
 * kenchi reads YAML written by people (Sigma rules, the log source mapping,
 * placeholder lists, later the configuration), and every complaint about it
 * must say file:line:column. libyaml's event parser is wrapped here into a
 * tree of three node kinds (scalar, sequence, mapping), each carrying the
 * 1-based line and column where it starts, allocated in one arena per file.
 *
 * Multi-document files give one root per document. When document k is
 * malformed, documents 0..k-1 are kept and the error names the place of the
 * fault, so a caller can load what is good and report what is not.
 *
 * Anchors and aliases are supported: an alias points at the anchored node
 * (the tree is then a DAG, never copied). A document whose aliases would
 * expand to more than YAML_MAX_EXPANDED nodes (the "billion laughs" shape) is
 * refused, as is nesting deeper than YAML_MAX_DEPTH and mappings with
 * duplicate keys.
 */
#ifndef KENCHI_UTIL_YAML_H
#define KENCHI_UTIL_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

#define YAML_MAX_DEPTH    64
#define YAML_MAX_EXPANDED 1000000

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ymark {
    uint32_t line; /* 1-based */
    uint32_t col;  /* 1-based */
};

struct ypair;

struct ynode {
    enum ynode_kind kind;
    struct ymark mark;
    bool plain;      /* scalar written without quotes or block style */
    const char *tag; /* explicit tag ("!!str"...) or NULL */
    uint64_t weight; /* nodes under this one, aliases expanded (saturating) */
    union {
        struct {
            const char *s; /* NUL-terminated; may contain NUL bytes before n */
            size_t n;
        } scalar;
        struct {
            struct ynode **items;
            size_t n;
        } seq;
        struct {
            struct ypair *pairs;
            size_t n;
        } map;
    };
};

struct ypair {
    struct ynode *key;
    struct ynode *val;
};

struct yaml_file {
    struct arena arena;  /* owns every node and string */
    struct ynode **docs; /* roots; a document with no content has a null scalar */
    size_t ndocs;
};

struct yaml_error {
    struct ymark mark;
    char msg[256];
};

/* Parse text[0..n) into f (which the caller then frees with yaml_file_free,
 * whatever the result). Returns 0, or -EINVAL with *err set: f then holds the
 * documents before the faulty one. */
int yaml_parse(const char *text, size_t n, struct yaml_file *f, struct yaml_error *err);

void yaml_file_free(struct yaml_file *f);

/* Mapping lookup by scalar key; NULL if absent or node is not a mapping. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

/* The plain scalars YAML reads as null: "", "~", "null", "Null", "NULL". */
bool ynode_is_null(const struct ynode *n);

/* Scalar equal to lit (exact bytes). */
bool ynode_scalar_is(const struct ynode *n, const char *lit);

/* Plain scalar that YAML reads as a boolean: *out receives the value. */
bool ynode_bool(const struct ynode *n, bool *out);

/* Plain scalar that reads as an integer (decimal, 0x hex, 0o octal, sign). */
bool ynode_int(const struct ynode *n, long long *out);

/* Plain scalar that reads as a float (includes integers). */
bool ynode_float(const struct ynode *n, double *out);

/* Name of a node kind for messages: "a scalar", "a list", "a mapping". */
const char *ynode_kind_name(const struct ynode *n);

#endif
