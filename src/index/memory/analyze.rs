//! Turns normalized segment text into the unit sequence the memory compares: one unit per
//! non-space character for Chinese, one per word token for Russian and English, and one
//! placeholder unit per number in both.
//!
//! Works on text already passed through [`crate::text::normalize`]; knows nothing of the index.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::model::Lang;
use crate::text::is_han;

/// How a language's text is cut into comparison units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Chinese: every non-space character is a unit.
    Chars,
    /// Alphabetic languages: every word token is a unit.
    Words,
}

impl Mode {
    /// The mode of a language: characters for Chinese (both written standards), words for
    /// every other language.
    pub(super) fn of(lang: &Lang) -> Mode {
        if lang.primary() == "zh" {
            Mode::Chars
        } else {
            Mode::Words
        }
    }

    /// The q-gram length the index uses for this mode; see the module docs of `memory`.
    pub(super) fn q(self) -> usize {
        match self {
            Mode::Chars => 2,
            Mode::Words => 1,
        }
    }
}

/// One comparison unit: a byte range of the normalized text, and whether it is a number
/// (a placeholder equal to every other number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Unit {
    /// Bytes in the normalized text.
    pub range: Range<usize>,
    /// Whether the unit is a number placeholder.
    pub number: bool,
}

/// Chinese numerals that form dates and quantities (二〇二四年, 十二月).
pub(super) fn is_numeral(c: char) -> bool {
    matches!(
        c,
        '〇' | '零'
            | '一'
            | '二'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
            | '千'
            | '万'
    )
}

/// A digit outside the Han blocks (after NFKC, full-width digits are ASCII digits).
fn is_digit(c: char) -> bool {
    c.is_numeric() && !is_han(c)
}

/// Separators kept inside a number between two digits (`3.14`, `1,000`).
fn is_number_separator(c: char) -> bool {
    matches!(c, '.' | ',' | '\'')
}

/// Splits normalized text into comparison units.
pub(super) fn units(mode: Mode, normalized: &str) -> Vec<Unit> {
    match mode {
        Mode::Chars => char_units(normalized),
        Mode::Words => word_units(normalized),
    }
}

/// Chinese: one unit per non-space character, except that a run of digits (with inner
/// separators) is one number, and so is a run of Chinese numerals followed by 年, 月, 日 or 号
/// or standing alone between non-Han characters.
fn char_units(text: &str) -> Vec<Unit> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |j: usize| chars.get(j).map_or(text.len(), |&(at, _)| at);
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if is_digit(c) {
            let mut j = i + 1;
            loop {
                if j < chars.len() && is_digit(chars[j].1) {
                    j += 1;
                } else if j + 1 < chars.len()
                    && is_number_separator(chars[j].1)
                    && is_digit(chars[j + 1].1)
                {
                    j += 2;
                } else {
                    break;
                }
            }
            out.push(Unit {
                range: at..end_of(j),
                number: true,
            });
            i = j;
            continue;
        }
        if is_numeral(c) {
            let mut j = i;
            while j < chars.len() && is_numeral(chars[j].1) {
                j += 1;
            }
            let next = chars.get(j).map(|&(_, c)| c);
            let previous = i.checked_sub(1).map(|k| chars[k].1);
            let dated = matches!(next, Some('年' | '月' | '日' | '号'));
            let alone = !previous.is_some_and(is_han) && !next.is_some_and(is_han);
            if dated || alone {
                out.push(Unit {
                    range: at..end_of(j),
                    number: true,
                });
                i = j;
                continue;
            }
        }
        out.push(Unit {
            range: at..at + c.len_utf8(),
            number: false,
        });
        i += 1;
    }
    out
}

