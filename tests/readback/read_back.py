#!/usr/bin/env python3
"""Reads exchange files with translate-toolkit and prints what it found as JSON.

Tolmach's exports must be usable by other translation tools; translate-toolkit (the
library behind Pootle, Weblate's importers and the `po2tmx`/`csv2po` converters) is the
widest-used open reader, so `tests/readback.rs` writes files with the library writers,
runs this script on them, and compares the entries.

Usage: read_back.py FILE...
       read_back.py --relaxng SCHEMA FILE...

The reader is chosen by extension, as translate.storage.factory would for .tbx, .tmx and
.csv: `tbx.tbxfile` (TBX 2008 `martif`, `termEntry/langSet/tig`), `tmx.tmxfile` and
`csvl10n.csvfile`; .tsv, which the factory does not know, also goes to `csvl10n.csvfile`.
Glossaries are parsed with the dialect their extension names (`excel`, `excel-tab`), as a
user would ask for it: csvl10n's own sniffing looks at the first 1024 bytes only, which a
glossary's header with a column per language and field can fill without a full row.

Output, one JSON document on standard output:

    {"translate_toolkit": "3.20.4",
     "files": [{"path": ..., "reader": "tbx.tbxfile",
                "entries": [{"id": ..., "source": ..., "target": ...,
                             "languages": {"zh": [...], ...}}, ...]},
               {"path": ..., "reader": ..., "error": "..."}]}

`languages` is there for the multilingual formats: for TBX every term of each language
section in order, for TMX the one segment of each language (as a one-element list).
A file the reader refuses gets `error` instead of `entries`; the exit status is still 0,
so that the caller decides what a refusal means.

With `--relaxng SCHEMA`, each FILE is validated against the RELAX NG schema instead, with
lxml (libxml2, the validator behind `xmllint`), which translate-toolkit depends on:

    {"lxml": "6.0.0",
     "files": [{"path": ..., "valid": true, "errors": ["line 12: ...", ...]}]}

`errors` holds the validator's first 20 messages.

With `--schematron SCHEMA`, each FILE is checked against the ISO Schematron schema instead,
with lxml's ISO Schematron pipeline (the reference XSLT 1 skeleton run by libxslt):

    {"lxml": "6.0.0", "rewritten": ["matches(", ...],
     "files": [{"path": ..., "valid": false,
                "failures": [{"line": 12, "location": "/tbx/text/body/conceptEntry[3]/...",
                              "rule": "tbx:termNote[@type='partOfSpeech']",
                              "test": ".='noun' or ...", "message": "..."}]}]}

`failures` holds every failed assertion, with the line of the node it failed on. The TBX
schemas declare `queryBinding="xslt2"`, which the XSLT 1 skeleton refuses, while their rules
use only three XPath 2 constructs; each has an exact XPath 1 equivalent, and
`rewritten` lists those that were rewritten (see `XPATH2_REWRITES`). A construct left over
fails the schema's compilation, so nothing is silently skipped.
"""

import json
import re
import sys

from lxml import etree, isoschematron
from translate import __version__
from translate.misc.xml_helpers import getXMLlang
from translate.storage import csvl10n, tbx, tmx

# The csv module dialect of each glossary extension.
DIALECTS = {".csv": "excel", ".tsv": "excel-tab"}

READERS = {
    ".tbx": ("tbx.tbxfile", tbx.tbxfile),
    ".tmx": ("tmx.tmxfile", tmx.tmxfile),
    ".csv": ("csvl10n.csvfile", csvl10n.csvfile),
    ".tsv": ("csvl10n.csvfile", csvl10n.csvfile),
}


def languages(unit):
    """Texts per language of a multilingual (LISA) unit, in document order."""
    found = {}
    for node in unit.getlanguageNodes():
        lang = getXMLlang(node)
        if isinstance(unit, tbx.tbxunit):
            texts = [term.text for term in unit.get_target_terms(lang)]
        else:
            texts = [unit.getNodeText(node)]
        found[lang] = texts
    return found


def read(path):
    extension = path[path.rfind(".") :].lower()
    if extension not in READERS:
        return {"path": path, "error": f"no reader for {extension!r} files"}
    name, reader = READERS[extension]
    result = {"path": path, "reader": name}
    try:
        with open(path, "rb") as handle:
            if extension in DIALECTS:
                store = reader()
                store.parse(handle.read(), dialect=DIALECTS[extension])
            else:
                store = reader(handle)
    except Exception as error:  # any refusal is reported, not raised
        result["error"] = f"{type(error).__name__}: {error}".rstrip(": ")
        if extension in {".tbx", ".tmx"}:
            # Say which root the reader met: a bare AssertionError means it wanted another.
            result["error"] += f" (root element {etree.parse(path).getroot().tag})"
        return result
    entries = []
    for unit in store.units:
        if unit.isheader():
            continue
        entry = {"id": unit.getid(), "source": unit.source, "target": unit.target}
        if hasattr(unit, "getlanguageNodes"):
            entry["languages"] = languages(unit)
        entries.append(entry)
    result["entries"] = entries
    return result


