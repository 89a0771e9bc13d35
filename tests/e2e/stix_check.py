#!/usr/bin/env python3
"""stix_check.py - check STIX 2.1 JSON against the specification's MUST rules.

kenchi writes STIX 2.1 bundles (`kenchi intel export`) and reads them; this
checker holds both to the rules of the STIX 2.1 specification (OASIS, with
errata 01) for the object types kenchi writes and reads. It is written from
the specification's text, with the standard library only (no JSON schema).

What it checks, for a bundle or a single object:
  - identifiers: "type--UUID", the type equal to the object's, the UUID
    RFC 4122-compliant (variant 10, version 1-5); with --strict only
    versions 4 and 5, and the UUIDv5 of a cyber-observable recomputed from
    its ID contributing properties (section 2.9) must equal its id;
  - common properties: required ones present, not-applicable ones absent,
    spec_version "2.1", created/modified timestamps with at least
    millisecond precision and modified >= created, property names in
    lower case, confidence 0-100, labels, external references, kill-chain
    phases, extensions (extension_type for extension definitions);
  - timestamps: RFC 3339, UTC, "Z", valid dates and times;
  - references: every *_ref / *_refs is an identifier of an allowed type;
    in a bundle every reference resolves to an object of the bundle or to
    one of the fixed TLP marking definitions, except sighting_of_ref (a
    sighting answers an indicator its producer holds);
  - indicator (pattern, pattern_type, valid_from, valid_until > valid_from,
    and a STIX pattern must parse with the grammar of section 9), sighting
    (count, first/last seen), observed-data (window, number_observed,
    object_refs with a cyber-observable), identity, relationship,
    marking-definition (TLP 1.0 objects only with the four fixed ids; TLP
    2.0 extension objects only with the five fixed ids, names and levels),
    and the cyber-observables kenchi writes (value, hashes, file name).

Usage:
  stix_check.py [--strict] FILE...   check files; prints the problems and
                                     exits 1 if there are any
  stix_check.py                      self-test, printing TAP: the spec's
                                     example bundles (read in place from
                                     $KENCHI_SHARED/specs/stix/examples)
                                     must pass, kenchi's own valid fixtures
                                     must pass, and broken variants of a
                                     valid bundle must each fail with the
                                     expected problem.
"""

import copy
import datetime
import glob
import json
import os
import re
import sys
import uuid

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

# The fixed TLP marking definitions: id -> (version, level, name).
TLP_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": (1, "white", "TLP:WHITE"),
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": (1, "green", "TLP:GREEN"),
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": (1, "amber", "TLP:AMBER"),
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": (1, "red", "TLP:RED"),
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": (2, "clear", "TLP:CLEAR"),
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": (2, "green", "TLP:GREEN"),
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": (2, "amber", "TLP:AMBER"),
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": (2, "amber+strict", "TLP:AMBER+STRICT"),
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": (2, "red", "TLP:RED"),
}

SDO_TYPES = {
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware",
    "malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor",
    "tool", "vulnerability",
}
SRO_TYPES = {"relationship", "sighting"}
SCO_TYPES = {
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
    "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
    "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
}
META_TYPES = {"language-content", "marking-definition", "extension-definition"}

# Common properties by kind (section 3.2): required, not applicable.
COMMON = {
    "sdo": ({"type", "spec_version", "id", "created", "modified"}, {"defanged"}),
    "sro": ({"type", "spec_version", "id", "created", "modified"}, {"defanged"}),
    "sco": ({"type", "id"}, {"created_by_ref", "revoked", "labels", "confidence", "lang",
                             "external_references", "created", "modified"}),
    "marking-definition": ({"type", "spec_version", "id", "created"},
                           {"modified", "revoked", "labels", "confidence", "lang", "defanged"}),
    "language-content": ({"type", "spec_version", "id", "created", "modified"},
                         {"defanged", "confidence", "lang"}),
    "extension-definition": ({"type", "spec_version", "id", "created", "modified",
                              "created_by_ref"}, {"defanged", "confidence", "lang"}),
}

# Embedded references whose targets are restricted: property -> allowed types
# (None: any), and a predicate name for readability in messages.
REF_TARGETS = {
    "created_by_ref": {"identity"},
    "object_marking_refs": {"marking-definition"},
    "marking_ref": {"marking-definition"},
    "sighting_of_ref": SDO_TYPES,
    "observed_data_refs": {"observed-data"},
    "where_sighted_refs": {"identity", "location"},
    "source_ref": SDO_TYPES | SCO_TYPES,
    "target_ref": SDO_TYPES | SCO_TYPES,
}

TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
PROP_RE = re.compile(r"^[a-z][a-z0-9_]*$")
HASH_LEN = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128, "SHA3-256": 64, "SHA3-512": 128}


