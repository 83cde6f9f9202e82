//! The shipped glossary is used by professional translators: these tests check its shape
//! (every concept in zh, ru and en, exactly one preferred term per language, subject fields
//! and statuses from the allowed lists, a source everywhere and on each preferred term the
//! date it was checked against official pages, no accidental duplicates) and
//! that it carries the warnings the newsroom plugins exist for, in all three languages, each
//! explained; and that the inflection test's generated Russian forms cover exactly its
//! Russian terms.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use tolmach::formats::TbxReader;
use tolmach::model::{Concept, Lang, TermStatus};

/// The least number of concepts the shipped glossary holds: the second edition's aim of 600
/// concepts, each in zh, ru and en. Lower it only together with the content it counts.
const MIN_CONCEPTS: usize = 600;

/// The least number of warning terms (deprecated or forbidden: what a plugin flags as an
/// error; a superseded name is historical, not a warning) over all languages: the second
/// edition's aim, so that editors are warned in print-relevant cases.
const MIN_WARNINGS: usize = 40;

/// The languages each of which must have at least one warning term: a plugin working in any
/// of them must be able to raise the newsroom warning.
const WARNING_LANGS: &[&str] = &["zh", "ru", "en"];

/// The subject fields of glossary/README.md.
const SUBJECT_FIELDS: &[&str] = &[
    "SCO institutions",
    "diplomacy and policy concepts",
    "economy and connectivity",
    "media and culture",
    "geography",
    "states and organizations",
    "security",
    "titles and offices",
    "events and forums",
];

fn glossary() -> Vec<Concept> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("glossary");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("glossary directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tbx"))
        .collect();
    files.sort();
    let mut concepts = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).expect("readable");
        for entry in TbxReader::new(bytes.as_slice()) {
            let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                entry.warnings.is_empty(),
                "{}: {:?}",
                file.display(),
                entry.warnings
            );
            concepts.push(entry.concept);
        }
    }
    concepts
}

#[test]
fn glossary_has_the_minimum_number_of_concepts_with_unique_ids() {
    let concepts = glossary();
    assert!(
        concepts.len() >= MIN_CONCEPTS,
        "only {} concepts, at least {MIN_CONCEPTS} expected",
        concepts.len()
    );
    let mut ids: Vec<&str> = concepts.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "duplicate concept ids");
}

#[test]
fn every_concept_has_zh_ru_en_with_exactly_one_preferred_term() {
    for concept in glossary() {
        for lang in [Lang::zh(), Lang::ru(), Lang::en()] {
            let section = concept
                .section(&lang)
                .unwrap_or_else(|| panic!("{}: no {lang} section", concept.id));
            let preferred = section
                .terms
                .iter()
                .filter(|t| t.status == TermStatus::Preferred)
                .count();
            assert_eq!(
                preferred, 1,
                "{}: {preferred} preferred {lang} terms",
                concept.id
            );
        }
    }
}

#[test]
fn subject_fields_come_from_the_list_and_every_concept_names_its_source() {
    for concept in glossary() {
        assert!(
            SUBJECT_FIELDS.contains(&concept.subject_field.as_str()),
            "{}: subject field {:?}",
            concept.id,
            concept.subject_field
        );
        assert!(
            !concept.source.trim().is_empty(),
            "{}: no source",
            concept.id
        );
        for (lang, term) in concept.terms() {
            assert_eq!(
                term.text,
                term.text.trim(),
                "{} {lang}: untrimmed term",
                concept.id
            );
            assert!(
                !term.text.contains(['«', '»', '“', '”']),
                "{} {lang}: quotes belong to running text, not to the term {:?}",
                concept.id,
                term.text
            );
        }
    }
}

#[test]
fn no_term_names_two_concepts_unless_marked_as_homonym() {
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for concept in glossary() {
        for (lang, term) in concept.terms() {
            let key = (
                lang.primary().to_owned(),
                tolmach::text::normalize_key(&term.text),
            );
            if let Some(other) = seen.insert(key.clone(), concept.id.clone()) {
                let marked = concept.cross_refs.contains(&other);
                assert!(
                    marked,
                    "{:?} names both {other} and {} without a homonym cross-reference",
                    key.1, concept.id
                );
            }
        }
    }
}

/// How glossary/README.md marks a preferred term that no official page was found for: the
/// term's own source ends with this, followed by the dates of the passes that looked.
const NOT_FOUND_ON_A_PAGE: &str =
    "no official page printing this rendering was found in the verification passes of";

