//! Numbers in running text, read as values so that two texts in different languages can be
//! compared: digit groups (1,000 = 1 000 = 1000), decimal commas and points (1,5 = 1.5) and
//! the scale words newsrooms write after a number (3.5亿 = 350 млн = 350 million).
//!
//! Numbers written with digits are read, and month names as the number of their month, so
//! that a date written 2024年7月 meets July 2024 and июля 2024 года. Number words (eight,
//! восемь, 八) and Roman numerals are not read; digits inside a recognized term are left to
//! the terminology check (the 21 of 21世纪海上丝绸之路, whose Russian term writes XXI).

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::text::is_han;

/// A number found in a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// Byte range in the text, the scale word included.
    pub bytes: Range<usize>,
    /// Its value, the scale applied.
    pub value: f64,
}

/// Separators that may group thousands: space, no-break space, narrow no-break space, thin
/// space and the apostrophe of Swiss usage.
const GROUP_SPACES: [char; 5] = [' ', '\u{a0}', '\u{202f}', '\u{2009}', '\''];

/// Scale words: the word, its factor, and whether a letter may follow it (an inflected
/// Russian or a plural English word) or it must end there (an abbreviation).
const SCALES: &[(&str, f64, bool)] = &[
    ("万亿", 1e12, true),
    ("亿", 1e8, true),
    ("万", 1e4, true),
    ("千", 1e3, true),
    ("трлн", 1e12, false),
    ("триллион", 1e12, true),
    ("млрд", 1e9, false),
    ("миллиард", 1e9, true),
    ("млн", 1e6, false),
    ("миллион", 1e6, true),
    ("тыс", 1e3, true),
    ("trillion", 1e12, true),
    ("billion", 1e9, true),
    ("bn", 1e9, false),
    ("million", 1e6, true),
    ("mln", 1e6, false),
    ("thousand", 1e3, true),
];

/// Every number of `text` written with digits that does not start inside one of `skip`
/// (sorted byte ranges of recognized terms), in text order.
pub fn numbers(text: &str, skip: &[Range<usize>]) -> Vec<Number> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() || glued_to_word(text, at) {
            at += 1;
            continue;
        }
        let (end, value) = read_number(text, at);
        let (end, value) = match scale(text, end) {
            Some((scale_end, factor)) => (scale_end, value * factor),
            None => (end, value),
        };
        if !skip.iter().any(|r| r.contains(&at)) {
            found.push(Number {
                bytes: at..end,
                value,
            });
        }
        at = end.max(at + 1);
    }
    found.extend(months(text).filter(|n| !skip.iter().any(|r| r.contains(&n.bytes.start))));
    found.sort_by_key(|n| n.bytes.start);
    found
}

/// English month names, capitalized as English writes them (so "may" and "march" stay
/// words).
const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Russian month stems and the endings of their case forms: март and август end hard, май
/// on й, the others soft (январь, января, январе, январём).
const RUSSIAN_MONTHS: [(&str, &[&str]); 12] = [
    ("январ", SOFT),
    ("феврал", SOFT),
    ("март", HARD),
    ("апрел", SOFT),
    ("ма", &["й", "я", "е", "ю", "ем"]),
    ("июн", SOFT),
    ("июл", SOFT),
    ("август", HARD),
    ("сентябр", SOFT),
    ("октябр", SOFT),
    ("ноябр", SOFT),
    ("декабр", SOFT),
];
const SOFT: &[&str] = &["ь", "я", "е", "ю", "ем", "ём"];
const HARD: &[&str] = &["", "а", "е", "у", "ом"];

/// The month names of `text`, each as the number of its month.
fn months(text: &str) -> impl Iterator<Item = Number> + '_ {
    text.split_word_bound_indices().filter_map(|(at, word)| {
        let month = month(word)?;
        Some(Number {
            bytes: at..at + word.len(),
            value: f64::from(month),
        })
    })
}

fn month(word: &str) -> Option<u8> {
    let english = ENGLISH_MONTHS.iter().position(|m| *m == word);
    let russian = || {
        let lower = word.to_lowercase();
        RUSSIAN_MONTHS.iter().position(|(stem, endings)| {
            lower
                .strip_prefix(stem)
                .is_some_and(|ending| endings.contains(&ending))
        })
    };
    english.or_else(russian).map(|i| i as u8 + 1)
}

/// Whether the digit at `at` continues a word or another number (G20, B2B, the 5 of 1.5
/// already read): such digits are part of a name, not a quantity.
fn glued_to_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() && !is_han(c))
}

/// Reads the number starting at `start` (an ASCII digit): its end and value.
fn read_number(text: &str, start: usize) -> (usize, f64) {
    let bytes = text.as_bytes();
    let digits_from = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let first = digits_from(start);
    // Groups after separators: (separator, digits start, digits length).
    let mut groups: Vec<(char, usize, usize)> = Vec::new();
    let mut end = start + first;
    while let Some(sep) = text[end..].chars().next() {
        let after = end + sep.len_utf8();
        let len = if after < bytes.len() {
            digits_from(after)
        } else {
            0
        };
        let accepted = len > 0
            && if GROUP_SPACES.contains(&sep) {
                // A space groups only thousands after a leading group of one to three digits.
                len == 3 && first <= 3 && groups.iter().all(|g| GROUP_SPACES.contains(&g.0))
            } else {
                (sep == ',' || sep == '.') && !groups.iter().any(|g| g.0 == sep && g.2 != 3)
            };
        if !accepted {
            break;
        }
        groups.push((sep, after, len));
        end = after + len;
    }
    let decimal = decimal_separator(first, &groups);
    let mut number = String::with_capacity(end - start);
    number.push_str(&text[start..start + first]);
    for (i, &(_, from, len)) in groups.iter().enumerate() {
        // Thousands separators are dropped; the decimal one becomes a point and ends the
        // number (what follows its digits is not this number's).
        if decimal == Some(i) {
            number.push('.');
            number.push_str(&text[from..from + len]);
            return (from + len, number.parse().unwrap_or(0.0));
        }
        number.push_str(&text[from..from + len]);
    }
    (end, number.parse().unwrap_or(0.0))
}

