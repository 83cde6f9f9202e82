//! The translation-memory search index: fuzzy matching of a sentence against stored
//! translation units, and concordance search for a phrase. Pure in-memory structures over
//! [`TranslationUnit`]s; this module knows nothing of sled, gRPC or file formats.
//!
//! # Score
//!
//! A stored source segment scores the CAT-style similarity `1 − d / max(|a|, |b|)`, where `d`
//! is the Levenshtein distance between the query and the segment as sequences of units, after
//! the shared normalization ([`text::normalize`]): for Chinese every non-space character is a
//! unit; for Russian, English and every other language every word token of
//! [`text::tokenize`] (its text, not its stem) is a unit. Inline tags are kept out of
//! `Segment.text`, so they never count as differences.
//!
//! Numbers are placeholders: a number (digits after NFKC, so full-width digits too, with inner
//! `.`/`,` separators; in Chinese also a run of 〇一二三四五六七八九十百千万 followed by
//! 年, 月, 日 or 号 or standing alone between non-Han characters) compares equal to every other
//! number. When the unit sequences are equal (`d = 0`):
//!
//! * with equal number values (`二〇二四` equals `2024`) the score is exactly 1.0;
//! * otherwise the match is `numbers_only`, scores `1 − 0.01 × k` for `k` differing numbers,
//!   never below 0.9, and carries an `adapted_target`: the stored target with each stored
//!   source number (matched by value) replaced by the query's number at the same position.
//!
//! Ties are broken by memory priority (order in [`MemoryQuery::memories`], else memory name),
//! then unit id.
//!
//! # Candidate filter
//!
//! Each language keeps, for each stored segment, its unit sequence (units interned as `u32`,
//! every number as one placeholder id) and posting lists from q-grams of that sequence to
//! segments: `q = 2` for Chinese characters (single characters such as 的 occur in most
//! sentences, pairs are thousands of times rarer) and `q = 1` for word tokens (a word is
//! already as selective as a Chinese pair, and `q = 2` would halve the bound below).
//!
//! For a query of `n` units and threshold `s`, let `dmax(L)` be the largest `d` with
//! `1 − d / L ≥ s`, computed with the same floating-point expression as the score. A segment
//! of `m` units can score `≥ s` only if its distance is at most `dmax(max(n, m))`, so:
//!
//! * **length filter**: `|n − m| ≤ dmax(max(n, m))`, since `d ≥ |n − m|`;
//! * **count filter**: a string of length `L` has `L − q + 1` q-grams and one edit destroys at
//!   most `q` of them, so the two sequences share (as multisets) at least
//!   `T(m) = max(n, m) − q + 1 − q · dmax(max(n, m))` q-grams; the index uses
//!   `T = min T(m)` over all admissible `m`, valid for every candidate length;
//! * **prefix filter**: if the segment shares at least `T` of the query's `G = n − q + 1` gram
//!   occurrences, at most `G − T` occurrences are unshared, so any `G − T + 1` of them contain a
//!   shared one. The index takes the `G − T + 1` rarest occurrences (shortest posting lists) and
//!   only reads their lists, so very common grams (的, `the`, `и`) are never scanned.
//!
//! When `T ≤ 0` (short queries, low thresholds) the lemma gives no bound, and the index scans
//! the segments of admissible lengths instead, still exact. Candidates are verified with a
//! distance that stops once it exceeds `dmax`; below that it is the exact Levenshtein distance,
//! so the scores equal those of [`MemoryIndex::search_exhaustive`].
//!
//! Numbers-only matches have `d = 0` and therefore share every gram: they always pass.

mod adapt;
mod analyze;
mod diff;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::Arc;

use crate::index::levenshtein;
use crate::model::{Lang, TranslationUnit};
use crate::text::{self, is_han, NormalizedText};
use adapt::Number;
use analyze::{is_numeral, Mode, Unit};

