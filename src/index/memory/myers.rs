//! Bounded Levenshtein distance between a query's unit sequence and stored ones, bit-parallel
//! (Myers' algorithm in Hyyrö's block formulation): each stored unit costs one machine word
//! per 64 query units instead of 64 cells of the dynamic programme.
//!
//! A search compares one query with many candidates, so the query is prepared once. Its
//! occurrence bits are kept per symbol and per 64-unit block, only for blocks where the symbol
//! occurs, so the preparation is linear in the query's length whatever its alphabet: a 64 KiB
//! segment costs a few hundred kilobytes, not symbols × blocks words. The answers are exactly
//! those of the plain dynamic programme (a test below checks it against
//! [`crate::index::levenshtein`]).

use super::hash::FastMap;

/// A query's unit sequence prepared for [`Pattern::distance_within`].
pub(super) struct Pattern {
    /// Number of units.
    len: usize,
    /// Number of 64-unit blocks.
    blocks: usize,
    /// Per symbol: the range of `bits` holding its blocks.
    symbols: FastMap<u32, (u32, u32)>,
    /// `(block, positions of the symbol in the block as bits)`, grouped by symbol, blocks
    /// ascending, only blocks where the symbol occurs.
    bits: Vec<(u32, u64)>,
}

impl Pattern {
    /// Prepares `seq` for repeated comparisons.
    pub(super) fn new(seq: &[u32]) -> Pattern {
        let mut occurrences: Vec<(u32, u32, u64)> = seq
            .iter()
            .enumerate()
            .map(|(i, &symbol)| (symbol, (i / 64) as u32, 1u64 << (i % 64)))
            .collect();
        occurrences.sort_unstable_by_key(|&(symbol, block, _)| (symbol, block));
        let mut symbols = FastMap::default();
        let mut bits: Vec<(u32, u64)> = Vec::with_capacity(occurrences.len());
        let mut start = 0u32;
        for (k, &(symbol, block, bit)) in occurrences.iter().enumerate() {
            let same_symbol = k > 0 && occurrences[k - 1].0 == symbol;
            if !same_symbol {
                start = bits.len() as u32;
            }
            match bits.last_mut() {
                Some((last, word)) if same_symbol && *last == block => *word |= bit,
                _ => bits.push((block, bit)),
            }
            symbols.insert(symbol, (start, bits.len() as u32));
        }
        Pattern {
            len: seq.len(),
            blocks: seq.len().div_ceil(64),
            symbols,
            bits,
        }
    }

    /// The blocks where `symbol` occurs in the query.
    fn occurrences(&self, symbol: u32) -> &[(u32, u64)] {
        self.symbols
            .get(&symbol)
            .and_then(|&(start, end)| self.bits.get(start as usize..end as usize))
            .unwrap_or_default()
    }

    /// The Levenshtein distance between the query and `text` when it is at most `limit`, else
    /// `None`. Stops as soon as the remaining stored units could no longer bring the distance
    /// down to `limit`.
    pub(super) fn distance_within(&self, text: &[u32], limit: usize) -> Option<usize> {
        let (n, m) = (self.len, text.len());
        if n.abs_diff(m) > limit {
            return None;
        }
        if n == 0 || m == 0 {
            return Some(n.max(m));
        }
        // Vertical deltas of the current column, per block: +1 bits and −1 bits. Column 0 is
        // D[i][0] = i, all +1.
        let mut plus = vec![u64::MAX; self.blocks];
        let mut minus = vec![0u64; self.blocks];
        let last_bit = 1u64 << ((n - 1) % 64);
        let mut score = n;
        for (j, &symbol) in text.iter().enumerate() {
            let mut occurrences = self.occurrences(symbol).iter().peekable();
            // The top row is D[0][j] = j: a +1 enters block 0 from above.
            let mut carry: i8 = 1;
            for (block, (pv, mv)) in plus.iter_mut().zip(minus.iter_mut()).enumerate() {
                let eq = match occurrences.peek() {
                    Some(&&(b, word)) if b as usize == block => {
                        occurrences.next();
                        word
                    }
                    _ => 0,
                };
                let high = if block + 1 == self.blocks {
                    last_bit
                } else {
                    1 << 63
                };
                carry = advance(pv, mv, eq, carry, high);
            }
            score = score.checked_add_signed(isize::from(carry))?;
            // Each remaining column lowers the bottom cell by at most one.
            if score > limit + (m - j - 1) {
                return None;
            }
        }
        (score <= limit).then_some(score)
    }
}

/// Advances one 64-row block by one column: `pv`/`mv` are its vertical deltas, `eq` the rows
/// equal to the column's symbol, `carry_in` the horizontal delta entering at its top row.
/// Returns the horizontal delta leaving at row `high`.
fn advance(pv: &mut u64, mv: &mut u64, eq: u64, carry_in: i8, high: u64) -> i8 {
    let negative_in = u64::from(carry_in < 0);
    let xv = eq | *mv;
    let eq = eq | negative_in;
    let xh = ((eq & *pv).wrapping_add(*pv) ^ *pv) | eq;
    let mut ph = *mv | !(xh | *pv);
    let mut mh = *pv & xh;
    let carry_out = i8::from(ph & high != 0) - i8::from(mh & high != 0);
    ph = (ph << 1) | u64::from(carry_in > 0);
    mh = (mh << 1) | negative_in;
    *pv = mh | !(xv | ph);
    *mv = ph & xv;
    carry_out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::index::levenshtein;

    fn sequence(max_len: usize) -> impl Strategy<Value = Vec<u32>> {
        prop::collection::vec(0u32..4, 0..max_len)
    }

    /// Shared prefixes and suffixes make the long sequences close, so that distances below
    /// the limit (not only refusals) are checked across block boundaries.
    fn related(max_len: usize) -> impl Strategy<Value = (Vec<u32>, Vec<u32>)> {
        (
            sequence(max_len),
            sequence(12),
            sequence(12),
            sequence(max_len),
        )
            .prop_map(|(common, a, b, tail)| {
                let mut x = common.clone();
                x.extend(&a);
                x.extend(&tail);
                let mut y = common;
                y.extend(&b);
                y.extend(&tail);
                (x, y)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn bit_parallel_distance_is_the_dynamic_programme(
            (query, text) in prop_oneof![
                (sequence(150), sequence(150)),
                related(150),
            ],
            slack in 0usize..20,
        ) {
            let exact = levenshtein(&query, &text);
            let pattern = Pattern::new(&query);
            prop_assert_eq!(pattern.distance_within(&text, exact + slack), Some(exact));
            if exact > 0 {
                prop_assert_eq!(pattern.distance_within(&text, exact - 1), None);
            }
        }
    }

    #[test]
    fn symbols_absent_from_the_query_never_match() {
        let pattern = Pattern::new(&[1, 2, 3]);
        assert_eq!(pattern.distance_within(&[7, 8, 9], 3), Some(3));
        assert_eq!(pattern.distance_within(&[1, 8, 3], 3), Some(1));
    }
}
