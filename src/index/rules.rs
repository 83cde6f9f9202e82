//! What counts as a match between a query (or a stretch of text) and a stored term, as
//! functions of their strings alone: the rules the term index applies through its tables,
//! and the exhaustive lookup applies to every term one by one.

use std::ops::Range;

use super::score;
use crate::model::{Term, TermType};
use crate::text::{self, NormalizedText, Token, TokenKind, TokenRef};

/// Longest query, in characters, tried for fuzzy and partial matching; longer input is a
/// sentence and belongs to Recognize.
pub(super) const MAX_FUZZY_QUERY_CHARS: usize = 256;
/// Fewest words of a term that a query with whole words replaced, inserted or dropped may
/// name: in shorter terms every word carries too much of the meaning ("Silk Road Fund" is not
/// the "Silk Road Spirit").
pub(super) const MIN_VARIANT_TERM_WORDS: usize = 4;

/// Longest query, in words, tried for word variants.
pub(super) const MAX_VARIANT_QUERY_WORDS: usize = 32;

/// Most word edits a query of `n` words may be from a term it names: the most `d` that some
/// term of `n − d` to `n + d` words within `d` edits leaves at the similarity minimum, and
/// never more than three.
pub(super) fn max_word_edits(n: usize) -> usize {
    (0..=3)
        .rev()
        .find(|&d| 1.0 - d as f32 / (n + d).max(1) as f32 >= score::FUZZY_MIN_SIMILARITY)
        .unwrap_or(0)
}

/// Most edits between strings whose longer one has `longest` characters that can still leave
/// them similar enough for a typo match. Rounded up: the caller applies the exact threshold to
/// the similarity itself.
pub(super) fn max_edits(longest: usize) -> usize {
    ((1.0 - score::FUZZY_MIN_SIMILARITY) * longest as f32).ceil() as usize
}

/// Whether a term contains the query (both normalized): as a substring for Han text, as a
/// run of whole word stems otherwise (so "road" is in "belt and road", but "oad" is not).
pub(super) fn contains(
    term: &str,
    query: &str,
    han: bool,
    term_stems: &[Box<str>],
    query_stems: &[&str],
) -> bool {
    if han {
        return term.contains(query);
    }
    holds_run(term_stems, query_stems)
}

/// A query's length in the units of [`coverage_units`]: characters of a Chinese
/// query, words of any other.
pub(super) fn query_units(han: bool, chars: &[char], stems: &[&str]) -> usize {
    if han {
        chars.len()
    } else {
        stems.len()
    }
}

/// Whether `long` holds all of `short` as a run of consecutive words.
pub(super) fn holds_run(long: &[impl AsRef<str>], short: &[impl AsRef<str>]) -> bool {
    !short.is_empty()
        && long.windows(short.len()).any(|window| {
            window
                .iter()
                .zip(short)
                .all(|(a, b)| a.as_ref() == b.as_ref())
        })
}

