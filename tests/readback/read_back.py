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
"""

import json
import sys

from lxml import etree
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


def main(args):
    if args[:1] == ["--relaxng"] and len(args) >= 3:
        schema = etree.RelaxNG(etree.parse(args[1]))
        files = [validate(schema, path) for path in args[2:]]
        report = {"lxml": etree.__version__, "files": files}
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
