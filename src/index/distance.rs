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
}
