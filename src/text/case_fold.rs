//! Step 3: case folding, so that `SHANGHAI`, `Shanghai` and `shanghai` share one key, and the
//! stemmers (which expect lower case) get what they expect.

use super::normalizer::{rewrite_chars, MappedChar, Normalizer};

/// Lower-cases every character with `char::to_lowercase`.
///
/// A character whose lower case is several characters (`İ` → `i` + U+0307) gives all of them
/// the origin of the one it replaces. Lower-casing is per character, without context, so that
/// it stays a pure per-character map: Greek final sigma is not special-cased.
pub(crate) struct CaseFold;

/// A shortcut for the bulk of Russian and Chinese text, which `to_lowercase` would leave as is:
/// basic lower-case Cyrillic, and the CJK blocks, where no character has case.
fn has_no_upper_case(c: char) -> bool {
    matches!(c, '\u{0430}'..='\u{045F}' | '\u{2E80}'..='\u{9FFF}')
}

impl Normalizer for CaseFold {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        rewrite_chars(input, out, |c| {
            if c.is_ascii() {
                return c.is_ascii_uppercase().then(|| c.to_lowercase());
            }
            if has_no_upper_case(c) {
                return None;
            }
            let lower = c.to_lowercase();
            let unchanged = lower.len() == 1 && lower.clone().next() == Some(c);
            (!unchanged).then_some(lower)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CaseFold;

    test_normalizer!(CaseFold,
        latin_upper_case_is_lowered: "SHANGHAI SPIRIT" => "shanghai spirit", "shanghai spirit";
        cyrillic_upper_case_is_lowered: "ШОС" => "шос", "шос";
        capital_yo_lowers_to_yo: "Ёлка" => "ёлка", "елка";
        han_has_no_case: "上海" => "上海", "上海";
        dotted_capital_i_expands: "İ" => "i\u{307}", "i\u{307}";
    );

    #[test]
    fn shortcut_agrees_with_to_lowercase() {
        let shortcut = ('\u{0430}'..='\u{045F}').chain('\u{2E80}'..='\u{9FFF}');
        for c in shortcut {
            assert!(super::has_no_upper_case(c));
            assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
        }
    }

    #[test]
    fn expansion_keeps_the_origin_of_the_replaced_char() {
        let out = crate::text::normalizer::testing::apply(&CaseFold, "aİb");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(
            ranges,
            [('a', 0..1), ('i', 1..3), ('\u{307}', 1..3), ('b', 3..4)]
        );
    }
}
