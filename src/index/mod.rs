//! In-memory search structures built from the store: term lookup and term recognition.
//!
//! Readers take an immutable [`Snapshot`] and never wait for writers. A snapshot is a large
//! base index plus a small index of the concepts written since the base was built; when the
//! small one grows past a threshold the base is rebuilt. This module knows nothing of gRPC.

mod distance;
mod key_table;
pub mod memory;
mod running_text;
mod terms;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::model::{Concept, Lang, LangSection, Term, TermStatus};
use crate::text;
pub use distance::{levenshtein, similarity};
pub use running_text::STANDALONE_NOTE;
use terms::{RawOccurrence, TermId, TermIndex};

/// How a query or a stretch of text met a stored term. Kinds compare by strength, stronger
/// first: exact, normalized, stemmed, pinyin, fuzzy, partial (see `MatchKind::rank`; new
/// kinds are appended, so the declaration order is not the strength order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// Character for character.
    Exact,
    /// Equal after the text pipeline's normalization.
    Normalized,
    /// Equal word stems: an inflected form.
    Stemmed,
    /// Within a few edits: a typo, or a multiword term with a word replaced, inserted or
    /// dropped. Neither string contains the other.
    Fuzzy,
    /// The query contains the term or the term contains the query. Below a fuzzy match of
    /// the same closeness: see [`score`].
    Partial,
    /// The query is the Hanyu Pinyin of a Chinese term.
    Pinyin,
}

impl MatchKind {
    /// Position in the strength order, 0 for the strongest: where each kind's scores put it.
    fn rank(self) -> u8 {
        match self {
            MatchKind::Exact => 0,
            MatchKind::Normalized => 1,
            MatchKind::Stemmed => 2,
            MatchKind::Pinyin => 3,
            MatchKind::Fuzzy => 4,
            MatchKind::Partial => 5,
        }
    }
}

impl Ord for MatchKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for MatchKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The scores each kind of match earns, in one place so that their order is easy to see:
///
/// | kind       | score                                                     |
/// |------------|-----------------------------------------------------------|
/// | exact      | 1.0                                                       |
/// | normalized | 0.95                                                      |
/// | stemmed    | 0.9                                                       |
/// | fuzzy      | 0.85 × similarity: from 0.595 up to 0.85                  |
/// | partial    | 0.85 × coverage − 0.001, and at least 0.5 + 0.1 × coverage |
///
/// Fuzzy and partial matches are measured with one ruler, closeness. A typo's closeness is the
/// similarity `1 − d / max(|a|, |b|)`; a partial match's is its coverage, the share of the
/// longer string that the shorter one covers, which is that same similarity when one string
/// contains the other (the edits are the characters left over). Coverage counts characters in
/// Chinese and words in other scripts, where "head of state" is three words of four in "head
/// of state diplomacy" and three of five in "the two heads of state", whatever their letters.
/// The closer match comes first,
/// and at equal closeness the whole term does: a partial match gives up a small step. So a
/// whole term one edit away ranks above a shorter term merely contained in the query: for
/// 一代一路, 一带一路 (0.75, one wrong character) comes before 一代 and 一路 (coverage 0.5),
/// and for 八字胡粗, 八字胡须 (0.75) before 八字胡 (0.75 too). A partial match that covers
/// more of the query than a typo match is close to it comes first (“一带一路”倡议的 holds
/// “一带一路”倡议, 8 of 9 characters; 共建“一带一路”倡议 is three edits away, 0.7).
///
/// A partial match covering too little to be compared with any typo (below the fuzzy minimum)
/// still scores at least 0.5 + 0.1 × coverage, so that a term that is a small part of a pasted
/// phrase is offered, below every typo match.
pub mod score {
    /// An exact match.
    pub const EXACT: f32 = 1.0;
    /// Equal after normalization.
    pub const NORMALIZED: f32 = 0.95;
    /// Equal word stems.
    pub const STEMMED: f32 = 0.9;
    /// The smallest CAT-style similarity `1 − d / max(|a|, |b|)` counted as a typo; below it a
    /// query is another word, not a misspelling. `d` counts characters, or whole words for a
    /// multiword term with a word replaced, inserted or dropped.
    ///
    /// So one wrong character needs a term of at least four: 一代一路 finds 一带一路 (0.75),
    /// but 成圆国 does not find 成员国 (0.67). Between three-character Chinese words one
    /// character apart (观察员 / 观察家) a different word is as likely as a typo.
    pub const FUZZY_MIN_SIMILARITY: f32 = 0.7;
    /// Score per unit of closeness of fuzzy and partial matches: below every stemmed match.
    const PER_CLOSENESS: f32 = 0.85;
    /// What a partial match gives up against a typo match of the same closeness.
    const PARTIAL_STEP: f32 = 0.001;
    /// The least score of a partial match with no coverage, and what full coverage adds to it.
    const PARTIAL_FLOOR: (f32, f32) = (0.5, 0.1);
    /// Default `min_score` of a lookup: every fuzzy match, and partial matches covering at
    /// least a seventh of the longer string, pass it.
    pub const DEFAULT_MIN_SCORE: f32 = partial_at(1.0 / 7.0);

