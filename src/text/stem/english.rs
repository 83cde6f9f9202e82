//! The English stem: the singular without the possessive, in American spelling.
//!
//! Only inflection is removed. Snowball's English rules strip derivational suffixes too, and
//! in a political glossary those carry the meaning: "developed countries" and "developing
//! countries" (发达国家 / 发展中国家) would be one stem sequence, as would "multilateral" and
//! "multilateralism", "equality" and "equally", "consultation" and "consultant". English
//! terms inflect only for number and possession, so that is all the stem removes.
//!
//! British and American spellings of one word are one stem: `civilisations` meets
//! `civilization`, `centre` meets `center`, `travelled` meets `traveled`. The stem takes the
//! American spelling, or the British one where that is shorter (`fulfil`), so that a stem
//! is never longer than its word. The rules are the
//! regular correspondences (`-ise` / `-ize`, `-yse` / `-yze`) with their exceptions, and
//! closed lists where a rule would reach other words (`-our` / `-or` holds for `colour`, not
//! for `four` or `hour`).

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

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

/// The American-spelled singular of a lower-case word without its possessive:
/// `initiative's` → `initiative`, `countries` → `country`, `organisations` → `organization`.
pub(super) fn stem(word: &str) -> Cow<'_, str> {
    match singular(word) {
        Cow::Borrowed(singular) => american(singular),
        Cow::Owned(singular) => Cow::Owned(american(&singular).into_owned()),
    }
}

/// The singular of a word without its possessive: `initiative's` → `initiative`,
/// `countries` → `country`, `approaches` → `approach`.
fn singular(word: &str) -> Cow<'_, str> {
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

/// British spellings inside a word and their American counterparts, for the words where the
/// British letters cannot mean anything else: `colour` is in `colourful`, `four` is not.
const INSIDE: &[(&str, &str)] = &[
    ("isation", "ization"),
    ("colour", "color"),
    ("favour", "favor"),
    ("honour", "honor"),
    ("labour", "labor"),
    ("neighbour", "neighbor"),
    ("behaviour", "behavior"),
    ("harbour", "harbor"),
    ("humour", "humor"),
    ("rumour", "rumor"),
    ("vapour", "vapor"),
    ("vigour", "vigor"),
    ("valour", "valor"),
    ("savour", "savor"),
    ("flavour", "flavor"),
    ("armour", "armor"),
    ("endeavour", "endeavor"),
    ("odour", "odor"),
    ("rancour", "rancor"),
    ("clamour", "clamor"),
    ("saviour", "savior"),
    ("parlour", "parlor"),
    ("splendour", "splendor"),
    ("tumour", "tumor"),
    ("candour", "candor"),
    ("ardour", "ardor"),
    ("fervour", "fervor"),
    ("centre", "center"),
    ("metre", "meter"),
    ("theatre", "theater"),
    ("litre", "liter"),
    ("fibre", "fiber"),
    ("calibre", "caliber"),
    ("spectre", "specter"),
    ("lustre", "luster"),
    ("sombre", "somber"),
    ("meagre", "meager"),
    ("defence", "defense"),
    ("offence", "offense"),
    ("licence", "license"),
    ("pretence", "pretense"),
    ("judgement", "judgment"),
    ("acknowledgement", "acknowledgment"),
    ("manoeuvre", "maneuver"),
    ("sceptic", "skeptic"),
    ("aluminium", "aluminum"),
    ("paediatric", "pediatric"),
    ("encyclopaedia", "encyclopedia"),
];

