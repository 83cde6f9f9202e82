#!/usr/bin/env python3
"""Every case and number form of every Russian term of the shipped glossary, from the
OpenCorpora dictionary (through pymorphy3): the evaluation data of `tests/api/morphology.rs`.

Run from the repository root:

    python3 -m venv target/morph-venv
    target/morph-venv/bin/pip install -r tests/morphology/requirements.txt
    target/morph-venv/bin/python tests/morphology/generate_ru_forms.py > tests/data/ru_term_forms.tsv

The output is committed; never edit it by hand. Where a construction comes out wrong, fix the
construction here and regenerate.

How a term is inflected:
- The head is the first noun of the term; the adjectives, participles and ordinal numerals
  before it agree with it and inflect with it (coordinated ones too: «туристическая и
  культурная столица»). Adverbs among them («более») stay.
- Everything after the head stays as stored: dependent genitives («саммит ШОС»),
  prepositional phrases («мир в регионе») and appositions («инициатива Пояс и путь»,
  «Республика Казахстан»). Two exceptions: a noun joined to the head by a dash agrees with it
  («страны — участницы …»), and a noun phrase coordinated with the head by «и» or a comma
  inflects with it («мир и спокойствие», «Азия, Европа и Африка»).
- A cardinal numeral heading the term («три силы зла», «пять общих домов») inflects with its
  noun group, which takes the plural in the oblique cases («тремя силами зла»).
- Hyphenated words inflect as the dictionary analyses them: both nouns of «государство-член»,
  the last part of «Синьцзян-Уйгурский»; an ordinal in digits takes the ending of its last
  digit's ordinal («23-е» → «23-го»).
- Number: singular and plural where the head has both (not for singularia or pluralia
  tantum, not for indeclinables, not for proper names); a coordinated term and a numeral
  group keep the number they are stored in.
- Unchanged: acronyms (all capitals), indeclinables, words in Latin script, terms that are
  quoted names in running text (the glossary's note shows the term in «»; «Кабар», «Кыргыз
  Туусу»), and terms without a nominal head («в рамках ШОС»).
- Words the dictionary does not hold (its analysis is a guess from the word's ending,
  «Тяньцзинь», «Суяб») are left as stored: the forms are the dictionary's, not a guess. The
  one exception is an adjective with a regular ending, «Тяньцзиньская», whose paradigm the
  ending fixes. Such words are listed in the last column.
- A title with a full stop inside («Си Цзиньпин. О государственном управлении») is a quoted
  name.

Output, tab-separated with a header line: concept id, stored term, form, the grammemes the
form stands for (`case,number`, several separated by spaces when forms coincide), and the
words left uninflected because the dictionary does not hold them.
"""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

import pymorphy3

MORPH = pymorphy3.MorphAnalyzer()

CASES = ["nomn", "gent", "datv", "accs", "ablt", "loct"]
NUMBERS = ["sing", "plur"]
TBX = "{urn:iso:std:iso:30042:ed-2}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Analyzers whose forms come from the dictionary; any other analysis is a guess.
DICTIONARY_ANALYZERS = {"DictionaryAnalyzer", "KnownPrefixAnalyzer", "HyphenatedWordsAnalyzer"}
MODIFIER_POS = {"ADJF", "PRTF"}
GENDERS = ("masc", "femn", "neut")
ADJECTIVE_ENDING = re.compile(r"(ск|н)(ий|ый|ая|ое|ие|ые)$")
WORD = re.compile(r"\w+(?:-\w+)*")
ORDINAL_IN_DIGITS = re.compile(r"^(\d+)-(\w+)$")


def from_dictionary(stack):
    """Whether an analysis (a pymorphy methods stack) rests on dictionary words only."""
    for step in stack:
        if not isinstance(step, tuple) or not step:
            continue
        analyzer = step[0]
        if isinstance(analyzer, tuple):
            # A part of a hyphenated word: a nested stack.
            if not from_dictionary(step):
                return False
            continue
        if type(analyzer).__name__ not in DICTIONARY_ANALYZERS:
            return False
        for part in step[1:]:
            if isinstance(part, tuple) and not from_dictionary(part):
                return False
    return True


def parses(word):
    """The dictionary's analyses of a word (guesses left out), or for a word it does not hold
    with a regular adjectival ending («Тяньцзиньская»), the adjective analyses guessed from
    that ending."""
    found = [p for p in MORPH.parse(word) if from_dictionary(p.methods_stack)]
    if not found and ADJECTIVE_ENDING.search(word.lower()):
        found = [p for p in MORPH.parse(word) if p.tag.POS == "ADJF"]
    return found


