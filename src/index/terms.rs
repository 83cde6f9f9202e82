//! One immutable term index over a set of concepts: the structures behind Lookup and
//! Recognize. Built once, then only read; [`super::TermSearch`] layers small ones for recent
//! writes over a large one for everything else.

mod automaton;
mod persisted;
mod stem_starts;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use self::automaton::KeyAutomaton;
use self::stem_starts::{Starting, StemStarts, TextRuns};
use super::cancel::Cancel;
use super::distance::{levenshtein_within, typo_distance, BitPattern};
use super::key_table::{KeyTable, TermId};
use super::match_kind::MatchKind;
use super::rules::{
    contains, coverage_units, fragment_score, han_word_aligned, holds_run, max_edits, max_typos,
    max_word_edits, min_partial_chars, on_word_boundaries, one_holds_the_other, query_units,
    stem_window_end, term_stems, typo_edits, typo_similarity, QueryText, MAX_FUZZY_QUERY_CHARS,
    MAX_VARIANT_QUERY_WORDS, MIN_VARIANT_TERM_WORDS,
};
use super::running_text;
use super::score;
use crate::model::{Concept, Term, TermStatus};
use crate::text;

/// What the index knows about one stored term.
pub(super) struct IndexedTerm {
    /// Position of the concept in [`TermIndex::concepts`].
    pub concept: u32,
    /// Position of the language section in the concept.
    pub section: u16,
    /// Position of the term in the section.
    pub term: u16,
    /// Stems of the term's word tokens (empty for terms with Han characters).
    stems: Box<[Box<str>]>,
}

/// What Recognize asks of every term it meets in a text, read from the stored term once, when
/// the index is built or read back: four bytes in an array of their own, where the stored
/// term is three reads away (concept, section, term), scattered in memory with 10⁶ others, and
/// a text's matches would make those reads once per match and again per check.
#[derive(Clone, Copy)]
pub(super) struct TermFacts {
    /// The stored term's status.
    pub status: TermStatus,
    /// Whether the stored text has a capital letter, which a match in running text must keep
    /// (see `running_text::keeps_capitals`): only then is the stored text read.
    pub capitals: bool,
    /// Whether the term is a single common word (`running_text::is_common_word`).
    pub common_word: bool,
    /// Whether the stored text is its own normalized key, so that a match written exactly as
    /// stored is one written as the key, compared without reading the stored text.
    pub written_as_key: bool,
}

impl TermFacts {
    /// The facts of `term`, whose normalized key is `key`.
    pub fn of(term: &Term, key: &str) -> TermFacts {
        TermFacts {
            status: term.status,
            capitals: term.text.chars().any(text::is_uppercase),
            common_word: running_text::is_common_word(term),
            written_as_key: term.text == key,
        }
    }
}

/// Where a term's normalized key and joined stems are in [`TermIndex::keys`]: all terms'
/// texts share one string instead of two allocations per term.
#[derive(Clone, Copy)]
struct KeyText {
    /// Byte offset of the normalized key; the joined stems follow it.
    start: usize,
    /// Byte offset where the stems, joined by spaces, begin (and the key ends).
    stems_start: usize,
    /// Byte offset where the stems end.
    end: usize,
    /// Characters of the normalized key.
    norm_chars: u32,
}

/// What a fuzzy lookup needs to rule a candidate out before reading its text: the lengths of
/// the term's key and joined stems, and which characters each holds. Twelve bytes per term in
/// an array of their own, so that the tens of thousands of candidates of a short query stay
/// in cache.
#[derive(Clone, Copy)]
struct Sketch {
    /// [`char_set`] of the normalized key.
    norm_set: u32,
    /// [`char_set`] of the joined stems.
    stem_set: u32,
    /// Characters of the normalized key, saturated: no query reaches a term that long.
    norm_chars: u16,
    /// Characters of the joined stems, saturated likewise.
    stem_chars: u16,
}

/// An occurrence of a term in normalized text, before overlap resolution.
pub(super) struct RawOccurrence {
    pub term: TermId,
    /// Byte range in the normalized text.
    pub range: Range<usize>,
    pub kind: MatchKind,
}

/// A scored candidate for a lookup.
pub(super) struct Candidate {
    pub term: TermId,
    pub score: f32,
    pub kind: MatchKind,
}

/// The index: term keys, stems, character n-grams and an Aho-Corasick automaton.
pub(super) struct TermIndex {
    pub concepts: Vec<Arc<Concept>>,
    /// Whether `concepts` are in id order (a base always is), so that comparing two of them
    /// by id is comparing their positions, without reading either.
    concepts_by_id: bool,
    pub terms: Vec<IndexedTerm>,
    /// Each term's facts for Recognize, by [`TermId`].
    facts: Vec<TermFacts>,
    /// Each term's key text, by [`TermId`].
    key_texts: Vec<KeyText>,
    /// Each term's sketch, by [`TermId`].
    sketches: Vec<Sketch>,
    /// Term ids are given in order of key length: the first id of each length, for lengths up
    /// to [`LONGEST_BANDED_KEY`]. The terms close enough in length to a fuzzy query are a
    /// range of ids, and so a slice of each sorted posting list.
    length_starts: Vec<TermId>,
    /// The normalized keys and joined stems of every term, back to back.
    keys: String,
    /// Terms by their stored text, trimmed.
    exact: KeyTable,
    /// Terms by normalized key.
    normalized: KeyTable,
    /// Terms by their stems joined by spaces.
    stemmed: KeyTable,
    /// Terms by their first stem, each with its stem count and fingerprint.
    stem_starts: StemStarts,
    /// Terms by each of their stems: the candidates for a term containing a query's words.
    stems_anywhere: KeyTable,
    grams: HashMap<Gram, Vec<TermId>>,
    /// Chinese terms by their toneless pinyin readings ([`text::pinyin::reading_keys`]).
    /// Keys are not kept: a candidate is confirmed by reading its term again.
    pinyin: KeyTable,
    /// Every distinct normalized key, each match with the terms of its key.
    automaton: Option<KeyAutomaton>,
}

/// Most candidates verified by edit distance for one fuzzy lookup: bounds the worst case on
/// queries made of very common n-grams.
const MAX_FUZZY_CANDIDATES: usize = 20_000;

/// A gram in more terms than this is common enough to skip when counting shared grams.
/// Counting a posting costs far less than verifying the candidates a lower threshold lets
/// through, so only very long lists are worth skipping.
const COMMON_GRAM: usize = 50_000;

// A query needs at most its gram count less three shared grams, which must fit
// [`SharedGrams::counts`].
const _: () = assert!(MAX_FUZZY_QUERY_CHARS - 3 <= u8::MAX as usize);

/// Longest key length with an entry in [`TermIndex::length_starts`]: beyond the reach of the
/// longest fuzzy query.
const LONGEST_BANDED_KEY: usize = 2 * MAX_FUZZY_QUERY_CHARS;

