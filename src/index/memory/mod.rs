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
//! * otherwise the match is `numbers_only` and scores `1 − 0.01 × k` for `k` differing
//!   numbers, never below 0.9. It carries an `adapted_target`, the stored target with each
//!   stored source number (matched by value) replaced by the query's number at the same
//!   position, only when every differing number was found in the target as a number of the
//!   same value and replaced. A target that writes it otherwise («в июле» for 7月, `3,5` for
//!   `3.5`, `1 000`, `1万`) gets none: a target that kept a stale number would be wrong.
//!
//! Matches are ranked by score; ties are broken first by numbers (a match whose numbers have
//! the query's values comes before one whose numbers differ), then by memory priority (order
//! in [`MemoryQuery::memories`], else memory name), then unit id. Priority never lifts a lower
//! score above a higher one: CAT tools rank TM matches the same way, score first and the
//! memory's place in the list only between equal scores, since a closer match saves more
//! editing whichever memory holds it.
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
//! bit-parallel distance (`myers.rs`: one machine word per stored unit and 64 query units)
//! that gives up once it can no longer come within `dmax`; below that it is the exact
//! Levenshtein distance, so the scores equal those of [`MemoryIndex::search_exhaustive`].
//!
//! Numbers-only matches have `d = 0` and therefore share every gram: they always pass.

mod adapt;
mod analyze;
mod diff;
mod live;
mod myers;
mod part;
mod plain;
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
pub use live::LiveMemoryIndex;
use part::{Bits, Lane, Part};

/// The placeholder id every number is interned as.
const NUMBER: u32 = 0;

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
    /// For a numbers-only match: `target` with the query's numbers in place of the stored
    /// ones, when every number that differs was found in `target` and replaced; `None`
    /// otherwise (see the module docs).
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
}

impl std::ops::AddAssign for SearchStats {
    fn add_assign(&mut self, other: SearchStats) {
        self.filtered_scans += other.filtered_scans;
        self.length_only_scans += other.length_only_scans;
        self.admissible += other.admissible;
        self.pruned += other.pruned;
        self.verified += other.verified;
    }
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
/// A value is a snapshot: cloning costs a few reference counts, so [`LiveMemoryIndex`] hands
/// clones to readers while a writer prepares the next one. Units live in a few immutable parts
/// (see `part.rs`): one large part built at start-up with [`from_units`](Self::from_units),
/// and smaller ones from later writes, merged as they grow so that there are O(log n) of them.
/// Removing a unit marks its slot in a per-part set that is copied on write, never in the
/// shared part itself.
#[derive(Clone, Default)]
pub struct MemoryIndex {
    memories: Arc<Memories>,
    /// Oldest first.
    parts: Vec<Shard>,
}

/// Memory names and their ids (indexes into `names`); ids are never reused.
#[derive(Clone, Default)]
struct Memories {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Memories {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }
}

/// A part with the slots this snapshot has removed from it.
#[derive(Clone)]
struct Shard {
    part: Arc<Part>,
    removed: Arc<Bits>,
    live: usize,
}

impl Shard {
    fn new(part: Part, removed: Bits) -> Shard {
        let live = (0..part.slots() as u32)
            .filter(|&s| !removed.get(s))
            .count();
        Shard {
            part: Arc::new(part),
            removed: Arc::new(removed),
            live,
        }
    }

    fn alive(&self, slot: u32) -> bool {
        !self.removed.get(slot)
    }