# ---- the STIX patterning grammar (section 9, STIXPattern.g4) -------------

KEYWORDS = {"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET",
            "EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "true", "false", "WITHIN",
            "REPEATS", "TIMES"}

TOKEN_RES = [
    # longest match wins; among equal lengths the earlier entry (keywords
    # are handled after identifiers are matched)
    ("TS", re.compile(r"t'\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):"
                      r"[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?Z'")),
    ("HEX", re.compile(r"h'([A-Fa-f0-9]{2})*'")),
    ("BIN", re.compile(r"b'([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|"
                       r"[A-Za-z0-9+/]{2}==)'")),
    ("STR", re.compile(r"'([^'\\]|\\'|\\\\)*'")),
    ("FLOATNEG", re.compile(r"-[0-9]*\.[0-9]+")),
    ("FLOATPOS", re.compile(r"\+?[0-9]*\.[0-9]+")),
    ("INTNEG", re.compile(r"-(0|[1-9][0-9]*)")),
    ("INTPOS", re.compile(r"\+?(0|[1-9][0-9]*)")),
    ("IDNOHYPHEN", re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")),
    ("IDHYPHEN", re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*")),
    ("OP", re.compile(r"==|!=|<>|<=|>=|=|<|>")),
    ("PUNCT", re.compile(r"[:.,()\[\]*]")),
]
WS_RE = re.compile(r"(\s+|/\*.*?\*/|//[^\r\n]*)", re.S)


class PatternError(Exception):
    pass


def lex(text):
    toks = []
    i = 0
    while i < len(text):
        m = WS_RE.match(text, i)
        if m:
            i = m.end()
            continue
        best = None
        for kind, rx in TOKEN_RES:
            m = rx.match(text, i)
            if m and (best is None or m.end() > best[1].end()):
                best = (kind, m)
        if best is None:
            raise PatternError("unexpected character %r at %d" % (text[i], i))
        kind, m = best
        val = m.group(0)
        if kind in ("IDNOHYPHEN", "IDHYPHEN") and val in KEYWORDS:
            kind = "KW"
        toks.append((kind, val, i))
        i = m.end()
    toks.append(("EOF", "", len(text)))
    return toks


class PatternParser:
    def __init__(self, text):
        self.t = lex(text)
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k]

    def is_(self, kind, val=None, k=0):
        tk = self.peek(k)
        return tk[0] == kind and (val is None or tk[1] == val)

    def take(self, kind, val=None):
        tk = self.peek()
        if tk[0] != kind or (val is not None and tk[1] != val):
            want = val if val is not None else kind
            raise PatternError("expected %s at %d, found %r" % (want, tk[2], tk[1] or "end"))
        self.i += 1
        return tk

    def parse(self):
        self.observations()
        self.take("EOF")

    def observations(self):
        self.obs_or()
        while self.is_("KW", "FOLLOWEDBY"):
            self.i += 1
            self.obs_or()

    def obs_or(self):
        self.obs_and()
        while self.is_("KW", "OR"):
            self.i += 1
            self.obs_and()

    def obs_and(self):
        self.observation()
        while self.is_("KW", "AND"):
            self.i += 1
            self.observation()

    def observation(self):
        if self.is_("PUNCT", "["):
            self.i += 1
            self.comparison()
            self.take("PUNCT", "]")
        elif self.is_("PUNCT", "("):
            self.i += 1
            self.observations()
            self.take("PUNCT", ")")
        else:
            tk = self.peek()
            raise PatternError("expected '[' or '(' at %d, found %r" % (tk[2], tk[1] or "end"))
        while True:
            if self.is_("KW", "START"):
                self.i += 1
                self.take("TS")
                self.take("KW", "STOP")
                self.take("TS")
            elif self.is_("KW", "WITHIN"):
                self.i += 1
                if self.is_("INTPOS") or self.is_("FLOATPOS"):
                    self.i += 1
                else:
                    raise PatternError("WITHIN needs a positive number at %d" % self.peek()[2])
                self.take("KW", "SECONDS")
            elif self.is_("KW", "REPEATS"):
                self.i += 1
                self.take("INTPOS")
                self.take("KW", "TIMES")
            else:
                return

    def comparison(self):
        self.comparison_and()
        while self.is_("KW", "OR"):
            self.i += 1
            self.comparison_and()

    def comparison_and(self):
        self.prop_test()
        while self.is_("KW", "AND"):
            self.i += 1
            self.prop_test()

    def prop_test(self):
        if self.is_("PUNCT", "("):
            self.i += 1
            self.comparison()
            self.take("PUNCT", ")")
            return
        if self.is_("KW", "EXISTS") or (self.is_("KW", "NOT") and self.is_("KW", "EXISTS", 1)):
            if self.is_("KW", "NOT"):
                self.i += 1
            self.i += 1
            self.object_path()
            return
        self.object_path()
        if self.is_("KW", "NOT"):
            self.i += 1
        tk = self.peek()
        if tk[0] == "OP" and tk[1] in ("=", "==", "!=", "<>"):
            self.i += 1
            self.primitive()
        elif tk[0] == "OP":
            self.i += 1
            self.orderable()
        elif tk[0] == "KW" and tk[1] == "IN":
            self.i += 1
            self.set_literal()
        elif tk[0] == "KW" and tk[1] in ("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"):
            self.i += 1
            self.take("STR")
        else:
            raise PatternError("expected a comparison operator at %d, found %r"
                               % (tk[2], tk[1] or "end"))

    def object_path(self):
        if not (self.is_("IDNOHYPHEN") or self.is_("IDHYPHEN")):
            tk = self.peek()
            raise PatternError("expected an object type at %d, found %r" % (tk[2], tk[1] or "end"))
        self.i += 1
        self.take("PUNCT", ":")
        if self.is_("IDNOHYPHEN") or self.is_("STR"):
            self.i += 1
        else:
            tk = self.peek()
            raise PatternError("expected a property name at %d, found %r" % (tk[2], tk[1] or "end"))
        while True:
            if self.is_("PUNCT", "."):
                self.i += 1
                if self.is_("IDNOHYPHEN") or self.is_("STR"):
                    self.i += 1
                else:
                    tk = self.peek()
                    raise PatternError("expected a property name at %d, found %r"
                                       % (tk[2], tk[1] or "end"))
            elif self.is_("PUNCT", "[") and (self.is_("INTPOS", None, 1) or
                                             self.is_("INTNEG", None, 1) or
                                             self.is_("PUNCT", "*", 1)):
                self.i += 2
                self.take("PUNCT", "]")
            else:
                return

    ORDERABLE = ("INTPOS", "INTNEG", "FLOATPOS", "FLOATNEG", "STR", "BIN", "HEX", "TS")

    def orderable(self):
        tk = self.peek()
        if tk[0] not in self.ORDERABLE:
            raise PatternError("expected a literal at %d, found %r" % (tk[2], tk[1] or "end"))
        self.i += 1

    def primitive(self):
        if self.is_("KW", "true") or self.is_("KW", "false"):
            self.i += 1
        else:
            self.orderable()

    def set_literal(self):
        self.take("PUNCT", "(")
        if self.is_("PUNCT", ")"):
            self.i += 1
            return
        self.primitive()
        while self.is_("PUNCT", ","):
            self.i += 1
            self.primitive()
        self.take("PUNCT", ")")


def pattern_problem(text):
    """None if text is a STIX pattern, else why not."""
    try:
        PatternParser(text).parse()
        return None
    except PatternError as e:
        return str(e)


# ---- objects ---------------------------------------------------------------

def parse_ts(v):
    """datetime for a STIX timestamp, or None."""
    if not isinstance(v, str):
        return None
    m = TS_RE.match(v)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or ""
    try:
        return datetime.datetime(y, mo, d, h, mi, min(s, 59)), frac
    except ValueError:
        return None


def canonical(o):
    """RFC 8785 canonical JSON (enough for strings, dicts, lists, ints)."""
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def kind_of(t):
    if t in SDO_TYPES:
        return "sdo"
    if t in SRO_TYPES:
        return "sro"
    if t in SCO_TYPES:
        return "sco"
    if t in META_TYPES:
        return t
    return None


class Checker:
    def __init__(self, strict=False):
        self.strict = strict
        self.problems = []

    def bad(self, where, msg):
        self.problems.append("%s: %s" % (where, msg))

    # identifiers
    def check_id(self, where, v, want_type=None, prop="id"):
        if not isinstance(v, str) or "--" not in v:
            self.bad(where, "%s %r is not an identifier (type--UUID)" % (prop, v))
            return False
        t, _, u = v.partition("--")
        if not TYPE_RE.match(t):
            self.bad(where, "%s %r has no valid type part" % (prop, v))
            return False
        if want_type is not None and t != want_type:
            self.bad(where, "%s %r does not start with the type %r" % (prop, v, want_type))
            return False
        if not UUID_RE.match(u):
            self.bad(where, "%s %r has no RFC 4122 UUID" % (prop, v))
            return False
        uu = uuid.UUID(u)
        if uu.variant != uuid.RFC_4122 or not 1 <= (uu.version or 0) <= 5:
            self.bad(where, "%s %r is not an RFC 4122 UUID (variant/version)" % (prop, v))
            return False
        if self.strict and uu.version not in (4, 5):
            self.bad(where, "%s %r is not a UUIDv4 or UUIDv5" % (prop, v))
            return False
        return True

    def check_ts(self, where, o, key, required=False, ms=False):
        if key not in o:
            if required:
                self.bad(where, "required timestamp %s is missing" % key)
            return None
        r = parse_ts(o[key])
        if r is None:
            self.bad(where, "%s %r is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:mm:ss[.s+]Z)"
                     % (key, o[key]))
            return None
        dt, frac = r
        if ms and len(frac) < 4:
            self.bad(where, "%s %r is less precise than milliseconds" % (key, o[key]))
        return (dt, frac.ljust(10, "0"))

    def check_int(self, where, o, key, lo, hi, required=False):
        if key not in o:
            if required:
                self.bad(where, "required integer %s is missing" % key)
            return
        v = o[key]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            self.bad(where, "%s %r is not an integer from %d to %d" % (key, v, lo, hi))

    def check_str(self, where, o, key, required=False):
        if key not in o:
            if required:
                self.bad(where, "required string %s is missing" % key)
            return
        if not isinstance(o[key], str):
            self.bad(where, "%s is not a string" % key)

    def check_str_list(self, where, o, key):
        if key in o and (not isinstance(o[key], list) or not o[key] or
                         not all(isinstance(x, str) for x in o[key])):
            self.bad(where, "%s is not a non-empty list of strings" % key)

    # references: collected for resolution at the end
    def collect_refs(self, where, key, v, refs):
        if key.endswith("_ref"):
            if self.check_id(where, v, prop=key):
                refs.append((where, key, v))
        elif key.endswith("_refs"):
            if not isinstance(v, list) or not v:
                self.bad(where, "%s is not a non-empty list" % key)
                return
            for x in v:
                if self.check_id(where, x, prop=key):
                    refs.append((where, key, x))
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(k2, str):
                    self.collect_refs(where, k2, v2, refs)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, dict):
                    for k2, v2 in x.items():
                        self.collect_refs(where, k2, v2, refs)

    def check_object(self, o, where, refs):
        if not isinstance(o, dict):
            self.bad(where, "not a JSON object")
            return
        t = o.get("type")
        if not isinstance(t, str) or not TYPE_RE.match(t) or not 3 <= len(t) <= 250:
            self.bad(where, "type %r is not a valid type name" % (t,))
            return
        if isinstance(o.get("id"), str):
            where = "%s (%s)" % (where, o["id"])
        kind = kind_of(t)
        if kind is None:
            if not t.startswith("x-"):
                self.bad(where, "type %r is not a STIX 2.1 type" % t)
            return
        required, not_applicable = COMMON[kind]
        for k in sorted(required):
            if k not in o:
                self.bad(where, "required property %s is missing" % k)
        for k in sorted(not_applicable):
            if k in o:
                self.bad(where, "property %s does not apply to %s objects" % (k, t))
        for k in o:
            if not isinstance(k, str) or not PROP_RE.match(k) or len(k) > 250:
                self.bad(where, "property name %r is not lower case letters, digits and _" % (k,))
        if "id" in o:
            self.check_id(where, o["id"], t)
        if "spec_version" in o and o["spec_version"] != "2.1":
            self.bad(where, "spec_version %r is not \"2.1\"" % (o["spec_version"],))
        created = self.check_ts(where, o, "created", ms=True)
        modified = self.check_ts(where, o, "modified", ms=True)
        if created and modified and modified < created:
            self.bad(where, "modified is earlier than created")
        if "revoked" in o and not isinstance(o["revoked"], bool):
            self.bad(where, "revoked is not a boolean")
        if "defanged" in o and not isinstance(o["defanged"], bool):
            self.bad(where, "defanged is not a boolean")
        self.check_int(where, o, "confidence", 0, 100)
        self.check_str_list(where, o, "labels")
        self.check_str(where, o, "lang")
        for i, er in enumerate(o.get("external_references", []) or []):
            if not isinstance(er, dict) or not isinstance(er.get("source_name"), str):
                self.bad(where, "external_references[%d] has no source_name" % i)
            elif not any(k in er for k in ("description", "url", "external_id")):
                self.bad(where, "external_references[%d] has none of description, url, "
                         "external_id" % i)
        if "kill_chain_phases" in o:
            kc = o["kill_chain_phases"]
            if not isinstance(kc, list) or not kc:
                self.bad(where, "kill_chain_phases is not a non-empty list")
            else:
                for i, p in enumerate(kc):
                    if not (isinstance(p, dict) and isinstance(p.get("kill_chain_name"), str)
                            and isinstance(p.get("phase_name"), str)):
                        self.bad(where, "kill_chain_phases[%d] lacks kill_chain_name or "
                                 "phase_name" % i)
        ext = o.get("extensions")
        if ext is not None:
            if not isinstance(ext, dict) or not ext:
                self.bad(where, "extensions is not a non-empty dictionary")
            else:
                for k, v in ext.items():
                    if not isinstance(v, dict):
                        self.bad(where, "extension %s is not an object" % k)
                    elif k.startswith("extension-definition--"):
                        self.check_id(where, k, "extension-definition", prop="extension key")
                        if v.get("extension_type") not in (
                                "new-sdo", "new-sco", "new-sro", "property-extension",
                                "toplevel-property-extension"):
                            self.bad(where, "extension %s has no valid extension_type" % k)
        if "object_marking_refs" in o and o.get("id") in (o["object_marking_refs"] or []):
            self.bad(where, "object_marking_refs refers to the object itself")
        for k, v in o.items():
            if isinstance(k, str) and k != "id":
                self.collect_refs(where, k, v, refs)
        check = getattr(self, "check_" + t.replace("-", "_"), None)
        if check:
            check(o, where)

    # type-specific rules
    def check_indicator(self, o, where):
        self.check_str(where, o, "pattern", required=True)
        self.check_str(where, o, "pattern_type", required=True)
        vf = self.check_ts(where, o, "valid_from", required=True)
        vu = self.check_ts(where, o, "valid_until")
        if vf and vu and not vu > vf:
            self.bad(where, "valid_until is not later than valid_from")
        self.check_str_list(where, o, "indicator_types")
        if o.get("pattern_type") == "stix" and isinstance(o.get("pattern"), str):
            why = pattern_problem(o["pattern"])
            if why:
                self.bad(where, "pattern is not a STIX pattern: %s" % why)

    def check_sighting(self, o, where):
        if "sighting_of_ref" not in o:
            self.bad(where, "required property sighting_of_ref is missing")
        self.check_int(where, o, "count", 0, 999999999)
        fs = self.check_ts(where, o, "first_seen")
        ls = self.check_ts(where, o, "last_seen")
        if fs and ls and ls < fs:
            self.bad(where, "last_seen is earlier than first_seen")
        if "summary" in o and not isinstance(o["summary"], bool):
            self.bad(where, "summary is not a boolean")

    def check_observed_data(self, o, where):
        fo = self.check_ts(where, o, "first_observed", required=True)
        lo = self.check_ts(where, o, "last_observed", required=True)
        if fo and lo and lo < fo:
            self.bad(where, "last_observed is earlier than first_observed")
        self.check_int(where, o, "number_observed", 1, 999999999, required=True)
        if ("objects" in o) == ("object_refs" in o):
            self.bad(where, "exactly one of objects and object_refs must be present")
        refs = o.get("object_refs")
        if isinstance(refs, list) and not any(
                isinstance(r, str) and r.partition("--")[0] in SCO_TYPES for r in refs):
            self.bad(where, "object_refs holds no cyber-observable")

    def check_identity(self, o, where):
        self.check_str(where, o, "name", required=True)
        self.check_str_list(where, o, "sectors")

    def check_relationship(self, o, where):
        rt = o.get("relationship_type")
        if not isinstance(rt, str) or not re.match(r"^[a-z0-9-]+$", rt):
            self.bad(where, "relationship_type %r is missing or not a-z, 0-9 and -" % (rt,))
        for k in ("source_ref", "target_ref"):
            if k not in o:
                self.bad(where, "required property %s is missing" % k)

    def check_marking_definition(self, o, where):
        mid = o.get("id")
        ext = o.get("extensions")
        if not isinstance(ext, dict):
            if "definition_type" not in o or "definition" not in o:
                self.bad(where, "a marking-definition without extensions needs definition_type "
                         "and definition")
        if o.get("definition_type") == "tlp":
            level = (o.get("definition") or {}).get("tlp") if isinstance(
                o.get("definition"), dict) else None
            fixed = TLP_IDS.get(mid)
            if not fixed or fixed[0] != 1 or fixed[1] != level:
                self.bad(where, "a TLP 1.0 marking must be one of the four fixed objects "
                         "(level %r)" % (level,))
        if isinstance(ext, dict) and TLP2_EXTENSION in ext:
            e = ext[TLP2_EXTENSION]
            level = e.get("tlp_2_0") if isinstance(e, dict) else None
            fixed = TLP_IDS.get(mid)
            if not fixed or fixed[0] != 2 or fixed[1] != level or o.get("name") != fixed[2]:
                self.bad(where, "a TLP 2.0 marking must be one of the five fixed objects "
                         "(id, name and level %r)" % (level,))
            if isinstance(e, dict) and e.get("extension_type") != "property-extension":
                self.bad(where, "the TLP 2.0 extension's extension_type must be "
                         "property-extension")

    def check_value_sco(self, o, where):
        if not isinstance(o.get("value"), str):
            self.bad(where, "required string value is missing")

    check_ipv4_addr = check_ipv6_addr = check_domain_name = check_value_sco
    check_email_addr = check_url = check_mac_addr = check_value_sco

    def check_file(self, o, where):
        if "hashes" not in o and "name" not in o:
            self.bad(where, "a file needs hashes or name")
        hashes = o.get("hashes")
        if hashes is not None:
            if not isinstance(hashes, dict) or not hashes:
                self.bad(where, "hashes is not a non-empty dictionary")
            else:
                for k, v in hashes.items():
                    if not re.match(r"^[a-zA-Z0-9_-]{3,250}$", k) or not isinstance(v, str):
                        self.bad(where, "hash %r is not a valid name with a string value" % k)
                    elif k in HASH_LEN and (len(v) != HASH_LEN[k] or
                                            not re.match(r"^[0-9a-fA-F]+$", v)):
                        self.bad(where, "hash %s %r is not %d hex digits" % (k, v, HASH_LEN[k]))

    def check_sco_id(self, o, where):
        """--strict: a UUIDv5 SCO id must be the one section 2.9 computes."""
        t = o.get("type")
        u = uuid.UUID(o["id"].partition("--")[2])
        if u.version != 5:
            return
        if t in ("ipv4-addr", "ipv6-addr", "domain-name", "email-addr", "url", "mac-addr"):
            props = {"value": o.get("value")}
        elif t == "file":
            props = {}
            hashes = o.get("hashes") or {}
            for alg in ("MD5", "SHA-1", "SHA-256", "SHA-512"):
                if alg in hashes:
                    props["hashes"] = {alg: hashes[alg]}
                    break
            for k in ("name", "extensions", "parent_directory_ref"):
                if k in o:
                    props[k] = o[k]
        else:
            return
        want = uuid.uuid5(SCO_NAMESPACE, canonical(props))
        if u != want:
            self.bad(where, "UUIDv5 id is not the one of its ID contributing properties "
                     "(expected %s--%s)" % (t, want))

    def check_document(self, doc, name):
        refs = []
        if isinstance(doc, dict) and doc.get("type") == "bundle":
            for k in ("id", "type"):
                if k not in doc:
                    self.bad(name, "bundle without %s" % k)
            if "id" in doc:
                self.check_id(name, doc["id"], "bundle")
            objs = doc.get("objects", [])
            if not isinstance(objs, list):
                self.bad(name, "objects is not a list")
                return
            ids = {}
            for i, o in enumerate(objs):
                where = "%s: objects[%d]" % (name, i)
                self.check_object(o, where, refs)
                if isinstance(o, dict) and isinstance(o.get("id"), str):
                    ids.setdefault(o["id"], o.get("type"))
                    if self.strict and o.get("type") in SCO_TYPES:
                        self.check_sco_id(o, where + " (%s)" % o["id"])
            for where, key, ref in refs:
                t = ref.partition("--")[0]
                allowed = REF_TARGETS.get(key)
                if allowed is not None and t not in allowed:
                    self.bad(where, "%s %s points at a %s" % (key, ref, t))
                if key == "sighting_of_ref" or ref in TLP_IDS:
                    continue
                if ref not in ids:
                    self.bad(where, "%s %s does not resolve to an object of the bundle"
                             % (key, ref))
        else:
            # a single object: its references point outside, by nature
            self.check_object(doc, name, refs)
            for where, key, ref in refs:
                allowed = REF_TARGETS.get(key)
                if allowed is not None and ref.partition("--")[0] not in allowed:
                    self.bad(where, "%s %s points at a %s" % (key, ref, ref.partition("--")[0]))


