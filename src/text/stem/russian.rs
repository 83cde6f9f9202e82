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
//! - the nouns in `-мя` lose the `-ен-` of their other forms (`время`, `времени` → `врем`);
//! - closed tables: the numerals whose stem changes (`три`, `трёх`, `тремя`), the common
//!   nouns with a fleeting vowel (`порядок`, `порядка`; `-ец` / `-ца` is a rule with
//!   exceptions), and common nouns whose stem the ending rules would cut short (`режим` is
//!   not `реж` + `-им`, `Китая` not `кит` + `-ая`).
//!
//! Words that do not decline keep what their letters give, the same in every occurrence.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Shortest stem an ending may leave.
const MIN_STEM: usize = 2;

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
    Cow::Borrowed(without_n_of_mya(without_soft_sign(stem)))
}

/// The roots of the nouns in `-мя`, whose other forms add `-ен-`: `время`, `времени`,
/// `временем`, `времена`.
const MYA_ROOTS: &[&str] = &[
    "врем",
    "им",
    "знам",
    "плем",
    "сем",
    "плам",
    "брем",
    "стрем",
    "тем",
    "вым",
];

/// The stem of a form of a noun in `-мя` without its `-ен-` (`времен` → `врем`), so that it
/// meets the nominative's.
fn without_n_of_mya(stem: &str) -> &str {
    match stem.strip_suffix("ен") {
        Some(root) if MYA_ROOTS.contains(&root) => root,
        _ => stem,
    }
}

/// The word without its longest case ending, or `None` if no ending leaves a long enough
/// stem. `adjective` takes the endings of soft adjectives whatever comes before them.
///
/// The endings of nouns, adjectives, participles and pronominal numerals: `-ого -его -ому
/// -ему -ыми -ими -ами -ями`, `-ом -ем -ой -ей -ою -ам -ям -ах -ях -ов -ев -ый -ий -ая -яя
/// -ое -ее -ые -ие -ым -им -ую -юю -ых -их`, `-а -я -о -е -й -ы -и -у -ю`. They are
/// matched on the word's last letters as characters, not as strings: this runs for every
/// word of every text indexed.
fn strip_ending(word: &str, adjective: bool) -> Option<&str> {
    let mut last = word.chars().rev();
    let (c1, c2, c3) = (last.next()?, last.next(), last.next());
    let letters = word.chars().count();
    // Every ending letter takes two bytes.
    let cut = |n: usize| &word[..word.len() - 2 * n];
    let soft_fits = |n: usize| adjective || soft_adjective(cut(n), n == 2 && c1 == 'й');
    let three = match (c3, c2, c1) {
        (Some('е'), Some('г'), 'о') | (Some('е'), Some('м'), 'у') => Some(true),
        (Some('о'), Some('г'), 'о')
        | (Some('о'), Some('м'), 'у')
        | (Some('ы' | 'и' | 'а' | 'я'), Some('м'), 'и') => Some(false),
        _ => None,
    };
    if let Some(soft) = three {
        if letters >= 3 + MIN_STEM && (!soft || soft_fits(3)) {
            return Some(protected(word, cut(3)));
        }
    }
    let two = match (c2, c1) {
        (Some('е'), 'е') | (Some('и'), 'е' | 'й') => Some(true),
        (Some('о' | 'е'), 'м' | 'й' | 'в')
        | (Some('о'), 'ю' | 'е')
        | (Some('а' | 'я'), 'м' | 'х' | 'я')
        | (Some('ы'), 'й' | 'е')
        | (Some('ы' | 'и'), 'м' | 'х')
        | (Some('у' | 'ю'), 'ю') => Some(false),
        _ => None,
    };
    if let Some(soft) = two {
        if letters >= 2 + MIN_STEM {
            if !soft || soft_fits(2) {
                return Some(protected(word, cut(2)));
            }
            // A noun in -ие, -ий, -ея: the vowel belongs to the stem, as in its other forms
            // (развити-е, развити-я; коре-е, коре-я).
            return Some(cut(1));
        }
    }
    let one = matches!(c1, 'а' | 'я' | 'о' | 'е' | 'й' | 'ы' | 'и' | 'у' | 'ю');
    (one && letters > MIN_STEM).then(|| protected(word, cut(1)))
}

