//! Word stems for matching inflected forms: «Шанхайского духа» meets «Шанхайский дух»,
//! «саммита ШОС» meets «саммит ШОС», and `Silk Roads` meets `silk road`, while words of
//! another meaning keep stems of their own.
//!
//! Both stemmers remove inflection only, never a suffix that makes another word: Russian
//! case and number endings ([`russian`]), English plural and possessive, with British
//! spellings folded into American ones ([`english`]). Derived words keep their own stems:
//! «многосторонность» (multilateralism) is not «многосторонний» (multilateral), "developed"
//! is not "developing".
//!
//! Every word is stemmed on its own, in index keys and in text alike, so a stem costs no
//! allocation unless it differs from a slice of the word.

mod english;
mod russian;

use std::borrow::Cow;

use super::script::{is_cyrillic, is_latin};

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
/// assert_eq!(stem("саммита"), stem("саммит"));
/// assert_ne!(stem("мировой"), stem("мир"));
/// assert_ne!(stem("многосторонних"), stem("многосторонность"));
/// assert_eq!(stem("roads"), "road");
/// assert_eq!(stem("civilisations"), stem("civilization"));
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
        russian::stem(word)
    } else if latin > 0 {
        english::stem(word)
    } else {
        Cow::Borrowed(word)
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
        ("саммита", "саммит"),
        ("саммиту", "саммит"),
        ("медиасаммитов", "медиасаммит"),
        ("астане", "астана"),
        ("азербайджане", "азербайджан"),
        ("тяньцзине", "тяньцзинь"),
        ("развития", "развитие"),
        ("развитий", "развитие"),
        ("развитием", "развитие"),
        ("отношениях", "отношение"),
        ("стратегией", "стратегия"),
        ("сценария", "сценарий"),
        ("наличия", "наличие"),
        ("внешних", "внешний"),
        ("ведущие", "ведущий"),
        ("развивающихся", "развивающиеся"),
        ("времени", "время"),
        ("временами", "время"),
        ("пути", "путь"),
        ("путем", "путь"),
        ("путей", "путь"),
        ("семей", "семья"),
        ("трех", "три"),
        ("тремя", "три"),
        ("двумя", "два"),
        ("четырьмя", "четыре"),
        ("пяти", "пять"),
        ("пятью", "пять"),
        ("восьми", "восемь"),
        ("обоих", "оба"),
        ("третьего", "третий"),
        ("порядка", "порядок"),
        ("миропорядком", "миропорядок"),
        ("уровня", "уровень"),
        ("египта", "египет"),
        ("борца", "борец"),
        ("китайцы", "китаец"),
        ("выставок", "выставка"),
        ("цепочек", "цепочка"),
        ("режима", "режим"),
        ("музея", "музей"),
        ("героем", "герой"),
        ("дней", "день"),
        ("юга", "юг"),
        ("зла", "зло"),
        ("китая", "китай"),
        ("китаю", "китай"),
        ("шанхая", "шанхай"),
        ("корее", "корея"),
        ("корею", "корея"),
        ("идее", "идея"),
        ("систему", "система"),
        ("систем", "система"),
        ("проблему", "проблема"),
        ("энергий", "энергия"),
        ("стратегий", "стратегия"),
        ("основ", "основа"),
        ("пятерок", "пятерка"),
        ("исполкому", "исполком"),
        ("многостороннее", "многосторонний"),
        ("внешнему", "внешний"),
        ("островом", "остров"),
        ("полуострова", "полуостров"),
        ("перевозок", "перевозка"),
        ("поездок", "поездка"),
        ("выработок", "выработка"),
        ("идей", "идея"),
        ("roads", "road"),
        ("initiative's", "initiative"),
        ("initiatives", "initiative"),
        ("countries", "country"),
        ("approaches", "approach"),
        ("taxes", "tax"),
        ("states'", "state"),
        ("corridors", "corridor"),
        ("civilisations", "civilization"),
        ("organisation's", "organization"),
        ("organised", "organized"),
        ("globalising", "globalizing"),
        ("analyse", "analyze"),
        ("paralysed", "paralyzed"),
        ("neighbours", "neighbor"),
        ("favourable", "favorable"),
        ("labour", "labor"),
        ("centres", "center"),
        ("kilometres", "kilometer"),
        ("defence", "defense"),
        ("programmes", "program"),
        ("travelled", "traveled"),
        ("cancelling", "canceling"),
        ("catalogues", "catalog"),
        ("dialogue", "dialog"),
        ("fulfil", "fulfill"),
        ("enrolment", "enrollment"),
        ("grey", "gray"),
        ("judgement", "judgment"),
    ];

    /// Pairs of words of different meaning that must not share a stem.
    const DIFFERENT: &[(&str, &str)] = &[
        ("мировой", "мир"),
        ("мирового", "миров"),
        ("развитие", "развитые"),
        ("развития", "развитый"),
        ("открытие", "открытый"),
        ("многосторонность", "многосторонние"),
        ("безопасность", "безопасных"),
        ("стратегия", "стратег"),
        ("глобальный", "глобализация"),
        ("народный", "народ"),
        ("экономика", "экономический"),
        ("учения", "ученые"),
        ("сотрудничество", "сотрудник"),
        ("политика", "политический"),
        ("китай", "китайский"),
        ("россия", "российский"),
        ("многосторонних", "многосторонность"),
        ("безопасный", "безопасность"),
        ("открытого", "открытость"),
        ("developed", "developing"),
        ("multilateral", "multilateralism"),
        ("equally", "equality"),
        ("consultation", "consultant"),
        ("news", "new"),
        ("format", "form"),
        ("organization", "organizer"),
        ("four", "for"),
        ("hour", "hor"),
        ("advise", "advice"),
        ("exercise", "exercize"),
        ("promise", "promize"),
        ("rise", "rize"),
        ("installed", "instaled"),
        ("controlled", "controled"),
        ("improvisation", "improvization"),
    ];

    #[test]
    fn inflections_share_a_stem() {
        for (a, b) in SAME {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
            for word in [a, b] {
                assert!(stem(word).len() <= word.len(), "{word} grew");
            }
        }
    }

    #[test]
    fn words_of_another_meaning_keep_their_own_stem() {
        for (a, b) in DIFFERENT {
            assert_ne!(stem(a), stem(b), "{a} / {b}");
        }
    }

    #[test]
    fn words_that_only_look_plural_or_british_are_left_alone() {
        for word in [
            "crisis",
            "consensus",
            "class",
            "its",
            "series",
            "news",
            "four",
            "our",
            "hour",
            "your",
            "tour",
            "contour",
            "promise",
            "exercise",
            "rise",
            "noise",
            "advise",
            "controlled",
            "improvisation",
            "tortoise",
            "programmed",
        ] {
            assert_eq!(stem(word), word);
        }
    }

    /// Stems that are slices of the word cost no allocation.
    #[test]
    fn unchanged_and_shortened_words_are_borrowed() {
        for word in [
            "саммит",
            "саммита",
            "развитие",
            "безопасность",
            "road",
            "roads",
            "center",
        ] {
            assert!(
                matches!(stem(word), std::borrow::Cow::Borrowed(_)),
                "{word}"
            );
        }
    }

    proptest! {
        #[test]
        fn stemming_never_panics_nor_lengthens_a_word(word in any::<String>()) {
            prop_assert!(stem(&word).len() <= word.len());
        }
    }
}
