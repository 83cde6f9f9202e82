//! Tokens of normalized text: words with their stems (see [`super::stem`]), numbers, and single Han
//! characters. Stems let «Шанхайского духа» meet «Шанхайский дух» and `Silk Roads` meet
//! `silk road`; single Han characters are the units Chinese matching is built from.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::char_class::{is_alphanumeric, is_russian_letter};
use super::fast_path::is_unified_ideograph;
use super::script::is_han;
use super::stem::stem;

/// A word token of normalized text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// The token as it appears in the normalized text, for exact matching.
    pub text: String,
    /// The [`stem`] of Cyrillic and Latin words, else the text itself: for matching
    /// across inflections.
    pub stem: String,
    /// Byte range in the normalized text, to map back with
    /// [`NormalizedText::original_range`](super::NormalizedText::original_range).
    pub range: Range<usize>,
    /// What the token is, since matching treats each kind differently.
    pub kind: TokenKind,
}

/// What a [`Token`] is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// One Han character: Chinese has no spaces, so every character is a token of its own.
    Han,
    /// A word of Cyrillic, Latin or other letters (digits may be mixed in).
    Word,
    /// Digits only, possibly with the separators UAX #29 keeps inside numbers (`3.14`,
    /// `1,000`); candidates for placeholders rather than words to translate.
    Number,
}

/// Splits normalized text into tokens, in text order.
///
/// Alphabetic scripts are split at UAX #29 word boundaries, so `format` stays one word and
/// `initiative's` keeps its apostrophe for the stemmer; every Han character is a token of its
/// own; punctuation, symbols and spaces are not tokens. Words are stemmed by their own script
/// (see [`stem`]), not by a language parameter, so mixed text works.
///
/// Expects the output of [`super::normalize`]: the stemmers want lower case.
///
/// ```
/// use tolmach::text::{normalize_key, tokenize, TokenKind};
///
/// let tokens = tokenize(&normalize_key("Шанхайского духа"));
/// let stems: Vec<_> = tokens.iter().map(|t| t.stem.as_str()).collect();
/// assert_eq!(stems, ["шанхайск", "дух"]);
///
/// let tokens = tokenize("一带一路倡议");
/// assert_eq!(tokens.len(), 6);
/// assert!(tokens.iter().all(|t| t.kind == TokenKind::Han));
/// ```
pub fn tokenize(normalized: &str) -> Vec<Token> {
    tokenize_borrowed(normalized)
        .into_iter()
        .map(|token| Token {
            text: normalized[token.range.clone()].to_owned(),
            stem: token.stem.into_owned(),
            range: token.range,
            kind: token.kind,
        })
        .collect()
}

/// A token of [`tokenize`] that borrows from the text it was cut from: no string of its own
/// unless its stem is not a slice of the word, so that a scan of a whole text does not
/// allocate twice per word (and never for a Han character).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenRef<'a> {
    /// As [`Token::stem`].
    pub stem: Cow<'a, str>,
    /// As [`Token::range`].
    pub range: Range<usize>,
    /// As [`Token::kind`].
    pub kind: TokenKind,
}

impl Token {
    /// The token as a [`TokenRef`] borrowing its stem.
    pub fn borrowed(&self) -> TokenRef<'_> {
        TokenRef {
            stem: Cow::Borrowed(&self.stem),
            range: self.range.clone(),
            kind: self.kind,
        }
    }
}

/// The tokens of [`tokenize`], borrowing from `normalized`.
///
/// The text is cut at its spaces into stretches that UAX #29 splits the same way on their
/// own (see `stretch_end`). A stretch of common characters (see `plain_class`) is split
/// by `plain_segments`, which applies the standard's rules for those characters directly;
/// any other stretch by the full segmentation.
pub fn tokenize_borrowed(normalized: &str) -> Vec<TokenRef<'_>> {
    tokens_of(normalized, true).0
}

