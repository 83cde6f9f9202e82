//! Review of translations against the termbase, knowing nothing of gRPC:
//!
//! - [`check`]: CheckTranslation, the terms and numbers of segment pairs compared (each
//!   term of the source must have an approved rendering in the target; deprecated and
//!   forbidden renderings and changed numbers are reported with both spans);
//! - [`glossary`]: GlossaryFor, the concepts of one text as a DeepL glossary and an LLM
//!   prompt block;
//! - `numbers`: numbers in running text read as values.
//!
//! Both recognize whole texts, so they run on the blocking pool with a Recognize permit
//! ([`Heavy::Recognize`]), after their input is checked against the bounds below.

pub mod check;
pub mod glossary;
mod numbers;

use std::sync::Arc;

pub use check::{Finding, FindingKind, PairReport, Place, SegmentPair, Severity};
pub use glossary::{Glossary, GlossaryEntry, LeftOut};

use super::work::{Admission, Heavy};
use super::AppError;
use crate::index::TermSearch;
use crate::model::{Lang, Violations};

/// The most pairs one check takes.
pub const MAX_PAIRS: usize = 1000;

/// The most text one check takes, sources and targets together, in UTF-8 bytes: as much as
/// one Recognize call.
pub const MAX_CHECK_BYTES: usize = 1024 * 1024;

/// The longest text a glossary is made for, in UTF-8 bytes.
pub const MAX_GLOSSARY_TEXT_BYTES: usize = 1024 * 1024;

/// The review functions of one server. Cheap to clone.
#[derive(Clone)]
pub struct Review {
    search: Arc<TermSearch>,
    admission: Admission,
}

impl Review {
    /// Review over the live term index `search`, admitted by `admission`.
    pub fn new(search: Arc<TermSearch>, admission: Admission) -> Review {
        Review { search, admission }
    }

    /// Checks every pair against the terms of `collections` (empty = all); one report per
    /// pair, in order. `INVALID_ARGUMENT`-style [`AppError::Invalid`] naming the field when
    /// there are no pairs, more than [`MAX_PAIRS`], more than [`MAX_CHECK_BYTES`] of text or
    /// a pair without source text.
    pub async fn check(
        &self,
        pairs: Vec<SegmentPair>,
        collections: Vec<String>,
    ) -> Result<Vec<PairReport>, AppError> {
        check_bounds(&pairs)?;
        let snapshot = self.search.snapshot();
        self.admission
            .run(Heavy::Recognize, "translation check", move |cancel| {
                pairs
                    .iter()
                    .map(|pair| check::check_pair(&snapshot, pair, &collections, cancel))
                    .collect()
            })
            .await
    }

    /// The glossary of `text` (in `from`) for a translation into `to`, from the terms of
    /// `collections` (empty = all). `text` must not be blank nor over
    /// [`MAX_GLOSSARY_TEXT_BYTES`].
    pub async fn glossary(
        &self,
        text: String,
        from: Lang,
        to: Lang,
        collections: Vec<String>,
    ) -> Result<Glossary, AppError> {
        let mut violations = Violations::default();
        violations.required_text("text", &text, MAX_GLOSSARY_TEXT_BYTES);
        violations.into_result(())?;
        let snapshot = self.search.snapshot();
        self.admission
            .run(Heavy::Recognize, "glossary", move |cancel| {
                glossary::glossary_for(&snapshot, &text, &from, &to, &collections, cancel)
            })
            .await
    }
}

fn check_bounds(pairs: &[SegmentPair]) -> Result<(), AppError> {
    let mut violations = Violations::default();
    if pairs.is_empty() {
        violations.add("pairs", "must hold at least one pair");
    }
    if pairs.len() > MAX_PAIRS {
        violations.add("pairs", format!("holds more than {MAX_PAIRS} pairs"));
    }
    let total: usize = pairs.iter().map(|p| p.source.len() + p.target.len()).sum();
    if total > MAX_CHECK_BYTES {
        violations.add(
            "pairs",
            format!("hold {total} bytes of text; at most {MAX_CHECK_BYTES}"),
        );
    }
    for (i, pair) in pairs.iter().enumerate().take(MAX_PAIRS) {
        if pair.source.trim().is_empty() {
            violations.add(format!("pairs[{i}].source_text"), "must not be empty");
        }
    }
    Ok(violations.into_result(())?)
}
