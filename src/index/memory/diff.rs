//! Alignment of a query with a stored source segment, reported as byte spans of both texts
//! so that a CAT tool can highlight what changed.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::analyze::{number_value, Unit};
use crate::text::NormalizedText;

/// What a difference between the query and a stored source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffKind {
    /// Units in the query that the stored source lacks (`stored` is an empty range where
    /// they would go).
    Inserted,
    /// Units in the stored source that the query lacks (`query` is an empty range).
    Deleted,
    /// Units of the query stand where the stored source has other units, or a number has
    /// another value.
    Replaced,
}

/// One difference, as byte ranges in both texts as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSpan {
    /// What kind of difference.
    pub kind: DiffKind,
    /// Bytes in the query text.
    pub query: Range<usize>,
    /// Bytes in the stored source text.
    pub stored: Range<usize>,
}

/// One side of the comparison: normalized text with its offset map, units and symbols.
pub(super) struct Side<'a> {
    /// The normalized text (offsets map back to the text as written).
    pub text: &'a NormalizedText,
    /// Comparison units over `text`.
    pub units: &'a [Unit],
    /// Interned symbols of `units`, numbers as the placeholder.
    pub seq: &'a [u32],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Substitute(usize, usize),
    Insert(usize),
    Delete(usize),
}

/// Differences between `query` and `stored`, in text order: runs of edits between aligned
/// units become one span (`Replaced` when both sides have units in it), and aligned numbers
/// whose values differ are `Replaced` spans of their own.
pub(super) fn spans(query: &Side<'_>, stored: &Side<'_>) -> Vec<DiffSpan> {
    let ops = align(query.seq, stored.seq);
    let mut out = Vec::new();
    let mut run_q: Option<Range<usize>> = None;
    let mut run_s: Option<Range<usize>> = None;
    // Index of the next unit on each side, to place empty ranges.
    let (mut next_q, mut next_s) = (0usize, 0usize);
    let widen = |run: &mut Option<Range<usize>>, i: usize| {
        *run = Some(match run.take() {
            Some(r) => r.start..i + 1,
            None => i..i + 1,
        });
    };
    for op in ops {
        match op {
            Op::Same(i, j) => {
                flush(
                    query, stored, &mut run_q, &mut run_s, next_q, next_s, &mut out,
                );
                if query.units[i].number {
                    let q = &query.units[i].range;
                    let s = &stored.units[j].range;
                    let qv = number_value(query.text.as_str().get(q.clone()).unwrap_or(""));
                    let sv = number_value(stored.text.as_str().get(s.clone()).unwrap_or(""));
                    if qv != sv {
                        out.push(DiffSpan {
                            kind: DiffKind::Replaced,
                            query: query.text.original_range(q.clone()),
                            stored: stored.text.original_range(s.clone()),
                        });
                    }
                }
                next_q = i + 1;
                next_s = j + 1;
            }
            Op::Substitute(i, j) => {
                widen(&mut run_q, i);
                widen(&mut run_s, j);
            }
            Op::Insert(i) => widen(&mut run_q, i),
            Op::Delete(j) => widen(&mut run_s, j),
        }
    }
    flush(
        query, stored, &mut run_q, &mut run_s, next_q, next_s, &mut out,
    );
    out
}

/// Emits the pending run of edits, if any.
fn flush(
    query: &Side<'_>,
    stored: &Side<'_>,
    run_q: &mut Option<Range<usize>>,
    run_s: &mut Option<Range<usize>>,
    next_q: usize,
    next_s: usize,
    out: &mut Vec<DiffSpan>,
) {
    let (q, s) = (run_q.take(), run_s.take());
    let kind = match (&q, &s) {
        (Some(_), Some(_)) => DiffKind::Replaced,
        (Some(_), None) => DiffKind::Inserted,
        (None, Some(_)) => DiffKind::Deleted,
        (None, None) => return,
    };
    out.push(DiffSpan {
        kind,
        query: byte_range(query, q, next_q),
        stored: byte_range(stored, s, next_s),
    });
}

