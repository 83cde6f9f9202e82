//! The text pipeline: normalization with a map back to original offsets, script detection,
//! tokenization and stemming. Every index key and every query goes through [`normalize`], so
//! a stored term and a query meet whatever width, case, accents, quotes or Chinese script
//! they were typed in, with lookalike letters of another script inside a word or a line break
//! inside Chinese. Content ids take [`content_key`] instead, which the steps added for matching
//! since ids were first stored leave alone.
//!
//! Pure functions over `&str`: this module knows nothing of storage, gRPC or the data model.
//!
//! Normalization is an ordered list of steps (see `STEPS`), each a unit struct in its own file
//! that carries every character's origin along, so that a match in the normalized text can be
//! reported at its place in the text as written. Text made only of common characters takes a
//! shortcut to the same result (`fast_path.rs`, one pass, no step by step copies); the steps
//! are the reference it is tested against, and serve every other text:
//!
//! ```
//! use tolmach::text::normalize;
//!
//! let text = normalize("«ＳＣＯ»  Summit");
//! assert_eq!(text.as_str(), "\"sco\" summit");
//! // `sco` (bytes 1..4) was written in full-width letters, three bytes each.
//! assert_eq!(text.original_range(1..4), 2..11);
//! assert_eq!(&text.original()[2..11], "ＳＣＯ");
//! ```

#[cfg(test)]
macro_rules! test_normalizer {
    // One test per case: the step on its own gives `$step_output`, the whole pipeline gives
    // `$pipeline_output` (which fails when a step was written but never listed in `STEPS`).
    // Also a property test that the step never panics and keeps offsets sound.
    ($step:expr, $($name:ident: $input:expr => $step_output:expr, $pipeline_output:expr;)+) => {
        $(
            #[test]
            fn $name() {
                let input: &str = $input;
                let own = crate::text::normalizer::testing::apply(&$step, input);
                crate::text::normalizer::testing::assert_offsets_sound(input, &own);
                assert_eq!(
                    crate::text::normalizer::testing::text_of(&own),
                    $step_output,
                    "this step's own output"
                );
                assert_eq!(crate::text::normalize_key(input), $pipeline_output, "pipeline output");
            }
        )+

        proptest::proptest! {
            #[test]
            fn step_never_panics_and_keeps_offsets(input in proptest::prelude::any::<String>()) {
                let own = crate::text::normalizer::testing::apply(&$step, &input);
                crate::text::normalizer::testing::assert_offsets_sound(&input, &own);
            }
        }
    };
}

mod ampersand;
mod case_fold;
mod char_class;
mod fast_path;
mod han_space;
mod hant_to_hans;
mod ignorable;
mod lookalike;
mod nfkc;
mod normalizer;
mod offsets;
pub mod pinyin;
mod punctuation;
mod script;
mod stem;
mod token;
mod whitespace;
mod yo;

pub(crate) use char_class::{is_alphabetic, is_alphanumeric, is_uppercase};
pub(crate) use hant_to_hans::RunConverter;
pub use offsets::NormalizedText;
pub use script::{detect_lang, is_han};
pub use stem::stem;
pub use token::{tokenize, tokenize_borrowed, words, Token, TokenKind, TokenRef, Words};

use normalizer::{MappedChar, Normalizer};

/// One step of the pipeline, and whether content ids see it.
struct Step {
    normalizer: &'static dyn Normalizer,
    /// Whether [`content_key`] runs this step. Content ids are stored, and re-importing a
    /// file must find the ids it found before; steps added since the first ids were stored
    /// serve matching only and stay out of them.
    in_content_key: bool,
}

/// A step that content ids see.
const fn stored(normalizer: &'static dyn Normalizer) -> Step {
    Step {
        normalizer,
        in_content_key: true,
    }
}

/// A step for matching only, left out of content ids.
const fn matching(normalizer: &'static dyn Normalizer) -> Step {
    Step {
        normalizer,
        in_content_key: false,
    }
}

/// The pipeline, in order. Compatibility forms first, so that later steps see one spelling of
/// each character; lookalike letters after case folding, which leaves one table of them;
/// spaces between Chinese characters dropped before the traditional → simplified conversion,
/// which then sees the whole run; whitespace last, so that it also collapses what earlier steps
/// inserted or left behind (`&` becomes ` and `, a removed zero-width space leaves its
/// neighbours).
const STEPS: &[Step] = &[
    stored(&nfkc::Nfkc),
    stored(&ignorable::Ignorable),
    stored(&case_fold::CaseFold),
    stored(&yo::Yo),
    stored(&punctuation::Punctuation),
    stored(&ampersand::Ampersand),
    matching(&lookalike::Lookalike),
    matching(&han_space::HanSpace),
    stored(&hant_to_hans::HantToHans),
    stored(&whitespace::Whitespace),
];