    /// A query that reads as a Chinese term in Hanyu Pinyin without tones, or with tones of
    /// which the term has no reading: below a stemmed match (one spelling of many homophones),
    /// above typos and partial matches.
    pub const PINYIN: f32 = 0.87;

    /// Score of a pinyin match over a reading of `syllables` syllables, of which the query's
    /// tones agree with `agreeing` and disagree with `disagreeing` (0 and 0 for a query
    /// without tones): from [`PINYIN`] − 0.05 when every tone is another to [`PINYIN`] + 0.01
    /// when every tone agrees, so that the reading the query's tones name comes first.
    pub fn pinyin(syllables: usize, agreeing: usize, disagreeing: usize) -> f32 {
        let share = |n: usize| n as f32 / syllables.max(1) as f32;
        PINYIN + 0.01 * share(agreeing) - 0.05 * share(disagreeing)
    }

    /// Score of a typo match with the given similarity.
    pub fn fuzzy(similarity: f32) -> f32 {
        PER_CLOSENESS * similarity
    }

    /// Score of a partial match where `covered` characters (or words) of the longer string,
    /// of `total`, belong to the shorter one: more coverage, more likely the same concept.
    pub fn partial(covered: usize, total: usize) -> f32 {
        let coverage = if total == 0 {
            0.0
        } else {
            covered as f32 / total as f32
        };
        partial_at(coverage)
    }

    const fn partial_at(coverage: f32) -> f32 {
        let coverage = coverage.clamp(0.0, 1.0);
        let (floor, per_coverage) = PARTIAL_FLOOR;
        (PER_CLOSENESS * coverage - PARTIAL_STEP).max(floor + per_coverage * coverage)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The order the scores promise, checked over the whole range of closeness.
        #[test]
        fn the_closer_match_wins_and_at_equal_closeness_the_whole_term() {
            let closeness = |step: u32| step as f32 / 1000.0;
            for step in 0..1000 {
                let (c, next) = (closeness(step), closeness(step + 1));
                assert!(partial_at(c) < partial_at(next), "partial rises at {c}");
                if c >= FUZZY_MIN_SIMILARITY {
                    assert!(partial_at(c) < fuzzy(c), "whole term first at {c}");
                    // Closer by more than the step the partial match gives up.
                    let closer = c + 0.002;
                    if closer <= 1.0 {
                        assert!(partial_at(closer) > fuzzy(c), "closer partial first at {c}");
                    }
                    assert!(fuzzy(c) < STEMMED, "{c}");
                } else {
                    assert!(partial_at(c) < fuzzy(FUZZY_MIN_SIMILARITY), "{c}");
                }
                if c >= 1.0 / 7.0 {
                    assert!(partial_at(c) >= DEFAULT_MIN_SCORE, "{c}");
                }
            }
            // 一代一路: 一带一路 one character away, 一代 half of the query.
            assert!(fuzzy(0.75) > partial(2, 4));
            // “一带一路”倡议的 holds “一带一路”倡议; 共建“一带一路”倡议 is three edits away.
            assert!(partial(8, 9) > fuzzy(0.7));
        }
    }
}

/// A checked lookup: what the service hands the index after validating a request.
#[derive(Clone, Debug)]
pub struct LookupQuery {
    /// The text the translator typed.
    pub text: String,
    /// The query language; `None` matches terms of every language.
    pub source_lang: Option<Lang>,
    /// Most hits to return.
    pub limit: usize,
    /// Lowest score to return.
    pub min_score: f32,
    /// Only these collections; empty = all.
    pub collections: Vec<String>,
    /// Whether a query in Latin letters is also read as Hanyu Pinyin and answered with the
    /// Chinese terms that read so, whatever `source_lang` says (the server sets it when the
    /// query language was not given, or given as Chinese).
    pub pinyin: bool,
}