def check_file(path, strict=False):
    c = Checker(strict)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s: not readable JSON: %s" % (path, e)]
    c.check_document(doc, path)
    return c.problems


# ---- self-test -------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

A_ID = "identity--0a8b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
I_ID = "indicator--1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
O_ID = "observed-data--2c3d4e5f-6071-4829-8b3c-4d5e6f7a8b9c"
S_ID = "sighting--3d4e5f60-7182-4930-9c4d-5e6f7a8b9cad"
IP = {"type": "ipv4-addr", "spec_version": "2.1", "value": "198.51.100.3",
      "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}
AMBER2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AMBER1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"


def valid_bundle():
    ts = "2024-03-04T10:00:00.000Z"
    return {"type": "bundle", "id": "bundle--4e5f6071-8293-4a41-8d5e-6f7a8b9cadbe", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": A_ID, "created": ts, "modified": ts,
         "name": "Example Agency", "identity_class": "organization",
         "object_marking_refs": [AMBER2, AMBER1]},
        {"type": "marking-definition", "spec_version": "2.1", "id": AMBER2,
         "created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER",
         "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension",
                                         "tlp_2_0": "amber"}}},
        {"type": "marking-definition", "spec_version": "2.1", "id": AMBER1,
         "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:AMBER",
         "definition": {"tlp": "amber"}},
        {"type": "indicator", "spec_version": "2.1", "id": I_ID, "created": ts, "modified": ts,
         "created_by_ref": A_ID, "name": "C2 address",
         "pattern": "[ipv4-addr:value = '198.51.100.3'] AND [file:hashes.'SHA-256' = "
                    "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] "
                    "WITHIN 300 SECONDS",
         "pattern_type": "stix", "valid_from": ts,
         "kill_chain_phases": [{"kill_chain_name": "mitre-attack",
                                "phase_name": "command-and-control"}],
         "object_marking_refs": [AMBER2, AMBER1]},
        dict(IP, object_marking_refs=[AMBER2]),
        {"type": "observed-data", "spec_version": "2.1", "id": O_ID, "created": ts,
         "modified": ts, "created_by_ref": A_ID, "first_observed": ts,
         "last_observed": "2024-03-04T11:00:00.000Z", "number_observed": 4,
         "object_refs": [IP["id"]]},
        {"type": "sighting", "spec_version": "2.1", "id": S_ID, "created": ts, "modified": ts,
         "created_by_ref": A_ID, "sighting_of_ref": I_ID, "count": 4,
         "first_seen": ts, "last_seen": "2024-03-04T11:00:00.000Z",
         "where_sighted_refs": [A_ID], "observed_data_refs": [O_ID]},
    ]}