/// The Chinese word segmenter with its default dictionary, loaded on first use (about
/// 50 MiB): one instance for the word-boundary check of term recognition and the word
/// division and proper names of [`pinyin::display`].
pub(crate) fn segmenter() -> &'static jieba_rs::Jieba {
    static JIEBA: std::sync::OnceLock<jieba_rs::Jieba> = std::sync::OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// Upper bound on pipeline rounds; see [`run`]. Real text needs one, rarely two.
const MAX_ROUNDS: usize = 4;

/// Runs the whole pipeline over `input`, keeping a map back to original byte offsets.
///
/// Use it for text whose matches must be reported in the original (recognition, highlighting);
/// use [`normalize_key`] when only the normalized string is needed.
pub fn normalize(input: &str) -> NormalizedText {
    let mut builder = offsets::Builder::with_capacity(input.len());
    if fast_path::normalize_into(input, &mut builder) {
        return builder.finish(input.to_owned());
    }
    reference_normalize(input)
}

/// [`normalize`] by the general pipeline, step after step: what the fast path must give.
fn reference_normalize(input: &str) -> NormalizedText {
    NormalizedText::new(input.to_owned(), &run(input, false))
}

/// The normalized form as a plain string: the same pipeline as [`normalize`] without building
/// the offset map. Used for index keys, so it must stay exactly `normalize(x).as_str()`.
///
/// ```
/// use tolmach::text::normalize_key;
///
/// assert_eq!(normalize_key("Шанха́йский   ДУХ"), "шанхайский дух");
/// assert_eq!(normalize_key("上海合作組織"), "上海合作组织");
/// assert_eq!(normalize_key("R&D"), "r and d");
/// // ШОС typed with a Latin O and C; 上海合作组织 broken across two lines.
/// assert_eq!(normalize_key("ШOC"), "шос");
/// assert_eq!(normalize_key("上海合作\n组织"), "上海合作组织");
/// ```
pub fn normalize_key(input: &str) -> String {
    let mut key = String::with_capacity(input.len());
    if fast_path::normalize_into(input, &mut key) {
        return key;
    }
    reference_key(input)
}

/// [`normalize_key`] by the general pipeline, step after step: what the fast path must give.
fn reference_key(input: &str) -> String {
    run(input, false).iter().map(|m| m.ch).collect()
}

/// The key content ids are computed from: [`normalize_key`] without the steps added for
/// matching since content ids were first stored, so that a stored id never changes when
/// matching improves. Use it for nothing else: matching wants [`normalize_key`].
///
/// ```
/// use tolmach::text::{content_key, normalize_key};
///
/// assert_eq!(content_key("ＳＣＯ  Summit"), normalize_key("ＳＣＯ  Summit"));
/// assert_eq!(content_key("ШOC"), "шoc");
/// assert_eq!(content_key("上海合作\n组织"), "上海合作 组织");
/// ```
pub fn content_key(input: &str) -> String {
    run(input, true).iter().map(|m| m.ch).collect()
}

/// Applies [`STEPS`] (only those content ids see, when `content_only`) to `input` until NFKC
/// has nothing left to do.
///
/// One round is not always a fixed point: NFKC runs first, and a later step can bring a base
/// letter next to a combining mark it could not reach before, e.g. removing the zero-width
/// joiner in `e` U+200D U+0302 leaves `e` U+0302, which NFKC composes into `ê`. Index keys must
/// be stable under renormalization, so such text goes round again.
fn run(input: &str, content_only: bool) -> Vec<MappedChar> {
    let mut current = normalizer::identity(input);
    let mut spare = Vec::new();
    let steps = STEPS.iter().filter(|s| s.in_content_key || !content_only);
    for _ in 0..MAX_ROUNDS {
        for step in steps.clone() {
            spare.clear();
            if step.normalizer.normalize(&current, &mut spare) {
                std::mem::swap(&mut current, &mut spare);
            }
        }
        spare.clear();
        if !nfkc::Nfkc.normalize(&current, &mut spare) {
            break;
        }
    }
    current
}

#[cfg(test)]
mod tests;
