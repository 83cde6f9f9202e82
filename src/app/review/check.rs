//! The translation check of one segment pair against the termbase: each term recognized in
//! the source must have an approved rendering of its concept in the target (preferred or
//! admitted), a deprecated or forbidden rendering is reported with what to write instead,
//! and the numbers of both sides must agree.
//!
//! Both sides go through the recognizer, so the target is matched the way Recognize matches
//! it: Russian in any case and number by stems, Chinese leftmost-longest, so that a term
//! inside a longer, different term (上海 in 上海精神) never counts as present.
//!
//! The recognizer gives each stretch of text to one term, the longest: a rendering inside a
//! longer term of another concept (ШОС in «в рамках ШОС») is not an occurrence of its own, and
//! a single common word standing alone in prose (connectivity) is not recognized at all. So a
//! source term without an occurrence of its concept in the target is still present when one of
//! its approved terms is written there as whole words; in Chinese, which has no spaces to
//! mark words, only outside every recognized term.

use std::ops::Range;

use super::numbers::{numbers, same_value, Number};
use crate::index::{text_spans, Cancel, Occurrence, Snapshot, Spans};
use crate::model::{Concept, Lang, Term, TermStatus};
use crate::text::{self, NormalizedText, Token};

/// One source segment and its translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentPair {
    /// The caller's name for the pair (a unit id, a line number); may be empty.
    pub id: String,
    /// The source text.
    pub source: String,
    /// Its language.
    pub source_lang: Lang,
    /// The translation.
    pub target: String,
    /// Its language.
    pub target_lang: Lang,
}

/// What a finding reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// A source term whose concept has no approved rendering in the target.
    MissingTerm,
    /// A deprecated term in the target: for a source term, or with no source counterpart.
    DeprecatedUsed,
    /// A forbidden term in the target: for a source term, or with no source counterpart.
    ForbiddenUsed,
    /// A number of one side that the other side does not have.
    NumberMismatch,
}

impl FindingKind {
    /// The name used in reports and evaluation files: `missing_term`, `deprecated_used`,
    /// `forbidden_used`, `number_mismatch`.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::MissingTerm => "missing_term",
            FindingKind::DeprecatedUsed => "deprecated_used",
            FindingKind::ForbiddenUsed => "forbidden_used",
            FindingKind::NumberMismatch => "number_mismatch",
        }
    }

    /// How serious a finding of this kind is: a forbidden term or a changed number is wrong
    /// in any text; a missing or deprecated term may be a fair rewording, for an editor to
    /// judge.
    pub fn severity(self) -> Severity {
        match self {
            FindingKind::MissingTerm | FindingKind::DeprecatedUsed => Severity::Warning,
            FindingKind::ForbiddenUsed | FindingKind::NumberMismatch => Severity::Error,
        }
    }
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// For an editor to look at.
    Warning,
    /// Wrong: the text must not go out like this.
    Error,
}

/// A place in one side of a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Byte, char and UTF-16 ranges in that side's text.
    pub spans: Spans,
    /// The text at that range.
    pub surface: String,
}

/// One problem of a pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// What is wrong.
    pub kind: FindingKind,
    /// How serious it is.
    pub severity: Severity,
    /// Where in the source: the term or number; `None` for a target term or number with no
    /// source counterpart.
    pub source: Option<Place>,
    /// Where in the target: the term or number used; `None` when missing.
    pub target: Option<Place>,
    /// The concept of the term; empty for numbers.
    pub concept_id: String,
    /// The stored term the target used (deprecated or forbidden); empty otherwise.
    pub used_term: String,
    /// That term's note, e.g. why it is deprecated.
    pub used_term_note: String,
    /// The approved renderings in the target language, preferred first; for a number, its
    /// value as the other side should have it.
    pub expected: Vec<String>,
    /// One sentence for a reader.
    pub message: String,
}

/// The findings of one pair.
#[derive(Clone, Debug, PartialEq)]
pub struct PairReport {
    /// The pair's id as given.
    pub id: String,
    /// Its findings: terms in source order, then target terms without a source
    /// counterpart, then numbers.
    pub findings: Vec<Finding>,
}