/// The words and numbers of a text: its tokens less the Han ones, which are all that stem
/// matching reads (a Chinese term has no stems). Nearly every token of Chinese text is one
/// character, and making each one only for it to be skipped cost Recognize a fifth of its time
/// on a Chinese article.
///
/// Each token also names its word among the text's distinct words, so that a caller looking
/// up every word's stem in tables (Recognize, once per index layer) does so once per distinct
/// word, without hashing the words again.
#[derive(Debug)]
pub struct Words<'a> {
    /// The tokens, in text order.
    pub tokens: Vec<TokenRef<'a>>,
    /// The stem of each distinct word, in the order first met (words may share a stem:
    /// `road`, `roads`). In a short text every token counts as a word of its own.
    pub stems: Vec<Cow<'a, str>>,
    /// For each token, the position of its word in `stems`.
    pub word_of_token: Vec<u32>,
}

/// The [`Words`] of `normalized`.
pub fn words(normalized: &str) -> Words<'_> {
    let (tokens, stems) = tokens_of(normalized, false);
    Words {
        tokens,
        stems: stems.distinct,
        word_of_token: stems.of_token,
    }
}

/// The tokens of `normalized`, Han ones included when `with_han` is set, and the stems of its
/// distinct words, which the Han ones are not among.
fn tokens_of(normalized: &str, with_han: bool) -> (Vec<TokenRef<'_>>, Stems<'_>) {
    let mut tokens = Vec::new();
    let mut classes = Vec::new();
    let mut stems = Stems::for_text(normalized);
    let mut start = 0;
    while start < normalized.len() {
        let (end, next) = stretch_end(normalized, start);
        let stretch = &normalized[start..end];
        let plain = plain_segments(stretch, &mut classes, with_han, |range, made| {
            let range = start + range.start..start + range.end;
            add_segment(normalized, range, made, with_han, &mut stems, &mut tokens);
        });
        if !plain {
            for (at, segment) in stretch.split_word_bound_indices() {
                let range = start + at..start + at + segment.len();
                let made = Made::of(segment);
                add_segment(normalized, range, made, with_han, &mut stems, &mut tokens);
            }
        }
        start = next;
    }
    (tokens, stems)
}

/// The stems of the words of one text. Running text repeats its words (the, of, и, в, and a
/// news article its names), and stemming a word costs more than finding it again: the words
/// of a long text are stemmed once each.
struct Stems<'a> {
    /// The position in `distinct` of each word met so far; none for a short text, where few
    /// words repeat.
    seen: Option<HashMap<&'a str, u32, foldhash::fast::RandomState>>,
    /// The stem of each distinct word (of each token, in a short text).
    distinct: Vec<Cow<'a, str>>,
    /// For each word or number token so far, the position of its word in `distinct`.
    of_token: Vec<u32>,
}

/// Texts at least this long remember their stems: a query or a term is a few words.
const REMEMBERED_FROM_BYTES: usize = 256;

impl<'a> Stems<'a> {
    /// The stems of `text`'s words, remembered when it is long.
    fn for_text(text: &str) -> Stems<'a> {
        Stems {
            seen: (text.len() >= REMEMBERED_FROM_BYTES).then(HashMap::default),
            distinct: Vec::new(),
            of_token: Vec::new(),
        }
    }

    /// Records a token of `word`, whose stem is `stem_of(word)` wherever it is written, and
    /// answers its stem.
    fn of(&mut self, word: &'a str, stem_of: impl FnOnce(&'a str) -> Cow<'a, str>) -> Cow<'a, str> {
        let Stems {
            seen,
            distinct,
            of_token,
        } = self;
        let add = || {
            distinct.push(stem_of(word));
            distinct.len() as u32 - 1
        };
        let at = match seen {
            None => add(),
            Some(seen) => *seen.entry(word).or_insert_with(add),
        };
        of_token.push(at);
        distinct[at as usize].clone()
    }

    /// Records a token whose stem is `stem` here, whatever its word is elsewhere (an ordinal
    /// ending), and answers the stem.
    fn unremembered(&mut self, stem: &'a str) -> Cow<'a, str> {
        self.distinct.push(Cow::Borrowed(stem));
        self.of_token.push(self.distinct.len() as u32 - 1);
        Cow::Borrowed(stem)
    }
}

