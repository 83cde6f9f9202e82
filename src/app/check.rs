//! The domain's checks of a concept and a translation unit, wherever they come from: the
//! RPCs check what clients send with them, and an import checks each entry of a file with the
//! same, so that both refuse the same things for the same reasons.
//!
//! Every check is linear in what it is given: languages are told apart with a set, never by
//! comparing each with all before it, and a concept or unit with more sections or segments
//! than the limit is refused on its count alone ([`too_many`]), before anything in it is
//! looked at. That is what lets a request of the largest size the server accepts be checked
//! in milliseconds.

use std::collections::HashSet;

use crate::formats::check_tmx_unit;
use crate::model::violation::{
    MAX_ITEMS, MAX_NOTE_BYTES, MAX_SEGMENTS, MAX_SEGMENT_BYTES, MAX_TERM_BYTES,
};
use crate::model::{Concept, Lang, TranslationUnit, Violations};

/// Records that `field` holds more than `max` `items` when it does, and says so: the caller
/// then looks no further into it. Checked first, on the count alone, so that a request with
/// 10⁵ sections costs no more than one with the limit.
pub fn too_many(
    field: &str,
    count: usize,
    max: usize,
    items: &str,
    violations: &mut Violations,
) -> bool {
    if count <= max {
        return false;
    }
    violations.add(
        field,
        format!("has {count} {items}, more than the limit of {max}"),
    );
    true
}

/// Records a violation at `path(i)` for every language after its first appearance in `langs`;
/// one pass with a set.
fn each_lang_once<'a>(
    langs: impl Iterator<Item = &'a Lang>,
    path: impl Fn(usize) -> String,
    items: &str,
    violations: &mut Violations,
) {
    let mut seen = HashSet::new();
    for (i, lang) in langs.enumerate() {
        if !seen.insert(lang) {
            violations.add(path(i), format!("{lang} appears in two {items}"));
        }
    }
}

/// Tidies `concept` (subject field and term texts trimmed) and records what it breaks, field
/// paths under `field` (e.g. `concept.langs[1].terms[0].text`): an id and collection the
/// store can key, texts within limits, at least one language section, each language once,
/// each section with one term or more and at most [`MAX_ITEMS`] of them. A concept with more
/// than [`MAX_ITEMS`] sections is refused on that alone.
pub fn concept(mut concept: Concept, field: &str, violations: &mut Violations) -> Concept {
    let sections = concept.langs.len();
    if too_many(
        &format!("{field}.langs"),
        sections,
        MAX_ITEMS,
        "sections",
        violations,
    ) {
        return concept;
    }
    concept.subject_field = concept.subject_field.trim().to_owned();
    for section in &mut concept.langs {
        for term in &mut section.terms {
            let trimmed = term.text.trim();
            if trimmed.len() != term.text.len() {
                term.text = trimmed.to_owned();
            }
        }
    }
    if !concept.id.is_empty() {
        violations.entry_id(&format!("{field}.id"), &concept.id);
    }
    if !concept.collection.is_empty() {
        violations.identifier(&format!("{field}.collection"), &concept.collection);
    }
    violations.max_len(
        &format!("{field}.subject_field"),
        &concept.subject_field,
        MAX_TERM_BYTES,
    );
    violations.max_len(&format!("{field}.source"), &concept.source, MAX_NOTE_BYTES);
    for (i, note) in concept.notes.iter().enumerate() {
        violations.max_len(&format!("{field}.notes[{i}]"), note, MAX_NOTE_BYTES);
    }
    if concept.langs.is_empty() {
        violations.add(
            format!("{field}.langs"),
            "a concept needs at least one language section with a term",
        );
    }
    each_lang_once(
        concept.langs.iter().map(|s| &s.lang),
        |i| format!("{field}.langs[{i}].lang"),
        "sections",
        violations,
    );
    for (i, section) in concept.langs.iter().enumerate() {
        let path = format!("{field}.langs[{i}]");
        violations.max_len(
            &format!("{path}.definition"),
            &section.definition,
            MAX_NOTE_BYTES,
        );
        if section.terms.is_empty() {
            violations.add(
                format!("{path}.terms"),
                "a language section needs at least one term",
            );
        }
        let terms = section.terms.len();
        if too_many(
            &format!("{path}.terms"),
            terms,
            MAX_ITEMS,
            "terms",
            violations,
        ) {
            continue;
        }
        for (j, term) in section.terms.iter().enumerate() {
            let path = format!("{path}.terms[{j}]");
            violations.required_text(&format!("{path}.text"), &term.text, MAX_TERM_BYTES);
            for (name, value) in [
                ("note", &term.note),
                ("source", &term.source),
                ("context", &term.context),
            ] {
                violations.max_len(&format!("{path}.{name}"), value, MAX_NOTE_BYTES);
            }
        }
    }
    concept
}

