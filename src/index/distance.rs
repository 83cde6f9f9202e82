//! Edit distances shared by term lookup and the translation memory.

/// Levenshtein distance between two sequences (characters, or word tokens): the fewest
/// insertions, deletions and substitutions turning `a` into `b`.
///
/// Two-row dynamic programme, O(|a|·|b|) time and O(|b|) memory; the sequences compared here
/// are terms and sentences, short enough that a bit-parallel variant buys little.
pub fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Levenshtein distance if it is at most `max`, else `None`: stops as soon as every cell of
/// a row exceeds `max`, which is where most fuzzy-lookup candidates are decided.
pub fn levenshtein_within<T: PartialEq>(a: &[T], b: &[T], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a.is_empty() {
        return Some(b.len());
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            row_min = row_min.min(current[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|&d| d <= max)
}

/// The edit distance of a typo match between two normalized strings: Levenshtein, except
/// that a letter written where the other has a space (or a space for a letter) is two edits,
/// the space dropped and the letter typed. Words run together or split apart are one edit per
/// space, as in Levenshtein; but "and culture" is four edits from "agriculture", not three,
/// so a query with a word inserted is not taken for a typo of another term whose letters
/// happen to line up across the word boundary. Never less than [`levenshtein`], which is
/// therefore a filter for it.
pub fn typo_distance(a: &[char], b: &[char]) -> usize {
    let cost = |x: char, y: char| match (x == y, x == ' ' || y == ' ') {
        (true, _) => 0,
        (false, false) => 1,
        (false, true) => 2,
    };
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let substitution = previous[j] + cost(x, y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// A pattern prepared for bit-parallel edit distance against many texts (Myers' algorithm in
/// Hyyrö's formulation): one fuzzy lookup compares the query with thousands of candidate
/// terms, and a machine word per text character is far cheaper than a row of the dynamic
/// programme. Patterns longer than a machine word fall back to [`levenshtein_within`].
pub struct BitPattern<'a> {
    chars: &'a [char],
    /// Open-addressed table of the pattern's characters and the positions where each occurs,
    /// as bits; an empty slot has no bits. Sized for a full machine word of distinct characters.
    table: [(char, u64); TABLE_SLOTS],
}

/// Slots of [`BitPattern::table`]: at least twice the longest bit-parallel pattern, so that
/// probes stay short.
const TABLE_SLOTS: usize = 128;

impl<'a> BitPattern<'a> {
    /// Prepares `chars` for repeated comparisons.
    pub fn new(chars: &'a [char]) -> BitPattern<'a> {
        let mut table = [('\0', 0u64); TABLE_SLOTS];
        if chars.len() <= u64::BITS as usize {
            for (i, &c) in chars.iter().enumerate() {
                let mut slot = Self::slot(c);
                while table[slot].1 != 0 && table[slot].0 != c {
                    slot = (slot + 1) % TABLE_SLOTS;
                }
                table[slot] = (c, table[slot].1 | 1 << i);
            }
        }
        BitPattern { chars, table }
    }

    /// The pattern's length in characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// The pattern's characters.
    pub fn chars(&self) -> &[char] {
        self.chars
    }

    fn slot(c: char) -> usize {
        (u32::from(c).wrapping_mul(0x9E37_79B1) >> 25) as usize % TABLE_SLOTS
    }

    /// Positions of `c` in the pattern, as bits.
    fn positions(&self, c: char) -> u64 {
        let mut slot = Self::slot(c);
        loop {
            let (key, bits) = self.table[slot];
            if bits == 0 || key == c {
                return bits;
            }
            slot = (slot + 1) % TABLE_SLOTS;
        }
    }

    /// Levenshtein distance from the pattern to `text`, of `text_chars` characters, if it is
    /// at most `max`, else `None`; the same answer as [`levenshtein_within`]. Takes UTF-8, as
    /// the index keeps its keys, and decodes it on the way.
    pub fn distance_within(&self, text: &str, text_chars: usize, max: usize) -> Option<usize> {
        let m = self.chars.len();
        if m.abs_diff(text_chars) > max {
            return None;
        }
        if m > u64::BITS as usize {
            let text: Vec<char> = text.chars().collect();
            return levenshtein_within(self.chars, &text, max);
        }
        if m == 0 {
            return Some(text_chars);
        }
        // Vertical deltas of the current column (+1 and −1 bits) and the bottom cell's value.
        let mut plus_v = u64::MAX;
        let mut minus_v = 0u64;
        let mut score = m;
        let last = 1u64 << (m - 1);
        for (j, c) in text.chars().enumerate() {
            let eq = self.positions(c);
            let x_v = eq | minus_v;
            let x_h = ((eq & plus_v).wrapping_add(plus_v) ^ plus_v) | eq;
            let plus_h = minus_v | !(x_h | plus_v);
            let minus_h = plus_v & x_h;
            if plus_h & last != 0 {
                score += 1;
            } else if minus_h & last != 0 {
                score -= 1;
            }
            // The top row counts insertions (D[0][j] = j): a +1 enters at the top.
            let plus_h = (plus_h << 1) | 1;
            let minus_h = minus_h << 1;
            plus_v = minus_h | !(x_v | plus_h);
            minus_v = plus_h & x_v;
            // Each remaining column lowers the bottom cell by at most one.
            if score + j + 1 > max + text_chars {
                return None;
            }
        }
        (score <= max).then_some(score)
    }
}

/// CAT-style similarity `1 − d / max(|a|, |b|)`, in [0, 1]; 1 for two empty sequences.
pub fn similarity<T: PartialEq>(a: &[T], b: &[T]) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    1.0 - levenshtein(a, b) as f32 / longest as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_insertions_deletions_and_substitutions() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        for (a, b, d) in [
            ("", "", 0),
            ("", "abc", 3),
            ("shanghai", "shangai", 1),
            ("一带一路", "一代一路", 1),
            ("kitten", "sitting", 3),
        ] {
            assert_eq!(levenshtein(&chars(a), &chars(b)), d, "{a} / {b}");
            assert_eq!(levenshtein(&chars(b), &chars(a)), d, "{b} / {a}");
        }
        assert_eq!(similarity(&chars("一带一路"), &chars("一代一路")), 0.75);
        for (a, b) in [
            ("kitten", "sitting"),
            ("shanghai", "shangai"),
            ("", "ab"),
            ("abc", ""),
        ] {
            let d = levenshtein(&chars(a), &chars(b));
            for max in 0..5 {
                let want = (d <= max).then_some(d);
                assert_eq!(
                    levenshtein_within(&chars(a), &chars(b), max),
                    want,
                    "{a}/{b} ≤ {max}"
                );
            }
        }
    }

    #[test]
    fn a_letter_for_a_space_is_two_typo_edits_and_a_space_alone_one() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        for (a, b, d) in [
            ("shanghai spirit", "shanghai spirt", 1),
            ("shanghaicooperation", "shanghai cooperation", 1),
            ("and culture", "agriculture", 4),
            ("ab cd", "abxcd", 2),
            ("", "a b", 3),
        ] {
            assert_eq!(typo_distance(&chars(a), &chars(b)), d, "{a} / {b}");
            assert_eq!(typo_distance(&chars(b), &chars(a)), d, "{b} / {a}");
            assert!(d >= levenshtein(&chars(a), &chars(b)), "{a} / {b}");
        }
    }

    /// A small generator, so the comparison covers many pairs without a dependency.
    fn pseudo_random(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn bit_parallel_distance_agrees_with_the_dynamic_programme() {
        let mut seed = 0x2545_F491_4F6C_DD1D;
        let alphabet: Vec<char> = "abcдеж 一".chars().collect();
        for round in 0..4000 {
            let mut word = |longest: u64| -> Vec<char> {
                let len = pseudo_random(&mut seed) % (longest + 1);
                (0..len)
                    .map(|_| alphabet[(pseudo_random(&mut seed) % alphabet.len() as u64) as usize])
                    .collect()
            };
            // Mostly word-sized patterns, some longer than a machine word.
            let longest = if round % 10 == 0 { 80 } else { 20 };
            let (a, b) = (word(longest), word(longest));
            let d = levenshtein(&a, &b);
            let pattern = BitPattern::new(&a);
            let text: String = b.iter().collect();
            for max in [0, 1, 2, d.saturating_sub(1), d, d + 1, 100] {
                assert_eq!(
                    pattern.distance_within(&text, b.len(), max),
                    (d <= max).then_some(d),
                    "{a:?} / {b:?} ≤ {max}"
                );
            }
        }
        let long = "x".repeat(64);
        let chars: Vec<char> = long.chars().collect();
        let pattern = BitPattern::new(&chars);
        assert_eq!(pattern.distance_within(&long, 64, 0), Some(0));
        assert_eq!(pattern.distance_within(&long[1..], 63, 1), Some(1));
    }
}
