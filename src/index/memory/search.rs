//! Fuzzy search over every part of a snapshot: the query analyzed once, each part's
//! candidates scored (`candidates.rs`), the hits ranked and the returned ones read from their
//! [`UnitSource`] and built into matches with their differences and adapted targets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::adapt::{self, Number};
use super::analyze::{self, Mode, Unit};
use super::candidates::{stored_numbers, Context, Hit};
use super::diff;
use super::part::{Lane, NUMBER};
use super::query::{MemoryMatch, MemoryQuery, SearchStats};
use super::snapshot::{LivePart, MemoryIndex};
use super::units::{UnitSource, Units};
use crate::index::Cancel;
use crate::text;

impl MemoryIndex {
    /// Indexed search: exactly the results of [`search_exhaustive`](Self::search_exhaustive)
    /// (same units, scores and order), with candidates from the q-gram index (see the module
    /// docs for why no match is missed). The matches' units are read from `units`.
    pub fn search(&self, query: &MemoryQuery, units: &dyn UnitSource) -> Vec<MemoryMatch> {
        self.search_cancellable(query, units, &Cancel::never())
    }

    /// [`search`](Self::search) for a call that may end first: once `cancel` is set, the
    /// candidates' verification stops and the (partial) answer is for nobody.
    pub fn search_cancellable(
        &self,
        query: &MemoryQuery,
        units: &dyn UnitSource,
        cancel: &Cancel,
    ) -> Vec<MemoryMatch> {
        self.run_search(query, units, Some(&mut SearchStats::default()), cancel)
    }

    /// [`search`](Self::search), with what the candidate filter did.
    pub fn search_with_stats(
        &self,
        query: &MemoryQuery,
        units: &dyn UnitSource,
    ) -> (Vec<MemoryMatch>, SearchStats) {
        let mut stats = SearchStats::default();
        let matches = self.run_search(query, units, Some(&mut stats), &Cancel::never());
        (matches, stats)
    }

    /// Scores every unit of the query's language: the reference for tests and benchmarks.
    pub fn search_exhaustive(
        &self,
        query: &MemoryQuery,
        units: &dyn UnitSource,
    ) -> Vec<MemoryMatch> {
        self.run_search(query, units, None, &Cancel::never())
    }