/// Russian, English and other alphabetic text: the tokens of [`crate::text::tokenize`]
/// (same boundaries and kinds), without computing stems, which comparison does not use.
fn word_units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    for (offset, segment) in text.split_word_bound_indices() {
        if segment.chars().any(is_han) {
            for (at, c) in segment.char_indices().filter(|&(_, c)| is_han(c)) {
                let start = offset + at;
                out.push(Unit {
                    range: start..start + c.len_utf8(),
                    number: false,
                });
            }
            continue;
        }
        let mut alphanumeric = segment.chars().filter(|c| c.is_alphanumeric()).peekable();
        if alphanumeric.peek().is_none() {
            continue;
        }
        let number = alphanumeric.all(char::is_numeric);
        out.push(Unit {
            range: offset..offset + segment.len(),
            number,
        });
    }
    out
}

/// The value a number stands for, so that `２０２４`, `2024` and `二〇二四` compare equal:
/// Chinese numerals become Arabic digits, other numbers stay as written (normalized).
pub(super) fn number_value(raw: &str) -> String {
    if !raw.chars().any(is_numeral) {
        return raw.to_owned();
    }
    let positional = raw.chars().any(|c| matches!(c, '十' | '百' | '千' | '万'));
    if !positional {
        return raw.chars().filter_map(numeral_digit).collect();
    }
    let (mut total, mut section, mut digit) = (0u64, 0u64, 0u64);
    for c in raw.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => {
                total = total.saturating_add(section.saturating_add(digit).saturating_mul(10_000));
                section = 0;
                digit = 0;
                continue;
            }
            _ => {
                digit = numeral_digit(c).map_or(0, |d| u64::from(d as u8 - b'0'));
                continue;
            }
        };
        section = section.saturating_add(digit.max(1).saturating_mul(unit));
        digit = 0;
    }
    total
        .saturating_add(section)
        .saturating_add(digit)
        .to_string()
}

fn numeral_digit(c: char) -> Option<char> {
    let digit = match c {
        '〇' | '零' => '0',
        '一' => '1',
        '二' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        _ => return None,
    };
    Some(digit)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::text::{normalize_key, tokenize, TokenKind};

    fn shown(text: &str, mode: Mode) -> Vec<String> {
        units(mode, text)
            .into_iter()
            .map(|u| {
                if u.number {
                    format!("#{}", &text[u.range])
                } else {
                    text[u.range].to_owned()
                }
            })
            .collect()
    }

    #[test]
    fn chinese_units_are_characters_with_numbers_as_placeholders() {
        for (text, want) in [
            ("2024年7月", vec!["#2024", "年", "#7", "月"]),
            ("二〇二四年十二月", vec!["#二〇二四", "年", "#十二", "月"]),
            ("一带一路", vec!["一", "带", "一", "路"]),
            ("共 3.14 米。", vec!["共", "#3.14", "米", "。"]),
            ("第 十二 条", vec!["第", "#十二", "条"]),
        ] {
            assert_eq!(shown(text, Mode::Chars), want, "{text}");
        }
    }

    #[test]
    fn chinese_numerals_have_arabic_values() {
        for (raw, want) in [
            ("二〇二四", "2024"),
            ("十二", "12"),
            ("二十", "20"),
            ("十", "10"),
            ("一百二十三", "123"),
            ("三万五千", "35000"),
            ("2024", "2024"),
        ] {
            assert_eq!(number_value(raw), want, "{raw}");
        }
    }

    proptest! {
        #[test]
        fn word_units_are_the_tokenizer_tokens(input in any::<String>()) {
            let text = normalize_key(&input);
            let ours: Vec<_> = units(Mode::Words, &text)
                .into_iter()
                .map(|u| (u.range, u.number))
                .collect();
            let theirs: Vec<_> = tokenize(&text)
                .into_iter()
                .map(|t| (t.range, t.kind == TokenKind::Number))
                .collect();
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn char_units_slice_the_text_in_order(input in any::<String>()) {
            let text = normalize_key(&input);
            let mut previous = 0;
            for unit in units(Mode::Chars, &text) {
                prop_assert!(unit.range.start >= previous && unit.range.end > unit.range.start);
                prop_assert!(text.get(unit.range.clone()).is_some());
                previous = unit.range.end;
            }
        }
    }
}
