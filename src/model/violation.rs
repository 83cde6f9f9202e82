//! Field violations: what is wrong with a value a client or a file gave, field by field.
//!
//! Every RPC turns its request into checked domain values with a [`Violations`] collector, and
//! an import checks each entry of a file with the same checks, so that a concept refused by
//! UpsertConcept is refused by an import too, for the same reason. The collector ends in one
//! [`Invalid`] naming every field; the service layer answers it `INVALID_ARGUMENT`, the importer
//! reports it as the entry's problem.

use std::fmt::Write as _;

use super::Lang;

/// Most bytes of a term, a lookup query, an id or a name.
pub const MAX_TERM_BYTES: usize = 1024;
/// Most bytes of a definition, note or context.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;
/// Most bytes of a translation-memory segment or search query.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024;
/// Most bytes of a text sent to Recognize.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Most bytes of a collection or memory name.
pub const MAX_ID_BYTES: usize = 128;
/// Most bytes of a concept or unit id: longer than a name, because ids come from other tools'
/// files (EticaAI's test termbase has a 150-byte multi-script id).
pub const MAX_ENTRY_ID_BYTES: usize = 512;
/// Most language sections in a concept, and terms in a section.
pub const MAX_ITEMS: usize = 256;
/// Most segments in a translation unit: one per language, and no memory of the SCO's
/// languages comes near it. A client or file that sends more is refused before anything else
/// of the unit is looked at.
pub const MAX_SEGMENTS: usize = 256;

/// One thing wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field's path, e.g. `concept.langs[1].terms[0].text`.
    pub field: String,
    /// What is wrong with it, in words.
    pub reason: String,
}

/// A request or entry with one violation or more: the error [`Violations`] ends in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", describe(.0))]
pub struct Invalid(pub Vec<Violation>);

impl Invalid {
    /// One violation of `field`.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Invalid {
        Invalid(vec![Violation {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    /// Every violation as `field: reason`, joined by `; `: the reason an import gives for
    /// rejecting an entry of a file.
    pub fn reasons(&self) -> String {
        describe(&self.0)
    }
}

fn describe(violations: &[Violation]) -> String {
    let mut message = String::new();
    for (i, Violation { field, reason }) in violations.iter().enumerate() {
        if i > 0 {
            message.push_str("; ");
        }
        let _ = write!(message, "{field}: {reason}");
    }
    message
}

/// The field violations found in one request or entry.
#[derive(Default, Debug)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// Records that `field` is wrong, and why.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            reason: reason.into(),
        });
    }

    /// `Ok(value)` when nothing was recorded, else one [`Invalid`] naming every field.
    pub fn into_result<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(self.0))
        }
    }

    /// Like [`Violations::into_result`], for a value that checking left `None` only after
    /// recording why (a required language tag that did not parse).
    pub fn into_checked<T>(mut self, value: Option<T>) -> Result<T, Invalid> {
        match value {
            Some(value) => self.into_result(value),
            None => {
                if self.0.is_empty() {
                    self.add("request", "is incomplete");
                }
                Err(Invalid(self.0))
            }
        }
    }

    /// Checks a required text field: not blank, at most `max` bytes.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else {
            self.max_len(field, value, max);
        }
    }

    /// Checks an optional text field's size.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.len() > max {
            self.add(
                field,
                format!("is {} bytes, more than the limit of {max}", value.len()),
            );
        }
    }

    /// Parses a language tag that must be present.
    pub fn lang(&mut self, field: &str, value: &str) -> Option<Lang> {
        match Lang::parse(value) {
            Ok(lang) => Some(lang),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// Parses a language tag that may be empty (meaning "detect" or "all").
    pub fn optional_lang(&mut self, field: &str, value: &str) -> Option<Lang> {
        if value.trim().is_empty() {
            None
        } else {
            self.lang(field, value)
        }
    }

    /// Parses a list of language tags, naming the bad element by position.
    pub fn langs(&mut self, field: &str, values: &[String]) -> Vec<Lang> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| self.lang(&format!("{field}[{i}]"), v))
            .collect()
    }

    /// Checks a list of identifiers (collection or memory names), naming the bad element.
    pub fn identifiers(&mut self, field: &str, values: &[String]) {
        for (i, value) in values.iter().enumerate() {
            self.identifier(&format!("{field}[{i}]"), value);
        }
    }

    /// Checks a `min_score`: 0 (the default) up to 1.
    pub fn min_score(&mut self, field: &str, value: f32) {
        if !(0.0..=1.0).contains(&value) {
            self.add(field, "must be between 0 and 1");
        }
    }

    /// Checks the id of a concept or unit: not empty, at most 512 bytes, no whitespace or
    /// control characters. Looser than [`Violations::identifier`] because ids come from other
    /// tools' files (TBX ids are XML names, TMX `tuid`s are free text) and must survive a
    /// round trip unchanged.
    pub fn entry_id(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.add(field, "must not be empty");
        } else if value.len() > MAX_ENTRY_ID_BYTES {
            self.add(field, format!("is longer than {MAX_ENTRY_ID_BYTES} bytes"));
        } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.add(field, "must not contain whitespace or control characters");
        }
    }

    /// Checks an identifier: ASCII letters, digits, `-`, `_`, `.`, at most 128 bytes.
    pub fn identifier(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.add(field, "must not be empty");
        } else if value.len() > MAX_ID_BYTES {
            self.add(field, format!("is longer than {MAX_ID_BYTES} bytes"));
        } else if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            self.add(
                field,
                "may contain only ASCII letters, digits, '-', '_' and '.'",
            );
        }
    }
}