/// For keys lengths in ascending order, the position of the first key of each length from 0
/// to [`LONGEST_BANDED_KEY`] + 1 (the count of shorter keys where there is none).
fn length_starts(lengths: impl Iterator<Item = usize>) -> Vec<TermId> {
    let mut starts = Vec::new();
    for (id, len) in lengths.enumerate() {
        while starts.len() <= len.min(LONGEST_BANDED_KEY + 1) {
            starts.push(id as TermId);
        }
    }
    starts
}

impl TermIndex {
    /// Indexes every term of `concepts`.
    pub fn build(concepts: Vec<Arc<Concept>>) -> TermIndex {
        let mut index = TermIndex {
            concepts: Vec::new(),
            concepts_by_id: false,
            terms: Vec::new(),
            facts: Vec::new(),
            key_texts: Vec::new(),
            sketches: Vec::new(),
            length_starts: Vec::new(),
            keys: String::new(),
            exact: KeyTable::build(std::iter::empty()),
            normalized: KeyTable::build(std::iter::empty()),
            stemmed: KeyTable::build(std::iter::empty()),
            stem_starts: StemStarts::build(&[], |_| false),
            stems_anywhere: KeyTable::build(std::iter::empty()),
            grams: HashMap::new(),
            pinyin: KeyTable::build(std::iter::empty()),
            automaton: None,
        };
        let mut entries = Vec::new();
        for (concept_pos, concept) in concepts.iter().enumerate() {
            for (section_pos, section) in concept.langs.iter().enumerate() {
                for (term_pos, term) in section.terms.iter().enumerate() {
                    let norm = text::normalize_key(&term.text);
                    if !norm.is_empty() {
                        let position = (concept_pos as u32, section_pos as u16, term_pos as u16);
                        entries.push((norm.chars().count(), position, term, norm));
                    }
                }
            }
        }
        // Ids in order of key length (stable, so concept order within a length).
        entries.sort_by_key(|entry| entry.0);
        index.length_starts = length_starts(entries.iter().map(|entry| entry.0));
        for (_, (concept_pos, section_pos, term_pos), term, norm) in entries {
            let id = index.terms.len() as TermId;
            let stems = term_stems(term, &text::tokenize(&norm));
            let norm_chars: Vec<char> = norm.chars().collect();
            let start = index.keys.len();
            index.keys.push_str(&norm);
            let stems_start = index.keys.len();
            for (i, stem) in stems.iter().enumerate() {
                if i > 0 {
                    index.keys.push(' ');
                }
                index.keys.push_str(stem);
            }
            // A typo may be nearer the joined stems than the key (see `fuzzy_and_contained`):
            // the term is listed under the grams of both.
            let mut term_grams = grams(&norm_chars);
            if !stems.is_empty() {
                let stem_chars: Vec<char> = index.keys[stems_start..].chars().collect();
                term_grams.extend(grams(&stem_chars));
            }
            term_grams.sort_unstable();
            term_grams.dedup();
            for gram in term_grams {
                index.grams.entry(gram).or_default().push(id);
            }
            let stem_chars = index.keys[stems_start..].chars().count();
            index.sketches.push(Sketch {
                norm_set: char_set(norm.chars()),
                stem_set: char_set(index.keys[stems_start..].chars()),
                norm_chars: u16::try_from(norm_chars.len()).unwrap_or(u16::MAX),
                stem_chars: u16::try_from(stem_chars).unwrap_or(u16::MAX),
            });
            index.facts.push(TermFacts::of(term, &norm));
            index.key_texts.push(KeyText {
                start,
                stems_start,
                end: index.keys.len(),
                norm_chars: u32::try_from(norm_chars.len()).unwrap_or(u32::MAX),
            });
            index.terms.push(IndexedTerm {
                concept: concept_pos,
                section: section_pos,
                term: term_pos,
                stems,
            });
        }
        index.concepts_by_id = in_id_order(&concepts);
        index.concepts = concepts;
        index.keys.shrink_to_fit();
        index.exact = index.key_table(Key::Exact);
        index.normalized = index.key_table(Key::Normalized);
        index.stemmed = index.key_table(Key::Stemmed);
        index.stem_starts = StemStarts::build(&index.terms, |id| {
            let key = &index.key_texts[id as usize];
            index.keys[key.start..key.stems_start] == index.keys[key.stems_start..key.end]
        });
        index.stems_anywhere =
            KeyTable::build(
                index.terms.iter().enumerate().flat_map(|(id, term)| {
                    term.stems.iter().map(move |stem| (&**stem, id as TermId))
                }),
            );
        index.pinyin = index.pinyin_table();
        index.automaton = index.automaton();
        index
    }

    /// The automaton over every distinct normalized key, with its terms (see
    /// [`KeyAutomaton::build`]).
    fn automaton(&self) -> Option<KeyAutomaton> {
        KeyAutomaton::build((0..self.terms.len() as TermId).map(|id| (self.norm_key(id), id)))
    }

    /// The table of Chinese terms by their toneless readings. Only terms with Han characters
    /// are read; the keys live only while the table is built.
    fn pinyin_table(&self) -> KeyTable {
        // The readings back to back in one string, by (end, term): no allocation per key.
        let mut readings = String::new();
        let mut entries: Vec<(usize, TermId)> = Vec::new();
        for id in 0..self.terms.len() as TermId {
            let key = self.norm_key(id);
            if key.chars().any(text::is_han) {
                for reading in text::pinyin::reading_keys(key) {
                    readings.push_str(&reading);
                    entries.push((readings.len(), id));
                }
            }
        }
        let starts = std::iter::once(0).chain(entries.iter().map(|&(end, _)| end));
        KeyTable::build(
            starts
                .zip(&entries)
                .map(|(start, &(end, id))| (&readings[start..end], id)),
        )
    }

    /// The Chinese terms `accept` lets through that read as a pinyin query, scored by how its
    /// tones agree with their readings.
    pub fn pinyin_candidates(
        &self,
        query: &text::pinyin::PinyinQuery,
        accept: impl Fn(TermId) -> bool,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut previous = None;
        for &term in self.pinyin.candidates(query.key()) {
            // A term is listed once per reading; readings sharing a hash follow each other.
            if previous.replace(term) == Some(term) || !accept(term) {
                continue;
            }
            if let Some(tones) = query.reads(self.norm_key(term)) {
                out.push(Candidate {
                    term,
                    score: score::pinyin(tones.syllables, tones.agreeing, tones.disagreeing),
                    kind: MatchKind::Pinyin,
                });
            }
        }
        out
    }

    /// A table of every term by its key of the given kind.
    fn key_table(&self, kind: Key) -> KeyTable {
        let ids = 0..self.terms.len() as TermId;
        KeyTable::build(ids.filter_map(|id| self.key(kind, id).map(|key| (key, id))))
    }