/// The placeholder id every number is interned as.
const NUMBER: u32 = 0;

/// The lowest score of a numbers-only match, however many numbers differ.
pub const NUMBERS_ONLY_FLOOR: f32 = 0.9;

/// A fuzzy-match request, checked by the caller (who also applies defaults).
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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
    /// For a numbers-only match: `target` with the query's numbers in place of the stored ones.
    pub adapted_target: Option<String>,
}

/// What a difference between the query and a stored source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffKind {
    /// Units in the query that the stored source lacks (`stored` is an empty range where
    /// they would go).
    Inserted,
    /// Units in the stored source that the query lacks (`query` is an empty range).
    Deleted,
    /// Units of the query stand where the stored source has other units, or a number has
    /// another value.
    Replaced,
}

/// One difference, as byte ranges in both texts as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffSpan {
    /// What kind of difference.
    pub kind: DiffKind,
    /// Bytes in the query text.
    pub query: Range<usize>,
    /// Bytes in the stored source text.
    pub stored: Range<usize>,
}

/// One unit containing a concordance phrase.
#[derive(Clone, Debug)]
pub struct ConcordanceHit {
    /// The unit.
    pub unit: Arc<TranslationUnit>,
    /// The memory it is stored in.
    pub memory: String,
    /// The segment text containing the phrase.
    pub text: String,
    /// Where the phrase occurs, as bytes of `text`, in order and non-overlapping.
    pub spans: Vec<Range<usize>>,
    /// The unit's other segments.
    pub translations: Vec<(Lang, String)>,
}

/// Many named translation memories, indexed for fuzzy search and concordance.
///
/// Mutation takes `&mut self`; publish an `Arc<MemoryIndex>` snapshot to readers.
#[derive(Default)]
pub struct MemoryIndex {
    symbols: FastMap<Box<str>, u32>,
    memory_ids: HashMap<String, u32>,
    memory_names: Vec<String>,
    /// Per memory id: unit id → slot.
    by_unit_id: Vec<HashMap<String, u32>>,
    slots: Vec<Option<Stored>>,
    free_slots: Vec<u32>,
    lane_ids: HashMap<String, usize>,
    lanes: Vec<Lane>,
    live: usize,
}

/// A stored unit and where its segments sit in the lanes.
struct Stored {
    memory: u32,
    unit: Arc<TranslationUnit>,
    entries: Vec<(usize, u32)>,
}

/// All segments of one language (primary subtag).
struct Lane {
    mode: Mode,
    entries: Vec<Entry>,
    /// q-gram → entries containing it, ascending (entries are only appended).
    postings: FastMap<u64, Vec<u32>>,
    /// Unit-sequence length → live entries of that length.
    by_len: Vec<Vec<u32>>,
}

struct Entry {
    slot: u32,
    segment: u32,
    alive: bool,
    seq: Box<[u32]>,
}

