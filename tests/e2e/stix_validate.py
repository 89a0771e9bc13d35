"""End-to-end: scripts/stix-validate.py, the check of STIX bundles against
the OASIS STIX 2.1 JSON schemas. The OASIS schemas are not on this
machine, so the test writes small schemas of its own in their layout
(common/bundle.json, common/core.json referenced as "../common/core.json",
sdos/indicator.json, observables/ipv4-addr.json, draft 2020-12, with
`$id`s) and checks the script's work: a valid bundle passes, each broken
object is named with its path, a type without a schema is an error, bad
arguments exit 2. Needs /usr/bin/python3 with python3-jsonschema
(scripts/setup.sh installs it); skips with the reason otherwise."""
import json, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import tap  # noqa: E402
from tap import ok  # noqa: E402

PY = "/usr/bin/python3"
SCRIPT = "scripts/stix-validate.py"
BASE = "http://kenchi.test/schemas/"

if subprocess.run([PY, "-c", "import jsonschema"], capture_output=True).returncode != 0:
    print("ok 1 - stix-validate # SKIP /usr/bin/python3 has no jsonschema "
          "(apt-get install python3-jsonschema)")
    print("1..1")
    sys.exit(0)


def schema(rel, body):
    return rel, dict({"$schema": "https://json-schema.org/draft/2020-12/schema",
                      "$id": BASE + rel}, **body)


SCHEMAS = [
    schema("common/core.json", {
        "type": "object",
        "required": ["type", "id", "spec_version"],
        "properties": {
            "type": {"type": "string", "pattern": "^[a-z][a-z0-9-]+$"},
            "id": {"type": "string", "pattern": "^[a-z0-9-]+--[0-9a-f-]{36}$"},
            "spec_version": {"const": "2.1"},
        },
        "patternProperties": {"^[a-z][a-z0-9_]{0,249}$": {}},
        "additionalProperties": False,
    }),
    schema("common/bundle.json", {
        "type": "object",
        "required": ["type", "id", "objects"],
        "properties": {
            "type": {"const": "bundle"},
            "id": {"type": "string", "pattern": "^bundle--"},
            "objects": {"type": "array", "items": {"$ref": "../common/core.json"}},
        },
    }),
    schema("sdos/indicator.json", {
        "allOf": [{"$ref": "../common/core.json"}, {
            "required": ["pattern", "valid_from"],
            "properties": {"type": {"const": "indicator"},
                           "valid_from": {"type": "string", "pattern": r"\.\d{3,}Z$"}},
        }],
    }),
    schema("observables/ipv4-addr.json", {
        "allOf": [{"$ref": "../common/core.json"}, {
            "required": ["value"],
            "properties": {"value": {"type": "string",
                                     "pattern": r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}"
                                                r"(25[0-5]|2[0-4]\d|1?\d?\d)$"}},
        }],
    }),
]

U = "-0000-4000-8000-000000000000"
IND = {"type": "indicator", "id": "indicator--00000001" + U, "spec_version": "2.1",
       "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
       "valid_from": "2026-11-26T10:00:00.000Z"}
IP = {"type": "ipv4-addr", "id": "ipv4-addr--00000002" + U, "spec_version": "2.1",
      "value": "203.0.113.7"}

tmp = tempfile.mkdtemp(prefix="kenchi-stixval-")
try:
    root = os.path.join(tmp, "schemas")
    for rel, doc in SCHEMAS:
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            json.dump(doc, f)

    def bundle(name, objs):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--00000003" + U, "objects": objs}, f)
        return p

    def run(*args):
        r = subprocess.run([PY, SCRIPT, *args], capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    good = bundle("good.json", [IND, IP])
    rc, out, err = run(root, good)
    ok(rc == 0 and "good.json: valid (indicator 1, ipv4-addr 1)" in out,
       "a valid bundle: exit 0, its objects counted by type", out + err)

    bad_ind = dict(IND, valid_from="2026-11-26T10:00:00Z")
    del bad_ind["pattern"]
    bad = bundle("bad.json", [bad_ind, dict(IP, value="999.1.1.1"), dict(IP, Extra=1)])
    rc, out, err = run(root, bad)
    lines = out.splitlines()
    want = [("objects[0] indicator indicator--00000001", "'pattern' is a required property"),
            ("objects[0] indicator indicator--00000001", "at $.valid_from"),
            ("objects[1] ipv4-addr ipv4-addr--00000002", "at $.value: '999.1.1.1'"),
            ("objects[2] ipv4-addr ipv4-addr--00000002", "'Extra'"),
            ("bundle at $.objects[2]", "'Extra'")]  # the bundle's schema checks it too
    ok(rc == 1 and all(any(a in l and b in l for l in lines) for a, b in want)
       and "bad.json: 5 error(s)" in out,
       "broken objects: each error named with the object's index, type, id and path, exit 1",
       out + err)

    rc, out, err = run(root, bundle("unknown.json", [IND, {"type": "x-thing", "spec_version": "2.1",
                                                          "id": "x-thing--00000004" + U}]))
    ok(rc == 1 and "objects[1] x-thing: no schema for this type" in out,
       "a type without a schema is an error", out + err)

    rc, out, err = run("--formats", root, good)
    ok(rc == 0 and "valid" in out, "--formats: the valid bundle still passes", out + err)

    rc, out, err = run(root)
    ok(rc == 2, "no bundle given: exit 2", err)
    rc, out, err = run(os.path.join(tmp, "none"), good)
    ok(rc == 2 and "no schemas" in err, "a directory without schemas: exit 2", err)
    with open(os.path.join(tmp, "broken.json"), "w") as f:
        f.write("{")
    rc, out, err = run(root, os.path.join(tmp, "broken.json"))
    ok(rc == 2 and "broken.json" in err, "a bundle that is not JSON: exit 2", err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"1..{tap.n}")
