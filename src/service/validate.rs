//! Request validation: every handler turns its request into checked domain values here,
//! collecting every violation into one `INVALID_ARGUMENT` that names the fields.

use std::fmt::Write as _;

use tonic::Status;

use crate::model::Lang;

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

/// The field violations found in one request.
#[derive(Default, Debug)]
pub struct Violations(Vec<(String, String)>);

impl Violations {
    /// Records that `field` is wrong, and why.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push((field.into(), reason.into()));
    }

    /// `Ok(value)` when nothing was recorded, else one `INVALID_ARGUMENT` naming every field.
    pub fn into_result<T>(self, value: T) -> Result<T, Status> {
        match self.describe() {
            None => Ok(value),
            Some(reasons) => Err(Status::invalid_argument(format!(
                "invalid request: {reasons}"
            ))),
        }
    }

    /// Every violation as `field: reason`, joined by `; `; `None` when there is none. Also the
    /// reason an import gives for rejecting an entry of a file.
    pub fn describe(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let mut message = String::new();
        for (i, (field, reason)) in self.0.iter().enumerate() {
            if i > 0 {
                message.push_str("; ");
            }
            let _ = write!(message, "{field}: {reason}");
        }
        Some(message)
    }

    /// Like [`Violations::into_result`], for a value that checking left `None` only after
    /// recording why (a required language tag that did not parse).
    pub fn into_checked<T>(self, value: Option<T>) -> Result<T, Status> {
        self.into_result(value)?
            .ok_or_else(|| Status::invalid_argument("invalid request"))
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