    /// A term's normalized key.
    pub fn norm_key(&self, term: TermId) -> &str {
        let key = &self.key_texts[term as usize];
        &self.keys[key.start..key.stems_start]
    }

    /// A term's key of the given kind, if it has one.
    fn key(&self, kind: Key, term: TermId) -> Option<&str> {
        let key = &self.key_texts[term as usize];
        // A term without stems has none joined (a stem is never empty).
        let stems = Some(&self.keys[key.stems_start..key.end]).filter(|s| !s.is_empty());
        match kind {
            Key::Exact => {
                let t = &self.terms[term as usize];
                let concept = &self.concepts[t.concept as usize];
                Some(
                    concept.langs[t.section as usize].terms[t.term as usize]
                        .text
                        .trim(),
                )
            }
            Key::Normalized => Some(self.norm_key(term)),
            Key::Stemmed => stems,
        }
    }

    /// The terms whose key of the given kind is `key`, in id order.
    fn terms_by<'s>(&'s self, kind: Key, key: &'s str) -> impl Iterator<Item = TermId> + 's {
        let table = match kind {
            Key::Exact => &self.exact,
            Key::Normalized => &self.normalized,
            Key::Stemmed => &self.stemmed,
        };
        table
            .candidates(key)
            .iter()
            .copied()
            .filter(move |&id| self.key(kind, id) == Some(key))
    }

    /// A term's length in the units a partial match's coverage counts (see
    /// [`coverage_units`]).
    fn coverage_units(&self, term: TermId, han: bool) -> usize {
        let key = &self.key_texts[term as usize];
        let stems = self.terms[term as usize].stems.len();
        coverage_units(self.norm_key(term), key.norm_chars as usize, stems, han)
    }

    /// What Recognize asks of a term (see [`TermFacts`]).
    pub fn facts(&self, term: TermId) -> TermFacts {
        self.facts[term as usize]
    }

    /// The concepts of two terms of this index in id order, read only when the index does
    /// not keep its concepts in that order.
    pub fn cmp_concepts(&self, a: TermId, b: TermId) -> std::cmp::Ordering {
        let (a, b) = (
            self.terms[a as usize].concept,
            self.terms[b as usize].concept,
        );
        if self.concepts_by_id {
            a.cmp(&b)
        } else {
            self.concepts[a as usize]
                .id
                .cmp(&self.concepts[b as usize].id)
        }
    }

    /// Whether a tie between two terms of one normalized key goes to the lower id. Their ids
    /// follow their concepts' positions and their own (ids go by key length, then concept
    /// order), which is the order of [`cmp_concepts`](Self::cmp_concepts) and the positions
    /// when the concepts are in id order.
    pub fn keys_terms_in_concept_order(&self) -> bool {
        self.concepts_by_id
    }

    /// The concept a term belongs to.
    pub fn concept_of(&self, term: TermId) -> &Arc<Concept> {
        &self.concepts[self.terms[term as usize].concept as usize]
    }

    /// The terms `accept` lets through (the caller's language and collection filters) that
    /// the query names outright: exactly (`raw` as typed), normalized, or by its stems.
    pub fn outright_candidates(
        &self,
        raw: &str,
        query: &QueryText,
        accept: impl Fn(TermId) -> bool,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut add = |key: Key, text: &str, kind: MatchKind, score: f32| {
            for term in self.terms_by(key, text).filter(|&term| accept(term)) {
                out.push(Candidate { term, score, kind });
            }
        };
        add(Key::Exact, raw.trim(), MatchKind::Exact, score::EXACT);
        let norm = query.norm();
        if norm.is_empty() {
            return out;
        }
        add(
            Key::Normalized,
            norm,
            MatchKind::Normalized,
            score::NORMALIZED,
        );
        let query_stems = query.stems();
        if !query.han && !query_stems.is_empty() {
            add(
                Key::Stemmed,
                &query_stems.join(" "),
                MatchKind::Stemmed,
                score::STEMMED,
            );
        }
        out
    }

    /// The other ways the query meets a term `accept` lets through: partial (either holds
    /// the other) and, when `typos` is set, fuzzy. Several candidates per term are possible;
    /// the caller keeps the best.
    ///
    /// Typos are for a query that names no accepted term outright, in this index or in any
    /// other the caller searches with it: the caller decides, after
    /// [`outright_candidates`](Self::outright_candidates) of them all. The filter comes in
    /// here too, so that a term the caller would drop never hides what it wants.
    pub fn other_candidates(
        &self,
        query: &QueryText,
        typos: bool,
        accept: impl Fn(TermId) -> bool,
        cancel: &Cancel,
    ) -> Vec<Candidate> {
        let mut out = Vec::new();
        let norm = query.norm();
        let query_chars = &query.chars;
        if norm.is_empty() || query_chars.len() > MAX_FUZZY_QUERY_CHARS {
            return out;
        }
        let query_stems = query.stems();
        let has_han = query.han;
        // Each pass is bounded (MAX_FUZZY_CANDIDATES, MAX_FUZZY_QUERY_CHARS): the flag is
        // read between them.
        self.fuzzy_and_contained(norm, query_chars, &query_stems, has_han, typos, &mut out);
        if typos && !has_han && !cancel.is_cancelled() {
            self.word_variants(&query_stems, &mut out);
        }
        // The query contains a term: the same occurrence search Recognize uses.
        let query_units = query.units();
        for occurrence in self.occurrences(norm, &text::words(norm), cancel) {
            if occurrence.range.len() == norm.len() {
                continue;
            }
            out.push(Candidate {
                term: occurrence.term,
                score: score::partial(self.coverage_units(occurrence.term, has_han), query_units),
                kind: MatchKind::Partial,
            });
        }
        out.retain(|candidate| accept(candidate.term));
        out
    }