def find(b, oid):
    return next(o for o in b["objects"] if o["id"] == oid)


def mutate(fn):
    b = valid_bundle()
    fn(b)
    return b


# (name, mutation, expected substring of a problem)
BROKEN = [
    ("missing created", lambda b: find(b, I_ID).pop("created"), "required property created"),
    ("id of another type", lambda b: find(b, S_ID).update(
        id="indicator--3d4e5f60-7182-4930-9c4d-5e6f7a8b9cad"), "does not start with the type"),
    ("id without UUID", lambda b: find(b, A_ID).update(id="identity--kenchi"), "no RFC 4122 UUID"),
    ("UUID of a wrong variant", lambda b: find(b, O_ID).update(
        id="observed-data--2c3d4e5f-6071-4829-cb3c-4d5e6f7a8b9c"), "variant/version"),
    ("timestamp with offset", lambda b: find(b, I_ID).update(
        valid_from="2024-03-04T10:00:00+01:00"), "not an RFC 3339 UTC timestamp"),
    ("created in seconds", lambda b: find(b, I_ID).update(created="2024-03-04T10:00:00Z",
                                                          modified="2024-03-04T10:00:00Z"),
     "less precise than milliseconds"),
    ("impossible date", lambda b: find(b, I_ID).update(valid_from="2024-02-30T10:00:00Z"),
     "not an RFC 3339"),
    ("modified before created", lambda b: find(b, I_ID).update(
        modified="2024-03-03T10:00:00.000Z"), "modified is earlier than created"),
    ("valid_until before valid_from", lambda b: find(b, I_ID).update(
        valid_until="2024-03-04T09:00:00Z"), "valid_until is not later"),
    ("unbalanced pattern", lambda b: find(b, I_ID).update(
        pattern="[ipv4-addr:value = '198.51.100.3'"), "not a STIX pattern"),
    ("unescaped quote in pattern", lambda b: find(b, I_ID).update(
        pattern="[file:name = 'it's.exe']"), "not a STIX pattern"),
    ("hyphen in a property name", lambda b: find(b, I_ID).update(
        pattern="[file:hashes.SHA-256 = 'ab']"), "not a STIX pattern"),
    ("dangling reference", lambda b: find(b, S_ID).update(
        observed_data_refs=["observed-data--99999999-6071-4829-8b3c-4d5e6f7a8b9c"]),
     "does not resolve"),
    ("reference to a wrong type", lambda b: find(b, S_ID).update(where_sighted_refs=[I_ID]),
     "where_sighted_refs %s points at a indicator" % I_ID),
    ("count out of range", lambda b: find(b, S_ID).update(count=1000000000), "count"),
    ("number_observed zero", lambda b: find(b, O_ID).update(number_observed=0),
     "number_observed"),
    ("observed window reversed", lambda b: find(b, O_ID).update(
        last_observed="2024-03-04T09:00:00.000Z"), "last_observed is earlier"),
    ("observed-data without observables", lambda b: find(b, O_ID).update(object_refs=[A_ID]),
     "holds no cyber-observable"),
    ("identity without name", lambda b: find(b, A_ID).pop("name"), "name is missing"),
    ("own TLP 1.0 marking", lambda b: find(b, AMBER1).update(
        id="marking-definition--f88d31f6-486f-44da-b317-01333bde0b83"), "four fixed objects"),
    ("TLP 2.0 level renamed", lambda b: find(b, AMBER2)["extensions"][TLP2_EXTENSION].update(
        tlp_2_0="red"), "five fixed objects"),
    ("created_by_ref on an observable", lambda b: find(b, IP["id"]).update(created_by_ref=A_ID),
     "does not apply to ipv4-addr"),
    ("spec_version 2.0", lambda b: find(b, A_ID).update(spec_version="2.0"), "spec_version"),
    ("upper-case property", lambda b: find(b, A_ID).update(Name="x"), "property name"),
    ("confidence 101", lambda b: find(b, I_ID).update(confidence=101), "confidence"),
    ("observable id not from its value", lambda b: find(b, IP["id"]).update(value="198.51.100.4"),
     "ID contributing properties"),
    ("bad hash", lambda b: b["objects"].append(
        {"type": "file", "spec_version": "2.1",
         "id": "file--5f607182-93a4-4b52-8e6f-7a8b9cadbecf", "hashes": {"MD5": "xyz"}}),
     "hash MD5"),
]