    /// One part holding the live units of `shards`, in order.
    fn merge(shards: &[Shard]) -> Shard {
        let mut part = Part::default();
        for shard in shards {
            part.append(&shard.part, |slot| shard.alive(slot));
        }
        let removed = part.finish();
        Shard::new(part, removed)
    }
}

/// The units of one import of one memory, analyzed while its file is still being read, so
/// that the index build overlaps the reading, and only the id table waits for the commit
/// ([`MemoryIndex::insert_import`]).
#[derive(Default)]
pub struct ImportPart {
    part: Part,
    built: bool,
}

impl ImportPart {
    /// Analyzes `units` in the order given, on every core, as they come; blocks until `units`
    /// ends.
    pub fn analyze(units: impl IntoIterator<Item = TranslationUnit>) -> ImportPart {
        let items = units
            .into_iter()
            .map(|unit| Ok::<_, std::convert::Infallible>((0, unit)));
        let Ok(part) = part::assemble(items, build_threads());
        ImportPart { part, built: false }
    }

    /// Builds the search structures, which depend on the units alone: call it while the store
    /// commits them. [`MemoryIndex::insert_import`] does it otherwise.
    pub fn build(&mut self) {
        if !self.built {
            self.part.build_lanes();
            self.built = true;
        }
    }

    /// The part, its search structures built.
    fn into_built(mut self) -> Part {
        self.build();
        self.part
    }

    /// Number of units analyzed.
    pub fn len(&self) -> usize {
        self.part.slots()
    }

    /// Whether no unit was analyzed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the store did with the units of an [`ImportPart`], by their position in it.
#[derive(Clone, Debug, Default)]
pub struct ImportOutcome {
    /// The commit went through the units before this position; any after it were not stored
    /// (the commit failed part way).
    pub committed: usize,
    /// Positions of the units not stored as read, ascending: a unit with the same id was kept,
    /// merged with or replaced by them.
    pub not_stored_as_read: Vec<u32>,
}

/// A match before ranking.
struct Hit {
    score: f32,
    priority: usize,
    part: u32,
    slot: u32,
    entry: u32,
    target: usize,
    numbers_only: bool,
}

/// Threads for building: every core there is, within reason.
fn build_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// Below this many units a write is analyzed on the calling thread.
const PARALLEL_UNITS: usize = 16_384;

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> MemoryIndex {
        MemoryIndex::default()
    }

    /// Builds the index over `(memory, unit)` items in one pass: the calling thread reads
    /// the items (a store iterator, say) while every core normalizes and analyzes them, and
    /// posting lists are then built by counting sort into flat arrays. Much faster and
    /// smaller than inserting units one at a time; this is how start-up builds the index. A
    /// later item with the memory and id of an earlier one replaces it. Stops at the first
    /// error of `items`.
    pub fn from_units<E>(
        items: impl IntoIterator<Item = Result<(String, TranslationUnit), E>>,
    ) -> Result<MemoryIndex, E> {
        let mut memories = Memories::default();
        let items = items
            .into_iter()
            .map(|item| item.map(|(memory, unit)| (memories.id(&memory), unit)));
        let (part, removed) = part::build(items, build_threads())?;
        let mut index = MemoryIndex {
            memories: Arc::new(memories),
            parts: Vec::new(),
        };
        index.parts.push(Shard::new(part, removed));
        index.settle();
        Ok(index)
    }

    /// Adds (or replaces, by unit id) a unit of memory `memory`.
    pub fn insert(&mut self, memory: &str, unit: Arc<TranslationUnit>) {
        self.insert_many(memory, [unit]);
    }

    /// Adds (or replaces, by unit id) units of memory `memory` as one new part: a batch costs
    /// one build, where inserting its units one by one would cost one each. Later units win
    /// over earlier ones with the same id.
    pub fn insert_many(
        &mut self,
        memory: &str,
        units: impl IntoIterator<Item = Arc<TranslationUnit>>,
    ) {
        let units: Vec<Arc<TranslationUnit>> = units.into_iter().collect();
        if units.is_empty() {
            return;
        }
        let memory = Arc::make_mut(&mut self.memories).id(memory);
        for unit in &units {
            self.unlink(memory, &unit.id);
        }
        let threads = if units.len() >= PARALLEL_UNITS {
            build_threads()
        } else {
            1
        };
        let items = units
            .iter()
            .map(|unit| Ok::<_, std::convert::Infallible>((memory, Arc::clone(unit))));
        let Ok((part, removed)) = part::build(items, threads);
        self.parts.push(Shard::new(part, removed));
        self.settle();
    }

