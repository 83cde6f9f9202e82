//! The kinds of match between a query (or a stretch of text) and a stored term, and their
//! order by strength, which Lookup and Recognize rank by.

/// How a query or a stretch of text met a stored term. Kinds compare by strength, stronger
/// first: exact, normalized, stemmed, pinyin, fuzzy, partial (see `MatchKind::rank`; new
/// kinds are appended, so the declaration order is not the strength order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// Character for character.
    Exact,
    /// Equal after the text pipeline's normalization.
    Normalized,
    /// Equal word stems: an inflected form.
    Stemmed,
    /// Within a few edits: a typo, or a multiword term with a word replaced, inserted or
    /// dropped. Neither string contains the other.
    Fuzzy,
    /// The query contains the term or the term contains the query. Below a fuzzy match of
    /// the same closeness: see [`score`](super::score).
    Partial,
    /// The query is the Hanyu Pinyin of a Chinese term.
    Pinyin,
}

impl MatchKind {
    /// Position in the strength order, 0 for the strongest: where each kind's scores put it.
    fn rank(self) -> u8 {
        match self {
            MatchKind::Exact => 0,
            MatchKind::Normalized => 1,
            MatchKind::Stemmed => 2,
            MatchKind::Pinyin => 3,
            MatchKind::Fuzzy => 4,
            MatchKind::Partial => 5,
        }
    }
}

impl Ord for MatchKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for MatchKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