/// Whole words spelled differently: `programme` (but `programmed` is American too), and
/// words whose British form is inside the American one (`enrol` / `enroll`).
const WHOLE: &[(&str, &str)] = &[
    ("programme", "program"),
    ("practise", "practice"),
    ("practised", "practiced"),
    ("practising", "practicing"),
    ("grey", "gray"),
    ("plough", "plow"),
    ("mould", "mold"),
    ("ageing", "aging"),
    ("cosy", "cozy"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("analogue", "analog"),
    // Where the British spelling is the shorter, it is the one kept: a stem never grows.
    ("fulfill", "fulfil"),
    ("fulfillment", "fulfilment"),
    ("enroll", "enrol"),
    ("enrollment", "enrolment"),
    ("skillful", "skilful"),
    ("willful", "wilful"),
];

/// Words whose `l` British spelling doubles before `-ed`, `-ing`, `-er` (`travelled`,
/// `cancelling`), where American spelling does not.
const DOUBLE_L: &[&str] = &[
    "travel", "cancel", "label", "model", "fuel", "signal", "level", "counsel", "channel", "total",
    "marshal", "equal", "dial", "duel", "jewel", "quarrel", "rival", "tunnel", "panel", "marvel",
    "shovel", "funnel", "pencil", "initial", "revel", "unravel",
];

/// Endings after which British spelling doubles the `l` of [`DOUBLE_L`] words.
const AFTER_DOUBLE_L: &[&str] = &["ed", "ing", "er", "ers", "ings", "ous"];

/// Words in `-ise` (and `-ised`, `-ising`, `-iser`) that American spelling writes the same:
/// the `-ise` is not the suffix that becomes `-ize`.
const ISE_IN_BOTH: &[&str] = &[
    "advise",
    "advertise",
    "apprise",
    "arise",
    "chastise",
    "circumcise",
    "comprise",
    "compromise",
    "concise",
    "cruise",
    "bruise",
    "demise",
    "despise",
    "devise",
    "disguise",
    "enterprise",
    "excise",
    "exercise",
    "expertise",
    "franchise",
    "improvise",
    "incise",
    "merchandise",
    "paradise",
    "praise",
    "precise",
    "premise",
    "promise",
    "revise",
    "supervise",
    "surmise",
    "surprise",
    "televise",
    "treatise",
    "otherwise",
    "likewise",
    "clockwise",
];

/// Endings of the `-ise` / `-yse` verb family after its `i` or `y`, which American spelling
/// writes with `z`.
const SE_ENDINGS: &[&str] = &["se", "sed", "ses", "sing", "ser", "sers"];

/// An automaton over the British spellings of [`INSIDE`], in list order: one pass over a
/// word instead of one search per spelling. A DFA without a prefilter: a word is a few
/// bytes, and the crate's default (a prefilter over an NFA) made the English article's
/// Recognize one to two per cent slower.
static BRITISH: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(false)
        .match_kind(MatchKind::LeftmostFirst)
        .build(INSIDE.iter().map(|(british, _)| british))
        .expect("a few short literal patterns")
});

/// The American spelling of a word, borrowed when it is already American.
fn american(word: &str) -> Cow<'_, str> {
    if let Some(&(_, american)) = WHOLE.iter().find(|(british, _)| *british == word) {
        return Cow::Borrowed(american);
    }
    // Every other spelling listed takes five letters or more; most words of running text
    // are shorter.
    if word.len() < 5 {
        return Cow::Borrowed(word);
    }
    if let Some(found) = BRITISH.find(word) {
        let (british, american) = INSIDE[found.pattern().as_usize()];
        // «improvisation» is American too: its -isation is not the -ize suffix.
        if !(british == "isation" && word[..found.start()].ends_with('v')) {
            return Cow::Owned(format!(
                "{}{american}{}",
                &word[..found.start()],
                &word[found.end()..]
            ));
        }
    }
    if let Some(stem) = double_l(word).or_else(|| ise_to_ize(word)) {
        return Cow::Owned(stem);
    }
    Cow::Borrowed(word)
}

/// `travelled` → `traveled`, `marvellous` → `marvelous`.
fn double_l(word: &str) -> Option<String> {
    if !word.as_bytes().windows(2).any(|pair| pair == b"ll") {
        return None;
    }
    let root = DOUBLE_L.iter().find(|root| word.starts_with(*root))?;
    let rest = word[root.len()..].strip_prefix('l')?;
    AFTER_DOUBLE_L
        .contains(&rest)
        .then(|| format!("{root}{rest}"))
}

/// `organise` → `organize`, `analysed` → `analyzed`, except where `-ise` is the American
/// spelling too (`advise`, `exercise`) or not a suffix at all (`rise`, `noise`, `tortoise`:
/// a root of fewer than three letters, or ending in a vowel).
fn ise_to_ize(word: &str) -> Option<String> {
    let ending = SE_ENDINGS.iter().find(|e| word.ends_with(*e))?;
    let head = &word[..word.len() - ending.len()];
    let root = head.strip_suffix(['i', 'y'])?;
    let root_fits = root.chars().count() >= 3
        && root
            .chars()
            .next_back()
            .is_some_and(|c| !"aeiou".contains(c));
    if !root_fits
        || ISE_IN_BOTH
            .iter()
            .any(|w| head.ends_with(&w[..w.len() - 2]))
    {
        return None;
    }
    Some(format!("{head}z{}", &ending[1..]))
}