    /// Publishes a committed import of memory `memory` from the part analyzed while its file
    /// was read. The store may have kept some units otherwise than they were read: `outcome`
    /// says which, and the caller then publishes those units as stored, in a part of their own.
    pub fn insert_import(&mut self, memory: &str, part: ImportPart, outcome: &ImportOutcome) {
        let mut part = part.into_built();
        let memory = Arc::make_mut(&mut self.memories).id(memory);
        let mut dropped = Bits::default();
        for &slot in &outcome.not_stored_as_read {
            dropped.set(slot);
        }
        for slot in outcome.committed..part.slots() {
            dropped.set(slot as u32);
        }
        part.set_memory(memory);
        let mut removed = part.index_ids(&dropped);
        for slot in 0..part.slots() as u32 {
            if dropped.get(slot) {
                removed.set(slot);
            } else if !removed.get(slot) {
                // A unit the import added had no earlier version; unlinking costs one probe
                // per part and keeps the index exact should it have had one.
                self.unlink(memory, part.unit_id(slot));
            }
        }
        self.parts.push(Shard::new(part, removed));
        self.settle();
    }

    /// Removes a unit by id; answers whether it was there.
    pub fn remove(&mut self, memory: &str, unit_id: &str) -> bool {
        let Some(&memory) = self.memories.ids.get(memory) else {
            return false;
        };
        let removed = self.unlink(memory, unit_id);
        if removed {
            self.settle();
        }
        removed
    }

    /// Marks the live unit with this memory and id removed, leaving parts as they are.
    fn unlink(&mut self, memory: u32, unit_id: &str) -> bool {
        for shard in self.parts.iter_mut().rev() {
            let Some(slot) = shard.part.find(memory, unit_id) else {
                continue;
            };
            if shard.alive(slot) {
                Arc::make_mut(&mut shard.removed).set(slot);
                shard.live -= 1;
                return true;
            }
        }
        false
    }

    /// Keeps the parts few and dense: drops empty ones, rebuilds those mostly removed, and
    /// merges the newest two while the newest holds at least half as many units as the one
    /// before it. Sizes then at least halve from part to part, so there are O(log n) parts
    /// and each unit is rebuilt O(log n) times over its life (from analyzed symbols, never
    /// from its text again).
    fn settle(&mut self) {
        self.parts.retain(|s| s.live > 0);
        for shard in &mut self.parts {
            if shard.part.slots() > 2 * shard.live {
                *shard = Shard::merge(std::slice::from_ref(shard));
            }
        }
        while let [.., older, newer] = self.parts.as_slice() {
            if newer.live * 2 < older.live {
                break;
            }
            let merged = Shard::merge(&self.parts[self.parts.len() - 2..]);
            self.parts.truncate(self.parts.len() - 2);
            self.parts.push(merged);
        }
    }

    /// Number of stored units, over all memories.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|s| s.live).sum()
    }

    /// Whether no unit is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indexed search: exactly the results of [`search_exhaustive`](Self::search_exhaustive)
    /// (same units, scores and order), with candidates from the q-gram index (see the module
    /// docs for why no match is missed).
    pub fn search(&self, query: &MemoryQuery) -> Vec<MemoryMatch> {
        self.search_with_stats(query).0
    }

    /// [`search`](Self::search), with what the candidate filter did.
    pub fn search_with_stats(&self, query: &MemoryQuery) -> (Vec<MemoryMatch>, SearchStats) {
        let mut stats = SearchStats::default();
        let matches = self.run_search(query, Some(&mut stats));
        (matches, stats)
    }

