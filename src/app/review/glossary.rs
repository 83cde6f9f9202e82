//! A glossary for one text: only the concepts recognized in it, each with the forms found,
//! the preferred target rendering, a short sense note, whether matching should keep case,
//! and the variants to avoid; written as a DeepL glossary (TSV and CSV, following DeepL's
//! rules for entries) and as a compact block for an LLM prompt.
//!
//! DeepL's rules (API reference, "Manage glossaries" and "Glossary entries"): no empty
//! entry; no C0 or C1 control character (tab and newline included) nor Unicode line break in
//! an entry; no leading or trailing whitespace; source entries unique; each entry at most
//! 1024 UTF-8 bytes; the whole glossary at most 10 MiB. CSV fields with a comma or a double
//! quote are quoted, a quote doubled. An entry is cleaned when it can be (whitespace trimmed
//! and runs of inner whitespace made one space) and otherwise left out with the reason, so
//! that an upload never fails on it.

use std::collections::HashSet;

use crate::index::Cancel;
use crate::index::{Occurrence, Snapshot};
use crate::model::{Concept, Lang, TermType};

use super::check::approved;

/// DeepL's limit on one source or target entry, in UTF-8 bytes.
pub const DEEPL_MAX_ENTRY_BYTES: usize = 1024;

/// DeepL's limit on a whole glossary, in UTF-8 bytes.
pub const DEEPL_MAX_GLOSSARY_BYTES: usize = 10 * 1024 * 1024;

/// Characters of a sense note kept in an entry.
const NOTE_CHARS: usize = 120;

/// One concept of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlossaryEntry {
    /// The concept's id.
    pub concept_id: String,
    /// The source forms as written in the text, distinct, in text order.
    pub source_forms: Vec<String>,
    /// The preferred rendering in the target language.
    pub target: String,
    /// A short sense note: the definition (target language first, else English, else the
    /// source language), else the target term's note; shortened to about a sentence.
    pub note: String,
    /// Whether matching should keep case: an acronym (SCO, ШОС) or a form written in capitals.
    pub case_sensitive: bool,
    /// Deprecated and forbidden target terms of the concept, to avoid.
    pub avoid: Vec<String>,
}

/// A source form DeepL's rules kept out of the DeepL glossary, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// The source entry as it would have been.
    pub source: String,
    /// The target entry as it would have been.
    pub target: String,
    /// Which rule kept it out.
    pub reason: String,
}

/// The glossary of one text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glossary {
    /// The concepts present, in the order of their first occurrence.
    pub entries: Vec<GlossaryEntry>,
    /// The DeepL glossary as TSV: `source<TAB>target` lines.
    pub deepl_tsv: String,
    /// The same entries as CSV.
    pub deepl_csv: String,
    /// What the DeepL glossary left out.
    pub left_out: Vec<LeftOut>,
    /// A compact block for an LLM prompt.
    pub prompt: String,
}

/// The glossary of `text` (in `from`) for a translation into `to`, from the terms of
/// `collections` (empty = all).
pub fn glossary_for(
    snapshot: &Snapshot,
    text: &str,
    from: &Lang,
    to: &Lang,
    collections: &[String],
    cancel: &Cancel,
) -> Glossary {
    let found = snapshot.recognize_cancellable(text, Some(from), collections, cancel);
    let mut entries: Vec<GlossaryEntry> = Vec::new();
    for occurrence in &found {
        let surface = text
            .get(occurrence.spans.bytes.clone())
            .unwrap_or_default()
            .to_owned();
        if let Some(entry) = entries
            .iter_mut()
            .find(|e| e.concept_id == occurrence.concept.id)
        {
            if !entry.source_forms.contains(&surface) {
                entry.source_forms.push(surface);
            }
            continue;
        }
        if let Some(entry) = entry(occurrence, surface, from, to) {
            entries.push(entry);
        }
    }
    let (pairs, left_out) = deepl_entries(&entries);
    Glossary {
        deepl_tsv: pairs.iter().map(|(s, t)| format!("{s}\t{t}\n")).collect(),
        deepl_csv: pairs
            .iter()
            .map(|(s, t)| format!("{},{}\n", csv_field(s), csv_field(t)))
            .collect(),
        prompt: prompt(&entries, from, to),
        entries,
        left_out,
    }
}

fn entry(
    occurrence: &Occurrence,
    surface: String,
    from: &Lang,
    to: &Lang,
) -> Option<GlossaryEntry> {
    let concept = &occurrence.concept;
    let target = approved(concept, to).into_iter().next()?;
    let term = occurrence.matched_term();
    let case_sensitive = term.term_type == TermType::Acronym || written_in_capitals(&surface);
    let avoid = concept
        .sections_for(to)
        .flat_map(|s| s.terms.iter())
        .filter(|t| t.status.is_discouraged())
        .map(|t| t.text.clone())
        .collect();
    Some(GlossaryEntry {
        concept_id: concept.id.clone(),
        source_forms: vec![surface],
        note: sense_note(concept, from, to),
        target,
        case_sensitive,
        avoid,
    })
}

/// Two or more letters, every cased one upper case: SCO, ШОС, BRICS.
fn written_in_capitals(surface: &str) -> bool {
    let cased: Vec<char> = surface
        .chars()
        .filter(|c| c.is_uppercase() || c.is_lowercase())
        .collect();
    cased.len() >= 2 && cased.iter().all(|c| c.is_uppercase())
}

