//! Step 2: removal of invisible characters and Russian stress marks. Pasted text carries zero-width
//! spaces and soft hyphens inside words, and dictionaries mark stress («Шанха́йский»); both change
//! a key without changing what a reader sees.

use super::normalizer::{rewrite_chars, MappedChar, Normalizer};

/// Drops zero-width characters, the soft hyphen and combining acute and grave accents.
///
/// The accents are removed only where NFKC left them as separate marks: a Latin `é` is one
/// precomposed character by now and stays, while Cyrillic vowels have no precomposed accented
/// forms, so `а́` is still `а` + U+0301. The exceptions are `ѐ` and `ѝ`, the only precomposed
/// Cyrillic letters with a grave; they lose it too. The breve of `й` is U+0306, untouched.
pub(crate) struct Ignorable;

/// What this step removes.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' // zero width space
            | '\u{200C}' // zero width non-joiner
            | '\u{200D}' // zero width joiner
            | '\u{2060}' // word joiner
            | '\u{FEFF}' // zero width no-break space, byte order mark
            | '\u{AD}' // soft hyphen
            | '\u{301}' // combining acute accent: stress mark
            | '\u{300}' // combining grave accent: stress mark
    )
}

impl Normalizer for Ignorable {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        rewrite_chars(input, out, |c| match c {
            c if is_ignorable(c) => Some(None),
            'ѐ' => Some(Some('е')),
            'Ѐ' => Some(Some('Е')),
            'ѝ' => Some(Some('и')),
            'Ѝ' => Some(Some('И')),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Ignorable;

    test_normalizer!(Ignorable,
        stress_mark_is_removed: "Шанха\u{301}йский" => "Шанхайский", "шанхайский";
        grave_stress_mark_is_removed: "до\u{300}ма" => "дома", "дома";
        precomposed_grave_cyrillic_loses_accent: "Ѐ ѝ" => "Е и", "е и";
        short_i_keeps_its_breve: "Мой" => "Мой", "мой";
        decomposed_short_i_is_not_a_stress_mark: "и\u{306}" => "и\u{306}", "й";
        zero_width_space_inside_word_is_removed: "Шан\u{200B}хай" => "Шанхай", "шанхай";
        soft_hyphen_inside_word_is_removed: "ини\u{AD}циатива" => "инициатива", "инициатива";
        joiners_and_bom_are_removed: "\u{FEFF}a\u{200C}b\u{200D}c\u{2060}d" => "abcd", "abcd";
        latin_precomposed_accent_stays: "café" => "café", "café";
    );

    #[test]
    fn text_after_a_removed_char_keeps_its_own_origin() {
        let out = crate::text::normalizer::testing::apply(&Ignorable, "a\u{200B}b");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('a', 0..1), ('b', 4..5)]);
    }
}