/// What a segment of text is made of, as far as tokens go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Made {
    /// Han characters (UAX #29 puts each in a segment of its own, perhaps with marks).
    Han,
    /// A letter at least: a word.
    Word,
    /// Digits and no letter: a number.
    Number,
    /// Neither letter nor digit: no token.
    Nothing,
}

impl Made {
    /// What a segment of `normalized` is made of, read from its characters.
    fn of(segment: &str) -> Made {
        if segment.chars().any(is_han) {
            return Made::Han;
        }
        let mut alphanumeric = segment.chars().filter(|&c| is_alphanumeric(c)).peekable();
        if alphanumeric.peek().is_none() {
            Made::Nothing
        } else if alphanumeric.all(char::is_numeric) {
            Made::Number
        } else {
            Made::Word
        }
    }

    /// What a run of plain characters is made of once it takes one more of `class`.
    fn with(self, class: Plain) -> Made {
        match (self, class) {
            (_, Plain::Letter) => Made::Word,
            (Made::Nothing, Plain::Digit) => Made::Number,
            (made, _) => made,
        }
    }
}

/// Adds the tokens of one UAX #29 segment of `normalized` made as `made` says: each Han
/// character (when `with_han` is set), or the segment as a word or a number.
///
/// Leaving Han tokens out changes no other token: the only one that looks at the tokens
/// before it is an ordinal ending, which must follow a number and a hyphen with nothing
/// between, so never a Han character.
fn add_segment<'a>(
    normalized: &'a str,
    range: Range<usize>,
    made: Made,
    with_han: bool,
    stems: &mut Stems<'a>,
    tokens: &mut Vec<TokenRef<'a>>,
) {
    let (offset, segment) = (range.start, &normalized[range]);
    let (kind, stem) = match made {
        Made::Nothing => return,
        Made::Han => {
            if with_han {
                for (at, c) in segment.char_indices().filter(|&(_, c)| is_han(c)) {
                    let range = offset + at..offset + at + c.len_utf8();
                    tokens.push(TokenRef {
                        stem: Cow::Borrowed(&normalized[range.clone()]),
                        range,
                        kind: TokenKind::Han,
                    });
                }
            }
            return;
        }
        Made::Number => (TokenKind::Number, stems.of(segment, Cow::Borrowed)),
        Made::Word
            if is_ordinal_ending(segment) && follows_number(tokens, &normalized[..offset]) =>
        {
            (TokenKind::Word, stems.unremembered(ORDINAL_ENDING_STEM))
        }
        Made::Word => (TokenKind::Word, stems.of(segment, stem)),
    };
    tokens.push(TokenRef {
        stem,
        range: offset..offset + segment.len(),
        kind,
    });
}

/// Where the stretch of `text` starting at `start` ends, and where the next one starts: at
/// the first run of spaces followed by a [`plain_class`] character or by the end of the text.
///
/// UAX #29 always breaks before a space, and after a run of spaces unless a mark, a format
/// character or another kind of space follows, which no plain character is; its other rules
/// look past the neighbouring character only between letters or digits. So a stretch splits
/// the same alone as inside the text, and the spaces between stretches hold no token.
fn stretch_end(text: &str, start: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut from = start;
    while let Some(found) = bytes[from..].iter().position(|&b| b == b' ') {
        let space = from + found;
        let after = space + bytes[space..].iter().take_while(|&&b| b == b' ').count();
        let next = text[after..].chars().next();
        if next.is_none_or(|c| plain_class(c).is_some()) {
            return (space, after);
        }
        from = after;
    }
    (text.len(), text.len())
}