fn sense_note(concept: &Concept, from: &Lang, to: &Lang) -> String {
    let langs = [to.clone(), Lang::en(), from.clone()];
    let definition = langs
        .iter()
        .flat_map(|lang| concept.sections_for(lang).collect::<Vec<_>>())
        .map(|s| s.definition.trim())
        .find(|d| !d.is_empty());
    let note = definition.or_else(|| {
        concept
            .sections_for(to)
            .flat_map(|s| s.terms.iter())
            .find(|t| t.status.is_current() && !t.note.trim().is_empty())
            .map(|t| t.note.trim())
    });
    note.map(shorten).unwrap_or_default()
}

/// The first sentence of `text`, at most [`NOTE_CHARS`] characters, on one line.
fn shorten(text: &str) -> String {
    let one_line = collapse_whitespace(text);
    let sentence = match one_line.find(". ") {
        Some(end) => &one_line[..=end],
        None => one_line.as_str(),
    };
    if sentence.chars().count() <= NOTE_CHARS {
        return sentence.to_owned();
    }
    let mut short: String = sentence.chars().take(NOTE_CHARS - 1).collect();
    short.push('…');
    short
}

/// Whitespace runs made one space, line breaks included; trimmed.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The DeepL entries, one per distinct source form, cleaned; and what was left out.
fn deepl_entries(entries: &[GlossaryEntry]) -> (Vec<(String, String)>, Vec<LeftOut>) {
    let mut pairs = Vec::new();
    let mut left_out = Vec::new();
    let mut sources = HashSet::new();
    let mut size = 0;
    for entry in entries {
        for form in &entry.source_forms {
            let source = deepl_clean(form);
            let target = deepl_clean(&entry.target);
            let refused = |reason: &str| LeftOut {
                source: source.clone(),
                target: target.clone(),
                reason: reason.to_owned(),
            };
            if source.is_empty() || target.is_empty() {
                left_out.push(refused(
                    "an entry is empty once control characters and outer whitespace are removed",
                ));
            } else if source.len() > DEEPL_MAX_ENTRY_BYTES || target.len() > DEEPL_MAX_ENTRY_BYTES {
                left_out.push(refused("an entry is longer than DeepL's 1024 bytes"));
            } else if !sources.insert(source.clone()) {
                left_out.push(refused(
                    "the source entry is already in the glossary (DeepL needs unique sources)",
                ));
            } else if size + source.len() + target.len() + 2 > DEEPL_MAX_GLOSSARY_BYTES {
                left_out.push(refused("the glossary would pass DeepL's 10 MiB"));
            } else {
                size += source.len() + target.len() + 2;
                pairs.push((source, target));
            }
        }
    }
    (pairs, left_out)
}

/// An entry as DeepL accepts it: control characters (C0, C1) and line breaks become spaces,
/// runs of whitespace one space, outer whitespace is trimmed.
fn deepl_clean(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    collapse_whitespace(&spaced)
}

/// A CSV field: quoted when it holds a comma or a double quote, a quote doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The prompt block: one line per concept, the forms found → the rendering (the sense, and
/// "keep case" for acronyms), then what to avoid.
fn prompt(entries: &[GlossaryEntry], from: &Lang, to: &Lang) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut block = format!("Terminology ({from} → {to}). Use these renderings:\n");
    for entry in entries {
        block.push_str(&format!(
            "- {} → {}",
            entry.source_forms.join(" / "),
            entry.target
        ));
        let mut remarks = Vec::new();
        if !entry.note.is_empty() {
            remarks.push(entry.note.clone());
        }
        if entry.case_sensitive {
            remarks.push("keep case".to_owned());
        }
        if !remarks.is_empty() {
            block.push_str(&format!(" ({})", remarks.join("; ")));
        }
        block.push('\n');
    }
    let avoid: Vec<String> = entries
        .iter()
        .filter(|e| !e.avoid.is_empty())
        .map(|e| format!("{} (write {})", e.avoid.join(", "), e.target))
        .collect();
    if !avoid.is_empty() {
        block.push_str(&format!("Do not use: {}.\n", avoid.join("; ")));
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepl_entries_are_cleaned_or_left_out_with_a_reason() {
        let entry = |forms: &[&str], target: &str| GlossaryEntry {
            concept_id: "c".into(),
            source_forms: forms.iter().map(|f| f.to_string()).collect(),
            target: target.into(),
            note: String::new(),
            case_sensitive: false,
            avoid: Vec::new(),
        };
        let entries = [
            entry(&[" 上海\t精神\n"], "Шанхайский дух "),
            entry(&["上海 精神"], "дубль"),
            entry(&["\u{1}"], "пусто"),
            entry(&["长"], &"я".repeat(600)),
        ];
        let (pairs, left_out) = deepl_entries(&entries);
        assert_eq!(
            pairs,
            [("上海 精神".to_owned(), "Шанхайский дух".to_owned())]
        );
        let reasons: Vec<&str> = left_out.iter().map(|l| l.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("unique"));
        assert!(reasons[1].contains("empty"));
        assert!(reasons[2].contains("1024"));
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(
            csv_field("Один пояс, один путь"),
            "\"Один пояс, один путь\""
        );
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn capitals_mark_acronyms_but_not_names() {
        assert!(written_in_capitals("ШОС"));
        assert!(written_in_capitals("SCO"));
        assert!(!written_in_capitals("China"));
        assert!(!written_in_capitals("上海"));
    }
}