/// One concept answering a lookup, with the term that matched.
#[derive(Clone, Debug)]
pub struct TermHit {
    /// The concept.
    pub concept: Arc<Concept>,
    /// Position of the matched term's section in the concept.
    pub section: usize,
    /// Position of the matched term in its section.
    pub term: usize,
    /// 0..1, higher is better.
    pub score: f32,
    /// How the query met the term.
    pub kind: MatchKind,
}

impl TermHit {
    /// The section of the matched term.
    pub fn matched_section(&self) -> &LangSection {
        &self.concept.langs[self.section]
    }
    /// The stored term the query matched.
    pub fn matched_term(&self) -> &Term {
        &self.matched_section().terms[self.term]
    }
}

/// A half-open range in three units: UTF-8 bytes, Unicode scalar values and UTF-16 code
/// units, because CAT tools in Java, .NET and JavaScript count UTF-16.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spans {
    /// UTF-8 byte range.
    pub bytes: Range<usize>,
    /// Unicode scalar value range.
    pub chars: Range<usize>,
    /// UTF-16 code unit range.
    pub utf16: Range<usize>,
}

/// A term found in running text.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// Where it is in the original text.
    pub spans: Spans,
    /// The concept the term names.
    pub concept: Arc<Concept>,
    /// Position of the matched term's section in the concept.
    pub section: usize,
    /// Position of the matched term in its section.
    pub term: usize,
    /// Exact, normalized or stemmed.
    pub kind: MatchKind,
}

impl Occurrence {
    /// The stored term that matched.
    pub fn matched_term(&self) -> &Term {
        &self.concept.langs[self.section].terms[self.term]
    }

    /// For a deprecated or forbidden surface: the term of the same language to write instead
    /// (the preferred one, else an admitted one). Never for a superseded surface, which is
    /// not a mistake but a former name: see [`Occurrence::current_term`].
    pub fn suggestion(&self) -> Option<&Term> {
        if !self.matched_term().status.is_discouraged() {
            return None;
        }
        self.concept.langs[self.section].current_term()
    }

    /// For a superseded surface (a historical name): the name in use today in the same
    /// language.
    pub fn current_term(&self) -> Option<&Term> {
        if self.matched_term().status != TermStatus::Superseded {
            return None;
        }
        self.concept.langs[self.section].current_term()
    }
}

/// Writes since the base index was built, above which the base is rebuilt.
const DELTA_LIMIT: usize = 2048;

/// The indexes a reader searches: an immutable base and a small delta of recent writes.
pub struct Snapshot {
    base: Arc<TermIndex>,
    delta: Arc<TermIndex>,
    /// Concepts changed or deleted since the base was built: their base entries are stale.
    changed: HashSet<String>,
    priorities: HashMap<String, i32>,
}

/// The live term index: readers [`load`](TermSearch::snapshot) a snapshot; writers apply
/// committed changes.
pub struct TermSearch {
    current: ArcSwap<Snapshot>,
    writer: Mutex<WriterState>,
}

/// What only writers touch: the full set of concepts and the recent changes.
struct WriterState {
    all: HashMap<String, Arc<Concept>>,
    recent: HashMap<String, Option<Arc<Concept>>>,
    priorities: HashMap<String, i32>,
}

impl TermSearch {
    /// Builds the index over `concepts`, with collection priorities.
    pub fn new(concepts: Vec<Concept>, priorities: HashMap<String, i32>) -> TermSearch {
        let all: HashMap<String, Arc<Concept>> = concepts
            .into_iter()
            .map(|c| (c.id.clone(), Arc::new(c)))
            .collect();
        let state = WriterState {
            all,
            recent: HashMap::new(),
            priorities,
        };
        let snapshot = state.rebuild();
        TermSearch {
            current: ArcSwap::from_pointee(snapshot),
            writer: Mutex::new(state),
        }
    }

    /// The current snapshot; cheap, and never blocked by writers.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Publishes a committed upsert.
    pub fn upserted(&self, concept: Concept) {
        self.upserted_many(vec![concept]);
    }