    /// Candidates from the n-gram index: terms that contain the whole query (partial) and,
    /// when `typos` is set, terms within a few edits of it (fuzzy).
    ///
    /// A term is a typo match when its key is within `max_typos` edits of the query, or its
    /// joined stems of the query's (an inflected form one letter off). Terms are listed under
    /// the grams of both. A term whose key is a typo of the query shares all but one per edit
    /// of the query's chunks, or all but three per edit of its trigrams ([`typo_grams`]), and
    /// one whose stems are a typo of the query's stems likewise of the stems' (the count
    /// filter). The two are counted apart, each against its own threshold ([`TypoLane`]): a
    /// count of both together lets through every term sharing a few grams with the shorter.
    /// The threshold a term must meet depends on its length, read from its sketch: a term no
    /// longer than a nine-letter query may be two edits from it, not three, and a longer one
    /// is reached by insertions, which destroy fewer trigrams ([`TypoGrams::shared_at_least`]).
    /// The longest posting lists are skipped and the threshold lowered by as many, so common
    /// grams cost nothing and no qualifying term is lost. Only the terms of about the query's
    /// length are counted, a range of ids in each posting list (for the key's grams, only
    /// the lengths within typo reach), and a candidate's [`Sketch`] rules most of them out
    /// before their text is read.
    fn fuzzy_and_contained(
        &self,
        norm: &str,
        query_chars: &[char],
        query_stems: &[&str],
        has_han: bool,
        typos: bool,
        out: &mut Vec<Candidate>,
    ) {
        let mut query_grams = grams(query_chars);
        query_grams.sort_unstable();
        query_grams.dedup();
        if query_grams.is_empty() {
            return;
        }
        let posting = |gram: &Gram| self.grams.get(gram).map_or(&[][..], |p| p.as_slice());
        let mut by_rarity: Vec<&Gram> = query_grams.iter().collect();
        by_rarity.sort_by_key(|g| posting(g).len());

        // Partial: the terms that contain the query. A Chinese one contains it as a substring,
        // and so contains its rarest interior gram (the padded edge grams only match where a
        // term itself begins or ends); any other contains the query's stems as a run of its
        // own, and so its rarest stem.
        let query_units = query_units(has_han, query_chars, query_stems);
        if query_chars.len() >= min_partial_chars(has_han) {
            let candidates: &[TermId] = if has_han {
                by_rarity
                    .iter()
                    .find(|g| !g.contains(&PAD_START) && !g.contains(&PAD_END))
                    .map_or(&[][..], |g| posting(g))
            } else {
                query_stems
                    .iter()
                    .map(|stem| self.stems_anywhere.candidates(stem))
                    .min_by_key(|ids| ids.len())
                    .unwrap_or_default()
            };
            let mut previous = None;
            for &term_id in candidates {
                // A term holding the rarest stem twice is listed twice.
                if previous.replace(term_id) == Some(term_id) {
                    continue;
                }
                let key = &self.key_texts[term_id as usize];
                let term_chars = key.norm_chars as usize;
                if query_chars.len() < term_chars
                    && contains(
                        &self.keys[key.start..key.stems_start],
                        norm,
                        has_han,
                        &self.terms[term_id as usize].stems,
                        query_stems,
                    )
                {
                    out.push(fragment(
                        term_id,
                        query_units,
                        self.coverage_units(term_id, has_han),
                    ));
                }
            }
        }
        if !typos {
            return;
        }

        let max_typos = max_typos(query_chars.len());
        let query_stem_chars: Vec<char> = query_stems.join(" ").chars().collect();
        let (query_len, query_stem_len) = (query_chars.len(), query_stem_chars.len());
        let band = self.length_band(query_len);
        // The joined stems' grams, read over the whole band. A Han query has none of its own:
        // its key's grams, read over the whole band, stand for them.
        let stem_lane = (!has_han && query_stem_len > 0)
            .then(|| self.typo_lane(typo_grams(&query_stem_chars, max_typos), &band));
        // The key's grams are read over the terms whose keys are within typo reach of the
        // query's length, unless the stems' lane rules nothing out: then every term of the
        // band sharing a gram with either string is a candidate, as it is tried for stems.
        let stems_rule_out = stem_lane.as_ref().is_some_and(|lane| lane.needed > 0);
        let key_band = self.typo_length_band(query_len, max_typos);
        let key_ids = if stems_rule_out { &key_band } else { &band };
        let key_lane = self.typo_lane(typo_grams(query_chars, max_typos), key_ids);
        let query_pattern = BitPattern::new(query_chars);
        let stem_pattern = BitPattern::new(&query_stem_chars);
        let query_set = char_set(query_chars.iter().copied());
        let query_stem_set = char_set(query_stem_chars.iter().copied());
        SHARED_GRAMS.with_borrow_mut(|shared| {
            shared.reset(self.terms.len());
            shared.count(&key_lane, stem_lane.as_ref());
            // The sketches read in a pass of their own, whose loads do not wait on each
            // other: most of them miss every cache.
            let sketched: Vec<(TermId, Sketch)> = shared
                .passing
                .iter()
                .map(|&term_id| (term_id, self.sketches[term_id as usize]))
                .collect();
            let mut verified = 0;
            for (term_id, sketch) in sketched {
                let [key_count, stem_count] = shared.counts[term_id as usize];
                let len = usize::from(sketch.norm_chars);
                let stem_len = usize::from(sketch.stem_chars);
                // Only a term within reach of the query, and sharing enough grams with it for
                // its length, may be a typo of it; likewise of its stems.
                let key_typo = key_band.contains(&term_id) && key_lane.passes_at(key_count, len);
                let stem_typo = query_stem_len > 0
                    && stem_lane
                        .as_ref()
                        .map_or(key_lane.passes(key_count), |lane| {
                            lane.passes_at(stem_count, stem_len)
                        });
                if !key_typo && !stem_typo {
                    continue;
                }
                // Most candidates end here, before their text is read.
                let norm_reachable = key_typo
                    && within_reach((query_len, query_set), (len, sketch.norm_set), max_typos);
                let stems_reachable = stem_typo
                    && stem_len > 0
                    && within_reach(
                        (query_stem_len, query_stem_set),
                        (stem_len, sketch.stem_set),
                        max_typos,
                    );
                if !norm_reachable && !stems_reachable {
                    continue;
                }
                let key = &self.key_texts[term_id as usize];
                verified += 1;
                if verified > MAX_FUZZY_CANDIDATES {
                    break;
                }
                let term_norm = &self.keys[key.start..key.stems_start];
                let mut sim = 0.0f32;
                if norm_reachable {
                    sim = bounded_similarity(&query_pattern, term_norm, len, max_typos);
                }
                if stems_reachable {
                    let stems = &self.keys[key.stems_start..key.end];
                    sim = sim.max(bounded_similarity(
                        &stem_pattern,
                        stems,
                        stem_len,
                        max_typos,
                    ));
                }
                if (score::FUZZY_MIN_SIMILARITY..1.0).contains(&sim) {
                    // A term that is part of the query, or the query part of it, is a partial
                    // match, not a typo.
                    out.push(if one_holds_the_other(norm, term_norm) {
                        fragment(term_id, query_units, self.coverage_units(term_id, has_han))
                    } else {
                        Candidate {
                            term: term_id,
                            score: score::fuzzy(sim),
                            kind: MatchKind::Fuzzy,
                        }
                    });
                }
            }
            shared.clear();
        });
    }