/// Which group follows the decimal separator, if one does: the last comma or point, unless it
/// is followed by exactly three digits and reads as thousands (1,000; 1.000.000). A single
/// point is decimal whatever follows (3.500 = 3.5, as English writes it); so is a comma or
/// point after groups of the other kind (1,234.5; 1 234,5).
fn decimal_separator(first: usize, groups: &[(char, usize, usize)]) -> Option<usize> {
    let last = groups.iter().rposition(|g| g.0 == ',' || g.0 == '.')?;
    let (sep, _, len) = groups[last];
    let same_before = groups[..last].iter().any(|g| g.0 == sep);
    let other_before = groups[..last].iter().any(|g| g.0 != sep);
    let thousands = len == 3 && first <= 3 && !other_before && (sep == ',' || same_before);
    (!thousands).then_some(last)
}

/// The scale word right after a number ending at `end` (after at most one space): where it
/// ends and its factor.
fn scale(text: &str, end: usize) -> Option<(usize, f64)> {
    let rest = &text[end..];
    let trimmed = rest
        .strip_prefix(|c: char| c == ' ' || c == '\u{a0}' || c == '\u{202f}')
        .unwrap_or(rest);
    let skipped = rest.len() - trimmed.len();
    let lower = trimmed
        .chars()
        .take(12)
        .flat_map(char::to_lowercase)
        .collect::<String>();
    SCALES.iter().find_map(|&(word, factor, inflected)| {
        let tail = lower.strip_prefix(word)?;
        let next = tail.chars().next();
        if !inflected && next.is_some_and(char::is_alphabetic) {
            return None;
        }
        // The word as written, with its inflection and an abbreviation's point.
        let mut len: usize = trimmed
            .char_indices()
            .take(word.chars().count())
            .map(|(_, c)| c.len_utf8())
            .sum();
        if inflected && !is_han(word.chars().next().unwrap_or(' ')) {
            len += trimmed[len..]
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum::<usize>();
        }
        if trimmed[len..].starts_with('.') && word.chars().all(|c| !is_han(c)) {
            len += 1;
        }
        Some((end + skipped + len, factor))
    })
}

/// Whether two values are the same number (allowing for the rounding of 1.2 × 10⁹).
pub fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<f64> {
        numbers(text, &[]).into_iter().map(|n| n.value).collect()
    }

    #[test]
    fn digit_groups_and_decimals_read_as_values() {
        let cases: &[(&str, &[f64])] = &[
            ("1,000 people", &[1000.0]),
            ("1 000 человек", &[1000.0]),
            ("1\u{a0}500 человек", &[1500.0]),
            ("1000 people", &[1000.0]),
            ("вырос на 1,5%", &[1.5]),
            ("grew by 1.5%", &[1.5]),
            ("1,234.5 tons", &[1234.5]),
            ("1 234,5 тонны", &[1234.5]),
            ("1.000.000 de", &[1_000_000.0]),
            ("в 2024 году 245 компаний", &[2024.0, 245.0]),
            ("2024—2029", &[2024.0, 2029.0]),
            ("the G20 and 5 others", &[5.0]),
        ];
        for (text, expected) in cases {
            assert_eq!(values(text), *expected, "{text}");
        }
    }

    #[test]
    fn scale_words_multiply_in_every_language() {
        let cases: &[(&str, f64)] = &[
            ("3.5亿美元", 3.5e8),
            ("350 млн долларов", 3.5e8),
            ("350 million dollars", 3.5e8),
            ("10万列", 1e5),
            ("100 тыс. рейсов", 1e5),
            ("1,2 млрд юаней", 1.2e9),
            ("12亿元", 1.2e9),
            ("3 миллиона", 3e6),
            ("2 bn", 2e9),
        ];
        for (text, expected) in cases {
            let found = values(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert!(same_value(found[0], *expected), "{text}: {found:?}");
        }
    }

    #[test]
    fn month_names_read_as_their_number() {
        assert_eq!(values("2024年7月1日"), [2024.0, 7.0, 1.0]);
        assert_eq!(values("1 июля 2024 года"), [1.0, 7.0, 2024.0]);
        assert_eq!(values("on July 1, 2024"), [7.0, 1.0, 2024.0]);
        assert_eq!(values("в мае и марте"), [5.0, 3.0]);
        assert!(values("we may march in the marketplace").is_empty());
        assert!(values("мартовский маяк").is_empty());
    }

    #[test]
    fn a_scale_abbreviation_needs_its_word_to_end() {
        assert_eq!(values("5 bnx"), [5.0]);
        let found = numbers("100 тыс. рейсов", &[]);
        assert_eq!(&"100 тыс. рейсов"[found[0].bytes.clone()], "100 тыс.");
    }

    #[test]
    fn numbers_inside_skipped_ranges_are_left_out() {
        let text = "21世纪海上丝绸之路 and 3 ports";
        let term = 0.."21世纪海上丝绸之路".len();
        assert_eq!(
            numbers(text, &[term])
                .into_iter()
                .map(|n| n.value)
                .collect::<Vec<_>>(),
            [3.0]
        );
    }
}