def validate(schema, path):
    try:
        valid = schema.validate(etree.parse(path))
    except etree.XMLSyntaxError as error:
        return {"path": path, "valid": False, "errors": [f"not well-formed: {error}"]}
    errors = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:20]]
    return {"path": path, "valid": valid, "errors": errors}


SCHEMATRON = "http://purl.oclc.org/dsdl/schematron"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
XSL = "http://www.w3.org/1999/XSL/Transform"
# The namespace of the one XPath 2 function the schemas call, implemented below.
XPATH2_FUNCTIONS = "urn:x-tolmach:xpath2-functions"

# (what the schemas write, its XPath 1 equivalent), applied to every rule context and test.
XPATH2_REWRITES = [
    # A function call as a path step on the context node is the call itself.
    (re.compile(r"\./local-name\(\)"), "local-name()"),
    # `STEP/(A or B)` in a boolean test: is there a node of STEP for which A or B holds.
    (re.compile(r"/\(([^()]*)\)"), r"[\1]"),
    # fn:matches, as an extension function of the same meaning.
    (re.compile(r"(?<![\w:.-])matches\("), "xpath2:matches("),
]


def matches(_context, value, pattern):
    """XPath 2 `fn:matches` for a string or the first node of a node-set: a regex search."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return re.search(pattern, str(value)) is not None


etree.FunctionNamespace(XPATH2_FUNCTIONS)["matches"] = matches


def schematron_xslt1(path):
    """The schema with its XPath 2 rewritten to XPath 1, and which rewrites were applied."""
    schema = etree.parse(path)
    root = schema.getroot()
    root.set("queryBinding", "xslt")
    root.insert(0, etree.Element(f"{{{SCHEMATRON}}}ns", uri=XPATH2_FUNCTIONS, prefix="xpath2"))
    rewritten = set()
    for node in root.iter(f"{{{SCHEMATRON}}}rule", f"{{{SCHEMATRON}}}assert", f"{{{SCHEMATRON}}}report"):
        for attribute in ("context", "test"):
            expression = node.get(attribute)
            for pattern, replacement in XPATH2_REWRITES if expression else ():
                if pattern.search(expression):
                    rewritten.add(pattern.pattern)
                    expression = pattern.sub(replacement, expression)
                    node.set(attribute, expression)
    return schema, sorted(rewritten)


def schematron_validator(schema):
    """The compiled validator. The skeleton writes an attribute's location without its
    element's path; the compiled stylesheet is patched to prepend it, as the XSLT 2 skeleton
    does, so that every failure has a line."""
    schema = isoschematron.iso_dsdl_include(schema)
    schema = isoschematron.iso_abstract_expand(schema)
    validator = isoschematron.iso_svrl_for_xslt1(schema)
    for template in validator.getroot().iterfind(f"{{{XSL}}}template"):
        if template.get("match") == "@*" and template.get("mode") == "schematron-get-full-path":
            parent = etree.Element(f"{{{XSL}}}apply-templates", select="parent::*")
            parent.set("mode", "schematron-get-full-path")
            template.insert(0, parent)
    return etree.XSLT(validator)


def readable(location):
    """`/*[local-name()='tbx' and namespace-uri()='…']/…` as `/tbx/…`."""
    return re.sub(r"\*\[local-name\(\)='([^']*)' and namespace-uri\(\)='[^']*'\]", r"\1", location)


def check(validator, path):
    try:
        document = etree.parse(path)
    except etree.XMLSyntaxError as error:
        return {"path": path, "valid": False, "failures": [{"message": f"not well-formed: {error}"}]}
    report = validator(document)
    failures = []
    for failed in report.xpath("//svrl:failed-assert", namespaces=SVRL):
        location = failed.get("location")
        node = document.xpath(location)
        node = node[0] if node else None
        if node is not None and not isinstance(node, etree._Element):
            node = node.getparent()
        rule = failed.xpath("preceding-sibling::svrl:fired-rule[1]/@context", namespaces=SVRL)
        failures.append(
            {
                "line": node.sourceline if node is not None else None,
                "location": readable(location),
                "rule": rule[0] if rule else None,
                "test": failed.get("test"),
                "message": " ".join("".join(failed.itertext()).split()),
            }
        )
    return {"path": path, "valid": not failures, "failures": failures}


def main(args):
    if args[:1] == ["--relaxng"] and len(args) >= 3:
        schema = etree.RelaxNG(etree.parse(args[1]))
        files = [validate(schema, path) for path in args[2:]]
        report = {"lxml": etree.__version__, "files": files}
    elif args[:1] == ["--schematron"] and len(args) >= 3:
        schema, rewritten = schematron_xslt1(args[1])
        validator = schematron_validator(schema)
        files = [check(validator, path) for path in args[2:]]
        report = {"lxml": etree.__version__, "rewritten": rewritten, "files": files}
    elif args and not args[0].startswith("-"):
        files = [read(path) for path in args]
        report = {"translate_toolkit": __version__.sver, "files": files}
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(
        report,
        sys.stdout,
        ensure_ascii=False,
        indent=1,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