/// A match before ranking.
struct Hit {
    score: f32,
    priority: usize,
    slot: u32,
    entry: u32,
    target: usize,
    numbers_only: bool,
}

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> MemoryIndex {
        MemoryIndex::default()
    }

    /// Adds (or replaces, by unit id) a unit of memory `memory`.
    pub fn insert(&mut self, memory: &str, unit: Arc<TranslationUnit>) {
        self.remove(memory, &unit.id);
        let memory_id = match self.memory_ids.get(memory) {
            Some(&id) => id,
            None => {
                let id = self.memory_names.len() as u32;
                self.memory_ids.insert(memory.to_owned(), id);
                self.memory_names.push(memory.to_owned());
                self.by_unit_id.push(HashMap::new());
                id
            }
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        let mut entries = Vec::with_capacity(unit.segments.len());
        for (segment, seg) in unit.segments.iter().enumerate() {
            let primary = seg.lang.primary();
            let lane_no = match self.lane_ids.get(primary) {
                Some(&no) => no,
                None => {
                    self.lanes.push(Lane::new(Mode::of(&seg.lang)));
                    self.lane_ids
                        .insert(primary.to_owned(), self.lanes.len() - 1);
                    self.lanes.len() - 1
                }
            };
            let mode = self.lanes[lane_no].mode;
            let normalized = text::normalize_key(&seg.text);
            let seq: Vec<u32> = analyze::units(mode, &normalized)
                .iter()
                .map(|u| self.intern(&normalized, u))
                .collect();
            let entry = self.lanes[lane_no].add(slot, segment as u32, seq);
            entries.push((lane_no, entry));
        }
        if let Some(map) = self.by_unit_id.get_mut(memory_id as usize) {
            map.insert(unit.id.clone(), slot);
        }
        self.slots[slot as usize] = Some(Stored {
            memory: memory_id,
            unit,
            entries,
        });
        self.live += 1;
    }

    /// Removes a unit by id; answers whether it was there.
    pub fn remove(&mut self, memory: &str, unit_id: &str) -> bool {
        let Some(&memory_id) = self.memory_ids.get(memory) else {
            return false;
        };
        let Some(slot) = self
            .by_unit_id
            .get_mut(memory_id as usize)
            .and_then(|m| m.remove(unit_id))
        else {
            return false;
        };
        let Some(stored) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        for (lane_no, entry) in stored.entries {
            if let Some(lane) = self.lanes.get_mut(lane_no) {
                lane.kill(entry);
            }
        }
        self.free_slots.push(slot);
        self.live -= 1;
        true
    }

    /// Number of stored units, over all memories.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no unit is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Indexed search: exactly the results of [`search_exhaustive`](Self::search_exhaustive)
    /// (same units, scores and order), with candidates from the q-gram index (see the module
    /// docs for why no match is missed).
    pub fn search(&self, query: &MemoryQuery) -> Vec<MemoryMatch> {
        self.run_search(query, true)
    }

    /// Scores every unit of the query's language: the reference for tests and benchmarks.
    pub fn search_exhaustive(&self, query: &MemoryQuery) -> Vec<MemoryMatch> {
        self.run_search(query, false)
    }

    /// Concordance: units whose `lang` segment contains `phrase` after normalization, on token
    /// boundaries for alphabetic languages and as a substring for Chinese, with every
    /// occurrence's span. Ordered by memory priority (order in `memories`, else name), then
    /// unit id; at most `limit` hits.
    pub fn concordance(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
    ) -> Vec<ConcordanceHit> {
        let Some(&lane_no) = self.lane_ids.get(lang.primary()) else {
            return Vec::new();
        };
        let lane = &self.lanes[lane_no];
        let needle = text::normalize_key(phrase);
        let needle_units = analyze::units(lane.mode, &needle);
        if needle_units.is_empty() || limit == 0 {
            return Vec::new();
        }
        let needle_words: Vec<&str> = needle_units
            .iter()
            .map(|u| needle.get(u.range.clone()).unwrap_or_default())
            .collect();
        // Grams every containing segment must have; `None` when one cannot occur at all.
        let mut required: Vec<u64> = Vec::new();
        match lane.mode {
            Mode::Words => {
                for (unit, word) in needle_units.iter().zip(&needle_words) {
                    if unit.number {
                        continue;
                    }
                    match self.symbols.get(*word) {
                        Some(&id) => required.push(u64::from(id)),
                        None => return Vec::new(),
                    }
                }
            }
            Mode::Chars => {
                let chars: Vec<char> = needle.chars().collect();
                for pair in chars.windows(2) {
                    let plain = |c: char| is_han(c) && !is_numeral(c);
                    if !(plain(pair[0]) && plain(pair[1])) {
                        continue;
                    }
                    let id = |c: char| self.symbols.get(c.encode_utf8(&mut [0; 4]) as &str);
                    match (id(pair[0]), id(pair[1])) {
                        (Some(&a), Some(&b)) => required.push(gram2(a, b)),
                        _ => return Vec::new(),
                    }
                }
            }
        }
        let candidates: Vec<u32> = if required.is_empty() {
            (0..lane.entries.len() as u32).collect()
        } else {
            let mut lists: Vec<&[u32]> = required
                .iter()
                .map(|g| lane.postings.get(g).map_or(&[][..], Vec::as_slice))
                .collect();
            lists.sort_by_key(|l| l.len());
            intersect(&lists)
        };
        let priorities = self.priorities(memories);
        let mut hits: Vec<(usize, &str, u32, ConcordanceHit)> = Vec::new();
        for entry_id in candidates {
            let Some(entry) = lane.entries.get(entry_id as usize).filter(|e| e.alive) else {
                continue;
            };
            let Some(stored) = self.stored(entry.slot) else {
                continue;
            };
            let Some(priority) = priorities[stored.memory as usize] else {
                continue;
            };
            let Some(seg) = stored.unit.segments.get(entry.segment as usize) else {
                continue;
            };
            if !answers(&seg.lang, lang) {
                continue;
            }
            let normalized = text::normalize(&seg.text);
            let spans = find_phrase(lane.mode, &normalized, &needle, &needle_words);
            if spans.is_empty() {
                continue;
            }
            let translations = stored
                .unit
                .segments
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != entry.segment as usize)
                .map(|(_, s)| (s.lang.clone(), s.text.clone()))
                .collect();
            hits.push((
                priority,
                stored.unit.id.as_str(),
                entry.slot,
                ConcordanceHit {
                    unit: stored.unit.clone(),
                    memory: self.memory_names[stored.memory as usize].clone(),
                    text: seg.text.clone(),
                    spans,
                    translations,
                },
            ));
        }
        hits.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        hits.dedup_by_key(|h| h.2);
        hits.truncate(limit);
        hits.into_iter().map(|h| h.3).collect()
    }

    fn intern(&mut self, normalized: &str, unit: &Unit) -> u32 {
        if unit.number {
            return NUMBER;
        }
        let key = normalized.get(unit.range.clone()).unwrap_or_default();
        if let Some(&id) = self.symbols.get(key) {
            return id;
        }
        let id = self.symbols.len() as u32 + 1;
        self.symbols.insert(key.into(), id);
        id
    }

    /// Symbols of a query; units the index has never seen get ids no stored unit has.
    fn query_seq(&self, normalized: &str, units: &[Unit]) -> Vec<u32> {
        let mut unknown: HashMap<&str, u32> = HashMap::new();
        units
            .iter()
            .map(|u| {
                if u.number {
                    return NUMBER;
                }
                let key = normalized.get(u.range.clone()).unwrap_or_default();
                match self.symbols.get(key) {
                    Some(&id) => id,
                    None => {
                        let next = u32::MAX - unknown.len() as u32;
                        *unknown.entry(key).or_insert(next)
                    }
                }
            })
            .collect()
    }

    fn stored(&self, slot: u32) -> Option<&Stored> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// Per memory id: its rank for ties, or `None` when the query excludes it.
    fn priorities(&self, memories: &[String]) -> Vec<Option<usize>> {
        let mut ranks = vec![None; self.memory_names.len()];
        if memories.is_empty() {
            let mut order: Vec<usize> = (0..self.memory_names.len()).collect();
            order.sort_by(|&a, &b| self.memory_names[a].cmp(&self.memory_names[b]));
            for (rank, id) in order.into_iter().enumerate() {
                ranks[id] = Some(rank);
            }
        } else {
            for (rank, name) in memories.iter().enumerate() {
                if let Some(&id) = self.memory_ids.get(name) {
                    ranks[id as usize].get_or_insert(rank);
                }
            }
        }
        ranks
    }

    fn run_search(&self, query: &MemoryQuery, indexed: bool) -> Vec<MemoryMatch> {
        let threshold = query.min_score;
        if query.limit == 0 || threshold.is_nan() || threshold > 1.0 {
            return Vec::new();
        }
        let Some(&lane_no) = self.lane_ids.get(query.source.primary()) else {
            return Vec::new();
        };
        let lane = &self.lanes[lane_no];
        let normalized = text::normalize(&query.text);
        let units = analyze::units(lane.mode, normalized.as_str());
        let seq = self.query_seq(normalized.as_str(), &units);
        let numbers = adapt::numbers(lane.mode, normalized.as_str());
        let priorities = self.priorities(&query.memories);
        let n = seq.len();
        let context = Context {
            index: self,
            lane,
            query,
            seq: &seq,
            numbers: &numbers,
            priorities: &priorities,
        };
        let mut hits = Vec::new();
        if indexed {
            let Some(plan) = Plan::new(lane, &seq, threshold) else {
                return Vec::new();
            };
            let mut counter = GramCounter::new(lane.mode, &seq);
            for entry_id in plan.candidates(lane, &seq) {
                let Some(entry) = lane.entries.get(entry_id as usize) else {
                    continue;
                };
                if !entry.alive {
                    continue;
                }
                let m = entry.seq.len();
                let Some(Some(dmax)) = plan.dmax.get(m) else {
                    continue;
                };
                // The count filter again, with this candidate's own length: cheaper than the
                // distance, and it drops most candidates that only share a rare gram or two.
                if plan.min_shared.is_some() {
                    let needed =
                        (n.max(m) + 1) as isize - lane.mode.q() as isize * (1 + *dmax as isize);
                    if (counter.shared(lane.mode, &entry.seq) as isize) < needed {
                        continue;
                    }
                }
                let Some((stored, target)) = context.eligible(entry) else {
                    continue;
                };
                let Some(d) = bounded_levenshtein(&seq, &entry.seq, *dmax) else {
                    continue;
                };
                if let Some(hit) = context.score(entry_id, entry, stored, target, d) {
                    hits.push(hit);
                }
            }
        } else {
            for (entry_id, entry) in lane.entries.iter().enumerate() {
                if !entry.alive {
                    continue;
                }
                let Some((stored, target)) = context.eligible(entry) else {
                    continue;
                };
                let d = levenshtein(&seq, &entry.seq);
                if let Some(hit) = context.score(entry_id as u32, entry, stored, target, d) {
                    hits.push(hit);
                }
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.priority.cmp(&b.priority))
                .then_with(|| self.unit_id(a.slot).cmp(self.unit_id(b.slot)))
                .then(a.slot.cmp(&b.slot))
                .then(a.entry.cmp(&b.entry))
        });
        // A unit with two segments answering the query (en-GB and en-US) counts once, by its
        // best segment.
        let mut seen = std::collections::HashSet::new();
        hits.retain(|h| seen.insert(h.slot));
        hits.truncate(query.limit);
        hits.into_iter()
            .filter_map(|hit| context.build(&normalized, &units, hit))
            .collect()
    }

    fn unit_id(&self, slot: u32) -> &str {
        self.stored(slot).map_or("", |s| s.unit.id.as_str())
    }
}

