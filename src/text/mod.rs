//! The text pipeline: normalization with a map back to original offsets, script detection,
//! tokenization and stemming. Every index key and every query goes through [`normalize`], so
//! a stored term and a query meet whatever width, case, accents, quotes or Chinese script
//! they were typed in.
//!
//! Pure functions over `&str`: this module knows nothing of storage, gRPC or the data model.
//!
//! Normalization is an ordered list of steps (see `STEPS`), each a unit struct in its own file
//! that carries every character's origin along, so that a match in the normalized text can be
//! reported at its place in the text as written:
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
mod hant_to_hans;
mod ignorable;
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

pub(crate) use hant_to_hans::RunConverter;
pub use offsets::NormalizedText;
pub use script::{detect_lang, is_han};
pub use stem::stem;
pub use token::{tokenize, Token, TokenKind};

use normalizer::{MappedChar, Normalizer};

/// The pipeline, in order. Compatibility forms first, so that later steps see one spelling of
/// each character; whitespace last, so that it also collapses what earlier steps inserted or
/// left behind (`&` becomes ` and `, a removed zero-width space leaves its neighbours).
const STEPS: &[&dyn Normalizer] = &[
    &nfkc::Nfkc,
    &ignorable::Ignorable,
    &case_fold::CaseFold,
    &yo::Yo,
    &punctuation::Punctuation,
    &ampersand::Ampersand,
    &hant_to_hans::HantToHans,
    &whitespace::Whitespace,
];

/// Upper bound on pipeline rounds; see [`run`]. Real text needs one, rarely two.
const MAX_ROUNDS: usize = 4;

/// Runs the whole pipeline over `input`, keeping a map back to original byte offsets.
///
/// Use it for text whose matches must be reported in the original (recognition, highlighting);
/// use [`normalize_key`] when only the normalized string is needed.
pub fn normalize(input: &str) -> NormalizedText {
    NormalizedText::new(input.to_owned(), &run(input))
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
/// ```
pub fn normalize_key(input: &str) -> String {
    run(input).iter().map(|m| m.ch).collect()
}

/// Applies [`STEPS`] to `input` until NFKC has nothing left to do.
///
/// One round is not always a fixed point: NFKC runs first, and a later step can bring a base
/// letter next to a combining mark it could not reach before, e.g. removing the zero-width
/// joiner in `e` U+200D U+0302 leaves `e` U+0302, which NFKC composes into `ê`. Index keys must
/// be stable under renormalization, so such text goes round again.
fn run(input: &str) -> Vec<MappedChar> {
    let mut current = normalizer::identity(input);
    let mut spare = Vec::new();
    for _ in 0..MAX_ROUNDS {
        for step in STEPS {
            spare.clear();
            if step.normalize(&current, &mut spare) {
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
