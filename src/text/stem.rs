//! Word stems for matching inflected forms: «Шанхайского духа» meets «Шанхайский дух», and
//! `Silk Roads` meets `silk road`, while words of another meaning keep stems of their own.
//!
//! Russian uses the Snowball stemmer, with one guard: Snowball also strips the derivational
//! suffix `-ость`, which makes the noun «многосторонность» (multilateralism) and the adjective
//! «многосторонний» (multilateral) one stem; the guard keeps `ост` on the stems of such nouns.
//!
//! English uses inflection only: the possessive and the plural. Snowball's English rules strip
//! derivational suffixes too, and in a political glossary those carry the meaning: "developed
//! countries" and "developing countries" (发达国家 / 发展中国家) would be one stem sequence, as
//! would "multilateral" and "multilateralism", "equality" and "equally", "consultation" and
//! "consultant". English terms inflect only for number and possession, so that is all the
//! stem removes.

use std::borrow::Cow;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::script::{is_cyrillic, is_latin};

static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));

/// The stem of one already-normalized (lower-case) word, chosen by its script: Russian for a
/// word with more Cyrillic than Latin letters, English for one with any Latin letters
/// otherwise, and the word itself for anything else.
///
/// The choice is per word so that mixed text (`саммит ШОС in Astana`) stems each word right;
/// the majority rule keeps a Russian word with one look-alike Latin letter typed by mistake
/// under the Russian stemmer.
///
/// ```
/// use tolmach::text::stem;
///
/// assert_eq!(stem("миру"), stem("мир"));
/// assert_ne!(stem("мировой"), stem("мир"));
/// assert_ne!(stem("многосторонних"), stem("многосторонность"));
/// assert_eq!(stem("roads"), "road");
/// assert_ne!(stem("developed"), stem("developing"));
/// assert_eq!(stem("一"), "一");
/// ```
pub fn stem(word: &str) -> Cow<'_, str> {
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for c in word.chars() {
        if is_cyrillic(c) {
            cyrillic += 1;
        } else if is_latin(c) {
            latin += 1;
        }
    }
    if cyrillic > latin {
        russian(word)
    } else if latin > 0 {
        english(word)
    } else {
        Cow::Borrowed(word)
    }
}

/// Snowball's Russian stem, with `ост` kept where Snowball took the noun suffix `-ость` off
/// (it removes only suffixes, so its stem is a prefix of the word).
fn russian(word: &str) -> Cow<'_, str> {
    let stem = RUSSIAN.stem(word);
    let removed = word.strip_prefix(&*stem).unwrap_or_default();
    if removed.contains("ост") {
        Cow::Owned(format!("{stem}ост"))
    } else {
        stem
    }
}

/// Words that end in `s` without being plurals, or whose singular would be another word.
const NOT_PLURAL: &[&str] = &[
    "always",
    "atlas",
    "bias",
    "canvas",
    "chaos",
    "headquarters",
    "means",
    "news",
    "perhaps",
    "series",
    "species",
    "thus",
    "whereas",
];

/// The singular of an English word without its possessive: `initiative's` → `initiative`,
/// `countries` → `country`, `approaches` → `approach`.
fn english(word: &str) -> Cow<'_, str> {
    let word = word
        .strip_suffix("'s")
        .or_else(|| word.strip_suffix('\''))
        .unwrap_or(word);
    if word.chars().count() <= 3 || NOT_PLURAL.contains(&word) {
        return Cow::Borrowed(word);
    }
    if let Some(base) = word.strip_suffix("ies") {
        if base.chars().count() >= 3 && !base.ends_with(['a', 'e']) {
            return Cow::Owned(format!("{base}y"));
        }
    }
    for sibilant in ["sses", "shes", "ches", "xes", "zzes"] {
        if word.ends_with(sibilant) {
            return Cow::Borrowed(&word[..word.len() - 2]);
        }
    }
    match word.strip_suffix('s') {
        Some(base) if !base.ends_with(['s', 'u', 'i']) => Cow::Borrowed(base),
        _ => Cow::Borrowed(word),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::stem;

    /// Pairs of words that must share a stem: inflections of one word.
    const SAME: &[(&str, &str)] = &[
        ("шанхайского", "шанхайский"),
        ("духу", "дух"),
        ("миру", "мир"),
        ("шелкового", "шелковый"),
        ("многосторонности", "многосторонность"),
        ("безопасности", "безопасность"),
        ("безопасностью", "безопасность"),
        ("многосторонних", "многосторонний"),
        ("организации", "организация"),
        ("roads", "road"),
        ("initiative's", "initiative"),
        ("initiatives", "initiative"),
        ("countries", "country"),
        ("approaches", "approach"),
        ("taxes", "tax"),
        ("states'", "state"),
        ("corridors", "corridor"),
    ];

    /// Pairs of words of different meaning that must not share a stem.
    const DIFFERENT: &[(&str, &str)] = &[
        ("мировой", "мир"),
        ("многосторонних", "многосторонность"),
        ("безопасный", "безопасность"),
        ("открытого", "открытость"),
        ("developed", "developing"),
        ("multilateral", "multilateralism"),
        ("equally", "equality"),
        ("consultation", "consultant"),
        ("news", "new"),
        ("format", "form"),
    ];

    #[test]
    fn inflections_share_a_stem() {
        for (a, b) in SAME {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
    }

    #[test]
    fn words_of_another_meaning_keep_their_own_stem() {
        for (a, b) in DIFFERENT {
            assert_ne!(stem(a), stem(b), "{a} / {b}");
        }
    }

    #[test]
    fn words_that_only_look_plural_are_left_alone() {
        for word in ["crisis", "consensus", "class", "its", "series", "news"] {
            assert_eq!(stem(word), word);
        }
    }

    proptest! {
        #[test]
        fn stemming_never_panics_nor_lengthens_a_word(word in any::<String>()) {
            prop_assert!(stem(&word).len() <= word.len());
        }
    }
}
