//! The pipeline's result in one pass, for text made only of characters whose every step is a
//! fixed rewrite of the character alone: ASCII, basic Cyrillic, common CJK ideographs, the
//! quotes, dashes and spaces the steps unify, the ellipsis, `№` and full-width ASCII. Such text is nearly all
//! running text, and the general pipeline spends most of its time copying a vector of
//! characters with their origins from one step to the next; here each character is looked up
//! once and written straight into the result, and only the steps that need context are kept
//! as state (runs of whitespace, runs of Chinese characters, the scripts of the current word).
//!
//! Text with any other character, or with a word mixing Latin and Cyrillic letters (the
//! lookalike step's business), is declined: [`normalize`](super::normalize) then runs the
//! general pipeline, which stays the reference. The tests of `super::tests` check that both
//! give the same text and origins for every input.

use super::char_class::{is_alphabetic, is_russian_letter};
use super::hant_to_hans::RunConverter;
use super::offsets::Builder;

/// Where the fast path writes its characters: a plain key, or a text with its origins.
pub(super) trait Sink {
    /// Appends `ch`, produced by the original bytes `start..end`.
    fn push(&mut self, ch: char, start: usize, end: usize);
    /// Appends the lower case of `run`, ASCII letters and digits at original byte `start`,
    /// each from its own byte.
    fn push_ascii_lowercase(&mut self, run: &str, start: usize);
    /// Appends `run` as it is, at original byte `start`.
    fn push_as_written(&mut self, run: &str, start: usize);
    /// Whether nothing has been written yet.
    fn is_empty(&self) -> bool;
}

impl Sink for String {
    fn push(&mut self, ch: char, _start: usize, _end: usize) {
        String::push(self, ch);
    }
    fn push_ascii_lowercase(&mut self, run: &str, _start: usize) {
        let at = self.len();
        self.push_str(run);
        self[at..].make_ascii_lowercase();
    }
    fn push_as_written(&mut self, run: &str, _start: usize) {
        self.push_str(run);
    }
    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
}

impl Sink for Builder {
    fn push(&mut self, ch: char, start: usize, end: usize) {
        Builder::push(self, ch, start, end);
    }
    fn push_ascii_lowercase(&mut self, run: &str, start: usize) {
        Builder::push_ascii_lowercase(self, run, start);
    }
    fn push_as_written(&mut self, run: &str, start: usize) {
        Builder::push_as_written(self, run, start);
    }
    fn is_empty(&self) -> bool {
        Builder::is_empty(self)
    }
}