    /// Scores every unit of the query's language: the reference for tests and benchmarks.
    pub fn search_exhaustive(&self, query: &MemoryQuery) -> Vec<MemoryMatch> {
        self.run_search(query, None)
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
        let mode = Mode::of(lang);
        let needle = text::normalize_key(phrase);
        let needle_units = analyze::units(mode, &needle);
        if needle_units.is_empty() || limit == 0 {
            return Vec::new();
        }
        let needle_words: Vec<&str> = needle_units
            .iter()
            .map(|u| needle.get(u.range.clone()).unwrap_or_default())
            .collect();
        let priorities = self.priorities(memories);
        let mut hits: Vec<(usize, &str, u32, u32, ConcordanceHit)> = Vec::new();
        for (number, shard) in self.parts.iter().enumerate() {
            let part = &shard.part;
            let Some(lane) = part.lane(lang.primary()) else {
                continue;
            };
            let Some(required) = required_grams(lane, &needle, &needle_units, &needle_words) else {
                continue;
            };
            let candidates: Vec<u32> = if required.is_empty() {
                (0..lane.entries() as u32).collect()
            } else {
                let mut lists: Vec<&[u32]> = required.iter().map(|&g| lane.postings(g)).collect();
                lists.sort_by_key(|l| l.len());
                intersect(&lists)
            };
            for entry in candidates {
                let Some((slot, segment)) = lane.entry(entry) else {
                    continue;
                };
                if !shard.alive(slot) {
                    continue;
                }
                let Some(priority) = part
                    .memory(slot)
                    .and_then(|m| priorities.get(m as usize).copied().flatten())
                else {
                    continue;
                };
                if !part
                    .segment_langs(slot)
                    .nth(segment as usize)
                    .is_some_and(|l| answers(l, lang))
                {
                    continue;
                }
                let Some(unit) = part.unit(slot) else {
                    continue;
                };
                let Some(seg) = unit.segments.get(segment as usize) else {
                    continue;
                };
                let normalized = text::normalize(&seg.text);
                let spans = find_phrase(mode, &normalized, &needle, &needle_words);
                if spans.is_empty() {
                    continue;
                }
                let translations = unit
                    .segments
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != segment as usize)
                    .map(|(_, s)| (s.lang.clone(), s.text.clone()))
                    .collect();
                let text = seg.text.clone();
                let memory = part
                    .memory(slot)
                    .and_then(|m| self.memories.names.get(m as usize))
                    .cloned()
                    .unwrap_or_default();
                hits.push((
                    priority,
                    part.unit_id(slot),
                    number as u32,
                    slot,
                    ConcordanceHit {
                        unit: Arc::new(unit),
                        memory,
                        text,
                        spans,
                        translations,
                    },
                ));
            }
        }
        hits.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
        hits.dedup_by_key(|h| (h.2, h.3));
        hits.truncate(limit);
        hits.into_iter().map(|h| h.4).collect()
    }

    /// Per memory id: its rank for ties, or `None` when the query excludes it.
    fn priorities(&self, memories: &[String]) -> Vec<Option<usize>> {
        let names = &self.memories.names;
        let mut ranks = vec![None; names.len()];
        if memories.is_empty() {
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&a, &b| names[a].cmp(&names[b]));
            for (rank, id) in order.into_iter().enumerate() {
                ranks[id] = Some(rank);
            }
        } else {
            for (rank, name) in memories.iter().enumerate() {
                if let Some(&id) = self.memories.ids.get(name) {
                    ranks[id as usize].get_or_insert(rank);
                }
            }
        }
        ranks
    }

    /// Indexed when given somewhere to count the filter's work, exhaustive otherwise.
    fn run_search(
        &self,
        query: &MemoryQuery,
        mut indexed: Option<&mut SearchStats>,
    ) -> Vec<MemoryMatch> {
        let threshold = query.min_score;
        if query.limit == 0 || threshold.is_nan() || threshold > 1.0 {
            return Vec::new();
        }
        let mode = Mode::of(&query.source);
        let normalized = text::normalize(&query.text);
        let units = analyze::units(mode, normalized.as_str());
        let numbers = adapt::numbers(mode, normalized.as_str());
        let priorities = self.priorities(&query.memories);
        let mut hits = Vec::new();
        // Per part: its lane of the query's language and the query's symbols in it.
        let mut lanes: Vec<Option<(&Lane, Vec<u32>)>> = Vec::with_capacity(self.parts.len());
        for (number, shard) in self.parts.iter().enumerate() {
            let Some(lane) = shard.part.lane(query.source.primary()) else {
                lanes.push(None);
                continue;
            };
            let seq = query_seq(lane, normalized.as_str(), &units);
            let context = Context {
                shard,
                number: number as u32,
                lane,
                query,
                seq: &seq,
                numbers: &numbers,
                priorities: &priorities,
            };
            match indexed.as_deref_mut() {
                Some(stats) => context.indexed(&mut hits, stats),
                None => context.exhaustive(&mut hits),
            }
            lanes.push(Some((lane, seq)));
        }
        let unit_id = |hit: &Hit| {
            self.parts
                .get(hit.part as usize)
                .map_or("", |s| s.part.unit_id(hit.slot))
        };
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.priority.cmp(&b.priority))
                .then_with(|| unit_id(a).cmp(unit_id(b)))
                .then(a.part.cmp(&b.part))
                .then(a.slot.cmp(&b.slot))
                .then(a.entry.cmp(&b.entry))
        });
        // A unit with two segments answering the query (en-GB and en-US) counts once, by its
        // best segment.
        let mut seen = std::collections::HashSet::new();
        hits.retain(|h| seen.insert((h.part, h.slot)));
        self.same_numbers_first(&mut hits, &lanes, &numbers, query.limit);
        hits.truncate(query.limit);
        hits.into_iter()
            .filter_map(|hit| {
                let shard = self.parts.get(hit.part as usize)?;
                let (lane, seq) = lanes.get(hit.part as usize)?.as_ref()?;
                let query_side = diff::Side {
                    text: &normalized,
                    units: &units,
                    seq,
                };
                self.build(shard, lane, &query_side, &numbers, hit)
            })
            .collect()
    }

    /// Within each run of equal scores that reaches into the first `limit` hits, moves the
    /// hits whose numbers have the query's values (in any order) ahead of the others, keeping
    /// the order of each kind: of two matches one edit away, the one that also has the right
    /// figures (IPv4 for an IPv4 query, not IPv6) is the one to reuse. Only those runs decode
    /// their units, so the cost stays with the hits that are returned.
    fn same_numbers_first(
        &self,
        hits: &mut [Hit],
        lanes: &[Option<(&Lane, Vec<u32>)>],
        query_numbers: &[Number],
        limit: usize,
    ) {
        let mut wanted: Vec<&str> = query_numbers.iter().map(|n| n.value.as_str()).collect();
        wanted.sort_unstable();
        let mut start = 0;
        while start < hits.len().min(limit) {
            let score = hits[start].score;
            let len = hits[start..]
                .iter()
                .take_while(|h| h.score == score)
                .count();
            if len > 1 {
                // A stable sort: each kind keeps its order.
                hits[start..start + len]
                    .sort_by_cached_key(|hit| !self.has_numbers(hit, lanes, &wanted));
            }
            start += len;
        }
    }

    /// Whether the stored segment a hit matched has exactly the number values `wanted`
    /// (sorted); false when the segment cannot be read.
    fn has_numbers(&self, hit: &Hit, lanes: &[Option<(&Lane, Vec<u32>)>], wanted: &[&str]) -> bool {
        let stored = || {
            let (lane, _) = lanes.get(hit.part as usize)?.as_ref()?;
            stored_numbers(&self.parts.get(hit.part as usize)?.part, lane, hit.entry)
        };
        stored().is_some_and(|numbers| {
            let mut values: Vec<&str> = numbers.iter().map(|n| n.value.as_str()).collect();
            values.sort_unstable();
            values == wanted
        })
    }

    /// The match a ranked hit stands for: the unit decoded once, diffs, adapted target.
    fn build(
        &self,
        shard: &Shard,
        lane: &Lane,
        query: &diff::Side<'_>,
        numbers: &[Number],
        hit: Hit,
    ) -> Option<MemoryMatch> {
        let part = &shard.part;
        let unit = part.unit(hit.slot)?;
        let (_, segment) = lane.entry(hit.entry)?;
        let source = unit.segments.get(segment as usize)?.text.clone();
        let target = unit.segments.get(hit.target)?.text.clone();
        let stored_text = text::normalize(&source);
        let stored_units = analyze::units(lane.mode, stored_text.as_str());
        let diffs = diff::spans(
            query,
            &diff::Side {
                text: &stored_text,
                units: &stored_units,
                seq: lane.seq(hit.entry),
            },
        );
        let adapted_target = if hit.numbers_only {
            let stored = adapt::numbers(lane.mode, stored_text.as_str());
            adapt::adapt(&target, numbers, &stored)
        } else {
            None
        };
        let memory = self
            .memories
            .names
            .get(part.memory(hit.slot)? as usize)?
            .clone();
        Some(MemoryMatch {
            unit: Arc::new(unit),
            memory,
            score: hit.score,
            source,
            target,
            diffs,
            numbers_only: hit.numbers_only,
            adapted_target,
        })
    }
}