def is_guess(word):
    """Whether the dictionary does not hold a Cyrillic word (acronyms aside)."""
    known = any(from_dictionary(p.methods_stack) for p in MORPH.parse(word))
    return is_cyrillic(word) and not is_acronym(word) and not known


def restore_case(stored, form):
    """`form` written with the capitals of `stored`, part by part of a hyphenated word."""
    if "ё" not in stored.lower():
        form = form.replace("ё", "е")
    out = []
    stored_parts = stored.split("-")
    for i, part in enumerate(form.split("-")):
        model = stored_parts[i] if i < len(stored_parts) else stored_parts[-1]
        if len(model) > 1 and model.isupper():
            out.append(part.upper())
        elif model[:1].isupper():
            out.append(part[:1].upper() + part[1:])
        else:
            out.append(part)
    return "-".join(out)


def is_acronym(word):
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def is_cyrillic(word):
    return bool(re.search("[а-яёА-ЯЁ]", word))


class Word:
    """A word of a term: its text and, once the term is analysed, the parse it inflects by."""

    def __init__(self, text, gap):
        self.text = text
        self.gap = gap  # the text between the previous word and this one
        self.parse = None  # None: stays as stored
        self.ordinal_digits = None  # "23" for «23-е», inflected through «3-е»

    def form(self, grammemes):
        if self.parse is None:
            return self.text
        for wanted in grammemes:
            inflected = self.parse.inflect(set(wanted))
            if inflected is not None:
                word = inflected.word
                if self.ordinal_digits is not None:
                    word = self.ordinal_digits + word[word.index("-"):]
                return restore_case(self.text, word)
        return None


def noun_parses(word, numbers=("sing", "plur"), case="nomn"):
    return [
        p
        for p in parses(word)
        if p.tag.POS == "NOUN" and p.tag.case == case and p.tag.number in numbers
    ]


def modifier_parses(word, case="nomn"):
    text = word.text
    digits = None
    match = ORDINAL_IN_DIGITS.match(text)
    if match:
        digits = match.group(1)
        text = digits[-1] + "-" + match.group(2)
    found = [
        p
        for p in parses(text)
        if (p.tag.POS in MODIFIER_POS or "Anum" in p.tag) and p.tag.case == case
    ]
    return found, digits


def agrees(modifier, head):
    """Whether an adjective parse agrees with a noun parse in number and gender."""
    if modifier.tag.number != head.tag.number:
        return False
    if head.tag.number == "sing" and str(head.tag.gender) in GENDERS:
        return str(modifier.tag.gender) == str(head.tag.gender)
    return True


class NounPhrase:
    """Modifiers and a head (or only modifiers, for an adjective term)."""

    def __init__(self):
        self.modifiers = []
        self.head = None
        self.dashed = None  # a noun joined to the head by a dash


def parse_noun_phrase(words, start):
    """The noun phrase starting at `start`: (phrase, index after it), or None."""
    phrase = NounPhrase()
    i = start
    pending = []
    while i < len(words):
        word = words[i]
        if i > start and word.gap.strip() not in ("", ","):
            break
        lower = word.text.lower()
        if pending and lower == "и":
            i += 1
            continue
        if not is_cyrillic(word.text) or is_acronym(word.text):
            if is_acronym(word.text) and is_cyrillic(word.text):
                phrase.head = (word, None)
                i += 1
            break
        nouns = noun_parses(word.text)
        mods, digits = modifier_parses(word)
        next_word = words[i + 1] if i + 1 < len(words) else None
        next_joined = next_word is not None and next_word.gap.strip() == ""
        next_nominal = next_joined and (
            noun_parses(next_word.text)
            or modifier_parses(next_word)[0]
            or is_acronym(next_word.text)
            or next_word.text.lower() == "и"
        )
        if mods and (next_nominal or not nouns):
            pending.append((word, mods, digits))
            i += 1
            continue
        if nouns:
            phrase.head = (word, nouns)
            i += 1
        elif [p for p in parses(word.text) if p.tag.POS == "ADVB"] and next_nominal:
            i += 1
            continue
        break
    if phrase.head is None and not pending:
        return None
    if phrase.head is None and i < len(words):
        return None
    head_parse = choose_head(phrase.head, pending)
    if phrase.head is not None:
        phrase.head[0].parse = head_parse
    for word, mods, digits in pending:
        fitting = [m for m in mods if head_parse is None or agrees(m, head_parse)]
        word.parse = (fitting or mods)[0]
        word.ordinal_digits = digits
        phrase.modifiers.append(word)
    # A noun joined by a dash agrees with the head: «страны — участницы».
    if head_parse is not None and i < len(words) and words[i].gap.strip() == "—":
        dashed = noun_parses(words[i].text, (head_parse.tag.number,))
        if dashed:
            words[i].parse = dashed[0]
            phrase.dashed = words[i]
            i += 1
    return phrase, i