    /// The posting lists of `grams` cut to `ids`, of which a typo must share
    /// [`TypoGrams::fewest_shared`] (none when 0 or less): up to that less one of the longest
    /// lists, those past [`COMMON_GRAM`], are left out and the count needed lowered by as many.
    fn typo_lane(&self, grams: TypoGrams, ids: &Range<TermId>) -> TypoLane<'_> {
        let posting = |gram: &Gram| self.grams.get(gram).map_or(&[][..], |p| p.as_slice());
        let mut lists: Vec<(Gram, &[TermId])> =
            grams.grams.iter().map(|g| (*g, posting(g))).collect();
        lists.sort_by_key(|(_, posting)| posting.len());
        let needed = grams.fewest_shared();
        let common = lists.iter().filter(|(_, p)| p.len() > COMMON_GRAM).count();
        let skipped = usize::try_from(needed - 1).map_or(0, |most| most.min(common));
        lists.truncate(lists.len() - skipped);
        TypoLane {
            lists: lists
                .into_iter()
                .map(|(gram, p)| (gram, within(p, ids)))
                .collect(),
            ids: ids.clone(),
            grams,
            skipped: skipped as isize,
            needed: needed - skipped as isize,
        }
    }

    /// Terms of [`MIN_VARIANT_TERM_WORDS`] words or more that the query names with whole words
    /// replaced, inserted or dropped (fuzzy): "Asian Infrastructure Investment Fund" for the
    /// Asian Infrastructure Investment Bank is too many characters away to be a typo.
    ///
    /// The distance counts word stems, so an inflected word is no edit, and the similarity
    /// minimum is the typos' one: a word in a term of four to six, two in one of seven to
    /// nine. A term within `k` word edits shares at least `n − k` of the query's `n` stems, so
    /// the candidates are the terms counted often enough in the postings of the query's
    /// stems; as for grams, the longest postings are skipped and the threshold lowered by as
    /// many, and at most [`MAX_FUZZY_CANDIDATES`] are compared word by word. A term that
    /// holds the query's words as a run, or whose words the query holds so, is a partial
    /// match (also where punctuation between the words kept the occurrence search from
    /// seeing it).
    fn word_variants(&self, query_stems: &[&str], out: &mut Vec<Candidate>) {
        let n = query_stems.len();
        let most_edits = max_word_edits(n);
        if most_edits == 0 || n > MAX_VARIANT_QUERY_WORDS {
            return;
        }
        let needed = n - most_edits;
        let mut by_rarity: Vec<&[TermId]> = query_stems
            .iter()
            .map(|stem| self.stems_anywhere.candidates(stem))
            .collect();
        by_rarity.sort_by_key(|posting| posting.len());
        // Each query word matches at most one word of a term: skipping the postings of `s`
        // words lowers the count a term needs by `s` at most.
        let skipped = (needed - 1).min(
            by_rarity
                .iter()
                .filter(|posting| posting.len() > COMMON_GRAM)
                .count(),
        );
        let counted = &by_rarity[..n - skipped];
        let needed_counted = needed - skipped;
        SHARED_GRAMS.with_borrow_mut(|shared| {
            shared.reset(self.terms.len());
            let need = [u16::try_from(needed_counted).unwrap_or(NEVER), NEVER];
            for posting in counted {
                shared.add(posting, [1, 0], need);
            }
            let mut verified = 0;
            for &term_id in &shared.passing {
                let stems = &self.terms[term_id as usize].stems;
                let m = stems.len();
                if m < MIN_VARIANT_TERM_WORDS || m.abs_diff(n) > most_edits {
                    continue;
                }
                verified += 1;
                if verified > MAX_FUZZY_CANDIDATES {
                    break;
                }
                let term_stems: Vec<&str> = stems.iter().map(|s| &**s).collect();
                if holds_run(&term_stems, query_stems) || holds_run(query_stems, &term_stems) {
                    out.push(fragment(term_id, n, m));
                    continue;
                }
                let longest = n.max(m);
                let Some(edits) = levenshtein_within(query_stems, &term_stems, most_edits) else {
                    continue;
                };
                let sim = 1.0 - edits as f32 / longest as f32;
                if (score::FUZZY_MIN_SIMILARITY..1.0).contains(&sim) {
                    out.push(Candidate {
                        term: term_id,
                        score: score::fuzzy(sim),
                        kind: MatchKind::Fuzzy,
                    });
                }
            }
            shared.clear();
        });
    }

    /// The ids of the terms whose keys are close enough in length to a query of `query_len`
    /// characters to be tried as typos of it. Wider than the similarity minimum allows, by
    /// two characters: the joined stems of a term may be nearer the query's than its key is.
    fn length_band(&self, query_len: usize) -> Range<TermId> {
        let fits = |n: usize| n.abs_diff(query_len) <= max_edits(n.max(query_len)) + 2;
        let shortest = (0..query_len).find(|&n| fits(n)).unwrap_or(query_len);
        let mut longest = query_len;
        while fits(longest + 1) {
            longest += 1;
        }
        self.first_of_length(shortest)..self.first_of_length(longest + 1)
    }

    /// The ids of the terms whose keys are within typo reach of a query of `query_len`
    /// characters allowing `max_typos` (see [`within_reach`]): a narrower range than
    /// [`length_band`](Self::length_band).
    fn typo_length_band(&self, query_len: usize, max_typos: usize) -> Range<TermId> {
        let reaches = |n: usize| n.abs_diff(query_len) <= typo_edits(n.max(query_len), max_typos);
        let shortest = (0..query_len).find(|&n| reaches(n)).unwrap_or(query_len);
        let mut longest = query_len;
        while reaches(longest + 1) {
            longest += 1;
        }
        self.first_of_length(shortest)..self.first_of_length(longest + 1)
    }

    /// The first id of a key of `chars` characters or more.
    fn first_of_length(&self, chars: usize) -> TermId {
        self.length_starts
            .get(chars)
            .copied()
            .unwrap_or(self.terms.len() as TermId)
    }

    /// How many matches the automaton finds in normalized text, overlapping ones included,
    /// with nothing else checked: the scan [`occurrences`](Self::occurrences) starts from.
    pub fn automaton_matches(&self, norm: &str) -> usize {
        self.automaton
            .as_ref()
            .map_or(0, |automaton| automaton.matches(norm).count())
    }

    /// Every occurrence of a stored term in normalized text, overlapping ones included:
    /// surface matches of normalized keys that respect word boundaries, and stem-sequence
    /// matches of Russian and English terms (inflected forms). `words` are those of `norm`
    /// ([`text::words`]).
    pub fn occurrences(
        &self,
        norm: &str,
        words: &text::Words,
        cancel: &Cancel,
    ) -> Vec<RawOccurrence> {
        if self.terms.is_empty() {
            // The fresh and delta layers are empty but after writes.
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut checkpoint = cancel.checkpoint();
        if let Some(automaton) = &self.automaton {
            for (range, key) in automaton.matches(norm) {
                if checkpoint.stop() {
                    return out;
                }
                if !stands_as_a_term(norm, &range) {
                    continue;
                }
                out.extend(automaton.terms_of(key).iter().map(|&term| RawOccurrence {
                    term,
                    range: range.clone(),
                    kind: MatchKind::Normalized,
                }));
            }
        }
        // The terms that may start at each distinct word's stem, unconfirmed: a term's run of
        // stems is compared with the text's by fingerprint, then stem by stem, the first
        // included.
        let hashes: Vec<u64> = words
            .stems
            .iter()
            .map(|stem| self.stem_starts.hash(stem))
            .collect();
        let starting: Vec<Starting> = hashes
            .iter()
            .map(|&hash| self.stem_starts.starting(hash))
            .collect();
        let mut runs = TextRuns::new(&hashes, &words.word_of_token);
        for (start, &word) in words.word_of_token.iter().enumerate() {
            if checkpoint.stop() {
                return out;
            }
            let Some(&candidates) = starting.get(word as usize) else {
                continue;
            };
            for (term_id, run) in candidates.iter() {
                if !runs.may_start_at(start, run) {
                    continue;
                }
                let window = run
                    .count()
                    .and_then(|count| words.tokens.get(start..start + count));
                if self.automaton.is_some()
                    && run.key_is_stems()
                    && window
                        .and_then(|window| written_as_stems(norm, window))
                        .is_some_and(|range| stands_as_a_term(norm, &range))
                {
                    // The text is written there as the term's key, which the automaton has
                    // found, as a stronger kind of match (or the fingerprint only collided,
                    // and the term is not there): no need to read the key.
                    continue;
                }
                // The stems as the key texts keep them, joined, right after the key: two
                // reads where the term's own list of them takes one per stem more.
                let key_text = &self.key_texts[term_id as usize];
                let key = &self.keys[key_text.start..key_text.stems_start];
                let stems = self.keys[key_text.stems_start..key_text.end].split(' ');
                // A run too long to count is measured by its stems.
                let window =
                    window.or_else(|| words.tokens.get(start..start + stems.clone().count()));
                let Some(window) = window else {
                    continue;
                };
                if !stems.eq(window.iter().map(|token| &*token.stem)) {
                    continue;
                }
                let Some(end) = stem_window_end(key, norm, window) else {
                    continue;
                };
                let range = window[0].range.start..end;
                // Written as its key: the automaton has found it there already, as a
                // stronger kind of match.
                let found_whole = self.automaton.is_some()
                    && norm.get(range.clone()) == Some(key)
                    && stands_as_a_term(norm, &range);
                if !found_whole {
                    out.push(RawOccurrence {
                        term: term_id,
                        range,
                        kind: MatchKind::Stemmed,
                    });
                }
            }
        }
        out
    }
}

