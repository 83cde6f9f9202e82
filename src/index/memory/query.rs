//! What a fuzzy search is asked and what it answers: the request, the matches, the filter's
//! statistics, and how the score counts a text's length.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::analyze::{self, Mode};
use super::diff::DiffSpan;
use crate::model::{Lang, TranslationUnit};
use crate::text;

/// The lowest score of a numbers-only match, however many numbers differ.
pub const NUMBERS_ONLY_FLOOR: f32 = 0.9;

/// What the score counts in a language's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountedAs {
    /// Chinese: every non-space character (a number is one).
    Characters,
    /// Every other language: every word token (a number is one).
    Words,
}

impl std::fmt::Display for CountedAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CountedAs::Characters => "characters",
            CountedAs::Words => "words",
        })
    }
}

/// The length of `text` in `lang` as the score counts it, after normalization: what a
/// search's cost grows with, so that a caller can bound a query before searching.
pub fn comparison_length(text: &str, lang: &Lang) -> (usize, CountedAs) {
    let mode = Mode::of(lang);
    let units = analyze::units(mode, text::normalize_key(text).as_str()).len();
    let counted = match mode {
        Mode::Chars => CountedAs::Characters,
        Mode::Words => CountedAs::Words,
    };
    (units, counted)
}

/// A fuzzy-match request, checked by the caller (who also applies defaults).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryQuery {
    /// The sentence to find earlier translations of.
    pub text: String,
    /// The language of `text`; stored segments answer it by [`Lang::accepts`], except that
    /// both Chinese standards answer a Chinese query (normalization folds them together).
    pub source: Lang,
    /// The language the translations are wanted in (same rule).
    pub target: Lang,
    /// Most matches to return.
    pub limit: usize,
    /// Lowest score to return.
    pub min_score: f32,
    /// Only these memories, in priority order for ties; empty = all, ties by memory name.
    pub memories: Vec<String>,
}

/// One stored unit matching a query.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryMatch {
    /// The unit.
    pub unit: Arc<TranslationUnit>,
    /// The memory it is stored in.
    pub memory: String,
    /// 0..1, see the module docs.
    pub score: f32,
    /// The stored source segment's text, which `diffs` refer to.
    pub source: String,
    /// The stored target segment's text.
    pub target: String,
    /// Differences between the query and `source`, in text order.
    pub diffs: Vec<DiffSpan>,
    /// The unit sequences are equal and only number values differ.
    pub numbers_only: bool,
    /// For a numbers-only match: `target` with the query's numbers in place of the stored
    /// ones, when every number that differs was found in `target` and replaced; `None`
    /// otherwise (see the module docs).
    pub adapted_target: Option<String>,
}

/// What the candidate filter did in one search: how the exact top-k was reached without
/// scoring every unit. For benchmarks, and for tests that must see the filter prune.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Per-part scans that used the q-gram count filter (`T > 0`, see the module docs).
    pub filtered_scans: usize,
    /// Per-part scans where the filter gives no bound (`T ≤ 0`) and every entry of an
    /// admissible length was verified.
    pub length_only_scans: usize,
    /// In filtered scans: entries of an admissible length, the ones a scan without the q-gram
    /// filter would have verified.
    pub admissible: usize,
    /// Of those, entries the q-gram filter kept from the distance computation.
    pub pruned: usize,
    /// Distance computations, over all scans.
    pub verified: usize,
    /// Entries found in the posting lists read, each counted once per scan.
    pub candidates: usize,
    /// Posting-list entries read.
    pub postings: usize,
    /// Posting lists past the prefix left unread, too long for the candidates they would
    /// prune: their grams count as shared by every candidate.
    pub unread_lists: usize,
    /// Time spent choosing the entries to verify: the plan, the lists read, the count filter.
    pub filtering: Duration,
    /// Time spent verifying them: bounded distances and scores.
    pub verifying: Duration,
    /// Time spent ranking the hits and building the returned matches (diffs, adapted
    /// targets).
    pub building: Duration,
}

impl std::ops::AddAssign for SearchStats {
    fn add_assign(&mut self, other: SearchStats) {
        self.filtered_scans += other.filtered_scans;
        self.length_only_scans += other.length_only_scans;
        self.admissible += other.admissible;
        self.pruned += other.pruned;
        self.verified += other.verified;
        self.candidates += other.candidates;
        self.postings += other.postings;
        self.unread_lists += other.unread_lists;
        self.filtering += other.filtering;
        self.verifying += other.verifying;
        self.building += other.building;
    }
}
