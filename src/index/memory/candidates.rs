//! Scoring the entries of one part against a query: the candidate filter of the module docs
//! (length, count and prefix filters), verification with a bounded distance, and the
//! exhaustive scan the filter is tested against.

use super::adapt::{self, Number};
use super::analyze::Mode;
use super::myers;
use super::part::{grams, Lane, Part};
use super::query::{MemoryQuery, SearchStats};
use super::snapshot::{answers, Shard};
use crate::index::distance::levenshtein;
use crate::index::Cancel;
use crate::text;

/// A match before ranking.
pub(super) struct Hit {
    pub(super) score: f32,
    pub(super) priority: usize,
    pub(super) part: u32,
    pub(super) slot: u32,
    pub(super) entry: u32,
    pub(super) target: usize,
    pub(super) numbers_only: bool,
}

/// The numbers of the stored segment behind a lane entry, read from its unit; `None` when it
/// cannot be read.
pub(super) fn stored_numbers(part: &Part, lane: &Lane, entry: u32) -> Option<Vec<Number>> {
    let (slot, segment) = lane.entry(entry)?;
    let unit = part.unit(slot)?;
    let text = &unit.segments.get(segment as usize)?.text;
    Some(adapt::numbers(lane.mode, &text::normalize_key(text)))
}

/// What scoring the candidates of one part needs to know about the query.
pub(super) struct Context<'a> {
    pub(super) shard: &'a Shard,
    /// The part's position in the index.
    pub(super) number: u32,
    pub(super) lane: &'a Lane,
    pub(super) query: &'a MemoryQuery,
    pub(super) seq: &'a [u32],
    pub(super) numbers: &'a [Number],
    pub(super) priorities: &'a [Option<usize>],
    /// Set when the call has ended: the verification stops.
    pub(super) cancel: &'a Cancel,
}

