//! The translation-memory search index: fuzzy matching of a sentence against stored
//! translation units, and concordance search for a phrase. Pure in-memory structures over
//! [`TranslationUnit`](crate::model::TranslationUnit)s: the index keeps what ranks units (ids,
//! symbol sequences, posting lists), and reads the units it returns through a
//! [`UnitSource`]; this module knows nothing of sled, gRPC or file formats.
//!
//! # Score
//!
//! A stored source segment scores the CAT-style similarity `1 − d / max(|a|, |b|)`, where `d`
//! is the Levenshtein distance between the query and the segment as sequences of units, after the
//! shared normalization ([`text::normalize`](crate::text::normalize)): for Chinese every non-space
//! character is a unit; for Russian, English and every other language every word token of
//! [`text::tokenize`](crate::text::tokenize) (its text, not its stem) is a unit. Inline tags are
//! kept out of `Segment.text`, so they never count as differences.
//!
//! Numbers are placeholders: a number (digits after NFKC, so full-width digits too, with inner
//! `.`/`,` separators; in Chinese also a run of 〇一二三四五六七八九十百千万 followed by
//! 年, 月, 日 or 号 or standing alone between non-Han characters) compares equal to every other
//! number. When the unit sequences are equal (`d = 0`):
//!
//! * with equal number values (`二〇二四` equals `2024`) the score is exactly 1.0;
//! * otherwise the match is `numbers_only` and scores `1 − 0.01 × k` for `k` differing
//!   numbers, never below 0.9. It carries an `adapted_target`, the stored target with each
//!   stored source number (matched by value) replaced by the query's number at the same
//!   position, only when every differing number was found in the target as a number of the
//!   same value and replaced. A target that writes it otherwise («в июле» for 7月, `3,5` for
//!   `3.5`, `1 000`, `1万`) gets none: a target that kept a stale number would be wrong.
//!
//! Matches are ranked by score; ties are broken first by numbers (a match whose numbers have
//! the query's values comes before one whose numbers differ), then by memory priority (order
//! in [`MemoryQuery::memories`], else memory name), then unit id. Priority never lifts a lower
//! score above a higher one: CAT tools rank TM matches the same way, score first and the
//! memory's place in the list only between equal scores, since a closer match saves more
//! editing whichever memory holds it.
//!
//! # Candidate filter
//!
//! Each language keeps, for each stored segment, its unit sequence (units interned as `u32`,
//! every number as one placeholder id) and posting lists from q-grams of that sequence to
//! segments: `q = 2` for Chinese characters (single characters such as 的 occur in most
//! sentences, pairs are thousands of times rarer) and `q = 1` for word tokens (a word is
//! already as selective as a Chinese pair, and `q = 2` would halve the bound below).
//!
//! For a query of `n` units and threshold `s`, let `dmax(L)` be the largest `d` with
//! `1 − d / L ≥ s`, computed with the same floating-point expression as the score. A segment
//! of `m` units can score `≥ s` only if its distance is at most `dmax(max(n, m))`, so:
//!
//! * **length filter**: `|n − m| ≤ dmax(max(n, m))`, since `d ≥ |n − m|`;
//! * **count filter**: a string of length `L` has `L − q + 1` q-grams and one edit destroys at
//!   most `q` of them, so the two sequences share (as multisets) at least
//!   `T(m) = max(n, m) − q + 1 − q · dmax(max(n, m))` q-grams; the index uses
//!   `T = min T(m)` over all admissible `m`, valid for every candidate length;
//! * **prefix filter**: if the segment shares at least `T` of the query's `G = n − q + 1` gram
//!   occurrences, at most `G − T` occurrences are unshared, so any `G − T + 1` of them contain a
//!   shared one. Only segments in the lists of the `G − T + 1` rarest occurrences (shortest
//!   posting lists) are candidates.
//!
//! The lists are read rarest first into one count per entry (a counter array reused from
//! search to search, so that no list is sorted or merged): the prefix's lists find the
//! candidates, and the next lists only add to their counts, read while they are not much longer
//! than the candidates are many, so very common grams (的, `the`, `и`) are never scanned. A
//! gram counts all its query occurrences for a candidate that holds it, so a candidate shares
//! at most its count plus the occurrences of the lists left unread, and passes only when that
//! reaches `T(m)` for its own length. Those that pass are counted again exactly (as multisets,
//! from their own sequence) against `T(m)` before the distance.
//!
//! When `T ≤ 0` (short queries, low thresholds) the lemma gives no bound, and the index scans
//! the segments of admissible lengths instead, still exact. Candidates are verified with a
//! bit-parallel distance (`myers.rs`: one machine word per stored unit and 64 query units)
//! that gives up once it can no longer come within `dmax`; below that it is the exact
//! Levenshtein distance, so the scores equal those of [`MemoryIndex::search_exhaustive`].
//!
//! Numbers-only matches have `d = 0` and therefore share every gram: they always pass.
//!
//! # Files
//!
//! Each file uses only files listed below it, never one above, so the module reads top down:
//!
//! * `live.rs`: the index that readers and writers share, one snapshot at a time;
//! * `import.rs`: units analyzed while their file is read, published after the commit;
//!   `outcome.rs`: what the store did with them, the store's side of that contract;
//! * `search.rs`: ranked fuzzy search; `candidates.rs`: one part's candidates filtered and
//!   scored (and scanned exhaustively, for the reference);
//! * `merge.rs`: answers of several indexes (the shards of a cluster) put together as one;
//! * `concordance.rs`: phrase search;
//! * `query.rs`: what a search is asked and answers; `diff.rs`: where a match differs;
//! * `snapshot.rs`: the index as a value, and the writes that make the next one;
//!   `partition.rs`: the shards units belong to, and which ones an index holds;
//! * `file.rs`: the index saved to bytes and read back (the file a restart reads);
//! * `units.rs`: where the units behind the slots are read from, and the check that they are
//!   still the ones scored;
//! * `part.rs`: one immutable part (unit sequences, q-gram postings); `plain.rs`: its
//!   normalization fast path; `myers.rs`: the bounded distance; `hash.rs`: their hasher;
//! * `adapt.rs`: numbers and adapted targets; `analyze.rs`: text as units.

mod adapt;
mod analyze;
mod candidates;
mod concordance;
mod diff;
mod file;
mod hash;
mod import;
mod live;
mod merge;
mod myers;
mod outcome;
mod part;
mod partition;
mod plain;
mod query;
mod search;
mod snapshot;
#[cfg(test)]
mod tests;
mod units;

pub use concordance::ConcordanceHit;
pub use diff::{DiffKind, DiffSpan};
pub use file::{IndexFileError, IndexFileHeader, FORMAT_VERSION};
pub use import::ImportPart;
pub use live::LiveMemoryIndex;
pub use merge::{merge_concordance, merge_matches};
pub use outcome::ImportOutcome;
pub use partition::{Partition, PartitionError, MAX_SHARDS};
pub use query::{
    comparison_length, CountedAs, MemoryMatch, MemoryQuery, SearchStats, NUMBERS_ONLY_FLOOR,
};
pub use snapshot::MemoryIndex;
pub use units::{HeldUnits, UnitSource};