/// Where `window` is in `norm` if it is written there as its tokens' stems with one space
/// between each two: as the key of a term whose key is those stems.
fn written_as_stems(norm: &str, window: &[text::TokenRef]) -> Option<Range<usize>> {
    let written = window
        .iter()
        .all(|token| norm.get(token.range.clone()) == Some(&*token.stem))
        && window
            .windows(2)
            .all(|pair| norm.get(pair[0].range.end..pair[1].range.start) == Some(" "));
    let range = window.first()?.range.start..window.last()?.range.end;
    written.then_some(range)
}

/// Whether a match of a key at `range` of `norm` stands as a term there: whole characters
/// (always, unless a damaged automaton passed the checks), on word boundaries, and not across
/// a Chinese word. The automaton's matches are reported exactly where this holds.
fn stands_as_a_term(norm: &str, range: &Range<usize>) -> bool {
    norm.get(range.clone()).is_some()
        && on_word_boundaries(norm, range)
        && han_word_aligned(norm, range)
}

/// Whether `concepts` are in ascending id order (ids are unique within an index).
pub(super) fn in_id_order(concepts: &[Arc<Concept>]) -> bool {
    concepts.windows(2).all(|pair| pair[0].id < pair[1].id)
}

/// Similarity `1 − d / max(|a|, |b|)` when it can reach the fuzzy minimum with at most
/// `max_typos` edits, else 0: the edit distance stops early once it exceeds either limit.
/// `b` has `b_chars` characters.
///
/// The cap on edits keeps typos to what typing gets wrong: without it a long query could
/// trade a whole word for another ("multilateral talks" for "multilateralism", five edits of
/// seventeen characters) and still pass the similarity minimum.
fn bounded_similarity(a: &BitPattern, b: &str, b_chars: usize, max_typos: usize) -> f32 {
    let longest = a.len().max(b_chars);
    let most = typo_edits(longest, max_typos);
    // The bit-parallel distance rules out almost every candidate; the few within reach are
    // measured again as a typo is counted (a letter for a space is two edits), never less.
    let edits = a.distance_within(b, b_chars, most).and_then(|d| {
        if d == 0 {
            return Some(0);
        }
        let b: Vec<char> = b.chars().collect();
        Some(typo_distance(a.chars(), &b)).filter(|&d| d <= most)
    });
    typo_similarity(edits, longest)
}

/// Whether two strings, each given as its length in characters and its [`char_set`], can be
/// a typo match: similar enough, within `max_typos` edits (what [`bounded_similarity`]
/// accepts). Their edit distance is at least the difference of their lengths, and at least
/// the number of characters of either that the other lacks: each position holding one must be
/// substituted or deleted.
fn within_reach(
    (a_len, a_set): (usize, u32),
    (b_len, b_set): (usize, u32),
    max_typos: usize,
) -> bool {
    let lacking = (a_set & !b_set)
        .count_ones()
        .max((b_set & !a_set).count_ones());
    let fewest_edits = a_len.abs_diff(b_len).max(lacking as usize);
    fewest_edits <= typo_edits(a_len.max(b_len), max_typos)
}

/// The characters of a string as a 32-bit set, each character `c` standing for bit `c mod 32`:
/// distinct for the lower-case letters of the Latin and of the Cyrillic alphabet. Characters
/// sharing a bit only make sets look more alike, so [`within_reach`] stays a lower bound.
fn char_set(chars: impl Iterator<Item = char>) -> u32 {
    chars.fold(0, |set, c| set | 1 << (u32::from(c) % 32))
}

/// How many of the query's grams each term shares, counted in a dense array instead of a
/// hash map: a fuzzy lookup adds up about 10⁵ postings, and hashing each one cost more than
/// everything else in the lookup. Two counts per term, one per lane: the grams of the query's
/// key ([`KEY_LANE`]) and of its joined stems ([`STEM_LANE`]), since a typo of either shares
/// most grams of that one, not of both. One per thread, kept between lookups; only the entries
/// touched are reset.
#[derive(Default)]
struct SharedGrams {
    /// Shared grams per term id and lane. A query has at most [`MAX_FUZZY_QUERY_CHARS`] grams
    /// and needs fewer than `u8::MAX` of them, so a saturated count still passes exactly when
    /// the true one does.
    counts: Vec<[u8; 2]>,
    /// Terms with a non-zero count, in the order first met.
    touched: Vec<TermId>,
    /// Terms whose count reached what either lane needs, in the order they reached it: the
    /// only ones that may pass, so that the thousands only touched are never read again.
    passing: Vec<TermId>,
}

