//! The exhaustive lookup: every stored term scored against the query, one by one, by the
//! rules of `rules.rs` and the scores of [`score`], with none of the term index's tables,
//! n-gram filters or automaton. Linear in the termbase, so never served: it is the reference
//! that says what [`Snapshot::lookup`] must answer.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::distance::levenshtein;
use super::match_kind::MatchKind;
use super::rules::{
    contains, coverage_units, fragment_score, han_word_aligned, holds_run, max_typos,
    max_word_edits, min_partial_chars, on_word_boundaries, one_holds_the_other, stem_window_end,
    term_stems, typo_edits, typo_similarity, QueryText, MAX_FUZZY_QUERY_CHARS,
    MAX_VARIANT_QUERY_WORDS, MIN_VARIANT_TERM_WORDS,
};
use super::{keep_best, same_language, score, LookupQuery, Snapshot, TermHit};
use crate::model::{Concept, Lang, Term};
use crate::text::{self, pinyin::PinyinQuery, Token, TokenKind};

/// A stored term as the rules read it.
struct StoredTerm<'s> {
    concept: &'s Arc<Concept>,
    section: usize,
    term: usize,
    stored: &'s Term,
    /// The normalized key.
    key: String,
    key_chars: Vec<char>,
    stems: Box<[Box<str>]>,
}

