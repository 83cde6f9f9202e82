//! The exhaustive lookup: every stored term scored against the query, one by one, by the
//! rules of `rules.rs` and the scores of [`score`], with none of the term index's tables,
//! n-gram filters or automaton. Linear in the termbase, so never served: it is the reference
//! that says what [`Snapshot::lookup`] must answer, and the property test at the foot of
//! this file holds the index to it.
//!
//! The one limit of the index it does not share is a cost bound, not a rule: a fuzzy lookup
//! verifies at most 20 000 candidates (`MAX_FUZZY_CANDIDATES` in `terms.rs`), which only a
//! query of very common grams over a very large termbase reaches.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::distance::{levenshtein, typo_distance};
use super::match_kind::MatchKind;
use super::rules::{
    contains, coverage_units, fragment_score, han_word_aligned, holds_run, max_typos,
    max_word_edits, min_partial_chars, on_word_boundaries, one_holds_the_other, same_script,
    stem_window_end, term_stems, typo_edits, typo_similarity, QueryText, MAX_FUZZY_QUERY_CHARS,
    MAX_VARIANT_QUERY_WORDS, MIN_VARIANT_TERM_WORDS,
};
use super::{keep_best, same_language, score, LookupQuery, Snapshot, TermHit};
use crate::model::{Concept, Lang, Term};
use crate::text::{self, pinyin::PinyinQuery, Token, TokenKind, TokenRef};

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
    /// The term at `section`, `term` of `concept`; `None` when its normalized key is empty:
    /// such a term is not indexed, and no lookup finds it.
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

    /// The language of its section.
    fn lang(&self) -> &Lang {
        &self.concept.langs[self.section].lang
    }

    /// Its length as a partial match's coverage counts it (see [`coverage_units`]).
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
        if typos && same_script(chars, &self.key_chars) {
            let most = max_typos(chars.len());
            let similarity = |a: &[char], b: &[char]| {
                let longest = a.len().max(b.len());
                let edits = Some(typo_distance(a, b)).filter(|&d| d <= typo_edits(longest, most));
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

    /// A hit on this term.
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
        let window: Vec<TokenRef> = window.iter().map(Token::borrowed).collect();
        if let Some(end) = stem_window_end(key, norm, &window) {
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
        for (index, stale) in self.layers() {
            for concept in &index.concepts {
                let hidden = stale.contains(&concept.id);
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::index::TermSearch;
    use crate::model::{LangSection, TermStatus, TermType};

    /// Phrases terms and queries are cut from: Chinese terms that overlap and contain one
    /// another, Russian inflected forms sharing stems, English multiword terms a word apart,
    /// acronyms, and words that hold other words.
    const ZH: &[&str] = &[
        "一带一路倡议",
        "上海合作组织成员国",
        "地区和平与发展",
        "亚洲基础设施投资银行",
        "丝路基金",
        "上合组织",
    ];
    const RU: &[&str] = &[
        "шанхайский дух",
        "шанхайского духа",
        "шанхайская организация сотрудничества",
        "шанхайской организации сотрудничества",
        "совет глав государств членов",
        "совета глав государств",
        "ШОС",
    ];
    const EN: &[&str] = &[
        "belt and road initiative",
        "the belt and road",
        "silk road fund",
        "silk road spirit",
        "asian infrastructure investment bank",
        "asian infrastructure investment fund",
        "heads of state council",
        "head of state",
        "SCO",
        "R&D",
    ];
    /// Characters edits bring in.
    const NOISE: &[char] = &['a', 'o', 'д', 'и', '路', '国', ' ', '-'];
    const PINYIN: &[&str] = &[
        "yidaiyilu",
        "shanghe zuzhi",
        "silu jijin",
        "yínháng",
        "shang he",
    ];

    fn phrases(lang: usize) -> &'static [&'static str] {
        [ZH, RU, EN][lang % 3]
    }

    fn lang(lang: usize) -> Lang {
        [Lang::zh(), Lang::ru(), Lang::en()][lang % 3].clone()
    }

    /// Part of a phrase (a run of characters for Chinese, of words otherwise), then one
    /// edit: `(phrase, start, len, edit kind, edit position, noise)`.
    type Cut = (usize, usize, usize, usize, usize, usize);

    fn cut_strategy() -> impl Strategy<Value = Cut> {
        (
            0..16usize,
            0..4usize,
            1..6usize,
            0..6usize,
            0..32usize,
            0..16usize,
        )
    }

    fn cut(lang: usize, (phrase, start, len, edit, at, noise): Cut) -> String {
        let phrases = phrases(lang);
        let phrase = phrases[phrase % phrases.len()];
        let mut text = if phrase.chars().any(text::is_han) {
            let chars: Vec<char> = phrase.chars().collect();
            let start = start.min(chars.len() - 1);
            chars[start..(start + len + 1).min(chars.len())]
                .iter()
                .collect()
        } else {
            let words: Vec<&str> = phrase.split(' ').collect();
            let start = start.min(words.len() - 1);
            words[start..(start + len).min(words.len())].join(" ")
        };
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % (chars.len() + 1);
        let noise = NOISE[noise % NOISE.len()];
        // Most cuts stay as they are, so that queries often name terms outright.
        match edit {
            0 => chars.insert(at, noise),
            1 if at < chars.len() => chars[at] = noise,
            2 if at < chars.len() => {
                chars.remove(at);
            }
            3 => chars = text.to_uppercase().chars().collect(),
            _ => {}
        }
        text = chars.into_iter().collect();
        text
    }

    /// A term: its language, its cut, and whether it is an acronym and with what status.
    type TermSpec = (usize, Cut, bool, usize);

    fn term(spec: &TermSpec) -> Term {
        let (lang, cut_spec, acronym, status) = *spec;
        let mut term = Term::preferred(cut(lang, cut_spec));
        if acronym {
            term.term_type = TermType::Acronym;
        }
        term.status = [
            TermStatus::Preferred,
            TermStatus::Admitted,
            TermStatus::Deprecated,
            TermStatus::Superseded,
        ][status % 4];
        term
    }

    /// A concept: its collection and its terms, grouped into sections by language.
    type ConceptSpec = (usize, Vec<TermSpec>);

    fn concept(id: usize, (collection, terms): &ConceptSpec) -> Concept {
        let mut sections: Vec<LangSection> = Vec::new();
        for spec in terms {
            let term = term(spec);
            let lang = lang(spec.0);
            match sections.iter_mut().find(|s| s.lang == lang) {
                Some(section) => section.terms.push(term),
                None => sections.push(LangSection::new(lang, vec![term])),
            }
        }
        Concept::new(format!("c{id}"), format!("k{}", collection % 3), sections)
    }

    fn concept_strategy() -> impl Strategy<Value = ConceptSpec> {
        let term = (
            0..3usize,
            cut_strategy(),
            prop::bool::weighted(0.1),
            0..4usize,
        );
        (0..3usize, prop::collection::vec(term, 1..4))
    }

    /// What a query says: `(text, source language, limit, min score, collections,
    /// pinyin)`. The text is a cut of some language, words of two phrases run together,
    /// or pinyin.
    type QuerySpec = (usize, Cut, usize, usize, usize, usize, usize, bool);

    fn query(spec: &QuerySpec) -> LookupQuery {
        let (kind, cut_spec, second, source, limit, min_score, collections, pinyin) = *spec;
        let text = match kind % 6 {
            4 => format!("{} {}", cut(kind, cut_spec), cut(second, cut_spec)),
            5 => PINYIN[second % PINYIN.len()].to_owned(),
            lang => cut(lang, cut_spec),
        };
        let collections = (0..3)
            .filter(|c| collections & (1 << c) != 0)
            .map(|c| format!("k{c}"))
            .collect();
        LookupQuery {
            text,
            source_lang: [None, Some(Lang::zh()), Some(Lang::ru()), Some(Lang::en())][source % 4]
                .clone(),
            limit: 1 + limit % 12,
            min_score: [0.0, 0.3, score::DEFAULT_MIN_SCORE, 0.6, 0.8][min_score % 5],
            collections,
            pinyin,
        }
    }

    fn query_strategy() -> impl Strategy<Value = QuerySpec> {
        (
            0..6usize,
            cut_strategy(),
            0..8usize,
            0..4usize,
            0..12usize,
            0..5usize,
            0..8usize,
            any::<bool>(),
        )
    }

    /// The hits as compared: concept, matched term, kind and score, in order.
    fn key(hits: &[TermHit]) -> Vec<(String, usize, usize, MatchKind, f32)> {
        hits.iter()
            .map(|h| (h.concept.id.clone(), h.section, h.term, h.kind, h.score))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Indexed lookup answers every query exactly as scoring every term does: the same
        /// concepts, by the same terms, of the same kinds and scores, in the same order.
        /// Some concepts are in the base index and some written after it (new, replacing
        /// or deleting base ones), so both indexes of a snapshot and the stale entries
        /// between them are exercised.
        #[test]
        fn indexed_lookup_equals_exhaustive_lookup(
            concepts in prop::collection::vec(concept_strategy(), 1..12),
            in_base in 0..12usize,
            deleted in prop::collection::vec(0..12usize, 0..3),
            priorities in prop::collection::vec(-1..2i32, 3),
            queries in prop::collection::vec(query_strategy(), 1..8),
        ) {
            let priorities: HashMap<String, i32> =
                priorities.iter().enumerate().map(|(c, &p)| (format!("k{c}"), p)).collect();
            let concepts: Vec<Concept> =
                concepts.iter().enumerate().map(|(id, spec)| concept(id % 9, spec)).collect();
            let (base, later) = concepts.split_at(in_base.min(concepts.len()));
            // Ids repeat (`id % 9`), so later writes replace base concepts too.
            let mut first: Vec<Concept> = Vec::new();
            for concept in base {
                first.retain(|c| c.id != concept.id);
                first.push(concept.clone());
            }
            let search = TermSearch::new(first, priorities);
            for concept in later {
                search.upserted(concept.clone());
            }
            for id in &deleted {
                search.deleted(&format!("c{id}"));
            }
            let snapshot = search.snapshot();
            for spec in &queries {
                let query = query(spec);
                let indexed = key(&snapshot.lookup(&query));
                let exhaustive = key(&snapshot.lookup_exhaustive(&query));
                prop_assert_eq!(indexed, exhaustive, "query {:?}", query);
            }
        }
    }
}
