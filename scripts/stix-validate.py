#!/usr/bin/python3
"""stix-validate.py - check STIX 2.1 bundles (kenchi intel export's, or a
partner's) against the OASIS STIX 2.1 JSON schemas.

    /usr/bin/python3 scripts/stix-validate.py [--formats] SCHEMAS_DIR BUNDLE.json...

SCHEMAS_DIR is the `schemas` directory of a checkout of
oasis-open/cti-stix2-json-schemas (draft 2020-12: common/, sdos/, sros/,
observables/). Needs python3-jsonschema (Debian's package, for
/usr/bin/python3). Every schema is registered under its `$id` and its file,
so "../common/core.json" references resolve against the referring schema.
Each bundle is checked against common/bundle.json, then every object
against the schema of its type; every error is printed with the object's
index, type and id, the path inside it and the message. --formats also
asserts "format" (uri, email, idn-hostname), an annotation by default in
draft 2020-12. A type without a schema in SCHEMAS_DIR is an error.

Exit status: 0 all valid, 1 errors found, 2 usage or an unreadable file, 3
jsonschema missing. kenchi itself does not need this script: it is the way
to check a bundle before it is shared (docs/intel.md, "Share back").
"""
import collections
import glob
import json
import os
import sys

try:
    from jsonschema import Draft202012Validator, RefResolver, SchemaError
except ImportError:  # pragma: no cover - depends on the machine
    print("stix-validate: needs python3-jsonschema (apt-get install python3-jsonschema; "
          "run with /usr/bin/python3)", file=sys.stderr)
    sys.exit(3)

KINDS = ("sdos", "sros", "observables", "common")


def load_schemas(root):
    """Every schema under root: {$id or file URI: doc}, {relative path: doc}."""
    store, by_rel = {}, {}
    for p in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        rel = os.path.relpath(p, root)
        by_rel[rel] = doc
        Draft202012Validator.check_schema(doc)
        if "$id" in doc:
            store[doc["$id"]] = doc
        store["file://" + os.path.abspath(p)] = doc
    return store, by_rel


def where(path):
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def check(bundle_path, store, by_rel, formats):
    fc = Draft202012Validator.FORMAT_CHECKER if formats else None

    def errors(schema, doc):
        res = RefResolver(schema.get("$id", ""), schema, store=store)
        v = Draft202012Validator(schema, resolver=res, format_checker=fc)
        return sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))

    with open(bundle_path, encoding="utf-8") as f:
        bundle = json.load(f)
    n = 0
    if "common/bundle.json" not in by_rel:
        print(f"{bundle_path}: no common/bundle.json among the schemas")
        return 1, {}
    for e in errors(by_rel["common/bundle.json"], bundle):
        n += 1
        print(f"{bundle_path}: bundle at {where(e.absolute_path)}: {e.message[:300]}")
    counts = collections.Counter()
    for i, o in enumerate(bundle.get("objects", []) if isinstance(bundle, dict) else []):
        t = o.get("type") if isinstance(o, dict) else None
        schema = next((by_rel[f"{k}/{t}.json"] for k in KINDS if f"{k}/{t}.json" in by_rel), None)
        if schema is None:
            n += 1
            print(f"{bundle_path}: objects[{i}] {t}: no schema for this type")
            continue
        counts[t] += 1
        for e in errors(schema, o):
            n += 1
            print(f"{bundle_path}: objects[{i}] {t} {o.get('id')} at {where(e.absolute_path)}: "
                  f"{e.message[:300]}")
    return n, counts


def main(argv):
    formats = "--formats" in argv
    args = [a for a in argv if a != "--formats"]
    if len(args) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        store, by_rel = load_schemas(args[0])
    except (OSError, ValueError, SchemaError) as e:
        print(f"stix-validate: {args[0]}: {e}", file=sys.stderr)
        return 2
    if not by_rel:
        print(f"stix-validate: {args[0]}: no schemas", file=sys.stderr)
        return 2
    total = 0
    for path in args[1:]:
        try:
            n, counts = check(path, store, by_rel, formats)
        except (OSError, ValueError) as e:
            print(f"stix-validate: {path}: {e}", file=sys.stderr)
            return 2
        total += n
        objs = ", ".join(f"{t} {c}" for t, c in sorted(counts.items()))
        print(f"{path}: {'valid' if n == 0 else f'{n} error(s)'} ({objs})")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
