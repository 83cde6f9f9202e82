//! The Russian stem: the word without its inflection, and nothing more.
//!
//! Snowball's Russian stemmer also strips verb and derivational suffixes, so the forms of one
//! noun can get different stems (`саммит` → `самм` as if `-ит` were a verb ending, but
//! `саммита` → `саммит`; `Астана` → `аста`, `Астане` → `астан`), while words of different
//! meaning share one (`развитие` / `развитые`). This stemmer removes only the endings of
//! nouns, adjectives, participles and numerals, keeping every suffix that carries meaning:
//!
//! - the longest case ending is removed, leaving a stem of at least two letters;
//! - the endings of soft adjectives (`-его`, `-ему`, `-ее`, `-ие`, `-ий`) are read as such
//!   only after the letters soft adjectives end in (`внешнего`, `ведущие`, `шанхайский`);
//!   elsewhere they close a noun, which keeps its vowel: `развитие` → `развити`, as in
//!   `развития`, and so apart from the adjective `развитые` → `развит`; `системы`, `систему`
//!   → `систем`; `Корея`, `Корее` → `коре`;
//! - a soft sign closing the stem goes (`путь`, `пути`, `путём` → `пут`; `семья`, `семей`),
//!   which also keeps `-ость` nouns apart from the adjectives they come from
//!   (`безопасность` → `безопасност`, `безопасный` → `безопасн`);
//! - reflexive participles lose `-ся` with their ending (`развивающиеся` → `развивающ`);
//! - closed tables: the numerals whose stem changes (`три`, `трёх`, `тремя`), the nouns in
//!   `-мя` (`время`, `времени`), the common nouns with a fleeting vowel (`порядок`, `порядка`;
//!   `-ец` / `-ца` is a rule with exceptions), and common nouns whose stem the ending rules
//!   would cut short (`режим` is not `реж` + `-им`, `Китая` not `кит` + `-ая`).
//!
//! Words that do not decline keep what their letters give, the same in every occurrence.

use std::borrow::Cow;

/// Shortest stem an ending may leave.
const MIN_STEM: usize = 2;

/// Case endings of nouns, adjectives, participles and pronominal numerals, longest first
/// within each length.
const ENDINGS_3: &[&str] = &["ого", "его", "ому", "ему", "ыми", "ими", "ами", "ями"];
const ENDINGS_2: &[&str] = &[
    "ом", "ем", "ой", "ей", "ою", "ам", "ям", "ах", "ях", "ов", "ев", "ый", "ий", "ая", "яя", "ое",
    "ее", "ые", "ие", "ым", "им", "ую", "юю", "ых", "их",
];
const ENDINGS_1: &[char] = &['а', 'я', 'о', 'е', 'й', 'ы', 'и', 'у', 'ю'];

/// Endings a reflexive participle carries before `-ся` / `-сь`.
const ADJECTIVAL: &[&str] = &[
    "ого", "его", "ому", "ему", "ыми", "ими", "ой", "ей", "ый", "ий", "ая", "яя", "ое", "ее", "ые",
    "ие", "ым", "им", "ом", "ем", "ую", "юю", "ых", "их",
];

/// The Russian stem of a lower-case word (see the module documentation).
pub(super) fn stem(word: &str) -> Cow<'_, str> {
    if let Some(stem) = closed_table(word) {
        return Cow::Borrowed(stem);
    }
    if let Some(stem) = fleeting_vowel(word) {
        return Cow::Owned(stem);
    }
    if let Some(base) = word.strip_suffix("ся").or_else(|| word.strip_suffix("сь")) {
        if ADJECTIVAL.iter().any(|e| base.ends_with(e)) {
            if let Some(stem) = strip_ending(base, true) {
                return Cow::Borrowed(without_soft_sign(stem));
            }
        }
    }
    let stem = strip_ending(word, false).unwrap_or(word);
    Cow::Borrowed(without_soft_sign(stem))
}

/// The word without its longest case ending, or `None` if no ending leaves a long enough
/// stem. `adjective` takes the endings of soft adjectives whatever comes before them.
fn strip_ending(word: &str, adjective: bool) -> Option<&str> {
    let long_enough = |stem: &str| stem.chars().count() >= MIN_STEM;
    let fits = |stem: &str, ending: &str| {
        long_enough(stem)
            && (adjective || !SOFT_ADJECTIVAL.contains(&ending) || soft_adjective(stem, ending))
    };
    for ending in ENDINGS_3 {
        if let Some(stem) = word.strip_suffix(ending).filter(|s| fits(s, ending)) {
            return Some(protected(word, stem));
        }
    }
    for ending in ENDINGS_2 {
        if let Some(stem) = word.strip_suffix(ending).filter(|s| long_enough(s)) {
            if fits(stem, ending) {
                return Some(protected(word, stem));
            }
            // A noun in -ие, -ий, -ея: the vowel belongs to the stem, as in its other forms
            // (развити-е, развити-я; коре-е, коре-я).
            return Some(&word[..word.len() - ending.len() + 'и'.len_utf8()]);
        }
    }
    word.strip_suffix(ENDINGS_1)
        .filter(|stem| long_enough(stem))
        .map(|stem| protected(word, stem))
}