/// The numbers of the stored segment behind a lane entry, read from its unit; `None` when it
/// cannot be read.
fn stored_numbers(part: &Part, lane: &Lane, entry: u32) -> Option<Vec<Number>> {
    let (slot, segment) = lane.entry(entry)?;
    let unit = part.unit(slot)?;
    let text = &unit.segments.get(segment as usize)?.text;
    Some(adapt::numbers(lane.mode, &text::normalize_key(text)))
}

/// Symbols of a query in one lane; units the lane has never seen get ids no stored unit has.
fn query_seq(lane: &Lane, normalized: &str, units: &[Unit]) -> Vec<u32> {
    let mut unknown: HashMap<&str, u32> = HashMap::new();
    units
        .iter()
        .map(|u| {
            if u.number {
                return NUMBER;
            }
            let key = normalized.get(u.range.clone()).unwrap_or_default();
            match lane.symbol(key) {
                Some(id) => id,
                None => {
                    let next = u32::MAX - unknown.len() as u32;
                    *unknown.entry(key).or_insert(next)
                }
            }
        })
        .collect()
}

/// The grams every lane entry containing the needle must have; `None` when one of them
/// occurs nowhere in the lane, so nothing can contain the needle.
fn required_grams(
    lane: &Lane,
    needle: &str,
    needle_units: &[Unit],
    needle_words: &[&str],
) -> Option<Vec<u64>> {
    let mut required: Vec<u64> = Vec::new();
    match lane.mode {
        Mode::Words => {
            for (unit, word) in needle_units.iter().zip(needle_words) {
                if !unit.number {
                    required.push(u64::from(lane.symbol(word)?));
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
                let id = |c: char| lane.symbol(c.encode_utf8(&mut [0; 4]));
                required.push(gram2(id(pair[0])?, id(pair[1])?));
            }
        }
    }
    Some(required)
}

/// What scoring the candidates of one part needs to know about the query.
struct Context<'a> {
    shard: &'a Shard,
    /// The part's position in the index.
    number: u32,
    lane: &'a Lane,
    query: &'a MemoryQuery,
    seq: &'a [u32],
    numbers: &'a [Number],
    priorities: &'a [Option<usize>],
}

