//! Shortcuts for the common case at index build: text that is already in normal form or only
//! needs its capitals lowered, and alphabetic text whose word boundaries are plain spaces.
//! Both answer exactly what the full pipeline answers (property tests below check it against
//! [`text::normalize_key`] and UAX #29 segmentation), or decline and let the caller run the
//! pipeline. Normalization and word segmentation are most of the cost of building the index;
//! typical stored segments (Russian and English sentences without quotes or dashes,
//! simplified Chinese) take the shortcut.

use std::borrow::Cow;

use super::analyze::{self, Mode, Unit};
use crate::text::{self, is_han, RunConverter};

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

/// Whether `input` has what the pipeline's matching steps change among characters the
/// shortcut accepts: a word with both Latin and Cyrillic letters (lookalikes get folded) or a
/// space between two Chinese characters (dropped).
fn mixes_scripts_or_spaces_han(input: &str) -> bool {
    let (mut latin, mut cyrillic) = (false, false);
    let mut previous = ' ';
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphabetic() {
            latin = true;
        } else if matches!(c, '\u{0400}'..='\u{04FF}') {
            cyrillic = true;
        } else {
            (latin, cyrillic) = (false, false);
        }
        if latin && cyrillic {
            return true;
        }
        if c == ' ' && is_han(previous) && chars.peek().is_some_and(|&next| is_han(next)) {
            return true;
        }
        previous = c;
    }
    false
}

/// Normalizes text for the index, skipping the pipeline when the text provably needs none of
/// it beyond lowering capitals and converting Chinese to simplified. Keeps the Chinese
/// converter and its buffers between calls.
pub(super) struct Normalizer {
    runs: RunConverter<'static>,
    converted: String,
}

impl Normalizer {
    pub(super) fn new() -> Normalizer {
        Normalizer {
            runs: RunConverter::new(),
            converted: String::new(),
        }
    }

    /// Exactly [`text::normalize_key`].
    pub(super) fn key<'a>(&mut self, input: &'a str) -> Cow<'a, str> {
        match self.simple_key(input) {
            Some(key) => key,
            None => Cow::Owned(text::normalize_key(input)),
        }
    }

    /// The key of text made only of inert characters, single spaces between them, and the
    /// capitals and `ё` that the pipeline only lowers (and spells `е`), so that sentences,
    /// which start with a capital, take the shortcut too; `None` for any other text.
    fn simple_key<'a>(&mut self, input: &'a str) -> Option<Cow<'a, str>> {
        if input.starts_with(' ') || input.ends_with(' ') || input.contains("  ") {
            return None;
        }
        if mixes_scripts_or_spaces_han(input) {
            return None;
        }
        // Copied from the first character that changes on.
        let mut changed: Option<String> = None;
        for (at, c) in input.char_indices() {
            let mapped = match c {
                ' ' => c,
                c if inert(c) => c,
                'A'..='Z' => c.to_ascii_lowercase(),
                'Ё' | 'ё' => 'е',
                // А–Я: their lower case is 32 code points on.
                '\u{0410}'..='\u{042F}' => char::from_u32(c as u32 + 32)?,
                _ => return None,
            };
            match &mut changed {
                Some(key) => key.push(mapped),
                None if mapped != c => {
                    let mut key = String::with_capacity(input.len());
                    key.push_str(&input[..at]);
                    key.push(mapped);
                    changed = Some(key);
                }
                None => {}
            }
        }
        self.simplify_chinese_runs(changed.map_or(Cow::Borrowed(input), Cow::Owned))
    }

    /// `key` with every run of Chinese characters converted to simplified Chinese as the
    /// pipeline converts it (on whole runs, as phrases can convert where their characters
    /// alone do not: 瞭 stays, 瞭解 becomes 了解); `None` when a run converts to a character
    /// the shortcut cannot vouch for.
    fn simplify_chinese_runs<'a>(&mut self, key: Cow<'a, str>) -> Option<Cow<'a, str>> {
        let mut simplified: Option<String> = None;
        // Where the text not yet copied into `simplified` starts.
        let mut copied = 0;
        let mut at = 0;
        while let Some(start) = key[at..].find(is_han).map(|s| at + s) {
            let end = key[start..]
                .find(|c: char| !is_han(c))
                .map_or(key.len(), |e| start + e);
            at = end;
            let (converted, mut vouched) = (&mut self.converted, true);
            converted.clear();
            let changed = self.runs.convert(key[start..end].chars(), |_, c| {
                vouched &= inert(c);
                converted.push(c);
            });
            if !changed {
                continue;
            }
            if !vouched {
                return None;
            }
            let out = simplified.get_or_insert_with(|| String::with_capacity(key.len()));
            out.push_str(&key[copied..start]);
            out.push_str(converted);
            copied = end;
        }
        match simplified {
            None => Some(key),
            Some(mut out) => {
                out.push_str(&key[copied..]);
                Some(Cow::Owned(out))
            }
        }
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
            "a",
            "z",
            "q",
            "0",
            "9",
            "а",
            "я",
            "ж",
            " ",
            " ",
            "  ",
            ".",
            ",",
            ";",
            ":",
            "!",
            "?",
            "'",
            "-",
            "_",
            "\"",
            "A",
            "Я",
            "ё",
            "&",
            "«",
            "—",
            "\t",
            "\u{301}",
            "\u{200B}",
            "中",
            "国",
            "的",
            "瞭",
            "解",
            "瞭解",
            "乾",
            "淨",
            "丟",
            "。",
            "、",
            "《",
            "》",
            "「",
            "，",
            "１",
            "ｓ",
            "\u{F900}",
            "3.14",
            "e.g.",
            "The",
            "Z",
            "Москва",
            "Ё",
            "ШОС",
            "\u{308}",
            "İ",
            "Σ",
            "ß",
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
                "Ёлка",
                "SCO",
                "Шанхайский",
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
            "Саммит ШОС прошёл в Астане.",
            "The summit, in 2024.",
            "上海合作组织峰会。",
            "上海合作組織峰會。",
            "瞭解",
        ] {
            let key = normalizer.simple_key(text);
            assert_eq!(
                key.as_deref(),
                Some(text::normalize_key(text).as_str()),
                "{text}"
            );
        }
        // Text the shortcut cannot vouch for goes through the pipeline.
        for text in [
            "«Пояс и путь»",
            "R&D",
            "ａｂｃ",
            "е\u{308}",
            "ШOC",
            "上海 合作",
        ] {
            assert!(normalizer.simple_key(text).is_none(), "{text}");
        }
        assert!(plain_words("the summit, in 2024.").is_some());
        assert!(plain_words("pi is 3.14").is_none());
    }
}
