//! Answers of several indexes put together: the searches of the shards of one memory, each
//! answered by an index holding some of them, merged into the answer one index holding every
//! shard would give. Each answer is that index's own first `limit` in the same total order, so
//! the first `limit` of all of them lies in their union: sorting the union by the order and
//! keeping its first `limit` is exact.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::adapt::{self, Number};
use super::analyze::Mode;
use super::concordance::ConcordanceHit;
use super::query::{MemoryMatch, MemoryQuery};
use crate::text;

/// The first `query.limit` of the matches of `answers`, in the order of
/// [`MemoryIndex::search`](super::MemoryIndex::search): score, then matches whose numbers have
/// the query's values, then memory priority, then unit id. A unit answered by two indexes
/// (a shard held by both) counts once. Each answer is one index's own, already in this order
/// and at most `query.limit` long.
pub fn merge_matches(
    query: &MemoryQuery,
    answers: impl IntoIterator<Item = Vec<MemoryMatch>>,
) -> Vec<MemoryMatch> {
    let answers = match only_answer(answers) {
        Ok(only) => return only,
        Err(answers) => answers,
    };
    let mode = Mode::of(&query.source);
    let query_numbers = adapt::numbers(mode, text::normalize(&query.text).as_str());
    let wanted = number_values(&query_numbers);
    let mut ranked: Vec<(bool, MemoryMatch)> = answers
        .into_iter()
        .flatten()
        .map(|m| {
            let stored = adapt::numbers(mode, &text::normalize_key(&m.source));
            (number_values(&stored) == wanted, m)
        })
        .collect();
    ranked.sort_by(|(a_numbers, a), (b_numbers, b)| {
        b.score
            .total_cmp(&a.score)
            .then(b_numbers.cmp(a_numbers))
            .then_with(|| by_priority(&query.memories, &a.memory, &b.memory))
            .then_with(|| a.unit.id.cmp(&b.unit.id))
            .then_with(|| a.memory.cmp(&b.memory))
    });
    first_of_each(ranked.into_iter().map(|(_, m)| m), query.limit, |m| {
        (m.memory.clone(), m.unit.id.clone())
    })
}

/// The first `limit` of the hits of `answers`, in the order of
/// [`MemoryIndex::concordance`](super::MemoryIndex::concordance): memory priority (order in
/// `memories`, else memory name), then unit id. A unit answered twice counts once. Each
/// answer is one index's own, already in this order and at most `limit` long.
pub fn merge_concordance(
    memories: &[String],
    limit: usize,
    answers: impl IntoIterator<Item = Vec<ConcordanceHit>>,
) -> Vec<ConcordanceHit> {
    let answers = match only_answer(answers) {
        Ok(only) => return only,
        Err(answers) => answers,
    };
    let mut hits: Vec<ConcordanceHit> = answers.into_iter().flatten().collect();
    hits.sort_by(|a, b| {
        by_priority(memories, &a.memory, &b.memory)
            .then_with(|| a.unit.id.cmp(&b.unit.id))
            .then_with(|| a.memory.cmp(&b.memory))
    });
    first_of_each(hits.into_iter(), limit, |hit| {
        (hit.memory.clone(), hit.unit.id.clone())
    })
}

/// The one answer that holds anything, when there is at most one: it is already the merge
/// (a single server's search, or a cluster where the other shards found nothing), so the
/// order is not computed again. Otherwise every answer.
fn only_answer<T>(answers: impl IntoIterator<Item = Vec<T>>) -> Result<Vec<T>, Vec<Vec<T>>> {
    let mut answers: Vec<Vec<T>> = answers.into_iter().filter(|a| !a.is_empty()).collect();
    match answers.len() {
        0 | 1 => Ok(answers.pop().unwrap_or_default()),
        _ => Err(answers),
    }
}

/// Number values, sorted: two segments have "the same numbers" when these are equal.
fn number_values(numbers: &[Number]) -> Vec<&str> {
    let mut values: Vec<&str> = numbers.iter().map(|n| n.value.as_str()).collect();
    values.sort_unstable();
    values
}

/// The order of memories `a` and `b` for ties: their places in `memories` (a search names
/// only listed memories), or their names when it is empty.
fn by_priority(memories: &[String], a: &str, b: &str) -> Ordering {
    let place = |memory: &str| memories.iter().position(|m| m == memory);
    place(a).cmp(&place(b)).then_with(|| a.cmp(b))
}

/// The first `limit` items with distinct keys, in order.
fn first_of_each<T, K: std::hash::Hash + Eq>(
    items: impl Iterator<Item = T>,
    limit: usize,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .filter(|item| seen.insert(key(item)))
        .take(limit)
        .collect()
}