def choose_head(head, pending):
    """The head noun's parse: the one its modifiers agree with, proper names preferred for
    capitalized words."""
    if head is None or head[1] is None:
        return None
    word, nouns = head
    if word.text[:1].isupper():
        nouns = sorted(nouns, key=lambda p: not ({"Geox", "Orgn"} & set(p.tag.grammemes)))
    for noun in nouns:
        if all(any(agrees(m, noun) for m in mods) for _, mods, _ in pending):
            return noun
    return nouns[0]


def numbers_of(phrase):
    """The numbers a phrase is inflected in."""
    if phrase.head is None or phrase.head[0].parse is None:
        stored = phrase.modifiers[0].parse.tag.number if phrase.modifiers else "sing"
        if phrase.head is not None:
            return [stored]
        return ["sing", "plur"]
    tag = phrase.head[0].parse.tag
    proper = phrase.head[0].text[:1].isupper()
    if "Sgtm" in tag or "Pltm" in tag or "Fixd" in tag or proper:
        return [tag.number]
    return ["sing", "plur"]


def stored_number(phrase):
    """The number a phrase is stored in."""
    if phrase.head is not None and phrase.head[0].parse is not None:
        return phrase.head[0].parse.tag.number
    return phrase.modifiers[0].parse.tag.number if phrase.modifiers else "sing"


def phrase_forms(phrase, case, number):
    """Each inflected word's form in the given case and number, or None if one has none."""
    head = phrase.head[0].parse if phrase.head else None
    animacy = head.tag.animacy if head is not None else "inan"
    out = {}
    for word in phrase.modifiers:
        gender = str(head.tag.gender) if head is not None and number == "sing" else None
        if head is None and number == "sing":
            gender = str(word.parse.tag.gender)
        base = {case, number} | ({gender} if gender in GENDERS else set())
        wanted = [base | {animacy}, base] if case == "accs" else [base]
        form = word.form(wanted)
        if form is None:
            return None
        out[id(word)] = form
    head_word = phrase.head[0] if phrase.head else None
    for word in filter(None, [head_word, phrase.dashed]):
        if word.parse is None:
            continue
        form = word.form([{case, number}])
        if form is None:
            return None
        out[id(word)] = form
    if case == "accs" and head is not None:
        # The nouns after the first of a compound («государство-член», «страны — участницы»)
        # take the accusative of the first: the nominative when it is inanimate.
        like_nominative = out[id(head_word)].split("-")[0] == head_word.form([{"nomn", number}]).split("-")[0]
        if like_nominative:
            first = out[id(head_word)].split("-")[0]
            nominative = head_word.form([{"nomn", number}])
            out[id(head_word)] = "-".join([first] + nominative.split("-")[1:])
            if phrase.dashed is not None:
                out[id(phrase.dashed)] = phrase.dashed.form([{"nomn", number}])
    return out


def numeral_forms(words):
    """Forms of a term headed by a cardinal numeral: {grammemes: {word id: form}}."""
    numeral = words[0]
    cardinal = [p for p in parses(numeral.text) if p.tag.POS == "NUMR" and p.tag.case == "nomn"]
    if not cardinal:
        return None
    group = []
    i = 1
    while i < len(words) and words[i].gap.strip() == "":
        found = [
            p
            for p in parses(words[i].text)
            if p.tag.POS in MODIFIER_POS | {"NOUN"} and p.tag.case == "gent"
        ]
        if not found:
            found = [
                p
                for p in parses(words[i].text)
                if p.tag.POS in MODIFIER_POS and p.tag.case == "nomn" and p.tag.number == "plur"
            ]
        if not found:
            break
        group.append((words[i], found[0]))
        i += 1
        if found[0].tag.POS == "NOUN":
            break
    if not group or group[-1][1].tag.POS != "NOUN":
        return None
    noun = group[-1][1]
    numeral.parse = cardinal[0]
    forms = {}
    for case in CASES:
        if case in ("nomn", "accs"):
            few = numeral.text.lower() in ("два", "две", "три", "четыре", "оба", "обе")
            if case == "nomn" or noun.tag.animacy != "anim" or not few:
                forms[(case, "plur")] = {}
                continue
        out = {id(numeral): numeral.form([{case}])}
        for word, parse in group:
            word.parse = parse
            out[id(word)] = word.form([{case if case != "accs" else "gent", "plur"}])
        forms[(case, "plur")] = out
    return forms