impl<'s> StoredTerm<'s> {
    /// The term at `section`, `term` of `concept`; `None` when its normalized key is empty,
    /// which no query can match.
    fn new(concept: &'s Arc<Concept>, section: usize, term: usize) -> Option<StoredTerm<'s>> {
        let stored = concept.langs.get(section)?.terms.get(term)?;
        let key = text::normalize_key(&stored.text);
        if key.is_empty() {
            return None;
        }
        Some(StoredTerm {
            concept,
            section,
            term,
            stored,
            key_chars: key.chars().collect(),
            stems: term_stems(stored, &text::tokenize(&key)),
            key,
        })
    }

    fn lang(&self) -> &Lang {
        &self.concept.langs[self.section].lang
    }

    fn coverage(&self, han: bool) -> usize {
        coverage_units(&self.key, self.key_chars.len(), self.stems.len(), han)
    }

    /// Exact, normalized or stemmed: the query names this term outright.
    fn outright(&self, raw: &str, query: &QueryText) -> Vec<(f32, MatchKind)> {
        let mut out = Vec::new();
        if self.stored.text.trim() == raw.trim() {
            out.push((score::EXACT, MatchKind::Exact));
        }
        let norm = query.norm();
        if norm.is_empty() {
            return out;
        }
        if self.key == norm {
            out.push((score::NORMALIZED, MatchKind::Normalized));
        }
        let query_stems = query.stems();
        if !query.han
            && !query_stems.is_empty()
            && !self.stems.is_empty()
            && self.stems.join(" ") == query_stems.join(" ")
        {
            out.push((score::STEMMED, MatchKind::Stemmed));
        }
        out
    }

    /// Every way the query meets this term: outright, and (for a query short enough to be
    /// a term) partial, fuzzy when `typos`, and as a term inside the query.
    fn matches(&self, raw: &str, query: &QueryText, typos: bool) -> Vec<(f32, MatchKind)> {
        let mut out = self.outright(raw, query);
        let norm = query.norm();
        let chars = &query.chars;
        if norm.is_empty() || chars.len() > MAX_FUZZY_QUERY_CHARS {
            return out;
        }
        let query_stems = query.stems();
        let query_units = query.units();
        let partial = |covered: usize| (fragment_score(query_units, covered), MatchKind::Partial);
        // The term holds the whole query.
        if chars.len() >= min_partial_chars(query.han)
            && chars.len() < self.key_chars.len()
            && contains(&self.key, norm, query.han, &self.stems, &query_stems)
        {
            out.push(partial(self.coverage(query.han)));
        }
        if typos {
            let most = max_typos(chars.len());
            let similarity = |a: &[char], b: &[char]| {
                let longest = a.len().max(b.len());
                let edits = Some(levenshtein(a, b)).filter(|&d| d <= typo_edits(longest, most));
                typo_similarity(edits, longest)
            };
            let query_stem_chars: Vec<char> = query_stems.join(" ").chars().collect();
            let stem_chars: Vec<char> = self.stems.join(" ").chars().collect();
            let mut sim = similarity(chars, &self.key_chars);
            if !query_stem_chars.is_empty() && !stem_chars.is_empty() {
                sim = sim.max(similarity(&query_stem_chars, &stem_chars));
            }
            if (score::FUZZY_MIN_SIMILARITY..1.0).contains(&sim) {
                out.push(if one_holds_the_other(norm, &self.key) {
                    partial(self.coverage(query.han))
                } else {
                    (score::fuzzy(sim), MatchKind::Fuzzy)
                });
            }
            if !query.han {
                out.extend(self.word_variant(&query_stems));
            }
        }
        // The query holds the term.
        for range in occurrences(&self.key, &self.stems, norm, &query.tokens) {
            if range.len() != norm.len() {
                let covered = self.coverage(query.han);
                out.push((score::partial(covered, query_units), MatchKind::Partial));
            }
        }
        out
    }

    /// The query as this term with whole words replaced, inserted or dropped, or one holding
    /// the other's words as a run.
    fn word_variant(&self, query_stems: &[&str]) -> Option<(f32, MatchKind)> {
        let (n, m) = (query_stems.len(), self.stems.len());
        let most = max_word_edits(n);
        if most == 0 || n > MAX_VARIANT_QUERY_WORDS {
            return None;
        }
        if m < MIN_VARIANT_TERM_WORDS || m.abs_diff(n) > most {
            return None;
        }
        let stems: Vec<&str> = self.stems.iter().map(|s| &**s).collect();
        if holds_run(&stems, query_stems) || holds_run(query_stems, &stems) {
            return Some((fragment_score(n, m), MatchKind::Partial));
        }
        let edits = levenshtein(query_stems, &stems);
        let sim = 1.0 - edits as f32 / n.max(m) as f32;
        (edits <= most && (score::FUZZY_MIN_SIMILARITY..1.0).contains(&sim))
            .then(|| (score::fuzzy(sim), MatchKind::Fuzzy))
    }

    /// The query read as the Hanyu Pinyin of this term.
    fn pinyin(&self, query: &PinyinQuery) -> Option<(f32, MatchKind)> {
        let keys = text::pinyin::reading_keys(&self.key);
        if !keys.iter().any(|key| key == query.key()) {
            return None;
        }
        let tones = query.reads(&self.key)?;
        let score = score::pinyin(tones.syllables, tones.agreeing, tones.disagreeing);
        Some((score, MatchKind::Pinyin))
    }

    fn hit(&self, (score, kind): (f32, MatchKind)) -> TermHit {
        TermHit {
            concept: Arc::clone(self.concept),
            section: self.section,
            term: self.term,
            score,
            kind,
        }
    }
}

/// Every place a term with normalized key `key` and `stems` occurs in the normalized text
/// `norm` (tokens `tokens`), overlapping ones included: its key on word boundaries, and its
/// stems as a run of tokens that nothing between them breaks up.
fn occurrences(key: &str, stems: &[Box<str>], norm: &str, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = norm
        .char_indices()
        .map(|(start, _)| start..start + key.len())
        .filter(|range| norm.get(range.clone()) == Some(key))
        .filter(|range| on_word_boundaries(norm, range) && han_word_aligned(norm, range))
        .collect();
    if stems.is_empty() {
        return out;
    }
    for start in 0..tokens.len() {
        let Some(window) = tokens.get(start..start + stems.len()) else {
            break;
        };
        if window[0].kind == TokenKind::Han || !window.iter().zip(stems).all(|(t, s)| t.stem == **s)
        {
            continue;
        }
        if let Some(end) = stem_window_end(key, norm, window) {
            out.push(window[0].range.start..end);
        }
    }
    out
}

impl Snapshot {
    /// Scores every term of every visible concept against the query, with no index: the
    /// reference for tests. Answers what [`lookup`](Self::lookup) answers, hit for hit.
    pub fn lookup_exhaustive(&self, query: &LookupQuery) -> Vec<TermHit> {
        let mut terms: Vec<StoredTerm<'_>> = Vec::new();
        for (index, is_base) in [(&*self.base, true), (&*self.delta, false)] {
            for concept in &index.concepts {
                let hidden = is_base && self.changed.contains(&concept.id);
                let excluded = !query.collections.is_empty()
                    && !query.collections.contains(&concept.collection);
                if hidden || excluded {
                    continue;
                }
                for (section, langs) in concept.langs.iter().enumerate() {
                    terms.extend(
                        (0..langs.terms.len()).filter_map(|t| StoredTerm::new(concept, section, t)),
                    );
                }
            }
        }
        let analyzed = QueryText::new(&query.text);
        let in_query_lang = |term: &StoredTerm<'_>| {
            query
                .source_lang
                .as_ref()
                .is_none_or(|lang| same_language(term.lang(), lang))
        };
        // Typos are looked for only when no term the query may reach is named outright.
        let typos = !terms
            .iter()
            .filter(|term| in_query_lang(term))
            .any(|term| !term.outright(&query.text, &analyzed).is_empty());
        let pinyin = query
            .pinyin
            .then(|| PinyinQuery::parse(&query.text))
            .flatten();
        let chinese = Lang::zh();
        let mut best: HashMap<&str, TermHit> = HashMap::new();
        for term in &terms {
            let mut found = Vec::new();
            if in_query_lang(term) {
                found = term.matches(&query.text, &analyzed, typos);
            }
            if let Some(pinyin) = &pinyin {
                if same_language(term.lang(), &chinese) {
                    found.extend(term.pinyin(pinyin));
                }
            }
            for one in found {
                keep_best(&mut best, term.concept, term.hit(one));
            }
        }
        self.ranked(best, query)
    }
}