/// The UAX #29 word-break property of the characters that most text is made of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Plain {
    /// ALetter: Latin and Cyrillic letters.
    Letter,
    /// Numeric.
    Digit,
    /// ExtendNumLet: `_`, which joins letters and digits.
    Underscore,
    /// MidLetter: `:` between letters.
    MidLetter,
    /// MidNumLet and Single_Quote: `.` and `'` between letters or between digits.
    MidNumLet,
    /// MidNum: `,` and `;` between digits.
    MidNum,
    /// A CJK ideograph, a segment of its own.
    Han,
    /// Anything else here (other ASCII, Chinese full stop and comma, book title marks): a
    /// segment of its own, never a token.
    Other,
}

/// The word-break property of `c` if it is a plain character (never a space).
fn plain_class(c: char) -> Option<Plain> {
    if c.is_ascii() {
        return ASCII_CLASSES[c as usize];
    }
    Some(match c {
        c if is_russian_letter(c) => Plain::Letter,
        c if is_unified_ideograph(c) => Plain::Han,
        '\u{3001}' | '\u{3002}' | '\u{300A}' | '\u{300B}' => Plain::Other,
        _ => return None,
    })
}

/// [`plain_class`] of each ASCII character, looked up rather than matched: most characters
/// of Russian and English text are ASCII, and the chain of ranges cost a fifth of the
/// tokenizer's time on them.
const ASCII_CLASSES: [Option<Plain>; 128] = {
    let mut classes = [None; 128];
    let mut byte = 0;
    while byte < classes.len() {
        classes[byte] = match byte as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Some(Plain::Letter),
            b'0'..=b'9' => Some(Plain::Digit),
            b'_' => Some(Plain::Underscore),
            b':' => Some(Plain::MidLetter),
            b'.' | b'\'' => Some(Plain::MidNumLet),
            b',' | b';' => Some(Plain::MidNum),
            b' ' => None,
            _ => Some(Plain::Other),
        };
        byte += 1;
    }
    classes
};

/// Calls `segment` with the range of every UAX #29 segment of `stretch` that can hold a
/// token (runs of letters, digits and what joins them; single ideographs, when `with_han` is
/// set) and what it is made of, and answers `true`, or answers `false` at once when
/// `stretch` has a character that is not plain. `classes` is working space.
fn plain_segments(
    stretch: &str,
    classes: &mut Vec<(usize, Plain)>,
    with_han: bool,
    segment: impl FnMut(Range<usize>, Made),
) -> bool {
    if stretch.is_ascii() {
        // Each byte is a character, its class looked up where the rules ask for it: most
        // stretches of Russian and English text are ASCII.
        let bytes = stretch.as_bytes();
        let class_at = |i: usize| {
            bytes
                .get(i)
                .and_then(|&b| Some((i, ASCII_CLASSES[b as usize]?)))
        };
        if bytes.iter().any(|&b| ASCII_CLASSES[b as usize].is_none()) {
            return false;
        }
        split_plain(class_at, stretch.len(), with_han, segment);
        return true;
    }
    classes.clear();
    for (at, c) in stretch.char_indices() {
        match plain_class(c) {
            Some(class) => classes.push((at, class)),
            None => return false,
        }
    }
    split_plain(
        |i| classes.get(i).copied(),
        stretch.len(),
        with_han,
        segment,
    );
    true
}