/// Checks one pair against the terms of `collections` (empty = all).
pub fn check_pair(
    snapshot: &Snapshot,
    pair: &SegmentPair,
    collections: &[String],
    cancel: &Cancel,
) -> PairReport {
    let source =
        snapshot.recognize_cancellable(&pair.source, Some(&pair.source_lang), collections, cancel);
    let target =
        snapshot.recognize_cancellable(&pair.target, Some(&pair.target_lang), collections, cancel);
    let normalized_target = text::normalize(&pair.target);
    let target_tokens = text::tokenize(normalized_target.as_str());
    let chinese_target = pair.target_lang.primary() == "zh";
    let mut findings = Vec::new();
    let mut used = vec![false; target.len()];
    for occurrence in &source {
        let expected = approved(&occurrence.concept, &pair.target_lang);
        if expected.is_empty() {
            // Nothing to expect: the concept has no current term in the target language.
            continue;
        }
        let unused_of_concept =
            |i: &usize| !used[*i] && target[*i].concept.id == occurrence.concept.id;
        let acceptable = (0..target.len())
            .filter(unused_of_concept)
            .find(|&i| !target[i].matched_term().status.is_discouraged());
        let chosen = acceptable.or_else(|| (0..target.len()).find(unused_of_concept));
        match chosen {
            Some(i) => {
                used[i] = true;
                if target[i].matched_term().status.is_discouraged() {
                    findings.push(discouraged(
                        Some(place(&pair.source, &occurrence.spans)),
                        &target[i],
                        &pair.target,
                        &expected,
                    ));
                }
            }
            None if written_elsewhere(
                &normalized_target,
                &target_tokens,
                &target,
                &expected,
                chinese_target,
            ) => {}
            None => findings.push(missing(occurrence, &pair.source, &expected)),
        }
    }
    for (i, occurrence) in target.iter().enumerate() {
        if !used[i] && occurrence.matched_term().status.is_discouraged() {
            let expected = approved(&occurrence.concept, &pair.target_lang);
            findings.push(discouraged(None, occurrence, &pair.target, &expected));
        }
    }
    findings.extend(number_findings(pair, &source, &target));
    PairReport {
        id: pair.id.clone(),
        findings,
    }
}

/// The concept's approved terms in `lang` (preferred, then admitted), as written.
pub(super) fn approved(concept: &Concept, lang: &Lang) -> Vec<String> {
    let mut terms: Vec<&Term> = concept
        .sections_for(lang)
        .flat_map(|s| s.terms.iter())
        .filter(|t| t.status.is_current())
        .collect();
    terms.sort_by_key(|t| t.status);
    terms.into_iter().map(|t| t.text.clone()).collect()
}

/// Whether one of `terms` is written in `target` as whole words compared by stem (so in any
/// inflected form); in a `chinese` target, only outside every recognized occurrence.
fn written_elsewhere(
    target: &NormalizedText,
    tokens: &[Token],
    recognized: &[Occurrence],
    terms: &[String],
    chinese: bool,
) -> bool {
    terms.iter().any(|term| {
        let wanted = text::tokenize(&text::normalize_key(term));
        if wanted.is_empty() || wanted.len() > tokens.len() {
            return false;
        }
        tokens.windows(wanted.len()).any(|window| {
            let same = window.iter().zip(&wanted).all(|(t, w)| t.stem == w.stem);
            if !same || !chinese {
                return same;
            }
            let first = window[0].range.start;
            let last = window[window.len() - 1].range.end;
            let original = target.original_range(first..last);
            !recognized
                .iter()
                .any(|o| o.spans.bytes.start < original.end && original.start < o.spans.bytes.end)
        })
    })
}

fn place(text: &str, spans: &Spans) -> Place {
    Place {
        surface: text.get(spans.bytes.clone()).unwrap_or_default().to_owned(),
        spans: spans.clone(),
    }
}

fn missing(occurrence: &Occurrence, source: &str, expected: &[String]) -> Finding {
    let surface = place(source, &occurrence.spans);
    let message = format!(
        "{:?} ({}) has no approved rendering in the target; expected {}",
        surface.surface,
        occurrence.concept.id,
        quoted(expected)
    );
    Finding {
        kind: FindingKind::MissingTerm,
        severity: FindingKind::MissingTerm.severity(),
        source: Some(surface),
        target: None,
        concept_id: occurrence.concept.id.clone(),
        used_term: String::new(),
        used_term_note: String::new(),
        expected: expected.to_vec(),
        message,
    }
}