    /// Publishes many committed upserts at once (a batch of an import): one new snapshot, and
    /// at most one rebuild of the base, for the whole batch.
    pub fn upserted_many(&self, concepts: Vec<Concept>) {
        self.apply(
            concepts
                .into_iter()
                .map(|c| (c.id.clone(), Some(Arc::new(c)))),
        );
    }

    /// Publishes a committed deletion.
    pub fn deleted(&self, id: &str) {
        self.deleted_many([id.to_owned()]);
    }

    /// Publishes many committed deletions at once (a collection deleted): one new snapshot,
    /// and at most one rebuild of the base.
    pub fn deleted_many(&self, ids: impl IntoIterator<Item = String>) {
        self.apply(ids.into_iter().map(|id| (id, None)));
    }

    /// Publishes new collection priorities (rebuilds the base: ranking depends on them).
    pub fn set_priorities(&self, priorities: HashMap<String, i32>) {
        let mut state = self.lock();
        state.priorities = priorities;
        state.recent.clear();
        self.current.store(Arc::new(state.rebuild()));
    }

    fn apply(&self, changes: impl IntoIterator<Item = (String, Option<Arc<Concept>>)>) {
        let mut state = self.lock();
        for (id, concept) in changes {
            match &concept {
                Some(c) => state.all.insert(id.clone(), c.clone()),
                None => state.all.remove(&id),
            };
            state.recent.insert(id, concept);
        }
        let snapshot = if state.recent.len() > DELTA_LIMIT {
            state.recent.clear();
            state.rebuild()
        } else {
            let current = self.current.load();
            Snapshot {
                base: current.base.clone(),
                delta: Arc::new(TermIndex::build(
                    state.recent.values().flatten().cloned().collect(),
                )),
                changed: state.recent.keys().cloned().collect(),
                priorities: state.priorities.clone(),
            }
        };
        self.current.store(Arc::new(snapshot));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock leaves the state as consistent as before the call
        // (every step replaces whole values), so a poisoned lock is safe to reuse.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl WriterState {
    fn rebuild(&self) -> Snapshot {
        let mut concepts: Vec<Arc<Concept>> = self.all.values().cloned().collect();
        concepts.sort_by(|a, b| a.id.cmp(&b.id));
        Snapshot {
            base: Arc::new(TermIndex::build(concepts)),
            delta: Arc::new(TermIndex::build(Vec::new())),
            changed: HashSet::new(),
            priorities: self.priorities.clone(),
        }
    }
}

impl Snapshot {
    fn visible(&self, index: &TermIndex, term: TermId, is_base: bool) -> bool {
        !(is_base && self.changed.contains(&index.concept_of(term).id))
    }

    fn priority(&self, concept: &Concept) -> i32 {
        self.priorities
            .get(&concept.collection)
            .copied()
            .unwrap_or(0)
    }