/// The shape of the date after `(consulted `: digits where the shape has `0`, the other
/// characters as they stand.
const CONSULTED_DATE_SHAPE: &[u8] = b"0000-00-00)";

/// Whether a source says when the rendering was checked: a page read, `(consulted
/// 2026-12-06)`, or the passes that looked for one in vain.
fn records_when_checked(source: &str) -> bool {
    let consulted_on_a_date = source.match_indices("(consulted ").any(|(at, opening)| {
        source.as_bytes()[at + opening.len()..]
            .get(..CONSULTED_DATE_SHAPE.len())
            .is_some_and(|date| {
                date.iter().zip(CONSULTED_DATE_SHAPE).all(|(byte, shape)| {
                    if *shape == b'0' {
                        byte.is_ascii_digit()
                    } else {
                        byte == shape
                    }
                })
            })
    });
    consulted_on_a_date || source.contains(NOT_FOUND_ON_A_PAGE)
}

#[test]
fn every_preferred_term_names_its_source_and_when_it_was_checked() {
    for concept in glossary() {
        for (lang, term) in concept.terms() {
            if term.status == TermStatus::Preferred {
                assert!(
                    records_when_checked(&term.source),
                    "{} {lang}: the preferred term {:?} must name its own source and say when it \
                     was checked (a page with \"(consulted YYYY-MM-DD)\", or \"{NOT_FOUND_ON_A_PAGE} \
                     …\"); its source is {:?}",
                    concept.id,
                    term.text,
                    term.source
                );
            }
        }
    }
}

#[test]
fn the_check_date_is_recognised_only_in_its_documented_forms() {
    assert!(records_when_checked(
        "SCO Secretariat, https://rus.sectsco.org/x.html (consulted 2026-12-06)"
    ));
    assert!(records_when_checked(&format!(
        "Xinhua Russian service usage; {NOT_FOUND_ON_A_PAGE} 4–6 December 2026"
    )));
    assert!(!records_when_checked("Xinhua Russian service usage"));
    assert!(!records_when_checked(
        "https://example.org (consulted December 2026)"
    ));
    assert!(!records_when_checked("(consulted 2026-12-0)"));
}

/// Whether a term of this status warns an editor: discouraged (deprecated, forbidden) or a
/// historical name (superseded).
fn is_warning(status: TermStatus) -> bool {
    status.is_discouraged() || status == TermStatus::Superseded
}

#[test]
fn every_warning_term_explains_itself_in_a_note() {
    for concept in glossary() {
        for (lang, term) in concept.terms() {
            if is_warning(term.status) {
                assert!(
                    !term.note.trim().is_empty(),
                    "{} {lang}: {:?} term {:?} has no note saying why and what to use",
                    concept.id,
                    term.status,
                    term.text
                );
            }
        }
    }
}

#[test]
fn warnings_reach_the_minimum_and_cover_zh_ru_en() {
    let mut by_lang: BTreeMap<String, usize> = BTreeMap::new();
    for concept in glossary() {
        for (lang, term) in concept.terms() {
            if term.status.is_discouraged() {
                *by_lang.entry(lang.primary().to_owned()).or_default() += 1;
            }
        }
    }
    let total: usize = by_lang.values().sum();
    assert!(
        total >= MIN_WARNINGS,
        "{total} warning terms {by_lang:?}, at least {MIN_WARNINGS} expected"
    );
    for lang in WARNING_LANGS {
        assert!(
            by_lang.get(*lang).is_some_and(|&n| n > 0),
            "no warning term in {lang}: {by_lang:?}"
        );
    }
}

/// The inflection test (`tests/api/morphology.rs`) asks for the forms that
/// `tests/morphology/generate_ru_forms.py` wrote for every Russian term; a term added or changed
/// since they were generated would go untested, so the two must name the same terms.
#[test]
fn generated_russian_forms_cover_exactly_the_russian_terms() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ru_term_forms.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let generated: BTreeSet<(String, String)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect();
    let stored: BTreeSet<(String, String)> = glossary()
        .iter()
        .flat_map(|concept| {
            concept
                .terms()
                .filter(|(lang, _)| lang.primary() == "ru")
                .map(|(_, term)| (concept.id.clone(), term.text.clone()))
        })
        .collect();
    let missing: Vec<_> = stored.difference(&generated).collect();
    let stale: Vec<_> = generated.difference(&stored).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "regenerate tests/data/ru_term_forms.tsv (see tests/morphology/generate_ru_forms.py): \
         terms without forms {missing:?}, forms of terms no longer stored {stale:?}"
    );
}
