//! Shortcuts for the common case at index build: text that is already in normal form, and
//! alphabetic text whose word boundaries are plain spaces. Both answer exactly what the full
//! pipeline answers (property tests below check it against [`text::normalize_key`] and
//! UAX #29 segmentation), or decline and let the caller run the pipeline. Normalization and
//! word segmentation are most of the cost of building the index; typical stored segments
//! (lower-case Russian and English, simplified Chinese) take the shortcut.

use std::borrow::Cow;

use zhconv::{get_builtin_converter, Variant, ZhConverter};

use super::analyze::{self, Mode, Unit};
use crate::text::{self, is_han};

/// Characters every normalization step leaves as they are, alone and next to each other:
/// NFKC-stable starters that no step rewrites (no upper case, no `&`, no quotes or dashes
/// the punctuation step unifies, no `ё`, nothing ignorable). Spaces are handled apart;
/// Chinese characters also need their runs checked against the traditional → simplified
/// tables.
fn inert(c: char) -> bool {
    matches!(c,
        '!'..='%' | '\''..='@' | '['..='~'
            | '\u{0430}'..='\u{044F}' // а–я
            | '\u{3001}' | '\u{3002}' | '\u{300A}' | '\u{300B}' // 、。《》
            | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}')
}

/// Normalizes text for the index, skipping the pipeline when the text is provably in normal
/// form already. Keeps the Chinese converter and its buffers between calls.
pub(super) struct Normalizer {
    converter: &'static ZhConverter,
    run: String,
    converted: String,
}

impl Normalizer {
    pub(super) fn new() -> Normalizer {
        Normalizer {
            converter: get_builtin_converter(Variant::ZhHans),
            run: String::new(),
            converted: String::new(),
        }
    }

    /// Exactly [`text::normalize_key`].
    pub(super) fn key<'a>(&mut self, input: &'a str) -> Cow<'a, str> {
        if self.is_normal(input) {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(text::normalize_key(input))
        }
    }

    /// Whether every step of the pipeline leaves `input` unchanged: only inert characters,
    /// single spaces between them, and runs of Chinese characters that the conversion to
    /// simplified Chinese keeps (it works on whole runs, as phrases can convert where their
    /// characters alone do not: 瞭 stays, 瞭解 becomes 了解).
    fn is_normal(&mut self, input: &str) -> bool {
        if input.starts_with(' ') || input.ends_with(' ') || input.contains("  ") {
            return false;
        }
        if !input.chars().all(|c| c == ' ' || inert(c)) {
            return false;
        }
        let mut rest = input;
        while let Some(start) = rest.find(is_han) {
            let run = &rest[start..];
            let end = run.find(|c: char| !is_han(c)).unwrap_or(run.len());
            self.run.clear();
            self.run.push_str(&run[..end]);
            self.converted.clear();
            self.converter.convert_to(&self.run, &mut self.converted);
            if self.converted != self.run {
                return false;
            }
            rest = &run[end..];
        }
        true
    }
}

/// A letter or digit that forms words with its own kind and with each other under UAX #29
/// (ALetter and Numeric), and that no normalized text has in another case.
fn word_char(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '\u{0430}'..='\u{044F}')
}

/// Punctuation that ends a word before a space or the end of the text without joining
/// anything (UAX #29 only joins `.`, `,`, `;`, `:` when a letter or digit follows).
fn closing(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?')
}

/// Comparison units of normalized text: [`analyze::units`], with a shortcut for alphabetic
/// text made of space-separated words of letters and digits, each maybe followed by one
/// closing punctuation mark.
pub(super) fn units(mode: Mode, normalized: &str) -> Vec<Unit> {
    if mode == Mode::Words {
        if let Some(units) = plain_words(normalized) {
            return units;
        }
    }
    analyze::units(mode, normalized)
}

fn plain_words(text: &str) -> Option<Vec<Unit>> {
    let mut out = Vec::new();
    let mut at = 0;
    for token in text.split(' ') {
        let word = token.strip_suffix(closing).unwrap_or(token);
        if !word.chars().all(word_char) {
            return None;
        }
        if !word.is_empty() {
            out.push(Unit {
                range: at..at + word.len(),
                number: word.bytes().all(|b| b.is_ascii_digit()),
            });
        }
        at += token.len() + 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Inert characters, spaces, and characters that must make the shortcut decline.
    fn near_normal() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "z", "q", "0", "9", "а", "я", "ж", " ", " ", "  ", ".", ",", ";", ":", "!", "?",
            "'", "-", "_", "\"", "A", "Я", "ё", "&", "«", "—", "\t", "\u{301}", "\u{200B}", "中",
            "国", "的", "瞭", "解", "瞭解", "乾", "淨", "丟", "。", "、", "《", "》", "「", "，",
            "１", "ｓ", "\u{F900}", "3.14", "e.g.",
        ]);
        let spoiled = prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat());
        // Mostly inert words, so that the shortcut is taken as often as declined.
        let words = prop::collection::vec(
            prop::sample::select(vec![
                "abc",
                "x9",
                "2024",
                "щит",
                "мир",
                "中国",
                "瞭解",
                "乾淨",
                "的",
                "ok.",
                "да,",
                "。",
                "、",
                "《书》",
                "!",
                "'",
                "(",
                "~",
            ]),
            0..12,
        )
        .prop_map(|w| w.join(" "));
        prop_oneof![spoiled, words]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_key_is_the_pipeline_key(input in near_normal()) {
            let mut normalizer = Normalizer::new();
            prop_assert_eq!(normalizer.key(&input), text::normalize_key(&input));
        }

        #[test]
        fn plain_word_units_are_the_segmented_units(input in near_normal()) {
            let text = text::normalize_key(&input);
            prop_assert_eq!(units(Mode::Words, &text), analyze::units(Mode::Words, &text));
        }
    }

    #[test]
    fn typical_segments_take_the_shortcut() {
        let mut normalizer = Normalizer::new();
        for text in [
            "саммит прошёл в астане",
            "the summit, in 2024.",
            "上海合作组织峰会。",
        ] {
            let normal = text != "саммит прошёл в астане";
            assert_eq!(normalizer.is_normal(text), normal, "{text}");
        }
        assert!(plain_words("the summit, in 2024.").is_some());
        assert!(plain_words("pi is 3.14").is_none());
    }
}