def self_test():
    n = 0
    out = []
    c = Checker(strict=True)
    c.check_document(valid_bundle(), "valid bundle")
    n += 1
    out.append(("ok" if not c.problems else "not ok") + " %d - a valid bundle passes (strict)%s"
               % (n, "" if not c.problems else ": " + "; ".join(c.problems)))
    for name, fn, want in BROKEN:
        n += 1
        c = Checker(strict=True)
        c.check_document(mutate(fn), "broken")
        hit = any(want in p for p in c.problems)
        out.append("%s %d - refuses: %s%s" % ("ok" if hit else "not ok", n, name,
                                              "" if hit else " (got %r)" % c.problems))
    # the pattern examples of the specification's section 9 that kenchi cares about
    good = ["[file:hashes.'SHA-256' = 'aec0' OR file:hashes.MD5 = 'cead']",
            "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
            "email-message:body_multipart[*].body_raw_ref.name LIKE 'pdf%']",
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port IN "
            "(25, 465, 587)] FOLLOWEDBY [domain-name:value = 'example.com'] REPEATS 5 TIMES "
            "WITHIN 1800 SECONDS",
            "[x509-certificate:hashes.'SHA-1' = 'ab' ] START t'2016-06-01T00:00:00Z' STOP "
            "t'2016-07-01T00:00:00Z'",
            "([ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [NOT EXISTS file:name]) OR "
            "[artifact:payload_bin = b'dGVzdA==']",
            "[file:name = 'it\\'s a \\\\ path']"]
    for p in good:
        n += 1
        why = pattern_problem(p)
        out.append("%s %d - pattern parses: %s%s" % ("ok" if not why else "not ok", n, p[:50],
                                                     "" if not why else " (%s)" % why))
    shared = os.environ.get("KENCHI_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
    ex = os.path.join(shared, "specs", "stix", "examples")
    files = sorted(glob.glob(os.path.join(ex, "*.json")) +
                   glob.glob(os.path.join(ex, "threat-reports", "*.json")))
    if not files:
        n += 1
        out.append("ok %d - the specification's examples pass # SKIP %s is absent" % (n, ex))
    for f in files:
        n += 1
        probs = check_file(f)
        out.append("%s %d - example passes: %s%s" % (
            "ok" if not probs else "not ok", n, os.path.relpath(f, ex),
            "" if not probs else ": " + "; ".join(probs[:3])))
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "intel", "stix", "valid-*.json"))):
        n += 1
        probs = check_file(f)
        out.append("%s %d - fixture passes: %s%s" % (
            "ok" if not probs else "not ok", n, os.path.basename(f),
            "" if not probs else ": " + "; ".join(probs[:3])))
    print("1..%d" % n)
    for line in out:
        print(line)
    return 0


def main(argv):
    strict = False
    files = []
    for a in argv:
        if a == "--strict":
            strict = True
        else:
            files.append(a)
    if not files:
        return self_test()
    bad = 0
    for f in files:
        probs = check_file(f, strict)
        for p in probs:
            print(p)
        bad += len(probs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