/// Original byte range of units `run`, or an empty range just after unit `next - 1`.
fn byte_range(side: &Side<'_>, run: Option<Range<usize>>, next: usize) -> Range<usize> {
    let normalized = match run {
        Some(r) => {
            let start = side.units.get(r.start).map_or(0, |u| u.range.start);
            let end = side.units.get(r.end - 1).map_or(start, |u| u.range.end);
            start..end
        }
        None => {
            let at = next
                .checked_sub(1)
                .and_then(|k| side.units.get(k))
                .map_or(0, |u| u.range.end);
            at..at
        }
    };
    side.text.original_range(normalized)
}

/// Most cells of the dynamic programme [`align`] fills for one match: 4 Mi cells of `u32`,
/// 16 MiB. Sentences are far below it (1000 × 1000 units, after trimming their common ends,
/// is a quarter of it); only long segments that differ near both ends reach it.
const ALIGN_CELLS: usize = 1 << 22;

/// An edit script turning `stored` into `query`: their common prefix and suffix aligned unit
/// for unit, and the middle aligned by a full dynamic programme, minimal, when that fits in
/// [`ALIGN_CELLS`]. A longer middle would need gigabytes (two 64 KiB segments of single-byte
/// characters need 4·10⁹ cells), so it becomes one run of substitutions followed by the
/// surplus insertions or deletions: a single replaced span that the highlighting shows as
/// "changed here". Scores never depend on this: they come from the distance, not the script.
fn align(query: &[u32], stored: &[u32]) -> Vec<Op> {
    let prefix = query.iter().zip(stored).take_while(|(q, s)| q == s).count();
    let suffix = query[prefix..]
        .iter()
        .rev()
        .zip(stored[prefix..].iter().rev())
        .take_while(|(q, s)| q == s)
        .count();
    let (n, m) = (
        query.len() - prefix - suffix,
        stored.len() - prefix - suffix,
    );
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let middle_q = &query[prefix..prefix + n];
    let middle_s = &stored[prefix..prefix + m];
    if (n + 1).saturating_mul(m + 1) <= ALIGN_CELLS {
        ops.extend(
            align_fully(middle_q, middle_s)
                .into_iter()
                .map(|op| op.shifted(prefix)),
        );
    } else {
        let common = n.min(m);
        ops.extend((0..common).map(|k| Op::Substitute(prefix + k, prefix + k)));
        ops.extend((common..n).map(|i| Op::Insert(prefix + i)));
        ops.extend((common..m).map(|j| Op::Delete(prefix + j)));
    }
    ops.extend((0..suffix).map(|k| Op::Same(prefix + n + k, prefix + m + k)));
    ops
}

impl Op {
    /// The same operation with both unit indexes moved by `by`.
    fn shifted(self, by: usize) -> Op {
        match self {
            Op::Same(i, j) => Op::Same(i + by, j + by),
            Op::Substitute(i, j) => Op::Substitute(i + by, j + by),
            Op::Insert(i) => Op::Insert(i + by),
            Op::Delete(j) => Op::Delete(j + by),
        }
    }
}

/// A minimal edit script turning `stored` into `query`, from a full dynamic programme of
/// `(|query| + 1) · (|stored| + 1)` cells.
fn align_fully(query: &[u32], stored: &[u32]) -> Vec<Op> {
    let (n, m) = (query.len(), stored.len());
    let width = m + 1;
    let mut table = vec![0u32; (n + 1) * width];
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j as u32;
    }
    for i in 1..=n {
        table[i * width] = i as u32;
        for j in 1..=m {
            let diagonal =
                table[(i - 1) * width + j - 1] + u32::from(query[i - 1] != stored[j - 1]);
            let up = table[(i - 1) * width + j] + 1;
            let left = table[i * width + j - 1] + 1;
            table[i * width + j] = diagonal.min(up).min(left);
        }
    }
    let mut ops = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = table[i * width + j];
        if i > 0 && j > 0 {
            let diagonal = table[(i - 1) * width + j - 1];
            if query[i - 1] == stored[j - 1] && here == diagonal {
                ops.push(Op::Same(i - 1, j - 1));
                i -= 1;
                j -= 1;
                continue;
            }
            if here == diagonal + 1 {
                ops.push(Op::Substitute(i - 1, j - 1));
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && here == table[(i - 1) * width + j] + 1 {
            ops.push(Op::Insert(i - 1));
            i -= 1;
        } else {
            ops.push(Op::Delete(j - 1));
            j -= 1;
        }
    }
    ops.reverse();
    ops
}