/// What scoring one candidate needs to know about the query.
struct Context<'a> {
    index: &'a MemoryIndex,
    lane: &'a Lane,
    query: &'a MemoryQuery,
    seq: &'a [u32],
    numbers: &'a [Number],
    priorities: &'a [Option<usize>],
}

impl<'a> Context<'a> {
    /// The entry's unit and target segment, when its memory and languages answer the query.
    fn eligible(&self, entry: &Entry) -> Option<(&'a Stored, usize)> {
        let stored = self.index.stored(entry.slot)?;
        self.priorities
            .get(stored.memory as usize)
            .copied()
            .flatten()?;
        let segments = &stored.unit.segments;
        let source = segments.get(entry.segment as usize)?;
        if !answers(&source.lang, &self.query.source) {
            return None;
        }
        let others = || {
            segments
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != entry.segment as usize)
        };
        let target = others()
            .find(|(_, s)| s.lang == self.query.target)
            .or_else(|| others().find(|(_, s)| answers(&s.lang, &self.query.target)))?;
        Some((stored, target.0))
    }

    fn score(
        &self,
        entry_id: u32,
        entry: &Entry,
        stored: &Stored,
        target: usize,
        d: usize,
    ) -> Option<Hit> {
        let longest = self.seq.len().max(entry.seq.len());
        let (score, numbers_only) = if d == 0 {
            let text = &stored.unit.segments.get(entry.segment as usize)?.text;
            let numbers = adapt::numbers(self.lane.mode, &text::normalize_key(text));
            match adapt::differing(self.numbers, &numbers) {
                0 => (1.0, false),
                k => (numbers_only_score(k), true),
            }
        } else {
            (plain_score(d, longest), false)
        };
        if score < self.query.min_score {
            return None;
        }
        Some(Hit {
            score,
            priority: self
                .priorities
                .get(stored.memory as usize)
                .copied()
                .flatten()?,
            slot: entry.slot,
            entry: entry_id,
            target,
            numbers_only,
        })
    }

    fn build(&self, normalized: &NormalizedText, units: &[Unit], hit: Hit) -> Option<MemoryMatch> {
        let stored = self.index.stored(hit.slot)?;
        let entry = self.lane.entries.get(hit.entry as usize)?;
        let source = stored.unit.segments.get(entry.segment as usize)?;
        let target = stored.unit.segments.get(hit.target)?;
        let stored_text = text::normalize(&source.text);
        let stored_units = analyze::units(self.lane.mode, stored_text.as_str());
        let diffs = diff::spans(
            &diff::Side {
                text: normalized,
                units,
                seq: self.seq,
            },
            &diff::Side {
                text: &stored_text,
                units: &stored_units,
                seq: &entry.seq,
            },
        );
        let adapted_target = hit.numbers_only.then(|| {
            let numbers = adapt::numbers(self.lane.mode, stored_text.as_str());
            adapt::adapt(&target.text, self.numbers, &numbers)
        });
        Some(MemoryMatch {
            unit: stored.unit.clone(),
            memory: self.index.memory_names.get(stored.memory as usize)?.clone(),
            score: hit.score,
            source: source.text.clone(),
            target: target.text.clone(),
            diffs,
            numbers_only: hit.numbers_only,
            adapted_target,
        })
    }
}