/// Whether an ending only soft and spelling-rule adjectives have (`-его -ему -ее -ие -ий`:
/// `внешн-его`, `ведущ-ие`) belongs to an adjective after `stem`, rather than to a noun whose
/// letters look the same (`систем-у`, `развити-е`, `коре-е`, `сценари-й`): after a velar or
/// a hushing consonant, and after `н` following a consonant, where soft and spelling-rule
/// adjectives end and the nouns in `-ие`, `-ия`, `-ея` do not, save the nouns in `-ичие` and
/// `-ужие` (`наличие`, `оружие`) and the genitive plural of the nouns in `-гия`
/// (`стратегий`, `технологий`). `short_i` tells the ending is `-ий`.
fn soft_adjective(stem: &str, short_i: bool) -> bool {
    let mut letters = stem.chars().rev();
    let last = letters.next();
    let before = letters.next();
    match last {
        Some('к' | 'х' | 'ш' | 'щ') => true,
        Some('г') => !short_i,
        Some('ж') => before != Some('у'),
        Some('ч') => before != Some('и'),
        Some('н') => before.is_some_and(|c| !is_vowel(c)),
        _ => false,
    }
}

/// Stems the ending rules would cut short, by what they leave of them; see [`protected`].
const PROTECTED: &[(&str, &[&str])] = &[
    ("реж", &["режим"]),
    ("исполк", &["исполком"]),
    ("партк", &["партком"]),
    ("профк", &["профком"]),
    ("обк", &["обком"]),
    ("горк", &["горком"]),
    ("райк", &["райком"]),
    ("нарк", &["нарком"]),
    ("совнарк", &["совнарком"]),
    ("ат", &["атом"]),
    ("альб", &["альбом"]),
    ("дипл", &["диплом"]),
    ("синдр", &["синдром"]),
    ("аэродр", &["аэродром"]),
    ("космодр", &["космодром"]),
    ("агрон", &["агроном"]),
    ("экон", &["эконом"]),
    ("объ", &["объем"]),
    ("при", &["прием"]),
    ("подъ", &["подъем"]),
    ("вьетн", &["вьетнам"]),
    ("исл", &["ислам"]),
    ("хр", &["храм"]),
    ("бальз", &["бальзам"]),
    ("амстерд", &["амстердам"]),
    ("мон", &["монах"]),
    ("стр", &["страх", "стро"]),
    ("разм", &["размах"]),
    ("кр", &["крах", "крым", "кра"]),
    ("алл", &["аллах"]),
    ("рост", &["ростов"]),
    ("пск", &["псков"]),
    ("сарат", &["саратов"]),
    ("тамб", &["тамбов"]),
    ("льв", &["львов"]),
    ("кишин", &["кишинев"]),
    ("ки", &["киев"]),
    ("ст", &["стих"]),
    ("осн", &["основ"]),
    ("сл", &["слов", "сло"]),
    ("остр", &["остров"]),
    ("полуостр", &["полуостров"]),
    ("покр", &["покров"]),
    ("ул", &["улов"]),
    ("сист", &["систем"]),
    ("экосист", &["экосистем"]),
    ("пробл", &["проблем"]),
    ("сх", &["схем"]),
    ("теор", &["теорем"]),
    ("муз", &["музе"]),
    ("ид", &["иде"]),
    ("хокк", &["хокке"]),
    ("юбил", &["юбиле"]),
    ("лиц", &["лице"]),
    ("гер", &["геро"]),
    ("конв", &["конво"]),
    ("пок", &["поко"]),
    ("приб", &["прибо"]),
    ("разб", &["разбо"]),
    ("заст", &["засто"]),
    ("настр", &["настро"]),
    ("переб", &["перебо"]),
    ("кит", &["кита"]),
    ("шанх", &["шанха"]),
    ("случ", &["случа"]),
    ("урож", &["урожа"]),
    ("алт", &["алта"]),
    ("сар", &["сара"]),
    ("парагв", &["парагва"]),
    ("уругв", &["уругва"]),
];