def quoted_in_notes(term, notes):
    """Whether the glossary's notes show the term as a quoted name in running text, never
    inflected."""
    plain = lambda s: s.replace("«", "").replace("»", "")
    for note in notes:
        if "inflected" in note:
            continue
        for quoted in re.findall(r"«((?:[^«»]|«[^«»]*»)*)»", note):
            if plain(quoted) == term:
                return True
    return False


def term_forms(term, notes):
    """{grammemes: form} for one stored term."""
    unchanged = {("nomn", "sing"): term}
    if quoted_in_notes(term, notes) or re.search(r"\w\w\. ", term):
        return unchanged
    words = []
    position = 0
    for match in WORD.finditer(term):
        words.append(Word(match.group(0), term[position:match.start()]))
        position = match.end()
    tail = term[position:]
    if not words or words[0].gap:
        return unchanged
    by_grammemes = numeral_forms(words)
    if by_grammemes is None:
        phrases = []
        i = 0
        while True:
            parsed = parse_noun_phrase(words, i)
            if parsed is None:
                break
            phrase, i = parsed
            phrases.append(phrase)
            if i >= len(words):
                break
            gap = words[i].gap.strip()
            if gap == "," or (gap == "" and words[i].text.lower() == "и"):
                nxt = i + 1 if words[i].text.lower() == "и" else i
                if nxt < len(words) and parse_noun_phrase(words, nxt) is not None:
                    i = nxt
                    continue
            break
        if not phrases or phrases[0].head is None and len(phrases) == 1 and i < len(words):
            return unchanged
        by_grammemes = {}
        coordinated = len(phrases) > 1
        numbers = [stored_number(phrases[0])] if coordinated else numbers_of(phrases[0])
        for case in CASES:
            for number in numbers:
                out = {}
                for phrase in phrases:
                    forms = phrase_forms(phrase, case, stored_number(phrase) if coordinated else number)
                    if forms is None:
                        out = None
                        break
                    out.update(forms)
                if out is not None:
                    by_grammemes[(case, number)] = out
    result = {}
    for grammemes, forms in by_grammemes.items():
        if any(form is None for form in forms.values()):
            continue
        result[grammemes] = "".join(w.gap + forms.get(id(w), w.text) for w in words) + tail
    # The stored term is the nominative in the number it is stored in, as written.
    folded = lambda s: s.lower().replace("ё", "е")
    stored = [g for g, text in result.items() if g[0] == "nomn" and folded(text) == folded(term)]
    if not stored:
        print(f"not reproduced as a nominative: {term} {result}", file=sys.stderr)
        result[("nomn", "sing")] = term
    for grammemes in stored:
        result[grammemes] = term
    return result


def glossary_terms(root):
    """(concept id, term, notes) for every Russian term of the glossary, in file order."""
    for path in sorted(glob.glob(os.path.join(root, "glossary", "*.tbx"))):
        tree = ET.parse(path)
        for concept in tree.iter(TBX + "conceptEntry"):
            for section in concept.iter(TBX + "langSec"):
                if section.get(XML_LANG) != "ru":
                    continue
                for term_section in section.iter(TBX + "termSec"):
                    term = term_section.find(TBX + "term").text.strip()
                    notes = [n.text or "" for n in term_section.iter(TBX + "note")]
                    yield concept.get("id"), term, notes


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.stdout
    out.write("concept\tterm\tform\tgrammemes\tnot_in_dictionary\n")
    for concept, term, notes in glossary_terms(root):
        forms = {}
        for (case, number), text in sorted(
            term_forms(term, notes).items(),
            key=lambda item: (NUMBERS.index(item[0][1]), CASES.index(item[0][0])),
        ):
            forms.setdefault(text, []).append(f"{case},{number}")
        guessed = sorted({w for w in WORD.findall(term) if is_guess(w)})
        for text, grammemes in forms.items():
            out.write(f"{concept}\t{term}\t{text}\t{' '.join(grammemes)}\t{','.join(guessed)}\n")


if __name__ == "__main__":
    main()