impl Context<'_> {
    /// Candidates from the q-gram filter, verified with a bounded distance.
    pub(super) fn indexed(&self, hits: &mut Vec<Hit>, stats: &mut SearchStats) {
        let Some(plan) = Plan::new(self.lane, self.seq, self.query.min_score) else {
            return;
        };
        let mode = self.lane.mode;
        let n = self.seq.len();
        let mut counter = GramCounter::new(mode, self.seq);
        let pattern = myers::Pattern::new(self.seq);
        let filtered = plan.min_shared.is_some();
        // Candidates of an admissible length that reach the count check; the rest of the
        // admissible entries never do.
        let mut reached = 0;
        let mut checkpoint = self.cancel.checkpoint();
        for entry in plan.candidates(self.lane, self.seq) {
            if checkpoint.stop() {
                return;
            }
            let stored = self.lane.seq(entry);
            let m = stored.len();
            let Some(Some(dmax)) = plan.dmax.get(m) else {
                continue;
            };
            reached += 1;
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.shard.alive(slot) {
                continue;
            }
            // The count filter again, with this candidate's own length: cheaper than the
            // distance, and it drops most candidates that only share a rare gram or two.
            if filtered {
                let needed = (n.max(m) + 1) as isize - mode.q() as isize * (1 + *dmax as isize);
                if (counter.shared(mode, stored) as isize) < needed {
                    stats.pruned += 1;
                    continue;
                }
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            stats.verified += 1;
            let Some(d) = pattern.distance_within(stored, *dmax) else {
                continue;
            };
            hits.extend(self.score(entry, d, priority, target));
        }
        if filtered {
            let admissible: usize = plan
                .admissible
                .iter()
                .map(|&m| self.lane.of_length(m).len())
                .sum();
            stats.filtered_scans += 1;
            stats.admissible += admissible;
            stats.pruned += admissible.saturating_sub(reached);
        } else {
            stats.length_only_scans += 1;
        }
    }

    /// Every live entry of the lane, scored with the full distance.
    pub(super) fn exhaustive(&self, hits: &mut Vec<Hit>) {
        for entry in 0..self.lane.entries() as u32 {
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.shard.alive(slot) {
                continue;
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            let d = levenshtein(self.seq, self.lane.seq(entry));
            hits.extend(self.score(entry, d, priority, target));
        }
    }

    /// The unit's rank and target segment, when its memory and languages answer the query.
    fn eligible(&self, slot: u32, segment: u32) -> Option<(usize, usize)> {
        let part = &self.shard.part;
        let priority = self
            .priorities
            .get(part.memory(slot)? as usize)
            .copied()
            .flatten()?;
        let source = part.segment_langs(slot).nth(segment as usize)?;
        if !answers(source, &self.query.source) {
            return None;
        }
        let others = || {
            part.segment_langs(slot)
                .enumerate()
                .filter(|&(i, _)| i != segment as usize)
        };
        let target = others()
            .find(|(_, l)| **l == self.query.target)
            .or_else(|| others().find(|(_, l)| answers(l, &self.query.target)))?;
        Some((priority, target.0))
    }

    fn score(&self, entry: u32, d: usize, priority: usize, target: usize) -> Option<Hit> {
        let (slot, _) = self.lane.entry(entry)?;
        let longest = self.seq.len().max(self.lane.seq(entry).len());
        let (score, numbers_only) = if d == 0 {
            let numbers = stored_numbers(&self.shard.part, self.lane, entry)?;
            match adapt::differing(self.numbers, &numbers) {
                0 => (1.0, false),
                k => (numbers_only_score(k), true),
            }
        } else {
            (plain_score(d, longest), false)
        };
        if score < self.query.min_score {
            return None;
        }
        Some(Hit {
            score,
            priority,
            part: self.number,
            slot,
            entry,
            target,
            numbers_only,
        })
    }
}

/// The filter for one query: admissible lengths with their distance bounds, and the
/// count-filter bound valid for all of them.
struct Plan {
    /// Per candidate length `m`: `Some(dmax(max(n, m)))` when `m` passes the length filter.
    dmax: Vec<Option<usize>>,
    /// `min T(m)` over admissible lengths; `None` when there is none worth using (≤ 0).
    min_shared: Option<usize>,
    admissible: Vec<usize>,
}

impl Plan {
    fn new(lane: &Lane, seq: &[u32], threshold: f32) -> Option<Plan> {
        let n = seq.len();
        let q = lane.mode.q() as isize;
        let mut dmax = vec![None; lane.lengths().max(n + 1)];
        let mut admissible = Vec::new();
        let mut min_shared: Option<isize> = None;
        for (m, slot) in dmax.iter_mut().enumerate() {
            let longest = n.max(m);
            let Some(bound) = max_distance(longest, threshold) else {
                continue;
            };
            if n.abs_diff(m) > bound {
                continue;
            }
            *slot = Some(bound);
            admissible.push(m);
            let shared = longest as isize - q + 1 - q * bound as isize;
            min_shared = Some(min_shared.map_or(shared, |s: isize| s.min(shared)));
        }
        if admissible.is_empty() {
            return None;
        }
        Some(Plan {
            dmax,
            min_shared: min_shared.filter(|&s| s > 0).map(|s| s as usize),
            admissible,
        })
    }

    /// Entries that may reach the threshold, each once.
    fn candidates(&self, lane: &Lane, seq: &[u32]) -> Vec<u32> {
        let Some(shared) = self.min_shared else {
            let mut all: Vec<u32> = self
                .admissible
                .iter()
                .flat_map(|&m| lane.of_length(m))
                .copied()
                .collect();
            all.sort_unstable();
            return all;
        };
        let mut grams: Vec<(usize, u64)> = grams(lane.mode, seq)
            .map(|g| (lane.postings(g).len(), g))
            .collect();
        grams.sort_unstable();
        let prefix = (grams.len() + 1).saturating_sub(shared);
        let mut chosen: Vec<u64> = grams.iter().take(prefix).map(|&(_, g)| g).collect();
        chosen.sort_unstable();
        chosen.dedup();
        let mut out: Vec<u32> = chosen
            .iter()
            .flat_map(|&g| lane.postings(g))
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Counts the q-grams a candidate shares with the query, as multisets.
struct GramCounter {
    /// The query's distinct grams, sorted, with how often each occurs.
    grams: Vec<(u64, u32)>,
    used: Vec<u32>,
}

impl GramCounter {
    fn new(mode: Mode, seq: &[u32]) -> GramCounter {
        let mut all: Vec<u64> = grams(mode, seq).collect();
        all.sort_unstable();
        let mut counted: Vec<(u64, u32)> = Vec::new();
        for gram in all {
            match counted.last_mut() {
                Some((last, count)) if *last == gram => *count += 1,
                _ => counted.push((gram, 1)),
            }
        }
        let used = vec![0; counted.len()];
        GramCounter {
            grams: counted,
            used,
        }
    }

    fn shared(&mut self, mode: Mode, seq: &[u32]) -> usize {
        self.used.iter_mut().for_each(|u| *u = 0);
        let mut shared = 0;
        for gram in grams(mode, seq) {
            if let Ok(k) = self.grams.binary_search_by_key(&gram, |&(g, _)| g) {
                if self.used[k] < self.grams[k].1 {
                    self.used[k] += 1;
                    shared += 1;
                }
            }
        }
        shared
    }
}

/// `1 − d / longest`, 1 for two empty sequences.
pub(super) fn plain_score(d: usize, longest: usize) -> f32 {
    if longest == 0 {
        1.0
    } else {
        1.0 - d as f32 / longest as f32
    }
}

/// Score of a numbers-only match with `differing` numbers: 1 − 0.01 per number, at least
/// [`NUMBERS_ONLY_FLOOR`].
pub(super) fn numbers_only_score(differing: usize) -> f32 {
    (100 - differing.min(10)) as f32 / 100.0
}

/// The largest `d` with `plain_score(d, longest) ≥ threshold`; `None` when even 0 fails.
pub(super) fn max_distance(longest: usize, threshold: f32) -> Option<usize> {
    if plain_score(0, longest) < threshold {
        return None;
    }
    if longest == 0 {
        return Some(0);
    }
    let estimate = ((1.0 - f64::from(threshold)) * longest as f64).floor();
    let mut d = if estimate.is_finite() && estimate > 0.0 {
        (estimate as usize).min(longest)
    } else {
        0
    };
    while d < longest && plain_score(d + 1, longest) >= threshold {
        d += 1;
    }
    while d > 0 && plain_score(d, longest) < threshold {
        d -= 1;
    }
    Some(d)
}
