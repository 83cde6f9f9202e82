//! What a term match in running text must also satisfy to be reported by Recognize, beyond
//! meeting a stored term after normalization: names keep their capitals, a lone common word is
//! not a term, and a span never takes one quotation mark without its partner. Lookup applies
//! none of this: a translator types lower case and single words on purpose.
//!
//! # Capitals
//!
//! A stored term with capitals is a name or an acronym (Türkiye, China, UN, AI, Belt and Road):
//! its capitals say so, and the text must keep them. Each capital of a stored word must be a
//! capital in the text; the text may add capitals (`SCO` in a headline written `SHANGHAI
//! COOPERATION ORGANISATION`, a sentence starting with a term stored in lower case), never drop
//! them. So `turkey`, `china`, French `un` and `the ai` are ordinary words, and `Ai` (a
//! surname) is not `AI`. A name of several words is still the name with one of its words in
//! lower case (an editor's `Belt and Road initiative`, `president Xi Jinping`), but not with
//! all of them (`people's daily lives`, `global times`), and the capital a sentence gives its
//! first word does not count (`People's daily lives are hard`). Terms stored without capitals
//! match in any case.
//!
//! # Lone common words
//!
//! A term that is a single common word (stored in lower case, letters only, in an alphabetic
//! script: `equality`, `harmony`, `editor`, `равенство`) names a concept only where the text
//! is talking about it, which in news copy means inside an enumeration with other terms: the
//! values of the Shanghai Spirit, the three evil forces. Such a word is reported when a chain
//! of terms separated only by commas, dashes, colons, quotes and the conjunctions and/or
//! (и/или/а также) links it to a term that is not such a word; standing alone in prose
//! ("gender equality", "the editor said") it is not reported. Chinese terms are words of their
//! own and always reported.
//!
//! A terminologist who wants a single common word reported wherever it stands gives the term
//! a note line reading `recognize: alone` (a TBX `<note>` in the term section, the `note`
//! column of a CSV file), the way TBX-Basic files mark a forbidden term with a note.
//!
//! # Quotation marks
//!
//! An inflected match may take a quotation mark between its words («инициативы «Пояс и
//! путь»»); its span then also takes the partner of that mark when it stands right next to the
//! span, so that a span holds both marks of a quote or neither (unless the text itself leaves
//! the quote unclosed).

use std::ops::Range;

use crate::model::{Term, TermType};
use crate::text::{self, NormalizedText};

/// The note line that lets a single common word be reported wherever it stands.
pub const STANDALONE_NOTE: &str = "recognize: alone";

/// Whether the text at `range` (normalized bytes) keeps the capitals of `stored`, the term it
/// matched; see the module documentation.
pub(super) fn keeps_capitals(text: &NormalizedText, range: &Range<usize>, stored: &str) -> bool {
    if !stored.chars().any(text::is_uppercase) {
        return true;
    }
    let Some(matched) = text.as_str().get(range.clone()) else {
        return true;
    };
    // Most names are written as stored or in capitals: those keep every capital, and need
    // no word-by-word comparison.
    let written = text
        .original()
        .get(text.original_range(range.clone()))
        .unwrap_or_default();
    if written == stored || !written.chars().any(char::is_lowercase) {
        return true;
    }
    let stored_text = text::normalize(stored);
    let stored_words: Vec<&str> = text::tokenize(stored_text.as_str())
        .iter()
        .map(|t| &stored[stored_text.original_range(t.range.clone())])
        .collect();
    // The match's own words, whatever word the text around it continues (`un` in `d'un`).
    let written_words: Vec<&str> = text::tokenize(matched)
        .iter()
        .map(|t| {
            let at = range.start + t.range.start..range.start + t.range.end;
            &text.original()[text.original_range(at)]
        })
        .collect();
    if stored_words.len() != written_words.len() {
        // Not a word-for-word match (never expected): nothing to compare capitals by.
        return true;
    }
    let named = || {
        stored_words
            .iter()
            .zip(&written_words)
            .enumerate()
            .filter(|(_, (stored, _))| stored.chars().any(char::is_uppercase))
    };
    if stored_words.len() == 1 {
        return named().all(|(_, (stored, written))| capitals_kept(stored, written));
    }
    let kept: Vec<usize> = named()
        .filter(|(_, (stored, written))| capitals_kept(stored, written))
        .map(|(i, _)| i)
        .collect();
    // A sentence's first capital is the sentence's, not the name's: "People's daily lives are
    // hard" does not name the newspaper, whose other capitals are gone. (A name whose only
    // capital is on its first word, `Шанхайский дух`, cannot tell there and is taken.)
    let only_the_sentence_capital = kept == [0]
        && named().count() > 1
        && is_capitalized(written_words[0])
        && starts_sentence(&text.as_str()[..range.start]);
    !kept.is_empty() && !only_the_sentence_capital
}