/// Endings only soft and spelling-rule adjectives have (`внешн-его`, `ведущ-ие`,
/// `многосторонн-ее`), whose letters also close the forms of nouns (`систем-у`, `развити-е`,
/// `коре-е`, `сценари-й`). Both forms of each pair have two-byte letters, so a noun keeps
/// the ending's first letter.
const SOFT_ADJECTIVAL: &[&str] = &["его", "ему", "ее", "ие", "ий"];

/// Whether a soft-adjective ending after `stem` belongs to an adjective: after a velar or a
/// hushing consonant, and after `н` following a consonant, where soft and spelling-rule
/// adjectives end and the nouns in `-ие`, `-ия`, `-ея` do not, save the nouns in `-ичие` and
/// `-ужие` (`наличие`, `оружие`) and the genitive plural of the nouns in `-гия`
/// (`стратегий`, `технологий`).
fn soft_adjective(stem: &str, ending: &str) -> bool {
    let mut letters = stem.chars().rev();
    let last = letters.next();
    let before = letters.next();
    match last {
        Some('к' | 'х' | 'ш' | 'щ') => true,
        Some('г') => ending != "ий",
        Some('ж') => before != Some('у'),
        Some('ч') => before != Some('и'),
        Some('н') => before.is_some_and(|c| !is_vowel(c)),
        _ => false,
    }
}

/// Stems that an ending rule would cut short: nouns whose nominative or genitive plural ends
/// in letters that look like a case ending (`режим`, not `реж` + `-им`; `систем`, not
/// `сист` + `-ем`; `музей`, not `муз` + `-ей`). Keyed by the stem the rules leave, with the
/// whole stem, used when the word begins with it.
fn protected<'w>(word: &'w str, stem: &'w str) -> &'w str {
    let whole: &[&str] = match stem {
        "реж" => &["режим"],
        "исполк" => &["исполком"],
        "партк" => &["партком"],
        "профк" => &["профком"],
        "обк" => &["обком"],
        "горк" => &["горком"],
        "райк" => &["райком"],
        "нарк" => &["нарком"],
        "совнарк" => &["совнарком"],
        "ат" => &["атом"],
        "альб" => &["альбом"],
        "дипл" => &["диплом"],
        "синдр" => &["синдром"],
        "аэродр" => &["аэродром"],
        "космодр" => &["космодром"],
        "агрон" => &["агроном"],
        "экон" => &["эконом"],
        "объ" => &["объем"],
        "при" => &["прием"],
        "подъ" => &["подъем"],
        "вьетн" => &["вьетнам"],
        "исл" => &["ислам"],
        "хр" => &["храм"],
        "бальз" => &["бальзам"],
        "амстерд" => &["амстердам"],
        "мон" => &["монах"],
        "стр" => &["страх", "стро"],
        "разм" => &["размах"],
        "кр" => &["крах", "крым", "кра"],
        "алл" => &["аллах"],
        "рост" => &["ростов"],
        "пск" => &["псков"],
        "сарат" => &["саратов"],
        "тамб" => &["тамбов"],
        "льв" => &["львов"],
        "кишин" => &["кишинев"],
        "ки" => &["киев"],
        "ст" => &["стих"],
        "осн" => &["основ"],
        "сл" => &["слов", "сло"],
        "остр" => &["остров"],
        "покр" => &["покров"],
        "ул" => &["улов"],
        "сист" => &["систем"],
        "экосист" => &["экосистем"],
        "пробл" => &["проблем"],
        "сх" => &["схем"],
        "теор" => &["теорем"],
        "муз" => &["музе"],
        "хокк" => &["хокке"],
        "юбил" => &["юбиле"],
        "лиц" => &["лице"],
        "гер" => &["геро"],
        "конв" => &["конво"],
        "пок" => &["поко"],
        "приб" => &["прибо"],
        "разб" => &["разбо"],
        "заст" => &["засто"],
        "настр" => &["настро"],
        "переб" => &["перебо"],
        "кит" => &["кита"],
        "шанх" => &["шанха"],
        "случ" => &["случа"],
        "урож" => &["урожа"],
        "алт" => &["алта"],
        "сар" => &["сара"],
        "парагв" => &["парагва"],
        "уругв" => &["уругва"],
        _ => &[],
    };
    whole
        .iter()
        .find(|whole| word.starts_with(**whole))
        .map_or(stem, |whole| &word[..whole.len()])
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'а' | 'е' | 'ё' | 'и' | 'о' | 'у' | 'ы' | 'э' | 'ю' | 'я')
}