/// The lane of [`SharedGrams::counts`] counting the query's own grams (or word stems).
const KEY_LANE: usize = 0;
/// The lane counting the grams of the query's joined stems.
const STEM_LANE: usize = 1;

/// A count no lane reaches: the need of a lane that is not counted.
const NEVER: u16 = u16::MAX;

impl SharedGrams {
    /// Clears the counts, ready for an index of `terms` terms.
    fn reset(&mut self, terms: usize) {
        // Cleared here too, in case a lookup on this thread stopped half-way.
        self.clear();
        if self.counts.len() < terms {
            self.counts.resize(terms, [0; 2]);
        }
    }

    /// Counts the lists of a key lane and, if any, a stem lane. A gram in both (most of
    /// them: a word and its stem differ in their last letters) is read once for the ids the
    /// two lanes share, counting in both.
    fn count(&mut self, key: &TypoLane<'_>, stems: Option<&TypoLane<'_>>) {
        let need = [key.need(), stems.map_or(NEVER, TypoLane::need)];
        let Some(stems) = stems else {
            for (_, posting) in &key.lists {
                self.add(posting, [1, 0], need);
            }
            return;
        };
        let mut stem_lists: Vec<(Gram, &[TermId], bool)> = stems
            .lists
            .iter()
            .map(|&(gram, posting)| (gram, posting, false))
            .collect();
        stem_lists.sort_unstable_by_key(|&(gram, _, _)| gram);
        let nested = stems.ids.start <= key.ids.start && key.ids.end <= stems.ids.end;
        for &(gram, posting) in &key.lists {
            let shared = stem_lists
                .binary_search_by_key(&gram, |&(gram, _, _)| gram)
                .ok()
                .filter(|_| nested);
            let Some(at) = shared else {
                self.add(posting, [1, 0], need);
                continue;
            };
            let (_, stem_posting, ref mut counted) = stem_lists[at];
            *counted = true;
            // The key's list is the part of the stems' list within the key's ids.
            let start = stem_posting.partition_point(|&id| id < key.ids.start);
            let end = start + posting.len();
            self.add(&stem_posting[..start], [0, 1], need);
            self.add(posting, [1, 1], need);
            self.add(&stem_posting[end..], [0, 1], need);
        }
        for (_, posting, counted) in stem_lists {
            if !counted {
                self.add(posting, [0, 1], need);
            }
        }
    }

    /// Counts a posting list, `by` in each lane, and records the terms whose counts now reach
    /// `need` in either lane for the first time.
    fn add(&mut self, posting: &[TermId], by: [u8; 2], need: [u16; 2]) {
        let reached = |counts: [u8; 2]| {
            u16::from(counts[KEY_LANE]) >= need[KEY_LANE]
                || u16::from(counts[STEM_LANE]) >= need[STEM_LANE]
        };
        for &term in posting {
            let counts = &mut self.counts[term as usize];
            let before = *counts;
            *counts = [
                before[KEY_LANE].saturating_add(by[KEY_LANE]),
                before[STEM_LANE].saturating_add(by[STEM_LANE]),
            ];
            let fresh = before == [0; 2];
            if fresh {
                self.touched.push(term);
            }
            if reached(*counts) && (fresh || !reached(before)) {
                self.passing.push(term);
            }
        }
    }

    /// Resets the counts touched, ready for the next lookup.
    fn clear(&mut self) {
        for &term in &self.touched {
            self.counts[term as usize] = [0; 2];
        }
        self.touched.clear();
        self.passing.clear();
    }
}

/// The posting lists one string's grams are counted from, and how many of them a typo of
/// that string shares at least.
struct TypoLane<'i> {
    /// The lists read, by gram, each cut to `ids`.
    lists: Vec<(Gram, &'i [TermId])>,
    /// The ids of the terms of reach.
    ids: Range<TermId>,
    /// The grams the lists are of, and what an edit does to them.
    grams: TypoGrams,
    /// Lists of very common grams left out of `lists`: a typo may share that many fewer.
    skipped: isize,
    /// Grams a typo of any length shares among `lists`; 0 or less when the count rules
    /// nothing out.
    needed: isize,
}

impl TypoLane<'_> {
    /// Whether a term counted `count` times in the lane's lists shares enough.
    fn passes(&self, count: u8) -> bool {
        isize::from(count) >= self.needed
    }

    /// Whether a term whose string (key or joined stems, as the lane counts) has `len`
    /// characters, counted `count` times, shares enough for a typo of that length: a string
    /// as long as the query's allows fewer edits than a longer one, and an inserted
    /// character destroys fewer trigrams than a substituted one.
    fn passes_at(&self, count: u8, len: usize) -> bool {
        self.grams
            .shared_at_least(len)
            .is_some_and(|needed| isize::from(count) >= needed - self.skipped)
    }

    /// The count at which a term passes, as [`SharedGrams::add`] compares it.
    fn need(&self) -> u16 {
        u16::try_from(self.needed.max(0)).unwrap_or(NEVER)
    }
}

thread_local! {
    static SHARED_GRAMS: RefCell<SharedGrams> = RefCell::default();
}

/// The part of a posting list (sorted ids) that falls in `ids`.
fn within<'p>(posting: &'p [TermId], ids: &Range<TermId>) -> &'p [TermId] {
    let start = posting.partition_point(|&id| id < ids.start);
    let end = start + posting[start..].partition_point(|&id| id < ids.end);
    &posting[start..end]
}

/// The keys terms are looked up by.
#[derive(Clone, Copy)]
enum Key {
    /// The stored text, trimmed.
    Exact,
    /// The normalized key.
    Normalized,
    /// The stems joined by spaces.
    Stemmed,
}

/// An indexed n-gram: a padded character trigram, or one Han character followed by two NULs.
type Gram = [char; 3];
/// Padding before the first character, so that word starts have grams of their own.
const PAD_START: char = '\u{2}';
/// Padding after the last character.
const PAD_END: char = '\u{3}';

/// The grams a typo lane counts for a query string, and how many of them one edit can destroy.
///
/// An edit destroys up to three of the overlapping trigrams around it, but at most one of the
/// trigrams that tile the padded string without overlap, its chunks: a chunk no edit touched
/// is still a run of the other string, so one of its grams. Where the chunks still rule
/// something out within `max_typos` edits they are counted, a third of the lists for the same
/// guarantee; a Han string's grams are its characters, each edit destroying one.
fn typo_grams(chars: &[char], max_typos: usize) -> TypoGrams {
    let all = grams(chars);
    let distinct = |mut grams: Vec<Gram>| {
        grams.sort_unstable();
        grams.dedup();
        grams
    };
    let counted = |grams: Vec<Gram>, per_edit: isize, per_insertion: isize| TypoGrams {
        grams,
        chars: chars.len(),
        max_typos,
        per_edit,
        per_insertion,
    };
    if chars.iter().any(|&c| text::is_han(c)) {
        // A character inserted leaves every other character in place.
        return counted(distinct(all), 1, 0);
    }
    // Every third gram from the first: the chunks (a shorter rest at the end has none). A
    // chunk repeated counts once: an edit to one copy leaves the other.
    let chunks = distinct(all.iter().step_by(3).copied().collect());
    if chunks.len() > max_typos {
        return counted(chunks, 1, 1);
    }
    // A character inserted splits two trigrams: the two that span the gap it goes into.
    counted(distinct(all), 3, 2)
}