/// Whether text ending with `before` starts a sentence: nothing but opening quotes and
/// brackets since the start of the text or the last full stop, question or exclamation mark.
fn starts_sentence(before: &str) -> bool {
    let trimmed = before.trim_end_matches(|c: char| c.is_whitespace() || "\"'([".contains(c));
    trimmed.is_empty() || trimmed.ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

/// Whether a word as written has a capital first letter and no other capital.
fn is_capitalized(word: &str) -> bool {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    letters.next().is_some_and(char::is_uppercase) && !letters.any(char::is_uppercase)
}

/// Whether every capital letter of `stored` is a capital at the same place among the letters
/// of `written` (marks such as a stress accent are not letters and do not shift places).
fn capitals_kept(stored: &str, written: &str) -> bool {
    let letters = |word: &str| {
        word.chars()
            .filter(|c| c.is_alphabetic())
            .collect::<Vec<_>>()
    };
    let written = letters(written);
    letters(stored)
        .iter()
        .zip(written.iter())
        .all(|(s, w)| !s.is_uppercase() || w.is_uppercase())
}

/// Whether `term` is a single common word, reported only inside an enumeration of terms unless
/// its note opts it in; see the module documentation.
pub(super) fn is_common_word(term: &Term) -> bool {
    let word = term.text.trim();
    let opted_in = term
        .note
        .lines()
        .any(|line| line.trim().eq_ignore_ascii_case(STANDALONE_NOTE));
    !opted_in
        && !matches!(term.term_type, TermType::Acronym | TermType::Abbreviation)
        && !word.is_empty()
        && word
            .chars()
            .all(|c| text::is_alphabetic(c) && !text::is_uppercase(c) && !text::is_han(c))
}

/// For matches in text order (normalized byte ranges of `norm`, each with whether it is a
/// common word), whether each is reported: every match that is not a common word, and every
/// common word linked to one by a chain of matches separated only by list punctuation and
/// conjunctions.
pub(super) fn reported_in_lists(norm: &str, matches: &[(Range<usize>, bool)]) -> Vec<bool> {
    let mut reported = vec![true; matches.len()];
    let mut start = 0;
    while start < matches.len() {
        // One chain: matches whose gaps are all list separators.
        let mut end = start + 1;
        while end < matches.len() {
            let gap = norm.get(matches[end - 1].0.end..matches[end].0.start);
            if !gap.is_some_and(is_list_separator) {
                break;
            }
            end += 1;
        }
        let anchored = matches[start..end].iter().any(|(_, common)| !common);
        for (keep, (_, common)) in reported[start..end].iter_mut().zip(&matches[start..end]) {
            *keep = anchored || !common;
        }
        start = end;
    }
    reported
}

/// Words that join the items of an enumeration.
const CONJUNCTIONS: &[&str] = &["and", "or", "и", "или", "а", "также", "либо"];

/// Whether the normalized text between two matches only separates items of one enumeration.
fn is_list_separator(gap: &str) -> bool {
    let punctuation_only = gap
        .chars()
        .all(|c| text::is_alphanumeric(c) || c.is_whitespace() || ",:;-\"'()".contains(c));
    punctuation_only
        && gap
            .split(|c: char| !text::is_alphanumeric(c))
            .filter(|word| !word.is_empty())
            .all(|word| CONJUNCTIONS.contains(&word))
}

/// `range` of `norm`, widened by one double quotation mark when it holds an unpaired one whose
/// partner stands right after (or, failing that, right before) it. Normalization has made every
/// double quotation mark `"`; single ones are left alone, since `'` is also the apostrophe of
/// `countries' leaders`.
pub(super) fn with_paired_quotes(norm: &str, range: Range<usize>) -> Range<usize> {
    let unpaired = norm
        .get(range.clone())
        .is_some_and(|inside| inside.matches('"').count() % 2 == 1);
    if !unpaired {
        range
    } else if norm[range.end..].starts_with('"') {
        range.start..range.end + 1
    } else if norm[..range.start].ends_with('"') {
        range.start - 1..range.end
    } else {
        range
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn kept(written: &str, stored: &str) -> bool {
        let text = normalize(written);
        keeps_capitals(&text, &(0..text.as_str().len()), stored)
    }

    #[test]
    fn names_keep_their_capitals_and_may_gain_more() {
        let cases = [
            ("China", "China", true),
            ("CHINA", "China", true),
            ("china", "China", false),
            ("turkey", "Turkey", false),
            ("UN", "UN", true),
            ("Un", "UN", false),
            ("un", "UN", false),
            ("ai", "AI", false),
            ("Ai", "AI", false),
            ("ＡＩ", "AI", true),
            ("ШOC", "ШОС", true),
            ("шос", "ШОС", false),
            ("Ша\u{301}нхайский дух", "Шанхайский дух", true),
            // Terms stored in lower case match however they are written.
            ("Equality", "equality", true),
            ("Сообщество единой судьбы", "сообщество единой судьбы", true),
            // A name of several words keeps the capitals of at least one of them.
            ("Belt and Road initiative", "Belt and Road Initiative", true),
            ("president Xi Jinping", "President Xi Jinping", true),
            (
                "belt and road initiative",
                "Belt and Road Initiative",
                false,
            ),
            ("people's daily", "People's Daily", false),
            ("SCO plus", "SCO Plus", true),
            // A sentence's capital is not the name's.
            ("People's daily", "People's Daily", false),
            ("People's Daily", "People's Daily", true),
            ("President Xi Jinping", "President Xi Jinping", true),
        ];
        for (written, stored, expected) in cases {
            assert_eq!(kept(written, stored), expected, "{written} / {stored}");
        }
    }

    #[test]
    fn inflected_names_compare_capitals_word_by_word() {
        // A stem match: the words differ in their endings, not in their capitals.
        let text = normalize("в рамках Шанхайской организации");
        let start = text.as_str().find("шанх").unwrap_or_default();
        let range = start..text.as_str().len();
        assert!(keeps_capitals(&text, &range, "Шанхайская организация"));
        let text = normalize("шанхайской организации");
        let range = 0..text.as_str().len();
        assert!(!keeps_capitals(&text, &range, "Шанхайская организация"));
        // Inside a sentence a capitalized first word is the name's.
        let text = normalize("Read the People's daily edition. People's daily lives.");
        let first = text.as_str().find("people's daily").unwrap_or_default();
        let second = text.as_str().rfind("people's daily").unwrap_or_default();
        let len = "people's daily".len();
        assert!(keeps_capitals(
            &text,
            &(first..first + len),
            "People's Daily"
        ));
        assert!(!keeps_capitals(
            &text,
            &(second..second + len),
            "People's Daily"
        ));
        // `un` inside the French word `d'un` is its own match, in lower case.
        let text = normalize("d'un sommet");
        assert!(!keeps_capitals(&text, &(2..4), "UN"));
    }

    #[test]
    fn common_words_are_single_lower_case_words_not_opted_in() {
        let term = |text: &str, note: &str| Term {
            note: note.to_owned(),
            ..Term::preferred(text)
        };
        assert!(is_common_word(&term("equality", "")));
        assert!(is_common_word(&term("равенство", "Working rendering.")));
        assert!(!is_common_word(&term("equality", "Recognize: alone")));
        assert!(!is_common_word(&term(
            "harmony",
            "See also 和合.\nrecognize: alone"
        )));
        for specific in [
            "mutual trust",
            "editor-in-chief",
            "China",
            "ИИ",
            "和合",
            "5G",
        ] {
            assert!(!is_common_word(&term(specific, "")), "{specific}");
        }
    }

    #[test]
    fn common_words_are_reported_only_in_chains_anchored_by_another_term() {
        let text = "mutual trust, equality, consultation and respect. equality alone, \
                    editor and journalist";
        let find = |word: &str, nth: usize| {
            let start = text.match_indices(word).nth(nth).map_or(0, |(i, _)| i);
            start..start + word.len()
        };
        let matches = [
            (find("mutual trust", 0), false),
            (find("equality", 0), true),
            (find("consultation", 0), true),
            (find("respect", 0), false),
            (find("equality", 1), true),
            (find("editor", 0), true),
            (find("journalist", 0), true),
        ];
        let reported = reported_in_lists(text, &matches);
        assert_eq!(reported, [true, true, true, true, false, false, false]);
    }

    #[test]
    fn list_separators_are_punctuation_and_conjunctions() {
        for gap in [
            ", ",
            " and ",
            ", and ",
            " - ",
            ": ",
            "\" \"",
            " и ",
            ", а также ",
            "",
        ] {
            assert!(is_list_separator(gap), "{gap:?}");
        }
        for gap in [" of ", ". ", " with the ", ", while "] {
            assert!(!is_list_separator(gap), "{gap:?}");
        }
    }

    #[test]
    fn spans_take_both_quotation_marks_or_neither() {
        let norm = "\"инициативы \"пояс и путь\"\"";
        let start = "\"".len();
        let end = norm.find("путь").unwrap_or_default() + "путь".len();
        let widened = with_paired_quotes(norm, start..end);
        assert_eq!(&norm[widened], "инициативы \"пояс и путь\"");
        // Closing mark inside, opening one before.
        let norm = "the \"belt and road\" initiative";
        let start = norm.find("belt").unwrap_or_default();
        let widened = with_paired_quotes(norm, start..norm.len());
        assert_eq!(&norm[widened], "\"belt and road\" initiative");
        // Balanced, without marks or with a single quote: unchanged.
        for (norm, span) in [
            ("\"a \"b\" c\"", "a \"b\" c"),
            ("x people's daily y", "people's daily"),
            ("the countries' leaders' meeting", "countries' leaders"),
            ("\"unclosed x", "unclosed x"),
        ] {
            let start = norm.find(span).unwrap_or_default();
            let range = start..start + span.len();
            assert_eq!(with_paired_quotes(norm, range.clone()), range, "{norm}");
        }
    }
}