/// The filter for one query: admissible lengths with their distance bounds, and the
/// count-filter bound valid for all of them.
struct Plan {
    /// Per candidate length `m`: `Some(dmax(max(n, m)))` when `m` passes the length filter.
    dmax: Vec<Option<usize>>,
    /// `min T(m)` over admissible lengths; `None` when there is none worth using (≤ 0).
    min_shared: Option<usize>,
    admissible: Vec<usize>,
}

impl Plan {
    fn new(lane: &Lane, seq: &[u32], threshold: f32) -> Option<Plan> {
        let n = seq.len();
        let q = lane.mode.q() as isize;
        let mut dmax = vec![None; lane.by_len.len().max(n + 1)];
        let mut admissible = Vec::new();
        let mut min_shared: Option<isize> = None;
        for (m, slot) in dmax.iter_mut().enumerate() {
            let longest = n.max(m);
            let Some(bound) = max_distance(longest, threshold) else {
                continue;
            };
            if n.abs_diff(m) > bound {
                continue;
            }
            *slot = Some(bound);
            admissible.push(m);
            let shared = longest as isize - q + 1 - q * bound as isize;
            min_shared = Some(min_shared.map_or(shared, |s: isize| s.min(shared)));
        }
        if admissible.is_empty() {
            return None;
        }
        Some(Plan {
            dmax,
            min_shared: min_shared.filter(|&s| s > 0).map(|s| s as usize),
            admissible,
        })
    }