impl Context<'_> {
    /// Candidates from the q-gram filter, verified with a bounded distance.
    fn indexed(&self, hits: &mut Vec<Hit>, stats: &mut SearchStats) {
        let Some(plan) = Plan::new(self.lane, self.seq, self.query.min_score) else {
            return;
        };
        let mode = self.lane.mode;
        let n = self.seq.len();
        let mut counter = GramCounter::new(mode, self.seq);
        let pattern = myers::Pattern::new(self.seq);
        let filtered = plan.min_shared.is_some();
        // Candidates of an admissible length that reach the count check; the rest of the
        // admissible entries never do.
        let mut reached = 0;
        for entry in plan.candidates(self.lane, self.seq) {
            let stored = self.lane.seq(entry);
            let m = stored.len();
            let Some(Some(dmax)) = plan.dmax.get(m) else {
                continue;
            };
            reached += 1;
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.shard.alive(slot) {
                continue;
            }
            // The count filter again, with this candidate's own length: cheaper than the
            // distance, and it drops most candidates that only share a rare gram or two.
            if filtered {
                let needed = (n.max(m) + 1) as isize - mode.q() as isize * (1 + *dmax as isize);
                if (counter.shared(mode, stored) as isize) < needed {
                    stats.pruned += 1;
                    continue;
                }
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            stats.verified += 1;
            let Some(d) = pattern.distance_within(stored, *dmax) else {
                continue;
            };
            hits.extend(self.score(entry, d, priority, target));
        }
        if filtered {
            let admissible: usize = plan
                .admissible
                .iter()
                .map(|&m| self.lane.of_length(m).len())
                .sum();
            stats.filtered_scans += 1;
            stats.admissible += admissible;
            stats.pruned += admissible.saturating_sub(reached);
        } else {
            stats.length_only_scans += 1;
        }
    }

    /// Every live entry of the lane, scored with the full distance.
    fn exhaustive(&self, hits: &mut Vec<Hit>) {
        for entry in 0..self.lane.entries() as u32 {
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.shard.alive(slot) {
                continue;
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            let d = levenshtein(self.seq, self.lane.seq(entry));
            hits.extend(self.score(entry, d, priority, target));
        }
    }

    /// The unit's rank and target segment, when its memory and languages answer the query.
    fn eligible(&self, slot: u32, segment: u32) -> Option<(usize, usize)> {
        let part = &self.shard.part;
        let priority = self
            .priorities
            .get(part.memory(slot)? as usize)
            .copied()
            .flatten()?;
        let source = part.segment_langs(slot).nth(segment as usize)?;
        if !answers(source, &self.query.source) {
            return None;
        }
        let others = || {
            part.segment_langs(slot)
                .enumerate()
                .filter(|&(i, _)| i != segment as usize)
        };
        let target = others()
            .find(|(_, l)| **l == self.query.target)
            .or_else(|| others().find(|(_, l)| answers(l, &self.query.target)))?;
        Some((priority, target.0))
    }

    fn score(&self, entry: u32, d: usize, priority: usize, target: usize) -> Option<Hit> {
        let (slot, _) = self.lane.entry(entry)?;
        let longest = self.seq.len().max(self.lane.seq(entry).len());
        let (score, numbers_only) = if d == 0 {
            let numbers = stored_numbers(&self.shard.part, self.lane, entry)?;
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
            priority,
            part: self.number,
            slot,
            entry,
            target,
            numbers_only,
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
        let mut dmax = vec![None; lane.lengths().max(n + 1)];
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
                .flat_map(|&m| lane.of_length(m))
                .copied()
                .collect();
            all.sort_unstable();
            return all;
        };
        let mut grams: Vec<(usize, u64)> = grams(lane.mode, seq)
            .map(|g| (lane.postings(g).len(), g))
            .collect();
        grams.sort_unstable();
        let prefix = (grams.len() + 1).saturating_sub(shared);
        let mut chosen: Vec<u64> = grams.iter().take(prefix).map(|&(_, g)| g).collect();
        chosen.sort_unstable();
        chosen.dedup();
        let mut out: Vec<u32> = chosen
            .iter()
            .flat_map(|&g| lane.postings(g))
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
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