/// Checks what the store requires of a unit, wherever it came from (a client, a file): an
/// id it can key, two languages or more, each once, texts within limits, and nothing TMX
/// cannot carry ([`check_tmx_unit`]: characters outside XML 1.0, inline tags off the text or
/// out of order). Tag markup is checked for clients only: units read from a TMX file have it
/// by construction, and parsing every tag again would cost an import as much as reading it.
/// A unit with more than [`MAX_SEGMENTS`] segments is refused on that alone.
pub fn unit(unit: &TranslationUnit, field: &str, violations: &mut Violations) {
    let segments = unit.segments.len();
    if too_many(
        &format!("{field}.segments"),
        segments,
        MAX_SEGMENTS,
        "segments",
        violations,
    ) {
        return;
    }
    if !unit.id.is_empty() {
        violations.entry_id(&format!("{field}.id"), &unit.id);
    }
    violations.max_len(&format!("{field}.origin"), &unit.origin, MAX_TERM_BYTES);
    if unit.segments.len() < 2 {
        violations.add(
            format!("{field}.segments"),
            "a unit needs segments in at least two languages",
        );
    }
    each_lang_once(
        unit.segments.iter().map(|s| &s.lang),
        |i| format!("{field}.segments[{i}].lang"),
        "segments",
        violations,
    );
    for (i, segment) in unit.segments.iter().enumerate() {
        if segment.text.trim().is_empty() || segment.text.len() > MAX_SEGMENT_BYTES {
            violations.required_text(
                &format!("{field}.segments[{i}].text"),
                &segment.text,
                MAX_SEGMENT_BYTES,
            );
        }
    }
    for problem in check_tmx_unit(unit) {
        violations.add(format!("{field}.{}", problem.field), problem.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LangSection, Segment, Term, Violation};

    fn violations_of(check: impl FnOnce(&mut Violations)) -> Vec<Violation> {
        let mut violations = Violations::default();
        check(&mut violations);
        match violations.into_result(()) {
            Ok(()) => Vec::new(),
            Err(invalid) => invalid.0,
        }
    }

    fn nth_lang(i: usize) -> Lang {
        Lang::parse(&format!("en-x{i:07}")).expect("a valid tag")
    }

    #[test]
    fn too_many_sections_are_one_violation_naming_the_count_and_the_limit() {
        let langs = (0..100_000)
            .map(|i| LangSection::new(nth_lang(i), vec![Term::preferred("a")]))
            .collect();
        let found = violations_of(|v| {
            concept(Concept::new("c", "", langs), "concept", v);
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "concept.langs");
        assert_eq!(
            found[0].reason,
            "has 100000 sections, more than the limit of 256"
        );
    }

    #[test]
    fn a_language_repeated_is_named_at_each_repetition() {
        let segment = |i: usize| Segment {
            lang: nth_lang(i % 3),
            text: "a".into(),
            tags: Vec::new(),
        };
        let translation = TranslationUnit {
            id: String::new(),
            segments: (0..5).map(segment).collect(),
            origin: String::new(),
            created_ms: 0,
            metadata: Vec::new(),
        };
        let found = violations_of(|v| unit(&translation, "unit", v));
        let fields: Vec<&str> = found.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["unit.segments[3].lang", "unit.segments[4].lang"]);
        let too_many = TranslationUnit {
            segments: (0..=MAX_SEGMENTS).map(|i| segment(i + 3)).collect(),
            ..translation
        };
        let found = violations_of(|v| unit(&too_many, "unit", v));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "unit.segments");
    }
}