    /// Entries that may reach the threshold, each once.
    fn candidates(&self, lane: &Lane, seq: &[u32]) -> Vec<u32> {
        let Some(shared) = self.min_shared else {
            let mut all: Vec<u32> = self
                .admissible
                .iter()
                .filter_map(|&m| lane.by_len.get(m))
                .flatten()
                .copied()
                .collect();
            all.sort_unstable();
            return all;
        };
        let mut grams: Vec<(usize, u64)> = grams(lane.mode, seq)
            .map(|g| (lane.postings.get(&g).map_or(0, Vec::len), g))
            .collect();
        grams.sort_unstable();
        let prefix = (grams.len() + 1).saturating_sub(shared);
        let mut chosen: Vec<u64> = grams.iter().take(prefix).map(|&(_, g)| g).collect();
        chosen.sort_unstable();
        chosen.dedup();
        let mut out: Vec<u32> = chosen
            .iter()
            .filter_map(|g| lane.postings.get(g))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Lane {
    fn new(mode: Mode) -> Lane {
        Lane {
            mode,
            entries: Vec::new(),
            postings: FastMap::default(),
            by_len: Vec::new(),
        }
    }

    fn add(&mut self, slot: u32, segment: u32, seq: Vec<u32>) -> u32 {
        let id = self.entries.len() as u32;
        let mut own: Vec<u64> = grams(self.mode, &seq).collect();
        own.sort_unstable();
        own.dedup();
        for gram in own {
            self.postings.entry(gram).or_default().push(id);
        }
        if self.by_len.len() <= seq.len() {
            self.by_len.resize_with(seq.len() + 1, Vec::new);
        }
        self.by_len[seq.len()].push(id);
        self.entries.push(Entry {
            slot,
            segment,
            alive: true,
            seq: seq.into_boxed_slice(),
        });
        id
    }

    /// Marks an entry dead; posting lists keep it until a rebuild, and readers skip it.
    fn kill(&mut self, id: u32) {
        let Some(entry) = self.entries.get_mut(id as usize) else {
            return;
        };
        entry.alive = false;
        if let Some(bucket) = self.by_len.get_mut(entry.seq.len()) {
            if let Some(at) = bucket.iter().position(|&e| e == id) {
                bucket.remove(at);
            }
        }
    }
}

/// Counts the q-grams a candidate shares with the query, as multisets.
struct GramCounter {
    /// The query's distinct grams, sorted, with how often each occurs.
    grams: Vec<(u64, u32)>,
    used: Vec<u32>,
}

impl GramCounter {
    fn new(mode: Mode, seq: &[u32]) -> GramCounter {
        let mut all: Vec<u64> = grams(mode, seq).collect();
        all.sort_unstable();
        let mut counted: Vec<(u64, u32)> = Vec::new();
        for gram in all {
            match counted.last_mut() {
                Some((last, count)) if *last == gram => *count += 1,
                _ => counted.push((gram, 1)),
            }
        }
        let used = vec![0; counted.len()];
        GramCounter {
            grams: counted,
            used,
        }
    }

    fn shared(&mut self, mode: Mode, seq: &[u32]) -> usize {
        self.used.iter_mut().for_each(|u| *u = 0);
        let mut shared = 0;
        for gram in grams(mode, seq) {
            if let Ok(k) = self.grams.binary_search_by_key(&gram, |&(g, _)| g) {
                if self.used[k] < self.grams[k].1 {
                    self.used[k] += 1;
                    shared += 1;
                }
            }
        }
        shared
    }
}

/// The q-grams of a unit sequence as integers.
fn grams(mode: Mode, seq: &[u32]) -> impl Iterator<Item = u64> + '_ {
    let q = mode.q();
    seq.windows(q).map(move |w| match w {
        [a, b] => gram2(*a, *b),
        [a, ..] => u64::from(*a),
        [] => 0,
    })
}

fn gram2(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

/// Intersection of ascending lists, shortest first.
fn intersect(lists: &[&[u32]]) -> Vec<u32> {
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let mut out: Vec<u32> = first.to_vec();
    out.dedup();
    for list in rest {
        out.retain(|id| list.binary_search(id).is_ok());
        if out.is_empty() {
            break;
        }
    }
    out
}

/// Whether a stored segment in `stored` answers a request in `requested`: [`Lang::accepts`],
/// with both Chinese standards answering Chinese.
fn answers(stored: &Lang, requested: &Lang) -> bool {
    if requested.primary() == "zh" {
        stored.primary() == "zh"
    } else {
        stored.accepts(requested)
    }
}

/// `1 − d / longest`, 1 for two empty sequences.
fn plain_score(d: usize, longest: usize) -> f32 {
    if longest == 0 {
        1.0
    } else {
        1.0 - d as f32 / longest as f32
    }
}

/// Score of a numbers-only match with `differing` numbers: 1 − 0.01 per number, at least
/// [`NUMBERS_ONLY_FLOOR`].
fn numbers_only_score(differing: usize) -> f32 {
    (100 - differing.min(10)) as f32 / 100.0
}

/// The largest `d` with `plain_score(d, longest) ≥ threshold`; `None` when even 0 fails.
fn max_distance(longest: usize, threshold: f32) -> Option<usize> {
    if plain_score(0, longest) < threshold {
        return None;
    }
    if longest == 0 {
        return Some(0);
    }
    let estimate = ((1.0 - f64::from(threshold)) * longest as f64).floor();
    let mut d = if estimate.is_finite() && estimate > 0.0 {
        (estimate as usize).min(longest)
    } else {
        0
    };
    while d < longest && plain_score(d + 1, longest) >= threshold {
        d += 1;
    }
    while d > 0 && plain_score(d, longest) < threshold {
        d -= 1;
    }
    Some(d)
}

/// The Levenshtein distance when it is at most `limit`, else `None`; stops as soon as every
/// cell of a row exceeds `limit`.
fn bounded_levenshtein(a: &[u32], b: &[u32], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    if a.is_empty() || b.is_empty() {
        return Some(a.len().max(b.len()));
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut best = current[0];
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            let cell = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            current[j + 1] = cell;
            best = best.min(cell);
        }
        if best > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|&d| d <= limit)
}

/// Every non-overlapping occurrence of the needle in `text`, as bytes of the original.
fn find_phrase(
    mode: Mode,
    text: &NormalizedText,
    needle: &str,
    needle_words: &[&str],
) -> Vec<Range<usize>> {
    let haystack = text.as_str();
    match mode {
        Mode::Chars => haystack
            .match_indices(needle)
            .map(|(at, found)| text.original_range(at..at + found.len()))
            .collect(),
        Mode::Words => {
            let units = analyze::units(Mode::Words, haystack);
            let words: Vec<&str> = units
                .iter()
                .map(|u| haystack.get(u.range.clone()).unwrap_or_default())
                .collect();
            let k = needle_words.len();
            let mut out = Vec::new();
            let mut i = 0;
            while k > 0 && i + k <= words.len() {
                if words[i..i + k] == *needle_words {
                    let range = units[i].range.start..units[i + k - 1].range.end;
                    out.push(text.original_range(range));
                    i += k;
                } else {
                    i += 1;
                }
            }
            out
        }
    }
}

/// A fast non-cryptographic hasher for the interner and posting lists (keys are not chosen by
/// an attacker in a way that matters: they are the memory's own units).
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        // Spread the high bits into the low ones hashbrown uses for buckets.
        self.0 ^ (self.0 >> 29)
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