    /// The best hits for a query: one per concept, by score, then collection priority, then
    /// the matched term's status.
    pub fn lookup(&self, query: &LookupQuery) -> Vec<TermHit> {
        let mut best: HashMap<&str, TermHit> = HashMap::new();
        let pinyin = query
            .pinyin
            .then(|| text::pinyin::PinyinQuery::parse(&query.text))
            .flatten();
        for (index, is_base) in [(&*self.base, true), (&*self.delta, false)] {
            let in_lang = |term_id: TermId, lang: Option<&Lang>| {
                let term = &index.terms[term_id as usize];
                let concept = index.concept_of(term_id);
                self.visible(index, term_id, is_base)
                    && (query.collections.is_empty()
                        || query.collections.contains(&concept.collection))
                    && lang.is_none_or(|lang| {
                        same_language(&concept.langs[term.section as usize].lang, lang)
                    })
            };
            let wanted = |term_id: TermId| in_lang(term_id, query.source_lang.as_ref());
            let mut candidates = index.lookup_candidates(&query.text, wanted);
            if let Some(pinyin) = &pinyin {
                let chinese = Lang::zh();
                let wanted = |term_id: TermId| in_lang(term_id, Some(&chinese));
                candidates.extend(index.pinyin_candidates(pinyin, wanted));
            }
            for candidate in candidates {
                let term = &index.terms[candidate.term as usize];
                let concept = index.concept_of(candidate.term);
                let hit = TermHit {
                    concept: concept.clone(),
                    section: term.section as usize,
                    term: term.term as usize,
                    score: candidate.score,
                    kind: candidate.kind,
                };
                match best.get(concept.id.as_str()) {
                    Some(existing) if !better(&hit, existing) => {}
                    _ => {
                        best.insert(&concept.id, hit);
                    }
                }
            }
        }
        let mut hits: Vec<TermHit> = best
            .into_values()
            .filter(|h| h.score >= query.min_score)
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.priority(&b.concept).cmp(&self.priority(&a.concept)))
                .then_with(|| a.matched_term().status.cmp(&b.matched_term().status))
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.concept.id.cmp(&b.concept.id))
        });
        hits.truncate(query.limit);
        hits
    }

    /// Every term occurrence in `original`, leftmost-longest and non-overlapping (a higher
    /// collection's terms first, see `leftmost_longest_by_priority`), with spans in the
    /// original text. `lang` restricts matching to terms of that language.
    pub fn recognize(
        &self,
        original: &str,
        lang: Option<&Lang>,
        collections: &[String],
    ) -> Vec<Occurrence> {
        let normalized = text::normalize(original);
        let norm = normalized.as_str();
        let tokens = text::tokenize(norm);
        let mut found: Vec<(RawOccurrence, &TermIndex)> = Vec::new();
        for (index, is_base) in [(&*self.base, true), (&*self.delta, false)] {
            for mut occurrence in index.occurrences(norm, &tokens) {
                occurrence.range = running_text::with_paired_quotes(norm, occurrence.range);
                // A match must cover whole characters as written: 地区和平 is not in 地区和㍻.
                let whole = normalized.is_boundary(occurrence.range.start)
                    && normalized.is_boundary(occurrence.range.end);
                if !whole || !self.visible(index, occurrence.term, is_base) {
                    continue;
                }
                let term = &index.terms[occurrence.term as usize];
                let concept = index.concept_of(occurrence.term);
                if !collections.is_empty() && !collections.contains(&concept.collection) {
                    continue;
                }
                let section = &concept.langs[term.section as usize];
                if lang.is_some_and(|lang| !same_language(&section.lang, lang)) {
                    continue;
                }
                let stored = &section.terms[term.term as usize];
                if !running_text::keeps_capitals(&normalized, &occurrence.range, &stored.text) {
                    continue;
                }
                // Written exactly as stored: this term, not another with the same normalized
                // key, is the one used (a deprecated "shanghai cooperation organisation" in
                // lower case is not its preferred capitalized form).
                let surface = original.get(normalized.original_range(occurrence.range.clone()));
                if surface == Some(stored.text.as_str()) {
                    occurrence.kind = MatchKind::Exact;
                }
                found.push((occurrence, index));
            }
        }
        // Leftmost first; at one start the longest. Of the terms covering that span, the
        // higher collection's: priority is the terminologist's word on which termbase to
        // trust, so a large import never decides by accident (and between overlapping spans
        // too, see `leftmost_longest_by_priority`). Within equal priorities, the strongest
        // kind (the term written exactly as stored first), then the more official status
        // (preferred, admitted, superseded, deprecated, forbidden); the concept id and the
        // term's position only make the choice deterministic.
        found.sort_by(|(a, ai), (b, bi)| {
            let (ca, cb) = (ai.concept_of(a.term), bi.concept_of(b.term));
            a.range
                .start
                .cmp(&b.range.start)
                .then(b.range.end.cmp(&a.range.end))
                .then_with(|| self.priority(cb).cmp(&self.priority(ca)))
                .then(a.kind.cmp(&b.kind))
                .then_with(|| status_of(ai, a.term).cmp(&status_of(bi, b.term)))
                .then_with(|| ca.id.cmp(&cb.id))
                .then_with(|| position_of(ai, a.term).cmp(&position_of(bi, b.term)))
        });
        let chosen = leftmost_longest_by_priority(
            found,
            |(o, index)| self.priority(index.concept_of(o.term)),
            |(o, _)| o.range.clone(),
        );
        let chosen = without_lone_common_words(norm, chosen);
        let ranges: Vec<Range<usize>> = chosen
            .iter()
            .map(|(o, _)| normalized.original_range(o.range.clone()))
            .collect();
        let spans = text_spans(original, &ranges);
        chosen
            .into_iter()
            .zip(spans)
            .map(|((occurrence, index), spans)| {
                let term = &index.terms[occurrence.term as usize];
                let concept = index.concept_of(occurrence.term).clone();
                let kind = occurrence.kind;
                Occurrence {
                    spans,
                    concept,
                    section: term.section as usize,
                    term: term.term as usize,
                    kind,
                }
            })
            .collect()
    }
}