/// The grams [`typo_grams`] chose for a string and what an edit does to them: the q-gram
/// count filter of a typo lane.
struct TypoGrams {
    grams: Vec<Gram>,
    /// Characters of the string.
    chars: usize,
    /// Most typos the query allows.
    max_typos: usize,
    /// Most of `grams` one substitution or deletion destroys.
    per_edit: isize,
    /// Most of `grams` one inserted character destroys.
    per_insertion: isize,
}

impl TypoGrams {
    /// How many of the grams a string of `len` characters shares at least if it is a typo of
    /// this one within `max_typos` ([`typo_edits`]), or `None` if its length is out of reach.
    /// Of the edits to a string that many characters longer, at least as many are insertions.
    fn shared_at_least(&self, len: usize) -> Option<isize> {
        let edits = typo_edits(len.max(self.chars), self.max_typos);
        if len.abs_diff(self.chars) > edits {
            return None;
        }
        let insertions = len.saturating_sub(self.chars);
        let destroyed = self.per_edit * (edits - insertions) as isize
            + self.per_insertion * insertions as isize;
        Some(self.grams.len() as isize - destroyed)
    }

    /// The fewest grams a typo of any reachable length shares: what a lane needs of every
    /// term before its length is known.
    fn fewest_shared(&self) -> isize {
        let lengths = self.chars.saturating_sub(self.max_typos)..=self.chars + self.max_typos;
        lengths
            .filter_map(|len| self.shared_at_least(len))
            .min()
            .unwrap_or(0)
    }
}

/// The n-grams a string is indexed under: single characters for text with Han characters
/// (a Chinese term is a handful of very informative characters), padded character trigrams
/// otherwise.
fn grams(chars: &[char]) -> Vec<Gram> {
    if chars.iter().any(|&c| text::is_han(c)) {
        return chars
            .iter()
            .filter(|c| !c.is_whitespace())
            .map(|&c| [c, '\0', '\0'])
            .collect();
    }
    let padded: Vec<char> = std::iter::once(PAD_START)
        .chain(chars.iter().copied())
        .chain(std::iter::once(PAD_END))
        .collect();
    padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// A partial match between a query and a term, one of which holds the other: scored by how
/// much of the longer one the shorter covers, both measured in
/// [`TermIndex::coverage_units`].
fn fragment(term: TermId, query_units: usize, term_units: usize) -> Candidate {
    Candidate {
        term,
        score: fragment_score(query_units, term_units),
        kind: MatchKind::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::distance::{levenshtein, similarity};
    use crate::index::rules::same_script;

    #[test]
    fn length_starts_give_the_first_id_of_each_length() {
        assert_eq!(length_starts([1, 1, 3, 5].into_iter()), [0, 0, 2, 2, 3, 3]);
        assert!(length_starts(std::iter::empty()).is_empty());
        // Lengths past the banded ones share one last entry.
        let long = length_starts([2, LONGEST_BANDED_KEY + 40].into_iter());
        assert_eq!(long.len(), LONGEST_BANDED_KEY + 2);
        assert_eq!(long[LONGEST_BANDED_KEY + 1], 1);
    }

    /// The count filter may only drop strings that are not typos: a typo of a query, of any
    /// length in reach, shares at least as many of the query's counted grams as the filter
    /// asks of a string of its length.
    #[test]
    fn a_typo_shares_the_grams_the_count_filter_asks_for() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        // Few letters, so that grams repeat; Han text is counted by characters.
        let alphabets: [Vec<char>; 2] =
            ["абвг д".chars().collect(), "中国一带路".chars().collect()];
        let (mut checked, mut longer) = (0, 0);
        for _ in 0..50_000 {
            let alphabet = &alphabets[next(2)];
            let query: Vec<char> = (0..1 + next(16))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let mut typo = query.clone();
            for _ in 0..next(4) {
                let at = next(typo.len() + 1);
                let letter = alphabet[next(alphabet.len())];
                match next(3) {
                    0 => typo.insert(at, letter),
                    1 if at < typo.len() => typo[at] = letter,
                    _ if at < typo.len() => drop(typo.remove(at)),
                    _ => {}
                }
            }
            let max_typos = max_typos(query.len());
            let longest = query.len().max(typo.len());
            let edits = levenshtein(&query, &typo);
            if typo.is_empty()
                || !same_script(&query, &typo)
                || edits > typo_edits(longest, max_typos)
                || typo_similarity(Some(edits), longest) < score::FUZZY_MIN_SIMILARITY
            {
                continue;
            }
            let counted = typo_grams(&query, max_typos);
            let typo_grams = grams(&typo);
            let shared = counted
                .grams
                .iter()
                .filter(|gram| typo_grams.contains(gram))
                .count() as isize;
            let needed = counted.shared_at_least(typo.len());
            assert!(
                needed.is_some_and(|needed| shared >= needed),
                "{query:?} / {typo:?}: {shared} shared, {needed:?} needed"
            );
            assert!(needed >= Some(counted.fewest_shared()));
            checked += 1;
            longer += usize::from(typo.len() > query.len());
        }
        assert!(
            checked > 10_000 && longer > 1_000,
            "{checked} typos, {longer} longer"
        );
    }

    /// The filter may only drop pairs that could not be typo matches.
    #[test]
    fn strings_out_of_reach_are_never_similar_enough() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Few letters, so that pairs are often close; a Han character and one beyond the
        // basic plane share bits of the set with them.
        let alphabet: Vec<char> = "абвmnop 中𠀀".chars().collect();
        let mut dropped = 0;
        for _ in 0..20_000 {
            let mut word = || -> Vec<char> {
                let len = 1 + next() % 14;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let (a, b) = (word(), word());
            let max_typos = 1 + (next() % 3) as usize;
            let reach = within_reach(
                (a.len(), char_set(a.iter().copied())),
                (b.len(), char_set(b.iter().copied())),
                max_typos,
            );
            if !reach {
                dropped += 1;
                let typo = levenshtein(&a, &b) <= max_typos
                    && similarity(&a, &b) >= score::FUZZY_MIN_SIMILARITY;
                assert!(!typo, "{a:?} / {b:?} within {max_typos}");
            }
        }
        assert!(dropped > 1000, "the test should exercise the filter");
    }
}
