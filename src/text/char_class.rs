//! The standard library's letter classes (`char::is_alphabetic`, `is_alphanumeric`,
//! `is_uppercase`), answered without its Unicode tables for the characters running text is
//! nearly all made of: ASCII, the Russian alphabet, the common CJK ideographs and the
//! punctuation of typeset and Chinese text. Outside
//! ASCII the standard functions search a table for every character, which cost Recognize more
//! than its automaton scan on Russian text; these give the same answers, and are what the
//! text pipeline and the checks of each match call.

use super::fast_path::is_plain_ideograph;

/// `c.is_alphabetic()`.
pub fn is_alphabetic(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        is_russian_letter(c) || is_plain_ideograph(c) || (!is_punctuation(c) && c.is_alphabetic())
    }
}

/// `c.is_alphanumeric()`.
pub fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_russian_letter(c) || is_plain_ideograph(c) || (!is_punctuation(c) && c.is_alphanumeric())
    }
}

/// `c.is_uppercase()`.
pub fn is_uppercase(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_uppercase()
    } else if is_russian_letter(c) {
        matches!(c, 'А'..='Я' | 'Ё')
    } else {
        !is_plain_ideograph(c) && !is_punctuation(c) && c.is_uppercase()
    }
}

/// Spaces and punctuation of typeset and Chinese text (guillemets, the General Punctuation
/// block, the CJK full stop, comma and brackets, full-width punctuation): no letter or digit
/// among them.
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '«' | '»'
            | '\u{2000}'..='\u{206F}'
            | '\u{3000}'..='\u{3004}'
            | '\u{3008}'..='\u{3020}'
            | '\u{FF01}'..='\u{FF0F}'
            | '\u{FF1A}'..='\u{FF20}'
    )
}

/// A letter of the Russian alphabet, in either case.
pub(super) fn is_russian_letter(c: char) -> bool {
    matches!(c, 'А'..='я' | 'ё' | 'Ё')
}

#[cfg(test)]
mod tests {
    use super::{is_alphabetic, is_alphanumeric, is_uppercase};

    #[test]
    fn every_character_answers_as_the_standard_library() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{c:?}");
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
            assert_eq!(is_uppercase(c), c.is_uppercase(), "{c:?}");
        }
    }
}
