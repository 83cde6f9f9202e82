//! The contract every normalization step implements, and the character-with-origin unit the
//! steps pass along. Knows nothing of what any particular step does.

/// One character of the text being normalized, with the byte range of the original input that
/// produced it.
///
/// Steps never invent a range: a character they emit takes the range of the character it came
/// from, or the union of the ranges of the characters it merges. Since every step keeps the
/// characters in order, both `start` and `end` never decrease along the text, which is what lets
/// [`super::NormalizedText::original_range`] answer with two look-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappedChar {
    pub(crate) ch: char,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl MappedChar {
    /// The same origin with another character, for steps that rewrite without merging.
    pub(crate) fn with_char(self, ch: char) -> Self {
        MappedChar { ch, ..self }
    }
}

/// Every character of `input` mapped to its own bytes: the state before the first step.
pub(crate) fn identity(input: &str) -> Vec<MappedChar> {
    input
        .char_indices()
        .map(|(start, ch)| MappedChar {
            ch,
            start,
            end: start + ch.len_utf8(),
        })
        .collect()
}

/// One step of the normalization pipeline.
///
/// A step reads the whole text rather than one character at a time because some need context
/// (NFKC works on grapheme clusters, whitespace on runs, Chinese conversion on runs of Han).
pub(crate) trait Normalizer {
    /// Writes this step's output for `input` into `out` (empty on entry) and returns `true`, or
    /// returns `false` when the step would leave `input` as it is; `out` is then ignored, so
    /// a step that changes nothing need not copy or allocate anything.
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool;
}

/// Runs a per-character rewrite: `edit` returns `None` to keep a character, or the characters
/// to put in its place (possibly none). Only when some character is rewritten does anything get
/// copied; rewritten characters keep the origin of the character they replace.
pub(crate) fn rewrite_chars<I, F>(
    input: &[MappedChar],
    out: &mut Vec<MappedChar>,
    mut edit: F,
) -> bool
where
    F: FnMut(char) -> Option<I>,
    I: IntoIterator<Item = char>,
{
    let mut changed = false;
    for (i, &m) in input.iter().enumerate() {
        match edit(m.ch) {
            None => {
                if changed {
                    out.push(m);
                }
            }
            Some(replacement) => {
                if !changed {
                    out.reserve(input.len());
                    out.extend_from_slice(&input[..i]);
                    changed = true;
                }
                out.extend(replacement.into_iter().map(|ch| m.with_char(ch)));
            }
        }
    }
    changed
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the step tests.

    use super::{identity, MappedChar, Normalizer};

    /// Applies one step to `input` on its own, as if it were the first step.
    pub(crate) fn apply(step: &dyn Normalizer, input: &str) -> Vec<MappedChar> {
        let chars = identity(input);
        let mut out = Vec::new();
        if step.normalize(&chars, &mut out) {
            out
        } else {
            chars
        }
    }

    pub(crate) fn text_of(chars: &[MappedChar]) -> String {
        chars.iter().map(|m| m.ch).collect()
    }

    /// Panics unless every range lies on char boundaries of `original` and neither end ever
    /// decreases along the text.
    pub(crate) fn assert_offsets_sound(original: &str, chars: &[MappedChar]) {
        let mut previous = (0, 0);
        for m in chars {
            assert!(
                m.start <= m.end && m.end <= original.len(),
                "{m:?} out of bounds"
            );
            assert!(original.is_char_boundary(m.start) && original.is_char_boundary(m.end));
            assert!(m.start < m.end, "{m:?} produced by no original bytes");
            assert!(
                m.start >= previous.0 && m.end >= previous.1,
                "{m:?} goes back"
            );
            previous = (m.start, m.end);
        }
    }
}