/// Whether one of two normalized strings is part of the other: a substring standing on word
/// boundaries (in Chinese, any substring). Such a pair is a partial match, never a typo.
pub(super) fn one_holds_the_other(a: &str, b: &str) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(at) = long[from..].find(short) {
        let start = from + at;
        if on_word_boundaries(long, &(start..start + short.len())) {
            return true;
        }
        // The next occurrence may overlap this one: go on from its second character.
        from = start + long[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Whether a surface match stands on word boundaries: a match that begins or ends with a
/// letter or digit of an alphabetic script must not continue a longer word ("form" is not in
/// "format"). Han characters need no boundary: Chinese is written without spaces.
pub(super) fn on_word_boundaries(norm: &str, range: &Range<usize>) -> bool {
    let word_char = |c: char| text::is_alphanumeric(c) && !text::is_han(c);
    // The neighbours first: in running text they are mostly spaces, and the match's own
    // ends are then not read.
    let left_ok = || {
        !(norm[..range.start]
            .chars()
            .next_back()
            .is_some_and(word_char)
            && norm[range.clone()].chars().next().is_some_and(word_char))
    };
    let right_ok = || {
        !(norm[range.end..].chars().next().is_some_and(word_char)
            && norm[range.clone()]
                .chars()
                .next_back()
                .is_some_and(word_char))
    };
    left_ok() && right_ok()
}

/// Whether the text between two tokens keeps them in one term: spaces, hyphens and
/// apostrophes do, other punctuation (a comma, a full stop) ends the phrase.
pub(super) fn joins_words(gap: &str) -> bool {
    gap.chars()
        .all(|c| c == ' ' || c == '-' || c == '\'' || c == '"')
}

/// Whether a term is an acronym: so typed, or written in capitals only (an abbreviation in
/// capitals, such as SGR). An abbreviation with lower-case letters is a word that inflects —
/// the Russian clipped compounds Евросоюз and теракт take every case ending — so it is not.
pub(super) fn is_acronym(term: &Term) -> bool {
    let letters = || term.text.chars().filter(|c| c.is_alphabetic());
    term.term_type == TermType::Acronym
        || (letters().count() > 1 && letters().all(|c| c.is_uppercase()))
}

/// Longest Han match, in characters, checked against word segmentation: longer terms do not
/// cross word boundaries by accident, and segmenting only around short ones keeps Recognize
/// fast.
const SEGMENT_CHECK_MAX_CHARS: usize = 2;
/// Characters of context on each side given to the segmenter.
const SEGMENT_CONTEXT_CHARS: usize = 6;

/// Whether a short Han match starts and ends on word boundaries of the surrounding Chinese:
/// 和合 ("harmony") must not fire in 交流和合作 (交流 / 和 / 合作), where it straddles two
/// words. Longer and non-Han matches pass unchecked.
pub(super) fn han_word_aligned(norm: &str, range: &Range<usize>) -> bool {
    let matched = &norm[range.clone()];
    // A word is not read past its first character, nor a long match counted to its end.
    if !matched.starts_with(text::is_han)
        || matched.chars().nth(SEGMENT_CHECK_MAX_CHARS).is_some()
        || !matched.chars().all(text::is_han)
    {
        return true;
    }
    let start = norm[..range.start]
        .char_indices()
        .rev()
        .take(SEGMENT_CONTEXT_CHARS)
        .last()
        .map_or(range.start, |(i, _)| i);
    let end = norm[range.end..]
        .char_indices()
        .take(SEGMENT_CONTEXT_CHARS)
        .last()
        .map_or(range.end, |(i, c)| range.end + i + c.len_utf8());
    let window = &norm[start..end];
    let mut boundaries = vec![0usize];
    let mut at = 0;
    for word in text::segmenter().cut(window, false) {
        at += word.word.len();
        boundaries.push(at);
    }
    boundaries.contains(&(range.start - start)) && boundaries.contains(&(range.end - start))
}

/// A lookup query as the rules read it: normalized, in tokens and characters.
pub(super) struct QueryText {
    /// The query after the text pipeline.
    pub normalized: NormalizedText,
    /// Its tokens: words, and each Han character on its own.
    pub tokens: Vec<Token>,
    /// Its characters.
    pub chars: Vec<char>,
    /// Whether it has Han tokens: a Chinese query, matched by characters, not stems.
    pub han: bool,
}

impl QueryText {
    /// Reads a query as typed.
    pub fn new(query: &str) -> QueryText {
        let normalized = text::normalize(query);
        let tokens = text::tokenize(normalized.as_str());
        let chars = normalized.as_str().chars().collect();
        let han = tokens.iter().any(|t| t.kind == TokenKind::Han);
        QueryText {
            normalized,
            tokens,
            chars,
            han,
        }
    }

    /// The normalized query.
    pub fn norm(&self) -> &str {
        self.normalized.as_str()
    }

    /// The stems of its tokens, in order.
    pub fn stems(&self) -> Vec<&str> {
        self.tokens.iter().map(|t| t.stem.as_str()).collect()
    }

    /// Its length in the units of [`coverage_units`] (see [`query_units`]).
    pub fn units(&self) -> usize {
        query_units(self.han, &self.chars, &self.stems())
    }
}

/// The stems a term is matched by: those of its word tokens, none for a term with Han
/// characters. Acronyms (ИИ, SCO) are not inflected by the stemmer's rules, and their stems
/// collide with short words («ИИ» stems to «и»): surface match only, no stems either.
pub(super) fn term_stems(term: &Term, tokens: &[Token]) -> Box<[Box<str>]> {
    let has_han = tokens.iter().any(|t| t.kind == TokenKind::Han);
    if has_han || is_acronym(term) {
        Box::new([])
    } else {
        tokens.iter().map(|t| Box::from(t.stem.as_str())).collect()
    }
}

/// A term's length in the units a partial match's coverage counts: characters against a
/// Chinese query, words against any other (in "the Shanghai Spirit", the Shanghai Spirit
/// is two words of three, whatever their letters). `key` is the term's normalized key, of
/// `key_chars` characters, and `stems` the number of its [`term_stems`].
pub(super) fn coverage_units(key: &str, key_chars: usize, stems: usize, han: bool) -> usize {
    if han {
        return key_chars;
    }
    match stems {
        // Acronyms keep no stems.
        0 => key
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .count(),
        words => words,
    }
}

/// The score of a partial match between a query and a term, one of which holds the other:
/// how much of the longer one the shorter covers, both measured in [`coverage_units`] (or
/// in words, for word variants).
pub(super) fn fragment_score(query_units: usize, term_units: usize) -> f32 {
    score::partial(query_units.min(term_units), query_units.max(term_units))
}

/// Fewest characters of a query for terms containing it to be partial matches: a Chinese
/// pair is a word, two letters are not.
pub(super) fn min_partial_chars(han: bool) -> usize {
    if han {
        2
    } else {
        3
    }
}

/// Whether two strings can be typos of one another by script: both hold Han characters or
/// neither does. A Chinese character where a word of Latin or Cyrillic letters has a letter
/// is another word, not a slip of the keyboard (nor the other way round), and the index
/// lists Han text under its characters and other text under letter trigrams, which never
/// meet.
pub(super) fn same_script(a: &[char], b: &[char]) -> bool {
    let han = |chars: &[char]| chars.iter().any(|&c| text::is_han(c));
    han(a) == han(b)
}

/// Most typos looked for in a query of `chars` characters: one per four characters, from
/// one to three.
pub(super) fn max_typos(chars: usize) -> usize {
    chars.div_ceil(4).clamp(1, 3)
}

/// Most edits a typo match may make between strings whose longer one has `longest`
/// characters, in a query allowing `max_typos`: the most that keep the similarity at the
/// minimum, as [`typo_similarity`] computes it (two in nine characters, three in ten).
pub(super) fn typo_edits(longest: usize, max_typos: usize) -> usize {
    match SIMILAR_EDITS.get(longest) {
        Some(&edits) => usize::from(edits).min(max_typos),
        None => similar_edits(longest, max_typos),
    }
}

/// [`similar_edits`] of the lengths a fuzzy lookup meets most, worked out once: a lookup asks
/// for thousands of candidates.
const SIMILAR_EDITS: [u8; 64] = {
    let mut table = [0; 64];
    let mut longest = 0;
    while longest < table.len() {
        table[longest] = similar_edits(longest, longest) as u8;
        longest += 1;
    }
    table
};

/// Most edits, up to `at_most`, between strings whose longer one has `longest` characters
/// that keep their similarity at [`score::FUZZY_MIN_SIMILARITY`]: counted down from
/// `at_most`, a step per edit ruled out.
const fn similar_edits(longest: usize, at_most: usize) -> usize {
    let mut edits = if at_most < longest { at_most } else { longest };
    while edits > 0 && similarity_after(edits, longest) < score::FUZZY_MIN_SIMILARITY {
        edits -= 1;
    }
    edits
}

/// The similarity `1 − d / longest` of a typo match `edits` apart (`None`: farther than
/// [`typo_edits`] allows, similarity 0).
pub(super) fn typo_similarity(edits: Option<usize>, longest: usize) -> f32 {
    edits.map_or(0.0, |d| similarity_after(d, longest))
}

/// The similarity `1 − edits / longest` of strings `edits` apart whose longer one has
/// `longest` characters (at least one).
const fn similarity_after(edits: usize, longest: usize) -> f32 {
    let longest = if longest == 0 { 1 } else { longest };
    1.0 - edits as f32 / longest as f32
}

/// Where a window of tokens whose stems are those of the term with normalized key `key` ends as an
/// occurrence of it, or `None` if the text between its tokens breaks it up. Word joiners keep it
/// whole (see [`joins_words`]), and so does the punctuation the term itself has in that place
/// («Азия, Европа и Африка», «Совет глав правительств (премьер-министров) …»). The occurrence also
/// covers closing punctuation the term ends with, where the text has it («… торговли Китая
/// (Синьцзян)»).
pub(super) fn stem_window_end(key: &str, norm: &str, window: &[TokenRef]) -> Option<usize> {
    let mut key_tokens: Option<Vec<TokenRef>> = None;
    for (i, pair) in window.windows(2).enumerate() {
        let gap = &norm[pair[0].range.end..pair[1].range.start];
        if joins_words(gap) {
            continue;
        }
        let key_tokens = key_tokens.get_or_insert_with(|| text::tokenize_borrowed(key));
        let key_gap = key_tokens
            .get(i..i + 2)
            .map(|pair| &key[pair[0].range.end..pair[1].range.start]);
        if key_gap.is_none_or(|key_gap| key_gap.trim() != gap.trim()) {
            return None;
        }
    }
    let end = window.last()?.range.end;
    if !key.ends_with(|c: char| !text::is_alphanumeric(c)) {
        return Some(end);
    }
    let key_tokens = key_tokens.get_or_insert_with(|| text::tokenize_borrowed(key));
    let tail = key_tokens.last().map_or("", |t| &key[t.range.end..]);
    Some(if norm[end..].starts_with(tail) {
        end + tail.len()
    } else {
        end
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typo match keeps 70 % of the longer string: two edits in nine characters leave
    /// 78 %, three 67 %; three in ten leave exactly 70 %.
    #[test]
    fn typo_edits_keep_the_similarity_minimum() {
        let edits: Vec<usize> = (0..=13).map(|longest| typo_edits(longest, 3)).collect();
        assert_eq!(edits, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
        assert_eq!(typo_edits(9, 1), 1);
        // Past the lengths worked out in advance, the same rule.
        assert_eq!(typo_edits(100, 40), 30);
        assert_eq!(typo_edits(100, 3), 3);
        assert_eq!(typo_edits(SIMILAR_EDITS.len(), 99), 19);
    }
}
