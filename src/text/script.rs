//! Which writing system a character or a text is in: Han, Cyrillic or Latin, the three scripts
//! whose matching quality Tolmach promises. Used to pick a stemmer per word, to split Chinese
//! into characters, and to guess a query's language when the client gave none.

/// Whether `c` is a Han character (CJK ideograph, radical or Han-script mark such as 々 or 〇).
///
/// Chinese is written without spaces, so Han characters are tokens and n-gram units on their
/// own; this is the test that finds them. Ranges are whole Unicode blocks, so characters
/// assigned to them after this was written count too.
pub fn is_han(c: char) -> bool {
    // Most text checked is below the CJK blocks: answer it with one comparison.
    c >= '\u{2E80}'
        && matches!(
            c,
            '\u{2E80}'..='\u{2FDF}'     // CJK radicals supplement, Kangxi radicals
                | '\u{3005}'            // 々 iteration mark
                | '\u{3007}'            // 〇 ideographic zero
                | '\u{3021}'..='\u{3029}' // Hangzhou numerals
                | '\u{3038}'..='\u{303B}'
                | '\u{3400}'..='\u{4DBF}' // extension A
                | '\u{4E00}'..='\u{9FFF}' // unified ideographs
                | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
                | '\u{20000}'..='\u{2FA1F}' // extensions B to F, compatibility supplement
                | '\u{30000}'..='\u{323AF}' // extensions G and H
        )
}

/// Whether `c` is a Cyrillic letter or mark.
pub(crate) fn is_cyrillic(c: char) -> bool {
    matches!(
        c,
        '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}'
    )
}

/// Whether `c` is a Latin letter, including full-width ones.
pub(crate) fn is_latin(c: char) -> bool {
    // The ranges first: the alphabetic property is a table search for every character
    // beyond ASCII, and the normalizer and the stemmer ask this of every Cyrillic letter.
    c.is_ascii_alphabetic()
        || (matches!(
            c,
            '\u{00C0}'..='\u{024F}'
                | '\u{1E00}'..='\u{1EFF}'
                | '\u{2C60}'..='\u{2C7F}'
                | '\u{A720}'..='\u{A7FF}'
                | '\u{AB30}'..='\u{AB6F}'
                | '\u{FB00}'..='\u{FB06}'
                | '\u{FF21}'..='\u{FF3A}'
                | '\u{FF41}'..='\u{FF5A}'
        ) && c.is_alphabetic())
}

/// Script-based language guess for a query with no language: `"zh"` for Han, `"ru"` for
/// Cyrillic, `"en"` for Latin, whichever has the most letters; `None` when the text has no
/// letter in any of the three.
///
/// Letters are counted one per character, so a Chinese query that quotes a Latin acronym
/// longer than itself reads as English. On a tie the less common script in mixed text wins
/// (Han, then Cyrillic, then Latin): Latin acronyms are sprinkled through Chinese and Russian
/// text far more often than the other way round.
///
/// ```
/// use tolmach::text::detect_lang;
///
/// assert_eq!(detect_lang("上海合作组织"), Some("zh"));
/// assert_eq!(detect_lang("саммит ШОС"), Some("ru"));
/// assert_eq!(detect_lang("ШОС summit"), Some("en"));
/// assert_eq!(detect_lang("SCO 峰会"), Some("en"));
/// assert_eq!(detect_lang("2024 — 1:0"), None);
/// ```
pub fn detect_lang(text: &str) -> Option<&'static str> {
    let (mut han, mut cyrillic, mut latin) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_han(c) {
            han += 1;
        } else if is_cyrillic(c) {
            cyrillic += usize::from(c.is_alphabetic());
        } else if is_latin(c) {
            latin += 1;
        }
    }
    let best = han.max(cyrillic).max(latin);
    if best == 0 {
        None
    } else if han == best {
        Some("zh")
    } else if cyrillic == best {
        Some("ru")
    } else {
        Some("en")
    }
}

#[cfg(test)]
mod tests {
    use super::{detect_lang, is_cyrillic, is_han, is_latin};

    #[test]
    fn han_includes_ideographs_marks_and_extensions() {
        for c in ['一', '龥', '々', '〇', '㐀', '𠀀', '⼀', '丽'] {
            assert!(is_han(c), "{c}");
        }
        for c in ['a', 'я', 'あ', 'ア', '한', '。', '，', '1'] {
            assert!(!is_han(c), "{c}");
        }
    }

    #[test]
    fn scripts_of_letters() {
        assert!(is_cyrillic('ё') && is_cyrillic('Ѐ') && !is_cyrillic('e'));
        assert!(
            is_latin('é') && is_latin('Ｓ') && is_latin('ﬁ') && !is_latin('×') && !is_latin('я')
        );
    }

    #[test]
    fn detect_lang_by_majority_script() {
        let cases = [
            ("", None),
            ("   ", None),
            ("12 345", None),
            ("«» — …", None),
            ("Ελλάδα", None),
            ("一帶一路", Some("zh")),
            ("Шанхайский дух", Some("ru")),
            ("Belt and Road", Some("en")),
            ("ＳＣＯ", Some("en")),
            ("ШОС и SCO", Some("ru")),
            ("ШОС SCO", Some("ru")), // a tie
            ("上海 ab", Some("zh")),
            ("上 abc", Some("en")),
        ];
        for (text, expected) in cases {
            assert_eq!(detect_lang(text), expected, "{text:?}");
        }
    }
}
