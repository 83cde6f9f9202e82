//! The result of normalization: the normalized string together with a map from each of its
//! characters back to the bytes of the original text that produced it, so that a match found
//! in normalized text is reported where the user wrote it.

use std::ops::Range;

use super::normalizer::MappedChar;

/// Normalized text that remembers where each of its characters came from in the original.
///
/// Built by [`super::normalize`]. Matching runs on [`as_str`](Self::as_str); spans reported to
/// clients come from [`original_range`](Self::original_range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedText {
    original: String,
    text: String,
    /// Where the characters of `text` came from, a stretch at a time, in text order.
    origins: Vec<Origin>,
}

/// Where a stretch of normalized characters came from: from `at` to the next stretch (or the
/// end of the text), normalized from the original bytes `start..end`.
///
/// Most characters are written as they were, or in another case of the same length (a
/// lower-case letter, a simplified character): each normalized byte then stands where its
/// original byte stood, shifted by the same amount, and a stretch holds a whole run of them
/// (its length in both texts the same, `end - start`). Any other character (collapsed
/// whitespace, `&` as ` and `, a full-width letter, what NFKC rewrites) is a stretch of its
/// own, whatever its lengths. One record per stretch, where there was one per character:
/// an article's origins took as much writing as its text.
///
/// Both `start` and `end` never decrease along the stretches (the pipeline keeps characters
/// in order), and the record is the same for any way the characters were pushed, so two texts
/// compare equal exactly when every character's origin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    /// Byte offset of the stretch in the normalized text.
    at: usize,
    start: usize,
    end: usize,
}

/// A [`NormalizedText`] being written one character at a time.
#[derive(Debug)]
pub(crate) struct Builder {
    text: String,
    origins: Vec<Origin>,
    /// Where the last stretch's original bytes end when its characters were all written as
    /// they were, so that the next such character from right there extends it; [`NO_STRETCH`]
    /// when there is no stretch yet or the last is a character of its own.
    extends_from: usize,
}

/// [`Builder::extends_from`] when no character extends the last stretch.
const NO_STRETCH: usize = usize::MAX;

impl Builder {
    /// Room for about `chars` characters.
    pub(crate) fn with_capacity(chars: usize) -> Self {
        Builder {
            text: String::with_capacity(chars),
            origins: Vec::new(),
            extends_from: NO_STRETCH,
        }
    }

    /// Appends `ch`, produced by the original bytes `start..end`.
    #[inline]
    pub(crate) fn push(&mut self, ch: char, start: usize, end: usize) {
        let at = self.text.len();
        self.text.push(ch);
        self.record(at, start, end, end.wrapping_sub(start) == ch.len_utf8());
    }

    /// Appends the lower case of `run`, ASCII letters and digits at original byte `start`, each
    /// from its own byte: what [`push`](Self::push) of each would do, at once.
    pub(crate) fn push_ascii_lowercase(&mut self, run: &str, start: usize) {
        let at = self.text.len();
        self.text.push_str(run);
        self.text[at..].make_ascii_lowercase();
        self.record(at, start, start + run.len(), true);
    }

    /// Appends `run` as it is, at original byte `start`: what [`push`](Self::push) of each of
    /// its characters would do, at once.
    pub(crate) fn push_as_written(&mut self, run: &str, start: usize) {
        let at = self.text.len();
        self.text.push_str(run);
        self.record(at, start, start + run.len(), true);
    }

    /// Records that the text from byte `at` on came from the original bytes `start..end`,
    /// written as it was (`as_written`: each byte where its original stood) or not.
    #[inline]
    fn record(&mut self, at: usize, start: usize, end: usize, as_written: bool) {
        match self.origins.last_mut() {
            // Nearly every character: written as it was, right after the last one.
            Some(last) if as_written && start == self.extends_from => last.end = end,
            _ => self.origins.push(Origin { at, start, end }),
        }
        self.extends_from = if as_written { end } else { NO_STRETCH };
    }