/// Calls `segment` as [`plain_segments`] does for a stretch `len` bytes long of plain
/// characters, the `i`th of them at the byte and of the class `class_at(i)` gives (`None`
/// past the last).
fn split_plain(
    class_at: impl Fn(usize) -> Option<(usize, Plain)>,
    len: usize,
    with_han: bool,
    mut segment: impl FnMut(Range<usize>, Made),
) {
    let end_of = |i: usize| class_at(i).map_or(len, |(at, _)| at);
    let class_of = |i: usize| class_at(i).map(|(_, class)| class);
    let mut i = 0;
    while let Some((at, class)) = class_at(i) {
        match class {
            Plain::Han => {
                if with_han {
                    segment(at..end_of(i + 1), Made::Han);
                }
                i += 1;
            }
            Plain::Letter | Plain::Digit | Plain::Underscore => {
                let mut made = Made::Nothing.with(class);
                let mut j = i + 1;
                while let Some(class) = class_of(j) {
                    match class {
                        // WB5, WB8 to WB10, WB13a and WB13b.
                        Plain::Letter | Plain::Digit | Plain::Underscore => {
                            made = made.with(class);
                            j += 1;
                        }
                        // WB6 and WB7 between letters, WB11 and WB12 between digits: what
                        // they join is of the class before, already counted.
                        Plain::MidLetter | Plain::MidNumLet | Plain::MidNum => {
                            let around = (class_of(j - 1), class_of(j + 1));
                            let joins = match around {
                                (Some(Plain::Letter), Some(Plain::Letter)) => {
                                    class != Plain::MidNum
                                }
                                (Some(Plain::Digit), Some(Plain::Digit)) => {
                                    class != Plain::MidLetter
                                }
                                _ => false,
                            };
                            if !joins {
                                break;
                            }
                            j += 2;
                        }
                        Plain::Han | Plain::Other => break,
                    }
                }
                segment(at..end_of(j), made);
                i = j;
            }
            Plain::MidLetter | Plain::MidNumLet | Plain::MidNum | Plain::Other => i += 1,
        }
    }
}

/// The stem of every Russian ordinal ending written after digits and a hyphen: `8-е`,
/// `8-го`, `8-му` are one ordinal in three cases, as `восьмое`, `восьмого`, `восьмому` are.
/// No word stems to it: a word token never starts with a hyphen.
const ORDINAL_ENDING_STEM: &str = "-й";

/// Whether a word is one of the endings Russian writes after an ordinal in digits.
fn is_ordinal_ending(word: &str) -> bool {
    matches!(
        word,
        "й" | "я"
            | "е"
            | "ю"
            | "и"
            | "х"
            | "м"
            | "го"
            | "му"
            | "ми"
            | "ый"
            | "ой"
            | "ий"
            | "ая"
            | "ое"
            | "ые"
            | "ого"
            | "ому"
            | "ым"
            | "ом"
            | "ых"
            | "ыми"
            | "ую"
    )
}