/// The occurrences to report, from candidates in text order (at one start the preferred one
/// first): leftmost-longest and non-overlapping within each collection priority, the highest
/// first, each lower priority filling only the text the higher ones left free. A collection
/// ranked below another can never cut into its terms, so a dictionary imported below the
/// glossary changes nothing the glossary finds: CC-CEDICT's 为上 would otherwise take the first
/// character of 上合组织 in 为上合组织. With one priority this is plain leftmost-longest.
fn leftmost_longest_by_priority<T>(
    candidates: Vec<T>,
    priority: impl Fn(&T) -> i32,
    range: impl Fn(&T) -> Range<usize>,
) -> Vec<T> {
    let priorities: Vec<i32> = candidates.iter().map(priority).collect();
    let mut tiers = priorities.clone();
    tiers.sort_unstable_by(|a, b| b.cmp(a));
    tiers.dedup();
    // Chosen ranges by start: (end, position in `candidates`).
    let mut chosen: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for tier in tiers {
        for (i, candidate) in candidates.iter().enumerate() {
            if priorities[i] != tier {
                continue;
            }
            let Range { start, end } = range(candidate);
            let free_before = chosen
                .range(..=start)
                .next_back()
                .is_none_or(|(_, &(chosen_end, _))| chosen_end <= start);
            let free_after = chosen
                .range(start + 1..)
                .next()
                .is_none_or(|(&chosen_start, _)| chosen_start >= end);
            if free_before && free_after {
                chosen.insert(start, (end, i));
            }
        }
    }
    let mut keep = vec![false; candidates.len()];
    for &(_, i) in chosen.values() {
        keep[i] = true;
    }
    candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(candidate, kept)| kept.then_some(candidate))
        .collect()
}

/// The chosen occurrences less the single common words that stand alone in prose (see
/// [`running_text`]).
fn without_lone_common_words<'i>(
    norm: &str,
    chosen: Vec<(RawOccurrence, &'i TermIndex)>,
) -> Vec<(RawOccurrence, &'i TermIndex)> {
    let matches: Vec<(Range<usize>, bool)> = chosen
        .iter()
        .map(|(o, index)| {
            (
                o.range.clone(),
                running_text::is_common_word(term_of(index, o.term)),
            )
        })
        .collect();
    let reported = running_text::reported_in_lists(norm, &matches);
    chosen
        .into_iter()
        .zip(reported)
        .filter_map(|(chosen, reported)| reported.then_some(chosen))
        .collect()
}

/// The stored term behind an index entry.
fn term_of(index: &TermIndex, term: TermId) -> &Term {
    let t = &index.terms[term as usize];
    &index.concept_of(term).langs[t.section as usize].terms[t.term as usize]
}

/// Where a term is in its concept: the last tie-break, so that results do not depend on the
/// order of term ids in the index.
fn position_of(index: &TermIndex, term: TermId) -> (u16, u16) {
    let t = &index.terms[term as usize];
    (t.section, t.term)
}

fn status_of(index: &TermIndex, term: TermId) -> TermStatus {
    term_of(index, term).status
}

/// Whether a stored section's language is the query's: Chinese queries meet both written
/// standards (normalization folds traditional into simplified), others compare the primary
/// subtag.
fn same_language(stored: &Lang, query: &Lang) -> bool {
    stored.primary() == query.primary()
}

/// Whether `hit` should replace `existing` as a concept's best hit. Ties go to the term
/// that comes first in the concept, whatever the order in which candidates were found.
fn better(hit: &TermHit, existing: &TermHit) -> bool {
    let rank = |h: &TermHit| (h.kind, h.matched_term().status, h.section, h.term);
    hit.score > existing.score || (hit.score == existing.score && rank(hit) < rank(existing))
}