    /// Whether nothing has been written yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The result, whose origins are byte ranges of `original`.
    pub(crate) fn finish(self, original: String) -> NormalizedText {
        NormalizedText {
            original,
            text: self.text,
            origins: self.origins,
        }
    }
}

impl NormalizedText {
    /// Assembles the result of the pipeline; `chars` carry byte ranges of `original`.
    pub(crate) fn new(original: String, chars: &[MappedChar]) -> Self {
        let mut builder = Builder::with_capacity(chars.len());
        for m in chars {
            builder.push(m.ch, m.start, m.end);
        }
        builder.finish(original)
    }

    /// The normalized text: what keys are made of and what matching runs on.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text as it was given to [`super::normalize`], which every reported span refers to.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Maps a byte range of the normalized text to the smallest byte range of the original text
    /// that produced it.
    ///
    /// The result is always on char boundaries of the original and within
    /// `0..=original().len()`. An empty range maps to an empty range just before the original
    /// of the character that follows it, or just after the original of the last character when
    /// at the end. The range should lie on char boundaries of the normalized text; if it does
    /// not, it is widened to whole characters, and ends past the text are clamped, so no input
    /// panics.
    ///
    /// Characters that disappeared in normalization (zero-width spaces, stress marks, trimmed
    /// spaces) belong to no normalized character, so a range never starts or ends on them: the
    /// range of a word is the word as written, without the space or mark around it.
    ///
    /// ```
    /// use tolmach::text::normalize;
    ///
    /// let text = normalize("Belt & Road");
    /// assert_eq!(text.as_str(), "belt and road");
    /// // Each character of `and` comes from the `&`.
    /// assert_eq!(text.original_range(5..8), 5..6);
    /// assert_eq!(text.original_range(6..7), 5..6);
    /// ```
    pub fn original_range(&self, normalized: Range<usize>) -> Range<usize> {
        let end = normalized.end.min(self.text.len());
        let start = normalized.start.min(end);
        if start == end {
            let position = if start == self.text.len() {
                self.origins.last().map_or(0, |o| o.end)
            } else {
                self.origin_of_char_at(start).start
            };
            return position..position;
        }
        let first = self.origin_of_char_at(start);
        let last = self.origin_of_char_at(end - 1);
        first.start..last.end.max(first.start)
    }