/// Whether the text before a word ends with a number and a hyphen (`8-` before `го`).
fn follows_number(tokens: &[TokenRef], before: &str) -> bool {
    tokens.last().is_some_and(|previous| {
        previous.kind == TokenKind::Number && before.get(previous.range.end..) == Some("-")
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use unicode_segmentation::UnicodeSegmentation;

    use super::{tokenize, tokenize_borrowed, words, Token, TokenKind};
    use crate::text::normalize_key;

    fn stems(text: &str) -> Vec<String> {
        tokenize(&normalize_key(text))
            .into_iter()
            .map(|t| t.stem)
            .collect()
    }

    fn texts(text: &str) -> Vec<String> {
        tokenize(&normalize_key(text))
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn russian_inflections_share_stems() {
        assert_eq!(stems("Шанхайского духа"), stems("шанхайский дух"));
        assert_eq!(stems("Шанхайскому духу"), stems("шанхайский дух"));
        assert_eq!(stems("Шёлкового пути"), stems("шелковый путь"));
    }

    #[test]
    fn english_inflections_share_stems() {
        assert_eq!(stems("Silk Roads"), stems("silk road"));
        assert_eq!(stems("initiatives"), stems("initiative"));
    }

    #[test]
    fn word_bounds_keep_words_whole() {
        assert_eq!(texts("format"), ["format"]);
        assert_eq!(stems("format"), ["format"]);
        assert_eq!(texts("don't stop"), ["don't", "stop"]);
    }

    #[test]
    fn possessive_is_stemmed_away() {
        assert_eq!(
            stems("the Belt and Road Initiative's"),
            ["the", "belt", "and", "road", "initiative"]
        );
        assert_eq!(stems("Initiative’s"), stems("initiative"));
    }

    #[test]
    fn every_han_character_is_a_token() {
        let tokens = tokenize("一带一路倡议");
        assert_eq!(tokens.len(), 6);
        assert!(tokens
            .iter()
            .all(|t| t.kind == TokenKind::Han && t.stem == t.text));
        let ranges: Vec<_> = tokens.iter().map(|t| t.range.clone()).collect();
        assert_eq!(ranges, [0..3, 3..6, 6..9, 9..12, 12..15, 15..18]);
    }

    #[test]
    fn punctuation_and_spaces_are_not_tokens() {
        assert_eq!(
            texts("«Шанхайский дух» — (ШОС), 上海。"),
            ["шанхайский", "дух", "шос", "上", "海"]
        );
        assert!(tokenize("\" - , . ! ? … 。，").is_empty());
        assert!(tokenize("").is_empty());
    }

    #[test]
    fn numbers_are_number_tokens_with_themselves_as_stem() {
        let tokens = tokenize(&normalize_key("２０２４ г. 3.14 1,000 12th"));
        let kinds: Vec<_> = tokens
            .iter()
            .map(|t| (t.text.as_str(), t.stem.as_str(), t.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("2024", "2024", TokenKind::Number),
                ("г", "г", TokenKind::Word),
                ("3.14", "3.14", TokenKind::Number),
                ("1,000", "1,000", TokenKind::Number),
                ("12th", "12th", TokenKind::Word),
            ]
        );
    }

    #[test]
    fn ordinal_endings_after_digits_share_a_stem() {
        assert_eq!(stems("8-е ЭКСПО"), stems("8-го ЭКСПО"));
        assert_eq!(stems("6-й саммит"), stems("6-м саммите"));
        assert_eq!(stems("8 е"), ["8", "е"]);
        // Not after a number: an ordinary word.
        assert_eq!(stems("е"), ["е"]);
    }

    #[test]
    fn mixed_scripts_stem_per_word() {
        assert_eq!(
            stems("саммиты ШОС summits 峰会"),
            ["саммит", "шос", "summit", "峰", "会"]
        );
    }

    #[test]
    fn token_ranges_slice_the_normalized_text() {
        let text = normalize_key("共建“一帶一路”倡議 and the Belt & Road, 2024");
        for token in tokenize(&text) {
            assert_eq!(text.get(token.range.clone()), Some(token.text.as_str()));
        }
    }

    #[test]
    fn tokens_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Token>();
        assert_send_sync::<TokenKind>();
    }

    /// Ideographs beyond the basic plane, which converting traditional characters to
    /// simplified gives (嗰 → 𠮶), are segmented as the plain ones are, without sending the
    /// text the general way.
    #[test]
    fn supplementary_ideographs_are_plain_segments_of_their_own() {
        let stretch = "在𠮶框架𪟝a,𠮶中b𠮶1";
        assert!(super::plain_segments(
            stretch,
            &mut Vec::new(),
            true,
            |_, _| {}
        ));
        let text = "在𠮶框架 𪟝a 𠮶中, b𠮶1";
        assert_eq!(tokenize_borrowed(text), reference_tokens(text));
    }

    /// The tokens of the full UAX #29 segmentation of the whole text, as they were found
    /// before the text was cut into stretches.
    fn reference_tokens(text: &str) -> Vec<super::TokenRef<'_>> {
        let mut tokens = Vec::new();
        // Every word stemmed again: what the remembered stems of a long text must give.
        let mut stems = super::Stems::for_text("");
        for (at, segment) in text.split_word_bound_indices() {
            let (range, made) = (at..at + segment.len(), super::Made::of(segment));
            super::add_segment(text, range, made, true, &mut stems, &mut tokens);
        }
        tokens
    }

    #[test]
    fn a_long_text_remembers_its_stems_and_tokenizes_the_same() {
        let text = normalize_key(
            &"Шанхайского духа и шанхайский дух, the Silk Roads and the silk road; ".repeat(8),
        );
        assert!(text.len() >= super::REMEMBERED_FROM_BYTES);
        assert_eq!(tokenize_borrowed(&text), reference_tokens(&text));
    }

    /// Plain characters of every word-break kind, spaces, and characters that are not plain
    /// (marks that attach to a space, letters of other scripts, other spaces).
    fn mixed_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "a", "Z", "я", "Ё", "7", "0", "_", ":", ".", "'", ",", ";", "\"", "-", "!", "中", "國",
            "。", "、", "《", " ", " ", "  ", "го", "е", "8-", "3.14", "1,000", "e.g.", "don't",
            "\u{301}", "\u{345}", "\u{200D}", "\u{3000}", "é", "ß", "α", "カ", "ｶ", "\t", "\n",
            "🇷🇺", "\u{5D0}",
        ]);
        prop::collection::vec(piece, 0..30).prop_map(|p| p.concat())
    }

    #[test]
    fn short_texts_of_plain_characters_split_as_uax_29_splits_them() {
        let alphabet = [
            "a", "я", "1", "_", ":", ".", "'", ",", ";", "\"", "-", "中", "。", " ",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            texts = texts
                .iter()
                .flat_map(|text| alphabet.iter().map(move |c| format!("{text}{c}")))
                .collect();
            for text in &texts {
                assert_eq!(tokenize_borrowed(text), reference_tokens(text), "{text:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn tokens_are_those_of_the_whole_text_segmented(input in mixed_text()) {
            prop_assert_eq!(tokenize_borrowed(&input), reference_tokens(&input));
        }

        #[test]
        fn tokens_of_arbitrary_text_are_those_of_the_whole_text_segmented(
            input in any::<String>()
        ) {
            prop_assert_eq!(tokenize_borrowed(&input), reference_tokens(&input));
        }

        #[test]
        fn words_are_the_tokens_less_the_han_ones_each_naming_its_stem(
            input in mixed_text(),
            repeats in 1..12usize,
        ) {
            // Repeated, the text is long enough for its words to be remembered.
            let text = normalize_key(&format!("{input} ").repeat(repeats));
            let mut tokens = tokenize_borrowed(&text);
            tokens.retain(|t| t.kind != TokenKind::Han);
            let words = words(&text);
            prop_assert_eq!(&words.tokens, &tokens);
            prop_assert_eq!(words.word_of_token.len(), tokens.len());
            for (token, &word) in tokens.iter().zip(&words.word_of_token) {
                prop_assert_eq!(&words.stems[word as usize], &token.stem);
            }
            // Each distinct word once, and a remembered word always names the same place.
            let distinct: std::collections::HashSet<&str> =
                tokens.iter().map(|t| &text[t.range.clone()]).collect();
            if text.len() >= super::REMEMBERED_FROM_BYTES
                && !tokens.iter().any(|t| t.stem == super::ORDINAL_ENDING_STEM)
            {
                prop_assert_eq!(words.stems.len(), distinct.len());
            }
        }

        #[test]
        fn tokens_are_in_order_and_slice_the_text(input in any::<String>()) {
            let text = normalize_key(&input);
            let mut previous_end = 0;
            for token in tokenize(&text) {
                prop_assert!(token.range.start >= previous_end);
                prop_assert_eq!(text.get(token.range.clone()), Some(token.text.as_str()));
                previous_end = token.range.end;
            }
        }
    }
}