/// Converts sorted, non-overlapping byte ranges of `text` (on char boundaries) into byte,
/// char and UTF-16 spans in one pass.
fn text_spans(text: &str, ranges: &[Range<usize>]) -> Vec<Spans> {
    let mut out = Vec::with_capacity(ranges.len());
    let (mut chars, mut utf16, mut at) = (0usize, 0usize, 0usize);
    let mut advance = |to: usize| {
        // Never backwards: ranges that broke the contract get wrong counts, not a panic.
        for c in text.get(at..to).unwrap_or_default().chars() {
            chars += 1;
            utf16 += c.len_utf16();
        }
        at = at.max(to);
        (chars, utf16)
    };
    for range in ranges {
        let (cs, us) = advance(range.start);
        let (ce, ue) = advance(range.end);
        out.push(Spans {
            bytes: range.clone(),
            chars: cs..ce,
            utf16: us..ue,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A small termbase whose terms meet in the text fragments of the property test below.
    fn search() -> TermSearch {
        let concept = |id: &str, lang: Lang, terms: &[&str]| {
            let terms = terms.iter().map(|t| Term::preferred(*t)).collect();
            Concept::new(id, "test", vec![LangSection::new(lang, terms)])
        };
        TermSearch::new(
            vec![
                concept("peace", Lang::zh(), &["地区和平"]),
                concept("members", Lang::zh(), &["成员国"]),
                concept("heisei", Lang::zh(), &["平成"]),
                concept("rd", Lang::en(), &["R&D", "research and development"]),
                concept("sco", Lang::en(), &["SCO"]),
                concept("spirit", Lang::ru(), &["Шанхайский дух"]),
            ],
            HashMap::new(),
        )
    }

    #[test]
    fn a_term_never_covers_part_of_a_character_as_written() {
        let ids = |text: &str| -> Vec<String> {
            let found = search().snapshot().recognize(text, None, &[]);
            found.iter().map(|o| o.concept.id.clone()).collect()
        };
        assert_eq!(ids("地区和平成员国"), ["peace", "members"]);
        // ㍻ normalizes to 平成: 地区和平 would end inside it and 成员国 start inside it (and
        // 平成 itself straddles the words 和平 and 成员国).
        assert!(ids("地区和㍻员国").is_empty());
    }

    proptest! {
        /// Whatever the text, recognition does not panic and reports spans in order, apart,
        /// on character boundaries of the original, and consistent in all three units.
        #[test]
        fn recognized_spans_are_sound_in_any_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("地区和".to_owned()), Just("㍻".to_owned()), Just("员国".to_owned()),
                    Just("R&D".to_owned()), Just("ＳＣＯ".to_owned()), Just("ﬁ".to_owned()),
                    Just("Шанхайского духа".to_owned()), Just(" ".to_owned()),
                    any::<String>(),
                ],
                0..8,
            )
        ) {
            let text: String = parts.concat();
            let found = search().snapshot().recognize(&text, None, &[]);
            let mut previous_end = 0;
            for occurrence in &found {
                let spans = &occurrence.spans;
                prop_assert!(spans.bytes.start >= previous_end);
                prop_assert!(spans.bytes.start < spans.bytes.end);
                let before = &text[..spans.bytes.start];
                let surface = &text[spans.bytes.clone()];
                prop_assert_eq!(spans.chars.start, before.chars().count());
                prop_assert_eq!(spans.chars.len(), surface.chars().count());
                prop_assert_eq!(spans.utf16.start, before.encode_utf16().count());
                prop_assert_eq!(spans.utf16.len(), surface.encode_utf16().count());
                previous_end = spans.bytes.end;
            }
        }
    }

    #[test]
    fn a_lower_collection_fills_gaps_but_never_cuts_into_a_higher_ones_term() {
        // 为上合组织: a dictionary's 为上 (0..2) starts first, the glossary's 上合组织 (1..5).
        let candidates = vec![(0, 0..2), (5, 1..5), (0, 2..3), (0, 5..7), (5, 6..8)];
        let chosen = leftmost_longest_by_priority(candidates, |c| c.0, |c| c.1.clone());
        assert_eq!(chosen, [(5, 1..5), (5, 6..8)]);
        // One priority: plain leftmost-longest.
        let candidates = vec![(0, 0..2), (0, 1..5), (0, 2..3), (0, 3..4)];
        let chosen = leftmost_longest_by_priority(candidates, |c| c.0, |c| c.1.clone());
        assert_eq!(chosen, [(0, 0..2), (0, 2..3), (0, 3..4)]);
    }

    #[test]
    fn spans_count_astral_characters_twice_in_utf16() {
        let text = "𠀀a一带一路b";
        let start = text.find('一').unwrap();
        let range = start..start + 12;
        let spans = text_spans(text, std::slice::from_ref(&range));
        assert_eq!(spans[0].chars, 2..6);
        assert_eq!(spans[0].utf16, 3..7);
    }
}