    /// The original bytes of the character of the normalized text that holds byte `at`
    /// (`0..0` past the text, never reached by the callers).
    fn origin_of_char_at(&self, at: usize) -> Range<usize> {
        let stretch = self
            .origins
            .partition_point(|o| o.at <= at)
            .saturating_sub(1);
        let Some(origin) = self.origins.get(stretch) else {
            return 0..0;
        };
        let stretch_end = self
            .origins
            .get(stretch + 1)
            .map_or(self.text.len(), |o| o.at);
        if origin.end.checked_sub(origin.start) != Some(stretch_end - origin.at) {
            // A character of its own.
            return origin.start..origin.end;
        }
        let mut char_start = at.min(stretch_end);
        while !self.text.is_char_boundary(char_start) {
            char_start -= 1;
        }
        let char_len = self.text[char_start..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        let from = origin.start + (char_start - origin.at);
        from..from + char_len
    }

    /// Whether byte `at` of the normalized text falls between the normalized forms of two
    /// original characters, rather than inside what one original character became.
    ///
    /// One character can normalize to several (`㍻` to `平成`, `&` to ` and `); a match that
    /// starts or ends inside such a group covers only part of a character as written, so it is
    /// not in the text. The ends of the text and positions off a character boundary answer
    /// `true` and `false` respectively.
    ///
    /// ```
    /// use tolmach::text::normalize;
    ///
    /// let text = normalize("地区和㍻");
    /// assert_eq!(text.as_str(), "地区和平成");
    /// assert!(text.is_boundary("地区和".len()));
    /// assert!(!text.is_boundary("地区和平".len()));
    /// ```
    pub fn is_boundary(&self, at: usize) -> bool {
        if at == 0 || at >= self.text.len() {
            return at <= self.text.len();
        }
        if !self.text.is_char_boundary(at) {
            return false;
        }
        // Inside a stretch, each character came from the original character after the one
        // before; at a stretch's start, it must not come from the one before.
        let stretch = self.origins.partition_point(|o| o.at < at);
        let before = stretch.checked_sub(1).and_then(|i| self.origins.get(i));
        match (before, self.origins.get(stretch)) {
            (Some(before), Some(here)) if here.at == at => here.start >= before.end,
            (Some(_), _) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::text::normalize;

    #[test]
    fn full_width_word_maps_to_its_full_width_bytes() {
        let input = "«ＳＣＯ»  Summit";
        let text = normalize(input);
        assert_eq!(text.as_str(), "\"sco\" summit");
        assert_eq!(text.original(), input);
        let sco = text.as_str().find("sco").unwrap_or_default();
        let original = text.original_range(sco..sco + 3);
        assert_eq!(&input[original], "ＳＣＯ");
        let summit = text.as_str().find("summit").unwrap_or_default();
        assert_eq!(&input[text.original_range(summit..summit + 6)], "Summit");
        // The collapsed space maps to both spaces, the quote to the guillemet.
        assert_eq!(&input[text.original_range(5..6)], "  ");
        assert_eq!(&input[text.original_range(4..5)], "»");
        assert_eq!(text.original_range(0..text.as_str().len()), 0..input.len());
    }

    #[test]
    fn stressed_word_maps_to_the_word_with_its_stress_mark() {
        let input = "Шанха\u{301}йский дух";
        let text = normalize(input);
        assert_eq!(text.as_str(), "шанхайский дух");
        let word = "шанхайский".len();
        assert_eq!(&input[text.original_range(0..word)], "Шанха\u{301}йский");
        let dukh = text.as_str().find("дух").unwrap_or_default();
        assert_eq!(
            &input[text.original_range(dukh..text.as_str().len())],
            "дух"
        );
    }

    #[test]
    fn traditional_characters_map_to_themselves() {
        let input = "上海合作組織峰會";
        let text = normalize(input);
        assert_eq!(text.as_str(), "上海合作组织峰会");
        let zuzhi = text.as_str().find("组织").unwrap_or_default();
        assert_eq!(&input[text.original_range(zuzhi..zuzhi + 6)], "組織");
    }

    #[test]
    fn empty_ranges_map_to_the_matching_place() {
        let input = "  a\u{200B}b  ";
        let text = normalize(input);
        assert_eq!(text.as_str(), "ab");
        assert_eq!(text.original_range(0..0), 2..2);
        // Between `a` and `b`: just before `b`, after the zero-width space.
        assert_eq!(text.original_range(1..1), 6..6);
        // At the end: just after `b`, before the trimmed spaces.
        assert_eq!(text.original_range(2..2), 7..7);
        assert_eq!(&input[text.original_range(0..2)], "a\u{200B}b");
    }

    #[test]
    fn text_that_normalizes_to_nothing_maps_to_the_start() {
        let text = normalize(" \u{200B}\t");
        assert_eq!(text.as_str(), "");
        assert_eq!(text.original_range(0..0), 0..0);
        assert_eq!(text.original_range(0..5), 0..0);
    }

    #[test]
    fn ranges_off_char_boundaries_or_past_the_end_do_not_panic() {
        let input = "Шёлк";
        let text = normalize(input);
        assert_eq!(text.as_str(), "шелк");
        // Byte 1 is inside `ш`: widened to the whole character.
        assert_eq!(text.original_range(1..2), 0..2);
        assert_eq!(text.original_range(3..100), 2..input.len());
        assert_eq!(text.original_range(100..200), input.len()..input.len());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = text.original_range(4..2);
        assert_eq!(reversed, 2..2);
    }
}