/// What the character-by-character steps (NFKC, ignorables, case, `ё`, punctuation, `&`)
/// make of one character, for the characters the fast path takes.
#[derive(Clone, Copy)]
enum Class {
    /// One piece.
    One(Piece),
    /// Several ASCII characters, each from the whole character: `&` becomes ` and `, `…`
    /// three full stops.
    Several(&'static str),
}

/// One character of the result, or whitespace. Eight bytes, passed in a register: the pass
/// takes one per character of the text.
#[derive(Clone, Copy)]
enum Piece {
    /// One character that is neither whitespace nor Han.
    Char(char),
    /// Whitespace, which the last step collapses.
    Space,
    /// A CJK ideograph, converted to simplified Chinese with the run it stands in.
    Han(char),
}

/// The class of an ASCII character (also of what NFKC makes of a full-width one).
#[inline]
fn ascii_class(c: char) -> Class {
    match c {
        '&' => Class::Several(" and "),
        c => Class::One(ascii_piece(c)),
    }
}

/// The piece an ASCII character other than `&` is.
#[inline]
fn ascii_piece(c: char) -> Piece {
    match c {
        ' ' | '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' => Piece::Space,
        c => Piece::Char(c.to_ascii_lowercase()),
    }
}

/// The class of `c`, or `None` for a character the fast path leaves to the pipeline.
#[inline]
fn class(c: char) -> Option<Class> {
    if c.is_ascii() {
        return Some(ascii_class(c));
    }
    Some(match c {
        'а'..='я' => Class::One(Piece::Char(c)),
        // А–Я: their lower case is 32 code points on.
        'А'..='Я' => Class::One(Piece::Char(char::from_u32(c as u32 + 32)?)),
        'ё' | 'Ё' => Class::One(Piece::Char('е')),
        c if is_plain_ideograph(c) => Class::One(Piece::Han(c)),
        '\u{3001}' | '\u{3002}' | '\u{300A}' | '\u{300B}' => Class::One(Piece::Char(c)), // 、。《》
        '\u{85}'
        | '\u{A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => Class::One(Piece::Space),
        '«' | '»' | '“' | '”' | '„' | '‟' | '「' | '」' | '『' | '』' | '‹' | '›' => {
            Class::One(Piece::Char('"'))
        }
        '‘' | '’' | '‚' | '‛' => Class::One(Piece::Char('\'')),
        '—' | '–' | '‐' | '‑' | '‒' | '―' | '−' | '﹘' | '﹣' => {
            Class::One(Piece::Char('-'))
        }
        '…' => Class::Several("..."),
        '№' => Class::Several("no"),
        // Full-width ASCII: NFKC gives the ASCII character.
        '\u{FF01}'..='\u{FF5E}' => ascii_class(char::from_u32(c as u32 - 0xFEE0)?),
        _ => return None,
    })
}

/// Whether `c` is a CJK unified ideograph of the basic block or extension A: a Chinese
/// character that NFKC leaves alone and that stands in a word-break segment of its own. The
/// fast paths of normalization and tokenization take these; rarer Han characters go the
/// general way.
pub(super) fn is_plain_ideograph(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Whether `c` is a CJK unified ideograph, plain or of the extensions beyond the basic plane
/// (B to I, G and H): each stands in a word-break segment of its own too. Converting
/// traditional characters to simplified gives a few of those (嗰 → 𠮶, 勣 → 𪟝), and a rare
/// one of them in an article must not send the whole text the general way.
pub(super) fn is_unified_ideograph(c: char) -> bool {
    is_plain_ideograph(c)
        || matches!(
            c,
            '\u{20000}'..='\u{2A6DF}' | '\u{2A700}'..='\u{2EE5F}' | '\u{30000}'..='\u{323AF}'
        )
}

/// The pipeline's state between characters.
struct Pass<'s, S: Sink> {
    sink: &'s mut S,
    /// The whitespace run not yet written: its original bytes.
    space: Option<(usize, usize)>,
    /// The run of Chinese characters not yet converted, with their original bytes.
    han: Vec<(char, usize, usize)>,
    /// Whether the current word has Latin letters, and whether it has Cyrillic ones.
    word: (bool, bool),
    /// The traditional → simplified conversion of runs, and its output for the current run
    /// (each character with the position of the run's character it comes from).
    runs: RunConverter<'static>,
    converted: Vec<(usize, char)>,
}

/// The fast path gave up: the text holds what only the general pipeline handles.
struct Declined;

impl<S: Sink> Pass<'_, S> {
    /// Takes what the character at original bytes `start..end` is.
    fn take(&mut self, class: Class, start: usize, end: usize) -> Result<(), Declined> {
        match class {
            Class::One(piece) => self.take_piece(piece, start, end),
            Class::Several(chars) => chars
                .chars()
                .try_for_each(|c| self.take_piece(ascii_piece(c), start, end)),
        }
    }

    /// Takes one piece of what the character at original bytes `start..end` is.
    #[inline]
    fn take_piece(&mut self, piece: Piece, start: usize, end: usize) -> Result<(), Declined> {
        match piece {
            Piece::Space => {
                self.word = (false, false);
                self.space = Some(match self.space {
                    Some((first, _)) => (first, end),
                    None => (start, end),
                });
            }
            Piece::Han(c) => {
                self.word = (false, false);
                // Whitespace between two Chinese characters disappears, and the run goes on.
                if self.han.is_empty() {
                    self.write_space();
                } else {
                    self.space = None;
                }
                self.han.push((c, start, end));
            }
            Piece::Char(c) => {
                if is_alphabetic(c) {
                    let latin = c.is_ascii();
                    self.word.0 |= latin;
                    self.word.1 |= !latin;
                    if self.word == (true, true) {
                        return Err(Declined);
                    }
                } else {
                    self.word = (false, false);
                }
                if !self.han.is_empty() {
                    self.flush_han()?;
                }
                self.write_space();
                self.sink.push(c, start, end);
            }
        }
        Ok(())
    }

    /// Writes the pending whitespace run as one space, unless it leads the text.
    #[inline]
    fn write_space(&mut self) {
        if let Some((start, end)) = self.space.take() {
            if !self.sink.is_empty() {
                self.sink.push(' ', start, end);
            }
        }
    }

    /// Writes the pending run of Chinese characters in simplified Chinese.
    fn flush_han(&mut self) -> Result<(), Declined> {
        if self.han.is_empty() {
            return Ok(());
        }
        let converted = &mut self.converted;
        converted.clear();
        let changed = self
            .runs
            .convert(self.han.iter().map(|h| h.0), |i, c| converted.push((i, c)));
        if changed {
            if !converted.iter().all(|&(_, c)| is_unified_ideograph(c)) {
                return Err(Declined);
            }
            for &(i, c) in converted.iter() {
                let (_, start, end) = self.han[i];
                self.sink.push(c, start, end);
            }
        } else {
            for &(c, start, end) in &self.han {
                self.sink.push(c, start, end);
            }
        }
        self.han.clear();
        Ok(())
    }
}