/// The stem without a closing soft sign, which some forms of a word have and others not
/// (`путь` / `пути`, `семья` / `семей`).
fn without_soft_sign(stem: &str) -> &str {
    match stem.strip_suffix('ь') {
        Some(shorter) if shorter.chars().count() >= MIN_STEM => shorter,
        _ => stem,
    }
}

/// Word endings with a fleeting vowel, and what they become without it: `миропорядок`,
/// `порядка` → `миропорядк`, `порядк`. Both the nominative of masculine nouns (`порядок`) and
/// the genitive plural of feminine ones (`выставок`, `цепочек`) have the vowel, the other
/// forms do not. Only endings where every common word has a fleeting vowel are listed.
const FLEETING: &[(&str, &str)] = &[
    ("порядок", "порядк"),
    ("очек", "очк"),
    ("ечек", "ечк"),
    ("адок", "адк"),
    ("ядок", "ядк"),
    ("аток", "атк"),
    ("ыток", "ытк"),
    ("вок", "вк"),
    ("енок", "енк"),
    ("онок", "онк"),
    ("инок", "инк"),
    ("ерок", "ерк"),
    ("рынок", "рынк"),
    ("участок", "участк"),
    ("кусок", "куск"),
    ("подарок", "подарк"),
    ("потолок", "потолк"),
    ("поселок", "поселк"),
    ("уровень", "уровн"),
    ("камень", "камн"),
    ("корень", "корн"),
    ("ремень", "ремн"),
    ("египет", "египт"),
    ("ветер", "ветр"),
    ("посол", "посл"),
    ("угол", "угл"),
    ("узел", "узл"),
    ("орел", "орл"),
    ("котел", "котл"),
    ("ковер", "ковр"),
];

/// Nouns in `-ец` whose `е` stays in every form (`кузнец`, `кузнеца`); in the others it is
/// fleeting (`борец`, `борца`; `китаец`, `китайца`).
const STABLE_EC: &[&str] = &[
    "кузнец",
    "мудрец",
    "жрец",
    "близнец",
    "чтец",
    "хитрец",
    "истец",
];

/// The stem of a word written with a fleeting vowel, if it is one.
fn fleeting_vowel(word: &str) -> Option<String> {
    for (ending, replacement) in FLEETING {
        if let Some(start) = word.strip_suffix(ending) {
            return Some(format!("{start}{replacement}"));
        }
    }
    let start = word.strip_suffix("ец")?;
    if start.chars().count() < 2 || STABLE_EC.contains(&word) {
        return None;
    }
    // After a vowel the fleeting е leaves a й: китаец, китайца.
    let glide = if start.chars().next_back().is_some_and(is_vowel) {
        "й"
    } else {
        ""
    };
    Some(format!("{start}{glide}ц"))
}

/// Words whose stem no ending rule gives: numerals whose stem changes across cases, nouns in
/// `-мя`, and short nouns with a fleeting vowel.
fn closed_table(word: &str) -> Option<&str> {
    Some(match word {
        // Cardinal and collective numerals.
        "один" | "одна" | "одно" | "одни" | "одного" | "одной" | "одному" | "одним" | "одном"
        | "одну" | "одною" | "одних" | "одними" => "одн",
        "два" | "две" | "двух" | "двум" | "двумя" => "дв",
        "три" | "трех" | "трем" | "тремя" => "тр",
        "четыре" | "четырех" | "четырем" | "четырьмя" => "четыр",
        "восемь" | "восьми" | "восемью" | "восьмью" => "восьм",
        "оба" | "обе" | "обоих" | "обеих" | "обоим" | "обеим" | "обоими" | "обеими" => {
            "об"
        }
        "полтора" | "полторы" | "полутора" => "полтор",
        // The ordinal «третий», with a soft sign in its other forms.
        "третий" | "третья" | "третье" | "третьи" | "третьего" | "третьей" | "третьему"
        | "третьим" | "третьем" | "третью" | "третьих" | "третьими" => {
            "трет"
        }
        // Nouns in -мя: время, времени, временем, времена.
        "время" => "времен",
        "имя" => "имен",
        "знамя" => "знамен",
        "племя" => "племен",
        "семя" => "семен",
        "пламя" => "пламен",
        "бремя" => "бремен",
        "стремя" => "стремен",
        "темя" => "темен",
        "вымя" => "вымен",
        // Short nouns with a fleeting vowel.
        "день" | "дня" | "дню" | "днем" | "дне" | "дни" | "дней" | "дням" | "днями" | "днях" => {
            "дн"
        }
        "лед" => "льд",
        "лев" => "льв",
        "сон" => "сн",
        "рот" => "рт",
        "лоб" => "лб",
        "огонь" => "огн",
        "заем" => "займ",
        "наем" => "найм",
        _ => return None,
    })
}