fn discouraged(
    source: Option<Place>,
    occurrence: &Occurrence,
    target: &str,
    expected: &[String],
) -> Finding {
    let term = occurrence.matched_term();
    let kind = if term.status == TermStatus::Forbidden {
        FindingKind::ForbiddenUsed
    } else {
        FindingKind::DeprecatedUsed
    };
    let status = if kind == FindingKind::ForbiddenUsed {
        "forbidden"
    } else {
        "deprecated"
    };
    let used = place(target, &occurrence.spans);
    let counterpart = match &source {
        Some(source) => format!(" for {:?}", source.surface),
        None => String::new(),
    };
    let mut message = format!(
        "{:?} is a {status} term ({}){counterpart}; use {}",
        used.surface,
        occurrence.concept.id,
        quoted(expected)
    );
    if !term.note.is_empty() {
        message.push_str(&format!(" ({})", term.note));
    }
    Finding {
        kind,
        severity: kind.severity(),
        source,
        target: Some(used),
        concept_id: occurrence.concept.id.clone(),
        used_term: term.text.clone(),
        used_term_note: term.note.clone(),
        expected: expected.to_vec(),
        message,
    }
}

fn quoted(terms: &[String]) -> String {
    match terms {
        [] => "an approved term".to_owned(),
        terms => terms
            .iter()
            .map(|t| format!("{t:?}"))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// The numbers one side has and the other has not, outside recognized terms: matched by
/// value, and the ones left over paired in text order (a changed number), the rest alone.
fn number_findings(
    pair: &SegmentPair,
    source: &[Occurrence],
    target: &[Occurrence],
) -> Vec<Finding> {
    let term_ranges = |found: &[Occurrence]| -> Vec<Range<usize>> {
        found.iter().map(|o| o.spans.bytes.clone()).collect()
    };
    let mut source_numbers = numbers(&pair.source, &term_ranges(source));
    let mut target_numbers = numbers(&pair.target, &term_ranges(target));
    source_numbers.retain(|n| {
        match target_numbers
            .iter()
            .position(|t| same_value(t.value, n.value))
        {
            Some(i) => {
                target_numbers.remove(i);
                false
            }
            None => true,
        }
    });
    let mut findings = Vec::new();
    let mut source_left = source_numbers.into_iter();
    let mut target_left = target_numbers.into_iter();
    loop {
        let (s, t) = (source_left.next(), target_left.next());
        if s.is_none() && t.is_none() {
            return findings;
        }
        findings.push(number_finding(pair, s, t));
    }
}

fn number_finding(pair: &SegmentPair, source: Option<Number>, target: Option<Number>) -> Finding {
    let located = |text: &str, n: &Number| {
        let spans = text_spans(text, std::slice::from_ref(&n.bytes));
        spans.into_iter().next().map(|s| place(text, &s))
    };
    let source_place = source.as_ref().and_then(|n| located(&pair.source, n));
    let target_place = target.as_ref().and_then(|n| located(&pair.target, n));
    let surface = |p: &Option<Place>| p.as_ref().map(|p| p.surface.clone()).unwrap_or_default();
    let message = match (&source_place, &target_place) {
        (Some(_), Some(_)) => format!(
            "the source has {:?}, the target {:?}",
            surface(&source_place),
            surface(&target_place)
        ),
        (Some(_), None) => format!(
            "{:?} of the source is not in the target",
            surface(&source_place)
        ),
        _ => format!(
            "{:?} of the target is not in the source",
            surface(&target_place)
        ),
    };
    Finding {
        kind: FindingKind::NumberMismatch,
        severity: FindingKind::NumberMismatch.severity(),
        source: source_place,
        target: target_place,
        concept_id: String::new(),
        used_term: String::new(),
        used_term_note: String::new(),
        expected: source.map(|n| format_value(n.value)).into_iter().collect(),
        message,
    }
}

/// A value as plain digits, without exponent or needless decimals.
fn format_value(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
