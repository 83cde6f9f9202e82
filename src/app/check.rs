//! The domain's checks of a concept and a translation unit, wherever they come from: the
//! RPCs check what clients send with them, and an import checks each entry of a file with the
//! same, so that both refuse the same things for the same reasons.

use crate::formats::check_tmx_unit;
use crate::model::violation::{MAX_ITEMS, MAX_NOTE_BYTES, MAX_SEGMENT_BYTES, MAX_TERM_BYTES};
use crate::model::{Concept, TranslationUnit, Violations};

/// Tidies `concept` (subject field and term texts trimmed) and records what it breaks, field
/// paths under `field` (e.g. `concept.langs[1].terms[0].text`): an id and collection the
/// store can key, texts within limits, at least one language section, each language once,
/// each section with one term or more and at most [`MAX_ITEMS`] of them.
pub fn concept(mut concept: Concept, field: &str, violations: &mut Violations) -> Concept {
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
    if concept.langs.len() > MAX_ITEMS {
        violations.add(
            format!("{field}.langs"),
            format!("more than {MAX_ITEMS} sections"),
        );
    }
    for (i, section) in concept.langs.iter().enumerate() {
        let path = format!("{field}.langs[{i}]");
        if concept.langs[..i].iter().any(|s| s.lang == section.lang) {
            violations.add(
                format!("{path}.lang"),
                format!("{} appears in two sections", section.lang),
            );
        }
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
        if section.terms.len() > MAX_ITEMS {
            violations.add(
                format!("{path}.terms"),
                format!("more than {MAX_ITEMS} terms"),
            );
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
pub fn unit(unit: &TranslationUnit, field: &str, violations: &mut Violations) {
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
    for (i, segment) in unit.segments.iter().enumerate() {
        if unit.segments[..i].iter().any(|s| s.lang == segment.lang) {
            violations.add(
                format!("{field}.segments[{i}].lang"),
                format!("{} appears in two segments", segment.lang),
            );
        }
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