/// [`PROTECTED`] by the stem the rules leave.
static PROTECTED_BY_STEM: LazyLock<HashMap<&str, &[&str], Fnv>> =
    LazyLock::new(|| PROTECTED.iter().copied().collect());

/// Stems that an ending rule would cut short: nouns whose nominative or genitive plural ends
/// in letters that look like a case ending (`режим`, not `реж` + `-им`; `систем`, not
/// `сист` + `-ем`; `музей`, not `муз` + `-ей`). Keyed by the stem the rules leave, with the
/// whole stem, used when the word begins with it.
fn protected<'w>(word: &'w str, stem: &'w str) -> &'w str {
    let whole = PROTECTED_BY_STEM.get(stem).copied().unwrap_or_default();
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
    ("зок", "зк"),
    ("работок", "работк"),
    ("поездок", "поездк"),
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
    // Every listed ending, and -ец, closes with one of these pairs of letters.
    let mut last = word.chars().rev();
    let pair = (last.next(), last.next());
    if !matches!(
        pair,
        (Some('к'), Some('о' | 'е'))
            | (Some('ь'), Some('н'))
            | (Some('т' | 'р' | 'л' | 'ц'), Some('е'))
            | (Some('л'), Some('о'))
    ) {
        return None;
    }
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

/// Words whose stem no ending rule gives, by stem: numerals whose stem changes across
/// cases, and short nouns with a fleeting vowel.
const CLOSED: &[(&str, &[&str])] = &[
    // Cardinal and collective numerals.
    (
        "одн",
        &[
            "один",
            "одна",
            "одно",
            "одни",
            "одного",
            "одной",
            "одному",
            "одним",
            "одном",
            "одну",
            "одною",
            "одних",
            "одними",
        ],
    ),
    ("дв", &["два", "две", "двух", "двум", "двумя"]),
    ("тр", &["три", "трех", "трем", "тремя"]),
    ("четыр", &["четыре", "четырех", "четырем", "четырьмя"]),
    ("восьм", &["восемь", "восьми", "восемью", "восьмью"]),
    (
        "об",
        &[
            "оба",
            "обе",
            "обоих",
            "обеих",
            "обоим",
            "обеим",
            "обоими",
            "обеими",
        ],
    ),
    ("полтор", &["полтора", "полторы", "полутора"]),
    // The ordinal «третий», with a soft sign in its other forms.
    (
        "трет",
        &[
            "третий",
            "третья",
            "третье",
            "третьи",
            "третьего",
            "третьей",
            "третьему",
            "третьим",
            "третьем",
            "третью",
            "третьих",
            "третьими",
        ],
    ),
    // Short nouns with a fleeting vowel.
    (
        "дн",
        &[
            "день",
            "дня",
            "дню",
            "днем",
            "дне",
            "дни",
            "дней",
            "дням",
            "днями",
            "днях",
        ],
    ),
    ("льд", &["лед"]),
    ("льв", &["лев"]),
    ("сн", &["сон"]),
    ("рт", &["рот"]),
    ("лб", &["лоб"]),
    ("огн", &["огонь"]),
    ("займ", &["заем"]),
    ("найм", &["наем"]),
];

/// [`CLOSED`] by word.
static CLOSED_BY_WORD: LazyLock<HashMap<&str, &str, Fnv>> = LazyLock::new(|| {
    CLOSED
        .iter()
        .flat_map(|&(stem, words)| words.iter().map(move |&word| (word, stem)))
        .collect()
});

/// FNV-1a, for the tables above: their keys are a few bytes long, where the standard
/// hasher's setup costs more than the hashing, and none comes from a client that could
/// choose collisions (only a slower lookup would follow).
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::hash::BuildHasher for Fnv {
    type Hasher = Fnv;

    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

/// The stem [`CLOSED`] gives a word, if it lists it.
fn closed_table(word: &str) -> Option<&'static str> {
    CLOSED_BY_WORD.get(word).copied()
}
