//! The scores each kind of match earns, in one place so that their order is easy to see:
//!
//! | kind       | score                                                     |
//! |------------|-----------------------------------------------------------|
//! | exact      | 1.0                                                       |
//! | normalized | 0.95                                                      |
//! | stemmed    | 0.9                                                       |
//! | fuzzy      | 0.85 × similarity: from 0.595 up to 0.85                  |
//! | partial    | 0.85 × coverage − 0.001, and at least 0.5 + 0.1 × coverage |
//!
//! Fuzzy and partial matches are measured with one ruler, closeness. A typo's closeness is the
//! similarity `1 − d / max(|a|, |b|)`; a partial match's is its coverage, the share of the
//! longer string that the shorter one covers, which is that same similarity when one string
//! contains the other (the edits are the characters left over). Coverage counts characters in
//! Chinese and words in other scripts, where "head of state" is three words of four in "head
//! of state diplomacy" and three of five in "the two heads of state", whatever their letters.
//! The closer match comes first,
//! and at equal closeness the whole term does: a partial match gives up a small step. So a
//! whole term one edit away ranks above a shorter term merely contained in the query: for
//! 一代一路, 一带一路 (0.75, one wrong character) comes before 一代 and 一路 (coverage 0.5),
//! and for 八字胡粗, 八字胡须 (0.75) before 八字胡 (0.75 too). A partial match that covers
//! more of the query than a typo match is close to it comes first (“一带一路”倡议的 holds
//! “一带一路”倡议, 8 of 9 characters; 共建“一带一路”倡议 is three edits away, 0.7).
//!
//! A partial match covering too little to be compared with any typo (below the fuzzy minimum)
//! still scores at least 0.5 + 0.1 × coverage, so that a term that is a small part of a pasted
//! phrase is offered, below every typo match.

/// An exact match.
pub const EXACT: f32 = 1.0;
/// Equal after normalization.
pub const NORMALIZED: f32 = 0.95;
/// Equal word stems.
pub const STEMMED: f32 = 0.9;
/// The smallest CAT-style similarity `1 − d / max(|a|, |b|)` counted as a typo; below it a
/// query is another word, not a misspelling. `d` counts characters, or whole words for a
/// multiword term with a word replaced, inserted or dropped.
///
/// So one wrong character needs a term of at least four: 一代一路 finds 一带一路 (0.75),
/// but 成圆国 does not find 成员国 (0.67). Between three-character Chinese words one
/// character apart (观察员 / 观察家) a different word is as likely as a typo.
pub const FUZZY_MIN_SIMILARITY: f32 = 0.7;
/// Score per unit of closeness of fuzzy and partial matches: below every stemmed match.
const PER_CLOSENESS: f32 = 0.85;
/// What a partial match gives up against a typo match of the same closeness.
const PARTIAL_STEP: f32 = 0.001;
/// The least score of a partial match with no coverage, and what full coverage adds to it.
const PARTIAL_FLOOR: (f32, f32) = (0.5, 0.1);
/// Default `min_score` of a lookup: every fuzzy match, and partial matches covering at
/// least a seventh of the longer string, pass it.
pub const DEFAULT_MIN_SCORE: f32 = partial_at(1.0 / 7.0);

/// A query that reads as a Chinese term in Hanyu Pinyin without tones, or with tones of
/// which the term has no reading: below a stemmed match (one spelling of many homophones),
/// above typos and partial matches.
pub const PINYIN: f32 = 0.87;

/// Score of a pinyin match over a reading of `syllables` syllables, of which the query's
/// tones agree with `agreeing` and disagree with `disagreeing` (0 and 0 for a query
/// without tones): from [`PINYIN`] − 0.05 when every tone is another to [`PINYIN`] + 0.01
/// when every tone agrees, so that the reading the query's tones name comes first.
pub fn pinyin(syllables: usize, agreeing: usize, disagreeing: usize) -> f32 {
    let share = |n: usize| n as f32 / syllables.max(1) as f32;
    PINYIN + 0.01 * share(agreeing) - 0.05 * share(disagreeing)
}

/// Score of a typo match with the given similarity.
pub fn fuzzy(similarity: f32) -> f32 {
    PER_CLOSENESS * similarity
}

/// Score of a partial match where `covered` characters (or words) of the longer string,
/// of `total`, belong to the shorter one: more coverage, more likely the same concept.
pub fn partial(covered: usize, total: usize) -> f32 {
    let coverage = if total == 0 {
        0.0
    } else {
        covered as f32 / total as f32
    };
    partial_at(coverage)
}

const fn partial_at(coverage: f32) -> f32 {
    let coverage = coverage.clamp(0.0, 1.0);
    let (floor, per_coverage) = PARTIAL_FLOOR;
    (PER_CLOSENESS * coverage - PARTIAL_STEP).max(floor + per_coverage * coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order the scores promise, checked over the whole range of closeness.
    #[test]
    fn the_closer_match_wins_and_at_equal_closeness_the_whole_term() {
        let closeness = |step: u32| step as f32 / 1000.0;
        for step in 0..1000 {
            let (c, next) = (closeness(step), closeness(step + 1));
            assert!(partial_at(c) < partial_at(next), "partial rises at {c}");
            if c >= FUZZY_MIN_SIMILARITY {
                assert!(partial_at(c) < fuzzy(c), "whole term first at {c}");
                // Closer by more than the step the partial match gives up.
                let closer = c + 0.002;
                if closer <= 1.0 {
                    assert!(partial_at(closer) > fuzzy(c), "closer partial first at {c}");
                }
                assert!(fuzzy(c) < STEMMED, "{c}");
            } else {
                assert!(partial_at(c) < fuzzy(FUZZY_MIN_SIMILARITY), "{c}");
            }
            if c >= 1.0 / 7.0 {
                assert!(partial_at(c) >= DEFAULT_MIN_SCORE, "{c}");
            }
        }
        // 一代一路: 一带一路 one character away, 一代 half of the query.
        assert!(fuzzy(0.75) > partial(2, 4));
        // “一带一路”倡议的 holds “一带一路”倡议; 共建“一带一路”倡议 is three edits away.
        assert!(partial(8, 9) > fuzzy(0.7));
    }
}