    /// Indexed when given somewhere to count the filter's work, exhaustive otherwise.
    fn run_search(
        &self,
        query: &MemoryQuery,
        source: &dyn UnitSource,
        mut indexed: Option<&mut SearchStats>,
        cancel: &Cancel,
    ) -> Vec<MemoryMatch> {
        let threshold = query.min_score;
        if query.limit == 0 || threshold.is_nan() || threshold > 1.0 {
            return Vec::new();
        }
        let mode = Mode::of(&query.source);
        let normalized = text::normalize(&query.text);
        let units = analyze::units(mode, normalized.as_str());
        let numbers = adapt::numbers(mode, normalized.as_str());
        let priorities = self.priorities(&query.memories);
        let stored = Units::new(source, &self.memories.names);
        let mut hits = Vec::new();
        // Per part: its lane of the query's language and the query's symbols in it.
        let mut lanes: Vec<Option<(&Lane, Vec<u32>)>> = Vec::with_capacity(self.parts.len());
        for (number, live_part) in self.parts.iter().enumerate() {
            let Some(lane) = live_part.part.lane(query.source.primary()) else {
                lanes.push(None);
                continue;
            };
            let seq = query_seq(lane, normalized.as_str(), &units);
            let context = Context {
                live_part,
                number: number as u32,
                lane,
                query,
                seq: &seq,
                numbers: &numbers,
                priorities: &priorities,
                units: &stored,
                cancel,
            };
            match indexed.as_deref_mut() {
                Some(stats) => context.indexed(&mut hits, stats),
                None => context.exhaustive(&mut hits),
            }
            lanes.push(Some((lane, seq)));
            if cancel.is_cancelled() {
                return Vec::new();
            }
        }
        let ranking = Instant::now();
        let unit_id = |hit: &Hit| {
            self.parts
                .get(hit.part as usize)
                .map_or("", |s| s.part.unit_id(hit.slot))
        };
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.priority.cmp(&b.priority))
                .then_with(|| unit_id(a).cmp(unit_id(b)))
                .then(a.part.cmp(&b.part))
                .then(a.slot.cmp(&b.slot))
                .then(a.entry.cmp(&b.entry))
        });
        // A unit with two segments answering the query (en-GB and en-US) counts once, by its
        // best segment.
        let mut seen = std::collections::HashSet::new();
        hits.retain(|h| seen.insert((h.part, h.slot)));
        self.same_numbers_first(&stored, &mut hits, &lanes, &numbers, query.limit);
        // A hit whose unit is gone from the store, or changed since this snapshot, gives way
        // to the next one.
        let matches = hits
            .into_iter()
            .filter_map(|hit| {
                let live_part = self.parts.get(hit.part as usize)?;
                let (lane, seq) = lanes.get(hit.part as usize)?.as_ref()?;
                let query_side = diff::Side {
                    text: &normalized,
                    units: &units,
                    seq,
                };
                self.build(&stored, live_part, lane, &query_side, &numbers, hit)
            })
            .take(query.limit)
            .collect();
        if let Some(stats) = indexed {
            stats.building += ranking.elapsed();
        }
        matches
    }

    /// Within each run of equal scores that reaches into the first `limit` hits, moves the
    /// hits whose numbers have the query's values (in any order) ahead of the others, keeping
    /// the order of each kind: of two matches one edit away, the one that also has the right
    /// figures (IPv4 for an IPv4 query, not IPv6) is the one to reuse. Only those runs read
    /// their units, so the cost stays with the hits that are returned.
    fn same_numbers_first(
        &self,
        stored: &Units<'_>,
        hits: &mut [Hit],
        lanes: &[Option<(&Lane, Vec<u32>)>],
        query_numbers: &[Number],
        limit: usize,
    ) {
        let mut wanted: Vec<&str> = query_numbers.iter().map(|n| n.value.as_str()).collect();
        wanted.sort_unstable();
        let mut start = 0;
        while start < hits.len().min(limit) {
            let score = hits[start].score;
            let len = hits[start..]
                .iter()
                .take_while(|h| h.score == score)
                .count();
            if len > 1 {
                // A stable sort: each kind keeps its order.
                hits[start..start + len]
                    .sort_by_cached_key(|hit| !self.has_numbers(stored, hit, lanes, &wanted));
            }
            start += len;
        }
    }

    /// Whether the stored segment a hit matched has exactly the number values `wanted`
    /// (sorted); false when the segment cannot be read.
    fn has_numbers(
        &self,
        stored: &Units<'_>,
        hit: &Hit,
        lanes: &[Option<(&Lane, Vec<u32>)>],
        wanted: &[&str],
    ) -> bool {
        let numbers = || {
            let (lane, _) = lanes.get(hit.part as usize)?.as_ref()?;
            stored_numbers(
                stored,
                hit.part,
                &self.parts.get(hit.part as usize)?.part,
                lane,
                hit.entry,
            )
        };
        numbers().is_some_and(|numbers| {
            let mut values: Vec<&str> = numbers.iter().map(|n| n.value.as_str()).collect();
            values.sort_unstable();
            values == wanted
        })
    }

    /// The match a ranked hit stands for: the unit read once, diffs, adapted target; `None`
    /// when the unit is no longer stored as it was scored.
    fn build(
        &self,
        stored: &Units<'_>,
        live_part: &LivePart,
        lane: &Lane,
        query: &diff::Side<'_>,
        numbers: &[Number],
        hit: Hit,
    ) -> Option<MemoryMatch> {
        let part = &live_part.part;
        let read = stored.entry(hit.part, part, lane, hit.entry)?;
        let unit = Arc::clone(&read.unit);
        let source = unit.segments.get(read.segment)?.text.clone();
        let target = unit.segments.get(hit.target)?.text.clone();
        let diffs = diff::spans(
            query,
            &diff::Side {
                text: &read.normalized,
                units: &read.units,
                seq: lane.seq(hit.entry),
            },
        );
        let adapted_target = if hit.numbers_only {
            let stored_numbers = adapt::numbers(lane.mode, read.normalized.as_str());
            adapt::adapt(&target, numbers, &stored_numbers)
        } else {
            None
        };
        let memory = stored.memory(part, hit.slot)?.clone();
        Some(MemoryMatch {
            unit,
            memory,
            score: hit.score,
            source,
            target,
            diffs,
            numbers_only: hit.numbers_only,
            adapted_target,
        })
    }
}

/// Symbols of a query in one lane; units the lane has never seen get ids no stored unit has.
fn query_seq(lane: &Lane, normalized: &str, units: &[Unit]) -> Vec<u32> {
    let mut unknown: HashMap<&str, u32> = HashMap::new();
    units
        .iter()
        .map(|u| {
            if u.number {
                return NUMBER;
            }
            let key = normalized.get(u.range.clone()).unwrap_or_default();
            match lane.symbol(key) {
                Some(id) => id,
                None => {
                    let next = u32::MAX - unknown.len() as u32;
                    *unknown.entry(key).or_insert(next)
                }
            }
        })
        .collect()
}