/// Writes what the pipeline makes of `input` into `sink` and answers `true`, or answers
/// `false` when `input` holds something only the general pipeline handles (`sink` is then
/// left half-written).
pub(super) fn normalize_into(input: &str, sink: &mut impl Sink) -> bool {
    let mut pass = Pass {
        sink,
        space: None,
        han: Vec::new(),
        word: (false, false),
        runs: RunConverter::new(),
        converted: Vec::new(),
    };
    pass.take_all(input).is_ok() && pass.flush_han().is_ok()
}

impl<S: Sink> Pass<'_, S> {
    /// Takes every character of `input`.
    fn take_all(&mut self, input: &str) -> Result<(), Declined> {
        // Where the characters left in `chars` start in `input`.
        let mut base = 0;
        let mut chars = input.char_indices();
        while let Some((offset, c)) = chars.next() {
            let start = base + offset;
            let end = start + c.len_utf8();
            self.take(class(c).ok_or(Declined)?, start, end)?;
            let rest = chars.as_str();
            let run = if c.is_ascii_alphanumeric() {
                let run = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
                self.take_ascii_alphanumeric(&rest[..run], end);
                run
            } else if is_russian_letter(c) {
                let run = lower_cyrillic_run(rest);
                // Nothing is pending after the first letter, and the word is Cyrillic
                // already: each of these letters is written as it is.
                self.sink.push_as_written(&rest[..run], end);
                run
            } else {
                0
            };
            if run > 0 {
                base = end + run;
                chars = rest[run..].char_indices();
            }
        }
        Ok(())
    }

    /// Takes the rest of a run of ASCII letters and digits at original byte `start`, after
    /// its first character: nothing is pending (that character wrote the space and the
    /// Chinese run before it), no word of it mixes scripts (the first character would have
    /// declined a Cyrillic word), and each character is its own lower case. Most of an
    /// English text goes this way, without the steps of a character at a time.
    fn take_ascii_alphanumeric(&mut self, run: &str, start: usize) {
        if run.is_empty() {
            return;
        }
        self.sink.push_ascii_lowercase(run, start);
        let last_is_letter = run.as_bytes().last().is_some_and(u8::is_ascii_alphabetic);
        self.word = (last_is_letter, false);
    }
}

/// The length in bytes of the run of lower-case letters а to я (ё not among them) that
/// `text` starts with: the letters that are their own normalization. Most of a Russian
/// text goes this way, two bytes at a time, without the steps of a character at a time.
fn lower_cyrillic_run(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    // а–п are D0 B0 to D0 BF in UTF-8, р–я D1 80 to D1 8F.
    while let [lead, next, ..] = bytes[at..] {
        let lower = matches!((lead, next), (0xD0, 0xB0..=0xBF) | (0xD1, 0x80..=0x8F));
        if !lower {
            break;
        }
        at += 2;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::{class, lower_cyrillic_run, normalize_into};
    use crate::text::{offsets::Builder, reference_key, reference_normalize};

    /// A traditional character whose simplified form lies beyond the basic plane (嗰 → 𠮶)
    /// keeps the text on the fast path, and the result is the pipeline's.
    #[test]
    fn a_simplified_form_beyond_the_basic_plane_stays_on_the_fast_path() {
        let text = "在嗰框架 下，勣 功";
        let mut key = String::new();
        assert!(normalize_into(text, &mut key));
        assert_eq!(key, reference_key(text));
        assert!(key.contains('𠮶'));
    }

    /// The run of lower-case Russian letters is exactly the letters а to я, whatever
    /// follows them.
    #[test]
    fn a_lower_case_russian_run_is_the_letters_a_to_ya() {
        let lower: String = ('а'..='я').collect();
        assert_eq!(lower_cyrillic_run(&lower), lower.len());
        for after in ['ё', 'Я', 'ѐ', 'ѓ', 'Ͽ', 'a', ' ', '\u{0301}'] {
            let text = format!("дух{after}а");
            assert_eq!(lower_cyrillic_run(&text), "дух".len(), "{text:?}");
        }
        assert_eq!(lower_cyrillic_run(""), 0);
    }

    /// Every character the fast path takes, alone and between neighbours of each kind, gives
    /// what the pipeline gives.
    #[test]
    fn every_character_taken_agrees_with_the_pipeline() {
        let taken: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| class(c).is_some())
            .collect();
        assert!(taken.len() > 20_000);
        for c in taken {
            for context in ["", "a", "ж", "中", " ", "&", "。", "1"] {
                let text = format!("{context}{c}{context}");
                let mut key = String::new();
                if normalize_into(&text, &mut key) {
                    assert_eq!(key, reference_key(&text), "{text:?}");
                }
                let mut builder = Builder::with_capacity(text.len());
                if normalize_into(&text, &mut builder) {
                    assert_eq!(
                        builder.finish(text.clone()),
                        reference_normalize(&text),
                        "{text:?}"
                    );
                }
            }
        }
    }
}
